/* End-to-end: GET /health and the softcard (protection domain) endpoints. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests/e2e/e2e.h"

#define PASS "correct horse pass phrase"

static bool is_lower_hex(const char *s, size_t len)
{
	if (strlen(s) != len)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return true;
}

static void assert_softcard(json_object *sc, const char *name, bool active)
{
	json_object *token = NULL;

	/* Only the answer of activate carries the new activation's token. */
	if (json_object_object_get_ex(sc, "activation", &token)) {
		e2e_assert_members(sc, "id", "type", "name", "created", "active", "activation",
		                   NULL);
		assert_true(wsop_activation_token_valid(json_object_get_string(token)));
	} else {
		e2e_assert_members(sc, "id", "type", "name", "created", "active", NULL);
	}
	assert_true(is_lower_hex(e2e_str(sc, "id"), 40));
	assert_string_equal(e2e_str(sc, "type"), "Softcard");
	assert_string_equal(e2e_str(sc, "name"), name);
	assert_true(e2e_int(sc, "created") > 1600000000);
	assert_int_equal(e2e_bool(sc, "active"), active);
}

static void health_answers_ok_and_version(void **state)
{
	struct e2e_answer ans;
	json_object *h = e2e_call_ok(e2e_conn_of(state), "GET", "/health", NULL, 200, &ans);

	e2e_assert_members(h, "status", "version", NULL);
	assert_string_equal(e2e_str(h, "status"), "ok");
	assert_string_equal(e2e_str(h, "version"), "1.0.0");
	assert_non_null(strstr(ans.head, "application/json"));
	e2e_answer_free(&ans);
}

static void softcard_create_answers_201_inactive_softcard(void **state)
{
	struct e2e_answer ans;
	json_object *sc = e2e_call_ok(e2e_conn_of(state), "POST", "/km/v1/protectiondomains",
	                              "{\"type\":\"Softcard\",\"name\":\"alice_1-x\","
	                              "\"passphrase\":\"" PASS "\"}",
	                              201, &ans);

	assert_softcard(sc, "alice_1-x", false);
	/* The passphrase is never echoed. */
	assert_null(strstr(ans.body, PASS));
	e2e_answer_free(&ans);
}

/* The name is the token label: two softcards of one name would make a
 * label-selected token ambiguous. */
static void softcard_create_refuses_a_name_in_use(void **state)
{
	static const char body[] =
	    "{\"type\":\"Softcard\",\"name\":\"twin\",\"passphrase\":\"" PASS "\"}";
	struct e2e_answer ans;

	e2e_call_ok(e2e_conn_of(state), "POST", "/km/v1/protectiondomains", body, 201, &ans);
	e2e_answer_free(&ans);
	e2e_expect_error(state, "POST", "/km/v1/protectiondomains", body, 409, "name_taken");
	/* Names differ by case: "Twin" is another label. */
	e2e_call_ok(e2e_conn_of(state), "POST", "/km/v1/protectiondomains",
	            "{\"type\":\"Softcard\",\"name\":\"Twin\",\"passphrase\":\"" PASS "\"}", 201,
	            &ans);
	e2e_answer_free(&ans);
}

static void softcard_create_refuses_invalid_name(void **state)
{
	static const char *const names[] = { "", "a b", "caf\\u00e9", "a/b", "x.y" };
	char body[512];
	char long_name[66];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(body, sizeof(body),
		         "{\"type\":\"Softcard\",\"name\":\"%s\",\"passphrase\":\"p\"}", names[i]);
		e2e_expect_error(state, "POST", "/km/v1/protectiondomains", body, 400,
		                 "invalid_name");
	}
	memset(long_name, 'n', 65);
	long_name[65] = '\0';
	snprintf(body, sizeof(body), "{\"type\":\"Softcard\",\"name\":\"%s\",\"passphrase\":\"p\"}",
	         long_name);
	e2e_expect_error(state, "POST", "/km/v1/protectiondomains", body, 400, "invalid_name");
	/* 64 characters is still a name. */
	long_name[64] = '\0';
	snprintf(body, sizeof(body), "{\"type\":\"Softcard\",\"name\":\"%s\",\"passphrase\":\"p\"}",
	         long_name);
	struct e2e_answer ans;
	e2e_call_ok(e2e_conn_of(state), "POST", "/km/v1/protectiondomains", body, 201, &ans);
	e2e_answer_free(&ans);
}

