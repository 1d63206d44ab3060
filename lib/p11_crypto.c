/*
 * C_EncryptInit ... C_DecryptFinal for CKM_AES_CBC and CKM_AES_CBC_PAD: the
 * session plumbing around lib/p11_cbc_stream.h, whose header states the
 * stream rules (exact chaining over any split, sizes, short buffers,
 * mixing single- and multi-part).
 *
 * Choices (PKCS #11 v2.40 section 5.8/5.9, SoftHSMv2 where it is silent):
 *  - Init makes no round trip: the key's path and CKA_ENCRYPT/CKA_DECRYPT
 *    come from the object cache (p11_objstore_key_ref). Checks in order:
 *    pMechanism NULL (see below), CKR_OPERATION_ACTIVE, the mechanism
 *    (CKR_MECHANISM_INVALID), its parameter, a 16-byte IV
 *    (CKR_MECHANISM_PARAM_INVALID), the key (CKR_KEY_HANDLE_INVALID), the
 *    key's use (CKR_KEY_FUNCTION_NOT_PERMITTED).
 *  - C_EncryptInit/C_DecryptInit with pMechanism NULL cancel an active
 *    operation of that kind and answer CKR_OK (PKCS #11 v3.0 made this
 *    the way to abandon an operation; it harms no v2.40 caller). With no
 *    operation active, or on a session that does not exist, it is
 *    CKR_ARGUMENTS_BAD, as a NULL argument is everywhere else.
 *  - Single-part calls make one round trip (up to WSOP_CRYPTO_DATA_MAX
 *    bytes; above, the stream splits them). Updates gather (GATHER below)
 *    and answer 0 bytes until a request's worth is there; final sends the
 *    rest. The stream's buffer is the memory an operation holds: less
 *    than GATHER + 16 bytes.
 *  - Errors end the operation, except size queries, CKR_BUFFER_TOO_SMALL
 *    and CKR_OPERATION_ACTIVE from mixing (the stream's *done). That
 *    includes CKR_ARGUMENTS_BAD on a session with the operation active
 *    (v2.40 5.2: a call that fails for any other reason terminates it); on
 *    a session without one, or no session, CKR_ARGUMENTS_BAD still wins.
 *  - Server codes: the one table (lib/p11_errors.c), except that in
 *    decryption a length complaint (bad_data_length, too_large) is about
 *    the ciphertext: CKR_ENCRYPTED_DATA_LEN_RANGE. A key deleted since Init
 *    is unknown_key: CKR_KEY_HANDLE_INVALID; a token logged out since Init
 *    is not_active: CKR_USER_NOT_LOGGED_IN.
 *  - The only lock held across a round trip is the session's own
 *    (p11_session_take): calls on different sessions run in parallel.
 *  - TRACE lines carry lengths, never data; buffered plaintext is wiped
 *    when the operation ends (p11_cbc_clear).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <p11-kit/pkcs11.h>

#include "ipc/channel.h"
#include "ipc/wsop_json.h"
#include "ipc/wsop_names.h"
#include "lib/p11_cbc_stream.h"
#include "lib/p11_core.h"
#include "lib/p11_errors.h"
#include "lib/p11_objstore.h"
#include "lib/p11_sessions.h"
#include "lib/p11_slots.h"
#include "lib/wsop_client.h"

/* Multi-part requests gather this much: one channel frame with its HTTP
 * head (at most a few hundred bytes; 4 KiB kept), so that each request
 * crosses to the helper in one frame and its buffers stay below malloc's
 * mmap threshold. Measured against 256 KiB requests (three frames): no
 * slower, less CPU. */
#define GATHER (CHAN_MAX_PAYLOAD - 4096)

struct p11_crypt_op {
	struct p11_op op;
	char key[WSOP_KEY_PATH_LEN + 1];
	struct p11_slot *slot; /* whose activation the requests carry */
	struct p11_cbc_stream stream;
};

