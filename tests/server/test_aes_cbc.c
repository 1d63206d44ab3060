/*
 * AES-CBC / CBC-PAD: the NIST SP 800-38A F.2 vectors, and every edge of the
 * padding and length rules of /crypto/v1/{encrypt,decrypt}.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/aes_cbc.h"
#include "test_util.h"

/* SP 800-38A appendix F.2: one plaintext and IV for every key size. */
static const char nist_iv[] = "000102030405060708090a0b0c0d0e0f";
static const char nist_plain[] = "6bc1bee22e409f96e93d7e117393172a"
                                 "ae2d8a571e03ac9c9eb76fac45af8e51"
                                 "30c81c46a35ce411e5fbc1191a0a52ef"
                                 "f69f2445df4f9b17ad2b417be66c3710";

struct nist_case {
	const char *key;
	const char *cipher;
};

static const struct nist_case nist_128 = {
	"2b7e151628aed2a6abf7158809cf4f3c",
	"7649abac8119b246cee98e9b12e9197d"
	"5086cb9b507219ee95db113a917678b2"
	"73bed6b8e3c1743b7116e69e22229516"
	"3ff1caa1681fac09120eca307586e1a7",
};

static const struct nist_case nist_192 = {
	"8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b",
	"4f021db243bc633d7178183a9fa071e8"
	"b4d9ada9ad7dedf4e5e738763f69145a"
	"571b242012fb7ae07fa9baac3df102e0"
	"08b0e27988598881d920a9e64f5615cd",
};

static const struct nist_case nist_256 = {
	"603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
	"f58c4c04d6e5f1ba779eabfb5f7bfbd6"
	"9cfc4e967edb808d679f777bc6702c7d"
	"39f23369a9d9bacfa530e26304231461"
	"b2eb05e2c39be9fcda6c19078c6a9d1b",
};

static void nist_check(const struct nist_case *c, bool encrypt)
{
	uint8_t key[32], iv[16], plain[64], cipher[64], out[64];
	size_t key_len = tu_hex(c->key, key, sizeof(key));
	assert_int_equal(tu_hex(nist_iv, iv, sizeof(iv)), 16);
	assert_int_equal(tu_hex(nist_plain, plain, sizeof(plain)), 64);
	assert_int_equal(tu_hex(c->cipher, cipher, sizeof(cipher)), 64);
	size_t out_len = 99;
	int rc = encrypt ? aescbc_encrypt(AESCBC_MODE_CBC, key, key_len, iv, 16, plain, 64, out,
	                                  sizeof(out), &out_len)
	                 : aescbc_decrypt(AESCBC_MODE_CBC, key, key_len, iv, 16, cipher, 64, out,
	                                  sizeof(out), &out_len);
	assert_int_equal(rc, AESCBC_OK);
	assert_int_equal(out_len, 64);
	assert_memory_equal(out, encrypt ? cipher : plain, 64);
}

static void f_2_1_cbc_aes128_encrypt(void **state)
{
	(void)state;
	nist_check(&nist_128, true);
}

static void f_2_2_cbc_aes128_decrypt(void **state)
{
	(void)state;
	nist_check(&nist_128, false);
}

static void f_2_3_cbc_aes192_encrypt(void **state)
{
	(void)state;
	nist_check(&nist_192, true);
}

static void f_2_4_cbc_aes192_decrypt(void **state)
{
	(void)state;
	nist_check(&nist_192, false);
}

static void f_2_5_cbc_aes256_encrypt(void **state)
{
	(void)state;
	nist_check(&nist_256, true);
}

static void f_2_6_cbc_aes256_decrypt(void **state)
{
	(void)state;
	nist_check(&nist_256, false);
}

