/* The few pages the module renders itself: errors and the signed-out page. */
#include <apr_strings.h>
#include <http_core.h>
#include "mod_saml.h"
#include "saml_xml.h"

void cs_no_store(request_rec *r)
{
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->err_headers_out, "Pragma", "no-cache");
}

int cs_is_https(request_rec *r)
{
    return strcasecmp(ap_http_scheme(r), "https") == 0;
}

static void page_headers(request_rec *r)
{
    cs_no_store(r);
    apr_table_setn(r->err_headers_out, "X-Frame-Options", "DENY");
    apr_table_setn(r->err_headers_out, "X-Content-Type-Options", "nosniff");
    apr_table_setn(r->err_headers_out, "Content-Security-Policy",
                   "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
}

static const char *render_page(request_rec *r, const char *title, const char *message,
                               const char *reason_name)
{
    const char *t = saml_xml_escape(r->pool, title);
    const char *reason = reason_name
        ? apr_psprintf(r->pool, "<p><small>Reason: <code>%s</code> &middot; %s</small></p>",
                       saml_xml_escape(r->pool, reason_name),
                       saml_xml_escape(r->pool, ap_ht_time(r->pool, r->request_time,
                                                           "%Y-%m-%d %H:%M:%S UTC", 1)))
        : "";
    return apr_psprintf(r->pool,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>%s</title><style>body{font-family:sans-serif;max-width:40em;margin:4em auto;"
        "color:#222}code{color:#555}</style></head><body><h1>%s</h1><p>%s</p>%s"
        "</body></html>\n", t, t, saml_xml_escape(r->pool, message), reason);
}

int cs_page(request_rec *r, int status, const char *title, const char *message,
            const char *reason_name)
{
    page_headers(r);
    r->status = status;
    ap_set_content_type(r, "text/html; charset=utf-8");
    if (!r->header_only)
        ap_rputs(render_page(r, title, message, reason_name), r);
    return OK;
}

int cs_error(request_rec *r, int status, const char *title, const char *message,
             const char *reason_name)
{
    page_headers(r);
    ap_custom_response(r, status, render_page(r, title, message, reason_name));
    return status;
}
