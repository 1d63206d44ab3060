/*
 * Attribute views of a token object (p11_attrs.h): one reader maps
 * (object, type) to bytes, and both C_GetAttributeValue and C_FindObjects
 * go through it so that what is reported and what is matched never differ.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "lib/p11_attrs.h"
#include "lib/p11_template.h"

#include "ipc/object_attrs.h"

/* VIEW_UNFETCHED: a value a listing left out; len is its length, ptr NULL. */
enum view_rc { VIEW_OK, VIEW_SENSITIVE, VIEW_INVALID, VIEW_UNFETCHED };

/* The bytes of one attribute; small values live in the scratch space. */
struct view {
	const void *ptr;
	CK_ULONG len;
	union {
		CK_ULONG ul;
		CK_BBOOL b;
		CK_MECHANISM_TYPE mechs[2];
	} scratch;
};

static enum view_rc view_ulong(struct view *v, CK_ULONG value)
{
	v->scratch.ul = value;
	v->ptr = &v->scratch.ul;
	v->len = sizeof(CK_ULONG);
	return VIEW_OK;
}

static enum view_rc view_bool(struct view *v, bool value)
{
	v->scratch.b = value ? CK_TRUE : CK_FALSE;
	v->ptr = &v->scratch.b;
	v->len = sizeof(CK_BBOOL);
	return VIEW_OK;
}

static enum view_rc view_bytes(struct view *v, const void *data, size_t len)
{
	v->ptr = data;
	v->len = len;
	return VIEW_OK;
}

static enum view_rc view_wsop_bytes(struct view *v, bool present, const struct wsop_bytes *b)
{
	if (!present)
		return view_bytes(v, NULL, 0);
	return view_bytes(v, b->data, b->len);
}

static enum view_rc view_text(struct view *v, bool present, const char *text)
{
	if (!present)
		return view_bytes(v, NULL, 0);
	return view_bytes(v, text, strlen(text));
}

static enum view_rc view_date(struct view *v, bool present, const char *date)
{
	/* CK_DATE is the 8 characters without a NUL. */
	return view_bytes(v, present ? date : NULL, present ? WSOP_DATE_LEN : 0);
}

/* CKA_VALUE of a data object or certificate. */
static enum view_rc view_value(const struct p11_object *o, struct view *v)
{
	if (o->object.value_omitted) {
		view_bytes(v, NULL, o->object.value_len);
		return o->object.value_len > 0 ? VIEW_UNFETCHED : VIEW_OK;
	}
	return view_wsop_bytes(v, o->object.attributes.value_present, &o->object.attributes.value);
}

/* A struct field of the row: present says whether it holds a value. */
static enum view_rc view_field(const struct object_attr *r, bool present, const void *field,
                               struct view *v)
{
	switch (r->kind) {
	case ATTR_BOOL:
		return view_bool(v, *(const bool *)field);
	case ATTR_TEXT:
		return view_text(v, present, field);
	case ATTR_DATE:
		return view_date(v, present, field);
	case ATTR_BYTES:
		return view_wsop_bytes(v, present, field);
	default:
		return VIEW_INVALID;
	}
}

static enum view_rc view_key_field(const struct object_attr *r, const struct wsop_key_attributes *a,
                                   struct view *v)
{
	const unsigned char *base = (const unsigned char *)a;
	bool present = r->key_present == ATTR_NO_FIELD || *(const bool *)(base + r->key_present);
	return view_field(r, present, base + r->key_value, v);
}

static enum view_rc view_object_field(const struct object_attr *r,
                                      const struct wsop_object_attributes *a, struct view *v)
{
	const unsigned char *base = (const unsigned char *)a;
	return view_field(r, *(const bool *)(base + r->obj_present), base + r->obj_value, v);
}

static enum view_rc view_attribute(const struct p11_object *o, CK_ATTRIBUTE_TYPE type,
                                   struct view *v)
{
	const struct object_attr *r = object_attr_find(type);
	enum attr_class cls;

	switch (o->cls) {
	case CKO_DATA:
		cls = ATTR_DATA;
		break;
	case CKO_CERTIFICATE:
		cls = ATTR_CERT;
		break;
	case CKO_SECRET_KEY:
		cls = ATTR_KEY;
		break;
	default:
		/* An object of no class has only what every class has. */
		cls = ATTR_DATA;
		if (r != NULL && (r->show[ATTR_DATA] != r->show[ATTR_CERT] ||
		                  r->show[ATTR_DATA] != r->show[ATTR_KEY]))
			return VIEW_INVALID;
		break;
	}
	if (r == NULL)
		return VIEW_INVALID;
	switch (r->show[cls]) {
	case SHOW_FIELD:
		return cls == ATTR_KEY ? view_key_field(r, &o->key.attributes, v)
		                       : view_object_field(r, &o->object.attributes, v);
	case SHOW_CONST:
		return r->kind == ATTR_BOOL ? view_bool(v, r->constant == CK_TRUE)
		                            : view_ulong(v, r->constant);
	case SHOW_EMPTY:
		return view_bytes(v, NULL, 0);
	case SHOW_VALUE:
		return view_value(o, v);
	case SHOW_SENSITIVE:
		return VIEW_SENSITIVE;
	case SHOW_CLASS:
		return view_ulong(v, o->cls);
	case SHOW_KEY_BYTES:
		return view_ulong(v, (CK_ULONG)o->key.size / 8);
	case SHOW_MECHS:
		v->scratch.mechs[0] = CKM_AES_CBC;
		v->scratch.mechs[1] = CKM_AES_CBC_PAD;
		return view_bytes(v, v->scratch.mechs, sizeof(v->scratch.mechs));
	case SHOW_NONE:
		break;
	}
	return VIEW_INVALID;
}

