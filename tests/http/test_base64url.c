/*
 * Strict unpadded base64url as ipc/base64url.h documents it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ipc/base64url.h"

static int decode_str(const char *text, uint8_t *out, size_t cap, size_t *out_len)
{
	return b64url_decode(text, strlen(text), out, cap, out_len);
}

/* RFC 4648 section 10, padding removed; the alphabet only differs on bytes
 * that map to 62 and 63, covered by url_alphabet_is_used. */
static void rfc4648_vectors(void **state)
{
	static const struct {
		const char *plain;
		const char *encoded;
	} vectors[] = {
		{ "", "" },
		{ "f", "Zg" },
		{ "fo", "Zm8" },
		{ "foo", "Zm9v" },
		{ "foob", "Zm9vYg" },
		{ "fooba", "Zm9vYmE" },
		{ "foobar", "Zm9vYmFy" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		char text[16];
		uint8_t plain[16];
		size_t n = strlen(vectors[i].plain);
		size_t out_len = 99;

		assert_int_equal(b64url_encoded_len(n), strlen(vectors[i].encoded));
		assert_int_equal(
		    b64url_encode((const uint8_t *)vectors[i].plain, n, text, sizeof(text)), 0);
		assert_string_equal(text, vectors[i].encoded);
		assert_int_equal(decode_str(vectors[i].encoded, plain, sizeof(plain), &out_len), 0);
		assert_int_equal(out_len, n);
		assert_memory_equal(plain, vectors[i].plain, n);
	}
}

static void url_alphabet_is_used(void **state)
{
	static const uint8_t bytes[] = { 0xfb, 0xff, 0xbf, 0xef, 0xbe };
	char text[16];
	uint8_t back[8];
	size_t out_len = 0;

	(void)state;
	assert_int_equal(b64url_encode(bytes, sizeof(bytes), text, sizeof(text)), 0);
	assert_string_equal(text, "-_-_774");
	assert_int_equal(decode_str("-_-_774", back, sizeof(back), &out_len), 0);
	assert_int_equal(out_len, sizeof(bytes));
	assert_memory_equal(back, bytes, sizeof(bytes));
}

static void every_length_round_trips(void **state)
{
	uint8_t plain[64];
	uint8_t back[64];
	char text[128];
	size_t n;

	(void)state;
	for (n = 0; n < sizeof(plain); n++)
		plain[n] = (uint8_t)(n * 37 + 11);
	for (n = 0; n <= sizeof(plain); n++) {
		size_t enc = b64url_encoded_len(n);
		size_t out_len = 999;

		assert_int_equal(enc, (n * 4 + 2) / 3);
		assert_int_equal(b64url_encode(plain, n, text, enc + 1), 0);
		assert_int_equal(strlen(text), enc);
		assert_int_equal(b64url_decoded_max(enc), n);
		assert_int_equal(b64url_decode(text, enc, back, n, &out_len), 0);
		assert_int_equal(out_len, n);
		assert_memory_equal(back, plain, n);
	}
}

static void decoded_max_by_remainder(void **state)
{
	(void)state;
	assert_int_equal(b64url_decoded_max(0), 0);
	assert_int_equal(b64url_decoded_max(1), 0);
	assert_int_equal(b64url_decoded_max(2), 1);
	assert_int_equal(b64url_decoded_max(3), 2);
	assert_int_equal(b64url_decoded_max(4), 3);
	assert_int_equal(b64url_decoded_max(5), 3);
	assert_int_equal(b64url_decoded_max(8), 6);
}

static void characters_outside_the_alphabet_are_refused(void **state)
{
	static const char *bad[] = {
		"Zm9+",  "Zm9/",  "Zg==",   "Zm8=", "Zm 9v",
		" Zm9v", "Zm9v ", "Zm9v\n", "Zm.v", "Zm9\x80",
	};
	uint8_t out[16];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t out_len = 77;

		assert_int_equal(decode_str(bad[i], out, sizeof(out), &out_len), -EINVAL);
		assert_int_equal(out_len, 77);
	}
	/* An embedded NUL is a character too. */
	{
		size_t out_len = 0;

		assert_int_equal(b64url_decode("Zm\0v", 4, out, sizeof(out), &out_len), -EINVAL);
	}
}

static void impossible_length_is_refused(void **state)
{
	uint8_t out[16];
	size_t out_len = 0;

	(void)state;
	assert_int_equal(decode_str("Z", out, sizeof(out), &out_len), -EINVAL);
	assert_int_equal(decode_str("Zm9vY", out, sizeof(out), &out_len), -EINVAL);
	assert_int_equal(decode_str("Zm9vYmFyZ", out, sizeof(out), &out_len), -EINVAL);
}

