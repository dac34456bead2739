#include <string.h>
#include <apr_strings.h>
#include "util_form.h"

static int hex(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static char *decode(apr_pool_t *p, const char *s, apr_size_t n)
{
    char *out = apr_palloc(p, n + 1), *w = out;
    for (apr_size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            *w++ = ' ';
        } else if (s[i] == '%') {
            if (i + 2 >= n)
                return NULL;
            int hi = hex(s[i + 1]);
            int lo = hex(s[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return NULL;
            *w++ = (char)(hi << 4 | lo);
            i += 2;
        } else {
            *w++ = s[i];
        }
    }
    *w = '\0';
    return out;
}

const char *form_field(apr_pool_t *p, const char *body, const char *name, int *invalid)
{
    apr_size_t name_len = strlen(name);
    *invalid = 0;
    for (const char *field = body; field && *field;) {
        const char *end = strchr(field, '&');
        apr_size_t len = end ? (apr_size_t)(end - field) : strlen(field);
        const char *eq = memchr(field, '=', len);
        apr_size_t key_len = eq ? (apr_size_t)(eq - field) : len;
        if (key_len == name_len && memcmp(field, name, name_len) == 0) {
            if (eq == NULL)
                return "";
            char *value = decode(p, eq + 1, len - key_len - 1);
            *invalid = value == NULL;
            return value;
        }
        field = end ? end + 1 : NULL;
    }
    return NULL;
}
