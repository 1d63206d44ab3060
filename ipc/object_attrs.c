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

/* A key flag: reported as the key says, in no object template. */
#define KEY_FLAG(t, f, tmpl_cols, r, answer)                                                       \
	{                                                                                          \
		.type = (t), .kind = ATTR_BOOL, .json = #f, .wire = K,                             \
		.required = (answer) ? K : 0, KEY(f), .answer_only = (answer),                     \
		.show = { SHOW_NONE, SHOW_NONE, SHOW_FIELD }, .tmpl = tmpl_cols, .rule = (r)       \
	}

/* A flag every class reports as a constant. */
#define CONST_FLAG(t, value, tmpl_cols, r)                                                         \
	{                                                                                          \
		.type = (t), .kind = ATTR_BOOL, .show = { SHOW_CONST, SHOW_CONST, SHOW_CONST },    \
		.constant = (value), .tmpl = tmpl_cols, .rule = (r)                                \
	}

/* Template columns: data, certificate, key. */
#define ALL_OPT                                                                                    \
	{                                                                                          \
		TMPL_OPT, TMPL_OPT, TMPL_OPT                                                       \
	}
#define ALL_REQ                                                                                    \
	{                                                                                          \
		TMPL_REQ, TMPL_REQ, TMPL_REQ                                                       \
	}
#define KEY_OPT_ONLY                                                                               \
	{                                                                                          \
		TMPL_NO, TMPL_NO, TMPL_OPT                                                         \
	}
#define KEY_REQ_ONLY                                                                               \
	{                                                                                          \
		TMPL_NO, TMPL_NO, TMPL_REQ                                                         \
	}
#define NONE                                                                                       \
	{                                                                                          \
		TMPL_NO, TMPL_NO, TMPL_NO                                                          \
	}

