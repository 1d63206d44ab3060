/*
 * AES-CBC / AES-CBC-PAD over OpenSSL EVP. See aes_cbc.h for the contract.
 *
 * EVP's own padding is used for encryption only. For decryption padding is
 * switched off and checked here without branching on the pad bytes, so
 * that the time taken does not tell a padding oracle which byte was wrong.
 */
#include "aes_cbc.h"

#include <limits.h>
#include <pthread.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

/* EVP counts in int: feed it in pieces no larger than this (a multiple of
 * the block size). */
#define CHUNK (1u << 20)

/* Fetched once: EVP_aes_*_cbc() would make every EVP_CipherInit_ex fetch
 * the implementation again (a name lookup under a lock). Kept until exit. */
static EVP_CIPHER *fetched[3];
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void fetch_ciphers(void)
{
	static const char *const names[3] = { "AES-128-CBC", "AES-192-CBC", "AES-256-CBC" };

	for (size_t i = 0; i < 3; i++)
		fetched[i] = EVP_CIPHER_fetch(NULL, names[i], NULL);
}

const EVP_CIPHER *aescbc_cipher(size_t key_len)
{
	size_t i;

	switch (key_len) {
	case 16:
		i = 0;
		break;
	case 24:
		i = 1;
		break;
	case 32:
		i = 2;
		break;
	default:
		return NULL;
	}
	if (pthread_once(&fetch_once, fetch_ciphers) == 0 && fetched[i] != NULL)
		return fetched[i];
	/* Not fetched: the implicit fetch of each use still works. */
	return i == 0 ? EVP_aes_128_cbc() : i == 1 ? EVP_aes_192_cbc() : EVP_aes_256_cbc();
}

/* The length rules of aes_cbc.h, apart from the output size. */
static bool data_len_ok(enum aescbc_mode mode, bool encrypt, size_t in_len)
{
	if (encrypt && mode == AESCBC_MODE_CBC_PAD)
		return in_len <= SIZE_MAX - AESCBC_BLOCK;
	if (in_len % AESCBC_BLOCK != 0)
		return false;
	return encrypt || in_len > 0;
}

size_t aescbc_out_max(enum aescbc_mode mode, bool encrypt, size_t in_len)
{
	if (mode != AESCBC_MODE_CBC && mode != AESCBC_MODE_CBC_PAD)
		return 0;
	if (!data_len_ok(mode, encrypt, in_len))
		return 0;
	if (encrypt && mode == AESCBC_MODE_CBC_PAD)
		return in_len + (AESCBC_BLOCK - in_len % AESCBC_BLOCK);
	return in_len;
}

/* Checks everything that does not depend on the data's content. */
static int check_args(enum aescbc_mode mode, bool encrypt, const uint8_t *key, size_t key_len,
                      const uint8_t *iv, size_t iv_len, const uint8_t *in, size_t in_len,
                      const uint8_t *out, size_t out_cap, size_t *out_len)
{
	if (out_len != NULL)
		*out_len = 0;
	if (mode != AESCBC_MODE_CBC && mode != AESCBC_MODE_CBC_PAD)
		return AESCBC_BAD_ARG;
	if (out_len == NULL || (in == NULL && in_len != 0))
		return AESCBC_BAD_ARG;
	if (key == NULL || aescbc_cipher(key_len) == NULL)
		return AESCBC_BAD_KEY_LEN;
	if (iv == NULL || iv_len != AESCBC_BLOCK)
		return AESCBC_BAD_IV_LEN;
	if (!data_len_ok(mode, encrypt, in_len))
		return AESCBC_BAD_DATA_LEN;
	size_t need = aescbc_out_max(mode, encrypt, in_len);
	if ((out == NULL && need > 0) || out_cap < need)
		return AESCBC_OUT_TOO_SMALL;
	return AESCBC_OK;
}

/* Runs the cipher over in[0..in_len) into out, with EVP padding as asked;
 * AESCBC_INTERNAL unless it writes exactly want bytes. */
