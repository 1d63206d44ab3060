/* End-to-end: key groups and AES keys. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests/e2e/e2e.h"

#define PASS "key pass phrase"

static bool is_uuid(const char *s)
{
	if (strlen(s) != 36)
		return false;
	for (size_t i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-'
		         : !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return true;
}

static void assert_group(json_object *g, const char *name, const char *softcard)
{
	e2e_assert_members(g, "id", "name", "protectiondomain", "created", NULL);
	assert_true(is_uuid(e2e_str(g, "id")));
	assert_string_equal(e2e_str(g, "name"), name);
	assert_string_equal(e2e_str(g, "protectiondomain"), softcard);
	assert_true(e2e_int(g, "created") > 1600000000);
}

/* Exactly the README's members: nothing that could carry key material. */
static void assert_key(json_object *k, const char *group, const char *softcard, int bits,
                       const char *label, bool with_id)
{
	char path[128];
	json_object *a;

	e2e_assert_members(k, "id", "path", "group", "protectiondomain", "algorithm", "size",
	                   "created", "attributes", NULL);
	assert_true(is_uuid(e2e_str(k, "id")));
	snprintf(path, sizeof(path), "km/v1/groups/%s/keys/%s", group, e2e_str(k, "id"));
	assert_string_equal(e2e_str(k, "path"), path);
	assert_string_equal(e2e_str(k, "group"), group);
	assert_string_equal(e2e_str(k, "protectiondomain"), softcard);
	assert_string_equal(e2e_str(k, "algorithm"), "AES");
	assert_int_equal(e2e_int(k, "size"), bits);
	assert_true(e2e_int(k, "created") > 1600000000);
	a = e2e_obj(k, "attributes");
	if (with_id)
		e2e_assert_members(a, "label", "id", "encrypt", "decrypt", "sign", "verify", "wrap",
		                   "unwrap", "derive", "sensitive", "always_sensitive",
		                   "extractable", "never_extractable", "local", NULL);
	else
		e2e_assert_members(a, "label", "encrypt", "decrypt", "sign", "verify", "wrap",
		                   "unwrap", "derive", "sensitive", "always_sensitive",
		                   "extractable", "never_extractable", "local", NULL);
	assert_string_equal(e2e_str(a, "label"), label);
	assert_false(e2e_bool(a, "sign"));
	assert_false(e2e_bool(a, "verify"));
	assert_false(e2e_bool(a, "wrap"));
	assert_false(e2e_bool(a, "unwrap"));
	assert_false(e2e_bool(a, "derive"));
	assert_true(e2e_bool(a, "sensitive"));
	assert_true(e2e_bool(a, "always_sensitive"));
	assert_false(e2e_bool(a, "extractable"));
	assert_true(e2e_bool(a, "never_extractable"));
	assert_true(e2e_bool(a, "local"));
}

static void group_create_answers_201_group(void **state)
{
	char sc[41];
	struct e2e_answer ans;
	char body[256];

	e2e_softcard_ok(e2e_conn_of(state), "gcard", PASS, sc);
	snprintf(body, sizeof(body), "{\"name\":\"pkcs11\",\"protectiondomain\":\"%s\"}", sc);
	assert_group(e2e_call_ok(e2e_conn_of(state), "POST", "/km/v1/groups", body, 201, &ans),
	             "pkcs11", sc);
	e2e_answer_free(&ans);
}

