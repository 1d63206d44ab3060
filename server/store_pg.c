/*
 * The PostgreSQL back end's connections, schema and transactions. See
 * store_pg.h.
 */
#include "store_pg_priv.h"

#include "conf/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Serializes schema creation and upgrades among nodes starting together:
 * pg_advisory_xact_lock on this arbitrary key ("wsop" in ASCII), held to
 * the end of the migrating transaction. */
#define MIGRATE_LOCK_KEY "1953722224"

/* Version 1. Ids compare bytewise (COLLATE "C") so that keyset pages go
 * in the same order as with SQLite; every integer is bigint, which the
 * statements bind as 8 bytes. */
static const char schema_v1[] =
    "CREATE TABLE softcards ("
    " id text COLLATE \"C\" PRIMARY KEY CHECK (length(id) = 40),"
    " name text NOT NULL CONSTRAINT softcards_name_key UNIQUE,"
    " created bigint NOT NULL,"
    " salt bytea NOT NULL,"
    " verifier bytea NOT NULL,"
    " seq bigserial NOT NULL);"
    "CREATE INDEX softcards_seq ON softcards(seq);"
    "CREATE TABLE groups ("
    " id text COLLATE \"C\" PRIMARY KEY CHECK (length(id) = 36),"
    " name text NOT NULL,"
    " softcard_id text COLLATE \"C\" NOT NULL REFERENCES softcards(id) ON DELETE CASCADE,"
    " created bigint NOT NULL,"
    " UNIQUE (id, softcard_id));"
    "CREATE INDEX groups_softcard_id ON groups(softcard_id, id);"
    "CREATE TABLE keys ("
    " id text COLLATE \"C\" PRIMARY KEY CHECK (length(id) = 36),"
    " group_id text COLLATE \"C\" NOT NULL,"
    " softcard_id text COLLATE \"C\" NOT NULL REFERENCES softcards(id),"
    " size_bits bigint NOT NULL CHECK (size_bits IN (128, 192, 256)),"
    " wrapped bytea NOT NULL,"
    " label bytea NOT NULL,"
    " cka_id bytea,"
    " encrypt bigint NOT NULL, decrypt bigint NOT NULL,"
    " sign bigint NOT NULL, verify bigint NOT NULL,"
    " wrap bigint NOT NULL, unwrap bigint NOT NULL, derive bigint NOT NULL,"
    " created bigint NOT NULL,"
    " FOREIGN KEY (group_id, softcard_id) REFERENCES groups(id, softcard_id));"
    "CREATE INDEX keys_group_id ON keys(group_id, id);"
    "CREATE INDEX keys_softcard ON keys(softcard_id);"
    "CREATE TABLE objects ("
    " id text COLLATE \"C\" PRIMARY KEY CHECK (length(id) = 36),"
    " softcard_id text COLLATE \"C\" NOT NULL REFERENCES softcards(id),"
    " class bigint NOT NULL CHECK (class IN (1, 2)),"
    " label bytea, cka_id bytea, application bytea, object_id bytea, value bytea,"
    " subject bytea, issuer bytea, serial_number bytea, start_date bytea,"
    " end_date bytea, certificate_type bytea,"
    " created bigint NOT NULL);"
    "CREATE INDEX objects_softcard_id ON objects(softcard_id, id);"
    "CREATE TABLE idempotency ("
    " client bytea NOT NULL, key text COLLATE \"C\" NOT NULL,"
    " method text NOT NULL, path text NOT NULL,"
    " status bigint NOT NULL, body bytea, created bigint NOT NULL,"
    " PRIMARY KEY (client, key));"
    "CREATE INDEX idempotency_created ON idempotency(created);"
    "CREATE TABLE revoked ("
    " id bytea PRIMARY KEY CHECK (length(id) = 16),"
    " expires bigint NOT NULL);"
    "CREATE INDEX revoked_expires ON revoked(expires);"
    /* One row: the check value of the master key every node must hold. */
    "CREATE TABLE master_check (value bytea NOT NULL);";

/* Thread's transaction: the connection store_begin bound, and to which
 * store (a test may open two). */
