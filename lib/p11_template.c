/*
 * The checks of p11_template.h in the order that header documents, over
 * the template columns of the attribute table (ipc/object_attrs.h).
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "lib/p11_template.h"

#include "ipc/object_attrs.h"
#include "ipc/wsop_names.h"

/* For each rule, the index of its first occurrence in the template. */
struct seen {
	bool present[OBJECT_ATTR_COUNT];
	CK_ULONG index[OBJECT_ATTR_COUNT];
};

/* The row of type if some template may hold it, else -1. */
static int rule_index(CK_ATTRIBUTE_TYPE type)
{
	for (size_t i = 0; i < OBJECT_ATTR_COUNT; i++) {
		const struct object_attr *r = &object_attrs[i];
		if (r->type == type &&
		    (r->tmpl[ATTR_DATA] != TMPL_NO || r->tmpl[ATTR_CERT] != TMPL_NO ||
		     r->tmpl[ATTR_KEY] != TMPL_NO))
			return (int)i;
	}
	return -1;
}

/* CK_ULONG values may sit unaligned in the caller's buffer. */
static CK_ULONG read_ulong(const CK_ATTRIBUTE *a)
{
	CK_ULONG v;
	memcpy(&v, a->pValue, sizeof(v));
	return v;
}

static bool read_bool(const CK_ATTRIBUTE *a)
{
	return *(const CK_BBOOL *)a->pValue == CK_TRUE;
}

static bool date_shape_ok(const CK_ATTRIBUTE *a)
{
	char text[WSOP_DATE_LEN + 1];

	if (a->ulValueLen == 0)
		return true;
	if (a->ulValueLen != WSOP_DATE_LEN || a->pValue == NULL)
		return false;
	memcpy(text, a->pValue, WSOP_DATE_LEN);
	text[WSOP_DATE_LEN] = '\0';
	return wsop_date_valid(text);
}

static bool shape_ok(const struct object_attr *r, const CK_ATTRIBUTE *a)
{
	switch (r->kind) {
	case ATTR_BOOL:
		if (a->pValue == NULL || a->ulValueLen != sizeof(CK_BBOOL))
			return false;
		return *(const CK_BBOOL *)a->pValue == CK_TRUE ||
		       *(const CK_BBOOL *)a->pValue == CK_FALSE;
	case ATTR_ULONG:
		return a->pValue && a->ulValueLen == sizeof(CK_ULONG);
	case ATTR_BYTES:
		return (a->pValue || a->ulValueLen == 0) && a->ulValueLen <= r->max;
	case ATTR_TEXT:
		return (a->pValue || a->ulValueLen == 0) && a->ulValueLen <= r->max &&
		       wsop_utf8_text_valid(a->pValue, a->ulValueLen);
	case ATTR_DATE:
		return date_shape_ok(a);
	default:
		return false;
	}
}

static bool same_value(const CK_ATTRIBUTE *a, const CK_ATTRIBUTE *b)
{
	if (a->ulValueLen != b->ulValueLen)
		return false;
	return a->ulValueLen == 0 || memcmp(a->pValue, b->pValue, a->ulValueLen) == 0;
}

/* Steps 1 and 2: known types, shapes, duplicates. */
static CK_RV check_shapes(const CK_ATTRIBUTE *tmpl, CK_ULONG count, struct seen *seen)
{
	memset(seen, 0, sizeof(*seen));
	for (CK_ULONG i = 0; i < count; i++) {
		int r = rule_index(tmpl[i].type);
		if (r < 0)
			return CKR_ATTRIBUTE_TYPE_INVALID;
		if (!shape_ok(&object_attrs[r], &tmpl[i]))
			return CKR_ATTRIBUTE_VALUE_INVALID;
	}
	for (CK_ULONG i = 0; i < count; i++) {
		int r = rule_index(tmpl[i].type);
		if (!seen->present[r]) {
			seen->present[r] = true;
			seen->index[r] = i;
		} else if (!same_value(&tmpl[seen->index[r]], &tmpl[i])) {
			return CKR_TEMPLATE_INCONSISTENT;
		}
	}
	return CKR_OK;
}

static const CK_ATTRIBUTE *find(const CK_ATTRIBUTE *tmpl, const struct seen *seen,
                                CK_ATTRIBUTE_TYPE type)
{
	int r = rule_index(type);
	if (r < 0 || !seen->present[r])
		return NULL;
	return &tmpl[seen->index[r]];
}

