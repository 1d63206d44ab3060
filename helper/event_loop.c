/* The helper's event loop and connection table; see event_loop.h. */
#include "helper/event_loop.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ipc/mono_clock.h"
#include "conf/log.h"
#include "helper/reply.h"
#include "helper/server_socket.h"
#include "helper/tls_conn.h"
#include "ipc/channel.h"

/* Frames taken from the channel per poll round, so that a busy library
 * cannot starve the connections waiting for their server. */
#define FRAMES_PER_ROUND 32
/* How long the rest of an answer is waited for after a full record (see
 * drive_read): the records of one answer follow each other within
 * microseconds; only an answer that ends exactly on a record boundary
 * waits this long. */
#define HOLD_MS 2

enum op_kind {
	OP_NONE = 0,
	OP_HANDSHAKE, /* CONNECT in progress */
	OP_WRITE,     /* SEND: writing out[] */
	OP_READ,      /* RECV, or the answer part of SEND with REPLY_DATA */
};

struct conn {
	uint32_t handle; /* 0: free slot */
	struct tls_conn tls;
	char host[CHAN_HOST_MAX + 1];
	enum op_kind op;
	uint32_t op_id;
	bool reply_after_write;
	uint8_t *out; /* the SEND payload left to write after a wait, or NULL */
	size_t out_len;
	size_t read_max;
	size_t in_len; /* answer bytes read (held in data[] when the holder) */
	int64_t hold_until_ms;
	bool has_deadline;
	int64_t deadline_ms;
	short want; /* POLLIN or POLLOUT while the op waits */
};

struct loop {
	struct creds *creds;
	int chan;
	bool failed;    /* an answer could not be sent: stop */
	bool chan_busy; /* the channel had frames in the previous round too */
	bool openat_armed;
	const struct config_server *servers;
	size_t n_servers;
	uint32_t next_handle;
	struct conn conns[EVENT_LOOP_MAX_CONNS];
	struct conn *holder; /* its answer waits in data[] when its in_len > 0 */
	uint8_t frame[CHAN_MAX_FRAME];
	uint8_t data[CHAN_MAX_PAYLOAD];
};

static void check_sent(struct loop *lp, int rc)
{
	if (rc != 0) {
		wlog(WLOG_ERROR, "helper: cannot answer the library: %s", strerror(-rc));
		lp->failed = true;
	}
}

static struct conn *find_conn(struct loop *lp, uint32_t handle)
{
	for (size_t i = 0; handle != 0 && i < EVENT_LOOP_MAX_CONNS; i++) {
		if (lp->conns[i].handle == handle)
			return &lp->conns[i];
	}
	return NULL;
}

static void op_clear(struct conn *c)
{
	c->in_len = 0;
	free(c->out);
	c->out = NULL;
	c->out_len = 0;
	c->op = OP_NONE;
	c->op_id = 0;
	c->want = 0;
	c->has_deadline = false;
	c->reply_after_write = false;
}

static void conn_free(struct conn *c)
{
	op_clear(c);
	tls_conn_end(&c->tls);
	memset(c, 0, sizeof(*c));
	c->tls.fd = -1;
}

static struct conn *free_slot(struct loop *lp)
{
	for (size_t i = 0; i < EVENT_LOOP_MAX_CONNS; i++) {
		if (lp->conns[i].handle == 0)
			return &lp->conns[i];
	}
	return NULL;
}

/* A handle unused in the table, never 0. */
static uint32_t new_handle(struct loop *lp)
{
	for (;;) {
		uint32_t h = lp->next_handle++;
		if (h != 0 && find_conn(lp, h) == NULL)
			return h;
	}
}

static void op_failed(struct loop *lp, struct conn *c, const struct tls_failure *why)
{
	wlog(WLOG_ERROR, "connection %u to %s: %s (%s)", c->handle, c->host, why->text,
	     chan_error_name(why->code));
	check_sent(lp, reply_error(lp->chan, c->op_id, c->handle, why->code, why->text));
	op_clear(c);
}

