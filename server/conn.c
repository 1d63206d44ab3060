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

#include "ipc/mono_clock.h"
#include "conf/log.h"
#include "ipc/http.h"
#include "server/reply.h"
#include "server/exchange.h"
#include "server/reqbuf.h"
#include "server/tls.h"

#define BUSY_TIMEOUT_MS 2000

struct conn {
	const struct conn_env *env;
	int fd;
	SSL *ssl;
	struct conn_names names;
	struct reqbuf in;
};

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static bool stop_requested(const struct conn *c)
{
	return atomic_load_explicit(c->env->stopping, memory_order_relaxed);
}

/* Waits until the socket is ready for events, at the latest until the
 * deadline (mono_ms() time): 1 ready, -ETIMEDOUT, -ECANCELED (server
 * stopping, only when watch_stop), -errno. */
static int wait_fd(const struct conn *c, short events, int64_t deadline, bool watch_stop)
{
	struct pollfd p[2] = {
		{ .fd = c->fd, .events = events },
		{ .fd = c->env->stop_fd, .events = POLLIN },
	};

	for (;;) {
		int64_t left = deadline - mono_ms();
		int r;

		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(p, watch_stop ? 2 : 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		if (watch_stop && (p[1].revents & POLLIN))
			return -ECANCELED;
		return 1;
	}
}

/* After an SSL call returned ret <= 0 on the non-blocking socket: waits
 * for what OpenSSL wants and returns 1 to retry the call; 0 when the peer
 * closed; else a negative errno. The error queue is left for the caller. */
static int ssl_wait(const struct conn *c, int ret, int64_t deadline, bool watch_stop)
{
	switch (SSL_get_error(c->ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		return wait_fd(c, POLLIN, deadline, watch_stop);
	case SSL_ERROR_WANT_WRITE:
		return wait_fd(c, POLLOUT, deadline, watch_stop);
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		return ERR_peek_error() == 0 ? 0 : -EPROTO;
	default:
		return -EPROTO;
	}
}

/* Reads more bytes before the deadline: >0 read, 0 EOF, negative errno
 * (-ETIMEDOUT, -ECANCELED when watch_stop and the server stops...). */
static int read_some(struct conn *c, int64_t deadline, bool watch_stop)
{
	int r;

	r = reqbuf_reserve(&c->in);
	if (r < 0)
		return r;
	size_t want = c->in.cap - c->in.len;
	for (;;) {
		r = SSL_read(c->ssl, c->in.data + c->in.len,
		             want > INT32_MAX ? INT32_MAX : (int)want);
		if (r > 0) {
			c->in.len += (size_t)r;
			return r;
		}
		r = ssl_wait(c, r, deadline, watch_stop);
		if (r != 1) {
			ERR_clear_error();
			return r;
		}
	}
}

/* Writes all of data within CONN_REQUEST_TIMEOUT_MS: 0 or negative errno. */
static int write_all(struct conn *c, const uint8_t *data, size_t len)
{
	int64_t deadline = mono_ms() + CONN_REQUEST_TIMEOUT_MS;
	int r;

	if (len > INT32_MAX)
		return -EMSGSIZE;
	for (;;) {
		/* Without SSL_MODE_ENABLE_PARTIAL_WRITE this returns only when
		 * everything is written; a retry passes the same arguments. */
		r = SSL_write(c->ssl, data, (int)len);
		if (r > 0)
			return 0;
		r = ssl_wait(c, r, deadline, false);
		if (r != 1) {
			ERR_clear_error();
			return r < 0 ? r : -EPIPE;
		}
	}
}

static int send_response(struct conn *c, const struct wsop_response *resp, bool keep_alive)
{
	uint8_t *out = NULL;
	size_t out_len = 0;
	int r = exchange_format(resp, keep_alive, &out, &out_len);

	if (r != 0)
		return r;
	r = write_all(c, out, out_len);
	OPENSSL_clear_free(out, out_len);
	return r;
}

/* Discards what the client still sends, for a moment, before we close. */
static void drain(struct conn *c)
{
	uint8_t scratch[4096];
	int64_t end = mono_ms() + CONN_DRAIN_TIMEOUT_MS;
	size_t total = 0;

	(void)SSL_shutdown(c->ssl);
	ERR_clear_error();
	(void)shutdown(c->fd, SHUT_WR);
	while (total < CONN_DRAIN_MAX_BYTES) {
		if (wait_fd(c, POLLIN, end, false) < 0)
			return;
		ssize_t n = recv(c->fd, scratch, sizeof(scratch), MSG_DONTWAIT);
		if (n <= 0)
			return;
		total += (size_t)n;
	}
}

/* Handles one parsed request; false when the connection must close. */
static bool handle(struct conn *c, struct http_message *msg)
{
	struct wsop_response resp;
	int64_t start = mono_ms();
	bool keep;
	int r;

	reply_init(&resp);
	while (sem_wait(c->env->slots) != 0 && errno == EINTR)
		;
	exchange_route(c->env->app, &c->names, msg, &resp);
	sem_post(c->env->slots);
	/* The slow-down waits here: no slot, no lock held. */
	if (resp.delay_ms > 0)
		sleep_ms(resp.delay_ms);

	keep = msg->keep_alive && !resp.close && !stop_requested(c);
	r = send_response(c, &resp, keep);
	exchange_log(&c->names, msg, &resp, start);
	if (r != 0) {
		wlog(WLOG_WARNING, "cannot send the answer to %s (cn=%s)", c->names.peer,
		     c->names.cn);
		keep = false;
	}
	reply_free(&resp);
	return keep;
}

static void refuse_malformed(struct conn *c, int rc)
{
	struct wsop_response resp;

	reply_init(&resp);
	exchange_codec_error(rc, &resp);
	wlog(WLOG_WARNING, "refused a request from %s (cn=%s): %d %s", c->names.peer, c->names.cn,
	     resp.status, resp.note);
	if (send_response(c, &resp, false) == 0)
		drain(c);
	reply_free(&resp);
}

/* The deadline of the request that started at start: its head must be
 * complete within env->head_ms, the whole of it within
 * CONN_REQUEST_TIMEOUT_MS. */
static int64_t request_deadline(const struct conn *c, int64_t start)
{
	return start + (reqbuf_head_done(&c->in) ? CONN_REQUEST_TIMEOUT_MS : c->env->head_ms);
}

static void request_loop(struct conn *c)
{
	struct http_message msg;
	int64_t request_start = 0;
	int64_t idle_since = mono_ms();
	size_t used = 0;
	int r;

	http_message_init(&msg);
	for (;;) {
		if (c->in.len > 0) {
			r = http_parse_request(c->in.data, c->in.len, &msg, &used);
			if (r < 0) {
				refuse_malformed(c, r);
				return;
			}
			if (r == 1) {
				bool keep = handle(c, &msg);
				http_message_clear(&msg); /* wipes the body */
				reqbuf_consume(&c->in, used);
				if (!keep)
					return;
				request_start = idle_since = mono_ms();
				continue;
			}
		}
		if (c->in.len == 0) {
			/* Idle: a request starts with its first byte on the wire,
			 * even one of a TLS record not yet whole, or with bytes
			 * that read-ahead has already taken in (the handshake's
			 * last read may have brought them). */
			if (!SSL_has_pending(c->ssl)) {
				r = wait_fd(c, POLLIN, idle_since + c->env->idle_ms, true);
				if (r < 0) {
					/* Stopping, or the end of a keep-alive
					 * connection. */
					wlog(WLOG_DEBUG, "closing idle connection %s (cn=%s)",
					     c->names.peer, c->names.cn);
					return;
				}
			}
			request_start = mono_ms();
		}
		r = read_some(c, request_deadline(c, request_start), false);
		if (r > 0)
			continue;
		if (c->in.len == 0 && r != -ETIMEDOUT) {
			/* Closed between requests, cleanly or not. */
			wlog(WLOG_DEBUG, "connection closed by %s (cn=%s)", c->names.peer,
			     c->names.cn);
			return;
		}
		wlog(WLOG_WARNING, "dropping %s (cn=%s): %s with %zu bytes of a request unread",
		     c->names.peer, c->names.cn,
		     r == 0 ? "closed" : (r == -ETIMEDOUT ? "timed out" : "read failed"),
		     c->in.len);
		return;
	}
}

/* Runs the handshake until it ends or the deadline: 0 done, or negative
 * (reason written). */
static int handshake(struct conn *c, int64_t deadline, char *reason, size_t cap)
{
	for (;;) {
		int ret = SSL_accept(c->ssl);
		int r;

		if (ret == 1)
			return 0;
		r = ssl_wait(c, ret, deadline, true);
		if (r == 1)
			continue;
		if (r == -ETIMEDOUT)
			snprintf(reason, cap, "not done within %d ms of the accept (timed out)",
			         c->env->handshake_ms);
		else if (r == -ECANCELED)
			snprintf(reason, cap, "server stopping");
		else
			tls_failure_reason(c->ssl, ret, reason, cap);
		ERR_clear_error();
		return r < 0 ? r : -EPROTO;
	}
}

/* Over --max-clients: one 503 busy answer as soon as anything arrives,
 * or nothing if the client says nothing for a moment. */
static void refuse_busy(struct conn *c)
{
	struct wsop_response resp;

	reply_init(&resp);
	reply_error(&resp, WSOP_E_BUSY, "too many clients, try again later");
	/* The request may already sit in the read-ahead buffer. */
	if ((SSL_has_pending(c->ssl) == 1 ||
	     wait_fd(c, POLLIN, mono_ms() + BUSY_TIMEOUT_MS, true) == 1) &&
	    send_response(c, &resp, false) == 0)
		drain(c);
	reply_free(&resp);
}

void conn_serve(const struct conn_env *env, int fd, const char *peer, int64_t accepted_ms,
                void *arg)
{
	struct conn c = { .env = env, .fd = fd };
	char reason[256];
	bool verified = false;
	enum conn_admit admit;

	snprintf(c.names.peer, sizeof(c.names.peer), "%s", peer);
	snprintf(c.names.cn, sizeof(c.names.cn), "-");
	reason[0] = '\0';
	c.ssl = SSL_new(env->tls);
	if (c.ssl != NULL) {
		/* A record's header and body in one read(), not two; the
		 * request loop looks at SSL_has_pending() before it polls.
		 * Room for several records: a large request's in a few reads,
		 * not one per 16 KiB record. */
		SSL_set_read_ahead(c.ssl, 1);
		SSL_set_default_read_buffer_len(c.ssl, CONN_READ_AHEAD);
	}
	if (c.ssl == NULL || SSL_set_fd(c.ssl, fd) != 1)
		wlog(WLOG_ERROR, "cannot set up TLS for %s", peer);
	else if (handshake(&c, accepted_ms + env->handshake_ms, reason, sizeof(reason)) == 0)
		verified = tls_client_identity(c.ssl, c.names.client_fp, c.names.client_id,
		                               c.names.cn) == 0;
	/* Always called, and before close(fd): until then the server may shut
	 * this socket down to end the handshake. */
	admit = env->handshake_done(arg, verified);
	if (reason[0] != '\0')
		wlog(admit == CONN_EVICTED ? WLOG_DEBUG : WLOG_WARNING,
		     "TLS handshake with %s failed: %s", peer, reason);
	else if (c.ssl != NULL && !verified)
		wlog(WLOG_WARNING, "refused %s: no client certificate after the handshake", peer);
	if (verified) {
		tls_client_names(c.ssl, c.names.subject, c.names.serial);
		wlog(WLOG_DEBUG, "TLS connection from %s (cn=%s, %s)", peer, c.names.cn,
		     SSL_get_version(c.ssl));
		ERR_clear_error();
		if (admit == CONN_SERVE && env->adopt != NULL &&
		    env->adopt(arg, c.ssl, fd, &c.names))
			return;
		if (admit == CONN_SERVE) {
			request_loop(&c);
			(void)SSL_shutdown(c.ssl);
		} else if (admit == CONN_BUSY) {
			refuse_busy(&c);
		}
	}
	ERR_clear_error();
	SSL_free(c.ssl);
	reqbuf_free(&c.in);
	close(fd);
}
