/* org_store against a real SQLite through apr_dbd (in memory), and the schema migration from
 * version 1 (the SCIM store alone) to version 2 (the org registry). */
#include <stdlib.h>
#include <apr_dbd.h>
#include <apr_strings.h>
#include "unit.h"
#include "org_store.h"
#include "saml_time.h"
#include "scim_auth.h"
#include "scim_db.h"
#include "scim_store.h"

#define NOW 1767225600000000LL /* 2026-01-01T00:00:00Z */
#define SECOND 1000000LL

static char *slurp(apr_pool_t *p, const char *name)
{
    char *path = apr_pstrcat(p, OKTA_FIXTURE_DIR, "/", name, NULL);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(2);
    }
    char *buf = apr_palloc(p, 1 << 20);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static const char *okta_metadata(apr_pool_t *p)
{
    return slurp(p, "okta_idp_metadata.xml");
}

/* The same IdP metadata under another entity ID: a second valid document. */
static const char *other_metadata(apr_pool_t *p)
{
    const char *xml = okta_metadata(p);
    const char *id = "http://www.okta.com/exkppsa1qwuFV4D7z0h7";
    const char *at = strstr(xml, id);
    return apr_pstrcat(p, apr_pstrndup(p, xml, at - xml), "https://idp.example.com/other",
                       at + strlen(id), NULL);
}

static apr_status_t close_db(void *data)
{
    scim_db *db = data;
    return apr_dbd_close(db->driver, db->handle);
}

/* An empty in-memory SQLite, closed when the test's pool is cleared. */
static scim_db open_empty_db(apr_pool_t *p)
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
    return db;
}

static scim_db open_db(apr_pool_t *p)
{
    scim_db db = open_empty_db(p);
    const char *err = scim_db_migrate(p, &db);
    if (err) {
        fprintf(stderr, "migrate: %s\n", err);
        exit(2);
    }
    return db;
}

static void exec(const scim_db *db, const char *sql)
{
    int nrows = 0;
    int rv = apr_dbd_query(db->driver, db->handle, &nrows, sql);
    if (rv != 0) {
        fprintf(stderr, "%s: %s\n", sql, apr_dbd_error(db->driver, db->handle, rv));
        exit(2);
    }
}

static const char *query_one(apr_pool_t *p, const scim_db *db, const char *sql)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    if (apr_dbd_select(db->driver, p, db->handle, &res, sql, 1) != 0
        || apr_dbd_get_row(db->driver, p, res, &row, -1) != 0)
        return NULL;
    const char *v = apr_dbd_get_entry(db->driver, row, 0);
    return v ? apr_pstrdup(p, v) : NULL;
}

static apr_int64_t version_of(apr_pool_t *p, const scim_db *db, const char *slug)
{
    apr_int64_t v = -1;
    const char *err = NULL;
    if (org_store_version(p, db, slug, &v, &err) != ORG_STORE_OK)
        return -1;
    return v;
}

static org_record get(apr_pool_t *p, const scim_db *db, const char *slug)
{
    org_record rec = {0};
    const char *err = NULL;
    org_store_status st = org_store_get(p, db, slug, &rec, &err);
    if (st != ORG_STORE_OK)
        fprintf(stderr, "  get %s: %d %s\n", slug, st, err ? err : "");
    return rec;
}

static void test_slug_rules(apr_pool_t *p)
{
    const char *valid[] = {"acme", "a", "0", "a-b", "9lives", "a--b",
                           "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0", NULL};
    for (const char **s = valid; *s; s++) {
        CHECK(org_slug_is_valid(*s));
        CHECK_STR(org_slug_check(p, *s), NULL);
    }
    CHECK_INT(strlen(valid[6]), 63);
    const char *too_long = apr_pstrcat(p, valid[6], "x", NULL);
    const struct { const char *slug, *reason; } invalid[] = {
        {"", "is empty"},
        {"Acme", "only lower-case letters a-z, digits and '-'"},
        {"a_b", "only lower-case letters"},
        {"a.b", "only lower-case letters"},
        {"acme/x", "only lower-case letters"},
        {"é", "only lower-case letters"},
        {"-acme", "must start with a letter or a digit"},
        {"acme-", "must not end with '-'"},
        {too_long, "longer than 63 characters"},
        {"saml", "reserved"},
        {"scim", "reserved"},
        {NULL, NULL}};
    for (int i = 0; invalid[i].slug; i++) {
        CHECK(!org_slug_is_valid(invalid[i].slug));
        const char *why = org_slug_check(p, invalid[i].slug);
        CHECK(why && strstr(why, invalid[i].reason));
        if (why == NULL || strstr(why, invalid[i].reason) == NULL)
            fprintf(stderr, "  slug '%s': %s\n", invalid[i].slug, why ? why : "(accepted)");
    }
    CHECK(!org_slug_is_valid(NULL));
}

