/* Group Sync: IdP attributes -> team memberships, computed at login. */
#ifndef CS_SAML_GROUPSYNC_H
#define CS_SAML_GROUPSYNC_H

#include <apr_pools.h>
#include <apr_tables.h>

typedef enum { TEAM_ROLE_MEMBER = 0, TEAM_ROLE_MANAGER = 1 } team_role;

typedef struct {
    const char *team;
    team_role role;
} team_membership;

typedef struct {
    const char *idp_key;   /* SAML attribute Name, compared exactly */
    const char *idp_value; /* one of that attribute's values, compared exactly */
    const char *team;
    team_role role;
} groupsync_rule;

/* "Member" / "Manager" (case-insensitive) -> role; returns -1 when neither. */
int groupsync_role_parse(const char *text);
const char *groupsync_role_name(team_role role); /* "Member" / "Manager" */

/* Parse the directive arguments IDP_KEY IDP_VALUE TEAM [ROLE] (argc 3 or 4).
 * Returns NULL and fills *rule, or a message saying what is wrong. */
const char *groupsync_rule_parse(apr_pool_t *p, int argc, const char *const *argv,
                                 groupsync_rule *rule);

/* attributes: name -> value, one entry per value (apr_table_add), as read from the assertion.
 * Returns an array of team_membership, one per team (the highest role wins when several
 * rules name the same team), sorted by team name (byte order). */
apr_array_header_t *groupsync_apply(apr_pool_t *p, const apr_array_header_t *rules,
                                    const apr_table_t *attributes);

#endif
