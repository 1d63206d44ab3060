/* Accept loop, handshake threads, hand-over to the event loops, graceful
 * stop; see server.h. */
#include "server/server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ipc/mono_clock.h"
#include "conf/log.h"
#include "server/conn.h"
#include "server/evloop.h"
#include "server/gate.h"
#include "server/listener.h"
#include "server/workers.h"

/* Connection threads need little stack; the big buffers are on the heap. */
#define CONN_STACK_SIZE (512 * 1024)
/* Authenticated connections over --max-clients get a 503 busy from at most
 * this many at once; beyond that they are just closed. */
#define BUSY_THREADS_MAX 4

enum job_state {
	JOB_WAITING,
	JOB_HANDSHAKE,
	JOB_CLIENT,
	JOB_LOOP, /* a client handed to an event loop, which ends its place */
	JOB_BUSY,
	JOB_DONE
};

struct conn_job {
	struct server *srv;
	enum job_state state; /* changed under srv->lock */
	bool evicted;         /* its handshake was ended to make room (lock) */
	int gate_index;       /* while JOB_HANDSHAKE */
	int fd;
	int64_t accepted_ms;
	struct gate_source src;
	char peer[LISTENER_ADDR_MAX];
};

struct server {
	struct conn_env env;
	atomic_bool stopping;
	pthread_mutex_t lock;
	pthread_cond_t all_done;
	unsigned open;     /* connection threads */
	unsigned clients;  /* served connections, at most max_clients */
	unsigned refusing; /* answering 503 busy, at most BUSY_THREADS_MAX */
	unsigned max_clients;
	struct gate gate;
	/* Accepted connections that found the handshake budget full, oldest
	 * first; only the accept loop changes it (under lock). */
	struct conn_job **waiting;
	unsigned waiting_count;
	unsigned waiting_cap;
	int wake[2];           /* a byte tells the accept loop that a handshake ended */
	struct evloops *loops; /* NULL: connections stay on their threads */
	struct workers *workers;
};

/* env->adopt: an event loop takes the verified connection. */
static bool adopt(void *arg, SSL *ssl, int fd, const struct conn_names *names)
{
	struct conn_job *job = arg;
	struct server *srv = job->srv;
	bool taken;

	/* Before the hand-over: the loop may close it (and give back its
	 * client place) before this thread goes on. */
	pthread_mutex_lock(&srv->lock);
	job->state = JOB_LOOP;
	pthread_mutex_unlock(&srv->lock);
	taken = evloops_adopt(srv->loops, ssl, fd, names);
	if (!taken) {
		pthread_mutex_lock(&srv->lock);
		job->state = JOB_CLIENT;
		pthread_mutex_unlock(&srv->lock);
	}
	return taken;
}

/* An event loop closed a connection it was given. */
static void loop_closed(void *arg)
{
	struct server *srv = arg;

	pthread_mutex_lock(&srv->lock);
	srv->clients--;
	pthread_mutex_unlock(&srv->lock);
}

static unsigned loops_wanted(int configured)
{
	long cpus;

	if (configured >= 0)
		return (unsigned)configured;
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (cpus < 1)
		return 1;
	return cpus > EVLOOPS_MAX ? EVLOOPS_MAX : (unsigned)cpus;
}

/* Starts the workers and the event loops unless connections keep their
 * threads: 0 or a negative errno. */
static int start_loops(struct server *srv, const struct server_config *cfg)
{
	unsigned n = loops_wanted(cfg->event_loops);
	struct evloop_config lc = { .app = cfg->app,
		                    .stopping = &srv->stopping,
		                    .head_ms = srv->env.head_ms,
		                    .idle_ms = srv->env.idle_ms,
		                    .store_shared = cfg->store_shared,
		                    .busy_threshold = cfg->loop_busy,
		                    .closed = loop_closed,
		                    .arg = srv };
	int rc;

	if (n == 0)
		return 0;
	rc = workers_start(&srv->workers, cfg->threads);
	if (rc != 0)
		return rc;
	lc.workers = srv->workers;
	rc = evloops_start(&srv->loops, n, &lc);
	if (rc != 0) {
		workers_stop(srv->workers);
		srv->workers = NULL;
		return rc;
	}
	srv->env.adopt = adopt;
	return 0;
}

