/*
 * AES-CBC and AES-CBC-PAD (PKCS #7 padding) for wsopd's /crypto/v1 endpoints.
 *
 * Contract:
 *  - Key: 16, 24 or 32 bytes (AES-128/192/256), else AESCBC_BAD_KEY_LEN.
 *  - IV: exactly AESCBC_BLOCK (16) bytes, else AESCBC_BAD_IV_LEN.
 *  - Data length rules (checked before any output is written):
 *      AESCBC_MODE_CBC encrypt:     plaintext a multiple of 16 (0 allowed)
 *      AESCBC_MODE_CBC decrypt:     ciphertext a multiple of 16 and not empty
 *      AESCBC_MODE_CBC_PAD encrypt: any plaintext length
 *      AESCBC_MODE_CBC_PAD decrypt: ciphertext a multiple of 16 and not empty
 *    otherwise AESCBC_BAD_DATA_LEN.
 *  - Output size: aescbc_out_max(mode, encrypt, in_len) bytes always suffice;
 *    a smaller out_cap gives AESCBC_OUT_TOO_SMALL. For CBC the output is
 *    exactly in_len; for CBC-PAD encryption it is in_len rounded up to the
 *    next multiple of 16 (a full block of padding when in_len % 16 == 0);
 *    for CBC-PAD decryption it is in_len minus the padding (1..16 bytes).
 *  - CBC-PAD decryption whose last block does not end in 1..16 bytes each
 *    equal to the pad length is AESCBC_BAD_PADDING. On that result, and on
 *    every result other than AESCBC_OK, nothing is left in out (it is
 *    cleansed) and *out_len is 0.
 *  - in and out may not overlap. in may be NULL when in_len is 0.
 *  - Key bytes and intermediate plaintext are cleansed before return.
 *  - Thread-safe (the only shared state, the cipher implementations, is
 *    fetched once and read-only after).
 */
#ifndef PKCS11WSOP_SERVER_AES_CBC_H
#define PKCS11WSOP_SERVER_AES_CBC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define AESCBC_BLOCK 16

enum aescbc_mode {
	AESCBC_MODE_CBC = 0,     /* CKM_AES_CBC: no padding */
	AESCBC_MODE_CBC_PAD = 1, /* CKM_AES_CBC_PAD: PKCS #7 padding */
};

enum aescbc_result {
	AESCBC_OK = 0,
	AESCBC_BAD_KEY_LEN = -1,
	AESCBC_BAD_IV_LEN = -2,
	AESCBC_BAD_DATA_LEN = -3,  /* -> 400 bad_data_length */
	AESCBC_BAD_PADDING = -4,   /* -> 400 bad_padding */
	AESCBC_OUT_TOO_SMALL = -5, /* caller bug: out_cap < aescbc_out_max() */
	AESCBC_BAD_ARG = -6,       /* NULL pointer or unknown mode */
	AESCBC_INTERNAL = -7,      /* OpenSSL failure -> 500 internal */
};

/* Bytes of output that always suffice for in_len bytes of input. 0 for
 * lengths that aescbc_encrypt/decrypt refuse (AESCBC_BAD_DATA_LEN), and
 * for the one accepted empty case, a CBC encryption of 0 bytes (out may
 * then be NULL). */
size_t aescbc_out_max(enum aescbc_mode mode, bool encrypt, size_t in_len);

int aescbc_encrypt(enum aescbc_mode mode, const uint8_t *key, size_t key_len, const uint8_t *iv,
                   size_t iv_len, const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
                   size_t *out_len);

int aescbc_decrypt(enum aescbc_mode mode, const uint8_t *key, size_t key_len, const uint8_t *iv,
                   size_t iv_len, const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
                   size_t *out_len);

/* Short English name of a result, for logs ("bad padding"...). */
const char *aescbc_result_name(int result);

/* The EVP AES-CBC cipher for a key of key_len bytes (16, 24 or 32), else
 * NULL. */
const EVP_CIPHER *aescbc_cipher(size_t key_len);

#endif