static void test_create_gives_the_documented_defaults(apr_pool_t *p)
{
    scim_db db = open_db(p);
    const char *err = NULL;
    CHECK_INT(org_store_create(p, &db, "acme", NOW, &err), ORG_STORE_OK);
    org_record rec = get(p, &db, "acme");
    CHECK_STR(rec.slug, "acme");
    CHECK_INT(rec.saml_enabled, 0);
    CHECK_INT(rec.saml_enforced, 1);
    CHECK_INT(rec.groupsync_enabled, 0);
    CHECK_INT(rec.scim_enabled, 0);
    CHECK_STR(rec.idp_metadata_xml, NULL);
    CHECK_STR(rec.idp_metadata_url, NULL);
    CHECK_STR(rec.metadata_fetched_at, NULL);
    CHECK_STR(rec.metadata_error, NULL);
    CHECK_STR(rec.scim_token_hash, NULL);
    CHECK(rec.groupsync && rec.groupsync->nelts == 0);
    CHECK(rec.version > 0);
    CHECK_STR(rec.created, "2026-01-01T00:00:00Z");
    CHECK_STR(rec.updated, "2026-01-01T00:00:00Z");

    CHECK_INT(org_store_create(p, &db, "acme", NOW, &err), ORG_STORE_REFUSED);
    CHECK_STR(err, "org 'acme' exists already");
    CHECK_INT(org_store_create(p, &db, "Acme", NOW, &err), ORG_STORE_REFUSED);
    CHECK(strstr(err, "only lower-case letters"));
    CHECK_INT(org_store_create(p, &db, "saml", NOW, &err), ORG_STORE_REFUSED);
    CHECK(strstr(err, "reserved"));

    CHECK_INT(org_store_create(p, &db, "globex", NOW, &err), ORG_STORE_OK);
    apr_array_header_t *slugs = NULL;
    CHECK_INT(org_store_list(p, &db, &slugs, &err), ORG_STORE_OK);
    CHECK_INT(slugs->nelts, 2);
    if (slugs->nelts == 2) {
        CHECK_STR(APR_ARRAY_IDX(slugs, 0, const char *), "acme");
        CHECK_STR(APR_ARRAY_IDX(slugs, 1, const char *), "globex");
    }
}

/* Runs one writer a second after the previous (at t) and checks that it succeeded and raised
 * the version and `updated`. */
#define CHECK_BUMPS(db, slug, call) do { \
    t += SECOND; \
    apr_int64_t before_ = version_of(p, (db), (slug)); \
    const char *err_ = NULL; \
    org_store_status st_ = (call); \
    if (st_ != ORG_STORE_OK) fprintf(stderr, "  %s: %s\n", #call, err_ ? err_ : ""); \
    CHECK_INT(st_, ORG_STORE_OK); \
    CHECK(version_of(p, (db), (slug)) > before_); \
    CHECK_STR(get(p, (db), (slug)).updated, saml_time_format(p, t)); \
} while (0)

static void test_every_writer_raises_the_version(apr_pool_t *p)
{
    scim_db db = open_db(p);
    const char *err = NULL;
    CHECK_INT(org_store_create(p, &db, "acme", NOW, &err), ORG_STORE_OK);
    apr_int64_t first = version_of(p, &db, "acme");
    apr_time_t t = NOW;
    const char *hash = scim_token_hash_line(p, "s3cret");
    CHECK_BUMPS(&db, "acme",
                org_store_set_metadata(p, &db, "acme", okta_metadata(p), NULL, t, &err_));
    CHECK_BUMPS(&db, "acme",
                org_store_set_metadata(p, &db, "acme", other_metadata(p),
                                       "https://idp.example.com/md", t, &err_));
    CHECK_BUMPS(&db, "acme",
                org_store_record_fetch_failure(p, &db, "acme", "HTTP 404 from x", t, &err_));
    CHECK_BUMPS(&db, "acme", org_store_set_saml_enabled(p, &db, "acme", 1, t, &err_));
    CHECK_BUMPS(&db, "acme", org_store_set_saml_enabled(p, &db, "acme", 0, t, &err_));
    CHECK_BUMPS(&db, "acme", org_store_set_saml_enforced(p, &db, "acme", 0, t, &err_));
    CHECK_BUMPS(&db, "acme", org_store_set_groupsync_enabled(p, &db, "acme", 1, t, &err_));
    CHECK_BUMPS(&db, "acme",
                org_store_groupsync_add(p, &db, "acme", "groups", "Dev", "developers", NULL, t,
                                        NULL, &err_));
    CHECK_BUMPS(&db, "acme",
                org_store_groupsync_add(p, &db, "acme", "groups", "Dev", "developers",
                                        "Manager", t, NULL, &err_));
    CHECK_BUMPS(&db, "acme",
                org_store_groupsync_remove(p, &db, "acme", "groups", "Dev", "developers", t,
                                           &err_));
    CHECK_BUMPS(&db, "acme", org_store_set_scim_token_hash(p, &db, "acme", hash, t, &err_));
    CHECK_BUMPS(&db, "acme", org_store_set_scim_enabled(p, &db, "acme", 1, t, &err_));
    CHECK(version_of(p, &db, "acme") >= first + 12);

    /* versions are registry-wide: another org's change does not touch acme's */
    apr_int64_t acme = version_of(p, &db, "acme");
    CHECK_INT(org_store_create(p, &db, "globex", t, &err), ORG_STORE_OK);
    CHECK(version_of(p, &db, "globex") > acme);
    CHECK_INT(version_of(p, &db, "acme"), acme);
}

