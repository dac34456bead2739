#include "unit.h"
#include "saml_returnto.h"

#define ROOT "/acme/"

/* Each refused candidate must come back as the org root. */
static void check_refused(apr_pool_t *p, const char *const *payloads, int n)
{
    for (int i = 0; i < n; i++) {
        const char *got = saml_returnto_sanitize(p, payloads[i], ROOT);
        if (got == NULL || strcmp(got, ROOT) != 0) {
            unit_failed_checks++;
            fprintf(stderr, "  payload #%d \"%s\" gave \"%s\", want the org root\n", i,
                    payloads[i], got ? got : "(null)");
        }
    }
}

#define CHECK_REFUSED(...) do { static const char *const list_[] = {__VA_ARGS__}; \
    check_refused(p, list_, (int)(sizeof list_ / sizeof list_[0])); } while (0)

static void test_returnto_refuses_absolute_urls_and_schemes(apr_pool_t *p)
{
    CHECK_REFUSED("https://evil.com", "http://evil.com/acme/", "http:/evil.com",
                  "http:evil.com", "javascript:alert(1)", "JaVaScRiPt:alert(1)",
                  "data:text/html,x", "evil.com", "acme/", "mailto:x@evil.com");
}

static void test_returnto_refuses_protocol_relative(apr_pool_t *p)
{
    CHECK_REFUSED("//evil.com", "///evil.com", "///evil.com/", "////evil.com",
                  "//evil.com/acme/", "/acme//evil.com", "/acme/page//x");
}

static void test_returnto_refuses_backslashes(apr_pool_t *p)
{
    CHECK_REFUSED("/\\evil.com", "\\\\evil.com", "/\\/evil.com", "/acme/\\evil",
                  "\\/evil.com", "/acme/\\");
}

static void test_returnto_refuses_percent_encoded_separators(apr_pool_t *p)
{
    CHECK_REFUSED("/%5cevil.com", "/%5Cevil.com", "/%2f%2fevil.com", "%2f%2fevil.com",
                  "/acme/%2fevil.com", "/acme/%2F/evil.com", "/acme/%5c", "/acme/%2e%2e/other/",
                  "/acme/%2E%2E/other/", "/acme/%2e", "/acme/%252e%252e/", "/acme/%25");
}

static void test_returnto_refuses_control_characters_and_whitespace(apr_pool_t *p)
{
    CHECK_REFUSED("/acme/\t/evil.com", "/acme/\r\nLocation: x", "/acme/\nx", " /acme/",
                  "/acme/ ", "/acme/a b", "\t/acme/", "/acme/\x7f", "/acme/\x0b",
                  "/acme/\x0c", "/acme/%0d%0aSet-Cookie:x=1", "/acme/%00", "/acme/%7f",
                  "/acme/%09");
}

static void test_returnto_refuses_malformed_percent_escapes(apr_pool_t *p)
{
    CHECK_REFUSED("/acme/%", "/acme/%2", "/acme/%zz", "/acme/%g0", "/acme/?q=%");
}

static void test_returnto_refuses_non_ascii_including_unicode_slashes(apr_pool_t *p)
{
    CHECK_REFUSED("/\xef\xbc\x8f" "evil.com",   /* U+FF0F fullwidth solidus */
                  "/\xe2\x81\x84" "evil",       /* U+2044 fraction slash */
                  "/\xe2\x88\x95" "evil",       /* U+2215 division slash */
                  "/\xef\xbc\xbc" "evil",       /* U+FF3C fullwidth reverse solidus */
                  "/acme/\xc3\xa9", "/acme/\xe3\x80\x80" "x" /* U+3000 ideographic space */);
}

static void test_returnto_refuses_dot_segments(apr_pool_t *p)
{
    CHECK_REFUSED("/acme/../other/", "/acme/..", "/acme/./x", "/acme/.", "/acme/a/../../x",
                  "/acme/..;/other/", "/acme/.;x/y", "/acme/..?x=1");
}

static void test_returnto_refuses_paths_outside_the_org(apr_pool_t *p)
{
    CHECK_REFUSED("/other/", "/acmeevil/", "/acmeevil", "/ACME/", "/", "/acme", "/acm");
}

static void test_returnto_refuses_empty_and_null(apr_pool_t *p)
{
    CHECK_STR(saml_returnto_sanitize(p, NULL, ROOT), ROOT);
    CHECK_STR(saml_returnto_sanitize(p, "", ROOT), ROOT);
    CHECK_STR(saml_returnto_sanitize(p, "#/acme/x", ROOT), ROOT);
    CHECK_STR(saml_returnto_sanitize(p, "?/acme/", ROOT), ROOT);
}

