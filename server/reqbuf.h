/*
 * A connection's buffer of request bytes not yet handled.
 *
 * Contract:
 *  - reqbuf_reserve() makes room for at least one more byte: it grows the
 *    buffer from REQBUF_START towards REQBUF_MAX when it is full; 0,
 *    -ENOBUFS (at REQBUF_MAX: the parser refuses such a request before)
 *    or -ENOMEM.
 *  - The bytes may hold passphrases and plaintext: a grown-out copy, the
 *    consumed part and the buffer at reqbuf_free() are wiped.
 */
#ifndef WSOPD_REQBUF_H
#define WSOPD_REQBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc/http.h"

#define REQBUF_START 16384
#define REQBUF_MAX   (HTTP_MAX_HEAD + HTTP_MAX_BODY)

struct reqbuf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

int reqbuf_reserve(struct reqbuf *b);

/* Drops the first `used` bytes (a handled request). */
void reqbuf_consume(struct reqbuf *b, size_t used);

/* Whether the bytes hold a whole request head (its blank line). */
bool reqbuf_head_done(const struct reqbuf *b);

void reqbuf_free(struct reqbuf *b);

#endif
