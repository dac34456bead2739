"""A private PostgreSQL server for tests: its own data directory, socket directory and port on
127.0.0.1, run as the postgres user when the tests run as root."""
import glob
import os
import shutil
import subprocess
import tempfile
import time

from httpd import free_port, wait_for_port

PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1] if glob.glob(
    "/usr/lib/postgresql/*/bin") else None


class PostgresServer:
    def __init__(self, password="scim-test-password"):
        self.port = free_port()
        self.password = password
        self.dir = tempfile.mkdtemp(prefix="cs-pg-")
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "data")
        self.proc = None

    def _as_postgres(self, args, **kw):
        if os.geteuid() == 0:
            args = ["runuser", "-u", "postgres", "--"] + args
        return subprocess.run(args, check=True, capture_output=True, text=True, **kw)

    def start(self):
        if PG_BIN is None:
            raise RuntimeError("PostgreSQL is not installed (tests/install-deps)")
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        pwfile = os.path.join(self.dir, "pw")
        with open(pwfile, "w") as f:
            f.write(self.password)
        if os.geteuid() == 0:
            shutil.chown(pwfile, "postgres", "postgres")
        self._as_postgres([PG_BIN + "/initdb", "-D", self.data, "-U", "scim", "-A",
                           "scram-sha-256", "--pwfile", pwfile, "-E", "UTF8"])
        cmd = [PG_BIN + "/postgres", "-D", self.data, "-p", str(self.port), "-k", self.dir,
               "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_for_port(self.port, 30, self.proc):
            raise RuntimeError("PostgreSQL did not start")
        env = dict(os.environ, PGPASSWORD=self.password)
        for _ in range(50):  # accepting connections a moment after the port opens
            if subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "scim",
                               "-d", "postgres", "-c", "CREATE DATABASE scim"],
                              env=env, capture_output=True).returncode == 0:
                return self
            time.sleep(0.1)
        raise RuntimeError("cannot create the test database")

    @property
    def dbd_params(self):
        return "host=127.0.0.1 port=%d dbname=scim user=scim password=%s" % (self.port,
                                                                             self.password)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)
        shutil.rmtree(self.dir, ignore_errors=True)
