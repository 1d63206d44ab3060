/*
 * The store's lifetime, schema, transactions and ids. See store.h.
 */
#include "store_priv.h"
#include "store_sync.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "ipc/wsop_names.h"

#define BUSY_TIMEOUT_MS 5000

/* Version 1 of the schema. Binary and free-text attributes are BLOBs so
 * that they come back byte for byte; NULL means "attribute not given". */
static const char schema_v1[] =
    "CREATE TABLE softcards ("
    " id TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 40),"
    " name TEXT NOT NULL,"
    " created INTEGER NOT NULL,"
    " salt BLOB NOT NULL,"
    " verifier BLOB NOT NULL);"
    "CREATE TABLE groups ("
    " id TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 36),"
    " name TEXT NOT NULL,"
    " softcard_id TEXT NOT NULL REFERENCES softcards(id) ON DELETE CASCADE,"
    " created INTEGER NOT NULL,"
    " UNIQUE (id, softcard_id));"
    "CREATE INDEX groups_softcard ON groups(softcard_id);"
    /* (group_id, softcard_id) references the group's own pair, so a key
     * can never claim a softcard other than its group's. */
    "CREATE TABLE keys ("
    " id TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 36),"
    " group_id TEXT NOT NULL,"
    " softcard_id TEXT NOT NULL REFERENCES softcards(id),"
    " size_bits INTEGER NOT NULL CHECK (size_bits IN (128, 192, 256)),"
    " wrapped BLOB NOT NULL,"
    " label BLOB NOT NULL,"
    " cka_id BLOB,"
    " encrypt INTEGER NOT NULL, decrypt INTEGER NOT NULL,"
    " sign INTEGER NOT NULL, verify INTEGER NOT NULL,"
    " wrap INTEGER NOT NULL, unwrap INTEGER NOT NULL, derive INTEGER NOT NULL,"
    " created INTEGER NOT NULL,"
    " FOREIGN KEY (group_id, softcard_id) REFERENCES groups(id, softcard_id));"
    "CREATE INDEX keys_group ON keys(group_id);"
    "CREATE INDEX keys_softcard ON keys(softcard_id);"
    "CREATE TABLE objects ("
    " id TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 36),"
    " softcard_id TEXT NOT NULL REFERENCES softcards(id),"
    " class INTEGER NOT NULL CHECK (class IN (1, 2)),"
    " label BLOB, cka_id BLOB, application BLOB, object_id BLOB, value BLOB,"
    " subject BLOB, issuer BLOB, serial_number BLOB, start_date BLOB,"
    " end_date BLOB, certificate_type BLOB,"
    " created INTEGER NOT NULL);"
    "CREATE INDEX objects_softcard ON objects(softcard_id);"
    "CREATE TABLE idempotency ("
    " client BLOB NOT NULL, key TEXT NOT NULL,"
    " method TEXT NOT NULL, path TEXT NOT NULL,"
    " status INTEGER NOT NULL, body BLOB, created INTEGER NOT NULL,"
    " PRIMARY KEY (client, key));"
    "CREATE INDEX idempotency_created ON idempotency(created);";

static const char paging_indexes[] =
    "CREATE INDEX IF NOT EXISTS groups_softcard_id ON groups(softcard_id, id);"
    "CREATE INDEX IF NOT EXISTS keys_group_id ON keys(group_id, id);"
    "CREATE INDEX IF NOT EXISTS objects_softcard_id ON objects(softcard_id, id);";

/* ---- clock ------------------------------------------------------------- */

void store_set_clock(struct store *st, int64_t (*fn)(void *arg), void *arg)
{
	if (st == NULL)
		return;
	store_lock(st);
	st->clock = fn;
	st->clock_arg = arg;
	store_unlock(st);
}

int64_t store_now(struct store *st)
{
	if (st != NULL && st->clock != NULL)
		return st->clock(st->clock_arg);
	return (int64_t)time(NULL);
}

/* ---- open / schema --------------------------------------------------------- */

static int exec_const(sqlite3 *db, const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		int rc = store_map_sqlite(sqlite3_extended_errcode(db));
		return rc == STORE_OK ? STORE_ERR_DB : rc;
	}
	return STORE_OK;
}

/* journal_mode answers with the mode in force, which is not WAL when the
 * file system cannot do it: refuse rather than run with weaker
 * guarantees than documented. */
