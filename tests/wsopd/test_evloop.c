/* wsopd's event loops against a real server (the e2e harness): the
 * connection cap and its places coming back when a loop closes a
 * connection, the idle timeout, peers that send or read slowly, and a
 * request that blocks (the passphrase KDF) next to a crypto request, and
 * connections moving from a busy loop to an idle one.
 * With one loop and one worker, a loop that waited on any of them would
 * stall the other connection: the tests see that as a missing answer,
 * never as a duration. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <cmocka.h>

#include "tests/e2e/e2e.h"

#define IV_B64     "AAECAwQFBgcICQoLDA0ODw"
#define ZERO16_B64 "AAAAAAAAAAAAAAAAAAAAAA"
/* Long enough never to pass while a test runs on a loaded machine. */
#define ANSWER_WAIT_MS 20000

static void sleep_ms(long long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (ms > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void start_ok(struct e2e_server *srv, const char *const *args)
{
	assert_int_equal(e2e_server_start(srv, &e2e_env, args), 0);
}

static void stop_ok(struct e2e_server *srv)
{
	int status = e2e_server_stop(srv, SIGTERM);

	if (getenv("E2E_LOGS") != NULL || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		e2e_server_dump_log(srv);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void health_ok(struct direct_tls *conn)
{
	struct e2e_answer ans;

	e2e_call_ok(conn, "GET", "/health", NULL, 200, &ans);
	e2e_answer_free(&ans);
}

static void send_text(struct direct_tls *conn, const char *text)
{
	assert_int_equal(direct_tls_send_all(conn, (const uint8_t *)text, strlen(text)), 0);
}

/* busy asks every 300 ms, rounds times, while idle says nothing: then the
 * server has closed idle (end of stream, not a timeout) and still serves
 * busy. */
static void idle_closed_busy_kept(struct direct_tls *idle, struct direct_tls *busy, int rounds)
{
	uint8_t byte;
	ssize_t n;

	for (int i = 0; i < rounds; i++) {
		health_ok(busy);
		sleep_ms(300);
	}
	n = direct_tls_recv_some(idle, &byte, 1, ANSWER_WAIT_MS);
	assert_true(n <= 0);
	assert_int_not_equal(n, -ETIMEDOUT);
	health_ok(busy);
}

/* Over --max-clients a verified client gets 503 busy (or is closed); a
 * place that a loop gives back when its client leaves is taken again. */
static void connections_beyond_the_cap_are_refused_and_places_come_back(void **state)
{
	static const char *const args[] = { "--max-clients", "3", "--event-loops", "2", NULL };
	struct direct_tls *served[3], *extra[4];
	struct e2e_server srv;
	struct e2e_answer ans;
	int refused = 0, r;
	bool again = false;

	(void)state;
	start_ok(&srv, args);
	for (int i = 0; i < 3; i++) {
		served[i] = e2e_connect_ok(&srv, E2E_CLIENT);
		health_ok(served[i]);
	}
	for (int i = 0; i < 4; i++) {
		char err[256];

		extra[i] = NULL;
		if (e2e_connect(&srv, E2E_CLIENT, 0, &extra[i], err, sizeof(err)) != 0) {
			refused++;
			continue;
		}
		memset(&ans, 0, sizeof(ans));
		r = e2e_request(extra[i], "GET", "/health", NULL, NULL, &ans);
		if (r != 0) {
			refused++;
		} else {
			e2e_assert_error(&ans, 503, "busy");
			refused++;
		}
		e2e_answer_free(&ans);
	}
	assert_int_equal(refused, 4);
	assert_true(e2e_server_log_contains(&srv, "(--max-clients)"));
	for (int i = 0; i < 4; i++)
		direct_tls_close(extra[i]);
	/* The clients served before are served still. */
	for (int i = 0; i < 3; i++)
		health_ok(served[i]);
	/* One leaves; its loop closes the connection and gives its place
	 * back, which a newcomer gets (after a moment: the close travels). */
	direct_tls_close(served[0]);
	for (int tries = 0; tries < 100 && !again; tries++) {
		struct direct_tls *conn = NULL;
		char err[256];

		memset(&ans, 0, sizeof(ans));
		if (e2e_connect(&srv, E2E_CLIENT, 0, &conn, err, sizeof(err)) == 0 &&
		    e2e_request(conn, "GET", "/health", NULL, NULL, &ans) == 0)
			again = ans.status == 200;
		e2e_answer_free(&ans);
		direct_tls_close(conn);
		if (!again)
			sleep_ms(100);
	}
	assert_true(again);
	health_ok(served[1]);
	health_ok(served[2]);
	direct_tls_close(served[1]);
	direct_tls_close(served[2]);
	stop_ok(&srv);
}

/* A connection without a request for --idle-timeout is closed; one that
 * keeps asking is not. With loops (args) or a thread per connection. */
static void idle_and_busy(const char *const *args)
{
	struct e2e_server srv;
	struct direct_tls *idle, *busy;

	start_ok(&srv, args);
	idle = e2e_connect_ok(&srv, E2E_CLIENT);
	busy = e2e_connect_ok(&srv, E2E_CLIENT);
	health_ok(idle);
	idle_closed_busy_kept(idle, busy, 10);
	direct_tls_close(idle);
	direct_tls_close(busy);
	stop_ok(&srv);
}

static void idle_connection_is_closed_and_a_busy_one_kept(void **state)
{
	static const char *const args[] = { "--idle-timeout", "1", "--event-loops", "1", NULL };

	(void)state;
	idle_and_busy(args);
}

static void thread_per_connection_closes_idle_and_keeps_busy(void **state)
{
	static const char *const args[] = { "--idle-timeout", "1", "--event-loops", "0", NULL };

	(void)state;
	idle_and_busy(args);
}

/* One loop: a peer that stops in the middle of a request head, and one
 * that sends many requests without reading the answers (the loop's
 * writes to it block), leave another connection served; then both get
 * their answers. */
static void slow_peers_do_not_stall_other_connections(void **state)
{
	static const char *const args[] = { "--event-loops", "1", "--head-timeout", "60", NULL };
	static const char random_req[] = "POST /crypto/v1/random HTTP/1.1\r\nHost: localhost\r\n"
	                                 "Content-Type: application/json\r\n"
	                                 "Content-Length: 16\r\n\r\n{\"length\":65536}";
	enum { PIPELINED = 200 }; /* about 17 MiB of answers */
	struct e2e_server srv;
	struct direct_tls *half, *deaf, *other;
	struct e2e_answer ans;
	char *many;
	size_t one = strlen(random_req);

	(void)state;
	start_ok(&srv, args);
	half = e2e_connect_ok(&srv, E2E_CLIENT);
	deaf = e2e_connect_ok(&srv, E2E_CLIENT);
	other = e2e_connect_ok(&srv, E2E_CLIENT);
	send_text(half, "GET /health HTTP/1.1\r\nHost: loc");
	many = malloc(one * PIPELINED + 1);
	assert_non_null(many);
	for (size_t i = 0; i < PIPELINED; i++)
		memcpy(many + i * one, random_req, one);
	many[one * PIPELINED] = '\0';
	send_text(deaf, many);
	free(many);
	for (int i = 0; i < 10; i++)
		health_ok(other);
	send_text(half, "alhost\r\n\r\n");
	assert_int_equal(e2e_read_answer(half, &ans, ANSWER_WAIT_MS), 0);
	assert_int_equal(ans.status, 200);
	e2e_answer_free(&ans);
	for (int i = 0; i < PIPELINED; i++) {
		assert_int_equal(e2e_read_answer(deaf, &ans, ANSWER_WAIT_MS), 0);
		assert_int_equal(ans.status, 200);
		e2e_answer_free(&ans);
	}
	health_ok(other);
	direct_tls_close(half);
	direct_tls_close(deaf);
	direct_tls_close(other);
	stop_ok(&srv);
}

/* One loop, one worker: while activates of fresh softcards (one scrypt
 * each, one after the other on the worker) are in progress, an encrypt on
 * another connection is answered by the loop. */
static void kdf_requests_do_not_stall_a_crypto_request(void **state)
{
	static const char *const args[] = { "--event-loops", "1", "--threads", "1", NULL };
	enum { CARDS = 12 };
	struct e2e_server srv;
	struct direct_tls *crypto, *act[CARDS];
	struct e2e_answer ans;
	char softcard[41], group[37], key[96], body[512], ids[CARDS][41];
	int answered_before = 0;

	(void)state;
	start_ok(&srv, args);
	crypto = e2e_connect_ok(&srv, E2E_CLIENT);
	e2e_ready_group_ok(crypto, softcard, group);
	e2e_key_ok(crypto, group, "k", 256, NULL, key);
	snprintf(body, sizeof(body),
	         "{\"key\":\"%s\",\"mechanism\":\"AES_CBC\",\"iv\":\"" IV_B64
	         "\",\"data\":\"" ZERO16_B64 "\"}",
	         key);
	for (int i = 0; i < CARDS; i++) {
		char name[32];

		snprintf(name, sizeof(name), "kdf%d", i);
		e2e_softcard_ok(crypto, name, "another pass phrase", ids[i]);
		act[i] = e2e_connect_ok(&srv, E2E_CLIENT);
	}
	for (int i = 0; i < CARDS; i++) {
		static const char pass[] = "{\"passphrase\":\"another pass phrase\"}";
		char req[1024];

		snprintf(req, sizeof(req),
		         "POST /km/v1/protectiondomains/%s/activate HTTP/1.1\r\nHost: localhost\r\n"
		         "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
		         ids[i], strlen(pass), pass);
		send_text(act[i], req);
	}
	e2e_call_ok(crypto, "POST", "/crypto/v1/encrypt", body, 200, &ans);
	e2e_answer_free(&ans);
	/* Which activates had their answer by then: a loop that ran them
	 * itself would have answered nearly all first (it reads them before
	 * the encrypt); the worker has done a few scrypts at most. */
	for (int i = 0; i < CARDS; i++) {
		uint8_t byte;

		if (direct_tls_recv_some(act[i], &byte, 1, 0) > 0) {
			answered_before++;
			/* Its answer is consumed below from the next byte on:
			 * drop this connection's check. */
			direct_tls_close(act[i]);
			act[i] = NULL;
		}
	}
	fprintf(stderr, "evloop: %d of %d activates answered before the encrypt\n", answered_before,
	        CARDS);
	assert_true(answered_before <= CARDS / 2);
	for (int i = 0; i < CARDS; i++) {
		if (act[i] == NULL)
			continue;
		assert_int_equal(e2e_read_answer(act[i], &ans, ANSWER_WAIT_MS), 0);
		assert_int_equal(ans.status, 200);
		e2e_answer_free(&ans);
		direct_tls_close(act[i]);
	}
	direct_tls_close(crypto);
	stop_ok(&srv);
}

/* Two loops and --loop-busy 0: a loop that worked in a window is busy and
 * hands an active connection, between two of its requests, to a loop that
 * did nothing. A moved connection is served as before: its answers, three
 * requests sent in one write, and the idle timeout, now kept by the other
 * loop. */
static void connections_move_between_loops_between_requests(void **state)
{
	static const char *const args[] = {
		"--event-loops", "2", "--loop-busy", "0", "--idle-timeout", "2",
		"--log-level",   "5", NULL
	};
	static const char health[] = "GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n";
	struct e2e_server srv;
	struct direct_tls *a, *b;
	struct e2e_answer ans;
	char three[3 * sizeof(health)];

	(void)state;
	start_ok(&srv, args);
	a = e2e_connect_ok(&srv, E2E_CLIENT);
	b = e2e_connect_ok(&srv, E2E_CLIENT);
	/* Bursts with pauses: a loop's share is measured per 100 ms window,
	 * and one that slept through two windows counts as idle. */
	for (int burst = 0; burst < 100 && !e2e_server_log_contains(&srv, "moved from event loop");
	     burst++) {
		for (int i = 0; i < 20; i++) {
			health_ok(a);
			health_ok(b);
		}
		sleep_ms(250);
	}
	assert_true(e2e_server_log_contains(&srv, "moved from event loop"));
	for (int i = 0; i < 50; i++) {
		health_ok(a);
		health_ok(b);
	}
	snprintf(three, sizeof(three), "%s%s%s", health, health, health);
	send_text(a, three);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(e2e_read_answer(a, &ans, ANSWER_WAIT_MS), 0);
		assert_int_equal(ans.status, 200);
		e2e_answer_free(&ans);
	}
	/* a falls silent; b keeps asking (and moving) and is kept. */
	idle_closed_busy_kept(a, b, 12);
	fprintf(stderr, "evloop: %d moves\n", e2e_server_log_count(&srv, "moved from event loop"));
	direct_tls_close(a);
	direct_tls_close(b);
	stop_ok(&srv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(connections_beyond_the_cap_are_refused_and_places_come_back),
		cmocka_unit_test(idle_connection_is_closed_and_a_busy_one_kept),
		cmocka_unit_test(thread_per_connection_closes_idle_and_keeps_busy),
		cmocka_unit_test(slow_peers_do_not_stall_other_connections),
		cmocka_unit_test(kdf_requests_do_not_stall_a_crypto_request),
		cmocka_unit_test(connections_move_between_loops_between_requests),
	};

	return e2e_main("wsopd_evloop", tests, sizeof(tests) / sizeof(tests[0]));
}
