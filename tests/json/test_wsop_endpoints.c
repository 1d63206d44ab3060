/*
 * The endpoint table of ipc/wsop_endpoints.c: its rows, the path each row
 * formats, and the matcher's edges (bad ids, lengths, slashes, extra
 * segments, percent-encoding, methods and Allow).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ipc/wsop_endpoints.h"

#define SC "0123456789abcdef0123456789abcdef01234567"
#define U1 "0123abcd-4567-89ef-0123-456789abcdef"
#define U2 "ffffffff-0000-1111-2222-333333333333"
#define PD "/km/v1/protectiondomains"
#define GR "/km/v1/groups"

/* The row routed for method and path (NULL when none) and its Allow. */
static const struct wsop_endpoint *route(const char *method, const char *path,
                                         struct wsop_path_params *p, char allow[32])
{
	return wsop_endpoint_route(method, path, p, allow, 32);
}

static void expect_row(const char *method, const char *path, enum wsop_endpoint_id id)
{
	struct wsop_path_params p;
	char allow[32] = "x";
	const struct wsop_endpoint *ep = route(method, path, &p, allow);

	assert_non_null(ep);
	assert_int_equal(ep->id, id);
	assert_string_equal(allow, "");
}

static void expect_unknown(const char *path)
{
	struct wsop_path_params p;
	char allow[32] = "x";

	assert_null(route("GET", path, &p, allow));
	assert_string_equal(allow, "");
	assert_null(route("POST", path, &p, allow));
	assert_null(route("DELETE", path, &p, allow));
	assert_string_equal(allow, "");
}

static void every_row_is_whole_and_in_its_place(void **state)
{
	(void)state;
	for (int i = 0; i < WSOP_EP_COUNT; i++) {
		const struct wsop_endpoint *ep = wsop_endpoint((enum wsop_endpoint_id)i);

		assert_non_null(ep);
		assert_int_equal(ep->id, i);
		assert_non_null(ep->name);
		assert_non_null(ep->method);
		assert_non_null(ep->pattern);
		assert_int_equal(ep->pattern[0], '/');
		/* A mutating request is a POST or a DELETE, a GET never is. */
		if (ep->idempotency_key)
			assert_true(strcmp(ep->method, "GET") != 0);
		else
			assert_true(strcmp(ep->method, "DELETE") != 0);
		/* 204 answers have no body to decode, every other one has. */
		assert_true(ep->status == 200 || ep->status == 201 || ep->status == 204);
		assert_int_equal(ep->decode_answer == NULL, ep->status == 204);
		assert_int_equal(ep->answer_size == 0, ep->status == 204);
		if (strcmp(ep->method, "POST") != 0)
			assert_null(ep->encode_request);
		for (int j = 0; j < i; j++) {
			const struct wsop_endpoint *o = wsop_endpoint((enum wsop_endpoint_id)j);
			assert_string_not_equal(o->name, ep->name);
			assert_false(strcmp(o->method, ep->method) == 0 &&
			             strcmp(o->pattern, ep->pattern) == 0);
		}
	}
	assert_null(wsop_endpoint(WSOP_EP_COUNT));
	assert_null(wsop_endpoint((enum wsop_endpoint_id) - 1));
}

/* Sample ids for a row's parameters, in order. */
static size_t sample_ids(const struct wsop_endpoint *ep, const char *ids[WSOP_PATH_PARAMS_MAX])
{
	size_t n = 0;

	for (const char *p = strchr(ep->pattern, '{'); p != NULL; p = strchr(p + 1, '{')) {
		assert_true(n < WSOP_PATH_PARAMS_MAX);
		ids[n] = strncmp(p, "{softcard}", 10) == 0 ? SC : n == 0 ? U1 : U2;
		n++;
	}
	return n;
}

static void each_row_routes_the_path_it_formats(void **state)
{
	(void)state;
	for (int i = 0; i < WSOP_EP_COUNT; i++) {
		const struct wsop_endpoint *ep = wsop_endpoint((enum wsop_endpoint_id)i);
		const char *ids[WSOP_PATH_PARAMS_MAX] = { NULL, NULL };
		size_t n = sample_ids(ep, ids);
		struct wsop_path_params p;
		char path[WSOP_PATH_MAX];
		char allow[32];

		int len = wsop_endpoint_path(ep, ids, n, path, sizeof(path));
		assert_true(len > 0);
		assert_int_equal((size_t)len, strlen(path));
		assert_ptr_equal(route(ep->method, path, &p, allow), ep);
		assert_int_equal(p.count, n);
		for (size_t k = 0; k < n; k++)
			assert_string_equal(p.id[k], ids[k]);
	}
}

