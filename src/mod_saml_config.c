/* Directives: parsing, merging, and building each org's SP at startup. */
#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_file_io.h>
#include <http_core.h>
#include "mod_saml.h"
#include "saml_groupsync.h"
#include "session_id.h"

#define DEFAULT_SESSION_LIFETIME apr_time_from_sec(8 * 3600)
#define DEFAULT_CLOCK_SKEW apr_time_from_sec(60)
#define DEFAULT_MAX_ISSUE_AGE apr_time_from_sec(300)
#define DEFAULT_MAX_BODY (1024 * 1024)
#define DEFAULT_SCIM_RECHECK apr_time_from_sec(10)
#define MAX_METADATA_BYTES (4 * 1024 * 1024)

static const char *const default_header_names[HDR__COUNT] = {
    "X-Remote-User", "X-Remote-Email", "X-Remote-First-Name", "X-Remote-Last-Name",
    "X-Remote-Org", "X-Remote-Teams",
};
static const char *const header_fields[HDR__COUNT] = {
    "user", "email", "first-name", "last-name", "org", "teams",
};

/* Process-wide settings, written only while the configuration is read. */
static struct {
    const char *cache_spec;
    const char *session_key_file;
    int session_memo_entries; /* 0 Off; -1 unset */
    cs_org *orgs;
    cs_registry *registries;
    apr_array_header_t *header_names; /* every identity header name configured anywhere */
} global;

/* The configuration is read twice at startup and again on every restart, each time into a
 * fresh pconf: forget what the previous reading registered. */
void cs_config_reset(void)
{
    memset(&global, 0, sizeof(global));
    global.session_memo_entries = -1;
}

const char *cs_cache_spec(void) { return global.cache_spec ? global.cache_spec : "shmcb"; }
const char *cs_session_key_file(void) { return global.session_key_file; }
int cs_session_memo_entries(void) { return global.session_memo_entries; }
cs_registry *cs_all_registries(void) { return global.registries; }

static void remember_header_name(apr_pool_t *p, const char *name)
{
    if (global.header_names == NULL) {
        global.header_names = apr_array_make(p, 8, sizeof(const char *));
        for (int i = 0; i < HDR__COUNT; i++)
            APR_ARRAY_PUSH(global.header_names, const char *) = default_header_names[i];
    }
    if (name)
        APR_ARRAY_PUSH(global.header_names, const char *) = name;
}

const apr_array_header_t *cs_all_identity_header_names(void)
{
    static const apr_array_header_t empty;
    return global.header_names ? global.header_names : &empty;
}

void *cs_create_dir_cfg(apr_pool_t *p, char *dir)
{
    cs_dir_cfg *c = apr_pcalloc(p, sizeof(*c));
    c->enforce = -1;
    c->allow_unsolicited = -1;
    c->allow_sha1 = -1;
    c->sign_requests = -1;
    c->session_lifetime = -1;
    c->clock_skew = -1;
    c->max_issue_age = -1;
    c->max_body = -1;
    c->scim = -1;
    c->scim_recheck = -1;
    c->scim_unavailable_allow = -1;
    c->registry_refresh = -1;
    remember_header_name(p, NULL);
    return c;
}

/* CloudsmithSAMLOrgFromPath Off: below it, no org from the path. */
static cs_registry registry_off;

#define MERGE(field, unset) m->field = add->field != (unset) ? add->field : base->field

void *cs_merge_dir_cfg(apr_pool_t *p, void *base_, void *add_)
{
    const cs_dir_cfg *base = base_, *add = add_;
    cs_dir_cfg *m = apr_pcalloc(p, sizeof(*m));
    /* A section naming its org (or taking orgs from the path) replaces the other way. */
    m->org = add->org ? add->org : add->registry ? NULL : base->org;
    m->registry = add->registry ? add->registry : add->org ? NULL : base->registry;
    if (m->registry == &registry_off)
        m->registry = NULL;
    MERGE(registry_refresh, -1);
    MERGE(registry_cache_size, 0);
    MERGE(idp_metadata_file, NULL);
    MERGE(sp_key_file, NULL);
    MERGE(sp_cert_file, NULL);
    MERGE(base_url, NULL);
    MERGE(sp_entity_id, NULL);
    MERGE(enforce, -1);
    MERGE(allow_unsolicited, -1);
    MERGE(allow_sha1, -1);
    MERGE(sign_requests, -1);
    MERGE(groupsync, NULL);
    MERGE(first_name_attrs, NULL);
    MERGE(last_name_attrs, NULL);
    for (int i = 0; i < HDR__COUNT; i++)
        MERGE(header_names[i], NULL);
    MERGE(session_lifetime, -1);
    MERGE(clock_skew, -1);
    MERGE(max_issue_age, -1);
    MERGE(max_body, -1);
    MERGE(scim, -1);
    MERGE(scim_hash_file, NULL);
    MERGE(scim_recheck, -1);
    MERGE(scim_unavailable_allow, -1);
    return m;
}

