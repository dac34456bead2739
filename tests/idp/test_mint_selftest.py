"""Self-test of mint.py: Lasso (an independent SAML stack) accepts what should verify and
refuses forgeries; lxml checks that every override lands where it should.

Run: cd tests/idp && /usr/bin/python3 -m pytest -q test_mint_selftest.py
"""
import base64
import datetime
import os

import lasso
import pytest
import xmlsec
from lxml import etree

import mint
from ssp_server import make_sp_metadata

ACS = "http://127.0.0.1:1/acme/saml/acs/"
NS = mint.NS
UTC = datetime.timezone.utc
T0 = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
HOLDER_OF_KEY = "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key"
RSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA1 = "http://www.w3.org/2000/09/xmldsig#sha1"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """One temporary directory for the module."""
    return tmp_path_factory.mktemp("mint")


@pytest.fixture(scope="module")
def idp(work):
    """The minting IdP under test."""
    return mint.MintIdP(str(work / "idp"))


@pytest.fixture(scope="module")
def attacker(work, idp):
    """Another key pair claiming the same entity ID."""
    return mint.MintIdP(str(work / "attacker"), entity_id=idp.entity_id)


@pytest.fixture(scope="module")
def sp(work):
    """SP key, cert and metadata (entityID = ACS, cert published for signing and encryption)."""
    key, cert, meta = (str(work / n) for n in ("sp.key", "sp.crt", "sp.xml"))
    mint.make_key_and_cert(key, cert, "mint-selftest-sp")
    with open(cert) as f:
        pem = f.read()
    with open(meta, "w") as f:
        f.write(make_sp_metadata(ACS, ACS, cert_pem=pem))
    return {"key": key, "cert": cert, "metadata": meta}


def lasso_login(sp, idp, xml):
    """Lasso's SP-side processAuthnResponseMsg on xml; returns the Login or raises lasso.Error."""
    server = lasso.Server(sp["metadata"], sp["key"], None, sp["cert"])
    server.addProvider(lasso.PROVIDER_ROLE_IDP, idp.metadata_path)
    login = lasso.Login(server)
    login.processAuthnResponseMsg(mint.b64(xml))
    return login


def mint_xml(idp, **kw):
    """A response from idp for the test SP (ACS = audience = ACS)."""
    return idp.response(ACS, ACS, **kw)


def parse(xml):
    """Parse like a careful SP; huge_tree only lifts libxml2's entity-amplification guard."""
    return etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True,
                                                 huge_tree=True))


def one(root, xpath):
    """The single node matching xpath under root."""
    nodes = root.xpath(xpath, namespaces=NS)
    assert len(nodes) == 1, (xpath, len(nodes))
    return nodes[0]


def count(root, xpath):
    """How many nodes match xpath under root."""
    return len(root.xpath(xpath, namespaces=NS))


# --- Lasso: what must verify --------------------------------------------------------------

@pytest.mark.parametrize("kw", [
    {},
    {"sign_assertion": False},
    {"sign_response": False},
    {"sig_alg": "rsa-sha1", "digest_alg": "sha1"},
    {"encrypt_to_cert_path": "SP"},
    {"encrypt_to_cert_path": "SP", "encryption_cipher": "aes128-cbc", "sign_response": False},
], ids=["default", "response-signed-only", "assertion-signed-only", "sha1", "encrypted",
        "encrypted-aes128-assertion-signed-only"])
def test_lasso_accepts(sp, idp, kw):
    """Lasso verifies (and decrypts) what a real IdP could send."""
    if kw.get("encrypt_to_cert_path") == "SP":
        kw = dict(kw, encrypt_to_cert_path=sp["cert"])
    login = lasso_login(sp, idp, mint_xml(idp, name_id="bob@example.com", **kw))
    assert login.nameIdentifier.content == "bob@example.com"
    assert login.remoteProviderId == idp.entity_id


def test_lasso_sees_the_comment_injection_as_signed(sp, idp):
    """name_id_raw_xml is spliced before signing: the comment is outside exc-c14n's digest."""
    xml = mint_xml(idp, name_id_raw_xml="alice@example.com<!--x-->.evil.com")
    login = lasso_login(sp, idp, xml)
    assert login.nameIdentifier.content == "alice@example.com.evil.com"


# --- Lasso: what must not verify ----------------------------------------------------------

