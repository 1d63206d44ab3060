/*
 * lib/backend.h with a fake helper (fake_helper.c: the channel protocol
 * over plain TCP) and a plain-HTTP fake server thread: the library's side
 * of the helper contract under the sanitizers, which the real, confined
 * helper cannot run under. Covers start-up failures, a hung helper, a
 * missing helper binary, stale keep-alive connections, fd hygiene, and
 * short requests of many threads sent together (lib/req_batch.h).
 *
 * Environment: FAKE_HELPER, the fake helper's path (set by meson).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
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

#include "conf/config.h"
#include "ipc/mono_clock.h"
#include "conf/log.h"
#include "lib/backend.h"
#include "lib/chan_mux.h"
#include "lib/wsop_client.h"
#include "tests/backend/backend_util.h"

/* ---- a plain HTTP server answering GET /health -------------------- */

struct http_srv {
	int lfd;
	unsigned port;
	bool close_after_answer; /* drop the connection, as an idle timeout does */
	/* Answer every whole request in what was read, one after the other,
	 * echoing a POST's body (HTTP/1.1 pipelining); otherwise answer the
	 * first and close when more came, as a server without pipelining. */
	bool pipelined;
	/* Pipelined, but every cut_every-th read with several requests has
	 * only its first answered, then the connection closed (a restart). */
	unsigned cut_every;
	unsigned several_reads;
	atomic_uint cuts;
	atomic_uint most_at_once; /* requests answered from one read */
	atomic_bool fail;         /* answer 500, as a node that lost its store does */
	/* Connections that carried a request: a stray connect from another
	 * program on the machine (one probing for a free port) is not ours. */
	atomic_uint accepted;
	int stop[2];
	pthread_t thread;
};

struct hconn {
	int fd;
	bool counted;
	char buf[16384];
	size_t len;
};

/* The length of the whole request at the start of c->buf (head and
 * Content-Length body), or 0 while it is not all there. */
static size_t whole_request(const struct hconn *c, size_t *head_len)
{
	const char *end = strstr(c->buf, "\r\n\r\n");
	if (end == NULL)
		return 0;
	*head_len = (size_t)(end - c->buf) + 4;
	size_t body = 0;
	const char *cl = strcasestr(c->buf, "\r\nContent-Length:");
	if (cl != NULL && cl < end)
		body = strtoul(cl + 17, NULL, 10);
	return *head_len + body <= c->len ? *head_len + body : 0;
}

static const char health_ok[] = "{\"status\":\"ok\",\"version\":\"1.0.0\"}";

/* The whole requests at the start of c->buf answered in order (when
 * one_only, the first, then the connection closed if more came): a POST
 * with a body gets its body back, anything else the health answer. */
static void serve_whole(struct http_srv *s, struct hconn *c, bool one_only)
{
	size_t head_len, whole;
	unsigned n = 0;
	if (s->cut_every > 0 && whole_request(c, &head_len) > 0 &&
	    whole_request(c, &head_len) < c->len && ++s->several_reads % s->cut_every == 0) {
		atomic_fetch_add(&s->cuts, 1);
		one_only = true;
	}
	while ((whole = whole_request(c, &head_len)) > 0) {
		char ans[16384 + 256];
		int len;
		if (whole > head_len && strncmp(c->buf, "POST ", 5) == 0)
			len =
			    snprintf(ans, sizeof(ans),
			             "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
			             "Content-Length: %zu\r\n\r\n%.*s",
			             whole - head_len, (int)(whole - head_len), c->buf + head_len);
		else
			len = snprintf(ans, sizeof(ans),
			               "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
			               "Content-Length: %zu\r\n\r\n%s",
			               strlen(health_ok), health_ok);
		(void)!send(c->fd, ans, (size_t)len, MSG_NOSIGNAL);
		memmove(c->buf, c->buf + whole, c->len - whole);
		c->len -= whole;
		c->buf[c->len] = '\0';
		n++;
		if (one_only && c->len > 0) {
			/* More than one request: the end of the connection. */
			close(c->fd);
			c->fd = -1;
			c->len = 0;
			break;
		}
	}
	unsigned most = atomic_load(&s->most_at_once);
	while (n > most && !atomic_compare_exchange_weak(&s->most_at_once, &most, n))
		;
}

