"""cloudsmith-saml-admin, the org registry's command, run as built against a fresh database per
test: a SQLite file, and a private PostgreSQL. Metadata URLs are served on loopback by a
Python HTTP server (plain http with --allow-http, and HTTPS with a self-signed certificate)."""
import hashlib
import http.server
import os
import re
import sqlite3
import ssl
import subprocess
import threading
import time

import pytest

from pg import PostgresServer

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
ADMIN = os.path.join(TOP, "cloudsmith-saml-admin")
OKTA_METADATA = os.path.join(TOP, "..", "shared", "saml-fixtures", "okta", "crewjam",
                             "okta_idp_metadata.xml")
OKTA_ENTITY_ID = "http://www.okta.com/exkppsa1qwuFV4D7z0h7"
OTHER_ENTITY_ID = "https://idp.example.com/other"
MAX_BYTES = 1024 * 1024


def okta_metadata():
    with open(OKTA_METADATA, "rb") as f:
        return f.read()


def other_metadata():
    """A second valid IdP metadata document: Okta's under another entity ID."""
    return okta_metadata().replace(OKTA_ENTITY_ID.encode(), OTHER_ENTITY_ID.encode())


class Admin:
    """Runs the command against one database, given through the environment."""

    def __init__(self, driver, params, pg=None, dbname=None):
        self.driver = driver
        self.params = params
        self.pg = pg
        self.dbname = dbname

    def run(self, *args, input=None, timeout=60, env_db=True):
        env = dict(os.environ)
        env.pop("CLOUDSMITH_SAML_DBD_DRIVER", None)
        env.pop("CLOUDSMITH_SAML_DBD_PARAMS", None)
        if env_db:
            env["CLOUDSMITH_SAML_DBD_DRIVER"] = self.driver
            env["CLOUDSMITH_SAML_DBD_PARAMS"] = self.params
        return subprocess.run([ADMIN] + [str(a) for a in args], input=input,
                              capture_output=True, timeout=timeout, env=env)

    def ok(self, *args, **kw):
        r = self.run(*args, **kw)
        assert r.returncode == 0, (args, r.returncode, r.stderr.decode())
        return r.stdout.decode()

    def fails(self, exit_status, *args, **kw):
        """Runs a command that must fail with exit_status; returns its stderr."""
        r = self.run(*args, **kw)
        assert r.returncode == exit_status, (args, r.returncode, r.stdout, r.stderr)
        err = r.stderr.decode()
        assert err.startswith("cloudsmith-saml-admin: "), err
        return err

    def show(self, slug):
        """`org show` as a dict (mappings as a list)."""
        fields, mappings = {}, []
        for line in self.ok("org", "show", slug).splitlines()[1:]:
            key, _, value = line.strip().partition(":")
            if key == "mapping":
                mappings.append(value.strip())
            else:
                fields[key] = value.strip()
        fields["mappings"] = mappings
        return fields

    def version(self, slug):
        return int(self.show(slug)["version"])

    def sql(self, statement):
        """Runs one SQL statement on the database itself; the first column of its first row
        (None without rows)."""
        if self.driver == "sqlite3":
            db = sqlite3.connect(self.params)
            try:
                with db:
                    row = db.execute(statement).fetchone()
            finally:
                db.close()
            return row[0] if row else None
        out = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.pg.port), "-U", "scim",
                              "-d", self.dbname, "-tAqc", statement], check=True,
                             capture_output=True, text=True,
                             env=dict(os.environ, PGPASSWORD=self.pg.password))
        value = out.stdout[:-1] if out.stdout.endswith("\n") else out.stdout  # psql's line end
        return value or None

    def column(self, slug, name):
        """One column of the org's row, read from the database itself."""
        return self.sql("SELECT %s FROM orgs WHERE slug = '%s'" % (name, slug))


@pytest.fixture(scope="module")
def postgres():
    server = PostgresServer().start()
    yield server
    server.stop()


_databases = iter(range(1, 1 << 30))


