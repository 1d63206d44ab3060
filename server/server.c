/* Accept loop, one thread per connection, graceful stop; see server.h. */
#include "server/server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "conf/log.h"
#include "server/conn.h"
#include "server/listener.h"

/* Connection threads need little stack; the big buffers are on the heap. */
#define CONN_STACK_SIZE (512 * 1024)
/* Connections over --max-clients get a 503 busy over TLS from at most this
 * many short-lived threads at once; beyond that they are just closed. */
#define BUSY_THREADS_MAX 4

struct server {
	struct conn_env env;
	pthread_mutex_t lock;
	pthread_cond_t all_done;
	unsigned open;
	unsigned max_clients;
	unsigned refusing; /* busy threads, counted in open too */
};

struct conn_job {
	struct server *srv;
	bool busy; /* refuse with 503 instead of serving */
	int fd;
	char peer[LISTENER_ADDR_MAX];
};

enum slot_kind { SLOT_NONE, SLOT_SERVE, SLOT_BUSY };

static enum slot_kind reserve_slot(struct server *srv)
{
	enum slot_kind kind = SLOT_NONE;

	pthread_mutex_lock(&srv->lock);
	if (srv->open - srv->refusing < srv->max_clients)
		kind = SLOT_SERVE;
	else if (srv->refusing < BUSY_THREADS_MAX)
		kind = SLOT_BUSY;
	if (kind != SLOT_NONE)
		srv->open++;
	if (kind == SLOT_BUSY)
		srv->refusing++;
	pthread_mutex_unlock(&srv->lock);
	return kind;
}

static void release_slot(struct server *srv, bool busy)
{
	pthread_mutex_lock(&srv->lock);
	if (busy)
		srv->refusing--;
	srv->open--;
	if (srv->open == 0)
		pthread_cond_broadcast(&srv->all_done);
	pthread_mutex_unlock(&srv->lock);
}

static void *conn_thread(void *arg)
{
	struct conn_job *job = arg;
	struct server *srv = job->srv;

	bool busy = job->busy;

	if (busy)
		conn_refuse_busy(&srv->env, job->fd, job->peer);
	else
		conn_serve(&srv->env, job->fd, job->peer);
	free(job);
	/* Free OpenSSL's per-thread state now rather than in the thread-exit
	 * handler: once release_slot() says so, shutdown may finish and the
	 * process exit before this detached thread has quite ended. */
	OPENSSL_thread_stop();
	release_slot(srv, busy);
	return NULL;
}

static void start_connection(struct server *srv, int fd, const char *peer)
{
	pthread_attr_t attr;
	pthread_t tid;
	struct conn_job *job;
	enum slot_kind kind = reserve_slot(srv);
	int r;

	if (kind != SLOT_SERVE) {
		wlog(WLOG_WARNING, "refused %s: %u clients connected (--max-clients)%s", peer,
		     srv->max_clients, kind == SLOT_BUSY ? ", answering 503 busy" : "");
		if (kind == SLOT_NONE) {
			close(fd);
			return;
		}
	}
	job = calloc(1, sizeof(*job));
	if (job == NULL) {
		wlog(WLOG_ERROR, "refused %s: out of memory", peer);
		goto fail;
	}
	job->srv = srv;
	job->busy = kind == SLOT_BUSY;
	job->fd = fd;
	memcpy(job->peer, peer, sizeof(job->peer));
	if (pthread_attr_init(&attr) != 0) {
		wlog(WLOG_ERROR, "refused %s: cannot create a thread", peer);
		goto fail;
	}
	(void)pthread_attr_setstacksize(&attr, CONN_STACK_SIZE);
	(void)pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	r = pthread_create(&tid, &attr, conn_thread, job);
	pthread_attr_destroy(&attr);
	if (r != 0) {
		wlog(WLOG_ERROR, "refused %s: cannot create a thread (error %d)", peer, r);
		goto fail;
	}
	return;
fail:
	free(job);
	close(fd);
	release_slot(srv, kind == SLOT_BUSY);
}

static void accept_one(struct server *srv, int listen_fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char peer[LISTENER_ADDR_MAX];
	int fd = accept4(listen_fd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);

	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			wlog(WLOG_WARNING, "accept failed: out of file descriptors or memory");
			/* Do not spin on a full table: let connections end. */
			usleep(100 * 1000);
		}
		return; /* EAGAIN, ECONNABORTED, EINTR...: nothing to do */
	}
	listener_format_addr(&ss, len, peer);
	start_connection(srv, fd, peer);
}

static void log_signal(int signal_fd)
{
	struct signalfd_siginfo si;

	if (read(signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		wlog(WLOG_INFO, "signal %u received: shutting down", si.ssi_signo);
	else
		wlog(WLOG_INFO, "shutting down");
}

int server_run(const struct server_config *cfg)
{
	struct server srv;
	sem_t slots;
	int rc = 0;
	int stop_pipe[2];
	struct pollfd p[2] = {
		{ .fd = cfg->listen_fd, .events = POLLIN },
		{ .fd = cfg->signal_fd, .events = POLLIN },
	};

	if (pipe2(stop_pipe, O_CLOEXEC) != 0)
		return -errno;
	if (sem_init(&slots, 0, cfg->threads) != 0) {
		int e = errno;
		close(stop_pipe[0]);
		close(stop_pipe[1]);
		return -e;
	}
	memset(&srv, 0, sizeof(srv));
	srv.env = (struct conn_env){
		.tls = cfg->tls, .app = cfg->app, .slots = &slots, .stop_fd = stop_pipe[0]
	};
	srv.max_clients = cfg->max_clients;
	pthread_mutex_init(&srv.lock, NULL);
	pthread_cond_init(&srv.all_done, NULL);

	for (;;) {
		int r = poll(p, 2, -1);
		if (r < 0 && errno != EINTR) {
			rc = -errno;
			wlog(WLOG_ERROR, "poll failed in the accept loop: errno %d", -rc);
			break;
		}
		if (r <= 0)
			continue;
		if (p[1].revents & POLLIN) {
			log_signal(cfg->signal_fd);
			break;
		}
		if (p[0].revents & POLLIN)
			accept_one(&srv, cfg->listen_fd);
	}

	close(cfg->listen_fd);
	/* The pipe's read end stays readable from now on: every connection
	 * polling it sees the stop. */
	if (write(stop_pipe[1], "x", 1) != 1)
		wlog(WLOG_ERROR, "cannot signal connections to stop");
	pthread_mutex_lock(&srv.lock);
	if (srv.open > 0)
		wlog(WLOG_INFO, "waiting for %u connections to finish", srv.open);
	while (srv.open > 0)
		pthread_cond_wait(&srv.all_done, &srv.lock);
	pthread_mutex_unlock(&srv.lock);

	pthread_cond_destroy(&srv.all_done);
	pthread_mutex_destroy(&srv.lock);
	sem_destroy(&slots);
	close(stop_pipe[0]);
	close(stop_pipe[1]);
	return rc;
}