/* env->handshake_done: the handshake's place in the budget is given back
 * and the connection takes a client place (or a busy one) if it may. */
static enum conn_admit handshake_done(void *arg, bool verified)
{
	struct conn_job *job = arg;
	struct server *srv = job->srv;
	enum conn_admit admit = CONN_DROP;
	unsigned clients;

	pthread_mutex_lock(&srv->lock);
	gate_leave(&srv->gate, job->gate_index);
	job->gate_index = -1;
	if (srv->waiting_count > 0 && write(srv->wake[1], "x", 1) < 0) {
		/* Full pipe: the accept loop is already woken. */
	}
	job->state = JOB_DONE;
	if (!verified && job->evicted) {
		admit = CONN_EVICTED;
	} else if (verified && srv->clients < srv->max_clients) {
		srv->clients++;
		job->state = JOB_CLIENT;
		admit = CONN_SERVE;
	} else if (verified && srv->refusing < BUSY_THREADS_MAX) {
		srv->refusing++;
		job->state = JOB_BUSY;
		admit = CONN_BUSY;
	}
	clients = srv->clients;
	pthread_mutex_unlock(&srv->lock);
	if (verified && admit != CONN_SERVE)
		wlog(WLOG_WARNING, "refused %s: %u clients connected (--max-clients)%s", job->peer,
		     clients, admit == CONN_BUSY ? ", answering 503 busy" : "");
	return admit;
}

static void *conn_thread(void *arg)
{
	struct conn_job *job = arg;
	struct server *srv = job->srv;

	conn_serve(&srv->env, job->fd, job->peer, job->accepted_ms, job);
	/* Free OpenSSL's per-thread state now rather than in the thread-exit
	 * handler: once the count below says so, shutdown may finish and the
	 * process exit before this detached thread has quite ended. */
	OPENSSL_thread_stop();
	pthread_mutex_lock(&srv->lock);
	if (job->state == JOB_CLIENT)
		srv->clients--;
	else if (job->state == JOB_BUSY)
		srv->refusing--;
	srv->open--;
	if (srv->open == 0)
		pthread_cond_broadcast(&srv->all_done);
	pthread_mutex_unlock(&srv->lock);
	free(job);
	return NULL;
}

static void drop_job(struct conn_job *job)
{
	close(job->fd);
	free(job);
}

/* Takes a place in the handshake budget (making room if the fair share
 * allows) and starts the connection's thread; false when there is no
 * place (the job is untouched). */
static bool admit(struct server *srv, struct conn_job *job)
{
	pthread_attr_t attr;
	pthread_t tid;
	void *evicted = NULL;
	char victim[LISTENER_ADDR_MAX] = "";
	int index, r;

	pthread_mutex_lock(&srv->lock);
	index = gate_enter(&srv->gate, &job->src, job->accepted_ms, job, &evicted);
	if (index >= 0) {
		job->gate_index = index;
		job->state = JOB_HANDSHAKE;
		srv->open++;
	}
	if (evicted != NULL) {
		struct conn_job *old = evicted;

		old->evicted = true;
		/* The victim's thread wakes up to an ended handshake. Its socket
		 * is still open: it is closed only after handshake_done(), which
		 * needs this lock. */
		(void)shutdown(old->fd, SHUT_RDWR);
		memcpy(victim, old->peer, sizeof(victim));
	}
	pthread_mutex_unlock(&srv->lock);
	if (index < 0)
		return false;
	if (victim[0] != '\0')
		wlog(WLOG_WARNING,
		     "closing the TLS handshake of %s to make room for %s "
		     "(--max-handshakes reached, most of them from its address)",
		     victim, job->peer);

	r = pthread_attr_init(&attr);
	if (r == 0) {
		(void)pthread_attr_setstacksize(&attr, CONN_STACK_SIZE);
		(void)pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		r = pthread_create(&tid, &attr, conn_thread, job);
		pthread_attr_destroy(&attr);
	}
	if (r != 0) {
		wlog(WLOG_ERROR, "refused %s: cannot create a thread (error %d)", job->peer, r);
		pthread_mutex_lock(&srv->lock);
		gate_leave(&srv->gate, job->gate_index);
		srv->open--;
		pthread_mutex_unlock(&srv->lock);
		drop_job(job);
	}
	return true;
}

