"""Attacks built from a response a real IdP signed: SimpleSAMLphp signs a fresh Response (and
its Assertion) for org acme, then each test tampers with it as an attacker would (no
re-signing) and posts it. Each must be refused with its exact reason in the log, and the
backend must never see the request."""
import base64

import pytest
import requests

import mint
from ssp_login import login

ACS_PATH = "/acme/saml/acs/"
NAMEID = "//saml:Assertion/saml:Subject/saml:NameID"
RESPONSE_SIG = "/samlp:Response/ds:Signature"
ASSERTION_SIG = "//saml:Assertion/ds:Signature"


@pytest.fixture(scope="module")
def idp_session(stack):
    """A client with a live IdP session: each signed response then costs one round trip."""
    s = requests.Session()
    login(s, stack.idp.idp_initiated_url(stack.acs("acme")), "bob@example.com", "bobpass")
    return s


@pytest.fixture
def signed(stack, idp_session):
    """Fresh Response bytes signed by SimpleSAMLphp for acme (IdP-initiated)."""
    form = login(idp_session, stack.idp.idp_initiated_url(stack.acs("acme")),
                 "bob@example.com", "bobpass")
    return base64.b64decode(form["SAMLResponse"])


def post(stack, org, xml_or_b64):
    data = xml_or_b64 if isinstance(xml_or_b64, str) else mint.b64(xml_or_b64)
    return requests.post(stack.acs(org), data={"SAMLResponse": data}, allow_redirects=False,
                         timeout=30)


def assert_refused(stack, org, xml, reason, status=403):
    before = len(stack.backend.requests)
    mark = stack.httpd.log_mark()
    r = post(stack, org, xml)
    assert r.status_code == status, r.text[-300:]
    assert "Set-Cookie" not in r.headers
    log = stack.httpd.log_since(mark, "login refused")
    assert "org %s: login refused: %s" % (org, reason) in log, log[-600:]
    assert len(stack.backend.requests) == before


def comment_in_text(xml, text, at):
    """The 2018 comment-injection trick: exc-c14n drops comments, so the signature still
    verifies while a naive text reader sees only part of the value."""
    return xml.replace(text.encode(), (text[:at] + "<!---->" + text[at:]).encode(), 1)


def test_the_untouched_response_and_a_neutral_round_trip_are_accepted(stack, signed,
                                                                         idp_session):
    # Control: the tamperers' parse/serialise keeps the signatures valid, so every refusal
    # below is caused by the attack, not by the tooling.
    assert post(stack, "acme", mint.tamper_attr(signed, "/samlp:Response", "Version",
                                                "2.0")).status_code == 303
    fresh = login(idp_session, stack.idp.idp_initiated_url(stack.acs("acme")),
                  "bob@example.com", "bobpass")
    assert post(stack, "acme", form_b64(fresh)).status_code == 303


def form_b64(form):
    return form["SAMLResponse"]


