/* Glue shared by the httpd-facing files: configuration records and the seams between them. */
#ifndef CS_MOD_SAML_H
#define CS_MOD_SAML_H

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_request.h>
#include <http_protocol.h>
#include <ap_socache.h>
#include <apr_hash.h>
#include "saml_sp.h"
#include "saml_reason.h"
#include "session_record.h"
#include "scim_auth.h"
#include "scim_db.h"

#ifndef CS_MODULE_RECORD /* AP_DECLARE_MODULE declares it there */
APLOG_USE_MODULE(cloudsmith_saml);
#endif
extern module AP_MODULE_DECLARE_DATA cloudsmith_saml_module;

#define CS_AUTH_TYPE "CloudsmithSAML"

typedef enum {
    HDR_USER, HDR_EMAIL, HDR_FIRST_NAME, HDR_LAST_NAME, HDR_ORG, HDR_TEAMS, HDR__COUNT
} identity_field;

/* One organization as declared by a <Location> holding CloudsmithSAMLOrg; its SP is built in
 * post_config (when ServerName and every directive are known) and read-only afterwards. */
typedef struct cs_org {
    const char *slug;
    const char *root_path;      /* the Location path, ending in '/' */
    const char *where;          /* "file:line" of the declaration, for messages */
    server_rec *server;
    struct cs_dir_cfg *decl;    /* the section that declared it: SAML settings live there */
    saml_sp *sp;
    const char *acs_url;
    const char *scim_base;      /* absolute URL of /{org}/scim/v2 */
    scim_token_hash *scim_hash; /* set when SCIM is on for the org */
    const char *cookie_name;
    int from_registry;          /* built from the org registry (CloudsmithSAMLOrgFromPath) */
    struct cs_org *next;
} cs_org;

/* A section with CloudsmithSAMLOrgFromPath On: the org is the request path's first segment,
 * its settings come from the org registry in the database (mod_saml_registry.c). */
typedef struct cs_registry {
    struct cs_dir_cfg *decl;    /* the section: SP key, base URL, lifetimes... */
    const char *where;
    server_rec *server;
    const char *base_url;       /* set in check_config */
    const char *sp_key_pem;
    const char *sp_cert_pem;
    apr_interval_time_t refresh; /* -1: default */
    int cache_size;              /* 0: default */
    /* per process, from child_init */
    struct org_cache *orgs;      /* the orgs this process built (org_cache.h) */
    volatile apr_uint64_t version;       /* the registry's, as last read */
    volatile apr_uint64_t version_read;  /* when */
    volatile apr_uint32_t version_reading;
    struct cs_registry *next;
} cs_registry;

typedef struct cs_dir_cfg {
    cs_org *org;
    cs_registry *registry;      /* set by CloudsmithSAMLOrgFromPath On; NULL otherwise */
    int saml_off;               /* registry org with SAML disabled: requests pass, no identity */
    apr_interval_time_t registry_refresh; /* -1 unset */
    int registry_cache_size;              /* 0 unset */
    const char *idp_metadata_file;
    const char *sp_key_file;
    const char *sp_cert_file;
    const char *base_url;
    const char *sp_entity_id;
    int enforce;                /* -1 unset: On */
    int allow_unsolicited;      /* -1 unset: On */
    int allow_sha1;             /* -1 unset: Off */
    int sign_requests;          /* -1 unset: as the IdP metadata asks */
    apr_array_header_t *groupsync;        /* of groupsync_rule; NULL inherits */
    apr_array_header_t *first_name_attrs; /* of const char*; NULL inherits defaults */
    apr_array_header_t *last_name_attrs;
    const char *header_names[HDR__COUNT]; /* NULL inherits defaults */
    apr_interval_time_t session_lifetime; /* -1 unset */
    apr_interval_time_t clock_skew;
    apr_interval_time_t max_issue_age;
    apr_off_t max_body;                   /* -1 unset */
    int scim;                             /* -1 unset: Off */
    const char *scim_hash_file;
    apr_interval_time_t scim_recheck;     /* -1 unset */
    int scim_unavailable_allow;           /* -1 unset: deny */
} cs_dir_cfg;

/* Resolved settings with defaults applied. */
apr_interval_time_t cs_session_lifetime(const cs_dir_cfg *c);
apr_interval_time_t cs_clock_skew(const cs_dir_cfg *c);
apr_interval_time_t cs_max_issue_age(const cs_dir_cfg *c);
apr_off_t cs_max_body(const cs_dir_cfg *c);
int cs_enforce(const cs_dir_cfg *c);
int cs_allow_unsolicited(const cs_dir_cfg *c);
int cs_allow_sha1(const cs_dir_cfg *c);
apr_interval_time_t cs_scim_recheck(const cs_dir_cfg *c);
int cs_scim_unavailable_allows(const cs_dir_cfg *c);
const char *cs_header_name(const cs_dir_cfg *c, identity_field f);

