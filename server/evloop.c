/* Event loops serving verified connections; see evloop.h. */
#include "server/evloop.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "conf/log.h"
#include "ipc/mono_clock.h"
#include "server/conn.h"
#include "server/loop_pick.h"
#include "server/outbuf.h"
#include "server/reply.h"
#include "server/reqbuf.h"

#define LOOP_EVENTS 64
#define NO_DEADLINE INT64_MAX
/* Pipelined requests are answered until this much waits to be written;
 * the rest when it has gone, so a client that does not read cannot make
 * the server hold more than this (plus one answer). */
#define OUT_HIGH (256 * 1024)

enum ev_state {
	EV_READ,  /* reading (or idle between requests) */
	EV_WORK,  /* a worker has the request */
	EV_DELAY, /* the answer waits for its delay */
	EV_WRITE, /* answers being written */
	EV_DRAIN, /* refused: discarding what still comes, then close */
};

struct evloop;

struct evconn {
	struct work work; /* first: the worker hands it back as this */
	struct evloop *loop;
	struct evconn *prev, *next; /* the loop's connections */
	struct evconn *queue_next;  /* incoming or done queue */
	int fd;
	SSL *ssl;
	struct conn_names names;
	enum ev_state state;
	uint32_t interest;
	bool may_read; /* epoll said readable since the last socket read */
	bool close_after;
	bool drain_after;
	bool write_waiting; /* the socket was full: the write deadline runs */
	int64_t deadline;
	int64_t request_start; /* first byte of the request being read, or 0 */
	int64_t idle_since;
	struct reqbuf in;
	size_t need; /* length of the request in c->in once its head is known */
	/* Answers are encrypted as soon as they are ready (each its own TLS
	 * records, as with one thread per connection) into out, the TLS
	 * object's write BIO, and sent from there. */
	struct outbuf out;
	size_t drained;
	struct http_message msg;
	struct wsop_response resp;
	int64_t start;
};

struct evloop {
	struct evloops *all;
	unsigned index;
	pthread_t thread;
	bool started;
	int ep;
	int efd;
	atomic_uint load; /* connections given to this loop and not closed */
	/* The busy share of the last window (loop_pick.h) and when it was
	 * measured: a loop asleep in epoll_wait measures nothing, so an old
	 * figure means idle. */
	atomic_uint busy;
	_Atomic int64_t busy_at_ms;
	int64_t window_start_ns; /* the loop thread's alone, as below */
	int64_t window_busy_ns;
	pthread_mutex_t lock;
	struct evconn *incoming; /* under lock */
	struct evconn *done;     /* under lock */
	bool door_closed;        /* under lock: the loop has ended, takes nothing */
	struct evconn *conns;    /* the loop thread's alone, as below */
	unsigned count;
	bool stop_seen;
	int64_t next_scan;
};

struct evloops {
	struct evloop_config cfg;
	atomic_bool final;
	unsigned n;
	struct evloop loops[];
};

static bool stopping(const struct evconn *c)
{
	return atomic_load_explicit(c->loop->all->cfg.stopping, memory_order_relaxed);
}

static void kick(struct evloop *l)
{
	uint64_t one = 1;

	if (write(l->efd, &one, sizeof(one)) < 0) {
		/* The counter is already non-zero: the loop will wake. */
	}
}

static void set_deadline(struct evconn *c, int64_t t)
{
	c->deadline = t;
	if (t < c->loop->next_scan)
		c->loop->next_scan = t;
}

