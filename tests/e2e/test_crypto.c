/* End-to-end: POST /crypto/v1/encrypt and /crypto/v1/decrypt. */
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests/e2e/e2e.h"

#define PASS "crypto pass phrase"
/* Sixteen zero bytes and a fixed IV, in base64url. */
#define IV_B64   "AAECAwQFBgcICQoLDA0ODw"
#define ZERO16   "AAAAAAAAAAAAAAAAAAAAAA"
#define THREADS  16
#define PER_TASK 50

struct crypto_fixture {
	struct e2e_fixture base; /* first: e2e_teardown frees it */
	char softcard[41];
	char group[37];
};

static int setup(void **state)
{
	struct crypto_fixture *fx = e2e_fixture_new(sizeof(*fx));

	if (fx == NULL)
		return -1;
	e2e_softcard_ok(fx->base.conn, "crypto", PASS, fx->softcard);
	e2e_activate_ok(fx->base.conn, fx->softcard, PASS);
	e2e_group_ok(fx->base.conn, "keys", fx->softcard, fx->group);
	*state = fx;
	return 0;
}

static struct crypto_fixture *fx_of(void **state)
{
	return *state;
}

/* Runs one crypto call; returns the answer (caller frees). */
static int crypto_call(struct direct_tls *conn, const char *op, const char *key, const char *mech,
                       const char *iv_b64, const char *data_b64, struct e2e_answer *ans)
{
	char target[32];
	size_t cap = strlen(data_b64) + 256;
	char *body = malloc(cap);
	int rc;

	assert_non_null(body);
	snprintf(target, sizeof(target), "/crypto/v1/%s", op);
	if (iv_b64 != NULL)
		snprintf(body, cap,
		         "{\"key\":\"%s\",\"mechanism\":\"%s\",\"iv\":\"%s\",\"data\":\"%s\"}", key,
		         mech, iv_b64, data_b64);
	else
		snprintf(body, cap, "{\"key\":\"%s\",\"mechanism\":\"%s\",\"data\":\"%s\"}", key,
		         mech, data_b64);
	rc = e2e_request(conn, "POST", target, NULL, body, ans);
	free(body);
	return rc;
}

/* Asserts success; returns the decoded answer data (caller frees). */
static uint8_t *crypto_ok(struct direct_tls *conn, const char *op, const char *key,
                          const char *mech, const uint8_t *data, size_t len, size_t *out_len)
{
	struct e2e_answer ans;
	char *b64 = e2e_b64(data, len);
	uint8_t *out;

	assert_int_equal(crypto_call(conn, op, key, mech, IV_B64, b64, &ans), 0);
	if (ans.status != 200)
		fprintf(stderr, "e2e: %s -> %d %s\n", op, ans.status, ans.body);
	assert_int_equal(ans.status, 200);
	e2e_assert_members(ans.json, "data", NULL);
	out = e2e_unb64(e2e_str(ans.json, "data"), out_len);
	e2e_answer_free(&ans);
	free(b64);
	return out;
}

static void expect_crypto_error(struct direct_tls *conn, const char *op, const char *key,
                                const char *mech, const char *iv_b64, const char *data_b64,
                                int status, const char *code)
{
	struct e2e_answer ans;

	assert_int_equal(crypto_call(conn, op, key, mech, iv_b64, data_b64, &ans), 0);
	e2e_assert_error(&ans, status, code);
	e2e_answer_free(&ans);
}

static void encrypt_decrypt_round_trip_for_every_size_and_mechanism(void **state)
{
	static const int sizes[] = { 128, 192, 256 };
	static const char *const mechs[] = { "AES_CBC", "AES_CBC_PAD" };
	struct crypto_fixture *fx = fx_of(state);
	uint8_t plain[48];

	for (size_t i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)(i * 7 + 1);
	for (size_t s = 0; s < 3; s++) {
		char key[96];

		e2e_key_ok(fx->base.conn, fx->group, "rt", sizes[s], NULL, key);
		for (size_t m = 0; m < 2; m++) {
			bool pad = m == 1;
			size_t len = pad ? 37 : 48; /* PAD takes any length */
			size_t ct_len, pt_len;
			uint8_t *ct =
			    crypto_ok(fx->base.conn, "encrypt", key, mechs[m], plain, len, &ct_len);
			uint8_t *pt;

			assert_int_equal(ct_len, 48);
			assert_memory_not_equal(ct, plain, 16);
			pt =
			    crypto_ok(fx->base.conn, "decrypt", key, mechs[m], ct, ct_len, &pt_len);
			assert_int_equal(pt_len, len);
			assert_memory_equal(pt, plain, len);
			free(ct);
			free(pt);
		}
	}
}

