/*
 * The backend's lifetime and its pool of connections (lib/backend.h). The
 * road of one request is in retry_transport.c, the helper sessions in
 * backend_sess.c.
 */
#include "lib/backend.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "conf/log.h"
#include "lib/backend_priv.h"

/* Idle connections kept beyond this are closed: a burst of threads should
 * not pin server connections forever. */
#define POOL_IDLE_MAX 32

int backend_open(const struct wsop_config *cfg, const char *config_path, struct backend **out)
{
	if (!cfg || !config_path || !out)
		return -EINVAL;
	*out = NULL;
	if (strlen(config_path) >= CONFIG_PATH_MAX || cfg->host[0] == '\0')
		return -EINVAL;
	struct backend *be = calloc(1, sizeof(*be));
	if (!be)
		return -ENOMEM;
	be->cfg = *cfg;
	strcpy(be->config_path, config_path);
	pthread_mutex_init(&be->lock, NULL);
	pthread_mutex_init(&be->spawn_lock, NULL);

	/* Start the helper now, so that a configuration it cannot use fails
	 * here rather than at the first request. */
	struct hsess *s;
	int rc = backend_sess_get(be, (int)cfg->timeout * 1000, &s);
	if (rc) {
		backend_close(be);
		return rc;
	}
	backend_sess_put(be, s);
	*out = be;
	return 0;
}

static void bconn_free(struct bconn *bc, bool say_close)
{
	retry_transport_drop(bc, say_close);
	retry_transport_clear(bc);
	wsop_client_free(&bc->client);
	free(bc->fbuf);
	free(bc);
}

void backend_close(struct backend *be)
{
	if (!be)
		return;
	pthread_mutex_lock(&be->lock);
	struct bconn *list = be->idle;
	be->idle = NULL;
	be->n_idle = 0;
	struct hsess *cur = be->cur;
	be->cur = NULL;
	pthread_mutex_unlock(&be->lock);
	while (list) {
		struct bconn *next = list->next;
		/* No CLOSE frames: the helper drops every connection when its
		 * channel closes. */
		bconn_free(list, false);
		list = next;
	}
	backend_sess_put(be, cur);
	pthread_mutex_destroy(&be->lock);
	pthread_mutex_destroy(&be->spawn_lock);
	OPENSSL_cleanse(be, sizeof(*be));
	free(be);
}

/* Adds s to the list of sessions a forked child drops, once. */
static void forget_note(struct hsess *s, struct hsess **list)
{
	if (!s || s->forgotten)
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
	if (!be)
		return;
	struct hsess *sessions = NULL;
	forget_note(be->cur, &sessions);
	struct bconn *bc = be->idle;
	while (bc) {
		struct bconn *next = bc->next;
		forget_note(bc->sess, &sessions);
		retry_transport_clear(bc);
		wsop_client_free(&bc->client);
		free(bc->fbuf);
		free(bc);
		bc = next;
	}
	while (sessions) {
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
	if (!be)
		return NULL;
	pthread_mutex_lock(&be->lock);
	struct bconn *bc = be->idle;
	if (bc) {
		be->idle = bc->next;
		be->n_idle--;
	}
	pthread_mutex_unlock(&be->lock);
	if (bc) {
		bc->next = NULL;
		return &bc->client;
	}
	bc = calloc(1, sizeof(*bc));
	if (!bc)
		return NULL;
	bc->fbuf = malloc(CHAN_MAX_FRAME);
	if (!bc->fbuf) {
		free(bc);
		return NULL;
	}
	bc->be = be;
	struct wsop_transport t;
	retry_transport_bind(bc, &t);
	if (wsop_client_init(&bc->client, &t, be->cfg.host, (int)be->cfg.timeout * 1000) != 0) {
		free(bc->fbuf);
		free(bc);
		return NULL;
	}
	return &bc->client;
}

static struct bconn *bconn_of(struct wsop_client *c)
{
	return (struct bconn *)((char *)c - offsetof(struct bconn, client));
}

void backend_release(struct backend *be, struct wsop_client *c)
{
	if (!be || !c)
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
	pthread_mutex_lock(&be->lock);
	bool keep = be->n_idle < POOL_IDLE_MAX;
	if (keep) {
		bc->next = be->idle;
		be->idle = bc;
		be->n_idle++;
	}
	pthread_mutex_unlock(&be->lock);
	if (!keep)
		bconn_free(bc, true);
}

pid_t backend_helper_pid(const struct backend *be)
{
	if (!be)
		return 0;
	struct backend *m = (struct backend *)be; /* the lock is not state */
	pthread_mutex_lock(&m->lock);
	pid_t pid = m->cur ? m->cur->proc.pid : 0;
	pthread_mutex_unlock(&m->lock);
	return pid;
}
