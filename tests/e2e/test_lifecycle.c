/* End-to-end: process life — SIGTERM, restarts, crashes, idempotent retries. */
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests/e2e/e2e.h"

#define PASS   "lifecycle pass phrase"
#define IV_B64 "AAECAwQFBgcICQoLDA0ODw"

static struct e2e_fixture *fx_of(void **state)
{
	return *state;
}

static json_object *list_softcards(struct direct_tls *conn, struct e2e_answer *ans)
{
	return e2e_arr(e2e_call_ok(conn, "GET", "/km/v1/protectiondomains", NULL, 200, ans),
	               "protectiondomains");
}

/* base64url ciphertext of 16 zero bytes under key (caller frees). */
static char *encrypt_zero_block(struct direct_tls *conn, const char *key)
{
	struct e2e_answer ans;
	char body[256];
	char *out;

	snprintf(body, sizeof(body),
	         "{\"key\":\"%s\",\"mechanism\":\"AES_CBC\",\"iv\":\"" IV_B64
	         "\",\"data\":\"AAAAAAAAAAAAAAAAAAAAAA\"}",
	         key);
	e2e_call_ok(conn, "POST", "/crypto/v1/encrypt", body, 200, &ans);
	out = strdup(e2e_str(ans.json, "data"));
	assert_non_null(out);
	e2e_answer_free(&ans);
	return out;
}

/* Stops (sig), restarts on the same store, reconnects the fixture. */
static void restart(struct e2e_fixture *fx, int sig)
{
	int status;

	direct_tls_close(fx->conn);
	fx->conn = NULL;
	status = e2e_server_stop(&fx->srv, sig);
	if (sig == SIGTERM)
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	else
		assert_true(WIFSIGNALED(status) && WTERMSIG(status) == sig);
	assert_int_equal(e2e_server_restart(&fx->srv, NULL), 0);
	fx->conn = e2e_connect_ok(&fx->srv, E2E_CLIENT);
}

