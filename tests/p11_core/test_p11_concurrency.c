/*
 * The session table under 16 threads, without a server: each opens and
 * closes sessions on four tokens, takes and releases them, searches on
 * them, takes a neighbour's session that may be closing meanwhile, and
 * takes one session shared by all. Afterwards: every handle was handed
 * out once, the shared session's calls never overlapped, every session
 * was counted out of its token, and every operation was released once.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/p11_core.h"
#include "lib/p11_sessions.h"
#include "lib/p11_slots.h"
#include "tests/p11_core/core_fixture.h"

enum { THREADS = 16, ROUNDS = 400, TOKENS = 4, PER_ROUND = 3 };

static CK_SLOT_ID tokens[TOKENS];
static CK_SESSION_HANDLE shared;
/* Incremented only while holding the shared session, in two steps: a
 * lost update means two calls held it at once. */
static unsigned long shared_count;
static atomic_int shared_holders;
/* Each thread's latest session, for a neighbour to take. */
static _Atomic CK_SESSION_HANDLE latest[THREADS];
static atomic_int ops_released;
static atomic_int failures;

struct worker {
	int index;
	CK_SESSION_HANDLE handles[ROUNDS * PER_ROUND];
	size_t count;
	unsigned long neighbour_taken, neighbour_gone, neighbour_none;
};

static void check(bool ok)
{
	if (!ok)
		atomic_fetch_add(&failures, 1);
}

struct released_op {
	struct p11_op op;
};

static void released_op_release(struct p11_op *op)
{
	free(P11_OP_OWNER(op, struct released_op, op));
	atomic_fetch_add(&ops_released, 1);
}

static void take_shared(void)
{
	struct p11_slot *slot;
	struct p11_session_ops *ops;
	check(p11_session_take(shared, &slot, NULL, &ops) == CKR_OK);
	check(atomic_fetch_add(&shared_holders, 1) == 0);
	unsigned long seen = shared_count;
	sched_yield();
	shared_count = seen + 1;
	atomic_fetch_sub(&shared_holders, 1);
	p11_session_release(ops);
}

/* A session of another thread: open, closing or closed meanwhile. */
static void take_neighbour(struct worker *w)
{
	CK_SESSION_HANDLE h = atomic_load(&latest[(w->index + 1) % THREADS]);
	struct p11_slot *slot;
	struct p11_session_ops *ops;
	if (h == CK_INVALID_HANDLE) {
		w->neighbour_none++;
		return;
	}
	CK_RV rv = p11_session_take(h, &slot, NULL, &ops);
	if (rv == CKR_OK) {
		w->neighbour_taken++;
		p11_session_release(ops);
	} else {
		w->neighbour_gone++;
		check(rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED);
	}
}

static void search(CK_SESSION_HANDLE h)
{
	CK_OBJECT_HANDLE found[2];
	CK_ULONG n = 9;
	check(C_FindObjectsInit(h, NULL, 0) == CKR_OK);
	check(C_FindObjects(h, found, 2, &n) == CKR_OK && n == 0);
	check(C_FindObjectsFinal(h) == CKR_OK);
}

static void *work(void *arg)
{
	struct worker *w = arg;
	for (int round = 0; round < ROUNDS; round++) {
		CK_SESSION_HANDLE h[PER_ROUND];
		for (int i = 0; i < PER_ROUND; i++) {
			CK_FLAGS flags =
			    CKF_SERIAL_SESSION | ((round + i) % 2 ? CKF_RW_SESSION : 0);
			CK_SLOT_ID slot = tokens[(w->index + round + i) % TOKENS];
			check(C_OpenSession(slot, flags, NULL, NULL, &h[i]) == CKR_OK);
			w->handles[w->count++] = h[i];
		}
		atomic_store(&latest[w->index], h[round % PER_ROUND]);
		search(h[0]);
		take_shared();
		take_neighbour(w);
		/* An operation left active, released by the close. */
		struct p11_slot *slot;
		struct p11_session_ops *ops;
		check(p11_session_take(h[1], &slot, NULL, &ops) == CKR_OK);
		struct released_op *op = calloc(1, sizeof(*op));
		check(op != NULL);
		if (op != NULL) {
			op->op.release = released_op_release;
			ops->op[P11_OP_DECRYPT] = &op->op;
		}
		p11_session_release(ops);
		check(C_FindObjectsInit(h[2], NULL, 0) == CKR_OK);
		for (int i = PER_ROUND - 1; i >= 0; i--)
			check(C_CloseSession(h[(i + round) % PER_ROUND]) == CKR_OK);
	}
	atomic_store(&latest[w->index], CK_INVALID_HANDLE);
	return NULL;
}

static int cmp_handle(const void *a, const void *b)
{
	CK_SESSION_HANDLE x = *(const CK_SESSION_HANDLE *)a, y = *(const CK_SESSION_HANDLE *)b;
	return x < y ? -1 : x > y;
}

static void many_threads_open_take_search_close(void **state)
{
	(void)state;
	struct wsop_softcard cards[TOKENS];
	const char *prefixes[TOKENS] = { "3000001", "3000002", "3000003", "3000004" };
	for (int i = 0; i < TOKENS; i++) {
		cards[i] = core_card(prefixes[i], 'a', "threads");
		tokens[i] = core_slot_of_prefix(prefixes[i]);
	}
	assert_int_equal(p11_slots_update_from_listing(cards, TOKENS), CKR_OK);
	assert_int_equal(C_OpenSession(tokens[0], CKF_SERIAL_SESSION, NULL, NULL, &shared), CKR_OK);

	struct worker *w = calloc(THREADS, sizeof(*w));
	assert_non_null(w);
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++) {
		w[i].index = i;
		assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	assert_int_equal(atomic_load(&failures), 0);

	/* Every handle once. */
	size_t total = (size_t)THREADS * ROUNDS * PER_ROUND;
	CK_SESSION_HANDLE *all = calloc(total, sizeof(*all));
	assert_non_null(all);
	size_t n = 0;
	unsigned long taken = 0, gone = 0, none = 0;
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(w[i].count, ROUNDS * PER_ROUND);
		memcpy(all + n, w[i].handles, w[i].count * sizeof(*all));
		n += w[i].count;
		taken += w[i].neighbour_taken;
		gone += w[i].neighbour_gone;
		none += w[i].neighbour_none;
	}
	qsort(all, n, sizeof(*all), cmp_handle);
	for (size_t i = 1; i < n; i++)
		assert_true(all[i] > all[i - 1]);
	assert_true(all[0] > shared);
	free(all);
	/* Every neighbour's session was taken or answered as gone (or the
	 * neighbour had none yet, or no more). */
	assert_int_equal(taken + gone + none, (unsigned long)THREADS * ROUNDS);

	assert_int_equal(shared_count, (unsigned long)THREADS * ROUNDS);
	assert_int_equal(atomic_load(&ops_released), THREADS * ROUNDS);
	for (int i = 0; i < TOKENS; i++) {
		CK_TOKEN_INFO info;
		assert_int_equal(C_GetTokenInfo(tokens[i], &info), CKR_OK);
		assert_int_equal(info.ulSessionCount, i == 0 ? 1 : 0);
		assert_int_equal(info.ulRwSessionCount, 0);
	}
	assert_int_equal(C_CloseSession(shared), CKR_OK);
	free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(many_threads_open_take_search_close, core_setup,
		                                core_teardown),
	};
	return cmocka_run_group_tests_name("p11_concurrency", tests, NULL, NULL);
}
