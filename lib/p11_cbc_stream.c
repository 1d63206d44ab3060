#include "lib/p11_cbc_stream.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

/* The largest plaintext a padded final block can hold: PKCS #7 always adds
 * at least one byte. */
#define PAD_FINAL_MAX (P11_CBC_BLOCK - 1)

void p11_cbc_init(struct p11_cbc_stream *s, bool encrypt, bool pad, const uint8_t iv[P11_CBC_BLOCK])
{
	memset(s, 0, sizeof(*s));
	s->encrypt = encrypt;
	s->pad = pad;
	s->state = P11_CBC_FRESH;
	memcpy(s->iv, iv, P11_CBC_BLOCK);
}

static void drop_ready(struct p11_cbc_stream *s)
{
	if (s->ready != NULL) {
		OPENSSL_cleanse(s->ready, s->ready_len);
		free(s->ready);
	}
	s->ready = NULL;
	s->ready_len = 0;
	s->ready_in_len = 0;
}

void p11_cbc_clear(struct p11_cbc_stream *s)
{
	if (s == NULL)
		return;
	drop_ready(s);
	OPENSSL_cleanse(s, sizeof(*s));
}

static CK_RV len_range(const struct p11_cbc_stream *s)
{
	return s->encrypt ? CKR_DATA_LEN_RANGE : CKR_ENCRYPTED_DATA_LEN_RANGE;
}

/* Hands out the kept plaintext of an earlier CKR_BUFFER_TOO_SMALL. */
static CK_RV serve_ready(struct p11_cbc_stream *s, uint8_t *out, CK_ULONG *out_len, bool *done)
{
	if (out == NULL) {
		*out_len = s->ready_len;
		return CKR_OK;
	}
	if (*out_len < s->ready_len) {
		*out_len = s->ready_len;
		return CKR_BUFFER_TOO_SMALL;
	}
	if (s->ready_len > 0)
		memcpy(out, s->ready, s->ready_len);
	*out_len = s->ready_len;
	drop_ready(s);
	*done = true;
	return CKR_OK;
}

/*
 * Whole blocks data[0..len) through the server without padding, in calls of
 * at most max_in bytes, carrying the IV along. data must not overlap out:
 * callers pass a private copy, because with in-place buffers a chunk's
 * output would overwrite the next chunk's input.
 */
static CK_RV run_blocks(struct p11_cbc_stream *s, const struct p11_cbc_server *srv,
                        const uint8_t *data, size_t len, uint8_t *out)
{
	size_t step = srv->max_in - srv->max_in % P11_CBC_BLOCK;
	if (step == 0)
		return CKR_GENERAL_ERROR;
	for (size_t off = 0; off < len;) {
		size_t n = len - off < step ? len - off : step;
		size_t got = 0;
		CK_RV rv = srv->call(srv->ctx, s->encrypt, false, s->iv, data + off, n, out + off,
		                     n, &got);
		if (rv != CKR_OK)
			return rv;
		if (got != n)
			return CKR_DEVICE_ERROR;
		const uint8_t *last = s->encrypt ? out + off + n : data + off + n;
		memcpy(s->iv, last - P11_CBC_BLOCK, P11_CBC_BLOCK);
		off += n;
	}
	return CKR_OK;
}

/* How much of buf + the new input stays buffered after an update. */
static size_t held_back(const struct p11_cbc_stream *s, size_t total)
{
	if (!s->encrypt && s->pad)
		return total == 0 ? 0 : (total - 1) % P11_CBC_BLOCK + 1;
	return total % P11_CBC_BLOCK;
}