/* Step 4 for one attribute already known to be well shaped. */
static CK_RV check_value(const struct object_attr *r, const CK_ATTRIBUTE *a, enum attr_class col)
{
	if (r->tmpl[col] == TMPL_NO)
		return CKR_TEMPLATE_INCONSISTENT;
	if (r->rule == RULE_TRUE && !read_bool(a))
		return CKR_ATTRIBUTE_VALUE_INVALID;
	if (r->rule == RULE_FALSE && read_bool(a))
		return CKR_ATTRIBUTE_VALUE_INVALID;
	/* The one value the wire can carry (certificate type X.509). */
	if (r->fixed != NULL && read_ulong(a) != r->constant)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	if (r->type == CKA_VALUE_LEN) {
		CK_ULONG len = read_ulong(a);
		if (len != 16 && len != 24 && len != 32)
			return CKR_KEY_SIZE_RANGE;
	}
	return CKR_OK;
}

/* Steps 4 and 5. */
static CK_RV check_table(const CK_ATTRIBUTE *tmpl, CK_ULONG count, const struct seen *seen,
                         enum attr_class col)
{
	for (CK_ULONG i = 0; i < count; i++) {
		CK_RV rv = check_value(&object_attrs[rule_index(tmpl[i].type)], &tmpl[i], col);
		if (rv != CKR_OK)
			return rv;
	}
	for (size_t r = 0; r < OBJECT_ATTR_COUNT; r++) {
		if (object_attrs[r].tmpl[col] == TMPL_REQ && !seen->present[r])
			return CKR_TEMPLATE_INCOMPLETE;
	}
	return CKR_OK;
}

static CK_RV check_create(const CK_ATTRIBUTE *tmpl, CK_ULONG count, enum attr_class *col)
{
	struct seen seen;
	const CK_ATTRIBUTE *cls;
	CK_RV rv;

	if (tmpl == NULL && count > 0)
		return CKR_ARGUMENTS_BAD;
	rv = check_shapes(tmpl, count, &seen);
	if (rv != CKR_OK)
		return rv;
	cls = find(tmpl, &seen, CKA_CLASS);
	if (cls == NULL)
		return CKR_TEMPLATE_INCOMPLETE;
	switch (read_ulong(cls)) {
	case CKO_DATA:
		*col = ATTR_DATA;
		break;
	case CKO_CERTIFICATE:
		*col = ATTR_CERT;
		break;
	default:
		return CKR_ATTRIBUTE_VALUE_INVALID;
	}
	return check_table(tmpl, count, &seen, *col);
}

CK_RV p11_template_check_create(const CK_ATTRIBUTE *tmpl, CK_ULONG count)
{
	enum attr_class col;
	return check_create(tmpl, count, &col);
}

static CK_RV check_mechanism(const CK_MECHANISM *mech)
{
	if (mech == NULL)
		return CKR_ARGUMENTS_BAD;
	if (mech->mechanism != CKM_AES_KEY_GEN)
		return CKR_MECHANISM_INVALID;
	if (mech->pParameter || mech->ulParameterLen != 0)
		return CKR_MECHANISM_PARAM_INVALID;
	return CKR_OK;
}

CK_RV p11_template_check_generate(const CK_MECHANISM *mech, const CK_ATTRIBUTE *tmpl,
                                  CK_ULONG count)
{
	struct seen seen;
	const CK_ATTRIBUTE *a;
	CK_RV rv = check_mechanism(mech);

	if (rv != CKR_OK)
		return rv;
	if (tmpl == NULL && count > 0)
		return CKR_ARGUMENTS_BAD;
	rv = check_shapes(tmpl, count, &seen);
	if (rv != CKR_OK)
		return rv;
	a = find(tmpl, &seen, CKA_CLASS);
	if (a && read_ulong(a) != CKO_SECRET_KEY)
		return CKR_TEMPLATE_INCONSISTENT;
	a = find(tmpl, &seen, CKA_KEY_TYPE);
	if (a && read_ulong(a) != CKK_AES)
		return CKR_TEMPLATE_INCONSISTENT;
	return check_table(tmpl, count, &seen, ATTR_KEY);
}

CK_RV p11_template_check_find(const CK_ATTRIBUTE *tmpl, CK_ULONG count)
{
	if (tmpl == NULL && count > 0)
		return CKR_ARGUMENTS_BAD;
	for (CK_ULONG i = 0; i < count; i++) {
		if (!tmpl[i].pValue && tmpl[i].ulValueLen > 0)
			return CKR_ATTRIBUTE_VALUE_INVALID;
	}
	return CKR_OK;
}

/* ---- conversion ------------------------------------------------------- */

/* The first occurrence of type (duplicates are equal once checked). */
static const CK_ATTRIBUTE *first(const CK_ATTRIBUTE *tmpl, CK_ULONG count, CK_ATTRIBUTE_TYPE type)
{
	for (CK_ULONG i = 0; i < count; i++) {
		if (tmpl[i].type == type)
			return &tmpl[i];
	}
	return NULL;
}