static void softcard_create_refuses_invalid_passphrase(void **state)
{
	char body[1024];
	char long_pass[258];

	e2e_expect_error(state, "POST", "/km/v1/protectiondomains",
	                 "{\"type\":\"Softcard\",\"name\":\"a\",\"passphrase\":\"\"}", 400,
	                 "invalid_passphrase");
	e2e_expect_error(state, "POST", "/km/v1/protectiondomains",
	                 "{\"type\":\"Softcard\",\"name\":\"a\",\"passphrase\":\"tab\\there\"}",
	                 400, "invalid_passphrase");
	e2e_expect_error(state, "POST", "/km/v1/protectiondomains",
	                 "{\"type\":\"Softcard\",\"name\":\"a\",\"passphrase\":\"caf\\u00e9\"}",
	                 400, "invalid_passphrase");
	memset(long_pass, 'p', 257);
	long_pass[257] = '\0';
	snprintf(body, sizeof(body), "{\"type\":\"Softcard\",\"name\":\"a\",\"passphrase\":\"%s\"}",
	         long_pass);
	e2e_expect_error(state, "POST", "/km/v1/protectiondomains", body, 400,
	                 "invalid_passphrase");
}

static void softcard_create_refuses_other_type_missing_or_extra_members(void **state)
{
	e2e_expect_error(state, "POST", "/km/v1/protectiondomains",
	                 "{\"type\":\"Module\",\"name\":\"a\",\"passphrase\":\"p\"}", 400,
	                 "bad_request");
	e2e_expect_error(state, "POST", "/km/v1/protectiondomains",
	                 "{\"name\":\"a\",\"passphrase\":\"p\"}", 400, "bad_request");
	e2e_expect_error(state, "POST", "/km/v1/protectiondomains",
	                 "{\"type\":\"Softcard\",\"name\":\"a\"}", 400, "bad_request");
	e2e_expect_error(
	    state, "POST", "/km/v1/protectiondomains",
	    "{\"type\":\"Softcard\",\"name\":\"a\",\"passphrase\":\"p\",\"pin\":\"1\"}", 400,
	    "bad_request");
}

static void softcard_list_is_in_creation_order(void **state)
{
	static const char *const names[] = { "zeta", "alpha", "mid" };
	char ids[3][41];
	struct e2e_answer ans;
	json_object *list, *arr;

	list = e2e_call_ok(e2e_conn_of(state), "GET", "/km/v1/protectiondomains", NULL, 200, &ans);
	e2e_assert_members(list, "protectiondomains", NULL);
	assert_int_equal(json_object_array_length(e2e_arr(list, "protectiondomains")), 0);
	e2e_answer_free(&ans);

	for (size_t i = 0; i < 3; i++)
		e2e_softcard_ok(e2e_conn_of(state), names[i], PASS, ids[i]);
	list = e2e_call_ok(e2e_conn_of(state), "GET", "/km/v1/protectiondomains", NULL, 200, &ans);
	arr = e2e_arr(list, "protectiondomains");
	assert_int_equal(json_object_array_length(arr), 3);
	for (size_t i = 0; i < 3; i++) {
		json_object *sc = json_object_array_get_idx(arr, i);

		assert_softcard(sc, names[i], false);
		assert_string_equal(e2e_str(sc, "id"), ids[i]);
	}
	e2e_answer_free(&ans);
}

static void softcard_get_answers_softcard_or_not_found(void **state)
{
	char id[41], target[128];
	struct e2e_answer ans;

	e2e_softcard_ok(e2e_conn_of(state), "bob", PASS, id);
	snprintf(target, sizeof(target), "/km/v1/protectiondomains/%s", id);
	assert_softcard(e2e_call_ok(e2e_conn_of(state), "GET", target, NULL, 200, &ans), "bob",
	                false);
	e2e_answer_free(&ans);

	e2e_expect_error(state, "GET",
	                 "/km/v1/protectiondomains/0000000000000000000000000000000000000000", NULL,
	                 404, "not_found");
	e2e_expect_error(state, "GET", "/km/v1/protectiondomains/not-an-id", NULL, 404,
	                 "not_found");
}