/* mod_saml_config.c */
extern const command_rec cs_directives[];
void *cs_create_dir_cfg(apr_pool_t *p, char *dir);
void *cs_merge_dir_cfg(apr_pool_t *p, void *base, void *add);
void cs_config_reset(void);
int cs_build_orgs(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s);
/* The org's ACS URL (which sessions are bound to) and SCIM base, under base_url. */
void cs_org_set_urls(apr_pool_t *p, cs_org *org, const char *base_url);
const char *cs_cache_spec(void);
const char *cs_session_key_file(void);
int cs_session_memo_entries(void); /* CloudsmithSAMLSessionMemo: 0 Off, -1 not set */
const apr_array_header_t *cs_all_identity_header_names(void);

/* mod_saml_registry.c */
void cs_registry_child_init(apr_pool_t *p, cs_registry *registries);
apr_interval_time_t cs_registry_refresh(const cs_registry *reg);
/* c's copy bound to the registry org the request path names: OK, or 404 (no such org) / 503
 * (the registry cannot be read), logged. */
int cs_registry_config(request_rec *r, const cs_dir_cfg *c, cs_dir_cfg **out);
cs_registry *cs_all_registries(void);

/* The request's configuration with its org resolved (per-directory, or the registry org its
 * path names), once per request: OK with *out (whose org is NULL outside any org), or an
 * HTTP status when the org cannot be known. */
int cs_request_config(request_rec *r, const cs_dir_cfg **out);

/* mod_saml_cache.c: the socache holding sessions, pending logins and the replay cache. */
int cs_cache_pre_config(apr_pool_t *pconf);
int cs_cache_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s, const char *spec,
                         const char *key_file);
/* True when the cache is this server's alone (shmcb, shmht): every change to it is made by
 * this server's processes. */
int cs_cache_is_server_local(void);
apr_status_t cs_cache_store(request_rec *r, const char *key, const char *value,
                            apr_time_t expiry);
/* Returns APR_SUCCESS with *value NUL-terminated, APR_NOTFOUND, or an error. */
apr_status_t cs_cache_get(request_rec *r, const char *key, char **value, apr_size_t *len);
apr_status_t cs_cache_remove(request_rec *r, const char *key);
/* get + remove as one step: only one caller ever gets the value. */
apr_status_t cs_cache_take(request_rec *r, const char *key, char **value, apr_size_t *len);
/* Stores key only if absent; APR_EEXIST when it was already there. */
apr_status_t cs_cache_add_once(request_rec *r, const char *key, const char *value,
                               apr_time_t expiry);

/* mod_saml_auth.c: sessions and the access/authn/authz hooks. */
const session_record *cs_request_identity(request_rec *r);
int cs_check_access_ex(request_rec *r);
int cs_check_user_id(request_rec *r);
void cs_register_authz_providers(apr_pool_t *p);
int cs_start_login(request_rec *r, const cs_dir_cfg *c, const char *return_to, int force_authn);
const char *cs_session_create(request_rec *r, const cs_dir_cfg *c, session_record *rec);
void cs_session_end(request_rec *r, const cs_dir_cfg *c);
/* After the cache's post_config: the session memo (session_memo.h) for this configuration,
 * as CloudsmithSAMLSessionMemo and the cache allow. OK, or an error logged. */
int cs_session_memo_post_config(apr_pool_t *pconf, server_rec *s);
const login_state *cs_take_login_state(request_rec *r, const cs_dir_cfg *c,
                                       const char *relay_state);

/* mod_saml_headers.c */
int cs_scrub_identity_headers(request_rec *r);
int cs_fixups(request_rec *r);

/* mod_saml_endpoints.c */
int cs_handler(request_rec *r);
int cs_is_endpoint(request_rec *r, const cs_dir_cfg *c);
/* The whole request body, NUL-terminated; 413 above limit bytes, 400 when unreadable or it
 * holds a NUL. */
int cs_read_body(request_rec *r, apr_off_t limit, char **body, apr_size_t *len);

/* mod_saml_scim.c */
const char *cs_scim_check_config(void);
/* The request's database connection (mod_dbd), schema up to date; NULL, or why not. */
const char *cs_db_open(request_rec *r, scim_db *db);
void cs_scim_child_init(apr_pool_t *p);
int cs_scim_handle(request_rec *r, const cs_dir_cfg *c, const char *path);
/* 0 with *state (and SCIM's names), or -1 (logged) when the database cannot answer. */
int cs_scim_user_state(request_rec *r, const cs_org *org, const char *user,
                       scim_db_user_state *state, const char **given, const char **family);

/* mod_saml_page.c: the module's own pages. cs_page writes one from a handler and returns OK;
 * cs_error makes it the error response of a hook and returns status, so the hook's request
 * stops there. */
int cs_page(request_rec *r, int status, const char *title, const char *message,
            const char *reason_name);
int cs_error(request_rec *r, int status, const char *title, const char *message,
             const char *reason_name);
void cs_no_store(request_rec *r);
int cs_is_https(request_rec *r);

#endif
