"""Fixtures for the integration tests: one private Apache with the built module and several
orgs, SimpleSAMLphp as the real IdP of org `acme`, a minting IdP (tests/idp/mint.py) for the
orgs whose tests need responses no real IdP produces, and the echo backend.

Org layout (all on 127.0.0.1, ports chosen at random):
  /acme/      SimpleSAMLphp; Group Sync; /acme/ops/ needs team operations as Manager
  /globex/    minting IdP "globex"
  /initech/   minting IdP "initech"; unsolicited logins refused
  /umbrella/  minting IdP "globex"; CloudsmithSAMLEnforce Off; SHA-1 allowed
  /hooli/     SimpleSAMLphp, registered from the module's own SP metadata; SP key: signed
              AuthnRequests (the IdP verifies them) and encrypted assertions
"""
import os
import sys

import pytest
import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "idp"))
sys.path.insert(0, HERE)

from echo_backend import EchoBackend  # noqa: E402
from httpd import Httpd, free_port  # noqa: E402
from ssp_server import SSPServer, make_sp_metadata  # noqa: E402
import mint  # noqa: E402

MODULE_SO = os.environ.get("MODULE_SO") or os.path.join(HERE, "..", "..",
                                                         "mod_cloudsmith_saml.so")
ARTIFACTS = os.path.join(HERE, "..", "artifacts")


def acs_url(base, org):
    return "%s/%s/saml/acs/" % (base, org)


def org_location(org, metadata, extra=""):
    return f"""
<Location /{org}/>
    AuthType CloudsmithSAML
    CloudsmithSAMLOrg {org}
    CloudsmithSAMLIdPMetadataFile {metadata}
    Require valid-user
    ProxyPass http://127.0.0.1:{{backend_port}}/{org}/
{extra}
</Location>
"""


class Stack:
    """Everything a test needs: .httpd, .idp (SSP), .mint_globex/.mint_initech, .backend."""

    def __init__(self, httpd, idp, mints, backend):
        self.httpd = httpd
        self.idp = idp
        self.mint = mints
        self.backend = backend
        self.base = httpd.base_url

    def url(self, path):
        return self.base + path

    def acs(self, org):
        return acs_url(self.base, org)

    def minted(self, org, idp_name=None, **kw):
        """A base64 response minted by idp_name (default: the org's) for org's ACS."""
        idp = self.mint[idp_name or {"umbrella": "globex"}.get(org, org)]
        return idp.response_b64(self.acs(org), self.acs(org), **kw)

    def post_acs(self, org, saml_response, relay_state=None, session=None, **kw):
        data = {"SAMLResponse": saml_response}
        if relay_state is not None:
            data["RelayState"] = relay_state
        return (session or requests).post(self.acs(org), data=data, allow_redirects=False,
                                          timeout=30, **kw)


@pytest.fixture(scope="session")
def module_so():
    path = os.path.abspath(MODULE_SO)
    if not os.path.exists(path):
        pytest.exit("module not built: %s (run make first)" % path, returncode=2)
    return path


@pytest.fixture(scope="session")
def stack(tmp_path_factory, module_so):
    work = tmp_path_factory.mktemp("stack")
    port = free_port()
    base = "http://127.0.0.1:%d" % port

    backend = EchoBackend(free_port()).start()
    mints = {name: mint.MintIdP(str(work / ("mint-" + name)),
                                entity_id="http://mint-%s.test/metadata" % name)
             for name in ("globex", "initech")}

    sp_meta = work / "acme-sp.xml"
    sp_meta.write_text(make_sp_metadata(acs_url(base, "acme"), acs_url(base, "acme")))
    idp = SSPServer(free_port(), str(work / "ssp"), [str(sp_meta)])
    idp.start()
    sp_key, sp_cert = str(work / "hooli-sp.key"), str(work / "hooli-sp.crt")
    mint.make_key_and_cert(sp_key, sp_cert, "hooli-sp")

    site = "\n".join([
        org_location("acme", idp.metadata_path, """
    CloudsmithSAMLGroupSync groups Dev developers Member
    CloudsmithSAMLGroupSync Ops Ops operations Manager
    CloudsmithSAMLGroupSync groups "Design, UX" "Design, UX" Member"""),
        org_location("globex", mints["globex"].metadata_path),
        org_location("initech", mints["initech"].metadata_path,
                     "    CloudsmithSAMLAllowUnsolicited Off"),
        org_location("umbrella", mints["globex"].metadata_path,
                     "    CloudsmithSAMLEnforce Off\n    CloudsmithSAMLAllowSHA1 On"),
        org_location("hooli", idp.metadata_path, f"""
    CloudsmithSAMLSPPrivateKeyFile {sp_key}
    CloudsmithSAMLSPCertFile {sp_cert}
    CloudsmithSAMLSignAuthnRequests On
    CloudsmithSAMLGroupSync groups Dev developers"""),
        """
<Location /acme/ops/>
    Require cloudsmith-team operations Manager
</Location>
<Location /open/>
    ProxyPass http://127.0.0.1:{backend_port}/open/
</Location>
""",
    ]).replace("{backend_port}", str(backend.port))
    httpd = Httpd(str(work / "httpd"), module_so, site, port=port)
    httpd.start()
    # What an org admin does: give the IdP the module's SP metadata.
    idp.add_sp_metadata(requests.get(base + "/hooli/saml/metadata/").text,
                        overrides={"assertion.encryption": True,
                                   "validate.authnrequest": True})
    yield Stack(httpd, idp, mints, backend)
    httpd.stop()
    idp.stop()
    backend.stop()


@pytest.fixture
def client():
    """A fresh browser-like client (cookie jar) per test."""
    with requests.Session() as s:
        yield s


def backend_headers(response):
    """The headers the echo backend saw, as a case-insensitive dict (last value wins)."""
    seen = response.json()
    return requests.structures.CaseInsensitiveDict({k: v for k, v in seen["headers"]})
