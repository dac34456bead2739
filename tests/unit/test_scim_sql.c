/* The SQL that scim_filter_sql writes, run on a real (in-memory) SQLite holding the store's
 * schema: for each filter the rows found must be exactly the users scim_filter_match accepts. */
#include "unit.h"
#include <stdlib.h>
#include <sqlite3.h>
#include <apr_strings.h>
#include "scim_filter.h"
#include "scim_store.h"
#include "scim_user.h"

typedef struct {
    const char *org, *id, *created, *json;
} fixture_user;

static const fixture_user users[] = {
    { "acme", "u1", "2024-01-01T00:00:00Z",
      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
      "\"userName\":\"Bjensen@Example.com\",\"externalId\":\"00uAbC\","
      "\"name\":{\"givenName\":\"Barbara\",\"familyName\":\"Jensen\"},"
      "\"displayName\":\"Babs 100% Jensen_x\",\"active\":true,"
      "\"emails\":[{\"value\":\"bjensen@example.com\",\"type\":\"work\",\"primary\":true},"
      "{\"value\":\"babs@jensen.org\",\"type\":\"home\"}]}" },
    { "acme", "u2", "2024-01-02T00:00:00Z",
      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
      "\"userName\":\"alice_smith@example.com\",\"externalId\":\"ab*c\","
      "\"displayName\":\"Alice\",\"active\":false,"
      "\"emails\":[{\"value\":\"Alice@Example.COM\",\"type\":\"Work\",\"primary\":false}]}" },
    { "acme", "u3", "2024-01-03T00:00:00Z",
      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
      "\"userName\":\"carol%@example.org\",\"name\":{\"formatted\":\"Carol C\"},"
      "\"displayName\":\"\"}" },
    { "acme", "u4", "2024-01-04T00:00:00Z",
      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
      "\"userName\":\"dave!x@example.net\",\"externalId\":\"AB*C\","
      "\"emails\":[{\"type\":\"home\"},{\"value\":\"d@x.net\"}]}" },
    { "acme", "u5", "2024-01-05T00:00:00Z",
      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
      "\"userName\":\"\xc3\x89mile@example.com\",\"name\":{\"givenName\":\"\xc3\xa9mile\"},"
      "\"displayName\":\"\xc3\x89MILE Dupont\"}" },
    { "other", "o1", "2024-01-01T00:00:00Z",
      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
      "\"userName\":\"bjensen@example.com\",\"active\":true,"
      "\"emails\":[{\"value\":\"bjensen@example.com\",\"type\":\"work\"}]}" },
};
#define USER_COUNT (sizeof(users) / sizeof(users[0]))

