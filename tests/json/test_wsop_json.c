/* The WSOP JSON schema codec: round trips and every documented refusal. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ipc/http.h"
#include "ipc/wsop_json.h"
#include "json_any.h"
#include "samples.h"

/* ---- helpers ------------------------------------------------------------ */

static void expect_recode(enum json_any_kind kind, const char *in, const char *canon)
{
	struct wsop_json_error err;
	char *out;
	size_t out_len;
	int rc = json_any_recode(kind, in, strlen(in), &out, &out_len, &err);
	if (rc != 0)
		print_error("%s: %d %s %s\n", json_any_names[kind], rc, err.code, err.message);
	assert_int_equal(rc, 0);
	assert_int_equal(out_len, strlen(out));
	assert_string_equal(out, canon);
	free(out);
}

static void expect_refusal_n(enum json_any_kind kind, const char *text, size_t len, int want_rc,
                             const char *want_code)
{
	struct wsop_json_error err;
	char *out;
	size_t out_len;
	memset(&err, 0x5a, sizeof(err));
	int rc = json_any_recode(kind, text, len, &out, &out_len, &err);
	if (rc != want_rc)
		print_error("%s: %.120s: got %d (%s: %s), want %d\n", json_any_names[kind], text,
		            rc, rc ? err.code : "-", rc ? err.message : "-", want_rc);
	assert_int_equal(rc, want_rc);
	assert_null(out);
	assert_string_equal(err.code, want_code);
	assert_true(strlen(err.message) > 0);
	enum wsop_error e;
	assert_true(wsop_error_lookup(err.code, &e));
	assert_int_equal(wsop_error_status(e), strcmp(want_code, "too_large") == 0  ? 413
	                                       : strcmp(want_code, "internal") == 0 ? 500
	                                                                            : 400);
}

static void expect_refusal(enum json_any_kind kind, const char *text, int want_rc,
                           const char *want_code)
{
	expect_refusal_n(kind, text, strlen(text), want_rc, want_code);
}

/* A malloc'd copy of fmt with "%s" replaced by n copies of c. */
static char *with_run(const char *fmt, char c, size_t n)
{
	const char *hole = strstr(fmt, "%s");
	assert_non_null(hole);
	size_t pre = (size_t)(hole - fmt), post = strlen(hole + 2);
	char *s = malloc(pre + n + post + 1);
	assert_non_null(s);
	memcpy(s, fmt, pre);
	memset(s + pre, c, n);
	memcpy(s + pre + n, hole + 2, post + 1);
	return s;
}

static void expect_run(enum json_any_kind kind, const char *fmt, char c, size_t n, int want_rc,
                       const char *want_code)
{
	char *s = with_run(fmt, c, n);
	if (want_rc == 0) {
		char *out;
		size_t out_len;
		struct wsop_json_error err;
		int rc = json_any_recode(kind, s, strlen(s), &out, &out_len, &err);
		if (rc)
			print_error("%s: %d %s %s\n", json_any_names[kind], rc, err.code,
			            err.message);
		assert_int_equal(rc, 0);
		free(out);
	} else {
		expect_refusal(kind, s, want_rc, want_code);
	}
	free(s);
}

/* ---- round trips --------------------------------------------------------- */

static void every_sample_body_decodes_and_re_encodes_identically(void **state)
{
	(void)state;
	expect_recode(JA_HEALTH, S_HEALTH, S_HEALTH);
	expect_recode(JA_ERROR, S_ERROR, S_ERROR);
	expect_recode(JA_SOFTCARD, S_SOFTCARD, S_SOFTCARD);
	expect_recode(JA_SOFTCARD_CREATE_REQ, S_SOFTCARD_CREATE, S_SOFTCARD_CREATE);
	expect_recode(JA_ACTIVATE_REQ, S_ACTIVATE, S_ACTIVATE);
	expect_recode(JA_SOFTCARD_LIST, S_SOFTCARD_LIST, S_SOFTCARD_LIST);
	expect_recode(JA_SOFTCARD_LIST, "{\"protectiondomains\":[]}", "{\"protectiondomains\":[]}");
	expect_recode(JA_GROUP, S_GROUP, S_GROUP);
	expect_recode(JA_GROUP_CREATE_REQ, S_GROUP_CREATE, S_GROUP_CREATE);
	expect_recode(JA_GROUP_LIST, S_GROUP_LIST, S_GROUP_LIST);
	expect_recode(JA_KEY_GENERATE_REQ, S_KEY_GEN, S_KEY_GEN_CANON);
	expect_recode(JA_KEY, S_KEY, S_KEY);
	expect_recode(JA_KEY_LIST, S_KEY_LIST, S_KEY_LIST);
	expect_recode(JA_OBJECT_CREATE_REQ, S_OBJECT_CREATE_DATA, S_OBJECT_CREATE_DATA);
	expect_recode(JA_OBJECT_CREATE_REQ, S_OBJECT_CREATE_CERT, S_OBJECT_CREATE_CERT);
	expect_recode(JA_OBJECT, S_OBJECT_DATA, S_OBJECT_DATA);
	expect_recode(JA_OBJECT, S_OBJECT_CERT, S_OBJECT_CERT);
	expect_recode(JA_OBJECT_LIST, S_OBJECT_LIST, S_OBJECT_LIST);
	expect_recode(JA_CRYPTO_REQ, S_CRYPTO_REQ, S_CRYPTO_REQ);
	expect_recode(JA_CRYPTO_ANSWER, S_CRYPTO_ANSWER, S_CRYPTO_ANSWER);
	expect_recode(JA_CRYPTO_ANSWER, "{\"data\":\"\"}", "{\"data\":\"\"}");
}

static void whitespace_and_member_order_do_not_matter(void **state)
{
	(void)state;
	expect_recode(JA_GROUP_CREATE_REQ,
	              " \r\n\t{ \"protectiondomain\" : \"" S_SC "\" ,\n \"name\":\"pkcs11\" }\n ",
	              S_GROUP_CREATE);
	expect_recode(JA_HEALTH, "{\"version\":\"1.0.0\",\"status\":\"ok\"}", S_HEALTH);
}

/* Encodes in, which must succeed, and decodes the text into out: the
 * decoder's result. *text is the encoding, for the caller to free. */
static int softcard_recode(const struct wsop_softcard *in, struct wsop_softcard *out, char **text)
{
	struct wsop_json_error err;
	size_t len;

	assert_int_equal(wsop_json_encode_softcard(in, text, &len), 0);
	return wsop_json_decode_softcard(*text, len, out, &err);
}