static void two_keys_differ_and_one_key_is_deterministic(void **state)
{
	struct crypto_fixture *fx = fx_of(state);
	uint8_t zero[16] = { 0 };
	char k1[96], k2[96];
	size_t l1, l2;
	uint8_t *c1, *c2;

	e2e_key_ok(fx->base.conn, fx->group, "a", 128, NULL, k1);
	e2e_key_ok(fx->base.conn, fx->group, "b", 128, NULL, k2);
	c1 = crypto_ok(fx->base.conn, "encrypt", k1, "AES_CBC", zero, 16, &l1);
	c2 = crypto_ok(fx->base.conn, "encrypt", k2, "AES_CBC", zero, 16, &l2);
	/* Two keys are two random values, and the same key is deterministic. */
	assert_memory_not_equal(c1, c2, 16);
	free(c2);
	c2 = crypto_ok(fx->base.conn, "encrypt", k1, "AES_CBC", zero, 16, &l2);
	assert_memory_equal(c1, c2, 16);
	free(c1);
	free(c2);
}

static void crypto_refuses_unknown_key(void **state)
{
	struct crypto_fixture *fx = fx_of(state);
	char key[96];

	snprintf(key, sizeof(key), "km/v1/groups/%s/keys/00000000-0000-0000-0000-000000000000",
	         fx->group);
	expect_crypto_error(fx->base.conn, "encrypt", key, "AES_CBC", IV_B64, ZERO16, 404,
	                    "unknown_key");
	expect_crypto_error(fx->base.conn, "decrypt", key, "AES_CBC", IV_B64, ZERO16, 404,
	                    "unknown_key");
	expect_crypto_error(fx->base.conn, "encrypt", "not/a/key/path", "AES_CBC", IV_B64, ZERO16,
	                    400, "bad_request");
}

static void crypto_needs_the_softcard_active(void **state)
{
	struct crypto_fixture *fx = fx_of(state);
	struct e2e_fixture *base = &fx->base;
	struct direct_tls *other = e2e_connect_ok(&base->srv, E2E_CLIENT2);
	char key[96], target[128];
	struct e2e_answer ans;

	e2e_key_ok(base->conn, fx->group, "k", 128, NULL, key);
	/* Another client has not activated it. */
	expect_crypto_error(other, "encrypt", key, "AES_CBC", IV_B64, ZERO16, 403, "not_active");
	direct_tls_close(other);
	snprintf(target, sizeof(target), "/km/v1/protectiondomains/%s/deactivate", fx->softcard);
	e2e_call_ok(base->conn, "POST", target, NULL, 200, &ans);
	e2e_answer_free(&ans);
	expect_crypto_error(base->conn, "encrypt", key, "AES_CBC", IV_B64, ZERO16, 403,
	                    "not_active");
	expect_crypto_error(base->conn, "decrypt", key, "AES_CBC", IV_B64, ZERO16, 403,
	                    "not_active");
}

static void crypto_refuses_forbidden_use(void **state)
{
	struct crypto_fixture *fx = fx_of(state);
	char enc_only[96], dec_only[96];

	e2e_key_ok(fx->base.conn, fx->group, "e", 128, ",\"decrypt\":false", enc_only);
	e2e_key_ok(fx->base.conn, fx->group, "d", 128, ",\"encrypt\":false", dec_only);
	expect_crypto_error(fx->base.conn, "decrypt", enc_only, "AES_CBC", IV_B64, ZERO16, 403,
	                    "forbidden_use");
	expect_crypto_error(fx->base.conn, "encrypt", dec_only, "AES_CBC", IV_B64, ZERO16, 403,
	                    "forbidden_use");
}

