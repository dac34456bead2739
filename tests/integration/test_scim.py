"""SCIM 2.0 as Okta drives it, against a real Apache + mod_dbd (SQLite, and a private
PostgreSQL), and the SSO lock-out of users SCIM deactivates."""
import concurrent.futures
import os
import shutil
import subprocess
import tempfile
import time

import pytest
import requests

import mint
from conftest import backend_headers
from echo_backend import EchoBackend
from httpd import Httpd, free_port
from pg import PostgresServer

USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error"
TOKEN_TOOL = os.path.join(os.path.dirname(__file__), "..", "..", "cloudsmith-saml-scim-token")


def make_secret(path):
    out = subprocess.run([TOKEN_TOOL, str(path)], check=True, capture_output=True,
                         text=True).stdout
    return [l.strip() for l in out.splitlines() if l.startswith("    ")][0]


class ScimServer:
    def __init__(self, work, module_so, driver):
        self.work = work
        self.pg = PostgresServer().start() if driver == "pgsql" else None
        self.backend = EchoBackend(free_port()).start()
        self.idp = mint.MintIdP(str(work / "idp"), entity_id="http://mint-scim.test/metadata")
        self.secrets = {org: make_secret(work / ("%s.scim" % org))
                        for org in ("acme", "globex", "initech")}
        # httpd's children (www-data) open the database: it lives outside pytest's private
        # (0700) temporary tree.
        self.db_dir = tempfile.mkdtemp(prefix="cs-scim-db-")
        os.chmod(self.db_dir, 0o755)
        if os.geteuid() == 0:
            shutil.chown(self.db_dir, "www-data", "www-data")
        self.db_path = os.path.join(self.db_dir, "store.db")
        orgs = "".join(f"""
<Location /{org}/>
    AuthType CloudsmithSAML
    CloudsmithSAMLOrg {org}
    CloudsmithSAMLIdPMetadataFile {self.idp.metadata_path}
    CloudsmithSAMLSCIM On
    CloudsmithSAMLSCIMTokenHashFile {work}/{org}.scim
    CloudsmithSAMLSCIMRecheckInterval 1
    CloudsmithSAMLMaxBodySize 65536
    Require valid-user
    ProxyPass http://127.0.0.1:{self.backend.port}/{org}/
    {"CloudsmithSAMLSCIMWhenUnavailable Allow" if org == "initech" else ""}
</Location>""" for org in ("acme", "globex", "initech"))
        self.httpd = Httpd(str(work / "httpd"), module_so, orgs, extra_modules=["dbd"],
                           global_conf=f"DBDriver {driver}\nDBDParams \""
                                       f"{self.pg.dbd_params if self.pg else self.db_path}\"\n"
                                       "DBDMin 0\nDBDKeep 2\nDBDMax 8\nDBDExptime 60")

    def start(self):
        try:
            self.httpd.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        self.httpd.stop()
        self.backend.stop()
        if self.pg:
            self.pg.stop()
        shutil.rmtree(self.db_dir, ignore_errors=True)

    def url(self, org, path):
        return "%s/%s/scim/v2%s" % (self.httpd.base_url, org, path)

    def call(self, method, org, path, secret=None, **kw):
        auth = ("token", secret if secret is not None else self.secrets[org])
        kw.setdefault("headers", {}).setdefault("Content-Type", "application/scim+json")
        return requests.request(method, self.url(org, path), auth=auth, timeout=30, **kw)

    def acs(self, org):
        return "%s/%s/saml/acs/" % (self.httpd.base_url, org)

    def sso_login(self, org, user):
        acs = self.acs(org)
        return requests.post(acs, data={"SAMLResponse": self.idp.response_b64(
            acs, acs, name_id=user, attributes={"groups": ["Dev"]})}, allow_redirects=False)


@pytest.fixture(scope="module", params=["sqlite3", "pgsql"])
def scim(request, tmp_path_factory, module_so):
    server = ScimServer(tmp_path_factory.mktemp("scim-" + request.param), module_so,
                        request.param).start()
    yield server
    server.stop()