@pytest.fixture(params=["sqlite3", "pgsql"])
def admin(request, tmp_path):
    if request.param == "sqlite3":
        return Admin("sqlite3", str(tmp_path / "store.db"))
    pg = request.getfixturevalue("postgres")
    name = "admin%d" % next(_databases)
    subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "scim", "-d",
                    "postgres", "-c", "CREATE DATABASE " + name], check=True,
                   capture_output=True, env=dict(os.environ, PGPASSWORD=pg.password))
    return Admin("pgsql", pg.dbd_params.replace("dbname=scim", "dbname=" + name), pg, name)


class MetadataServer:
    """Loopback HTTP(S) server. Paths: /okta, /other (valid metadata), /missing (404),
    /hang (never answers), /big (a body over 1 MiB, with Content-Length), /big-stream (the same
    without: the limit is met while reading), /html (not metadata), /redirect (-> /okta),
    /loop (redirects to itself), /to-http (-> an http:// URL given as http_target)."""

    def __init__(self, tls_cert=None):
        self.http_target = None
        self.release = threading.Event()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args):
                pass

            def send_body(self, body, status=200, length=True):
                self.send_response(status)
                self.send_header("Content-Type", "application/xml")
                if length:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def redirect(self, location):
                self.send_response(302)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self):
                if self.path == "/okta":
                    self.send_body(okta_metadata())
                elif self.path == "/other":
                    self.send_body(other_metadata())
                elif self.path == "/hang":
                    server.release.wait(120)
                elif self.path == "/big":
                    self.send_body(b" " * (MAX_BYTES + 1))
                elif self.path == "/big-stream":
                    self.send_body(b" " * (MAX_BYTES + 1), length=False)
                elif self.path == "/html":
                    self.send_body(b"<html><body>Sign in</body></html>")
                elif self.path == "/redirect":
                    self.redirect("/okta")
                elif self.path == "/loop":
                    self.redirect("/loop")
                elif self.path == "/to-http":
                    self.redirect(server.http_target)
                else:
                    self.send_body(b"not here", status=404)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        scheme = "http"
        if tls_cert:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls_cert)
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.base = "%s://127.0.0.1:%d" % (scheme, self.httpd.server_address[1])
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return self.base + path

    def stop(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def web():
    server = MetadataServer()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def tls_web(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    cert, key = str(d / "cert.pem"), str(d / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    server = MetadataServer(tls_cert=(cert, key))
    server.cert = cert
    yield server
    server.stop()


def test_create_show_list_delete(admin):
    assert admin.ok("org", "list") == ""
    out = admin.ok("org", "create", "acme")
    assert out.startswith("created org acme")
    admin.ok("org", "create", "globex")
    assert admin.ok("org", "list") == "acme\nglobex\n"
    shown = admin.show("acme")
    assert shown["saml"] == "off"
    assert shown["enforce"] == "on"
    assert shown["idp metadata"] == "none"
    assert shown["metadata url"] == "none"
    assert shown["groupsync"] == "off"
    assert shown["scim"] == "off"
    assert shown["scim secret"] == "not set"
    assert int(shown["version"]) > 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", shown["created"])

    err = admin.fails(1, "org", "create", "acme")
    assert "org 'acme' exists already" in err
    out = admin.ok("org", "delete", "acme")
    assert out == "deleted org acme, its Group Sync mappings and its 0 SCIM users\n"
    assert admin.ok("org", "list") == "globex\n"
    assert "there is no org 'acme'" in admin.fails(1, "org", "show", "acme")
    assert "there is no org 'acme'" in admin.fails(1, "org", "delete", "acme")


@pytest.mark.parametrize("slug,reason", [
    ("Acme", "may hold only lower-case letters a-z, digits and '-'"),
    ("ac_me", "may hold only lower-case letters"),
    ("-acme", "must start with a letter or a digit"),
    ("acme-", "must not end with '-'"),
    ("a" * 64, "longer than 63 characters"),
    ("saml", "is reserved"),
])
def test_invalid_slugs_are_refused(admin, slug, reason):
    err = admin.fails(1, "org", "create", "--", slug)  # "--": "-acme" is not an option
    assert reason in err
    assert admin.ok("org", "list") == ""


def test_options_override_the_environment(admin, tmp_path):
    """--dbd-driver/--dbd-params instead of the environment; a wrong command line is refused
    before any database is touched."""
    r = admin.run("--dbd-driver", admin.driver, "--dbd-params=" + admin.params, "org",
                  "create", "acme", env_db=False)
    assert r.returncode == 0, r.stderr
    assert admin.ok("org", "list") == "acme\n"
    elsewhere = tmp_path / "nothing-here.db"
    err = admin.fails(1, "--dbd-params", elsewhere, "org", "frobnicate", "acme")
    assert "unknown command 'org frobnicate'" in err
    err = admin.fails(1, "--dbd-params", elsewhere, "org", "show")
    assert "usage: org show SLUG (got 0 arguments)" in err
    assert not elsewhere.exists()
    err = admin.fails(1, "--dbd-driver", "mysql", "org", "list")
    assert "--dbd-driver must be sqlite3 or pgsql, not 'mysql'" in err


def test_an_unreachable_database_is_exit_2(admin, tmp_path):
    params = (str(tmp_path / "no" / "such" / "dir.db") if admin.driver == "sqlite3"
              else admin.params.replace("port=%d" % admin.pg.port, "port=1"))
    err = admin.fails(2, "--dbd-params", params, "org", "list")
    assert "cannot open the %s database" % admin.driver in err


def test_metadata_from_a_file_and_from_stdin(admin, tmp_path):
    admin.ok("org", "create", "acme")
    out = admin.ok("org", "metadata", "acme", OKTA_METADATA)
    assert out == "org acme: stored the IdP metadata of %s\n" % OKTA_ENTITY_ID
    shown = admin.show("acme")
    assert shown["idp metadata"] == "%d bytes, entity ID %s" % (len(okta_metadata()),
                                                                  OKTA_ENTITY_ID)
    assert admin.column("acme", "idp_metadata_xml") == okta_metadata().decode()
    out = admin.ok("org", "metadata", "acme", "-", input=other_metadata())
    assert OTHER_ENTITY_ID in out
    assert admin.column("acme", "idp_metadata_xml") == other_metadata().decode()
    assert shown["metadata url"] == "none"


def test_invalid_metadata_is_refused_and_the_previous_kept(admin, tmp_path):
    admin.ok("org", "create", "acme")
    admin.ok("org", "metadata", "acme", OKTA_METADATA)
    version = admin.version("acme")
    err = admin.fails(1, "org", "metadata", "acme", "-",
                      input=b"<md:EntityDescriptor xmlns:md='urn:oasis:names:tc:SAML:2.0:metadata'"
                            b"\n entityID='x'>\n<unclosed>\n")
    assert "not valid IdP metadata: not well-formed XML (line " in err
    sp_only = (b"<md:EntityDescriptor xmlns:md='urn:oasis:names:tc:SAML:2.0:metadata' "
               b"entityID='x'><md:SPSSODescriptor/></md:EntityDescriptor>")
    err = admin.fails(1, "org", "metadata", "acme", "-", input=sp_only)
    assert "no IDPSSODescriptor" in err
    no_cert = re.sub(rb"<md:KeyDescriptor.*?</md:KeyDescriptor>", b"", okta_metadata(),
                     flags=re.S)
    err = admin.fails(1, "org", "metadata", "acme", "-", input=no_cert)
    assert "no signing certificate" in err
    big = tmp_path / "big.xml"
    big.write_bytes(b" " * (MAX_BYTES + 1))
    err = admin.fails(1, "org", "metadata", "acme", big)
    assert "larger than 1048576 bytes" in err
    err = admin.fails(1, "org", "metadata", "acme", tmp_path / "absent.xml")
    assert "cannot open" in err and "No such file or directory" in err
    assert admin.column("acme", "idp_metadata_xml") == okta_metadata().decode()
    assert admin.version("acme") == version


def test_metadata_url_fetches_and_records_the_url(admin, web):
    admin.ok("org", "create", "acme")
    out = admin.ok("--allow-http", "org", "metadata-url", "acme", web.url("/okta"))
    assert out == "org acme: stored the IdP metadata of %s from %s\n" % (OKTA_ENTITY_ID,
                                                                         web.url("/okta"))
    shown = admin.show("acme")
    assert shown["metadata url"] == web.url("/okta")
    assert shown["metadata error"] == "none"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", shown["metadata fetched"])
    # redirects are followed (up to 3)
    admin.ok("--allow-http", "org", "metadata-url", "acme", web.url("/redirect"))
    err = admin.fails(2, "--allow-http", "org", "metadata-url", "acme", web.url("/loop"))
    assert "more than 3 redirects from %s" % web.url("/loop") in err


def test_a_failed_fetch_keeps_the_previous_metadata_and_records_why(admin, web):
    admin.ok("org", "create", "acme")
    admin.ok("--allow-http", "org", "metadata-url", "acme", web.url("/okta"))
    fetched = admin.show("acme")["metadata fetched"]
    version = admin.version("acme")
    err = admin.fails(2, "--allow-http", "org", "metadata-url", "acme", web.url("/missing"))
    assert "org acme: HTTP 404 from %s; the previous metadata stays" % web.url("/missing") in err
    shown = admin.show("acme")
    assert shown["metadata error"] == "HTTP 404 from %s" % web.url("/missing")
    assert shown["metadata url"] == web.url("/okta")
    assert shown["metadata fetched"] == fetched
    assert admin.column("acme", "idp_metadata_xml") == okta_metadata().decode()
    assert int(shown["version"]) > version

    err = admin.fails(2, "--allow-http", "org", "metadata-url", "acme", web.url("/html"))
    assert ("not valid IdP metadata: the root element is not an md:EntityDescriptor (SAML 2.0 "
            "metadata namespace) (from %s)" % web.url("/html")) in err
    assert admin.column("acme", "idp_metadata_xml") == okta_metadata().decode()
    # the next good fetch clears the error
    admin.ok("--allow-http", "org", "metadata-url", "acme", web.url("/other"))
    shown = admin.show("acme")
    assert shown["metadata error"] == "none"
    assert OTHER_ENTITY_ID in shown["idp metadata"]


def test_a_server_that_never_answers_times_out(admin, web):
    admin.ok("org", "create", "acme")
    started = time.monotonic()
    err = admin.fails(2, "--allow-http", "--timeout", "2", "org", "metadata-url", "acme",
                      web.url("/hang"))
    elapsed = time.monotonic() - started
    assert "timed out after 2 s fetching %s" % web.url("/hang") in err
    assert 1.5 < elapsed < 8, elapsed
    assert admin.show("acme")["metadata error"].startswith("timed out after 2 s")


@pytest.mark.parametrize("path", ["/big", "/big-stream"])
def test_an_oversized_body_is_refused(admin, web, path):
    admin.ok("org", "create", "acme")
    err = admin.fails(2, "--allow-http", "org", "metadata-url", "acme", web.url(path))
    assert "more than 1048576 bytes from %s" % web.url(path) in err
    assert admin.show("acme")["idp metadata"] == "none"


def test_plain_http_needs_allow_http(admin, web):
    admin.ok("org", "create", "acme")
    version = admin.version("acme")
    err = admin.fails(1, "org", "metadata-url", "acme", web.url("/okta"))
    assert "refusing plain http:// URL %s" % web.url("/okta") in err
    assert "signing certificate" in err
    err = admin.fails(1, "org", "metadata-url", "acme", "ftp://127.0.0.1/md")
    assert "is not an https:// URL" in err
    assert admin.version("acme") == version
    assert admin.show("acme")["metadata error"] == "none"


def test_tls_is_verified_and_ca_file_trusts_a_private_ca(admin, tls_web, web):
    admin.ok("org", "create", "acme")
    err = admin.fails(2, "org", "metadata-url", "acme", tls_web.url("/okta"))
    assert "TLS with %s failed" % tls_web.url("/okta") in err
    out = admin.ok("--ca-file", tls_web.cert, "org", "metadata-url", "acme",
                   tls_web.url("/okta"))
    assert OKTA_ENTITY_ID in out
    # an https URL may not redirect to plain http
    tls_web.http_target = web.url("/other")
    err = admin.fails(2, "--ca-file", tls_web.cert, "org", "metadata-url", "acme",
                      tls_web.url("/to-http"))
    assert "%s redirected to a URL that is not https://" % tls_web.url("/to-http") in err
    assert admin.column("acme", "idp_metadata_xml") == okta_metadata().decode()


def test_refresh_metadata_fetches_every_url_org(admin, web):
    for slug in ("acme", "globex", "initech"):
        admin.ok("org", "create", slug)
    admin.ok("--allow-http", "org", "metadata-url", "acme", web.url("/okta"))
    admin.ok("--allow-http", "org", "metadata-url", "globex", web.url("/other"))
    admin.ok("org", "metadata", "initech", OKTA_METADATA)
    versions = {s: admin.version(s) for s in ("acme", "globex", "initech")}
    out = admin.ok("--allow-http", "org", "refresh-metadata")
    assert out.splitlines() == [
        "org acme: stored the IdP metadata of %s from %s" % (OKTA_ENTITY_ID, web.url("/okta")),
        "org globex: stored the IdP metadata of %s from %s" % (OTHER_ENTITY_ID,
                                                               web.url("/other"))]
    assert admin.version("acme") > versions["acme"]
    assert admin.version("initech") == versions["initech"]  # its metadata came from a file

    # a named org without a URL is refused; an unknown one too
    err = admin.fails(1, "--allow-http", "org", "refresh-metadata", "initech", "nope")
    assert "org initech: its metadata was not fetched from a URL" in err
    assert "there is no org 'nope'" in err


def test_refresh_failure_keeps_the_previous_metadata_and_exits_2(admin, web):
    admin.ok("org", "create", "acme")
    admin.ok("org", "create", "globex")
    admin.ok("--allow-http", "org", "metadata-url", "acme", web.url("/okta"))
    admin.ok("--allow-http", "org", "metadata-url", "globex", web.url("/other"))
    # acme's IdP now answers 404 at the stored URL
    admin.sql("UPDATE orgs SET idp_metadata_url = '%s' WHERE slug = 'acme'"
              % web.url("/missing"))
    r = admin.run("--allow-http", "org", "refresh-metadata")
    assert r.returncode == 2
    assert ("org acme: HTTP 404 from %s; the previous metadata stays" % web.url("/missing")
            in r.stderr.decode())
    assert "org globex: stored the IdP metadata" in r.stdout.decode()  # the others go on
    assert admin.show("acme")["metadata error"] == "HTTP 404 from %s" % web.url("/missing")
    assert admin.column("acme", "idp_metadata_xml") == okta_metadata().decode()
    # without --allow-http a stored http:// URL is not fetched at all
    err = admin.fails(2, "org", "refresh-metadata", "globex")
    assert "org globex: refusing plain http:// URL" in err


def test_enable_needs_metadata_and_enforce_takes_on_off(admin):
    admin.ok("org", "create", "acme")
    err = admin.fails(1, "org", "enable", "acme")
    assert "org 'acme' has no IdP metadata yet" in err
    admin.ok("org", "metadata", "acme", OKTA_METADATA)
    assert admin.ok("org", "enable", "acme") == "org acme: saml on\n"
    assert admin.show("acme")["saml"] == "on"
    assert admin.ok("org", "enforce", "acme", "off") == "org acme: enforce off\n"
    assert admin.show("acme")["enforce"] == "off"
    err = admin.fails(1, "org", "enforce", "acme", "maybe")
    assert "org enforce: expected on or off, not 'maybe'" in err
    admin.ok("org", "disable", "acme")
    assert admin.show("acme")["saml"] == "off"


def test_groupsync_mappings(admin):
    admin.ok("org", "create", "acme")
    assert admin.ok("org", "groupsync", "acme", "on") == "org acme: groupsync on\n"
    out = admin.ok("org", "groupsync-add", "acme", "groups", "Dev", "developers")
    assert out == "org acme: added mapping groups = Dev -> developers (Member)\n"
    admin.ok("org", "groupsync-add", "acme", "Ops", "Ops", "operations", "Manager")
    out = admin.ok("org", "groupsync-add", "acme", "groups", "Dev", "developers", "manager")
    assert out == "org acme: mapping groups = Dev -> developers now Manager (was Member)\n"
    assert admin.ok("org", "groupsync-list", "acme") == (
        "Ops\tOps\toperations\tManager\ngroups\tDev\tdevelopers\tManager\n")
    assert admin.show("acme")["mappings"] == ["Ops = Ops -> operations (Manager)",
                                              "groups = Dev -> developers (Manager)"]
    version = admin.version("acme")
    err = admin.fails(1, "org", "groupsync-add", "acme", "groups", "QA", "qa", "Owner")
    assert "role 'Owner' must be Member or Manager" in err
    err = admin.fails(1, "org", "groupsync-add", "acme", "groups", "", "qa")
    assert "IDP_VALUE must not be empty" in err
    err = admin.fails(1, "org", "groupsync-remove", "acme", "groups", "QA", "qa")
    assert "org 'acme' has no mapping groups=QA -> qa" in err
    assert admin.version("acme") == version
    admin.ok("org", "groupsync-remove", "acme", "Ops", "Ops", "operations")
    assert admin.ok("org", "groupsync-list", "acme") == "groups\tDev\tdevelopers\tManager\n"


def test_scim_rotate_prints_a_secret_whose_hash_is_stored(admin):
    admin.ok("org", "create", "acme")
    assert "no SCIM secret yet" in admin.fails(1, "org", "scim", "acme", "on")
    out = admin.ok("org", "scim-rotate", "acme")
    secrets = [l.strip() for l in out.splitlines() if l.startswith("    ")]
    assert len(secrets) == 1 and re.fullmatch(r"[A-Za-z0-9_-]{43}", secrets[0])
    assert 'user name "token"' in out and "paste it" in out
    stored = admin.column("acme", "scim_token_hash")
    assert stored == "sha256:" + hashlib.sha256(secrets[0].encode()).hexdigest()
    assert admin.show("acme")["scim secret"] == "set"
    assert stored[7:] not in admin.ok("org", "show", "acme")
    admin.ok("org", "scim", "acme", "on")
    assert admin.show("acme")["scim"] == "on"

    again = admin.ok("org", "scim-rotate", "acme")
    second = [l.strip() for l in again.splitlines() if l.startswith("    ")][0]
    assert second != secrets[0]
    assert admin.column("acme", "scim_token_hash") == (
        "sha256:" + hashlib.sha256(second.encode()).hexdigest())


def test_every_change_raises_the_version(admin, web):
    admin.ok("org", "create", "acme")
    changes = [
        ("org", "metadata", "acme", OKTA_METADATA),
        ("--allow-http", "org", "metadata-url", "acme", web.url("/other")),
        ("org", "enable", "acme"),
        ("org", "enforce", "acme", "off"),
        ("org", "disable", "acme"),
        ("org", "groupsync", "acme", "on"),
        ("org", "groupsync-add", "acme", "groups", "Dev", "developers"),
        ("org", "groupsync-add", "acme", "groups", "Dev", "developers", "Manager"),
        ("org", "groupsync-remove", "acme", "groups", "Dev", "developers"),
        ("org", "scim-rotate", "acme"),
        ("org", "scim", "acme", "on"),
        ("--allow-http", "org", "refresh-metadata", "acme"),
    ]
    version = admin.version("acme")
    for change in changes:
        admin.ok(*change)
        now = admin.version("acme")
        assert now > version, change
        version = now
    # a failed fetch is recorded, which is a change too
    admin.fails(2, "--allow-http", "org", "metadata-url", "acme", web.url("/missing"))
    assert admin.version("acme") > version


def test_delete_takes_the_orgs_scim_users(admin):
    admin.ok("org", "create", "acme")
    admin.ok("org", "create", "globex")
    rows = [("acme", "u1"), ("acme", "u2"), ("globex", "u3")]
    for org, uid in rows:
        sql = ("INSERT INTO scim_users (org, id, user_name, user_name_lower, active, created, "
               "last_modified, version, resource) VALUES ('%s', '%s', '%s@x', '%s@x', %s, "
               "'2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 1, '{}')"
               % (org, uid, uid, uid, "1" if admin.driver == "sqlite3" else "true"))
        admin.sql(sql)
    out = admin.ok("org", "delete", "acme")
    assert out == "deleted org acme, its Group Sync mappings and its 2 SCIM users\n"
    out = admin.ok("org", "delete", "globex")
    assert "its 1 SCIM user\n" in out


def test_make_install_puts_the_command_in_bindir(tmp_path):
    subprocess.run(["make", "-s", "install", "DESTDIR=%s" % tmp_path], cwd=TOP, check=True,
                   capture_output=True)
    installed = [p for p in tmp_path.rglob("cloudsmith-saml-admin")]
    assert len(installed) == 1 and installed[0].parent.name == "bin"
    r = subprocess.run([str(installed[0]), "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("usage: cloudsmith-saml-admin")
