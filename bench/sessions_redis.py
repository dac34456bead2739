#!/usr/bin/python3
"""Session lookup cost with 1,000,000 sessions in Redis vs 1,000 (goal: ratio at most 1.2).

    /usr/bin/python3 bench/sessions_redis.py [--sessions 1000000] [--reps 9] [--keep]

Everything on 127.0.0.1, never the system Apache or a system Redis:
  two private redis-servers (no persistence), "1k" and "1M";
  two private Apaches with the module (bench/bench.py's "ours": event MPM, 2 children x 64
  threads, static page in the protected Location), each on one of them through
  mod_socache_redis with the same CloudsmithSAMLSessionKeyFile; and a plain Apache (the same
  page, no authentication) as the baseline.
Sessions: 1,000 real logins on each server (minted responses from tests/idp/mint.py and
bench/fastmint.py POSTed to the ACS); the 1M server's Redis then gets the rest written
directly by bench/mksessions (the module's own core library: same record, cache key, seal and
TTL as a login), piped through `redis-cli --pipe`. Before measuring, 1,000 of those cookies
must open a session through Apache (200, not a 303 to the IdP), or the run stops.
Measured: protected-request req/s with wrk (keep-alive, 16 and 64 connections, a different
cookie on every request, bench/cookies.lua), the three servers interleaved in every
repetition; every measured answer must be a 200 (the access log is checked after each run).
Reported: medians, the cost ratio rps_1k / rps_1M (computed within each repetition, then the
median), Redis used_memory per session, the time to fill Redis. Output:
bench/results/redis-sessions.md and .json.
"""
import argparse
import collections
import datetime
import hashlib
import http.cookiejar
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import requests  # noqa: E402

import bench  # noqa: E402  (also puts tests/integration and tests/idp on the path)
import fastmint  # noqa: E402
import mint  # noqa: E402
from httpd import free_port, wait_for_port  # noqa: E402

MKSESSIONS = os.path.join(HERE, "mksessions")
REDIS_SO = os.path.join(bench.APACHE_MODULES, "mod_socache_redis.so")
ORG = bench.ORG
PAGE = "/%s/static/page.json" % ORG
COOKIE = "cloudsmith_saml_" + ORG
LIFETIME_S = 8 * 3600  # the module's default session lifetime, for the written sessions too
NAMESPACE = b"cloudsmith-saml:"  # the module's socache namespace, as mod_socache_redis keys it
SERVERS = ("1k", "1M", "plain")
GOAL = 1.2


def log(msg):
    bench.log(msg)


class Redis:
    """A private redis-server on a free loopback port, without persistence."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.port = free_port()
        self.proc = None

    def start(self):
        os.makedirs(self.workdir, exist_ok=True)
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--dir", self.workdir],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_for_port(self.port, 10, self.proc):
            raise RuntimeError("redis-server did not start on port %d" % self.port)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def cli(self, *commands):
        """Runs commands (one per string) through one redis-cli; one reply line each."""
        p = subprocess.run(["redis-cli", "-p", str(self.port)], capture_output=True,
                           text=True, input="".join(c + "\n" for c in commands), timeout=60)
        lines = p.stdout.splitlines()
        if p.returncode != 0 or len(lines) != len(commands):
            raise RuntimeError("redis-cli failed: %s\n%s" % (p.stdout[-500:], p.stderr))
        return lines

    def info(self, section="default"):
        fields = {}
        for line in subprocess.run(["redis-cli", "-p", str(self.port), "INFO", section],
                                   capture_output=True, text=True, check=True).stdout.splitlines():
            k, sep, v = line.strip().partition(":")
            if sep:
                fields[k] = v
        return fields

    def dbsize(self):
        return int(self.cli("DBSIZE")[0])

    def get_stats(self):
        """(calls, microseconds) Redis spent in GET so far (INFO commandstats)."""
        m = re.search(r"calls=(\d+),usec=(\d+)", self.info("commandstats").get("cmdstat_get", ""))
        return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def cache_key(session_id):
    """The Redis key of a session: the module's cache key (SHA-256 of "session:" + ID),
    hex-encoded by mod_socache_redis under the module's namespace."""
    return (NAMESPACE + hashlib.sha256(("session:" + session_id).encode()).hexdigest()
            .encode()).decode()


