/* Sessions (cookie -> socache -> identity) and the access, authn and authz hooks. */
#include <apr_strings.h>
#include <http_core.h>
#include <mod_auth.h>
#include "mod_saml.h"
#include "session_id.h"
#include "session_memo.h"
#include "saml_returnto.h"

#define SESSION_KEY_PREFIX "session:"
#define LOGIN_KEY_PREFIX "cs-login:"
#define LOGIN_STATE_LIFETIME apr_time_from_sec(600)
#define DEFAULT_SESSION_MEMO_ENTRIES 1024
/* The longest a memoised session is used unread: bounds what no removal reports (a full
 * cache evicting its oldest entries). Logouts and deactivations void memos at once. */
#define SESSION_MEMO_TTL apr_time_from_sec(5)

/* Made in the parent at each configuration: every child has its own memo and shares the
 * generation. NULL when off. */
static struct {
    session_memo *memo;
    session_generation *generation;
} sessions;

static apr_status_t drop_session_memo(void *data)
{
    (void)data;
    session_memo_destroy(sessions.memo);
    if (sessions.generation)
        session_generation_unmap(sessions.generation);
    sessions.memo = NULL;
    sessions.generation = NULL;
    return APR_SUCCESS;
}

int cs_session_memo_post_config(apr_pool_t *pconf, server_rec *s)
{
    int entries = cs_session_memo_entries();
    if (!cs_cache_is_server_local()) {
        if (entries > 0) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, APLOGNO(10582)
                         "CloudsmithSAMLSessionMemo %d needs a session cache only this server "
                         "uses (shmcb or shmht): with %s, a logout on another server would not "
                         "reach this server's memos. Remove the directive or set it Off.",
                         entries, cs_cache_spec());
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, APLOGNO(10584)
                     "session memo off: the session cache %s may be shared between servers",
                     cs_cache_spec());
        return OK;
    }
    if (entries == 0) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, APLOGNO(10586)
                     "session memo off (CloudsmithSAMLSessionMemo Off)");
        return OK;
    }
    if (entries < 0)
        entries = DEFAULT_SESSION_MEMO_ENTRIES;
    const char *why = session_generation_create(&sessions.generation);
    if (why == NULL && (sessions.memo = session_memo_create((unsigned)entries,
                                                           SESSION_MEMO_TTL)) == NULL)
        why = "out of memory";
    apr_pool_cleanup_register(pconf, NULL, drop_session_memo, apr_pool_cleanup_null);
    if (why) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, APLOGNO(10583)
                     "CloudsmithSAMLSessionMemo: cannot make the session memo: %s", why);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, APLOGNO(10585)
                 "session memo: up to %d sessions per child, each used for up to %d s unread",
                 entries, (int)apr_time_sec(SESSION_MEMO_TTL));
    return OK;
}

/* Removes a session from the cache, then moves the session generation on: every child's memo
 * entries (this session's among them) are void from then on. */
static apr_status_t remove_session(request_rec *r, const char *id)
{
    apr_status_t rv = cs_cache_remove(r, apr_pstrcat(r->pool, SESSION_KEY_PREFIX, id, NULL));
    if (sessions.generation)
        session_generation_bump(sessions.generation);
    return rv;
}

/* What the module knows about a request, kept for its later hooks. */
typedef struct {
    const session_record *identity;
    const cs_dir_cfg *cfg;
    int cfg_status; /* 0: not resolved yet */
} request_state;

static request_state *state_of(request_rec *r)
{
    request_state *st = ap_get_module_config(r->request_config, &cloudsmith_saml_module);
    if (st == NULL) {
        st = apr_pcalloc(r->pool, sizeof(*st));
        ap_set_module_config(r->request_config, &cloudsmith_saml_module, st);
    }
    return st;
}

const session_record *cs_request_identity(request_rec *r)
{
    const request_state *st = ap_get_module_config(r->request_config, &cloudsmith_saml_module);
    return st ? st->identity : NULL;
}

