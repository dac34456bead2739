/* libFuzzer target for the ACS core, saml_acs_consume(): one org (the Okta fixtures'
 * SP and IdP, built once), a fixed clock at the fixtures' time, a SAMLResponse in, a
 * verdict out.
 *
 * Built three ways (FUZZ_ACS_MODE):
 *   FUZZ_ACS_XML    (fuzz_acs_xml)   the input is the decoded XML; the target base64-encodes
 *                                    it, so mutations explore XML rather than base64.
 *   FUZZ_ACS_B64    (fuzz_acs_b64)   the input is the raw form value (base64 text).
 *   FUZZ_ACS_NOSIG  (fuzz_acs_nosig) decoded XML, with Lasso's signature verification
 *                                    switched off (LASSO_FLAG no-verify-signature, which the
 *                                    module refuses to run with): lets mutated assertions
 *                                    reach the checks made after Lasso (conditions, subject,
 *                                    NameID, statements), which a signature otherwise guards.
 *
 * Invariants besides "no crash": a verdict always has a name; SAML_OK only with a
 * well-formed email NameID from the org's IdP, an assertion ID and a live validity window;
 * with signatures checked, SAML_OK only with exactly the identity, IDs, times and attributes
 * of the genuine Okta response (a mutation cannot carry a valid signature over anything
 * else). */
#include <lasso/lasso.h>
#include <apr_base64.h>
#include "fuzz_common.h"
#include "saml_acs.h"
#include "saml_sp.h"
#include "saml_time.h"

#ifndef OKTA_FIXTURE_DIR
#define OKTA_FIXTURE_DIR "../shared/saml-fixtures/okta/crewjam"
#endif
#define OKTA_ACS "http://localhost:8000/saml/acs"
#define OKTA_SP_ENTITY "http://localhost:8000/saml/metadata"
#define FIXTURE_TIME "2020-03-03T19:24:30Z"
/* the fixture accepted at FIXTURE_TIME */
#define GENUINE_RESPONSE "TestSPCanHandleOktaSignedResponseEncryptedAssertion_response"

#define FUZZ_ACS_XML 1
#define FUZZ_ACS_B64 2
#define FUZZ_ACS_NOSIG 3
#ifndef FUZZ_ACS_MODE
#define FUZZ_ACS_MODE FUZZ_ACS_XML
#endif

static saml_sp *sp;
static saml_acs_policy policy;
static saml_login genuine; /* what the genuine Okta response yields at FIXTURE_TIME */
static int print_verdict;  /* FUZZ_PRINT=1: the reason for each input, on stderr */

