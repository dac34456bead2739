"""The ASan+UBSan runtime setup shared by `make check-asan` (tests/asan/check_asan.py) and the
load test (bench/load/run_load.py): which runtimes to preload into apache2, the options that
make every report land in one directory and stop the process, and reading those reports.

Only apache2 gets this environment (through CS_HTTPD_ENV_*, see tests/integration/httpd.py):
pytest, php-cgi (SimpleSAMLphp) and the echo backend run as usual.
"""
import glob
import os
import shutil
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# Full allocation stacks allow precise suppressions; fast unwinding needs coarser ones.
LSAN_SUPPRESSIONS = {False: os.path.join(HERE, "lsan.supp"),
                     True: os.path.join(HERE, "lsan-fast.supp")}


def runtime(cc, name):
    """Absolute path of a sanitizer runtime of the compiler that built the module."""
    out = subprocess.run([cc, "-print-file-name=" + name], capture_output=True, text=True,
                         check=True).stdout.strip()
    path = os.path.realpath(out)
    if not os.path.isabs(out) or not os.path.exists(path):
        raise SystemExit("%s not found by %s (install the compiler's libasan/libubsan)" % (name, cc))
    return path


def prepare_log_dir(path):
    """An empty report directory that httpd's children (User www-data) can write to."""
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    os.chmod(path, 0o1777)
    return path


def options(log_dir, leaks=True, fast_unwind=True, quarantine_mb=None, stack_uar=True,
            malloc_context=30):
    """ASAN_OPTIONS, LSAN_OPTIONS and UBSAN_OPTIONS for a run whose reports go to log_dir.

    - Every ASan report goes to log_dir/asan.PID and stops the process (halt_on_error).
    - UBSan: halt_on_error + abort_on_error make the first report abort the process, and ASan's
      handle_abort turns that abort into a report (with the __ubsan_handle_* frame and our
      source line) in log_dir. UBSan's own one-line message goes to stderr, which httpd
      redirects to its ErrorLog. (GCC's separate libubsan cannot write to log_path itself: its
      __sanitizer_set_report_path call binds to libasan's copy of that function, which is why
      UBSAN_OPTIONS repeats ASan's log_path: otherwise it would reset ASan's to stderr.)
    - Leaks (tests/asan/README.md): fast_unwind=False records full allocation stacks through
      the libraries built without frame pointers (Lasso, GLib, OpenSSL, libxml2), which the
      precise suppressions of lsan.supp need, but makes startup about 7 times slower (OpenSSL
      3 makes ~160k allocations per key it decodes); fast unwinding uses lsan-fast.supp.
    - stack_uar: detect use of a stack variable after its function returned. Its per-thread
      fake stacks become resident slowly under load, like a leak would: the load test turns it
      off to measure memory.
    """
    path = os.path.join(log_dir, "asan")
    asan = ["log_path=" + path, "halt_on_error=1", "handle_abort=1", "handle_segv=1",
            "detect_leaks=%d" % int(leaks), "fast_unwind_on_malloc=%d" % int(fast_unwind),
            "malloc_context_size=%d" % malloc_context,
            "detect_stack_use_after_return=%d" % int(stack_uar)]
    if quarantine_mb is not None:
        asan.append("quarantine_size_mb=%d" % quarantine_mb)
    lsan = ["suppressions=" + LSAN_SUPPRESSIONS[bool(fast_unwind)], "print_suppressions=0",
            "fast_unwind_on_malloc=%d" % int(fast_unwind), "malloc_context_size=%d" % malloc_context]
    ubsan = ["log_path=" + path, "halt_on_error=1", "abort_on_error=1", "print_stacktrace=1",
             "report_error_type=1"]
    return {"ASAN_OPTIONS": ":".join(asan), "LSAN_OPTIONS": ":".join(lsan),
            "UBSAN_OPTIONS": ":".join(ubsan)}


def httpd_env(cc, log_dir, **kw):
    """The environment for apache2: the runtimes preloaded (httpd itself is not instrumented,
    and ASan must come first in the library list) plus options(log_dir, **kw)."""
    env = {"LD_PRELOAD": " ".join([runtime(cc, "libasan.so"), runtime(cc, "libubsan.so")])}
    env.update(options(log_dir, **kw))
    return env


def export_for_httpd(env):
    """Makes tests/integration/httpd.py give env to every apache2 it starts (and only to it)."""
    for k, v in env.items():
        os.environ["CS_HTTPD_ENV_" + k] = v


def processes_using(log_dir):
    """PIDs of live processes whose ASAN_OPTIONS name log_dir (apache2 still exiting)."""
    needle = ("log_path=" + os.path.join(log_dir, "asan")).encode()
    pids = []
    for environ in glob.glob("/proc/[0-9]*/environ"):
        try:
            with open(environ, "rb") as f:
                if needle in f.read():
                    pids.append(int(environ.split("/")[2]))
        except OSError:
            pass
    return pids


def wait_for_exit(log_dir, timeout=60.0):
    """Waits until no process started for this run is left (leak checks run at exit)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        left = processes_using(log_dir)
        if not left:
            return []
        time.sleep(0.5)
    return processes_using(log_dir)


def reports(log_dir):
    """The sanitizer report files in log_dir (a clean run has none)."""
    return sorted(glob.glob(os.path.join(log_dir, "asan.*")))


def error_log_findings(root):
    """Sanitizer lines in httpd error logs under root: UBSan's 'runtime error:' message goes
    to stderr, which httpd sends to its ErrorLog."""
    found = []
    markers = ("runtime error:", "Sanitizer", "==ABORTING")
    for path in glob.glob(os.path.join(root, "**", "*.log"), recursive=True):
        try:
            with open(path, errors="replace") as f:
                for line in f:
                    if any(m in line for m in markers):
                        found.append("%s: %s" % (path, line.rstrip()))
        except OSError:
            pass
    return found


def print_reports(files, limit=200):
    """Prints each report (first `limit` lines of each)."""
    for path in files:
        print("=" * 30, path)
        with open(path, errors="replace") as f:
            lines = f.read().splitlines()
        print("\n".join(lines[:limit]))
        if len(lines) > limit:
            print("... (%d more lines in %s)" % (len(lines) - limit, path))
