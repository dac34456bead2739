#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include "scim_patch.h"

typedef enum { PATCH_ADD, PATCH_REPLACE, PATCH_REMOVE } patch_op;

typedef struct {
    apr_pool_t *p;
    json_t *doc;            /* the copy being patched */
    const char *where;      /* "Operations[2]", prefixed to every detail */
} patch_run;

static scim_error *patch_error(patch_run *run, scim_error_type type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static scim_error *patch_error(patch_run *run, scim_error_type type, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *detail = apr_pvsprintf(run->p, fmt, ap);
    va_end(ap);
    return scim_error_make(run->p, 400, type, "%s: %s", run->where, detail);
}

/* The key spelled as in the object for a case-insensitive name, or NULL. */
static const char *find_key(const json_t *obj, const char *name)
{
    const char *key;
    json_t *v;
    if (!json_is_object(obj))
        return NULL;
    json_object_foreach((json_t *)obj, key, v)
        if (scim_strcaseeq(key, name))
            return key;
    return NULL;
}

static json_t *get_ci(const json_t *obj, const char *name)
{
    const char *key = find_key(obj, name);
    return key ? json_object_get(obj, key) : NULL;
}

/* Sets name to value (a new reference; NULL or null removes it). An existing spelling of name
 * keeps its place and spelling (validation respells it canonically). */
static void set_ci(json_t *obj, const char *name, json_t *value)
{
    const char *found = find_key(obj, name);
    char *key = strdup(found ? found : name);
    if (value == NULL || json_is_null(value)) {
        if (found)
            json_object_del(obj, key);
        json_decref(value);
    }
    else {
        json_object_set_new(obj, key, value);
    }
    free(key);
}

static void del_ci(json_t *obj, const char *name)
{
    set_ci(obj, name, NULL);
}

static const char *canonical_name(const scim_attr_def *def, const char *name)
{
    return def ? def->name : name;
}

static const char *canonical_sub(const scim_attr_def *def, const char *name)
{
    return canonical_name(scim_attr_find_sub(def, name), name);
}

/* Sets each member of value into obj (sub-attributes of a complex value). */
static void merge_members(json_t *obj, const scim_attr_def *def, const json_t *value)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)value, key, v)
        set_ci(obj, canonical_sub(def, key), json_deep_copy(v));
}

/* RFC 7644 §3.5.2: a value newly set primary makes every other value of the attribute
 * non-primary. `chosen` are the values this operation wrote. */
static void demote_other_primaries(json_t *list, json_t *const *chosen, apr_size_t n)
{
    size_t i;
    json_t *item;
    int any = 0;
    for (apr_size_t k = 0; k < n; k++)
        any |= json_is_true(get_ci(chosen[k], "primary"));
    if (!any)
        return;
    json_array_foreach(list, i, item) {
        int mine = 0;
        for (apr_size_t k = 0; k < n; k++)
            mine |= (item == chosen[k]);
        if (!mine && json_is_true(get_ci(item, "primary")))
            set_ci(item, "primary", json_false());
    }
}

/* Drops values left without any sub-attribute, then the attribute if no value is left. */
static void drop_empty_values(json_t *container, const char *name)
{
    json_t *list = get_ci(container, name);
    for (size_t i = json_array_size(list); i-- > 0;) {
        json_t *item = json_array_get(list, i);
        if (json_is_object(item) && json_object_size(item) == 0)
            json_array_remove(list, i);
    }
    if (json_is_array(list) && json_array_size(list) == 0)
        del_ci(container, name);
}

/* The object holding an extension's attributes; created (and listed in schemas) for add and
 * replace. */
static json_t *extension(patch_run *run, const char *urn, int create)
{
    json_t *ext = get_ci(run->doc, urn);
    if (json_is_object(ext) || !create)
        return json_is_object(ext) ? ext : NULL;
    ext = json_object();
    set_ci(run->doc, urn, ext);
    json_t *schemas = get_ci(run->doc, "schemas");
    size_t i;
    json_t *item;
    json_array_foreach(schemas, i, item)
        if (scim_strcaseeq(json_string_value(item), urn))
            return ext;
    if (json_is_array(schemas))
        json_array_append_new(schemas, json_string(urn));
    return ext;
}

