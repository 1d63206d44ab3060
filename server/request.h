/*
 * One HTTP exchange as the router and handlers see it.
 *
 * Contract:
 *  - A handler reads *req and fills *resp through the reply_* functions
 *    (reply.h); it never writes to the connection.
 *  - resp->body is malloc'd JSON text (or NULL) that the connection code
 *    sends, then wipes and frees with reply_free(): answers of decrypt
 *    carry plaintext.
 *  - resp->delay_ms asks the connection to wait that long before sending,
 *    after the request slot has been released (the wrong-passphrase
 *    slow-down sleeps without holding any lock or slot).
 */
#ifndef WSOPD_REQUEST_H
#define WSOPD_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc/http.h"
#include "ipc/wsop_names.h"
#include "server/tls.h"

struct wsop_request {
	const struct http_message *http;
	const char *path;                     /* target without its query, NUL-terminated */
	const char *query;                    /* after '?', or NULL when the target has none */
	const char *client_id;                /* SHA-256 of the client certificate, hex */
	uint8_t client_fp[TLS_CLIENT_FP_LEN]; /* the same, raw (idempotency records) */
	const char *client_cn;                /* for logs */
	const char *client_subject;           /* RFC 2253, for audit lines */
	const char *client_serial;            /* hex, for audit lines */
};

#define REPLY_NOTE_MAX 160

struct wsop_response {
	int status;
	char *body; /* JSON text (raw bytes when binary), or NULL */
	size_t body_len;
	bool binary; /* body is application/octet-stream */
	unsigned delay_ms;
	bool close;                /* close the connection after this answer */
	char allow[32];            /* Allow header of a 405, or "" */
	char note[REPLY_NOTE_MAX]; /* why a request was refused, for the log */
	/* The softcard the request acted on, once a handler knows it ("" when
	 * none): for the audit line, which the path alone cannot always name
	 * (keys and crypto requests name a group or a key). */
	char softcard[WSOP_SOFTCARD_ID_LEN + 1];
};

#endif
