/* The request road under each pooled client; see retry_transport.h. */
#include "lib/retry_transport.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ipc/mono_clock.h"
#include "conf/log.h"
#include "lib/busy_answer.h"
#include "lib/req_batch.h"
#include "lib/tcp_connect.h"

/* A CLOSE waits at most this long for room in the channel (never past
 * the call's deadline); its answer is not waited for. */
#define CLOSE_SEND_MS 100
/* After a 503 busy: 100 ms, doubling, at most 1 s, plus up to half again
 * at random so that many waiting clients do not come back together. */
#define BUSY_BACKOFF_MS     100
#define BUSY_BACKOFF_MAX_MS 1000
/* RECV asks the helper to give up this much before our own deadline, so
 * its TIMEOUT answer arrives before we stop waiting. */
#define RECV_MARGIN_MS 200

/* The outcome of one attempt, for the retry decision and the log. */
struct attempt {
	int err;           /* negative errno */
	bool retryable;    /* the connection failed before any answer byte */
	bool stale;        /* could be a pooled connection the server dropped */
	bool at_once;      /* retry without RETRYDELAY: the helper failed, not the network */
	bool busy;         /* the server answered 503 (bc->pend holds the answer) */
	bool answered;     /* busy, or a 5xx moved to another server: bc->pend holds it */
	bool server_fault; /* the server (or the way to it) failed: set it aside */
	char cause[CHAN_ERROR_TEXT_MAX + 64];
};

/* Fills a from an ERROR frame. */
static void from_error_frame(const struct chan_frame *f, struct attempt *a)
{
	struct chan_error_info e;
	if (chan_error_parse(f, &e) != 0) {
		e.code = CHAN_E_INTERNAL;
		e.text[0] = '\0';
	}
	const struct chan_error_row *row = chan_error_row(e.code);
	a->err = -row->err;
	a->retryable = row->retry;
	a->stale = row->stale;
	a->server_fault = row->server;
	snprintf(a->cause, sizeof(a->cause), "%s%s%s%s", row->cause, e.text[0] ? " (" : "", e.text,
	         e.text[0] ? ")" : "");
}

static int64_t left_ms(const struct bconn *bc)
{
	return bc->deadline_ms - mono_ms();
}

static int close_wait_ms(const struct bconn *bc)
{
	int64_t left = left_ms(bc);
	return left <= 0 ? 0 : left < CLOSE_SEND_MS ? (int)left : CLOSE_SEND_MS;
}

void retry_transport_drop(struct bconn *bc, bool say_close)
{
	struct pconn *pc = bc->pc;
	bc->pend = NULL;
	bc->pend_len = 0;
	if (pc == NULL || pc->sess == NULL)
		return;
	struct hsess *s = pc->sess;
	if (say_close && pc->handle && !chan_mux_dead(s->mux)) {
		struct chan_frame req = { .type = CHAN_T_CLOSE, .conn = pc->handle };
		(void)chan_mux_post(s->mux, &req, close_wait_ms(bc));
	}
	pc->handle = 0;
	pc->sess = NULL;
	backend_sess_put(bc->be, s);
}

void retry_transport_clear(struct bconn *bc)
{
	bc->req = NULL;
	bc->req_len = 0;
	if (bc->abuf_len > 0) {
		/* A batched answer (a decrypt's plaintext, say): the client has
		 * its copy by now. */
		OPENSSL_cleanse(bc->abuf, bc->abuf_len);
		bc->abuf_len = 0;
	}
}

/* A helper call that failed at the channel level: note it in a. A hung
 * helper (chan_mux.h) is killed here; a dead one reaped. */
static void channel_failure(struct bconn *bc, int rc, bool sent, struct attempt *a)
{
	struct hsess *s = bc->pc->sess;
	bool hung = chan_mux_hung(s->mux);
	if (rc == -ETIMEDOUT) {
		/* The attempt's TIMEOUT passed: the next attempt has its own.
		 * A hung helper is replaced, and that needs no RETRYDELAY. */
		if (hung)
			backend_sess_fail(bc->be, s, true);
		a->err = -ETIMEDOUT;
		a->retryable = true;
		a->at_once = hung;
		a->server_fault = !hung;
		snprintf(a->cause, sizeof(a->cause), "%s",
		         hung ? "timed out (the helper stopped answering)" : "timed out");
		return;
	}
	backend_sess_fail(bc->be, s, hung);
	/* A request that never reached the helper is safe to send on a new
	 * one. So is one the dead helper had: it is sent again with the same
	 * bytes, so the same Idempotency-Key, and the server does it once. */
	a->err = sent ? -ECONNABORTED : -EPIPE;
	a->retryable = true;
	a->at_once = true;
	a->stale = !sent;
	snprintf(a->cause, sizeof(a->cause), "%s", hung ? "helper hung" : "helper died");
}