static void refuse_waiting(struct conn_job *job, bool waited)
{
	wlog(WLOG_WARNING, "refused %s: every --max-handshakes place taken%s", job->peer,
	     waited ? " until its handshake deadline" : ", and every place to wait for one");
	drop_job(job);
}

/* Gives the waiting connections the places that came free, oldest first,
 * and closes those whose handshake deadline has passed while waiting. */
static void admit_waiting(struct server *srv)
{
	int64_t now = mono_ms();
	unsigned kept = 0;

	for (unsigned i = 0; i < srv->waiting_count; i++) {
		struct conn_job *job = srv->waiting[i];

		if (admit(srv, job))
			continue;
		if (now - job->accepted_ms >= srv->env.handshake_ms) {
			refuse_waiting(job, true);
			continue;
		}
		srv->waiting[kept++] = job;
	}
	pthread_mutex_lock(&srv->lock);
	srv->waiting_count = kept;
	pthread_mutex_unlock(&srv->lock);
}

/* Accepts one connection and admits it, queues it or closes it; true when
 * it was queued. */
static bool accept_one(struct server *srv, int listen_fd)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct conn_job *job;
	char peer[LISTENER_ADDR_MAX];
	int fd = listener_accept(listen_fd, &ss, &len, peer);

	if (fd < 0) {
		if (fd == -EMFILE || fd == -ENFILE || fd == -ENOBUFS || fd == -ENOMEM) {
			wlog(WLOG_WARNING, "accept failed: out of file descriptors or memory");
			/* Do not spin on a full table: let connections end. */
			usleep(100 * 1000);
		}
		return false; /* EAGAIN, ECONNABORTED, EINTR...: nothing to do */
	}
	job = calloc(1, sizeof(*job));
	if (job == NULL) {
		wlog(WLOG_ERROR, "refused %s: out of memory", peer);
		close(fd);
		return false;
	}
	*job =
	    (struct conn_job){ .srv = srv, .fd = fd, .gate_index = -1, .accepted_ms = mono_ms() };
	memcpy(job->peer, peer, sizeof(job->peer));
	gate_source_of((const struct sockaddr *)&ss, len, &job->src);
	if (admit(srv, job))
		return false;
	if (srv->waiting_count == srv->waiting_cap) {
		refuse_waiting(job, false);
		return false;
	}
	pthread_mutex_lock(&srv->lock);
	srv->waiting[srv->waiting_count++] = job;
	pthread_mutex_unlock(&srv->lock);
	return true;
}

/* How long poll() may sleep: until the oldest waiting connection's time
 * is up, or forever when none waits. */
static int poll_timeout(const struct server *srv)
{
	int64_t left;

	if (srv->waiting_count == 0)
		return -1;
	left = srv->waiting[0]->accepted_ms + srv->env.handshake_ms - mono_ms();
	return left < 0 ? 0 : (int)left;
}

