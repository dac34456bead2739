/* xs:dateTime as SAML uses it (UTC), to and from apr_time_t. */
#ifndef CS_SAML_TIME_H
#define CS_SAML_TIME_H

#include <apr_pools.h>
#include <apr_time.h>

/* Parses "YYYY-MM-DDThh:mm:ss[.fraction](Z|+hh:mm|-hh:mm)"; returns 0 and sets *out, or -1.
 * A value without a zone is refused: SAML requires UTC. */
int saml_time_parse(const char *text, apr_time_t *out);

/* "YYYY-MM-DDThh:mm:ssZ" */
char *saml_time_format(apr_pool_t *p, apr_time_t t);

#endif
