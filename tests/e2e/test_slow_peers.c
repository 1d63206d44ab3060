/* End-to-end: peers that trickle bytes. Strangers who send a ClientHello
 * one byte a second (more of them than --max-clients) must neither lock
 * out clients with a certificate nor keep a connection past the handshake
 * deadline; a request head trickled after the handshake is cut at the
 * head deadline; an idle keep-alive connection is not. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/wsop_client.h"
#include "tests/e2e/e2e.h"

#define MAX_CLIENTS    "8"
#define MAX_HANDSHAKES "4"
#define DEADLINE_S     2
#define DEADLINE_MS    (DEADLINE_S * 1000)
/* Scheduling slack on a loaded machine: the server closes at its
 * deadline, we notice a little later. */
#define MARGIN_MS   2000
#define DRIPS       12 /* more than MAX_CLIENTS */
#define DRIP_GAP_MS 1000
#define ATTACK_MS   9000
#define CALL_GAP_MS 200
/* The drips come from another loopback address than the clients, as an
 * attacker on another host would (the budget is shared per address). */
#define DRIP_SOURCE "127.0.0.2"

static const char *const server_args[] = {
	"--max-clients",  MAX_CLIENTS,           "--max-handshakes",
	MAX_HANDSHAKES,   "--handshake-timeout", E2E_STR(DEADLINE_S),
	"--head-timeout", E2E_STR(DEADLINE_S),   NULL,
};

/* The start of a TLS 1.2/1.3 ClientHello: record header, handshake header,
 * version, then random bytes. Only the first few are ever sent. */
static const uint8_t client_hello[] = { 0x16, 0x03, 0x01, 0x00, 0xf8, 0x01, 0x00, 0x00,
	                                0xf4, 0x03, 0x03, 0x5a, 0x17, 0x9c, 0x3e, 0x81 };

enum role { DRIPPER, CALLER, KEEPER };

struct task {
	struct e2e_task base; /* first: e2e_run_tasks() reads it */
	enum role role;
	long long end_ms;
	int connections; /* drips opened / calls that succeeded */
	long long longest_ms;
};

