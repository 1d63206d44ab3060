/* The module's leaf (lib/p11_core.h). */
#include "lib/p11_core.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "lib/backend.h"
#include "lib/ckr_names.h"
#include "lib/p11_lock.h"

/*
 * attached is read by every call without a lock (an atomic); be and
 * table_lock are written only by the root under its init lock, while no
 * other call may run (PKCS #11 leaves calls that race with C_Initialize
 * and C_Finalize undefined).
 */
static atomic_int attached;
static struct backend *be;
static void *table_lock;
static struct wsop_client *(*other_acquire)(void);
static void (*other_release)(struct wsop_client *c);

void p11_core_attach(struct backend *backend, void *lock)
{
	be = backend;
	table_lock = lock;
	atomic_store(&attached, 1);
}

void p11_core_detach(struct backend **backend, void **lock)
{
	atomic_store(&attached, 0);
	*backend = be;
	*lock = table_lock;
	be = NULL;
	table_lock = NULL;
}

void p11_core_set_clients(struct wsop_client *(*acquire)(void),
                          void (*release)(struct wsop_client *c))
{
	other_acquire = acquire;
	other_release = release;
}

bool p11_core_forked(void)
{
	return atomic_exchange(&attached, 0) != 0;
}

CK_RV p11_enter(void)
{
	return atomic_load(&attached) ? CKR_OK : CKR_CRYPTOKI_NOT_INITIALIZED;
}

void p11_table_lock(void)
{
	p11_mutex_lock(table_lock);
}

void p11_table_unlock(void)
{
	p11_mutex_unlock(table_lock);
}

struct wsop_client *p11_client_acquire(void)
{
	if (be == NULL && other_acquire != NULL)
		return other_acquire();
	return backend_acquire(be);
}

void p11_client_release(struct wsop_client *c)
{
	if (c == NULL)
		return;
	if (be == NULL && other_release != NULL)
		other_release(c);
	else
		backend_release(be, c);
}

CK_RV p11_return(const char *function, CK_SESSION_HANDLE session, CK_RV rv)
{
	/* CKR_BUFFER_TOO_SMALL is half of the standard's two-call length
	 * protocol, not a failure. */
	if (rv != CKR_OK)
		wlog(rv == CKR_BUFFER_TOO_SMALL ? WLOG_DEBUG : WLOG_ERROR, "%s (session %lu): %s",
		     function, (unsigned long)session, ckr_name(rv));
	return rv;
}

static void trace_v(const char *function, CK_SESSION_HANDLE session, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void trace_v(const char *function, CK_SESSION_HANDLE session, const char *fmt, va_list ap)
{
	char text[256];

	if (!wlog_enabled(WLOG_TRACE))
		return;
	vsnprintf(text, sizeof(text), fmt, ap);
	wlog_trace((unsigned long)session, "%s%s", function, text);
}

void p11_trace(const char *function, CK_SESSION_HANDLE session, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	trace_v(function, session, fmt, ap);
	va_end(ap);
}

CK_RV p11_begin(const char *function, CK_SESSION_HANDLE session, const char *fmt, ...)
{
	va_list ap;
	CK_RV rv = p11_enter();

	if (rv != CKR_OK)
		return rv;
	va_start(ap, fmt);
	trace_v(function, session, fmt, ap);
	va_end(ap);
	return CKR_OK;
}

void p11_pad(CK_UTF8CHAR *field, size_t width, const char *text)
{
	size_t len = strlen(text);
	if (len > width)
		len = width;
	memset(field, ' ', width);
	memcpy(field, text, len);
}
