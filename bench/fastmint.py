"""Many distinct, validly signed SAML Responses, fast (for benchmarks only).

tests/idp/mint.py builds and signs each response from scratch (about 2 ms per response here,
most of it Python and key loading). A benchmark needs tens of thousands that differ only in
their IDs and NameID, so FastMinter asks MintIdP for one response (signed assertion, unsigned
Response: what Okta sends by default) as a template, then per response changes the IDs,
NameID and SessionIndex, recomputes the assertion's digest (exclusive c14n, enveloped
signature, as xmlsec does) and signs the SignedInfo with the IdP's RSA-2048 key. The RSA
signature (about 0.7 ms) is most of the cost; mint_many() spreads it over processes.

Every response is checked by the SPs themselves: the benchmark counts accepted logins, and
bench/run stops if the first response of a batch is refused.
"""
import base64
import datetime
import hashlib
import multiprocessing
import os
import re
import sys
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "idp"))

from lxml import etree  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding  # noqa: E402

import mint  # noqa: E402

NS = mint.NS


class FastMinter:
    def __init__(self, idp, acs_url, audience, validity_s=3600, attributes=None):
        now = datetime.datetime.now(datetime.timezone.utc)
        later = now + datetime.timedelta(seconds=validity_s)
        kw = dict(sign_response=False, sign_assertion=True, now=now, not_on_or_after=later,
                  confirmation_not_on_or_after=later, response_id="_RESPONSEID",
                  assertion_id="_ASSERTIONID", session_index="_SESSIONINDEX")
        if attributes is not None:
            kw["attributes"] = attributes
        xml = idp.response(acs_url, audience, name_id="template@example.com", **kw)
        self._templates(etree.fromstring(xml))
        with open(idp.key_path, "rb") as f:
            self.key_pem = f.read()
        self._key = None

    def _templates(self, root):
        """Three strings with placeholders: the assertion's canonical form without its
        signature (what the digest covers), SignedInfo's canonical form (what is signed),
        and the whole document. The placeholders and their values need no escaping."""
        assertion = root.find("saml:Assertion", NS)
        sig = assertion.find("ds:Signature", NS)
        signed_info = sig.find("ds:SignedInfo", NS)
        signed_info.find("ds:Reference/ds:DigestValue", NS).text = "DIGESTVALUE"
        sig.find("ds:SignatureValue", NS).text = "SIGNATUREVALUE"
        self.signed_info_c14n = etree.tostring(signed_info, method="c14n",
                                               exclusive=True).decode()
        self.document = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                         + etree.tostring(root).decode())
        pos = list(assertion).index(sig)
        assertion.remove(sig)  # the enveloped-signature transform: digest without it
        self.assertion_c14n = etree.tostring(assertion, method="c14n", exclusive=True).decode()
        assertion.insert(pos, sig)

    @property
    def key(self):
        if self._key is None:
            self._key = serialization.load_pem_private_key(self.key_pem, password=None)
        return self._key

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k != "_key"} | {"_key": None}

    def response(self, name_id, tag):
        """The signed Response XML (bytes) for name_id; tag makes the IDs unique."""
        aid = "_a%s" % tag
        subst = {"_ASSERTIONID": aid, "template@example.com": name_id,
                 "_SESSIONINDEX": "_s%s" % tag, "_RESPONSEID": "_r%s" % tag}
        digest = hashlib.sha256(_fill(self.assertion_c14n, subst).encode()).digest()
        subst["DIGESTVALUE"] = base64.b64encode(digest).decode()
        value = self.key.sign(_fill(self.signed_info_c14n, subst).encode(),
                              padding.PKCS1v15(), hashes.SHA256())
        subst["SIGNATUREVALUE"] = base64.b64encode(value).decode()
        return _fill(self.document, subst).encode()

    def form_body(self, name_id, tag, relay_state=None):
        """An application/x-www-form-urlencoded ACS POST body."""
        body = "SAMLResponse=" + urllib.parse.quote_plus(
            base64.b64encode(self.response(name_id, tag)).decode())
        if relay_state:
            body += "&RelayState=" + urllib.parse.quote_plus(relay_state)
        return body


_PLACEHOLDERS = re.compile("_ASSERTIONID|template@example.com|_SESSIONINDEX|_RESPONSEID|"
                           "DIGESTVALUE|SIGNATUREVALUE")


def _fill(template, subst):
    return _PLACEHOLDERS.sub(lambda m: subst[m.group(0)], template)


def _work(args):
    minter, start, count, prefix = args
    return [minter.form_body("user%d@example.com" % i, "%s%08d" % (prefix, i))
            for i in range(start, start + count)]


def mint_many(minter, start, count, prefix, processes=2, chunk=500):
    """count form bodies for users start..start+count-1 (distinct IDs, tagged with prefix)."""
    jobs = [(minter, s, min(chunk, start + count - s), prefix)
            for s in range(start, start + count, chunk)]
    if processes <= 1 or len(jobs) == 1:
        out = []
        for j in jobs:
            out.extend(_work(j))
        return out
    # Not "fork": the harness has threads (the echo backend, wrk readers), and a child forked
    # while one of them held a lock hung the whole run.
    with multiprocessing.get_context("forkserver").Pool(processes) as pool:
        out = []
        for part in pool.imap(_work, jobs):
            out.extend(part)
        # the workers leave on their own before the with's terminate(): a worker waiting for
        # the task queue's lock (which terminate() takes) can sleep through its SIGTERM when
        # the benchmark installed a Python handler, and the pool then waits for it forever
        pool.close()
        pool.join()
        return out
