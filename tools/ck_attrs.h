/*
 * Printing one PKCS #11 object's attributes for cklist.
 *
 * Contract: ck_print_object() asks for each attribute it knows, one
 * C_GetAttributeValue call for the length and one for the value, and
 * prints those the object has: "  CKA_NAME: value". An attribute the object
 * lacks (CKR_ATTRIBUTE_TYPE_INVALID) is left out; a secret one
 * (CKR_ATTRIBUTE_SENSITIVE) prints "sensitive". Any other error is printed
 * as "<prog>: C_GetAttributeValue(CKA_NAME): CKR_..." and makes the
 * function return -1 after printing the rest; 0 otherwise. Value buffers
 * are wiped before they are freed.
 */
#ifndef PKCS11WSOP_TOOLS_CK_ATTRS_H
#define PKCS11WSOP_TOOLS_CK_ATTRS_H

#include "ck_common.h"

/* Largest attribute value read, checked before allocating. */
#define CK_MAX_ATTR_LEN (1024UL * 1024UL)

int ck_print_object(struct ck_module *mod, CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object);

#endif
