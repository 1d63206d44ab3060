/*
 * SQLite helpers shared by the store's files (see store_priv.h).
 */
#include "store_priv.h"
#include "ipc/grow.h"
#include "store_sync.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void store_lock(struct store *st)
{
	/* A recursive mutex only fails here on misuse (EAGAIN past the
	 * recursion limit, or a destroyed mutex): nothing useful to do. */
	(void)pthread_mutex_lock(&st->mutex);
	st->lock_depth++;
}

int store_unlock_synced(struct store *st)
{
	uint64_t wait_for = 0;

	if (--st->lock_depth == 0) {
		wait_for = st->unsynced;
		st->unsynced = 0;
	}
	(void)pthread_mutex_unlock(&st->mutex);
	/* No answer leaves before the commits it reports are on disk. */
	return store_sync_wait(st, wait_for);
}

void store_unlock(struct store *st)
{
	/* A failure here is the store turning broken, which store_sync logs
	 * and every later store_begin and commit reports. */
	(void)store_unlock_synced(st);
}

int store_map_sqlite(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return STORE_OK;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return STORE_ERR_BUSY;
	case SQLITE_NOMEM:
		return STORE_ERR_NOMEM;
	case SQLITE_TOOBIG:
	case SQLITE_RANGE:
		return STORE_ERR_ARG;
	case SQLITE_CONSTRAINT:
		switch (rc) {
		case SQLITE_CONSTRAINT_PRIMARYKEY:
		case SQLITE_CONSTRAINT_UNIQUE:
			return STORE_EXISTS;
		case SQLITE_CONSTRAINT_FOREIGNKEY:
			return STORE_NOT_FOUND;
		default:
			return STORE_ERR_ARG; /* CHECK, NOT NULL */
		}
	default:
		return STORE_ERR_DB;
	}
}

int store_errcode(struct store *st)
{
	int rc = store_map_sqlite(sqlite3_extended_errcode(st->db));
	return rc == STORE_OK ? STORE_ERR_DB : rc;
}

int store_prepare(struct store *st, const char *sql, sqlite3_stmt **out)
{
	*out = NULL;
	int rc = sqlite3_prepare_v2(st->db, sql, -1, out, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(*out);
		*out = NULL;
		return rc == SQLITE_OK ? STORE_ERR_DB : store_map_sqlite(rc);
	}
	return STORE_OK;
}

static int prepare_textv(struct store *st, sqlite3_stmt **out, const char *sql, va_list ap)
{
	int rc = store_prepare(st, sql, out);
	const char *s;
	for (int idx = 1; rc == STORE_OK && (s = va_arg(ap, const char *)) != NULL; idx++)
		rc = store_bind_text(*out, idx, s);
	return rc;
}

int store_prepare_texts(struct store *st, sqlite3_stmt **out, const char *sql, ...)
{
	va_list ap;
	va_start(ap, sql);
	int rc = prepare_textv(st, out, sql, ap);
	va_end(ap);
	return rc;
}

int store_step_row(struct store *st, sqlite3_stmt *stmt)
{
	int s = sqlite3_step(stmt);
	if (s == SQLITE_ROW)
		return STORE_OK;
	return s == SQLITE_DONE ? STORE_NOT_FOUND : store_errcode(st);
}

int store_delete_texts(struct store *st, const char *sql, ...)
{
	sqlite3_stmt *stmt = NULL;
	va_list ap;
	va_start(ap, sql);
	int rc = prepare_textv(st, &stmt, sql, ap);
	va_end(ap);
	if (rc == STORE_OK)
		rc = store_step_done(stmt);
	if (rc == STORE_OK && sqlite3_changes(st->db) == 0)
		rc = STORE_NOT_FOUND;
	sqlite3_finalize(stmt);
	return rc;
}

int store_step_done(sqlite3_stmt *stmt)
{
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE)
		return STORE_OK;
	if (rc == SQLITE_ROW)
		return STORE_ERR_DB;
	rc = store_map_sqlite(sqlite3_extended_errcode(sqlite3_db_handle(stmt)));
	return rc == STORE_OK ? STORE_ERR_DB : rc;
}

static int exec_const(struct store *st, const char *sql)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_errcode(st);
	return STORE_OK;
}

int store_savepoint(struct store *st)
{
	return exec_const(st, "SAVEPOINT store_unit");
}