static void want(struct evconn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	if (c->interest == events)
		return;
	if (epoll_ctl(c->loop->ep, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->interest = events;
}

/* http_message_clear wipes the body (passphrases, plaintext). */
static void clear_msg(struct evconn *c)
{
	http_message_clear(&c->msg);
}

/* Takes c off its loop's list and epoll set. */
static void unlink_conn(struct evconn *c)
{
	struct evloop *l = c->loop;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		l->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	l->count--;
	(void)epoll_ctl(l->ep, EPOLL_CTL_DEL, c->fd, NULL);
}

static void close_conn(struct evconn *c)
{
	struct evloop *l = c->loop;

	unlink_conn(c);
	if (c->state != EV_DRAIN) {
		/* One try, as a socket write BIO would: close_notify after
		 * whatever is still queued. */
		(void)SSL_shutdown(c->ssl);
		(void)outbuf_flush(&c->out, c->fd);
	}
	ERR_clear_error();
	SSL_free(c->ssl);
	close(c->fd);
	reqbuf_free(&c->in);
	outbuf_free(&c->out);
	clear_msg(c);
	free(c);
	atomic_fetch_sub(&l->load, 1);
	l->all->cfg.closed(l->all->cfg.arg);
}

/* Encrypts an answer's bytes into c->out, then wipes and frees them. */
static int append_out(struct evconn *c, uint8_t *data, size_t len)
{
	size_t off = 0;
	int r = 0;

	while (off < len) {
		size_t left = len - off;
		int n = SSL_write(c->ssl, data + off, left > INT_MAX ? INT_MAX : (int)left);

		if (n <= 0) {
			/* The BIO never waits: any failure is final. */
			ERR_clear_error();
			r = -EIO;
			break;
		}
		off += (size_t)n;
	}
	OPENSSL_clear_free(data, len);
	return r;
}

/* The answer in c->resp is ready: formats, logs and queues it. */
static void queue_answer(struct evconn *c)
{
	bool keep = c->msg.keep_alive && !c->resp.close && !stopping(c);
	uint8_t *out = NULL;
	size_t out_len = 0;
	int r = exchange_format(&c->resp, keep, &out, &out_len);

	if (r == 0)
		r = append_out(c, out, out_len);
	exchange_log(&c->names, &c->msg, &c->resp, c->start);
	if (r != 0) {
		wlog(WLOG_WARNING, "cannot send the answer to %s (cn=%s)", c->names.peer,
		     c->names.cn);
		keep = false;
	}
	reply_free(&c->resp);
	clear_msg(c);
	if (!keep)
		c->close_after = true;
}

static void refuse_malformed(struct evconn *c, int rc)
{
	struct wsop_response resp;
	uint8_t *out = NULL;
	size_t out_len = 0;

	reply_init(&resp);
	exchange_codec_error(rc, &resp);
	wlog(WLOG_WARNING, "refused a request from %s (cn=%s): %d %s", c->names.peer, c->names.cn,
	     resp.status, resp.note);
	if (exchange_format(&resp, false, &out, &out_len) == 0 && append_out(c, out, out_len) == 0)
		c->drain_after = true;
	reply_free(&resp);
	clear_msg(c);
	c->close_after = true;
	c->state = EV_WRITE;
}

static void work_run(struct work *w)
{
	struct evconn *c = (struct evconn *)w;
	struct evloop *l = c->loop;

	exchange_route(l->all->cfg.app, &c->names, &c->msg, &c->resp);
	pthread_mutex_lock(&l->lock);
	c->queue_next = l->done;
	l->done = c;
	pthread_mutex_unlock(&l->lock);
	kick(l);
}

/* A whole request is in c->msg: runs it here or hands it to a worker.
 * True when the loop may go on reading this connection. */
static bool dispatch(struct evconn *c)
{
	const struct evloop_config *cfg = &c->loop->all->cfg;

	c->start = mono_ms();
	reply_init(&c->resp);
	if (exchange_inline_ok(&c->msg, cfg->store_shared)) {
		exchange_route(cfg->app, &c->names, &c->msg, &c->resp);
		if (c->resp.delay_ms == 0) {
			queue_answer(c);
			return !c->close_after;
		}
		c->state = EV_DELAY;
		set_deadline(c, c->start + c->resp.delay_ms);
		want(c, EPOLLET);
		return false;
	}
	c->state = EV_WORK;
	c->deadline = NO_DEADLINE;
	/* Edge-triggered while away: a hang-up is seen once, not polled. */
	want(c, EPOLLET);
	c->work.run = work_run;
	workers_submit(cfg->workers, &c->work);
	return false;
}

static void read_deadline(struct evconn *c)
{
	int64_t t;

	if (c->in.len == 0 && c->request_start == 0)
		t = c->idle_since + c->loop->all->cfg.idle_ms;
	else if (reqbuf_head_done(&c->in))
		t = c->request_start + CONN_REQUEST_TIMEOUT_MS;
	else
		t = c->request_start + c->loop->all->cfg.head_ms;
	set_deadline(c, t);
}

static void read_failed(struct evconn *c, int ret)
{
	int code = SSL_get_error(c->ssl, ret);
	bool closed =
	    code == SSL_ERROR_ZERO_RETURN || (code == SSL_ERROR_SYSCALL && ERR_peek_error() == 0);

	ERR_clear_error();
	if (c->in.len == 0)
		wlog(WLOG_DEBUG, "connection closed by %s (cn=%s)", c->names.peer, c->names.cn);
	else
		wlog(WLOG_WARNING, "dropping %s (cn=%s): %s with %zu bytes of a request unread",
		     c->names.peer, c->names.cn, closed ? "closed" : "read failed", c->in.len);
	close_conn(c);
}

/* EV_READ: answers the whole requests buffered, reads what the socket
 * has. True when the state changed (drive on), false to wait for an
 * event (or when c was closed). */
static bool read_step(struct evconn *c)
{
	for (;;) {
		size_t used = 0;
		bool pending;
		int r;

		if (outbuf_pending(&c->out) >= OUT_HIGH) {
			c->state = EV_WRITE;
			return true;
		}
		/* A body still short of the length its head gave is not parsed
		 * again until that much is in. */
		if (c->in.len > 0 && c->in.len >= c->need) {
			r = http_parse_request_need(c->in.data, c->in.len, &c->msg, &used,
			                            &c->need);
			if (r < 0) {
				refuse_malformed(c, r);
				return true;
			}
			if (r == 1) {
				reqbuf_consume(&c->in, used);
				c->idle_since = mono_ms();
				c->request_start = c->in.len > 0 ? c->idle_since : 0;
				if (dispatch(c))
					continue;
				if (c->state != EV_READ)
					return false; /* away: earlier answers go with its own */
				c->state = EV_WRITE;  /* answered; closing after it */
				return true;
			}
		}
		if (outbuf_pending(&c->out) > 0) {
			/* Answers of pipelined requests (or what TLS itself had to
			 * send while reading) go out before more is read. */
			c->state = EV_WRITE;
			return true;
		}
		pending = SSL_has_pending(c->ssl) == 1;
		if (c->in.len == 0 && c->request_start == 0 && !pending && stopping(c)) {
			wlog(WLOG_DEBUG, "closing idle connection %s (cn=%s)", c->names.peer,
			     c->names.cn);
			close_conn(c);
			return false;
		}
		if (!pending && !c->may_read) {
			read_deadline(c);
			want(c, EPOLLIN);
			return false;
		}
		if (reqbuf_reserve(&c->in) < 0) {
			wlog(WLOG_WARNING,
			     "dropping %s (cn=%s): read failed with %zu bytes of a request unread",
			     c->names.peer, c->names.cn, c->in.len);
			close_conn(c);
			return false;
		}
		if (!pending)
			c->may_read = false;
		size_t room = c->in.cap - c->in.len;
		r = SSL_read(c->ssl, c->in.data + c->in.len, room > INT_MAX ? INT_MAX : (int)room);
		if (r > 0) {
			/* A request starts with its first byte. */
			if (c->in.len == 0 && c->request_start == 0)
				c->request_start = mono_ms();
			c->in.len += (size_t)r;
			continue;
		}
		switch (SSL_get_error(c->ssl, r)) {
		case SSL_ERROR_WANT_READ:
			/* ... or the first byte of its TLS record. */
			if (c->in.len == 0 && c->request_start == 0 && SSL_has_pending(c->ssl) == 1)
				c->request_start = mono_ms();
			c->may_read = false;
			if (outbuf_pending(&c->out) > 0)
				continue; /* sent, then back to reading */
			read_deadline(c);
			want(c, EPOLLIN);
			return false;
		default:
			read_failed(c, r);
			return false;
		}
	}
}

/* Sends what is queued: 1 all sent, 0 waiting for the socket,
 * negative when the connection failed. */
static int flush(struct evconn *c)
{
	int r = outbuf_flush(&c->out, c->fd);

	if (r == 0)
		want(c, EPOLLOUT);
	return r < 0 ? -EPIPE : r;
}

static void start_drain(struct evconn *c)
{
	(void)SSL_shutdown(c->ssl);
	ERR_clear_error();
	(void)outbuf_flush(&c->out, c->fd); /* close_notify, as far as it goes */
	(void)shutdown(c->fd, SHUT_WR);
	c->state = EV_DRAIN;
	c->drained = 0;
	set_deadline(c, mono_ms() + CONN_DRAIN_TIMEOUT_MS);
	want(c, EPOLLIN);
}

/* EV_DRAIN: discards what arrived; closes at the end of it. */
static void drain_step(struct evconn *c)
{
	uint8_t scratch[4096];

	while (c->drained < CONN_DRAIN_MAX_BYTES) {
		ssize_t n = recv(c->fd, scratch, sizeof(scratch), MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (n <= 0)
			break;
		c->drained += (size_t)n;
	}
	close_conn(c);
}

/* EV_WRITE: false when c waits or was closed. */
static bool write_step(struct evconn *c)
{
	int r = flush(c);

	if (r == 0) {
		if (!c->write_waiting) {
			c->write_waiting = true;
			set_deadline(c, mono_ms() + CONN_REQUEST_TIMEOUT_MS);
		}
		return false;
	}
	c->write_waiting = false;
	if (r < 0) {
		wlog(WLOG_WARNING, "cannot send the answer to %s (cn=%s)", c->names.peer,
		     c->names.cn);
		close_conn(c);
		return false;
	}
	if (c->close_after) {
		if (!c->drain_after) {
			close_conn(c);
			return false;
		}
		start_drain(c);
		return true;
	}
	c->state = EV_READ;
	c->idle_since = mono_ms();
	return true;
}

/* Moves c on as far as it can go without waiting. */
static void drive(struct evconn *c)
{
	for (;;) {
		switch (c->state) {
		case EV_READ:
			if (!read_step(c))
				return;
			break;
		case EV_WRITE:
			if (!write_step(c))
				return;
			break;
		case EV_DRAIN:
			drain_step(c);
			return;
		case EV_WORK:
		case EV_DELAY:
			return;
		}
	}
}

/* The deadline of c has passed. */
static void expire(struct evconn *c)
{
	switch (c->state) {
	case EV_READ:
		if (c->in.len == 0 && c->request_start == 0)
			wlog(WLOG_DEBUG, "closing idle connection %s (cn=%s)", c->names.peer,
			     c->names.cn);
		else
			wlog(WLOG_WARNING,
			     "dropping %s (cn=%s): timed out with %zu bytes of a request unread",
			     c->names.peer, c->names.cn, c->in.len);
		close_conn(c);
		break;
	case EV_WRITE:
		wlog(WLOG_WARNING, "cannot send the answer to %s (cn=%s)", c->names.peer,
		     c->names.cn);
		close_conn(c);
		break;
	case EV_DELAY:
		queue_answer(c);
		c->state = EV_WRITE;
		drive(c);
		break;
	case EV_DRAIN:
		close_conn(c);
		break;
	case EV_WORK:
		break;
	}
}

static void scan(struct evloop *l, int64_t now)
{
	struct evconn *c, *next;

	l->next_scan = NO_DEADLINE;
	for (c = l->conns; c != NULL; c = next) {
		next = c->next;
		if (c->state == EV_WORK)
			continue;
		if (now >= c->deadline)
			expire(c);
		else if (c->deadline < l->next_scan)
			l->next_scan = c->deadline;
	}
}

static void take(struct evloop *l, struct evconn *c)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };

	c->prev = NULL;
	c->next = l->conns;
	if (l->conns != NULL)
		l->conns->prev = c;
	l->conns = c;
	l->count++;
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
		wlog(WLOG_ERROR, "dropping %s: cannot watch its socket (errno %d)", c->names.peer,
		     errno);
		close_conn(c);
		return;
	}
	c->interest = EPOLLIN;
	c->idle_since = mono_ms();
	drive(c);
}

