"""Load test of the module under ASan+UBSan: logins and signed-in requests at saturation for
several minutes; passes if no request got a 5xx, no sanitizer reported anything and the
memory of httpd's children stayed flat.

  make load-test [LOAD_ARGS="--duration 300"]          (builds build-asan/ first)
  /usr/bin/python3 bench/load/run_load.py --module build-asan/mod_cloudsmith_saml.so

Traffic, all at once for --duration seconds against one private httpd (tests/integration/
httpd.py: event MPM, 2 children x 16 threads) with the echo backend behind mod_proxy:
  * protected GETs with a session cookie, by wrk (--connections, keep-alive), cycling through
    the sessions of the --sessions latest logins (refreshed every second, as real users come
    and go): cookie -> session cache -> identity headers -> proxy -> 200 from the backend;
  * IdP-initiated logins: POSTs of SAMLResponses minted by tests/idp/mint.py (signed
    assertion and response, a new assertion ID and user each) to /globex/saml/acs/, from
    --acs-workers threads; --mint-processes processes mint them while the test runs;
  * SP-initiated login starts: GETs without a session of an org that signs its
    AuthnRequests (303 to the IdP), from --start-workers threads.

Memory: the private resident memory (RssAnon: heap, stacks, ASan shadow; not the session
cache's shared memory) of every httpd child is sampled every --sample seconds. The first half
of the run is warm-up (ASan's quarantine and allocator, httpd's per-thread free lists fill up,
then stay); the verdict is on the second half: the children's summed private RSS may grow by
at most --growth-limit MiB (4) from the middle to the end. Why 4: with no leak, the ASan build
still moves by 1.5 to 3 MiB in the second half of a 3-minute run (the plain build by under
1 MiB), so 4 is above the noise; the report prints what the limit means in bytes per login and
per request at the run's volumes (under 1 KiB per login, under 200 bytes per GET in a default
run): a leak at least that big fails it. Smaller leaks are LeakSanitizer's and valgrind's job
(make check-asan ASAN_FULL_STACKS=1, make check-valgrind). ASan records 2 frames per
allocation here (--malloc-context): with more, its stack depot grows like a leak.
"""
import argparse
import collections
import json
import multiprocessing
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
for sub in ("tests/integration", "tests/idp", "tests/asan"):
    sys.path.insert(0, os.path.join(TOP, sub))

import requests  # noqa: E402

import mint  # noqa: E402
import sanitizers  # noqa: E402
from echo_backend import EchoBackend  # noqa: E402
from httpd import Httpd, free_port  # noqa: E402

MIB = 1024 * 1024


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--module", required=True, help="the module .so (normally the ASan build)")
    ap.add_argument("--plain", action="store_true",
                    help="the module is not a sanitizer build: preload nothing")
    ap.add_argument("--cc", default=os.environ.get("CC") or "gcc")
    ap.add_argument("--duration", type=float, default=float(os.environ.get("LOAD_DURATION", 180)),
                    help="seconds of load (default 180, or $LOAD_DURATION)")
    ap.add_argument("--connections", type=int, default=16,
                    help="wrk connections (16: with the other clients, below the 32 workers; "
                         "0: no GETs)")
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--sessions", type=int, default=64, help="sessions the GETs cycle through")
    ap.add_argument("--acs-workers", type=int, default=4, help="threads posting logins (4)")
    ap.add_argument("--start-workers", type=int, default=1,
                    help="threads starting SP-initiated logins (1; 0: none)")
    ap.add_argument("--mint-processes", type=int, default=1)
    ap.add_argument("--sample", type=float, default=5.0, help="RSS sampling period, seconds")
    ap.add_argument("--growth-limit", type=float, default=4.0,
                    help="MiB the children's private RSS may grow over the second half (4)")
    ap.add_argument("--quarantine-mb", type=int, default=16,
                    help="ASan quarantine per process (16; ASan's 256 would take longer than "
                         "the warm-up to fill)")
    ap.add_argument("--cache", default="shmcb:{work}/sessions(67108864)",
                    help="CloudsmithSAMLSessionCache ({work}: the work dir). Default: shmcb of "
                         "64 MiB, sized for the run's logins (about 2 cache entries per login, "
                         "1 per login start): the default 512 KB holds only a few seconds of "
                         "them, and the GETs would find their sessions evicted")
    ap.add_argument("--malloc-context", type=int, default=2,
                    help="frames ASan records per allocation and free (malloc_context_size, "
                         "2: the allocating function and its caller. More frames run into the "
                         "libraries without frame pointers and pick up garbage, which makes "
                         "almost every stack new: ASan's stack depot, never freed, then grows "
                         "by ~3 MiB per child per minute, like a leak)")
    ap.add_argument("--max-mem-free", type=int, default=256,
                    help="httpd MaxMemFree in KiB (256; httpd's default 2048 lets each of the 32 "
                         "worker threads keep up to 2 MiB of freed pool memory, which fills in "
                         "too slowly to tell from a leak within the warm-up; 0: httpd's default)")
    ap.add_argument("--workdir", help="default: a new directory in /tmp, removed on success")
    return ap.parse_args()


