/*
 * Internal to the PostgreSQL back end (store_pg*.c): the pool, statement
 * parameters, running statements and units of work, reading columns.
 *
 * Statements use $1, $2, ... with typed binary parameters and ask for
 * binary results, so bytes come back exactly as stored and integers as
 * 8 big-endian bytes (every integer column is bigint).
 */
#ifndef PKCS11WSOP_SERVER_STORE_PG_PRIV_H
#define PKCS11WSOP_SERVER_STORE_PG_PRIV_H

#include "store_pg.h"
#include "store_priv.h"

#include <libpq-fe.h>

#define PG_PARAMS_MAX 16

struct pg_conn {
	PGconn *c;
	bool busy;
};

struct store_pg {
	char *conninfo;
	pthread_mutex_t lock; /* guards busy flags */
	pthread_cond_t freed;
	struct pg_conn conns[STORE_PG_POOL];
};

/* Typed parameters of one statement, in $-order. Values are copied or
 * pointed to (text, blobs) and must outlive the statement. */
struct pg_params {
	int n;
	bool overflow;
	const char *val[PG_PARAMS_MAX];
	int len[PG_PARAMS_MAX];
	int fmt[PG_PARAMS_MAX];
	unsigned int type[PG_PARAMS_MAX];
	uint8_t ints[PG_PARAMS_MAX][8];
};

void pg_text(struct pg_params *p, const char *s);
void pg_blob(struct pg_params *p, const void *data, size_t len);
/* present=false binds NULL. */
void pg_opt(struct pg_params *p, bool present, const void *data, size_t len);
void pg_int(struct pg_params *p, int64_t v);

/* The connection for a call: the thread's transaction's, or one borrowed
 * from the pool (connected or reset when needed); NULL when none can be
 * had (then STORE_ERR_DB). pg_put gives a borrowed one back (a no-op for
 * the transaction's). */
struct pg_conn *pg_get(struct store *st);
void pg_put(struct store *st, struct pg_conn *c);
/* True when the calling thread is inside store_begin..commit. */
bool pg_in_txn(struct store *st);

/* Runs sql with p (may be NULL) on c. STORE_OK with *res (PQclear it)
 * holding the rows, or the mapped failure (*res NULL). *affected, when
 * not NULL, gets the rows a mutation touched. */
int pg_run(struct pg_conn *c, const char *sql, const struct pg_params *p, PGresult **res,
           long *affected);
/* A failed result's SQLSTATE as a store_result. */
int pg_map_error(const PGresult *res);
/* COMMIT; STORE_ERR_DB when the transaction had failed (PostgreSQL then
 * answers ROLLBACK, not an error). */
int pg_commit(struct pg_conn *c);
/* Runs sql with p (may be NULL), its rows (if any) unread. */
int pg_exec(struct pg_conn *c, const char *sql, const struct pg_params *p);
/* pg_exec without parameters: BEGIN, COMMIT, SAVEPOINT and the like. */
int pg_cmd(struct pg_conn *c, const char *sql);

/* A unit of work: fn's statements on c, all or nothing. Inside the
 * thread's transaction under a savepoint; outside, as a transaction of
 * its own, run again on a serialization failure or deadlock. fn returns a
 * store_result; any result but STORE_OK undoes what fn did. */
typedef int (*pg_unit_fn)(struct store *st, struct pg_conn *c, void *arg);
int pg_unit(struct store *st, pg_unit_fn fn, void *arg);

/* One statement as a unit (pg_unit); *affected (may be NULL) gets the
 * rows it touched. */
int pg_mutate(struct store *st, const char *sql, const struct pg_params *p, long *affected);

/* A query on a borrowed (or the transaction's) connection: STORE_OK with
 * *res, STORE_NOT_FOUND when want_row and no row came back. */
int pg_query(struct store *st, const char *sql, const struct pg_params *p, bool want_row,
             PGresult **res);

/* Columns of a binary result. text: copied with a NUL, STORE_ERR_DB when
 * it does not fit in cap-1 bytes; blob: exactly into dst[0..cap); int:
 * an 8-byte bigint; attr: NULL -> not present, else malloc'd with a NUL
 * after it, at most max bytes. */
int pg_col_text(const PGresult *r, int row, int col, char *dst, size_t cap, size_t *len);
int pg_col_blob(const PGresult *r, int row, int col, uint8_t *dst, size_t cap, size_t *len);
int pg_col_int(const PGresult *r, int row, int col, int64_t *v);
int pg_col_attr(const PGresult *r, int row, int col, size_t max, struct store_attr *a);
bool pg_col_null(const PGresult *r, int row, int col);

/* Reads a result's rows into a malloc'd array (store_read_page's rules:
 * at most limit rows, and *more when another follows or the byte budget
 * of row_bytes ran out). */
typedef int (*pg_row_reader)(const PGresult *r, int row, void *out);
int pg_read_page(const PGresult *r, size_t elem_size, pg_row_reader read, size_t limit,
                 size_t (*row_bytes)(const void *row), size_t max_bytes, void **items,
                 size_t *count, bool *more);

/* A page (or a whole list, limit SIZE_MAX) read by a query: the rows
 * go to a malloc'd array in *out (NULL when none), freed again on failure
 * with free_list (NULL: free). */
struct pg_page_spec {
	size_t elem_size;
	pg_row_reader read;
	size_t limit;
	size_t (*row_bytes)(const void *row);
	size_t max_bytes;
	void (*free_list)(void *items, size_t count);
};
int pg_page(struct store *st, const char *sql, const struct pg_params *p,
            const struct pg_page_spec *spec, void **out, size_t *count, bool *more);

/* The one row of sql, whose $1 and $2 are a and b (b NULL for a query of
 * one parameter), read into out; STORE_NOT_FOUND when none came back. */
int pg_get_row(struct store *st, const char *sql, const char *a, const char *b, pg_row_reader read,
               void *out);

#endif