static const char *const filters[] = {
    "userName eq \"bjensen@example.com\"",
    "userName eq \"BJENSEN@EXAMPLE.COM\"",
    "userName co \"%\"",
    "userName co \"_\"",
    "userName sw \"alice_\"",
    "userName sw \"alice%\"",
    "userName ew \".org\"",
    "userName co \"!\"",
    "userName co \"!x\"",
    "userName gt \"b\"",
    "userName le \"carol\"",
    "userName ne \"bjensen@example.com\"",
    "userName eq \"\xc3\xa9mile@example.com\"",
    "userName eq \"\xc3\x89mile@example.com\"",
    "externalId eq \"00uAbC\"",
    "externalId eq \"00uabc\"",
    "externalId co \"*\"",
    "externalId sw \"ab\"",
    "externalId sw \"AB\"",
    "externalId ew \"*c\"",
    "externalId pr",
    "externalId eq null",
    "not (externalId eq \"00uAbC\")",
    "displayName co \"100%\"",
    "displayName co \"0%\"",
    "displayName ew \"_x\"",
    "displayName pr",
    "displayName eq null",
    "displayName gt \"alice\"",
    /* case folding is ASCII-only everywhere (PostgreSQL's lower() too, under COLLATE "C") */
    "displayName eq \"\xc3\x89mile dupont\"",
    "displayName eq \"\xc3\xa9mile dupont\"",
    "displayName sw \"\xc3\x89m\"",
    "name.givenName sw \"BAR\"",
    "name.givenName pr",
    "name.familyName eq \"jensen\"",
    "name.formatted pr",
    "active eq true",
    "active eq false",
    "active ne false",
    "not (active eq true)",
    "emails pr",
    "emails eq null",
    "emails co \"example.com\"",
    "emails.value co \"EXAMPLE.com\"",
    "emails.value pr",
    "emails.value eq null",
    "emails.value ne null",
    "emails.type eq null",
    "emails.primary eq null",
    "emails.primary pr",
    "emails[value eq null]",
    "emails[primary eq null]",
    "emails.type eq \"work\"",
    "emails[type eq \"work\"]",
    "emails[type eq \"work\" and value ew \".com\"]",
    "emails[type eq \"home\" and value pr]",
    "emails[not (value pr)]",
    "emails[primary eq true]",
    "emails[primary eq false]",
    "emails[primary ne true]",
    "emails.type eq \"home\" and emails.value co \"jensen\"",
    "emails[type eq \"home\" and value co \"jensen\"]",
    "meta.created gt \"2024-01-02T00:00:00Z\"",
    "meta.lastModified le \"2024-01-03T00:00:00Z\"",
    "meta.created eq \"2024-01-01T01:00:00+01:00\"",
    "meta.created ge \"2024-01-02T00:00:00.5Z\"",
    "id eq \"u2\"",
    "id sw \"u\"",
    "id gt \"u2\"",
    "userName sw \"a\" or userName sw \"b\" and active eq true",
    "(userName sw \"a\" or userName sw \"b\") and active eq true",
    "not (emails pr) or active eq false",
    "not (not (userName co \"example\") and not (name.formatted pr))",
    "not (userName ne \"carol%@example.org\")",
};
#define FILTER_COUNT (sizeof(filters) / sizeof(filters[0]))

static sqlite3 *db;
static json_t *resources[USER_COUNT];

static int exec(const char *sql)
{
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK)
        fprintf(stderr, "  sqlite: %s in %s\n", err ? err : "?", sql);
    sqlite3_free(err);
    return rc;
}

static sqlite3_stmt *prepare(const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
        fprintf(stderr, "  sqlite: %s in %s\n", sqlite3_errmsg(db), sql);
    return stmt;
}

