/* End-to-end: the typed REST client (lib/wsop_client.h) over direct_tls
 * against a real wsopd — what the tools and, later, the library rely on. */
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/wsop_client.h"
#include "tests/e2e/e2e.h"

#define PASS     "typed pass phrase"
#define THREADS  16
#define PER_TASK 50

struct client_fixture {
	struct e2e_fixture base; /* first: e2e_teardown frees it */
	struct wsop_client client;
};

static int setup(void **state)
{
	struct client_fixture *fx = e2e_fixture_new(sizeof(*fx));
	struct wsop_transport t;

	if (fx == NULL)
		return -1;
	direct_tls_transport(fx->base.conn, &t);
	if (wsop_client_init(&fx->client, &t, "localhost", 15000) != 0)
		return -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct client_fixture *fx = *state;

	if (fx != NULL)
		wsop_client_free(&fx->client);
	return e2e_teardown(state);
}

static struct wsop_client *client_of(void **state)
{
	return &((struct client_fixture *)*state)->client;
}

static void assert_error(struct wsop_client *c, int rc, int status, const char *code)
{
	if (rc != status || strcmp(wsop_client_error(c)->code, code) != 0)
		fprintf(stderr, "e2e: expected %d %s, got %d %s: %s\n", status, code, rc,
		        wsop_client_error(c)->code, wsop_client_error(c)->message);
	assert_int_equal(rc, status);
	assert_string_equal(wsop_client_error(c)->code, code);
	assert_false(wsop_client_broken(c));
}

/* softcard + activate + group + one key of bits; returns the key. */
static void make_key(struct wsop_client *c, int bits, struct wsop_softcard *sc,
                     struct wsop_group *g, struct wsop_key *key)
{
	struct wsop_key_generate_req req;
	char name[32];

	snprintf(name, sizeof(name), "card%d", bits);
	assert_int_equal(wsop_softcard_create(c, name, PASS, strlen(PASS), NULL, sc), 0);
	struct wsop_softcard active;

	assert_int_equal(wsop_softcard_activate(c, sc->id, PASS, strlen(PASS), NULL, &active), 0);
	assert_true(active.active);
	assert_int_equal(wsop_group_create(c, "g", sc->id, NULL, g), 0);
	memset(&req, 0, sizeof(req));
	req.size = bits;
	snprintf(req.attributes.label, sizeof(req.attributes.label), "aes%d", bits);
	req.attributes.encrypt = true;
	req.attributes.decrypt = true;
	assert_int_equal(wsop_key_generate(c, g->id, &req, NULL, key), 0);
}

static void typed_client_health(void **state)
{
	struct wsop_health h;

	assert_int_equal(wsop_health(client_of(state), &h), 0);
	assert_string_equal(h.status, "ok");
	assert_string_equal(h.version, "1.0.0");
}

static void typed_client_round_trips_every_size_and_mechanism(void **state)
{
	static const int sizes[] = { 128, 192, 256 };
	static const enum wsop_mechanism mechs[] = { WSOP_MECH_AES_CBC, WSOP_MECH_AES_CBC_PAD };
	struct wsop_client *c = client_of(state);
	uint8_t plain[64];

	for (size_t i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)(255 - i);
	for (size_t s = 0; s < 3; s++) {
		struct wsop_softcard sc;
		struct wsop_group g;
		struct wsop_key key, got;
		struct wsop_key_list keys;

		make_key(c, sizes[s], &sc, &g, &key);
		assert_int_equal(key.size, sizes[s]);
		assert_true(key.attributes.sensitive);
		assert_false(key.attributes.extractable);
		assert_int_equal(wsop_key_list(c, g.id, &keys), 0);
		assert_int_equal(keys.count, 1);
		assert_string_equal(keys.items[0].path, key.path);
		wsop_key_list_free(&keys);
		assert_int_equal(wsop_key_get(c, g.id, key.id, &got), 0);
		assert_string_equal(got.path, key.path);
		wsop_key_free(&got);

		for (size_t m = 0; m < 2; m++) {
			struct wsop_crypto_req req;
			struct wsop_crypto_answer ct, pt;
			size_t len = mechs[m] == WSOP_MECH_AES_CBC_PAD ? 50 : 64;

			memset(&req, 0, sizeof(req));
			snprintf(req.key, sizeof(req.key), "%s", key.path);
			req.mechanism = mechs[m];
			memset(req.iv, (int)s, sizeof(req.iv));
			req.data.data = plain;
			req.data.len = len;
			assert_int_equal(wsop_encrypt(c, &req, &ct), 0);
			assert_int_equal(ct.data.len, 64);
			req.data = ct.data;
			assert_int_equal(wsop_decrypt(c, &req, &pt), 0);
			assert_int_equal(pt.data.len, len);
			assert_memory_equal(pt.data.data, plain, len);
			wsop_crypto_answer_free(&ct);
			wsop_crypto_answer_free(&pt);
		}
		wsop_key_free(&key);
	}
}