apr_interval_time_t cs_session_lifetime(const cs_dir_cfg *c)
{ return c->session_lifetime >= 0 ? c->session_lifetime : DEFAULT_SESSION_LIFETIME; }
apr_interval_time_t cs_clock_skew(const cs_dir_cfg *c)
{ return c->clock_skew >= 0 ? c->clock_skew : DEFAULT_CLOCK_SKEW; }
apr_interval_time_t cs_max_issue_age(const cs_dir_cfg *c)
{ return c->max_issue_age >= 0 ? c->max_issue_age : DEFAULT_MAX_ISSUE_AGE; }
apr_off_t cs_max_body(const cs_dir_cfg *c)
{ return c->max_body >= 0 ? c->max_body : DEFAULT_MAX_BODY; }
int cs_enforce(const cs_dir_cfg *c) { return c->enforce != 0; }
int cs_allow_unsolicited(const cs_dir_cfg *c) { return c->allow_unsolicited != 0; }
int cs_allow_sha1(const cs_dir_cfg *c) { return c->allow_sha1 == 1; }
int cs_scim_unavailable_allows(const cs_dir_cfg *c) { return c->scim_unavailable_allow == 1; }
apr_interval_time_t cs_scim_recheck(const cs_dir_cfg *c)
{ return c->scim_recheck >= 0 ? c->scim_recheck : DEFAULT_SCIM_RECHECK; }
const char *cs_header_name(const cs_dir_cfg *c, identity_field f)
{ return c->header_names[f] ? c->header_names[f] : default_header_names[f]; }

static const char *where(cmd_parms *cmd)
{
    return apr_psprintf(cmd->pool, "%s:%d", cmd->directive->filename, cmd->directive->line_num);
}

/* A signed-in user whom a Require refuses must get 403: mod_authz_core would answer 401, which
 * for SAML means nothing (there is no password prompt to retry). Applied as if
 * "AuthzSendForbiddenOnFailure On" opened the org's section; an explicit setting after it
 * still wins. */
static const char *send_forbidden_on_authz_failure(cmd_parms *cmd)
{
    module *authz_core = ap_top_module;
    const command_rec *directive = ap_find_command_in_modules("AuthzSendForbiddenOnFailure",
                                                              &authz_core);
    if (directive == NULL)
        return NULL; /* mod_authz_core is not loaded: no Require to fail */
    cmd_parms as_authz_core = *cmd;
    as_authz_core.cmd = directive;
    as_authz_core.info = directive->cmd_data;
    void *authz_cfg = ap_set_config_vectors(cmd->server, cmd->context, cmd->path, authz_core,
                                            cmd->pool);
    return directive->AP_FLAG(&as_authz_core, authz_cfg, 1);
}

static const char *set_org(cmd_parms *cmd, void *mconfig, const char *slug)
{
    cs_dir_cfg *c = mconfig;
    const ap_directive_t *section = cmd->directive->parent;
    if (c->registry && c->registry != &registry_off)
        return "CloudsmithSAMLOrg cannot share a section with CloudsmithSAMLOrgFromPath";
    if (cmd->path == NULL || section == NULL || strcasecmp(section->directive, "<Location") != 0
        || section->args[0] == '~')
        return "CloudsmithSAMLOrg must be inside a <Location /ORG/> section (not a regular "
               "expression section)";
    if (*slug == '\0' || strlen(slug) > 64)
        return apr_psprintf(cmd->pool, "CloudsmithSAMLOrg: '%s' must be 1 to 64 characters",
                            slug);
    for (const char *s = slug; *s; s++)
        if (!apr_islower(*s) && !apr_isdigit(*s) && *s != '-' && *s != '_')
            return apr_psprintf(cmd->pool, "CloudsmithSAMLOrg: '%s' may only hold lower-case "
                                "letters, digits, '-' and '_'", slug);
    if (cmd->path[0] != '/')
        return apr_psprintf(cmd->pool, "CloudsmithSAMLOrg: the Location path '%s' must start "
                            "with '/'", cmd->path);
    cs_org *org = apr_pcalloc(cmd->pool, sizeof(*org));
    org->slug = apr_pstrdup(cmd->pool, slug);
    apr_size_t n = strlen(cmd->path);
    org->root_path = cmd->path[n - 1] == '/' ? apr_pstrdup(cmd->pool, cmd->path)
                                             : apr_pstrcat(cmd->pool, cmd->path, "/", NULL);
    org->where = where(cmd);
    org->server = cmd->server;
    org->decl = c;
    org->cookie_name = apr_pstrcat(cmd->pool, SESSION_COOKIE_PREFIX, slug, NULL);
    org->next = global.orgs;
    global.orgs = org;
    c->org = org;
    return send_forbidden_on_authz_failure(cmd);
}

