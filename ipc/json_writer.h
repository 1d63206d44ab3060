/*
 * The JSON writer of the WSOP codec (wsop_json.c): compact text with one
 * spelling (no "\/" escapes, no spaces), written by hand into a growable
 * buffer so that a body carrying a passphrase (secret) never leaves an
 * unwiped copy behind when the buffer grows. Every call after the first
 * failure does nothing; jw_finish reports it. Private to ipc/.
 */
#ifndef PKCS11WSOP_IPC_JSON_WRITER_H
#define PKCS11WSOP_IPC_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc/wsop_json.h"

struct jw {
	char *buf;
	size_t len, cap;
	bool secret; /* wipe every buffer this writer lets go of */
	int err;     /* first failure, sticky */
};

/* Raw text, as is. */
void jw_lit(struct jw *w, const char *s);
/* A JSON string of n bytes, escaped. */
void jw_string(struct jw *w, const char *s, size_t n);
/* "name": after a comma when one is due. */
void jw_key(struct jw *w, const char *name);
/* Opens an object or array ('{' or '['), as member name when not NULL. */
void jw_open(struct jw *w, const char *name, char bracket);
void jw_close(struct jw *w, char bracket);
/* A member of a fixed text buffer of buf_size bytes; a buffer without its
 * NUL fails with -EINVAL. */
void jw_text(struct jw *w, const char *name, const char *s, size_t buf_size);
void jw_int(struct jw *w, const char *name, int64_t v);
void jw_bool(struct jw *w, const char *name, bool v);
/* A base64url member; len > 0 with data NULL, or len over HTTP_MAX_BODY,
 * fails with -EINVAL. */
void jw_b64(struct jw *w, const char *name, const uint8_t *data, size_t len);
void jw_bytes(struct jw *w, const char *name, const struct wsop_bytes *b);
/* 0 and the text (malloc'd, NUL-terminated) in *out, or the first failure
 * with *out NULL and the buffer wiped (secret) and freed. */
int jw_finish(struct jw *w, char **out, size_t *out_len);

#endif
