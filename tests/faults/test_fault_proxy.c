/* fault_proxy.h in front of a local echo server: each mode, then back. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/backend/proxy.h"
#include "tests/faults/fault_proxy.h"

/* ---- an echo server counting what it received -------------------------- */

static struct {
	int lfd;
	unsigned port;
	pthread_t thread;
	atomic_uint accepted;
	atomic_uint closed;
	atomic_ulong last_conn_bytes; /* bytes of the last connection that ended */
} echo;

static void *echo_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char buf[4096];
	unsigned long total = 0;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0)
			break;
		total += (unsigned long)n;
		if (send(fd, buf, (size_t)n, MSG_NOSIGNAL) != n)
			break;
	}
	close(fd);
	atomic_store(&echo.last_conn_bytes, total);
	atomic_fetch_add(&echo.closed, 1);
	return NULL;
}

static void *echo_main(void *arg)
{
	(void)arg;
	for (;;) {
		int c = accept(echo.lfd, NULL, NULL);
		if (c < 0)
			return NULL;
		atomic_fetch_add(&echo.accepted, 1);
		pthread_t t;
		if (pthread_create(&t, NULL, echo_conn, (void *)(intptr_t)c) == 0)
			pthread_detach(t);
		else
			close(c);
	}
}

static struct fproxy *px;

static int setup(void **state)
{
	(void)state;
	echo.lfd = proxy_listen(0, &echo.port);
	if (echo.lfd < 0 || pthread_create(&echo.thread, NULL, echo_main, NULL) != 0)
		return -1;
	return fproxy_start(&px, 0, echo.port);
}

static int teardown(void **state)
{
	(void)state;
	fproxy_stop(px);
	shutdown(echo.lfd, SHUT_RDWR);
	pthread_join(echo.thread, NULL);
	close(echo.lfd);
	return 0;
}

/* ---- client side --------------------------------------------------------- */

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads until want bytes, EOF, an error, or timeout_ms. Returns the bytes
 * read; *err the errno of the end (0: EOF, ETIMEDOUT: nothing more came). */
static size_t read_for(int fd, char *buf, size_t want, int timeout_ms, int *err)
{
	size_t got = 0;
	long long deadline = now_ms() + timeout_ms;
	*err = ETIMEDOUT;
	while (got < want) {
		long long left = deadline - now_ms();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return got;
		ssize_t n = recv(fd, buf + got, want - got, 0);
		if (n <= 0) {
			*err = n == 0 ? 0 : errno;
			return got;
		}
		got += (size_t)n;
	}
	*err = 0;
	return got;
}

static int dial_ok(void)
{
	int fd = proxy_dial(fproxy_port(px));
	assert_true(fd >= 0);
	return fd;
}

static void echo_ok(int fd, const char *text)
{
	char buf[256];
	int err;
	size_t n = strlen(text);
	assert_int_equal(send(fd, text, n, MSG_NOSIGNAL), (ssize_t)n);
	assert_int_equal(read_for(fd, buf, n, 5000, &err), n);
	assert_memory_equal(buf, text, n);
}

/* The connection ends with a reset (ECONNRESET) within 5 s. */
static void reset_seen(int fd)
{
	char buf[256];
	int err;
	(void)read_for(fd, buf, sizeof(buf), 5000, &err);
	assert_int_equal(err, ECONNRESET);
}

/* Waits (up to 5 s) until the echo server has ended every connection it
 * accepted, so that what one test left behind never counts in the next. */
static void echo_quiet(void)
{
	long long deadline = now_ms() + 5000;
	while (atomic_load(&echo.closed) != atomic_load(&echo.accepted) && now_ms() < deadline)
		usleep(10000);
	assert_int_equal(atomic_load(&echo.closed), atomic_load(&echo.accepted));
}

/* Each test starts from FP_FORWARD and a quiet echo server, whatever the
 * one before it left. */
static int quiet(void **state)
{
	(void)state;
	echo_quiet();
	return fproxy_set(px, FP_FORWARD, 0);
}

/* ---- the modes ----------------------------------------------------------- */

static void forward_relays_both_ways(void **state)
{
	(void)state;
	int fd = dial_ok();
	echo_ok(fd, "hello");
	echo_ok(fd, "again");
	close(fd);
}

struct sender {
	int fd;
	size_t len;
};

static void *send_big(void *arg)
{
	struct sender *sd = arg;
	uint8_t chunk[8192];
	for (size_t off = 0; off < sd->len; off += sizeof(chunk)) {
		for (size_t i = 0; i < sizeof(chunk); i++)
			chunk[i] = (uint8_t)((off + i) * 31);
		if (send(sd->fd, chunk, sizeof(chunk), MSG_NOSIGNAL) != (ssize_t)sizeof(chunk))
			break;
	}
	return NULL;
}

/* Megabytes both ways at once, as a large answer streams while the
 * request is still being read. */
static void forward_relays_megabytes(void **state)
{
	(void)state;
	enum { TOTAL = 4 << 20 };
	static char buf[TOTAL];
	int err;
	int fd = dial_ok();
	struct sender sd = { .fd = fd, .len = TOTAL };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, send_big, &sd), 0);
	assert_int_equal(read_for(fd, buf, TOTAL, 20000, &err), TOTAL);
	pthread_join(t, NULL);
	for (size_t i = 0; i < TOTAL; i++)
		if ((uint8_t)buf[i] != (uint8_t)(i * 31))
			fail_msg("byte %zu differs", i);
	close(fd);
}

