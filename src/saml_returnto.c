#include <string.h>
#include <apr_strings.h>
#include "saml_returnto.h"

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Bytes a browser or a backend could read as a separator, a line break or the start of
 * another host, raw or (in the path) percent-encoded. */
static int is_refused_byte(unsigned char c)
{
    return c <= 0x20 || c >= 0x7f || c == '\\';
}

static int is_refused_decoded_byte(unsigned char c)
{
    return c < 0x20 || c == 0x7f || c == '/' || c == '\\' || c == '.' || c == '%';
}

/* The query cannot move the redirect to another host or path, so it keeps any valid
 * percent-encoding (?next=%2Fdashboard is an ordinary deep link); raw bytes are still
 * checked, as they would end up verbatim in the Location header. */
static int query_has_refused_bytes(const char *s, apr_size_t len)
{
    for (apr_size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_refused_byte(c))
            return 1;
        if (c == '%' && (i + 2 >= len || hex_value((unsigned char)s[i + 1]) < 0
                         || hex_value((unsigned char)s[i + 2]) < 0))
            return 1;
    }
    return 0;
}

static int path_has_refused_bytes(const char *s, apr_size_t len)
{
    for (apr_size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_refused_byte(c))
            return 1;
        if (c == '%') {
            int hi = i + 2 < len ? hex_value((unsigned char)s[i + 1]) : -1;
            int lo = i + 2 < len ? hex_value((unsigned char)s[i + 2]) : -1;
            if (hi < 0 || lo < 0 || is_refused_decoded_byte((unsigned char)(hi << 4 | lo)))
                return 1;
            i += 2;
        }
        if (c == '/' && i + 1 < len && s[i + 1] == '/')
            return 1;
    }
    return 0;
}

/* A segment is "." or "..", also with ";params" after it, which Tomcat-style backends
 * strip before resolving the path. */
static int has_dot_segment(const char *path, apr_size_t len)
{
    apr_size_t start = 0;
    while (start < len) {
        apr_size_t end = start;
        while (end < len && path[end] != '/' && path[end] != ';')
            end++;
        apr_size_t n = end - start;
        if ((n == 1 || n == 2) && path[start] == '.' && path[end - 1] == '.')
            return 1;
        while (end < len && path[end] != '/')
            end++;
        start = end + 1;
    }
    return 0;
}

const char *saml_returnto_sanitize(apr_pool_t *p, const char *candidate, const char *org_root)
{
    if (candidate == NULL || org_root == NULL)
        return org_root;
    apr_size_t len = strcspn(candidate, "#");
    apr_size_t path_len = strcspn(candidate, "?#");
    apr_size_t root_len = strlen(org_root);
    if (path_len < root_len || memcmp(candidate, org_root, root_len) != 0)
        return org_root;
    if (path_has_refused_bytes(candidate, path_len) || has_dot_segment(candidate, path_len)
        || query_has_refused_bytes(candidate + path_len, len - path_len))
        return org_root;
    return apr_pstrmemdup(p, candidate, len);
}
