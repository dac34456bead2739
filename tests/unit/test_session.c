#include <stdlib.h>
#include "unit.h"
#include <apr_strings.h>
#include "session_record.h"
#include "session_id.h"

#define ID_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID_B "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define ID_A_UPPER "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID_A_SHORT "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde"
#define EXPIRES 1700000000123456LL /* microseconds, beyond 32 bits */

static const char *decode_session(apr_pool_t *p, const char *json, session_record *rec)
{
    return session_record_decode(p, json, strlen(json), rec);
}

static const char *decode_login(apr_pool_t *p, const char *json, login_state *st)
{
    return login_state_decode(p, json, strlen(json), st);
}

/* A copy in malloc'd memory with no NUL after it, so valgrind sees any read past len. */
static char *unterminated(const char *text, apr_size_t len)
{
    char *copy = malloc(len);
    memcpy(copy, text, len);
    return copy;
}

static session_record full_record(apr_pool_t *p)
{
    apr_array_header_t *teams = apr_array_make(p, 2, sizeof(team_membership));
    APR_ARRAY_PUSH(teams, team_membership) = (team_membership){"developers", TEAM_ROLE_MEMBER};
    APR_ARRAY_PUSH(teams, team_membership) = (team_membership){"\xc3\x9cn\xc3\xaf" "code \"q\"",
                                                               TEAM_ROLE_MANAGER};
    session_record rec = {.org = "acme", .sp = "https://sso.example.com/acme/saml/acs/",
                          .user = "jose@example.com",
                          .email = "jose@example.com", .first_name = "Jos\xc3\xa9",
                          .last_name = "M\xc3\xbcller", .idp_entity_id = "http://idp/",
                          .session_index = "_idx1", .teams = teams,
                          .created = EXPIRES - 3600000000LL, .expires = EXPIRES,
                          .checked = EXPIRES - 60000000LL};
    return rec;
}

static void test_session_record_round_trips_every_field(apr_pool_t *p)
{
    session_record in = full_record(p), out;
    char *json = session_record_encode(p, &in);
    CHECK(json != NULL);
    CHECK_STR(decode_session(p, json, &out), NULL);
    CHECK_STR(out.org, "acme");
    CHECK_STR(out.sp, "https://sso.example.com/acme/saml/acs/");
    CHECK_STR(out.user, "jose@example.com");
    CHECK_STR(out.email, "jose@example.com");
    CHECK_STR(out.first_name, "Jos\xc3\xa9");
    CHECK_STR(out.last_name, "M\xc3\xbcller");
    CHECK_STR(out.idp_entity_id, "http://idp/");
    CHECK_STR(out.session_index, "_idx1");
    CHECK_INT(out.created, EXPIRES - 3600000000LL);
    CHECK_INT(out.expires, EXPIRES);
    CHECK_INT(out.checked, EXPIRES - 60000000LL);
    CHECK_INT(out.teams->nelts, 2);
    if (out.teams->nelts == 2) {
        CHECK_STR(APR_ARRAY_IDX(out.teams, 0, team_membership).team, "developers");
        CHECK_INT(APR_ARRAY_IDX(out.teams, 0, team_membership).role, TEAM_ROLE_MEMBER);
        CHECK_STR(APR_ARRAY_IDX(out.teams, 1, team_membership).team,
                  "\xc3\x9cn\xc3\xaf" "code \"q\"");
        CHECK_INT(APR_ARRAY_IDX(out.teams, 1, team_membership).role, TEAM_ROLE_MANAGER);
    }
}

static void test_session_record_round_trips_null_optional_fields(apr_pool_t *p)
{
    session_record in = {.org = "acme", .user = "u@example.com", .expires = EXPIRES}, out;
    char *json = session_record_encode(p, &in);
    CHECK_STR(json, "{\"org\":\"acme\",\"user\":\"u@example.com\",\"teams\":[],\"created\":0,"
                    "\"expires\":1700000000123456,\"checked\":0}");
    CHECK_STR(decode_session(p, json, &out), NULL);
    CHECK_STR(out.email, NULL);
    CHECK_STR(out.first_name, NULL);
    CHECK_STR(out.last_name, NULL);
    CHECK_STR(out.idp_entity_id, NULL);
    CHECK_STR(out.session_index, NULL);
    CHECK(out.teams != NULL);
    CHECK_INT(out.teams->nelts, 0);
}

