/* SCIM Users in the database (schema: scim_store.h), through apr_dbd: SQLite or PostgreSQL,
 * prepared statements and bound parameters only. Every function works on one connection the
 * caller holds (mod_dbd's, or one opened by a test) and returns NULL or a SCIM error:
 * 404 noTarget-free "not found", 409 uniqueness, 412 version, 503 when the database fails. */
#ifndef CS_SCIM_DB_H
#define CS_SCIM_DB_H

#include <apr_dbd.h>
#include <apr_pools.h>
#include <apr_time.h>
#include "scim_error.h"
#include "scim_filter.h"
#include "scim_user.h"

typedef struct {
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle;
    scim_sql_dialect dialect;
} scim_db;

/* Brings the schema to SCIM_STORE_SCHEMA_VERSION in one transaction; NULL or why not. */
const char *scim_db_migrate(apr_pool_t *p, const scim_db *db);

/* Inserts a new user with a fresh random id. 409 uniqueness when the org already has the
 * userName (case-insensitively): decided by the unique index, so concurrent creates of one
 * name give exactly one success. */
scim_error *scim_db_create(apr_pool_t *p, const scim_db *db, const char *org,
                           const scim_user_record *rec, apr_time_t now, scim_stored_user *out);

scim_error *scim_db_get(apr_pool_t *p, const scim_db *db, const char *org, const char *id,
                        scim_stored_user *out);

/* One page of the org's users matching filter (NULL: all), in a stable order (userName,
 * then id), and the total number of matches. */
scim_error *scim_db_list(apr_pool_t *p, const scim_db *db, const char *org,
                         const scim_filter *filter, const scim_page *page,
                         apr_int64_t *total, apr_array_header_t **users);

/* Replaces a user's attributes. expected_version > 0 makes it conditional (412 when the
 * stored version differs: someone else changed it first). */
scim_error *scim_db_replace(apr_pool_t *p, const scim_db *db, const char *org, const char *id,
                            const scim_user_record *rec, apr_int64_t expected_version,
                            apr_time_t now, scim_stored_user *out);

scim_error *scim_db_delete(apr_pool_t *p, const scim_db *db, const char *org, const char *id);

/* What SSO needs to know about a userName (compared case-insensitively). */
typedef enum { SCIM_DB_USER_ABSENT, SCIM_DB_USER_ACTIVE, SCIM_DB_USER_INACTIVE } scim_db_user_state;

/* Sets *state, and *given_name / *family_name (NULL when unset) for an existing user. */
scim_error *scim_db_user_state_get(apr_pool_t *p, const scim_db *db, const char *org,
                                   const char *user_name, scim_db_user_state *state,
                                   const char **given_name, const char **family_name);

#endif
