/*
 * The query of a list request (ipc/README.md, "Paging"):
 * [limit=N][&after=<uuid>], in any order, each at most once.
 *
 * Contract:
 *  - query NULL (the target has no '?'): the first page in the form of
 *    clients older than paging (legacy true, limit WSOP_PAGE_MAX_ITEMS).
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

int page_query_parse(const char *query, struct page_query *out, const char **why);

#endif
