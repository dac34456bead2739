/* The SCIM User schema as data (RFC 7643 §4.1 core User, §4.3 enterprise extension): each
 * attribute's type, plurality, caseExact, mutability and returned characteristics. Filters,
 * validation, projection and PATCH all read it, so they agree on what an attribute is. */
#ifndef CS_SCIM_ATTR_H
#define CS_SCIM_ATTR_H

#define SCIM_SCHEMA_USER "urn:ietf:params:scim:schemas:core:2.0:User"
#define SCIM_SCHEMA_ENTERPRISE_USER "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

typedef enum {
    SCIM_ATTR_STRING,
    SCIM_ATTR_BOOLEAN,
    SCIM_ATTR_DATETIME,
    SCIM_ATTR_REFERENCE,        /* a URI, compared like a caseExact string */
    SCIM_ATTR_BINARY,           /* base64 text */
    SCIM_ATTR_COMPLEX
} scim_attr_type;

typedef enum {
    SCIM_MUTABILITY_READ_WRITE,
    SCIM_MUTABILITY_READ_ONLY,  /* set by the server; client values are ignored */
    SCIM_MUTABILITY_WRITE_ONLY  /* accepted, never returned (password) */
} scim_mutability;

typedef enum {
    SCIM_RETURNED_DEFAULT,
    SCIM_RETURNED_ALWAYS,
    SCIM_RETURNED_NEVER
} scim_returned;

typedef struct scim_attr_def {
    const char *name;                   /* canonical spelling; NULL ends a list */
    scim_attr_type type;
    int multi_valued;
    int case_exact;
    int required;
    scim_mutability mutability;
    scim_returned returned;
    const struct scim_attr_def *subs;   /* sub-attributes of a complex attribute */
} scim_attr_def;

/* The attribute `name` (case-insensitive) of the schema `urn` (NULL or the core User URN: the
 * core schema; the enterprise URN: the extension), or NULL when the schema has no such
 * attribute. */
const scim_attr_def *scim_attr_find(const char *urn, const char *name);

/* The sub-attribute `name` (case-insensitive) of a complex attribute, or NULL. */
const scim_attr_def *scim_attr_find_sub(const scim_attr_def *parent, const char *name);

/* The extension schema URN this server knows (canonical spelling) matching `urn`
 * case-insensitively, or NULL. The core User URN is not an extension. */
const char *scim_attr_extension_urn(const char *urn);

/* The attribute list of a schema (NULL: core User), ending with a NULL name. */
const scim_attr_def *scim_attr_schema(const char *urn);

/* ASCII-only case-insensitive comparisons, the rule for attribute names, operators, URNs and
 * caseExact=false values. */
int scim_strcaseeq(const char *a, const char *b);
int scim_strcasecmp(const char *a, const char *b);

#endif
