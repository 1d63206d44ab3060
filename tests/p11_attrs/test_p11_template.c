/* The template policy of lib/p11_template.h, one test per rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/p11_template.h"
#include "tmpl_builder.h"

static CK_MECHANISM aes_gen = { CKM_AES_KEY_GEN, NULL, 0 };

static CK_RV create(const struct tb *t)
{
	return p11_template_check_create(t->a, t->n);
}

static CK_RV generate(const struct tb *t)
{
	return p11_template_check_generate(&aes_gen, t->a, t->n);
}

/* ---- valid templates ---- */

static void create_data_full_template_is_ok(void **state)
{
	struct tb t;
	(void)state;
	tb_data(&t);
	assert_int_equal(create(&t), CKR_OK);
}

static void create_data_minimal_template_is_ok(void **state)
{
	struct tb t;
	(void)state;
	memset(&t, 0, sizeof(t));
	tb_ulong(&t, CKA_CLASS, CKO_DATA);
	tb_common(&t);
	assert_int_equal(create(&t), CKR_OK);
}

static void create_certificate_with_every_optional_is_ok(void **state)
{
	struct tb t;
	(void)state;
	tb_cert(&t);
	tb_bytes(&t, CKA_ISSUER, "\x30\x00", 2);
	tb_bytes(&t, CKA_SERIAL_NUMBER, "\x02\x01\x05", 3);
	tb_str(&t, CKA_START_DATE, "20260101");
	tb_str(&t, CKA_END_DATE, "20270228");
	tb_bytes(&t, CKA_ID, "\x01\x02", 2);
	tb_str(&t, CKA_LABEL, "cert");
	assert_int_equal(create(&t), CKR_OK);
}

static void must_lists_with_allowed_values_are_ok(void **state)
{
	static const CK_ATTRIBUTE_TYPE must_false[] = { CKA_DERIVE,           CKA_EXTRACTABLE,
		                                        CKA_COPYABLE,         CKA_TRUSTED,
		                                        CKA_UNWRAP,           CKA_WRAP,
		                                        CKA_WRAP_WITH_TRUSTED };
	static const CK_ATTRIBUTE_TYPE must_true[] = { CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE,
		                                       CKA_LOCAL, CKA_SENSITIVE };
	struct tb d, c, k;
	(void)state;
	tb_data(&d);
	tb_cert(&c);
	tb_key(&k);
	for (size_t i = 0; i < sizeof(must_false) / sizeof(must_false[0]); i++) {
		tb_bool(&d, must_false[i], CK_FALSE);
		tb_bool(&c, must_false[i], CK_FALSE);
		tb_bool(&k, must_false[i], CK_FALSE);
	}
	for (size_t i = 0; i < sizeof(must_true) / sizeof(must_true[0]); i++) {
		tb_bool(&d, must_true[i], CK_TRUE);
		tb_bool(&c, must_true[i], CK_TRUE);
		tb_bool(&k, must_true[i], CK_TRUE);
	}
	assert_int_equal(create(&d), CKR_OK);
	assert_int_equal(create(&c), CKR_OK);
	assert_int_equal(generate(&k), CKR_OK);
}

static void keygen_full_template_is_ok(void **state)
{
	struct tb t;
	(void)state;
	tb_key(&t);
	tb_bytes(&t, CKA_ID, "\xaa", 1);
	tb_bool(&t, CKA_SIGN, CK_FALSE);
	tb_bool(&t, CKA_VERIFY, CK_FALSE);
	assert_int_equal(generate(&t), CKR_OK);
}

static void keygen_value_len_16_24_32_are_ok(void **state)
{
	static const CK_ULONG ok[] = { 16, 24, 32 };
	(void)state;
	for (size_t i = 0; i < 3; i++) {
		struct tb t;
		tb_key(&t);
		tb_remove(&t, CKA_VALUE_LEN);
		tb_ulong(&t, CKA_VALUE_LEN, ok[i]);
		assert_int_equal(generate(&t), CKR_OK);
	}
}

static void keygen_without_class_and_key_type_is_ok(void **state)
{
	struct tb t;
	(void)state;
	tb_key(&t);
	tb_remove(&t, CKA_CLASS);
	tb_remove(&t, CKA_KEY_TYPE);
	assert_int_equal(generate(&t), CKR_OK);
}

