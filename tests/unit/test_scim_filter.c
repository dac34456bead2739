#include "unit.h"
#include <stdlib.h>
#include <apr_strings.h>
#include "scim_filter.h"

static const char *const babs_json =
    "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\","
    "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"],"
    "\"id\":\"2819c223\",\"externalId\":\"00uAbC\",\"userName\":\"Bjensen@Example.com\","
    "\"name\":{\"givenName\":\"Barbara\",\"familyName\":\"Jensen\","
    "\"formatted\":\"Ms. Barbara J Jensen\"},"
    "\"displayName\":\"Babs 100% Jensen_x\",\"active\":true,"
    "\"emails\":[{\"value\":\"bjensen@example.com\",\"type\":\"work\",\"primary\":true},"
    "{\"value\":\"babs@jensen.org\",\"type\":\"home\"}],"
    "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":"
    "{\"employeeNumber\":\"701984\",\"department\":\"Tour Operations\","
    "\"manager\":{\"value\":\"26118915\"}},"
    "\"meta\":{\"created\":\"2010-01-23T04:56:22Z\",\"lastModified\":\"2011-05-13T04:42:34Z\"},"
    "\"loginCount\":42,\"title\":\"\"}";

/* The parse written back, or "error: <message>". */
static const char *parsed(apr_pool_t *p, const char *text)
{
    const scim_filter *f;
    const char *err = scim_filter_parse(p, text, &f);
    return err ? apr_pstrcat(p, "error: ", err, NULL) : scim_filter_to_string(p, f);
}

static const char *error_of(apr_pool_t *p, const char *text)
{
    const scim_filter *f;
    return scim_filter_parse(p, text, &f);
}

/* 1 match, 0 no match, -1 did not parse. */
static int match(apr_pool_t *p, const char *text, const char *json)
{
    const scim_filter *f;
    json_error_t jerr;
    if (scim_filter_parse(p, text, &f) != NULL)
        return -1;
    json_t *doc = json_loads(json, 0, &jerr);
    int result = scim_filter_match(f, doc);
    json_decref(doc);
    return result;
}

static int babs(apr_pool_t *p, const char *text)
{
    return match(p, text, babs_json);
}

/* "WHERE | param1 | param2", or "error: ...". */
static const char *sql(apr_pool_t *p, const char *text, scim_sql_dialect dialect)
{
    const scim_filter *f;
    const char *where, *err = scim_filter_parse(p, text, &f);
    apr_array_header_t *params;
    if (err)
        return apr_pstrcat(p, "parse error: ", err, NULL);
    if ((err = scim_filter_sql(p, f, dialect, &where, &params)) != NULL)
        return apr_pstrcat(p, "error: ", err, NULL);
    char *out = apr_pstrdup(p, where);
    for (int i = 0; i < params->nelts; i++)
        out = apr_pstrcat(p, out, " | ", APR_ARRAY_IDX(params, i, const char *), NULL);
    return out;
}

static void test_filter_parses_every_comparison_operator(apr_pool_t *p)
{
    CHECK_STR(parsed(p, "userName eq \"bjensen\""), "userName eq \"bjensen\"");
    CHECK_STR(parsed(p, "userName ne \"bjensen\""), "userName ne \"bjensen\"");
    CHECK_STR(parsed(p, "userName co \"jen\""), "userName co \"jen\"");
    CHECK_STR(parsed(p, "userName sw \"bj\""), "userName sw \"bj\"");
    CHECK_STR(parsed(p, "userName ew \"sen\""), "userName ew \"sen\"");
    CHECK_STR(parsed(p, "userName gt \"a\""), "userName gt \"a\"");
    CHECK_STR(parsed(p, "userName ge \"a\""), "userName ge \"a\"");
    CHECK_STR(parsed(p, "userName lt \"z\""), "userName lt \"z\"");
    CHECK_STR(parsed(p, "userName le \"z\""), "userName le \"z\"");
    CHECK_STR(parsed(p, "title pr"), "title pr");
}

static void test_filter_matches_every_comparison_operator(apr_pool_t *p)
{
    CHECK_INT(babs(p, "userName eq \"bjensen@example.com\""), 1);
    CHECK_INT(babs(p, "userName eq \"bjensen\""), 0);
    CHECK_INT(babs(p, "userName ne \"bjensen\""), 1);
    CHECK_INT(babs(p, "userName ne \"BJENSEN@example.COM\""), 0);
    CHECK_INT(babs(p, "userName co \"JENSEN@\""), 1);
    CHECK_INT(babs(p, "userName co \"smith\""), 0);
    CHECK_INT(babs(p, "userName sw \"bjen\""), 1);
    CHECK_INT(babs(p, "userName sw \"jen\""), 0);
    CHECK_INT(babs(p, "userName ew \".COM\""), 1);
    CHECK_INT(babs(p, "userName ew \"example\""), 0);
    CHECK_INT(babs(p, "userName gt \"Bjensen\""), 1);
    CHECK_INT(babs(p, "userName gt \"c\""), 0);
    CHECK_INT(babs(p, "userName ge \"bjensen@example.com\""), 1);
    CHECK_INT(babs(p, "userName lt \"c\""), 1);
    CHECK_INT(babs(p, "userName lt \"b\""), 0);
    CHECK_INT(babs(p, "userName le \"BJENSEN@EXAMPLE.COM\""), 1);
    CHECK_INT(babs(p, "name.givenName pr"), 1);
    CHECK_INT(babs(p, "nickName pr"), 0);
}

