/*
 * C_GenerateKey: AES keys made on the server, in the softcard's "pkcs11"
 * key group.
 *
 * Choices:
 *  - Check order: argument pointers (CKR_ARGUMENTS_BAD), the session
 *    handle, then the session state (read-only: CKR_SESSION_READ_ONLY; not
 *    logged in: CKR_USER_NOT_LOGGED_IN), then the mechanism and the
 *    template (lib/p11_template.h, its own order). The state comes first,
 *    as in SoftHSMv2 and in C_CreateObject (lib/p11_objects.c): every key
 *    is a private token object, so a logged-out or read-only session can
 *    never generate one whatever the template says.
 *  - The group: the oldest group named "pkcs11" of the softcard; when there
 *    is none it is created with an idempotency key derived from the
 *    softcard id, so that two threads (or a retried request) creating it at
 *    once get the same group from the server; the list is read again
 *    afterwards and its oldest "pkcs11" group used, so that even a group
 *    made by another client at the same moment leads to one choice. A
 *    second group would be harmless anyway: searches list every group.
 *  - The group found is kept in the slot, so only the first generation on
 *    a token pays for finding it. If the server no longer knows it (someone
 *    deleted it), it is looked up again once.
 *  - Each generate request carries a fresh idempotency key, so the
 *    backend's retry of a lost answer does not make two keys.
 */
#include <stdio.h>
#include <string.h>

#include "lib/p11_attrs.h"
#include "lib/p11_audit.h"
#include "lib/p11_core.h"
#include "lib/p11_errors.h"
#include "lib/p11_objstore.h"
#include "lib/p11_sessions.h"
#include "lib/p11_slots.h"
#include "lib/p11_template.h"
#include "lib/wsop_client.h"

#define P11_KEY_GROUP_NAME "pkcs11"

/* The id of the oldest "pkcs11" group in groups, or false. */
static bool pick_group(const struct wsop_group_list *groups, char id[WSOP_UUID_LEN + 1])
{
	const struct wsop_group *best = NULL;
	for (size_t i = 0; i < groups->count; i++) {
		const struct wsop_group *g = &groups->items[i];
		if (strcmp(g->name, P11_KEY_GROUP_NAME) != 0)
			continue;
		if (best == NULL || g->created < best->created ||
		    (g->created == best->created && strcmp(g->id, best->id) < 0))
			best = g;
	}
	if (best == NULL)
		return false;
	memcpy(id, best->id, WSOP_UUID_LEN + 1);
	return true;
}

static CK_RV find_group(struct wsop_client *c, const char *softcard_id, bool *found,
                        char id[WSOP_UUID_LEN + 1])
{
	struct wsop_group_list groups;
	memset(&groups, 0, sizeof(groups));
	int rc = wsop_group_list(c, softcard_id, &groups);
	CK_RV rv = p11_call_result("listing key groups", rc, c);
	*found = rv == CKR_OK && pick_group(&groups, id);
	wsop_group_list_free(&groups);
	return rv;
}

static CK_RV key_group(struct wsop_client *c, const char *softcard_id, char id[WSOP_UUID_LEN + 1])
{
	bool found;
	CK_RV rv = find_group(c, softcard_id, &found, id);
	if (rv != CKR_OK || found)
		return rv;

	/* "p11g-" + 40 hex: within the 64 characters of an idempotency key. */
	char idem[WSOP_IDEMPOTENCY_KEY_MAX + 1];
	snprintf(idem, sizeof(idem), "p11g-%s", softcard_id);
	struct wsop_group made;
	memset(&made, 0, sizeof(made));
	int rc = wsop_group_create(c, P11_KEY_GROUP_NAME, softcard_id, idem, &made);
	rv = p11_call_result("creating the pkcs11 key group", rc, c);
	if (rv != CKR_OK)
		return rv;
	rv = find_group(c, softcard_id, &found, id);
	if (rv == CKR_OK && !found)
		memcpy(id, made.id, WSOP_UUID_LEN + 1);
	return rv;
}

static CK_RV generate(struct p11_slot *slot, const struct wsop_key_generate_req *req,
                      CK_OBJECT_HANDLE *out)
{
	const char *softcard_id = p11_slot_softcard_id(slot);
	struct wsop_client *c = p11_slot_client(slot);
	if (c == NULL)
		return CKR_HOST_MEMORY;
	char idem[WSOP_IDEMPOTENCY_KEY_LEN + 1];
	CK_RV rv = wsop_idempotency_key_new(idem) == 0 ? CKR_OK : CKR_FUNCTION_FAILED;
	char group[WSOP_UUID_LEN + 1];
	p11_slot_key_group(slot, group);
	bool cached = group[0] != '\0';
	struct wsop_key key;
	memset(&key, 0, sizeof(key));
	for (int attempt = 0; rv == CKR_OK && attempt < 2; attempt++) {
		if (!cached) {
			rv = key_group(c, softcard_id, group);
			if (rv != CKR_OK)
				break;
			p11_slot_set_key_group(slot, group);
		}
		int rc = wsop_key_generate(c, group, req, idem, &key);
		/* A cached group that the server no longer has: find it anew. */
		if (cached && rc == 404 && wsop_client_error_is(c, WSOP_E_NOT_FOUND)) {
			p11_slot_set_key_group(slot, "");
			cached = false;
			continue;
		}
		rv = p11_call_result("generating a key", rc, c);
		break;
	}
	p11_slot_client_release(slot, c);
	if (rv != CKR_OK)
		return rv;

	struct p11_object o;
	rv = p11_object_from_key(&o, &key);
	wsop_key_free(&key);
	if (rv == CKR_OK)
		rv = p11_objstore_put(slot, &o, out);
	p11_object_free(&o);
	return rv;
}

CK_RV C_GenerateKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                    CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phKey)
{
	CK_RV rv = P11_BEGIN(hSession, "(mechanism=0x%lx, count=%lu)",
	                     pMechanism == NULL ? 0UL : (unsigned long)pMechanism->mechanism,
	                     (unsigned long)ulCount);
	if (rv != CKR_OK)
		return rv;
	struct p11_slot *slot = NULL;
	struct wsop_key_generate_req req;
	memset(&req, 0, sizeof(req));
	if (pMechanism == NULL || phKey == NULL || (pTemplate == NULL && ulCount > 0))
		rv = CKR_ARGUMENTS_BAD;
	else
		rv = p11_session_writable(hSession, &slot);
	if (rv == CKR_OK)
		rv = p11_template_generate_request(pMechanism, pTemplate, ulCount, &req);
	/* The audit line names what was asked once the template was read. */
	bool asked = rv == CKR_OK;
	if (asked)
		rv = generate(slot, &req, phKey);
	p11_audit_generate_key(hSession, slot, asked ? &req : NULL,
	                       rv == CKR_OK ? *phKey : CK_INVALID_HANDLE, rv);
	wsop_key_generate_req_free(&req);
	return p11_return(__func__, hSession, rv);
}
