"""Web SSO through a real IdP (SimpleSAMLphp): logins, identity headers, teams, sessions."""
import os
import re
import time
import urllib.parse

import pytest
import requests

from conftest import backend_headers
from ssp_login import LoginError, login, post_form, decode_saml_response

IDENTITY = ["X-Remote-User", "X-Remote-Email", "X-Remote-First-Name", "X-Remote-Last-Name",
            "X-Remote-Org", "X-Remote-Teams"]


def sign_in(stack, client, user, password, path="/acme/"):
    """SP-initiated login from `path`; returns the ACS's answer (not followed)."""
    form = login(client, stack.url(path), user, password)
    return post_form(client, form, allow_redirects=False)


def signed_in_client(stack, user="alice@example.com", password="alicepass"):
    client = requests.Session()
    assert sign_in(stack, client, user, password).status_code == 303
    return client


def test_sp_initiated_login_returns_to_the_page_and_backend_sees_identity(stack, client):
    first = client.get(stack.url("/acme/reports/q3?year=2026&x=%2F"), allow_redirects=False)
    assert first.status_code == 303
    idp_url = urllib.parse.urlsplit(first.headers["Location"])
    assert idp_url.path.endswith("/saml2/idp/SSOService.php")
    query = urllib.parse.parse_qs(idp_url.query)
    relay = query["RelayState"][0]
    assert re.fullmatch(r"[0-9a-f]{64}", relay), "RelayState must be opaque, not the URL"
    assert "no-store" in first.headers["Cache-Control"]

    form = login(client, first.headers["Location"], "alice@example.com", "alicepass")
    assert form["RelayState"] == relay
    assert form["action"] == stack.acs("acme")
    acs = post_form(client, form, allow_redirects=False)
    assert acs.status_code == 303
    assert acs.headers["Location"] == "/acme/reports/q3?year=2026&x=%2F"
    cookie = acs.headers["Set-Cookie"]
    assert re.match(r"cloudsmith_saml_acme=[0-9a-f]{64}; Path=/acme/; HttpOnly; SameSite=Lax",
                    cookie)
    assert "Secure" not in cookie  # plain http on loopback

    page = client.get(stack.url(acs.headers["Location"]))
    assert page.status_code == 200
    assert page.json()["path"] == "/acme/reports/q3?year=2026&x=%2F"
    seen = backend_headers(page)
    assert seen["X-Remote-User"] == "alice@example.com"
    assert seen["X-Remote-Email"] == "alice@example.com"
    assert seen["X-Remote-First-Name"] == "Alice"
    assert seen["X-Remote-Last-Name"] == "Anderson"
    assert seen["X-Remote-Org"] == "acme"
    assert seen["X-Remote-Teams"] == \
        '"developers";role="Member", "operations";role="Manager"'
    assert "cloudsmith_saml_acme" not in seen.get("Cookie", ""), "session secret leaked"


def test_idp_initiated_login_is_accepted_and_follows_a_safe_relay_state(stack, client):
    form = login(client, stack.idp.idp_initiated_url(stack.acs("acme"), "/acme/dash?tab=1"),
                 "bob@example.com", "bobpass")
    assert b"InResponseTo" not in decode_saml_response(form["SAMLResponse"])
    acs = post_form(client, form, allow_redirects=False)
    assert acs.status_code == 303
    assert acs.headers["Location"] == "/acme/dash?tab=1"
    seen = backend_headers(client.get(stack.url("/acme/dash")))
    assert seen["X-Remote-User"] == "bob@example.com"
    assert seen["X-Remote-Teams"] == '"developers";role="Member"'


def test_team_names_with_commas_quotes_and_utf8_cannot_be_confused(stack, client):
    assert sign_in(stack, client, "carol@example.com", "carolpass").status_code == 303
    seen = backend_headers(client.get(stack.url("/acme/")))
    assert seen["X-Remote-User"] == "carol@example.com"
    assert seen["X-Remote-Teams"] == '"Design, UX";role="Member"'
    assert seen["X-Remote-First-Name"] == 'Carol, "CJ"'
    assert seen["X-Remote-Last-Name"] == "Ünal"


def test_access_log_and_remote_user_show_the_user(stack):
    client = signed_in_client(stack, "bob@example.com", "bobpass")
    client.get(stack.url("/acme/access-log-probe"))
    lines = []
    for _ in range(60):  # httpd writes the access log after the response has gone out
        with open(stack.httpd.access_log) as f:
            lines = [l for l in f if "/acme/access-log-probe" in l]
        if lines:
            break
        time.sleep(0.05)
    assert lines and "user=bob@example.com" in lines[-1]