/* Text already checked to fit (len <= cap - 1, no NUL). */
static bool copy_text(const CK_ATTRIBUTE *tmpl, CK_ULONG count, CK_ATTRIBUTE_TYPE type, char *dst,
                      size_t cap)
{
	const CK_ATTRIBUTE *a = first(tmpl, count, type);
	if (a == NULL)
		return false;
	if (a->ulValueLen >= cap)
		return false;
	if (a->ulValueLen > 0)
		memcpy(dst, a->pValue, a->ulValueLen);
	dst[a->ulValueLen] = '\0';
	return true;
}

/* Returns -ENOMEM (from wsop_bytes_copy) or 0; *present says whether the
 * attribute was in the template. */
static int copy_bytes(const CK_ATTRIBUTE *tmpl, CK_ULONG count, CK_ATTRIBUTE_TYPE type,
                      bool *present, struct wsop_bytes *dst)
{
	const CK_ATTRIBUTE *a = first(tmpl, count, type);
	*present = a != NULL;
	if (a == NULL)
		return 0;
	return wsop_bytes_copy(dst, a->pValue, a->ulValueLen);
}

/* Empty dates mean "no date" and stay absent. */
static bool copy_date(const CK_ATTRIBUTE *tmpl, CK_ULONG count, CK_ATTRIBUTE_TYPE type,
                      char dst[WSOP_DATE_LEN + 1])
{
	const CK_ATTRIBUTE *a = first(tmpl, count, type);
	if (a == NULL || a->ulValueLen != WSOP_DATE_LEN)
		return false;
	memcpy(dst, a->pValue, WSOP_DATE_LEN);
	dst[WSOP_DATE_LEN] = '\0';
	return true;
}

CK_RV p11_template_create_request(const CK_ATTRIBUTE *tmpl, CK_ULONG count,
                                  struct wsop_object_create_req *out)
{
	struct wsop_object_attributes *at;
	enum attr_class col;
	CK_RV rv;
	int err = 0;

	if (out == NULL)
		return CKR_ARGUMENTS_BAD;
	memset(out, 0, sizeof(*out));
	rv = check_create(tmpl, count, &col);
	if (rv != CKR_OK)
		return rv;
	at = &out->attributes;
	out->cls = col == ATTR_DATA ? WSOP_OBJECT_DATA : WSOP_OBJECT_CERTIFICATE;
	for (size_t i = 0; i < OBJECT_ATTR_COUNT; i++) {
		const struct object_attr *r = &object_attrs[i];
		bool *present = object_attr_obj_present(r, at);
		if (!(r->wire & ATTR_IN(col)) || r->tmpl[col] == TMPL_NO)
			continue;
		if (r->fixed != NULL)
			*present = true; /* required, so given and checked */
		else if (r->kind == ATTR_BYTES)
			err |=
			    copy_bytes(tmpl, count, r->type, present, object_attr_obj_value(r, at));
		else if (r->kind == ATTR_DATE)
			*present = copy_date(tmpl, count, r->type, object_attr_obj_value(r, at));
		else
			*present = copy_text(tmpl, count, r->type, object_attr_obj_value(r, at),
			                     r->max + 1);
	}
	if (err != 0) {
		wsop_object_create_req_free(out);
		return CKR_HOST_MEMORY;
	}
	return CKR_OK;
}

CK_RV p11_template_generate_request(const CK_MECHANISM *mech, const CK_ATTRIBUTE *tmpl,
                                    CK_ULONG count, struct wsop_key_generate_req *out)
{
	struct wsop_key_attributes *at;
	CK_RV rv;

	if (out == NULL)
		return CKR_ARGUMENTS_BAD;
	memset(out, 0, sizeof(*out));
	rv = p11_template_check_generate(mech, tmpl, count);
	if (rv != CKR_OK)
		return rv;
	at = &out->attributes;
	/* Required and checked above: 16, 24 or 32 bytes. */
	out->size = (int)read_ulong(first(tmpl, count, CKA_VALUE_LEN)) * 8;
	copy_text(tmpl, count, CKA_LABEL, at->label, sizeof(at->label));
	at->encrypt = read_bool(first(tmpl, count, CKA_ENCRYPT));
	at->decrypt = read_bool(first(tmpl, count, CKA_DECRYPT));
	if (copy_bytes(tmpl, count, CKA_ID, &at->id_present, &at->id) != 0) {
		wsop_key_generate_req_free(out);
		return CKR_HOST_MEMORY;
	}
	return CKR_OK;
}
