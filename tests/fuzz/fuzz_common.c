#include <glib.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include "fuzz_common.h"

apr_pool_t *fuzz_input_pool;
apr_pool_t *fuzz_global_pool;

static void quiet_xml_generic(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

static void quiet_xml_structured(void *ctx, xmlErrorPtr error)
{
    (void)ctx;
    (void)error;
}

static void quiet_glog(const gchar *domain, GLogLevelFlags level, const gchar *message,
                       gpointer data)
{
    (void)domain;
    (void)level;
    (void)message;
    (void)data;
}

void fuzz_init(void)
{
    if (fuzz_input_pool)
        return;
    if (apr_initialize() != APR_SUCCESS)
        abort();
    apr_pool_create(&fuzz_global_pool, NULL);
    apr_pool_create(&fuzz_input_pool, NULL);
    /* libxml2 and Lasso/xmlsec (which log through GLib) would print on every malformed
     * input; FUZZ_VERBOSE=1 keeps their messages, for debugging one input. */
    const char *verbose = getenv("FUZZ_VERBOSE");
    if (verbose == NULL || *verbose == '\0' || *verbose == '0') {
        xmlSetGenericErrorFunc(NULL, quiet_xml_generic);
        xmlSetStructuredErrorFunc(NULL, quiet_xml_structured);
        g_log_set_default_handler(quiet_glog, NULL);
        g_log_set_handler("Lasso", G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION,
                          quiet_glog, NULL);
    }
}

void fuzz_input_done(void)
{
    apr_pool_clear(fuzz_input_pool);
}

char *fuzz_cstring(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

char *fuzz_slurp(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "fuzz: cannot open %s\n", path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *buf = apr_palloc(fuzz_global_pool, (apr_size_t)n + 1);
    buf[fread(buf, 1, (size_t)n, f)] = '\0';
    fclose(f);
    return buf;
}
