/* ACS core against genuine Okta-issued responses (../shared/saml-fixtures/okta), replayed at
 * their own point in time, plus tampered variants. */
#include <stdlib.h>
#include <apr_strings.h>
#include <apr_base64.h>
#include <lasso/lasso.h>
#include "unit.h"
#include "saml_acs.h"
#include "saml_sp.h"
#include "saml_time.h"

#define OKTA_SIGNED_RESPONSE "TestSPCanHandleOktaSignedResponseEncryptedAssertion_response"
#define OKTA_SIGNED_ASSERTION "TestSPCanHandleOktaResponseEncryptedSignedAssertion_response"
#define OKTA_BOTH_SIGNED "TestSPCanHandleOktaResponseEncryptedAssertionBothSigned_response"
#define OKTA_ACS "http://localhost:8000/saml/acs"
#define OKTA_SP_ENTITY "http://localhost:8000/saml/metadata"

static char *slurp(apr_pool_t *p, const char *name)
{
    char *path = apr_pstrcat(p, OKTA_FIXTURE_DIR, "/", name, NULL);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *buf = apr_palloc(p, n + 1);
    buf[fread(buf, 1, n, f)] = '\0';
    fclose(f);
    return buf;
}

static saml_sp *okta_sp(apr_pool_t *p, const char *acs, const char *entity)
{
    saml_sp_config cfg = {
        .org = "acme", .acs_url = acs, .sp_entity_id = entity,
        .idp_metadata_xml = slurp(p, "okta_idp_metadata.xml"), .idp_metadata_origin = "okta",
        .sp_key_pem = slurp(p, "sp_key.pem"), .sp_cert_pem = slurp(p, "sp_cert.pem"),
    };
    saml_sp *sp = NULL;
    const char *error = saml_sp_create(p, &cfg, &sp);
    if (error) {
        fprintf(stderr, "saml_sp_create: %s\n", error);
        exit(2);
    }
    return sp;
}

static saml_acs_policy policy_at(const char *when)
{
    saml_acs_policy pol = {.clock_skew = apr_time_from_sec(60),
                           .max_issue_age = apr_time_from_sec(300),
                           .max_message_bytes = 1024 * 1024};
    if (saml_time_parse(when, &pol.now) != 0)
        abort();
    return pol;
}

static saml_reason consume(apr_pool_t *p, saml_sp *sp, const char *b64, const char *when,
                           saml_login **login)
{
    saml_acs_policy pol = policy_at(when);
    const char *detail = NULL;
    saml_reason r = saml_acs_consume(sp, b64, &pol, p, login, &detail);
    if (r != SAML_OK)
        printf("     (%s: %s)\n", saml_reason_name(r), detail ? detail : "");
    return r;
}

/* Decodes a fixture, replaces the first occurrence of `from` by `to`, re-encodes. */
static char *tamper_b64(apr_pool_t *p, const char *b64, const char *from, const char *to)
{
    char *xml = apr_palloc(p, apr_base64_decode_len(b64));
    int n = apr_base64_decode(xml, b64);
    xml[n] = '\0';
    char *at = strstr(xml, from);
    if (at == NULL) {
        fprintf(stderr, "tamper: '%s' not in the message\n", from);
        abort();
    }
    char *out = apr_pstrcat(p, apr_pstrndup(p, xml, at - xml), to, at + strlen(from), NULL);
    char *enc = apr_palloc(p, apr_base64_encode_len(strlen(out)));
    apr_base64_encode(enc, out, strlen(out));
    return enc;
}

static char *tamper(apr_pool_t *p, const char *fixture, const char *from, const char *to)
{
    return tamper_b64(p, slurp(p, fixture), from, to);
}

static void test_acs_accepts_okta_signed_response_encrypted_assertion(apr_pool_t *p)
{
    saml_login *login;
    saml_sp *sp = okta_sp(p, OKTA_ACS, OKTA_SP_ENTITY);
    CHECK_INT(consume(p, sp, slurp(p, OKTA_SIGNED_RESPONSE), "2020-03-03T19:24:30Z", &login),
              SAML_OK);
    CHECK_STR(login->name_id, "testuser@testrsc.com");
    CHECK_STR(login->assertion_id, "id84952199689873111750846593");
    CHECK_STR(login->in_response_to, "id-a7364d1e4432aa9085a7a8bd824ea2fa8fa8f684");
    CHECK_STR(login->issuer, "http://www.okta.com/exkppsa1qwuFV4D7z0h7");
    CHECK_STR(login->session_index, "id-a7364d1e4432aa9085a7a8bd824ea2fa8fa8f684");
    CHECK_STR(apr_table_get(login->attributes, "Username"), "FixedValue");
    apr_time_t until;
    saml_time_parse("2020-03-03T19:29:29.214Z", &until);
    CHECK_INT(login->valid_until, until);
}

