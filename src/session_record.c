#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <jansson.h>
#include "session_record.h"

/* Takes ownership of json; NULL when it is NULL (a string was not UTF-8) or cannot be dumped. */
static char *dump_and_release(apr_pool_t *p, json_t *json)
{
    if (json == NULL)
        return NULL;
    char *text = json_dumps(json, JSON_COMPACT);
    json_decref(json);
    if (text == NULL)
        return NULL;
    char *copy = apr_pstrdup(p, text);
    free(text);
    return copy;
}

static json_t *teams_to_json(const apr_array_header_t *teams)
{
    json_t *list = json_array();
    for (int i = 0; list && teams && i < teams->nelts; i++) {
        const team_membership *m = &APR_ARRAY_IDX(teams, i, team_membership);
        json_t *item = json_pack("{s:s, s:s}", "team", m->team, "role",
                                 groupsync_role_name(m->role));
        if (json_array_append_new(list, item) != 0) {
            json_decref(list);
            return NULL;
        }
    }
    return list;
}

char *session_record_encode(apr_pool_t *p, const session_record *rec)
{
    json_t *teams = teams_to_json(rec->teams);
    if (teams == NULL)
        return NULL;
    /* "s*" leaves a NULL optional field out; "o" hands teams over even when packing fails. */
    return dump_and_release(p, json_pack("{s:s, s:s*, s:s, s:s*, s:s*, s:s*, s:s*, s:s*, s:o, "
                                         "s:I, s:I, s:I}",
                                         "org", rec->org, "sp", rec->sp, "user", rec->user,
                                         "email", rec->email,
                                         "first_name", rec->first_name,
                                         "last_name", rec->last_name,
                                         "idp_entity_id", rec->idp_entity_id,
                                         "session_index", rec->session_index,
                                         "teams", teams,
                                         "created", (json_int_t)rec->created,
                                         "expires", (json_int_t)rec->expires,
                                         "checked", (json_int_t)rec->checked));
}

char *login_state_encode(apr_pool_t *p, const login_state *st)
{
    return dump_and_release(p, json_pack("{s:s, s:s, s:s, s:I}", "org", st->org,
                                         "request_id", st->request_id,
                                         "return_to", st->return_to,
                                         "expires", (json_int_t)st->expires));
}

/* The cache hands back bytes without a terminating NUL, so only len counts. */
static const char *load_object(apr_pool_t *p, const char *buf, apr_size_t len, json_t **out)
{
    json_error_t error;
    if (buf == NULL)
        return "no data";
    json_t *json = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &error);
    if (json == NULL)
        return apr_psprintf(p, "not JSON (column %d: %s)", error.column, error.text);
    if (!json_is_object(json)) {
        json_decref(json);
        return "not a JSON object";
    }
    *out = json;
    return NULL;
}

static const char *read_string(apr_pool_t *p, const json_t *obj, const char *key, int required,
                               const char **out)
{
    const json_t *value = json_object_get(obj, key);
    if (value == NULL || json_is_null(value)) {
        *out = NULL;
        return required ? apr_psprintf(p, "%s is missing", key) : NULL;
    }
    if (!json_is_string(value))
        return apr_psprintf(p, "%s is not a string", key);
    *out = apr_pstrmemdup(p, json_string_value(value), json_string_length(value));
    return NULL;
}

static const char *read_time(apr_pool_t *p, const json_t *obj, const char *key, int required,
                             apr_time_t *out)
{
    const json_t *value = json_object_get(obj, key);
    if (value == NULL || json_is_null(value)) {
        *out = 0;
        return required ? apr_psprintf(p, "%s is missing", key) : NULL;
    }
    if (!json_is_integer(value))
        return apr_psprintf(p, "%s is not an integer", key);
    *out = (apr_time_t)json_integer_value(value);
    return NULL;
}

