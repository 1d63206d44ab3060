/*
 * The query of a list request (ipc/README.md, "Paging"):
 * [limit=N][&after=<uuid>][&<extra>=<value>], in any order, each at most
 * once; extra is one more member the caller names (NULL: none).
 *
 * Contract:
 *  - Neither limit nor after (query NULL, or only the extra member): the
 *    first page in the form of clients older than paging (legacy true,
 *    limit WSOP_PAGE_MAX_ITEMS).
 *  - extra: its value (1 to extra_cap - 1 bytes, no '&') is copied to
 *    extra_value; absent, extra_value is "". The caller judges the value.
 *  - limit: 1-20 decimal digits; 0 is refused (a page of nothing would
 *    never advance), more than WSOP_PAGE_MAX_ITEMS means the maximum.
 *    Absent: the maximum.
 *  - after: a uuid (wsop_uuid_valid); the page starts after that id,
 *    whether or not it still exists. Absent: the first page.
 *  - Anything else (an empty query, another member, a member twice, a
 *    member without '=', a bad value) is -EINVAL with *why naming the
 *    fault for the 400 bad_request answer (never echoing the query).
 *  - The query is bounded by the request target (HTTP_MAX_TARGET); nothing
 *    is allocated.
 */
#ifndef PKCS11WSOP_SERVER_PAGING_H
#define PKCS11WSOP_SERVER_PAGING_H

#include <stdbool.h>
#include <stddef.h>

#include "ipc/wsop_json.h"

struct page_query {
	size_t limit;                  /* 1..WSOP_PAGE_MAX_ITEMS */
	char after[WSOP_UUID_LEN + 1]; /* "" for the first page */
	bool legacy;                   /* no query at all */
};

int page_query_parse(const char *query, const char *extra, char *extra_value, size_t extra_cap,
                     struct page_query *out, const char **why);

#endif
