/*
 * Leader/follower demultiplexing of the helper channel (see chan_mux.h for
 * why no reader thread).
 */
#include "lib/chan_mux.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf/log.h"

struct waiter {
	uint32_t id;
	bool done;
	uint8_t *buf; /* the caller's CHAN_MAX_FRAME bytes */
	size_t len;   /* record length once done */
	struct waiter *next;
};

struct chan_mux {
	int fd;
	pthread_mutex_t mu; /* everything below */
	pthread_cond_t cv;
	pthread_mutex_t send_mu; /* one sendmsg at a time keeps ids in order */
	bool reading;            /* a waiter holds the receive role */
	bool dead;
	char death[CHAN_ERROR_TEXT_MAX + 1];
	uint32_t next_id;
	struct waiter *waiters;
};

int64_t chan_mux_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int chan_mux_new(int fd, struct chan_mux **out)
{
	struct chan_mux *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	int rc = pthread_cond_init(&m->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (rc) {
		free(m);
		return -rc;
	}
	pthread_mutex_init(&m->mu, NULL);
	pthread_mutex_init(&m->send_mu, NULL);
	m->fd = fd;
	m->next_id = 1;
	*out = m;
	return 0;
}

void chan_mux_free(struct chan_mux *m)
{
	if (!m)
		return;
	pthread_cond_destroy(&m->cv);
	pthread_mutex_destroy(&m->mu);
	pthread_mutex_destroy(&m->send_mu);
	free(m);
}

void chan_mux_forget(struct chan_mux *m)
{
	free(m);
}

static void kill_locked(struct chan_mux *m, const char *why)
{
	if (!m->dead && why && why[0])
		snprintf(m->death, sizeof(m->death), "%s", why);
	m->dead = true;
	pthread_cond_broadcast(&m->cv);
}

void chan_mux_kill(struct chan_mux *m, const char *why)
{
	pthread_mutex_lock(&m->mu);
	kill_locked(m, why);
	pthread_mutex_unlock(&m->mu);
}

bool chan_mux_dead(struct chan_mux *m)
{
	pthread_mutex_lock(&m->mu);
	bool d = m->dead;
	pthread_mutex_unlock(&m->mu);
	return d;
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

/* Nobody waits for this CONNECTED any more: give the handle back. */
static void close_orphan(struct chan_mux *m, uint32_t conn)
{
	pthread_mutex_lock(&m->mu);
	uint32_t id = new_id_locked(m);
	pthread_mutex_unlock(&m->mu);
	struct chan_frame f = { .type = CHAN_T_CLOSE, .id = id, .conn = conn };
	pthread_mutex_lock(&m->send_mu);
	(void)chan_send(m->fd, &f, -1, 100);
	pthread_mutex_unlock(&m->send_mu);
}

/* One receive step by the leader, mu not held. rbuf is the leader's own
 * buffer; a frame for someone else is copied into theirs. */
static void lead_once(struct chan_mux *m, uint8_t *rbuf, int wait_ms)
{
	struct chan_frame f;
	int rc = chan_recv(m->fd, rbuf, CHAN_MAX_FRAME, CHAN_TO_LIB, &f, NULL, wait_ms);
	uint32_t orphan_conn = 0;

	pthread_mutex_lock(&m->mu);
	if (rc == -ETIMEDOUT || rc == -EINTR) {
		/* nothing arrived */
	} else if (rc < 0) {
		kill_locked(m, rc == -EPIPE ? "helper closed the channel" : "invalid frame");
		if (rc != -EPIPE)
			wlog(WLOG_ERROR, "helper channel: %s", strerror(-rc));
	} else if (f.id == 0) {
		struct chan_error_info e;
		if (f.type == CHAN_T_ERROR && chan_error_parse(&f, &e) == 0)
			kill_locked(m, e.text);
		else
			kill_locked(m, "unexpected frame");
	} else {
		struct waiter *w = find_locked(m, f.id);
		if (w) {
			size_t len = CHAN_HEADER_LEN + f.len;
			if (w->buf != rbuf)
				memcpy(w->buf, rbuf, len);
			w->len = len;
			w->done = true;
		} else if (f.type == CHAN_T_CONNECTED) {
			orphan_conn = f.conn;
		}
	}
	m->reading = false;
	pthread_cond_broadcast(&m->cv);
	pthread_mutex_unlock(&m->mu);
	if (orphan_conn)
		close_orphan(m, orphan_conn);
}

static int wait_answer(struct chan_mux *m, struct waiter *me, int64_t deadline_ms)
{
	pthread_mutex_lock(&m->mu);
	for (;;) {
		if (me->done)
			break;
		if (m->dead) {
			unlink_locked(m, me);
			pthread_mutex_unlock(&m->mu);
			return -ECONNABORTED;
		}
		int64_t left = deadline_ms - chan_mux_now_ms();
		if (left <= 0) {
			unlink_locked(m, me);
			pthread_mutex_unlock(&m->mu);
			return -ETIMEDOUT;
		}
		if (!m->reading) {
			m->reading = true;
			pthread_mutex_unlock(&m->mu);
			lead_once(m, me->buf, left > INT32_MAX ? INT32_MAX : (int)left);
			pthread_mutex_lock(&m->mu);
			continue;
		}
		struct timespec ts = { (time_t)(deadline_ms / 1000),
			               (long)(deadline_ms % 1000) * 1000000 };
		pthread_cond_timedwait(&m->cv, &m->mu, &ts);
	}
	unlink_locked(m, me);
	pthread_mutex_unlock(&m->mu);
	return 0;
}

int chan_mux_call(struct chan_mux *m, struct chan_frame *req, int fd, int64_t deadline_ms,
                  uint8_t *buf, struct chan_frame *ans)
{
	if (!m || !req || !buf || !ans)
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
	pthread_mutex_unlock(&m->mu);

	int64_t left = deadline_ms - chan_mux_now_ms();
	pthread_mutex_lock(&m->send_mu);
	int rc =
	    chan_send(m->fd, req, fd, left <= 0 ? 0 : (int)(left > INT32_MAX ? INT32_MAX : left));
	pthread_mutex_unlock(&m->send_mu);
	if (rc) {
		pthread_mutex_lock(&m->mu);
		unlink_locked(m, &me);
		if (rc != -EINVAL && rc != -ETIMEDOUT)
			kill_locked(m, "helper closed the channel");
		pthread_mutex_unlock(&m->mu);
		if (rc == -EINVAL || rc == -ETIMEDOUT)
			return rc;
		return -EPIPE;
	}
	rc = wait_answer(m, &me, deadline_ms);
	if (rc)
		return rc;
	/* The record was validated when it was read; decoding again only
	 * rebuilds the pointers into this caller's buffer. */
	if (chan_decode(buf, me.len, CHAN_TO_LIB, false, ans) != 0)
		return -ECONNABORTED;
	return 0;
}
