/*
 * C_Login and C_Logout. Logging in activates the token's softcard with the
 * PIN as its passphrase; the server answers with an activation token of
 * this login alone, which the library keeps in memory (never the PIN) and
 * sends with every request about that softcard. Logging out deactivates
 * that one activation: other processes with the same client certificate
 * stay logged in. Login state is the application process's, shared by
 * every session of it; the server refusing the token later (expired, or
 * the softcard deleted) logs the process out (p11_slot_client_release).
 *
 * Choices where the standard leaves room:
 *  - CKU_SO: a softcard has no security officer -> CKR_USER_TYPE_INVALID.
 *  - CKU_CONTEXT_SPECIFIC: no key asks for it (no CKA_ALWAYS_AUTHENTICATE)
 *    -> CKR_OPERATION_NOT_INITIALIZED.
 *  - A PIN of 0 or more than 256 bytes -> CKR_PIN_LEN_RANGE. A PIN with a
 *    byte outside printable ASCII can never be a softcard's passphrase ->
 *    CKR_PIN_INCORRECT without asking the server (CKR_PIN_INVALID is for
 *    functions that set a PIN).
 *  - pPin NULL (a protected authentication path) -> CKR_ARGUMENTS_BAD.
 * The PIN is passed straight from the caller's buffer to the client,
 * which wipes every copy it makes; it is never logged.
 */
#include <stdbool.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ipc/wsop_names.h"
#include "lib/p11_audit.h"
#include "lib/p11_core.h"
#include "lib/p11_errors.h"
#include "lib/p11_sessions.h"
#include "lib/p11_slots.h"
#include "lib/wsop_client.h"

static CK_RV check_user_type(CK_USER_TYPE type)
{
	if (type == CKU_USER)
		return CKR_OK;
	if (type == CKU_CONTEXT_SPECIFIC)
		return CKR_OPERATION_NOT_INITIALIZED;
	return CKR_USER_TYPE_INVALID;
}

static CK_RV check_pin(CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
	if (pin == NULL)
		return CKR_ARGUMENTS_BAD;
	if (len < 1 || len > WSOP_PASSPHRASE_MAX)
		return CKR_PIN_LEN_RANGE;
	if (!wsop_passphrase_valid((const char *)pin, len))
		return CKR_PIN_INCORRECT;
	return CKR_OK;
}

static CK_RV activate(struct p11_slot *slot, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
	const char *softcard_id = p11_slot_softcard_id(slot);
	struct wsop_softcard answer;

	memset(&answer, 0, sizeof(answer));

	struct wsop_client *c = p11_client_acquire();
	if (c == NULL)
		return CKR_HOST_MEMORY;
	int rc = wsop_softcard_activate(c, softcard_id, (const char *)pin, len, NULL, &answer);
	CK_RV rv = p11_call_result("activating softcard", rc, c);
	(void)wsop_client_set_activation(c, NULL);
	/* A refused passphrase changed the server's count: read it back, so
	 * that C_GetTokenInfo's CKF_USER_PIN_* say what the server will do
	 * with the next one. */
	if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LOCKED) {
		struct wsop_softcard now;
		if (wsop_softcard_get(c, softcard_id, &now) == 0)
			p11_slot_note_lockout(slot, &now);
	}
	p11_client_release(c);
	/* A server that gives no token cannot be used past this login. */
	if (rv == CKR_OK && answer.activation[0] == '\0')
		rv = CKR_DEVICE_ERROR;
	if (rv == CKR_OK) {
		p11_slot_note_lockout(slot, &answer);
		rv = p11_slot_login(slot, answer.activation);
	}
	OPENSSL_cleanse(answer.activation, sizeof(answer.activation));
	return rv;
}

CK_RV C_Login(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType, CK_UTF8CHAR_PTR pPin,
              CK_ULONG ulPinLen)
{
	CK_RV rv = P11_BEGIN(hSession, "(userType=%lu)", (unsigned long)userType);
	if (rv != CKR_OK)
		return rv;

	struct p11_slot *slot = NULL;
	rv = p11_session_slot(hSession, &slot, NULL);
	if (rv == CKR_OK)
		rv = check_user_type(userType);
	if (rv != CKR_OK) {
		p11_audit_login("login", hSession, slot, rv);
		return p11_return(__func__, hSession, rv);
	}

	p11_slot_login_lock(slot);
	if (p11_slot_logged_in(slot))
		rv = CKR_USER_ALREADY_LOGGED_IN;
	else
		rv = check_pin(pPin, ulPinLen);
	if (rv == CKR_OK)
		rv = activate(slot, pPin, ulPinLen);
	p11_slot_login_unlock(slot);
	p11_audit_login("login", hSession, slot, rv);
	return p11_return(__func__, hSession, rv);
}

CK_RV C_Logout(CK_SESSION_HANDLE hSession)
{
	CK_RV rv = P11_BEGIN(hSession, "()");
	if (rv != CKR_OK)
		return rv;

	struct p11_slot *slot = NULL;
	rv = p11_session_slot(hSession, &slot, NULL);
	if (rv != CKR_OK) {
		p11_audit_login("logout", hSession, NULL, rv);
		return p11_return(__func__, hSession, rv);
	}

	p11_slot_login_lock(slot);
	rv = p11_slot_logged_in(slot) ? p11_slot_deactivate(slot) : CKR_USER_NOT_LOGGED_IN;
	p11_slot_login_unlock(slot);
	p11_audit_login("logout", hSession, slot, rv);
	return p11_return(__func__, hSession, rv);
}
