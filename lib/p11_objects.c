/*
 * C_CreateObject, C_DestroyObject, C_GetAttributeValue.
 *
 * Choices:
 *  - C_CreateObject makes data objects and X.509 certificates only
 *    (lib/p11_template.h); keys come from C_GenerateKey. Check order as in
 *    C_GenerateKey (lib/p11_keygen.c): argument pointers, session handle,
 *    read-only session (CKR_SESSION_READ_ONLY), not logged in
 *    (CKR_USER_NOT_LOGGED_IN), then the template. Every object is a private
 *    token object, so the session state decides before the template does.
 *  - C_DestroyObject needs a read/write session of a logged-in token, in
 *    that order; then a handle that is unknown, of another token or not
 *    visible is CKR_OBJECT_HANDLE_INVALID. The object is deleted on the
 *    server first; the handle is dropped when the server deleted it or
 *    answered 404 (someone else deleted it: CKR_OBJECT_HANDLE_INVALID).
 *  - C_GetAttributeValue reads the cached attributes (objects are not
 *    modifiable, so the cache is exact) with the semantics of
 *    p11_object_get_attributes; an unknown or invisible handle is
 *    CKR_OBJECT_HANDLE_INVALID. No round trip, but the first time the
 *    value of a data object or certificate found by a search is copied out
 *    (searches list no values): that reads the object once and caches it.
 *    Its length alone needs no round trip.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <p11-kit/pkcs11.h>

#include "lib/p11_attrs.h"
#include "lib/p11_audit.h"
#include "lib/p11_core.h"
#include "lib/p11_errors.h"
#include "lib/p11_objstore.h"
#include "lib/p11_sessions.h"
#include "lib/p11_slots.h"
#include "lib/p11_template.h"
#include "lib/wsop_client.h"

/* A fresh idempotency key and a client for a mutation on slot's token. */
static CK_RV mutation_client(struct p11_slot *slot, char idem[WSOP_IDEMPOTENCY_KEY_LEN + 1],
                             struct wsop_client **c)
{
	if (wsop_idempotency_key_new(idem) != 0)
		return CKR_FUNCTION_FAILED;
	*c = p11_slot_client(slot);
	return *c != NULL ? CKR_OK : CKR_HOST_MEMORY;
}

/* A copy of the object behind obj as session h sees it (*o is zeroed
 * first; free it with p11_object_free). With writable, the session must
 * be read/write and its token logged in, checked before the handle. */
static CK_RV object_of(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj, bool writable,
                       struct p11_slot **slot, struct p11_object *o)
{
	memset(o, 0, sizeof(*o));
	CK_RV rv = writable ? p11_session_writable(h, slot) : p11_session_slot(h, slot, NULL);
	if (rv == CKR_OK)
		rv = p11_objstore_get(*slot, obj, o);
	return rv;
}

static CK_RV create(struct p11_slot *slot, const struct wsop_object_create_req *req,
                    CK_OBJECT_HANDLE *out)
{
	char idem[WSOP_IDEMPOTENCY_KEY_LEN + 1];
	struct wsop_client *c;
	CK_RV rv = mutation_client(slot, idem, &c);
	if (rv != CKR_OK)
		return rv;
	struct wsop_object made;
	memset(&made, 0, sizeof(made));
	int rc = wsop_object_create(c, p11_slot_softcard_id(slot), req, idem, &made);
	rv = p11_call_result("creating an object", rc, c);
	p11_slot_client_release(slot, c);
	if (rv != CKR_OK)
		return rv;
	struct p11_object o;
	rv = p11_object_from_wsop_object(&o, &made);
	wsop_object_free(&made);
	if (rv == CKR_OK)
		rv = p11_objstore_put(slot, &o, out);
	p11_object_free(&o);
	return rv;
}

CK_RV C_CreateObject(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount,
                     CK_OBJECT_HANDLE_PTR phObject)
{
	CK_RV rv = P11_BEGIN(hSession, "(count=%lu)", (unsigned long)ulCount);
	if (rv != CKR_OK)
		return rv;
	struct p11_slot *slot = NULL;
	struct wsop_object_create_req req;
	memset(&req, 0, sizeof(req));
	if (phObject == NULL || (pTemplate == NULL && ulCount > 0))
		rv = CKR_ARGUMENTS_BAD;
	else
		rv = p11_session_writable(hSession, &slot);
	if (rv == CKR_OK)
		rv = p11_template_create_request(pTemplate, ulCount, &req);
	/* The audit line names what was asked once the template was read. */
	bool asked = rv == CKR_OK;
	if (asked)
		rv = create(slot, &req, phObject);
	p11_audit_create_object(hSession, slot, asked ? &req : NULL,
	                        rv == CKR_OK ? *phObject : CK_INVALID_HANDLE, rv);
	wsop_object_create_req_free(&req);
	return p11_return(__func__, hSession, rv);
}

