/* /{org}/saml/{login,acs,metadata,logout}/: served here, never passed to the backend. */
#include <apr_strings.h>
#include <http_core.h>
#include "mod_saml.h"
#include "saml_acs.h"
#include "saml_groupsync.h"
#include "saml_returnto.h"
#include "util_form.h"

static const char *const default_first_name_attrs[] = {
    "firstName", "givenName", "givenname", "urn:oid:2.5.4.42",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname", NULL};
static const char *const default_last_name_attrs[] = {
    "lastName", "sn", "surname", "urn:oid:2.5.4.4",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname", NULL};

/* The part of the URI after "{root}saml/", or NULL when r is not under it. */
static const char *endpoint_name(request_rec *r, const cs_dir_cfg *c)
{
    const char *root = c->org->root_path;
    apr_size_t n = strlen(root);
    if (strncmp(r->uri, root, n) != 0 || strncmp(r->uri + n, "saml/", 5) != 0)
        return NULL;
    return r->uri + n + 5;
}

/* The part of the URI after "{root}scim/v2" ("" or "/..."), or NULL when r is not under it. */
static const char *scim_path(request_rec *r, const cs_dir_cfg *c)
{
    const char *root = c->org->root_path;
    apr_size_t n = strlen(root);
    if (strncmp(r->uri, root, n) != 0 || strncmp(r->uri + n, "scim/v2", 7) != 0
        || (r->uri[n + 7] != '\0' && r->uri[n + 7] != '/'))
        return NULL;
    return r->uri + n + 7;
}

int cs_is_endpoint(request_rec *r, const cs_dir_cfg *c)
{
    return c->org && (endpoint_name(r, c) != NULL || scim_path(r, c) != NULL);
}

static const char *first_attribute(const apr_table_t *attrs, const apr_array_header_t *names,
                                   const char *const *defaults)
{
    if (names) {
        for (int i = 0; i < names->nelts; i++) {
            const char *v = apr_table_get(attrs, APR_ARRAY_IDX(names, i, const char *));
            if (v)
                return v;
        }
        return NULL;
    }
    for (; *defaults; defaults++) {
        const char *v = apr_table_get(attrs, *defaults);
        if (v)
            return v;
    }
    return NULL;
}

int cs_read_body(request_rec *r, apr_off_t limit, char **body, apr_size_t *body_len)
{
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    if (cl && apr_atoi64(cl) > limit)
        return HTTP_REQUEST_ENTITY_TOO_LARGE;
    int rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK);
    if (rc != OK)
        return rc;
    apr_size_t cap = 8192, len = 0;
    char *buf = apr_palloc(r->pool, cap + 1);
    if (ap_should_client_block(r)) {
        for (;;) {
            if (len == cap) {
                if ((apr_off_t)cap >= limit + 1)
                    return HTTP_REQUEST_ENTITY_TOO_LARGE;
                apr_size_t grown = cap * 2;
                char *bigger = apr_palloc(r->pool, grown + 1);
                memcpy(bigger, buf, len);
                buf = bigger;
                cap = grown;
            }
            long n = ap_get_client_block(r, buf + len, cap - len);
            if (n < 0)
                return HTTP_BAD_REQUEST;
            if (n == 0)
                break;
            len += n;
            if ((apr_off_t)len > limit)
                return HTTP_REQUEST_ENTITY_TOO_LARGE;
        }
    }
    buf[len] = '\0';
    if (strlen(buf) != len)
        return HTTP_BAD_REQUEST;
    *body = buf;
    *body_len = len;
    return OK;
}

static int refuse(request_rec *r, const cs_dir_cfg *c, saml_reason reason, const char *detail,
                  const saml_login *login)
{
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, APLOGNO(10550)
                  "org %s: login refused: %s%s%s (response %s, assertion %s, client %s)",
                  c->org->slug, saml_reason_name(reason), detail ? ": " : "",
                  detail ? detail : "",
                  login && login->response_id ? login->response_id : "-",
                  login && login->assertion_id ? login->assertion_id : "-",
                  r->useragent_ip);
    return cs_page(r, saml_reason_http_status(reason), "Sign-in refused",
                   saml_reason_message(reason), saml_reason_name(reason));
}

