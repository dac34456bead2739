/* Force-included (clang -include) into every source of the fuzzers, core files included.
 *
 * APR pools carve allocations out of 8 KiB blocks, so AddressSanitizer cannot see a write one
 * byte past an apr_palloc()ed buffer: it lands in the same block. Here every allocation the
 * core makes itself (apr_palloc, apr_pcalloc, apr_pstr*dup, apr_pmemdup, apr_psprintf,
 * apr_pstrcat) gets its own malloc() of the exact size, freed by a cleanup of the pool it was
 * asked from. Pool lifetimes are unchanged (clearing the pool frees them), and ASan reports
 * the first byte read or written past the end.
 *
 * Only code compiled with this header is affected; allocations APR makes internally (tables,
 * arrays, cleanups) stay in the pool's blocks. */
#ifndef CS_FUZZ_POOL_H
#define CS_FUZZ_POOL_H

#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>

void *fuzz_palloc(apr_pool_t *p, apr_size_t size);
char *fuzz_pstrmemdup(apr_pool_t *p, const char *s, apr_size_t n);
char *fuzz_pstrdup(apr_pool_t *p, const char *s);
char *fuzz_pstrndup(apr_pool_t *p, const char *s, apr_size_t n);
void *fuzz_pmemdup(apr_pool_t *p, const void *m, apr_size_t n);
char *fuzz_pexact(apr_pool_t *p, char *pooled); /* exact-size copy of a pool string */

#undef apr_palloc
#define apr_palloc(p, size) fuzz_palloc((p), (size))
/* apr_pcalloc is memset(apr_palloc(p, size), 0, size) unless APR_POOL_DEBUG */
#undef apr_pcalloc
#define apr_pcalloc(p, size) memset(fuzz_palloc((p), (size)), 0, (size))
#define apr_pstrmemdup(p, s, n) fuzz_pstrmemdup((p), (s), (n))
#define apr_pstrdup(p, s) fuzz_pstrdup((p), (s))
#define apr_pstrndup(p, s, n) fuzz_pstrndup((p), (s), (n))
#define apr_pmemdup(p, m, n) fuzz_pmemdup((p), (m), (n))
#define apr_psprintf(p, ...) fuzz_pexact((p), (apr_psprintf)((p), __VA_ARGS__))
#define apr_pstrcat(p, ...) fuzz_pexact((p), (apr_pstrcat)((p), __VA_ARGS__))

#endif
