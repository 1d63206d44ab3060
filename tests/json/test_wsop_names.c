/* The shapes of WSOP names, ids, passphrases, dates and key paths. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ipc/wsop_names.h"

static const char uuid_a[] = "0123abcd-4567-89ef-0123-456789abcdef";
static const char uuid_b[] = "ffffffff-0000-1111-2222-333333333333";

static void name_is_1_to_64_of_the_name_alphabet(void **state)
{
	char s[WSOP_NAME_MAX + 2];
	(void)state;

	assert_true(wsop_name_valid("a"));
	assert_true(wsop_name_valid("Alice_01-x"));
	memset(s, 'z', WSOP_NAME_MAX);
	s[WSOP_NAME_MAX] = '\0';
	assert_true(wsop_name_valid(s));
	s[WSOP_NAME_MAX] = 'z';
	s[WSOP_NAME_MAX + 1] = '\0';
	assert_false(wsop_name_valid(s));
	assert_false(wsop_name_valid(""));
	assert_false(wsop_name_valid(NULL));
	assert_false(wsop_name_valid("a b"));
	assert_false(wsop_name_valid("a.b"));
	assert_false(wsop_name_valid("a/b"));
	assert_false(wsop_name_valid("caf\xc3\xa9"));
}

static void passphrase_is_1_to_256_printable_ascii(void **state)
{
	char s[WSOP_PASSPHRASE_MAX + 1];
	(void)state;

	assert_true(wsop_passphrase_valid(" ", 1));
	assert_true(wsop_passphrase_valid("~", 1));
	assert_true(wsop_passphrase_valid("correct horse battery staple", 28));
	memset(s, 'p', sizeof(s));
	assert_true(wsop_passphrase_valid(s, WSOP_PASSPHRASE_MAX));
	assert_false(wsop_passphrase_valid(s, WSOP_PASSPHRASE_MAX + 1));
	assert_false(wsop_passphrase_valid(s, 0));
	assert_false(wsop_passphrase_valid(NULL, 3));
	assert_false(wsop_passphrase_valid("a\tb", 3));
	assert_false(wsop_passphrase_valid("a\x7f", 2));
	assert_false(wsop_passphrase_valid("a\0b", 3));
	assert_false(wsop_passphrase_valid("\xc3\xa9", 2));
}

static void softcard_id_is_40_lower_hex(void **state)
{
	(void)state;
	assert_true(wsop_softcard_id_valid("0123456789abcdef0123456789abcdef01234567"));
	assert_false(wsop_softcard_id_valid("0123456789ABCDEF0123456789abcdef01234567"));
	assert_false(wsop_softcard_id_valid("0123456789abcdef0123456789abcdef0123456"));
	assert_false(wsop_softcard_id_valid("0123456789abcdef0123456789abcdef012345678"));
	assert_false(wsop_softcard_id_valid("0123456789abcdef0123456789abcdef0123456g"));
	assert_false(wsop_softcard_id_valid(""));
	assert_false(wsop_softcard_id_valid(NULL));
}

static void uuid_is_lower_8_4_4_4_12(void **state)
{
	(void)state;
	assert_true(wsop_uuid_valid(uuid_a));
	assert_false(wsop_uuid_valid("0123ABCD-4567-89ef-0123-456789abcdef"));
	assert_false(wsop_uuid_valid("0123abcd-4567-89ef-0123-456789abcde"));
	assert_false(wsop_uuid_valid("0123abcd-4567-89ef-0123-456789abcdef0"));
	assert_false(wsop_uuid_valid("0123abcd04567-89ef-0123-456789abcdef"));
	assert_false(wsop_uuid_valid("0123abcd-4567-89ef-0123-456789abcde-"));
	assert_false(wsop_uuid_valid("{123abcd-4567-89ef-0123-456789abcdef"));
	assert_false(wsop_uuid_valid(NULL));
}

static void idempotency_key_is_1_to_64_of_the_name_alphabet(void **state)
{
	char s[WSOP_IDEMPOTENCY_KEY_MAX + 2];
	(void)state;
	memset(s, 'K', WSOP_IDEMPOTENCY_KEY_MAX);
	s[WSOP_IDEMPOTENCY_KEY_MAX] = '\0';
	assert_true(wsop_idempotency_key_valid(s));
	s[WSOP_IDEMPOTENCY_KEY_MAX] = 'K';
	s[WSOP_IDEMPOTENCY_KEY_MAX + 1] = '\0';
	assert_false(wsop_idempotency_key_valid(s));
	assert_false(wsop_idempotency_key_valid(""));
	assert_false(wsop_idempotency_key_valid("a=b"));
	assert_false(wsop_idempotency_key_valid(NULL));
}

static void date_is_a_real_calendar_day(void **state)
{
	(void)state;
	assert_true(wsop_date_valid("20260101"));
	assert_true(wsop_date_valid("20241231"));
	assert_true(wsop_date_valid("20240229")); /* leap */
	assert_true(wsop_date_valid("20000229")); /* 400-year leap */
	assert_true(wsop_date_valid("00010101"));
	assert_true(wsop_date_valid("99991231"));
	assert_false(wsop_date_valid("20230229"));
	assert_false(wsop_date_valid("19000229")); /* century, not leap */
	assert_false(wsop_date_valid("20260431"));
	assert_false(wsop_date_valid("20261301"));
	assert_false(wsop_date_valid("20260001"));
	assert_false(wsop_date_valid("20260100"));
	assert_false(wsop_date_valid("00000101"));
	assert_false(wsop_date_valid("2026011"));
	assert_false(wsop_date_valid("202601011"));
	assert_false(wsop_date_valid("2026-1-1"));
	assert_false(wsop_date_valid("2026010a"));
	assert_false(wsop_date_valid(NULL));
}

