#include "lib/p11_lock.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "conf/log.h"
#include "lib/ckr_names.h"

/* Written by C_Initialize under its own lock, before any other thread may
 * call into the module; read-only afterwards. */
static bool use_app_callbacks;
static CK_CREATEMUTEX app_create;
static CK_DESTROYMUTEX app_destroy;
static CK_LOCKMUTEX app_lock;
static CK_UNLOCKMUTEX app_unlock;

CK_RV p11_lock_check_args(const CK_C_INITIALIZE_ARGS *args)
{
	if (args == NULL)
		return CKR_OK;
	if (args->pReserved != NULL)
		return CKR_ARGUMENTS_BAD;
	int given = (args->CreateMutex != NULL) + (args->DestroyMutex != NULL) +
	            (args->LockMutex != NULL) + (args->UnlockMutex != NULL);
	if (given != 0 && given != 4)
		return CKR_ARGUMENTS_BAD;
	return CKR_OK;
}

void p11_lock_configure(const CK_C_INITIALIZE_ARGS *args)
{
	use_app_callbacks =
	    args != NULL && args->CreateMutex != NULL && (args->flags & CKF_OS_LOCKING_OK) == 0;
	app_create = use_app_callbacks ? args->CreateMutex : NULL;
	app_destroy = use_app_callbacks ? args->DestroyMutex : NULL;
	app_lock = use_app_callbacks ? args->LockMutex : NULL;
	app_unlock = use_app_callbacks ? args->UnlockMutex : NULL;
}

CK_RV p11_mutex_create(void **out)
{
	*out = NULL;
	if (use_app_callbacks) {
		void *m = NULL;
		CK_RV rv = app_create(&m);
		if (rv != CKR_OK)
			return rv;
		*out = m;
		return CKR_OK;
	}
	pthread_mutex_t *m = malloc(sizeof(*m));
	if (m == NULL)
		return CKR_HOST_MEMORY;
	if (pthread_mutex_init(m, NULL) != 0) {
		free(m);
		return CKR_CANT_LOCK;
	}
	*out = m;
	return CKR_OK;
}

void p11_mutex_destroy(void *m)
{
	if (m == NULL)
		return;
	if (use_app_callbacks) {
		(void)app_destroy(m);
		return;
	}
	pthread_mutex_destroy(m);
	free(m);
}

void p11_mutex_abandon(void *m)
{
	/* The child owns the memory of a pthread mutex (a copy of the
	 * parent's); an application mutex stays the application's. */
	if (m != NULL && !use_app_callbacks)
		free(m);
}

void p11_mutex_lock(void *m)
{
	if (use_app_callbacks) {
		CK_RV rv = app_lock(m);
		if (rv != CKR_OK)
			wlog(WLOG_ERROR, "application LockMutex failed: %s", ckr_name(rv));
		return;
	}
	pthread_mutex_lock(m);
}

void p11_mutex_unlock(void *m)
{
	if (use_app_callbacks) {
		CK_RV rv = app_unlock(m);
		if (rv != CKR_OK)
			wlog(WLOG_ERROR, "application UnlockMutex failed: %s", ckr_name(rv));
		return;
	}
	pthread_mutex_unlock(m);
}
