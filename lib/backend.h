/*
 * The library's road to the WSOP server: the confined helper process, the
 * channel to it, the pool of TLS connections it holds for us, and the
 * retry/deadline policy of the manual (MAXRETRIES, RETRYDELAY, TIMEOUT).
 * The PKCS #11 layer and softcardtool see only this header and
 * lib/wsop_client.h.
 *
 * Contract:
 *  - backend_open() starts the helper (PKCS11WSOP_HELPER_PATH, or
 *    $PKCS11WSOP_HELPER when set and the process is not AT_SECURE) with one
 *    end of a SOCK_SEQPACKET socketpair, and returns without waiting for
 *    its READY: the first request (or backend_ready()) waits for it,
 *    within its own deadline, and fails with the helper's cause when it
 *    could not load its credentials. The helper alone reads CERT, KEY and
 *    AUTH; this process never opens them.
 *  - The helper never dials: for each new connection this process resolves
 *    HOST, connects TCP (TCP_NODELAY, non-blocking) to HOST:PORT and passes the
 *    connected fd with SCM_RIGHTS; the helper runs the TLS handshake
 *    (verifying the server against AUTH and HOST) and then carries bytes.
 *  - backend_acquire() hands the calling thread a wsop_client; its first
 *    request takes one of the process's BACKEND_MAX_CONNS connection slots
 *    (waiting, within that request's deadline, for another thread to
 *    release one) and keeps it until backend_release(). A slot's TLS
 *    connection is opened lazily and kept for the next thread, so however
 *    many threads call, the process never holds more than
 *    BACKEND_MAX_CONNS server connections (16: well under wsopd's default
 *    --max-clients of 64, so several processes fit, and beyond what one
 *    helper's single event loop and a server's worker threads turn into
 *    throughput). A client is used by one thread at a time.
 *  - Retries: a request whose connection failed (refused, reset, closed,
 *    TLS failure, its attempt's TIMEOUT passed) before its answer was
 *    complete is sent again on a new connection (the answer is then read
 *    from its start), up to MAXRETRIES times, RETRYDELAY seconds apart, with
 *    the same bytes (so the same Idempotency-Key: a retry never creates or
 *    deletes twice). A stale keep-alive connection found closed on first
 *    use, or a helper found dead before the request reached it, is replaced
 *    at once and does not count as a retry. A request the helper died with,
 *    or was hung with, is sent again at once on a new helper, counted as a
 *    retry. A "503 busy" answer (the server refused the request before doing
 *    anything) is retried after a short back-off (100 ms doubling to 1 s,
 *    with jitter, never above RETRYDELAY), counted as a retry; when retries
 *    run out, the 503 answer itself is returned. Never retried: a server
 *    certificate refused by the helper, our certificate refused by the
 *    server, any answer but 503. Each retry is logged at WARNING ("...
 *    (attempt k of n); trying again in D"), the end at ERROR.
 *  - Deadlines: each attempt of a request ends within TIMEOUT seconds of
 *    its start (-ETIMEDOUT otherwise), waiting for a connection slot (first
 *    attempt) and starting a helper included (name resolution of HOST
 *    excepted, see tcp_connect.h); a call so ends within
 *    (MAXRETRIES + 1) x TIMEOUT + MAXRETRIES x RETRYDELAY. A helper that
 *    stops answering is recognised within an attempt (chan_mux.h), killed,
 *    reaped and replaced; the requests in flight on it are retried on the
 *    new one as above.
 *  - Errors of a call, besides wsop_client.h's: -ECONNREFUSED,
 *    -EHOSTUNREACH (also: HOST does not resolve), -ETIMEDOUT,
 *    -EKEYREJECTED (TLS verification or the client credentials failed),
 *    -ECONNRESET (the connection broke), -ECONNABORTED (the helper died
 *    with the request, and retries ran out), -EMFILE (the helper's connection table is full),
 *    -EIO (the helper refused or failed). After any failed call (or an
 *    answer with "Connection: close") the client answers -ENOTCONN, as
 *    wsop_client.h says, until it is released: release it and acquire
 *    again to go on (on a new connection).
 *  - Every connection failure is logged at ERROR with its cause in words
 *    ("connection refused", "timed out", "unknown CA", "certificate
 *    expired", "server name mismatch", "helper died (signal 31)"...).
 *  - Fork: in a child, backend_forget() drops the backend without writing
 *    to the channel or signalling the parent's helper (the child's copies
 *    of the channels were closed at the fork, see helper_proc.h; it frees
 *    memory). The parent is unaffected.
 *  - Thread-safe; no lock is held while waiting for the server.
 */
#ifndef PKCS11WSOP_LIB_BACKEND_H
#define PKCS11WSOP_LIB_BACKEND_H

#include <stdbool.h>
#include <sys/types.h>

#include "conf/config.h"
#include "lib/wsop_client.h"

/* Server connections one process holds at most (see backend_acquire). */
#define BACKEND_MAX_CONNS 16

struct backend;

/* config_path is the file cfg was read from; the helper is told to read
 * the same file (it needs CERT, KEY, AUTH and the log settings). Returns 0
 * or a negative errno (-ECHILD: the helper binary could not be executed);
 * on failure the cause has been logged. */
int backend_open(const struct wsop_config *cfg, const char *config_path, struct backend **out);

/* Waits (within TIMEOUT) until the helper is ready: 0, or the error a
 * first request would meet (-EKEYREJECTED: it could not load its
 * configuration or credentials; -ETIMEDOUT; -ECHILD), logged. For
 * programs that want a broken configuration reported before anything
 * else; a later call starts a new helper, but not within a second of a
 * refusal (-EKEYREJECTED again at once, backend_priv.h). */
int backend_ready(struct backend *be);

/* Closes the pool and the channel, kills the helper if it does not exit on
 * its own within a second, reaps it; a helper still starting that no
 * request has needed yet is killed at once (helper_proc.h). Every acquired
 * client must have been released. NULL is fine. */
void backend_close(struct backend *be);

/* In a forked child: forget be without touching the parent's helper. */
void backend_forget(struct backend *be);

/* A client for this thread's next calls; NULL only on allocation failure.
 * Calls through it follow the retry and deadline rules above. A thread
 * must not hold two clients at once: the second could wait for a slot the
 * first one holds. */
struct wsop_client *backend_acquire(struct backend *be);
void backend_release(struct backend *be, struct wsop_client *c);

/* Why the last call on c (a client of backend_acquire) failed to reach the
 * server, in the words the log uses ("server name mismatch (...)",
 * "connection refused", "helper died"...); "" when it did not fail so.
 * Valid until the next call on c; holds no secret. */
const char *backend_failure_cause(const struct wsop_client *c);

/* The helper's pid (0 when none is running), for tests and logs. */
pid_t backend_helper_pid(const struct backend *be);

#endif