static void test_refusals_change_nothing(apr_pool_t *p)
{
    scim_db db = open_db(p);
    const char *err = NULL;
    CHECK_INT(org_store_create(p, &db, "acme", NOW, &err), ORG_STORE_OK);
    apr_int64_t v = version_of(p, &db, "acme");
    CHECK_INT(org_store_set_saml_enabled(p, &db, "acme", 1, NOW, &err), ORG_STORE_REFUSED);
    CHECK_STR(err, "org 'acme' has no IdP metadata yet: store the IdP's metadata before "
                   "enabling SAML");
    CHECK_INT(org_store_set_scim_enabled(p, &db, "acme", 1, NOW, &err), ORG_STORE_REFUSED);
    CHECK_STR(err, "org 'acme' has no SCIM secret yet: make one before enabling SCIM");
    CHECK_INT(org_store_set_scim_token_hash(p, &db, "acme", "sha256:abc", NOW, &err),
              ORG_STORE_REFUSED);
    CHECK(strstr(err, "64 lower-case hex digits"));
    CHECK_INT(org_store_groupsync_add(p, &db, "acme", "groups", "Dev", "developers", "Owner",
                                      NOW, NULL, &err), ORG_STORE_REFUSED);
    CHECK_STR(err, "role 'Owner' must be Member or Manager");
    CHECK_INT(org_store_groupsync_add(p, &db, "acme", "", "Dev", "developers", NULL, NOW, NULL,
                                      &err), ORG_STORE_REFUSED);
    CHECK_STR(err, "IDP_KEY must not be empty");
    CHECK_INT(org_store_groupsync_add(p, &db, "acme", "groups", "Dev", "dev\nX-Evil: 1", NULL,
                                      NOW, NULL, &err), ORG_STORE_REFUSED);
    CHECK(strstr(err, "TEAM must not contain control characters"));
    CHECK_INT(org_store_groupsync_remove(p, &db, "acme", "groups", "Dev", "developers", NOW,
                                         &err), ORG_STORE_NOT_FOUND);
    CHECK_STR(err, "org 'acme' has no mapping groups=Dev -> developers");
    CHECK_INT(org_store_record_fetch_failure(p, &db, "acme", "", NOW, &err), ORG_STORE_REFUSED);
    org_record rec = get(p, &db, "acme");
    CHECK_INT(rec.version, v);
    CHECK_INT(rec.saml_enabled, 0);
    CHECK_INT(rec.scim_enabled, 0);
    CHECK_STR(rec.scim_token_hash, NULL);
    CHECK_INT(rec.groupsync->nelts, 0);
}

