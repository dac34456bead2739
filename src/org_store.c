#include <string.h>
#include <apr_strings.h>
#include "org_store.h"
#include "saml_sp.h"
#include "saml_time.h"
#include "scim_auth.h"
#include "util_dbd.h"

#define ORG_COLUMNS "slug, saml_enabled, saml_enforced, idp_metadata_xml, idp_metadata_url, " \
    "metadata_fetched_at, metadata_error, groupsync_enabled, scim_enabled, scim_token_hash, " \
    "version, created, updated"
#define ORG_NCOLUMNS 13
#define GROUPSYNC_FIELD_MAX_LEN 1024

static const char *const reserved_slugs[] = {"saml", "scim", NULL};

static org_store_status db_failure(apr_pool_t *p, const scim_db *db, int rv, const char *what,
                                   const char **error)
{
    *error = apr_psprintf(p, "the org registry failed (%s: %s)", what, dbd_error_text(db, rv));
    return ORG_STORE_FAILED;
}

static org_store_status refuse(const char **error, const char *why)
{
    *error = why;
    return ORG_STORE_REFUSED;
}

static org_store_status no_such_org(apr_pool_t *p, const char *slug, const char **error)
{
    *error = apr_psprintf(p, "there is no org '%s'", slug);
    return ORG_STORE_NOT_FOUND;
}

typedef enum {
    SLUG_OK, SLUG_EMPTY, SLUG_TOO_LONG, SLUG_BAD_CHARACTER, SLUG_LEADING_DASH,
    SLUG_TRAILING_DASH, SLUG_RESERVED
} slug_problem;

static slug_problem slug_problem_of(const char *slug)
{
    if (slug == NULL || *slug == '\0')
        return SLUG_EMPTY;
    apr_size_t len = strlen(slug);
    if (len > ORG_SLUG_MAX_LEN)
        return SLUG_TOO_LONG;
    for (const char *s = slug; *s; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
            return SLUG_BAD_CHARACTER;
    }
    if (slug[0] == '-')
        return SLUG_LEADING_DASH;
    if (slug[len - 1] == '-')
        return SLUG_TRAILING_DASH;
    for (const char *const *r = reserved_slugs; *r; r++) {
        if (strcmp(slug, *r) == 0)
            return SLUG_RESERVED;
    }
    return SLUG_OK;
}

int org_slug_is_valid(const char *slug)
{
    return slug_problem_of(slug) == SLUG_OK;
}

const char *org_slug_check(apr_pool_t *p, const char *slug)
{
    switch (slug_problem_of(slug)) {
    case SLUG_OK:
        return NULL;
    case SLUG_EMPTY:
        return "the org slug is empty";
    case SLUG_TOO_LONG:
        return apr_psprintf(p, "org slug '%.20s...' is longer than %d characters", slug,
                            ORG_SLUG_MAX_LEN);
    case SLUG_BAD_CHARACTER:
        return apr_psprintf(p, "org slug '%s' may hold only lower-case letters a-z, digits "
                            "and '-'", slug);
    case SLUG_LEADING_DASH:
        return apr_psprintf(p, "org slug '%s' must start with a letter or a digit", slug);
    case SLUG_TRAILING_DASH:
        return apr_psprintf(p, "org slug '%s' must not end with '-'", slug);
    case SLUG_RESERVED:
        return apr_psprintf(p, "org slug '%s' is reserved: the module uses it as a path word "
                            "(/ORG/saml/, /ORG/scim/v2/)", slug);
    }
    return "the org slug is not valid";
}

static const char *flag(int on)
{
    return on ? "1" : "0";
}

