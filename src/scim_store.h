/* The SQL schema of the SCIM store and the org registry, versioned, for SQLite and PostgreSQL
 * (through mod_dbd).
 *
 * scim_users: one row per (org, id): the attributes filters and SSO read as columns, plus
 *   `resource`, the canonical JSON of everything the client sent (scim_user_record.resource),
 *   so attributes without a column are kept. user_name_lower is the ASCII lower-cased userName
 *   and is UNIQUE per org: concurrent creates of one userName give one row, the rest fail.
 * scim_user_emails: one row per value of emails, in document order (position 0, 1, ...), for
 *   `emails...` filters; a sub-attribute the value lacks (value, type, primary) is NULL. The
 *   store deletes and rewrites a user's rows with the user row; it does not rely on ON DELETE
 *   CASCADE, which SQLite enforces only with foreign_keys=ON.
 * orgs (version 2): the org registry, one row per organization (slug): its SAML, Group Sync
 *   and SCIM settings, the IdP metadata (and the URL it is fetched from, with the last fetch
 *   time or failure), and `version`, which every change to the org or its mappings raises
 *   (org_store.h). Versions come from org_version_counter, one row holding the last version
 *   given out, so they only grow, across orgs and across a delete and re-create of one slug.
 * org_groupsync (version 2): the org's Group Sync mappings, unique per (slug, idp_key,
 *   idp_value, team); role 'Member' or 'Manager'. Deleted with the org by the store (the
 *   foreign key's ON DELETE CASCADE, as above, is not relied on).
 * scim_schema_version: one row, the version the database is at.
 *
 * Times are "YYYY-MM-DDThh:mm:ssZ" text in both (compares in time order as text). active,
 * is_primary and the orgs flags are INTEGER 0/1 in SQLite and BOOLEAN in PostgreSQL; a
 * parameter "1"/"0" binds to either. PostgreSQL text columns use COLLATE "C": ordering and
 * LIKE are by bytes, as in SQLite and scim_filter_match, and the userName index serves prefix
 * LIKE too. */
#ifndef CS_SCIM_STORE_H
#define CS_SCIM_STORE_H

#include <apr_pools.h>
#include "scim_filter.h"

#define SCIM_STORE_SCHEMA_VERSION 2

/* The dialect of an apr_dbd driver name ("sqlite3", "pgsql"); -1 for others. */
int scim_store_dialect(const char *driver_name, scim_sql_dialect *out);

/* Statements, NULL-terminated, that bring a database of any earlier version (or an empty one)
 * to SCIM_STORE_SCHEMA_VERSION; each is idempotent, to be run one by one with apr_dbd_query in
 * one transaction. None contains a '%' or a parameter. */
const char *const *scim_store_schema(scim_sql_dialect dialect);

/* The same statements as one SQL script (";\n" after each), for README and admins. */
char *scim_store_schema_script(apr_pool_t *p, scim_sql_dialect dialect);

#endif
