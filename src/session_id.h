/* Session IDs, their cookie, and the cache keys derived from them. */
#ifndef CS_SESSION_ID_H
#define CS_SESSION_ID_H

#include <apr_pools.h>

#define SESSION_ID_BYTES 32 /* 256 random bits */
#define SESSION_ID_HEX_LEN (SESSION_ID_BYTES * 2)
#define SESSION_COOKIE_PREFIX "cloudsmith_saml_" /* + org slug */

/* Lower-case hex of random bytes the caller drew (apr_generate_random_bytes). */
char *session_id_format(apr_pool_t *p, const unsigned char random[SESSION_ID_BYTES]);

/* True when id is exactly SESSION_ID_HEX_LEN lower-case hex characters. */
int session_id_is_well_formed(const char *id);

#define SESSION_CACHE_KEY_BYTES 32

/* The socache key of a logical key (e.g. "session:" + ID): its SHA-256, raw. The cache never
 * holds a bearer secret or an attacker's bytes, and the first byte, which shmcb uses to pick
 * one of its sub-caches, is evenly spread. 0 on success. */
int session_cache_key(const char *logical_key, unsigned char out[SESSION_CACHE_KEY_BYTES]);

/* The value of cookie `name` in a Cookie request header (RFC 6265 syntax, several
 * cookies separated by ';'); NULL when absent. When the name occurs more than once the
 * first well-formed session ID wins. */
const char *session_cookie_find(apr_pool_t *p, const char *cookie_header, const char *name);

/* The Cookie header without the cookies whose name starts with prefix (the backend never
 * needs the session secret); NULL when no cookie is left. Other cookies keep their text. */
const char *session_cookie_strip(apr_pool_t *p, const char *cookie_header, const char *prefix);

/* Set-Cookie value: name=value; Path=path; HttpOnly; SameSite=Lax[; Secure][; Max-Age=n].
 * max_age < 0 omits Max-Age (session cookie); max_age == 0 expires it now. */
char *session_cookie_build(apr_pool_t *p, const char *name, const char *value,
                           const char *path, int secure, long max_age);

#endif
