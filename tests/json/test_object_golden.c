/*
 * The object and key attribute codec against golden texts taken from the
 * hand-written codec it replaced: the same struct must encode to the same
 * bytes, and the same body must decode to the same struct or fail with the
 * same code and message (which fault is named first included).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ipc/wsop_json.h"
#include "json_any.h"
#include "samples.h"

struct golden {
	enum json_any_kind kind;
	const char *in;
	const char *want; /* the recoded text, or "rc code: message" */
};

#define KEY_HEAD                                                                                   \
	"{\"id\":\"" S_K "\",\"path\":\"" S_PATH "\",\"group\":\"" S_G                             \
	"\",\"protectiondomain\":\"" S_SC                                                          \
	"\",\"algorithm\":\"AES\",\"size\":128,\"created\":5,\"attributes\":{\"label\":\"k1\","
/* A key answer in its canonical form: it recodes to itself. */
#define KEY_FLAGS_MIXED                                                                            \
	KEY_HEAD                                                                                   \
	"\"id\":\"_w\",\"encrypt\":false,\"decrypt\":true,\"sign\":true,\"verify\":false,"         \
	"\"wrap\":true,\"unwrap\":false,\"derive\":true,\"sensitive\":false,\"always_"             \
	"sensitive\":"                                                                             \
	"true,\"extractable\":true,\"never_extractable\":false,\"local\":false}}"
#define OBJ_HEAD "{\"id\":\"" S_O "\",\"protectiondomain\":\"" S_SC "\","
#define CERT_MIN "\"certificate_type\":\"x509\",\"value\":\"MIIB\",\"subject\":\"MAA\""

/* 256 bytes of base64url and 257 bytes of label text: one over the bounds. */
#define AAA256                                                                                     \
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define L257                                                                                       \
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
#define EVERY_MEMBER                                                                               \
	"{\"id\":\"" S_O "\",\"protectiondomain\":\"" S_SC "\",\"class\":\"data\",\"created\":3,"  \
	"\"value_len\":12,\"attributes\":{\"certificate_type\":\"x509\",\"label\":\"L\",\"id\":"   \
	"\"AA\","                                                                                  \
	"\"application\":\"A\\\"\",\"object_id\":\"-w\",\"value\":\"APv_\",\"subject\":\"_w\","    \
	"\"issuer\":\"APs\",\"serial_number\":\"\",\"start_date\":\"20200101\",\"end_date\":"      \
	"\"20301231\"}}"
