"""Behind TLS: absolute URLs take the https scheme from ServerName and the session cookie is
Secure."""
import subprocess

import pytest
import requests
import mint
from httpd import Httpd, free_port


@pytest.fixture(scope="module")
def tls(tmp_path_factory, module_so):
    work = tmp_path_factory.mktemp("tls")
    key, cert = work / "server.key", work / "server.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    idp = mint.MintIdP(str(work / "idp"), entity_id="http://mint-tls.test/metadata")
    port = free_port()
    site = f"""
<VirtualHost 127.0.0.1:{port}>
    ServerName https://127.0.0.1:{port}
    SSLEngine on
    SSLCertificateFile {cert}
    SSLCertificateKeyFile {key}
    <Location /acme/>
        AuthType CloudsmithSAML
        CloudsmithSAMLOrg acme
        CloudsmithSAMLIdPMetadataFile {idp.metadata_path}
        Require valid-user
    </Location>
</VirtualHost>
"""
    httpd = Httpd(str(work / "httpd"), module_so, site, port=port, extra_modules=["ssl"])
    httpd.start()
    yield str(cert), idp, "https://127.0.0.1:%d/acme/saml/acs/" % port
    httpd.stop()


def test_acs_url_and_entity_id_are_https_from_server_name(tls):
    ca, _, acs = tls
    meta = requests.get(acs.replace("/acs/", "/metadata/"), verify=ca)
    assert 'entityID="%s"' % acs in meta.text
    assert 'Location="%s"' % acs in meta.text


def test_session_cookie_is_secure_over_tls(tls):
    ca, idp, acs = tls
    r = requests.post(acs, data={"SAMLResponse": idp.response_b64(acs, acs)}, verify=ca,
                      allow_redirects=False)
    assert r.status_code == 303
    cookie = r.headers["Set-Cookie"]
    assert "; Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
