#include "unit.h"
#include <stdlib.h>
#include <apr_base64.h>
#include <apr_strings.h>
#include "scim_auth.h"

static const char *basic(apr_pool_t *p, const char *userpass)
{
    char *b64 = apr_palloc(p, apr_base64_encode_len(strlen(userpass)));
    apr_base64_encode(b64, userpass, strlen(userpass));
    return apr_pstrcat(p, "Basic ", b64, NULL);
}

static scim_token_hash hash_of(apr_pool_t *p, const char *secret)
{
    scim_token_hash h;
    if (scim_token_hash_parse(scim_token_hash_line(p, secret), &h) != NULL)
        abort();
    return h;
}

static void test_scim_token_hash_line_is_sha256_hex(apr_pool_t *p)
{
    /* sha256("abc") */
    CHECK_STR(scim_token_hash_line(p, "abc"),
              "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n");
}

static void test_scim_token_hash_parse_refuses_bad_files(apr_pool_t *p)
{
    scim_token_hash h;
    CHECK(scim_token_hash_parse("", &h) != NULL);
    CHECK(scim_token_hash_parse("md5:abc", &h) != NULL);
    CHECK(scim_token_hash_parse("sha256:ba7816bf", &h) != NULL);
    CHECK(scim_token_hash_parse("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61"
                                "F20015AD", &h) != NULL);
    CHECK(scim_token_hash_parse("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61"
                                "f20015ad extra", &h) != NULL);
    CHECK(scim_token_hash_parse("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61"
                                "f20015ad\r\n", &h) == NULL);
    CHECK(scim_token_hash_parse(NULL, &h) != NULL);
}

static void test_scim_secret_is_random_base64url(apr_pool_t *p)
{
    char *a = scim_secret_generate(p), *b = scim_secret_generate(p);
    CHECK(a && b && strcmp(a, b) != 0);
    CHECK_INT(strlen(a), 43);
    CHECK(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == 43);
}

static void test_scim_auth_accepts_token_and_the_right_secret(apr_pool_t *p)
{
    scim_token_hash h = hash_of(p, "s3cret:with:colons");
    CHECK_INT(scim_auth_check(p, basic(p, "token:s3cret:with:colons"), &h), SCIM_AUTH_OK);
    CHECK_INT(scim_auth_check(p, apr_pstrcat(p, "basic  ", basic(p, "token:s3cret:with:colons")
                                             + 6, "  ", NULL), &h), SCIM_AUTH_OK);
}

static void test_scim_auth_refuses_everything_else(apr_pool_t *p)
{
    scim_token_hash h = hash_of(p, "s3cret");
    CHECK_INT(scim_auth_check(p, NULL, &h), SCIM_AUTH_MISSING);
    CHECK_INT(scim_auth_check(p, "Bearer s3cret", &h), SCIM_AUTH_MISSING);
    CHECK_INT(scim_auth_check(p, "Basicx", &h), SCIM_AUTH_MISSING);
    CHECK_INT(scim_auth_check(p, "Basic ", &h), SCIM_AUTH_MALFORMED);
    CHECK_INT(scim_auth_check(p, "Basic !!!!", &h), SCIM_AUTH_MALFORMED);
    CHECK_INT(scim_auth_check(p, basic(p, "tokens3cret"), &h), SCIM_AUTH_MALFORMED);
    CHECK_INT(scim_auth_check(p, basic(p, "admin:s3cret"), &h), SCIM_AUTH_WRONG_USER);
    CHECK_INT(scim_auth_check(p, basic(p, "Token:s3cret"), &h), SCIM_AUTH_WRONG_USER);
    CHECK_INT(scim_auth_check(p, basic(p, "token:s3cre"), &h), SCIM_AUTH_WRONG_SECRET);
    CHECK_INT(scim_auth_check(p, basic(p, "token:s3cret "), &h), SCIM_AUTH_WRONG_SECRET);
    CHECK_INT(scim_auth_check(p, basic(p, "token:"), &h), SCIM_AUTH_WRONG_SECRET);
    /* a NUL inside the decoded credentials cannot cut the secret short */
    CHECK_INT(scim_auth_check(p, "Basic dG9rZW46czNjcmV0AHg=", &h), SCIM_AUTH_MALFORMED);
}

static const unit_case cases[] = {
    UNIT(test_scim_token_hash_line_is_sha256_hex),
    UNIT(test_scim_token_hash_parse_refuses_bad_files),
    UNIT(test_scim_secret_is_random_base64url),
    UNIT(test_scim_auth_accepts_token_and_the_right_secret),
    UNIT(test_scim_auth_refuses_everything_else),
    UNIT_END
};

int main(void) { return unit_run("scim_auth", cases); }
