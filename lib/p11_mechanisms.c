/* C_GetMechanismList and C_GetMechanismInfo: the manual's three AES
 * mechanisms, the same on every token. */
#include <stdbool.h>
#include <stddef.h>

#include <p11-kit/pkcs11.h>

#include "lib/p11_module.h"
#include "lib/p11_slots.h"

/* AES key sizes are given in bytes (PKCS #11 v2.40, AES mechanisms). */
#define AES_KEY_MIN 16
#define AES_KEY_MAX 32

static const struct {
	CK_MECHANISM_TYPE type;
	CK_FLAGS flags;
} mechanisms[] = {
	{ CKM_AES_CBC, CKF_ENCRYPT | CKF_DECRYPT },
	{ CKM_AES_CBC_PAD, CKF_ENCRYPT | CKF_DECRYPT },
	{ CKM_AES_KEY_GEN, CKF_GENERATE },
};
#define MECHANISM_COUNT (sizeof(mechanisms) / sizeof(mechanisms[0]))

static CK_RV slot_check(CK_SLOT_ID id)
{
	CK_RV rv = p11_slot_learn(id);
	if (rv != CKR_OK)
		return rv;
	p11_table_lock();
	bool ok = p11_slot_find_locked(id, false) != NULL;
	p11_table_unlock();
	return ok ? CKR_OK : CKR_SLOT_ID_INVALID;
}

CK_RV C_GetMechanismList(CK_SLOT_ID slotID, CK_MECHANISM_TYPE_PTR pMechanismList,
                         CK_ULONG_PTR pulCount)
{
	CK_RV rv = p11_enter();
	if (rv != CKR_OK)
		return rv;
	P11_TRACE(0, "C_GetMechanismList(slot=%lu)", (unsigned long)slotID);
	if (pulCount == NULL)
		return p11_return(__func__, 0, CKR_ARGUMENTS_BAD);
	rv = slot_check(slotID);
	if (rv != CKR_OK)
		return p11_return(__func__, 0, rv);
	if (pMechanismList != NULL && *pulCount < MECHANISM_COUNT)
		rv = CKR_BUFFER_TOO_SMALL;
	else if (pMechanismList != NULL)
		for (size_t i = 0; i < MECHANISM_COUNT; i++)
			pMechanismList[i] = mechanisms[i].type;
	*pulCount = MECHANISM_COUNT;
	return p11_return(__func__, 0, rv);
}

CK_RV C_GetMechanismInfo(CK_SLOT_ID slotID, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR pInfo)
{
	CK_RV rv = p11_enter();
	if (rv != CKR_OK)
		return rv;
	P11_TRACE(0, "C_GetMechanismInfo(slot=%lu, mechanism=0x%lx)", (unsigned long)slotID,
	          (unsigned long)type);
	if (pInfo == NULL)
		return p11_return(__func__, 0, CKR_ARGUMENTS_BAD);
	rv = slot_check(slotID);
	if (rv != CKR_OK)
		return p11_return(__func__, 0, rv);
	for (size_t i = 0; i < MECHANISM_COUNT; i++) {
		if (mechanisms[i].type == type) {
			pInfo->ulMinKeySize = AES_KEY_MIN;
			pInfo->ulMaxKeySize = AES_KEY_MAX;
			pInfo->flags = mechanisms[i].flags;
			return CKR_OK;
		}
	}
	return p11_return(__func__, 0, CKR_MECHANISM_INVALID);
}
