/*
 * The channel between the PKCS #11 library (in the application process) and
 * its confined helper: one SOCK_SEQPACKET socketpair, one frame per record,
 * and at most one file descriptor (a connected TCP socket) riding along with
 * a CONNECT frame. This module is the only codec of that boundary; the
 * library, the helper and the fuzzers all use it.
 *
 * Framing. A frame is exactly one record: a 20-byte header, then the
 * payload. Every header field is little-endian and is encoded and decoded
 * byte by byte (no struct overlay):
 *
 *   offset size field
 *        0    4 magic       the bytes "WSC1"
 *        4    2 type        enum chan_type
 *        6    2 flags       CHAN_F_*; only the bits a type allows
 *        8    4 id          request id; an answer echoes its request's id
 *       12    4 conn        TLS connection handle, or 0 (see the rules)
 *       16    4 length      payload bytes that follow; must equal record - 20
 *       20    n payload
 *
 * Request ids are chosen by the library, non-zero, and unique among the
 * requests it has in flight (many threads share one channel, each on its
 * own connection handle). Id 0 means "answers no request" and appears only
 * on READY and on a channel-level ERROR.
 *
 * Types, who sends them, and what a frame of each type must look like
 * (anything else is refused with -EBADMSG):
 *
 *  library -> helper (CHAN_TO_HELPER)
 *   CONNECT   id!=0 conn=0  fd attached. Payload: the server's host name,
 *             1..255 bytes of 0x21..0x7e, used for name verification and
 *             SNI. The fd is a TCP socket the library has connected; the
 *             helper runs the TLS handshake on it.
 *             Answer: CONNECTED, or ERROR (conn 0).
 *   SEND      id!=0 conn!=0 payload 1..CHAN_MAX_PAYLOAD bytes to write on
 *             the TLS connection. Flag CHAN_F_REPLY_DATA: after writing,
 *             wait for the first bytes the server sends and answer with
 *             them, so that a request costs one round trip.
 *             Answer: SENT (no flag); DATA or EOF (flag); or ERROR.
 *   RECV      id!=0 conn!=0 payload exactly 8 bytes: u32 max bytes
 *             (1..CHAN_MAX_PAYLOAD), u32 timeout in ms (0..600000; 0 means
 *             "only what is already there").
 *             Answer: DATA (at most max bytes), EOF, or ERROR (TIMEOUT...).
 *   CLOSE     id!=0 conn!=0 empty. Answer: CLOSED, or ERROR (NO_CONN).
 *   PING      id!=0 conn=0  empty. Answer: PONG.
 *
 *  helper -> library (CHAN_TO_LIB)
 *   READY     id=0  conn=0  the first frame the helper sends after it has
 *             started and confined itself. Payload: u32 helper pid (1 ..
 *             INT32_MAX), then 0..256 bytes of text saying what it loaded.
 *   CONNECTED id!=0 conn!=0 the new connection's handle. Payload: the
 *             negotiated protocol, 1..32 bytes of 0x21..0x7e ("TLSv1.3").
 *   DATA      id!=0 conn!=0 payload 1..CHAN_MAX_PAYLOAD bytes the server sent.
 *   EOF       id!=0 conn!=0 empty: the server closed the connection.
 *   SENT      id!=0 conn!=0 empty: a SEND without CHAN_F_REPLY_DATA is done.
 *   CLOSED    id!=0 conn!=0 empty: the handle is gone.
 *   PONG      id!=0 conn=0  empty.
 *   ERROR     id any, conn any (the conn of the request it answers, 0 for a
 *             failed CONNECT); id 0 (a channel-level failure, e.g. the
 *             credentials could not be loaded at start) requires conn 0.
 *             Payload: u32 code (enum chan_error), then 0..512 bytes of
 *             text saying the cause, for the log.
 *
 * Common rules: flags are 0 except CHAN_F_REPLY_DATA on SEND; an fd is
 * attached to CONNECT and to nothing else; "text" is well-formed UTF-8
 * without control characters (U+0000..U+001F, U+007F..U+009F), so that a
 * peer cannot forge log lines; payload lengths are checked against
 * CHAN_MAX_PAYLOAD before anything else is looked at, and nothing here
 * allocates memory.
 *
 * Errors are negative errno values:
 *   -EBADMSG   a record that is not a valid frame for the direction
 *   -EINVAL    the caller's frame or arguments break the rules above
 *   -ENOSPC    the caller's buffer is too small
 *   -EMSGSIZE  a record larger than the buffer (MSG_TRUNC), or more file
 *              descriptors than the control buffer holds (MSG_CTRUNC)
 *   -ETIMEDOUT the deadline passed
 *   -EPIPE     the peer closed the channel
 *   other      from sendmsg/recvmsg/poll
 */
