#include "unit.h"
#include <stdlib.h>
#include <apr_strings.h>
#include "scim_patch.h"

#define CORE "\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"]"
#define PATCH_OP "\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"]"

/* As the store keeps it: scim_user_parse's canonical JSON. */
static const char *const user_json =
    "{" CORE ",\"userName\":\"test.user@okta.local\","
    "\"name\":{\"givenName\":\"Test\",\"familyName\":\"User\"},"
    "\"emails\":[{\"primary\":true,\"value\":\"test.user@okta.local\",\"type\":\"work\"},"
    "{\"value\":\"home@example.org\",\"type\":\"home\"}],"
    "\"displayName\":\"Test User\",\"externalId\":\"00ujl29u0le5T6Aj10h7\",\"active\":true}";

/* Okta's deactivate and reactivate requests (Okta SCIM 2.0 reference). */
static const char *const okta_deactivate =
    "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],"
    "\"Operations\":[{\"op\":\"replace\",\"value\":{\"active\":false}}]}";
static const char *const okta_reactivate =
    "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],"
    "\"Operations\":[{\"op\":\"replace\",\"value\":{\"active\":true}}]}";

/* The patched document as compact JSON, or "status scimType: detail". */
static const char *patched_doc(apr_pool_t *p, const char *doc_json, const char *body)
{
    json_error_t jerr;
    json_t *doc = json_loads(doc_json, 0, &jerr), *out = NULL;
    char *before = json_dumps(doc, JSON_COMPACT);
    scim_error *err = scim_patch_apply(p, doc, body, strlen(body), &out);
    char *after = json_dumps(doc, JSON_COMPACT);
    /* whatever happened, the input is untouched */
    CHECK_STR(after, before);
    free(before);
    free(after);
    json_decref(doc);
    if (err) {
        CHECK(out == NULL);
        const char *type = scim_error_type_name(err->type);
        return apr_psprintf(p, "%d %s: %s", err->status, type ? type : "-", err->detail);
    }
    char *text = json_dumps(out, JSON_COMPACT);
    char *copy = apr_pstrdup(p, text);
    free(text);
    json_decref(out);
    return copy;
}

static const char *patched(apr_pool_t *p, const char *body)
{
    return patched_doc(p, user_json, body);
}

static const char *ops(apr_pool_t *p, const char *operations)
{
    return apr_pstrcat(p, "{" PATCH_OP ",\"Operations\":[", operations, "]}", NULL);
}

/* The patched user's record through scim_patch_user, as "error: ..." on failure. */
static scim_user_record *patched_record(apr_pool_t *p, const char *body, const char **error)
{
    scim_user_record *rec = apr_pcalloc(p, sizeof(*rec));
    scim_error *err = scim_patch_user(p, user_json, body, strlen(body), rec);
    *error = err ? apr_psprintf(p, "%d %s: %s", err->status,
                                scim_error_type_name(err->type) ? scim_error_type_name(err->type)
                                                                : "-", err->detail)
                 : NULL;
    return err ? NULL : rec;
}

#define NAME "\"name\":{\"givenName\":\"Test\",\"familyName\":\"User\"}"
#define EMAILS "\"emails\":[{\"primary\":true,\"value\":\"test.user@okta.local\"," \
               "\"type\":\"work\"},{\"value\":\"home@example.org\",\"type\":\"home\"}]"
#define REST "\"displayName\":\"Test User\",\"externalId\":\"00ujl29u0le5T6Aj10h7\""

static void test_patch_okta_deactivate_and_reactivate(apr_pool_t *p)
{
    const char *err;
    scim_user_record *rec = patched_record(p, okta_deactivate, &err);
    CHECK_STR(err, NULL);
    CHECK(rec && rec->active == 0);
    CHECK(rec && strstr(rec->resource, "\"active\":false") != NULL);
    CHECK_STR(patched(p, okta_deactivate),
              "{" CORE ",\"userName\":\"test.user@okta.local\"," NAME "," EMAILS "," REST
              ",\"active\":false}");
    const char *inactive = patched(p, okta_deactivate);
    CHECK_STR(patched_doc(p, inactive, okta_reactivate), user_json);
}

