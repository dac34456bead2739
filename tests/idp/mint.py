"""Mint SAML 2.0 Responses for negative tests: responses no real IdP would send.

A MintIdP owns an RSA-2048 key and a self-signed certificate (made once per
work directory) and publishes IdP metadata for them. Its response() returns a
signed Response that a strict SP accepts; every keyword override (see
Overrides) changes exactly one thing *before* signing, so the result is still
correctly signed. The module-level tamperers (tamper_text, tamper_attr,
remove, strip_signatures, wrap_xsw, add_doctype) work on finished bytes and do
not re-sign: they model an attacker.

    idp = MintIdP(workdir, entity_id="http://mint-idp.test/metadata")
    xml = idp.response(acs_url, audience, name_id="alice@example.com",
                       sign_response=False, not_on_or_after=past)
    forged = wrap_xsw(xml, 3)
    post(acs_url, {"SAMLResponse": b64(forged)})

Needs Debian's python3-lxml and python3-xmlsec, and the openssl CLI.
"""

import base64
import dataclasses
import datetime
import functools
import os
import secrets
import subprocess
from copy import deepcopy
from xml.sax.saxutils import escape as _xml_escape

import xmlsec
from lxml import etree

NS = {
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "xenc": "http://www.w3.org/2001/04/xmlenc#",
    "md": "urn:oasis:names:tc:SAML:2.0:metadata",
    "xs": "http://www.w3.org/2001/XMLSchema",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
STATUS_SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
NAMEID_EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
CM_BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
AC_PASSWORD_PROTECTED = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
ATTRNAME_BASIC = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"
BINDING_REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"

_SIG_ALGS = {
    "rsa-sha1": xmlsec.constants.TransformRsaSha1,
    "rsa-sha256": xmlsec.constants.TransformRsaSha256,
    "rsa-sha512": xmlsec.constants.TransformRsaSha512,
}
_DIGEST_ALGS = {
    "sha1": xmlsec.constants.TransformSha1,
    "sha256": xmlsec.constants.TransformSha256,
    "sha512": xmlsec.constants.TransformSha512,
}
_CIPHERS = {
    "aes128-cbc": (xmlsec.constants.TransformAes128Cbc, 128),
    "aes256-cbc": (xmlsec.constants.TransformAes256Cbc, 256),
}

DEFAULT = object()  # "the valid value": differs from None, which omits the thing


def qname(prefix, local):
    """Clark notation {uri}local for a prefix of NS."""
    return "{%s}%s" % (NS[prefix], local)


@dataclasses.dataclass
class Overrides:
    """The keyword overrides of MintIdP.response(); the defaults give a valid response.

    DEFAULT means the valid value (derived from acs_url, audience and now);
    None omits the attribute or element where the comment says so. Times are
    datetimes (naive ones are taken as UTC).
    """
    # signatures
    sign_response: bool = True
    sign_assertion: bool = True
    sig_alg: str = "rsa-sha256"            # rsa-sha1, rsa-sha256, rsa-sha512
    digest_alg: str = "sha256"             # sha1, sha256, sha512
    signing_key_path: str | None = None    # None: the IdP's key
    signing_cert_path: str | None = None   # None: the IdP's cert; shown in KeyInfo
    keyinfo_cert_path: object = DEFAULT    # DEFAULT: signing cert; None: no KeyInfo
    # issuers, ids, status
    issuer: str | None = None              # both issuers; None: the IdP's entity_id
    response_issuer: str | None = None
    assertion_issuer: str | None = None
    omit_response_issuer: bool = False
    response_id: str | None = None         # None: random "_" + hex
    assertion_id: str | None = None
    destination: object = DEFAULT          # DEFAULT: acs_url; None: omitted
    in_response_to: str | None = None      # Response and SubjectConfirmationData
    status: str = STATUS_SUCCESS
    # time
    now: datetime.datetime | None = None   # base of every default time
    issue_instant: datetime.datetime | None = None            # Response; None: now
    assertion_issue_instant: datetime.datetime | None = None  # None: now
    # subject
    name_id_format: str | None = NAMEID_EMAIL  # None: no Format attribute
    omit_name_id: bool = False
    name_id_raw_xml: str | None = None     # verbatim inner XML of NameID, replaces name_id
    omit_subject_confirmation: bool = False
    confirmation_method: str = CM_BEARER
    recipient: object = DEFAULT                     # DEFAULT: acs_url; None: omitted
    confirmation_not_on_or_after: object = DEFAULT  # DEFAULT: now+5min; None: omitted
    confirmation_not_before: datetime.datetime | None = None
    # conditions
    omit_conditions: bool = False
    not_before: object = DEFAULT           # DEFAULT: now-1min; None: omitted
    not_on_or_after: object = DEFAULT      # DEFAULT: now+5min; None: omitted
    audiences: list | None = None          # None: [audience]
    omit_audience_restriction: bool = False
    # statements
    authn_instant: datetime.datetime | None = None  # None: now
    session_index: str | None = None       # None: random "_" + hex
    session_not_on_or_after: datetime.datetime | None = None
    attributes: dict = dataclasses.field(default_factory=lambda: {
        "firstName": ["Alice"], "lastName": ["Anderson"], "groups": ["Dev", "Ops"]})
    # structure
    omit_assertion: bool = False
    extra_assertion: bool = False          # a second, separately signed assertion
    extra_name_id: str = "mallory@example.com"
    encrypt_to_cert_path: str | None = None  # EncryptedAssertion for this SP cert
    encryption_cipher: str = "aes256-cbc"  # or aes128-cbc


def b64(xml_bytes):
    """Standard base64 of xml_bytes as one line, as an HTTP-POST SAMLResponse."""
    return base64.b64encode(xml_bytes).decode("ascii")


def new_id():
    """A fresh SAML ID: "_" followed by 32 hex digits."""
    return "_" + secrets.token_hex(16)


def make_key_and_cert(key_path, cert_path, common_name):
    """Create an RSA-2048 key and a 10-year self-signed SHA-256 certificate (openssl CLI)."""
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256",
         "-days", "3650", "-subj", "/CN=" + common_name,
         "-keyout", key_path, "-out", cert_path],
        check=True, capture_output=True)
    os.chmod(key_path, 0o600)


