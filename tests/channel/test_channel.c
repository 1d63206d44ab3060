/*
 * The channel codec (ipc/channel.h) without sockets: every type round-trips,
 * and every rule of channel.h refuses what breaks it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ipc/channel.h"

static uint8_t frame_buf[CHAN_MAX_FRAME + 64];
static uint8_t big_payload[CHAN_MAX_PAYLOAD + 1];

static const uint8_t recv_args_payload[8] = { 0x00, 0x10, 0, 0, 0xe8, 0x03, 0, 0 };
static const uint8_t ready_payload[] = "\x39\x30\x00\x00loaded client.pem, Gr\303\274\303\237e";
static const uint8_t error_payload[] = "\x03\x00\x00\x00name mismatch";

struct valid_case {
	struct chan_frame frame;
	enum chan_dir dir;
	bool fd;
};

static const struct valid_case valid_cases[] = {
	{ { CHAN_T_CONNECT, 0, 1, 0, (const uint8_t *)"wsop.example.com", 16 },
	  CHAN_TO_HELPER,
	  true },
	{ { CHAN_T_SEND, 0, 2, 7, (const uint8_t *)"GET /", 5 }, CHAN_TO_HELPER, false },
	{ { CHAN_T_SEND, CHAN_F_REPLY_DATA, 3, 7, (const uint8_t *)"GET /", 5 },
	  CHAN_TO_HELPER,
	  false },
	{ { CHAN_T_RECV, 0, 4, 7, recv_args_payload, 8 }, CHAN_TO_HELPER, false },
	{ { CHAN_T_CLOSE, 0, 5, 7, NULL, 0 }, CHAN_TO_HELPER, false },
	{ { CHAN_T_PING, 0, 6, 0, NULL, 0 }, CHAN_TO_HELPER, false },
	{ { CHAN_T_READY, 0, 0, 0, ready_payload, sizeof(ready_payload) - 1 }, CHAN_TO_LIB, false },
	{ { CHAN_T_CONNECTED, 0, 1, 7, (const uint8_t *)"TLSv1.3", 7 }, CHAN_TO_LIB, false },
	{ { CHAN_T_DATA, 0, 3, 7, (const uint8_t *)"HTTP/1.1 200 OK\r\n", 17 },
	  CHAN_TO_LIB,
	  false },
	{ { CHAN_T_EOF, 0, 4, 7, NULL, 0 }, CHAN_TO_LIB, false },
	{ { CHAN_T_SENT, 0, 2, 7, NULL, 0 }, CHAN_TO_LIB, false },
	{ { CHAN_T_CLOSED, 0, 5, 7, NULL, 0 }, CHAN_TO_LIB, false },
	{ { CHAN_T_PONG, 0, 6, 0, NULL, 0 }, CHAN_TO_LIB, false },
	{ { CHAN_T_ERROR, 0, 1, 0, error_payload, sizeof(error_payload) - 1 }, CHAN_TO_LIB, false },
	{ { CHAN_T_ERROR, 0, 9, 7, error_payload, sizeof(error_payload) - 1 }, CHAN_TO_LIB, false },
	{ { CHAN_T_ERROR, 0, 0, 0, error_payload, sizeof(error_payload) - 1 }, CHAN_TO_LIB, false },
};

#define N_VALID (sizeof(valid_cases) / sizeof(valid_cases[0]))

static size_t encode_ok(const struct chan_frame *f)
{
	size_t len = 0;

	assert_int_equal(chan_encode(f, frame_buf, sizeof(frame_buf), &len), 0);
	return len;
}

/* Encodes f and decodes the record again with the given direction and fd. */
static int decode_as(const struct chan_frame *f, enum chan_dir dir, bool fd)
{
	struct chan_frame out;
	size_t len = encode_ok(f);

	return chan_decode(frame_buf, len, dir, fd, &out);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Builds a record by hand, bypassing the encoder's own checks. */
static size_t raw_record(uint16_t type, uint16_t flags, uint32_t id, uint32_t conn,
                         const void *payload, uint32_t len)
{
	memcpy(frame_buf, "WSC1", 4);
	frame_buf[4] = (uint8_t)type;
	frame_buf[5] = (uint8_t)(type >> 8);
	frame_buf[6] = (uint8_t)flags;
	frame_buf[7] = (uint8_t)(flags >> 8);
	put_le32(frame_buf + 8, id);
	put_le32(frame_buf + 12, conn);
	put_le32(frame_buf + 16, len);
	if (len > 0) {
		memcpy(frame_buf + CHAN_HEADER_LEN, payload, len);
	}
	return CHAN_HEADER_LEN + len;
}

static int decode_raw(size_t len, enum chan_dir dir, bool fd)
{
	struct chan_frame out;

	return chan_decode(frame_buf, len, dir, fd, &out);
}

static void every_type_round_trips(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_VALID; i++) {
		const struct valid_case *c = &valid_cases[i];
		struct chan_frame out;
		size_t len = encode_ok(&c->frame);

		assert_int_equal(len, CHAN_HEADER_LEN + c->frame.len);
		assert_int_equal(chan_decode(frame_buf, len, c->dir, c->fd, &out), 0);
		assert_int_equal(out.type, c->frame.type);
		assert_int_equal(out.flags, c->frame.flags);
		assert_int_equal(out.id, c->frame.id);
		assert_int_equal(out.conn, c->frame.conn);
		assert_int_equal(out.len, c->frame.len);
		if (out.len > 0) {
			assert_ptr_equal(out.payload, frame_buf + CHAN_HEADER_LEN);
			assert_memory_equal(out.payload, c->frame.payload, out.len);
		} else {
			assert_null(out.payload);
		}
	}
}

