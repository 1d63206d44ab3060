/* The session table and C_OpenSession, C_CloseSession,
 * C_CloseAllSessions, C_GetSessionInfo. */
#include "lib/p11_sessions.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/handle_map.h"
#include "lib/p11_core.h"
#include "lib/p11_slots.h"

/* Bounds the table before it grows; CKR_SESSION_COUNT beyond it. */
#define P11_SESSIONS_MAX 65536

struct p11_session {
	struct p11_session_ops ops; /* first, so ops leads back to the session */
	CK_SESSION_HANDLE handle;
	/* Set before the session enters the table, never changed after: read
	 * by a taker without the table lock. */
	struct p11_slot *slot;
	bool rw;
	/* Serialises the calls that use ops. A plain pthread mutex: it is
	 * held across server round trips, never under the table lock. */
	pthread_mutex_t busy;
	/* References: the table's (until the session leaves it) and one per
	 * taker not yet released; whoever drops the last frees the session.
	 * Atomic, so that a call takes the table lock once (to find the
	 * session) and releases without it. */
	atomic_uint refs;
	/* Set when the session left the table; a taker that finds it set
	 * answers CKR_SESSION_CLOSED. */
	atomic_bool closed;
};

static struct p11_session *session_new(void)
{
	struct p11_session *s = calloc(1, sizeof(*s));
	if (s != NULL && pthread_mutex_init(&s->busy, NULL) != 0) {
		free(s);
		return NULL;
	}
	if (s != NULL) {
		atomic_init(&s->refs, 1);
		atomic_init(&s->closed, false);
	}
	return s;
}

void p11_op_end(struct p11_session_ops *ops, enum p11_op_kind kind)
{
	struct p11_op *op = ops->op[kind];
	ops->op[kind] = NULL;
	if (op != NULL)
		op->release(op);
}

static void session_free(struct p11_session *s)
{
	if (s == NULL)
		return;
	for (int k = 0; k < P11_OP_KINDS; k++)
		p11_op_end(&s->ops, (enum p11_op_kind)k);
	pthread_mutex_destroy(&s->busy);
	free(s);
}

/* Handle -> struct p11_session, under the table lock. */
static struct handle_map tab = HANDLE_MAP_INIT;

/* Survives C_Finalize and fork, so no handle is ever handed out twice in
 * one process. Read and written under the table lock. */
static CK_SESSION_HANDLE next_handle = 1;

CK_RV p11_sessions_reset(void)
{
	memset(&tab, 0, sizeof(tab));
	return CKR_OK;
}

void p11_sessions_free(void)
{
	size_t it = 0;
	struct p11_session *s;
	while ((s = handle_map_next(&tab, &it)) != NULL)
		session_free(s);
	handle_map_clear(&tab);
}

static struct p11_session *find_locked(CK_SESSION_HANDLE h)
{
	return handle_map_get(&tab, h);
}

CK_RV p11_session_slot(CK_SESSION_HANDLE h, struct p11_slot **slot, bool *rw)
{
	CK_RV rv = CKR_SESSION_HANDLE_INVALID;
	p11_table_lock();
	const struct p11_session *s = find_locked(h);
	if (s != NULL) {
		*slot = s->slot;
		if (rw != NULL)
			*rw = s->rw;
		rv = CKR_OK;
	}
	p11_table_unlock();
	return rv;
}

CK_RV p11_session_writable(CK_SESSION_HANDLE h, struct p11_slot **slot)
{
	bool rw = false;
	CK_RV rv = p11_session_slot(h, slot, &rw);
	if (rv == CKR_OK && !rw)
		rv = CKR_SESSION_READ_ONLY;
	if (rv == CKR_OK && !p11_slot_logged_in(*slot))
		rv = CKR_USER_NOT_LOGGED_IN;
	return rv;
}

CK_RV p11_session_take(CK_SESSION_HANDLE h, struct p11_slot **slot, bool *rw,
                       struct p11_session_ops **ops)
{
	p11_table_lock();
	struct p11_session *s = find_locked(h);
	if (s != NULL)
		atomic_fetch_add(&s->refs, 1);
	p11_table_unlock();
	if (s == NULL)
		return CKR_SESSION_HANDLE_INVALID;

	pthread_mutex_lock(&s->busy);
	*ops = &s->ops;
	if (atomic_load(&s->closed)) {
		p11_session_release(&s->ops);
		*ops = NULL;
		return CKR_SESSION_CLOSED;
	}
	*slot = s->slot;
	if (rw != NULL)
		*rw = s->rw;
	return CKR_OK;
}

void p11_session_release(struct p11_session_ops *ops)
{
	if (ops == NULL)
		return;
	struct p11_session *s =
	    (struct p11_session *)((char *)ops - offsetof(struct p11_session, ops));
	pthread_mutex_unlock(&s->busy);
	if (atomic_fetch_sub(&s->refs, 1) == 1)
		session_free(s);
}

unsigned p11_session_callers(CK_SESSION_HANDLE h)
{
	p11_table_lock();
	const struct p11_session *s = find_locked(h);
	/* In the table, so the table's reference is among them. */
	unsigned n = s != NULL ? atomic_load(&s->refs) - 1 : 0;
	p11_table_unlock();
	return n;
}

