/* Orgs from the registry (CloudsmithSAMLOrgFromPath On): the first path segment names the org,
 * whose settings live in the database (org_store.h). Each process builds an org's SP when a
 * request first needs it, keeps it (up to CloudsmithSAMLOrgCacheSize orgs, least recently
 * used dropped first). Once every CloudsmithSAMLOrgRefreshInterval it reads the registry's
 * version (one row, whatever the number of orgs): when that moved, each org in use asks for
 * its own version once, and a changed org is rebuilt, a deleted one is gone. While a check or
 * rebuild runs, other requests go on with what the process has; a database that cannot
 * answer keeps the last good settings. */
#include <apr_atomic.h>
#include <apr_strings.h>
#include "mod_saml.h"
#include "org_cache.h"
#include "org_store.h"
#include "session_id.h"

#define DEFAULT_REFRESH apr_time_from_sec(5)
#define DEFAULT_CACHE_SIZE 1000
#define DB_WARN_INTERVAL apr_time_from_sec(60)

/* What a process builds for one registry org: the value of its org_cache entry, in the
 * entry's pool (which also owns the Lasso objects). */
typedef struct {
    cs_org org;
    int saml_enabled, saml_enforced;
    apr_array_header_t *groupsync;    /* the org's rules, empty when Group Sync is off */
} registry_org;

static registry_org *org_of(const org_cache_entry *e)
{
    return e->value;
}

apr_interval_time_t cs_registry_refresh(const cs_registry *reg)
{
    return reg->refresh >= 0 ? reg->refresh : DEFAULT_REFRESH;
}

void cs_registry_child_init(apr_pool_t *p, cs_registry *reg)
{
    for (; reg; reg = reg->next)
        reg->orgs = org_cache_create(p, reg->cache_size > 0 ? reg->cache_size
                                                            : DEFAULT_CACHE_SIZE);
}

static apr_status_t release_cleanup(void *data)
{
    org_cache_release(data);
    return APR_SUCCESS;
}

static int slug_of_path(apr_pool_t *p, const char *uri, const char **slug)
{
    if (uri == NULL || uri[0] != '/')
        return 0;
    const char *end = strchr(uri + 1, '/');
    if (end == NULL)
        return 0;
    *slug = apr_pstrmemdup(p, uri + 1, end - uri - 1);
    return org_slug_is_valid(*slug);
}

/* Builds a process-lifetime entry from a registry record. An SP that cannot be built (no
 * metadata yet, or metadata Lasso refuses) leaves org.sp NULL, logged once per build. */
static org_cache_entry *entry_build(server_rec *s, cs_registry *reg, const char *slug,
                                    const org_record *rec)
{
    org_cache_entry *entry = org_cache_entry_new(slug, rec->version);
    if (entry == NULL)
        return NULL;
    apr_pool_t *pool = entry->pool;
    registry_org *e = apr_pcalloc(pool, sizeof(*e));
    entry->value = e;
    cs_org *org = &e->org;
    org->slug = entry->slug;
    org->root_path = apr_pstrcat(pool, "/", slug, "/", NULL);
    org->where = reg->where;
    org->server = reg->server;
    org->decl = reg->decl;
    org->cookie_name = apr_pstrcat(pool, SESSION_COOKIE_PREFIX, slug, NULL);
    cs_org_set_urls(pool, org, reg->base_url);
    org->from_registry = 1;
    e->groupsync = apr_array_make(pool, 0, sizeof(groupsync_rule));
    e->saml_enabled = rec->saml_enabled;
    e->saml_enforced = rec->saml_enforced;
    if (rec->groupsync_enabled && rec->groupsync) {
        for (int i = 0; i < rec->groupsync->nelts; i++) {
            const groupsync_rule *src = &APR_ARRAY_IDX(rec->groupsync, i, groupsync_rule);
            groupsync_rule *dst = apr_array_push(e->groupsync);
            dst->idp_key = apr_pstrdup(pool, src->idp_key);
            dst->idp_value = apr_pstrdup(pool, src->idp_value);
            dst->team = apr_pstrdup(pool, src->team);
            dst->role = src->role;
        }
    }
    if (rec->scim_enabled && rec->scim_token_hash) {
        scim_token_hash *hash = apr_pcalloc(pool, sizeof(*hash));
        const char *why = scim_token_hash_parse(rec->scim_token_hash, hash);
        if (why == NULL)
            org->scim_hash = hash;
        else
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, APLOGNO(10573)
                         "org %s (registry): SCIM stays off: its secret hash is unusable (%s)",
                         slug, why);
    }
    if (!rec->saml_enabled)
        return entry;
    if (rec->idp_metadata_xml == NULL) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, APLOGNO(10574)
                     "org %s (registry): SAML is enabled but the org has no IdP metadata: "
                     "sign-in answers 503 until it is set", slug);
        return entry;
    }
    saml_sp_config cfg = {.org = org->slug, .acs_url = org->acs_url,
                          .idp_metadata_xml = apr_pstrdup(pool, rec->idp_metadata_xml),
                          .idp_metadata_origin = "the org registry",
                          .sp_key_pem = reg->sp_key_pem, .sp_cert_pem = reg->sp_cert_pem,
                          .sign_authn_requests = reg->decl->sign_requests == 1};
    const char *why = saml_sp_create(pool, &cfg, &org->sp);
    if (why) {
        org->sp = NULL;
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, APLOGNO(10575)
                     "org %s (registry, version %" APR_INT64_T_FMT "): cannot build its SAML "
                     "service provider: %s", slug, rec->version, why);
    }
    return entry;
}

