#include <stdlib.h>
#include <apr_strings.h>
#include <jansson.h>
#include "scim_attr.h"
#include "scim_discovery.h"

#define SCHEMA_SPC "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
#define SCHEMA_RESOURCE_TYPE "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
#define SCHEMA_SCHEMA "urn:ietf:params:scim:schemas:core:2.0:Schema"
#define SCHEMA_LIST "urn:ietf:params:scim:api:messages:2.0:ListResponse"

static char *dump(apr_pool_t *p, json_t *json)
{
    char *text = json ? json_dumps(json, JSON_COMPACT) : NULL;
    json_decref(json);
    char *copy = text ? apr_pstrdup(p, text) : NULL;
    free(text);
    return copy;
}

static json_t *meta(const char *resource_type, const char *location)
{
    return json_pack("{s:s, s:s}", "resourceType", resource_type, "location", location);
}

char *scim_service_provider_config(apr_pool_t *p, const char *base_url)
{
    return dump(p, json_pack(
        "{s:[s], s:{s:b}, s:{s:b, s:i}, s:{s:b}, s:{s:b}, s:{s:b}, s:{s:b}, "
        "s:[{s:s, s:s, s:s, s:b}], s:o}",
        "schemas", SCHEMA_SPC,
        "patch", "supported", 1,
        "filter", "supported", 1, "maxResults", SCIM_MAX_RESULTS,
        "bulk", "supported", 0,
        "changePassword", "supported", 0,
        "sort", "supported", 0,
        "etag", "supported", 1,
        "authenticationSchemes", "type", "httpbasic", "name", "HTTP Basic",
        "description", "User name \"token\" and the organization's SCIM secret", "primary", 1,
        "meta", meta("ServiceProviderConfig",
                     apr_pstrcat(p, base_url, "/ServiceProviderConfig", NULL))));
}

static json_t *user_resource_type(apr_pool_t *p, const char *base_url)
{
    return json_pack("{s:[s], s:s, s:s, s:s, s:s, s:s, s:[{s:s, s:b}], s:o}",
                     "schemas", SCHEMA_RESOURCE_TYPE, "id", "User", "name", "User",
                     "endpoint", "/Users", "description", "User Account",
                     "schema", SCIM_SCHEMA_USER,
                     "schemaExtensions", "schema", SCIM_SCHEMA_ENTERPRISE_USER, "required", 0,
                     "meta", meta("ResourceType",
                                  apr_pstrcat(p, base_url, "/ResourceTypes/User", NULL)));
}

static json_t *list(json_t *resources)
{
    size_t n = json_array_size(resources);
    return json_pack("{s:[s], s:I, s:i, s:I, s:o}", "schemas", SCHEMA_LIST,
                     "totalResults", (json_int_t)n, "startIndex", 1,
                     "itemsPerPage", (json_int_t)n, "Resources", resources);
}

char *scim_resource_types(apr_pool_t *p, const char *base_url)
{
    return dump(p, list(json_pack("[o]", user_resource_type(p, base_url))));
}

char *scim_resource_type_user(apr_pool_t *p, const char *base_url)
{
    return dump(p, user_resource_type(p, base_url));
}

static const char *type_name(scim_attr_type t)
{
    switch (t) {
    case SCIM_ATTR_STRING: return "string";
    case SCIM_ATTR_BOOLEAN: return "boolean";
    case SCIM_ATTR_DATETIME: return "dateTime";
    case SCIM_ATTR_REFERENCE: return "reference";
    case SCIM_ATTR_BINARY: return "binary";
    case SCIM_ATTR_COMPLEX: return "complex";
    }
    return "string";
}

static json_t *attributes_json(const scim_attr_def *defs)
{
    static const char *const mutability[] = {"readWrite", "readOnly", "writeOnly"};
    static const char *const returned[] = {"default", "always", "never"};
    json_t *out = json_array();
    for (const scim_attr_def *d = defs; d && d->name; d++) {
        json_t *a = json_pack("{s:s, s:s, s:b, s:s, s:b, s:b, s:s, s:s, s:s}",
                              "name", d->name, "type", type_name(d->type),
                              "multiValued", d->multi_valued, "description", d->name,
                              "required", d->required, "caseExact", d->case_exact,
                              "mutability", mutability[d->mutability],
                              "returned", returned[d->returned],
                              "uniqueness", scim_strcaseeq(d->name, "userName") ? "server"
                              : scim_strcaseeq(d->name, "id") ? "global" : "none");
        if (d->subs)
            json_object_set_new(a, "subAttributes", attributes_json(d->subs));
        json_array_append_new(out, a);
    }
    return out;
}

static json_t *schema_json(apr_pool_t *p, const char *base_url, const char *urn,
                           const char *name, const char *description)
{
    return json_pack("{s:[s], s:s, s:s, s:s, s:o, s:o}", "schemas", SCHEMA_SCHEMA,
                     "id", urn, "name", name, "description", description,
                     "attributes", attributes_json(scim_attr_schema(urn)),
                     "meta", meta("Schema", apr_pstrcat(p, base_url, "/Schemas/", urn, NULL)));
}

char *scim_schemas(apr_pool_t *p, const char *base_url)
{
    return dump(p, list(json_pack("[o, o]",
        schema_json(p, base_url, SCIM_SCHEMA_USER, "User", "User Account"),
        schema_json(p, base_url, SCIM_SCHEMA_ENTERPRISE_USER, "EnterpriseUser",
                    "Enterprise User"))));
}

char *scim_schema(apr_pool_t *p, const char *base_url, const char *urn)
{
    if (scim_strcaseeq(urn, SCIM_SCHEMA_USER))
        return dump(p, schema_json(p, base_url, SCIM_SCHEMA_USER, "User", "User Account"));
    if (scim_strcaseeq(urn, SCIM_SCHEMA_ENTERPRISE_USER))
        return dump(p, schema_json(p, base_url, SCIM_SCHEMA_ENTERPRISE_USER, "EnterpriseUser",
                                   "Enterprise User"));
    return NULL;
}
