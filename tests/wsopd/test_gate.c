/* cmocka tests of wsopd's handshake budget and its fair share per source
 * address (server/gate.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "server/gate.h"

/* The source of an address given as text (IPv6 when it has a ':'). */
static struct gate_source source(const char *text)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	bool six = strchr(text, ':') != NULL;
	struct gate_source src;

	ss.ss_family = six ? AF_INET6 : AF_INET;
	assert_int_equal(
	    inet_pton(ss.ss_family, text, six ? (void *)&in6->sin6_addr : (void *)&in->sin_addr),
	    1);
	gate_source_of((const struct sockaddr *)&ss, six ? sizeof(*in6) : sizeof(*in), &src);
	return src;
}

static bool same(struct gate_source a, struct gate_source b)
{
	return a.len == b.len && memcmp(a.bytes, b.bytes, a.len) == 0;
}

/* Enters a handshake that must be admitted without evicting anybody. */
static int enter_ok(struct gate *g, struct gate_source src, int64_t since, void *owner)
{
	void *evicted = (void *)1;
	int index = gate_enter(g, &src, since, owner, &evicted);

	assert_true(index >= 0);
	assert_null(evicted);
	return index;
}

static void test_sources(void **state)
{
	struct sockaddr_un_like {
		sa_family_t family;
	} other = { AF_UNIX };
	struct gate_source unknown;

	assert_int_equal(source("192.0.2.1").len, 4);
	assert_false(same(source("192.0.2.1"), source("192.0.2.2")));
	/* One IPv6 /64 is one source; another /64 is another. */
	assert_int_equal(source("2001:db8:1:2::1").len, 8);
	assert_true(same(source("2001:db8:1:2::1"), source("2001:db8:1:2:ffff::9")));
	assert_false(same(source("2001:db8:1:2::1"), source("2001:db8:1:3::1")));
	assert_true(same(source("::ffff:192.0.2.1"), source("192.0.2.1")));
	/* A family we do not know, or a short address: all such alike. */
	gate_source_of((const struct sockaddr *)&other, sizeof(other), &unknown);
	assert_int_equal(unknown.len, 0);
}

static void test_budget_without_contention(void **state)
{
	struct gate g;
	struct gate_source a = source("192.0.2.1");
	void *evicted;
	int idx[3];

	assert_int_equal(gate_init(&g, 0), -EINVAL);
	assert_int_equal(gate_init(&g, 3), 0);
	for (int i = 0; i < 3; i++)
		idx[i] = enter_ok(&g, a, i, NULL);
	assert_int_equal(gate_count(&g, &a), 3);
	/* Full, and the newcomer's own address holds everything. */
	assert_int_equal(gate_enter(&g, &a, 10, NULL, &evicted), -EBUSY);
	assert_null(evicted);
	gate_leave(&g, idx[1]);
	gate_leave(&g, idx[1]); /* twice: harmless */
	gate_leave(&g, -1);
	gate_leave(&g, 1000);
	assert_int_equal(gate_count(&g, &a), 2);
	enter_ok(&g, a, 11, NULL);
	gate_free(&g);
}

static void test_one_address_gives_way_to_another(void **state)
{
	struct gate g;
	struct gate_source a = source("192.0.2.1"), b = source("198.51.100.7");
	int owners[4];
	void *evicted;
	int index;

	assert_int_equal(gate_init(&g, 4), 0);
	/* Entered out of order: the oldest is the one with since 1. */
	enter_ok(&g, a, 3, &owners[0]);
	enter_ok(&g, a, 1, &owners[1]);
	enter_ok(&g, a, 4, &owners[2]);
	enter_ok(&g, a, 2, &owners[3]);
	index = gate_enter(&g, &b, 5, NULL, &evicted);
	assert_true(index >= 0);
	assert_ptr_equal(evicted, &owners[1]);
	assert_int_equal(gate_count(&g, &a), 3);
	assert_int_equal(gate_count(&g, &b), 1);
	/* a 3, b 1: b may take one more (3 >= 1 + 2), then 2 and 2 is even. */
	assert_true(gate_enter(&g, &b, 6, NULL, &evicted) >= 0);
	assert_ptr_equal(evicted, &owners[3]);
	assert_int_equal(gate_enter(&g, &b, 7, NULL, &evicted), -EBUSY);
	assert_int_equal(gate_enter(&g, &a, 7, NULL, &evicted), -EBUSY);
	gate_free(&g);
}

static void test_many_addresses_share_evenly(void **state)
{
	struct gate g;
	struct gate_source a = source("192.0.2.1"), b = source("192.0.2.2");
	struct gate_source c = source("192.0.2.3"), d = source("192.0.2.4"),
	                   e = source("192.0.2.5");
	int oldest_a, oldest_b;
	void *evicted;

	assert_int_equal(gate_init(&g, 4), 0);
	enter_ok(&g, a, 2, &oldest_a);
	enter_ok(&g, a, 3, NULL);
	enter_ok(&g, b, 1, &oldest_b);
	enter_ok(&g, b, 4, NULL);
	/* a and b hold 2 each: the oldest among them goes (b's). */
	assert_true(gate_enter(&g, &c, 5, NULL, &evicted) >= 0);
	assert_ptr_equal(evicted, &oldest_b);
	assert_true(gate_enter(&g, &d, 6, NULL, &evicted) >= 0);
	assert_ptr_equal(evicted, &oldest_a);
	/* One each: nobody has two more than a newcomer. */
	assert_int_equal(gate_count(&g, &a) + gate_count(&g, &b), 2);
	assert_int_equal(gate_enter(&g, &e, 7, NULL, &evicted), -EBUSY);
	gate_free(&g);
}