static void answered(struct evconn *c)
{
	if (c->resp.delay_ms > 0) {
		c->state = EV_DELAY;
		set_deadline(c, mono_ms() + c->resp.delay_ms);
		return;
	}
	queue_answer(c);
	c->state = EV_WRITE;
	drive(c);
}

static void control(struct evloop *l)
{
	struct evconn *in, *done, *c, *next;
	uint64_t count;

	if (read(l->efd, &count, sizeof(count)) < 0) {
		/* EAGAIN: another wake-up already took it. */
	}
	pthread_mutex_lock(&l->lock);
	in = l->incoming;
	done = l->done;
	l->incoming = l->done = NULL;
	pthread_mutex_unlock(&l->lock);
	for (c = done; c != NULL; c = next) {
		next = c->queue_next;
		answered(c);
	}
	for (c = in; c != NULL; c = next) {
		next = c->queue_next;
		take(l, c);
	}
	if (!l->stop_seen && atomic_load(l->all->cfg.stopping)) {
		l->stop_seen = true;
		for (c = l->conns; c != NULL; c = next) {
			next = c->next;
			if (c->state == EV_READ && c->in.len == 0 && c->request_start == 0 &&
			    SSL_has_pending(c->ssl) != 1) {
				wlog(WLOG_DEBUG, "closing idle connection %s (cn=%s)",
				     c->names.peer, c->names.cn);
				close_conn(c);
			}
		}
	}
}

