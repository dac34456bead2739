/* /{org}/scim/v2/...: SCIM 2.0 provisioning (Okta pushes users), served here with the org's
 * Basic credentials, never passed to the backend; and the user-state lookups SSO makes. The
 * database is mod_dbd's (SQLite or PostgreSQL), through scim_db. */
#include <apr_dbd.h>
#include <apr_optional.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <http_core.h>
#include <mod_dbd.h>
#include "mod_saml.h"
#include "scim_db.h"
#include "scim_discovery.h"
#include "scim_patch.h"
#include "scim_store.h"
#include "scim_user.h"
#include "util_form.h"

#define SCIM_CONTENT_TYPE "application/scim+json"
#define PATCH_RETRIES 3

static APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) *dbd_acquire;
/* Once per process: the schema is brought up to date on first use of a connection. */
static apr_thread_mutex_t *migrate_lock;
static int migrated;

const char *cs_scim_check_config(void)
{
    dbd_acquire = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    return dbd_acquire ? NULL
        : "needs mod_dbd: LoadModule dbd_module, with DBDriver (sqlite3 or pgsql) and DBDParams";
}

void cs_scim_child_init(apr_pool_t *p)
{
    apr_thread_mutex_create(&migrate_lock, APR_THREAD_MUTEX_DEFAULT, p);
}

/* The request's database connection, schema ready; NULL and *why when there is none. */
const char *cs_db_open(request_rec *r, scim_db *db)
{
    if (dbd_acquire == NULL)
        return "mod_dbd is not loaded";
    ap_dbd_t *dbd = dbd_acquire(r);
    if (dbd == NULL)
        return "no database connection (see mod_dbd's messages)";
    db->driver = dbd->driver;
    db->handle = dbd->handle;
    if (scim_store_dialect(apr_dbd_name(dbd->driver), &db->dialect) != 0)
        return apr_psprintf(r->pool, "DBDriver %s is not supported (sqlite3 or pgsql)",
                            apr_dbd_name(dbd->driver));
    if (migrated)
        return NULL;
    if (migrate_lock)
        apr_thread_mutex_lock(migrate_lock);
    const char *why = migrated ? NULL : scim_db_migrate(r->pool, db);
    if (why == NULL)
        migrated = 1;
    if (migrate_lock)
        apr_thread_mutex_unlock(migrate_lock);
    return why ? apr_psprintf(r->pool, "cannot create the database tables: %s", why) : NULL;
}

int cs_scim_user_state(request_rec *r, const cs_org *org, const char *user,
                       scim_db_user_state *state, const char **given, const char **family)
{
    scim_db db;
    const char *why = cs_db_open(r, &db);
    scim_error *err = why ? NULL
                      : scim_db_user_state_get(r->pool, &db, org->slug, user, state, given,
                                               family);
    if (why || err) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, APLOGNO(10560)
                      "org %s: cannot ask SCIM whether %s is active: %s", org->slug, user,
                      why ? why : err->detail);
        return -1;
    }
    return 0;
}

static int send_json(request_rec *r, int status, const char *json)
{
    r->status = status;
    ap_set_content_type(r, SCIM_CONTENT_TYPE);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (!r->header_only && json)
        ap_rputs(json, r);
    return OK;
}

/* One log line per refused SCIM request (org, method, path, status, why, client); 4xx are
 * the client's business (info), 5xx ours (error). */
static int fail(request_rec *r, const cs_org *org, const scim_error *err)
{
    ap_log_rerror(APLOG_MARK, err->status >= 500 ? APLOG_ERR : APLOG_INFO, 0, r,
                  APLOGNO(10561) "org %s: SCIM %s %s: %d %s (client %s)", org->slug,
                  r->method, r->uri, err->status, err->detail ? err->detail : "",
                  r->useragent_ip);
    return send_json(r, err->status, scim_error_render(r->pool, err));
}

static int fail_with(request_rec *r, const cs_org *org, int status, scim_error_type type,
                     const char *detail)
{
    return fail(r, org, scim_error_make(r->pool, status, type, "%s", detail));
}

static const char *query_param(request_rec *r, const char *name, int *invalid)
{
    return r->args ? form_field(r->pool, r->args, name, invalid) : NULL;
}

static int send_user(request_rec *r, const cs_org *org, int status,
                     const scim_stored_user *user, const scim_projection *projection)
{
    char *json = scim_user_render(r->pool, user, org->scim_base, projection);
    if (json == NULL)
        return fail_with(r, org, 500, SCIM_ERROR_TYPE_NONE, "a stored user is corrupt");
    apr_table_setn(r->headers_out, "ETag", scim_user_etag(r->pool, user->version));
    if (status == HTTP_CREATED)
        apr_table_setn(r->headers_out, "Location",
                       scim_user_location(r->pool, org->scim_base, user->id));
    return send_json(r, status, json);
}

static scim_error *read_projection(request_rec *r, scim_projection *out)
{
    int bad1 = 0, bad2 = 0;
    const char *attributes = query_param(r, "attributes", &bad1);
    const char *excluded = query_param(r, "excludedAttributes", &bad2);
    if (bad1 || bad2)
        return scim_error_make(r->pool, 400, SCIM_ERROR_INVALID_VALUE,
                               "attributes/excludedAttributes are not valid URL encoding");
    return scim_projection_parse(r->pool, attributes, excluded, out);
}

