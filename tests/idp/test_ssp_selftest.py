"""Self-test of the SimpleSAMLphp test IdP (tests/idp/), without any SP.

Run: /usr/bin/python3 -m pytest -q tests/idp/test_ssp_selftest.py

Proves the IdP used by the demo and the integration tests issues what the
module will consume: signed Response + signed Assertion (RSA-SHA256, verified
with xmlsec1 against the IdP cert only, and with Lasso from the metadata),
NameID emailAddress = the user's email, the attributes, Audience, Recipient,
Destination and InResponseTo.
"""

import base64
import datetime
import os
import signal
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest
import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ssp_login  # noqa: E402
from ssp_login import LoginError, authn_request_redirect_url, login  # noqa: E402
from ssp_server import SSPServer, free_port, make_sp_metadata  # noqa: E402

NS = {
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "md": "urn:oasis:names:tc:SAML:2.0:metadata",
}
EMAIL_FMT = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
ACME = "http://127.0.0.1:8080/acme/saml/acs/"
BETA = "http://127.0.0.1:8080/beta/saml/acs/"
GAMMA = "http://127.0.0.1:8080/gamma/saml/acs/"
HERE = os.path.dirname(os.path.abspath(__file__))


# ----------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def spdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("sps")
    (d / "acme.xml").write_text(make_sp_metadata(ACME, ACME))
    (d / "beta.xml").write_text(make_sp_metadata(BETA, BETA))
    # gamma: an SP with its own key, for encrypted-assertion tests
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-sha256", "-days", "2", "-subj", "/CN=gamma-sp",
                    "-keyout", str(d / "gamma.key"), "-out", str(d / "gamma.crt")],
                   check=True, capture_output=True)
    (d / "gamma.xml").write_text(
        make_sp_metadata(GAMMA, GAMMA, cert_pem=(d / "gamma.crt").read_text()))
    return d


@pytest.fixture(scope="module")
def idp(tmp_path_factory, spdir):
    last = None
    for _ in range(3):  # free_port() can race with another process
        srv = SSPServer(free_port(), str(tmp_path_factory.mktemp("idp")),
                        [str(spdir / "acme.xml")])
        try:
            srv.start()
            break
        except RuntimeError as e:
            last = e
    else:
        raise last
    # beta is registered after start: SSP must pick it up without a restart
    srv.add_sp_metadata(str(spdir / "beta.xml"))
    yield srv
    srv.stop()
    assert not _port_open(srv.port)


# ------------------------------------------------------------------ helpers
def _port_open(port):
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _pubkey(idp, tmp_path):
    path = tmp_path / "idp.pub"
    out = subprocess.run(["openssl", "x509", "-in", idp.cert_path, "-pubkey", "-noout"],
                         check=True, capture_output=True).stdout
    path.write_bytes(out)
    return str(path)


def xmlsec_verify(xml_bytes, node_id, pubkey_pem, tmp_path):
    """True if the ds:Signature of the element with ID node_id verifies with
    pubkey_pem only (embedded KeyInfo certificates are ignored)."""
    f = tmp_path / ("msg-%s.xml" % node_id)
    f.write_bytes(xml_bytes)
    r = subprocess.run(
        ["xmlsec1", "--verify", "--pubkey-pem", pubkey_pem, "--enabled-key-data", "rsa",
         "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:Response",
         "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
         "--node-id", node_id, str(f)],
        capture_output=True, text=True)
    return r.returncode == 0


def lasso_accepts(sp_metadata_path, idp, saml_response_b64, sp_key=None):
    """Process the response as a Lasso SP would; returns the lasso.Login."""
    import lasso
    server = lasso.Server(str(sp_metadata_path), sp_key, None, None)
    server.addProvider(lasso.PROVIDER_ROLE_IDP, idp.metadata_path)
    lg = lasso.Login(server)
    lg.processAuthnResponseMsg(saml_response_b64)
    lg.acceptSso()
    return lg


def parse(form):
    xml = base64.b64decode(form["SAMLResponse"])
    return xml, ET.fromstring(xml)


def attributes(assertion):
    out = {}
    for a in assertion.findall("saml:AttributeStatement/saml:Attribute", NS):
        out[a.get("Name")] = [v.text for v in a.findall("saml:AttributeValue", NS)]
    return out


def _ts(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc)


