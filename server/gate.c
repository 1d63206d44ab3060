/* Handshake budget with a fair share per source address; see gate.h. */
#include "server/gate.h"

#include <errno.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

int gate_init(struct gate *g, unsigned max)
{
	memset(g, 0, sizeof(*g));
	if (max == 0)
		return -EINVAL;
	g->entries = calloc((size_t)max * 2, sizeof(*g->entries));
	g->order = calloc((size_t)max * 2, sizeof(*g->order));
	if (g->entries == NULL || g->order == NULL) {
		gate_free(g);
		return -ENOMEM;
	}
	g->cap = max * 2;
	g->max = max;
	return 0;
}

void gate_free(struct gate *g)
{
	free(g->entries);
	free(g->order);
	memset(g, 0, sizeof(*g));
}

void gate_source_of(const struct sockaddr *sa, socklen_t len, struct gate_source *out)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		out->len = 4;
		memcpy(out->bytes, &in->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			out->len = 4;
			memcpy(out->bytes, in6->sin6_addr.s6_addr + 12, 4);
		} else {
			out->len = 8;
			memcpy(out->bytes, in6->sin6_addr.s6_addr, 8);
		}
	}
}

static bool same_source(const struct gate_source *a, const struct gate_source *b)
{
	return a->len == b->len && memcmp(a->bytes, b->bytes, a->len) == 0;
}

static bool counts(const struct gate_entry *e)
{
	return e->used && !e->evicted;
}

unsigned gate_count(const struct gate *g, const struct gate_source *src)
{
	unsigned n = 0;

	for (unsigned i = 0; i < g->cap; i++)
		if (counts(&g->entries[i]) && same_source(&g->entries[i].src, src))
			n++;
	return n;
}

/* qsort_r order: by source, then oldest first. */
static int by_source_then_age(const void *pa, const void *pb, void *arg)
{
	const struct gate_entry *entries = arg;
	const struct gate_entry *a = &entries[*(const unsigned *)pa];
	const struct gate_entry *b = &entries[*(const unsigned *)pb];
	int c = (int)a->src.len - (int)b->src.len;

	if (c == 0)
		c = memcmp(a->src.bytes, b->src.bytes, a->src.len);
	if (c == 0)
		c = (a->since_ms > b->since_ms) - (a->since_ms < b->since_ms);
	return c;
}

/* Works out the largest share and its oldest entry (among equal shares,
 * the one whose oldest entry is the oldest). */
static void find_largest_share(struct gate *g)
{
	unsigned n = 0;

	for (unsigned i = 0; i < g->cap; i++)
		if (counts(&g->entries[i]))
			g->order[n++] = i;
	qsort_r(g->order, n, sizeof(*g->order), by_source_then_age, g->entries);
	g->most = 0;
	g->oldest_of_most = -1;
	for (unsigned start = 0, end; start < n; start = end) {
		const struct gate_entry *first = &g->entries[g->order[start]];

		for (end = start + 1;
		     end < n && same_source(&g->entries[g->order[end]].src, &first->src); end++)
			;
		if (end - start > g->most ||
		    (end - start == g->most &&
		     first->since_ms < g->entries[g->oldest_of_most].since_ms)) {
			g->most = end - start;
			g->oldest_of_most = (int)g->order[start];
		}
	}
	g->share_known = true;
}

/* The oldest handshake of the source with the most in progress, if that
 * source has at least two more than src; -1 otherwise. */
static int pick_victim(struct gate *g, const struct gate_source *src)
{
	if (!g->share_known)
		find_largest_share(g);
	return g->most >= gate_count(g, src) + 2 ? g->oldest_of_most : -1;
}

int gate_enter(struct gate *g, const struct gate_source *src, int64_t since_ms, void *owner,
               void **evicted)
{
	int slot = -1;

	*evicted = NULL;
	for (unsigned i = 0; i < g->cap && slot < 0; i++)
		if (!g->entries[i].used)
			slot = (int)i;
	if (slot < 0)
		return -EBUSY;
	if (g->active >= g->max) {
		int victim = pick_victim(g, src);

		if (victim < 0)
			return -EBUSY;
		g->entries[victim].evicted = true;
		g->active--;
		g->share_known = false;
		*evicted = g->entries[victim].owner;
	}
	g->entries[slot] =
	    (struct gate_entry){ .used = true, .since_ms = since_ms, .src = *src, .owner = owner };
	g->active++;
	g->share_known = false;
	return slot;
}

void gate_leave(struct gate *g, int index)
{
	struct gate_entry *e;

	if (index < 0 || (unsigned)index >= g->cap || !g->entries[index].used)
		return;
	e = &g->entries[index];
	if (!e->evicted) {
		g->active--;
		g->share_known = false;
	}
	memset(e, 0, sizeof(*e));
}