static void typed_client_sees_error_codes(void **state)
{
	struct wsop_client *c = client_of(state);
	struct wsop_softcard sc, other;
	struct wsop_group g;
	struct wsop_key key;
	struct wsop_crypto_req req;
	struct wsop_crypto_answer ans;
	struct wsop_key_list keys;

	make_key(c, 128, &sc, &g, &key);
	assert_error(c, wsop_softcard_activate(c, sc.id, "wrong", 5, NULL, &other), 403,
	             "wrong_passphrase");
	assert_error(c, wsop_softcard_delete(c, sc.id, NULL), 409, "not_empty");
	assert_error(c, wsop_softcard_get(c, "0000000000000000000000000000000000000000", &other),
	             404, "not_found");
	memset(&req, 0, sizeof(req));
	snprintf(req.key, sizeof(req.key), "%s", key.path);
	req.mechanism = WSOP_MECH_AES_CBC;
	req.data.data = (uint8_t *)"0123456789";
	req.data.len = 10;
	assert_error(c, wsop_encrypt(c, &req, &ans), 400, "bad_data_length");
	assert_int_equal(wsop_softcard_deactivate(c, sc.id, NULL, &other), 0);
	assert_false(other.active);
	assert_error(c, wsop_key_list(c, g.id, &keys), 403, "not_active");
	assert_error(c, wsop_encrypt(c, &req, &ans), 403, "not_active");
	wsop_key_free(&key);
}

static void typed_client_objects(void **state)
{
	struct wsop_client *c = client_of(state);
	struct wsop_softcard sc;
	struct wsop_object_create_req req;
	struct wsop_object obj, got;
	struct wsop_object_list list;
	uint8_t value[] = { 1, 2, 3, 0, 255 };

	struct wsop_softcard active;

	assert_int_equal(wsop_softcard_create(c, "objs", PASS, strlen(PASS), NULL, &sc), 0);
	assert_int_equal(wsop_softcard_activate(c, sc.id, PASS, strlen(PASS), NULL, &active), 0);
	memset(&req, 0, sizeof(req));
	req.cls = WSOP_OBJECT_DATA;
	req.attributes.label_present = true;
	snprintf(req.attributes.label, sizeof(req.attributes.label), "blob");
	req.attributes.value_present = true;
	req.attributes.value.data = value;
	req.attributes.value.len = sizeof(value);
	assert_int_equal(wsop_object_create(c, sc.id, &req, NULL, &obj), 0);
	assert_int_equal(obj.cls, WSOP_OBJECT_DATA);
	assert_int_equal(obj.attributes.value.len, sizeof(value));
	assert_memory_equal(obj.attributes.value.data, value, sizeof(value));
	assert_int_equal(wsop_object_list(c, sc.id, &list), 0);
	assert_int_equal(list.count, 1);
	wsop_object_list_free(&list);
	assert_int_equal(wsop_object_get(c, sc.id, obj.id, &got), 0);
	assert_string_equal(got.attributes.label, "blob");
	wsop_object_free(&got);
	assert_int_equal(wsop_object_delete(c, sc.id, obj.id, NULL), 0);
	assert_error(c, wsop_object_get(c, sc.id, obj.id, &got), 404, "not_found");
	wsop_object_free(&obj);
	assert_int_equal(wsop_softcard_delete(c, sc.id, NULL), 0);
}

static void typed_client_retry_with_the_same_key_makes_one_object(void **state)
{
	struct wsop_client *c = client_of(state);
	char idem[WSOP_IDEMPOTENCY_KEY_LEN + 1];
	struct wsop_softcard a, b;
	struct wsop_softcard_list list;

	assert_int_equal(wsop_idempotency_key_new(idem), 0);
	assert_int_equal(wsop_softcard_create(c, "once", PASS, strlen(PASS), idem, &a), 0);
	assert_int_equal(wsop_softcard_create(c, "once", PASS, strlen(PASS), idem, &b), 0);
	assert_string_equal(a.id, b.id);
	assert_int_equal(a.created, b.created);
	assert_int_equal(wsop_softcard_list(c, &list), 0);
	assert_int_equal(list.count, 1);
	wsop_softcard_list_free(&list);
	/* Without a key, a second create is a second request: refused, as the
	 * name is taken. */
	assert_int_equal(wsop_softcard_create(c, "once", PASS, strlen(PASS), NULL, &b), 409);
	assert_string_equal(wsop_client_error(c)->code, "name_taken");
	assert_int_equal(wsop_softcard_create(c, "twice", PASS, strlen(PASS), NULL, &b), 0);
	assert_string_not_equal(a.id, b.id);
}