static void test_acs_accepts_okta_encrypted_signed_assertion(apr_pool_t *p)
{
    saml_login *login;
    saml_sp *sp = okta_sp(p, OKTA_ACS, OKTA_SP_ENTITY);
    CHECK_INT(consume(p, sp, slurp(p, OKTA_SIGNED_ASSERTION), "2020-03-03T19:31:56Z", &login),
              SAML_OK);
    CHECK_STR(login->name_id, "testuser@testrsc.com");
    CHECK_STR(login->assertion_id, "id84938651821511611470546522");
}

static void test_acs_accepts_okta_both_signed(apr_pool_t *p)
{
    saml_login *login;
    saml_sp *sp = okta_sp(p, OKTA_ACS, OKTA_SP_ENTITY);
    CHECK_INT(consume(p, sp, slurp(p, OKTA_BOTH_SIGNED), "2020-03-03T19:40:55Z", &login),
              SAML_OK);
    CHECK_STR(login->name_id, "testuser@testrsc.com");
    CHECK_STR(login->assertion_id, "id84898765216570251668573514");
}

static void test_acs_rejects_expired_assertion(apr_pool_t *p)
{
    saml_login *login;
    saml_sp *sp = okta_sp(p, OKTA_ACS, OKTA_SP_ENTITY);
    saml_acs_policy pol = policy_at("2020-03-03T19:31:00Z");
    pol.max_issue_age = apr_time_from_sec(3600);
    const char *detail;
    CHECK_INT(saml_acs_consume(sp, slurp(p, OKTA_SIGNED_RESPONSE), &pol, p, &login, &detail),
              SAML_ERR_EXPIRED);
    /* the skew is honoured: one second inside NotOnOrAfter + skew still passes */
    pol = policy_at("2020-03-03T19:30:28Z");
    pol.max_issue_age = apr_time_from_sec(3600);
    CHECK_INT(saml_acs_consume(sp, slurp(p, OKTA_SIGNED_RESPONSE), &pol, p, &login, &detail),
              SAML_OK);
}

static void test_acs_rejects_old_issue_instant(apr_pool_t *p)
{
    saml_login *login;
    saml_sp *sp = okta_sp(p, OKTA_ACS, OKTA_SP_ENTITY);
    CHECK_INT(consume(p, sp, slurp(p, OKTA_SIGNED_RESPONSE), "2020-03-03T19:30:40Z", &login),
              SAML_ERR_ISSUE_INSTANT);
}

static void test_acs_rejects_response_from_the_future(apr_pool_t *p)
{
    saml_login *login;
    saml_sp *sp = okta_sp(p, OKTA_ACS, OKTA_SP_ENTITY);
    CHECK_INT(consume(p, sp, slurp(p, OKTA_SIGNED_RESPONSE), "2020-03-03T19:20:00Z", &login),
              SAML_ERR_ISSUE_INSTANT);
}

static void test_acs_rejects_other_acs_url(apr_pool_t *p)
{
    saml_login *login;
    saml_sp *sp = okta_sp(p, "http://localhost:8000/other/saml/acs", OKTA_SP_ENTITY);
    CHECK_INT(consume(p, sp, slurp(p, OKTA_SIGNED_RESPONSE), "2020-03-03T19:24:30Z", &login),
              SAML_ERR_DESTINATION_MISMATCH);
}

static void test_acs_rejects_other_audience(apr_pool_t *p)
{
    saml_login *login;
    saml_sp *sp = okta_sp(p, OKTA_ACS, "http://localhost:8000/other/metadata");
    CHECK_INT(consume(p, sp, slurp(p, OKTA_SIGNED_RESPONSE), "2020-03-03T19:24:30Z", &login),
              SAML_ERR_AUDIENCE_MISMATCH);
}

static void test_acs_rejects_stripped_response_signature(apr_pool_t *p)
{
    saml_login *login;
    saml_sp *sp = okta_sp(p, OKTA_ACS, OKTA_SP_ENTITY);
    char *b64 = slurp(p, OKTA_SIGNED_RESPONSE);
    char *xml;
    apr_size_t len;
    CHECK_INT(saml_base64_decode_strict(p, b64, &xml, &len), 0);
    char *sig = strstr(xml, "<ds:Signature"), *end = strstr(xml, "</ds:Signature>");
    CHECK(sig && end);
    char *stripped = apr_pstrcat(p, apr_pstrndup(p, xml, sig - xml),
                                 end + strlen("</ds:Signature>"), NULL);
    char *enc = apr_palloc(p, apr_base64_encode_len(strlen(stripped)));
    apr_base64_encode(enc, stripped, strlen(stripped));
    /* A Response without a Signature may still omit nothing else: the destination rule for
     * signed responses no longer applies, so the refusal must come from the signature. */
    CHECK_INT(consume(p, sp, enc, "2020-03-03T19:24:30Z", &login), SAML_ERR_UNSIGNED);
}