# --- minting (separate processes: signing is CPU-bound Python) ---------------------------

def minter(out, stop, workdir, entity_id, acs):
    idp = mint.MintIdP(workdir, entity_id=entity_id)  # reuses the key pair
    n = 0
    while not stop.is_set():
        n += 1
        b64 = idp.response_b64(acs, acs, name_id="load-%d-%d@example.com" % (os.getpid(), n))
        while not stop.is_set():
            try:
                out.put(b64, timeout=0.5)
                break
            except queue.Full:
                pass


# --- clients --------------------------------------------------------------------------------

class Tally:
    """Statuses per kind of request, and when they were answered (for the second half)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.events = []  # (time answered, kind, status)
        self.errors = collections.defaultdict(list)  # kind: the first few exception texts

    def add(self, kind, status, error=None):
        with self.lock:
            self.events.append((time.time(), kind, status))
            if error is not None and len(self.errors[kind]) < 5:
                self.errors[kind].append(error)

    def counts(self, kind, since=0.0):
        with self.lock:
            return collections.Counter(s for t, k, s in self.events if k == kind and t >= since)


# Logins and login starts open a connection each: a kept-alive one can be closed by the event
# MPM while all its workers are busy, and a POST on it would fail without an answer.
def acs_worker(acs, responses, tally, end, fresh):
    while time.time() < end:
        try:
            b64 = responses.get(timeout=1)
        except queue.Empty:
            continue
        try:
            r = requests.post(acs, data={"SAMLResponse": b64}, allow_redirects=False, timeout=60)
            tally.add("login", r.status_code)
            if "cloudsmith_saml_globex" in r.cookies:
                fresh.append("cloudsmith_saml_globex=" + r.cookies["cloudsmith_saml_globex"])
        except requests.RequestException as e:
            tally.add("login", "error " + type(e).__name__, str(e)[:300])


def start_worker(url, tally, end):
    while time.time() < end:
        try:
            r = requests.get(url, allow_redirects=False, timeout=60)
            tally.add("start", r.status_code)
        except requests.RequestException as e:
            tally.add("start", "error " + type(e).__name__, str(e)[:300])


def write_cookies(path, cookies):
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(cookies) + "\n")
    os.replace(path + ".tmp", path)


def cookie_refresher(path, fresh, stop):
    """Keeps the GETs on the newest sessions, as real users are: every second the cookie file
    wrk reads gets the sessions of the latest logins."""
    while not stop.wait(1.0):
        if fresh:
            write_cookies(path, list(fresh))


def run_wrk(args, url, cookie_file, duration):
    cmd = ["wrk", "-t%d" % args.wrk_threads, "-c%d" % args.connections, "-d%ds" % int(duration),
           "--timeout", "30s", "-s", os.path.join(HERE, "session_get.lua"), url, "--", cookie_file]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def parse_wrk(text):
    out = {"statuses": collections.Counter(), "errors": {}, "latency_us": {}, "rps": None}
    for line in text.splitlines():
        if line.startswith("STATUS"):
            for part in line.split()[1:]:
                k, v = part.split("=")
                out["statuses"][int(k)] += int(v)
        elif line.startswith("ERRORS"):
            out["errors"] = {k: int(v) for k, v in (p.split("=") for p in line.split()[1:])}
        elif line.startswith("LATENCY_US"):
            out["latency_us"] = {k: int(v) for k, v in (p.split("=") for p in line.split()[1:])}
        elif line.startswith("Requests/sec:"):
            out["rps"] = float(line.split()[1])
    return out


# --- memory ---------------------------------------------------------------------------------

def children_of(ppid):
    pids = []
    for stat in os.listdir("/proc"):
        if not stat.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % stat) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == ppid:
                pids.append(int(stat))
        except (OSError, IndexError, ValueError):
            pass
    return sorted(pids)


def rss_kib(pid, field="RssAnon:"):
    """Private (anonymous) resident memory: the heap, stacks and ASan's shadow. Not VmRSS: it
    also counts the session cache's shared memory, whose pages become resident as the cache
    fills (up to its size), which is not growth of the process."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def sampler(parent, period, samples, stop):
    t0 = time.time()
    while not stop.wait(0 if not samples else period):
        kids = {pid: rss_kib(pid) for pid in children_of(parent)}
        samples.append({"t": round(time.time() - t0, 1), "parent": rss_kib(parent),
                        "children": {p: r for p, r in kids.items() if r is not None},
                        "vmrss": {p: rss_kib(p, "VmRSS:") for p in kids}})