static void header_is_little_endian_wire_layout(void **state)
{
	static const uint8_t expect[] = { 'W',  'S',  'C',  '1',  0x02, 0x00, 0x01,
		                          0x00, 0x04, 0x03, 0x02, 0x01, 0x08, 0x07,
		                          0x06, 0x05, 0x01, 0x00, 0x00, 0x00, 'x' };
	struct chan_frame f = { CHAN_T_SEND, CHAN_F_REPLY_DATA,    0x01020304,
		                0x05060708,  (const uint8_t *)"x", 1 };
	size_t len = encode_ok(&f);

	(void)state;
	assert_int_equal(len, sizeof(expect));
	assert_memory_equal(frame_buf, expect, sizeof(expect));
}

static void largest_payload_round_trips(void **state)
{
	struct chan_frame f = { CHAN_T_DATA, 0, 1, 1, big_payload, CHAN_MAX_PAYLOAD };
	struct chan_frame out;
	size_t len = encode_ok(&f);

	(void)state;
	assert_int_equal(len, CHAN_MAX_FRAME);
	assert_int_equal(chan_decode(frame_buf, len, CHAN_TO_LIB, false, &out), 0);
	assert_int_equal(out.len, CHAN_MAX_PAYLOAD);
}

static void truncated_header_is_refused(void **state)
{
	struct chan_frame f = { CHAN_T_PING, 0, 1, 0, NULL, 0 };
	size_t len = encode_ok(&f);
	struct chan_frame out;

	(void)state;
	assert_int_equal(len, CHAN_HEADER_LEN);
	for (size_t n = 0; n < CHAN_HEADER_LEN; n++) {
		assert_int_equal(chan_decode(frame_buf, n, CHAN_TO_HELPER, false, &out), -EBADMSG);
	}
	assert_int_equal(chan_decode(NULL, 0, CHAN_TO_HELPER, false, &out), -EBADMSG);
}

static void bad_magic_is_refused(void **state)
{
	struct chan_frame f = { CHAN_T_PING, 0, 1, 0, NULL, 0 };
	size_t len;

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		len = encode_ok(&f);
		frame_buf[i] ^= 0x20;
		assert_int_equal(decode_raw(len, CHAN_TO_HELPER, false), -EBADMSG);
	}
}

