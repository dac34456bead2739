/* Fetches an org's IdP metadata from its URL for cloudsmith-saml-admin, with libcurl, bounded:
 * a timeout on the connection and on the whole transfer, a body limit, at most a few
 * redirects, TLS always verified. Plain http:// (also as a redirect target) only when the
 * caller allows it: the metadata carries the IdP's signing certificate, so a copy changed on
 * the way is an account takeover. Not linked into the module. */
#ifndef CS_ORG_FETCH_H
#define CS_ORG_FETCH_H

#include <apr_pools.h>

#define ORG_FETCH_MAX_REDIRECTS 3

typedef struct {
    long timeout_seconds;  /* connect and total */
    const char *ca_file;   /* PEM CA bundle trusted instead of the system's; NULL: system */
    int allow_http;        /* accept http:// URLs and redirects to them */
    apr_size_t max_bytes;  /* a larger body is refused */
} org_fetch_options;

/* NULL when url's scheme is allowed by o, else why not (for the user). */
const char *org_fetch_check_url(apr_pool_t *p, const char *url, const org_fetch_options *o);

/* GETs url. Returns NULL and sets *body (NUL-terminated, without NUL bytes inside), or a
 * message that names the URL and what went wrong: "HTTP 404 from URL", "timed out after 10 s
 * fetching URL", a body over the limit, a TLS verification failure, too many redirects. */
const char *org_fetch(apr_pool_t *p, const char *url, const org_fetch_options *o,
                      const char **body);

#endif