def cert_base64(cert_pem):
    """The base64 body of a PEM certificate, as ds:X509Certificate wants it."""
    return "".join(line for line in cert_pem.strip().splitlines() if "-----" not in line)


def _utc(when):
    """when as an aware UTC datetime without microseconds."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return when.astimezone(datetime.timezone.utc).replace(microsecond=0)


def _instant(when):
    """SAML dateTime of when: YYYY-MM-DDTHH:MM:SSZ."""
    return _utc(when).strftime("%Y-%m-%dT%H:%M:%SZ")


def _pick(value, default):
    """default if value is DEFAULT, else value (which may be None)."""
    return default if value is DEFAULT else value


def _set_optional(element, name, value):
    """Set attribute name to value (a str or datetime) unless value is None."""
    if value is not None:
        element.set(name, value if isinstance(value, str) else _instant(value))


def _read(path):
    """Text of the file at path."""
    with open(path, encoding="ascii") as f:
        return f.read()


class MintIdP:
    """A test IdP that signs whatever response a test asks for.

    Files in workdir: idp.key, idp.crt (created once, then reused) and
    idp-metadata.xml (rewritten on every construction for entity_id).
    """

    def __init__(self, workdir, entity_id="http://mint-idp.test/metadata"):
        """Create or reuse the key pair in workdir and write the IdP metadata."""
        os.makedirs(workdir, exist_ok=True)
        self.workdir = workdir
        self.entity_id = entity_id
        self.key_path = os.path.join(workdir, "idp.key")
        self.cert_path = os.path.join(workdir, "idp.crt")
        self.metadata_path = os.path.join(workdir, "idp-metadata.xml")
        if not (os.path.exists(self.key_path) and os.path.exists(self.cert_path)):
            make_key_and_cert(self.key_path, self.cert_path, "mint-idp")
        self.cert_pem = _read(self.cert_path)
        with open(self.metadata_path, "wb") as f:
            f.write(self.metadata())

    def metadata(self):
        """IdP metadata XML (bytes): signing certificate, emailAddress, SSO endpoint."""
        md = etree.Element(qname("md", "EntityDescriptor"), nsmap={"md": NS["md"], "ds": NS["ds"]})
        md.set("entityID", self.entity_id)
        idp = etree.SubElement(md, qname("md", "IDPSSODescriptor"))
        idp.set("WantAuthnRequestsSigned", "false")
        idp.set("protocolSupportEnumeration", NS["samlp"])
        key = etree.SubElement(idp, qname("md", "KeyDescriptor"), use="signing")
        _add_key_info(key, self.cert_pem)
        etree.SubElement(idp, qname("md", "NameIDFormat")).text = NAMEID_EMAIL
        etree.SubElement(idp, qname("md", "SingleSignOnService"), Binding=BINDING_REDIRECT,
                         Location=self.entity_id.rstrip("/") + "/sso")
        return _serialize(md)

    def response(self, acs_url, audience, name_id="alice@example.com", **overrides):
        """A signed samlp:Response (bytes) for acs_url and audience; see Overrides.

        The Response declares only xmlns:samlp; its Issuer and each Assertion
        declare xmlns:saml themselves, so an assertion stays self-contained
        when it is encrypted.
        """
        o = Overrides(**overrides)
        now = _utc(o.now or datetime.datetime.now(datetime.timezone.utc))
        keyinfo_path = _pick(o.keyinfo_cert_path, o.signing_cert_path or self.cert_path)
        sign = functools.partial(_sign, key_path=o.signing_key_path or self.key_path,
                                 keyinfo_pem=_read(keyinfo_path) if keyinfo_path else None,
                                 sig_alg=o.sig_alg, digest_alg=o.digest_alg)

        resp = etree.Element(qname("samlp", "Response"), nsmap={"samlp": NS["samlp"]})
        resp.set("ID", o.response_id or new_id())
        resp.set("Version", "2.0")
        resp.set("IssueInstant", _instant(o.issue_instant or now))
        _set_optional(resp, "Destination", _pick(o.destination, acs_url))
        _set_optional(resp, "InResponseTo", o.in_response_to)
        if not o.omit_response_issuer:
            _issuer(resp, o.response_issuer or o.issuer or self.entity_id)
        status = etree.SubElement(resp, qname("samlp", "Status"))
        etree.SubElement(status, qname("samlp", "StatusCode"), Value=o.status)
        if not o.omit_assertion:
            subjects = [(name_id, o.assertion_id or new_id(), o.name_id_raw_xml)]
            if o.extra_assertion:
                subjects.append((o.extra_name_id, new_id(), None))
            for subject, assertion_id, raw_xml in subjects:
                assertion = self._assertion(resp, o, now, acs_url, audience, subject,
                                            assertion_id, raw_xml)
                if o.sign_assertion:
                    sign(assertion)
                if o.encrypt_to_cert_path:
                    _encrypt(assertion, o.encrypt_to_cert_path, o.encryption_cipher)
        if o.sign_response:
            sign(resp)
        return _serialize(resp)

    def response_b64(self, acs_url, audience, name_id="alice@example.com", **overrides):
        """base64 of response(...), ready to POST as SAMLResponse."""
        return b64(self.response(acs_url, audience, name_id, **overrides))

    def _assertion(self, parent, o, now, acs_url, audience, name_id, assertion_id, raw_xml):
        """Append an unsigned saml:Assertion for name_id to parent and return it."""
        five_min = datetime.timedelta(minutes=5)
        a = etree.SubElement(parent, qname("saml", "Assertion"),
                             nsmap={p: NS[p] for p in ("saml", "xs", "xsi")})
        a.set("ID", assertion_id)
        a.set("Version", "2.0")
        a.set("IssueInstant", _instant(o.assertion_issue_instant or now))
        _issuer(a, o.assertion_issuer or o.issuer or self.entity_id)

        subject = etree.SubElement(a, qname("saml", "Subject"))
        if not o.omit_name_id:
            nid = etree.SubElement(subject, qname("saml", "NameID"))
            _set_optional(nid, "Format", o.name_id_format)
            if raw_xml is None:
                nid.text = name_id
            else:
                inner = etree.fromstring('<r xmlns:saml="%s">%s</r>' % (NS["saml"], raw_xml))
                nid.text = inner.text
                nid.extend(list(inner))
        if not o.omit_subject_confirmation:
            sc = etree.SubElement(subject, qname("saml", "SubjectConfirmation"),
                                  Method=o.confirmation_method)
            scd = etree.SubElement(sc, qname("saml", "SubjectConfirmationData"))
            _set_optional(scd, "NotBefore", o.confirmation_not_before)
            _set_optional(scd, "NotOnOrAfter",
                          _pick(o.confirmation_not_on_or_after, now + five_min))
            _set_optional(scd, "Recipient", _pick(o.recipient, acs_url))
            _set_optional(scd, "InResponseTo", o.in_response_to)

        if not o.omit_conditions:
            cond = etree.SubElement(a, qname("saml", "Conditions"))
            _set_optional(cond, "NotBefore",
                          _pick(o.not_before, now - datetime.timedelta(minutes=1)))
            _set_optional(cond, "NotOnOrAfter", _pick(o.not_on_or_after, now + five_min))
            if not o.omit_audience_restriction:
                restriction = etree.SubElement(cond, qname("saml", "AudienceRestriction"))
                for aud in (audience,) if o.audiences is None else o.audiences:
                    etree.SubElement(restriction, qname("saml", "Audience")).text = aud

        authn = etree.SubElement(a, qname("saml", "AuthnStatement"))
        authn.set("AuthnInstant", _instant(o.authn_instant or now))
        authn.set("SessionIndex", o.session_index or new_id())
        _set_optional(authn, "SessionNotOnOrAfter", o.session_not_on_or_after)
        ctx = etree.SubElement(authn, qname("saml", "AuthnContext"))
        etree.SubElement(ctx, qname("saml", "AuthnContextClassRef")).text = AC_PASSWORD_PROTECTED

        if o.attributes:
            statement = etree.SubElement(a, qname("saml", "AttributeStatement"))
            for name, values in o.attributes.items():
                attr = etree.SubElement(statement, qname("saml", "Attribute"), Name=name,
                                        NameFormat=ATTRNAME_BASIC)
                for value in [values] if isinstance(values, str) else values:
                    v = etree.SubElement(attr, qname("saml", "AttributeValue"))
                    v.set(qname("xsi", "type"), "xs:string")
                    v.text = value
        return a


def _issuer(parent, entity_id):
    """Append saml:Issuer with entity_id to parent."""
    etree.SubElement(parent, qname("saml", "Issuer"), nsmap={"saml": NS["saml"]}).text = entity_id


def _add_key_info(parent, cert_pem):
    """Append ds:KeyInfo/ds:X509Data/ds:X509Certificate for cert_pem to parent."""
    key_info = etree.SubElement(parent, qname("ds", "KeyInfo"), nsmap={"ds": NS["ds"]})
    data = etree.SubElement(key_info, qname("ds", "X509Data"))
    etree.SubElement(data, qname("ds", "X509Certificate")).text = cert_base64(cert_pem)


def _sign(element, key_path, keyinfo_pem, sig_alg, digest_alg):
    """Enveloped exc-c14n signature of element (by ID), placed right after its Issuer.

    KeyInfo (not covered by the signature) carries keyinfo_pem, or is left out if None.
    """
    sig = xmlsec.template.create(element, xmlsec.constants.TransformExclC14N,
                                 _SIG_ALGS[sig_alg], ns="ds")
    issuer = element.find("saml:Issuer", NS)
    if issuer is None:
        element.insert(0, sig)
    else:
        issuer.addnext(sig)
    ref = xmlsec.template.add_reference(sig, _DIGEST_ALGS[digest_alg], uri="#" + element.get("ID"))
    xmlsec.template.add_transform(ref, xmlsec.constants.TransformEnveloped)
    xmlsec.template.add_transform(ref, xmlsec.constants.TransformExclC14N)
    xmlsec.tree.add_ids(element, ["ID"])
    ctx = xmlsec.SignatureContext()
    ctx.key = xmlsec.Key.from_file(key_path, xmlsec.constants.KeyDataFormatPem)
    ctx.sign(sig)
    if keyinfo_pem:
        _add_key_info(sig, keyinfo_pem)


def _encrypt(assertion, cert_path, cipher):
    """Replace assertion by saml:EncryptedAssertion for the holder of cert_path.

    A fresh AES session key encrypts the assertion; rsa-oaep-mgf1p wraps that
    key into an xenc:EncryptedKey inside the EncryptedData's ds:KeyInfo. The
    assertion is encrypted before it is wrapped: xmlsec serializes the element
    alone, so it must still declare xmlns:saml itself (lxml drops a declaration
    that a new parent already makes).
    """
    method, bits = _CIPHERS[cipher]
    data = xmlsec.template.encrypted_data_create(
        assertion, method, type=xmlsec.constants.TypeEncElement, ns="xenc")
    xmlsec.template.encrypted_data_ensure_cipher_value(data)
    key_info = xmlsec.template.encrypted_data_ensure_key_info(data, ns="ds")
    enc_key = xmlsec.template.add_encrypted_key(key_info, xmlsec.constants.TransformRsaOaep)
    xmlsec.template.encrypted_data_ensure_cipher_value(enc_key)
    manager = xmlsec.KeysManager()
    manager.add_key(xmlsec.Key.from_file(cert_path, xmlsec.constants.KeyDataFormatCertPem))
    ctx = xmlsec.EncryptionContext(manager)
    ctx.key = xmlsec.Key.generate(xmlsec.constants.KeyDataAes, bits,
                                  xmlsec.constants.KeyDataTypeSession)
    data = ctx.encrypt_xml(data, assertion)
    wrapper = etree.Element(qname("saml", "EncryptedAssertion"), nsmap={"saml": NS["saml"]})
    data.addprevious(wrapper)
    wrapper.append(data)


def _serialize(root):
    """root as UTF-8 bytes with an XML declaration and no added whitespace."""
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(root, encoding="UTF-8")


def _parse(xml):
    """Parse bytes like an attacker's editor: keep comments, never resolve entities."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=False)
    return etree.fromstring(xml, parser)