static void test_filter_pr_treats_empty_values_as_absent(apr_pool_t *p)
{
    CHECK_INT(babs(p, "title pr"), 0);
    CHECK_INT(match(p, "emails pr", "{\"emails\":[]}"), 0);
    CHECK_INT(match(p, "emails pr", "{\"emails\":[{}]}"), 0);
    CHECK_INT(match(p, "name pr", "{\"name\":{\"givenName\":null}}"), 0);
    CHECK_INT(match(p, "name pr", "{\"name\":{\"givenName\":\"x\"}}"), 1);
}

static void test_filter_and_binds_tighter_than_or(apr_pool_t *p)
{
    CHECK_STR(parsed(p, "a eq 1 or b eq 2 and c eq 3"), "(a eq 1 or (b eq 2 and c eq 3))");
    CHECK_STR(parsed(p, "a eq 1 and b eq 2 or c eq 3"), "((a eq 1 and b eq 2) or c eq 3)");
    CHECK_STR(parsed(p, "a pr or b pr or c pr"), "((a pr or b pr) or c pr)");
    CHECK_STR(parsed(p, "a pr and b pr and c pr"), "((a pr and b pr) and c pr)");
    /* a true, b false, c false: a or (b and c) is true; (a or b) and c would be false */
    const char *doc = "{\"a\":1,\"b\":0,\"c\":0}";
    CHECK_INT(match(p, "a eq 1 or b eq 2 and c eq 3", doc), 1);
    CHECK_INT(match(p, "(a eq 1 or b eq 2) and c eq 3", doc), 0);
}

static void test_filter_parentheses_override_precedence(apr_pool_t *p)
{
    CHECK_STR(parsed(p, "(a eq 1 or b eq 2) and c eq 3"), "((a eq 1 or b eq 2) and c eq 3)");
    CHECK_STR(parsed(p, "((a pr))"), "a pr");
    CHECK_STR(parsed(p, "a pr and (b pr or (c pr and d pr))"),
              "(a pr and (b pr or (c pr and d pr)))");
}

static void test_filter_not_binds_tighter_than_and(apr_pool_t *p)
{
    CHECK_STR(parsed(p, "not (a pr) and b pr"), "(not (a pr) and b pr)");
    CHECK_STR(parsed(p, "not(a pr or b pr)"), "not ((a pr or b pr))");
    CHECK_STR(parsed(p, "not (not (a pr))"), "not (not (a pr))");
    CHECK_INT(babs(p, "not (userName eq \"x\")"), 1);
    CHECK_INT(babs(p, "not (active eq true)"), 0);
    CHECK_INT(babs(p, "not (nickName pr) and active eq true"), 1);
}

static void test_filter_attribute_named_not_is_still_an_attribute(apr_pool_t *p)
{
    CHECK_STR(parsed(p, "not eq \"x\""), "not eq \"x\"");
    CHECK_INT(match(p, "not eq \"x\"", "{\"not\":\"X\"}"), 1);
}

static void test_filter_operators_and_names_are_case_insensitive(apr_pool_t *p)
{
    CHECK_INT(babs(p, "USERNAME EQ \"bjensen@example.com\" AND Active Eq TRUE"), 1);
    CHECK_INT(babs(p, "NAME.GIVENNAME sw \"bar\" Or userName pr"), 1);
    CHECK_INT(babs(p, "Not (EMAILS[TYPE eq \"work\"])"), 0);
    CHECK_INT(babs(p, "userName PR"), 1);
    CHECK_INT(babs(p, "active eq False"), 0);
}

static void test_filter_case_exact_attributes_compare_exactly(apr_pool_t *p)
{
    CHECK_INT(babs(p, "externalId eq \"00uAbC\""), 1);
    CHECK_INT(babs(p, "externalId eq \"00uabc\""), 0);
    CHECK_INT(babs(p, "externalId sw \"00uA\""), 1);
    CHECK_INT(babs(p, "externalId co \"abc\""), 0);
    CHECK_INT(babs(p, "id eq \"2819C223\""), 0);
    CHECK_INT(babs(p, "displayName co \"JENSEN\""), 1);
}

