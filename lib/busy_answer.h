/*
 * Recognises a server's "503" refusal from the first bytes of its answer,
 * before the HTTP layer has read the whole of it: the retry policy
 * (retry_transport.c) sends such a request again after a back-off, since
 * the server refused it before doing anything; and a server failure
 * (500, 502, 504), on which the request moves to another server when HOST
 * lists several.
 *
 * Contract: busy_answer() is true when p[0..n) starts with a status line
 * "HTTP/1.x 503" followed by a blank or CR; it reads no byte past n, and
 * any other bytes (shorter, another version or status) are false.
 */
#ifndef PKCS11WSOP_LIB_BUSY_ANSWER_H
#define PKCS11WSOP_LIB_BUSY_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool busy_answer(const uint8_t *p, size_t n);

/* True when p[0..n) starts with a status line "HTTP/1.x 500", 502 or 504
 * (the server, or a proxy before it, failed): with several servers the
 * request is sent to another one. Reads no byte past n. */
bool failed_server_answer(const uint8_t *p, size_t n);

#endif
