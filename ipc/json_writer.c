/*
 * The canonical JSON writer of json_writer.h.
 */
#include "ipc/json_writer.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ipc/base64url.h"
#include "ipc/http.h"

static void jw_reserve(struct jw *w, size_t more)
{
	if (w->err)
		return;
	if (more > SIZE_MAX / 2 - w->len) {
		w->err = -ENOMEM;
		return;
	}
	size_t need = w->len + more + 1;
	if (need <= w->cap)
		return;
	size_t cap = w->cap ? w->cap : 256;
	while (cap < need)
		cap *= 2;
	/* realloc may leave the old block unwiped; a secret body is copied
	 * by hand so the old block can be cleansed first. */
	char *nbuf = malloc(cap);
	if (nbuf == NULL) {
		w->err = -ENOMEM;
		return;
	}
	if (w->buf != NULL) {
		memcpy(nbuf, w->buf, w->len);
		if (w->secret)
			OPENSSL_cleanse(w->buf, w->cap);
		free(w->buf);
	}
	w->buf = nbuf;
	w->cap = cap;
}

static void jw_raw(struct jw *w, const char *s, size_t n)
{
	jw_reserve(w, n);
	if (w->err)
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

void jw_lit(struct jw *w, const char *s)
{
	jw_raw(w, s, strlen(s));
}

/* A comma is due unless the value opens its container. */
static void jw_sep(struct jw *w)
{
	if (!w->err && w->len > 0 && w->buf[w->len - 1] != '{' && w->buf[w->len - 1] != '[' &&
	    w->buf[w->len - 1] != ':')
		jw_raw(w, ",", 1);
}

void jw_string(struct jw *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	jw_raw(w, "\"", 1);
	for (size_t i = 0; i < n && !w->err; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };
			jw_raw(w, esc, 2);
		} else if (c < 0x20) {
			char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			jw_raw(w, esc, 6);
		} else {
			jw_raw(w, (const char *)&c, 1);
		}
	}
	jw_raw(w, "\"", 1);
}

void jw_key(struct jw *w, const char *name)
{
	jw_sep(w);
	jw_string(w, name, strlen(name));
	jw_raw(w, ":", 1);
}

void jw_open(struct jw *w, const char *name, char bracket)
{
	if (name != NULL)
		jw_key(w, name);
	else
		jw_sep(w);
	jw_raw(w, &bracket, 1);
}

void jw_close(struct jw *w, char bracket)
{
	jw_raw(w, &bracket, 1);
}

/* A fixed-buffer text member; a buffer without its NUL is refused. */
void jw_text(struct jw *w, const char *name, const char *s, size_t buf_size)
{
	size_t n = strnlen(s, buf_size);
	if (n == buf_size) {
		if (!w->err)
			w->err = -EINVAL;
		return;
	}
	jw_key(w, name);
	jw_string(w, s, n);
}

void jw_int(struct jw *w, const char *name, int64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%" PRId64, v);
	jw_key(w, name);
	jw_raw(w, num, (size_t)n);
}

void jw_bool(struct jw *w, const char *name, bool v)
{
	jw_key(w, name);
	jw_lit(w, v ? "true" : "false");
}

void jw_b64(struct jw *w, const char *name, const uint8_t *data, size_t len)
{
	if (len > 0 && data == NULL) {
		if (!w->err)
			w->err = -EINVAL;
		return;
	}
	if (len > HTTP_MAX_BODY) {
		if (!w->err)
			w->err = -EINVAL;
		return;
	}
	size_t n = b64url_encoded_len(len);
	jw_key(w, name);
	jw_raw(w, "\"", 1);
	jw_reserve(w, n);
	if (w->err)
		return;
	if (b64url_encode(data, len, w->buf + w->len, w->cap - w->len) != 0) {
		w->err = -EINVAL;
		return;
	}
	w->len += n;
	jw_raw(w, "\"", 1);
}

void jw_bytes(struct jw *w, const char *name, const struct wsop_bytes *b)
{
	jw_b64(w, name, b->data, b->len);
}

/* Hands the text to the caller, or wipes and frees it on failure. */
int jw_finish(struct jw *w, char **out, size_t *out_len)
{
	if (!w->err && !w->buf)
		w->err = -EINVAL;
	if (w->err) {
		if (w->buf != NULL) {
			if (w->secret)
				OPENSSL_cleanse(w->buf, w->cap);
			free(w->buf);
		}
		*out = NULL;
		if (out_len != NULL)
			*out_len = 0;
		return w->err;
	}
	*out = w->buf;
	if (out_len != NULL)
		*out_len = w->len;
	return 0;
}
