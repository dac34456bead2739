"""A wrong configuration stops `apache2 -t` with a message that names what is wrong and where."""
import pytest

import mint
from httpd import Httpd


@pytest.fixture(scope="module")
def idp_metadata(tmp_path_factory):
    return mint.MintIdP(str(tmp_path_factory.mktemp("cfg-idp")),
                        entity_id="http://cfg-idp.test/metadata").metadata_path


def org(body, path="/acme/", section="Location"):
    return f"<{section} {path}>\n    AuthType CloudsmithSAML\n{body}\n</{section}>\n"


def configtest(tmp_path, module_so, site, global_conf=""):
    return Httpd(str(tmp_path), module_so, site, global_conf=global_conf).configtest()


def test_a_valid_org_passes_the_syntax_check(tmp_path, module_so, idp_metadata):
    rc, out = configtest(tmp_path, module_so, org(f"""
    CloudsmithSAMLOrg acme
    CloudsmithSAMLIdPMetadataFile {idp_metadata}
    CloudsmithSAMLGroupSync groups Dev developers
    CloudsmithSAMLGroupSync Ops Ops operations Manager
    Require cloudsmith-team developers Member"""))
    assert rc == 0, out
    assert "Syntax OK" in out


BAD = [
    ("slug with upper case",
     "CloudsmithSAMLOrg Acme\nCloudsmithSAMLIdPMetadataFile {md}",
     "may only hold lower-case letters"),
    ("slug too long",
     "CloudsmithSAMLOrg " + "a" * 65 + "\nCloudsmithSAMLIdPMetadataFile {md}",
     "must be 1 to 64 characters"),
    ("missing metadata file",
     "CloudsmithSAMLOrg acme\nCloudsmithSAMLIdPMetadataFile /nonexistent/idp.xml",
     "'/nonexistent/idp.xml' is not a readable file"),
    ("no metadata at all",
     "CloudsmithSAMLOrg acme",
     "CloudsmithSAMLIdPMetadataFile is required"),
    ("group sync role",
     "CloudsmithSAMLOrg acme\nCloudsmithSAMLIdPMetadataFile {md}\n"
     "CloudsmithSAMLGroupSync groups Dev developers Owner",
     "CloudsmithSAMLGroupSync"),
    ("group sync too few arguments",
     "CloudsmithSAMLOrg acme\nCloudsmithSAMLIdPMetadataFile {md}\n"
     "CloudsmithSAMLGroupSync groups Dev",
     "CloudsmithSAMLGroupSync"),
    ("enforce value",
     "CloudsmithSAMLOrg acme\nCloudsmithSAMLIdPMetadataFile {md}\nCloudsmithSAMLEnforce maybe",
     "CloudsmithSAMLEnforce"),
    ("base url with a path",
     "CloudsmithSAMLOrg acme\nCloudsmithSAMLIdPMetadataFile {md}\n"
     "CloudsmithSAMLBaseURL https://sso.example.com/x",
     "CloudsmithSAMLBaseURL"),
    ("clock skew not a number",
     "CloudsmithSAMLOrg acme\nCloudsmithSAMLIdPMetadataFile {md}\nCloudsmithSAMLClockSkew 5m",
     "CloudsmithSAMLClockSkew"),
    ("header field unknown",
     "CloudsmithSAMLOrg acme\nCloudsmithSAMLIdPMetadataFile {md}\n"
     "CloudsmithSAMLHeader password X-Password",
     "unknown field 'password'"),
    ("header name invalid",
     "CloudsmithSAMLOrg acme\nCloudsmithSAMLIdPMetadataFile {md}\n"
     "CloudsmithSAMLHeader user \"X User\"",
     "not a valid header"),
    ("key without certificate",
     "CloudsmithSAMLOrg acme\nCloudsmithSAMLIdPMetadataFile {md}\n"
     "CloudsmithSAMLSPPrivateKeyFile {md}",
     "go together"),
    ("require team with a bad role",
     "CloudsmithSAMLOrg acme\nCloudsmithSAMLIdPMetadataFile {md}\n"
     "Require cloudsmith-team developers Owner",
     "must be Member or Manager"),
]