/* add/replace/remove of a whole attribute (no sub-attribute, no filter). */
static scim_error *apply_attribute(patch_run *run, json_t *container, const char *name,
                                   const scim_attr_def *def, patch_op op, const json_t *value)
{
    json_t *existing = get_ci(container, name);
    const char *key = canonical_name(def, name);
    if (op == PATCH_REMOVE || json_is_null(value)) {
        del_ci(container, name);
        return NULL;
    }
    int multi = def ? def->multi_valued : (json_is_array(existing) || json_is_array(value));
    if (multi) {
        json_t *incoming = json_is_array(value) ? json_deep_copy(value) : json_pack("[O]", value);
        size_t i;
        json_t *item;
        if (op == PATCH_REPLACE || !json_is_array(existing)) {
            set_ci(container, key, json_incref(incoming));
            existing = incoming;
        }
        else {
            /* add: values already there are not added twice */
            json_array_foreach(incoming, i, item) {
                size_t k;
                json_t *have;
                int present = 0;
                json_array_foreach(existing, k, have)
                    present |= json_equal(have, item);
                if (!present)
                    json_array_append(existing, item);
            }
        }
        json_t **chosen = apr_palloc(run->p, sizeof(json_t *) * (json_array_size(incoming) + 1));
        json_array_foreach(incoming, i, item)
            chosen[i] = item;
        demote_other_primaries(existing, chosen, json_array_size(incoming));
        json_decref(incoming);
        return NULL;
    }
    if ((def && def->type == SCIM_ATTR_COMPLEX) || (json_is_object(existing)
                                                    && json_is_object(value))) {
        if (!json_is_object(value))
            return patch_error(run, SCIM_ERROR_INVALID_VALUE, "'%s' needs an object value", key);
        if (!json_is_object(existing)) {
            existing = json_object();
            set_ci(container, key, existing);
        }
        /* A complex value's sub-attributes are merged: those not given stay (§3.5.2.3). */
        merge_members(existing, def, value);
        if (json_object_size(existing) == 0)
            del_ci(container, key);
        return NULL;
    }
    set_ci(container, key, json_deep_copy(value));
    return NULL;
}

/* attr.sub: the sub-attribute of a complex value, or of every value of a multi-valued one. */
static scim_error *apply_sub_attribute(patch_run *run, json_t *container, const char *name,
                                       const scim_attr_def *def, const char *sub, patch_op op,
                                       const json_t *value)
{
    json_t *existing = get_ci(container, name);
    const char *sub_key = canonical_sub(def, sub);
    if (json_is_array(existing)) {
        size_t i;
        json_t *item;
        if (op != PATCH_REMOVE && json_array_size(existing) == 0)
            return patch_error(run, SCIM_ERROR_NO_TARGET, "'%s' has no values", name);
        json_array_foreach(existing, i, item)
            if (json_is_object(item))
                set_ci(item, sub_key, op == PATCH_REMOVE ? NULL : json_deep_copy(value));
        drop_empty_values(container, name);
        return NULL;
    }
    if (existing && !json_is_object(existing))
        return patch_error(run, SCIM_ERROR_INVALID_PATH, "'%s' has no sub-attributes", name);
    if (op == PATCH_REMOVE || json_is_null(value)) {
        if (existing) {
            del_ci(existing, sub);
            if (json_object_size(existing) == 0)
                del_ci(container, name);
        }
        return NULL;
    }
    if (existing == NULL) {
        existing = json_object();
        set_ci(container, canonical_name(def, name), existing);
    }
    set_ci(existing, sub_key, json_deep_copy(value));
    return NULL;
}

/* attr[filter] and attr[filter].sub: the values the filter selects. */
static scim_error *apply_filtered(patch_run *run, json_t *container, const scim_patch_path *path,
                                  const char *text, patch_op op, const json_t *value)
{
    json_t *list = get_ci(container, path->path.attr);
    apr_size_t n = 0;
    json_t **chosen = apr_palloc(run->p, sizeof(json_t *) * (json_array_size(list) + 1));
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
        if (json_is_object(item) && scim_filter_match(path->filter, item))
            chosen[n++] = item;
    if (n == 0) {
        if (op == PATCH_REMOVE)
            return NULL;
        return patch_error(run, SCIM_ERROR_NO_TARGET, "no value matches '%s'", text);
    }
    if (op != PATCH_REMOVE && path->value_sub == NULL && !json_is_object(value))
        return patch_error(run, SCIM_ERROR_INVALID_VALUE, "'%s' needs an object value", text);
    if (op == PATCH_REMOVE && path->value_sub == NULL) {
        for (size_t k = json_array_size(list); k-- > 0;)
            for (apr_size_t m = 0; m < n; m++)
                if (json_array_get(list, k) == chosen[m])
                    json_array_remove(list, k);
    }
    else {
        for (apr_size_t m = 0; m < n; m++) {
            if (path->value_sub)
                set_ci(chosen[m], canonical_sub(path->def, path->value_sub),
                       op == PATCH_REMOVE ? NULL : json_deep_copy(value));
            else
                merge_members(chosen[m], path->def, value);
        }
        demote_other_primaries(list, chosen, n);
    }
    drop_empty_values(container, path->path.attr);
    return NULL;
}

