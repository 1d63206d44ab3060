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
 *      HTTP_ERR_URI_TOO_LONG (-ENAMETOOLONG)  request target longer than
 *                 HTTP_MAX_TARGET (reported as soon as the byte past the
 *                 limit is seen, so that the server can answer 414)
 *  - Strictness (both parsers):
 *      every line ends in CRLF; a bare LF or a lone CR is -EBADMSG; no
 *      empty lines before the start line; obs-fold (a header line starting
 *      with SP or HTAB) is -EBADMSG; header names are RFC 9110 tokens
 *      directly followed by ':'; values hold no CTL but HTAB (so no NUL).
 *      Request line: METHOD (A-Z, 1..HTTP_MAX_METHOD) SP target ('/' then
 *      visible ASCII 0x21-0x7e) SP HTTP/1.0|HTTP/1.1. A well-formed
 *      HTTP/d.d of another version is -ENOTSUP.
 *      Status line: HTTP/1.x SP 3 digits (200..599; interim 1xx answers are
 *      not part of WSOP and are -EBADMSG) SP reason (may be empty).
 *      Content-Length: digits only after trimming blanks; repeated headers
 *      must agree; any digit string above HTTP_MAX_BODY is -E2BIG.
 *      Transfer-Encoding in any form is -ENOTSUP. An X-WSOP-Activation
 *      value (blanks trimmed) over HTTP_MAX_ACTIVATION is -EMSGSIZE.
 *      A request without Content-Length has an empty body. A response
 *      without it is -EBADMSG, except 204 and 304 whose body is always
 *      empty (their Content-Length, if any, is checked but not used).
 *      keep_alive: HTTP/1.1 unless Connection lists "close"; HTTP/1.0 only
 *      when Connection lists "keep-alive" (and not "close").
 *  - Serialisers write HTTP/1.1 and refuse (-EINVAL) a bad method or
 *    target, a status outside 200..599, header names that are not tokens,
 *    values with CTLs (CR, LF...), extra headers that would contradict what
 *    they write themselves (Content-Length, Transfer-Encoding; Host in
 *    requests; Connection in responses) and a body on 204/304. A body above
 *    HTTP_MAX_BODY is -E2BIG, a head above HTTP_MAX_HEAD or too many headers
 *    -EMSGSIZE: what they produce always parses on the other side.
 */
#ifndef PKCS11WSOP_IPC_HTTP_H
#define PKCS11WSOP_IPC_HTTP_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_HEAD    8192 /* start line + header lines + CRLF CRLF */
#define HTTP_MAX_HEADERS 32
#define HTTP_MAX_BODY    (1u << 20) /* 1 MiB */
#define HTTP_MAX_TARGET  1024
#define HTTP_MAX_METHOD  15
/* X-WSOP-Activation (the activation token): a longer value is -EMSGSIZE
 * (431), like an oversized head. Equal to WSOP_ACTIVATION_MAX. */
#define HTTP_MAX_ACTIVATION 512

/* Distinct from the other errors so that the server can answer 414. */
#define HTTP_ERR_URI_TOO_LONG (-ENAMETOOLONG)

struct http_header {
	const char *name;  /* points into the message's head copy, NUL-terminated */
	const char *value; /* leading/trailing blanks removed */
};

struct http_message {
	/* response side */
	int status;
	/* both */
	int minor_version; /* 0 or 1 */
	bool keep_alive;   /* from version and Connection header */
	size_t header_count;
	char *head;    /* owned copy of the header block */
	uint8_t *body; /* owned, NUL-terminated (not counted in body_len); NULL when empty */
	size_t body_len;
	/* The arrays come last: they are read only up to header_count or
	 * their NUL, so http_message_init zeroes what comes before them and
	 * empties the strings, not their 1.5 KiB (a client inits and clears
	 * a message several times per request). */
	struct http_header headers[HTTP_MAX_HEADERS];
	/* request side */
	char method[HTTP_MAX_METHOD + 1];
	char target[HTTP_MAX_TARGET + 1];
};

void http_message_init(struct http_message *msg);
/* Frees what the message owns and re-initialises it. */
void http_message_clear(struct http_message *msg);

/* Parse one request / response from data[0..len).
 * Returns 1 and sets *consumed when a whole message was parsed (bytes past
 * *consumed belong to the next message), 0 when more bytes are needed,
 * or a negative errno (see above). On error or 0 the message is left clear.
 * msg is overwritten without being freed first: clear a parsed message
 * before parsing into it again. The body is wiped by http_message_clear. */
int http_parse_request(const uint8_t *data, size_t len, struct http_message *msg, size_t *consumed);
int http_parse_response(const uint8_t *data, size_t len, struct http_message *msg,
                        size_t *consumed);
/* As http_parse_request; when it answers 0 after a whole, valid head, *need
 * is the length of the whole request (head and body): calling again with
 * fewer bytes would answer 0 again. Otherwise *need is 0. */
int http_parse_request_need(const uint8_t *data, size_t len, struct http_message *msg,
                            size_t *consumed, size_t *need);

/* Case-insensitive header lookup; NULL when absent. */
const char *http_header_get(const struct http_message *msg, const char *name);

/* Serialisers. On success return 0 and a malloc'd buffer in *out / *out_len
 * that the caller frees. Content-Length is always written. extra headers are
 * written as given (names and values must not contain CR or LF: -EINVAL). */
int http_format_request(const char *method, const char *target, const char *host,
                        const struct http_header *extra, size_t extra_count, const uint8_t *body,
                        size_t body_len, uint8_t **out, size_t *out_len);
int http_format_response(int status, bool keep_alive, const struct http_header *extra,
                         size_t extra_count, const uint8_t *body, size_t body_len, uint8_t **out,
                         size_t *out_len);

/* Standard reason phrase ("Not Found"...), "Unknown" for others. */
const char *http_reason(int status);

#endif