/* The server of a new connection for bc's request (server_pick.h). */
static unsigned choose_server(struct bconn *bc)
{
	struct backend *be = bc->be;
	if (be->cfg.n_servers < 2)
		return 0;
	bool aside_ended = false;
	pthread_mutex_lock(&be->lock);
	unsigned i = server_pick_choose(&be->pick, bc->avoid, mono_ms(), &aside_ended);
	pthread_mutex_unlock(&be->lock);
	if (aside_ended)
		wlog(WLOG_INFO, "%s:%u: its time set aside is over; trying it again",
		     be->cfg.servers[i].host, be->cfg.servers[i].port);
	return i;
}

/* TCP connect + CONNECT, when bc has no live connection. */
static int ensure_conn(struct bconn *bc, bool *fresh, struct attempt *a)
{
	struct pconn *pc = bc->pc;
	if (pc->sess && chan_mux_dead(pc->sess->mux))
		retry_transport_drop(bc, false);
	if (pc->handle) {
		*fresh = false;
		return 0;
	}
	*fresh = true;
	if (pc->sess == NULL) {
		int64_t left = left_ms(bc);
		int rc = left <= 0
		             ? -ETIMEDOUT
		             : backend_sess_get(bc->be, left > INT32_MAX ? INT32_MAX : (int)left,
		                                &pc->sess);
		if (rc) {
			pc->sess = NULL;
			a->err = rc;
			/* One that died before it was ready (killed, crashed) is
			 * started again within the retries; one that refused its
			 * credentials or configuration would only refuse again. */
			a->retryable = a->at_once = rc == -ECHILD;
			snprintf(a->cause, sizeof(a->cause), "the helper could not be started");
			return rc;
		}
	}
	const struct wsop_config *cfg = &bc->be->cfg;
	int fd;
	pc->server = choose_server(bc);
	const struct config_server *srv = &cfg->servers[pc->server];
	int rc =
	    tcp_connect(srv->host, srv->port, bc->deadline_ms, &fd, a->cause, sizeof(a->cause));
	if (rc) {
		a->err = rc;
		a->retryable = rc != -EINVAL;
		a->server_fault = true;
		return rc;
	}
	struct chan_frame req = { .type = CHAN_T_CONNECT,
		                  .payload = (const uint8_t *)srv->host,
		                  .len = (uint32_t)strlen(srv->host) };
	struct chan_frame ans;
	rc = chan_mux_call(pc->sess->mux, &req, fd, bc->deadline_ms, pc->fbuf, &ans);
	/* The helper has its own duplicate now (or never will). */
	close(fd);
	if (rc) {
		/* Whatever became of the helper, the request itself has not
		 * been sent: no retry is counted for it. */
		channel_failure(bc, rc, false, a);
		return a->err;
	}
	if (ans.type == CHAN_T_CONNECTED && ans.conn != 0) {
		char proto[CHAN_PROTO_MAX + 1];
		if (chan_payload_text(&ans, proto, sizeof(proto)) != 0)
			proto[0] = '\0';
		pc->handle = ans.conn;
		wlog(WLOG_DEBUG, "connected to %s:%u (%s), handle %u", srv->host, srv->port, proto,
		     ans.conn);
		return 0;
	}
	if (ans.type == CHAN_T_ERROR) {
		from_error_frame(&ans, a);
		a->stale = false;
	} else {
		a->err = -EIO;
		snprintf(a->cause, sizeof(a->cause), "helper answered CONNECT with %s",
		         chan_type_name(ans.type));
	}
	return a->err;
}

