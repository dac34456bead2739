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

/* The caller's record is written only when the whole of it decoded. */
const char *session_record_decode(apr_pool_t *p, const char *buf, apr_size_t len,
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
