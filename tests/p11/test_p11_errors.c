/* The CKR name table and the server-code -> CKR table (lib/ckr_names.h,
 * lib/p11_errors.h), without a server. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "lib/ckr_names.h"
#include "lib/p11_errors.h"

static void ckr_names_cover_the_standard(void **state)
{
	assert_string_equal(ckr_name(CKR_OK), "CKR_OK");
	assert_string_equal(ckr_name(CKR_PIN_INCORRECT), "CKR_PIN_INCORRECT");
	assert_string_equal(ckr_name(CKR_FUNCTION_REJECTED), "CKR_FUNCTION_REJECTED");
	assert_string_equal(ckr_name(CKR_CRYPTOKI_NOT_INITIALIZED), "CKR_CRYPTOKI_NOT_INITIALIZED");
	assert_string_equal(ckr_name(CKR_VENDOR_DEFINED + 7), "CKR_VENDOR_DEFINED");
	assert_string_equal(ckr_name(0x4242), "CKR_UNKNOWN");
}

static void server_codes_map_to_precise_ckr(void **state)
{
	assert_int_equal(p11_ckr_from_code("wrong_passphrase"), CKR_PIN_INCORRECT);
	assert_int_equal(p11_ckr_from_code("softcard_locked"), CKR_PIN_LOCKED);
	assert_int_equal(p11_ckr_from_code("not_active"), CKR_USER_NOT_LOGGED_IN);
	assert_int_equal(p11_ckr_from_code("not_found"), CKR_TOKEN_NOT_PRESENT);
	assert_int_equal(p11_ckr_from_code("bad_padding"), CKR_ENCRYPTED_DATA_INVALID);
	assert_int_equal(p11_ckr_from_code("internal"), CKR_DEVICE_ERROR);
	assert_int_equal(p11_ckr_from_code("bad_request"), CKR_GENERAL_ERROR);
	assert_int_equal(p11_ckr_from_code("no_such_code"), CKR_DEVICE_ERROR);
	assert_int_equal(p11_ckr_from_code(""), CKR_DEVICE_ERROR);
	assert_int_equal(p11_ckr_from_code(NULL), CKR_DEVICE_ERROR);
}

static void transport_failures_are_device_errors(void **state)
{
	assert_int_equal(p11_ckr_from_errno(-ECONNREFUSED), CKR_DEVICE_ERROR);
	assert_int_equal(p11_ckr_from_errno(-ETIMEDOUT), CKR_DEVICE_ERROR);
	assert_int_equal(p11_ckr_from_errno(-ECONNABORTED), CKR_DEVICE_ERROR);
	assert_int_equal(p11_ckr_from_errno(-ENOMEM), CKR_HOST_MEMORY);
	assert_int_equal(p11_ckr_from_result(0, NULL), CKR_OK);
	assert_int_equal(p11_ckr_from_result(-EPROTO, NULL), CKR_DEVICE_ERROR);
	assert_int_equal(p11_ckr_from_result(403, NULL), CKR_DEVICE_ERROR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ckr_names_cover_the_standard),
		cmocka_unit_test(server_codes_map_to_precise_ckr),
		cmocka_unit_test(transport_failures_are_device_errors),
	};
	return cmocka_run_group_tests_name("p11_errors", tests, NULL, NULL);
}