/* a enters once more; then a newcomer from other evicts a's oldest and
 * leaves again: one more evicted entry lingers. Returns the evicted
 * entry's index (its owner is its index + 1, as a pointer). */
static int evict_one_of(struct gate *g, struct gate_source a, struct gate_source other,
                        int64_t since)
{
	void *evicted;
	int index = enter_ok(g, a, since, (void *)(intptr_t)(since + 1));
	int newcomer = gate_enter(g, &other, since + 1, NULL, &evicted);

	(void)index;
	assert_true(newcomer >= 0);
	assert_non_null(evicted);
	gate_leave(g, newcomer);
	for (unsigned i = 0; i < g->cap; i++)
		if (g->entries[i].used && g->entries[i].owner == evicted)
			return (int)i;
	fail();
	return -1;
}

static void test_evicted_entries_linger_until_left(void **state)
{
	struct gate g;
	struct gate_source a = source("192.0.2.1"), b = source("198.51.100.1");
	void *evicted;
	int gone[2];

	assert_int_equal(gate_init(&g, 2), 0);
	enter_ok(&g, a, 0, (void *)(intptr_t)1);
	gone[0] = evict_one_of(&g, a, b, 10);
	gone[1] = evict_one_of(&g, a, b, 20);
	enter_ok(&g, a, 30, NULL);
	/* a holds both places, so b could take one, but the two evicted
	 * entries are still owned by their threads: no free entry. */
	assert_int_equal(gate_count(&g, &a), 2);
	assert_int_equal(g.active, 2);
	assert_int_equal(gate_enter(&g, &b, 40, NULL, &evicted), -EBUSY);
	/* An evicted entry that leaves frees an entry, not a place. */
	gate_leave(&g, gone[0]);
	assert_int_equal(g.active, 2);
	assert_true(gate_enter(&g, &b, 41, NULL, &evicted) >= 0);
	assert_non_null(evicted);
	gate_leave(&g, gone[1]);
	gate_free(&g);
}

/* The fair-share rule written the slow, obvious way: the source with the
 * most counting entries (ties: the one with the oldest entry) gives its
 * oldest entry up if it has at least two more than src. */
static void *naive_victim(const struct gate *g, const struct gate_source *src)
{
	unsigned most = 0;
	int victim = -1;

	for (unsigned i = 0; i < g->cap; i++) {
		const struct gate_entry *e = &g->entries[i];
		unsigned n;

		if (!e->used || e->evicted)
			continue;
		n = gate_count(g, &e->src);
		if (n > most || (n == most && e->since_ms < g->entries[victim].since_ms)) {
			most = n;
			victim = (int)i;
		}
	}
	return victim >= 0 && most >= gate_count(g, src) + 2 ? g->entries[victim].owner : NULL;
}

static void test_matches_the_obvious_rule(void **state)
{
	static const char *const addrs[] = { "192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4",
		                             "192.0.2.5" };
	int owners[200];
	int index_of[200];
	struct gate g;
	unsigned seed = 12345;
	int evictions = 0, refusals = 0;

	assert_int_equal(gate_init(&g, 8), 0);
	for (int step = 0; step < 200; step++) {
		struct gate_source src;
		void *expected = NULL, *evicted;
		int index;

		seed = seed * 1103515245u + 12345u;
		src = source(addrs[(seed >> 16) % 4 == 0 ? 0 : (seed >> 8) % 5]);
		/* Now and then a handshake ends (evicted ones too). */
		if ((seed >> 20) % 3 == 0) {
			for (int k = 0; k < step; k++) {
				if (index_of[k] >= 0) {
					gate_leave(&g, index_of[k]);
					index_of[k] = -1;
					break;
				}
			}
		}
		if (g.active >= g.max)
			expected = naive_victim(&g, &src);
		index = gate_enter(&g, &src, step, &owners[step], &evicted);
		index_of[step] = index;
		if (index >= 0)
			assert_ptr_equal(evicted, expected);
		else
			assert_null(evicted);
		assert_true(g.active <= g.max);
		evictions += evicted != NULL;
		refusals += index < 0;
	}
	/* The sequence went through both outcomes, many times. */
	assert_true(evictions >= 10);
	assert_true(refusals >= 10);
	gate_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sources),
		cmocka_unit_test(test_budget_without_contention),
		cmocka_unit_test(test_one_address_gives_way_to_another),
		cmocka_unit_test(test_many_addresses_share_evenly),
		cmocka_unit_test(test_evicted_entries_linger_until_left),
		cmocka_unit_test(test_matches_the_obvious_rule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
