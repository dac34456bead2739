/* Server-side session and pending-login records, as stored in the socache. */
#ifndef CS_SESSION_RECORD_H
#define CS_SESSION_RECORD_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include "saml_groupsync.h"

typedef struct {
    const char *org;            /* org slug the session belongs to */
    const char *sp;             /* ACS URL of the org instance (vhost) that issued it */
    const char *user;           /* NameID (email) */
    const char *email;
    const char *first_name;     /* may be NULL */
    const char *last_name;      /* may be NULL */
    const char *idp_entity_id;
    const char *session_index;  /* may be NULL */
    apr_array_header_t *teams;  /* of team_membership; never NULL after decode */
    apr_time_t created;
    apr_time_t expires;         /* absolute; the session is dead at or after this */
    apr_time_t checked;         /* when SCIM last confirmed the user active; 0: not yet */
} session_record;

/* A login this SP started and has not seen answered yet, keyed by its opaque RelayState. */
typedef struct {
    const char *org;
    const char *request_id;     /* AuthnRequest ID, matched against InResponseTo */
    const char *return_to;      /* already sanitized path inside the org */
    apr_time_t expires;
} login_state;

/* JSON encodings (jansson). decode returns NULL on success or a reason string; it refuses
 * wrong types, missing required fields (org, user, expires / org, request_id, return_to,
 * expires) and trailing garbage. */
char *session_record_encode(apr_pool_t *p, const session_record *rec);
const char *session_record_decode(apr_pool_t *p, const char *buf, apr_size_t len,
                                  session_record *rec);
/* The same decoding done by jansson alone: what session_record_decode answers for anything
 * but the records session_record_encode writes (and, for them, the reference it must equal;
 * the fuzz target compares the two). */
const char *session_record_decode_reference(apr_pool_t *p, const char *buf, apr_size_t len,
                                            session_record *rec);
char *login_state_encode(apr_pool_t *p, const login_state *st);
const char *login_state_decode(apr_pool_t *p, const char *buf, apr_size_t len, login_state *st);

#endif