static void crypt_op_release(struct p11_op *op)
{
	struct p11_crypt_op *c = P11_OP_OWNER(op, struct p11_crypt_op, op);
	p11_cbc_clear(&c->stream);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

/* The stream's server: one POST /crypto/v1/{encrypt,decrypt}. */
static CK_RV server_call(void *ctx, bool encrypt, bool pad, const uint8_t iv[P11_CBC_BLOCK],
                         const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
                         size_t *out_len)
{
	const struct p11_crypt_op *op = ctx;
	struct wsop_crypto_req req;
	memset(&req, 0, sizeof(req));
	memcpy(req.key, op->key, sizeof(req.key));
	req.mechanism = pad ? WSOP_MECH_AES_CBC_PAD : WSOP_MECH_AES_CBC;
	memcpy(req.iv, iv, WSOP_IV_LEN);
	/* The client only reads the request; the cast lends it the bytes. */
	req.data.data = (uint8_t *)(uintptr_t)in;
	req.data.len = in_len;

	struct wsop_client *c = p11_slot_client(op->slot);
	if (c == NULL)
		return CKR_HOST_MEMORY;
	struct wsop_crypto_answer ans;
	int rc = encrypt ? wsop_encrypt(c, &req, &ans) : wsop_decrypt(c, &req, &ans);
	CK_RV rv = p11_call_result(encrypt ? "encrypt" : "decrypt", rc, c);
	p11_slot_client_release(op->slot, c);
	if (rv == CKR_DATA_LEN_RANGE && !encrypt)
		rv = CKR_ENCRYPTED_DATA_LEN_RANGE;
	if (rv != CKR_OK)
		return rv;
	if (ans.data.len > out_cap) {
		rv = CKR_DEVICE_ERROR;
	} else {
		if (ans.data.len > 0)
			memcpy(out, ans.data.data, ans.data.len);
		*out_len = ans.data.len;
	}
	wsop_crypto_answer_free(&ans);
	return rv;
}

static enum p11_op_kind kind_of(bool encrypt)
{
	return encrypt ? P11_OP_ENCRYPT : P11_OP_DECRYPT;
}

static CK_RV check_mechanism(const CK_MECHANISM *m, bool *pad)
{
	if (m->mechanism != CKM_AES_CBC && m->mechanism != CKM_AES_CBC_PAD)
		return CKR_MECHANISM_INVALID;
	if (m->pParameter == NULL || m->ulParameterLen != P11_CBC_BLOCK)
		return CKR_MECHANISM_PARAM_INVALID;
	*pad = m->mechanism == CKM_AES_CBC_PAD;
	return CKR_OK;
}

/* A new operation of op's kind on slot with key, for mechanism m. */
static CK_RV crypt_op_new(struct p11_slot *slot, bool encrypt, const CK_MECHANISM *m,
                          CK_OBJECT_HANDLE key, struct p11_crypt_op **out)
{
	bool pad = false;
	struct p11_key_ref ref;
	CK_RV rv = check_mechanism(m, &pad);
	if (rv == CKR_OK)
		rv = p11_objstore_key_ref(slot, key, &ref);
	if (rv == CKR_OK && !(encrypt ? ref.encrypt : ref.decrypt))
		rv = CKR_KEY_FUNCTION_NOT_PERMITTED;
	if (rv != CKR_OK)
		return rv;
	struct p11_crypt_op *op = calloc(1, sizeof(*op));
	if (op == NULL)
		return CKR_HOST_MEMORY;
	op->op.release = crypt_op_release;
	memcpy(op->key, ref.path, sizeof(op->key));
	op->key[sizeof(op->key) - 1] = '\0';
	op->slot = slot;
	p11_cbc_init(&op->stream, encrypt, pad, m->pParameter);
	*out = op;
	return CKR_OK;
}

static CK_RV crypt_init(const char *fn, bool encrypt, CK_SESSION_HANDLE h, CK_MECHANISM_PTR m,
                        CK_OBJECT_HANDLE key)
{
	CK_RV rv = p11_begin(fn, h, "(mechanism 0x%lx, key %lu)", m != NULL ? m->mechanism : 0UL,
	                     (unsigned long)key);
	if (rv != CKR_OK)
		return rv;
	struct p11_slot *slot;
	struct p11_session_ops *ops;
	rv = p11_session_take(h, &slot, NULL, &ops);
	if (rv != CKR_OK)
		return p11_return(fn, h, m == NULL ? CKR_ARGUMENTS_BAD : rv);
	enum p11_op_kind kind = kind_of(encrypt);
	struct p11_crypt_op *op = NULL;
	if (m == NULL) {
		/* Cancelling, see the header. */
		rv = ops->op[kind] != NULL ? CKR_OK : CKR_ARGUMENTS_BAD;
		p11_op_end(ops, kind);
	} else if (ops->op[kind] != NULL) {
		rv = CKR_OPERATION_ACTIVE;
	} else {
		rv = crypt_op_new(slot, encrypt, m, key, &op);
	}
	if (rv == CKR_OK && op != NULL)
		ops->op[kind] = &op->op;
	p11_session_release(ops);
	return p11_return(fn, h, rv);
}

enum crypt_step { STEP_NONE, STEP_ONESHOT, STEP_UPDATE, STEP_FINAL };

/* One call on the active operation of its kind; ends it when the stream
 * says the operation is over. */
static CK_RV crypt_step(const char *fn, bool encrypt, enum crypt_step step, CK_SESSION_HANDLE h,
                        const CK_BYTE *in, CK_ULONG in_len, CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
	CK_RV rv = p11_begin(fn, h, "(%lu bytes in, %s %lu)", (unsigned long)in_len,
	                     out == NULL ? "size query, had" : "room",
	                     out_len != NULL ? (unsigned long)*out_len : 0UL);
	if (rv != CKR_OK)
		return rv;
	bool bad_args = out_len == NULL || (step != STEP_FINAL && in == NULL && in_len != 0);
	struct p11_slot *slot;
	struct p11_session_ops *ops;
	rv = p11_session_take(h, &slot, NULL, &ops);
	if (rv != CKR_OK)
		return p11_return(fn, h, bad_args ? CKR_ARGUMENTS_BAD : rv);
	/* From here one exit: the session is released and the operation
	 * ended when the stream (or a bad argument) says so. */
	enum p11_op_kind kind = kind_of(encrypt);
	struct p11_op *cur = ops->op[kind];
	struct p11_crypt_op *op = cur != NULL ? P11_OP_OWNER(cur, struct p11_crypt_op, op) : NULL;
	const struct p11_cbc_server srv = { server_call, op, WSOP_CRYPTO_DATA_MAX, GATHER };
	bool done = true;
	if (op == NULL || bad_args) {
		rv = bad_args ? CKR_ARGUMENTS_BAD : CKR_OPERATION_NOT_INITIALIZED;
		step = STEP_NONE;
	}
	switch (step) {
	case STEP_NONE:
		break;
	case STEP_ONESHOT:
		rv = p11_cbc_oneshot(&op->stream, &srv, in, in_len, out, out_len, &done);
		break;
	case STEP_UPDATE:
		rv = p11_cbc_update(&op->stream, &srv, in, in_len, out, out_len, &done);
		break;
	case STEP_FINAL:
		rv = p11_cbc_final(&op->stream, &srv, out, out_len, &done);
		break;
	}
	if (done)
		p11_op_end(ops, kind);
	p11_session_release(ops);
	if (rv == CKR_OK || rv == CKR_BUFFER_TOO_SMALL)
		p11_trace(fn, h, ": %lu bytes out%s", (unsigned long)*out_len,
		          rv == CKR_OK ? "" : " needed");
	return rv == CKR_BUFFER_TOO_SMALL ? rv : p11_return(fn, h, rv);
}

CK_RV C_EncryptInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	return crypt_init(__func__, true, hSession, pMechanism, hKey);
}

