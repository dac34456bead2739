#include "unit.h"
#include <apr_strings.h>
#include "saml_groupsync.h"

static const char *parse(apr_pool_t *p, groupsync_rule *rule, int argc, const char *a0,
                         const char *a1, const char *a2, const char *a3)
{
    const char *argv[] = {a0, a1, a2, a3};
    return groupsync_rule_parse(p, argc, argv, rule);
}

static apr_array_header_t *rules_of(apr_pool_t *p, const groupsync_rule *list, int n)
{
    apr_array_header_t *rules = apr_array_make(p, n, sizeof(groupsync_rule));
    for (int i = 0; i < n; i++)
        APR_ARRAY_PUSH(rules, groupsync_rule) = list[i];
    return rules;
}

static const team_membership *nth(const apr_array_header_t *teams, int i)
{
    return &APR_ARRAY_IDX(teams, i, team_membership);
}

static void test_groupsync_role_parse_is_case_insensitive(apr_pool_t *p)
{
    CHECK_INT(groupsync_role_parse("Member"), TEAM_ROLE_MEMBER);
    CHECK_INT(groupsync_role_parse("member"), TEAM_ROLE_MEMBER);
    CHECK_INT(groupsync_role_parse("MANAGER"), TEAM_ROLE_MANAGER);
    CHECK_INT(groupsync_role_parse("Admin"), -1);
    CHECK_INT(groupsync_role_parse(""), -1);
    CHECK_INT(groupsync_role_parse(NULL), -1);
    CHECK_STR(groupsync_role_name(TEAM_ROLE_MEMBER), "Member");
    CHECK_STR(groupsync_role_name(TEAM_ROLE_MANAGER), "Manager");
}

static void test_groupsync_rule_parse_defaults_role_to_member(apr_pool_t *p)
{
    groupsync_rule rule;
    CHECK_STR(parse(p, &rule, 3, "groups", "Dev", "developers", NULL), NULL);
    CHECK_STR(rule.idp_key, "groups");
    CHECK_STR(rule.idp_value, "Dev");
    CHECK_STR(rule.team, "developers");
    CHECK_INT(rule.role, TEAM_ROLE_MEMBER);
}

static void test_groupsync_rule_parse_reads_role(apr_pool_t *p)
{
    groupsync_rule rule;
    CHECK_STR(parse(p, &rule, 4, "groups", "Ops", "ops", "manager"), NULL);
    CHECK_INT(rule.role, TEAM_ROLE_MANAGER);
    CHECK_STR(parse(p, &rule, 4, "groups", "Ops", "ops", "Member"), NULL);
    CHECK_INT(rule.role, TEAM_ROLE_MEMBER);
}

static void test_groupsync_rule_parse_refuses_empty_fields(apr_pool_t *p)
{
    groupsync_rule rule;
    CHECK_STR(parse(p, &rule, 3, "", "Dev", "developers", NULL), "IDP_KEY must not be empty");
    CHECK_STR(parse(p, &rule, 3, "groups", "", "developers", NULL),
              "IDP_VALUE must not be empty");
    CHECK_STR(parse(p, &rule, 3, "groups", "Dev", "", NULL), "TEAM must not be empty");
}

static void test_groupsync_rule_parse_refuses_unknown_role_naming_it(apr_pool_t *p)
{
    groupsync_rule rule;
    CHECK_STR(parse(p, &rule, 4, "groups", "Dev", "developers", "Admin"),
              "role 'Admin' must be Member or Manager");
    CHECK_STR(parse(p, &rule, 4, "groups", "Dev", "developers", ""),
              "role '' must be Member or Manager");
}

static void test_groupsync_rule_parse_refuses_wrong_argument_count(apr_pool_t *p)
{
    groupsync_rule rule;
    const char *argv[] = {"groups", "Dev", "developers", "Member", "extra"};
    CHECK_STR(groupsync_rule_parse(p, 2, argv, &rule), "expected 3 or 4 arguments, got 2");
    CHECK_STR(groupsync_rule_parse(p, 5, argv, &rule), "expected 3 or 4 arguments, got 5");
    CHECK_STR(groupsync_rule_parse(p, 0, argv, &rule), "expected 3 or 4 arguments, got 0");
}

static const groupsync_rule okta_rules[] = {
    {"groups", "Dev", "developers", TEAM_ROLE_MEMBER},
    {"groups", "Ops", "ops", TEAM_ROLE_MANAGER},
    {"Ops", "Ops", "ops-attr", TEAM_ROLE_MEMBER},
};

static void test_groupsync_apply_multivalued_groups_attribute(apr_pool_t *p)
{
    apr_table_t *attrs = apr_table_make(p, 4);
    apr_table_add(attrs, "groups", "Dev");
    apr_table_add(attrs, "groups", "Ops");
    apr_array_header_t *teams = groupsync_apply(p, rules_of(p, okta_rules, 3), attrs);
    CHECK_INT(teams->nelts, 2);
    if (teams->nelts == 2) {
        CHECK_STR(nth(teams, 0)->team, "developers");
        CHECK_INT(nth(teams, 0)->role, TEAM_ROLE_MEMBER);
        CHECK_STR(nth(teams, 1)->team, "ops");
        CHECK_INT(nth(teams, 1)->role, TEAM_ROLE_MANAGER);
    }
}