static void serve_readable(struct http_srv *s, struct hconn *c)
{
	ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0);
	if (n <= 0) {
		close(c->fd);
		c->fd = -1;
		return;
	}
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	char *end = strstr(c->buf, "\r\n\r\n");
	if (end == NULL)
		return;
	if (!c->counted)
		atomic_fetch_add(&s->accepted, 1);
	c->counted = true;
	if (s->pipelined || strncmp(c->buf, "POST ", 5) == 0) {
		serve_whole(s, c, !s->pipelined);
		return;
	}
	static const char ok[] = "{\"status\":\"ok\",\"version\":\"1.0.0\"}";
	static const char failed[] = "{\"error\":{\"code\":\"internal\",\"message\":\"x\"}}";
	bool fail = atomic_load(&s->fail);
	const char *body = fail ? failed : ok;
	char ans[256];
	int len = snprintf(ans, sizeof(ans),
	                   "HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
	                   "Content-Length: %zu\r\n\r\n%s",
	                   fail ? "500 Internal Server Error" : "200 OK", strlen(body), body);
	(void)!send(c->fd, ans, (size_t)len, MSG_NOSIGNAL);
	c->len = 0;
	if (s->close_after_answer) {
		close(c->fd);
		c->fd = -1;
	}
}

static void *http_run(void *arg)
{
	struct http_srv *s = arg;
	struct hconn conns[32];
	for (int i = 0; i < 32; i++)
		conns[i].fd = -1;
	for (;;) {
		struct pollfd p[34];
		int map[34], n = 0;
		p[n++] = (struct pollfd){ .fd = s->stop[0], .events = POLLIN };
		p[n++] = (struct pollfd){ .fd = s->lfd, .events = POLLIN };
		for (int i = 0; i < 32; i++)
			if (conns[i].fd >= 0) {
				map[n] = i;
				p[n++] = (struct pollfd){ .fd = conns[i].fd, .events = POLLIN };
			}
		if (poll(p, (nfds_t)n, -1) < 0 || p[0].revents)
			break;
		for (int k = 2; k < n; k++)
			if (p[k].revents)
				serve_readable(s, &conns[map[k]]);
		if (p[1].revents) {
			int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
			for (int i = 0; i < 32 && fd >= 0; i++)
				if (conns[i].fd < 0) {
					conns[i] = (struct hconn){ .fd = fd };
					fd = -1;
				}
			if (fd >= 0)
				close(fd);
		}
	}
	for (int i = 0; i < 32; i++)
		if (conns[i].fd >= 0)
			close(conns[i].fd);
	return NULL;
}

static void http_start_mode(struct http_srv *s, bool close_after_answer, bool pipelined)
{
	memset(s, 0, sizeof(*s));
	s->close_after_answer = close_after_answer;
	s->pipelined = pipelined;
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->lfd >= 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->lfd, 16), 0);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &alen), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pipe2(s->stop, O_CLOEXEC), 0);
	assert_int_equal(pthread_create(&s->thread, NULL, http_run, s), 0);
}

static void http_start(struct http_srv *s, bool close_after_answer)
{
	http_start_mode(s, close_after_answer, false);
}

static void http_stop(struct http_srv *s)
{
	(void)!write(s->stop[1], "x", 1);
	pthread_join(s->thread, NULL);
	close(s->lfd);
	close(s->stop[0]);
	close(s->stop[1]);
}

/* ---- fixture -------------------------------------------------------- */

struct fx {
	char dir[64];
	char cfg_path[128];
	char log_path[128];
	struct wsop_config cfg;
	struct http_srv srv;
};

static const char *fake_helper;