@pytest.mark.parametrize("name,body,message", BAD, ids=[b[0] for b in BAD])
def test_a_wrong_value_is_refused_with_its_reason(tmp_path, module_so, idp_metadata, name,
                                                  body, message):
    rc, out = configtest(tmp_path, module_so, org(body.format(md=idp_metadata)))
    assert rc != 0, out
    assert message in out
    assert "httpd.conf" in out  # says where


def test_org_outside_a_location_is_refused(tmp_path, module_so, idp_metadata):
    rc, out = configtest(tmp_path, module_so,
                         org(f"CloudsmithSAMLOrg acme\nCloudsmithSAMLIdPMetadataFile "
                             f"{idp_metadata}", path="~ \"^/acme/\"", section="LocationMatch"))
    assert rc != 0
    assert "must be inside a <Location /ORG/> section" in out


def test_the_same_org_twice_in_one_host_is_refused(tmp_path, module_so, idp_metadata):
    body = f"CloudsmithSAMLOrg acme\nCloudsmithSAMLIdPMetadataFile {idp_metadata}"
    rc, out = configtest(tmp_path, module_so, org(body) + org(body, path="/acme2/"))
    assert rc != 0
    assert "declared twice" in out


@pytest.mark.parametrize("content,message", [
    ("<md:EntityDescriptor", "XML"),
    ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "x">]><x/>', "DTD"),
    ('<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"/>',
     "IDPSSODescriptor"),
], ids=["malformed", "dtd", "no-idp-descriptor"])
def test_bad_idp_metadata_is_refused_at_syntax_check(tmp_path, module_so, content, message):
    bad = tmp_path / "bad-idp.xml"
    bad.write_text(content)
    rc, out = configtest(tmp_path, module_so,
                         org(f"CloudsmithSAMLOrg acme\nCloudsmithSAMLIdPMetadataFile {bad}"))
    assert rc != 0, out
    assert message in out
    assert "org acme" in out and str(bad) in out


def test_unknown_session_cache_provider_is_refused(tmp_path, module_so):
    rc, out = configtest(tmp_path, module_so, "",
                         global_conf="CloudsmithSAMLSessionCache nosuchcache")
    assert rc != 0
    assert "CloudsmithSAMLSessionCache" in out and "nosuchcache" in out


def test_lasso_flag_disabling_signature_checks_is_refused(tmp_path, module_so, idp_metadata,
                                                          monkeypatch):
    monkeypatch.setenv("LASSO_FLAG", "no-verify-signature")
    rc, out = configtest(tmp_path, module_so,
                         org(f"CloudsmithSAMLOrg acme\nCloudsmithSAMLIdPMetadataFile "
                             f"{idp_metadata}"))
    assert rc != 0
    assert "would disable SAML signature checks" in out


def test_scim_when_unavailable_takes_deny_or_allow(tmp_path, module_so, idp_metadata):
    rc, out = configtest(tmp_path, module_so, org(
        f"CloudsmithSAMLOrg acme\nCloudsmithSAMLIdPMetadataFile {idp_metadata}\n"
        "CloudsmithSAMLSCIMWhenUnavailable maybe"))
    assert rc != 0 and "must be Deny or Allow" in out


def test_scim_on_needs_a_token_hash_file_and_mod_dbd(tmp_path, module_so, idp_metadata):
    base = f"CloudsmithSAMLOrg acme\nCloudsmithSAMLIdPMetadataFile {idp_metadata}\n"
    rc, out = configtest(tmp_path, module_so, org(base + "CloudsmithSAMLSCIM On"))
    assert rc != 0 and "needs CloudsmithSAMLSCIMTokenHashFile" in out
    bad = tmp_path / "bad.scim"
    bad.write_text("sha256:xyz\n")
    rc, out = configtest(tmp_path, module_so, org(
        base + f"CloudsmithSAMLSCIM On\nCloudsmithSAMLSCIMTokenHashFile {bad}"))
    assert rc != 0 and "64 lower-case hex digits" in out
    good = tmp_path / "good.scim"
    good.write_text("sha256:" + "ab" * 32 + "\n")
    rc, out = configtest(tmp_path, module_so, org(
        base + f"CloudsmithSAMLSCIM On\nCloudsmithSAMLSCIMTokenHashFile {good}"))
    assert rc != 0 and "needs mod_dbd" in out
