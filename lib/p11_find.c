/*
 * C_FindObjectsInit, C_FindObjects, C_FindObjectsFinal.
 *
 * Choices:
 *  - Every object is private, so a token that is not logged in has no
 *    visible object: C_FindObjectsInit still starts a search (the template
 *    is checked first), which finds nothing, without asking the server.
 *  - Logged in, C_FindObjectsInit lists the token once: the keys of every
 *    group of the softcard (not only the module's "pkcs11" group: keys
 *    other tools made there are the token's too) and its data objects and
 *    certificates, page after page (ipc/README.md, "Paging": up to
 *    WSOP_PAGE_MAX_ITEMS, 500, a round trip), all pages before it returns.
 *    Matches are fixed at C_FindObjectsInit: the search is a snapshot, as
 *    in SoftHSMv2, and as applications expect (they may destroy what they
 *    find while they iterate); stopping at the first page that fills the
 *    caller's first C_FindObjects would give up that promise for a search
 *    that still costs a whole listing when it finds nothing. A template
 *    that names CKA_CLASS lists only the keys or only the objects. Each listed object gets its
 * stable handle from the object table (lib/p11_objstore.h), which also forgets objects of the
 *    listed kind that the server no longer lists.
 *  - Listings carry no values of data objects and certificates: a template
 *    with a CKA_VALUE of the same length as an object's value fetches that
 *    object (one round trip each, then cached) to compare its bytes.
 *  - Only CKO_DATA, CKO_CERTIFICATE and CKO_SECRET_KEY exist here; the
 *    server has no public or private keys, so none is ever returned.
 *  - A second C_FindObjectsInit while one is active:
 *    CKR_OPERATION_ACTIVE; C_FindObjects / C_FindObjectsFinal without one:
 *    CKR_OPERATION_NOT_INITIALIZED. A failed C_FindObjectsInit leaves no
 *    search active.
 *  - ulMaxObjectCount 0 is valid and returns nothing (phObject may then be
 *    NULL).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/p11_attrs.h"
#include "ipc/grow.h"
#include "lib/p11_core.h"
#include "lib/p11_errors.h"
#include "lib/p11_objstore.h"
#include "lib/p11_sessions.h"
#include "lib/p11_slots.h"
#include "lib/wsop_client.h"

/* A search's matches, fixed at C_FindObjectsInit, and how many of them
 * C_FindObjects has handed out. */
struct p11_find_op {
	struct p11_op op;
	CK_OBJECT_HANDLE *handles;
	size_t count, pos;
};

static void find_op_release(struct p11_op *op)
{
	struct p11_find_op *f = P11_OP_OWNER(op, struct p11_find_op, op);
	free(f->handles);
	free(f);
}

static struct p11_find_op *find_op_of(struct p11_session_ops *ops)
{
	struct p11_op *op = ops->op[P11_OP_FIND];
	return op != NULL ? P11_OP_OWNER(op, struct p11_find_op, op) : NULL;
}

/* Collects the handles of listed objects that match. */
struct collect {
	struct p11_slot *slot;
	const struct p11_find_template *tmpl;
	CK_OBJECT_HANDLE *seen; /* every listed object, for the prune */
	size_t nseen, capseen;
	struct p11_find_op *op;
	size_t capop;
};

static CK_RV push(CK_OBJECT_HANDLE **arr, size_t *n, size_t *cap, CK_OBJECT_HANDLE h)
{
	if (grow_to((void **)arr, cap, *n + 1, sizeof(**arr), P11_OBJSTORE_MAX) != 0)
		return CKR_HOST_MEMORY;
	(*arr)[(*n)++] = h;
	return CKR_OK;
}

/* Caches o and adds it when every attribute of the template matches,
 * fetching its value first when only the value can tell. Takes ownership
 * of o's contents (frees them). */
static CK_RV add_checked(struct collect *col, struct p11_object *o)
{
	CK_OBJECT_HANDLE h;
	CK_RV rv = p11_objstore_put(col->slot, o, &h);
	if (rv == CKR_OK)
		rv = push(&col->seen, &col->nseen, &col->capseen, h);
	enum p11_match m = rv == CKR_OK ? p11_find_template_match(col->tmpl, o) : P11_MATCH_NO;
	if (m == P11_MATCH_NEEDS_VALUE) {
		rv = p11_objstore_fetch_value(col->slot, h, o);
		m = rv == CKR_OK ? p11_find_template_match(col->tmpl, o) : P11_MATCH_NO;
		/* Gone since it was listed: not found, not an error. */
		if (rv == CKR_OBJECT_HANDLE_INVALID)
			rv = CKR_OK;
	}
	if (rv == CKR_OK && m == P11_MATCH_YES)
		rv = push(&col->op->handles, &col->op->count, &col->capop, h);
	p11_object_free(o);
	return rv;
}

