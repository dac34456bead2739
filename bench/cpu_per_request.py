#!/usr/bin/python3
"""CPU per protected request, by shared object: plain Apache vs mellon vs this module.

bench.py's three servers (same MPM, modules, static page), one signed-in session each. For
each server in turn, wrk sends the static page on one keep-alive connection for --seconds
while `perf record -F 4000` samples its httpd children (software clock: the CPU time of
those processes, wherever it is spent); each object's samples / requests gives microseconds
of CPU per request. Repeated --reps times, interleaved; the table holds the medians and each
auth module's difference to plain Apache, which is what the module adds to a request.
Needs root (perf on other processes). Output: stdout and bench/results/cpu-per-request.md.

    /usr/bin/python3 bench/cpu_per_request.py [--reps 3] [--seconds 4] [--conns 1]
"""
import argparse
import datetime
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

HZ = 4000
SERVERS = ("plain", "mellon", "ours")


def sample(stack, name, cookie, conns, seconds, work):
    kids = stack.servers[name].pids()[1]
    headers = ["Cookie: " + cookie] if cookie else []
    bench.wrk(stack.url(name, "static"), conns, 1, headers=headers)  # warm up
    out = os.path.join(work, "%s.perf" % name)
    perf = subprocess.Popen(["perf", "record", "-q", "-F", str(HZ), "-o", out, "-p",
                             ",".join(map(str, kids))])
    time.sleep(0.5)
    r = bench.wrk(stack.url(name, "static"), conns, seconds, headers=headers)
    perf.send_signal(2)
    perf.wait()
    if r["non2xx3xx"] or r["requests"] == 0:
        sys.exit("%s answered %d requests not 2xx/3xx: the session did not open" % (
            name, r["non2xx3xx"]))
    report = subprocess.run(["perf", "report", "-i", out, "--no-children", "--sort", "dso",
                             "--stdio", "-n"], capture_output=True, text=True).stdout
    us = {}
    for line in report.splitlines():
        m = re.match(r"\s+[\d.]+%\s+(\d+)\s+(\S+)", line)
        if m:
            us[m.group(2)] = int(m.group(1)) * 1e6 / HZ / r["requests"]
    return r["rps"], us


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=4)
    ap.add_argument("--conns", type=int, default=1)
    ap.add_argument("--out", default=os.path.join(bench.HERE, "results"))
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="cs-cpu.")
    os.chmod(work, 0o755)
    stack = bench.Stack(work, dict(bench.PROFILES["quick"]))
    stack.cache_bytes = 16 << 20
    runs = {n: [] for n in SERVERS}
    try:
        stack.start("plain")
        stack.start("mellon", cache_size=1000)
        stack.start("ours")
        cookies = {"plain": None,
                   "mellon": bench.login(stack, "mellon", stack.minter("mellon"), "m0"),
                   "ours": bench.login(stack, "ours", stack.minter("ours"), "o0")}
        for rep in range(args.reps):
            for name in SERVERS:
                rps, us = sample(stack, name, cookies[name], args.conns, args.seconds, work)
                runs[name].append((rps, us))
                bench.log("  rep %d %-6s %7.0f req/s  %.1f us of CPU per request" % (
                    rep + 1, name, rps, sum(us.values())))
    finally:
        stack.stop()

    def med(name, dso=None):
        return statistics.median(sum(us.values()) if dso is None else us.get(dso, 0.0)
                                 for _, us in runs[name])
    dsos = sorted({d for n in SERVERS for _, us in runs[n] for d in us},
                  key=lambda d: -max(med(n, d) for n in SERVERS))
    shown = [d for d in dsos if max(med(n, d) for n in SERVERS) >= 0.2]
    lines = ["# CPU per protected request, by shared object (%s)" %
             datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "",
             "Command: `/usr/bin/python3 bench/cpu_per_request.py --reps %d --seconds %d "
             "--conns %d`. Static page, one signed-in session, %d connection(s); perf at %d Hz "
             "on each server's httpd children; microseconds of CPU per request, medians of %d "
             "interleaved repetitions. Objects under 0.2 us everywhere are left out of the rows "
             "but counted in the total." % (args.reps, args.seconds, args.conns, args.conns,
                                            HZ, args.reps), "",
             "| object | plain | mellon | ours | mellon - plain | ours - plain |",
             "|---|---:|---:|---:|---:|---:|"]
    for d in shown + [None]:
        p, m, o = (med(n, d) for n in SERVERS)
        lines.append("| %s | %.1f | %.1f | %.1f | %+.1f | %+.1f |" % (
            "**total**" if d is None else d, p, m, o, m - p, o - p))
    lines += ["", "req/s (median): %s" % ", ".join(
        "%s %.0f" % (n, statistics.median(r for r, _ in runs[n])) for n in SERVERS), ""]
    text = "\n".join(lines)
    print(text)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "cpu-per-request.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