static const char *read_teams(apr_pool_t *p, const json_t *obj, apr_array_header_t **out)
{
    const json_t *list = json_object_get(obj, "teams");
    apr_array_header_t *teams = apr_array_make(p, 4, sizeof(team_membership));
    *out = teams;
    if (list == NULL || json_is_null(list))
        return NULL;
    if (!json_is_array(list))
        return "teams is not an array";
    for (apr_size_t i = 0; i < json_array_size(list); i++) {
        const json_t *item = json_array_get(list, i);
        const char *team, *role, *err;
        if (!json_is_object(item))
            return apr_psprintf(p, "teams[%" APR_SIZE_T_FMT "] is not an object", i);
        if ((err = read_string(p, item, "team", 1, &team)) != NULL
            || (err = read_string(p, item, "role", 1, &role)) != NULL)
            return apr_psprintf(p, "teams[%" APR_SIZE_T_FMT "]: %s", i, err);
        team_membership *m = apr_array_push(teams);
        m->team = team;
        if (strcmp(role, groupsync_role_name(TEAM_ROLE_MEMBER)) == 0)
            m->role = TEAM_ROLE_MEMBER;
        else if (strcmp(role, groupsync_role_name(TEAM_ROLE_MANAGER)) == 0)
            m->role = TEAM_ROLE_MANAGER;
        else
            return apr_psprintf(p, "teams[%" APR_SIZE_T_FMT "]: role is neither Member nor "
                                "Manager", i);
    }
    return NULL;
}

static const char *read_session_fields(apr_pool_t *p, const json_t *obj, session_record *r)
{
    const char *err;
    if ((err = read_string(p, obj, "org", 1, &r->org))
        || (err = read_string(p, obj, "sp", 0, &r->sp))
        || (err = read_string(p, obj, "user", 1, &r->user))
        || (err = read_string(p, obj, "email", 0, &r->email))
        || (err = read_string(p, obj, "first_name", 0, &r->first_name))
        || (err = read_string(p, obj, "last_name", 0, &r->last_name))
        || (err = read_string(p, obj, "idp_entity_id", 0, &r->idp_entity_id))
        || (err = read_string(p, obj, "session_index", 0, &r->session_index))
        || (err = read_teams(p, obj, &r->teams))
        || (err = read_time(p, obj, "created", 0, &r->created))
        || (err = read_time(p, obj, "checked", 0, &r->checked)))
        return err;
    return read_time(p, obj, "expires", 1, &r->expires);
}

static const char *read_login_fields(apr_pool_t *p, const json_t *obj, login_state *s)
{
    const char *err;
    if ((err = read_string(p, obj, "org", 1, &s->org))
        || (err = read_string(p, obj, "request_id", 1, &s->request_id))
        || (err = read_string(p, obj, "return_to", 1, &s->return_to)))
        return err;
    return read_time(p, obj, "expires", 1, &s->expires);
}

/* The fast path of session_record_decode, run on every signed-in request: a reader for exactly
 * what session_record_encode writes (known keys, strings, integers, null, the teams array), in
 * one pass without building a tree. Anything else, valid or not (an unknown key, a float, a
 * duplicate, \u0000, bad UTF-8, a missing field...), is left to jansson, so results and error
 * messages are jansson's. */
typedef struct {
    const char *at, *end;
    apr_pool_t *p;
} reader;

static void skip_space(reader *rd)
{
    while (rd->at < rd->end
           && (*rd->at == ' ' || *rd->at == '\t' || *rd->at == '\n' || *rd->at == '\r'))
        rd->at++;
}

static int take_char(reader *rd, char c)
{
    skip_space(rd);
    if (rd->at < rd->end && *rd->at == c) {
        rd->at++;
        return 1;
    }
    return 0;
}

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return 0;
    }
    *out = v;
    return 1;
}

/* Length of the well-formed UTF-8 sequence at s (at most n bytes), or 0. */
static apr_size_t utf8_sequence(const unsigned char *s, apr_size_t n)
{
    unsigned char c = s[0];
    apr_size_t len;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) { len = 2; min = 0x80; }
    else if (c >= 0xe0 && c <= 0xef) { len = 3; min = 0x800; }
    else if (c >= 0xf0 && c <= 0xf4) { len = 4; min = 0x10000; }
    else
        return 0;
    if (n < len)
        return 0;
    unsigned v = c & (0x7f >> len);
    for (apr_size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    return len;
}

