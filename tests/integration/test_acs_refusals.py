"""Every ACS refusal reason, provoked with a crafted response (tests/idp/mint.py) against the
real module: the answer is the reason's status and page, one log line names org, reason,
assertion ID and client, and nothing is stored (no cookie, no session, backend not reached)."""
import base64
import datetime
import re
import urllib.parse
import zlib

import pytest
import requests

import mint
from conftest import backend_headers

NOW = datetime.datetime.now(datetime.timezone.utc)
HOLDER_OF_KEY = "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key"


@pytest.fixture(scope="module")
def attacker(tmp_path_factory, stack):
    """An IdP nobody trusts, claiming to be globex's IdP."""
    return mint.MintIdP(str(tmp_path_factory.mktemp("attacker")),
                        entity_id=stack.mint["globex"].entity_id)


def assert_refused(stack, response, reason, status=403, mark=None):
    assert response.status_code == status, response.text[:300]
    assert "Set-Cookie" not in response.headers
    assert "Reason: <code>%s</code>" % reason in response.text
    assert response.headers["Content-Type"].startswith("text/html")
    assert "no-store" in response.headers["Cache-Control"]
    if mark is not None:
        log = stack.httpd.log_since(mark, "login refused: " + reason)
        line = next(l for l in log.splitlines() if "login refused" in l)
        assert "org " in line and "login refused: " + reason in line, line
        assert "client 127.0.0.1" in line, line
        return line
    return None


def refused(stack, org, b64, reason, status=403, relay_state=None):
    before = len(stack.backend.requests)
    mark = stack.httpd.log_mark()
    r = stack.post_acs(org, b64, relay_state=relay_state)
    line = assert_refused(stack, r, reason, status, mark)
    assert len(stack.backend.requests) == before
    return line


def test_a_well_formed_minted_response_is_accepted(stack):
    client = requests.Session()
    r = stack.post_acs("globex", stack.minted("globex", name_id="dora@globex.test"),
                       session=client)
    assert r.status_code == 303 and r.headers["Location"] == "/globex/"
    seen = backend_headers(client.get(stack.url("/globex/")))
    assert seen["X-Remote-User"] == "dora@globex.test"
    assert seen["X-Remote-Org"] == "globex"


@pytest.mark.parametrize("kw", [dict(sign_response=False), dict(sign_assertion=False)],
                         ids=["assertion-signed-only", "response-signed-only"])
def test_one_valid_signature_is_enough(stack, kw):
    assert stack.post_acs("globex", stack.minted("globex", **kw)).status_code == 303


