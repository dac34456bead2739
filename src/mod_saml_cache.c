/* The socache behind sessions, pending logins and the assertion replay cache. Keys are hashed
 * (any provider accepts them, whatever an attacker put in an assertion ID) and values sealed
 * (session_seal.h), so a shared cache's users can neither read nor forge entries. */
#include <apr_file_io.h>
#include <apr_strings.h>
#include <apr_atomic.h>
#include <ap_provider.h>
#include "mod_saml.h"
#include "shared_lock.h"
#include "session_id.h"
#include "session_seal.h"

#define MAX_VALUE_BYTES (64 * 1024)
/* Eviction canaries: one small entry per possible first key byte, so one lives in each shmcb
 * sub-cache (it picks them by that byte). A canary that this process saw is gone before its
 * expiry only when its sub-cache was full and shmcb scrolled its oldest entries out. Each is
 * moved to the back of its queue at most once a second, so it never sits at the front, where
 * it would keep expired entries behind it from being reclaimed. */
#define CANARY_COUNT 256
#define CANARY_TAG "cloudsmith-saml-evict-canary-v1" /* 31 bytes: a key is 32 */
#define CANARY_TTL apr_time_from_sec(24 * 3600)
#define CANARY_REFRESH apr_time_from_sec(1)
#define EVICTION_WARN_INTERVAL apr_time_from_sec(300)

static struct {
    const ap_socache_provider_t *provider;
    ap_socache_instance_t *instance;
    shared_lock *lock; /* serialises check-then-write steps, and any non-MT provider */
    server_rec *server;
    session_seal_key key;
    const char *spec;
    int server_local;
    volatile apr_uint64_t canary_seen[CANARY_COUNT]; /* this process: when each was seen */
    volatile apr_uint64_t eviction_warned;
    volatile apr_uint32_t evictions;                  /* seen since the last warning */
} cache;

int cs_cache_pre_config(apr_pool_t *pconf)
{
    (void)pconf;
    memset(&cache, 0, sizeof(cache));
    return OK;
}

static apr_status_t unmap_lock(void *lock)
{
    shared_lock_unmap(lock);
    if (cache.lock == lock)
        cache.lock = NULL;
    return APR_SUCCESS;
}

static apr_status_t destroy_cache(void *data)
{
    if (cache.provider && cache.instance)
        cache.provider->destroy(cache.instance, cache.server);
    cache.instance = NULL;
    return APR_SUCCESS;
}

/* shmcb and shmht live in this server's shared memory; the others (memcache, redis...) may
 * be shared with other servers. */
static int is_server_local(const char *provider_name)
{
    return strcmp(provider_name, "shmcb") == 0 || strcmp(provider_name, "shmht") == 0;
}

int cs_cache_is_server_local(void)
{
    return cache.server_local;
}

/* Caches only this server sees may use a key made at startup; a shared one needs the same
 * key file on every server, or one server's sessions would not open on the next. */
static int load_key(apr_pool_t *ptemp, server_rec *s, const char *provider_name,
                    const char *key_file)
{
    if (key_file == NULL) {
        if (!is_server_local(provider_name)) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, APLOGNO(10513)
                         "CloudsmithSAMLSessionCache %s is shared between servers: set "
                         "CloudsmithSAMLSessionKeyFile (the same secret on every server)",
                         provider_name);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        return session_seal_key_random(&cache.key) == 0 ? OK : HTTP_INTERNAL_SERVER_ERROR;
    }
    char *material = NULL;
    apr_size_t len = 0;
    apr_file_t *f;
    apr_finfo_t fi;
    apr_status_t rv = apr_file_open(&f, key_file, APR_FOPEN_READ | APR_FOPEN_BINARY, 0, ptemp);
    if (rv == APR_SUCCESS && (rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f)) == APR_SUCCESS) {
        len = (apr_size_t)fi.size;
        material = apr_palloc(ptemp, len + 1);
        rv = len ? apr_file_read_full(f, material, len, &len) : APR_SUCCESS;
    }
    if (rv == APR_SUCCESS)
        apr_file_close(f);
    const char *why = rv != APR_SUCCESS ? "cannot be read"
                      : session_seal_key_derive(material, len, &cache.key);
    if (material)
        memset(material, 0, len);
    if (why) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, APLOGNO(10514)
                     "CloudsmithSAMLSessionKeyFile %s: %s", key_file, why);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