static void crypto_refuses_bad_mechanism_and_iv(void **state)
{
	struct crypto_fixture *fx = fx_of(state);
	char key[96];

	e2e_key_ok(fx->base.conn, fx->group, "k", 256, NULL, key);
	expect_crypto_error(fx->base.conn, "encrypt", key, "AES_ECB", IV_B64, ZERO16, 400,
	                    "bad_mechanism");
	expect_crypto_error(fx->base.conn, "encrypt", key, "AES_GCM", IV_B64, ZERO16, 400,
	                    "bad_mechanism");
	expect_crypto_error(fx->base.conn, "encrypt", key, "AES_CBC", NULL, ZERO16, 400, "bad_iv");
	/* 15 bytes, 17 bytes */
	expect_crypto_error(fx->base.conn, "encrypt", key, "AES_CBC", "AAECAwQFBgcICQoLDA0O",
	                    ZERO16, 400, "bad_iv");
	expect_crypto_error(fx->base.conn, "decrypt", key, "AES_CBC", "AAECAwQFBgcICQoLDA0ODxA",
	                    ZERO16, 400, "bad_iv");
	expect_crypto_error(fx->base.conn, "encrypt", key, "AES_CBC", "AAEC=wQFBgcICQoLDA0ODw",
	                    ZERO16, 400, "bad_request");
}

static void crypto_refuses_bad_data_length(void **state)
{
	struct crypto_fixture *fx = fx_of(state);
	char key[96];

	e2e_key_ok(fx->base.conn, fx->group, "k", 128, NULL, key);
	/* 15 bytes of AES_CBC plaintext or ciphertext */
	expect_crypto_error(fx->base.conn, "encrypt", key, "AES_CBC", IV_B64,
	                    "AAAAAAAAAAAAAAAAAAAA", 400, "bad_data_length");
	expect_crypto_error(fx->base.conn, "decrypt", key, "AES_CBC", IV_B64,
	                    "AAAAAAAAAAAAAAAAAAAA", 400, "bad_data_length");
	expect_crypto_error(fx->base.conn, "decrypt", key, "AES_CBC_PAD", IV_B64,
	                    "AAAAAAAAAAAAAAAAAAAA", 400, "bad_data_length");
	/* empty ciphertext */
	expect_crypto_error(fx->base.conn, "decrypt", key, "AES_CBC_PAD", IV_B64, "", 400,
	                    "bad_data_length");
	expect_crypto_error(fx->base.conn, "decrypt", key, "AES_CBC", IV_B64, "", 400,
	                    "bad_data_length");
}

static void crypto_takes_data_up_to_its_limit(void **state)
{
	struct crypto_fixture *fx = fx_of(state);
	size_t max = 262144;
	uint8_t *data = malloc(max + 16);
	char key[96], *b64;
	size_t ct_len;
	uint8_t *ct;

	assert_non_null(data);
	memset(data, 0x5a, max + 16);
	e2e_key_ok(fx->base.conn, fx->group, "big", 256, NULL, key);
	ct = crypto_ok(fx->base.conn, "encrypt", key, "AES_CBC_PAD", data, max, &ct_len);
	assert_int_equal(ct_len, max + 16);
	free(ct);
	b64 = e2e_b64(data, max + 16);
	expect_crypto_error(fx->base.conn, "encrypt", key, "AES_CBC", IV_B64, b64, 400,
	                    "bad_data_length");
	free(b64);
	free(data);
}

static void decrypt_refuses_bad_padding(void **state)
{
	struct crypto_fixture *fx = fx_of(state);
	uint8_t block[16] = { 0 }; /* last byte 0: never valid padding */
	char key[96];
	size_t ct_len;
	uint8_t *ct;
	char *b64;

	e2e_key_ok(fx->base.conn, fx->group, "k", 192, NULL, key);
	ct = crypto_ok(fx->base.conn, "encrypt", key, "AES_CBC", block, 16, &ct_len);
	b64 = e2e_b64(ct, ct_len);
	expect_crypto_error(fx->base.conn, "decrypt", key, "AES_CBC_PAD", IV_B64, b64, 400,
	                    "bad_padding");
	free(b64);
	free(ct);
	/* A padding byte larger than the block is wrong too. */
	block[15] = 17;
	ct = crypto_ok(fx->base.conn, "encrypt", key, "AES_CBC", block, 16, &ct_len);
	b64 = e2e_b64(ct, ct_len);
	expect_crypto_error(fx->base.conn, "decrypt", key, "AES_CBC_PAD", IV_B64, b64, 400,
	                    "bad_padding");
	free(b64);
	free(ct);
}

