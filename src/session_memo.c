#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <apr_atomic.h>
#include <apr_strings.h>
#include <openssl/crypto.h>
#include "session_id.h"
#include "session_memo.h"

struct session_generation {
    volatile apr_uint32_t count;
};

const char *session_generation_create(session_generation **out)
{
    session_generation *g = mmap(NULL, sizeof(*g), PROT_READ | PROT_WRITE,
                                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (g == MAP_FAILED)
        return "cannot map shared memory for the session generation";
    g->count = 0;
    *out = g;
    return NULL;
}

apr_uint32_t session_generation_read(const session_generation *g)
{
    return apr_atomic_read32((volatile apr_uint32_t *)&g->count);
}

void session_generation_bump(session_generation *g)
{
    apr_atomic_inc32(&g->count);
}

void session_generation_unmap(session_generation *g)
{
    munmap(g, sizeof(*g));
}

enum { S_ORG, S_SP, S_USER, S_EMAIL, S_FIRST, S_LAST, S_IDP, S_INDEX, S__COUNT };

/* Records bigger than this are not memoised (they are read from the cache each time). */
#define MAX_TEXT_BYTES (16 * 1024)

typedef struct {
    apr_size_t at; /* of the team name in the entry's text */
    team_role role;
} memo_team;

/* A record flattened into one malloc'd block: its teams, then its strings back to back. */
typedef struct {
    int used;
    char id[SESSION_ID_HEX_LEN];
    apr_uint32_t generation;
    apr_time_t stored, created, expires, checked;
    apr_ssize_t string_at[S__COUNT]; /* -1: NULL */
    int team_count;
    void *block;
    char *text;
    apr_size_t text_len;
} memo_entry;

typedef struct {
    pthread_mutex_t lock;
    memo_entry way[SESSION_MEMO_WAYS];
} memo_set;

struct session_memo {
    unsigned set_mask;
    apr_interval_time_t ttl;
    memo_set *sets;
};

session_memo *session_memo_create(unsigned entries, apr_interval_time_t ttl)
{
    if (entries == 0 || entries > (1u << 24))
        return NULL;
    unsigned sets = 1;
    while (sets * SESSION_MEMO_WAYS < entries)
        sets <<= 1;
    session_memo *m = calloc(1, sizeof(*m));
    if (m == NULL || (m->sets = calloc(sets, sizeof(memo_set))) == NULL) {
        free(m);
        return NULL;
    }
    m->set_mask = sets - 1;
    m->ttl = ttl;
    for (unsigned i = 0; i < sets; i++)
        pthread_mutex_init(&m->sets[i].lock, NULL);
    return m;
}

void session_memo_destroy(session_memo *m)
{
    if (m == NULL)
        return;
    for (unsigned i = 0; i <= m->set_mask; i++) {
        for (int w = 0; w < SESSION_MEMO_WAYS; w++)
            free(m->sets[i].way[w].block);
        pthread_mutex_destroy(&m->sets[i].lock);
    }
    free(m->sets);
    free(m);
}

/* Session IDs are random: their first hex digits pick a set evenly. */
static memo_set *set_of(const session_memo *m, const char *id)
{
    unsigned v = 0;
    for (int i = 0; i < 8; i++) {
        char c = id[i];
        v = (v << 4) | (unsigned)(c <= '9' ? c - '0' : c - 'a' + 10);
    }
    return &m->sets[v & m->set_mask];
}

static void record_strings(const session_record *rec, const char *out[S__COUNT])
{
    const char *s[S__COUNT] = {rec->org, rec->sp, rec->user, rec->email, rec->first_name,
                               rec->last_name, rec->idp_entity_id, rec->session_index};
    memcpy(out, s, sizeof s);
}

/* rec flattened into e (not yet placed in a set); 0 when too big or memory is short. */
static int flatten(const session_record *rec, memo_entry *e)
{
    const char *strings[S__COUNT];
    record_strings(rec, strings);
    int teams = rec->teams ? rec->teams->nelts : 0;
    apr_size_t text_len = 0;
    for (int i = 0; i < S__COUNT; i++)
        text_len += strings[i] ? strlen(strings[i]) + 1 : 0;
    for (int i = 0; i < teams; i++)
        text_len += strlen(APR_ARRAY_IDX(rec->teams, i, team_membership).team) + 1;
    if (text_len > MAX_TEXT_BYTES)
        return 0;
    apr_size_t team_bytes = (apr_size_t)teams * sizeof(memo_team);
    e->block = malloc(team_bytes + text_len + 1);
    if (e->block == NULL)
        return 0;
    memo_team *t = e->block;
    e->text = (char *)e->block + team_bytes;
    apr_size_t at = 0;
    for (int i = 0; i < S__COUNT; i++) {
        e->string_at[i] = strings[i] ? (apr_ssize_t)at : -1;
        if (strings[i]) {
            apr_size_t n = strlen(strings[i]) + 1;
            memcpy(e->text + at, strings[i], n);
            at += n;
        }
    }
    for (int i = 0; i < teams; i++) {
        const team_membership *m = &APR_ARRAY_IDX(rec->teams, i, team_membership);
        apr_size_t n = strlen(m->team) + 1;
        t[i].at = at;
        t[i].role = m->role;
        memcpy(e->text + at, m->team, n);
        at += n;
    }
    e->team_count = teams;
    e->text_len = text_len;
    e->created = rec->created;
    e->expires = rec->expires;
    e->checked = rec->checked;
    return 1;
}

void session_memo_put(session_memo *m, const char *id, const session_record *rec,
                      apr_uint32_t generation, apr_time_t now)
{
    if (m == NULL || !session_id_is_well_formed(id))
        return;
    memo_entry fresh = {.used = 1, .generation = generation, .stored = now};
    if (!flatten(rec, &fresh))
        return;
    memcpy(fresh.id, id, SESSION_ID_HEX_LEN);
    memo_set *set = set_of(m, id);
    pthread_mutex_lock(&set->lock);
    memo_entry *victim = &set->way[0];
    for (int w = 0; w < SESSION_MEMO_WAYS; w++) {
        memo_entry *e = &set->way[w];
        if (e->used && memcmp(e->id, id, SESSION_ID_HEX_LEN) == 0) {
            victim = e;
            break;
        }
        if (victim->used && (!e->used || e->stored < victim->stored))
            victim = e;
    }
    void *old = victim->block;
    *victim = fresh;
    pthread_mutex_unlock(&set->lock);
    free(old);
}

static void copy_out(const memo_entry *e, apr_pool_t *p, session_record *out)
{
    const memo_team *t = e->block;
    char *text = apr_pmemdup(p, e->text, e->text_len);
    const char **strings[S__COUNT] = {&out->org, &out->sp, &out->user, &out->email,
                                      &out->first_name, &out->last_name, &out->idp_entity_id,
                                      &out->session_index};
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < S__COUNT; i++)
        *strings[i] = e->string_at[i] < 0 ? NULL : text + e->string_at[i];
    out->teams = apr_array_make(p, e->team_count ? e->team_count : 1, sizeof(team_membership));
    for (int i = 0; i < e->team_count; i++) {
        team_membership *m = apr_array_push(out->teams);
        m->team = text + t[i].at;
        m->role = t[i].role;
    }
    out->created = e->created;
    out->expires = e->expires;
    out->checked = e->checked;
}

int session_memo_get(session_memo *m, apr_pool_t *p, const char *id, apr_uint32_t generation,
                     apr_time_t now, session_record *out)
{
    if (m == NULL || !session_id_is_well_formed(id))
        return 0;
    memo_set *set = set_of(m, id);
    int hit = 0;
    pthread_mutex_lock(&set->lock);
    for (int w = 0; w < SESSION_MEMO_WAYS; w++) {
        const memo_entry *e = &set->way[w];
        /* every way is compared, in constant time: the ID is the bearer secret */
        int same = e->used && CRYPTO_memcmp(e->id, id, SESSION_ID_HEX_LEN) == 0;
        if (same && e->generation == generation && now >= e->stored
            && now - e->stored < m->ttl) {
            copy_out(e, p, out);
            hit = 1;
        }
    }
    pthread_mutex_unlock(&set->lock);
    return hit;
}