int cs_request_config(request_rec *r, const cs_dir_cfg **out)
{
    request_state *st = state_of(r);
    if (st->cfg_status == 0) {
        const cs_dir_cfg *c = ap_get_module_config(r->per_dir_config, &cloudsmith_saml_module);
        cs_dir_cfg *bound = NULL;
        st->cfg = c;
        st->cfg_status = OK;
        if (c->org == NULL && c->registry) {
            st->cfg_status = cs_registry_config(r, c, &bound);
            st->cfg = bound;
        }
    }
    *out = st->cfg;
    return st->cfg_status;
}

/* The page for a request whose org the registry cannot name. */
static int org_unknown(request_rec *r, int status)
{
    if (status == HTTP_NOT_FOUND)
        return cs_error(r, status, "Not found", "There is no organization at this address.",
                        "unknown_org");
    return cs_error(r, status, "Sign-in unavailable",
                    "The organization's settings cannot be read right now. Please try again "
                    "in a moment.", "org_registry_unavailable");
}

/* A registry org with SAML on whose service provider could not be built (logged then). */
static int org_not_configured(request_rec *r, const cs_dir_cfg *c)
{
    return cs_error(r, HTTP_SERVICE_UNAVAILABLE, "Sign-in unavailable",
                    "Single sign-on for this organization is not set up correctly yet. Its "
                    "administrator has been told in the server log.", "org_not_configured");
}

static char *random_hex(request_rec *r)
{
    unsigned char bytes[SESSION_ID_BYTES];
    if (apr_generate_random_bytes(bytes, sizeof bytes) != APR_SUCCESS)
        return NULL;
    return session_id_format(r->pool, bytes);
}

/* A session lives only while SCIM keeps its user active: asked again every
 * CloudsmithSAMLSCIMRecheckInterval. Deactivated: the session ends (DECLINED: no login); the
 * database unreachable: 503 unless the org chose CloudsmithSAMLSCIMWhenUnavailable Allow (then
 * the check is retried on the next request). */
static int recheck_scim(request_rec *r, const cs_dir_cfg *c, const char *id,
                        session_record *rec)
{
    scim_db_user_state state;
    const char *given, *family;
    const char *key = apr_pstrcat(r->pool, SESSION_KEY_PREFIX, id, NULL);
    if (cs_scim_user_state(r, c->org, rec->user, &state, &given, &family) != 0) {
        if (cs_scim_unavailable_allows(c))
            return OK;
        return cs_error(r, HTTP_SERVICE_UNAVAILABLE, "Sign-in unavailable",
                        saml_reason_message(SAML_ERR_USER_STORE_UNAVAILABLE),
                        saml_reason_name(SAML_ERR_USER_STORE_UNAVAILABLE));
    }
    if (state == SCIM_DB_USER_INACTIVE) {
        remove_session(r, id);
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, APLOGNO(10542)
                      "org %s: session of %s ended: deactivated by SCIM", c->org->slug,
                      rec->user);
        return DECLINED;
    }
    rec->checked = apr_time_now();
    const char *value = session_record_encode(r->pool, rec);
    if (value == NULL || cs_cache_store(r, key, value, rec->expires) != APR_SUCCESS)
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, APLOGNO(10543)
                      "org %s: could not record the SCIM check of %s's session; it will be "
                      "checked again on the next request", c->org->slug, rec->user);
    return OK;
}

/* The session record of id from the cache: OK, DECLINED when there is none (or it does not
 * decode), or 503 when the cache fails. */
