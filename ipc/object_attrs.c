/*
 * The attribute table of object_attrs.h and the loops over an object's
 * byte fields that every owner of a struct wsop_object_attributes needs.
 */
#include "ipc/object_attrs.h"

#include <errno.h>
#include <string.h>

#define D ATTR_IN(ATTR_DATA)
#define C ATTR_IN(ATTR_CERT)
#define K ATTR_IN(ATTR_KEY)

/* The struct fields of a member: an object's optional value with its
 * present flag, a flag alone, a key's value (always present) or optional
 * value. */
#define OBJ(f)                                                                                     \
	.obj_present = offsetof(struct wsop_object_attributes, f##_present),                       \
	.obj_value = offsetof(struct wsop_object_attributes, f)
#define OBJ_FLAG(f)                                                                                \
	.obj_present = offsetof(struct wsop_object_attributes, f##_present),                       \
	.obj_value = ATTR_NO_FIELD
#define KEY(f) .key_present = ATTR_NO_FIELD, .key_value = offsetof(struct wsop_key_attributes, f)
#define KEY_OPT(f)                                                                                 \
	.key_present = offsetof(struct wsop_key_attributes, f##_present),                          \
	.key_value = offsetof(struct wsop_key_attributes, f)

/* One row: type, kind, bound, what each class shows (data, certificate,
 * key: S), where each template has it (T), then the other fields. */
#define ROW(t, k, mx, show_, tmpl_, ...)                                                           \
	{                                                                                          \
		.type = (t), .kind = (k), .max = (mx), .show = show_, .tmpl = tmpl_, __VA_ARGS__   \
	}
#define S(d, c, k)                                                                                 \
	{                                                                                          \
		SHOW_##d, SHOW_##c, SHOW_##k                                                       \
	}
#define T(d, c, k)                                                                                 \
	{                                                                                          \
		TMPL_##d, TMPL_##c, TMPL_##k                                                       \
	}
/* The JSON member f, the classes whose JSON has it and must have it. */
#define WIRE(f, w, req) .json = #f, .wire = (w), .required = (req)
/* A key flag: on the wire of keys, shown as the key says. */
#define KEY_FLAG(t, f, tmpl_, r, answer)                                                           \
	ROW(t, ATTR_BOOL, 0, S(NONE, NONE, FIELD), tmpl_, WIRE(f, K, (answer) ? K : 0), KEY(f),    \
	    .rule = (r), .answer_only = (answer))
/* A flag every class shows as a constant. */
#define CONST_FLAG(t, value, tmpl_, r)                                                             \
	ROW(t, ATTR_BOOL, 0, S(CONST, CONST, CONST), tmpl_, .constant = (value), .rule = (r))

const struct object_attr object_attrs[] = {
	/* Members of an object's "attributes", in wire order. */
	ROW(CKA_CERTIFICATE_TYPE, ATTR_ULONG, 0, S(NONE, CONST, NONE), T(NO, REQ, NO),
	    WIRE(certificate_type, C, C), .fixed = "x509", OBJ_FLAG(certificate_type),
	    .constant = CKC_X_509),
	ROW(CKA_LABEL, ATTR_TEXT, WSOP_LABEL_MAX, S(FIELD, FIELD, FIELD), T(OPT, OPT, REQ),
	    WIRE(label, D | C | K, K), OBJ(label), KEY(label)),
	ROW(CKA_ID, ATTR_BYTES, WSOP_CKA_ID_MAX, S(NONE, FIELD, FIELD), T(NO, OPT, OPT),
	    WIRE(id, D | C | K, 0), OBJ(id), KEY_OPT(id)),
	ROW(CKA_APPLICATION, ATTR_TEXT, WSOP_APPLICATION_MAX, S(FIELD, NONE, NONE), T(OPT, NO, NO),
	    WIRE(application, D, 0), OBJ(application)),
	ROW(CKA_OBJECT_ID, ATTR_BYTES, WSOP_OBJECT_ID_MAX, S(FIELD, NONE, NONE), T(OPT, NO, NO),
	    WIRE(object_id, D, 0), OBJ(object_id)),
	/* Required of a certificate unless a listing left it out. */
	ROW(CKA_VALUE, ATTR_BYTES, WSOP_OBJECT_VALUE_MAX, S(VALUE, VALUE, SENSITIVE),
	    T(OPT, REQ, NO), WIRE(value, D | C, C), OBJ(value)),
	ROW(CKA_SUBJECT, ATTR_BYTES, WSOP_DN_MAX, S(NONE, FIELD, NONE), T(NO, REQ, NO),
	    WIRE(subject, C, C), OBJ(subject)),
	ROW(CKA_ISSUER, ATTR_BYTES, WSOP_DN_MAX, S(NONE, FIELD, NONE), T(NO, OPT, NO),
	    WIRE(issuer, C, 0), OBJ(issuer)),
	ROW(CKA_SERIAL_NUMBER, ATTR_BYTES, WSOP_SERIAL_MAX, S(NONE, FIELD, NONE), T(NO, OPT, NO),
	    WIRE(serial_number, C, 0), OBJ(serial_number)),
	ROW(CKA_START_DATE, ATTR_DATE, WSOP_DATE_LEN, S(NONE, FIELD, EMPTY), T(NO, OPT, NO),
	    WIRE(start_date, C, 0), OBJ(start_date)),
	ROW(CKA_END_DATE, ATTR_DATE, WSOP_DATE_LEN, S(NONE, FIELD, EMPTY), T(NO, OPT, NO),
	    WIRE(end_date, C, 0), OBJ(end_date)),
	/* Flags of a key's "attributes", in wire order. A generate request
	 * takes encrypt and decrypt (true when absent) and the must-be-false
	 * ones (false when absent); the rest are answer_only. */
	KEY_FLAG(CKA_ENCRYPT, encrypt, T(NO, NO, REQ), RULE_ANY, false),
	KEY_FLAG(CKA_DECRYPT, decrypt, T(NO, NO, REQ), RULE_ANY, false),
	KEY_FLAG(CKA_SIGN, sign, T(NO, NO, OPT), RULE_FALSE, false),
	KEY_FLAG(CKA_VERIFY, verify, T(NO, NO, OPT), RULE_FALSE, false),
	KEY_FLAG(CKA_WRAP, wrap, T(OPT, OPT, OPT), RULE_FALSE, false),
	KEY_FLAG(CKA_UNWRAP, unwrap, T(OPT, OPT, OPT), RULE_FALSE, false),
	KEY_FLAG(CKA_DERIVE, derive, T(OPT, OPT, OPT), RULE_FALSE, false),
	KEY_FLAG(CKA_SENSITIVE, sensitive, T(OPT, OPT, OPT), RULE_TRUE, true),
	KEY_FLAG(CKA_ALWAYS_SENSITIVE, always_sensitive, T(OPT, OPT, OPT), RULE_TRUE, true),
	KEY_FLAG(CKA_EXTRACTABLE, extractable, T(OPT, OPT, OPT), RULE_FALSE, true),
	KEY_FLAG(CKA_NEVER_EXTRACTABLE, never_extractable, T(OPT, OPT, OPT), RULE_TRUE, true),
	KEY_FLAG(CKA_LOCAL, local, T(OPT, OPT, OPT), RULE_TRUE, true),
	/* Not on the wire: the class and what the server never varies. */
	ROW(CKA_CLASS, ATTR_ULONG, 0, S(CLASS, CLASS, CLASS), T(REQ, REQ, OPT), .rule = RULE_ANY),
	CONST_FLAG(CKA_TOKEN, CK_TRUE, T(REQ, REQ, REQ), RULE_TRUE),
	CONST_FLAG(CKA_PRIVATE, CK_TRUE, T(REQ, REQ, REQ), RULE_TRUE),
	CONST_FLAG(CKA_MODIFIABLE, CK_FALSE, T(NO, NO, NO), RULE_ANY),
	CONST_FLAG(CKA_COPYABLE, CK_FALSE, T(OPT, OPT, OPT), RULE_FALSE),
	CONST_FLAG(CKA_DESTROYABLE, CK_TRUE, T(NO, NO, NO), RULE_ANY),
	ROW(CKA_TRUSTED, ATTR_BOOL, 0, S(NONE, CONST, CONST), T(OPT, OPT, OPT),
	    .constant = CK_FALSE, .rule = RULE_FALSE),
	ROW(CKA_WRAP_WITH_TRUSTED, ATTR_BOOL, 0, S(NONE, NONE, CONST), T(OPT, OPT, OPT),
	    .constant = CK_FALSE, .rule = RULE_FALSE),
	ROW(CKA_CERTIFICATE_CATEGORY, ATTR_ULONG, 0, S(NONE, CONST, NONE), T(NO, NO, NO),
	    .constant = 0),
	ROW(CKA_KEY_TYPE, ATTR_ULONG, 0, S(NONE, NONE, CONST), T(NO, NO, OPT), .constant = CKK_AES),
	ROW(CKA_VALUE_LEN, ATTR_ULONG, 0, S(NONE, NONE, KEY_BYTES), T(NO, NO, REQ),
	    .rule = RULE_ANY),
	ROW(CKA_KEY_GEN_MECHANISM, ATTR_ULONG, 0, S(NONE, NONE, CONST), T(NO, NO, NO),
	    .constant = CKM_AES_KEY_GEN),
	ROW(CKA_ALLOWED_MECHANISMS, ATTR_MECHS, 0, S(NONE, NONE, MECHS), T(NO, NO, NO),
	    .rule = RULE_ANY),
};

#undef D
#undef C
#undef K
#undef S
#undef T

const struct object_attr *object_attr_find(CK_ATTRIBUTE_TYPE type)
{
	for (size_t i = 0; i < OBJECT_ATTR_COUNT; i++)
		if (object_attrs[i].type == type)
			return &object_attrs[i];
	return NULL;
}

bool *object_attr_obj_present(const struct object_attr *r, struct wsop_object_attributes *a)
{
	return (bool *)((unsigned char *)a + r->obj_present);
}

void *object_attr_obj_value(const struct object_attr *r, struct wsop_object_attributes *a)
{
	return (unsigned char *)a + r->obj_value;
}

static bool is_obj_bytes(const struct object_attr *r)
{
	return (r->wire & ATTR_OBJECTS) != 0 && r->kind == ATTR_BYTES;
}

static bool is_obj_text(const struct object_attr *r)
{
	return (r->wire & ATTR_OBJECTS) != 0 && (r->kind == ATTR_TEXT || r->kind == ATTR_DATE);
}

void object_attrs_free_bytes(struct wsop_object_attributes *a)
{
	for (size_t i = 0; i < OBJECT_ATTR_COUNT; i++)
		if (is_obj_bytes(&object_attrs[i]))
			wsop_bytes_free(object_attr_obj_value(&object_attrs[i], a));
}

int object_attrs_copy_bytes(struct wsop_object_attributes *dst,
                            const struct wsop_object_attributes *src)
{
	int err = 0;

	/* Detach every pointer first so that a failed copy frees only ours. */
	for (size_t i = 0; i < OBJECT_ATTR_COUNT; i++)
		if (is_obj_bytes(&object_attrs[i]))
			memset(object_attr_obj_value(&object_attrs[i], dst), 0,
			       sizeof(struct wsop_bytes));
	for (size_t i = 0; i < OBJECT_ATTR_COUNT; i++) {
		const struct object_attr *r = &object_attrs[i];
		const struct wsop_bytes *s;
		if (!is_obj_bytes(r))
			continue;
		s = (const struct wsop_bytes *)((const unsigned char *)src + r->obj_value);
		err |= wsop_bytes_copy(object_attr_obj_value(r, dst), s->data, s->len);
	}
	if (err != 0) {
		object_attrs_free_bytes(dst);
		return -ENOMEM;
	}
	return 0;
}

bool object_attrs_shape_ok(const struct wsop_object_attributes *a)
{
	for (size_t i = 0; i < OBJECT_ATTR_COUNT; i++) {
		const struct object_attr *r = &object_attrs[i];
		const unsigned char *base = (const unsigned char *)a;
		if (is_obj_bytes(r)) {
			const struct wsop_bytes *b = (const void *)(base + r->obj_value);
			if (b->len > 0 && b->data == NULL)
				return false;
		} else if (is_obj_text(r)) {
			const char *text = (const char *)(base + r->obj_value);
			if (memchr(text, '\0', r->max + 1) == NULL)
				return false;
			if (r->kind == ATTR_DATE && *(const bool *)(base + r->obj_present) &&
			    strlen(text) != WSOP_DATE_LEN)
				return false;
		}
	}
	return true;
}