static __thread struct pg_conn *txn_conn;
static __thread const struct store *txn_store;

/* ---- connection strings --------------------------------------------------- */

bool store_pg_is_conninfo(const char *text)
{
	static const char *const keywords[] = { "host=", "hostaddr=", "dbname=",
		                                "user=", "port=",     "service=" };
	if (text == NULL)
		return false;
	if (strncmp(text, "postgresql://", 13) == 0 || strncmp(text, "postgres://", 11) == 0)
		return true;
	for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
		for (const char *p = strstr(text, keywords[i]); p != NULL;
		     p = strstr(p + 1, keywords[i]))
			if (p == text || p[-1] == ' ' || p[-1] == '\t')
				return true;
	}
	return false;
}

void store_pg_describe(const char *conninfo, char *out, size_t cap)
{
	const char *host = "(default)", *port = "(default)", *db = "(default)";
	PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
	if (opts == NULL) {
		snprintf(out, cap, "PostgreSQL (unparsable connection string)");
		return;
	}
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL || o->val[0] == '\0')
			continue;
		if (strcmp(o->keyword, "host") == 0)
			host = o->val;
		else if (strcmp(o->keyword, "port") == 0)
			port = o->val;
		else if (strcmp(o->keyword, "dbname") == 0)
			db = o->val;
	}
	snprintf(out, cap, "PostgreSQL host %s, port %s, database %s", host, port, db);
	PQconninfoFree(opts);
}

/* ---- the pool ---------------------------------------------------------------- */

/* Notices ("relation already exists, skipping") are not ours to print. */
static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* Connects, or reconnects a broken connection; a connection left inside
 * a transaction by a failed call is rolled back. */
static bool ready(struct store_pg *pg, struct pg_conn *c)
{
	if (c->c == NULL) {
		c->c = PQconnectdb(pg->conninfo);
		if (c->c != NULL)
			PQsetNoticeProcessor(c->c, quiet, NULL);
	} else if (PQstatus(c->c) != CONNECTION_OK) {
		PQreset(c->c);
	}
	if (c->c == NULL || PQstatus(c->c) != CONNECTION_OK) {
		/* libpq's reason names the server, user and database, never the
		 * password. */
		const char *why = c->c != NULL ? PQerrorMessage(c->c) : "out of memory";
		int n = (int)strcspn(why, "\n");
		wlog(WLOG_ERROR, "cannot connect to PostgreSQL: %.*s", n, why);
		return false;
	}
	if (PQtransactionStatus(c->c) != PQTRANS_IDLE && pg_cmd(c, "ROLLBACK") != STORE_OK)
		return false;
	return true;
}

bool pg_in_txn(struct store *st)
{
	return txn_store == st && txn_conn != NULL;
}

struct pg_conn *pg_get(struct store *st)
{
	struct store_pg *pg = st->pg;
	struct pg_conn *c = NULL;
	if (pg_in_txn(st))
		return txn_conn;
	pthread_mutex_lock(&pg->lock);
	for (;;) {
		for (size_t i = 0; i < STORE_PG_POOL && c == NULL; i++)
			if (!pg->conns[i].busy)
				c = &pg->conns[i];
		if (c != NULL)
			break;
		pthread_cond_wait(&pg->freed, &pg->lock);
	}
	c->busy = true;
	pthread_mutex_unlock(&pg->lock);
	if (!ready(pg, c)) {
		pg_put(st, c);
		return NULL;
	}
	return c;
}

void pg_put(struct store *st, struct pg_conn *c)
{
	struct store_pg *pg = st->pg;
	if (c == NULL || (pg_in_txn(st) && c == txn_conn))
		return;
	pthread_mutex_lock(&pg->lock);
	c->busy = false;
	pthread_cond_signal(&pg->freed);
	pthread_mutex_unlock(&pg->lock);
}

/* ---- schema ------------------------------------------------------------------- */

static int exec_script(struct pg_conn *c, const char *sql)
{
	PGresult *r = PQexec(c->c, sql);
	int rc = r != NULL && PQresultStatus(r) == PGRES_COMMAND_OK ? STORE_OK : pg_map_error(r);
	PQclear(r);
	return rc == STORE_OK ? STORE_OK : rc < 0 ? rc : STORE_ERR_DB;
}