static void log_signal(int signal_fd)
{
	struct signalfd_siginfo si;

	if (read(signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		wlog(WLOG_INFO, "signal %u received: shutting down", si.ssi_signo);
	else
		wlog(WLOG_INFO, "shutting down");
}

static int server_init(struct server *srv, const struct server_config *cfg, sem_t *slots,
                       int stop_fd)
{
	int rc;

	memset(srv, 0, sizeof(*srv));
	atomic_init(&srv->stopping, false);
	srv->wake[0] = srv->wake[1] = -1;
	srv->env = (struct conn_env){ .tls = cfg->tls,
		                      .app = cfg->app,
		                      .slots = slots,
		                      .stop_fd = stop_fd,
		                      .stopping = &srv->stopping,
		                      .handshake_ms = (int)cfg->handshake_timeout_s * 1000,
		                      .head_ms = (int)cfg->head_timeout_s * 1000,
		                      .idle_ms = (int)cfg->idle_timeout_s * 1000,
		                      .handshake_done = handshake_done };
	srv->max_clients = cfg->max_clients;
	rc = gate_init(&srv->gate, cfg->max_handshakes);
	if (rc != 0)
		return rc;
	/* Room for a burst of as many clients as may be served at once. */
	srv->waiting_cap =
	    cfg->max_clients > cfg->max_handshakes ? cfg->max_clients : cfg->max_handshakes;
	srv->waiting = calloc(srv->waiting_cap, sizeof(*srv->waiting));
	if (srv->waiting == NULL || pipe2(srv->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		rc = srv->waiting == NULL ? -ENOMEM : -errno;
		free(srv->waiting);
		gate_free(&srv->gate);
		return rc;
	}
	pthread_mutex_init(&srv->lock, NULL);
	pthread_cond_init(&srv->all_done, NULL);
	return 0;
}

/* After the accept loop: closes the waiting connections and waits for
 * every connection thread to end. */
static void server_drain(struct server *srv)
{
	for (unsigned i = 0; i < srv->waiting_count; i++)
		drop_job(srv->waiting[i]);
	pthread_mutex_lock(&srv->lock);
	srv->waiting_count = 0;
	if (srv->open > 0)
		wlog(WLOG_INFO, "waiting for %u connections to finish", srv->open);
	while (srv->open > 0)
		pthread_cond_wait(&srv->all_done, &srv->lock);
	pthread_mutex_unlock(&srv->lock);
	/* No handshake thread is left to hand a connection over. */
	evloops_stop(srv->loops);
	workers_stop(srv->workers);

	pthread_cond_destroy(&srv->all_done);
	pthread_mutex_destroy(&srv->lock);
	free(srv->waiting);
	gate_free(&srv->gate);
	close(srv->wake[0]);
	close(srv->wake[1]);
}

static void clear_wake(int fd)
{
	char buf[64];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

int server_run(const struct server_config *cfg)
{
	struct server srv;
	sem_t slots;
	int rc = 0;
	int stop_pipe[2];
	struct pollfd p[3] = {
		{ .fd = cfg->listen_fd, .events = POLLIN },
		{ .fd = cfg->signal_fd, .events = POLLIN },
		{ .fd = -1, .events = POLLIN },
	};

	if (pipe2(stop_pipe, O_CLOEXEC) != 0)
		return -errno;
	if (sem_init(&slots, 0, cfg->threads) != 0) {
		rc = -errno;
		goto out_pipe;
	}
	rc = server_init(&srv, cfg, &slots, stop_pipe[0]);
	if (rc != 0) {
		sem_destroy(&slots);
		goto out_pipe;
	}
	p[2].fd = srv.wake[0];
	rc = start_loops(&srv, cfg);
	if (rc != 0) {
		wlog(WLOG_ERROR, "cannot start the event loops: errno %d", -rc);
		close(cfg->listen_fd);
		server_drain(&srv);
		sem_destroy(&slots);
		goto out_pipe;
	}

	for (;;) {
		int r = poll(p, 3, poll_timeout(&srv));
		if (r < 0 && errno != EINTR) {
			rc = -errno;
			wlog(WLOG_ERROR, "poll failed in the accept loop: errno %d", -rc);
			break;
		}
		if (r > 0 && (p[1].revents & POLLIN)) {
			log_signal(cfg->signal_fd);
			break;
		}
		if (r > 0 && (p[2].revents & POLLIN))
			clear_wake(srv.wake[0]);
		admit_waiting(&srv);
		/* A handshake that ended while the newcomer was being queued
		 * saw nobody waiting and woke nobody: look again. */
		if (r > 0 && (p[0].revents & POLLIN) && accept_one(&srv, cfg->listen_fd))
			admit_waiting(&srv);
	}

	close(cfg->listen_fd);
	atomic_store(&srv.stopping, true);
	/* The pipe's read end stays readable from now on: every connection
	 * polling it sees the stop. */
	if (write(stop_pipe[1], "x", 1) != 1)
		wlog(WLOG_ERROR, "cannot signal connections to stop");
	if (srv.loops != NULL)
		evloops_kick(srv.loops);
	server_drain(&srv);
	sem_destroy(&slots);
out_pipe:
	close(stop_pipe[0]);
	close(stop_pipe[1]);
	return rc;
}