static void test_acs_rejects_altered_signed_content(apr_pool_t *p)
{
    saml_login *login;
    saml_sp *sp = okta_sp(p, OKTA_ACS, OKTA_SP_ENTITY);
    /* the signed InResponseTo changes: the signature no longer matches */
    char *b64 = tamper(p, OKTA_SIGNED_RESPONSE, "InResponseTo=\"id-a7364",
                       "InResponseTo=\"id-b7364");
    CHECK_INT(consume(p, sp, b64, "2020-03-03T19:24:30Z", &login), SAML_ERR_SIGNATURE_INVALID);
}

static void test_acs_rejects_other_idp(apr_pool_t *p)
{
    saml_login *login;
    char *metadata = slurp(p, "okta_idp_metadata.xml");
    char *other = apr_pstrdup(p, metadata);
    char *id = strstr(other, "exkppsa1qwuFV4D7z0h7");
    memcpy(id, "exkOTHERqwuFV4D7z0h7", 20);
    saml_sp_config cfg = {.org = "beta", .acs_url = OKTA_ACS, .sp_entity_id = OKTA_SP_ENTITY,
                          .idp_metadata_xml = other, .idp_metadata_origin = "other",
                          .sp_key_pem = slurp(p, "sp_key.pem")};
    saml_sp *sp;
    CHECK(saml_sp_create(p, &cfg, &sp) == NULL);
    CHECK_INT(consume(p, sp, slurp(p, OKTA_SIGNED_RESPONSE), "2020-03-03T19:24:30Z", &login),
              SAML_ERR_ISSUER_MISMATCH);
}

static void test_acs_rejects_undecryptable_assertion(apr_pool_t *p)
{
    saml_login *login;
    saml_sp_config cfg = {.org = "acme", .acs_url = OKTA_ACS, .sp_entity_id = OKTA_SP_ENTITY,
                          .idp_metadata_xml = slurp(p, "okta_idp_metadata.xml"),
                          .idp_metadata_origin = "okta"};
    saml_sp *sp;
    CHECK(saml_sp_create(p, &cfg, &sp) == NULL);
    saml_reason r = consume(p, sp, slurp(p, OKTA_SIGNED_ASSERTION), "2020-03-03T19:31:56Z",
                            &login);
    CHECK_INT(r, SAML_ERR_DECRYPT_FAILED);
}

static void test_acs_rejects_two_assertions(apr_pool_t *p)
{
    saml_login *login;
    saml_sp *sp = okta_sp(p, OKTA_ACS, OKTA_SP_ENTITY);
    char *b64 = tamper(p, OKTA_SIGNED_ASSERTION, "</saml2p:Response>",
                       "<saml2:Assertion xmlns:saml2=\"urn:oasis:names:tc:SAML:2.0:assertion\" "
                       "ID=\"evil\"/></saml2p:Response>");
    CHECK_INT(consume(p, sp, b64, "2020-03-03T19:31:56Z", &login), SAML_ERR_ASSERTION_COUNT);
}

static void test_acs_rejects_dtd(apr_pool_t *p)
{
    saml_login *login;
    saml_sp *sp = okta_sp(p, OKTA_ACS, OKTA_SP_ENTITY);
    char *b64 = tamper(p, OKTA_SIGNED_RESPONSE, "?>",
                       "?><!DOCTYPE r [<!ENTITY x \"y\">]>");
    CHECK_INT(consume(p, sp, b64, "2020-03-03T19:24:30Z", &login), SAML_ERR_DTD_FORBIDDEN);
}

static void test_acs_rejects_nested_entity_expansion_as_dtd(apr_pool_t *p)
{
    saml_login *login;
    saml_sp *sp = okta_sp(p, OKTA_ACS, OKTA_SP_ENTITY);
    const char *laughs = "?><!DOCTYPE r [<!ENTITY a \"lollollollollollollollollollol\">"
        "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">"
        "<!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\"><!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">"
        "<!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\"><!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\">]>";
    char *b64 = tamper(p, OKTA_SIGNED_RESPONSE, "?>", laughs);
    b64 = tamper_b64(p, b64, "</saml2p:Response>", "&g;</saml2p:Response>");
    CHECK_INT(consume(p, sp, b64, "2020-03-03T19:24:30Z", &login), SAML_ERR_DTD_FORBIDDEN);
}