static void keygen_encrypt_false_is_ok(void **state)
{
	struct tb t;
	(void)state;
	tb_key(&t);
	tb_remove(&t, CKA_ENCRYPT);
	tb_bool(&t, CKA_ENCRYPT, CK_FALSE);
	assert_int_equal(generate(&t), CKR_OK);
}

/* ---- missing required: CKR_TEMPLATE_INCOMPLETE ---- */

static void create_data_without_token_is_template_incomplete(void **state)
{
	struct tb t;
	(void)state;
	tb_data(&t);
	tb_remove(&t, CKA_TOKEN);
	assert_int_equal(create(&t), CKR_TEMPLATE_INCOMPLETE);
}

static void create_data_without_private_is_template_incomplete(void **state)
{
	struct tb t;
	(void)state;
	tb_data(&t);
	tb_remove(&t, CKA_PRIVATE);
	assert_int_equal(create(&t), CKR_TEMPLATE_INCOMPLETE);
}

static void create_without_class_is_template_incomplete(void **state)
{
	struct tb t;
	(void)state;
	tb_data(&t);
	tb_remove(&t, CKA_CLASS);
	assert_int_equal(create(&t), CKR_TEMPLATE_INCOMPLETE);
}

static void create_empty_template_is_template_incomplete(void **state)
{
	(void)state;
	assert_int_equal(p11_template_check_create(NULL, 0), CKR_TEMPLATE_INCOMPLETE);
}

static void create_certificate_without_value_subject_or_type_is_template_incomplete(void **state)
{
	static const CK_ATTRIBUTE_TYPE required[] = { CKA_VALUE, CKA_SUBJECT, CKA_CERTIFICATE_TYPE,
		                                      CKA_TOKEN, CKA_PRIVATE };
	(void)state;
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		struct tb t;
		tb_cert(&t);
		tb_remove(&t, required[i]);
		assert_int_equal(create(&t), CKR_TEMPLATE_INCOMPLETE);
	}
}

static void keygen_without_value_len_label_encrypt_or_decrypt_is_template_incomplete(void **state)
{
	static const CK_ATTRIBUTE_TYPE required[] = { CKA_VALUE_LEN, CKA_LABEL, CKA_ENCRYPT,
		                                      CKA_DECRYPT,   CKA_TOKEN, CKA_PRIVATE };
	(void)state;
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		struct tb t;
		tb_key(&t);
		tb_remove(&t, required[i]);
		assert_int_equal(generate(&t), CKR_TEMPLATE_INCOMPLETE);
	}
}

/* ---- wrong values: CKR_ATTRIBUTE_VALUE_INVALID ---- */

static void token_or_private_false_is_attribute_value_invalid(void **state)
{
	static const CK_ATTRIBUTE_TYPE both[] = { CKA_TOKEN, CKA_PRIVATE };
	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct tb d, c, k;
		tb_data(&d);
		tb_cert(&c);
		tb_key(&k);
		tb_remove(&d, both[i]);
		tb_remove(&c, both[i]);
		tb_remove(&k, both[i]);
		tb_bool(&d, both[i], CK_FALSE);
		tb_bool(&c, both[i], CK_FALSE);
		tb_bool(&k, both[i], CK_FALSE);
		assert_int_equal(create(&d), CKR_ATTRIBUTE_VALUE_INVALID);
		assert_int_equal(create(&c), CKR_ATTRIBUTE_VALUE_INVALID);
		assert_int_equal(generate(&k), CKR_ATTRIBUTE_VALUE_INVALID);
	}
}

static void must_be_false_list_true_is_attribute_value_invalid(void **state)
{
	static const CK_ATTRIBUTE_TYPE must_false[] = { CKA_DERIVE,           CKA_EXTRACTABLE,
		                                        CKA_COPYABLE,         CKA_TRUSTED,
		                                        CKA_UNWRAP,           CKA_WRAP,
		                                        CKA_WRAP_WITH_TRUSTED };
	(void)state;
	for (size_t i = 0; i < sizeof(must_false) / sizeof(must_false[0]); i++) {
		struct tb d, k;
		tb_data(&d);
		tb_key(&k);
		tb_bool(&d, must_false[i], CK_TRUE);
		tb_bool(&k, must_false[i], CK_TRUE);
		assert_int_equal(create(&d), CKR_ATTRIBUTE_VALUE_INVALID);
		assert_int_equal(generate(&k), CKR_ATTRIBUTE_VALUE_INVALID);
	}
}

