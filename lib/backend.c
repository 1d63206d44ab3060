/*
 * The backend's lifetime and its pool of connections (lib/backend.h). The
 * road of one request is in retry_transport.c, the helper sessions in
 * backend_sess.c.
 */
#include "lib/backend.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ipc/mono_clock.h"
#include "conf/log.h"
#include "lib/backend_priv.h"
#include "lib/req_batch.h"

/* Idle clients kept beyond this are freed: a burst of threads should not
 * pin memory forever. (Server connections are bounded apart from this, by
 * BACKEND_MAX_CONNS.) */
#define POOL_IDLE_MAX 32

int backend_open(const struct wsop_config *cfg, const char *config_path, struct backend **out)
{
	if (cfg == NULL || config_path == NULL || out == NULL)
		return -EINVAL;
	*out = NULL;
	if (strlen(config_path) >= CONFIG_PATH_MAX || cfg->host[0] == '\0')
		return -EINVAL;
	struct backend *be = calloc(1, sizeof(*be));
	if (be == NULL)
		return -ENOMEM;
	be->cfg = *cfg;
	if (be->cfg.n_servers == 0) {
		/* A configuration filled in by a program rather than parsed:
		 * host and port are the one server. */
		memcpy(be->cfg.servers[0].host, cfg->host, sizeof(cfg->host));
		be->cfg.servers[0].port = cfg->port;
		be->cfg.n_servers = 1;
	}
	server_pick_init(&be->pick, be->cfg.n_servers);
	strcpy(be->config_path, config_path);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	int rc = pthread_cond_init(&be->changed, &ca);
	pthread_condattr_destroy(&ca);
	if (rc) {
		free(be);
		return -rc;
	}
	pthread_mutex_init(&be->lock, NULL);
	rc = req_batch_new(be, &be->batch);
	if (rc) {
		backend_close(be);
		return rc;
	}

	/* Start the helper now but do not wait for it: it loads its
	 * credentials and confines itself while the application goes on,
	 * and the first request awaits its READY. */
	rc = backend_sess_prestart(be);
	if (rc) {
		backend_close(be);
		return rc;
	}
	*out = be;
	return 0;
}

int backend_ready(struct backend *be)
{
	if (be == NULL)
		return -EINVAL;
	struct hsess *s;
	int rc = backend_sess_get(be, (int)be->cfg.timeout * 1000, &s);
	if (rc == 0)
		backend_sess_put(be, s);
	return rc;
}

static void pconn_free(struct pconn *pc)
{
	free(pc->fbuf);
	free(pc);
}

bool backend_wait_changed(struct backend *be, int64_t deadline_ms)
{
	if (mono_ms() >= deadline_ms)
		return false;
	struct timespec ts = { (time_t)(deadline_ms / 1000), (long)(deadline_ms % 1000) * 1000000 };
	pthread_cond_timedwait(&be->changed, &be->lock, &ts);
	return true;
}

int backend_conn_take(struct backend *be, int64_t deadline_ms, struct pconn **out)
{
	pthread_mutex_lock(&be->lock);
	for (;;) {
		struct pconn *pc = be->idle_conns;
		if (pc != NULL) {
			be->idle_conns = pc->next;
			pthread_mutex_unlock(&be->lock);
			pc->next = NULL;
			*out = pc;
			return 0;
		}
		if (be->n_conns < BACKEND_MAX_CONNS) {
			be->n_conns++;
			break;
		}
		if (!backend_wait_changed(be, deadline_ms)) {
			pthread_mutex_unlock(&be->lock);
			return -ETIMEDOUT;
		}
	}
	pthread_mutex_unlock(&be->lock);
	struct pconn *pc = calloc(1, sizeof(*pc));
	if (pc != NULL)
		pc->fbuf = malloc(CHAN_MAX_FRAME);
	if (pc == NULL || pc->fbuf == NULL) {
		free(pc);
		pthread_mutex_lock(&be->lock);
		be->n_conns--;
		pthread_cond_broadcast(&be->changed);
		pthread_mutex_unlock(&be->lock);
		return -ENOMEM;
	}
	*out = pc;
	return 0;
}

/* Gives bc's slot back: connected slots are reused first, so that the
 * process keeps as few server connections open as its load needs. */
static void conn_put(struct backend *be, struct bconn *bc)
{
	struct pconn *pc = bc->pc;
	if (pc == NULL)
		return;
	bc->pc = NULL;
	bc->pend = NULL;
	bc->pend_len = 0;
	backend_conn_put(be, pc);
}

void backend_conn_put(struct backend *be, struct pconn *pc)
{
	pthread_mutex_lock(&be->lock);
	struct pconn **at = &be->idle_conns;
	if (!pc->handle)
		while (*at)
			at = &(*at)->next;
	pc->next = *at;
	*at = pc;
	pthread_cond_broadcast(&be->changed);
	pthread_mutex_unlock(&be->lock);
}

static void bconn_free(struct bconn *bc)
{
	retry_transport_clear(bc);
	wsop_client_free(&bc->client);
	if (bc->abuf != NULL)
		OPENSSL_clear_free(bc->abuf, REQ_BATCH_ANSWER_MAX);
	free(bc);
}

