/* The Assertion Consumer Service core: a POSTed SAMLResponse in, a verified login or a named
 * rejection out. Lasso verifies signatures and decrypts; the Web SSO profile checks that
 * Lasso leaves to its callers (audience, time window, recipient, destination, assertion
 * count, NameID) are made here on the XML itself. */
#ifndef CS_SAML_ACS_H
#define CS_SAML_ACS_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include "saml_reason.h"
#include "saml_sp.h"

typedef struct {
    apr_time_t now;
    apr_interval_time_t clock_skew;     /* tolerance on every time comparison */
    apr_interval_time_t max_issue_age;  /* Response IssueInstant may be at most this old */
    apr_size_t max_message_bytes;       /* decoded XML size limit */
    int allow_sha1;                     /* accept RSA-SHA1 signatures and SHA-1 digests */
} saml_acs_policy;

typedef struct {
    /* Set as soon as they are known, so even a rejection can be logged with them. */
    const char *response_id;
    const char *assertion_id;
    const char *in_response_to;         /* NULL for an unsolicited (IdP-initiated) login */
    const char *issuer;
    /* Set on success only. */
    const char *name_id;                /* the username: a well-formed email address */
    const char *session_index;
    apr_time_t valid_until;             /* after this the assertion is dead: replay horizon */
    apr_time_t session_not_on_or_after; /* 0 when the IdP set no limit */
    apr_table_t *attributes;            /* Name -> value, one entry per AttributeValue */
} saml_login;

/* Decodes and checks the base64 SAMLResponse (b64 must be NUL-terminated). Always sets *login
 * (partially on rejection). *detail, when set, is a log-safe precision for the reason. */
saml_reason saml_acs_consume(const saml_sp *sp, const char *b64, const saml_acs_policy *policy,
                             apr_pool_t *p, saml_login **login, const char **detail);

/* Strict base64 (RFC 4648 alphabet, padding required, whitespace between characters allowed).
 * Returns 0 and the decoded bytes (NUL-terminated, *out_len without the NUL), or -1. */
int saml_base64_decode_strict(apr_pool_t *p, const char *in, char **out, apr_size_t *out_len);

/* A NameID acceptable as username: local@domain, printable ASCII without spaces, one '@',
 * a dotted domain of letters, digits and hyphens, at most 254 characters. */
int saml_is_email_address(const char *s);

#endif