static org_store_status read_groupsync(apr_pool_t *p, const scim_db *db, const char *slug,
                                       apr_array_header_t **rules, const char **error)
{
    apr_array_header_t *rows = NULL;
    int rv = dbd_select(p, db, "SELECT idp_key, idp_value, team, role FROM org_groupsync "
                        "WHERE slug = %s ORDER BY idp_key, idp_value, team", 1,
                        (const char *[]){slug}, 4, &rows);
    if (rv != 0)
        return db_failure(p, db, rv, "select mappings", error);
    *rules = apr_array_make(p, rows->nelts + 1, sizeof(groupsync_rule));
    for (int i = 0; i < rows->nelts; i++) {
        const char **v = APR_ARRAY_IDX(rows, i, const char **);
        int role = groupsync_role_parse(v[3]);
        if (role < 0) {
            *error = apr_psprintf(p, "the org registry holds role '%s' for org '%s' (%s=%s -> "
                                  "%s), neither Member nor Manager", v[3] ? v[3] : "NULL",
                                  slug, v[0], v[1], v[2]);
            return ORG_STORE_FAILED;
        }
        APR_ARRAY_PUSH(*rules, groupsync_rule) = (groupsync_rule){
            .idp_key = v[0], .idp_value = v[1], .team = v[2], .role = (team_role)role};
    }
    return ORG_STORE_OK;
}

org_store_status org_store_get(apr_pool_t *p, const scim_db *db, const char *slug,
                               org_record *out, const char **error)
{
    if (!org_slug_is_valid(slug))
        return no_such_org(p, slug ? slug : "", error);
    apr_array_header_t *rows = NULL;
    int rv = dbd_select(p, db, "SELECT " ORG_COLUMNS " FROM orgs WHERE slug = %s", 1,
                        (const char *[]){slug}, ORG_NCOLUMNS, &rows);
    if (rv != 0)
        return db_failure(p, db, rv, "select org", error);
    if (rows->nelts == 0)
        return no_such_org(p, slug, error);
    const char **v = APR_ARRAY_IDX(rows, 0, const char **);
    org_record rec = {
        .slug = v[0], .saml_enabled = dbd_bool(v[1]), .saml_enforced = dbd_bool(v[2]),
        .idp_metadata_xml = v[3], .idp_metadata_url = v[4], .metadata_fetched_at = v[5],
        .metadata_error = v[6], .groupsync_enabled = dbd_bool(v[7]),
        .scim_enabled = dbd_bool(v[8]), .scim_token_hash = v[9],
        .version = v[10] ? apr_atoi64(v[10]) : 0, .created = v[11], .updated = v[12]};
    org_store_status status = read_groupsync(p, db, slug, &rec.groupsync, error);
    if (status == ORG_STORE_OK)
        *out = rec;
    return status;
}

org_store_status org_store_version(apr_pool_t *p, const scim_db *db, const char *slug,
                                   apr_int64_t *version, const char **error)
{
    if (!org_slug_is_valid(slug))
        return no_such_org(p, slug ? slug : "", error);
    apr_array_header_t *rows = NULL;
    int rv = dbd_select(p, db, "SELECT version FROM orgs WHERE slug = %s", 1,
                        (const char *[]){slug}, 1, &rows);
    if (rv != 0)
        return db_failure(p, db, rv, "select version", error);
    if (rows->nelts == 0)
        return no_such_org(p, slug, error);
    const char *v = APR_ARRAY_IDX(rows, 0, const char **)[0];
    *version = v ? apr_atoi64(v) : 0;
    return ORG_STORE_OK;
}

org_store_status org_store_registry_version(apr_pool_t *p, const scim_db *db,
                                            apr_int64_t *version, const char **error)
{
    apr_array_header_t *rows = NULL;
    int rv = dbd_select(p, db, "SELECT last_version FROM org_version_counter", 0, NULL, 1,
                        &rows);
    if (rv != 0)
        return db_failure(p, db, rv, "select registry version", error);
    const char *v = rows->nelts ? APR_ARRAY_IDX(rows, 0, const char **)[0] : NULL;
    *version = v ? apr_atoi64(v) : 0;
    return ORG_STORE_OK;
}