static const uint8_t key16[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
static const uint8_t iv16[16] = { 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
	                          0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf };

static void pad_empty_plaintext_gives_one_block(void **state)
{
	(void)state;
	uint8_t out[16], raw[16], back[16], full_pad[16];
	size_t out_len = 0, raw_len = 0, back_len = 99;
	assert_int_equal(aescbc_out_max(AESCBC_MODE_CBC_PAD, true, 0), 16);
	assert_int_equal(aescbc_encrypt(AESCBC_MODE_CBC_PAD, key16, 16, iv16, 16, NULL, 0, out,
	                                sizeof(out), &out_len),
	                 AESCBC_OK);
	assert_int_equal(out_len, 16);
	/* The one block is a whole block of padding bytes 0x10. */
	memset(full_pad, 16, sizeof(full_pad));
	assert_int_equal(aescbc_encrypt(AESCBC_MODE_CBC, key16, 16, iv16, 16, full_pad, 16, raw,
	                                sizeof(raw), &raw_len),
	                 AESCBC_OK);
	assert_memory_equal(out, raw, 16);
	assert_int_equal(aescbc_decrypt(AESCBC_MODE_CBC_PAD, key16, 16, iv16, 16, out, 16, back,
	                                sizeof(back), &back_len),
	                 AESCBC_OK);
	assert_int_equal(back_len, 0);
}

static void pad_full_block_plaintext_gives_two_blocks(void **state)
{
	(void)state;
	uint8_t plain[16], out[32], back[32];
	size_t out_len = 0, back_len = 0;
	memset(plain, 0x5a, sizeof(plain));
	assert_int_equal(aescbc_out_max(AESCBC_MODE_CBC_PAD, true, 16), 32);
	assert_int_equal(aescbc_encrypt(AESCBC_MODE_CBC_PAD, key16, 16, iv16, 16, plain, 16, out,
	                                sizeof(out), &out_len),
	                 AESCBC_OK);
	assert_int_equal(out_len, 32);
	assert_int_equal(aescbc_decrypt(AESCBC_MODE_CBC_PAD, key16, 16, iv16, 16, out, 32, back,
	                                sizeof(back), &back_len),
	                 AESCBC_OK);
	assert_int_equal(back_len, 16);
	assert_memory_equal(back, plain, 16);
}

static void pad_round_trip_every_length(void **state)
{
	(void)state;
	uint8_t plain[48], out[64], back[64];
	for (size_t n = 0; n <= sizeof(plain); n++) {
		size_t out_len = 0, back_len = 0;
		for (size_t i = 0; i < n; i++)
			plain[i] = (uint8_t)(i * 7 + n);
		assert_int_equal(aescbc_encrypt(AESCBC_MODE_CBC_PAD, key16, 16, iv16, 16, plain, n,
		                                out, sizeof(out), &out_len),
		                 AESCBC_OK);
		assert_int_equal(out_len, (n / 16 + 1) * 16);
		assert_int_equal(out_len, aescbc_out_max(AESCBC_MODE_CBC_PAD, true, n));
		assert_int_equal(aescbc_decrypt(AESCBC_MODE_CBC_PAD, key16, 16, iv16, 16, out,
		                                out_len, back, sizeof(back), &back_len),
		                 AESCBC_OK);
		assert_int_equal(back_len, n);
		if (n > 0)
			assert_memory_equal(back, plain, n);
	}
}

/* Encrypts a chosen last block with raw CBC, so that CBC-PAD decryption
 * sees exactly those bytes as its padding. */
static void decrypt_block_as_pad(const uint8_t block[16], int *rc, size_t *len, uint8_t out[16])
{
	uint8_t cipher[16];
	size_t cipher_len = 0;
	assert_int_equal(aescbc_encrypt(AESCBC_MODE_CBC, key16, 16, iv16, 16, block, 16, cipher,
	                                sizeof(cipher), &cipher_len),
	                 AESCBC_OK);
	memset(out, 0xee, 16);
	*len = 77;
	*rc = aescbc_decrypt(AESCBC_MODE_CBC_PAD, key16, 16, iv16, 16, cipher, 16, out, 16, len);
}

static void assert_no_output(const uint8_t out[16], size_t len)
{
	static const uint8_t zero[16];
	assert_int_equal(len, 0);
	assert_memory_equal(out, zero, 16);
}

static void pad_every_valid_pad_length_accepted(void **state)
{
	(void)state;
	for (unsigned pad = 1; pad <= 16; pad++) {
		uint8_t block[16], out[16];
		int rc;
		size_t len;
		memset(block, 0x41, sizeof(block));
		memset(block + 16 - pad, (int)pad, pad);
		decrypt_block_as_pad(block, &rc, &len, out);
		assert_int_equal(rc, AESCBC_OK);
		assert_int_equal(len, 16 - pad);
	}
}

static void pad_every_wrong_pad_byte_refused(void **state)
{
	(void)state;
	for (unsigned pad = 1; pad <= 16; pad++) {
		/* Each byte of the padding in turn takes every other value. */
		for (unsigned pos = 16 - pad; pos < 16; pos++) {
			for (unsigned v = 0; v < 256; v++) {
				uint8_t block[16], out[16];
				int rc;
				size_t len;
				if (v == pad)
					continue;
				memset(block, 0x41, sizeof(block));
				memset(block + 16 - pad, (int)pad, pad);
				block[pos] = (uint8_t)v;
				/* Changing the last byte changes the pad length
				 * itself: skip values that form another valid
				 * padding. */
				if (pos == 15 && v >= 1 && v <= 16) {
					bool valid = true;
					for (unsigned i = 16 - v; i < 16; i++)
						valid = valid && block[i] == v;
					if (valid)
						continue;
				}
				decrypt_block_as_pad(block, &rc, &len, out);
				assert_int_equal(rc, AESCBC_BAD_PADDING);
				assert_no_output(out, len);
			}
		}
	}
}

static void pad_byte_zero_and_over_sixteen_refused(void **state)
{
	(void)state;
	const unsigned values[] = { 0, 17, 32, 128, 255 };
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		uint8_t block[16], out[16];
		int rc;
		size_t len;
		memset(block, (int)values[i], sizeof(block));
		decrypt_block_as_pad(block, &rc, &len, out);
		assert_int_equal(rc, AESCBC_BAD_PADDING);
		assert_no_output(out, len);
	}
}

