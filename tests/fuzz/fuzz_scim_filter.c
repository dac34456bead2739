/* libFuzzer target for SCIM filters (RFC 7644 §3.4.2.2): scim_filter_parse() on the input (up
 * to its first NUL, as the ?filter= parameter reaches it); when it parses, the tree written
 * back (scim_filter_to_string), matched against two users (scim_filter_match) and translated
 * to SQL for SQLite and PostgreSQL (scim_filter_sql). scim_path_parse() (PATCH paths, the
 * same parser) reads the input too.
 *
 * Invariants (abort when violated):
 *   - parsing is deterministic: the same text gives the same tree or the same error;
 *   - an error names a character of the filter ("character N: " with 1 <= N <= length + 1),
 *     unless it is about the whole filter (empty, too long, not UTF-8);
 *   - the tree written back parses to itself and matches the same users, unless the
 *     parentheses it adds make it nest deeper or run longer than the limits;
 *   - the SQL holds nothing of the input: every token is one the translation writes (a
 *     keyword, a column of scim_users or scim_user_emails, an operator, a parenthesis, the
 *     literals '' and '!', a %s placeholder), parentheses balance;
 *   - one placeholder and one parameter for each comparison with a value (not pr, not null),
 *     in the filter's order, after the comparison's SQL operator; the parameter is its value:
 *     "1"/"0" for a boolean, for a dateTime the same second in the stored form
 *     "YYYY-MM-DDThh:mm:ssZ", else the string (ASCII lower-cased unless caseExact); co, sw
 *     and ew bind a LIKE pattern with '!' escapes (on SQLite, for caseExact attributes, a
 *     GLOB pattern with [x] escapes) whose only wildcards are those the operator adds;
 *   - both dialects translate the same filters with the same parameters, and the same SQL
 *     but for GLOB where PostgreSQL has LIKE ... ESCAPE '!'. */
#include "fuzz_common.h"
#include "saml_time.h"
#include "scim_filter.h"

/* An Okta-provisioned user and RFC 7643's example user with the enterprise extension. */
static const char *const user_json[] = {
    "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"id\":\"7d3f9a0c\","
    "\"externalId\":\"00u1abcdEFGH\",\"userName\":\"a@b.com\",\"name\":{\"givenName\":\"Ada\","
    "\"familyName\":\"\xc3\x9cnal\"},\"displayName\":\"Ada \xc3\x9cnal\",\"locale\":\"en-US\","
    "\"emails\":[{\"value\":\"a@b.com\",\"type\":\"work\",\"primary\":true}],\"active\":true,"
    "\"meta\":{\"created\":\"2024-01-31T09:00:00Z\",\"lastModified\":\"2024-02-01T10:30:00Z\"}}",
    "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\","
    "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"],\"id\":\"2819c223\","
    "\"userName\":\"Bjensen@Example.com\",\"name\":{\"formatted\":\"Ms. Barbara J Jensen\","
    "\"givenName\":\"Barbara\"},\"displayName\":\"Babs 100% Jensen_x\",\"active\":false,"
    "\"emails\":[{\"value\":\"bjensen@example.com\",\"type\":\"work\"},"
    "{\"value\":\"babs@jensen.org\",\"type\":\"home\",\"primary\":true}],\"loginCount\":42,"
    "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":{\"department\":\"Ops\","
    "\"manager\":{\"value\":\"26118915\"}},\"title\":\"\","
    "\"meta\":{\"created\":\"2010-01-23T04:56:22Z\",\"lastModified\":\"2011-05-13T04:42:34Z\"}}",
};
#define USER_COUNT (sizeof user_json / sizeof *user_json)
static json_t *users[USER_COUNT];

/* Everything scim_filter_sql writes besides spaces: keywords, the columns of the two tables
 * (scim_store.c), operators, parentheses, its two SQL literals, placeholders. */
