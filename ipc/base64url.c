/*
 * Strict unpadded base64url (RFC 4648 section 5). See base64url.h.
 *
 * Decoding validates the whole text before it writes a single byte, so a
 * refused value never leaves half-decoded (possibly secret) bytes behind in
 * the caller's buffer.
 */
#include "ipc/base64url.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

static const char b64url_alphabet[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Six-bit value of c, or -1 when c is outside the url alphabet. */
static int b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

size_t b64url_encoded_len(size_t n)
{
	static const size_t tail[3] = { 0, 2, 3 };

	/* Saturate instead of wrapping so that a capacity check against the
	 * answer can only fail, never pass by accident. */
	if (n / 3 > (SIZE_MAX - 4) / 4)
		return SIZE_MAX;
	return (n / 3) * 4 + tail[n % 3];
}

size_t b64url_decoded_max(size_t text_len)
{
	/* A remainder of 1 can never be decoded; count it as nothing. */
	static const size_t tail[4] = { 0, 0, 1, 2 };

	return (text_len / 4) * 3 + tail[text_len % 4];
}

int b64url_encode(const uint8_t *in, size_t n, char *out, size_t out_cap)
{
	size_t need = b64url_encoded_len(n);
	size_t i = 0;
	size_t o = 0;

	if (need == SIZE_MAX || out == NULL || out_cap < need + 1)
		return -ENOBUFS;

	for (; n - i >= 3; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = b64url_alphabet[(v >> 18) & 0x3f];
		out[o++] = b64url_alphabet[(v >> 12) & 0x3f];
		out[o++] = b64url_alphabet[(v >> 6) & 0x3f];
		out[o++] = b64url_alphabet[v & 0x3f];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;

		out[o++] = b64url_alphabet[(v >> 18) & 0x3f];
		out[o++] = b64url_alphabet[(v >> 12) & 0x3f];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;

		out[o++] = b64url_alphabet[(v >> 18) & 0x3f];
		out[o++] = b64url_alphabet[(v >> 12) & 0x3f];
		out[o++] = b64url_alphabet[(v >> 6) & 0x3f];
	}
	out[o] = '\0';
	return 0;
}

/* Every character in the alphabet, and the bits that the last character
 * carries beyond the final whole byte are zero (the canonical form). */
static bool b64url_text_valid(const char *text, size_t text_len)
{
	size_t i;
	int last;

	for (i = 0; i < text_len; i++) {
		if (b64url_value((unsigned char)text[i]) < 0)
			return false;
	}
	if (text_len % 4 == 0)
		return true;
	last = b64url_value((unsigned char)text[text_len - 1]);
	/* Two characters carry 12 bits for one byte, three carry 18 for two. */
	if (text_len % 4 == 2)
		return (last & 0x0f) == 0;
	return (last & 0x03) == 0;
}

int b64url_decode(const char *text, size_t text_len, uint8_t *out, size_t out_cap, size_t *out_len)
{
	size_t need = b64url_decoded_max(text_len);
	size_t i = 0;
	size_t o = 0;
	uint32_t acc = 0;
	unsigned bits = 0;

	if (out_len == NULL || (text == NULL && text_len != 0))
		return -EINVAL;
	if (text_len % 4 == 1 || !b64url_text_valid(text, text_len))
		return -EINVAL;
	if (out_cap < need || (out == NULL && need != 0))
		return -ENOBUFS;

	for (i = 0; i < text_len; i++) {
		acc = (acc << 6) | (uint32_t)b64url_value((unsigned char)text[i]);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	*out_len = o;
	return 0;
}
