#include "unit.h"
#include <stdlib.h>
#include <apr_strings.h>
#include "scim_user.h"

#define CORE "\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"]"
#define BASE "https://sso.example.com/acme/scim/v2"

/* Okta's create request (Okta SCIM 2.0 reference, "Create the User"). */
static const char *const okta_create =
    "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
    "\"userName\":\"test.user@okta.local\","
    "\"name\":{\"givenName\":\"Test\",\"familyName\":\"User\"},"
    "\"emails\":[{\"primary\":true,\"value\":\"test.user@okta.local\",\"type\":\"work\"}],"
    "\"displayName\":\"Test User\",\"locale\":\"en-US\",\"externalId\":\"00ujl29u0le5T6Aj10h7\","
    "\"groups\":[],\"password\":\"1mz050nq\",\"active\":true}";

static scim_error *parse(apr_pool_t *p, const char *json, scim_user_record *rec)
{
    return scim_user_parse(p, json, strlen(json), rec);
}

/* The error as "status scimType: detail", or NULL. */
static const char *failure(apr_pool_t *p, const char *json)
{
    scim_user_record rec;
    scim_error *err = parse(p, json, &rec);
    if (err == NULL)
        return NULL;
    const char *type = scim_error_type_name(err->type);
    return apr_psprintf(p, "%d %s: %s", err->status, type ? type : "-", err->detail);
}

/* Canonical resource JSON of a valid body. */
static const char *normalized(apr_pool_t *p, const char *json)
{
    scim_user_record rec;
    scim_error *err = parse(p, json, &rec);
    return err ? apr_pstrcat(p, "error: ", err->detail, NULL) : rec.resource;
}

static scim_stored_user stored(apr_pool_t *p, const char *json)
{
    scim_user_record rec;
    scim_stored_user user = { "2819c223", "2024-01-02T03:04:05Z", "2024-02-03T04:05:06Z", 3,
                              NULL };
    scim_error *err = parse(p, json, &rec);
    user.resource = err ? "" : rec.resource;
    return user;
}

static const char *rendered(apr_pool_t *p, const char *json, const char *attributes,
                            const char *excluded)
{
    scim_projection proj;
    scim_stored_user user = stored(p, json);
    if (scim_projection_parse(p, attributes, excluded, &proj) != NULL)
        return "bad projection";
    return scim_user_render(p, &user, BASE, &proj);
}

#define META "\"meta\":{\"resourceType\":\"User\",\"created\":\"2024-01-02T03:04:05Z\"," \
             "\"lastModified\":\"2024-02-03T04:05:06Z\",\"location\":\"" BASE \
             "/Users/2819c223\",\"version\":\"W/\\\"3\\\"\"}"

static void test_user_parse_okta_create_request(apr_pool_t *p)
{
    scim_user_record rec;
    CHECK(parse(p, okta_create, &rec) == NULL);
    CHECK_STR(rec.user_name, "test.user@okta.local");
    CHECK_STR(rec.user_name_lower, "test.user@okta.local");
    CHECK_STR(rec.external_id, "00ujl29u0le5T6Aj10h7");
    CHECK_STR(rec.given_name, "Test");
    CHECK_STR(rec.family_name, "User");
    CHECK_STR(rec.formatted_name, NULL);
    CHECK_STR(rec.display_name, "Test User");
    CHECK_INT(rec.active, 1);
    CHECK_INT(rec.emails->nelts, 1);
    const scim_email *e = &APR_ARRAY_IDX(rec.emails, 0, scim_email);
    CHECK_STR(e->value, "test.user@okta.local");
    CHECK_STR(e->type, "work");
    CHECK_INT(e->primary, 1);
    CHECK_INT(e->primary_given, 1);
    CHECK_STR(rec.resource,
              "{" CORE ",\"userName\":\"test.user@okta.local\","
              "\"name\":{\"givenName\":\"Test\",\"familyName\":\"User\"},"
              "\"emails\":[{\"primary\":true,\"value\":\"test.user@okta.local\",\"type\":\"work\"}"
              "],"
              "\"displayName\":\"Test User\",\"locale\":\"en-US\","
              "\"externalId\":\"00ujl29u0le5T6Aj10h7\",\"active\":true}");
}

