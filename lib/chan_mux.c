/*
 * Leader/follower demultiplexing of the helper channel (see chan_mux.h for
 * why no reader thread).
 */
#include "lib/chan_mux.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/futex.h>
#include <poll.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "ipc/mono_clock.h"
#include "conf/log.h"

struct waiter {
	uint32_t id;
	/* Set under mu, with the waiter already unlinked when another thread
	 * delivered its answer: a woken waiter that sees it returns without
	 * taking mu, which the leader is most likely holding again for the
	 * next frame (that contention made threads sleep twice per answer). */
	_Atomic bool done;
	bool parked;  /* sleeping on seq, so a hand-off of the receive role reaches it */
	uint8_t *buf; /* the caller's CHAN_MAX_FRAME bytes */
	size_t len;   /* record length once done */
	/* Its own wake-up word (a futex): an answer wakes only the thread it
	 * is for, not every waiter of the channel (with one shared condvar
	 * each frame woke them all, and context switches were most of the
	 * library's CPU time under 8 threads). Changed under mu; the wake
	 * for an answer is issued after mu is released, so that the woken
	 * thread does not go straight back to sleep on mu. */
	_Atomic uint32_t seq;
	struct waiter *next;
};

struct chan_mux {
	int fd;
	pthread_mutex_t mu; /* everything below */
	pthread_cond_t cv;  /* senders: a death, the end of a send */
	/* One sendmsg at a time keeps ids in order. A flag rather than a
	 * mutex: a sender blocked on a full channel must not keep the others
	 * waiting past their own deadlines. */
	bool sending;
	struct waiter *leader; /* the waiter holding the receive role, or NULL */
	bool blocking_recv;    /* the fd is blocking with a RECV_TICK_MS receive timeout */
	/* Written under mu; atomic so that chan_mux_dead and chan_mux_hung,
	 * asked before every request, need not take mu. */
	_Atomic bool dead;
	_Atomic bool hung;  /* killed because the helper stopped answering */
	int64_t last_rx_ms; /* when the helper last sent a frame */
	bool probe_pending; /* a PING sent since then, at probe_ms */
	int64_t probe_ms;
	char death[CHAN_ERROR_TEXT_MAX + 1];
	uint32_t next_id;
	struct waiter *waiters;
};

/* Liveness, within the callers' deadlines: a waiter whose deadline is less
 * than PROBE_LEAD_MS away sends a PING unless the helper sent something in
 * the last PROBE_GAP_MS; a PING unanswered for HUNG_MS when a deadline
 * passes (or a send that found the channel full for HUNG_MS) means the
 * helper's loop has stopped. A live helper answers a PING in microseconds;
 * half a second leaves room for a loaded machine. */
#define PROBE_LEAD_MS  1000
#define PROBE_GAP_MS   100
#define HUNG_MS        500
#define PROBE_RETRY_MS 10
/* A lone leader waits in recvmsg itself rather than in poll then recvmsg
 * (one system call per answer instead of two). The socket's receive
 * timeout bounds each such wait, and it is used only for waits of at
 * least two ticks, so that a deadline holds to the millisecond whatever
 * the kernel rounds the timeout up to. */
#define RECV_TICK_MS 20

static int monotonic_cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	int rc = pthread_cond_init(cv, &ca);
	pthread_condattr_destroy(&ca);
	return rc;
}

/* Sets the receive tick on a blocking fd; false (poll then recvmsg, as
 * for a non-blocking fd) when either fails. */
static bool blocking_with_tick(int fd)
{
	struct timeval tick = { 0, RECV_TICK_MS * 1000 };
	int fl = fcntl(fd, F_GETFL);

	return fl >= 0 && (fl & O_NONBLOCK) == 0 &&
	       setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof(tick)) == 0;
}

int chan_mux_new(int fd, struct chan_mux **out)
{
	struct chan_mux *m = calloc(1, sizeof(*m));
	if (m == NULL)
		return -ENOMEM;
	int rc = monotonic_cond_init(&m->cv);
	if (rc) {
		free(m);
		return -rc;
	}
	pthread_mutex_init(&m->mu, NULL);
	m->fd = fd;
	m->blocking_recv = blocking_with_tick(fd);
	m->next_id = 1;
	m->last_rx_ms = mono_ms();
	*out = m;
	return 0;
}