static void test_session_record_decode_accepts_json_null_and_absent_teams(apr_pool_t *p)
{
    session_record out;
    CHECK_STR(decode_session(p, "{\"org\":\"a\",\"user\":\"u\",\"expires\":5,\"first_name\":null,"
                                "\"teams\":null}", &out), NULL);
    CHECK_STR(out.first_name, NULL);
    CHECK(out.teams != NULL && out.teams->nelts == 0);
    CHECK_INT(out.created, 0);
}

static void test_session_record_encode_refuses_invalid_utf8(apr_pool_t *p)
{
    session_record in = full_record(p);
    in.first_name = "Jos\xe9";
    CHECK_STR(session_record_encode(p, &in), NULL);
    in = full_record(p);
    APR_ARRAY_IDX(in.teams, 0, team_membership).team = "bad\xc3";
    CHECK_STR(session_record_encode(p, &in), NULL);
}

static void test_session_record_decode_uses_len_not_the_nul(apr_pool_t *p)
{
    session_record out;
    const char *json = "{\"org\":\"a\",\"user\":\"u\",\"expires\":7}";
    char *buf = unterminated(json, strlen(json));
    CHECK_STR(session_record_decode(p, buf, strlen(json), &out), NULL);
    CHECK_INT(out.expires, 7);
    free(buf);
    const char *with_tail = "{\"org\":\"a\",\"user\":\"u\",\"expires\":8}GARBAGE";
    CHECK_STR(session_record_decode(p, with_tail, strlen(json), &out), NULL);
    CHECK_INT(out.expires, 8);
}

static void test_session_record_decode_refuses_a_cut_buffer(apr_pool_t *p)
{
    session_record out;
    const char *json = "{\"org\":\"a\",\"user\":\"u\",\"expires\":7}";
    CHECK(session_record_decode(p, json, strlen(json) - 1, &out) != NULL);
    CHECK(session_record_decode(p, json, 0, &out) != NULL);
    CHECK(session_record_decode(p, NULL, 0, &out) != NULL);
}

static void test_session_record_decode_refuses_non_json_and_non_objects(apr_pool_t *p)
{
    session_record out;
    CHECK(decode_session(p, "", &out) != NULL);
    CHECK(decode_session(p, "not json", &out) != NULL);
    CHECK(decode_session(p, "{\"org\":", &out) != NULL);
    CHECK_STR(decode_session(p, "[]", &out), "not a JSON object");
    CHECK(decode_session(p, "\"org\"", &out) != NULL);
    CHECK(decode_session(p, "42", &out) != NULL);
    CHECK(decode_session(p, "null", &out) != NULL);
}

static void test_session_record_decode_refuses_trailing_garbage(apr_pool_t *p)
{
    session_record out;
    CHECK(decode_session(p, "{\"org\":\"a\",\"user\":\"u\",\"expires\":1} x", &out) != NULL);
    CHECK(decode_session(p, "{\"org\":\"a\",\"user\":\"u\",\"expires\":1}{}", &out) != NULL);
    CHECK_STR(decode_session(p, "{\"org\":\"a\",\"user\":\"u\",\"expires\":1}\n", &out), NULL);
}

static void test_session_record_decode_refuses_missing_required_fields(apr_pool_t *p)
{
    session_record out;
    CHECK_STR(decode_session(p, "{\"user\":\"u\",\"expires\":1}", &out), "org is missing");
    CHECK_STR(decode_session(p, "{\"org\":\"a\",\"expires\":1}", &out), "user is missing");
    CHECK_STR(decode_session(p, "{\"org\":\"a\",\"user\":\"u\"}", &out), "expires is missing");
    CHECK_STR(decode_session(p, "{\"org\":null,\"user\":\"u\",\"expires\":1}", &out),
              "org is missing");
}