int cs_cache_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s, const char *spec,
                         const char *key_file)
{
    const char *colon = strchr(spec, ':');
    const char *name = colon ? apr_pstrndup(ptemp, spec, colon - spec) : spec;
    const char *args = colon ? colon + 1 : NULL;
    if (load_key(ptemp, s, name, key_file) != OK)
        return HTTP_INTERNAL_SERVER_ERROR;
    cache.server = s;
    cache.spec = apr_pstrdup(pconf, spec);
    cache.server_local = is_server_local(name);
    cache.provider = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name,
                                        AP_SOCACHE_PROVIDER_VERSION);
    if (cache.provider == NULL) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, APLOGNO(10510)
                     "session cache: socache provider '%s' not found (load mod_socache_%s)",
                     name, name);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    const char *err = cache.provider->create(&cache.instance, args, ptemp, pconf);
    if (err) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, APLOGNO(10511)
                     "session cache '%s': %s", spec, err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    const char *why = shared_lock_create(&cache.lock);
    if (why) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, APLOGNO(10517)
                     "session cache '%s': cannot make its lock: %s", spec, why);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_pool_cleanup_register(pconf, cache.lock, unmap_lock, apr_pool_cleanup_null);
    struct ap_socache_hints hints = {.avg_id_len = SESSION_CACHE_KEY_BYTES, .avg_obj_size = 1024,
                                     .expiry_interval = apr_time_from_sec(30)};
    apr_status_t rv = cache.provider->init(cache.instance, "cloudsmith-saml", &hints, s, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, APLOGNO(10512)
                     "session cache '%s': initialisation failed", spec);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_pool_cleanup_register(pconf, NULL, destroy_cache, apr_pool_cleanup_null);
    return OK;
}

static int provider_needs_lock(void)
{
    return cache.provider->flags & AP_SOCACHE_FLAG_NOTMPSAFE;
}

static apr_status_t lock(int needed)
{
    if (!needed || cache.lock == NULL)
        return APR_SUCCESS;
    int owner_died = 0;
    int rc = shared_lock_acquire(cache.lock, &owner_died);
    if (owner_died)
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, cache.server, APLOGNO(10518)
                     "session cache '%s': a process died holding its lock; going on (an "
                     "entry it was writing may be lost)", cache.spec);
    return rc == 0 ? APR_SUCCESS : APR_FROM_OS_ERROR(rc);
}

static void unlock(int needed)
{
    if (needed && cache.lock)
        shared_lock_release(cache.lock);
}

typedef struct {
    unsigned char bytes[SESSION_CACHE_KEY_BYTES];
} cache_key;

static apr_status_t make_key(const char *logical_key, cache_key *k)
{
    return session_cache_key(logical_key, k->bytes) == 0 ? APR_SUCCESS : APR_EGENERAL;
}

static void canary_key(unsigned char first_byte, cache_key *k)
{
    k->bytes[0] = first_byte;
    memcpy(k->bytes + 1, CANARY_TAG, sizeof k->bytes - 1);
}

static void plant_canary(request_rec *r, unsigned char first_byte, apr_time_t now)
{
    cache_key k;
    canary_key(first_byte, &k);
    unsigned char value = 1;
    if (cache.provider->store(cache.instance, r->server, k.bytes, sizeof k.bytes,
                              now + CANARY_TTL, &value, 1, r->pool) == APR_SUCCESS)
        apr_atomic_set64(&cache.canary_seen[first_byte], (apr_uint64_t)now);
}

/* Called before each store, with the key about to be written: looks at the canary of the
 * sub-cache that store may make room in. Logs at most one warning per process every
 * EVICTION_WARN_INTERVAL. */
static void check_canary(request_rec *r, const cache_key *about_to_store)
{
    unsigned char b = about_to_store->bytes[0];
    apr_time_t now = apr_time_now();
    apr_time_t seen = (apr_time_t)apr_atomic_read64(&cache.canary_seen[b]);
    if (seen && now - seen < CANARY_REFRESH)
        return;
    cache_key k;
    canary_key(b, &k);
    unsigned char value[8];
    unsigned int n = sizeof value;
    apr_status_t rv = cache.provider->retrieve(cache.instance, r->server, k.bytes,
                                               sizeof k.bytes, value, &n, r->pool);
    if (rv == APR_NOTFOUND && seen && now - seen < CANARY_TTL) {
        apr_uint32_t evictions = apr_atomic_inc32(&cache.evictions) + 1;
        apr_uint64_t warned = apr_atomic_read64(&cache.eviction_warned);
        if (now - (apr_time_t)warned >= EVICTION_WARN_INTERVAL
            && apr_atomic_cas64(&cache.eviction_warned, (apr_uint64_t)now, warned) == warned) {
            apr_atomic_set32(&cache.evictions, 0);
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, APLOGNO(10516)
                          "session cache %s is full: it evicted entries before they expired "
                          "(%u time(s) seen since the last warning), so the oldest sessions "
                          "end early and their users must sign in again. Give it more room "
                          "(shmcb:PATH(BYTES)). Next warning in %d s at the earliest.",
                          cache.spec, evictions, (int)apr_time_sec(EVICTION_WARN_INTERVAL));
        }
    }
    if (rv == APR_SUCCESS || rv == APR_NOTFOUND)
        plant_canary(r, b, now);
}

/* A value sealed for its key, ready to store: made before taking the lock, so the lock
 * covers the cache operation alone. */
typedef struct {
    cache_key k;
    unsigned char *sealed;
    apr_size_t n;
} sealed_entry;