def okta_user(user_name, given="Test", family="User", active=True, external_id="00u1"):
    """The body Okta POSTs when it pushes a new user."""
    return {"schemas": [USER_URN], "userName": user_name,
            "name": {"givenName": given, "familyName": family},
            "emails": [{"primary": True, "value": user_name, "type": "work"}],
            "displayName": "%s %s" % (given, family), "locale": "en-US",
            "externalId": external_id, "groups": [], "password": "1mz050nq", "active": active}


def deactivate(active):
    return {"schemas": [PATCH_URN], "Operations": [{"op": "replace",
                                                     "value": {"active": active}}]}


def assert_scim_error(r, status, scim_type=None):
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"].startswith("application/scim+json")
    body = r.json()
    assert body["schemas"] == [ERROR_URN] and body["status"] == str(status)
    if scim_type:
        assert body["scimType"] == scim_type
    assert body.get("detail")
    return body


def test_okta_create_sequence_lookup_then_post(scim):
    q = {"filter": 'userName eq "new.user@okta.local"', "startIndex": "1", "count": "100"}
    found = scim.call("GET", "acme", "/Users", params=q)
    assert found.status_code == 200
    assert found.json()["totalResults"] == 0 and found.json()["Resources"] == []
    created = scim.call("POST", "acme", "/Users", json=okta_user("new.user@okta.local"))
    assert created.status_code == 201, created.text
    user = created.json()
    assert created.headers["Location"] == scim.url("acme", "/Users/" + user["id"])
    assert user["meta"]["location"] == created.headers["Location"]
    assert user["meta"]["resourceType"] == "User" and user["meta"]["version"] == 'W/"1"'
    assert created.headers["ETag"] == 'W/"1"'
    assert user["userName"] == "new.user@okta.local" and user["active"] is True
    assert "password" not in user and "password" not in created.text
    assert user["locale"] == "en-US"  # attributes without a column are kept
    again = scim.call("GET", "acme", "/Users", params={
        "filter": 'userName eq "NEW.USER@okta.local"', "startIndex": "1", "count": "100"})
    assert again.json()["totalResults"] == 1
    assert again.json()["Resources"][0]["id"] == user["id"]


def test_profile_update_by_put_and_deactivation_by_patch(scim):
    user = scim.call("POST", "acme", "/Users", json=okta_user("put.me@okta.local")).json()
    body = okta_user("put.me@okta.local", given="Renamed", family="Person")
    put = scim.call("PUT", "acme", "/Users/" + user["id"], json=body)
    assert put.status_code == 200, put.text
    assert put.json()["name"]["givenName"] == "Renamed"
    assert put.json()["meta"]["version"] == 'W/"2"'
    off = scim.call("PATCH", "acme", "/Users/" + user["id"], json=deactivate(False))
    assert off.status_code == 200 and off.json()["active"] is False
    got = scim.call("GET", "acme", "/Users/" + user["id"])
    assert got.json()["active"] is False and got.json()["name"]["givenName"] == "Renamed"
    on = scim.call("PATCH", "acme", "/Users/" + user["id"], json=deactivate(True))
    assert on.json()["active"] is True


def test_duplicate_username_is_a_conflict(scim):
    assert scim.call("POST", "acme", "/Users", json=okta_user("dup@okta.local")).status_code == 201
    assert_scim_error(scim.call("POST", "acme", "/Users", json=okta_user("DUP@okta.local")),
                      409, "uniqueness")


def test_twenty_concurrent_creates_give_one_user(scim):
    def create(_):
        return scim.call("POST", "acme", "/Users", json=okta_user("race@okta.local")).status_code
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(create, range(20)))
    assert codes.count(201) == 1, codes
    assert codes.count(409) == 19, codes


