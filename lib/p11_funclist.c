/*
 * C_GetFunctionList and the functions outside the manual's list.
 *
 * The table is complete (PKCS #11 v2.40): every entry is a function. Those
 * the manual does not list answer CKR_FUNCTION_NOT_SUPPORTED once the
 * module is initialized (CKR_CRYPTOKI_NOT_INITIALIZED before, and in a
 * forked child). The legacy C_GetFunctionStatus and C_CancelFunction
 * answer CKR_FUNCTION_NOT_PARALLEL, as v2.40 says they always do.
 */
#include <stddef.h>

#include <p11-kit/pkcs11.h>

#include "lib/p11_module.h"

static CK_RV unsupported(const char *function, CK_SESSION_HANDLE session)
{
	CK_RV rv = p11_enter();
	if (rv != CKR_OK)
		return rv;
	P11_TRACE(session, "%s()", function);
	return p11_return(function, session, CKR_FUNCTION_NOT_SUPPORTED);
}

CK_RV C_InitToken(CK_SLOT_ID slotID, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen,
                  CK_UTF8CHAR_PTR pLabel)
{
	return unsupported("C_InitToken", 0);
}

CK_RV C_InitPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen)
{
	return unsupported("C_InitPIN", hSession);
}

CK_RV C_SetPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pOldPin, CK_ULONG ulOldLen,
               CK_UTF8CHAR_PTR pNewPin, CK_ULONG ulNewLen)
{
	return unsupported("C_SetPIN", hSession);
}

CK_RV C_GetOperationState(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pOperationState,
                          CK_ULONG_PTR pulOperationStateLen)
{
	return unsupported("C_GetOperationState", hSession);
}

CK_RV C_SetOperationState(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pOperationState,
                          CK_ULONG ulOperationStateLen, CK_OBJECT_HANDLE hEncryptionKey,
                          CK_OBJECT_HANDLE hAuthenticationKey)
{
	return unsupported("C_SetOperationState", hSession);
}

CK_RV C_CopyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate,
                   CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phNewObject)
{
	return unsupported("C_CopyObject", hSession);
}

CK_RV C_SetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
                          CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
	return unsupported("C_SetAttributeValue", hSession);
}

CK_RV C_DigestInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism)
{
	return unsupported("C_DigestInit", hSession);
}

CK_RV C_Digest(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
               CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen)
{
	return unsupported("C_Digest", hSession);
}

CK_RV C_DigestUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
	return unsupported("C_DigestUpdate", hSession);
}

CK_RV C_DigestKey(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hKey)
{
	return unsupported("C_DigestKey", hSession);
}

CK_RV C_DigestFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen)
{
	return unsupported("C_DigestFinal", hSession);
}

CK_RV C_SignInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	return unsupported("C_SignInit", hSession);
}

CK_RV C_Sign(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
             CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
	return unsupported("C_Sign", hSession);
}

CK_RV C_SignUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
	return unsupported("C_SignUpdate", hSession);
}

CK_RV C_SignFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
	return unsupported("C_SignFinal", hSession);
}

CK_RV C_SignRecoverInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                        CK_OBJECT_HANDLE hKey)
{
	return unsupported("C_SignRecoverInit", hSession);
}

CK_RV C_SignRecover(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
                    CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
	return unsupported("C_SignRecover", hSession);
}

CK_RV C_VerifyInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	return unsupported("C_VerifyInit", hSession);
}

CK_RV C_Verify(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
               CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen)
{
	return unsupported("C_Verify", hSession);
}

CK_RV C_VerifyUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
	return unsupported("C_VerifyUpdate", hSession);
}

CK_RV C_VerifyFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen)
{
	return unsupported("C_VerifyFinal", hSession);
}

CK_RV C_VerifyRecoverInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                          CK_OBJECT_HANDLE hKey)
{
	return unsupported("C_VerifyRecoverInit", hSession);
}

CK_RV C_VerifyRecover(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen,
                      CK_BYTE_PTR pData, CK_ULONG_PTR pulDataLen)
{
	return unsupported("C_VerifyRecover", hSession);
}

CK_RV C_DigestEncryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen,
                            CK_BYTE_PTR pEncryptedPart, CK_ULONG_PTR pulEncryptedPartLen)
{
	return unsupported("C_DigestEncryptUpdate", hSession);
}

CK_RV C_DecryptDigestUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart,
                            CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen)
{
	return unsupported("C_DecryptDigestUpdate", hSession);
}

CK_RV C_SignEncryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen,
                          CK_BYTE_PTR pEncryptedPart, CK_ULONG_PTR pulEncryptedPartLen)
{
	return unsupported("C_SignEncryptUpdate", hSession);
}

CK_RV C_DecryptVerifyUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart,
                            CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen)
{
	return unsupported("C_DecryptVerifyUpdate", hSession);
}

CK_RV C_GenerateKeyPair(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                        CK_ATTRIBUTE_PTR pPublicKeyTemplate, CK_ULONG ulPublicKeyAttributeCount,
                        CK_ATTRIBUTE_PTR pPrivateKeyTemplate, CK_ULONG ulPrivateKeyAttributeCount,
                        CK_OBJECT_HANDLE_PTR phPublicKey, CK_OBJECT_HANDLE_PTR phPrivateKey)
{
	return unsupported("C_GenerateKeyPair", hSession);
}

CK_RV C_WrapKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                CK_OBJECT_HANDLE hWrappingKey, CK_OBJECT_HANDLE hKey, CK_BYTE_PTR pWrappedKey,
                CK_ULONG_PTR pulWrappedKeyLen)
{
	return unsupported("C_WrapKey", hSession);
}