static char *put_utf8(char *o, unsigned v)
{
    if (v < 0x80) {
        *o++ = (char)v;
    } else if (v < 0x800) {
        *o++ = (char)(0xc0 | (v >> 6));
        *o++ = (char)(0x80 | (v & 0x3f));
    } else if (v < 0x10000) {
        *o++ = (char)(0xe0 | (v >> 12));
        *o++ = (char)(0x80 | ((v >> 6) & 0x3f));
        *o++ = (char)(0x80 | (v & 0x3f));
    } else {
        *o++ = (char)(0xf0 | (v >> 18));
        *o++ = (char)(0x80 | ((v >> 12) & 0x3f));
        *o++ = (char)(0x80 | ((v >> 6) & 0x3f));
        *o++ = (char)(0x80 | (v & 0x3f));
    }
    return o;
}

/* A JSON string at rd->at, into the pool; NULL to fall back (malformed, \u0000, bad UTF-8). */
static const char *take_string(reader *rd)
{
    skip_space(rd);
    if (rd->at >= rd->end || *rd->at != '"')
        return NULL;
    const char *s = ++rd->at;
    const char *close = s;
    while (close < rd->end && *close != '"')
        close += *close == '\\' ? 2 : 1;
    if (close >= rd->end)
        return NULL;
    /* Escapes only shrink text: the unescaped string fits in the escaped length. */
    char *out = apr_palloc(rd->p, (apr_size_t)(close - s) + 1), *o = out;
    while (s < close) {
        /* Plain printable ASCII, nearly all of a record, is copied a run at a time. */
        const char *run = s;
        while (run < close && *run >= 0x20 && *run < 0x7f && *run != '\\')
            run++;
        memcpy(o, s, (apr_size_t)(run - s));
        o += run - s;
        s = run;
        if (s == close)
            break;
        unsigned char c = (unsigned char)*s;
        if (c < 0x20)
            return NULL;
        if (c != '\\') {
            apr_size_t n = utf8_sequence((const unsigned char *)s, (apr_size_t)(close - s));
            if (n == 0)
                return NULL;
            memcpy(o, s, n);
            o += n;
            s += n;
            continue;
        }
        if (++s >= close)
            return NULL;
        unsigned v;
        switch (*s++) {
        case '"': *o++ = '"'; continue;
        case '\\': *o++ = '\\'; continue;
        case '/': *o++ = '/'; continue;
        case 'b': *o++ = '\b'; continue;
        case 'f': *o++ = '\f'; continue;
        case 'n': *o++ = '\n'; continue;
        case 'r': *o++ = '\r'; continue;
        case 't': *o++ = '\t'; continue;
        case 'u':
            if (close - s < 4 || !hex4(s, &v) || v == 0)
                return NULL;
            s += 4;
            if (v >= 0xdc00 && v <= 0xdfff)
                return NULL;
            if (v >= 0xd800 && v <= 0xdbff) {
                unsigned lo;
                if (close - s < 6 || s[0] != '\\' || s[1] != 'u' || !hex4(s + 2, &lo)
                    || lo < 0xdc00 || lo > 0xdfff)
                    return NULL;
                s += 6;
                v = 0x10000 + ((v - 0xd800) << 10) + (lo - 0xdc00);
            }
            o = put_utf8(o, v);
            continue;
        default:
            return NULL;
        }
    }
    *o = '\0';
    rd->at = close + 1;
    return out;
}

static int take_null(reader *rd)
{
    skip_space(rd);
    if (rd->end - rd->at >= 4 && memcmp(rd->at, "null", 4) == 0) {
        rd->at += 4;
        return 1;
    }
    return 0;
}

/* A JSON integer of at most 18 digits (no overflow); 0 to fall back. */
static int take_integer(reader *rd, apr_time_t *out)
{
    skip_space(rd);
    const char *s = rd->at;
    int negative = s < rd->end && *s == '-';
    if (negative)
        s++;
    const char *digits = s;
    apr_int64_t v = 0;
    while (s < rd->end && *s >= '0' && *s <= '9' && s - digits < 18)
        v = v * 10 + (*s++ - '0');
    apr_size_t n = (apr_size_t)(s - digits);
    if (n == 0 || n > 18 || (digits[0] == '0' && n > 1)
        || (s < rd->end && (*s == '.' || *s == 'e' || *s == 'E' || (*s >= '0' && *s <= '9'))))
        return 0;
    *out = negative ? -v : v;
    rd->at = s;
    return 1;
}

static int take_optional_string(reader *rd, const char **out)
{
    if (take_null(rd)) {
        *out = NULL;
        return 1;
    }
    return (*out = take_string(rd)) != NULL;
}

