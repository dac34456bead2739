/* Where a login may send the browser back to: only a path inside the same org. */
#ifndef CS_SAML_RETURNTO_H
#define CS_SAML_RETURNTO_H

#include <apr_pools.h>

/* org_root is the org's path, starting and ending with '/' (e.g. "/acme/").
 * Returns candidate when it is a plain absolute path at or below org_root (query allowed,
 * fragment dropped); otherwise org_root. Refused: NULL/empty, absolute URLs and any scheme,
 * "//" or "/\" anywhere, backslashes, control characters, whitespace, non-ASCII bytes,
 * percent-encoded '/', '\', '.', control characters or '%' itself, dot segments. */
const char *saml_returnto_sanitize(apr_pool_t *p, const char *candidate, const char *org_root);

#endif