static void test_patch_okta_profile_update_shapes(apr_pool_t *p)
{
    /* with paths */
    CHECK_STR(patched(p, ops(p, "{\"op\":\"replace\",\"path\":\"name.givenName\","
                                "\"value\":\"Jane\"},"
                               "{\"op\":\"replace\",\"path\":\"displayName\","
                               "\"value\":\"Jane User\"}")),
              "{" CORE ",\"userName\":\"test.user@okta.local\",\"name\":{\"givenName\":\"Jane\","
              "\"familyName\":\"User\"}," EMAILS ",\"displayName\":\"Jane User\","
              "\"externalId\":\"00ujl29u0le5T6Aj10h7\",\"active\":true}");
    /* without a path: a partial complex value merges, sub-attributes not given stay */
    CHECK_STR(patched(p, ops(p, "{\"op\":\"replace\",\"value\":{\"name\":{\"familyName\":\"Doe\"},"
                               "\"userName\":\"jane.doe@okta.local\"}}")),
              "{" CORE ",\"userName\":\"jane.doe@okta.local\",\"name\":{\"givenName\":\"Test\","
              "\"familyName\":\"Doe\"}," EMAILS "," REST ",\"active\":true}");
    /* without a path, keys that are paths */
    CHECK_STR(patched(p, ops(p, "{\"op\":\"Replace\",\"value\":{\"name.familyName\":\"Doe\","
                               "\"emails[type eq \\\"work\\\"].value\":\"jd@okta.local\","
                               "\"urn:ietf:params:scim:schemas:core:2.0:User:nickName\":\"JD\"}}")),
              "{" CORE ",\"userName\":\"test.user@okta.local\",\"name\":{\"givenName\":\"Test\","
              "\"familyName\":\"Doe\"},\"emails\":[{\"primary\":true,\"value\":\"jd@okta.local\","
              "\"type\":\"work\"},{\"value\":\"home@example.org\",\"type\":\"home\"}]," REST
              ",\"active\":true,\"nickName\":\"JD\"}");
}

static void test_patch_pathless_value_ignores_read_only_attributes(apr_pool_t *p)
{
    /* Okta puts the resource id in path-less values */
    CHECK_STR(patched(p, ops(p, "{\"op\":\"replace\",\"value\":{\"id\":\"abf4dd94\","
                               "\"meta\":{\"version\":\"W/\\\"1\\\"\"},\"schemas\":[],"
                               "\"active\":false}}")),
              patched(p, okta_deactivate));
}

static void test_patch_password_is_accepted_and_dropped(apr_pool_t *p)
{
    const char *err;
    scim_user_record *rec = patched_record(p, ops(p, "{\"op\":\"replace\",\"value\":"
                                                     "{\"password\":\"t1meMa$heen\"}}"), &err);
    CHECK_STR(err, NULL);
    CHECK(rec && strstr(rec->resource, "password") == NULL);
    CHECK(rec && strstr(rec->resource, "t1meMa") == NULL);
}

static void test_patch_op_names_are_case_insensitive(apr_pool_t *p)
{
    CHECK_STR(patched(p, ops(p, "{\"op\":\"REMOVE\",\"path\":\"externalId\"},"
                               "{\"op\":\"Add\",\"path\":\"title\",\"value\":\"Boss\"}")),
              "{" CORE ",\"userName\":\"test.user@okta.local\"," NAME "," EMAILS
              ",\"displayName\":\"Test User\",\"active\":true,\"title\":\"Boss\"}");
}

static void test_patch_attribute_names_in_paths_are_case_insensitive(apr_pool_t *p)
{
    CHECK_STR(patched(p, ops(p, "{\"op\":\"replace\",\"path\":\"NAME.GIVENNAME\",\"value\":\"T\"},"
                               "{\"op\":\"replace\",\"path\":\"DisplayName\",\"value\":\"D\"}")),
              "{" CORE ",\"userName\":\"test.user@okta.local\",\"name\":{\"givenName\":\"T\","
              "\"familyName\":\"User\"}," EMAILS ",\"displayName\":\"D\","
              "\"externalId\":\"00ujl29u0le5T6Aj10h7\",\"active\":true}");
}