/* Deletes o on the server; 404 means it is gone already. */
static CK_RV delete_on_server(struct p11_slot *slot, const struct p11_object *o)
{
	char idem[WSOP_IDEMPOTENCY_KEY_LEN + 1];
	struct wsop_client *c;
	CK_RV rv = mutation_client(slot, idem, &c);
	if (rv != CKR_OK)
		return rv;
	int rc;
	if (o->cls == CKO_SECRET_KEY)
		rc = wsop_key_delete(c, o->key.group, o->key.id, idem);
	else
		rc = wsop_object_delete(c, p11_slot_softcard_id(slot), o->object.id, idem);
	rv = rc == 404 ? CKR_OBJECT_HANDLE_INVALID : p11_call_result("destroying an object", rc, c);
	p11_slot_client_release(slot, c);
	return rv;
}

CK_RV C_DestroyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject)
{
	CK_RV rv = P11_BEGIN(hSession, "(object=%lu)", (unsigned long)hObject);
	if (rv != CKR_OK)
		return rv;
	struct p11_slot *slot = NULL;
	struct p11_object o;
	rv = object_of(hSession, hObject, true, &slot, &o);
	bool found = rv == CKR_OK;
	if (found)
		rv = delete_on_server(slot, &o);
	p11_audit_destroy_object(hSession, slot, hObject, found ? &o : NULL, rv);
	p11_object_free(&o);
	if (found && (rv == CKR_OK || rv == CKR_OBJECT_HANDLE_INVALID))
		p11_objstore_drop(hObject);
	return p11_return(__func__, hSession, rv);
}

CK_RV C_GetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
                          CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
	CK_RV rv = P11_BEGIN(hSession, "(object=%lu, count=%lu)", (unsigned long)hObject,
	                     (unsigned long)ulCount);
	if (rv != CKR_OK)
		return rv;
	struct p11_slot *slot = NULL;
	struct p11_object o;
	memset(&o, 0, sizeof(o));
	if (pTemplate == NULL && ulCount > 0)
		rv = CKR_ARGUMENTS_BAD;
	else
		rv = object_of(hSession, hObject, false, &slot, &o);
	if (rv == CKR_OK && p11_object_value_needed(&o, pTemplate, ulCount))
		rv = p11_objstore_fetch_value(slot, hObject, &o);
	if (rv == CKR_OK)
		rv = p11_object_get_attributes(&o, pTemplate, ulCount);
	p11_object_free(&o);
	/* The usual non-OK answers here (sensitive, type invalid, buffer too
	 * small) are the caller's business, not module errors. */
	if (rv == CKR_ATTRIBUTE_SENSITIVE || rv == CKR_ATTRIBUTE_TYPE_INVALID ||
	    rv == CKR_BUFFER_TOO_SMALL)
		return rv;
	return p11_return(__func__, hSession, rv);
}

/* C_GetObjectSize: a key's size would speak of a secret, so keys answer
 * CKR_INFORMATION_SENSITIVE (v2.40 5.7 allows it). A data object or a
 * certificate answers the bytes of its variable-length attributes: the
 * value, label, application, ids, subject, issuer and serial number; the
 * value's length is known without fetching it. */
CK_RV C_GetObjectSize(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ULONG_PTR pulSize)
{
	static const CK_ATTRIBUTE_TYPE sized[] = {
		CKA_VALUE, CKA_LABEL,   CKA_APPLICATION, CKA_OBJECT_ID,
		CKA_ID,    CKA_SUBJECT, CKA_ISSUER,      CKA_SERIAL_NUMBER,
	};
	CK_RV rv = P11_BEGIN(hSession, "(object=%lu)", (unsigned long)hObject);
	if (rv != CKR_OK)
		return rv;
	struct p11_slot *slot = NULL;
	struct p11_object o;
	memset(&o, 0, sizeof(o));
	if (pulSize == NULL)
		rv = CKR_ARGUMENTS_BAD;
	else
		rv = object_of(hSession, hObject, false, &slot, &o);
	if (rv == CKR_OK && o.cls == CKO_SECRET_KEY)
		rv = CKR_INFORMATION_SENSITIVE;
	if (rv == CKR_OK) {
		CK_ATTRIBUTE t[sizeof(sized) / sizeof(sized[0])];
		for (size_t i = 0; i < sizeof(sized) / sizeof(sized[0]); i++)
			t[i] = (CK_ATTRIBUTE){ sized[i], NULL, 0 };
		/* Lengths only: a type the class lacks reads as unavailable. */
		(void)p11_object_get_attributes(&o, t, sizeof(sized) / sizeof(sized[0]));
		CK_ULONG size = 0;
		for (size_t i = 0; i < sizeof(sized) / sizeof(sized[0]); i++)
			if (t[i].ulValueLen != CK_UNAVAILABLE_INFORMATION)
				size += t[i].ulValueLen;
		*pulSize = size;
	}
	p11_object_free(&o);
	/* A key's answer is the standard's, not a module failure. */
	if (rv == CKR_INFORMATION_SENSITIVE)
		return rv;
	return p11_return(__func__, hSession, rv);
}