static int run_cipher(bool encrypt, bool evp_padding, const uint8_t *key, size_t key_len,
                      const uint8_t *iv, const uint8_t *in, size_t in_len, uint8_t *out,
                      size_t want)
{
	int rc = AESCBC_INTERNAL;
	size_t done = 0;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL)
		return AESCBC_INTERNAL;
	if (EVP_CipherInit_ex(ctx, aescbc_cipher(key_len), NULL, key, iv, encrypt ? 1 : 0) != 1)
		goto out;
	if (EVP_CIPHER_CTX_set_padding(ctx, evp_padding ? 1 : 0) != 1)
		goto out;
	for (size_t off = 0; off < in_len;) {
		size_t piece = in_len - off < CHUNK ? in_len - off : CHUNK;
		int n = 0;
		if (EVP_CipherUpdate(ctx, out + done, &n, in + off, (int)piece) != 1 || n < 0)
			goto out;
		done += (size_t)n;
		off += piece;
	}
	int n = 0;
	if (EVP_CipherFinal_ex(ctx, out + done, &n) != 1 || n < 0)
		goto out;
	done += (size_t)n;
	if (done == want)
		rc = AESCBC_OK;
out:
	EVP_CIPHER_CTX_free(ctx); /* cleanses the key schedule */
	return rc;
}

int aescbc_encrypt(enum aescbc_mode mode, const uint8_t *key, size_t key_len, const uint8_t *iv,
                   size_t iv_len, const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
                   size_t *out_len)
{
	int rc =
	    check_args(mode, true, key, key_len, iv, iv_len, in, in_len, out, out_cap, out_len);
	if (rc != AESCBC_OK)
		return rc;
	size_t expect = aescbc_out_max(mode, true, in_len);
	if (expect == 0)
		return AESCBC_OK; /* CBC of nothing is nothing; out may be NULL */
	rc = run_cipher(true, mode == AESCBC_MODE_CBC_PAD, key, key_len, iv, in, in_len, out,
	                expect);
	if (rc != AESCBC_OK) {
		OPENSSL_cleanse(out, expect);
		return rc;
	}
	*out_len = expect;
	return AESCBC_OK;
}

/* Returns the pad length (1..16) of the last block, or 0 when the padding
 * is wrong, reading all 16 bytes and branching on none of them. */
static size_t pkcs7_pad_len(const uint8_t last[AESCBC_BLOCK])
{
	unsigned pad = last[AESCBC_BLOCK - 1];
	/* good is all ones while the padding holds, all zeros once it fails. */
	unsigned good = 0u - (unsigned)((pad - 1u) < AESCBC_BLOCK); /* pad in 1..16 */
	for (unsigned i = 0; i < AESCBC_BLOCK; i++) {
		/* in_pad: all ones when byte i is one of the last `pad` bytes. */
		unsigned pos_from_end = AESCBC_BLOCK - i; /* 16..1 */
		unsigned in_pad = 0u - (unsigned)(pos_from_end <= pad);
		unsigned differs = 0u - (unsigned)(last[i] != pad);
		good &= ~(in_pad & differs);
	}
	return (size_t)(pad & good);
}

int aescbc_decrypt(enum aescbc_mode mode, const uint8_t *key, size_t key_len, const uint8_t *iv,
                   size_t iv_len, const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
                   size_t *out_len)
{
	int rc =
	    check_args(mode, false, key, key_len, iv, iv_len, in, in_len, out, out_cap, out_len);
	if (rc != AESCBC_OK)
		return rc;
	size_t written = in_len;
	rc = run_cipher(false, false, key, key_len, iv, in, in_len, out, in_len);
	if (rc == AESCBC_OK && mode == AESCBC_MODE_CBC_PAD) {
		size_t pad = pkcs7_pad_len(out + in_len - AESCBC_BLOCK);
		if (pad == 0)
			rc = AESCBC_BAD_PADDING;
		else
			written = in_len - pad;
		/* The padding bytes are plaintext too: wipe them. */
		OPENSSL_cleanse(out + written, in_len - written);
	}
	if (rc != AESCBC_OK) {
		OPENSSL_cleanse(out, in_len);
		return rc;
	}
	*out_len = written;
	return AESCBC_OK;
}

const char *aescbc_result_name(int result)
{
	switch (result) {
	case AESCBC_OK:
		return "ok";
	case AESCBC_BAD_KEY_LEN:
		return "bad key length";
	case AESCBC_BAD_IV_LEN:
		return "bad IV length";
	case AESCBC_BAD_DATA_LEN:
		return "bad data length";
	case AESCBC_BAD_PADDING:
		return "bad padding";
	case AESCBC_OUT_TOO_SMALL:
		return "output buffer too small";
	case AESCBC_BAD_ARG:
		return "bad argument";
	case AESCBC_INTERNAL:
		return "internal error";
	default:
		return "unknown result";
	}
}
