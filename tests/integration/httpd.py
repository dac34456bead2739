"""A private Apache httpd instance with the built module, on loopback.

Never touches the system Apache: own ServerRoot, config, PidFile, runtime dir and ports.
"""
import os
import pwd
import shutil
import socket
import subprocess
import time

APACHE_BIN = shutil.which("apache2", path="/usr/sbin:/usr/bin") or "/usr/sbin/apache2"
MODULES = "/usr/lib/apache2/modules"
BASE_MODULES = ["mpm_event", "authn_core", "authz_core", "authz_user", "proxy", "proxy_http",
                "socache_shmcb", "headers", "setenvif", "env"]


def env_from_environ(environ=None):
    """Extra environment for the apache2 processes only, taken from CS_HTTPD_ENV_<NAME>=value
    variables: each becomes NAME=value for httpd (e.g. CS_HTTPD_ENV_LD_PRELOAD=libasan.so.8
    for the sanitizer build, see tests/asan/). The tests, the IdP's php-cgi and the echo
    backend never see them. Empty when none are set."""
    environ = os.environ if environ is None else environ
    prefix = "CS_HTTPD_ENV_"
    return {k[len(prefix):]: v for k, v in environ.items() if k.startswith(prefix) and k != prefix}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, timeout=15.0, proc=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


class Httpd:
    """Start with a site configuration (the part inside the server); read its logs."""

    def __init__(self, workdir, module_so, site_conf, port=None, extra_modules=(),
                 global_conf="", env=None):
        self.workdir = os.path.abspath(workdir)
        # Extra environment for apache2 (not for anything else); None: from CS_HTTPD_ENV_*.
        self.env = env_from_environ() if env is None else dict(env)
        self.module_so = module_so
        self.port = port or free_port()
        self.site_conf = site_conf
        self.global_conf = global_conf
        self.modules = BASE_MODULES + list(extra_modules)
        self.proc = None
        self.base_url = "http://127.0.0.1:%d" % self.port

    @property
    def error_log(self):
        return os.path.join(self.workdir, "error.log")

    @property
    def access_log(self):
        return os.path.join(self.workdir, "access.log")

    def conf_text(self):
        user = "www-data" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        loads = "\n".join("LoadModule %s_module %s/mod_%s.so" % (m, MODULES, m)
                          for m in self.modules)
        return f"""
ServerRoot {self.workdir}
Listen 127.0.0.1:{self.port}
ServerName 127.0.0.1:{self.port}
PidFile {self.workdir}/httpd.pid
DefaultRuntimeDir {self.workdir}/run
Mutex file:{self.workdir}/run default
ErrorLog {self.error_log}
LogLevel warn cloudsmith_saml:debug
LogFormat "%h user=%u \\"%r\\" %>s" cs
CustomLog {self.access_log} cs
{loads}
LoadModule cloudsmith_saml_module {self.module_so}
User {user}
Group {'www-data' if os.geteuid() == 0 else user}
StartServers 1
MinSpareThreads 4
MaxSpareThreads 32
ServerLimit 2
ThreadsPerChild 16
MaxRequestWorkers 32
{self.global_conf}
{self.site_conf}
"""

    def write_conf(self):
        os.makedirs(os.path.join(self.workdir, "run"), exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(os.path.join(self.workdir, "run"), "www-data", "www-data")
        path = os.path.join(self.workdir, "httpd.conf")
        with open(path, "w") as f:
            f.write(self.conf_text())
        return path

    def proc_env(self):
        """The environment apache2 runs with: ours plus self.env (None: just inherit ours)."""
        return {**os.environ, **self.env} if self.env else None

    def configtest(self):
        """Runs `apache2 -t`; returns (exit code, output)."""
        conf = self.write_conf()
        p = subprocess.run([APACHE_BIN, "-t", "-f", conf], capture_output=True, text=True,
                           env=self.proc_env())
        return p.returncode, p.stdout + p.stderr

    def start(self, timeout=15.0):
        # A sanitizer build starts slower: CS_HTTPD_START_TIMEOUT (seconds) raises every
        # start's timeout to at least that.
        timeout = max(timeout, float(os.environ.get("CS_HTTPD_START_TIMEOUT") or 0))
        conf = self.write_conf()
        open(self.error_log, "a").close()
        mark = self.log_mark()
        deadline = time.time() + timeout
        self.proc = subprocess.Popen([APACHE_BIN, "-f", conf, "-DFOREGROUND"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     env=self.proc_env())
        # httpd listens before the modules' post_config runs (and may still refuse the
        # configuration there): ready once it also logged its startup line (AH00094).
        if not (wait_for_port(self.port, timeout, self.proc)
                and self._wait_for_startup_line(mark, deadline)):
            out = self.proc.stdout.read().decode() if self.proc.poll() is not None else ""
            self.stop()
            raise RuntimeError("httpd did not start:\n%s\n%s" % (out, self.read_error_log()))
        return self

    def _wait_for_startup_line(self, mark, deadline):
        """False if httpd exits before logging AH00094 (configuration refused); True once it
        logged it, or at the deadline while still running."""
        while self.proc.poll() is None:
            if "AH00094" in self.log_since(mark) or time.time() > deadline:
                return True
            time.sleep(0.05)
        return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def read_error_log(self):
        try:
            with open(self.error_log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def log_mark(self):
        """Position in the error log; pass to log_since() to read only what came after."""
        try:
            return os.path.getsize(self.error_log)
        except FileNotFoundError:
            return 0

    def log_since(self, mark, wait_for=None, timeout=3.0):
        deadline = time.time() + timeout
        while True:
            with open(self.error_log, errors="replace") as f:
                f.seek(mark)
                text = f.read()
            if wait_for is None or wait_for in text or time.time() > deadline:
                return text
            time.sleep(0.05)