static void must_be_true_list_false_is_attribute_value_invalid(void **state)
{
	static const CK_ATTRIBUTE_TYPE must_true[] = { CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE,
		                                       CKA_LOCAL, CKA_SENSITIVE };
	(void)state;
	for (size_t i = 0; i < sizeof(must_true) / sizeof(must_true[0]); i++) {
		struct tb c, k;
		tb_cert(&c);
		tb_key(&k);
		tb_bool(&c, must_true[i], CK_FALSE);
		tb_bool(&k, must_true[i], CK_FALSE);
		assert_int_equal(create(&c), CKR_ATTRIBUTE_VALUE_INVALID);
		assert_int_equal(generate(&k), CKR_ATTRIBUTE_VALUE_INVALID);
	}
}

static void keygen_sign_or_verify_true_is_attribute_value_invalid(void **state)
{
	static const CK_ATTRIBUTE_TYPE uses[] = { CKA_SIGN, CKA_VERIFY, CKA_WRAP, CKA_UNWRAP };
	(void)state;
	for (size_t i = 0; i < 4; i++) {
		struct tb t;
		tb_key(&t);
		tb_bool(&t, uses[i], CK_TRUE);
		assert_int_equal(generate(&t), CKR_ATTRIBUTE_VALUE_INVALID);
	}
}

static void create_key_classes_are_attribute_value_invalid(void **state)
{
	static const CK_ULONG classes[] = { CKO_SECRET_KEY, CKO_PUBLIC_KEY, CKO_PRIVATE_KEY };
	(void)state;
	for (size_t i = 0; i < 3; i++) {
		struct tb t;
		tb_key(&t);
		tb_remove(&t, CKA_CLASS);
		tb_ulong(&t, CKA_CLASS, classes[i]);
		tb_str(&t, CKA_VALUE, "0123456789abcdef");
		assert_int_equal(create(&t), CKR_ATTRIBUTE_VALUE_INVALID);
	}
}

static void create_other_class_is_attribute_value_invalid(void **state)
{
	static const CK_ULONG classes[] = { CKO_HW_FEATURE, CKO_DOMAIN_PARAMETERS, CKO_MECHANISM,
		                            CKO_OTP_KEY,    CKO_VENDOR_DEFINED,    0x4242 };
	(void)state;
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		struct tb t;
		memset(&t, 0, sizeof(t));
		tb_ulong(&t, CKA_CLASS, classes[i]);
		tb_common(&t);
		assert_int_equal(create(&t), CKR_ATTRIBUTE_VALUE_INVALID);
	}
}

static void create_certificate_type_not_x509_is_attribute_value_invalid(void **state)
{
	static const CK_ULONG types[] = { CKC_WTLS, CKC_X_509_ATTR_CERT, 77 };
	(void)state;
	for (size_t i = 0; i < 3; i++) {
		struct tb t;
		tb_cert(&t);
		tb_remove(&t, CKA_CERTIFICATE_TYPE);
		tb_ulong(&t, CKA_CERTIFICATE_TYPE, types[i]);
		assert_int_equal(create(&t), CKR_ATTRIBUTE_VALUE_INVALID);
	}
}

static void bool_of_wrong_length_is_attribute_value_invalid(void **state)
{
	struct tb t;
	CK_ULONG wide = CK_TRUE;
	(void)state;
	tb_data(&t);
	tb_remove(&t, CKA_TOKEN);
	tb_raw(&t, CKA_TOKEN, &wide, sizeof(wide));
	assert_int_equal(create(&t), CKR_ATTRIBUTE_VALUE_INVALID);
}

static void bool_other_than_0_or_1_is_attribute_value_invalid(void **state)
{
	struct tb t;
	(void)state;
	tb_data(&t);
	tb_remove(&t, CKA_PRIVATE);
	tb_bool(&t, CKA_PRIVATE, 2);
	assert_int_equal(create(&t), CKR_ATTRIBUTE_VALUE_INVALID);
}

