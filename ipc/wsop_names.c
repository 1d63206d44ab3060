/* Shapes of WSOP names and ids; see wsop_names.h. */
#include "ipc/wsop_names.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

static bool is_name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

static bool is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* 1..max characters of the name alphabet; strnlen keeps the scan bounded
 * even for a long or unterminated-looking input. */
static bool name_shape(const char *s, size_t max)
{
	if (s == NULL)
		return false;
	size_t n = strnlen(s, max + 1);
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_name_char(s[i]))
			return false;
	return true;
}

bool wsop_name_valid(const char *s)
{
	return name_shape(s, WSOP_NAME_MAX);
}

bool wsop_idempotency_key_valid(const char *s)
{
	return name_shape(s, WSOP_IDEMPOTENCY_KEY_MAX);
}

bool wsop_activation_token_valid(const char *s)
{
	return name_shape(s, WSOP_ACTIVATION_MAX);
}

bool wsop_passphrase_valid(const char *s, size_t len)
{
	if (s == NULL || len == 0 || len > WSOP_PASSPHRASE_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c > 0x7e)
			return false;
	}
	return true;
}

bool wsop_softcard_id_valid(const char *s)
{
	if (s == NULL || strnlen(s, WSOP_SOFTCARD_ID_LEN + 1) != WSOP_SOFTCARD_ID_LEN)
		return false;
	for (size_t i = 0; i < WSOP_SOFTCARD_ID_LEN; i++)
		if (!is_lower_hex(s[i]))
			return false;
	return true;
}

bool wsop_uuid_valid(const char *s)
{
	if (s == NULL || strnlen(s, WSOP_UUID_LEN + 1) != WSOP_UUID_LEN)
		return false;
	for (size_t i = 0; i < WSOP_UUID_LEN; i++) {
		bool dash_here = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash_here ? s[i] != '-' : !is_lower_hex(s[i]))
			return false;
	}
	return true;
}

static bool leap_year(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

bool wsop_date_valid(const char *s)
{
	static const unsigned char days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (s == NULL || strnlen(s, WSOP_DATE_LEN + 1) != WSOP_DATE_LEN)
		return false;
	unsigned v[WSOP_DATE_LEN];
	for (size_t i = 0; i < WSOP_DATE_LEN; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v[i] = (unsigned)(s[i] - '0');
	}
	unsigned year = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3];
	unsigned month = v[4] * 10 + v[5];
	unsigned day = v[6] * 10 + v[7];
	if (year == 0 || month < 1 || month > 12 || day < 1)
		return false;
	unsigned last = days[month - 1] + (month == 2 && leap_year(year) ? 1u : 0u);
	return day <= last;
}

/* Length of the UTF-8 sequence that starts at s[i], or 0 when it is not a
 * well-formed one (RFC 3629 table: no overlongs, no surrogates, max
 * U+10FFFF). */
static size_t utf8_seq_len(const unsigned char *s, size_t i, size_t len)
{
	unsigned char c = s[i];
	size_t need;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (len - i - 1 < need)
		return 0;
	/* Only the first continuation byte has the narrowed range. */
	if (s[i + 1] < lo || s[i + 1] > hi)
		return 0;
	for (size_t k = 2; k <= need; k++)
		if (s[i + k] < 0x80 || s[i + k] > 0xbf)
			return 0;
	return need + 1;
}

bool wsop_utf8_text_valid(const char *s, size_t len)
{
	if (s == NULL)
		return len == 0;
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < len;) {
		if (u[i] == 0)
			return false;
		size_t n = utf8_seq_len(u, i, len);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

int wsop_key_path_parse(const char *path, char group[WSOP_UUID_LEN + 1],
                        char key[WSOP_UUID_LEN + 1])
{
	static const size_t prefix_len = sizeof(WSOP_KEY_PATH_PREFIX) - 1;
	static const size_t infix_len = sizeof(WSOP_KEY_PATH_INFIX) - 1;
	char g[WSOP_UUID_LEN + 1], k[WSOP_UUID_LEN + 1];

	if (group != NULL)
		group[0] = '\0';
	if (key != NULL)
		key[0] = '\0';
	if (path == NULL || group == NULL || key == NULL ||
	    strnlen(path, WSOP_KEY_PATH_LEN + 1) != WSOP_KEY_PATH_LEN)
		return -EINVAL;
	if (memcmp(path, WSOP_KEY_PATH_PREFIX, prefix_len) != 0 ||
	    memcmp(path + prefix_len + WSOP_UUID_LEN, WSOP_KEY_PATH_INFIX, infix_len) != 0)
		return -EINVAL;
	memcpy(g, path + prefix_len, WSOP_UUID_LEN);
	g[WSOP_UUID_LEN] = '\0';
	memcpy(k, path + prefix_len + WSOP_UUID_LEN + infix_len, WSOP_UUID_LEN);
	k[WSOP_UUID_LEN] = '\0';
	if (!wsop_uuid_valid(g) || !wsop_uuid_valid(k))
		return -EINVAL;
	memcpy(group, g, sizeof(g));
	memcpy(key, k, sizeof(k));
	return 0;
}

int wsop_key_path_format(const char *group, const char *key, char *out, size_t out_cap)
{
	if (out == NULL || !wsop_uuid_valid(group) || !wsop_uuid_valid(key))
		return -EINVAL;
	if (out_cap <= WSOP_KEY_PATH_LEN)
		return -ENOBUFS;
	char *p = out;
	memcpy(p, WSOP_KEY_PATH_PREFIX, sizeof(WSOP_KEY_PATH_PREFIX) - 1);
	p += sizeof(WSOP_KEY_PATH_PREFIX) - 1;
	memcpy(p, group, WSOP_UUID_LEN);
	p += WSOP_UUID_LEN;
	memcpy(p, WSOP_KEY_PATH_INFIX, sizeof(WSOP_KEY_PATH_INFIX) - 1);
	p += sizeof(WSOP_KEY_PATH_INFIX) - 1;
	memcpy(p, key, WSOP_UUID_LEN);
	p[WSOP_UUID_LEN] = '\0';
	return 0;
}