static void test_filter_value_paths_match_one_value(apr_pool_t *p)
{
    CHECK_STR(parsed(p, "emails[type eq \"work\" and value co \"@example.com\"]"),
              "emails[(type eq \"work\" and value co \"@example.com\")]");
    CHECK_INT(babs(p, "emails[type eq \"work\" and value co \"@example.com\"]"), 1);
    /* work and jensen.org are on two different values: no single value has both */
    CHECK_INT(babs(p, "emails[type eq \"work\" and value co \"jensen.org\"]"), 0);
    CHECK_INT(babs(p, "emails.type eq \"work\" and emails.value co \"jensen.org\""), 1);
    CHECK_INT(babs(p, "emails[primary eq true]"), 1);
    CHECK_INT(babs(p, "emails[type eq \"home\" and primary eq true]"), 0);
    CHECK_INT(babs(p, "emails[not (type eq \"work\")]"), 1);
    CHECK_INT(babs(p, "emails[type eq \"other\"] or userName pr"), 1);
}

static void test_filter_multi_valued_attribute_compares_its_values(apr_pool_t *p)
{
    CHECK_INT(babs(p, "emails eq \"BABS@jensen.org\""), 1);
    CHECK_INT(babs(p, "emails co \"example\""), 1);
    CHECK_INT(babs(p, "emails.value ew \".org\""), 1);
    CHECK_INT(babs(p, "emails.value eq \"nobody@example.com\""), 0);
    CHECK_INT(babs(p, "emails.display pr"), 0);
    CHECK_INT(match(p, "tags eq \"b\"", "{\"tags\":[\"a\",\"B\"]}"), 1);
}

static void test_filter_urn_qualified_names(apr_pool_t *p)
{
    CHECK_STR(parsed(p, "urn:ietf:params:scim:schemas:core:2.0:User:userName sw \"b\""),
              "userName sw \"b\"");
    CHECK_INT(babs(p, "urn:ietf:params:scim:schemas:core:2.0:User:name.familyName eq \"jensen\""),
              1);
    CHECK_INT(babs(p, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"
                      " eq \"701984\""), 1);
    CHECK_INT(babs(p, "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:manager.value"
                      " eq \"26118915\""), 1);
    CHECK_INT(babs(p, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"
                      " eq \"Sales\""), 0);
    CHECK_INT(match(p, "urn:example:custom:1.0:User:costCode eq \"x\"",
                    "{\"urn:example:custom:1.0:User\":{\"costCode\":\"X\"}}"), 1);
}

static void test_filter_string_literals_take_every_json_escape(apr_pool_t *p)
{
    CHECK_STR(parsed(p, "a eq \"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t\""),
              "a eq \"q\\\" b\\\\ s/ \\b\\f\\n\\r\\t\"");
    CHECK_INT(match(p, "a eq \"caf\\u00e9 \\ud83d\\ude00\"",
                    "{\"a\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\"}"), 1);
    CHECK_INT(match(p, "a eq \"\\u00C9\"", "{\"a\":\"\xc3\x89\"}"), 1);
    CHECK_INT(match(p, "a eq \"caf\xc3\xa9\"", "{\"a\":\"caf\xc3\xa9\"}"), 1);
}

static void test_filter_number_boolean_and_null_literals(apr_pool_t *p)
{
    CHECK_INT(babs(p, "loginCount eq 42"), 1);
    CHECK_INT(babs(p, "loginCount gt 4.2e1"), 0);
    CHECK_INT(babs(p, "loginCount ge -1"), 1);
    CHECK_INT(babs(p, "loginCount lt 42.5"), 1);
    CHECK_INT(babs(p, "active eq true"), 1);
    CHECK_INT(babs(p, "active ne true"), 0);
    CHECK_INT(babs(p, "nickName eq null"), 1);
    CHECK_INT(babs(p, "userName eq null"), 0);
    CHECK_INT(babs(p, "userName ne null"), 1);
    CHECK_INT(babs(p, "title eq null"), 1);
}

static void test_filter_absent_attribute_matches_no_comparison(apr_pool_t *p)
{
    CHECK_INT(babs(p, "nickName eq \"x\""), 0);
    CHECK_INT(babs(p, "nickName ne \"x\""), 0);
    CHECK_INT(babs(p, "not (nickName ne \"x\")"), 1);
    CHECK_INT(babs(p, "nickName lt \"zzz\""), 0);
}

static void test_filter_datetimes_compare_as_times(apr_pool_t *p)
{
    CHECK_INT(babs(p, "meta.lastModified gt \"2011-05-13T04:42:33Z\""), 1);
    CHECK_INT(babs(p, "meta.lastModified gt \"2011-05-13T06:42:33+02:00\""), 1);
    CHECK_INT(babs(p, "meta.lastModified eq \"2011-05-13T05:42:34+01:00\""), 1);
    CHECK_INT(babs(p, "meta.created lt \"2010-01-23T04:56:22Z\""), 0);
    CHECK_INT(babs(p, "meta.created le \"2010-01-23T04:56:22.900Z\""), 1);
}