struct task {
	struct e2e_task base; /* first: e2e_run_tasks() reads it */
	const char *key;
	char token[WSOP_ACTIVATION_MAX + 1]; /* the activation each connection carries */
	uint8_t plain[32];
	uint8_t expected[32];
};

/* No cmocka assertions in threads: each task counts its own failures. */
/* The generator needs no softcard: any client with a certificate. */
static void random_answers_exactly_the_length_asked(void **state)
{
	struct e2e_answer a, b;
	size_t na = 0, nb = 0;
	json_object *ja = e2e_call_ok(e2e_conn_of(state), "POST", "/crypto/v1/random",
	                              "{\"length\":32}", 200, &a);
	json_object *jb = e2e_call_ok(e2e_conn_of(state), "POST", "/crypto/v1/random",
	                              "{\"length\":32}", 200, &b);
	e2e_assert_members(ja, "data", NULL);
	uint8_t *ra = e2e_unb64(e2e_str(ja, "data"), &na);
	uint8_t *rb = e2e_unb64(e2e_str(jb, "data"), &nb);
	assert_int_equal(na, 32);
	assert_int_equal(nb, 32);
	assert_memory_not_equal(ra, rb, 32);
	free(ra);
	free(rb);
	e2e_answer_free(&a);
	e2e_answer_free(&b);

	json_object *jc = e2e_call_ok(e2e_conn_of(state), "POST", "/crypto/v1/random",
	                              "{\"length\":65536}", 200, &a);
	uint8_t *rc = e2e_unb64(e2e_str(jc, "data"), &na);
	assert_int_equal(na, 65536);
	free(rc);
	e2e_answer_free(&a);
	e2e_expect_error(state, "POST", "/crypto/v1/random", "{\"length\":0}", 400, "bad_request");
	e2e_expect_error(state, "POST", "/crypto/v1/random", "{\"length\":65537}", 400,
	                 "bad_request");
	e2e_expect_error(state, "POST", "/crypto/v1/random", "{}", 400, "bad_request");
	e2e_expect_error(state, "GET", "/crypto/v1/random", NULL, 405, "method_not_allowed");
}

static void *encrypt_task(void *arg)
{
	struct task *t = arg;
	struct direct_tls *conn = NULL;
	char err[DIRECT_TLS_ERROR_MAX];
	char *b64 = e2e_b64(t->plain, sizeof(t->plain));
	char expected_b64[64];
	char *exp = e2e_b64(t->expected, sizeof(t->expected));

	snprintf(expected_b64, sizeof(expected_b64), "%s", exp);
	free(exp);
	if (e2e_connect(t->base.srv, E2E_CLIENT, 0, &conn, err, sizeof(err)) != 0) {
		snprintf(t->base.why, sizeof(t->base.why), "connect: %s", err);
		t->base.failures = PER_TASK;
		free(b64);
		return NULL;
	}
	e2e_set_activation(conn, t->token);
	for (int i = 0; i < PER_TASK; i++) {
		struct e2e_answer ans;
		char body[256];
		json_object *data = NULL;

		snprintf(body, sizeof(body),
		         "{\"key\":\"%s\",\"mechanism\":\"AES_CBC\",\"iv\":\"" IV_B64
		         "\",\"data\":\"%s\"}",
		         t->key, b64);
		if (e2e_request(conn, "POST", "/crypto/v1/encrypt", NULL, body, &ans) != 0 ||
		    ans.status != 200 || ans.json == NULL ||
		    !json_object_object_get_ex(ans.json, "data", &data) ||
		    strcmp(json_object_get_string(data), expected_b64) != 0) {
			snprintf(t->base.why, sizeof(t->base.why), "call %d: status %d body %s", i,
			         ans.status, ans.body != NULL ? ans.body : "(none)");
			t->base.failures++;
		}
		e2e_answer_free(&ans);
	}
	e2e_set_activation(conn, NULL);
	direct_tls_close(conn);
	free(b64);
	return NULL;
}