CASES = {
    # signature
    "unsigned": (dict(sign_response=False, sign_assertion=False), "unsigned"),
    "issuer of another org": (dict(issuer="http://mint-initech.test/metadata"),
                              "issuer_mismatch"),
    "assertion issuer differs": (dict(assertion_issuer="http://evil.test/idp"),
                                 "issuer_mismatch"),
    "status not success": (dict(status="urn:oasis:names:tc:SAML:2.0:status:Requester"),
                           "status_not_success"),
    # destination and recipient
    "destination elsewhere": (dict(destination="https://evil.test/acs"),
                              "destination_mismatch"),
    "signed response without destination": (dict(destination=None), "destination_mismatch"),
    "recipient elsewhere": (dict(recipient="https://evil.test/acs"), "recipient_mismatch"),
    "no recipient": (dict(recipient=None), "recipient_mismatch"),
    "holder-of-key only": (dict(confirmation_method=HOLDER_OF_KEY), "no_bearer_confirmation"),
    "no subject confirmation": (dict(omit_subject_confirmation=True), "no_bearer_confirmation"),
    "bearer with NotBefore": (dict(confirmation_not_before=NOW), "no_bearer_confirmation"),
    "bearer without NotOnOrAfter": (dict(confirmation_not_on_or_after=None),
                                    "no_bearer_confirmation"),
    "bearer expired": (dict(confirmation_not_on_or_after=NOW - datetime.timedelta(minutes=5)),
                       "assertion_expired"),
    # audience
    "audience of another SP": (dict(audiences=["https://other-sp.test/acs/"]),
                               "audience_mismatch"),
    "no audience restriction": (dict(omit_audience_restriction=True), "audience_mismatch"),
    "no conditions": (dict(omit_conditions=True), "audience_mismatch"),
    # time
    "not yet valid": (dict(not_before=NOW + datetime.timedelta(minutes=10)),
                      "assertion_not_yet_valid"),
    "expired conditions": (dict(not_on_or_after=NOW - datetime.timedelta(minutes=5)),
                           "assertion_expired"),
    "issued long ago": (dict(issue_instant=NOW - datetime.timedelta(hours=2)),
                        "issue_instant_out_of_range"),
    "issued in the future": (dict(issue_instant=NOW + datetime.timedelta(hours=2)),
                             "issue_instant_out_of_range"),
    "minted an hour ago": (dict(now=NOW - datetime.timedelta(hours=1)),
                           "issue_instant_out_of_range"),
    # subject
    "nameid not an email": (dict(name_id="alice"), "nameid_invalid"),
    "nameid with a comment": (dict(name_id_raw_xml="alice@globex.test<!---->.evil.test"),
                              "nameid_invalid"),
    "nameid with a space": (dict(name_id="alice @globex.test"), "nameid_invalid"),
    "no nameid": (dict(omit_name_id=True), "nameid_invalid"),
    # structure
    "two assertions": (dict(extra_assertion=True, extra_name_id="admin@globex.test"),
                       "assertion_count"),
    "unknown InResponseTo": (dict(in_response_to="_never_issued_by_us"),
                             "unknown_in_response_to"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_acs_refuses_crafted_response(stack, name):
    overrides, reason = CASES[name]
    line = refused(stack, "globex", stack.minted("globex", assertion_id="_a" + name.replace(
        " ", "_").replace("-", "_"), **overrides), reason)
    if reason not in ("unsigned",):
        assert "response _" in line  # the response ID is known and logged


def test_acs_refuses_a_signature_by_another_key(stack, attacker):
    b64 = attacker.response_b64(stack.acs("globex"), stack.acs("globex"))
    refused(stack, "globex", b64, "signature_invalid")


def test_acs_ignores_the_certificate_a_message_carries(stack, attacker):
    """The attacker signs and ships their own certificate in KeyInfo: still refused."""
    b64 = attacker.response_b64(stack.acs("globex"), stack.acs("globex"),
                                keyinfo_cert_path=attacker.cert_path)
    refused(stack, "globex", b64, "signature_invalid")


def test_acs_refuses_a_nameid_changed_after_signing(stack):
    xml = stack.mint["globex"].response(stack.acs("globex"), stack.acs("globex"),
                                        sign_response=False)
    forged = mint.tamper_text(xml, "//saml:Assertion/saml:Subject/saml:NameID",
                              "admin@globex.test")
    refused(stack, "globex", mint.b64(forged), "signature_invalid")


@pytest.mark.parametrize("variant", range(1, 9))
def test_acs_refuses_signature_wrapping(stack, variant):
    xml = stack.mint["globex"].response(stack.acs("globex"), stack.acs("globex"),
                                        name_id="victim@globex.test")
    forged = mint.wrap_xsw(xml, variant)
    before = len(stack.backend.requests)
    mark = stack.httpd.log_mark()
    r = stack.post_acs("globex", mint.b64(forged))
    assert r.status_code in (400, 403)
    assert "Set-Cookie" not in r.headers
    assert "login refused" in stack.httpd.log_since(mark, "login refused")
    assert len(stack.backend.requests) == before


@pytest.mark.parametrize("kind", ["internal_entity", "external_entity", "billion_laughs"])
def test_acs_refuses_a_dtd_before_any_work(stack, kind):
    xml = stack.mint["globex"].response(stack.acs("globex"), stack.acs("globex"))
    refused(stack, "globex", mint.b64(mint.add_doctype(xml, kind)), "dtd_forbidden", 400)


def test_acs_refuses_a_replayed_assertion(stack):
    b64 = stack.minted("globex")
    assert stack.post_acs("globex", b64).status_code == 303
    refused(stack, "globex", b64, "assertion_replayed")


@pytest.mark.parametrize("body,reason,status", [
    ({"SAMLResponse": "not base64!"}, "bad_base64", 400),
    ({"SAMLResponse": "PHg+"}, "bad_xml", 400),  # "<x>"
    ({"SAMLResponse": base64.b64encode(b"<notxml").decode()}, "bad_xml", 400),
    ({"RelayState": "x"}, "no_saml_response", 400),
    ({"SAMLResponse": ""}, "no_saml_response", 400),
])
def test_acs_refuses_malformed_posts(stack, body, reason, status):
    mark = stack.httpd.log_mark()
    r = requests.post(stack.acs("globex"), data=body, allow_redirects=False)
    assert_refused(stack, r, reason, status, mark)


def test_acs_refuses_a_body_above_the_limit_with_413(stack):
    mark = stack.httpd.log_mark()
    r = requests.post(stack.acs("globex"), data={"SAMLResponse": "A" * (1024 * 1024 + 10)},
                      allow_redirects=False)
    assert_refused(stack, r, "message_too_large", 413, mark)


def test_unsolicited_login_is_refused_where_the_org_says_so(stack):
    refused(stack, "initech", stack.minted("initech"), "unsolicited_not_allowed")


def sp_initiated_request(stack, org, path):
    """GET a protected page; returns (AuthnRequest ID, RelayState) from the redirect."""
    r = requests.get(stack.url(path), allow_redirects=False)
    assert r.status_code == 303
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(r.headers["Location"]).query)
    request = zlib.decompress(base64.b64decode(query["SAMLRequest"][0]), -15).decode()
    return re.search(r' ID="([^"]+)"', request).group(1), query["RelayState"][0]


def test_sp_initiated_login_with_a_minted_answer_returns_to_the_page(stack):
    request_id, relay = sp_initiated_request(stack, "initech", "/initech/reports/7")
    r = stack.post_acs("initech", stack.minted("initech", in_response_to=request_id),
                       relay_state=relay)
    assert r.status_code == 303
    assert r.headers["Location"] == "/initech/reports/7"


def test_in_response_to_must_match_the_pending_request(stack):
    _, relay = sp_initiated_request(stack, "initech", "/initech/a")
    other_id, _ = sp_initiated_request(stack, "initech", "/initech/b")
    refused(stack, "initech", stack.minted("initech", in_response_to=other_id),
            "unknown_in_response_to", relay_state=relay)


def test_a_pending_request_of_one_org_cannot_complete_at_another(stack):
    request_id, relay = sp_initiated_request(stack, "globex", "/globex/x")
    refused(stack, "umbrella", stack.minted("umbrella", in_response_to=request_id),
            "unknown_in_response_to", relay_state=relay)


# Two orgs, two IdPs: neither's responses nor sessions work for the other.

def test_a_response_for_one_org_is_refused_at_another_org_with_the_same_idp(stack):
    """umbrella trusts globex's IdP too, but the response names globex's ACS and audience."""
    b64 = stack.mint["globex"].response_b64(stack.acs("globex"), stack.acs("globex"))
    refused(stack, "umbrella", b64, "destination_mismatch")


def test_a_response_from_another_orgs_idp_is_refused(stack):
    b64 = stack.mint["initech"].response_b64(stack.acs("globex"), stack.acs("globex"))
    refused(stack, "globex", b64, "issuer_mismatch")


def test_a_real_idp_response_for_acme_is_refused_at_globex(stack):
    from ssp_login import login
    client = requests.Session()
    form = login(client, stack.idp.idp_initiated_url(stack.acs("acme")), "alice@example.com",
                 "alicepass")
    refused(stack, "globex", form["SAMLResponse"], "issuer_mismatch")


def test_a_session_of_one_org_does_not_authenticate_another(stack):
    client = requests.Session()
    assert stack.post_acs("globex", stack.minted("globex"), session=client).status_code == 303
    session_id = client.cookies.get("cloudsmith_saml_globex")
    assert client.get(stack.url("/globex/")).status_code == 200
    mark = stack.httpd.log_mark()
    r = requests.get(stack.url("/initech/"), cookies={"cloudsmith_saml_initech": session_id},
                     allow_redirects=False)
    assert r.status_code == 303 and "mint-initech.test" in r.headers["Location"]
    assert "org initech: refused a session of org globex" in stack.httpd.log_since(
        mark, "refused a session")


def test_an_altered_session_cookie_is_refused(stack):
    client = requests.Session()
    assert stack.post_acs("globex", stack.minted("globex"), session=client).status_code == 303
    sid = client.cookies.get("cloudsmith_saml_globex")
    flipped = sid[:-1] + ("0" if sid[-1] != "0" else "1")
    for value in (flipped, sid.upper(), sid + "0", sid[:-2]):
        r = requests.get(stack.url("/globex/"), cookies={"cloudsmith_saml_globex": value},
                         allow_redirects=False)
        assert r.status_code == 303, value


def test_enforce_off_page_carries_identity_only_with_a_session(stack):
    client = requests.Session()
    assert stack.post_acs("umbrella", stack.minted("umbrella", name_id="eve@umbrella.test"),
                          session=client).status_code == 303
    seen = backend_headers(client.get(stack.url("/umbrella/page")))
    assert seen["X-Remote-User"] == "eve@umbrella.test"
    assert seen["X-Remote-Org"] == "umbrella"


def test_attribute_values_with_line_breaks_never_reach_a_header(stack):
    client = requests.Session()
    b64 = stack.minted("globex", attributes={
        "firstName": ["Eve\r\nX-Remote-User: admin@globex.test"],
        "lastName": ["Tab\there"], "groups": ["Dev"]})
    mark = stack.httpd.log_mark()
    assert stack.post_acs("globex", b64, session=client).status_code == 303
    seen = client.get(stack.url("/globex/")).json()["headers"]
    names = [k.lower() for k, _ in seen]
    assert "x-remote-first-name" not in names and "x-remote-last-name" not in names
    assert [v for k, v in seen if k.lower() == "x-remote-user"] == ["alice@example.com"]
    assert "identity header X-Remote-First-Name not set" in stack.httpd.log_since(
        mark, "X-Remote-First-Name not set")


def test_sha1_signatures_are_refused_by_default(stack):
    refused(stack, "globex", stack.minted("globex", sig_alg="rsa-sha1", digest_alg="sha1"),
            "weak_signature_algorithm")


def test_sha1_signatures_are_accepted_where_the_org_allows_them(stack):
    b64 = stack.minted("umbrella", sig_alg="rsa-sha1", digest_alg="sha1")
    assert stack.post_acs("umbrella", b64).status_code == 303
