#include <string.h>
#include <apr_strings.h>
#include <openssl/rand.h>
#include "saml_time.h"
#include "scim_db.h"
#include "scim_store.h"
#include "util_dbd.h"

#define USER_COLUMNS "id, created, last_modified, version, resource"

static scim_error *db_failure(apr_pool_t *p, const scim_db *db, int rv, const char *what)
{
    return scim_error_make(p, 503, SCIM_ERROR_TYPE_NONE, "the user store failed (%s: %s)",
                           what, dbd_error_text(db, rv));
}

static scim_error *name_taken(apr_pool_t *p, const scim_user_record *rec)
{
    return scim_error_make(p, 409, SCIM_ERROR_UNIQUENESS,
                           "userName '%s' is already taken in this organization",
                           rec->user_name);
}

static void read_user(const char **v, scim_stored_user *out)
{
    out->id = v[0];
    out->created = v[1];
    out->last_modified = v[2];
    out->version = v[3] ? apr_atoi64(v[3]) : 0;
    out->resource = v[4];
}

const char *scim_db_migrate(apr_pool_t *p, const scim_db *db)
{
    /* SQLite: a write-ahead log lets readers go on during a write and makes each commit one
     * append instead of a journal rewrite (persistent per database file). */
    if (db->dialect == SCIM_SQL_SQLITE) {
        int nrows = 0;
        apr_dbd_query(db->driver, db->handle, &nrows, "PRAGMA journal_mode=WAL");
    }
    apr_dbd_transaction_t *trans = NULL;
    int rv = apr_dbd_transaction_start(db->driver, p, db->handle, &trans);
    if (rv != 0)
        return apr_psprintf(p, "cannot start a transaction: %s",
                            apr_dbd_error(db->driver, db->handle, rv));
    const char *error = NULL;
    /* PostgreSQL: servers and processes starting together take turns (concurrent CREATE ...
     * IF NOT EXISTS can collide on the catalog); the lock ends with the transaction. */
    if (db->dialect == SCIM_SQL_PGSQL) {
        int nrows = 0;
        rv = apr_dbd_query(db->driver, db->handle, &nrows,
                           "SELECT pg_advisory_xact_lock(7242201453)");
        if (rv != 0)
            error = apr_psprintf(p, "cannot take the migration lock: %s",
                                 apr_dbd_error(db->driver, db->handle, rv));
    }
    for (const char *const *sql = scim_store_schema(db->dialect); *sql && !error; sql++) {
        int nrows = 0;
        rv = apr_dbd_query(db->driver, db->handle, &nrows, *sql);
        if (rv != 0)
            error = apr_psprintf(p, "%s (in: %.60s...)", apr_dbd_error(db->driver, db->handle,
                                                                       rv), *sql);
    }
    if (error)
        apr_dbd_transaction_mode_set(db->driver, trans, APR_DBD_TRANSACTION_ROLLBACK);
    rv = apr_dbd_transaction_end(db->driver, p, trans);
    if (!error && rv != 0)
        error = apr_psprintf(p, "commit failed: %s", apr_dbd_error(db->driver, db->handle, rv));
    return error;
}

static char *new_user_id(apr_pool_t *p)
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1)
        return NULL;
    b[6] = (b[6] & 0x0f) | 0x40; /* UUID version 4 */
    b[8] = (b[8] & 0x3f) | 0x80;
    return apr_psprintf(p, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x"
                        "%02x", b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
                        b[10], b[11], b[12], b[13], b[14], b[15]);
}

static int write_emails(apr_pool_t *p, const scim_db *db, const char *org, const char *id,
                        const scim_user_record *rec)
{
    int rv = dbd_run(p, db, "DELETE FROM scim_user_emails WHERE org = %s AND user_id = %s", 2,
                     (const char *[]){org, id}, NULL);
    for (int i = 0; rv == 0 && rec->emails && i < rec->emails->nelts; i++) {
        const scim_email *e = &APR_ARRAY_IDX(rec->emails, i, scim_email);
        /* an email that says nothing about primary stores NULL, as the matcher sees it */
        const char *args[] = {org, id, apr_itoa(p, i), e->value, e->value_lower, e->type,
                              !e->primary_given ? NULL : e->primary ? "1" : "0"};
        rv = dbd_run(p, db, "INSERT INTO scim_user_emails (org, user_id, position, value, "
                     "value_lower, type, is_primary) VALUES (%s, %s, %s, %s, %s, %s, %s)", 7, args,
                     NULL);
    }
    return rv;
}

