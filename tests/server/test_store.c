/*
 * wsopd's store: CRUD of every table, the not-empty rule, the
 * idempotency records and their expiry, transactions, threads, and
 * persistence across close/reopen.
 *
 * By default on SQLite in a scratch folder. With WSOP_TEST_PG set to a
 * libpq connection string (tests/cluster/with_pg.sh does so for the
 * server-store-pg test), the same tests run on the PostgreSQL back end,
 * each on an emptied database; the few about SQLite's file are skipped.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "server/store.h"
#include "server/store_priv.h"
#include "test_util.h"

struct fixture {
	char *dir;
	struct store *st;
	int64_t now;
};

static int64_t fake_clock(void *arg)
{
	return ((struct fixture *)arg)->now;
}

static const char *pg_conninfo(void)
{
	const char *c = getenv("WSOP_TEST_PG");
	return c != NULL && c[0] != '\0' ? c : NULL;
}

/* Runs sql on the test database; false when it fails. */
static bool pg_exec(const char *sql)
{
	PGconn *c = PQconnectdb(pg_conninfo());
	bool ok = PQstatus(c) == CONNECTION_OK;
	if (ok) {
		PGresult *r = PQexec(c, sql);
		ok = PQresultStatus(r) == PGRES_COMMAND_OK;
		if (!ok)
			fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
		PQclear(r);
	}
	PQfinish(c);
	return ok;
}

#define SKIP_ON_PG()                                                                               \
	do {                                                                                       \
		if (pg_conninfo() != NULL)                                                         \
			skip();                                                                    \
	} while (0)

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -1;
	if (pg_conninfo() != NULL) {
		/* Every test starts from an empty database, as with a new folder. */
		f->dir = strdup(pg_conninfo());
		if (f->dir == NULL || !pg_exec("SET client_min_messages = warning;"
		                               " DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
			return -1;
	} else {
		f->dir = tu_mkdtemp();
	}
	f->now = 1764190000;
	if (store_open(f->dir, &f->st) != STORE_OK)
		return -1;
	store_set_clock(f->st, fake_clock, f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	store_close(f->st);
	if (pg_conninfo() == NULL)
		tu_rmtree(f->dir); /* frees it */
	else
		free(f->dir);
	free(f);
	return 0;
}

static void reopen(struct fixture *f)
{
	store_close(f->st);
	f->st = NULL;
	assert_int_equal(store_open(f->dir, &f->st), STORE_OK);
	store_set_clock(f->st, fake_clock, f);
}

static void make_softcard(struct store *st, const char *name, struct store_softcard *sc)
{
	memset(sc, 0, sizeof(*sc));
	snprintf(sc->name, sizeof(sc->name), "%s", name);
	memset(sc->salt, 0x5a, sizeof(sc->salt));
	memset(sc->verifier, 0xa5, 54);
	sc->verifier_len = 54;
	assert_int_equal(store_softcard_create(st, sc), STORE_OK);
	assert_true(store_is_softcard_id(sc->id));
}

static void make_group(struct store *st, const char *softcard_id, struct store_group *g)
{
	memset(g, 0, sizeof(*g));
	snprintf(g->name, sizeof(g->name), "pkcs11");
	snprintf(g->softcard_id, sizeof(g->softcard_id), "%s", softcard_id);
	assert_int_equal(store_group_create(st, g), STORE_OK);
	assert_true(store_is_uuid(g->id));
}

static void make_key(struct store *st, const struct store_group *g, const char *label,
                     struct store_key *k)
{
	uint8_t wrapped[60];
	memset(k, 0, sizeof(*k));
	memset(wrapped, 0x77, sizeof(wrapped));
	snprintf(k->group_id, sizeof(k->group_id), "%s", g->id);
	snprintf(k->softcard_id, sizeof(k->softcard_id), "%s", g->softcard_id);
	k->size_bits = 256;
	k->label_len = (size_t)snprintf(k->label, sizeof(k->label), "%s", label);
	k->encrypt = k->decrypt = true;
	assert_int_equal(store_key_insert(st, k, wrapped, sizeof(wrapped)), STORE_OK);
}

static void set_attr(struct store_attr *a, const void *data, size_t len)
{
	a->present = true;
	a->data = (uint8_t *)(uintptr_t)data;
	a->len = len;
}

/* ---- ids ---------------------------------------------------------------------- */

static void ids_have_documented_shapes(void **state)
{
	(void)state;
	char sc[STORE_SOFTCARD_ID_LEN + 1], u1[STORE_UUID_LEN + 1], u2[STORE_UUID_LEN + 1];
	assert_int_equal(store_new_softcard_id(sc), STORE_OK);
	assert_true(store_is_softcard_id(sc));
	assert_int_equal(store_new_uuid(u1), STORE_OK);
	assert_int_equal(store_new_uuid(u2), STORE_OK);
	assert_true(store_is_uuid(u1));
	assert_string_not_equal(u1, u2);
	assert_int_equal(u1[14], '4');           /* version 4 */
	assert_non_null(strchr("89ab", u1[19])); /* RFC 4122 variant */
	assert_false(store_is_uuid("11111111-2222-4333-8444-55555555555"));
	assert_false(store_is_uuid("11111111-2222-4333-8444-5555555555555"));
	assert_false(store_is_uuid("11111111x2222-4333-8444-555555555555"));
	assert_false(store_is_uuid("AAAAAAAA-2222-4333-8444-555555555555"));
	assert_false(store_is_softcard_id("0123456789ABCDEF0123456789abcdef01234567"));
	assert_false(store_is_softcard_id(NULL));
}

/* ---- softcards ------------------------------------------------------------------- */

static void database_file_is_private(void **state)
{
	struct fixture *f = *state;
	char path[4200];
	struct stat sb;
	SKIP_ON_PG();
	snprintf(path, sizeof(path), "%s/%s", f->dir, STORE_DB_FILE);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 077, 0);
}

static void softcard_create_get_list_delete(void **state)
{
	struct fixture *f = *state;
	struct store_softcard a, b, got;
	make_softcard(f->st, "alice", &a);
	f->now += 5;
	make_softcard(f->st, "bob", &b);
	assert_int_equal(a.created, 1764190000);
	assert_int_equal(b.created, 1764190005);

	assert_int_equal(store_softcard_get(f->st, a.id, &got), STORE_OK);
	assert_string_equal(got.id, a.id);
	assert_string_equal(got.name, "alice");
	assert_int_equal(got.created, a.created);
	assert_memory_equal(got.salt, a.salt, STORE_SALT_LEN);
	assert_int_equal(got.verifier_len, 54);
	assert_memory_equal(got.verifier, a.verifier, 54);

	struct store_softcard *list = NULL;
	size_t n = 0;
	assert_int_equal(store_softcard_list(f->st, &list, &n), STORE_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].id, a.id); /* creation order */
	assert_string_equal(list[1].id, b.id);
	free(list);

	assert_int_equal(store_softcard_delete(f->st, a.id), STORE_OK);
	assert_int_equal(store_softcard_get(f->st, a.id, &got), STORE_NOT_FOUND);
	assert_int_equal(store_softcard_delete(f->st, a.id), STORE_NOT_FOUND);
	assert_int_equal(store_softcard_get(f->st, "nonsense", &got), STORE_NOT_FOUND);
	assert_int_equal(store_softcard_delete(f->st, "nonsense"), STORE_NOT_FOUND);
}