static const char *set_org_from_path(cmd_parms *cmd, void *mconfig, int on)
{
    cs_dir_cfg *c = mconfig;
    if (cmd->path == NULL)
        return "CloudsmithSAMLOrgFromPath must be inside a <LocationMatch> or <Location> section";
    if (c->org)
        return "CloudsmithSAMLOrgFromPath cannot share a section with CloudsmithSAMLOrg";
    if (!on) {
        c->registry = &registry_off;
        return NULL;
    }
    cs_registry *reg = apr_pcalloc(cmd->pool, sizeof(*reg));
    reg->decl = c;
    reg->where = where(cmd);
    reg->server = cmd->server;
    reg->refresh = -1;
    reg->next = global.registries;
    global.registries = reg;
    c->registry = reg;
    return send_forbidden_on_authz_failure(cmd);
}

/* True, with *out, when arg is a whole decimal number from min to max (nothing else). */
static int whole_number_in(const char *arg, apr_int64_t min, apr_int64_t max, apr_int64_t *out)
{
    char *end;
    apr_int64_t v = apr_strtoi64(arg, &end, 10);
    if (*arg == '\0' || *end != '\0' || v < min || v > max)
        return 0;
    *out = v;
    return 1;
}

static const char *set_org_cache_size(cmd_parms *cmd, void *mconfig, const char *arg)
{
    apr_int64_t v;
    if (!whole_number_in(arg, 1, 1000000, &v))
        return apr_psprintf(cmd->pool, "CloudsmithSAMLOrgCacheSize: '%s' must be a number of "
                            "orgs from 1 to 1000000", arg);
    ((cs_dir_cfg *)mconfig)->registry_cache_size = (int)v;
    return NULL;
}

static const char *set_file(cmd_parms *cmd, const char **field, const char *arg)
{
    const char *path = ap_server_root_relative(cmd->pool, arg);
    apr_finfo_t fi;
    if (path == NULL)
        return apr_psprintf(cmd->pool, "%s: invalid path '%s'", cmd->cmd->name, arg);
    if (apr_stat(&fi, path, APR_FINFO_TYPE, cmd->temp_pool) != APR_SUCCESS
        || fi.filetype != APR_REG)
        return apr_psprintf(cmd->pool, "%s: '%s' is not a readable file", cmd->cmd->name, path);
    *field = path;
    return NULL;
}

static const char *set_idp_metadata_file(cmd_parms *cmd, void *mconfig, const char *arg)
{ return set_file(cmd, &((cs_dir_cfg *)mconfig)->idp_metadata_file, arg); }
static const char *set_sp_key_file(cmd_parms *cmd, void *mconfig, const char *arg)
{ return set_file(cmd, &((cs_dir_cfg *)mconfig)->sp_key_file, arg); }
static const char *set_sp_cert_file(cmd_parms *cmd, void *mconfig, const char *arg)
{ return set_file(cmd, &((cs_dir_cfg *)mconfig)->sp_cert_file, arg); }

static const char *check_absolute_url(cmd_parms *cmd, const char *arg)
{
    apr_uri_t uri;
    if (apr_uri_parse(cmd->pool, arg, &uri) != APR_SUCCESS || uri.scheme == NULL
        || uri.hostname == NULL
        || (strcasecmp(uri.scheme, "http") != 0 && strcasecmp(uri.scheme, "https") != 0))
        return apr_psprintf(cmd->pool, "%s: '%s' is not an absolute http(s) URL",
                            cmd->cmd->name, arg);
    return NULL;
}