static void unknown_type_is_refused(void **state)
{
	static const uint16_t unknown[] = {
		0x0000, 0x0006, 0x00ff, 0x8000, 0x8009, 0xffff, 0x0081
	};

	(void)state;
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		size_t len = raw_record(unknown[i], 0, 1, 0, NULL, 0);
		struct chan_frame f = { unknown[i], 0, 1, 0, NULL, 0 };

		assert_int_equal(decode_raw(len, CHAN_TO_HELPER, false), -EBADMSG);
		assert_int_equal(decode_raw(len, CHAN_TO_LIB, false), -EBADMSG);
		assert_int_equal(chan_encode(&f, frame_buf, sizeof(frame_buf), &len), -EINVAL);
	}
}

static void wrong_direction_is_refused(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_VALID; i++) {
		const struct valid_case *c = &valid_cases[i];
		enum chan_dir other = c->dir == CHAN_TO_HELPER ? CHAN_TO_LIB : CHAN_TO_HELPER;

		assert_int_equal(decode_as(&c->frame, other, c->fd), -EBADMSG);
	}
}

static void id_zero_is_refused(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_VALID; i++) {
		const struct valid_case *c = &valid_cases[i];
		size_t len;

		if (c->frame.type == CHAN_T_READY || c->frame.type == CHAN_T_ERROR) {
			continue;
		}
		len = encode_ok(&c->frame);
		memset(frame_buf + 8, 0, 4);
		assert_int_equal(decode_raw(len, c->dir, c->fd), -EBADMSG);
	}
}

static void ready_answers_no_request(void **state)
{
	struct chan_frame f = valid_cases[6].frame;
	size_t len;

	(void)state;
	assert_int_equal(f.type, CHAN_T_READY);
	f.id = 5;
	assert_int_equal(chan_encode(&f, frame_buf, sizeof(frame_buf), &len), -EINVAL);
	len = raw_record(CHAN_T_READY, 0, 5, 0, f.payload, f.len);
	assert_int_equal(decode_raw(len, CHAN_TO_LIB, false), -EBADMSG);
}

static void channel_error_has_no_conn(void **state)
{
	size_t len = raw_record(CHAN_T_ERROR, 0, 0, 7, error_payload, sizeof(error_payload) - 1);

	(void)state;
	assert_int_equal(decode_raw(len, CHAN_TO_LIB, false), -EBADMSG);
}

static void payload_over_max_is_refused(void **state)
{
	struct chan_frame f = { CHAN_T_DATA, 0, 1, 1, big_payload, CHAN_MAX_PAYLOAD + 1 };
	size_t len;

	(void)state;
	assert_int_equal(chan_encode(&f, frame_buf, sizeof(frame_buf), &len), -EINVAL);
	len = raw_record(CHAN_T_DATA, 0, 1, 1, big_payload, CHAN_MAX_PAYLOAD + 1);
	assert_int_equal(decode_raw(len, CHAN_TO_LIB, false), -EBADMSG);
	/* A huge length field on a short record. */
	len = raw_record(CHAN_T_DATA, 0, 1, 1, "abc", 3);
	put_le32(frame_buf + 16, 0xffffffffu);
	assert_int_equal(decode_raw(len, CHAN_TO_LIB, false), -EBADMSG);
}

static void length_field_must_match_record(void **state)
{
	struct chan_frame f = { CHAN_T_DATA, 0, 1, 1, (const uint8_t *)"abcdef", 6 };
	size_t len;

	(void)state;
	len = encode_ok(&f);
	assert_int_equal(decode_raw(len - 1, CHAN_TO_LIB, false), -EBADMSG);
	assert_int_equal(decode_raw(len + 1, CHAN_TO_LIB, false), -EBADMSG);
	put_le32(frame_buf + 16, 5);
	assert_int_equal(decode_raw(len, CHAN_TO_LIB, false), -EBADMSG);
	put_le32(frame_buf + 16, 7);
	assert_int_equal(decode_raw(len, CHAN_TO_LIB, false), -EBADMSG);
}

static void conn_rules_are_enforced(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_VALID; i++) {
		const struct valid_case *c = &valid_cases[i];
		size_t len;

		if (c->frame.type == CHAN_T_ERROR) {
			continue; /* any conn */
		}
		len = encode_ok(&c->frame);
		put_le32(frame_buf + 12, c->frame.conn == 0 ? 9 : 0);
		assert_int_equal(decode_raw(len, c->dir, c->fd), -EBADMSG);
	}
}

