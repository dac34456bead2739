#!/usr/bin/python3
"""The org registry at scale: 10,000 orgs vs 1 (goal: cost ratio at most 1.1).

    /usr/bin/python3 bench/orgs_registry.py [--orgs 10000] [--sessions 1000,10000] [--reps 5]

Everything on 127.0.0.1, never the system Apache (run as root: Apache's children are
www-data, who owns the SQLite registries):
  two SQLite org registries: "one" holds 1 org, made with cloudsmith-saml-admin (create,
  metadata, enable); "many" holds 10,000: the first few made the same way, the rest inserted
  in one transaction as copies of an admin-made row (three versions each from
  org_version_counter, as the three admin runs take), checked against it with `org show`;
  two Apaches with the module (bench/bench.py's event MPM, 2 children x 64 threads), the same
  configuration apart from the database: one LocationMatch with CloudsmithSAMLOrgFromPath On,
  CloudsmithSAMLOrgCacheSize 20000, a static page under every org; and a plain Apache (the
  same page, no authentication) as the baseline.
Every org is SAML-enabled with the same minted IdP's metadata (tests/idp/mint.py); logins are
minted responses (bench/fastmint.py, one template whose ACS URL names the org) POSTed to the
org's ACS by wrk (bench/acs.lua, "PATH BODY" lines).
Measured:
  memory: PSS of the children (smaps) with 0 orgs built, then after every org of the first
  1,000 and of all 10,000 was built in both children (GET each org's SP metadata until the
  error log's "loaded from the registry" lines name every org for every child); the cost of
  one build (first vs second request for an org on one connection);
  protected request: wrk (bench/cookies.lua), a different session cookie on every request:
  one session in each of S orgs drawn from all 10,000 vs S sessions in the one org, for
  S = 1,000 and 10,000 (every org in use), 16 and 64 connections, the three servers
  interleaved in every repetition; every answer must be a 200 in the access log, and no org
  may be built again meanwhile;
  ACS: logins/s posting distinct responses, each to another org (cycling through all 10,000)
  vs all to the one org, interleaved; every response must be accepted;
  pick-up: an org's enforce flag toggled with cloudsmith-saml-admin while a poller GETs its
  page anonymously (303 when enforced, 200 when not) on fresh connections; the time from
  the command's return to the first and to the last process answering the new way, and
  each child's "registry change picked up" line, for CloudsmithSAMLOrgRefreshInterval 5 (the
  default) and 1.
Reported: medians, the cost ratios rps_one / rps_many (per repetition, then the median), KiB
per built org per process, pick-up times against the documented bound (interval + one
build). Output: bench/results/orgs-registry.md and .json. A run takes about 9 minutes here
(building 10,000 orgs in each of the two children, about 3 ms per build, takes under a minute:
see the report). The run stops, reporting nothing, when the
setup is broken (a refused login, a cookie that does not open a session, an org not built in
every child, a non-200 answer, a child that died).
"""
import argparse
import collections
import concurrent.futures
import datetime
import http.client
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import requests  # noqa: E402

import bench  # noqa: E402  (also puts tests/integration and tests/idp on the path)
import fastmint  # noqa: E402
import mint  # noqa: E402

ADMIN = os.path.join(ROOT, "cloudsmith-saml-admin")
SLUG_RE = "[a-z0-9][a-z0-9-]*"
PUBLIC = "http://bench-orgs.test"  # CloudsmithSAMLBaseURL of both module servers
PAGE = "/%s/static/page.json"
ACS = "/%s/saml/acs/"
METADATA = "/%s/saml/metadata/"
COOKIE = "cloudsmith_saml_"
ORG_COLUMNS = ("slug", "saml_enabled", "saml_enforced", "idp_metadata_xml", "idp_metadata_url",
               "metadata_fetched_at", "metadata_error", "groupsync_enabled", "scim_enabled",
               "scim_token_hash", "version", "created", "updated")
ADMIN_MADE = 3  # orgs of the big registry made by cloudsmith-saml-admin itself
VERSIONS_PER_ORG = 3  # create, metadata, enable: each admin run raises the counter once
DEFAULT_REFRESH_S = 5
SERVERS = ("one", "many", "plain")
GOAL = 1.1
LOG_TIME = "%a %b %d %H:%M:%S.%f %Y"
LOG_LINE = re.compile(r"^\[([^\]]+)\] \[cloudsmith_saml:(\w+)\] \[pid (\d+):tid \d+\].*?"
                      r"org (\S+): (loaded from the registry \(version (\d+)|registry change "
                      r"picked up \(version \d+ -> (\d+)\))", re.M)


def log(msg):
    bench.log(msg)


def slug_of(i):
    return "org%05d" % i


def acs_url(slug):
    return PUBLIC + ACS % slug


# ---------------------------------------------------------------------------------------------
# the registries

