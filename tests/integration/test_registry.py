"""Orgs from the registry (CloudsmithSAMLOrgFromPath On): one LocationMatch serves every org the
database holds, and what cloudsmith-saml-admin changes takes effect without a restart."""
import os
import shutil
import subprocess
import tempfile
import time

import pytest
import requests

import mint
from echo_backend import EchoBackend
from httpd import Httpd, free_port
from pg import PostgresServer

HERE = os.path.dirname(os.path.abspath(__file__))
ADMIN = os.path.join(HERE, "..", "..", "cloudsmith-saml-admin")
PUBLIC = "http://registry.test"
REFRESH_S = 1
SLUG_RE = "[a-z0-9][a-z0-9-]*"


def acs(org):
    return "%s/%s/saml/acs/" % (PUBLIC, org)


class RegistryServer:
    def __init__(self, work, module_so, driver):
        self.driver = driver
        self.pg = PostgresServer().start() if driver == "pgsql" else None
        self.backend = EchoBackend(free_port()).start()
        self.idp_a = mint.MintIdP(str(work / "idp-a"), entity_id="http://mint-reg-a.test/metadata")
        self.idp_b = mint.MintIdP(str(work / "idp-b"), entity_id="http://mint-reg-b.test/metadata")
        # httpd's children (www-data) write the database: outside pytest's private temp tree
        self.db_dir = tempfile.mkdtemp(prefix="cs-registry-db-")
        os.chmod(self.db_dir, 0o755)
        if os.geteuid() == 0:
            shutil.chown(self.db_dir, "www-data", "www-data")
        self.db = self.pg.dbd_params if self.pg else os.path.join(self.db_dir, "store.db")
        self.site = f"""
<LocationMatch "^/{SLUG_RE}/">
    AuthType CloudsmithSAML
    CloudsmithSAMLOrgFromPath On
    CloudsmithSAMLBaseURL {PUBLIC}
    CloudsmithSAMLOrgRefreshInterval {REFRESH_S}
    Require valid-user
</LocationMatch>
<Location /fixed/>
    AuthType CloudsmithSAML
    CloudsmithSAMLOrg fixed
    CloudsmithSAMLIdPMetadataFile {self.idp_a.metadata_path}
    CloudsmithSAMLBaseURL {PUBLIC}
    Require valid-user
</Location>
ProxyPassMatch "^/({SLUG_RE}/.*)$" "http://127.0.0.1:{self.backend.port}/$1"
"""
        self.httpd = self.make_httpd(work / "httpd", module_so)
        self.others = []

    def make_httpd(self, workdir, module_so):
        return Httpd(str(workdir), module_so, self.site, extra_modules=["dbd"],
                     global_conf=f'DBDriver {self.driver}\nDBDParams "{self.db}"\n'
                                 "DBDMin 0\nDBDKeep 2\nDBDMax 8\nDBDExptime 60")

    def stop(self):
        for h in [self.httpd] + self.others:
            h.stop()
        self.backend.stop()
        if self.pg:
            self.pg.stop()
        shutil.rmtree(self.db_dir, ignore_errors=True)

    def admin(self, *args, stdin=None, expect=0):
        """Runs cloudsmith-saml-admin as the web server's user (SQLite's files stay theirs)."""
        env = dict(os.environ, CLOUDSMITH_SAML_DBD_DRIVER=self.driver,
                   CLOUDSMITH_SAML_DBD_PARAMS=self.db)
        cmd = [ADMIN, *args]
        if os.geteuid() == 0 and not self.pg:
            cmd = ["runuser", "-u", "www-data", "--", "env",
                   "CLOUDSMITH_SAML_DBD_PARAMS=" + self.db] + cmd
        p = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=60,
                           env=env)
        assert p.returncode == expect, (args, p.returncode, p.stdout, p.stderr)
        return p.stdout + p.stderr

    def org(self, slug, idp=None, enable=True, enforce=True):
        self.admin("org", "create", slug)
        if idp:
            self.set_metadata(slug, idp)
        if enable:
            self.admin("org", "enable", slug)
        if not enforce:
            self.admin("org", "enforce", slug, "off")

    def sql(self, statement):
        """One statement straight into the database, behind the admin command's back."""
        if self.pg:
            cmd = ["psql", "-h", "127.0.0.1", "-p", str(self.pg.port), "-U", "scim", "-d",
                   "scim", "-v", "ON_ERROR_STOP=1", "-c", statement]
            env = dict(os.environ, PGPASSWORD=self.pg.password)
        else:
            cmd = ["sqlite3", self.db, statement]
            env = None
            if os.geteuid() == 0:
                cmd = ["runuser", "-u", "www-data", "--"] + cmd
        subprocess.run(cmd, check=True, capture_output=True, env=env)

    def set_metadata(self, slug, idp):
        with open(idp.metadata_path) as f:  # (the file is in pytest's private tree)
            self.admin("org", "metadata", slug, "-", stdin=f.read())

    def get(self, path, sid=None, org=None, **kw):
        cookies = {"cloudsmith_saml_" + org: sid} if sid else None
        return requests.get(self.httpd.base_url + path, cookies=cookies,
                            allow_redirects=False, timeout=30, **kw)

    def login(self, org, idp, user="alice@example.com", expect=303, **kw):
        r = requests.post(self.httpd.base_url + "/%s/saml/acs/" % org, allow_redirects=False,
                          data={"SAMLResponse": idp.response_b64(acs(org), acs(org),
                                                                 name_id=user, **kw)},
                          timeout=30)
        assert r.status_code == expect, r.text[-500:]
        return r.cookies.get("cloudsmith_saml_" + org)

    def backend_saw(self, path):
        seen = [req for req in self.backend.requests if req["path"] == path]
        return {k.lower(): v for k, v in seen[-1]["headers"]} if seen else None