static void test_user_password_is_accepted_but_never_kept(apr_pool_t *p)
{
    CHECK(strstr(normalized(p, okta_create), "password") == NULL);
    CHECK(strstr(normalized(p, okta_create), "1mz050nq") == NULL);
    CHECK_STR(failure(p, "{" CORE ",\"userName\":\"a\",\"password\":5}"),
              "400 invalidValue: 'password' must be a string");
}

static void test_user_ignores_client_id_meta_and_groups(apr_pool_t *p)
{
    CHECK_STR(normalized(p, "{" CORE ",\"id\":\"mine\",\"userName\":\"a\",\"meta\":{\"version\":"
                            "\"W/\\\"9\\\"\"},\"groups\":[{\"value\":\"g1\"}],\"ID\":\"x\"}"),
              "{" CORE ",\"userName\":\"a\",\"active\":true}");
}

static void test_user_username_lowercased_ascii_only(apr_pool_t *p)
{
    scim_user_record rec;
    CHECK(parse(p, "{" CORE ",\"userName\":\"\xc3\x89mile.DUPONT@Example.COM\"}", &rec) == NULL);
    CHECK_STR(rec.user_name, "\xc3\x89mile.DUPONT@Example.COM");
    CHECK_STR(rec.user_name_lower, "\xc3\x89mile.dupont@example.com");
}

static void test_user_refuses_bodies_that_are_not_user_objects(apr_pool_t *p)
{
    CHECK_STR(failure(p, "userName=bob"),
              "400 invalidSyntax: the body is not JSON: '[' or '{' expected near 'userName'");
    CHECK_STR(failure(p, "[]"), "400 invalidSyntax: the body is not a JSON object");
    CHECK_STR(failure(p, "{" CORE ",\"userName\":\"a\",\"userName\":\"b\"}"),
              "400 invalidSyntax: the body is not JSON: duplicate object key near '\"userName\"'");
    CHECK_STR(failure(p, "{\"userName\":\"a\"}"),
              "400 invalidSyntax: schemas is missing: it must list "
              "urn:ietf:params:scim:schemas:core:2.0:User");
    CHECK_STR(failure(p, "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],"
                         "\"userName\":\"a\"}"),
              "400 invalidSyntax: schemas must list urn:ietf:params:scim:schemas:core:2.0:User");
    CHECK_STR(failure(p, "{\"schemas\":\"urn:ietf:params:scim:schemas:core:2.0:User\","
                         "\"userName\":\"a\"}"),
              "400 invalidSyntax: schemas must be an array of schema URIs");
    CHECK_STR(failure(p, "{\"schemas\":[5],\"userName\":\"a\"}"),
              "400 invalidSyntax: schemas must be an array of schema URIs");
}

static void test_user_requires_a_non_empty_username(apr_pool_t *p)
{
    CHECK_STR(failure(p, "{" CORE "}"), "400 invalidValue: userName is required");
    CHECK_STR(failure(p, "{" CORE ",\"userName\":null}"), "400 invalidValue: userName is required");
    CHECK_STR(failure(p, "{" CORE ",\"userName\":\"\"}"),
              "400 invalidValue: userName must not be empty");
    CHECK_STR(failure(p, "{" CORE ",\"userName\":\" \\t \"}"),
              "400 invalidValue: userName must not be empty");
    CHECK_STR(failure(p, "{" CORE ",\"userName\":42}"),
              "400 invalidValue: 'userName' must be a string");
}