def _find(root, xpath):
    """All nodes matching xpath (prefixes of NS); ValueError if there are none."""
    nodes = root.xpath(xpath, namespaces=NS)
    if not nodes:
        raise ValueError("nothing matches %s" % xpath)
    return nodes


def _drop(node):
    """Remove node from its parent, keeping the text that follows it."""
    parent = node.getparent()
    if node.tail:
        prev = node.getprevious()
        if prev is None:
            parent.text = (parent.text or "") + node.tail
        else:
            prev.tail = (prev.tail or "") + node.tail
    parent.remove(node)


def tamper_text(xml, xpath, new_text):
    """Set the text of every element matching xpath to new_text (children removed)."""
    root = _parse(xml)
    for node in _find(root, xpath):
        for child in list(node):
            node.remove(child)
        node.text = new_text
    return _serialize(root)


def tamper_attr(xml, xpath, attr, value):
    """Set attribute attr of every element matching xpath to value (None deletes it)."""
    root = _parse(xml)
    for node in _find(root, xpath):
        if value is None:
            node.attrib.pop(attr, None)
        else:
            node.set(attr, value)
    return _serialize(root)


def remove(xml, xpath):
    """Remove every element matching xpath."""
    root = _parse(xml)
    for node in _find(root, xpath):
        _drop(node)
    return _serialize(root)