static bool finished(struct evloop *l)
{
	bool empty;

	if (!atomic_load(&l->all->final) || l->count > 0)
		return false;
	pthread_mutex_lock(&l->lock);
	empty = l->incoming == NULL;
	l->door_closed = empty;
	pthread_mutex_unlock(&l->lock);
	return empty;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The loops' busy shares as the policy sees them (an old one is 0). */
static void loop_stats(struct evloops *all, struct loop_stat *st, int64_t now_ms)
{
	for (unsigned i = 0; i < all->n; i++) {
		struct evloop *l = &all->loops[i];
		int64_t at = atomic_load_explicit(&l->busy_at_ms, memory_order_relaxed);

		st[i].busy = now_ms - at > 2 * LOOP_WINDOW_MS
		                 ? 0
		                 : atomic_load_explicit(&l->busy, memory_order_relaxed);
		st[i].load = atomic_load_explicit(&l->load, memory_order_relaxed);
	}
}

/* Between two requests, with nothing buffered either way: it can change
 * loops without anyone noticing. */
static bool movable(const struct evconn *c)
{
	return c->state == EV_READ && c->in.len == 0 && c->request_start == 0 &&
	       !c->write_waiting && !c->close_after && outbuf_pending(&c->out) == 0 &&
	       SSL_has_pending(c->ssl) != 1;
}

/* l is busy: hands one connection that was active in this window to a
 * loop with time to spare, if there is one. */
static void relieve(struct evloop *l, int64_t now_ms)
{
	struct evloops *all = l->all;
	struct loop_stat st[EVLOOPS_MAX];
	struct evconn *c;
	struct evloop *to;
	int i;

	if (all->n < 2 || atomic_load(all->cfg.stopping))
		return;
	loop_stats(all, st, now_ms);
	i = loop_pick_relief(st, all->n, l->index, all->cfg.busy_threshold);
	if (i < 0)
		return;
	for (c = l->conns; c != NULL; c = c->next)
		if (movable(c) && now_ms - c->idle_since < LOOP_WINDOW_MS)
			break;
	if (c == NULL)
		return;
	to = &all->loops[i];
	pthread_mutex_lock(&to->lock);
	if (to->door_closed) {
		pthread_mutex_unlock(&to->lock);
		return;
	}
	unlink_conn(c);
	atomic_fetch_sub(&l->load, 1);
	atomic_fetch_add(&to->load, 1);
	c->loop = to;
	c->may_read = true; /* what came since the last read is read there */
	c->queue_next = to->incoming;
	to->incoming = c;
	pthread_mutex_unlock(&to->lock);
	kick(to);
	wlog(WLOG_DEBUG, "connection %s (cn=%s) moved from event loop %u (busy %u/1000) to %u",
	     c->names.peer, c->names.cn, l->index, st[l->index].busy, to->index);
}

/* Closes the window that started at l->window_start_ns when it is
 * LOOP_WINDOW_MS old: publishes its busy share, relieves l if busy. */
static void close_window(struct evloop *l, int64_t t)
{
	int64_t span = t - l->window_start_ns;
	unsigned busy;

	if (span < (int64_t)LOOP_WINDOW_MS * 1000000)
		return;
	busy =
	    l->window_busy_ns >= span ? LOOP_BUSY_MAX : (unsigned)(l->window_busy_ns * 1000 / span);
	atomic_store_explicit(&l->busy, busy, memory_order_relaxed);
	atomic_store_explicit(&l->busy_at_ms, t / 1000000, memory_order_relaxed);
	l->window_start_ns = t;
	l->window_busy_ns = 0;
	if (busy > l->all->cfg.busy_threshold && l->conns != NULL)
		relieve(l, t / 1000000);
}

static void *loop_main(void *arg)
{
	struct evloop *l = arg;
	struct epoll_event evs[LOOP_EVENTS];
	int64_t woke = now_ns();

	l->window_start_ns = woke;
	for (;;) {
		int64_t t = now_ns();
		int64_t now = t / 1000000;
		int timeout = -1;
		bool woken = false;
		int n;

		l->window_busy_ns += t - woke;
		close_window(l, t);
		if (now >= l->next_scan)
			scan(l, now);
		if (finished(l))
			break;
		if (l->next_scan != NO_DEADLINE) {
			int64_t left = l->next_scan - now;

			timeout = left < 0 ? 0 : (left > INT_MAX ? INT_MAX : (int)left);
		}
		n = epoll_wait(l->ep, evs, LOOP_EVENTS, timeout);
		woke = now_ns();
		if (n < 0 && errno != EINTR) {
			wlog(WLOG_ERROR, "epoll_wait failed in an event loop: errno %d", errno);
			break;
		}
		for (int i = 0; i < n; i++) {
			struct evconn *c = evs[i].data.ptr;

			if (c == NULL) {
				/* Handled after the batch: it may close connections
				 * that have an event further on. */
				woken = true;
				continue;
			}
			c->may_read = true;
			drive(c);
		}
		if (woken)
			control(l);
	}
	OPENSSL_thread_stop();
	return NULL;
}

static void loop_free(struct evloop *l)
{
	if (l->ep >= 0)
		close(l->ep);
	if (l->efd >= 0)
		close(l->efd);
	pthread_mutex_destroy(&l->lock);
}

static int loop_init(struct evloops *all, struct evloop *l)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

	l->all = all;
	l->index = (unsigned)(l - all->loops);
	l->next_scan = NO_DEADLINE;
	atomic_init(&l->load, 0);
	atomic_init(&l->busy, 0);
	atomic_init(&l->busy_at_ms, 0);
	pthread_mutex_init(&l->lock, NULL);
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	l->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->ep < 0 || l->efd < 0 || epoll_ctl(l->ep, EPOLL_CTL_ADD, l->efd, &ev) != 0)
		return -errno;
	return 0;
}