static void test_invalid_metadata_is_refused_and_the_previous_kept(apr_pool_t *p)
{
    scim_db db = open_db(p);
    const char *err = NULL;
    CHECK_INT(org_store_create(p, &db, "acme", NOW, &err), ORG_STORE_OK);
    const char *good = okta_metadata(p);
    CHECK_INT(org_store_set_metadata(p, &db, "acme", good, "https://idp.example.com/md", NOW,
                                     &err), ORG_STORE_OK);
    apr_int64_t v = version_of(p, &db, "acme");

    CHECK_INT(org_store_set_metadata(p, &db, "acme", "<md:EntityDescriptor", NULL, NOW, &err),
              ORG_STORE_REFUSED);
    CHECK(strncmp(err, "not valid IdP metadata: not well-formed XML (line 1", 51) == 0);
    CHECK_INT(org_store_set_metadata(p, &db, "acme", "<!DOCTYPE x><x/>", NULL, NOW, &err),
              ORG_STORE_REFUSED);
    CHECK(strstr(err, "DTD"));
    CHECK_INT(org_store_set_metadata(p, &db, "acme",
                                     "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:"
                                     "metadata\" entityID=\"x\"><md:SPSSODescriptor/>"
                                     "</md:EntityDescriptor>", NULL, NOW, &err),
              ORG_STORE_REFUSED);
    CHECK_STR(err, "not valid IdP metadata: no IDPSSODescriptor: this is not an identity "
                   "provider's metadata");
    /* the signing certificate is what SSO trusts: metadata without one is refused */
    const char *no_cert = apr_pstrdup(p, good);
    char *kd = strstr(no_cert, "<md:KeyDescriptor");
    char *kd_end = kd ? strstr(kd, "</md:KeyDescriptor>") : NULL;
    CHECK(kd && kd_end);
    if (kd && kd_end) {
        no_cert = apr_pstrcat(p, apr_pstrndup(p, no_cert, kd - no_cert),
                              kd_end + strlen("</md:KeyDescriptor>"), NULL);
        CHECK_INT(org_store_set_metadata(p, &db, "acme", no_cert, NULL, NOW, &err),
                  ORG_STORE_REFUSED);
        CHECK(strstr(err, "no signing certificate"));
    }
    char *huge = apr_palloc(p, ORG_METADATA_MAX_BYTES + 2);
    memset(huge, ' ', ORG_METADATA_MAX_BYTES + 1);
    huge[ORG_METADATA_MAX_BYTES + 1] = '\0';
    CHECK_INT(org_store_set_metadata(p, &db, "acme", huge, NULL, NOW, &err), ORG_STORE_REFUSED);
    CHECK_STR(err, "the IdP metadata is 1048577 bytes; the limit is 1048576");
    CHECK_INT(org_store_set_metadata(p, &db, "acme", good, "ftp://idp.example.com/md", NOW,
                                     &err), ORG_STORE_REFUSED);
    CHECK(strstr(err, "not an http:// or https:// URL"));

    org_record rec = get(p, &db, "acme");
    CHECK_STR(rec.idp_metadata_xml, good);
    CHECK_STR(rec.idp_metadata_url, "https://idp.example.com/md");
    CHECK_INT(rec.version, v);
}

static void test_metadata_url_fetch_time_and_failure(apr_pool_t *p)
{
    scim_db db = open_db(p);
    const char *err = NULL;
    CHECK_INT(org_store_create(p, &db, "acme", NOW, &err), ORG_STORE_OK);
    const char *good = okta_metadata(p);
    CHECK_INT(org_store_set_metadata(p, &db, "acme", good, "https://idp.example.com/md",
                                     NOW + 5 * SECOND, &err), ORG_STORE_OK);
    org_record rec = get(p, &db, "acme");
    CHECK_STR(rec.idp_metadata_url, "https://idp.example.com/md");
    CHECK_STR(rec.metadata_fetched_at, "2026-01-01T00:00:05Z");
    CHECK_STR(rec.metadata_error, NULL);

    /* a failed fetch is recorded; what was fetched before stays */
    CHECK_INT(org_store_record_fetch_failure(p, &db, "acme", "timed out after 10 s",
                                             NOW + 9 * SECOND, &err), ORG_STORE_OK);
    rec = get(p, &db, "acme");
    CHECK_STR(rec.metadata_error, "timed out after 10 s");
    CHECK_STR(rec.idp_metadata_xml, good);
    CHECK_STR(rec.idp_metadata_url, "https://idp.example.com/md");
    CHECK_STR(rec.metadata_fetched_at, "2026-01-01T00:00:05Z");

    /* the next good fetch clears the failure */
    const char *other = other_metadata(p);
    CHECK_INT(org_store_set_metadata(p, &db, "acme", other, "https://idp.example.com/md",
                                     NOW + 20 * SECOND, &err), ORG_STORE_OK);
    rec = get(p, &db, "acme");
    CHECK_STR(rec.idp_metadata_xml, other);
    CHECK_STR(rec.metadata_error, NULL);
    CHECK_STR(rec.metadata_fetched_at, "2026-01-01T00:00:20Z");

    CHECK_INT(org_store_create(p, &db, "globex", NOW, &err), ORG_STORE_OK);
    CHECK_INT(org_store_create(p, &db, "initech", NOW, &err), ORG_STORE_OK);
    CHECK_INT(org_store_set_metadata(p, &db, "initech", good, NULL, NOW, &err), ORG_STORE_OK);
    CHECK_INT(org_store_set_metadata(p, &db, "globex", good, "https://globex.example/md", NOW,
                                     &err), ORG_STORE_OK);
    apr_array_header_t *sources = NULL;
    CHECK_INT(org_store_metadata_sources(p, &db, &sources, &err), ORG_STORE_OK);
    CHECK_INT(sources->nelts, 2); /* initech's metadata came from a file */
    if (sources->nelts == 2) {
        CHECK_STR(APR_ARRAY_IDX(sources, 0, org_metadata_source).slug, "acme");
        CHECK_STR(APR_ARRAY_IDX(sources, 0, org_metadata_source).url,
                  "https://idp.example.com/md");
        CHECK_STR(APR_ARRAY_IDX(sources, 1, org_metadata_source).slug, "globex");
    }

    /* metadata given directly (a file) drops the URL and the fetch time */
    CHECK_INT(org_store_set_metadata(p, &db, "acme", good, NULL, NOW + 30 * SECOND, &err),
              ORG_STORE_OK);
    rec = get(p, &db, "acme");
    CHECK_STR(rec.idp_metadata_xml, good);
    CHECK_STR(rec.idp_metadata_url, NULL);
    CHECK_STR(rec.metadata_fetched_at, NULL);
}

