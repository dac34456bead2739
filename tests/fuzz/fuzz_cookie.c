/* libFuzzer target for the session cookie parsers: session_cookie_find() and
 * session_cookie_strip() over a Cookie request header. The first input byte picks the org
 * slug (so the cookie name), the rest is the header.
 *
 * Invariants:
 *   - find returns NULL or a well-formed session ID (64 lower-case hex) that occurs in the
 *     header right after "NAME" [spaces/tabs] "=" [spaces/tabs];
 *   - strip returns NULL or a non-empty header at most one byte per ';' longer than the
 *     input, without leading or trailing blanks, in which no cookie name starts with the
 *     prefix, and in which find finds no session cookie of any org: the session secret
 *     never reaches the backend;
 *   - strip is idempotent, and every cookie it keeps occurs verbatim in the input. */
#include "fuzz_common.h"
#include "session_id.h"

static const char *const slugs[] = {"acme", "a", "acme-corp_2", "acme2"};

static void check_find(const char *header, const char *name, const char *id)
{
    if (id == NULL)
        return;
    FUZZ_ASSERT(session_id_is_well_formed(id), "find returned a malformed ID: %s", id);
    /* some occurrence of the name, then blanks, '=', blanks, the ID */
    size_t name_len = strlen(name);
    int found = 0;
    for (const char *at = strstr(header, name); at && !found; at = strstr(at + 1, name)) {
        const char *c = at + name_len;
        while (*c == ' ' || *c == '\t')
            c++;
        if (*c++ != '=')
            continue;
        while (*c == ' ' || *c == '\t')
            c++;
        found = strncmp(c, id, SESSION_ID_HEX_LEN) == 0;
    }
    FUZZ_ASSERT(found, "find returned %s, which is not the value of %s in the header", id, name);
}

static void check_strip(const char *header, const char *stripped)
{
    if (stripped == NULL)
        return;
    size_t n = strlen(stripped), separators = 0;
    for (const char *c = header; *c; c++)
        separators += *c == ';';
    /* at most one byte more per separator: "a;b" becomes "a; b" */
    FUZZ_ASSERT(n > 0 && n <= strlen(header) + separators, "strip made %zu bytes of %zu", n,
                strlen(header));
    FUZZ_ASSERT(stripped[0] != ' ' && stripped[0] != '\t' && stripped[n - 1] != ' '
                && stripped[n - 1] != '\t', "blank at an end of \"%s\"", stripped);
    for (size_t i = 0; i < sizeof slugs / sizeof *slugs; i++) {
        char name[64];
        snprintf(name, sizeof name, SESSION_COOKIE_PREFIX "%s", slugs[i]);
        FUZZ_ASSERT(session_cookie_find(fuzz_input_pool, stripped, name) == NULL,
                    "session cookie %s survives strip: \"%s\"", name, stripped);
    }
    /* each kept pair: no prefix, found verbatim in the input */
    const char *pair = stripped;
    while (*pair) {
        const char *end = strstr(pair, "; ");
        size_t len = end ? (size_t)(end - pair) : strlen(pair);
        FUZZ_ASSERT(strncmp(pair, SESSION_COOKIE_PREFIX, strlen(SESSION_COOKIE_PREFIX)) != 0
                    || len < strlen(SESSION_COOKIE_PREFIX),
                    "kept cookie starts with the prefix: \"%.*s\"", (int)len, pair);
        char *copy = apr_pstrmemdup(fuzz_input_pool, pair, len);
        FUZZ_ASSERT(strstr(header, copy) != NULL, "kept \"%s\", which is not in the input", copy);
        pair = end ? end + 2 : pair + len;
    }
    const char *again = session_cookie_strip(fuzz_input_pool, stripped, SESSION_COOKIE_PREFIX);
    FUZZ_ASSERT(again && strcmp(again, stripped) == 0, "strip not idempotent: \"%s\" -> \"%s\"",
                stripped, again ? again : "(null)");
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
    if (size == 0)
        return 0;
    char name[64];
    snprintf(name, sizeof name, SESSION_COOKIE_PREFIX "%s",
             slugs[data[0] % (sizeof slugs / sizeof *slugs)]);
    char *header = fuzz_cstring(data + 1, size - 1);
    check_find(header, name, session_cookie_find(fuzz_input_pool, header, name));
    check_strip(header, session_cookie_strip(fuzz_input_pool, header, SESSION_COOKIE_PREFIX));
    free(header);
    fuzz_input_done();
    return 0;
}
