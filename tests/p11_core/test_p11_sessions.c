/*
 * lib/p11_sessions.c without a server: opening and closing, handles that
 * are never reused, taking and releasing, a close while a call waits for
 * the session, operations released by whoever ends them, the logout when
 * a token's last session closes, and the searches and crypto calls whose
 * answers need no round trip.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
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

#define RO CKF_SERIAL_SESSION
#define RW (CKF_SERIAL_SESSION | CKF_RW_SESSION)

static CK_SESSION_HANDLE open_on(CK_SLOT_ID id, CK_FLAGS flags)
{
	CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
	assert_int_equal(C_OpenSession(id, flags, NULL, NULL, &h), CKR_OK);
	assert_int_not_equal(h, CK_INVALID_HANDLE);
	return h;
}

static CK_STATE state_of(CK_SESSION_HANDLE h)
{
	CK_SESSION_INFO info;
	assert_int_equal(C_GetSessionInfo(h, &info), CKR_OK);
	return info.state;
}

/* An operation that counts its releases. */
struct counted_op {
	struct p11_op op;
	int *released;
};

static void counted_release(struct p11_op *op)
{
	struct counted_op *c = P11_OP_OWNER(op, struct counted_op, op);
	(*c->released)++;
	free(c);
}

static void install_op(CK_SESSION_HANDLE h, enum p11_op_kind kind, int *released)
{
	struct p11_slot *slot;
	struct p11_session_ops *ops;
	assert_int_equal(p11_session_take(h, &slot, NULL, &ops), CKR_OK);
	struct counted_op *c = calloc(1, sizeof(*c));
	assert_non_null(c);
	c->op.release = counted_release;
	c->released = released;
	assert_null(ops->op[kind]);
	ops->op[kind] = &c->op;
	p11_session_release(ops);
}

