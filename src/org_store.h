/* The org registry: organizations managed at run time in the database (tables orgs and
 * org_groupsync, schema in scim_store.h), through apr_dbd on a connection the caller holds
 * (mod_dbd's, or the one cloudsmith-saml-admin opens). Prepared statements and bound
 * parameters only.
 *
 * Readers are what the module asks: one org's settings, and its version (every few seconds).
 * Writers are what cloudsmith-saml-admin does: each checks its input first and refuses with a
 * message for the user, changing nothing; otherwise it runs in one transaction that also
 * raises the org's version and sets `updated`, so a reader that sees a new version sees the
 * change. Versions only grow, across orgs and across a delete and re-create of one slug:
 * compare them for inequality.
 *
 * Slugs: [a-z0-9][a-z0-9-]{0,62}, not ending in '-', and neither "saml" nor "scim" (the
 * module's own path words, /ORG/saml/... and /ORG/scim/v2/...: an org with such a name would
 * make a URL that lost its org, like /saml/acs/, land in an org's pages). */
#ifndef CS_ORG_STORE_H
#define CS_ORG_STORE_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include "saml_groupsync.h"
#include "scim_db.h"

#define ORG_SLUG_MAX_LEN 63
/* The largest IdP metadata the registry stores (and the admin command fetches). */
#define ORG_METADATA_MAX_BYTES (1024 * 1024)
/* The longest metadata URL, and fetch failure message, the registry stores. */
#define ORG_METADATA_URL_MAX_LEN 2048
#define ORG_FETCH_FAILURE_MAX_LEN 4096

typedef struct {
    const char *slug;
    int saml_enabled, saml_enforced, groupsync_enabled, scim_enabled;
    const char *idp_metadata_xml;    /* NULL until set */
    const char *idp_metadata_url;    /* NULL unless the metadata comes from a URL */
    const char *metadata_fetched_at; /* NULL if never fetched */
    const char *metadata_error;      /* last fetch failure, NULL when the last fetch worked */
    const char *scim_token_hash;     /* "sha256:<hex>" or NULL */
    apr_array_header_t *groupsync;   /* of groupsync_rule (src/saml_groupsync.h), stable order */
    apr_int64_t version;
    const char *created, *updated;   /* "YYYY-MM-DDThh:mm:ssZ" */
} org_record;

typedef enum {
    ORG_STORE_OK,
    ORG_STORE_NOT_FOUND, /* no such org (groupsync_remove: no such mapping); nothing changed */
    ORG_STORE_FAILED,    /* the database failed; nothing changed */
    ORG_STORE_REFUSED    /* a writer refused its input (invalid, or the org exists already) */
} org_store_status;

/* *error: a message for the log when FAILED (database error text), or for the user when a
 * writer refuses or finds nothing (NOT_FOUND). Untouched on OK. */

/* Whether slug is a valid registry slug (see above). */
int org_slug_is_valid(const char *slug);
/* NULL when valid, else a message that says why not. */
const char *org_slug_check(apr_pool_t *p, const char *slug);

/* The org and its Group Sync mappings (ordered by idp_key, idp_value, team, bytewise). The
 * mappings are read after the org row: a change committed in between leaves out->version
 * older than the data, so the next version check reloads; never the reverse. A slug that is
 * not valid is NOT_FOUND without a query. */
org_store_status org_store_get(apr_pool_t *p, const scim_db *db, const char *slug,
                               org_record *out, const char **error);

/* One indexed single-row SELECT: the module calls it per org every few seconds. */
org_store_status org_store_version(apr_pool_t *p, const scim_db *db, const char *slug,
                                   apr_int64_t *version, const char **error);

/* The registry's version: the highest version any org was given, raised by every writer,
 * deletes included. While it stays the same, no org changed: the module asks for it once per
 * interval instead of asking each org. */
org_store_status org_store_registry_version(apr_pool_t *p, const scim_db *db,
                                            apr_int64_t *version, const char **error);

/* Every org's slug, in byte order (array of const char *). */
org_store_status org_store_list(apr_pool_t *p, const scim_db *db, apr_array_header_t **slugs,
                                const char **error);

typedef struct {
    const char *slug;
    const char *url;
} org_metadata_source;

