/*
 * Library <-> helper channel codec and record I/O. The rules of channel.h
 * live in one table (type_rules) that encoder and decoder both consult, so
 * the two ends cannot disagree about what a valid frame is.
 */
#include "ipc/channel.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* Room for a few descriptors so that "more than one" is seen and refused
 * (with every one closed) instead of being cut by the kernel. */
#define CTL_FDS 4

enum id_rule {
	ID_NONZERO,
	ID_ZERO,
	ID_ANY_ZERO_MEANS_CHANNEL, /* id 0 allowed, but then conn must be 0 */
};

enum conn_rule {
	CONN_ZERO,
	CONN_NONZERO,
	CONN_ANY,
};

typedef bool (*payload_check_fn)(const uint8_t *p, uint32_t len);

struct type_rule {
	uint16_t type;
	const char *name;
	enum chan_dir dir;
	uint16_t flags_allowed;
	enum id_rule id;
	enum conn_rule conn;
	uint32_t min_len;
	uint32_t max_len;
	bool fd;
	payload_check_fn check; /* NULL: any bytes */
};

static uint16_t get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

static void put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static bool is_visible_ascii(const uint8_t *p, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++) {
		if (p[i] < 0x21 || p[i] > 0x7e) {
			return false;
		}
	}
	return true;
}

/* Strict UTF-8 (no overlong forms, no surrogates, nothing past U+10FFFF)
 * without C0/C1 controls or DEL: the text ends up in log lines. */
static bool is_clean_text(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t b = s[i];
		uint32_t cp;
		size_t more;

		if (b < 0x80) {
			cp = b;
			more = 0;
		} else if (b >= 0xc2 && b <= 0xdf) {
			cp = b & 0x1fu;
			more = 1;
		} else if (b >= 0xe0 && b <= 0xef) {
			cp = b & 0x0fu;
			more = 2;
		} else if (b >= 0xf0 && b <= 0xf4) {
			cp = b & 0x07u;
			more = 3;
		} else {
			return false;
		}
		if (more > n - i - 1) {
			return false;
		}
		for (size_t k = 1; k <= more; k++) {
			uint8_t c = s[i + k];
			if ((c & 0xc0) != 0x80) {
				return false;
			}
			cp = (cp << 6) | (c & 0x3fu);
		}
		if ((more == 2 && cp < 0x800) || (more == 3 && (cp < 0x10000 || cp > 0x10ffff))) {
			return false;
		}
		if ((cp >= 0xd800 && cp <= 0xdfff) || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
			return false;
		}
		i += more + 1;
	}
	return true;
}

static bool check_host(const uint8_t *p, uint32_t len)
{
	return is_visible_ascii(p, len);
}

static bool recv_args_ok(uint32_t max_bytes, uint32_t timeout_ms)
{
	return max_bytes >= 1 && max_bytes <= CHAN_MAX_PAYLOAD &&
	       timeout_ms <= CHAN_RECV_TIMEOUT_MAX;
}

static bool check_recv_args(const uint8_t *p, uint32_t len)
{
	return len == CHAN_RECV_ARGS_LEN && recv_args_ok(get_u32(p), get_u32(p + 4));
}

static bool pid_ok(uint32_t pid)
{
	return pid >= 1 && pid <= INT32_MAX;
}

static bool check_ready(const uint8_t *p, uint32_t len)
{
	return len >= 4 && pid_ok(get_u32(p)) && is_clean_text(p + 4, len - 4);
}

static bool check_proto(const uint8_t *p, uint32_t len)
{
	return is_visible_ascii(p, len);
}

static bool error_code_ok(uint32_t code)
{
	return code >= 1 && code <= CHAN_E_MAX;
}

static bool check_error(const uint8_t *p, uint32_t len)
{
	return len >= 4 && error_code_ok(get_u32(p)) && is_clean_text(p + 4, len - 4);
}

