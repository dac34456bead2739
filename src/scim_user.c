#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include "scim_user.h"

/* ---- Validation and normalization -------------------------------------------------------- */

static scim_error *invalid_value(apr_pool_t *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static scim_error *invalid_value(apr_pool_t *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *detail = apr_pvsprintf(p, fmt, ap);
    va_end(ap);
    return scim_error_make(p, 400, SCIM_ERROR_INVALID_VALUE, "%s", detail);
}

static int is_urn(const char *key)
{
    return strncasecmp(key, "urn:", 4) == 0;
}

/* An empty object or array is an unassigned attribute (RFC 7644 §3.4.2.2). */
static int is_empty(const json_t *v)
{
    return (json_is_object(v) && json_object_size(v) == 0)
           || (json_is_array(v) && json_array_size(v) == 0);
}

static scim_error *normalize_value(apr_pool_t *p, const scim_attr_def *def, const char *name,
                                   const json_t *v, json_t **out);

/* Members of an object against a list of attribute definitions: known names respelled
 * canonically and checked, readOnly ones dropped, unknown ones kept as they are. */
static scim_error *normalize_members(apr_pool_t *p, const scim_attr_def *defs, const char *prefix,
                                     const json_t *obj, json_t **out)
{
    const char *key;
    json_t *v;
    json_t *result = json_object();
    *out = NULL;
    json_object_foreach((json_t *)obj, key, v) {
        const scim_attr_def *def = NULL;
        for (const scim_attr_def *d = defs; d && d->name; d++)
            if (scim_strcaseeq(d->name, key))
                def = d;
        const char *name = apr_pstrcat(p, prefix, def ? def->name : key, NULL);
        json_t *value = NULL;
        if (def && def->mutability == SCIM_MUTABILITY_READ_ONLY)
            continue;
        if (def) {
            scim_error *err = normalize_value(p, def, name, v, &value);
            if (err) {
                json_decref(result);
                return err;
            }
            if (def->mutability == SCIM_MUTABILITY_WRITE_ONLY) {
                json_decref(value);
                continue;
            }
        }
        else if (!json_is_null(v) && !is_empty(v)) {
            value = json_deep_copy(v);
        }
        if (value == NULL)
            continue;
        const char *canonical = def ? def->name : key;
        if (json_object_get(result, canonical)) {
            json_decref(value);
            json_decref(result);
            return scim_error_make(p, 400, SCIM_ERROR_INVALID_SYNTAX,
                                   "'%s' is given twice (attribute names ignore case)", name);
        }
        json_object_set_new(result, canonical, value);
    }
    if (json_object_size(result) == 0)
        json_decref(result);
    else
        *out = result;
    return NULL;
}

static scim_error *normalize_single(apr_pool_t *p, const scim_attr_def *def, const char *name,
                                    const json_t *v, json_t **out)
{
    *out = NULL;
    if (json_is_null(v))
        return NULL;
    switch (def->type) {
    case SCIM_ATTR_COMPLEX:
        if (!json_is_object(v))
            return invalid_value(p, "'%s' must be an object", name);
        return normalize_members(p, def->subs, apr_pstrcat(p, name, ".", NULL), v, out);
    case SCIM_ATTR_BOOLEAN:
        if (!json_is_boolean(v))
            return invalid_value(p, "'%s' must be true or false", name);
        break;
    default:
        if (!json_is_string(v))
            return invalid_value(p, "'%s' must be a string", name);
        break;
    }
    *out = json_copy((json_t *)v);
    return NULL;
}

static scim_error *normalize_value(apr_pool_t *p, const scim_attr_def *def, const char *name,
                                   const json_t *v, json_t **out)
{
    size_t i;
    json_t *item;
    int primaries = 0;
    if (!def->multi_valued || json_is_null(v))
        return normalize_single(p, def, name, v, out);
    *out = NULL;
    if (!json_is_array(v))
        return invalid_value(p, "'%s' must be an array", name);
    json_t *list = json_array();
    json_array_foreach(v, i, item) {
        json_t *value;
        scim_error *err = normalize_single(p, def, name, item, &value);
        if (err) {
            json_decref(list);
            return err;
        }
        if (value == NULL)
            continue;
        primaries += json_is_true(json_object_get(value, "primary"));
        json_array_append_new(list, value);
    }
    if (primaries > 1) {
        json_decref(list);
        return invalid_value(p, "'%s' has more than one primary value", name);
    }
    if (json_array_size(list) == 0)
        json_decref(list);
    else
        *out = list;
    return NULL;
}

/* schemas: an array of unique URI strings that lists the core User schema. */
static scim_error *normalize_schemas(apr_pool_t *p, const json_t *v, json_t **out)
{
    size_t i;
    json_t *item;
    int core = 0;
    *out = NULL;
    if (!json_is_array(v))
        return scim_error_make(p, 400, SCIM_ERROR_INVALID_SYNTAX,
                               "schemas must be an array of schema URIs");
    json_t *list = json_array();
    json_array_foreach(v, i, item) {
        size_t k;
        json_t *seen;
        int duplicate = 0;
        if (!json_is_string(item)) {
            json_decref(list);
            return scim_error_make(p, 400, SCIM_ERROR_INVALID_SYNTAX,
                                   "schemas must be an array of schema URIs");
        }
        json_array_foreach(list, k, seen)
            duplicate |= scim_strcaseeq(json_string_value(seen), json_string_value(item));
        core |= scim_strcaseeq(json_string_value(item), SCIM_SCHEMA_USER);
        if (!duplicate)
            json_array_append_new(list, json_copy(item));
    }
    if (!core) {
        json_decref(list);
        return scim_error_make(p, 400, SCIM_ERROR_INVALID_SYNTAX,
                               "schemas must list " SCIM_SCHEMA_USER);
    }
    *out = list;
    return NULL;
}

static void list_schema(json_t *schemas, const char *urn)
{
    size_t i;
    json_t *item;
    json_array_foreach(schemas, i, item)
        if (scim_strcaseeq(json_string_value(item), urn))
            return;
    json_array_append_new(schemas, json_string(urn));
}

/* Core attributes through normalize_members; extensions (urn:... keys) are objects, the
 * enterprise one checked against its schema; each extension used is listed in schemas. */
static scim_error *normalize_user(apr_pool_t *p, const json_t *in, json_t **out)
{
    const char *key;
    json_t *v, *schemas = NULL, *core = NULL;
    scim_error *err = NULL;
    *out = NULL;
    if (!json_is_object(in))
        return scim_error_make(p, 400, SCIM_ERROR_INVALID_SYNTAX, "the body is not a JSON object");
    json_t *plain = json_object();
    json_t *extensions = json_object();
    json_object_foreach((json_t *)in, key, v) {
        if (scim_strcaseeq(key, "schemas")) {
            json_decref(schemas);
            if ((err = normalize_schemas(p, v, &schemas)) != NULL)
                goto done;
        }
        else if (is_urn(key) && !scim_strcaseeq(key, SCIM_SCHEMA_USER)) {
            const char *urn = scim_attr_extension_urn(key) ? scim_attr_extension_urn(key) : key;
            json_t *ext = NULL;
            if (json_is_null(v))
                continue;
            if (!json_is_object(v)) {
                err = invalid_value(p, "'%s' must be an object", key);
                goto done;
            }
            if ((err = normalize_members(p, scim_attr_schema(urn),
                                         apr_pstrcat(p, urn, ":", NULL), v, &ext)) != NULL)
                goto done;
            if (ext)
                json_object_set_new(extensions, urn, ext);
        }
        else {
            json_object_set(plain, key, v);
        }
    }
    if (schemas == NULL) {
        err = scim_error_make(p, 400, SCIM_ERROR_INVALID_SYNTAX,
                              "schemas is missing: it must list " SCIM_SCHEMA_USER);
        goto done;
    }
    if ((err = normalize_members(p, scim_attr_schema(NULL), "", plain, &core)) != NULL)
        goto done;
    if (core == NULL)
        core = json_object();
    const json_t *user_name = json_object_get(core, "userName");
    if (user_name == NULL) {
        err = invalid_value(p, "userName is required");
        goto done;
    }
    if (strspn(json_string_value(user_name), " \t\r\n") == json_string_length(user_name)) {
        err = invalid_value(p, "userName must not be empty");
        goto done;
    }
    if (json_object_get(core, "active") == NULL)
        json_object_set_new(core, "active", json_true());
    json_object_foreach(extensions, key, v)
        list_schema(schemas, key);
    *out = json_object();
    json_object_set(*out, "schemas", schemas);
    json_object_update(*out, core);
    json_object_update(*out, extensions);
done:
    json_decref(schemas);
    json_decref(core);
    json_decref(plain);
    json_decref(extensions);
    return err;
}

static const char *string_of(apr_pool_t *p, const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? apr_pstrmemdup(p, json_string_value(v), json_string_length(v))
                             : NULL;
}

static void fill_record(apr_pool_t *p, const json_t *doc, scim_user_record *out)
{
    const json_t *name = json_object_get(doc, "name");
    const json_t *emails = json_object_get(doc, "emails");
    size_t i;
    json_t *item;
    memset(out, 0, sizeof(*out));
    out->user_name = string_of(p, doc, "userName");
    out->user_name_lower = scim_lowercase(p, out->user_name);
    out->external_id = string_of(p, doc, "externalId");
    out->given_name = string_of(p, name, "givenName");
    out->family_name = string_of(p, name, "familyName");
    out->formatted_name = string_of(p, name, "formatted");
    out->display_name = string_of(p, doc, "displayName");
    out->active = json_is_true(json_object_get(doc, "active"));
    out->emails = apr_array_make(p, 2, sizeof(scim_email));
    json_array_foreach(emails, i, item) {
        scim_email *e = apr_array_push(out->emails);
        e->value = string_of(p, item, "value");
        e->value_lower = e->value ? scim_lowercase(p, e->value) : NULL;
        e->type = string_of(p, item, "type");
        e->primary = json_is_true(json_object_get(item, "primary"));
        e->primary_given = json_object_get(item, "primary") != NULL;
    }
}

scim_error *scim_user_from_json(apr_pool_t *p, const json_t *doc, scim_user_record *out)
{
    json_t *normal;
    scim_error *err = normalize_user(p, doc, &normal);
    if (err)
        return err;
    char *text = json_dumps(normal, JSON_COMPACT);
    if (text == NULL) {
        json_decref(normal);
        return invalid_value(p, "the User cannot be encoded as JSON");
    }
    fill_record(p, normal, out);
    out->resource = apr_pstrdup(p, text);
    free(text);
    json_decref(normal);
    return NULL;
}

scim_error *scim_user_parse(apr_pool_t *p, const char *body, apr_size_t len,
                            scim_user_record *out)
{
    json_error_t jerr;
    json_t *doc = body ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    if (doc == NULL)
        return scim_error_make(p, 400, SCIM_ERROR_INVALID_SYNTAX, "the body is not JSON%s%s",
                               body ? ": " : "", body ? jerr.text : "");
    scim_error *err = scim_user_from_json(p, doc, out);
    json_decref(doc);
    return err;
}

/* ---- Projection -------------------------------------------------------------------------- */

static scim_error *parse_path_list(apr_pool_t *p, const char *param, const char *text,
                                   apr_array_header_t **out)
{
    char *last, *copy = apr_pstrdup(p, text ? text : "");
    *out = apr_array_make(p, 4, sizeof(scim_attr_path));
    for (char *item = apr_strtok(copy, ",", &last); item; item = apr_strtok(NULL, ",", &last)) {
        scim_attr_path *path = apr_array_push(*out);
        apr_collapse_spaces(item, item);
        const char *err = scim_attr_path_parse(p, item, 1, path);
        if (err)
            return invalid_value(p, "%s: %s", param, err);
    }
    return NULL;
}

scim_error *scim_projection_parse(apr_pool_t *p, const char *attributes, const char *excluded,
                                  scim_projection *out)
{
    scim_error *err = parse_path_list(p, "attributes", attributes, &out->attributes);
    return err ? err : parse_path_list(p, "excludedAttributes", excluded, &out->excluded);
}

static int same_urn(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || scim_strcaseeq(a, b);
}

/* The path names the attribute `attr` of schema `urn` (NULL: core). */
static int names_attribute(const scim_attr_path *path, const char *urn, const char *attr)
{
    return path->attr && same_urn(path->urn, urn) && scim_strcaseeq(path->attr, attr);
}

/* The path names the whole extension `key`: a known URN, or urn:...:Name split as an
 * attribute because the URN is unknown. */
static int names_extension(const scim_attr_path *path, const char *key)
{
    if (path->attr == NULL)
        return scim_strcaseeq(path->urn, key);
    apr_size_t n = path->urn ? strlen(path->urn) : 0;
    return n && path->sub == NULL && strncasecmp(key, path->urn, n) == 0 && key[n] == ':'
           && scim_strcaseeq(key + n + 1, path->attr);
}

static void remove_key_ci(json_t *obj, const char *name)
{
    const char *key;
    void *tmp;
    json_t *v;
    json_object_foreach_safe(obj, tmp, key, v)
        if (scim_strcaseeq(key, name))
            json_object_del(obj, key);
}

/* Removes a sub-attribute from a complex value or from each value of a multi-valued one. */
static void remove_sub(json_t *value, const char *sub)
{
    size_t i;
    json_t *item;
    if (json_is_object(value))
        remove_key_ci(value, sub);
    json_array_foreach(value, i, item)
        remove_key_ci(item, sub);
}

/* Keeps in an object only the sub-attributes some include path names. */
static void keep_subs(json_t *obj, const apr_array_header_t *paths, const char *urn,
                      const char *attr)
{
    const char *key;
    void *tmp;
    json_t *v;
    json_object_foreach_safe(obj, tmp, key, v) {
        int keep = 0;
        for (int i = 0; i < paths->nelts; i++) {
            const scim_attr_path *path = &APR_ARRAY_IDX(paths, i, scim_attr_path);
            keep |= names_attribute(path, urn, attr) && scim_strcaseeq(path->sub, key);
        }
        if (!keep)
            json_object_del(obj, key);
    }
}

/* One attribute's value as returned, or NULL to leave it out. include_all: the attributes
 * list does not apply (a whole extension was asked for). */
static json_t *project(const scim_projection *proj, const char *urn, const char *attr,
                       const json_t *value, int include_all)
{
    const apr_array_header_t *wanted = proj ? proj->attributes : NULL;
    const apr_array_header_t *excluded = proj ? proj->excluded : NULL;
    int whole = 1, some = 0;
    if (!include_all && wanted && wanted->nelts) {
        whole = 0;
        for (int i = 0; i < wanted->nelts; i++) {
            const scim_attr_path *path = &APR_ARRAY_IDX(wanted, i, scim_attr_path);
            if (names_attribute(path, urn, attr)) {
                whole |= path->sub == NULL;
                some = 1;
            }
        }
        if (!some)
            return NULL;
    }
    json_t *copy = json_deep_copy(value);
    if (!whole) {
        size_t i;
        json_t *item;
        if (json_is_object(copy))
            keep_subs(copy, wanted, urn, attr);
        json_array_foreach(copy, i, item)
            if (json_is_object(item))
                keep_subs(item, wanted, urn, attr);
    }
    for (int i = 0; excluded && i < excluded->nelts; i++) {
        const scim_attr_path *path = &APR_ARRAY_IDX(excluded, i, scim_attr_path);
        if (!names_attribute(path, urn, attr))
            continue;
        if (path->sub == NULL) {
            json_decref(copy);
            return NULL;
        }
        remove_sub(copy, path->sub);
    }
    if (is_empty(copy)) {
        json_decref(copy);
        return NULL;
    }
    return copy;
}

static int any_names_extension(const apr_array_header_t *paths, const char *key)
{
    for (int i = 0; paths && i < paths->nelts; i++)
        if (names_extension(&APR_ARRAY_IDX(paths, i, scim_attr_path), key))
            return 1;
    return 0;
}

static json_t *project_extension(const scim_projection *proj, const char *key, const json_t *ext)
{
    const char *attr;
    json_t *v;
    if (proj && any_names_extension(proj->excluded, key))
        return NULL;
    int include_all = proj && any_names_extension(proj->attributes, key);
    json_t *out = json_object();
    json_object_foreach((json_t *)ext, attr, v) {
        json_t *value = project(proj, key, attr, v, include_all);
        if (value)
            json_object_set_new(out, attr, value);
    }
    if (json_object_size(out) == 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

/* ---- Rendering --------------------------------------------------------------------------- */

char *scim_user_location(apr_pool_t *p, const char *base_url, const char *id)
{
    return apr_pstrcat(p, base_url, "/Users/", id, NULL);
}

char *scim_user_etag(apr_pool_t *p, apr_int64_t version)
{
    return apr_psprintf(p, "W/\"%" APR_INT64_T_FMT "\"", version);
}

json_t *scim_user_resource(const scim_stored_user *user, const char *base_url,
                           const scim_projection *projection)
{
    json_error_t jerr;
    const char *key;
    json_t *v;
    char etag[64];
    json_t *stored = json_loads(user->resource ? user->resource : "", 0, &jerr);
    if (!json_is_object(stored)) {
        json_decref(stored);
        return NULL;
    }
    json_t *out = json_object();
    json_object_set(out, "schemas", json_object_get(stored, "schemas"));
    json_object_set_new(out, "id", json_string(user->id));
    json_object_foreach(stored, key, v) {
        json_t *value = NULL;
        if (scim_strcaseeq(key, "schemas") || scim_strcaseeq(key, "id")
            || scim_strcaseeq(key, "meta"))
            continue;
        value = (is_urn(key) && json_is_object(v)) ? project_extension(projection, key, v)
                                                   : project(projection, NULL, key, v, 0);
        if (value)
            json_object_set_new(out, key, value);
    }
    snprintf(etag, sizeof(etag), "W/\"%" APR_INT64_T_FMT "\"", user->version);
    json_object_set_new(out, "meta", json_pack("{s:s, s:s*, s:s*, s:s++, s:s}",
                                               "resourceType", "User",
                                               "created", user->created,
                                               "lastModified", user->last_modified,
                                               "location", base_url ? base_url : "",
                                               "/Users/", user->id,
                                               "version", etag));
    json_decref(stored);
    return out;
}

char *scim_user_render(apr_pool_t *p, const scim_stored_user *user, const char *base_url,
                       const scim_projection *projection)
{
    json_t *doc = scim_user_resource(user, base_url, projection);
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (text == NULL)
        return NULL;
    char *copy = apr_pstrdup(p, text);
    free(text);
    return copy;
}

char *scim_user_list_render(apr_pool_t *p, const apr_array_header_t *users,
                            apr_int64_t total_results, apr_int64_t start_index,
                            const char *base_url, const scim_projection *projection)
{
    json_t *resources = json_array();
    for (int i = 0; users && i < users->nelts; i++) {
        json_t *doc = scim_user_resource(&APR_ARRAY_IDX(users, i, scim_stored_user), base_url,
                                         projection);
        if (doc == NULL) {
            json_decref(resources);
            return NULL;
        }
        json_array_append_new(resources, doc);
    }
    json_t *list = json_pack("{s:[s], s:I, s:I, s:I, s:o}", "schemas", SCIM_SCHEMA_LIST_RESPONSE,
                             "totalResults", (json_int_t)total_results,
                             "itemsPerPage", (json_int_t)json_array_size(resources),
                             "startIndex", (json_int_t)start_index, "Resources", resources);
    char *text = list ? json_dumps(list, JSON_COMPACT) : NULL;
    json_decref(list);
    if (text == NULL)
        return NULL;
    char *copy = apr_pstrdup(p, text);
    free(text);
    return copy;
}

/* ---- Pagination -------------------------------------------------------------------------- */

#define SCIM_PAGE_MAX_START 2147483647

/* An integer query value; out-of-range values saturate, so they clamp like the rest. */
static int parse_integer(const char *text, apr_int64_t *out)
{
    char *end;
    errno = 0;
    *out = apr_strtoi64(text, &end, 10);
    if (*text == '\0' || *end != '\0' || (errno && errno != ERANGE))
        return -1;
    return 0;
}

scim_error *scim_page_parse(apr_pool_t *p, const char *start_index, const char *count,
                            apr_int64_t default_count, apr_int64_t max_count, scim_page *out)
{
    apr_int64_t value;
    out->start_index = 1;
    out->count = default_count < max_count ? default_count : max_count;
    if (start_index) {
        if (parse_integer(start_index, &value) != 0)
            return invalid_value(p, "startIndex must be an integer, not '%s'", start_index);
        out->start_index = value < 1 ? 1 : value > SCIM_PAGE_MAX_START ? SCIM_PAGE_MAX_START
                                                                         : value;
    }
    if (count) {
        if (parse_integer(count, &value) != 0)
            return invalid_value(p, "count must be an integer, not '%s'", count);
        out->count = value < 0 ? 0 : value > max_count ? max_count : value;
    }
    return NULL;
}
