/* libFuzzer target for saml_returnto_sanitize(): RelayState / ReturnTo in, a same-org path
 * out. The first input byte picks the org root, the rest is the candidate.
 *
 * Invariants (abort when violated), for every result r:
 *   - r is the org root, or starts with it and is the candidate with its fragment dropped;
 *   - r holds no control character, space, DEL, byte >= 0x80, backslash or '#';
 *   - the path part (before '?') holds no "//", no dot segment ("." or "..", also with
 *     ";params"), and no percent-encoded '/', '\', '.', '%' or control character;
 *   - the query part holds only well-formed %XX escapes (it may contain "//": a query
 *     cannot move the redirect to another host; test_returnto pins "/acme/?next=//x");
 *   - sanitizing r again gives r (idempotent). */
#include "fuzz_common.h"
#include "saml_returnto.h"

static const char *const roots[] = {"/acme/", "/", "/orgs/acme-corp_2/", "/a/"};

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static void check_path(const char *r, size_t len)
{
    FUZZ_ASSERT(len > 0 && r[0] == '/', "result path does not start with '/': %s", r);
    for (size_t i = 0; i + 1 < len; i++)
        FUZZ_ASSERT(!(r[i] == '/' && r[i + 1] == '/'), "\"//\" in the path: %s", r);
    for (size_t i = 0; i < len; i++) {
        if (r[i] != '%')
            continue;
        FUZZ_ASSERT(i + 2 < len && hex_value((unsigned char)r[i + 1]) >= 0
                    && hex_value((unsigned char)r[i + 2]) >= 0, "bad escape in path: %s", r);
        int c = hex_value((unsigned char)r[i + 1]) << 4 | hex_value((unsigned char)r[i + 2]);
        FUZZ_ASSERT(c >= 0x20 && c != 0x7f && c != '/' && c != '\\' && c != '.' && c != '%',
                    "encoded 0x%02x in the path: %s", c, r);
    }
    /* segments, each cut at ';' (path parameters) */
    size_t start = 1;
    while (start <= len) {
        size_t end = start;
        while (end < len && r[end] != '/')
            end++;
        size_t seg = start;
        while (seg < end && r[seg] != ';')
            seg++;
        size_t n = seg - start;
        int dots = (n == 1 && r[start] == '.')
                   || (n == 2 && r[start] == '.' && r[start + 1] == '.');
        FUZZ_ASSERT(!dots, "dot segment in the path: %s", r);
        start = end + 1;
    }
}

static void check_query(const char *q)
{
    for (size_t i = 0; q[i]; i++) {
        if (q[i] != '%')
            continue;
        FUZZ_ASSERT(hex_value((unsigned char)q[i + 1]) >= 0
                    && hex_value((unsigned char)q[i + 2]) >= 0, "bad escape in query: %s", q);
    }
}

static void check(const char *candidate, const char *root, const char *r)
{
    FUZZ_ASSERT(r != NULL, "NULL result for root %s", root);
    size_t root_len = strlen(root);
    FUZZ_ASSERT(strncmp(r, root, root_len) == 0, "result %s outside root %s", r, root);
    if (strcmp(r, root) != 0) {
        /* an accepted candidate comes back verbatim, up to its fragment */
        size_t keep = strcspn(candidate, "#");
        FUZZ_ASSERT(strlen(r) == keep && memcmp(r, candidate, keep) == 0,
                    "result %s is not the candidate without its fragment", r);
    }
    for (const unsigned char *c = (const unsigned char *)r; *c; c++)
        FUZZ_ASSERT(*c > 0x20 && *c < 0x7f && *c != '\\' && *c != '#',
                    "byte 0x%02x in result %s", *c, r);
    size_t path_len = strcspn(r, "?");
    check_path(r, path_len);
    check_query(r + path_len);
    const char *again = saml_returnto_sanitize(fuzz_input_pool, r, root);
    FUZZ_ASSERT(again && strcmp(again, r) == 0, "not idempotent: %s -> %s",
                r, again ? again : "(null)");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    for (size_t i = 0; i < sizeof roots / sizeof *roots; i++)
        FUZZ_ASSERT(saml_returnto_sanitize(fuzz_input_pool, NULL, roots[i]) == roots[i],
                    "NULL candidate must give the root");
    fuzz_input_done();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *root = roots[data[0] % (sizeof roots / sizeof *roots)];
    char *candidate = fuzz_cstring(data + 1, size - 1);
    const char *r = saml_returnto_sanitize(fuzz_input_pool, candidate, root);
    check(candidate, root, r);
    free(candidate);
    fuzz_input_done();
    return 0;
}