static void group_create_refuses_invalid_name_and_bad_softcard(void **state)
{
	char sc[41], body[256];

	e2e_softcard_ok(e2e_conn_of(state), "gcard", PASS, sc);
	snprintf(body, sizeof(body), "{\"name\":\"no spaces\",\"protectiondomain\":\"%s\"}", sc);
	e2e_expect_error(state, "POST", "/km/v1/groups", body, 400, "invalid_name");
	snprintf(body, sizeof(body), "{\"name\":\"\",\"protectiondomain\":\"%s\"}", sc);
	e2e_expect_error(state, "POST", "/km/v1/groups", body, 400, "invalid_name");
	e2e_expect_error(state, "POST", "/km/v1/groups",
	                 "{\"name\":\"g\",\"protectiondomain\":\"ABC\"}", 400, "bad_request");
	e2e_expect_error(state, "POST", "/km/v1/groups",
	                 "{\"name\":\"g\",\"protectiondomain\":"
	                 "\"0000000000000000000000000000000000000000\"}",
	                 404, "not_found");
	e2e_expect_error(state, "POST", "/km/v1/groups", "{\"name\":\"g\"}", 400, "bad_request");
}

static void group_list_filters_by_softcard(void **state)
{
	char a[41], b[41], ga[37], gb[37], target[128];
	struct e2e_answer ans;
	json_object *arr;

	e2e_softcard_ok(e2e_conn_of(state), "a", PASS, a);
	e2e_softcard_ok(e2e_conn_of(state), "b", PASS, b);
	e2e_group_ok(e2e_conn_of(state), "ga", a, ga);
	e2e_group_ok(e2e_conn_of(state), "gb", b, gb);

	arr = e2e_arr(e2e_call_ok(e2e_conn_of(state), "GET", "/km/v1/groups", NULL, 200, &ans),
	              "groups");
	e2e_assert_members(ans.json, "groups", NULL);
	assert_int_equal(json_object_array_length(arr), 2);
	e2e_answer_free(&ans);

	snprintf(target, sizeof(target), "/km/v1/groups?protectiondomain=%s", b);
	arr = e2e_arr(e2e_call_ok(e2e_conn_of(state), "GET", target, NULL, 200, &ans), "groups");
	assert_int_equal(json_object_array_length(arr), 1);
	assert_group(json_object_array_get_idx(arr, 0), "gb", b);
	assert_string_equal(e2e_str(json_object_array_get_idx(arr, 0), "id"), gb);
	e2e_answer_free(&ans);
}

static void key_generate_needs_the_softcard_active(void **state)
{
	char sc[41], group[37], target[128];

	e2e_softcard_ok(e2e_conn_of(state), "inactive", PASS, sc);
	e2e_group_ok(e2e_conn_of(state), "g", sc, group);
	snprintf(target, sizeof(target), "/km/v1/groups/%s/keys", group);
	e2e_expect_error(state, "POST", target,
	                 "{\"algorithm\":\"AES\",\"size\":128,\"attributes\":{\"label\":\"k\"}}",
	                 403, "not_active");
	e2e_expect_error(state, "GET", target, NULL, 403, "not_active");
}

static void key_generate_answers_key_without_key_material(void **state)
{
	static const int sizes[] = { 128, 192, 256 };
	char sc[41], group[37], target[128];
	struct e2e_answer ans;

	e2e_ready_group_ok(e2e_conn_of(state), sc, group);
	snprintf(target, sizeof(target), "/km/v1/groups/%s/keys", group);
	for (size_t i = 0; i < 3; i++) {
		char body[256];
		json_object *k, *a;

		snprintf(body, sizeof(body),
		         "{\"algorithm\":\"AES\",\"size\":%d,\"attributes\":{\"label\":\"k1\","
		         "\"id\":\"AQID\",\"encrypt\":true,\"decrypt\":true,\"sign\":false,"
		         "\"verify\":false,\"wrap\":false,\"unwrap\":false,\"derive\":false}}",
		         sizes[i]);
		k = e2e_call_ok(e2e_conn_of(state), "POST", target, body, 201, &ans);
		assert_key(k, group, sc, sizes[i], "k1", true);
		a = e2e_obj(k, "attributes");
		assert_string_equal(e2e_str(a, "id"), "AQID");
		assert_true(e2e_bool(a, "encrypt"));
		assert_true(e2e_bool(a, "decrypt"));
		e2e_answer_free(&ans);
	}
}