void chan_mux_free(struct chan_mux *m)
{
	if (m == NULL)
		return;
	pthread_cond_destroy(&m->cv);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

void chan_mux_forget(struct chan_mux *m)
{
	free(m);
}

/* A wake-up after which the word is not touched again: a wake that comes
 * after its waiter has returned is a spurious wake of whatever waits on
 * that address next, which every waiter here tolerates (it looks again). */
static void futex_wake_one(_Atomic uint32_t *word)
{
	(void)syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Under mu. */
static void wake_waiter(struct waiter *w)
{
	atomic_fetch_add(&w->seq, 1);
	futex_wake_one(&w->seq);
}

static void kill_locked(struct chan_mux *m, const char *why)
{
	if (!m->dead && why && why[0])
		snprintf(m->death, sizeof(m->death), "%s", why);
	m->dead = true;
	pthread_cond_broadcast(&m->cv);
	for (struct waiter *w = m->waiters; w; w = w->next)
		wake_waiter(w);
}

static void hung_locked(struct chan_mux *m)
{
	if (!m->dead) {
		m->hung = true;
		/* Wakes a leader blocked reading (so every waiter hears of it
		 * now); the helper sees no end of file, so it cannot exit on
		 * its own before the caller kills it. */
		(void)shutdown(m->fd, SHUT_RD);
	}
	kill_locked(m, "helper does not answer");
}

void chan_mux_kill(struct chan_mux *m, const char *why)
{
	pthread_mutex_lock(&m->mu);
	kill_locked(m, why);
	/* Wakes a leader blocked reading the channel: its poll sees the end
	 * at once instead of at its own deadline. (Not done when the mux finds
	 * the helper hung itself: a helper that saw the end could exit on its
	 * own before the caller's SIGKILL, and the log would not say how it
	 * ended.) */
	(void)shutdown(m->fd, SHUT_RDWR);
	pthread_mutex_unlock(&m->mu);
}

bool chan_mux_hung(struct chan_mux *m)
{
	return atomic_load(&m->hung);
}

bool chan_mux_dead(struct chan_mux *m)
{
	return atomic_load(&m->dead);
}

void chan_mux_death_text(struct chan_mux *m, char *out, size_t cap)
{
	pthread_mutex_lock(&m->mu);
	snprintf(out, cap, "%s", m->death);
	pthread_mutex_unlock(&m->mu);
}

static struct waiter *find_locked(struct chan_mux *m, uint32_t id)
{
	for (struct waiter *w = m->waiters; w; w = w->next)
		if (w->id == id)
			return w;
	return NULL;
}

static void unlink_locked(struct chan_mux *m, struct waiter *me)
{
	for (struct waiter **p = &m->waiters; *p; p = &(*p)->next)
		if (*p == me) {
			*p = me->next;
			return;
		}
}

/* Ids are unique among waiters; 0 is reserved for READY/channel ERROR. */
static uint32_t new_id_locked(struct chan_mux *m)
{
	for (;;) {
		uint32_t id = m->next_id++;
		if (id != 0 && !find_locked(m, id))
			return id;
	}
}

static int wait_ms_until(int64_t deadline_ms)
{
	int64_t left = deadline_ms - mono_ms();
	return left <= 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
}

/* Releases mu and sleeps until me->seq changes (it changes only under mu)
 * or deadline_ms. Returns true, mu not held, when the answer came (me is
 * unlinked then); otherwise takes mu again and returns false. */
static bool park_locked(struct chan_mux *m, struct waiter *me, int64_t deadline_ms)
{
	uint32_t seen = atomic_load(&me->seq);
	int ms = wait_ms_until(deadline_ms);
	struct timespec rel = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };

	pthread_mutex_unlock(&m->mu);
	(void)syscall(SYS_futex, &me->seq, FUTEX_WAIT_PRIVATE, seen, &rel, NULL, 0);
	if (atomic_load(&me->done))
		return true;
	pthread_mutex_lock(&m->mu);
	return false;
}

static void timed_wait_locked(struct chan_mux *m, pthread_cond_t *cv, int64_t deadline_ms)
{
	struct timespec ts = { (time_t)(deadline_ms / 1000), (long)(deadline_ms % 1000) * 1000000 };
	pthread_cond_timedwait(cv, &m->mu, &ts);
}

/* Sends f (id already set) with mu held on entry and on return, waiting
 * for the send role and for room in the channel until deadline_ms.
 * Returns 0, -ETIMEDOUT (nothing sent), -EPIPE (the channel is dead) or
 * -EINVAL. */
static int send_locked(struct chan_mux *m, struct chan_frame *f, int fd, int64_t deadline_ms)
{
	while (m->sending && !m->dead) {
		if (mono_ms() >= deadline_ms)
			return -ETIMEDOUT;
		timed_wait_locked(m, &m->cv, deadline_ms);
	}
	if (m->dead)
		return -EPIPE;
	m->sending = true;
	pthread_mutex_unlock(&m->mu);
	int64_t t0 = mono_ms();
	int rc = chan_send(m->fd, f, fd, wait_ms_until(deadline_ms));
	int64_t waited = mono_ms() - t0;
	pthread_mutex_lock(&m->mu);
	m->sending = false;
	pthread_cond_broadcast(&m->cv);
	if (rc == -ETIMEDOUT && waited >= HUNG_MS)
		hung_locked(m); /* it has not read its channel for that long */
	else if (rc && rc != -EINVAL && rc != -ETIMEDOUT)
		kill_locked(m, "helper closed the channel");
	if (rc && rc != -EINVAL && rc != -ETIMEDOUT)
		rc = -EPIPE;
	return rc;
}

int chan_mux_post(struct chan_mux *m, struct chan_frame *f, int timeout_ms)
{
	if (m == NULL || f == NULL)
		return -EINVAL;
	pthread_mutex_lock(&m->mu);
	f->id = new_id_locked(m);
	int rc = send_locked(m, f, -1, mono_ms() + timeout_ms);
	pthread_mutex_unlock(&m->mu);
	return rc;
}

/* Nobody waits for this CONNECTED any more: give the handle back. */
static void close_orphan(struct chan_mux *m, uint32_t conn)
{
	struct chan_frame f = { .type = CHAN_T_CLOSE, .conn = conn };
	(void)chan_mux_post(m, &f, 100);
}

/* poll() for input: 0 readable (or ended: the read says which),
 * -ETIMEDOUT, -EINTR. */
static int wait_readable(int fd, int wait_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r = poll(&p, 1, wait_ms);

	if (r < 0)
		return -EINTR;
	return r == 0 ? -ETIMEDOUT : 0;
}

/* Frames a leader takes in a row without waiting before it wakes their
 * waiters. */
#define LEAD_BATCH 16

/* Takes what one receive by the leader gave (rc, f in rbuf), mu held. A
 * frame for someone else is copied into their buffer; *wake is then set
 * when they sleep. Returns true when the leader is to stop reading: its
 * own answer came, nothing came, or the mux died. */
static bool take_frame_locked(struct chan_mux *m, uint8_t *rbuf, int rc, const struct chan_frame *f,
                              _Atomic uint32_t **wake, uint32_t *orphan_conn)
{
	if (rc >= 0) {
		m->last_rx_ms = mono_ms();
		m->probe_pending = false;
	}
	if (rc == -ETIMEDOUT || rc == -EINTR)
		return true; /* nothing arrived */
	if (m->dead)
		return true; /* killed while reading (the shutdown woke us) */
	if (rc < 0) {
		kill_locked(m, rc == -EPIPE ? "helper closed the channel" : "invalid frame");
		if (rc != -EPIPE)
			wlog(WLOG_ERROR, "helper channel: %s", strerror(-rc));
		return true;
	}
	if (f->id == 0) {
		struct chan_error_info e;
		if (f->type == CHAN_T_ERROR && chan_error_parse(f, &e) == 0)
			kill_locked(m, e.text);
		else
			kill_locked(m, "unexpected frame");
		return true;
	}
	struct waiter *w = find_locked(m, f->id);
	if (w == NULL) {
		if (f->type == CHAN_T_CONNECTED)
			*orphan_conn = f->conn;
		return false;
	}
	size_t len = CHAN_HEADER_LEN + f->len;
	w->len = len;
	if (w->buf == rbuf) {
		atomic_store(&w->done, true);
		return true;
	}
	memcpy(w->buf, rbuf, len);
	unlink_locked(m, w);
	atomic_fetch_add(&w->seq, 1);
	/* One not parked yet looks at done before it parks: no system call
	 * to wake it. */
	if (w->parked)
		*wake = &w->seq;
	atomic_store(&w->done, true);
	return false;
}

/* One receive step by the leader, mu not held: a frame, waited for, then
 * those already there (up to LEAD_BATCH), each copied into its waiter's
 * buffer. rbuf is the leader's own buffer; it stops at its own answer.
 * The waiters are woken once the leader stops reading: a woken thread
 * tends to take the leader's CPU at once, and the frames still queued
 * would wait for the leader's turn to come again. */
static void lead_once(struct chan_mux *m, uint8_t *rbuf, int wait_ms, bool alone)
{
	struct chan_frame f;
	_Atomic uint32_t *wakes[LEAD_BATCH];
	size_t n_wakes = 0;
	uint32_t orphan_conn = 0;
	int rc;

	/* Blocking recvmsg also when others wait: it returns at once when a
	 * frame is there, and saves the recvmsg finding none then the poll
	 * when the leader has to wait. */
	if (m->blocking_recv && wait_ms >= 2 * RECV_TICK_MS) {
		rc = chan_recv_blocking(m->fd, rbuf, CHAN_MAX_FRAME, CHAN_TO_LIB, &f, NULL);
	} else {
		rc = alone ? wait_readable(m->fd, wait_ms) : 0;
		if (rc == 0)
			rc = chan_recv(m->fd, rbuf, CHAN_MAX_FRAME, CHAN_TO_LIB, &f, NULL, wait_ms);
	}
	for (;;) {
		_Atomic uint32_t *wake = NULL;
		pthread_mutex_lock(&m->mu);
		bool stop = take_frame_locked(m, rbuf, rc, &f, &wake, &orphan_conn);
		pthread_mutex_unlock(&m->mu);
		if (wake != NULL)
			wakes[n_wakes++] = wake;
		if (stop || orphan_conn != 0 || n_wakes == LEAD_BATCH)
			break;
		rc = chan_recv(m->fd, rbuf, CHAN_MAX_FRAME, CHAN_TO_LIB, &f, NULL, 0);
		if (rc == -ETIMEDOUT)
			break;
	}
	/* After the unlock: a waiter may already have returned (a timeout
	 * at this very moment), and then this wakes nobody. */
	for (size_t i = 0; i < n_wakes; i++)
		futex_wake_one(wakes[i]);
	if (orphan_conn)
		close_orphan(m, orphan_conn);
}

/* The leader leaves: a parked waiter still without its answer takes the
 * receive role. One that is not parked looks at the role before it sleeps. */
static void hand_off_locked(struct chan_mux *m)
{
	m->leader = NULL;
	for (struct waiter *w = m->waiters; w; w = w->next) {
		if (w->parked && !w->done) {
			wake_waiter(w);
			return;
		}
	}
}

/* Near a deadline with no sign of life from the helper lately: PING it
 * (the answer, like any frame, counts as life; nobody waits for it).
 * Returns when the caller should look again. mu held. */
static int64_t probe_locked(struct chan_mux *m, int64_t now, int64_t deadline_ms)
{
	if (m->probe_pending)
		return deadline_ms;
	if (now - m->last_rx_ms < PROBE_GAP_MS)
		return m->last_rx_ms + PROBE_GAP_MS;
	if (m->sending)
		return now + PROBE_RETRY_MS; /* look again once the send is likely over */
	struct chan_frame ping = { .type = CHAN_T_PING, .id = new_id_locked(m) };
	int rc = send_locked(m, &ping, -1, now);
	/* A channel too full to take a PING is as telling as no PONG. */
	if (rc == 0 || rc == -ETIMEDOUT) {
		m->probe_pending = true;
		m->probe_ms = now;
	}
	return now;
}

/* mu held on entry, released on return. */
static int wait_answer_locked(struct chan_mux *m, struct waiter *me, int64_t deadline_ms)
{
	int rc = 0;

	for (;;) {
		if (me->done)
			break;
		if (m->dead) {
			rc = -ECONNABORTED;
			break;
		}
		int64_t now = mono_ms();
		if (now >= deadline_ms) {
			if (m->probe_pending && now - m->probe_ms >= HUNG_MS)
				hung_locked(m);
			rc = -ETIMEDOUT;
			break;
		}
		int64_t wake = deadline_ms - PROBE_LEAD_MS;
		if (now >= wake) {
			wake = probe_locked(m, now, deadline_ms);
			if (wake <= now)
				continue;
		}
		if (wake > deadline_ms)
			wake = deadline_ms;
		if (m->leader == NULL)
			m->leader = me;
		if (m->leader == me) {
			/* The only request out was sent a moment ago: its
			 * answer cannot be there yet, so wait before reading
			 * rather than read, find nothing, then wait. */
			bool alone = m->waiters == me && me->next == NULL;
			pthread_mutex_unlock(&m->mu);
			lead_once(m, me->buf, wait_ms_until(wake), alone);
			pthread_mutex_lock(&m->mu);
			continue;
		}
		me->parked = true;
		if (park_locked(m, me, wake))
			return 0;
		me->parked = false;
	}
	unlink_locked(m, me);
	if (m->leader == me)
		hand_off_locked(m);
	pthread_mutex_unlock(&m->mu);
	return rc;
}

int chan_mux_call(struct chan_mux *m, struct chan_frame *req, int fd, int64_t deadline_ms,
                  uint8_t *buf, struct chan_frame *ans)
{
	if (m == NULL || req == NULL || buf == NULL || ans == NULL)
		return -EINVAL;
	struct waiter me = { .buf = buf };

	pthread_mutex_lock(&m->mu);
	if (m->dead) {
		pthread_mutex_unlock(&m->mu);
		return -EPIPE;
	}
	me.id = new_id_locked(m);
	req->id = me.id;
	me.next = m->waiters;
	m->waiters = &me;
	int rc = send_locked(m, req, fd, deadline_ms);
	if (rc) {
		unlink_locked(m, &me);
		pthread_mutex_unlock(&m->mu);
		return rc;
	}
	rc = wait_answer_locked(m, &me, deadline_ms);
	if (rc)
		return rc;
	/* The record was validated when it was read; decoding again only
	 * rebuilds the pointers into this caller's buffer. */
	if (chan_decode(buf, me.len, CHAN_TO_LIB, false, ans) != 0)
		return -ECONNABORTED;
	return 0;
}
