#include <apr_atomic.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_rwlock.h>
#include "org_cache.h"

struct org_cache {
    apr_hash_t *orgs; /* slug -> org_cache_entry, each holding the table's reference */
    apr_thread_rwlock_t *lock;
    int capacity;
};

/* At the pool's cleanup: the table goes with the pool, its references with it. */
static apr_status_t release_all(void *data)
{
    org_cache *c = data;
    for (apr_hash_index_t *hi = apr_hash_first(NULL, c->orgs); hi; hi = apr_hash_next(hi))
        org_cache_release(apr_hash_this_val(hi));
    return APR_SUCCESS;
}

org_cache *org_cache_create(apr_pool_t *p, int capacity)
{
    org_cache *c = apr_pcalloc(p, sizeof(*c));
    c->orgs = apr_hash_make(p);
    c->capacity = capacity > 0 ? capacity : 1;
    if (apr_thread_rwlock_create(&c->lock, p) != APR_SUCCESS)
        return NULL;
    apr_pool_cleanup_register(p, c, release_all, apr_pool_cleanup_null);
    return c;
}

org_cache_entry *org_cache_entry_new(const char *slug, apr_int64_t version)
{
    apr_pool_t *pool;
    if (apr_pool_create_unmanaged_ex(&pool, NULL, NULL) != APR_SUCCESS)
        return NULL;
    org_cache_entry *e = apr_pcalloc(pool, sizeof(*e));
    e->pool = pool;
    e->slug = apr_pstrdup(pool, slug);
    e->version = version;
    e->refs = 1;
    return e;
}

void org_cache_release(org_cache_entry *e)
{
    if (apr_atomic_dec32(&e->refs) == 0)
        apr_pool_destroy(e->pool);
}

org_cache_entry *org_cache_get(org_cache *c, const char *slug, apr_time_t now)
{
    apr_thread_rwlock_rdlock(c->lock);
    org_cache_entry *e = apr_hash_get(c->orgs, slug, APR_HASH_KEY_STRING);
    if (e)
        apr_atomic_inc32(&e->refs);
    apr_thread_rwlock_unlock(c->lock);
    if (e)
        apr_atomic_set64(&e->used, (apr_uint64_t)now);
    return e;
}

/* Under the write lock, the table full: the least recently used entry, taken out. */
static org_cache_entry *evict_oldest(org_cache *c)
{
    org_cache_entry *oldest = NULL;
    apr_uint64_t oldest_used = 0;
    for (apr_hash_index_t *hi = apr_hash_first(NULL, c->orgs); hi; hi = apr_hash_next(hi)) {
        org_cache_entry *x = apr_hash_this_val(hi);
        apr_uint64_t used = apr_atomic_read64(&x->used);
        if (oldest == NULL || used < oldest_used) {
            oldest = x;
            oldest_used = used;
        }
    }
    if (oldest)
        apr_hash_set(c->orgs, oldest->slug, APR_HASH_KEY_STRING, NULL);
    return oldest;
}

org_cache_entry *org_cache_install(org_cache *c, org_cache_entry *e, org_cache_entry *old,
                                   apr_time_t now)
{
    org_cache_entry *evicted = NULL;
    /* before it is in the table, or a concurrent eviction could take it for the oldest */
    apr_atomic_set64(&e->used, (apr_uint64_t)now);
    apr_thread_rwlock_wrlock(c->lock);
    org_cache_entry *current = apr_hash_get(c->orgs, e->slug, APR_HASH_KEY_STRING);
    if (current && current != old) {
        /* another thread got there first: keep its entry */
        apr_atomic_inc32(&current->refs);
        apr_thread_rwlock_unlock(c->lock);
        org_cache_release(e);
        return current;
    }
    if (current == NULL && (int)apr_hash_count(c->orgs) >= c->capacity)
        evicted = evict_oldest(c);
    /* Removed first: apr_hash_set keeps an existing entry's key, which points into the entry
     * being replaced (freed once its last holder lets go). */
    apr_hash_set(c->orgs, e->slug, APR_HASH_KEY_STRING, NULL);
    apr_hash_set(c->orgs, e->slug, APR_HASH_KEY_STRING, e);
    apr_atomic_inc32(&e->refs); /* the table's; the caller keeps its own */
    apr_thread_rwlock_unlock(c->lock);
    if (current)
        org_cache_release(current); /* the table's; holders still using it have their own */
    if (evicted)
        org_cache_release(evicted);
    return e;
}

void org_cache_remove(org_cache *c, org_cache_entry *e)
{
    apr_thread_rwlock_wrlock(c->lock);
    int present = apr_hash_get(c->orgs, e->slug, APR_HASH_KEY_STRING) == e;
    if (present)
        apr_hash_set(c->orgs, e->slug, APR_HASH_KEY_STRING, NULL);
    apr_thread_rwlock_unlock(c->lock);
    if (present)
        org_cache_release(e);
}

int org_cache_refresh_due(const org_cache_entry *e, apr_uint64_t registry, apr_time_t now,
                          apr_interval_time_t retry)
{
    if (apr_atomic_read64((volatile apr_uint64_t *)&e->confirmed) == registry)
        return 0;
    apr_time_t failed = (apr_time_t)apr_atomic_read64((volatile apr_uint64_t *)&e->failed);
    return failed == 0 || now - failed >= retry;
}

int org_cache_begin_refresh(org_cache_entry *e)
{
    return apr_atomic_cas32(&e->refreshing, 1, 0) == 0;
}

void org_cache_end_refresh(org_cache_entry *e, int ok, apr_uint64_t registry, apr_time_t now)
{
    if (ok) {
        apr_atomic_set64(&e->failed, 0);
        apr_atomic_set64(&e->confirmed, registry);
    } else {
        apr_atomic_set64(&e->failed, (apr_uint64_t)now);
    }
    apr_atomic_set32(&e->refreshing, 0);
}

int org_cache_count(org_cache *c)
{
    apr_thread_rwlock_rdlock(c->lock);
    int n = (int)apr_hash_count(c->orgs);
    apr_thread_rwlock_unlock(c->lock);
    return n;
}