static void test_session_record_decode_refuses_wrong_types(apr_pool_t *p)
{
    session_record out;
    CHECK_STR(decode_session(p, "{\"org\":\"a\",\"user\":\"u\",\"expires\":\"1\"}", &out),
              "expires is not an integer");
    CHECK_STR(decode_session(p, "{\"org\":\"a\",\"user\":\"u\",\"expires\":1.5}", &out),
              "expires is not an integer");
    CHECK_STR(decode_session(p, "{\"org\":1,\"user\":\"u\",\"expires\":1}", &out),
              "org is not a string");
    CHECK_STR(decode_session(p, "{\"org\":\"a\",\"user\":\"u\",\"expires\":1,\"email\":[]}", &out),
              "email is not a string");
    CHECK_STR(decode_session(p, "{\"org\":\"a\",\"user\":\"u\",\"expires\":1,\"created\":\"x\"}",
                             &out), "created is not an integer");
    CHECK_STR(decode_session(p, "{\"org\":\"a\",\"user\":\"u\",\"expires\":1,\"teams\":{}}", &out),
              "teams is not an array");
    CHECK_STR(decode_session(p, "{\"org\":\"a\",\"user\":\"u\",\"expires\":1,\"teams\":[1]}", &out),
              "teams[0] is not an object");
    CHECK_STR(decode_session(p, "{\"org\":\"a\",\"user\":\"u\",\"expires\":1,"
                                "\"teams\":[{\"role\":\"Member\"}]}", &out),
              "teams[0]: team is missing");
}

static void test_session_record_decode_refuses_unknown_roles(apr_pool_t *p)
{
    session_record out;
    const char *prefix = "{\"org\":\"a\",\"user\":\"u\",\"expires\":1,\"teams\":"
                         "[{\"team\":\"t\",\"role\":\"Member\"},{\"team\":\"x\",\"role\":";
    CHECK_STR(decode_session(p, apr_pstrcat(p, prefix, "\"Admin\"}]}", NULL), &out),
              "teams[1]: role is neither Member nor Manager");
    CHECK_STR(decode_session(p, apr_pstrcat(p, prefix, "\"manager\"}]}", NULL), &out),
              "teams[1]: role is neither Member nor Manager");
    CHECK_STR(decode_session(p, apr_pstrcat(p, prefix, "1}]}", NULL), &out),
              "teams[1]: role is not a string");
}

static void test_session_record_decode_refuses_duplicate_keys_and_nul(apr_pool_t *p)
{
    session_record out;
    CHECK(decode_session(p, "{\"org\":\"a\",\"org\":\"b\",\"user\":\"u\",\"expires\":1}", &out)
          != NULL);
    CHECK(decode_session(p, "{\"org\":\"a\\u0000b\",\"user\":\"u\",\"expires\":1}", &out) != NULL);
}

/* The fast reader must give jansson's answer on what it accepts, escapes included. */
static void test_session_record_decode_matches_jansson_on_escapes(apr_pool_t *p)
{
    const char *json = "{\"org\":\"a\",\"user\":\"u\\u00e9\\ud83d\\ude00\\\"\\\\\\/\\n\",\"expires\":-0,"
                       "\"teams\":[{\"role\":\"Manager\",\"team\":\"t\\t1\"}], \"checked\": 12 }";
    session_record fast, ref;
    CHECK_STR(decode_session(p, json, &fast), NULL);
    CHECK_STR(session_record_decode_reference(p, json, strlen(json), &ref), NULL);
    CHECK_STR(fast.user, "u\xc3\xa9\xf0\x9f\x98\x80\"\\/\n");
    CHECK_STR(fast.user, ref.user);
    CHECK_INT(fast.teams->nelts, 1);
    CHECK_STR(APR_ARRAY_IDX(fast.teams, 0, team_membership).team, "t\t1");
    CHECK_INT(APR_ARRAY_IDX(fast.teams, 0, team_membership).role, TEAM_ROLE_MANAGER);
    CHECK_INT(fast.checked, 12);
    CHECK_INT(fast.expires, 0);
    /* a lone surrogate and an overlong UTF-8 sequence: refused, as jansson refuses them */
    CHECK(decode_session(p, "{\"org\":\"a\",\"user\":\"\\ud83d\",\"expires\":1}", &fast) != NULL);
    CHECK(decode_session(p, "{\"org\":\"a\",\"user\":\"\xc0\xaf\",\"expires\":1}", &fast) != NULL);
    /* 19 digits: beyond the fast reader, within jansson's 64 bits */
    CHECK_STR(decode_session(p, "{\"org\":\"a\",\"user\":\"u\",\"expires\":1234567890123456789}",
                             &fast), NULL);
    CHECK(fast.expires == 1234567890123456789LL);
}

static void test_session_record_decode_leaves_the_record_alone_on_failure(apr_pool_t *p)
{
    session_record out = {.org = "untouched"};
    CHECK(decode_session(p, "{\"org\":\"a\",\"user\":\"u\",\"expires\":\"1\"}", &out) != NULL);
    CHECK_STR(out.org, "untouched");
}

