#!/usr/bin/python3
"""Regenerates the seed corpora in tests/fuzz/corpus/ (they are committed; run this only to
change them). The ACS corpora need Debian's python3-lxml and python3-xmlsec (as
tests/idp/mint.py does); the others only Python.

    /usr/bin/python3 tests/fuzz/make_seeds.py [CORPUS...]    (default: all of them)

Naming corpora (acs, returnto, cookie, session_record, identity_header, scim_filter) rewrites
only those: the minted ACS responses differ on every run, so regenerate them only to change
them.

ACS seeds: the genuine Okta responses (../shared/saml-fixtures/okta/crewjam), decoded;
variants of them re-timed or with the assertion decrypted in place; and responses minted by
tests/idp/mint.py that claim the Okta issuer, SP and time (signed by the mint key, so the
Okta SP refuses their signatures, but they give the fuzzer other shapes: unencrypted and
SHA-1 signatures, signature wrapping, a DOCTYPE, two assertions, a failed status).
"""
import base64
import datetime
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "tests", "idp"))

OKTA = os.path.join(TOP, "..", "shared", "saml-fixtures", "okta", "crewjam")
OKTA_ISSUER = "http://www.okta.com/exkppsa1qwuFV4D7z0h7"
OKTA_ACS = "http://localhost:8000/saml/acs"
OKTA_SP = "http://localhost:8000/saml/metadata"
FIXTURE_NOW = datetime.datetime(2020, 3, 3, 19, 24, 29, tzinfo=datetime.timezone.utc)
FIXTURES = {
    "okta_signed_response": "TestSPCanHandleOktaSignedResponseEncryptedAssertion_response",
    "okta_signed_assertion": "TestSPCanHandleOktaResponseEncryptedSignedAssertion_response",
    "okta_both_signed": "TestSPCanHandleOktaResponseEncryptedAssertionBothSigned_response",
}
NS = {"xenc": "http://www.w3.org/2001/04/xmlenc#",
      "saml2": "urn:oasis:names:tc:SAML:2.0:assertion"}


def corpus(name):
    path = os.path.join(HERE, "corpus", name)
    os.makedirs(path, exist_ok=True)
    for old in os.listdir(path):
        os.unlink(os.path.join(path, old))
    return path


