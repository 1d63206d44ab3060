/*
 * Names of the PKCS #11 v2.40 constants, for the generic ck tools.
 *
 * Contract: ck_rv_name() never returns NULL: a known value gives its macro
 * name ("CKR_PIN_INCORRECT"), a value at or above CKR_VENDOR_DEFINED gives
 * "CKR_VENDOR_DEFINED" and any other value "CKR_UNKNOWN". The other lookups
 * return NULL for an unknown value so that the caller prints the number
 * instead. All strings are static.
 *
 * The flag tables end with a {0, NULL} entry and are printed by
 * ck_print_flags() (ck_common.h).
 */
#ifndef PKCS11WSOP_TOOLS_CK_NAMES_H
#define PKCS11WSOP_TOOLS_CK_NAMES_H

#include <p11-kit/pkcs11.h>

struct ck_name {
	unsigned long value;
	const char *name;
};

const char *ck_rv_name(CK_RV rv);
const char *ck_mech_name(CK_MECHANISM_TYPE mech);
const char *ck_attr_name(CK_ATTRIBUTE_TYPE type);
const char *ck_class_name(CK_OBJECT_CLASS cls);
const char *ck_key_type_name(CK_KEY_TYPE type);
const char *ck_cert_type_name(CK_CERTIFICATE_TYPE type);

extern const struct ck_name ck_slot_flags[];
extern const struct ck_name ck_token_flags[];
extern const struct ck_name ck_mech_flags[];

#endif