static void fd_only_with_connect(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_VALID; i++) {
		const struct valid_case *c = &valid_cases[i];

		assert_int_equal(decode_as(&c->frame, c->dir, !c->fd), -EBADMSG);
	}
}

static void flags_only_reply_data_on_send(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_VALID; i++) {
		const struct valid_case *c = &valid_cases[i];
		size_t len = encode_ok(&c->frame);
		uint16_t bad = c->frame.type == CHAN_T_SEND ? 0x0002 : CHAN_F_REPLY_DATA;

		frame_buf[6] |= (uint8_t)bad;
		assert_int_equal(decode_raw(len, c->dir, c->fd), -EBADMSG);
		len = encode_ok(&c->frame);
		frame_buf[7] |= 0x80;
		assert_int_equal(decode_raw(len, c->dir, c->fd), -EBADMSG);
	}
}

static void empty_types_carry_no_payload(void **state)
{
	static const uint16_t empty[] = { CHAN_T_CLOSE, CHAN_T_EOF, CHAN_T_SENT, CHAN_T_CLOSED };

	(void)state;
	for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
		enum chan_dir dir = empty[i] & 0x8000 ? CHAN_TO_LIB : CHAN_TO_HELPER;
		size_t len = raw_record(empty[i], 0, 1, 1, "x", 1);

		assert_int_equal(decode_raw(len, dir, false), -EBADMSG);
	}
	assert_int_equal(
	    decode_raw(raw_record(CHAN_T_PING, 0, 1, 0, "x", 1), CHAN_TO_HELPER, false), -EBADMSG);
	assert_int_equal(decode_raw(raw_record(CHAN_T_PONG, 0, 1, 0, "x", 1), CHAN_TO_LIB, false),
	                 -EBADMSG);
}

static void send_and_data_are_never_empty(void **state)
{
	(void)state;
	assert_int_equal(
	    decode_raw(raw_record(CHAN_T_SEND, 0, 1, 1, NULL, 0), CHAN_TO_HELPER, false), -EBADMSG);
	assert_int_equal(decode_raw(raw_record(CHAN_T_DATA, 0, 1, 1, NULL, 0), CHAN_TO_LIB, false),
	                 -EBADMSG);
}

static void connect_host_is_1_to_255_visible_ascii(void **state)
{
	char host[CHAN_HOST_MAX + 2];
	static const char *const bad[] = { "a b", "a\tb", "a\nb", "caf\xc3\xa9", "a\x7f" };

	(void)state;
	memset(host, 'h', sizeof(host));
	assert_int_equal(decode_raw(raw_record(CHAN_T_CONNECT, 0, 1, 0, host, CHAN_HOST_MAX),
	                            CHAN_TO_HELPER, true),
	                 0);
	assert_int_equal(decode_raw(raw_record(CHAN_T_CONNECT, 0, 1, 0, host, CHAN_HOST_MAX + 1),
	                            CHAN_TO_HELPER, true),
	                 -EBADMSG);
	assert_int_equal(
	    decode_raw(raw_record(CHAN_T_CONNECT, 0, 1, 0, NULL, 0), CHAN_TO_HELPER, true),
	    -EBADMSG);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len = raw_record(CHAN_T_CONNECT, 0, 1, 0, bad[i], (uint32_t)strlen(bad[i]));

		assert_int_equal(decode_raw(len, CHAN_TO_HELPER, true), -EBADMSG);
	}
	assert_int_equal(
	    decode_raw(raw_record(CHAN_T_CONNECT, 0, 1, 0, "a\0b", 3), CHAN_TO_HELPER, true),
	    -EBADMSG);
}

