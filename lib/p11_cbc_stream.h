/*
 * AES-CBC as a PKCS #11 stream over a block-only "server" call: the pure
 * logic behind C_Encrypt*, C_Decrypt* (lib/p11_crypto.c), free of sessions,
 * locks and I/O so that it can be tested and fuzzed against local OpenSSL.
 *
 * Contract:
 *  - The server is one function, struct p11_cbc_server.call: AES-CBC (pad
 *    false) or AES-CBC with PKCS #7 padding (pad true) of in[0..in_len)
 *    under iv, the answer written to out[0..*out_len), *out_len <= out_cap.
 *    It must read all of in before writing to out (in and out may be the
 *    same memory). It answers CKR_OK or the CKR its failure means.
 *    max_in bounds in_len per call (>= 32; used rounded down to a multiple
 *    of 16).
 *  - Multi-part chaining is exact: whatever way the input is split over
 *    p11_cbc_update() calls, p11_cbc_update()s + p11_cbc_final() give the
 *    bytes p11_cbc_oneshot() gives for the whole input.
 *  - Updates gather: input is buffered here until at least G bytes of
 *    whole blocks can be sent, G = gather rounded down to a multiple of
 *    16, at least 16 and at most max_in - 16 (gather 0: the most). Then
 *    the update sends all it can (in calls of at most max_in, with pad
 *    false and the running IV, the last ciphertext block) and answers
 *    that many bytes; an update below G answers 0 bytes and makes no
 *    call (PKCS #11 lets an update return less than it was given). Padded
 *    decryption holds the last block back until final, and final is the
 *    only padded call; final sends what is buffered, in one call. So the
 *    memory held between calls is one buffer of less than max_in bytes
 *    (grown as needed); an update whose output overlaps its input but not
 *    exactly in step also copies that input for the length of the call.
 *  - Output sizes follow PKCS #11 (section 5.2): out NULL asks for the
 *    size (*out_len, CKR_OK, nothing consumed); *out_len too small gives
 *    CKR_BUFFER_TOO_SMALL with the size needed, nothing consumed. The size
 *    is exact everywhere except padded decryption's last block, whose
 *    length is only known after decrypting: a query answers the upper
 *    bound (input length - 1 for oneshot, buffered length - 1 for final:
 *    up to G + 15). A buffer that is
 *    given but smaller than that bound makes the call anyway: when the
 *    plaintext fits, done; when not, CKR_BUFFER_TOO_SMALL with the exact
 *    size, and the plaintext is kept (wiped when cleared) for the retry,
 *    which makes no second call. (Above max_in, oneshot padded decryption
 *    falls back to chunks and asks for the bound without calling.)
 *  - *done tells the caller whether the operation is over: false after a
 *    size query, CKR_BUFFER_TOO_SMALL, a successful update, and
 *    CKR_OPERATION_ACTIVE; true after everything else (PKCS #11: any other
 *    error ends the operation).
 *  - Mixing: oneshot after an update (or while a final's plaintext waits),
 *    and update or final while a oneshot's plaintext waits, answer
 *    CKR_OPERATION_ACTIVE and leave the operation as it was (PKCS #11 says
 *    C_Encrypt "cannot be used to terminate a multi-part operation" and
 *    names no CKR; this is the one that says "another operation is in
 *    progress"). A oneshot retry with another input length is
 *    CKR_ARGUMENTS_BAD.
 *  - Length rules: unpadded encryption needs a multiple of 16 bytes
 *    (CKR_DATA_LEN_RANGE, 0 is fine and makes no call); decryption needs a
 *    non-zero multiple of 16 (CKR_ENCRYPTED_DATA_LEN_RANGE). Multi-part
 *    checks the total at final. Wrong answer lengths from the server are
 *    CKR_DEVICE_ERROR.
 *  - Buffered input and kept plaintext are wiped (OPENSSL_cleanse) when
 *    consumed and by p11_cbc_clear().
 */
#ifndef PKCS11WSOP_LIB_P11_CBC_STREAM_H
#define PKCS11WSOP_LIB_P11_CBC_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <p11-kit/pkcs11.h>

#define P11_CBC_BLOCK 16

typedef CK_RV p11_cbc_call_fn(void *ctx, bool encrypt, bool pad, const uint8_t iv[P11_CBC_BLOCK],
                              const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
                              size_t *out_len);

struct p11_cbc_server {
	p11_cbc_call_fn *call;
	void *ctx;
	size_t max_in;
	size_t gather; /* G above; 0: max_in - 16 */
};

enum p11_cbc_state {
	P11_CBC_FRESH,         /* nothing consumed yet */
	P11_CBC_MULTI,         /* an update consumed input */
	P11_CBC_READY_ONESHOT, /* a oneshot's plaintext waits for the retry */
	P11_CBC_READY_FINAL,   /* a final's plaintext waits for the retry */
};

struct p11_cbc_stream {
	/* all private */
	bool encrypt, pad;
	enum p11_cbc_state state;
	uint8_t iv[P11_CBC_BLOCK];
	uint8_t *buf; /* input not yet sent, buf_cap bytes allocated */
	size_t buf_len, buf_cap;
	bool seen_input; /* any multi-part input at all */
	uint8_t *ready;  /* kept plaintext, see above */
	size_t ready_len;
	size_t ready_in_len;
};

void p11_cbc_init(struct p11_cbc_stream *s, bool encrypt, bool pad,
                  const uint8_t iv[P11_CBC_BLOCK]);
/* Wipes and frees what s holds; s may then be initialised again. */
void p11_cbc_clear(struct p11_cbc_stream *s);

CK_RV p11_cbc_oneshot(struct p11_cbc_stream *s, const struct p11_cbc_server *srv, const uint8_t *in,
                      size_t in_len, uint8_t *out, CK_ULONG *out_len, bool *done);
CK_RV p11_cbc_update(struct p11_cbc_stream *s, const struct p11_cbc_server *srv, const uint8_t *in,
                     size_t in_len, uint8_t *out, CK_ULONG *out_len, bool *done);
CK_RV p11_cbc_final(struct p11_cbc_stream *s, const struct p11_cbc_server *srv, uint8_t *out,
                    CK_ULONG *out_len, bool *done);

#endif