def forged(idp, attacker, kind):
    """A forgery of the given kind."""
    if kind == "attacker-idp":
        return attacker.response(ACS, ACS)
    if kind == "attacker-key-legit-cert":
        return mint_xml(idp, signing_key_path=attacker.key_path)
    if kind == "nameid-tampered":
        return mint.tamper_text(mint_xml(idp), "//saml:NameID", "admin@example.com")
    if kind == "nameid-tampered-assertion-signed-only":
        return mint.tamper_text(mint_xml(idp, sign_response=False), "//saml:NameID",
                                "admin@example.com")
    if kind == "signatures-stripped":
        return mint.strip_signatures(mint_xml(idp), "all")
    if kind == "unsigned":
        return mint_xml(idp, sign_response=False, sign_assertion=False)
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["attacker-idp", "attacker-key-legit-cert", "nameid-tampered",
                                  "nameid-tampered-assertion-signed-only",
                                  "signatures-stripped", "unsigned"])
def test_lasso_refuses(sp, idp, attacker, kind):
    """Lasso refuses a foreign key, edits after signing and missing signatures."""
    with pytest.raises(lasso.Error):
        lasso_login(sp, idp, forged(idp, attacker, kind))


@pytest.mark.parametrize("variant", range(1, 9))
def test_lasso_never_yields_the_wrapped_identity(sp, idp, variant):
    """Lasso either refuses an XSW variant or reads the victim, never the evil NameID."""
    xml = mint.wrap_xsw(mint_xml(idp, name_id="victim@example.com"), variant)
    try:
        login = lasso_login(sp, idp, xml)
    except lasso.Error:
        return
    assert login.nameIdentifier.content == "victim@example.com"


@pytest.mark.parametrize("kind", ["internal_entity", "external_entity", "billion_laughs"])
def test_lasso_refuses_a_doctype(sp, idp, kind):
    """Lasso denies every message carrying a DTD."""
    with pytest.raises(lasso.Error):
        lasso_login(sp, idp, mint.add_doctype(mint_xml(idp), kind))


# --- the IdP itself ----------------------------------------------------------------------

def test_key_pair_is_reused_and_metadata_describes_it(work):
    """One key pair per workdir; metadata names the entity ID and the signing cert."""
    first = mint.MintIdP(str(work / "reuse"))
    again = mint.MintIdP(str(work / "reuse"), entity_id="http://other.test/md")
    assert again.cert_pem == first.cert_pem and again.key_path == first.key_path
    assert os.stat(again.key_path).st_mode & 0o077 == 0
    # bytes, not etree.parse(path): with xmlsec loaded, libxml2 refuses to open files
    with open(again.metadata_path, "rb") as f:
        md = etree.fromstring(f.read())
    assert md.get("entityID") == "http://other.test/md"
    d = one(md, "md:IDPSSODescriptor")
    assert d.get("protocolSupportEnumeration") == "urn:oasis:names:tc:SAML:2.0:protocol"
    assert one(d, "md:KeyDescriptor[@use='signing']//ds:X509Certificate").text == \
        mint.cert_base64(again.cert_pem)
    assert one(d, "md:NameIDFormat").text == mint.NAMEID_EMAIL
    assert one(d, "md:SingleSignOnService").get("Binding") == mint.BINDING_REDIRECT


def test_b64_is_standard_and_one_line(idp):
    """response_b64 is one line of the standard base64 alphabet."""
    text = idp.response_b64(ACS, ACS)
    assert "\n" not in text and "-" not in text and "_" not in text
    assert base64.b64decode(text, validate=True).startswith(b"<?xml")


def test_unknown_override_is_an_error(idp):
    """A misspelt override fails loudly instead of minting a valid response."""
    with pytest.raises(TypeError):
        mint_xml(idp, sign_everything=False)


# --- defaults and overrides, checked with lxml --------------------------------------------

