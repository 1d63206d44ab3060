/* cmocka tests of wsopd's command line, activation table and list queries. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "server/activation.h"
#include "server/options.h"
#include "server/paging.h"

#define SC1 "0123456789abcdef0123456789abcdef01234567"
#define SC2 "fedcba9876543210fedcba9876543210fedcba98"
#define CL1 "1111111111111111111111111111111111111111111111111111111111111111"
#define CL2 "2222222222222222222222222222222222222222222222222222222222222222"
#define G1  "00000000-0000-0000-0000-000000000001"
#define K1  "00000000-0000-0000-0000-0000000000a1"

static enum options_result parse(struct wsopd_options *o, char *err, int argc, char **argv)
{
	return options_parse(argc, argv, o, err, 256);
}

static void test_options_defaults(void **state)
{
	char *argv[] = { "wsopd", "--cert", "c", "--key", "k", "--ca", "a", "--store", "s", NULL };
	struct wsopd_options o;
	char err[256];

	assert_int_equal(parse(&o, err, 9, argv), OPTIONS_RUN);
	assert_string_equal(o.host, "127.0.0.1");
	assert_int_equal(o.port, 18001);
	assert_int_equal(o.threads, 4);
	assert_int_equal(o.max_clients, 64);
	assert_int_equal(o.log_level, 4);
	assert_string_equal(o.store_dir, "s");
}

static void test_options_listen_forms(void **state)
{
	char host[64];
	unsigned port;

	assert_int_equal(options_split_listen("127.0.0.1:0", host, sizeof(host), &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 0);
	assert_int_equal(options_split_listen("[::1]:18001", host, sizeof(host), &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 18001);
	assert_int_equal(options_split_listen("localhost:65535", host, sizeof(host), &port), 0);
	assert_true(options_split_listen("::1:80", host, sizeof(host), &port) < 0);
	assert_true(options_split_listen("[::1]80", host, sizeof(host), &port) < 0);
	assert_true(options_split_listen("host:65536", host, sizeof(host), &port) < 0);
	assert_true(options_split_listen("host:", host, sizeof(host), &port) < 0);
	assert_true(options_split_listen(":80", host, sizeof(host), &port) < 0);
	assert_true(options_split_listen("host:+80", host, sizeof(host), &port) < 0);
	assert_true(options_split_listen("host", host, sizeof(host), &port) < 0);
}

static void test_options_refusals(void **state)
{
	struct wsopd_options o;
	char err[256];
	char *missing[] = { "wsopd", "--cert", "c", "--key", "k", "--ca", "a", NULL };
	char *threads[] = { "wsopd", "--threads", "0", NULL };
	char *level[] = { "wsopd", "--log-level", "7", NULL };
	char *unknown[] = { "wsopd", "--nope", NULL };
	char *extra[] = { "wsopd", "stray", NULL };
	char *novalue[] = { "wsopd", "--cert", NULL };
	char *help[] = { "wsopd", "--help", NULL };
	char *version[] = { "wsopd", "--version", NULL };

	assert_int_equal(parse(&o, err, 7, missing), OPTIONS_ERROR);
	assert_non_null(strstr(err, "--store"));
	assert_int_equal(parse(&o, err, 3, threads), OPTIONS_ERROR);
	assert_non_null(strstr(err, "--threads"));
	assert_int_equal(parse(&o, err, 3, level), OPTIONS_ERROR);
	assert_int_equal(parse(&o, err, 2, unknown), OPTIONS_ERROR);
	assert_non_null(strstr(err, "--nope"));
	assert_int_equal(parse(&o, err, 2, extra), OPTIONS_ERROR);
	assert_int_equal(parse(&o, err, 2, novalue), OPTIONS_ERROR);
	assert_int_equal(parse(&o, err, 2, help), OPTIONS_HELP);
	assert_int_equal(parse(&o, err, 2, version), OPTIONS_VERSION);
}

static void test_activation_per_client(void **state)
{
	struct activation *act;
	struct keywrap_kek kek, out;

	memset(&kek, 0x5a, sizeof(kek));
	assert_int_equal(activation_create(&act), 0);
	assert_false(activation_is_active(act, SC1, CL1));
	assert_int_equal(activation_activate(act, SC1, CL1, &kek), 0);
	assert_true(activation_is_active(act, SC1, CL1));
	assert_false(activation_is_active(act, SC1, CL2));
	assert_false(activation_is_active(act, SC2, CL1));
	assert_int_equal(activation_get_kek(act, SC1, CL1, &out), 0);
	assert_memory_equal(&out, &kek, sizeof(kek));
	assert_int_equal(activation_get_kek(act, SC1, CL2, &out), -EACCES);
	activation_deactivate(act, SC1, CL2); /* not active: no effect */
	assert_true(activation_is_active(act, SC1, CL1));
	activation_deactivate(act, SC1, CL1);
	assert_false(activation_is_active(act, SC1, CL1));
	assert_int_equal(activation_get_kek(act, SC1, CL1, &out), -EACCES);
	activation_destroy(act);
}

