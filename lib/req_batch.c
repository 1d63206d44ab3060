/* Short requests of many threads sent together; see req_batch.h. */
#include "lib/req_batch.h"

#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "conf/log.h"
#include "ipc/channel.h"
#include "ipc/http.h"
#include "ipc/mono_clock.h"
#include "lib/backend_priv.h"

/* Room for the answers read and not yet handed over: one receive and the
 * partial answer before it. */
#define IN_CAP (CHAN_MAX_PAYLOAD + REQ_BATCH_ANSWER_MAX)
/* Batches in a row whose connection ended after answering part of them,
 * before batching is taken to be what the server refuses. A restart can
 * cut one batch so; a server without pipelining cuts every batch of two
 * or more. */
#define CUT_BATCHES_OFF 3

enum member_state {
	M_WAITING, /* in the queue */
	M_TAKEN,   /* in the batch in flight */
	M_LEAD,    /* first in the queue: sends the next batch */
	M_DONE,    /* answer in ans[0..ans_len) */
	M_FAILED,  /* to go the usual road */
};

/* A thread's request while it is queued or in flight. Lives on that
 * thread's stack; every field but seq is under b->mu. */
struct member {
	const uint8_t *req;
	size_t req_len;
	uint8_t *ans; /* REQ_BATCH_ANSWER_MAX bytes of the thread's own */
	size_t ans_len;
	enum member_state state;
	bool parked;          /* asleep on seq: a change of state must wake it */
	_Atomic uint32_t seq; /* futex word: changes (under mu) with state */
	struct member *next;
};

struct req_batch {
	struct backend *be;
	pthread_mutex_t mu;
	bool in_flight; /* a leader is elected or at work */
	struct member *head, *tail;
	unsigned cut; /* batches in a row cut short by the connection's end */
	_Atomic bool off;
	/* The leader's alone: */
	struct bconn *pipe; /* the batch connection's request road */
	uint8_t *out;       /* the batch's requests, one after the other */
	uint8_t *in;        /* IN_CAP bytes of answers */
};

int req_batch_new(struct backend *be, struct req_batch **out)
{
	struct req_batch *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return -ENOMEM;
	b->be = be;
	b->pipe = calloc(1, sizeof(*b->pipe));
	b->out = malloc(CHAN_MAX_PAYLOAD);
	b->in = malloc(IN_CAP);
	if (b->pipe == NULL || b->out == NULL || b->in == NULL) {
		free(b->pipe);
		free(b->out);
		free(b->in);
		free(b);
		return -ENOMEM;
	}
	b->pipe->be = be;
	b->pipe->avoid = -1;
	b->pipe->quiet = true;
	pthread_mutex_init(&b->mu, NULL);
	*out = b;
	return 0;
}

static void free_buffers(struct req_batch *b)
{
	free(b->pipe);
	free(b->out);
	free(b->in);
	free(b);
}

void req_batch_free(struct req_batch *b)
{
	if (b == NULL)
		return;
	if (b->pipe->pc != NULL) {
		backend_conn_put(b->be, b->pipe->pc);
		b->pipe->pc = NULL;
	}
	pthread_mutex_destroy(&b->mu);
	free_buffers(b);
}

void req_batch_forget(struct req_batch *b, struct pconn **conns)
{
	if (b == NULL)
		return;
	if (b->pipe->pc != NULL) {
		b->pipe->pc->next = *conns;
		*conns = b->pipe->pc;
	}
	free_buffers(b);
}