_SIGNATURE_XPATHS = {
    "response": "/samlp:Response/ds:Signature",
    "assertion": "//saml:Assertion/ds:Signature",
    "all": "//ds:Signature",
}


def strip_signatures(xml, which="all"):
    """Remove the Response's ("response"), the assertions' ("assertion") or all signatures."""
    root = _parse(xml)
    for sig in root.xpath(_SIGNATURE_XPATHS[which], namespaces=NS):
        _drop(sig)
    return _serialize(root)


def _own_signature(element):
    """element's enveloped ds:Signature child, or None."""
    return element.find("ds:Signature", NS)


def _strip_own_signature(element):
    """Remove element's own ds:Signature child, if any; return element."""
    sig = _own_signature(element)
    if sig is not None:
        _drop(sig)
    return element


def _name_id(element):
    """The first saml:NameID under element; ValueError if there is none (e.g. encrypted)."""
    nid = next(element.iter(qname("saml", "NameID")), None)
    if nid is None:
        raise ValueError("XSW needs a plain NameID to replace")
    return nid


def _make_evil(assertion, evil_name_id, keep_signature):
    """Give assertion a new ID and evil_name_id as NameID; drop its signature unless kept."""
    assertion.set("ID", "_evil" + secrets.token_hex(12))
    nid = _name_id(assertion)
    for child in list(nid):
        nid.remove(child)
    nid.text = evil_name_id
    if not keep_signature:
        _strip_own_signature(assertion)
    return assertion


