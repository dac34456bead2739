#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <pthread.h>
#include <stdlib.h>
#include "unit.h"
#include <apr_strings.h>
#include "session_seal.h"

static session_seal_key key_from(const char *material)
{
    session_seal_key k;
    if (session_seal_key_derive(material, strlen(material), &k) != NULL)
        abort();
    return k;
}

#define MATERIAL_A "0123456789abcdef0123456789abcdef-a"
#define MATERIAL_B "0123456789abcdef0123456789abcdef-b"

static void test_seal_round_trips(apr_pool_t *p)
{
    session_seal_key k = key_from(MATERIAL_A);
    apr_size_t n = 0, m = 0;
    unsigned char *sealed = session_seal(p, &k, "cs:key1", 7, "{\"user\":\"a\"}", 12, &n);
    CHECK(sealed != NULL);
    CHECK_INT(n, 12 + SESSION_SEAL_OVERHEAD);
    CHECK(memmem(sealed, n, "user", 4) == NULL); /* encrypted, not just signed */
    CHECK_STR(session_open(p, &k, "cs:key1", 7, sealed, n, &m), "{\"user\":\"a\"}");
    CHECK_INT(m, 12);
}

static void test_seal_uses_a_fresh_nonce_each_time(apr_pool_t *p)
{
    session_seal_key k = key_from(MATERIAL_A);
    apr_size_t n1, n2;
    unsigned char *a = session_seal(p, &k, "k", 1, "same", 4, &n1);
    unsigned char *b = session_seal(p, &k, "k", 1, "same", 4, &n2);
    CHECK(a && b && n1 == n2 && memcmp(a, b, n1) != 0);
}

static void test_open_refuses_tampered_moved_and_foreign_values(apr_pool_t *p)
{
    session_seal_key k = key_from(MATERIAL_A), other = key_from(MATERIAL_B);
    apr_size_t n, m;
    unsigned char *sealed = session_seal(p, &k, "cs:key1", 7, "secret-session", 14, &n);
    CHECK(session_open(p, &k, "cs:key2", 7, sealed, n, &m) == NULL);      /* moved */
    CHECK(session_open(p, &other, "cs:key1", 7, sealed, n, &m) == NULL);  /* other server key */
    for (apr_size_t i = 0; i < n; i++) {                               /* any bit */
        sealed[i] ^= 0x40;
        CHECK(session_open(p, &k, "cs:key1", 7, sealed, n, &m) == NULL);
        sealed[i] ^= 0x40;
    }
    CHECK(session_open(p, &k, "cs:key1", 7, sealed, n - 1, &m) == NULL);  /* cut */
    CHECK(session_open(p, &k, "cs:key1", 7, (const unsigned char *)"{\"org\":\"acme\"}", 14, &m)
          == NULL);                                                    /* plain JSON */
    CHECK(session_open(p, &k, "cs:key1", 7, NULL, 0, &m) == NULL);
    CHECK_STR(session_open(p, &k, "cs:key1", 7, sealed, n, &m), "secret-session");
}

/* Each thread keeps keyed contexts: threads working at once, switching keys, must each get
 * their own values back and never open the other key's. */
static void *seal_and_open_many(void *failures)
{
    apr_pool_t *p;
    apr_pool_create(&p, NULL);
    session_seal_key a = key_from(MATERIAL_A), b = key_from(MATERIAL_B);
    for (int i = 0; i < 2000; i++) {
        const session_seal_key *k = i % 3 ? &a : &b, *other = i % 3 ? &b : &a;
        char *text = apr_psprintf(p, "value %d", i);
        apr_size_t n, m;
        unsigned char *sealed = session_seal(p, k, "k", 1, text, strlen(text), &n);
        const char *back = sealed ? session_open(p, k, "k", 1, sealed, n, &m) : NULL;
        if (back == NULL || strcmp(back, text) != 0
            || session_open(p, other, "k", 1, sealed, n, &m) != NULL)
            ++*(int *)failures;
    }
    apr_pool_destroy(p);
    return NULL;
}

static void test_threads_seal_and_open_with_several_keys(apr_pool_t *p)
{
    pthread_t threads[4];
    int failures[4] = {0};
    for (int i = 0; i < 4; i++)
        CHECK_INT(pthread_create(&threads[i], NULL, seal_and_open_many, &failures[i]), 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        CHECK_INT(failures[i], 0);
    }
}

static void test_key_material_must_be_long_enough(apr_pool_t *p)
{
    session_seal_key k;
    CHECK(session_seal_key_derive("short", 5, &k) != NULL);
    CHECK(session_seal_key_derive("0123456789abcdef0123456789abcde\n", 32, &k) != NULL);
    CHECK(session_seal_key_derive(MATERIAL_A, strlen(MATERIAL_A), &k) == NULL);
    session_seal_key r1, r2;
    CHECK(session_seal_key_random(&r1) == 0 && session_seal_key_random(&r2) == 0);
    CHECK(memcmp(r1.bytes, r2.bytes, sizeof r1.bytes) != 0);
}

static const unit_case cases[] = {
    UNIT(test_seal_round_trips),
    UNIT(test_seal_uses_a_fresh_nonce_each_time),
    UNIT(test_open_refuses_tampered_moved_and_foreign_values),
    UNIT(test_key_material_must_be_long_enough),
    UNIT(test_threads_seal_and_open_with_several_keys),
    UNIT_END
};

int main(void) { return unit_run("session_seal", cases); }