def memory_verdict(samples, limit_mib):
    """Growth of the summed RSS of the children alive through the whole second half."""
    if len(samples) < 4:
        return None
    mid_i = len(samples) // 2
    mid, last = samples[mid_i], samples[-1]
    steady = set(mid["children"]) & set(last["children"])
    for s in samples[mid_i:]:
        steady &= set(s["children"])
    total = [sum(s["children"].values()) for s in samples]
    growth_kib = sum(last["children"][p] for p in steady) - sum(mid["children"][p]
                                                               for p in steady)
    return {"first_kib": total[0], "mid_kib": total[mid_i], "last_kib": total[-1],
            "peak_kib": max(total), "mid_t": mid["t"], "last_t": last["t"],
            "steady_children": sorted(steady),
            "all_children": sorted({p for s in samples for p in s["children"]}),
            "growth_second_half_kib": growth_kib,
            "ok": bool(steady) and growth_kib <= limit_mib * 1024}


# --- logs -----------------------------------------------------------------------------------

def error_log_problems(path):
    """Lines at level error or worse, and child crashes, from httpd's error log."""
    bad = []
    with open(path, errors="replace") as f:
        for line in f:
            if re.search(r"\[[a-z_]+:(error|crit|alert|emerg)\]", line) or "exit signal" in line:
                bad.append(line.rstrip())
    return bad


# --- the run --------------------------------------------------------------------------------

