#!/usr/bin/python3
"""A real SAML 2.0 IdP (SimpleSAMLphp 1.19, Debian package) on loopback.

Everything is self-contained in a work directory: the configuration rendered
from tests/idp/ssp/, the IdP key and certificate, PHP sessions, logs and
caches. The system Apache and /etc/simplesamlphp are never used.

Library use::

    from ssp_server import SSPServer
    idp = SSPServer(port, workdir, ["sp1.xml"])
    idp.start()
    idp.metadata_path          # WORKDIR/idp-metadata.xml
    idp.idp_initiated_url("http://127.0.0.1:8080/acme/saml/acs/", "/after")
    idp.add_sp_metadata("sp2.xml", overrides={"saml20.sign.response": False})
    idp.stop()

CLI (runs until SIGTERM / Ctrl-C; prints the IdP metadata path on stdout)::

    /usr/bin/python3 tests/idp/ssp_server.py --port 8081 --workdir /tmp/x \\
        --sp-metadata sp1.xml [--sp-metadata sp2.xml ...]
"""

import argparse
import hashlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from xml.sax.saxutils import escape as _xml_escape

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATE_DIR = os.path.join(HERE, "ssp")
SSP_ROOT = "/usr/share/simplesamlphp"
SSP_WWW = os.path.join(SSP_ROOT, "www")
PHP = "/usr/bin/php8.2" if os.path.exists("/usr/bin/php8.2") else "php"

NS_MD = "urn:oasis:names:tc:SAML:2.0:metadata"
BINDING_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
BINDING_REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
NAMEID_EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"

# Demo users of the exampleauth:UserPass source (see ssp/authsources.php).
USERS = {
    "alice@example.com": "alicepass",
    "bob@example.com": "bobpass",
    "carol@example.com": "carolpass",
}

# Router for `php -S`. The built-in server already splits PATH_INFO URLs
# (/module.php/core/loginuserpass.php) by itself; the router only pins that
# down (SCRIPT_NAME/PATH_INFO/PHP_SELF set explicitly, "/" -> index.php,
# ".." refused, plain 404 for unknown paths) so behaviour does not depend on
# the built-in server's heuristics. Static files are left to the server.
ROUTER_PHP = r"""<?php
$www = '@@WWW@@';
$uri = $_SERVER['REQUEST_URI'];
$path = parse_url($uri, PHP_URL_PATH);
if ($path === null || $path === false || strpos($path, '..') !== false) {
    http_response_code(400);
    echo "bad path\n";
    return true;
}
if ($path === '/' || $path === '') {
    $path = '/index.php';
}
if (preg_match('#^(.*?\.php)(/.*)?$#', $path, $m)) {
    $script = $m[1];
    $file = $www . $script;
    if (!is_file($file)) {
        http_response_code(404);
        echo "not found\n";
        return true;
    }
    $_SERVER['SCRIPT_NAME'] = $script;
    $_SERVER['PHP_SELF'] = $script . (isset($m[2]) ? $m[2] : '');
    $_SERVER['SCRIPT_FILENAME'] = $file;
    $_SERVER['DOCUMENT_ROOT'] = $www;
    if (isset($m[2]) && $m[2] !== '') {
        $_SERVER['PATH_INFO'] = $m[2];
    } else {
        unset($_SERVER['PATH_INFO']);
    }
    chdir(dirname($file));
    require $file;
    return true;
}
if (is_file($www . $path)) {
    return false;  // static asset: let the built-in server send it
}
http_response_code(404);
echo "not found\n";
return true;
"""