static void test_login_state_round_trips(apr_pool_t *p)
{
    login_state in = {.org = "acme", .request_id = "_4f1b", .return_to = "/acme/caf%C3%A9?x=1",
                      .expires = EXPIRES}, out;
    char *json = login_state_encode(p, &in);
    CHECK_STR(json, "{\"org\":\"acme\",\"request_id\":\"_4f1b\","
                    "\"return_to\":\"/acme/caf%C3%A9?x=1\",\"expires\":1700000000123456}");
    CHECK_STR(login_state_decode(p, json, strlen(json), &out), NULL);
    CHECK_STR(out.org, "acme");
    CHECK_STR(out.request_id, "_4f1b");
    CHECK_STR(out.return_to, "/acme/caf%C3%A9?x=1");
    CHECK_INT(out.expires, EXPIRES);
}

static void test_login_state_decode_uses_len_not_the_nul(apr_pool_t *p)
{
    login_state out;
    const char *json = "{\"org\":\"a\",\"request_id\":\"_r\",\"return_to\":\"/a/\",\"expires\":3}";
    char *buf = unterminated(json, strlen(json));
    CHECK_STR(login_state_decode(p, buf, strlen(json), &out), NULL);
    CHECK_STR(out.request_id, "_r");
    CHECK(login_state_decode(p, buf, strlen(json) - 1, &out) != NULL);
    free(buf);
}

static void test_login_state_decode_refuses_missing_and_mistyped_fields(apr_pool_t *p)
{
    login_state out;
    CHECK_STR(decode_login(p, "{\"request_id\":\"_r\",\"return_to\":\"/a/\",\"expires\":3}", &out),
              "org is missing");
    CHECK_STR(decode_login(p, "{\"org\":\"a\",\"return_to\":\"/a/\",\"expires\":3}", &out),
              "request_id is missing");
    CHECK_STR(decode_login(p, "{\"org\":\"a\",\"request_id\":\"_r\",\"expires\":3}", &out),
              "return_to is missing");
    CHECK_STR(decode_login(p, "{\"org\":\"a\",\"request_id\":\"_r\",\"return_to\":\"/a/\"}", &out),
              "expires is missing");
    CHECK_STR(decode_login(p, "{\"org\":\"a\",\"request_id\":7,\"return_to\":\"/a/\","
                              "\"expires\":3}", &out), "request_id is not a string");
    CHECK_STR(decode_login(p, "{\"org\":\"a\",\"request_id\":\"_r\",\"return_to\":\"/a/\","
                              "\"expires\":\"3\"}", &out), "expires is not an integer");
    CHECK(decode_login(p, "{\"org\":\"a\",\"request_id\":\"_r\",\"return_to\":\"/a/\","
                          "\"expires\":3}trailing", &out) != NULL);
    CHECK_STR(decode_login(p, "[1]", &out), "not a JSON object");
}

static void test_session_id_format_is_lower_case_hex(apr_pool_t *p)
{
    unsigned char bytes[SESSION_ID_BYTES];
    for (int i = 0; i < SESSION_ID_BYTES; i++)
        bytes[i] = (unsigned char)(i * 8 + 7);
    char *id = session_id_format(p, bytes);
    CHECK_STR(id, "070f171f272f373f474f575f676f777f878f979fa7afb7bfc7cfd7dfe7eff7ff");
    CHECK_INT(strlen(id), SESSION_ID_HEX_LEN);
    CHECK(session_id_is_well_formed(id));
}

static void test_session_id_is_well_formed_refuses_other_shapes(apr_pool_t *p)
{
    CHECK(session_id_is_well_formed(ID_A));
    CHECK(!session_id_is_well_formed(ID_A_UPPER));
    CHECK(!session_id_is_well_formed(ID_A_SHORT));
    CHECK(!session_id_is_well_formed(ID_A "0"));
    CHECK(!session_id_is_well_formed("g" ID_A_SHORT));
    CHECK(!session_id_is_well_formed(ID_A_SHORT "g"));
    CHECK(!session_id_is_well_formed(ID_A_SHORT " "));
    CHECK(!session_id_is_well_formed(""));
    CHECK(!session_id_is_well_formed(NULL));
}

static void test_session_cache_key_is_raw_sha256(apr_pool_t *p)
{
    static const unsigned char abc[SESSION_CACHE_KEY_BYTES] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22,
        0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00,
        0x15, 0xad};
    unsigned char a[SESSION_CACHE_KEY_BYTES], b[SESSION_CACHE_KEY_BYTES];
    CHECK_INT(session_cache_key("abc", a), 0);
    CHECK(memcmp(a, abc, sizeof a) == 0);
    CHECK_INT(session_cache_key("session:" ID_A, a), 0);
    CHECK_INT(session_cache_key("session:" ID_B, b), 0);
    CHECK(memcmp(a, b, sizeof a) != 0);
    CHECK_INT(session_cache_key(NULL, a), -1);
}

