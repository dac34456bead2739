/* application/x-www-form-urlencoded bodies and query strings. */
#ifndef CS_UTIL_FORM_H
#define CS_UTIL_FORM_H

#include <apr_pools.h>

/* The decoded value of the first field called `name` ('+' is a space, %XX a byte), "" for a
 * field without '=', or NULL when absent or when its encoding is invalid (a stray '%', or %00).
 * *invalid is set to 1 when a field called `name` was present but badly encoded. */
const char *form_field(apr_pool_t *p, const char *body, const char *name, int *invalid);

#endif
