"""The default session store (shmcb): its whole size holds sessions."""
import time

import mint
import minted_org
from httpd import Httpd
from minted_org import acme_location, signed_in

PUBLIC = "http://store.test"


def start_server(work, module_so, cache_bytes):
    idp = mint.MintIdP(str(work / "idp"), entity_id="http://mint-store.test/metadata")
    site = acme_location(idp, PUBLIC)
    glob = f'CloudsmithSAMLSessionCache "shmcb:{work}/store({cache_bytes})"'
    return idp, Httpd(str(work / "httpd"), module_so, site, global_conf=glob).start()


def login(server, idp, user):
    return minted_org.login(server, idp, PUBLIC, name_id=user)


def test_sessions_fill_every_shmcb_subcache_not_one(tmp_path, module_so):
    # 2 MiB is 16 sub-caches of about 124 entries. Keys that shared their first byte all went
    # to one of them, and the 150th login (300 entries with the replay markers) evicted the
    # first session.
    idp, server = start_server(tmp_path, module_so, 2 * 1024 * 1024)
    try:
        mark = server.log_mark()
        sids = [login(server, idp, "user%d@example.com" % i) for i in range(150)]
        live = [sid for sid in sids if signed_in(server, sid)]
        assert len(live) == len(sids)
        assert "is full" not in server.log_since(mark)
    finally:
        server.stop()


def test_a_full_store_evicts_the_oldest_and_warns_at_a_limited_rate(tmp_path, module_so):
    # 64 KiB: a few dozen entries. Logins for a few seconds overflow it many times over.
    idp, server = start_server(tmp_path, module_so, 64 * 1024)
    try:
        mark = server.log_mark()
        sids = []
        deadline = time.time() + 4
        while time.time() < deadline:
            sids.append(login(server, idp, "user%d@example.com" % len(sids)))
        assert not signed_in(server, sids[0])  # evicted: its user signs in again
        assert signed_in(server, sids[-1])
        log = server.log_since(mark, "is full")
        warnings = [line for line in log.splitlines() if "is full: it evicted" in line]
        assert 1 <= len(warnings) <= 2, log[-2000:]  # one per child at most (2 children)
        assert "shmcb:PATH(BYTES)" in warnings[0]
    finally:
        server.stop()