static void sigterm_exits_0_with_a_client_connected(void **state)
{
	struct e2e_fixture *fx = fx_of(state);
	struct e2e_answer ans;
	int status;

	e2e_call_ok(fx->conn, "GET", "/health", NULL, 200, &ans);
	e2e_answer_free(&ans);
	status = e2e_server_stop(&fx->srv, SIGTERM);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void everything_persists_across_a_clean_restart(void **state)
{
	struct e2e_fixture *fx = fx_of(state);
	char sc[41], group[37], key[96], target[160];
	struct e2e_answer ans;
	json_object *arr;
	char *before, *after;

	e2e_ready_group_ok(fx->conn, sc, group);
	e2e_key_ok(fx->conn, group, "kept", 256, NULL, key);
	snprintf(target, sizeof(target), "/km/v1/protectiondomains/%s/objects", sc);
	e2e_call_ok(fx->conn, "POST", target,
	            "{\"class\":\"data\",\"attributes\":{\"label\":\"o\"}}", 201, &ans);
	e2e_answer_free(&ans);
	before = encrypt_zero_block(fx->conn, key);

	restart(fx, SIGTERM);

	arr = list_softcards(fx->conn, &ans);
	assert_int_equal(json_object_array_length(arr), 1);
	assert_string_equal(e2e_str(json_object_array_get_idx(arr, 0), "id"), sc);
	e2e_answer_free(&ans);
	arr = e2e_arr(e2e_call_ok(fx->conn, "GET", "/km/v1/groups", NULL, 200, &ans), "groups");
	assert_int_equal(json_object_array_length(arr), 1);
	e2e_answer_free(&ans);
	e2e_activate_ok(fx->conn, sc, E2E_READY_PASS);
	arr = e2e_arr(e2e_call_ok(fx->conn, "GET", target, NULL, 200, &ans), "objects");
	assert_int_equal(json_object_array_length(arr), 1);
	e2e_answer_free(&ans);
	/* The same key: the same ciphertext. */
	after = encrypt_zero_block(fx->conn, key);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

static void acknowledged_create_survives_kill_9(void **state)
{
	struct e2e_fixture *fx = fx_of(state);
	char sc[41], group[37], key[96];
	struct e2e_answer ans;
	json_object *arr;
	char *before, *after;

	e2e_ready_group_ok(fx->conn, sc, group);
	e2e_key_ok(fx->conn, group, "k", 128, NULL, key);
	before = encrypt_zero_block(fx->conn, key);
	restart(fx, SIGKILL);
	e2e_activate_ok(fx->conn, sc, E2E_READY_PASS);
	after = encrypt_zero_block(fx->conn, key);
	assert_string_equal(before, after);
	free(before);
	free(after);

	/* Killed right after the 201 of a create: the softcard is there. */
	e2e_softcard_ok(fx->conn, "late", PASS, sc);
	restart(fx, SIGKILL);
	arr = list_softcards(fx->conn, &ans);
	assert_int_equal(json_object_array_length(arr), 2);
	assert_string_equal(e2e_str(json_object_array_get_idx(arr, 1), "id"), sc);
	e2e_answer_free(&ans);
}

static void same_idempotency_key_gives_the_same_answer_and_one_object(void **state)
{
	static const char body[] =
	    "{\"type\":\"Softcard\",\"name\":\"once\",\"passphrase\":\"" PASS "\"}";
	struct e2e_fixture *fx = fx_of(state);
	struct direct_tls *again;
	struct e2e_answer first, second, third;
	char target[128];

	assert_int_equal(
	    e2e_request(fx->conn, "POST", "/km/v1/protectiondomains", "retry-1", body, &first), 0);
	assert_int_equal(first.status, 201);
	assert_int_equal(
	    e2e_request(fx->conn, "POST", "/km/v1/protectiondomains", "retry-1", body, &second), 0);
	assert_int_equal(second.status, 201);
	assert_string_equal(first.body, second.body);
	/* A retry on a new connection (after a lost answer) is the same. */
	again = e2e_connect_ok(&fx->srv, E2E_CLIENT);
	assert_int_equal(
	    e2e_request(again, "POST", "/km/v1/protectiondomains", "retry-1", body, &third), 0);
	assert_int_equal(third.status, 201);
	assert_string_equal(first.body, third.body);
	e2e_answer_free(&second);
	e2e_answer_free(&third);
	assert_int_equal(json_object_array_length(list_softcards(fx->conn, &second)), 1);
	e2e_answer_free(&second);

	/* Deletes too: the retry gets the first 204, not a 404. */
	snprintf(target, sizeof(target), "/km/v1/protectiondomains/%s", e2e_str(first.json, "id"));
	assert_int_equal(e2e_request(fx->conn, "DELETE", target, "del-1", NULL, &second), 0);
	assert_int_equal(second.status, 204);
	e2e_answer_free(&second);
	assert_int_equal(e2e_request(again, "DELETE", target, "del-1", NULL, &second), 0);
	assert_int_equal(second.status, 204);
	e2e_answer_free(&second);
	e2e_answer_free(&first);
	direct_tls_close(again);
}

static void same_idempotency_key_elsewhere_is_a_conflict(void **state)
{
	struct e2e_fixture *fx = fx_of(state);
	struct e2e_answer ans;
	char sc[41], target[160];

	e2e_softcard_ok(fx->conn, "c", PASS, sc);
	assert_int_equal(e2e_request(fx->conn, "POST", "/km/v1/protectiondomains", "k-1",
	                             "{\"type\":\"Softcard\",\"name\":\"d\",\"passphrase\":\"p\"}",
	                             &ans),
	                 0);
	assert_int_equal(ans.status, 201);
	e2e_answer_free(&ans);
	snprintf(target, sizeof(target), "/km/v1/protectiondomains/%s/activate", sc);
	assert_int_equal(
	    e2e_request(fx->conn, "POST", target, "k-1", "{\"passphrase\":\"" PASS "\"}", &ans), 0);
	e2e_assert_error(&ans, 422, "idempotency_conflict");
	e2e_answer_free(&ans);
	snprintf(target, sizeof(target), "/km/v1/protectiondomains/%s", sc);
	assert_int_equal(e2e_request(fx->conn, "DELETE", target, "k-1", NULL, &ans), 0);
	e2e_assert_error(&ans, 422, "idempotency_conflict");
	e2e_answer_free(&ans);
	/* Nothing was deleted. */
	e2e_call_ok(fx->conn, "GET", target, NULL, 200, &ans);
	e2e_answer_free(&ans);
}

static void idempotency_keys_belong_to_their_client(void **state)
{
	static const char body[] = "{\"type\":\"Softcard\",\"name\":\"mine\",\"passphrase\":\"p\"}";
	static const char body2[] =
	    "{\"type\":\"Softcard\",\"name\":\"theirs\",\"passphrase\":\"p\"}";
	struct e2e_fixture *fx = fx_of(state);
	struct direct_tls *other = e2e_connect_ok(&fx->srv, E2E_CLIENT2);
	struct e2e_answer a, b;

	assert_int_equal(
	    e2e_request(fx->conn, "POST", "/km/v1/protectiondomains", "same", body, &a), 0);
	assert_int_equal(e2e_request(other, "POST", "/km/v1/protectiondomains", "same", body2, &b),
	                 0);
	assert_int_equal(a.status, 201);
	assert_int_equal(b.status, 201);
	assert_string_not_equal(e2e_str(a.json, "id"), e2e_str(b.json, "id"));
	assert_string_equal(e2e_str(b.json, "name"), "theirs");
	e2e_answer_free(&a);
	e2e_answer_free(&b);
	direct_tls_close(other);
}

static void malformed_idempotency_key_is_bad_request(void **state)
{
	struct e2e_fixture *fx = fx_of(state);
	struct e2e_answer ans;
	char long_key[66];

	assert_int_equal(e2e_request(fx->conn, "POST", "/km/v1/protectiondomains", "a b",
	                             "{\"type\":\"Softcard\",\"name\":\"x\",\"passphrase\":\"p\"}",
	                             &ans),
	                 0);
	e2e_assert_error(&ans, 400, "bad_request");
	e2e_answer_free(&ans);
	memset(long_key, 'k', 65);
	long_key[65] = '\0';
	assert_int_equal(e2e_request(fx->conn, "POST", "/km/v1/protectiondomains", long_key,
	                             "{\"type\":\"Softcard\",\"name\":\"x\",\"passphrase\":\"p\"}",
	                             &ans),
	                 0);
	e2e_assert_error(&ans, 400, "bad_request");
	e2e_answer_free(&ans);
	assert_int_equal(json_object_array_length(list_softcards(fx->conn, &ans)), 0);
	e2e_answer_free(&ans);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, e2e_setup, e2e_teardown)
		T(sigterm_exits_0_with_a_client_connected),
		T(everything_persists_across_a_clean_restart),
		T(acknowledged_create_survives_kill_9),
		T(same_idempotency_key_gives_the_same_answer_and_one_object),
		T(same_idempotency_key_elsewhere_is_a_conflict),
		T(idempotency_keys_belong_to_their_client),
		T(malformed_idempotency_key_is_bad_request),
#undef T
	};

	return e2e_main("e2e_lifecycle", tests, sizeof(tests) / sizeof(tests[0]));
}