static void test_key_cache_lives_while_any_client_active(void **state)
{
	struct activation *act;
	struct keywrap_kek kek;
	struct cached_key key, got;

	memset(&kek, 1, sizeof(kek));
	memset(&key, 0, sizeof(key));
	memcpy(key.softcard_id, SC1, sizeof(key.softcard_id));
	memset(key.key, 0xab, 16);
	key.key_len = 16;
	key.encrypt = true;
	assert_int_equal(activation_create(&act), 0);
	/* Not cached when nobody has the softcard active. */
	assert_int_equal(activation_key_insert(act, activation_generation(act), G1, K1, &key), 0);
	assert_int_equal(activation_key_lookup(act, G1, K1, CL1, &got), -ENOENT);

	assert_int_equal(activation_activate(act, SC1, CL1, &kek), 0);
	assert_int_equal(activation_activate(act, SC1, CL2, &kek), 0);
	assert_int_equal(activation_key_insert(act, activation_generation(act), G1, K1, &key), 0);
	assert_int_equal(activation_key_lookup(act, G1, K1, CL1, &got), 0);
	assert_memory_equal(got.key, key.key, 16);
	assert_true(got.encrypt);
	assert_false(got.decrypt);

	activation_deactivate(act, SC1, CL1);
	assert_int_equal(activation_key_lookup(act, G1, K1, CL1, &got), -EACCES);
	assert_int_equal(activation_key_lookup(act, G1, K1, CL2, &got), 0);
	activation_deactivate(act, SC1, CL2);
	assert_int_equal(activation_key_lookup(act, G1, K1, CL2, &got), -ENOENT);
	activation_destroy(act);
}

static void test_key_forget_and_stale_generation(void **state)
{
	struct activation *act;
	struct keywrap_kek kek;
	struct cached_key key, got;
	uint64_t gen;

	memset(&kek, 1, sizeof(kek));
	memset(&key, 0, sizeof(key));
	memcpy(key.softcard_id, SC1, sizeof(key.softcard_id));
	key.key_len = 32;
	assert_int_equal(activation_create(&act), 0);
	assert_int_equal(activation_activate(act, SC1, CL1, &kek), 0);
	assert_int_equal(activation_key_insert(act, activation_generation(act), G1, K1, &key), 0);
	activation_key_forget(act, G1, K1);
	assert_int_equal(activation_key_lookup(act, G1, K1, CL1, &got), -ENOENT);

	/* A key read before a delete must not be cached after it. */
	gen = activation_generation(act);
	activation_key_forget(act, G1, K1);
	assert_int_equal(activation_key_insert(act, gen, G1, K1, &key), 0);
	assert_int_equal(activation_key_lookup(act, G1, K1, CL1, &got), -ENOENT);

	activation_forget_softcard(act, SC1);
	assert_false(activation_is_active(act, SC1, CL1));
	activation_destroy(act);
}

static void test_wrong_passphrase_delays(void **state)
{
	struct activation *act;

	assert_int_equal(activation_create(&act), 0);
	assert_int_equal(activation_note_failure(act, CL1), 1000);
	assert_int_equal(activation_note_failure(act, CL1), 2000);
	assert_int_equal(activation_note_failure(act, CL2), 1000);
	assert_int_equal(activation_note_failure(act, CL1), 4000);
	assert_int_equal(activation_note_failure(act, CL1), 8000);
	for (int i = 0; i < 30; i++)
		assert_int_equal(activation_note_failure(act, CL1), 8000);
	activation_note_success(act, CL1);
	assert_int_equal(activation_note_failure(act, CL1), 1000);
	assert_int_equal(activation_note_failure(act, CL2), 2000);
	activation_destroy(act);
}