static void recv_args_are_bounded(void **state)
{
	uint8_t p[9] = { 0 };

	(void)state;
	put_le32(p, 0); /* max 0 */
	put_le32(p + 4, 10);
	assert_int_equal(decode_raw(raw_record(CHAN_T_RECV, 0, 1, 1, p, 8), CHAN_TO_HELPER, false),
	                 -EBADMSG);
	put_le32(p, CHAN_MAX_PAYLOAD + 1);
	assert_int_equal(decode_raw(raw_record(CHAN_T_RECV, 0, 1, 1, p, 8), CHAN_TO_HELPER, false),
	                 -EBADMSG);
	put_le32(p, CHAN_MAX_PAYLOAD);
	put_le32(p + 4, CHAN_RECV_TIMEOUT_MAX);
	assert_int_equal(decode_raw(raw_record(CHAN_T_RECV, 0, 1, 1, p, 8), CHAN_TO_HELPER, false),
	                 0);
	put_le32(p + 4, CHAN_RECV_TIMEOUT_MAX + 1);
	assert_int_equal(decode_raw(raw_record(CHAN_T_RECV, 0, 1, 1, p, 8), CHAN_TO_HELPER, false),
	                 -EBADMSG);
	put_le32(p + 4, 0);
	assert_int_equal(decode_raw(raw_record(CHAN_T_RECV, 0, 1, 1, p, 7), CHAN_TO_HELPER, false),
	                 -EBADMSG);
	assert_int_equal(decode_raw(raw_record(CHAN_T_RECV, 0, 1, 1, p, 9), CHAN_TO_HELPER, false),
	                 -EBADMSG);
}

static void recv_args_encode_and_parse(void **state)
{
	struct chan_recv_args a = { 4096, 1000 };
	struct chan_recv_args back;
	uint8_t p[CHAN_RECV_ARGS_LEN];
	struct chan_frame f = { CHAN_T_RECV, 0, 1, 1, p, sizeof(p) };
	struct chan_frame wrong = { CHAN_T_SEND, 0, 1, 1, p, sizeof(p) };

	(void)state;
	assert_int_equal(chan_recv_args_encode(&a, p), 0);
	assert_memory_equal(p, recv_args_payload, sizeof(p));
	assert_int_equal(chan_recv_args_parse(&f, &back), 0);
	assert_int_equal(back.max_bytes, 4096);
	assert_int_equal(back.timeout_ms, 1000);
	assert_int_equal(chan_recv_args_parse(&wrong, &back), -EINVAL);
	a.max_bytes = 0;
	assert_int_equal(chan_recv_args_encode(&a, p), -EINVAL);
	a.max_bytes = CHAN_MAX_PAYLOAD + 1;
	assert_int_equal(chan_recv_args_encode(&a, p), -EINVAL);
	a.max_bytes = 1;
	a.timeout_ms = CHAN_RECV_TIMEOUT_MAX + 1;
	assert_int_equal(chan_recv_args_encode(&a, p), -EINVAL);
}

static void ready_encode_and_parse(void **state)
{
	uint8_t p[4 + CHAN_READY_TEXT_MAX];
	char text[CHAN_READY_TEXT_MAX + 2];
	uint32_t len = 0;
	struct chan_ready r;
	struct chan_frame f = { CHAN_T_READY, 0, 0, 0, p, 0 };

	(void)state;
	assert_int_equal(chan_ready_encode(12345, "loaded client.pem", p, sizeof(p), &len), 0);
	f.len = len;
	assert_int_equal(chan_ready_parse(&f, &r), 0);
	assert_int_equal(r.pid, 12345);
	assert_string_equal(r.text, "loaded client.pem");

	assert_int_equal(chan_ready_encode(1, NULL, p, sizeof(p), &len), 0);
	assert_int_equal(len, 4);
	f.len = len;
	assert_int_equal(chan_ready_parse(&f, &r), 0);
	assert_string_equal(r.text, "");

	memset(text, 'a', sizeof(text));
	text[CHAN_READY_TEXT_MAX] = '\0';
	assert_int_equal(chan_ready_encode(1, text, p, sizeof(p), &len), 0);
	assert_int_equal(len, sizeof(p));
	assert_int_equal(chan_ready_encode(1, text, p, sizeof(p) - 1, &len), -ENOSPC);
	text[CHAN_READY_TEXT_MAX] = 'a';
	text[CHAN_READY_TEXT_MAX + 1] = '\0';
	assert_int_equal(chan_ready_encode(1, text, p, sizeof(p), &len), -EINVAL);
	assert_int_equal(chan_ready_encode(0, "x", p, sizeof(p), &len), -EINVAL);
	assert_int_equal(chan_ready_encode(0x80000000u, "x", p, sizeof(p), &len), -EINVAL);
	assert_int_equal(chan_ready_encode(1, "two\nlines", p, sizeof(p), &len), -EINVAL);
}