static void test_acs_rejects_utf16_documents(apr_pool_t *p)
{
    saml_login *login;
    saml_sp *sp = okta_sp(p, OKTA_ACS, OKTA_SP_ENTITY);
    /* "\xff\xfe<\0x\0/\0>\0": a UTF-16LE document */
    CHECK_INT(consume(p, sp, "//48AHgALwA+AA==", "2020-03-03T19:24:30Z", &login),
              SAML_ERR_BAD_XML);
}

static void test_acs_rejects_bad_base64_and_xml(apr_pool_t *p)
{
    saml_login *login;
    saml_sp *sp = okta_sp(p, OKTA_ACS, OKTA_SP_ENTITY);
    CHECK_INT(consume(p, sp, "not*base64", "2020-03-03T19:24:30Z", &login), SAML_ERR_BAD_BASE64);
    CHECK_INT(consume(p, sp, "", "2020-03-03T19:24:30Z", &login), SAML_ERR_NO_RESPONSE);
    CHECK_INT(consume(p, sp, "PGE+PC9hPg==", "2020-03-03T19:24:30Z", &login), SAML_ERR_BAD_XML);
    CHECK_INT(consume(p, sp, "PGE+PC9h", "2020-03-03T19:24:30Z", &login), SAML_ERR_BAD_XML);
}

static void test_acs_rejects_oversized_message(apr_pool_t *p)
{
    saml_login *login;
    saml_sp *sp = okta_sp(p, OKTA_ACS, OKTA_SP_ENTITY);
    saml_acs_policy pol = policy_at("2020-03-03T19:24:30Z");
    pol.max_message_bytes = 1000;
    const char *detail;
    CHECK_INT(saml_acs_consume(sp, slurp(p, OKTA_SIGNED_RESPONSE), &pol, p, &login, &detail),
              SAML_ERR_TOO_LARGE);
}

static void test_base64_strict(apr_pool_t *p)
{
    char *out;
    apr_size_t n;
    CHECK_INT(saml_base64_decode_strict(p, "aGVsbG8=", &out, &n), 0);
    CHECK_STR(out, "hello");
    CHECK_INT(saml_base64_decode_strict(p, "aGVs\r\nbG8=\n", &out, &n), 0);
    CHECK_STR(out, "hello");
    CHECK_INT(saml_base64_decode_strict(p, "aGVsbG8", &out, &n), -1);
    CHECK_INT(saml_base64_decode_strict(p, "aGVsbG8=x", &out, &n), -1);
    CHECK_INT(saml_base64_decode_strict(p, "aGV-bG8=", &out, &n), -1);
    CHECK_INT(saml_base64_decode_strict(p, "=aGVsbG8", &out, &n), -1);
    CHECK_INT(saml_base64_decode_strict(p, "", &out, &n), -1);
}

static void test_email_address(apr_pool_t *p)
{
    CHECK(saml_is_email_address("alice@example.com"));
    CHECK(saml_is_email_address("a.b+tag@sub.example-x.org"));
    CHECK(!saml_is_email_address("alice"));
    CHECK(!saml_is_email_address("@example.com"));
    CHECK(!saml_is_email_address("alice@"));
    CHECK(!saml_is_email_address("alice@example"));
    CHECK(!saml_is_email_address("a@b@example.com"));
    CHECK(!saml_is_email_address("alice @example.com"));
    CHECK(!saml_is_email_address("alice@exa mple.com"));
    CHECK(!saml_is_email_address("alice@example..com"));
    CHECK(!saml_is_email_address("alice@example.com."));
    CHECK(!saml_is_email_address("alice\n@example.com"));
    CHECK(!saml_is_email_address("al\"ice@example.com"));
}

static void test_time_parse(apr_pool_t *p)
{
    apr_time_t t, z;
    CHECK_INT(saml_time_parse("1970-01-01T00:00:00Z", &z), 0);
    CHECK_INT(z, 0);
    CHECK_INT(saml_time_parse("2020-03-03T19:24:29.213Z", &t), 0);
    CHECK_INT(t, 1583263469213000LL);
    CHECK_INT(saml_time_parse("2020-03-03T20:24:29.213+01:00", &z), 0);
    CHECK_INT(z, t);
    CHECK_STR(saml_time_format(p, t), "2020-03-03T19:24:29Z");
    CHECK_INT(saml_time_parse("2020-03-03T19:24:29", &t), -1);
    CHECK_INT(saml_time_parse("2020-13-03T19:24:29Z", &t), -1);
    CHECK_INT(saml_time_parse("2020-03-03T19:24:29Zjunk", &t), -1);
    CHECK_INT(saml_time_parse("2020-03-03 19:24:29Z", &t), -1);
    CHECK_INT(saml_time_parse(NULL, &t), -1);
}