static int read_session(request_rec *r, const cs_dir_cfg *c, const char *id,
                        session_record *rec)
{
    char *value;
    apr_size_t len;
    apr_status_t rv = cs_cache_get(r, apr_pstrcat(r->pool, SESSION_KEY_PREFIX, id, NULL),
                                   &value, &len);
    if (rv == APR_NOTFOUND) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, APLOGNO(10530)
                      "org %s: session cookie names no live session", c->org->slug);
        return DECLINED;
    }
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, APLOGNO(10531)
                      "org %s: session cache read failed", c->org->slug);
        return cs_error(r, HTTP_SERVICE_UNAVAILABLE, "Sign-in unavailable",
                        saml_reason_message(SAML_ERR_CACHE_UNAVAILABLE),
                        saml_reason_name(SAML_ERR_CACHE_UNAVAILABLE));
    }
    const char *err = session_record_decode(r->pool, value, len, rec);
    if (err) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, APLOGNO(10532)
                      "org %s: unreadable session record (%s)", c->org->slug, err);
        return DECLINED;
    }
    return OK;
}

static int scim_recheck_due(const cs_dir_cfg *c, const session_record *rec, apr_time_t now)
{
    return c->org->scim_hash && now - rec->checked >= cs_scim_recheck(c);
}

/* Looks up the request's session for its org: in this process's memo, else in the cache.
 * Returns OK with the identity attached to the request, DECLINED when there is none (or it is
 * dead), or 503 when the cache fails. */
static int load_session(request_rec *r, const cs_dir_cfg *c)
{
    if (cs_request_identity(r))
        return OK;
    const char *id = session_cookie_find(r->pool, apr_table_get(r->headers_in, "Cookie"),
                                         c->org->cookie_name);
    if (id == NULL)
        return DECLINED;
    session_record *rec = apr_pcalloc(r->pool, sizeof(*rec));
    apr_time_t now = apr_time_now();
    /* read before the cache is: a removal after this voids what the cache then gives */
    apr_uint32_t generation = sessions.memo ? session_generation_read(sessions.generation) : 0;
    /* a SCIM check due is done on the cache's copy, which another process may have renewed */
    int memoised = sessions.memo
                   && session_memo_get(sessions.memo, r->pool, id, generation, now, rec)
                   && !scim_recheck_due(c, rec, now);
    if (!memoised) {
        int rc = read_session(r, c, id, rec);
        if (rc != OK)
            return rc;
    }
    if (strcmp(rec->org, c->org->slug) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, APLOGNO(10533)
                      "org %s: refused a session of org %s", c->org->slug, rec->org);
        return DECLINED;
    }
    /* The same slug on another vhost is another SP: its sessions are not ours. */
    if (rec->sp == NULL || strcmp(rec->sp, c->org->acs_url) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, APLOGNO(10541)
                      "org %s: refused a session issued for %s", c->org->slug,
                      rec->sp ? rec->sp : "(unknown)");
        return DECLINED;
    }
    if (rec->expires <= now)
        return DECLINED;
    if (scim_recheck_due(c, rec, now)) {
        int rc = recheck_scim(r, c, id, rec);
        if (rc != OK)
            return rc;
    }
    if (!memoised)
        session_memo_put(sessions.memo, id, rec, generation, now);
    r->user = apr_pstrdup(r->pool, rec->user);
    r->ap_auth_type = CS_AUTH_TYPE;
    state_of(r)->identity = rec;
    return OK;
}

const char *cs_session_create(request_rec *r, const cs_dir_cfg *c, session_record *rec)
{
    char *id = random_hex(r);
    if (id == NULL)
        return "no random bytes for a session ID";
    const char *value = session_record_encode(r->pool, rec);
    if (value == NULL)
        return "the session record could not be encoded";
    apr_status_t rv = cs_cache_store(r, apr_pstrcat(r->pool, SESSION_KEY_PREFIX, id, NULL),
                                     value, rec->expires);
    if (rv != APR_SUCCESS) {
        char buf[120];
        return apr_psprintf(r->pool, "session cache write failed: %s",
                            apr_strerror(rv, buf, sizeof buf));
    }
    long max_age = (long)apr_time_sec(rec->expires - apr_time_now());
    apr_table_addn(r->err_headers_out, "Set-Cookie",
                   session_cookie_build(r->pool, c->org->cookie_name, id, c->org->root_path,
                                        cs_is_https(r), max_age > 0 ? max_age : 1));
    return NULL;
}