static int list_users(request_rec *r, const cs_org *org, const scim_db *db)
{
    int bad_filter = 0, bad_start = 0, bad_count = 0;
    const char *filter_text = query_param(r, "filter", &bad_filter);
    const char *start = query_param(r, "startIndex", &bad_start);
    const char *count = query_param(r, "count", &bad_count);
    if (bad_filter)
        return fail_with(r, org, 400, SCIM_ERROR_INVALID_FILTER,
                         "the filter parameter is not valid URL encoding");
    if (bad_start || bad_count)
        return fail_with(r, org, 400, SCIM_ERROR_INVALID_VALUE,
                         "startIndex/count are not valid URL encoding");
    const scim_filter *filter = NULL;
    if (filter_text) {
        const char *why = scim_filter_parse(r->pool, filter_text, &filter);
        if (why)
            return fail_with(r, org, 400, SCIM_ERROR_INVALID_FILTER, why);
    }
    scim_page page;
    scim_projection projection;
    scim_error *err = scim_page_parse(r->pool, start, count, 100, SCIM_MAX_RESULTS, &page);
    if (err == NULL)
        err = read_projection(r, &projection);
    apr_int64_t total = 0;
    apr_array_header_t *users = NULL;
    if (err == NULL)
        err = scim_db_list(r->pool, db, org->slug, filter, &page, &total, &users);
    if (err)
        return fail(r, org, err);
    char *json = scim_user_list_render(r->pool, users, total, page.start_index,
                                       org->scim_base, &projection);
    if (json == NULL)
        return fail_with(r, org, 500, SCIM_ERROR_TYPE_NONE, "a stored user is corrupt");
    return send_json(r, HTTP_OK, json);
}

/* If-Match: W/"n" makes a change conditional on version n; absent or "*": unconditional. */
static int if_match_version(request_rec *r, apr_int64_t *version)
{
    const char *h = apr_table_get(r->headers_in, "If-Match");
    *version = 0;
    if (h == NULL || strcmp(h, "*") == 0)
        return 0;
    if (strncmp(h, "W/", 2) == 0)
        h += 2;
    char *end;
    if (*h != '"' || (*version = apr_strtoi64(h + 1, &end, 10)) <= 0 || strcmp(end, "\"") != 0)
        return -1;
    return 0;
}

static int log_change(request_rec *r, const cs_org *org, const char *what,
                      const scim_stored_user *user)
{
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, APLOGNO(10562)
                  "org %s: SCIM %s user %s (version %" APR_INT64_T_FMT ", client %s)",
                  org->slug, what, user->id, user->version, r->useragent_ip);
    return OK;
}

static int one_user(request_rec *r, const cs_org *org, const scim_db *db, const char *id,
                    const char *body, apr_size_t len)
{
    scim_stored_user user;
    scim_user_record rec;
    scim_projection projection = {0};
    scim_error *err = NULL;
    apr_int64_t version = 0;
    if (if_match_version(r, &version) != 0)
        return fail_with(r, org, 400, SCIM_ERROR_INVALID_VALUE,
                         "If-Match must be an ETag of this server, like W/\"3\"");
    switch (r->method_number) {
    case M_GET:
        if ((err = read_projection(r, &projection)) == NULL
            && (err = scim_db_get(r->pool, db, org->slug, id, &user)) == NULL)
            return send_user(r, org, HTTP_OK, &user, &projection);
        return fail(r, org, err);
    case M_PUT:
        if ((err = scim_user_parse(r->pool, body, len, &rec)) == NULL
            && (err = scim_db_replace(r->pool, db, org->slug, id, &rec, version, apr_time_now(),
                                      &user)) == NULL) {
            log_change(r, org, "replaced", &user);
            return send_user(r, org, HTTP_OK, &user, NULL);
        }
        return fail(r, org, err);
    case M_PATCH:
        /* Read, patch, write back if nobody changed it meanwhile; else start again. */
        for (int attempt = 0; attempt < PATCH_RETRIES; attempt++) {
            scim_stored_user current;
            if ((err = scim_db_get(r->pool, db, org->slug, id, &current)) != NULL)
                break;
            if (version > 0 && current.version != version) {
                err = scim_error_make(r->pool, 412, SCIM_ERROR_TYPE_NONE,
                                      "the user is at version %" APR_INT64_T_FMT,
                                      current.version);
                break;
            }
            if ((err = scim_patch_user(r->pool, current.resource, body, len, &rec)) != NULL)
                break;
            err = scim_db_replace(r->pool, db, org->slug, id, &rec, current.version,
                                  apr_time_now(), &user);
            if (err == NULL) {
                log_change(r, org, "patched", &user);
                return send_user(r, org, HTTP_OK, &user, NULL);
            }
            if (err->status != 412 || version > 0)
                break;
        }
        return fail(r, org, err);
    case M_DELETE:
        if ((err = scim_db_delete(r->pool, db, org->slug, id)) != NULL)
            return fail(r, org, err);
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, APLOGNO(10563)
                      "org %s: SCIM deleted user %s (client %s)", org->slug, id,
                      r->useragent_ip);
        r->status = HTTP_NO_CONTENT;
        return OK;
    default:
        apr_table_setn(r->err_headers_out, "Allow", "GET, PUT, PATCH, DELETE");
        return fail_with(r, org, 405, SCIM_ERROR_TYPE_NONE,
                         "a User supports GET, PUT, PATCH and DELETE");
    }
}