static const char *const sql_vocabulary[] = {
    "AND", "OR", "NOT", "IS", "NULL", "EXISTS", "SELECT", "FROM", "WHERE", "LIKE", "GLOB",
    "ESCAPE", "lower", "1", "scim_user_emails", "e", "e.org", "e.user_id", "e.value_lower",
    "e.type", "e.is_primary", "scim_users.org", "scim_users.id", "scim_users.external_id",
    "scim_users.user_name_lower", "scim_users.display_name", "scim_users.given_name",
    "scim_users.family_name", "scim_users.formatted_name", "scim_users.active",
    "scim_users.created", "scim_users.last_modified", "=", "<>", "<", ">", "<=", ">=", "(", ")",
    "''", "'!'", "%s", NULL
};

static int is_word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
           || c == '_' || c == '.';
}

static char *ascii_lower(const char *s)
{
    char *copy = apr_pstrdup(fuzz_input_pool, s);
    for (char *c = copy; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c + ('a' - 'A'));
    return copy;
}

/* The SQL split into tokens, each checked against sql_vocabulary. */
static apr_array_header_t *sql_tokens(const char *sql)
{
    apr_array_header_t *tokens = apr_array_make(fuzz_input_pool, 64, sizeof(const char *));
    int depth = 0;
    for (const char *s = sql; *s;) {
        size_t n;
        if (*s == ' ') {
            s++;
            continue;
        }
        if (is_word_char(*s)) {
            for (n = 1; is_word_char(s[n]); n++)
                ;
        }
        else if (*s == '\'') {
            const char *close = strchr(s + 1, '\'');
            FUZZ_ASSERT(close != NULL, "unclosed quote in SQL: %s", sql);
            n = (size_t)(close - s) + 1;
        }
        else if (*s == '<' || *s == '>' || *s == '=') {
            n = strspn(s, "<>=");
        }
        else {
            n = *s == '%' && s[1] ? 2 : 1;
        }
        const char *token = apr_pstrmemdup(fuzz_input_pool, s, n);
        const char *const *known = sql_vocabulary;
        while (*known && strcmp(*known, token) != 0)
            known++;
        FUZZ_ASSERT(*known != NULL, "SQL token \"%s\" is none the translation writes: %s",
                    token, sql);
        depth += strcmp(token, "(") == 0;
        depth -= strcmp(token, ")") == 0;
        FUZZ_ASSERT(depth >= 0, "unbalanced ')' in SQL: %s", sql);
        APR_ARRAY_PUSH(tokens, const char *) = token;
        s += n;
    }
    FUZZ_ASSERT(depth == 0, "unclosed '(' in SQL: %s", sql);
    return tokens;
}

/* The comparisons that bind a parameter, in the filter's order. */
static void binding_comparisons(const scim_filter *f, apr_array_header_t *out)
{
    switch (f->kind) {
    case SCIM_FILTER_AND:
    case SCIM_FILTER_OR:
        binding_comparisons(f->left, out);
        binding_comparisons(f->right, out);
        return;
    case SCIM_FILTER_NOT:
    case SCIM_FILTER_VALUE_PATH:
        binding_comparisons(f->left, out);
        return;
    default:
        if (f->op != SCIM_CMP_PR && f->value.type != SCIM_LITERAL_NULL)
            APR_ARRAY_PUSH(out, const scim_filter *) = f;
    }
}

/* The value a co/sw/ew pattern matches: escape (an escaped byte) and the characters of
 * wildcard are the pattern syntax; the leading wildcard of co/ew and the trailing one of
 * co/sw are stripped. NULL when the pattern has any other wildcard, a dangling escape or
 * lacks a wildcard op adds. LIKE: escape '!', wildcards "%_", the added one '%'. GLOB:
 * "[x]" escapes x, wildcards "*?[", the added one '*'. */