static void concurrent_clients_all_get_correct_answers(void **state)
{
	struct crypto_fixture *fx = fx_of(state);
	static struct task tasks[THREADS];
	char key[96];

	e2e_key_ok(fx->base.conn, fx->group, "shared", 256, NULL, key);
	for (int i = 0; i < THREADS; i++) {
		size_t len;
		uint8_t *ct;

		memset(&tasks[i], 0, sizeof(tasks[i]));
		tasks[i].base.srv = &fx->base.srv;
		tasks[i].key = key;
		assert_true(e2e_activation_of(fx->base.conn, tasks[i].token));
		for (size_t j = 0; j < sizeof(tasks[i].plain); j++)
			tasks[i].plain[j] = (uint8_t)(i * 31 + j);
		ct = crypto_ok(fx->base.conn, "encrypt", key, "AES_CBC", tasks[i].plain,
		               sizeof(tasks[i].plain), &len);
		assert_int_equal(len, sizeof(tasks[i].expected));
		memcpy(tasks[i].expected, ct, len);
		free(ct);
	}
	assert_int_equal(e2e_run_tasks(encrypt_task, tasks, THREADS, sizeof(tasks[0]),
	                               E2E_STR(PER_TASK) " encrypt calls"),
	                 0);
}

/* ---- the binary form ---------------------------------------------------- */

/* One binary request; headers given as "Name: value\r\n" lines (any of the
 * three may be left out or wrong on purpose). */
static void bin_call(struct direct_tls *conn, const char *op, const char *headers,
                     const uint8_t *data, size_t len, struct e2e_answer *ans)
{
	char token[WSOP_ACTIVATION_MAX + 1];
	char head[2048];
	assert_true(e2e_activation_of(conn, token));
	int n = snprintf(head, sizeof(head),
	                 "POST /crypto/v1/%s HTTP/1.1\r\nHost: wsop\r\n"
	                 "Content-Type: application/octet-stream\r\n"
	                 "X-WSOP-Activation: %s\r\n%sContent-Length: %zu\r\n\r\n",
	                 op, token, headers, len);
	assert_true(n > 0 && (size_t)n < sizeof(head));
	uint8_t *req = malloc((size_t)n + len + 1);
	assert_non_null(req);
	memcpy(req, head, (size_t)n);
	if (len > 0)
		memcpy(req + n, data, len);
	assert_int_equal(e2e_raw(conn, req, (size_t)n + len, ans), 0);
	free(req);
}

static void bin_headers(char *out, size_t cap, const char *key, const char *mech, const char *iv)
{
	snprintf(out, cap, "X-WSOP-Key: %s\r\nX-WSOP-Mechanism: %s\r\nX-WSOP-IV: %s\r\n", key, mech,
	         iv);
}

/* The same bytes as the JSON form, a raw answer, JSON errors. */
static void binary_form_matches_json(void **state)
{
	struct crypto_fixture *fx = fx_of(state);
	struct e2e_answer ans;
	char key[96], h[512];
	uint8_t plain[1000];

	for (size_t i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)(i * 13 + 5);
	e2e_key_ok(fx->base.conn, fx->group, "bin", 256, NULL, key);
	size_t ct_len;
	uint8_t *ct =
	    crypto_ok(fx->base.conn, "encrypt", key, "AES_CBC_PAD", plain, sizeof(plain), &ct_len);
	bin_headers(h, sizeof(h), key, "AES_CBC_PAD", IV_B64);
	bin_call(fx->base.conn, "encrypt", h, plain, sizeof(plain), &ans);
	assert_int_equal(ans.status, 200);
	assert_non_null(strstr(ans.head, "Content-Type: application/octet-stream"));
	assert_int_equal(ans.body_len, ct_len);
	assert_memory_equal(ans.body, ct, ct_len);
	e2e_answer_free(&ans);
	bin_call(fx->base.conn, "decrypt", h, ct, ct_len, &ans);
	assert_int_equal(ans.status, 200);
	assert_int_equal(ans.body_len, sizeof(plain));
	assert_memory_equal(ans.body, plain, sizeof(plain));
	e2e_answer_free(&ans);
	/* Nothing in, nothing out. */
	bin_headers(h, sizeof(h), key, "AES_CBC", IV_B64);
	bin_call(fx->base.conn, "encrypt", h, NULL, 0, &ans);
	assert_int_equal(ans.status, 200);
	assert_int_equal(ans.body_len, 0);
	e2e_answer_free(&ans);
	/* Errors are the JSON ones. */
	bin_call(fx->base.conn, "decrypt", h, ct, 17, &ans);
	e2e_assert_error(&ans, 400, "bad_data_length");
	e2e_answer_free(&ans);
	bin_headers(h, sizeof(h), key, "AES_CBC_PAD", IV_B64);
	uint8_t junk[32] = { 0 };
	bin_call(fx->base.conn, "decrypt", h, junk, sizeof(junk), &ans);
	e2e_assert_error(&ans, 400, "bad_padding");
	e2e_answer_free(&ans);
	free(ct);
}

