/*
 * libFuzzer target for the matcher of ipc/wsop_endpoints.c: the input is
 * a method, a newline and a path as wsopd takes them from a request line.
 * A routed request must be of its row's method, and its row must format
 * its ids back into exactly that path: nothing but a row's own path
 * matches it. A path no row takes must match no row with that method, and
 * the Allow list must name the methods of the rows it matches.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/http.h"
#include "ipc/wsop_endpoints.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whether list ("A, B") names method. */
static int listed(const char *list, const char *method)
{
	size_t n = strlen(method);

	for (const char *m = list; *m != '\0';) {
		size_t len = strcspn(m, ",");
		if (len == n && memcmp(m, method, n) == 0)
			return 1;
		m += len;
		m += strspn(m, ", ");
	}
	return 0;
}

static void check(const char *method, const char *path)
{
	struct wsop_path_params p, q;
	char allow[64], formatted[WSOP_PATH_MAX];
	const struct wsop_endpoint *ep =
	    wsop_endpoint_route(method, path, &p, allow, sizeof(allow));

	if (ep != NULL) {
		const char *ids[WSOP_PATH_PARAMS_MAX] = { p.id[0], p.id[1] };
		int len = wsop_endpoint_path(ep, ids, p.count, formatted, sizeof(formatted));
		if (strcmp(ep->method, method) != 0 || allow[0] != '\0' || len < 0 ||
		    strcmp(formatted, path) != 0)
			abort();
		return;
	}
	for (int i = 0; i < WSOP_EP_COUNT; i++) {
		const struct wsop_endpoint *row = wsop_endpoint((enum wsop_endpoint_id)i);
		if (!wsop_endpoint_match(row, path, &q))
			continue;
		if (strcmp(row->method, method) == 0 || !listed(allow, row->method))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char method[32], path[HTTP_MAX_TARGET + 1];
	const uint8_t *nl = memchr(data, '\n', size);
	size_t mlen = nl != NULL ? (size_t)(nl - data) : 0;
	size_t off = nl != NULL ? mlen + 1 : 0;
	size_t plen = size - off;

	if (mlen >= sizeof(method) || plen > HTTP_MAX_TARGET)
		return 0;
	memcpy(method, data, mlen);
	method[mlen] = '\0';
	memcpy(path, data + off, plen);
	path[plen] = '\0';
	/* A C string ends at its first NUL, as the router's path does. */
	if (strlen(method) == mlen)
		check(method, path);
	return 0;
}
