/* End-to-end: every key whose generation wsopd acknowledged is still there
 * after wsopd is killed (SIGKILL) while several clients keep generating,
 * and restarted on the same store. Concurrent commits share their syncs
 * (server/store_sync.h); none may be acknowledged before it is written.
 * No timing is judged: the kill comes once enough answers have arrived. */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/wsop_client.h"
#include "tests/e2e/e2e.h"

#define WRITERS    6
#define PER_WRITER 400 /* at most; the kill usually comes first */
#define KILL_AFTER 240 /* acknowledged keys in all */

struct writer {
	const struct e2e_server *srv;
	const char *group;
	const char *token;
	int index;
	size_t acked;
	char ids[PER_WRITER][WSOP_UUID_LEN + 1];
};

static size_t acked_total;
static pthread_mutex_t acked_lock = PTHREAD_MUTEX_INITIALIZER;

/* Generates keys until a call fails (the server was killed) or its share
 * is done; records the id of every acknowledged one. */
static void *write_keys(void *arg)
{
	struct writer *w = arg;
	struct direct_tls *conn = NULL;
	struct wsop_transport tr;
	struct wsop_client client;
	char err[DIRECT_TLS_ERROR_MAX];

	if (e2e_connect(w->srv, E2E_CLIENT, 0, &conn, err, sizeof(err)) != 0)
		return NULL;
	direct_tls_transport(conn, &tr);
	if (wsop_client_init(&client, &tr, "localhost", 30000) != 0) {
		direct_tls_close(conn);
		return NULL;
	}
	(void)wsop_client_set_activation(&client, w->token);
	for (int i = 0; i < PER_WRITER; i++) {
		struct wsop_key_generate_req req;
		struct wsop_key key;
		char idem[32];

		memset(&req, 0, sizeof(req));
		req.size = 256;
		snprintf(req.attributes.label, sizeof(req.attributes.label), "w%d-%d", w->index, i);
		req.attributes.encrypt = true;
		req.attributes.decrypt = true;
		snprintf(idem, sizeof(idem), "durable-%d-%d", w->index, i);
		if (wsop_key_generate(&client, w->group, &req, idem, &key) != 0)
			break;
		snprintf(w->ids[w->acked], sizeof(w->ids[0]), "%s", key.id);
		w->acked++;
		pthread_mutex_lock(&acked_lock);
		acked_total++;
		pthread_mutex_unlock(&acked_lock);
	}
	wsop_client_free(&client);
	direct_tls_close(conn);
	return NULL;
}

static size_t acked_now(void)
{
	pthread_mutex_lock(&acked_lock);
	size_t n = acked_total;
	pthread_mutex_unlock(&acked_lock);
	return n;
}

/* Every key of group, page by page, into one sorted array of ids. */
static size_t list_ids(struct wsop_client *c, const char *group, char (**ids)[WSOP_UUID_LEN + 1])
{
	char after[WSOP_UUID_LEN + 1] = "";
	size_t n = 0, cap = 0;

	*ids = NULL;
	for (;;) {
		struct wsop_key_list page;
		assert_int_equal(wsop_key_list_page(c, group, after, 0, &page), 0);
		for (size_t i = 0; i < page.count; i++) {
			if (n == cap) {
				cap = cap ? cap * 2 : 256;
				*ids = realloc(*ids, cap * sizeof(**ids));
				assert_non_null(*ids);
			}
			snprintf((*ids)[n++], sizeof(**ids), "%s", page.items[i].id);
		}
		snprintf(after, sizeof(after), "%s", page.next);
		wsop_key_list_free(&page);
		if (after[0] == '\0')
			return n;
	}
}

static int by_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void every_acknowledged_key_survives_sigkill(void **state)
{
	struct e2e_fixture *fx = *state;
	static struct writer writers[WRITERS];
	pthread_t threads[WRITERS];
	char softcard[41], group[37], token[WSOP_ACTIVATION_MAX + 1];

	e2e_ready_group_ok(fx->conn, softcard, group);
	assert_true(e2e_activation_of(fx->conn, token));
	acked_total = 0;
	for (int i = 0; i < WRITERS; i++) {
		memset(&writers[i], 0, sizeof(writers[i]));
		writers[i] =
		    (struct writer){ .srv = &fx->srv, .group = group, .token = token, .index = i };
		assert_int_equal(pthread_create(&threads[i], NULL, write_keys, &writers[i]), 0);
	}
	/* Kill while the writers are in full flow (or once they are done). */
	while (acked_now() < KILL_AFTER && acked_now() < (size_t)WRITERS * PER_WRITER) {
		struct timespec ts = { 0, 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	assert_int_not_equal(e2e_server_stop(&fx->srv, SIGKILL), -1);
	for (int i = 0; i < WRITERS; i++)
		pthread_join(threads[i], NULL);
	size_t acked = acked_now();
	fprintf(stderr, "e2e: %zu keys acknowledged before the kill\n", acked);
	assert_true(acked >= KILL_AFTER);

	/* Same store, new process: every acknowledged key is listed. */
	assert_int_equal(e2e_server_restart(&fx->srv, NULL), 0);
	direct_tls_close(fx->conn);
	fx->conn = e2e_connect_ok(&fx->srv, E2E_CLIENT);
	e2e_activate_ok(fx->conn, softcard, E2E_READY_PASS);
	e2e_activation_of(fx->conn, token);
	struct wsop_transport tr;
	struct wsop_client client;
	direct_tls_transport(fx->conn, &tr);
	assert_int_equal(wsop_client_init(&client, &tr, "localhost", 30000), 0);
	(void)wsop_client_set_activation(&client, token);
	char(*stored)[WSOP_UUID_LEN + 1] = NULL;
	size_t n = list_ids(&client, group, &stored);
	qsort(stored, n, sizeof(*stored), by_id);
	size_t missing = 0;
	for (int i = 0; i < WRITERS; i++) {
		for (size_t k = 0; k < writers[i].acked; k++) {
			if (bsearch(writers[i].ids[k], stored, n, sizeof(*stored), by_id) == NULL) {
				fprintf(stderr, "e2e: acknowledged key %s is missing\n",
				        writers[i].ids[k]);
				missing++;
			}
		}
	}
	fprintf(stderr, "e2e: %zu keys stored after the restart\n", n);
	assert_int_equal(missing, 0);
	assert_true(n >= acked);
	free(stored);
	wsop_client_free(&client);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(every_acknowledged_key_survives_sigkill, e2e_setup,
		                                e2e_teardown),
	};

	return e2e_main("e2e_durable", tests, sizeof(tests) / sizeof(tests[0]));
}