void backend_close(struct backend *be)
{
	if (be == NULL)
		return;
	req_batch_free(be->batch);
	be->batch = NULL;
	pthread_mutex_lock(&be->lock);
	struct bconn *list = be->idle;
	be->idle = NULL;
	be->n_idle = 0;
	struct pconn *conns = be->idle_conns;
	be->idle_conns = NULL;
	struct hsess *cur = be->cur;
	be->cur = NULL;
	pthread_mutex_unlock(&be->lock);
	while (list != NULL) {
		struct bconn *next = list->next;
		bconn_free(list);
		list = next;
	}
	struct bconn tmp = { .be = be };
	while (conns != NULL) {
		struct pconn *next = conns->next;
		/* No CLOSE frames: the helper drops every connection when its
		 * channel closes. */
		tmp.pc = conns;
		retry_transport_drop(&tmp, false);
		pconn_free(conns);
		conns = next;
	}
	backend_sess_put(be, cur);
	pthread_mutex_destroy(&be->lock);
	pthread_cond_destroy(&be->changed);
	OPENSSL_cleanse(be, sizeof(*be));
	free(be);
}

/* Adds s to the list of sessions a forked child drops, once. */
static void forget_note(struct hsess *s, struct hsess **list)
{
	if (s == NULL || s->forgotten)
		return;
	s->forgotten = true;
	s->forget_next = *list;
	*list = s;
}

/* In a forked child: the locks may be held by threads that do not exist
 * here, so nothing is locked, nothing sent, nobody signalled or reaped.
 * The channels were already closed by helper_proc's atfork handler (so
 * that the parent's helpers see end of file when the parent dies); their
 * numbers may be reused by now, so they are not closed again here. */
void backend_forget(struct backend *be)
{
	if (be == NULL)
		return;
	struct hsess *sessions = NULL;
	forget_note(be->cur, &sessions);
	struct bconn *bc = be->idle;
	while (bc != NULL) {
		struct bconn *next = bc->next;
		bconn_free(bc);
		bc = next;
	}
	struct pconn *pc = be->idle_conns;
	req_batch_forget(be->batch, &pc);
	while (pc != NULL) {
		struct pconn *next = pc->next;
		forget_note(pc->sess, &sessions);
		pconn_free(pc);
		pc = next;
	}
	while (sessions != NULL) {
		struct hsess *next = sessions->forget_next;
		chan_mux_forget(sessions->mux);
		free(sessions);
		sessions = next;
	}
	OPENSSL_cleanse(be, sizeof(*be));
	free(be);
}

struct wsop_client *backend_acquire(struct backend *be)
{
	if (be == NULL)
		return NULL;
	pthread_mutex_lock(&be->lock);
	struct bconn *bc = be->idle;
	if (bc != NULL) {
		be->idle = bc->next;
		be->n_idle--;
	}
	pthread_mutex_unlock(&be->lock);
	if (bc != NULL) {
		bc->next = NULL;
		return &bc->client;
	}
	bc = calloc(1, sizeof(*bc));
	if (bc == NULL)
		return NULL;
	bc->be = be;
	struct wsop_transport t;
	retry_transport_bind(bc, &t);
	if (wsop_client_init(&bc->client, &t, be->cfg.host, (int)be->cfg.timeout * 1000) != 0) {
		free(bc);
		return NULL;
	}
	return &bc->client;
}

static struct bconn *bconn_of(struct wsop_client *c)
{
	return (struct bconn *)((char *)c - offsetof(struct bconn, client));
}

const char *backend_failure_cause(const struct wsop_client *c)
{
	if (c == NULL)
		return "";
	const struct bconn *bc =
	    (const struct bconn *)((const char *)c - offsetof(struct bconn, client));
	return bc->cause;
}

void backend_release(struct backend *be, struct wsop_client *c)
{
	if (be == NULL || c == NULL)
		return;
	struct bconn *bc = bconn_of(c);
	retry_transport_clear(bc);
	if (wsop_client_broken(c)) {
		/* The stream is at an unknown point or the server asked to
		 * close: start the next call on a new connection. */
		retry_transport_drop(bc, true);
		struct wsop_transport t;
		retry_transport_bind(bc, &t);
		wsop_client_set_transport(c, &t);
	}
	conn_put(be, bc);
	pthread_mutex_lock(&be->lock);
	bool keep = be->n_idle < POOL_IDLE_MAX;
	if (keep) {
		bc->next = be->idle;
		be->idle = bc;
		be->n_idle++;
	}
	pthread_mutex_unlock(&be->lock);
	if (!keep)
		bconn_free(bc);
}

pid_t backend_helper_pid(const struct backend *be)
{
	if (be == NULL)
		return 0;
	struct backend *m = (struct backend *)be; /* the lock is not state */
	pthread_mutex_lock(&m->lock);
	pid_t pid = m->cur ? m->cur->proc.pid : 0;
	pthread_mutex_unlock(&m->lock);
	return pid;
}