scim_error *scim_db_create(apr_pool_t *p, const scim_db *db, const char *org,
                           const scim_user_record *rec, apr_time_t now, scim_stored_user *out)
{
    const char *id = new_user_id(p);
    if (id == NULL)
        return scim_error_make(p, 503, SCIM_ERROR_TYPE_NONE, "no randomness for a user id");
    const char *when = saml_time_format(p, now);
    apr_dbd_transaction_t *trans = NULL;
    int rv = apr_dbd_transaction_start(db->driver, p, db->handle, &trans);
    if (rv != 0)
        return db_failure(p, db, rv, "begin");
    const char *args[] = {org, id, rec->user_name, rec->user_name_lower, rec->external_id,
                          rec->given_name, rec->family_name, rec->formatted_name,
                          rec->display_name, rec->active ? "1" : "0", when, when,
                          rec->resource};
    rv = dbd_run(p, db, "INSERT INTO scim_users (org, id, user_name, user_name_lower, "
                 "external_id, given_name, family_name, formatted_name, display_name, active, "
                 "created, last_modified, version, resource) VALUES (%s, %s, %s, %s, %s, %s, %s, "
                 "%s, %s, %s, %s, %s, 1, %s)", 13, args, NULL);
    int unique = rv != 0 && dbd_is_unique_violation(db, rv);
    scim_error *failure = rv != 0 && !unique ? db_failure(p, db, rv, "insert") : NULL;
    if (rv == 0)
        rv = write_emails(p, db, org, id, rec);
    if (rv != 0 && failure == NULL && !unique)
        failure = db_failure(p, db, rv, "insert emails");
    int end = dbd_finish(p, db, trans, rv);
    if (unique)
        return name_taken(p, rec);
    if (failure)
        return failure;
    if (end != 0)
        return dbd_is_unique_violation(db, end)
            ? name_taken(p, rec) : db_failure(p, db, end, "commit");
    *out = (scim_stored_user){.id = id, .created = when, .last_modified = when, .version = 1,
                              .resource = rec->resource};
    return NULL;
}

scim_error *scim_db_get(apr_pool_t *p, const scim_db *db, const char *org, const char *id,
                        scim_stored_user *out)
{
    apr_array_header_t *rows = NULL;
    int rv = dbd_select(p, db, "SELECT " USER_COLUMNS " FROM scim_users WHERE org = %s AND "
                        "id = %s", 2, (const char *[]){org, id}, 5, &rows);
    if (rv != 0)
        return db_failure(p, db, rv, "select");
    if (rows->nelts == 0)
        return scim_error_make(p, 404, SCIM_ERROR_TYPE_NONE, "no user with id '%s'", id);
    read_user(APR_ARRAY_IDX(rows, 0, const char **), out);
    return NULL;
}

scim_error *scim_db_list(apr_pool_t *p, const scim_db *db, const char *org,
                         const scim_filter *filter, const scim_page *page,
                         apr_int64_t *total, apr_array_header_t **users)
{
    const char *where = "1 = 1";
    apr_array_header_t *params = apr_array_make(p, 4, sizeof(const char *));
    if (filter) {
        apr_array_header_t *filter_params = NULL;
        const char *why = scim_filter_sql(p, filter, db->dialect, &where, &filter_params);
        if (why)
            return scim_error_make(p, 400, SCIM_ERROR_INVALID_FILTER, "%s", why);
        params = filter_params;
    }
    const char **args = apr_pcalloc(p, (params->nelts + 1) * sizeof(*args));
    args[0] = org;
    for (int i = 0; i < params->nelts; i++)
        args[i + 1] = APR_ARRAY_IDX(params, i, const char *);
    int nargs = params->nelts + 1;

    apr_array_header_t *rows = NULL;
    int rv = dbd_select(p, db, apr_pstrcat(p, "SELECT COUNT(*) FROM scim_users WHERE "
                                           "scim_users.org = %s AND (", where, ")", NULL),
                        nargs, args, 1, &rows);
    if (rv != 0)
        return db_failure(p, db, rv, "count");
    *total = rows->nelts ? apr_atoi64(APR_ARRAY_IDX(rows, 0, const char **)[0]) : 0;
    *users = apr_array_make(p, (int)page->count + 1, sizeof(scim_stored_user));
    if (page->count == 0)
        return NULL;
    /* LIMIT and OFFSET are our own integers, written into the text (not client input). */
    const char *sql = apr_psprintf(p, "SELECT " USER_COLUMNS " FROM scim_users WHERE "
                                   "scim_users.org = %%s AND (%s) ORDER BY "
                                   "scim_users.user_name_lower, scim_users.id LIMIT %"
                                   APR_INT64_T_FMT " OFFSET %" APR_INT64_T_FMT,
                                   where, page->count, page->start_index - 1);
    rv = dbd_select(p, db, sql, nargs, args, 5, &rows);
    if (rv != 0)
        return db_failure(p, db, rv, "select");
    for (int i = 0; i < rows->nelts; i++)
        read_user(APR_ARRAY_IDX(rows, i, const char **), apr_array_push(*users));
    return NULL;
}

