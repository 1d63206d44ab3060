/* TLS records waiting for the socket; see outbuf.h. */
#include "server/outbuf.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* A buffer this large is given back once sent, so that one big answer
 * does not keep its size for the life of the connection. */
#define OUTBUF_KEEP  (64u * 1024)
#define OUTBUF_START 4096

static BIO_METHOD *method;
static pthread_once_t method_once = PTHREAD_ONCE_INIT;

static int reserve(struct outbuf *ob, size_t more)
{
	size_t cap = ob->cap == 0 ? OUTBUF_START : ob->cap;
	uint8_t *nb;

	if (more > OUTBUF_MAX - ob->len)
		return -ENOBUFS;
	if (ob->len + more <= ob->cap)
		return 0;
	/* Sent bytes first make room at the front. */
	if (ob->off > 0) {
		memmove(ob->data, ob->data + ob->off, ob->len - ob->off);
		ob->len -= ob->off;
		ob->off = 0;
		if (ob->len + more <= ob->cap)
			return 0;
	}
	while (cap < ob->len + more)
		cap *= 2;
	nb = realloc(ob->data, cap);
	if (nb == NULL)
		return -ENOMEM;
	ob->data = nb;
	ob->cap = cap;
	return 0;
}

static int bio_write(BIO *b, const char *data, size_t len, size_t *written)
{
	struct outbuf *ob = BIO_get_data(b);

	BIO_clear_retry_flags(b);
	*written = 0;
	if (ob == NULL || reserve(ob, len) != 0)
		return 0;
	memcpy(ob->data + ob->len, data, len);
	ob->len += len;
	*written = len;
	return 1;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct outbuf *ob = BIO_get_data(b);

	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		/* Sent by the loop when it flushes the buffer. */
		return 1;
	case BIO_CTRL_WPENDING:
	case BIO_CTRL_PENDING:
		return ob != NULL ? (long)outbuf_pending(ob) : 0;
	default:
		return 0;
	}
}

static void make_method(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "wsopd outbuf");

	if (m == NULL)
		return;
	if (BIO_meth_set_write_ex(m, bio_write) != 1 || BIO_meth_set_ctrl(m, bio_ctrl) != 1) {
		BIO_meth_free(m);
		return;
	}
	method = m;
}

BIO *outbuf_bio_new(struct outbuf *ob)
{
	BIO *b;

	if (pthread_once(&method_once, make_method) != 0 || method == NULL)
		return NULL;
	b = BIO_new(method);
	if (b == NULL)
		return NULL;
	BIO_set_data(b, ob);
	BIO_set_init(b, 1);
	return b;
}

int outbuf_flush(struct outbuf *ob, int fd)
{
	while (ob->off < ob->len) {
		ssize_t n = send(fd, ob->data + ob->off, ob->len - ob->off, MSG_NOSIGNAL);

		if (n > 0) {
			ob->off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		return n < 0 ? -errno : -EPIPE;
	}
	ob->off = ob->len = 0;
	if (ob->cap > OUTBUF_KEEP)
		outbuf_free(ob);
	return 1;
}

void outbuf_free(struct outbuf *ob)
{
	free(ob->data);
	memset(ob, 0, sizeof(*ob));
}