CK_RV p11_cbc_update(struct p11_cbc_stream *s, const struct p11_cbc_server *srv, const uint8_t *in,
                     size_t in_len, uint8_t *out, CK_ULONG *out_len, bool *done)
{
	*done = false;
	if (s->state == P11_CBC_READY_ONESHOT || s->state == P11_CBC_READY_FINAL)
		return CKR_OPERATION_ACTIVE;
	if (in_len > SIZE_MAX - 2 * P11_CBC_BLOCK) {
		*done = true;
		return len_range(s);
	}
	size_t total = s->buf_len + in_len;
	size_t keep = held_back(s, total);
	size_t n = total - keep;
	if (out == NULL) {
		*out_len = n;
		return CKR_OK;
	}
	if (*out_len < n) {
		*out_len = n;
		return CKR_BUFFER_TOO_SMALL;
	}
	s->state = P11_CBC_MULTI;
	if (in_len > 0)
		s->seen_input = true;
	if (n == 0) {
		if (in_len > 0)
			memcpy(s->buf + s->buf_len, in, in_len);
		s->buf_len = total;
		*out_len = 0;
		return CKR_OK;
	}
	/* n >= 16 >= buf_len: the blocks are buf, then the head of in. Both
	 * the blocks and the new tail are copied before any output is written,
	 * in case out is in. */
	uint8_t *blocks = malloc(n);
	if (blocks == NULL) {
		*done = true;
		return CKR_HOST_MEMORY;
	}
	uint8_t tail[P11_CBC_BLOCK];
	size_t from_in = n - s->buf_len;
	memcpy(blocks, s->buf, s->buf_len);
	memcpy(blocks + s->buf_len, in, from_in);
	memcpy(tail, in + from_in, keep);
	CK_RV rv = run_blocks(s, srv, blocks, n, out);
	OPENSSL_cleanse(blocks, n);
	free(blocks);
	OPENSSL_cleanse(s->buf, sizeof(s->buf));
	memcpy(s->buf, tail, keep);
	s->buf_len = keep;
	OPENSSL_cleanse(tail, sizeof(tail));
	if (rv != CKR_OK) {
		*done = true;
		return rv;
	}
	*out_len = n;
	return CKR_OK;
}

/* The padded call of the last block(s) into a private buffer; checks the
 * answer's length against what the mechanism allows. */
static CK_RV padded_call(struct p11_cbc_stream *s, const struct p11_cbc_server *srv,
                         const uint8_t *in, size_t in_len, uint8_t *out, size_t cap, size_t *got)
{
	CK_RV rv = srv->call(srv->ctx, s->encrypt, true, s->iv, in, in_len, out, cap, got);
	if (rv != CKR_OK)
		return rv;
	bool ok = s->encrypt ? *got == in_len - in_len % P11_CBC_BLOCK + P11_CBC_BLOCK
	                     : *got < in_len && *got + P11_CBC_BLOCK >= in_len;
	return ok && *got <= cap ? CKR_OK : CKR_DEVICE_ERROR;
}

/*
 * Padded decryption's answer, whose length was unknown: copied out when it
 * fits, else kept for the retry. Takes plain (a malloc'ed buffer of
 * plain_len bytes) in every case.
 */
static CK_RV deliver_or_keep(struct p11_cbc_stream *s, enum p11_cbc_state waiting, size_t in_len,
                             uint8_t *plain, size_t plain_len, uint8_t *out, CK_ULONG *out_len,
                             bool *done)
{
	if (plain_len <= *out_len) {
		if (plain_len > 0)
			memcpy(out, plain, plain_len);
		OPENSSL_cleanse(plain, plain_len);
		free(plain);
		*out_len = plain_len;
		*done = true;
		return CKR_OK;
	}
	s->ready = plain;
	s->ready_len = plain_len;
	s->ready_in_len = in_len;
	s->state = waiting;
	*out_len = plain_len;
	return CKR_BUFFER_TOO_SMALL;
}

CK_RV p11_cbc_final(struct p11_cbc_stream *s, const struct p11_cbc_server *srv, uint8_t *out,
                    CK_ULONG *out_len, bool *done)
{
	*done = false;
	if (s->state == P11_CBC_READY_ONESHOT)
		return CKR_OPERATION_ACTIVE;
	if (s->state == P11_CBC_READY_FINAL)
		return serve_ready(s, out, out_len, done);

	if (!s->pad || !s->encrypt) {
		bool whole = s->pad ? s->buf_len == P11_CBC_BLOCK : s->buf_len == 0;
		if (!whole || (!s->encrypt && !s->seen_input)) {
			*done = true;
			return len_range(s);
		}
	}
	if (!s->pad) {
		*out_len = 0;
		*done = out != NULL;
		return CKR_OK;
	}
	size_t need = s->encrypt ? P11_CBC_BLOCK : PAD_FINAL_MAX;
	if (out == NULL) {
		*out_len = need;
		return CKR_OK;
	}
	if (s->encrypt && *out_len < need) {
		*out_len = need;
		return CKR_BUFFER_TOO_SMALL;
	}
	uint8_t block[2 * P11_CBC_BLOCK];
	size_t got = 0;
	CK_RV rv = padded_call(s, srv, s->buf, s->buf_len, block, sizeof(block), &got);
	OPENSSL_cleanse(s->buf, sizeof(s->buf));
	s->buf_len = 0;
	if (rv != CKR_OK) {
		OPENSSL_cleanse(block, sizeof(block));
		*done = true;
		return rv;
	}
	if (got <= *out_len) {
		memcpy(out, block, got);
		OPENSSL_cleanse(block, sizeof(block));
		*out_len = got;
		*done = true;
		return CKR_OK;
	}
	/* Only decryption gets here: keep the plaintext for the retry. */
	uint8_t *plain = malloc(got);
	if (plain == NULL) {
		OPENSSL_cleanse(block, sizeof(block));
		*done = true;
		return CKR_HOST_MEMORY;
	}
	memcpy(plain, block, got);
	OPENSSL_cleanse(block, sizeof(block));
	return deliver_or_keep(s, P11_CBC_READY_FINAL, 0, plain, got, out, out_len, done);
}

