/* Shared by the libFuzzer targets: APR set-up, one pool per input, quiet libraries. */
#ifndef CS_FUZZ_COMMON_H
#define CS_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_pools.h>

/* Pool for one input; cleared (every allocation freed, see fuzz_pool.h) after each input. */
extern apr_pool_t *fuzz_input_pool;
/* Pool for what lives as long as the process (the SP built once). */
extern apr_pool_t *fuzz_global_pool;

/* apr_initialize, the two pools, and silenced libxml2/GLib/xmlsec error output. Idempotent. */
void fuzz_init(void);

/* Clears fuzz_input_pool; call at the end of every LLVMFuzzerTestOneInput. */
void fuzz_input_done(void);

/* Exact-size NUL-terminated copy of the input (malloc, caller frees): an over-read of the
 * string is then an ASan report. */
char *fuzz_cstring(const uint8_t *data, size_t size);

/* A file's contents (NUL-terminated, from fuzz_global_pool); exits when unreadable. */
char *fuzz_slurp(const char *dir, const char *name);

/* Invariant violated: print what and abort, so libFuzzer saves the input as a crash. */
#define FUZZ_ASSERT(cond, ...) do { if (!(cond)) { \
    fprintf(stderr, "\nFUZZ INVARIANT VIOLATED %s:%d: %s\n  ", __FILE__, __LINE__, #cond); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); abort(); } } while (0)

#endif
