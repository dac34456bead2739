/* scim_db against a real SQLite through apr_dbd (in memory). */
#include <stdlib.h>
#include <apr_dbd.h>
#include <apr_strings.h>
#include "unit.h"
#include "scim_db.h"
#include "scim_store.h"

#define NOW 1767225600000000LL /* 2026-01-01T00:00:00Z */

static apr_status_t close_db(void *data)
{
    scim_db *db = data;
    return apr_dbd_close(db->driver, db->handle);
}

/* Closed when the test's pool is cleared. */
static scim_db open_db(apr_pool_t *p)
{
    scim_db db = {.dialect = SCIM_SQL_SQLITE};
    apr_dbd_init(p);
    if (apr_dbd_get_driver(p, "sqlite3", &db.driver) != APR_SUCCESS
        || apr_dbd_open(db.driver, p, ":memory:", &db.handle) != APR_SUCCESS) {
        fprintf(stderr, "no apr_dbd sqlite3 driver (libaprutil1-dbd-sqlite3)\n");
        exit(2);
    }
    scim_db *owned = apr_pmemdup(p, &db, sizeof db);
    apr_pool_cleanup_register(p, owned, close_db, apr_pool_cleanup_null);
    const char *err = scim_db_migrate(p, &db);
    if (err) {
        fprintf(stderr, "migrate: %s\n", err);
        exit(2);
    }
    return db;
}

static scim_user_record user(apr_pool_t *p, const char *name, int active, const char *email)
{
    scim_user_record r = {.user_name = name, .user_name_lower = scim_lowercase(p, name),
                          .given_name = "Ann", .family_name = "Lee", .active = active,
                          .resource = apr_psprintf(p, "{\"userName\":\"%s\",\"active\":%s}",
                                                   name, active ? "true" : "false")};
    r.emails = apr_array_make(p, 1, sizeof(scim_email));
    if (email)
        APR_ARRAY_PUSH(r.emails, scim_email) = (scim_email){email, scim_lowercase(p, email),
                                                            "work", 1};
    return r;
}

static void test_scim_db_migrate_is_idempotent(apr_pool_t *p)
{
    scim_db db = open_db(p);
    CHECK_STR(scim_db_migrate(p, &db), NULL);
}

static void test_scim_db_create_get_and_unique_username(apr_pool_t *p)
{
    scim_db db = open_db(p);
    scim_stored_user a, b, got;
    scim_user_record rec = user(p, "Ann@Example.com", 1, "ann@example.com");
    CHECK(scim_db_create(p, &db, "acme", &rec, NOW, &a) == NULL);
    CHECK_INT(strlen(a.id), 36);
    CHECK_INT(a.version, 1);
    CHECK_STR(a.created, "2026-01-01T00:00:00Z");
    CHECK(scim_db_get(p, &db, "acme", a.id, &got) == NULL);
    CHECK_STR(got.resource, rec.resource);
    /* the same name in another case is taken; in another org it is free */
    scim_user_record dup = user(p, "ann@EXAMPLE.com", 1, NULL);
    scim_error *err = scim_db_create(p, &db, "acme", &dup, NOW, &b);
    CHECK(err && err->status == 409 && err->type == SCIM_ERROR_UNIQUENESS);
    CHECK(scim_db_create(p, &db, "globex", &dup, NOW, &b) == NULL);
    /* tenants are isolated: acme's id is not found in globex */
    err = scim_db_get(p, &db, "globex", a.id, &got);
    CHECK(err && err->status == 404);
}

