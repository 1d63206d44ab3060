/*
 * The TLS records of a connection that wait for its socket.
 *
 * An event loop encrypts a whole answer at once into this buffer, through
 * a BIO that only appends (so SSL_write never waits on the socket), and
 * then sends what the buffer holds with one system call per wake-up
 * instead of one per TLS record.
 *
 * Contract:
 *  - outbuf_bio_new() makes a write-only BIO appending to *ob (which must
 *    outlive it); NULL when out of memory. Its writes fail (no retry) only
 *    when memory runs out or the buffer would pass OUTBUF_MAX.
 *  - outbuf_flush() sends the buffered bytes to the non-blocking socket
 *    fd: 1 when all are sent (the buffer is then empty), 0 when the socket
 *    is full (the rest stays), or a negative errno when the connection
 *    failed. Never raises SIGPIPE.
 *  - The bytes are TLS records (ciphertext): they are not wiped.
 */
#ifndef WSOPD_OUTBUF_H
#define WSOPD_OUTBUF_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/bio.h>

/* Beyond the answers a loop queues (256 KiB) plus one whole answer. */
#define OUTBUF_MAX (8u << 20)

struct outbuf {
	uint8_t *data;
	size_t off; /* sent */
	size_t len; /* filled */
	size_t cap;
};

BIO *outbuf_bio_new(struct outbuf *ob);

static inline size_t outbuf_pending(const struct outbuf *ob)
{
	return ob->len - ob->off;
}

int outbuf_flush(struct outbuf *ob, int fd);

void outbuf_free(struct outbuf *ob);

#endif
