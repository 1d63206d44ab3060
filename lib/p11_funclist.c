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

#include "lib/p11_core.h"

/* rv once the module is initialized. CKR_FUNCTION_NOT_PARALLEL is the
 * standard's fixed answer, so it is not logged as a failure. */
static CK_RV answer(const char *function, CK_SESSION_HANDLE session, CK_RV rv)
{
	CK_RV entered = p11_begin(function, session, "()");
	if (entered != CKR_OK)
		return entered;
	return rv == CKR_FUNCTION_NOT_PARALLEL ? rv : p11_return(function, session, rv);
}

/* An entry point that answers rv; session is the parameter naming its
 * session, 0 for those that take none. */
#define ANSWERING(rv, name, session, ...)                                                          \
	CK_RV name(__VA_ARGS__)                                                                    \
	{                                                                                          \
		return answer(__func__, session, rv);                                              \
	}
#define UNSUPPORTED(name, session, ...)                                                            \
	ANSWERING(CKR_FUNCTION_NOT_SUPPORTED, name, session, __VA_ARGS__)
#define NOT_PARALLEL(name, session, ...)                                                           \
	ANSWERING(CKR_FUNCTION_NOT_PARALLEL, name, session, __VA_ARGS__)

UNSUPPORTED(C_InitToken, 0, CK_SLOT_ID slotID, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen,
            CK_UTF8CHAR_PTR pLabel)
UNSUPPORTED(C_InitPIN, hSession, CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pPin,
            CK_ULONG ulPinLen)
UNSUPPORTED(C_SetPIN, hSession, CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pOldPin,
            CK_ULONG ulOldLen, CK_UTF8CHAR_PTR pNewPin, CK_ULONG ulNewLen)
UNSUPPORTED(C_GetOperationState, hSession, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pOperationState,
            CK_ULONG_PTR pulOperationStateLen)
UNSUPPORTED(C_SetOperationState, hSession, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pOperationState,
            CK_ULONG ulOperationStateLen, CK_OBJECT_HANDLE hEncryptionKey,
            CK_OBJECT_HANDLE hAuthenticationKey)
UNSUPPORTED(C_CopyObject, hSession, CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
            CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phNewObject)
UNSUPPORTED(C_SetAttributeValue, hSession, CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
            CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
UNSUPPORTED(C_DigestInit, hSession, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism)
UNSUPPORTED(C_Digest, hSession, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
            CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen)
UNSUPPORTED(C_DigestUpdate, hSession, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart,
            CK_ULONG ulPartLen)
UNSUPPORTED(C_DigestKey, hSession, CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hKey)
UNSUPPORTED(C_DigestFinal, hSession, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pDigest,
            CK_ULONG_PTR pulDigestLen)
UNSUPPORTED(C_SignInit, hSession, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
            CK_OBJECT_HANDLE hKey)
UNSUPPORTED(C_Sign, hSession, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
            CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
UNSUPPORTED(C_SignUpdate, hSession, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart,
            CK_ULONG ulPartLen)
UNSUPPORTED(C_SignFinal, hSession, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature,
            CK_ULONG_PTR pulSignatureLen)
UNSUPPORTED(C_SignRecoverInit, hSession, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
            CK_OBJECT_HANDLE hKey)
UNSUPPORTED(C_SignRecover, hSession, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData,
            CK_ULONG ulDataLen, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
UNSUPPORTED(C_VerifyInit, hSession, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
            CK_OBJECT_HANDLE hKey)
UNSUPPORTED(C_Verify, hSession, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
            CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen)
UNSUPPORTED(C_VerifyUpdate, hSession, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart,
            CK_ULONG ulPartLen)
UNSUPPORTED(C_VerifyFinal, hSession, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature,
            CK_ULONG ulSignatureLen)
UNSUPPORTED(C_VerifyRecoverInit, hSession, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
            CK_OBJECT_HANDLE hKey)
UNSUPPORTED(C_VerifyRecover, hSession, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature,
            CK_ULONG ulSignatureLen, CK_BYTE_PTR pData, CK_ULONG_PTR pulDataLen)
UNSUPPORTED(C_DigestEncryptUpdate, hSession, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart,
            CK_ULONG ulPartLen, CK_BYTE_PTR pEncryptedPart, CK_ULONG_PTR pulEncryptedPartLen)
UNSUPPORTED(C_DecryptDigestUpdate, hSession, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart,
            CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen)
UNSUPPORTED(C_SignEncryptUpdate, hSession, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart,
            CK_ULONG ulPartLen, CK_BYTE_PTR pEncryptedPart, CK_ULONG_PTR pulEncryptedPartLen)
UNSUPPORTED(C_DecryptVerifyUpdate, hSession, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart,
            CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen)
UNSUPPORTED(C_GenerateKeyPair, hSession, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
            CK_ATTRIBUTE_PTR pPublicKeyTemplate, CK_ULONG ulPublicKeyAttributeCount,
            CK_ATTRIBUTE_PTR pPrivateKeyTemplate, CK_ULONG ulPrivateKeyAttributeCount,
            CK_OBJECT_HANDLE_PTR phPublicKey, CK_OBJECT_HANDLE_PTR phPrivateKey)
UNSUPPORTED(C_WrapKey, hSession, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
            CK_OBJECT_HANDLE hWrappingKey, CK_OBJECT_HANDLE hKey, CK_BYTE_PTR pWrappedKey,
            CK_ULONG_PTR pulWrappedKeyLen)
UNSUPPORTED(C_UnwrapKey, hSession, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
            CK_OBJECT_HANDLE hUnwrappingKey, CK_BYTE_PTR pWrappedKey, CK_ULONG ulWrappedKeyLen,
            CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulAttributeCount, CK_OBJECT_HANDLE_PTR phKey)
UNSUPPORTED(C_DeriveKey, hSession, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
            CK_OBJECT_HANDLE hBaseKey, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulAttributeCount,
            CK_OBJECT_HANDLE_PTR phKey)
NOT_PARALLEL(C_GetFunctionStatus, hSession, CK_SESSION_HANDLE hSession)
NOT_PARALLEL(C_CancelFunction, hSession, CK_SESSION_HANDLE hSession)
UNSUPPORTED(C_WaitForSlotEvent, 0, CK_FLAGS flags, CK_SLOT_ID_PTR pSlot, CK_VOID_PTR pReserved)

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