class Registry:
    """A SQLite org registry in a directory of its own, owned by Apache's user."""

    def __init__(self, workdir):
        os.makedirs(workdir, exist_ok=True)
        os.chmod(workdir, 0o755)
        if os.geteuid() == 0:
            shutil.chown(workdir, "www-data", "www-data")
        self.db = os.path.join(workdir, "store.db")

    def admin(self, *args, stdin=None):
        """Runs cloudsmith-saml-admin as the web server's user (SQLite's files stay theirs)."""
        cmd = [ADMIN, "--dbd-driver", "sqlite3", "--dbd-params", self.db, *args]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "www-data", "--"] + cmd
        p = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise RuntimeError("cloudsmith-saml-admin %s: exit %d: %s%s" % (
                " ".join(args), p.returncode, p.stdout, p.stderr))
        return p.stdout

    def create(self, slug, metadata):
        """An org as an administrator makes it: three admin runs."""
        self.admin("org", "create", slug)
        self.admin("org", "metadata", slug, "-", stdin=metadata)
        self.admin("org", "enable", slug)

    def rows(self, where="", args=()):
        with sqlite3.connect("file:%s?mode=ro" % self.db, uri=True) as con:
            return con.execute("SELECT %s FROM orgs %s" % (", ".join(ORG_COLUMNS), where),
                               args).fetchall()

    def version(self, slug):
        return self.rows("WHERE slug = ?", (slug,))[0][ORG_COLUMNS.index("version")]

    def bulk_create(self, slugs, model_slug):
        """Inserts slugs in one transaction, each a copy of model_slug's row (made by the admin
        command) with its own slug, versions and times, as three admin runs would leave it.
        Returns the seconds taken."""
        t = time.time()
        model = dict(zip(ORG_COLUMNS, self.rows("WHERE slug = ?", (model_slug,))[0]))
        when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        con = sqlite3.connect(self.db, isolation_level=None)
        try:
            con.execute("BEGIN IMMEDIATE")
            (last,) = con.execute("SELECT last_version FROM org_version_counter").fetchone()
            rows = []
            for i, slug in enumerate(slugs):
                row = dict(model, slug=slug, version=last + VERSIONS_PER_ORG * (i + 1),
                           created=when, updated=when)
                rows.append(tuple(row[c] for c in ORG_COLUMNS))
            con.executemany("INSERT INTO orgs (%s) VALUES (%s)" % (
                ", ".join(ORG_COLUMNS), ", ".join("?" * len(ORG_COLUMNS))), rows)
            con.execute("UPDATE org_version_counter SET last_version = ?",
                        (last + VERSIONS_PER_ORG * len(slugs),))
            con.execute("COMMIT")
        finally:
            con.close()
        return time.time() - t

    def check(self, count, model_slug, sample):
        """The registry holds count orgs with distinct versions, the counter at the highest,
        the same column types as the admin-made model, and `org show` prints the sampled orgs
        as it prints the model (apart from slug, version and times)."""
        with sqlite3.connect("file:%s?mode=ro" % self.db, uri=True) as con:
            n, distinct, top = con.execute(
                "SELECT COUNT(*), COUNT(DISTINCT version), MAX(version) FROM orgs").fetchone()
            (counter,) = con.execute("SELECT last_version FROM org_version_counter").fetchone()
            types = con.execute("SELECT COUNT(DISTINCT %s) FROM orgs" % " || ".join(
                "typeof(%s)" % c for c in ORG_COLUMNS)).fetchone()[0]
        if n != count or distinct != n or counter != top or types != 1:
            raise RuntimeError("registry %s: %d orgs (expected %d), %d distinct versions, "
                               "highest %d, counter %d, %d column type patterns" % (
                                   self.db, n, count, distinct, top, counter, types))

        def shown(slug):
            out = self.admin("org", "show", slug)
            return [line for line in out.splitlines() if not re.match(
                r"\s*(org |version:|created:|updated:)", line)]
        want = shown(model_slug)
        for slug in sample:
            got = shown(slug)
            if got != want:
                raise RuntimeError("org show %s differs from the admin-made %s:\n%s\n%s" % (
                    slug, model_slug, "\n".join(got), "\n".join(want)))


# ---------------------------------------------------------------------------------------------
# servers

def make_server(name, work, db, sp_key, sp_crt, refresh_s=None, cache_size=None,
                cache_bytes=0):
    """bench.py's BenchHttpd with one CloudsmithSAMLOrgFromPath section on registry db (None:
    plain Apache), the static page under every org's path."""
    w = os.path.join(work, name)
    os.makedirs(os.path.join(w, "htdocs"), exist_ok=True)
    with open(os.path.join(w, "htdocs", "page.json"), "wb") as f:
        f.write(bench.page_body())
    load = "\n".join("LoadModule %s_module %s/mod_%s.so" % (m, bench.APACHE_MODULES, m)
                     for m in ("dbd", "alias"))
    page = 'AliasMatch "^/%s/static/page\\.json$" "%s/htdocs/page.json"\n' % (SLUG_RE, w)
    if db is None:
        return bench.BenchHttpd(name, w, load, "", page + '<LocationMatch "^/%s/">\n'
                                "</LocationMatch>\n" % SLUG_RE)
    load += "\nLoadModule cloudsmith_saml_module %s" % bench.MODULE_SO
    # info: the registry's "loaded" and "picked up" lines (and one line per login)
    glob = f"""LogLevel warn cloudsmith_saml:info
CloudsmithSAMLSessionCache "shmcb:{w}/run/cs-cache({cache_bytes})"
DBDriver sqlite3
DBDParams "{db}"
DBDMin 1
DBDKeep 8
DBDMax 16
DBDExptime 300
"""
    refresh = "CloudsmithSAMLOrgRefreshInterval %d" % refresh_s if refresh_s else ""
    site = page + f"""
<LocationMatch "^/{SLUG_RE}/">
    AuthType CloudsmithSAML
    CloudsmithSAMLOrgFromPath On
    CloudsmithSAMLBaseURL {PUBLIC}
    CloudsmithSAMLSPPrivateKeyFile {sp_key}
    CloudsmithSAMLSPCertFile {sp_crt}
    CloudsmithSAMLMaxIssueAge {bench.VALIDITY_S}
    CloudsmithSAMLOrgCacheSize {cache_size}
    {refresh}
    Require valid-user
</LocationMatch>
"""
    return bench.BenchHttpd(name, w, load, glob, site)


def children(httpd):
    return httpd.pids()[1]


def check_alive(httpd, kids):
    """Fails when a child died or was replaced (a crash) since kids were recorded."""
    now = children(httpd)
    text = httpd.read_error_log()
    if now != kids or "exit signal" in text or "AH00052" in text:
        raise RuntimeError("%s: children %s are now %s: a child died\n%s" % (
            httpd.name, kids, now, text[-3000:]))


def registry_log(httpd, since=0):
    """From the error log (from byte since on): {pid: {slug: version}} of orgs built
    ("loaded"), and the "picked up" lines as [(time, pid, slug, new version)]."""
    loaded = collections.defaultdict(dict)
    picked = []
    for m in LOG_LINE.finditer(httpd.log_since(since)):
        when, level, pid, slug, _, v_loaded, v_picked = m.groups()
        if v_loaded:
            loaded[int(pid)][slug] = int(v_loaded)
        else:
            t = datetime.datetime.strptime(when, LOG_TIME).timestamp()
            picked.append((t, int(pid), slug, int(v_picked)))
    return loaded, picked