def session_id(cookie):
    return cookie.split("=", 1)[1]


# ---------------------------------------------------------------------------------------------
# servers

def make_server(name, work, redis, key_file, idp):
    w = os.path.join(work, name)
    os.makedirs(os.path.join(w, "htdocs", ORG, "static"), exist_ok=True)
    with open(os.path.join(w, "htdocs", ORG, "static", "page.json"), "wb") as f:
        f.write(bench.page_body())
    if redis is None:
        return bench.BenchHttpd(name, w, "", "", "<Location /%s/>\n</Location>\n" % ORG)
    load = ("LoadModule socache_redis_module %s\nLoadModule cloudsmith_saml_module %s" % (
        REDIS_SO, bench.MODULE_SO))
    glob = ("CloudsmithSAMLSessionCache redis:127.0.0.1:%d\n"
            "CloudsmithSAMLSessionKeyFile %s\n" % (redis.port, key_file))
    site = f"""
<Location /{ORG}/>
    AuthType CloudsmithSAML
    CloudsmithSAMLOrg {ORG}
    CloudsmithSAMLIdPMetadataFile {idp.metadata_path}
    CloudsmithSAMLMaxIssueAge {bench.VALIDITY_S}
    Require valid-user
</Location>
"""
    return bench.BenchHttpd(name, w, load, glob, site)


def no_cookie_session():
    """A requests session that never keeps cookies: each request carries exactly ours."""
    s = requests.Session()
    s.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    return s


def acs_url(httpd):
    """The ACS URL exactly as the module computed it (its SP metadata says it)."""
    r = requests.get(httpd.base_url + "/%s/saml/metadata/" % ORG, timeout=10)
    m = re.search(r'<(?:\w+:)?AssertionConsumerService\b[^>]*\bLocation="([^"]+)"', r.text)
    if r.status_code != 200 or not m:
        raise RuntimeError("%s: no ACS URL in the SP metadata (%d): %s" % (
            httpd.name, r.status_code, r.text[:300]))
    return m.group(1)


def real_logins(httpd, acs, idp, count, prefix):
    """count logins by POSTing distinct minted responses to the ACS; their cookies."""
    minter = fastmint.FastMinter(idp, acs, acs, validity_s=bench.VALIDITY_S)
    bodies = fastmint.mint_many(minter, 0, count, prefix, processes=2)
    s = no_cookie_session()
    cookies = []
    for body in bodies:
        r = s.post(httpd.base_url + "/%s/saml/acs/" % ORG, data=body, allow_redirects=False,
                   timeout=30, headers={"Content-Type": "application/x-www-form-urlencoded"})
        c = r.headers.get("Set-Cookie", "").split(";", 1)[0]
        if r.status_code != 303 or not c.startswith(COOKIE + "="):
            raise RuntimeError("%s refused a minted login: %d %s\n%s" % (
                httpd.name, r.status_code, r.text[:300], httpd.read_error_log()[-2000:]))
        cookies.append(c)
    return cookies


def check_cookies(httpd, cookies, what):
    """Every cookie must open a session: GET gives the page (200), not a 303 to the IdP."""
    s = no_cookie_session()
    got = collections.Counter()
    for c in cookies:
        got[s.get(httpd.base_url + PAGE, headers={"Cookie": c}, allow_redirects=False,
                  timeout=10).status_code] += 1
    if got[200] != len(cookies):
        raise RuntimeError("%s: %d of %d %s do not open a session (statuses %s): the setup is "
                           "broken, nothing measured\n%s" % (
                               httpd.name, len(cookies) - got[200], len(cookies), what,
                               dict(got), httpd.read_error_log()[-2000:]))
    log("  %s: %d %s open a session (200)" % (httpd.name, len(cookies), what))


