/* C_GetMechanismList and C_GetMechanismInfo: the manual's three AES
 * mechanisms, the same on every token. */
#include <stdbool.h>
#include <stddef.h>

#include <p11-kit/pkcs11.h>

#include "lib/p11_core.h"
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

CK_RV C_GetMechanismList(CK_SLOT_ID slotID, CK_MECHANISM_TYPE_PTR pMechanismList,
                         CK_ULONG_PTR pulCount)
{
	CK_RV rv = P11_BEGIN(0, "(slot=%lu)", (unsigned long)slotID);
	if (rv != CKR_OK)
		return rv;
	struct p11_slot *slot;
	rv = pulCount == NULL ? CKR_ARGUMENTS_BAD : p11_slot_lookup(slotID, &slot);
	if (rv == CKR_OK && pMechanismList != NULL && *pulCount < MECHANISM_COUNT)
		rv = CKR_BUFFER_TOO_SMALL;
	else if (rv == CKR_OK && pMechanismList != NULL)
		for (size_t i = 0; i < MECHANISM_COUNT; i++)
			pMechanismList[i] = mechanisms[i].type;
	if (rv == CKR_OK || rv == CKR_BUFFER_TOO_SMALL)
		*pulCount = MECHANISM_COUNT;
	return p11_return(__func__, 0, rv);
}

CK_RV C_GetMechanismInfo(CK_SLOT_ID slotID, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR pInfo)
{
	CK_RV rv =
	    P11_BEGIN(0, "(slot=%lu, mechanism=0x%lx)", (unsigned long)slotID, (unsigned long)type);
	if (rv != CKR_OK)
		return rv;
	struct p11_slot *slot;
	rv = pInfo == NULL ? CKR_ARGUMENTS_BAD : p11_slot_lookup(slotID, &slot);
	size_t i = 0;
	while (rv == CKR_OK && i < MECHANISM_COUNT && mechanisms[i].type != type)
		i++;
	if (rv == CKR_OK && i == MECHANISM_COUNT)
		rv = CKR_MECHANISM_INVALID;
	if (rv == CKR_OK) {
		pInfo->ulMinKeySize = AES_KEY_MIN;
		pInfo->ulMaxKeySize = AES_KEY_MAX;
		pInfo->flags = mechanisms[i].flags;
	}
	return p11_return(__func__, 0, rv);
}