static int read_version(struct pg_conn *c, int64_t *version)
{
	PGresult *r = NULL;
	int rc = pg_run(c, "SELECT version FROM schema_version", NULL, &r, NULL);
	*version = 0;
	if (rc == STORE_OK && PQntuples(r) > 1)
		rc = STORE_ERR_DB;
	if (rc == STORE_OK && PQntuples(r) == 1)
		rc = pg_col_int(r, 0, 0, version);
	PQclear(r);
	return rc;
}

static int write_version(struct pg_conn *c, int64_t version)
{
	struct pg_params p = { 0 };
	pg_int(&p, version);
	int rc = pg_cmd(c, "DELETE FROM schema_version");
	if (rc == STORE_OK)
		rc = pg_exec(c, "INSERT INTO schema_version (version) VALUES ($1)", &p);
	return rc;
}

/* In one transaction under the advisory lock: nodes starting together
 * wait for the first to finish, then find the schema made. */
static int migrate(struct pg_conn *c)
{
	int64_t version = 0;
	int rc = pg_cmd(c, "BEGIN");
	if (rc != STORE_OK)
		return rc;
	rc = pg_cmd(c, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK_KEY ")");
	if (rc == STORE_OK)
		rc = exec_script(c, "CREATE TABLE IF NOT EXISTS schema_version"
		                    " (version bigint NOT NULL)");
	if (rc == STORE_OK)
		rc = read_version(c, &version);
	if (rc == STORE_OK && (version < 0 || version > STORE_PG_SCHEMA_VERSION))
		rc = STORE_ERR_VERSION;
	if (rc == STORE_OK && version < 1) {
		rc = exec_script(c, schema_v1);
		if (rc == STORE_OK)
			rc = write_version(c, 1);
	}
	/* Version 2: each softcard's run of wrong passphrases since its last
	 * right one, and when the last wrong one came (the login lockout). */
	if (rc == STORE_OK && version < 2) {
		rc = exec_script(
		    c, "ALTER TABLE softcards"
		       " ADD COLUMN IF NOT EXISTS login_failures bigint NOT NULL"
		       " DEFAULT 0 CHECK (login_failures >= 0),"
		       " ADD COLUMN IF NOT EXISTS last_failure bigint NOT NULL DEFAULT 0");
		if (rc == STORE_OK)
			rc = write_version(c, 2);
	}
	/* Later versions add their step here: if (version < 3) ... */
	if (rc == STORE_OK)
		rc = pg_cmd(c, "COMMIT");
	if (rc != STORE_OK)
		(void)pg_cmd(c, "ROLLBACK");
	return rc;
}

/* ---- open / close --------------------------------------------------------------- */

int store_pg_open(const char *conninfo, struct store **out)
{
	if (out == NULL || conninfo == NULL)
		return STORE_ERR_ARG;
	*out = NULL;
	struct store *st = calloc(1, sizeof(*st));
	struct store_pg *pg = calloc(1, sizeof(*pg));
	if (st == NULL || pg == NULL) {
		free(st);
		free(pg);
		return STORE_ERR_NOMEM;
	}
	st->pg = pg;
	pg->conninfo = strdup(conninfo);
	pthread_mutexattr_t attr;
	bool ok = pg->conninfo != NULL && pthread_mutexattr_init(&attr) == 0;
	if (ok) {
		ok = pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE) == 0 &&
		     pthread_mutex_init(&st->mutex, &attr) == 0;
		pthread_mutexattr_destroy(&attr);
	}
	if (ok && pthread_mutex_init(&pg->lock, NULL) != 0) {
		pthread_mutex_destroy(&st->mutex);
		ok = false;
	}
	if (ok && pthread_cond_init(&pg->freed, NULL) != 0) {
		pthread_mutex_destroy(&pg->lock);
		pthread_mutex_destroy(&st->mutex);
		ok = false;
	}
	if (!ok) {
		free(pg->conninfo);
		free(pg);
		free(st);
		return STORE_ERR_NOMEM;
	}
	struct pg_conn *c = pg_get(st);
	int rc = c != NULL ? migrate(c) : STORE_ERR_DB;
	pg_put(st, c);
	if (rc != STORE_OK) {
		store_pg_close(st);
		return rc;
	}
	*out = st;
	return STORE_OK;
}