static void softcard_struct_round_trip(void **state)
{
	struct wsop_softcard in = { .created = 253402300799, .active = true }, out;
	char *text;
	(void)state;

	strcpy(in.id, S_SC);
	strcpy(in.name, "Z");
	assert_int_equal(softcard_recode(&in, &out, &text), 0);
	assert_string_equal(out.id, in.id);
	assert_string_equal(out.name, in.name);
	assert_int_equal(out.created, in.created);
	assert_true(out.active);
	assert_string_equal(out.activation, "");
	assert_null(strstr(text, "activation"));
	free(text);

	/* The answer of activate carries its token; a bad one is refused. */
	memset(in.activation, 'T', 222);
	assert_int_equal(softcard_recode(&in, &out, &text), 0);
	assert_string_equal(out.activation, in.activation);
	free(text);
	in.activation[5] = '.';
	assert_int_not_equal(softcard_recode(&in, &out, &text), 0);
	free(text);
	memset(in.activation, 'T', WSOP_ACTIVATION_MAX);
	assert_int_equal(softcard_recode(&in, &out, &text), 0);
	free(text);
}

/* The login-lockout members: absent when 0 (and then read as 0), bounded
 * when present. */
static void softcard_lockout_members(void **state)
{
	struct wsop_softcard in = { .login_failures = 2, .login_limit = 3, .locked_for = 7 }, out;
	struct wsop_json_error err;
	char *text;
	size_t len;
	(void)state;

	strcpy(in.id, S_SC);
	strcpy(in.name, "Z");
	assert_int_equal(softcard_recode(&in, &out, &text), 0);
	assert_int_equal(out.login_failures, 2);
	assert_int_equal(out.login_limit, 3);
	assert_int_equal(out.locked_for, 7);
	free(text);
	in.login_failures = in.login_limit = in.locked_for = 0;
	assert_int_equal(wsop_json_encode_softcard(&in, &text, &len), 0);
	assert_null(strstr(text, "login"));
	assert_null(strstr(text, "locked"));
	free(text);

	static const char *const bad[] = {
		"{\"id\":\"" S_SC "\",\"type\":\"Softcard\",\"name\":\"Z\",\"created\":1,"
		"\"active\":false,\"login_failures\":-1}",
		"{\"id\":\"" S_SC "\",\"type\":\"Softcard\",\"name\":\"Z\",\"created\":1,"
		"\"active\":false,\"login_limit\":1001}",
		"{\"id\":\"" S_SC "\",\"type\":\"Softcard\",\"name\":\"Z\",\"created\":1,"
		"\"active\":false,\"locked_for\":86401}",
		"{\"id\":\"" S_SC "\",\"type\":\"Softcard\",\"name\":\"Z\",\"created\":1,"
		"\"active\":false,\"locked_for\":\"5\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_not_equal(wsop_json_decode_softcard(bad[i], strlen(bad[i]), &out, &err),
		                     0);
	assert_int_equal(wsop_error_status(WSOP_E_SOFTCARD_LOCKED), 403);
}

static void key_generate_request_defaults(void **state)
{
	struct wsop_key_generate_req r;
	struct wsop_json_error err;
	const char *t = "{\"algorithm\":\"AES\",\"size\":192,\"attributes\":{\"label\":\"\"}}";
	(void)state;

	assert_int_equal(wsop_json_decode_key_generate_req(t, strlen(t), &r, &err), 0);
	assert_int_equal(r.size, 192);
	assert_string_equal(r.attributes.label, "");
	assert_false(r.attributes.id_present);
	assert_true(r.attributes.encrypt);
	assert_true(r.attributes.decrypt);
	assert_false(r.attributes.sign || r.attributes.verify || r.attributes.wrap ||
	             r.attributes.unwrap || r.attributes.derive);
	wsop_key_generate_req_free(&r);
	assert_null(r.attributes.id.data);
}

static void key_struct_round_trip_with_binary_id(void **state)
{
	struct wsop_key in, out;
	struct wsop_json_error err;
	uint8_t id[WSOP_CKA_ID_MAX];
	char *text;
	size_t len;
	(void)state;

	memset(&in, 0, sizeof(in));
	for (size_t i = 0; i < sizeof(id); i++)
		id[i] = (uint8_t)(255 - i);
	strcpy(in.id, S_K);
	strcpy(in.group, S_G);
	strcpy(in.path, S_PATH);
	strcpy(in.protectiondomain, S_SC);
	in.size = 256;
	in.created = 1;
	strcpy(in.attributes.label, "l\"\\/\x01");
	in.attributes.id_present = true;
	in.attributes.id.data = id;
	in.attributes.id.len = sizeof(id);
	in.attributes.encrypt = true;
	in.attributes.local = true;
	assert_int_equal(wsop_json_encode_key(&in, &text, &len), 0);
	assert_int_equal(wsop_json_decode_key(text, len, &out, &err), 0);
	assert_string_equal(out.attributes.label, in.attributes.label);
	assert_int_equal(out.attributes.id.len, sizeof(id));
	assert_memory_equal(out.attributes.id.data, id, sizeof(id));
	assert_true(out.attributes.encrypt && out.attributes.local);
	assert_false(out.attributes.decrypt || out.attributes.sensitive);
	assert_string_equal(out.path, S_PATH);
	wsop_key_free(&out);
	free(text);
}

static void object_struct_round_trip_with_empty_values(void **state)
{
	struct wsop_object_create_req in, out;
	struct wsop_json_error err;
	char *text;
	size_t len;
	(void)state;

	memset(&in, 0, sizeof(in));
	in.cls = WSOP_OBJECT_DATA;
	in.attributes.value_present = true; /* empty value: present, len 0 */
	in.attributes.application_present = true;
	assert_int_equal(wsop_json_encode_object_create_req(&in, &text, &len), 0);
	assert_string_equal(text, "{\"class\":\"data\",\"attributes\":{\"application\":\"\","
	                          "\"value\":\"\"}}");
	assert_int_equal(wsop_json_decode_object_create_req(text, len, &out, &err), 0);
	assert_true(out.attributes.value_present);
	assert_int_equal(out.attributes.value.len, 0);
	assert_null(out.attributes.value.data);
	assert_true(out.attributes.application_present);
	assert_false(out.attributes.label_present || out.attributes.id_present);
	wsop_object_create_req_free(&out);
	free(text);
}

static void crypto_struct_round_trip(void **state)
{
	struct wsop_crypto_req in, out;
	struct wsop_json_error err;
	uint8_t data[32] = { 1, 2, 3 };
	char *text;
	size_t len;
	(void)state;

	memset(&in, 0, sizeof(in));
	strcpy(in.key, S_PATH);
	in.mechanism = WSOP_MECH_AES_CBC;
	for (int i = 0; i < WSOP_IV_LEN; i++)
		in.iv[i] = (uint8_t)(i * 17);
	in.data.data = data;
	in.data.len = sizeof(data);
	assert_int_equal(wsop_json_encode_crypto_req(&in, &text, &len), 0);
	assert_int_equal(wsop_json_decode_crypto_req(text, len, &out, &err), 0);
	assert_int_equal(out.mechanism, WSOP_MECH_AES_CBC);
	assert_memory_equal(out.iv, in.iv, WSOP_IV_LEN);
	assert_int_equal(out.data.len, sizeof(data));
	assert_memory_equal(out.data.data, data, sizeof(data));
	wsop_crypto_req_free(&out);
	free(text);
}

