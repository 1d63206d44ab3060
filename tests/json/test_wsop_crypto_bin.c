/* ipc/wsop_crypto_bin.c: the binary form of encrypt/decrypt, both ways, and
 * every header's edges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ipc/http.h"
#include "ipc/wsop_crypto_bin.h"

#define KEYPATH                                                                                    \
	"km/v1/groups/0123abcd-4567-89ef-0123-456789abcdef/keys/"                                  \
	"ffffffff-0000-1111-2222-333333333333"
#define IV_TEXT "AAECAwQFBgcICQoLDA0ODw"

/* Parses a request with the given extra header lines and body. */
static void parse(struct http_message *m, const char *headers, const uint8_t *body, size_t len)
{
	char head[1024];
	int n =
	    snprintf(head, sizeof(head),
	             "POST /crypto/v1/encrypt HTTP/1.1\r\nHost: h\r\n%sContent-Length: %zu\r\n\r\n",
	             headers, len);
	assert_true(n > 0 && (size_t)n < sizeof(head));
	uint8_t *all = malloc((size_t)n + len + 1);
	assert_non_null(all);
	memcpy(all, head, (size_t)n);
	if (len > 0)
		memcpy(all + n, body, len);
	size_t used = 0;
	http_message_init(m);
	assert_int_equal(http_parse_request(all, (size_t)n + len, m, &used), 1);
	free(all);
}

static int decode(const char *headers, const uint8_t *body, size_t len, struct wsop_crypto_req *out,
                  struct wsop_json_error *err)
{
	struct http_message m;
	parse(&m, headers, body, len);
	int rc = wsop_crypto_bin_decode(&m, out, err);
	/* The head-only decoder answers the same and leaves the data in m. */
	struct wsop_crypto_req head;
	struct wsop_json_error head_err;
	assert_int_equal(wsop_crypto_bin_decode_head(&m, &head, &head_err), rc);
	assert_null(head.data.data);
	assert_int_equal(head.data.len, 0);
	if (rc == WSOP_JSON_OK) {
		assert_string_equal(head.key, out->key);
		assert_int_equal(head.mechanism, out->mechanism);
		assert_memory_equal(head.iv, out->iv, WSOP_IV_LEN);
	} else {
		assert_string_equal(head_err.code, err->code);
	}
	http_message_clear(&m);
	return rc;
}

static void head_then_decode_round_trips(void **state)
{
	(void)state;
	struct wsop_crypto_req req, back;
	struct wsop_crypto_bin_head head;
	struct wsop_json_error err;
	uint8_t data[33];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 37); /* NUL, CR, LF, 0xff among them */
	memset(&req, 0, sizeof(req));
	strcpy(req.key, KEYPATH);
	req.mechanism = WSOP_MECH_AES_CBC_PAD;
	for (int i = 0; i < WSOP_IV_LEN; i++)
		req.iv[i] = (uint8_t)(255 - i);
	req.data.data = data;
	req.data.len = sizeof(data);
	assert_int_equal(wsop_crypto_bin_head(&req, &head), 0);
	char lines[512];
	snprintf(lines, sizeof(lines), "Content-Type: %s\r\n%s: %s\r\n%s: %s\r\n%s: %s\r\n",
	         WSOP_BIN_CONTENT_TYPE, head.h[0].name, head.h[0].value, head.h[1].name,
	         head.h[1].value, head.h[2].name, head.h[2].value);
	struct http_message m;
	parse(&m, lines, data, sizeof(data));
	assert_true(wsop_crypto_bin_is(&m));
	assert_int_equal(wsop_crypto_bin_decode(&m, &back, &err), WSOP_JSON_OK);
	http_message_clear(&m);
	assert_string_equal(back.key, KEYPATH);
	assert_int_equal(back.mechanism, WSOP_MECH_AES_CBC_PAD);
	assert_memory_equal(back.iv, req.iv, WSOP_IV_LEN);
	assert_int_equal(back.data.len, sizeof(data));
	assert_memory_equal(back.data.data, data, sizeof(data));
	wsop_crypto_req_free(&back);
	/* Nothing to encode for a mechanism outside the enum or too much. */
	req.mechanism = (enum wsop_mechanism)0;
	assert_int_equal(wsop_crypto_bin_head(&req, &head), -EINVAL);
	req.mechanism = WSOP_MECH_AES_CBC;
	req.data.len = WSOP_CRYPTO_DATA_MAX + 1;
	assert_int_equal(wsop_crypto_bin_head(&req, &head), -EINVAL);
}