static void bind_text(sqlite3_stmt *stmt, int i, const char *value)
{
    if (value)
        sqlite3_bind_text(stmt, i, value, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(stmt, i);
}

/* What the lead's store does on create: the record's columns, then one row per email. */
static void insert_user(apr_pool_t *p, const fixture_user *u, int index)
{
    scim_user_record rec;
    scim_error *err = scim_user_parse(p, u->json, strlen(u->json), &rec);
    CHECK(err == NULL);
    if (err)
        return;
    sqlite3_stmt *stmt = prepare(
        "INSERT INTO scim_users (org, id, user_name, user_name_lower, external_id, given_name, "
        "family_name, formatted_name, display_name, active, created, last_modified, version, "
        "resource) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)");
    const char *values[] = { u->org, u->id, rec.user_name, rec.user_name_lower, rec.external_id,
                             rec.given_name, rec.family_name, rec.formatted_name,
                             rec.display_name, rec.active ? "1" : "0", u->created, u->created,
                             rec.resource };
    for (int i = 0; i < 13; i++)
        bind_text(stmt, i + 1, values[i]);
    CHECK_INT(sqlite3_step(stmt), SQLITE_DONE);
    sqlite3_finalize(stmt);
    for (int i = 0; i < rec.emails->nelts; i++) {
        const scim_email *e = &APR_ARRAY_IDX(rec.emails, i, scim_email);
        stmt = prepare("INSERT INTO scim_user_emails (org, user_id, position, value, value_lower, "
                       "type, is_primary) VALUES (?, ?, ?, ?, ?, ?, ?)");
        bind_text(stmt, 1, u->org);
        bind_text(stmt, 2, u->id);
        sqlite3_bind_int(stmt, 3, i);
        bind_text(stmt, 4, e->value);
        bind_text(stmt, 5, e->value_lower);
        bind_text(stmt, 6, e->type);
        bind_text(stmt, 7, !e->primary_given ? NULL : e->primary ? "1" : "0");
        CHECK_INT(sqlite3_step(stmt), SQLITE_DONE);
        sqlite3_finalize(stmt);
    }
    scim_stored_user stored = { u->id, u->created, u->created, 1, rec.resource };
    resources[index] = scim_user_resource(&stored, "https://sso.example.com/acme/scim/v2", NULL);
}

/* The ids of org acme's rows the translated filter selects, in id order, space-separated. */
static const char *ids_by_sql(apr_pool_t *p, const scim_filter *f)
{
    const char *where;
    apr_array_header_t *params;
    const char *err = scim_filter_sql(p, f, SCIM_SQL_SQLITE, &where, &params);
    if (err)
        return apr_pstrcat(p, "error: ", err, NULL);
    /* apr_dbd's %s placeholders are sqlite3's ? */
    char *sql = apr_pstrcat(p, "SELECT id FROM scim_users WHERE scim_users.org = ? AND ", where,
                            " ORDER BY id", NULL);
    for (char *c = strstr(sql, "%s"); c; c = strstr(c, "%s")) {
        c[0] = '?';
        memmove(c + 1, c + 2, strlen(c + 2) + 1);
    }
    sqlite3_stmt *stmt = prepare(sql);
    if (stmt == NULL)
        return "error: prepare";
    bind_text(stmt, 1, "acme");
    for (int i = 0; i < params->nelts; i++)
        bind_text(stmt, i + 2, APR_ARRAY_IDX(params, i, const char *));
    char *ids = "";
    while (sqlite3_step(stmt) == SQLITE_ROW)
        ids = apr_pstrcat(p, ids, *ids ? " " : "", (const char *)sqlite3_column_text(stmt, 0),
                          NULL);
    sqlite3_finalize(stmt);
    return ids;
}

static const char *ids_by_match(apr_pool_t *p, const scim_filter *f)
{
    char *ids = "";
    for (apr_size_t i = 0; i < USER_COUNT; i++)
        if (strcmp(users[i].org, "acme") == 0 && resources[i] && scim_filter_match(f, resources[i]))
            ids = apr_pstrcat(p, ids, *ids ? " " : "", users[i].id, NULL);
    return ids;
}

static void setup(apr_pool_t *p)
{
    CHECK_INT(sqlite3_open(":memory:", &db), SQLITE_OK);
    for (const char *const *s = scim_store_schema(SCIM_SQL_SQLITE); *s; s++)
        CHECK_INT(exec(*s), SQLITE_OK);
    for (apr_size_t i = 0; i < USER_COUNT; i++)
        insert_user(p, &users[i], (int)i);
}

static void teardown(void)
{
    for (apr_size_t i = 0; i < USER_COUNT; i++)
        json_decref(resources[i]);
    sqlite3_close(db);
}

static void test_sql_schema_is_idempotent_and_versioned(apr_pool_t *p)
{
    for (const char *const *s = scim_store_schema(SCIM_SQL_SQLITE); *s; s++)
        CHECK_INT(exec(*s), SQLITE_OK);
    sqlite3_stmt *stmt = prepare("SELECT count(*), max(version) FROM scim_schema_version");
    CHECK_INT(sqlite3_step(stmt), SQLITE_ROW);
    CHECK_INT(sqlite3_column_int(stmt, 0), 1);
    CHECK_INT(sqlite3_column_int(stmt, 1), SCIM_STORE_SCHEMA_VERSION);
    sqlite3_finalize(stmt);
    CHECK(strstr(scim_store_schema_script(p, SCIM_SQL_PGSQL), "COLLATE \"C\"") != NULL);
    scim_sql_dialect d;
    CHECK_INT(scim_store_dialect("pgsql", &d), 0);
    CHECK_INT(d, SCIM_SQL_PGSQL);
    CHECK_INT(scim_store_dialect("sqlite3", &d), 0);
    CHECK_INT(d, SCIM_SQL_SQLITE);
    CHECK_INT(scim_store_dialect("mysql", &d), -1);
    for (const char *const *s = scim_store_schema(SCIM_SQL_PGSQL); *s; s++)
        CHECK(strchr(*s, '%') == NULL);
}

static void test_sql_username_is_unique_per_org_ignoring_case(apr_pool_t *p)
{
    CHECK(sqlite3_exec(db, "INSERT INTO scim_users (org, id, user_name, user_name_lower, active, "
                       "created, last_modified, version, resource) VALUES ('acme', 'dup', "
                       "'BJENSEN@example.com', 'bjensen@example.com', 1, 'x', 'x', 1, '{}')",
                       NULL, NULL, NULL) == SQLITE_CONSTRAINT);
    CHECK_INT(exec("INSERT INTO scim_users (org, id, user_name, user_name_lower, active, created, "
                   "last_modified, version, resource) VALUES ('third', 'dup', "
                   "'BJENSEN@example.com', 'bjensen@example.com', 1, 'x', 'x', 1, '{}')"),
              SQLITE_OK);
}

static void test_sql_filters_select_what_the_matcher_selects(apr_pool_t *p)
{
    for (apr_size_t i = 0; i < FILTER_COUNT; i++) {
        const scim_filter *f;
        const char *err = scim_filter_parse(p, filters[i], &f);
        CHECK_STR(err, NULL);
        if (err)
            continue;
        const char *by_sql = ids_by_sql(p, f), *by_match = ids_by_match(p, f);
        if (strcmp(by_sql, by_match) != 0)
            fprintf(stderr, "  filter %s: sql [%s], match [%s]\n", filters[i], by_sql, by_match);
        CHECK_STR(by_sql, by_match);
    }
}

/* Pins some outcomes, so an agreement of two wrong answers still fails. */
static void test_sql_filters_select_the_expected_users(apr_pool_t *p)
{
    static const struct { const char *filter, *ids; } expected[] = {
        { "userName eq \"BJENSEN@EXAMPLE.COM\"", "u1" },
        { "userName co \"%\"", "u3" },
        { "userName co \"_\"", "u2" },
        { "userName sw \"alice%\"", "" },
        { "userName co \"!x\"", "u4" },
        { "externalId sw \"AB\"", "u4" },
        { "externalId co \"*\"", "u2 u4" },
        { "displayName co \"0%\"", "u1" },
        { "displayName pr", "u1 u2 u5" },
        { "emails[type eq \"work\"]", "u1 u2" },
        { "emails[type eq \"home\" and value co \"jensen\"]", "u1" },
        { "emails[not (value pr)]", "u4" },
        { "emails[primary eq false]", "u2" },
        { "emails eq null", "u3 u5" },
        { "meta.created ge \"2024-01-02T00:00:00.5Z\"", "u2 u3 u4 u5" },
        { "not (active eq true)", "u2" },
        { "displayName eq \"\xc3\x89mile dupont\"", "u5" },
        { "displayName eq \"\xc3\xa9mile dupont\"", "" },
        { "userName sw \"a\" or userName sw \"b\" and active eq true", "u1 u2" },
    };
    for (apr_size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
        const scim_filter *f;
        CHECK_STR(scim_filter_parse(p, expected[i].filter, &f), NULL);
        CHECK_STR(ids_by_sql(p, f), expected[i].ids);
    }
}

int main(void)
{
    static const unit_case cases[] = {
        UNIT(test_sql_schema_is_idempotent_and_versioned),
        UNIT(test_sql_filters_select_what_the_matcher_selects),
        UNIT(test_sql_filters_select_the_expected_users),
        UNIT(test_sql_username_is_unique_per_org_ignoring_case),
        UNIT_END
    };
    apr_pool_t *setup_pool;
    apr_initialize();
    apr_pool_create(&setup_pool, NULL);
    setup(setup_pool);
    int rc = unit_run("scim_sql", cases);
    teardown();
    apr_pool_destroy(setup_pool);
    apr_terminate(); /* unit_run's apr_terminate only undid its own apr_initialize */
    return rc || unit_failed_checks;
}
