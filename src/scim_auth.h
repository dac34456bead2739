/* SCIM clients authenticate with HTTP Basic: user "token", password the org's SCIM secret.
 * Only a hash of the secret is kept on disk ("sha256:" + 64 lower-case hex digits, one line);
 * secrets are random (256 bits), so a fast hash is enough and no salt is needed. */
#ifndef CS_SCIM_AUTH_H
#define CS_SCIM_AUTH_H

#include <apr_pools.h>

#define SCIM_TOKEN_USER "token"
#define SCIM_SECRET_BYTES 32

typedef struct {
    unsigned char sha256[32];
} scim_token_hash;

/* Parses a hash file's contents (trailing newline allowed). NULL on success, else why not. */
const char *scim_token_hash_parse(const char *text, scim_token_hash *out);

/* The file line for a secret: "sha256:<hex>\n". */
char *scim_token_hash_line(apr_pool_t *p, const char *secret);

/* A new secret: SCIM_SECRET_BYTES random bytes as unpadded base64url (43 characters).
 * NULL when the system has no randomness to give. */
char *scim_secret_generate(apr_pool_t *p);

typedef enum {
    SCIM_AUTH_OK,
    SCIM_AUTH_MISSING,      /* no Authorization header, or not the Basic scheme */
    SCIM_AUTH_MALFORMED,    /* Basic, but not base64 of "user:password" */
    SCIM_AUTH_WRONG_USER,   /* user is not "token" */
    SCIM_AUTH_WRONG_SECRET
} scim_auth_result;

/* Checks an Authorization header value against the org's hash, in time independent of how
 * much of the secret was right. */
scim_auth_result scim_auth_check(apr_pool_t *p, const char *authorization,
                                 const scim_token_hash *expected);

const char *scim_auth_result_name(scim_auth_result r);

#endif