static const char *set_base_url(cmd_parms *cmd, void *mconfig, const char *arg)
{
    const char *err = check_absolute_url(cmd, arg);
    if (err)
        return err;
    apr_uri_t uri;
    apr_uri_parse(cmd->temp_pool, arg, &uri);
    if ((uri.path && strcmp(uri.path, "/") != 0) || uri.query || uri.fragment)
        return apr_psprintf(cmd->pool, "CloudsmithSAMLBaseURL: '%s' must be scheme://host[:port] "
                            "without a path", arg);
    ((cs_dir_cfg *)mconfig)->base_url = apr_pstrdup(cmd->pool, arg);
    return NULL;
}

static const char *set_sp_entity_id(cmd_parms *cmd, void *mconfig, const char *arg)
{
    if (*arg == '\0' || strlen(arg) > 1024)
        return "CloudsmithSAMLSPEntityID: must be 1 to 1024 characters";
    ((cs_dir_cfg *)mconfig)->sp_entity_id = arg;
    return NULL;
}

static const char *set_enforce(cmd_parms *cmd, void *mconfig, int on)
{ ((cs_dir_cfg *)mconfig)->enforce = on; return NULL; }
static const char *set_allow_unsolicited(cmd_parms *cmd, void *mconfig, int on)
{ ((cs_dir_cfg *)mconfig)->allow_unsolicited = on; return NULL; }
static const char *set_allow_sha1(cmd_parms *cmd, void *mconfig, int on)
{ ((cs_dir_cfg *)mconfig)->allow_sha1 = on; return NULL; }
static const char *set_sign_requests(cmd_parms *cmd, void *mconfig, int on)
{ ((cs_dir_cfg *)mconfig)->sign_requests = on; return NULL; }
static const char *set_scim_unavailable(cmd_parms *cmd, void *mconfig, const char *arg)
{
    cs_dir_cfg *c = mconfig;
    if (strcasecmp(arg, "deny") == 0)
        c->scim_unavailable_allow = 0;
    else if (strcasecmp(arg, "allow") == 0)
        c->scim_unavailable_allow = 1;
    else
        return apr_psprintf(cmd->pool, "CloudsmithSAMLSCIMWhenUnavailable: '%s' must be Deny "
                            "or Allow", arg);
    return NULL;
}

static const char *set_scim(cmd_parms *cmd, void *mconfig, int on)
{ ((cs_dir_cfg *)mconfig)->scim = on; return NULL; }
static const char *set_scim_hash_file(cmd_parms *cmd, void *mconfig, const char *arg)
{ return set_file(cmd, &((cs_dir_cfg *)mconfig)->scim_hash_file, arg); }

static const char *add_groupsync(cmd_parms *cmd, void *mconfig, int argc, char *const argv[])
{
    cs_dir_cfg *c = mconfig;
    groupsync_rule rule;
    const char *err = groupsync_rule_parse(cmd->pool, argc, (const char *const *)argv, &rule);
    if (err)
        return apr_psprintf(cmd->pool, "CloudsmithSAMLGroupSync: %s (usage: IDP_KEY IDP_VALUE "
                            "TEAM [Member|Manager])", err);
    if (c->groupsync == NULL)
        c->groupsync = apr_array_make(cmd->pool, 4, sizeof(groupsync_rule));
    APR_ARRAY_PUSH(c->groupsync, groupsync_rule) = rule;
    return NULL;
}

static const char *add_name_attr(cmd_parms *cmd, void *mconfig, const char *arg)
{
    cs_dir_cfg *c = mconfig;
    apr_array_header_t **list = cmd->info ? &c->last_name_attrs : &c->first_name_attrs;
    if (*list == NULL)
        *list = apr_array_make(cmd->pool, 4, sizeof(const char *));
    APR_ARRAY_PUSH(*list, const char *) = arg;
    return NULL;
}

static const char *set_header_name(cmd_parms *cmd, void *mconfig, const char *field,
                                   const char *name)
{
    cs_dir_cfg *c = mconfig;
    for (const char *s = name; *s; s++)
        if (!apr_isalnum(*s) && *s != '-' && *s != '_')
            return apr_psprintf(cmd->pool, "CloudsmithSAMLHeader: '%s' is not a valid header "
                                "name (letters, digits, '-', '_')", name);
    if (*name == '\0')
        return "CloudsmithSAMLHeader: empty header name";
    for (int i = 0; i < HDR__COUNT; i++) {
        if (strcasecmp(field, header_fields[i]) == 0) {
            c->header_names[i] = name;
            remember_header_name(cmd->pool, name);
            return NULL;
        }
    }
    return apr_psprintf(cmd->pool, "CloudsmithSAMLHeader: unknown field '%s' (one of user, "
                        "email, first-name, last-name, org, teams)", field);
}

