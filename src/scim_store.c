#include <string.h>
#include <apr_strings.h>
#include "scim_store.h"

/* Version 1, then version 2 (the org registry). A later version appends its ALTER/CREATE
 * statements and updates the row. */
static const char *const sqlite_schema[] = {
    "CREATE TABLE IF NOT EXISTS scim_schema_version (version INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS scim_users ("
    "org TEXT NOT NULL, "
    "id TEXT NOT NULL, "
    "user_name TEXT NOT NULL, "
    "user_name_lower TEXT NOT NULL, "
    "external_id TEXT, "
    "given_name TEXT, "
    "family_name TEXT, "
    "formatted_name TEXT, "
    "display_name TEXT, "
    "active INTEGER NOT NULL CHECK (active IN (0, 1)), "
    "created TEXT NOT NULL, "
    "last_modified TEXT NOT NULL, "
    "version INTEGER NOT NULL, "
    "resource TEXT NOT NULL, "
    "PRIMARY KEY (org, id))",
    "CREATE UNIQUE INDEX IF NOT EXISTS scim_users_user_name ON scim_users (org, user_name_lower)",
    "CREATE INDEX IF NOT EXISTS scim_users_external_id ON scim_users (org, external_id)",
    "CREATE TABLE IF NOT EXISTS scim_user_emails ("
    "org TEXT NOT NULL, "
    "user_id TEXT NOT NULL, "
    "position INTEGER NOT NULL, "
    "value TEXT, "
    "value_lower TEXT, "
    "type TEXT, "
    "is_primary INTEGER CHECK (is_primary IN (0, 1)), "
    "PRIMARY KEY (org, user_id, position), "
    "FOREIGN KEY (org, user_id) REFERENCES scim_users (org, id) ON DELETE CASCADE)",
    "CREATE INDEX IF NOT EXISTS scim_user_emails_value ON scim_user_emails (org, value_lower)",
    "INSERT INTO scim_schema_version (version) SELECT 1 "
    "WHERE NOT EXISTS (SELECT 1 FROM scim_schema_version)",
    /* version 2: the org registry */
    "CREATE TABLE IF NOT EXISTS orgs ("
    "slug TEXT NOT NULL PRIMARY KEY, "
    "saml_enabled INTEGER NOT NULL CHECK (saml_enabled IN (0, 1)), "
    "saml_enforced INTEGER NOT NULL CHECK (saml_enforced IN (0, 1)), "
    "idp_metadata_xml TEXT, "
    "idp_metadata_url TEXT, "
    "metadata_fetched_at TEXT, "
    "metadata_error TEXT, "
    "groupsync_enabled INTEGER NOT NULL CHECK (groupsync_enabled IN (0, 1)), "
    "scim_enabled INTEGER NOT NULL CHECK (scim_enabled IN (0, 1)), "
    "scim_token_hash TEXT, "
    "version INTEGER NOT NULL, "
    "created TEXT NOT NULL, "
    "updated TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS org_groupsync ("
    "slug TEXT NOT NULL REFERENCES orgs (slug) ON DELETE CASCADE, "
    "idp_key TEXT NOT NULL, "
    "idp_value TEXT NOT NULL, "
    "team TEXT NOT NULL, "
    "role TEXT NOT NULL CHECK (role IN ('Member', 'Manager')), "
    "PRIMARY KEY (slug, idp_key, idp_value, team))",
    "CREATE TABLE IF NOT EXISTS org_version_counter (last_version INTEGER NOT NULL)",
    "INSERT INTO org_version_counter (last_version) SELECT 0 "
    "WHERE NOT EXISTS (SELECT 1 FROM org_version_counter)",
    "UPDATE scim_schema_version SET version = 2 WHERE version < 2",
    NULL
};

