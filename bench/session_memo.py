#!/usr/bin/python3
"""What the session memo saves: the module with its memo (the default) vs the same module
with CloudsmithSAMLSessionMemo Off, and plain Apache, side by side in one run.

    /usr/bin/python3 bench/session_memo.py [--reps 5] [--duration 2] [--conns 1,8,32]
                                           [--sessions 1,1000] [--module SO]

bench/bench.py's servers (event MPM, 2 children x 64 threads, the static page in the
protected Location, shmcb): "memo" (default settings), "nomemo" (the memo Off) and "plain".
For each number of sessions (1: one user's session on every request, as bench.py's protected
row; 1,000: a different cookie on each request, cycling through 1,000 real logins), wrk
measures the three servers interleaved, the order rotating every repetition, and every
answer must be a 200 (access log checked). Reported: medians of req/s and of the ratios
computed within each repetition: memo/nomemo (what the memo saves), memo/plain, nomemo/plain.
Output: stdout and bench/results/session-memo.md / .json.
"""
import argparse
import datetime
import json
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench  # noqa: E402

NAMES = ("memo", "nomemo", "plain")


def login_many(stack, name, count, path):
    minter = stack.minter(name)
    with open(path, "w") as f:
        for i in range(count):
            tag = "%s-%d-%d" % (name, count, i)  # unique: the same response twice is a replay
            f.write(bench.login(stack, name, minter, tag) + "\n")
    return path


def report(results, opts, cmdline):
    lines = ["# Session memo: on vs off (%s)" % results["date"], "",
             "Command: `%s` (%.0f s). Machine: %s. Load average before/after: %s / %s." % (
                 cmdline, results["elapsed_s"],
                 bench.machine_text(results["machine"], ("wrk", "wrk")),
                 " ".join(results["load_before"]["loadavg"]),
                 " ".join(results["load_after"]["loadavg"])), "",
             "Static page, keep-alive, wrk; medians of %d interleaved repetitions of %d s; "
             "ratios computed within each repetition. Sessions 1: the same session on every "
             "request; 1000: a different one each time, cycling through 1,000 logins." % (
                 opts["reps"], opts["duration"]), "",
             "| sessions | conns | plain | memo off | memo on | on/off | on/plain | off/plain |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for sessions, rows in results["rows"].items():
        for r in rows:
            lines.append("| %s | %d | %.0f | %.0f | %.0f | %.3f | %.3f | %.3f |" % (
                sessions, r["conns"], r["plain"], r["nomemo"], r["memo"], r["memo/nomemo"],
                r["memo/plain"], r["nomemo/plain"]))
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--duration", type=int, default=2)
    ap.add_argument("--conns", default="1,8,32")
    ap.add_argument("--sessions", default="1,1000")
    ap.add_argument("--module", help="the mod_cloudsmith_saml.so to measure")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    args = ap.parse_args()
    if args.module:
        bench.MODULE_SO = os.path.abspath(args.module)
    opts = {"reps": args.reps, "duration": args.duration,
            "conns": [int(c) for c in args.conns.split(",")]}
    work = tempfile.mkdtemp(prefix="cs-memo.")
    os.chmod(work, 0o755)
    stack = bench.Stack(work, opts)
    stack.cache_bytes = 16 << 20
    results = {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
               "machine": bench.machine(), "load_before": bench.load_snapshot(), "rows": {}}
    started = time.time()
    try:
        stack.start("plain")
        stack.start_ours_variant("memo", "")
        stack.start_ours_variant("nomemo", "CloudsmithSAMLSessionMemo Off\n")
        for sessions in [int(n) for n in args.sessions.split(",")]:
            files = {n: login_many(stack, n, sessions, os.path.join(work, "%s-%d" % (
                n, sessions))) for n in ("memo", "nomemo")}
            files["plain"] = files["memo"]  # ignored by plain Apache
            bench.log("%d session(s) per server: measuring" % sessions)
            results["rows"][sessions] = bench.interleaved_cost(
                stack.servers, NAMES, files, opts, "/%s/static/page.json" % bench.ORG)
    finally:
        stack.stop()
    results["elapsed_s"] = time.time() - started
    results["load_after"] = bench.load_snapshot()
    cmdline = "/usr/bin/python3 bench/session_memo.py " + " ".join(sys.argv[1:])
    text = report(results, opts, cmdline.strip())
    print(text)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "session-memo.md"), "w") as f:
        f.write(text)
    with open(os.path.join(args.out, "session-memo.json"), "w") as f:
        json.dump(results, f, indent=1, default=str)


if __name__ == "__main__":
    main()