static const char *pattern_value(const char *pattern, scim_compare_op op, int glob)
{
    size_t n = strlen(pattern), i = 0;
    char added = glob ? '*' : '%';
    const char *wildcards = glob ? "*?[" : "%_";
    char *out = apr_palloc(fuzz_input_pool, n + 1), *o = out;
    int trailing = op != SCIM_CMP_EW;
    if (op != SCIM_CMP_SW) {
        if (pattern[0] != added)
            return NULL;
        i = 1;
    }
    while (i < n) {
        char c = pattern[i];
        if (!glob && c == '!') {
            if (i + 1 >= n || strchr("%_!", pattern[i + 1]) == NULL)
                return NULL;
            *o++ = pattern[i + 1];
            i += 2;
        }
        else if (glob && c == '[') {
            if (i + 2 >= n || strchr("*?[", pattern[i + 1]) == NULL || pattern[i + 2] != ']')
                return NULL;
            *o++ = pattern[i + 1];
            i += 3;
        }
        else if (c == added && trailing && i == n - 1) {
            trailing = 0;
            i++;
        }
        else if (strchr(wildcards, c) != NULL) {
            return NULL;
        }
        else {
            *o++ = c;
            i++;
        }
    }
    *o = '\0';
    return trailing ? NULL : out;
}

static const char *sql_operator(scim_compare_op op)
{
    static const char *const names[] = {"=", "<>", "?", "?", "?", ">", ">=", "<", "<=", "?"};
    return names[op];
}

static const char *token_at(const apr_array_header_t *tokens, int i)
{
    return i >= 0 && i < tokens->nelts ? APR_ARRAY_IDX(tokens, i, const char *) : "";
}

/* The parameter bound for comparison f, whose placeholder is token k. */
static void check_parameter(const scim_filter *f, const char *param, const apr_array_header_t *t,
                            int k, scim_sql_dialect dialect, const char *sql)
{
    const scim_attr_def *def = f->def;
    const char *op = token_at(t, k - 1);
    const char *text = f->value.text;
    FUZZ_ASSERT(def != NULL, "comparison on an attribute without a schema in SQL: %s", sql);
    FUZZ_ASSERT(param != NULL, "NULL parameter in %s", sql);
    if (def->type == SCIM_ATTR_BOOLEAN) {
        FUZZ_ASSERT(f->value.type == SCIM_LITERAL_BOOLEAN, "boolean bound from a non-boolean");
        FUZZ_ASSERT(strcmp(op, sql_operator(f->op)) == 0, "'%s' before a boolean in %s", op, sql);
        FUZZ_ASSERT(strcmp(param, f->value.boolean ? "1" : "0") == 0,
                    "%s bound as \"%s\"", f->value.boolean ? "true" : "false", param);
        return;
    }
    FUZZ_ASSERT(f->value.type == SCIM_LITERAL_STRING, "non-string literal %s bound as \"%s\"",
                text, param);
    if (def->type == SCIM_ATTR_DATETIME) {
        apr_time_t want, got;
        FUZZ_ASSERT(strcmp(op, sql_operator(f->op)) == 0, "'%s' before a dateTime in %s", op, sql);
        FUZZ_ASSERT(saml_time_parse(text, &want) == 0, "unparsable dateTime \"%s\" in SQL", text);
        FUZZ_ASSERT(strlen(param) == 20 && saml_time_parse(param, &got) == 0
                    && apr_time_sec(got) == apr_time_sec(want),
                    "dateTime \"%s\" bound as \"%s\", not YYYY-MM-DDThh:mm:ssZ of that second",
                    text, param);
        return;
    }
    const char *value = def->case_exact ? text : ascii_lower(text);
    if (f->op == SCIM_CMP_CO || f->op == SCIM_CMP_SW || f->op == SCIM_CMP_EW) {
        int glob = strcmp(op, "GLOB") == 0;
        FUZZ_ASSERT(glob == (dialect == SCIM_SQL_SQLITE && def->case_exact),
                    "'%s' for a caseExact=%d substring match in %s", op, def->case_exact, sql);
        FUZZ_ASSERT(glob || (strcmp(op, "LIKE") == 0 && strcmp(token_at(t, k + 1), "ESCAPE") == 0
                             && strcmp(token_at(t, k + 2), "'!'") == 0),
                    "substring match without LIKE ... ESCAPE '!' or GLOB in %s", sql);
        const char *matched = pattern_value(param, f->op, glob);
        FUZZ_ASSERT(matched != NULL && strcmp(matched, value) == 0,
                    "value \"%s\" bound as the pattern \"%s\", which matches \"%s\"", value, param,
                    matched ? matched : "(malformed)");
        return;
    }
    FUZZ_ASSERT(strcmp(op, sql_operator(f->op)) == 0, "'%s' before a string in %s", op, sql);
    FUZZ_ASSERT(strcmp(param, value) == 0, "value \"%s\" bound as \"%s\"", value, param);
}

