/* One client connection: TLS handshake, request loop, close; see conn.h. */
#include "server/conn.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "conf/log.h"
#include "ipc/http.h"
#include "server/reply.h"
#include "server/router.h"
#include "server/tls.h"

#define HANDSHAKE_TIMEOUT_MS 10000
#define BUSY_TIMEOUT_MS      2000
/* After refusing a request we read and discard what the client still
 * sends for a moment, so that our answer is not lost to a TCP reset. */
#define DRAIN_TIMEOUT_MS 1000
#define DRAIN_MAX_BYTES  (HTTP_MAX_BODY + HTTP_MAX_HEAD)
#define BUF_START        16384
#define BUF_MAX          (HTTP_MAX_HEAD + HTTP_MAX_BODY)

struct conn {
	const struct conn_env *env;
	int fd;
	SSL *ssl;
	const char *peer;
	char client_id[TLS_CLIENT_ID_LEN + 1];
	uint8_t client_fp[TLS_CLIENT_FP_LEN];
	char cn[TLS_CN_MAX];
	uint8_t *buf;
	size_t len;
	size_t cap;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void set_io_timeout(int fd, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	/* Best effort: without it, poll() deadlines still bound most waits. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static bool stop_requested(const struct conn *c)
{
	struct pollfd p = { .fd = c->env->stop_fd, .events = POLLIN };

	return poll(&p, 1, 0) > 0;
}

/* 1 readable, -ETIMEDOUT, -ECANCELED (server stopping), -errno. */
static int wait_input(const struct conn *c, int timeout_ms, bool watch_stop)
{
	struct pollfd p[2] = {
		{ .fd = c->fd, .events = POLLIN },
		{ .fd = c->env->stop_fd, .events = POLLIN },
	};
	int r;

	do {
		r = poll(p, watch_stop ? 2 : 1, timeout_ms);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -ETIMEDOUT;
	if (watch_stop && (p[1].revents & POLLIN))
		return -ECANCELED;
	return 1;
}

/* Grows the buffer towards BUF_MAX; the old copy is wiped, not just freed. */
static int grow(struct conn *c)
{
	size_t cap = c->cap == 0 ? BUF_START : c->cap * 2;
	uint8_t *nb;

	if (c->cap >= BUF_MAX)
		return -ENOBUFS;
	if (cap > BUF_MAX)
		cap = BUF_MAX;
	nb = malloc(cap);
	if (nb == NULL)
		return -ENOMEM;
	if (c->buf != NULL) {
		memcpy(nb, c->buf, c->len);
		OPENSSL_clear_free(c->buf, c->cap);
	}
	c->buf = nb;
	c->cap = cap;
	return 0;
}

/* Reads more bytes: >0 read, 0 EOF, negative errno (-ETIMEDOUT, -ECANCELED...). */
static int read_some(struct conn *c, int timeout_ms, bool idle)
{
	int r;

	if (timeout_ms <= 0)
		return -ETIMEDOUT;
	if (SSL_pending(c->ssl) == 0) {
		r = wait_input(c, timeout_ms, idle);
		if (r < 0)
			return r;
	}
	if (c->len == c->cap) {
		r = grow(c);
		if (r < 0)
			return r;
	}
	size_t want = c->cap - c->len;
	r = SSL_read(c->ssl, c->buf + c->len, want > INT32_MAX ? INT32_MAX : (int)want);
	if (r > 0) {
		c->len += (size_t)r;
		return r;
	}
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return -ETIMEDOUT;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : 0;
		ERR_clear_error();
		return -EPROTO;
	default:
		ERR_clear_error();
		return -EPROTO;
	}
}

static int send_response(struct conn *c, const struct wsop_response *resp, bool keep_alive)
{
	struct http_header extra[2];
	size_t n = 0;
	uint8_t *out = NULL;
	size_t out_len = 0;
	int r;

	if (resp->body_len > 0)
		extra[n++] = (struct http_header){ "Content-Type", "application/json" };
	if (resp->allow[0] != '\0')
		extra[n++] = (struct http_header){ "Allow", resp->allow };
	r = http_format_response(resp->status, keep_alive, extra, n, (const uint8_t *)resp->body,
	                         resp->body_len, &out, &out_len);
	if (r != 0)
		return r;
	r = out_len > INT32_MAX ? -EMSGSIZE : SSL_write(c->ssl, out, (int)out_len);
	OPENSSL_clear_free(out, out_len);
	if (r <= 0) {
		ERR_clear_error();
		return -EIO;
	}
	return 0;
}

/* Discards what the client still sends, for a moment, before we close. */
static void drain(struct conn *c)
{
	uint8_t scratch[4096];
	int64_t end = now_ms() + DRAIN_TIMEOUT_MS;
	size_t total = 0;

	(void)SSL_shutdown(c->ssl);
	ERR_clear_error();
	(void)shutdown(c->fd, SHUT_WR);
	while (total < DRAIN_MAX_BYTES) {
		int left = (int)(end - now_ms());
		if (left <= 0 || wait_input(c, left, false) < 0)
			return;
		ssize_t n = recv(c->fd, scratch, sizeof(scratch), MSG_DONTWAIT);
		if (n <= 0)
			return;
		total += (size_t)n;
	}
}

static void codec_error(int rc, struct wsop_response *resp)
{
	switch (rc) {
	case -EMSGSIZE:
		reply_error(resp, 431, "header_too_large", "request head too large");
		break;
	case -E2BIG:
		reply_error(resp, 413, "too_large", "request body too large");
		break;
	case HTTP_ERR_URI_TOO_LONG:
		reply_error(resp, 414, "uri_too_long", "request target too long");
		break;
	case -EBADMSG:
		reply_error(resp, 400, "bad_http", "malformed HTTP request");
		break;
	case -ENOTSUP:
		reply_error(resp, 400, "bad_http", "unsupported HTTP version or transfer coding");
		break;
	default:
		reply_error(resp, 500, "internal", "cannot read the request");
		break;
	}
	resp->close = true;
}

/* Drops the first `used` bytes (the handled request), wiping them. */
static void consume(struct conn *c, size_t used)
{
	if (used > c->len)
		used = c->len;
	OPENSSL_cleanse(c->buf, used);
	memmove(c->buf, c->buf + used, c->len - used);
	c->len -= used;
	OPENSSL_cleanse(c->buf + c->len, used);
}

static void log_exchange(const struct conn *c, const struct http_message *msg,
                         const struct wsop_response *resp, int64_t start)
{
	double ms = (double)(now_ms() - start);

	wlog(WLOG_INFO, "%s %s %d cn=%s peer=%s %.0f ms", msg->method, msg->target, resp->status,
	     c->cn, c->peer, ms);
	if (resp->status >= 400)
		wlog(WLOG_WARNING, "refused %s %s from %s (cn=%s): %d %s", msg->method, msg->target,
		     c->peer, c->cn, resp->status, resp->note);
}

/* Handles one parsed request; false when the connection must close. */
static bool handle(struct conn *c, struct http_message *msg)
{
	struct wsop_request req = { 0 };
	struct wsop_response resp;
	int64_t start = now_ms();
	bool keep;
	int r;

	reply_init(&resp);
	req.http = msg;
	req.client_id = c->client_id;
	req.client_cn = c->cn;
	memcpy(req.client_fp, c->client_fp, sizeof(req.client_fp));

	while (sem_wait(c->env->slots) != 0 && errno == EINTR)
		;
	router_handle(c->env->app, &req, &resp);
	sem_post(c->env->slots);
	/* The slow-down waits here: no slot, no lock held. */
	if (resp.delay_ms > 0)
		sleep_ms(resp.delay_ms);

	keep = msg->keep_alive && !resp.close && !stop_requested(c);
	r = send_response(c, &resp, keep);
	log_exchange(c, msg, &resp, start);
	if (r != 0) {
		wlog(WLOG_WARNING, "cannot send the answer to %s (cn=%s)", c->peer, c->cn);
		keep = false;
	}
	reply_free(&resp);
	return keep;
}

static void refuse_malformed(struct conn *c, int rc)
{
	struct wsop_response resp;

	reply_init(&resp);
	codec_error(rc, &resp);
	wlog(WLOG_WARNING, "refused a request from %s (cn=%s): %d %s", c->peer, c->cn, resp.status,
	     resp.note);
	if (send_response(c, &resp, false) == 0)
		drain(c);
	reply_free(&resp);
}

static void request_loop(struct conn *c)
{
	struct http_message msg;
	int64_t request_start = 0;
	size_t used = 0;
	int r;

	http_message_init(&msg);
	for (;;) {
		if (c->len > 0) {
			r = http_parse_request(c->buf, c->len, &msg, &used);
			if (r < 0) {
				refuse_malformed(c, r);
				return;
			}
			if (r == 1) {
				bool keep = handle(c, &msg);
				if (msg.body != NULL)
					OPENSSL_cleanse(msg.body, msg.body_len);
				http_message_clear(&msg);
				consume(c, used);
				if (!keep)
					return;
				request_start = now_ms();
				continue;
			}
		}
		bool idle = c->len == 0;
		int timeout = idle ? CONN_IDLE_TIMEOUT_MS
		                   : (int)(request_start + CONN_REQUEST_TIMEOUT_MS - now_ms());
		r = read_some(c, timeout, idle);
		if (r > 0) {
			if (idle)
				request_start = now_ms();
			continue;
		}
		if (r == -ECANCELED || idle) {
			/* Stopping, or the end of a keep-alive connection. */
			wlog(WLOG_DEBUG, "closing idle connection %s (cn=%s)", c->peer, c->cn);
			return;
		}
		wlog(WLOG_WARNING, "dropping %s (cn=%s): %s with %zu bytes of a request unread",
		     c->peer, c->cn,
		     r == 0 ? "closed" : (r == -ETIMEDOUT ? "timed out" : "read failed"), c->len);
		return;
	}
}

void conn_serve(const struct conn_env *env, int fd, const char *peer)
{
	struct conn c = { .env = env, .fd = fd, .peer = peer };
	char reason[256];
	int r;

	set_io_timeout(fd, HANDSHAKE_TIMEOUT_MS);
	c.ssl = SSL_new(env->tls);
	if (c.ssl == NULL || SSL_set_fd(c.ssl, fd) != 1) {
		wlog(WLOG_ERROR, "cannot set up TLS for %s", peer);
		goto out;
	}
	r = SSL_accept(c.ssl);
	if (r != 1) {
		tls_failure_reason(c.ssl, r, reason, sizeof(reason));
		wlog(WLOG_WARNING, "TLS handshake with %s failed: %s", peer, reason);
		goto out;
	}
	if (tls_client_identity(c.ssl, c.client_fp, c.client_id, c.cn) != 0) {
		wlog(WLOG_WARNING, "refused %s: no client certificate after the handshake", peer);
		goto out;
	}
	wlog(WLOG_DEBUG, "TLS connection from %s (cn=%s, %s)", peer, c.cn, SSL_get_version(c.ssl));
	set_io_timeout(fd, CONN_REQUEST_TIMEOUT_MS);
	request_loop(&c);
	(void)SSL_shutdown(c.ssl);
out:
	ERR_clear_error();
	SSL_free(c.ssl);
	if (c.buf != NULL)
		OPENSSL_clear_free(c.buf, c.cap);
	close(fd);
}

void conn_refuse_busy(const struct conn_env *env, int fd, const char *peer)
{
	struct conn c = { .env = env, .fd = fd, .peer = peer };
	struct wsop_response resp;

	reply_init(&resp);
	snprintf(c.cn, sizeof(c.cn), "-");
	set_io_timeout(fd, BUSY_TIMEOUT_MS);
	c.ssl = SSL_new(env->tls);
	if (c.ssl == NULL || SSL_set_fd(c.ssl, fd) != 1 || SSL_accept(c.ssl) != 1)
		goto out;
	reply_error(&resp, 503, "busy", "too many clients, try again later");
	/* Answer as soon as anything arrives (or give up quietly). */
	if (wait_input(&c, BUSY_TIMEOUT_MS, false) == 1 && send_response(&c, &resp, false) == 0)
		drain(&c);
out:
	reply_free(&resp);
	ERR_clear_error();
	SSL_free(c.ssl);
	close(fd);
}