static const char *set_seconds(cmd_parms *cmd, void *mconfig, const char *arg)
{
    apr_int64_t v, max = (apr_int64_t)(apr_uintptr_t)cmd->info;
    if (!whole_number_in(arg, 0, max, &v))
        return apr_psprintf(cmd->pool, "%s: '%s' must be a whole number of seconds from 0 to %"
                            APR_INT64_T_FMT, cmd->cmd->name, arg, max);
    cs_dir_cfg *c = mconfig;
    apr_interval_time_t t = apr_time_from_sec(v);
    if (strcasecmp(cmd->cmd->name, "CloudsmithSAMLSessionLifetime") == 0) {
        if (v == 0)
            return "CloudsmithSAMLSessionLifetime: must be at least 1 second";
        c->session_lifetime = t;
    } else if (strcasecmp(cmd->cmd->name, "CloudsmithSAMLClockSkew") == 0) {
        c->clock_skew = t;
    } else if (strcasecmp(cmd->cmd->name, "CloudsmithSAMLSCIMRecheckInterval") == 0) {
        c->scim_recheck = t;
    } else if (strcasecmp(cmd->cmd->name, "CloudsmithSAMLOrgRefreshInterval") == 0) {
        c->registry_refresh = t;
    } else {
        if (v == 0)
            return "CloudsmithSAMLMaxIssueAge: must be at least 1 second";
        c->max_issue_age = t;
    }
    return NULL;
}

static const char *set_max_body(cmd_parms *cmd, void *mconfig, const char *arg)
{
    apr_int64_t v;
    if (!whole_number_in(arg, 1024, 64 * 1024 * 1024, &v))
        return apr_psprintf(cmd->pool, "CloudsmithSAMLMaxBodySize: '%s' must be a number of "
                            "bytes from 1024 to 67108864", arg);
    ((cs_dir_cfg *)mconfig)->max_body = v;
    return NULL;
}

static const char *set_session_cache(cmd_parms *cmd, void *dummy, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    if (err)
        return err;
    const char *colon = strchr(arg, ':');
    const char *name = colon ? apr_pstrndup(cmd->temp_pool, arg, colon - arg) : arg;
    if (ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name, AP_SOCACHE_PROVIDER_VERSION) == NULL)
        return apr_psprintf(cmd->pool, "CloudsmithSAMLSessionCache: unknown socache provider "
                            "'%s' (is mod_socache_%s loaded?)", name, name);
    global.cache_spec = apr_pstrdup(cmd->pool, arg);
    return NULL;
}

static const char *set_session_key_file(cmd_parms *cmd, void *dummy, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    return err ? err : set_file(cmd, &global.session_key_file, arg);
}

static const char *set_session_memo(cmd_parms *cmd, void *dummy, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    if (err)
        return err;
    if (strcasecmp(arg, "Off") == 0) {
        global.session_memo_entries = 0;
        return NULL;
    }
    apr_int64_t v;
    if (!whole_number_in(arg, 1, 1000000, &v))
        return apr_psprintf(cmd->pool, "CloudsmithSAMLSessionMemo: '%s' must be Off or a number "
                            "of sessions from 1 to 1000000", arg);
    global.session_memo_entries = (int)v;
    return NULL;
}

#define SECONDS(n) ((void *)(apr_uintptr_t)(n))

