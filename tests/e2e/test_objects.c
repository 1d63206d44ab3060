/* End-to-end: data objects and certificates of a softcard. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests/e2e/e2e.h"

#define PASS "object pass phrase"

struct objects_fixture {
	struct e2e_fixture base; /* first: e2e_teardown frees it */
	char softcard[41];
	char objects[128]; /* "/km/v1/protectiondomains/<id>/objects" */
};

static int setup(void **state)
{
	struct objects_fixture *fx = e2e_fixture_new(sizeof(*fx));

	if (fx == NULL)
		return -1;
	e2e_softcard_ok(fx->base.conn, "objs", PASS, fx->softcard);
	e2e_activate_ok(fx->base.conn, fx->softcard, PASS);
	snprintf(fx->objects, sizeof(fx->objects), "/km/v1/protectiondomains/%s/objects",
	         fx->softcard);
	*state = fx;
	return 0;
}

static struct objects_fixture *fx_of(void **state)
{
	return *state;
}

static void data_object_create_answers_201_with_its_attributes(void **state)
{
	struct objects_fixture *fx = fx_of(state);
	struct e2e_answer ans;
	json_object *o, *a;

	o = e2e_call_ok(fx->base.conn, "POST", fx->objects,
	                "{\"class\":\"data\",\"attributes\":{\"label\":\"note\",\"id\":\"AAE\","
	                "\"application\":\"app\",\"object_id\":\"BgM\",\"value\":\"aGVsbG8\"}}",
	                201, &ans);
	e2e_assert_members(o, "id", "protectiondomain", "class", "created", "attributes", NULL);
	assert_int_equal(strlen(e2e_str(o, "id")), 36);
	assert_string_equal(e2e_str(o, "protectiondomain"), fx->softcard);
	assert_string_equal(e2e_str(o, "class"), "data");
	a = e2e_obj(o, "attributes");
	e2e_assert_members(a, "label", "id", "application", "object_id", "value", NULL);
	assert_string_equal(e2e_str(a, "label"), "note");
	assert_string_equal(e2e_str(a, "id"), "AAE");
	assert_string_equal(e2e_str(a, "application"), "app");
	assert_string_equal(e2e_str(a, "object_id"), "BgM");
	assert_string_equal(e2e_str(a, "value"), "aGVsbG8");
	e2e_answer_free(&ans);

	/* Every data attribute is optional. */
	o = e2e_call_ok(fx->base.conn, "POST", fx->objects,
	                "{\"class\":\"data\",\"attributes\":{}}", 201, &ans);
	e2e_assert_members(e2e_obj(o, "attributes"), NULL);
	e2e_answer_free(&ans);
}

static void certificate_create_answers_201_with_its_attributes(void **state)
{
	struct objects_fixture *fx = fx_of(state);
	struct e2e_answer ans;
	json_object *o, *a;

	o = e2e_call_ok(fx->base.conn, "POST", fx->objects,
	                "{\"class\":\"certificate\",\"attributes\":{\"certificate_type\":\"x509\","
	                "\"label\":\"c\",\"id\":\"AQ\",\"value\":\"MIIB\",\"subject\":\"MAA\","
	                "\"issuer\":\"MAA\",\"serial_number\":\"AQ\",\"start_date\":\"20260101\","
	                "\"end_date\":\"20270101\"}}",
	                201, &ans);
	assert_string_equal(e2e_str(o, "class"), "certificate");
	a = e2e_obj(o, "attributes");
	e2e_assert_members(a, "certificate_type", "label", "id", "value", "subject", "issuer",
	                   "serial_number", "start_date", "end_date", NULL);
	assert_string_equal(e2e_str(a, "certificate_type"), "x509");
	assert_string_equal(e2e_str(a, "start_date"), "20260101");
	assert_string_equal(e2e_str(a, "subject"), "MAA");
	e2e_answer_free(&ans);
}

static void certificate_create_needs_type_value_and_subject(void **state)
{
	struct objects_fixture *fx = fx_of(state);

	e2e_expect_error(state, "POST", fx->objects,
	                 "{\"class\":\"certificate\",\"attributes\":{\"value\":\"MIIB\","
	                 "\"subject\":\"MAA\"}}",
	                 400, "bad_request");
	e2e_expect_error(state, "POST", fx->objects,
	                 "{\"class\":\"certificate\",\"attributes\":{\"certificate_type\":\"x509\","
	                 "\"subject\":\"MAA\"}}",
	                 400, "bad_request");
	e2e_expect_error(state, "POST", fx->objects,
	                 "{\"class\":\"certificate\",\"attributes\":{\"certificate_type\":\"x509\","
	                 "\"value\":\"MIIB\"}}",
	                 400, "bad_request");
}

