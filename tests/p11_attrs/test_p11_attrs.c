/* The object model of lib/p11_attrs.h: C_GetAttributeValue's semantics,
 * matching, and round trips template -> request -> server answer ->
 * object -> attributes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/p11_attrs.h"
#include "lib/p11_template.h"
#include "tmpl_builder.h"

static const char group_id[] = "0123abcd-4567-89ef-0123-456789abcdef";
static const char key_id[] = "ffffffff-0000-1111-2222-333333333333";
static const char card_id[] = "0123456789abcdef0123456789abcdef01234567";

/* What the server answers to a generate request (ipc/README.md). */
static void simulate_key_answer(const struct wsop_key_generate_req *req, struct wsop_key *out)
{
	memset(out, 0, sizeof(*out));
	strcpy(out->id, key_id);
	strcpy(out->group, group_id);
	strcpy(out->protectiondomain, card_id);
	assert_int_equal(wsop_key_path_format(group_id, key_id, out->path, sizeof(out->path)), 0);
	out->size = req->size;
	out->created = 1764190000;
	out->attributes = req->attributes;
	assert_int_equal(
	    wsop_bytes_copy(&out->attributes.id, req->attributes.id.data, req->attributes.id.len),
	    0);
	out->attributes.sensitive = true;
	out->attributes.always_sensitive = true;
	out->attributes.extractable = false;
	out->attributes.never_extractable = true;
	out->attributes.local = true;
}

static void simulate_object_answer(const struct wsop_object_create_req *req,
                                   struct wsop_object *out)
{
	memset(out, 0, sizeof(*out));
	strcpy(out->id, key_id);
	strcpy(out->protectiondomain, card_id);
	out->cls = req->cls;
	out->created = 1764190000;
	/* the struct copy shares buffers; copy them so both can be freed */
	out->attributes = req->attributes;
	assert_int_equal(
	    wsop_bytes_copy(&out->attributes.id, req->attributes.id.data, req->attributes.id.len),
	    0);
	assert_int_equal(wsop_bytes_copy(&out->attributes.value, req->attributes.value.data,
	                                 req->attributes.value.len),
	                 0);
	assert_int_equal(wsop_bytes_copy(&out->attributes.object_id, req->attributes.object_id.data,
	                                 req->attributes.object_id.len),
	                 0);
	assert_int_equal(wsop_bytes_copy(&out->attributes.subject, req->attributes.subject.data,
	                                 req->attributes.subject.len),
	                 0);
	assert_int_equal(wsop_bytes_copy(&out->attributes.issuer, req->attributes.issuer.data,
	                                 req->attributes.issuer.len),
	                 0);
	assert_int_equal(wsop_bytes_copy(&out->attributes.serial_number,
	                                 req->attributes.serial_number.data,
	                                 req->attributes.serial_number.len),
	                 0);
}

static void make_key(struct p11_object *o, CK_ULONG value_len)
{
	CK_MECHANISM m = { CKM_AES_KEY_GEN, NULL, 0 };
	struct tb t;
	struct wsop_key_generate_req req;
	struct wsop_key answer;

	tb_key(&t);
	tb_remove(&t, CKA_VALUE_LEN);
	tb_ulong(&t, CKA_VALUE_LEN, value_len);
	tb_bytes(&t, CKA_ID, "\x0a\x0b", 2);
	assert_int_equal(p11_template_generate_request(&m, t.a, t.n, &req), CKR_OK);
	simulate_key_answer(&req, &answer);
	assert_int_equal(p11_object_from_key(o, &answer), CKR_OK);
	wsop_key_free(&answer);
	wsop_key_generate_req_free(&req);
}

static void make_from_template(struct p11_object *o, const struct tb *t)
{
	struct wsop_object_create_req req;
	struct wsop_object answer;

	assert_int_equal(p11_template_create_request(t->a, t->n, &req), CKR_OK);
	simulate_object_answer(&req, &answer);
	assert_int_equal(p11_object_from_wsop_object(o, &answer), CKR_OK);
	wsop_object_free(&answer);
	wsop_object_create_req_free(&req);
}

