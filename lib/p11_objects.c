/*
 * Object, key-generation and encryption entry points of the manual's list.
 *
 * PLACEHOLDER for the next issue, which replaces this file: the calls
 * validate initialisation, their pointer arguments and the session handle
 * exactly as the real ones will, then answer CKR_FUNCTION_NOT_SUPPORTED.
 */
#include <stdbool.h>
#include <stddef.h>

#include <p11-kit/pkcs11.h>

#include "lib/p11_module.h"
#include "lib/p11_sessions.h"

/* The common prologue: initialised, arguments present, session known. */
static CK_RV placeholder(const char *function, CK_SESSION_HANDLE h, bool args_ok)
{
	CK_RV rv = p11_enter();
	if (rv != CKR_OK)
		return rv;
	P11_TRACE(h, "%s()", function);
	if (!args_ok)
		return p11_return(function, h, CKR_ARGUMENTS_BAD);
	struct p11_slot *slot;
	rv = p11_session_slot(h, &slot, NULL);
	if (rv != CKR_OK)
		return p11_return(function, h, rv);
	return p11_return(function, h, CKR_FUNCTION_NOT_SUPPORTED);
}

CK_RV C_CreateObject(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount,
                     CK_OBJECT_HANDLE_PTR phObject)
{
	return placeholder("C_CreateObject", hSession,
	                   phObject != NULL && (pTemplate != NULL || ulCount == 0));
}

CK_RV C_DestroyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject)
{
	return placeholder("C_DestroyObject", hSession, true);
}

CK_RV C_GetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
                          CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
	return placeholder("C_GetAttributeValue", hSession, pTemplate != NULL || ulCount == 0);
}

CK_RV C_FindObjectsInit(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
	return placeholder("C_FindObjectsInit", hSession, pTemplate != NULL || ulCount == 0);
}

CK_RV C_FindObjects(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE_PTR phObject,
                    CK_ULONG ulMaxObjectCount, CK_ULONG_PTR pulObjectCount)
{
	return placeholder("C_FindObjects", hSession,
	                   pulObjectCount != NULL && (phObject != NULL || ulMaxObjectCount == 0));
}

CK_RV C_FindObjectsFinal(CK_SESSION_HANDLE hSession)
{
	return placeholder("C_FindObjectsFinal", hSession, true);
}

CK_RV C_GenerateKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                    CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phKey)
{
	return placeholder("C_GenerateKey", hSession,
	                   pMechanism != NULL && phKey != NULL &&
	                       (pTemplate != NULL || ulCount == 0));
}

/* No search state exists yet; the session table calls this on close. */
void p11_find_op_free(struct p11_find_op *op)
{
	(void)op;
}
