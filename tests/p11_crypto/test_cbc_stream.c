/* lib/p11_cbc_stream.c against a local OpenSSL "server": every split gives
 * the single-part answer; sizes, short buffers, mixing and errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/p11_cbc_stream.h"
#include "tests/p11_crypto/local_cbc.h"

static const uint8_t iv0[16] = { 0xa0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0xff };

static struct local_cbc lc;
static struct p11_cbc_server srv;

static int setup(void **state)
{
	(void)state;
	memset(&lc, 0, sizeof(lc));
	for (size_t i = 0; i < sizeof(lc.key); i++)
		lc.key[i] = (uint8_t)(i * 7 + 3);
	lc.key_len = 16;
	srv.call = local_cbc_call;
	srv.ctx = &lc;
	srv.max_in = 262144;
	/* The tests below the gathering ones send every whole block at once,
	 * as an ungathered stream does, to check block-level behaviour. */
	srv.gather = 16;
	return 0;
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 31 + seed);
}

/* The whole input in one call; returns the output length. */
static size_t oneshot(bool enc, bool pad, const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	struct p11_cbc_stream s;
	p11_cbc_init(&s, enc, pad, iv0);
	CK_ULONG n = cap;
	bool done;
	assert_int_equal(p11_cbc_oneshot(&s, &srv, in, len, out, &n, &done), CKR_OK);
	assert_true(done);
	p11_cbc_clear(&s);
	return n;
}

/* The input in parts of `part` bytes, each output buffer exactly the size
 * the length query gave (ASan catches any overrun). */
static size_t split(bool enc, bool pad, const uint8_t *in, size_t len, size_t part, uint8_t *out)
{
	struct p11_cbc_stream s;
	p11_cbc_init(&s, enc, pad, iv0);
	size_t total = 0;
	bool done;
	for (size_t off = 0; off < len || (len == 0 && off == 0); off += part) {
		size_t n = len - off < part ? len - off : part;
		CK_ULONG want = 0;
		assert_int_equal(p11_cbc_update(&s, &srv, in + off, n, NULL, &want, &done), CKR_OK);
		assert_false(done);
		uint8_t *o = malloc(want + 1);
		CK_ULONG got = want;
		assert_int_equal(p11_cbc_update(&s, &srv, in + off, n, o, &got, &done), CKR_OK);
		assert_false(done);
		assert_int_equal(got, want);
		memcpy(out + total, o, got);
		free(o);
		total += got;
		if (len == 0)
			break;
	}
	CK_ULONG want = 0;
	assert_int_equal(p11_cbc_final(&s, &srv, NULL, &want, &done), CKR_OK);
	assert_false(done);
	uint8_t *o = malloc(want + 1);
	CK_ULONG got = want;
	assert_int_equal(p11_cbc_final(&s, &srv, o, &got, &done), CKR_OK);
	assert_true(done);
	assert_true(got <= want);
	memcpy(out + total, o, got);
	free(o);
	p11_cbc_clear(&s);
	return total + got;
}

static void every_split(size_t max_in)
{
	srv.max_in = max_in;
	uint8_t plain[80] = { 0 }, ct[112], one[112], multi[112];
	for (int pad = 0; pad <= 1; pad++) {
		for (size_t len = 0; len <= 80; len++) {
			if (!pad && len % 16 != 0)
				continue;
			fill(plain, len, (unsigned)len);
			size_t ct_len = oneshot(true, pad, plain, len, ct, sizeof(ct));
			assert_int_equal(ct_len, pad ? len / 16 * 16 + 16 : len);
			for (size_t part = 1; part <= 17; part++) {
				size_t m = split(true, pad, plain, len, part, multi);
				assert_int_equal(m, ct_len);
				assert_memory_equal(multi, ct, ct_len);
				if (ct_len == 0)
					continue;
				size_t p = split(false, pad, ct, ct_len, part, multi);
				assert_int_equal(p, len);
				assert_memory_equal(multi, plain, len);
			}
			if (ct_len == 0)
				continue;
			size_t p = oneshot(false, pad, ct, ct_len, one, sizeof(one));
			assert_int_equal(p, len);
			assert_memory_equal(one, plain, len);
		}
	}
}

static void test_every_split_equals_single_part(void **state)
{
	(void)state;
	every_split(262144);
}