static void ulong_of_wrong_length_is_attribute_value_invalid(void **state)
{
	struct tb t;
	CK_BYTE small = 16;
	(void)state;
	tb_key(&t);
	tb_remove(&t, CKA_VALUE_LEN);
	tb_raw(&t, CKA_VALUE_LEN, &small, 1);
	assert_int_equal(generate(&t), CKR_ATTRIBUTE_VALUE_INVALID);
}

static void null_pvalue_with_length_is_attribute_value_invalid(void **state)
{
	struct tb t;
	(void)state;
	tb_data(&t);
	tb_raw(&t, CKA_VALUE, NULL, 0); /* fine: an empty value */
	tb_remove(&t, CKA_VALUE);
	tb_raw(&t, CKA_VALUE, NULL, 0);
	assert_int_equal(create(&t), CKR_OK);
	tb_remove(&t, CKA_VALUE);
	tb_raw(&t, CKA_VALUE, NULL, 4);
	assert_int_equal(create(&t), CKR_ATTRIBUTE_VALUE_INVALID);
}

static void value_over_its_limit_is_attribute_value_invalid(void **state)
{
	static const struct {
		CK_ATTRIBUTE_TYPE type;
		size_t max;
		int cert;
	} limits[] = {
		{ CKA_LABEL, 256, 0 },         { CKA_APPLICATION, 256, 0 },
		{ CKA_OBJECT_ID, 256, 0 },     { CKA_VALUE, 65536, 0 },
		{ CKA_SUBJECT, 4096, 1 },      { CKA_ISSUER, 4096, 1 },
		{ CKA_SERIAL_NUMBER, 256, 1 }, { CKA_ID, 256, 1 },
	};
	unsigned char *big = malloc(65537);
	(void)state;
	assert_non_null(big);
	memset(big, 'a', 65537);
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		struct tb t;
		if (limits[i].cert)
			tb_cert(&t);
		else
			tb_data(&t);
		tb_remove(&t, limits[i].type);
		tb_raw(&t, limits[i].type, big, (CK_ULONG)limits[i].max);
		assert_int_equal(create(&t), CKR_OK);
		tb_remove(&t, limits[i].type);
		tb_raw(&t, limits[i].type, big, (CK_ULONG)limits[i].max + 1);
		assert_int_equal(create(&t), CKR_ATTRIBUTE_VALUE_INVALID);
	}
	free(big);
}

static void label_not_utf8_is_attribute_value_invalid(void **state)
{
	struct tb t;
	(void)state;
	tb_data(&t);
	tb_remove(&t, CKA_LABEL);
	tb_bytes(&t, CKA_LABEL, "a\xff", 2);
	assert_int_equal(create(&t), CKR_ATTRIBUTE_VALUE_INVALID);
	tb_remove(&t, CKA_LABEL);
	tb_bytes(&t, CKA_LABEL, "a\0b", 3);
	assert_int_equal(create(&t), CKR_ATTRIBUTE_VALUE_INVALID);
	tb_remove(&t, CKA_LABEL);
	tb_str(&t, CKA_LABEL, "caf\xc3\xa9");
	assert_int_equal(create(&t), CKR_OK);
}

static void date_must_be_empty_or_a_real_yyyymmdd(void **state)
{
	static const char *bad[] = { "20260230", "2026010",  "2026-1-1",
		                     "20261301", "abcdefgh", "202601011" };
	struct tb t;
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tb_cert(&t);
		tb_str(&t, CKA_START_DATE, bad[i]);
		assert_int_equal(create(&t), CKR_ATTRIBUTE_VALUE_INVALID);
	}
	tb_cert(&t);
	tb_str(&t, CKA_END_DATE, "20240229");
	tb_raw(&t, CKA_START_DATE, NULL, 0);
	assert_int_equal(create(&t), CKR_OK);
}

/* ---- key sizes and mechanisms ---- */

static void keygen_value_len_20_is_key_size_range(void **state)
{
	static const CK_ULONG bad[] = { 0, 8, 20, 31, 33, 64, 256 };
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct tb t;
		tb_key(&t);
		tb_remove(&t, CKA_VALUE_LEN);
		tb_ulong(&t, CKA_VALUE_LEN, bad[i]);
		assert_int_equal(generate(&t), CKR_KEY_SIZE_RANGE);
	}
}

