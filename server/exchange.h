/*
 * One request's way through wsopd, whatever thread reads the connection:
 * route it, format the answer, log it. Shared by the connection thread
 * (conn.c) and the event loop (evloop.c) so both behave the same.
 *
 * Contract:
 *  - exchange_route() runs the router on a parsed request of the client
 *    named by *names and fills *resp (reply_init'd by the caller).
 *  - exchange_format() writes the answer's bytes (malloc'd; the caller
 *    wipes and frees them: answers of decrypt carry plaintext).
 *  - exchange_log() writes the INFO line of an answered request and the
 *    WARNING of a refusal; never a body.
 *  - exchange_codec_error() turns a parser error into its answer (400,
 *    413, 414, 431 or 500) that closes the connection.
 *  - exchange_inline_ok(): whether a request may run on the thread that
 *    reads the connection without waiting on anything slow: encrypt,
 *    decrypt, random and health, only with a store of this node alone
 *    (their handlers then touch memory, or SQLite reads under the store
 *    mutex, never a KDF, an fsync, the network or a slow-down).
 */
#ifndef WSOPD_EXCHANGE_H
#define WSOPD_EXCHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc/http.h"
#include "server/app.h"
#include "server/listener.h"
#include "server/request.h"
#include "server/tls.h"

/* Who is at the other end of a connection, once its handshake is done. */
struct conn_names {
	char peer[LISTENER_ADDR_MAX];
	char client_id[TLS_CLIENT_ID_LEN + 1];
	uint8_t client_fp[TLS_CLIENT_FP_LEN];
	char cn[TLS_CN_MAX];
	char subject[TLS_SUBJECT_MAX];
	char serial[TLS_SERIAL_MAX];
};

void exchange_route(struct app *app, const struct conn_names *names, const struct http_message *msg,
                    struct wsop_response *resp);

/* 0 or a negative errno. */
int exchange_format(const struct wsop_response *resp, bool keep_alive, uint8_t **out,
                    size_t *out_len);

/* start: mono_ms() when the request was parsed. */
void exchange_log(const struct conn_names *names, const struct http_message *msg,
                  const struct wsop_response *resp, int64_t start);

void exchange_codec_error(int rc, struct wsop_response *resp);

bool exchange_inline_ok(const struct http_message *msg, bool store_shared);

#endif
