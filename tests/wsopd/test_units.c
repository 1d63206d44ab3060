/* cmocka tests of wsopd's command line, activation table and list queries. */
#include <errno.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "server/activation.h"
#include "server/options.h"
#include "server/paging.h"
#include "server/store.h"

#define SC1 "0123456789abcdef0123456789abcdef01234567"
#define SC2 "fedcba9876543210fedcba9876543210fedcba98"
#define CL1 "1111111111111111111111111111111111111111111111111111111111111111"
#define CL2 "2222222222222222222222222222222222222222222222222222222222222222"
#define G1  "00000000-0000-0000-0000-000000000001"
#define K1  "00000000-0000-0000-0000-0000000000a1"

static enum options_result parse(struct wsopd_options *o, char *err, int argc, char **argv)
{
	return options_parse(argc, argv, o, err, 256);
}

static void test_options_defaults(void **state)
{
	char *argv[] = { "wsopd", "--cert", "c", "--key", "k", "--ca", "a", "--store", "s", NULL };
	struct wsopd_options o;
	char err[256];

	assert_int_equal(parse(&o, err, 9, argv), OPTIONS_RUN);
	assert_string_equal(o.host, "127.0.0.1");
	assert_int_equal(o.port, 18001);
	assert_int_equal(o.threads, 4);
	assert_int_equal(o.max_clients, 64);
	assert_int_equal(o.max_handshakes, 16);
	assert_int_equal(o.handshake_timeout_s, 5);
	assert_int_equal(o.head_timeout_s, 5);
	assert_int_equal(o.log_level, 4);
	assert_string_equal(o.store_dir, "s");
	assert_null(o.master_path);

	char *shared[] = { "wsopd", "--cert",  "c",           "--key",        "k", "--ca",
		           "a",     "--store", "dbname=wsop", "--master-key", "m", NULL };
	assert_int_equal(parse(&o, err, 11, shared), OPTIONS_RUN);
	assert_string_equal(o.store_dir, "dbname=wsop");
	assert_string_equal(o.master_path, "m");
}

static void test_options_event_loops_and_idle(void **state)
{
	char *defaults[] = {
		"wsopd", "--cert", "c", "--key", "k", "--ca", "a", "--store", "s", NULL
	};
	char *set[] = { "wsopd", "--cert",  "c", "--key",         "k", "--ca",
		        "a",     "--store", "s", "--event-loops", "0", "--idle-timeout",
		        "2",     NULL };
	char *too_many[] = { "wsopd", "--cert",  "c", "--key",         "k",  "--ca",
		             "a",     "--store", "s", "--event-loops", "65", NULL };
	char *no_idle[] = { "wsopd", "--cert",  "c", "--key",          "k", "--ca",
		            "a",     "--store", "s", "--idle-timeout", "0", NULL };
	struct wsopd_options o;
	char err[256];

	assert_int_equal(parse(&o, err, 9, defaults), OPTIONS_RUN);
	assert_int_equal(o.event_loops, WSOPD_EVENT_LOOPS_AUTO);
	assert_int_equal(o.idle_timeout_s, 30);
	assert_int_equal(parse(&o, err, 13, set), OPTIONS_RUN);
	assert_int_equal(o.event_loops, 0);
	assert_int_equal(o.idle_timeout_s, 2);
	assert_int_equal(parse(&o, err, 11, too_many), OPTIONS_ERROR);
	assert_non_null(strstr(err, "--event-loops"));
	assert_int_equal(parse(&o, err, 11, no_idle), OPTIONS_ERROR);
	assert_non_null(strstr(err, "--idle-timeout"));
}

/* The required options and one more, NAME VALUE. */
static enum options_result parse_with(struct wsopd_options *o, char *err, const char *name,
                                      const char *value)
{
	char *argv[] = { "wsopd", "--cert",  "c", "--key",      "k",           "--ca",
		         "a",     "--store", "s", (char *)name, (char *)value, NULL };

	return parse(o, err, 11, argv);
}

