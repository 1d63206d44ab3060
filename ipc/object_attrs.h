/*
 * Every token-object attribute this product knows, one row each: its
 * PKCS #11 type, the JSON member and struct field that carry it over WSOP,
 * the shape and bound of its value, what each object class reports for it
 * and what each template may say of it. The JSON codec of objects and key
 * attributes (wsop_json.c), the template policy (lib/p11_template.c), the
 * attribute views (lib/p11_attrs.c) and wsopd's object rows are loops over
 * this table.
 *
 * Row order is wire order: the members of an object's "attributes" are
 * written in table order, and so are those of a key's. The decoder reads
 * an object's members in three passes over the table (fixed-value
 * members, then those of both classes, then those of the object's own
 * class), which is the order in which the first fault is named.
 */
#ifndef PKCS11WSOP_IPC_OBJECT_ATTRS_H
#define PKCS11WSOP_IPC_OBJECT_ATTRS_H

#include <stdbool.h>
#include <stddef.h>

#include <p11-kit/pkcs11.h>

#include "ipc/wsop_json.h"

/* The classes, as indexes of the per-class columns and as mask bits. */
enum attr_class { ATTR_DATA, ATTR_CERT, ATTR_KEY, ATTR_CLASSES };
#define ATTR_IN(c)   (1u << (c))
#define ATTR_OBJECTS (ATTR_IN(ATTR_DATA) | ATTR_IN(ATTR_CERT))

/* The PKCS #11 shape of a value (CK_BBOOL, CK_ULONG, bytes, UTF-8 text
 * without NUL, CK_DATE: empty or YYYYMMDD, CK_MECHANISM_TYPE array). */
enum attr_kind { ATTR_BOOL, ATTR_ULONG, ATTR_BYTES, ATTR_TEXT, ATTR_DATE, ATTR_MECHS };

/* What C_GetAttributeValue answers for a class. */
enum attr_show {
	SHOW_NONE = 0,  /* not an attribute of the class: CKR_ATTRIBUTE_TYPE_INVALID */
	SHOW_FIELD,     /* the struct field (empty when not present) */
	SHOW_CONST,     /* the row's constant */
	SHOW_EMPTY,     /* an empty value */
	SHOW_VALUE,     /* an object's value, which a listing may have left out */
	SHOW_SENSITIVE, /* never revealed: CKR_ATTRIBUTE_SENSITIVE */
	SHOW_CLASS,     /* the object's class */
	SHOW_KEY_BYTES, /* the key's size in bytes */
	SHOW_MECHS,     /* the mechanisms a key allows */
};

/* Where a template column (C_CreateObject of data, of a certificate,
 * C_GenerateKey) has the attribute: not at all, optional or required. A
 * row absent from every column is no template attribute at all. */
enum attr_presence { TMPL_NO = 0, TMPL_OPT, TMPL_REQ };

/* A value a template must give when it gives the attribute. */
enum attr_rule { RULE_ANY = 0, RULE_TRUE, RULE_FALSE };

/* ATTR_NO_FIELD: the struct has no such field (for key_present: the key
 * always has the value). */
#define ATTR_NO_FIELD ((size_t)-1)

struct object_attr {
	CK_ATTRIBUTE_TYPE type;
	enum attr_kind kind;
	size_t max; /* ATTR_BYTES, ATTR_TEXT: most bytes */
	/* WSOP: the member name, the classes whose JSON has it and must
	 * have it, and its fields in struct wsop_object_attributes and
	 * struct wsop_key_attributes. fixed: the only value of a member the
	 * struct records as present alone. */
	const char *json;
	unsigned wire, required;
	const char *fixed;
	size_t obj_present, obj_value;
	size_t key_present, key_value;
	bool answer_only; /* key: never in a generate request */
	/* C_GetAttributeValue, per class, and the constant of SHOW_CONST. */
	enum attr_show show[ATTR_CLASSES];
	CK_ULONG constant;
	/* Templates, per class column. */
	enum attr_presence tmpl[ATTR_CLASSES];
	enum attr_rule rule;
};

#define OBJECT_ATTR_COUNT 36
extern const struct object_attr object_attrs[OBJECT_ATTR_COUNT];

/* The row of type, or NULL. */
const struct object_attr *object_attr_find(CK_ATTRIBUTE_TYPE type);

/* The row's fields in a struct (the caller checks that they exist). */
bool *object_attr_obj_present(const struct object_attr *r, struct wsop_object_attributes *a);
void *object_attr_obj_value(const struct object_attr *r, struct wsop_object_attributes *a);

/* Frees, copies and checks the byte fields of an object's attributes. */
void object_attrs_free_bytes(struct wsop_object_attributes *a);
/* dst is a struct copy of src whose byte fields are made its own: 0 or
 * -ENOMEM (dst's copies freed). */
int object_attrs_copy_bytes(struct wsop_object_attributes *dst,
                            const struct wsop_object_attributes *src);
/* True when every text field holds its NUL, every date that is present
 * is 8 characters and every byte field with a length has data. */
bool object_attrs_shape_ok(const struct wsop_object_attributes *a);

#endif
