#!/usr/bin/python3
"""mod_cloudsmith_saml side by side with mod_auth_mellon and plain Apache (run via bench/run).

Three private Apaches on loopback (event MPM, same process/thread limits, same modules apart
from the auth module, same echo backend, same pages), never the system Apache:
  plain   no authentication
  mellon  mod_auth_mellon (Debian's), SP key/cert/metadata of its own, the minting IdP
  ours    mod_cloudsmith_saml, one org with the same minting IdP
and one minting IdP (tests/idp/mint.py, responses re-signed fast by bench/fastmint.py).

Measured (ratios are computed pair by pair inside each repetition, then the median taken):
  1. protected request with a valid session: wrk keep-alive at several connection counts, on
     a static page served by Apache (the auth module's cost fully exposed) and on the echo
     backend behind mod_proxy (the real deployment; the Python backend is the ceiling there);
  2. ACS POST throughput on distinct, validly signed responses, and a perf profile of the
     httpd children while it runs;
  3. protected-request cost with few vs many live sessions (ours; mellon with
     MellonCacheSize 100000);
  4. resident memory (PSS of all httpd processes) per 10,000 sessions and per org.
Output: a Markdown table on stdout and in bench/results/latest.md, bench/results/latest.json,
bench/results/throughput.png.
"""
import argparse
import collections
import datetime
import json
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "tests", "idp"))
sys.path.insert(0, HERE)

import requests  # noqa: E402

from echo_backend import EchoBackend, EchoHandler  # noqa: E402
from httpd import Httpd, free_port  # noqa: E402
import fastmint  # noqa: E402
import mint  # noqa: E402

MODULE_SO = os.path.join(ROOT, "mod_cloudsmith_saml.so")
MELLON_SO = "/usr/lib/apache2/modules/mod_auth_mellon.so"
APACHE_MODULES = "/usr/lib/apache2/modules"
COMMON_MODULES = ["mpm_event", "authn_core", "authz_core", "authz_user", "proxy",
                  "proxy_http", "socache_shmcb", "headers", "setenvif", "env"]
SERVERS = ("plain", "mellon", "ours")
PLAIN_HEADERS = "plain+headers"  # proxied page only: plain Apache setting the six headers
PAGES = ("static", "proxied")
ORG = "app"
VALIDITY_S = 3 * 3600  # minted responses stay valid this long (and MaxIssueAge for ours)

PROFILES = {
    "default": dict(reps=3, duration=2, conns=[1, 8, 32, 64], warmup=1,
                    acs_duration=4, acs_conns=[2, 16], sessions=[1000, 100000],
                    mellon_sessions=[100, 300], profile_s=6, orgs=100,
                    scale_duration=3, scale_conns=32, cookie_sample=1000),
    "quick": dict(reps=3, duration=1, conns=[8, 64], warmup=1,
                  acs_duration=2, acs_conns=[2, 16], sessions=[1000, 10000],
                  mellon_sessions=[20, 60], profile_s=0, orgs=30,
                  scale_duration=1, scale_conns=32, cookie_sample=500),
}


class NoDelayEchoHandler(EchoHandler):
    """tests/integration/echo_backend.py's handler with TCP_NODELAY: it writes headers and
    body separately, so with Nagle and delayed ACKs every keep-alive response stalls 40 ms
    (25 req/s per connection); with it the backend serves about 7,000 req/s here."""
    disable_nagle_algorithm = True


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


# ---------------------------------------------------------------------------------------------
# servers

class BenchHttpd(Httpd):
    """tests/integration/httpd.py's private Apache, with the benchmark's own configuration:
    only the modules this server needs, no debug logging, two fixed children of 32 threads,
    unlimited keep-alive requests."""

    def __init__(self, name, workdir, load, global_conf, site_conf, port=None):
        super().__init__(workdir, MODULE_SO, site_conf, port=port, global_conf=global_conf)
        self.name = name
        self.load = load  # extra "LoadModule ..." lines

    def conf_text(self):
        loads = "\n".join("LoadModule %s_module %s/mod_%s.so" % (m, APACHE_MODULES, m)
                          for m in COMMON_MODULES)
        w = self.workdir
        return f"""
ServerRoot {w}
Listen 127.0.0.1:{self.port}
ServerName 127.0.0.1:{self.port}
PidFile {w}/httpd.pid
DefaultRuntimeDir {w}/run
Mutex file:{w}/run default
ErrorLog {self.error_log}
LogLevel warn
LogFormat "%h %l %u %t \\"%r\\" %>s %b" common
CustomLog {self.access_log} common
{loads}
{self.load}
User www-data
Group www-data
StartServers 2
ServerLimit 2
ThreadLimit 64
ThreadsPerChild 64
MaxRequestWorkers 128
MinSpareThreads 64
MaxSpareThreads 128
MaxConnectionsPerChild 0
KeepAlive On
KeepAliveTimeout 30
MaxKeepAliveRequests 0
DocumentRoot {w}/htdocs
<Directory {w}/htdocs>
    Require all granted
</Directory>
{self.global_conf}
{self.site_conf}
"""

    def pids(self):
        parent = self.proc.pid
        kids = []
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open("/proc/%s/stat" % d) as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == parent:
                    kids.append(int(d))
        return parent, sorted(kids)


def page_body():
    """The static page: JSON about the size of what the echo backend answers."""
    return json.dumps({"method": "GET", "path": "/app/static/page.json", "headers": [
        ["Host", "127.0.0.1"], ["User-Agent", "wrk"], ["X-Remote-User", "user@example.com"],
        ["X-Remote-Email", "user@example.com"], ["X-Remote-Org", "app"],
        ["X-Forwarded-For", "127.0.0.1"], ["X-Forwarded-Host", "127.0.0.1"]],
        "body": "", "padding": "x" * 300}).encode()


def site_common(backend_port, exclude=()):
    excl = "".join("ProxyPass /app/%s/ !\n" % e for e in ("static",) + tuple(exclude))
    return excl + "ProxyPass /app/ http://127.0.0.1:%d/app/\n" % backend_port


def mellon_sp_metadata(entity_id, endpoint, cert_pem):
    cert = mint.cert_base64(cert_pem)
    kd = ('<KeyDescriptor use="%s"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">'
          '<ds:X509Data><ds:X509Certificate>%s</ds:X509Certificate></ds:X509Data>'
          '</ds:KeyInfo></KeyDescriptor>')
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<EntityDescriptor entityID="{entity_id}" xmlns="urn:oasis:names:tc:SAML:2.0:metadata">
 <SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="true"
   protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
  {kd % ("signing", cert)}
  {kd % ("encryption", cert)}
  <SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
    Location="{endpoint}/logout"/>
  <NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</NameIDFormat>
  <AssertionConsumerService index="0" isDefault="true"
    Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
    Location="{endpoint}/postResponse"/>
 </SPSSODescriptor>
