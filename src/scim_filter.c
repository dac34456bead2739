#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include "saml_time.h"
#include "scim_filter.h"

/* ---- Names and literals ------------------------------------------------------------------ */

static int ascii_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static int is_alpha(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* Characters of an attribute path word: ATTRNAME, sub-attribute dots, URN colons, "$ref". */
static int is_path_char(int c)
{
    return is_alpha(c) || is_digit(c) || c == '_' || c == '-' || c == ':' || c == '.' || c == '$';
}

char *scim_lowercase(apr_pool_t *p, const char *s)
{
    char *copy = apr_pstrdup(p, s);
    for (char *c = copy; c && *c; c++)
        *c = (char)ascii_lower((unsigned char)*c);
    return copy;
}

/* ATTRNAME = ALPHA *(ALPHA / DIGIT / "-" / "_"), plus "$ref" (RFC 7643 uses it as a name). */
static int valid_attr_name(const char *s)
{
    if (scim_strcaseeq(s, "$ref"))
        return 1;
    if (!is_alpha((unsigned char)*s))
        return 0;
    for (s++; *s; s++)
        if (!is_alpha((unsigned char)*s) && !is_digit((unsigned char)*s) && *s != '-' && *s != '_')
            return 0;
    return 1;
}

const char *scim_attr_path_parse(apr_pool_t *p, const char *text, int allow_extension,
                                 scim_attr_path *out)
{
    const char *rest = text;
    memset(out, 0, sizeof(*out));
    if (text == NULL || *text == '\0')
        return "empty attribute name";
    if (strncasecmp(text, "urn:", 4) == 0) {
        const char *known = scim_attr_extension_urn(text);
        if (known) {
            if (!allow_extension)
                return apr_psprintf(p, "'%s' names a schema, not an attribute", text);
            out->urn = known;
            return NULL;
        }
        const char *colon = strrchr(text, ':');
        const char *urn = apr_pstrmemdup(p, text, (apr_size_t)(colon - text));
        rest = colon + 1;
        if (scim_strcaseeq(urn, SCIM_SCHEMA_USER))
            urn = NULL;
        else if (scim_attr_extension_urn(urn))
            urn = scim_attr_extension_urn(urn);
        out->urn = urn;
    }
    const char *dot = strchr(rest, '.');
    if (dot) {
        out->attr = apr_pstrmemdup(p, rest, (apr_size_t)(dot - rest));
        out->sub = apr_pstrdup(p, dot + 1);
        if (strchr(out->sub, '.'))
            return apr_psprintf(p, "'%s' has more than one sub-attribute", text);
    }
    else {
        out->attr = apr_pstrdup(p, rest);
    }
    if (!valid_attr_name(out->attr))
        return apr_psprintf(p, "'%s' is not a valid attribute name", text);
    if (out->sub && !valid_attr_name(out->sub))
        return apr_psprintf(p, "'%s' is not a valid attribute name", text);
    return NULL;
}

static const char *path_name(apr_pool_t *p, const scim_attr_path *path)
{
    if (path->attr == NULL)
        return path->urn;
    return apr_pstrcat(p, path->urn ? path->urn : "", path->urn ? ":" : "", path->attr,
                       path->sub ? "." : "", path->sub ? path->sub : "", NULL);
}

/* JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int is_json_number(const char *s)
{
    if (*s == '-')
        s++;
    if (*s == '0')
        s++;
    else if (is_digit((unsigned char)*s))
        while (is_digit((unsigned char)*s))
            s++;
    else
        return 0;
    if (*s == '.') {
        s++;
        if (!is_digit((unsigned char)*s))
            return 0;
        while (is_digit((unsigned char)*s))
            s++;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (!is_digit((unsigned char)*s))
            return 0;
        while (is_digit((unsigned char)*s))
            s++;
    }
    return *s == '\0';
}

/* Well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
static int utf8_valid(const unsigned char *s, apr_size_t len)
{
    apr_size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        apr_size_t n;
        unsigned cp, min;
        if (c < 0x80) { i++; continue; }
        else if ((c & 0xE0) == 0xC0) { n = 1; cp = c & 0x1F; min = 0x80; }
        else if ((c & 0xF0) == 0xE0) { n = 2; cp = c & 0x0F; min = 0x800; }
        else if ((c & 0xF8) == 0xF0) { n = 3; cp = c & 0x07; min = 0x10000; }
        else return 0;
        for (apr_size_t k = 1; k <= n; k++) {
            if (i + k >= len || (s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += n + 1;
    }
    return 1;
}

/* ---- Parser ------------------------------------------------------------------------------ */

typedef struct {
    apr_pool_t *p;
    const char *text;
    apr_size_t pos, len;
    int nodes;
    int depth;
    const char *error;              /* the first failure, with its position */
    int in_brackets;                /* inside [...]: names are sub-attributes of parent */
    const scim_attr_def *parent;    /* the attribute whose values [...] filters; NULL unknown */
} parser;

static void fail(parser *ps, apr_size_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(parser *ps, apr_size_t at, const char *fmt, ...)
{
    if (ps->error)
        return;
    va_list ap;
    va_start(ap, fmt);
    const char *msg = apr_pvsprintf(ps->p, fmt, ap);
    va_end(ap);
    ps->error = apr_psprintf(ps->p, "character %" APR_SIZE_T_FMT ": %s", at + 1, msg);
}

/* What is at `at`, quoted, for "found ..." in messages. */
static const char *found(parser *ps, apr_size_t at)
{
    if (at >= ps->len)
        return "the end of the filter";
    apr_size_t end = at + 1;
    if (is_path_char((unsigned char)ps->text[at]))
        while (end < ps->len && end - at < 40 && is_path_char((unsigned char)ps->text[end]))
            end++;
    return apr_psprintf(ps->p, "'%s'", apr_pstrmemdup(ps->p, ps->text + at, end - at));
}

static void skip_ws(parser *ps)
{
    while (ps->pos < ps->len && strchr(" \t\r\n", ps->text[ps->pos]))
        ps->pos++;
}

static apr_size_t skip_ws_from(parser *ps, apr_size_t at)
{
    while (at < ps->len && strchr(" \t\r\n", ps->text[at]))
        at++;
    return at;
}

/* The keyword (case-insensitive) stands at `at` as a whole word. */
static int keyword_at(parser *ps, apr_size_t at, const char *word)
{
    apr_size_t n = strlen(word);
    return at + n <= ps->len && strncasecmp(ps->text + at, word, n) == 0
           && (at + n == ps->len || !is_path_char((unsigned char)ps->text[at + n]));
}

static apr_size_t path_word_end(parser *ps, apr_size_t at)
{
    while (at < ps->len && is_path_char((unsigned char)ps->text[at]))
        at++;
    return at;
}

static const struct { const char *name; scim_compare_op op; } operators[] = {
    { "eq", SCIM_CMP_EQ }, { "ne", SCIM_CMP_NE }, { "co", SCIM_CMP_CO }, { "sw", SCIM_CMP_SW },
    { "ew", SCIM_CMP_EW }, { "gt", SCIM_CMP_GT }, { "ge", SCIM_CMP_GE }, { "lt", SCIM_CMP_LT },
    { "le", SCIM_CMP_LE }, { "pr", SCIM_CMP_PR },
};
#define OPERATOR_COUNT (sizeof(operators) / sizeof(operators[0]))

static int operator_at(parser *ps, apr_size_t at, scim_compare_op *op)
{
    for (apr_size_t i = 0; i < OPERATOR_COUNT; i++)
        if (keyword_at(ps, at, operators[i].name)) {
            *op = operators[i].op;
            return 1;
        }
    return 0;
}

static const char *operator_name(scim_compare_op op)
{
    for (apr_size_t i = 0; i < OPERATOR_COUNT; i++)
        if (operators[i].op == op)
            return operators[i].name;
    return "?";
}

static scim_filter *new_node(parser *ps, scim_filter_kind kind, apr_size_t at)
{
    if (++ps->nodes > SCIM_FILTER_MAX_NODES) {
        fail(ps, at, "the filter has more than %d expressions", SCIM_FILTER_MAX_NODES);
        return NULL;
    }
    scim_filter *f = apr_pcalloc(ps->p, sizeof(*f));
    f->kind = kind;
    return f;
}

static int enter(parser *ps, apr_size_t at)
{
    if (++ps->depth > SCIM_FILTER_MAX_DEPTH) {
        fail(ps, at, "the filter nests deeper than %d levels", SCIM_FILTER_MAX_DEPTH);
        return 0;
    }
    return 1;
}

static void put_utf8(char *out, apr_size_t *n, unsigned long cp)
{
    if (cp < 0x80) {
        out[(*n)++] = (char)cp;
    }
    else if (cp < 0x800) {
        out[(*n)++] = (char)(0xC0 | (cp >> 6));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    }
    else if (cp < 0x10000) {
        out[(*n)++] = (char)(0xE0 | (cp >> 12));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    }
    else {
        out[(*n)++] = (char)(0xF0 | (cp >> 18));
        out[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    }
}

static int hex4(parser *ps, apr_size_t at, unsigned long *out)
{
    unsigned long v = 0;
    if (at + 4 > ps->len)
        return 0;
    for (apr_size_t i = at; i < at + 4; i++) {
        int c = (unsigned char)ps->text[i];
        int d = is_digit(c) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
        if (d < 0)
            return 0;
        v = v * 16 + (unsigned long)d;
    }
    *out = v;
    return 1;
}

/* A JSON string starting at the opening quote; the decoded text is never longer than the
 * source, so one buffer of the remaining length is enough. */
static const char *parse_json_string(parser *ps)
{
    apr_size_t open = ps->pos, n = 0;
    char *out = apr_palloc(ps->p, ps->len - open + 1);
    ps->pos++;
    for (;;) {
        if (ps->pos >= ps->len) {
            fail(ps, open, "the string is not closed with '\"'");
            return NULL;
        }
        unsigned char c = (unsigned char)ps->text[ps->pos];
        if (c == '"') {
            ps->pos++;
            out[n] = '\0';
            return out;
        }
        if (c < 0x20) {
            fail(ps, ps->pos, "control character 0x%02x in a string must be escaped", c);
            return NULL;
        }
        if (c != '\\') {
            out[n++] = (char)c;
            ps->pos++;
            continue;
        }
        apr_size_t esc = ps->pos;
        char e = ps->pos + 1 < ps->len ? ps->text[ps->pos + 1] : '\0';
        const char *simple = strchr("\"\\/bfnrt", e);
        ps->pos += 2;
        if (e != '\0' && simple) {
            out[n++] = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
            continue;
        }
        if (e != 'u') {
            fail(ps, esc, "invalid escape '\\%c' in a string", e ? e : ' ');
            return NULL;
        }
        unsigned long cp, low;
        if (!hex4(ps, ps->pos, &cp)) {
            fail(ps, esc, "\\u must be followed by four hexadecimal digits");
            return NULL;
        }
        ps->pos += 4;
        if (cp >= 0xDC00 && cp <= 0xDFFF) {
            fail(ps, esc, "unpaired surrogate \\u%04lX in a string", cp);
            return NULL;
        }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (ps->pos + 1 >= ps->len || ps->text[ps->pos] != '\\' || ps->text[ps->pos + 1] != 'u'
                || !hex4(ps, ps->pos + 2, &low) || low < 0xDC00 || low > 0xDFFF) {
                fail(ps, esc, "unpaired surrogate \\u%04lX in a string", cp);
                return NULL;
            }
            ps->pos += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        if (cp == 0) {
            fail(ps, esc, "\\u0000 is not allowed in a string");
            return NULL;
        }
        put_utf8(out, &n, cp);
    }
}

static int parse_value(parser *ps, scim_literal *lit)
{
    skip_ws(ps);
    apr_size_t start = ps->pos;
    if (start < ps->len && ps->text[start] == '"') {
        lit->type = SCIM_LITERAL_STRING;
        lit->text = parse_json_string(ps);
        return lit->text != NULL;
    }
    while (ps->pos < ps->len && !strchr(" \t\r\n()[]\"", ps->text[ps->pos]))
        ps->pos++;
    const char *word = apr_pstrmemdup(ps->p, ps->text + start, ps->pos - start);
    if (*word == '\0') {
        fail(ps, start, "expected a value (a string in double quotes, a number, true, false or "
             "null), found %s", found(ps, start));
        return 0;
    }
    if (scim_strcaseeq(word, "true") || scim_strcaseeq(word, "false")) {
        lit->type = SCIM_LITERAL_BOOLEAN;
        lit->boolean = scim_strcaseeq(word, "true");
    }
    else if (scim_strcaseeq(word, "null")) {
        lit->type = SCIM_LITERAL_NULL;
    }
    else if (is_json_number(word)) {
        lit->type = SCIM_LITERAL_NUMBER;
        lit->number = strtod(word, NULL);
    }
    else {
        fail(ps, start, "'%s' is not a value: write strings in double quotes", word);
        return 0;
    }
    lit->text = word;
    return 1;
}

/* The schema of what a comparison on `path` compares, or an error for a path that cannot
 * exist (a sub-attribute of a simple attribute). */
static const char *resolve_def(parser *ps, const scim_attr_path *path, const scim_attr_def **out)
{
    *out = NULL;
    if (ps->in_brackets) {
        *out = scim_attr_find_sub(ps->parent, path->attr);
        return NULL;
    }
    const scim_attr_def *def = scim_attr_find(path->urn, path->attr);
    if (def == NULL || path->sub == NULL) {
        *out = def;
        return NULL;
    }
    if (def->type != SCIM_ATTR_COMPLEX)
        return apr_psprintf(ps->p, "'%s' has no sub-attributes", def->name);
    *out = scim_attr_find_sub(def, path->sub);
    return NULL;
}

/* Stored times are "YYYY-MM-DDThh:mm:ssZ" and SQL compares them as text, so a literal that an
 * offset or a leap second moves out of the years 0000-9999 in UTC ("10000-01-01T00:00:00Z")
 * would sort below every stored time. */
static int storable_time(apr_time_t t)
{
    apr_time_t first, last;
    saml_time_parse("0000-01-01T00:00:00Z", &first);
    saml_time_parse("9999-12-31T23:59:59Z", &last);
    return apr_time_sec(t) >= apr_time_sec(first) && apr_time_sec(t) <= apr_time_sec(last);
}

/* The operator and value must suit each other and, when the schema knows it, the attribute. */
static const char *check_comparison(apr_pool_t *p, const char *name, scim_filter *f)
{
    const scim_literal *lit = &f->value;
    const char *op = operator_name(f->op);
    const scim_attr_def *def = f->def;
    int ordering = f->op == SCIM_CMP_GT || f->op == SCIM_CMP_GE || f->op == SCIM_CMP_LT
                   || f->op == SCIM_CMP_LE;
    int substring = f->op == SCIM_CMP_CO || f->op == SCIM_CMP_SW || f->op == SCIM_CMP_EW;
    if (def && def->type == SCIM_ATTR_COMPLEX) {
        const scim_attr_def *value = scim_attr_find_sub(def, "value");
        if (f->op != SCIM_CMP_PR && !(def->multi_valued && value))
            return apr_psprintf(p, "'%s' is a complex attribute: filter on a sub-attribute, "
                                "like %s.%s", name, name, def->subs->name);
        /* A multi-valued attribute compares its values' "value" (RFC 7644 §3.4.2.2). */
        if (def->multi_valued && value)
            f->def = def = value;
    }
    if (f->op == SCIM_CMP_PR)
        return NULL;
    if (lit->type == SCIM_LITERAL_NULL && f->op != SCIM_CMP_EQ && f->op != SCIM_CMP_NE)
        return apr_psprintf(p, "null can only be compared with eq or ne, not %s", op);
    if (substring && lit->type != SCIM_LITERAL_STRING)
        return apr_psprintf(p, "%s needs a string value", op);
    if (ordering && lit->type == SCIM_LITERAL_BOOLEAN)
        return apr_psprintf(p, "%s does not apply to true or false", op);
    if (def == NULL || lit->type == SCIM_LITERAL_NULL)
        return NULL;
    switch (def->type) {
    case SCIM_ATTR_BOOLEAN:
        if (f->op != SCIM_CMP_EQ && f->op != SCIM_CMP_NE)
            return apr_psprintf(p, "'%s' is a boolean: only eq, ne and pr apply", name);
        if (lit->type != SCIM_LITERAL_BOOLEAN)
            return apr_psprintf(p, "'%s' is a boolean: compare it with true or false", name);
        return NULL;
    case SCIM_ATTR_DATETIME: {
        apr_time_t t;
        if (substring)
            return apr_psprintf(p, "'%s' is a dateTime: co, sw and ew do not apply", name);
        if (lit->type != SCIM_LITERAL_STRING || saml_time_parse(lit->text, &t) != 0)
            return apr_psprintf(p, "'%s' is a dateTime: compare it with a string like "
                                "\"2024-01-31T09:00:00Z\"", name);
        if (!storable_time(t))
            return apr_psprintf(p, "'%s' is a dateTime: it must fall in the years 0000 to 9999 "
                                "in UTC", name);
        return NULL;
    }
    default:
        if (lit->type != SCIM_LITERAL_STRING)
            return apr_psprintf(p, "'%s' is a string: compare it with a string in double "
                                "quotes", name);
        return NULL;
    }
}

static const scim_filter *parse_or(parser *ps);

/* "(" filter ")" with the opening parenthesis at ps->pos. */
static const scim_filter *parse_group(parser *ps)
{
    apr_size_t open = ps->pos;
    if (!enter(ps, open))
        return NULL;
    ps->pos++;
    const scim_filter *inner = parse_or(ps);
    if (ps->error)
        return NULL;
    skip_ws(ps);
    if (ps->pos >= ps->len || ps->text[ps->pos] != ')') {
        fail(ps, ps->pos, "expected ')' to close the '(' at character %" APR_SIZE_T_FMT
             ", found %s", open + 1, found(ps, ps->pos));
        return NULL;
    }
    ps->pos++;
    ps->depth--;
    return inner;
}

/* attrPath "[" valFilter "]" with ps->pos at the '['. */
static const scim_filter *parse_value_path(parser *ps, apr_size_t start, const char *word,
                                           const scim_attr_path *path)
{
    apr_size_t open = ps->pos;
    if (ps->in_brackets) {
        fail(ps, open, "value filters cannot be nested");
        return NULL;
    }
    if (path->sub) {
        fail(ps, start, "a value filter applies to an attribute, not to the sub-attribute '%s'",
             word);
        return NULL;
    }
    if (!enter(ps, open))
        return NULL;
    scim_filter *f = new_node(ps, SCIM_FILTER_VALUE_PATH, start);
    if (f == NULL)
        return NULL;
    f->path = *path;
    ps->pos++;
    ps->in_brackets = 1;
    ps->parent = scim_attr_find(path->urn, path->attr);
    f->left = parse_or(ps);
    ps->in_brackets = 0;
    ps->parent = NULL;
    if (ps->error)
        return NULL;
    skip_ws(ps);
    if (ps->pos >= ps->len || ps->text[ps->pos] != ']') {
        fail(ps, ps->pos, "expected ']' to close the '[' at character %" APR_SIZE_T_FMT
             ", found %s", open + 1, found(ps, ps->pos));
        return NULL;
    }
    ps->pos++;
    ps->depth--;
    return f;
}

/* attrPath op value, attrPath pr, or a value path. */
static const scim_filter *parse_comparison(parser *ps)
{
    apr_size_t start = ps->pos, end = path_word_end(ps, start);
    if (end == start) {
        fail(ps, start, "expected an attribute name, 'not' or '(', found %s", found(ps, start));
        return NULL;
    }
    const char *word = apr_pstrmemdup(ps->p, ps->text + start, end - start);
    scim_attr_path path;
    const char *err = scim_attr_path_parse(ps->p, word, 0, &path);
    if (err) {
        fail(ps, start, "%s", err);
        return NULL;
    }
    if (ps->in_brackets && (path.urn || path.sub)) {
        fail(ps, start, "inside [...] name a sub-attribute, like type or value, not '%s'", word);
        return NULL;
    }
    ps->pos = end;
    if (ps->pos < ps->len && ps->text[ps->pos] == '[')
        return parse_value_path(ps, start, word, &path);
    skip_ws(ps);
    scim_filter *f = new_node(ps, SCIM_FILTER_COMPARE, start);
    if (f == NULL)
        return NULL;
    f->path = path;
    if (!operator_at(ps, ps->pos, &f->op)) {
        fail(ps, ps->pos, "expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr) after "
             "'%s', found %s", word, found(ps, ps->pos));
        return NULL;
    }
    ps->pos += 2;
    if (f->op != SCIM_CMP_PR && !parse_value(ps, &f->value))
        return NULL;
    if ((err = resolve_def(ps, &path, &f->def)) != NULL
        || (err = check_comparison(ps->p, word, f)) != NULL) {
        fail(ps, start, "%s", err);
        return NULL;
    }
    return f;
}

/* "not" "(" filter ")", "(" filter ")", or a comparison. */
static const scim_filter *parse_unary(parser *ps)
{
    skip_ws(ps);
    apr_size_t start = ps->pos;
    if (start < ps->len && ps->text[start] == '(')
        return parse_group(ps);
    if (keyword_at(ps, start, "not")) {
        apr_size_t next = skip_ws_from(ps, start + 3);
        scim_compare_op op;
        if (next < ps->len && ps->text[next] == '(') {
            scim_filter *f = new_node(ps, SCIM_FILTER_NOT, start);
            if (f == NULL)
                return NULL;
            ps->pos = next;
            f->left = parse_group(ps);
            return ps->error ? NULL : f;
        }
        /* An attribute called "not" is still a comparison: `not eq "x"`. */
        if (!operator_at(ps, next, &op)) {
            fail(ps, next, "expected '(' after 'not', found %s", found(ps, next));
            return NULL;
        }
    }
    return parse_comparison(ps);
}

static const scim_filter *parse_logical(parser *ps, const char *keyword, scim_filter_kind kind,
                                        const scim_filter *(*operand)(parser *))
{
    const scim_filter *left = operand(ps);
    while (!ps->error) {
        skip_ws(ps);
        apr_size_t at = ps->pos;
        if (!keyword_at(ps, at, keyword))
            break;
        scim_filter *f = new_node(ps, kind, at);
        if (f == NULL)
            return NULL;
        ps->pos += strlen(keyword);
        f->left = left;
        f->right = operand(ps);
        left = f;
    }
    return ps->error ? NULL : left;
}

static const scim_filter *parse_and(parser *ps)
{
    return parse_logical(ps, "and", SCIM_FILTER_AND, parse_unary);
}

static const scim_filter *parse_or(parser *ps)
{
    return parse_logical(ps, "or", SCIM_FILTER_OR, parse_and);
}

static const char *start_parser(apr_pool_t *p, parser *ps, const char *text, const char *what)
{
    memset(ps, 0, sizeof(*ps));
    ps->p = p;
    ps->text = text ? text : "";
    ps->len = strlen(ps->text);
    if (ps->len > SCIM_FILTER_MAX_LENGTH)
        return apr_psprintf(p, "the %s is longer than %d bytes", what, SCIM_FILTER_MAX_LENGTH);
    if (!utf8_valid((const unsigned char *)ps->text, ps->len))
        return apr_psprintf(p, "the %s is not valid UTF-8", what);
    skip_ws(ps);
    if (ps->pos >= ps->len)
        return apr_psprintf(p, "the %s is empty", what);
    return NULL;
}

const char *scim_filter_parse(apr_pool_t *p, const char *text, const scim_filter **out)
{
    parser ps;
    const char *err = start_parser(p, &ps, text, "filter");
    *out = NULL;
    if (err)
        return err;
    const scim_filter *f = parse_or(&ps);
    if (!ps.error) {
        skip_ws(&ps);
        if (ps.pos < ps.len)
            fail(&ps, ps.pos, "expected 'and', 'or' or the end of the filter, found %s",
                 found(&ps, ps.pos));
    }
    if (ps.error)
        return ps.error;
    *out = f;
    return NULL;
}

const char *scim_path_parse(apr_pool_t *p, const char *text, scim_patch_path *out)
{
    parser ps;
    const char *err = start_parser(p, &ps, text, "path");
    memset(out, 0, sizeof(*out));
    if (err)
        return err;
    apr_size_t start = ps.pos, end = path_word_end(&ps, start);
    if (end == start) {
        fail(&ps, start, "expected an attribute name, found %s", found(&ps, start));
        return ps.error;
    }
    const char *word = apr_pstrmemdup(p, ps.text + start, end - start);
    if ((err = scim_attr_path_parse(p, word, 1, &out->path)) != NULL) {
        fail(&ps, start, "%s", err);
        return ps.error;
    }
    ps.pos = end;
    if (out->path.attr)
        out->def = scim_attr_find(out->path.urn, out->path.attr);
    if (ps.pos < ps.len && ps.text[ps.pos] == '[' && out->path.attr) {
        const scim_filter *f = parse_value_path(&ps, start, word, &out->path);
        if (ps.error)
            return ps.error;
        out->filter = f->left;
        if (ps.pos < ps.len && ps.text[ps.pos] == '.') {
            apr_size_t sub = ++ps.pos, sub_end = path_word_end(&ps, sub);
            out->value_sub = apr_pstrmemdup(p, ps.text + sub, sub_end - sub);
            if (!valid_attr_name(out->value_sub) || strchr(out->value_sub, '.')) {
                fail(&ps, sub, "'%s' is not a valid sub-attribute name", out->value_sub);
                return ps.error;
            }
            ps.pos = sub_end;
        }
    }
    skip_ws(&ps);
    if (ps.pos < ps.len) {
        fail(&ps, ps.pos, "expected the end of the path, found %s", found(&ps, ps.pos));
        return ps.error;
    }
    return NULL;
}

/* ---- In-memory evaluation ---------------------------------------------------------------- */

/* Attribute names are case-insensitive (RFC 7643 §2.1). */
static const json_t *get_ci(const json_t *obj, const char *key)
{
    const char *k;
    json_t *value;
    if (!json_is_object(obj) || key == NULL)
        return NULL;
    if ((value = json_object_get(obj, key)) != NULL)
        return value;
    json_object_foreach((json_t *)obj, k, value)
        if (scim_strcaseeq(k, key))
            return value;
    return NULL;
}

/* Non-empty value, or a complex/multi-valued node holding one (RFC 7644 "pr"). */
static int present(const json_t *v)
{
    const char *k;
    json_t *item;
    size_t i;
    if (v == NULL || json_is_null(v))
        return 0;
    if (json_is_string(v))
        return json_string_length(v) > 0;
    if (json_is_array(v)) {
        json_array_foreach(v, i, item)
            if (present(item))
                return 1;
        return 0;
    }
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, k, item)
            if (present(item))
                return 1;
        return 0;
    }
    return 1;
}

static int starts_with(const char *s, const char *prefix, int exact)
{
    for (; *prefix; s++, prefix++)
        if (exact ? *s != *prefix : ascii_lower((unsigned char)*s)
                                    != ascii_lower((unsigned char)*prefix))
            return 0;
    return 1;
}

static int contains(const char *s, const char *needle, int exact)
{
    apr_size_t n = strlen(s), m = strlen(needle);
    for (apr_size_t i = 0; i + m <= n; i++)
        if (starts_with(s + i, needle, exact))
            return 1;
    return 0;
}

static int ordered(int cmp, scim_compare_op op)
{
    switch (op) {
    case SCIM_CMP_EQ: return cmp == 0;
    case SCIM_CMP_NE: return cmp != 0;
    case SCIM_CMP_GT: return cmp > 0;
    case SCIM_CMP_GE: return cmp >= 0;
    case SCIM_CMP_LT: return cmp < 0;
    case SCIM_CMP_LE: return cmp <= 0;
    default: return 0;
    }
}

static int compare_string(const char *have, const scim_filter *f)
{
    const char *want = f->value.text;
    int exact = f->def ? f->def->case_exact : 0;
    if (f->value.type != SCIM_LITERAL_STRING)
        return 0;
    if (f->def && f->def->type == SCIM_ATTR_DATETIME) {
        apr_time_t a, b;
        if (saml_time_parse(have, &a) != 0 || saml_time_parse(want, &b) != 0)
            return 0;
        /* Stored times have whole seconds: the literal is cut to whole seconds too. */
        a = apr_time_sec(a);
        b = apr_time_sec(b);
        return ordered(a < b ? -1 : a > b, f->op);
    }
    switch (f->op) {
    case SCIM_CMP_CO: return contains(have, want, exact);
    case SCIM_CMP_SW: return starts_with(have, want, exact);
    case SCIM_CMP_EW: {
        apr_size_t n = strlen(have), m = strlen(want);
        return n >= m && starts_with(have + n - m, want, exact);
    }
    default:
        return ordered(exact ? strcmp(have, want) : scim_strcasecmp(have, want), f->op);
    }
}

static int compare_value(const json_t *v, const scim_filter *f)
{
    if (json_is_string(v))
        return compare_string(json_string_value(v), f);
    if (json_is_boolean(v))
        return f->value.type == SCIM_LITERAL_BOOLEAN
               && (f->op == SCIM_CMP_EQ || f->op == SCIM_CMP_NE)
               && ((json_is_true(v) == (f->value.boolean != 0)) == (f->op == SCIM_CMP_EQ));
    if (json_is_number(v) && f->value.type == SCIM_LITERAL_NUMBER) {
        double a = json_number_value(v), b = f->value.number;
        return ordered(a < b ? -1 : a > b, f->op);
    }
    return 0;
}

/* Some value at the path passes the comparison. A multi-valued attribute without a
 * sub-attribute offers its values' "value" sub-attributes. */
static int any_value_compares(const json_t *attr, const scim_filter *f)
{
    const char *sub = f->path.sub;
    if (json_is_array(attr)) {
        size_t i;
        json_t *item;
        json_array_foreach(attr, i, item) {
            const json_t *v = sub ? get_ci(item, sub)
                                  : json_is_object(item) ? get_ci(item, "value") : item;
            if (v && compare_value(v, f))
                return 1;
        }
        return 0;
    }
    const json_t *v = sub ? get_ci(attr, sub) : attr;
    return v != NULL && compare_value(v, f);
}

static int path_present(const json_t *attr, const char *sub)
{
    if (sub == NULL)
        return present(attr);
    if (json_is_array(attr)) {
        size_t i;
        json_t *item;
        json_array_foreach(attr, i, item)
            if (present(get_ci(item, sub)))
                return 1;
        return 0;
    }
    return present(get_ci(attr, sub));
}

int scim_filter_match(const scim_filter *f, const json_t *resource)
{
    switch (f->kind) {
    case SCIM_FILTER_AND:
        return scim_filter_match(f->left, resource) && scim_filter_match(f->right, resource);
    case SCIM_FILTER_OR:
        return scim_filter_match(f->left, resource) || scim_filter_match(f->right, resource);
    case SCIM_FILTER_NOT:
        return !scim_filter_match(f->left, resource);
    default:
        break;
    }
    const json_t *container = f->path.urn ? get_ci(resource, f->path.urn) : resource;
    const json_t *attr = get_ci(container, f->path.attr);
    if (f->kind == SCIM_FILTER_VALUE_PATH) {
        size_t i;
        json_t *item;
        if (json_is_object(attr))
            return scim_filter_match(f->left, attr);
        json_array_foreach(attr, i, item)
            if (json_is_object(item) && scim_filter_match(f->left, item))
                return 1;
        return 0;
    }
    if (f->op == SCIM_CMP_PR || f->value.type == SCIM_LITERAL_NULL) {
        int has = path_present(attr, f->path.sub);
        return f->op == SCIM_CMP_EQ ? !has : has;
    }
    return attr != NULL && any_value_compares(attr, f);
}

/* ---- Writing back ------------------------------------------------------------------------ */

static char *literal_text(apr_pool_t *p, const scim_literal *lit)
{
    if (lit->type != SCIM_LITERAL_STRING)
        return apr_pstrdup(p, lit->text);
    json_t *s = json_string(lit->text);
    char *text = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
    json_decref(s);
    char *copy = apr_pstrdup(p, text ? text : "\"?\"");
    free(text);
    return copy;
}

char *scim_filter_to_string(apr_pool_t *p, const scim_filter *f)
{
    switch (f->kind) {
    case SCIM_FILTER_AND:
    case SCIM_FILTER_OR:
        return apr_pstrcat(p, "(", scim_filter_to_string(p, f->left),
                           f->kind == SCIM_FILTER_AND ? " and " : " or ",
                           scim_filter_to_string(p, f->right), ")", NULL);
    case SCIM_FILTER_NOT:
        return apr_pstrcat(p, "not (", scim_filter_to_string(p, f->left), ")", NULL);
    case SCIM_FILTER_VALUE_PATH:
        return apr_pstrcat(p, path_name(p, &f->path), "[", scim_filter_to_string(p, f->left),
                           "]", NULL);
    default:
        if (f->op == SCIM_CMP_PR)
            return apr_pstrcat(p, path_name(p, &f->path), " pr", NULL);
        return apr_pstrcat(p, path_name(p, &f->path), " ", operator_name(f->op), " ",
                           literal_text(p, &f->value), NULL);
    }
}

/* ---- SQL --------------------------------------------------------------------------------- */

typedef struct {
    const char *attr, *sub;     /* the filter path that reaches the column */
    const char *column;
    int stored_lower;           /* the column holds an ASCII lower-cased copy */
} sql_column;

static const sql_column user_columns[] = {
    { "id", NULL, "scim_users.id", 0 },
    { "externalId", NULL, "scim_users.external_id", 0 },
    { "userName", NULL, "scim_users.user_name_lower", 1 },
    { "displayName", NULL, "scim_users.display_name", 0 },
    { "name", "givenName", "scim_users.given_name", 0 },
    { "name", "familyName", "scim_users.family_name", 0 },
    { "name", "formatted", "scim_users.formatted_name", 0 },
    { "active", NULL, "scim_users.active", 0 },
    { "meta", "created", "scim_users.created", 0 },
    { "meta", "lastModified", "scim_users.last_modified", 0 },
    { NULL, NULL, NULL, 0 }
};

/* Columns of one email (alias e), by sub-attribute. */
static const sql_column email_columns[] = {
    { "value", NULL, "e.value_lower", 1 },
    { "type", NULL, "e.type", 0 },
    { "primary", NULL, "e.is_primary", 0 },
    { NULL, NULL, NULL, 0 }
};

#define EMAILS_EXISTS "EXISTS (SELECT 1 FROM scim_user_emails e WHERE e.org = scim_users.org " \
                      "AND e.user_id = scim_users.id"
#define FILTERABLE "id, externalId, userName, displayName, name.givenName, name.familyName, " \
                   "name.formatted, active, emails, emails.value, emails.type, emails.primary, " \
                   "emails[...], meta.created and meta.lastModified"

typedef struct {
    apr_pool_t *p;
    scim_sql_dialect dialect;
    apr_array_header_t *params;
    const char *error;
} sql_writer;

static const sql_column *find_column(const sql_column *list, const char *attr, const char *sub)
{
    for (; list->attr; list++)
        if (scim_strcaseeq(list->attr, attr)
            && (list->sub ? scim_strcaseeq(list->sub, sub) : sub == NULL))
            return list;
    return NULL;
}

static const char *bind_param(sql_writer *w, const char *value)
{
    APR_ARRAY_PUSH(w->params, const char *) = value;
    return "%s";
}

/* LIKE pattern with '!' as the escape character, so %, _ and ! in the value are literal. */
static char *like_pattern(apr_pool_t *p, const char *value, scim_compare_op op)
{
    char *out = apr_palloc(p, strlen(value) * 2 + 3), *o = out;
    if (op != SCIM_CMP_SW)
        *o++ = '%';
    for (const char *c = value; *c; c++) {
        if (*c == '%' || *c == '_' || *c == '!')
            *o++ = '!';
        *o++ = *c;
    }
    if (op != SCIM_CMP_EW)
        *o++ = '%';
    *o = '\0';
    return out;
}

/* GLOB pattern (SQLite's case-sensitive match): *, ? and [ in the value become [*] [?] [[]. */
static char *glob_pattern(apr_pool_t *p, const char *value, scim_compare_op op)
{
    char *out = apr_palloc(p, strlen(value) * 3 + 3), *o = out;
    if (op != SCIM_CMP_SW)
        *o++ = '*';
    for (const char *c = value; *c; c++) {
        if (*c == '*' || *c == '?' || *c == '[') {
            *o++ = '[';
            *o++ = *c;
            *o++ = ']';
        }
        else {
            *o++ = *c;
        }
    }
    if (op != SCIM_CMP_EW)
        *o++ = '*';
    *o = '\0';
    return out;
}

static const char *sql_operator(scim_compare_op op)
{
    switch (op) {
    case SCIM_CMP_EQ: return "=";
    case SCIM_CMP_NE: return "<>";
    case SCIM_CMP_GT: return ">";
    case SCIM_CMP_GE: return ">=";
    case SCIM_CMP_LT: return "<";
    default: return "<=";
    }
}

/* One comparison on one column, two-valued: a NULL column gives false, never NULL, so NOT
 * over it agrees with scim_filter_match. */
static const char *sql_compare(sql_writer *w, const sql_column *c, const scim_filter *f)
{
    const scim_attr_def *def = f->def;
    int is_string = def->type != SCIM_ATTR_BOOLEAN && def->type != SCIM_ATTR_DATETIME;
    const char *present = is_string
        ? apr_pstrcat(w->p, c->column, " IS NOT NULL AND ", c->column, " <> ''", NULL)
        : apr_pstrcat(w->p, c->column, " IS NOT NULL", NULL);
    if (f->op == SCIM_CMP_PR || (f->op == SCIM_CMP_NE && f->value.type == SCIM_LITERAL_NULL))
        return apr_pstrcat(w->p, "(", present, ")", NULL);
    if (f->value.type == SCIM_LITERAL_NULL)
        return apr_pstrcat(w->p, "(NOT (", present, "))", NULL);
    const char *guard = apr_pstrcat(w->p, "(", c->column, " IS NOT NULL AND ", NULL);
    if (def->type == SCIM_ATTR_BOOLEAN)
        return apr_pstrcat(w->p, guard, c->column, " ", sql_operator(f->op), " ",
                           bind_param(w, f->value.boolean ? "1" : "0"), ")", NULL);
    if (def->type == SCIM_ATTR_DATETIME) {
        apr_time_t t;
        saml_time_parse(f->value.text, &t); /* checked by the parser */
        return apr_pstrcat(w->p, guard, c->column, " ", sql_operator(f->op), " ",
                           bind_param(w, saml_time_format(w->p, t)), ")", NULL);
    }
    int exact = def->case_exact;
    const char *value = exact ? f->value.text : scim_lowercase(w->p, f->value.text);
    const char *expr = (exact || c->stored_lower) ? c->column
                       : apr_pstrcat(w->p, "lower(", c->column, ")", NULL);
    if (f->op == SCIM_CMP_CO || f->op == SCIM_CMP_SW || f->op == SCIM_CMP_EW) {
        /* SQLite's LIKE ignores ASCII case: a caseExact match there needs GLOB. */
        if (exact && w->dialect == SCIM_SQL_SQLITE)
            return apr_pstrcat(w->p, guard, expr, " GLOB ",
                               bind_param(w, glob_pattern(w->p, value, f->op)), ")", NULL);
        return apr_pstrcat(w->p, guard, expr, " LIKE ",
                           bind_param(w, like_pattern(w->p, value, f->op)), " ESCAPE '!')", NULL);
    }
    return apr_pstrcat(w->p, guard, expr, " ", sql_operator(f->op), " ", bind_param(w, value), ")",
                       NULL);
}

static const char *sql_fail(sql_writer *w, const char *fmt, const char *name)
{
    if (w->error == NULL)
        w->error = apr_psprintf(w->p, fmt, name);
    return "";
}

static const char *sql_of(sql_writer *w, const scim_filter *f, int in_email);

static const char *sql_email_compare(sql_writer *w, const scim_filter *f, const char *sub)
{
    const sql_column *c = find_column(email_columns, sub, NULL);
    if (c == NULL)
        return sql_fail(w, "filtering on '%s' is not supported; filterable: " FILTERABLE,
                        apr_pstrcat(w->p, "emails.", sub, NULL));
    return sql_compare(w, c, f);
}

static const char *sql_of(sql_writer *w, const scim_filter *f, int in_email)
{
    const char *name = path_name(w->p, &f->path);
    switch (f->kind) {
    case SCIM_FILTER_AND:
    case SCIM_FILTER_OR: {
        const char *left = sql_of(w, f->left, in_email);
        const char *right = sql_of(w, f->right, in_email);
        return apr_pstrcat(w->p, "(", left, f->kind == SCIM_FILTER_AND ? " AND " : " OR ",
                           right, ")", NULL);
    }
    case SCIM_FILTER_NOT:
        return apr_pstrcat(w->p, "(NOT ", sql_of(w, f->left, in_email), ")", NULL);
    case SCIM_FILTER_VALUE_PATH:
        if (f->path.urn || !scim_strcaseeq(f->path.attr, "emails"))
            return sql_fail(w, "value filters are supported on emails only, not on '%s'", name);
        return apr_pstrcat(w->p, "(" EMAILS_EXISTS " AND ", sql_of(w, f->left, 1), "))", NULL);
    default:
        break;
    }
    if (in_email)
        return sql_email_compare(w, f, f->path.attr);
    if (f->path.urn == NULL && scim_strcaseeq(f->path.attr, "emails")) {
        /* Present means some email has it (or, without a sub-attribute, that there is an
         * email); absent (eq null) means none has. */
        if (f->op == SCIM_CMP_PR || f->value.type == SCIM_LITERAL_NULL) {
            const char *has = "";
            if (f->path.sub) {
                scim_filter present = *f;
                present.op = SCIM_CMP_PR;
                has = apr_pstrcat(w->p, " AND ", sql_email_compare(w, &present, f->path.sub),
                                  NULL);
            }
            return apr_pstrcat(w->p, f->op == SCIM_CMP_EQ ? "(NOT " : "(", EMAILS_EXISTS, has,
                               "))", NULL);
        }
        const char *inner = sql_email_compare(w, f, f->path.sub ? f->path.sub : "value");
        return apr_pstrcat(w->p, "(" EMAILS_EXISTS " AND ", inner, "))", NULL);
    }
    const sql_column *c = f->path.urn ? NULL : find_column(user_columns, f->path.attr,
                                                          f->path.sub);
    if (c == NULL)
        return sql_fail(w, "filtering on '%s' is not supported; filterable: " FILTERABLE, name);
    return sql_compare(w, c, f);
}

const char *scim_filter_sql(apr_pool_t *p, const scim_filter *f, scim_sql_dialect dialect,
                            const char **where, apr_array_header_t **params)
{
    sql_writer w = { p, dialect, apr_array_make(p, 4, sizeof(const char *)), NULL };
    const char *sql = sql_of(&w, f, 0);
    *where = w.error ? NULL : sql;
    *params = w.params;
    return w.error;
}