static void softcard_delete_answers_204_then_not_found(void **state)
{
	char id[41], target[128];
	struct e2e_answer ans;
	json_object *list;

	e2e_softcard_ok(e2e_conn_of(state), "gone", PASS, id);
	snprintf(target, sizeof(target), "/km/v1/protectiondomains/%s", id);
	e2e_delete_gone_ok(state, target);
	list = e2e_call_ok(e2e_conn_of(state), "GET", "/km/v1/protectiondomains", NULL, 200, &ans);
	assert_int_equal(json_object_array_length(e2e_arr(list, "protectiondomains")), 0);
	e2e_answer_free(&ans);
}

static void softcard_delete_refuses_while_not_empty(void **state)
{
	char sc[41], group[37], key[96], target[160];
	struct e2e_answer ans;

	e2e_ready_group_ok(e2e_conn_of(state), sc, group);
	e2e_key_ok(e2e_conn_of(state), group, "k", 128, NULL, key);
	snprintf(target, sizeof(target), "/km/v1/protectiondomains/%s", sc);
	e2e_expect_error(state, "DELETE", target, NULL, 409, "not_empty");

	/* Emptied, it goes. */
	snprintf(target, sizeof(target), "/%s", key);
	e2e_call_ok(e2e_conn_of(state), "DELETE", target, NULL, 204, &ans);
	e2e_answer_free(&ans);
	snprintf(target, sizeof(target), "/km/v1/protectiondomains/%s", sc);
	e2e_call_ok(e2e_conn_of(state), "DELETE", target, NULL, 204, &ans);
	e2e_answer_free(&ans);
}

static void softcard_delete_refuses_while_it_holds_an_object(void **state)
{
	char sc[41], target[160];
	struct e2e_answer ans;

	e2e_softcard_ok(e2e_conn_of(state), "objs", PASS, sc);
	e2e_activate_ok(e2e_conn_of(state), sc, PASS);
	snprintf(target, sizeof(target), "/km/v1/protectiondomains/%s/objects", sc);
	e2e_call_ok(e2e_conn_of(state), "POST", target, "{\"class\":\"data\",\"attributes\":{}}",
	            201, &ans);
	e2e_answer_free(&ans);
	snprintf(target, sizeof(target), "/km/v1/protectiondomains/%s", sc);
	e2e_expect_error(state, "DELETE", target, NULL, 409, "not_empty");
}

static void activate_with_the_passphrase_answers_active(void **state)
{
	char id[41], target[160];
	struct e2e_answer ans;
	json_object *sc;

	e2e_softcard_ok(e2e_conn_of(state), "carol", PASS, id);
	snprintf(target, sizeof(target), "/km/v1/protectiondomains/%s/activate", id);
	sc = e2e_call_ok(e2e_conn_of(state), "POST", target, "{\"passphrase\":\"" PASS "\"}", 200,
	                 &ans);
	assert_softcard(sc, "carol", true);
	e2e_answer_free(&ans);

	/* GET and list now say active, for this client. */
	snprintf(target, sizeof(target), "/km/v1/protectiondomains/%s", id);
	assert_softcard(e2e_call_ok(e2e_conn_of(state), "GET", target, NULL, 200, &ans), "carol",
	                true);
	e2e_answer_free(&ans);
}

static void activation_belongs_to_the_client_certificate(void **state)
{
	struct e2e_fixture *fx = *state;
	struct direct_tls *other = e2e_connect_ok(&fx->srv, E2E_CLIENT2);
	char id[41], target[160];
	struct e2e_answer ans;

	e2e_softcard_ok(fx->conn, "shared", PASS, id);
	e2e_activate_ok(fx->conn, id, PASS);
	snprintf(target, sizeof(target), "/km/v1/protectiondomains/%s", id);
	assert_softcard(e2e_call_ok(other, "GET", target, NULL, 200, &ans), "shared", false);
	e2e_answer_free(&ans);
	assert_softcard(e2e_call_ok(fx->conn, "GET", target, NULL, 200, &ans), "shared", true);
	e2e_answer_free(&ans);
	direct_tls_close(other);
}

