/* libFuzzer target for the identity header values: identity_header_value() on the whole
 * input, and identity_header_teams() on a team list made from it (teams separated by NUL
 * bytes; the low bit of each team's first byte picks Member or Manager).
 *
 * Invariants: no result ever holds a control character (CR, LF, NUL, any byte < 0x20,
 * DEL); a value is valid UTF-8, trimmed, and a substring of the input; the teams list is
 * printable ASCII and parses back (RFC 8941 sf-string or RFC 9651 Display String, with
 * ;role=) to exactly the valid-UTF-8 teams, in order, with their roles. */
#include "fuzz_common.h"
#include "identity_header.h"
#include "saml_groupsync.h"

static int utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t len;
        unsigned lo = 0x80, hi = 0xbf;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            lo = c == 0xe0 ? 0xa0 : lo;
            hi = c == 0xed ? 0x9f : hi;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            lo = c == 0xf0 ? 0x90 : lo;
            hi = c == 0xf4 ? 0x8f : hi;
        } else {
            return 0;
        }
        if (i + len > n || s[i + 1] < lo || s[i + 1] > hi)
            return 0;
        for (size_t k = 2; k < len; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xbf)
                return 0;
        i += len;
    }
    return 1;
}

static void check_no_controls(const char *what, const char *s)
{
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        FUZZ_ASSERT(*c >= 0x20 && *c != 0x7f, "%s holds control byte 0x%02x: \"%s\"", what, *c, s);
}

static void check_value(const char *raw)
{
    const char *v = identity_header_value(fuzz_input_pool, raw);
    if (v == NULL)
        return;
    check_no_controls("value", v);
    size_t n = strlen(v);
    FUZZ_ASSERT(utf8_valid((const unsigned char *)v, n), "value is not UTF-8");
    FUZZ_ASSERT(n == 0 || (v[0] != ' ' && v[n - 1] != ' '), "value not trimmed: \"%s\"", v);
    FUZZ_ASSERT(strstr(raw, v) != NULL, "value \"%s\" is not part of the input", v);
}

/* Parses one string of the list at *s (sf-string or Display String) into out; returns 0. */
static int parse_string(const char **s, char *out, size_t cap)
{
    const char *c = *s;
    size_t n = 0;
    if (c[0] == '%' && c[1] == '"') {
        for (c += 2; *c != '"'; c++) {
            if (*c == '\0' || n + 1 >= cap)
                return -1;
            if (*c == '%') {
                static const char hex[] = "0123456789abcdef";
                const char *h = c[1] ? strchr(hex, c[1]) : NULL;
                const char *l = h && c[2] ? strchr(hex, c[2]) : NULL;
                if (!h || !l)
                    return -1;
                out[n++] = (char)((h - hex) << 4 | (l - hex));
                c += 2;
            } else {
                out[n++] = *c;
            }
        }
    } else if (c[0] == '"') {
        for (c++; *c != '"'; c++) {
            if (*c == '\0' || n + 1 >= cap)
                return -1;
            if (*c == '\\') {
                c++;
                if (*c != '"' && *c != '\\')
                    return -1;
            }
            out[n++] = *c;
        }
    } else {
        return -1;
    }
    out[n] = '\0';
    *s = c + 1;
    return 0;
}

static void check_teams(const apr_array_header_t *teams)
{
    const char *list = identity_header_teams(fuzz_input_pool, teams);
    FUZZ_ASSERT(list != NULL, "NULL teams list");
    for (const unsigned char *c = (const unsigned char *)list; *c; c++)
        FUZZ_ASSERT(*c >= 0x20 && *c < 0x7f, "teams list holds byte 0x%02x: %s", *c, list);
    size_t cap = strlen(list) + 1;
    char *team = malloc(cap), *role = malloc(cap);
    const char *s = list;
    for (int i = 0; i < teams->nelts; i++) {
        const team_membership *m = &APR_ARRAY_IDX(teams, i, team_membership);
        if (!utf8_valid((const unsigned char *)m->team, strlen(m->team)))
            continue; /* left out, by contract */
        if (s != list) {
            FUZZ_ASSERT(strncmp(s, ", ", 2) == 0, "no separator at \"%s\" in %s", s, list);
            s += 2;
        }
        FUZZ_ASSERT(parse_string(&s, team, cap) == 0, "unparsable team at \"%s\" in %s", s, list);
        FUZZ_ASSERT(strcmp(team, m->team) == 0, "team %d comes back as \"%s\"", i, team);
        FUZZ_ASSERT(strncmp(s, ";role=", 6) == 0, "no role at \"%s\" in %s", s, list);
        s += 6;
        FUZZ_ASSERT(parse_string(&s, role, cap) == 0, "unparsable role in %s", list);
        FUZZ_ASSERT(strcmp(role, groupsync_role_name(m->role)) == 0, "role %s for team %d",
                    role, i);
    }
    FUZZ_ASSERT(*s == '\0', "trailing \"%s\" in %s", s, list);
    free(team);
    free(role);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *raw = fuzz_cstring(data, size); /* stops at the first NUL: a C string */
    check_value(raw);
    free(raw);

    apr_array_header_t *teams = apr_array_make(fuzz_input_pool, 4, sizeof(team_membership));
    for (size_t start = 0; start < size;) {
        const uint8_t *nul = memchr(data + start, '\0', size - start);
        size_t len = nul ? (size_t)(nul - (data + start)) : size - start;
        team_membership *m = apr_array_push(teams);
        m->team = apr_pstrmemdup(fuzz_input_pool, (const char *)data + start, len);
        m->role = len && (data[start] & 1) ? TEAM_ROLE_MANAGER : TEAM_ROLE_MEMBER;
        start += len + 1;
    }
    check_teams(teams);
    fuzz_input_done();
    return 0;
}
