#include <string.h>
#include <apr_strings.h>
#include "util_dbd.h"

int dbd_run(apr_pool_t *p, const scim_db *db, const char *sql, int nargs, const char **args,
            int *nrows)
{
    apr_dbd_prepared_t *stmt = NULL;
    int dummy = 0;
    int rv = apr_dbd_prepare(db->driver, p, db->handle, sql, NULL, &stmt);
    if (rv == 0)
        rv = apr_dbd_pquery(db->driver, p, db->handle, nrows ? nrows : &dummy, stmt, nargs,
                            args);
    return rv;
}

/* A column's text, NULL for SQL NULL (PostgreSQL's apr_dbd_get_entry gives "" for it; the
 * datum call tells NULL apart in both drivers). */
static const char *column_text(const scim_db *db, apr_dbd_row_t *row, int col)
{
    char *text = NULL;
    apr_status_t rv = apr_dbd_datum_get(db->driver, row, col, APR_DBD_TYPE_STRING, &text);
    if (rv == APR_ENOENT)
        return NULL;
    return rv == APR_SUCCESS ? text : apr_dbd_get_entry(db->driver, row, col);
}

/* Random access ("1") makes the PostgreSQL driver fetch the whole result at once: in
 * sequential mode it streams, and a lost connection then looks like an empty result instead
 * of an error. */
int dbd_select(apr_pool_t *p, const scim_db *db, const char *sql, int nargs, const char **args,
               int ncols, apr_array_header_t **rows)
{
    apr_dbd_prepared_t *stmt = NULL;
    apr_dbd_results_t *res = NULL;
    int rv = apr_dbd_prepare(db->driver, p, db->handle, sql, NULL, &stmt);
    if (rv == 0)
        rv = apr_dbd_pselect(db->driver, p, db->handle, &res, stmt, 1, nargs, args);
    if (rv != 0)
        return rv;
    *rows = apr_array_make(p, 8, sizeof(const char **));
    apr_dbd_row_t *row = NULL;
    while (apr_dbd_get_row(db->driver, p, res, &row, -1) == 0) {
        const char **values = apr_pcalloc(p, ncols * sizeof(*values));
        for (int i = 0; i < ncols; i++) {
            const char *v = column_text(db, row, i);
            values[i] = v ? apr_pstrdup(p, v) : NULL;
        }
        APR_ARRAY_PUSH(*rows, const char **) = values;
    }
    return 0;
}

int dbd_finish(apr_pool_t *p, const scim_db *db, apr_dbd_transaction_t *trans, int rv)
{
    if (rv != 0)
        apr_dbd_transaction_mode_set(db->driver, trans, APR_DBD_TRANSACTION_ROLLBACK);
    int end = apr_dbd_transaction_end(db->driver, p, trans);
    return rv != 0 ? rv : end;
}

const char *dbd_error_text(const scim_db *db, int rv)
{
    const char *msg = db->handle ? apr_dbd_error(db->driver, db->handle, rv) : NULL;
    return msg ? msg : "no connection";
}

/* SQLite and PostgreSQL word a unique-index violation differently; apr_dbd gives only text. */
int dbd_is_unique_violation(const scim_db *db, int rv)
{
    const char *msg = apr_dbd_error(db->driver, db->handle, rv);
    return msg && (strstr(msg, "UNIQUE constraint failed") || strstr(msg, "unique constraint")
                   || strstr(msg, "not unique"));
}

int dbd_bool(const char *value)
{
    return value && (strcmp(value, "1") == 0 || strcmp(value, "t") == 0
                     || strcmp(value, "true") == 0);
}
