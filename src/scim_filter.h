/* SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2): parsed into an AST, matched
 * against a JSON resource in memory, or translated to an SQL WHERE fragment with bound
 * parameters over the store's tables (scim_store.h).
 *
 * Grammar: eq ne co sw ew gt ge lt le pr; not > and > or; parentheses; value paths
 * `emails[type eq "work"]`; sub-attributes `name.givenName`; URN-qualified names; operators,
 * keywords and attribute names case-insensitive; JSON literals (strings with all JSON escapes,
 * numbers, true/false/null, the last three case-insensitively). `x eq null` means x is absent
 * and `x ne null` that it is present (like `x pr`). Every failure is a message naming the
 * character position (1-based), for a 400 invalidFilter (invalidPath for PATCH paths). */
#ifndef CS_SCIM_FILTER_H
#define CS_SCIM_FILTER_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>
#include "scim_attr.h"

#define SCIM_FILTER_MAX_LENGTH 4096     /* bytes of filter text */
#define SCIM_FILTER_MAX_NODES 256       /* comparisons, value paths and logical operators */
#define SCIM_FILTER_MAX_DEPTH 32        /* nesting of parentheses, not and [...] */

typedef struct {
    const char *urn;    /* extension schema URN (canonical when known); NULL: core User */
    const char *attr;   /* as written; NULL when the path names a whole extension (PATCH) */
    const char *sub;    /* sub-attribute as written, or NULL */
} scim_attr_path;

typedef enum {
    SCIM_CMP_EQ, SCIM_CMP_NE, SCIM_CMP_CO, SCIM_CMP_SW, SCIM_CMP_EW,
    SCIM_CMP_GT, SCIM_CMP_GE, SCIM_CMP_LT, SCIM_CMP_LE, SCIM_CMP_PR
} scim_compare_op;

typedef enum {
    SCIM_LITERAL_STRING, SCIM_LITERAL_NUMBER, SCIM_LITERAL_BOOLEAN, SCIM_LITERAL_NULL
} scim_literal_type;

typedef struct {
    scim_literal_type type;
    const char *text;   /* STRING: the decoded UTF-8 value; NUMBER: as written */
    double number;      /* NUMBER */
    int boolean;        /* BOOLEAN */
} scim_literal;

typedef enum {
    SCIM_FILTER_COMPARE,    /* path op value (or path pr) */
    SCIM_FILTER_AND,
    SCIM_FILTER_OR,
    SCIM_FILTER_NOT,
    SCIM_FILTER_VALUE_PATH  /* path[left]: some value of path matches left */
} scim_filter_kind;

typedef struct scim_filter scim_filter;
struct scim_filter {
    scim_filter_kind kind;
    scim_attr_path path;            /* COMPARE and VALUE_PATH; inside [...] relative to it */
    const scim_attr_def *def;       /* COMPARE: schema of the compared values; NULL unknown */
    scim_compare_op op;             /* COMPARE */
    scim_literal value;             /* COMPARE, except pr */
    const scim_filter *left;        /* AND, OR; NOT's operand; VALUE_PATH's value filter */
    const scim_filter *right;       /* AND, OR */
};

/* Parses a filter; NULL and *out set, or the reason it is malformed. */
const char *scim_filter_parse(apr_pool_t *p, const char *text, const scim_filter **out);

/* A PATCH "path": attrPath, or valuePath with an optional ".subAttr" after "]". */
typedef struct {
    scim_attr_path path;            /* the attribute (and sub-attribute when no filter) */
    const scim_attr_def *def;       /* schema of path.attr; NULL unknown */
    const scim_filter *filter;      /* value selection filter, or NULL */
    const char *value_sub;          /* sub-attribute after "]", or NULL */
} scim_patch_path;

const char *scim_path_parse(apr_pool_t *p, const char *text, scim_patch_path *out);

/* 1 when the resource (a User as JSON, with attribute names in any case) matches. A value path
 * filter is matched against one value of a multi-valued attribute by passing that value. */
int scim_filter_match(const scim_filter *f, const json_t *resource);

/* The filter written back with every operator parenthesised, e.g.
 * `(a eq 1 or (b eq 2 and c eq 3))`: shows how it was parsed. */
char *scim_filter_to_string(apr_pool_t *p, const scim_filter *f);

typedef enum { SCIM_SQL_SQLITE, SCIM_SQL_PGSQL } scim_sql_dialect;

/* Translates a filter into a boolean SQL expression over scim_users (referred to by its table
 * name) with apr_dbd placeholders %s; *params (of const char *) holds their values in order.
 * NULL on success, else why it cannot be translated (an attribute that is not filterable:
 * 400 invalidFilter). The expression never contains a literal '%'. */
const char *scim_filter_sql(apr_pool_t *p, const scim_filter *f, scim_sql_dialect dialect,
                            const char **where, apr_array_header_t **params);

/* Splits one attribute path (`userName`, `name.givenName`, `urn:...:User:userName`,
 * `urn:...:enterprise:2.0:User:manager.value`) as filters, PATCH and attributes= write them.
 * allow_extension: a whole known extension URN is accepted (attr NULL). NULL or the reason. */
const char *scim_attr_path_parse(apr_pool_t *p, const char *text, int allow_extension,
                                 scim_attr_path *out);

/* ASCII lower-case copy: userName and emails.value are stored and compared in this form. */
char *scim_lowercase(apr_pool_t *p, const char *s);

#endif