static void test_user_checks_attribute_types(apr_pool_t *p)
{
    CHECK_STR(failure(p, "{" CORE ",\"userName\":\"a\",\"active\":\"true\"}"),
              "400 invalidValue: 'active' must be true or false");
    CHECK_STR(failure(p, "{" CORE ",\"userName\":\"a\",\"name\":\"A B\"}"),
              "400 invalidValue: 'name' must be an object");
    CHECK_STR(failure(p, "{" CORE ",\"userName\":\"a\",\"name\":{\"givenName\":1}}"),
              "400 invalidValue: 'name.givenName' must be a string");
    CHECK_STR(failure(p, "{" CORE ",\"userName\":\"a\",\"emails\":{\"value\":\"a@b\"}}"),
              "400 invalidValue: 'emails' must be an array");
    CHECK_STR(failure(p, "{" CORE ",\"userName\":\"a\",\"emails\":[\"a@b\"]}"),
              "400 invalidValue: 'emails' must be an object");
    CHECK_STR(failure(p, "{" CORE ",\"userName\":\"a\",\"emails\":[{\"primary\":\"yes\"}]}"),
              "400 invalidValue: 'emails.primary' must be true or false");
    CHECK_STR(failure(p, "{" CORE ",\"userName\":\"a\",\"externalId\":7}"),
              "400 invalidValue: 'externalId' must be a string");
    CHECK_STR(failure(p, "{" CORE ",\"userName\":\"a\",\"urn:ietf:params:scim:schemas:extension:"
                         "enterprise:2.0:User\":{\"department\":[]}}"),
              "400 invalidValue: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:"
              "department' must be a string");
    CHECK_STR(failure(p, "{" CORE ",\"userName\":\"a\",\"urn:example:custom:User\":\"x\"}"),
              "400 invalidValue: 'urn:example:custom:User' must be an object");
}

static void test_user_refuses_two_primary_values(apr_pool_t *p)
{
    CHECK_STR(failure(p, "{" CORE ",\"userName\":\"a\",\"emails\":[{\"value\":\"a@b\","
                         "\"primary\":true},{\"value\":\"c@d\",\"primary\":true}]}"),
              "400 invalidValue: 'emails' has more than one primary value");
    CHECK(failure(p, "{" CORE ",\"userName\":\"a\",\"emails\":[{\"value\":\"a@b\","
                     "\"primary\":true},{\"value\":\"c@d\",\"primary\":false}]}") == NULL);
}

static void test_user_attribute_names_are_case_insensitive(apr_pool_t *p)
{
    CHECK_STR(normalized(p, "{\"SCHEMAS\":[\"URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER\"],"
                            "\"USERNAME\":\"a\",\"Name\":{\"GIVENNAME\":\"A\"},"
                            "\"Emails\":[{\"VALUE\":\"a@b\",\"Primary\":true}],\"ACTIVE\":false}"),
              "{\"schemas\":[\"URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER\"],\"userName\":\"a\","
              "\"name\":{\"givenName\":\"A\"},\"emails\":[{\"value\":\"a@b\",\"primary\":true}],"
              "\"active\":false}");
    CHECK_STR(failure(p, "{" CORE ",\"userName\":\"a\",\"username\":\"b\"}"),
              "400 invalidSyntax: 'userName' is given twice (attribute names ignore case)");
}

static void test_user_keeps_unknown_attributes_and_extensions(apr_pool_t *p)
{
    CHECK_STR(normalized(p, "{" CORE ",\"userName\":\"a\",\"costCenter\":\"cc1\","
                            "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:user\":"
                            "{\"Department\":\"Ops\",\"manager\":{\"value\":\"m1\","
                            "\"displayName\":\"Boss\"}},"
                            "\"urn:okta:custom:1.0:User\":{\"badge\":12}}"),
              "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\","
              "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\","
              "\"urn:okta:custom:1.0:User\"],"
              "\"userName\":\"a\",\"costCenter\":\"cc1\",\"active\":true,"
              "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":"
              "{\"department\":\"Ops\",\"manager\":{\"value\":\"m1\"}},"
              "\"urn:okta:custom:1.0:User\":{\"badge\":12}}");
}

static void test_user_drops_nulls_and_empty_values(apr_pool_t *p)
{
    scim_user_record rec;
    CHECK_STR(normalized(p, "{" CORE ",\"userName\":\"a\",\"displayName\":null,\"emails\":[],"
                            "\"name\":{\"givenName\":null},\"phoneNumbers\":[{},null],"
                            "\"x\":null,\"y\":{}}"),
              "{" CORE ",\"userName\":\"a\",\"active\":true}");
    CHECK(parse(p, "{" CORE ",\"userName\":\"a\",\"emails\":[{\"type\":\"work\"}]}", &rec) == NULL);
    CHECK_INT(rec.emails->nelts, 1);
    CHECK_STR(APR_ARRAY_IDX(rec.emails, 0, scim_email).value, NULL);
    CHECK_INT(APR_ARRAY_IDX(rec.emails, 0, scim_email).primary, 0);
    CHECK_INT(APR_ARRAY_IDX(rec.emails, 0, scim_email).primary_given, 0);
    CHECK_INT(rec.active, 1);
}