</EntityDescriptor>
"""


# what both modules send the backend (the same work for it)
IDENTITY_HEADERS = ("x-remote-user", "x-remote-email", "x-remote-first-name",
                    "x-remote-last-name", "x-remote-org", "x-remote-teams")


class Stack:
    """The three servers, the backend, the IdP, keys; knows each SP's ACS URL and audience."""

    def __init__(self, work, opts):
        self.work = work
        self.opts = opts
        self.backend = EchoBackend(free_port())
        self.backend.httpd.RequestHandlerClass = NoDelayEchoHandler
        self.backend.start()
        self.idp = mint.MintIdP(os.path.join(work, "idp"),
                                entity_id="http://bench-idp.test/metadata")
        self.sp_key = os.path.join(work, "sp.key")
        self.sp_crt = os.path.join(work, "sp.crt")
        mint.make_key_and_cert(self.sp_key, self.sp_crt, "bench-sp")
        os.chmod(self.sp_key, 0o644)
        self.servers = {}
        self.live = {}  # name -> logins accepted since the server started (live sessions)
        self.ports = {name: free_port() for name in SERVERS}
        self.cache_bytes = 0

    # ---- configuration of each server
    def conf_plain(self):
        return "", "", site_common(self.backend.port) + "<Location /app/>\n</Location>\n"

    def conf_mellon(self, cache_size):
        port = self.ports["mellon"]
        endpoint = "http://127.0.0.1:%d/app/mellon" % port
        md = os.path.join(self.work, "mellon-sp-metadata.xml")
        with open(md, "w") as f:
            f.write(mellon_sp_metadata(endpoint + "/metadata", endpoint,
                                       open(self.sp_crt).read()))
        w = os.path.join(self.work, "mellon")
        load = "LoadModule auth_mellon_module %s" % MELLON_SO
        # 65536 is the smallest entry mellon allows (default 196608): 100,000 entries of the
        # default size would not fit in this machine's memory.
        glob = (f"MellonCacheSize {cache_size}\nMellonCacheEntrySize 65536\n"
                f"MellonLockFile {w}/run/mellon.lock\n")
        site = site_common(self.backend.port, exclude=("mellon", "info")) + f"""
<Location /app/>
    AuthType Mellon
    MellonEnable auth
    MellonEndpointPath /app/mellon
    MellonSPPrivateKeyFile {self.sp_key}
    MellonSPCertFile {self.sp_crt}
    MellonSPMetadataFile {md}
    MellonIdPMetadataFile {self.idp.metadata_path}
    MellonDefaultLoginPath /app/
    MellonUser NAME_ID
    Require valid-user
    # the same six identity headers as the other module sends, so the backend does as much
    RequestHeader set X-Remote-User "expr=%{{REMOTE_USER}}"
    RequestHeader set X-Remote-Email "expr=%{{REMOTE_USER}}"
    RequestHeader set X-Remote-First-Name "%{{MELLON_firstName}}e"
    RequestHeader set X-Remote-Last-Name "%{{MELLON_lastName}}e"
    RequestHeader set X-Remote-Org app
    RequestHeader set X-Remote-Teams "%{{MELLON_groups}}e"
</Location>
# for the session-table scan alone: mellon looks the cookie up, never starts a login here
<Location /app/info/>
    MellonEnable info
    Require all granted
</Location>
"""
        return load, glob, site

    def conf_ours(self, name="ours", extra_global=""):
        w = os.path.join(self.work, name)
        load = "LoadModule cloudsmith_saml_module %s" % MODULE_SO
        glob = 'CloudsmithSAMLSessionCache "shmcb:%s/run/cs-cache(%d)"\n%s' % (
            w, self.cache_bytes, extra_global)
        site = site_common(self.backend.port) + f"""
<Location /app/>
    AuthType CloudsmithSAML
    CloudsmithSAMLOrg {ORG}
    CloudsmithSAMLIdPMetadataFile {self.idp.metadata_path}
    CloudsmithSAMLSPPrivateKeyFile {self.sp_key}
    CloudsmithSAMLSPCertFile {self.sp_crt}
    CloudsmithSAMLMaxIssueAge {VALIDITY_S}
    Require valid-user
</Location>
"""
        return load, glob, site

    def make(self, name, conf):
        load, glob, site = conf
        w = os.path.join(self.work, name)
        for d in ("static", "info"):
            os.makedirs(os.path.join(w, "htdocs", "app", d), exist_ok=True)
            with open(os.path.join(w, "htdocs", "app", d, "page.json"), "wb") as f:
                f.write(page_body())
        return BenchHttpd(name, w, load, glob, site, port=self.ports[name])

    def start(self, name, **kw):
        """(Re)starts one of SERVERS; kw go to its conf_* method."""
        conf = {"plain": self.conf_plain, "mellon": self.conf_mellon,
                "ours": self.conf_ours}[name](**kw)
        old = self.servers.get(name)
        if old:
            old.stop()
        return self.start_extra(name, conf)

    def conf_plain_headers(self, headers):
        """Plain Apache setting fixed identity headers [(name, value)] for the backend
        (mod_headers): the backend's work of an authenticated request, with no auth."""
        sets = "".join('    RequestHeader set %s "%s"\n' % (
            k, v.replace("\\", "\\\\").replace('"', '\\"')) for k, v in headers)
        return "", "", site_common(self.backend.port) + "<Location /app/>\n%s</Location>\n" % sets

    def start_extra(self, name, conf):
        """A server from conf (what a conf_* method returns) on its own port and files."""
        self.ports.setdefault(name, free_port())
        h = self.make(name, conf)
        h.start()
        self.servers[name] = h
        self.live[name] = 0
        return h

    def start_ours_variant(self, name, extra_global):
        """Another server with this module, extra_global added to its configuration (e.g. a
        setting turned off, to measure what it does)."""
        return self.start_extra(name, self.conf_ours(name, extra_global))

    def stop(self):
        for h in self.servers.values():
            h.stop()
        self.backend.stop()

    # ---- SAML endpoints of each SP
    def acs(self, name):
        port = self.ports[name]
        if name == "mellon":
            return ("http://127.0.0.1:%d/app/mellon/postResponse" % port,
                    "http://127.0.0.1:%d/app/mellon/metadata" % port)
        acs = "http://127.0.0.1:%d/app/saml/acs/" % port
        return acs, acs

    def url(self, name, page):
        path = "/app/static/page.json" if page == "static" else "/app/echo"
        return "http://127.0.0.1:%d%s" % (self.ports[name], path)

    def minter(self, name):
        acs, audience = self.acs(name)
        return fastmint.FastMinter(self.idp, acs, audience, validity_s=VALIDITY_S)


