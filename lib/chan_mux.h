/*
 * Many threads, one helper channel: each request gets an id of its own and
 * its caller waits for the answer that echoes that id.
 *
 * Receiving is leader/follower, not a reader thread: whichever waiter finds
 * nobody reading takes the receive role, reads frames and hands each one to
 * the waiter of its id, and gives the role up when its own answer came or
 * its deadline passed. Each waiter sleeps on a futex word of its own: the
 * leader wakes exactly the thread an answer is for (once it has taken the
 * frames already queued, since a woken thread tends to take the leader's
 * CPU at once), and on leaving hands the role to one sleeping waiter, so a
 * frame costs one wake-up, not one per thread waiting; a woken waiter whose
 * answer came returns without taking the mux's mutex. So the library
 * starts no thread of its own inside the application (nothing to join at
 * C_Finalize, nothing surprising across fork), and a frame is read by a
 * thread that is waiting anyway. The mux sets a receive timeout (20 ms) on
 * a blocking channel fd, so that the leader waits in recvmsg itself.
 *
 * Contract:
 *  - chan_mux_call() sends req (id filled in here) with fd attached (CONNECT
 *    only, else -1) and waits until deadline_ms (CLOCK_MONOTONIC ms, see
 *    mono_ms, ipc/mono_clock.h) for the answer, which is copied into the caller's
 *    buffer buf (CHAN_MAX_FRAME bytes) with *ans pointing into it.
 *    Returns 0, -ETIMEDOUT, -EPIPE (the channel is dead and req never
 *    reached the helper), -ECONNABORTED (req was sent, then the channel
 *    died: the helper closed it, sent an invalid frame or a channel-level
 *    ERROR, or chan_mux_kill was called), -EINVAL. Nothing waits past
 *    deadline_ms: not the send (the send role is a flag with a timed wait,
 *    not a mutex, so a sender stuck on a full channel holds nobody past
 *    their own deadline), not the answer.
 *  - Liveness within the deadline: in the last second before a waiter's
 *    deadline, unless the helper sent a frame in the last 100 ms, a PING
 *    goes out (one at a time per channel; its PONG is just a sign of life).
 *    When a deadline passes with that PING unanswered for 500 ms, or a
 *    send found the channel full for 500 ms, the helper is hung: the mux
 *    dies (chan_mux_hung() true afterwards) and every other waiter gets
 *    -ECONNABORTED at once, so the caller can kill the helper and retry
 *    on a new one. The caller whose deadline passed gets -ETIMEDOUT.
 *  - An answer that arrives after its caller gave up is dropped; a late
 *    CONNECTED is answered with a CLOSE so the helper frees the connection.
 *  - Once dead, a mux stays dead; every waiter is woken.
 *  - The mux does not own the fd; chan_mux_kill() shuts it down.
 */
#ifndef PKCS11WSOP_LIB_CHAN_MUX_H
#define PKCS11WSOP_LIB_CHAN_MUX_H

#include <stdbool.h>
#include <stdint.h>

#include "ipc/channel.h"

struct chan_mux;

int chan_mux_new(int fd, struct chan_mux **out);
void chan_mux_free(struct chan_mux *m);
/* In a forked child: frees m without touching its locks (threads of the
 * parent may have held them at the fork). */
void chan_mux_forget(struct chan_mux *m);

int chan_mux_call(struct chan_mux *m, struct chan_frame *req, int fd, int64_t deadline_ms,
                  uint8_t *buf, struct chan_frame *ans);

/* Sends f (a CLOSE) without waiting for its answer, which is dropped.
 * Waits at most timeout_ms for the channel. 0, -ETIMEDOUT, -EPIPE. */
int chan_mux_post(struct chan_mux *m, struct chan_frame *f, int timeout_ms);

/* Marks the mux dead, shuts the channel down (so a reader wakes at once)
 * and wakes every waiter (-ECONNABORTED). */
void chan_mux_kill(struct chan_mux *m, const char *why);
bool chan_mux_dead(struct chan_mux *m);
/* Dead because the helper stopped answering (see above). */
bool chan_mux_hung(struct chan_mux *m);
/* Text of the channel-level ERROR that killed it, or "" (copied). */
void chan_mux_death_text(struct chan_mux *m, char *out, size_t cap);

#endif