def test_pagination_is_stable_and_clamped(scim):
    for i in range(27):
        assert scim.call("POST", "globex", "/Users",
                         json=okta_user("page%02d@globex.test" % i)).status_code == 201
    seen = []
    for start in (1, 11, 21):
        page = scim.call("GET", "globex", "/Users", params={
            "filter": 'userName sw "page"', "startIndex": start, "count": 10}).json()
        assert page["totalResults"] == 27 and page["startIndex"] == start
        assert page["itemsPerPage"] == len(page["Resources"])
        seen += [u["userName"] for u in page["Resources"]]
    assert seen == ["page%02d@globex.test" % i for i in range(27)]
    clamped = scim.call("GET", "globex", "/Users", params={
        "filter": 'userName sw "page"', "startIndex": -5, "count": 2}).json()
    assert clamped["startIndex"] == 1 and clamped["itemsPerPage"] == 2
    none = scim.call("GET", "globex", "/Users", params={"count": 0}).json()
    assert none["itemsPerPage"] == 0 and none["totalResults"] >= 27


@pytest.mark.parametrize("flt,expect", [
    ('userName eq "op.one@okta.local"', {"op.one"}),
    ('userName ne "op.one@okta.local" and userName sw "op."', {"op.two", "op.three"}),
    ('userName co "two"', {"op.two"}),
    ('userName sw "OP.T"', {"op.two", "op.three"}),
    ('userName ew "three@okta.local"', {"op.three"}),
    ('userName sw "op." and name.givenName pr', {"op.one", "op.two", "op.three"}),
    ('userName sw "op." and externalId gt "x2"', {"op.three"}),
    ('userName sw "op." and externalId ge "x2"', {"op.two", "op.three"}),
    ('userName sw "op." and externalId lt "x2"', {"op.one"}),
    ('userName sw "op." and externalId le "x2"', {"op.one", "op.two"}),
    ('userName sw "op." and not (externalId eq "x2")', {"op.one", "op.three"}),
    ('userName sw "op." and (externalId eq "x1" or externalId eq "x3")', {"op.one", "op.three"}),
    ('emails[type eq "work" and value co "three"]', {"op.three"}),
    ('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "op.two@okta.local"', {"op.two"}),
    ('USERNAME EQ "op.two@okta.local"', {"op.two"}),
    ('userName sw "op." and active eq false', {"op.three"}),
    ('userName co "%"', set()),
    ('userName co "_"', set()),
])
def test_each_filter_operator(scim, flt, expect):
    for i, name in enumerate(("op.one", "op.two", "op.three"), 1):
        scim.call("POST", "acme", "/Users", json=okta_user(
            name + "@okta.local", external_id="x%d" % i, active=i != 3))
    r = scim.call("GET", "acme", "/Users", params={"filter": flt, "count": 100})
    assert r.status_code == 200, r.text
    assert {u["userName"].split("@")[0] for u in r.json()["Resources"]} == expect


@pytest.mark.parametrize("flt", ['userName eq', 'userName zz "x"', '(userName eq "x"',
                                 'userName eq "x" and', 'emails[type eq "work"',
                                 'userName eq "unterminated'])
def test_malformed_filters_are_invalid_filter(scim, flt):
    assert_scim_error(scim.call("GET", "acme", "/Users", params={"filter": flt}), 400,
                      "invalidFilter")


@pytest.mark.parametrize("body,scim_type", [
    (b"not json", "invalidSyntax"),
    (b"[]", "invalidSyntax"),
    (b'{"schemas":["urn:wrong"],"userName":"x@y.z"}', "invalidSyntax"),
    (b'{"schemas":["%s"]}' % USER_URN.encode(), "invalidValue"),
    (b'{"schemas":["%s"],"userName":""}' % USER_URN.encode(), "invalidValue"),
    (b'{"schemas":["%s"],"userName":42}' % USER_URN.encode(), "invalidValue"),
    (b'{"schemas":["%s"],"userName":"t@y.z","active":"yes"}' % USER_URN.encode(),
     "invalidValue"),
])
def test_bad_bodies_are_refused_and_store_nothing(scim, body, scim_type):
    before = scim.call("GET", "acme", "/Users", params={"count": 0}).json()["totalResults"]
    assert_scim_error(scim.call("POST", "acme", "/Users", data=body), 400, scim_type)
    after = scim.call("GET", "acme", "/Users", params={"count": 0}).json()["totalResults"]
    assert after == before