/* max_in 32 forces several server calls per update. */
static void test_every_split_with_small_server_limit(void **state)
{
	(void)state;
	every_split(32);
}

static void test_key_sizes(void **state)
{
	(void)state;
	uint8_t plain[50], ct[64], multi[64];
	fill(plain, sizeof(plain), 9);
	for (size_t k = 16; k <= 32; k += 8) {
		lc.key_len = k;
		size_t n = oneshot(true, true, plain, sizeof(plain), ct, sizeof(ct));
		assert_int_equal(split(true, true, plain, sizeof(plain), 7, multi), n);
		assert_memory_equal(multi, ct, n);
	}
}

/* The oneshot above max_in goes through chunks and still matches. */
static void test_oneshot_above_server_limit(void **state)
{
	(void)state;
	uint8_t plain[100], ct[112], ct2[112], back[112];
	fill(plain, sizeof(plain), 1);
	size_t n = oneshot(true, true, plain, sizeof(plain), ct, sizeof(ct));
	srv.max_in = 32;
	assert_int_equal(oneshot(true, true, plain, sizeof(plain), ct2, sizeof(ct2)), n);
	assert_memory_equal(ct, ct2, n);
	assert_int_equal(oneshot(false, true, ct, n, back, sizeof(back)), sizeof(plain));
	assert_memory_equal(back, plain, sizeof(plain));
}

static void test_in_place(void **state)
{
	(void)state;
	uint8_t plain[64], buf[80], ct[80];
	fill(plain, sizeof(plain), 4);
	size_t n = oneshot(true, true, plain, 40, ct, sizeof(ct));
	srv.max_in = 32;
	struct p11_cbc_stream s;
	p11_cbc_init(&s, true, true, iv0);
	memcpy(buf, plain, 40);
	bool done;
	CK_ULONG a = 40;
	/* 3 bytes, then 37 in place: the output of 2 blocks overwrites the
	 * input it still needs unless the stream copies first. */
	uint8_t head[16];
	CK_ULONG h = sizeof(head);
	assert_int_equal(p11_cbc_update(&s, &srv, buf, 3, head, &h, &done), CKR_OK);
	assert_int_equal(h, 0);
	assert_int_equal(p11_cbc_update(&s, &srv, buf + 3, 37, buf, &a, &done), CKR_OK);
	assert_int_equal(a, 32);
	CK_ULONG f = 16;
	assert_int_equal(p11_cbc_final(&s, &srv, buf + 32, &f, &done), CKR_OK);
	assert_int_equal(a + f, n);
	assert_memory_equal(buf, ct, n);
	p11_cbc_clear(&s);
}