static void bad_key_lengths_refused(void **state)
{
	(void)state;
	uint8_t key[40] = { 0 }, data[16] = { 0 }, out[32];
	const size_t lens[] = { 0, 1, 15, 17, 23, 25, 31, 33, 40 };
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t n = 0;
		assert_int_equal(aescbc_encrypt(AESCBC_MODE_CBC, key, lens[i], iv16, 16, data, 16,
		                                out, sizeof(out), &n),
		                 AESCBC_BAD_KEY_LEN);
		assert_int_equal(aescbc_decrypt(AESCBC_MODE_CBC_PAD, key, lens[i], iv16, 16, data,
		                                16, out, sizeof(out), &n),
		                 AESCBC_BAD_KEY_LEN);
	}
}

static void bad_iv_lengths_refused(void **state)
{
	(void)state;
	uint8_t iv[32] = { 0 }, data[16] = { 0 }, out[32];
	const size_t lens[] = { 0, 8, 12, 15, 17, 32 };
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t n = 0;
		assert_int_equal(aescbc_encrypt(AESCBC_MODE_CBC_PAD, key16, 16, iv, lens[i], data,
		                                16, out, sizeof(out), &n),
		                 AESCBC_BAD_IV_LEN);
		assert_int_equal(aescbc_decrypt(AESCBC_MODE_CBC, key16, 16, iv, lens[i], data, 16,
		                                out, sizeof(out), &n),
		                 AESCBC_BAD_IV_LEN);
	}
	size_t n = 0;
	assert_int_equal(
	    aescbc_encrypt(AESCBC_MODE_CBC, key16, 16, NULL, 16, data, 16, out, sizeof(out), &n),
	    AESCBC_BAD_IV_LEN);
}

static void bad_data_lengths_refused(void **state)
{
	(void)state;
	uint8_t data[64] = { 0 }, out[80];
	size_t n = 0;
	/* CBC plaintext must be whole blocks. */
	assert_int_equal(
	    aescbc_encrypt(AESCBC_MODE_CBC, key16, 16, iv16, 16, data, 15, out, sizeof(out), &n),
	    AESCBC_BAD_DATA_LEN);
	assert_int_equal(
	    aescbc_encrypt(AESCBC_MODE_CBC, key16, 16, iv16, 16, data, 17, out, sizeof(out), &n),
	    AESCBC_BAD_DATA_LEN);
	/* An empty CBC plaintext is zero blocks: allowed. */
	assert_int_equal(
	    aescbc_encrypt(AESCBC_MODE_CBC, key16, 16, iv16, 16, NULL, 0, out, sizeof(out), &n),
	    AESCBC_OK);
	assert_int_equal(n, 0);
	/* Any ciphertext: whole blocks, not empty. */
	const enum aescbc_mode modes[] = { AESCBC_MODE_CBC, AESCBC_MODE_CBC_PAD };
	const size_t bad[] = { 0, 1, 15, 17, 31, 33 };
	for (size_t m = 0; m < 2; m++) {
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			assert_int_equal(aescbc_decrypt(modes[m], key16, 16, iv16, 16, data, bad[i],
			                                out, sizeof(out), &n),
			                 AESCBC_BAD_DATA_LEN);
			assert_int_equal(n, 0);
		}
	}
}