/* Reads the org and builds its entry: OK, HTTP_NOT_FOUND when the registry has no such org
 * (not cached: a request for a made-up org costs one indexed query and evicts nothing), or
 * HTTP_SERVICE_UNAVAILABLE (logged) when the database cannot answer. */
static int entry_load(request_rec *r, cs_registry *reg, const char *slug,
                      org_cache_entry **out)
{
    scim_db db;
    org_record rec;
    const char *why = cs_db_open(r, &db);
    org_store_status st = ORG_STORE_FAILED;
    if (why == NULL)
        st = org_store_get(r->pool, &db, slug, &rec, &why);
    if (st == ORG_STORE_FAILED) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, APLOGNO(10576)
                      "org %s: the org registry cannot be read: %s", slug,
                      why ? why : "unknown error");
        return HTTP_SERVICE_UNAVAILABLE;
    }
    if (st == ORG_STORE_NOT_FOUND) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, APLOGNO(10580)
                      "org %s is not in the org registry: 404", slug);
        return HTTP_NOT_FOUND;
    }
    *out = entry_build(r->server, reg, slug, &rec);
    if (*out == NULL)
        return HTTP_SERVICE_UNAVAILABLE;
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, APLOGNO(10577)
                  "org %s: loaded from the registry (version %" APR_INT64_T_FMT ", SAML %s%s)",
                  slug, rec.version, rec.saml_enabled ? "on" : "off",
                  rec.saml_enabled && rec.saml_enforced ? ", enforced" : "");
    return OK;
}

/* what: "org SLUG", or "orgs" for the registry's version. */
static void warn_db(request_rec *r, const char *what, const char *why)
{
    static volatile apr_uint64_t warned;
    apr_uint64_t last = apr_atomic_read64(&warned);
    apr_time_t now = apr_time_now();
    if (now - (apr_time_t)last >= DB_WARN_INTERVAL
        && apr_atomic_cas64(&warned, (apr_uint64_t)now, last) == last)
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, APLOGNO(10578)
                      "%s: cannot check the org registry for changes (%s): going on with the "
                      "settings loaded before (next warning in 60 s at the earliest)",
                      what, why ? why : "unknown error");
}

/* e is stale: one request asks for its version and, when it changed, rebuilds it. Takes the
 * caller's reference to e; returns the entry the request should use, with a reference the
 * caller owns, or NULL and *status (404: the org was deleted). */