static void test_patch_remove_sub_attribute_and_whole_attribute(apr_pool_t *p)
{
    CHECK_STR(patched(p, ops(p, "{\"op\":\"remove\",\"path\":\"name.givenName\"},"
                               "{\"op\":\"remove\",\"path\":\"displayName\"}")),
              "{" CORE ",\"userName\":\"test.user@okta.local\",\"name\":{\"familyName\":\"User\"},"
              EMAILS ",\"externalId\":\"00ujl29u0le5T6Aj10h7\",\"active\":true}");
    /* the last sub-attribute gone, the attribute is gone */
    CHECK_STR(patched(p, ops(p, "{\"op\":\"remove\",\"path\":\"name.givenName\"},"
                               "{\"op\":\"remove\",\"path\":\"name.familyName\"},"
                               "{\"op\":\"remove\",\"path\":\"nickName\"}")),
              "{" CORE ",\"userName\":\"test.user@okta.local\"," EMAILS "," REST
              ",\"active\":true}");
}

static void test_patch_value_filter_selects_values(apr_pool_t *p)
{
    CHECK_STR(patched(p, ops(p, "{\"op\":\"replace\","
                                "\"path\":\"emails[type eq \\\"work\\\"].value\","
                               "\"value\":\"new@okta.local\"}")),
              "{" CORE ",\"userName\":\"test.user@okta.local\"," NAME ",\"emails\":[{\"primary\":"
              "true,\"value\":\"new@okta.local\",\"type\":\"work\"},{\"value\":"
              "\"home@example.org\",\"type\":\"home\"}]," REST ",\"active\":true}");
    CHECK_STR(patched(p, ops(p, "{\"op\":\"remove\",\"path\":\"emails[type eq \\\"HOME\\\"]\"}")),
              "{" CORE ",\"userName\":\"test.user@okta.local\"," NAME ",\"emails\":[{\"primary\":"
              "true,\"value\":\"test.user@okta.local\",\"type\":\"work\"}]," REST
              ",\"active\":true}");
    CHECK_STR(patched(p, ops(p, "{\"op\":\"remove\",\"path\":\"emails[value pr]\"}")),
              "{" CORE ",\"userName\":\"test.user@okta.local\"," NAME "," REST ",\"active\":true}");
    CHECK_STR(patched(p, ops(p, "{\"op\":\"remove\","
                                "\"path\":\"emails[type eq \\\"work\\\"].type\"}")),
              "{" CORE ",\"userName\":\"test.user@okta.local\"," NAME ",\"emails\":[{\"primary\":"
              "true,\"value\":\"test.user@okta.local\"},{\"value\":\"home@example.org\","
              "\"type\":\"home\"}]," REST ",\"active\":true}");
    CHECK_STR(patched(p, ops(p, "{\"op\":\"replace\",\"path\":\"emails[type eq \\\"home\\\"]\","
                               "\"value\":{\"display\":\"Home\"}}")),
              "{" CORE ",\"userName\":\"test.user@okta.local\"," NAME ",\"emails\":[{\"primary\":"
              "true,\"value\":\"test.user@okta.local\",\"type\":\"work\"},{\"value\":"
              "\"home@example.org\",\"type\":\"home\",\"display\":\"Home\"}]," REST
              ",\"active\":true}");
}

static void test_patch_value_filter_without_match(apr_pool_t *p)
{
    CHECK_STR(patched(p, ops(p, "{\"op\":\"replace\","
                                "\"path\":\"emails[type eq \\\"other\\\"].value\","
                               "\"value\":\"x@y\"}")),
              "400 noTarget: Operations[0]: no value matches 'emails[type eq \"other\"].value'");
    CHECK_STR(patched(p, ops(p, "{\"op\":\"add\",\"path\":\"phoneNumbers[type eq \\\"work\\\"]\","
                               "\"value\":{\"value\":\"555\"}}")),
              "400 noTarget: Operations[0]: no value matches 'phoneNumbers[type eq \"work\"]'");
    /* remove of nothing changes nothing */
    CHECK_STR(patched(p, ops(p, "{\"op\":\"remove\",\"path\":\"emails[type eq \\\"other\\\"]\"}")),
              user_json);
}

