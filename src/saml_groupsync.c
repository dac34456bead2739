#include <stdlib.h>
#include <string.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include "saml_groupsync.h"

int groupsync_role_parse(const char *text)
{
    if (text == NULL)
        return -1;
    if (strcasecmp(text, "Member") == 0)
        return TEAM_ROLE_MEMBER;
    if (strcasecmp(text, "Manager") == 0)
        return TEAM_ROLE_MANAGER;
    return -1;
}

const char *groupsync_role_name(team_role role)
{
    return role == TEAM_ROLE_MANAGER ? "Manager" : "Member";
}

const char *groupsync_rule_parse(apr_pool_t *p, int argc, const char *const *argv,
                                 groupsync_rule *rule)
{
    static const char *const arg_names[] = {"IDP_KEY", "IDP_VALUE", "TEAM"};
    if (argc < 3 || argc > 4 || argv == NULL)
        return apr_psprintf(p, "expected 3 or 4 arguments, got %d", argc);
    for (int i = 0; i < 3; i++) {
        if (argv[i] == NULL || argv[i][0] == '\0')
            return apr_psprintf(p, "%s must not be empty", arg_names[i]);
    }
    int role = TEAM_ROLE_MEMBER;
    if (argc == 4) {
        role = groupsync_role_parse(argv[3]);
        if (role < 0)
            return apr_psprintf(p, "role '%s' must be Member or Manager",
                                argv[3] ? argv[3] : "");
    }
    rule->idp_key = apr_pstrdup(p, argv[0]);
    rule->idp_value = apr_pstrdup(p, argv[1]);
    rule->team = apr_pstrdup(p, argv[2]);
    rule->role = (team_role)role;
    return NULL;
}

/* apr_table_get folds case and returns only the first value; rules need exact names and
 * every value of a multi-valued attribute. */
static int attribute_has_value(const apr_table_t *attributes, const char *name,
                               const char *value)
{
    const apr_array_header_t *entries = apr_table_elts(attributes);
    const apr_table_entry_t *e = (const apr_table_entry_t *)entries->elts;
    for (int i = 0; i < entries->nelts; i++) {
        if (e[i].key && e[i].val && strcmp(e[i].key, name) == 0 && strcmp(e[i].val, value) == 0)
            return 1;
    }
    return 0;
}

static int by_team_name(const void *a, const void *b)
{
    return strcmp(((const team_membership *)a)->team, ((const team_membership *)b)->team);
}

apr_array_header_t *groupsync_apply(apr_pool_t *p, const apr_array_header_t *rules,
                                    const apr_table_t *attributes)
{
    apr_array_header_t *memberships = apr_array_make(p, 4, sizeof(team_membership));
    if (rules == NULL || attributes == NULL)
        return memberships;
    apr_hash_t *index_of_team = apr_hash_make(p);
    for (int i = 0; i < rules->nelts; i++) {
        const groupsync_rule *rule = &APR_ARRAY_IDX(rules, i, groupsync_rule);
        if (!attribute_has_value(attributes, rule->idp_key, rule->idp_value))
            continue;
        int *index = apr_hash_get(index_of_team, rule->team, APR_HASH_KEY_STRING);
        if (index) {
            team_membership *m = &APR_ARRAY_IDX(memberships, *index, team_membership);
            if (rule->role > m->role) /* team_role values rise with rank */
                m->role = rule->role;
            continue;
        }
        index = apr_palloc(p, sizeof(*index));
        *index = memberships->nelts;
        apr_hash_set(index_of_team, rule->team, APR_HASH_KEY_STRING, index);
        team_membership *m = apr_array_push(memberships);
        m->team = rule->team;
        m->role = rule->role;
    }
    qsort(memberships->elts, memberships->nelts, sizeof(team_membership), by_team_name);
    return memberships;
}
