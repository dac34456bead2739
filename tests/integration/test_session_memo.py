"""The session memo (CloudsmithSAMLSessionMemo): each httpd child keeps the sessions it read
recently, decoded; a logout in any child ends the session in every child at once."""
import collections
import concurrent.futures

import pytest
import requests

import mint
import minted_org
from httpd import Httpd
from minted_org import COOKIE, acme_location

PUBLIC = "http://memo.test"


def start_server(work, module_so, memo_directive="", cache=None, extra_modules=()):
    idp = mint.MintIdP(str(work / "idp"), entity_id="http://mint-memo.test/metadata")
    site = acme_location(idp, PUBLIC)
    # both children up from the start (2 x 16 threads), and which child answered what
    glob = (f"StartServers 2\nMinSpareThreads 32\nMaxSpareThreads 64\n"
            f'LogFormat "%P %>s %U" pid_status\nCustomLog {work}/pids.log pid_status\n'
            f"{memo_directive}\n")
    if cache:
        glob += f"CloudsmithSAMLSessionCache {cache}\n"
    server = Httpd(str(work / "httpd"), module_so, site, global_conf=glob,
                   extra_modules=extra_modules)
    return idp, server


def statuses_by_child(server, work, sid, count):
    """count GETs with the session, 16 at a time on fresh connections; then which child
    answered which statuses (from the pid log: GETs of /acme/ since this call began; a
    request answered just before may be logged just after)."""
    log = work / "pids.log"
    offset = log.stat().st_size if log.exists() else 0

    def get(_):
        return requests.get(server.base_url + "/acme/", cookies={COOKIE: sid},
                            allow_redirects=False).status_code
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(get, range(count)))
    by_child = collections.defaultdict(collections.Counter)
    with open(log) as f:
        f.seek(offset)
        for line in f:
            pid, status, path = line.split()
            if path == "/acme/":
                by_child[pid][status] += 1
    assert sum(sum(c.values()) for c in by_child.values()) >= count
    return codes, by_child


def test_logout_in_one_child_ends_the_session_in_every_child(tmp_path, module_so):
    idp, server = start_server(tmp_path, module_so)
    server.start()
    try:
        sid = minted_org.login(server, idp, PUBLIC)
        # signed in (no backend here: 404) in both children, so both memoised the session
        for _ in range(5):
            codes, by_child = statuses_by_child(server, tmp_path, sid, 300)
            assert set(codes) == {404}
            if len(by_child) == 2:
                break
        assert len(by_child) == 2, "the requests all went to one child: %s" % dict(by_child)
        assert "session memo: up to 1024 sessions per child, each used for up to 5 s unread" \
            in server.read_error_log()
        out = requests.get(server.base_url + "/acme/saml/logout/", cookies={COOKIE: sid})
        assert out.status_code == 200
        # well within the memo's 5 s: only the logout's generation bump can end it there
        codes, by_child = statuses_by_child(server, tmp_path, sid, 300)
        assert set(codes) == {303}, collections.Counter(codes)
        assert all(set(c) == {"303"} for c in by_child.values()), dict(by_child)
    finally:
        server.stop()


def test_with_the_memo_off_sessions_still_work_and_end(tmp_path, module_so):
    idp, server = start_server(tmp_path, module_so, "CloudsmithSAMLSessionMemo Off")
    server.start()
    try:
        assert "session memo off (CloudsmithSAMLSessionMemo Off)" in server.read_error_log()
        sid = minted_org.login(server, idp, PUBLIC)
        codes, _ = statuses_by_child(server, tmp_path, sid, 50)
        assert set(codes) == {404}
        assert requests.get(server.base_url + "/acme/saml/logout/",
                            cookies={COOKIE: sid}).status_code == 200
        codes, _ = statuses_by_child(server, tmp_path, sid, 50)
        assert set(codes) == {303}
    finally:
        server.stop()


def test_a_memo_with_a_cache_shared_between_servers_is_refused(tmp_path, module_so):
    key = tmp_path / "session.key"
    key.write_text("k" * 48)
    _, server = start_server(tmp_path, module_so,
                             f"CloudsmithSAMLSessionMemo 512\nCloudsmithSAMLSessionKeyFile {key}",
                             cache="redis:127.0.0.1:1", extra_modules=["socache_redis"])
    with pytest.raises(RuntimeError) as failed:
        server.start(timeout=5)
    assert "CloudsmithSAMLSessionMemo 512 needs a session cache only this server uses" \
        in str(failed.value)


@pytest.mark.parametrize("value", ["0", "-3", "lots", "1000001"])
def test_a_bad_memo_size_is_refused_with_its_reason(tmp_path, module_so, value):
    _, server = start_server(tmp_path, module_so, "CloudsmithSAMLSessionMemo " + value)
    code, out = server.configtest()
    assert code != 0
    assert "CloudsmithSAMLSessionMemo: '%s' must be Off or a number of sessions" % value in out
