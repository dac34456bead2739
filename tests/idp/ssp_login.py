"""Drive the SimpleSAMLphp test IdP's login with python-requests.

    from ssp_login import login
    form = login(session, idp.idp_initiated_url(sp_entity_id), "alice@example.com", "alicepass")
    form["action"], form["SAMLResponse"], form["RelayState"]
    session.post(form["action"], data=form["fields"])     # caller posts to the SP's ACS

login() accepts a URL (GET with redirects followed: the SP's redirect to the
IdP, IdP-initiated URL, ...) or a requests.Response already at the IdP. It
fills SSP's UserPass form (fields: username, password, AuthState; action "?"
relative to /module.php/core/loginuserpass.php), submits it, and returns the
auto-POST form SSP renders for the ACS, without posting it. If the IdP
session is still valid (same requests.Session), no login form is shown and
the SAMLResponse form is returned directly.
"""

import base64
import datetime
import html.parser
import uuid
import urllib.parse
import zlib
from xml.sax.saxutils import escape as _xml_escape


class LoginError(Exception):
    """The IdP did not produce a SAMLResponse form (bad password, error page...)."""

    def __init__(self, message, response=None):
        super().__init__(message)
        self.response = response


class _FormParser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []
        self._cur = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._cur = {"action": a.get("action") or "",
                         "method": (a.get("method") or "get").lower(),
                         "inputs": []}
            self.forms.append(self._cur)
        elif tag == "input" and self._cur is not None:
            self._cur["inputs"].append(a)

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag):
        if tag == "form":
            self._cur = None


def parse_forms(text):
    """Return the forms of an HTML page: [{action, method, inputs: [attrs]}]."""
    p = _FormParser()
    p.feed(text)
    p.close()
    return p.forms


def _fields(form):
    out = {}
    for i in form["inputs"]:
        name = i.get("name")
        if not name or (i.get("type") or "text").lower() in ("submit", "button", "checkbox"):
            continue
        out[name] = i.get("value") or ""
    return out


def _error_hint(text):
    for marker in ("Incorrect username or password", "error", "Error"):
        idx = text.find(marker)
        if idx >= 0:
            return " ".join(text[idx:idx + 300].split())
    return " ".join(text[:300].split())


def find_saml_form(response):
    """The SAMLResponse auto-POST form in response, or None.

    Returns {"action": absolute URL, "SAMLResponse": b64, "RelayState": str|None,
    "fields": all hidden fields (what to POST)}.
    """
    for form in parse_forms(response.text):
        fields = _fields(form)
        if "SAMLResponse" in fields:
            return {
                "action": urllib.parse.urljoin(response.url, form["action"]),
                "SAMLResponse": fields["SAMLResponse"],
                "RelayState": fields.get("RelayState"),
                "fields": fields,
            }
    return None


def login(session, start_url_or_response, username, password, timeout=30):
    """Log in at the SSP IdP and return the SAMLResponse form (not posted)."""
    if isinstance(start_url_or_response, str):
        resp = session.get(start_url_or_response, timeout=timeout)
    else:
        resp = start_url_or_response
    submitted = False
    for _ in range(4):
        saml = find_saml_form(resp)
        if saml is not None:
            return saml
        login_form = None
        for form in parse_forms(resp.text):
            names = {i.get("name") for i in form["inputs"]}
            if {"username", "password", "AuthState"} <= names:
                login_form = form
                break
        if login_form is None:
            raise LoginError("no login form and no SAMLResponse at %s (HTTP %s): %s"
                             % (resp.url, resp.status_code, _error_hint(resp.text)), resp)
        if submitted:
            raise LoginError("login rejected for %r at %s: %s"
                             % (username, resp.url, _error_hint(resp.text)), resp)
        data = _fields(login_form)
        data["username"] = username
        data["password"] = password
        action = urllib.parse.urljoin(resp.url, login_form["action"] or "?")
        resp = session.post(action, data=data, timeout=timeout)
        submitted = True
    raise LoginError("too many steps at the IdP, last %s" % resp.url, resp)


def post_form(session, form, timeout=30, **kw):
    """POST a form returned by login() to its action (the SP's ACS)."""
    return session.post(form["action"], data=form["fields"], timeout=timeout, **kw)


def decode_saml_response(b64):
    """Base64-decode a SAMLResponse (HTTP-POST binding) to XML bytes."""
    return base64.b64decode(b64)


def authn_request_redirect_url(sso_url, sp_entity_id, acs_url, relay_state=None,
                               request_id=None, name_id_format=None,
                               issue_instant=None, force_authn=False):
    """Build an unsigned HTTP-Redirect AuthnRequest URL; returns (url, request_id)."""
    request_id = request_id or "_" + uuid.uuid4().hex
    now = issue_instant or datetime.datetime.now(datetime.timezone.utc)
    q = {'"': "&quot;"}
    policy = ""
    if name_id_format:
        policy = ('<samlp:NameIDPolicy Format="%s" AllowCreate="true"/>'
                  % _xml_escape(name_id_format, q))
    xml = (
        '<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="%s" Version="2.0" '
        'IssueInstant="%s" Destination="%s" AssertionConsumerServiceURL="%s" '
        'ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"%s>'
        '<saml:Issuer>%s</saml:Issuer>%s</samlp:AuthnRequest>'
    ) % (request_id, now.strftime("%Y-%m-%dT%H:%M:%SZ"), _xml_escape(sso_url, q),
         _xml_escape(acs_url, q), ' ForceAuthn="true"' if force_authn else "",
         _xml_escape(sp_entity_id), policy)
    co = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw DEFLATE, no zlib header
    raw = co.compress(xml.encode("utf-8")) + co.flush()
    params = [("SAMLRequest", base64.b64encode(raw).decode("ascii"))]
    if relay_state is not None:
        params.append(("RelayState", relay_state))
    sep = "&" if "?" in sso_url else "?"
    return sso_url + sep + urllib.parse.urlencode(params), request_id
