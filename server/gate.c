/* Handshake budget with a fair share per source address; see gate.h. */
#include "server/gate.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

int gate_init(struct gate *g, unsigned max)
{
	memset(g, 0, sizeof(*g));
	if (max == 0)
		return -EINVAL;
	g->entries = calloc((size_t)max * 2, sizeof(*g->entries));
	if (g->entries == NULL)
		return -ENOMEM;
	g->cap = max * 2;
	g->max = max;
	return 0;
}

void gate_free(struct gate *g)
{
	free(g->entries);
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

/* The oldest handshake of the source with the most in progress, if that
 * source has at least two more than src; -1 otherwise. Quadratic in the
 * budget, and only run when the budget is full. */
static int pick_victim(const struct gate *g, const struct gate_source *src)
{
	unsigned mine = gate_count(g, src);
	unsigned most = 0;
	int victim = -1;

	for (unsigned i = 0; i < g->cap; i++) {
		const struct gate_entry *e = &g->entries[i];
		unsigned n;

		if (!counts(e))
			continue;
		n = gate_count(g, &e->src);
		if (n > most || (n == most && e->since_ms < g->entries[victim].since_ms)) {
			most = n;
			victim = (int)i;
		}
	}
	return most >= mine + 2 ? victim : -1;
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
		*evicted = g->entries[victim].owner;
	}
	g->entries[slot] =
	    (struct gate_entry){ .used = true, .since_ms = since_ms, .src = *src, .owner = owner };
	g->active++;
	return slot;
}

void gate_leave(struct gate *g, int index)
{
	struct gate_entry *e;

	if (index < 0 || (unsigned)index >= g->cap || !g->entries[index].used)
		return;
	e = &g->entries[index];
	if (!e->evicted)
		g->active--;
	memset(e, 0, sizeof(*e));
}
