/* SCIM Users as JSON (jansson): incoming Users validated and normalized into what the store
 * keeps; stored Users rendered as resources with meta, projected by attributes= and
 * excludedAttributes=; ListResponse; startIndex/count clamping. */
#ifndef CS_SCIM_USER_H
#define CS_SCIM_USER_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>
#include "scim_attr.h"
#include "scim_error.h"
#include "scim_filter.h"

#define SCIM_SCHEMA_LIST_RESPONSE "urn:ietf:params:scim:api:messages:2.0:ListResponse"

typedef struct {
    const char *value;          /* NULL when the email has none */
    const char *value_lower;    /* ASCII lower-cased value, or NULL */
    const char *type;           /* NULL when absent */
    int primary;                /* 1 when primary is true */
    int primary_given;          /* 0 when the value has no primary: is_primary is then NULL */
} scim_email;

/* A validated User as the store's columns (scim_store.h); absent attributes are NULL. */
typedef struct {
    const char *user_name;
    const char *user_name_lower;
    const char *external_id;
    const char *given_name;
    const char *family_name;
    const char *formatted_name;
    const char *display_name;
    int active;                 /* true when the client left it out */
    apr_array_header_t *emails; /* of scim_email, in document order */
    const char *resource;       /* canonical JSON: every client attribute, without id, meta,
                                 * password and groups; active always present */
} scim_user_record;

/* Validates and normalizes a POST/PUT body: JSON object; schemas lists the core User URN;
 * userName a non-empty string; known attributes of the right type (names matched
 * case-insensitively and respelled canonically); at most one primary value per multi-valued
 * attribute; nulls and empty values dropped; id, meta and groups ignored (server-owned),
 * password accepted and dropped; unknown attributes and extensions kept. On failure returns a
 * 400 error (invalidSyntax: not JSON / not an object / schemas; invalidValue: types, missing
 * or empty userName). */
scim_error *scim_user_parse(apr_pool_t *p, const char *body, apr_size_t len,
                            scim_user_record *out);

/* The same for a document already parsed (the result of a PATCH); doc is not modified. */
scim_error *scim_user_from_json(apr_pool_t *p, const json_t *doc, scim_user_record *out);

/* A User as read back from the store. */
typedef struct {
    const char *id;
    const char *created;        /* "YYYY-MM-DDThh:mm:ssZ" */
    const char *last_modified;
    apr_int64_t version;        /* 1 at creation, +1 per change */
    const char *resource;       /* scim_user_record.resource */
} scim_stored_user;

/* attributes= / excludedAttributes= (RFC 7644 §3.4.2.5): comma-separated attribute paths. */
typedef struct {
    apr_array_header_t *attributes; /* of scim_attr_path; NULL or empty: the default set */
    apr_array_header_t *excluded;   /* of scim_attr_path */
} scim_projection;

/* Either text may be NULL or empty. A malformed name: 400 invalidValue. */
scim_error *scim_projection_parse(apr_pool_t *p, const char *attributes, const char *excluded,
                                  scim_projection *out);

/* base_url + "/Users/" + id; base_url is the SCIM root, like https://host/acme/scim/v2. */
char *scim_user_location(apr_pool_t *p, const char *base_url, const char *id);

/* The weak ETag of a version: W/"3". */
char *scim_user_etag(apr_pool_t *p, apr_int64_t version);

/* The resource: schemas, id, the stored attributes and meta (resourceType, created,
 * lastModified, location, version). id, schemas and meta are always returned, the rest per
 * projection (NULL: all). A new reference; NULL only when the stored JSON is corrupt. */
json_t *scim_user_resource(const scim_stored_user *user, const char *base_url,
                           const scim_projection *projection);

/* The resource as text (NULL when the stored JSON is corrupt). */
char *scim_user_render(apr_pool_t *p, const scim_stored_user *user, const char *base_url,
                       const scim_projection *projection);

/* A page of a list: 1-based start_index, count at most max_count. */
typedef struct {
    apr_int64_t start_index;    /* >= 1; the SQL OFFSET is start_index - 1 */
    apr_int64_t count;          /* 0..max_count; the SQL LIMIT */
} scim_page;

/* startIndex and count query values (NULL: absent) per RFC 7644 §3.4.2.4: startIndex below 1
 * counts as 1, a negative count as 0, a count above max_count as max_count, absent count as
 * default_count. Values that are not integers: 400 invalidValue. */
scim_error *scim_page_parse(apr_pool_t *p, const char *start_index, const char *count,
                            apr_int64_t default_count, apr_int64_t max_count, scim_page *out);

/* ListResponse with totalResults, startIndex, itemsPerPage (the number of users given) and
 * Resources (users: of scim_stored_user, already the page). NULL when a stored JSON is
 * corrupt. */
char *scim_user_list_render(apr_pool_t *p, const apr_array_header_t *users,
                            apr_int64_t total_results, apr_int64_t start_index,
                            const char *base_url, const scim_projection *projection);

#endif