static void test_user_render_adds_id_and_meta(apr_pool_t *p)
{
    CHECK_STR(rendered(p, "{" CORE ",\"userName\":\"a\",\"name\":{\"givenName\":\"A\"}}", NULL,
                       NULL),
              "{" CORE ",\"id\":\"2819c223\",\"userName\":\"a\",\"name\":{\"givenName\":\"A\"},"
              "\"active\":true," META "}");
    CHECK_STR(scim_user_location(p, BASE, "u1"), BASE "/Users/u1");
    CHECK_STR(scim_user_etag(p, 12), "W/\"12\"");
}

static void test_user_render_attributes_keeps_only_those_and_always_returned(apr_pool_t *p)
{
    CHECK_STR(rendered(p, okta_create, "userName,name.givenName", NULL),
              "{" CORE ",\"id\":\"2819c223\",\"userName\":\"test.user@okta.local\","
              "\"name\":{\"givenName\":\"Test\"}," META "}");
    CHECK_STR(rendered(p, okta_create, " emails.value , ID", NULL),
              "{" CORE ",\"id\":\"2819c223\",\"emails\":[{\"value\":\"test.user@okta.local\"}],"
              META "}");
    CHECK_STR(rendered(p, okta_create, "urn:ietf:params:scim:schemas:core:2.0:User:DisplayName",
                       NULL),
              "{" CORE ",\"id\":\"2819c223\",\"displayName\":\"Test User\"," META "}");
    CHECK_STR(rendered(p, okta_create, "nickName", NULL),
              "{" CORE ",\"id\":\"2819c223\"," META "}");
}

static void test_user_render_excluded_attributes(apr_pool_t *p)
{
    CHECK_STR(rendered(p, okta_create, NULL, "emails,name.familyName,locale,externalId,id,meta,"
                       "schemas,displayName"),
              "{" CORE ",\"id\":\"2819c223\",\"userName\":\"test.user@okta.local\","
              "\"name\":{\"givenName\":\"Test\"},\"active\":true," META "}");
    CHECK_STR(rendered(p, okta_create, NULL, "emails.type,emails.primary,name,displayName,"
                       "locale,externalId,active"),
              "{" CORE ",\"id\":\"2819c223\",\"userName\":\"test.user@okta.local\","
              "\"emails\":[{\"value\":\"test.user@okta.local\"}]," META "}");
}

static void test_user_render_projects_extensions(apr_pool_t *p)
{
    const char *user = "{" CORE ",\"userName\":\"a\",\"urn:ietf:params:scim:schemas:extension:"
                       "enterprise:2.0:User\":{\"department\":\"Ops\",\"division\":\"D\"},"
                       "\"urn:okta:custom:1.0:User\":{\"badge\":12,\"desk\":\"4F\"}}";
    const char *schemas = "\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\","
                          "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\","
                          "\"urn:okta:custom:1.0:User\"]";
    CHECK_STR(rendered(p, user, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:"
                       "department,urn:okta:custom:1.0:User", NULL),
              apr_pstrcat(p, "{", schemas, ",\"id\":\"2819c223\",\"urn:ietf:params:scim:schemas:"
                          "extension:enterprise:2.0:User\":{\"department\":\"Ops\"},"
                          "\"urn:okta:custom:1.0:User\":{\"badge\":12,\"desk\":\"4F\"},", META,
                          "}", NULL));
    CHECK_STR(rendered(p, user, NULL, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:"
                       "User,urn:okta:custom:1.0:User:desk,userName,active"),
              apr_pstrcat(p, "{", schemas, ",\"id\":\"2819c223\","
                          "\"urn:okta:custom:1.0:User\":{\"badge\":12},", META, "}", NULL));
}