static void test_patch_primary_true_demotes_the_other_values(apr_pool_t *p)
{
    CHECK_STR(patched(p, ops(p, "{\"op\":\"replace\","
                                "\"path\":\"emails[type eq \\\"home\\\"].primary\","
                               "\"value\":true}")),
              "{" CORE ",\"userName\":\"test.user@okta.local\"," NAME ",\"emails\":[{\"primary\":"
              "false,\"value\":\"test.user@okta.local\",\"type\":\"work\"},{\"value\":"
              "\"home@example.org\",\"type\":\"home\",\"primary\":true}]," REST ","
                                                                                "\"active\":true}");
    CHECK_STR(patched(p, ops(p, "{\"op\":\"add\",\"path\":\"emails\",\"value\":[{\"value\":"
                               "\"third@example.org\",\"primary\":true}]}")),
              "{" CORE ",\"userName\":\"test.user@okta.local\"," NAME ",\"emails\":[{\"primary\":"
              "false,\"value\":\"test.user@okta.local\",\"type\":\"work\"},{\"value\":"
              "\"home@example.org\",\"type\":\"home\"},{\"value\":\"third@example.org\","
              "\"primary\":true}]," REST ",\"active\":true}");
}

static void test_patch_add_and_replace_multi_valued(apr_pool_t *p)
{
    /* add appends, once */
    CHECK_STR(patched(p, ops(p, "{\"op\":\"add\",\"path\":\"emails\",\"value\":"
                               "[{\"value\":\"home@example.org\",\"type\":\"home\"}]},"
                               "{\"op\":\"add\",\"path\":\"phoneNumbers\",\"value\":"
                               "{\"value\":\"555-1234\",\"type\":\"work\"}}")),
              "{" CORE ",\"userName\":\"test.user@okta.local\"," NAME "," EMAILS "," REST
              ",\"active\":true,\"phoneNumbers\":[{\"value\":\"555-1234\",\"type\":\"work\"}]}");
    /* replace replaces them all */
    CHECK_STR(patched(p, ops(p, "{\"op\":\"replace\",\"path\":\"emails\",\"value\":"
                               "[{\"value\":\"only@example.org\"}]}")),
              "{" CORE ",\"userName\":\"test.user@okta.local\"," NAME ",\"emails\":[{\"value\":"
              "\"only@example.org\"}]," REST ",\"active\":true}");
    /* a sub-attribute without a filter applies to every value */
    CHECK_STR(patched(p, ops(p, "{\"op\":\"replace\",\"path\":\"emails.type\","
                                "\"value\":\"other\"}")),
              "{" CORE ",\"userName\":\"test.user@okta.local\"," NAME ",\"emails\":[{\"primary\":"
              "true,\"value\":\"test.user@okta.local\",\"type\":\"other\"},{\"value\":"
              "\"home@example.org\",\"type\":\"other\"}]," REST ",\"active\":true}");
}

static void test_patch_extensions(apr_pool_t *p)
{
    const char *ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    const char *with_schemas = "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\","
                               "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"],"
                               "\"userName\":\"test.user@okta.local\"," NAME "," EMAILS "," REST
                               ",\"active\":true,";
    CHECK_STR(patched(p, ops(p, apr_pstrcat(p, "{\"op\":\"add\",\"path\":\"", ent,
                                            ":department\",\"value\":\"Ops\"}", NULL))),
              apr_pstrcat(p, with_schemas, "\"", ent, "\":{\"department\":\"Ops\"}}", NULL));
    CHECK_STR(patched(p, ops(p, apr_pstrcat(p, "{\"op\":\"replace\",\"value\":{\"", ent,
                                            "\":{\"employeeNumber\":\"42\",\"manager\":"
                                            "{\"value\":\"m1\"}}}}", NULL))),
              apr_pstrcat(p, with_schemas, "\"", ent, "\":{\"employeeNumber\":\"42\","
                          "\"manager\":{\"value\":\"m1\"}}}", NULL));
    CHECK_STR(patched(p, ops(p, "{\"op\":\"add\",\"value\":{\"urn:okta:custom:1.0:User\":"
                               "{\"badge\":7}}}")),
              "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\","
              "\"urn:okta:custom:1.0:User\"],\"userName\":\"test.user@okta.local\"," NAME ","
              EMAILS "," REST ",\"active\":true,\"urn:okta:custom:1.0:User\":{\"badge\":7}}");
    CHECK_STR(patched(p, ops(p, apr_pstrcat(p, "{\"op\":\"replace\",\"path\":\"", ent,
                                            ":manager.displayName\",\"value\":\"B\"}", NULL))),
              apr_pstrcat(p, "400 mutability: Operations[0]: '", ent,
                          ":manager.displayName' is readOnly", NULL));
}

