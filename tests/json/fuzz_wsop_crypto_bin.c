/*
 * libFuzzer target for ipc/wsop_crypto_bin.c: the input is an HTTP request
 * as a client sends it. A request that parses is decoded in the binary form:
 * the result must be a documented one, and a decoded request must encode
 * back to the same headers and carry the body unchanged; the head-only
 * decoder agrees with it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/http.h"
#include "ipc/wsop_crypto_bin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_message m;
	size_t used = 0;
	http_message_init(&m);
	if (http_parse_request(data, size, &m, &used) != 1) {
		http_message_clear(&m);
		return 0;
	}
	(void)wsop_crypto_bin_is(&m);
	struct wsop_crypto_req r;
	struct wsop_json_error err;
	int rc = wsop_crypto_bin_decode(&m, &r, &err);
	/* The head-only decoder answers the same, with the same fields and no
	 * data (ENOMEM aside: only the copy allocates). */
	struct wsop_crypto_req h;
	struct wsop_json_error herr;
	int hrc = wsop_crypto_bin_decode_head(&m, &h, &herr);
	if (rc != WSOP_JSON_ENOMEM &&
	    (hrc != rc || h.data.data != NULL || h.data.len != 0 ||
	     (rc == WSOP_JSON_OK && (strcmp(h.key, r.key) != 0 || h.mechanism != r.mechanism ||
	                             memcmp(h.iv, r.iv, sizeof(h.iv)) != 0)) ||
	     (rc != WSOP_JSON_OK && strcmp(herr.code, err.code) != 0)))
		abort();
	if (rc == WSOP_JSON_OK) {
		struct wsop_crypto_bin_head head;
		if (wsop_crypto_bin_head(&r, &head) != 0 ||
		    strcmp(head.h[0].value, http_header_get(&m, WSOP_KEY_HEADER)) != 0 ||
		    strcmp(head.h[1].value, http_header_get(&m, WSOP_MECHANISM_HEADER)) != 0 ||
		    strcmp(head.h[2].value, http_header_get(&m, WSOP_IV_HEADER)) != 0 ||
		    r.data.len != m.body_len ||
		    (r.data.len > 0 && memcmp(r.data.data, m.body, r.data.len) != 0))
			abort();
	} else if (rc != WSOP_JSON_ENOMEM && rc != WSOP_JSON_EBAD_VALUE &&
	           rc != WSOP_JSON_EBAD_MECHANISM && rc != WSOP_JSON_EBAD_IV &&
	           rc != WSOP_JSON_EBAD_DATA_LENGTH) {
		abort();
	} else if (r.data.data != NULL ||
	           strcmp(err.code, wsop_error_name(wsop_json_rc_error(rc))) != 0) {
		abort();
	}
	wsop_crypto_req_free(&r);
	http_message_clear(&m);
	return 0;
}