static void test_returnto_refuses_mellon_cve_payloads(apr_pool_t *p)
{
    CHECK_REFUSED(/* CVE-2019-3877 */ "/\\evil.com", "/\\\\evil.com",
                  "http:%2f%5cwww.malicious.com", "/acme/http:%2f%5cwww.malicious.com",
                  /* CVE-2019-13038 */ "///evil.com", "/\\/evil.com", "http:www.malicious.com",
                  /* CVE-2021-3639 */ "/%09/evil.com", "///evil.com/", "/\t/evil.com",
                  "/ /evil.com", "/%20/evil.com", "/\r/evil.com", "/\n/evil.com",
                  "/%0a/evil.com", "/%0d/evil.com");
}

static void test_returnto_keeps_paths_inside_the_org(apr_pool_t *p)
{
    CHECK_STR(saml_returnto_sanitize(p, "/acme/", ROOT), "/acme/");
    CHECK_STR(saml_returnto_sanitize(p, "/acme/page", ROOT), "/acme/page");
    CHECK_STR(saml_returnto_sanitize(p, "/acme/a/b/c.html", ROOT), "/acme/a/b/c.html");
    CHECK_STR(saml_returnto_sanitize(p, "/acme/...", ROOT), "/acme/...");
    CHECK_STR(saml_returnto_sanitize(p, "/acme/.well-known/x", ROOT), "/acme/.well-known/x");
    CHECK_STR(saml_returnto_sanitize(p, "/acme/a..b/", ROOT), "/acme/a..b/");
    CHECK_STR(saml_returnto_sanitize(p, "/acme/x:y@z;v=1", ROOT), "/acme/x:y@z;v=1");
}

static void test_returnto_keeps_query_and_ordinary_percent_encoding(apr_pool_t *p)
{
    CHECK_STR(saml_returnto_sanitize(p, "/acme/a/b?x=1&y=%20z", ROOT), "/acme/a/b?x=1&y=%20z");
    CHECK_STR(saml_returnto_sanitize(p, "/acme/caf%C3%A9", ROOT), "/acme/caf%C3%A9");
    CHECK_STR(saml_returnto_sanitize(p, "/acme/?q=a:b", ROOT), "/acme/?q=a:b");
}

static void test_returnto_drops_the_fragment(apr_pool_t *p)
{
    CHECK_STR(saml_returnto_sanitize(p, "/acme/page#frag", ROOT), "/acme/page");
    CHECK_STR(saml_returnto_sanitize(p, "/acme/page?x=1#frag", ROOT), "/acme/page?x=1");
    CHECK_STR(saml_returnto_sanitize(p, "/acme/#//evil.com", ROOT), "/acme/");
}

static void test_returnto_keeps_encoded_slashes_and_dots_in_the_query(apr_pool_t *p)
{
    /* the query cannot change where the browser goes: deep links keep working */
    CHECK_STR(saml_returnto_sanitize(p, "/acme/r?x=%2F&v=1%2e0", ROOT), "/acme/r?x=%2F&v=1%2e0");
    CHECK_STR(saml_returnto_sanitize(p, "/acme/?next=//x", ROOT), "/acme/?next=//x");
    CHECK_REFUSED("/acme/?q=a b", "/acme/?q=\\x", "/acme/?q=%zz", "/acme/?q=\r\n");
}

static void test_returnto_works_for_the_root_org_path(apr_pool_t *p)
{
    CHECK_STR(saml_returnto_sanitize(p, "/x/y", "/"), "/x/y");
    CHECK_STR(saml_returnto_sanitize(p, "//evil.com", "/"), "/");
    CHECK_STR(saml_returnto_sanitize(p, "/\\evil.com", "/"), "/");
    CHECK_STR(saml_returnto_sanitize(p, "/..", "/"), "/");
}

static const unit_case cases[] = {
    UNIT(test_returnto_refuses_absolute_urls_and_schemes),
    UNIT(test_returnto_refuses_protocol_relative),
    UNIT(test_returnto_refuses_backslashes),
    UNIT(test_returnto_refuses_percent_encoded_separators),
    UNIT(test_returnto_refuses_control_characters_and_whitespace),
    UNIT(test_returnto_refuses_malformed_percent_escapes),
    UNIT(test_returnto_refuses_non_ascii_including_unicode_slashes),
    UNIT(test_returnto_refuses_dot_segments),
    UNIT(test_returnto_refuses_paths_outside_the_org),
    UNIT(test_returnto_refuses_empty_and_null),
    UNIT(test_returnto_refuses_mellon_cve_payloads),
    UNIT(test_returnto_keeps_paths_inside_the_org),
    UNIT(test_returnto_keeps_query_and_ordinary_percent_encoding),
    UNIT(test_returnto_drops_the_fragment),
    UNIT(test_returnto_keeps_encoded_slashes_and_dots_in_the_query),
    UNIT(test_returnto_works_for_the_root_org_path),
    UNIT_END
};

int main(void) { return unit_run("returnto", cases); }