void cs_session_end(request_rec *r, const cs_dir_cfg *c)
{
    const char *id = session_cookie_find(r->pool, apr_table_get(r->headers_in, "Cookie"),
                                         c->org->cookie_name);
    if (id) {
        apr_status_t rv = remove_session(r, id);
        if (rv != APR_SUCCESS)
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, APLOGNO(10534)
                          "org %s: could not remove the session from the cache", c->org->slug);
    }
    apr_table_addn(r->err_headers_out, "Set-Cookie",
                   session_cookie_build(r->pool, c->org->cookie_name, "", c->org->root_path,
                                        cs_is_https(r), 0));
}

int cs_start_login(request_rec *r, const cs_dir_cfg *c, const char *return_to, int force_authn)
{
    login_state st = {.org = c->org->slug,
                      .return_to = saml_returnto_sanitize(r->pool, return_to, c->org->root_path),
                      .expires = apr_time_now() + LOGIN_STATE_LIFETIME};
    char *relay_state = random_hex(r);
    const char *url = NULL, *error = NULL;
    if (relay_state == NULL)
        error = "no random bytes for the RelayState";
    else
        error = saml_sp_authn_request(c->org->sp, r->pool, relay_state, force_authn, &url,
                                      &st.request_id);
    if (error) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, APLOGNO(10535)
                      "org %s: cannot build the AuthnRequest: %s", c->org->slug, error);
        return cs_error(r, HTTP_INTERNAL_SERVER_ERROR, "Sign-in unavailable",
                       "The sign-in request could not be built.", "authn_request_failed");
    }
    const char *encoded = login_state_encode(r->pool, &st);
    apr_status_t rv = encoded == NULL ? APR_EGENERAL
                    : cs_cache_store(r, apr_pstrcat(r->pool, LOGIN_KEY_PREFIX, relay_state, NULL),
                                     encoded, st.expires);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, APLOGNO(10536)
                      "org %s: session cache write failed, cannot start a login", c->org->slug);
        return cs_error(r, HTTP_SERVICE_UNAVAILABLE, "Sign-in unavailable",
                       saml_reason_message(SAML_ERR_CACHE_UNAVAILABLE),
                       saml_reason_name(SAML_ERR_CACHE_UNAVAILABLE));
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, APLOGNO(10537)
                  "org %s: login started, AuthnRequest %s, return to %s", c->org->slug,
                  st.request_id, st.return_to);
    cs_no_store(r);
    apr_table_setn(r->err_headers_out, "Location", url);
    return HTTP_SEE_OTHER;
}

/* Pops the pending login that RelayState names; NULL when there is none for this org. */
const login_state *cs_take_login_state(request_rec *r, const cs_dir_cfg *c,
                                       const char *relay_state)
{
    if (relay_state == NULL || !session_id_is_well_formed(relay_state))
        return NULL;
    char *value;
    apr_size_t len;
    if (cs_cache_take(r, apr_pstrcat(r->pool, LOGIN_KEY_PREFIX, relay_state, NULL), &value,
                      &len) != APR_SUCCESS)
        return NULL;
    login_state *st = apr_pcalloc(r->pool, sizeof(*st));
    if (login_state_decode(r->pool, value, len, st) != NULL || strcmp(st->org, c->org->slug) != 0
        || st->expires <= apr_time_now())
        return NULL;
    return st;
}

static int is_our_auth_type(request_rec *r)
{
    const char *type = ap_auth_type(r);
    return type && strcasecmp(type, CS_AUTH_TYPE) == 0;
}