CK_RV C_UnwrapKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                  CK_OBJECT_HANDLE hUnwrappingKey, CK_BYTE_PTR pWrappedKey,
                  CK_ULONG ulWrappedKeyLen, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulAttributeCount,
                  CK_OBJECT_HANDLE_PTR phKey)
{
	return unsupported("C_UnwrapKey", hSession);
}

CK_RV C_DeriveKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                  CK_OBJECT_HANDLE hBaseKey, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulAttributeCount,
                  CK_OBJECT_HANDLE_PTR phKey)
{
	return unsupported("C_DeriveKey", hSession);
}

/* The standard's fixed answer, so it is not logged as a failure. */
static CK_RV not_parallel(const char *function, CK_SESSION_HANDLE session)
{
	CK_RV rv = p11_enter();
	if (rv != CKR_OK)
		return rv;
	P11_TRACE(session, "%s()", function);
	return CKR_FUNCTION_NOT_PARALLEL;
}

CK_RV C_GetFunctionStatus(CK_SESSION_HANDLE hSession)
{
	return not_parallel(__func__, hSession);
}

CK_RV C_CancelFunction(CK_SESSION_HANDLE hSession)
{
	return not_parallel(__func__, hSession);
}

CK_RV C_WaitForSlotEvent(CK_FLAGS flags, CK_SLOT_ID_PTR pSlot, CK_VOID_PTR pReserved)
{
	return unsupported("C_WaitForSlotEvent", 0);
}

static CK_FUNCTION_LIST function_list = {
	.version = { CRYPTOKI_VERSION_MAJOR, CRYPTOKI_VERSION_MINOR },

	.C_Initialize = C_Initialize,

	.C_Finalize = C_Finalize,

	.C_GetInfo = C_GetInfo,

	.C_GetFunctionList = C_GetFunctionList,

	.C_GetSlotList = C_GetSlotList,

	.C_GetSlotInfo = C_GetSlotInfo,

	.C_GetTokenInfo = C_GetTokenInfo,

	.C_GetMechanismList = C_GetMechanismList,

	.C_GetMechanismInfo = C_GetMechanismInfo,

	.C_InitToken = C_InitToken,

	.C_InitPIN = C_InitPIN,

	.C_SetPIN = C_SetPIN,

	.C_OpenSession = C_OpenSession,

	.C_CloseSession = C_CloseSession,

	.C_CloseAllSessions = C_CloseAllSessions,

	.C_GetSessionInfo = C_GetSessionInfo,

	.C_GetOperationState = C_GetOperationState,

	.C_SetOperationState = C_SetOperationState,

	.C_Login = C_Login,

	.C_Logout = C_Logout,

	.C_CreateObject = C_CreateObject,

	.C_CopyObject = C_CopyObject,

	.C_DestroyObject = C_DestroyObject,

	.C_GetObjectSize = C_GetObjectSize,

	.C_GetAttributeValue = C_GetAttributeValue,

	.C_SetAttributeValue = C_SetAttributeValue,

	.C_FindObjectsInit = C_FindObjectsInit,

	.C_FindObjects = C_FindObjects,

	.C_FindObjectsFinal = C_FindObjectsFinal,

	.C_EncryptInit = C_EncryptInit,

	.C_Encrypt = C_Encrypt,

	.C_EncryptUpdate = C_EncryptUpdate,

	.C_EncryptFinal = C_EncryptFinal,

	.C_DecryptInit = C_DecryptInit,

	.C_Decrypt = C_Decrypt,

	.C_DecryptUpdate = C_DecryptUpdate,

	.C_DecryptFinal = C_DecryptFinal,

	.C_DigestInit = C_DigestInit,

	.C_Digest = C_Digest,

	.C_DigestUpdate = C_DigestUpdate,

	.C_DigestKey = C_DigestKey,

	.C_DigestFinal = C_DigestFinal,

	.C_SignInit = C_SignInit,

	.C_Sign = C_Sign,

	.C_SignUpdate = C_SignUpdate,

	.C_SignFinal = C_SignFinal,

	.C_SignRecoverInit = C_SignRecoverInit,

	.C_SignRecover = C_SignRecover,

	.C_VerifyInit = C_VerifyInit,

	.C_Verify = C_Verify,

	.C_VerifyUpdate = C_VerifyUpdate,

	.C_VerifyFinal = C_VerifyFinal,

	.C_VerifyRecoverInit = C_VerifyRecoverInit,

	.C_VerifyRecover = C_VerifyRecover,

	.C_DigestEncryptUpdate = C_DigestEncryptUpdate,

	.C_DecryptDigestUpdate = C_DecryptDigestUpdate,

	.C_SignEncryptUpdate = C_SignEncryptUpdate,

	.C_DecryptVerifyUpdate = C_DecryptVerifyUpdate,

	.C_GenerateKey = C_GenerateKey,

	.C_GenerateKeyPair = C_GenerateKeyPair,

	.C_WrapKey = C_WrapKey,

	.C_UnwrapKey = C_UnwrapKey,

	.C_DeriveKey = C_DeriveKey,

	.C_SeedRandom = C_SeedRandom,

	.C_GenerateRandom = C_GenerateRandom,

	.C_GetFunctionStatus = C_GetFunctionStatus,

	.C_CancelFunction = C_CancelFunction,

	.C_WaitForSlotEvent = C_WaitForSlotEvent,

};

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR ppFunctionList)
{
	/* Allowed before C_Initialize: it is how applications find it. */
	if (ppFunctionList == NULL)
		return CKR_ARGUMENTS_BAD;
	*ppFunctionList = &function_list;
	return CKR_OK;
}