static void key_generate_defaults_encrypt_and_decrypt_true(void **state)
{
	char sc[41], group[37], target[128];
	struct e2e_answer ans;
	json_object *k;

	e2e_ready_group_ok(e2e_conn_of(state), sc, group);
	snprintf(target, sizeof(target), "/km/v1/groups/%s/keys", group);
	k = e2e_call_ok(e2e_conn_of(state), "POST", target,
	                "{\"algorithm\":\"AES\",\"size\":256,\"attributes\":{\"label\":\"\"}}", 201,
	                &ans);
	assert_key(k, group, sc, 256, "", false);
	assert_true(e2e_bool(e2e_obj(k, "attributes"), "encrypt"));
	assert_true(e2e_bool(e2e_obj(k, "attributes"), "decrypt"));
	e2e_answer_free(&ans);

	k = e2e_call_ok(e2e_conn_of(state), "POST", target,
	                "{\"algorithm\":\"AES\",\"size\":128,\"attributes\":{\"label\":\"e\","
	                "\"decrypt\":false}}",
	                201, &ans);
	assert_true(e2e_bool(e2e_obj(k, "attributes"), "encrypt"));
	assert_false(e2e_bool(e2e_obj(k, "attributes"), "decrypt"));
	e2e_answer_free(&ans);
}

static void key_generate_refuses_bad_size(void **state)
{
	static const char *const sizes[] = { "0", "64", "100", "512", "-128" };
	char sc[41], group[37], target[128], body[256];

	e2e_ready_group_ok(e2e_conn_of(state), sc, group);
	snprintf(target, sizeof(target), "/km/v1/groups/%s/keys", group);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(body, sizeof(body),
		         "{\"algorithm\":\"AES\",\"size\":%s,\"attributes\":{\"label\":\"k\"}}",
		         sizes[i]);
		e2e_expect_error(state, "POST", target, body, 400, "bad_key_size");
	}
	e2e_expect_error(
	    state, "POST", target,
	    "{\"algorithm\":\"AES\",\"size\":\"128\",\"attributes\":{\"label\":\"k\"}}", 400,
	    "bad_request");
	e2e_expect_error(state, "POST", target,
	                 "{\"algorithm\":\"DES3\",\"size\":128,\"attributes\":{\"label\":\"k\"}}",
	                 400, "bad_request");
}

static void key_generate_refuses_sign_verify_wrap_unwrap_derive(void **state)
{
	static const char *const attrs[] = { "sign",   "verify", "wrap",
		                             "unwrap", "derive", "extractable" };
	char sc[41], group[37], target[128], body[256];
	struct e2e_answer ans;

	e2e_ready_group_ok(e2e_conn_of(state), sc, group);
	snprintf(target, sizeof(target), "/km/v1/groups/%s/keys", group);
	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		snprintf(body, sizeof(body),
		         "{\"algorithm\":\"AES\",\"size\":128,\"attributes\":{\"label\":\"k\","
		         "\"%s\":true}}",
		         attrs[i]);
		e2e_expect_error(state, "POST", target, body, 400, "bad_attribute");
	}
	/* Nothing was made. */
	e2e_call_ok(e2e_conn_of(state), "GET", target, NULL, 200, &ans);
	assert_int_equal(json_object_array_length(e2e_arr(ans.json, "keys")), 0);
	e2e_answer_free(&ans);
	e2e_expect_error(state, "POST", target,
	                 "{\"algorithm\":\"AES\",\"size\":128,\"attributes\":{}}", 400,
	                 "bad_request");
	e2e_expect_error(state, "POST", target,
	                 "{\"algorithm\":\"AES\",\"size\":128,\"attributes\":{\"label\":\"k\","
	                 "\"colour\":\"red\"}}",
	                 400, "bad_request");
}