def write(directory, name, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def okta(name):
    with open(os.path.join(OKTA, FIXTURES[name]), "rb") as f:
        return f.read()


def retime(xml, old, new):
    """Every instant starting with old (YYYY-MM-DDThh:mm) moved to new."""
    return xml.replace(old.encode(), new.encode())


def decrypt_in_place(xml):
    """The response with its EncryptedAssertion replaced by the plaintext Assertion."""
    from lxml import etree
    import xmlsec
    root = etree.fromstring(xml)
    ea = root.find(".//saml2:EncryptedAssertion", NS)
    ek = ea.find(".//xenc:EncryptedKey", NS)
    manager = xmlsec.KeysManager()
    manager.add_key(xmlsec.Key.from_file(os.path.join(OKTA, "sp_key.pem"),
                                         xmlsec.constants.KeyDataFormatPem))
    sym = xmlsec.EncryptionContext(manager).decrypt(ek)
    ctx = xmlsec.EncryptionContext()
    ctx.key = xmlsec.Key.from_binary_data(xmlsec.constants.KeyDataAes, sym)
    ctx.decrypt(ea.find("xenc:EncryptedData", NS))
    assertion = ea.find("saml2:Assertion", NS)
    ea.addprevious(assertion)
    ea.getparent().remove(ea)
    return b'<?xml version="1.0" encoding="UTF-8"?>' + etree.tostring(root)


def minted(workdir):
    import mint
    idp = mint.MintIdP(workdir, entity_id=OKTA_ISSUER)
    sp_cert = os.path.join(OKTA, "sp_cert.pem")

    def response(**kw):
        return idp.response(OKTA_ACS, OKTA_SP, name_id="testuser@testrsc.com",
                            now=FIXTURE_NOW, **kw)

    out = {
        "mint_both_signed": response(),
        "mint_encrypted": response(encrypt_to_cert_path=sp_cert),
        "mint_encrypted_aes128": response(encrypt_to_cert_path=sp_cert,
                                          encryption_cipher="aes128-cbc",
                                          sign_response=False),
        "mint_sha1": response(sig_alg="rsa-sha1", digest_alg="sha1"),
        "mint_unsigned": response(sign_response=False, sign_assertion=False),
        "mint_status_failed": response(status="urn:oasis:names:tc:SAML:2.0:status:Requester"),
        "mint_two_assertions": response(extra_assertion=True),
        "mint_attributes": response(attributes={
            "groups": ["Dev", "Ops", "Design, UX"], "firstName": ["Carol, \"CJ\""],
            "lastName": ["\u00dcnal"], "email": ["testuser@testrsc.com"]},
            session_not_on_or_after=FIXTURE_NOW + datetime.timedelta(hours=8)),
        "mint_in_response_to": response(
            in_response_to="id-a7364d1e4432aa9085a7a8bd824ea2fa8fa8f684"),
        "mint_doctype": mint.add_doctype(response()),
    }
    for variant in (1, 3, 5, 7):
        out["mint_xsw%d" % variant] = mint.wrap_xsw(response(), variant)
    return out


def acs_corpora():
    xml_dir, nosig_dir, b64_dir = corpus("acs_xml"), corpus("acs_nosig"), corpus("acs_b64")
    decoded = {name: base64.b64decode(okta(name)) for name in FIXTURES}
    for name, xml in decoded.items():
        write(xml_dir, name + ".xml", xml)
        write(b64_dir, name + ".b64", okta(name))
    # the two later fixtures moved to the fuzzers' clock (signatures no longer match)
    write(xml_dir, "okta_signed_assertion_retimed.xml",
          retime(decoded["okta_signed_assertion"], "2020-03-03T19:3", "2020-03-03T19:2"))
    write(xml_dir, "okta_both_signed_retimed.xml",
          retime(decoded["okta_both_signed"], "2020-03-03T19:4", "2020-03-03T19:2"))
    # base64 as browsers and IdPs send it: wrapped lines, CRLF
    b64 = base64.encodebytes(decoded["okta_signed_response"]).replace(b"\n", b"\r\n")
    write(b64_dir, "okta_signed_response_wrapped.b64", b64)
    with tempfile.TemporaryDirectory() as work:
        for name, xml in minted(work).items():
            write(xml_dir, name + ".xml", xml)
            if name in ("mint_both_signed", "mint_attributes", "mint_two_assertions",
                        "mint_unsigned", "mint_in_response_to"):
                write(nosig_dir, name + ".xml", xml)
    write(nosig_dir, "okta_signed_response_decrypted.xml",
          decrypt_in_place(decoded["okta_signed_response"]))


def returnto_corpus():
    # first byte picks the org root: '0' /acme/, '1' /, '2' /orgs/acme-corp_2/, '3' /a/
    d = corpus("returnto")
    payloads = [
        "0/acme/", "0/acme/page?x=1&y=%20z#frag", "0/acme/caf%C3%A9", "0/acme/...",
        "0/acme/.well-known/x", "0/acme/x:y@z;v=1", "0/acme/?next=//x", "0/acme/r?x=%2F&v=1%2e0",
        "0https://evil.com", "0//evil.com", "0///evil.com/", "0/acme//evil.com",
        "0/\\evil.com", "0/acme/\\evil", "0/%5cevil.com", "0/acme/%2f%2fevil.com",
        "0/acme/%2e%2e/other/", "0/acme/%252e%252e/", "0/acme/../other/", "0/acme/..;/other/",
        "0/acme/.;x/y", "0/acme/\r\nLocation: x", "0/acme/%0d%0aSet-Cookie:x=1",
        "0/acme/\t/evil.com", "0/\xef\xbc\x8fevil.com", "0/acme/\xe3\x80\x80x",
        "0javascript:alert(1)", "0http:%2f%5cwww.malicious.com", "0/acme/?q=%", "0/acme/%",
        "0?/acme/", "0#/acme/x", "0/acmeevil/", "1/x/y", "1//evil.com", "1/..",
        "2/orgs/acme-corp_2/deep/link?q=1", "2/orgs/acme-corp_2/../x", "3/a/b;c=d/e",
    ]
    for i, p in enumerate(payloads):
        write(d, "payload%02d" % i, p.encode("latin-1") if all(ord(c) < 256 for c in p) else p)


def cookie_corpus():
    # first byte picks the org: '0' acme, '1' a, '2' acme-corp_2, '3' acme2
    d = corpus("cookie")
    sid = "0123456789abcdef" * 4
    headers = [
        "0cloudsmith_saml_acme=" + sid,
        "0a=1; cloudsmith_saml_acme=" + sid + "; b=2",
        "0 cloudsmith_saml_x=1 ;cloudsmith_saml_y=2;c=3 ",
        "0a=1;;b", "0cloudsmith_saml_acme=bad; cloudsmith_saml_acme=" + sid,
        "0cloudsmith_saml_acme =\t" + sid + "\t", "0xcloudsmith_saml_a=1",
        "3cloudsmith_saml_acme=" + sid + "; cloudsmith_saml_acme2=" + sid.upper(),
        "1a;b;c;cloudsmith_saml_a=" + sid, "0$Version=1; cloudsmith_saml_acme=\"" + sid + "\"",
    ]
    for i, h in enumerate(headers):
        write(d, "header%02d" % i, h)


def session_record_corpus():
    d = corpus("session_record")
    records = [
        '{"org":"acme","sp":"https://sso.example.com/acme/saml/acs/","user":"alice@example.com",'
        '"email":"alice@example.com","first_name":"Alice","last_name":"Anderson",'
        '"idp_entity_id":"http://idp/metadata","session_index":"_abc","teams":[{"team":"dev",'
        '"role":"Member"},{"team":"ops","role":"Manager"}],"created":1583263469000000,'
        '"expires":1583292269000000,"checked":1583263529000000}',
        '{"org":"acme","user":"bob@example.com","teams":[],"expires":1}',
        '{"org":"acme","user":"b","teams":null,"created":null,"expires":-9223372036854775808}',
        '{"org":"acme","user":"\\u00dcnal \\ud83d\\ude00","teams":[{"team":"Design, UX",'
        '"role":"Member"}],"expires":9223372036854775807}',
        '{"org":"acme","request_id":"_0123","return_to":"/acme/page?x=1",'
        '"expires":1583263469000000}',
        '{"org":"acme","org":"evil","user":"x","expires":1}',
        '{"org":"acme","user":"x","expires":1} trailing',
        '{"org":"acme","user":"x","expires":1.5}',
        '{"org":"acme","user":"x","teams":[{"team":"t","role":"Owner"}],"expires":1}',
        '[1,2,3]',
    ]
    for i, r in enumerate(records):
        write(d, "record%02d" % i, r)


def identity_header_corpus():
    # identity_header_value() takes the input up to its first NUL; identity_header_teams()
    # takes NUL-separated team names (odd first byte: Manager)
    d = corpus("identity_header")
    values = [b"alice@example.com", b"  Alice  ", b"Carol, \"CJ\"", "\u00dcnal".encode(),
              b"evil\r\nX-Remote-User: admin", b"tab\there", b"\xc3\x28", b"\xed\xa0\x80",
              b"\xf4\x90\x80\x80", b"dev\x00ops\x00Design, UX\x00\xc3\x9cnal\x00q\"uo\\te",
              b"a\x7fb\x00%\"\x00\xe2\x80\xae" + "rtl".encode()]
    for i, v in enumerate(values):
        write(d, "value%02d" % i, v)


def scim_filter_corpus():
    # SCIM ?filter= values (the target also reads each as a PATCH path)
    d = corpus("scim_filter")
    filters = [
        # what Okta sends: a userName lookup before each create, and its variants
        'userName eq "a@b.com"', 'userName eq "isaac.brock@example.com"',
        'userName eq "O\'Brien+okta@Example.COM"', 'externalId eq "00u1abcdEFGH5d7"',
        # every operator, on columns of each kind
        'userName ne "a@b.com"', 'displayName co "Ada"', 'name.givenName sw "A"',
        'name.familyName ew "nal"', 'userName gt "m"', 'userName ge "M"',
        'name.formatted lt "Z"', 'displayName le "b"', 'externalId pr', 'title pr',
        'active eq true', 'active ne False', 'active pr',
        'meta.lastModified gt "2011-05-13T04:42:34Z"',
        'meta.created ge "2024-01-31T09:00:00.5+01:00"',
        'meta.created lt "2024-01-31T09:00:00-14:00" and meta.created le "9999-12-31T23:59:59Z"',
        'displayName eq null', 'externalId ne null', 'emails eq null', 'emails ne null',
        # emails: value paths, sub-attributes, the multi-valued shorthand
        'emails[type eq "work" and value co "@x"]', 'emails[primary eq true]',
        'emails[not (type eq "home") or value ew ".org"]', 'emails co "example.com"',
        'emails.value sw "a@"', 'emails.type eq "work" and emails.primary eq true',
        'emails.display pr', 'emails pr', 'phoneNumbers[type eq "mobile"]',
        # URN-qualified names
        'urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"',
        'urn:ietf:params:scim:schemas:core:2.0:User:name.familyName eq "jensen"',
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"',
        'URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:manager.value eq "26"',
        'urn:example:custom:1.0:User:costCode eq "x"',
        # not / and / or with parentheses, precedence, case
        'not (active eq false) and (userName sw "a" or emails co "@example.com")',
        'a pr or b pr and c pr', '((a pr or b pr) and not (not (c pr)))',
        'USERNAME EQ "A@B.COM" AND Active Eq TRUE Or NOT(title PR)',
        'userType eq "Employee" and emails[type eq "work" and value co "@example.com"]',
        'not eq "x"', ' \t(userName\teq"x")\r\n',
        # literals: escapes, non-ASCII, numbers, LIKE and GLOB metacharacters
        'displayName eq "Caf\\u00e9 \\ud83d\\ude00 \\"q\\" \\\\ \\/ \\b\\f\\n\\r\\t"',
        'displayName eq "\u00dcnal \u2603"', 'loginCount gt 4.2e1', 'x eq -0.5E+3',
        'userName co "50%_off!"', 'externalId sw "Ab*?[x]%_!"', 'id ew "]*"',
        # PATCH paths
        'emails[type eq "work"].value', 'name.givenName',
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value',
        # refused
        'userName eq', '(userName pr', 'emails[type[value pr]]', 'a eq "\\ud83d"',
        'active gt true', 'meta.created gt "yesterday"', 'userName pr xor title pr',
    ]
    for i, f in enumerate(filters):
        write(d, "filter%02d" % i, f)


CORPORA = {
    "acs": acs_corpora,
    "returnto": returnto_corpus,
    "cookie": cookie_corpus,
    "session_record": session_record_corpus,
    "identity_header": identity_header_corpus,
    "scim_filter": scim_filter_corpus,
}


if __name__ == "__main__":
    for name in sys.argv[1:] or CORPORA:
        if name not in CORPORA:
            sys.exit("make_seeds.py: no corpus %s (%s)" % (name, ", ".join(CORPORA)))
        CORPORA[name]()
    for name in sorted(os.listdir(os.path.join(HERE, "corpus"))):
        files = os.listdir(os.path.join(HERE, "corpus", name))
        size = sum(os.path.getsize(os.path.join(HERE, "corpus", name, f)) for f in files)
        print("%-16s %3d files %7d bytes" % (name, len(files), size))