const struct object_attr object_attrs[] = {
	/* Members of an object's "attributes", in wire order. */
	{ .type = CKA_CERTIFICATE_TYPE,
	  .kind = ATTR_ULONG,
	  .json = "certificate_type",
	  .wire = C,
	  .required = C,
	  .fixed = "x509",
	  OBJ_FLAG(certificate_type),
	  .show = { SHOW_NONE, SHOW_CONST, SHOW_NONE },
	  .constant = CKC_X_509,
	  .tmpl = { TMPL_NO, TMPL_REQ, TMPL_NO } },
	{ .type = CKA_LABEL,
	  .kind = ATTR_TEXT,
	  .max = WSOP_LABEL_MAX,
	  .json = "label",
	  .wire = D | C | K,
	  .required = K,
	  OBJ(label),
	  KEY(label),
	  .show = { SHOW_FIELD, SHOW_FIELD, SHOW_FIELD },
	  .tmpl = { TMPL_OPT, TMPL_OPT, TMPL_REQ } },
	{ .type = CKA_ID,
	  .kind = ATTR_BYTES,
	  .max = WSOP_CKA_ID_MAX,
	  .json = "id",
	  .wire = D | C | K,
	  OBJ(id),
	  KEY_OPT(id),
	  .show = { SHOW_NONE, SHOW_FIELD, SHOW_FIELD },
	  .tmpl = { TMPL_NO, TMPL_OPT, TMPL_OPT } },
	{ .type = CKA_APPLICATION,
	  .kind = ATTR_TEXT,
	  .max = WSOP_APPLICATION_MAX,
	  .json = "application",
	  .wire = D,
	  OBJ(application),
	  .show = { SHOW_FIELD, SHOW_NONE, SHOW_NONE },
	  .tmpl = { TMPL_OPT, TMPL_NO, TMPL_NO } },
	{ .type = CKA_OBJECT_ID,
	  .kind = ATTR_BYTES,
	  .max = WSOP_OBJECT_ID_MAX,
	  .json = "object_id",
	  .wire = D,
	  OBJ(object_id),
	  .show = { SHOW_FIELD, SHOW_NONE, SHOW_NONE },
	  .tmpl = { TMPL_OPT, TMPL_NO, TMPL_NO } },
	/* Required of a certificate unless a listing left it out. */
	{ .type = CKA_VALUE,
	  .kind = ATTR_BYTES,
	  .max = WSOP_OBJECT_VALUE_MAX,
	  .json = "value",
	  .wire = D | C,
	  .required = C,
	  OBJ(value),
	  .show = { SHOW_VALUE, SHOW_VALUE, SHOW_SENSITIVE },
	  .tmpl = { TMPL_OPT, TMPL_REQ, TMPL_NO } },
	{ .type = CKA_SUBJECT,
	  .kind = ATTR_BYTES,
	  .max = WSOP_DN_MAX,
	  .json = "subject",
	  .wire = C,
	  .required = C,
	  OBJ(subject),
	  .show = { SHOW_NONE, SHOW_FIELD, SHOW_NONE },
	  .tmpl = { TMPL_NO, TMPL_REQ, TMPL_NO } },
	{ .type = CKA_ISSUER,
	  .kind = ATTR_BYTES,
	  .max = WSOP_DN_MAX,
	  .json = "issuer",
	  .wire = C,
	  OBJ(issuer),
	  .show = { SHOW_NONE, SHOW_FIELD, SHOW_NONE },
	  .tmpl = { TMPL_NO, TMPL_OPT, TMPL_NO } },
	{ .type = CKA_SERIAL_NUMBER,
	  .kind = ATTR_BYTES,
	  .max = WSOP_SERIAL_MAX,
	  .json = "serial_number",
	  .wire = C,
	  OBJ(serial_number),
	  .show = { SHOW_NONE, SHOW_FIELD, SHOW_NONE },
	  .tmpl = { TMPL_NO, TMPL_OPT, TMPL_NO } },
	{ .type = CKA_START_DATE,
	  .kind = ATTR_DATE,
	  .max = WSOP_DATE_LEN,
	  .json = "start_date",
	  .wire = C,
	  OBJ(start_date),
	  .show = { SHOW_NONE, SHOW_FIELD, SHOW_EMPTY },
	  .tmpl = { TMPL_NO, TMPL_OPT, TMPL_NO } },
	{ .type = CKA_END_DATE,
	  .kind = ATTR_DATE,
	  .max = WSOP_DATE_LEN,
	  .json = "end_date",
	  .wire = C,
	  OBJ(end_date),
	  .show = { SHOW_NONE, SHOW_FIELD, SHOW_EMPTY },
	  .tmpl = { TMPL_NO, TMPL_OPT, TMPL_NO } },
	/* Flags of a key's "attributes", in wire order. A generate request
	 * takes encrypt and decrypt (true when absent) and the must-be-false
	 * ones (false when absent); the rest are answer_only. */
	KEY_FLAG(CKA_ENCRYPT, encrypt, KEY_REQ_ONLY, RULE_ANY, false),
	KEY_FLAG(CKA_DECRYPT, decrypt, KEY_REQ_ONLY, RULE_ANY, false),
	KEY_FLAG(CKA_SIGN, sign, KEY_OPT_ONLY, RULE_FALSE, false),
	KEY_FLAG(CKA_VERIFY, verify, KEY_OPT_ONLY, RULE_FALSE, false),
	KEY_FLAG(CKA_WRAP, wrap, ALL_OPT, RULE_FALSE, false),
	KEY_FLAG(CKA_UNWRAP, unwrap, ALL_OPT, RULE_FALSE, false),
	KEY_FLAG(CKA_DERIVE, derive, ALL_OPT, RULE_FALSE, false),
	KEY_FLAG(CKA_SENSITIVE, sensitive, ALL_OPT, RULE_TRUE, true),
	KEY_FLAG(CKA_ALWAYS_SENSITIVE, always_sensitive, ALL_OPT, RULE_TRUE, true),
	KEY_FLAG(CKA_EXTRACTABLE, extractable, ALL_OPT, RULE_FALSE, true),
	KEY_FLAG(CKA_NEVER_EXTRACTABLE, never_extractable, ALL_OPT, RULE_TRUE, true),
	KEY_FLAG(CKA_LOCAL, local, ALL_OPT, RULE_TRUE, true),
	/* Not on the wire: the class and what the server never varies. */
	{ .type = CKA_CLASS,
	  .kind = ATTR_ULONG,
	  .show = { SHOW_CLASS, SHOW_CLASS, SHOW_CLASS },
	  .tmpl = { TMPL_REQ, TMPL_REQ, TMPL_OPT } },
	CONST_FLAG(CKA_TOKEN, CK_TRUE, ALL_REQ, RULE_TRUE),
	CONST_FLAG(CKA_PRIVATE, CK_TRUE, ALL_REQ, RULE_TRUE),
	CONST_FLAG(CKA_MODIFIABLE, CK_FALSE, NONE, RULE_ANY),
	CONST_FLAG(CKA_COPYABLE, CK_FALSE, ALL_OPT, RULE_FALSE),
	CONST_FLAG(CKA_DESTROYABLE, CK_TRUE, NONE, RULE_ANY),
	{ .type = CKA_TRUSTED,
	  .kind = ATTR_BOOL,
	  .show = { SHOW_NONE, SHOW_CONST, SHOW_CONST },
	  .constant = CK_FALSE,
	  .tmpl = ALL_OPT,
	  .rule = RULE_FALSE },
	{ .type = CKA_WRAP_WITH_TRUSTED,
	  .kind = ATTR_BOOL,
	  .show = { SHOW_NONE, SHOW_NONE, SHOW_CONST },
	  .constant = CK_FALSE,
	  .tmpl = ALL_OPT,
	  .rule = RULE_FALSE },
	{ .type = CKA_CERTIFICATE_CATEGORY,
	  .kind = ATTR_ULONG,
	  .show = { SHOW_NONE, SHOW_CONST, SHOW_NONE },
	  .constant = 0 },
	{ .type = CKA_KEY_TYPE,
	  .kind = ATTR_ULONG,
	  .show = { SHOW_NONE, SHOW_NONE, SHOW_CONST },
	  .constant = CKK_AES,
	  .tmpl = KEY_OPT_ONLY },
	{ .type = CKA_VALUE_LEN,
	  .kind = ATTR_ULONG,
	  .show = { SHOW_NONE, SHOW_NONE, SHOW_KEY_BYTES },
	  .tmpl = KEY_REQ_ONLY },
	{ .type = CKA_KEY_GEN_MECHANISM,
	  .kind = ATTR_ULONG,
	  .show = { SHOW_NONE, SHOW_NONE, SHOW_CONST },
	  .constant = CKM_AES_KEY_GEN },
	{ .type = CKA_ALLOWED_MECHANISMS,
	  .kind = ATTR_MECHS,
	  .show = { SHOW_NONE, SHOW_NONE, SHOW_MECHS } },
};

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
