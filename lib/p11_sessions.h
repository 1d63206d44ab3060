/*
 * The session table.
 *
 * Contract:
 *  - Session handles are process-local integers counted up from 1 and
 *    never reused while the process lives (the counter survives
 *    C_Finalize).
 *  - Login state belongs to the token (lib/p11_slots.h), shared by all
 *    sessions of the application on it; a session's state
 *    (CKS_RO_PUBLIC_SESSION ... CKS_RW_USER_FUNCTIONS) is derived from it.
 *  - Closing the last session of a token logs the token out
 *    (p11_slot_logout_if_idle), as PKCS #11 says.
 *  - p11_session_slot() validates a handle: CKR_SESSION_HANDLE_INVALID
 *    when unknown. Lookups are O(1) whatever the number of sessions
 *    (lib/handle_map.h).
 *  - The object and crypto entry points use p11_session_take() instead: it
 *    also hands out the session's operations (an active search, an active
 *    encryption, an active decryption) and keeps the session from being
 *    used by another call or freed until p11_session_release(). A second
 *    call on the same session waits; a session closed meanwhile answers
 *    CKR_SESSION_CLOSED.
 *  - An operation is the owner's struct with a struct p11_op inside, whose
 *    release frees the whole of it (wiping what must be wiped). The session
 *    calls it when the session goes away with the operation still active;
 *    the owner calls it (p11_op_end) when the operation ends.
 */
#ifndef PKCS11WSOP_LIB_P11_SESSIONS_H
#define PKCS11WSOP_LIB_P11_SESSIONS_H

#include <stdbool.h>
#include <stddef.h>

#include <p11-kit/pkcs11.h>

struct p11_slot;

struct p11_op {
	void (*release)(struct p11_op *op);
};

/* The owner's struct of op, whose member named member it is. */
#define P11_OP_OWNER(op, type, member) ((type *)(void *)((char *)(op)-offsetof(type, member)))

enum p11_op_kind { P11_OP_FIND, P11_OP_ENCRYPT, P11_OP_DECRYPT, P11_OP_KINDS };

struct p11_session_ops {
	struct p11_op *op[P11_OP_KINDS]; /* NULL: none active */
};

/* Releases the active operation of kind (if any) and clears its place. */
void p11_op_end(struct p11_session_ops *ops, enum p11_op_kind kind);

/* Under the init lock only. */
CK_RV p11_sessions_reset(void);
void p11_sessions_free(void);

/* The slot of session h (and whether it is read/write); rw may be NULL. */
CK_RV p11_session_slot(CK_SESSION_HANDLE h, struct p11_slot **slot, bool *rw);

/* The slot of session h when the session is read/write
 * (CKR_SESSION_READ_ONLY) and its token logged in (CKR_USER_NOT_LOGGED_IN),
 * checked in that order; *slot is set whenever h is valid. */
CK_RV p11_session_writable(CK_SESSION_HANDLE h, struct p11_slot **slot);

/* Takes session h for the calling entry point (see above); rw may be NULL.
 * Every CKR_OK is paired with one p11_session_release(*ops). */
CK_RV p11_session_take(CK_SESSION_HANDLE h, struct p11_slot **slot, bool *rw,
                       struct p11_session_ops **ops);
void p11_session_release(struct p11_session_ops *ops);

/* How many calls hold or wait for session h (0 when h is not open): what a
 * test waits for before it closes a session under a waiting call. */
unsigned p11_session_callers(CK_SESSION_HANDLE h);

#endif