static CK_RV list_group_keys(struct wsop_client *c, struct collect *col, const char *group_id)
{
	char after[WSOP_UUID_LEN + 1] = "";
	CK_RV rv = CKR_OK;
	do {
		struct wsop_key_list keys;
		int rc = wsop_key_list_page(c, group_id, after, 0, &keys);
		rv = p11_call_result("listing keys", rc, c);
		for (size_t k = 0; rv == CKR_OK && k < keys.count; k++) {
			struct p11_object o;
			rv = p11_object_from_key(&o, &keys.items[k]);
			if (rv == CKR_OK)
				rv = add_checked(col, &o);
		}
		/* A page that names itself as where to go on would never end. */
		if (rv == CKR_OK && keys.next[0] != '\0' && strcmp(keys.next, after) == 0)
			rv = p11_call_result("listing keys", -EPROTO, c);
		memcpy(after, keys.next, sizeof(after));
		wsop_key_list_free(&keys);
	} while (rv == CKR_OK && after[0] != '\0');
	return rv;
}

static CK_RV list_keys(struct wsop_client *c, struct collect *col, const char *softcard_id)
{
	char after[WSOP_UUID_LEN + 1] = "";
	CK_RV rv = CKR_OK;
	do {
		struct wsop_group_list groups;
		int rc = wsop_group_list_page(c, softcard_id, after, 0, &groups);
		rv = p11_call_result("listing key groups", rc, c);
		for (size_t g = 0; rv == CKR_OK && g < groups.count; g++)
			rv = list_group_keys(c, col, groups.items[g].id);
		if (rv == CKR_OK && groups.next[0] != '\0' && strcmp(groups.next, after) == 0)
			rv = p11_call_result("listing key groups", -EPROTO, c);
		memcpy(after, groups.next, sizeof(after));
		wsop_group_list_free(&groups);
	} while (rv == CKR_OK && after[0] != '\0');
	return rv;
}

static CK_RV list_objects(struct wsop_client *c, struct collect *col, const char *softcard_id)
{
	char after[WSOP_UUID_LEN + 1] = "";
	CK_RV rv = CKR_OK;
	do {
		struct wsop_object_list objs;
		int rc = wsop_object_list_page(c, softcard_id, after, 0, &objs);
		rv = p11_call_result("listing objects", rc, c);
		for (size_t i = 0; rv == CKR_OK && i < objs.count; i++) {
			struct p11_object o;
			rv = p11_object_from_wsop_object(&o, &objs.items[i]);
			if (rv == CKR_OK)
				rv = add_checked(col, &o);
		}
		if (rv == CKR_OK && objs.next[0] != '\0' && strcmp(objs.next, after) == 0)
			rv = p11_call_result("listing objects", -EPROTO, c);
		memcpy(after, objs.next, sizeof(after));
		wsop_object_list_free(&objs);
	} while (rv == CKR_OK && after[0] != '\0');
	return rv;
}

/* The kinds a template's CKA_CLASS leaves to list. */
static enum p11_prune_scope scope_of(const struct p11_find_template *tmpl)
{
	for (CK_ULONG i = 0; i < tmpl->count; i++) {
		const CK_ATTRIBUTE *a = &tmpl->attrs[i];
		if (a->type != CKA_CLASS || a->ulValueLen != sizeof(CK_OBJECT_CLASS) ||
		    a->pValue == NULL)
			continue;
		CK_OBJECT_CLASS cls;
		memcpy(&cls, a->pValue, sizeof(cls));
		return cls == CKO_SECRET_KEY ? P11_PRUNE_KEYS : P11_PRUNE_OBJECTS;
	}
	return P11_PRUNE_ALL;
}

/* Fills op with the matches of tmpl among the objects of slot. */
static CK_RV search(struct p11_slot *slot, const struct p11_find_template *tmpl,
                    struct p11_find_op *op)
{
	if (!p11_slot_logged_in(slot))
		return CKR_OK;
	const char *softcard_id = p11_slot_softcard_id(slot);