const command_rec cs_directives[] = {
    AP_INIT_TAKE1("CloudsmithSAMLSessionCache", set_session_cache, NULL, RSRC_CONF,
                  "socache provider for sessions: shmcb (default), shmcb:/path(bytes), "
                  "memcache:host:port, redis:host:port"),
    AP_INIT_TAKE1("CloudsmithSAMLSessionKeyFile", set_session_key_file, NULL, RSRC_CONF,
                  "File with the secret that seals cache values; the same on every server "
                  "sharing a cache (required for caches other than shmcb)"),
    AP_INIT_TAKE1("CloudsmithSAMLSessionMemo", set_session_memo, NULL, RSRC_CONF,
                  "Sessions each process keeps decoded for signed-in requests, or Off "
                  "(default 1024 with shmcb/shmht; Off with a cache shared between servers)"),
    AP_INIT_TAKE1("CloudsmithSAMLOrg", set_org, NULL, ACCESS_CONF,
                  "The organization slug served by this <Location>"),
    AP_INIT_FLAG("CloudsmithSAMLOrgFromPath", set_org_from_path, NULL, ACCESS_CONF,
                 "On: the first path segment names the org, whose settings come from the org "
                 "registry in the database (mod_dbd); Off: not below here"),
    AP_INIT_TAKE1("CloudsmithSAMLOrgRefreshInterval", set_seconds, SECONDS(3600), ACCESS_CONF,
                  "Seconds a process uses a registry org before asking whether it changed "
                  "(default 5)"),
    AP_INIT_TAKE1("CloudsmithSAMLOrgCacheSize", set_org_cache_size, NULL, ACCESS_CONF,
                  "Registry orgs each process keeps built, least recently used dropped first "
                  "(default 1000)"),
    AP_INIT_TAKE1("CloudsmithSAMLIdPMetadataFile", set_idp_metadata_file, NULL, ACCESS_CONF,
                  "File holding the org IdP's SAML 2.0 metadata XML"),
    AP_INIT_TAKE1("CloudsmithSAMLSPPrivateKeyFile", set_sp_key_file, NULL, ACCESS_CONF,
                  "PEM private key of this SP (decrypts assertions)"),
    AP_INIT_TAKE1("CloudsmithSAMLSPCertFile", set_sp_cert_file, NULL, ACCESS_CONF,
                  "PEM certificate of this SP, advertised in SP metadata"),
    AP_INIT_TAKE1("CloudsmithSAMLBaseURL", set_base_url, NULL, ACCESS_CONF,
                  "scheme://host[:port] this server is reached at (default: from ServerName)"),
    AP_INIT_TAKE1("CloudsmithSAMLSPEntityID", set_sp_entity_id, NULL, ACCESS_CONF,
                  "SP entity ID / Audience (default: the ACS URL)"),
    AP_INIT_FLAG("CloudsmithSAMLEnforce", set_enforce, NULL, ACCESS_CONF,
                 "On (default): pages need a login; Off: identity only when a session exists"),
    AP_INIT_FLAG("CloudsmithSAMLAllowUnsolicited", set_allow_unsolicited, NULL, ACCESS_CONF,
                 "On (default): accept IdP-initiated logins"),
    AP_INIT_FLAG("CloudsmithSAMLAllowSHA1", set_allow_sha1, NULL, ACCESS_CONF,
                 "On: accept RSA-SHA1 signatures and SHA-1 digests (default Off)"),
    AP_INIT_FLAG("CloudsmithSAMLSignAuthnRequests", set_sign_requests, NULL, ACCESS_CONF,
                 "On: sign AuthnRequests (default: when the IdP metadata asks for it)"),
    AP_INIT_TAKE_ARGV("CloudsmithSAMLGroupSync", add_groupsync, NULL, ACCESS_CONF,
                      "IDP_KEY IDP_VALUE TEAM [Member|Manager]"),
    AP_INIT_ITERATE("CloudsmithSAMLFirstNameAttribute", add_name_attr, NULL, ACCESS_CONF,
                    "Attribute names holding the first name, tried in order"),
    AP_INIT_ITERATE("CloudsmithSAMLLastNameAttribute", add_name_attr, (void *)1, ACCESS_CONF,
                    "Attribute names holding the last name, tried in order"),
    AP_INIT_TAKE2("CloudsmithSAMLHeader", set_header_name, NULL, ACCESS_CONF,
                  "FIELD NAME: rename an identity header (user, email, first-name, last-name, "
                  "org, teams)"),
    AP_INIT_TAKE1("CloudsmithSAMLSessionLifetime", set_seconds, SECONDS(366 * 86400),
                  ACCESS_CONF, "Seconds a session lives at most (default 28800)"),
    AP_INIT_TAKE1("CloudsmithSAMLClockSkew", set_seconds, SECONDS(3600), ACCESS_CONF,
                  "Seconds of clock difference tolerated with the IdP (default 60)"),
    AP_INIT_TAKE1("CloudsmithSAMLMaxIssueAge", set_seconds, SECONDS(86400), ACCESS_CONF,
                  "Seconds a SAML response may be old when it arrives (default 300)"),
    AP_INIT_TAKE1("CloudsmithSAMLMaxBodySize", set_max_body, NULL, ACCESS_CONF,
                  "Largest ACS or SCIM request body in bytes (default 1048576)"),
    AP_INIT_FLAG("CloudsmithSAMLSCIM", set_scim, NULL, ACCESS_CONF,
                 "On: serve SCIM 2.0 provisioning at LOCATION/scim/v2/ (default Off)"),
    AP_INIT_TAKE1("CloudsmithSAMLSCIMTokenHashFile", set_scim_hash_file, NULL, ACCESS_CONF,
                  "Hash of the org's SCIM secret, as written by cloudsmith-saml-scim-token"),
    AP_INIT_TAKE1("CloudsmithSAMLSCIMWhenUnavailable", set_scim_unavailable, NULL, ACCESS_CONF,
                  "Deny (default): no login or session check without the SCIM database; "
                  "Allow: treat users as active while it cannot be reached"),
    AP_INIT_TAKE1("CloudsmithSAMLSCIMRecheckInterval", set_seconds, SECONDS(3600), ACCESS_CONF,
                  "Seconds between checks that a signed-in user is still active in SCIM "
                  "(default 10)"),
    {NULL}
};

