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

/* What one parse has seen and where the extra member goes. */
struct parse {
	bool seen_limit, seen_after, seen_extra;
	const char *extra;
	char *extra_value;
	size_t extra_cap;
};

/* One "name=value" member of length n. */
static int take_member(const char *m, size_t n, struct parse *ps, struct page_query *out,
                       const char **why)
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
		if (ps->seen_limit || out->limit == 0) {
			*why =
			    ps->seen_limit ? "limit given twice" : "limit must be a number from 1";
			return -EINVAL;
		}
		ps->seen_limit = true;
		return 0;
	}
	if (name_len == 5 && memcmp(m, "after", 5) == 0) {
		if (ps->seen_after || vlen != WSOP_UUID_LEN) {
			*why = ps->seen_after ? "after given twice" : "after must be an id";
			return -EINVAL;
		}
		memcpy(out->after, v, vlen);
		out->after[vlen] = '\0';
		if (!wsop_uuid_valid(out->after)) {
			*why = "after must be an id";
			return -EINVAL;
		}
		ps->seen_after = true;
		return 0;
	}
	if (ps->extra != NULL && name_len == strlen(ps->extra) &&
	    memcmp(m, ps->extra, name_len) == 0) {
		if (ps->seen_extra || vlen == 0 || vlen >= ps->extra_cap) {
			*why = ps->seen_extra ? "a query member given twice"
			                      : "a query value out of bounds";
			return -EINVAL;
		}
		memcpy(ps->extra_value, v, vlen);
		ps->extra_value[vlen] = '\0';
		ps->seen_extra = true;
		return 0;
	}
	*why = "an unknown query member";
	return -EINVAL;
}

int page_query_parse(const char *query, const char *extra, char *extra_value, size_t extra_cap,
                     struct page_query *out, const char **why)
{
	struct parse ps = { .extra = extra, .extra_value = extra_value, .extra_cap = extra_cap };
	static const char *none;

	if (why == NULL)
		why = &none;
	*why = NULL;
	if (out == NULL || (extra != NULL && (extra_value == NULL || extra_cap < 2)))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (extra != NULL)
		extra_value[0] = '\0';
	out->limit = WSOP_PAGE_MAX_ITEMS;
	for (const char *p = query; p != NULL;) {
		const char *end = strchrnul(p, '&');
		int rc = take_member(p, (size_t)(end - p), &ps, out, why);
		if (rc != 0) {
			memset(out, 0, sizeof(*out));
			if (extra != NULL)
				extra_value[0] = '\0';
			return rc;
		}
		p = *end == '\0' ? NULL : end + 1;
	}
	out->legacy = !ps.seen_limit && !ps.seen_after;
	return 0;
}
