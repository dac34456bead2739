/* Exact-size allocations for the fuzzers (see fuzz_pool.h). Compiled without the macros. */
#include <stdlib.h>
#include <string.h>
#include <apr_pools.h>
#include <apr_strings.h>

/* Every live block is also on this list: APR may keep its pool memory in mmap()ed regions,
 * which LeakSanitizer does not scan, so a block known only to its pool's cleanup would be
 * reported as leaked. */
typedef struct live_block {
    struct live_block *prev, *next;
    void *block;
} live_block;
static live_block live_blocks = {&live_blocks, &live_blocks, NULL};

static apr_status_t free_block(void *data)
{
    live_block *b = data;
    b->prev->next = b->next;
    b->next->prev = b->prev;
    free(b->block);
    free(b);
    return APR_SUCCESS;
}

void *fuzz_palloc(apr_pool_t *p, apr_size_t size)
{
    live_block *b = malloc(sizeof *b);
    void *block = malloc(size);
    if (b == NULL || (block == NULL && size != 0))
        abort();
    b->block = block;
    b->next = live_blocks.next;
    b->prev = &live_blocks;
    live_blocks.next->prev = b;
    live_blocks.next = b;
    apr_pool_cleanup_register(p, b, free_block, apr_pool_cleanup_null);
    return block;
}

void *fuzz_pmemdup(apr_pool_t *p, const void *m, apr_size_t n)
{
    if (m == NULL)
        return NULL;
    void *copy = fuzz_palloc(p, n);
    memcpy(copy, m, n);
    return copy;
}

char *fuzz_pstrmemdup(apr_pool_t *p, const char *s, apr_size_t n)
{
    if (s == NULL)
        return NULL;
    char *copy = fuzz_palloc(p, n + 1);
    memcpy(copy, s, n);
    copy[n] = '\0';
    return copy;
}

char *fuzz_pstrdup(apr_pool_t *p, const char *s)
{
    return s ? fuzz_pstrmemdup(p, s, strlen(s)) : NULL;
}

char *fuzz_pstrndup(apr_pool_t *p, const char *s, apr_size_t n)
{
    if (s == NULL)
        return NULL;
    const char *end = memchr(s, '\0', n);
    return fuzz_pstrmemdup(p, s, end ? (apr_size_t)(end - s) : n);
}

char *fuzz_pexact(apr_pool_t *p, char *pooled)
{
    return fuzz_pstrdup(p, pooled);
}