static int handle_acs(request_rec *r, const cs_dir_cfg *c)
{
    if (r->method_number != M_POST) {
        apr_table_setn(r->err_headers_out, "Allow", "POST");
        return cs_page(r, HTTP_METHOD_NOT_ALLOWED, "Method not allowed",
                       "The sign-in endpoint only accepts the identity provider's POST.",
                       "acs_method_not_allowed");
    }
    char *body = NULL;
    apr_size_t body_len = 0;
    int rc = cs_read_body(r, cs_max_body(c), &body, &body_len);
    if (rc == HTTP_REQUEST_ENTITY_TOO_LARGE)
        return refuse(r, c, SAML_ERR_TOO_LARGE, "request body above CloudsmithSAMLMaxBodySize",
                      NULL);
    if (rc != OK)
        return refuse(r, c, SAML_ERR_NO_RESPONSE, "unreadable request body", NULL);
    int invalid = 0, relay_invalid = 0;
    const char *b64 = form_field(r->pool, body, "SAMLResponse", &invalid);
    const char *relay_state = form_field(r->pool, body, "RelayState", &relay_invalid);
    if (invalid)
        return refuse(r, c, SAML_ERR_BAD_BASE64, "SAMLResponse is not valid form encoding", NULL);
    if (relay_invalid)
        relay_state = NULL;

    saml_acs_policy policy = {.now = apr_time_now(), .clock_skew = cs_clock_skew(c),
                              .max_issue_age = cs_max_issue_age(c),
                              .max_message_bytes = (apr_size_t)cs_max_body(c),
                              .allow_sha1 = cs_allow_sha1(c)};
    saml_login *login = NULL;
    const char *detail = NULL;
    saml_reason reason = saml_acs_consume(c->org->sp, b64, &policy, r->pool, &login, &detail);
    if (reason != SAML_OK)
        return refuse(r, c, reason, detail, login);

    /* Solicited: InResponseTo must name a pending request of this org, used once. */
    const login_state *pending = cs_take_login_state(r, c, relay_state);
    const char *return_to = c->org->root_path;
    if (login->in_response_to) {
        if (pending == NULL || strcmp(pending->request_id, login->in_response_to) != 0)
            return refuse(r, c, SAML_ERR_UNKNOWN_REQUEST,
                          apr_psprintf(r->pool, "InResponseTo %s", login->in_response_to), login);
        return_to = pending->return_to;
    } else {
        if (!cs_allow_unsolicited(c))
            return refuse(r, c, SAML_ERR_UNSOLICITED, NULL, login);
        if (pending)
            return_to = pending->return_to;
        else if (relay_state)
            return_to = saml_returnto_sanitize(r->pool, relay_state, c->org->root_path);
    }

    /* A user SCIM deactivated cannot sign in; checked before anything is stored. */
    const char *scim_given = NULL, *scim_family = NULL;
    if (c->org->scim_hash) {
        scim_db_user_state state = SCIM_DB_USER_ABSENT;
        if (cs_scim_user_state(r, c->org, login->name_id, &state, &scim_given,
                               &scim_family) != 0 && !cs_scim_unavailable_allows(c))
            return refuse(r, c, SAML_ERR_USER_STORE_UNAVAILABLE, NULL, login);
        if (state == SCIM_DB_USER_INACTIVE)
            return refuse(r, c, SAML_ERR_USER_DEACTIVATED, login->name_id, login);
    }

    apr_time_t replay_until = login->valid_until + cs_clock_skew(c);
    apr_status_t rv = cs_cache_add_once(r, apr_pstrcat(r->pool, "cs-replay:", c->org->slug, ":",
                                                       login->assertion_id, NULL),
                                        "1", replay_until);
    if (rv == APR_EEXIST)
        return refuse(r, c, SAML_ERR_REPLAY, NULL, login);
    if (rv != APR_SUCCESS)
        return refuse(r, c, SAML_ERR_CACHE_UNAVAILABLE, "replay cache write failed", login);

    session_record rec = {.org = c->org->slug, .sp = c->org->acs_url, .user = login->name_id, .email = login->name_id,
                          .idp_entity_id = login->issuer, .session_index = login->session_index,
                          .created = policy.now};
    rec.first_name = first_attribute(login->attributes, c->first_name_attrs,
                                     default_first_name_attrs);
    rec.last_name = first_attribute(login->attributes, c->last_name_attrs,
                                    default_last_name_attrs);
    rec.teams = groupsync_apply(r->pool, c->groupsync, login->attributes);
    if (c->org->scim_hash) {
        /* SCIM's profile fills the names the assertion did not carry. */
        if (rec.first_name == NULL)
            rec.first_name = scim_given;
        if (rec.last_name == NULL)
            rec.last_name = scim_family;
        rec.checked = policy.now;
    }
    rec.expires = policy.now + cs_session_lifetime(c);
    if (login->session_not_on_or_after && login->session_not_on_or_after < rec.expires)
        rec.expires = login->session_not_on_or_after;
    const char *error = cs_session_create(r, c, &rec);
    if (error)
        return refuse(r, c, SAML_ERR_CACHE_UNAVAILABLE, error, login);

    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, APLOGNO(10551)
                  "org %s: %s signed in (%s, assertion %s, %d team(s), client %s)",
                  c->org->slug, rec.user, login->in_response_to ? "SP-initiated"
                  : "IdP-initiated", login->assertion_id, rec.teams->nelts, r->useragent_ip);
    cs_no_store(r);
    apr_table_setn(r->err_headers_out, "Location", return_to);
    return HTTP_SEE_OTHER;
}

