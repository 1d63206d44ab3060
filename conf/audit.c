/* Audit line formatting; the contract is in audit.h. */
#include "conf/audit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Room always kept free for the closing " truncated=1". */
static const char truncated_mark[] = " truncated=1";
#define RESERVE (sizeof(truncated_mark) - 1)
/* A field: " " + key + "=" + quotes + every value byte as \xHH. */
#define FIELD_MAX (1 + AUDIT_KEY_MAX + 1 + 2 + 4 * AUDIT_VALUE_MAX)

static const char hex_digits[] = "0123456789abcdef";

static bool key_valid(const char *key)
{
	size_t n = 0;

	if (key == NULL)
		return false;
	for (; key[n] != '\0'; n++) {
		char c = key[n];
		if (n >= AUDIT_KEY_MAX ||
		    !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return n > 0;
}

static bool bare_byte(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       strchr("._:/@+,-", c) != NULL;
}

static bool needs_quotes(const unsigned char *v, size_t len)
{
	if (len == 0)
		return true;
	for (size_t i = 0; i < len; i++) {
		if (v[i] == '\0' || !bare_byte(v[i]))
			return true;
	}
	return false;
}

/* Writes one value byte in its quoted form; returns the bytes written. */
static size_t quote_byte(unsigned char c, char *out)
{
	switch (c) {
	case '"':
	case '\\':
		out[0] = '\\';
		out[1] = (char)c;
		return 2;
	case '\n':
		memcpy(out, "\\n", 2);
		return 2;
	case '\r':
		memcpy(out, "\\r", 2);
		return 2;
	case '\t':
		memcpy(out, "\\t", 2);
		return 2;
	default:
		break;
	}
	if (c < 0x20 || c >= 0x7f) {
		out[0] = '\\';
		out[1] = 'x';
		out[2] = hex_digits[c >> 4];
		out[3] = hex_digits[c & 0x0f];
		return 4;
	}
	out[0] = (char)c;
	return 1;
}

/* Appends field[0..len) whole, or leaves it out and marks the line. */
static void append_field(struct audit_line *a, const char *field, size_t len)
{
	if (a->len + len + RESERVE >= sizeof(a->text)) {
		a->truncated = true;
		return;
	}
	memcpy(a->text + a->len, field, len);
	a->len += len;
	a->text[a->len] = '\0';
}

void audit_mem(struct audit_line *a, const char *key, const void *value, size_t len)
{
	const unsigned char *v = value;
	char field[FIELD_MAX];
	size_t n;

	if (a == NULL || !key_valid(key) || (value == NULL && len > 0))
		return;
	if (len > AUDIT_VALUE_MAX) {
		len = AUDIT_VALUE_MAX;
		a->truncated = true;
	}
	n = (size_t)snprintf(field, sizeof(field), " %s=", key);
	if (!needs_quotes(v, len)) {
		memcpy(field + n, v, len);
		append_field(a, field, n + len);
		return;
	}
	field[n++] = '"';
	for (size_t i = 0; i < len; i++)
		n += quote_byte(v[i], field + n);
	field[n++] = '"';
	append_field(a, field, n);
}

void audit_str(struct audit_line *a, const char *key, const char *value)
{
	if (value != NULL)
		audit_mem(a, key, value, strnlen(value, AUDIT_VALUE_MAX + 1));
}

void audit_uint(struct audit_line *a, const char *key, unsigned long long value)
{
	char digits[24];
	int n = snprintf(digits, sizeof(digits), "%llu", value);

	if (n > 0)
		audit_mem(a, key, digits, (size_t)n);
}

void audit_int(struct audit_line *a, const char *key, long long value)
{
	char digits[24];
	int n = snprintf(digits, sizeof(digits), "%lld", value);

	if (n > 0)
		audit_mem(a, key, digits, (size_t)n);
}

void audit_hex(struct audit_line *a, const char *key, const void *bytes, size_t len)
{
	const unsigned char *b = bytes;
	char text[2 * AUDIT_VALUE_MAX + 1];

	if (a == NULL || (bytes == NULL && len > 0))
		return;
	/* Half the value bound, so the hex itself stays within it. */
	if (len > AUDIT_VALUE_MAX / 2) {
		len = AUDIT_VALUE_MAX / 2;
		a->truncated = true;
	}
	for (size_t i = 0; i < len; i++) {
		text[2 * i] = hex_digits[b[i] >> 4];
		text[2 * i + 1] = hex_digits[b[i] & 0x0f];
	}
	audit_mem(a, key, text, 2 * len);
}

static const char *outcome_name(enum audit_outcome o)
{
	switch (o) {
	case AUDIT_SUCCESS:
		return "success";
	case AUDIT_FAILURE:
		return "failure";
	default:
		return "warning";
	}
}

void audit_begin(struct audit_line *a, const char *event, enum audit_outcome outcome)
{
	memcpy(a->text, "audit", sizeof("audit"));
	a->len = strlen("audit");
	a->truncated = false;
	a->outcome = outcome;
	audit_str(a, "event", event);
	audit_str(a, "outcome", outcome_name(outcome));
	audit_int(a, "pid", (long long)getpid());
	audit_uint(a, "uid", (unsigned long long)getuid());
	audit_str(a, "prog", program_invocation_short_name);
}

const char *audit_finish(struct audit_line *a)
{
	/* RESERVE was kept free by every append, so the mark always fits. */
	if (a->truncated &&
	    (a->len < RESERVE || strcmp(a->text + a->len - RESERVE, truncated_mark) != 0)) {
		memcpy(a->text + a->len, truncated_mark, sizeof(truncated_mark));
		a->len += RESERVE;
	}
	return a->text;
}

void audit_emit(struct audit_line *a)
{
	const char *text = audit_finish(a);

	wlog_audit(a->outcome == AUDIT_SUCCESS ? WLOG_INFO : WLOG_WARNING, text);
}
