#include "lib/p11_cbc_stream.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

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

static void drop_buf(struct p11_cbc_stream *s)
{
	if (s->buf != NULL)
		OPENSSL_clear_free(s->buf, s->buf_cap);
	s->buf = NULL;
	s->buf_len = s->buf_cap = 0;
}

void p11_cbc_clear(struct p11_cbc_stream *s)
{
	if (s == NULL)
		return;
	drop_ready(s);
	drop_buf(s);
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

/* The largest single call, a multiple of the block; 0 for a server whose
 * limit is too small for padded decryption's hold-back. */
static size_t step_of(const struct p11_cbc_server *srv)
{
	size_t step = srv->max_in - srv->max_in % P11_CBC_BLOCK;
	return step >= 2 * P11_CBC_BLOCK ? step : 0;
}

/* G of the header: below max_in - 16 so that whatever stays buffered
 * (less than G + 16) always fits one call at final. */
static size_t gather_of(const struct p11_cbc_server *srv, size_t step)
{
	size_t most = step - P11_CBC_BLOCK;
	size_t g = srv->gather - srv->gather % P11_CBC_BLOCK;
	if (g == 0 || g > most)
		return most;
	return g;
}

/* Room for need bytes in buf, keeping its content; the old block is wiped.
 * Never beyond one call's worth (the caller's bound). */
static CK_RV buf_reserve(struct p11_cbc_stream *s, size_t need, size_t most)
{
	if (need <= s->buf_cap)
		return CKR_OK;
	if (need > most)
		return CKR_GENERAL_ERROR;
	/* A small operation's few bytes, else straight the most: growing
	 * step by step would copy and fault in fresh pages at every step. */
	size_t cap = need <= 4096 && most > 4096 ? 4096 : most;
	uint8_t *n = malloc(cap);
	if (n == NULL)
		return CKR_HOST_MEMORY;
	if (s->buf_len > 0)
		memcpy(n, s->buf, s->buf_len);
	if (s->buf != NULL)
		OPENSSL_clear_free(s->buf, s->buf_cap);
	s->buf = n;
	s->buf_cap = cap;
	return CKR_OK;
}

static CK_RV buf_append(struct p11_cbc_stream *s, const uint8_t *in, size_t n, size_t most)
{
	if (n == 0)
		return CKR_OK;
	CK_RV rv = buf_reserve(s, s->buf_len + n, most);
	if (rv != CKR_OK)
		return rv;
	memcpy(s->buf + s->buf_len, in, n);
	s->buf_len += n;
	return CKR_OK;
}

/* Drops the first n buffered bytes (sent), wiping the vacated end. */
static void buf_consume(struct p11_cbc_stream *s, size_t n)
{
	memmove(s->buf, s->buf + n, s->buf_len - n);
	OPENSSL_cleanse(s->buf + s->buf_len - n, n);
	s->buf_len -= n;
}

/* The first n buffered bytes, whole blocks, through the server without
 * padding into out; carries the IV along and drops them from buf. */
static CK_RV send_buffered(struct p11_cbc_stream *s, const struct p11_cbc_server *srv, size_t n,
                           uint8_t *out)
{
	size_t got = 0;
	CK_RV rv = srv->call(srv->ctx, s->encrypt, false, s->iv, s->buf, n, out, n, &got);
	if (rv != CKR_OK)
		return rv;
	if (got != n)
		return CKR_DEVICE_ERROR;
	const uint8_t *last = s->encrypt ? out + n : s->buf + n;
	memcpy(s->iv, last - P11_CBC_BLOCK, P11_CBC_BLOCK);
	buf_consume(s, n);
	return CKR_OK;
}

/* How much of buf + the new input stays buffered after an update that
 * sends. */
static size_t held_back(const struct p11_cbc_stream *s, size_t total)
{
	if (!s->encrypt && s->pad)
		return total == 0 ? 0 : (total - 1) % P11_CBC_BLOCK + 1;
	return total % P11_CBC_BLOCK;
}

static bool overlap(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
	uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
	return a_len > 0 && b_len > 0 && x < y + b_len && y < x + a_len;
}

/*
 * Sends n bytes: buf, then src; src's bytes past n stay buffered. Each
 * call's input is copied into buf before its output is written. With more
 * than one call, an output that overlaps src (other than exactly in step)
 * would overwrite input not yet read, so the caller passes a private copy
 * then.
 */
static CK_RV send_span(struct p11_cbc_stream *s, const struct p11_cbc_server *srv, size_t step,
                       const uint8_t *src, size_t src_len, size_t n, uint8_t *out)
{
	size_t pos = 0;
	for (size_t sent = 0; sent < n;) {
		size_t want = n - sent < step ? n - sent : step;
		size_t take = want > s->buf_len ? want - s->buf_len : 0;
		CK_RV rv = buf_append(s, src + pos, take, step);
		if (rv != CKR_OK)
			return rv;
		pos += take;
		rv = send_buffered(s, srv, want, out + sent);
		if (rv != CKR_OK)
			return rv;
		sent += want;
	}
	return buf_append(s, src + pos, src_len - pos, step);
}

CK_RV p11_cbc_update(struct p11_cbc_stream *s, const struct p11_cbc_server *srv, const uint8_t *in,
                     size_t in_len, uint8_t *out, CK_ULONG *out_len, bool *done)
{
	*done = false;
	if (s->state == P11_CBC_READY_ONESHOT || s->state == P11_CBC_READY_FINAL)
		return CKR_OPERATION_ACTIVE;
	size_t step = step_of(srv);
	if (step == 0) {
		*done = true;
		return CKR_GENERAL_ERROR;
	}
	if (in_len > SIZE_MAX - step - 2 * P11_CBC_BLOCK) {
		*done = true;
		return len_range(s);
	}
	size_t total = s->buf_len + in_len;
	size_t n = total - held_back(s, total);
	if (n < gather_of(srv, step))
		n = 0;
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
	CK_RV rv;
	size_t hold = gather_of(srv, step) + P11_CBC_BLOCK; /* what gathering may keep */
	if (n == 0) {
		rv = buf_append(s, in, in_len, hold);
	} else if (n <= step) {
		/* One call: the input tail that stays is taken before the
		 * output may overwrite it (in place). */
		size_t head = n - s->buf_len;
		uint8_t tail[P11_CBC_BLOCK];
		size_t keep = in_len - head;
		memcpy(tail, in + head, keep);
		rv = buf_append(s, in, head, n > hold ? step : hold);
		if (rv == CKR_OK)
			rv = send_buffered(s, srv, n, out);
		if (rv == CKR_OK)
			rv = buf_append(s, tail, keep, step);
		OPENSSL_cleanse(tail, sizeof(tail));
	} else if (overlap(in, in_len, out, n)) {
		uint8_t *copy = malloc(in_len);
		if (copy == NULL) {
			rv = CKR_HOST_MEMORY;
		} else {
			memcpy(copy, in, in_len);
			rv = send_span(s, srv, step, copy, in_len, n, out);
			OPENSSL_clear_free(copy, in_len);
		}
	} else {
		rv = send_span(s, srv, step, in, in_len, n, out);
	}
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

	size_t len = s->buf_len;
	if (!s->pad || !s->encrypt) {
		bool whole = len % P11_CBC_BLOCK == 0 && (!s->pad || len > 0);
		if (!whole || (!s->encrypt && !s->seen_input)) {
			*done = true;
			return len_range(s);
		}
	}
	/* Padded decryption: the bound, see the header. */
	size_t need = !s->pad      ? len
	              : s->encrypt ? len - len % P11_CBC_BLOCK + P11_CBC_BLOCK
	                           : len - 1;
	if (out == NULL) {
		*out_len = need;
		return CKR_OK;
	}
	bool bound_only = s->pad && !s->encrypt;
	if (!bound_only && *out_len < need) {
		*out_len = need;
		return CKR_BUFFER_TOO_SMALL;
	}
	*done = true;
	if (len == 0 && !s->pad) {
		*out_len = 0;
		return CKR_OK;
	}
	size_t step = step_of(srv);
	if (step == 0 || len > step)
		return CKR_GENERAL_ERROR; /* gather_of() keeps len below step */
	CK_RV rv;
	size_t got = 0;
	if (!s->pad) {
		rv = send_buffered(s, srv, len, out);
		got = len;
	} else if (*out_len >= need) {
		rv = padded_call(s, srv, s->buf, len, out, need, &got);
	} else {
		/* Padded decryption into a buffer below the bound: decrypt to
		 * learn the size, keep the plaintext when it does not fit. */
		uint8_t *plain = malloc(len);
		if (plain == NULL)
			return CKR_HOST_MEMORY;
		rv = padded_call(s, srv, s->buf, len, plain, len, &got);
		drop_buf(s);
		if (rv != CKR_OK) {
			OPENSSL_clear_free(plain, len);
			return rv;
		}
		*done = false;
		return deliver_or_keep(s, P11_CBC_READY_FINAL, 0, plain, got, out, out_len, done);
	}
	drop_buf(s);
	if (rv == CKR_OK)
		*out_len = got;
	return rv;
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
