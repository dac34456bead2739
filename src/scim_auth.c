#include <string.h>
#include <apr_base64.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include "scim_auth.h"

#define HASH_PREFIX "sha256:"

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

const char *scim_token_hash_parse(const char *text, scim_token_hash *out)
{
    if (text == NULL || strncmp(text, HASH_PREFIX, strlen(HASH_PREFIX)) != 0)
        return "not a SCIM token hash (expected a line \"sha256:\" + 64 hex digits, as "
               "written by cloudsmith-saml-scim-token)";
    const char *hex = text + strlen(HASH_PREFIX);
    for (int i = 0; i < 32; i++) {
        int hi = hex_digit(hex[2 * i]), lo = hi < 0 ? -1 : hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return "the SCIM token hash must be 64 lower-case hex digits after \"sha256:\"";
        out->sha256[i] = (unsigned char)(hi << 4 | lo);
    }
    const char *rest = hex + 64;
    while (*rest == '\n' || *rest == '\r' || *rest == ' ' || *rest == '\t')
        rest++;
    return *rest ? "unexpected text after the SCIM token hash" : NULL;
}

static void sha256(const char *data, apr_size_t len, unsigned char out[32])
{
    unsigned int n = 0;
    EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
}

char *scim_token_hash_line(apr_pool_t *p, const char *secret)
{
    unsigned char digest[32];
    sha256(secret, strlen(secret), digest);
    char *line = apr_palloc(p, strlen(HASH_PREFIX) + 64 + 2), *w;
    strcpy(line, HASH_PREFIX);
    w = line + strlen(HASH_PREFIX);
    for (int i = 0; i < 32; i++, w += 2)
        apr_snprintf(w, 3, "%02x", digest[i]);
    strcpy(w, "\n");
    return line;
}

char *scim_secret_generate(apr_pool_t *p)
{
    unsigned char bytes[SCIM_SECRET_BYTES];
    if (RAND_bytes(bytes, sizeof bytes) != 1)
        return NULL;
    char *b64 = apr_palloc(p, apr_base64_encode_len(sizeof bytes));
    apr_base64_encode_binary(b64, bytes, sizeof bytes);
    OPENSSL_cleanse(bytes, sizeof bytes);
    for (char *c = b64; *c; c++) {
        if (*c == '+') *c = '-';
        else if (*c == '/') *c = '_';
        else if (*c == '=') { *c = '\0'; break; }
    }
    return b64;
}

scim_auth_result scim_auth_check(apr_pool_t *p, const char *authorization,
                                 const scim_token_hash *expected)
{
    if (authorization == NULL || strncasecmp(authorization, "Basic", 5) != 0
        || (authorization[5] != ' ' && authorization[5] != '\t'))
        return SCIM_AUTH_MISSING;
    const char *b64 = authorization + 6;
    while (*b64 == ' ' || *b64 == '\t')
        b64++;
    apr_size_t n = strlen(b64);
    while (n && (b64[n - 1] == ' ' || b64[n - 1] == '\t'))
        n--;
    if (n == 0 || n > 1024 || n % 4 != 0)
        return SCIM_AUTH_MALFORMED;
    for (apr_size_t i = 0; i < n; i++)
        if (!apr_isalnum(b64[i]) && b64[i] != '+' && b64[i] != '/' && b64[i] != '=')
            return SCIM_AUTH_MALFORMED;
    char *encoded = apr_pstrmemdup(p, b64, n);
    char *decoded = apr_palloc(p, apr_base64_decode_len(encoded) + 1);
    int len = apr_base64_decode(decoded, encoded);
    decoded[len] = '\0';
    const char *colon = memchr(decoded, ':', (apr_size_t)len);
    if (colon == NULL || strlen(decoded) != (apr_size_t)len)
        return SCIM_AUTH_MALFORMED;
    /* Both checks always run, so timing tells nothing about which part was wrong. */
    int user_ok = (apr_size_t)(colon - decoded) == strlen(SCIM_TOKEN_USER)
                  && memcmp(decoded, SCIM_TOKEN_USER, strlen(SCIM_TOKEN_USER)) == 0;
    unsigned char digest[32];
    sha256(colon + 1, (apr_size_t)len - (apr_size_t)(colon - decoded) - 1, digest);
    int secret_ok = CRYPTO_memcmp(digest, expected->sha256, sizeof digest) == 0;
    OPENSSL_cleanse(decoded, (apr_size_t)len);
    if (!user_ok)
        return SCIM_AUTH_WRONG_USER;
    return secret_ok ? SCIM_AUTH_OK : SCIM_AUTH_WRONG_SECRET;
}

const char *scim_auth_result_name(scim_auth_result r)
{
    switch (r) {
    case SCIM_AUTH_OK: return "ok";
    case SCIM_AUTH_MISSING: return "no Basic credentials";
    case SCIM_AUTH_MALFORMED: return "malformed Basic credentials";
    case SCIM_AUTH_WRONG_USER: return "user is not \"token\"";
    case SCIM_AUTH_WRONG_SECRET: return "wrong secret";
    }
    return "unknown";
}