static void test_user_projection_refuses_bad_names(apr_pool_t *p)
{
    scim_projection proj;
    scim_error *err = scim_projection_parse(p, "userName,na me", NULL, &proj);
    CHECK(err == NULL); /* spaces are dropped: "name" */
    err = scim_projection_parse(p, NULL, "emails[type eq \"work\"]", &proj);
    CHECK(err != NULL);
    if (err) {
        CHECK_INT(err->type, SCIM_ERROR_INVALID_VALUE);
        CHECK_STR(err->detail, "excludedAttributes: 'emails[typeeq\"work\"]' is not a valid "
                               "attribute name");
    }
}

static void test_user_resource_of_corrupt_json_is_null(apr_pool_t *p)
{
    scim_stored_user user = { "u1", "2024-01-02T03:04:05Z", "2024-01-02T03:04:05Z", 1, "{oops" };
    CHECK(scim_user_resource(&user, BASE, NULL) == NULL);
    CHECK(scim_user_render(p, &user, BASE, NULL) == NULL);
    user.resource = "[]";
    CHECK(scim_user_render(p, &user, BASE, NULL) == NULL);
}

static void test_user_list_response(apr_pool_t *p)
{
    apr_array_header_t *users = apr_array_make(p, 2, sizeof(scim_stored_user));
    APR_ARRAY_PUSH(users, scim_stored_user) = stored(p, "{" CORE ",\"userName\":\"a\"}");
    APR_ARRAY_PUSH(users, scim_stored_user) = stored(p, "{" CORE ",\"userName\":\"b\"}");
    APR_ARRAY_IDX(users, 1, scim_stored_user).id = "u2";
    scim_projection proj;
    CHECK(scim_projection_parse(p, "userName", NULL, &proj) == NULL);
    const char *meta2 = "\"meta\":{\"resourceType\":\"User\",\"created\":\"2024-01-02T03:04:05Z\","
                        "\"lastModified\":\"2024-02-03T04:05:06Z\",\"location\":\"" BASE
                        "/Users/u2\",\"version\":\"W/\\\"3\\\"\"}";
    CHECK_STR(scim_user_list_render(p, users, 27, 11, BASE, &proj),
              apr_pstrcat(p, "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:"
                          "ListResponse\"],"
                          "\"totalResults\":27,\"itemsPerPage\":2,\"startIndex\":11,\"Resources\":["
                          "{" CORE ",\"id\":\"2819c223\",\"userName\":\"a\"," META "},"
                          "{" CORE ",\"id\":\"u2\",\"userName\":\"b\",", meta2, "}]}", NULL));
    CHECK_STR(scim_user_list_render(p, apr_array_make(p, 0, sizeof(scim_stored_user)), 0, 1,
                                    BASE, NULL),
              "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:ListResponse\"],"
              "\"totalResults\":0,\"itemsPerPage\":0,\"startIndex\":1,\"Resources\":[]}");
}

static void test_page_clamps_start_index_and_count(apr_pool_t *p)
{
    scim_page page;
    CHECK(scim_page_parse(p, NULL, NULL, 100, 200, &page) == NULL);
    CHECK_INT(page.start_index, 1);
    CHECK_INT(page.count, 100);
    CHECK(scim_page_parse(p, "1", "100", 100, 200, &page) == NULL);
    CHECK_INT(page.start_index, 1);
    CHECK_INT(page.count, 100);
    CHECK(scim_page_parse(p, "0", "-5", 100, 200, &page) == NULL);
    CHECK_INT(page.start_index, 1);
    CHECK_INT(page.count, 0);
    CHECK(scim_page_parse(p, "-3", "1000", 100, 200, &page) == NULL);
    CHECK_INT(page.start_index, 1);
    CHECK_INT(page.count, 200);
    CHECK(scim_page_parse(p, "26", "0", 100, 200, &page) == NULL);
    CHECK_INT(page.start_index, 26);
    CHECK_INT(page.count, 0);
    CHECK(scim_page_parse(p, "99999999999999999999", "99999999999999999999", 100, 200, &page)
          == NULL);
    CHECK_INT(page.start_index, 2147483647);
    CHECK_INT(page.count, 200);
    CHECK(scim_page_parse(p, "-99999999999999999999", NULL, 500, 200, &page) == NULL);
    CHECK_INT(page.start_index, 1);
    CHECK_INT(page.count, 200);
}