def test_default_response_structure(idp):
    """The default response: every element and attribute, in schema order."""
    r = parse(mint_xml(idp, now=T0))
    assert r.tag == mint.qname("samlp", "Response")
    assert [c.tag.split("}")[1] for c in r] == ["Issuer", "Signature", "Status", "Assertion"]
    assert r.get("ID").startswith("_") and len(r.get("ID")) == 33
    assert r.get("Version") == "2.0" and r.get("IssueInstant") == "2030-01-02T03:04:05Z"
    assert r.get("Destination") == ACS and r.get("InResponseTo") is None
    assert one(r, "saml:Issuer").text == idp.entity_id
    assert one(r, "samlp:Status/samlp:StatusCode").get("Value") == mint.STATUS_SUCCESS
    a = one(r, "saml:Assertion")
    assert [c.tag.split("}")[1] for c in a] == [
        "Issuer", "Signature", "Subject", "Conditions", "AuthnStatement", "AttributeStatement"]
    assert a.get("ID") != r.get("ID") and a.get("Version") == "2.0"
    assert a.get("IssueInstant") == "2030-01-02T03:04:05Z"
    assert one(a, "saml:Issuer").text == idp.entity_id
    nid = one(a, "saml:Subject/saml:NameID")
    assert nid.text == "alice@example.com" and nid.get("Format") == mint.NAMEID_EMAIL
    sc = one(a, "saml:Subject/saml:SubjectConfirmation")
    assert sc.get("Method") == mint.CM_BEARER
    scd = one(sc, "saml:SubjectConfirmationData")
    assert dict(scd.attrib) == {"NotOnOrAfter": "2030-01-02T03:09:05Z", "Recipient": ACS}
    cond = one(a, "saml:Conditions")
    assert cond.get("NotBefore") == "2030-01-02T03:03:05Z"
    assert cond.get("NotOnOrAfter") == "2030-01-02T03:09:05Z"
    assert [e.text for e in cond.xpath("saml:AudienceRestriction/saml:Audience",
                                       namespaces=NS)] == [ACS]
    authn = one(a, "saml:AuthnStatement")
    assert authn.get("AuthnInstant") == "2030-01-02T03:04:05Z"
    assert authn.get("SessionIndex").startswith("_")
    assert authn.get("SessionNotOnOrAfter") is None
    assert one(authn, ".//saml:AuthnContextClassRef").text == mint.AC_PASSWORD_PROTECTED
    attrs = {at.get("Name"): [v.text for v in at] for at in
             a.xpath("saml:AttributeStatement/saml:Attribute", namespaces=NS)}
    assert attrs == {"firstName": ["Alice"], "lastName": ["Anderson"], "groups": ["Dev", "Ops"]}
    assert {at.get("NameFormat") for at in a.iter(mint.qname("saml", "Attribute"))} == {
        mint.ATTRNAME_BASIC}


def test_signature_shape(idp):
    """Both signatures: after the Issuer, exc-c14n, RSA-SHA256, SHA-256, own ID, cert."""
    r = parse(mint_xml(idp))
    for element in (r, one(r, "saml:Assertion")):
        sig = element[1]
        assert sig.tag == mint.qname("ds", "Signature")
        assert one(sig, "ds:SignedInfo/ds:CanonicalizationMethod").get("Algorithm") == EXC_C14N
        assert one(sig, "ds:SignedInfo/ds:SignatureMethod").get("Algorithm") == RSA_SHA256
        ref = one(sig, "ds:SignedInfo/ds:Reference")
        assert ref.get("URI") == "#" + element.get("ID")
        assert [t.get("Algorithm") for t in ref.xpath("ds:Transforms/ds:Transform",
                                                      namespaces=NS)] == [
            "http://www.w3.org/2000/09/xmldsig#enveloped-signature", EXC_C14N]
        assert one(ref, "ds:DigestMethod").get("Algorithm") == SHA256
        assert one(sig, "ds:KeyInfo/ds:X509Data/ds:X509Certificate").text == \
            mint.cert_base64(idp.cert_pem)


def test_signature_overrides(idp, attacker):
    """sign_*, sig_alg, digest_alg, signing_*_path, keyinfo_cert_path, no Issuer."""
    r = parse(mint_xml(idp, sig_alg="rsa-sha1", digest_alg="sha1"))
    assert {e.get("Algorithm") for e in r.iter(mint.qname("ds", "SignatureMethod"))} == {RSA_SHA1}
    assert {e.get("Algorithm") for e in r.iter(mint.qname("ds", "DigestMethod"))} == {SHA1}
    r = parse(mint_xml(idp, sign_response=False))
    assert count(r, "ds:Signature") == 0 and count(r, "saml:Assertion/ds:Signature") == 1
    r = parse(mint_xml(idp, sign_assertion=False))
    assert count(r, "ds:Signature") == 1 and count(r, "saml:Assertion/ds:Signature") == 0
    r = parse(mint_xml(idp, keyinfo_cert_path=attacker.cert_path))
    assert {e.text for e in r.iter(mint.qname("ds", "X509Certificate"))} == {
        mint.cert_base64(attacker.cert_pem)}
    r = parse(mint_xml(idp, signing_key_path=attacker.key_path,
                       signing_cert_path=attacker.cert_path))
    assert {e.text for e in r.iter(mint.qname("ds", "X509Certificate"))} == {
        mint.cert_base64(attacker.cert_pem)}
    r = parse(mint_xml(idp, keyinfo_cert_path=None))
    assert count(r, "//ds:KeyInfo") == 0 and count(r, "//ds:SignatureValue") == 2
    r = parse(mint_xml(idp, omit_response_issuer=True))
    assert r[0].tag == mint.qname("ds", "Signature") and count(r, "saml:Issuer") == 0


