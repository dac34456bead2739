/* Identity headers: client-sent copies removed on every request; the real ones set for the
 * backend once a session is known. */
#include <apr_strings.h>
#include "mod_saml.h"
#include "identity_header.h"
#include "session_id.h"

static int drop_if_identity(void *rec, const char *name, const char *value)
{
    apr_array_header_t *drop = rec;
    const apr_array_header_t *names = cs_all_identity_header_names();
    for (int i = 0; i < names->nelts; i++) {
        if (identity_header_name_matches(name, APR_ARRAY_IDX(names, i, const char *))) {
            APR_ARRAY_PUSH(drop, const char *) = name;
            break;
        }
    }
    return 1;
}

int cs_scrub_identity_headers(request_rec *r)
{
    apr_array_header_t *drop = apr_array_make(r->pool, 2, sizeof(const char *));
    apr_table_do(drop_if_identity, drop, r->headers_in, NULL);
    for (int i = 0; i < drop->nelts; i++) {
        const char *name = APR_ARRAY_IDX(drop, i, const char *);
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, APLOGNO(10520)
                      "dropped client-sent identity header %s", name);
        apr_table_unset(r->headers_in, name);
    }
    return DECLINED;
}

static void set_identity_header(request_rec *r, const cs_dir_cfg *c, identity_field f,
                                const char *raw)
{
    const char *name = cs_header_name(c, f);
    if (raw == NULL || *raw == '\0')
        return;
    const char *value = identity_header_value(r->pool, raw);
    if (value == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, APLOGNO(10521)
                      "identity header %s not set: the value holds control characters or "
                      "invalid UTF-8", name);
        return;
    }
    apr_table_setn(r->headers_in, name, value);
}

int cs_fixups(request_rec *r)
{
    const cs_dir_cfg *c;
    if (cs_request_config(r, &c) != OK)
        c = ap_get_module_config(r->per_dir_config, &cloudsmith_saml_module);
    /* The session cookie is a bearer secret for this module only: the backend never sees it
     * (the module's own endpoints, served later, still need it for logout). */
    const char *cookies = apr_table_get(r->headers_in, "Cookie");
    if (cookies && strstr(cookies, SESSION_COOKIE_PREFIX) && !cs_is_endpoint(r, c)) {
        const char *kept = session_cookie_strip(r->pool, cookies, SESSION_COOKIE_PREFIX);
        if (kept)
            apr_table_setn(r->headers_in, "Cookie", kept);
        else
            apr_table_unset(r->headers_in, "Cookie");
    }
    const session_record *id = cs_request_identity(r);
    if (id == NULL)
        return DECLINED;
    set_identity_header(r, c, HDR_USER, id->user);
    set_identity_header(r, c, HDR_EMAIL, id->email);
    set_identity_header(r, c, HDR_FIRST_NAME, id->first_name);
    set_identity_header(r, c, HDR_LAST_NAME, id->last_name);
    set_identity_header(r, c, HDR_ORG, id->org);
    /* An empty team list is still sent, so the backend can tell "no teams" from "no header". */
    apr_table_setn(r->headers_in, cs_header_name(c, HDR_TEAMS),
                   identity_header_teams(r->pool, id->teams));
    apr_table_setn(r->subprocess_env, "CLOUDSMITH_SAML_ORG", id->org);
    if (id->email)
        apr_table_setn(r->subprocess_env, "CLOUDSMITH_SAML_EMAIL", id->email);
    return DECLINED;
}