static void random_requests_are_bounded(void **state)
{
	(void)state;
	expect_recode(JA_RANDOM_REQ, "{\"length\":1}", "{\"length\":1}");
	expect_recode(JA_RANDOM_REQ, "{ \"length\" : 65536 }", "{\"length\":65536}");
	static const char *const bad[] = {
		"{\"length\":0}",      "{\"length\":65537}", "{\"length\":-1}",
		"{\"length\":\"16\"}", "{\"length\":1.5}",   "{\"length\":99999999999999999999}",
		"{\"length\":true}",   "{\"length\":null}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_refusal(JA_RANDOM_REQ, bad[i], WSOP_JSON_ETYPE, "bad_request");
	expect_refusal(JA_RANDOM_REQ, "{}", WSOP_JSON_EMISSING, "bad_request");
	expect_refusal(JA_RANDOM_REQ, "{\"length\":1,\"seed\":1}", WSOP_JSON_EUNKNOWN_MEMBER,
	               "bad_request");
}

static void passphrase_structs_are_wiped(void **state)
{
	struct wsop_softcard_create_req r;
	struct wsop_json_error err;
	static const char zero[sizeof(r)];
	(void)state;

	assert_int_equal(wsop_json_decode_softcard_create_req(S_SOFTCARD_CREATE,
	                                                      strlen(S_SOFTCARD_CREATE), &r, &err),
	                 0);
	assert_string_equal(r.passphrase, "pass phrase!\"\\~");
	wsop_softcard_create_req_cleanse(&r);
	assert_memory_equal(&r, zero, sizeof(r));
}

/* ---- encoder refusals ---------------------------------------------------- */

static void encoders_refuse_what_cannot_be_written(void **state)
{
	char *text = (char *)1;
	size_t len;
	(void)state;

	struct wsop_crypto_answer a = { .data = { .data = NULL, .len = 3 } };
	assert_int_equal(wsop_json_encode_crypto_answer(&a, &text, &len), -EINVAL);
	assert_null(text);

	struct wsop_group g;
	memset(&g, 'a', sizeof(g)); /* name without its NUL */
	assert_int_equal(wsop_json_encode_group(&g, &text, &len), -EINVAL);

	struct wsop_object_create_req o;
	memset(&o, 0, sizeof(o));
	o.cls = (enum wsop_object_class)7;
	assert_int_equal(wsop_json_encode_object_create_req(&o, &text, &len), -EINVAL);

	struct wsop_crypto_req c;
	memset(&c, 0, sizeof(c));
	c.mechanism = (enum wsop_mechanism)0;
	assert_int_equal(wsop_json_encode_crypto_req(&c, &text, &len), -EINVAL);

	struct wsop_softcard_list l = { .items = NULL, .count = 2 };
	assert_int_equal(wsop_json_encode_softcard_list(&l, &text, &len), -EINVAL);
	assert_int_equal(wsop_json_encode_health(NULL, &text, &len), -EINVAL);
}

static void encoders_do_not_judge_names(void **state)
{
	struct wsop_softcard_create_req r;
	struct wsop_json_error err;
	char *text;
	size_t len;
	(void)state;

	memset(&r, 0, sizeof(r));
	strcpy(r.name, "not a name");
	strcpy(r.passphrase, "x");
	assert_int_equal(wsop_json_encode_softcard_create_req(&r, &text, &len), 0);
	assert_int_equal(wsop_json_decode_softcard_create_req(text, len, &r, &err),
	                 WSOP_JSON_EINVALID_NAME);
	free(text);
}

/* ---- decoder refusals ---------------------------------------------------- */

static void refuses_what_is_not_one_json_object(void **state)
{
	(void)state;
	expect_refusal(JA_HEALTH, "", WSOP_JSON_ESYNTAX, "bad_request");
	expect_refusal(JA_HEALTH, "{\"status\":\"ok\"", WSOP_JSON_ESYNTAX, "bad_request");
	expect_refusal(JA_HEALTH, "{'status':'ok','version':'1'}", WSOP_JSON_ESYNTAX,
	               "bad_request");
	expect_refusal(JA_HEALTH, "{\"status\":NaN}", WSOP_JSON_ESYNTAX, "bad_request");
	expect_refusal(JA_HEALTH, "{\"status\":\"o\tk\",\"version\":\"1\"}", WSOP_JSON_ESYNTAX,
	               "bad_request");
	expect_refusal(JA_HEALTH, "{\"status\":\"\xff\",\"version\":\"1\"}", WSOP_JSON_ESYNTAX,
	               "bad_request");
	expect_refusal(JA_HEALTH, "{\"status\":\"ok\",}", WSOP_JSON_ESYNTAX, "bad_request");
	expect_refusal(JA_HEALTH, "/*c*/" S_HEALTH, WSOP_JSON_ESYNTAX, "bad_request");
	expect_refusal_n(JA_HEALTH, S_HEALTH "\0", sizeof(S_HEALTH), WSOP_JSON_ETRAILING,
	                 "bad_request");
	static const char nul_inside[] = "{\"status\":\"o\0k\",\"version\":\"1\"}";
	expect_refusal_n(JA_HEALTH, nul_inside, sizeof(nul_inside) - 1, WSOP_JSON_ESYNTAX,
	                 "bad_request");
	expect_refusal(JA_HEALTH, "[1]", WSOP_JSON_ENOT_OBJECT, "bad_request");
	expect_refusal(JA_HEALTH, "\"ok\"", WSOP_JSON_ENOT_OBJECT, "bad_request");
	expect_refusal(JA_EMPTY, "[]", WSOP_JSON_ENOT_OBJECT, "bad_request");
}

static void refuses_trailing_garbage(void **state)
{
	(void)state;
	expect_refusal(JA_HEALTH, S_HEALTH "x", WSOP_JSON_ETRAILING, "bad_request");
	expect_refusal(JA_HEALTH, S_HEALTH " {}", WSOP_JSON_ETRAILING, "bad_request");
	expect_refusal(JA_HEALTH, S_HEALTH S_HEALTH, WSOP_JSON_ETRAILING, "bad_request");
	expect_recode(JA_HEALTH, S_HEALTH " \r\n", S_HEALTH);
}

static void nesting_of_8_levels_parses_and_9_is_refused(void **state)
{
	(void)state;
	/* 8 levels: the object and 7 arrays; it reaches the schema check. */
	expect_refusal(JA_EMPTY, "{\"a\":[[[[[[[1]]]]]]]}", WSOP_JSON_EUNKNOWN_MEMBER,
	               "bad_request");
	expect_refusal(JA_EMPTY, "{\"a\":[[[[[[[[1]]]]]]]]}", WSOP_JSON_EDEPTH, "bad_request");
	/* json-c alone would let an empty ninth level through */
	expect_refusal(JA_EMPTY, "{\"a\":[[[[[[[[]]]]]]]]}", WSOP_JSON_EDEPTH, "bad_request");
	expect_refusal(JA_EMPTY,
	               "{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{}}}}}}}}}",
	               WSOP_JSON_EDEPTH, "bad_request");
}

static void refuses_bodies_over_1_mib_before_parsing(void **state)
{
	(void)state;
	char *big = malloc(HTTP_MAX_BODY + 1);
	assert_non_null(big);
	memset(big, ' ', HTTP_MAX_BODY + 1);
	memcpy(big, "{}", 2);
	expect_refusal_n(JA_EMPTY, big, HTTP_MAX_BODY + 1, WSOP_JSON_ETOO_LARGE, "too_large");
	expect_refusal_n(JA_EMPTY, NULL, HTTP_MAX_BODY + 1, WSOP_JSON_ETOO_LARGE, "too_large");
	char *out;
	size_t out_len;
	struct wsop_json_error err;
	assert_int_equal(json_any_recode(JA_EMPTY, big, HTTP_MAX_BODY, &out, &out_len, &err), 0);
	free(out);
	free(big);
}

static void refuses_unknown_members(void **state)
{
	(void)state;
	expect_refusal(JA_HEALTH, "{\"status\":\"ok\",\"version\":\"1\",\"x\":1}",
	               WSOP_JSON_EUNKNOWN_MEMBER, "bad_request");
	expect_refusal(JA_SOFTCARD_CREATE_REQ,
	               "{\"type\":\"Softcard\",\"name\":\"a\",\"passphrase\":\"p\",\"Name\":\"a\"}",
	               WSOP_JSON_EUNKNOWN_MEMBER, "bad_request");
	expect_refusal(JA_KEY_GENERATE_REQ,
	               "{\"algorithm\":\"AES\",\"size\":128,\"attributes\":{\"label\":\"a\","
	               "\"lable\":\"b\"}}",
	               WSOP_JSON_EUNKNOWN_MEMBER, "bad_request");
	expect_refusal(JA_OBJECT_CREATE_REQ, "{\"class\":\"data\",\"attributes\":{\"token\":true}}",
	               WSOP_JSON_EUNKNOWN_MEMBER, "bad_request");
	expect_refusal(JA_EMPTY, "{\"a\":1}", WSOP_JSON_EUNKNOWN_MEMBER, "bad_request");
	/* the message names the member */
	struct wsop_json_error err;
	struct wsop_health h;
	const char *t = "{\"status\":\"ok\",\"version\":\"1\",\"extra\":1}";
	assert_int_equal(wsop_json_decode_health(t, strlen(t), &h, &err),
	                 WSOP_JSON_EUNKNOWN_MEMBER);
	assert_non_null(strstr(err.message, "extra"));
}

static void refuses_missing_required_members(void **state)
{
	(void)state;
	expect_refusal(JA_SOFTCARD_CREATE_REQ, "{\"type\":\"Softcard\",\"name\":\"alice\"}",
	               WSOP_JSON_EMISSING, "bad_request");
	expect_refusal(JA_SOFTCARD_CREATE_REQ, "{\"name\":\"alice\",\"passphrase\":\"p\"}",
	               WSOP_JSON_EMISSING, "bad_request");
	expect_refusal(JA_ACTIVATE_REQ, "{}", WSOP_JSON_EMISSING, "bad_request");
	expect_refusal(JA_KEY_GENERATE_REQ,
	               "{\"algorithm\":\"AES\",\"size\":128,\"attributes\":{}}", WSOP_JSON_EMISSING,
	               "bad_request");
	expect_refusal(JA_KEY_GENERATE_REQ, "{\"algorithm\":\"AES\",\"size\":128}",
	               WSOP_JSON_EMISSING, "bad_request");
	expect_refusal(JA_OBJECT_CREATE_REQ, "{\"class\":\"data\"}", WSOP_JSON_EMISSING,
	               "bad_request");
	expect_refusal(JA_OBJECT_CREATE_REQ,
	               "{\"class\":\"certificate\",\"attributes\":{\"certificate_type\":\"x509\","
	               "\"value\":\"MIIB\"}}",
	               WSOP_JSON_EMISSING, "bad_request");
	expect_refusal(JA_OBJECT_CREATE_REQ,
	               "{\"class\":\"certificate\",\"attributes\":{\"value\":\"MIIB\","
	               "\"subject\":\"MAA\"}}",
	               WSOP_JSON_EMISSING, "bad_request");
	expect_refusal(JA_CRYPTO_REQ,
	               "{\"key\":\"" S_PATH "\",\"mechanism\":\"AES_CBC\",\"iv\":\"" S_IV0 "\"}",
	               WSOP_JSON_EMISSING, "bad_request");
	expect_refusal(JA_GROUP_LIST, "{}", WSOP_JSON_EMISSING, "bad_request");
	expect_refusal(JA_ERROR, "{\"error\":{\"code\":\"internal\"}}", WSOP_JSON_EMISSING,
	               "bad_request");
	/* An answer must carry every key attribute. */
	expect_refusal(JA_KEY_LIST,
	               "{\"keys\":[{\"id\":\"" S_K "\",\"path\":\"" S_PATH "\",\"group\":\"" S_G
	               "\",\"protectiondomain\":\"" S_SC "\",\"algorithm\":\"AES\",\"size\":128,"
	               "\"created\":5,\"attributes\":{\"label\":\"k1\"}}]}",
	               WSOP_JSON_EMISSING, "bad_request");
}

static void refuses_wrong_types(void **state)
{
	(void)state;
	expect_refusal(JA_SOFTCARD_CREATE_REQ,
	               "{\"type\":\"Softcard\",\"name\":5,\"passphrase\":\"p\"}", WSOP_JSON_ETYPE,
	               "bad_request");
	expect_refusal(JA_ACTIVATE_REQ, "{\"passphrase\":null}", WSOP_JSON_ETYPE, "bad_request");
	expect_refusal(JA_KEY_GENERATE_REQ,
	               "{\"algorithm\":\"AES\",\"size\":256.0,\"attributes\":{\"label\":\"a\"}}",
	               WSOP_JSON_ETYPE, "bad_request");
	expect_refusal(JA_KEY_GENERATE_REQ,
	               "{\"algorithm\":\"AES\",\"size\":\"256\",\"attributes\":{\"label\":\"a\"}}",
	               WSOP_JSON_ETYPE, "bad_request");
	expect_refusal(JA_KEY_GENERATE_REQ,
	               "{\"algorithm\":\"AES\",\"size\":256,\"attributes\":{\"label\":\"a\","
	               "\"encrypt\":1}}",
	               WSOP_JSON_ETYPE, "bad_request");
	expect_refusal(JA_KEY_GENERATE_REQ,
	               "{\"algorithm\":\"AES\",\"size\":256,\"attributes\":[]}", WSOP_JSON_ETYPE,
	               "bad_request");
	expect_refusal(JA_SOFTCARD,
	               "{\"id\":\"" S_SC "\",\"type\":\"Softcard\",\"name\":\"a\",\"created\":1e3,"
	               "\"active\":false}",
	               WSOP_JSON_ETYPE, "bad_request");
	expect_refusal(JA_SOFTCARD,
	               "{\"id\":\"" S_SC "\",\"type\":\"Softcard\",\"name\":\"a\",\"created\":-1,"
	               "\"active\":false}",
	               WSOP_JSON_ETYPE, "bad_request");
	expect_refusal(JA_SOFTCARD,
	               "{\"id\":\"" S_SC "\",\"type\":\"Softcard\",\"name\":\"a\","
	               "\"created\":99999999999999999999,\"active\":false}",
	               WSOP_JSON_ETYPE, "bad_request");
	expect_refusal(JA_SOFTCARD,
	               "{\"id\":\"" S_SC "\",\"type\":\"Softcard\",\"name\":\"a\",\"created\":1,"
	               "\"active\":\"false\"}",
	               WSOP_JSON_ETYPE, "bad_request");
	expect_refusal(JA_SOFTCARD_LIST, "{\"protectiondomains\":[1]}", WSOP_JSON_ETYPE,
	               "bad_request");
	expect_refusal(JA_SOFTCARD_LIST, "{\"protectiondomains\":{}}", WSOP_JSON_ETYPE,
	               "bad_request");
	expect_refusal(JA_SOFTCARD_LIST, "{\"protectiondomains\":[" S_SOFTCARD ",{}]}",
	               WSOP_JSON_EMISSING, "bad_request");
}

static void refuses_values_outside_their_domain(void **state)
{
	(void)state;
	expect_refusal(JA_SOFTCARD_CREATE_REQ,
	               "{\"type\":\"softcard\",\"name\":\"a\",\"passphrase\":\"p\"}",
	               WSOP_JSON_EBAD_VALUE, "bad_request");
	expect_refusal(JA_GROUP_CREATE_REQ, "{\"name\":\"g\",\"protectiondomain\":\"abc\"}",
	               WSOP_JSON_EBAD_VALUE, "bad_request");
	expect_refusal(JA_KEY_GENERATE_REQ,
	               "{\"algorithm\":\"DES\",\"size\":256,\"attributes\":{\"label\":\"a\"}}",
	               WSOP_JSON_EBAD_VALUE, "bad_request");
	expect_refusal(JA_OBJECT_CREATE_REQ, "{\"class\":\"secret\",\"attributes\":{}}",
	               WSOP_JSON_EBAD_VALUE, "bad_request");
	expect_refusal(
	    JA_CRYPTO_REQ,
	    "{\"key\":\"km/v1/groups/x/keys/y\",\"mechanism\":\"AES_CBC\",\"iv\":\"" S_IV0
	    "\",\"data\":\"\"}",
	    WSOP_JSON_EBAD_VALUE, "bad_request");
	/* a key answer whose path names another key */
	expect_refusal(JA_KEY,
	               "{\"id\":\"" S_G "\",\"path\":\"" S_PATH "\",\"group\":\"" S_G
	               "\",\"protectiondomain\":\"" S_SC "\",\"algorithm\":\"AES\",\"size\":128,"
	               "\"created\":5,\"attributes\":{}}",
	               WSOP_JSON_EBAD_VALUE, "bad_request");
	expect_refusal(JA_ERROR, "{\"error\":{\"code\":\"Not-Found\",\"message\":\"\"}}",
	               WSOP_JSON_EBAD_VALUE, "bad_request");
}

static void refuses_bad_base64url(void **state)
{
	(void)state;
	const char *pre = "{\"algorithm\":\"AES\",\"size\":128,\"attributes\":{\"label\":\"a\","
	                  "\"id\":\"";
	char t[256];
	const char *bad[] = { "A", "AB", "AQ==", "A+", "A/", "AQ " };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(t, sizeof(t), "%s%s\"}}", pre, bad[i]);
		expect_refusal(JA_KEY_GENERATE_REQ, t, WSOP_JSON_EBASE64, "bad_request");
	}
	expect_refusal(JA_CRYPTO_ANSWER, "{\"data\":\"a=\"}", WSOP_JSON_EBASE64, "bad_request");
	expect_refusal(JA_CRYPTO_REQ,
	               "{\"key\":\"" S_PATH "\",\"mechanism\":\"AES_CBC\","
	               "\"iv\":\"AAAAAAAAAAAAAAAAAAAAA_\",\"data\":\"\"}",
	               WSOP_JSON_EBASE64, "bad_request");
}

