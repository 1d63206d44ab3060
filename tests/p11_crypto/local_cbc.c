#include "tests/p11_crypto/local_cbc.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "server/aes_cbc.h"

CK_RV local_cbc_call(void *ctx, bool encrypt, bool pad, const uint8_t iv[16], const uint8_t *in,
                     size_t in_len, uint8_t *out, size_t out_cap, size_t *out_len)
{
	struct local_cbc *l = ctx;
	l->calls++;
	if (l->fail_at != 0 && l->calls == l->fail_at)
		return l->fail_rv;
	if ((!encrypt || !pad) && in_len % 16 != 0)
		return encrypt ? CKR_DATA_LEN_RANGE : CKR_ENCRYPTED_DATA_LEN_RANGE;
	if (!encrypt && in_len == 0)
		return CKR_ENCRYPTED_DATA_LEN_RANGE;
	const EVP_CIPHER *c = aescbc_cipher(l->key_len);
	if (c == NULL || in_len > (size_t)INT32_MAX)
		return CKR_DEVICE_ERROR;
	/* Into a private buffer first: in and out may be the same memory. */
	uint8_t *tmp = malloc(in_len + 16);
	EVP_CIPHER_CTX *cx = EVP_CIPHER_CTX_new();
	CK_RV rv = CKR_DEVICE_ERROR;
	int n1 = 0, n2 = 0;
	if (tmp == NULL || cx == NULL)
		goto out;
	if (EVP_CipherInit_ex(cx, c, NULL, l->key, iv, encrypt ? 1 : 0) != 1 ||
	    EVP_CIPHER_CTX_set_padding(cx, pad ? 1 : 0) != 1 ||
	    EVP_CipherUpdate(cx, tmp, &n1, in, (int)in_len) != 1)
		goto out;
	if (EVP_CipherFinal_ex(cx, tmp + n1, &n2) != 1) {
		rv = encrypt ? CKR_DEVICE_ERROR : CKR_ENCRYPTED_DATA_INVALID;
		goto out;
	}
	if ((size_t)(n1 + n2) > out_cap)
		goto out;
	memcpy(out, tmp, (size_t)(n1 + n2));
	*out_len = (size_t)(n1 + n2);
	rv = CKR_OK;
out:
	EVP_CIPHER_CTX_free(cx);
	free(tmp);
	return rv;
}