def login(stack, name, minter, tag):
    """One login by POST to the SP's ACS; returns the session cookie "name=value"."""
    acs, _ = stack.acs(name)
    body = minter.form_body("user-%s@example.com" % tag, "login%s" % tag)
    r = requests.post(acs, data=body, allow_redirects=False, timeout=30,
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    if r.status_code not in (302, 303) or "Set-Cookie" not in r.headers:
        raise RuntimeError("%s refused a minted login: %d %s\n%s" % (
            name, r.status_code, r.text[:500], stack.servers[name].read_error_log()[-3000:]))
    stack.live[name] += 1
    return r.headers["Set-Cookie"].split(";", 1)[0]


def check_page(stack, name, page, cookie, expect_status=200):
    r = requests.get(stack.url(name, page), headers={"Cookie": cookie} if cookie else {},
                     allow_redirects=False, timeout=10)
    if r.status_code != expect_status:
        raise RuntimeError("%s %s: status %d (expected %d): %s" % (
            name, page, r.status_code, expect_status, r.text[:300]))
    return r


# ---------------------------------------------------------------------------------------------
# wrk

def _ms(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    v, unit = float(m.group(1)), m.group(2)
    return v * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


def wrk(url, conns, duration, headers=(), script=None, script_args=(), timeout="10s"):
    duration = max(1, int(round(duration)))  # wrk takes whole seconds
    cmd = ["wrk", "-t1", "-c%d" % conns, "-d%ds" % duration, "--latency", "--timeout", timeout]
    for h in headers:
        cmd += ["-H", h]
    if script:
        cmd += ["-s", script]
    cmd.append(url)
    if script_args:
        cmd += ["--"] + [str(a) for a in script_args]
    p = run(cmd, timeout=duration + 120)
    out = p.stdout
    if p.returncode != 0 or "Requests/sec" not in out:
        raise RuntimeError("wrk failed: %s\n%s%s" % (" ".join(cmd), out, p.stderr))
    res = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
           "requests": int(re.search(r"(\d+) requests in", out).group(1)),
           "non2xx3xx": 0, "socket_errors": "", "raw": out}
    for pct, val in re.findall(r"^\s+(50|90|99)%\s+(\S+)$", out, re.M):
        res["p%s_ms" % pct] = _ms(val)
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        res["non2xx3xx"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    res["socket_errors"] = dict(zip(("connect", "read", "write", "timeout"),
                                    map(int, m.groups()))) if m else {}
    m = re.search(r"ACS sent=(\d+) ok=(\d+) refused=(\d+)", out)
    if m:
        res["sent"], res["ok"], res["refused"] = map(int, m.groups())
    return res


# ---------------------------------------------------------------------------------------------
# pre-minted bodies: one file per SP, one form per line, byte offsets of each line kept

class BodyFile:
    def __init__(self, path, minter, prefix, processes):
        self.path, self.minter, self.prefix, self.processes = path, minter, prefix, processes
        self.offsets = [0]
        self.next = 0  # index of the first unused body
        self.lock = threading.Lock()
        open(path, "wb").close()

    @property
    def minted(self):
        return len(self.offsets) - 1

    def ensure(self, n):
        """At least n unused bodies on file (mints the missing ones, appending as it goes);
        returns the seconds spent. Safe to run in a thread while take() reads."""
        with self.lock:
            t = time.time()
            missing = self.next + n - self.minted
            chunk = 4000
            while missing > 0:
                k = min(chunk, missing)
                bodies = fastmint.mint_many(self.minter, self.minted, k, self.prefix,
                                            processes=self.processes)
                offsets = []
                end = self.offsets[-1]
                with open(self.path, "ab") as f:
                    for b in bodies:
                        data = b.encode() + b"\n"
                        f.write(data)
                        end += len(data)
                        offsets.append(end)
                self.offsets.extend(offsets)  # published only once on disk
                missing -= k
            return time.time() - t

    def take(self, n):
        """(path, byte offset, count) of the next n unused bodies; n is capped to what exists."""
        n = min(n, self.minted - self.next)
        return self.path, self.offsets[self.next], n

    def consumed(self, n):
        self.next += n


def post_bodies(stack, name, bodies, count, conns, duration, cookies_out=None):
    """wrk posts up to count fresh bodies to name's ACS for duration seconds."""
    path, offset, n = bodies.take(count)
    acs, _ = stack.acs(name)
    args = [path, offset, n] + ([cookies_out] if cookies_out else [])
    res = wrk(acs, conns, duration, script=os.path.join(HERE, "acs.lua"), script_args=args,
              timeout="30s")
    bodies.consumed(res["sent"])
    stack.live[name] += res["ok"]
    res["exhausted"] = res["sent"] >= n
    return res


def fill_sessions(stack, name, bodies, target, cookies_out, conns=16, rate=500.0):
    """Post fresh bodies until name holds `target` accepted logins; returns the seconds taken.
    Minting (a second process pool) runs in the background while wrk posts what is ready:
    nothing is measured here, so the two may share the CPUs."""
    t0 = time.time()
    minter = None
    if bodies.next + (target - stack.live[name]) > bodies.minted:
        minter = threading.Thread(target=bodies.ensure, args=(target - stack.live[name] + 200,),
                                  daemon=True)
        minter.start()
    idle = 0
    while stack.live[name] < target:
        need = target - stack.live[name]
        ready = bodies.minted - bodies.next
        if ready < min(need, 200):
            if minter is None or not minter.is_alive():
                bodies.ensure(need)
            else:
                time.sleep(0.5)
            continue
        batch = min(need, ready)
        dur = int(max(2, min(30, batch / rate * 1.1 + 1)))
        res = post_bodies(stack, name, bodies, batch, conns, dur, cookies_out)
        if res["ok"] == 0:
            idle += 1
            if idle >= 4:
                raise RuntimeError("%s accepted no login while filling: %s\n%s" % (
                    name, res["raw"], stack.servers[name].read_error_log()[-2000:]))
            rate = max(1.0, rate / 4)
            continue
        idle = 0
        if not res["exhausted"]:
            rate = max(1.0, res["ok"] / dur)
        elif res["ok"] >= batch * 0.9:
            rate = max(rate, res["ok"] / dur)
    if minter is not None:
        minter.join()
    return time.time() - t0


# ---------------------------------------------------------------------------------------------
# memory

def smaps(pid):
    pss = rss = shared_store = 0
    cur_shared = False
    cur_size = 0
    try:
        with open("/proc/%d/smaps" % pid) as f:
            for line in f:
                if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                    parts = line.split()
                    lo, hi = (int(x, 16) for x in parts[0].split("-"))
                    cur_shared = parts[1][3] == "s"
                    cur_size = hi - lo
                elif line.startswith("Pss:"):
                    kb = int(line.split()[1])
                    pss += kb
                    if cur_shared and cur_size >= (1 << 20):
                        shared_store += kb
                elif line.startswith("Rss:"):
                    rss += int(line.split()[1])
    except OSError:
        pass
    return {"pss_kb": pss, "rss_kb": rss, "shm_pss_kb": shared_store}


def memory(httpd):
    parent, kids = httpd.pids()
    per = {pid: smaps(pid) for pid in [parent] + kids}
    return {"pss_kb": sum(v["pss_kb"] for v in per.values()),
            "shm_pss_kb": sum(v["shm_pss_kb"] for v in per.values()),
            "parent_rss_kb": per[parent]["rss_kb"],
            "child_rss_kb": [per[k]["rss_kb"] for k in kids]}


# ---------------------------------------------------------------------------------------------
# perf

# Where a sample's time goes: the first category (in this order) any frame of its call stack
# matches, so nested work counts once, in the most telling category. A matcher is a regex on
# the symbol, or "@dso-substring" for any frame in that shared object.
CATEGORIES = [
    ("LassoServer rebuilt per request (mellon: xmlsec key manager + system CA bundle)",
     [r"^lasso_server_new", r"^xmlSecOpenSSLAppDefaultKeysMngrInit",
      r"^X509_STORE_set_default_paths"]),
    ("signer key copied per signature (xmlSecKeyDuplicate: OpenSSL 3 decoders)",
     [r"^xmlSecKeyDuplicate", r"^xmlSecKeyCopy"]),
    ("Lasso debug logging (lasso_log: vsnprintf, localtime -> stat /etc/localtime)",
     [r"^lasso_log$"]),
    ("RSA signature verification", [r"^EVP_VerifyFinal", r"^EVP_DigestVerifyFinal",
                                    r"^EVP_PKEY_verify", r"^RSA_verify", r"^rsa_ossl_public"]),
    ("signed-content digest + c14n (xmlsec references)",
     [r"^xmlSecDSigReferenceCtx", r"^xmlC14N", r"^xmlSecTransformCtxXmlExecute"]),
    ("other signature work (xmlsec)", [r"^xmlSec", "@libxmlsec1"]),
    ("XML parsing (libxml2 parser)", [r"^xmlParse", r"^xmlReadMemory", r"^xmlCtxtRead",
                                      r"^xmlNewParserCtxt", r"^xmlSAX", r"^saml_xml_parse",
                                      r"^xmlDictCreate"]),
    ("Lasso object work (nodes, GObject)", [r"^lasso_", "@liblasso", "@libgobject",
                                            "@libglib"]),
    ("session store: lock + shmcb", [r"^apr_global_mutex", r"^apr_proc_mutex",
                                     r"^socache_shmcb", "@mod_socache_shmcb"]),
    ("session record: seal/open, JSON, cache key", [r"^session_", r"^json_", "@libjansson"]),
    ("this module, other", ["@mod_cloudsmith_saml"]),
    ("mod_auth_mellon, other", ["@mod_auth_mellon"]),
    ("other libcrypto", ["@libcrypto"]),
    ("other libxml2", ["@libxml2"]),
    ("httpd, APR, libc, kernel (connection, I/O, logging)", [r".*"]),
]


def _compile_categories():
    out = []
    for name, matchers in CATEGORIES:
        rx = [re.compile(m) for m in matchers if not m.startswith("@")]
        dsos = [m[1:] for m in matchers if m.startswith("@")]
        out.append((name, rx, dsos))
    return out


def perf_stacks(path):
    """[(frames leaf->root as (sym, dso))] from perf script."""
    p = subprocess.run(["perf", "script", "-i", path, "-F", "ip,sym,dso"], capture_output=True,
                       text=True, timeout=600)
    stacks, cur = [], []
    for line in p.stdout.splitlines():
        line = line.strip()
        if not line:
            if cur:
                stacks.append(cur)
            cur = []
            continue
        m = re.match(r"^[0-9a-f]+\s+(.*?)\s+\((.*)\)$", line)
        if m:
            sym = re.sub(r"\+0x[0-9a-f]+$", "", m.group(1))
            cur.append((sym, os.path.basename(m.group(2))))
    if cur:
        stacks.append(cur)
    return stacks


def perf_profile(pids, seconds, out_path, our_dsos=("mod_cloudsmith_saml", "mod_auth_mellon")):
    """perf record (DWARF call stacks) of pids for seconds; shares of samples by category,
    inclusive shares of the auth modules' own functions, and self time by shared object."""
    cmd = ["perf", "record", "-q", "-F", "299", "--call-graph", "dwarf,8192", "-o", out_path,
           "-p", ",".join(map(str, pids)), "--", "sleep", str(seconds)]
    p = run(cmd, timeout=seconds + 120)
    if p.returncode != 0 or not os.path.exists(out_path):
        return {"error": (p.stderr or p.stdout)[-500:]}
    stacks = perf_stacks(out_path)
    os.unlink(out_path)
    n = len(stacks) or 1
    cats = _compile_categories()
    shares = {name: 0 for name, _, _ in cats}
    incl, self_dso = {}, {}
    for st in stacks:
        for name, rx, dsos in cats:
            if any(any(r.search(sym) for r in rx) or any(d in dso for d in dsos)
                   for sym, dso in st):
                shares[name] += 1
                break
        leaf_dso = st[0][1] if st else "?"
        self_dso[leaf_dso] = self_dso.get(leaf_dso, 0) + 1
        seen = set()
        for sym, dso in st:
            if any(d in dso for d in our_dsos) and sym != "[unknown]" and sym not in seen:
                seen.add(sym)
                incl[sym] = incl.get(sym, 0) + 1
    pct = lambda d: {k: 100.0 * v / n for k, v in sorted(d.items(), key=lambda kv: -kv[1])
                     if v}
    return {"samples": len(stacks), "categories": pct(shares),
            "inclusive": dict(list(pct(incl).items())[:15]),
            "self_dso": dict(list(pct(self_dso).items())[:10])}


# ---------------------------------------------------------------------------------------------
# the phases

def median(xs):
    return statistics.median(xs) if xs else float("nan")


# ---------------------------------------------------------------------------------------------
# two module servers against plain Apache (sessions_redis.py, orgs_registry.py)
def access_statuses(httpd, offset):
    """Statuses in the access log from byte offset on (common format: status second to last)."""
    got = collections.Counter()
    with open(httpd.access_log, "rb") as f:
        f.seek(offset)
        for line in f.read().splitlines():
            parts = line.rsplit(None, 2)
            if len(parts) == 3:
                got[parts[1].decode()] += 1
    return got


def measure_all_200(httpd, path, conns, duration, cookie_file):
    """One wrk run sending a different cookie of cookie_file ("PATH COOKIE" or "COOKIE" lines,
    cookies.lua) on every request; fails unless every answer was a 200 and nearly every
    request got one."""
    offset = os.path.getsize(httpd.access_log)
    res = wrk(httpd.base_url + path, conns, duration,
              script=os.path.join(HERE, "cookies.lua"), script_args=[cookie_file])
    time.sleep(0.2)  # the last lines of the access log
    got = access_statuses(httpd, offset)
    errors = sum(res["socket_errors"].values())
    if set(got) != {"200"} or got["200"] < res["requests"] or res["non2xx3xx"] \
            or errors > 0.01 * res["requests"]:
        raise RuntimeError("%s c=%d: not all answers were 200 (access log %s; wrk %d requests, "
                           "socket errors %s): nothing reported\n%s" % (
                               httpd.name, conns, dict(got), res["requests"],
                               res["socket_errors"], httpd.read_error_log()[-2000:]))
    return res


def interleaved_cost(servers, names, cookie_files, opts, path):
    """names = (a, b, "plain"): req/s of each at every opts["conns"], opts["reps"] times, the
    order rotating each repetition; the ratios a/b (b's cost against a's), a/plain and b/plain
    within each repetition, then the medians. One row per connection count, with each value's
    median and its list (key + "_all")."""
    a, b, plain = names
    ratios = ("%s/%s" % (a, b), "%s/%s" % (a, plain), "%s/%s" % (b, plain))
    rows = {c: {k: [] for k in names + ratios} for c in opts["conns"]}
    for name in names:
        measure_all_200(servers[name], path, max(opts["conns"]), 1, cookie_files[name])  # warm
    for rep in range(opts["reps"]):
        order = names[rep % 3:] + names[:rep % 3]
        for conns in opts["conns"]:
            got = {name: measure_all_200(servers[name], path, conns, opts["duration"],
                                         cookie_files[name])["rps"] for name in order}
            r = rows[conns]
            for name in names:
                r[name].append(got[name])
            for k in ratios:
                top, bottom = k.split("/")
                r[k].append(got[top] / got[bottom])
            log("  rep %d c=%-2d %s %6.0f  %s %6.0f  %s %6.0f req/s  cost %s/%s %.3f" % (
                rep + 1, conns, a, got[a], b, got[b], plain, got[plain], b, a, got[a] / got[b]))
    return [{"conns": c, **{k: median(v) for k, v in rows[c].items()},
             **{k + "_all": v for k, v in rows[c].items()}} for c in opts["conns"]]


def phase_protected(stack, opts, cookies, results):
    """1. req/s on a protected page with a valid session, at each connection count."""
    rows = {}  # (page, conns) -> {server: [rps...], "ours/plain": [...], ...}
    extra = [PLAIN_HEADERS] if PLAIN_HEADERS in stack.servers else []
    for name in SERVERS + tuple(extra):
        for page in PAGES if name in SERVERS else ("proxied",):
            wrk(stack.url(name, page), 32, opts["warmup"],
                headers=["Cookie: " + cookies[name]] if cookies[name] else [])
    for rep in range(opts["reps"]):
        order = list(SERVERS[rep % 3:] + SERVERS[:rep % 3])
        for page in PAGES:
            for conns in opts["conns"]:
                got = {}
                for name in order + (extra if page == "proxied" else []):
                    hdr = ["Cookie: " + cookies[name]] if cookies[name] else []
                    res = wrk(stack.url(name, page), conns, opts["duration"], headers=hdr)
                    stack.backend.requests.clear()
                    errs = sum(res["socket_errors"].values())
                    if res["non2xx3xx"] or errs > 0.01 * res["requests"]:
                        log("  warning: %s %s c=%d: non-2xx/3xx %d, socket errors %s" % (
                            name, page, conns, res["non2xx3xx"], res["socket_errors"]))
                    got[name] = res
                r = rows.setdefault((page, conns), {k: [] for k in SERVERS + (
                    "ours/plain", "ours/mellon", "p50_plain", "p50_mellon", "p50_ours")})
                for name in SERVERS:
                    r[name].append(got[name]["rps"])
                    r["p50_" + name].append(got[name].get("p50_ms", float("nan")))
                r["ours/plain"].append(got["ours"]["rps"] / got["plain"]["rps"])
                r["ours/mellon"].append(got["ours"]["rps"] / got["mellon"]["rps"])
                if PLAIN_HEADERS in got:
                    r.setdefault(PLAIN_HEADERS, []).append(got[PLAIN_HEADERS]["rps"])
                    r.setdefault("ours/" + PLAIN_HEADERS, []).append(
                        got["ours"]["rps"] / got[PLAIN_HEADERS]["rps"])
                log("  rep %d %-7s c=%-3d plain %7.0f  mellon %7.0f  ours %7.0f req/s" % (
                    rep + 1, page, conns, got["plain"]["rps"], got["mellon"]["rps"],
                    got["ours"]["rps"]))
    # the cookies still work after the runs (no silent 303s measured)
    for name in SERVERS:
        for page in PAGES:
            check_page(stack, name, page, cookies[name])
    results["protected"] = [
        {"page": page, "conns": conns,
         **{name: median(r[name]) for name in SERVERS},
         **{"p50_ms_" + name: median(r["p50_" + name]) for name in SERVERS},
         "ours/plain": median(r["ours/plain"]), "ours/mellon": median(r["ours/mellon"]),
         "ours/plain_all": r["ours/plain"], "ours/mellon_all": r["ours/mellon"],
         **({PLAIN_HEADERS: median(r[PLAIN_HEADERS]),
             "ours/" + PLAIN_HEADERS: median(r["ours/" + PLAIN_HEADERS])}
            if PLAIN_HEADERS in r else {})}
        for (page, conns), r in sorted(rows.items(), key=lambda kv: (PAGES.index(kv[0][0]),
                                                                        kv[0][1]))]


def phase_acs(stack, opts, bodies, results, cookie_files):
    """2. ACS logins/s at saturation, at each concurrency, interleaved, on distinct fresh
    responses every run. The goal compares each server at its best concurrency."""
    conns_list = opts["acs_conns"]
    per = {(name, c): [] for name in ("ours", "mellon") for c in conns_list}
    best_ratios = []
    est = {}
    for name in ("ours", "mellon"):  # calibration (and warm-up): how many bodies a run needs
        bodies[name].ensure(1500)
        res = post_bodies(stack, name, bodies[name], 1500, max(conns_list), 1,
                          cookie_files[name] if name == "ours" else None)
        est[name] = max(20.0, res["ok"] * (2.0 if res["exhausted"] else 1.0))
        log("  %s calibration: %d logins in 1 s" % (name, res["ok"]))
    for rep in range(opts["reps"]):
        best = {}
        for conns in conns_list:
            for name in (("ours", "mellon") if rep % 2 == 0 else ("mellon", "ours")):
                for attempt in range(3):
                    n = int(est[name] * opts["acs_duration"] * 1.5) + 100
                    bodies[name].ensure(n)
                    res = post_bodies(stack, name, bodies[name], n, conns, opts["acs_duration"],
                                      cookie_files[name] if name == "ours" else None)
                    if not res["exhausted"]:
                        break
                    est[name] *= 2.5  # ran out of fresh responses before the end: again
                    log("  %s used all %d responses in %ds: again with more" % (
                        name, n, opts["acs_duration"]))
                est[name] = max(est[name], res["ok"] / opts["acs_duration"])
                if res["refused"]:
                    log("  warning: %s refused %d of %d minted responses" % (
                        name, res["refused"], res["sent"]))
                rate = res["ok"] / opts["acs_duration"]
                per[(name, conns)].append(rate)
                best[name] = max(best.get(name, 0.0), rate)
            log("  rep %d c=%-2d ACS logins/s: mellon %.1f  ours %.0f" % (
                rep + 1, conns, per[("mellon", conns)][-1], per[("ours", conns)][-1]))
        best_ratios.append(best["ours"] / max(best["mellon"], 1e-9))
    rows = [{"conns": c, "ours": median(per[("ours", c)]), "mellon": median(per[("mellon", c)]),
             "ours_all": per[("ours", c)], "mellon_all": per[("mellon", c)]}
            for c in conns_list]
    for r in rows:
        r["ours/mellon"] = r["ours"] / max(r["mellon"], 1e-9)
    results["acs"] = {"rows": rows, "ours": max(r["ours"] for r in rows),
                      "mellon": max(r["mellon"] for r in rows),
                      "best_conns": {n: max(rows, key=lambda r: r[n])["conns"]
                                     for n in ("ours", "mellon")},
                      "ours/mellon": median(best_ratios), "ratios": best_ratios,
                      "duration_s": opts["acs_duration"]}


def phase_profile(stack, opts, bodies, results, work):
    """perf profile of each SP's children during an ACS run, and of ours on protected GETs."""
    if not shutil.which("perf"):
        results["profile"] = {"error": "perf not installed"}
        return
    prof = {}
    for name in ("ours", "mellon"):
        h = stack.servers[name]
        _, kids = h.pids()
        n = int(results["acs"][name] * (opts["profile_s"] + 2) * 1.5) + 500
        bodies[name].ensure(n)
        path, offset, count = bodies[name].take(n)
        acs, _ = stack.acs(name)
        dur = opts["profile_s"] + 2
        # mellon stalls on OpenSSL 3 locks with many concurrent logins (its threads sleep):
        # profile each where it works, ours saturated, mellon at 2 connections
        cmd = ["wrk", "-t1", "-c%d" % (16 if name == "ours" else 2), "-d%ss" % dur,
               "--timeout", "30s",
               "-s", os.path.join(HERE, "acs.lua"), acs, "--", path, str(offset), str(count)]
        w = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        prof["acs_" + name] = perf_profile(kids, opts["profile_s"],
                                           os.path.join(work, "perf-acs-%s.data" % name))
        out, _ = w.communicate(timeout=dur + 60)
        m = re.search(r"ACS sent=(\d+) ok=(\d+)", out)
        if m:
            bodies[name].consumed(int(m.group(1)))
            stack.live[name] += int(m.group(2))
            prof["acs_" + name]["logins_per_s"] = int(m.group(2)) / dur
    h = stack.servers["ours"]
    _, kids = h.pids()
    cookie = login(stack, "ours", stack.minter("ours"), "profile")  # a session surely live
    dur = opts["profile_s"] + 2
    w = subprocess.Popen(["wrk", "-t1", "-c32", "-d%ss" % dur, "-H", "Cookie: " + cookie,
                          stack.url("ours", "static")], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    prof["protected_ours"] = perf_profile(kids, opts["profile_s"],
                                          os.path.join(work, "perf-get-ours.data"))
    w.communicate(timeout=dur + 60)
    results["profile"] = prof


def measure_cookie_rps(stack, name, cookie_file, opts, page="static"):
    res = wrk(stack.url(name, page), opts["scale_conns"], opts["scale_duration"],
              script=os.path.join(HERE, "cookies.lua"), script_args=[cookie_file])
    return res


def sample_cookies(src, n, dst, seed=1):
    with open(src) as f:
        lines = [l.strip() for l in f if l.strip()]
    random.Random(seed).shuffle(lines)
    pick = lines[:n]
    with open(dst, "w") as f:
        f.write("\n".join(pick) + "\n")
    return pick


def verify_cookies(stack, name, cookies, page="static"):
    """How many of the cookies still open a session. Ours is asked with POST: without a
    session it answers 401 and stores nothing, where a GET would start a login and store
    its state in the same cache (evicting what is being counted). mellon: GET gives 200."""
    s = requests.Session()
    good = 0
    for c in cookies:
        if name == "ours":
            r = s.post(stack.url(name, page), headers={"Cookie": c}, allow_redirects=False,
                       timeout=10)
            good += r.status_code not in (401, 302, 303)
        else:
            r = s.get(stack.url(name, page), headers={"Cookie": c}, allow_redirects=False,
                      timeout=10)
            good += r.status_code == 200
    return good


def phase_scale(stack, opts, bodies, results, work, cookie_files, name, size):
    """3 and 4 (sessions): fill name to `size` accepted logins, check that the sessions are
    still there, then the protected-request cost with a different user's cookie on each
    request, and the server's memory."""
    # mellon's logins collapse under concurrency (OpenSSL 3 lock contention): fill it with 2
    acs = results.get("acs", {})
    secs = fill_sessions(stack, name, bodies[name], size, cookie_files[name],
                         conns=16 if name == "ours" else 2, rate=max(2.0, acs.get(name, 500.0)))
    n_have = stack.live[name]
    sample_path = os.path.join(work, "sample-%s-%d.txt" % (name, size))
    sample = sample_cookies(cookie_files[name], opts["cookie_sample"], sample_path)
    live = verify_cookies(stack, name, sample)
    log("  %s: %d logins accepted (filled in %.0fs); %d of %d sampled sessions still live" % (
        name, n_have, secs, live, len(sample)))
    rps = []
    for rep in range(opts["reps"]):
        rps.append(measure_cookie_rps(stack, name, sample_path, opts)["rps"])
    mem = memory(stack.servers[name])
    results.setdefault("scale", {}).setdefault(name, []).append(
        {"sessions": n_have, "rps": median(rps), "rps_all": rps, "sample": len(sample),
         "sample_live": live, "valid": live >= 0.99 * len(sample), "fill_s": secs,
         "mem": mem})
    log("  %s at %d sessions: %.0f req/s, PSS %.0f MiB" % (
        name, n_have, median(rps), mem["pss_kb"] / 1024))


def phase_mellon_scan(stack, opts, results):
    """mellon's lookup of a cookie it does not know scans its whole table (MellonCacheSize
    entries) under its global lock: what every lookup costs on average once half that many
    sessions are live. Measured on a MellonEnable info location (no login started)."""
    url = "http://127.0.0.1:%d/app/info/page.json" % stack.ports["mellon"]
    unknown = "Cookie: mellon-cookie=%032x" % random.getrandbits(128)
    got = {"no cookie": [], "unknown cookie": []}
    for rep in range(opts["reps"]):
        got["no cookie"].append(wrk(url, opts["scale_conns"], opts["scale_duration"])["rps"])
        got["unknown cookie"].append(wrk(url, opts["scale_conns"], opts["scale_duration"],
                                         headers=[unknown])["rps"])
    a, b = median(got["no cookie"]), median(got["unknown cookie"])
    per_entry = (1.0 / b - 1.0 / a) / 100000
    results["mellon_scan"] = {"no_cookie_rps": a, "full_scan_rps": b, "entries": 100000,
                              "per_entry_ns": per_entry * 1e9}
    log("  mellon info page: %.0f req/s without cookie, %.0f with an unknown cookie (a "
        "100,000-entry scan, %.1f ns per entry)" % (a, b, per_entry * 1e9))


def phase_orgs(stack, opts, results, work):
    """4 (orgs): PSS of a server with 1 vs N orgs (ours), and mellon with 1 vs N locations."""
    res = {}
    for name in ("ours", "mellon"):
        for n in (1, opts["orgs"]):
            w = os.path.join(work, "orgs-%s-%d" % (name, n))
            os.makedirs(os.path.join(w, "htdocs"), exist_ok=True)
            port = free_port()
            locs = []
            for i in range(n):
                slug = "org%03d" % i
                if name == "ours":
                    locs.append(f"""<Location /{slug}/>
    AuthType CloudsmithSAML
    CloudsmithSAMLOrg {slug}
    CloudsmithSAMLIdPMetadataFile {stack.idp.metadata_path}
    Require valid-user
</Location>""")
                else:
                    md = os.path.join(w, "%s-sp.xml" % slug)
                    ep = "http://127.0.0.1:%d/%s/mellon" % (port, slug)
                    with open(md, "w") as f:
                        f.write(mellon_sp_metadata(ep + "/metadata", ep,
                                                   open(stack.sp_crt).read()))
                    locs.append(f"""<Location /{slug}/>
    AuthType Mellon
    MellonEnable auth
    MellonEndpointPath /{slug}/mellon
    MellonSPPrivateKeyFile {stack.sp_key}
    MellonSPCertFile {stack.sp_crt}
    MellonSPMetadataFile {md}
    MellonIdPMetadataFile {stack.idp.metadata_path}
    Require valid-user
</Location>""")
            if name == "ours":
                load = "LoadModule cloudsmith_saml_module %s" % MODULE_SO
                glob = "CloudsmithSAMLSessionCache shmcb\n"
            else:
                load = "LoadModule auth_mellon_module %s" % MELLON_SO
                glob = "MellonCacheSize 100\nMellonLockFile %s/run/mellon.lock\n" % w
            h = BenchHttpd("orgs", w, load, glob, "\n".join(locs), port=port)
            h.start()
            try:
                # ours builds each org's Lasso server at startup; one GET per org (a login
                # redirect) uses it. mellon keeps no Lasso server per location: it builds one
                # per login request and frees it, so it is measured after startup only.
                if name == "ours":
                    s = requests.Session()
                    for i in range(n):
                        s.get("http://127.0.0.1:%d/org%03d/" % (port, i), allow_redirects=False,
                              timeout=10)
                time.sleep(0.5)
                res[(name, n)] = memory(h)
            finally:
                h.stop()
    n = opts["orgs"]
    results["orgs"] = {name: {"one_kb": res[(name, 1)]["pss_kb"], "n": n,
                              "n_kb": res[(name, n)]["pss_kb"],
                              "per_org_kb": (res[(name, n)]["pss_kb"] - res[(name, 1)]["pss_kb"])
                              / (n - 1),
                              "child_rss_kb_1": res[(name, 1)]["child_rss_kb"],
                              "child_rss_kb_n": res[(name, n)]["child_rss_kb"]}
                       for name in ("ours", "mellon")}


# ---------------------------------------------------------------------------------------------
# report

def machine():
    info = {}
    p = run(["lscpu"])
    for line in p.stdout.splitlines():
        k, _, v = line.partition(":")
        info[k.strip()] = v.strip()
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    return {"cpu": info.get("Model name", "?"), "cpus": os.cpu_count(),
            "mem_gib": round(mem_kb / 1048576, 1), "kernel": platform.release(),
            "httpd": run(["/usr/sbin/apache2", "-v"]).stdout.splitlines()[0].split(":", 1)[-1]
            .strip(),
            "mellon": run(["dpkg-query", "-W", "-f=${Version}",
                           "libapache2-mod-auth-mellon"]).stdout,
            "lasso": run(["dpkg-query", "-W", "-f=${Version}", "liblasso3"]).stdout,
            "wrk": run(["dpkg-query", "-W", "-f=${Version}", "wrk"]).stdout}


def machine_text(m, *tools):
    """The machine line of a report: CPU, memory, kernel, httpd, then "name version" of each
    (label, key of m) in tools."""
    return "%s, %d CPUs, %.0f GiB, Linux %s; %s%s" % (
        m["cpu"], m["cpus"], m["mem_gib"], m["kernel"], m["httpd"],
        "".join(", %s %s" % (label, m[key]) for label, key in tools))


def load_snapshot():
    with open("/proc/loadavg") as f:
        la = f.read().split()[:3]
    p = run(["ps", "-eo", "pcpu,comm", "--sort=-pcpu", "--no-headers"])
    busy = [l.split(None, 1) for l in p.stdout.splitlines()[:8]]
    busy = ["%s %s%%" % (c.strip(), pc) for pc, c in busy if float(pc) >= 20.0]
    return {"loadavg": la, "busy": busy}


def fmt_goal(value, goal, higher=True):
    ok = value >= goal if higher else value <= goal
    return "%.2f %s" % (value, "(goal %s %.2f: met)" % (">=" if higher else "<=", goal)
                        if ok else "(goal %s %.2f: MISSED)" % (">=" if higher else "<=", goal))


def report(results, opts, cmdline):
    L = []
    m = results["machine"]
    L.append("# mod_cloudsmith_saml benchmark: %s" % results["date"])
    L.append("")
    L.append("Command: `%s` (profile %s; %.0f s). Machine: %s." % (
        cmdline, results["profile_name"], results["elapsed_s"],
        machine_text(m, ("mod_auth_mellon", "mellon"), ("Lasso", "lasso"), ("wrk", "wrk"))))
    la0, la1 = results["load_before"], results["load_after"]
    L.append("Load average before/after: %s / %s%s." % (
        " ".join(la0["loadavg"]), " ".join(la1["loadavg"]),
        ("; other busy processes at start: " + ", ".join(la0["busy"])) if la0["busy"] else ""))
    L.append("All three servers: event MPM, 2 children x 64 threads, keep-alive unlimited, same "
             "modules apart from the auth module, same access log; wrk -t1 on the same host. "
             "Medians of %d interleaved repetitions; ratios computed within each repetition, "
             "then the median." % opts["reps"])
    L.append("")
    if "protected" in results:
        L.append("## 1. Protected request with a valid session (req/s)")
        L.append("")
        L.append("static: a 600-byte file served by Apache inside the protected Location (the "
                 "module's whole cost is visible); proxied: the echo backend (Python) behind "
                 "mod_proxy, which is the ceiling there (it echoes every header as JSON; both "
                 "modules send the same six X-Remote-* headers, mellon through mod_headers "
                 "from its MELLON_* variables). Each run %.0f s." %
                 opts["duration"])
        L.append("")
        L.append("| page | conns | plain | mellon | ours | ours/plain | ours/mellon | "
                 "p50 ms plain / mellon / ours |")
        L.append("|---|---:|---:|---:|---:|---:|---:|---|")
        for r in results["protected"]:
            L.append("| %s | %d | %.0f | %.0f | %.0f | %.2f | %.2f | %.2f / %.2f / %.2f |" % (
                r["page"], r["conns"], r["plain"], r["mellon"], r["ours"], r["ours/plain"],
                r["ours/mellon"], r["p50_ms_plain"], r["p50_ms_mellon"], r["p50_ms_ours"]))
        worst_plain = min(results["protected"], key=lambda r: r["ours/plain"])
        worst_mellon = min(results["protected"], key=lambda r: r["ours/mellon"])
        L.append("")
        L.append("Lowest ours/plain: %s (%s, %d conns). Lowest ours/mellon: %s (%s, %d conns)." % (
            fmt_goal(worst_plain["ours/plain"], 0.95), worst_plain["page"], worst_plain["conns"],
            fmt_goal(worst_mellon["ours/mellon"], 1.0), worst_mellon["page"],
            worst_mellon["conns"]))
        with_headers = [r for r in results["protected"] if PLAIN_HEADERS in r]
        if with_headers:
            L.append("")
            L.append("Proxied, against plain Apache setting the same six headers with the same "
                     "values (mod_headers), so the backend does the same work: ours/(plain+"
                     "headers) %s at %s connections (plain+headers/plain %s)." % (
                         " / ".join("%.2f" % r["ours/" + PLAIN_HEADERS] for r in with_headers),
                         " / ".join(str(r["conns"]) for r in with_headers),
                         " / ".join("%.2f" % (r[PLAIN_HEADERS] / r["plain"])
                                    for r in with_headers)))
        L.append("")
    if "acs" in results:
        a = results["acs"]
        L.append("## 2. ACS POST throughput (logins/s)")
        L.append("")
        L.append("Distinct responses (RSA-2048/SHA-256 signed assertion, unsigned Response, as Okta "
                 "sends), IdP-initiated, posted by wrk at each concurrency for %d s per run; only "
                 "accepted logins (302/303 with a session cookie) count. Both SPs have an SP key "
                 "and certificate." % a["duration_s"])
        L.append("")
        L.append("| conns | mellon | ours | ours/mellon |")
        L.append("|---:|---:|---:|---:|")
        for r in a["rows"]:
            L.append("| %d | %.1f | %.0f | %.1f |" % (r["conns"], r["mellon"], r["ours"],
                                                     r["ours/mellon"]))
        L.append("| best | %.1f (c=%d) | %.0f (c=%d) | %s |" % (
            a["mellon"], a["best_conns"]["mellon"], a["ours"], a["best_conns"]["ours"],
            fmt_goal(a["ours/mellon"], 1.2)))
        L.append("")
        prof = results.get("profile", {})
        cols = [("acs_ours", "ours ACS"), ("acs_mellon", "mellon ACS"),
                ("protected_ours", "ours protected GET")]
        cols = [(k, t) for k, t in cols if "categories" in prof.get(k, {})]
        if cols:
            L.append("Where the time goes: perf (DWARF call stacks, 299 Hz) on the httpd children "
                     "during a saturating run; % of samples, each counted once in the first "
                     "category its call stack reaches (so nested work is not counted twice):")
            L.append("")
            L.append("| category | " + " | ".join(t for _, t in cols) + " |")
            L.append("|---|" + "---:|" * len(cols))
            for name, _ in CATEGORIES:
                vals = [prof[k]["categories"].get(name, 0.0) for k, _ in cols]
                if any(v >= 0.5 for v in vals):
                    L.append("| %s | %s |" % (name, " | ".join("%.1f" % v for v in vals)))
            L.append("| samples | %s |" % " | ".join(str(prof[k]["samples"]) for k, _ in cols))
            for k, t in cols:
                inc = prof[k].get("inclusive", {})
                if inc:
                    L.append("")
                    L.append("%s, inclusive %% in the module's own functions: %s." % (t, ", ".join(
                        "%s %.1f" % kv for kv in list(inc.items())[:10])))
            if "acs_ours" in prof and "logins_per_s" in prof["acs_ours"]:
                rsa = prof["acs_ours"]["categories"].get("RSA signature verification", 0.0)
                lps = results["acs"]["ours"]
                L.append("")
                L.append("Physical limit: RSA verification is %.1f%% of the ACS time. %.0f logins/s "
                         "on %d CPUs (shared with wrk and other jobs) is at most %.0f us of CPU per "
                         "login, against about 20 us for one RSA-2048 verification (`openssl speed "
                         "rsa2048`)." % (rsa, lps, results["machine"]["cpus"],
                                         results["machine"]["cpus"] * 1e6 / lps if lps else 0))
            L.append("")
    if "scale" in results:
        L.append("## 3. Sessions at scale (protected static page, %d conns, a different user's "
                 "cookie on every request)" % opts["scale_conns"])
        L.append("")
        L.append("Sessions are created by posting minted responses to the ACS; before measuring, "
                 "%d sampled cookies (spread over all logins) are checked to still open a "
                 "session. A row where they do not measures redirects, not session lookups." %
                 opts["cookie_sample"])
        L.append("")
        L.append("| server | logins accepted | sampled sessions live | req/s | PSS all processes "
                 "MiB | session store PSS MiB |")
        L.append("|---|---:|---:|---:|---:|---:|")
        sc = results["scale"]
        for name in ("ours", "mellon"):
            for r in sc.get(name, []):
                L.append("| %s | %d | %d/%d%s | %.0f | %.1f | %.1f |" % (
                    "ours (shmcb %d MiB)" % (results["cache_bytes"] >> 20) if name == "ours"
                    else "mellon (MellonCacheSize 100000)", r["sessions"], r["sample_live"],
                    r["sample"], "" if r["valid"] else " **evicted**", r["rps"],
                    r["mem"]["pss_kb"] / 1024, r["mem"]["shm_pss_kb"] / 1024))
        L.append("")
        o = sc.get("ours", [])
        if len(o) >= 2:
            ratio = o[0]["rps"] / o[-1]["rps"]
            if all(r["valid"] for r in o):
                L.append("ours: cost per request at %d vs %d sessions (inverse req/s ratio) %s." % (
                    o[-1]["sessions"], o[0]["sessions"], fmt_goal(ratio, 1.1, higher=False)))
            else:
                bad = [r for r in o if not r["valid"]][0]
                L.append("ours: NOT MEASURABLE: after %d logins only %d of %d sampled sessions "
                         "are still in the store, which is far from full (see the store PSS), "
                         "so the rows marked evicted measure login redirects, not session "
                         "lookups." % (bad["sessions"], bad["sample_live"], bad["sample"]))
        me = sc.get("mellon", [])
        ms = results.get("mellon_scan")
        if me and ms:
            a0 = me[0]
            per_entry = ms["per_entry_ns"] * 1e-9
            c100k = 1.0 / a0["rps"] + per_entry * (100000 - a0["sessions"]) / 2.0
            results["mellon_extrapolated_100k_rps"] = 1.0 / c100k
            L.append("mellon looks a session up by scanning its table (64 KiB entries) from the "
                     "start, under one global lock. A cookie it does not know scans all 100,000 "
                     "entries: %.0f req/s on a MellonEnable info page, against %.0f without a "
                     "cookie, i.e. %.1f ns per entry. With 100,000 live sessions an average lookup "
                     "scans half the table: about %.0f req/s for the whole server (%.2f ms per "
                     "request, serialised by the lock)%s." % (
                         ms["full_scan_rps"], ms["no_cookie_rps"], ms["per_entry_ns"],
                         1.0 / c100k, c100k * 1e3,
                         "; measured %d vs %d live sessions: %.2fx per request" % (
                             me[-1]["sessions"], me[0]["sessions"], me[0]["rps"] / me[-1]["rps"])
                         if len(me) >= 2 else ""))
        L.append("")
    sc = results.get("scale", {})
    L.append("## 4. Memory")
    L.append("")
    per10k = {}
    for name in ("ours", "mellon"):
        rows = [r for r in sc.get(name, []) if r["valid"]]
        if len(rows) >= 2:
            a0, a1 = rows[0], rows[-1]
            dn = a1["sessions"] - a0["sessions"]
            per10k[name] = ((a1["mem"]["pss_kb"] - a0["mem"]["pss_kb"]) / dn * 10000 / 1024,
                            (a1["mem"]["shm_pss_kb"] - a0["mem"]["shm_pss_kb"]) / dn * 10000
                            / 1024, a0["sessions"], a1["sessions"])
    results["per10k_mib"] = per10k
    L.append("| | ours | mellon |")
    L.append("|---|---:|---:|")
    fmt = lambda name, i: ("%.1f (%d->%d)" % (per10k[name][i], per10k[name][2],
                                              per10k[name][3])) if name in per10k else "n/a"
    L.append("| session store (shared memory) per 10,000 sessions, MiB (measured between) "
             "| %s | %s |" % (fmt("ours", 1), fmt("mellon", 1)))
    L.append("| whole server per 10,000 logins, MiB (also heap growth from serving the logins) "
             "| %s | %s |" % (fmt("ours", 0), fmt("mellon", 0)))
    if sc.get("ours") and sc.get("mellon"):
        L.append("| whole server with the first session count (PSS MiB) | %.0f | %.0f |" % (
            sc["ours"][0]["mem"]["pss_kb"] / 1024, sc["mellon"][0]["mem"]["pss_kb"] / 1024))
    og = results.get("orgs")
    if og:
        L.append("| PSS with 1 org / %d orgs (MiB) | %.1f / %.1f | %.1f / %.1f |" % (
            og["ours"]["n"], og["ours"]["one_kb"] / 1024, og["ours"]["n_kb"] / 1024,
            og["mellon"]["one_kb"] / 1024, og["mellon"]["n_kb"] / 1024))
        L.append("| per org (KiB, all processes) | %.0f | %.0f |" % (
            og["ours"]["per_org_kb"], og["mellon"]["per_org_kb"]))
    L.append("")
    L.append("PSS: proportional set size summed over the parent and both children (shared pages "
             "counted once). Session store: ours shmcb of %d MiB; mellon MellonCacheSize "
             "100000 x MellonCacheEntrySize 65536 (the smallest it allows; %.1f GiB reserved, "
             "one page per entry touched at startup). Orgs: same IdP metadata file for each; "
             "ours used once per org after startup; mellon keeps no per-location Lasso server "
             "(it builds one per login request and frees it)." % (
                 results["cache_bytes"] >> 20, 100000 * 65536 / 2**30))
    L.append("")
    L.append("## Goals")
    L.append("")
    for g in results["goals"]:
        L.append("- %s: %s" % g)
    L.append("")
    L.append("Phase times (s): " + ", ".join("%s %.0f" % kv for kv in results["phase_s"].items()))
    return "\n".join(L) + "\n"


def plot(results, outdir):
    if "protected" not in results:
        return None
    dat = os.path.join(outdir, "throughput.dat")
    with open(dat, "w") as f:
        for page in PAGES:
            f.write("# %s: conns plain mellon ours\n" % page)
            for r in results["protected"]:
                if r["page"] == page:
                    f.write("%d %.1f %.1f %.1f\n" % (r["conns"], r["plain"], r["mellon"],
                                                     r["ours"]))
            f.write("\n\n")
    png = os.path.join(outdir, "throughput.png")
    m = results["machine"]
    conns = sorted({r["conns"] for r in results["protected"]})
    xtics = ", ".join(str(c) for c in conns)
    xlo, xhi = conns[0] / 1.4, conns[-1] * 1.4
    gp = f"""
set terminal pngcairo noenhanced size 1100,480 font "sans,10"
set output "{png}"
set multiplot layout 1,2 title "Protected request with a valid session: req/s vs connections ({results['date']}, {m['cpu']}, {m['cpus']} CPUs)"
set logscale x 2
set xtics ({xtics})
set xrange [{xlo}:{xhi}]
set xlabel "keep-alive connections (wrk)"
set ylabel "requests/s (median)"
set key bottom right
set grid
set yrange [0:*]
set title "static page served by Apache"
plot "{dat}" index 0 using 1:2 with linespoints lw 2 title "plain (no auth)", \
     "" index 0 using 1:3 with linespoints lw 2 title "mod_auth_mellon", \
     "" index 0 using 1:4 with linespoints lw 2 title "mod_cloudsmith_saml"
set title "echo backend behind mod_proxy"
plot "{dat}" index 1 using 1:2 with linespoints lw 2 title "plain (no auth)", \
     "" index 1 using 1:3 with linespoints lw 2 title "mod_auth_mellon", \
     "" index 1 using 1:4 with linespoints lw 2 title "mod_cloudsmith_saml"
unset multiplot
"""
    p = run(["gnuplot"], input=gp)
    if p.returncode != 0:
        log("gnuplot failed: " + p.stderr)
    return png


# ---------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="about 2 minutes: fewer points")
    ap.add_argument("--reps", type=int)
    ap.add_argument("--duration", type=int, help="seconds per wrk run (protected requests)")
    ap.add_argument("--conns", help="comma-separated connection counts")
    ap.add_argument("--sessions", help="comma-separated live-session counts for ours")
    ap.add_argument("--mellon-sessions", help="comma-separated live-session counts for mellon")
    ap.add_argument("--only", help="comma-separated parts to run: protected, acs, profile, "
                    "scale, orgs (default: all; profile needs acs)")
    ap.add_argument("--no-profile", action="store_true")
    ap.add_argument("--module", help="the mod_cloudsmith_saml.so to measure (default: the "
                    "tree's build), e.g. an experimental build")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--cmdline", default="bench/bench.py")
    args = ap.parse_args()
    opts = dict(PROFILES["quick" if args.quick else "default"])
    parts = set((args.only or "protected,acs,profile,scale,orgs").split(","))
    if args.no_profile or "acs" not in parts or not opts["profile_s"]:
        parts.discard("profile")
    global MODULE_SO
    if args.module:
        MODULE_SO = os.path.abspath(args.module)
    if args.reps:
        opts["reps"] = args.reps
    if args.duration:
        opts["duration"] = args.duration
    if args.conns:
        opts["conns"] = [int(x) for x in args.conns.split(",")]
    if args.sessions:
        opts["sessions"] = [int(x) for x in args.sessions.split(",")]
    if args.mellon_sessions:
        opts["mellon_sessions"] = [int(x) for x in args.mellon_sessions.split(",")]
    for tool in ("wrk", "gnuplot"):
        if not shutil.which(tool):
            sys.exit("%s is missing: run bench/run (it installs the Debian packages)" % tool)
    if not os.path.exists(MELLON_SO) or not os.path.exists(MODULE_SO):
        sys.exit("missing %s or %s: run bench/run" % (MELLON_SO, MODULE_SO))

    main_pid = os.getpid()  # (the minting pool's workers inherit this handler)

    def on_sigterm(*_):
        if os.getpid() == main_pid:
            sys.exit("terminated")  # through the finally below: the servers are stopped
        os._exit(0)
    signal.signal(signal.SIGTERM, on_sigterm)
    t_start = time.time()
    results = {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
               "profile_name": "quick" if args.quick else "default", "opts": opts,
               "machine": machine(), "load_before": load_snapshot(), "phase_s": {}}
    work = tempfile.mkdtemp(prefix="cs-bench.")
    os.chmod(work, 0o755)
    stack = Stack(work, opts)
    # shmcb sized for the largest session count: a session and a replay marker per login,
    # about 1.1 KB of index budget each (socache hints), with headroom
    stack.cache_bytes = max(16 << 20, int(max(opts["sessions"]) * 2 * 1100 * 1.6))
    results["cache_bytes"] = stack.cache_bytes
    procs = 2 if (os.cpu_count() or 1) >= 2 else 1

    def phase(name, fn, *a):
        t = time.time()
        log("phase: %s" % name)
        fn(*a)
        results["phase_s"][name] = time.time() - t

    try:
        stack.start("plain")
        stack.start("mellon", cache_size=1000)
        stack.start("ours")
        minters = {n: stack.minter(n) for n in ("ours", "mellon")}
        bodies = {n: BodyFile(os.path.join(work, "bodies-%s.txt" % n), minters[n], n[0],
                              procs) for n in ("ours", "mellon")}
        cookie_files = {n: os.path.join(work, "cookies-%s.txt" % n) for n in ("ours", "mellon")}
        cookies = {"plain": None,
                   "mellon": login(stack, "mellon", minters["mellon"], "m0"),
                   "ours": login(stack, "ours", minters["ours"], "o0")}
        results["_cookies"] = cookies
        for name in SERVERS:
            for page in PAGES:
                r = check_page(stack, name, page, cookies[name])
                if page == "proxied" and name != "plain":
                    seen = {k.lower(): v for k, v in r.json()["headers"]}
                    missing = [h for h in IDENTITY_HEADERS if h not in seen]
                    if missing:
                        raise RuntimeError("%s: identity headers %s do not reach the backend"
                                           % (name, ", ".join(missing)))
            if name != "plain":
                check_page(stack, name, "static", None, expect_status=303)
        # plain Apache sending ours' six identity headers with their values: what the
        # backend's share of the proxied gap is
        sent = [(k, v) for k, v in check_page(stack, "ours", "proxied", cookies["ours"]).json()[
            "headers"] if k.lower() in IDENTITY_HEADERS]
        stack.start_extra(PLAIN_HEADERS, stack.conf_plain_headers(sent))
        cookies[PLAIN_HEADERS] = None
        log("servers up: plain :%d, mellon :%d, ours :%d; backend :%d" % (
            stack.ports["plain"], stack.ports["mellon"], stack.ports["ours"],
            stack.backend.port))

        if "protected" in parts:
            phase("1 protected requests", phase_protected, stack, opts, cookies, results)

        if parts & {"acs", "scale"}:
            t = time.time()
            log("minting responses")
            bodies["ours"].ensure(opts["sessions"][0] + 2000)
            bodies["mellon"].ensure(400)
            results["phase_s"]["mint (first batch)"] = time.time() - t

        # ours at the first session count, before the ACS runs add sessions
        if "scale" in parts:
            phase("3 sessions: ours at %d" % opts["sessions"][0], phase_scale, stack, opts,
                  bodies, results, work, cookie_files, "ours", opts["sessions"][0])
        if "acs" in parts:
            phase("2 ACS throughput", phase_acs, stack, opts, bodies, results, cookie_files)
        if "profile" in parts:
            phase("2 profile", phase_profile, stack, opts, bodies, results, work)
        if "scale" in parts:
            for size in opts["sessions"][1:]:
                phase("3 sessions: ours at %d" % size, phase_scale, stack, opts, bodies,
                      results, work, cookie_files, "ours", size)
            # mellon with room for 100,000 sessions (the ACS runs used a 1,000-entry cache)
            stack.start("mellon", cache_size=100000)
            open(cookie_files["mellon"], "w").close()
            for size in opts["mellon_sessions"]:
                phase("3 sessions: mellon at %d" % size, phase_scale, stack, opts, bodies,
                      results, work, cookie_files, "mellon", size)
            phase("3 mellon table scan", phase_mellon_scan, stack, opts, results)
        if "orgs" in parts:
            phase("4 memory per org", phase_orgs, stack, opts, results, work)
    finally:
        stack.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log("work directory kept: %s" % work)

    results["elapsed_s"] = time.time() - t_start
    results["load_after"] = load_snapshot()
    goals = []
    if "protected" in results:
        wp = min(r["ours/plain"] for r in results["protected"])
        wm = min(r["ours/mellon"] for r in results["protected"])
        goals += [("protected req/s ours/plain >= 0.95 (lowest over pages and conns)",
                   fmt_goal(wp, 0.95)),
                  ("protected req/s ours/mellon >= 1.0 (lowest)", fmt_goal(wm, 1.0))]
    if "acs" in results:
        goals.append(("ACS logins/s ours/mellon >= 1.2 (each at its best concurrency)",
                      fmt_goal(results["acs"]["ours/mellon"], 1.2)))
    sc = results.get("scale", {}).get("ours", [])
    if len(sc) >= 2:
        if all(r["valid"] for r in sc):
            scale_goal = fmt_goal(sc[0]["rps"] / sc[-1]["rps"], 1.1, higher=False)
        else:
            bad = [r for r in sc if not r["valid"]][0]
            scale_goal = ("NOT MEASURABLE: sessions evicted from the store (%d/%d sampled live "
                          "after %d logins)" % (bad["sample_live"], bad["sample"],
                                                bad["sessions"]))
        goals.append(("request cost at %d vs %d sessions <= 1.1" % (
            sc[-1]["sessions"], sc[0]["sessions"]), scale_goal))
    results["goals"] = goals
    results.pop("_cookies", None)
    os.makedirs(args.out, exist_ok=True)
    # a partial run (--only) does not replace the full results the README quotes
    stem = "latest" if not args.only else "latest-" + "-".join(sorted(parts))
    text = report(results, opts, args.cmdline)
    png = plot(results, args.out) if not args.only else None
    with open(os.path.join(args.out, stem + ".md"), "w") as f:
        f.write(text + ("\n![throughput](throughput.png)\n" if png else ""))
    with open(os.path.join(args.out, stem + ".json"), "w") as f:
        json.dump(results, f, indent=1, default=str)
    print(text)
    log("wrote %s.md, %s.json%s" % (os.path.join(args.out, stem), stem,
                                    ", " + png if png else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