static void names_and_passphrases_get_their_own_codes(void **state)
{
	(void)state;
	const char *n = "{\"type\":\"Softcard\",\"name\":\"%s\",\"passphrase\":\"p\"}";
	expect_run(JA_SOFTCARD_CREATE_REQ, n, 'n', 64, 0, NULL);
	expect_run(JA_SOFTCARD_CREATE_REQ, n, 'n', 65, WSOP_JSON_EINVALID_NAME, "invalid_name");
	expect_run(JA_SOFTCARD_CREATE_REQ, n, 'n', 0, WSOP_JSON_EINVALID_NAME, "invalid_name");
	expect_run(JA_SOFTCARD_CREATE_REQ, n, '.', 3, WSOP_JSON_EINVALID_NAME, "invalid_name");
	expect_refusal(JA_GROUP_CREATE_REQ,
	               "{\"name\":\"a\\u0000b\",\"protectiondomain\":\"" S_SC "\"}",
	               WSOP_JSON_EINVALID_NAME, "invalid_name");
	const char *p = "{\"type\":\"Softcard\",\"name\":\"a\",\"passphrase\":\"%s\"}";
	expect_run(JA_SOFTCARD_CREATE_REQ, p, 'p', 256, 0, NULL);
	expect_run(JA_SOFTCARD_CREATE_REQ, p, 'p', 257, WSOP_JSON_EINVALID_PASSPHRASE,
	           "invalid_passphrase");
	expect_run(JA_SOFTCARD_CREATE_REQ, p, 'p', 0, WSOP_JSON_EINVALID_PASSPHRASE,
	           "invalid_passphrase");
	expect_refusal(JA_ACTIVATE_REQ, "{\"passphrase\":\"a\\tb\"}", WSOP_JSON_EINVALID_PASSPHRASE,
	               "invalid_passphrase");
	expect_refusal(JA_ACTIVATE_REQ, "{\"passphrase\":\"\\u0000\"}",
	               WSOP_JSON_EINVALID_PASSPHRASE, "invalid_passphrase");
	expect_refusal(JA_ACTIVATE_REQ, "{\"passphrase\":\"caf\\u00e9\"}",
	               WSOP_JSON_EINVALID_PASSPHRASE, "invalid_passphrase");
}