def check_response(idp, form, sp, user, tmp_path, in_response_to=None):
    """The checks every SP-bound response must pass; returns (root, assertion)."""
    xml, root = parse(form)
    assert root.tag == "{%s}Response" % NS["samlp"]
    assert form["action"] == sp
    assert root.get("Destination") == sp
    assert root.find("saml:Issuer", NS).text == idp.entity_id
    assert root.find("samlp:Status/samlp:StatusCode", NS).get("Value") == \
        "urn:oasis:names:tc:SAML:2.0:status:Success"
    assert root.get("InResponseTo") == in_response_to
    assertions = root.findall("saml:Assertion", NS)
    assert len(assertions) == 1
    a = assertions[0]
    assert a.find("saml:Issuer", NS).text == idp.entity_id
    nameid = a.find("saml:Subject/saml:NameID", NS)
    assert nameid.get("Format") == EMAIL_FMT
    assert nameid.text == user
    scd = a.find("saml:Subject/saml:SubjectConfirmation/saml:SubjectConfirmationData", NS)
    assert scd.get("Recipient") == sp
    assert scd.get("InResponseTo") == in_response_to
    assert [x.text for x in a.findall(
        "saml:Conditions/saml:AudienceRestriction/saml:Audience", NS)] == [sp]
    now = datetime.datetime.now(datetime.timezone.utc)
    cond = a.find("saml:Conditions", NS)
    assert _ts(cond.get("NotBefore")) <= now < _ts(cond.get("NotOnOrAfter"))
    # Both signatures present, RSA-SHA256, and valid against the IdP key only.
    for el in (root, a):
        sig = el.find("ds:Signature", NS)
        assert sig is not None, "%s is not signed" % el.tag
        assert sig.find("ds:SignedInfo/ds:SignatureMethod", NS).get("Algorithm") == RSA_SHA256
        assert sig.find("ds:SignedInfo/ds:Reference", NS).get("URI") == "#" + el.get("ID")
    pub = _pubkey(idp, tmp_path)
    assert xmlsec_verify(xml, root.get("ID"), pub, tmp_path)
    assert xmlsec_verify(xml, a.get("ID"), pub, tmp_path)
    return root, a


# -------------------------------------------------------------------- tests
def test_metadata_publishes_entityid_cert_and_both_sso_bindings(idp):
    root = ET.parse(idp.metadata_path).getroot()
    assert root.get("entityID") == idp.entity_id == \
        "http://127.0.0.1:%d/saml2/idp/metadata.php" % idp.port
    sso = {s.get("Binding"): s.get("Location") for s in
           root.findall("md:IDPSSODescriptor/md:SingleSignOnService", NS)}
    assert sso == {
        "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect": idp.sso_url,
        "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST": idp.sso_url,
    }
    cert = root.find("md:IDPSSODescriptor/md:KeyDescriptor[@use='signing']"
                     "/ds:KeyInfo/ds:X509Data/ds:X509Certificate", NS).text
    pem_body = "".join(l for l in idp.cert_pem().splitlines() if "-----" not in l)
    assert cert.strip() == pem_body


def test_idp_initiated_alice_gets_signed_response_with_attributes(idp, tmp_path):
    s = requests.Session()
    form = login(s, idp.idp_initiated_url(ACME, relay_state="/after/login?x=1"),
                 "alice@example.com", "alicepass")
    assert form["RelayState"] == "/after/login?x=1"
    root, a = check_response(idp, form, ACME, "alice@example.com", tmp_path)
    attrs = attributes(a)
    assert attrs["email"] == ["alice@example.com"]
    assert attrs["firstName"] == ["Alice"]
    assert attrs["lastName"] == ["Anderson"]
    assert attrs["groups"] == ["Dev", "Ops"]
    assert attrs["Ops"] == ["Ops"] and attrs["Dev"] == ["Dev"]
    # Lasso (what the module uses) accepts it from the metadata alone.
    lg = lasso_accepts(os.path.join(idp.sp_dir, idp._sp_basename(ACME) + ".xml"),
                       idp, form["SAMLResponse"])
    assert lg.nameIdentifier.content == "alice@example.com"
    assert lg.remoteProviderId == idp.entity_id


def test_idp_initiated_to_sp_added_after_start(idp, tmp_path):
    form = login(requests.Session(), idp.idp_initiated_url(BETA),
                 "bob@example.com", "bobpass")
    assert form["RelayState"] is None
    _, a = check_response(idp, form, BETA, "bob@example.com", tmp_path)
    attrs = attributes(a)
    assert attrs["groups"] == ["Dev"] and attrs["Dev"] == ["Dev"]
    assert "Ops" not in attrs


@pytest.mark.parametrize("sp", [ACME, BETA])
def test_sp_initiated_response_carries_in_response_to(idp, tmp_path, sp):
    url, req_id = authn_request_redirect_url(idp.sso_url, sp, sp, relay_state="opaque-rs-1")
    form = login(requests.Session(), url, "alice@example.com", "alicepass")
    assert form["RelayState"] == "opaque-rs-1"
    _, a = check_response(idp, form, sp, "alice@example.com", tmp_path, in_response_to=req_id)
    assert attributes(a)["groups"] == ["Dev", "Ops"]