static void object_create_refuses_attributes_of_the_other_class_or_out_of_bounds(void **state)
{
	struct objects_fixture *fx = fx_of(state);
	size_t big = 65537;
	uint8_t *value = calloc(1, big);
	char *b64, *body;

	e2e_expect_error(state, "POST", fx->objects,
	                 "{\"class\":\"data\",\"attributes\":{\"subject\":\"MAA\"}}", 400,
	                 "bad_attribute");
	e2e_expect_error(state, "POST", fx->objects,
	                 "{\"class\":\"certificate\",\"attributes\":{\"certificate_type\":\"x509\","
	                 "\"value\":\"MIIB\",\"subject\":\"MAA\",\"application\":\"a\"}}",
	                 400, "bad_attribute");
	e2e_expect_error(state, "POST", fx->objects,
	                 "{\"class\":\"certificate\",\"attributes\":{\"certificate_type\":\"x509\","
	                 "\"value\":\"MIIB\",\"subject\":\"MAA\",\"start_date\":\"20260230\"}}",
	                 400, "bad_attribute");
	e2e_expect_error(state, "POST", fx->objects, "{\"class\":\"key\",\"attributes\":{}}", 400,
	                 "bad_request");

	assert_non_null(value);
	b64 = e2e_b64(value, big);
	body = malloc(strlen(b64) + 64);
	assert_non_null(body);
	sprintf(body, "{\"class\":\"data\",\"attributes\":{\"value\":\"%s\"}}", b64);
	e2e_expect_error(state, "POST", fx->objects, body, 400, "bad_attribute");
	free(body);
	free(b64);
	free(value);
}

static void objects_need_the_softcard_active(void **state)
{
	struct objects_fixture *fx = fx_of(state);
	char target[160];
	struct e2e_answer ans;

	snprintf(target, sizeof(target), "/km/v1/protectiondomains/%s/deactivate", fx->softcard);
	e2e_call_ok(fx->base.conn, "POST", target, NULL, 200, &ans);
	e2e_answer_free(&ans);
	e2e_expect_error(state, "POST", fx->objects, "{\"class\":\"data\",\"attributes\":{}}", 403,
	                 "not_active");
	e2e_expect_error(state, "GET", fx->objects, NULL, 403, "not_active");
}

static void object_list_get_and_delete(void **state)
{
	struct objects_fixture *fx = fx_of(state);
	struct e2e_answer ans;
	char id[37], target[200];
	json_object *arr;

	e2e_call_ok(fx->base.conn, "POST", fx->objects,
	            "{\"class\":\"data\",\"attributes\":{\"label\":\"first\"}}", 201, &ans);
	snprintf(id, sizeof(id), "%s", e2e_str(ans.json, "id"));
	e2e_answer_free(&ans);
	e2e_call_ok(fx->base.conn, "POST", fx->objects,
	            "{\"class\":\"data\",\"attributes\":{\"label\":\"second\"}}", 201, &ans);
	e2e_answer_free(&ans);

	e2e_call_ok(fx->base.conn, "GET", fx->objects, NULL, 200, &ans);
	e2e_assert_members(ans.json, "objects", NULL);
	arr = e2e_arr(ans.json, "objects");
	assert_int_equal(json_object_array_length(arr), 2);
	/* Listings are in id order, not creation order. */
	assert_true(strcmp(e2e_str(json_object_array_get_idx(arr, 0), "id"), id) == 0 ||
	            strcmp(e2e_str(json_object_array_get_idx(arr, 1), "id"), id) == 0);
	assert_true(strcmp(e2e_str(json_object_array_get_idx(arr, 0), "id"),
	                   e2e_str(json_object_array_get_idx(arr, 1), "id")) < 0);
	e2e_answer_free(&ans);

	snprintf(target, sizeof(target), "%s/%s", fx->objects, id);
	e2e_call_ok(fx->base.conn, "GET", target, NULL, 200, &ans);
	assert_string_equal(e2e_str(e2e_obj(ans.json, "attributes"), "label"), "first");
	e2e_answer_free(&ans);
	e2e_delete_gone_ok(state, target);
	e2e_call_ok(fx->base.conn, "GET", fx->objects, NULL, 200, &ans);
	assert_int_equal(json_object_array_length(e2e_arr(ans.json, "objects")), 1);
	e2e_answer_free(&ans);
}

static void objects_of_an_unknown_softcard_are_not_found(void **state)
{
	e2e_expect_error(
	    state, "GET",
	    "/km/v1/protectiondomains/0000000000000000000000000000000000000000/objects", NULL, 404,
	    "not_found");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, e2e_teardown)
		T(data_object_create_answers_201_with_its_attributes),
		T(certificate_create_answers_201_with_its_attributes),
		T(certificate_create_needs_type_value_and_subject),
		T(object_create_refuses_attributes_of_the_other_class_or_out_of_bounds),
		T(objects_need_the_softcard_active),
		T(object_list_get_and_delete),
		T(objects_of_an_unknown_softcard_are_not_found),
#undef T
	};

	return e2e_main("e2e_objects", tests, sizeof(tests) / sizeof(tests[0]));
}
