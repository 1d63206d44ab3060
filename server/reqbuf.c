/* Request bytes of one connection; see reqbuf.h. */
#include "server/reqbuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

int reqbuf_reserve(struct reqbuf *b)
{
	size_t cap = b->cap == 0 ? REQBUF_START : b->cap * 2;
	uint8_t *nb;

	if (b->len < b->cap)
		return 0;
	if (b->cap >= REQBUF_MAX)
		return -ENOBUFS;
	if (cap > REQBUF_MAX)
		cap = REQBUF_MAX;
	nb = malloc(cap);
	if (nb == NULL)
		return -ENOMEM;
	if (b->data != NULL) {
		memcpy(nb, b->data, b->len);
		OPENSSL_clear_free(b->data, b->cap);
	}
	b->data = nb;
	b->cap = cap;
	return 0;
}

void reqbuf_consume(struct reqbuf *b, size_t used)
{
	if (used > b->len)
		used = b->len;
	/* The rest moves over the used bytes; what it leaves behind,
	 * data[len - used .. len), is the only copy left to wipe. */
	memmove(b->data, b->data + used, b->len - used);
	b->len -= used;
	OPENSSL_cleanse(b->data + b->len, used);
}

bool reqbuf_head_done(const struct reqbuf *b)
{
	return b->len >= 4 && memmem(b->data, b->len, "\r\n\r\n", 4) != NULL;
}

void reqbuf_free(struct reqbuf *b)
{
	if (b->data != NULL)
		OPENSSL_clear_free(b->data, b->cap);
	memset(b, 0, sizeof(*b));
}
