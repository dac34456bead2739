#!/usr/bin/python3
"""SCIM lookup and create latency at 1,000 and at 100,000 users in one org, on SQLite and on
PostgreSQL, measured through a real Apache + the module (what Okta does: `userName eq` with
startIndex=1&count=100, then POST). The lookup must stay flat (100k/1k median ratio <= 1.5),
which shows it is indexed.

    /usr/bin/python3 bench/scim_lookup.py [--requests 300] [--drivers sqlite3,pgsql]

Users are bulk-inserted with SQL (INSERT ... SELECT over a generated series) between the two
sizes; every timed request goes through HTTP, so both sizes pay the same fixed costs.
"""
import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "idp"))

import requests  # noqa: E402

from httpd import Httpd  # noqa: E402
from pg import PostgresServer  # noqa: E402
import mint  # noqa: E402

MODULE_SO = os.path.join(HERE, "..", "mod_cloudsmith_saml.so")
TOKEN_TOOL = os.path.join(HERE, "..", "cloudsmith-saml-scim-token")

# Rows shaped like what the module writes; ids and names derived from the series number.
FILL_SQL = {
    "sqlite3": """WITH RECURSIVE n(i) AS (SELECT {start} UNION ALL SELECT i + 1 FROM n
                  WHERE i < {end})
                  INSERT INTO scim_users (org, id, user_name, user_name_lower, given_name,
                    family_name, active, created, last_modified, version, resource)
                  SELECT 'acme', 'bulk-' || i, 'bulk' || i || '@example.com',
                    'bulk' || i || '@example.com', 'Bulk', 'User', 1,
                    '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 1,
                    '{{"userName":"bulk' || i || '@example.com","active":true}}' FROM n""",
    "pgsql": """INSERT INTO scim_users (org, id, user_name, user_name_lower, given_name,
                  family_name, active, created, last_modified, version, resource)
                SELECT 'acme', 'bulk-' || i, 'bulk' || i || '@example.com',
                  'bulk' || i || '@example.com', 'Bulk', 'User', true,
                  '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 1,
                  '{{"userName":"bulk' || i || '@example.com","active":true}}'
                FROM generate_series({start}, {end}) AS i""",
}


def fill(driver, db, start, end):
    sql = FILL_SQL[driver].format(start=start, end=end)
    if driver == "sqlite3":
        with sqlite3.connect(db) as conn:
            conn.execute(sql)
    else:
        subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-p", str(db.port), "-U", "scim",
                        "-d", "scim", "-c", sql, "-c", "ANALYZE scim_users"],
                       env=dict(os.environ, PGPASSWORD=db.password), check=True)


def timed(fn, n):
    samples = []
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - t) * 1e3)
    return statistics.median(samples)


def measure(driver, n_requests, work):
    os.makedirs(work, exist_ok=True)
    secret_file = os.path.join(work, "acme.scim")
    out = subprocess.run([TOKEN_TOOL, secret_file], capture_output=True, text=True, check=True)
    secret = [l.strip() for l in out.stdout.splitlines() if l.startswith("    ")][0]
    idp = mint.MintIdP(os.path.join(work, "idp"), entity_id="http://bench.test/md")
    pg, db = None, None
    if driver == "pgsql":
        pg = db = PostgresServer().start()
        params = pg.dbd_params
    else:
        db_dir = tempfile.mkdtemp(prefix="cs-bench-db-")
        os.chmod(db_dir, 0o755)
        if os.geteuid() == 0:
            shutil.chown(db_dir, "www-data", "www-data")
        db = params = os.path.join(db_dir, "store.db")
    site = f"""<Location /acme/>
    AuthType CloudsmithSAML
    CloudsmithSAMLOrg acme
    CloudsmithSAMLIdPMetadataFile {idp.metadata_path}
    CloudsmithSAMLSCIM On
    CloudsmithSAMLSCIMTokenHashFile {secret_file}
    Require valid-user
</Location>"""
    httpd = Httpd(os.path.join(work, "httpd-" + driver), os.path.abspath(MODULE_SO), site,
                  extra_modules=["dbd"],
                  global_conf=f'DBDriver {driver}\nDBDParams "{params}"\nDBDMin 1\nDBDKeep 4')
    httpd.start()
    s = requests.Session()
    s.auth = ("token", secret)
    base = httpd.base_url + "/acme/scim/v2/Users"
    results = {}
    try:
        assert s.get(base, params={"count": 0}).status_code == 200  # creates the schema
        if driver == "sqlite3" and os.geteuid() == 0:
            shutil.chown(db, "www-data", "www-data")
        have = 0
        for size in (1000, 100000):
            fill(driver, db, have + 1, size)
            if driver == "sqlite3" and os.geteuid() == 0:
                shutil.chown(db, "www-data", "www-data")
            have = size
            lookup = timed(lambda i: s.get(base, params={
                "filter": 'userName eq "BULK%d@example.com"' % (1 + (i * 7919) % size),
                "startIndex": 1, "count": 100}).raise_for_status(), n_requests)
            create = timed(lambda i: s.post(base, json={
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "new%d-%d@example.com" % (size, i)}).raise_for_status(),
                n_requests)
            results[size] = (lookup, create)
    finally:
        httpd.stop()
        if pg:
            pg.stop()
        else:
            shutil.rmtree(os.path.dirname(db), ignore_errors=True)
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--drivers", default="sqlite3,pgsql")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="cs-bench-scim-")
    ok = True
    print("| driver | users | lookup median ms | create median ms |")
    print("|---|---|---|---|")
    try:
        for driver in args.drivers.split(","):
            r = measure(driver, args.requests, os.path.join(work, driver))
            for size, (lookup, create) in r.items():
                print("| %s | %d | %.2f | %.2f |" % (driver, size, lookup, create))
            ratio = r[100000][0] / r[1000][0]
            create_ratio = r[100000][1] / r[1000][1]
            verdict = "ok" if ratio <= 1.5 else "FAIL (goal <= 1.5)"
            print("| %s | 100k/1k | %.2f %s | %.2f |" % (driver, ratio, verdict, create_ratio))
            ok = ok and ratio <= 1.5
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
