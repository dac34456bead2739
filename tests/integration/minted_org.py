"""Org `acme` on a test server of its own, signed in through a tests/idp/mint.py IdP: its
Location, a login by POST to its ACS, and whether a session ID is signed in."""
import requests

COOKIE = "cloudsmith_saml_acme"


def acme_location(idp, public, extra=""):
    """<Location /acme/> protected by the module for idp, its absolute URLs under public
    (CloudsmithSAMLBaseURL); extra: more directives inside it."""
    return f"""
<Location /acme/>
    AuthType CloudsmithSAML
    CloudsmithSAMLOrg acme
    CloudsmithSAMLIdPMetadataFile {idp.metadata_path}
    CloudsmithSAMLBaseURL {public}
{extra}    Require valid-user
</Location>
"""


def acs(public):
    return public + "/acme/saml/acs/"


def login(server, idp, public, **kw):
    """A login minted by idp (kw: tests/idp/mint.py's response options) posted to server's
    ACS; the new session ID."""
    r = requests.post(server.base_url + "/acme/saml/acs/", allow_redirects=False,
                      data={"SAMLResponse": idp.response_b64(acs(public), acs(public), **kw)})
    assert r.status_code == 303, r.text[-300:]
    return r.cookies.get(COOKIE)


def signed_in(server, sid):
    """True when sid opens a session on server (no backend behind /acme/ here: 404)."""
    return requests.get(server.base_url + "/acme/", allow_redirects=False,
                        cookies={COOKIE: sid}).status_code == 404