static void keygen_other_mechanism_is_mechanism_invalid(void **state)
{
	CK_MECHANISM des = { CKM_DES3_KEY_GEN, NULL, 0 };
	struct tb t;
	(void)state;
	tb_key(&t);
	assert_int_equal(p11_template_check_generate(&des, t.a, t.n), CKR_MECHANISM_INVALID);
}

static void keygen_mechanism_with_parameter_is_mechanism_param_invalid(void **state)
{
	CK_ULONG p = 1;
	CK_MECHANISM m = { CKM_AES_KEY_GEN, &p, sizeof(p) };
	struct tb t;
	(void)state;
	tb_key(&t);
	assert_int_equal(p11_template_check_generate(&m, t.a, t.n), CKR_MECHANISM_PARAM_INVALID);
}

static void null_arguments_are_arguments_bad(void **state)
{
	struct tb t;
	(void)state;
	tb_key(&t);
	assert_int_equal(p11_template_check_generate(NULL, t.a, t.n), CKR_ARGUMENTS_BAD);
	assert_int_equal(p11_template_check_generate(&aes_gen, NULL, 3), CKR_ARGUMENTS_BAD);
	assert_int_equal(p11_template_check_create(NULL, 2), CKR_ARGUMENTS_BAD);
	assert_int_equal(p11_template_check_find(NULL, 1), CKR_ARGUMENTS_BAD);
	assert_int_equal(p11_template_check_find(NULL, 0), CKR_OK);
}

/* ---- types and contradictions ---- */

static void attribute_outside_the_tables_is_attribute_type_invalid(void **state)
{
	static const CK_ATTRIBUTE_TYPE unsupported[] = { CKA_MODIFIABLE,         CKA_URL,
		                                         CKA_CHECK_VALUE,        CKA_VENDOR_DEFINED,
		                                         CKA_ALLOWED_MECHANISMS, CKA_MODULUS };
	(void)state;
	for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++) {
		struct tb d, k;
		tb_data(&d);
		tb_key(&k);
		tb_bool(&d, unsupported[i], CK_FALSE);
		tb_bool(&k, unsupported[i], CK_FALSE);
		assert_int_equal(create(&d), CKR_ATTRIBUTE_TYPE_INVALID);
		assert_int_equal(generate(&k), CKR_ATTRIBUTE_TYPE_INVALID);
	}
}

static void attribute_of_another_class_is_template_inconsistent(void **state)
{
	struct tb t;
	(void)state;
	tb_cert(&t);
	tb_str(&t, CKA_APPLICATION, "app");
	assert_int_equal(create(&t), CKR_TEMPLATE_INCONSISTENT);
	tb_data(&t);
	tb_bytes(&t, CKA_ID, "\x01", 1);
	assert_int_equal(create(&t), CKR_TEMPLATE_INCONSISTENT);
	tb_data(&t);
	tb_ulong(&t, CKA_VALUE_LEN, 16);
	assert_int_equal(create(&t), CKR_TEMPLATE_INCONSISTENT);
	tb_key(&t);
	tb_str(&t, CKA_VALUE, "0123456789abcdef");
	assert_int_equal(generate(&t), CKR_TEMPLATE_INCONSISTENT);
}

static void keygen_class_or_key_type_against_mechanism_is_template_inconsistent(void **state)
{
	struct tb t;
	(void)state;
	tb_key(&t);
	tb_remove(&t, CKA_CLASS);
	tb_ulong(&t, CKA_CLASS, CKO_DATA);
	assert_int_equal(generate(&t), CKR_TEMPLATE_INCONSISTENT);
	tb_key(&t);
	tb_remove(&t, CKA_KEY_TYPE);
	tb_ulong(&t, CKA_KEY_TYPE, CKK_DES3);
	assert_int_equal(generate(&t), CKR_TEMPLATE_INCONSISTENT);
}

static void duplicate_with_different_values_is_template_inconsistent(void **state)
{
	struct tb t;
	(void)state;
	tb_data(&t);
	tb_str(&t, CKA_LABEL, "notes");
	assert_int_equal(create(&t), CKR_OK);
	tb_str(&t, CKA_LABEL, "other");
	assert_int_equal(create(&t), CKR_TEMPLATE_INCONSISTENT);
	tb_key(&t);
	tb_ulong(&t, CKA_VALUE_LEN, 16);
	assert_int_equal(generate(&t), CKR_TEMPLATE_INCONSISTENT);
}