int cs_check_access_ex(request_rec *r)
{
    const cs_dir_cfg *c;
    int rc = cs_request_config(r, &c);
    if (rc != OK)
        return org_unknown(r, rc);
    if (c->org == NULL)
        return DECLINED;
    /* The SAML endpoints must be reachable before anyone is logged in; an org without SAML
     * leaves its pages to the backend (which gets no identity). */
    if (cs_is_endpoint(r, c) || c->saml_off)
        return OK;
    if (c->org->sp == NULL)
        return c->org->from_registry ? org_not_configured(r, c) : DECLINED;
    if (cs_enforce(c) || !is_our_auth_type(r))
        return DECLINED;
    rc = load_session(r, c);
    if (rc != OK && rc != DECLINED)
        return rc;
    return OK;
}

int cs_check_user_id(request_rec *r)
{
    if (!is_our_auth_type(r))
        return DECLINED;
    const cs_dir_cfg *c;
    int rc = cs_request_config(r, &c);
    if (rc != OK)
        return org_unknown(r, rc);
    if (c->org && c->org->from_registry && c->org->sp == NULL)
        return org_not_configured(r, c);
    if (c->org == NULL || c->org->sp == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, APLOGNO(10538)
                      "AuthType %s without CloudsmithSAMLOrg for %s: refusing", CS_AUTH_TYPE,
                      r->uri);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    rc = load_session(r, c);
    if (rc != DECLINED)
        return rc;
    if (r->method_number == M_GET && r->main == NULL) {
        /* unparsed_uri keeps the client's encoding, so the return trip asks for the same URL */
        return cs_start_login(r, c, r->unparsed_uri, 0);
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, APLOGNO(10539)
                  "org %s: %s %s without a session: 401", c->org->slug, r->method, r->uri);
    apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                   apr_psprintf(r->pool, "%s realm=\"%s\"", CS_AUTH_TYPE, c->org->slug));
    return HTTP_UNAUTHORIZED;
}

/* Require cloudsmith-team TEAM [Member|Manager] */
static authz_status team_check(request_rec *r, const char *require_args,
                               const void *parsed)
{
    if (r->user == NULL)
        return AUTHZ_DENIED_NO_USER;
    const session_record *id = cs_request_identity(r);
    const char *args = require_args;
    const char *team = ap_getword_conf(r->pool, &args);
    const char *role_text = ap_getword_conf(r->pool, &args);
    int want_manager = *role_text && strcasecmp(role_text, "Manager") == 0;
    for (int i = 0; id && i < id->teams->nelts; i++) {
        const team_membership *m = &APR_ARRAY_IDX(id->teams, i, team_membership);
        if (strcmp(m->team, team) == 0 && (!want_manager || m->role == TEAM_ROLE_MANAGER))
            return AUTHZ_GRANTED;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, APLOGNO(10540)
                  "user %s is not in team %s%s%s", r->user, team, *role_text ? " as " : "",
                  role_text);
    return AUTHZ_DENIED;
}

static const char *team_parse(cmd_parms *cmd, const char *require_line, const void **parsed)
{
    const char *args = require_line;
    const char *team = ap_getword_conf(cmd->temp_pool, &args);
    const char *role = ap_getword_conf(cmd->temp_pool, &args);
    if (*team == '\0')
        return "Require cloudsmith-team: a team name is required";
    if (*role && strcasecmp(role, "Member") != 0 && strcasecmp(role, "Manager") != 0)
        return apr_psprintf(cmd->pool, "Require cloudsmith-team: role '%s' must be Member or "
                            "Manager", role);
    if (*args)
        return "Require cloudsmith-team: too many arguments (TEAM [Member|Manager])";
    return NULL;
}

static const authz_provider team_provider = {team_check, team_parse};

void cs_register_authz_providers(apr_pool_t *p)
{
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "cloudsmith-team",
                              AUTHZ_PROVIDER_VERSION, &team_provider, AP_AUTH_INTERNAL_PER_CONF);
}