def log_complaints(httpd, mark):
    """The module's warnings and errors since mark."""
    return [line for line in httpd.log_since(mark).splitlines()
            if re.search(r"\[(cloudsmith_saml|dbd|core|mpm_event):(warn|error|crit|alert|emerg)",
                         line)]


def touch(httpd, paths, expect=200, workers=8, chunk=100):
    """GETs every path once, on keep-alive connections opened per chunk (so the chunks
    spread over the children); fails on any other status than expect."""
    def run_chunk(part):
        con = http.client.HTTPConnection("127.0.0.1", httpd.port, timeout=60)
        try:
            for path in part:
                con.request("GET", path)
                r = con.getresponse()
                r.read()
                if r.status != expect:
                    raise RuntimeError("%s: GET %s: %d (expected %d)" % (
                        httpd.name, path, r.status, expect))
        finally:
            con.close()
    parts = [paths[i:i + chunk] for i in range(0, len(paths), chunk)]
    with concurrent.futures.ThreadPoolExecutor(workers) as ex:
        for f in [ex.submit(run_chunk, p) for p in parts]:
            f.result()


def pinned_connections(httpd, kids, tries=200):
    """{pid: keep-alive connection} with one connection served by each child: new connections
    until every child answered one (a made-up org's 404 names its pid in the error log)."""
    conns = {}
    for i in range(tries):
        tag = "pin-%d-%d" % (os.getpid(), i)
        mark = httpd.log_mark()
        con = http.client.HTTPConnection("127.0.0.1", httpd.port, timeout=60)
        con.request("GET", "/%s/" % tag)
        r = con.getresponse()
        r.read()
        m = re.search(r"\[pid (\d+):tid \d+\][^\n]*org %s is not in the org registry" % tag,
                      httpd.log_since(mark, wait_for=tag))
        if r.status != 404 or not m:
            raise RuntimeError("%s: GET /%s/: %d, no 404 line in the error log" % (
                httpd.name, tag, r.status))
        pid = int(m.group(1))
        if pid in conns:
            con.close()
        else:
            conns[pid] = con
        if set(conns) == set(kids):
            return conns
    raise RuntimeError("%s: %d connections reached only children %s of %s" % (
        httpd.name, tries, sorted(conns), kids))


def build_everywhere(httpd, slugs, kids):
    """Builds every org of slugs in every child: GETs each org's SP metadata on a connection
    of each child that has not built it yet, one request at a time per child (concurrent
    builds in one process are no faster). Fails unless the error log's "loaded from the
    registry" lines then name every org for every child. Returns {pid: [(orgs built, seconds
    since the start)]} every 1,000 builds."""
    conns = pinned_connections(httpd, kids)
    loaded, _ = registry_log(httpd)
    progress, errors = {}, []

    def build(pid):
        con, todo = conns[pid], [s for s in slugs if s not in loaded.get(pid, {})]
        t = time.time()
        progress[pid] = [(0, 0.0)]
        try:
            for i, slug in enumerate(todo):
                con.request("GET", METADATA % slug)
                r = con.getresponse()
                r.read()
                if r.status != 200:
                    raise RuntimeError("%s: GET %s: %d" % (httpd.name, METADATA % slug,
                                                           r.status))
                if (i + 1) % 1000 == 0 or i + 1 == len(todo):
                    progress[pid].append((i + 1, time.time() - t))
        except Exception as e:  # noqa: BLE001  (raised below, in the caller's thread)
            errors.append(e)
        finally:
            con.close()
    threads = [threading.Thread(target=build, args=(pid,)) for pid in conns]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        raise errors[0]
    time.sleep(0.3)  # the last log lines
    loaded, _ = registry_log(httpd)
    short = {pid: len(set(slugs) - set(loaded.get(pid, {}))) for pid in kids}
    if any(short.values()):
        raise RuntimeError("%s: orgs not built per child: %s" % (httpd.name, short))
    return progress


def build_cost(httpd, slugs):
    """Seconds one org's first request costs more than its second, on one connection (so in
    one child): the median over slugs (orgs no child has built yet)."""
    extra = []
    con = http.client.HTTPConnection("127.0.0.1", httpd.port, timeout=60)
    try:
        for slug in slugs:
            times = []
            for _ in range(2):
                t = time.perf_counter()
                con.request("GET", METADATA % slug)
                r = con.getresponse()
                r.read()
                times.append(time.perf_counter() - t)
                if r.status != 200:
                    raise RuntimeError("%s: GET %s: %d" % (httpd.name, METADATA % slug,
                                                           r.status))
            extra.append(times[0] - times[1])
    finally:
        con.close()
    return bench.median(extra), extra


def children_pss(httpd, kids):
    """PSS (KiB) of each child."""
    return [bench.smaps(pid)["pss_kb"] for pid in kids]


# ---------------------------------------------------------------------------------------------
# logins

class OrgMinter(fastmint.FastMinter):
    """fastmint's minter for any org: one template whose ACS URL (also the audience) names a
    placeholder slug, replaced per org."""
    PLACEHOLDER = "slugplaceholder"

    def __init__(self, idp):
        url = acs_url(self.PLACEHOLDER)
        super().__init__(idp, url, url, validity_s=bench.VALIDITY_S)

    def for_org(self, slug):
        self.key  # loaded once, shared by the copies
        m = object.__new__(type(self))
        m.__dict__.update(self.__dict__)
        for attr in ("assertion_c14n", "signed_info_c14n", "document"):
            setattr(m, attr, getattr(self, attr).replace(self.PLACEHOLDER, slug))
        return m


class SpreadMinter:
    """A minter for bench.BodyFile: its i-th body logs user i in to org slugs[i % len(slugs)],
    as a bench/acs.lua "PATH BODY" line."""

    def __init__(self, minter, slugs):
        self.minter, self.slugs = minter, slugs

    def form_body(self, name_id, tag):
        i = int(re.match(r"user(\d+)@", name_id).group(1))  # fastmint.mint_many's user i
        slug = self.slugs[i % len(self.slugs)]
        return ACS % slug + " " + self.minter.for_org(slug).form_body(name_id, tag)