static void test_filter_whitespace_is_flexible(apr_pool_t *p)
{
    CHECK_STR(parsed(p, "  userName   eq\t\"x\"  and(active eq true) "),
              "(userName eq \"x\" and active eq true)");
}

static void test_filter_refuses_malformed_filters_naming_the_position(apr_pool_t *p)
{
    CHECK_STR(error_of(p, ""), "the filter is empty");
    CHECK_STR(error_of(p, "   "), "the filter is empty");
    CHECK_STR(error_of(p, NULL), "the filter is empty");
    CHECK_STR(error_of(p, "userName eq"),
              "character 12: expected a value (a string in double quotes, a number, true, false "
              "or null), found the end of the filter");
    CHECK_STR(error_of(p, "userName foo \"x\""),
              "character 10: expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr) after "
              "'userName', found 'foo'");
    CHECK_STR(error_of(p, "userName"),
              "character 9: expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr) after "
              "'userName', found the end of the filter");
    CHECK_STR(error_of(p, "userName eq bob"),
              "character 13: 'bob' is not a value: write strings in double quotes");
    CHECK_STR(error_of(p, "userName eq 'bob'"),
              "character 13: ''bob'' is not a value: write strings in double quotes");
    CHECK_STR(error_of(p, "userName eq \"bob"),
              "character 13: the string is not closed with '\"'");
    CHECK_STR(error_of(p, "(userName pr"),
              "character 13: expected ')' to close the '(' at character 1, found the end of the "
              "filter");
    CHECK_STR(error_of(p, "userName pr)"),
              "character 12: expected 'and', 'or' or the end of the filter, found ')'");
    CHECK_STR(error_of(p, "userName pr xor title pr"),
              "character 13: expected 'and', 'or' or the end of the filter, found 'xor'");
    CHECK_STR(error_of(p, "not userName pr"),
              "character 5: expected '(' after 'not', found 'userName'");
    CHECK_STR(error_of(p, "userName pr and"),
              "character 16: expected an attribute name, 'not' or '(', found the end of the "
              "filter");
    CHECK_STR(error_of(p, "and userName pr"),
              "character 5: expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr) after "
              "'and', found 'userName'");
    CHECK_STR(error_of(p, "()"), "character 2: expected an attribute name, 'not' or '(', found "
              "')'");
    CHECK_STR(error_of(p, "userName eq 01"),
              "character 13: '01' is not a value: write strings in double quotes");
    CHECK_STR(error_of(p, "userName eq 1."),
              "character 13: '1.' is not a value: write strings in double quotes");
}

static void test_filter_refuses_malformed_value_paths(apr_pool_t *p)
{
    CHECK_STR(error_of(p, "emails[type eq \"work\""),
              "character 22: expected ']' to close the '[' at character 7, found the end of the "
              "filter");
    CHECK_STR(error_of(p, "emails[type[value pr]]"),
              "character 12: value filters cannot be nested");
    CHECK_STR(error_of(p, "emails[value.x eq \"y\"]"),
              "character 8: inside [...] name a sub-attribute, like type or value, not 'value.x'");
    CHECK_STR(error_of(p, "name.givenName[value pr]"),
              "character 1: a value filter applies to an attribute, not to the sub-attribute "
              "'name.givenName'");
    CHECK_STR(error_of(p, "emails[type eq \"work\"].value eq \"x\""),
              "character 23: expected 'and', 'or' or the end of the filter, found '.value'");
    CHECK_STR(error_of(p, "emails[]"),
              "character 8: expected an attribute name, 'not' or '(', found ']'");
}

static void test_filter_refuses_bad_names(apr_pool_t *p)
{
    CHECK_STR(error_of(p, "a.b.c pr"), "character 1: 'a.b.c' has more than one sub-attribute");
    CHECK_STR(error_of(p, "1abc pr"), "character 1: '1abc' is not a valid attribute name");
    CHECK_STR(error_of(p, "name. pr"), "character 1: 'name.' is not a valid attribute name");
    CHECK_STR(error_of(p, "userName.x eq \"y\""), "character 1: 'userName' has no sub-attributes");
    CHECK_STR(error_of(p, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User eq \"x\""),
              "character 1: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User' names "
              "a schema, not an attribute");
    CHECK_STR(error_of(p, "= \"x\""),
              "character 1: expected an attribute name, 'not' or '(', found '='");
}