/* ---- check order ---- */

static void order_types_and_shapes_first_fault_in_template_order_wins(void **state)
{
	struct tb t;
	(void)state;
	tb_data(&t);
	tb_remove(&t, CKA_TOKEN);
	tb_bool(&t, CKA_TOKEN, 7);
	tb_bool(&t, CKA_URL, CK_TRUE);
	assert_int_equal(create(&t), CKR_ATTRIBUTE_VALUE_INVALID);
	tb_data(&t);
	tb_remove(&t, CKA_TOKEN);
	tb_bool(&t, CKA_URL, CK_TRUE);
	tb_bool(&t, CKA_TOKEN, 7);
	assert_int_equal(create(&t), CKR_ATTRIBUTE_TYPE_INVALID);
}

static void order_shape_wins_over_duplicates_and_class(void **state)
{
	struct tb t;
	(void)state;
	tb_data(&t);
	tb_remove(&t, CKA_CLASS);
	tb_ulong(&t, CKA_CLASS, CKO_SECRET_KEY);
	tb_str(&t, CKA_LABEL, "different");
	tb_raw(&t, CKA_VALUE, NULL, 3);
	assert_int_equal(create(&t), CKR_ATTRIBUTE_VALUE_INVALID);
	tb_remove(&t, CKA_VALUE);
	/* duplicates before the class */
	assert_int_equal(create(&t), CKR_TEMPLATE_INCONSISTENT);
}

static void order_class_wins_over_table(void **state)
{
	struct tb t;
	(void)state;
	tb_key(&t); /* key attributes, refused by class before CKA_KEY_TYPE */
	assert_int_equal(create(&t), CKR_ATTRIBUTE_VALUE_INVALID);
}

static void order_value_rules_win_over_missing(void **state)
{
	struct tb t;
	(void)state;
	tb_key(&t);
	tb_remove(&t, CKA_LABEL);
	tb_remove(&t, CKA_VALUE_LEN);
	tb_ulong(&t, CKA_VALUE_LEN, 20);
	assert_int_equal(generate(&t), CKR_KEY_SIZE_RANGE);
	tb_remove(&t, CKA_VALUE_LEN);
	assert_int_equal(generate(&t), CKR_TEMPLATE_INCOMPLETE);
}

static void order_first_value_fault_in_template_order_wins(void **state)
{
	struct tb t;
	(void)state;
	tb_key(&t);
	tb_remove(&t, CKA_VALUE_LEN);
	tb_bool(&t, CKA_SIGN, CK_TRUE);
	tb_ulong(&t, CKA_VALUE_LEN, 20);
	assert_int_equal(generate(&t), CKR_ATTRIBUTE_VALUE_INVALID);
	tb_key(&t);
	tb_remove(&t, CKA_VALUE_LEN);
	tb_ulong(&t, CKA_VALUE_LEN, 20);
	tb_bool(&t, CKA_SIGN, CK_TRUE);
	assert_int_equal(generate(&t), CKR_KEY_SIZE_RANGE);
}

/* ---- find ---- */

static void find_template_accepts_unknown_types(void **state)
{
	struct tb t;
	(void)state;
	memset(&t, 0, sizeof(t));
	tb_bool(&t, CKA_VENDOR_DEFINED | 7, CK_TRUE);
	tb_ulong(&t, CKA_CLASS, CKO_PUBLIC_KEY);
	tb_raw(&t, CKA_LABEL, NULL, 0);
	assert_int_equal(p11_template_check_find(t.a, t.n), CKR_OK);
}

static void find_null_pvalue_with_length_is_attribute_value_invalid(void **state)
{
	struct tb t;
	(void)state;
	memset(&t, 0, sizeof(t));
	tb_raw(&t, CKA_LABEL, NULL, 5);
	assert_int_equal(p11_template_check_find(t.a, t.n), CKR_ATTRIBUTE_VALUE_INVALID);
}

/* ---- conversion ---- */