static int page_query_parse_plain(const char *query, struct page_query *q, const char **why)
{
	return page_query_parse(query, NULL, NULL, 0, q, why);
}

static void expect_bad_query(const char *query)
{
	struct page_query q;
	const char *why = NULL;
	memset(&q, 0x5a, sizeof(q));
	if (page_query_parse(query, NULL, NULL, 0, &q, &why) != -EINVAL)
		fail_msg("query '%s' was accepted", query);
	assert_non_null(why);
	assert_int_equal(q.limit, 0);
}

static void test_page_query(void **state)
{
	(void)state;
	struct page_query q;
	const char *why;

	/* No query: the first page of the legacy form. */
	assert_int_equal(page_query_parse(NULL, NULL, NULL, 0, &q, &why), 0);
	assert_true(q.legacy);
	assert_int_equal(q.limit, WSOP_PAGE_MAX_ITEMS);
	assert_string_equal(q.after, "");

	assert_int_equal(page_query_parse_plain("limit=1", &q, &why), 0);
	assert_false(q.legacy);
	assert_int_equal(q.limit, 1);
	assert_int_equal(page_query_parse_plain("after=" K1 "&limit=0007", &q, &why), 0);
	assert_int_equal(q.limit, 7);
	assert_string_equal(q.after, K1);
	assert_int_equal(page_query_parse_plain("after=" K1, &q, &why), 0);
	assert_int_equal(q.limit, WSOP_PAGE_MAX_ITEMS);
	/* Over the maximum is the maximum, however many digits (up to 20). */
	assert_int_equal(page_query_parse_plain("limit=1001", &q, &why), 0);
	assert_int_equal(q.limit, WSOP_PAGE_MAX_ITEMS);
	assert_int_equal(page_query_parse_plain("limit=99999999999999999999", &q, &why), 0);
	assert_int_equal(q.limit, WSOP_PAGE_MAX_ITEMS);

	/* limit 0 would never advance. */
	expect_bad_query("limit=0");
	expect_bad_query("limit=000");
	expect_bad_query("limit=");
	expect_bad_query("limit=-1");
	expect_bad_query("limit=+1");
	expect_bad_query("limit=1e3");
	expect_bad_query("limit=999999999999999999999");
	expect_bad_query("limit=1&limit=2");
	expect_bad_query("after=" K1 "&after=" K1);
	expect_bad_query("after=");
	expect_bad_query("after=not-an-id");
	expect_bad_query("after=" SC1);
	expect_bad_query("after=00000000-0000-0000-0000-0000000000A1");
	expect_bad_query("after=" K1 "0");
	expect_bad_query("");
	expect_bad_query("&");
	expect_bad_query("limit=1&");
	expect_bad_query("limit");
	expect_bad_query("offset=5");
	expect_bad_query("protectiondomain=" SC1);
	assert_int_equal(page_query_parse_plain("limit=1", NULL, &why), -EINVAL);

	/* A member the caller names, once, bounded; alone it is the legacy form. */
	char pd[41];
	assert_int_equal(
	    page_query_parse("protectiondomain=" SC1, "protectiondomain", pd, sizeof(pd), &q, &why),
	    0);
	assert_true(q.legacy);
	assert_string_equal(pd, SC1);
	assert_int_equal(page_query_parse("limit=3&protectiondomain=x", "protectiondomain", pd,
	                                  sizeof(pd), &q, &why),
	                 0);
	assert_false(q.legacy);
	assert_int_equal(q.limit, 3);
	assert_string_equal(pd, "x");
	assert_int_equal(page_query_parse(NULL, "protectiondomain", pd, sizeof(pd), &q, &why), 0);
	assert_string_equal(pd, "");
	const char *bad[] = { "protectiondomain=", "protectiondomain=a&protectiondomain=a",
		              "protectiondomain=" SC1 "0", "limit=0&protectiondomain=" SC1 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(
		    page_query_parse(bad[i], "protectiondomain", pd, sizeof(pd), &q, &why),
		    -EINVAL);
		assert_string_equal(pd, "");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options_defaults),
		cmocka_unit_test(test_options_listen_forms),
		cmocka_unit_test(test_options_refusals),
		cmocka_unit_test(test_activation_per_client),
		cmocka_unit_test(test_key_cache_lives_while_any_client_active),
		cmocka_unit_test(test_key_forget_and_stale_generation),
		cmocka_unit_test(test_wrong_passphrase_delays),
		cmocka_unit_test(test_page_query),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