static void futex_wake_one(_Atomic uint32_t *word)
{
	(void)syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Under mu: the member's state changes; its thread is woken by the caller
 * once mu is released. */
static void set_state(struct member *m, enum member_state s)
{
	m->state = s;
	atomic_fetch_add(&m->seq, 1);
}

/* Under mu: takes the queue's first requests that fit one SEND into
 * taken[]; returns how many and their bytes in *total. */
static size_t take(struct req_batch *b, struct member **taken, size_t *total)
{
	size_t n = 0;

	*total = 0;
	while (b->head != NULL && n < REQ_BATCH_MAX &&
	       *total + b->head->req_len <= CHAN_MAX_PAYLOAD) {
		struct member *m = b->head;

		b->head = m->next;
		if (b->head == NULL)
			b->tail = NULL;
		m->next = NULL;
		m->state = M_TAKEN;
		*total += m->req_len;
		taken[n++] = m;
	}
	return n;
}

/* The answers of taken[0..n) read from the batch connection, in order,
 * into each member's buffer: their number, each one M_DONE (the others
 * stay M_TAKEN). *cut is set when the connection ended with answers
 * missing and the last one given did not say it would. */
static size_t read_answers(struct req_batch *b, struct member **taken, size_t n, bool *cut)
{
	struct bconn *pipe = b->pipe;
	size_t in_len = 0, done = 0, touched = 0;
	bool last_kept_alive = false;

	*cut = false;
	while (done < n) {
		struct http_message msg;
		size_t used = 0;
		int rc;

		http_message_init(&msg);
		rc = in_len > 0 ? http_parse_response(b->in, in_len, &msg, &used) : 0;
		if (rc == 0) {
			int64_t left = pipe->deadline_ms - mono_ms();
			ssize_t got =
			    in_len == IN_CAP || left <= 0
			        ? -ETIMEDOUT
			        : retry_transport_recv(pipe, b->in + in_len, IN_CAP - in_len,
			                               left > INT32_MAX ? INT32_MAX : (int)left);
			if (got > 0 && (size_t)got <= IN_CAP - in_len) {
				in_len += (size_t)got;
				if (in_len > touched)
					touched = in_len;
				continue;
			}
			/* Some answers came, the last without "Connection: close",
			 * and then the rest did not: the end, a reset or silence. */
			*cut = done > 0 && last_kept_alive;
			break;
		}
		if (rc < 0)
			break;
		bool kept_alive = msg.keep_alive;
		int status = msg.status;

		http_message_clear(&msg);
		if (status >= 500 || used > REQ_BATCH_ANSWER_MAX)
			break; /* the usual road: a retry, another server, a larger buffer */
		memcpy(taken[done]->ans, b->in, used);
		taken[done]->ans_len = used;
		taken[done]->state = M_DONE;
		done++;
		memmove(b->in, b->in + used, in_len - used);
		in_len -= used;
		last_kept_alive = kept_alive;
		if (!kept_alive)
			break;
	}
	OPENSSL_cleanse(b->in, touched);
	/* Bytes past the last answer, or an answer not taken: the stream is
	 * out of step with the requests. An end asked for: honoured. */
	if (done < n || in_len > 0 || !last_kept_alive)
		retry_transport_drop(pipe, true);
	return done;
}

/* One batch: the queue's first requests sent as one, their answers handed
 * out; then the next leader elected and everyone concerned woken. */
static void lead(struct req_batch *b)
{
	struct member *taken[REQ_BATCH_MAX];
	struct bconn *pipe = b->pipe;
	size_t n, total, done = 0;
	bool cut = false;

	pthread_mutex_lock(&b->mu);
	n = take(b, taken, &total);
	pthread_mutex_unlock(&b->mu);
	/* A lone request goes as it is; several are copied together. */
	total = 0;
	for (size_t i = 0; i < n && n > 1; i++) {
		memcpy(b->out + total, taken[i]->req, taken[i]->req_len);
		total += taken[i]->req_len;
	}
	pipe->req = n > 1 ? b->out : taken[0]->req;
	pipe->req_len = n > 1 ? total : taken[0]->req_len;
	pipe->deadline_ms = mono_ms() + (int64_t)b->be->cfg.timeout * 1000;
	/* One attempt: whatever fails, each request meets it again alone. */
	pipe->retries = b->be->cfg.maxretries;
	pipe->avoid = -1;
	pipe->eof = false;
	pipe->pend = NULL;
	pipe->pend_len = 0;
	int rc = 0;
	if (pipe->pc == NULL)
		rc = backend_conn_take(b->be, pipe->deadline_ms, &pipe->pc);
	if (rc == 0 && n > 0)
		rc = retry_transport_exchange(pipe);
	if (rc == 0 && n > 0)
		done = read_answers(b, taken, n, &cut);
	OPENSSL_cleanse(b->out, total);
	retry_transport_clear(pipe);
	if (n > 1)
		wlog(WLOG_TRACE, "a batch of %zu requests, %zu answered", n, done);

	struct member *next = NULL, *wake[REQ_BATCH_MAX];
	size_t n_wake = 0;
	pthread_mutex_lock(&b->mu);
	for (size_t i = 0; i < n; i++) {
		set_state(taken[i], taken[i]->state == M_DONE ? M_DONE : M_FAILED);
		/* The leader itself, and a thread that has not gone to sleep
		 * yet, see the change under mu: no system call for them. */
		if (taken[i]->parked)
			wake[n_wake++] = taken[i];
	}
	/* Only batches in a row: a restarting server cuts one now and then,
	 * and answers the next in full. */
	if (n > 1 && done == n)
		b->cut = 0;
	if (cut && ++b->cut == CUT_BATCHES_OFF) {
		atomic_store(&b->off, true);
		wlog(WLOG_WARNING, "the server ends its connections before answering the requests "
		                   "sent with others (HTTP/1.1 pipelining): they go one at a time "
		                   "from now on");
	}
	if (b->head != NULL) {
		next = b->head;
		set_state(next, M_LEAD);
		if (!next->parked)
			next = NULL;
	} else {
		b->in_flight = false;
	}
	pthread_mutex_unlock(&b->mu);
	/* wake[] and next live on their threads' stacks: their seq words are
	 * not touched after a thread has seen its state and returned, which
	 * a wake here cannot outrun (a stale wake is a spurious one). */
	for (size_t i = 0; i < n_wake; i++)
		futex_wake_one(&wake[i]->seq);
	if (next != NULL)
		futex_wake_one(&next->seq);
}

static void wait_change(struct req_batch *b, struct member *me)
{
	uint32_t seen = atomic_load(&me->seq);

	me->parked = true;
	pthread_mutex_unlock(&b->mu);
	(void)syscall(SYS_futex, &me->seq, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
	pthread_mutex_lock(&b->mu);
	me->parked = false;
}

int req_batch_call(struct req_batch *b, struct bconn *bc)
{
	if (b == NULL || atomic_load(&b->off) || bc->req_len > CHAN_MAX_PAYLOAD)
		return -EAGAIN;
	if (bc->abuf == NULL) {
		bc->abuf = malloc(REQ_BATCH_ANSWER_MAX);
		if (bc->abuf == NULL)
			return -ENOMEM;
	}
	struct member me = { .req = bc->req, .req_len = bc->req_len, .ans = bc->abuf };

	atomic_init(&me.seq, 0);
	pthread_mutex_lock(&b->mu);
	if (b->tail != NULL)
		b->tail->next = &me;
	else
		b->head = &me;
	b->tail = &me;
	me.state = M_WAITING;
	if (!b->in_flight) {
		b->in_flight = true;
		me.state = M_LEAD;
	}
	for (;;) {
		if (me.state == M_LEAD) {
			pthread_mutex_unlock(&b->mu);
			lead(b);
			pthread_mutex_lock(&b->mu);
			continue;
		}
		if (me.state == M_DONE || me.state == M_FAILED)
			break;
		wait_change(b, &me);
	}
	pthread_mutex_unlock(&b->mu);
	if (me.state == M_FAILED)
		return -EAGAIN;
	bc->pend = bc->abuf;
	bc->pend_len = (uint32_t)me.ans_len;
	bc->abuf_len = me.ans_len;
	bc->eof = true;
	return 0;
}
