/*
 * HTTP/1.1 message codec shared by wsopd, the client code and the fuzzers.
 * Only what WSOP needs: Content-Length bodies (no chunked encoding),
 * keep-alive, a bounded head and a bounded body.
 *
 * Contract:
 *  - Parsers never allocate before the bound that governs the allocation is
 *    checked: the head is scanned inside at most HTTP_MAX_HEAD bytes, the
 *    Content-Length is parsed strictly (digits only, no sign, no overflow,
 *    one value) and compared with HTTP_MAX_BODY before the body is copied.
 *  - Parsers are incremental: call again with more bytes when they answer 0.
 *  - Errors are negative errno values:
 *      -EMSGSIZE  head larger than HTTP_MAX_HEAD, or more than HTTP_MAX_HEADERS
 *      -E2BIG     Content-Length larger than HTTP_MAX_BODY
 *      -EBADMSG   malformed start line, header, or Content-Length
 *      -ENOTSUP   HTTP version other than 1.0/1.1, or Transfer-Encoding
 *      -ENOMEM    allocation failed
 */
#ifndef PKCS11WSOP_IPC_HTTP_H
#define PKCS11WSOP_IPC_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_HEAD     8192      /* start line + header lines + CRLF CRLF */
#define HTTP_MAX_HEADERS  32
#define HTTP_MAX_BODY     (1u << 20) /* 1 MiB */
#define HTTP_MAX_TARGET   1024
#define HTTP_MAX_METHOD   15

struct http_header {
	const char *name;  /* points into the message's head copy, NUL-terminated */
	const char *value; /* leading/trailing blanks removed */
};

struct http_message {
	/* request side */
	char method[HTTP_MAX_METHOD + 1];
	char target[HTTP_MAX_TARGET + 1];
	/* response side */
	int status;
	/* both */
	int minor_version;   /* 0 or 1 */
	bool keep_alive;     /* from version and Connection header */
	struct http_header headers[HTTP_MAX_HEADERS];
	size_t header_count;
	char *head;          /* owned copy of the header block */
	uint8_t *body;       /* owned, NUL-terminated (not counted in body_len); NULL when empty */
	size_t body_len;
};

void http_message_init(struct http_message *msg);
/* Frees what the message owns and re-initialises it. */
void http_message_clear(struct http_message *msg);

/* Parse one request / response from data[0..len).
 * Returns 1 and sets *consumed when a whole message was parsed (bytes past
 * *consumed belong to the next message), 0 when more bytes are needed,
 * or a negative errno (see above). On error or 0 the message is left clear. */
int http_parse_request(const uint8_t *data, size_t len, struct http_message *msg,
		       size_t *consumed);
int http_parse_response(const uint8_t *data, size_t len, struct http_message *msg,
			size_t *consumed);

/* Case-insensitive header lookup; NULL when absent. */
const char *http_header_get(const struct http_message *msg, const char *name);

/* Serialisers. On success return 0 and a malloc'd buffer in *out / *out_len
 * that the caller frees. Content-Length is always written. extra headers are
 * written as given (names and values must not contain CR or LF: -EINVAL). */
int http_format_request(const char *method, const char *target, const char *host,
			const struct http_header *extra, size_t extra_count,
			const uint8_t *body, size_t body_len, uint8_t **out, size_t *out_len);
int http_format_response(int status, bool keep_alive, const struct http_header *extra,
			 size_t extra_count, const uint8_t *body, size_t body_len,
			 uint8_t **out, size_t *out_len);

/* Standard reason phrase ("Not Found"...), "Unknown" for others. */
const char *http_reason(int status);

#endif