@pytest.fixture(scope="module", params=["sqlite3", "pgsql"])
def reg(request, tmp_path_factory, module_so):
    server = RegistryServer(tmp_path_factory.mktemp("registry-" + request.param), module_so,
                            request.param)
    server.admin("org", "list")  # creates the schema before httpd's children touch it
    try:
        server.httpd.start()
    except BaseException:
        server.stop()
        raise
    yield server
    server.stop()


def wait_for_refresh():
    time.sleep(REFRESH_S + 0.5)


def test_an_org_not_in_the_registry_gets_404_and_never_reaches_the_backend(reg):
    mark = reg.httpd.log_mark()
    r = reg.get("/nosuch/page", headers={"X-Remote-User": "admin@example.com"})
    assert r.status_code == 404
    assert "no organization at this address" in r.text
    assert reg.backend_saw("/nosuch/page") is None
    assert "org nosuch is not in the org registry: 404" in reg.httpd.log_since(mark, "nosuch")


def test_a_registry_org_signs_in_and_the_backend_gets_its_identity(reg):
    reg.org("acme", reg.idp_a)
    r = reg.get("/acme/page")
    assert r.status_code == 303
    assert r.headers["Location"].startswith("http://mint-reg-a.test/metadata/sso?SAMLRequest=")
    sid = reg.login("acme", reg.idp_a, user="alice@example.com")
    r = reg.get("/acme/page", sid, "acme")
    assert r.status_code == 200
    seen = reg.backend_saw("/acme/page")
    assert seen["x-remote-user"] == "alice@example.com"
    assert seen["x-remote-org"] == "acme"
    md = reg.get("/acme/saml/metadata/")
    assert md.status_code == 200 and 'entityID="%s"' % acs("acme") in md.text


def test_a_session_of_one_registry_org_does_not_open_another(reg):
    reg.org("acme2", reg.idp_a)
    sid = reg.login("acme2", reg.idp_a)
    reg.org("other", reg.idp_a)
    assert reg.get("/other/page", sid, "other").status_code == 303


