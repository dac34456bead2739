/* SCIM PATCH (RFC 7644 §3.5.2) over a User's JSON: add, replace and remove (op names
 * case-insensitive), with a path (attribute, sub-attribute, URN-qualified, or a value filter
 * like `emails[type eq "work"].value`) or without one (the value is an object of attributes,
 * whose keys may themselves be paths, as Okta's {"op":"replace","value":{"active":false}}).
 *
 * All or nothing: the operations run on a copy; any failure leaves the input untouched.
 * Errors: body structure -> invalidSyntax; a bad path -> invalidPath; a path naming a readOnly
 * attribute (id, meta, groups, ...) -> mutability (in a path-less value such attributes are
 * ignored, as on POST/PUT); remove without path, or a value filter matching nothing for add or
 * replace -> noTarget; a missing or ill-typed value -> invalidValue. Remove of something absent
 * succeeds and changes nothing. Setting primary=true on a value sets it false on the others. */
#ifndef CS_SCIM_PATCH_H
#define CS_SCIM_PATCH_H

#include <apr_pools.h>
#include <jansson.h>
#include "scim_error.h"
#include "scim_user.h"

#define SCIM_SCHEMA_PATCH_OP "urn:ietf:params:scim:api:messages:2.0:PatchOp"
#define SCIM_PATCH_MAX_OPERATIONS 256

/* Applies the PatchOp body to a copy of resource (a JSON object); on success *out is a new
 * reference to the patched copy. */
scim_error *scim_patch_apply(apr_pool_t *p, const json_t *resource, const char *body,
                             apr_size_t len, json_t **out);

/* For the store: the stored resource text (scim_user_record.resource) patched and validated
 * again as a User (scim_user_from_json), giving the record to write back. */
scim_error *scim_patch_user(apr_pool_t *p, const char *resource, const char *body,
                            apr_size_t len, scim_user_record *out);

#endif