static void create_request_of_data_carries_every_attribute(void **state)
{
	struct tb t;
	struct wsop_object_create_req req;
	(void)state;
	tb_data(&t);
	assert_int_equal(p11_template_create_request(t.a, t.n, &req), CKR_OK);
	assert_int_equal(req.cls, WSOP_OBJECT_DATA);
	assert_true(req.attributes.label_present);
	assert_string_equal(req.attributes.label, "notes");
	assert_true(req.attributes.application_present);
	assert_string_equal(req.attributes.application, "app");
	assert_true(req.attributes.object_id_present);
	assert_int_equal(req.attributes.object_id.len, 5);
	assert_memory_equal(req.attributes.object_id.data, "\x06\x03\x2a\x03\x04", 5);
	assert_true(req.attributes.value_present);
	assert_memory_equal(req.attributes.value.data, "hello", 5);
	assert_false(req.attributes.id_present);
	assert_false(req.attributes.certificate_type_present);
	wsop_object_create_req_free(&req);
}

static void create_request_of_certificate_carries_every_attribute(void **state)
{
	struct tb t;
	struct wsop_object_create_req req;
	(void)state;
	tb_cert(&t);
	tb_str(&t, CKA_START_DATE, "20260101");
	tb_raw(&t, CKA_END_DATE, NULL, 0);
	tb_bytes(&t, CKA_SERIAL_NUMBER, "\x02\x01\x05", 3);
	tb_raw(&t, CKA_ID, NULL, 0);
	assert_int_equal(p11_template_create_request(t.a, t.n, &req), CKR_OK);
	assert_int_equal(req.cls, WSOP_OBJECT_CERTIFICATE);
	assert_true(req.attributes.certificate_type_present);
	assert_true(req.attributes.subject_present);
	assert_int_equal(req.attributes.subject.len, 3);
	assert_true(req.attributes.value_present);
	assert_false(req.attributes.issuer_present);
	assert_true(req.attributes.serial_number_present);
	assert_true(req.attributes.start_date_present);
	assert_string_equal(req.attributes.start_date, "20260101");
	assert_false(req.attributes.end_date_present); /* empty date: no date */
	assert_true(req.attributes.id_present);
	assert_int_equal(req.attributes.id.len, 0);
	assert_false(req.attributes.label_present);
	wsop_object_create_req_free(&req);
}

static void create_request_refused_leaves_nothing_to_free(void **state)
{
	struct tb t;
	struct wsop_object_create_req req;
	(void)state;
	tb_data(&t);
	tb_remove(&t, CKA_TOKEN);
	memset(&req, 0x5a, sizeof(req));
	assert_int_equal(p11_template_create_request(t.a, t.n, &req), CKR_TEMPLATE_INCOMPLETE);
	assert_null(req.attributes.value.data);
	assert_int_equal(req.cls, 0);
}

static void generate_request_has_size_in_bits_and_flags(void **state)
{
	struct tb t;
	struct wsop_key_generate_req req;
	(void)state;
	tb_key(&t);
	tb_remove(&t, CKA_VALUE_LEN);
	tb_ulong(&t, CKA_VALUE_LEN, 24);
	tb_remove(&t, CKA_DECRYPT);
	tb_bool(&t, CKA_DECRYPT, CK_FALSE);
	tb_bytes(&t, CKA_ID, "\x01\x02\x03", 3);
	assert_int_equal(p11_template_generate_request(&aes_gen, t.a, t.n, &req), CKR_OK);
	assert_int_equal(req.size, 192);
	assert_string_equal(req.attributes.label, "k1");
	assert_true(req.attributes.encrypt);
	assert_false(req.attributes.decrypt);
	assert_false(req.attributes.sign || req.attributes.verify || req.attributes.wrap ||
	             req.attributes.unwrap || req.attributes.derive);
	assert_true(req.attributes.id_present);
	assert_memory_equal(req.attributes.id.data, "\x01\x02\x03", 3);
	wsop_key_generate_req_free(&req);
}