static void paths_are_the_documented_ones(void **state)
{
	const struct wsop_endpoint *ep = wsop_endpoint(WSOP_EP_OBJECT_GET);
	const char *ids[] = { SC, U1 };
	char path[WSOP_PATH_MAX];

	(void)state;
	assert_int_equal(wsop_endpoint_path(ep, ids, 2, path, sizeof(path)),
	                 (int)strlen(PD "/" SC "/objects/" U1));
	assert_string_equal(path, PD "/" SC "/objects/" U1);
	expect_row("GET", "/health", WSOP_EP_HEALTH);
	expect_row("GET", PD, WSOP_EP_SOFTCARD_LIST);
	expect_row("POST", PD, WSOP_EP_SOFTCARD_CREATE);
	expect_row("DELETE", PD "/" SC, WSOP_EP_SOFTCARD_DELETE);
	expect_row("POST", PD "/" SC "/activate", WSOP_EP_SOFTCARD_ACTIVATE);
	expect_row("POST", PD "/" SC "/deactivate", WSOP_EP_SOFTCARD_DEACTIVATE);
	expect_row("GET", GR "/" U1 "/keys/" U2, WSOP_EP_KEY_GET);
	expect_row("POST", "/crypto/v1/decrypt", WSOP_EP_DECRYPT);
}

