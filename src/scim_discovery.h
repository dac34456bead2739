/* The SCIM discovery resources (RFC 7644 §4, RFC 7643 §5-7): ServiceProviderConfig,
 * ResourceTypes and Schemas, describing exactly what this server supports. Schemas are
 * rendered from the attribute table (scim_attr.h) that validation and filters also use. */
#ifndef CS_SCIM_DISCOVERY_H
#define CS_SCIM_DISCOVERY_H

#include <apr_pools.h>

#define SCIM_MAX_RESULTS 200

/* base_url: the org's SCIM root (https://host/acme/scim/v2). Each returns the JSON text. */
char *scim_service_provider_config(apr_pool_t *p, const char *base_url);
char *scim_resource_types(apr_pool_t *p, const char *base_url);
char *scim_resource_type_user(apr_pool_t *p, const char *base_url);
char *scim_schemas(apr_pool_t *p, const char *base_url);

/* One schema by URN (case-insensitive), or NULL when this server has no such schema. */
char *scim_schema(apr_pool_t *p, const char *base_url, const char *urn);

#endif
