/* Values in the session cache are sealed: AES-256-GCM under a server key, with the cache key
 * as associated data. Whoever can write to a shared cache (Redis, memcached) can neither read
 * sessions nor mint or move them: a value only opens under its own key. */
#ifndef CS_SESSION_SEAL_H
#define CS_SESSION_SEAL_H

#include <apr_pools.h>

#define SESSION_SEAL_KEY_BYTES 32
#define SESSION_SEAL_OVERHEAD (1 + 12 + 16) /* version, nonce, tag */

typedef struct {
    unsigned char bytes[SESSION_SEAL_KEY_BYTES];
} session_seal_key;

/* The key from a key file's contents: at least 32 bytes of secret material, of any form
 * (e.g. `openssl rand -base64 48`). NULL on success, else why the material is unusable. */
const char *session_seal_key_derive(const char *material, apr_size_t len,
                                    session_seal_key *out);

/* A random key, for a cache only this server uses (shmcb). 0 on success. */
int session_seal_key_random(session_seal_key *out);

/* Seals plaintext bound to aad (the cache key). Returns the sealed bytes (*out_len long), or
 * NULL if the crypto library fails. */
unsigned char *session_seal(apr_pool_t *p, const session_seal_key *key, const void *aad,
                            apr_size_t aad_len, const void *plaintext, apr_size_t len,
                            apr_size_t *out_len);

/* Opens sealed bytes; NUL-terminated plaintext (*out_len without the NUL), or NULL when they
 * are not a value sealed under this key for this aad (tampered, moved, other key, garbage). */
char *session_open(apr_pool_t *p, const session_seal_key *key, const void *aad,
                   apr_size_t aad_len, const unsigned char *sealed, apr_size_t len,
                   apr_size_t *out_len);

#endif