static int set_wal(struct store *st)
{
	sqlite3_stmt *stmt = NULL;
	int rc = store_prepare(st, "PRAGMA journal_mode=WAL", &stmt);
	if (rc != STORE_OK)
		return rc;
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		rc = store_errcode(st);
	} else {
		const unsigned char *mode = sqlite3_column_text(stmt, 0);
		if (mode == NULL || strcmp((const char *)mode, "wal") != 0)
			rc = STORE_ERR_DB;
	}
	sqlite3_finalize(stmt);
	return rc;
}

static int read_version(struct store *st, int64_t *version)
{
	sqlite3_stmt *stmt = NULL;
	int rc = store_prepare(st, "SELECT version FROM schema_version", &stmt);
	if (rc != STORE_OK)
		return rc;
	*version = 0;
	int s = sqlite3_step(stmt);
	if (s == SQLITE_ROW) {
		*version = sqlite3_column_int64(stmt, 0);
		s = sqlite3_step(stmt);
		if (s == SQLITE_ROW)
			rc = STORE_ERR_DB; /* more than one version row */
	}
	if (rc == STORE_OK && s != SQLITE_DONE)
		rc = store_errcode(st);
	sqlite3_finalize(stmt);
	return rc;
}

static int write_version(struct store *st, int64_t version)
{
	int rc = exec_const(st->db, "DELETE FROM schema_version");
	if (rc == STORE_OK)
		rc =
		    store_exec_int(st, "INSERT INTO schema_version (version) VALUES (?1)", version);
	return rc;
}

/* A store that a later program downgraded by hand may hold a step's
 * column already; SQLite has no ADD COLUMN IF NOT EXISTS. */
static bool has_column(struct store *st, const char *table, const char *column)
{
	char sql[128];
	sqlite3_stmt *stmt = NULL;
	snprintf(sql, sizeof(sql), "SELECT %s FROM %s LIMIT 0", column, table);
	bool ok = sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) == SQLITE_OK;
	sqlite3_finalize(stmt);
	return ok;
}

/* Creates or upgrades the schema in one transaction, so two processes
 * starting at once, or a crash half-way, never leave half a schema. */
static int migrate(struct store *st)
{
	int rc = exec_const(st->db, "BEGIN IMMEDIATE");
	if (rc != STORE_OK)
		return rc;
	int64_t version = 0;
	rc = exec_const(st->db,
	                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
	if (rc == STORE_OK)
		rc = read_version(st, &version);
	if (rc == STORE_OK && (version < 0 || version > STORE_SCHEMA_VERSION))
		rc = STORE_ERR_VERSION;
	if (rc == STORE_OK && version < 1) {
		rc = exec_const(st->db, schema_v1);
		if (rc == STORE_OK)
			rc = write_version(st, 1);
	}
	/* Version 2: activations ended before their expiry (deactivate). */
	if (rc == STORE_OK && version < 2) {
		rc = exec_const(st->db,
		                "CREATE TABLE IF NOT EXISTS revoked ("
		                " id BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),"
		                " expires INTEGER NOT NULL);"
		                "CREATE INDEX IF NOT EXISTS revoked_expires ON revoked(expires);");
		if (rc == STORE_OK)
			rc = write_version(st, 2);
	}
	/* Version 3: each softcard's run of wrong passphrases since its last
	 * right one, and when the last wrong one came (the login lockout). */
	if (rc == STORE_OK && version < 3 && !has_column(st, "softcards", "login_failures")) {
		rc = exec_const(st->db,
		                "ALTER TABLE softcards ADD COLUMN login_failures INTEGER NOT NULL"
		                " DEFAULT 0 CHECK (login_failures >= 0);"
		                "ALTER TABLE softcards ADD COLUMN last_failure INTEGER NOT NULL"
		                " DEFAULT 0;");
	}
	if (rc == STORE_OK && version < 3)
		rc = write_version(st, 3);
	/* The paged listings walk groups, keys and objects in id order: indexes
	 * every store gets (they change no table, so they need no version). */
	if (rc == STORE_OK)
		rc = exec_const(st->db, paging_indexes);
	/* Later versions add their step here: if (version < 4) ... */
	if (rc == STORE_OK)
		rc = exec_const(st->db, "COMMIT");
	if (rc != STORE_OK)
		(void)exec_const(st->db, "ROLLBACK");
	return rc;
}

/* SQLite creates the file with the process umask (often 0644); the
 * database holds wrapped keys and verifiers, so create it 0600 first. The
 * -wal and -shm files inherit the database file's mode. */
static int precreate(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return STORE_ERR_DB;
	close(fd);
	return STORE_OK;
}

static int configure(struct store *st)
{
	int rc = store_map_sqlite(sqlite3_extended_result_codes(st->db, 1));
	if (rc == STORE_OK)
		rc = store_map_sqlite(sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS));
	if (rc == STORE_OK)
		rc = set_wal(st);
	if (rc == STORE_OK)
		rc = exec_const(st->db, "PRAGMA synchronous=NORMAL"); /* store_sync.h */
	if (rc == STORE_OK)
		rc = exec_const(st->db, "PRAGMA foreign_keys=ON");
	if (rc == STORE_OK)
		rc = migrate(st);
	return rc;
}

