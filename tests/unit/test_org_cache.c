/* org_cache: references, replacement, least-recently-used eviction, refresh bookkeeping. */
#include <pthread.h>
#include <apr_atomic.h>
#include <apr_strings.h>
#include "org_cache.h"
#include "unit.h"

/* Each entry's pool records its own destruction here, so tests see when an entry is freed. */
static int destroyed[16];

static apr_status_t note_destroyed(void *data)
{
    destroyed[(int)(apr_uintptr_t)data]++;
    return APR_SUCCESS;
}

static org_cache_entry *entry(const char *slug, apr_int64_t version, int tag)
{
    org_cache_entry *e = org_cache_entry_new(slug, version);
    apr_pool_cleanup_register(e->pool, (void *)(apr_uintptr_t)tag, note_destroyed,
                              apr_pool_cleanup_null);
    return e;
}

static void reset(void)
{
    memset(destroyed, 0, sizeof destroyed);
}

static void test_get_returns_what_was_installed_with_a_reference(apr_pool_t *p)
{
    reset();
    org_cache *c = org_cache_create(p, 4);
    CHECK(org_cache_get(c, "acme", 1) == NULL);
    org_cache_entry *e = org_cache_install(c, entry("acme", 7, 0), NULL, 1);
    CHECK_STR(e->slug, "acme");
    CHECK_INT(e->version, 7);
    CHECK_INT(e->refs, 2); /* the table's and the installer's */
    org_cache_entry *again = org_cache_get(c, "acme", 2);
    CHECK(again == e);
    CHECK_INT(e->refs, 3);
    org_cache_release(again);
    org_cache_release(e);
    CHECK_INT(destroyed[0], 0); /* the table still holds it */
    CHECK_INT(org_cache_count(c), 1);
}

/* A holder keeps a replaced entry alive until it lets go; the table then has the new one. */
static void test_a_replaced_entry_lives_until_its_last_holder_lets_go(apr_pool_t *p)
{
    reset();
    org_cache *c = org_cache_create(p, 4);
    org_cache_entry *old = org_cache_install(c, entry("acme", 1, 0), NULL, 1);
    org_cache_entry *fresh = org_cache_install(c, entry("acme", 2, 1), old, 2);
    CHECK_INT(destroyed[0], 0);
    CHECK_STR(old->slug, "acme"); /* still readable by its holder */
    org_cache_release(old);
    CHECK_INT(destroyed[0], 1);
    org_cache_entry *now = org_cache_get(c, "acme", 3);
    CHECK(now == fresh);
    CHECK_INT(now->version, 2);
    org_cache_release(now);
    org_cache_release(fresh);
    CHECK_INT(org_cache_count(c), 1);
}

/* Two requests built the same org at once: the second install keeps the first's entry and
 * frees its own. */
static void test_a_racing_install_keeps_the_first_entry(apr_pool_t *p)
{
    reset();
    org_cache *c = org_cache_create(p, 4);
    org_cache_entry *first = org_cache_install(c, entry("acme", 1, 0), NULL, 1);
    org_cache_entry *second = org_cache_install(c, entry("acme", 1, 1), NULL, 1);
    CHECK(second == first);
    CHECK_INT(destroyed[1], 1);
    CHECK_INT(destroyed[0], 0);
    org_cache_release(first);
    org_cache_release(second);
    CHECK_INT(org_cache_count(c), 1);
}

/* Full: a new org drops the least recently used one (used: installed or got), not the
 * oldest installed. */
static void test_a_full_table_drops_the_least_recently_used(apr_pool_t *p)
{
    reset();
    org_cache *c = org_cache_create(p, 3);
    const char *slugs[] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++)
        org_cache_release(org_cache_install(c, entry(slugs[i], 1, i), NULL, 10 + i));
    org_cache_release(org_cache_get(c, "a", 20)); /* "b" is now the least recently used */
    org_cache_release(org_cache_install(c, entry("d", 1, 3), NULL, 21));
    CHECK_INT(org_cache_count(c), 3);
    CHECK_INT(destroyed[1], 1);
    org_cache_entry *b = org_cache_get(c, "b", 22);
    CHECK(b == NULL);
    for (int i = 0; i < 3; i++) {
        org_cache_entry *e = org_cache_get(c, (const char *[]){"a", "c", "d"}[i], 23);
        CHECK(e != NULL);
        if (e)
            org_cache_release(e);
    }
    /* replacing an org already in the table evicts nothing */
    org_cache_entry *a = org_cache_get(c, "a", 24);
    CHECK(a != NULL);
    if (a == NULL)
        return;
    org_cache_release(org_cache_install(c, entry("a", 2, 4), a, 25));
    org_cache_release(a);
    CHECK_INT(org_cache_count(c), 3);
    CHECK_INT(destroyed[2] + destroyed[3], 0);
}

