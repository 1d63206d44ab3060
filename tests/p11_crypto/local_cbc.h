/*
 * A local stand-in for the server's /crypto/v1 calls (OpenSSL AES-CBC under
 * a fixed key), for the tests and the fuzz target of lib/p11_cbc_stream.c.
 *
 * Contract:
 *  - local_cbc_call() has the shape of struct p11_cbc_server.call; ctx is a
 *    struct local_cbc. It answers as the server does: CKR_DATA_LEN_RANGE /
 *    CKR_ENCRYPTED_DATA_LEN_RANGE for lengths the mechanism refuses,
 *    CKR_ENCRYPTED_DATA_INVALID for bad padding, CKR_DEVICE_ERROR when the
 *    answer would not fit out_cap or OpenSSL fails.
 *  - It counts calls, and fails the call numbered fail_at (1-based, 0 for
 *    never) with fail_rv, to test that errors end operations.
 */
#ifndef PKCS11WSOP_TESTS_P11_CRYPTO_LOCAL_CBC_H
#define PKCS11WSOP_TESTS_P11_CRYPTO_LOCAL_CBC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <p11-kit/pkcs11.h>

struct local_cbc {
	uint8_t key[32];
	size_t key_len; /* 16, 24 or 32 */
	unsigned calls;
	unsigned fail_at;
	CK_RV fail_rv;
};

CK_RV local_cbc_call(void *ctx, bool encrypt, bool pad, const uint8_t iv[16], const uint8_t *in,
                     size_t in_len, uint8_t *out, size_t out_cap, size_t *out_len);

#endif
