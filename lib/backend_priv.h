/*
 * Internals shared by backend.c (lifetime, pool, helper sessions) and
 * retry_transport.c (one request's road: connect, send, retry, read).
 *
 * Locking: be->lock guards be->cur (and its ready flag), both idle lists, the connection count,
 * be->pick and every session's refs and failed flag; it is never held while waiting
 * for the helper or the server. be->spawning makes one thread at a time
 * start a new helper; be->changed (CLOCK_MONOTONIC) wakes those waiting for
 * it or for a connection slot. A struct bconn, and the struct pconn it holds, are used by one
 * thread at a time (the one that acquired the bconn).
 */
#ifndef PKCS11WSOP_LIB_BACKEND_PRIV_H
#define PKCS11WSOP_LIB_BACKEND_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf/config.h"
#include "lib/backend.h"
#include "lib/chan_mux.h"
#include "lib/helper_proc.h"
#include "lib/server_pick.h"

struct req_batch;

/* One running helper and its channel. Connections hold a reference, so the
 * channel fd stays open (and is never reused by another file) while any
 * thread may still be reading it. */
struct hsess {
	struct helper_proc proc;
	struct chan_mux *mux;
	unsigned refs;
	bool ready;                /* its READY was read; else started ahead, unawaited */
	bool failed;               /* replaced: no new connections on it */
	struct hsess *forget_next; /* backend_forget's list */
	bool forgotten;
};

/* One of the BACKEND_MAX_CONNS connection slots: a TLS connection held by
 * the helper for us (or none yet), and the buffer its answers land in. */
struct pconn {
	struct hsess *sess; /* NULL until connected */
	uint32_t handle;    /* the helper's connection handle, 0 when none */
	unsigned server;    /* index in cfg.servers of its (last) connection */
	uint8_t *fbuf;      /* CHAN_MAX_FRAME bytes for answers from the helper */
	struct pconn *next;
};

/* A client handed to a thread, and the connection slot it holds from its
 * first request until it is released. */
struct bconn {
	struct backend *be;
	struct wsop_client client;
	struct pconn *pc; /* NULL until the first request */
	/* the current request */
	const uint8_t *req; /* the client's request bytes, valid until the answer is read */
	size_t req_len;
	int64_t deadline_ms;
	unsigned retries; /* of the current request */
	int avoid;        /* server the request just failed on, -1: none */
	bool eof;
	/* DATA received and not yet handed to the client: inside pc->fbuf */
	const uint8_t *pend;
	uint32_t pend_len;
	/* why the last failed request failed, in words (backend_failure_cause) */
	char cause[CHAN_ERROR_TEXT_MAX + 64];
	/* A batch's own attempt (req_batch.h): failures logged at DEBUG only,
	 * since each request meets them again on the usual road. */
	bool quiet;
	uint8_t *abuf;   /* REQ_BATCH_ANSWER_MAX bytes: a batched answer, or NULL */
	size_t abuf_len; /* of the last answer there, wiped with the request */
	struct bconn *next;
};

struct backend {
	struct wsop_config cfg;
	char config_path[CONFIG_PATH_MAX];
	pthread_mutex_t lock;
	pthread_cond_t changed; /* a helper started, a slot went back to idle_conns */
	bool spawning;
	struct hsess *cur;
	/* A helper refused its configuration or credentials: none is started
	 * again before this (mono_ms), 0 when none refused (backend_sess.c). */
	int64_t refused_until_ms;
	struct bconn *idle;
	unsigned n_idle;
	struct pconn *idle_conns; /* connected ones first */
	struct server_pick pick;  /* which servers are set aside (several in HOST) */
	unsigned n_conns;         /* slots in existence, <= BACKEND_MAX_CONNS */
	struct req_batch *batch;  /* short requests sent together (req_batch.h) */
};

/* With be->lock held: waits for be->changed until deadline_ms; false once
 * that has passed (the lock still held). */
bool backend_wait_changed(struct backend *be, int64_t deadline_ms);

/* A connection slot for bc's request, waiting for one to be released
 * until deadline_ms: 0, -ETIMEDOUT or -ENOMEM. */
int backend_conn_take(struct backend *be, int64_t deadline_ms, struct pconn **out);
/* Gives a slot back to the idle ones (connected ones are reused first). */
void backend_conn_put(struct backend *be, struct pconn *pc);

/* Starts a helper without awaiting its READY and makes it be->cur, not
 * ready yet: the first backend_sess_get awaits it. 0 or the negative errno
 * of helper_proc_start. */
int backend_sess_prestart(struct backend *be);
/* A referenced, live session: the current helper once ready, awaiting the
 * READY of one started ahead or starting one when there is none (at most
 * timeout_ms; another thread's start awaited no longer either). Returns 0,
 * -ETIMEDOUT or the negative errno of helper_proc_start or
 * helper_proc_await_ready. A helper that refused its configuration or
 * credentials (-EKEYREJECTED) would refuse again until someone changes a
 * file: for BACKEND_REFUSED_HOLD_MS after one did, no helper is started
 * and -EKEYREJECTED comes back at once, so that an application calling in
 * a loop does not start a helper per call. */
#define BACKEND_REFUSED_HOLD_MS 1000
int backend_sess_get(struct backend *be, int timeout_ms, struct hsess **out);
void backend_sess_put(struct backend *be, struct hsess *s);
/* The helper is dead or hung: kill it (hung) or let it go, reap it and log
 * how it ended, wake its waiters, and make the next call start a new one. */
void backend_sess_fail(struct backend *be, struct hsess *s, bool hung);

/* The transport of bc's client (retry_transport.c). */
void retry_transport_bind(struct bconn *bc, struct wsop_transport *t);
/* Forgets the connection of bc's slot: CLOSE to the helper (not waiting
 * for its answer) when say_close and it is alive, then drops the session
 * reference. The slot stays with bc. */
void retry_transport_drop(struct bconn *bc, bool say_close);
/* Forgets the request (the client owns and wipes its bytes). */
void retry_transport_clear(struct bconn *bc);
/* bc->req on bc's connection with the retry policy, as a client's
 * send_all does (bc->req, req_len, deadline_ms, retries, avoid set): 0
 * with the first answer bytes in bc->pend, or a negative errno. */
int retry_transport_exchange(struct bconn *bc);
/* The next answer bytes of bc's request into buf, as a client's recv_some
 * reads them: > 0, or 0 / a negative errno. */
ssize_t retry_transport_recv(struct bconn *bc, uint8_t *buf, size_t cap, int timeout_ms);

#endif
