/*
 * Test helper: every WSOP body decoder behind one index, for table-driven
 * tests and the fuzzer. json_any_recode decodes text as body kind, and on
 * success encodes the decoded struct again into *out (malloc'd) and frees
 * the struct.
 */
#ifndef PKCS11WSOP_TESTS_JSON_ANY_H
#define PKCS11WSOP_TESTS_JSON_ANY_H

#include <stddef.h>

#include "ipc/wsop_json.h"

enum json_any_kind {
	JA_HEALTH,
	JA_ERROR,
	JA_SOFTCARD,
	JA_SOFTCARD_CREATE_REQ,
	JA_ACTIVATE_REQ,
	JA_SOFTCARD_LIST,
	JA_GROUP,
	JA_GROUP_CREATE_REQ,
	JA_GROUP_LIST,
	JA_KEY_GENERATE_REQ,
	JA_KEY,
	JA_KEY_LIST,
	JA_OBJECT_CREATE_REQ,
	JA_OBJECT,
	JA_OBJECT_LIST,
	JA_CRYPTO_REQ,
	JA_CRYPTO_ANSWER,
	JA_EMPTY,
	JA_RANDOM_REQ,
	JA_COUNT
};

extern const char *const json_any_names[JA_COUNT];

/* Returns the decoder's result; *out is NULL unless it is 0 (for JA_EMPTY
 * *out is "{}"). An encoder failure after a successful decode is returned
 * as its negative errno minus 1000, which tests and fuzzer treat as a bug. */
int json_any_recode(enum json_any_kind kind, const char *text, size_t len, char **out,
                    size_t *out_len, struct wsop_json_error *err);

#endif