CK_RV p11_object_get_attributes(const struct p11_object *o, CK_ATTRIBUTE *tmpl, CK_ULONG count)
{
	bool sensitive = false, invalid = false, too_small = false, unfetched = false;

	if (o == NULL || (tmpl == NULL && count > 0))
		return CKR_ARGUMENTS_BAD;
	for (CK_ULONG i = 0; i < count; i++) {
		struct view v;
		enum view_rc rc = view_attribute(o, tmpl[i].type, &v);

		if (rc == VIEW_SENSITIVE) {
			sensitive = true;
			tmpl[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
		} else if (rc == VIEW_INVALID) {
			invalid = true;
			tmpl[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
		} else if (!tmpl[i].pValue) {
			tmpl[i].ulValueLen = v.len;
		} else if (rc == VIEW_UNFETCHED && tmpl[i].ulValueLen >= v.len) {
			/* The caller was to fetch it first (p11_object_value_needed). */
			unfetched = true;
			tmpl[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
		} else if (tmpl[i].ulValueLen >= v.len) {
			if (v.len > 0)
				memcpy(tmpl[i].pValue, v.ptr, v.len);
			tmpl[i].ulValueLen = v.len;
		} else {
			too_small = true;
			tmpl[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
		}
	}
	if (sensitive)
		return CKR_ATTRIBUTE_SENSITIVE;
	if (invalid)
		return CKR_ATTRIBUTE_TYPE_INVALID;
	if (too_small)
		return CKR_BUFFER_TOO_SMALL;
	return unfetched ? CKR_GENERAL_ERROR : CKR_OK;
}

bool p11_object_value_needed(const struct p11_object *o, const CK_ATTRIBUTE *tmpl, CK_ULONG count)
{
	if (!o || !tmpl || o->cls == CKO_SECRET_KEY || !o->object.value_omitted ||
	    o->object.value_len == 0)
		return false;
	for (CK_ULONG i = 0; i < count; i++)
		if (tmpl[i].type == CKA_VALUE && tmpl[i].pValue &&
		    tmpl[i].ulValueLen >= o->object.value_len)
			return true;
	return false;
}

enum p11_match p11_object_match(const struct p11_object *o, const CK_ATTRIBUTE *tmpl,
                                CK_ULONG count)
{
	bool unfetched = false;

	if (o == NULL || (tmpl == NULL && count > 0))
		return P11_MATCH_NO;
	for (CK_ULONG i = 0; i < count; i++) {
		struct view v;
		enum view_rc rc = view_attribute(o, tmpl[i].type, &v);

		if (rc != VIEW_OK && rc != VIEW_UNFETCHED)
			return P11_MATCH_NO;
		if (tmpl[i].ulValueLen != v.len)
			return P11_MATCH_NO;
		/* Same length as a value not fetched yet: only its bytes can tell. */
		if (rc == VIEW_UNFETCHED) {
			unfetched = true;
			continue;
		}
		if (v.len > 0 && (!tmpl[i].pValue || memcmp(tmpl[i].pValue, v.ptr, v.len) != 0))
			return P11_MATCH_NO;
	}
	return unfetched ? P11_MATCH_NEEDS_VALUE : P11_MATCH_YES;
}

bool p11_object_matches(const struct p11_object *o, const CK_ATTRIBUTE *tmpl, CK_ULONG count)
{
	return p11_object_match(o, tmpl, count) == P11_MATCH_YES;
}

/* ---- building objects ------------------------------------------------- */

static int copy_key_attributes(struct wsop_key_attributes *dst,
                               const struct wsop_key_attributes *src)
{
	*dst = *src;
	dst->id.data = NULL;
	dst->id.len = 0;
	return wsop_bytes_copy(&dst->id, src->id.data, src->id.len);
}

/* The fixed-size strings of the server structs must hold their NUL, or a
 * later strlen would run past them. */
#define TERMINATED(arr) (memchr((arr), '\0', sizeof(arr)) != NULL)

CK_RV p11_object_from_key(struct p11_object *out, const struct wsop_key *key)
{
	if (out == NULL || key == NULL)
		return CKR_ARGUMENTS_BAD;
	memset(out, 0, sizeof(*out));
	if (key->size != 128 && key->size != 192 && key->size != 256)
		return CKR_DEVICE_ERROR;
	if (!TERMINATED(key->attributes.label) || !TERMINATED(key->path) || !TERMINATED(key->id) ||
	    !TERMINATED(key->group) || !TERMINATED(key->protectiondomain))
		return CKR_DEVICE_ERROR;
	if (key->attributes.id.len > 0 && key->attributes.id.data == NULL)
		return CKR_DEVICE_ERROR;
	out->cls = CKO_SECRET_KEY;
	out->key = *key;
	if (copy_key_attributes(&out->key.attributes, &key->attributes) != 0) {
		p11_object_free(out);
		return CKR_HOST_MEMORY;
	}
	return CKR_OK;
}

static bool object_shape_ok(const struct wsop_object *obj)
{
	return TERMINATED(obj->id) && TERMINATED(obj->protectiondomain) &&
	       object_attrs_shape_ok(&obj->attributes);
}

CK_RV p11_object_from_wsop_object(struct p11_object *out, const struct wsop_object *obj)
{
	if (out == NULL || obj == NULL)
		return CKR_ARGUMENTS_BAD;
	memset(out, 0, sizeof(*out));
	switch (obj->cls) {
	case WSOP_OBJECT_DATA:
		out->cls = CKO_DATA;
		break;
	case WSOP_OBJECT_CERTIFICATE:
		out->cls = CKO_CERTIFICATE;
		break;
	default:
		return CKR_DEVICE_ERROR;
	}
	if (!object_shape_ok(obj)) {
		out->cls = 0;
		return CKR_DEVICE_ERROR;
	}
	out->object = *obj;
	if (object_attrs_copy_bytes(&out->object.attributes, &obj->attributes) != 0) {
		p11_object_free(out);
		return CKR_HOST_MEMORY;
	}
	return CKR_OK;
}

CK_RV p11_object_copy(struct p11_object *out, const struct p11_object *src)
{
	if (out == NULL || src == NULL)
		return CKR_ARGUMENTS_BAD;
	if (src->cls == CKO_SECRET_KEY)
		return p11_object_from_key(out, &src->key);
	return p11_object_from_wsop_object(out, &src->object);
}

void p11_object_free(struct p11_object *o)
{
	if (o == NULL)
		return;
	wsop_key_free(&o->key);
	wsop_object_free(&o->object);
	memset(o, 0, sizeof(*o));
}

/* ---- search templates ------------------------------------------------- */

CK_RV p11_find_template_init(struct p11_find_template *out, const CK_ATTRIBUTE *tmpl,
                             CK_ULONG count)
{
	CK_RV rv;

	if (out == NULL)
		return CKR_ARGUMENTS_BAD;
	memset(out, 0, sizeof(*out));
	rv = p11_template_check_find(tmpl, count);
	if (rv != CKR_OK)
		return rv;
	if (count > P11_FIND_TEMPLATE_MAX)
		return CKR_ARGUMENTS_BAD;
	if (count == 0)
		return CKR_OK;
	out->attrs = calloc(count, sizeof(*out->attrs));
	if (out->attrs == NULL)
		return CKR_HOST_MEMORY;
	out->count = count;
	for (CK_ULONG i = 0; i < count; i++) {
		out->attrs[i].type = tmpl[i].type;
		out->attrs[i].ulValueLen = tmpl[i].ulValueLen;
		/* Too long for any object: left NULL, so it matches nothing. */
		if (tmpl[i].ulValueLen == 0 || tmpl[i].ulValueLen > WSOP_OBJECT_VALUE_MAX)
			continue;
		out->attrs[i].pValue = malloc(tmpl[i].ulValueLen);
		if (!out->attrs[i].pValue) {
			p11_find_template_free(out);
			return CKR_HOST_MEMORY;
		}
		memcpy(out->attrs[i].pValue, tmpl[i].pValue, tmpl[i].ulValueLen);
	}
	return CKR_OK;
}

enum p11_match p11_find_template_match(const struct p11_find_template *f,
                                       const struct p11_object *o)
{
	if (f == NULL)
		return P11_MATCH_NO;
	return p11_object_match(o, f->attrs, f->count);
}

bool p11_find_template_matches(const struct p11_find_template *f, const struct p11_object *o)
{
	return p11_find_template_match(f, o) == P11_MATCH_YES;
}

void p11_find_template_free(struct p11_find_template *f)
{
	if (f == NULL)
		return;
	for (CK_ULONG i = 0; i < f->count && f->attrs; i++) {
		/* A search value may be a data object's private value. */
		if (f->attrs[i].pValue)
			OPENSSL_clear_free(f->attrs[i].pValue, f->attrs[i].ulValueLen);
	}
	free(f->attrs);
	memset(f, 0, sizeof(*f));
}