/* The orgs whose IdP metadata comes from a URL (array of org_metadata_source, by slug): what
 * a periodic refresh fetches again. */
org_store_status org_store_metadata_sources(apr_pool_t *p, const scim_db *db,
                                            apr_array_header_t **sources, const char **error);

/* A new org: SAML disabled (it has no IdP metadata yet) and enforced, Group Sync and SCIM
 * disabled. REFUSED when the slug is invalid or taken. */
org_store_status org_store_create(apr_pool_t *p, const scim_db *db, const char *slug,
                                  apr_time_t now, const char **error);

/* Deletes the org with its Group Sync mappings and the SCIM users stored under its slug (a
 * slug given to another customer later must not find them). *scim_users_deleted (when not
 * NULL) gets how many users went. */
org_store_status org_store_delete(apr_pool_t *p, const scim_db *db, const char *slug,
                                  int *scim_users_deleted, const char **error);

/* Enabling SAML is REFUSED while the org has no IdP metadata. */
org_store_status org_store_set_saml_enabled(apr_pool_t *p, const scim_db *db, const char *slug,
                                            int enabled, apr_time_t now, const char **error);

/* Enforced: every page needs a login (CloudsmithSAMLEnforce On); off: pages are served to
 * anyone and carry the identity only with a session. */
org_store_status org_store_set_saml_enforced(apr_pool_t *p, const scim_db *db,
                                             const char *slug, int enforced, apr_time_t now,
                                             const char **error);

/* Stores IdP metadata after saml_idp_metadata_check accepts it (REFUSED with its reason,
 * e.g. an XML error with its line, otherwise; the previous metadata stays). url: where it was
 * fetched from at `now` (http:// or https://), or NULL for metadata given directly, which
 * clears the URL. Either way the last fetch failure is cleared. */
org_store_status org_store_set_metadata(apr_pool_t *p, const scim_db *db, const char *slug,
                                        const char *xml, const char *url, apr_time_t now,
                                        const char **error);

/* NULL when url may be stored as a metadata URL (http:// or https://, at most
 * ORG_METADATA_URL_MAX_LEN bytes, no space or control character), else why not. */
const char *org_metadata_url_check(apr_pool_t *p, const char *url);

/* Records why fetching the org's metadata failed (metadata_error: one line of at most
 * ORG_FETCH_FAILURE_MAX_LEN bytes); the metadata, its URL and fetch time stay as they were. */
org_store_status org_store_record_fetch_failure(apr_pool_t *p, const scim_db *db,
                                                const char *slug, const char *failure,
                                                apr_time_t now, const char **error);

org_store_status org_store_set_groupsync_enabled(apr_pool_t *p, const scim_db *db,
                                                 const char *slug, int enabled, apr_time_t now,
                                                 const char **error);

/* Adds the mapping IDP_KEY=IDP_VALUE -> TEAM with role ("Member" or "Manager", any case;
 * NULL: Member), or changes the role of that mapping when it exists. REFUSED when a field is
 * empty or holds a control character, or the role is neither. *previous_role (when not NULL)
 * gets the mapping's role before ("Member"/"Manager"), or NULL when it is new. */
org_store_status org_store_groupsync_add(apr_pool_t *p, const scim_db *db, const char *slug,
                                         const char *idp_key, const char *idp_value,
                                         const char *team, const char *role, apr_time_t now,
                                         const char **previous_role, const char **error);

/* NOT_FOUND when the org or that mapping does not exist. */
org_store_status org_store_groupsync_remove(apr_pool_t *p, const scim_db *db, const char *slug,
                                            const char *idp_key, const char *idp_value,
                                            const char *team, apr_time_t now,
                                            const char **error);

/* Enabling SCIM is REFUSED while the org has no SCIM secret hash. */
org_store_status org_store_set_scim_enabled(apr_pool_t *p, const scim_db *db, const char *slug,
                                            int enabled, apr_time_t now, const char **error);

/* Stores the hash of the org's SCIM secret: a "sha256:<hex>" line (scim_auth.h), checked with
 * scim_token_hash_parse and stored without its line end. */
org_store_status org_store_set_scim_token_hash(apr_pool_t *p, const scim_db *db,
                                               const char *slug, const char *hash_line,
                                               apr_time_t now, const char **error);

#endif