static void test_groupsync_mappings_in_a_stable_order(apr_pool_t *p)
{
    scim_db db = open_db(p);
    const char *err = NULL, *previous = "unset";
    CHECK_INT(org_store_create(p, &db, "acme", NOW, &err), ORG_STORE_OK);
    CHECK_INT(org_store_groupsync_add(p, &db, "acme", "groups", "Ops", "operations", "manager",
                                      NOW, &previous, &err), ORG_STORE_OK);
    CHECK_STR(previous, NULL);
    CHECK_INT(org_store_groupsync_add(p, &db, "acme", "Dev", "Dev", "developers", NULL, NOW,
                                      NULL, &err), ORG_STORE_OK);
    CHECK_INT(org_store_groupsync_add(p, &db, "acme", "groups", "Dev", "developers", NULL, NOW,
                                      NULL, &err), ORG_STORE_OK);
    CHECK_INT(org_store_groupsync_add(p, &db, "globex", "groups", "Dev", "developers", NULL,
                                      NOW, NULL, &err), ORG_STORE_NOT_FOUND);
    CHECK_STR(err, "there is no org 'globex'");

    org_record rec = get(p, &db, "acme");
    CHECK_INT(rec.groupsync->nelts, 3);
    if (rec.groupsync->nelts == 3) {
        groupsync_rule *r = (groupsync_rule *)rec.groupsync->elts;
        CHECK_STR(r[0].idp_key, "Dev"); /* bytewise: upper case first */
        CHECK_STR(r[1].idp_value, "Dev");
        CHECK_STR(r[1].team, "developers");
        CHECK_INT(r[1].role, TEAM_ROLE_MEMBER);
        CHECK_STR(r[2].idp_value, "Ops");
        CHECK_INT(r[2].role, TEAM_ROLE_MANAGER);
    }
    CHECK_STR(query_one(p, &db, "SELECT role FROM org_groupsync WHERE idp_value = 'Ops'"),
              "Manager");

    /* the same mapping again changes its role, and says what it was */
    CHECK_INT(org_store_groupsync_add(p, &db, "acme", "groups", "Ops", "operations", "Member",
                                      NOW, &previous, &err), ORG_STORE_OK);
    CHECK_STR(previous, "Manager");
    rec = get(p, &db, "acme");
    CHECK_INT(rec.groupsync->nelts, 3);
    CHECK_INT(APR_ARRAY_IDX(rec.groupsync, 2, groupsync_rule).role, TEAM_ROLE_MEMBER);

    CHECK_INT(org_store_groupsync_remove(p, &db, "acme", "Dev", "Dev", "developers", NOW, &err),
              ORG_STORE_OK);
    rec = get(p, &db, "acme");
    CHECK_INT(rec.groupsync->nelts, 2);
    CHECK_STR(APR_ARRAY_IDX(rec.groupsync, 0, groupsync_rule).idp_key, "groups");
}

static void test_scim_hash_is_stored_as_its_canonical_line(apr_pool_t *p)
{
    scim_db db = open_db(p);
    const char *err = NULL;
    CHECK_INT(org_store_create(p, &db, "acme", NOW, &err), ORG_STORE_OK);
    char *line = scim_token_hash_line(p, "the-secret");
    CHECK_INT(org_store_set_scim_token_hash(p, &db, "acme", line, NOW, &err), ORG_STORE_OK);
    line[strlen(line) - 1] = '\0'; /* stored without its line end */
    CHECK_STR(get(p, &db, "acme").scim_token_hash, line);
    CHECK_INT(org_store_set_scim_enabled(p, &db, "acme", 1, NOW, &err), ORG_STORE_OK);
    CHECK_INT(get(p, &db, "acme").scim_enabled, 1);
}

