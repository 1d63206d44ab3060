/* The event loop policy; see loop_pick.h. */
#include "server/loop_pick.h"

#include <stdbool.h>

static bool busy(const struct loop_stat *s, unsigned threshold)
{
	return s->busy > threshold;
}

unsigned loop_pick_new(const struct loop_stat *st, unsigned n, unsigned busy_threshold)
{
	unsigned best = 0;

	for (unsigned i = 0; i < n; i++)
		if (!busy(&st[i], busy_threshold))
			return i;
	for (unsigned i = 1; i < n; i++)
		if (st[i].busy < st[best].busy ||
		    (st[i].busy == st[best].busy && st[i].load < st[best].load))
			best = i;
	return best;
}

int loop_pick_relief(const struct loop_stat *st, unsigned n, unsigned self, unsigned busy_threshold)
{
	int best = -1;

	if (self >= n || !busy(&st[self], busy_threshold))
		return -1;
	for (unsigned i = 0; i < n; i++) {
		if (i == self || st[i].busy > busy_threshold / 2)
			continue;
		if (best < 0 || st[i].busy < st[best].busy)
			best = (int)i;
	}
	return best;
}
