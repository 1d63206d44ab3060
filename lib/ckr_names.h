/*
 * Names of the CK_RV values of PKCS #11 v2.40, for the module's log lines
 * and for the ck tools (tools/ck_names.h), which link it as ckr_names_lib.
 *
 * Contract: ckr_name() never returns NULL. A known value gives its macro
 * name ("CKR_PIN_INCORRECT"); values at or above CKR_VENDOR_DEFINED give
 * "CKR_VENDOR_DEFINED"; any other value gives "CKR_UNKNOWN". The strings
 * are static.
 */
#ifndef PKCS11WSOP_LIB_CKR_NAMES_H
#define PKCS11WSOP_LIB_CKR_NAMES_H

#include <p11-kit/pkcs11.h>

const char *ckr_name(CK_RV rv);

#endif
