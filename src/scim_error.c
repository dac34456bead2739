#include <stdarg.h>
#include <stdlib.h>
#include <apr_strings.h>
#include <jansson.h>
#include "scim_error.h"

static const char *const type_names[] = {
    [SCIM_ERROR_TYPE_NONE] = NULL,
    [SCIM_ERROR_INVALID_FILTER] = "invalidFilter",
    [SCIM_ERROR_TOO_MANY] = "tooMany",
    [SCIM_ERROR_UNIQUENESS] = "uniqueness",
    [SCIM_ERROR_MUTABILITY] = "mutability",
    [SCIM_ERROR_INVALID_SYNTAX] = "invalidSyntax",
    [SCIM_ERROR_INVALID_PATH] = "invalidPath",
    [SCIM_ERROR_NO_TARGET] = "noTarget",
    [SCIM_ERROR_INVALID_VALUE] = "invalidValue",
    [SCIM_ERROR_INVALID_VERS] = "invalidVers",
    [SCIM_ERROR_SENSITIVE] = "sensitive",
};

const char *scim_error_type_name(scim_error_type type)
{
    if ((unsigned)type >= sizeof(type_names) / sizeof(type_names[0]))
        return NULL;
    return type_names[type];
}

scim_error *scim_error_make(apr_pool_t *p, int status, scim_error_type type, const char *fmt, ...)
{
    scim_error *err = apr_pcalloc(p, sizeof(*err));
    va_list ap;
    va_start(ap, fmt);
    err->detail = apr_pvsprintf(p, fmt, ap);
    va_end(ap);
    err->status = status;
    err->type = type;
    return err;
}

char *scim_error_render(apr_pool_t *p, const scim_error *err)
{
    json_t *doc = json_pack("{s:[s], s:s}", "schemas", SCIM_SCHEMA_ERROR,
                            "status", apr_itoa(p, err->status));
    const char *type = scim_error_type_name(err->type);
    if (doc && type)
        json_object_set_new(doc, "scimType", json_string(type));
    /* A detail that is not UTF-8 would make json_string fail: it is then left out. */
    if (doc && err->detail)
        json_object_set_new(doc, "detail", json_string(err->detail));
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (text == NULL)
        return apr_psprintf(p, "{\"schemas\":[\"%s\"],\"status\":\"%d\"}", SCIM_SCHEMA_ERROR,
                            err->status);
    char *copy = apr_pstrdup(p, text);
    free(text);
    return copy;
}