static void key_sizes_other_than_128_192_256_are_bad_key_size(void **state)
{
	(void)state;
	const char *sizes[] = { "0", "-128", "64", "512", "257", "99999999999999999999" };
	char t[256];
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(t, sizeof(t),
		         "{\"algorithm\":\"AES\",\"size\":%s,\"attributes\":{\"label\":\"a\"}}",
		         sizes[i]);
		expect_refusal(JA_KEY_GENERATE_REQ, t, WSOP_JSON_EBAD_KEY_SIZE, "bad_key_size");
	}
}

static void key_attributes_not_allowed_are_bad_attribute(void **state)
{
	(void)state;
	const char *attrs[] = { "sign", "verify", "wrap", "unwrap", "derive" };
	const char *ro[] = { "sensitive", "always_sensitive", "extractable", "never_extractable",
		             "local" };
	char t[256];
	for (size_t i = 0; i < 5; i++) {
		snprintf(t, sizeof(t),
		         "{\"algorithm\":\"AES\",\"size\":128,\"attributes\":{\"label\":\"a\","
		         "\"%s\":true}}",
		         attrs[i]);
		expect_refusal(JA_KEY_GENERATE_REQ, t, WSOP_JSON_EBAD_ATTRIBUTE, "bad_attribute");
		snprintf(t, sizeof(t),
		         "{\"algorithm\":\"AES\",\"size\":128,\"attributes\":{\"label\":\"a\","
		         "\"%s\":false}}",
		         ro[i]);
		expect_refusal(JA_KEY_GENERATE_REQ, t, WSOP_JSON_EBAD_ATTRIBUTE, "bad_attribute");
	}
	const char *lbl = "{\"algorithm\":\"AES\",\"size\":128,\"attributes\":{\"label\":\"%s\"}}";
	expect_run(JA_KEY_GENERATE_REQ, lbl, 'l', 256, 0, NULL);
	expect_run(JA_KEY_GENERATE_REQ, lbl, 'l', 257, WSOP_JSON_EBAD_ATTRIBUTE, "bad_attribute");
	expect_refusal(
	    JA_KEY_GENERATE_REQ,
	    "{\"algorithm\":\"AES\",\"size\":128,\"attributes\":{\"label\":\"\\u0000\"}}",
	    WSOP_JSON_EBAD_ATTRIBUTE, "bad_attribute");
	/* CKA_ID: 256 bytes are 342 base64url characters */
	const char *id = "{\"algorithm\":\"AES\",\"size\":128,\"attributes\":{\"label\":\"a\","
	                 "\"id\":\"%s\"}}";
	expect_run(JA_KEY_GENERATE_REQ, id, 'A', 342, 0, NULL);
	expect_run(JA_KEY_GENERATE_REQ, id, 'A', 343, WSOP_JSON_EBAD_ATTRIBUTE, "bad_attribute");
	expect_run(JA_KEY_GENERATE_REQ, id, 'A', 344, WSOP_JSON_EBAD_ATTRIBUTE, "bad_attribute");
	expect_run(JA_KEY_GENERATE_REQ, id, 'A', 340, 0, NULL); /* 255 bytes */
}

