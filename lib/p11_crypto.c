/*
 * Encryption and decryption entry points of the manual's list.
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

CK_RV C_EncryptInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	return placeholder("C_EncryptInit", hSession, pMechanism != NULL);
}

CK_RV C_Encrypt(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
                CK_BYTE_PTR pEncryptedData, CK_ULONG_PTR pulEncryptedDataLen)
{
	return placeholder("C_Encrypt", hSession,
	                   pulEncryptedDataLen != NULL && (pData != NULL || ulDataLen == 0));
}

CK_RV C_EncryptFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pLastEncryptedPart,
                     CK_ULONG_PTR pulLastEncryptedPartLen)
{
	return placeholder("C_EncryptFinal", hSession, pulLastEncryptedPartLen != NULL);
}

CK_RV C_DecryptInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	return placeholder("C_DecryptInit", hSession, pMechanism != NULL);
}

CK_RV C_Decrypt(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedData, CK_ULONG ulEncryptedDataLen,
                CK_BYTE_PTR pData, CK_ULONG_PTR pulDataLen)
{
	return placeholder("C_Decrypt", hSession,
	                   pulDataLen != NULL &&
	                       (pEncryptedData != NULL || ulEncryptedDataLen == 0));
}

CK_RV C_DecryptFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pLastPart, CK_ULONG_PTR pulLastPartLen)
{
	return placeholder("C_DecryptFinal", hSession, pulLastPartLen != NULL);
}

/* No operation state exists yet; the session table calls this on close. */
void p11_crypt_op_free(struct p11_crypt_op *op)
{
	(void)op;
}
