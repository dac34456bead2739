/* apr_dbd helpers shared by the SQL stores (SCIM users, the org registry): prepared
 * statements with bound parameters on the caller's connection. Each returns apr_dbd's status,
 * 0 on success; dbd_error_text words a non-zero one. */
#ifndef CS_UTIL_DBD_H
#define CS_UTIL_DBD_H

#include <apr_dbd.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include "scim_db.h"

/* Runs a statement that returns no rows; *nrows (when not NULL) gets the rows it changed. */
int dbd_run(apr_pool_t *p, const scim_db *db, const char *sql, int nargs, const char **args,
            int *nrows);

/* Runs a SELECT and reads every row (SQLite keeps a statement open until it is drained).
 * *rows: array of (const char **) with ncols entries each, NULL for SQL NULL (also on
 * PostgreSQL, whose driver otherwise reads NULL as ""). */
int dbd_select(apr_pool_t *p, const scim_db *db, const char *sql, int nargs, const char **args,
               int ncols, apr_array_header_t **rows);

/* Ends a transaction, rolling back when rv says a step failed; returns the first failure. */
int dbd_finish(apr_pool_t *p, const scim_db *db, apr_dbd_transaction_t *trans, int rv);

/* The driver's message for status rv ("no connection" without a handle). */
const char *dbd_error_text(const scim_db *db, int rv);

/* Whether rv is a unique-index (or primary key) violation. */
int dbd_is_unique_violation(const scim_db *db, int rv);

/* SQLite answers 1/0, PostgreSQL t/f: whether a boolean column's text is true. */
int dbd_bool(const char *value);

#endif