def test_patch_errors_are_all_or_nothing(scim):
    user = scim.call("POST", "acme", "/Users", json=okta_user("atomic@okta.local")).json()
    body = {"schemas": [PATCH_URN], "Operations": [
        {"op": "replace", "path": "displayName", "value": "Changed"},
        {"op": "replace", "path": "id", "value": "mine"}]}
    assert_scim_error(scim.call("PATCH", "acme", "/Users/" + user["id"], json=body), 400,
                      "mutability")
    got = scim.call("GET", "acme", "/Users/" + user["id"]).json()
    assert got["displayName"] == user["displayName"] and got["meta"]["version"] == 'W/"1"'
    assert_scim_error(scim.call("PATCH", "acme", "/Users/" + user["id"], json={
        "schemas": [PATCH_URN], "Operations": [{"op": "remove"}]}), 400, "noTarget")


def test_body_above_the_limit_is_413(scim):
    big = okta_user("big@okta.local")
    big["displayName"] = "x" * 70000
    assert_scim_error(scim.call("POST", "acme", "/Users", json=big), 413)


def test_authentication_is_required_and_per_org(scim):
    for secret in ("wrong", scim.secrets["globex"], ""):
        r = scim.call("GET", "acme", "/Users", secret=secret)
        assert_scim_error(r, 401)
        assert r.headers["WWW-Authenticate"].startswith("Basic realm=")
    r = requests.get(scim.url("acme", "/Users"))
    assert_scim_error(r, 401)
    r = requests.get(scim.url("acme", "/Users"), auth=("admin", scim.secrets["acme"]))
    assert_scim_error(r, 401)
    log = scim.httpd.read_error_log()
    assert scim.secrets["acme"] not in log and scim.secrets["globex"] not in log


def test_tenants_are_isolated(scim):
    a = scim.call("POST", "acme", "/Users", json=okta_user("both@example.com")).json()
    b = scim.call("POST", "globex", "/Users", json=okta_user("both@example.com"))
    assert b.status_code == 201  # the same email may exist in both orgs
    assert_scim_error(scim.call("GET", "globex", "/Users/" + a["id"]), 404)
    assert_scim_error(scim.call("PATCH", "globex", "/Users/" + a["id"],
                                json=deactivate(False)), 404)
    assert_scim_error(scim.call("DELETE", "globex", "/Users/" + a["id"]), 404)
    assert scim.call("GET", "acme", "/Users/" + a["id"]).json()["active"] is True


def test_delete_removes_the_user(scim):
    user = scim.call("POST", "acme", "/Users", json=okta_user("gone@okta.local")).json()
    assert scim.call("DELETE", "acme", "/Users/" + user["id"]).status_code == 204
    assert_scim_error(scim.call("GET", "acme", "/Users/" + user["id"]), 404)


def test_discovery_describes_what_is_supported(scim):
    spc = scim.call("GET", "acme", "/ServiceProviderConfig").json()
    assert spc["patch"]["supported"] is True and spc["filter"]["supported"] is True
    assert spc["bulk"]["supported"] is False
    assert spc["authenticationSchemes"][0]["type"] == "httpbasic"
    types = scim.call("GET", "acme", "/ResourceTypes").json()
    assert types["Resources"][0]["endpoint"] == "/Users"
    schemas = scim.call("GET", "acme", "/Schemas").json()
    assert USER_URN in [s["id"] for s in schemas["Resources"]]
    user_schema = scim.call("GET", "acme", "/Schemas/" + USER_URN).json()
    assert "userName" in [a["name"] for a in user_schema["attributes"]]
    assert_scim_error(scim.call("GET", "acme", "/Groups"), 404)


def test_data_survives_an_apache_restart(scim):
    user = scim.call("POST", "acme", "/Users", json=okta_user("durable@okta.local")).json()
    scim.httpd.stop()
    scim.httpd.start()
    assert scim.call("GET", "acme", "/Users/" + user["id"]).json()["userName"] == \
        "durable@okta.local"