/* The whole protocol: one row per type, as documented in channel.h. */
static const struct type_rule type_rules[] = {
	{ CHAN_T_CONNECT, "CONNECT", CHAN_TO_HELPER, 0, ID_NONZERO, CONN_ZERO, 1, CHAN_HOST_MAX,
	  true, check_host },
	{ CHAN_T_SEND, "SEND", CHAN_TO_HELPER, CHAN_F_REPLY_DATA, ID_NONZERO, CONN_NONZERO, 1,
	  CHAN_MAX_PAYLOAD, false, NULL },
	{ CHAN_T_RECV, "RECV", CHAN_TO_HELPER, 0, ID_NONZERO, CONN_NONZERO, CHAN_RECV_ARGS_LEN,
	  CHAN_RECV_ARGS_LEN, false, check_recv_args },
	{ CHAN_T_CLOSE, "CLOSE", CHAN_TO_HELPER, 0, ID_NONZERO, CONN_NONZERO, 0, 0, false, NULL },
	{ CHAN_T_PING, "PING", CHAN_TO_HELPER, 0, ID_NONZERO, CONN_ZERO, 0, 0, false, NULL },
	{ CHAN_T_READY, "READY", CHAN_TO_LIB, 0, ID_ZERO, CONN_ZERO, 4, 4 + CHAN_READY_TEXT_MAX,
	  false, check_ready },
	{ CHAN_T_CONNECTED, "CONNECTED", CHAN_TO_LIB, 0, ID_NONZERO, CONN_NONZERO, 1,
	  CHAN_PROTO_MAX, false, check_proto },
	{ CHAN_T_DATA, "DATA", CHAN_TO_LIB, 0, ID_NONZERO, CONN_NONZERO, 1, CHAN_MAX_PAYLOAD, false,
	  NULL },
	{ CHAN_T_EOF, "EOF", CHAN_TO_LIB, 0, ID_NONZERO, CONN_NONZERO, 0, 0, false, NULL },
	{ CHAN_T_SENT, "SENT", CHAN_TO_LIB, 0, ID_NONZERO, CONN_NONZERO, 0, 0, false, NULL },
	{ CHAN_T_CLOSED, "CLOSED", CHAN_TO_LIB, 0, ID_NONZERO, CONN_NONZERO, 0, 0, false, NULL },
	{ CHAN_T_PONG, "PONG", CHAN_TO_LIB, 0, ID_NONZERO, CONN_ZERO, 0, 0, false, NULL },
	{ CHAN_T_ERROR, "ERROR", CHAN_TO_LIB, 0, ID_ANY_ZERO_MEANS_CHANNEL, CONN_ANY, 4,
	  4 + CHAN_ERROR_TEXT_MAX, false, check_error },
};

static const struct chan_error_row error_rows[] = {
#define CHAN_ERROR_ROW(id, value, n, c, e, r, st, sv) [value] = { n, c, e, r, st, sv },
	CHAN_ERROR_TABLE(CHAN_ERROR_ROW)
#undef CHAN_ERROR_ROW
};

static const struct type_rule *find_rule(uint16_t type)
{
	for (size_t i = 0; i < sizeof(type_rules) / sizeof(type_rules[0]); i++) {
		if (type_rules[i].type == type) {
			return &type_rules[i];
		}
	}
	return NULL;
}

static bool payload_ok(const struct type_rule *rule, const uint8_t *payload, uint32_t len)
{
	if (len < rule->min_len || len > rule->max_len) {
		return false;
	}
	if (len > 0 && payload == NULL) {
		return false;
	}
	return rule->check == NULL || rule->check(payload, len);
}

static bool id_conn_ok(const struct type_rule *rule, uint32_t id, uint32_t conn)
{
	switch (rule->id) {
	case ID_NONZERO:
		if (id == 0) {
			return false;
		}
		break;
	case ID_ZERO:
		if (id != 0) {
			return false;
		}
		break;
	case ID_ANY_ZERO_MEANS_CHANNEL:
		if (id == 0 && conn != 0) {
			return false;
		}
		break;
	}
	switch (rule->conn) {
	case CONN_ZERO:
		return conn == 0;
	case CONN_NONZERO:
		return conn != 0;
	case CONN_ANY:
		return true;
	}
	return false;
}

/* Every rule of channel.h but the direction and the fd. */
static const struct type_rule *frame_rule(const struct chan_frame *f)
{
	const struct type_rule *rule = find_rule(f->type);

	if (rule == NULL || (f->flags & ~rule->flags_allowed) != 0 ||
	    !id_conn_ok(rule, f->id, f->conn) || !payload_ok(rule, f->payload, f->len)) {
		return NULL;
	}
	return rule;
}

static void put_header(uint8_t *buf, const struct chan_frame *f)
{
	put_u32(buf, CHAN_MAGIC);
	put_u16(buf + 4, f->type);
	put_u16(buf + 6, f->flags);
	put_u32(buf + 8, f->id);
	put_u32(buf + 12, f->conn);
	put_u32(buf + 16, f->len);
}