int store_unit(struct store *st, int (*fn)(struct store *st, void *arg), void *arg)
{
	store_lock(st);
	int rc = store_savepoint(st);
	if (rc != STORE_OK) {
		store_unlock(st);
		return rc;
	}
	rc = fn(st, arg);
	if (rc == STORE_OK)
		rc = store_release(st);
	if (rc != STORE_OK)
		store_rollback_to(st);
	store_unlock(st);
	return rc;
}

int store_exec_int(struct store *st, const char *sql, int64_t v)
{
	sqlite3_stmt *stmt = NULL;
	int rc = store_prepare(st, sql, &stmt);
	if (rc == STORE_OK)
		rc = store_bind_int(stmt, 1, v);
	if (rc == STORE_OK)
		rc = store_step_done(stmt);
	sqlite3_finalize(stmt);
	return rc;
}

int store_release(struct store *st)
{
	int rc = exec_const(st, "RELEASE store_unit");
	if (rc != STORE_OK || sqlite3_get_autocommit(st->db) == 0)
		return rc;
	/* That was the outermost unit: it committed. Wait here, under the
	 * mutex (a rare path: the units that run on their own), so that the
	 * caller learns whether it is on disk. */
	uint64_t seq = st->unsynced;
	st->unsynced = 0;
	return store_sync_wait(st, seq);
}

void store_rollback_to(struct store *st)
{
	/* Best effort: if this fails the connection is in trouble anyway and
	 * the next statement reports it. */
	(void)exec_const(st, "ROLLBACK TO store_unit");
	(void)exec_const(st, "RELEASE store_unit");
}

int store_bind_text(sqlite3_stmt *stmt, int idx, const char *s)
{
	return store_map_sqlite(sqlite3_bind_text(stmt, idx, s, -1, SQLITE_TRANSIENT));
}

int store_bind_blob(sqlite3_stmt *stmt, int idx, const void *data, size_t len)
{
	/* sqlite3_bind_blob with a NULL pointer binds SQL NULL, which would
	 * turn "present but empty" into "absent". */
	static const uint8_t empty[1] = { 0 };
	if (len == 0)
		data = empty;
	if (data == NULL)
		return STORE_ERR_ARG;
	return store_map_sqlite(sqlite3_bind_blob64(stmt, idx, data, len, SQLITE_TRANSIENT));
}

int store_bind_int(sqlite3_stmt *stmt, int idx, int64_t v)
{
	return store_map_sqlite(sqlite3_bind_int64(stmt, idx, v));
}

int store_bind_opt(sqlite3_stmt *stmt, int idx, bool present, const void *data, size_t len)
{
	if (!present)
		return store_map_sqlite(sqlite3_bind_null(stmt, idx));
	return store_bind_blob(stmt, idx, data, len);
}

int store_col_text(sqlite3_stmt *stmt, int col, char *dst, size_t cap, size_t *len)
{
	const void *p = sqlite3_column_blob(stmt, col);
	int n = sqlite3_column_bytes(stmt, col);
	if (n < 0 || cap == 0 || (size_t)n > cap - 1)
		return STORE_ERR_DB;
	if (n > 0)
		memcpy(dst, p, (size_t)n);
	dst[n] = '\0';
	if (len != NULL)
		*len = (size_t)n;
	return STORE_OK;
}

int store_col_blob(sqlite3_stmt *stmt, int col, uint8_t *dst, size_t cap, size_t *len)
{
	const void *p = sqlite3_column_blob(stmt, col);
	int n = sqlite3_column_bytes(stmt, col);
	if (n < 0 || (size_t)n > cap)
		return STORE_ERR_DB;
	if (n > 0)
		memcpy(dst, p, (size_t)n);
	*len = (size_t)n;
	return STORE_OK;
}

int store_list_grow(void **items, size_t elem_size, size_t count, size_t *cap)
{
	return grow_to(items, cap, count + 1, elem_size, SIZE_MAX / elem_size) == 0
	           ? STORE_OK
	           : STORE_ERR_NOMEM;
}

int store_list_slot(void **items, size_t elem_size, size_t count, size_t *cap, void **row)
{
	int rc = store_list_grow(items, elem_size, count, cap);
	if (rc != STORE_OK)
		return rc;
	*row = (unsigned char *)*items + count * elem_size;
	memset(*row, 0, elem_size);
	return STORE_OK;
}