int evloops_start(struct evloops **out, unsigned n, const struct evloop_config *cfg)
{
	struct evloops *all;
	int r = 0;

	*out = NULL;
	if (n == 0 || n > EVLOOPS_MAX || cfg->closed == NULL || cfg->workers == NULL)
		return -EINVAL;
	all = calloc(1, sizeof(*all) + n * sizeof(struct evloop));
	if (all == NULL)
		return -ENOMEM;
	all->cfg = *cfg;
	atomic_init(&all->final, false);
	for (unsigned i = 0; i < n; i++)
		all->loops[i].ep = all->loops[i].efd = -1;
	for (; all->n < n && r == 0; all->n++) {
		struct evloop *l = &all->loops[all->n];

		r = loop_init(all, l);
		if (r == 0) {
			r = -pthread_create(&l->thread, NULL, loop_main, l);
			l->started = r == 0;
		}
	}
	if (r != 0) {
		evloops_stop(all);
		return r;
	}
	*out = all;
	return 0;
}

bool evloops_adopt(struct evloops *all, SSL *ssl, int fd, const struct conn_names *names)
{
	struct evconn *c = calloc(1, sizeof(*c));
	struct loop_stat st[EVLOOPS_MAX];
	struct evloop *l;
	BIO *wbio;

	if (c == NULL)
		return false;
	wbio = outbuf_bio_new(&c->out);
	if (wbio == NULL) {
		free(c);
		return false;
	}
	loop_stats(all, st, mono_ms());
	l = &all->loops[loop_pick_new(st, all->n, all->cfg.busy_threshold)];
	atomic_fetch_add(&l->load, 1);
	c->loop = l;
	c->fd = fd;
	c->ssl = ssl;
	c->names = *names;
	c->state = EV_READ;
	/* The handshake's last read may have brought the request already. */
	c->may_read = true;
	c->deadline = NO_DEADLINE;
	http_message_init(&c->msg);
	reply_init(&c->resp);
	/* Records go to c->out, the loop sends them (the handshake is done:
	 * nothing waits in the socket BIO, which stays the read BIO). */
	SSL_set0_wbio(ssl, wbio);
	pthread_mutex_lock(&l->lock);
	c->queue_next = l->incoming;
	l->incoming = c;
	pthread_mutex_unlock(&l->lock);
	kick(l);
	return true;
}

void evloops_kick(struct evloops *all)
{
	for (unsigned i = 0; i < all->n; i++)
		kick(&all->loops[i]);
}

void evloops_stop(struct evloops *all)
{
	if (all == NULL)
		return;
	atomic_store(&all->final, true);
	for (unsigned i = 0; i < all->n; i++) {
		struct evloop *l = &all->loops[i];

		if (l->started) {
			kick(l);
			pthread_join(l->thread, NULL);
		}
		loop_free(l);
	}
	free(all);
}