static const char *const pgsql_schema[] = {
    "CREATE TABLE IF NOT EXISTS scim_schema_version (version INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS scim_users ("
    "org TEXT COLLATE \"C\" NOT NULL, "
    "id TEXT COLLATE \"C\" NOT NULL, "
    "user_name TEXT COLLATE \"C\" NOT NULL, "
    "user_name_lower TEXT COLLATE \"C\" NOT NULL, "
    "external_id TEXT COLLATE \"C\", "
    "given_name TEXT COLLATE \"C\", "
    "family_name TEXT COLLATE \"C\", "
    "formatted_name TEXT COLLATE \"C\", "
    "display_name TEXT COLLATE \"C\", "
    "active BOOLEAN NOT NULL, "
    "created TEXT COLLATE \"C\" NOT NULL, "
    "last_modified TEXT COLLATE \"C\" NOT NULL, "
    "version BIGINT NOT NULL, "
    "resource TEXT NOT NULL, "
    "PRIMARY KEY (org, id))",
    "CREATE UNIQUE INDEX IF NOT EXISTS scim_users_user_name ON scim_users (org, user_name_lower)",
    "CREATE INDEX IF NOT EXISTS scim_users_external_id ON scim_users (org, external_id)",
    "CREATE TABLE IF NOT EXISTS scim_user_emails ("
    "org TEXT COLLATE \"C\" NOT NULL, "
    "user_id TEXT COLLATE \"C\" NOT NULL, "
    "position INTEGER NOT NULL, "
    "value TEXT COLLATE \"C\", "
    "value_lower TEXT COLLATE \"C\", "
    "type TEXT COLLATE \"C\", "
    "is_primary BOOLEAN, "
    "PRIMARY KEY (org, user_id, position), "
    "FOREIGN KEY (org, user_id) REFERENCES scim_users (org, id) ON DELETE CASCADE)",
    "CREATE INDEX IF NOT EXISTS scim_user_emails_value ON scim_user_emails (org, value_lower)",
    "INSERT INTO scim_schema_version (version) SELECT 1 "
    "WHERE NOT EXISTS (SELECT 1 FROM scim_schema_version)",
    /* version 2: the org registry */
    "CREATE TABLE IF NOT EXISTS orgs ("
    "slug TEXT COLLATE \"C\" NOT NULL PRIMARY KEY, "
    "saml_enabled BOOLEAN NOT NULL, "
    "saml_enforced BOOLEAN NOT NULL, "
    "idp_metadata_xml TEXT COLLATE \"C\", "
    "idp_metadata_url TEXT COLLATE \"C\", "
    "metadata_fetched_at TEXT COLLATE \"C\", "
    "metadata_error TEXT COLLATE \"C\", "
    "groupsync_enabled BOOLEAN NOT NULL, "
    "scim_enabled BOOLEAN NOT NULL, "
    "scim_token_hash TEXT COLLATE \"C\", "
    "version BIGINT NOT NULL, "
    "created TEXT COLLATE \"C\" NOT NULL, "
    "updated TEXT COLLATE \"C\" NOT NULL)",
    "CREATE TABLE IF NOT EXISTS org_groupsync ("
    "slug TEXT COLLATE \"C\" NOT NULL REFERENCES orgs (slug) ON DELETE CASCADE, "
    "idp_key TEXT COLLATE \"C\" NOT NULL, "
    "idp_value TEXT COLLATE \"C\" NOT NULL, "
    "team TEXT COLLATE \"C\" NOT NULL, "
    "role TEXT COLLATE \"C\" NOT NULL CHECK (role IN ('Member', 'Manager')), "
    "PRIMARY KEY (slug, idp_key, idp_value, team))",
    "CREATE TABLE IF NOT EXISTS org_version_counter (last_version BIGINT NOT NULL)",
    "INSERT INTO org_version_counter (last_version) SELECT 0 "
    "WHERE NOT EXISTS (SELECT 1 FROM org_version_counter)",
    "UPDATE scim_schema_version SET version = 2 WHERE version < 2",
    NULL
};

int scim_store_dialect(const char *driver_name, scim_sql_dialect *out)
{
    if (driver_name && strcmp(driver_name, "sqlite3") == 0)
        *out = SCIM_SQL_SQLITE;
    else if (driver_name && strcmp(driver_name, "pgsql") == 0)
        *out = SCIM_SQL_PGSQL;
    else
        return -1;
    return 0;
}

const char *const *scim_store_schema(scim_sql_dialect dialect)
{
    return dialect == SCIM_SQL_PGSQL ? pgsql_schema : sqlite_schema;
}

char *scim_store_schema_script(apr_pool_t *p, scim_sql_dialect dialect)
{
    char *script = "";
    for (const char *const *s = scim_store_schema(dialect); *s; s++)
        script = apr_pstrcat(p, script, *s, ";\n", NULL);
    return script;
}