static const char *read_file(apr_pool_t *p, const char *path, const char **error)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_status_t rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, 0, p);
    if (rv == APR_SUCCESS)
        rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f);
    if (rv != APR_SUCCESS) {
        char buf[120];
        *error = apr_psprintf(p, "cannot read %s: %s", path, apr_strerror(rv, buf, sizeof buf));
        return NULL;
    }
    if (fi.size > MAX_METADATA_BYTES) {
        apr_file_close(f);
        *error = apr_psprintf(p, "%s is larger than %d bytes", path, MAX_METADATA_BYTES);
        return NULL;
    }
    char *buf = apr_palloc(p, fi.size + 1);
    apr_size_t n = fi.size;
    rv = apr_file_read_full(f, buf, n, &n);
    apr_file_close(f);
    if (rv != APR_SUCCESS && !(rv == APR_EOF && n == 0)) {
        *error = apr_psprintf(p, "cannot read %s", path);
        return NULL;
    }
    buf[n] = '\0';
    if (strlen(buf) != n) {
        *error = apr_psprintf(p, "%s contains a NUL byte", path);
        return NULL;
    }
    return buf;
}

static const char *base_url_of(apr_pool_t *p, const cs_dir_cfg *decl, const server_rec *s)
{
    if (decl->base_url)
        return decl->base_url;
    const char *scheme = s->server_scheme ? s->server_scheme : "http";
    apr_port_t port = s->port;
    int default_port = port == 0 || (strcasecmp(scheme, "http") == 0 && port == 80)
        || (strcasecmp(scheme, "https") == 0 && port == 443);
    return default_port ? apr_psprintf(p, "%s://%s", scheme, s->server_hostname)
                        : apr_psprintf(p, "%s://%s:%u", scheme, s->server_hostname, port);
}

void cs_org_set_urls(apr_pool_t *p, cs_org *org, const char *base_url)
{
    org->acs_url = apr_pstrcat(p, base_url, org->root_path, "saml/acs/", NULL);
    org->scim_base = apr_pstrcat(p, base_url, org->root_path, "scim/v2", NULL);
}

static const char *server_base_url(apr_pool_t *p, const cs_org *org)
{
    return base_url_of(p, org->decl, org->server);
}

/* Checks an OrgFromPath section and loads what its orgs share (the SP key and certificate). */
static const char *build_registry(apr_pool_t *pconf, apr_pool_t *ptemp, cs_registry *reg)
{
    const cs_dir_cfg *d = reg->decl;
    const char *error = cs_scim_check_config();
    if (error)
        return apr_pstrcat(ptemp, "CloudsmithSAMLOrgFromPath On ", error, NULL);
    if (d->idp_metadata_file || d->sp_entity_id || d->scim_hash_file || d->scim != -1
        || d->groupsync || d->enforce != -1)
        return "CloudsmithSAMLIdPMetadataFile, SPEntityID, Enforce, GroupSync, SCIM and "
               "SCIMTokenHashFile come from the org registry in a CloudsmithSAMLOrgFromPath "
               "section (set them with cloudsmith-saml-admin)";
    if (reg->server->server_hostname == NULL && d->base_url == NULL)
        return "set ServerName or CloudsmithSAMLBaseURL so the ACS URLs do not depend on the "
               "client's Host header";
    if ((d->sp_key_file == NULL) != (d->sp_cert_file == NULL))
        return "CloudsmithSAMLSPPrivateKeyFile and CloudsmithSAMLSPCertFile go together";
    if (d->sp_key_file && (reg->sp_key_pem = read_file(pconf, d->sp_key_file, &error)) == NULL)
        return error;
    if (d->sp_cert_file
        && (reg->sp_cert_pem = read_file(pconf, d->sp_cert_file, &error)) == NULL)
        return error;
    reg->base_url = base_url_of(pconf, d, reg->server);
    reg->refresh = d->registry_refresh;
    reg->cache_size = d->registry_cache_size;
    return NULL;
}

