/*
 * Short requests of many threads, sent together: HTTP/1.1 pipelining on
 * one TLS connection of the pool, so that a burst of small encrypts and
 * decrypts costs the helper one frame in, one TLS write, one read and one
 * frame out, and the server one read and one send, instead of one each
 * per request.
 *
 * Group commit, without a thread of its own: a thread whose request finds
 * no batch in flight sends it at once, with every request that waits, as
 * one SEND on the batch connection (the leader), reads the answers in
 * order, hands each to its thread and wakes it; requests that come
 * meanwhile wait for the next batch, which the first of them leads. A
 * lone thread therefore sends alone, as without batching, and no request
 * waits for a timer.
 *
 * Contract:
 *  - Only requests that the server answers at once, with a short answer,
 *    and that are safe to send again come here (wsop_transport.h,
 *    send_quick): the binary encrypt and decrypt of up to
 *    WSOP_QUICK_BODY_MAX bytes.
 *  - req_batch_call() returns 0 with bc->pend, bc->pend_len holding the
 *    answer (whole: head and Content-Length body, in bc's own buffer), or
 *    a negative errno when the request is to go the usual road alone
 *    (lib/backend.h: its own connection, retries, the log): its batch
 *    failed or could not be sent, its answer did not come whole, was
 *    larger than REQ_BATCH_ANSWER_MAX, or was a 5xx (a 503 busy or a
 *    failed server that the usual road retries or moves away from), or
 *    batching is off. The batch's own attempt is made once and logged
 *    only at DEBUG: whatever failed, the usual road meets it again and
 *    says so.
 *  - A server that, three batches in a row, answers part of a batch and
 *    then ends the connection or falls silent (the last answer it gave
 *    without "Connection: close") is taken as one that does not answer
 *    pipelined requests: batching stays off in this process from then on
 *    (one WARNING). A batch answered in full starts the count again, so a
 *    server that restarts now and then is not mistaken for one.
 *  - Request bytes copied into the batch are wiped once sent; answers once
 *    handed over.
 *  - Thread-safe. req_batch_free() when no request is in flight;
 *    req_batch_forget() in a forked child (nothing locked, nothing sent).
 */
#ifndef PKCS11WSOP_LIB_REQ_BATCH_H
#define PKCS11WSOP_LIB_REQ_BATCH_H

#include <stddef.h>

#include "lib/wsop_transport.h"

/* An answer's head and body: the body is at most one block longer than
 * the request's. */
#define REQ_BATCH_ANSWER_MAX (WSOP_QUICK_BODY_MAX + 2048)
/* Requests one batch carries at most. */
#define REQ_BATCH_MAX 32

struct backend;
struct bconn;
struct pconn;
struct req_batch;

int req_batch_new(struct backend *be, struct req_batch **out);
void req_batch_free(struct req_batch *b);
/* Frees b; its connection slot, if any, joins *conns, which the caller
 * drops as a forked child does (backend_forget). */
void req_batch_forget(struct req_batch *b, struct pconn **conns);

/* bc's request (bc->req, bc->req_len, set as for the usual road). */
int req_batch_call(struct req_batch *b, struct bconn *bc);

#endif
