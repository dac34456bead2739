#include <string.h>
#include <strings.h>
#include <curl/curl.h>
#include <apr_strings.h>
#include "org_fetch.h"

const char *org_fetch_check_url(apr_pool_t *p, const char *url, const org_fetch_options *o)
{
    if (strncasecmp(url, "https://", 8) == 0 && url[8] != '\0')
        return NULL;
    if (strncasecmp(url, "http://", 7) == 0 && url[7] != '\0')
        return o->allow_http ? NULL
            : apr_psprintf(p, "refusing plain http:// URL %s: the metadata carries the IdP's "
                           "signing certificate, and a copy changed on the way lets anyone "
                           "sign in as any user; use https:// (--allow-http is for tests)",
                           url);
    return apr_psprintf(p, "'%s' is not an https:// URL", url);
}

typedef struct {
    apr_pool_t *p;
    char *data;
    apr_size_t len, cap, max;
    int too_large;
} body_buffer;

static size_t take_bytes(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    body_buffer *b = userdata;
    apr_size_t n = size * nmemb;
    if (n > b->max - b->len) {
        b->too_large = 1;
        return 0; /* curl stops with CURLE_WRITE_ERROR */
    }
    if (b->len + n + 1 > b->cap) {
        apr_size_t cap = b->cap ? b->cap : 16384;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *grown = apr_palloc(b->p, cap);
        if (b->len)
            memcpy(grown, b->data, b->len);
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

static const char *failure(apr_pool_t *p, CURLcode rc, const char *url, const char *detail,
                           const org_fetch_options *o, const body_buffer *b)
{
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return apr_psprintf(p, "timed out after %ld s fetching %s", o->timeout_seconds, url);
    case CURLE_FILESIZE_EXCEEDED:
        return apr_psprintf(p, "more than %" APR_SIZE_T_FMT " bytes from %s: IdP metadata "
                            "larger than that is refused", o->max_bytes, url);
    case CURLE_WRITE_ERROR:
        if (b->too_large)
            return failure(p, CURLE_FILESIZE_EXCEEDED, url, detail, o, b);
        break;
    case CURLE_TOO_MANY_REDIRECTS:
        return apr_psprintf(p, "more than %d redirects from %s", ORG_FETCH_MAX_REDIRECTS, url);
    case CURLE_UNSUPPORTED_PROTOCOL:
        return apr_psprintf(p, "%s redirected to a URL that is not https:// (%s)", url, detail);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CONNECT_ERROR:
        return apr_psprintf(p, "TLS with %s failed: %s", url, detail);
    default:
        break;
    }
    return apr_psprintf(p, "cannot fetch %s: %s", url, detail);
}

const char *org_fetch(apr_pool_t *p, const char *url, const org_fetch_options *o,
                      const char **body)
{
    const char *why = org_fetch_check_url(p, url, o);
    if (why)
        return why;
    CURL *curl = curl_easy_init();
    if (curl == NULL)
        return "libcurl could not start a transfer";
    const char *protocols = o->allow_http ? "http,https" : "https";
    char error_text[CURL_ERROR_SIZE] = "";
    body_buffer b = {.p = p, .max = o->max_bytes};
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, protocols);
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, protocols);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, (long)ORG_FETCH_MAX_REDIRECTS);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, o->timeout_seconds);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, o->timeout_seconds);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    if (o->ca_file)
        curl_easy_setopt(curl, CURLOPT_CAINFO, o->ca_file);
    curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_bytes);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, take_bytes);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_text);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "cloudsmith-saml-admin");
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    if (rc != CURLE_OK)
        return failure(p, rc, url, error_text[0] ? error_text : curl_easy_strerror(rc), o, &b);
    if (status != 200)
        return apr_psprintf(p, "HTTP %ld from %s", status, url);
    if (b.len == 0)
        return apr_psprintf(p, "an empty body from %s", url);
    if (memchr(b.data, '\0', b.len))
        return apr_psprintf(p, "not valid IdP metadata from %s: it contains a NUL byte", url);
    *body = b.data;
    return NULL;
}
