/* mksessions: many live sessions written straight into Redis, for bench/sessions_redis.py.
 * Each one is what the module stores after a login: a session record (session_record.h)
 * sealed under the key file's key and bound to its cache key (session_seal.h), at the key and
 * with the TTL mod_socache_redis gives it. Prints Redis commands for `redis-cli --pipe` on
 * stdout and appends one "cloudsmith_saml_ORG=ID" cookie per session to COOKIES_OUT.
 *   mksessions KEY_FILE ORG ACS_URL IDP_ENTITY_ID COUNT LIFETIME_S COOKIES_OUT \
 *       | redis-cli -p PORT --pipe */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <openssl/rand.h>
#include "session_id.h"
#include "session_record.h"
#include "session_seal.h"

/* The namespace the module initialises its socache with (src/mod_saml_cache.c);
 * mod_socache_redis names an entry NAMESPACE ":" + the lower-case hex of the binary key, and
 * stores it with SETEX for the whole seconds left until the expiry (socache_rd_store). */
#define CACHE_NAMESPACE "cloudsmith-saml"
#define SESSION_KEY_PREFIX "session:"
#define KEY_FILE_MAX (64 * 1024)

static int usage(void)
{
    fprintf(stderr, "usage: mksessions KEY_FILE ORG ACS_URL IDP_ENTITY_ID COUNT LIFETIME_S "
                    "COOKIES_OUT > redis-commands\n");
    return 2;
}

static void hex(char *out, const unsigned char *bytes, apr_size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (apr_size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 0x0f];
    }
    out[2 * n] = '\0';
}

static const char *load_key(apr_pool_t *p, const char *path, session_seal_key *key)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return "cannot be read";
    char *material = apr_palloc(p, KEY_FILE_MAX);
    size_t len = fread(material, 1, KEY_FILE_MAX, f);
    int failed = ferror(f);
    fclose(f);
    return failed ? "cannot be read" : session_seal_key_derive(material, len, key);
}

/* One RESP bulk string. */
static void bulk(FILE *out, const void *bytes, size_t len)
{
    fprintf(out, "$%zu\r\n", len);
    fwrite(bytes, 1, len, out);
    fputs("\r\n", out);
}

int main(int argc, char **argv)
{
    if (argc != 8)
        return usage();
    const char *key_file = argv[1], *org = argv[2], *acs_url = argv[3], *idp = argv[4];
    long count = atol(argv[5]), lifetime_s = atol(argv[6]);
    if (count <= 0 || lifetime_s <= 0)
        return usage();
    apr_initialize();
    apr_pool_t *p, *iter;
    apr_pool_create(&p, NULL);
    apr_pool_create(&iter, p);
    session_seal_key key;
    const char *why = load_key(p, key_file, &key);
    if (why) {
        fprintf(stderr, "mksessions: %s: %s\n", key_file, why);
        return 1;
    }
    FILE *cookies = fopen(argv[7], "a");
    if (cookies == NULL) {
        fprintf(stderr, "mksessions: cannot open %s\n", argv[7]);
        return 1;
    }
    static char out_buf[1 << 20], cookie_buf[1 << 20];
    setvbuf(stdout, out_buf, _IOFBF, sizeof out_buf);
    setvbuf(cookies, cookie_buf, _IOFBF, sizeof cookie_buf);
    clock_t cpu0 = clock();
    apr_array_header_t *no_teams = apr_array_make(p, 0, sizeof(team_membership));
    for (long i = 0; i < count; i++) {
        apr_pool_clear(iter);
        unsigned char random[SESSION_ID_BYTES], cache_key[SESSION_CACHE_KEY_BYTES];
        if (RAND_bytes(random, sizeof random) != 1) {
            fprintf(stderr, "mksessions: no random bytes\n");
            return 1;
        }
        const char *id = session_id_format(iter, random);
        /* The fields a login through the ACS fills (src/mod_saml_endpoints.c), for a user
         * of the bench's minting IdP. */
        apr_time_t now = apr_time_now();
        session_record rec = {
            .org = org, .sp = acs_url,
            .user = apr_psprintf(iter, "bulk%ld@example.com", i),
            .first_name = "Bulk", .last_name = "User", .idp_entity_id = idp,
            .session_index = apr_psprintf(iter, "_sb%08ld", i), .teams = no_teams,
            .created = now, .expires = now + apr_time_from_sec(lifetime_s)};
        rec.email = rec.user;
        const char *value = session_record_encode(iter, &rec);
        apr_size_t sealed_len = 0;
        unsigned char *sealed = NULL;
        if (value && session_cache_key(apr_pstrcat(iter, SESSION_KEY_PREFIX, id, NULL),
                                       cache_key) == 0)
            sealed = session_seal(iter, &key, cache_key, sizeof cache_key, value, strlen(value),
                                  &sealed_len);
        if (sealed == NULL) {
            fprintf(stderr, "mksessions: session %ld could not be encoded or sealed\n", i);
            return 1;
        }
        char key_hex[2 * SESSION_CACHE_KEY_BYTES + 1];
        hex(key_hex, cache_key, sizeof cache_key);
        const char *name = apr_pstrcat(iter, CACHE_NAMESPACE ":", key_hex, NULL);
        const char *ttl = apr_ltoa(iter, (long)apr_time_sec(rec.expires - apr_time_now()));
        fputs("*4\r\n", stdout);
        bulk(stdout, "SETEX", 5);
        bulk(stdout, name, strlen(name));
        bulk(stdout, ttl, strlen(ttl));
        bulk(stdout, sealed, sealed_len);
        fprintf(cookies, "%s%s=%s\n", SESSION_COOKIE_PREFIX, org, id);
    }
    int failed = fflush(stdout) != 0 || ferror(stdout);
    failed = fclose(cookies) != 0 || failed;
    if (failed) {
        fprintf(stderr, "mksessions: write failed\n");
        return 1;
    }
    fprintf(stderr, "mksessions: %ld sessions in %.2f s of CPU\n", count,
            (double)(clock() - cpu0) / CLOCKS_PER_SEC);
    apr_pool_destroy(p);
    apr_terminate();
    return 0;
}