static void test_options_loop_busy(void **state)
{
	struct wsopd_options o;
	char err[256];

	(void)state;
	assert_int_equal(parse_with(&o, err, "--log-level", "4"), OPTIONS_RUN);
	assert_int_equal(o.loop_busy_percent, WSOPD_DEFAULT_LOOP_BUSY);
	assert_int_equal(parse_with(&o, err, "--loop-busy", "0"), OPTIONS_RUN);
	assert_int_equal(o.loop_busy_percent, 0);
	assert_int_equal(parse_with(&o, err, "--loop-busy", "100"), OPTIONS_RUN);
	assert_int_equal(o.loop_busy_percent, 100);
	assert_int_equal(parse_with(&o, err, "--loop-busy", "101"), OPTIONS_ERROR);
	assert_non_null(strstr(err, "--loop-busy"));
	assert_int_equal(parse_with(&o, err, "--loop-busy", "-1"), OPTIONS_ERROR);
	assert_int_equal(parse_with(&o, err, "--loop-busy", "50%"), OPTIONS_ERROR);
	assert_int_equal(parse_with(&o, err, "--loop-busy", ""), OPTIONS_ERROR);
}

static void test_options_listen_forms(void **state)
{
	char host[64];
	unsigned port;

	assert_int_equal(options_split_listen("127.0.0.1:0", host, sizeof(host), &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 0);
	assert_int_equal(options_split_listen("[::1]:18001", host, sizeof(host), &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 18001);
	assert_int_equal(options_split_listen("localhost:65535", host, sizeof(host), &port), 0);
	assert_true(options_split_listen("::1:80", host, sizeof(host), &port) < 0);
	assert_true(options_split_listen("[::1]80", host, sizeof(host), &port) < 0);
	assert_true(options_split_listen("host:65536", host, sizeof(host), &port) < 0);
	assert_true(options_split_listen("host:", host, sizeof(host), &port) < 0);
	assert_true(options_split_listen(":80", host, sizeof(host), &port) < 0);
	assert_true(options_split_listen("host:+80", host, sizeof(host), &port) < 0);
	assert_true(options_split_listen("host", host, sizeof(host), &port) < 0);
}

static void test_options_refusals(void **state)
{
	struct wsopd_options o;
	char err[256];
	char *missing[] = { "wsopd", "--cert", "c", "--key", "k", "--ca", "a", NULL };
	char *threads[] = { "wsopd", "--threads", "0", NULL };
	char *level[] = { "wsopd", "--log-level", "7", NULL };
	char *unknown[] = { "wsopd", "--nope", NULL };
	char *extra[] = { "wsopd", "stray", NULL };
	char *novalue[] = { "wsopd", "--cert", NULL };
	char *help[] = { "wsopd", "--help", NULL };
	char *version[] = { "wsopd", "--version", NULL };

	assert_int_equal(parse(&o, err, 7, missing), OPTIONS_ERROR);
	assert_non_null(strstr(err, "--store"));
	assert_int_equal(parse(&o, err, 3, threads), OPTIONS_ERROR);
	assert_non_null(strstr(err, "--threads"));
	assert_int_equal(parse(&o, err, 3, level), OPTIONS_ERROR);
	assert_int_equal(parse(&o, err, 2, unknown), OPTIONS_ERROR);
	assert_non_null(strstr(err, "--nope"));
	assert_int_equal(parse(&o, err, 2, extra), OPTIONS_ERROR);
	assert_int_equal(parse(&o, err, 2, novalue), OPTIONS_ERROR);
	assert_int_equal(parse(&o, err, 2, help), OPTIONS_HELP);
	assert_int_equal(parse(&o, err, 2, version), OPTIONS_VERSION);
}

static void test_options_connection_limits(void **state)
{
	struct wsopd_options o;
	char err[256];
	char *set[] = { "wsopd", "--cert",
		        "c",     "--key",
		        "k",     "--ca",
		        "a",     "--store",
		        "s",     "--max-handshakes",
		        "1024",  "--handshake-timeout",
		        "1",     "--head-timeout",
		        "60",    NULL };
	static const char *const bad[][2] = {
		{ "--max-handshakes", "0" },        { "--max-handshakes", "1025" },
		{ "--handshake-timeout", "0" },     { "--handshake-timeout", "61" },
		{ "--head-timeout", "0" },          { "--head-timeout", "5s" },
		{ "--max-login-failures", "1001" }, { "--max-login-failures", "-1" },
		{ "--login-lockout", "0" },         { "--login-lockout", "86401" },
	};

	assert_int_equal(parse(&o, err, 15, set), OPTIONS_RUN);
	assert_int_equal(o.max_handshakes, 1024);
	assert_int_equal(o.handshake_timeout_s, 1);
	assert_int_equal(o.head_timeout_s, 60);
	assert_int_equal(o.max_login_failures, 0);
	assert_int_equal(o.login_lockout, 900);
	char *lock[] = { "wsopd", "--cert",
		         "c",     "--key",
		         "k",     "--ca",
		         "a",     "--store",
		         "s",     "--max-login-failures",
		         "1000",  "--login-lockout",
		         "86400", NULL };
	assert_int_equal(parse(&o, err, 13, lock), OPTIONS_RUN);
	assert_int_equal(o.max_login_failures, 1000);
	assert_int_equal(o.login_lockout, 86400);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[] = { "wsopd", (char *)bad[i][0], (char *)bad[i][1], NULL };

		assert_int_equal(parse(&o, err, 3, argv), OPTIONS_ERROR);
		assert_non_null(strstr(err, bad[i][0]));
	}
}

/* A revocation source the tests control: one revoked id at most. */
struct revoked_set {
	bool any;
	uint8_t id[ACT_TOKEN_ID_LEN];
};

static int revoked_fn(void *ctx, const uint8_t id[ACT_TOKEN_ID_LEN])
{
	struct revoked_set *r = ctx;

	return r->any && memcmp(r->id, id, ACT_TOKEN_ID_LEN) == 0;
}

static struct activation *make_table(struct revoked_set *revoked, int64_t idle)
{
	struct keywrap_master master;
	struct activation *act = NULL;

	memset(&master, 0x33, sizeof(master));
	assert_int_equal(activation_create(&master, 3600, idle, revoked_fn, revoked, &act), 0);
	return act;
}

/* One table with softcard SC1's inputs ready: fingerprint of 1 bytes, a
 * KEK of kek_byte, a cached key of key_len bytes for SC1. */
struct act_bench {
	struct revoked_set revoked;
	struct activation *act;
	uint8_t fp[ACT_TOKEN_FP_LEN];
	char t[ACT_TOKEN_TEXT_LEN + 1];
	struct keywrap_kek kek;
	struct cached_key key, got;
	int64_t expires;
};

static void act_bench_init(struct act_bench *b, int64_t idle, int kek_byte, size_t key_len)
{
	memset(b, 0, sizeof(*b));
	b->act = make_table(&b->revoked, idle);
	memset(b->fp, 1, sizeof(b->fp));
	memset(&b->kek, kek_byte, sizeof(b->kek));
	memcpy(b->key.softcard_id, SC1, sizeof(b->key.softcard_id));
	b->key.key_len = key_len;
}

static void test_activation_per_token(void **state)
{
	struct revoked_set revoked = { 0 };
	struct activation *act = make_table(&revoked, 900);
	uint8_t fp1[ACT_TOKEN_FP_LEN], fp2[ACT_TOKEN_FP_LEN], id[ACT_TOKEN_ID_LEN];
	char t1[ACT_TOKEN_TEXT_LEN + 1], t2[ACT_TOKEN_TEXT_LEN + 1];
	struct keywrap_kek kek, out;
	int64_t expires = 0;

	memset(fp1, 1, sizeof(fp1));
	memset(fp2, 2, sizeof(fp2));
	memset(&kek, 0x5a, sizeof(kek));
	assert_int_equal(activation_check(act, NULL, SC1, fp1, NULL), -EACCES);
	/* Two activations of one softcard by one client (two processes). */
	assert_int_equal(activation_issue(act, SC1, fp1, &kek, t1, &expires), 0);
	assert_true(expires > 0);
	assert_int_equal(activation_issue(act, SC1, fp1, &kek, t2, &expires), 0);
	assert_string_not_equal(t1, t2);
	assert_int_equal(activation_live_count(act), 2);
	assert_int_equal(activation_check(act, t1, SC1, fp1, &out), 0);
	assert_memory_equal(&out, &kek, sizeof(kek));
	assert_int_equal(activation_check(act, t1, SC1, fp2, NULL), -EACCES);
	assert_int_equal(activation_check(act, t1, SC2, fp1, NULL), -EACCES);
	assert_int_equal(activation_check(act, "short", SC1, fp1, NULL), -EACCES);

	/* Ending one leaves the other, and its keys, alive. */
	assert_int_equal(activation_identify(act, t1, SC1, fp1, id, &expires), 0);
	revoked.any = true;
	memcpy(revoked.id, id, sizeof(id));
	activation_end(act, SC1, id);
	assert_int_equal(activation_check(act, t1, SC1, fp1, NULL), -EACCES);
	assert_int_equal(activation_check(act, t2, SC1, fp1, &out), 0);
	assert_memory_equal(&out, &kek, sizeof(kek));
	assert_int_equal(activation_live_count(act), 1);
	activation_destroy(act);

	/* A new table (a restart) takes t2 back, KEK included, not t1. */
	act = make_table(&revoked, 900);
	assert_int_equal(activation_live_count(act), 0);
	assert_int_equal(activation_check(act, t1, SC1, fp1, NULL), -EACCES);
	memset(&out, 0, sizeof(out));
	assert_int_equal(activation_check(act, t2, SC1, fp1, &out), 0);
	assert_memory_equal(&out, &kek, sizeof(kek));
	activation_destroy(act);
}

static void test_idle_activation_leaves_memory(void **state)
{
	struct act_bench b;
	struct keywrap_kek out;

	act_bench_init(&b, 1, 0x5a, 16);
	assert_int_equal(activation_issue(b.act, SC1, b.fp, &b.kek, b.t, &b.expires), 0);
	assert_int_equal(activation_key_insert(b.act, activation_generation(b.act), G1, K1, &b.key),
	                 0);
	assert_int_equal(activation_key_lookup(b.act, G1, K1, &b.got), 0);
	/* Unused past the idle time: keys and KEK leave memory. */
	for (int i = 0; i < 40 && activation_live_count(b.act) > 0; i++) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	assert_int_equal(activation_live_count(b.act), 0);
	assert_int_equal(activation_key_lookup(b.act, G1, K1, &b.got), -ENOENT);
	/* The token is still valid and brings the KEK back. */
	assert_int_equal(activation_check(b.act, b.t, SC1, b.fp, &out), 0);
	assert_memory_equal(&out, &b.kek, sizeof(b.kek));
	activation_destroy(b.act);
}

/* Many cached keys of two softcards: each found as itself, a forgotten one
 * gone and its neighbours kept, and the end of one softcard takes all of
 * its keys and none of the other's. */
static void test_many_cached_keys(void **state)
{
	enum { N = 3000 };
	struct revoked_set revoked = { 0 };
	struct activation *act = make_table(&revoked, 900);
	uint8_t fp[ACT_TOKEN_FP_LEN];
	char t[ACT_TOKEN_TEXT_LEN + 1], key_id[37];
	struct keywrap_kek kek;
	struct cached_key key, got;
	int64_t expires;

	memset(fp, 1, sizeof(fp));
	memset(&kek, 1, sizeof(kek));
	assert_int_equal(activation_issue(act, SC1, fp, &kek, t, &expires), 0);
	assert_int_equal(activation_issue(act, SC2, fp, &kek, t, &expires), 0);
	for (int i = 0; i < N; i++) {
		memset(&key, 0, sizeof(key));
		memcpy(key.softcard_id, i % 2 ? SC2 : SC1, sizeof(key.softcard_id));
		key.key_len = 32;
		memcpy(key.key, &i, sizeof(i));
		snprintf(key_id, sizeof(key_id), "00000000-0000-4000-8000-%012d", i);
		assert_int_equal(
		    activation_key_insert(act, activation_generation(act), G1, key_id, &key), 0);
	}
	for (int i = 0; i < N; i += 7) {
		snprintf(key_id, sizeof(key_id), "00000000-0000-4000-8000-%012d", i);
		assert_int_equal(activation_key_lookup(act, G1, key_id, &got), 0);
		assert_memory_equal(got.key, &i, sizeof(i));
		assert_string_equal(got.softcard_id, i % 2 ? SC2 : SC1);
		assert_int_equal(activation_key_lookup(act, K1, key_id, &got), -ENOENT);
	}
	snprintf(key_id, sizeof(key_id), "00000000-0000-4000-8000-%012d", 42);
	activation_key_forget(act, G1, key_id);
	assert_int_equal(activation_key_lookup(act, G1, key_id, &got), -ENOENT);
	snprintf(key_id, sizeof(key_id), "00000000-0000-4000-8000-%012d", 44);
	assert_int_equal(activation_key_lookup(act, G1, key_id, &got), 0);
	activation_forget_softcard(act, SC1);
	assert_int_equal(activation_key_lookup(act, G1, key_id, &got), -ENOENT);
	snprintf(key_id, sizeof(key_id), "00000000-0000-4000-8000-%012d", 43);
	assert_int_equal(activation_key_lookup(act, G1, key_id, &got), 0);
	activation_destroy(act);
}

/* The fast verifier: known only while the softcard is in memory, only for
 * the passphrase remembered, and gone with the last activation. */
static void test_known_passphrase_only_while_active(void **state)
{
	struct revoked_set revoked = { 0 };
	struct activation *act = make_table(&revoked, 900);
	uint8_t fp[ACT_TOKEN_FP_LEN], id[ACT_TOKEN_ID_LEN];
	uint8_t good[PASSPHRASE_TAG_LEN], bad[PASSPHRASE_TAG_LEN], other[PASSPHRASE_TAG_LEN];
	char t[ACT_TOKEN_TEXT_LEN + 1];
	struct keywrap_kek kek, out;
	int64_t expires;

	memset(fp, 1, sizeof(fp));
	memset(&kek, 0x5a, sizeof(kek));
	assert_int_equal(activation_passphrase_tag(act, SC1, "right horse", 11, good), 0);
	assert_int_equal(activation_passphrase_tag(act, SC1, "right horsE", 11, bad), 0);
	assert_int_equal(activation_passphrase_tag(act, SC2, "right horse", 11, other), 0);
	assert_memory_not_equal(good, bad, sizeof(good));
	assert_memory_not_equal(good, other, sizeof(good));
	/* Not in memory: nothing is known, and remembering does nothing. */
	activation_remember_passphrase(act, SC1, good);
	assert_int_equal(activation_unlock_known(act, SC1, good, &out), -ENOENT);

	assert_int_equal(activation_issue(act, SC1, fp, &kek, t, &expires), 0);
	/* Active but not yet remembered (a token brought it back). */
	assert_int_equal(activation_unlock_known(act, SC1, good, &out), -ENOENT);
	activation_remember_passphrase(act, SC1, good);
	memset(&out, 0, sizeof(out));
	assert_int_equal(activation_unlock_known(act, SC1, good, &out), 0);
	assert_memory_equal(&out, &kek, sizeof(kek));
	assert_int_equal(activation_unlock_known(act, SC1, bad, &out), -ENOENT);
	assert_int_equal(activation_unlock_known(act, SC2, good, &out), -ENOENT);

	/* The last activation ends: the verifier leaves with the KEK. */
	assert_int_equal(activation_identify(act, t, SC1, fp, id, &expires), 0);
	activation_end(act, SC1, id);
	assert_int_equal(activation_unlock_known(act, SC1, good, &out), -ENOENT);
	activation_destroy(act);

	/* Another process (a restart) draws another key: other tags. */
	act = make_table(&revoked, 900);
	assert_int_equal(activation_passphrase_tag(act, SC1, "right horse", 11, bad), 0);
	assert_memory_not_equal(good, bad, sizeof(good));
	activation_destroy(act);
}

static void test_key_forget_and_stale_generation(void **state)
{
	struct act_bench b;
	uint64_t gen;

	act_bench_init(&b, 900, 1, 32);
	/* Not cached when the softcard is not in memory. */
	assert_int_equal(activation_key_insert(b.act, activation_generation(b.act), G1, K1, &b.key),
	                 0);
	assert_int_equal(activation_key_lookup(b.act, G1, K1, &b.got), -ENOENT);
	assert_int_equal(activation_issue(b.act, SC1, b.fp, &b.kek, b.t, &b.expires), 0);
	assert_int_equal(activation_key_insert(b.act, activation_generation(b.act), G1, K1, &b.key),
	                 0);
	assert_int_equal(activation_key_lookup(b.act, G1, K1, &b.got), 0);
	activation_key_forget(b.act, G1, K1);
	assert_int_equal(activation_key_lookup(b.act, G1, K1, &b.got), -ENOENT);

	/* A key read before a delete must not be cached after it. */
	gen = activation_generation(b.act);
	activation_key_forget(b.act, G1, K1);
	assert_int_equal(activation_key_insert(b.act, gen, G1, K1, &b.key), 0);
	assert_int_equal(activation_key_lookup(b.act, G1, K1, &b.got), -ENOENT);

	activation_forget_softcard(b.act, SC1);
	assert_int_equal(activation_live_count(b.act), 0);
	activation_destroy(b.act);
}

/* Shared with other servers: a token known in memory is asked about on
 * every use, and no key is cached. */
static void test_shared_table_asks_every_time(void **state)
{
	struct act_bench b;

	act_bench_init(&b, 900, 1, 32);
	activation_share(b.act);
	assert_int_equal(activation_issue(b.act, SC1, b.fp, &b.kek, b.t, &b.expires), 0);
	assert_int_equal(activation_check(b.act, b.t, SC1, b.fp, NULL), 0);
	assert_int_equal(activation_key_insert(b.act, activation_generation(b.act), G1, K1, &b.key),
	                 0);
	assert_int_equal(activation_key_lookup(b.act, G1, K1, &b.got), -ENOENT);
	/* Revoked elsewhere: refused here although it is in memory. */
	assert_int_equal(activation_identify(b.act, b.t, SC1, b.fp, b.revoked.id, &b.expires), 0);
	b.revoked.any = true;
	assert_int_equal(activation_check(b.act, b.t, SC1, b.fp, &b.kek), -EACCES);
	assert_int_equal(activation_live_count(b.act), 0);
	activation_destroy(b.act);
}

static void test_store_locations(void **state)
{
	static const char *const pg[] = {
		"postgresql://wsopd@db/wsop",
		"postgres://db/wsop",
		"host=/tmp dbname=wsop",
		"dbname=wsop",
		"user=x host=db",
		" service=wsop",
	};
	static const char *const dirs[] = { "/var/lib/wsopd", "store", "postgresql:/x",
		                            "/srv/dbname=x",  "",      "xhost=y" };
	char out[160];

	for (size_t i = 0; i < sizeof(pg) / sizeof(pg[0]); i++)
		assert_true(store_is_shared(pg[i]));
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		assert_false(store_is_shared(dirs[i]));
	assert_false(store_is_shared(NULL));
	/* Logs see host, port and database, never a password. */
	store_describe("postgresql://u:secret@db.example:5433/wsop", out, sizeof(out));
	assert_null(strstr(out, "secret"));
	assert_non_null(strstr(out, "db.example"));
	assert_non_null(strstr(out, "5433"));
	store_describe("host=/run/pg dbname=wsop password=secret", out, sizeof(out));
	assert_null(strstr(out, "secret"));
	assert_non_null(strstr(out, "/run/pg"));
	store_describe("host='unterminated password=secret", out, sizeof(out));
	assert_null(strstr(out, "secret"));
	store_describe("/var/lib/wsopd", out, sizeof(out));
	assert_string_equal(out, "folder /var/lib/wsopd");
}

static void test_wrong_passphrase_delays(void **state)
{
	struct revoked_set revoked = { 0 };
	struct activation *act = make_table(&revoked, 900);

	assert_int_equal(activation_note_failure(act, CL1), 1000);
	assert_int_equal(activation_note_failure(act, CL1), 2000);
	assert_int_equal(activation_note_failure(act, CL2), 1000);
	assert_int_equal(activation_note_failure(act, CL1), 4000);
	assert_int_equal(activation_note_failure(act, CL1), 8000);
	for (int i = 0; i < 30; i++)
		assert_int_equal(activation_note_failure(act, CL1), 8000);
	activation_note_success(act, CL1);
	assert_int_equal(activation_note_failure(act, CL1), 1000);
	assert_int_equal(activation_note_failure(act, CL2), 2000);
	activation_destroy(act);
}

static int page_query_parse_plain(const char *query, struct page_query *q, const char **why)
{
	return page_query_parse(query, NULL, NULL, 0, q, why);
}

static void expect_bad_query(const char *query)
{
	struct page_query q;
	const char *why = NULL;
	memset(&q, 0x5a, sizeof(q));
	if (page_query_parse(query, NULL, NULL, 0, &q, &why) != -EINVAL)
		fail_msg("query '%s' was accepted", query);
	assert_non_null(why);
	assert_int_equal(q.limit, 0);
}

static void test_page_query(void **state)
{
	(void)state;
	struct page_query q;
	const char *why;

	/* No query: the first page of the legacy form. */
	assert_int_equal(page_query_parse(NULL, NULL, NULL, 0, &q, &why), 0);
	assert_true(q.legacy);
	assert_int_equal(q.limit, WSOP_PAGE_MAX_ITEMS);
	assert_string_equal(q.after, "");

	assert_int_equal(page_query_parse_plain("limit=1", &q, &why), 0);
	assert_false(q.legacy);
	assert_int_equal(q.limit, 1);
	assert_int_equal(page_query_parse_plain("after=" K1 "&limit=0007", &q, &why), 0);
	assert_int_equal(q.limit, 7);
	assert_string_equal(q.after, K1);
	assert_int_equal(page_query_parse_plain("after=" K1, &q, &why), 0);
	assert_int_equal(q.limit, WSOP_PAGE_MAX_ITEMS);
	/* Over the maximum is the maximum, however many digits (up to 20). */
	assert_int_equal(page_query_parse_plain("limit=1001", &q, &why), 0);
	assert_int_equal(q.limit, WSOP_PAGE_MAX_ITEMS);
	assert_int_equal(page_query_parse_plain("limit=99999999999999999999", &q, &why), 0);
	assert_int_equal(q.limit, WSOP_PAGE_MAX_ITEMS);

	/* limit 0 would never advance. */
	expect_bad_query("limit=0");
	expect_bad_query("limit=000");
	expect_bad_query("limit=");
	expect_bad_query("limit=-1");
	expect_bad_query("limit=+1");
	expect_bad_query("limit=1e3");
	expect_bad_query("limit=999999999999999999999");
	expect_bad_query("limit=1&limit=2");
	expect_bad_query("after=" K1 "&after=" K1);
	expect_bad_query("after=");
	expect_bad_query("after=not-an-id");
	expect_bad_query("after=" SC1);
	expect_bad_query("after=00000000-0000-0000-0000-0000000000A1");
	expect_bad_query("after=" K1 "0");
	expect_bad_query("");
	expect_bad_query("&");
	expect_bad_query("limit=1&");
	expect_bad_query("limit");
	expect_bad_query("offset=5");
	expect_bad_query("protectiondomain=" SC1);
	assert_int_equal(page_query_parse_plain("limit=1", NULL, &why), -EINVAL);

	/* A member the caller names, once, bounded; alone it is the legacy form. */
	char pd[41];
	assert_int_equal(
	    page_query_parse("protectiondomain=" SC1, "protectiondomain", pd, sizeof(pd), &q, &why),
	    0);
	assert_true(q.legacy);
	assert_string_equal(pd, SC1);
	assert_int_equal(page_query_parse("limit=3&protectiondomain=x", "protectiondomain", pd,
	                                  sizeof(pd), &q, &why),
	                 0);
	assert_false(q.legacy);
	assert_int_equal(q.limit, 3);
	assert_string_equal(pd, "x");
	assert_int_equal(page_query_parse(NULL, "protectiondomain", pd, sizeof(pd), &q, &why), 0);
	assert_string_equal(pd, "");
	const char *bad[] = { "protectiondomain=", "protectiondomain=a&protectiondomain=a",
		              ("protectiondomain=" SC1 "0"), ("limit=0&protectiondomain=" SC1) };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(
		    page_query_parse(bad[i], "protectiondomain", pd, sizeof(pd), &q, &why),
		    -EINVAL);
		assert_string_equal(pd, "");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options_defaults),
		cmocka_unit_test(test_options_listen_forms),
		cmocka_unit_test(test_options_event_loops_and_idle),
		cmocka_unit_test(test_options_loop_busy),
		cmocka_unit_test(test_options_refusals),
		cmocka_unit_test(test_options_connection_limits),
		cmocka_unit_test(test_activation_per_token),
		cmocka_unit_test(test_idle_activation_leaves_memory),
		cmocka_unit_test(test_known_passphrase_only_while_active),
		cmocka_unit_test(test_many_cached_keys),
		cmocka_unit_test(test_key_forget_and_stale_generation),
		cmocka_unit_test(test_shared_table_asks_every_time),
		cmocka_unit_test(test_store_locations),
		cmocka_unit_test(test_wrong_passphrase_delays),
		cmocka_unit_test(test_page_query),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