static void touch(const struct fx *f, const char *suffix, bool present)
{
	char path[160];
	snprintf(path, sizeof(path), "%s.%s", f->cfg_path, suffix);
	if (present) {
		FILE *m = fopen(path, "w");
		assert_non_null(m);
		fclose(m);
	} else {
		unlink(path);
	}
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/backend-fake.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->cfg_path, sizeof(f->cfg_path), "%s/fake.cfg", f->dir);
	snprintf(f->log_path, sizeof(f->log_path), "%s/fake.log", f->dir);
	FILE *c = fopen(f->cfg_path, "w");
	if (c == NULL)
		return -1;
	fclose(c);
	http_start(&f->srv, false);
	config_set_defaults(&f->cfg);
	snprintf(f->cfg.host, sizeof(f->cfg.host), "127.0.0.1");
	f->cfg.port = f->srv.port;
	f->cfg.maxretries = 0;
	f->cfg.retrydelay = 0;
	f->cfg.timeout = 2;
	f->cfg.loglevel = 5;
	snprintf(f->cfg.logfilepath, sizeof(f->cfg.logfilepath), "%s", f->log_path);
	struct wlog_config wc;
	config_to_wlog(&f->cfg, "pkcs11wsop", &wc);
	wlog_open(&wc);
	setenv("PKCS11WSOP_HELPER", fake_helper, 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	wlog_close();
	http_stop(&f->srv);
	touch(f, "fail", false);
	touch(f, "hang", false);
	unlink(f->cfg_path);
	/* KEEP_LOG=1 keeps the library's log of each test for a look. */
	if (getenv("KEEP_LOG") == NULL) {
		unlink(f->log_path);
		rmdir(f->dir);
	}
	free(f);
	return 0;
}

/* ---- tests ---------------------------------------------------------- */