static apr_status_t seal_entry(request_rec *r, const char *key, const char *value,
                               sealed_entry *e)
{
    if (make_key(key, &e->k) != APR_SUCCESS)
        return APR_EGENERAL;
    e->sealed = session_seal(r->pool, &cache.key, e->k.bytes, sizeof e->k.bytes, value,
                             strlen(value), &e->n);
    return e->sealed && e->n <= MAX_VALUE_BYTES ? APR_SUCCESS : APR_EGENERAL;
}

static apr_status_t store_unlocked(request_rec *r, const sealed_entry *e, apr_time_t expiry)
{
    check_canary(r, &e->k);
    return cache.provider->store(cache.instance, r->server, e->k.bytes, sizeof e->k.bytes,
                                 expiry, e->sealed, (unsigned int)e->n, r->pool);
}

static apr_status_t fetch_unlocked(request_rec *r, const cache_key *k, unsigned char **buf,
                                   unsigned int *n)
{
    *buf = apr_palloc(r->pool, MAX_VALUE_BYTES);
    *n = MAX_VALUE_BYTES;
    return cache.provider->retrieve(cache.instance, r->server, k->bytes, sizeof k->bytes, *buf,
                                    n, r->pool);
}

/* A value that does not open (tampered, written with another key, moved from another key) is
 * logged and treated as absent. */
static apr_status_t open_entry(request_rec *r, const cache_key *k, const unsigned char *buf,
                               unsigned int n, char **value, apr_size_t *len)
{
    *value = session_open(r->pool, &cache.key, k->bytes, sizeof k->bytes, buf, n, len);
    if (*value == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, APLOGNO(10515)
                      "session cache: an entry failed its integrity check (tampered, or "
                      "written with another CloudsmithSAMLSessionKeyFile): ignored");
        return APR_NOTFOUND;
    }
    return APR_SUCCESS;
}

apr_status_t cs_cache_store(request_rec *r, const char *key, const char *value,
                            apr_time_t expiry)
{
    sealed_entry e;
    apr_status_t rv = seal_entry(r, key, value, &e);
    int locked = provider_needs_lock();
    if (rv == APR_SUCCESS && (rv = lock(locked)) == APR_SUCCESS) {
        rv = store_unlocked(r, &e, expiry);
        unlock(locked);
    }
    return rv;
}

apr_status_t cs_cache_get(request_rec *r, const char *key, char **value, apr_size_t *len)
{
    cache_key k;
    unsigned char *buf;
    unsigned int n;
    apr_status_t rv = make_key(key, &k);
    int locked = provider_needs_lock();
    if (rv == APR_SUCCESS && (rv = lock(locked)) == APR_SUCCESS) {
        rv = fetch_unlocked(r, &k, &buf, &n);
        unlock(locked);
    }
    return rv == APR_SUCCESS ? open_entry(r, &k, buf, n, value, len) : rv;
}

apr_status_t cs_cache_remove(request_rec *r, const char *key)
{
    cache_key k;
    apr_status_t rv = make_key(key, &k);
    int locked = provider_needs_lock();
    if (rv == APR_SUCCESS && (rv = lock(locked)) == APR_SUCCESS) {
        rv = cache.provider->remove(cache.instance, r->server, k.bytes, sizeof k.bytes,
                                    r->pool);
        unlock(locked);
    }
    return rv == APR_NOTFOUND ? APR_SUCCESS : rv;
}

apr_status_t cs_cache_take(request_rec *r, const char *key, char **value, apr_size_t *len)
{
    cache_key k;
    unsigned char *buf;
    unsigned int n;
    apr_status_t rv = make_key(key, &k);
    if (rv == APR_SUCCESS && (rv = lock(1)) == APR_SUCCESS) {
        rv = fetch_unlocked(r, &k, &buf, &n);
        if (rv == APR_SUCCESS)
            cache.provider->remove(cache.instance, r->server, k.bytes, sizeof k.bytes, r->pool);
        unlock(1);
    }
    return rv == APR_SUCCESS ? open_entry(r, &k, buf, n, value, len) : rv;
}

apr_status_t cs_cache_add_once(request_rec *r, const char *key, const char *value,
                               apr_time_t expiry)
{
    sealed_entry e;
    unsigned char *buf;
    unsigned int n;
    char *existing;
    apr_size_t len;
    apr_status_t rv = seal_entry(r, key, value, &e);
    if (rv == APR_SUCCESS && (rv = lock(1)) == APR_SUCCESS) {
        rv = fetch_unlocked(r, &e.k, &buf, &n);
        /* present only if it opens: a planted or damaged entry does not block the real one */
        if (rv == APR_SUCCESS)
            rv = open_entry(r, &e.k, buf, n, &existing, &len) == APR_SUCCESS ? APR_EEXIST
                                                                             : APR_NOTFOUND;
        if (rv == APR_NOTFOUND)
            rv = store_unlocked(r, &e, expiry);
        unlock(1);
    }
    return rv;
}