static void test_delete_takes_mappings_and_scim_users_and_versions_never_repeat(apr_pool_t *p)
{
    scim_db db = open_db(p);
    const char *err = NULL;
    CHECK_INT(org_store_create(p, &db, "acme", NOW, &err), ORG_STORE_OK);
    CHECK_INT(org_store_create(p, &db, "globex", NOW, &err), ORG_STORE_OK);
    CHECK_INT(org_store_groupsync_add(p, &db, "acme", "groups", "Dev", "developers", NULL, NOW,
                                      NULL, &err), ORG_STORE_OK);
    CHECK_INT(org_store_groupsync_add(p, &db, "globex", "groups", "Dev", "developers", NULL,
                                      NOW, NULL, &err), ORG_STORE_OK);
    scim_user_record user = {.user_name = "ann@example.com", .user_name_lower = "ann@example.com",
                             .active = 1, .resource = "{}"};
    user.emails = apr_array_make(p, 1, sizeof(scim_email));
    APR_ARRAY_PUSH(user.emails, scim_email) = (scim_email){"ann@example.com", "ann@example.com",
                                                           "work", 1, 1};
    scim_stored_user acme_user, globex_user, got;
    CHECK(scim_db_create(p, &db, "acme", &user, NOW, &acme_user) == NULL);
    CHECK(scim_db_create(p, &db, "globex", &user, NOW, &globex_user) == NULL);
    apr_int64_t before = version_of(p, &db, "acme");

    int users_deleted = -1;
    CHECK_INT(org_store_delete(p, &db, "acme", &users_deleted, &err), ORG_STORE_OK);
    CHECK_INT(users_deleted, 1);
    apr_int64_t v = 0;
    CHECK_INT(org_store_version(p, &db, "acme", &v, &err), ORG_STORE_NOT_FOUND);
    CHECK_STR(err, "there is no org 'acme'");
    org_record rec;
    CHECK_INT(org_store_get(p, &db, "acme", &rec, &err), ORG_STORE_NOT_FOUND);
    CHECK_STR(query_one(p, &db, "SELECT COUNT(*) FROM org_groupsync WHERE slug = 'acme'"), "0");
    CHECK_STR(query_one(p, &db, "SELECT COUNT(*) FROM scim_user_emails WHERE org = 'acme'"),
              "0");
    CHECK(scim_db_get(p, &db, "acme", acme_user.id, &got) != NULL);
    /* the other org keeps everything */
    CHECK(scim_db_get(p, &db, "globex", globex_user.id, &got) == NULL);
    CHECK_INT(get(p, &db, "globex").groupsync->nelts, 1);
    CHECK_INT(org_store_delete(p, &db, "acme", NULL, &err), ORG_STORE_NOT_FOUND);

    /* a re-created slug never shows a version a reader may have cached for the old org */
    CHECK_INT(org_store_create(p, &db, "acme", NOW, &err), ORG_STORE_OK);
    CHECK(version_of(p, &db, "acme") > before);
    CHECK_INT(get(p, &db, "acme").groupsync->nelts, 0);
}

static apr_int64_t registry_version(apr_pool_t *p, scim_db *db)
{
    apr_int64_t v = -1;
    const char *err = NULL;
    CHECK_INT(org_store_registry_version(p, db, &v, &err), ORG_STORE_OK);
    return v;
}

/* The module re-checks orgs only when the registry's version moved: every change, a delete
 * included, must move it, and it must be the newest org version. */
static void test_the_registry_version_moves_with_every_change_and_delete(apr_pool_t *p)
{
    scim_db db = open_db(p);
    const char *err = NULL;
    CHECK_INT(registry_version(p, &db), 0);
    CHECK_INT(org_store_create(p, &db, "acme", NOW, &err), ORG_STORE_OK);
    CHECK_INT(org_store_create(p, &db, "globex", NOW, &err), ORG_STORE_OK);
    apr_int64_t v = registry_version(p, &db);
    CHECK(v == version_of(p, &db, "globex") && v > version_of(p, &db, "acme"));
    CHECK_INT(org_store_set_saml_enforced(p, &db, "acme", 0, NOW, &err), ORG_STORE_OK);
    CHECK(registry_version(p, &db) > v);
    CHECK(registry_version(p, &db) == version_of(p, &db, "acme"));
    v = registry_version(p, &db);
    CHECK_INT(org_store_delete(p, &db, "globex", NULL, &err), ORG_STORE_OK);
    CHECK(registry_version(p, &db) > v);
    v = registry_version(p, &db);
    /* refused and failed writes leave it alone */
    CHECK_INT(org_store_set_saml_enabled(p, &db, "acme", 1, NOW, &err), ORG_STORE_REFUSED);
    CHECK_INT(org_store_delete(p, &db, "nosuch", NULL, &err), ORG_STORE_NOT_FOUND);
    CHECK(registry_version(p, &db) == v);
}