static CK_ULONG get_ulong(const struct p11_object *o, CK_ATTRIBUTE_TYPE type)
{
	CK_ULONG v = 0xdead;
	CK_ATTRIBUTE a = { type, &v, sizeof(v) };
	assert_int_equal(p11_object_get_attributes(o, &a, 1), CKR_OK);
	assert_int_equal(a.ulValueLen, sizeof(v));
	return v;
}

static CK_BBOOL get_bool(const struct p11_object *o, CK_ATTRIBUTE_TYPE type)
{
	CK_BBOOL v = 0x55;
	CK_ATTRIBUTE a = { type, &v, sizeof(v) };
	assert_int_equal(p11_object_get_attributes(o, &a, 1), CKR_OK);
	assert_int_equal(a.ulValueLen, 1);
	return v;
}

static void assert_bytes(const struct p11_object *o, CK_ATTRIBUTE_TYPE type, const void *want,
                         CK_ULONG want_len)
{
	unsigned char buf[128];
	CK_ATTRIBUTE a = { type, NULL, 0 };

	assert_int_equal(p11_object_get_attributes(o, &a, 1), CKR_OK);
	assert_int_equal(a.ulValueLen, want_len);
	a.pValue = buf;
	a.ulValueLen = sizeof(buf);
	assert_int_equal(p11_object_get_attributes(o, &a, 1), CKR_OK);
	assert_int_equal(a.ulValueLen, want_len);
	if (want_len > 0)
		assert_memory_equal(buf, want, want_len);
}

/* ---- C_GetAttributeValue semantics ---- */

static void null_pvalue_reports_the_length(void **state)
{
	struct p11_object o;
	CK_ATTRIBUTE a[] = { { CKA_LABEL, NULL, 999 },
		             { CKA_ID, NULL, 0 },
		             { CKA_VALUE_LEN, NULL, 0 } };
	(void)state;
	make_key(&o, 32);
	assert_int_equal(p11_object_get_attributes(&o, a, 3), CKR_OK);
	assert_int_equal(a[0].ulValueLen, 2);
	assert_int_equal(a[1].ulValueLen, 2);
	assert_int_equal(a[2].ulValueLen, sizeof(CK_ULONG));
	p11_object_free(&o);
}

