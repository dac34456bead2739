/* A minimal unit-test harness: each test is a function; a failed check records file:line
 * and the test goes on; main() prints "N passed, N failed" and exits non-zero on failure. */
#ifndef CS_UNIT_H
#define CS_UNIT_H

#include <stdio.h>
#include <string.h>
#include <apr_general.h>
#include <apr_pools.h>

static int unit_failed_checks;
static int unit_tests_passed, unit_tests_failed;
static apr_pool_t *unit_pool; /* cleared before each test */

#define CHECK(cond) do { if (!(cond)) { unit_failed_checks++; \
    fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECK_STR(got, want) do { const char *g_ = (got), *w_ = (want); \
    if ((g_ == NULL) != (w_ == NULL) || (g_ && strcmp(g_, w_) != 0)) { unit_failed_checks++; \
        fprintf(stderr, "  %s:%d: %s is \"%s\", want \"%s\"\n", __FILE__, __LINE__, #got, \
                g_ ? g_ : "(null)", w_ ? w_ : "(null)"); } } while (0)
#define CHECK_INT(got, want) do { long long g_ = (long long)(got), w_ = (long long)(want); \
    if (g_ != w_) { unit_failed_checks++; fprintf(stderr, "  %s:%d: %s is %lld, want %lld\n", \
        __FILE__, __LINE__, #got, g_, w_); } } while (0)

typedef void (*unit_fn)(apr_pool_t *p);
typedef struct { const char *name; unit_fn fn; } unit_case;

static int unit_run(const char *suite, const unit_case *cases)
{
    apr_initialize();
    apr_pool_create(&unit_pool, NULL);
    for (const unit_case *c = cases; c->name; c++) {
        int before = unit_failed_checks;
        apr_pool_clear(unit_pool);
        c->fn(unit_pool);
        if (unit_failed_checks == before) { unit_tests_passed++; printf("ok   %s\n", c->name); }
        else { unit_tests_failed++; printf("FAIL %s\n", c->name); }
    }
    printf("%s: %d passed, %d failed\n", suite, unit_tests_passed, unit_tests_failed);
    apr_pool_destroy(unit_pool);
    apr_terminate();
    return unit_tests_failed ? 1 : 0;
}

#define UNIT(fn) { #fn, fn }
#define UNIT_END { NULL, NULL }

#endif