/* The run of wrong passphrases: counted, stamped, kept across a reopen,
 * ended by a right one; a right one without a run writes nothing. */
static void login_failures_counted_and_reset(void **state)
{
	struct fixture *f = *state;
	struct store_softcard a, got;
	int64_t n = -1;
	make_softcard(f->st, "alice", &a);
	assert_int_equal(store_softcard_login_outcome(f->st, a.id, true, 10, &n), STORE_OK);
	assert_int_equal(n, 0);
	assert_int_equal(store_softcard_login_outcome(f->st, a.id, false, 11, &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_softcard_login_outcome(f->st, a.id, false, 12, &n), STORE_OK);
	assert_int_equal(n, 2);
	reopen(f);
	assert_int_equal(store_softcard_get(f->st, a.id, &got), STORE_OK);
	assert_int_equal(got.login_failures, 2);
	assert_int_equal(got.last_failure, 12);
	assert_int_equal(store_softcard_login_outcome(f->st, a.id, true, 13, NULL), STORE_OK);
	assert_int_equal(store_softcard_get(f->st, a.id, &got), STORE_OK);
	assert_int_equal(got.login_failures, 0);
	assert_int_equal(got.last_failure, 0);
	assert_int_equal(store_softcard_login_outcome(f->st, "nonsense", false, 1, &n),
	                 STORE_NOT_FOUND);
	assert_int_equal(store_softcard_login_outcome(
	                     f->st, "0123456789abcdef0123456789abcdef01234567", false, 1, &n),
	                 STORE_NOT_FOUND);
	assert_int_equal(store_softcard_login_outcome(NULL, a.id, false, 1, &n), STORE_ERR_ARG);
}

static void softcard_list_empty(void **state)
{
	struct fixture *f = *state;
	struct store_softcard *list = (struct store_softcard *)1;
	size_t n = 9;
	assert_int_equal(store_softcard_list(f->st, &list, &n), STORE_OK);
	assert_null(list);
	assert_int_equal(n, 0);
}

static void softcard_bad_fields_refused(void **state)
{
	struct fixture *f = *state;
	struct store_softcard sc, dup;
	memset(&sc, 0, sizeof(sc));
	sc.verifier_len = 10;
	assert_int_equal(store_softcard_create(f->st, &sc), STORE_ERR_ARG); /* empty name */
	snprintf(sc.name, sizeof(sc.name), "x");
	sc.verifier_len = 0;
	assert_int_equal(store_softcard_create(f->st, &sc), STORE_ERR_ARG);
	sc.verifier_len = STORE_VERIFIER_MAX + 1;
	assert_int_equal(store_softcard_create(f->st, &sc), STORE_ERR_ARG);
	sc.verifier_len = 10;
	snprintf(sc.id, sizeof(sc.id), "ABC");
	assert_int_equal(store_softcard_create(f->st, &sc), STORE_ERR_ARG);
	/* A caller-chosen id is kept; a second use of it is STORE_EXISTS. */
	snprintf(sc.id, sizeof(sc.id), "0123456789abcdef0123456789abcdef01234567");
	assert_int_equal(store_softcard_create(f->st, &sc), STORE_OK);
	dup = sc;
	snprintf(dup.name, sizeof(dup.name), "y");
	assert_int_equal(store_softcard_create(f->st, &dup), STORE_EXISTS);
	/* Another id with a name in use: the name is the token label. */
	dup = sc;
	dup.id[0] = '\0';
	assert_int_equal(store_softcard_create(f->st, &dup), STORE_NAME_TAKEN);
}

static void softcard_with_key_or_object_not_deleted(void **state)
{
	struct fixture *f = *state;
	struct store_softcard sc, got;
	struct store_group g;
	struct store_key k;
	make_softcard(f->st, "alice", &sc);
	make_group(f->st, sc.id, &g);
	make_key(f->st, &g, "k1", &k);
	assert_int_equal(store_softcard_delete(f->st, sc.id), STORE_NOT_EMPTY);
	assert_int_equal(store_key_delete(f->st, g.id, k.id), STORE_OK);

	struct store_object o;
	memset(&o, 0, sizeof(o));
	snprintf(o.softcard_id, sizeof(o.softcard_id), "%s", sc.id);
	o.cls = STORE_OBJECT_DATA;
	assert_int_equal(store_object_insert(f->st, &o), STORE_OK);
	assert_int_equal(store_softcard_delete(f->st, sc.id), STORE_NOT_EMPTY);
	assert_int_equal(store_softcard_get(f->st, sc.id, &got), STORE_OK);
	assert_int_equal(store_object_delete(f->st, sc.id, o.id), STORE_OK);

	/* Empty now: it goes, and its groups with it. */
	assert_int_equal(store_softcard_delete(f->st, sc.id), STORE_OK);
	struct store_group gg;
	assert_int_equal(store_group_get(f->st, g.id, &gg), STORE_NOT_FOUND);
}

/* ---- groups ----------------------------------------------------------------------- */

static void group_create_get_list(void **state)
{
	struct fixture *f = *state;
	struct store_softcard a, b;
	struct store_group g1, g2, g3, got;
	make_softcard(f->st, "alice", &a);
	make_softcard(f->st, "bob", &b);
	make_group(f->st, a.id, &g1);
	make_group(f->st, b.id, &g2);
	make_group(f->st, a.id, &g3);

	assert_int_equal(store_group_get(f->st, g2.id, &got), STORE_OK);
	assert_string_equal(got.name, "pkcs11");
	assert_string_equal(got.softcard_id, b.id);
	assert_int_equal(got.created, f->now);

	struct store_group *list = NULL;
	size_t n = 0;
	bool more = true;
	assert_int_equal(store_group_page(f->st, a.id, NULL, 10, &list, &n, &more), STORE_OK);
	assert_int_equal(n, 2);
	assert_false(more);
	/* In id order. */
	size_t i3 = strcmp(g1.id, g3.id) < 0 ? 1 : 0;
	assert_string_equal(list[1 - i3].id, g1.id);
	assert_string_equal(list[i3].id, g3.id);
	free(list);
	assert_int_equal(store_group_page(f->st, NULL, NULL, 10, &list, &n, &more), STORE_OK);
	assert_int_equal(n, 3);
	free(list);
	/* Two pages of all groups. */
	assert_int_equal(store_group_page(f->st, NULL, NULL, 2, &list, &n, &more), STORE_OK);
	assert_int_equal(n, 2);
	assert_true(more);
	char after[STORE_UUID_LEN + 1];
	memcpy(after, list[1].id, sizeof(after));
	free(list);
	assert_int_equal(store_group_page(f->st, NULL, after, 2, &list, &n, &more), STORE_OK);
	assert_int_equal(n, 1);
	assert_false(more);
	assert_true(strcmp(list[0].id, after) > 0);
	free(list);
	assert_int_equal(store_group_page(f->st, "bad", NULL, 10, &list, &n, &more), STORE_OK);
	assert_int_equal(n, 0);
	assert_int_equal(store_group_get(f->st, "bad", &got), STORE_NOT_FOUND);
}

static void group_of_unknown_softcard_refused(void **state)
{
	struct fixture *f = *state;
	struct store_group g;
	memset(&g, 0, sizeof(g));
	snprintf(g.name, sizeof(g.name), "pkcs11");
	snprintf(g.softcard_id, sizeof(g.softcard_id), "0123456789abcdef0123456789abcdef01234567");
	assert_int_equal(store_group_create(f->st, &g), STORE_NOT_FOUND);
	struct store_group *list = NULL;
	size_t n = 0;
	bool more = true;
	assert_int_equal(store_group_page(f->st, NULL, NULL, 10, &list, &n, &more), STORE_OK);
	assert_int_equal(n, 0);
	assert_false(more);
}

/* ---- keys --------------------------------------------------------------------------- */

static void key_insert_get_list_delete(void **state)
{
	struct fixture *f = *state;
	struct store_softcard sc;
	struct store_group g;
	struct store_key k, got;
	make_softcard(f->st, "alice", &sc);
	make_group(f->st, sc.id, &g);

	memset(&k, 0, sizeof(k));
	snprintf(k.group_id, sizeof(k.group_id), "%s", g.id);
	snprintf(k.softcard_id, sizeof(k.softcard_id), "%s", sc.id);
	k.size_bits = 128;
	memcpy(k.label, "k\0x", 3); /* labels are bytes: a NUL survives */
	k.label_len = 3;
	k.has_cka_id = true;
	k.cka_id_len = 0; /* present but empty */
	k.decrypt = true;
	k.derive = true;
	uint8_t wrapped[44], back[STORE_WRAPPED_MAX];
	size_t back_len = 0;
	for (size_t i = 0; i < sizeof(wrapped); i++)
		wrapped[i] = (uint8_t)i;
	assert_int_equal(store_key_insert(f->st, &k, wrapped, sizeof(wrapped)), STORE_OK);
	assert_true(store_is_uuid(k.id));

	assert_int_equal(store_key_get(f->st, g.id, k.id, &got, back, sizeof(back), &back_len),
	                 STORE_OK);
	assert_string_equal(got.id, k.id);
	assert_string_equal(got.group_id, g.id);
	assert_string_equal(got.softcard_id, sc.id);
	assert_int_equal(got.size_bits, 128);
	assert_int_equal(got.label_len, 3);
	assert_memory_equal(got.label, "k\0x", 3);
	assert_true(got.has_cka_id);
	assert_int_equal(got.cka_id_len, 0);
	assert_false(got.encrypt);
	assert_true(got.decrypt);
	assert_false(got.sign);
	assert_true(got.derive);
	assert_int_equal(back_len, sizeof(wrapped));
	assert_memory_equal(back, wrapped, sizeof(wrapped));

	/* Without a wrapped buffer, and with one too small. */
	assert_int_equal(store_key_get(f->st, g.id, k.id, &got, NULL, 0, NULL), STORE_OK);
	assert_int_equal(store_key_get(f->st, g.id, k.id, &got, back, 10, &back_len),
	                 STORE_ERR_ARG);

	struct store_key k2, *list = NULL;
	size_t n = 0;
	make_key(f->st, &g, "k2", &k2);
	assert_false(k2.has_cka_id);
	bool more = true;
	assert_int_equal(store_key_page(f->st, g.id, NULL, 10, &list, &n, &more), STORE_OK);
	assert_int_equal(n, 2);
	assert_false(more);
	/* In id order. */
	size_t second = strcmp(k.id, k2.id) < 0 ? 1 : 0;
	assert_string_equal(list[1 - second].id, k.id);
	assert_string_equal(list[second].id, k2.id);
	assert_false(list[second].has_cka_id);
	free(list);

	/* A key is only found under its own group. */
	struct store_group other;
	make_group(f->st, sc.id, &other);
	assert_int_equal(store_key_get(f->st, other.id, k.id, &got, NULL, 0, NULL),
	                 STORE_NOT_FOUND);
	assert_int_equal(store_key_delete(f->st, other.id, k.id), STORE_NOT_FOUND);
	assert_int_equal(store_key_delete(f->st, g.id, k.id), STORE_OK);
	assert_int_equal(store_key_delete(f->st, g.id, k.id), STORE_NOT_FOUND);
	assert_int_equal(store_key_get(f->st, g.id, k.id, &got, NULL, 0, NULL), STORE_NOT_FOUND);
}

static void key_bound_to_its_groups_softcard(void **state)
{
	struct fixture *f = *state;
	struct store_softcard a, b;
	struct store_group g;
	struct store_key k;
	uint8_t wrapped[60] = { 0 };
	make_softcard(f->st, "alice", &a);
	make_softcard(f->st, "bob", &b);
	make_group(f->st, a.id, &g);
	memset(&k, 0, sizeof(k));
	snprintf(k.group_id, sizeof(k.group_id), "%s", g.id);
	snprintf(k.softcard_id, sizeof(k.softcard_id), "%s", b.id); /* not g's softcard */
	k.size_bits = 256;
	assert_int_equal(store_key_insert(f->st, &k, wrapped, sizeof(wrapped)), STORE_NOT_FOUND);
	/* Unknown group. */
	memset(k.id, 0, sizeof(k.id));
	snprintf(k.softcard_id, sizeof(k.softcard_id), "%s", a.id);
	assert_int_equal(store_new_uuid(k.group_id), STORE_OK);
	assert_int_equal(store_key_insert(f->st, &k, wrapped, sizeof(wrapped)), STORE_NOT_FOUND);
	/* Bad sizes and lengths. */
	snprintf(k.group_id, sizeof(k.group_id), "%s", g.id);
	memset(k.id, 0, sizeof(k.id));
	k.size_bits = 512;
	assert_int_equal(store_key_insert(f->st, &k, wrapped, sizeof(wrapped)), STORE_ERR_ARG);
	k.size_bits = 256;
	assert_int_equal(store_key_insert(f->st, &k, wrapped, 0), STORE_ERR_ARG);
	assert_int_equal(store_key_insert(f->st, &k, wrapped, STORE_WRAPPED_MAX + 1),
	                 STORE_ERR_ARG);
	k.label_len = STORE_LABEL_MAX + 1;
	assert_int_equal(store_key_insert(f->st, &k, wrapped, sizeof(wrapped)), STORE_ERR_ARG);
}

/* ---- objects ------------------------------------------------------------------------- */

static void object_attributes_round_trip(void **state)
{
	struct fixture *f = *state;
	struct store_softcard sc;
	make_softcard(f->st, "alice", &sc);
	static uint8_t value[STORE_VALUE_MAX];
	for (size_t i = 0; i < sizeof(value); i++)
		value[i] = (uint8_t)(i * 31);

	struct store_object cert;
	memset(&cert, 0, sizeof(cert));
	snprintf(cert.softcard_id, sizeof(cert.softcard_id), "%s", sc.id);
	cert.cls = STORE_OBJECT_CERTIFICATE;
	set_attr(&cert.certificate_type, "x509", 4);
	set_attr(&cert.label, "my cert", 7);
	set_attr(&cert.value, value, sizeof(value));
	set_attr(&cert.subject, "\x30\x00", 2);
	set_attr(&cert.issuer, "", 0); /* present, empty */
	set_attr(&cert.start_date, "20260101", 8);
	assert_int_equal(store_object_insert(f->st, &cert), STORE_OK);

	struct store_object data;
	memset(&data, 0, sizeof(data));
	snprintf(data.softcard_id, sizeof(data.softcard_id), "%s", sc.id);
	data.cls = STORE_OBJECT_DATA;
	set_attr(&data.application, "app", 3);
	set_attr(&data.object_id, "\x06\x01\x00", 3);
	assert_int_equal(store_object_insert(f->st, &data), STORE_OK);

	struct store_object got;
	assert_int_equal(store_object_get(f->st, sc.id, cert.id, &got), STORE_OK);
	assert_int_equal(got.cls, STORE_OBJECT_CERTIFICATE);
	assert_int_equal(got.created, f->now);
	assert_true(got.certificate_type.present);
	assert_string_equal((char *)got.certificate_type.data, "x509");
	assert_string_equal((char *)got.label.data, "my cert");
	assert_int_equal(got.value.len, sizeof(value));
	assert_memory_equal(got.value.data, value, sizeof(value));
	assert_int_equal(got.subject.len, 2);
	assert_memory_equal(got.subject.data, "\x30\x00", 2);
	assert_true(got.issuer.present);
	assert_int_equal(got.issuer.len, 0);
	assert_false(got.end_date.present);
	assert_null(got.end_date.data);
	assert_false(got.application.present);
	assert_false(got.cka_id.present);
	store_object_clear(&got);

	struct store_object *list = NULL;
	size_t n = 0;
	bool more = true;
	assert_int_equal(
	    store_object_page(f->st, sc.id, NULL, 10, true, STORE_VALUE_MAX, &list, &n, &more),
	    STORE_OK);
	assert_int_equal(n, 2);
	assert_false(more);
	size_t d = strcmp(cert.id, data.id) < 0 ? 1 : 0;
	assert_string_equal(list[1 - d].id, cert.id);
	assert_int_equal(list[1 - d].value.len, sizeof(value));
	assert_string_equal(list[d].id, data.id);
	assert_int_equal(list[d].cls, STORE_OBJECT_DATA);
	assert_string_equal((char *)list[d].application.data, "app");
	assert_false(list[d].label.present);
	store_object_list_free(list, n);

	assert_int_equal(store_object_delete(f->st, sc.id, cert.id), STORE_OK);
	assert_int_equal(store_object_get(f->st, sc.id, cert.id, &got), STORE_NOT_FOUND);
	assert_int_equal(store_object_delete(f->st, sc.id, cert.id), STORE_NOT_FOUND);
}

static void object_bounds_and_owner_checked(void **state)
{
	struct fixture *f = *state;
	struct store_softcard a, b;
	make_softcard(f->st, "alice", &a);
	make_softcard(f->st, "bob", &b);
	static uint8_t big[STORE_VALUE_MAX + 1];
	struct store_object o;
	memset(&o, 0, sizeof(o));
	snprintf(o.softcard_id, sizeof(o.softcard_id), "%s", a.id);
	o.cls = STORE_OBJECT_DATA;
	set_attr(&o.value, big, sizeof(big));
	assert_int_equal(store_object_insert(f->st, &o), STORE_ERR_ARG);
	set_attr(&o.value, big, 1);
	set_attr(&o.label, big, STORE_LABEL_MAX + 1);
	assert_int_equal(store_object_insert(f->st, &o), STORE_ERR_ARG);
	o.label.present = false;
	set_attr(&o.subject, big, STORE_DN_MAX + 1);
	assert_int_equal(store_object_insert(f->st, &o), STORE_ERR_ARG);
	o.subject.present = false;
	o.cls = (enum store_object_class)3;
	assert_int_equal(store_object_insert(f->st, &o), STORE_ERR_ARG);
	o.cls = STORE_OBJECT_DATA;
	snprintf(o.softcard_id, sizeof(o.softcard_id), "0123456789abcdef0123456789abcdef01234567");
	assert_int_equal(store_object_insert(f->st, &o), STORE_NOT_FOUND);
	snprintf(o.softcard_id, sizeof(o.softcard_id), "%s", a.id);
	assert_int_equal(store_object_insert(f->st, &o), STORE_OK);
	/* Another softcard does not see it. */
	struct store_object got;
	assert_int_equal(store_object_get(f->st, b.id, o.id, &got), STORE_NOT_FOUND);
	assert_int_equal(store_object_delete(f->st, b.id, o.id), STORE_NOT_FOUND);
	struct store_object *list = NULL;
	size_t n = 0;
	bool more = true;
	assert_int_equal(store_object_page(f->st, b.id, NULL, 10, false, 0, &list, &n, &more),
	                 STORE_OK);
	assert_int_equal(n, 0);
	assert_false(more);
}

/* ---- idempotency ------------------------------------------------------------------------ */

static const uint8_t client_a[STORE_CLIENT_FP_LEN] = { 0xaa };
static const uint8_t client_b[STORE_CLIENT_FP_LEN] = { 0xbb };

static void idempotent_answer_replayed_for_same_request(void **state)
{
	struct fixture *f = *state;
	struct store_idem_answer ans;
	const char body[] = "{\"id\":\"x\"}";
	assert_int_equal(store_idem_lookup(f->st, client_a, "key1", "POST", "/km/v1/groups", &ans),
	                 STORE_NOT_FOUND);
	assert_int_equal(store_idem_record(f->st, client_a, "key1", "POST", "/km/v1/groups", 201,
	                                   (const uint8_t *)body, strlen(body)),
	                 STORE_OK);
	assert_int_equal(store_idem_lookup(f->st, client_a, "key1", "POST", "/km/v1/groups", &ans),
	                 STORE_OK);
	assert_int_equal(ans.status, 201);
	assert_int_equal(ans.body_len, strlen(body));
	assert_memory_equal(ans.body, body, strlen(body));
	assert_int_equal(ans.created, f->now);
	store_idem_answer_clear(&ans);
	assert_null(ans.body);

	/* Same key, another method or path: conflict. */
	assert_int_equal(
	    store_idem_lookup(f->st, client_a, "key1", "DELETE", "/km/v1/groups", &ans),
	    STORE_IDEM_CONFLICT);
	assert_int_equal(store_idem_lookup(f->st, client_a, "key1", "POST", "/km/v1/groupz", &ans),
	                 STORE_IDEM_CONFLICT);
	/* Another client's keys are its own. */
	assert_int_equal(store_idem_lookup(f->st, client_b, "key1", "POST", "/km/v1/groups", &ans),
	                 STORE_NOT_FOUND);
	assert_int_equal(store_idem_record(f->st, client_b, "key1", "DELETE", "/x", 204, NULL, 0),
	                 STORE_OK);
	assert_int_equal(store_idem_lookup(f->st, client_b, "key1", "DELETE", "/x", &ans),
	                 STORE_OK);
	assert_int_equal(ans.status, 204);
	assert_int_equal(ans.body_len, 0);
	assert_null(ans.body);
	/* A live record is never overwritten. */
	assert_int_equal(
	    store_idem_record(f->st, client_a, "key1", "POST", "/km/v1/groups", 500, NULL, 0),
	    STORE_EXISTS);
}

static void idempotent_answer_expires_after_ttl(void **state)
{
	struct fixture *f = *state;
	struct store_idem_answer ans;
	int64_t t0 = f->now;
	assert_int_equal(
	    store_idem_record(f->st, client_a, "k", "POST", "/p", 201, (const uint8_t *)"1", 1),
	    STORE_OK);
	f->now = t0 + STORE_IDEM_TTL;
	assert_int_equal(store_idem_lookup(f->st, client_a, "k", "POST", "/p", &ans), STORE_OK);
	store_idem_answer_clear(&ans);
	f->now = t0 + STORE_IDEM_TTL + 1;
	assert_int_equal(store_idem_lookup(f->st, client_a, "k", "POST", "/p", &ans),
	                 STORE_NOT_FOUND);
	/* Expired: the key may be used again, even for another request. */
	assert_int_equal(store_idem_record(f->st, client_a, "k", "DELETE", "/q", 204, NULL, 0),
	                 STORE_OK);
	assert_int_equal(store_idem_lookup(f->st, client_a, "k", "DELETE", "/q", &ans), STORE_OK);
	assert_int_equal(ans.status, 204);
}

static int64_t count_idem_rows(struct fixture *f)
{
	char path[4200];
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	int64_t n = -1;
	if (pg_conninfo() != NULL) {
		PGconn *c = PQconnectdb(pg_conninfo());
		PGresult *r = PQexec(c, "SELECT count(*) FROM idempotency");
		assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
		n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		PQclear(r);
		PQfinish(c);
		return n;
	}
	snprintf(path, sizeof(path), "%s/%s", f->dir, STORE_DB_FILE);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(
	    sqlite3_prepare_v2(db, "SELECT count(*) FROM idempotency", -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	n = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return n;
}

static void expired_idempotency_rows_purged(void **state)
{
	struct fixture *f = *state;
	int64_t t0 = f->now;
	assert_int_equal(store_idem_record(f->st, client_a, "a", "POST", "/p", 201, NULL, 0),
	                 STORE_OK);
	assert_int_equal(store_idem_record(f->st, client_b, "b", "POST", "/p", 201, NULL, 0),
	                 STORE_OK);
	f->now = t0 + 300;
	assert_int_equal(store_idem_record(f->st, client_a, "c", "POST", "/p", 201, NULL, 0),
	                 STORE_OK);
	assert_int_equal(count_idem_rows(f), 3);
	/* Writing a record purges every expired one, of every client. */
	f->now = t0 + STORE_IDEM_TTL + 1;
	assert_int_equal(store_idem_record(f->st, client_a, "d", "POST", "/p", 201, NULL, 0),
	                 STORE_OK);
	assert_int_equal(count_idem_rows(f), 2);
	f->now = t0 + 300 + STORE_IDEM_TTL + 1;
	assert_int_equal(store_idem_purge(f->st), STORE_OK);
	assert_int_equal(count_idem_rows(f), 1);
}

static void idempotency_arguments_checked(void **state)
{
	struct fixture *f = *state;
	struct store_idem_answer ans;
	char long_key[STORE_IDEM_KEY_MAX + 2];
	memset(long_key, 'k', sizeof(long_key) - 1);
	long_key[sizeof(long_key) - 1] = '\0';
	assert_int_equal(store_idem_lookup(f->st, client_a, "", "POST", "/p", &ans), STORE_ERR_ARG);
	assert_int_equal(store_idem_lookup(f->st, client_a, long_key, "POST", "/p", &ans),
	                 STORE_ERR_ARG);
	assert_int_equal(store_idem_lookup(f->st, NULL, "k", "POST", "/p", &ans), STORE_ERR_ARG);
	assert_int_equal(store_idem_record(f->st, client_a, "k", "POST", "/p", 99, NULL, 0),
	                 STORE_ERR_ARG);
	assert_int_equal(store_idem_record(f->st, client_a, "k", "POST", "/p", 200, NULL, 3),
	                 STORE_ERR_ARG);
}

/* ---- transactions ---------------------------------------------------------------------- */

static void mutation_and_answer_commit_together(void **state)
{
	struct fixture *f = *state;
	struct store_softcard sc, got;
	struct store_idem_answer ans;
	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(store_idem_lookup(f->st, client_a, "i1", "POST", "/pd", &ans),
	                 STORE_NOT_FOUND);
	make_softcard(f->st, "alice", &sc);
	assert_int_equal(store_idem_record(f->st, client_a, "i1", "POST", "/pd", 201,
	                                   (const uint8_t *)sc.id, strlen(sc.id)),
	                 STORE_OK);
	assert_int_equal(store_commit(f->st), STORE_OK);
	reopen(f);
	assert_int_equal(store_softcard_get(f->st, sc.id, &got), STORE_OK);
	assert_int_equal(store_idem_lookup(f->st, client_a, "i1", "POST", "/pd", &ans), STORE_OK);
	assert_memory_equal(ans.body, sc.id, strlen(sc.id));
	store_idem_answer_clear(&ans);
}

static void rollback_leaves_neither(void **state)
{
	struct fixture *f = *state;
	struct store_softcard sc, got;
	struct store_idem_answer ans;
	assert_int_equal(store_begin(f->st), STORE_OK);
	make_softcard(f->st, "alice", &sc);
	assert_int_equal(store_idem_record(f->st, client_a, "i1", "POST", "/pd", 201, NULL, 0),
	                 STORE_OK);
	store_rollback(f->st);
	assert_int_equal(store_softcard_get(f->st, sc.id, &got), STORE_NOT_FOUND);
	assert_int_equal(store_idem_lookup(f->st, client_a, "i1", "POST", "/pd", &ans),
	                 STORE_NOT_FOUND);
}

static void failed_step_inside_transaction_keeps_the_rest(void **state)
{
	struct fixture *f = *state;
	struct store_softcard sc, got;
	assert_int_equal(store_begin(f->st), STORE_OK);
	make_softcard(f->st, "alice", &sc);
	/* A refused delete inside the transaction undoes only itself. */
	struct store_group g;
	struct store_key k;
	make_group(f->st, sc.id, &g);
	make_key(f->st, &g, "k", &k);
	assert_int_equal(store_softcard_delete(f->st, sc.id), STORE_NOT_EMPTY);
	assert_int_equal(store_commit(f->st), STORE_OK);
	assert_int_equal(store_softcard_get(f->st, sc.id, &got), STORE_OK);
	struct store_key kk;
	assert_int_equal(store_key_get(f->st, g.id, k.id, &kk, NULL, 0, NULL), STORE_OK);
}

static void transaction_misuse_reported(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(store_commit(f->st), STORE_ERR_TXN);
	store_rollback(f->st); /* harmless */
	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(store_begin(f->st), STORE_ERR_TXN);
	assert_int_equal(store_commit(f->st), STORE_OK);
	assert_int_equal(store_commit(f->st), STORE_ERR_TXN);
}

struct worker_arg {
	struct store *st;
	int index;
	int failures;
};

#define THREADS           4
#define ROUNDS_PER_THREAD 25

/* Each round: the handler pattern (begin, lookup, create, record, commit). */
static void *worker(void *p)
{
	struct worker_arg *w = p;
	for (int i = 0; i < ROUNDS_PER_THREAD; i++) {
		char key[32];
		struct store_idem_answer ans;
		struct store_softcard sc;
		snprintf(key, sizeof(key), "t%d-%d", w->index, i);
		memset(&sc, 0, sizeof(sc));
		snprintf(sc.name, sizeof(sc.name), "%s", key);
		sc.verifier_len = 1;
		if (store_begin(w->st) != STORE_OK) {
			w->failures++;
			continue;
		}
		int rc = store_idem_lookup(w->st, client_a, key, "POST", "/pd", &ans);
		if (rc == STORE_NOT_FOUND)
			rc = store_softcard_create(w->st, &sc);
		if (rc == STORE_OK)
			rc = store_idem_record(w->st, client_a, key, "POST", "/pd", 201,
			                       (const uint8_t *)sc.id, strlen(sc.id));
		if (rc == STORE_OK)
			rc = store_commit(w->st);
		else
			store_rollback(w->st);
		if (rc != STORE_OK)
			w->failures++;
	}
	return NULL;
}

static void concurrent_workers_all_commit(void **state)
{
	struct fixture *f = *state;
	pthread_t threads[THREADS];
	struct worker_arg args[THREADS];
	for (int i = 0; i < THREADS; i++) {
		args[i] = (struct worker_arg){ .st = f->st, .index = i };
		assert_int_equal(pthread_create(&threads[i], NULL, worker, &args[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(threads[i], NULL), 0);
		assert_int_equal(args[i].failures, 0);
	}
	struct store_softcard *list = NULL;
	size_t n = 0;
	assert_int_equal(store_softcard_list(f->st, &list, &n), STORE_OK);
	assert_int_equal(n, THREADS * ROUNDS_PER_THREAD);
	free(list);
	assert_int_equal(count_idem_rows(f), THREADS * ROUNDS_PER_THREAD);
}

/* ---- persistence and schema --------------------------------------------------------------- */

static void everything_survives_reopen(void **state)
{
	struct fixture *f = *state;
	struct store_softcard sc, got;
	struct store_group g, gg;
	struct store_key k, kk;
	make_softcard(f->st, "alice", &sc);
	make_group(f->st, sc.id, &g);
	make_key(f->st, &g, "k", &k);
	struct store_object o;
	memset(&o, 0, sizeof(o));
	snprintf(o.softcard_id, sizeof(o.softcard_id), "%s", sc.id);
	o.cls = STORE_OBJECT_DATA;
	set_attr(&o.label, "d", 1);
	assert_int_equal(store_object_insert(f->st, &o), STORE_OK);
	reopen(f);
	reopen(f); /* a second open of a current schema changes nothing */
	assert_int_equal(store_softcard_get(f->st, sc.id, &got), STORE_OK);
	assert_string_equal(got.name, "alice");
	assert_int_equal(store_group_get(f->st, g.id, &gg), STORE_OK);
	assert_int_equal(store_key_get(f->st, g.id, k.id, &kk, NULL, 0, NULL), STORE_OK);
	assert_string_equal(kk.label, "k");
	struct store_object oo;
	assert_int_equal(store_object_get(f->st, sc.id, o.id, &oo), STORE_OK);
	assert_string_equal((char *)oo.label.data, "d");
	store_object_clear(&oo);
}

static void newer_schema_refused(void **state)
{
	struct fixture *f = *state;
	char path[4200];
	sqlite3 *db = NULL;
	store_close(f->st);
	f->st = NULL;
	if (pg_conninfo() != NULL) {
		struct store *st = NULL;
		assert_true(pg_exec("UPDATE schema_version SET version = 99"));
		assert_int_equal(store_open(f->dir, &st), STORE_ERR_VERSION);
		assert_null(st);
		assert_true(pg_exec("UPDATE schema_version SET version = 2"));
		reopen(f);
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", f->dir, STORE_DB_FILE);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db, "UPDATE schema_version SET version = 99", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	struct store *st = NULL;
	assert_int_equal(store_open(f->dir, &st), STORE_ERR_VERSION);
	assert_null(st);
	/* Put it back so that teardown has a store to close. */
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db, "UPDATE schema_version SET version = 3", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	reopen(f);
}

/* A store of version 1 (before revocations) is upgraded in place. */
static void version_1_store_gains_the_revoked_table(void **state)
{
	struct fixture *f = *state;
	char path[4200];
	sqlite3 *db = NULL;
	SKIP_ON_PG();
	uint8_t id[STORE_ACTIVATION_ID_LEN];

	store_close(f->st);
	f->st = NULL;
	snprintf(path, sizeof(path), "%s/%s", f->dir, STORE_DB_FILE);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	                              "DROP TABLE revoked; UPDATE schema_version SET version = 1",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlite3_close(db);
	reopen(f);
	memset(id, 7, sizeof(id));
	assert_int_equal(store_revoked_check(f->st, id), STORE_NOT_FOUND);
	assert_int_equal(store_revoked_add(f->st, id, f->now + 10), STORE_OK);
	assert_int_equal(store_revoked_check(f->st, id), STORE_OK);
}

/* Revocations last until their expiry, across a reopen, then go. */
static void revocations_persist_until_expiry(void **state)
{
	struct fixture *f = *state;
	uint8_t a[STORE_ACTIVATION_ID_LEN], b[STORE_ACTIVATION_ID_LEN];

	memset(a, 1, sizeof(a));
	memset(b, 2, sizeof(b));
	assert_int_equal(store_revoked_add(f->st, a, f->now + 10), STORE_OK);
	assert_int_equal(store_revoked_add(f->st, a, f->now + 10), STORE_OK);
	reopen(f);
	assert_int_equal(store_revoked_check(f->st, a), STORE_OK);
	assert_int_equal(store_revoked_check(f->st, b), STORE_NOT_FOUND);
	/* Adding another after a's expiry purges a. */
	f->now += 10;
	assert_int_equal(store_revoked_add(f->st, b, f->now + 10), STORE_OK);
	assert_int_equal(store_revoked_check(f->st, a), STORE_NOT_FOUND);
	assert_int_equal(store_revoked_check(f->st, b), STORE_OK);
	assert_int_equal(store_revoked_add(NULL, b, 0), STORE_ERR_ARG);
}

static void journal_is_wal(void **state)
{
	struct fixture *f = *state;
	char path[4200];
	sqlite3 *db = NULL;
	SKIP_ON_PG();
	sqlite3_stmt *stmt = NULL;
	snprintf(path, sizeof(path), "%s/%s", f->dir, STORE_DB_FILE);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(stmt, 0), "wal");
	sqlite3_finalize(stmt);
	sqlite3_close(db);
}

static void open_in_missing_directory_fails(void **state)
{
	(void)state;
	struct store *st = (struct store *)1;
	assert_true(store_open("/nonexistent/wsopd-test", &st) < 0);
	assert_null(st);
	assert_int_equal(store_open(NULL, &st), STORE_ERR_ARG);
}

static void result_names_are_distinct(void **state)
{
	(void)state;
	for (int a = STORE_ERR_TXN; a <= STORE_IDEM_CONFLICT; a++)
		for (int b = a + 1; b <= STORE_IDEM_CONFLICT; b++)
			assert_string_not_equal(store_result_name(a), store_result_name(b));
}

/* Pages walk the rows in id order, whatever the limit, and "more" is
 * true exactly when rows follow. */
static void key_and_object_pages(void **state)
{
	struct fixture *f = *state;
	struct store_softcard sc;
	struct store_group g;
	struct store_key keys[7], *page = NULL;
	size_t n = 0;
	bool more = true;
	make_softcard(f->st, "pages", &sc);
	make_group(f->st, sc.id, &g);
	for (int i = 0; i < 7; i++)
		make_key(f->st, &g, "k", &keys[i]);

	for (size_t limit = 1; limit <= 8; limit++) {
		char after[STORE_UUID_LEN + 1] = "";
		size_t seen = 0;
		do {
			assert_int_equal(
			    store_key_page(f->st, g.id, after, limit, &page, &n, &more), STORE_OK);
			assert_true(n <= limit);
			for (size_t i = 0; i < n; i++) {
				assert_true(strcmp(page[i].id, after) > 0);
				memcpy(after, page[i].id, sizeof(after));
			}
			seen += n;
			assert_int_equal(more, seen < 7);
			free(page);
		} while (more);
		assert_int_equal(seen, 7);
	}
	/* After an id that is not there (deleted, or never was). */
	assert_int_equal(store_key_page(f->st, g.id, "ffffffff-ffff-4fff-bfff-ffffffffffff", 5,
	                                &page, &n, &more),
	                 STORE_OK);
	assert_int_equal(n, 0);
	assert_false(more);
	assert_null(page);
	assert_int_equal(store_key_page(f->st, g.id, NULL, 0, &page, &n, &more), STORE_ERR_ARG);
	assert_int_equal(store_key_page(f->st, g.id, "nope", 1, &page, &n, &more), STORE_ERR_ARG);
	assert_int_equal(store_key_page(f->st, "nope", NULL, 1, &page, &n, &more), STORE_OK);
	assert_int_equal(n, 0);

	/* Objects: without values only their length; with values the page
	 * stops once they pass the byte budget. */
	static uint8_t value[1000];
	for (int i = 0; i < 4; i++) {
		struct store_object o;
		memset(&o, 0, sizeof(o));
		snprintf(o.softcard_id, sizeof(o.softcard_id), "%s", sc.id);
		o.cls = STORE_OBJECT_DATA;
		if (i > 0)
			set_attr(&o.value, value, sizeof(value));
		assert_int_equal(store_object_insert(f->st, &o), STORE_OK);
	}
	struct store_object *objs = NULL;
	assert_int_equal(store_object_page(f->st, sc.id, NULL, 10, false, 0, &objs, &n, &more),
	                 STORE_OK);
	assert_int_equal(n, 4);
	assert_false(more);
	size_t with_value = 0;
	for (size_t i = 0; i < n; i++) {
		assert_false(objs[i].value.present);
		assert_null(objs[i].value.data);
		if (objs[i].value_omitted) {
			with_value++;
			assert_int_equal(objs[i].value_len, sizeof(value));
		}
	}
	assert_int_equal(with_value, 3);
	store_object_list_free(objs, n);
	assert_int_equal(store_object_page(f->st, sc.id, NULL, 10, true, 1500, &objs, &n, &more),
	                 STORE_OK);
	assert_true(more);
	assert_in_range(n, 2, 3);
	for (size_t i = 0; i < n; i++)
		assert_false(objs[i].value_omitted);
	store_object_list_free(objs, n);
}

static uint64_t durable_of(struct store *st)
{
	pthread_mutex_lock(&st->sync_lock);
	uint64_t d = st->durable;
	pthread_mutex_unlock(&st->sync_lock);
	return d;
}

/* A change returns only once a sync that began after its commit is done:
 * in a transaction (store_commit) and on its own (a unit's release). */
static void changes_return_after_their_sync(void **state)
{
	struct fixture *f = *state;
	SKIP_ON_PG(); /* SQLite's own group commit */
	struct store_softcard sc;
	make_softcard(f->st, "alice", &sc);
	uint64_t first = __atomic_load_n(&f->st->commits, __ATOMIC_ACQUIRE);
	assert_true(first >= 1);
	assert_true(durable_of(f->st) >= first);
	assert_int_equal(store_begin(f->st), STORE_OK);
	struct store_group g;
	make_group(f->st, sc.id, &g);
	assert_int_equal(store_commit(f->st), STORE_OK);
	uint64_t second = __atomic_load_n(&f->st->commits, __ATOMIC_ACQUIRE);
	assert_true(second > first);
	assert_true(durable_of(f->st) >= second);
}

/* A sync that fails is not retried: that commit and every later change
 * fail, reads still work. */
static void failed_sync_refuses_every_later_change(void **state)
{
	struct fixture *f = *state;
	SKIP_ON_PG(); /* SQLite's own group commit */
	struct store_softcard sc, got;
	uint8_t id[STORE_ACTIVATION_ID_LEN] = { 1 };
	int p[2];
	make_softcard(f->st, "alice", &sc);
	assert_int_equal(pipe(p), 0);
	int wal_fd = f->st->wal_fd;
	f->st->wal_fd = p[0]; /* fdatasync of a pipe fails (EINVAL) */
	assert_int_equal(store_begin(f->st), STORE_OK);
	struct store_group g;
	make_group(f->st, sc.id, &g);
	assert_int_equal(store_commit(f->st), STORE_ERR_DB);
	assert_int_equal(store_begin(f->st), STORE_ERR_DB);
	assert_int_equal(store_revoked_add(f->st, id, f->now + 60), STORE_ERR_DB);
	assert_int_equal(store_softcard_get(f->st, sc.id, &got), STORE_OK);
	f->st->wal_fd = wal_fd;
	close(p[0]);
	close(p[1]);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ids_have_documented_shapes),
		T(database_file_is_private),
		T(softcard_create_get_list_delete),
		T(softcard_list_empty),
		T(login_failures_counted_and_reset),
		T(softcard_bad_fields_refused),
		T(softcard_with_key_or_object_not_deleted),
		T(group_create_get_list),
		T(group_of_unknown_softcard_refused),
		T(key_insert_get_list_delete),
		T(key_bound_to_its_groups_softcard),
		T(key_and_object_pages),
		T(object_attributes_round_trip),
		T(object_bounds_and_owner_checked),
		T(idempotent_answer_replayed_for_same_request),
		T(idempotent_answer_expires_after_ttl),
		T(expired_idempotency_rows_purged),
		T(idempotency_arguments_checked),
		T(mutation_and_answer_commit_together),
		T(rollback_leaves_neither),
		T(failed_step_inside_transaction_keeps_the_rest),
		T(transaction_misuse_reported),
		T(concurrent_workers_all_commit),
		T(everything_survives_reopen),
		T(newer_schema_refused),
		T(version_1_store_gains_the_revoked_table),
		T(revocations_persist_until_expiry),
		T(journal_is_wal),
		T(changes_return_after_their_sync),
		T(failed_sync_refuses_every_later_change),
		cmocka_unit_test(open_in_missing_directory_fails),
		cmocka_unit_test(result_names_are_distinct),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
