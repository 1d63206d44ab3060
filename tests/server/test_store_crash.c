/*
 * Durability under kill -9: a child process runs the handler pattern
 * (begin; create softcard; record idempotent answer; commit) and, after
 * each commit returns, acknowledges the record through a pipe. The parent
 * kills it with SIGKILL at some point, reopens the store and checks that
 * every acknowledged record is there, and that no softcard exists without
 * its idempotency record or the other way round.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/store.h"
#include "test_util.h"

#define MAX_RECORDS 400

static const uint8_t client[STORE_CLIENT_FP_LEN] = { 0xc1, 0x1e, 0x47 };

struct ack {
	int index;
	char id[STORE_SOFTCARD_ID_LEN + 1];
};

static void key_for(int i, char *key, size_t cap)
{
	snprintf(key, cap, "crash-%d", i);
}

/* The child: never returns. Exit status 0 when it ran out of records
 * before being killed, 1..3 on a store failure. */
static void writer(const char *dir, int ack_fd)
{
	struct store *st = NULL;
	if (store_open(dir, &st) != STORE_OK)
		_exit(1);
	for (int i = 0; i < MAX_RECORDS; i++) {
		struct store_softcard sc;
		char key[32];
		memset(&sc, 0, sizeof(sc));
		snprintf(sc.name, sizeof(sc.name), "card%d", i);
		memset(sc.verifier, i & 0xff, 8);
		sc.verifier_len = 8;
		key_for(i, key, sizeof(key));
		if (store_begin(st) != STORE_OK)
			_exit(2);
		if (store_softcard_create(st, &sc) != STORE_OK ||
		    store_idem_record(st, client, key, "POST", "/km/v1/protectiondomains", 201,
		                      (const uint8_t *)sc.id, strlen(sc.id)) != STORE_OK) {
			store_rollback(st);
			_exit(3);
		}
		if (store_commit(st) != STORE_OK)
			_exit(3);
		struct ack a = { .index = i };
		memcpy(a.id, sc.id, sizeof(a.id));
		/* Smaller than PIPE_BUF: each ack arrives whole or not at all. */
		if (write(ack_fd, &a, sizeof(a)) != (ssize_t)sizeof(a))
			_exit(4);
	}
	_exit(0);
}

static ssize_t read_ack(int fd, struct ack *a)
{
	ssize_t r;
	do {
		r = read(fd, a, sizeof(*a));
	} while (r < 0 && errno == EINTR);
	return r;
}

/* Checks what the reopened store holds against the acks. */
static void verify(const char *dir, const struct ack *acks, int n_acks)
{
	struct store *st = NULL;
	assert_int_equal(store_open(dir, &st), STORE_OK);
	for (int i = 0; i < n_acks; i++) {
		struct store_softcard sc;
		struct store_idem_answer ans;
		char key[32];
		assert_int_equal(acks[i].index, i);
		assert_int_equal(store_softcard_get(st, acks[i].id, &sc), STORE_OK);
		key_for(i, key, sizeof(key));
		assert_int_equal(
		    store_idem_lookup(st, client, key, "POST", "/km/v1/protectiondomains", &ans),
		    STORE_OK);
		assert_int_equal(ans.body_len, STORE_SOFTCARD_ID_LEN);
		assert_memory_equal(ans.body, acks[i].id, STORE_SOFTCARD_ID_LEN);
		store_idem_answer_clear(&ans);
	}
	/* At most one record past the acks (committed, then killed before the
	 * ack), and each softcard has its answer. */
	struct store_softcard *list = NULL;
	size_t n = 0;
	assert_int_equal(store_softcard_list(st, &list, &n), STORE_OK);
	assert_true(n == (size_t)n_acks || n == (size_t)n_acks + 1);
	for (size_t i = 0; i < n; i++) {
		struct store_idem_answer ans;
		char key[32];
		key_for((int)i, key, sizeof(key));
		assert_int_equal(
		    store_idem_lookup(st, client, key, "POST", "/km/v1/protectiondomains", &ans),
		    STORE_OK);
		assert_memory_equal(ans.body, list[i].id, STORE_SOFTCARD_ID_LEN);
		store_idem_answer_clear(&ans);
	}
	/* And no answer without its softcard. */
	if (n < MAX_RECORDS) {
		struct store_idem_answer ans;
		char key[32];
		key_for((int)n, key, sizeof(key));
		assert_int_equal(
		    store_idem_lookup(st, client, key, "POST", "/km/v1/protectiondomains", &ans),
		    STORE_NOT_FOUND);
	}
	free(list);
	store_close(st);
}

/* One run: kill the writer delay_us microseconds after it has
 * acknowledged kill_after records (kill_after 0: after it started), so
 * that the kill lands at some point inside its open or a transaction. */
static void run_once(int kill_after, useconds_t delay_us)
{
	char *dir = tu_mkdtemp();
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		writer(dir, fds[1]);
	}
	close(fds[1]);

	static struct ack acks[MAX_RECORDS];
	int n_acks = 0;
	bool killed = false;
	if (kill_after == 0) {
		if (delay_us > 0)
			usleep(delay_us);
		assert_int_equal(kill(pid, SIGKILL), 0);
		killed = true;
	}
	/* Reads to EOF: acks written before the kill are still in the pipe. */
	for (;;) {
		struct ack a;
		ssize_t r = read_ack(fds[0], &a);
		if (r == 0)
			break;
		assert_int_equal(r, (ssize_t)sizeof(a));
		assert_true(n_acks < MAX_RECORDS);
		acks[n_acks++] = a;
		if (!killed && n_acks == kill_after) {
			if (delay_us > 0)
				usleep(delay_us);
			assert_int_equal(kill(pid, SIGKILL), 0);
			killed = true;
		}
	}
	close(fds[0]);
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	/* Either killed, or it finished every record first; never a store
	 * failure. */
	if (WIFEXITED(status))
		assert_int_equal(WEXITSTATUS(status), 0);
	else
		assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	verify(dir, acks, n_acks);
	tu_rmtree(dir);
}

static void acknowledged_records_survive_kill_after_acks(void **state)
{
	(void)state;
	const int points[] = { 1, 17, 60 };
	for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++)
		run_once(points[i], 0);
	/* Some time after an ack: inside a later commit, most likely. */
	const useconds_t delays[] = { 300, 1500, 4000, 9000 };
	for (size_t i = 0; i < sizeof(delays) / sizeof(delays[0]); i++)
		run_once((int)(3 + 7 * i), delays[i]);
}

static void store_survives_kill_during_open(void **state)
{
	(void)state;
	/* Kill points not tied to an ack: during open and schema creation. */
	const useconds_t delays[] = { 0, 500, 3000, 20000, 50000 };
	for (size_t i = 0; i < sizeof(delays) / sizeof(delays[0]); i++)
		run_once(0, delays[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(acknowledged_records_survive_kill_after_acks),
		cmocka_unit_test(store_survives_kill_during_open),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