CK_RV C_Encrypt(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
                CK_BYTE_PTR pEncryptedData, CK_ULONG_PTR pulEncryptedDataLen)
{
	return crypt_step(__func__, true, STEP_ONESHOT, hSession, pData, ulDataLen, pEncryptedData,
	                  pulEncryptedDataLen);
}

CK_RV C_EncryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen,
                      CK_BYTE_PTR pEncryptedPart, CK_ULONG_PTR pulEncryptedPartLen)
{
	return crypt_step(__func__, true, STEP_UPDATE, hSession, pPart, ulPartLen, pEncryptedPart,
	                  pulEncryptedPartLen);
}

CK_RV C_EncryptFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pLastEncryptedPart,
                     CK_ULONG_PTR pulLastEncryptedPartLen)
{
	return crypt_step(__func__, true, STEP_FINAL, hSession, NULL, 0, pLastEncryptedPart,
	                  pulLastEncryptedPartLen);
}

CK_RV C_DecryptInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	return crypt_init(__func__, false, hSession, pMechanism, hKey);
}

CK_RV C_Decrypt(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedData, CK_ULONG ulEncryptedDataLen,
                CK_BYTE_PTR pData, CK_ULONG_PTR pulDataLen)
{
	return crypt_step(__func__, false, STEP_ONESHOT, hSession, pEncryptedData,
	                  ulEncryptedDataLen, pData, pulDataLen);
}

CK_RV C_DecryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart,
                      CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen)
{
	return crypt_step(__func__, false, STEP_UPDATE, hSession, pEncryptedPart,
	                  ulEncryptedPartLen, pPart, pulPartLen);
}

CK_RV C_DecryptFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pLastPart, CK_ULONG_PTR pulLastPartLen)
{
	return crypt_step(__func__, false, STEP_FINAL, hSession, NULL, 0, pLastPart,
	                  pulLastPartLen);
}