static void object_attributes_of_the_other_class_are_bad_attribute(void **state)
{
	(void)state;
	expect_refusal(JA_OBJECT_CREATE_REQ,
	               "{\"class\":\"data\",\"attributes\":{\"subject\":\"MAA\"}}",
	               WSOP_JSON_EBAD_ATTRIBUTE, "bad_attribute");
	expect_refusal(JA_OBJECT_CREATE_REQ,
	               "{\"class\":\"data\",\"attributes\":{\"certificate_type\":\"x509\"}}",
	               WSOP_JSON_EBAD_ATTRIBUTE, "bad_attribute");
	expect_refusal(JA_OBJECT_CREATE_REQ,
	               "{\"class\":\"certificate\",\"attributes\":{\"certificate_type\":\"x509\","
	               "\"value\":\"MIIB\",\"subject\":\"MAA\",\"application\":\"a\"}}",
	               WSOP_JSON_EBAD_ATTRIBUTE, "bad_attribute");
	expect_refusal(JA_OBJECT_CREATE_REQ,
	               "{\"class\":\"certificate\",\"attributes\":{\"certificate_type\":\"x509v3\","
	               "\"value\":\"MIIB\",\"subject\":\"MAA\"}}",
	               WSOP_JSON_EBAD_ATTRIBUTE, "bad_attribute");
	expect_refusal(JA_OBJECT_CREATE_REQ,
	               "{\"class\":\"certificate\",\"attributes\":{\"certificate_type\":\"x509\","
	               "\"value\":\"MIIB\",\"subject\":\"MAA\",\"start_date\":\"20230229\"}}",
	               WSOP_JSON_EBAD_ATTRIBUTE, "bad_attribute");
	expect_refusal(JA_OBJECT_CREATE_REQ,
	               "{\"class\":\"certificate\",\"attributes\":{\"certificate_type\":\"x509\","
	               "\"value\":\"MIIB\",\"subject\":\"MAA\",\"end_date\":\"\"}}",
	               WSOP_JSON_EBAD_ATTRIBUTE, "bad_attribute");
	/* value: 65536 bytes = 87382 characters; one block more is refused */
	const char *v = "{\"class\":\"data\",\"attributes\":{\"value\":\"%s\"}}";
	expect_run(JA_OBJECT_CREATE_REQ, v, 'A', 87380, 0, NULL);
	expect_run(JA_OBJECT_CREATE_REQ, v, 'A', 87384, WSOP_JSON_EBAD_ATTRIBUTE, "bad_attribute");
	const char *dn = "{\"class\":\"certificate\",\"attributes\":{\"certificate_type\":\"x509\","
	                 "\"value\":\"\",\"subject\":\"%s\"}}";
	expect_run(JA_OBJECT_CREATE_REQ, dn, 'A', 5460, 0, NULL); /* 4095 bytes */
	expect_run(JA_OBJECT_CREATE_REQ, dn, 'A', 5464, WSOP_JSON_EBAD_ATTRIBUTE, "bad_attribute");
}