# (name, attack(signed xml, stack) -> xml, reason)
ATTACKS = [
    ("nameid changed", lambda x, s: mint.tamper_text(x, NAMEID, "alice@example.com"),
     "signature_invalid"),
    ("nameid comment injection", lambda x, s: comment_in_text(x, "bob@example.com", 3),
     "nameid_invalid"),
    ("nameid comment before the domain", lambda x, s: comment_in_text(x, "bob@example.com", 4),
     "nameid_invalid"),
    ("nameid padded with spaces", lambda x, s: mint.tamper_text(x, NAMEID, " bob@example.com "),
     "signature_invalid"),
    ("group value changed", lambda x, s: mint.tamper_text(
        x, "//saml:Attribute[@Name='groups']/saml:AttributeValue", "Ops"),
     "signature_invalid"),
    ("attribute added", lambda x, s: x.replace(
        b"</saml:AttributeStatement>",
        b'<saml:Attribute Name="Ops"><saml:AttributeValue>Ops</saml:AttributeValue>'
        b"</saml:Attribute></saml:AttributeStatement>", 1),
     "signature_invalid"),
    ("attribute statement removed", lambda x, s: mint.remove(x, "//saml:AttributeStatement"),
     "signature_invalid"),
    ("audience changed", lambda x, s: mint.tamper_text(x, "//saml:Audience",
                                                       "https://evil.test/"),
     "signature_invalid"),
    ("conditions removed", lambda x, s: mint.remove(x, "//saml:Conditions"),
     "signature_invalid"),
    ("recipient changed", lambda x, s: mint.tamper_attr(
        x, "//saml:SubjectConfirmationData", "Recipient", "https://evil.test/acs"),
     "signature_invalid"),
    ("confirmation lifetime extended", lambda x, s: mint.tamper_attr(
        x, "//saml:SubjectConfirmationData", "NotOnOrAfter", "2099-01-01T00:00:00Z"),
     "signature_invalid"),
    ("conditions lifetime extended", lambda x, s: mint.tamper_attr(
        x, "//saml:Conditions", "NotOnOrAfter", "2099-01-01T00:00:00Z"),
     "signature_invalid"),
    ("session lifetime extended", lambda x, s: mint.tamper_attr(
        x, "//saml:AuthnStatement", "SessionNotOnOrAfter", "2099-01-01T00:00:00Z"),
     "signature_invalid"),
    ("in-response-to added", lambda x, s: mint.tamper_attr(
        x, "/samlp:Response", "InResponseTo", "_forged"),
     "signature_invalid"),
    ("destination changed", lambda x, s: mint.tamper_attr(
        x, "/samlp:Response", "Destination", "https://evil.test/acs"),
     "destination_mismatch"),
    ("destination removed", lambda x, s: mint.tamper_attr(
        x, "/samlp:Response", "Destination", None),
     "destination_mismatch"),
    ("response issuer changed", lambda x, s: mint.tamper_text(
        x, "/samlp:Response/saml:Issuer", "http://mint-globex.test/metadata"),
     "issuer_mismatch"),
    ("response issuer comment", lambda x, s: x.replace(
        b"/saml2/idp/metadata.php</saml:Issuer>",
        b"/saml2/idp/<!---->metadata.php</saml:Issuer>", 1),
     "issuer_mismatch"),
    ("assertion issuer changed", lambda x, s: mint.tamper_text(
        x, "//saml:Assertion/saml:Issuer", "http://evil.test/idp"),
     "signature_invalid"),
    ("status changed", lambda x, s: mint.tamper_attr(
        x, "/samlp:Response/samlp:Status/samlp:StatusCode", "Value",
        "urn:oasis:names:tc:SAML:2.0:status:Responder"),
     "status_not_success"),
    ("both signatures stripped", lambda x, s: mint.strip_signatures(x, "all"), "unsigned"),
    ("response signature stripped, nameid changed", lambda x, s: mint.tamper_text(
        mint.strip_signatures(x, "response"), NAMEID, "alice@example.com"),
     "signature_invalid"),
    ("assertion signature stripped, nameid changed", lambda x, s: mint.tamper_text(
        mint.strip_signatures(x, "assertion"), NAMEID, "alice@example.com"),
     "signature_invalid"),
    ("signature value emptied", lambda x, s: mint.tamper_text(
        x, RESPONSE_SIG + "/ds:SignatureValue", ""),
     "signature_invalid"),
    ("signature value bit flipped", lambda x, s: flip_signature(x), "signature_invalid"),
    ("digest value altered", lambda x, s: mint.tamper_text(
        x, RESPONSE_SIG + "/ds:SignedInfo/ds:Reference/ds:DigestValue",
        base64.b64encode(b"\0" * 32).decode()),
     "signature_invalid"),
    ("reference to the whole document", lambda x, s: mint.tamper_attr(
        x, RESPONSE_SIG + "/ds:SignedInfo/ds:Reference", "URI", ""),
     "signature_invalid"),
    ("reference to another element", lambda x, s: retarget_response_reference(x),
     "signature_invalid"),
    ("signature method swapped to HMAC", lambda x, s: mint.tamper_attr(
        x, RESPONSE_SIG + "/ds:SignedInfo/ds:SignatureMethod", "Algorithm",
        "http://www.w3.org/2000/09/xmldsig#hmac-sha1"),
     "weak_signature_algorithm"),
    ("signature method downgraded to SHA-1", lambda x, s: mint.tamper_attr(
        x, RESPONSE_SIG + "/ds:SignedInfo/ds:SignatureMethod", "Algorithm",
        "http://www.w3.org/2000/09/xmldsig#rsa-sha1"),
     "weak_signature_algorithm"),
    ("assertion copied after itself", lambda x, s: duplicate_assertion(x, "_copy"),
     "assertion_count"),
    ("assertion hidden in Extensions", lambda x, s: assertion_in_extensions(x),
     "assertion_count"),
    ("internal entity DTD", lambda x, s: mint.add_doctype(x, "internal_entity"),
     "dtd_forbidden", 400),
    ("external entity DTD", lambda x, s: mint.add_doctype(x, "external_entity"),
     "dtd_forbidden", 400),
    ("billion laughs", lambda x, s: mint.add_doctype(x, "billion_laughs"),
     "dtd_forbidden", 400),
    ("UTF-16 re-encoding", lambda x, s: utf16(x), "bad_xml", 400),
    ("NUL byte injection", lambda x, s: x.replace(b"bob@example.com", b"bob@example.com\0x", 1),
     "bad_xml", 400),
    ("other root element", lambda x, s: x.replace(b"samlp:Response", b"samlp:ArtifactResponse"),
     "bad_xml", 400),
    ("padded above the size limit", lambda x, s: x.replace(
        b"</samlp:Response>", b"<!--" + b"x" * (1024 * 1024) + b"--></samlp:Response>", 1),
     "message_too_large", 413),
] + [("XSW%d" % v, (lambda v: lambda x, s: mint.wrap_xsw(x, v))(v), None) for v in range(1, 9)]

