/*
 * Building answers: every JSON body goes through the wsop_json encoders.
 *
 * Contract: the reply_* functions replace whatever resp held (freeing it)
 * and never fail from the caller's point of view: when an encoder fails the
 * answer becomes 500 internal (with a body if even that can be encoded).
 */
#ifndef WSOPD_REPLY_H
#define WSOPD_REPLY_H

#include "ipc/wsop_errors.h"
#include <stddef.h>
#include <stdint.h>

#include "server/request.h"

void reply_init(struct wsop_response *resp);
/* Wipes (the body may hold plaintext) and frees the body; re-inits. */
void reply_free(struct wsop_response *resp);

/* The error's HTTP status + {"error":{"code","message"}}; the note for the
 * log is the code and the message. */
void reply_error(struct wsop_response *resp, enum wsop_error error, const char *message);
/* The same for a code given by name (a decoder's); an unknown name is
 * 500 internal. */
void reply_code(struct wsop_response *resp, const char *code, const char *message);
/* Takes ownership of body (from an encoder); rc is the encoder's result:
 * non-zero gives 500 internal and frees nothing (there is nothing). */
void reply_json(struct wsop_response *resp, int status, int rc, char *body, size_t body_len);
/* 200 with body[0..body_len) as application/octet-stream; takes ownership
 * of body (malloc'ed), which is wiped when freed. */
void reply_binary(struct wsop_response *resp, uint8_t *body, size_t body_len);
/* A status without a body (204). */
void reply_empty(struct wsop_response *resp, int status);

#endif
