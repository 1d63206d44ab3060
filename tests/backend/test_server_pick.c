/* lib/server_pick.h: the choice of a server and its back-off, on times the
 * test gives (no clock, no network). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/server_pick.h"

static void one_server_is_always_chosen(void **state)
{
	(void)state;
	struct server_pick sp;
	bool ended = true;
	server_pick_init(&sp, 1);
	assert_int_equal(server_pick_choose(&sp, -1, 0, &ended), 0);
	assert_false(ended);
	assert_int_equal(server_pick_failed(&sp, 0, 10000, 100), 10000);
	/* Set aside, yet the only one: still chosen, and avoid changes nothing. */
	assert_true(server_pick_aside(&sp, 0, 101));
	assert_int_equal(server_pick_choose(&sp, 0, 101, &ended), 0);
	assert_false(ended);
	assert_int_equal(server_pick_choose(&sp, 0, 10100, &ended), 0);
	assert_true(ended);
}

static void first_healthy_in_host_order(void **state)
{
	(void)state;
	struct server_pick sp;
	server_pick_init(&sp, 3);
	assert_int_equal(server_pick_choose(&sp, -1, 0, NULL), 0);
	server_pick_failed(&sp, 0, 1000, 0);
	assert_int_equal(server_pick_choose(&sp, -1, 10, NULL), 1);
	server_pick_failed(&sp, 1, 1000, 10);
	assert_int_equal(server_pick_choose(&sp, -1, 20, NULL), 2);
	/* Server 0's back-off ends first: preferred again, and said so. */
	bool ended = false;
	assert_int_equal(server_pick_choose(&sp, -1, 1000, &ended), 0);
	assert_true(ended);
	server_pick_ok(&sp, 0);
	assert_int_equal(server_pick_choose(&sp, -1, 1000, &ended), 0);
	assert_false(ended);
}

static void avoid_moves_the_request_on_unless_nothing_else_is_up(void **state)
{
	(void)state;
	struct server_pick sp;
	server_pick_init(&sp, 3);
	/* A busy server is avoided without being set aside. */
	assert_int_equal(server_pick_choose(&sp, 0, 0, NULL), 1);
	assert_int_equal(server_pick_choose(&sp, 1, 0, NULL), 0);
	server_pick_failed(&sp, 1, 1000, 0);
	server_pick_failed(&sp, 2, 1000, 0);
	/* Only the avoided one is up: it is the choice. */
	assert_int_equal(server_pick_choose(&sp, 0, 5, NULL), 0);
}

static void all_aside_gives_the_one_back_soonest(void **state)
{
	(void)state;
	struct server_pick sp;
	server_pick_init(&sp, 3);
	server_pick_failed(&sp, 0, 3000, 0);
	server_pick_failed(&sp, 1, 1000, 0);
	server_pick_failed(&sp, 2, 2000, 0);
	assert_int_equal(server_pick_choose(&sp, -1, 10, NULL), 1);
	assert_int_equal(server_pick_choose(&sp, 1, 10, NULL), 1);
	for (unsigned i = 0; i < 3; i++)
		assert_true(server_pick_aside(&sp, i, 10));
}

static void backoff_doubles_per_failure_in_a_row_up_to_the_cap(void **state)
{
	(void)state;
	struct server_pick sp;
	server_pick_init(&sp, 2);
	/* Below the floor: the floor. */
	assert_int_equal(server_pick_failed(&sp, 0, 0, 0), SERVER_PICK_BACKOFF_MIN_MS);
	assert_int_equal(server_pick_failed(&sp, 0, 0, 0), 2 * SERVER_PICK_BACKOFF_MIN_MS);
	assert_int_equal(server_pick_failed(&sp, 0, 0, 0), 4 * SERVER_PICK_BACKOFF_MIN_MS);
	for (int k = 0; k < 40; k++)
		assert_true(server_pick_failed(&sp, 0, 0, 0) <= SERVER_PICK_BACKOFF_MAX_MS);
	assert_int_equal(server_pick_failed(&sp, 0, 0, 0), SERVER_PICK_BACKOFF_MAX_MS);
	assert_int_equal(server_pick_failed(&sp, 0, 10 * 60000, 0), SERVER_PICK_BACKOFF_MAX_MS);
	/* A success starts over. */
	server_pick_ok(&sp, 0);
	assert_false(server_pick_aside(&sp, 0, 0));
	assert_int_equal(server_pick_failed(&sp, 0, 5000, 7), 5000);
	assert_true(server_pick_aside(&sp, 0, 5006));
	assert_false(server_pick_aside(&sp, 0, 5007));
	/* The other server's count is its own. */
	assert_int_equal(server_pick_failed(&sp, 1, 5000, 0), 5000);
}

static void bounds_are_kept(void **state)
{
	(void)state;
	struct server_pick sp;
	server_pick_init(&sp, 0);
	assert_int_equal(sp.n, 1);
	server_pick_init(&sp, CONFIG_SERVERS_MAX + 5);
	assert_int_equal(sp.n, CONFIG_SERVERS_MAX);
	/* Out-of-range indexes change nothing. */
	assert_int_equal(server_pick_failed(&sp, CONFIG_SERVERS_MAX, 1000, 0), 0);
	server_pick_ok(&sp, CONFIG_SERVERS_MAX);
	assert_false(server_pick_aside(&sp, CONFIG_SERVERS_MAX, 0));
	assert_int_equal(server_pick_choose(&sp, CONFIG_SERVERS_MAX + 3, 0, NULL), 0);
	assert_int_equal(server_pick_choose(&sp, -7, 0, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_server_is_always_chosen),
		cmocka_unit_test(first_healthy_in_host_order),
		cmocka_unit_test(avoid_moves_the_request_on_unless_nothing_else_is_up),
		cmocka_unit_test(all_aside_gives_the_one_back_soonest),
		cmocka_unit_test(backoff_doubles_per_failure_in_a_row_up_to_the_cap),
		cmocka_unit_test(bounds_are_kept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
