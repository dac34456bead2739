/* session_memo: what it returns, and every way an entry stops being used. */
#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <apr_strings.h>
#include "session_id.h"
#include "session_memo.h"
#include "unit.h"

#define TTL apr_time_from_sec(5)
#define T0 ((apr_time_t)1700000000 * APR_USEC_PER_SEC)

/* An ID whose first eight hex digits (which pick the set) are `set` and whose last are
 * `tail`: IDs with the same set collide, as many sessions do in a busy memo. */
static const char *id_in_set(apr_pool_t *p, unsigned set, unsigned tail)
{
    return apr_psprintf(p, "%08x%048x%08x", set, 0u, tail);
}

static session_record *record(apr_pool_t *p, const char *user, int teams)
{
    session_record *rec = apr_pcalloc(p, sizeof(*rec));
    rec->org = "acme";
    rec->sp = "https://sp.example/acme/saml/acs/";
    rec->user = user;
    rec->email = user;
    rec->first_name = "Ada";
    rec->last_name = NULL;
    rec->idp_entity_id = "http://idp.example/";
    rec->session_index = NULL;
    rec->teams = apr_array_make(p, 2, sizeof(team_membership));
    for (int i = 0; i < teams; i++) {
        team_membership *m = apr_array_push(rec->teams);
        m->team = apr_psprintf(p, "team-%d", i);
        m->role = i % 2 ? TEAM_ROLE_MANAGER : TEAM_ROLE_MEMBER;
    }
    rec->created = T0 - 10;
    rec->expires = T0 + apr_time_from_sec(3600);
    rec->checked = T0 - 5;
    return rec;
}

static void test_memo_returns_the_record_put(apr_pool_t *p)
{
    session_memo *m = session_memo_create(64, TTL);
    const char *id = id_in_set(p, 7, 1);
    session_memo_put(m, id, record(p, "ada@example.com", 3), 4, T0);
    session_record got;
    CHECK_INT(session_memo_get(m, p, id, 4, T0 + 1, &got), 1);
    CHECK_STR(got.org, "acme");
    CHECK_STR(got.sp, "https://sp.example/acme/saml/acs/");
    CHECK_STR(got.user, "ada@example.com");
    CHECK_STR(got.email, "ada@example.com");
    CHECK_STR(got.first_name, "Ada");
    CHECK(got.last_name == NULL);
    CHECK_STR(got.idp_entity_id, "http://idp.example/");
    CHECK(got.session_index == NULL);
    CHECK_INT(got.created, T0 - 10);
    CHECK_INT(got.expires, T0 + apr_time_from_sec(3600));
    CHECK_INT(got.checked, T0 - 5);
    CHECK_INT(got.teams->nelts, 3);
    CHECK_STR(APR_ARRAY_IDX(got.teams, 2, team_membership).team, "team-2");
    CHECK_INT(APR_ARRAY_IDX(got.teams, 1, team_membership).role, TEAM_ROLE_MANAGER);
    CHECK_INT(APR_ARRAY_IDX(got.teams, 0, team_membership).role, TEAM_ROLE_MEMBER);
    session_memo_destroy(m);
}

static void test_memo_gives_an_empty_team_list_not_null(apr_pool_t *p)
{
    session_memo *m = session_memo_create(64, TTL);
    const char *id = id_in_set(p, 1, 1);
    session_memo_put(m, id, record(p, "bob@example.com", 0), 0, T0);
    session_record got;
    CHECK_INT(session_memo_get(m, p, id, 0, T0, &got), 1);
    CHECK(got.teams != NULL && got.teams->nelts == 0);
    session_memo_destroy(m);
}

/* The copy lives in the caller's pool: replacing the entry (another thread's put) or
 * destroying the memo leaves it intact. */
static void test_memo_copy_outlives_the_entry(apr_pool_t *p)
{
    session_memo *m = session_memo_create(64, TTL);
    const char *id = id_in_set(p, 3, 1);
    session_memo_put(m, id, record(p, "ada@example.com", 1), 0, T0);
    session_record got;
    CHECK_INT(session_memo_get(m, p, id, 0, T0, &got), 1);
    session_memo_put(m, id, record(p, "eve@example.com", 2), 0, T0 + 1);
    session_memo_destroy(m);
    CHECK_STR(got.user, "ada@example.com");
    CHECK_STR(APR_ARRAY_IDX(got.teams, 0, team_membership).team, "team-0");
}

