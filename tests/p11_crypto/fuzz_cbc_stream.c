/*
 * libFuzzer target for lib/p11_cbc_stream.c: any input split any way over
 * updates must end exactly as the single-part call does (same CKR, same
 * bytes), in both directions and for both mechanisms, against the local
 * OpenSSL server, with a server limit small enough to force chunking.
 *
 * Input: flags byte (bit 0 encrypt, bit 1 pad, bits 2-3 key size, bits 4-5
 * server limit, bits 6-7 gather size), split count n, n split lengths, then the message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/p11_cbc_stream.h"
#include "tests/p11_crypto/local_cbc.h"

static const uint8_t iv0[16] = { 7, 6, 5, 4, 3, 2, 1, 0, 8, 9, 10, 11, 12, 13, 14, 15 };

static CK_RV run_oneshot(bool enc, bool pad, const struct p11_cbc_server *srv, const uint8_t *in,
                         size_t len, uint8_t *out, CK_ULONG *out_len)
{
	struct p11_cbc_stream s;
	p11_cbc_init(&s, enc, pad, iv0);
	bool done;
	CK_RV rv = p11_cbc_oneshot(&s, srv, in, len, out, out_len, &done);
	if (!done)
		abort();
	p11_cbc_clear(&s);
	return rv;
}

static CK_RV run_split(bool enc, bool pad, const struct p11_cbc_server *srv, const uint8_t *in,
                       size_t len, const uint8_t *splits, size_t nsplits, uint8_t *out,
                       CK_ULONG *out_len)
{
	struct p11_cbc_stream s;
	p11_cbc_init(&s, enc, pad, iv0);
	bool done = false;
	size_t off = 0, total = 0;
	CK_RV rv = CKR_OK;
	for (size_t i = 0; off < len; i++) {
		size_t part = nsplits > 0 ? splits[i % nsplits] : len;
		if (part > len - off)
			part = len - off;
		CK_ULONG want = 0;
		if (p11_cbc_update(&s, srv, in + off, part, NULL, &want, &done) != CKR_OK || done)
			abort();
		uint8_t *o = malloc(want + 1);
		CK_ULONG got = want;
		rv = p11_cbc_update(&s, srv, in + off, part, o, &got, &done);
		if (rv == CKR_OK) {
			if (got != want || done)
				abort();
			memcpy(out + total, o, got);
			total += got;
		}
		free(o);
		if (rv != CKR_OK)
			goto out;
		off += part;
	}
	CK_ULONG want = 0;
	rv = p11_cbc_final(&s, srv, NULL, &want, &done);
	if (rv != CKR_OK)
		goto out;
	uint8_t *o = malloc(want + 1);
	CK_ULONG got = want;
	rv = p11_cbc_final(&s, srv, o, &got, &done);
	if (rv == CKR_OK) {
		if (!done || got > want)
			abort();
		memcpy(out + total, o, got);
		total += got;
	}
	free(o);
out:
	if (!done)
		abort();
	p11_cbc_clear(&s);
	*out_len = total;
	return rv;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	uint8_t flags = data[0];
	size_t nsplits = data[1] % 16;
	if (size < 2 + nsplits)
		return 0;
	const uint8_t *splits = data + 2;
	const uint8_t *msg = data + 2 + nsplits;
	size_t len = size - 2 - nsplits;
	for (size_t i = 0; i < nsplits; i++) {
		if (splits[i] == 0)
			return 0; /* a zero split would never advance */
	}
	static const size_t limits[] = { 32, 48, 256, 262144 };
	static const size_t gathers[] = { 16, 0, 48, 4096 };
	struct local_cbc lc = { .key_len = 16 + 8 * ((flags >> 2) % 3) };
	for (size_t i = 0; i < sizeof(lc.key); i++)
		lc.key[i] = (uint8_t)(i ^ 0x5a);
	struct p11_cbc_server srv = { local_cbc_call, &lc, limits[(flags >> 4) & 3],
		                      gathers[(flags >> 6) & 3] };
	bool enc = flags & 1, pad = (flags >> 1) & 1;

	uint8_t *a = malloc(len + 16), *b = malloc(len + 16);
	if (a == NULL || b == NULL)
		abort();
	CK_ULONG alen = len + 16, blen = 0;
	CK_RV ra = run_oneshot(enc, pad, &srv, msg, len, a, &alen);
	CK_RV rb = run_split(enc, pad, &srv, msg, len, splits, nsplits, b, &blen);
	if (ra != rb)
		abort();
	if (ra == CKR_OK && (alen != blen || memcmp(a, b, alen) != 0))
		abort();
	/* Encryption must decrypt back to the message, split the same way. */
	if (enc && ra == CKR_OK && alen > 0) {
		uint8_t *c = malloc(alen + 16);
		if (c == NULL)
			abort();
		CK_ULONG clen = 0;
		if (run_split(false, pad, &srv, a, alen, splits, nsplits, c, &clen) != CKR_OK ||
		    clen != len || memcmp(c, msg, len) != 0)
			abort();
		free(c);
	}
	free(a);
	free(b);
	return 0;
}