static void content_type_picks_the_form(void **state)
{
	(void)state;
	static const struct {
		const char *line;
		bool binary;
	} cases[] = {
		{ "Content-Type: application/octet-stream\r\n", true },
		{ "content-type: APPLICATION/Octet-Stream\r\n", true },
		{ "Content-Type: application/octet-stream; x=y\r\n", false },
		{ "Content-Type: application/json\r\n", false },
		{ "", false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct http_message m;
		parse(&m, cases[i].line, NULL, 0);
		assert_int_equal(wsop_crypto_bin_is(&m), cases[i].binary);
		http_message_clear(&m);
	}
}

static void every_header_is_checked_in_order(void **state)
{
	(void)state;
	static const struct {
		const char *headers;
		int rc;
	} cases[] = {
		/* key first: absent, not a path, a path with more after it */
		{ "X-WSOP-Mechanism: AES_GCM\r\n", WSOP_JSON_EBAD_VALUE },
		{ "X-WSOP-Key: km/v1/groups/x/keys/y\r\nX-WSOP-Mechanism: "
		  "AES_CBC\r\nX-WSOP-IV: " IV_TEXT "\r\n",
		  WSOP_JSON_EBAD_VALUE },
		{ "X-WSOP-Key: " KEYPATH "/x\r\nX-WSOP-Mechanism: AES_CBC\r\nX-WSOP-IV: " IV_TEXT
		  "\r\n",
		  WSOP_JSON_EBAD_VALUE },
		/* then the mechanism */
		{ "X-WSOP-Key: " KEYPATH "\r\nX-WSOP-IV: x\r\n", WSOP_JSON_EBAD_MECHANISM },
		{ "X-WSOP-Key: " KEYPATH "\r\nX-WSOP-Mechanism: aes_cbc\r\n",
		  WSOP_JSON_EBAD_MECHANISM },
		{ "X-WSOP-Key: " KEYPATH "\r\nX-WSOP-Mechanism: AES_CBC_PADX\r\n",
		  WSOP_JSON_EBAD_MECHANISM },
		/* then the IV: absent, short, long, padded, not base64url, bits
		 * past the last byte set */
		{ "X-WSOP-Key: " KEYPATH "\r\nX-WSOP-Mechanism: AES_CBC\r\n", WSOP_JSON_EBAD_IV },
		{ "X-WSOP-Key: " KEYPATH
		  "\r\nX-WSOP-Mechanism: AES_CBC\r\nX-WSOP-IV: AAECAwQFBgcICQoLDA0OD\r\n",
		  WSOP_JSON_EBAD_IV },
		{ "X-WSOP-Key: " KEYPATH
		  "\r\nX-WSOP-Mechanism: AES_CBC\r\nX-WSOP-IV: AAECAwQFBgcICQoLDA0ODwA\r\n",
		  WSOP_JSON_EBAD_IV },
		{ "X-WSOP-Key: " KEYPATH
		  "\r\nX-WSOP-Mechanism: AES_CBC\r\nX-WSOP-IV: AAECAwQFBgcICQoLDA0ODw==\r\n",
		  WSOP_JSON_EBAD_IV },
		{ "X-WSOP-Key: " KEYPATH
		  "\r\nX-WSOP-Mechanism: AES_CBC\r\nX-WSOP-IV: AAECAwQFBgcICQoLDA0OD+\r\n",
		  WSOP_JSON_EBAD_IV },
		{ "X-WSOP-Key: " KEYPATH
		  "\r\nX-WSOP-Mechanism: AES_CBC\r\nX-WSOP-IV: AAECAwQFBgcICQoLDA0ODx\r\n",
		  WSOP_JSON_EBAD_IV },
		/* all well: header names in any case */
		{ "x-wsop-key: " KEYPATH "\r\nX-WSOP-MECHANISM: AES_CBC\r\nx-wsop-iv: " IV_TEXT
		  "\r\n",
		  WSOP_JSON_OK },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct wsop_crypto_req r;
		struct wsop_json_error err;
		int rc = decode(cases[i].headers, NULL, 0, &r, &err);
		if (rc != cases[i].rc)
			fprintf(stderr, "case %zu: %d (%s: %s)\n", i, rc, err.code, err.message);
		assert_int_equal(rc, cases[i].rc);
		if (rc != WSOP_JSON_OK)
			assert_string_equal(err.code, wsop_error_name(wsop_json_rc_error(rc)));
		else
			assert_int_equal(r.data.len, 0);
		wsop_crypto_req_free(&r);
	}
}

static void data_up_to_its_limit(void **state)
{
	(void)state;
	const char *h =
	    "X-WSOP-Key: " KEYPATH "\r\nX-WSOP-Mechanism: AES_CBC\r\nX-WSOP-IV: " IV_TEXT "\r\n";
	uint8_t *big = calloc(1, WSOP_CRYPTO_DATA_MAX + 1);
	assert_non_null(big);
	big[WSOP_CRYPTO_DATA_MAX - 1] = 7;
	struct wsop_crypto_req r;
	struct wsop_json_error err;
	assert_int_equal(decode(h, big, WSOP_CRYPTO_DATA_MAX, &r, &err), WSOP_JSON_OK);
	assert_int_equal(r.data.len, WSOP_CRYPTO_DATA_MAX);
	assert_int_equal(r.data.data[WSOP_CRYPTO_DATA_MAX - 1], 7);
	wsop_crypto_req_free(&r);
	assert_int_equal(decode(h, big, WSOP_CRYPTO_DATA_MAX + 1, &r, &err),
	                 WSOP_JSON_EBAD_DATA_LENGTH);
	assert_string_equal(err.code, "bad_data_length");
	assert_null(r.data.data);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(head_then_decode_round_trips),
		cmocka_unit_test(content_type_picks_the_form),
		cmocka_unit_test(every_header_is_checked_in_order),
		cmocka_unit_test(data_up_to_its_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