static void open_info_close(void **state)
{
	(void)state;
	CK_SLOT_ID id = core_one_slot("1000001");
	CK_SESSION_HANDLE ro = open_on(id, RO), rw = open_on(id, RW);

	CK_SESSION_INFO info;
	assert_int_equal(C_GetSessionInfo(rw, &info), CKR_OK);
	assert_int_equal(info.slotID, id);
	assert_int_equal(info.flags, CKF_SERIAL_SESSION | CKF_RW_SESSION);
	assert_int_equal(info.state, CKS_RW_PUBLIC_SESSION);
	assert_int_equal(state_of(ro), CKS_RO_PUBLIC_SESSION);
	assert_int_equal(C_GetSessionInfo(rw, NULL), CKR_ARGUMENTS_BAD);

	struct p11_slot *slot = NULL;
	bool is_rw = false;
	assert_int_equal(p11_session_slot(rw, &slot, &is_rw), CKR_OK);
	assert_true(is_rw);
	assert_int_equal(p11_slot_id(slot), id);
	assert_int_equal(p11_session_writable(ro, &slot), CKR_SESSION_READ_ONLY);
	assert_int_equal(p11_session_writable(rw, &slot), CKR_USER_NOT_LOGGED_IN);

	assert_int_equal(C_CloseSession(ro), CKR_OK);
	assert_int_equal(C_CloseSession(ro), CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(C_GetSessionInfo(ro, &info), CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(p11_session_slot(ro, &slot, NULL), CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(C_CloseSession(rw), CKR_OK);
}

static void open_refusals(void **state)
{
	(void)state;
	CK_SLOT_ID id = core_one_slot("1000002");
	CK_SESSION_HANDLE h;
	assert_int_equal(C_OpenSession(id, CKF_RW_SESSION, NULL, NULL, &h),
	                 CKR_SESSION_PARALLEL_NOT_SUPPORTED);
	assert_int_equal(C_OpenSession(id, RO, NULL, NULL, NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(C_OpenSession(7, RO, NULL, NULL, &h), CKR_SLOT_ID_INVALID);
	assert_int_equal(C_CloseAllSessions(7), CKR_SLOT_ID_INVALID);
}

static void handles_are_never_reused(void **state)
{
	enum { N = 3000 };
	CK_SLOT_ID id = core_one_slot("1000003");
	CK_SESSION_HANDLE last = 0;
	for (int i = 0; i < N; i++) {
		CK_SESSION_HANDLE a = open_on(id, RO), b = open_on(id, RW);
		assert_true(a > last);
		assert_true(b > a);
		/* Close in varying order, so freed places are reused. */
		assert_int_equal(C_CloseSession(i % 2 ? a : b), CKR_OK);
		assert_int_equal(C_CloseSession(i % 2 ? b : a), CKR_OK);
		last = b;
	}
	/* Nor across a re-initialisation of the tables. */
	assert_int_equal(core_teardown(state), 0);
	assert_int_equal(core_setup(state), 0);
	id = core_one_slot("1000003");
	assert_true(open_on(id, RO) > last);
}

static void close_all_closes_one_token(void **state)
{
	(void)state;
	struct wsop_softcard cards[] = {
		core_card("2000001", '1', "one"),
		core_card("2000002", '2', "two"),
	};
	assert_int_equal(p11_slots_update_from_listing(cards, 2), CKR_OK);
	CK_SLOT_ID one = core_slot_of_prefix("2000001"), two = core_slot_of_prefix("2000002");
	CK_SESSION_HANDLE h1[5], h2 = open_on(two, RW);
	for (int i = 0; i < 5; i++)
		h1[i] = open_on(one, i % 2 ? RW : RO);
	assert_int_equal(C_CloseAllSessions(one), CKR_OK);
	for (int i = 0; i < 5; i++)
		assert_int_equal(C_CloseSession(h1[i]), CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(state_of(h2), CKS_RW_PUBLIC_SESSION);

	/* A softcard no longer listed makes the module list again first; with
	 * no server that fails, and closes nothing. */
	assert_int_equal(p11_slots_update_from_listing(&cards[0], 1), CKR_OK);
	assert_int_equal(C_CloseAllSessions(two), CKR_HOST_MEMORY);
	assert_int_equal(state_of(h2), CKS_RW_PUBLIC_SESSION);
	assert_int_equal(C_CloseSession(h2), CKR_OK);
}

static void take_release_and_unknown_handles(void **state)
{
	(void)state;
	CK_SLOT_ID id = core_one_slot("1000004");
	CK_SESSION_HANDLE h = open_on(id, RW);
	struct p11_slot *slot = NULL;
	struct p11_session_ops *ops = NULL;
	bool rw = false;
	assert_int_equal(p11_session_take(h, &slot, &rw, &ops), CKR_OK);
	assert_non_null(ops);
	assert_true(rw);
	assert_int_equal(p11_slot_id(slot), id);
	assert_int_equal(p11_session_callers(h), 1);
	p11_session_release(ops);
	assert_int_equal(p11_session_callers(h), 0);
	/* Taking again gives the same operations. */
	struct p11_session_ops *again = NULL;
	assert_int_equal(p11_session_take(h, &slot, NULL, &again), CKR_OK);
	assert_ptr_equal(again, ops);
	p11_session_release(again);
	assert_int_equal(p11_session_take(h + 1000, &slot, NULL, &ops), CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(p11_session_callers(h + 1000), 0);
	p11_session_release(NULL);
}

static void operations_are_released_once(void **state)
{
	(void)state;
	CK_SLOT_ID id = core_one_slot("1000005");
	int released = 0;

	/* Ended by its owner. */
	CK_SESSION_HANDLE h = open_on(id, RO);
	install_op(h, P11_OP_ENCRYPT, &released);
	struct p11_slot *slot;
	struct p11_session_ops *ops;
	assert_int_equal(p11_session_take(h, &slot, NULL, &ops), CKR_OK);
	p11_op_end(ops, P11_OP_ENCRYPT);
	assert_int_equal(released, 1);
	assert_null(ops->op[P11_OP_ENCRYPT]);
	p11_op_end(ops, P11_OP_ENCRYPT);
	assert_int_equal(released, 1);
	p11_session_release(ops);

	/* Still active when the session closes: every kind goes with it. */
	install_op(h, P11_OP_FIND, &released);
	install_op(h, P11_OP_ENCRYPT, &released);
	install_op(h, P11_OP_DECRYPT, &released);
	assert_int_equal(C_CloseSession(h), CKR_OK);
	assert_int_equal(released, 4);

	/* Closed while a call holds it: released by that call's release. */
	h = open_on(id, RO);
	install_op(h, P11_OP_DECRYPT, &released);
	assert_int_equal(p11_session_take(h, &slot, NULL, &ops), CKR_OK);
	assert_int_equal(C_CloseSession(h), CKR_OK);
	assert_int_equal(released, 4);
	assert_non_null(ops->op[P11_OP_DECRYPT]);
	p11_session_release(ops);
	assert_int_equal(released, 5);

	/* And at the tables' end, for sessions never closed. */
	h = open_on(id, RO);
	install_op(h, P11_OP_FIND, &released);
	assert_int_equal(core_teardown(state), 0);
	assert_int_equal(released, 6);
	assert_int_equal(core_setup(state), 0);
}

struct waiter {
	CK_SESSION_HANDLE h;
	CK_RV rv;
};

static void *take_and_release(void *arg)
{
	struct waiter *w = arg;
	struct p11_slot *slot;
	struct p11_session_ops *ops = NULL;
	w->rv = p11_session_take(w->h, &slot, NULL, &ops);
	if (w->rv == CKR_OK)
		p11_session_release(ops);
	return NULL;
}

static void closed_while_waiting(void **state)
{
	(void)state;
	CK_SLOT_ID id = core_one_slot("1000006");
	CK_SESSION_HANDLE h = open_on(id, RW);
	int released = 0;
	install_op(h, P11_OP_FIND, &released);

	struct p11_slot *slot;
	struct p11_session_ops *ops;
	assert_int_equal(p11_session_take(h, &slot, NULL, &ops), CKR_OK);
	struct waiter w[4];
	pthread_t t[4];
	for (int i = 0; i < 4; i++) {
		w[i] = (struct waiter){ h, CKR_GENERAL_ERROR };
		assert_int_equal(pthread_create(&t[i], NULL, take_and_release, &w[i]), 0);
	}
	/* Every waiter has registered before the close. */
	while (p11_session_callers(h) < 5)
		sched_yield();
	assert_int_equal(C_CloseSession(h), CKR_OK);
	assert_int_equal(p11_session_callers(h), 0);
	assert_int_equal(released, 0);
	p11_session_release(ops);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].rv, CKR_SESSION_CLOSED);
	}
	/* Freed by the last of them, its operation with it. */
	assert_int_equal(released, 1);
	assert_int_equal(p11_session_take(h, &slot, NULL, &ops), CKR_SESSION_HANDLE_INVALID);
}

static void last_close_logs_the_token_out(void **state)
{
	(void)state;
	CK_SLOT_ID id = core_one_slot("1000007");
	CK_SESSION_HANDLE a = open_on(id, RO), b = open_on(id, RW);
	core_login(id);
	assert_int_equal(state_of(a), CKS_RO_USER_FUNCTIONS);
	assert_int_equal(state_of(b), CKS_RW_USER_FUNCTIONS);
	struct p11_slot *slot = NULL;
	assert_int_equal(p11_session_writable(b, &slot), CKR_OK);

	assert_int_equal(C_CloseSession(a), CKR_OK);
	assert_true(p11_slot_logged_in(slot));
	assert_int_equal(state_of(b), CKS_RW_USER_FUNCTIONS);
	/* No server to tell: logged out here all the same. */
	assert_int_equal(C_CloseSession(b), CKR_OK);
	assert_false(p11_slot_logged_in(slot));

	/* The same through C_CloseAllSessions. */
	a = open_on(id, RO);
	core_login(id);
	assert_int_equal(C_CloseAllSessions(id), CKR_OK);
	assert_false(p11_slot_logged_in(slot));

	/* Called directly: with no session left the token is logged out,
	 * with one opened meanwhile nothing happens. */
	core_login(id);
	p11_slot_logout_if_idle(slot);
	assert_false(p11_slot_logged_in(slot));
	core_login(id);
	a = open_on(id, RO);
	p11_slot_logout_if_idle(slot);
	assert_true(p11_slot_logged_in(slot));
	assert_int_equal(C_CloseSession(a), CKR_OK);
	assert_false(p11_slot_logged_in(slot));
}

static void searches_on_a_logged_out_token(void **state)
{
	(void)state;
	CK_SLOT_ID id = core_one_slot("1000008");
	CK_SESSION_HANDLE h = open_on(id, RO);
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_ATTRIBUTE tmpl[] = { { CKA_CLASS, &cls, sizeof(cls) } };
	CK_OBJECT_HANDLE found[4];
	CK_ULONG n = 99;

	assert_int_equal(C_FindObjects(h, found, 4, &n), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(C_FindObjectsFinal(h), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(C_FindObjectsInit(h, NULL, 1), CKR_ARGUMENTS_BAD);
	/* Every object is private: nothing to find, nothing asked. */
	assert_int_equal(C_FindObjectsInit(h, tmpl, 1), CKR_OK);
	assert_int_equal(C_FindObjectsInit(h, tmpl, 1), CKR_OPERATION_ACTIVE);
	assert_int_equal(C_FindObjects(h, found, 4, &n), CKR_OK);
	assert_int_equal(n, 0);
	assert_int_equal(C_FindObjectsFinal(h), CKR_OK);
	assert_int_equal(C_FindObjectsFinal(h), CKR_OPERATION_NOT_INITIALIZED);
	/* A bad call ends the search. */
	assert_int_equal(C_FindObjectsInit(h, NULL, 0), CKR_OK);
	assert_int_equal(C_FindObjects(h, NULL, 1, &n), CKR_ARGUMENTS_BAD);
	assert_int_equal(C_FindObjects(h, found, 1, &n), CKR_OPERATION_NOT_INITIALIZED);
	/* One left active goes with the session. */
	assert_int_equal(C_FindObjectsInit(h, tmpl, 1), CKR_OK);
	assert_int_equal(C_CloseSession(h), CKR_OK);
	assert_int_equal(C_FindObjectsInit(h, tmpl, 1), CKR_SESSION_HANDLE_INVALID);
}

static void crypto_answers_without_a_round_trip(void **state)
{
	(void)state;
	CK_SLOT_ID id = core_one_slot("1000009");
	CK_SESSION_HANDLE h = open_on(id, RO);
	CK_BYTE iv[16] = { 0 }, data[16] = { 0 }, out[32];
	CK_ULONG out_len = sizeof(out);
	CK_MECHANISM cbc = { CKM_AES_CBC, iv, sizeof(iv) };
	CK_MECHANISM ecb = { CKM_AES_ECB, NULL, 0 };
	CK_MECHANISM short_iv = { CKM_AES_CBC_PAD, iv, 8 };

	assert_int_equal(C_EncryptInit(h, NULL, 1), CKR_ARGUMENTS_BAD);
	assert_int_equal(C_EncryptInit(h + 100, NULL, 1), CKR_ARGUMENTS_BAD);
	assert_int_equal(C_EncryptInit(h + 100, &cbc, 1), CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(C_EncryptInit(h, &ecb, 1), CKR_MECHANISM_INVALID);
	assert_int_equal(C_DecryptInit(h, &short_iv, 1), CKR_MECHANISM_PARAM_INVALID);
	/* Logged out, no key is visible. */
	assert_int_equal(C_EncryptInit(h, &cbc, 1), CKR_KEY_HANDLE_INVALID);
	assert_int_equal(C_Encrypt(h, data, sizeof(data), out, &out_len),
	                 CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(C_DecryptUpdate(h, data, sizeof(data), out, NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(C_DecryptFinal(h, out, &out_len), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(C_CloseSession(h), CKR_OK);
	assert_int_equal(C_Encrypt(h, data, sizeof(data), out, &out_len),
	                 CKR_SESSION_HANDLE_INVALID);
}

static void not_initialized_answers(void **state)
{
	(void)state;
	CK_SESSION_HANDLE h;
	assert_int_equal(C_OpenSession(0x10000000UL, RO, NULL, NULL, &h),
	                 CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_int_equal(C_CloseSession(1), CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_int_equal(C_FindObjectsFinal(1), CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_int_equal(C_EncryptInit(1, NULL, 0), CKR_CRYPTOKI_NOT_INITIALIZED);
}

#define T(f) cmocka_unit_test_setup_teardown(f, core_setup, core_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(open_info_close),
		T(open_refusals),
		T(handles_are_never_reused),
		T(close_all_closes_one_token),
		T(take_release_and_unknown_handles),
		T(operations_are_released_once),
		T(closed_while_waiting),
		T(last_close_logs_the_token_out),
		T(searches_on_a_logged_out_token),
		T(crypto_answers_without_a_round_trip),
		cmocka_unit_test(not_initialized_answers),
	};
	return cmocka_run_group_tests_name("p11_sessions", tests, NULL, NULL);
}
