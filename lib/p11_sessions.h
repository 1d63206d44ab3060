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
 *  - p11_session_slot() is what the object and crypto entry points use to
 *    validate a handle: CKR_SESSION_HANDLE_INVALID when unknown.
 */
#ifndef PKCS11WSOP_LIB_P11_SESSIONS_H
#define PKCS11WSOP_LIB_P11_SESSIONS_H

#include <stdbool.h>

#include <p11-kit/pkcs11.h>

struct p11_slot;

/* Under the init lock only. */
CK_RV p11_sessions_reset(void);
void p11_sessions_free(void);

/* The slot of session h (and whether it is read/write); rw may be NULL. */
CK_RV p11_session_slot(CK_SESSION_HANDLE h, struct p11_slot **slot, bool *rw);

#endif
