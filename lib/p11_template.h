/*
 * Template policy of the PKCS #11 module (the manual's "Attributes" tables)
 * and the conversion of accepted templates into WSOP request structs.
 * Pure functions: no I/O, no locks, no logging; they only read the
 * caller's template (caller-controlled memory, so every length is checked
 * before a byte is read) and never keep a pointer into it.
 *
 * What each operation accepts (types outside every table below are
 * CKR_ATTRIBUTE_TYPE_INVALID):
 *
 *   every template   CKA_TOKEN, CKA_PRIVATE (required, must be CK_TRUE);
 *                    CKA_DERIVE, CKA_EXTRACTABLE, CKA_COPYABLE, CKA_TRUSTED,
 *                    CKA_UNWRAP, CKA_WRAP, CKA_WRAP_WITH_TRUSTED (optional,
 *                    must be CK_FALSE); CKA_ALWAYS_SENSITIVE,
 *                    CKA_NEVER_EXTRACTABLE, CKA_LOCAL, CKA_SENSITIVE
 *                    (optional, must be CK_TRUE).
 *   C_CreateObject, CKO_DATA         CKA_CLASS (required); CKA_LABEL,
 *                    CKA_APPLICATION, CKA_OBJECT_ID, CKA_VALUE (optional).
 *   C_CreateObject, CKO_CERTIFICATE  CKA_CLASS, CKA_CERTIFICATE_TYPE
 *                    (CKC_X_509), CKA_VALUE, CKA_SUBJECT (required);
 *                    CKA_ISSUER, CKA_SERIAL_NUMBER, CKA_START_DATE,
 *                    CKA_END_DATE, CKA_ID, CKA_LABEL (optional).
 *   C_GenerateKey, CKM_AES_KEY_GEN   CKA_VALUE_LEN (16, 24 or 32),
 *                    CKA_LABEL, CKA_ENCRYPT, CKA_DECRYPT (required);
 *                    CKA_CLASS (CKO_SECRET_KEY), CKA_KEY_TYPE (CKK_AES),
 *                    CKA_ID (optional); CKA_SIGN, CKA_VERIFY (optional,
 *                    must be CK_FALSE).
 *
 * Value shapes: CK_BBOOL is exactly 1 byte holding CK_FALSE or CK_TRUE;
 * CK_ULONG exactly sizeof(CK_ULONG); byte strings up to the limits of
 * ipc/wsop_names.h (label and application also valid UTF-8 without NUL);
 * a CK_DATE is empty or 8 ASCII digits naming a real date; pValue NULL
 * with ulValueLen > 0 is never a value. Each shape fault is
 * CKR_ATTRIBUTE_VALUE_INVALID.
 *
 * Decisions (PKCS #11 v2.40, 4.1.1 and 5.x):
 *  - CKO_SECRET_KEY, CKO_PUBLIC_KEY, CKO_PRIVATE_KEY (and every class but
 *    CKO_DATA and CKO_CERTIFICATE) in C_CreateObject:
 *    CKR_ATTRIBUTE_VALUE_INVALID. The class value is the single attribute
 *    at fault: this token makes keys only with C_GenerateKey, so no key
 *    class is a valid CKA_CLASS for C_CreateObject; one rule for every
 *    refused class.
 *  - CKA_CERTIFICATE_TYPE other than CKC_X_509: CKR_ATTRIBUTE_VALUE_INVALID
 *    (v2.40 has no CKR_CERTIFICATE_TYPE_INVALID; that code is v3.0).
 *  - C_GenerateKey: CKA_CLASS and CKA_KEY_TYPE may be absent (v2.40: the
 *    mechanism contributes them); when given they must be CKO_SECRET_KEY
 *    and CKK_AES, else CKR_TEMPLATE_INCONSISTENT (the template contradicts
 *    the mechanism). CKA_VALUE_LEN, CKA_LABEL, CKA_ENCRYPT and CKA_DECRYPT
 *    are required as the manual's table says; CKA_ENCRYPT/CKA_DECRYPT may
 *    be CK_FALSE (the manual says "should", and the server allows it).
 *  - An attribute this module supports for another class or operation
 *    (CKA_APPLICATION in a certificate, CKA_VALUE in a key template, ...)
 *    is CKR_TEMPLATE_INCONSISTENT, as v2.40 4.1.1 says of attributes that
 *    are valid in Cryptoki but not for the object's class; an attribute in
 *    no table at all is CKR_ATTRIBUTE_TYPE_INVALID.
 *  - The same type twice: fine when the values are byte-equal, else
 *    CKR_TEMPLATE_INCONSISTENT.
 *  - An empty CKA_START_DATE / CKA_END_DATE means "no date" (v2.40 allows
 *    empty dates) and is not sent to the server.
 *
 * Check order (the first fault found wins, so the answer is stable):
 *  0. pTemplate NULL with count > 0: CKR_ARGUMENTS_BAD; for C_GenerateKey
 *     the mechanism first: NULL CKR_ARGUMENTS_BAD, not CKM_AES_KEY_GEN
 *     CKR_MECHANISM_INVALID, any parameter CKR_MECHANISM_PARAM_INVALID.
 *  1. every attribute in template order: type in no table ->
 *     CKR_ATTRIBUTE_TYPE_INVALID; bad shape -> CKR_ATTRIBUTE_VALUE_INVALID;
 *  2. duplicates with different values -> CKR_TEMPLATE_INCONSISTENT;
 *  3. the class: C_CreateObject without CKA_CLASS ->
 *     CKR_TEMPLATE_INCOMPLETE, a refused class -> CKR_ATTRIBUTE_VALUE_INVALID;
 *     C_GenerateKey class or key type against the mechanism ->
 *     CKR_TEMPLATE_INCONSISTENT;
 *  4. every attribute in template order against its class's table: not in
 *     it -> CKR_TEMPLATE_INCONSISTENT; a value the table forbids
 *     (CK_FALSE token/private, must-be-true/false lists, certificate type,
 *     CK_TRUE sign/verify) -> CKR_ATTRIBUTE_VALUE_INVALID; CKA_VALUE_LEN not
 *     16/24/32 -> CKR_KEY_SIZE_RANGE;
 *  5. a required attribute absent -> CKR_TEMPLATE_INCOMPLETE.
 */
