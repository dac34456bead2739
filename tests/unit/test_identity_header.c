#include "unit.h"
#include "identity_header.h"
#include "saml_groupsync.h"

static apr_array_header_t *teams_of(apr_pool_t *p, const team_membership *list, int n)
{
    apr_array_header_t *teams = apr_array_make(p, n, sizeof(team_membership));
    for (int i = 0; i < n; i++)
        APR_ARRAY_PUSH(teams, team_membership) = list[i];
    return teams;
}

static void test_identity_header_name_matches_ignoring_case_and_underscores(apr_pool_t *p)
{
    CHECK(identity_header_name_matches("X-Remote-User", "X-Remote-User"));
    CHECK(identity_header_name_matches("x_remote_user", "X-Remote-User"));
    CHECK(identity_header_name_matches("X-REMOTE-USER", "X-Remote-User"));
    CHECK(identity_header_name_matches("x-Remote_USER", "X_Remote-User"));
}

static void test_identity_header_name_does_not_match_prefixes_or_extensions(apr_pool_t *p)
{
    CHECK(!identity_header_name_matches("X-Remote-User2", "X-Remote-User"));
    CHECK(!identity_header_name_matches("X-Remote-Use", "X-Remote-User"));
    CHECK(!identity_header_name_matches("", "X-Remote-User"));
    CHECK(!identity_header_name_matches("X.Remote.User", "X-Remote-User"));
    CHECK(!identity_header_name_matches(NULL, "X-Remote-User"));
    CHECK(!identity_header_name_matches("X-Remote-User", NULL));
}

static void test_identity_header_value_rejects_control_characters(apr_pool_t *p)
{
    CHECK_STR(identity_header_value(p, "a\rb"), NULL);
    CHECK_STR(identity_header_value(p, "a\nb"), NULL);
    CHECK_STR(identity_header_value(p, "a\r\nX-Injected: 1"), NULL);
    CHECK_STR(identity_header_value(p, "a\tb"), NULL);
    CHECK_STR(identity_header_value(p, "\x01"), NULL);
    CHECK_STR(identity_header_value(p, "a\x1f"), NULL);
    CHECK_STR(identity_header_value(p, "a\x7f"), NULL);
    CHECK_STR(identity_header_value(p, NULL), NULL);
}

static void test_identity_header_value_rejects_invalid_utf8(apr_pool_t *p)
{
    CHECK_STR(identity_header_value(p, "\xc0\xaf"), NULL);             /* overlong '/' */
    CHECK_STR(identity_header_value(p, "\xe0\x80\xaf"), NULL);         /* overlong, 3 bytes */
    CHECK_STR(identity_header_value(p, "\xf0\x80\x80\xaf"), NULL);     /* overlong, 4 bytes */
    CHECK_STR(identity_header_value(p, "\xc1\xbf"), NULL);
    CHECK_STR(identity_header_value(p, "Jos\xc3"), NULL);              /* truncated */
    CHECK_STR(identity_header_value(p, "\xe2\x82"), NULL);
    CHECK_STR(identity_header_value(p, "\xf0\x9f\x98"), NULL);
    CHECK_STR(identity_header_value(p, "\xed\xa0\x80"), NULL);         /* surrogate U+D800 */
    CHECK_STR(identity_header_value(p, "\xed\xbf\xbf"), NULL);         /* surrogate U+DFFF */
    CHECK_STR(identity_header_value(p, "\xf4\x90\x80\x80"), NULL);     /* above U+10FFFF */
    CHECK_STR(identity_header_value(p, "\xf5\x80\x80\x80"), NULL);
    CHECK_STR(identity_header_value(p, "\x80"), NULL);                 /* lone continuation */
    CHECK_STR(identity_header_value(p, "\xff"), NULL);
    CHECK_STR(identity_header_value(p, "Jos\xe9"), NULL);              /* Latin-1 */
}