static void non_canonical_trailing_bits_are_refused(void **state)
{
	uint8_t out[16];
	size_t out_len = 0;

	(void)state;
	/* "f" is Zg; Zh..Zv carry non-zero bits past the byte. */
	assert_int_equal(decode_str("Zg", out, sizeof(out), &out_len), 0);
	assert_int_equal(decode_str("Zh", out, sizeof(out), &out_len), -EINVAL);
	assert_int_equal(decode_str("Zv", out, sizeof(out), &out_len), -EINVAL);
	assert_int_equal(decode_str("Zw", out, sizeof(out), &out_len), 0); /* 0x67 */
	/* "fo" is Zm8; Zm9 differs only in the two spare bits. */
	assert_int_equal(decode_str("Zm8", out, sizeof(out), &out_len), 0);
	assert_int_equal(decode_str("Zm9", out, sizeof(out), &out_len), -EINVAL);
	assert_int_equal(decode_str("Zm-", out, sizeof(out), &out_len), -EINVAL);
	assert_int_equal(decode_str("Zm_", out, sizeof(out), &out_len), -EINVAL);
	assert_int_equal(decode_str("Zm4", out, sizeof(out), &out_len), 0);
}

static void small_buffers_are_refused(void **state)
{
	static const uint8_t plain[] = "foobar";
	char text[16];
	uint8_t out[16];
	size_t out_len = 55;

	(void)state;
	/* Encoding needs room for the NUL. */
	assert_int_equal(b64url_encode(plain, 6, text, 8), -ENOBUFS);
	assert_int_equal(b64url_encode(plain, 6, text, 9), 0);
	assert_int_equal(b64url_encode(plain, 0, text, 0), -ENOBUFS);
	assert_int_equal(b64url_encode(plain, 0, text, 1), 0);
	assert_string_equal(text, "");
	assert_int_equal(b64url_encode(plain, 1, NULL, 3), -ENOBUFS);

	/* Decoding needs b64url_decoded_max bytes. */
	assert_int_equal(decode_str("Zm9vYmFy", out, 5, &out_len), -ENOBUFS);
	assert_int_equal(out_len, 55);
	assert_int_equal(decode_str("Zm9vYmE", out, 4, &out_len), -ENOBUFS);
	assert_int_equal(decode_str("Zm9vYmE", out, 5, &out_len), 0);
	assert_int_equal(out_len, 5);
	assert_int_equal(decode_str("", NULL, 0, &out_len), 0);
	assert_int_equal(out_len, 0);
	assert_int_equal(b64url_decode(NULL, 0, NULL, 0, &out_len), 0);
	assert_int_equal(b64url_decode(NULL, 4, out, sizeof(out), &out_len), -EINVAL);
	assert_int_equal(b64url_decode("Zm9v", 4, out, sizeof(out), NULL), -EINVAL);
}

static void nothing_is_written_on_refusal(void **state)
{
	uint8_t out[8];
	size_t out_len = 0;

	(void)state;
	memset(out, 0xaa, sizeof(out));
	assert_int_equal(decode_str("Zm9vYmF+", out, sizeof(out), &out_len), -EINVAL);
	assert_int_equal(out[0], 0xaa);
	assert_int_equal(decode_str("Zm9vYh", out, sizeof(out), &out_len), -EINVAL);
	assert_int_equal(out[0], 0xaa);
}

static void huge_lengths_saturate(void **state)
{
	char c;

	(void)state;
	assert_int_equal(b64url_encoded_len(SIZE_MAX), SIZE_MAX);
	assert_int_equal(b64url_encode((const uint8_t *)"", SIZE_MAX, &c, 1), -ENOBUFS);
	assert_true(b64url_decoded_max(SIZE_MAX) <= SIZE_MAX / 4 * 3 + 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc4648_vectors),
		cmocka_unit_test(url_alphabet_is_used),
		cmocka_unit_test(every_length_round_trips),
		cmocka_unit_test(decoded_max_by_remainder),
		cmocka_unit_test(characters_outside_the_alphabet_are_refused),
		cmocka_unit_test(impossible_length_is_refused),
		cmocka_unit_test(non_canonical_trailing_bits_are_refused),
		cmocka_unit_test(small_buffers_are_refused),
		cmocka_unit_test(nothing_is_written_on_refusal),
		cmocka_unit_test(huge_lengths_saturate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