def _default_evil_name_id(name_id):
    """admin@ the domain of name_id (admin@example.com if it has none)."""
    domain = name_id.rpartition("@")[2] if "@" in name_id else "example.com"
    return "admin@" + domain


def wrap_xsw(xml, variant, evil_name_id=None):
    """XML Signature Wrapping variant 1..8 of Somorovsky et al. (USENIX Security 2012).

    The original signature is kept and references the original element, now
    moved elsewhere; an evil element with another ID and NameID evil_name_id
    (default admin@ the victim's domain) sits where an SP that does not tie
    signature and data together would read the identity. Variants 1-2 need a
    signed Response and wrap the whole Response; 3-8 need a signed
    (unencrypted) Assertion, wrap the first one, and drop the Response
    signature (an attacker cannot keep it valid). The result is well-formed,
    and every variant holds two Assertions with differing NameIDs.

    In 2, 3, 4, 5 and 7 the kept signature still verifies (plain xmlsec says
    so). In 1, 6 and 8 the original sits inside the ds:Signature, which the
    enveloped-signature transform cuts out, so a conforming verifier finds the
    digest wrong as well; these target verifiers that resolve it otherwise.

    1: evil Response (new ID, evil assertion unsigned) whose ds:Signature
       contains the original Response (minus its signature) as last child.
    2: as 1, but the original Response sits before the ds:Signature, as a
       sibling inside the evil Response (detached signature).
    3: an unsigned evil copy of the Assertion inserted before the original.
    4: an unsigned evil copy of the Assertion in place of the original, with
       the original Assertion as its last child.
    5: the original Assertion is altered in place (ID, NameID) but keeps its
       ds:Signature; an unsigned copy of the original goes at the end of the
       Response, where the signature's reference now points.
    6: as 5, but the unsigned copy of the original sits inside the altered
       Assertion's ds:Signature.
    7: a samlp:Extensions after the Response Issuer holds an unsigned evil
       copy of the Assertion; the original stays in place.
    8: as 6, but the copy sits in a ds:Object inside the ds:Signature.
    """
    root = _parse(xml)
    if variant in (1, 2):
        sig = _own_signature(root)
        if sig is None:
            raise ValueError("XSW%d needs a signed Response" % variant)
        original = _strip_own_signature(deepcopy(root))
        evil = evil_name_id or _default_evil_name_id(_name_id(original).text or "")
        root.set("ID", "_evil" + secrets.token_hex(12))
        for assertion in root.findall("saml:Assertion", NS):
            _make_evil(assertion, evil, keep_signature=False)
        if variant == 1:
            sig.append(original)
        else:
            sig.addprevious(original)
        return _serialize(root)

    if variant not in range(3, 9):
        raise ValueError("no XSW variant %r (1..8)" % (variant,))
    original = next((a for a in root.findall("saml:Assertion", NS)
                     if _own_signature(a) is not None), None)
    if original is None:
        raise ValueError("XSW%d needs a signed, unencrypted Assertion" % variant)
    evil = evil_name_id or _default_evil_name_id(_name_id(original).text or "")
    _strip_own_signature(root)
    unsigned_copy = _strip_own_signature(deepcopy(original))
    if variant == 3:
        original.addprevious(_make_evil(deepcopy(original), evil, keep_signature=False))
    elif variant == 4:
        wrapper = _make_evil(deepcopy(original), evil, keep_signature=False)
        original.addprevious(wrapper)
        wrapper.append(original)
    elif variant == 7:
        extensions = etree.Element(qname("samlp", "Extensions"))
        issuer = root.find("saml:Issuer", NS)
        if issuer is None:
            root.insert(0, extensions)
        else:
            issuer.addnext(extensions)
        extensions.append(_make_evil(deepcopy(original), evil, keep_signature=False))
    else:
        _make_evil(original, evil, keep_signature=True)
        sig = _own_signature(original)
        if variant == 5:
            root.append(unsigned_copy)
        elif variant == 6:
            sig.append(unsigned_copy)
        else:
            etree.SubElement(sig, qname("ds", "Object")).append(unsigned_copy)
    return _serialize(root)