static void bad_ids_are_refused_before_a_path_is_written(void **state)
{
	const struct wsop_endpoint *get = wsop_endpoint(WSOP_EP_KEY_GET);
	const struct wsop_endpoint *health = wsop_endpoint(WSOP_EP_HEALTH);
	char path[WSOP_PATH_MAX];
	const char *bad[][2] = {
		{ U1, "../../health" },
		{ U1, U2 "/x" },
		{ U1, "FFFFFFFF-0000-1111-2222-333333333333" },
		{ U1, U2 "0" },
		{ U1, "" },
		{ SC, U2 }, /* a softcard id where a uuid is due */
		{ U1, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(wsop_endpoint_path(get, bad[i], 2, path, sizeof(path)), -EINVAL);
	/* too few and too many ids */
	assert_int_equal(wsop_endpoint_path(get, bad[0], 1, path, sizeof(path)), -EINVAL);
	assert_int_equal(wsop_endpoint_path(health, bad[0], 1, path, sizeof(path)), -EINVAL);
	assert_int_equal(wsop_endpoint_path(health, NULL, 0, path, sizeof(path)), 7);
	const char *sc_bad[] = { "0123456789ABCDEF0123456789ABCDEF01234567" };
	assert_int_equal(
	    wsop_endpoint_path(wsop_endpoint(WSOP_EP_SOFTCARD_GET), sc_bad, 1, path, sizeof(path)),
	    -EINVAL);
	assert_int_equal(wsop_endpoint_path(NULL, NULL, 0, path, sizeof(path)), -EINVAL);
}

static void a_path_too_long_for_the_buffer_is_not_cut(void **state)
{
	const struct wsop_endpoint *ep = wsop_endpoint(WSOP_EP_KEY_GET);
	const char *ids[] = { U1, U2 };
	const size_t want = strlen(GR "/" U1 "/keys/" U2);
	char path[WSOP_PATH_MAX];

	(void)state;
	assert_int_equal(wsop_endpoint_path(ep, ids, 2, path, want + 1), (int)want);
	assert_int_equal(wsop_endpoint_path(ep, ids, 2, path, want), -ENOBUFS);
	assert_int_equal(wsop_endpoint_path(ep, ids, 2, path, 5), -ENOBUFS);
	assert_int_equal(wsop_endpoint_path(ep, ids, 2, path, 0), -ENOBUFS);
}

static void ids_of_the_wrong_shape_match_nothing(void **state)
{
	char long_seg[2048];

	(void)state;
	expect_unknown(PD "/0123456789ABCDEF0123456789ABCDEF01234567");  /* upper case */
	expect_unknown(PD "/0123456789abcdef0123456789abcdef0123456g");  /* not hex */
	expect_unknown(PD "/0123456789abcdef0123456789abcdef0123456");   /* 39 */
	expect_unknown(PD "/0123456789abcdef0123456789abcdef012345678"); /* 41 */
	expect_unknown(PD "/" U1);                                       /* a uuid */
	expect_unknown(GR "/" SC "/keys");                               /* a softcard id */
	expect_unknown(GR "/0123ABCD-4567-89ef-0123-456789abcdef/keys");
	expect_unknown(GR "/0123abcd-4567-89ef-0123-456789abcdef0/keys");
	expect_unknown(GR "/0123abcd_4567-89ef-0123-456789abcdef/keys");
	expect_unknown(GR "/" U1 "/keys/" U2 "\x01");
	memset(long_seg, 'a', sizeof(long_seg));
	memcpy(long_seg, PD "/", strlen(PD "/"));
	long_seg[sizeof(long_seg) - 1] = '\0';
	expect_unknown(long_seg);
}

static void slashes_and_segments_must_be_exact(void **state)
{
	(void)state;
	expect_unknown("");
	expect_unknown("/");
	expect_unknown("health");
	expect_unknown("/health/");
	expect_unknown("//health");
	expect_unknown("/health//");
	expect_unknown("/health/x");
	expect_unknown("/HEALTH");
	expect_unknown("/km/v1");
	expect_unknown(PD "/");
	expect_unknown(PD "//");
	expect_unknown(PD "/" SC "/");
	expect_unknown(PD "//" SC);
	expect_unknown(PD "/" SC "/activate/");
	expect_unknown(PD "/" SC "/objects/" U1 "/x");
	expect_unknown(PD "/" SC "/objects/" U1 "/");
	expect_unknown(GR "/" U1);
	expect_unknown(GR "/" U1 "/keys/" U2 "/" U1);
	expect_unknown("/crypto/v1/encrypt/");
	expect_unknown("/crypto/v1");
	expect_unknown(PD "/" SC "/activate" PD);
}

static void percent_encoding_is_not_decoded(void **state)
{
	(void)state;
	expect_unknown("/heal%74h");
	expect_unknown("/health%2F");
	expect_unknown("%2Fhealth");
	expect_unknown("/km/v1/protection%64omains");
	expect_unknown(PD "/%30123456789abcdef0123456789abcdef01234567");
	expect_unknown(PD "/" SC "%2Factivate");
	expect_unknown(GR "/" U1 "%2Fkeys");
}

static void a_known_path_with_another_method_lists_the_allowed(void **state)
{
	struct wsop_path_params p;
	char allow[32];

	(void)state;
	assert_null(route("PATCH", PD, &p, allow));
	assert_string_equal(allow, "GET, POST");
	assert_null(route("POST", PD "/" SC, &p, allow));
	assert_string_equal(allow, "GET, DELETE");
	assert_null(route("GET", "/crypto/v1/encrypt", &p, allow));
	assert_string_equal(allow, "POST");
	assert_null(route("HEAD", "/health", &p, allow));
	assert_string_equal(allow, "GET");
	/* methods are compared exactly */
	assert_null(route("get", "/health", &p, allow));
	assert_string_equal(allow, "GET");
	assert_null(route("", PD "/" SC "/objects/" U1, &p, allow));
	assert_string_equal(allow, "GET, DELETE");
	/* a small Allow is cut, never overrun */
	char tiny[6] = "zzzzz";
	assert_null(wsop_endpoint_route("PUT", PD, &p, tiny, 6));
	assert_string_equal(tiny, "GET, ");
	assert_null(wsop_endpoint_route("PUT", PD, &p, NULL, 0));
	assert_int_equal(p.count, 0);
}

static void named_parameters_give_their_ids(void **state)
{
	const struct wsop_endpoint *obj = wsop_endpoint(WSOP_EP_OBJECT_GET);
	const struct wsop_endpoint *key = wsop_endpoint(WSOP_EP_KEY_DELETE);
	struct wsop_path_params p;
	char allow[32];

	(void)state;
	assert_ptr_equal(route("GET", PD "/" SC "/objects/" U1, &p, allow), obj);
	assert_string_equal(wsop_path_param(obj, &p, "softcard"), SC);
	assert_string_equal(wsop_path_param(obj, &p, "object"), U1);
	assert_null(wsop_path_param(obj, &p, "group"));
	assert_null(wsop_path_param(obj, &p, "soft"));
	assert_ptr_equal(route("DELETE", GR "/" U1 "/keys/" U2, &p, allow), key);
	assert_string_equal(wsop_path_param(key, &p, "group"), U1);
	assert_string_equal(wsop_path_param(key, &p, "key"), U2);
	assert_null(wsop_path_param(key, &p, "softcard"));
	assert_null(wsop_path_param(wsop_endpoint(WSOP_EP_HEALTH), &p, "softcard"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_row_is_whole_and_in_its_place),
		cmocka_unit_test(each_row_routes_the_path_it_formats),
		cmocka_unit_test(paths_are_the_documented_ones),
		cmocka_unit_test(bad_ids_are_refused_before_a_path_is_written),
		cmocka_unit_test(a_path_too_long_for_the_buffer_is_not_cut),
		cmocka_unit_test(ids_of_the_wrong_shape_match_nothing),
		cmocka_unit_test(slashes_and_segments_must_be_exact),
		cmocka_unit_test(percent_encoding_is_not_decoded),
		cmocka_unit_test(a_known_path_with_another_method_lists_the_allowed),
		cmocka_unit_test(named_parameters_give_their_ids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