/* Two processes with one client certificate: each activation is its own,
 * and ending one leaves the other working. */
static void one_activation_per_activate(void **state)
{
	struct e2e_fixture *fx = *state;
	struct direct_tls *second = e2e_connect_ok(&fx->srv, E2E_CLIENT);
	char id[41], group[37], target[160];
	char t1[WSOP_ACTIVATION_MAX + 1], t2[WSOP_ACTIVATION_MAX + 1];
	struct e2e_answer ans;

	e2e_softcard_ok(fx->conn, "twice", PASS, id);
	e2e_activate_ok(fx->conn, id, PASS);
	e2e_activate_ok(second, id, PASS);
	assert_true(e2e_activation_of(fx->conn, t1));
	assert_true(e2e_activation_of(second, t2));
	assert_string_not_equal(t1, t2);
	e2e_group_ok(fx->conn, "g", id, group);
	snprintf(target, sizeof(target), "/km/v1/groups/%s/keys", group);
	e2e_call_ok(second, "GET", target, NULL, 200, &ans);
	e2e_answer_free(&ans);

	/* The first ends its own; the second still works. */
	snprintf(target, sizeof(target), "/km/v1/protectiondomains/%s/deactivate", id);
	e2e_call_ok(fx->conn, "POST", target, "{}", 200, &ans);
	e2e_answer_free(&ans);
	snprintf(target, sizeof(target), "/km/v1/groups/%s/keys", group);
	e2e_call_ok(second, "GET", target, NULL, 200, &ans);
	e2e_answer_free(&ans);
	/* The ended token, sent again, is refused; so is none at all. */
	e2e_set_activation(fx->conn, t1);
	assert_int_equal(e2e_request(fx->conn, "GET", target, NULL, NULL, &ans), 0);
	e2e_assert_error(&ans, 403, "not_active");
	e2e_answer_free(&ans);
	e2e_set_activation(fx->conn, NULL);
	assert_int_equal(e2e_request(fx->conn, "GET", target, NULL, NULL, &ans), 0);
	e2e_assert_error(&ans, 403, "not_active");
	e2e_answer_free(&ans);
	/* A token is not valid for another softcard. */
	e2e_set_activation(fx->conn, t2);
	e2e_softcard_ok(fx->conn, "other", PASS, id);
	snprintf(target, sizeof(target), "/km/v1/protectiondomains/%s/objects", id);
	assert_int_equal(e2e_request(fx->conn, "GET", target, NULL, NULL, &ans), 0);
	e2e_assert_error(&ans, 403, "not_active");
	e2e_answer_free(&ans);
	e2e_set_activation(fx->conn, NULL);
	e2e_set_activation(second, NULL);
	direct_tls_close(second);
}

/* A stolen token is of no use over another client certificate. */
static void token_is_bound_to_the_client_certificate(void **state)
{
	struct e2e_fixture *fx = *state;
	struct direct_tls *other = e2e_connect_ok(&fx->srv, E2E_CLIENT2);
	char id[41], token[WSOP_ACTIVATION_MAX + 1], target[160];
	struct e2e_answer ans;

	e2e_softcard_ok(fx->conn, "bound", PASS, id);
	e2e_activate_ok(fx->conn, id, PASS);
	assert_true(e2e_activation_of(fx->conn, token));
	e2e_set_activation(other, token);
	snprintf(target, sizeof(target), "/km/v1/protectiondomains/%s/objects", id);
	assert_int_equal(e2e_request(other, "GET", target, NULL, NULL, &ans), 0);
	e2e_assert_error(&ans, 403, "not_active");
	e2e_answer_free(&ans);
	e2e_call_ok(fx->conn, "GET", target, NULL, 200, &ans);
	e2e_answer_free(&ans);
	e2e_set_activation(other, NULL);
	direct_tls_close(other);
}