def test_issuer_id_destination_status_overrides(idp):
    """issuer knobs, IDs, in_response_to, destination and status."""
    r = parse(mint_xml(idp, issuer="http://both.test"))
    assert [e.text for e in r.iter(mint.qname("saml", "Issuer"))] == ["http://both.test"] * 2
    r = parse(mint_xml(idp, response_issuer="http://r.test", assertion_issuer="http://a.test"))
    assert one(r, "saml:Issuer").text == "http://r.test"
    assert one(r, "saml:Assertion/saml:Issuer").text == "http://a.test"
    r = parse(mint_xml(idp, response_id="_r1", assertion_id="_a1", in_response_to="_req",
                       destination="https://elsewhere.test/acs",
                       status="urn:oasis:names:tc:SAML:2.0:status:Requester"))
    assert r.get("ID") == "_r1" and one(r, "saml:Assertion").get("ID") == "_a1"
    assert one(r, "ds:Signature//ds:Reference").get("URI") == "#_r1"
    assert r.get("InResponseTo") == "_req"
    assert one(r, "//saml:SubjectConfirmationData").get("InResponseTo") == "_req"
    assert r.get("Destination") == "https://elsewhere.test/acs"
    assert one(r, "//samlp:StatusCode").get("Value").endswith(":Requester")
    assert "Destination" not in parse(mint_xml(idp, destination=None)).attrib


def test_time_overrides(idp):
    """now, issue instants, Conditions times and AuthnStatement knobs."""
    old = T0 - datetime.timedelta(hours=2)
    r = parse(mint_xml(idp, now=T0, issue_instant=old))
    assert r.get("IssueInstant") == "2030-01-02T01:04:05Z"
    assert one(r, "saml:Assertion").get("IssueInstant") == "2030-01-02T03:04:05Z"
    r = parse(mint_xml(idp, now=T0, assertion_issue_instant=old.replace(tzinfo=None)))
    assert r.get("IssueInstant") == "2030-01-02T03:04:05Z"
    assert one(r, "saml:Assertion").get("IssueInstant") == "2030-01-02T01:04:05Z"
    r = parse(mint_xml(idp, now=T0, not_before=None, not_on_or_after=old,
                       session_not_on_or_after=T0 + datetime.timedelta(hours=8),
                       authn_instant=old, session_index="_s1"))
    cond = one(r, "//saml:Conditions")
    assert "NotBefore" not in cond.attrib and cond.get("NotOnOrAfter") == "2030-01-02T01:04:05Z"
    authn = one(r, "//saml:AuthnStatement")
    assert authn.get("SessionNotOnOrAfter") == "2030-01-02T11:04:05Z"
    assert authn.get("AuthnInstant") == "2030-01-02T01:04:05Z"
    assert authn.get("SessionIndex") == "_s1"


def test_subject_confirmation_overrides(idp):
    """SubjectConfirmation method, its data attributes, omission."""
    r = parse(mint_xml(idp, now=T0, recipient=None, confirmation_method=HOLDER_OF_KEY,
                       confirmation_not_before=T0, confirmation_not_on_or_after=None))
    assert one(r, "//saml:SubjectConfirmation").get("Method") == HOLDER_OF_KEY
    assert dict(one(r, "//saml:SubjectConfirmationData").attrib) == {
        "NotBefore": "2030-01-02T03:04:05Z"}
    r = parse(mint_xml(idp, recipient="https://evil.test/acs"))
    assert one(r, "//saml:SubjectConfirmationData").get("Recipient") == "https://evil.test/acs"
    r = parse(mint_xml(idp, omit_subject_confirmation=True))
    assert count(r, "//saml:SubjectConfirmation") == 0 and count(r, "//saml:NameID") == 1