/* Above max_in the single call is impossible: the same bytes through the
 * multi-part path, with the caller's buffer already known to be big enough
 * (for padded decryption, for the upper bound). */
static CK_RV oneshot_chunked(struct p11_cbc_stream *s, const struct p11_cbc_server *srv,
                             const uint8_t *in, size_t in_len, uint8_t *out, CK_ULONG *out_len,
                             bool *done)
{
	CK_ULONG first = *out_len;
	CK_RV rv = p11_cbc_update(s, srv, in, in_len, out, &first, done);
	if (rv != CKR_OK) {
		*done = true;
		return rv;
	}
	CK_ULONG rest = *out_len - first;
	rv = p11_cbc_final(s, srv, out + first, &rest, done);
	*done = true;
	if (rv == CKR_OK)
		*out_len = first + rest;
	return rv == CKR_BUFFER_TOO_SMALL ? CKR_GENERAL_ERROR : rv;
}

CK_RV p11_cbc_oneshot(struct p11_cbc_stream *s, const struct p11_cbc_server *srv, const uint8_t *in,
                      size_t in_len, uint8_t *out, CK_ULONG *out_len, bool *done)
{
	*done = false;
	if (s->state == P11_CBC_MULTI || s->state == P11_CBC_READY_FINAL)
		return CKR_OPERATION_ACTIVE;
	if (s->state == P11_CBC_READY_ONESHOT) {
		if (in_len != s->ready_in_len) {
			*done = true;
			return CKR_ARGUMENTS_BAD;
		}
		return serve_ready(s, out, out_len, done);
	}

	bool bad_len = s->encrypt ? !s->pad && in_len % P11_CBC_BLOCK != 0
	                          : in_len == 0 || in_len % P11_CBC_BLOCK != 0;
	if (bad_len || in_len > SIZE_MAX - 2 * P11_CBC_BLOCK) {
		*done = true;
		return len_range(s);
	}
	size_t need = in_len;
	if (s->encrypt && s->pad)
		need = in_len - in_len % P11_CBC_BLOCK + P11_CBC_BLOCK;
	else if (s->pad)
		need = in_len - 1; /* the upper bound, see the header */
	if (out == NULL) {
		*out_len = need;
		return CKR_OK;
	}
	bool exact = s->encrypt || !s->pad;
	if ((exact || in_len > srv->max_in) && *out_len < need) {
		*out_len = need;
		return CKR_BUFFER_TOO_SMALL;
	}
	if (in_len == 0 && !s->pad) {
		*out_len = 0;
		*done = true;
		return CKR_OK;
	}
	if (in_len > srv->max_in)
		return oneshot_chunked(s, srv, in, in_len, out, out_len, done);

	*done = true;
	size_t got = 0;
	CK_RV rv;
	if (*out_len >= need) {
		if (s->pad)
			rv = padded_call(s, srv, in, in_len, out, need, &got);
		else
			rv = srv->call(srv->ctx, s->encrypt, false, s->iv, in, in_len, out, need,
			               &got);
		if (rv == CKR_OK && !s->pad && got != in_len)
			rv = CKR_DEVICE_ERROR;
		if (rv == CKR_OK)
			*out_len = got;
		return rv;
	}
	/* Padded decryption into a buffer below the bound: decrypt to learn
	 * the size. */
	uint8_t *plain = malloc(in_len);
	if (plain == NULL)
		return CKR_HOST_MEMORY;
	rv = padded_call(s, srv, in, in_len, plain, in_len, &got);
	if (rv != CKR_OK) {
		OPENSSL_cleanse(plain, in_len);
		free(plain);
		return rv;
	}
	*done = false;
	return deliver_or_keep(s, P11_CBC_READY_ONESHOT, in_len, plain, got, out, out_len, done);
}