/* The schema of what the path writes: readOnly there is a mutability error. */
static const scim_attr_def *target_def(const scim_patch_path *path)
{
    const scim_attr_def *def = path->def;
    const char *sub = path->path.sub ? path->path.sub : path->value_sub;
    if (def && sub && def->mutability != SCIM_MUTABILITY_READ_ONLY)
        return scim_attr_find_sub(def, sub);
    return def;
}

/* implicit: the path is a key of a path-less value, where readOnly attributes are ignored. */
static scim_error *apply_path(patch_run *run, patch_op op, const scim_patch_path *path,
                              const char *text, const json_t *value, int implicit)
{
    const scim_attr_def *target = target_def(path);
    if (target && target->mutability == SCIM_MUTABILITY_READ_ONLY)
        return implicit ? NULL : patch_error(run, SCIM_ERROR_MUTABILITY,
                                             "'%s' is readOnly", text);
    if (path->def && path->def->type != SCIM_ATTR_COMPLEX && path->path.sub)
        return patch_error(run, SCIM_ERROR_INVALID_PATH, "'%s' has no sub-attributes",
                           path->def->name);
    if (path->path.attr == NULL) {
        /* A whole extension: its attributes one by one. */
        const char *key;
        json_t *v;
        if (op == PATCH_REMOVE) {
            del_ci(run->doc, path->path.urn);
            return NULL;
        }
        if (!json_is_object(value))
            return patch_error(run, SCIM_ERROR_INVALID_VALUE, "'%s' needs an object value", text);
        json_t *ext = extension(run, path->path.urn, 1);
        json_object_foreach((json_t *)value, key, v) {
            scim_error *err = apply_attribute(run, ext, key, scim_attr_find(path->path.urn, key),
                                              op, v);
            if (err)
                return err;
        }
        return NULL;
    }
    json_t *container = path->path.urn ? extension(run, path->path.urn, op != PATCH_REMOVE)
                                       : run->doc;
    if (container == NULL)
        return NULL;
    if (path->filter)
        return apply_filtered(run, container, path, text, op, value);
    if (path->path.sub)
        return apply_sub_attribute(run, container, path->path.attr, path->def, path->path.sub,
                                   op, value);
    return apply_attribute(run, container, path->path.attr, path->def, op, value);
}

/* No path: each key of the value object is an attribute (or a path, or an extension). */
static scim_error *apply_pathless(patch_run *run, patch_op op, const json_t *value)
{
    const char *key;
    json_t *v;
    if (!json_is_object(value))
        return patch_error(run, SCIM_ERROR_INVALID_VALUE,
                           "without a path, the value must be an object of attributes");
    json_object_foreach((json_t *)value, key, v) {
        scim_patch_path path;
        scim_error *err;
        if (scim_strcaseeq(key, "schemas"))
            continue;
        if (scim_strcaseeq(key, SCIM_SCHEMA_USER) && json_is_object(v)) {
            if ((err = apply_pathless(run, op, v)) != NULL)
                return err;
            continue;
        }
        const char *perr = scim_path_parse(run->p, key, &path);
        if (perr == NULL && path.path.attr && strncasecmp(key, "urn:", 4) == 0
            && json_is_object(v) && !path.path.sub && !path.filter && !path.def) {
            /* An extension URN this server does not know, holding its attributes. */
            memset(&path, 0, sizeof(path));
            path.path.urn = key;
        }
        if (perr)
            return patch_error(run, SCIM_ERROR_INVALID_PATH, "attribute '%s': %s", key, perr);
        if ((err = apply_path(run, op, &path, key, v, 1)) != NULL)
            return err;
    }
    return NULL;
}

