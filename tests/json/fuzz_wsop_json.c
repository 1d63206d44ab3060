/*
 * libFuzzer target for every WSOP body decoder. The first input byte picks
 * the decoder (modulo the number of bodies), the rest is the body. Whatever
 * decodes must encode again, and that encoding must decode and re-encode
 * to itself: the encoders write only what the decoders accept, in one
 * spelling.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_any.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wsop_json_error err;
	char *once, *twice;
	size_t once_len, twice_len;

	if (size < 1)
		return 0;
	enum json_any_kind kind = (enum json_any_kind)(data[0] % JA_COUNT);
	int rc = json_any_recode(kind, (const char *)data + 1, size - 1, &once, &once_len, &err);
	if (rc <= -1000)
		abort(); /* decoded but could not encode */
	if (rc != 0) {
		/* Every refusal names a README code and says why. */
		if (err.code[0] == '\0' || err.message[0] == '\0' ||
		    strlen(err.code) >= sizeof(err.code))
			abort();
		return 0;
	}
	rc = json_any_recode(kind, once, once_len, &twice, &twice_len, &err);
	if (rc != 0) {
		fprintf(stderr, "re-decode of %s failed: %d %s %s\n%s\n", json_any_names[kind], rc,
		        err.code, err.message, once);
		abort();
	}
	if (once_len != twice_len || memcmp(once, twice, once_len) != 0) {
		fprintf(stderr, "%s not stable:\n%s\n%s\n", json_any_names[kind], once, twice);
		abort();
	}
	free(once);
	free(twice);
	return 0;
}