void store_pg_close(struct store *st)
{
	struct store_pg *pg = st->pg;
	for (size_t i = 0; i < STORE_PG_POOL; i++)
		if (pg->conns[i].c != NULL)
			PQfinish(pg->conns[i].c);
	pthread_cond_destroy(&pg->freed);
	pthread_mutex_destroy(&pg->lock);
	pthread_mutex_destroy(&st->mutex);
	/* The connection string may hold a password. */
	size_t n = strlen(pg->conninfo);
	memset(pg->conninfo, 0, n);
	free(pg->conninfo);
	free(pg);
	free(st);
}

/* ---- transactions ------------------------------------------------------------------ */

int store_pg_begin(struct store *st)
{
	if (pg_in_txn(st))
		return STORE_ERR_TXN;
	/* A connection that broke while idle in the pool fails its BEGIN;
	 * nothing happened yet, so one more try on a fresh one is safe. */
	int rc = STORE_ERR_DB;
	for (int i = 0; i < 2 && rc != STORE_OK; i++) {
		struct pg_conn *c = pg_get(st);
		if (c == NULL)
			return STORE_ERR_DB;
		rc = pg_cmd(c, "BEGIN ISOLATION LEVEL READ COMMITTED");
		if (rc == STORE_OK) {
			txn_conn = c;
			txn_store = st;
		} else {
			pg_put(st, c);
		}
	}
	return rc;
}

static void end_txn(struct store *st)
{
	struct pg_conn *c = txn_conn;
	txn_conn = NULL;
	txn_store = NULL;
	pg_put(st, c);
}

int store_pg_commit(struct store *st)
{
	if (!pg_in_txn(st))
		return STORE_ERR_TXN;
	int rc = pg_commit(txn_conn);
	if (rc != STORE_OK && PQtransactionStatus(txn_conn->c) != PQTRANS_IDLE)
		(void)pg_cmd(txn_conn, "ROLLBACK");
	end_txn(st);
	return rc;
}

void store_pg_rollback(struct store *st)
{
	if (!pg_in_txn(st))
		return;
	(void)pg_cmd(txn_conn, "ROLLBACK");
	end_txn(st);
}

/* ---- the master key's check value ------------------------------------------------- */

struct master_arg {
	const uint8_t *check;
};

static int master_unit(struct store *st, struct pg_conn *c, void *arg)
{
	const struct master_arg *a = arg;
	struct pg_params p = { 0 };
	PGresult *r = NULL;
	uint8_t stored[STORE_MASTER_CHECK_LEN];
	size_t len = 0;
	(void)st;
	pg_blob(&p, a->check, STORE_MASTER_CHECK_LEN);
	/* The table lock makes the first node's insert and the others' reads
	 * one order. */
	int rc = pg_cmd(c, "LOCK TABLE master_check IN EXCLUSIVE MODE");
	if (rc == STORE_OK)
		rc = pg_exec(c,
		             "INSERT INTO master_check (value) SELECT $1"
		             " WHERE NOT EXISTS (SELECT 1 FROM master_check)",
		             &p);
	if (rc == STORE_OK)
		rc = pg_run(c, "SELECT value FROM master_check", NULL, &r, NULL);
	if (rc == STORE_OK && PQntuples(r) != 1)
		rc = STORE_ERR_DB;
	if (rc == STORE_OK)
		rc = pg_col_blob(r, 0, 0, stored, sizeof(stored), &len);
	if (rc == STORE_OK && (len != STORE_MASTER_CHECK_LEN || memcmp(stored, a->check, len) != 0))
		rc = STORE_ERR_MASTER;
	PQclear(r);
	return rc;
}

int store_pg_master_check(struct store *st, const uint8_t check[STORE_MASTER_CHECK_LEN])
{
	struct master_arg a = { check };
	return pg_unit(st, master_unit, &a);
}