static void activate_refuses_wrong_passphrase(void **state)
{
	char id[41], target[160];

	e2e_softcard_ok(e2e_conn_of(state), "dave", PASS, id);
	snprintf(target, sizeof(target), "/km/v1/protectiondomains/%s/activate", id);
	e2e_expect_error(state, "POST", target, "{\"passphrase\":\"not it\"}", 403,
	                 "wrong_passphrase");
	snprintf(target, sizeof(target), "/km/v1/protectiondomains/%s", id);
	struct e2e_answer ans;
	/* The wrong passphrase is counted (no limit, so never locked). */
	json_object *sc = e2e_call_ok(e2e_conn_of(state), "GET", target, NULL, 200, &ans);
	e2e_assert_members(sc, "id", "type", "name", "created", "active", "login_failures", NULL);
	assert_int_equal(e2e_int(sc, "login_failures"), 1);
	assert_string_equal(e2e_str(sc, "name"), "dave");
	assert_false(e2e_bool(sc, "active"));
	e2e_answer_free(&ans);
}

static void activate_refuses_unknown_softcard_and_bad_body(void **state)
{
	char id[41], target[160];

	e2e_expect_error(
	    state, "POST",
	    "/km/v1/protectiondomains/0123456789012345678901234567890123456789/activate",
	    "{\"passphrase\":\"x\"}", 404, "not_found");
	e2e_softcard_ok(e2e_conn_of(state), "erin", PASS, id);
	snprintf(target, sizeof(target), "/km/v1/protectiondomains/%s/activate", id);
	e2e_expect_error(state, "POST", target, "{}", 400, "bad_request");
	e2e_expect_error(state, "POST", target, "{\"passphrase\":\"" PASS "\",\"x\":1}", 400,
	                 "bad_request");
}

static void wrong_passphrase_is_answered_later_and_later(void **state)
{
	char id[41], target[160];
	long long t0, first, second;

	e2e_softcard_ok(e2e_conn_of(state), "slow", PASS, id);
	snprintf(target, sizeof(target), "/km/v1/protectiondomains/%s/activate", id);
	t0 = e2e_now_ms();
	e2e_expect_error(state, "POST", target, "{\"passphrase\":\"bad 1\"}", 403,
	                 "wrong_passphrase");
	first = e2e_now_ms() - t0;
	t0 = e2e_now_ms();
	e2e_expect_error(state, "POST", target, "{\"passphrase\":\"bad 2\"}", 403,
	                 "wrong_passphrase");
	second = e2e_now_ms() - t0;
	fprintf(stderr, "e2e: wrong passphrase answers took %lld ms then %lld ms\n", first, second);
	assert_true(second >= 1000);
	/* A success resets the slow-down: the next failure is answered as
	 * quickly as the first one was, sooner than the second. */
	e2e_activate_ok(e2e_conn_of(state), id, PASS);
	t0 = e2e_now_ms();
	e2e_expect_error(state, "POST", target, "{\"passphrase\":\"bad 3\"}", 403,
	                 "wrong_passphrase");
	assert_true(e2e_now_ms() - t0 < second - 500);
}

/* activate of a softcard that another activation keeps active: the
 * passphrase that unlocked it is known without the KDF, any other one is
 * still refused, and once the softcard has left memory (its last
 * activation ended) the first passphrase offered, wrong or right, goes
 * through the KDF again. */
