/*
 * libFuzzer target for the server's handling of client-chosen crypto
 * input: AES-CBC / CBC-PAD on any key, IV and data (what
 * /crypto/v1/{encrypt,decrypt} pass through), and key unwrapping of any
 * blob. Beyond "no crash", it checks the contracts:
 *  - every result is one of the documented values;
 *  - a successful decryption re-encrypts to exactly the input, and a
 *    successful encryption decrypts back to it;
 *  - on failure no output is left behind;
 *  - unwrapping a blob that was not made by keywrap_wrap never succeeds.
 *
 * Input: byte 0 selects the operation, then key, IV and data follow.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/aes_cbc.h"
#include "server/keywrap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CARD "00112233445566778899aabbccddeeff00112233"

static void check(int cond)
{
	if (!cond)
		abort();
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

static void fuzz_unwrap(const uint8_t *data, size_t size)
{
	struct keywrap_kek kek;
	uint8_t key[KEYWRAP_KEY_MAX];
	size_t key_len = 99;
	memset(kek.key, 0x42, sizeof(kek.key));
	memset(key, 0xee, sizeof(key));
	int r = keywrap_unwrap(&kek, CARD, "fuzz", data, size, key, sizeof(key), &key_len);
	/* Forging a GCM tag by chance is not something a fuzzer does. */
	check(r == KEYWRAP_ERR_TAMPERED || r == KEYWRAP_ERR_ARG);
	check(key_len == 0);
	if (r == KEYWRAP_ERR_TAMPERED)
		check(all_zero(key, size - KEYWRAP_WRAPPED_LEN(0)));
}

static void fuzz_cbc(uint8_t op, const uint8_t *data, size_t size)
{
	static const size_t key_lens[] = { 16, 24, 32, 20 };
	size_t key_len = key_lens[op & 3];
	enum aescbc_mode mode = (op & 4) ? AESCBC_MODE_CBC_PAD : AESCBC_MODE_CBC;
	int encrypt = (op & 8) != 0;
	size_t iv_len = (op & 16) ? 15 : 16;
	if (size < key_len + iv_len)
		return;
	const uint8_t *key = data, *iv = data + key_len, *in = data + key_len + iv_len;
	size_t in_len = size - key_len - iv_len;

	size_t cap = in_len + AESCBC_BLOCK;
	uint8_t *out = malloc(cap), *back = malloc(cap + AESCBC_BLOCK);
	if (out == NULL || back == NULL)
		abort();
	memset(out, 0xee, cap);
	size_t out_len = 99, back_len = 0;
	int r =
	    encrypt
	        ? aescbc_encrypt(mode, key, key_len, iv, iv_len, in, in_len, out, cap, &out_len)
	        : aescbc_decrypt(mode, key, key_len, iv, iv_len, in, in_len, out, cap, &out_len);
	check(r == AESCBC_OK || r == AESCBC_BAD_KEY_LEN || r == AESCBC_BAD_IV_LEN ||
	      r == AESCBC_BAD_DATA_LEN || r == AESCBC_BAD_PADDING);
	if (key_len == 20)
		check(r == AESCBC_BAD_KEY_LEN);
	else if (iv_len != 16)
		check(r == AESCBC_BAD_IV_LEN);
	if (r == AESCBC_BAD_PADDING) {
		check(!encrypt && mode == AESCBC_MODE_CBC_PAD);
		check(out_len == 0 && all_zero(out, in_len));
	}
	/* CBC of nothing is nothing, and an empty ciphertext is refused:
	 * that one success has no way back. */
	if (r == AESCBC_OK && encrypt && out_len == 0)
		check(mode == AESCBC_MODE_CBC && in_len == 0);
	else if (r == AESCBC_OK) {
		check(out_len <= cap);
		if (encrypt)
			check(out_len == aescbc_out_max(mode, 1, in_len));
		/* The way back gives the input again, byte for byte. */
		int r2 = encrypt ? aescbc_decrypt(mode, key, key_len, iv, iv_len, out, out_len,
		                                  back, cap + AESCBC_BLOCK, &back_len)
		                 : aescbc_encrypt(mode, key, key_len, iv, iv_len, out, out_len,
		                                  back, cap + AESCBC_BLOCK, &back_len);
		check(r2 == AESCBC_OK);
		check(back_len == in_len);
		check(in_len == 0 || memcmp(back, in, in_len) == 0);
	}
	free(out);
	free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 0x80)
		fuzz_unwrap(data + 1, size - 1);
	else
		fuzz_cbc(data[0], data + 1, size - 1);
	return 0;
}