/* shmcb picks a sub-cache by the key's first byte: keys that shared a prefix all landed in one
 * sub-cache, so a cache had room for a fraction of its size. */
static void test_session_cache_key_first_byte_spreads_over_subcaches(apr_pool_t *p)
{
    int seen[256] = {0}, distinct = 0;
    for (int i = 0; i < 4096; i++) {
        unsigned char k[SESSION_CACHE_KEY_BYTES];
        CHECK_INT(session_cache_key(apr_psprintf(p, "session:%064d", i), k), 0);
        if (seen[k[0]]++ == 0)
            distinct++;
    }
    CHECK(distinct == 256);
    for (int b = 0; b < 256; b++)
        CHECK(seen[b] < 4 * 4096 / 256);
}

static void test_session_cookie_find_picks_the_named_cookie(apr_pool_t *p)
{
    CHECK_STR(session_cookie_find(p, "a=1; cs=" ID_A "; b=2", "cs"), ID_A);
    CHECK_STR(session_cookie_find(p, "cs=" ID_A, "cs"), ID_A);
    CHECK_STR(session_cookie_find(p, "a=1;cs=" ID_A ";b=2", "cs"), ID_A);
    CHECK_STR(session_cookie_find(p, "  a=1 ;  cs = " ID_A " ; b=2", "cs"), ID_A);
    CHECK_STR(session_cookie_find(p, "a=1; cs=" ID_A ";", "cs"), ID_A);
}

static void test_session_cookie_strip_removes_only_session_cookies(apr_pool_t *p)
{
    CHECK_STR(session_cookie_strip(p, "a=1; cloudsmith_saml_acme=" ID_A "; b=2",
                                   "cloudsmith_saml_"), "a=1; b=2");
    CHECK_STR(session_cookie_strip(p, "cloudsmith_saml_acme=" ID_A, "cloudsmith_saml_"), NULL);
    CHECK_STR(session_cookie_strip(p, " cloudsmith_saml_x=1 ;cloudsmith_saml_y=2;c=3 ",
                                   "cloudsmith_saml_"), "c=3");
    CHECK_STR(session_cookie_strip(p, "a=1;;b", "cloudsmith_saml_"), "a=1; b");
    /* regression (found by fuzzing): separators without spaces grow the text */
    CHECK_STR(session_cookie_strip(p, "a;b;c;d;e", "cloudsmith_saml_"), "a; b; c; d; e");
    CHECK_STR(session_cookie_strip(p, "xcloudsmith_saml_a=1", "cloudsmith_saml_"),
              "xcloudsmith_saml_a=1");
    CHECK_STR(session_cookie_strip(p, NULL, "cloudsmith_saml_"), NULL);
    CHECK_STR(session_cookie_strip(p, "", "cloudsmith_saml_"), NULL);
}

static void test_session_cookie_find_missing_gives_null(apr_pool_t *p)
{
    CHECK_STR(session_cookie_find(p, "a=1; b=2", "cs"), NULL);
    CHECK_STR(session_cookie_find(p, "", "cs"), NULL);
    CHECK_STR(session_cookie_find(p, NULL, "cs"), NULL);
    CHECK_STR(session_cookie_find(p, ";;; ;", "cs"), NULL);
    CHECK_STR(session_cookie_find(p, "cs", "cs"), NULL);
    CHECK_STR(session_cookie_find(p, "cs=", "cs"), NULL);
}

static void test_session_cookie_find_needs_the_exact_name(apr_pool_t *p)
{
    CHECK_STR(session_cookie_find(p, "xcs=" ID_A, "cs"), NULL);
    CHECK_STR(session_cookie_find(p, "csx=" ID_A, "cs"), NULL);
    CHECK_STR(session_cookie_find(p, "CS=" ID_A, "cs"), NULL);
    CHECK_STR(session_cookie_find(p, "xcs=" ID_B "; cs=" ID_A, "cs"), ID_A);
    CHECK_STR(session_cookie_find(p, "a=cs=" ID_A, "cs"), NULL);
}

