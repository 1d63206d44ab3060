/*
 * The relay of fault_proxy.h: one acceptor thread that also owns the
 * listening socket (so closing and reopening it never races a poll), and
 * one thread per connection that reads a chunk, looks at the mode in force
 * at that moment, and acts on it. A blocking thread per connection keeps
 * FP_DELAY a plain sleep.
 */
#include "tests/faults/fault_proxy.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/backend/proxy.h"

#define POLL_MS 50

struct conn {
	struct fproxy *p;
	int c, s;     /* client side, server side; -1 when none */
	bool tainted; /* lost bytes to FP_BLACKHOLE */
	bool done;    /* the thread has ended (under p->mu) */
	pthread_t thread;
	struct conn *next;
};

struct fproxy {
	pthread_mutex_t mu;
	pthread_cond_t applied_cv;
	enum fproxy_mode mode;
	unsigned arg;
	unsigned gen;         /* bumped by each fproxy_set() */
	unsigned applied_gen; /* the acceptor's listener follows gen */
	bool stopping;
	int lfd; /* owned by the acceptor thread; -1 while refusing */
	unsigned port, target;
	int wake[2];
	pthread_t acceptor;
	struct conn *conns;
	struct fproxy_stats st;
};

const char *fproxy_mode_name(enum fproxy_mode mode)
{
	static const char *const names[FP_MODES] = { "forward",  "reset",    "delay", "blackhole",
		                                     "drop_c2s", "drop_s2c", "refuse" };
	return (unsigned)mode < FP_MODES ? names[mode] : "?";
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void rst_close(int fd)
{
	if (fd < 0)
		return;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/* Resets both sides of k and counts it. */
static void conn_reset(struct conn *k)
{
	/* Counted first, so that whoever sees the reset sees it counted. */
	pthread_mutex_lock(&k->p->mu);
	k->p->st.resets++;
	pthread_mutex_unlock(&k->p->mu);
	rst_close(k->c);
	rst_close(k->s);
	k->c = k->s = -1;
}

/* Closes both sides of k the ordinary way (a side already went away). */
static void conn_close(struct conn *k)
{
	if (k->c >= 0)
		close(k->c);
	if (k->s >= 0)
		close(k->s);
	k->c = k->s = -1;
}

/* A bounded send, so that a peer that stops reading cannot hold a relay
 * thread (and fproxy_stop()) forever. */
static void bound_send(int fd)
{
	struct timeval tv = { .tv_sec = 5 };
	if (fd >= 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* What a relay thread knows of the mode. */
struct view {
	unsigned gen;
	enum fproxy_mode mode;
	unsigned arg;
	size_t budget; /* bytes still relayed under FP_DROP_* */
	bool stopping;
};

/* Reads the mode; on a switch, restarts the drop budget. False: the
 * connection is to be reset now (FP_RESET, or tainted and no longer in
 * FP_BLACKHOLE, or the proxy stops). */
static bool refresh(struct conn *k, struct view *v)
{
	pthread_mutex_lock(&k->p->mu);
	bool changed = v->gen != k->p->gen;
	v->gen = k->p->gen;
	v->mode = k->p->mode;
	v->arg = k->p->arg;
	v->stopping = k->p->stopping;
	pthread_mutex_unlock(&k->p->mu);
	if (v->stopping)
		return false;
	if (changed)
		v->budget = v->arg;
	if (v->mode == FP_RESET || (k->tainted && v->mode != FP_BLACKHOLE))
		return false;
	return true;
}

/* Acts on one chunk read from the client (c2s) or the server. False: the
 * connection is over (reset here, or the other side is gone). */
static bool handle_chunk(struct conn *k, struct view *v, bool c2s, const uint8_t *buf, size_t n)
{
	int to = c2s ? k->s : k->c;
	switch (v->mode) {
	case FP_DELAY:
		sleep_ms(v->arg);
		pthread_mutex_lock(&k->p->mu);
		k->p->st.delayed_chunks++;
		pthread_mutex_unlock(&k->p->mu);
		return proxy_send_all(to, buf, n);
	case FP_BLACKHOLE:
		k->tainted = true;
		pthread_mutex_lock(&k->p->mu);
		k->p->st.swallowed += n;
		pthread_mutex_unlock(&k->p->mu);
		return true;
	case FP_DROP_C2S:
	case FP_DROP_S2C:
		if (c2s == (v->mode == FP_DROP_C2S)) {
			size_t pass = n < v->budget ? n : v->budget;
			v->budget -= pass;
			if (pass > 0 && !proxy_send_all(to, buf, pass))
				return false;
			if (v->budget == 0) {
				conn_reset(k);
				return false;
			}
			return true;
		}
		return proxy_send_all(to, buf, n);
	case FP_RESET:
		conn_reset(k);
		return false;
	default:
		return proxy_send_all(to, buf, n);
	}
}

static void *relay_main(void *arg)
{
	struct conn *k = arg;
	struct view v = { .gen = ~0u };
	uint8_t buf[16384];

	while (k->c >= 0) {
		if (!refresh(k, &v)) {
			conn_reset(k);
			break;
		}
		struct pollfd pfd[2] = { { .fd = k->c, .events = POLLIN },
			                 { .fd = k->s, .events = POLLIN } };
		int r = poll(pfd, 2, POLL_MS);
		if (r < 0 && errno != EINTR)
			break;
		for (int i = 0; r > 0 && i < 2 && k->c >= 0; i++) {
			if (pfd[i].revents == 0)
				continue;
			ssize_t n = recv(pfd[i].fd, buf, sizeof(buf), 0);
			if (n <= 0) {
				/* One side closed (or broke): so does the other. */
				conn_close(k);
				break;
			}
			/* The mode in force when the bytes arrived. */
			if (!refresh(k, &v)) {
				conn_reset(k);
				break;
			}
			if (!handle_chunk(k, &v, i == 0, buf, (size_t)n))
				conn_close(k); /* a no-op after a reset */
		}
	}
	if (k->c >= 0)
		conn_reset(k);
	pthread_mutex_lock(&k->p->mu);
	k->done = true;
	pthread_mutex_unlock(&k->p->mu);
	return NULL;
}

/* Joins and frees the relay threads that ended (all of them when all). */
static void reap(struct fproxy *p, bool all)
{
	struct conn **at = &p->conns;
	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (*at != NULL && !all && !(*at)->done)
			at = &(*at)->next;
		struct conn *k = *at;
		if (k != NULL)
			*at = k->next;
		pthread_mutex_unlock(&p->mu);
		if (k == NULL)
			return;
		pthread_join(k->thread, NULL);
		free(k);
	}
}

static void take(struct fproxy *p, int c)
{
	struct conn *k = calloc(1, sizeof(*k));
	if (k == NULL) {
		rst_close(c);
		return;
	}
	pthread_mutex_lock(&p->mu);
	p->st.accepted++;
	enum fproxy_mode mode = p->mode;
	pthread_mutex_unlock(&p->mu);
	*k = (struct conn){ .p = p, .c = c, .s = -1, .tainted = mode == FP_BLACKHOLE };
	if (mode == FP_RESET) {
		conn_reset(k);
		free(k);
		return;
	}
	if (mode != FP_BLACKHOLE) {
		k->s = proxy_dial(p->target);
		if (k->s < 0) {
			/* Nothing behind us: as if the server reset it. */
			conn_reset(k);
			free(k);
			return;
		}
	}
	bound_send(k->c);
	bound_send(k->s);
	if (pthread_create(&k->thread, NULL, relay_main, k) != 0) {
		conn_reset(k);
		free(k);
		return;
	}
	pthread_mutex_lock(&p->mu);
	k->next = p->conns;
	p->conns = k;
	pthread_mutex_unlock(&p->mu);
}

/* Makes the listener follow the latest mode; under p->mu. */
static void apply_listener(struct fproxy *p)
{
	bool want = p->mode != FP_REFUSE;
	if (want && p->lfd < 0) {
		unsigned bound = 0;
		p->lfd = proxy_listen(p->port, &bound);
		if (p->lfd >= 0 && bound != p->port) {
			close(p->lfd);
			p->lfd = -1;
		}
	} else if (!want && p->lfd >= 0) {
		close(p->lfd);
		p->lfd = -1;
		p->st.refusals++;
	}
	p->applied_gen = p->gen;
	pthread_cond_broadcast(&p->applied_cv);
}

static void *accept_main(void *arg)
{
	struct fproxy *p = arg;
	for (;;) {
		pthread_mutex_lock(&p->mu);
		if (p->stopping) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		if (p->applied_gen != p->gen)
			apply_listener(p);
		int lfd = p->lfd;
		pthread_mutex_unlock(&p->mu);
		reap(p, false);

		struct pollfd pfd[2] = { { .fd = p->wake[0], .events = POLLIN },
			                 { .fd = lfd, .events = POLLIN } };
		if (poll(pfd, 2, POLL_MS) <= 0)
			continue;
		if (pfd[0].revents) {
			char drain[64];
			(void)!read(p->wake[0], drain, sizeof(drain));
		}
		if (pfd[1].revents & POLLIN) {
			int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			if (c >= 0)
				take(p, c);
		}
	}
	return NULL;
}

int fproxy_start(struct fproxy **out, unsigned listen_port, unsigned target_port)
{
	struct fproxy *p = calloc(1, sizeof(*p));
	*out = NULL;
	if (p == NULL)
		return -1;
	p->target = target_port;
	p->lfd = proxy_listen(listen_port, &p->port);
	if (p->lfd < 0) {
		fprintf(stderr, "fproxy: cannot listen on port %u: %s\n", listen_port,
		        strerror(errno));
		free(p);
		return -1;
	}
	if (pipe2(p->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		close(p->lfd);
		free(p);
		return -1;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->applied_cv, NULL);
	if (pthread_create(&p->acceptor, NULL, accept_main, p) != 0) {
		fprintf(stderr, "fproxy: cannot start its thread\n");
		close(p->lfd);
		close(p->wake[0]);
		close(p->wake[1]);
		free(p);
		return -1;
	}
	*out = p;
	return 0;
}

unsigned fproxy_port(const struct fproxy *p)
{
	return p->port;
}

int fproxy_set(struct fproxy *p, enum fproxy_mode mode, unsigned arg)
{
	pthread_mutex_lock(&p->mu);
	p->mode = mode;
	p->arg = arg;
	unsigned mine = ++p->gen;
	(void)!write(p->wake[1], "x", 1);
	while ((int)(p->applied_gen - mine) < 0 && !p->stopping)
		pthread_cond_wait(&p->applied_cv, &p->mu);
	int rc = mode == FP_REFUSE || p->lfd >= 0 ? 0 : -1;
	pthread_mutex_unlock(&p->mu);
	return rc;
}

void fproxy_stats(struct fproxy *p, struct fproxy_stats *out)
{
	pthread_mutex_lock(&p->mu);
	*out = p->st;
	pthread_mutex_unlock(&p->mu);
}

void fproxy_stop(struct fproxy *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	pthread_cond_broadcast(&p->applied_cv);
	pthread_mutex_unlock(&p->mu);
	(void)!write(p->wake[1], "x", 1);
	pthread_join(p->acceptor, NULL);
	reap(p, true);
	if (p->lfd >= 0)
		close(p->lfd);
	close(p->wake[0]);
	close(p->wake[1]);
	pthread_cond_destroy(&p->applied_cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