/* Each header is checked as its JSON member is. */
static void binary_form_refuses_bad_headers(void **state)
{
	struct crypto_fixture *fx = fx_of(state);
	struct e2e_answer ans;
	char key[96], h[512], unknown[96];
	uint8_t data[16] = { 0 };

	e2e_key_ok(fx->base.conn, fx->group, "binbad", 128, NULL, key);
	snprintf(unknown, sizeof(unknown),
	         "km/v1/groups/%s/keys/00000000-0000-0000-0000-000000000000", fx->group);
	static const struct {
		const char *key, *mech, *iv;
		int status;
		const char *code;
	} cases[] = {
		{ NULL, "AES_CBC", IV_B64, 400, "bad_request" },
		{ "not/a/key/path", "AES_CBC", IV_B64, 400, "bad_request" },
		{ "", "AES_GCM", IV_B64, 400, "bad_mechanism" },
		{ "", "aes_cbc", IV_B64, 400, "bad_mechanism" },
		{ "", "AES_CBC", "AAECAwQFBgcICQoLDA0OD", 400, "bad_iv" },
		{ "", "AES_CBC", "AAECAwQFBgcICQoLDA0ODwA", 400, "bad_iv" },
		{ "", "AES_CBC", "AAECAwQFBgcICQoLDA0OD+", 400, "bad_iv" },
		{ "unknown", "AES_CBC", IV_B64, 404, "unknown_key" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *k = cases[i].key == NULL                   ? NULL
		                : strcmp(cases[i].key, "") == 0        ? key
		                : strcmp(cases[i].key, "unknown") == 0 ? unknown
		                                                       : cases[i].key;
		if (k == NULL)
			snprintf(h, sizeof(h), "X-WSOP-Mechanism: %s\r\nX-WSOP-IV: %s\r\n",
			         cases[i].mech, cases[i].iv);
		else
			bin_headers(h, sizeof(h), k, cases[i].mech, cases[i].iv);
		bin_call(fx->base.conn, "encrypt", h, data, sizeof(data), &ans);
		e2e_assert_error(&ans, cases[i].status, cases[i].code);
		e2e_answer_free(&ans);
	}
	/* Data above the limit. */
	size_t big = WSOP_CRYPTO_DATA_MAX + 16;
	uint8_t *much = calloc(1, big);
	assert_non_null(much);
	bin_headers(h, sizeof(h), key, "AES_CBC", IV_B64);
	bin_call(fx->base.conn, "encrypt", h, much, big, &ans);
	e2e_assert_error(&ans, 400, "bad_data_length");
	e2e_answer_free(&ans);
	free(much);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, e2e_teardown)
		T(encrypt_decrypt_round_trip_for_every_size_and_mechanism),
		T(two_keys_differ_and_one_key_is_deterministic),
		T(crypto_refuses_unknown_key),
		T(crypto_needs_the_softcard_active),
		T(crypto_refuses_forbidden_use),
		T(crypto_refuses_bad_mechanism_and_iv),
		T(crypto_refuses_bad_data_length),
		T(crypto_takes_data_up_to_its_limit),
		T(decrypt_refuses_bad_padding),
		T(random_answers_exactly_the_length_asked),
		T(concurrent_clients_all_get_correct_answers),
		T(binary_form_matches_json),
		T(binary_form_refuses_bad_headers),
#undef T
	};

	return e2e_main("e2e_crypto", tests, sizeof(tests) / sizeof(tests[0]));
}
