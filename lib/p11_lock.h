/*
 * The mutexes of the module, made either by the operating system
 * (pthread) or by the application's callbacks, as C_Initialize chose.
 *
 * Contract (PKCS #11 v2.40, 5.4, the four cases of CK_C_INITIALIZE_ARGS):
 *  - p11_lock_check_args() validates the C_Initialize argument: NULL is
 *    fine; pReserved != NULL or some but not all of the four callbacks is
 *    CKR_ARGUMENTS_BAD.
 *  - p11_lock_configure() then picks the kind of mutex: the application's
 *    callbacks when it gave them and did not set CKF_OS_LOCKING_OK;
 *    otherwise pthread mutexes (with CKF_OS_LOCKING_OK, with both, and with
 *    neither: then the application promised not to call from several
 *    threads, but an uncontended pthread mutex costs little and keeps the
 *    module safe if it does). The module itself starts no thread, so
 *    CKF_LIBRARY_CANT_CREATE_OS_THREADS needs nothing.
 *  - The connection pool and the helper channel (lib/backend.h) always use
 *    pthread internally; the application's callbacks guard the module's own
 *    tables (slots, sessions, login state).
 *  - A mutex is an opaque pointer. Create returns CKR_OK, CKR_HOST_MEMORY or
 *    the application's CKR; lock/unlock failures of an application mutex
 *    are logged and otherwise ignored, because a caller mid-way through a
 *    table update cannot undo it.
 *  - p11_mutex_abandon() drops a mutex in a forked child without calling
 *    anything of the parent's locking (its state is unknown there).
 */
#ifndef PKCS11WSOP_LIB_P11_LOCK_H
#define PKCS11WSOP_LIB_P11_LOCK_H

#include <p11-kit/pkcs11.h>

CK_RV p11_lock_check_args(const CK_C_INITIALIZE_ARGS *args);
void p11_lock_configure(const CK_C_INITIALIZE_ARGS *args);

CK_RV p11_mutex_create(void **out);
void p11_mutex_destroy(void *m);
void p11_mutex_abandon(void *m);
void p11_mutex_lock(void *m);
void p11_mutex_unlock(void *m);

#endif