def test_sp_initiated_request_for_persistent_nameid_still_gets_email(idp, tmp_path):
    url, req_id = authn_request_redirect_url(
        idp.sso_url, ACME, ACME,
        name_id_format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent")
    form = login(requests.Session(), url, "bob@example.com", "bobpass")
    check_response(idp, form, ACME, "bob@example.com", tmp_path, in_response_to=req_id)


def test_carol_hostile_values_arrive_verbatim(idp, tmp_path):
    form = login(requests.Session(), idp.idp_initiated_url(ACME),
                 "carol@example.com", "carolpass")
    _, a = check_response(idp, form, ACME, "carol@example.com", tmp_path)
    attrs = attributes(a)
    assert attrs["firstName"] == ['Carol, "CJ"']
    assert attrs["lastName"] == ["\u00dcnal"]
    assert attrs["groups"] == ["Design, UX"]


def test_idp_session_is_reused_without_login_form(idp):
    s = requests.Session()
    login(s, idp.idp_initiated_url(ACME), "alice@example.com", "alicepass")
    url, req_id = authn_request_redirect_url(idp.sso_url, BETA, BETA)
    r = s.get(url)
    form = ssp_login.find_saml_form(r)
    assert form is not None, "expected SSO without a second login"
    assert ET.fromstring(base64.b64decode(form["SAMLResponse"])).get("InResponseTo") == req_id
    # login() copes with that too (password is then not checked)
    form2 = login(s, idp.idp_initiated_url(ACME), "alice@example.com", "ignored")
    assert form2["action"] == ACME


def test_wrong_password_raises_login_error(idp):
    with pytest.raises(LoginError, match="Incorrect username or password"):
        login(requests.Session(), idp.idp_initiated_url(ACME), "bob@example.com", "alicepass")


def test_unknown_sp_is_refused(idp):
    with pytest.raises(LoginError):
        login(requests.Session(), idp.idp_initiated_url("http://127.0.0.1:8080/nope/"),
              "alice@example.com", "alicepass")


def test_acs_url_not_in_metadata_falls_back_to_registered_acs(idp, tmp_path):
    # SSP 1.19 does not refuse an unknown AssertionConsumerServiceURL: it logs
    # a warning and answers to the SP's default ACS from metadata.
    url, req_id = authn_request_redirect_url(idp.sso_url, ACME, "http://127.0.0.1:8080/evil/acs/")
    form = login(requests.Session(), url, "alice@example.com", "alicepass")
    check_response(idp, form, ACME, "alice@example.com", tmp_path, in_response_to=req_id)


def test_tampered_response_fails_verification(idp, tmp_path):
    form = login(requests.Session(), idp.idp_initiated_url(ACME),
                 "alice@example.com", "alicepass")
    xml, root = parse(form)
    a = root.find("saml:Assertion", NS)
    bad = xml.replace(b">Anderson<", b">Andersen<")
    assert bad != xml
    pub = _pubkey(idp, tmp_path)
    assert not xmlsec_verify(bad, a.get("ID"), pub, tmp_path)
    assert not xmlsec_verify(bad, root.get("ID"), pub, tmp_path)
    import lasso
    with pytest.raises(lasso.Error):
        lasso_accepts(os.path.join(idp.sp_dir, idp._sp_basename(ACME) + ".xml"), idp,
                      base64.b64encode(bad).decode())


def test_per_sp_overrides_unsigned_response_and_encrypted_assertion(idp, spdir, tmp_path):
    idp.add_sp_metadata(str(spdir / "gamma.xml"),
                        overrides={"saml20.sign.response": False,
                                   "assertion.encryption": True})
    try:
        form = login(requests.Session(), idp.idp_initiated_url(GAMMA),
                     "alice@example.com", "alicepass")
        _, root = parse(form)
        assert root.find("ds:Signature", NS) is None
        assert root.find("saml:Assertion", NS) is None
        assert root.find("saml:EncryptedAssertion", NS) is not None
        lg = lasso_accepts(spdir / "gamma.xml", idp, form["SAMLResponse"],
                           sp_key=str(spdir / "gamma.key"))
        assert lg.nameIdentifier.content == "alice@example.com"
    finally:
        idp.remove_sp(GAMMA)
    with pytest.raises(LoginError):
        login(requests.Session(), idp.idp_initiated_url(GAMMA), "alice@example.com", "alicepass")


def test_cli_prints_metadata_path_and_exits_on_sigterm(spdir, tmp_path):
    port = free_port()
    proc = subprocess.Popen(
        ["/usr/bin/python3", os.path.join(HERE, "ssp_server.py"), "--port", str(port),
         "--workdir", str(tmp_path / "w"), "--sp-metadata", str(spdir / "acme.xml")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        assert line == str(tmp_path / "w" / "idp-metadata.xml")
        assert os.path.exists(line)
        assert _port_open(port)
        r = requests.get("http://127.0.0.1:%d/saml2/idp/metadata.php" % port, timeout=10)
        assert r.status_code == 200 and b"IDPSSODescriptor" in r.content
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
    assert proc.returncode == 0
    deadline = time.time() + 5
    while _port_open(port) and time.time() < deadline:
        time.sleep(0.1)
    assert not _port_open(port)