static void key_list_and_get_answer_keys_without_key_material(void **state)
{
	char sc[41], group[37], path1[96], path2[96], target[160];
	struct e2e_answer ans;
	json_object *arr;

	e2e_ready_group_ok(e2e_conn_of(state), sc, group);
	e2e_key_ok(e2e_conn_of(state), group, "one", 128, NULL, path1);
	e2e_key_ok(e2e_conn_of(state), group, "two", 192, NULL, path2);

	snprintf(target, sizeof(target), "/km/v1/groups/%s/keys", group);
	e2e_call_ok(e2e_conn_of(state), "GET", target, NULL, 200, &ans);
	e2e_assert_members(ans.json, "keys", NULL);
	arr = e2e_arr(ans.json, "keys");
	assert_int_equal(json_object_array_length(arr), 2);
	/* Listings are in id order, not creation order. */
	size_t first =
	    strcmp(e2e_str(json_object_array_get_idx(arr, 0), "path"), path1) == 0 ? 0 : 1;
	assert_key(json_object_array_get_idx(arr, first), group, sc, 128, "one", false);
	assert_key(json_object_array_get_idx(arr, 1 - first), group, sc, 192, "two", false);
	assert_string_equal(e2e_str(json_object_array_get_idx(arr, first), "path"), path1);
	assert_string_equal(e2e_str(json_object_array_get_idx(arr, 1 - first), "path"), path2);
	e2e_answer_free(&ans);

	snprintf(target, sizeof(target), "/%s", path2);
	assert_key(e2e_call_ok(e2e_conn_of(state), "GET", target, NULL, 200, &ans), group, sc, 192,
	           "two", false);
	e2e_answer_free(&ans);
}

static void key_get_and_delete_answer_not_found_for_unknown_keys(void **state)
{
	char sc[41], group[37], path[96], target[160];

	e2e_ready_group_ok(e2e_conn_of(state), sc, group);
	e2e_key_ok(e2e_conn_of(state), group, "del", 256, NULL, path);
	snprintf(target, sizeof(target), "/%s", path);
	e2e_delete_gone_ok(state, target);
	e2e_expect_error(state, "GET",
	                 "/km/v1/groups/00000000-0000-0000-0000-000000000000/keys/"
	                 "00000000-0000-0000-0000-000000000000",
	                 NULL, 404, "not_found");
	e2e_expect_error(state, "POST", "/km/v1/groups/00000000-0000-0000-0000-000000000000/keys",
	                 "{\"algorithm\":\"AES\",\"size\":128,\"attributes\":{\"label\":\"k\"}}",
	                 404, "not_found");
}

static void key_get_needs_the_softcard_active(void **state)
{
	char sc[41], group[37], path[96], target[160];
	struct e2e_answer ans;

	e2e_ready_group_ok(e2e_conn_of(state), sc, group);
	e2e_key_ok(e2e_conn_of(state), group, "k", 128, NULL, path);
	snprintf(target, sizeof(target), "/km/v1/protectiondomains/%s/deactivate", sc);
	e2e_call_ok(e2e_conn_of(state), "POST", target, NULL, 200, &ans);
	e2e_answer_free(&ans);
	snprintf(target, sizeof(target), "/%s", path);
	e2e_expect_error(state, "GET", target, NULL, 403, "not_active");
	e2e_expect_error(state, "DELETE", target, NULL, 403, "not_active");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, e2e_setup, e2e_teardown)
		T(group_create_answers_201_group),
		T(group_create_refuses_invalid_name_and_bad_softcard),
		T(group_list_filters_by_softcard),
		T(key_generate_needs_the_softcard_active),
		T(key_generate_answers_key_without_key_material),
		T(key_generate_defaults_encrypt_and_decrypt_true),
		T(key_generate_refuses_bad_size),
		T(key_generate_refuses_sign_verify_wrap_unwrap_derive),
		T(key_list_and_get_answer_keys_without_key_material),
		T(key_get_and_delete_answer_not_found_for_unknown_keys),
		T(key_get_needs_the_softcard_active),
#undef T
	};

	return e2e_main("e2e_keys", tests, sizeof(tests) / sizeof(tests[0]));
}