static void test_idp_metadata_check_names_the_problem(apr_pool_t *p)
{
    const char *id = NULL;
    CHECK(saml_idp_metadata_check(p, slurp(p, "okta_idp_metadata.xml"), &id) == NULL);
    CHECK_STR(id, "http://www.okta.com/exkppsa1qwuFV4D7z0h7");
    const char *e = saml_idp_metadata_check(p, "<md:EntityDescriptor", &id);
    CHECK(e && strstr(e, "line 1"));
    e = saml_idp_metadata_check(p, "<x/>", &id);
    CHECK(e && strstr(e, "EntityDescriptor"));
    e = saml_idp_metadata_check(p, "<!DOCTYPE x><x/>", &id);
    CHECK(e && strstr(e, "DTD"));
    e = saml_idp_metadata_check(p, "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:"
                                "metadata\" entityID=\"x\"><md:SPSSODescriptor/>"
                                "</md:EntityDescriptor>", &id);
    CHECK(e && strstr(e, "IDPSSODescriptor"));
}

static void test_sp_metadata_advertises_acs_and_cert(apr_pool_t *p)
{
    saml_sp_config cfg = {.acs_url = "https://sso.example.com/acme/saml/acs/",
                          .sp_cert_pem = slurp(p, "sp_cert.pem"), .sp_key_pem = "k"};
    const char *xml = saml_sp_metadata_xml(p, &cfg);
    CHECK(strstr(xml, "entityID=\"https://sso.example.com/acme/saml/acs/\""));
    CHECK(strstr(xml, "Location=\"https://sso.example.com/acme/saml/acs/\""));
    CHECK(strstr(xml, "use=\"encryption\""));
    CHECK(strstr(xml, "HTTP-POST"));
    cfg.sp_cert_pem = NULL;
    cfg.sp_key_pem = NULL;
    cfg.sp_entity_id = "urn:x&y";
    xml = saml_sp_metadata_xml(p, &cfg);
    CHECK(strstr(xml, "entityID=\"urn:x&amp;y\""));
    CHECK(strstr(xml, "KeyDescriptor") == NULL);
}

static void test_authn_request_redirects_to_idp(apr_pool_t *p)
{
    saml_sp *sp = okta_sp(p, OKTA_ACS, OKTA_SP_ENTITY);
    const char *url = NULL, *id = NULL;
    CHECK(saml_sp_authn_request(sp, p, "opaque123", 0, &url, &id) == NULL);
    CHECK(url && strncmp(url, "https://dev-513394.oktapreview.com/app/", 39) == 0);
    CHECK(url && strstr(url, "SAMLRequest="));
    CHECK(url && strstr(url, "RelayState=opaque123"));
    CHECK(id && strlen(id) > 16);
    const char *id2 = NULL;
    CHECK(saml_sp_authn_request(sp, p, "x", 1, &url, &id2) == NULL);
    CHECK(id2 && strcmp(id, id2) != 0);
}

static void test_authn_request_without_sp_key_is_unsigned(apr_pool_t *p)
{
    saml_sp_config cfg = {.acs_url = OKTA_ACS, .sp_entity_id = OKTA_SP_ENTITY,
                          .idp_metadata_xml = slurp(p, "okta_idp_metadata.xml"),
                          .idp_metadata_origin = "test"};
    saml_sp *sp = NULL;
    CHECK(saml_sp_create(p, &cfg, &sp) == NULL);
    const char *url = NULL, *id = NULL;
    CHECK(sp && saml_sp_authn_request(sp, p, "opaque123", 0, &url, &id) == NULL);
    CHECK(url && strstr(url, "SAMLRequest="));
    CHECK(url && strstr(url, "Signature=") == NULL);
}