static void test_filter_refuses_bad_string_escapes(apr_pool_t *p)
{
    CHECK_STR(error_of(p, "a eq \"\\x\""), "character 7: invalid escape '\\x' in a string");
    CHECK_STR(error_of(p, "a eq \"\\u12\""),
              "character 7: \\u must be followed by four hexadecimal digits");
    CHECK_STR(error_of(p, "a eq \"\\ud83d\""),
              "character 7: unpaired surrogate \\uD83D in a string");
    CHECK_STR(error_of(p, "a eq \"\\ude00\""),
              "character 7: unpaired surrogate \\uDE00 in a string");
    CHECK_STR(error_of(p, "a eq \"\\ud83d\\u0041\""),
              "character 7: unpaired surrogate \\uD83D in a string");
    CHECK_STR(error_of(p, "a eq \"\\u0000\""), "character 7: \\u0000 is not allowed in a string");
    CHECK_STR(error_of(p, "a eq \"tab\there\""),
              "character 10: control character 0x09 in a string must be escaped");
    CHECK_STR(error_of(p, "a eq \"\\"), "character 7: invalid escape '\\ ' in a string");
    CHECK_STR(error_of(p, "a eq \"\xc3\x28\""), "the filter is not valid UTF-8");
    CHECK_STR(error_of(p, "a eq \"\xed\xa0\x80\""), "the filter is not valid UTF-8");
    CHECK_STR(error_of(p, "a eq \"\xc0\xaf\""), "the filter is not valid UTF-8");
}

static void test_filter_refuses_operator_value_mismatches(apr_pool_t *p)
{
    CHECK_STR(error_of(p, "active gt true"), "character 1: gt does not apply to true or false");
    CHECK_STR(error_of(p, "active eq \"true\""),
              "character 1: 'active' is a boolean: compare it with true or false");
    CHECK_STR(error_of(p, "active co \"t\""),
              "character 1: 'active' is a boolean: only eq, ne and pr apply");
    CHECK_STR(error_of(p, "userName co 5"), "character 1: co needs a string value");
    CHECK_STR(error_of(p, "userName eq 5"),
              "character 1: 'userName' is a string: compare it with a string in double quotes");
    CHECK_STR(error_of(p, "userName gt null"),
              "character 1: null can only be compared with eq or ne, not gt");
    CHECK_STR(error_of(p, "meta.created gt \"yesterday\""),
              "character 1: 'meta.created' is a dateTime: compare it with a string like "
              "\"2024-01-31T09:00:00Z\"");
    CHECK_STR(error_of(p, "meta.created sw \"2024\""),
              "character 1: 'meta.created' is a dateTime: co, sw and ew do not apply");
    CHECK_STR(error_of(p, "name eq \"Barbara\""),
              "character 1: 'name' is a complex attribute: filter on a sub-attribute, like "
              "name.formatted");
    CHECK_STR(error_of(p, "emails[primary eq \"yes\"]"),
              "character 8: 'primary' is a boolean: compare it with true or false");
    CHECK_STR(error_of(p, "emails eq true"),
              "character 1: 'emails' is a string: compare it with a string in double quotes");
}

/* Found by fuzz_scim_filter: "9999-12-31T23:59:60Z" was bound as "10000-01-01T00:00:00Z",
 * which as text sorts below every stored time, so SQL and scim_filter_match disagreed. */
static void test_filter_refuses_datetimes_outside_years_0000_to_9999_in_utc(apr_pool_t *p)
{
    CHECK_STR(error_of(p, "meta.created le \"9999-12-31T23:59:60Z\""),
              "character 1: 'meta.created' is a dateTime: it must fall in the years 0000 to 9999 "
              "in UTC");
    CHECK_STR(error_of(p, "meta.lastModified gt \"9999-12-31T23:30:00-01:00\""),
              "character 1: 'meta.lastModified' is a dateTime: it must fall in the years 0000 to "
              "9999 in UTC");
    CHECK_STR(error_of(p, "meta.created lt \"0000-01-01T00:00:00+00:01\""),
              "character 1: 'meta.created' is a dateTime: it must fall in the years 0000 to 9999 "
              "in UTC");
    CHECK_STR(sql(p, "meta.created le \"9999-12-31T23:59:59.999Z\"", SCIM_SQL_SQLITE),
              "(scim_users.created IS NOT NULL AND scim_users.created <= %s)"
              " | 9999-12-31T23:59:59Z");
    CHECK_STR(sql(p, "meta.created ge \"0000-01-01T01:00:00+01:00\"", SCIM_SQL_PGSQL),
              "(scim_users.created IS NOT NULL AND scim_users.created >= %s)"
              " | 0000-01-01T00:00:00Z");
}