int chan_encode(const struct chan_frame *f, uint8_t *buf, size_t cap, size_t *out_len)
{
	if (f == NULL || buf == NULL || out_len == NULL || frame_rule(f) == NULL) {
		return -EINVAL;
	}
	if (cap < CHAN_HEADER_LEN || cap - CHAN_HEADER_LEN < f->len) {
		return -ENOSPC;
	}
	put_header(buf, f);
	if (f->len > 0) {
		memcpy(buf + CHAN_HEADER_LEN, f->payload, f->len);
	}
	*out_len = CHAN_HEADER_LEN + (size_t)f->len;
	return 0;
}

int chan_decode(const uint8_t *buf, size_t len, enum chan_dir dir, bool fd_present,
                struct chan_frame *out)
{
	struct chan_frame f;
	const struct type_rule *rule;

	if (out == NULL) {
		return -EBADMSG;
	}
	memset(out, 0, sizeof(*out));
	if (buf == NULL || len < CHAN_HEADER_LEN || get_u32(buf) != CHAN_MAGIC) {
		return -EBADMSG;
	}
	f.type = get_u16(buf + 4);
	f.flags = get_u16(buf + 6);
	f.id = get_u32(buf + 8);
	f.conn = get_u32(buf + 12);
	f.len = get_u32(buf + 16);
	/* The length field must describe exactly this record, and stay in
	 * bounds, before the payload is looked at. */
	if (f.len > CHAN_MAX_PAYLOAD || f.len != len - CHAN_HEADER_LEN) {
		return -EBADMSG;
	}
	f.payload = f.len > 0 ? buf + CHAN_HEADER_LEN : NULL;
	rule = frame_rule(&f);
	if (rule == NULL || rule->dir != dir || rule->fd != fd_present) {
		return -EBADMSG;
	}
	*out = f;
	return 0;
}

/* A deadline on the monotonic clock; infinite when the timeout is negative. */
struct deadline {
	bool infinite;
	struct timespec at;
};

static void deadline_start(struct deadline *d, int timeout_ms)
{
	d->infinite = timeout_ms < 0;
	clock_gettime(CLOCK_MONOTONIC, &d->at);
	if (!d->infinite) {
		d->at.tv_sec += timeout_ms / 1000;
		d->at.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
		if (d->at.tv_nsec >= 1000000000L) {
			d->at.tv_sec++;
			d->at.tv_nsec -= 1000000000L;
		}
	}
}

static int deadline_left_ms(const struct deadline *d)
{
	struct timespec now;
	long long left;

	if (d->infinite) {
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	left = (long long)(d->at.tv_sec - now.tv_sec) * 1000 +
	       (d->at.tv_nsec - now.tv_nsec) / 1000000L;
	if (left <= 0) {
		return 0;
	}
	return left > INT_MAX ? INT_MAX : (int)left;
}

/* Waits until sock is ready for events (or has an error or hang-up, which
 * the following send/recv reports) or the deadline passes. */
static int wait_ready(int sock, short events, const struct deadline *d)
{
	for (;;) {
		struct pollfd pfd = { .fd = sock, .events = events };
		int r = poll(&pfd, 1, deadline_left_ms(d));

		if (r < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -errno;
		}
		if (r == 0) {
			return -ETIMEDOUT;
		}
		if (pfd.revents & POLLNVAL) {
			return -EBADF;
		}
		return 0;
	}
}

int chan_send(int sock, const struct chan_frame *f, int fd, int timeout_ms)
{
	uint8_t head[CHAN_HEADER_LEN];
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov[2];
	struct msghdr msg;
	struct deadline d;
	const struct type_rule *rule;

	if (sock < 0 || f == NULL || (rule = frame_rule(f)) == NULL || rule->fd != (fd >= 0)) {
		return -EINVAL;
	}
	put_header(head, f);
	iov[0] = (struct iovec){ .iov_base = head, .iov_len = sizeof(head) };
	iov[1] = (struct iovec){ .iov_base = (void *)f->payload, .iov_len = f->len };
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = iov;
	msg.msg_iovlen = f->len > 0 ? 2 : 1;
	if (fd >= 0) {
		struct cmsghdr *cmsg;

		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	}
	deadline_start(&d, timeout_ms);
	for (;;) {
		/* MSG_DONTWAIT so that the deadline holds on a blocking socket
		 * too; MSG_NOSIGNAL because a library must not kill its
		 * application with SIGPIPE when the helper dies. */
		ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		int r;

		if (n >= 0) {
			/* A SEQPACKET record goes whole or not at all. */
			return (size_t)n == CHAN_HEADER_LEN + (size_t)f->len ? 0 : -EIO;
		}
		if (errno == EINTR) {
			continue;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			return -errno;
		}
		r = wait_ready(sock, POLLOUT, &d);
		if (r < 0) {
			return r;
		}
	}
}

static void close_fds(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		close(fds[i]);
	}
}