static void sleep_ms(long long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (ms > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static __attribute__((format(printf, 2, 3))) void task_fail(struct task *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->base.why, sizeof(t->base.why), fmt, ap);
	va_end(ap);
	t->base.failures++;
}

/* A TCP connection to the server from DRIP_SOURCE; -1 on failure. */
static int connect_from(const struct e2e_server *srv, const char *source)
{
	struct sockaddr_in from = { .sin_family = AF_INET };
	struct sockaddr_in to = { .sin_family = AF_INET,
		                  .sin_port = htons((uint16_t)atoi(srv->port)) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	inet_pton(AF_INET, source, &from.sin_addr);
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	if (bind(fd, (struct sockaddr *)&from, sizeof(from)) != 0 ||
	    connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Waits up to ms for the server to close fd: true when it did. */
static bool closed_within(int fd, long long ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint8_t buf[256];

	while (ms > 0) {
		long long t0 = e2e_now_ms();

		if (poll(&p, 1, (int)ms) <= 0)
			return false;
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return true;
		ms -= e2e_now_ms() - t0;
	}
	return false;
}

/* One drip connection: a ClientHello byte every DRIP_GAP_MS until the
 * server closes it (or long past its deadline: a failure). */
static void drip_once(struct task *t)
{
	int fd = connect_from(t->base.srv, DRIP_SOURCE);
	long long t0 = e2e_now_ms();
	long long life;
	bool closed = false;

	if (fd < 0) {
		task_fail(t, "connect from %s: %s", DRIP_SOURCE, strerror(errno));
		sleep_ms(DRIP_GAP_MS);
		return;
	}
	t->connections++;
	for (size_t i = 0; !closed && e2e_now_ms() - t0 < DEADLINE_MS + MARGIN_MS; i++) {
		if (send(fd, &client_hello[i % sizeof(client_hello)], 1, MSG_NOSIGNAL) != 1)
			closed = true;
		else
			closed = closed_within(fd, DRIP_GAP_MS);
	}
	life = e2e_now_ms() - t0;
	close(fd);
	if (life > t->longest_ms)
		t->longest_ms = life;
	if (!closed)
		task_fail(t, "a drip connection still open after %lld ms", life);
	/* One new connection a second per dripper: enough to keep the budget
	 * full, without spinning on the connections closed at once. */
	sleep_ms(t0 + DRIP_GAP_MS - e2e_now_ms());
}

/* A client with a certificate, through the typed client: a new TLS
 * connection and GET /health every CALL_GAP_MS. */
static void call_once(struct task *t)
{
	struct direct_tls *conn = NULL;
	struct wsop_transport tr;
	struct wsop_client client;
	struct wsop_health h;
	char err[DIRECT_TLS_ERROR_MAX];
	long long t0 = e2e_now_ms();
	int rc = e2e_connect(t->base.srv, E2E_CLIENT, 0, &conn, err, sizeof(err));

	if (rc != 0) {
		task_fail(t, "connect: %s", err);
		return;
	}
	direct_tls_transport(conn, &tr);
	if (wsop_client_init(&client, &tr, "localhost", 10000) != 0) {
		task_fail(t, "%s", "wsop_client_init failed");
		direct_tls_close(conn);
		return;
	}
	rc = wsop_health(&client, &h);
	if (rc != 0)
		task_fail(t, "health: %d %s", rc, direct_tls_error(conn));
	else
		t->connections++;
	if (e2e_now_ms() - t0 > t->longest_ms)
		t->longest_ms = e2e_now_ms() - t0;
	wsop_client_free(&client);
	direct_tls_close(conn);
}

/* A keep-alive client connected before the attack keeps being answered. */
static void keep_calling(struct task *t)
{
	struct direct_tls *conn = NULL;
	char err[DIRECT_TLS_ERROR_MAX];
	struct e2e_answer ans;

	if (e2e_connect(t->base.srv, E2E_CLIENT2, 0, &conn, err, sizeof(err)) != 0) {
		task_fail(t, "connect: %s", err);
		return;
	}
	while (e2e_now_ms() < t->end_ms) {
		int rc = e2e_request(conn, "GET", "/health", NULL, NULL, &ans);

		if (rc != 0 || ans.status != 200)
			task_fail(t, "keep-alive call: %d status %d", rc, ans.status);
		else
			t->connections++;
		e2e_answer_free(&ans);
		sleep_ms(CALL_GAP_MS);
	}
	direct_tls_close(conn);
}

static void *run_task(void *arg)
{
	struct task *t = arg;

	if (t->role == KEEPER) {
		keep_calling(t);
		return NULL;
	}
	if (t->role == CALLER)
		sleep_ms(DRIP_GAP_MS); /* let the drips fill the server first */
	while (e2e_now_ms() < t->end_ms) {
		if (t->role == DRIPPER) {
			drip_once(t);
		} else {
			call_once(t);
			sleep_ms(CALL_GAP_MS);
		}
	}
	return NULL;
}

static void stop_ok(struct e2e_server *srv)
{
	int status = e2e_server_stop(srv, SIGTERM);

	if (getenv("E2E_LOGS") != NULL || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		e2e_server_dump_log(srv);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void drip_handshakes_neither_lock_out_clients_nor_outlive_the_deadline(void **state)
{
	struct task tasks[DRIPS + 2];
	struct e2e_server srv;
	long long end;
	long long longest_drip = 0;
	int drips = 0, failures;

	(void)state;
	assert_int_equal(e2e_server_start(&srv, &e2e_env, server_args), 0);
	end = e2e_now_ms() + ATTACK_MS;
	memset(tasks, 0, sizeof(tasks));
	for (size_t i = 0; i < DRIPS + 2; i++) {
		tasks[i].base.srv = &srv;
		tasks[i].end_ms = end;
		tasks[i].role = i < DRIPS ? DRIPPER : (i == DRIPS ? CALLER : KEEPER);
	}
	failures = e2e_run_tasks(run_task, tasks, DRIPS + 2, sizeof(tasks[0]),
	                         "drip connections or calls for " E2E_STR(ATTACK_MS) " ms");
	for (size_t i = 0; i < DRIPS; i++) {
		drips += tasks[i].connections;
		if (tasks[i].longest_ms > longest_drip)
			longest_drip = tasks[i].longest_ms;
	}
	fprintf(stderr,
	        "e2e: %d drip connections, the longest closed after %lld ms; %d new-connection "
	        "calls (slowest %lld ms) and %d keep-alive calls answered\n",
	        drips, longest_drip, tasks[DRIPS].connections, tasks[DRIPS].longest_ms,
	        tasks[DRIPS + 1].connections);
	if (failures != 0)
		e2e_server_dump_log(&srv);
	assert_int_equal(failures, 0);
	assert_true(drips > DRIPS);
	assert_true(tasks[DRIPS].connections >= 5);
	assert_true(tasks[DRIPS + 1].connections >= 5);
	assert_true(e2e_server_log_contains(&srv, "to make room for"));
	stop_ok(&srv);
}

/* Sends bytes one at a time, gap_ms apart, until the server closes the
 * connection; returns how long after the first byte it did (-1: never,
 * within limit_ms). */
static long long trickle(struct direct_tls *conn, const char *text, int gap_ms, long long limit_ms)
{
	long long t0 = e2e_now_ms();

	for (size_t i = 0; e2e_now_ms() - t0 < limit_ms; i++) {
		uint8_t byte;
		ssize_t n;

		if (direct_tls_send_all(conn, (const uint8_t *)&text[i % strlen(text)], 1) != 0)
			return e2e_now_ms() - t0;
		n = direct_tls_recv_some(conn, &byte, 1, gap_ms);
		if (n != -ETIMEDOUT)
			return e2e_now_ms() - t0;
	}
	return -1;
}

/* A server with the test's limits and a client connected to it. */
static struct direct_tls *start_and_connect(struct e2e_server *srv)
{
	assert_int_equal(e2e_server_start(srv, &e2e_env, server_args), 0);
	return e2e_connect_ok(srv, E2E_CLIENT);
}

static void slow_request_head_is_cut_at_the_head_deadline(void **state)
{
	static const char head[] =
	    "GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: aaaaaaaaaaaa";
	struct e2e_server srv;
	struct direct_tls *conn;
	long long after;

	(void)state;
	conn = start_and_connect(&srv);
	after = trickle(conn, head, 250, DEADLINE_MS + MARGIN_MS + 1000);
	if (after < 0)
		fprintf(stderr, "e2e: a trickled request head was not cut within %d ms\n",
		        DEADLINE_MS + MARGIN_MS + 1000);
	else
		fprintf(stderr, "e2e: a trickled request head was cut after %lld ms\n", after);
	assert_true(after >= DEADLINE_MS - 250);
	assert_true(after <= DEADLINE_MS + MARGIN_MS);
	direct_tls_close(conn);
	assert_true(e2e_server_log_contains(&srv, "timed out"));
	stop_ok(&srv);
}

static void idle_keep_alive_outlives_the_head_deadline(void **state)
{
	struct e2e_server srv;
	struct direct_tls *conn;
	struct e2e_answer ans;

	(void)state;
	conn = start_and_connect(&srv);
	e2e_call_ok(conn, "GET", "/health", NULL, 200, &ans);
	e2e_answer_free(&ans);
	/* Idle for longer than both deadlines: that is the idle timeout's
	 * business (30 s), not theirs. */
	sleep_ms(DEADLINE_MS + 1000);
	e2e_call_ok(conn, "GET", "/health", NULL, 200, &ans);
	e2e_answer_free(&ans);
	direct_tls_close(conn);
	stop_ok(&srv);
}

#define BURST 48

static void *burst_call(void *arg)
{
	struct task *t = arg;

	call_once(t);
	return NULL;
}

/* The handshake budget must not turn a burst of clients from one host
 * (below --max-clients) away: those over it wait for a place. */
static void burst_of_clients_from_one_address_is_served(void **state)
{
	static const char *const args[] = { "--max-handshakes", "2", NULL };
	struct task tasks[BURST];
	struct e2e_server srv;
	int served = 0;

	(void)state;
	assert_int_equal(e2e_server_start(&srv, &e2e_env, args), 0);
	memset(tasks, 0, sizeof(tasks));
	for (size_t i = 0; i < BURST; i++)
		tasks[i].base.srv = &srv;
	assert_int_equal(e2e_run_tasks(burst_call, tasks, BURST, sizeof(tasks[0]),
	                               "one new connection and GET /health at once"),
	                 0);
	for (size_t i = 0; i < BURST; i++)
		served += tasks[i].connections;
	assert_int_equal(served, BURST);
	stop_ok(&srv);
}

static void stop_ends_handshakes_in_progress_and_waiting(void **state)
{
	/* A deadline far away: the stop must not wait for it. */
	static const char *const args[] = { "--max-handshakes", "2", "--handshake-timeout", "30",
		                            NULL };
	struct e2e_server srv;
	int fds[4];
	long long t0, took;
	int status;

	(void)state;
	assert_int_equal(e2e_server_start(&srv, &e2e_env, args), 0);
	/* Two handshakes in progress, two connections waiting for a place. */
	for (int i = 0; i < 4; i++) {
		fds[i] = connect_from(&srv, DRIP_SOURCE);
		assert_true(fds[i] >= 0);
		assert_int_equal(send(fds[i], client_hello, 1, MSG_NOSIGNAL), 1);
	}
	sleep_ms(300);
	t0 = e2e_now_ms();
	status = e2e_server_stop(&srv, SIGTERM);
	took = e2e_now_ms() - t0;
	fprintf(stderr, "e2e: wsopd stopped in %lld ms with handshakes in progress\n", took);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		e2e_server_dump_log(&srv);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(took < 5000);
	for (int i = 0; i < 4; i++) {
		assert_true(closed_within(fds[i], 1000));
		close(fds[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(drip_handshakes_neither_lock_out_clients_nor_outlive_the_deadline),
		cmocka_unit_test(slow_request_head_is_cut_at_the_head_deadline),
		cmocka_unit_test(idle_keep_alive_outlives_the_head_deadline),
		cmocka_unit_test(burst_of_clients_from_one_address_is_served),
		cmocka_unit_test(stop_ends_handshakes_in_progress_and_waiting),
	};

	return e2e_main("e2e_slow_peers", tests, sizeof(tests) / sizeof(tests[0]));
}
