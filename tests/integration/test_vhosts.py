"""The same org slug on two virtual hosts is two SPs: a session of one is refused by the other,
and each vhost's ACS URL comes from its own ServerName, never from the Host header."""
import pytest
import requests

import mint
from httpd import Httpd, free_port


@pytest.fixture(scope="module")
def vhosts(tmp_path_factory, module_so):
    work = tmp_path_factory.mktemp("vhosts")
    idp = mint.MintIdP(str(work / "idp"), entity_id="http://mint-vhosts.test/metadata")
    port = free_port()
    org = f"""
    <Location /acme/>
        AuthType CloudsmithSAML
        CloudsmithSAMLOrg acme
        CloudsmithSAMLIdPMetadataFile {idp.metadata_path}
        Require valid-user
    </Location>"""
    site = "".join(f"""
<VirtualHost 127.0.0.1:{port}>
    ServerName {name}:{port}
{org}
</VirtualHost>
""" for name in ("a.test", "b.test"))
    httpd = Httpd(str(work / "httpd"), module_so, site, port=port)
    httpd.start()
    yield httpd, idp, port
    httpd.stop()


def acs(name, port):
    return "http://%s:%d/acme/saml/acs/" % (name, port)


def test_each_vhost_has_its_own_acs_url(vhosts):
    httpd, _, port = vhosts
    for name in ("a.test", "b.test"):
        meta = requests.get(httpd.base_url + "/acme/saml/metadata/",
                            headers={"Host": "%s:%d" % (name, port)})
        assert 'entityID="%s"' % acs(name, port) in meta.text


def test_a_session_copied_to_another_vhost_is_refused(vhosts):
    httpd, idp, port = vhosts
    a = acs("a.test", port)
    login = requests.post(httpd.base_url + "/acme/saml/acs/",
                          data={"SAMLResponse": idp.response_b64(a, a)},
                          headers={"Host": "a.test:%d" % port}, allow_redirects=False)
    assert login.status_code == 303
    sid = login.cookies.get("cloudsmith_saml_acme")
    cookie = {"Cookie": "cloudsmith_saml_acme=" + sid}
    ok = requests.get(httpd.base_url + "/acme/", allow_redirects=False,
                      headers={"Host": "a.test:%d" % port, **cookie})
    assert ok.status_code != 303  # signed in on a.test (no backend here: 404)
    mark = httpd.log_mark()
    other = requests.get(httpd.base_url + "/acme/", allow_redirects=False,
                         headers={"Host": "b.test:%d" % port, **cookie})
    assert other.status_code == 303
    assert "org acme: refused a session issued for %s" % a in httpd.log_since(
        mark, "refused a session")
