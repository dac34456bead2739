"""Two Apache servers sharing one session cache (Redis or memcached), as behind a load
balancer: sessions, replay protection and logout work across them; cache entries are sealed;
a dead cache fails closed and service resumes when it is back."""
import hashlib
import os
import socket
import subprocess
import time

import pytest
import requests

import mint
import minted_org
from httpd import Httpd, free_port, wait_for_port
from minted_org import acme_location

PUBLIC = "http://sso.test"  # the load balancer's address, CloudsmithSAMLBaseURL on both


class CacheServer:
    def __init__(self, kind, port):
        self.kind, self.port, self.proc = kind, port, None

    def start(self):
        if self.kind == "redis":
            cmd = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                   "--save", "", "--appendonly", "no", "--daemonize", "no"]
        else:
            cmd = ["memcached", "-l", "127.0.0.1", "-p", str(self.port), "-U", "0",
                   "-u", "nobody"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert wait_for_port(self.port, 10, self.proc), "%s did not start" % self.kind
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def command(self, *words):
        """One raw command (Redis RESP or memcached text); returns the raw reply."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            if self.kind == "redis":
                msg = b"*%d\r\n" % len(words) + b"".join(
                    b"$%d\r\n%s\r\n" % (len(w), w) for w in words)
            else:
                msg = b" ".join(words[:1] + words[1:2]) + b"\r\n"
                if words[0] == b"set":
                    msg = b"set %s 0 0 %d\r\n%s\r\n" % (words[1], len(words[2]), words[2])
            s.sendall(msg)
            time.sleep(0.1)
            return s.recv(65536)


def cache_key(logical):
    """Where the socache providers put the module's entry for a logical key: the module
    hashes it, the provider hex-encodes that under its namespace."""
    return b"cloudsmith-saml:" + hashlib.sha256(logical.encode()).hexdigest().encode()


@pytest.fixture(scope="module", params=["redis", "memcache"])
def pair(request, tmp_path_factory, module_so):
    kind = request.param
    work = tmp_path_factory.mktemp("shared-" + kind)
    cache = CacheServer("redis" if kind == "redis" else "memcached", free_port()).start()
    idp = mint.MintIdP(str(work / "idp"), entity_id="http://mint-shared.test/metadata")
    key_file = work / "session.key"
    key_file.write_text(os.urandom(48).hex())
    site = acme_location(idp, PUBLIC)
    glob = (f"CloudsmithSAMLSessionCache {kind}:127.0.0.1:{cache.port}\n"
            f"CloudsmithSAMLSessionKeyFile {key_file}")
    servers = [Httpd(str(work / name), module_so, site, global_conf=glob,
                     extra_modules=["socache_" + kind]).start() for name in ("a", "b")]
    yield kind, cache, idp, servers
    for s in servers:
        s.stop()
    cache.stop()


ACS = PUBLIC + "/acme/saml/acs/"


def login_on(server, idp, **kw):
    return minted_org.login(server, idp, PUBLIC, **kw)


def get(server, sid, path="/acme/"):
    return requests.get(server.base_url + path, allow_redirects=False,
                        cookies={"cloudsmith_saml_acme": sid} if sid else None)


def test_a_session_made_on_one_server_works_on_the_other(pair):
    _, _, idp, (a, b) = pair
    sid = login_on(a, idp)
    assert get(b, sid).status_code == 404  # signed in (no backend configured): not 303


def test_an_assertion_consumed_on_one_server_is_a_replay_on_the_other(pair):
    _, _, idp, (a, b) = pair
    b64 = idp.response_b64(ACS, ACS)
    assert requests.post(a.base_url + "/acme/saml/acs/", data={"SAMLResponse": b64},
                         allow_redirects=False).status_code == 303
    mark = b.log_mark()
    again = requests.post(b.base_url + "/acme/saml/acs/", data={"SAMLResponse": b64},
                          allow_redirects=False)
    assert again.status_code == 403
    assert "login refused: assertion_replayed" in b.log_since(mark, "login refused")


def test_logout_on_one_server_ends_the_session_on_the_other(pair):
    kind, _, idp, (a, b) = pair
    # no session memo with a shared cache: b's logout could not void a's memo
    assert "session memo off: the session cache %s:" % kind in a.read_error_log()
    sid = login_on(a, idp)
    assert requests.get(b.base_url + "/acme/saml/logout/",
                        cookies={"cloudsmith_saml_acme": sid}).status_code == 200
    assert get(a, sid).status_code == 303


def test_cache_entries_are_sealed_and_a_forged_entry_is_refused(pair):
    kind, cache, idp, (a, b) = pair
    sid = login_on(a, idp, name_id="sealed@example.com")
    session_key = "session:" + sid
    raw = cache.command(b"get", cache_key(session_key))
    assert len(raw) > 60 and b"sealed@example.com" not in raw and b"acme" not in raw
    # Someone with write access to the cache plants a session record of their own.
    forged_id = "f" * 64
    record = ('{"org":"acme","sp":"%s","user":"admin@example.com","teams":[],'
              '"expires":%d}' % (ACS, int((time.time() + 3600) * 1e6))).encode()
    cache.command(b"set", cache_key("session:" + forged_id), record)
    mark = b.log_mark()
    assert get(b, forged_id).status_code == 303
    assert "failed its integrity check" in b.log_since(mark, "integrity")


def test_a_dead_cache_fails_closed_and_service_resumes(pair):
    kind, cache, idp, (a, b) = pair
    sid = login_on(a, idp)
    cache.stop()
    try:
        mark = a.log_mark()
        r = get(a, sid)
        assert r.status_code == 503
        assert "session cache read failed" in a.log_since(mark, "cache")
        refused = requests.post(a.base_url + "/acme/saml/acs/", allow_redirects=False,
                                data={"SAMLResponse": idp.response_b64(ACS, ACS)})
        assert refused.status_code == 503 and "Set-Cookie" not in refused.headers
        # No session and no way to keep the login state: a readable 503, never a pass-through.
        start = get(b, None)
        assert start.status_code == 503
        assert "Reason: <code>session_cache_unavailable</code>" in start.text
        assert "no-store" in start.headers["Cache-Control"]
    finally:
        cache.start()
    for _ in range(50):  # providers reconnect on their own
        if get(a, login_on_quiet(a, idp)).status_code == 404:
            break
        time.sleep(0.2)
    else:
        pytest.fail("service did not resume after the cache came back")


def login_on_quiet(server, idp):
    r = requests.post(server.base_url + "/acme/saml/acs/", allow_redirects=False,
                      data={"SAMLResponse": idp.response_b64(ACS, ACS)})
    return r.cookies.get("cloudsmith_saml_acme")


def test_a_shared_cache_without_a_key_file_is_refused(tmp_path, module_so):
    idp = mint.MintIdP(str(tmp_path / "idp"), entity_id="http://x.test/md")
    site = (f"<Location /acme/>\nAuthType CloudsmithSAML\nCloudsmithSAMLOrg acme\n"
            f"CloudsmithSAMLIdPMetadataFile {idp.metadata_path}\n</Location>")
    h = Httpd(str(tmp_path / "h"), module_so, site, extra_modules=["socache_redis"],
              global_conf="CloudsmithSAMLSessionCache redis:127.0.0.1:1")
    with pytest.raises(RuntimeError) as failed:
        h.start(timeout=5)
    assert "set CloudsmithSAMLSessionKeyFile" in str(failed.value)
