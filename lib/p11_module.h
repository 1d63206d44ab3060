/*
 * The module's lifecycle: the root of lib/p11_core.h's layers, which
 * calls every table's reset and free and nothing calls but C_Initialize
 * and C_Finalize.
 *
 * Contract:
 *  - p11_module_start() is C_Initialize's work after its argument checks:
 *    config (config_default_path()), logger (ident "pkcs11wsop"), locks,
 *    helper (backend_open), empty slot and session tables, then
 *    p11_core_attach(). p11_module_stop() is C_Finalize's: logs out every
 *    token, detaches, frees the tables, closes the backend (reaping the
 *    helper) and the logger. Both run under one process-wide pthread
 *    mutex, so they never overlap each other.
 *  - In a child made by fork() the module reads as not initialized at once
 *    (pthread_atfork child handler, p11_core_forked()): p11_enter()
 *    answers CKR_CRYPTOKI_NOT_INITIALIZED and nothing touches the parent's
 *    helper. p11_module_start() in the child first drops the parent's
 *    state with backend_forget() and frees its memory.
 */
#ifndef PKCS11WSOP_LIB_P11_MODULE_H
#define PKCS11WSOP_LIB_P11_MODULE_H

#include <p11-kit/pkcs11.h>

CK_RV p11_module_start(const CK_C_INITIALIZE_ARGS *args);
CK_RV p11_module_stop(void);

#endif