XSW_REASONS = {"signature_invalid", "assertion_count", "unsigned"}


def flip_signature(xml):
    root = mint._parse(xml)
    node = mint._find(root, RESPONSE_SIG + "/ds:SignatureValue")[0]
    raw = bytearray(base64.b64decode("".join(node.text.split())))
    raw[len(raw) // 2] ^= 0x01
    return mint.tamper_text(xml, RESPONSE_SIG + "/ds:SignatureValue",
                            base64.b64encode(bytes(raw)).decode())


def retarget_response_reference(xml):
    root = mint._parse(xml)
    assertion_id = mint._find(root, "//saml:Assertion")[0].get("ID")
    return mint.tamper_attr(xml, RESPONSE_SIG + "/ds:SignedInfo/ds:Reference", "URI",
                            "#" + assertion_id)


def duplicate_assertion(xml, new_id):
    start = xml.index(b"<saml:Assertion")
    end = xml.index(b"</saml:Assertion>") + len(b"</saml:Assertion>")
    copy = xml[start:end]
    old_id = mint._find(mint._parse(xml), "//saml:Assertion")[0].get("ID").encode()
    return xml[:end] + copy.replace(old_id, new_id.encode()) + xml[end:]


def assertion_in_extensions(xml):
    start = xml.index(b"<saml:Assertion")
    end = xml.index(b"</saml:Assertion>") + len(b"</saml:Assertion>")
    copy = xml[start:end].replace(b"bob@example.com", b"alice@example.com")
    status = xml.index(b"<samlp:Status")
    return xml[:status] + b"<samlp:Extensions>" + copy + b"</samlp:Extensions>" + xml[status:]


def utf16(xml):
    text = xml.decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    if not text.startswith("<?xml"):
        text = '<?xml version="1.0" encoding="UTF-16"?>' + text
    return text.encode("utf-16")


@pytest.mark.parametrize("attack", ATTACKS, ids=[a[0] for a in ATTACKS])
def test_attack_on_a_real_idp_response_is_refused(stack, signed, attack):
    name, build, reason, *status = attack
    forged = build(signed, stack)
    assert forged != signed
    if reason is None:  # signature wrapping: refused for whichever defect is found first
        before = len(stack.backend.requests)
        mark = stack.httpd.log_mark()
        r = post(stack, "acme", forged)
        assert r.status_code == 403 and "Set-Cookie" not in r.headers
        log = stack.httpd.log_since(mark, "login refused")
        assert any("login refused: %s" % why in log for why in XSW_REASONS), log[-600:]
        assert len(stack.backend.requests) == before
    else:
        assert_refused(stack, "acme", forged, reason, *status)


def test_replaying_the_real_response_is_refused(stack, signed):
    assert post(stack, "acme", signed).status_code == 303
    assert_refused(stack, "acme", signed, "assertion_replayed")


@pytest.mark.parametrize("org", ["globex", "initech", "umbrella"])
def test_the_real_response_is_refused_by_every_other_org(stack, signed, org):
    assert_refused(stack, org, signed, "issuer_mismatch")