static void test_writers_on_a_missing_org_are_not_found(apr_pool_t *p)
{
    scim_db db = open_db(p);
    const char *err = NULL;
    const char *md = okta_metadata(p);
    CHECK_INT(org_store_set_saml_enabled(p, &db, "nope", 0, NOW, &err), ORG_STORE_NOT_FOUND);
    CHECK_STR(err, "there is no org 'nope'");
    CHECK_INT(org_store_set_saml_enforced(p, &db, "nope", 1, NOW, &err), ORG_STORE_NOT_FOUND);
    CHECK_INT(org_store_set_groupsync_enabled(p, &db, "nope", 1, NOW, &err),
              ORG_STORE_NOT_FOUND);
    CHECK_INT(org_store_set_scim_enabled(p, &db, "nope", 0, NOW, &err), ORG_STORE_NOT_FOUND);
    CHECK_INT(org_store_set_metadata(p, &db, "nope", md, NULL, NOW, &err), ORG_STORE_NOT_FOUND);
    CHECK_INT(org_store_record_fetch_failure(p, &db, "nope", "x", NOW, &err),
              ORG_STORE_NOT_FOUND);
    CHECK_INT(org_store_set_scim_token_hash(p, &db, "nope", scim_token_hash_line(p, "s"), NOW,
                                            &err), ORG_STORE_NOT_FOUND);
    CHECK_INT(org_store_groupsync_remove(p, &db, "nope", "a", "b", "c", NOW, &err),
              ORG_STORE_NOT_FOUND);
    CHECK_INT(org_store_delete(p, &db, "nope", NULL, &err), ORG_STORE_NOT_FOUND);
    /* and writers given an invalid slug say why it is invalid */
    CHECK_INT(org_store_set_saml_enforced(p, &db, "No Such", 1, NOW, &err), ORG_STORE_REFUSED);
    CHECK(strstr(err, "only lower-case letters"));
    CHECK_STR(query_one(p, &db, "SELECT COUNT(*) FROM orgs"), "0");
    CHECK_STR(query_one(p, &db, "SELECT last_version FROM org_version_counter"), "0");
}

static void test_a_broken_database_is_failed_not_not_found(apr_pool_t *p)
{
    scim_db db = open_db(p);
    const char *err = NULL;
    CHECK_INT(org_store_create(p, &db, "acme", NOW, &err), ORG_STORE_OK);
    exec(&db, "DROP TABLE org_groupsync");
    org_record rec;
    CHECK_INT(org_store_get(p, &db, "acme", &rec, &err), ORG_STORE_FAILED);
    CHECK(strstr(err, "the org registry failed (select mappings: ")
          && strstr(err, "no such table"));
    exec(&db, "DROP TABLE orgs");
    apr_int64_t v = 0;
    CHECK_INT(org_store_version(p, &db, "acme", &v, &err), ORG_STORE_FAILED);
    CHECK(strstr(err, "no such table: orgs"));
    CHECK_INT(org_store_get(p, &db, "acme", &rec, &err), ORG_STORE_FAILED);
    apr_array_header_t *slugs = NULL;
    CHECK_INT(org_store_list(p, &db, &slugs, &err), ORG_STORE_FAILED);
    CHECK_INT(org_store_create(p, &db, "globex", NOW, &err), ORG_STORE_FAILED);
    CHECK_INT(org_store_set_saml_enforced(p, &db, "acme", 1, NOW, &err), ORG_STORE_FAILED);
    CHECK_INT(org_store_delete(p, &db, "acme", NULL, &err), ORG_STORE_FAILED);
    /* the failed writers rolled back their version step */
    CHECK_STR(query_one(p, &db, "SELECT last_version FROM org_version_counter"), "1");
    /* a slug that cannot exist is not asked for */
    CHECK_INT(org_store_version(p, &db, "../etc", &v, &err), ORG_STORE_NOT_FOUND);
}