def post(httpd, bodies, count, conns, duration, cookies_out=None):
    """wrk posts up to count fresh bodies of a BodyFile for duration seconds (bench/acs.lua)."""
    path, offset, n = bodies.take(count)
    res = bench.wrk(httpd.base_url + "/", conns, duration, script=os.path.join(HERE, "acs.lua"),
                    script_args=[path, offset, n] + ([cookies_out] if cookies_out else []),
                    timeout="30s")
    bodies.consumed(res["sent"])
    res["exhausted"] = res["sent"] >= n
    if res["refused"]:
        raise RuntimeError("%s refused %d of %d minted logins: nothing reported\n%s" % (
            httpd.name, res["refused"], res["sent"], httpd.read_error_log()[-3000:]))
    return res


def login_all(httpd, bodies, count, cookies_out, rate=300.0, batch=1000):
    """Posts the next count bodies (all must be accepted); their session cookies, one line
    "PAGE-PATH COOKIE" each. wrk runs its whole -d even when done early: batches sized by
    the rate seen so far."""
    open(cookies_out, "w").close()
    bodies.ensure(count)
    left = count
    while left > 0:
        n = min(left, batch)
        duration = int(n / rate * 1.3) + 2
        res = post(httpd, bodies, n, 16, duration, cookies_out)
        if res["ok"] == 0:
            raise RuntimeError("%s accepted no login in %d s\n%s" % (
                httpd.name, duration, httpd.read_error_log()[-2000:]))
        left -= res["sent"]
        rate = min(3000.0, rate * 1.5) if res["exhausted"] else max(20.0, res["ok"] / duration)
    lines = []
    with open(cookies_out) as f:
        for c in f.read().split():
            slug = c.split("=", 1)[0][len(COOKIE):]
            lines.append(PAGE % slug + " " + c)
    if len(lines) != count:
        raise RuntimeError("%s: %d cookies from %d logins" % (httpd.name, len(lines), count))
    return lines


def check_cookies(httpd, lines, what):
    """Every cookie must open a session: GET its org's page gives 200, not a 303 to the IdP."""
    got = collections.Counter()
    s = requests.Session()
    for line in lines:
        path, cookie = line.split(" ", 1)
        got[s.get(httpd.base_url + path, headers={"Cookie": cookie}, allow_redirects=False,
                  timeout=30).status_code] += 1
        s.cookies.clear()
    if got[200] != len(lines):
        raise RuntimeError("%s: %d of %d %s do not open a session (statuses %s): the setup is "
                           "broken, nothing measured\n%s" % (
                               httpd.name, len(lines) - got[200], len(lines), what, dict(got),
                               httpd.read_error_log()[-2000:]))
    path, cookie = lines[0].split(" ", 1)
    r = requests.get(httpd.base_url + path, allow_redirects=False, timeout=30,
                     headers={"Cookie": "%s=%064x" % (cookie.split("=")[0],
                                                      random.getrandbits(256))})
    if r.status_code != 303 or "SAMLRequest=" not in r.headers.get("Location", ""):
        raise RuntimeError("%s: an unknown session cookie got %d, not a 303 to the IdP" % (
            httpd.name, r.status_code))
    log("  %s: %d %s open a session (200); an unknown one gets the 303" % (
        httpd.name, len(lines), what))


# ---------------------------------------------------------------------------------------------
# measuring

def phase_protected(servers, cookie_files, opts):
    return bench.interleaved_cost(servers, SERVERS, cookie_files, opts, "/")


def phase_acs(servers, bodies, opts):
    """Logins/s on distinct responses, one vs many (every login to another org), interleaved;
    a run that used up its responses before the end is repeated with more."""
    est, rates = {}, {"one": [], "many": [], "one/many": []}
    for name in ("one", "many"):  # calibration (and warm-up)
        bodies[name].ensure(1500)
        res = post(servers[name], bodies[name], 1500, opts["acs_conns"], 1)
        est[name] = max(50.0, res["ok"] * (2.0 if res["exhausted"] else 1.0))
        log("  %s calibration: %d logins in 1 s" % (name, res["ok"]))
    for rep in range(opts["reps"]):
        got = {}
        for name in (("one", "many") if rep % 2 == 0 else ("many", "one")):
            for _ in range(3):
                n = int(est[name] * opts["acs_duration"] * 1.5) + 100
                bodies[name].ensure(n)
                res = post(servers[name], bodies[name], n, opts["acs_conns"],
                           opts["acs_duration"])
                if not res["exhausted"]:
                    break
                est[name] *= 2.5
                log("  %s used all %d responses in %d s: again with more" % (
                    name, n, opts["acs_duration"]))
            else:
                raise RuntimeError("%s: ran out of minted responses three times" % name)
            got[name] = res["ok"] / opts["acs_duration"]
            est[name] = max(est[name], got[name])
        for name in ("one", "many"):
            rates[name].append(got[name])
        rates["one/many"].append(got["one"] / got["many"])
        log("  rep %d ACS logins/s: one %.0f  many %.0f  cost many/one %.3f" % (
            rep + 1, got["one"], got["many"], got["one"] / got["many"]))
    return {**{k: bench.median(v) for k, v in rates.items()},
            **{k + "_all": v for k, v in rates.items()}}


class Poller(threading.Thread):
    """GETs a page anonymously on a fresh connection every few milliseconds; keeps
    (sent, received, status) of each answer."""

    def __init__(self, httpd, path, gap_s=0.01):
        super().__init__(daemon=True)
        self.url, self.gap_s = httpd.base_url + path, gap_s
        self.answers, self.stopping, self.error = [], threading.Event(), None

    def run(self):
        try:
            while not self.stopping.is_set():
                t = time.time()
                r = requests.get(self.url, allow_redirects=False, timeout=30,
                                 headers={"Connection": "close"})
                self.answers.append((t, time.time(), r.status_code))
                time.sleep(self.gap_s)
        except Exception as e:  # noqa: BLE001  (reported by the trial)
            self.error = e

    def stop(self):
        self.stopping.set()
        self.join(30)