static int init_mutex(pthread_mutex_t *m)
{
	pthread_mutexattr_t attr;
	if (pthread_mutexattr_init(&attr) != 0)
		return STORE_ERR_NOMEM;
	int rc = pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE) == 0 &&
	                 pthread_mutex_init(m, &attr) == 0
	             ? STORE_OK
	             : STORE_ERR_NOMEM;
	pthread_mutexattr_destroy(&attr);
	return rc;
}

int store_open(const char *dir, struct store **out)
{
	char path[PATH_MAX];
	if (out == NULL)
		return STORE_ERR_ARG;
	*out = NULL;
	if (dir == NULL)
		return STORE_ERR_ARG;
	if (store_pg_is_conninfo(dir))
		return store_pg_open(dir, out);
	int n = snprintf(path, sizeof(path), "%s/%s", dir, STORE_DB_FILE);
	if (n < 0 || (size_t)n >= sizeof(path))
		return STORE_ERR_ARG;
	int rc = precreate(path);
	if (rc != STORE_OK)
		return rc;

	struct store *st = calloc(1, sizeof(*st));
	if (st == NULL)
		return STORE_ERR_NOMEM;
	rc = init_mutex(&st->mutex);
	if (rc != STORE_OK) {
		free(st);
		return rc;
	}
	int src = sqlite3_open_v2(
	    path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
	    NULL);
	rc = store_map_sqlite(src);
	if (rc == STORE_OK && st->db == NULL)
		rc = STORE_ERR_NOMEM;
	st->wal_fd = -1;
	if (rc == STORE_OK)
		rc = configure(st);
	if (rc == STORE_OK)
		rc = store_sync_open(st, path);
	if (rc != STORE_OK) {
		store_close(st);
		return rc;
	}
	*out = st;
	return STORE_OK;
}

void store_close(struct store *st)
{
	if (st == NULL)
		return;
	if (st->pg != NULL) {
		store_pg_close(st);
		return;
	}
	/* sqlite3_close_v2 defers the close until every statement is
	 * finalized; ours are all finalized before their function returns. */
	store_sync_close(st);
	sqlite3_close_v2(st->db);
	pthread_mutex_destroy(&st->mutex);
	free(st);
}

/* ---- transactions ------------------------------------------------------------ */

int store_begin(struct store *st)
{
	if (st == NULL)
		return STORE_ERR_ARG;
	if (st->pg != NULL)
		return store_pg_begin(st);
	store_lock(st);
	/* Only the owning thread can get past the lock while in_txn is set. */
	if (st->in_txn) {
		store_unlock(st);
		return STORE_ERR_TXN;
	}
	int rc = store_sync_health(st);
	if (rc == STORE_OK)
		rc = exec_const(st->db, "BEGIN IMMEDIATE");
	if (rc != STORE_OK) {
		store_unlock(st);
		return rc;
	}
	st->in_txn = true;
	return STORE_OK; /* the mutex stays held until commit/rollback */
}

int store_commit(struct store *st)
{
	if (st == NULL)
		return STORE_ERR_ARG;
	if (st->pg != NULL)
		return store_pg_commit(st);
	store_lock(st);
	if (!st->in_txn) {
		store_unlock(st);
		return STORE_ERR_TXN;
	}
	int rc = exec_const(st->db, "COMMIT");
	if (rc != STORE_OK && sqlite3_get_autocommit(st->db) == 0)
		(void)exec_const(st->db, "ROLLBACK");
	st->in_txn = false;
	store_unlock(st); /* this call's lock */
	/* store_begin's lock; the last one waits for the disk (store_sync.h). */
	int synced = store_unlock_synced(st);
	return rc == STORE_OK ? synced : rc;
}