org_store_status org_store_list(apr_pool_t *p, const scim_db *db, apr_array_header_t **slugs,
                                const char **error)
{
    apr_array_header_t *rows = NULL;
    int rv = dbd_select(p, db, "SELECT slug FROM orgs ORDER BY slug", 0, NULL, 1, &rows);
    if (rv != 0)
        return db_failure(p, db, rv, "select orgs", error);
    *slugs = apr_array_make(p, rows->nelts + 1, sizeof(const char *));
    for (int i = 0; i < rows->nelts; i++)
        APR_ARRAY_PUSH(*slugs, const char *) = APR_ARRAY_IDX(rows, i, const char **)[0];
    return ORG_STORE_OK;
}

org_store_status org_store_metadata_sources(apr_pool_t *p, const scim_db *db,
                                            apr_array_header_t **sources, const char **error)
{
    apr_array_header_t *rows = NULL;
    int rv = dbd_select(p, db, "SELECT slug, idp_metadata_url FROM orgs WHERE "
                        "idp_metadata_url IS NOT NULL ORDER BY slug", 0, NULL, 2, &rows);
    if (rv != 0)
        return db_failure(p, db, rv, "select metadata URLs", error);
    *sources = apr_array_make(p, rows->nelts + 1, sizeof(org_metadata_source));
    for (int i = 0; i < rows->nelts; i++) {
        const char **v = APR_ARRAY_IDX(rows, i, const char **);
        APR_ARRAY_PUSH(*sources, org_metadata_source) = (org_metadata_source){v[0], v[1]};
    }
    return ORG_STORE_OK;
}

/* The next version, registry-wide, in the caller's transaction (PostgreSQL: the counter's row
 * lock makes concurrent writers take turns). */
static int next_version(apr_pool_t *p, const scim_db *db)
{
    return dbd_run(p, db, "UPDATE org_version_counter SET last_version = last_version + 1", 0,
                   NULL, NULL);
}

/* Starts a writer's transaction: a new version and `updated` for the org. On anything but OK
 * the transaction is over (rolled back). */
static org_store_status begin_change(apr_pool_t *p, const scim_db *db, const char *slug,
                                     apr_time_t now, apr_dbd_transaction_t **trans,
                                     const char **error)
{
    int rv = apr_dbd_transaction_start(db->driver, p, db->handle, trans);
    if (rv != 0)
        return db_failure(p, db, rv, "begin", error);
    int nrows = 0;
    rv = next_version(p, db);
    if (rv == 0)
        rv = dbd_run(p, db, "UPDATE orgs SET version = (SELECT last_version FROM "
                     "org_version_counter), updated = %s WHERE slug = %s", 2,
                     (const char *[]){saml_time_format(p, now), slug}, &nrows);
    if (rv != 0) {
        org_store_status failed = db_failure(p, db, rv, "update version", error);
        dbd_finish(p, db, *trans, rv);
        return failed;
    }
    if (nrows == 0) {
        dbd_finish(p, db, *trans, -1);
        return no_such_org(p, slug, error);
    }
    return ORG_STORE_OK;
}

/* Ends a writer's transaction: commits when rv is 0, else rolls back and reports `what`. */
static org_store_status end_change(apr_pool_t *p, const scim_db *db,
                                   apr_dbd_transaction_t *trans, int rv, const char *what,
                                   const char **error)
{
    org_store_status failed = rv != 0 ? db_failure(p, db, rv, what, error) : ORG_STORE_OK;
    int end = dbd_finish(p, db, trans, rv);
    if (failed == ORG_STORE_OK && end != 0)
        return db_failure(p, db, end, "commit", error);
    return failed;
}

/* Rolls back a writer's transaction that found a reason to refuse (or nothing to change). */
static org_store_status abandon_change(apr_pool_t *p, const scim_db *db,
                                       apr_dbd_transaction_t *trans, org_store_status status,
                                       const char *why, const char **error)
{
    dbd_finish(p, db, trans, -1);
    *error = why;
    return status;
}