/* Collects every descriptor the record brought, whatever else is wrong with
 * it, so that the caller can close them all on refusal. Returns how many
 * were found; fds beyond cap (impossible with the buffer we hand the kernel)
 * are closed here. */
static size_t take_fds(struct msghdr *msg, int *fds, size_t cap)
{
	size_t n = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
		size_t count;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0)) {
			continue;
		}
		count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < count; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (n < cap) {
				fds[n] = fd;
			} else {
				close(fd);
			}
			n++;
		}
	}
	return n;
}

/* The control buffer of a receive: room for a few descriptors. */
union recv_ctl {
	struct cmsghdr align;
	uint8_t buf[CMSG_SPACE(CTL_FDS * sizeof(int))];
};

static bool recv_args_valid(int sock, const uint8_t *buf, size_t cap, enum chan_dir dir,
                            const struct chan_frame *out, const int *fd_out)
{
	return sock >= 0 && buf != NULL && cap >= CHAN_MAX_FRAME && out != NULL &&
	       (dir == CHAN_TO_HELPER || dir == CHAN_TO_LIB) &&
	       (fd_out != NULL || dir != CHAN_TO_HELPER);
}

/* One recvmsg of a record into buf with flags; n as recvmsg returns. */
static ssize_t recv_record(int sock, uint8_t *buf, size_t cap, union recv_ctl *ctl,
                           struct msghdr *msg, struct iovec *iov, int flags)
{
	*iov = (struct iovec){ .iov_base = buf, .iov_len = cap };
	memset(msg, 0, sizeof(*msg));
	msg->msg_iov = iov;
	msg->msg_iovlen = 1;
	msg->msg_control = ctl->buf;
	msg->msg_controllen = sizeof(ctl->buf);
	return recvmsg(sock, msg, flags | MSG_CMSG_CLOEXEC);
}

/* Checks and decodes the record recvmsg gave (n bytes), taking or closing
 * the descriptors it brought. */
static int finish_recv(struct msghdr *msg, ssize_t n, const uint8_t *buf, enum chan_dir dir,
                       struct chan_frame *out, int *fd_out)
{
	int fds[CTL_FDS];
	size_t nfds = take_fds(msg, fds, CTL_FDS);
	int r;

	if (msg->msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		r = -EMSGSIZE;
	} else if (n == 0) {
		r = -EPIPE;
	} else if (nfds > 1) {
		r = -EBADMSG;
	} else {
		r = chan_decode(buf, (size_t)n, dir, nfds == 1, out);
	}
	if (r < 0) {
		close_fds(fds, nfds < CTL_FDS ? nfds : CTL_FDS);
		memset(out, 0, sizeof(*out));
		return r;
	}
	if (nfds == 1) {
		*fd_out = fds[0];
	}
	return 0;
}