static void activate_of_an_active_softcard_still_checks_the_passphrase(void **state)
{
	struct e2e_fixture *fx = *state;
	struct direct_tls *second = e2e_connect_ok(&fx->srv, E2E_CLIENT);
	char id[41], act[160], deact[160], target[160], line[120];
	struct e2e_answer ans;

	e2e_softcard_ok(fx->conn, "known", PASS, id);
	snprintf(act, sizeof(act), "/km/v1/protectiondomains/%s/activate", id);
	snprintf(deact, sizeof(deact), "/km/v1/protectiondomains/%s/deactivate", id);
	snprintf(target, sizeof(target), "/km/v1/protectiondomains/%s/objects", id);
	snprintf(line, sizeof(line), "softcard %s: passphrase known while active, no KDF", id);
	e2e_activate_ok(fx->conn, id, PASS);
	assert_int_equal(e2e_server_log_count(&fx->srv, line), 0);

	/* Active: a wrong passphrase, even one that only lacks the last
	 * character, is refused as before. */
	assert_int_equal(
	    e2e_request(second, "POST", act, NULL, "{\"passphrase\":\"not it\"}", &ans), 0);
	e2e_assert_error(&ans, 403, "wrong_passphrase");
	e2e_answer_free(&ans);
	char body[128];
	snprintf(body, sizeof(body), "{\"passphrase\":\"%.*s\"}", (int)strlen(PASS) - 1, PASS);
	assert_int_equal(e2e_request(second, "POST", act, NULL, body, &ans), 0);
	e2e_assert_error(&ans, 403, "wrong_passphrase");
	e2e_answer_free(&ans);
	assert_int_equal(e2e_server_log_count(&fx->srv, line), 0);

	/* The right one is known without the KDF and gives a working token. */
	e2e_activate_ok(second, id, PASS);
	assert_int_equal(e2e_server_log_count(&fx->srv, line), 1);
	e2e_call_ok(second, "GET", target, NULL, 200, &ans);
	e2e_answer_free(&ans);

	/* Both activations end: the softcard and its verifier leave memory. */
	e2e_call_ok(fx->conn, "POST", deact, "{}", 200, &ans);
	e2e_answer_free(&ans);
	e2e_call_ok(second, "POST", deact, "{}", 200, &ans);
	e2e_answer_free(&ans);
	assert_int_equal(
	    e2e_request(second, "POST", act, NULL, "{\"passphrase\":\"not it\"}", &ans), 0);
	e2e_assert_error(&ans, 403, "wrong_passphrase");
	e2e_answer_free(&ans);
	e2e_activate_ok(second, id, PASS);
	assert_int_equal(e2e_server_log_count(&fx->srv, line), 1);
	e2e_set_activation(second, NULL);
	direct_tls_close(second);
}

static void deactivate_answers_inactive(void **state)
{
	char id[41], target[160];
	struct e2e_answer ans;

	e2e_softcard_ok(e2e_conn_of(state), "frank", PASS, id);
	e2e_activate_ok(e2e_conn_of(state), id, PASS);
	snprintf(target, sizeof(target), "/km/v1/protectiondomains/%s/deactivate", id);
	assert_softcard(e2e_call_ok(e2e_conn_of(state), "POST", target, NULL, 200, &ans), "frank",
	                false);
	e2e_answer_free(&ans);
	e2e_activate_ok(e2e_conn_of(state), id, PASS);
	assert_softcard(e2e_call_ok(e2e_conn_of(state), "POST", target, "{}", 200, &ans), "frank",
	                false);
	e2e_answer_free(&ans);
	e2e_expect_error(state, "POST", target, "{\"passphrase\":\"x\"}", 400, "bad_request");
	e2e_expect_error(
	    state, "POST",
	    "/km/v1/protectiondomains/0123456789012345678901234567890123456789/deactivate", NULL,
	    404, "not_found");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, e2e_setup, e2e_teardown)
		T(health_answers_ok_and_version),
		T(softcard_create_answers_201_inactive_softcard),
		T(softcard_create_refuses_a_name_in_use),
		T(softcard_create_refuses_invalid_name),
		T(softcard_create_refuses_invalid_passphrase),
		T(softcard_create_refuses_other_type_missing_or_extra_members),
		T(softcard_list_is_in_creation_order),
		T(softcard_get_answers_softcard_or_not_found),
		T(softcard_delete_answers_204_then_not_found),
		T(softcard_delete_refuses_while_not_empty),
		T(softcard_delete_refuses_while_it_holds_an_object),
		T(activate_with_the_passphrase_answers_active),
		T(activation_belongs_to_the_client_certificate),
		T(one_activation_per_activate),
		T(token_is_bound_to_the_client_certificate),
		T(activate_refuses_wrong_passphrase),
		T(activate_refuses_unknown_softcard_and_bad_body),
		T(wrong_passphrase_is_answered_later_and_later),
		T(deactivate_answers_inactive),
		T(activate_of_an_active_softcard_still_checks_the_passphrase),
#undef T
	};

	return e2e_main("e2e_softcards", tests, sizeof(tests) / sizeof(tests[0]));
}