static const char *load_scim_hash(apr_pool_t *pconf, apr_pool_t *ptemp, const cs_dir_cfg *d,
                                  cs_org *org)
{
    if (d->scim_hash_file == NULL)
        return "CloudsmithSAMLSCIM On needs CloudsmithSAMLSCIMTokenHashFile (make one with "
               "cloudsmith-saml-scim-token)";
    const char *error = NULL;
    const char *text = read_file(ptemp, d->scim_hash_file, &error);
    if (text == NULL)
        return error;
    org->scim_hash = apr_pcalloc(pconf, sizeof(*org->scim_hash));
    error = scim_token_hash_parse(text, org->scim_hash);
    return error ? apr_psprintf(ptemp, "%s: %s", d->scim_hash_file, error) : NULL;
}

int cs_build_orgs(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s)
{
    for (cs_registry *reg = global.registries; reg; reg = reg->next) {
        const char *error = build_registry(pconf, ptemp, reg);
        if (error) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, APLOGNO(10508)
                         "CloudsmithSAMLOrgFromPath (%s): %s", reg->where, error);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, APLOGNO(10509)
                     "orgs from the registry at %s/ORG/ (%s), refreshed every %d s",
                     reg->base_url, reg->where, (int)apr_time_sec(cs_registry_refresh(reg)));
    }
    for (cs_org *org = global.orgs; org; org = org->next) {
        const cs_dir_cfg *d = org->decl;
        const char *error = NULL;
        for (const cs_org *other = org->next; other; other = other->next) {
            if (other->server == org->server && strcmp(other->slug, org->slug) == 0) {
                ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, APLOGNO(10507)
                             "org %s is declared twice in one virtual host (%s and %s): each "
                             "org needs its own slug", org->slug, other->where, org->where);
                return HTTP_INTERNAL_SERVER_ERROR;
            }
        }
        if (d->idp_metadata_file == NULL) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, APLOGNO(10501)
                         "org %s (%s): CloudsmithSAMLIdPMetadataFile is required in the same "
                         "section as CloudsmithSAMLOrg", org->slug, org->where);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        if (org->server->server_hostname == NULL && d->base_url == NULL) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, APLOGNO(10502)
                         "org %s (%s): set ServerName or CloudsmithSAMLBaseURL so the ACS URL "
                         "does not depend on the client's Host header", org->slug, org->where);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        saml_sp_config cfg = {.org = org->slug, .sp_entity_id = d->sp_entity_id,
                              .sign_authn_requests = d->sign_requests == 1,
                              .idp_metadata_origin = d->idp_metadata_file};
        cs_org_set_urls(pconf, org, server_base_url(pconf, org));
        cfg.acs_url = org->acs_url;
        cfg.idp_metadata_xml = read_file(ptemp, d->idp_metadata_file, &error);
        if (cfg.idp_metadata_xml && d->sp_key_file)
            cfg.sp_key_pem = read_file(pconf, d->sp_key_file, &error);
        if (cfg.idp_metadata_xml && !error && d->sp_cert_file)
            cfg.sp_cert_pem = read_file(pconf, d->sp_cert_file, &error);
        if (!error && (d->sp_key_file == NULL) != (d->sp_cert_file == NULL))
            error = "CloudsmithSAMLSPPrivateKeyFile and CloudsmithSAMLSPCertFile go together";
        if (!error) {
            cfg.idp_metadata_xml = apr_pstrdup(pconf, cfg.idp_metadata_xml);
            error = saml_sp_create(pconf, &cfg, &org->sp);
        }
        if (!error && d->scim == 1)
            error = load_scim_hash(pconf, ptemp, d, org);
        if (!error && d->scim == 1)
            error = cs_scim_check_config();
        if (error && d->scim == 1 && strncmp(error, "needs", 5) == 0)
            error = apr_pstrcat(ptemp, "CloudsmithSAMLSCIM On ", error, NULL);
        if (error) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, APLOGNO(10503)
                         "org %s (%s): %s", org->slug, org->where, error);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, APLOGNO(10504)
                     "org %s: SP %s, ACS %s, IdP %s", org->slug,
                     saml_sp_entity_id(org->sp), org->acs_url, saml_sp_idp_entity_id(org->sp));
    }
    return OK;
}