/* Removes s and updates its token's counts; true when that was the
 * token's last session while it was logged in. A session still taken by a
 * call is freed by that call's release. */
static bool remove_locked(struct p11_session *s)
{
	bool last = p11_slot_session_closed_locked(s->slot, s->rw);
	(void)handle_map_remove(&tab, s->handle);
	atomic_store(&s->closed, true);
	if (atomic_fetch_sub(&s->refs, 1) == 1)
		session_free(s);
	return last;
}

CK_RV C_OpenSession(CK_SLOT_ID slotID, CK_FLAGS flags, CK_VOID_PTR pApplication, CK_NOTIFY Notify,
                    CK_SESSION_HANDLE_PTR phSession)
{
	CK_RV rv =
	    P11_BEGIN(0, "(slot=%lu, flags=0x%lx)", (unsigned long)slotID, (unsigned long)flags);
	if (rv != CKR_OK)
		return rv;
	if (phSession == NULL)
		return p11_return(__func__, 0, CKR_ARGUMENTS_BAD);
	if ((flags & CKF_SERIAL_SESSION) == 0)
		return p11_return(__func__, 0, CKR_SESSION_PARALLEL_NOT_SUPPORTED);

	rv = p11_slot_learn(slotID);
	if (rv != CKR_OK)
		return p11_return(__func__, 0, rv);
	struct p11_session *s = session_new();
	if (s == NULL)
		return p11_return(__func__, 0, CKR_HOST_MEMORY);

	p11_table_lock();
	struct p11_slot *slot = p11_slot_find_locked(slotID, false);
	if (slot == NULL) {
		rv = CKR_SLOT_ID_INVALID;
	} else if (handle_map_count(&tab) >= P11_SESSIONS_MAX) {
		rv = CKR_SESSION_COUNT;
	} else if (handle_map_put(&tab, next_handle, s) != 0) {
		rv = CKR_HOST_MEMORY;
	} else {
		s->handle = next_handle++;
		s->slot = slot;
		s->rw = (flags & CKF_RW_SESSION) != 0;
		p11_slot_session_opened_locked(slot, s->rw);
		*phSession = s->handle;
		s = NULL;
	}
	p11_table_unlock();
	session_free(s);
	if (rv == CKR_OK)
		P11_TRACE(*phSession, ": opened");
	return p11_return(__func__, 0, rv);
}

CK_RV C_CloseSession(CK_SESSION_HANDLE hSession)
{
	CK_RV rv = P11_BEGIN(hSession, "()");
	if (rv != CKR_OK)
		return rv;

	struct p11_slot *slot = NULL;
	bool last = false;
	p11_table_lock();
	struct p11_session *s = find_locked(hSession);
	if (s != NULL) {
		slot = s->slot;
		last = remove_locked(s);
	}
	p11_table_unlock();
	if (slot == NULL)
		return p11_return(__func__, hSession, CKR_SESSION_HANDLE_INVALID);
	if (last)
		p11_slot_logout_if_idle(slot);
	return CKR_OK;
}

CK_RV C_CloseAllSessions(CK_SLOT_ID slotID)
{
	CK_RV rv = P11_BEGIN(0, "(slot=%lu)", (unsigned long)slotID);
	if (rv != CKR_OK)
		return rv;
	rv = p11_slot_learn(slotID);
	if (rv != CKR_OK)
		return p11_return(__func__, 0, rv);

	bool last = false;
	p11_table_lock();
	/* Sessions on a softcard that disappeared can still be closed. */
	struct p11_slot *slot = p11_slot_find_locked(slotID, true);
	size_t it = 0;
	struct p11_session *s;
	while (slot != NULL && (s = handle_map_next(&tab, &it)) != NULL) {
		if (s->slot == slot)
			last = remove_locked(s) || last;
	}
	p11_table_unlock();
	if (slot == NULL)
		return p11_return(__func__, 0, CKR_SLOT_ID_INVALID);
	if (last)
		p11_slot_logout_if_idle(slot);
	return CKR_OK;
}

CK_RV C_GetSessionInfo(CK_SESSION_HANDLE hSession, CK_SESSION_INFO_PTR pInfo)
{
	CK_RV rv = P11_BEGIN(hSession, "()");
	if (rv != CKR_OK)
		return rv;
	if (pInfo == NULL)
		return p11_return(__func__, hSession, CKR_ARGUMENTS_BAD);

	p11_table_lock();
	const struct p11_session *s = find_locked(hSession);
	if (s != NULL) {
		memset(pInfo, 0, sizeof(*pInfo));
		pInfo->slotID = p11_slot_id(s->slot);
		pInfo->flags = CKF_SERIAL_SESSION | (s->rw ? CKF_RW_SESSION : 0);
		if (p11_slot_logged_in_locked(s->slot))
			pInfo->state = s->rw ? CKS_RW_USER_FUNCTIONS : CKS_RO_USER_FUNCTIONS;
		else
			pInfo->state = s->rw ? CKS_RW_PUBLIC_SESSION : CKS_RO_PUBLIC_SESSION;
		pInfo->ulDeviceError = 0;
	}
	p11_table_unlock();
	if (s == NULL)
		return p11_return(__func__, hSession, CKR_SESSION_HANDLE_INVALID);
	return CKR_OK;
}