static void test_filter_limits_length_depth_and_size(apr_pool_t *p)
{
    char *long_value = apr_palloc(p, SCIM_FILTER_MAX_LENGTH + 20);
    memset(long_value, 'x', SCIM_FILTER_MAX_LENGTH + 19);
    long_value[SCIM_FILTER_MAX_LENGTH + 19] = '\0';
    memcpy(long_value, "a eq \"", 6);
    CHECK_STR(error_of(p, long_value), "the filter is longer than 4096 bytes");

    char *deep = "a pr";
    for (int i = 0; i < SCIM_FILTER_MAX_DEPTH; i++)
        deep = apr_pstrcat(p, "(", deep, ")", NULL);
    CHECK_STR(parsed(p, deep), "a pr");
    CHECK_STR(error_of(p, apr_pstrcat(p, "(", deep, ")", NULL)),
              "character 33: the filter nests deeper than 32 levels");

    char *nots = "a pr";
    for (int i = 0; i < SCIM_FILTER_MAX_DEPTH + 1; i++)
        nots = apr_pstrcat(p, "not (", nots, ")", NULL);
    CHECK(strstr(error_of(p, nots), "nests deeper than 32 levels") != NULL);

    char *wide = "a pr";
    for (int i = 1; i < 128; i++)
        wide = apr_pstrcat(p, wide, " or a pr", NULL);
    CHECK(error_of(p, wide) == NULL); /* 128 comparisons + 127 or = 255 expressions */
    CHECK_STR(error_of(p, apr_pstrcat(p, wide, " or a pr", NULL)),
              "character 1025: the filter has more than 256 expressions");
}

static void test_path_parse_reads_patch_paths(apr_pool_t *p)
{
    scim_patch_path path;
    CHECK_STR(scim_path_parse(p, "name.givenName", &path), NULL);
    CHECK_STR(path.path.attr, "name");
    CHECK_STR(path.path.sub, "givenName");
    CHECK(path.filter == NULL);
    CHECK_STR(path.def->name, "name");

    CHECK_STR(scim_path_parse(p, "emails[type eq \"work\"].value", &path), NULL);
    CHECK_STR(path.path.attr, "emails");
    CHECK_STR(path.value_sub, "value");
    CHECK_STR(scim_filter_to_string(p, path.filter), "type eq \"work\"");

    CHECK_STR(scim_path_parse(p, "members[value eq \"2819c223\"]", &path), NULL);
    CHECK(path.value_sub == NULL && path.def == NULL);

    CHECK_STR(scim_path_parse(p, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:"
                                 "manager.value", &path), NULL);
    CHECK_STR(path.path.urn, SCIM_SCHEMA_ENTERPRISE_USER);
    CHECK_STR(path.path.attr, "manager");
    CHECK_STR(path.path.sub, "value");

    CHECK_STR(scim_path_parse(p, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user",
                              &path), NULL);
    CHECK_STR(path.path.urn, SCIM_SCHEMA_ENTERPRISE_USER);
    CHECK(path.path.attr == NULL);

    CHECK_STR(scim_path_parse(p, "urn:ietf:params:scim:schemas:core:2.0:User:active", &path),
              NULL);
    CHECK(path.path.urn == NULL);
    CHECK_STR(path.path.attr, "active");
}

static void test_path_parse_refuses_malformed_paths(apr_pool_t *p)
{
    scim_patch_path path;
    CHECK_STR(scim_path_parse(p, "", &path), "the path is empty");
    CHECK_STR(scim_path_parse(p, "emails[type eq \"work\"].", &path),
              "character 24: '' is not a valid sub-attribute name");
    CHECK_STR(scim_path_parse(p, "emails[type eq \"work\"]x", &path),
              "character 23: expected the end of the path, found 'x'");
    CHECK_STR(scim_path_parse(p, "emails[type eq]", &path),
              "character 15: expected a value (a string in double quotes, a number, true, false "
              "or null), found ']'");
    CHECK_STR(scim_path_parse(p, "name givenName", &path),
              "character 6: expected the end of the path, found 'givenName'");
    CHECK_STR(scim_path_parse(p, "[type eq \"work\"]", &path),
              "character 1: expected an attribute name, found '['");
}

static void test_sql_username_eq_uses_the_lowercased_column(apr_pool_t *p)
{
    CHECK_STR(sql(p, "userName eq \"Bjensen@Example.COM\"", SCIM_SQL_SQLITE),
              "(scim_users.user_name_lower IS NOT NULL AND scim_users.user_name_lower = %s)"
              " | bjensen@example.com");
    CHECK_STR(sql(p, "userName eq \"Bjensen@Example.COM\"", SCIM_SQL_PGSQL),
              "(scim_users.user_name_lower IS NOT NULL AND scim_users.user_name_lower = %s)"
              " | bjensen@example.com");
}

static void test_sql_like_escapes_percent_underscore_and_escape_char(apr_pool_t *p)
{
    CHECK_STR(sql(p, "userName co \"50%_off!\"", SCIM_SQL_SQLITE),
              "(scim_users.user_name_lower IS NOT NULL AND scim_users.user_name_lower LIKE %s "
              "ESCAPE '!') | %50!%!_off!!%");
    CHECK_STR(sql(p, "displayName sw \"A_\"", SCIM_SQL_PGSQL),
              "(scim_users.display_name IS NOT NULL AND lower(scim_users.display_name) LIKE %s "
              "ESCAPE '!') | a!_%");
    CHECK_STR(sql(p, "name.familyName ew \"%\"", SCIM_SQL_SQLITE),
              "(scim_users.family_name IS NOT NULL AND lower(scim_users.family_name) LIKE %s "
              "ESCAPE '!') | %!%");
}