#ifndef PKCS11WSOP_IPC_CHANNEL_H
#define PKCS11WSOP_IPC_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CHAN_MAGIC      0x31435357u /* "WSC1" read as a little-endian u32 */
#define CHAN_HEADER_LEN 20u
/* A 64 KiB single-part request or answer (data + HTTP head) fits one frame;
 * a record this size fits the default SO_SNDBUF (212992) of a socketpair. */
#define CHAN_MAX_PAYLOAD      131072u
#define CHAN_MAX_FRAME        (CHAN_HEADER_LEN + CHAN_MAX_PAYLOAD)
#define CHAN_HOST_MAX         255u
#define CHAN_PROTO_MAX        32u
#define CHAN_RECV_ARGS_LEN    8u
#define CHAN_RECV_TIMEOUT_MAX 600000u
#define CHAN_READY_TEXT_MAX   256u
#define CHAN_ERROR_TEXT_MAX   512u

enum chan_dir {
	CHAN_TO_HELPER = 0, /* frames the library sends */
	CHAN_TO_LIB = 1,    /* frames the helper sends */
};

/* The high bit of a type says who sends it: set for the helper. */
enum chan_type {
	CHAN_T_CONNECT = 0x0001,
	CHAN_T_SEND = 0x0002,
	CHAN_T_RECV = 0x0003,
	CHAN_T_CLOSE = 0x0004,
	CHAN_T_PING = 0x0005,
	CHAN_T_READY = 0x8001,
	CHAN_T_CONNECTED = 0x8002,
	CHAN_T_DATA = 0x8003,
	CHAN_T_EOF = 0x8004,
	CHAN_T_SENT = 0x8005,
	CHAN_T_CLOSED = 0x8006,
	CHAN_T_PONG = 0x8007,
	CHAN_T_ERROR = 0x8008,
};

#define CHAN_F_REPLY_DATA 0x0001u /* SEND only */

/*
 * Codes an ERROR frame carries, one row each: the value (part of the wire
 * format), the name, the cause the library logs, the errno it becomes,
 * and what the library's retry logic does with it: retry (another attempt
 * may succeed; a certificate refused either way would be refused again),
 * stale (the connection is gone: take a new one), server (the server or
 * the way to it failed: set that server aside; the helper's own refusals
 * say nothing about the server).
 *
 * X(ID, value, name, cause, errno, retry, stale, server)
 */
#define CHAN_ERROR_TABLE(X)                                                                        \
	X(TLS_UNKNOWN_CA, 1, "TLS_UNKNOWN_CA", "unknown CA", EKEYREJECTED, false, false, true)     \
	X(TLS_EXPIRED, 2, "TLS_EXPIRED", "certificate expired", EKEYREJECTED, false, false, true)  \
	X(TLS_NAME_MISMATCH, 3, "TLS_NAME_MISMATCH", "server name mismatch", EKEYREJECTED, false,  \
	  false, true)                                                                             \
	X(TLS_HANDSHAKE, 4, "TLS_HANDSHAKE", "TLS handshake failed", EKEYREJECTED, true, false,    \
	  true)                                                                                    \
	X(TLS_PROTOCOL, 5, "TLS_PROTOCOL", "TLS error", ECONNRESET, true, true, true)              \
	X(IO, 6, "IO", "connection failed", ECONNRESET, true, true, true)                          \
	X(TIMEOUT, 7, "TIMEOUT", "timed out", ETIMEDOUT, true, false, true)                        \
	X(NO_CONN, 8, "NO_CONN", "connection closed", ECONNRESET, true, true, false)               \
	X(BAD_REQUEST, 9, "BAD_REQUEST", "helper refused the request", EIO, false, false, false)   \
	X(CREDENTIALS, 10, "CREDENTIALS", "client credentials unusable or refused", EKEYREJECTED,  \
	  false, false, true)                                                                      \
	X(LIMIT, 11, "LIMIT", "too many connections in the helper", EMFILE, true, false, false)    \
	X(INTERNAL, 12, "INTERNAL", "helper internal error", EIO, false, false, false)

enum chan_error {
#define CHAN_ERROR_ENUM(id, value, name, cause, err, retry, stale, server) CHAN_E_##id = value,
	CHAN_ERROR_TABLE(CHAN_ERROR_ENUM)
#undef CHAN_ERROR_ENUM
};
#define CHAN_E_MAX CHAN_E_INTERNAL

struct chan_error_row {
	const char *name;
	const char *cause;
	int err; /* positive errno */
	bool retry, stale, server;
};

/* A frame. After chan_decode/chan_recv, payload points into the caller's
 * buffer and is valid as long as that buffer is; it is NULL when len is 0. */
struct chan_frame {
	uint16_t type;
	uint16_t flags;
	uint32_t id;
	uint32_t conn;
	const uint8_t *payload;
	uint32_t len;
};

/* Checks f against the rules of its type (the fd rule excepted) and writes
 * the record to buf. Returns 0 and *out_len, -EINVAL, or -ENOSPC. */