static void small_output_buffer_refused(void **state)
{
	(void)state;
	uint8_t data[32] = { 0 }, out[32];
	size_t n = 0;
	assert_int_equal(
	    aescbc_encrypt(AESCBC_MODE_CBC_PAD, key16, 16, iv16, 16, data, 16, out, 31, &n),
	    AESCBC_OUT_TOO_SMALL);
	assert_int_equal(
	    aescbc_encrypt(AESCBC_MODE_CBC, key16, 16, iv16, 16, data, 32, out, 16, &n),
	    AESCBC_OUT_TOO_SMALL);
	/* CBC-PAD decryption needs room for the whole ciphertext, since the
	 * pad length is only known after decrypting. */
	assert_int_equal(
	    aescbc_decrypt(AESCBC_MODE_CBC_PAD, key16, 16, iv16, 16, data, 32, out, 16, &n),
	    AESCBC_OUT_TOO_SMALL);
	assert_int_equal(
	    aescbc_encrypt(AESCBC_MODE_CBC, key16, 16, iv16, 16, data, 16, NULL, 16, &n),
	    AESCBC_OUT_TOO_SMALL);
	assert_int_equal(
	    aescbc_encrypt(AESCBC_MODE_CBC, key16, 16, iv16, 16, data, 16, out, 16, NULL),
	    AESCBC_BAD_ARG);
	assert_int_equal(
	    aescbc_encrypt((enum aescbc_mode)7, key16, 16, iv16, 16, data, 16, out, 16, &n),
	    AESCBC_BAD_ARG);
}

/* Inputs over EVP's int-sized pieces go through the chunking loop. */
static void long_input_round_trip(void **state)
{
	(void)state;
	size_t n = (2u << 20) + 5;
	uint8_t *plain = malloc(n), *cipher = malloc(n + 16), *back = malloc(n + 16);
	assert_non_null(plain);
	assert_non_null(cipher);
	assert_non_null(back);
	for (size_t i = 0; i < n; i++)
		plain[i] = (uint8_t)(i ^ (i >> 8));
	size_t c_len = 0, b_len = 0;
	uint8_t key32[32] = { 9 };
	assert_int_equal(aescbc_encrypt(AESCBC_MODE_CBC_PAD, key32, 32, iv16, 16, plain, n, cipher,
	                                n + 16, &c_len),
	                 AESCBC_OK);
	assert_int_equal(c_len, n + 11);
	assert_int_equal(aescbc_decrypt(AESCBC_MODE_CBC_PAD, key32, 32, iv16, 16, cipher, c_len,
	                                back, n + 16, &b_len),
	                 AESCBC_OK);
	assert_int_equal(b_len, n);
	assert_memory_equal(back, plain, n);
	free(plain);
	free(cipher);
	free(back);
}

static void result_names_are_distinct(void **state)
{
	(void)state;
	for (int a = AESCBC_INTERNAL; a <= AESCBC_OK; a++)
		for (int b = a + 1; b <= AESCBC_OK; b++)
			assert_string_not_equal(aescbc_result_name(a), aescbc_result_name(b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(f_2_1_cbc_aes128_encrypt),
		cmocka_unit_test(f_2_2_cbc_aes128_decrypt),
		cmocka_unit_test(f_2_3_cbc_aes192_encrypt),
		cmocka_unit_test(f_2_4_cbc_aes192_decrypt),
		cmocka_unit_test(f_2_5_cbc_aes256_encrypt),
		cmocka_unit_test(f_2_6_cbc_aes256_decrypt),
		cmocka_unit_test(pad_empty_plaintext_gives_one_block),
		cmocka_unit_test(pad_full_block_plaintext_gives_two_blocks),
		cmocka_unit_test(pad_round_trip_every_length),
		cmocka_unit_test(pad_every_valid_pad_length_accepted),
		cmocka_unit_test(pad_every_wrong_pad_byte_refused),
		cmocka_unit_test(pad_byte_zero_and_over_sixteen_refused),
		cmocka_unit_test(bad_key_lengths_refused),
		cmocka_unit_test(bad_iv_lengths_refused),
		cmocka_unit_test(bad_data_lengths_refused),
		cmocka_unit_test(small_output_buffer_refused),
		cmocka_unit_test(long_input_round_trip),
		cmocka_unit_test(result_names_are_distinct),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