static int same_str(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static int same_attributes(const apr_table_t *a, const apr_table_t *b)
{
    const apr_array_header_t *x = apr_table_elts(a), *y = apr_table_elts(b);
    if (x->nelts != y->nelts)
        return 0;
    for (int i = 0; i < x->nelts; i++) {
        const apr_table_entry_t *e = &APR_ARRAY_IDX(x, i, apr_table_entry_t);
        const apr_table_entry_t *f = &APR_ARRAY_IDX(y, i, apr_table_entry_t);
        if (strcmp(e->key, f->key) != 0 || strcmp(e->val, f->val) != 0)
            return 0;
    }
    return 1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    const char *print = getenv("FUZZ_PRINT");
    print_verdict = print && *print && *print != '0';
    const char *dir = getenv("FUZZ_OKTA_FIXTURE_DIR");
    if (dir == NULL || *dir == '\0')
        dir = OKTA_FIXTURE_DIR;
    if (lasso_init() != 0) {
        fprintf(stderr, "fuzz_acs: lasso_init failed\n");
        exit(2);
    }
#if FUZZ_ACS_MODE == FUZZ_ACS_NOSIG
    lasso_set_flag("no-verify-signature");
#endif
    saml_sp_config cfg = {
        .org = "acme", .acs_url = OKTA_ACS, .sp_entity_id = OKTA_SP_ENTITY,
        .idp_metadata_xml = fuzz_slurp(dir, "okta_idp_metadata.xml"),
        .idp_metadata_origin = "okta_idp_metadata.xml",
        .sp_key_pem = fuzz_slurp(dir, "sp_key.pem"),
        .sp_cert_pem = fuzz_slurp(dir, "sp_cert.pem"),
    };
    const char *error = saml_sp_create(fuzz_global_pool, &cfg, &sp);
    if (error) {
        fprintf(stderr, "fuzz_acs: saml_sp_create: %s\n", error);
        exit(2);
    }
    policy.clock_skew = apr_time_from_sec(60);
    policy.max_issue_age = apr_time_from_sec(300);
    policy.max_message_bytes = 1024 * 1024;
    policy.allow_sha1 = 0;
    if (saml_time_parse(FIXTURE_TIME, &policy.now) != 0)
        abort();
#if FUZZ_ACS_MODE != FUZZ_ACS_NOSIG
    saml_login *login = NULL;
    const char *detail = NULL;
    saml_reason r = saml_acs_consume(sp, fuzz_slurp(dir, GENUINE_RESPONSE), &policy,
                                     fuzz_global_pool, &login, &detail);
    if (r != SAML_OK) {
        fprintf(stderr, "fuzz_acs: the genuine response is refused: %s %s\n",
                saml_reason_name(r), detail ? detail : "");
        exit(2);
    }
    genuine = *login;
#endif
    return 0;
}

static void check_verdict(saml_reason r, const saml_login *login, const char *detail)
{
    FUZZ_ASSERT(r >= SAML_OK && r < SAML_ERR__COUNT, "reason %d out of range", (int)r);
    FUZZ_ASSERT(saml_reason_name(r) != NULL, "reason %d has no name", (int)r);
    FUZZ_ASSERT(login != NULL, "no login record");
    /* Touch every string handed back, so ASan checks each is a live, terminated buffer. */
    volatile size_t n = detail ? strlen(detail) : 0;
    const char *fields[] = {login->response_id, login->assertion_id, login->in_response_to,
                            login->issuer, login->name_id, login->session_index};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        n += fields[i] ? strlen(fields[i]) : 0;
    (void)n;
    if (r != SAML_OK)
        return;
    FUZZ_ASSERT(login->name_id && saml_is_email_address(login->name_id),
                "SAML_OK with NameID %s", login->name_id ? login->name_id : "(null)");
    FUZZ_ASSERT(login->assertion_id && *login->assertion_id, "SAML_OK without assertion ID");
    FUZZ_ASSERT(login->issuer && strcmp(login->issuer, saml_sp_idp_entity_id(sp)) == 0,
                "SAML_OK with issuer %s", login->issuer ? login->issuer : "(null)");
    FUZZ_ASSERT(login->valid_until > policy.now - policy.clock_skew,
                "SAML_OK with an assertion already dead (%lld)", (long long)login->valid_until);
    FUZZ_ASSERT(login->attributes != NULL, "SAML_OK without an attribute table");
    const apr_array_header_t *attrs = apr_table_elts(login->attributes);
    for (int i = 0; i < attrs->nelts; i++) {
        const apr_table_entry_t *e = &APR_ARRAY_IDX(attrs, i, apr_table_entry_t);
        n += strlen(e->key) + strlen(e->val);
    }
#if FUZZ_ACS_MODE != FUZZ_ACS_NOSIG
    /* With signatures checked, an accepted response says exactly what the genuine one says
     * (a mutation may still be accepted when it leaves the canonical XML unchanged, e.g.
     * whitespace inside a tag): anything else would be a signature bypass. */
    FUZZ_ASSERT(same_str(login->name_id, genuine.name_id)
                && same_str(login->assertion_id, genuine.assertion_id)
                && same_str(login->response_id, genuine.response_id)
                && same_str(login->in_response_to, genuine.in_response_to)
                && same_str(login->issuer, genuine.issuer)
                && same_str(login->session_index, genuine.session_index)
                && login->valid_until == genuine.valid_until
                && login->session_not_on_or_after == genuine.session_not_on_or_after
                && same_attributes(login->attributes, genuine.attributes),
                "SAML_OK for content the IdP did not sign: NameID %s, assertion %s",
                login->name_id, login->assertion_id);
#endif
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *b64;
#if FUZZ_ACS_MODE == FUZZ_ACS_B64
    b64 = fuzz_cstring(data, size);
#else
    if (size > 256 * 1024)
        return 0;
    b64 = malloc((size_t)apr_base64_encode_len((int)size));
    if (b64 == NULL)
        abort();
    apr_base64_encode(b64, (const char *)data, (int)size);
#endif
    saml_login *login = NULL;
    const char *detail = NULL;
    saml_reason r = saml_acs_consume(sp, b64, &policy, fuzz_input_pool, &login, &detail);
    if (print_verdict)
        fprintf(stderr, "fuzz_acs: %s%s%s\n", saml_reason_name(r), detail ? ": " : "",
                detail ? detail : "");
    check_verdict(r, login, detail);
    free(b64);
    fuzz_input_done();
    return 0;
}
