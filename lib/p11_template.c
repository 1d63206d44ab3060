/*
 * The manual's template tables as data, and the checks of p11_template.h
 * in the order that header documents.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "lib/p11_template.h"

#include "ipc/wsop_names.h"

enum value_kind {
	KIND_BOOL,
	KIND_ULONG,
	KIND_BYTES,
	KIND_TEXT, /* UTF-8 without NUL */
	KIND_DATE, /* empty or YYYYMMDD */
};

/* Where an attribute may appear: absent from the table, optional or
 * required. */
enum presence { NO = 0, OPT, REQ };

/* A fixed value the table demands when the attribute is given. */
enum rule { ANY = 0, MUST_TRUE, MUST_FALSE };

/* Operation and class columns of the table. */
enum column { COL_DATA, COL_CERT, COL_KEY, COL_COUNT };

struct attr_rule {
	CK_ATTRIBUTE_TYPE type;
	enum value_kind kind;
	size_t max; /* KIND_BYTES / KIND_TEXT */
	enum rule rule;
	enum presence in[COL_COUNT];
};

/* The order of REQ rows is the order in which missing attributes are
 * reported. */
static const struct attr_rule rules[] = {
	{ CKA_CLASS, KIND_ULONG, 0, ANY, { REQ, REQ, OPT } },
	{ CKA_TOKEN, KIND_BOOL, 0, MUST_TRUE, { REQ, REQ, REQ } },
	{ CKA_PRIVATE, KIND_BOOL, 0, MUST_TRUE, { REQ, REQ, REQ } },
	{ CKA_CERTIFICATE_TYPE, KIND_ULONG, 0, ANY, { NO, REQ, NO } },
	{ CKA_KEY_TYPE, KIND_ULONG, 0, ANY, { NO, NO, OPT } },
	{ CKA_VALUE_LEN, KIND_ULONG, 0, ANY, { NO, NO, REQ } },
	{ CKA_LABEL, KIND_TEXT, WSOP_LABEL_MAX, ANY, { OPT, OPT, REQ } },
	{ CKA_ENCRYPT, KIND_BOOL, 0, ANY, { NO, NO, REQ } },
	{ CKA_DECRYPT, KIND_BOOL, 0, ANY, { NO, NO, REQ } },
	{ CKA_VALUE, KIND_BYTES, WSOP_OBJECT_VALUE_MAX, ANY, { OPT, REQ, NO } },
	{ CKA_SUBJECT, KIND_BYTES, WSOP_DN_MAX, ANY, { NO, REQ, NO } },
	{ CKA_APPLICATION, KIND_TEXT, WSOP_APPLICATION_MAX, ANY, { OPT, NO, NO } },
	{ CKA_OBJECT_ID, KIND_BYTES, WSOP_OBJECT_ID_MAX, ANY, { OPT, NO, NO } },
	{ CKA_ISSUER, KIND_BYTES, WSOP_DN_MAX, ANY, { NO, OPT, NO } },
	{ CKA_SERIAL_NUMBER, KIND_BYTES, WSOP_SERIAL_MAX, ANY, { NO, OPT, NO } },
	{ CKA_START_DATE, KIND_DATE, 0, ANY, { NO, OPT, NO } },
	{ CKA_END_DATE, KIND_DATE, 0, ANY, { NO, OPT, NO } },
	{ CKA_ID, KIND_BYTES, WSOP_CKA_ID_MAX, ANY, { NO, OPT, OPT } },
	{ CKA_SIGN, KIND_BOOL, 0, MUST_FALSE, { NO, NO, OPT } },
	{ CKA_VERIFY, KIND_BOOL, 0, MUST_FALSE, { NO, NO, OPT } },
	/* The manual's must-be-false and must-be-true lists: every template. */
	{ CKA_DERIVE, KIND_BOOL, 0, MUST_FALSE, { OPT, OPT, OPT } },
	{ CKA_EXTRACTABLE, KIND_BOOL, 0, MUST_FALSE, { OPT, OPT, OPT } },
	{ CKA_COPYABLE, KIND_BOOL, 0, MUST_FALSE, { OPT, OPT, OPT } },
	{ CKA_TRUSTED, KIND_BOOL, 0, MUST_FALSE, { OPT, OPT, OPT } },
	{ CKA_UNWRAP, KIND_BOOL, 0, MUST_FALSE, { OPT, OPT, OPT } },
	{ CKA_WRAP, KIND_BOOL, 0, MUST_FALSE, { OPT, OPT, OPT } },
	{ CKA_WRAP_WITH_TRUSTED, KIND_BOOL, 0, MUST_FALSE, { OPT, OPT, OPT } },
	{ CKA_ALWAYS_SENSITIVE, KIND_BOOL, 0, MUST_TRUE, { OPT, OPT, OPT } },
	{ CKA_NEVER_EXTRACTABLE, KIND_BOOL, 0, MUST_TRUE, { OPT, OPT, OPT } },
	{ CKA_LOCAL, KIND_BOOL, 0, MUST_TRUE, { OPT, OPT, OPT } },
	{ CKA_SENSITIVE, KIND_BOOL, 0, MUST_TRUE, { OPT, OPT, OPT } },
};