static void test_sql_case_exact_substring_uses_glob_on_sqlite_like_on_pgsql(apr_pool_t *p)
{
    CHECK_STR(sql(p, "externalId sw \"Ab*?[\"", SCIM_SQL_SQLITE),
              "(scim_users.external_id IS NOT NULL AND scim_users.external_id GLOB %s)"
              " | Ab[*][?][[]*");
    CHECK_STR(sql(p, "externalId sw \"Ab%\"", SCIM_SQL_PGSQL),
              "(scim_users.external_id IS NOT NULL AND scim_users.external_id LIKE %s "
              "ESCAPE '!') | Ab!%%");
    CHECK_STR(sql(p, "id eq \"AbC\"", SCIM_SQL_SQLITE),
              "(scim_users.id IS NOT NULL AND scim_users.id = %s) | AbC");
}

static void test_sql_booleans_times_and_presence(apr_pool_t *p)
{
    CHECK_STR(sql(p, "active eq true", SCIM_SQL_SQLITE),
              "(scim_users.active IS NOT NULL AND scim_users.active = %s) | 1");
    CHECK_STR(sql(p, "active ne true", SCIM_SQL_PGSQL),
              "(scim_users.active IS NOT NULL AND scim_users.active <> %s) | 1");
    CHECK_STR(sql(p, "meta.lastModified gt \"2024-01-01T00:30:00+01:00\"", SCIM_SQL_SQLITE),
              "(scim_users.last_modified IS NOT NULL AND scim_users.last_modified > %s)"
              " | 2023-12-31T23:30:00Z");
    CHECK_STR(sql(p, "externalId pr", SCIM_SQL_SQLITE),
              "(scim_users.external_id IS NOT NULL AND scim_users.external_id <> '')");
    CHECK_STR(sql(p, "displayName eq null", SCIM_SQL_SQLITE),
              "(NOT (scim_users.display_name IS NOT NULL AND scim_users.display_name <> ''))");
    CHECK_STR(sql(p, "name.givenName lt \"M\"", SCIM_SQL_SQLITE),
              "(scim_users.given_name IS NOT NULL AND lower(scim_users.given_name) < %s) | m");
}

static void test_sql_emails_become_exists_subqueries(apr_pool_t *p)
{
    CHECK_STR(sql(p, "emails[type eq \"Work\" and value co \"x_\"]", SCIM_SQL_SQLITE),
              "(EXISTS (SELECT 1 FROM scim_user_emails e WHERE e.org = scim_users.org AND "
              "e.user_id = scim_users.id AND ((e.type IS NOT NULL AND lower(e.type) = %s) AND "
              "(e.value_lower IS NOT NULL AND e.value_lower LIKE %s ESCAPE '!')))) | work | %x!_%");
    CHECK_STR(sql(p, "emails.value eq \"A@B\"", SCIM_SQL_PGSQL),
              "(EXISTS (SELECT 1 FROM scim_user_emails e WHERE e.org = scim_users.org AND "
              "e.user_id = scim_users.id AND (e.value_lower IS NOT NULL AND e.value_lower = %s)))"
              " | a@b");
    CHECK_STR(sql(p, "emails eq \"A@B\"", SCIM_SQL_PGSQL),
              "(EXISTS (SELECT 1 FROM scim_user_emails e WHERE e.org = scim_users.org AND "
              "e.user_id = scim_users.id AND (e.value_lower IS NOT NULL AND e.value_lower = %s)))"
              " | a@b");
    CHECK_STR(sql(p, "emails pr", SCIM_SQL_SQLITE),
              "(EXISTS (SELECT 1 FROM scim_user_emails e WHERE e.org = scim_users.org AND "
              "e.user_id = scim_users.id))");
    CHECK_STR(sql(p, "emails eq null", SCIM_SQL_SQLITE),
              "(NOT EXISTS (SELECT 1 FROM scim_user_emails e WHERE e.org = scim_users.org AND "
              "e.user_id = scim_users.id))");
    CHECK_STR(sql(p, "emails[primary eq true]", SCIM_SQL_SQLITE),
              "(EXISTS (SELECT 1 FROM scim_user_emails e WHERE e.org = scim_users.org AND "
              "e.user_id = scim_users.id AND (e.is_primary IS NOT NULL AND e.is_primary = %s)))"
              " | 1");
}