static void test_page_refuses_non_integers(apr_pool_t *p)
{
    scim_page page;
    scim_error *err = scim_page_parse(p, "abc", NULL, 100, 200, &page);
    CHECK(err && err->status == 400 && err->type == SCIM_ERROR_INVALID_VALUE);
    CHECK_STR(err ? err->detail : NULL, "startIndex must be an integer, not 'abc'");
    err = scim_page_parse(p, "1", "10x", 100, 200, &page);
    CHECK_STR(err ? err->detail : NULL, "count must be an integer, not '10x'");
    err = scim_page_parse(p, "", NULL, 100, 200, &page);
    CHECK_STR(err ? err->detail : NULL, "startIndex must be an integer, not ''");
    err = scim_page_parse(p, "1.5", NULL, 100, 200, &page);
    CHECK_STR(err ? err->detail : NULL, "startIndex must be an integer, not '1.5'");
}

static void test_error_render_follows_the_error_schema(apr_pool_t *p)
{
    scim_error *err = scim_error_make(p, 409, SCIM_ERROR_UNIQUENESS, "userName '%s' is taken",
                                      "bob@example.com");
    CHECK_STR(scim_error_render(p, err),
              "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:Error\"],\"status\":\"409\","
              "\"scimType\":\"uniqueness\",\"detail\":\"userName 'bob@example.com' is taken\"}");
    scim_error none = { 404, SCIM_ERROR_TYPE_NONE, "no User 'x'" };
    CHECK_STR(scim_error_render(p, &none),
              "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:Error\"],\"status\":\"404\","
              "\"detail\":\"no User 'x'\"}");
    scim_error bare = { 500, SCIM_ERROR_TYPE_NONE, NULL };
    CHECK_STR(scim_error_render(p, &bare),
              "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:Error\"],\"status\":\"500\"}");
    scim_error bad_utf8 = { 400, SCIM_ERROR_INVALID_VALUE, "\xff" };
    CHECK_STR(scim_error_render(p, &bad_utf8),
              "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:Error\"],\"status\":\"400\","
              "\"scimType\":\"invalidValue\"}");
    CHECK_STR(scim_error_type_name(SCIM_ERROR_INVALID_FILTER), "invalidFilter");
    CHECK_STR(scim_error_type_name(SCIM_ERROR_NO_TARGET), "noTarget");
    CHECK_STR(scim_error_type_name(SCIM_ERROR_MUTABILITY), "mutability");
    CHECK_STR(scim_error_type_name(SCIM_ERROR_TYPE_NONE), NULL);
}

int main(void)
{
    static const unit_case cases[] = {
        UNIT(test_user_parse_okta_create_request),
        UNIT(test_user_password_is_accepted_but_never_kept),
        UNIT(test_user_ignores_client_id_meta_and_groups),
        UNIT(test_user_username_lowercased_ascii_only),
        UNIT(test_user_refuses_bodies_that_are_not_user_objects),
        UNIT(test_user_requires_a_non_empty_username),
        UNIT(test_user_checks_attribute_types),
        UNIT(test_user_refuses_two_primary_values),
        UNIT(test_user_attribute_names_are_case_insensitive),
        UNIT(test_user_keeps_unknown_attributes_and_extensions),
        UNIT(test_user_drops_nulls_and_empty_values),
        UNIT(test_user_render_adds_id_and_meta),
        UNIT(test_user_render_attributes_keeps_only_those_and_always_returned),
        UNIT(test_user_render_excluded_attributes),
        UNIT(test_user_render_projects_extensions),
        UNIT(test_user_projection_refuses_bad_names),
        UNIT(test_user_resource_of_corrupt_json_is_null),
        UNIT(test_user_list_response),
        UNIT(test_page_clamps_start_index_and_count),
        UNIT(test_page_refuses_non_integers),
        UNIT(test_error_render_follows_the_error_schema),
        UNIT_END
    };
    return unit_run("scim_user", cases);
}