static void test_identity_header_value_accepts_utf8_and_trims_spaces(apr_pool_t *p)
{
    CHECK_STR(identity_header_value(p, "Jos\xc3\xa9 M\xc3\xbcller"), "Jos\xc3\xa9 M\xc3\xbcller");
    CHECK_STR(identity_header_value(p, "  Jos\xc3\xa9  "), "Jos\xc3\xa9");
    CHECK_STR(identity_header_value(p, "\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80");
    CHECK_STR(identity_header_value(p, "\xed\x9f\xbf"), "\xed\x9f\xbf"); /* U+D7FF */
    CHECK_STR(identity_header_value(p, "\xf4\x8f\xbf\xbf"), "\xf4\x8f\xbf\xbf"); /* U+10FFFF */
    CHECK_STR(identity_header_value(p, "user@example.com"), "user@example.com");
    CHECK_STR(identity_header_value(p, "   "), "");
    CHECK_STR(identity_header_value(p, ""), "");
}

static void test_identity_header_teams_lists_sf_strings_with_role(apr_pool_t *p)
{
    static const team_membership list[] = {
        {"developers", TEAM_ROLE_MEMBER}, {"ops", TEAM_ROLE_MANAGER}};
    CHECK_STR(identity_header_teams(p, teams_of(p, list, 2)),
              "\"developers\";role=\"Member\", \"ops\";role=\"Manager\"");
}

static void test_identity_header_teams_escapes_quote_and_backslash(apr_pool_t *p)
{
    static const team_membership list[] = {{"a\"b\\c", TEAM_ROLE_MEMBER}};
    CHECK_STR(identity_header_teams(p, teams_of(p, list, 1)),
              "\"a\\\"b\\\\c\";role=\"Member\"");
}

static void test_identity_header_teams_keeps_a_comma_inside_one_item(apr_pool_t *p)
{
    static const team_membership list[] = {{"a, b", TEAM_ROLE_MEMBER}, {"c", TEAM_ROLE_MEMBER}};
    CHECK_STR(identity_header_teams(p, teams_of(p, list, 2)),
              "\"a, b\";role=\"Member\", \"c\";role=\"Member\"");
}

static void test_identity_header_teams_uses_display_strings_for_non_ascii(apr_pool_t *p)
{
    static const team_membership list[] = {
        {"\xc3\x9cn\xc3\xaf" "code", TEAM_ROLE_MANAGER}, {"50% \"off\"\xc3\xa9", TEAM_ROLE_MEMBER}};
    CHECK_STR(identity_header_teams(p, teams_of(p, list, 2)),
              "%\"%c3%9cn%c3%afcode\";role=\"Manager\", "
              "%\"50%25 %22off%22%c3%a9\";role=\"Member\"");
}

static void test_identity_header_teams_uses_display_strings_for_controls(apr_pool_t *p)
{
    static const team_membership list[] = {{"a\tb\x7f", TEAM_ROLE_MEMBER}};
    CHECK_STR(identity_header_teams(p, teams_of(p, list, 1)), "%\"a%09b%7f\";role=\"Member\"");
}

static void test_identity_header_teams_leaves_out_invalid_utf8_names(apr_pool_t *p)
{
    static const team_membership list[] = {
        {"bad\xc3", TEAM_ROLE_MEMBER}, {"good", TEAM_ROLE_MEMBER},
        {"\xed\xa0\x80", TEAM_ROLE_MEMBER}};
    CHECK_STR(identity_header_teams(p, teams_of(p, list, 3)), "\"good\";role=\"Member\"");
}

static void test_identity_header_teams_empty_list_gives_empty_string(apr_pool_t *p)
{
    CHECK_STR(identity_header_teams(p, teams_of(p, NULL, 0)), "");
    CHECK_STR(identity_header_teams(p, NULL), "");
}

static const unit_case cases[] = {
    UNIT(test_identity_header_name_matches_ignoring_case_and_underscores),
    UNIT(test_identity_header_name_does_not_match_prefixes_or_extensions),
    UNIT(test_identity_header_value_rejects_control_characters),
    UNIT(test_identity_header_value_rejects_invalid_utf8),
    UNIT(test_identity_header_value_accepts_utf8_and_trims_spaces),
    UNIT(test_identity_header_teams_lists_sf_strings_with_role),
    UNIT(test_identity_header_teams_escapes_quote_and_backslash),
    UNIT(test_identity_header_teams_keeps_a_comma_inside_one_item),
    UNIT(test_identity_header_teams_uses_display_strings_for_non_ascii),
    UNIT(test_identity_header_teams_uses_display_strings_for_controls),
    UNIT(test_identity_header_teams_leaves_out_invalid_utf8_names),
    UNIT(test_identity_header_teams_empty_list_gives_empty_string),
    UNIT_END
};

int main(void) { return unit_run("identity_header", cases); }