static void crypto_requests_get_their_own_codes(void **state)
{
	(void)state;
	const char *pre = "{\"key\":\"" S_PATH "\",";
	char t[512];
	snprintf(t, sizeof(t), "%s\"mechanism\":\"AES_ECB\",\"iv\":\"" S_IV0 "\",\"data\":\"\"}",
	         pre);
	expect_refusal(JA_CRYPTO_REQ, t, WSOP_JSON_EBAD_MECHANISM, "bad_mechanism");
	snprintf(t, sizeof(t), "%s\"mechanism\":\"AES_CBC\",\"data\":\"\"}", pre);
	expect_refusal(JA_CRYPTO_REQ, t, WSOP_JSON_EBAD_IV, "bad_iv");
	snprintf(t, sizeof(t), "%s\"mechanism\":\"AES_CBC\",\"iv\":\"%s\",\"data\":\"\"}", pre,
	         "AAAAAAAAAAAAAAAAAAAA");
	expect_refusal(JA_CRYPTO_REQ, t, WSOP_JSON_EBAD_IV, "bad_iv");
	snprintf(t, sizeof(t), "%s\"mechanism\":\"AES_CBC\",\"iv\":\"%s\",\"data\":\"\"}", pre,
	         "AAAAAAAAAAAAAAAAAAAAAAA");
	expect_refusal(JA_CRYPTO_REQ, t, WSOP_JSON_EBAD_IV, "bad_iv");
	snprintf(t, sizeof(t), "%s\"mechanism\":\"AES_CBC\",\"iv\":\"\",\"data\":\"\"}", pre);
	expect_refusal(JA_CRYPTO_REQ, t, WSOP_JSON_EBAD_IV, "bad_iv");
	/* 262144 bytes = 349526 characters */
	char *fmt = malloc(512);
	assert_non_null(fmt);
	snprintf(fmt, 512, "%s\"mechanism\":\"AES_CBC\",\"iv\":\"" S_IV0 "\",\"data\":\"%%s\"}",
	         pre);
	expect_run(JA_CRYPTO_REQ, fmt, 'A', 349524, 0, NULL);
	expect_run(JA_CRYPTO_REQ, fmt, 'A', 349528, WSOP_JSON_EBAD_DATA_LENGTH, "bad_data_length");
	free(fmt);
}

static void duplicate_members_keep_the_last_value(void **state)
{
	struct wsop_health h;
	struct wsop_json_error err;
	const char *t = "{\"status\":\"a\",\"version\":\"1\",\"status\":\"ok\"}";
	(void)state;
	assert_int_equal(wsop_json_decode_health(t, strlen(t), &h, &err), 0);
	assert_string_equal(h.status, "ok");
}

static void empty_body_or_empty_object(void **state)
{
	struct wsop_json_error err;
	(void)state;
	assert_int_equal(wsop_json_decode_empty(NULL, 0, &err), 0);
	assert_int_equal(wsop_json_decode_empty("{}", 2, &err), 0);
	assert_int_equal(wsop_json_decode_empty(" { } ", 5, &err), 0);
	expect_refusal(JA_EMPTY, " ", WSOP_JSON_ESYNTAX, "bad_request");
}

static void codes_map_to_statuses(void **state)
{
	(void)state;
	enum wsop_error code = WSOP_E_BUSY;
	assert_true(wsop_error_lookup("not_found", &code));
	assert_int_equal(code, WSOP_E_NOT_FOUND);
	assert_int_equal(wsop_error_status(WSOP_E_NOT_FOUND), 404);
	assert_int_equal(wsop_error_status(WSOP_E_WRONG_PASSPHRASE), 403);
	assert_int_equal(wsop_error_status(WSOP_E_NOT_EMPTY), 409);
	assert_int_equal(wsop_error_status(WSOP_E_IDEMPOTENCY_CONFLICT), 422);
	assert_int_equal(wsop_error_status(WSOP_E_BUSY), 503);
	assert_int_equal(wsop_error_ckr(WSOP_E_SOFTCARD_LOCKED), CKR_PIN_LOCKED);
	assert_false(wsop_error_lookup("nonsense", &code));
	assert_false(wsop_error_lookup(NULL, &code));
	assert_false(wsop_error_lookup("", NULL));
	/* Out of range reads as internal, never past the table. */
	assert_int_equal(wsop_error_status((enum wsop_error)WSOP_E_COUNT), 500);
	assert_int_equal(wsop_error_status((enum wsop_error) - 1), 500);
	assert_string_equal(wsop_error_name((enum wsop_error)12345), "internal");
	/* Every row: its name finds it again, and its status is an error. */
	for (int i = 0; i < WSOP_E_COUNT; i++) {
		assert_true(wsop_error_lookup(wsop_error_name((enum wsop_error)i), &code));
		assert_int_equal(code, i);
		assert_true(wsop_error_status(code) >= 400 && wsop_error_status(code) <= 599);
	}
	assert_int_equal(wsop_json_rc_error(WSOP_JSON_ENOMEM), WSOP_E_INTERNAL);
	assert_int_equal(wsop_json_rc_error(12345), WSOP_E_INTERNAL);
	struct wsop_json_error e;
	wsop_json_error_set(&e, "not_found", "no softcard with that id");
	char *text;
	size_t len;
	assert_int_equal(wsop_json_encode_error(&e, &text, &len), 0);
	assert_string_equal(text, S_ERROR);
	free(text);
}

/* ---- pages ---------------------------------------------------------------- */

#define S_OBJ_NOVALUE(id, cls, len, attrs)                                                         \
	"{\"id\":\"" id "\",\"protectiondomain\":\"" S_SC "\",\"class\":\"" cls                    \
	"\",\"created\":7,\"value_len\":" len ",\"attributes\":{" attrs "}}"

static void list_pages_carry_next(void **state)
{
	(void)state;
	const char *keys = "{\"keys\":[" S_KEY "],\"next\":\"" S_K "\"}";
	expect_recode(JA_KEY_LIST, keys, keys);
	/* A last page has no "next"; an empty page is a last page. */
	expect_recode(JA_KEY_LIST, "{\"keys\":[]}", "{\"keys\":[]}");
	expect_recode(JA_GROUP_LIST, "{\"groups\":[],\"next\":\"" S_G "\"}",
	              "{\"groups\":[],\"next\":\"" S_G "\"}");
	expect_refusal(JA_KEY_LIST, "{\"keys\":[],\"next\":\"abc\"}", WSOP_JSON_EBAD_VALUE,
	               "bad_request");
	expect_refusal(JA_KEY_LIST, "{\"keys\":[],\"next\":5}", WSOP_JSON_ETYPE, "bad_request");
	expect_refusal(JA_OBJECT_LIST, "{\"objects\":[],\"next\":\"\"}", WSOP_JSON_EBAD_VALUE,
	               "bad_request");
	/* Softcards are not paged. */
	expect_refusal(JA_SOFTCARD_LIST, "{\"protectiondomains\":[],\"next\":\"" S_G "\"}",
	               WSOP_JSON_EUNKNOWN_MEMBER, "bad_request");
}