/* Writers take the slug from the admin: an invalid one gets the precise reason. */
static org_store_status check_writer_slug(apr_pool_t *p, const char *slug, const char **error)
{
    const char *why = org_slug_check(p, slug);
    return why ? refuse(error, why) : ORG_STORE_OK;
}

org_store_status org_store_create(apr_pool_t *p, const scim_db *db, const char *slug,
                                  apr_time_t now, const char **error)
{
    if (check_writer_slug(p, slug, error) != ORG_STORE_OK)
        return ORG_STORE_REFUSED;
    const char *when = saml_time_format(p, now);
    apr_dbd_transaction_t *trans = NULL;
    int rv = apr_dbd_transaction_start(db->driver, p, db->handle, &trans);
    if (rv != 0)
        return db_failure(p, db, rv, "begin", error);
    rv = next_version(p, db);
    int taken = 0;
    if (rv == 0) {
        rv = dbd_run(p, db, "INSERT INTO orgs (slug, saml_enabled, saml_enforced, "
                     "groupsync_enabled, scim_enabled, version, created, updated) VALUES (%s, "
                     "%s, %s, %s, %s, (SELECT last_version FROM org_version_counter), %s, %s)",
                     7, (const char *[]){slug, "0", "1", "0", "0", when, when}, NULL);
        taken = rv != 0 && dbd_is_unique_violation(db, rv);
    }
    if (taken) {
        dbd_finish(p, db, trans, rv);
        return refuse(error, apr_psprintf(p, "org '%s' exists already", slug));
    }
    return end_change(p, db, trans, rv, "insert org", error);
}

org_store_status org_store_delete(apr_pool_t *p, const scim_db *db, const char *slug,
                                  int *scim_users_deleted, const char **error)
{
    if (check_writer_slug(p, slug, error) != ORG_STORE_OK)
        return ORG_STORE_REFUSED;
    apr_dbd_transaction_t *trans = NULL;
    int rv = apr_dbd_transaction_start(db->driver, p, db->handle, &trans);
    if (rv != 0)
        return db_failure(p, db, rv, "begin", error);
    const char *args[] = {slug};
    int orgs_deleted = 0, users_deleted = 0;
    rv = next_version(p, db); /* readers learn of the delete from the registry's version */
    if (rv == 0)
        rv = dbd_run(p, db, "DELETE FROM orgs WHERE slug = %s", 1, args, &orgs_deleted);
    if (rv == 0 && orgs_deleted == 0) {
        dbd_finish(p, db, trans, -1);
        return no_such_org(p, slug, error);
    }
    if (rv == 0)
        rv = dbd_run(p, db, "DELETE FROM org_groupsync WHERE slug = %s", 1, args, NULL);
    if (rv == 0)
        rv = dbd_run(p, db, "DELETE FROM scim_user_emails WHERE org = %s", 1, args, NULL);
    if (rv == 0)
        rv = dbd_run(p, db, "DELETE FROM scim_users WHERE org = %s", 1, args, &users_deleted);
    org_store_status status = end_change(p, db, trans, rv, "delete org", error);
    if (status == ORG_STORE_OK && scim_users_deleted)
        *scim_users_deleted = users_deleted;
    return status;
}

/* A writer whose whole change is one UPDATE of the org row (after begin_change). When it
 * changes no row, the condition in `sql` did not hold: refused with why_not. */
