/* The query of a list request; see paging.h. */
#include "server/paging.h"

#include <errno.h>
#include <string.h>

#define LIMIT_DIGITS_MAX 20

/* Digits of [s, s + n) as a page size: 0 when not 1-20 digits. */
static size_t parse_limit(const char *s, size_t n)
{
	size_t v = 0;
	if (n == 0 || n > LIMIT_DIGITS_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		/* Past the maximum the exact value no longer matters. */
		if (v <= WSOP_PAGE_MAX_ITEMS)
			v = v * 10 + (size_t)(s[i] - '0');
	}
	if (v == 0)
		return 0;
	return v > WSOP_PAGE_MAX_ITEMS ? WSOP_PAGE_MAX_ITEMS : v;
}

/* One "name=value" member of length n. */
static int take_member(const char *m, size_t n, bool *seen_limit, bool *seen_after,
                       struct page_query *out, const char **why)
{
	const char *eq = memchr(m, '=', n);
	if (eq == NULL) {
		*why = "a query member without '='";
		return -EINVAL;
	}
	size_t name_len = (size_t)(eq - m);
	const char *v = eq + 1;
	size_t vlen = n - name_len - 1;
	if (name_len == 5 && memcmp(m, "limit", 5) == 0) {
		out->limit = parse_limit(v, vlen);
		if (*seen_limit || out->limit == 0) {
			*why = *seen_limit ? "limit given twice" : "limit must be a number from 1";
			return -EINVAL;
		}
		*seen_limit = true;
		return 0;
	}
	if (name_len == 5 && memcmp(m, "after", 5) == 0) {
		if (*seen_after || vlen != WSOP_UUID_LEN) {
			*why = *seen_after ? "after given twice" : "after must be an id";
			return -EINVAL;
		}
		memcpy(out->after, v, vlen);
		out->after[vlen] = '\0';
		if (!wsop_uuid_valid(out->after)) {
			*why = "after must be an id";
			return -EINVAL;
		}
		*seen_after = true;
		return 0;
	}
	*why = "the only query members are limit and after";
	return -EINVAL;
}

int page_query_parse(const char *query, struct page_query *out, const char **why)
{
	bool seen_limit = false, seen_after = false;
	static const char *none;

	if (why == NULL)
		why = &none;
	*why = NULL;
	if (out == NULL)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->limit = WSOP_PAGE_MAX_ITEMS;
	if (query == NULL) {
		out->legacy = true;
		return 0;
	}
	const char *p = query;
	for (;;) {
		const char *end = strchrnul(p, '&');
		int rc = take_member(p, (size_t)(end - p), &seen_limit, &seen_after, out, why);
		if (rc != 0) {
			memset(out, 0, sizeof(*out));
			return rc;
		}
		if (*end == '\0')
			break;
		p = end + 1;
	}
	return 0;
}
