/*
 * The module's local model of one token object (built from what the WSOP
 * server answered) and the attribute views of it that C_GetAttributeValue
 * and C_FindObjects need. Pure functions: no I/O, no locks, no logging.
 *
 * Attributes each class reports (every other type is
 * CKR_ATTRIBUTE_TYPE_INVALID):
 *  - every object: CKA_CLASS, CKA_TOKEN (CK_TRUE), CKA_PRIVATE (CK_TRUE: the
 *    policy admits nothing else), CKA_MODIFIABLE (CK_FALSE: there is no
 *    C_SetAttributeValue), CKA_COPYABLE (CK_FALSE), CKA_DESTROYABLE
 *    (CK_TRUE), CKA_LABEL (empty when the server has none).
 *  - CKO_DATA: CKA_APPLICATION, CKA_OBJECT_ID, CKA_VALUE (empty when
 *    absent, the v2.40 defaults).
 *  - CKO_CERTIFICATE: CKA_CERTIFICATE_TYPE (CKC_X_509), CKA_TRUSTED
 *    (CK_FALSE), CKA_CERTIFICATE_CATEGORY (0, unspecified), CKA_ID,
 *    CKA_SUBJECT, CKA_ISSUER, CKA_SERIAL_NUMBER, CKA_VALUE, CKA_START_DATE,
 *    CKA_END_DATE (empty when absent).
 *  - CKO_SECRET_KEY: CKA_KEY_TYPE (CKK_AES), CKA_ID (empty when absent),
 *    CKA_START_DATE / CKA_END_DATE (empty), CKA_DERIVE, CKA_LOCAL,
 *    CKA_KEY_GEN_MECHANISM (CKM_AES_KEY_GEN), CKA_ALLOWED_MECHANISMS
 *    (CKM_AES_CBC, CKM_AES_CBC_PAD), CKA_ENCRYPT, CKA_DECRYPT, CKA_SIGN,
 *    CKA_VERIFY, CKA_WRAP, CKA_UNWRAP, CKA_SENSITIVE, CKA_EXTRACTABLE,
 *    CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE (as the server says),
 *    CKA_TRUSTED, CKA_WRAP_WITH_TRUSTED (CK_FALSE), CKA_VALUE_LEN (bytes);
 *    CKA_VALUE is never available (CKR_ATTRIBUTE_SENSITIVE): the key never
 *    leaves the server. CKA_CHECK_VALUE is not offered (it would need the
 *    key).
 *
 * Values not fetched: an object built from a listing page has no CKA_VALUE
 * bytes (object.value_omitted), only their length. Its length is answered
 * as usual; copying it needs the value, so the caller fetches the object
 * first when p11_object_value_needed() says so (else the copy answers
 * CKR_GENERAL_ERROR). A search compares lengths and, when a CKA_VALUE of
 * the same length is asked for, answers P11_MATCH_NEEDS_VALUE.
 */
#ifndef PKCS11WSOP_LIB_P11_ATTRS_H
#define PKCS11WSOP_LIB_P11_ATTRS_H

#include <stdbool.h>

#include <p11-kit/pkcs11.h>

#include "ipc/wsop_json.h"

/* One token object. cls says which of key / object is in use; the other
 * is zeroed. The server ids are read from them directly: key.path (and
 * key.group, key.id) for a secret key, object.protectiondomain and
 * object.id for data and certificates. Owns heap memory: free with
 * p11_object_free. */
struct p11_object {
	CK_OBJECT_CLASS cls; /* CKO_DATA, CKO_CERTIFICATE or CKO_SECRET_KEY */
	struct wsop_key key;
	struct wsop_object object;
};

/* Deep copies of a server answer into *out (zeroed first). CKR_OK;
 * CKR_ARGUMENTS_BAD for NULL; CKR_DEVICE_ERROR when the answer cannot be a
 * token object (key size not 128/192/256, class not data/certificate);
 * CKR_HOST_MEMORY. After an error there is nothing to free. */