static void reset_cuts_open_and_new_connections(void **state)
{
	(void)state;
	struct fproxy_stats before, after;
	int open_fd = dial_ok();
	echo_ok(open_fd, "before");
	fproxy_stats(px, &before);
	assert_int_equal(fproxy_set(px, FP_RESET, 0), 0);
	reset_seen(open_fd);
	int new_fd = dial_ok();
	reset_seen(new_fd);
	close(open_fd);
	close(new_fd);
	fproxy_stats(px, &after);
	assert_true(after.resets >= before.resets + 2);

	assert_int_equal(fproxy_set(px, FP_FORWARD, 0), 0);
	int fd = dial_ok();
	echo_ok(fd, "after");
	close(fd);
}

static void delay_holds_each_chunk(void **state)
{
	(void)state;
	int fd = dial_ok();
	assert_int_equal(fproxy_set(px, FP_DELAY, 150), 0);
	long long t0 = now_ms();
	echo_ok(fd, "slow");
	/* One chunk each way, each held 150 ms. */
	assert_true(now_ms() - t0 >= 300);
	assert_int_equal(fproxy_set(px, FP_FORWARD, 0), 0);
	echo_ok(fd, "fast");
	close(fd);
}

static void blackhole_swallows_then_resets(void **state)
{
	(void)state;
	char buf[16];
	int err;
	int open_fd = dial_ok();
	echo_ok(open_fd, "x");
	unsigned accepted = atomic_load(&echo.accepted);
	assert_int_equal(fproxy_set(px, FP_BLACKHOLE, 0), 0);
	int new_fd = dial_ok();
	assert_int_equal(send(new_fd, "lost", 4, MSG_NOSIGNAL), 4);
	assert_int_equal(send(open_fd, "lost", 4, MSG_NOSIGNAL), 4);
	assert_int_equal(read_for(new_fd, buf, 1, 300, &err), 0);
	assert_int_equal(err, ETIMEDOUT);
	assert_int_equal(read_for(open_fd, buf, 1, 300, &err), 0);
	assert_int_equal(err, ETIMEDOUT);
	/* The server never saw the new connection. */
	assert_int_equal(atomic_load(&echo.accepted), accepted);
	struct fproxy_stats st;
	fproxy_stats(px, &st);
	assert_true(st.swallowed >= 8);

	/* Both lost bytes: reset when the blackhole ends. */
	assert_int_equal(fproxy_set(px, FP_FORWARD, 0), 0);
	reset_seen(new_fd);
	reset_seen(open_fd);
	close(new_fd);
	close(open_fd);
}

static void drop_client_to_server_after_n_bytes(void **state)
{
	(void)state;
	unsigned closed = atomic_load(&echo.closed);
	assert_int_equal(fproxy_set(px, FP_DROP_C2S, 10), 0);
	int fd = dial_ok();
	assert_int_equal(send(fd, "0123456789abcdefghijklmnopqrst", 30, MSG_NOSIGNAL), 30);
	reset_seen(fd);
	close(fd);
	/* The echo server may accept the relayed connection only after the
	 * client saw its reset: wait for that connection's end itself. */
	long long deadline = now_ms() + 5000;
	while (atomic_load(&echo.closed) < closed + 1 && now_ms() < deadline)
		usleep(10000);
	echo_quiet();
	assert_int_equal(atomic_load(&echo.closed), closed + 1);
	assert_int_equal(atomic_load(&echo.last_conn_bytes), 10);
	assert_int_equal(fproxy_set(px, FP_FORWARD, 0), 0);
}

static void drop_server_to_client_after_n_bytes(void **state)
{
	(void)state;
	char buf[64];
	int err;
	int fd = dial_ok();
	echo_ok(fd, "counted from the switch");
	assert_int_equal(fproxy_set(px, FP_DROP_S2C, 5), 0);
	assert_int_equal(send(fd, "0123456789abcdefghij", 20, MSG_NOSIGNAL), 20);
	assert_int_equal(read_for(fd, buf, sizeof(buf), 5000, &err), 5);
	assert_memory_equal(buf, "01234", 5);
	assert_int_equal(err, ECONNRESET);
	close(fd);
	assert_int_equal(fproxy_set(px, FP_FORWARD, 0), 0);
}

static void refuse_closes_the_listener_only(void **state)
{
	(void)state;
	int open_fd = dial_ok();
	echo_ok(open_fd, "open");
	assert_int_equal(fproxy_set(px, FP_REFUSE, 0), 0);
	assert_int_equal(proxy_dial(fproxy_port(px)), -1);
	assert_int_equal(errno, ECONNREFUSED);
	echo_ok(open_fd, "still relayed");
	assert_int_equal(fproxy_set(px, FP_FORWARD, 0), 0);
	int fd = dial_ok();
	echo_ok(fd, "same port again");
	close(fd);
	close(open_fd);
	struct fproxy_stats st;
	fproxy_stats(px, &st);
	assert_int_equal(st.refusals, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(forward_relays_both_ways, quiet),
		cmocka_unit_test_setup(forward_relays_megabytes, quiet),
		cmocka_unit_test_setup(reset_cuts_open_and_new_connections, quiet),
		cmocka_unit_test_setup(delay_holds_each_chunk, quiet),
		cmocka_unit_test_setup(blackhole_swallows_then_resets, quiet),
		cmocka_unit_test_setup(drop_client_to_server_after_n_bytes, quiet),
		cmocka_unit_test_setup(drop_server_to_client_after_n_bytes, quiet),
		cmocka_unit_test_setup(refuse_closes_the_listener_only, quiet),
	};
	return cmocka_run_group_tests_name("fault_proxy", tests, setup, teardown);
}