def main():
    args = parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install wrk (tests/install-deps has it)")
    work = args.workdir or tempfile.mkdtemp(prefix="cs-load.")
    os.makedirs(work, exist_ok=True)
    os.chmod(work, 0o755)
    log_dir = sanitizers.prepare_log_dir(os.path.join(work, "reports"))
    env = {} if args.plain else sanitizers.httpd_env(
        args.cc, log_dir, leaks=True, fast_unwind=True, quarantine_mb=args.quarantine_mb,
        stack_uar=False,  # its fake stacks grow resident for minutes: check-asan has it
        malloc_context=args.malloc_context)

    backend = EchoBackend(free_port()).start()
    idp = mint.MintIdP(os.path.join(work, "idp"), entity_id="http://mint-load.test/metadata")
    sp_key, sp_cert = os.path.join(work, "sp.key"), os.path.join(work, "sp.crt")
    mint.make_key_and_cert(sp_key, sp_cert, "load-sp")
    site = f"""
<Location /globex/>
    AuthType CloudsmithSAML
    CloudsmithSAMLOrg globex
    CloudsmithSAMLIdPMetadataFile {idp.metadata_path}
    CloudsmithSAMLGroupSync groups Dev developers Member
    CloudsmithSAMLGroupSync groups Ops operations Manager
    Require valid-user
    ProxyPass http://127.0.0.1:{backend.port}/globex/
</Location>
<Location /signing/>
    AuthType CloudsmithSAML
    CloudsmithSAMLOrg signing
    CloudsmithSAMLIdPMetadataFile {idp.metadata_path}
    CloudsmithSAMLSPPrivateKeyFile {sp_key}
    CloudsmithSAMLSPCertFile {sp_cert}
    CloudsmithSAMLSignAuthnRequests On
    Require valid-user
    ProxyPass http://127.0.0.1:{backend.port}/signing/
</Location>
"""
    cache = args.cache.replace("{work}", work)
    httpd = Httpd(os.path.join(work, "httpd"), os.path.abspath(args.module), site, env=env,
                  global_conf="LogLevel warn cloudsmith_saml:info\n"
                              "CloudsmithSAMLSessionCache %s\n%s" % (
                                  cache, "MaxMemFree %d" % args.max_mem_free
                                  if args.max_mem_free else ""))
    httpd.start(timeout=120)
    base = httpd.base_url
    acs = base + "/globex/saml/acs/"
    print("load: httpd %s (pid %d), module %s%s\n  session cache %s\n  work dir %s"
          % (base, httpd.proc.pid, args.module, " (plain)" if args.plain else " (ASan+UBSan)",
             cache, work), flush=True)

    # Minters first (fork before this process has more threads).
    responses = multiprocessing.Queue(maxsize=2000)
    stop_minting = multiprocessing.Event()
    minters = [multiprocessing.Process(target=minter, daemon=True,
                                       args=(responses, stop_minting, os.path.join(work, "idp"),
                                             idp.entity_id, acs))
               for _ in range(args.mint_processes)]
    for p in minters:
        p.start()

    cookies = []
    for _ in range(args.sessions):
        r = requests.post(acs, data={"SAMLResponse": responses.get(timeout=60)},
                          allow_redirects=False, timeout=60)
        if r.status_code != 303 or "cloudsmith_saml_globex" not in r.cookies:
            raise SystemExit("a login before the run was refused: %d\n%s"
                             % (r.status_code, httpd.read_error_log()[-3000:]))
        cookies.append("cloudsmith_saml_globex=" + r.cookies["cloudsmith_saml_globex"])
    cookie_file = os.path.join(work, "cookies.txt")
    write_cookies(cookie_file, cookies)
    fresh = collections.deque(cookies, maxlen=args.sessions)
    probe = requests.get(base + "/globex/probe", headers={"Cookie": cookies[-1]}, timeout=30,
                         allow_redirects=False)
    if probe.status_code != 200:
        raise SystemExit("a signed-in GET did not reach the backend: %d" % probe.status_code)
    access_mark = sum(1 for _ in open(httpd.access_log))

    print("load: %d s: wrk %d connections (GET /globex/ with %d sessions), %d login posters, "
          "%d login starters" % (args.duration, args.connections, args.sessions,
                                 args.acs_workers, args.start_workers), flush=True)
    tally = Tally()
    samples, stop_sampling = [], threading.Event()
    sampler_thread = threading.Thread(target=sampler, daemon=True,
                                      args=(httpd.proc.pid, args.sample, samples, stop_sampling))
    started = time.time()
    end = started + args.duration
    refresher = threading.Thread(target=cookie_refresher, daemon=True,
                                 args=(cookie_file, fresh, stop_sampling))
    sampler_thread.start()
    refresher.start()
    wrk = run_wrk(args, base + "/globex/load", cookie_file, args.duration) \
        if args.connections else None
    workers = [threading.Thread(target=acs_worker, args=(acs, responses, tally, end, fresh))
               for _ in range(args.acs_workers)]
    workers += [threading.Thread(target=start_worker,
                                 args=(base + "/signing/page", tally, end))
                for _ in range(args.start_workers)]
    for w in workers:
        w.start()
    last_print = started
    while time.time() < end:
        time.sleep(1)
        if time.time() - last_print >= 30 and samples:
            last_print = time.time()
            s = samples[-1]
            print("  t=%3.0fs logins %d, starts %d, children's private RSS %s MiB"
                  % (s["t"], sum(tally.counts("login").values()),
                     sum(tally.counts("start").values()),
                     " + ".join("%.0f" % (v / 1024) for v in s["children"].values())),
                  flush=True)
    wrk_out = wrk.communicate(timeout=120)[0] if wrk else ""
    for w in workers:
        w.join(120)
    stop_sampling.set()
    sampler_thread.join()
    stop_minting.set()
    elapsed = time.time() - started

    # Verdicts.
    half = started + args.duration / 2
    wrk_res = parse_wrk(wrk_out)
    logins, starts = tally.counts("login"), tally.counts("start")
    logins_2nd = sum(tally.counts("login", half).values())
    starts_2nd = sum(tally.counts("start", half).values())
    gets = sum(wrk_res["statuses"].values())
    access = collections.Counter()
    with open(httpd.access_log, errors="replace") as f:
        for i, line in enumerate(f):
            m = re.search(r" (\d{3})$", line.rstrip())
            if i >= access_mark and m:
                access[int(m.group(1))] += 1
    mem = memory_verdict(samples, args.growth_limit)

    httpd.stop()
    backend.stop()
    for p in minters:
        p.join(5)
        if p.is_alive():
            p.terminate()
    stragglers = sanitizers.wait_for_exit(log_dir) if not args.plain else []
    reports = sanitizers.reports(log_dir)
    log_findings = sanitizers.error_log_findings(os.path.join(work, "httpd"))
    problems = error_log_problems(httpd.error_log)

    five = {
        "wrk GETs": sum(n for s, n in wrk_res["statuses"].items() if s >= 500),
        "logins": sum(n for s, n in logins.items() if isinstance(s, int) and s >= 500),
        "login starts": sum(n for s, n in starts.items() if isinstance(s, int) and s >= 500),
        "access log": sum(n for s, n in access.items() if s >= 500),
    }
    lost = sum(n for s, n in wrk_res["statuses"].items() if s != 200)
    # The event MPM closes idle kept-alive connections when all its workers are busy; wrk
    # counts each as a read error and reconnects (up to 1% tolerated: a crashing child would
    # also leave a report and an error-log line). Connect errors and timeouts are real.
    wrk_closed = wrk_res["errors"].get("read", 0) + wrk_res["errors"].get("write", 0)
    unexpected = {
        "wrk connect errors and timeouts": wrk_res["errors"].get("connect", 0)
        + wrk_res["errors"].get("timeout", 0),
        "wrk read/write errors above 1%": max(0, wrk_closed - gets // 100),
        "logins (not 303)": sum(n for s, n in logins.items() if s != 303),
        "login starts (not 303)": sum(n for s, n in starts.items() if s != 303),
    }
    checks = [
        ("zero 5xx", sum(five.values()) == 0, "%s" % five),
        ("every login and login start answered 303; no connect error or timeout",
         sum(unexpected.values()) == 0, "%s" % unexpected),
        ("signed-in GETs reach the backend (at least 99.9% answered 200: sessions kept)",
         not args.connections or (gets > 0 and lost <= gets / 1000),
         "%d of %d not 200%s" % (lost, gets, "; 303 = the session was no longer in the session "
                                 "cache" if lost else "")),
        ("zero sanitizer reports", not reports and not log_findings,
         "%d report file(s), %d error-log line(s)" % (len(reports), len(log_findings))),
        ("no error-level line or crash in httpd's error log", not problems,
         "%d line(s)" % len(problems)),
        ("memory flat over the second half", bool(mem and mem["ok"]),
         "growth %+.1f MiB (limit %.1f MiB)" % ((mem["growth_second_half_kib"] / 1024)
                                               if mem else float("nan"), args.growth_limit)),
    ]

    print("\n=== load test: %.0f s, module %s" % (elapsed, args.module))
    print("wrk GETs:      %d (%.0f/s), statuses %s, latency p50 %.1f ms p99 %.1f ms max %.1f ms"
          % (gets, wrk_res["rps"] or 0, dict(wrk_res["statuses"]),
             wrk_res["latency_us"].get("p50", 0) / 1000, wrk_res["latency_us"].get("p99", 0) / 1000,
             wrk_res["latency_us"].get("max", 0) / 1000))
    print("logins (ACS): %d (%.1f/s), statuses %s"
          % (sum(logins.values()), sum(logins.values()) / elapsed, dict(logins)))
    print("login starts: %d (%.1f/s), statuses %s"
          % (sum(starts.values()), sum(starts.values()) / elapsed, dict(starts)))
    print("access log:   %d requests, statuses %s" % (sum(access.values()), dict(access)))
    if mem:
        print("children's private RSS (RssAnon, sum, MiB): first %.1f  mid %.1f (t=%.0fs)  "
              "last %.1f (t=%.0fs)  peak %.1f; children %s (alive through the second half: %s)"
              % (mem["first_kib"] / 1024, mem["mid_kib"] / 1024, mem["mid_t"],
                 mem["last_kib"] / 1024, mem["last_t"], mem["peak_kib"] / 1024,
                 mem["all_children"], mem["steady_children"]))
        limit = args.growth_limit * MIB
        per = []
        if logins_2nd:
            per.append("%.0f bytes per login (%d logins)" % (limit / logins_2nd, logins_2nd))
        if starts_2nd:
            per.append("%.0f bytes per login start (%d)" % (limit / starts_2nd, starts_2nd))
        if gets:
            per.append("%.0f bytes per signed-in GET (~%d)" % (limit / (gets / 2), gets // 2))
        print("the %.1f MiB limit over the second half fails any leak of at least: %s"
              % (args.growth_limit, "; ".join(per)))
    if problems:
        print("error log:\n  " + "\n  ".join(problems[:20]))
    for kind, errors in tally.errors.items():
        print("client errors (%s), first ones:\n  %s" % (kind, "\n  ".join(errors)))
    if reports or log_findings:
        sanitizers.print_reports(reports)
        print("\n".join(log_findings[:50]))
    if stragglers:
        print("httpd processes still running: %s" % stragglers)
    with open(os.path.join(work, "results.json"), "w") as f:
        json.dump({"args": vars(args), "elapsed": elapsed, "wrk": {**wrk_res,
                   "statuses": dict(wrk_res["statuses"])},
                   "logins": {str(k): v for k, v in logins.items()},
                   "starts": {str(k): v for k, v in starts.items()},
                   "access": dict(access), "memory": mem, "samples": samples,
                   "checks": [(n, ok, d) for n, ok, d in checks]}, f, indent=1)
    failed = [c for c in checks if not c[1]]
    for name, ok, detail in checks:
        print("%s: %s (%s)" % ("PASS" if ok else "FAIL", name, detail))
    print("load test: %s; samples and numbers in %s/results.json"
          % ("FAILED" if failed else "passed", work))
    if not failed and not args.workdir:
        # keep the numbers, drop the rest (httpd workdir, keys, minted responses)
        shutil.copy(os.path.join(work, "results.json"), work + ".json")
        shutil.rmtree(work, ignore_errors=True)
        print("(results kept in %s.json)" % work)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