#define RULE_COUNT (sizeof(rules) / sizeof(rules[0]))

/* For each rule, the index of its first occurrence in the template. */
struct seen {
	bool present[RULE_COUNT];
	CK_ULONG index[RULE_COUNT];
};

static int rule_index(CK_ATTRIBUTE_TYPE type)
{
	for (size_t i = 0; i < RULE_COUNT; i++) {
		if (rules[i].type == type)
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
	if (a->ulValueLen != WSOP_DATE_LEN || !a->pValue)
		return false;
	memcpy(text, a->pValue, WSOP_DATE_LEN);
	text[WSOP_DATE_LEN] = '\0';
	return wsop_date_valid(text);
}

static bool shape_ok(const struct attr_rule *r, const CK_ATTRIBUTE *a)
{
	switch (r->kind) {
	case KIND_BOOL:
		if (!a->pValue || a->ulValueLen != sizeof(CK_BBOOL))
			return false;
		return *(const CK_BBOOL *)a->pValue == CK_TRUE ||
		       *(const CK_BBOOL *)a->pValue == CK_FALSE;
	case KIND_ULONG:
		return a->pValue && a->ulValueLen == sizeof(CK_ULONG);
	case KIND_BYTES:
		return (a->pValue || a->ulValueLen == 0) && a->ulValueLen <= r->max;
	case KIND_TEXT:
		return (a->pValue || a->ulValueLen == 0) && a->ulValueLen <= r->max &&
		       wsop_utf8_text_valid(a->pValue, a->ulValueLen);
	case KIND_DATE:
		return date_shape_ok(a);
	}
	return false;
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
		if (!shape_ok(&rules[r], &tmpl[i]))
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
static CK_RV check_value(const struct attr_rule *r, const CK_ATTRIBUTE *a, enum column col)
{
	if (r->in[col] == NO)
		return CKR_TEMPLATE_INCONSISTENT;
	if (r->rule == MUST_TRUE && !read_bool(a))
		return CKR_ATTRIBUTE_VALUE_INVALID;
	if (r->rule == MUST_FALSE && read_bool(a))
		return CKR_ATTRIBUTE_VALUE_INVALID;
	if (r->type == CKA_CERTIFICATE_TYPE && read_ulong(a) != CKC_X_509)
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
                         enum column col)
{
	for (CK_ULONG i = 0; i < count; i++) {
		CK_RV rv = check_value(&rules[rule_index(tmpl[i].type)], &tmpl[i], col);
		if (rv != CKR_OK)
			return rv;
	}
	for (size_t r = 0; r < RULE_COUNT; r++) {
		if (rules[r].in[col] == REQ && !seen->present[r])
			return CKR_TEMPLATE_INCOMPLETE;
	}
	return CKR_OK;
}

static CK_RV check_create(const CK_ATTRIBUTE *tmpl, CK_ULONG count, enum column *col)
{
	struct seen seen;
	const CK_ATTRIBUTE *cls;
	CK_RV rv;

	if (!tmpl && count > 0)
		return CKR_ARGUMENTS_BAD;
	rv = check_shapes(tmpl, count, &seen);
	if (rv != CKR_OK)
		return rv;
	cls = find(tmpl, &seen, CKA_CLASS);
	if (!cls)
		return CKR_TEMPLATE_INCOMPLETE;
	switch (read_ulong(cls)) {
	case CKO_DATA:
		*col = COL_DATA;
		break;
	case CKO_CERTIFICATE:
		*col = COL_CERT;
		break;
	default:
		return CKR_ATTRIBUTE_VALUE_INVALID;
	}
	return check_table(tmpl, count, &seen, *col);
}

CK_RV p11_template_check_create(const CK_ATTRIBUTE *tmpl, CK_ULONG count)
{
	enum column col;
	return check_create(tmpl, count, &col);
}

static CK_RV check_mechanism(const CK_MECHANISM *mech)
{
	if (!mech)
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
	if (!tmpl && count > 0)
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
	return check_table(tmpl, count, &seen, COL_KEY);
}

CK_RV p11_template_check_find(const CK_ATTRIBUTE *tmpl, CK_ULONG count)
{
	if (!tmpl && count > 0)
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
	if (!a)
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
	if (!a)
		return 0;
	return wsop_bytes_copy(dst, a->pValue, a->ulValueLen);
}

/* Empty dates mean "no date" and stay absent. */
static bool copy_date(const CK_ATTRIBUTE *tmpl, CK_ULONG count, CK_ATTRIBUTE_TYPE type,
                      char dst[WSOP_DATE_LEN + 1])
{
	const CK_ATTRIBUTE *a = first(tmpl, count, type);
	if (!a || a->ulValueLen != WSOP_DATE_LEN)
		return false;
	memcpy(dst, a->pValue, WSOP_DATE_LEN);
	dst[WSOP_DATE_LEN] = '\0';
	return true;
}

CK_RV p11_template_create_request(const CK_ATTRIBUTE *tmpl, CK_ULONG count,
                                  struct wsop_object_create_req *out)
{
	struct wsop_object_attributes *at;
	enum column col;
	CK_RV rv;
	int err = 0;

	if (!out)
		return CKR_ARGUMENTS_BAD;
	memset(out, 0, sizeof(*out));
	rv = check_create(tmpl, count, &col);
	if (rv != CKR_OK)
		return rv;
	at = &out->attributes;
	out->cls = col == COL_DATA ? WSOP_OBJECT_DATA : WSOP_OBJECT_CERTIFICATE;
	at->label_present = copy_text(tmpl, count, CKA_LABEL, at->label, sizeof(at->label));
	err |= copy_bytes(tmpl, count, CKA_VALUE, &at->value_present, &at->value);
	if (col == COL_DATA) {
		at->application_present = copy_text(tmpl, count, CKA_APPLICATION, at->application,
		                                    sizeof(at->application));
		err |=
		    copy_bytes(tmpl, count, CKA_OBJECT_ID, &at->object_id_present, &at->object_id);
	} else {
		at->certificate_type_present = true;
		err |= copy_bytes(tmpl, count, CKA_ID, &at->id_present, &at->id);
		err |= copy_bytes(tmpl, count, CKA_SUBJECT, &at->subject_present, &at->subject);
		err |= copy_bytes(tmpl, count, CKA_ISSUER, &at->issuer_present, &at->issuer);
		err |= copy_bytes(tmpl, count, CKA_SERIAL_NUMBER, &at->serial_number_present,
		                  &at->serial_number);
		at->start_date_present = copy_date(tmpl, count, CKA_START_DATE, at->start_date);
		at->end_date_present = copy_date(tmpl, count, CKA_END_DATE, at->end_date);
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

	if (!out)
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