static void ready_payload_rules(void **state)
{
	uint8_t p[4 + CHAN_READY_TEXT_MAX + 1];

	(void)state;
	memset(p, 'a', sizeof(p));
	put_le32(p, 100);
	assert_int_equal(decode_raw(raw_record(CHAN_T_READY, 0, 0, 0, p, 3), CHAN_TO_LIB, false),
	                 -EBADMSG);
	assert_int_equal(
	    decode_raw(raw_record(CHAN_T_READY, 0, 0, 0, p, sizeof(p) - 1), CHAN_TO_LIB, false), 0);
	assert_int_equal(
	    decode_raw(raw_record(CHAN_T_READY, 0, 0, 0, p, sizeof(p)), CHAN_TO_LIB, false),
	    -EBADMSG);
	put_le32(p, 0);
	assert_int_equal(decode_raw(raw_record(CHAN_T_READY, 0, 0, 0, p, 4), CHAN_TO_LIB, false),
	                 -EBADMSG);
}

/* Each string here is refused as text; each one in good[] is accepted. */
static void text_must_be_clean_utf8(void **state)
{
	static const char *const bad[] = {
		"\xc0\xaf",         /* overlong '/' */
		"\xe0\x80\xaf",     /* overlong, 3 bytes */
		"\xf0\x80\x80\xaf", /* overlong, 4 bytes */
		"\xed\xa0\x80",     /* surrogate U+D800 */
		"\xf4\x90\x80\x80", /* past U+10FFFF */
		"\xf5\x80\x80\x80",
		"\xff",
		"\x80", /* lone continuation */
		"\xc3", /* cut sequence */
		"\xe2\x82",
		"\xc3(",
		"a\nb",
		"a\rb",
		"\x1b[31m",
		"\x7f",
		"\xc2\x85", /* C1 NEL */
		"\xc2\x9f",
	};
	static const char *const good[] = { "plain",           "Gr\303\274\303\237e",
		                            "\xe2\x82\xac",    "\xf0\x9f\x94\x91",
		                            "\xc2\xa0",        "\xef\xbf\xbf",
		                            "\xf4\x8f\xbf\xbf" };
	uint8_t p[64];
	uint32_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint32_t n = (uint32_t)strlen(bad[i]);

		put_le32(p, CHAN_E_INTERNAL);
		memcpy(p + 4, bad[i], n);
		assert_int_equal(
		    decode_raw(raw_record(CHAN_T_ERROR, 0, 1, 0, p, 4 + n), CHAN_TO_LIB, false),
		    -EBADMSG);
		assert_int_equal(chan_error_encode(CHAN_E_INTERNAL, bad[i], p, sizeof(p), &len),
		                 -EINVAL);
		assert_int_equal(chan_ready_encode(1, bad[i], p, sizeof(p), &len), -EINVAL);
	}
	/* An embedded NUL is a control character too. */
	put_le32(p, 1);
	memcpy(p + 4, "a\0b", 3);
	assert_int_equal(decode_raw(raw_record(CHAN_T_READY, 0, 0, 0, p, 7), CHAN_TO_LIB, false),
	                 -EBADMSG);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(chan_error_encode(CHAN_E_INTERNAL, good[i], p, sizeof(p), &len),
		                 0);
		assert_int_equal(
		    decode_raw(raw_record(CHAN_T_ERROR, 0, 1, 0, p, len), CHAN_TO_LIB, false), 0);
	}
}