static void test_groupsync_apply_one_attribute_per_group(apr_pool_t *p)
{
    apr_table_t *attrs = apr_table_make(p, 4);
    apr_table_add(attrs, "Ops", "Ops");
    apr_array_header_t *teams = groupsync_apply(p, rules_of(p, okta_rules, 3), attrs);
    CHECK_INT(teams->nelts, 1);
    if (teams->nelts == 1) {
        CHECK_STR(nth(teams, 0)->team, "ops-attr");
        CHECK_INT(nth(teams, 0)->role, TEAM_ROLE_MEMBER);
    }
}

static void test_groupsync_apply_matches_names_and_values_case_sensitively(apr_pool_t *p)
{
    apr_table_t *attrs = apr_table_make(p, 4);
    apr_table_add(attrs, "Groups", "Dev");
    apr_table_add(attrs, "groups", "dev");
    apr_table_add(attrs, "groups", "Dev ");
    apr_table_add(attrs, "ops", "Ops");
    apr_table_add(attrs, "Ops", "OPS");
    apr_array_header_t *teams = groupsync_apply(p, rules_of(p, okta_rules, 3), attrs);
    CHECK(teams != NULL);
    CHECK_INT(teams->nelts, 0);
}

static void test_groupsync_apply_one_entry_per_team_with_highest_role(apr_pool_t *p)
{
    static const groupsync_rule rules[] = {
        {"groups", "Dev", "eng", TEAM_ROLE_MEMBER},
        {"groups", "Leads", "eng", TEAM_ROLE_MANAGER},
        {"groups", "Dev", "eng", TEAM_ROLE_MEMBER},
    };
    apr_table_t *attrs = apr_table_make(p, 4);
    apr_table_add(attrs, "groups", "Dev");
    apr_table_add(attrs, "groups", "Leads");
    apr_array_header_t *teams = groupsync_apply(p, rules_of(p, rules, 3), attrs);
    CHECK_INT(teams->nelts, 1);
    if (teams->nelts == 1) {
        CHECK_STR(nth(teams, 0)->team, "eng");
        CHECK_INT(nth(teams, 0)->role, TEAM_ROLE_MANAGER);
    }
}

static void test_groupsync_apply_sorts_by_team_name(apr_pool_t *p)
{
    static const groupsync_rule rules[] = {
        {"g", "1", "zeta", TEAM_ROLE_MEMBER},
        {"g", "1", "Zeta", TEAM_ROLE_MEMBER},
        {"g", "1", "alpha", TEAM_ROLE_MANAGER},
        {"g", "1", "mid", TEAM_ROLE_MEMBER},
    };
    apr_table_t *attrs = apr_table_make(p, 1);
    apr_table_add(attrs, "g", "1");
    apr_array_header_t *teams = groupsync_apply(p, rules_of(p, rules, 4), attrs);
    CHECK_INT(teams->nelts, 4);
    if (teams->nelts == 4) {
        CHECK_STR(nth(teams, 0)->team, "Zeta"); /* byte order: upper case first */
        CHECK_STR(nth(teams, 1)->team, "alpha");
        CHECK_STR(nth(teams, 2)->team, "mid");
        CHECK_STR(nth(teams, 3)->team, "zeta");
    }
}

static void test_groupsync_apply_no_match_gives_empty_array(apr_pool_t *p)
{
    apr_table_t *attrs = apr_table_make(p, 1);
    apr_table_add(attrs, "groups", "Sales");
    apr_array_header_t *teams = groupsync_apply(p, rules_of(p, okta_rules, 3), attrs);
    CHECK(teams != NULL);
    CHECK_INT(teams->nelts, 0);
    teams = groupsync_apply(p, rules_of(p, okta_rules, 0), attrs);
    CHECK(teams != NULL);
    CHECK_INT(teams->nelts, 0);
}

static void test_groupsync_apply_handles_null_rules_and_attributes(apr_pool_t *p)
{
    apr_array_header_t *teams = groupsync_apply(p, rules_of(p, okta_rules, 3), NULL);
    CHECK(teams != NULL);
    CHECK_INT(teams->nelts, 0);
    teams = groupsync_apply(p, NULL, apr_table_make(p, 1));
    CHECK(teams != NULL);
    CHECK_INT(teams->nelts, 0);
    teams = groupsync_apply(p, NULL, NULL);
    CHECK(teams != NULL);
    CHECK_INT(teams->nelts, 0);
}

static const unit_case cases[] = {
    UNIT(test_groupsync_role_parse_is_case_insensitive),
    UNIT(test_groupsync_rule_parse_defaults_role_to_member),
    UNIT(test_groupsync_rule_parse_reads_role),
    UNIT(test_groupsync_rule_parse_refuses_empty_fields),
    UNIT(test_groupsync_rule_parse_refuses_unknown_role_naming_it),
    UNIT(test_groupsync_rule_parse_refuses_wrong_argument_count),
    UNIT(test_groupsync_apply_multivalued_groups_attribute),
    UNIT(test_groupsync_apply_one_attribute_per_group),
    UNIT(test_groupsync_apply_matches_names_and_values_case_sensitively),
    UNIT(test_groupsync_apply_one_entry_per_team_with_highest_role),
    UNIT(test_groupsync_apply_sorts_by_team_name),
    UNIT(test_groupsync_apply_no_match_gives_empty_array),
    UNIT(test_groupsync_apply_handles_null_rules_and_attributes),
    UNIT_END
};

int main(void) { return unit_run("groupsync", cases); }