CK_RV p11_object_from_key(struct p11_object *out, const struct wsop_key *key);
CK_RV p11_object_from_wsop_object(struct p11_object *out, const struct wsop_object *obj);
/* A deep copy of another p11_object (same results). */
CK_RV p11_object_copy(struct p11_object *out, const struct p11_object *src);
/* Frees what o owns and zeroes it; NULL is fine. */
void p11_object_free(struct p11_object *o);

/* C_GetAttributeValue (v2.40 5.7) for every attribute of tmpl, each
 * independently:
 *  - CKA_VALUE of a secret key: ulValueLen = CK_UNAVAILABLE_INFORMATION;
 *  - a type the object does not have: ulValueLen = CK_UNAVAILABLE_INFORMATION;
 *  - pValue NULL: ulValueLen = the exact length;
 *  - ulValueLen >= length: the value is copied, ulValueLen = length;
 *  - else ulValueLen = CK_UNAVAILABLE_INFORMATION.
 * Every attribute is processed whatever happened to the others. The result
 * when several apply is fixed, in the order the standard lists them:
 * CKR_ATTRIBUTE_SENSITIVE before CKR_ATTRIBUTE_TYPE_INVALID before
 * CKR_BUFFER_TOO_SMALL; CKR_OK when none. CKR_ARGUMENTS_BAD (nothing
 * touched) when o is NULL or tmpl is NULL with count > 0. */
CK_RV p11_object_get_attributes(const struct p11_object *o, CK_ATTRIBUTE *tmpl, CK_ULONG count);

/* True when C_GetAttributeValue of tmpl must copy a value that o lacks
 * (a CKA_VALUE with a buffer large enough for it). */
bool p11_object_value_needed(const struct p11_object *o, const CK_ATTRIBUTE *tmpl, CK_ULONG count);

enum p11_match {
	P11_MATCH_NO,
	P11_MATCH_YES,
	P11_MATCH_NEEDS_VALUE, /* all else matches; fetch the value and ask again */
};

/* p11_object_matches with the third answer for a value not fetched. */
enum p11_match p11_object_match(const struct p11_object *o, const CK_ATTRIBUTE *tmpl,
                                CK_ULONG count);

/* C_FindObjects' test: true when every attribute of tmpl is one the object
 * reports (as above) with a byte-equal value; an empty template matches
 * everything. CKA_VALUE of a secret key never matches (comparing it would
 * be an oracle for the key). Attributes with pValue NULL and ulValueLen > 0
 * match nothing (p11_template_check_find refuses them beforehand). */
bool p11_object_matches(const struct p11_object *o, const CK_ATTRIBUTE *tmpl, CK_ULONG count);

/* A private copy of a search template, so that C_FindObjects does not
 * depend on the caller's memory after C_FindObjectsInit. */
struct p11_find_template {
	CK_ATTRIBUTE *attrs;
	CK_ULONG count;
};

/* At most this many attributes in a search template: bounds the copy. */
#define P11_FIND_TEMPLATE_MAX 256

/* Copies tmpl into *out (zeroed first) after p11_template_check_find.
 * Values longer than any object's attribute (WSOP_OBJECT_VALUE_MAX) are
 * kept as a zero-length copy whose ulValueLen still says their size, so
 * they match nothing without being copied. CKR_OK, the result of
 * p11_template_check_find, CKR_ARGUMENTS_BAD for count over
 * P11_FIND_TEMPLATE_MAX, or CKR_HOST_MEMORY. */
CK_RV p11_find_template_init(struct p11_find_template *out, const CK_ATTRIBUTE *tmpl,
                             CK_ULONG count);
bool p11_find_template_matches(const struct p11_find_template *f, const struct p11_object *o);
enum p11_match p11_find_template_match(const struct p11_find_template *f,
                                       const struct p11_object *o);
void p11_find_template_free(struct p11_find_template *f);

#endif