static org_store_status update_org(apr_pool_t *p, const scim_db *db, const char *slug,
                                   apr_time_t now, const char *sql, int nargs,
                                   const char **args, const char *why_not, const char **error)
{
    if (check_writer_slug(p, slug, error) != ORG_STORE_OK)
        return ORG_STORE_REFUSED;
    apr_dbd_transaction_t *trans = NULL;
    org_store_status status = begin_change(p, db, slug, now, &trans, error);
    if (status != ORG_STORE_OK)
        return status;
    int nrows = 0;
    int rv = dbd_run(p, db, sql, nargs, args, &nrows);
    if (rv == 0 && nrows == 0 && why_not)
        return abandon_change(p, db, trans, ORG_STORE_REFUSED, why_not, error);
    if (rv == 0 && nrows == 0) /* begin_change found the org and holds its row */
        return abandon_change(p, db, trans, ORG_STORE_NOT_FOUND,
                              apr_psprintf(p, "there is no org '%s'", slug), error);
    return end_change(p, db, trans, rv, "update org", error);
}

org_store_status org_store_set_saml_enabled(apr_pool_t *p, const scim_db *db, const char *slug,
                                            int enabled, apr_time_t now, const char **error)
{
    return update_org(p, db, slug, now, enabled
                      ? "UPDATE orgs SET saml_enabled = %s WHERE slug = %s AND "
                        "idp_metadata_xml IS NOT NULL"
                      : "UPDATE orgs SET saml_enabled = %s WHERE slug = %s", 2,
                      (const char *[]){flag(enabled), slug},
                      apr_psprintf(p, "org '%s' has no IdP metadata yet: store the IdP's "
                                   "metadata before enabling SAML", slug), error);
}

org_store_status org_store_set_saml_enforced(apr_pool_t *p, const scim_db *db,
                                             const char *slug, int enforced, apr_time_t now,
                                             const char **error)
{
    return update_org(p, db, slug, now, "UPDATE orgs SET saml_enforced = %s WHERE slug = %s",
                      2, (const char *[]){flag(enforced), slug}, NULL, error);
}

org_store_status org_store_set_groupsync_enabled(apr_pool_t *p, const scim_db *db,
                                                 const char *slug, int enabled, apr_time_t now,
                                                 const char **error)
{
    return update_org(p, db, slug, now, "UPDATE orgs SET groupsync_enabled = %s WHERE slug = %s",
                      2, (const char *[]){flag(enabled), slug}, NULL, error);
}

org_store_status org_store_set_scim_enabled(apr_pool_t *p, const scim_db *db, const char *slug,
                                            int enabled, apr_time_t now, const char **error)
{
    return update_org(p, db, slug, now, enabled
                      ? "UPDATE orgs SET scim_enabled = %s WHERE slug = %s AND "
                        "scim_token_hash IS NOT NULL"
                      : "UPDATE orgs SET scim_enabled = %s WHERE slug = %s", 2,
                      (const char *[]){flag(enabled), slug},
                      apr_psprintf(p, "org '%s' has no SCIM secret yet: make one before "
                                   "enabling SCIM", slug), error);
}

/* NULL when text is usable as a URL, a failure message or a mapping field, else why not. */
static const char *check_text(apr_pool_t *p, const char *what, const char *text,
                              apr_size_t max_len)
{
    if (text == NULL || *text == '\0')
        return apr_psprintf(p, "%s must not be empty", what);
    if (strlen(text) > max_len)
        return apr_psprintf(p, "%s is longer than %" APR_SIZE_T_FMT " bytes", what, max_len);
    for (const unsigned char *s = (const unsigned char *)text; *s; s++) {
        if (*s < 0x20 || *s == 0x7f)
            return apr_psprintf(p, "%s must not contain control characters (byte 0x%02x at "
                                "offset %ld)", what, *s, (long)(s - (const unsigned char *)text));
    }
    return NULL;
}

const char *org_metadata_url_check(apr_pool_t *p, const char *url)
{
    const char *why = check_text(p, "the metadata URL", url, ORG_METADATA_URL_MAX_LEN);
    if (why)
        return why;
    if (strncasecmp(url, "https://", 8) != 0 && strncasecmp(url, "http://", 7) != 0)
        return apr_psprintf(p, "the metadata URL '%s' is not an http:// or https:// URL", url);
    if (strchr(url, ' '))
        return apr_psprintf(p, "the metadata URL '%s' contains a space", url);
    return NULL;
}