def test_group_sync_and_metadata_changes_apply_without_restart(reg):
    reg.org("globex", reg.idp_a)
    sid = reg.login("globex", reg.idp_a, attributes={"groups": ["Dev"]})
    assert reg.get("/globex/t1", sid, "globex").status_code == 200
    assert reg.backend_saw("/globex/t1")["x-remote-teams"] == ""
    mark = reg.httpd.log_mark()
    reg.admin("org", "groupsync-add", "globex", "groups", "Dev", "developers", "Manager")
    reg.admin("org", "groupsync", "globex", "on")
    wait_for_refresh()
    sid = reg.login("globex", reg.idp_a, attributes={"groups": ["Dev"]})
    assert reg.get("/globex/t2", sid, "globex").status_code == 200
    assert reg.backend_saw("/globex/t2")["x-remote-teams"] == '"developers";role="Manager"'
    assert "org globex: registry change picked up" in reg.httpd.log_since(mark, "picked up")
    # The org moves to another IdP: the old one's responses stop working, the new one's work.
    reg.set_metadata("globex", reg.idp_b)
    wait_for_refresh()
    mark = reg.httpd.log_mark()
    reg.login("globex", reg.idp_a, expect=403)
    assert "login refused" in reg.httpd.log_since(mark, "login refused")
    assert reg.login("globex", reg.idp_b)


def test_an_org_with_saml_disabled_passes_requests_without_identity(reg):
    reg.org("beta", reg.idp_a, enable=False)
    r = reg.get("/beta/page", headers={"X-Remote-User": "admin@example.com"})
    assert r.status_code == 200
    assert "x-remote-user" not in reg.backend_saw("/beta/page")
    r = reg.get("/beta/saml/login/")
    assert r.status_code == 404 and "not enabled" in r.text
    # Enabled later: the same pages now need a login.
    reg.admin("org", "enable", "beta")
    wait_for_refresh()
    assert reg.get("/beta/page").status_code == 303


def test_an_org_not_enforced_serves_anonymous_and_signed_in_users(reg):
    reg.org("gamma", reg.idp_a, enforce=False)
    assert reg.get("/gamma/anon").status_code == 200
    assert "x-remote-user" not in reg.backend_saw("/gamma/anon")
    sid = reg.login("gamma", reg.idp_a, user="bob@example.com")
    assert reg.get("/gamma/named", sid, "gamma").status_code == 200
    assert reg.backend_saw("/gamma/named")["x-remote-user"] == "bob@example.com"


def test_a_deleted_org_is_gone_with_its_sessions(reg):
    reg.org("delta", reg.idp_a)
    sid = reg.login("delta", reg.idp_a)
    assert reg.get("/delta/before", sid, "delta").status_code == 200
    reg.admin("org", "delete", "delta")
    wait_for_refresh()
    assert reg.get("/delta/after", sid, "delta").status_code == 404
    assert reg.backend_saw("/delta/after") is None


def test_scim_of_a_registry_org_follows_its_secret(reg):
    reg.org("sigma", reg.idp_a)
    out = reg.admin("org", "scim-rotate", "sigma")
    secret = [line.strip() for line in out.splitlines() if line.startswith("    ")][0]
    reg.admin("org", "scim", "sigma", "on")
    url = reg.httpd.base_url + "/sigma/scim/v2/Users"
    wait_for_refresh()
    assert requests.get(url, auth=("token", secret), timeout=30).status_code == 200
    assert requests.get(url, auth=("token", secret + "x"), timeout=30).status_code == 401
    reg.admin("org", "scim-rotate", "sigma")
    wait_for_refresh()
    assert requests.get(url, auth=("token", secret), timeout=30).status_code == 401
    assert reg.backend_saw("/sigma/scim/v2/Users") is None


