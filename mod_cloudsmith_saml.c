/* mod_cloudsmith_saml: SAML 2.0 single sign-on in front of an organization's pages.
 * The module record: hooks and directives; the work is in src/. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* dladdr, RTLD_NODELETE */
#endif
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <lasso/lasso.h>
#define CS_MODULE_RECORD
#include "src/mod_saml.h"

#define LASSO_READY_KEY "cloudsmith_saml:lasso_ready"

/* httpd unloads and reloads every module between its two configuration passes. Lasso's
 * GObject types stay registered in libgobject (which is never unloaded), so a reloaded
 * liblasso could not register them again: liblasso is pinned in memory instead. Returns NULL
 * or the reason it could not be pinned. */
static const char *pin_lasso(void)
{
    Dl_info info;
    if (dladdr((void *)lasso_init, &info) == 0 || info.dli_fname == NULL)
        return "dladdr found no library holding lasso_init";
    if (dlopen(info.dli_fname, RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE) == NULL)
        return dlerror();
    return NULL;
}

static int cs_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    cs_config_reset();
    return cs_cache_pre_config(pconf) == APR_SUCCESS ? OK : HTTP_INTERNAL_SERVER_ERROR;
}

/* check_config runs for `apachectl -t` too, so every per-org mistake (a missing or unreadable
 * metadata file, a key that does not load) stops the syntax check, not only the start. */
static int cs_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                           server_rec *s)
{
    /* Lasso reads LASSO_FLAG at init; "no-verify-signature" would turn every signature check
     * off, so such an environment is refused outright. */
    const char *flags = getenv("LASSO_FLAG");
    if (flags && strstr(flags, "no-verify-signature")) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, APLOGNO(10505)
                     "LASSO_FLAG=%s would disable SAML signature checks: refusing to start",
                     flags);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* Once per process: the flag lives in the process pool, which outlives module reloads. */
    void *lasso_ready = NULL;
    apr_pool_userdata_get(&lasso_ready, LASSO_READY_KEY, s->process->pool);
    if (lasso_ready == NULL) {
        const char *why = pin_lasso();
        if (why) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, APLOGNO(10506)
                         "cannot keep liblasso loaded across configuration passes: %s", why);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        int rc = lasso_init();
        if (rc != 0) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, APLOGNO(10500) "lasso_init failed: %s",
                         lasso_strerror(rc));
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        apr_pool_userdata_set((void *)1, LASSO_READY_KEY, apr_pool_cleanup_null,
                              s->process->pool);
    }
    return cs_build_orgs(pconf, ptemp, s);
}

static int cs_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    int rc = cs_cache_post_config(pconf, ptemp, s, cs_cache_spec(), cs_session_key_file());
    return rc == OK ? cs_session_memo_post_config(pconf, s) : rc;
}

static void cs_child_init(apr_pool_t *p, server_rec *s)
{
    /* Lasso stamps every debug message it makes (a few dozen per login) with localtime(),
     * which without TZ stats /etc/localtime on each call: 2.7 us against 0.55 us with it.
     * Same zone, read once; set in each child before its threads start (never in the
     * parent, whose environment every restart and CGI inherits). */
    if (getenv("TZ") == NULL)
        setenv("TZ", ":/etc/localtime", 0);
    cs_scim_child_init(p);
    cs_registry_child_init(p, cs_all_registries());
}

static void cs_register_hooks(apr_pool_t *p)
{
    static const char *const after_socache[] = {"mod_socache_shmcb.c", NULL};
    ap_hook_pre_config(cs_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(cs_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(cs_post_config, after_socache, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(cs_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    /* Before anything can read them: drop client-sent identity headers. */
    ap_hook_post_read_request(cs_scrub_identity_headers, NULL, NULL, APR_HOOK_REALLY_FIRST);
    ap_hook_check_access_ex(cs_check_access_ex, NULL, NULL, APR_HOOK_FIRST,
                            AP_AUTH_INTERNAL_PER_URI);
    ap_hook_check_authn(cs_check_user_id, NULL, NULL, APR_HOOK_MIDDLE,
                        AP_AUTH_INTERNAL_PER_CONF);
    cs_register_authz_providers(p);
    ap_hook_fixups(cs_fixups, NULL, NULL, APR_HOOK_MIDDLE);
    /* Before mod_proxy, so an endpoint never reaches the backend. */
    ap_hook_handler(cs_handler, NULL, NULL, APR_HOOK_REALLY_FIRST);
}

AP_DECLARE_MODULE(cloudsmith_saml) = {
    STANDARD20_MODULE_STUFF,
    cs_create_dir_cfg,
    cs_merge_dir_cfg,
    NULL,
    NULL,
    cs_directives,
    cs_register_hooks,
#if defined(AP_MODULE_FLAG_ALWAYS_MERGE)
    AP_MODULE_FLAG_ALWAYS_MERGE
#endif
};