org_store_status org_store_set_metadata(apr_pool_t *p, const scim_db *db, const char *slug,
                                        const char *xml, const char *url, apr_time_t now,
                                        const char **error)
{
    if (check_writer_slug(p, slug, error) != ORG_STORE_OK)
        return ORG_STORE_REFUSED;
    if (xml == NULL)
        return refuse(error, "no IdP metadata given");
    apr_size_t len = strlen(xml);
    if (len > ORG_METADATA_MAX_BYTES)
        return refuse(error, apr_psprintf(p, "the IdP metadata is %" APR_SIZE_T_FMT " bytes; "
                                          "the limit is %d", len, ORG_METADATA_MAX_BYTES));
    const char *entity_id = NULL;
    const char *why = saml_idp_metadata_check(p, xml, &entity_id);
    if (why)
        return refuse(error, apr_pstrcat(p, "not valid IdP metadata: ", why, NULL));
    if (url && (why = org_metadata_url_check(p, url)) != NULL)
        return refuse(error, why);
    apr_dbd_transaction_t *trans = NULL;
    org_store_status status = begin_change(p, db, slug, now, &trans, error);
    if (status != ORG_STORE_OK)
        return status;
    const char *args[] = {xml, url, url ? saml_time_format(p, now) : NULL, slug};
    int rv = dbd_run(p, db, "UPDATE orgs SET idp_metadata_xml = %s, idp_metadata_url = %s, "
                     "metadata_fetched_at = %s, metadata_error = NULL WHERE slug = %s", 4, args,
                     NULL);
    return end_change(p, db, trans, rv, "update metadata", error);
}

org_store_status org_store_record_fetch_failure(apr_pool_t *p, const scim_db *db,
                                                const char *slug, const char *failure,
                                                apr_time_t now, const char **error)
{
    if (check_writer_slug(p, slug, error) != ORG_STORE_OK)
        return ORG_STORE_REFUSED;
    const char *why = check_text(p, "the fetch failure", failure, ORG_FETCH_FAILURE_MAX_LEN);
    if (why)
        return refuse(error, why);
    return update_org(p, db, slug, now, "UPDATE orgs SET metadata_error = %s WHERE slug = %s",
                      2, (const char *[]){failure, slug}, NULL, error);
}

static const char *check_mapping(apr_pool_t *p, const char *idp_key, const char *idp_value,
                                 const char *team)
{
    const char *why = check_text(p, "IDP_KEY", idp_key, GROUPSYNC_FIELD_MAX_LEN);
    if (why == NULL)
        why = check_text(p, "IDP_VALUE", idp_value, GROUPSYNC_FIELD_MAX_LEN);
    if (why == NULL)
        why = check_text(p, "TEAM", team, GROUPSYNC_FIELD_MAX_LEN);
    return why;
}

