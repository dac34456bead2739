/* The socache behind sessions, pending logins and the assertion replay cache. */
#include <apr_strings.h>
#include <apr_global_mutex.h>
#include <util_mutex.h>
#include <ap_provider.h>
#include "mod_saml.h"

#define MUTEX_TYPE "cloudsmith-saml-cache"
#define MAX_VALUE_BYTES (64 * 1024)

static struct {
    const ap_socache_provider_t *provider;
    ap_socache_instance_t *instance;
    apr_global_mutex_t *mutex; /* serialises check-then-write steps, and any non-MT provider */
    server_rec *server;
} cache;

int cs_cache_pre_config(apr_pool_t *pconf)
{
    memset(&cache, 0, sizeof(cache));
    return ap_mutex_register(pconf, MUTEX_TYPE, NULL, APR_LOCK_DEFAULT, 0);
}

static apr_status_t destroy_cache(void *data)
{
    if (cache.provider && cache.instance)
        cache.provider->destroy(cache.instance, cache.server);
    cache.instance = NULL;
    return APR_SUCCESS;
}

int cs_cache_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s, const char *spec)
{
    const char *colon = strchr(spec, ':');
    const char *name = colon ? apr_pstrndup(ptemp, spec, colon - spec) : spec;
    const char *args = colon ? colon + 1 : NULL;
    cache.server = s;
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
    apr_status_t rv = ap_global_mutex_create(&cache.mutex, NULL, MUTEX_TYPE, NULL, s, pconf, 0);
    if (rv != APR_SUCCESS)
        return HTTP_INTERNAL_SERVER_ERROR;
    struct ap_socache_hints hints = {.avg_id_len = 72, .avg_obj_size = 1024,
                                     .expiry_interval = apr_time_from_sec(30)};
    rv = cache.provider->init(cache.instance, "cloudsmith-saml", &hints, s, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, APLOGNO(10512)
                     "session cache '%s': initialisation failed", spec);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_pool_cleanup_register(pconf, NULL, destroy_cache, apr_pool_cleanup_null);
    return OK;
}

void cs_cache_child_init(apr_pool_t *p, server_rec *s)
{
    if (cache.mutex)
        apr_global_mutex_child_init(&cache.mutex, apr_global_mutex_lockfile(cache.mutex), p);
}

static int provider_needs_lock(void)
{
    return cache.provider->flags & AP_SOCACHE_FLAG_NOTMPSAFE;
}

static apr_status_t lock(int needed)
{
    return needed && cache.mutex ? apr_global_mutex_lock(cache.mutex) : APR_SUCCESS;
}

static void unlock(int needed)
{
    if (needed && cache.mutex)
        apr_global_mutex_unlock(cache.mutex);
}

static apr_status_t store_unlocked(request_rec *r, const char *key, const char *value,
                                   apr_time_t expiry)
{
    return cache.provider->store(cache.instance, r->server, (const unsigned char *)key,
                                 strlen(key), expiry, (unsigned char *)value, strlen(value),
                                 r->pool);
}

static apr_status_t get_unlocked(request_rec *r, const char *key, char **value, apr_size_t *len)
{
    unsigned char *buf = apr_palloc(r->pool, MAX_VALUE_BYTES + 1);
    unsigned int n = MAX_VALUE_BYTES;
    apr_status_t rv = cache.provider->retrieve(cache.instance, r->server,
                                               (const unsigned char *)key, strlen(key), buf, &n,
                                               r->pool);
    if (rv != APR_SUCCESS)
        return rv;
    buf[n] = '\0';
    *value = (char *)buf;
    *len = n;
    return APR_SUCCESS;
}

apr_status_t cs_cache_store(request_rec *r, const char *key, const char *value,
                            apr_time_t expiry)
{
    int locked = provider_needs_lock();
    apr_status_t rv = lock(locked);
    if (rv != APR_SUCCESS)
        return rv;
    rv = store_unlocked(r, key, value, expiry);
    unlock(locked);
    return rv;
}

apr_status_t cs_cache_get(request_rec *r, const char *key, char **value, apr_size_t *len)
{
    int locked = provider_needs_lock();
    apr_status_t rv = lock(locked);
    if (rv != APR_SUCCESS)
        return rv;
    rv = get_unlocked(r, key, value, len);
    unlock(locked);
    return rv;
}

apr_status_t cs_cache_remove(request_rec *r, const char *key)
{
    int locked = provider_needs_lock();
    apr_status_t rv = lock(locked);
    if (rv != APR_SUCCESS)
        return rv;
    rv = cache.provider->remove(cache.instance, r->server, (const unsigned char *)key,
                                strlen(key), r->pool);
    unlock(locked);
    return rv == APR_NOTFOUND ? APR_SUCCESS : rv;
}

apr_status_t cs_cache_take(request_rec *r, const char *key, char **value, apr_size_t *len)
{
    apr_status_t rv = lock(1);
    if (rv != APR_SUCCESS)
        return rv;
    rv = get_unlocked(r, key, value, len);
    if (rv == APR_SUCCESS)
        cache.provider->remove(cache.instance, r->server, (const unsigned char *)key,
                               strlen(key), r->pool);
    unlock(1);
    return rv;
}

apr_status_t cs_cache_add_once(request_rec *r, const char *key, const char *value,
                               apr_time_t expiry)
{
    apr_status_t rv = lock(1);
    if (rv != APR_SUCCESS)
        return rv;
    char *existing;
    apr_size_t len;
    rv = get_unlocked(r, key, &existing, &len);
    if (rv == APR_SUCCESS)
        rv = APR_EEXIST;
    else if (rv == APR_NOTFOUND)
        rv = store_unlocked(r, key, value, expiry);
    unlock(1);
    return rv;
}