static void test_patch_refuses_read_only_paths(apr_pool_t *p)
{
    CHECK_STR(patched(p, ops(p, "{\"op\":\"replace\",\"path\":\"id\",\"value\":\"x\"}")),
              "400 mutability: Operations[0]: 'id' is readOnly");
    CHECK_STR(patched(p, ops(p, "{\"op\":\"replace\",\"path\":\"meta.created\",\"value\":\"x\"}")),
              "400 mutability: Operations[0]: 'meta.created' is readOnly");
    CHECK_STR(patched(p, ops(p, "{\"op\":\"add\",\"path\":\"groups\",\"value\":[{\"value\":\"g\"}"
                                "]}")),
              "400 mutability: Operations[0]: 'groups' is readOnly");
    CHECK_STR(patched(p, ops(p, "{\"op\":\"remove\",\"path\":\"ID\"}")),
              "400 mutability: Operations[0]: 'ID' is readOnly");
}

static void test_patch_refuses_malformed_requests(apr_pool_t *p)
{
    CHECK_STR(patched(p, "nope"), "400 invalidSyntax: the body is not a JSON object");
    CHECK_STR(patched(p, "{\"Operations\":[{\"op\":\"remove\",\"path\":\"title\"}]}"),
              "400 invalidSyntax: schemas must list urn:ietf:params:scim:api:messages:2.0:PatchOp");
    CHECK_STR(patched(p, "{" PATCH_OP ",\"Operations\":[]}"),
              "400 invalidSyntax: Operations must be a non-empty array");
    CHECK_STR(patched(p, "{" PATCH_OP ",\"Operations\":{\"op\":\"add\"}}"),
              "400 invalidSyntax: Operations must be a non-empty array");
    CHECK_STR(patched(p, ops(p, "\"add\"")),
              "400 invalidSyntax: Operations[0]: an operation must be an object");
    CHECK_STR(patched(p, ops(p, "{\"op\":\"copy\",\"path\":\"title\"}")),
              "400 invalidSyntax: Operations[0]: op must be add, replace or remove, not 'copy'");
    CHECK_STR(patched(p, ops(p, "{\"path\":\"title\",\"value\":\"x\"}")),
              "400 invalidSyntax: Operations[0]: op is missing");
    CHECK_STR(patched(p, ops(p, "{\"op\":\"add\",\"path\":\"title\"}")),
              "400 invalidValue: Operations[0]: add needs a value");
    CHECK_STR(patched(p, ops(p, "{\"op\":\"remove\"}")),
              "400 noTarget: Operations[0]: remove needs a path");
    CHECK_STR(patched(p, ops(p, "{\"op\":\"replace\",\"value\":false}")),
              "400 invalidValue: Operations[0]: without a path, the value must be an object of "
              "attributes");
    CHECK_STR(patched(p, ops(p, "{\"op\":\"replace\",\"path\":7,\"value\":false}")),
              "400 invalidPath: Operations[0]: path must be a string");
    CHECK_STR(patched(p, ops(p, "{\"op\":\"replace\",\"path\":\"emails[type eq work]\","
                               "\"value\":{}}")),
              "400 invalidPath: Operations[0]: path 'emails[type eq work]': character 16: 'work' "
              "is not a value: write strings in double quotes");
    CHECK_STR(patched(p, ops(p, "{\"op\":\"replace\",\"path\":\"userName.first\","
                                "\"value\":\"x\"}")),
              "400 invalidPath: Operations[0]: 'userName' has no sub-attributes");
    CHECK_STR(patched(p, ops(p, "{\"op\":\"replace\",\"value\":{\"bad key\":1}}")),
              "400 invalidPath: Operations[0]: attribute 'bad key': character 5: expected the end "
              "of the path, found 'key'");
    CHECK_STR(patched(p, ops(p, "{\"op\":\"replace\",\"path\":\"name\",\"value\":\"Jane\"}")),
              "400 invalidValue: Operations[0]: 'name' needs an object value");
    CHECK_STR(patched(p, ops(p, "{\"op\":\"replace\",\"path\":\"emails[type eq \\\"work\\\"]\","
                               "\"value\":\"x\"}")),
              "400 invalidValue: Operations[0]: 'emails[type eq \"work\"]' needs an object value");
}