static const struct golden cases[] = {
	{ JA_OBJECT_CREATE_REQ,
	  "{\"class\":\"data\",\"attributes\":{\"value\":\"AAEC_-8\",\"object_id\":\"BgM\","
	  "\"application\":\"a\\\"b\\\\c\\u0001\xc3\xa9/\",\"id\":\"AP8\",\"label\":\"x\\ty\"}}",
	  "{\"class\":\"data\",\"attributes\":{\"label\":\"x\\u0009y\",\"id\":\"AP8\","
	  "\"application\":\"a\\\"b\\\\c\\u0001\xc3"
	  "\xa9"
	  "/\",\"object_id\":\"BgM\",\"value\":\"AAEC_-8\"}}" },
	{ JA_OBJECT_CREATE_REQ, "{\"class\":\"data\",\"attributes\":{}}",
	  "{\"class\":\"data\",\"attributes\":{}}" },
	{ JA_OBJECT_CREATE_REQ,
	  "{\"class\":\"data\",\"attributes\":{\"label\":\"\",\"id\":\"\",\"value\":\"\","
	  "\"application\":\"\",\"object_id\":\"\"}}",
	  "{\"class\":\"data\",\"attributes\":{\"label\":\"\",\"id\":\"\",\"application\":\"\","
	  "\"object_id\":\"\",\"value\":\"\"}}" },
	{ JA_OBJECT_CREATE_REQ,
	  "{\"class\":\"certificate\",\"attributes\":{\"end_date\":\"20270101\",\"start_date\":"
	  "\"20260101\",\"serial_number\":\"AQ\",\"issuer\":\"MAE\",\"subject\":\"MAA\",\"value\":"
	  "\"MIIB\",\"id\":\"AQID\",\"label\":\"c\",\"certificate_type\":\"x509\"}}",
	  "{\"class\":\"certificate\",\"attributes\":{\"certificate_type\":\"x509\",\"label\":"
	  "\"c\",\"id\":\"AQID\",\"value\":\"MIIB\",\"subject\":\"MAA\",\"issuer\":\"MAE\","
	  "\"serial_number\":\"AQ\",\"start_date\":\"20260101\",\"end_date\":\"20270101\"}}" },
	{ JA_OBJECT_CREATE_REQ, "{\"class\":\"certificate\",\"attributes\":{" CERT_MIN "}}",
	  "{\"class\":\"certificate\",\"attributes\":{\"certificate_type\":\"x509\",\"value\":"
	  "\"MIIB\",\"subject\":\"MAA\"}}" },
	{ JA_OBJECT,
	  OBJ_HEAD "\"class\":\"certificate\",\"created\":9,\"value_len\":3,\"attributes\":{"
	           "\"certificate_type\":\"x509\",\"subject\":\"MAA\",\"label\":\"l\"}}",
	  "{\"id\":\"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee\",\"protectiondomain\":"
	  "\"0123456789abcdef0123456789abcdef01234567\",\"class\":\"certificate\",\"created\":9,"
	  "\"value_len\":3,\"attributes\":{\"certificate_type\":\"x509\",\"label\":\"l\","
	  "\"subject\":\"MAA\"}}" },
	{ JA_OBJECT,
	  OBJ_HEAD "\"class\":\"data\",\"created\":9,\"value_len\":0,\"attributes\":{"
	           "\"application\":\"a\"}}",
	  "{\"id\":\"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee\",\"protectiondomain\":"
	  "\"0123456789abcdef0123456789abcdef01234567\",\"class\":\"data\",\"created\":9,\"value_"
	  "len\":0,\"attributes\":{\"application\":\"a\"}}" },
	{ JA_OBJECT_LIST, S_OBJECT_LIST,
	  "{\"objects\":[{\"id\":\"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee\",\"protectiondomain\":"
	  "\"0123456789abcdef0123456789abcdef01234567\",\"class\":\"data\",\"created\":7,"
	  "\"attributes\":{}},{\"id\":\"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee\","
	  "\"protectiondomain\":\"0123456789abcdef0123456789abcdef01234567\",\"class\":"
	  "\"certificate\",\"created\":8,\"attributes\":{\"certificate_type\":\"x509\",\"label\":"
	  "\"c\",\"value\":\"MIIB\",\"subject\":\"MAA\",\"issuer\":\"MAA\",\"serial_number\":"
	  "\"AQ\",\"start_date\":\"20260101\",\"end_date\":\"20270101\"}}]}" },
	{ JA_OBJECT_CREATE_REQ,
	  "{\"class\":\"data\",\"attributes\":{\"subject\":\"MAA\",\"issuer\":\"MAA\"}}",
	  "-12 bad_attribute: attributes.subject: not an attribute of data objects" },
	{ JA_OBJECT_CREATE_REQ,
	  "{\"class\":\"certificate\",\"attributes\":{" CERT_MIN
	  ",\"object_id\":\"AQ\",\"application\":\"a\"}}",
	  "-12 bad_attribute: attributes.application: not an attribute of certificates" },
	{ JA_OBJECT_CREATE_REQ,
	  "{\"class\":\"data\",\"attributes\":{\"value\":\"!!\",\"application\":\"\\u0000\"}}",
	  "-10 bad_request: attributes.value: not unpadded base64url" },
	{ JA_OBJECT_CREATE_REQ,
	  "{\"class\":\"data\",\"attributes\":{\"object_id\":5,\"value\":\"AA\",\"label\":true}}",
	  "-9 bad_request: attributes.label: must be a string" },
	{ JA_OBJECT_CREATE_REQ,
	  "{\"class\":\"data\",\"attributes\":{\"application\":7,\"value\":\"A\"}}",
	  "-10 bad_request: attributes.value: not unpadded base64url" },
	{ JA_OBJECT_CREATE_REQ, "{\"class\":\"data\",\"attributes\":{\"nope\":1}}",
	  "-7 bad_request: attributes.nope: unknown member" },
	{ JA_OBJECT_CREATE_REQ, "{\"class\":\"data\"}",
	  "-8 bad_request: attributes: required member missing" },
	{ JA_OBJECT_CREATE_REQ, "{\"class\":\"data\",\"attributes\":[]}",
	  "-9 bad_request: attributes: must be an object" },
	{ JA_OBJECT_CREATE_REQ,
	  "{\"class\":\"certificate\",\"attributes\":{\"value\":\"MIIB\",\"subject\":\"MAA\"}}",
	  "-8 bad_request: attributes.certificate_type: required member missing" },
	{ JA_OBJECT_CREATE_REQ,
	  "{\"class\":\"certificate\",\"attributes\":{\"certificate_type\":\"x509 "
	  "\",\"value\":\"MIIB\"}}",
	  "-12 bad_attribute: attributes.certificate_type: only x509 is supported" },
	{ JA_OBJECT_CREATE_REQ,
	  "{\"class\":\"certificate\",\"attributes\":{\"certificate_type\":1}}",
	  "-9 bad_request: attributes.certificate_type: must be a string" },
	{ JA_OBJECT_CREATE_REQ,
	  "{\"class\":\"certificate\",\"attributes\":{\"certificate_type\":\"x509\",\"subject\":"
	  "\"MAA\",\"issuer\":\"*\"}}",
	  "-8 bad_request: attributes.value: required member missing" },
	{ JA_OBJECT_CREATE_REQ,
	  "{\"class\":\"certificate\",\"attributes\":{\"certificate_type\":\"x509\",\"value\":"
	  "\"MIIB\",\"issuer\":\"*\"}}",
	  "-8 bad_request: attributes.subject: required member missing" },
	{ JA_OBJECT_CREATE_REQ,
	  "{\"class\":\"certificate\",\"attributes\":{" CERT_MIN
	  ",\"start_date\":\"20261301\",\"end_date\":\"2027\"}}",
	  "-12 bad_attribute: attributes.start_date: invalid value" },
	{ JA_OBJECT_CREATE_REQ,
	  "{\"class\":\"certificate\",\"attributes\":{" CERT_MIN ",\"end_date\":\"2027010a\"}}",
	  "-12 bad_attribute: attributes.end_date: invalid value" },
	{ JA_OBJECT_CREATE_REQ,
	  "{\"class\":\"certificate\",\"attributes\":{" CERT_MIN ",\"end_date\":\"\"}}",
	  "-12 bad_attribute: attributes.end_date: invalid value" },
	{ JA_OBJECT_CREATE_REQ,
	  "{\"class\":\"certificate\",\"attributes\":{" CERT_MIN ",\"serial_number\":\"" AAA256
	  "\"}}",
	  "{\"class\":\"certificate\",\"attributes\":{\"certificate_type\":\"x509\",\"value\":"
	  "\"MIIB\",\"subject\":\"MAA\",\"serial_number\":"
	  "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}}" },
	{ JA_OBJECT_CREATE_REQ,
	  "{\"class\":\"certificate\",\"attributes\":{" CERT_MIN ",\"serial_number\":\"" AAA256
	  "A\"}}",
	  "-12 bad_attribute: attributes.serial_number: value too long" },
	{ JA_OBJECT_CREATE_REQ, "{\"class\":\"data\",\"attributes\":{\"label\":\"" L257 "\"}}",
	  "-12 bad_attribute: attributes.label: too long" },
	{ JA_OBJECT_CREATE_REQ, "{\"class\":\"data\",\"attributes\":{\"label\":\"\xff\"}}",
	  "-3 bad_request: not JSON" },
	{ JA_OBJECT_CREATE_REQ, "{\"class\":\"data\",\"attributes\":{\"application\":\"\\udc00\"}}",
	  "{\"class\":\"data\",\"attributes\":{\"application\":\"\xef"
	  "\xbf"
	  "\xbd"
	  "\"}}" },
	{ JA_OBJECT,
	  OBJ_HEAD
	  "\"class\":\"data\",\"created\":9,\"value_len\":2,\"attributes\":{\"value\":\"AA\"}}",
	  "-11 bad_request: attributes.value: a value with value_len" },
	{ JA_OBJECT,
	  OBJ_HEAD "\"class\":\"certificate\",\"created\":9,\"attributes\":{\"certificate_type\":"
	           "\"x509\",\"subject\":\"MAA\"}}",
	  "-8 bad_request: attributes.value: required member missing" },
	{ JA_OBJECT,
	  OBJ_HEAD "\"class\":\"certificate\",\"created\":9,\"value_len\":65537,\"attributes\":{}}",
	  "-9 bad_request: value_len: integer out of range" },
	{ JA_KEY_GENERATE_REQ, S_KEY_GEN,
	  "{\"algorithm\":\"AES\",\"size\":256,\"attributes\":{\"label\":\"k1 \xc3"
	  "\xa9"
	  "\\u000a\",\"id\":\"AQID\",\"encrypt\":true,\"decrypt\":false,\"sign\":false,\"verify\":"
	  "false,\"wrap\":false,\"unwrap\":false,\"derive\":false}}" },
	{ JA_KEY_GENERATE_REQ,
	  "{\"algorithm\":\"AES\",\"size\":128,\"attributes\":{\"label\":\"\"}}",
	  "{\"algorithm\":\"AES\",\"size\":128,\"attributes\":{\"label\":\"\",\"encrypt\":true,"
	  "\"decrypt\":true,\"sign\":false,\"verify\":false,\"wrap\":false,\"unwrap\":false,"
	  "\"derive\":false}}" },
	{ JA_KEY_GENERATE_REQ,
	  "{\"algorithm\":\"AES\",\"size\":128,\"attributes\":{\"label\":\"k\",\"id\":\"\","
	  "\"sign\":false,\"decrypt\":false}}",
	  "{\"algorithm\":\"AES\",\"size\":128,\"attributes\":{\"label\":\"k\",\"id\":\"\","
	  "\"encrypt\":true,\"decrypt\":false,\"sign\":false,\"verify\":false,\"wrap\":false,"
	  "\"unwrap\":false,\"derive\":false}}" },
	{ JA_KEY_GENERATE_REQ,
	  "{\"algorithm\":\"AES\",\"size\":128,\"attributes\":{\"label\":\"k\",\"wrap\":true,"
	  "\"sign\":true}}",
	  "-12 bad_attribute: attributes.sign: must be false" },
	{ JA_KEY_GENERATE_REQ,
	  "{\"algorithm\":\"AES\",\"size\":128,\"attributes\":{\"label\":\"k\",\"local\":true,"
	  "\"sensitive\":true}}",
	  "-12 bad_attribute: attributes.sensitive: not settable" },
	{ JA_KEY_GENERATE_REQ,
	  "{\"algorithm\":\"AES\",\"size\":128,\"attributes\":{\"id\":\"AQ\"}}",
	  "-8 bad_request: attributes.label: required member missing" },
	{ JA_KEY_GENERATE_REQ,
	  "{\"algorithm\":\"AES\",\"size\":128,\"attributes\":{\"label\":\"k\",\"id\":\"" AAA256
	  "A\"}}",
	  "-12 bad_attribute: attributes.id: value too long" },
	{ JA_KEY_GENERATE_REQ,
	  "{\"algorithm\":\"AES\",\"size\":128,\"attributes\":{\"label\":\"k\",\"encrypt\":1}}",
	  "-9 bad_request: attributes.encrypt: must be a boolean" },
	{ JA_KEY_GENERATE_REQ,
	  "{\"algorithm\":\"AES\",\"size\":128,\"attributes\":{\"label\":\"k\",\"value\":\"AA\"}}",
	  "-7 bad_request: attributes.value: unknown member" },
	{ JA_KEY, S_KEY, S_KEY },
	{ JA_KEY_LIST, S_KEY_LIST, S_KEY_LIST },
	{ JA_KEY, KEY_FLAGS_MIXED, KEY_FLAGS_MIXED },
	{ JA_KEY,
	  KEY_HEAD
	  "\"encrypt\":true,\"decrypt\":true,\"sign\":false,\"verify\":false,\"wrap\":false,"
	  "\"unwrap\":false,\"derive\":false,\"sensitive\":true,\"always_sensitive\":true,"
	  "\"extractable\":false,\"never_extractable\":true}}",
	  "-8 bad_request: attributes.local: required member missing" },
};

