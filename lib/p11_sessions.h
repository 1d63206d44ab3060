/*
 * The session table.
 *
 * Contract:
 *  - Session handles are process-local integers counted up from 1 and
 *    never reused while the process lives (the counter survives
 *    C_Finalize).
 *  - Login state belongs to the token (struct p11_slot), shared by all
 *    sessions of the application on it; a session's state
 *    (CKS_RO_PUBLIC_SESSION ... CKS_RW_USER_FUNCTIONS) is derived from it.
 *  - Closing the last session of a token logs the token out (deactivates
 *    the softcard), as PKCS #11 says.
 *  - p11_session_slot() validates a handle: CKR_SESSION_HANDLE_INVALID
 *    when unknown. Lookups are O(1) whatever the number of sessions
 *    (lib/handle_map.h).
 *  - The object and crypto entry points use p11_session_take() instead: it
 *    also hands out the session's operation state (an active search, an
 *    active encryption, an active decryption) and keeps the session from
 *    being used by another call or freed until p11_session_release(). A
 *    second call on the same session waits; a session closed meanwhile
 *    answers CKR_SESSION_CLOSED. When a session goes away its operation
 *    state is freed with p11_find_op_free() / p11_crypt_op_free(), which
 *    the files that own those operations define.
 */
#ifndef PKCS11WSOP_LIB_P11_SESSIONS_H
#define PKCS11WSOP_LIB_P11_SESSIONS_H

#include <stdbool.h>

#include <p11-kit/pkcs11.h>

struct p11_slot;
struct p11_find_op;  /* lib/p11_find*.c */
struct p11_crypt_op; /* lib/p11_crypto*.c */

struct p11_session_ops {
	struct p11_find_op *find;
	struct p11_crypt_op *encrypt;
	struct p11_crypt_op *decrypt;
};

/* Defined by the owners of the operations; NULL is fine. */
void p11_find_op_free(struct p11_find_op *op);
void p11_crypt_op_free(struct p11_crypt_op *op);

/* Under the init lock only. */
CK_RV p11_sessions_reset(void);
void p11_sessions_free(void);

/* The slot of session h (and whether it is read/write); rw may be NULL. */
CK_RV p11_session_slot(CK_SESSION_HANDLE h, struct p11_slot **slot, bool *rw);

/* Takes session h for the calling entry point (see above); rw may be NULL.
 * Every CKR_OK is paired with one p11_session_release(*ops). */
CK_RV p11_session_take(CK_SESSION_HANDLE h, struct p11_slot **slot, bool *rw,
                       struct p11_session_ops **ops);
void p11_session_release(struct p11_session_ops *ops);

#endif