static void error_encode_and_parse(void **state)
{
	uint8_t p[4 + CHAN_ERROR_TEXT_MAX];
	char text[CHAN_ERROR_TEXT_MAX + 2];
	uint32_t len = 0;
	struct chan_error_info e;
	struct chan_frame f = { CHAN_T_ERROR, 0, 1, 0, p, 0 };

	(void)state;
	assert_int_equal(
	    chan_error_encode(CHAN_E_TLS_UNKNOWN_CA, "unable to get issuer", p, sizeof(p), &len),
	    0);
	f.len = len;
	assert_int_equal(chan_error_parse(&f, &e), 0);
	assert_int_equal(e.code, CHAN_E_TLS_UNKNOWN_CA);
	assert_string_equal(e.text, "unable to get issuer");

	memset(text, 'e', sizeof(text));
	text[CHAN_ERROR_TEXT_MAX] = '\0';
	assert_int_equal(chan_error_encode(CHAN_E_IO, text, p, sizeof(p), &len), 0);
	f.len = len;
	assert_int_equal(chan_error_parse(&f, &e), 0);
	assert_int_equal(strlen(e.text), CHAN_ERROR_TEXT_MAX);
	text[CHAN_ERROR_TEXT_MAX] = 'e';
	text[CHAN_ERROR_TEXT_MAX + 1] = '\0';
	assert_int_equal(chan_error_encode(CHAN_E_IO, text, p, sizeof(p), &len), -EINVAL);
	assert_int_equal(chan_error_encode(0, "x", p, sizeof(p), &len), -EINVAL);
	assert_int_equal(chan_error_encode(CHAN_E_MAX + 1, "x", p, sizeof(p), &len), -EINVAL);
	assert_int_equal(chan_error_encode(CHAN_E_IO, "x", p, 4, &len), -ENOSPC);
	assert_int_equal(chan_error_encode(CHAN_E_IO, NULL, p, 4, &len), 0);

	f.type = CHAN_T_READY;
	assert_int_equal(chan_error_parse(&f, &e), -EINVAL);
}

static void error_code_must_be_known(void **state)
{
	uint8_t p[4];

	(void)state;
	for (uint32_t code = 0; code <= CHAN_E_MAX + 1; code++) {
		int expect = code >= 1 && code <= CHAN_E_MAX ? 0 : -EBADMSG;

		put_le32(p, code);
		assert_int_equal(
		    decode_raw(raw_record(CHAN_T_ERROR, 0, 1, 0, p, 4), CHAN_TO_LIB, false),
		    expect);
	}
	put_le32(p, 0xffffffffu);
	assert_int_equal(decode_raw(raw_record(CHAN_T_ERROR, 0, 1, 0, p, 4), CHAN_TO_LIB, false),
	                 -EBADMSG);
}

static void connected_protocol_is_short_visible_ascii(void **state)
{
	char proto[CHAN_PROTO_MAX + 1];
	char out[CHAN_PROTO_MAX + 1];
	struct chan_frame f = { CHAN_T_CONNECTED, 0, 1, 1, (const uint8_t *)proto, CHAN_PROTO_MAX };

	(void)state;
	memset(proto, 'T', sizeof(proto));
	assert_int_equal(decode_raw(raw_record(CHAN_T_CONNECTED, 0, 1, 1, proto, CHAN_PROTO_MAX),
	                            CHAN_TO_LIB, false),
	                 0);
	assert_int_equal(
	    decode_raw(raw_record(CHAN_T_CONNECTED, 0, 1, 1, proto, CHAN_PROTO_MAX + 1),
	               CHAN_TO_LIB, false),
	    -EBADMSG);
	assert_int_equal(
	    decode_raw(raw_record(CHAN_T_CONNECTED, 0, 1, 1, NULL, 0), CHAN_TO_LIB, false),
	    -EBADMSG);
	assert_int_equal(
	    decode_raw(raw_record(CHAN_T_CONNECTED, 0, 1, 1, "TLS 1.3", 7), CHAN_TO_LIB, false),
	    -EBADMSG);
	assert_int_equal(chan_payload_text(&f, out, sizeof(out)), 0);
	assert_int_equal(strlen(out), CHAN_PROTO_MAX);
	assert_int_equal(chan_payload_text(&f, out, CHAN_PROTO_MAX), -ENOSPC);
}

static void payload_text_of_connect(void **state)
{
	char host[CHAN_HOST_MAX + 1];
	struct chan_frame f = valid_cases[0].frame;
	struct chan_frame send = valid_cases[1].frame;

	(void)state;
	assert_int_equal(chan_payload_text(&f, host, sizeof(host)), 0);
	assert_string_equal(host, "wsop.example.com");
	assert_int_equal(chan_payload_text(&send, host, sizeof(host)), -EINVAL);
	f.payload = (const uint8_t *)"bad host";
	f.len = 8;
	assert_int_equal(chan_payload_text(&f, host, sizeof(host)), -EINVAL);
}