static void test_length_query_and_short_buffer_keep_operation(void **state)
{
	(void)state;
	uint8_t plain[33], ct[48], out[48];
	fill(plain, sizeof(plain), 2);
	size_t n = oneshot(true, true, plain, sizeof(plain), ct, sizeof(ct));
	struct p11_cbc_stream s;
	p11_cbc_init(&s, true, true, iv0);
	bool done;
	CK_ULONG len = 0;
	assert_int_equal(p11_cbc_oneshot(&s, &srv, plain, 33, NULL, &len, &done), CKR_OK);
	assert_false(done);
	assert_int_equal(len, 48);
	len = 47;
	assert_int_equal(p11_cbc_oneshot(&s, &srv, plain, 33, out, &len, &done),
	                 CKR_BUFFER_TOO_SMALL);
	assert_false(done);
	assert_int_equal(len, 48);
	assert_int_equal(lc.calls, 1); /* the reference only */
	len = sizeof(out);
	assert_int_equal(p11_cbc_oneshot(&s, &srv, plain, 33, out, &len, &done), CKR_OK);
	assert_true(done);
	assert_int_equal(len, n);
	assert_memory_equal(out, ct, n);
	assert_int_equal(lc.calls, 2); /* the reference and this one */
	p11_cbc_clear(&s);

	/* Update: exact sizes, nothing consumed by a short buffer. */
	p11_cbc_init(&s, true, true, iv0);
	len = 0;
	assert_int_equal(p11_cbc_update(&s, &srv, plain, 20, NULL, &len, &done), CKR_OK);
	assert_int_equal(len, 16);
	len = 15;
	assert_int_equal(p11_cbc_update(&s, &srv, plain, 20, out, &len, &done),
	                 CKR_BUFFER_TOO_SMALL);
	assert_false(done);
	assert_int_equal(len, 16);
	len = 16;
	assert_int_equal(p11_cbc_update(&s, &srv, plain, 20, out, &len, &done), CKR_OK);
	CK_ULONG rest = 32;
	assert_int_equal(p11_cbc_update(&s, &srv, plain + 20, 13, out + 16, &rest, &done), CKR_OK);
	assert_int_equal(rest, 16);
	len = 15;
	assert_int_equal(p11_cbc_final(&s, &srv, out + 32, &len, &done), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(len, 16);
	len = 16;
	assert_int_equal(p11_cbc_final(&s, &srv, out + 32, &len, &done), CKR_OK);
	assert_true(done);
	assert_memory_equal(out, ct, 48);
	p11_cbc_clear(&s);
}

/* Padded decryption: the bound for queries, the exact size after the call,
 * and the retry served without a second call. */
static void test_padded_decrypt_sizes(void **state)
{
	(void)state;
	uint8_t plain[20], ct[32], out[32];
	fill(plain, sizeof(plain), 5);
	assert_int_equal(oneshot(true, true, plain, 20, ct, sizeof(ct)), 32);
	unsigned base = lc.calls;
	struct p11_cbc_stream s;
	p11_cbc_init(&s, false, true, iv0);
	bool done;
	CK_ULONG len = 0;
	assert_int_equal(p11_cbc_oneshot(&s, &srv, ct, 32, NULL, &len, &done), CKR_OK);
	assert_int_equal(len, 31);
	len = 10;
	assert_int_equal(p11_cbc_oneshot(&s, &srv, ct, 32, out, &len, &done), CKR_BUFFER_TOO_SMALL);
	assert_false(done);
	assert_int_equal(len, 20);
	assert_int_equal(p11_cbc_update(&s, &srv, ct, 16, out, &len, &done), CKR_OPERATION_ACTIVE);
	assert_int_equal(p11_cbc_final(&s, &srv, out, &len, &done), CKR_OPERATION_ACTIVE);
	assert_false(done);
	len = 20;
	assert_int_equal(p11_cbc_oneshot(&s, &srv, ct, 32, out, &len, &done), CKR_OK);
	assert_true(done);
	assert_int_equal(len, 20);
	assert_memory_equal(out, plain, 20);
	assert_int_equal(lc.calls, base + 1);
	p11_cbc_clear(&s);

	/* A buffer below the bound that the plaintext fits: done at once. */
	p11_cbc_init(&s, false, true, iv0);
	len = 25;
	assert_int_equal(p11_cbc_oneshot(&s, &srv, ct, 32, out, &len, &done), CKR_OK);
	assert_true(done);
	assert_int_equal(len, 20);
	p11_cbc_clear(&s);

	/* Final: bound 15, exact 4 after a too-small retry. */
	p11_cbc_init(&s, false, true, iv0);
	len = 32;
	assert_int_equal(p11_cbc_update(&s, &srv, ct, 32, out, &len, &done), CKR_OK);
	assert_int_equal(len, 16);
	len = 0;
	assert_int_equal(p11_cbc_final(&s, &srv, NULL, &len, &done), CKR_OK);
	assert_int_equal(len, 15);
	len = 3;
	assert_int_equal(p11_cbc_final(&s, &srv, out + 16, &len, &done), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(len, 4);
	assert_int_equal(p11_cbc_oneshot(&s, &srv, ct, 32, out, &len, &done), CKR_OPERATION_ACTIVE);
	len = 4;
	assert_int_equal(p11_cbc_final(&s, &srv, out + 16, &len, &done), CKR_OK);
	assert_true(done);
	assert_memory_equal(out, plain, 20);
	p11_cbc_clear(&s);

	/* A retry of another length is refused. */
	p11_cbc_init(&s, false, true, iv0);
	len = 1;
	assert_int_equal(p11_cbc_oneshot(&s, &srv, ct, 32, out, &len, &done), CKR_BUFFER_TOO_SMALL);
	len = 32;
	assert_int_equal(p11_cbc_oneshot(&s, &srv, ct, 16, out, &len, &done), CKR_ARGUMENTS_BAD);
	assert_true(done);
	p11_cbc_clear(&s);
}

static void test_oneshot_after_update_is_operation_active(void **state)
{
	(void)state;
	uint8_t data[32] = { 0 }, out[64];
	struct p11_cbc_stream s;
	p11_cbc_init(&s, true, false, iv0);
	bool done;
	CK_ULONG len = sizeof(out);
	assert_int_equal(p11_cbc_update(&s, &srv, data, 5, out, &len, &done), CKR_OK);
	len = sizeof(out);
	assert_int_equal(p11_cbc_oneshot(&s, &srv, data, 32, out, &len, &done),
	                 CKR_OPERATION_ACTIVE);
	assert_false(done);
	len = sizeof(out);
	assert_int_equal(p11_cbc_update(&s, &srv, data, 11, out, &len, &done), CKR_OK);
	assert_int_equal(len, 16);
	len = sizeof(out);
	assert_int_equal(p11_cbc_final(&s, &srv, out, &len, &done), CKR_OK);
	assert_true(done);
	assert_int_equal(len, 0);
	p11_cbc_clear(&s);
}

static void test_length_ranges(void **state)
{
	(void)state;
	uint8_t data[48] = { 0 }, out[64];
	struct p11_cbc_stream s;
	bool done;
	CK_ULONG len = sizeof(out);
	p11_cbc_init(&s, true, false, iv0);
	assert_int_equal(p11_cbc_oneshot(&s, &srv, data, 17, out, &len, &done), CKR_DATA_LEN_RANGE);
	assert_true(done);
	p11_cbc_clear(&s);
	/* Unpadded encryption of nothing: nothing, no call. */
	p11_cbc_init(&s, true, false, iv0);
	len = sizeof(out);
	assert_int_equal(p11_cbc_oneshot(&s, &srv, data, 0, out, &len, &done), CKR_OK);
	assert_int_equal(len, 0);
	assert_int_equal(lc.calls, 0);
	p11_cbc_clear(&s);
	for (int pad = 0; pad <= 1; pad++) {
		size_t bad[] = { 0, 15, 33 };
		for (size_t i = 0; i < 3; i++) {
			p11_cbc_init(&s, false, pad, iv0);
			len = sizeof(out);
			assert_int_equal(p11_cbc_oneshot(&s, &srv, data, bad[i], out, &len, &done),
			                 CKR_ENCRYPTED_DATA_LEN_RANGE);
			assert_true(done);
			p11_cbc_clear(&s);
			p11_cbc_init(&s, false, pad, iv0);
			len = sizeof(out);
			assert_int_equal(p11_cbc_update(&s, &srv, data, bad[i], out, &len, &done),
			                 CKR_OK);
			len = sizeof(out);
			assert_int_equal(p11_cbc_final(&s, &srv, out, &len, &done),
			                 CKR_ENCRYPTED_DATA_LEN_RANGE);
			assert_true(done);
			p11_cbc_clear(&s);
		}
	}
	p11_cbc_init(&s, true, false, iv0);
	len = sizeof(out);
	assert_int_equal(p11_cbc_update(&s, &srv, data, 20, out, &len, &done), CKR_OK);
	len = sizeof(out);
	assert_int_equal(p11_cbc_final(&s, &srv, out, &len, &done), CKR_DATA_LEN_RANGE);
	assert_true(done);
	p11_cbc_clear(&s);
}

static void test_bad_padding(void **state)
{
	(void)state;
	uint8_t data[32], out[32];
	fill(data, sizeof(data), 3);
	struct p11_cbc_stream s;
	bool done;
	/* Random bytes: decrypting them almost never ends in valid padding;
	 * this ciphertext is checked not to. */
	p11_cbc_init(&s, false, true, iv0);
	CK_ULONG len = sizeof(out);
	assert_int_equal(p11_cbc_oneshot(&s, &srv, data, 32, out, &len, &done),
	                 CKR_ENCRYPTED_DATA_INVALID);
	assert_true(done);
	p11_cbc_clear(&s);
	p11_cbc_init(&s, false, true, iv0);
	len = sizeof(out);
	assert_int_equal(p11_cbc_update(&s, &srv, data, 32, out, &len, &done), CKR_OK);
	len = sizeof(out);
	assert_int_equal(p11_cbc_final(&s, &srv, out, &len, &done), CKR_ENCRYPTED_DATA_INVALID);
	assert_true(done);
	p11_cbc_clear(&s);
}

static void test_server_errors_end_operation(void **state)
{
	(void)state;
	uint8_t data[64] = { 0 }, out[80];
	struct p11_cbc_stream s;
	bool done;
	lc.fail_at = 1;
	lc.fail_rv = CKR_KEY_FUNCTION_NOT_PERMITTED;
	p11_cbc_init(&s, true, true, iv0);
	CK_ULONG len = sizeof(out);
	assert_int_equal(p11_cbc_update(&s, &srv, data, 40, out, &len, &done),
	                 CKR_KEY_FUNCTION_NOT_PERMITTED);
	assert_true(done);
	p11_cbc_clear(&s);
	lc.calls = 0;
	lc.fail_rv = CKR_DEVICE_ERROR;
	p11_cbc_init(&s, true, true, iv0);
	len = sizeof(out);
	assert_int_equal(p11_cbc_oneshot(&s, &srv, data, 40, out, &len, &done), CKR_DEVICE_ERROR);
	assert_true(done);
	p11_cbc_clear(&s);
}

/* A server answering the wrong length is a device error, not an overrun. */
static CK_RV short_server(void *ctx, bool encrypt, bool pad, const uint8_t iv[16],
                          const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
                          size_t *out_len)
{
	(void)ctx, (void)encrypt, (void)pad, (void)iv, (void)in, (void)out, (void)out_cap;
	*out_len = in_len > 0 ? in_len - 1 : 0;
	return CKR_OK;
}

static void test_wrong_answer_length(void **state)
{
	(void)state;
	struct p11_cbc_server bad = { short_server, NULL, 64, 16 };
	uint8_t data[32] = { 0 }, out[48];
	struct p11_cbc_stream s;
	bool done;
	for (int enc = 0; enc <= 1; enc++) {
		for (int pad = 0; pad <= 1; pad++) {
			p11_cbc_init(&s, enc, pad, iv0);
			CK_ULONG len = sizeof(out);
			CK_RV rv = p11_cbc_oneshot(&s, &bad, data, 32, out, &len, &done);
			if (!enc && pad)
				assert_int_equal(rv, CKR_OK); /* 31 bytes is a valid answer */
			else
				assert_int_equal(rv, CKR_DEVICE_ERROR);
			p11_cbc_clear(&s);
			p11_cbc_init(&s, enc, pad, iv0);
			len = sizeof(out);
			assert_int_equal(p11_cbc_update(&s, &bad, data, 32, out, &len, &done),
			                 CKR_DEVICE_ERROR);
			p11_cbc_clear(&s);
		}
	}
}

/* ---- gathering ---------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* A part length that hits the edges: 0, 1, a block, around the gather
 * size, above one call's limit, or anything. */
static size_t random_part(size_t step)
{
	switch (rnd() % 8) {
	case 0:
		return 0;
	case 1:
		return 1;
	case 2:
		return 16;
	case 3:
		return step - 16 + rnd() % 33;
	case 4:
		return step * 2 + rnd() % 100;
	case 5:
		return 4096;
	default:
		return rnd() % 3000;
	}
}

/* The single-part answer by a server without a limit. */
static size_t reference(bool enc, bool pad, const uint8_t *in, size_t len, uint8_t *out)
{
	struct p11_cbc_server big = { local_cbc_call, &lc, len + 64, 0 };
	struct p11_cbc_stream s;
	p11_cbc_init(&s, enc, pad, iv0);
	CK_ULONG n = len + 16;
	bool done;
	assert_int_equal(p11_cbc_oneshot(&s, &big, in, len, out, &n, &done), CKR_OK);
	p11_cbc_clear(&s);
	return n;
}

/*
 * in[0..len) in random parts. in_place: the parts and the output share
 * one buffer (output written at its own cursor, behind the input's), else
 * each output goes to a buffer of exactly the queried size. Every call
 * but the last (final) carries at least G bytes; nothing buffered ever
 * exceeds one call.
 */
static size_t random_split(bool enc, bool pad, const uint8_t *in, size_t len, bool in_place,
                           uint8_t *out)
{
	size_t step = srv.max_in - srv.max_in % 16;
	size_t g = srv.gather ? srv.gather : step - 16;
	struct p11_cbc_stream s;
	p11_cbc_init(&s, enc, pad, iv0);
	uint8_t *work = NULL;
	if (in_place) {
		work = malloc(len + 16);
		memcpy(work, in, len);
	}
	size_t total = 0, off = 0;
	bool done;
	unsigned calls = lc.calls;
	for (bool first = true; off < len || first; first = false) {
		size_t n = random_part(step);
		if (n > len - off)
			n = len - off;
		CK_ULONG want = 0;
		const uint8_t *src = in_place ? work + off : in + off;
		assert_int_equal(p11_cbc_update(&s, &srv, src, n, NULL, &want, &done), CKR_OK);
		if (want > 0) {
			CK_ULONG small = want - 1;
			assert_int_equal(p11_cbc_update(&s, &srv, src, n, out, &small, &done),
			                 CKR_BUFFER_TOO_SMALL);
			assert_int_equal(small, want);
			assert_false(done);
		}
		uint8_t *o = in_place ? work + total : malloc(want + 1);
		CK_ULONG got = want;
		unsigned before = lc.calls;
		assert_int_equal(p11_cbc_update(&s, &srv, src, n, o, &got, &done), CKR_OK);
		assert_false(done);
		assert_int_equal(got, want);
		/* No call below G; a call only for at least G bytes. */
		assert_true(want == 0 ? lc.calls == before : want >= g);
		assert_true(s.buf_cap <= step);
		assert_true(s.buf_len < g + 16);
		if (!in_place) {
			memcpy(out + total, o, got);
			free(o);
		}
		total += got;
		off += n;
	}
	CK_ULONG want = 0;
	assert_int_equal(p11_cbc_final(&s, &srv, NULL, &want, &done), CKR_OK);
	uint8_t *o = malloc(want + 1);
	CK_ULONG got = want;
	assert_int_equal(p11_cbc_final(&s, &srv, o, &got, &done), CKR_OK);
	assert_true(done);
	assert_true(got <= want);
	if (in_place) {
		memcpy(work + total, o, got);
		memcpy(out, work, total + got);
		free(work);
	} else {
		memcpy(out + total, o, got);
	}
	free(o);
	p11_cbc_clear(&s);
	(void)calls;
	return total + got;
}

static void gathered_against_single_part(size_t max_in, size_t gather, size_t rounds)
{
	srv.max_in = max_in;
	srv.gather = gather;
	size_t cap = 3 * max_in + 1000;
	uint8_t *plain = malloc(cap), *ct = malloc(cap + 16), *a = malloc(cap + 16);
	for (size_t r = 0; r < rounds; r++) {
		size_t len = rnd() % cap;
		bool pad = rnd() & 1;
		if (!pad)
			len -= len % 16;
		for (size_t i = 0; i < len; i++)
			plain[i] = (uint8_t)rnd();
		size_t ct_len = reference(true, pad, plain, len, ct);
		bool in_place = rnd() & 1;
		assert_int_equal(random_split(true, pad, plain, len, in_place, a), ct_len);
		assert_memory_equal(a, ct, ct_len);
		if (ct_len == 0)
			continue;
		assert_int_equal(random_split(false, pad, ct, ct_len, !in_place, a), len);
		assert_memory_equal(a, plain, len);
	}
	free(plain);
	free(ct);
	free(a);
}

static void test_gathered_random_splits(void **state)
{
	(void)state;
	gathered_against_single_part(4096, 0, 60);
	gathered_against_single_part(1024, 64, 60);
	gathered_against_single_part(262144, 0, 4);
}

/* 1 MiB in 4 KiB parts: a handful of calls, not one per part. */
static void test_megabyte_in_4k_parts_is_few_calls(void **state)
{
	(void)state;
	srv.gather = 0;
	size_t len = 1 << 20;
	uint8_t *plain = malloc(len), *ct = malloc(len + 16), *a = malloc(len + 16);
	fill(plain, len, 11);
	size_t ct_len = reference(true, true, plain, len, ct);
	for (int enc = 1; enc >= 0; enc--) {
		const uint8_t *in = enc ? plain : ct;
		size_t in_len = enc ? len : ct_len;
		struct p11_cbc_stream s;
		p11_cbc_init(&s, enc, true, iv0);
		lc.calls = 0;
		size_t total = 0;
		bool done;
		for (size_t off = 0; off < in_len; off += 4096) {
			size_t n = in_len - off < 4096 ? in_len - off : 4096;
			CK_ULONG got = in_len + 16 - total;
			assert_int_equal(
			    p11_cbc_update(&s, &srv, in + off, n, a + total, &got, &done), CKR_OK);
			total += got;
		}
		CK_ULONG got = in_len + 16 - total;
		assert_int_equal(p11_cbc_final(&s, &srv, a + total, &got, &done), CKR_OK);
		total += got;
		assert_true(lc.calls <= 5);
		assert_int_equal(total, enc ? ct_len : len);
		assert_memory_equal(a, enc ? ct : plain, total);
		p11_cbc_clear(&s);
	}
	free(plain);
	free(ct);
	free(a);
}

/* Final of a gathered padded decryption: the bound, then the exact size
 * after a too-small buffer, served without a second call. */
static void test_gathered_final_sizes(void **state)
{
	(void)state;
	srv.gather = 0;
	uint8_t plain[5000], ct[5008], out[5008];
	fill(plain, sizeof(plain), 12);
	assert_int_equal(reference(true, true, plain, sizeof(plain), ct), 5008);
	struct p11_cbc_stream s;
	p11_cbc_init(&s, false, true, iv0);
	bool done;
	CK_ULONG len = sizeof(out);
	assert_int_equal(p11_cbc_update(&s, &srv, ct, 5008, out, &len, &done), CKR_OK);
	assert_int_equal(len, 0);
	len = 0;
	assert_int_equal(p11_cbc_final(&s, &srv, NULL, &len, &done), CKR_OK);
	assert_int_equal(len, 5007);
	unsigned base = lc.calls;
	len = 100;
	assert_int_equal(p11_cbc_final(&s, &srv, out, &len, &done), CKR_BUFFER_TOO_SMALL);
	assert_false(done);
	assert_int_equal(len, 5000);
	len = 5000;
	assert_int_equal(p11_cbc_final(&s, &srv, out, &len, &done), CKR_OK);
	assert_true(done);
	assert_int_equal(lc.calls, base + 1);
	assert_memory_equal(out, plain, 5000);
	p11_cbc_clear(&s);

	/* Encryption: exact, and a short buffer consumes nothing. */
	p11_cbc_init(&s, true, true, iv0);
	len = sizeof(out);
	assert_int_equal(p11_cbc_update(&s, &srv, plain, 5000, out, &len, &done), CKR_OK);
	assert_int_equal(len, 0);
	len = 5007;
	assert_int_equal(p11_cbc_final(&s, &srv, out, &len, &done), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(len, 5008);
	assert_false(done);
	len = 5008;
	assert_int_equal(p11_cbc_final(&s, &srv, out, &len, &done), CKR_OK);
	assert_memory_equal(out, ct, 5008);
	p11_cbc_clear(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_every_split_equals_single_part, setup),
		cmocka_unit_test_setup(test_every_split_with_small_server_limit, setup),
		cmocka_unit_test_setup(test_key_sizes, setup),
		cmocka_unit_test_setup(test_oneshot_above_server_limit, setup),
		cmocka_unit_test_setup(test_in_place, setup),
		cmocka_unit_test_setup(test_length_query_and_short_buffer_keep_operation, setup),
		cmocka_unit_test_setup(test_padded_decrypt_sizes, setup),
		cmocka_unit_test_setup(test_oneshot_after_update_is_operation_active, setup),
		cmocka_unit_test_setup(test_length_ranges, setup),
		cmocka_unit_test_setup(test_bad_padding, setup),
		cmocka_unit_test_setup(test_server_errors_end_operation, setup),
		cmocka_unit_test_setup(test_wrong_answer_length, setup),
		cmocka_unit_test_setup(test_gathered_random_splits, setup),
		cmocka_unit_test_setup(test_megabyte_in_4k_parts_is_few_calls, setup),
		cmocka_unit_test_setup(test_gathered_final_sizes, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
