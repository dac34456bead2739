/* libFuzzer target for the socache records: session_record_decode() and
 * login_state_decode() over arbitrary bytes (handed over without a terminating NUL, as the
 * cache does, so an over-read is an ASan report).
 *
 * Invariants: a decoded session has teams (never NULL), org, user; a decoded login state has
 * org, request_id, return_to; decode -> encode -> decode succeeds and gives the same record
 * (every field, every team and role). */
#include "fuzz_common.h"
#include "session_record.h"

static int same_str(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static void check_same_session(const session_record *a, const session_record *b)
{
    FUZZ_ASSERT(same_str(a->org, b->org) && same_str(a->sp, b->sp)
                && same_str(a->user, b->user) && same_str(a->email, b->email)
                && same_str(a->first_name, b->first_name)
                && same_str(a->last_name, b->last_name)
                && same_str(a->idp_entity_id, b->idp_entity_id)
                && same_str(a->session_index, b->session_index)
                && a->created == b->created && a->expires == b->expires
                && a->checked == b->checked,
                "session record changed in a round trip (org %s user %s)", a->org, a->user);
    FUZZ_ASSERT(a->teams->nelts == b->teams->nelts, "team count %d became %d",
                a->teams->nelts, b->teams->nelts);
    for (int i = 0; i < a->teams->nelts; i++) {
        const team_membership *x = &APR_ARRAY_IDX(a->teams, i, team_membership);
        const team_membership *y = &APR_ARRAY_IDX(b->teams, i, team_membership);
        FUZZ_ASSERT(same_str(x->team, y->team) && x->role == y->role,
                    "team %d changed in a round trip", i);
    }
}

static void fuzz_session(const char *buf, size_t len)
{
    session_record rec, again, reference;
    memset(&rec, 0, sizeof rec);
    const char *fast_err = session_record_decode(fuzz_input_pool, buf, len, &rec);
    const char *ref_err = session_record_decode_reference(fuzz_input_pool, buf, len, &reference);
    /* The fast reader either gives jansson's record or leaves the input to jansson. */
    FUZZ_ASSERT((fast_err == NULL) == (ref_err == NULL)
                    && (fast_err == NULL || strcmp(fast_err, ref_err) == 0),
                "fast decode said %s, jansson %s", fast_err ? fast_err : "ok",
                ref_err ? ref_err : "ok");
    if (fast_err != NULL)
        return;
    check_same_session(&rec, &reference);
    FUZZ_ASSERT(rec.teams != NULL && rec.org != NULL && rec.user != NULL,
                "decoded session without teams, org or user");
    char *json = session_record_encode(fuzz_input_pool, &rec);
    FUZZ_ASSERT(json != NULL, "a decoded session record does not encode");
    const char *err = session_record_decode(fuzz_input_pool, json, strlen(json), &again);
    FUZZ_ASSERT(err == NULL, "re-decoding %s: %s", json, err);
    check_same_session(&rec, &again);
}

static void fuzz_login_state(const char *buf, size_t len)
{
    login_state st, again;
    if (login_state_decode(fuzz_input_pool, buf, len, &st) != NULL)
        return;
    FUZZ_ASSERT(st.org && st.request_id && st.return_to, "decoded login state misses a field");
    char *json = login_state_encode(fuzz_input_pool, &st);
    FUZZ_ASSERT(json != NULL, "a decoded login state does not encode");
    const char *err = login_state_decode(fuzz_input_pool, json, strlen(json), &again);
    FUZZ_ASSERT(err == NULL, "re-decoding %s: %s", json, err);
    FUZZ_ASSERT(same_str(st.org, again.org) && same_str(st.request_id, again.request_id)
                && same_str(st.return_to, again.return_to) && st.expires == again.expires,
                "login state changed in a round trip: %s", json);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* exact-size copy without a NUL: the decoders must honour len */
    char *buf = malloc(size ? size : 1);
    if (buf == NULL)
        abort();
    memcpy(buf, data, size);
    fuzz_session(buf, size);
    fuzz_login_state(buf, size);
    free(buf);
    fuzz_input_done();
    return 0;
}