	struct wsop_client *c = p11_slot_client(slot);
	if (c == NULL)
		return CKR_HOST_MEMORY;
	struct collect col = { .slot = slot, .tmpl = tmpl, .op = op };
	enum p11_prune_scope scope = scope_of(tmpl);
	CK_RV rv = CKR_OK;
	if (scope != P11_PRUNE_OBJECTS)
		rv = list_keys(c, &col, softcard_id);
	if (rv == CKR_OK && scope != P11_PRUNE_KEYS)
		rv = list_objects(c, &col, softcard_id);
	p11_slot_client_release(slot, c);
	/* Only a complete listing says what no longer exists. */
	if (rv == CKR_OK)
		p11_objstore_prune(slot, col.seen, col.nseen, scope);
	free(col.seen);
	return rv;
}

CK_RV C_FindObjectsInit(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
	CK_RV rv = P11_BEGIN(hSession, "(count=%lu)", (unsigned long)ulCount);
	if (rv != CKR_OK)
		return rv;
	if (pTemplate == NULL && ulCount > 0)
		return p11_return(__func__, hSession, CKR_ARGUMENTS_BAD);

	struct p11_slot *slot;
	struct p11_session_ops *ops;
	rv = p11_session_take(hSession, &slot, NULL, &ops);
	if (rv != CKR_OK)
		return p11_return(__func__, hSession, rv);

	struct p11_find_template tmpl;
	struct p11_find_op *op = NULL;
	if (ops->op[P11_OP_FIND] != NULL)
		rv = CKR_OPERATION_ACTIVE;
	else
		rv = p11_find_template_init(&tmpl, pTemplate, ulCount);
	if (rv == CKR_OK) {
		op = calloc(1, sizeof(*op));
		rv = op == NULL ? CKR_HOST_MEMORY : search(slot, &tmpl, op);
		p11_find_template_free(&tmpl);
	}
	if (op != NULL) {
		op->op.release = find_op_release;
		ops->op[P11_OP_FIND] = &op->op;
		/* A failed search leaves no search active. */
		if (rv != CKR_OK)
			p11_op_end(ops, P11_OP_FIND);
	}
	p11_session_release(ops);
	return p11_return(__func__, hSession, rv);
}

CK_RV C_FindObjects(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE_PTR phObject,
                    CK_ULONG ulMaxObjectCount, CK_ULONG_PTR pulObjectCount)
{
	CK_RV rv = P11_BEGIN(hSession, "(max=%lu)", (unsigned long)ulMaxObjectCount);
	if (rv != CKR_OK)
		return rv;
	bool bad_args = pulObjectCount == NULL || (phObject == NULL && ulMaxObjectCount > 0);

	struct p11_slot *slot;
	struct p11_session_ops *ops;
	rv = p11_session_take(hSession, &slot, NULL, &ops);
	if (rv != CKR_OK)
		return p11_return(__func__, hSession, bad_args ? CKR_ARGUMENTS_BAD : rv);
	struct p11_find_op *op = find_op_of(ops);
	if (bad_args) {
		/* As for every multi-step operation: a failed call ends it. */
		rv = CKR_ARGUMENTS_BAD;
		p11_op_end(ops, P11_OP_FIND);
	} else if (op == NULL) {
		rv = CKR_OPERATION_NOT_INITIALIZED;
	} else {
		size_t left = op->count - op->pos;
		size_t n = ulMaxObjectCount < left ? (size_t)ulMaxObjectCount : left;
		if (n > 0)
			memcpy(phObject, op->handles + op->pos, n * sizeof(*phObject));
		op->pos += n;
		*pulObjectCount = (CK_ULONG)n;
	}
	p11_session_release(ops);
	return p11_return(__func__, hSession, rv);
}

CK_RV C_FindObjectsFinal(CK_SESSION_HANDLE hSession)
{
	CK_RV rv = P11_BEGIN(hSession, "()");
	if (rv != CKR_OK)
		return rv;
	struct p11_slot *slot;
	struct p11_session_ops *ops;
	rv = p11_session_take(hSession, &slot, NULL, &ops);
	if (rv != CKR_OK)
		return p11_return(__func__, hSession, rv);
	if (ops->op[P11_OP_FIND] == NULL)
		rv = CKR_OPERATION_NOT_INITIALIZED;
	else
		p11_op_end(ops, P11_OP_FIND);
	p11_session_release(ops);
	return p11_return(__func__, hSession, rv);
}
