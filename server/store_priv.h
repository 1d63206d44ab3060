/*
 * Internal to the store (store.c, store_items.c, idem.c): the store struct,
 * locking and the small SQLite helpers every table's code shares.
 *
 * Every helper returns a store_result. Callers hold the store lock (via
 * store_lock) around every use of st->db.
 */
#ifndef PKCS11WSOP_SERVER_STORE_PRIV_H
#define PKCS11WSOP_SERVER_STORE_PRIV_H

#include "store.h"
#include "store_pg.h"

#include <pthread.h>
#include <sqlite3.h>

struct store {
	sqlite3 *db;
	/* Recursive so that a thread inside store_begin..commit can call the
	 * other functions, which lock again. */
	pthread_mutex_t mutex;
	bool in_txn; /* only read or written with the mutex held */
	int64_t (*clock)(void *arg);
	void *clock_arg;
	/* Group commit (store_sync.h). With the mutex held: how deep the
	 * holder has locked, and the number of its last commit not yet waited
	 * for. commits is written by the WAL hook under the mutex and read
	 * atomically by sync leaders. */
	unsigned lock_depth;
	uint64_t unsynced;
	uint64_t commits;
	/* Under sync_lock. */
	pthread_mutex_t sync_lock;
	pthread_cond_t synced;
	uint64_t durable; /* every commit numbered up to this is on disk */
	bool syncing, broken;
	bool sync_ready; /* sync_lock, synced and wal_fd set up */
	int wal_fd;
	/* Set: a PostgreSQL store (db is NULL), which every function hands
	 * on to its store_pg_ twin once the arguments are checked. */
	struct store_pg *pg;
};

/* store_unlock: the last unlock of a thread that committed waits, outside
 * the mutex, until its commits are on disk (store_sync.h);
 * store_unlock_synced tells whether they are (STORE_OK) or the store is
 * broken. */
void store_lock(struct store *st);
void store_unlock(struct store *st);
int store_unlock_synced(struct store *st);

/* SQLite result code -> store_result (SQLITE_OK/ROW/DONE -> STORE_OK). */
int store_map_sqlite(int rc);

/* The connection's last error as a store_result, never STORE_OK (for a
 * step that returned neither SQLITE_ROW nor SQLITE_DONE). */
int store_errcode(struct store *st);

int store_prepare(struct store *st, const char *sql, sqlite3_stmt **out);
/* store_prepare, then binds the text arguments up to the NULL that ends
 * them to ?1, ?2, ... in order. */
__attribute__((sentinel)) int store_prepare_texts(struct store *st, sqlite3_stmt **out,
                                                  const char *sql, ...);
/* Steps a statement that returns at most one row: STORE_OK with the row
 * current, STORE_NOT_FOUND when there is none. */
int store_step_row(struct store *st, sqlite3_stmt *stmt);
/* Runs a DELETE whose ?1, ?2, ... are the text arguments up to the NULL;
 * STORE_NOT_FOUND when it removed no row. */
__attribute__((sentinel)) int store_delete_texts(struct store *st, const char *sql, ...);
/* Steps a statement that returns no row; STORE_OK on SQLITE_DONE. */
int store_step_done(sqlite3_stmt *stmt);

/* A nestable unit of work: SAVEPOINT/RELEASE/ROLLBACK TO. Works both inside
 * store_begin..commit and on its own; on its own, store_release commits,
 * and returns only once that commit is on disk. */
int store_savepoint(struct store *st);
int store_release(struct store *st);
void store_rollback_to(struct store *st);
/* Takes the store's lock and runs fn in one savepoint: released when fn
 * returns STORE_OK, rolled back otherwise; fn's result (or the
 * savepoint's failure) is returned. */
int store_unit(struct store *st, int (*fn)(struct store *st, void *arg), void *arg);
/* The arguments of store_idem_record, for its units on either back end. */
struct store_idem_rec {
	const uint8_t *client_fp;
	const char *key, *method, *path;
	int status;
	const uint8_t *body;
	size_t body_len;
};
/* The arguments of store_revoked_add, likewise. */
struct store_revoke_rec {
	const uint8_t *id;
	int64_t expires;
};

/* Runs a statement that returns no row and whose only parameter ?1 is v. */
int store_exec_int(struct store *st, const char *sql, int64_t v);

/* Binders. Blobs and text are bound as BLOB so that bytes come back
 * exactly as given; an empty value is bound as an empty blob (not NULL). */
int store_bind_text(sqlite3_stmt *stmt, int idx, const char *s);
int store_bind_blob(sqlite3_stmt *stmt, int idx, const void *data, size_t len);
int store_bind_int(sqlite3_stmt *stmt, int idx, int64_t v);
/* present=false binds NULL. */
int store_bind_opt(sqlite3_stmt *stmt, int idx, bool present, const void *data, size_t len);

/* Copies column col (text or blob) into dst with a NUL after it;
 * STORE_ERR_DB when it does not fit in cap-1 bytes. *len may be NULL. */