static org_cache_entry *entry_refresh(request_rec *r, cs_registry *reg, org_cache_entry *e,
                                      apr_uint64_t registry, int *status)
{
    if (!org_cache_begin_refresh(e))
        return e; /* another request is at it */
    scim_db db;
    apr_int64_t version = 0;
    const char *why = cs_db_open(r, &db);
    org_store_status st = ORG_STORE_FAILED;
    if (why == NULL)
        st = org_store_version(r->pool, &db, e->slug, &version, &why);
    apr_time_t now = apr_time_now();
    org_cache_entry *fresh = NULL;
    if (st == ORG_STORE_FAILED)
        warn_db(r, apr_pstrcat(r->pool, "org ", e->slug, NULL), why);
    else if (st == ORG_STORE_NOT_FOUND)
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, APLOGNO(10581)
                      "org %s: deleted from the registry", e->slug);
    else if (version != e->version && entry_load(r, reg, e->slug, &fresh) == OK)
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, APLOGNO(10579)
                      "org %s: registry change picked up (version %" APR_INT64_T_FMT " -> %"
                      APR_INT64_T_FMT ")", e->slug, e->version, fresh->version);
    org_cache_end_refresh(e, st != ORG_STORE_FAILED, registry, now);
    if (st == ORG_STORE_NOT_FOUND) {
        org_cache_remove(reg->orgs, e);
        org_cache_release(e);
        *status = HTTP_NOT_FOUND;
        return NULL;
    }
    if (fresh == NULL)
        return e;
    apr_atomic_set64(&fresh->confirmed, registry);
    org_cache_entry *use = org_cache_install(reg->orgs, fresh, e, now);
    org_cache_release(e);
    return use;
}

/* The registry's version as this process knows it, read again (by one request) when it is
 * older than the refresh interval. */
static apr_uint64_t registry_version(request_rec *r, cs_registry *reg, apr_time_t now)
{
    apr_time_t read_at = (apr_time_t)apr_atomic_read64(&reg->version_read);
    if (now - read_at >= cs_registry_refresh(reg)
        && apr_atomic_cas32(&reg->version_reading, 1, 0) == 0) {
        scim_db db;
        apr_int64_t version = 0;
        const char *why = cs_db_open(r, &db);
        org_store_status st = ORG_STORE_FAILED;
        if (why == NULL)
            st = org_store_registry_version(r->pool, &db, &version, &why);
        if (st == ORG_STORE_OK)
            apr_atomic_set64(&reg->version, (apr_uint64_t)version);
        else
            warn_db(r, "orgs", why);
        apr_atomic_set64(&reg->version_read, (apr_uint64_t)now);
        apr_atomic_set32(&reg->version_reading, 0);
    }
    return apr_atomic_read64(&reg->version);
}

/* The registry entry for the request's org, referenced until the request ends; OK, or an
 * HTTP status when it cannot be known (404: the path names no org; 503: no database). */
static int registry_lookup(request_rec *r, cs_registry *reg, org_cache_entry **out)
{
    const char *slug;
    if (!slug_of_path(r->pool, r->uri, &slug))
        return HTTP_NOT_FOUND;
    if (reg->orgs == NULL)
        return HTTP_SERVICE_UNAVAILABLE; /* no child_init (cannot happen in a child) */
    apr_time_t now = apr_time_now();
    org_cache_entry *e = org_cache_get(reg->orgs, slug, now);
    /* read before the org, so a change committed in between is seen at the next check */
    apr_uint64_t registry = registry_version(r, reg, now);
    if (e == NULL) {
        int rc = entry_load(r, reg, slug, &e);
        if (rc != OK)
            return rc;
        apr_atomic_set64(&e->confirmed, registry);
        e = org_cache_install(reg->orgs, e, NULL, now);
    }
    else if (org_cache_refresh_due(e, registry, now, cs_registry_refresh(reg))) {
        int status = OK;
        e = entry_refresh(r, reg, e, registry, &status);
        if (e == NULL)
            return status;
    }
    apr_pool_cleanup_register(r->pool, e, release_cleanup, apr_pool_cleanup_null);
    *out = e;
    return OK;
}

int cs_registry_config(request_rec *r, const cs_dir_cfg *c, cs_dir_cfg **out)
{
    org_cache_entry *entry = NULL;
    int rc = registry_lookup(r, c->registry, &entry);
    if (rc != OK)
        return rc;
    registry_org *e = org_of(entry);
    cs_dir_cfg *m = apr_pmemdup(r->pool, c, sizeof(*c));
    m->org = &e->org;
    m->enforce = e->saml_enforced;
    m->groupsync = e->groupsync;
    m->scim = e->org.scim_hash != NULL;
    m->saml_off = !e->saml_enabled;
    *out = m;
    return OK;
}