static void drive_handshake(struct loop *lp, struct conn *c)
{
	struct tls_failure why;
	enum tls_step step = tls_conn_handshake(&c->tls, &why);

	if (step == TLS_STEP_WANT_READ || step == TLS_STEP_WANT_WRITE) {
		c->want = step == TLS_STEP_WANT_READ ? POLLIN : POLLOUT;
		return;
	}
	if (step == TLS_STEP_DONE) {
		wlog(WLOG_DEBUG, "connection %u to %s: TLS handshake done (%s, %s)", c->handle,
		     c->host, tls_conn_protocol(&c->tls), tls_conn_cipher(&c->tls));
		check_sent(
		    lp, reply_connected(lp->chan, c->op_id, c->handle, tls_conn_protocol(&c->tls)));
		op_clear(c);
		return;
	}
	/* A failed CONNECT gives out no handle: the answer carries conn 0. */
	wlog(WLOG_ERROR, "connection to %s: TLS handshake failed: %s (%s)", c->host, why.text,
	     chan_error_name(why.code));
	check_sent(lp, reply_error(lp->chan, c->op_id, 0, why.code, why.text));
	conn_free(c);
}

/* Where c's answer bytes go. data[] holds the answer of at most one
 * connection that waits for more (the holder); another one reads into the
 * frame buffer, whose frame has been dispatched by the time any
 * connection reads, and answers at once. So the helper keeps no buffer
 * per connection. */
static uint8_t *answer_buffer(struct loop *lp, const struct conn *c)
{
	if (lp->holder == NULL || lp->holder == c || lp->holder->in_len == 0)
		return lp->data;
	return lp->frame;
}

/* Answers the c->in_len bytes in buf and ends the request. */
static void answer_held(struct loop *lp, struct conn *c, const uint8_t *buf)
{
	check_sent(lp, reply_data(lp->chan, c->op_id, c->handle, buf, c->in_len));
	op_clear(c);
}

/* Holding the bytes read so far for more of the same answer: only after a
 * full record, with room left, and before the request's own deadline (a
 * RECV with timeout 0 never waits). */
static bool may_hold(const struct conn *c, int64_t now)
{
	return tls_conn_mid_stream(&c->tls) && c->in_len < c->read_max &&
	       (!c->has_deadline || now < c->deadline_ms);
}

static void drive_read(struct loop *lp, struct conn *c)
{
	struct tls_failure why;
	size_t n = 0;
	uint8_t *buf = answer_buffer(lp, c);
	enum tls_step step =
	    tls_conn_read(&c->tls, buf + c->in_len, c->read_max - c->in_len, &n, &why);
	int64_t now = mono_ms();

	if (step != TLS_STEP_DONE && c->in_len > 0 &&
	    (step != TLS_STEP_WANT_READ || !may_hold(c, now) || now >= c->hold_until_ms)) {
		/* What stopped the read shows again on the next one. */
		answer_held(lp, c, buf);
		return;
	}
	switch (step) {
	case TLS_STEP_DONE:
		c->in_len += n;
		if (buf == lp->data && may_hold(c, now)) {
			/* The server sends an answer's records one after
			 * the other: wait a moment for the rest, so that it
			 * crosses the channel in one DATA rather than in a
			 * round trip of the library's per record. */
			lp->holder = c;
			c->hold_until_ms = now + HOLD_MS;
			c->want = POLLIN;
			return;
		}
		answer_held(lp, c, buf);
		return;
	case TLS_STEP_EOF:
		wlog(WLOG_DEBUG, "connection %u to %s: the server closed it", c->handle, c->host);
		check_sent(lp, reply_empty(lp->chan, CHAN_T_EOF, c->op_id, c->handle));
		op_clear(c);
		return;
	case TLS_STEP_WANT_READ:
	case TLS_STEP_WANT_WRITE:
		if (c->in_len == 0 && c->has_deadline && now >= c->deadline_ms) {
			check_sent(lp, reply_error(lp->chan, c->op_id, c->handle, CHAN_E_TIMEOUT,
			                           "no data from the server in time"));
			op_clear(c);
			return;
		}
		c->want = step == TLS_STEP_WANT_READ ? POLLIN : POLLOUT;
		return;
	case TLS_STEP_FAILED:
		op_failed(lp, c, &why);
		return;
	}
}

/* One try at writing buf (the SEND's payload: in the frame buffer on the
 * first try, in c->out after a wait). A write that has to wait keeps a
 * copy, since the frame buffer takes the next frame. */