@pytest.mark.parametrize("spoof", [
    {"X-Remote-User": "admin@example.com"},
    {"x-remote-user": "admin@example.com"},
    {"X_Remote_User": "admin@example.com"},
    {"X-REMOTE-TEAMS": '"admins";role="Manager"'},
    {"X_Remote_Org": "globex"},
    {"X-Remote-Email": "admin@example.com", "X-Remote-First-Name": "Eve"},
])
def test_client_sent_identity_headers_never_reach_the_backend(stack, spoof):
    client = signed_in_client(stack, "bob@example.com", "bobpass")
    seen = client.get(stack.url("/acme/"), headers=spoof).json()["headers"]
    names = [k.lower().replace("_", "-") for k, _ in seen]
    for header in IDENTITY:
        assert names.count(header.lower()) <= 1
    by_name = {k.lower(): v for k, v in seen}
    assert by_name["x-remote-user"] == "bob@example.com"
    assert by_name["x-remote-org"] == "acme"
    assert by_name["x-remote-teams"] == '"developers";role="Member"'
    assert "Eve" not in str(seen) and "admin@example.com" not in str(seen)


def test_identity_headers_are_dropped_outside_org_locations_too(stack):
    seen = requests.get(stack.url("/open/x"), headers={
        "X-Remote-User": "admin@example.com", "X_Remote_Teams": "x"}).json()["headers"]
    assert not [k for k, _ in seen if k.lower().replace("_", "-").startswith("x-remote-")]


def test_post_without_session_gets_401_and_never_reaches_backend(stack):
    before = len(stack.backend.requests)
    r = requests.post(stack.url("/acme/api/items"), data={"a": "b"}, allow_redirects=False)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("CloudsmithSAML")
    assert len(stack.backend.requests) == before


def test_head_without_session_redirects_to_idp(stack):
    r = requests.head(stack.url("/acme/x"), allow_redirects=False)
    assert r.status_code == 303
    assert "/saml2/idp/SSOService.php?SAMLRequest=" in r.headers["Location"]


def test_team_requirement_admits_managers_only(stack):
    alice = signed_in_client(stack)
    assert alice.get(stack.url("/acme/ops/")).status_code == 200
    bob = signed_in_client(stack, "bob@example.com", "bobpass")
    before = len(stack.backend.requests)
    assert bob.get(stack.url("/acme/ops/")).status_code == 403
    assert len(stack.backend.requests) == before


def test_endpoints_are_served_by_the_module_not_the_backend(stack):
    before = len(stack.backend.requests)
    meta = requests.get(stack.url("/acme/saml/metadata/"))
    assert meta.status_code == 200
    assert meta.headers["Content-Type"].startswith("application/samlmetadata+xml")
    assert 'entityID="%s"' % stack.acs("acme") in meta.text
    assert 'Location="%s"' % stack.acs("acme") in meta.text
    assert requests.get(stack.url("/acme/saml/nope")).status_code == 404
    assert requests.get(stack.url("/acme/saml/acs/"), allow_redirects=False).status_code == 405
    assert requests.post(stack.url("/acme/saml/login/")).status_code == 405
    assert len(stack.backend.requests) == before


def test_absolute_urls_ignore_the_client_host_header(stack):
    meta = requests.get(stack.url("/acme/saml/metadata/"), headers={"Host": "evil.example"})
    assert "evil.example" not in meta.text
    r = requests.get(stack.url("/acme/x"), headers={"Host": "evil.example"},
                     allow_redirects=False)
    request = decode_saml_response_from_redirect(r.headers["Location"])
    assert stack.acs("acme") in request and "evil.example" not in request


def decode_saml_response_from_redirect(location):
    import base64
    import zlib
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
    return zlib.decompress(base64.b64decode(q["SAMLRequest"][0]), -15).decode()


def test_logout_ends_the_server_side_session(stack):
    client = signed_in_client(stack)
    stolen = client.cookies.get("cloudsmith_saml_acme")
    assert client.get(stack.url("/acme/")).status_code == 200
    out = client.get(stack.url("/acme/saml/logout/"), allow_redirects=False)
    assert out.status_code == 200
    assert "cloudsmith_saml_acme=;" in out.headers["Set-Cookie"]
    assert "Max-Age=0" in out.headers["Set-Cookie"]
    replay = requests.get(stack.url("/acme/"), cookies={"cloudsmith_saml_acme": stolen},
                          allow_redirects=False)
    assert replay.status_code == 303  # back to the IdP: the session is gone server-side


def test_each_login_issues_a_new_session_id(stack):
    client = signed_in_client(stack)
    first = client.cookies.get("cloudsmith_saml_acme")
    again = sign_in(stack, client, "alice@example.com", "alicepass", path="/acme/saml/login/")
    assert again.status_code == 303
    assert client.cookies.get("cloudsmith_saml_acme") != first


def test_a_response_answers_its_request_once(stack, client):
    form = login(client, stack.url("/acme/once"), "alice@example.com", "alicepass")
    assert post_form(client, form, allow_redirects=False).status_code == 303
    mark = stack.httpd.log_mark()
    again = post_form(requests.Session(), form, allow_redirects=False)
    assert again.status_code == 403
    assert "unknown_in_response_to" in again.text
    assert "login refused: unknown_in_response_to" in stack.httpd.log_since(
        mark, "login refused")