int chan_encode(const struct chan_frame *f, uint8_t *buf, size_t cap, size_t *out_len);

/* Decodes the record buf[0..len) as a frame travelling in direction dir;
 * fd_present says whether a descriptor came with it. Validates every field;
 * out->payload points into buf. Returns 0 or -EBADMSG. */
int chan_decode(const uint8_t *buf, size_t len, enum chan_dir dir, bool fd_present,
                struct chan_frame *out);

/* Sends f as one record, with fd (CONNECT only; else -1) attached. The fd
 * stays the caller's: the peer receives a duplicate. Never raises SIGPIPE.
 * Retries on EINTR; waits for room at most timeout_ms (negative: no limit).
 * Safe to call from several threads on one socket: a record is atomic.
 * Returns 0, -EINVAL, -ETIMEDOUT, -EPIPE or another -errno (-EMSGSIZE when
 * SO_SNDBUF was made smaller than a record: keep the default). */
int chan_send(int sock, const struct chan_frame *f, int fd, int timeout_ms);

/* Waits at most timeout_ms (negative: no limit) for one record and decodes it
 * as travelling in direction dir into out (payload inside buf). cap must be
 * at least CHAN_MAX_FRAME. On success *fd_out is the descriptor of a CONNECT
 * frame (close-on-exec, now the caller's) and -1 otherwise; fd_out may be
 * NULL only when dir is CHAN_TO_LIB. On every failure no descriptor is left
 * open. Returns 0, -EMSGSIZE (record or descriptors truncated), -EBADMSG
 * (invalid frame, an fd where none belongs, more than one fd), -ETIMEDOUT,
 * -EPIPE (peer closed; an empty record counts as closed), -EINVAL, or
 * another -errno. */
int chan_recv(int sock, uint8_t *buf, size_t cap, enum chan_dir dir, struct chan_frame *out,
              int *fd_out, int timeout_ms);

/* chan_recv in one system call: a recvmsg that blocks until a record comes
 * or the socket's receive timeout (SO_RCVTIMEO, which the caller sets; the
 * socket must be blocking) passes. The same checks, results and
 * descriptor rules as chan_recv, plus -ETIMEDOUT when the receive timeout
 * passed and -EINTR when a signal came first. */
int chan_recv_blocking(int sock, uint8_t *buf, size_t cap, enum chan_dir dir,
                       struct chan_frame *out, int *fd_out);

/* Payload of RECV. */
struct chan_recv_args {
	uint32_t max_bytes;  /* 1..CHAN_MAX_PAYLOAD */
	uint32_t timeout_ms; /* 0..CHAN_RECV_TIMEOUT_MAX */
};
/* Returns 0 or -EINVAL (out of range). */
int chan_recv_args_encode(const struct chan_recv_args *a, uint8_t out[CHAN_RECV_ARGS_LEN]);
/* f must be a RECV frame; returns 0 or -EINVAL. */
int chan_recv_args_parse(const struct chan_frame *f, struct chan_recv_args *a);

/* Payload of READY. text NULL means empty. Returns 0 and *out_len, -EINVAL
 * (pid 0 or over INT32_MAX, text too long or not clean UTF-8), or -ENOSPC
 * (cap below 4 + strlen(text)). */
int chan_ready_encode(uint32_t pid, const char *text, uint8_t *out, size_t cap, uint32_t *out_len);
struct chan_ready {
	uint32_t pid;
	char text[CHAN_READY_TEXT_MAX + 1]; /* NUL-terminated */
};
/* f must be a valid READY frame; returns 0 or -EINVAL. */
int chan_ready_parse(const struct chan_frame *f, struct chan_ready *r);

/* Payload of ERROR, as chan_ready_encode; code must be an enum chan_error. */
int chan_error_encode(uint32_t code, const char *text, uint8_t *out, size_t cap, uint32_t *out_len);
struct chan_error_info {
	uint32_t code;
	char text[CHAN_ERROR_TEXT_MAX + 1]; /* NUL-terminated */
};
/* f must be a valid ERROR frame; returns 0 or -EINVAL. */
int chan_error_parse(const struct chan_frame *f, struct chan_error_info *e);

/* Copies the payload of a valid CONNECT (host name) or CONNECTED (protocol)
 * frame into out with a NUL. Returns 0, -EINVAL (another type or an invalid
 * payload) or -ENOSPC (cap <= len). */
int chan_payload_text(const struct chan_frame *f, char *out, size_t cap);

/* "CONNECT", "TLS_UNKNOWN_CA"...; "UNKNOWN" for values not defined above. */
const char *chan_type_name(uint16_t type);
const char *chan_error_name(uint32_t code);
/* The row of code; an unknown code reads as CHAN_E_INTERNAL's. */
const struct chan_error_row *chan_error_row(uint32_t code);

#endif