static int handle_login(request_rec *r, const cs_dir_cfg *c)
{
    if (r->method_number != M_GET)
        return cs_page(r, HTTP_METHOD_NOT_ALLOWED, "Method not allowed",
                       "Start sign-in with a GET request.", "login_method_not_allowed");
    int invalid = 0, force_invalid = 0;
    const char *return_to = r->args ? form_field(r->pool, r->args, "ReturnTo", &invalid) : NULL;
    /* ForceAuthn=true asks the IdP to authenticate the user again, even with a live IdP session */
    const char *force = r->args ? form_field(r->pool, r->args, "ForceAuthn", &force_invalid)
                                : NULL;
    int force_authn = force && !force_invalid
                      && (strcasecmp(force, "true") == 0 || strcmp(force, "1") == 0);
    return cs_start_login(r, c, invalid ? NULL : return_to, force_authn);
}

static int handle_logout(request_rec *r, const cs_dir_cfg *c)
{
    if (r->method_number != M_GET && r->method_number != M_POST)
        return cs_page(r, HTTP_METHOD_NOT_ALLOWED, "Method not allowed",
                       "Sign out with GET or POST.", "logout_method_not_allowed");
    cs_session_end(r, c);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, APLOGNO(10552)
                  "org %s: signed out (client %s)", c->org->slug, r->useragent_ip);
    return cs_page(r, HTTP_OK, "Signed out",
                   apr_psprintf(r->pool, "You are signed out of %s.", c->org->slug), NULL);
}

static int handle_metadata(request_rec *r, const cs_dir_cfg *c)
{
    if (r->method_number != M_GET)
        return cs_page(r, HTTP_METHOD_NOT_ALLOWED, "Method not allowed",
                       "Fetch the metadata with GET.", "metadata_method_not_allowed");
    ap_set_content_type(r, "application/samlmetadata+xml");
    if (!r->header_only)
        ap_rputs(saml_sp_metadata_xml(r->pool, saml_sp_get_config(c->org->sp)), r);
    return OK;
}

int cs_handler(request_rec *r)
{
    const cs_dir_cfg *c;
    if (cs_request_config(r, &c) != OK || c->org == NULL)
        return DECLINED; /* (the access hook answered already) */
    const char *scim = scim_path(r, c);
    if (scim)
        return cs_scim_handle(r, c, scim);
    const char *name = endpoint_name(r, c);
    if (name == NULL)
        return DECLINED;
    if (c->saml_off)
        return cs_page(r, HTTP_NOT_FOUND, "Not found",
                       "Single sign-on is not enabled for this organization.", "saml_disabled");
    if (c->org->sp == NULL)
        return c->org->from_registry
                   ? cs_page(r, HTTP_SERVICE_UNAVAILABLE, "Sign-in unavailable",
                             "Single sign-on for this organization is not set up correctly "
                             "yet.", "org_not_configured")
                   : DECLINED;
    if (strcmp(name, "acs/") == 0 || strcmp(name, "acs") == 0)
        return handle_acs(r, c);
    if (strcmp(name, "login/") == 0 || strcmp(name, "login") == 0)
        return handle_login(r, c);
    if (strcmp(name, "logout/") == 0 || strcmp(name, "logout") == 0)
        return handle_logout(r, c);
    if (strcmp(name, "metadata/") == 0 || strcmp(name, "metadata") == 0)
        return handle_metadata(r, c);
    return cs_page(r, HTTP_NOT_FOUND, "Not found", "There is no such sign-in endpoint.",
                   "unknown_endpoint");
}