static void test_remove_takes_only_the_entry_still_in_the_table(apr_pool_t *p)
{
    reset();
    org_cache *c = org_cache_create(p, 4);
    org_cache_entry *old = org_cache_install(c, entry("acme", 1, 0), NULL, 1);
    org_cache_entry *fresh = org_cache_install(c, entry("acme", 2, 1), old, 2);
    org_cache_remove(c, old); /* already replaced: the new one stays */
    CHECK_INT(org_cache_count(c), 1);
    org_cache_remove(c, fresh);
    CHECK_INT(org_cache_count(c), 0);
    CHECK_INT(destroyed[1], 0); /* its holder still has it */
    org_cache_release(fresh);
    CHECK_INT(destroyed[1], 1);
    org_cache_release(old);
    CHECK_INT(destroyed[0], 1);
}

static void test_refresh_due_when_the_registry_moved_and_retry_after_a_failure(apr_pool_t *p)
{
    org_cache_entry *e = org_cache_entry_new("acme", 1);
    apr_interval_time_t retry = 5;
    e->confirmed = 10;
    CHECK(!org_cache_refresh_due(e, 10, 100, retry));
    CHECK(org_cache_refresh_due(e, 11, 100, retry));
    CHECK_INT(org_cache_begin_refresh(e), 1);
    CHECK_INT(org_cache_begin_refresh(e), 0); /* one at a time */
    org_cache_end_refresh(e, 0, 11, 100);     /* the database did not answer */
    CHECK(!org_cache_refresh_due(e, 11, 104, retry));
    CHECK(org_cache_refresh_due(e, 11, 105, retry));
    CHECK_INT(org_cache_begin_refresh(e), 1);
    org_cache_end_refresh(e, 1, 11, 105);
    CHECK(!org_cache_refresh_due(e, 11, 106, retry));
    CHECK(org_cache_refresh_due(e, 12, 106, retry)); /* a success clears the failure */
    org_cache_release(e);
    (void)p;
}

/* At the table's pool cleanup (child exit) the table's references go. */
static void test_the_pool_cleanup_releases_the_table(apr_pool_t *p)
{
    reset();
    apr_pool_t *child;
    apr_pool_create(&child, p);
    org_cache *c = org_cache_create(child, 4);
    org_cache_release(org_cache_install(c, entry("a", 1, 0), NULL, 1));
    org_cache_entry *held = org_cache_install(c, entry("b", 1, 1), NULL, 1);
    apr_pool_destroy(child);
    CHECK_INT(destroyed[0], 1);
    CHECK_INT(destroyed[1], 0);
    org_cache_release(held);
    CHECK_INT(destroyed[1], 1);
}

/* Threads getting, replacing and evicting a few orgs in a table too small for them: every
 * entry got is readable, and all are freed at the end (ASan / valgrind watch the rest). */
typedef struct {
    org_cache *c;
    int seed;
} race_arg;

static volatile apr_uint32_t wrong_slug;

static void *race(void *data)
{
    race_arg *a = data;
    const char *slugs[] = {"a", "b", "c", "d", "e"};
    for (int i = 0; i < 20000; i++) {
        const char *slug = slugs[(i * 7 + a->seed) % 5];
        org_cache_entry *e = org_cache_get(a->c, slug, i);
        if (e == NULL || i % 5 == 0) {
            org_cache_entry *fresh = org_cache_install(a->c, org_cache_entry_new(slug, i), e, i);
            if (e)
                org_cache_release(e);
            e = fresh;
        }
        if (strcmp(e->slug, slug) != 0)
            apr_atomic_inc32(&wrong_slug);
        org_cache_release(e);
    }
    return NULL;
}

static void test_threads_share_the_table_safely(apr_pool_t *p)
{
    reset();
    org_cache *c = org_cache_create(p, 3);
    pthread_t t[4];
    race_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (race_arg){c, i};
        pthread_create(&t[i], NULL, race, &args[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    CHECK_INT(wrong_slug, 0);
    CHECK(org_cache_count(c) <= 3);
}

static const unit_case cases[] = {
    UNIT(test_get_returns_what_was_installed_with_a_reference),
    UNIT(test_a_replaced_entry_lives_until_its_last_holder_lets_go),
    UNIT(test_a_racing_install_keeps_the_first_entry),
    UNIT(test_a_full_table_drops_the_least_recently_used),
    UNIT(test_remove_takes_only_the_entry_still_in_the_table),
    UNIT(test_refresh_due_when_the_registry_moved_and_retry_after_a_failure),
    UNIT(test_the_pool_cleanup_releases_the_table),
    UNIT(test_threads_share_the_table_safely),
    UNIT_END
};

int main(void) { return unit_run("org_cache", cases); }