void store_rollback(struct store *st)
{
	if (st == NULL)
		return;
	if (st->pg != NULL) {
		store_pg_rollback(st);
		return;
	}
	store_lock(st);
	if (!st->in_txn) {
		store_unlock(st);
		return;
	}
	if (sqlite3_get_autocommit(st->db) == 0)
		(void)exec_const(st->db, "ROLLBACK");
	st->in_txn = false;
	store_unlock(st);
	store_unlock(st);
}

bool store_is_shared(const char *location)
{
	return store_pg_is_conninfo(location);
}

void store_describe(const char *location, char *out, size_t cap)
{
	if (store_pg_is_conninfo(location))
		store_pg_describe(location, out, cap);
	else
		snprintf(out, cap, "folder %s", location != NULL ? location : "(none)");
}

int store_master_check(struct store *st, const uint8_t check[STORE_MASTER_CHECK_LEN])
{
	if (st == NULL || check == NULL)
		return STORE_ERR_ARG;
	/* A folder's master key lives beside its database: nothing to match. */
	return st->pg != NULL ? store_pg_master_check(st, check) : STORE_OK;
}

/* ---- ids ----------------------------------------------------------------------- */

static void to_hex(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
}

int store_new_softcard_id(char out[STORE_SOFTCARD_ID_LEN + 1])
{
	uint8_t raw[STORE_SOFTCARD_ID_LEN / 2];
	if (out == NULL)
		return STORE_ERR_ARG;
	if (RAND_bytes(raw, (int)sizeof(raw)) != 1)
		return STORE_ERR_DB;
	to_hex(raw, sizeof(raw), out);
	out[STORE_SOFTCARD_ID_LEN] = '\0';
	return STORE_OK;
}

int store_new_uuid(char out[STORE_UUID_LEN + 1])
{
	uint8_t raw[16];
	char hex[32];
	if (out == NULL)
		return STORE_ERR_ARG;
	if (RAND_bytes(raw, (int)sizeof(raw)) != 1)
		return STORE_ERR_DB;
	raw[6] = (uint8_t)((raw[6] & 0x0f) | 0x40); /* version 4 */
	raw[8] = (uint8_t)((raw[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	to_hex(raw, sizeof(raw), hex);
	size_t o = 0;
	for (size_t i = 0; i < sizeof(hex); i++) {
		if (i == 8 || i == 12 || i == 16 || i == 20)
			out[o++] = '-';
		out[o++] = hex[i];
	}
	out[o] = '\0';
	return STORE_OK;
}

_Static_assert(STORE_SOFTCARD_ID_LEN == WSOP_SOFTCARD_ID_LEN, "one softcard id length");
_Static_assert(STORE_UUID_LEN == WSOP_UUID_LEN, "one uuid length");

/* The API's id rules are the store's: one owner, ipc/wsop_names.c. */
bool store_is_softcard_id(const char *s)
{
	return s != NULL && wsop_softcard_id_valid(s);
}

bool store_is_uuid(const char *s)
{
	return s != NULL && wsop_uuid_valid(s);
}

const char *store_result_name(int result)
{
	switch (result) {
	case STORE_OK:
		return "ok";
	case STORE_NOT_FOUND:
		return "not found";
	case STORE_NOT_EMPTY:
		return "not empty";
	case STORE_EXISTS:
		return "already exists";
	case STORE_IDEM_CONFLICT:
		return "idempotency key used for another request";
	case STORE_NAME_TAKEN:
		return "name already used";
	case STORE_ERR_ARG:
		return "bad argument";
	case STORE_ERR_NOMEM:
		return "out of memory";
	case STORE_ERR_DB:
		return "database error";
	case STORE_ERR_BUSY:
		return "database busy";
	case STORE_ERR_VERSION:
		return "database schema is newer than this program";
	case STORE_ERR_TXN:
		return "transaction misuse";
	case STORE_ERR_MASTER:
		return "the master key differs from the one the shared store was made with";
	default:
		return "unknown result";
	}
}