static void open_call_close_leaves_no_fd_or_process(void **state)
{
	struct fx *f = *state;
	struct backend *be;
	unsigned before = backend_util_count_fds();
	for (int i = 0; i < 10; i++) {
		assert_int_equal(backend_open(&f->cfg, f->cfg_path, &be), 0);
		pid_t pid = backend_helper_pid(be);
		assert_true(pid > 0);
		assert_int_equal(backend_util_health(be), 0);
		assert_int_equal(backend_util_health(be), 0);
		backend_close(be);
		assert_true(kill(pid, 0) != 0 && errno == ESRCH);
	}
	/* The fake server (a thread of this process) closes its end of the
	 * last connection when it sees the end of it: give it a moment. */
	for (int i = 0; i < 100 && backend_util_count_fds() != before; i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	assert_int_equal(backend_util_count_fds(), before);
	/* Released connections were reused: one per backend. */
	assert_int_equal(atomic_load(&f->srv.accepted), 10);
}

static void helper_that_cannot_load_credentials_fails_open_with_its_cause(void **state)
{
	struct fx *f = *state;
	struct backend *be = NULL;
	touch(f, "fail", true);
	/* The start is not awaited by the open: the first need of the helper
	 * meets the refusal. */
	assert_int_equal(backend_open(&f->cfg, f->cfg_path, &be), 0);
	assert_int_equal(backend_ready(be), -EKEYREJECTED);
	/* One failure, one ERROR line naming its cause. */
	assert_int_equal(backend_util_log_count(f->log_path, " ERROR ", "mode 0644 is too open"),
	                 1);
	assert_int_equal(backend_util_log_count(f->log_path, " ERROR ", "helper"), 1);
	assert_true(backend_util_log_contains(f->log_path, "exited with status 1"));
	/* Within a second of the refusal no helper is started again: a
	 * request fails at once, with the same cause. */
	long long t0 = mono_ms();
	assert_int_equal(backend_util_health(be), -EKEYREJECTED);
	assert_true(mono_ms() - t0 < 500);
	assert_int_equal(backend_util_log_count(f->log_path, " ERROR ", "mode 0644 is too open"),
	                 1);
	/* After it, a request starts a new helper, which refuses as well. */
	struct timespec ts = { 1, 100 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	assert_int_equal(backend_util_health(be), -EKEYREJECTED);
	assert_int_equal(backend_util_log_count(f->log_path, " ERROR ", "mode 0644 is too open"),
	                 2);
	backend_close(be);
}

/* An open and a close with nothing between does not wait for the helper's
 * start: one still loading is killed at once, quietly, and audited as
 * unused. */
static void helper_nobody_needed_is_stopped_without_waiting(void **state)
{
	struct fx *f = *state;
	struct backend *be;
	touch(f, "slow", true);
	unsigned before = backend_util_count_fds();
	long long t0 = mono_ms();
	assert_int_equal(backend_open(&f->cfg, f->cfg_path, &be), 0);
	pid_t pid = backend_helper_pid(be);
	assert_true(pid > 0);
	backend_close(be);
	long long took = mono_ms() - t0;
	touch(f, "slow", false);
	/* Its start takes 30 s; its grace on a close would be 1 s. */
	assert_true(took < 900);
	assert_true(kill(pid, 0) != 0 && errno == ESRCH);
	assert_int_equal(backend_util_count_fds(), before);
	char want[96];
	snprintf(want, sizeof(want), "audit event=helper_unused outcome=success pid=%d ",
	         (int)getpid());
	assert_int_equal(backend_util_log_count(f->log_path, " INFO ", want), 1);
	assert_true(backend_util_log_contains(f->log_path, "stopped before it was needed"));
	assert_int_equal(backend_util_log_count(f->log_path, " ERROR ", ""), 0);
	assert_int_equal(backend_util_log_count(f->log_path, " WARNING ", ""), 0);
}

/* A helper that refused its credentials before anyone asked is still
 * reported when the backend closes: the refusal is not lost. */
static void refusal_nobody_awaited_is_logged_at_close(void **state)
{
	struct fx *f = *state;
	struct backend *be;
	touch(f, "fail", true);
	assert_int_equal(backend_open(&f->cfg, f->cfg_path, &be), 0);
	/* Until it has exited, left for the backend to reap (WNOWAIT). */
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	assert_int_equal(waitid(P_PID, (id_t)backend_helper_pid(be), &si, WEXITED | WNOWAIT), 0);
	backend_close(be);
	assert_int_equal(backend_util_log_count(f->log_path, " ERROR ", "mode 0644 is too open"),
	                 1);
	assert_int_equal(backend_util_log_count(f->log_path, " WARNING ",
	                                        "audit event=helper_start outcome=failure"),
	                 1);
	assert_int_equal(backend_util_log_count(f->log_path, "", "helper_unused"), 0);
}

static void missing_helper_binary_fails_open(void **state)
{
	struct fx *f = *state;
	struct backend *be = NULL;
	setenv("PKCS11WSOP_HELPER", "/nonexistent/pkcs11wsop-helper", 1);
	assert_int_equal(backend_open(&f->cfg, f->cfg_path, &be), -ECHILD);
	assert_true(backend_util_log_contains(
	    f->log_path, "cannot start the helper /nonexistent/pkcs11wsop-helper: "
	                 "No such file or directory"));
}

static void hung_helper_is_killed_and_replaced(void **state)
{
	struct fx *f = *state;
	struct backend *be;
	/* The first helper hangs after READY; those started later work. */
	touch(f, "hang", true);
	assert_int_equal(backend_open(&f->cfg, f->cfg_path, &be), 0);
	/* The helper reads the marker as it starts: let it start first. */
	assert_int_equal(backend_ready(be), 0);
	pid_t first = backend_helper_pid(be);
	touch(f, "hang", false);
	long long t0 = mono_ms();
	assert_int_equal(backend_util_health(be), -ETIMEDOUT);
	long long took = mono_ms() - t0;
	/* TIMEOUT 2 s: the hung helper is found within it. */
	assert_true(took <= 2000 + 300);
	assert_true(kill(first, 0) != 0 && errno == ESRCH);
	assert_true(backend_util_log_contains(f->log_path, "does not answer"));
	assert_true(backend_util_log_contains(f->log_path, "died (signal 9)"));
	assert_int_equal(backend_util_health(be), 0);
	pid_t second = backend_helper_pid(be);
	assert_true(second > 0 && second != first);
	backend_close(be);
}

/* A helper killed by its seccomp filter is an audit line that says so. */
static void helper_killed_by_its_sandbox_is_audited_as_such(void **state)
{
	struct fx *f = *state;
	struct backend *be;
	touch(f, "sandbox", true);
	assert_int_equal(backend_open(&f->cfg, f->cfg_path, &be), 0);
	/* The helper reads the marker as it starts: let it start first. */
	assert_int_equal(backend_ready(be), 0);
	pid_t first = backend_helper_pid(be);
	touch(f, "sandbox", false);
	/* The request dies with the helper and is retried on a new one. */
	assert_int_equal(backend_util_health(be), 0);
	assert_true(backend_helper_pid(be) != first);
	char want[128];
	snprintf(want, sizeof(want), "audit event=helper_died outcome=failure pid=%d ",
	         (int)getpid());
	assert_int_equal(backend_util_log_count(f->log_path, " WARNING ", want), 1);
	snprintf(want, sizeof(want), " helper_pid=%d signal=SIGSYS how=sandbox", (int)first);
	assert_true(backend_util_log_contains(f->log_path, want));
	/* both starts were audited */
	assert_int_equal(backend_util_log_count(f->log_path, " INFO ",
	                                        "audit event=helper_start outcome=success"),
	                 2);
	backend_close(be);
}

static void refused_connection_is_logged_and_returned(void **state)
{
	struct fx *f = *state;
	struct backend *be;
	struct wsop_config cfg = f->cfg;
	http_stop(&f->srv);
	cfg.port = f->srv.port; /* nothing listens there now */
	http_start(&f->srv, false);
	assert_int_equal(backend_open(&cfg, f->cfg_path, &be), 0);
	assert_int_equal(backend_util_health(be), -ECONNREFUSED);
	assert_true(backend_util_log_contains(f->log_path, "connection refused (attempt 1 of 1)"));
	backend_close(be);
}

static void stale_keepalive_connection_is_replaced_without_a_retry(void **state)
{
	struct fx *f = *state;
	struct backend *be;
	http_stop(&f->srv);
	http_start(&f->srv, true);
	f->cfg.port = f->srv.port;
	assert_int_equal(backend_open(&f->cfg, f->cfg_path, &be), 0);
	/* MAXRETRIES is 0, so success means the replacement did not count. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(backend_util_health(be), 0);
	assert_int_equal(atomic_load(&f->srv.accepted), 3);
	assert_true(backend_util_log_contains(f->log_path, "stale"));
	backend_close(be);
}

static void forked_child_forgets_the_backend(void **state)
{
	struct fx *f = *state;
	struct backend *be;
	assert_int_equal(backend_open(&f->cfg, f->cfg_path, &be), 0);
	assert_int_equal(backend_util_health(be), 0);
	pid_t helper = backend_helper_pid(be);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		backend_forget(be);
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_int_equal(backend_helper_pid(be), helper);
	assert_int_equal(backend_util_health(be), 0);
	backend_close(be);
}

/* The helper dies after the first bytes of the answer: the request is sent
 * again (same bytes) on a new helper and the whole answer read anew. */
static void helper_dying_mid_answer_is_replaced_and_the_answer_read_again(void **state)
{
	struct fx *f = *state;
	struct backend *be;
	struct wsop_config cfg = f->cfg;
	cfg.maxretries = 1;
	assert_int_equal(backend_open(&cfg, f->cfg_path, &be), 0);
	assert_int_equal(backend_ready(be), 0);
	/* The marker is read when a helper starts: kill the first one, so
	 * that the call starts one in split mode. */
	touch(f, "split", true);
	pid_t first = backend_helper_pid(be);
	assert_int_equal(kill(first, SIGKILL), 0);
	assert_int_equal(backend_util_health(be), 0);
	assert_true(backend_util_log_contains(f->log_path, "reading the answer from"));
	assert_true(backend_util_log_contains(f->log_path, "helper died (attempt 1 of 2)"));
	backend_close(be);
	touch(f, "split", false);
}

/* With one server a 500 is the caller's answer, not retried; with two, the
 * request moves to the other at once (not RETRYDELAY later), and the first
 * is set aside. */
static void server_failure_answer_moves_to_the_next_server(void **state)
{
	struct fx *f = *state;
	struct backend *be;
	struct wsop_config cfg = f->cfg;
	cfg.maxretries = 3;
	cfg.retrydelay = 30;
	atomic_store(&f->srv.fail, true);
	assert_int_equal(backend_open(&cfg, f->cfg_path, &be), 0);
	assert_int_equal(backend_util_health(be), 500);
	assert_false(backend_util_log_contains(f->log_path, "attempt"));
	backend_close(be);

	struct http_srv second;
	http_start(&second, false);
	snprintf(cfg.servers[0].host, sizeof(cfg.servers[0].host), "127.0.0.1");
	cfg.servers[0].port = f->srv.port;
	snprintf(cfg.servers[1].host, sizeof(cfg.servers[1].host), "127.0.0.1");
	cfg.servers[1].port = second.port;
	cfg.n_servers = 2;
	assert_int_equal(backend_open(&cfg, f->cfg_path, &be), 0);
	long long t0 = mono_ms();
	assert_int_equal(backend_util_health(be), 0);
	/* Not after RETRYDELAY (30 s): an upper bound, not a speed. */
	assert_true(mono_ms() - t0 < 30000);
	char line[200];
	snprintf(line, sizeof(line),
	         "request to 127.0.0.1:%u failed: server failed (HTTP 500) (attempt 1 of 4); set "
	         "aside for 30 s; trying 127.0.0.1:%u in 0 s",
	         f->srv.port, second.port);
	assert_int_equal(backend_util_log_count(f->log_path, " WARNING ", line), 1);
	assert_int_equal(atomic_load(&second.accepted), 1);
	/* The next requests stay away from the failed server. */
	unsigned failed_before = atomic_load(&f->srv.accepted);
	assert_int_equal(backend_util_health(be), 0);
	assert_int_equal(atomic_load(&f->srv.accepted), failed_before);
	backend_close(be);
	http_stop(&second);
}

/* ---- short requests of many threads (lib/req_batch.h) ---------------- */

#define BATCH_THREADS 8
#define BATCH_CALLS   200

struct batch_worker {
	struct backend *be;
	int id;
	unsigned ok;
};

/* Binary POSTs with a body of this thread's own, each answer checked to be
 * the echo of its own request: answers handed to the wrong thread, or out
 * of order, show. */
static void *batch_worker_run(void *arg)
{
	struct batch_worker *w = arg;
	static const struct http_header hdr[] = { { "X-Test", "batch" } };
	for (int i = 0; i < BATCH_CALLS; i++) {
		struct wsop_client *c = backend_acquire(w->be);
		if (c == NULL)
			return NULL;
		char body[64];
		int len =
		    snprintf(body, sizeof(body), "thread %d call %d %.*s", w->id, i, w->id * 3,
		             "-----------------------------------------------------");
		struct http_message ans;
		http_message_init(&ans);
		int rc = wsop_call_binary(c, "/crypto/v1/encrypt", hdr, 1, (const uint8_t *)body,
		                          (size_t)len, &ans);
		if (rc == 0 && ans.status == 200 && ans.body_len == (size_t)len &&
		    memcmp(ans.body, body, (size_t)len) == 0)
			w->ok++;
		http_message_clear(&ans);
		backend_release(w->be, c);
	}
	return NULL;
}

static unsigned run_batch_workers(struct backend *be)
{
	pthread_t t[BATCH_THREADS];
	struct batch_worker w[BATCH_THREADS];
	unsigned ok = 0;
	for (int i = 0; i < BATCH_THREADS; i++) {
		w[i] = (struct batch_worker){ .be = be, .id = i };
		assert_int_equal(pthread_create(&t[i], NULL, batch_worker_run, &w[i]), 0);
	}
	for (int i = 0; i < BATCH_THREADS; i++) {
		pthread_join(t[i], NULL);
		ok += w[i].ok;
	}
	return ok;
}

/* Eight threads' encrypts go over one connection, several in one write
 * (the server answers more than one from a read), and every thread gets
 * the answer to its own request. */
static void short_requests_of_many_threads_share_one_connection(void **state)
{
	struct fx *f = *state;
	struct backend *be;
	http_stop(&f->srv);
	http_start_mode(&f->srv, false, true);
	f->cfg.port = f->srv.port;
	assert_int_equal(backend_open(&f->cfg, f->cfg_path, &be), 0);
	assert_int_equal(run_batch_workers(be), BATCH_THREADS * BATCH_CALLS);
	assert_true(atomic_load(&f->srv.most_at_once) >= 2);
	assert_int_equal(atomic_load(&f->srv.accepted), 1);
	/* The batches' own attempts never failed, so nothing went alone. */
	assert_false(backend_util_log_contains(f->log_path, "failed"));
	/* Anything else still has a connection of its own. */
	assert_int_equal(backend_util_health(be), 0);
	assert_int_equal(atomic_load(&f->srv.accepted), 2);
	backend_close(be);
}

/* A server that answers the first of the requests that came together and
 * closes the connection: every request still gets its answer (alone, once
 * its batch was cut), and after a few batches cut short the library stops
 * sending them together and says so once. */
static void server_without_pipelining_gets_requests_one_at_a_time(void **state)
{
	struct fx *f = *state;
	struct backend *be;
	struct wsop_config cfg = f->cfg;
	cfg.timeout = 1;
	http_stop(&f->srv);
	http_start_mode(&f->srv, false, false);
	cfg.port = f->srv.port;
	assert_int_equal(backend_open(&cfg, f->cfg_path, &be), 0);
	assert_int_equal(run_batch_workers(be), BATCH_THREADS * BATCH_CALLS);
	assert_int_equal(backend_util_log_count(f->log_path, " WARNING ", "pipelining"), 1);
	backend_close(be);
}

/* A pipelining server that cuts a batch now and then (every other read
 * with several requests, as a restart would): every request is answered
 * right, and batching stays on, since full batches come in between. */
static void batches_cut_now_and_then_keep_batching_on(void **state)
{
	struct fx *f = *state;
	struct backend *be;
	http_stop(&f->srv);
	http_start_mode(&f->srv, false, true);
	f->srv.cut_every = 2;
	f->cfg.port = f->srv.port;
	assert_int_equal(backend_open(&f->cfg, f->cfg_path, &be), 0);
	assert_int_equal(run_batch_workers(be), BATCH_THREADS * BATCH_CALLS);
	assert_true(atomic_load(&f->srv.cuts) >= 3);
	assert_int_equal(backend_util_log_count(f->log_path, " WARNING ", "pipelining"), 0);
	backend_close(be);
}

int main(void)
{
	fake_helper = getenv("FAKE_HELPER");
	if (fake_helper == NULL) {
		printf("backend_fake: FAKE_HELPER not set: skipped\n");
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(open_call_close_leaves_no_fd_or_process),
		T(helper_that_cannot_load_credentials_fails_open_with_its_cause),
		T(missing_helper_binary_fails_open),
		T(helper_nobody_needed_is_stopped_without_waiting),
		T(refusal_nobody_awaited_is_logged_at_close),
		T(hung_helper_is_killed_and_replaced),
		T(helper_killed_by_its_sandbox_is_audited_as_such),
		T(helper_dying_mid_answer_is_replaced_and_the_answer_read_again),
		T(refused_connection_is_logged_and_returned),
		T(stale_keepalive_connection_is_replaced_without_a_retry),
		T(forked_child_forgets_the_backend),
		T(server_failure_answer_moves_to_the_next_server),
		T(short_requests_of_many_threads_share_one_connection),
		T(server_without_pipelining_gets_requests_one_at_a_time),
		T(batches_cut_now_and_then_keep_batching_on),
	};
	return cmocka_run_group_tests_name("backend_fake", tests, NULL, NULL);
}