static void test_acs_refuses_sha1_unless_the_org_allows_it(apr_pool_t *p)
{
    saml_login *login;
    saml_sp *sp = okta_sp(p, OKTA_ACS, OKTA_SP_ENTITY);
    char *b64 = tamper(p, OKTA_SIGNED_RESPONSE,
                       "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                       "http://www.w3.org/2000/09/xmldsig#rsa-sha1");
    saml_acs_policy pol = policy_at("2020-03-03T19:24:30Z");
    const char *detail = NULL;
    CHECK_INT(saml_acs_consume(sp, b64, &pol, p, &login, &detail), SAML_ERR_WEAK_ALGORITHM);
    CHECK(detail && strstr(detail, "signature method http://www.w3.org/2000/09/xmldsig#rsa-sha1"));
    /* allowed, the algorithm passes and the (now wrong) signature is what fails */
    pol.allow_sha1 = 1;
    CHECK_INT(saml_acs_consume(sp, b64, &pol, p, &login, &detail), SAML_ERR_SIGNATURE_INVALID);
}

static void test_acs_refuses_hmac_signature_method_even_with_sha1_allowed(apr_pool_t *p)
{
    saml_login *login;
    saml_sp *sp = okta_sp(p, OKTA_ACS, OKTA_SP_ENTITY);
    char *b64 = tamper(p, OKTA_SIGNED_RESPONSE,
                       "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                       "http://www.w3.org/2000/09/xmldsig#hmac-sha1");
    saml_acs_policy pol = policy_at("2020-03-03T19:24:30Z");
    pol.allow_sha1 = 1;
    const char *detail = NULL;
    CHECK_INT(saml_acs_consume(sp, b64, &pol, p, &login, &detail), SAML_ERR_WEAK_ALGORITHM);
}

static void test_authn_request_is_signed_with_rsa_sha256_when_asked(apr_pool_t *p)
{
    saml_sp_config cfg = {
        .org = "acme", .acs_url = OKTA_ACS, .sp_entity_id = OKTA_SP_ENTITY,
        .idp_metadata_xml = slurp(p, "okta_idp_metadata.xml"), .idp_metadata_origin = "okta",
        .sp_key_pem = slurp(p, "sp_key.pem"), .sp_cert_pem = slurp(p, "sp_cert.pem"),
        .sign_authn_requests = 1};
    saml_sp *sp = NULL;
    CHECK(saml_sp_create(p, &cfg, &sp) == NULL);
    const char *url = NULL, *id = NULL;
    CHECK(sp && saml_sp_authn_request(sp, p, "r1", 0, &url, &id) == NULL);
    CHECK(url && strstr(url, "SigAlg=http%3A%2F%2Fwww.w3.org%2F2001%2F04%2Fxmldsig-more%23rsa-sha256"));
    CHECK(url && strstr(url, "&Signature="));
    CHECK(strstr(saml_sp_metadata_xml(p, saml_sp_get_config(sp)), "AuthnRequestsSigned=\"true\""));
}

static void test_idp_asking_for_signed_requests_needs_an_sp_key(apr_pool_t *p)
{
    const char *md = slurp(p, "okta_idp_metadata.xml");
    const char *no = "WantAuthnRequestsSigned=\"false\"";
    char *at = strstr(md, no);
    CHECK(at != NULL);
    if (at == NULL)
        return;
    const char *wanting = apr_pstrcat(p, apr_pstrndup(p, md, at - md),
                                      "WantAuthnRequestsSigned=\"true\"", at + strlen(no), NULL);
    saml_sp_config cfg = {.org = "acme", .acs_url = OKTA_ACS, .idp_metadata_xml = wanting,
                          .idp_metadata_origin = "okta.xml"};
    saml_sp *sp = NULL;
    const char *error = saml_sp_create(p, &cfg, &sp);
    CHECK(error && strstr(error, "okta.xml asks for signed AuthnRequests"));
    cfg.sp_key_pem = slurp(p, "sp_key.pem");
    cfg.sp_cert_pem = slurp(p, "sp_cert.pem");
    CHECK(saml_sp_create(p, &cfg, &sp) == NULL);
    CHECK(sp && saml_sp_signs_requests(sp));
}

/* Lasso leaks on these before any signature check, so they must never reach it. */
static void test_acs_refuses_undecryptable_encrypted_assertions_before_lasso(apr_pool_t *p)
{
    saml_login *login;
    saml_sp *sp = okta_sp(p, OKTA_ACS, OKTA_SP_ENTITY);
    static const char *const from_to[][2] = {
        {"Algorithm=\"http://www.w3.org/2001/04/xmlenc#aes256-cbc\"",
         "Algorithm=\"urn:unknown\""},
        {"<xenc:EncryptedKey", "<xenc:NotAKey"},
        {"</xenc:EncryptedKey>", "</xenc:NotAKey>"},
    };
    CHECK_INT(consume(p, sp, tamper(p, OKTA_SIGNED_RESPONSE, from_to[0][0], from_to[0][1]),
                      "2020-03-03T19:24:30Z", &login), SAML_ERR_DECRYPT_FAILED);
    char *no_key = tamper(p, OKTA_SIGNED_RESPONSE, from_to[1][0], from_to[1][1]);
    no_key = tamper_b64(p, no_key, from_to[2][0], from_to[2][1]);
    saml_acs_policy pol = policy_at("2020-03-03T19:24:30Z");
    const char *detail = NULL;
    CHECK_INT(saml_acs_consume(sp, no_key, &pol, p, &login, &detail), SAML_ERR_DECRYPT_FAILED);
    CHECK(detail && strstr(detail, "without an EncryptedKey"));

    /* An EncryptedKey directly inside EncryptedData (not in its KeyInfo) is one Lasso never
     * finds: refused here too. */
    char *misplaced = tamper_b64(
        p, no_key, "aes256-cbc\" xmlns:xenc=\"http://www.w3.org/2001/04/xmlenc#\"/>",
        "aes256-cbc\"/><xenc:EncryptedKey><xenc:EncryptionMethod "
        "Algorithm=\"http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p\"/></xenc:EncryptedKey>");
    detail = NULL;
    CHECK_INT(saml_acs_consume(sp, misplaced, &pol, p, &login, &detail),
              SAML_ERR_DECRYPT_FAILED);
    CHECK(detail && strstr(detail, "without an EncryptedKey"));
}

/* Okta's metadata with its signing KeyDescriptor replaced by `replacement` (which may use
 * okta_kd and other_kd below: Okta's own, and one holding another certificate). */
static const char *okta_kd(apr_pool_t *p)
{
    const char *md = slurp(p, "okta_idp_metadata.xml");
    const char *from = strstr(md, "<md:KeyDescriptor");
    const char *to = strstr(md, "</md:KeyDescriptor>");
    if (from == NULL || to == NULL)
        abort();
    return apr_pstrndup(p, from, to + strlen("</md:KeyDescriptor>") - from);
}

static const char *other_kd(apr_pool_t *p, const char *use)
{
    char *pem = slurp(p, "sp_cert.pem");
    char *body = strstr(pem, "-----\n") + 6;
    *strstr(body, "-----END") = '\0';
    return apr_psprintf(p, "<md:KeyDescriptor%s><ds:KeyInfo xmlns:ds=\"http://www.w3.org/2000/09/"
                        "xmldsig#\"><ds:X509Data><ds:X509Certificate>%s</ds:X509Certificate>"
                        "</ds:X509Data></ds:KeyInfo></md:KeyDescriptor>",
                        use ? apr_psprintf(p, " use=\"%s\"", use) : "", body);
}

static saml_sp *okta_sp_with_keys(apr_pool_t *p, const char *key_descriptors,
                                  const char *after_idp, const char **error)
{
    const char *md = slurp(p, "okta_idp_metadata.xml");
    const char *kd = okta_kd(p);
    const char *at = strstr(md, kd);
    const char *end = strstr(md, "</md:IDPSSODescriptor>") + strlen("</md:IDPSSODescriptor>");
    const char *mid = apr_pstrndup(p, at + strlen(kd), end - at - strlen(kd));
    saml_sp_config cfg = {
        .org = "acme", .acs_url = OKTA_ACS, .sp_entity_id = OKTA_SP_ENTITY,
        .idp_metadata_xml = apr_pstrcat(p, apr_pstrndup(p, md, at - md), key_descriptors, mid,
                                        after_idp ? after_idp : "", end, NULL),
        .idp_metadata_origin = "okta", .sp_key_pem = slurp(p, "sp_key.pem"),
        .sp_cert_pem = slurp(p, "sp_cert.pem")};
    saml_sp *sp = NULL;
    *error = saml_sp_create(p, &cfg, &sp);
    return sp;
}

/* Key rollover: every signing certificate of the IdP's descriptor is trusted, in any order. */
static void test_acs_trusts_each_signing_certificate_of_the_idp(apr_pool_t *p)
{
    saml_login *login;
    const char *error;
    saml_sp *sp = okta_sp_with_keys(p, apr_pstrcat(p, other_kd(p, "signing"), okta_kd(p),
                                                   NULL), NULL, &error);
    CHECK(error == NULL && sp);
    if (sp)
        CHECK_INT(consume(p, sp, slurp(p, OKTA_SIGNED_RESPONSE), "2020-03-03T19:24:30Z",
                          &login), SAML_OK);
    sp = okta_sp_with_keys(p, apr_pstrcat(p, okta_kd(p), other_kd(p, NULL), NULL), NULL,
                           &error);
    CHECK(error == NULL && sp);
    if (sp)
        CHECK_INT(consume(p, sp, slurp(p, OKTA_SIGNED_RESPONSE), "2020-03-03T19:24:30Z",
                          &login), SAML_OK);
}

/* The IdP's key only where it does not sign for the IdP: another role's descriptor, or a
 * KeyDescriptor for encryption. Its signature is then refused. */
static void test_acs_refuses_keys_not_given_for_idp_signing(apr_pool_t *p)
{
    saml_login *login;
    const char *error;
    const char *aa = apr_pstrcat(
        p, "<md:AttributeAuthorityDescriptor protocolSupportEnumeration="
           "\"urn:oasis:names:tc:SAML:2.0:protocol\">", okta_kd(p),
        "<md:AttributeService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:SOAP\" "
        "Location=\"https://idp.example/aa\"/></md:AttributeAuthorityDescriptor>", NULL);
    saml_sp *sp = okta_sp_with_keys(p, other_kd(p, "signing"), aa, &error);
    CHECK(error == NULL && sp);
    if (sp)
        CHECK_INT(consume(p, sp, slurp(p, OKTA_SIGNED_RESPONSE), "2020-03-03T19:24:30Z",
                          &login), SAML_ERR_SIGNATURE_INVALID);

    const char *kd = okta_kd(p);
    const char *use = strstr(kd, "use=\"signing\"");
    const char *encryption_only = apr_pstrcat(p, apr_pstrndup(p, kd, use - kd),
                                              "use=\"encryption\"", use + 13, NULL);
    sp = okta_sp_with_keys(p, apr_pstrcat(p, other_kd(p, "signing"), encryption_only, NULL),
                           NULL, &error);
    if (error)
        printf("     (%s)\n", error);
    CHECK(error == NULL && sp);
    if (sp)
        CHECK_INT(consume(p, sp, slurp(p, OKTA_SIGNED_RESPONSE), "2020-03-03T19:24:30Z",
                          &login), SAML_ERR_SIGNATURE_INVALID);
}

static void test_idp_signing_certificate_must_be_a_certificate(apr_pool_t *p)
{
    const char *error, *id;
    const char *md = slurp(p, "okta_idp_metadata.xml");
    const char *cert = strstr(md, "<ds:X509Certificate>") + strlen("<ds:X509Certificate>");
    const char *bad = apr_pstrcat(p, apr_pstrndup(p, md, cert - md), "QUJD", cert, NULL);
    error = saml_idp_metadata_check(p, bad, &id);
    CHECK(error && strstr(error, "signing certificate 1 is not a base64 X.509 certificate"));
    okta_sp_with_keys(p, apr_pstrcat(p, okta_kd(p), "<md:KeyDescriptor><ds:KeyInfo xmlns:ds="
                                     "\"http://www.w3.org/2000/09/xmldsig#\"><ds:X509Data>"
                                     "<ds:X509Certificate>bm90IGEgY2VydGlmaWNhdGU="
                                     "</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
                                     "</md:KeyDescriptor>", NULL), NULL, &error);
    CHECK(error && strstr(error, "signing certificate 2 is not a base64 X.509 certificate"));
}

static const unit_case cases[] = {
    UNIT(test_acs_trusts_each_signing_certificate_of_the_idp),
    UNIT(test_acs_refuses_keys_not_given_for_idp_signing),
    UNIT(test_idp_signing_certificate_must_be_a_certificate),
    UNIT(test_acs_refuses_undecryptable_encrypted_assertions_before_lasso),
    UNIT(test_authn_request_is_signed_with_rsa_sha256_when_asked),
    UNIT(test_idp_asking_for_signed_requests_needs_an_sp_key),
    UNIT(test_acs_refuses_sha1_unless_the_org_allows_it),
    UNIT(test_acs_refuses_hmac_signature_method_even_with_sha1_allowed),
    UNIT(test_authn_request_without_sp_key_is_unsigned),
    UNIT(test_acs_accepts_okta_signed_response_encrypted_assertion),
    UNIT(test_acs_accepts_okta_encrypted_signed_assertion),
    UNIT(test_acs_accepts_okta_both_signed),
    UNIT(test_acs_rejects_expired_assertion),
    UNIT(test_acs_rejects_old_issue_instant),
    UNIT(test_acs_rejects_response_from_the_future),
    UNIT(test_acs_rejects_other_acs_url),
    UNIT(test_acs_rejects_other_audience),
    UNIT(test_acs_rejects_stripped_response_signature),
    UNIT(test_acs_rejects_altered_signed_content),
    UNIT(test_acs_rejects_other_idp),
    UNIT(test_acs_rejects_undecryptable_assertion),
    UNIT(test_acs_rejects_two_assertions),
    UNIT(test_acs_rejects_dtd),
    UNIT(test_acs_rejects_nested_entity_expansion_as_dtd),
    UNIT(test_acs_rejects_utf16_documents),
    UNIT(test_acs_rejects_bad_base64_and_xml),
    UNIT(test_acs_rejects_oversized_message),
    UNIT(test_base64_strict),
    UNIT(test_email_address),
    UNIT(test_time_parse),
    UNIT(test_idp_metadata_check_names_the_problem),
    UNIT(test_sp_metadata_advertises_acs_and_cert),
    UNIT(test_authn_request_redirects_to_idp),
    UNIT_END
};

int main(void)
{
    lasso_init();
    int rc = unit_run("acs", cases);
    lasso_shutdown();
    return rc;
}