def free_port(host="127.0.0.1"):
    """Return a TCP port that is free right now on host."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def make_sp_metadata(entity_id, acs_url, cert_pem=None, slo_url=None,
                     want_assertions_signed=True, authn_requests_signed=False,
                     name_id_format=NAMEID_EMAIL):
    """Return SAML 2.0 SP metadata XML (str) with one HTTP-POST ACS.

    cert_pem (optional) is published for both signing and encryption.
    """
    key_xml = ""
    if cert_pem:
        b64 = "".join(
            line for line in cert_pem.strip().splitlines()
            if "-----" not in line)
        for use in ("signing", "encryption"):
            key_xml += (
                '    <md:KeyDescriptor use="%s"><ds:KeyInfo '
                'xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data>'
                '<ds:X509Certificate>%s</ds:X509Certificate></ds:X509Data>'
                '</ds:KeyInfo></md:KeyDescriptor>\n' % (use, b64))
    slo_xml = ""
    if slo_url:
        slo_xml = ('    <md:SingleLogoutService Binding="%s" Location="%s"/>\n'
                   % (BINDING_REDIRECT, _xml_escape(slo_url, {'"': "&quot;"})))
    q = {'"': "&quot;"}
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<md:EntityDescriptor xmlns:md="%s" entityID="%s">\n'
        '  <md:SPSSODescriptor AuthnRequestsSigned="%s" '
        'WantAssertionsSigned="%s" '
        'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">\n'
        '%s%s'
        '    <md:NameIDFormat>%s</md:NameIDFormat>\n'
        '    <md:AssertionConsumerService Binding="%s" Location="%s" '
        'index="0" isDefault="true"/>\n'
        '  </md:SPSSODescriptor>\n'
        '</md:EntityDescriptor>\n'
    ) % (NS_MD, _xml_escape(entity_id, q),
         "true" if authn_requests_signed else "false",
         "true" if want_assertions_signed else "false",
         key_xml, slo_xml, name_id_format, BINDING_POST,
         _xml_escape(acs_url, q))


def _sp_entity_id(xml_path):
    with open(xml_path, "rb") as f:
        data = f.read()
    m = re.search(rb'<(?:\w+:)?EntityDescriptor\b[^>]*\bentityID\s*=\s*"([^"]+)"',
                  data)
    if not m:
        raise ValueError("no EntityDescriptor/@entityID in %s" % xml_path)
    return m.group(1).decode("utf-8")


class SSPServer:
    """SimpleSAMLphp IdP served by `php -S 127.0.0.1:PORT` from a work dir."""

    def __init__(self, port, workdir, sp_metadata_files=(), entity_id=None,
                 log_level="INFO", workers=1):
        self.port = int(port)
        self.workdir = os.path.abspath(workdir)
        if "'" in self.workdir or "\\" in self.workdir:
            raise ValueError("workdir must not contain quotes or backslashes")
        self.base_url = "http://127.0.0.1:%d" % self.port
        self.entity_id = entity_id or (self.base_url + "/saml2/idp/metadata.php")
        self.sso_url = self.base_url + "/saml2/idp/SSOService.php"
        self.slo_url = self.base_url + "/saml2/idp/SingleLogoutService.php"
        self.metadata_url = self.base_url + "/saml2/idp/metadata.php"
        self.metadata_path = os.path.join(self.workdir, "idp-metadata.xml")
        self.cert_path = os.path.join(self.workdir, "cert", "idp.crt")
        self.key_path = os.path.join(self.workdir, "cert", "idp.key")
        self.sp_dir = os.path.join(self.workdir, "sp")
        self.config_dir = os.path.join(self.workdir, "config")
        self.log_path = os.path.join(self.workdir, "log", "simplesamlphp.log")
        self.server_log_path = os.path.join(self.workdir, "log", "php-server.log")
        self.log_level = log_level
        self.workers = workers
        self.sp_metadata_files = list(sp_metadata_files or ())
        self.proc = None
        self._server_log = None

    # ------------------------------------------------------------------ setup
    def _check_php(self):
        out = subprocess.run([PHP, "-m"], capture_output=True, text=True,
                             check=True).stdout.lower().split()
        missing = [m for m in ("dom", "openssl", "session", "simplexml", "zlib")
                   if m not in out]
        if missing:
            raise RuntimeError(
                "PHP extensions missing for SimpleSAMLphp: %s "
                "(apt-get install php8.2-xml)" % ", ".join(missing))

    def _ensure_keys(self):
        os.makedirs(os.path.dirname(self.cert_path), exist_ok=True)
        if os.path.exists(self.cert_path) and os.path.exists(self.key_path):
            return
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
             "-sha256", "-days", "3650", "-subj", "/CN=test-idp.127.0.0.1",
             "-keyout", self.key_path, "-out", self.cert_path],
            check=True, capture_output=True)
        os.chmod(self.key_path, 0o600)

    def _salt(self):
        path = os.path.join(self.workdir, "secretsalt")
        if not os.path.exists(path):
            with open(path, "w") as f:
                f.write(secrets.token_hex(24))
        with open(path) as f:
            return f.read().strip()

    def _render(self, src, dst, values):
        with open(src, encoding="utf-8") as f:
            text = f.read()
        for k, v in values.items():
            text = text.replace("@@%s@@" % k, v)
        left = re.findall(r"@@[A-Z]+@@", text)
        if left:
            raise RuntimeError("unrendered markers %s in %s" % (left, src))
        tmp = dst + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, dst)

    def render_config(self):
        """(Re)write config, metadata templates and router into the workdir."""
        for d in ("config", "metadata", "sp", "cert", "log", "tmp", "data",
                  "sessions", "attributemap"):
            os.makedirs(os.path.join(self.workdir, d), exist_ok=True)
        values = {
            "WORKDIR": self.workdir,
            "BASEURL": self.base_url,
            "ENTITYID": self.entity_id,
            "SECRETSALT": self._salt(),
            "LOGLEVEL": self.log_level.upper(),
            "WWW": SSP_WWW,
        }
        for name in ("config.php", "authsources.php"):
            self._render(os.path.join(TEMPLATE_DIR, name),
                         os.path.join(self.config_dir, name), values)
        mdsrc = os.path.join(TEMPLATE_DIR, "metadata")
        for name in sorted(os.listdir(mdsrc)):
            if name.endswith(".php"):
                self._render(os.path.join(mdsrc, name),
                             os.path.join(self.workdir, "metadata", name), values)
        router = os.path.join(self.workdir, "router.php")
        with open(router, "w") as f:
            f.write(ROUTER_PHP.replace("@@WWW@@", SSP_WWW))

    def _sp_basename(self, entity_id):
        h = hashlib.sha256(entity_id.encode()).hexdigest()[:12]
        slug = re.sub(r"[^A-Za-z0-9]+", "_", entity_id).strip("_")[-40:]
        return "%s-%s" % (slug, h)

    def add_sp_metadata(self, xml_path_or_text, overrides=None):
        """Register (or replace) an SP from its SAML metadata XML.

        xml_path_or_text: a file path, or the XML itself (str/bytes starting
        with '<'). overrides: optional dict of SimpleSAMLphp saml20-sp-remote
        options for this SP (None values delete a key), e.g.
        {"saml20.sign.response": False, "assertion.encryption": True}.
        Takes effect on the next request (no restart). Returns the entityID.
        """
        if isinstance(xml_path_or_text, bytes):
            xml_path_or_text = xml_path_or_text.decode("utf-8")
        if xml_path_or_text.lstrip().startswith("<"):
            data = xml_path_or_text.encode("utf-8")
        else:
            with open(xml_path_or_text, "rb") as f:
                data = f.read()
        os.makedirs(self.sp_dir, exist_ok=True)
        tmp = os.path.join(self.sp_dir, ".incoming.tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        entity_id = _sp_entity_id(tmp)
        base = os.path.join(self.sp_dir, self._sp_basename(entity_id))
        jpath = base + ".json"
        if overrides:
            with open(jpath + ".tmp", "w") as f:
                json.dump(overrides, f, indent=1)
            os.replace(jpath + ".tmp", jpath)
        elif os.path.exists(jpath):
            os.unlink(jpath)
        os.replace(tmp, base + ".xml")
        return entity_id

    def remove_sp(self, entity_id):
        base = os.path.join(self.sp_dir, self._sp_basename(entity_id))
        for ext in (".xml", ".json"):
            if os.path.exists(base + ext):
                os.unlink(base + ext)

    # --------------------------------------------------------------- running
    def start(self, timeout=20):
        if self.proc is not None:
            raise RuntimeError("already started")
        self._check_php()
        os.makedirs(self.workdir, exist_ok=True)
        self._ensure_keys()
        self.render_config()
        for f in self.sp_metadata_files:
            self.add_sp_metadata(f)
        env = dict(os.environ)
        env["SIMPLESAMLPHP_CONFIG_DIR"] = self.config_dir
        # One process by default: php -S forks workers only when
        # PHP_CLI_SERVER_WORKERS > 1, and its master does not reap them, so
        # they end up as zombies of PID 1 after stop().
        env.pop("PHP_CLI_SERVER_WORKERS", None)
        if self.workers > 1:
            env["PHP_CLI_SERVER_WORKERS"] = str(self.workers)
        env.pop("PHP_INI_SCAN_DIR", None)
        self._server_log = open(self.server_log_path, "ab")
        cmd = [
            PHP,
            "-d", "session.save_path=" + os.path.join(self.workdir, "sessions"),
            "-d", "display_errors=stderr",
            "-d", "log_errors=1",
            "-d", "error_log=" + os.path.join(self.workdir, "log", "php-errors.log"),
            "-d", "upload_tmp_dir=" + os.path.join(self.workdir, "tmp"),
            "-d", "sys_temp_dir=" + os.path.join(self.workdir, "tmp"),
            "-d", "variables_order=EGPCS",
            "-S", "127.0.0.1:%d" % self.port,
            "-t", SSP_WWW,
            os.path.join(self.workdir, "router.php"),
        ]
        self.proc = subprocess.Popen(
            cmd, cwd=self.workdir, env=env, stdin=subprocess.DEVNULL,
            stdout=self._server_log, stderr=subprocess.STDOUT,
            start_new_session=True)
        try:
            self._wait_ready(timeout)
        except Exception:
            self.stop()
            raise
        return self.metadata_path

    def _wait_ready(self, timeout):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("php -S exited with %s; see %s"
                                   % (self.proc.returncode, self.server_log_path))
            try:
                with urllib.request.urlopen(self.metadata_url, timeout=5) as r:
                    body = r.read()
                if b"EntityDescriptor" in body and b"IDPSSODescriptor" in body:
                    tmp = self.metadata_path + ".tmp"
                    with open(tmp, "wb") as f:
                        f.write(body)
                    os.replace(tmp, self.metadata_path)
                    return
                last = "unexpected metadata body: %r" % body[:300]
            except (urllib.error.URLError, ConnectionError, socket.timeout) as e:
                last = e
                if isinstance(e, urllib.error.HTTPError):
                    last = "%s: %r" % (e, e.read()[:500])
            time.sleep(0.1)
        raise RuntimeError("IdP not ready after %ss: %s (logs: %s, %s)"
                           % (timeout, last, self.server_log_path, self.log_path))

    def _group_members(self, pgid):
        """Live (non-zombie) processes in process group pgid (Linux /proc)."""
        alive = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    stat = f.read()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            if fields[0] != "Z" and int(fields[2]) == pgid:
                alive.append(int(d))
        return alive

    def _port_open(self):
        with socket.socket() as s:
            s.settimeout(0.5)
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self, timeout=5):
        """Stop php -S and all its workers; returns when the port is closed."""
        proc, self.proc = self.proc, None
        if proc is not None:
            # php -S with PHP_CLI_SERVER_WORKERS forks workers, and the master
            # may exit before them: signal the whole group we created
            # (start_new_session, pgid == master pid), nothing else.
            pgid = proc.pid
            sig = signal.SIGTERM
            deadline = time.time() + timeout
            while True:
                if proc.poll() is None or self._group_members(pgid):
                    try:
                        os.killpg(pgid, sig)
                    except ProcessLookupError:
                        pass
                try:
                    proc.wait(timeout=0.1)
                except subprocess.TimeoutExpired:
                    pass
                if proc.poll() is not None and not self._group_members(pgid) \
                        and not self._port_open():
                    break
                if time.time() > deadline:
                    if sig == signal.SIGKILL:
                        break
                    sig, deadline = signal.SIGKILL, time.time() + timeout
        if self._server_log is not None:
            self._server_log.close()
            self._server_log = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    # ---------------------------------------------------------------- helpers
    def idp_initiated_url(self, sp_entity_id, relay_state=None):
        """URL that starts IdP-initiated SSO to sp_entity_id."""
        q = [("spentityid", sp_entity_id)]
        if relay_state is not None:
            q.append(("RelayState", relay_state))
        return self.sso_url + "?" + urllib.parse.urlencode(q)

    def cert_pem(self):
        with open(self.cert_path) as f:
            return f.read()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=8081)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--sp-metadata", action="append", default=[],
                    help="SP metadata XML file (repeatable)")
    ap.add_argument("--entity-id", default=None,
                    help="IdP entityID (default BASE/saml2/idp/metadata.php)")
    ap.add_argument("--workers", type=int, default=1,
                    help="php -S worker processes (PHP_CLI_SERVER_WORKERS)")
    ap.add_argument("--log-level", default="INFO",
                    choices=["ERR", "WARNING", "NOTICE", "INFO", "DEBUG"])
    args = ap.parse_args(argv)

    srv = SSPServer(args.port, args.workdir, args.sp_metadata,
                    entity_id=args.entity_id, log_level=args.log_level,
                    workers=args.workers)

    def _term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _term)
    try:
        path = srv.start()
        print(path, flush=True)
        print("IdP %s entityID=%s SSO=%s users=%s (log %s)"
              % (srv.base_url, srv.entity_id, srv.sso_url,
                 ", ".join("%s/%s" % kv for kv in USERS.items()), srv.log_path),
              file=sys.stderr, flush=True)
        while srv.proc is not None and srv.proc.poll() is None:
            time.sleep(0.5)
        if srv.proc is not None:
            print("php -S exited with %s" % srv.proc.returncode, file=sys.stderr)
            return 1
    except KeyboardInterrupt:
        pass
    finally:
        srv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