def phase_pickup(httpd, registry, slug, trials, refresh_s, kids):
    """Toggles slug's enforce flag trials times while a poller GETs its page; per trial, the
    seconds from the admin command's return to the first new answer, to the poll after the
    last old one, and to each child's "picked up" line."""
    poller = Poller(httpd, PAGE % slug)
    poller.start()
    out = []
    try:
        enforced = True
        time.sleep(refresh_s + 0.5)  # the poller's checks run at their own pace
        for trial in range(trials):
            # at a random point of the children's check cycles (a trial ends just after one)
            time.sleep(random.uniform(0, refresh_s))
            enforced = not enforced
            old, new = (200, 303) if enforced else (303, 200)
            mark = httpd.log_mark()
            t_cmd = time.time()
            registry.admin("org", "enforce", slug, "on" if enforced else "off")
            t0 = time.time()
            version = registry.version(slug)
            deadline = t0 + 2 * refresh_s + 10
            while True:
                if poller.error:
                    raise RuntimeError("poller: %s" % poller.error)
                picked = {pid: t for t, pid, s, v in registry_log(httpd, mark)[1]
                          if s == slug and v == version}
                if set(picked) >= set(kids) and time.time() > max(picked.values()) + 0.3:
                    break
                if time.time() > deadline:
                    raise RuntimeError("%s: after %.0f s only children %s picked up version %d "
                                       "of %s (children %s)" % (httpd.name, deadline - t0,
                                                                sorted(picked), version, slug,
                                                                kids))
                time.sleep(0.05)
            answers = [a for a in poller.answers if a[0] >= t_cmd]
            strange = [a for a in answers if a[2] not in (old, new)]
            if strange:
                raise RuntimeError("%s: poll answers %s (expected %d or %d)" % (
                    httpd.name, strange[:5], old, new))
            first_new = min((a[0] for a in answers if a[2] == new), default=None)
            if first_new is None:
                raise RuntimeError("%s: every child picked up version %d of %s, but no poll "
                                   "answer shows it" % (httpd.name, version, slug))
            olds = [a for a in answers if a[2] == old]
            # the first poll sent after the last old answer's request
            last_old_sent = max((a[0] for a in olds), default=t0)
            after = [a[0] for a in answers if a[0] > last_old_sent]
            out.append({"enforce": enforced, "version": version,
                        "command_s": t0 - t_cmd,
                        "first_new_s": max(0.0, first_new - t0),
                        "all_new_s": max(0.0, min(after) - t0),
                        "children_s": sorted(max(0.0, t - t0) for t in picked.values()),
                        "polls": len(answers)})
            log("  interval %d s, trial %d: first new answer %.2f s, all %.2f s, children %s" % (
                refresh_s, trial + 1, out[-1]["first_new_s"], out[-1]["all_new_s"],
                " ".join("%.2f" % x for x in out[-1]["children_s"])))
    finally:
        poller.stop()
    return out


def summarize_pickup(trials, refresh_s, build_s):
    all_new = [t["all_new_s"] for t in trials]
    first = [t["first_new_s"] for t in trials]
    kids = [max(t["children_s"]) for t in trials]
    bound = refresh_s + build_s
    return {"refresh_s": refresh_s, "trials": trials, "bound_s": bound,
            "first_median_s": bench.median(first), "first_max_s": max(first),
            "all_median_s": bench.median(all_new), "all_max_s": max(all_new),
            "children_median_s": bench.median(kids), "children_max_s": max(kids),
            # the poller's resolution: one fresh connection per poll
            "within_bound": max(kids) <= bound + 0.1}


# ---------------------------------------------------------------------------------------------
# report