static void bodies_recode_as_before(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct wsop_json_error err;
		char got[4096], *out = NULL;
		size_t out_len = 0;
		int rc = json_any_recode(cases[i].kind, cases[i].in, strlen(cases[i].in), &out,
		                         &out_len, &err);
		if (rc == 0)
			snprintf(got, sizeof(got), "%s", out);
		else
			snprintf(got, sizeof(got), "%d %s: %s", rc, err.code, err.message);
		free(out);
		if (strcmp(got, cases[i].want) != 0)
			print_error("case %zu: got\n%s\n", i, got);
		assert_string_equal(got, cases[i].want);
	}
}

/* Every member at once, whatever the class: pins the member order. */
static void every_object_member_encodes_as_before(void **state)
{
	uint8_t b[] = { 0x00, 0xfb, 0xff };
	struct wsop_object o = {
		.cls = WSOP_OBJECT_DATA, .created = 3, .value_omitted = true, .value_len = 12
	};
	struct wsop_object_attributes *a = &o.attributes;
	char *out = NULL;
	size_t len = 0;

	(void)state;
	memcpy(o.id, S_O, sizeof(S_O));
	memcpy(o.protectiondomain, S_SC, sizeof(S_SC));
	a->label_present = a->id_present = a->value_present = a->application_present = true;
	a->object_id_present = a->certificate_type_present = a->subject_present = true;
	a->issuer_present = a->serial_number_present = true;
	a->start_date_present = a->end_date_present = true;
	strcpy(a->label, "L");
	strcpy(a->application, "A\"");
	strcpy(a->start_date, "20200101");
	strcpy(a->end_date, "20301231");
	a->id = (struct wsop_bytes){ b, 1 };
	a->value = (struct wsop_bytes){ b, 3 };
	a->object_id = (struct wsop_bytes){ b + 1, 1 };
	a->subject = (struct wsop_bytes){ b + 2, 1 };
	a->issuer = (struct wsop_bytes){ b, 2 };
	a->serial_number = (struct wsop_bytes){ NULL, 0 };
	assert_int_equal(wsop_json_encode_object(&o, &out, &len), 0);
	assert_string_equal(out, EVERY_MEMBER);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bodies_recode_as_before),
		cmocka_unit_test(every_object_member_encodes_as_before),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