/* Sends the request; the last chunk asks for the first answer bytes. */
static int send_request(struct bconn *bc, struct attempt *a)
{
	struct pconn *pc = bc->pc;
	size_t off = 0;
	while (off < bc->req_len) {
		size_t n = bc->req_len - off;
		if (n > CHAN_MAX_PAYLOAD)
			n = CHAN_MAX_PAYLOAD;
		bool last = off + n == bc->req_len;
		struct chan_frame req = { .type = CHAN_T_SEND,
			                  .flags = last ? CHAN_F_REPLY_DATA : 0,
			                  .conn = pc->handle,
			                  .payload = bc->req + off,
			                  .len = (uint32_t)n };
		struct chan_frame ans;
		int rc = chan_mux_call(pc->sess->mux, &req, -1, bc->deadline_ms, pc->fbuf, &ans);
		if (rc) {
			channel_failure(bc, rc, rc != -EPIPE, a);
			return a->err;
		}
		off += n;
		if (ans.type == CHAN_T_SENT && !last)
			continue;
		if (ans.type == CHAN_T_DATA && last) {
			bc->pend = ans.payload;
			bc->pend_len = ans.len;
			if (busy_answer(ans.payload, ans.len)) {
				a->err = -EBUSY;
				a->busy = a->answered = a->retryable = true;
				snprintf(a->cause, sizeof(a->cause), "server busy (503)");
				return a->err;
			}
			/* With one server a failure answer is the caller's to
			 * read, as always; with several, another may serve. */
			if (bc->be->cfg.n_servers < 2 ||
			    !failed_server_answer(ans.payload, ans.len))
				return 0;
			a->err = -EREMOTEIO;
			a->answered = a->retryable = a->server_fault = true;
			snprintf(a->cause, sizeof(a->cause), "server failed (HTTP %.3s)",
			         (const char *)ans.payload + 9);
			return a->err;
		}
		if (ans.type == CHAN_T_EOF) {
			a->err = -ECONNRESET;
			a->retryable = a->stale = a->server_fault = true;
			snprintf(a->cause, sizeof(a->cause), "connection closed by the server");
		} else if (ans.type == CHAN_T_ERROR) {
			from_error_frame(&ans, a);
		} else {
			a->err = -EIO;
			snprintf(a->cause, sizeof(a->cause), "helper answered SEND with %s",
			         chan_type_name(ans.type));
		}
		return a->err;
	}
	return -EINVAL; /* an empty request: the client never sends one */
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int64_t busy_backoff_ms(const struct bconn *bc)
{
	unsigned r = bc->retries;
	int64_t ms = BUSY_BACKOFF_MS << (r < 4 ? r : 4);
	if (ms > BUSY_BACKOFF_MAX_MS)
		ms = BUSY_BACKOFF_MAX_MS;
	uint16_t rnd = 0;
	if (RAND_bytes((unsigned char *)&rnd, sizeof(rnd)) != 1)
		rnd = 0;
	ms += (int64_t)rnd % (ms / 2 + 1);
	/* Never longer than RETRYDELAY, so that the documented worst case of
	 * a call holds for busy answers too. */
	int64_t cap = (int64_t)bc->be->cfg.retrydelay * 1000;
	return ms < cap ? ms : cap;
}

/* "10 s" or "250 ms", for the log. */
static void delay_text(int64_t ms, char *buf, size_t cap)
{
	if (ms % 1000 == 0)
		snprintf(buf, cap, "%lld s", (long long)(ms / 1000));
	else
		snprintf(buf, cap, "%lld ms", (long long)ms);
}

/* The server of bc's current (or last) connection. */
static const struct config_server *server_of(const struct bconn *bc)
{
	return &bc->be->cfg.servers[bc->pc ? bc->pc->server : 0];
}

/* With several servers: the one a failed is set aside (when it was its
 * fault) and is avoided by the request's next attempt; "" or words for the
 * log into aside[cap]. */
static void note_failure(struct bconn *bc, const struct attempt *a, char *aside, size_t cap)
{
	struct backend *be = bc->be;
	aside[0] = '\0';
	if (be->cfg.n_servers < 2 || bc->pc == NULL)
		return;
	unsigned i = bc->pc->server;
	/* A batch's attempt leaves the verdict to the usual road. */
	if (a->server_fault && !bc->quiet) {
		pthread_mutex_lock(&be->lock);
		int64_t ms =
		    server_pick_failed(&be->pick, i, (int64_t)be->cfg.retrydelay * 1000, mono_ms());
		pthread_mutex_unlock(&be->lock);
		char d[32];
		delay_text(ms, d, sizeof(d));
		snprintf(aside, cap, "; set aside for %s", d);
	}
	if (a->server_fault || a->busy)
		bc->avoid = (int)i;
}

/* A good answer: the server is healthy again. */
static void note_success(struct bconn *bc)
{
	struct backend *be = bc->be;
	if (be->cfg.n_servers < 2)
		return;
	pthread_mutex_lock(&be->lock);
	server_pick_ok(&be->pick, bc->pc->server);
	pthread_mutex_unlock(&be->lock);
}

/* Attempt bc->retries + 1 failed with a and another follows: the server is
 * noted, the next one chosen (another healthy server at once; the same, or
 * one set aside, after the delay: none for a helper failure, the busy
 * back-off for a 503, RETRYDELAY otherwise), one WARNING line says why and
 * where to, and the next attempt starts with a TIMEOUT of its own. what:
 * "request to" or "reading the answer from". */
static void next_attempt(struct bconn *bc, const char *what, const struct attempt *a)
{
	struct backend *be = bc->be;
	const struct wsop_config *cfg = &be->cfg;
	const struct config_server *from = server_of(bc);
	char aside[64], delay_words[32], to_words[CONFIG_HOST_MAX + 32] = "again";
	note_failure(bc, a, aside, sizeof(aside));
	int64_t delay = a->at_once ? 0
	                : a->busy  ? busy_backoff_ms(bc)
	                           : (int64_t)cfg->retrydelay * 1000;
	if (cfg->n_servers > 1) {
		int64_t now = mono_ms();
		pthread_mutex_lock(&be->lock);
		unsigned to = server_pick_choose(&be->pick, bc->avoid, now, NULL);
		bool healthy = !server_pick_aside(&be->pick, to, now);
		pthread_mutex_unlock(&be->lock);
		const struct config_server *next = &cfg->servers[to];
		if (next != from) {
			snprintf(to_words, sizeof(to_words), "%s:%u", next->host, next->port);
			if (healthy)
				delay = 0;
		}
	}
	delay_text(delay, delay_words, sizeof(delay_words));
	wlog(bc->quiet ? WLOG_DEBUG : WLOG_WARNING,
	     "%s %s:%u failed: %s (attempt %u of %u)%s; trying %s in %s", what, from->host,
	     from->port, a->cause, bc->retries + 1, cfg->maxretries + 1, aside, to_words,
	     delay_words);
	sleep_ms(delay);
	bc->retries++;
	bc->deadline_ms = mono_ms() + (int64_t)cfg->timeout * 1000;
}

/* The last attempt failed with a: one ERROR line with the cause and why it
 * was the last. */
static void give_up(struct bconn *bc, const char *what, const struct attempt *a)
{
	const struct wsop_config *cfg = &bc->be->cfg;
	const struct config_server *srv = server_of(bc);
	char aside[64];
	note_failure(bc, a, aside, sizeof(aside));
	wlog(bc->quiet ? WLOG_DEBUG : WLOG_ERROR, "%s %s:%u failed: %s (attempt %u of %u)%s; %s",
	     what, srv->host, srv->port, a->cause, bc->retries + 1, cfg->maxretries + 1, aside,
	     a->retryable ? "no retries left"
	                  : "not retried: another attempt would fail the same way");
	snprintf(bc->cause, sizeof(bc->cause), "%s", a->cause);
}

/* One request, with the retry policy. */
static int exchange(struct bconn *bc)
{
	const struct wsop_config *cfg = &bc->be->cfg;
	bool replaced_stale = false;

	for (;;) {
		struct attempt a = { .err = -EIO };
		bool fresh = true;
		int rc = ensure_conn(bc, &fresh, &a);
		if (rc == 0)
			rc = send_request(bc, &a);
		if (rc == 0) {
			note_success(bc);
			return 0;
		}
		if (a.answered) {
			if (bc->retries >= cfg->maxretries) {
				give_up(bc, "request to", &a);
				return 0; /* the client reads the answer */
			}
			/* Not read to its end: the connection cannot serve
			 * another request (and a busy server closes it). */
			retry_transport_drop(bc, true);
			next_attempt(bc, "request to", &a);
			continue;
		}
		bool reuse_failed = !fresh && a.stale;
		retry_transport_drop(bc, true);
		if (a.err == -EPIPE || (reuse_failed && !replaced_stale && a.retryable)) {
			/* A keep-alive connection the server dropped, or a
			 * helper that died between calls: not the request's
			 * fault, so it does not count as a retry. */
			wlog(WLOG_DEBUG, "connection to %s:%u was stale (%s): replacing it",
			     server_of(bc)->host, server_of(bc)->port, a.cause);
			replaced_stale = true;
			if (a.err != -EPIPE || left_ms(bc) > 0)
				continue;
		}
		if (a.err == -EPIPE)
			a.err = -ECONNABORTED;
		if (!a.retryable || bc->retries >= cfg->maxretries) {
			give_up(bc, "request to", &a);
			return a.err;
		}
		next_attempt(bc, "request to", &a);
	}
}

/* A new request on bc: 0, or -EINVAL for an empty one. */
static int start_request(struct bconn *bc, const uint8_t *data, size_t len)
{
	retry_transport_clear(bc);
	if (len == 0)
		return -EINVAL;
	/* Borrowed, not copied: the client keeps it until the answer has
	 * been read (wsop_transport.h). */
	bc->req = data;
	bc->req_len = len;
	bc->deadline_ms = mono_ms() + (int64_t)bc->be->cfg.timeout * 1000;
	bc->eof = false;
	bc->pend = NULL;
	bc->pend_len = 0;
	bc->retries = 0;
	bc->avoid = -1;
	bc->cause[0] = '\0';
	return 0;
}

/* The request on the usual road: bc's own connection slot, the retry
 * policy. */
static int send_alone(struct bconn *bc)
{
	int rc = 0;
	if (bc->pc == NULL) {
		/* Wait for one of the process's connection slots. */
		rc = backend_conn_take(bc->be, bc->deadline_ms, &bc->pc);
		if (rc == -ETIMEDOUT)
			snprintf(bc->cause, sizeof(bc->cause),
			         "timed out waiting for a free connection");
		if (rc == -ETIMEDOUT)
			wlog(WLOG_ERROR,
			     "request to %s:%u: timed out waiting for one of the %u connections",
			     server_of(bc)->host, server_of(bc)->port, BACKEND_MAX_CONNS);
	}
	if (rc == 0)
		rc = exchange(bc);
	/* The request is remembered until the next one or the release in
	 * case the helper dies while the answer is read: see t_recv_some. */
	if (rc)
		retry_transport_clear(bc);
	return rc;
}

static int t_send_all(void *ctx, const uint8_t *data, size_t len)
{
	struct bconn *bc = ctx;
	int rc = start_request(bc, data, len);
	return rc ? rc : send_alone(bc);
}

/* With other threads' short requests when batching is on; alone when
 * that fails (req_batch.h). */
static int t_send_quick(void *ctx, const uint8_t *data, size_t len)
{
	struct bconn *bc = ctx;
	int rc = start_request(bc, data, len);
	if (rc)
		return rc;
	if (req_batch_call(bc->be->batch, bc) == 0)
		return 0;
	/* Alone, with all of its time: the batch's is not counted. */
	rc = start_request(bc, data, len);
	return rc ? rc : send_alone(bc);
}

static ssize_t hand_out(struct bconn *bc, uint8_t *buf, size_t cap)
{
	size_t n = bc->pend_len < cap ? bc->pend_len : cap;
	memcpy(buf, bc->pend, n);
	bc->pend += n;
	bc->pend_len -= (uint32_t)n;
	return (ssize_t)n;
}

/* The answer failed part-way (or never came): the helper died, the
 * connection was reset or closed by the server or the network, or the
 * attempt's TIMEOUT passed. The server acted (or will), so the same bytes,
 * with the same Idempotency-Key, are sent again while retries remain (after
 * delay_ms: RETRYDELAY for the network, none for a dead helper); the server
 * answers the same way and the client reads that answer from its start
 * (-ERESTART). Every mutating request carries a key and the others change
 * nothing, so repeating one is always safe. Otherwise the connection, at an
 * unknown point of its stream, is dropped and err returned. */
static ssize_t retry_or_fail(struct bconn *bc, const struct attempt *a)
{
	const char *what = "reading the answer from";
	if (a->retryable && bc->req && bc->retries < bc->be->cfg.maxretries) {
		retry_transport_drop(bc, true);
		next_attempt(bc, what, a);
		bc->eof = false;
		int rc = exchange(bc);
		if (rc == 0)
			return -ERESTART;
		/* exchange() said why. */
		retry_transport_clear(bc);
		return rc;
	}
	give_up(bc, what, a);
	retry_transport_drop(bc, true);
	return a->err;
}

/* An attempt that failed while its answer was read. */
static struct attempt recv_failure(int err, const char *cause, bool retryable, bool server_fault)
{
	struct attempt a = { .err = err, .retryable = retryable, .server_fault = server_fault };
	snprintf(a.cause, sizeof(a.cause), "%s", cause);
	return a;
}

static ssize_t t_recv_some(void *ctx, uint8_t *buf, size_t cap, int timeout_ms)
{
	struct bconn *bc = ctx;
	if (cap == 0)
		return -EINVAL;
	if (bc->pend_len > 0)
		return hand_out(bc, buf, cap);
	if (bc->eof)
		return 0;
	struct pconn *pc = bc->pc;
	if (!pc || !pc->sess || !pc->handle)
		return -ENOTCONN;
	int64_t left = left_ms(bc);
	if (timeout_ms < left)
		left = timeout_ms;
	if (left <= 0) {
		/* Only the attempt's own TIMEOUT makes a retry; the caller's
		 * shorter wait is the caller's. */
		bool own = left_ms(bc) <= 0;
		struct attempt a = recv_failure(-ETIMEDOUT, "timed out", own, own);
		return retry_or_fail(bc, &a);
	}
	int64_t helper_wait = left > RECV_MARGIN_MS ? left - RECV_MARGIN_MS : 0;
	if (helper_wait > CHAN_RECV_TIMEOUT_MAX)
		helper_wait = CHAN_RECV_TIMEOUT_MAX;
	uint8_t args[CHAN_RECV_ARGS_LEN];
	struct chan_recv_args ra = {
		.max_bytes = (uint32_t)(cap < CHAN_MAX_PAYLOAD ? cap : CHAN_MAX_PAYLOAD),
		.timeout_ms = (uint32_t)helper_wait
	};
	if (chan_recv_args_encode(&ra, args) != 0)
		return -EINVAL;
	struct chan_frame req = {
		.type = CHAN_T_RECV, .conn = pc->handle, .payload = args, .len = sizeof(args)
	};
	struct chan_frame ans;
	int rc = chan_mux_call(pc->sess->mux, &req, -1, mono_ms() + left, pc->fbuf, &ans);
	if (rc) {
		struct attempt a = { .err = rc };
		channel_failure(bc, rc, true, &a);
		return retry_or_fail(bc, &a);
	}
	switch (ans.type) {
	case CHAN_T_DATA:
		bc->pend = ans.payload;
		bc->pend_len = ans.len;
		return hand_out(bc, buf, cap);
	case CHAN_T_EOF: {
		/* Answers carry their length, so a close while one is read
		 * cuts it. */
		struct attempt a =
		    recv_failure(-ECONNRESET, "connection closed by the server", true, true);
		return retry_or_fail(bc, &a);
	}
	case CHAN_T_ERROR: {
		struct attempt a = { .err = -EIO };
		from_error_frame(&ans, &a);
		return retry_or_fail(bc, &a);
	}
	default: {
		struct attempt a =
		    recv_failure(-EIO, "unexpected answer from the helper", false, false);
		return retry_or_fail(bc, &a);
	}
	}
}

void retry_transport_bind(struct bconn *bc, struct wsop_transport *t)
{
	t->ctx = bc;
	t->send_all = t_send_all;
	t->send_quick = t_send_quick;
	t->recv_some = t_recv_some;
}

int retry_transport_exchange(struct bconn *bc)
{
	return exchange(bc);
}

ssize_t retry_transport_recv(struct bconn *bc, uint8_t *buf, size_t cap, int timeout_ms)
{
	return t_recv_some(bc, buf, cap, timeout_ms);
}