static void write_step(struct loop *lp, struct conn *c, const uint8_t *buf, size_t len)
{
	struct tls_failure why;
	enum tls_step step = tls_conn_write(&c->tls, buf, len, &why);

	if (step == TLS_STEP_WANT_READ || step == TLS_STEP_WANT_WRITE) {
		if (c->out == NULL) {
			c->out = malloc(len);
			if (c->out == NULL) {
				why.code = CHAN_E_INTERNAL;
				snprintf(why.text, sizeof(why.text), "out of memory");
				op_failed(lp, c, &why);
				return;
			}
			memcpy(c->out, buf, len);
			c->out_len = len;
		}
		c->want = step == TLS_STEP_WANT_READ ? POLLIN : POLLOUT;
		return;
	}
	if (step != TLS_STEP_DONE) {
		op_failed(lp, c, &why);
		return;
	}
	free(c->out);
	c->out = NULL;
	c->out_len = 0;
	if (!c->reply_after_write) {
		check_sent(lp, reply_empty(lp->chan, CHAN_T_SENT, c->op_id, c->handle));
		op_clear(c);
		return;
	}
	c->op = OP_READ;
	c->read_max = CHAN_MAX_PAYLOAD;
	c->has_deadline = false;
	/* The server cannot have answered bytes written a moment ago: wait
	 * for them instead of a read() that would find nothing. */
	if (tls_conn_has_pending(&c->tls))
		drive_read(lp, c);
	else
		c->want = POLLIN;
}

static void drive_write(struct loop *lp, struct conn *c)
{
	write_step(lp, c, c->out, c->out_len);
}

static void drive(struct loop *lp, struct conn *c)
{
	c->want = 0;
	switch (c->op) {
	case OP_HANDSHAKE:
		drive_handshake(lp, c);
		break;
	case OP_WRITE:
		drive_write(lp, c);
		break;
	case OP_READ:
		drive_read(lp, c);
		break;
	case OP_NONE:
		break;
	}
}

/* The configured host that the library named, or NULL: the name checked
 * in the certificate always comes from the helper's configuration. */
static const char *configured_host(const struct loop *lp, const char *named)
{
	for (size_t i = 0; i < lp->n_servers; i++) {
		if (strcmp(lp->servers[i].host, named) == 0)
			return lp->servers[i].host;
	}
	return NULL;
}

/* Refuses a CONNECT before any TLS byte: closes fd, logs, answers. */
static void refuse_connect(struct loop *lp, const struct chan_frame *f, int fd, uint32_t code,
                           const char *text)
{
	close(fd);
	wlog(WLOG_ERROR, "helper: CONNECT refused: %s", text);
	check_sent(lp, reply_error(lp->chan, f->id, 0, code, text));
}

static void on_connect(struct loop *lp, const struct chan_frame *f, int fd)
{
	struct tls_failure why;
	char named[CHAN_HOST_MAX + 1];
	struct conn *c = free_slot(lp);

	if (chan_payload_text(f, named, sizeof(named)) != 0) {
		refuse_connect(lp, f, fd, CHAN_E_BAD_REQUEST, "bad host name");
		return;
	}
	const char *host = configured_host(lp, named);
	if (host == NULL) {
		snprintf(why.text, sizeof(why.text), "'%s' is not a configured server", named);
		refuse_connect(lp, f, fd, CHAN_E_BAD_REQUEST, why.text);
		return;
	}
	int code =
	    server_socket_prepare(fd, lp->servers, lp->n_servers, host, why.text, sizeof(why.text));
	if (code != 0) {
		refuse_connect(lp, f, fd, (uint32_t)code, why.text);
		return;
	}
	if (c == NULL) {
		refuse_connect(lp, f, fd, CHAN_E_LIMIT, "the helper's connection table is full");
		return;
	}
	if (tls_conn_start(&c->tls, lp->creds, fd, host, &why) != 0) {
		wlog(WLOG_ERROR, "connection to %s: %s", host, why.text);
		check_sent(lp, reply_error(lp->chan, f->id, 0, why.code, why.text));
		c->tls.fd = -1;
		return;
	}
	c->handle = new_handle(lp);
	snprintf(c->host, sizeof(c->host), "%s", host);
	c->op = OP_HANDSHAKE;
	c->op_id = f->id;
	wlog(WLOG_DEBUG, "connection %u to %s: TLS handshake started", c->handle, host);
	drive(lp, c);
}