org_store_status org_store_groupsync_add(apr_pool_t *p, const scim_db *db, const char *slug,
                                         const char *idp_key, const char *idp_value,
                                         const char *team, const char *role, apr_time_t now,
                                         const char **previous_role, const char **error)
{
    if (check_writer_slug(p, slug, error) != ORG_STORE_OK)
        return ORG_STORE_REFUSED;
    /* the same words and checks as the CloudsmithSAMLGroupSync directive */
    groupsync_rule rule;
    const char *argv[] = {idp_key, idp_value, team, role};
    const char *why = groupsync_rule_parse(p, role ? 4 : 3, argv, &rule);
    if (why == NULL)
        why = check_mapping(p, idp_key, idp_value, team);
    if (why)
        return refuse(error, why);
    apr_dbd_transaction_t *trans = NULL;
    org_store_status status = begin_change(p, db, slug, now, &trans, error);
    if (status != ORG_STORE_OK)
        return status;
    const char *key[] = {slug, rule.idp_key, rule.idp_value, rule.team};
    apr_array_header_t *rows = NULL;
    int rv = dbd_select(p, db, "SELECT role FROM org_groupsync WHERE slug = %s AND "
                        "idp_key = %s AND idp_value = %s AND team = %s", 4, key, 1, &rows);
    if (rv != 0)
        return end_change(p, db, trans, rv, "select mapping", error);
    const char *before = rows->nelts ? APR_ARRAY_IDX(rows, 0, const char **)[0] : NULL;
    const char *role_name = groupsync_role_name(rule.role);
    if (before)
        rv = dbd_run(p, db, "UPDATE org_groupsync SET role = %s WHERE slug = %s AND "
                     "idp_key = %s AND idp_value = %s AND team = %s", 5,
                     (const char *[]){role_name, slug, rule.idp_key, rule.idp_value, rule.team},
                     NULL);
    else
        rv = dbd_run(p, db, "INSERT INTO org_groupsync (slug, idp_key, idp_value, team, role) "
                     "VALUES (%s, %s, %s, %s, %s)", 5,
                     (const char *[]){slug, rule.idp_key, rule.idp_value, rule.team, role_name},
                     NULL);
    status = end_change(p, db, trans, rv, before ? "update mapping" : "insert mapping", error);
    if (status == ORG_STORE_OK && previous_role)
        *previous_role = before;
    return status;
}

org_store_status org_store_groupsync_remove(apr_pool_t *p, const scim_db *db, const char *slug,
                                            const char *idp_key, const char *idp_value,
                                            const char *team, apr_time_t now,
                                            const char **error)
{
    if (check_writer_slug(p, slug, error) != ORG_STORE_OK)
        return ORG_STORE_REFUSED;
    const char *why = check_mapping(p, idp_key, idp_value, team);
    if (why)
        return refuse(error, why);
    apr_dbd_transaction_t *trans = NULL;
    org_store_status status = begin_change(p, db, slug, now, &trans, error);
    if (status != ORG_STORE_OK)
        return status;
    int nrows = 0;
    int rv = dbd_run(p, db, "DELETE FROM org_groupsync WHERE slug = %s AND idp_key = %s AND "
                     "idp_value = %s AND team = %s", 4,
                     (const char *[]){slug, idp_key, idp_value, team}, &nrows);
    if (rv == 0 && nrows == 0)
        return abandon_change(p, db, trans, ORG_STORE_NOT_FOUND,
                              apr_psprintf(p, "org '%s' has no mapping %s=%s -> %s", slug,
                                           idp_key, idp_value, team), error);
    return end_change(p, db, trans, rv, "delete mapping", error);
}

/* "sha256:" and the digest's 64 lower-case hex digits. */
static const char *hash_text(apr_pool_t *p, const scim_token_hash *hash)
{
    char *text = apr_palloc(p, 7 + 64 + 1);
    memcpy(text, "sha256:", 7);
    for (int i = 0; i < 32; i++)
        apr_snprintf(text + 7 + 2 * i, 3, "%02x", hash->sha256[i]);
    return text;
}

org_store_status org_store_set_scim_token_hash(apr_pool_t *p, const scim_db *db,
                                               const char *slug, const char *hash_line,
                                               apr_time_t now, const char **error)
{
    if (check_writer_slug(p, slug, error) != ORG_STORE_OK)
        return ORG_STORE_REFUSED;
    scim_token_hash hash;
    const char *why = scim_token_hash_parse(hash_line, &hash);
    if (why)
        return refuse(error, why);
    return update_org(p, db, slug, now, "UPDATE orgs SET scim_token_hash = %s WHERE slug = %s",
                      2, (const char *[]){hash_text(p, &hash), slug}, NULL, error);
}
