"""Two Apache servers behind one public name, sharing Redis (sessions) and PostgreSQL (SCIM):
users, create races and deactivations cross servers; sessions survive restarts."""
import concurrent.futures
import os
import signal
import time

import pytest
import requests

import mint
import minted_org
from httpd import Httpd, free_port
from minted_org import acme_location, signed_in
from pg import PostgresServer
from test_shared_cache import CacheServer
from test_scim import deactivate, make_secret, okta_user

PUBLIC = "http://sso.test"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, module_so):
    work = tmp_path_factory.mktemp("cluster")
    redis = CacheServer("redis", free_port()).start()
    pg = PostgresServer().start()
    idp = mint.MintIdP(str(work / "idp"), entity_id="http://mint-cluster.test/metadata")
    secret = make_secret(work / "acme.scim")
    (work / "session.key").write_text(os.urandom(48).hex())
    site = acme_location(idp, PUBLIC, f"""    CloudsmithSAMLSCIM On
    CloudsmithSAMLSCIMTokenHashFile {work}/acme.scim
    CloudsmithSAMLSCIMRecheckInterval 1
""")
    glob = (f"CloudsmithSAMLSessionCache redis:127.0.0.1:{redis.port}\n"
            f"CloudsmithSAMLSessionKeyFile {work}/session.key\n"
            f'DBDriver pgsql\nDBDParams "{pg.dbd_params}"\nDBDMin 0\nDBDKeep 2\nDBDMax 8')
    servers = []
    try:
        servers = [Httpd(str(work / n), module_so, site, global_conf=glob,
                         extra_modules=["socache_redis", "dbd"]).start() for n in ("a", "b")]
        yield idp, secret, servers
    finally:
        for s in servers:
            s.stop()
        pg.stop()
        redis.stop()


def scim(server, secret, method, path, **kw):
    return requests.request(method, server.base_url + "/acme/scim/v2" + path,
                            auth=("token", secret), timeout=30, **kw)


def login(server, idp, user):
    return minted_org.login(server, idp, PUBLIC, name_id=user)


def test_a_user_created_on_one_server_is_seen_on_the_other(cluster):
    idp, secret, (a, b) = cluster
    created = scim(a, secret, "POST", "/Users", json=okta_user("shared@okta.local"))
    assert created.status_code == 201
    got = scim(b, secret, "GET", "/Users/" + created.json()["id"])
    assert got.status_code == 200 and got.json()["userName"] == "shared@okta.local"


def test_a_create_race_split_across_servers_gives_one_user(cluster):
    idp, secret, servers = cluster

    def create(i):
        return scim(servers[i % 2], secret, "POST", "/Users",
                    json=okta_user("split.race@okta.local")).status_code
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(create, range(20)))
    assert codes.count(201) == 1 and codes.count(409) == 19, codes


def test_deactivation_through_one_server_ends_the_session_on_the_other(cluster):
    idp, secret, (a, b) = cluster
    user = scim(b, secret, "POST", "/Users", json=okta_user("leaver@okta.local")).json()
    sid = login(a, idp, "leaver@okta.local")
    assert signed_in(a, sid)
    assert scim(b, secret, "PATCH", "/Users/" + user["id"],
                json=deactivate(False)).status_code == 200
    time.sleep(1.2)
    assert not signed_in(a, sid)
    assert not signed_in(b, sid)


def test_sessions_survive_graceful_and_full_restarts(cluster):
    idp, secret, (a, b) = cluster
    sid = login(a, idp, "stays@okta.local")
    os.kill(a.proc.pid, signal.SIGUSR1)  # graceful restart
    time.sleep(2)
    assert signed_in(a, sid)
    a.stop()
    a.start()
    assert signed_in(a, sid) and signed_in(b, sid)