void store_page_start(struct store_page *pg, size_t elem_size, size_t limit,
                      size_t (*row_bytes)(const void *row), size_t max_bytes, void **items,
                      size_t *count, bool *more)
{
	*pg = (struct store_page){ .items = items,
		                   .count = count,
		                   .elem_size = elem_size,
		                   .limit = limit,
		                   .max_bytes = max_bytes,
		                   .row_bytes = row_bytes,
		                   .more = more };
	*more = false;
}

int store_page_next(struct store_page *pg, void **row)
{
	*row = NULL;
	if (*pg->count >= pg->limit || (pg->row_bytes != NULL && pg->bytes > pg->max_bytes)) {
		*pg->more = true;
		return STORE_OK;
	}
	return store_list_slot(pg->items, pg->elem_size, *pg->count, &pg->cap, row);
}

void store_page_keep(struct store_page *pg, const void *row)
{
	++*pg->count;
	if (pg->row_bytes != NULL)
		pg->bytes += pg->row_bytes(row);
}

int store_read_rows(struct store *st, sqlite3_stmt *stmt, size_t elem_size, store_row_reader read,
                    void **items, size_t *count)
{
	bool more;
	return store_read_page(st, stmt, elem_size, read, SIZE_MAX, NULL, 0, items, count, &more);
}

int store_read_page(struct store *st, sqlite3_stmt *stmt, size_t elem_size, store_row_reader read,
                    size_t limit, size_t (*row_bytes)(const void *row), size_t max_bytes,
                    void **items, size_t *count, bool *more)
{
	struct store_page pg;
	store_page_start(&pg, elem_size, limit, row_bytes, max_bytes, items, count, more);
	for (;;) {
		int s = sqlite3_step(stmt);
		if (s == SQLITE_DONE)
			return STORE_OK;
		if (s != SQLITE_ROW)
			return store_errcode(st);
		void *row;
		int rc = store_page_next(&pg, &row);
		if (rc != STORE_OK || row == NULL)
			return rc;
		rc = read(stmt, row);
		if (rc != STORE_OK)
			return rc;
		store_page_keep(&pg, row);
	}
}

int store_get_row(struct store *st, const char *sql, const char *a, const char *b,
                  store_row_reader read, void *row)
{
	sqlite3_stmt *stmt = NULL;
	store_lock(st);
	int rc = store_prepare_texts(st, &stmt, sql, a, b, NULL);
	if (rc == STORE_OK)
		rc = store_step_row(st, stmt);
	if (rc == STORE_OK)
		rc = read(stmt, row);
	sqlite3_finalize(stmt);
	store_unlock(st);
	return rc;
}

int store_run_page(struct store *st, const struct store_page_query *q, const char *after,
                   size_t limit, void **items, size_t *count, bool *more)
{
	void *rows = NULL;
	size_t n = 0;
	sqlite3_stmt *stmt = NULL;
	*items = NULL;
	*count = 0;
	*more = false;
	store_lock(st);
	/* A NULL key ends the arguments at once: the query leaves ?1 out. */
	int rc = store_prepare_texts(st, &stmt, q->sql, q->key, NULL);
	if (rc == STORE_OK)
		rc = store_bind_page(stmt, after, limit);
	if (rc == STORE_OK)
		rc = store_read_page(st, stmt, q->elem_size, q->read, limit, q->row_bytes,
		                     q->max_bytes, &rows, &n, more);
	sqlite3_finalize(stmt);
	store_unlock(st);
	return store_page_finish(rc, rows, n, q->free_list, items, count, more);
}

int store_page_finish(int rc, void *items, size_t n, void (*free_list)(void *items, size_t count),
                      void **out, size_t *count, bool *more)
{
	if (rc != STORE_OK) {
		if (free_list != NULL)
			free_list(items, n);
		else
			free(items);
		*more = false;
		return rc;
	}
	*out = items;
	*count = n;
	return STORE_OK;
}

int store_bind_page(sqlite3_stmt *stmt, const char *after, size_t limit)
{
	int rc = store_bind_text(stmt, 2, after != NULL ? after : "");
	if (rc == STORE_OK)
		rc = store_bind_int(stmt, 3, (int64_t)limit + 1);
	return rc;
}

bool store_page_args_ok(const char *after, size_t limit)
{
	return limit > 0 && limit < INT32_MAX &&
	       (after == NULL || after[0] == '\0' || store_is_uuid(after));
}