def test_an_org_whose_metadata_lasso_refuses_gets_503(reg):
    # The admin command refuses bad metadata; a row changed behind its back still fails
    # closed, with the reason in the log.
    reg.org("broken", reg.idp_a)
    reg.sql("UPDATE orgs SET idp_metadata_xml = '<md:EntityDescriptor xmlns:md=\""
            "urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"x\"/>', version = version + 1000 "
            "WHERE slug = 'broken'")
    mark = reg.httpd.log_mark()
    r = reg.get("/broken/page")
    assert r.status_code == 503 and "not set up correctly" in r.text
    assert "cannot build its SAML service provider" in reg.httpd.log_since(mark, "cannot build")
    assert reg.backend_saw("/broken/page") is None


def test_an_org_declared_in_httpd_conf_keeps_its_own_section(reg):
    sid = reg.login("fixed", reg.idp_a, user="carol@example.com")
    assert reg.get("/fixed/page", sid, "fixed").status_code == 200
    assert reg.backend_saw("/fixed/page")["x-remote-user"] == "carol@example.com"


def test_a_change_reaches_every_server_sharing_the_registry(reg, tmp_path, module_so):
    other = reg.make_httpd(tmp_path / "second", module_so)
    reg.others.append(other.start())
    reg.org("shared", reg.idp_a)
    sid = reg.login("shared", reg.idp_a)
    assert reg.get("/shared/x", sid, "shared").status_code == 200
    assert requests.get(other.base_url + "/shared/x", allow_redirects=False,
                        timeout=30).status_code == 303
    reg.admin("org", "enforce", "shared", "off")
    wait_for_refresh()
    for server in (reg.httpd, other):
        assert requests.get(server.base_url + "/shared/anon", allow_redirects=False,
                            timeout=30).status_code == 200


def test_a_dead_database_keeps_loaded_orgs_and_refuses_unknown_ones(reg):
    """Last of the module's tests: it stops PostgreSQL (SQLite is a file)."""
    if reg.pg is None:
        pytest.skip("SQLite cannot be taken down from outside")
    reg.org("steady", reg.idp_a)
    sid = reg.login("steady", reg.idp_a)
    assert reg.get("/steady/before", sid, "steady").status_code == 200
    reg.pg.proc.terminate()
    reg.pg.proc.wait(30)
    wait_for_refresh()
    mark = reg.httpd.log_mark()
    assert reg.get("/steady/after", sid, "steady").status_code == 200
    assert "cannot check the org registry for changes" in reg.httpd.log_since(mark, "registry")
    r = reg.get("/newcomer/page")
    assert r.status_code == 503 and "cannot be read right now" in r.text
    assert reg.backend_saw("/newcomer/page") is None


@pytest.mark.parametrize("directive", [
    "CloudsmithSAMLIdPMetadataFile {md}", "CloudsmithSAMLEnforce Off",
    "CloudsmithSAMLSCIM On", "CloudsmithSAMLGroupSync groups Dev developers"])
def test_per_org_directives_are_refused_in_an_org_from_path_section(tmp_path, module_so,
                                                                   directive):
    idp = mint.MintIdP(str(tmp_path / "idp"))
    site = f"""
<LocationMatch "^/{SLUG_RE}/">
    AuthType CloudsmithSAML
    CloudsmithSAMLOrgFromPath On
    {directive.format(md=idp.metadata_path)}
    Require valid-user
</LocationMatch>
"""
    rc, out = Httpd(str(tmp_path / "h"), module_so, site, extra_modules=["dbd"],
                    global_conf="DBDriver sqlite3\nDBDParams /tmp/none.db").configtest()
    assert rc != 0
    assert "come from the org registry in a CloudsmithSAMLOrgFromPath section" in out


def test_org_from_path_without_mod_dbd_is_refused(tmp_path, module_so):
    site = f"""
<LocationMatch "^/{SLUG_RE}/">
    AuthType CloudsmithSAML
    CloudsmithSAMLOrgFromPath On
    Require valid-user
</LocationMatch>
"""
    rc, out = Httpd(str(tmp_path / "h"), module_so, site).configtest()
    assert rc != 0
    assert "CloudsmithSAMLOrgFromPath On needs mod_dbd" in out