static int take_teams(reader *rd, apr_array_header_t *teams)
{
    if (take_null(rd))
        return 1;
    if (!take_char(rd, '['))
        return 0;
    if (take_char(rd, ']'))
        return 1;
    do {
        const char *team = NULL, *role = NULL;
        if (!take_char(rd, '{'))
            return 0;
        for (int i = 0; i < 2; i++) {
            const char *key = take_string(rd);
            if (key == NULL || !take_char(rd, ':'))
                return 0;
            const char **slot = strcmp(key, "team") == 0 ? &team
                                : strcmp(key, "role") == 0 ? &role : NULL;
            if (slot == NULL || *slot || (*slot = take_string(rd)) == NULL
                || (i == 0 && !take_char(rd, ',')))
                return 0;
        }
        if (!take_char(rd, '}'))
            return 0;
        team_membership *m = apr_array_push(teams);
        m->team = team;
        if (strcmp(role, "Member") == 0)
            m->role = TEAM_ROLE_MEMBER;
        else if (strcmp(role, "Manager") == 0)
            m->role = TEAM_ROLE_MANAGER;
        else
            return 0;
    } while (take_char(rd, ','));
    return take_char(rd, ']');
}

enum { F_ORG, F_SP, F_USER, F_EMAIL, F_FIRST, F_LAST, F_IDP, F_INDEX, F_TEAMS, F_CREATED,
       F_EXPIRES, F_CHECKED, F__COUNT };
static const char *const field_names[F__COUNT] = {
    "org", "sp", "user", "email", "first_name", "last_name", "idp_entity_id", "session_index",
    "teams", "created", "expires", "checked"};

static int decode_fast(apr_pool_t *p, const char *buf, apr_size_t len, session_record *r)
{
    reader rd = {buf, buf + len, p};
    const char **strings[F_TEAMS] = {&r->org, &r->sp, &r->user, &r->email, &r->first_name,
                                     &r->last_name, &r->idp_entity_id, &r->session_index};
    apr_time_t *times[F__COUNT - F_CREATED] = {&r->created, &r->expires, &r->checked};
    int seen[F__COUNT] = {0};
    memset(r, 0, sizeof(*r));
    r->teams = apr_array_make(p, 4, sizeof(team_membership));
    if (!take_char(&rd, '{'))
        return 0;
    if (!take_char(&rd, '}')) {
        do {
            const char *key = take_string(&rd);
            if (key == NULL || !take_char(&rd, ':'))
                return 0;
            int f = 0;
            while (f < F__COUNT && strcmp(key, field_names[f]) != 0)
                f++;
            if (f == F__COUNT || seen[f]++)
                return 0;
            int ok = f < F_TEAMS ? take_optional_string(&rd, strings[f])
                     : f == F_TEAMS ? take_teams(&rd, r->teams)
                     : f != F_EXPIRES && take_null(&rd) ? 1
                     : take_integer(&rd, times[f - F_CREATED]);
            if (!ok)
                return 0;
        } while (take_char(&rd, ','));
        if (!take_char(&rd, '}'))
            return 0;
    }
    skip_space(&rd);
    return rd.at == rd.end && r->org && r->user && seen[F_EXPIRES];
}

/* The caller's record is written only when the whole of it decoded. */
const char *session_record_decode(apr_pool_t *p, const char *buf, apr_size_t len,
                                  session_record *rec)
{
    session_record decoded;
    if (buf && decode_fast(p, buf, len, &decoded)) {
        *rec = decoded;
        return NULL;
    }
    return session_record_decode_reference(p, buf, len, rec);
}

const char *session_record_decode_reference(apr_pool_t *p, const char *buf, apr_size_t len,
                                            session_record *rec)
{
    json_t *obj = NULL;
    const char *err = load_object(p, buf, len, &obj);
    if (err)
        return err;
    session_record decoded;
    err = read_session_fields(p, obj, &decoded);
    json_decref(obj);
    if (err == NULL)
        *rec = decoded;
    return err;
}

const char *login_state_decode(apr_pool_t *p, const char *buf, apr_size_t len, login_state *st)
{
    json_t *obj = NULL;
    const char *err = load_object(p, buf, len, &obj);
    if (err)
        return err;
    login_state decoded;
    err = read_login_fields(p, obj, &decoded);
    json_decref(obj);
    if (err == NULL)
        *st = decoded;
    return err;
}