def report(res, cmdline):
    m, o = res["machine"], res["opts"]
    n = "{:,}".format(res["orgs"])
    L = ["# The org registry at scale: %s orgs vs 1 (%s)" % (n, res["date"]), ""]
    L.append("Command: `%s` (%.0f s). Machine: %s. Load average before/after: %s / %s." % (
        cmdline, res["elapsed_s"],
        bench.machine_text(m, ("Lasso", "lasso"), ("SQLite", "sqlite"), ("wrk", "wrk")),
        " ".join(res["load_before"]["loadavg"]), " ".join(res["load_after"]["loadavg"])))
    L.append("")
    c = res["create"]
    L.append("Two Apaches with the module (event MPM, 2 children x 64 threads; one "
             "`<LocationMatch \"^/%s/\">` with CloudsmithSAMLOrgFromPath On, "
             "CloudsmithSAMLOrgCacheSize %d, a static page under every org; mod_dbd on SQLite), "
             "the same configuration apart from the database: \"one\" holds 1 org, \"many\" "
             "%s. Plain Apache (the same page, no authentication) is the baseline. All orgs "
             "SAML-enabled with the same IdP's metadata. Making an org with "
             "cloudsmith-saml-admin (create, metadata, enable) took %.2f s, i.e. %.0f s for "
             "%s orgs: %d were made so, the other %s inserted in one transaction (%.1f s) as "
             "copies of an admin-made row with their own versions (three each from "
             "org_version_counter), checked with `org show` on %d of them." % (
                 SLUG_RE, o["cache_size"], n, c["admin_s_per_org"],
                 c["admin_s_per_org"] * res["orgs"], n, ADMIN_MADE,
                 "{:,}".format(res["orgs"] - ADMIN_MADE), c["bulk_s"], c["checked"]))
    L.append("")
    mem = res["memory"]
    L.append("## Memory per built org")
    L.append("")
    L.append("PSS of the two children (smaps) of \"many\", with every org of the first N built "
             "in both (GET its SP metadata until the error log's \"loaded from the registry\" "
             "lines name it for both children):")
    L.append("")
    L.append("| orgs built per child | PSS of the children, MiB | KiB per org per process, "
             "from 0 | KiB per org per process, from the row above | seconds to build them |")
    L.append("|---:|---:|---:|---:|---:|")
    for p in mem["points"]:
        L.append("| %s | %.1f | %s | %s | %s |" % (
            "{:,}".format(p["orgs"]), sum(p["pss_kb"]) / 1024,
            "%.1f" % p["kib_per_org"] if p["orgs"] else "-",
            "%.1f" % p["kib_per_org_step"] if p["orgs"] else "-",
            "%.0f" % p["build_s"] if p["orgs"] else "-"))
    L.append("")
    L.append("Builds ran one at a time in each child (one keep-alive connection per child), the "
             "two children in parallel: all %s orgs in both took %.0f s. Per child, ms per build "
             "over its first and its last 1,000 builds: %s and %s. One build (an org's first "
             "request against its second, on one connection): median %.1f ms over %d orgs." % (
                 n, mem["build_all_s"],
                 " / ".join("%.0f" % x for x in mem["ms_per_build_first"]),
                 " / ".join("%.0f" % x for x in mem["ms_per_build_last"]),
                 res["build_ms"], len(res["build_all_ms"])))
    L.append("")
    L.append("## Protected request (req/s)")
    L.append("")
    L.append("wrk -t1, keep-alive, %d s per run, a different session cookie on every request, "
             "from real logins: with S sessions, \"many\" cycles through one session in each "
             "of S orgs drawn at random from all %s (so S orgs are in use, each asking the "
             "registry for its version once per interval in each child), \"one\" through S "
             "sessions of its org; plain gets the many side's requests. %d interleaved "
             "repetitions, every answer a 200 in the access log, no org built again and "
             "nothing logged above info meanwhile. Ratios within each repetition, then the "
             "median." % (o["duration"], n, o["reps"]))
    L.append("")
    L.append("| sessions S | conns | one req/s | many req/s | plain req/s | cost many/one "
             "(rps_one/rps_many) | one/plain | many/plain |")
    L.append("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in res["protected"]:
        L.append("| %s | %d | %.0f | %.0f | %.0f | %s | %.2f | %.2f |" % (
            "{:,}".format(r["sessions"]), r["conns"], r["one"], r["many"], r["plain"],
            bench.fmt_goal(r["one/many"], GOAL, higher=False), r["one/plain"], r["many/plain"]))
    L.append("")
    L.append("Per-repetition cost ratios: " + "; ".join(
        "S=%s c=%d: %s" % ("{:,}".format(r["sessions"]), r["conns"],
                           " ".join("%.3f" % x for x in r["one/many_all"]))
        for r in res["protected"]) + ".")
    L.append("")
    a = res["acs"]
    L.append("## ACS (logins/s)")
    L.append("")
    L.append("Distinct minted responses posted by wrk (%d connections, %d s per run): on "
             "\"many\" each to another org, cycling through all %s; on \"one\" all to its org. "
             "%d interleaved repetitions, every response accepted." % (
                 o["acs_conns"], o["acs_duration"], n, o["reps"]))
    L.append("")
    L.append("| one logins/s | many logins/s | cost many/one (per repetition, median) |")
    L.append("|---:|---:|---:|")
    L.append("| %.0f | %.0f | %s |" % (a["one"], a["many"],
                                       bench.fmt_goal(a["one/many"], GOAL, higher=False)))
    L.append("")
    L.append("Per-repetition cost ratios: %s." % " ".join("%.3f" % x for x in a["one/many_all"]))
    L.append("")
    L.append("## Time to pick up a changed org")
    L.append("")
    L.append("`cloudsmith-saml-admin org enforce ORG on|off` (%d trials per interval, toggling) "
             "while a poller GETs the org's page anonymously on a fresh connection about every "
             "10 ms (303 enforced, 200 not). Times from the command's return (it commits "
             "before) to: the sending of the first poll answered the new way; the sending of "
             "the first poll after the last one answered the old way (from then on every "
             "process answers the new way); the later of the two children's \"registry change "
             "picked up\" lines. Documented bound: the interval plus one build (%.1f ms "
             "here); the last column allows 0.1 s more for the poller (a pick-up happens "
             "only when a request comes)." % (o["trials"], res["build_ms"]))
    L.append("")
    L.append("| interval | server | first new answer, median / max s | all answers new, median "
             "/ max s | last child's pick-up, median / max s | within interval + build |")
    L.append("|---:|---|---:|---:|---:|---|")
    for p in res["pickup"]:
        L.append("| %d s | %s | %.2f / %.2f | %.2f / %.2f | %.2f / %.2f | %s |" % (
            p["refresh_s"], p["server"], p["first_median_s"], p["first_max_s"],
            p["all_median_s"], p["all_max_s"], p["children_median_s"], p["children_max_s"],
            "yes" if p["within_bound"] else "**NO**"))
    L.append("")
    L.append("## Goals")
    L.append("")
    for g in res["goals"]:
        L.append("- %s" % g)
    L.append("")
    L.append("Phase times (s): " + ", ".join("%s %.0f" % kv for kv in res["phase_s"].items()))
    return "\n".join(L) + "\n"


# ---------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orgs", type=int, default=10000, help="orgs of the big registry")
    ap.add_argument("--sessions", default="1000,10000", help="comma-separated session "
                    "counts, each measured: on the big side one session in each of this many "
                    "orgs, on the other all in its org")
    ap.add_argument("--memory-at", type=int, help="also measure memory with this many orgs "
                    "built (default: a tenth of --orgs, at most 1,000)")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--duration", type=int, default=3, help="seconds per wrk run")
    ap.add_argument("--conns", default="16,64")
    ap.add_argument("--acs-conns", type=int, default=16)
    ap.add_argument("--acs-duration", type=int, default=3)
    ap.add_argument("--trials", type=int, default=10, help="pick-up trials per interval")
    ap.add_argument("--intervals", default="5,1", help="CloudsmithSAMLOrgRefreshInterval "
                    "values for the pick-up trials (5 is the default)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    args = ap.parse_args()
    cache_size = max(20000, 2 * args.orgs)
    opts = {"reps": args.reps, "duration": args.duration,
            "conns": [int(c) for c in args.conns.split(",")], "acs_conns": args.acs_conns,
            "acs_duration": args.acs_duration,
            "sessions": sorted(int(x) for x in args.sessions.split(",")),
            "trials": args.trials, "cache_size": cache_size,
            "intervals": [int(x) for x in args.intervals.split(",")]}
    if args.memory_at is None:
        args.memory_at = min(1000, args.orgs // 10)
    if os.geteuid() != 0:
        sys.exit("run as root: Apache's children run as www-data, who owns the registries")
    for tool in ("wrk", "runuser"):
        if not shutil.which(tool):
            sys.exit("%s is missing: run tests/install-deps (as root)" % tool)
    if not (os.path.exists(bench.MODULE_SO) and os.path.exists(ADMIN)):
        sys.exit("missing %s or %s: run tests/build" % (bench.MODULE_SO, ADMIN))
    if not 1 <= min(opts["sessions"]) <= max(opts["sessions"]) <= args.orgs \
            or not 20 <= args.memory_at < args.orgs:
        sys.exit("--sessions must be 1..--orgs and --memory-at 20..--orgs - 1")

    main_pid = os.getpid()  # (the minting pool's workers inherit this handler)

    def on_sigterm(*_):
        if os.getpid() == main_pid:
            sys.exit("terminated")  # through the finally below: the servers are stopped
        os._exit(0)
    signal.signal(signal.SIGTERM, on_sigterm)
    t_start = time.time()
    res = {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "opts": opts,
           "orgs": args.orgs, "machine": bench.machine(), "load_before": bench.load_snapshot(),
           "phase_s": {}}
    res["machine"]["sqlite"] = sqlite3.sqlite_version
    rng = random.Random(1)
    work = tempfile.mkdtemp(prefix="cs-bench-orgs.")
    os.chmod(work, 0o755)
    servers = {}
    phase_t = [time.time()]

    def phase_done(name):
        res["phase_s"][name] = time.time() - phase_t[0]
        phase_t[0] = time.time()

    try:
        idp = mint.MintIdP(os.path.join(work, "idp"), entity_id="http://bench-idp.test/metadata")
        with open(idp.metadata_path) as f:
            metadata = f.read()
        sp_key, sp_crt = os.path.join(work, "sp.key"), os.path.join(work, "sp.crt")
        mint.make_key_and_cert(sp_key, sp_crt, "bench-sp")
        os.chmod(sp_key, 0o644)
        slugs = [slug_of(i) for i in range(args.orgs)]

        log("making the registries")
        regs = {"one": Registry(os.path.join(work, "db-one")),
                "many": Registry(os.path.join(work, "db-many"))}
        t = time.time()
        for reg in regs.values():
            for slug in slugs[:ADMIN_MADE] if reg is regs["many"] else slugs[:1]:
                reg.create(slug, metadata)
        admin_s = (time.time() - t) / (ADMIN_MADE + 1)
        log("  cloudsmith-saml-admin: %.2f s per org (%.0f s for %d)" % (
            admin_s, admin_s * args.orgs, args.orgs))
        bulk_s = regs["many"].bulk_create(slugs[ADMIN_MADE:], slugs[0])
        sample = rng.sample(slugs[ADMIN_MADE:], min(20, args.orgs - ADMIN_MADE))
        regs["many"].check(args.orgs, slugs[0], sample)
        regs["one"].check(1, slugs[0], [])
        res["create"] = {"admin_s_per_org": admin_s, "bulk_s": bulk_s, "checked": len(sample)}
        log("  %d orgs inserted in %.1f s; org show agrees on %d of them" % (
            args.orgs - ADMIN_MADE, bulk_s, len(sample)))
        phase_done("registries")

        # a session and a replay marker per login, about 2.2 KB, with room to spare
        cache_bytes = 128 << 20
        for name in SERVERS:
            db = regs[name].db if name in regs else None
            servers[name] = make_server(name, work, db, sp_key, sp_crt, cache_size=cache_size,
                                        cache_bytes=cache_bytes).start()
        kids = {name: children(servers[name]) for name in SERVERS}
        log("servers up: one :%d, many :%d, plain :%d" % tuple(
            servers[n].port for n in SERVERS))
        many = servers["many"]

        # memory with 0 orgs built: after requests that build none (made-up orgs: a 404 each,
        # never cached), so threads, database connections and the heap are in use
        touch(many, ["/nosuch%d/" % i for i in range(400)], expect=404)
        touch(servers["one"], ["/nosuch%d/" % i for i in range(400)], expect=404)
        time.sleep(0.5)
        points = [{"orgs": 0, "pss_kb": children_pss(many, kids["many"])}]
        build_ms, build_all = build_cost(many, rng.sample(slugs[:args.memory_at], 20))
        res["build_ms"], res["build_all_ms"] = build_ms * 1e3, [x * 1e3 for x in build_all]
        log("  one build: %.1f ms (median of 20)" % (build_ms * 1e3))
        t = time.time()
        for n in (args.memory_at, args.orgs):
            t_n = time.time()
            progress = build_everywhere(many, slugs[:n], kids["many"])
            time.sleep(0.5)
            points.append({"orgs": n, "pss_kb": children_pss(many, kids["many"]),
                           "build_s": time.time() - t_n, "progress": progress})
            log("  %d orgs built in each child (%.0f s): children's PSS %.1f MiB" % (
                n, points[-1]["build_s"], sum(points[-1]["pss_kb"]) / 1024))
        for prev, p in zip(points, points[1:]):
            grew = sum(p["pss_kb"]) - sum(prev["pss_kb"])
            p["kib_per_org_step"] = grew / len(kids["many"]) / (p["orgs"] - prev["orgs"])
            p["kib_per_org"] = ((sum(p["pss_kb"]) - sum(points[0]["pss_kb"]))
                                / len(kids["many"]) / p["orgs"])
        # ms per build in each child, for its first and its last 1,000 builds of the big step
        steps = [[(b - a, tb - ta) for (a, ta), (b, tb) in zip(marks, marks[1:])]
                 for marks in points[-1]["progress"].values()]
        res["memory"] = {"points": points, "build_all_s": time.time() - t,
                         "children": len(kids["many"]),
                         "ms_per_build_first": [1e3 * st[0][1] / st[0][0] for st in steps],
                         "ms_per_build_last": [1e3 * st[-1][1] / st[-1][0] for st in steps]}
        log("  ms per build per child, first / last 1,000: %s / %s" % (
            " ".join("%.0f" % x for x in res["memory"]["ms_per_build_first"]),
            " ".join("%.0f" % x for x in res["memory"]["ms_per_build_last"])))
        build_everywhere(servers["one"], slugs[:1], kids["one"])
        check_alive(many, kids["many"])
        phase_done("memory")

        minter = OrgMinter(idp)
        procs = 2 if (os.cpu_count() or 1) >= 2 else 1
        # a random sample's prefixes are random samples: the session counts share logins
        session_orgs = rng.sample(slugs, max(opts["sessions"]))
        bodies = {"one": bench.BodyFile(os.path.join(work, "bodies-one.txt"),
                                        SpreadMinter(minter, slugs[:1]), "o", procs),
                  "many": bench.BodyFile(os.path.join(work, "bodies-many.txt"),
                                         SpreadMinter(minter, session_orgs), "m", procs)}
        cookies = {"one": [], "many": []}
        res["protected"] = []
        for count in opts["sessions"]:
            log("logging in: %d sessions on each side" % count)
            for name in ("one", "many"):
                new = login_all(servers[name], bodies[name], count - len(cookies[name]),
                                os.path.join(work, "cookies-%s.txt" % name))
                check_cookies(servers[name], rng.sample(new, min(1000, len(new))),
                              "new login cookies")
                cookies[name] += new
            if sorted(line.split("=")[0] for line in cookies["many"]) != sorted(
                    PAGE % s + " " + COOKIE + s for s in session_orgs[:count]):
                raise RuntimeError("many: the logins' cookies are not one per sampled org")
            cookie_files = {}
            for name in SERVERS:
                lines = list(cookies["many" if name == "plain" else name])
                rng.shuffle(lines)
                cookie_files[name] = os.path.join(work, "wrk-cookies-%s.txt" % name)
                with open(cookie_files[name], "w") as f:
                    f.write("\n".join(lines) + "\n")
            phase_done("logins (%d)" % count)

            log("protected requests, %d sessions: %d reps x conns %s x %d s" % (
                count, opts["reps"], opts["conns"], opts["duration"]))
            marks = {name: servers[name].log_mark() for name in ("one", "many")}
            rows = phase_protected(servers, cookie_files, opts)
            res["protected"] += [{"sessions": count, **r} for r in rows]
            for name in ("one", "many"):
                if registry_log(servers[name], marks[name])[0]:
                    raise RuntimeError("%s: orgs were built again while measuring (evicted?)"
                                       % name)
                complaints = log_complaints(servers[name], marks[name])
                if complaints:
                    raise RuntimeError("%s logged while measuring:\n%s" % (
                        name, "\n".join(complaints[:20])))
                check_alive(servers[name], kids[name])
            phase_done("protected (%d)" % count)

        acs_orgs = list(slugs)
        rng.shuffle(acs_orgs)
        log("ACS: %d reps x %d s, %d connections" % (opts["reps"], opts["acs_duration"],
                                                    opts["acs_conns"]))
        acs_bodies = {"one": bench.BodyFile(os.path.join(work, "acs-one.txt"),
                                            SpreadMinter(minter, slugs[:1]), "p", procs),
                      "many": bench.BodyFile(os.path.join(work, "acs-many.txt"),
                                             SpreadMinter(minter, acs_orgs), "q", procs)}
        marks = {name: servers[name].log_mark() for name in ("one", "many")}
        res["acs"] = phase_acs(servers, acs_bodies, opts)
        for name in ("one", "many"):
            complaints = log_complaints(servers[name], marks[name])
            if complaints:
                raise RuntimeError("%s logged during the ACS runs:\n%s" % (
                    name, "\n".join(complaints[:20])))
            check_alive(servers[name], kids[name])
        phase_done("acs")

        res["pickup"] = []
        target = slugs[ADMIN_MADE + 1]
        for interval in opts["intervals"]:
            if interval == DEFAULT_REFRESH_S:
                h, hk, label = many, kids["many"], "many (all orgs built)"
            else:
                # another Apache on the same registry, differing only in the interval
                h = make_server("many-r%d" % interval, work, regs["many"].db, sp_key, sp_crt,
                                refresh_s=interval, cache_size=cache_size,
                                cache_bytes=16 << 20).start()
                servers[h.name] = h
                hk = children(h)
                build_everywhere(h, [target], hk)
                label = "many, interval %d s (this org built)" % interval
            log("pick-up: interval %d s, %d trials" % (interval, opts["trials"]))
            trials = phase_pickup(h, regs["many"], target, opts["trials"], interval, hk)
            res["pickup"].append({"server": label, **summarize_pickup(
                trials, interval, res["build_ms"] / 1e3)})
            check_alive(h, hk)
        phase_done("pick-up")
    finally:
        for h in servers.values():
            h.stop()
        if args.keep:
            log("work directory kept: %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)

    res["elapsed_s"] = time.time() - t_start
    res["load_after"] = bench.load_snapshot()
    worst = max(res["protected"], key=lambda r: r["one/many"])
    res["goals"] = [
        "protected request, cost with %s orgs vs 1 (rps_one / rps_many, highest over session "
        "counts and conns, S=%s c=%d): %s" % (
            "{:,}".format(args.orgs), "{:,}".format(worst["sessions"]), worst["conns"],
            bench.fmt_goal(worst["one/many"], GOAL, higher=False)),
        "ACS, cost with %s orgs vs 1 (logins_one / logins_many): %s" % (
            "{:,}".format(args.orgs), bench.fmt_goal(res["acs"]["one/many"], GOAL,
                                                     higher=False)),
    ] + ["pick-up with interval %d s: max %.2f s against the bound %.2f s: %s" % (
        p["refresh_s"], p["children_max_s"], p["bound_s"],
        "within" if p["within_bound"] else "EXCEEDED") for p in res["pickup"]]
    cmdline = "/usr/bin/python3 bench/orgs_registry.py" + "".join(" " + a for a in sys.argv[1:])
    text = report(res, cmdline)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "orgs-registry.md"), "w") as f:
        f.write(text)
    with open(os.path.join(args.out, "orgs-registry.json"), "w") as f:
        json.dump(res, f, indent=1, default=str)
    print(text)
    log("wrote %s/orgs-registry.md and .json" % args.out)
    met = worst["one/many"] <= GOAL and res["acs"]["one/many"] <= GOAL and all(
        p["within_bound"] for p in res["pickup"])
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