static void listed_objects_may_leave_their_value_out(void **state)
{
	(void)state;
	const char *page = "{\"objects\":[" S_OBJ_NOVALUE(
	    S_O, "data", "65536",
	    "\"label\":\"d\"") "," S_OBJ_NOVALUE(S_K, "certificate", "0",
	                                         "\"certificate_type\":\"x509\",\"subject\":"
	                                         "\"MAA\"") "]}";
	expect_recode(JA_OBJECT_LIST, page, page);
	struct wsop_object_list l;
	assert_int_equal(wsop_json_decode_object_list(page, strlen(page), &l, NULL), 0);
	assert_int_equal(l.count, 2);
	assert_true(l.items[0].value_omitted);
	assert_int_equal(l.items[0].value_len, 65536);
	assert_false(l.items[0].attributes.value_present);
	assert_true(l.items[1].value_omitted);
	assert_int_equal(l.items[1].value_len, 0);
	wsop_object_list_free(&l);
	/* A value and value_len at once; a length out of bounds. */
	expect_refusal(JA_OBJECT, S_OBJ_NOVALUE(S_O, "data", "3", "\"value\":\"AQID\""),
	               WSOP_JSON_EBAD_VALUE, "bad_request");
	expect_refusal(JA_OBJECT, S_OBJ_NOVALUE(S_O, "data", "65537", ""), WSOP_JSON_ETYPE,
	               "bad_request");
	expect_refusal(JA_OBJECT, S_OBJ_NOVALUE(S_O, "data", "-1", ""), WSOP_JSON_ETYPE,
	               "bad_request");
	/* A certificate still needs its value when none is said to be left out. */
	expect_refusal(JA_OBJECT,
	               "{\"id\":\"" S_O "\",\"protectiondomain\":\"" S_SC
	               "\",\"class\":\"certificate\",\"created\":7,\"attributes\":{"
	               "\"certificate_type\":\"x509\",\"subject\":\"MAA\"}}",
	               WSOP_JSON_EMISSING, "bad_request");
}

/* n keys with ids 00000000-0000-4000-8000-00000000000i. */
static void fill_keys(struct wsop_key_list *l, size_t n)
{
	memset(l, 0, sizeof(*l));
	l->items = calloc(n, sizeof(*l->items));
	assert_non_null(l->items);
	l->count = n;
	for (size_t i = 0; i < n; i++) {
		struct wsop_key *k = &l->items[i];
		snprintf(k->id, sizeof(k->id), "00000000-0000-4000-8000-%012zu", i);
		snprintf(k->group, sizeof(k->group), "%s", S_G);
		snprintf(k->path, sizeof(k->path), "km/v1/groups/%s/keys/%s", S_G, k->id);
		snprintf(k->protectiondomain, sizeof(k->protectiondomain), "%s", S_SC);
		k->size = 128;
		snprintf(k->attributes.label, sizeof(k->attributes.label), "k%zu", i);
	}
}

static void page_encoder_cuts_by_bytes_and_names_the_next(void **state)
{
	(void)state;
	struct wsop_key_list in, back;
	char *text;
	size_t len, taken;
	fill_keys(&in, 10);

	/* Room for everything: all ten, in->next as given (none). */
	assert_int_equal(wsop_json_encode_key_page(&in, WSOP_PAGE_MAX_BYTES, &taken, &text, &len),
	                 0);
	assert_int_equal(taken, 10);
	assert_int_equal(wsop_json_decode_key_list(text, len, &back, NULL), 0);
	assert_int_equal(back.count, 10);
	assert_string_equal(back.next, "");
	wsop_key_list_free(&back);
	free(text);

	/* The store said more follow: "next" is the last id. */
	snprintf(in.next, sizeof(in.next), "%s", in.items[9].id);
	assert_int_equal(wsop_json_encode_key_page(&in, WSOP_PAGE_MAX_BYTES, &taken, &text, &len),
	                 0);
	assert_int_equal(wsop_json_decode_key_list(text, len, &back, NULL), 0);
	assert_string_equal(back.next, in.items[9].id);
	wsop_key_list_free(&back);
	free(text);

	/* A budget for about three: the page stops within it and goes on
	 * after the last key it carries. */
	size_t one = 0;
	assert_int_equal(wsop_json_encode_key(&in.items[0], &text, &one), 0);
	free(text);
	size_t budget = 3 * one + 100;
	assert_int_equal(wsop_json_encode_key_page(&in, budget, &taken, &text, &len), 0);
	assert_true(len <= budget);
	assert_in_range(taken, 1, 3);
	assert_int_equal(wsop_json_decode_key_list(text, len, &back, NULL), 0);
	assert_int_equal(back.count, taken);
	assert_string_equal(back.next, in.items[taken - 1].id);
	wsop_key_list_free(&back);
	free(text);

	/* Too small for even one: one all the same, so a page always advances. */
	assert_int_equal(wsop_json_encode_key_page(&in, 1, &taken, &text, &len), 0);
	assert_int_equal(taken, 1);
	assert_int_equal(wsop_json_decode_key_list(text, len, &back, NULL), 0);
	assert_string_equal(back.next, in.items[0].id);
	wsop_key_list_free(&back);
	free(text);

	/* No budget, no output. */
	assert_int_equal(wsop_json_encode_key_page(&in, 0, &taken, &text, &len), -EINVAL);
	assert_int_equal(wsop_json_encode_key_page(NULL, 10, &taken, &text, &len), -EINVAL);
	wsop_key_list_free(&in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_sample_body_decodes_and_re_encodes_identically),
		cmocka_unit_test(whitespace_and_member_order_do_not_matter),
		cmocka_unit_test(softcard_struct_round_trip),
		cmocka_unit_test(softcard_lockout_members),
		cmocka_unit_test(key_generate_request_defaults),
		cmocka_unit_test(key_struct_round_trip_with_binary_id),
		cmocka_unit_test(object_struct_round_trip_with_empty_values),
		cmocka_unit_test(crypto_struct_round_trip),
		cmocka_unit_test(passphrase_structs_are_wiped),
		cmocka_unit_test(encoders_refuse_what_cannot_be_written),
		cmocka_unit_test(encoders_do_not_judge_names),
		cmocka_unit_test(refuses_what_is_not_one_json_object),
		cmocka_unit_test(refuses_trailing_garbage),
		cmocka_unit_test(nesting_of_8_levels_parses_and_9_is_refused),
		cmocka_unit_test(refuses_bodies_over_1_mib_before_parsing),
		cmocka_unit_test(refuses_unknown_members),
		cmocka_unit_test(refuses_missing_required_members),
		cmocka_unit_test(refuses_wrong_types),
		cmocka_unit_test(refuses_values_outside_their_domain),
		cmocka_unit_test(refuses_bad_base64url),
		cmocka_unit_test(names_and_passphrases_get_their_own_codes),
		cmocka_unit_test(key_sizes_other_than_128_192_256_are_bad_key_size),
		cmocka_unit_test(key_attributes_not_allowed_are_bad_attribute),
		cmocka_unit_test(object_attributes_of_the_other_class_are_bad_attribute),
		cmocka_unit_test(crypto_requests_get_their_own_codes),
		cmocka_unit_test(random_requests_are_bounded),
		cmocka_unit_test(duplicate_members_keep_the_last_value),
		cmocka_unit_test(empty_body_or_empty_object),
		cmocka_unit_test(codes_map_to_statuses),
		cmocka_unit_test(list_pages_carry_next),
		cmocka_unit_test(listed_objects_may_leave_their_value_out),
		cmocka_unit_test(page_encoder_cuts_by_bytes_and_names_the_next),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