#ifndef PKCS11WSOP_LIB_P11_TEMPLATE_H
#define PKCS11WSOP_LIB_P11_TEMPLATE_H

#include <p11-kit/pkcs11.h>

#include "ipc/wsop_json.h"

/* C_CreateObject's policy: CKR_OK or the CKR of the first fault. */
CK_RV p11_template_check_create(const CK_ATTRIBUTE *tmpl, CK_ULONG count);

/* C_GenerateKey's policy, mechanism included. */
CK_RV p11_template_check_generate(const CK_MECHANISM *mech, const CK_ATTRIBUTE *tmpl,
                                  CK_ULONG count);

/* C_FindObjectsInit's policy. Any type is allowed: a type no object has
 * simply matches nothing (v2.40 defines a match as "every attribute of the
 * template present with an equal value", and applications do search with
 * vendor types). pTemplate NULL with count > 0 is CKR_ARGUMENTS_BAD; an
 * attribute with pValue NULL and ulValueLen > 0 has no value to compare:
 * CKR_ATTRIBUTE_VALUE_INVALID. */
CK_RV p11_template_check_find(const CK_ATTRIBUTE *tmpl, CK_ULONG count);

/* Checks with p11_template_check_create, then fills *out (zeroed first;
 * the caller frees it with wsop_object_create_req_free after CKR_OK; after
 * any other result there is nothing to free). CKR_HOST_MEMORY when a copy
 * fails. */
CK_RV p11_template_create_request(const CK_ATTRIBUTE *tmpl, CK_ULONG count,
                                  struct wsop_object_create_req *out);

/* Checks with p11_template_check_generate, then fills *out (size in bits;
 * sign..derive false; freed with wsop_key_generate_req_free after CKR_OK). */
CK_RV p11_template_generate_request(const CK_MECHANISM *mech, const CK_ATTRIBUTE *tmpl,
                                    CK_ULONG count, struct wsop_key_generate_req *out);

#endif