/* The translation for one dialect: NULL when not translatable, else checked and returned. */
static const char *check_sql(const scim_filter *f, scim_sql_dialect dialect,
                             const char **error, apr_array_header_t **params)
{
    const char *where;
    *error = scim_filter_sql(fuzz_input_pool, f, dialect, &where, params);
    FUZZ_ASSERT(*params != NULL, "no parameter array");
    if (*error != NULL) {
        FUZZ_ASSERT(where == NULL, "SQL and an error: %s", *error);
        return NULL;
    }
    FUZZ_ASSERT(where != NULL && *where != '\0', "empty SQL without an error");
    apr_array_header_t *tokens = sql_tokens(where);
    apr_array_header_t *cmps = apr_array_make(fuzz_input_pool, 8, sizeof(const scim_filter *));
    binding_comparisons(f, cmps);
    FUZZ_ASSERT((*params)->nelts == cmps->nelts, "%d parameters for %d comparisons with a value"
                " in %s", (*params)->nelts, cmps->nelts, where);
    int bound = 0;
    for (int k = 0; k < tokens->nelts; k++) {
        if (strcmp(token_at(tokens, k), "%s") != 0)
            continue;
        FUZZ_ASSERT(bound < cmps->nelts, "more placeholders than parameters in %s", where);
        check_parameter(APR_ARRAY_IDX(cmps, bound, const scim_filter *),
                        APR_ARRAY_IDX(*params, bound, const char *), tokens, k, dialect, where);
        bound++;
    }
    FUZZ_ASSERT(bound == (*params)->nelts, "%d placeholders for %d parameters in %s", bound,
                (*params)->nelts, where);
    return where;
}

/* The SQLite translation with GLOB written as PostgreSQL's LIKE. */
static const char *glob_as_like(const char *sql)
{
    static const char glob[] = " GLOB %s", like[] = " LIKE %s ESCAPE '!'";
    const char *out = "";
    for (const char *at; (at = strstr(sql, glob)) != NULL; sql = at + sizeof glob - 1)
        out = apr_pstrcat(fuzz_input_pool, out,
                          apr_pstrmemdup(fuzz_input_pool, sql, (apr_size_t)(at - sql)), like, NULL);
    return apr_pstrcat(fuzz_input_pool, out, sql, NULL);
}

static void check_dialects(const scim_filter *f)
{
    const char *err_lite, *err_pg;
    apr_array_header_t *params_lite, *params_pg;
    const char *lite = check_sql(f, SCIM_SQL_SQLITE, &err_lite, &params_lite);
    const char *pg = check_sql(f, SCIM_SQL_PGSQL, &err_pg, &params_pg);
    FUZZ_ASSERT((err_lite == NULL) == (err_pg == NULL)
                && (err_lite == NULL || strcmp(err_lite, err_pg) == 0),
                "dialects disagree: SQLite %s, PostgreSQL %s", err_lite ? err_lite : "ok",
                err_pg ? err_pg : "ok");
    if (lite == NULL)
        return;
    FUZZ_ASSERT(strstr(pg, "GLOB") == NULL, "GLOB in PostgreSQL SQL: %s", pg);
    FUZZ_ASSERT(strcmp(glob_as_like(lite), pg) == 0, "dialects differ beyond GLOB:\n  %s\n  %s",
                lite, pg);
}