def check_unknown_cookie(httpd):
    """The control: a cookie naming no session is sent to the IdP, so a 200 means a lookup
    found the session."""
    r = requests.get(httpd.base_url + PAGE, allow_redirects=False, timeout=10,
                     headers={"Cookie": "%s=%064x" % (COOKIE, random.getrandbits(256))})
    if r.status_code != 303 or "SAMLRequest=" not in r.headers.get("Location", ""):
        raise RuntimeError("%s: an unknown session cookie got %d, not a 303 to the IdP" % (
            httpd.name, r.status_code))


# ---------------------------------------------------------------------------------------------
# filling Redis

def build_mksessions():
    if not os.path.exists(os.path.join(ROOT, "Makefile")):
        p = bench.run(["sh", "tests/build"], cwd=ROOT)
        if p.returncode != 0:
            sys.exit("tests/build failed:\n" + p.stdout[-3000:] + p.stderr[-3000:])
    p = bench.run(["make", "-j2", "mod_cloudsmith_saml.so", "bench/mksessions"], cwd=ROOT)
    if p.returncode != 0:
        sys.exit("building bench/mksessions failed:\n" + p.stdout[-3000:] + p.stderr[-3000:])


def fill(redis, key_file, acs, idp_entity_id, count, cookies_out):
    """Writes count sessions into redis with mksessions | redis-cli --pipe; returns timings."""
    before = redis.dbsize()
    t = time.time()
    gen = subprocess.Popen([MKSESSIONS, key_file, ORG, acs, idp_entity_id, str(count),
                            str(LIFETIME_S), cookies_out], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
    pipe = subprocess.run(["redis-cli", "-p", str(redis.port), "--pipe"], stdin=gen.stdout,
                          capture_output=True, text=True)
    gen.stdout.close()
    gen_err = gen.stderr.read().decode()
    gen.wait()
    wall = time.time() - t
    m = re.search(r"errors: (\d+), replies: (\d+)", pipe.stdout)
    if gen.returncode != 0 or pipe.returncode != 0 or not m or int(m.group(1)) != 0 \
            or int(m.group(2)) != count:
        raise RuntimeError("filling Redis failed: mksessions %s: %s; redis-cli --pipe %s: %s%s"
                           % (gen.returncode, gen_err, pipe.returncode, pipe.stdout[-500:],
                              pipe.stderr[-500:]))
    added = redis.dbsize() - before
    if added != count:
        raise RuntimeError("redis-cli --pipe wrote %d replies but the database grew by %d keys"
                           % (count, added))
    cpu = re.search(r"in ([\d.]+) s of CPU", gen_err)
    return {"count": count, "wall_s": wall, "mksessions_cpu_s": float(cpu.group(1))}


def value_stats(redis, cookies):
    """Mean sealed value size and TTL of the cookies' Redis entries."""
    keys = [cache_key(session_id(c)) for c in cookies]
    sizes = [int(x) for x in redis.cli(*("STRLEN " + k for k in keys))]
    ttls = [int(x) for x in redis.cli(*("TTL " + k for k in keys))]
    if min(sizes) == 0 or min(ttls) <= 0:
        raise RuntimeError("some sessions are not where mod_socache_redis keeps them "
                           "(STRLEN 0 or no TTL)")
    return {"n": len(keys), "bytes": sum(sizes) / len(sizes), "ttl_min": min(ttls),
            "ttl_max": max(ttls)}


# ---------------------------------------------------------------------------------------------
# measuring

def phase_measure(servers, cookie_files, opts):
    return bench.interleaved_cost(servers, SERVERS, cookie_files, opts, PAGE)


def report(res, cmdline):
    m = res["machine"]
    f = res["fill"]
    mem = res["redis_memory"]
    L = ["# Session lookup cost: %s sessions in Redis vs %s (%s)" % (
        "{:,}".format(res["sessions"]["1M"]), "{:,}".format(res["sessions"]["1k"]),
        res["date"]), ""]
    L.append("Command: `%s` (%.0f s). Machine: %s. Load average before/after: %s / %s." % (
        cmdline, res["elapsed_s"], bench.machine_text(m, ("Redis", "redis"), ("wrk", "wrk")),
        " ".join(res["load_before"]["loadavg"]), " ".join(res["load_after"]["loadavg"])))
    L.append("")
    L.append("Two Apaches with the module (event MPM, 2 children x 64 threads, static page in "
             "the protected Location, mod_socache_redis), each on its own private Redis: one "
             "holding %s sessions from real logins, the other the same plus %s written by "
             "bench/mksessions; and plain Apache (same page, no authentication). wrk -t1, "
             "keep-alive, a different session cookie on every request (cycling through all "
             "%s sessions of the 1k server; through %s sessions drawn at random from all %s of "
             "the 1M server); %d interleaved repetitions of %d s, every answer checked to be a "
             "200 in the access log. Ratios are computed within each repetition, then the "
             "median taken." % (
                 "{:,}".format(res["sessions"]["1k"]), "{:,}".format(f["count"]),
                 "{:,}".format(res["sessions"]["1k"]),
                 "{:,}".format(res["sample"]), "{:,}".format(res["sessions"]["1M"]),
                 res["opts"]["reps"], res["opts"]["duration"]))
    L.append("")
    L.append("| conns | 1k req/s | 1M req/s | plain req/s | cost 1M/1k (rps_1k/rps_1M) | "
             "1k/plain | 1M/plain |")
    L.append("|---:|---:|---:|---:|---:|---:|---:|")
    for r in res["rows"]:
        L.append("| %d | %.0f | %.0f | %.0f | %s | %.2f | %.2f |" % (
            r["conns"], r["1k"], r["1M"], r["plain"], bench.fmt_goal(r["1k/1M"], GOAL,
                                                                      higher=False),
            r["1k/plain"], r["1M/plain"]))
    L.append("")
    L.append("Per-repetition cost ratios: " + "; ".join(
        "c=%d: %s" % (r["conns"], " ".join("%.3f" % x for x in r["1k/1M_all"]))
        for r in res["rows"]) + ".")
    L.append("")
    g = res["redis_get_us"]
    L.append("Redis's own time per GET during the runs (INFO commandstats): %.2f us with %s "
             "sessions, %.2f us with %s." % (g["1k"], "{:,}".format(res["sessions"]["1k"]),
                                             g["1M"], "{:,}".format(res["sessions"]["1M"])))
    L.append("")
    L.append("Redis memory (INFO used_memory): %.1f MiB with %s keys vs %.1f MiB with %s keys: "
             "**%.0f bytes per session** (sealed value %.0f bytes; key %d bytes)." % (
                 mem["1M"]["used_memory"] / 2**20, "{:,}".format(mem["1M"]["keys"]),
                 mem["1k"]["used_memory"] / 2**20, "{:,}".format(mem["1k"]["keys"]),
                 mem["bytes_per_session"], res["values"]["written"]["bytes"],
                 len(NAMESPACE) + 64))
    L.append("")
    L.append("Filling: %s sessions written by mksessions | redis-cli --pipe in %.1f s "
             "(mksessions %.1f s of CPU). Entries checked against real logins': sealed value "
             "%.0f vs %.0f bytes, TTL %d-%d s vs %d-%d s; %d written cookies opened a session "
             "through Apache before measuring, %d (written and real) after." % (
                 "{:,}".format(f["count"]), f["wall_s"], f["mksessions_cpu_s"],
                 res["values"]["written"]["bytes"], res["values"]["real"]["bytes"],
                 res["values"]["written"]["ttl_min"], res["values"]["written"]["ttl_max"],
                 res["values"]["real"]["ttl_min"], res["values"]["real"]["ttl_max"],
                 res["checked_before"], res["checked_after"]))
    L.append("")
    L.append("Goal: %s" % res["goal"])
    return "\n".join(L) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=1000000, help="sessions of the big side")
    ap.add_argument("--small", type=int, default=1000, help="sessions of the small side "
                    "(all real logins; the big side has as many real ones)")
    ap.add_argument("--reps", type=int, default=9)
    ap.add_argument("--duration", type=int, default=3, help="seconds per wrk run")
    ap.add_argument("--conns", default="16,64")
    ap.add_argument("--sample", type=int, default=100000, help="cookies wrk cycles through "
                    "on the big side, drawn at random from all its sessions")
    ap.add_argument("--check", type=int, default=1000, help="written cookies that must open "
                    "a session before measuring")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    args = ap.parse_args()
    opts = {"reps": args.reps, "duration": args.duration,
            "conns": [int(c) for c in args.conns.split(",")]}
    for tool in ("wrk", "redis-server", "redis-cli"):
        if not shutil.which(tool):
            sys.exit("%s is missing: run tests/install-deps (as root)" % tool)
    if not os.path.exists(REDIS_SO):
        sys.exit("missing %s (apache2)" % REDIS_SO)
    if args.sessions <= args.small:
        sys.exit("--sessions must be larger than --small")
    build_mksessions()

    main_pid = os.getpid()  # (the minting pool's workers inherit this handler)

    def on_sigterm(*_):
        if os.getpid() == main_pid:
            sys.exit("terminated")  # through the finally below: the servers are stopped
        os._exit(0)
    signal.signal(signal.SIGTERM, on_sigterm)
    t_start = time.time()
    res = {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "opts": opts,
           "machine": bench.machine(), "load_before": bench.load_snapshot(),
           "sessions": {"1k": args.small, "1M": args.sessions}}
    res["machine"]["redis"] = re.search(r"v=(\S+)", bench.run(["redis-server", "--version"])
                                        .stdout).group(1)
    work = tempfile.mkdtemp(prefix="cs-bench-redis.")
    os.chmod(work, 0o755)
    key_file = os.path.join(work, "session.key")
    with open(key_file, "w") as f:
        f.write(os.urandom(48).hex())
    redis = {name: Redis(os.path.join(work, "redis-" + name)) for name in ("1k", "1M")}
    servers = {}
    try:
        for r in redis.values():
            r.start()
        idp = mint.MintIdP(os.path.join(work, "idp"), entity_id="http://bench-idp.test/metadata")
        for name in SERVERS:
            servers[name] = make_server(name, work, redis.get(name), key_file, idp).start()
        acs = {name: acs_url(servers[name]) for name in ("1k", "1M")}
        log("servers up: 1k :%d (redis :%d), 1M :%d (redis :%d), plain :%d" % (
            servers["1k"].port, redis["1k"].port, servers["1M"].port, redis["1M"].port,
            servers["plain"].port))

        t = time.time()
        real = {name: real_logins(servers[name], acs[name], idp, args.small, name[:2])
                for name in ("1k", "1M")}
        res["login_s"] = time.time() - t
        log("%d real logins on each server in %.0f s" % (args.small, res["login_s"]))
        for name in ("1k", "1M"):
            check_unknown_cookie(servers[name])
            check_cookies(servers[name], real[name], "real login cookies")

        written_file = os.path.join(work, "cookies-written.txt")
        count = args.sessions - args.small
        log("writing %d sessions into the 1M server's Redis" % count)
        res["fill"] = fill(redis["1M"], key_file, acs["1M"], idp.entity_id, count,
                           written_file)
        log("  %d sessions in %.1f s (mksessions %.1f s of CPU)" % (
            count, res["fill"]["wall_s"], res["fill"]["mksessions_cpu_s"]))
        with open(written_file) as f:
            written = [line.strip() for line in f if line.strip()]
        if len(written) != count:
            raise RuntimeError("mksessions wrote %d cookies for %d sessions" % (len(written),
                                                                                 count))
        rng = random.Random(1)
        checked = rng.sample(written, min(args.check, count))
        check_cookies(servers["1M"], checked, "written cookies")
        res["checked_before"] = len(checked)
        res["values"] = {"real": value_stats(redis["1M"], real["1M"][:200]),
                         "written": value_stats(redis["1M"], checked[:200])}
        rv, wv = res["values"]["real"], res["values"]["written"]
        if abs(wv["bytes"] - rv["bytes"]) > 0.1 * rv["bytes"] \
                or wv["ttl_max"] > LIFETIME_S or wv["ttl_min"] < rv["ttl_min"]:
            raise RuntimeError("written sessions do not look like real ones: %s vs %s" % (wv, rv))

        info = {name: redis[name].info() for name in ("1k", "1M")}
        mem = {name: {"used_memory": int(info[name]["used_memory"]),
                      "used_memory_rss": int(info[name]["used_memory_rss"]),
                      "keys": redis[name].dbsize()} for name in ("1k", "1M")}
        mem["bytes_per_session"] = ((mem["1M"]["used_memory"] - mem["1k"]["used_memory"])
                                    / (mem["1M"]["keys"] - mem["1k"]["keys"]))
        res["redis_memory"] = mem
        log("Redis used_memory: 1k %.1f MiB (%d keys), 1M %.1f MiB (%d keys): %.0f bytes per "
            "session" % (mem["1k"]["used_memory"] / 2**20, mem["1k"]["keys"],
                         mem["1M"]["used_memory"] / 2**20, mem["1M"]["keys"],
                         mem["bytes_per_session"]))

        # wrk's cookie files: every session of the small side, a random sample of the big one
        population = real["1M"] + written
        res["sample"] = min(args.sample, len(population))
        cookie_files = {}
        for name, cookies in (("1k", list(real["1k"])),
                              ("1M", rng.sample(population, res["sample"])),
                              ("plain", list(real["1k"]))):
            rng.shuffle(cookies)
            cookie_files[name] = os.path.join(work, "wrk-cookies-%s.txt" % name)
            with open(cookie_files[name], "w") as f:
                f.write("\n".join(cookies) + "\n")
        del written, population

        t = time.time()
        log("measuring: %d reps x conns %s x %d s" % (opts["reps"], opts["conns"],
                                                      opts["duration"]))
        gets = {name: redis[name].get_stats() for name in ("1k", "1M")}
        res["rows"] = phase_measure(servers, cookie_files, opts)
        res["measure_s"] = time.time() - t
        # Redis's own time per GET over the measured runs: the lookup itself, without HTTP
        res["redis_get_us"] = {}
        for name in ("1k", "1M"):
            calls, usec = (b - a for a, b in zip(gets[name], redis[name].get_stats()))
            res["redis_get_us"][name] = usec / max(calls, 1)

        # nothing expired or was evicted meanwhile: the sessions measured were all there
        after = checked[:200] + real["1M"][:100]
        check_cookies(servers["1M"], after, "cookies (after measuring)")
        res["checked_after"] = len(after)
        for name in ("1k", "1M"):
            stats = redis[name].info()
            if int(stats["evicted_keys"]) or int(stats["expired_keys"]):
                raise RuntimeError("redis %s evicted or expired keys: %s / %s" % (
                    name, stats["evicted_keys"], stats["expired_keys"]))
    finally:
        for h in servers.values():
            h.stop()
        for r in redis.values():
            r.stop()
        if args.keep:
            log("work directory kept: %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)

    res["elapsed_s"] = time.time() - t_start
    res["load_after"] = bench.load_snapshot()
    worst = max(res["rows"], key=lambda r: r["1k/1M"])
    res["goal"] = "cost at %s vs %s sessions (rps_1k / rps_1M, highest over conns, c=%d) %s" % (
        "{:,}".format(args.sessions), "{:,}".format(args.small), worst["conns"],
        bench.fmt_goal(worst["1k/1M"], GOAL, higher=False))
    cmdline = "/usr/bin/python3 bench/sessions_redis.py" + "".join(
        " " + a for a in sys.argv[1:])
    text = report(res, cmdline)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "redis-sessions.md"), "w") as f:
        f.write(text)
    with open(os.path.join(args.out, "redis-sessions.json"), "w") as f:
        json.dump(res, f, indent=1, default=str)
    print(text)
    log("wrote %s/redis-sessions.md and .json" % args.out)
    return 0 if worst["1k/1M"] <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
