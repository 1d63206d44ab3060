/*
 * Many threads, one helper channel: each request gets an id of its own and
 * its caller waits for the answer that echoes that id.
 *
 * Receiving is leader/follower, not a reader thread: whichever waiter finds
 * nobody reading takes the receive role, reads frames and hands each one to
 * the waiter of its id (a condvar wakes them), and gives the role up when
 * its own answer came or its deadline passed. So the library starts no
 * thread of its own inside the application (nothing to join at
 * C_Finalize, nothing surprising across fork), and a frame is read by a
 * thread that is waiting anyway.
 *
 * Contract:
 *  - chan_mux_call() sends req (id filled in here) with fd attached (CONNECT
 *    only, else -1) and waits until deadline_ms (CLOCK_MONOTONIC ms, see
 *    chan_mux_now_ms) for the answer, which is copied into the caller's
 *    buffer buf (CHAN_MAX_FRAME bytes) with *ans pointing into it.
 *    Returns 0, -ETIMEDOUT, -EPIPE (the channel is dead and req never
 *    reached the helper), -ECONNABORTED (req was sent, then the channel
 *    died: the helper closed it, sent an invalid frame or a channel-level
 *    ERROR, or chan_mux_kill was called), -EINVAL.
 *  - An answer that arrives after its caller gave up is dropped; a late
 *    CONNECTED is answered with a CLOSE so the helper frees the connection.
 *  - Once dead, a mux stays dead; every waiter is woken.
 *  - The mux does not own the fd.
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

/* Marks the mux dead and wakes every waiter (-ECONNABORTED). */
void chan_mux_kill(struct chan_mux *m, const char *why);
bool chan_mux_dead(struct chan_mux *m);
/* Text of the channel-level ERROR that killed it, or "" (copied). */
void chan_mux_death_text(struct chan_mux *m, char *out, size_t cap);

int64_t chan_mux_now_ms(void);

#endif