struct task {
	struct e2e_task base; /* first: e2e_run_tasks() reads it */
	const char *key_path;
	uint8_t plain[48];
	uint8_t expected[48];
};

/* No cmocka assertions in threads: each task counts its failures. */
static void *encrypt_task(void *arg)
{
	struct task *t = arg;
	struct direct_tls *conn = NULL;
	struct wsop_transport tr;
	struct wsop_client client;
	char err[DIRECT_TLS_ERROR_MAX];

	if (e2e_connect(t->base.srv, E2E_CLIENT, 0, &conn, err, sizeof(err)) != 0) {
		snprintf(t->base.why, sizeof(t->base.why), "connect: %s", err);
		t->base.failures = PER_TASK;
		return NULL;
	}
	direct_tls_transport(conn, &tr);
	if (wsop_client_init(&client, &tr, "localhost", 30000) != 0) {
		t->base.failures = PER_TASK;
		direct_tls_close(conn);
		return NULL;
	}
	for (int i = 0; i < PER_TASK; i++) {
		struct wsop_crypto_req req;
		struct wsop_crypto_answer ans;
		int rc;

		memset(&req, 0, sizeof(req));
		snprintf(req.key, sizeof(req.key), "%s", t->key_path);
		req.mechanism = WSOP_MECH_AES_CBC;
		req.data.data = t->plain;
		req.data.len = sizeof(t->plain);
		rc = wsop_encrypt(&client, &req, &ans);
		if (rc != 0 || ans.data.len != sizeof(t->expected) ||
		    memcmp(ans.data.data, t->expected, sizeof(t->expected)) != 0) {
			snprintf(t->base.why, sizeof(t->base.why), "call %d: rc %d %s %s", i, rc,
			         wsop_client_error(&client)->code, direct_tls_error(conn));
			t->base.failures++;
		}
		wsop_crypto_answer_free(&ans);
	}
	wsop_client_free(&client);
	direct_tls_close(conn);
	return NULL;
}

static void concurrent_typed_clients_all_get_correct_answers(void **state)
{
	struct wsop_client *c = client_of(state);
	static struct task tasks[THREADS];
	struct wsop_softcard sc;
	struct wsop_group g;
	struct wsop_key key;

	make_key(c, 256, &sc, &g, &key);
	for (int i = 0; i < THREADS; i++) {
		struct wsop_crypto_req req;
		struct wsop_crypto_answer ans;

		memset(&tasks[i], 0, sizeof(tasks[i]));
		tasks[i].base.srv = &((struct e2e_fixture *)*state)->srv;
		tasks[i].key_path = key.path;
		for (size_t j = 0; j < sizeof(tasks[i].plain); j++)
			tasks[i].plain[j] = (uint8_t)(i ^ (j * 13));
		memset(&req, 0, sizeof(req));
		snprintf(req.key, sizeof(req.key), "%s", key.path);
		req.mechanism = WSOP_MECH_AES_CBC;
		req.data.data = tasks[i].plain;
		req.data.len = sizeof(tasks[i].plain);
		assert_int_equal(wsop_encrypt(c, &req, &ans), 0);
		assert_int_equal(ans.data.len, sizeof(tasks[i].expected));
		memcpy(tasks[i].expected, ans.data.data, ans.data.len);
		wsop_crypto_answer_free(&ans);
	}
	assert_int_equal(e2e_run_tasks(encrypt_task, tasks, THREADS, sizeof(tasks[0]),
	                               E2E_STR(PER_TASK) " typed encrypt calls"),
	                 0);
	wsop_key_free(&key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(typed_client_health),
		T(typed_client_round_trips_every_size_and_mechanism),
		T(typed_client_sees_error_codes),
		T(typed_client_objects),
		T(typed_client_retry_with_the_same_key_makes_one_object),
		T(concurrent_typed_clients_all_get_correct_answers),
#undef T
	};

	return e2e_main("e2e_client", tests, sizeof(tests) / sizeof(tests[0]));
}