static void test_memo_refuses_after_the_generation_moved(apr_pool_t *p)
{
    session_memo *m = session_memo_create(64, TTL);
    const char *id = id_in_set(p, 5, 1);
    session_memo_put(m, id, record(p, "ada@example.com", 0), 9, T0);
    session_record got;
    CHECK_INT(session_memo_get(m, p, id, 10, T0, &got), 0);
    CHECK_INT(session_memo_get(m, p, id, 9, T0, &got), 1);
    session_memo_destroy(m);
}

static void test_memo_refuses_after_ttl_and_when_the_clock_went_back(apr_pool_t *p)
{
    session_memo *m = session_memo_create(64, TTL);
    const char *id = id_in_set(p, 5, 1);
    session_memo_put(m, id, record(p, "ada@example.com", 0), 0, T0);
    session_record got;
    CHECK_INT(session_memo_get(m, p, id, 0, T0 + TTL - 1, &got), 1);
    CHECK_INT(session_memo_get(m, p, id, 0, T0 + TTL, &got), 0);
    CHECK_INT(session_memo_get(m, p, id, 0, T0 - 1, &got), 0);
    session_memo_destroy(m);
}

/* Same set, IDs differing in their last digit only: no entry answers for another ID, and a
 * full set gives way oldest first (here the last way filled holds the oldest). */
static void test_memo_answers_only_the_exact_id(apr_pool_t *p)
{
    session_memo *m = session_memo_create(SESSION_MEMO_WAYS, TTL);
    session_record got;
    for (unsigned i = 0; i < SESSION_MEMO_WAYS; i++)
        session_memo_put(m, id_in_set(p, 0, i), record(p, apr_psprintf(p, "u%u", i), 0), 0,
                         T0 + SESSION_MEMO_WAYS - i);
    for (unsigned i = 0; i < SESSION_MEMO_WAYS; i++) {
        CHECK_INT(session_memo_get(m, p, id_in_set(p, 0, i), 0, T0 + 10, &got), 1);
        CHECK_STR(got.user, apr_psprintf(p, "u%u", i));
    }
    CHECK_INT(session_memo_get(m, p, id_in_set(p, 0, 99), 0, T0 + 10, &got), 0);
    session_memo_put(m, id_in_set(p, 0, 99), record(p, "new", 0), 0, T0 + 20);
    CHECK_INT(session_memo_get(m, p, id_in_set(p, 0, SESSION_MEMO_WAYS - 1), 0, T0 + 21, &got),
              0);
    for (unsigned i = 0; i < SESSION_MEMO_WAYS - 1; i++)
        CHECK_INT(session_memo_get(m, p, id_in_set(p, 0, i), 0, T0 + 21, &got), 1);
    CHECK_INT(session_memo_get(m, p, id_in_set(p, 0, 99), 0, T0 + 21, &got), 1);
    CHECK_STR(got.user, "new");
    session_memo_destroy(m);
}

/* Putting an ID again replaces its entry: the newest record and generation answer. */
static void test_memo_put_again_replaces(apr_pool_t *p)
{
    session_memo *m = session_memo_create(SESSION_MEMO_WAYS, TTL);
    const char *id = id_in_set(p, 2, 2);
    session_memo_put(m, id, record(p, "old", 0), 1, T0);
    session_memo_put(m, id, record(p, "new", 0), 2, T0 + 1);
    session_record got;
    CHECK_INT(session_memo_get(m, p, id, 1, T0 + 2, &got), 0);
    CHECK_INT(session_memo_get(m, p, id, 2, T0 + 2, &got), 1);
    CHECK_STR(got.user, "new");
    /* it took one way, not two: three more IDs fill the set without pushing it out */
    for (unsigned i = 0; i < SESSION_MEMO_WAYS - 1; i++)
        session_memo_put(m, id_in_set(p, 2, 100 + i), record(p, "x", 0), 2, T0 + 3);
    CHECK_INT(session_memo_get(m, p, id, 2, T0 + 4, &got), 1);
    session_memo_destroy(m);
}

