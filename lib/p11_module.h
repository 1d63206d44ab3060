/*
 * The module's process-wide state and the conventions every C_* entry
 * point follows.
 *
 * Contract:
 *  - p11_module_start() is C_Initialize's work after its argument checks:
 *    config (config_default_path()), logger (ident "pkcs11wsop"), locks,
 *    helper (backend_open), empty slot and session tables. p11_module_stop()
 *    is C_Finalize's: logs out every token, frees the tables, closes the
 *    backend (reaping the helper) and the logger. Both run under one
 *    process-wide pthread mutex, so they never overlap each other.
 *  - In a child made by fork() the module reads as not initialized at once
 *    (pthread_atfork child handler): p11_enter() answers
 *    CKR_CRYPTOKI_NOT_INITIALIZED and nothing touches the parent's helper.
 *    p11_module_start() in the child first drops the parent's state with
 *    backend_forget() and frees its memory.
 *  - p11_enter() is the first thing every entry point but C_Initialize
 *    does. p11_table_lock() guards the slot and session tables; it is never
 *    held across a server round trip.
 *  - p11_client_acquire()/release(): a wsop_client for this thread
 *    (backend_acquire); NULL only when memory is short.
 *  - p11_return() logs a non-OK result at ERROR with the function name and
 *    the CKR name (CKR_BUFFER_TOO_SMALL at DEBUG), and returns rv unchanged. P11_TRACE logs the
 * call at TRACE with the thread id and the session handle (0 when none). Neither ever receives a
 * PIN.
 */
#ifndef PKCS11WSOP_LIB_P11_MODULE_H
#define PKCS11WSOP_LIB_P11_MODULE_H

#include <p11-kit/pkcs11.h>

#include "conf/log.h"

struct wsop_client;

#define P11_MANUFACTURER "pkcs11wsop"

CK_RV p11_module_start(const CK_C_INITIALIZE_ARGS *args);
CK_RV p11_module_stop(void);

CK_RV p11_enter(void);
void p11_table_lock(void);
void p11_table_unlock(void);

struct wsop_client *p11_client_acquire(void);
void p11_client_release(struct wsop_client *c);

CK_RV p11_return(const char *function, CK_SESSION_HANDLE session, CK_RV rv);

#define P11_TRACE(session, ...) wlog_trace((unsigned long)(session), __VA_ARGS__)

/* Copies text into a fixed-width PKCS #11 field, padded with blanks and
 * not NUL-terminated; longer text is cut at width. */
void p11_pad(CK_UTF8CHAR *field, size_t width, const char *text);

#endif