/* The connection a SEND or RECV names, when it can take a request now;
 * otherwise the refusal is answered and NULL returned. */
static struct conn *idle_conn(struct loop *lp, const struct chan_frame *f)
{
	struct conn *c = find_conn(lp, f->conn);

	if (c == NULL) {
		check_sent(lp, reply_error(lp->chan, f->id, f->conn, CHAN_E_NO_CONN,
		                           "no connection with that handle"));
		return NULL;
	}
	if (c->op != OP_NONE) {
		check_sent(lp, reply_error(lp->chan, f->id, f->conn, CHAN_E_BAD_REQUEST,
		                           "a request is already in progress on this connection"));
		return NULL;
	}
	return c;
}

static void on_send(struct loop *lp, const struct chan_frame *f)
{
#ifdef HELPER_TEST_OPENAT
	if (lp->openat_armed) {
		/* The test of the sandbox: this must kill the process. */
		lp->openat_armed = false;
		wlog(WLOG_WARNING, "test build: trying openat(/etc/passwd) while confined");
		int fd = openat(AT_FDCWD, "/etc/passwd", O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			close(fd);
	}
#endif
	struct conn *c = idle_conn(lp, f);
	if (c == NULL)
		return;
	/* Bounded by the frame rules (1..CHAN_MAX_PAYLOAD) before this. */
	c->op = OP_WRITE;
	c->op_id = f->id;
	c->reply_after_write = (f->flags & CHAN_F_REPLY_DATA) != 0;
	c->want = 0;
	write_step(lp, c, f->payload, f->len);
}

static void on_recv(struct loop *lp, const struct chan_frame *f)
{
	struct chan_recv_args args;

	if (chan_recv_args_parse(f, &args) != 0) {
		check_sent(lp, reply_error(lp->chan, f->id, f->conn, CHAN_E_BAD_REQUEST,
		                           "bad RECV arguments"));
		return;
	}
	struct conn *c = idle_conn(lp, f);
	if (c == NULL)
		return;
	c->op = OP_READ;
	c->op_id = f->id;
	c->read_max = args.max_bytes;
	c->has_deadline = true;
	c->deadline_ms = mono_ms() + args.timeout_ms;
	drive(lp, c);
}

static void on_close(struct loop *lp, const struct chan_frame *f)
{
	struct conn *c = find_conn(lp, f->conn);

	if (c == NULL) {
		check_sent(lp, reply_error(lp->chan, f->id, f->conn, CHAN_E_NO_CONN,
		                           "no connection with that handle"));
		return;
	}
	wlog(WLOG_DEBUG, "connection %u to %s: closed", c->handle, c->host);
	conn_free(c);
	check_sent(lp, reply_empty(lp->chan, CHAN_T_CLOSED, f->id, f->conn));
}

static void dispatch(struct loop *lp, const struct chan_frame *f, int fd)
{
	switch (f->type) {
	case CHAN_T_CONNECT:
		on_connect(lp, f, fd);
		break;
	case CHAN_T_SEND:
		on_send(lp, f);
		break;
	case CHAN_T_RECV:
		on_recv(lp, f);
		break;
	case CHAN_T_CLOSE:
		on_close(lp, f);
		break;
	case CHAN_T_PING:
		check_sent(lp, reply_empty(lp->chan, CHAN_T_PONG, f->id, 0));
		break;
	default:
		/* chan_recv() lets through only the types above. */
		if (fd >= 0)
			close(fd);
		lp->failed = true;
		break;
	}
}

/* Takes up to max frames waiting on the channel. Returns 1 to go on, 0 at
 * EOF, -1 when the channel broke or carried a malformed frame. */
static int read_channel(struct loop *lp, int max)
{
	for (int i = 0; i < max && !lp->failed; i++) {
		struct chan_frame f;
		int fd = -1;
		int rc =
		    chan_recv(lp->chan, lp->frame, sizeof(lp->frame), CHAN_TO_HELPER, &f, &fd, 0);

		if (rc == -ETIMEDOUT)
			return 1;
		if (rc == -EPIPE)
			return 0;
		if (rc != 0) {
			wlog(WLOG_ERROR, "helper: refused a frame from the library (%s); exiting",
			     strerror(-rc));
			return -1;
		}
		wlog(WLOG_TRACE, "helper: %s id %u conn %u, %u bytes", chan_type_name(f.type), f.id,
		     f.conn, f.len);
		dispatch(lp, &f, fd);
	}
	return lp->failed ? -1 : 1;
}

/* When c must be driven even without an event: its RECV deadline, or the
 * end of a hold, whichever comes first. Only for a c with either. */
static int64_t wake_at(const struct conn *c)
{
	if (c->in_len > 0 && (!c->has_deadline || c->hold_until_ms < c->deadline_ms))
		return c->hold_until_ms;
	return c->deadline_ms;
}

/* Milliseconds until the nearest RECV deadline or hold, or -1 for none. */
static int poll_timeout(const struct loop *lp)
{
	int64_t now = mono_ms();
	int64_t best = -1;

	for (size_t i = 0; i < EVENT_LOOP_MAX_CONNS; i++) {
		const struct conn *c = &lp->conns[i];
		if (c->handle == 0 || c->want == 0 || (!c->has_deadline && c->in_len == 0))
			continue;
		int64_t at = wake_at(c);
		int64_t left = at > now ? at - now : 0;
		if (best < 0 || left < best)
			best = left;
	}
	return (int)best;
}

static void close_all(struct loop *lp)
{
	for (size_t i = 0; i < EVENT_LOOP_MAX_CONNS; i++) {
		if (lp->conns[i].handle != 0)
			conn_free(&lp->conns[i]);
	}
}

/* One round: wait, then serve the connections that can progress, then the
 * channel (connections first, so that a CLOSE never frees a slot that a
 * poll entry of this round still names). */
static int round_once(struct loop *lp)
{
	struct pollfd pfd[1 + EVENT_LOOP_MAX_CONNS];
	struct conn *owner[1 + EVENT_LOOP_MAX_CONNS];
	nfds_t n = 1;

	pfd[0] = (struct pollfd){ .fd = lp->chan, .events = POLLIN };
	for (size_t i = 0; i < EVENT_LOOP_MAX_CONNS; i++) {
		struct conn *c = &lp->conns[i];
		if (c->handle == 0 || c->op == OP_NONE || c->want == 0)
			continue;
		pfd[n] = (struct pollfd){ .fd = c->tls.fd, .events = c->want };
		owner[n++] = c;
	}
	int ready = poll(pfd, n, poll_timeout(lp));
	if (ready < 0)
		return errno == EINTR ? 1 : -1;
	for (nfds_t i = 1; i < n; i++) {
		struct conn *c = owner[i];
		if (pfd[i].revents != 0 ||
		    ((c->has_deadline || c->in_len > 0) && mono_ms() >= wake_at(c)))
			drive(lp, c);
	}
	if (lp->failed)
		return -1;
	/* A channel that had frames in the previous round too is busy: take
	 * every frame there, reading until none is left. Otherwise (a lone
	 * thread's requests alternate with their answers) one frame: the
	 * recvmsg that would find none is saved, and should another frame
	 * wait, the next poll returns at once. */
	bool chan_ready = pfd[0].revents != 0;
	int max = lp->chan_busy ? FRAMES_PER_ROUND : 1;
	lp->chan_busy = chan_ready;
	if (chan_ready)
		return read_channel(lp, max);
	return 1;
}

int event_loop_run(struct creds *creds, int chan, const struct event_loop_options *opt)
{
	/* Static: 64 KiB frame and data buffers and the table do not belong
	 * on the stack, and there is one loop per process. It starts zeroed
	 * and runs once: no memset, which would fault in every page of the
	 * buffers at each helper start. */
	static struct loop lp;
	int rc;

	for (size_t i = 0; i < EVENT_LOOP_MAX_CONNS; i++)
		lp.conns[i].tls.fd = -1;
	lp.creds = creds;
	lp.chan = chan;
	lp.next_handle = 1;
	lp.openat_armed = opt->openat_armed;
	lp.servers = opt->servers;
	lp.n_servers = opt->n_servers;

	do {
		rc = round_once(&lp);
	} while (rc > 0);
	close_all(&lp);
	if (rc == 0) {
		wlog(WLOG_DEBUG, "helper: the library closed the channel; exiting");
		return 0;
	}
	return 1;
}