static void test_session_cookie_find_first_well_formed_duplicate_wins(apr_pool_t *p)
{
    CHECK_STR(session_cookie_find(p, "cs=" ID_A "; cs=" ID_B, "cs"), ID_A);
    CHECK_STR(session_cookie_find(p, "cs=junk; cs=" ID_B "; cs=" ID_A, "cs"), ID_B);
    CHECK_STR(session_cookie_find(p, "cs=; cs=" ID_B, "cs"), ID_B);
    CHECK_STR(session_cookie_find(p, "cs=" ID_A "0; cs=" ID_B, "cs"), ID_B);
}

static void test_session_cookie_find_ignores_malformed_values(apr_pool_t *p)
{
    CHECK_STR(session_cookie_find(p, "cs=junk", "cs"), NULL);
    CHECK_STR(session_cookie_find(p, "cs=\"" ID_A "\"", "cs"), NULL);
    CHECK_STR(session_cookie_find(p, "cs=" ID_A_UPPER, "cs"), NULL);
    CHECK_STR(session_cookie_find(p, "cs=" ID_A_SHORT, "cs"), NULL);
}

static void test_session_cookie_build_exact_strings(apr_pool_t *p)
{
    CHECK_STR(session_cookie_build(p, "cs", ID_A, "/acme/", 1, -1),
              "cs=" ID_A "; Path=/acme/; HttpOnly; SameSite=Lax; Secure");
    CHECK_STR(session_cookie_build(p, "cs", ID_A, "/acme/", 0, -1),
              "cs=" ID_A "; Path=/acme/; HttpOnly; SameSite=Lax");
    CHECK_STR(session_cookie_build(p, "cs", ID_A, "/acme/", 1, 3600),
              "cs=" ID_A "; Path=/acme/; HttpOnly; SameSite=Lax; Secure; Max-Age=3600");
    CHECK_STR(session_cookie_build(p, "cs", ID_A, "/acme/", 0, 3600),
              "cs=" ID_A "; Path=/acme/; HttpOnly; SameSite=Lax; Max-Age=3600");
    CHECK_STR(session_cookie_build(p, "cs", "", "/acme/", 1, 0),
              "cs=; Path=/acme/; HttpOnly; SameSite=Lax; Secure; Max-Age=0");
    CHECK_STR(session_cookie_build(p, "cs", "", "/acme/", 0, 0),
              "cs=; Path=/acme/; HttpOnly; SameSite=Lax; Max-Age=0");
}

static const unit_case cases[] = {
    UNIT(test_session_record_round_trips_every_field),
    UNIT(test_session_record_round_trips_null_optional_fields),
    UNIT(test_session_record_decode_accepts_json_null_and_absent_teams),
    UNIT(test_session_record_decode_matches_jansson_on_escapes),
    UNIT(test_session_record_encode_refuses_invalid_utf8),
    UNIT(test_session_record_decode_uses_len_not_the_nul),
    UNIT(test_session_record_decode_refuses_a_cut_buffer),
    UNIT(test_session_record_decode_refuses_non_json_and_non_objects),
    UNIT(test_session_record_decode_refuses_trailing_garbage),
    UNIT(test_session_record_decode_refuses_missing_required_fields),
    UNIT(test_session_record_decode_refuses_wrong_types),
    UNIT(test_session_record_decode_refuses_unknown_roles),
    UNIT(test_session_record_decode_refuses_duplicate_keys_and_nul),
    UNIT(test_session_record_decode_leaves_the_record_alone_on_failure),
    UNIT(test_login_state_round_trips),
    UNIT(test_login_state_decode_uses_len_not_the_nul),
    UNIT(test_login_state_decode_refuses_missing_and_mistyped_fields),
    UNIT(test_session_id_format_is_lower_case_hex),
    UNIT(test_session_id_is_well_formed_refuses_other_shapes),
    UNIT(test_session_cache_key_is_raw_sha256),
    UNIT(test_session_cache_key_first_byte_spreads_over_subcaches),
    UNIT(test_session_cookie_find_picks_the_named_cookie),
    UNIT(test_session_cookie_find_missing_gives_null),
    UNIT(test_session_cookie_strip_removes_only_session_cookies),
    UNIT(test_session_cookie_find_needs_the_exact_name),
    UNIT(test_session_cookie_find_first_well_formed_duplicate_wins),
    UNIT(test_session_cookie_find_ignores_malformed_values),
    UNIT(test_session_cookie_build_exact_strings),
    UNIT_END
};

int main(void) { return unit_run("session", cases); }
