/*
 * libFuzzer target for base64url.
 *
 * The input is used twice: as text to decode (a decoded value must encode
 * back to exactly that text, since decoding accepts only the canonical
 * form) and as bytes to encode (the text must decode back to them). Buffers
 * are sized exactly as the header says, so AddressSanitizer sees overruns.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/base64url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(bool ok)
{
	if (!ok)
		abort();
}

static bool in_alphabet(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

static void decode_then_encode(const uint8_t *data, size_t size)
{
	size_t cap = b64url_decoded_max(size);
	uint8_t *plain = malloc(cap ? cap : 1);
	size_t plain_len = 0;
	char *text;
	size_t i;
	int r;

	require(plain != NULL);
	r = b64url_decode((const char *)data, size, plain, cap, &plain_len);
	if (r != 0) {
		bool all_valid = true;

		require(r == -EINVAL);
		for (i = 0; i < size; i++)
			all_valid = all_valid && in_alphabet(data[i]);
		/* Valid characters are refused only for length or spare bits. */
		if (all_valid)
			require(size % 4 != 0);
		free(plain);
		return;
	}
	require(plain_len == cap);
	/* One byte less of room must be refused. */
	if (cap > 0) {
		size_t ignored;

		require(b64url_decode((const char *)data, size, plain, cap - 1, &ignored) ==
		        -ENOBUFS);
	}
	text = malloc(size + 1);
	require(text != NULL);
	require(b64url_encoded_len(plain_len) == size);
	require(b64url_encode(plain, plain_len, text, size + 1) == 0);
	require(memcmp(text, data, size) == 0 && text[size] == '\0');
	free(text);
	free(plain);
}

static void encode_then_decode(const uint8_t *data, size_t size)
{
	size_t text_len = b64url_encoded_len(size);
	char *text = malloc(text_len + 1);
	uint8_t *plain;
	size_t plain_len = 0;

	require(text != NULL);
	require(b64url_encode(data, size, text, text_len) == -ENOBUFS);
	require(b64url_encode(data, size, text, text_len + 1) == 0);
	require(strlen(text) == text_len);
	require(b64url_decoded_max(text_len) == size);
	plain = malloc(size ? size : 1);
	require(plain != NULL);
	require(b64url_decode(text, text_len, plain, size, &plain_len) == 0);
	require(plain_len == size && (size == 0 || memcmp(plain, data, size) == 0));
	free(plain);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	decode_then_encode(data, size);
	encode_then_decode(data, size);
	return 0;
}
