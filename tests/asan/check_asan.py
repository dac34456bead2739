"""`make check-asan`: the whole integration suite against the ASan+UBSan build of the module.

Fails when pytest fails, when any sanitizer report was written (memory error, undefined
behaviour, leak not in lsan.supp, crash), or when the canary shows that reports would not have
been seen. Run from the source tree:

  /usr/bin/python3 tests/asan/check_asan.py --module build-asan/mod_cloudsmith_saml.so \
      --canary build-asan/canary [--full-stacks] [-- PYTEST_ARGS...]

Leaks are checked as each httpd process exits. --full-stacks records full allocation stacks
(precise suppressions in lsan.supp, every leak attributed; about 7 times slower) instead of
fast unwinding (lsan-fast.supp). The leak policy: tests/asan/README.md.
"""
import argparse
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import sanitizers  # noqa: E402

# What each canary mode must leave in its report.
CANARY = {"heap-overflow": "heap-buffer-overflow",
          "signed-overflow": "__ubsan_handle_add_overflow",
          "leak": "detected memory leaks"}


def httpd_user():
    """httpd.py runs children as www-data when root: reports must be writable by it."""
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("www-data")
            return "www-data"
        except KeyError:
            return None
    return None


def run_canary(canary, fast, log_dir):
    """Each mode must produce exactly its report; returns a list of problems."""
    problems = []
    user = httpd_user()
    for mode, expect in CANARY.items():
        sub = sanitizers.prepare_log_dir(os.path.join(log_dir, "canary-" + mode))
        opts = sanitizers.options(sub, leaks=True, fast_unwind=fast)
        run_env = {**os.environ, **opts}
        run_env.pop("LD_PRELOAD", None)
        p = subprocess.run([canary, mode], env=run_env, capture_output=True, text=True,
                           user=user, group=user)
        files = sanitizers.reports(sub)
        text = "".join(open(f, errors="replace").read() for f in files)
        if p.returncode == 0 or expect not in text:
            problems.append("canary %s: exit %d, expected '%s' in a report in %s, found %s\n%s"
                            % (mode, p.returncode, expect, sub, files or "none",
                               p.stderr[-2000:]))
        shutil.rmtree(sub, ignore_errors=True)
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--module", required=True, help="the ASan build of mod_cloudsmith_saml.so")
    ap.add_argument("--canary", required=True, help="build-asan/canary")
    ap.add_argument("--cc", default=os.environ.get("CC") or "gcc")
    ap.add_argument("--python", default=os.environ.get("PYTHON3") or "/usr/bin/python3")
    ap.add_argument("--full-stacks", action="store_true",
                    help="full allocation stacks and precise leak suppressions (slow)")
    ap.add_argument("--log-dir", help="where reports go (default: a new directory in /tmp)")
    ap.add_argument("pytest_args", nargs="*")
    args = ap.parse_args()

    started = time.time()
    run_dir = tempfile.mkdtemp(prefix="cs-asan.")
    os.chmod(run_dir, 0o755)
    log_dir = sanitizers.prepare_log_dir(args.log_dir or os.path.join(run_dir, "reports"))
    basetemp = os.path.join(run_dir, "pytest")
    fast = not args.full_stacks
    print("check-asan: module %s\n  reports in %s\n  httpd workdirs in %s\n  leak detection on, "
          "%s" % (args.module, log_dir, basetemp,
                  "fast unwinding (lsan-fast.supp)" if fast else "full stacks (lsan.supp)"))

    problems = run_canary(args.canary, fast, log_dir)
    if problems:
        print("\n".join(problems))
        print("check-asan: FAILED: the sanitizer canary was not caught, reports would be lost")
        return 1

    env = sanitizers.httpd_env(args.cc, log_dir, leaks=True, fast_unwind=fast)
    sanitizers.export_for_httpd(env)
    # Startup under ASan with full allocation stacks is slower than the default 15 s allows.
    os.environ.setdefault("CS_HTTPD_START_TIMEOUT", "120")
    os.environ["MODULE_SO"] = os.path.abspath(args.module)
    cmd = [args.python, "-m", "pytest", "-q", "-ra", "-p", "no:cacheprovider",
           "--basetemp", basetemp] + args.pytest_args + ["tests/integration"]
    rc = subprocess.call(cmd, cwd=TOP)

    stragglers = sanitizers.wait_for_exit(log_dir)
    files = sanitizers.reports(log_dir)
    findings = sanitizers.error_log_findings(basetemp)
    elapsed = time.time() - started
    if stragglers:
        print("check-asan: httpd processes still running after the suite: %s" % stragglers)
    if files or findings:
        sanitizers.print_reports(files)
        if findings:
            print("=" * 30, "sanitizer lines in httpd error logs")
            print("\n".join(findings[:200]))
        print("check-asan: FAILED: %d sanitizer report(s) in %s (%.0f s)"
              % (len(files) + len(findings), log_dir, elapsed))
        return 1
    if rc != 0:
        print("check-asan: FAILED: pytest exit %d, no sanitizer report (%.0f s)" % (rc, elapsed))
        return rc
    print("check-asan: clean: no sanitizer report, integration suite passed (%.0f s)" % elapsed)
    shutil.rmtree(run_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