def test_an_unsolicited_assertion_is_accepted_once(stack, client):
    form = login(client, stack.idp.idp_initiated_url(stack.acs("acme")), "bob@example.com",
                 "bobpass")
    assert post_form(client, form, allow_redirects=False).status_code == 303
    mark = stack.httpd.log_mark()
    again = post_form(requests.Session(), form, allow_redirects=False)
    assert again.status_code == 403
    assert "assertion_replayed" in again.text
    log = stack.httpd.log_since(mark, "login refused")
    assert "org acme: login refused: assertion_replayed" in log
    assert "client 127.0.0.1" in log


# Each goes through a whole login; the IdP session makes the later ones quick.
OPEN_REDIRECTS = [
    "https://evil.example/", "//evil.example/", "/\\evil.example/", "\\\\evil.example",
    "javascript:alert(1)", "/acme/../globex/", "/acme/%2e%2e/globex/", "/acme/%2F%2Fevil",
    "/globex/", "/acme/\r\nSet-Cookie: x=1", "http://127.0.0.1/acme/", "/acme/\x00",
    "%2Facme%2F", "/acme/%5c%5cevil", " /acme/x",
]


@pytest.mark.parametrize("target", OPEN_REDIRECTS)
def test_login_return_to_outside_the_org_lands_on_the_org_root(stack, client, target):
    start = client.get(stack.url("/acme/saml/login/"), params={"ReturnTo": target},
                       allow_redirects=False)
    assert start.status_code == 303
    form = login(client, start.headers["Location"], "alice@example.com", "alicepass")
    acs = post_form(client, form, allow_redirects=False)
    assert acs.status_code == 303
    assert acs.headers["Location"] == "/acme/"


@pytest.mark.parametrize("target", OPEN_REDIRECTS)
def test_idp_initiated_relay_state_outside_the_org_lands_on_the_org_root(stack, client,
                                                                          target):
    form = login(client, stack.idp.idp_initiated_url(stack.acs("acme")), "alice@example.com",
                 "alicepass")
    form["fields"]["RelayState"] = target
    acs = post_form(client, form, allow_redirects=False)
    assert acs.status_code == 303
    assert acs.headers["Location"] == "/acme/"


def test_login_return_to_inside_the_org_is_kept(stack, client):
    start = client.get(stack.url("/acme/saml/login/"),
                       params={"ReturnTo": "/acme/deep/page?q=a%20b"}, allow_redirects=False)
    form = login(client, start.headers["Location"], "alice@example.com", "alicepass")
    acs = post_form(client, form, allow_redirects=False)
    assert acs.headers["Location"] == "/acme/deep/page?q=a%20b"


def test_enforce_off_serves_anonymous_visitors_without_identity(stack):
    r = requests.get(stack.url("/umbrella/page"), headers={"X-Remote-User": "admin@x.com"},
                     allow_redirects=False)
    assert r.status_code == 200
    assert not [k for k, _ in r.json()["headers"] if k.lower().startswith("x-remote")]


def authn_request_of(location):
    return decode_saml_response_from_redirect(location)


def test_signed_authn_request_and_encrypted_assertion_through_the_real_idp(stack, client):
    first = client.get(stack.url("/hooli/page"), allow_redirects=False)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(first.headers["Location"]).query)
    assert query["SigAlg"] == ["http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"]
    assert query["Signature"][0]
    form = login(client, first.headers["Location"], "alice@example.com", "alicepass")
    xml = decode_saml_response(form["SAMLResponse"])
    assert b"EncryptedAssertion" in xml and b"alice@example.com" not in xml
    acs = post_form(client, form, allow_redirects=False)
    assert acs.status_code == 303 and acs.headers["Location"] == "/hooli/page"
    seen = backend_headers(client.get(stack.url("/hooli/page")))
    assert seen["X-Remote-User"] == "alice@example.com"
    assert seen["X-Remote-Teams"] == '"developers";role="Member"'


def test_idp_refuses_a_request_whose_signature_was_stripped(stack, client):
    first = client.get(stack.url("/hooli/page"), allow_redirects=False)
    parts = urllib.parse.urlsplit(first.headers["Location"])
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query)
             if k not in ("Signature", "SigAlg")]
    unsigned = parts._replace(query=urllib.parse.urlencode(query)).geturl()
    with pytest.raises(LoginError):
        login(client, unsigned, "alice@example.com", "alicepass")
    log = os.path.join(stack.idp.workdir, "log", "simplesamlphp.log")
    with open(log) as f:
        assert "Validation of received messages enabled, but no signature found" in f.read()


def test_force_authn_is_passed_to_the_idp_on_request(stack):
    r = requests.get(stack.url("/acme/saml/login/"), params={"ForceAuthn": "true"},
                     allow_redirects=False)
    assert 'ForceAuthn="true"' in authn_request_of(r.headers["Location"])
    r = requests.get(stack.url("/acme/saml/login/"), allow_redirects=False)
    assert 'ForceAuthn="true"' not in authn_request_of(r.headers["Location"])