/* The version 1 schema exactly as released (before the org registry), SQLite. */
static const char *const schema_v1[] = {
    "CREATE TABLE IF NOT EXISTS scim_schema_version (version INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS scim_users (org TEXT NOT NULL, id TEXT NOT NULL, "
    "user_name TEXT NOT NULL, user_name_lower TEXT NOT NULL, external_id TEXT, given_name TEXT, "
    "family_name TEXT, formatted_name TEXT, display_name TEXT, "
    "active INTEGER NOT NULL CHECK (active IN (0, 1)), created TEXT NOT NULL, "
    "last_modified TEXT NOT NULL, version INTEGER NOT NULL, resource TEXT NOT NULL, "
    "PRIMARY KEY (org, id))",
    "CREATE UNIQUE INDEX IF NOT EXISTS scim_users_user_name ON scim_users (org, user_name_lower)",
    "CREATE INDEX IF NOT EXISTS scim_users_external_id ON scim_users (org, external_id)",
    "CREATE TABLE IF NOT EXISTS scim_user_emails (org TEXT NOT NULL, user_id TEXT NOT NULL, "
    "position INTEGER NOT NULL, value TEXT, value_lower TEXT, type TEXT, "
    "is_primary INTEGER CHECK (is_primary IN (0, 1)), PRIMARY KEY (org, user_id, position), "
    "FOREIGN KEY (org, user_id) REFERENCES scim_users (org, id) ON DELETE CASCADE)",
    "CREATE INDEX IF NOT EXISTS scim_user_emails_value ON scim_user_emails (org, value_lower)",
    "INSERT INTO scim_schema_version (version) SELECT 1 "
    "WHERE NOT EXISTS (SELECT 1 FROM scim_schema_version)",
    NULL};

static void test_a_version_1_database_migrates_in_place(apr_pool_t *p)
{
    scim_db db = open_empty_db(p);
    for (const char *const *sql = schema_v1; *sql; sql++)
        exec(&db, *sql);
    scim_user_record user = {.user_name = "Ann@Example.com", .user_name_lower = "ann@example.com",
                             .given_name = "Ann", .active = 1,
                             .resource = "{\"userName\":\"Ann@Example.com\"}"};
    user.emails = apr_array_make(p, 1, sizeof(scim_email));
    scim_stored_user stored, got;
    CHECK(scim_db_create(p, &db, "acme", &user, NOW, &stored) == NULL);
    CHECK_STR(query_one(p, &db, "SELECT version FROM scim_schema_version"), "1");
    CHECK_STR(query_one(p, &db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'orgs'"), "0");

    CHECK_STR(scim_db_migrate(p, &db), NULL);
    CHECK_STR(query_one(p, &db, "SELECT version FROM scim_schema_version"), "2");
    CHECK_STR(query_one(p, &db, "SELECT COUNT(*) FROM scim_schema_version"), "1");
    CHECK(scim_db_get(p, &db, "acme", stored.id, &got) == NULL);
    CHECK_STR(got.resource, "{\"userName\":\"Ann@Example.com\"}");
    const char *err = NULL;
    CHECK_INT(org_store_create(p, &db, "acme", NOW, &err), ORG_STORE_OK);
    CHECK_INT(get(p, &db, "acme").saml_enforced, 1);

    /* migrating again changes nothing */
    CHECK_STR(scim_db_migrate(p, &db), NULL);
    CHECK_STR(query_one(p, &db, "SELECT version FROM scim_schema_version"), "2");
    CHECK_STR(query_one(p, &db, "SELECT COUNT(*) FROM org_version_counter"), "1");
    CHECK(version_of(p, &db, "acme") > 0);
    CHECK(scim_db_get(p, &db, "acme", stored.id, &got) == NULL);
}

static const unit_case cases[] = {
    UNIT(test_slug_rules),
    UNIT(test_create_gives_the_documented_defaults),
    UNIT(test_every_writer_raises_the_version),
    UNIT(test_refusals_change_nothing),
    UNIT(test_invalid_metadata_is_refused_and_the_previous_kept),
    UNIT(test_metadata_url_fetch_time_and_failure),
    UNIT(test_groupsync_mappings_in_a_stable_order),
    UNIT(test_scim_hash_is_stored_as_its_canonical_line),
    UNIT(test_delete_takes_mappings_and_scim_users_and_versions_never_repeat),
    UNIT(test_the_registry_version_moves_with_every_change_and_delete),
    UNIT(test_writers_on_a_missing_org_are_not_found),
    UNIT(test_a_broken_database_is_failed_not_not_found),
    UNIT(test_a_version_1_database_migrates_in_place),
    UNIT_END
};

int main(void) { return unit_run("org_store", cases); }
