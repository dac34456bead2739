/* SCIM errors (RFC 7644 §3.12): an HTTP status, the scimType the RFC defines for the case (if
 * any) and a detail for the client; rendered as the SCIM Error message. */
#ifndef CS_SCIM_ERROR_H
#define CS_SCIM_ERROR_H

#include <apr_pools.h>

#define SCIM_SCHEMA_ERROR "urn:ietf:params:scim:api:messages:2.0:Error"

typedef enum {
    SCIM_ERROR_TYPE_NONE = 0,       /* the RFC defines no scimType for this failure */
    SCIM_ERROR_INVALID_FILTER,
    SCIM_ERROR_TOO_MANY,
    SCIM_ERROR_UNIQUENESS,
    SCIM_ERROR_MUTABILITY,
    SCIM_ERROR_INVALID_SYNTAX,
    SCIM_ERROR_INVALID_PATH,
    SCIM_ERROR_NO_TARGET,
    SCIM_ERROR_INVALID_VALUE,
    SCIM_ERROR_INVALID_VERS,
    SCIM_ERROR_SENSITIVE
} scim_error_type;

typedef struct {
    int status;                 /* HTTP status: 400, 404, 409, 413, ... */
    scim_error_type type;
    const char *detail;         /* for the client; never holds a secret */
} scim_error;

/* "invalidFilter", ...; NULL for SCIM_ERROR_TYPE_NONE. */
const char *scim_error_type_name(scim_error_type type);

/* A 400 error of the given type, detail formatted like printf, allocated in p. */
scim_error *scim_error_make(apr_pool_t *p, int status, scim_error_type type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* {"schemas":[Error URN],"status":"400","scimType":"...","detail":"..."}; scimType left out
 * when the type is NONE, detail when NULL. */
char *scim_error_render(apr_pool_t *p, const scim_error *err);

#endif