int chan_recv(int sock, uint8_t *buf, size_t cap, enum chan_dir dir, struct chan_frame *out,
              int *fd_out, int timeout_ms)
{
	union recv_ctl ctl;
	struct iovec iov;
	struct msghdr msg;
	struct deadline d;
	ssize_t n;
	int r;

	if (fd_out != NULL) {
		*fd_out = -1;
	}
	if (!recv_args_valid(sock, buf, cap, dir, out, fd_out)) {
		return -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	deadline_start(&d, timeout_ms);
	for (;;) {
		/* The record first, poll only when none waits: under load a
		 * record is usually there, and a poll per record doubled the
		 * system calls. DONTWAIT keeps the deadline on a blocking
		 * socket, and another reader may take the record poll saw. */
		n = recv_record(sock, buf, cap, &ctl, &msg, &iov, MSG_DONTWAIT);
		if (n >= 0) {
			break;
		}
		if (errno == EINTR) {
			continue;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			return -errno;
		}
		if (timeout_ms == 0) {
			return -ETIMEDOUT;
		}
		r = wait_ready(sock, POLLIN, &d);
		if (r < 0) {
			return r;
		}
	}
	return finish_recv(&msg, n, buf, dir, out, fd_out);
}

int chan_recv_blocking(int sock, uint8_t *buf, size_t cap, enum chan_dir dir,
                       struct chan_frame *out, int *fd_out)
{
	union recv_ctl ctl;
	struct iovec iov;
	struct msghdr msg;

	if (fd_out != NULL) {
		*fd_out = -1;
	}
	if (!recv_args_valid(sock, buf, cap, dir, out, fd_out)) {
		return -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	ssize_t n = recv_record(sock, buf, cap, &ctl, &msg, &iov, 0);
	if (n < 0) {
		return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
	}
	return finish_recv(&msg, n, buf, dir, out, fd_out);
}

int chan_recv_args_encode(const struct chan_recv_args *a, uint8_t out[CHAN_RECV_ARGS_LEN])
{
	if (a == NULL || out == NULL || !recv_args_ok(a->max_bytes, a->timeout_ms)) {
		return -EINVAL;
	}
	put_u32(out, a->max_bytes);
	put_u32(out + 4, a->timeout_ms);
	return 0;
}

/* True when f is of type `type` and its payload obeys that type's rules. */
static bool payload_of(const struct chan_frame *f, uint16_t type)
{
	const struct type_rule *rule = find_rule(type);

	return f != NULL && f->type == type && rule != NULL && payload_ok(rule, f->payload, f->len);
}

int chan_recv_args_parse(const struct chan_frame *f, struct chan_recv_args *a)
{
	if (a == NULL || !payload_of(f, CHAN_T_RECV)) {
		return -EINVAL;
	}
	a->max_bytes = get_u32(f->payload);
	a->timeout_ms = get_u32(f->payload + 4);
	return 0;
}

/* u32 + text, the shape of READY and ERROR payloads. */
static int encode_u32_text(uint32_t value, const char *text, size_t text_max, uint8_t *out,
                           size_t cap, uint32_t *out_len)
{
	size_t n = text != NULL ? strnlen(text, text_max + 1) : 0;

	if (out == NULL || out_len == NULL || n > text_max ||
	    !is_clean_text((const uint8_t *)text, n)) {
		return -EINVAL;
	}
	if (cap < 4 || cap - 4 < n) {
		return -ENOSPC;
	}
	put_u32(out, value);
	if (n > 0) {
		memcpy(out + 4, text, n);
	}
	*out_len = (uint32_t)(4 + n);
	return 0;
}

static void copy_text(char *dst, const uint8_t *src, size_t n)
{
	if (n > 0) {
		memcpy(dst, src, n);
	}
	dst[n] = '\0';
}

int chan_ready_encode(uint32_t pid, const char *text, uint8_t *out, size_t cap, uint32_t *out_len)
{
	if (!pid_ok(pid)) {
		return -EINVAL;
	}
	return encode_u32_text(pid, text, CHAN_READY_TEXT_MAX, out, cap, out_len);
}

int chan_ready_parse(const struct chan_frame *f, struct chan_ready *r)
{
	if (r == NULL || !payload_of(f, CHAN_T_READY)) {
		return -EINVAL;
	}
	r->pid = get_u32(f->payload);
	copy_text(r->text, f->payload + 4, f->len - 4);
	return 0;
}

int chan_error_encode(uint32_t code, const char *text, uint8_t *out, size_t cap, uint32_t *out_len)
{
	if (!error_code_ok(code)) {
		return -EINVAL;
	}
	return encode_u32_text(code, text, CHAN_ERROR_TEXT_MAX, out, cap, out_len);
}

int chan_error_parse(const struct chan_frame *f, struct chan_error_info *e)
{
	if (e == NULL || !payload_of(f, CHAN_T_ERROR)) {
		return -EINVAL;
	}
	e->code = get_u32(f->payload);
	copy_text(e->text, f->payload + 4, f->len - 4);
	return 0;
}

int chan_payload_text(const struct chan_frame *f, char *out, size_t cap)
{
	if (out == NULL || f == NULL ||
	    !(payload_of(f, CHAN_T_CONNECT) || payload_of(f, CHAN_T_CONNECTED))) {
		return -EINVAL;
	}
	if (cap <= f->len) {
		return -ENOSPC;
	}
	copy_text(out, f->payload, f->len);
	return 0;
}

const char *chan_type_name(uint16_t type)
{
	const struct type_rule *rule = find_rule(type);

	return rule != NULL ? rule->name : "UNKNOWN";
}

const char *chan_error_name(uint32_t code)
{
	return error_code_ok(code) ? error_rows[code].name : "UNKNOWN";
}

const struct chan_error_row *chan_error_row(uint32_t code)
{
	return &error_rows[error_code_ok(code) ? code : CHAN_E_INTERNAL];
}