static scim_error *apply_operation(patch_run *run, const json_t *operation)
{
    if (!json_is_object(operation))
        return patch_error(run, SCIM_ERROR_INVALID_SYNTAX, "an operation must be an object");
    const json_t *name = get_ci(operation, "op");
    const json_t *path_json = get_ci(operation, "path");
    const json_t *value = get_ci(operation, "value");
    const char *op_name = json_string_value(name);
    patch_op op;
    if (scim_strcaseeq(op_name, "add"))
        op = PATCH_ADD;
    else if (scim_strcaseeq(op_name, "replace"))
        op = PATCH_REPLACE;
    else if (scim_strcaseeq(op_name, "remove"))
        op = PATCH_REMOVE;
    else if (op_name)
        return patch_error(run, SCIM_ERROR_INVALID_SYNTAX,
                           "op must be add, replace or remove, not '%s'", op_name);
    else
        return patch_error(run, SCIM_ERROR_INVALID_SYNTAX, "op is missing");
    if (op != PATCH_REMOVE && value == NULL)
        return patch_error(run, SCIM_ERROR_INVALID_VALUE, "%s needs a value", op_name);
    if (path_json == NULL || json_is_null(path_json)) {
        if (op == PATCH_REMOVE)
            return patch_error(run, SCIM_ERROR_NO_TARGET, "remove needs a path");
        return apply_pathless(run, op, value);
    }
    if (!json_is_string(path_json))
        return patch_error(run, SCIM_ERROR_INVALID_PATH, "path must be a string");
    const char *text = json_string_value(path_json);
    scim_patch_path path;
    const char *err = scim_path_parse(run->p, text, &path);
    if (err)
        return patch_error(run, SCIM_ERROR_INVALID_PATH, "path '%s': %s", text, err);
    return apply_path(run, op, &path, text, value, 0);
}

scim_error *scim_patch_apply(apr_pool_t *p, const json_t *resource, const char *body,
                             apr_size_t len, json_t **out)
{
    json_error_t jerr;
    patch_run run = { p, NULL, "PatchOp" };
    size_t i;
    json_t *item;
    int listed = 0;
    *out = NULL;
    json_t *request = body ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    if (!json_is_object(request)) {
        json_decref(request);
        return scim_error_make(p, 400, SCIM_ERROR_INVALID_SYNTAX,
                               "the body is not a JSON object");
    }
    json_array_foreach(get_ci(request, "schemas"), i, item)
        listed |= scim_strcaseeq(json_string_value(item), SCIM_SCHEMA_PATCH_OP);
    const json_t *operations = get_ci(request, "Operations");
    scim_error *err = NULL;
    if (!listed)
        err = scim_error_make(p, 400, SCIM_ERROR_INVALID_SYNTAX,
                              "schemas must list " SCIM_SCHEMA_PATCH_OP);
    else if (!json_is_array(operations) || json_array_size(operations) == 0)
        err = scim_error_make(p, 400, SCIM_ERROR_INVALID_SYNTAX,
                              "Operations must be a non-empty array");
    else if (json_array_size(operations) > SCIM_PATCH_MAX_OPERATIONS)
        err = scim_error_make(p, 400, SCIM_ERROR_INVALID_SYNTAX,
                              "more than %d operations", SCIM_PATCH_MAX_OPERATIONS);
    if (err == NULL && !json_is_object(resource))
        err = scim_error_make(p, 500, SCIM_ERROR_TYPE_NONE, "the stored resource is corrupt");
    if (err) {
        json_decref(request);
        return err;
    }
    run.doc = json_deep_copy(resource);
    json_array_foreach(operations, i, item) {
        run.where = apr_psprintf(p, "Operations[%u]", (unsigned)i);
        if ((err = apply_operation(&run, item)) != NULL)
            break;
    }
    json_decref(request);
    if (err) {
        json_decref(run.doc);
        return err;
    }
    *out = run.doc;
    return NULL;
}

scim_error *scim_patch_user(apr_pool_t *p, const char *resource, const char *body,
                            apr_size_t len, scim_user_record *out)
{
    json_error_t jerr;
    json_t *doc = json_loads(resource ? resource : "", 0, &jerr), *patched;
    scim_error *err = scim_patch_apply(p, doc, body, len, &patched);
    json_decref(doc);
    if (err)
        return err;
    err = scim_user_from_json(p, patched, out);
    json_decref(patched);
    return err;
}