static void test_scim_db_list_filters_pages_and_counts(apr_pool_t *p)
{
    scim_db db = open_db(p);
    scim_stored_user u;
    for (int i = 0; i < 30; i++) {
        scim_user_record rec = user(p, apr_psprintf(p, "user%02d@example.com", 29 - i), i % 3,
                                    apr_psprintf(p, "u%02d@work.example", i));
        CHECK(scim_db_create(p, &db, "acme", &rec, NOW, &u) == NULL);
    }
    scim_user_record other = user(p, "user00@example.com", 1, NULL);
    CHECK(scim_db_create(p, &db, "globex", &other, NOW, &u) == NULL);

    apr_int64_t total = 0;
    apr_array_header_t *users = NULL;
    scim_page page = {.start_index = 11, .count = 10};
    CHECK(scim_db_list(p, &db, "acme", NULL, &page, &total, &users) == NULL);
    CHECK_INT(total, 30);
    CHECK_INT(users->nelts, 10);
    if (users->nelts == 10) /* ordered by userName: the 11th is user10 */
        CHECK(strstr(APR_ARRAY_IDX(users, 0, scim_stored_user).resource, "user10@") != NULL);

    const scim_filter *f = NULL;
    CHECK_STR(scim_filter_parse(p, "userName eq \"USER07@example.com\"", &f), NULL);
    page = (scim_page){.start_index = 1, .count = 100};
    CHECK(scim_db_list(p, &db, "acme", f, &page, &total, &users) == NULL);
    CHECK_INT(total, 1);
    CHECK_STR(scim_filter_parse(p, "emails[type eq \"work\" and value ew \"work.example\"] "
                                   "and active eq false", &f), NULL);
    CHECK(scim_db_list(p, &db, "acme", f, &page, &total, &users) == NULL);
    CHECK_INT(total, 10);
    /* % and _ in a value are literal */
    CHECK_STR(scim_filter_parse(p, "userName sw \"user_\"", &f), NULL);
    CHECK(scim_db_list(p, &db, "acme", f, &page, &total, &users) == NULL);
    CHECK_INT(total, 0);
    page.count = 0;
    CHECK(scim_db_list(p, &db, "acme", NULL, &page, &total, &users) == NULL);
    CHECK_INT(total, 30);
    CHECK_INT(users->nelts, 0);
}

static void test_scim_db_replace_versions_and_deactivation(apr_pool_t *p)
{
    scim_db db = open_db(p);
    scim_stored_user a, b, after;
    scim_user_record rec = user(p, "ann@example.com", 1, NULL);
    CHECK(scim_db_create(p, &db, "acme", &rec, NOW, &a) == NULL);
    scim_db_user_state state;
    const char *given, *family;
    CHECK(scim_db_user_state_get(p, &db, "acme", "ANN@example.com", &state, &given, &family)
          == NULL);
    CHECK_INT(state, SCIM_DB_USER_ACTIVE);
    CHECK_STR(given, "Ann");

    scim_user_record off = user(p, "ann@example.com", 0, NULL);
    CHECK(scim_db_replace(p, &db, "acme", a.id, &off, 1, NOW + 1000000, &after) == NULL);
    CHECK_INT(after.version, 2);
    CHECK_STR(after.last_modified, "2026-01-01T00:00:01Z");
    CHECK(scim_db_user_state_get(p, &db, "acme", "ann@example.com", &state, &given, &family)
          == NULL);
    CHECK_INT(state, SCIM_DB_USER_INACTIVE);
    /* a stale version loses */
    scim_error *err = scim_db_replace(p, &db, "acme", a.id, &rec, 1, NOW, &after);
    CHECK(err && err->status == 412);
    /* renaming onto a taken name is refused and changes nothing */
    scim_user_record bob = user(p, "bob@example.com", 1, NULL);
    CHECK(scim_db_create(p, &db, "acme", &bob, NOW, &b) == NULL);
    scim_user_record clash = user(p, "BOB@example.com", 1, NULL);
    err = scim_db_replace(p, &db, "acme", a.id, &clash, 0, NOW, &after);
    CHECK(err && err->status == 409);
    CHECK(scim_db_get(p, &db, "acme", a.id, &after) == NULL);
    CHECK_INT(after.version, 2);
    CHECK(scim_db_user_state_get(p, &db, "acme", "nobody@example.com", &state, &given,
                                 &family) == NULL);
    CHECK_INT(state, SCIM_DB_USER_ABSENT);
    err = scim_db_replace(p, &db, "globex", a.id, &rec, 0, NOW, &after);
    CHECK(err && err->status == 404);
}

static void test_scim_db_delete(apr_pool_t *p)
{
    scim_db db = open_db(p);
    scim_stored_user a, got;
    scim_user_record rec = user(p, "ann@example.com", 1, "ann@example.com");
    CHECK(scim_db_create(p, &db, "acme", &rec, NOW, &a) == NULL);
    scim_error *err = scim_db_delete(p, &db, "globex", a.id);
    CHECK(err && err->status == 404);
    CHECK(scim_db_delete(p, &db, "acme", a.id) == NULL);
    err = scim_db_get(p, &db, "acme", a.id, &got);
    CHECK(err && err->status == 404);
    CHECK(scim_db_create(p, &db, "acme", &rec, NOW, &a) == NULL); /* name free again */
}

static const unit_case cases[] = {
    UNIT(test_scim_db_migrate_is_idempotent),
    UNIT(test_scim_db_create_get_and_unique_username),
    UNIT(test_scim_db_list_filters_pages_and_counts),
    UNIT(test_scim_db_replace_versions_and_deactivation),
    UNIT(test_scim_db_delete),
    UNIT_END
};

int main(void) { return unit_run("scim_db", cases); }