static void encode_checks_its_input(void **state)
{
	struct chan_frame f = { CHAN_T_SEND, 0, 1, 1, (const uint8_t *)"abc", 3 };
	struct chan_frame no_payload = { CHAN_T_SEND, 0, 1, 1, NULL, 3 };
	size_t len;

	(void)state;
	assert_int_equal(chan_encode(&f, frame_buf, CHAN_HEADER_LEN + 2, &len), -ENOSPC);
	assert_int_equal(chan_encode(&f, frame_buf, 3, &len), -ENOSPC);
	assert_int_equal(chan_encode(&f, frame_buf, CHAN_HEADER_LEN + 3, &len), 0);
	assert_int_equal(chan_encode(&no_payload, frame_buf, sizeof(frame_buf), &len), -EINVAL);
	assert_int_equal(chan_encode(NULL, frame_buf, sizeof(frame_buf), &len), -EINVAL);
	assert_int_equal(chan_encode(&f, NULL, sizeof(frame_buf), &len), -EINVAL);
	assert_int_equal(chan_encode(&f, frame_buf, sizeof(frame_buf), NULL), -EINVAL);
	f.id = 0;
	assert_int_equal(chan_encode(&f, frame_buf, sizeof(frame_buf), &len), -EINVAL);
}

static void names_of_types_and_errors(void **state)
{
	(void)state;
	assert_string_equal(chan_type_name(CHAN_T_CONNECT), "CONNECT");
	assert_string_equal(chan_type_name(CHAN_T_ERROR), "ERROR");
	assert_string_equal(chan_type_name(CHAN_T_EOF), "EOF");
	assert_string_equal(chan_type_name(0x1234), "UNKNOWN");
	assert_string_equal(chan_error_name(CHAN_E_TLS_UNKNOWN_CA), "TLS_UNKNOWN_CA");
	assert_string_equal(chan_error_name(CHAN_E_INTERNAL), "INTERNAL");
	assert_string_equal(chan_error_name(0), "UNKNOWN");
	assert_string_equal(chan_error_name(CHAN_E_MAX + 1), "UNKNOWN");
	for (uint32_t c = 1; c <= CHAN_E_MAX; c++) {
		assert_string_not_equal(chan_error_name(c), "UNKNOWN");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_type_round_trips),
		cmocka_unit_test(header_is_little_endian_wire_layout),
		cmocka_unit_test(largest_payload_round_trips),
		cmocka_unit_test(truncated_header_is_refused),
		cmocka_unit_test(bad_magic_is_refused),
		cmocka_unit_test(unknown_type_is_refused),
		cmocka_unit_test(wrong_direction_is_refused),
		cmocka_unit_test(id_zero_is_refused),
		cmocka_unit_test(ready_answers_no_request),
		cmocka_unit_test(channel_error_has_no_conn),
		cmocka_unit_test(payload_over_max_is_refused),
		cmocka_unit_test(length_field_must_match_record),
		cmocka_unit_test(conn_rules_are_enforced),
		cmocka_unit_test(fd_only_with_connect),
		cmocka_unit_test(flags_only_reply_data_on_send),
		cmocka_unit_test(empty_types_carry_no_payload),
		cmocka_unit_test(send_and_data_are_never_empty),
		cmocka_unit_test(connect_host_is_1_to_255_visible_ascii),
		cmocka_unit_test(recv_args_are_bounded),
		cmocka_unit_test(recv_args_encode_and_parse),
		cmocka_unit_test(ready_encode_and_parse),
		cmocka_unit_test(ready_payload_rules),
		cmocka_unit_test(text_must_be_clean_utf8),
		cmocka_unit_test(error_encode_and_parse),
		cmocka_unit_test(error_code_must_be_known),
		cmocka_unit_test(connected_protocol_is_short_visible_ascii),
		cmocka_unit_test(payload_text_of_connect),
		cmocka_unit_test(encode_checks_its_input),
		cmocka_unit_test(names_of_types_and_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