scim_error *scim_db_replace(apr_pool_t *p, const scim_db *db, const char *org, const char *id,
                            const scim_user_record *rec, apr_int64_t expected_version,
                            apr_time_t now, scim_stored_user *out)
{
    scim_stored_user current;
    scim_error *err = scim_db_get(p, db, org, id, &current);
    if (err)
        return err;
    if (expected_version > 0 && current.version != expected_version)
        return scim_error_make(p, 412, SCIM_ERROR_TYPE_NONE,
                               "the user changed meanwhile (version %" APR_INT64_T_FMT ", not %"
                               APR_INT64_T_FMT ")", current.version, expected_version);
    const char *when = saml_time_format(p, now);
    const char *version = apr_psprintf(p, "%" APR_INT64_T_FMT, current.version);
    apr_dbd_transaction_t *trans = NULL;
    int rv = apr_dbd_transaction_start(db->driver, p, db->handle, &trans);
    if (rv != 0)
        return db_failure(p, db, rv, "begin");
    const char *args[] = {rec->user_name, rec->user_name_lower, rec->external_id,
                          rec->given_name, rec->family_name, rec->formatted_name,
                          rec->display_name, rec->active ? "1" : "0", when, rec->resource,
                          org, id, version};
    int nrows = 0;
    rv = dbd_run(p, db, "UPDATE scim_users SET user_name = %s, user_name_lower = %s, "
                 "external_id = %s, given_name = %s, family_name = %s, formatted_name = %s, "
                 "display_name = %s, active = %s, last_modified = %s, resource = %s, "
                 "version = version + 1 WHERE org = %s AND id = %s AND version = %s", 13, args,
                 &nrows);
    int unique = rv != 0 && dbd_is_unique_violation(db, rv);
    scim_error *failure = rv != 0 && !unique ? db_failure(p, db, rv, "update") : NULL;
    int lost_race = rv == 0 && nrows == 0;
    if (rv == 0 && !lost_race)
        rv = write_emails(p, db, org, id, rec);
    if (rv != 0 && failure == NULL && !unique)
        failure = db_failure(p, db, rv, "update emails");
    int end = dbd_finish(p, db, trans, rv != 0 ? rv : lost_race);
    if (unique)
        return name_taken(p, rec);
    if (failure)
        return failure;
    if (lost_race)
        return scim_error_make(p, 412, SCIM_ERROR_TYPE_NONE,
                               "the user changed meanwhile; read it again");
    if (end != 0)
        return db_failure(p, db, end, "commit");
    *out = (scim_stored_user){.id = current.id, .created = current.created,
                              .last_modified = when, .version = current.version + 1,
                              .resource = rec->resource};
    return NULL;
}

scim_error *scim_db_delete(apr_pool_t *p, const scim_db *db, const char *org, const char *id)
{
    apr_dbd_transaction_t *trans = NULL;
    int rv = apr_dbd_transaction_start(db->driver, p, db->handle, &trans);
    if (rv != 0)
        return db_failure(p, db, rv, "begin");
    int nrows = 0;
    rv = dbd_run(p, db, "DELETE FROM scim_user_emails WHERE org = %s AND user_id = %s", 2,
                 (const char *[]){org, id}, NULL);
    if (rv == 0)
        rv = dbd_run(p, db, "DELETE FROM scim_users WHERE org = %s AND id = %s", 2,
                     (const char *[]){org, id}, &nrows);
    scim_error *failure = rv != 0 ? db_failure(p, db, rv, "delete") : NULL;
    int end = dbd_finish(p, db, trans, rv);
    if (failure)
        return failure;
    if (end != 0)
        return db_failure(p, db, end, "commit");
    return nrows ? NULL : scim_error_make(p, 404, SCIM_ERROR_TYPE_NONE, "no user with id '%s'",
                                          id);
}

scim_error *scim_db_user_state_get(apr_pool_t *p, const scim_db *db, const char *org,
                                   const char *user_name, scim_db_user_state *state,
                                   const char **given_name, const char **family_name)
{
    apr_array_header_t *rows = NULL;
    int rv = dbd_select(p, db, "SELECT active, given_name, family_name FROM scim_users "
                        "WHERE org = %s AND user_name_lower = %s", 2,
                        (const char *[]){org, scim_lowercase(p, user_name)}, 3, &rows);
    if (rv != 0)
        return db_failure(p, db, rv, "select");
    *given_name = *family_name = NULL;
    if (rows->nelts == 0) {
        *state = SCIM_DB_USER_ABSENT;
        return NULL;
    }
    const char **v = APR_ARRAY_IDX(rows, 0, const char **);
    *state = dbd_bool(v[0]) ? SCIM_DB_USER_ACTIVE : SCIM_DB_USER_INACTIVE;
    *given_name = v[1];
    *family_name = v[2];
    return NULL;
}
