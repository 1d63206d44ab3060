/*
 * HTTP/1.1 codec: strict incremental parsers and the matching serialisers.
 * See http.h for the contract.
 *
 * Parsing runs in two steps. scan_head() judges the bytes in place, inside a
 * window of at most HTTP_MAX_HEAD bytes, and allocates nothing; only when the
 * head is valid and the whole body (bounded by HTTP_MAX_BODY) has arrived
 * does build_message() copy head and body into the message. A caller that
 * feeds bytes one at a time makes scan_head() rescan the head each call;
 * the window bound keeps that cheap.
 */
#include "ipc/http.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

/* What scan_head() learns about a head without copying it. */
struct head_info {
	bool is_request;
	size_t head_len; /* up to and including the empty line's CRLF */
	int minor_version;
	int status;
	size_t method_len;
	size_t target_off;
	size_t target_len;
	size_t header_count;
	bool has_length;
	size_t content_length; /* HTTP_MAX_BODY + 1 stands for "anything larger" */
	bool has_transfer_encoding;
	bool connection_close;
	bool connection_keep_alive;
};

/* Character classes, ASCII only so that no locale can change them. */

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_blank(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 9110 tchar (ALPHA, DIGIT and !#$%&'*+-.^_`|~) as a bitmap of the
 * 128 ASCII codes: every byte of every header name sent or received is
 * judged here. */
static const uint64_t tchars[2] = { 0x03ff6cfa00000000u, 0x57ffffffc7fffffeu };

static bool is_tchar(unsigned char c)
{
	return c < 128 && ((tchars[c >> 6] >> (c & 63)) & 1) != 0;
}

/* Field values and reason phrases: no CTL except HTAB; obs-text passes. */
static bool is_value_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* Whether p[0..n) holds a byte that is_value_char refuses. Eight bytes
 * at a time, since every value of every request passes here (an
 * activation token alone is over 200 bytes): a word with no byte below
 * 0x20 and none equal to 0x7f is clean; any other is judged byte by byte
 * (HTAB is allowed). */
static bool has_ctl(const uint8_t *p, size_t n)
{
	const uint64_t ones = 0x0101010101010101u;
	const uint64_t highs = 0x8080808080808080u;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t x;
		uint64_t del;

		memcpy(&x, p + i, sizeof(x));
		del = x ^ (ones * 0x7f);
		if ((((x - ones * 0x20) & ~x) | ((del - ones) & ~del)) & highs) {
			for (size_t k = i; k < i + 8; k++) {
				if (!is_value_char(p[k]))
					return true;
			}
		}
	}
	for (; i < n; i++) {
		if (!is_value_char(p[i]))
			return true;
	}
	return false;
}

static bool is_target_char(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e;
}

static unsigned char ascii_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/* Whether p[0..n) equals the lower-case literal lit, ignoring ASCII case. */
static bool token_is(const uint8_t *p, size_t n, const char *lit)
{
	size_t i;

	if (n != strlen(lit))
		return false;
	for (i = 0; i < n; i++) {
		if (ascii_lower(p[i]) != (unsigned char)lit[i])
			return false;
	}
	return true;
}

/*
 * Finds the CRLF that ends the line starting at data[pos], looking no
 * further than data[end). Returns 1 and *eol (index of the CR), 0 when the
 * window ends first, -EBADMSG on a bare LF or a CR that is not followed by LF.
 */
static int next_line(const uint8_t *data, size_t pos, size_t end, size_t *eol)
{
	/* Two memchr rather than a loop over the bytes: every line of every
	 * message passes here. */
	const uint8_t *cr = pos < end ? memchr(data + pos, '\r', end - pos) : NULL;
	size_t i = cr != NULL ? (size_t)(cr - data) : end;

	if (i > pos && memchr(data + pos, '\n', i - pos) != NULL)
		return -EBADMSG;
	if (cr == NULL || i + 1 == end)
		return 0;
	if (data[i + 1] != '\n')
		return -EBADMSG;
	*eol = i;
	return 1;
}

/* "HTTP/1.0" and "HTTP/1.1" pass; another HTTP/d.d is -ENOTSUP. */
static int parse_version(const uint8_t *p, size_t n, int *minor)
{
	if (n != 8 || memcmp(p, "HTTP/", 5) != 0 || !is_digit(p[5]) || p[6] != '.' ||
	    !is_digit(p[7]))
		return -EBADMSG;
	if (p[5] != '1' || (p[7] != '0' && p[7] != '1'))
		return -ENOTSUP;
	*minor = p[7] - '0';
	return 0;
}

/*
 * Judges the request line p[0..n), CRLF excluded. When !complete, p holds
 * only the start of the line and 0 means "nothing wrong so far": that lets
 * the server answer 414 to an endless target without waiting for its end.
 */
static int check_request_line(const uint8_t *p, size_t n, bool complete, struct head_info *info)
{
	size_t i = 0;
	size_t target_off;

	while (i < n && p[i] >= 'A' && p[i] <= 'Z') {
		i++;
		if (i > HTTP_MAX_METHOD)
			return -EBADMSG;
	}
	if (i == n)
		return complete ? -EBADMSG : 0;
	if (i == 0 || p[i] != ' ')
		return -EBADMSG;
	info->method_len = i;

	target_off = ++i;
	while (i < n && p[i] != ' ') {
		if (i - target_off >= HTTP_MAX_TARGET)
			return HTTP_ERR_URI_TOO_LONG;
		if (!is_target_char(p[i]) || (i == target_off && p[i] != '/'))
			return -EBADMSG;
		i++;
	}
	if (i == n)
		return complete ? -EBADMSG : 0;
	if (i == target_off)
		return -EBADMSG;
	info->target_off = target_off;
	info->target_len = i - target_off;
	i++;

	if (!complete)
		return 0;
	return parse_version(p + i, n - i, &info->minor_version);
}

/* "HTTP/1.x 200 reason" with the reason possibly empty. */
static int check_status_line(const uint8_t *p, size_t n, struct head_info *info)
{
	int r;

	if (n < 8)
		return -EBADMSG;
	r = parse_version(p, 8, &info->minor_version);
	if (r < 0)
		return r;
	if (n < 13 || p[8] != ' ' || !is_digit(p[9]) || !is_digit(p[10]) || !is_digit(p[11]) ||
	    p[12] != ' ')
		return -EBADMSG;
	info->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	if (info->status < 200 || info->status > 599)
		return -EBADMSG;
	return has_ctl(p + 13, n - 13) ? -EBADMSG : 0;
}

/* Digits only; values above HTTP_MAX_BODY collapse to HTTP_MAX_BODY + 1 so
 * that no digit string can overflow. */
static int parse_content_length(const uint8_t *v, size_t n, size_t *out)
{
	size_t value = 0;
	size_t i;

	if (n == 0)
		return -EBADMSG;
	for (i = 0; i < n; i++) {
		if (!is_digit(v[i]))
			return -EBADMSG;
		if (value <= HTTP_MAX_BODY)
			value = value * 10 + (size_t)(v[i] - '0');
	}
	*out = value > HTTP_MAX_BODY ? (size_t)HTTP_MAX_BODY + 1 : value;
	return 0;
}

/* Connection is a comma-separated list of case-insensitive tokens. */
static void note_connection(const uint8_t *v, size_t n, struct head_info *info)
{
	size_t i = 0;

	while (i < n) {
		size_t start;
		size_t end;

		while (i < n && (is_blank(v[i]) || v[i] == ','))
			i++;
		start = i;
		while (i < n && v[i] != ',')
			i++;
		end = i;
		while (end > start && is_blank(v[end - 1]))
			end--;
		if (token_is(v + start, end - start, "close"))
			info->connection_close = true;
		else if (token_is(v + start, end - start, "keep-alive"))
			info->connection_keep_alive = true;
	}
}

static int note_header(const uint8_t *name, size_t name_len, const uint8_t *value, size_t value_len,
                       struct head_info *info)
{
	size_t length;
	int r;

	if (token_is(name, name_len, "content-length")) {
		r = parse_content_length(value, value_len, &length);
		if (r < 0)
			return r;
		if (info->has_length && info->content_length != length)
			return -EBADMSG;
		info->has_length = true;
		info->content_length = length;
	} else if (token_is(name, name_len, "transfer-encoding")) {
		info->has_transfer_encoding = true;
	} else if (token_is(name, name_len, "connection")) {
		note_connection(value, value_len, info);
	} else if (token_is(name, name_len, "x-wsop-activation") &&
	           value_len > HTTP_MAX_ACTIVATION) {
		/* Bounded here so that no layer above ever holds more. */
		return -EMSGSIZE;
	}
	return 0;
}

/* name ":" OWS value OWS, CRLF excluded. */
static int check_header_line(const uint8_t *p, size_t n, struct head_info *info)
{
	size_t name_len = 0;
	size_t start;
	size_t end;

	/* A leading blank is obs-fold (or junk): refused either way. */
	while (name_len < n && is_tchar(p[name_len]))
		name_len++;
	if (name_len == 0 || name_len == n || p[name_len] != ':')
		return -EBADMSG;
	if (has_ctl(p + name_len + 1, n - name_len - 1))
		return -EBADMSG;
	start = name_len + 1;
	end = n;
	while (start < end && is_blank(p[start]))
		start++;
	while (end > start && is_blank(p[end - 1]))
		end--;
	return note_header(p, name_len, p + start, end - start, info);
}

/* Out of bytes without a complete head: wait, unless the window is full. */
static int need_more_head(size_t len)
{
	return len >= HTTP_MAX_HEAD ? -EMSGSIZE : 0;
}

/*
 * Validates the head in data[0..len) without allocating. Returns 1 with
 * *info filled when the head is complete, 0 when more bytes are needed, or
 * a negative errno as soon as the bytes present prove the head bad.
 */
static int scan_head(const uint8_t *data, size_t len, struct head_info *info)
{
	size_t window = len < HTTP_MAX_HEAD ? len : HTTP_MAX_HEAD;
	size_t first_end = 0;
	size_t pos;
	size_t eol = 0;
	int r;

	/* The request line is judged on the bytes before its line ending even
	 * while that ending has not arrived: an endless target gets its 414
	 * early, and the error found does not depend on how input was split. */
	if (info->is_request) {
		while (first_end < window && data[first_end] != '\r' && data[first_end] != '\n')
			first_end++;
		r = check_request_line(data, first_end, false, info);
		if (r < 0)
			return r;
	}
	r = next_line(data, 0, window, &eol);
	if (r < 0)
		return r;
	if (r == 0)
		return need_more_head(len);
	if (info->is_request)
		r = check_request_line(data, eol, true, info);
	else
		r = check_status_line(data, eol, info);
	if (r < 0)
		return r;

	for (pos = eol + 2;; pos = eol + 2) {
		r = next_line(data, pos, window, &eol);
		if (r < 0)
			return r;
		if (r == 0)
			return need_more_head(len);
		if (eol == pos) {
			info->head_len = pos + 2;
			return 1;
		}
		if (++info->header_count > HTTP_MAX_HEADERS)
			return -EMSGSIZE;
		r = check_header_line(data + pos, eol - pos, info);
		if (r < 0)
			return r;
	}
}

/* Decides the body length of a valid head. */
static int body_length(const struct head_info *info, size_t *body_len)
{
	if (info->has_transfer_encoding)
		return -ENOTSUP;
	if (!info->is_request && (info->status == 204 || info->status == 304)) {
		*body_len = 0;
		return 0;
	}
	if (!info->has_length) {
		if (!info->is_request)
			return -EBADMSG;
		*body_len = 0;
		return 0;
	}
	if (info->content_length > HTTP_MAX_BODY)
		return -E2BIG;
	*body_len = info->content_length;
	return 0;
}

/*
 * Cuts the copied head into NUL-terminated names and trimmed values. The
 * head was validated by scan_head(), so every line after the start line has
 * a colon and ends in CRLF, and the head holds no NUL.
 */
static void split_headers(struct http_message *msg, size_t head_len)
{
	char *end = msg->head + head_len;
	char *line = (char *)memchr(msg->head, '\r', head_len) + 2;

	while (line[0] != '\r') {
		char *eol = memchr(line, '\r', (size_t)(end - line));
		char *colon = memchr(line, ':', (size_t)(eol - line));
		char *value = colon + 1;
		char *value_end = eol;

		while (value < value_end && is_blank((unsigned char)*value))
			value++;
		while (value_end > value && is_blank((unsigned char)value_end[-1]))
			value_end--;
		*colon = '\0';
		*value_end = '\0';
		msg->headers[msg->header_count].name = line;
		msg->headers[msg->header_count].value = value;
		msg->header_count++;
		line = eol + 2;
	}
}

static int build_message(const uint8_t *data, const struct head_info *info, size_t body_len,
                         struct http_message *msg)
{
	msg->head = malloc(info->head_len + 1);
	if (msg->head == NULL)
		return -ENOMEM;
	memcpy(msg->head, data, info->head_len);
	msg->head[info->head_len] = '\0';

	if (body_len > 0) {
		msg->body = malloc(body_len + 1);
		if (msg->body == NULL)
			return -ENOMEM;
		memcpy(msg->body, data + info->head_len, body_len);
		msg->body[body_len] = '\0';
		msg->body_len = body_len;
	}

	if (info->is_request) {
		memcpy(msg->method, data, info->method_len);
		msg->method[info->method_len] = '\0';
		memcpy(msg->target, data + info->target_off, info->target_len);
		msg->target[info->target_len] = '\0';
	}
	msg->status = info->status;
	msg->minor_version = info->minor_version;
	if (info->minor_version == 1)
		msg->keep_alive = !info->connection_close;
	else
		msg->keep_alive = info->connection_keep_alive && !info->connection_close;
	split_headers(msg, info->head_len);
	return 0;
}

static int parse_message(bool is_request, const uint8_t *data, size_t len, struct http_message *msg,
                         size_t *consumed, size_t *need)
{
	struct head_info info;
	size_t body_len = 0;
	int r;

	if (need != NULL)
		*need = 0;
	if (msg == NULL || consumed == NULL || (data == NULL && len > 0))
		return -EINVAL;
	http_message_init(msg);
	memset(&info, 0, sizeof(info));
	info.is_request = is_request;

	r = scan_head(data, len, &info);
	if (r <= 0)
		return r;
	r = body_length(&info, &body_len);
	if (r < 0)
		return r;
	if (len - info.head_len < body_len) {
		if (need != NULL)
			*need = info.head_len + body_len;
		return 0;
	}
	r = build_message(data, &info, body_len, msg);
	if (r < 0) {
		http_message_clear(msg);
		return r;
	}
	*consumed = info.head_len + body_len;
	return 1;
}

void http_message_init(struct http_message *msg)
{
	memset(msg, 0, offsetof(struct http_message, headers));
	msg->method[0] = '\0';
	msg->target[0] = '\0';
}

void http_message_clear(struct http_message *msg)
{
	if (msg == NULL)
		return;
	/* Bodies carry passphrases (activation) and plaintext (decrypt). */
	if (msg->body != NULL) {
		OPENSSL_cleanse(msg->body, msg->body_len);
		free(msg->body);
	}
	/* The head holds no secret: WSOP authenticates with TLS certificates. */
	free(msg->head);
	http_message_init(msg);
}

int http_parse_request(const uint8_t *data, size_t len, struct http_message *msg, size_t *consumed)
{
	return parse_message(true, data, len, msg, consumed, NULL);
}

int http_parse_request_need(const uint8_t *data, size_t len, struct http_message *msg,
                            size_t *consumed, size_t *need)
{
	return parse_message(true, data, len, msg, consumed, need);
}

int http_parse_response(const uint8_t *data, size_t len, struct http_message *msg, size_t *consumed)
{
	return parse_message(false, data, len, msg, consumed, NULL);
}

const char *http_header_get(const struct http_message *msg, const char *name)
{
	size_t i;
	size_t n;

	if (msg == NULL || name == NULL)
		return NULL;
	n = strlen(name);
	for (i = 0; i < msg->header_count; i++) {
		const char *h = msg->headers[i].name;
		size_t k;

		if (strlen(h) != n)
			continue;
		for (k = 0; k < n; k++) {
			if (ascii_lower((unsigned char)h[k]) != ascii_lower((unsigned char)name[k]))
				break;
		}
		if (k == n)
			return msg->headers[i].value;
	}
	return NULL;
}

/* Serialisers. */

/* A head to write: its strings are measured once, while they are judged,
 * and then only copied. */
struct head_plan {
	const char *method; /* NULL for a response */
	size_t method_len;
	const char *target;
	size_t target_len;
	const char *host;
	size_t host_len;
	char code[3]; /* a response's status */
	const char *reason;
	size_t reason_len;
	const struct http_header *extra;
	size_t extra_count;
	/* for the first HTTP_MAX_HEADERS extra headers: more are -EMSGSIZE
	 * before anything is written */
	size_t name_len[HTTP_MAX_HEADERS];
	size_t value_len[HTTP_MAX_HEADERS];
	size_t body_len;
	bool close;
};

/* With buf == NULL a writer only counts, so one routine both measures and
 * writes a message and the two can never disagree. */
struct writer {
	uint8_t *buf;
	size_t len;
};

static void put(struct writer *w, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (w->buf != NULL)
		memcpy(w->buf + w->len, p, n);
	w->len += n;
}

#define PUT_LITERAL(w, lit) put((w), (lit), sizeof(lit) - 1)

static void put_size(struct writer *w, size_t v)
{
	char digits[24];
	size_t i = sizeof(digits);

	do {
		digits[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	put(w, digits + i, sizeof(digits) - i);
}

/* The length of a field name that is a token; false when it is not. */
static bool field_name_length(const char *name, size_t *len)
{
	size_t i;

	if (name == NULL || name[0] == '\0')
		return false;
	for (i = 0; name[i] != '\0'; i++) {
		if (!is_tchar((unsigned char)name[i]))
			return false;
	}
	*len = i;
	return true;
}

/* The length of a field value without CTLs; false when it has one. */
static bool field_value_length(const char *value, size_t *len)
{
	if (value == NULL)
		return false;
	*len = strlen(value);
	return !has_ctl((const uint8_t *)value, *len);
}

/* forbidden: the one header (besides the framing ones) that the serialiser
 * writes itself and that an extra header must not contradict. */
static int check_extra(struct head_plan *plan, const char *forbidden)
{
	size_t i;

	if (plan->extra == NULL && plan->extra_count > 0)
		return -EINVAL;
	for (i = 0; i < plan->extra_count; i++) {
		const uint8_t *name = (const uint8_t *)plan->extra[i].name;
		size_t name_len = 0;
		size_t value_len = 0;

		if (!field_name_length(plan->extra[i].name, &name_len) ||
		    !field_value_length(plan->extra[i].value, &value_len))
			return -EINVAL;
		if (token_is(name, name_len, "content-length") ||
		    token_is(name, name_len, "transfer-encoding") ||
		    token_is(name, name_len, forbidden))
			return -EINVAL;
		if (i < HTTP_MAX_HEADERS) {
			plan->name_len[i] = name_len;
			plan->value_len[i] = value_len;
		}
	}
	return 0;
}

static void put_head(struct writer *w, const struct head_plan *plan)
{
	size_t i;

	if (plan->method != NULL) {
		put(w, plan->method, plan->method_len);
		PUT_LITERAL(w, " ");
		put(w, plan->target, plan->target_len);
		PUT_LITERAL(w, " HTTP/1.1\r\nHost: ");
		put(w, plan->host, plan->host_len);
		PUT_LITERAL(w, "\r\n");
	} else {
		PUT_LITERAL(w, "HTTP/1.1 ");
		put(w, plan->code, sizeof(plan->code));
		PUT_LITERAL(w, " ");
		put(w, plan->reason, plan->reason_len);
		PUT_LITERAL(w, "\r\n");
	}
	for (i = 0; i < plan->extra_count; i++) {
		put(w, plan->extra[i].name, plan->name_len[i]);
		PUT_LITERAL(w, ": ");
		put(w, plan->extra[i].value, plan->value_len[i]);
		PUT_LITERAL(w, "\r\n");
	}
	PUT_LITERAL(w, "Content-Length: ");
	put_size(w, plan->body_len);
	PUT_LITERAL(w, "\r\n");
	if (plan->close)
		PUT_LITERAL(w, "Connection: close\r\n");
	PUT_LITERAL(w, "\r\n");
}

/* Measures, bounds, allocates and writes head and body. own_fields: the
 * header lines the serialiser writes itself. */
static int assemble(const struct head_plan *plan, size_t own_fields, const uint8_t *body,
                    uint8_t **out, size_t *out_len)
{
	struct writer w = { NULL, 0 };
	size_t head_len;

	if (plan->body_len > HTTP_MAX_BODY)
		return -E2BIG;
	if (plan->extra_count > HTTP_MAX_HEADERS - own_fields)
		return -EMSGSIZE;
	put_head(&w, plan);
	head_len = w.len;
	if (head_len > HTTP_MAX_HEAD)
		return -EMSGSIZE;

	w.buf = malloc(head_len + plan->body_len);
	if (w.buf == NULL)
		return -ENOMEM;
	w.len = 0;
	put_head(&w, plan);
	put(&w, body, plan->body_len);
	*out = w.buf;
	*out_len = w.len;
	return 0;
}

/* The length of a method of 1..HTTP_MAX_METHOD capitals; false when it is
 * not one. */
static bool method_length(const char *method, size_t *len)
{
	size_t i;

	for (i = 0; method[i] != '\0'; i++) {
		if (method[i] < 'A' || method[i] > 'Z' || i >= HTTP_MAX_METHOD)
			return false;
	}
	*len = i;
	return i > 0;
}

/* The length of an origin-form target of at most HTTP_MAX_TARGET visible
 * characters; false when it is not one. */
static bool target_length(const char *target, size_t *len)
{
	size_t i;

	if (target[0] != '/')
		return false;
	for (i = 0; target[i] != '\0'; i++) {
		if (!is_target_char((unsigned char)target[i]) || i >= HTTP_MAX_TARGET)
			return false;
	}
	*len = i;
	return true;
}

int http_format_request(const char *method, const char *target, const char *host,
                        const struct http_header *extra, size_t extra_count, const uint8_t *body,
                        size_t body_len, uint8_t **out, size_t *out_len)
{
	struct head_plan plan;
	int r;

	if (method == NULL || target == NULL || host == NULL || out == NULL || out_len == NULL ||
	    (body == NULL && body_len > 0))
		return -EINVAL;
	plan.method = method;
	plan.target = target;
	plan.host = host;
	if (!method_length(method, &plan.method_len) || !target_length(target, &plan.target_len) ||
	    host[0] == '\0' || !field_value_length(host, &plan.host_len))
		return -EINVAL;
	plan.extra = extra;
	plan.extra_count = extra_count;
	plan.body_len = body_len;
	plan.close = false;
	r = check_extra(&plan, "host");
	if (r < 0)
		return r;
	/* Host and Content-Length. */
	return assemble(&plan, 2, body, out, out_len);
}

int http_format_response(int status, bool keep_alive, const struct http_header *extra,
                         size_t extra_count, const uint8_t *body, size_t body_len, uint8_t **out,
                         size_t *out_len)
{
	struct head_plan plan;
	int r;

	if (out == NULL || out_len == NULL || (body == NULL && body_len > 0))
		return -EINVAL;
	if (status < 200 || status > 599)
		return -EINVAL;
	if ((status == 204 || status == 304) && body_len > 0)
		return -EINVAL;
	plan.method = NULL;
	plan.code[0] = (char)('0' + status / 100);
	plan.code[1] = (char)('0' + status / 10 % 10);
	plan.code[2] = (char)('0' + status % 10);
	plan.reason = http_reason(status);
	plan.reason_len = strlen(plan.reason);
	plan.extra = extra;
	plan.extra_count = extra_count;
	plan.body_len = body_len;
	plan.close = !keep_alive;
	r = check_extra(&plan, "connection");
	if (r < 0)
		return r;
	/* Content-Length and perhaps Connection. */
	return assemble(&plan, keep_alive ? 1 : 2, body, out, out_len);
}

const char *http_reason(int status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 301:
		return "Moved Permanently";
	case 302:
		return "Found";
	case 304:
		return "Not Modified";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 406:
		return "Not Acceptable";
	case 408:
		return "Request Timeout";
	case 409:
		return "Conflict";
	case 411:
		return "Length Required";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 415:
		return "Unsupported Media Type";
	case 422:
		return "Unprocessable Content";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Unknown";
	}
}
