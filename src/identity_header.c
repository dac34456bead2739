#include <string.h>
#include <apr_strings.h>
#include "identity_header.h"
#include "saml_groupsync.h"

static unsigned char header_name_fold(unsigned char c)
{
    if (c == '_')
        return '-';
    if (c >= 'A' && c <= 'Z')
        return (unsigned char)(c - 'A' + 'a');
    return c;
}

int identity_header_name_matches(const char *client_name, const char *identity_name)
{
    if (client_name == NULL || identity_name == NULL)
        return 0;
    const unsigned char *a = (const unsigned char *)client_name;
    const unsigned char *b = (const unsigned char *)identity_name;
    for (; *a && *b; a++, b++) {
        if (header_name_fold(*a) != header_name_fold(*b))
            return 0;
    }
    return *a == '\0' && *b == '\0';
}

/* Length of the well-formed UTF-8 sequence at s (Unicode table 3-7: no overlong forms, no
 * surrogates, nothing above U+10FFFF), or 0. */
static int utf8_sequence_length(const unsigned char *s)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    unsigned char lo = 0x80, hi = 0xbf;
    int len;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0) lo = 0xa0;
        if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0) lo = 0x90;
        if (c == 0xf4) hi = 0x8f;
    } else {
        return 0;
    }
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (int i = 2; i < len; i++) {
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    }
    return len;
}

static int is_valid_utf8(const char *text)
{
    for (const unsigned char *s = (const unsigned char *)text; *s;) {
        int n = utf8_sequence_length(s);
        if (n == 0)
            return 0;
        s += n;
    }
    return 1;
}

static int is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

const char *identity_header_value(apr_pool_t *p, const char *raw)
{
    if (raw == NULL || !is_valid_utf8(raw))
        return NULL;
    for (const unsigned char *s = (const unsigned char *)raw; *s; s++) {
        if (is_control(*s))
            return NULL;
    }
    const char *start = raw;
    const char *end = raw + strlen(raw);
    while (start < end && *start == ' ')
        start++;
    while (end > start && end[-1] == ' ')
        end--;
    return apr_pstrmemdup(p, start, (apr_size_t)(end - start));
}

static int is_printable_ascii(const char *text)
{
    for (const unsigned char *s = (const unsigned char *)text; *s; s++) {
        if (*s < 0x20 || *s > 0x7e)
            return 0;
    }
    return 1;
}

/* RFC 8941 sf-string: "..." with '"' and '\' escaped by '\'. */
static void append_sf_string(apr_array_header_t *out, const char *text)
{
    APR_ARRAY_PUSH(out, char) = '"';
    for (const char *s = text; *s; s++) {
        if (*s == '"' || *s == '\\')
            APR_ARRAY_PUSH(out, char) = '\\';
        APR_ARRAY_PUSH(out, char) = *s;
    }
    APR_ARRAY_PUSH(out, char) = '"';
}

/* RFC 9651 Display String: %"..." with '%', '"' and bytes outside 0x20-0x7E as %xx in
 * lower-case hex. */
static void append_display_string(apr_array_header_t *out, const char *text)
{
    static const char hex[] = "0123456789abcdef";
    APR_ARRAY_PUSH(out, char) = '%';
    APR_ARRAY_PUSH(out, char) = '"';
    for (const unsigned char *s = (const unsigned char *)text; *s; s++) {
        if (*s == '%' || *s == '"' || *s < 0x20 || *s > 0x7e) {
            APR_ARRAY_PUSH(out, char) = '%';
            APR_ARRAY_PUSH(out, char) = hex[*s >> 4];
            APR_ARRAY_PUSH(out, char) = hex[*s & 0x0f];
        } else {
            APR_ARRAY_PUSH(out, char) = (char)*s;
        }
    }
    APR_ARRAY_PUSH(out, char) = '"';
}

static void append_text(apr_array_header_t *out, const char *text)
{
    for (const char *s = text; *s; s++)
        APR_ARRAY_PUSH(out, char) = *s;
}

const char *identity_header_teams(apr_pool_t *p, const apr_array_header_t *teams)
{
    apr_array_header_t *out = apr_array_make(p, 64, sizeof(char));
    for (int i = 0; teams && i < teams->nelts; i++) {
        const team_membership *m = &APR_ARRAY_IDX(teams, i, team_membership);
        /* A Display String must hold valid UTF-8; a team name that is not has no faithful
         * encoding, so it is left out rather than mangled. */
        if (m->team == NULL || !is_valid_utf8(m->team))
            continue;
        if (out->nelts > 0)
            append_text(out, ", ");
        if (is_printable_ascii(m->team))
            append_sf_string(out, m->team);
        else
            append_display_string(out, m->team);
        append_text(out, ";role=");
        append_sf_string(out, groupsync_role_name(m->role));
    }
    APR_ARRAY_PUSH(out, char) = '\0';
    return out->elts;
}