static void test_sql_keeps_precedence_and_parameter_order(apr_pool_t *p)
{
    CHECK_STR(sql(p, "id eq \"1\" or id eq \"2\" and not (id eq \"3\")", SCIM_SQL_SQLITE),
              "((scim_users.id IS NOT NULL AND scim_users.id = %s) OR "
              "((scim_users.id IS NOT NULL AND scim_users.id = %s) AND "
              "(NOT (scim_users.id IS NOT NULL AND scim_users.id = %s)))) | 1 | 2 | 3");
}

static void test_sql_refuses_attributes_without_a_column(apr_pool_t *p)
{
    const char *msg = "; filterable: id, externalId, userName, displayName, name.givenName, "
                      "name.familyName, name.formatted, active, emails, emails.value, "
                      "emails.type, emails.primary, emails[...], meta.created and "
                      "meta.lastModified";
    CHECK_STR(sql(p, "title eq \"x\"", SCIM_SQL_SQLITE),
              apr_pstrcat(p, "error: filtering on 'title' is not supported", msg, NULL));
    CHECK_STR(sql(p, "userName pr and emails.display pr", SCIM_SQL_SQLITE),
              apr_pstrcat(p, "error: filtering on 'emails.display' is not supported", msg, NULL));
    CHECK_STR(sql(p, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department pr",
                  SCIM_SQL_SQLITE),
              apr_pstrcat(p, "error: filtering on 'urn:ietf:params:scim:schemas:extension:"
                          "enterprise:2.0:User:department' is not supported", msg, NULL));
    CHECK_STR(sql(p, "phoneNumbers[type eq \"work\"]", SCIM_SQL_SQLITE),
              "error: value filters are supported on emails only, not on 'phoneNumbers'");
}

static void test_sql_never_contains_a_literal_percent(apr_pool_t *p)
{
    const char *filters[] = { "userName co \"%%%\"", "displayName sw \"%s\"",
                              "emails[value ew \"%d\"]", "externalId co \"%\"", NULL };
    for (int i = 0; filters[i]; i++) {
        for (int d = SCIM_SQL_SQLITE; d <= SCIM_SQL_PGSQL; d++) {
            const scim_filter *f;
            const char *where;
            apr_array_header_t *params;
            CHECK(scim_filter_parse(p, filters[i], &f) == NULL);
            CHECK(scim_filter_sql(p, f, d, &where, &params) == NULL);
            for (const char *c = strchr(where, '%'); c; c = strchr(c + 2, '%'))
                CHECK(c[1] == 's');
        }
    }
}

int main(void)
{
    static const unit_case cases[] = {
        UNIT(test_filter_parses_every_comparison_operator),
        UNIT(test_filter_matches_every_comparison_operator),
        UNIT(test_filter_pr_treats_empty_values_as_absent),
        UNIT(test_filter_and_binds_tighter_than_or),
        UNIT(test_filter_parentheses_override_precedence),
        UNIT(test_filter_not_binds_tighter_than_and),
        UNIT(test_filter_attribute_named_not_is_still_an_attribute),
        UNIT(test_filter_operators_and_names_are_case_insensitive),
        UNIT(test_filter_case_exact_attributes_compare_exactly),
        UNIT(test_filter_value_paths_match_one_value),
        UNIT(test_filter_multi_valued_attribute_compares_its_values),
        UNIT(test_filter_urn_qualified_names),
        UNIT(test_filter_string_literals_take_every_json_escape),
        UNIT(test_filter_number_boolean_and_null_literals),
        UNIT(test_filter_absent_attribute_matches_no_comparison),
        UNIT(test_filter_datetimes_compare_as_times),
        UNIT(test_filter_whitespace_is_flexible),
        UNIT(test_filter_refuses_malformed_filters_naming_the_position),
        UNIT(test_filter_refuses_malformed_value_paths),
        UNIT(test_filter_refuses_bad_names),
        UNIT(test_filter_refuses_bad_string_escapes),
        UNIT(test_filter_refuses_operator_value_mismatches),
        UNIT(test_filter_refuses_datetimes_outside_years_0000_to_9999_in_utc),
        UNIT(test_filter_limits_length_depth_and_size),
        UNIT(test_path_parse_reads_patch_paths),
        UNIT(test_path_parse_refuses_malformed_paths),
        UNIT(test_sql_username_eq_uses_the_lowercased_column),
        UNIT(test_sql_like_escapes_percent_underscore_and_escape_char),
        UNIT(test_sql_case_exact_substring_uses_glob_on_sqlite_like_on_pgsql),
        UNIT(test_sql_booleans_times_and_presence),
        UNIT(test_sql_emails_become_exists_subqueries),
        UNIT(test_sql_keeps_precedence_and_parameter_order),
        UNIT(test_sql_refuses_attributes_without_a_column),
        UNIT(test_sql_never_contains_a_literal_percent),
        UNIT_END
    };
    return unit_run("scim_filter", cases);
}