def test_name_id_overrides(idp):
    """name_id, name_id_format, omit_name_id and the raw NameID splice."""
    r = parse(mint_xml(idp, name_id="carol",
                       name_id_format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"))
    nid = one(r, "//saml:NameID")
    assert nid.text == "carol" and nid.get("Format").endswith(":persistent")
    assert "Format" not in one(parse(mint_xml(idp, name_id_format=None)), "//saml:NameID").attrib
    r = parse(mint_xml(idp, omit_name_id=True))
    assert count(r, "//saml:NameID") == 0 and count(r, "//saml:SubjectConfirmation") == 1
    nid = one(parse(mint_xml(idp, name_id_raw_xml="a@example.com<!--x-->.evil.com")),
              "//saml:NameID")
    assert nid.text == "a@example.com" and isinstance(nid[0], etree._Comment)
    assert nid[0].tail == ".evil.com"


def test_conditions_overrides(idp):
    """audiences, omit_audience_restriction and omit_conditions."""
    r = parse(mint_xml(idp, audiences=["https://a.test", "https://b.test"]))
    assert [e.text for e in r.iter(mint.qname("saml", "Audience"))] == [
        "https://a.test", "https://b.test"]
    r = parse(mint_xml(idp, omit_audience_restriction=True))
    assert count(r, "//saml:Conditions") == 1 and count(r, "//saml:AudienceRestriction") == 0
    assert count(parse(mint_xml(idp, omit_conditions=True)), "//saml:Conditions") == 0


def test_attribute_overrides(idp):
    """attributes: a str or a list per name; empty omits the statement."""
    r = parse(mint_xml(idp, attributes={"email": "x@example.com", "groups": ["A, B", "Ünal"]}))
    attrs = {at.get("Name"): [v.text for v in at] for at in
             r.iter(mint.qname("saml", "Attribute"))}
    assert attrs == {"email": ["x@example.com"], "groups": ["A, B", "Ünal"]}
    assert count(parse(mint_xml(idp, attributes={})), "//saml:AttributeStatement") == 0


def test_structure_overrides(sp, idp):
    """extra_assertion, omit_assertion and encrypt_to_cert_path."""
    r = parse(mint_xml(idp, extra_assertion=True, extra_name_id="admin@example.com"))
    assertions = r.findall("saml:Assertion", NS)
    assert len(assertions) == 2 and assertions[0].get("ID") != assertions[1].get("ID")
    assert [one(a, "saml:Subject/saml:NameID").text for a in assertions] == [
        "alice@example.com", "admin@example.com"]
    assert [one(a, "ds:Signature//ds:Reference").get("URI") for a in assertions] == [
        "#" + a.get("ID") for a in assertions]
    r = parse(mint_xml(idp, omit_assertion=True))
    assert count(r, "saml:Assertion") == 0 and count(r, "ds:Signature") == 1
    r = parse(mint_xml(idp, encrypt_to_cert_path=sp["cert"]))
    assert [c.tag.split("}")[1] for c in r] == ["Issuer", "Signature", "Status",
                                                "EncryptedAssertion"]
    assert count(r, "//saml:Assertion") == 0
    data = one(r, "saml:EncryptedAssertion/xenc:EncryptedData")
    assert one(data, "xenc:EncryptionMethod").get("Algorithm") == \
        "http://www.w3.org/2001/04/xmlenc#aes256-cbc"
    assert one(data, "ds:KeyInfo/xenc:EncryptedKey/xenc:EncryptionMethod").get("Algorithm") == \
        "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"


# --- tamperers ---------------------------------------------------------------------------

def test_tamperers(idp):
    """tamper_text, tamper_attr, remove and strip_signatures change only their target."""
    xml = mint_xml(idp)
    r = parse(mint.tamper_text(xml, "//saml:NameID", "eve@example.com"))
    assert one(r, "//saml:NameID").text == "eve@example.com"
    r = parse(mint.tamper_attr(xml, "/samlp:Response", "Destination", "https://x.test"))
    assert r.get("Destination") == "https://x.test"
    r = parse(mint.tamper_attr(xml, "//saml:Conditions", "NotBefore", None))
    assert "NotBefore" not in one(r, "//saml:Conditions").attrib
    r = parse(mint.remove(xml, "//saml:AudienceRestriction"))
    assert count(r, "//saml:AudienceRestriction") == 0 and count(r, "//saml:Conditions") == 1
    with pytest.raises(ValueError):
        mint.remove(xml, "//saml:EncryptedAssertion")
    r = parse(mint.strip_signatures(xml, "response"))
    assert count(r, "ds:Signature") == 0 and count(r, "//ds:Signature") == 1
    r = parse(mint.strip_signatures(xml, "assertion"))
    assert count(r, "ds:Signature") == 1 and count(r, "//ds:Signature") == 1
    assert count(parse(mint.strip_signatures(xml, "all")), "//ds:Signature") == 0
    assert mint.b64(xml) == base64.b64encode(xml).decode()


def xmlsec_verifies(idp, root, sig):
    """Whether plain xmlsec verifies sig (inside root's tree) with the IdP's certificate."""
    xmlsec.tree.add_ids(root, ["ID"])
    ctx = xmlsec.SignatureContext()
    ctx.key = xmlsec.Key.from_file(idp.cert_path, xmlsec.constants.KeyDataFormatCertPem)
    try:
        ctx.verify(sig)
    except xmlsec.Error:
        return False
    return True


@pytest.mark.parametrize("variant", range(1, 9))
def test_xsw_variants(idp, variant):
    """Each XSW variant: well-formed, victim signed, evil unsigned, placed as documented."""
    xml = mint_xml(idp, name_id="victim@example.com")
    r = parse(mint.wrap_xsw(xml, variant))
    names = [e.text for e in r.iter(mint.qname("saml", "NameID"))]
    assert sorted(names) == ["admin@example.com", "victim@example.com"]
    refs = [e.get("URI")[1:] for e in r.iter(mint.qname("ds", "Reference"))]
    ids = [e.get("ID") for e in r.xpath("//*[@ID]")]
    assert len(ids) == len(set(ids))
    assert all(ref in ids for ref in refs)  # every signature still points at a present element
    # the signed elements still carry the victim; the evil identity is unsigned
    for ref in refs:
        signed = one(r, "//*[@ID='%s']" % ref)
        assert [e.text for e in signed.iter(mint.qname("saml", "NameID"))][0] == \
            "victim@example.com"
    verified = [xmlsec_verifies(idp, r, sig) for sig in r.iter(mint.qname("ds", "Signature"))]
    assert all(verified) == (variant not in (1, 6, 8))
    if variant in (1, 2):
        assert r.get("ID") not in refs and r.get("ID").startswith("_evil")
        assert count(r, "ds:Signature") == 1
        assert count(r, "ds:Signature/samlp:Response" if variant == 1 else "samlp:Response") == 1
    else:
        assert count(r, "ds:Signature") == 0  # the Response signature could not survive
    placement = {
        3: "saml:Assertion[1][not(ds:Signature)]/following-sibling::saml:Assertion/ds:Signature",
        4: "saml:Assertion[not(ds:Signature)]/saml:Assertion/ds:Signature",
        5: "saml:Assertion[ds:Signature]/following-sibling::saml:Assertion[not(ds:Signature)]",
        6: "saml:Assertion/ds:Signature/saml:Assertion",
        7: "samlp:Extensions/saml:Assertion[not(ds:Signature)]",
        8: "saml:Assertion/ds:Signature/ds:Object/saml:Assertion",
    }
    if variant in placement:
        assert count(r, placement[variant]) == 1
    if variant == 7:
        assert r.index(one(r, "samlp:Extensions")) == 1


def test_xsw_needs_what_it_wraps(idp):
    """wrap_xsw refuses inputs without the signature it wraps."""
    with pytest.raises(ValueError):
        mint.wrap_xsw(mint_xml(idp, sign_response=False), 1)
    with pytest.raises(ValueError):
        mint.wrap_xsw(mint_xml(idp, sign_assertion=False), 3)
    with pytest.raises(ValueError):
        mint.wrap_xsw(mint_xml(idp), 9)
    assert "evil@x.test" in mint.wrap_xsw(mint_xml(idp), 3, evil_name_id="evil@x.test").decode()


@pytest.mark.parametrize("kind", ["internal_entity", "external_entity", "billion_laughs"])
def test_add_doctype(idp, kind):
    """add_doctype: a DOCTYPE of each kind, referenced from the NameID."""
    out = mint.add_doctype(mint_xml(idp), kind)
    assert out.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE samlp:Response [')
    tree = parse(out)
    assert tree.getroottree().docinfo.internalDTD is not None
    nid = one(tree, "//saml:NameID")
    assert isinstance(nid[0], etree._Entity)
    if kind == "internal_entity":
        expanded = etree.fromstring(out, etree.XMLParser(no_network=True))
        assert one(expanded, "//saml:NameID").text == "alice@example.com"
    if kind == "external_entity":
        assert b'SYSTEM "file:///etc/hostname"' in out
    if kind == "billion_laughs":
        assert out.count(b"<!ENTITY lol") == 10