static void test_patch_result_is_validated_as_a_user(apr_pool_t *p)
{
    const char *err;
    CHECK(patched_record(p, ops(p, "{\"op\":\"replace\",\"path\":\"active\",\"value\":\"no\"}"),
                         &err) == NULL);
    CHECK_STR(err, "400 invalidValue: 'active' must be true or false");
    CHECK(patched_record(p, ops(p, "{\"op\":\"remove\",\"path\":\"userName\"}"), &err) == NULL);
    CHECK_STR(err, "400 invalidValue: userName is required");
    CHECK(patched_record(p, ops(p, "{\"op\":\"add\",\"path\":\"emails\",\"value\":[{\"value\":"
                                   "\"a@b\",\"primary\":true},{\"value\":\"c@d\",\"primary\":true}"
                                   "]}"),
                         &err) == NULL);
    CHECK_STR(err, "400 invalidValue: 'emails' has more than one primary value");
    CHECK(patched_record(p, ops(p, "{\"op\":\"replace\",\"path\":\"emails[type eq \\\"work\\\"]"
                                   ".primary\",\"value\":\"yes\"}"), &err) == NULL);
    CHECK_STR(err, "400 invalidValue: 'emails.primary' must be true or false");
}

static void test_patch_is_all_or_nothing(apr_pool_t *p)
{
    /* the first operation applies to the copy, the second fails: nothing is returned and the
     * input is untouched (patched_doc checks it) */
    CHECK_STR(patched(p, ops(p, "{\"op\":\"replace\",\"value\":{\"active\":false}},"
                               "{\"op\":\"replace\",\"path\":\"id\",\"value\":\"x\"}")),
              "400 mutability: Operations[1]: 'id' is readOnly");
}

static void test_patch_limits_operations(apr_pool_t *p)
{
    char *list = "{\"op\":\"remove\",\"path\":\"title\"}";
    for (int i = 1; i < SCIM_PATCH_MAX_OPERATIONS; i++)
        list = apr_pstrcat(p, list, ",{\"op\":\"remove\",\"path\":\"title\"}", NULL);
    CHECK_STR(patched(p, ops(p, list)), user_json);
    CHECK_STR(patched(p, ops(p, apr_pstrcat(p, list, ",{\"op\":\"remove\",\"path\":\"title\"}",
                                            NULL))),
              "400 invalidSyntax: more than 256 operations");
}

static void test_patch_user_of_corrupt_stored_json(apr_pool_t *p)
{
    scim_user_record rec;
    scim_error *err = scim_patch_user(p, "{oops", okta_deactivate, strlen(okta_deactivate), &rec);
    CHECK(err && err->status == 500);
}

int main(void)
{
    static const unit_case cases[] = {
        UNIT(test_patch_okta_deactivate_and_reactivate),
        UNIT(test_patch_okta_profile_update_shapes),
        UNIT(test_patch_pathless_value_ignores_read_only_attributes),
        UNIT(test_patch_password_is_accepted_and_dropped),
        UNIT(test_patch_op_names_are_case_insensitive),
        UNIT(test_patch_attribute_names_in_paths_are_case_insensitive),
        UNIT(test_patch_remove_sub_attribute_and_whole_attribute),
        UNIT(test_patch_value_filter_selects_values),
        UNIT(test_patch_value_filter_without_match),
        UNIT(test_patch_primary_true_demotes_the_other_values),
        UNIT(test_patch_add_and_replace_multi_valued),
        UNIT(test_patch_extensions),
        UNIT(test_patch_refuses_read_only_paths),
        UNIT(test_patch_refuses_malformed_requests),
        UNIT(test_patch_result_is_validated_as_a_user),
        UNIT(test_patch_is_all_or_nothing),
        UNIT(test_patch_limits_operations),
        UNIT(test_patch_user_of_corrupt_stored_json),
        UNIT_END
    };
    return unit_run("scim_patch", cases);
}
