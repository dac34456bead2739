/* A process's table of the registry orgs it has built, by slug: reference-counted entries,
 * at most `capacity` of them, the least recently used dropped first when a new one comes.
 * An entry owns a pool (the caller builds its org in it) that is destroyed with the entry's
 * last reference, so a request keeps using an org that a refresh replaced or an eviction
 * dropped until it ends. Thread-safe: a read-write lock guards the table, atomics the rest. */
#ifndef CS_ORG_CACHE_H
#define CS_ORG_CACHE_H

#include <apr_pools.h>
#include <apr_time.h>

typedef struct {
    const char *slug;                 /* in pool */
    apr_pool_t *pool;                 /* owns the entry and what the caller built in it */
    void *value;                      /* the caller's: what it built */
    apr_int64_t version;              /* the org's version in the registry it was built from */
    volatile apr_uint32_t refs;       /* the table's own, plus one per holder */
    volatile apr_uint32_t refreshing; /* one holder at a time re-checks the version */
    volatile apr_uint64_t confirmed;  /* the registry version it was last confirmed at */
    volatile apr_uint64_t failed;     /* when its last check could not be made, or 0 */
    volatile apr_uint64_t used;       /* for least-recently-used eviction */
} org_cache_entry;

typedef struct org_cache org_cache;

/* A table of at most capacity (>= 1) orgs, in p; at p's cleanup the table drops its
 * references. NULL when the lock cannot be made. */
org_cache *org_cache_create(apr_pool_t *p, int capacity);

/* A new entry holding one reference (the caller's), not in any table, with its own pool;
 * NULL when out of memory. */
org_cache_entry *org_cache_entry_new(const char *slug, apr_int64_t version);

/* Drops a reference; the last one destroys the entry's pool. */
void org_cache_release(org_cache_entry *e);

/* The entry of slug with a reference for the caller, marked used at now; NULL if absent. */
org_cache_entry *org_cache_get(org_cache *c, const char *slug, apr_time_t now);

/* Puts e (holding the caller's reference) in the table in place of old (NULL: none),
 * dropping the least recently used entry when the table is full. Returns the entry now in the
 * table for that slug with a reference for the caller: e, or the one another thread put there
 * first (e is then released). */
org_cache_entry *org_cache_install(org_cache *c, org_cache_entry *e, org_cache_entry *old,
                                   apr_time_t now);

/* Takes e out of the table if it is still there (the org was deleted). */
void org_cache_remove(org_cache *c, org_cache_entry *e);

/* True when e must ask the registry for its version again: the registry moved since e was
 * last confirmed, and e's last failed check (if any) is at least retry old. */
int org_cache_refresh_due(const org_cache_entry *e, apr_uint64_t registry, apr_time_t now,
                          apr_interval_time_t retry);

/* One holder at a time refreshes an entry: begin returns 1 for the one that should; it then
 * calls end with whether the registry answered (ok) and the registry version checked. */
int org_cache_begin_refresh(org_cache_entry *e);
void org_cache_end_refresh(org_cache_entry *e, int ok, apr_uint64_t registry, apr_time_t now);

/* The number of entries in the table. */
int org_cache_count(org_cache *c);

#endif
