/* Server choice and back-off bookkeeping; see server_pick.h. */
#include "lib/server_pick.h"

#include <string.h>

void server_pick_init(struct server_pick *sp, unsigned n)
{
	memset(sp, 0, sizeof(*sp));
	sp->n = n == 0 ? 1 : n > CONFIG_SERVERS_MAX ? CONFIG_SERVERS_MAX : n;
}

bool server_pick_aside(const struct server_pick *sp, unsigned i, int64_t now_ms)
{
	return i < sp->n && sp->aside_until[i] > now_ms;
}

unsigned server_pick_choose(const struct server_pick *sp, int avoid, int64_t now_ms,
                            bool *aside_ended)
{
	unsigned pick = sp->n;
	for (unsigned i = 0; i < sp->n && pick == sp->n; i++)
		if ((int)i != avoid && !server_pick_aside(sp, i, now_ms))
			pick = i;
	if (pick == sp->n && avoid >= 0 && (unsigned)avoid < sp->n &&
	    !server_pick_aside(sp, (unsigned)avoid, now_ms))
		pick = (unsigned)avoid;
	if (pick == sp->n) {
		pick = 0;
		for (unsigned i = 1; i < sp->n; i++)
			if (sp->aside_until[i] < sp->aside_until[pick])
				pick = i;
	}
	if (aside_ended != NULL)
		*aside_ended = sp->failures[pick] > 0 && !server_pick_aside(sp, pick, now_ms);
	return pick;
}

int64_t server_pick_failed(struct server_pick *sp, unsigned i, int64_t base_ms, int64_t now_ms)
{
	if (i >= sp->n)
		return 0;
	int64_t ms = base_ms < SERVER_PICK_BACKOFF_MIN_MS ? SERVER_PICK_BACKOFF_MIN_MS : base_ms;
	for (unsigned k = 0; k < sp->failures[i] && ms < SERVER_PICK_BACKOFF_MAX_MS; k++)
		ms *= 2;
	if (ms > SERVER_PICK_BACKOFF_MAX_MS)
		ms = SERVER_PICK_BACKOFF_MAX_MS;
	if (sp->failures[i] < UINT32_MAX)
		sp->failures[i]++;
	sp->aside_until[i] = now_ms + ms;
	return ms;
}

void server_pick_ok(struct server_pick *sp, unsigned i)
{
	if (i >= sp->n)
		return;
	sp->failures[i] = 0;
	sp->aside_until[i] = 0;
}