static void generate_request_refused_returns_the_policy_ckr(void **state)
{
	struct tb t;
	struct wsop_key_generate_req req;
	(void)state;
	tb_key(&t);
	tb_remove(&t, CKA_VALUE_LEN);
	tb_ulong(&t, CKA_VALUE_LEN, 20);
	assert_int_equal(p11_template_generate_request(&aes_gen, t.a, t.n, &req),
	                 CKR_KEY_SIZE_RANGE);
	assert_null(req.attributes.id.data);
	assert_int_equal(p11_template_generate_request(&aes_gen, t.a, t.n, NULL),
	                 CKR_ARGUMENTS_BAD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(create_data_full_template_is_ok),
		cmocka_unit_test(create_data_minimal_template_is_ok),
		cmocka_unit_test(create_certificate_with_every_optional_is_ok),
		cmocka_unit_test(must_lists_with_allowed_values_are_ok),
		cmocka_unit_test(keygen_full_template_is_ok),
		cmocka_unit_test(keygen_value_len_16_24_32_are_ok),
		cmocka_unit_test(keygen_without_class_and_key_type_is_ok),
		cmocka_unit_test(keygen_encrypt_false_is_ok),
		cmocka_unit_test(create_data_without_token_is_template_incomplete),
		cmocka_unit_test(create_data_without_private_is_template_incomplete),
		cmocka_unit_test(create_without_class_is_template_incomplete),
		cmocka_unit_test(create_empty_template_is_template_incomplete),
		cmocka_unit_test(
		    create_certificate_without_value_subject_or_type_is_template_incomplete),
		cmocka_unit_test(
		    keygen_without_value_len_label_encrypt_or_decrypt_is_template_incomplete),
		cmocka_unit_test(token_or_private_false_is_attribute_value_invalid),
		cmocka_unit_test(must_be_false_list_true_is_attribute_value_invalid),
		cmocka_unit_test(must_be_true_list_false_is_attribute_value_invalid),
		cmocka_unit_test(keygen_sign_or_verify_true_is_attribute_value_invalid),
		cmocka_unit_test(create_key_classes_are_attribute_value_invalid),
		cmocka_unit_test(create_other_class_is_attribute_value_invalid),
		cmocka_unit_test(create_certificate_type_not_x509_is_attribute_value_invalid),
		cmocka_unit_test(bool_of_wrong_length_is_attribute_value_invalid),
		cmocka_unit_test(bool_other_than_0_or_1_is_attribute_value_invalid),
		cmocka_unit_test(ulong_of_wrong_length_is_attribute_value_invalid),
		cmocka_unit_test(null_pvalue_with_length_is_attribute_value_invalid),
		cmocka_unit_test(value_over_its_limit_is_attribute_value_invalid),
		cmocka_unit_test(label_not_utf8_is_attribute_value_invalid),
		cmocka_unit_test(date_must_be_empty_or_a_real_yyyymmdd),
		cmocka_unit_test(keygen_value_len_20_is_key_size_range),
		cmocka_unit_test(keygen_other_mechanism_is_mechanism_invalid),
		cmocka_unit_test(keygen_mechanism_with_parameter_is_mechanism_param_invalid),
		cmocka_unit_test(null_arguments_are_arguments_bad),
		cmocka_unit_test(attribute_outside_the_tables_is_attribute_type_invalid),
		cmocka_unit_test(attribute_of_another_class_is_template_inconsistent),
		cmocka_unit_test(
		    keygen_class_or_key_type_against_mechanism_is_template_inconsistent),
		cmocka_unit_test(duplicate_with_different_values_is_template_inconsistent),
		cmocka_unit_test(order_types_and_shapes_first_fault_in_template_order_wins),
		cmocka_unit_test(order_shape_wins_over_duplicates_and_class),
		cmocka_unit_test(order_class_wins_over_table),
		cmocka_unit_test(order_value_rules_win_over_missing),
		cmocka_unit_test(order_first_value_fault_in_template_order_wins),
		cmocka_unit_test(find_template_accepts_unknown_types),
		cmocka_unit_test(find_null_pvalue_with_length_is_attribute_value_invalid),
		cmocka_unit_test(create_request_of_data_carries_every_attribute),
		cmocka_unit_test(create_request_of_certificate_carries_every_attribute),
		cmocka_unit_test(create_request_refused_leaves_nothing_to_free),
		cmocka_unit_test(generate_request_has_size_in_bits_and_flags),
		cmocka_unit_test(generate_request_refused_returns_the_policy_ckr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