static void utf8_text_refuses_malformed_and_nul(void **state)
{
	(void)state;
	assert_true(wsop_utf8_text_valid("", 0));
	assert_true(wsop_utf8_text_valid("caf\xc3\xa9", 5));
	assert_true(wsop_utf8_text_valid("\xf0\x9f\x94\x91", 4));
	assert_true(wsop_utf8_text_valid("\xef\xbf\xbd", 3));
	assert_false(wsop_utf8_text_valid("a\0b", 3));
	assert_false(wsop_utf8_text_valid("\xc0\xaf", 2));         /* overlong */
	assert_false(wsop_utf8_text_valid("\xe0\x80\xaf", 3));     /* overlong */
	assert_false(wsop_utf8_text_valid("\xed\xa0\x80", 3));     /* surrogate */
	assert_false(wsop_utf8_text_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
	assert_false(wsop_utf8_text_valid("\xc3", 1));             /* truncated */
	assert_false(wsop_utf8_text_valid("\xff", 1));
}

static void key_path_round_trips(void **state)
{
	char path[WSOP_KEY_PATH_LEN + 1], g[WSOP_UUID_LEN + 1], k[WSOP_UUID_LEN + 1];
	(void)state;

	assert_int_equal(wsop_key_path_format(uuid_a, uuid_b, path, sizeof(path)), 0);
	assert_string_equal(path, "km/v1/groups/0123abcd-4567-89ef-0123-456789abcdef/keys/"
	                          "ffffffff-0000-1111-2222-333333333333");
	assert_int_equal(strlen(path), WSOP_KEY_PATH_LEN);
	assert_int_equal(wsop_key_path_parse(path, g, k), 0);
	assert_string_equal(g, uuid_a);
	assert_string_equal(k, uuid_b);
}

static void key_path_refuses_other_shapes(void **state)
{
	char path[WSOP_KEY_PATH_LEN + 8], g[WSOP_UUID_LEN + 1], k[WSOP_UUID_LEN + 1];
	(void)state;

	assert_int_equal(wsop_key_path_format(uuid_a, uuid_b, path, WSOP_KEY_PATH_LEN), -ENOBUFS);
	assert_int_equal(wsop_key_path_format("nope", uuid_b, path, sizeof(path)), -EINVAL);
	assert_int_equal(wsop_key_path_format(uuid_a, NULL, path, sizeof(path)), -EINVAL);

	assert_int_equal(wsop_key_path_format(uuid_a, uuid_b, path, sizeof(path)), 0);
	char bad[sizeof(path) + 1];
	snprintf(bad, sizeof(bad), "/%s", path);
	assert_int_equal(wsop_key_path_parse(bad, g, k), -EINVAL);
	assert_string_equal(g, "");
	snprintf(bad, sizeof(bad), "%s/", path);
	assert_int_equal(wsop_key_path_parse(bad, g, k), -EINVAL);
	snprintf(bad, sizeof(bad), "%s", path);
	bad[3] = '2'; /* km/v2 */
	assert_int_equal(wsop_key_path_parse(bad, g, k), -EINVAL);
	snprintf(bad, sizeof(bad), "%s", path);
	bad[sizeof(WSOP_KEY_PATH_PREFIX) + WSOP_UUID_LEN] = 'K'; /* /Keys/ */
	assert_int_equal(wsop_key_path_parse(bad, g, k), -EINVAL);
	snprintf(bad, sizeof(bad), "%s", path);
	bad[WSOP_KEY_PATH_LEN - 1] = 'F'; /* upper-case key id */
	assert_int_equal(wsop_key_path_parse(bad, g, k), -EINVAL);
	assert_int_equal(wsop_key_path_parse(NULL, g, k), -EINVAL);
	assert_int_equal(wsop_key_path_parse("", g, k), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(name_is_1_to_64_of_the_name_alphabet),
		cmocka_unit_test(passphrase_is_1_to_256_printable_ascii),
		cmocka_unit_test(softcard_id_is_40_lower_hex),
		cmocka_unit_test(uuid_is_lower_8_4_4_4_12),
		cmocka_unit_test(idempotency_key_is_1_to_64_of_the_name_alphabet),
		cmocka_unit_test(date_is_a_real_calendar_day),
		cmocka_unit_test(utf8_text_refuses_malformed_and_nul),
		cmocka_unit_test(key_path_round_trips),
		cmocka_unit_test(key_path_refuses_other_shapes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