/* A parse error is "character N: ..." within the text, or about the whole filter. */
static void check_error(const char *err, size_t len)
{
    static const char *const whole[] = {"the filter is empty", "the filter is not valid UTF-8",
                                        "the filter is longer than ", NULL};
    unsigned long at = 0;
    int n = 0;
    if (sscanf(err, "character %lu: %n", &at, &n) == 1 && n > 0) {
        FUZZ_ASSERT(at >= 1 && at <= len + 1, "error at character %lu of %zu: %s", at, len, err);
        return;
    }
    for (const char *const *w = whole; *w; w++)
        if (strncmp(err, *w, strlen(*w)) == 0)
            return;
    FUZZ_ASSERT(0, "error without a position: %s", err);
}

/* The tree written back reads as itself and means the same. */
static void check_written_back(const char *text, const int matches[])
{
    const scim_filter *again;
    const char *err = scim_filter_parse(fuzz_input_pool, text, &again);
    if (err != NULL) {
        /* the added parentheses may pass the depth or length limit; nothing else may fail */
        FUZZ_ASSERT(strstr(err, "nests deeper than") || strstr(err, "is longer than"),
                    "the filter written back as %s does not parse: %s", text, err);
        return;
    }
    const char *text_again = scim_filter_to_string(fuzz_input_pool, again);
    FUZZ_ASSERT(strcmp(text, text_again) == 0, "written back as %s, then as %s", text,
                text_again);
    for (size_t u = 0; u < USER_COUNT; u++)
        FUZZ_ASSERT(scim_filter_match(again, users[u]) == matches[u],
                    "%s matches user %zu, but not as written back", text, u);
}

static void fuzz_filter(const char *input)
{
    const scim_filter *f, *f2;
    const char *err = scim_filter_parse(fuzz_input_pool, input, &f);
    const char *err2 = scim_filter_parse(fuzz_input_pool, input, &f2);
    FUZZ_ASSERT((err == NULL) == (err2 == NULL) && (err == NULL || strcmp(err, err2) == 0),
                "parsing twice: %s, then %s", err ? err : "ok", err2 ? err2 : "ok");
    if (err != NULL) {
        FUZZ_ASSERT(f == NULL, "a tree and an error: %s", err);
        check_error(err, strlen(input));
        return;
    }
    FUZZ_ASSERT(f != NULL && f2 != NULL, "neither a tree nor an error");
    const char *text = scim_filter_to_string(fuzz_input_pool, f);
    FUZZ_ASSERT(strcmp(text, scim_filter_to_string(fuzz_input_pool, f2)) == 0,
                "parsing twice gives two trees");
    int matches[USER_COUNT];
    for (size_t u = 0; u < USER_COUNT; u++) {
        matches[u] = scim_filter_match(f, users[u]);
        FUZZ_ASSERT(matches[u] == 0 || matches[u] == 1, "match gives %d", matches[u]);
    }
    check_written_back(text, matches);
    check_dialects(f);
}

static void fuzz_path(const char *input)
{
    scim_patch_path path;
    if (scim_path_parse(fuzz_input_pool, input, &path) != NULL)
        return;
    FUZZ_ASSERT(path.path.attr != NULL || path.path.urn != NULL, "path names nothing");
    FUZZ_ASSERT(path.filter == NULL || path.path.attr != NULL, "value filter on a whole schema");
    FUZZ_ASSERT(path.value_sub == NULL || path.filter != NULL, "'].sub' without a filter");
    if (path.filter != NULL)
        scim_filter_to_string(fuzz_input_pool, path.filter);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    for (size_t u = 0; u < USER_COUNT; u++) {
        json_error_t jerr;
        users[u] = json_loads(user_json[u], 0, &jerr);
        FUZZ_ASSERT(users[u] != NULL, "user %zu: %s", u, jerr.text);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *input = fuzz_cstring(data, size); /* stops at the first NUL: a C string */
    fuzz_filter(input);
    fuzz_path(input);
    free(input);
    fuzz_input_done();
    return 0;
}
