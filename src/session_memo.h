/* A process's memo of the sessions it recently read from the session cache, so a signed-in
 * request skips the cache key's hash, the cache lock, the copy out of shared memory, the
 * unsealing and the decoding when the same session came by moments ago.
 *
 * An entry is used only while the session generation it was read under is still current:
 * every removal of a session from the cache bumps the generation, which all processes forked
 * after it was made share, so a logout or a deactivation in one process voids every memo at
 * once. An entry is also used only for ttl after it was read, which bounds what no removal
 * reports (a full cache evicting its oldest sessions). Only for caches this server alone
 * writes: another server's removals would not bump this generation.
 *
 * Entries are kept in sets of SESSION_MEMO_WAYS, the oldest giving way; each set has its own
 * lock, held for a copy of one record. */
#ifndef CS_SESSION_MEMO_H
#define CS_SESSION_MEMO_H

#include <apr_pools.h>
#include <apr_time.h>
#include "session_record.h"

#define SESSION_MEMO_WAYS 4

typedef struct session_generation session_generation;

/* A counter in memory shared with the processes forked after this call. NULL, or why not. */
const char *session_generation_create(session_generation **out);
apr_uint32_t session_generation_read(const session_generation *g);
/* Call after the removal is done, not before: a reader that saw the old generation then finds
 * the session gone, and its memo entry is void on arrival. */
void session_generation_bump(session_generation *g);
void session_generation_unmap(session_generation *g);

typedef struct session_memo session_memo;

/* A memo of `entries` sessions (rounded up to whole sets), each used for at most ttl. NULL
 * when entries is 0 or memory is short. Freed with session_memo_destroy. */
session_memo *session_memo_create(unsigned entries, apr_interval_time_t ttl);
void session_memo_destroy(session_memo *m);

/* Remembers rec as the session of id (a well-formed session ID), read from the cache when
 * the generation was `generation` (read before the cache was) at time now. */
void session_memo_put(session_memo *m, const char *id, const session_record *rec,
                      apr_uint32_t generation, apr_time_t now);

/* 1 and a copy of the session of id in *out (allocated in p, so it outlives the entry) when
 * the memo holds it under `generation` and it was put less than ttl before now; else 0. The
 * caller checks the record as it would one read from the cache (org, expiry...). */
int session_memo_get(session_memo *m, apr_pool_t *p, const char *id, apr_uint32_t generation,
                     apr_time_t now, session_record *out);

#endif
