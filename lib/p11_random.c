/*
 * C_GenerateRandom and C_SeedRandom: random bytes from the key server's
 * generator (the HSM's, behind a real WSOP server), never from this
 * process, so that an application asking its HSM for randomness gets the
 * HSM's.
 *
 * Choices (PKCS #11 v2.40 5.15, SoftHSMv2 where it is silent):
 *  - Any valid session will do, logged in or not.
 *  - ulRandomLen 0 answers CKR_OK without a round trip; pRandomData NULL
 *    with a length is CKR_ARGUMENTS_BAD. Larger requests are served in
 *    pieces of WSOP_RANDOM_MAX bytes, one round trip each; on a failure
 *    part-way the buffer is wiped, not left half filled.
 *  - C_SeedRandom is CKR_RANDOM_SEED_NOT_SUPPORTED: the server's generator
 *    takes no seed from a client.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <p11-kit/pkcs11.h>

#include "ipc/wsop_json.h"
#include "ipc/wsop_names.h"
#include "lib/p11_core.h"
#include "lib/p11_errors.h"
#include "lib/p11_sessions.h"
#include "lib/wsop_client.h"

static CK_RV fetch(CK_BYTE_PTR out, CK_ULONG len)
{
	struct wsop_client *c = p11_client_acquire();
	if (c == NULL)
		return CKR_HOST_MEMORY;
	CK_RV rv = CKR_OK;
	for (CK_ULONG done = 0; done < len && rv == CKR_OK;) {
		size_t piece =
		    len - done < WSOP_RANDOM_MAX ? (size_t)(len - done) : WSOP_RANDOM_MAX;
		struct wsop_crypto_answer ans;
		int rc = wsop_random(c, piece, &ans);
		rv = p11_call_result("random", rc, c);
		if (rv == CKR_OK) {
			memcpy(out + done, ans.data.data, piece);
			done += piece;
		}
		wsop_crypto_answer_free(&ans);
	}
	p11_client_release(c);
	if (rv != CKR_OK)
		OPENSSL_cleanse(out, len);
	return rv;
}

CK_RV C_GenerateRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR RandomData, CK_ULONG ulRandomLen)
{
	CK_RV rv = P11_BEGIN(hSession, "(%lu bytes)", (unsigned long)ulRandomLen);
	if (rv != CKR_OK)
		return rv;
	if (RandomData == NULL && ulRandomLen > 0)
		return p11_return(__func__, hSession, CKR_ARGUMENTS_BAD);
	struct p11_slot *slot;
	rv = p11_session_slot(hSession, &slot, NULL);
	if (rv == CKR_OK && ulRandomLen > 0)
		rv = fetch(RandomData, ulRandomLen);
	return p11_return(__func__, hSession, rv);
}

CK_RV C_SeedRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSeed, CK_ULONG ulSeedLen)
{
	CK_RV rv = P11_BEGIN(hSession, "(%lu bytes)", (unsigned long)ulSeedLen);
	if (rv != CKR_OK)
		return rv;
	if (pSeed == NULL && ulSeedLen > 0)
		return p11_return(__func__, hSession, CKR_ARGUMENTS_BAD);
	struct p11_slot *slot;
	rv = p11_session_slot(hSession, &slot, NULL);
	return p11_return(__func__, hSession, rv == CKR_OK ? CKR_RANDOM_SEED_NOT_SUPPORTED : rv);
}