def add_doctype(xml, kind="internal_entity"):
    """Prepend a DOCTYPE and make the first NameID's text an entity reference.

    internal_entity: an entity whose value is the NameID itself (expanding it
    changes nothing, so only the DTD is wrong); external_entity: a SYSTEM
    entity on file:///etc/hostname (XXE); billion_laughs: 10 nested entities
    expanding to 10^9 "lol"s.
    """
    root = _parse(xml)
    nid = _find(root, "//saml:NameID")[0]
    if kind == "internal_entity":
        value = _xml_escape(nid.text or "", {'"': "&quot;", "%": "&#37;"})
        entities, ref = ['<!ENTITY nameid "%s">' % value], "nameid"
    elif kind == "external_entity":
        entities, ref = ['<!ENTITY nameid SYSTEM "file:///etc/hostname">'], "nameid"
    elif kind == "billion_laughs":
        entities = ['<!ENTITY lol0 "lol">'] + [
            '<!ENTITY lol%d "%s">' % (i, ("&lol%d;" % (i - 1)) * 10) for i in range(1, 10)]
        ref = "lol9"
    else:
        raise ValueError("unknown DOCTYPE kind %r" % (kind,))
    for child in list(nid):
        nid.remove(child)
    nid.text = None
    nid.append(etree.Entity(ref))
    name = "%s:Response" % root.prefix if root.prefix else "Response"
    doctype = "<!DOCTYPE %s [\n%s\n]>\n" % (name, "\n".join(entities))
    serialized = _serialize(root)
    decl, _, body = serialized.partition(b"\n")
    return decl + b"\n" + doctype.encode("ascii") + body