static void short_buffer_marks_only_that_attribute(void **state)
{
	struct p11_object o;
	char label[1], id[8];
	CK_ULONG len = 0;
	CK_ATTRIBUTE a[] = { { CKA_LABEL, label, sizeof(label) },
		             { CKA_ID, id, sizeof(id) },
		             { CKA_VALUE_LEN, &len, sizeof(len) } };
	(void)state;
	make_key(&o, 24);
	assert_int_equal(p11_object_get_attributes(&o, a, 3), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(a[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(a[1].ulValueLen, 2);
	assert_memory_equal(id, "\x0a\x0b", 2);
	assert_int_equal(a[2].ulValueLen, sizeof(CK_ULONG));
	assert_int_equal(len, 24);
	p11_object_free(&o);
}

static void get_value_of_secret_key_is_attribute_sensitive(void **state)
{
	struct p11_object o;
	unsigned char buf[32];
	CK_BBOOL enc = 0;
	CK_ATTRIBUTE a[] = { { CKA_VALUE, buf, sizeof(buf) }, { CKA_ENCRYPT, &enc, 1 } };
	(void)state;
	make_key(&o, 32);
	assert_int_equal(p11_object_get_attributes(&o, a, 2), CKR_ATTRIBUTE_SENSITIVE);
	assert_int_equal(a[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(a[1].ulValueLen, 1);
	assert_int_equal(enc, CK_TRUE);
	a[0].pValue = NULL;
	assert_int_equal(p11_object_get_attributes(&o, a, 1), CKR_ATTRIBUTE_SENSITIVE);
	assert_int_equal(a[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	p11_object_free(&o);
}

static void unknown_type_is_attribute_type_invalid_and_others_still_filled(void **state)
{
	struct p11_object o;
	CK_ULONG cls = 0;
	unsigned char buf[8];
	CK_ATTRIBUTE a[] = { { CKA_MODULUS, buf, sizeof(buf) }, { CKA_CLASS, &cls, sizeof(cls) } };
	(void)state;
	make_key(&o, 16);
	assert_int_equal(p11_object_get_attributes(&o, a, 2), CKR_ATTRIBUTE_TYPE_INVALID);
	assert_int_equal(a[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(cls, CKO_SECRET_KEY);
	p11_object_free(&o);
}

static void several_errors_sensitive_then_type_invalid_then_buffer_too_small(void **state)
{
	struct p11_object o;
	unsigned char v[32], m[8];
	char label[1];
	CK_ATTRIBUTE a[] = { { CKA_LABEL, label, sizeof(label) },
		             { CKA_MODULUS, m, sizeof(m) },
		             { CKA_VALUE, v, sizeof(v) } };
	(void)state;
	make_key(&o, 32);
	assert_int_equal(p11_object_get_attributes(&o, a, 3), CKR_ATTRIBUTE_SENSITIVE);
	a[0].ulValueLen = sizeof(label);
	assert_int_equal(p11_object_get_attributes(&o, a, 2), CKR_ATTRIBUTE_TYPE_INVALID);
	a[0].ulValueLen = sizeof(label);
	assert_int_equal(p11_object_get_attributes(&o, a, 1), CKR_BUFFER_TOO_SMALL);
	p11_object_free(&o);
}

static void get_attributes_null_arguments_are_arguments_bad(void **state)
{
	struct p11_object o;
	(void)state;
	make_key(&o, 16);
	assert_int_equal(p11_object_get_attributes(NULL, NULL, 0), CKR_ARGUMENTS_BAD);
	assert_int_equal(p11_object_get_attributes(&o, NULL, 1), CKR_ARGUMENTS_BAD);
	assert_int_equal(p11_object_get_attributes(&o, NULL, 0), CKR_OK);
	p11_object_free(&o);
}

/* ---- what each class reports ---- */

static void secret_key_reports_the_generated_key(void **state)
{
	struct p11_object o;
	CK_MECHANISM_TYPE mechs[4];
	CK_ATTRIBUTE am = { CKA_ALLOWED_MECHANISMS, mechs, sizeof(mechs) };
	(void)state;
	make_key(&o, 32);
	assert_int_equal(get_ulong(&o, CKA_CLASS), CKO_SECRET_KEY);
	assert_int_equal(get_ulong(&o, CKA_KEY_TYPE), CKK_AES);
	assert_int_equal(get_ulong(&o, CKA_VALUE_LEN), 32);
	assert_int_equal(get_ulong(&o, CKA_KEY_GEN_MECHANISM), CKM_AES_KEY_GEN);
	assert_int_equal(get_bool(&o, CKA_TOKEN), CK_TRUE);
	assert_int_equal(get_bool(&o, CKA_PRIVATE), CK_TRUE);
	assert_int_equal(get_bool(&o, CKA_MODIFIABLE), CK_FALSE);
	assert_int_equal(get_bool(&o, CKA_COPYABLE), CK_FALSE);
	assert_int_equal(get_bool(&o, CKA_DESTROYABLE), CK_TRUE);
	assert_int_equal(get_bool(&o, CKA_ENCRYPT), CK_TRUE);
	assert_int_equal(get_bool(&o, CKA_DECRYPT), CK_TRUE);
	assert_int_equal(get_bool(&o, CKA_SIGN), CK_FALSE);
	assert_int_equal(get_bool(&o, CKA_VERIFY), CK_FALSE);
	assert_int_equal(get_bool(&o, CKA_WRAP), CK_FALSE);
	assert_int_equal(get_bool(&o, CKA_UNWRAP), CK_FALSE);
	assert_int_equal(get_bool(&o, CKA_DERIVE), CK_FALSE);
	assert_int_equal(get_bool(&o, CKA_SENSITIVE), CK_TRUE);
	assert_int_equal(get_bool(&o, CKA_ALWAYS_SENSITIVE), CK_TRUE);
	assert_int_equal(get_bool(&o, CKA_EXTRACTABLE), CK_FALSE);
	assert_int_equal(get_bool(&o, CKA_NEVER_EXTRACTABLE), CK_TRUE);
	assert_int_equal(get_bool(&o, CKA_LOCAL), CK_TRUE);
	assert_int_equal(get_bool(&o, CKA_TRUSTED), CK_FALSE);
	assert_int_equal(get_bool(&o, CKA_WRAP_WITH_TRUSTED), CK_FALSE);
	assert_bytes(&o, CKA_LABEL, "k1", 2);
	assert_bytes(&o, CKA_ID, "\x0a\x0b", 2);
	assert_bytes(&o, CKA_START_DATE, NULL, 0);
	assert_bytes(&o, CKA_END_DATE, NULL, 0);
	assert_int_equal(p11_object_get_attributes(&o, &am, 1), CKR_OK);
	assert_int_equal(am.ulValueLen, 2 * sizeof(CK_MECHANISM_TYPE));
	assert_int_equal(mechs[0], CKM_AES_CBC);
	assert_int_equal(mechs[1], CKM_AES_CBC_PAD);
	assert_string_equal(o.key.path, "km/v1/groups/0123abcd-4567-89ef-0123-456789abcdef/keys/"
	                                "ffffffff-0000-1111-2222-333333333333");
	p11_object_free(&o);
}

static void data_object_round_trip_reports_its_attributes(void **state)
{
	struct p11_object o;
	struct tb t;
	CK_ATTRIBUTE id = { CKA_ID, NULL, 0 };
	(void)state;
	tb_data(&t);
	make_from_template(&o, &t);
	assert_int_equal(get_ulong(&o, CKA_CLASS), CKO_DATA);
	assert_int_equal(get_bool(&o, CKA_TOKEN), CK_TRUE);
	assert_int_equal(get_bool(&o, CKA_PRIVATE), CK_TRUE);
	assert_int_equal(get_bool(&o, CKA_MODIFIABLE), CK_FALSE);
	assert_bytes(&o, CKA_LABEL, "notes", 5);
	assert_bytes(&o, CKA_APPLICATION, "app", 3);
	assert_bytes(&o, CKA_OBJECT_ID, "\x06\x03\x2a\x03\x04", 5);
	assert_bytes(&o, CKA_VALUE, "hello", 5);
	assert_int_equal(p11_object_get_attributes(&o, &id, 1), CKR_ATTRIBUTE_TYPE_INVALID);
	assert_string_equal(o.object.id, key_id);
	assert_string_equal(o.object.protectiondomain, card_id);
	p11_object_free(&o);
}

static void data_object_without_optionals_reports_empty_values(void **state)
{
	struct p11_object o;
	struct tb t;
	(void)state;
	memset(&t, 0, sizeof(t));
	tb_ulong(&t, CKA_CLASS, CKO_DATA);
	tb_common(&t);
	make_from_template(&o, &t);
	assert_bytes(&o, CKA_LABEL, NULL, 0);
	assert_bytes(&o, CKA_APPLICATION, NULL, 0);
	assert_bytes(&o, CKA_OBJECT_ID, NULL, 0);
	assert_bytes(&o, CKA_VALUE, NULL, 0);
	p11_object_free(&o);
}

static void certificate_round_trip_reports_its_attributes(void **state)
{
	struct p11_object o;
	struct tb t;
	(void)state;
	tb_cert(&t);
	tb_bytes(&t, CKA_ISSUER, "\x30\x00", 2);
	tb_bytes(&t, CKA_SERIAL_NUMBER, "\x02\x01\x05", 3);
	tb_str(&t, CKA_START_DATE, "20260101");
	tb_bytes(&t, CKA_ID, "\x01\x02", 2);
	tb_str(&t, CKA_LABEL, "cert");
	make_from_template(&o, &t);
	assert_int_equal(get_ulong(&o, CKA_CLASS), CKO_CERTIFICATE);
	assert_int_equal(get_ulong(&o, CKA_CERTIFICATE_TYPE), CKC_X_509);
	assert_int_equal(get_ulong(&o, CKA_CERTIFICATE_CATEGORY), 0);
	assert_int_equal(get_bool(&o, CKA_TRUSTED), CK_FALSE);
	assert_int_equal(get_bool(&o, CKA_PRIVATE), CK_TRUE);
	assert_bytes(&o, CKA_VALUE, "\x30\x03\x02\x01\x01", 5);
	assert_bytes(&o, CKA_SUBJECT, "\x30\x01\x00", 3);
	assert_bytes(&o, CKA_ISSUER, "\x30\x00", 2);
	assert_bytes(&o, CKA_SERIAL_NUMBER, "\x02\x01\x05", 3);
	assert_bytes(&o, CKA_START_DATE, "20260101", 8);
	assert_bytes(&o, CKA_END_DATE, NULL, 0);
	assert_bytes(&o, CKA_ID, "\x01\x02", 2);
	assert_bytes(&o, CKA_LABEL, "cert", 4);
	p11_object_free(&o);
}

static void server_answer_that_is_no_object_is_device_error(void **state)
{
	struct wsop_key k;
	struct wsop_object obj;
	struct p11_object o;
	(void)state;
	memset(&k, 0, sizeof(k));
	k.size = 100;
	assert_int_equal(p11_object_from_key(&o, &k), CKR_DEVICE_ERROR);
	k.size = 128;
	memset(k.attributes.label, 'x', sizeof(k.attributes.label));
	assert_int_equal(p11_object_from_key(&o, &k), CKR_DEVICE_ERROR);
	memset(&obj, 0, sizeof(obj));
	obj.cls = 3;
	assert_int_equal(p11_object_from_wsop_object(&o, &obj), CKR_DEVICE_ERROR);
	obj.cls = WSOP_OBJECT_DATA;
	obj.attributes.value.len = 4; /* data NULL */
	assert_int_equal(p11_object_from_wsop_object(&o, &obj), CKR_DEVICE_ERROR);
	assert_int_equal(p11_object_from_key(NULL, &k), CKR_ARGUMENTS_BAD);
	assert_int_equal(p11_object_from_wsop_object(&o, NULL), CKR_ARGUMENTS_BAD);
}

static void object_copy_is_deep(void **state)
{
	struct p11_object a, b;
	struct tb t;
	(void)state;
	tb_data(&t);
	make_from_template(&a, &t);
	assert_int_equal(p11_object_copy(&b, &a), CKR_OK);
	assert_ptr_not_equal(a.object.attributes.value.data, b.object.attributes.value.data);
	p11_object_free(&a);
	assert_bytes(&b, CKA_VALUE, "hello", 5);
	p11_object_free(&b);
	p11_object_free(NULL);
}

/* ---- C_FindObjects matching ---- */

static void matches_is_byte_exact(void **state)
{
	struct p11_object o;
	struct tb t;
	(void)state;
	make_key(&o, 32);
	memset(&t, 0, sizeof(t));
	assert_true(p11_object_matches(&o, t.a, 0));
	tb_ulong(&t, CKA_CLASS, CKO_SECRET_KEY);
	tb_str(&t, CKA_LABEL, "k1");
	assert_true(p11_object_matches(&o, t.a, t.n));
	tb_remove(&t, CKA_LABEL);
	tb_str(&t, CKA_LABEL, "k");
	assert_false(p11_object_matches(&o, t.a, t.n));
	tb_remove(&t, CKA_LABEL);
	tb_str(&t, CKA_LABEL, "k1 ");
	assert_false(p11_object_matches(&o, t.a, t.n));
	tb_remove(&t, CKA_LABEL);
	tb_ulong(&t, CKA_KEY_TYPE, CKK_AES);
	tb_bool(&t, CKA_ENCRYPT, CK_TRUE);
	assert_true(p11_object_matches(&o, t.a, t.n));
	p11_object_free(&o);
}

static void matches_unknown_type_or_key_value_matches_nothing(void **state)
{
	struct p11_object o;
	struct tb t;
	unsigned char zero[32] = { 0 };
	(void)state;
	make_key(&o, 32);
	memset(&t, 0, sizeof(t));
	tb_bool(&t, CKA_VENDOR_DEFINED, CK_TRUE);
	assert_false(p11_object_matches(&o, t.a, t.n));
	memset(&t, 0, sizeof(t));
	tb_raw(&t, CKA_VALUE, zero, sizeof(zero));
	assert_false(p11_object_matches(&o, t.a, t.n));
	memset(&t, 0, sizeof(t));
	tb_raw(&t, CKA_LABEL, NULL, 2);
	assert_false(p11_object_matches(&o, t.a, t.n));
	p11_object_free(&o);
}

static void matches_empty_attribute_against_absent_optional(void **state)
{
	struct p11_object o;
	struct tb t;
	(void)state;
	tb_cert(&t);
	make_from_template(&o, &t);
	memset(&t, 0, sizeof(t));
	tb_raw(&t, CKA_ISSUER, NULL, 0);
	tb_ulong(&t, CKA_CLASS, CKO_CERTIFICATE);
	assert_true(p11_object_matches(&o, t.a, t.n));
	p11_object_free(&o);
}

static void find_template_copy_outlives_the_callers_template(void **state)
{
	struct p11_object o;
	struct p11_find_template f;
	struct tb t;
	(void)state;
	make_key(&o, 32);
	memset(&t, 0, sizeof(t));
	tb_str(&t, CKA_LABEL, "k1");
	assert_int_equal(p11_find_template_init(&f, t.a, t.n), CKR_OK);
	memset(&t, 0, sizeof(t));
	assert_true(p11_find_template_matches(&f, &o));
	p11_find_template_free(&f);
	p11_find_template_free(&f);
	p11_object_free(&o);
}

static void find_template_bounds_and_refusals(void **state)
{
	struct p11_object o;
	struct p11_find_template f;
	CK_ATTRIBUTE *many = calloc(P11_FIND_TEMPLATE_MAX + 1, sizeof(*many));
	unsigned char *big = calloc(1, WSOP_OBJECT_VALUE_MAX + 1);
	CK_ATTRIBUTE huge = { CKA_VALUE, big, WSOP_OBJECT_VALUE_MAX + 1 };
	CK_ATTRIBUTE bad = { CKA_LABEL, NULL, 3 };
	(void)state;
	assert_non_null(many);
	assert_non_null(big);
	make_key(&o, 16);
	for (size_t i = 0; i <= P11_FIND_TEMPLATE_MAX; i++)
		many[i].type = CKA_ID;
	assert_int_equal(p11_find_template_init(&f, many, P11_FIND_TEMPLATE_MAX + 1),
	                 CKR_ARGUMENTS_BAD);
	assert_int_equal(p11_find_template_init(&f, &bad, 1), CKR_ATTRIBUTE_VALUE_INVALID);
	assert_int_equal(p11_find_template_init(&f, &huge, 1), CKR_OK);
	assert_false(p11_find_template_matches(&f, &o));
	p11_find_template_free(&f);
	assert_int_equal(p11_find_template_init(&f, NULL, 0), CKR_OK);
	assert_true(p11_find_template_matches(&f, &o));
	p11_find_template_free(&f);
	free(many);
	free(big);
	p11_object_free(&o);
}

/* Requests the policy accepts are requests the server's decoder accepts. */
static void accepted_templates_encode_to_bodies_the_server_decodes(void **state)
{
	CK_MECHANISM m = { CKM_AES_KEY_GEN, NULL, 0 };
	struct tb d, c, k;
	struct wsop_object_create_req req, back;
	struct wsop_key_generate_req kreq, kback;
	char *body;
	size_t len;
	(void)state;
	tb_data(&d);
	tb_cert(&c);
	tb_str(&c, CKA_END_DATE, "20270101");
	tb_raw(&c, CKA_ID, NULL, 0);
	tb_key(&k);
	tb_bytes(&k, CKA_ID, "\x01", 1);
	const struct tb *objs[] = { &d, &c };
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(p11_template_create_request(objs[i]->a, objs[i]->n, &req), CKR_OK);
		assert_int_equal(wsop_json_encode_object_create_req(&req, &body, &len), 0);
		assert_int_equal(wsop_json_decode_object_create_req(body, len, &back, NULL), 0);
		assert_int_equal(back.cls, req.cls);
		assert_int_equal(back.attributes.value.len, req.attributes.value.len);
		wsop_object_create_req_free(&back);
		wsop_object_create_req_free(&req);
		free(body);
	}
	assert_int_equal(p11_template_generate_request(&m, k.a, k.n, &kreq), CKR_OK);
	assert_int_equal(wsop_json_encode_key_generate_req(&kreq, &body, &len), 0);
	assert_int_equal(wsop_json_decode_key_generate_req(body, len, &kback, NULL), 0);
	assert_int_equal(kback.size, 256);
	assert_string_equal(kback.attributes.label, "k1");
	wsop_key_generate_req_free(&kback);
	wsop_key_generate_req_free(&kreq);
	free(body);
}

/* A data object as a listing page gives it: "hello" left out. */
static void make_listed_data(struct p11_object *o)
{
	struct tb t;
	tb_data(&t);
	make_from_template(o, &t);
	wsop_bytes_free(&o->object.attributes.value);
	o->object.attributes.value_present = false;
	o->object.value_omitted = true;
	o->object.value_len = 5;
}

static void listed_value_length_needs_no_fetch_and_copy_does(void **state)
{
	struct p11_object o;
	char buf[8];
	(void)state;
	make_listed_data(&o);
	CK_ATTRIBUTE len_only = { CKA_VALUE, NULL, 0 };
	assert_false(p11_object_value_needed(&o, &len_only, 1));
	assert_int_equal(p11_object_get_attributes(&o, &len_only, 1), CKR_OK);
	assert_int_equal(len_only.ulValueLen, 5);
	/* A short buffer is known too small without the bytes. */
	CK_ATTRIBUTE small = { CKA_VALUE, buf, 4 };
	assert_false(p11_object_value_needed(&o, &small, 1));
	assert_int_equal(p11_object_get_attributes(&o, &small, 1), CKR_BUFFER_TOO_SMALL);
	/* A copy needs the value; without it the answer is no guess. */
	CK_ATTRIBUTE copy = { CKA_VALUE, buf, sizeof(buf) };
	assert_true(p11_object_value_needed(&o, &copy, 1));
	assert_int_equal(p11_object_get_attributes(&o, &copy, 1), CKR_GENERAL_ERROR);
	assert_int_equal(copy.ulValueLen, CK_UNAVAILABLE_INFORMATION);
	/* Other attributes are all there. */
	assert_bytes(&o, CKA_LABEL, "notes", 5);
	/* A copy keeps the state. */
	struct p11_object dup;
	assert_int_equal(p11_object_copy(&dup, &o), CKR_OK);
	assert_true(dup.object.value_omitted);
	assert_int_equal(dup.object.value_len, 5);
	p11_object_free(&dup);
	p11_object_free(&o);
}

static void listed_value_is_matched_by_length_then_needs_the_bytes(void **state)
{
	struct p11_object o;
	(void)state;
	make_listed_data(&o);
	CK_ATTRIBUTE same_len[] = { { CKA_LABEL, "notes", 5 }, { CKA_VALUE, "hellx", 5 } };
	CK_ATTRIBUTE other_len[] = { { CKA_VALUE, "hello!", 6 } };
	CK_ATTRIBUTE other_label[] = { { CKA_LABEL, "other", 5 }, { CKA_VALUE, "hello", 5 } };
	assert_int_equal(p11_object_match(&o, same_len, 2), P11_MATCH_NEEDS_VALUE);
	assert_false(p11_object_matches(&o, same_len, 2));
	assert_int_equal(p11_object_match(&o, other_len, 1), P11_MATCH_NO);
	assert_int_equal(p11_object_match(&o, other_label, 2), P11_MATCH_NO);
	assert_int_equal(p11_object_match(&o, same_len, 1), P11_MATCH_YES);
	p11_object_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(null_pvalue_reports_the_length),
		cmocka_unit_test(short_buffer_marks_only_that_attribute),
		cmocka_unit_test(get_value_of_secret_key_is_attribute_sensitive),
		cmocka_unit_test(unknown_type_is_attribute_type_invalid_and_others_still_filled),
		cmocka_unit_test(several_errors_sensitive_then_type_invalid_then_buffer_too_small),
		cmocka_unit_test(get_attributes_null_arguments_are_arguments_bad),
		cmocka_unit_test(secret_key_reports_the_generated_key),
		cmocka_unit_test(data_object_round_trip_reports_its_attributes),
		cmocka_unit_test(data_object_without_optionals_reports_empty_values),
		cmocka_unit_test(certificate_round_trip_reports_its_attributes),
		cmocka_unit_test(server_answer_that_is_no_object_is_device_error),
		cmocka_unit_test(object_copy_is_deep),
		cmocka_unit_test(matches_is_byte_exact),
		cmocka_unit_test(matches_unknown_type_or_key_value_matches_nothing),
		cmocka_unit_test(matches_empty_attribute_against_absent_optional),
		cmocka_unit_test(find_template_copy_outlives_the_callers_template),
		cmocka_unit_test(find_template_bounds_and_refusals),
		cmocka_unit_test(accepted_templates_encode_to_bodies_the_server_decodes),
		cmocka_unit_test(listed_value_length_needs_no_fetch_and_copy_does),
		cmocka_unit_test(listed_value_is_matched_by_length_then_needs_the_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
