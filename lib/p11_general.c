/*
 * C_Initialize, C_Finalize, C_GetInfo.
 *
 * C_Initialize answers CKR_GENERAL_ERROR when the configuration file is
 * missing or wrong (it is not a device fault, and C_Initialize may not
 * answer CKR_DEVICE_ERROR), and CKR_FUNCTION_FAILED when the helper cannot
 * be started. It does not wait for the helper's READY (lib/backend.h): a
 * helper that refuses its credentials fails the first call that needs the
 * server. The cause goes to the log (the default log file when the
 * configuration could not be read), never to the application's stdout or
 * stderr.
 */
#include <string.h>

#include <p11-kit/pkcs11.h>

#include "build_config.h"
#include "lib/p11_core.h"
#include "lib/p11_lock.h"
#include "lib/p11_module.h"

CK_RV C_Initialize(CK_VOID_PTR pInitArgs)
{
	const CK_C_INITIALIZE_ARGS *args = pInitArgs;
	CK_RV rv = p11_lock_check_args(args);
	if (rv != CKR_OK)
		return rv;
	return p11_module_start(args);
}

CK_RV C_Finalize(CK_VOID_PTR pReserved)
{
	CK_RV rv = p11_enter();
	if (rv != CKR_OK)
		return rv;
	if (pReserved != NULL)
		return p11_return(__func__, 0, CKR_ARGUMENTS_BAD);
	return p11_module_stop();
}

CK_RV C_GetInfo(CK_INFO_PTR pInfo)
{
	CK_RV rv = P11_BEGIN(0, "()");
	if (rv != CKR_OK)
		return rv;
	if (pInfo == NULL)
		return p11_return(__func__, 0, CKR_ARGUMENTS_BAD);
	memset(pInfo, 0, sizeof(*pInfo));
	pInfo->cryptokiVersion.major = CRYPTOKI_VERSION_MAJOR;
	pInfo->cryptokiVersion.minor = CRYPTOKI_VERSION_MINOR;
	p11_pad(pInfo->manufacturerID, sizeof(pInfo->manufacturerID), P11_MANUFACTURER);
	pInfo->flags = 0;
	p11_pad(pInfo->libraryDescription, sizeof(pInfo->libraryDescription), "pkcs11wsop");
	pInfo->libraryVersion.major = PKCS11WSOP_VERSION_MAJOR;
	pInfo->libraryVersion.minor = PKCS11WSOP_VERSION_MINOR;
	return CKR_OK;
}
