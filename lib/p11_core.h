/*
 * The leaf of the module: what every table and entry point uses, and
 * which itself calls nothing of theirs. The table lock, the road to the
 * helper (a wsop_client per call), whether the module is initialized, and
 * the conventions of an entry point (enter, trace, return).
 *
 * Layers, each calling only those before it (tests/p11_core/layering.sh
 * checks the object files):
 *   core (this, lib/p11_lock.h) <- slots <- objstore <- sessions
 *   <- find, crypto <- audit <- the other entry points <- module (the
 *   lifecycle root) <- C_Initialize/C_Finalize <- the function list.
 *
 * Locks, taken only in this order (an inner one never waits for an outer
 * one; none is held across a round trip unless it says so):
 *  1. init_lock (lib/p11_module.c): C_Initialize and C_Finalize only.
 *  2. a session's busy lock (p11_session_take): held across that session's
 *     round trips, one call per session at a time. Never nested with 3.
 *  3. a token's login lock (p11_slot_login_lock): C_Login, C_Logout and the
 *     implicit logout of one token, across its round trip.
 *  4. the table lock (p11_table_lock): the slot, session and object
 *     tables; short, never across a round trip, never while waiting for
 *     a lock above or for the backend. Shared by every thread: a session
 *     is found under it once per call, and released without it.
 *  5. the batch queue's (lib/req_batch.h): never held across the round
 *     trip, nor while taking 6.
 *  6. the backend's (lib/backend.h): its pool lock, then a channel's; taken
 *     by p11_client_acquire/release and by a round trip, never under 4.
 *  7. the logger's, innermost: any code under any of the others may log.
 *
 * Contract:
 *  - p11_enter() is the first thing every entry point but C_Initialize
 *    does: CKR_CRYPTOKI_NOT_INITIALIZED unless the module is attached and
 *    not in a forked child.
 *  - p11_table_lock()/unlock(): the lock given to p11_core_attach().
 *  - p11_client_acquire()/release(): a wsop_client for this call
 *    (backend_acquire); NULL when memory is short or no backend is
 *    attached (the unit tests run so: every round trip then fails with
 *    CKR_HOST_MEMORY before anything is sent).
 *  - P11_BEGIN(session, fmt, ...) is p11_enter() followed, when CKR_OK,
 *    by P11_TRACE; every entry point but C_Initialize, C_Finalize and
 *    C_GetFunctionList starts with it (or with p11_begin(), given the
 *    caller's name).
 *  - P11_TRACE(session, fmt, ...) logs at TRACE, with the thread id and
 *    the session handle (0 when none), the calling function's name followed
 *    by the formatted text; p11_trace() is the same for a helper that
 *    serves several entry points and is given the caller's __func__. The
 *    text is formatted only when TRACE is enabled. Neither ever receives a
 *    PIN.
 *  - p11_return() logs a non-OK result at ERROR with the function name and
 *    the CKR name (CKR_BUFFER_TOO_SMALL at DEBUG) and returns rv unchanged.
 *  - p11_core_attach()/detach()/forked() belong to the lifecycle root
 *    (lib/p11_module.c), under its init lock: attach installs the lock and
 *    the backend and opens the module; detach closes it and hands both
 *    back for the root to destroy (or abandon, in a forked child); forked
 *    runs in fork()'s child handler (async-signal-safe: it only stores)
 *    and says whether the parent's module was open.
 */
#ifndef PKCS11WSOP_LIB_P11_CORE_H
#define PKCS11WSOP_LIB_P11_CORE_H

#include <stdbool.h>
#include <stddef.h>

#include <p11-kit/pkcs11.h>

#include "conf/log.h"

struct backend;
struct wsop_client;

#define P11_MANUFACTURER "pkcs11wsop"

CK_RV p11_enter(void);
void p11_table_lock(void);
void p11_table_unlock(void);

struct wsop_client *p11_client_acquire(void);
void p11_client_release(struct wsop_client *c);

CK_RV p11_return(const char *function, CK_SESSION_HANDLE session, CK_RV rv);

void p11_trace(const char *function, CK_SESSION_HANDLE session, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define P11_TRACE(session, ...) p11_trace(__func__, (CK_SESSION_HANDLE)(session), __VA_ARGS__)

/* How an entry point starts: p11_enter(), and when that is CKR_OK the
 * call's TRACE line as P11_TRACE writes it. */
CK_RV p11_begin(const char *function, CK_SESSION_HANDLE session, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define P11_BEGIN(session, ...) p11_begin(__func__, (CK_SESSION_HANDLE)(session), __VA_ARGS__)

/* Copies text into a fixed-width PKCS #11 field, padded with blanks and
 * not NUL-terminated; longer text is cut at width. */
void p11_pad(CK_UTF8CHAR *field, size_t width, const char *text);

void p11_core_attach(struct backend *be, void *table_lock);
/* Where p11_client_acquire()/release() take and give back clients while no
 * backend is attached: the unit tests' in-memory server
 * (tests/p11_objstore). NULL and NULL: nowhere (the default). */
void p11_core_set_clients(struct wsop_client *(*acquire)(void),
                          void (*release)(struct wsop_client *c));
void p11_core_detach(struct backend **be, void **table_lock);
bool p11_core_forked(void);

#endif
