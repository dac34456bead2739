/* Values and names of the identity headers handed to the backend. */
#ifndef CS_IDENTITY_HEADER_H
#define CS_IDENTITY_HEADER_H

#include <apr_pools.h>
#include <apr_tables.h>

/* True when a client-sent header name must be dropped because it could be read as the
 * identity header identity_name: case-insensitive, '_' and '-' equivalent. */
int identity_header_name_matches(const char *client_name, const char *identity_name);

/* A value safe to put in a header: returns NULL when raw holds a control character
 * (0x00-0x1F, 0x7F) or invalid UTF-8; otherwise raw with surrounding spaces trimmed. */
const char *identity_header_value(apr_pool_t *p, const char *raw);

/* teams (array of team_membership) as an RFC 8941 List of Strings with a "role" parameter:
 *   "developers";role="Member", "ops";role="Manager"
 * Non-ASCII or non-printable team names are emitted as RFC 9651 Display Strings (%"..."),
 * so commas, quotes and UTF-8 cannot be confused. Empty list gives "". */
const char *identity_header_teams(apr_pool_t *p, const apr_array_header_t *teams);

#endif
