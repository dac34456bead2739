/* Identity headers: client-sent copies removed on every request; the real ones set for the
 * backend once a session is known. */
#include <apr_strings.h>
#include "mod_saml.h"
#include "identity_header.h"
#include "session_id.h"

/* apr_table_do callback: stops at the first client header that could be read as an identity
 * header, keeping its name in *rec. */
static int find_identity(void *rec, const char *name, const char *value)
{
    const apr_array_header_t *names = cs_all_identity_header_names();
    for (int i = 0; i < names->nelts; i++) {
        if (identity_header_name_matches(name, APR_ARRAY_IDX(names, i, const char *))) {
            *(const char **)rec = name;
            return 0;
        }
    }
    return 1;
}

/* One pass over the headers and no allocation when, as on nearly every request, there is
 * nothing to drop; each header dropped is one more pass. */
int cs_scrub_identity_headers(request_rec *r)
{
    const char *name = NULL;
    while (apr_table_do(find_identity, &name, r->headers_in, NULL) == 0 && name) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, APLOGNO(10520)
                      "dropped client-sent identity header %s", name);
        apr_table_unset(r->headers_in, name);
        name = NULL;
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
