/*
 * libFuzzer target for the client's answer path: the input is what a
 * (hostile) server sends back. Byte 0 picks the typed call, byte 1 the
 * read size (1..256, 0 meaning all at once), the rest is the answer stream.
 * Every call must end in a documented result and free what it took.
 * Decrypt (7) goes in the binary form until an answer refuses that form;
 * from then on (the choice holds for the process) in JSON: both answer
 * forms are fuzzed.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/wsop_client.h"

#define SC "0123456789abcdef0123456789abcdef01234567"
#define G  "0123abcd-4567-89ef-0123-456789abcdef"
#define K  "ffffffff-0000-1111-2222-333333333333"

struct stream {
	const uint8_t *data;
	size_t len, pos, chunk;
};

static int fz_send(void *ctx, const uint8_t *data, size_t len)
{
	(void)ctx;
	(void)data;
	(void)len;
	return 0;
}

static ssize_t fz_recv(void *ctx, uint8_t *buf, size_t cap, int timeout_ms)
{
	struct stream *s = ctx;
	(void)timeout_ms;
	size_t n = s->len - s->pos;
	if (n == 0)
		return 0;
	if (s->chunk && n > s->chunk)
		n = s->chunk;
	if (n > cap)
		n = cap;
	memcpy(buf, s->data + s->pos, n);
	s->pos += n;
	return (ssize_t)n;
}

static int one_call(struct wsop_client *c, unsigned which)
{
	static const uint8_t iv_data[16];
	int rc;

	switch (which % 10) {
	case 0: {
		struct wsop_health h;
		return wsop_health(c, &h);
	}
	case 1: {
		struct wsop_softcard s;
		return wsop_softcard_activate(c, SC, "pw", 2, NULL, &s);
	}
	case 2: {
		struct wsop_softcard_list l;
		rc = wsop_softcard_list(c, &l);
		wsop_softcard_list_free(&l);
		return rc;
	}
	case 3: {
		struct wsop_group_list l;
		rc = wsop_group_list(c, NULL, &l);
		wsop_group_list_free(&l);
		return rc;
	}
	case 4: {
		struct wsop_key k;
		rc = wsop_key_get(c, G, K, &k);
		wsop_key_free(&k);
		return rc;
	}
	case 5: {
		struct wsop_key_list l;
		rc = wsop_key_list(c, G, &l);
		wsop_key_list_free(&l);
		return rc;
	}
	case 6: {
		struct wsop_object_list l;
		rc = wsop_object_list(c, SC, &l);
		wsop_object_list_free(&l);
		return rc;
	}
	case 7: {
		struct wsop_crypto_req req;
		struct wsop_crypto_answer a;
		memset(&req, 0, sizeof(req));
		strcpy(req.key, "km/v1/groups/" G "/keys/" K);
		req.mechanism = WSOP_MECH_AES_CBC;
		req.data.data = (uint8_t *)iv_data;
		req.data.len = sizeof(iv_data);
		rc = wsop_decrypt(c, &req, &a);
		wsop_crypto_answer_free(&a);
		return rc;
	}
	case 8:
		return wsop_softcard_delete(c, SC, NULL);
	default: {
		struct wsop_object o;
		rc = wsop_object_get(c, SC, G, &o);
		wsop_object_free(&o);
		return rc;
	}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	struct stream s = { data + 2, size - 2, 0, data[1] };
	struct wsop_transport t = { &s, fz_send, fz_recv, NULL };
	struct wsop_client c;
	if (wsop_client_init(&c, &t, "fuzz", 1000) != 0)
		abort();
	/* Two calls: the second sees whatever the first left behind. */
	for (int i = 0; i < 2; i++) {
		int rc = one_call(&c, data[0] + (unsigned)i);
		if (rc > 0 && (rc < 300 || rc > 999))
			abort();
		if (rc == -EINVAL)
			abort(); /* the arguments above are all valid */
	}
	wsop_client_free(&c);
	return 0;
}