static void test_memo_refuses_malformed_ids_and_no_memo(apr_pool_t *p)
{
    CHECK(session_memo_create(0, TTL) == NULL);
    session_record got;
    CHECK_INT(session_memo_get(NULL, p, id_in_set(p, 1, 1), 0, T0, &got), 0);
    session_memo_put(NULL, id_in_set(p, 1, 1), record(p, "a", 0), 0, T0);
    session_memo *m = session_memo_create(8, TTL);
    const char *upper = "ABCDEF00" "000000000000000000000000000000000000000000000000" "00000001";
    session_memo_put(m, upper, record(p, "a", 0), 0, T0);
    CHECK_INT(session_memo_get(m, p, upper, 0, T0, &got), 0);
    CHECK_INT(session_memo_get(m, p, "short", 0, T0, &got), 0);
    CHECK_INT(session_memo_get(m, p, NULL, 0, T0, &got), 0);
    session_memo_destroy(m);
}

/* A record too big to be worth a copy is simply not memoised. */
static void test_memo_skips_oversized_records(apr_pool_t *p)
{
    session_memo *m = session_memo_create(8, TTL);
    session_record *rec = record(p, "ada@example.com", 0);
    char *big = apr_palloc(p, 20000);
    memset(big, 'x', 19999);
    big[19999] = '\0';
    rec->first_name = big;
    const char *id = id_in_set(p, 1, 1);
    session_memo_put(m, id, rec, 0, T0);
    session_record got;
    CHECK_INT(session_memo_get(m, p, id, 0, T0, &got), 0);
    session_memo_destroy(m);
}

/* The generation is shared with processes forked after it was made: a child's bump is seen
 * by the parent (as a logout in one httpd child is by the others). */
static void test_generation_bump_is_seen_across_processes(apr_pool_t *p)
{
    (void)p;
    session_generation *g = NULL;
    CHECK(session_generation_create(&g) == NULL);
    if (g == NULL)
        return;
    apr_uint32_t before = session_generation_read(g);
    pid_t kid = fork();
    if (kid == 0) {
        session_generation_bump(g);
        _exit(0);
    }
    int status = 0;
    waitpid(kid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_INT(session_generation_read(g), before + 1);
    session_generation_unmap(g);
}

/* Threads putting and getting the same few sets at once: each answer is whole and belongs to
 * the ID asked for (run under ASan and valgrind by make check-asan / check-valgrind). */
typedef struct {
    session_memo *m;
    int thread;
    int wrong;
} race_arg;

static void *race(void *data)
{
    race_arg *a = data;
    apr_pool_t *p;
    apr_pool_create(&p, NULL);
    for (int i = 0; i < 20000; i++) {
        unsigned tail = (unsigned)(i % 12);
        const char *id = id_in_set(p, tail % 2, tail);
        const char *user = apr_psprintf(p, "user-%u", tail);
        session_record got;
        if (session_memo_get(a->m, p, id, 0, T0 + 1, &got)) {
            if (strcmp(got.user, user) != 0 || got.teams->nelts != (int)tail % 3)
                a->wrong++;
        } else {
            session_memo_put(a->m, id, record(p, user, (int)tail % 3), 0, T0);
        }
        if (i % 256 == 0)
            apr_pool_clear(p);
    }
    apr_pool_destroy(p);
    return NULL;
}

static void test_memo_threads_get_whole_records(apr_pool_t *p)
{
    (void)p;
    session_memo *m = session_memo_create(8, TTL);
    pthread_t t[4];
    race_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (race_arg){m, i, 0};
        pthread_create(&t[i], NULL, race, &args[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK_INT(args[i].wrong, 0);
    }
    session_memo_destroy(m);
}

static const unit_case cases[] = {
    UNIT(test_memo_returns_the_record_put),
    UNIT(test_memo_gives_an_empty_team_list_not_null),
    UNIT(test_memo_copy_outlives_the_entry),
    UNIT(test_memo_refuses_after_the_generation_moved),
    UNIT(test_memo_refuses_after_ttl_and_when_the_clock_went_back),
    UNIT(test_memo_answers_only_the_exact_id),
    UNIT(test_memo_put_again_replaces),
    UNIT(test_memo_refuses_malformed_ids_and_no_memo),
    UNIT(test_memo_skips_oversized_records),
    UNIT(test_generation_bump_is_seen_across_processes),
    UNIT(test_memo_threads_get_whole_records),
    UNIT_END
};

int main(void) { return unit_run("session_memo", cases); }