int store_col_text(sqlite3_stmt *stmt, int col, char *dst, size_t cap, size_t *len);
/* Copies column col exactly into dst[0..cap); STORE_ERR_DB when larger. */
int store_col_blob(sqlite3_stmt *stmt, int col, uint8_t *dst, size_t cap, size_t *len);

/* The objects table's columns, the attributes in the order of
 * store_object_attrs with value_sql in the value's place (the column, or
 * NULL for a page without values). */
#define STORE_OBJECT_COLUMNS(value_sql)                                                            \
	"id, softcard_id, class, created, certificate_type, label, cka_id, application,"           \
	" object_id, " value_sql ", subject, issuer, serial_number, start_date, end_date"

/* Grows a list array by one element (doubling). */
int store_list_grow(void **items, size_t elem_size, size_t count, size_t *cap);

/* Grows the list when needed and points *row at element count, zeroed. */
int store_list_slot(void **items, size_t elem_size, size_t count, size_t *cap, void **row);

/* A page being read, by either backend (store_read_page's rules).
 * store_page_start sets it up and *more false; store_page_next gives the
 * element for one more row (zeroed) in *row, or *row NULL and *more true
 * when the page is full; store_page_keep counts the row once read. */
struct store_page {
	void **items;
	size_t *count;
	size_t elem_size, limit, max_bytes, cap, bytes;
	size_t (*row_bytes)(const void *row);
	bool *more;
};
void store_page_start(struct store_page *pg, size_t elem_size, size_t limit,
                      size_t (*row_bytes)(const void *row), size_t max_bytes, void **items,
                      size_t *count, bool *more);
int store_page_next(struct store_page *pg, void **row);
void store_page_keep(struct store_page *pg, const void *row);

/* Fills a from n bytes at p (malloc'd, with a NUL after them);
 * STORE_ERR_DB when n is over max. */
int store_attr_set(struct store_attr *a, const void *p, size_t n, size_t max);
/* Copies an idempotent answer's body of n bytes (STORE_ERR_DB over
 * STORE_IDEM_BODY_MAX). */
int store_idem_body_set(struct store_idem_answer *out, const void *p, size_t n);

/* Reads one row of a statement into a zeroed struct. */
typedef int (*store_row_reader)(sqlite3_stmt *stmt, void *row);
/* Steps stmt to its end, appending each row to *items (NULL, *count 0 on
 * entry; elem_size bytes
 * each, grown by store_list_grow) through read. On failure *items and
 * *count hold the rows read so far, for the caller to free. */
int store_read_rows(struct store *st, sqlite3_stmt *stmt, size_t elem_size, store_row_reader read,
                    void **items, size_t *count);

/* store_read_rows for a page: reads at most limit rows (the statement
 * asks for one more, so that *more can tell whether rows follow). When
 * row_bytes is not NULL, the page also ends once the sum of row_bytes of
 * the rows read passes max_bytes (*more is then true). */
/* Binds the page parameters of a keyset query: ?2 the id to start after
 * (NULL or "": from the first) and ?3 limit + 1 (the one row more tells
 * whether the page is the last). */
int store_bind_page(sqlite3_stmt *stmt, const char *after, size_t limit);
/* limit 1..INT32_MAX - 1, after NULL, "" or a uuid. */
bool store_page_args_ok(const char *after, size_t limit);

int store_read_page(struct store *st, sqlite3_stmt *stmt, size_t elem_size, store_row_reader read,
                    size_t limit, size_t (*row_bytes)(const void *row), size_t max_bytes,
                    void **items, size_t *count, bool *more);

/* Under the store's lock: the one row of sql, whose ?1 and ?2 are a and b
 * (b NULL for a query of one argument), read into row;
 * STORE_NOT_FOUND when there is none. */
int store_get_row(struct store *st, const char *sql, const char *a, const char *b,
                  store_row_reader read, void *row);

/* A keyset page query: ?1 key (NULL for a query without it), ?2 and ?3 as
 * store_bind_page binds them, rows read as store_read_page reads them. */
struct store_page_query {
	const char *sql;
	const char *key;
	size_t elem_size;
	store_row_reader read;
	size_t (*row_bytes)(const void *row); /* NULL: no byte bound */
	size_t max_bytes;
	void (*free_list)(void *items, size_t count); /* NULL: free() */
};
/* Runs q under the store's lock. STORE_OK with *items (malloc'd), *count
 * and *more; on failure the rows read are released, *items is NULL,
 * *count 0 and *more false. */
int store_run_page(struct store *st, const struct store_page_query *q, const char *after,
                   size_t limit, void **items, size_t *count, bool *more);
/* The end of a page read that returned rc with n rows in items: STORE_OK
 * hands them to *out and *count; a failure releases them (free_list, NULL:
 * free()) and sets *more false. Returns rc. */
int store_page_finish(int rc, void *items, size_t n, void (*free_list)(void *items, size_t count),
                      void **out, size_t *count, bool *more);

#endif