def test_a_deactivated_user_cannot_sign_in_and_their_session_ends(scim):
    user = scim.call("POST", "acme", "/Users", json=okta_user("lock.me@okta.local",
                                                               given="Lock")).json()
    login = scim.sso_login("acme", "lock.me@okta.local")
    assert login.status_code == 303
    sid = login.cookies.get("cloudsmith_saml_acme")
    page = requests.get(scim.httpd.base_url + "/acme/", cookies={"cloudsmith_saml_acme": sid},
                        allow_redirects=False)
    assert page.status_code == 200
    assert scim.call("PATCH", "acme", "/Users/" + user["id"],
                     json=deactivate(False)).status_code == 200
    time.sleep(1.2)  # CloudsmithSAMLSCIMRecheckInterval 1
    mark = scim.httpd.log_mark()
    ended = requests.get(scim.httpd.base_url + "/acme/", cookies={"cloudsmith_saml_acme": sid},
                         allow_redirects=False)
    assert ended.status_code == 303
    assert "session of lock.me@okta.local ended: deactivated by SCIM" in \
        scim.httpd.log_since(mark, "deactivated")
    refused = scim.sso_login("acme", "lock.me@okta.local")
    assert refused.status_code == 403
    assert "Reason: <code>user_deactivated</code>" in refused.text
    assert "deactivated" in refused.text and "Set-Cookie" not in refused.headers
    assert scim.call("PATCH", "acme", "/Users/" + user["id"],
                     json=deactivate(True)).status_code == 200
    assert scim.sso_login("acme", "lock.me@okta.local").status_code == 303


def test_scim_names_fill_headers_the_assertion_lacks(scim):
    scim.call("POST", "acme", "/Users", json=okta_user("named@okta.local", given="Nora",
                                                        family="Nameless"))
    acs = scim.acs("acme")
    r = requests.post(acs, data={"SAMLResponse": scim.idp.response_b64(
        acs, acs, name_id="named@okta.local", attributes={})}, allow_redirects=False)
    assert r.status_code == 303
    seen = backend_headers(requests.get(scim.httpd.base_url + "/acme/",
                                        cookies={"cloudsmith_saml_acme":
                                                 r.cookies.get("cloudsmith_saml_acme")}))
    assert seen["X-Remote-First-Name"] == "Nora" and seen["X-Remote-Last-Name"] == "Nameless"


def test_a_user_unknown_to_scim_still_signs_in(scim):
    assert scim.sso_login("acme", "never.provisioned@okta.local").status_code == 303


def test_scim_paths_never_need_a_saml_login_and_are_not_proxied(scim):
    before = len(scim.backend.requests)
    r = requests.get(scim.url("acme", "/ServiceProviderConfig"), allow_redirects=False)
    assert r.status_code == 401  # Basic, not a redirect to the IdP
    assert scim.call("GET", "acme", "/Nothing").status_code == 404
    assert len(scim.backend.requests) == before


def test_a_dead_database_gives_503_and_sso_fails_closed(scim):
    """Last in this file: it stops the database (PostgreSQL only; SQLite is a file)."""
    if scim.pg is None:
        pytest.skip("SQLite cannot be taken down from outside")
    user = scim.call("POST", "acme", "/Users", json=okta_user("before.outage@okta.local"))
    assert user.status_code == 201
    scim.pg.proc.terminate()
    scim.pg.proc.wait(30)
    r = scim.call("GET", "acme", "/Users/" + user.json()["id"])
    assert_scim_error(r, 503)
    login = scim.sso_login("acme", "before.outage@okta.local")
    assert login.status_code == 503
    assert "Reason: <code>user_store_unavailable</code>" in login.text
    assert "Set-Cookie" not in login.headers
    # An org that chose availability over the lock-out check lets the login through.
    assert scim.sso_login("initech", "before.outage@okta.local").status_code == 303