static int discovery(request_rec *r, const cs_org *org, const char *path)
{
    if (r->method_number != M_GET) {
        apr_table_setn(r->err_headers_out, "Allow", "GET");
        return fail_with(r, org, 405, SCIM_ERROR_TYPE_NONE, "discovery resources are read-only");
    }
    const char *json = NULL;
    if (strcmp(path, "/ServiceProviderConfig") == 0)
        json = scim_service_provider_config(r->pool, org->scim_base);
    else if (strcmp(path, "/ResourceTypes") == 0)
        json = scim_resource_types(r->pool, org->scim_base);
    else if (strcmp(path, "/ResourceTypes/User") == 0)
        json = scim_resource_type_user(r->pool, org->scim_base);
    else if (strcmp(path, "/Schemas") == 0)
        json = scim_schemas(r->pool, org->scim_base);
    else if (strncmp(path, "/Schemas/", 9) == 0)
        json = scim_schema(r->pool, org->scim_base, path + 9);
    if (json == NULL)
        return fail_with(r, org, 404, SCIM_ERROR_TYPE_NONE,
                         apr_psprintf(r->pool, "no SCIM resource at %s", path));
    return send_json(r, HTTP_OK, json);
}

static int unauthorized(request_rec *r, const cs_org *org, const char *why)
{
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, APLOGNO(10564)
                  "org %s: SCIM request refused: %s (client %s)", org->slug, why,
                  r->useragent_ip);
    apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                   apr_psprintf(r->pool, "Basic realm=\"SCIM %s\", charset=\"UTF-8\"",
                                org->slug));
    scim_error err = {401, SCIM_ERROR_TYPE_NONE,
                      "authentication required: HTTP Basic, user \"token\" and the "
                      "organization's SCIM secret"};
    return send_json(r, HTTP_UNAUTHORIZED, scim_error_render(r->pool, &err));
}

int cs_scim_handle(request_rec *r, const cs_dir_cfg *c, const char *path)
{
    const cs_org *org = c->org;
    if (org->scim_hash == NULL)
        return fail_with(r, org, 404, SCIM_ERROR_TYPE_NONE,
                         "SCIM is not enabled for this organization");
    scim_auth_result auth = scim_auth_check(r->pool, apr_table_get(r->headers_in,
                                                                   "Authorization"),
                                            org->scim_hash);
    if (auth != SCIM_AUTH_OK)
        return unauthorized(r, org, scim_auth_result_name(auth));
    r->user = SCIM_TOKEN_USER;

    if (strcmp(path, "/Users") != 0 && strncmp(path, "/Users/", 7) != 0)
        return discovery(r, org, path);
    const char *id = path[6] == '/' ? path + 7 : NULL;
    if (id && (*id == '\0' || strchr(id, '/')))
        return fail_with(r, org, 404, SCIM_ERROR_TYPE_NONE, "no such User path");

    char *body = "";
    apr_size_t len = 0;
    if (r->method_number == M_POST || r->method_number == M_PUT
        || r->method_number == M_PATCH) {
        int rc = cs_read_body(r, cs_max_body(c), &body, &len);
        if (rc == HTTP_REQUEST_ENTITY_TOO_LARGE)
            return fail_with(r, org, 413, SCIM_ERROR_TYPE_NONE,
                             "the request body is above CloudsmithSAMLMaxBodySize");
        if (rc != OK)
            return fail_with(r, org, 400, SCIM_ERROR_INVALID_SYNTAX,
                             "the request body could not be read");
    }
    scim_db db;
    const char *why = cs_db_open(r, &db);
    if (why)
        return fail_with(r, org, 503, SCIM_ERROR_TYPE_NONE,
                         apr_psprintf(r->pool, "the user store is unavailable: %s", why));
    if (id)
        return one_user(r, org, &db, id, body, len);
    if (r->method_number == M_GET)
        return list_users(r, org, &db);
    if (r->method_number == M_POST) {
        scim_user_record rec;
        scim_stored_user user;
        scim_error *err = scim_user_parse(r->pool, body, len, &rec);
        if (err == NULL)
            err = scim_db_create(r->pool, &db, org->slug, &rec, apr_time_now(), &user);
        if (err)
            return fail(r, org, err);
        log_change(r, org, "created", &user);
        return send_user(r, org, HTTP_CREATED, &user, NULL);
    }
    apr_table_setn(r->err_headers_out, "Allow", "GET, POST");
    return fail_with(r, org, 405, SCIM_ERROR_TYPE_NONE, "/Users supports GET and POST");
}
