/*
 * Softcards and key groups in the store. See store.h.
 */
#include "store_priv.h"

#include <stdlib.h>
#include <string.h>

/* Names follow the softcard-name rule of ipc/README.md; the handler checks
 * the character set, the store only the size. */
static bool name_ok(const char *name)
{
	if (name == NULL)
		return false;
	size_t n = strnlen(name, STORE_NAME_MAX + 1);
	return n >= 1 && n <= STORE_NAME_MAX;
}

/* ---- softcards ---------------------------------------------------------- */

#define SOFTCARD_COLUMNS "id, name, created, salt, verifier, login_failures, last_failure"

static int read_softcard(sqlite3_stmt *stmt, void *row)
{
	struct store_softcard *sc = row;
	size_t salt_len = 0;
	int rc = store_col_text(stmt, 0, sc->id, sizeof(sc->id), NULL);
	if (rc == STORE_OK)
		rc = store_col_text(stmt, 1, sc->name, sizeof(sc->name), NULL);
	if (rc == STORE_OK) {
		sc->created = sqlite3_column_int64(stmt, 2);
		rc = store_col_blob(stmt, 3, sc->salt, sizeof(sc->salt), &salt_len);
	}
	if (rc == STORE_OK && salt_len != STORE_SALT_LEN)
		rc = STORE_ERR_DB;
	if (rc == STORE_OK)
		rc = store_col_blob(stmt, 4, sc->verifier, sizeof(sc->verifier), &sc->verifier_len);
	if (rc == STORE_OK) {
		sc->login_failures = sqlite3_column_int64(stmt, 5);
		sc->last_failure = sqlite3_column_int64(stmt, 6);
		if (sc->login_failures < 0)
			rc = STORE_ERR_DB;
	}
	return rc;
}

int store_softcard_create(struct store *st, struct store_softcard *sc)
{
	if (st == NULL || sc == NULL || !name_ok(sc->name) || sc->verifier_len == 0 ||
	    sc->verifier_len > STORE_VERIFIER_MAX)
		return STORE_ERR_ARG;
	if (sc->id[0] == '\0') {
		int r = store_new_softcard_id(sc->id);
		if (r != STORE_OK)
			return r;
	} else if (!store_is_softcard_id(sc->id)) {
		return STORE_ERR_ARG;
	}
	if (st->pg != NULL)
		return store_pg_softcard_create(st, sc);
	sqlite3_stmt *stmt = NULL;
	store_lock(st);
	int rc = store_prepare_texts(st, &stmt, "SELECT 1 FROM softcards WHERE name = ?1", sc->name,
	                             NULL);
	if (rc == STORE_OK) {
		rc = store_step_row(st, stmt);
		rc = rc == STORE_OK ? STORE_NAME_TAKEN : rc == STORE_NOT_FOUND ? STORE_OK : rc;
	}
	sqlite3_finalize(stmt);
	stmt = NULL;
	if (rc != STORE_OK) {
		store_unlock(st);
		return rc;
	}
	sc->created = store_now(st);
	rc = store_prepare(
	    st, "INSERT INTO softcards (" SOFTCARD_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, 0, 0)",
	    &stmt);
	if (rc == STORE_OK)
		rc = store_bind_text(stmt, 1, sc->id);
	if (rc == STORE_OK)
		rc = store_bind_text(stmt, 2, sc->name);
	if (rc == STORE_OK)
		rc = store_bind_int(stmt, 3, sc->created);
	if (rc == STORE_OK)
		rc = store_bind_blob(stmt, 4, sc->salt, sizeof(sc->salt));
	if (rc == STORE_OK)
		rc = store_bind_blob(stmt, 5, sc->verifier, sc->verifier_len);
	if (rc == STORE_OK)
		rc = store_step_done(stmt);
	sqlite3_finalize(stmt);
	store_unlock(st);
	return rc;
}

int store_softcard_get(struct store *st, const char *id, struct store_softcard *out)
{
	if (st == NULL || out == NULL || id == NULL)
		return STORE_ERR_ARG;
	memset(out, 0, sizeof(*out));
	if (!store_is_softcard_id(id))
		return STORE_NOT_FOUND;
	if (st->pg != NULL)
		return store_pg_softcard_get(st, id, out);
	return store_get_row(st, "SELECT " SOFTCARD_COLUMNS " FROM softcards WHERE id = ?1", id,
	                     NULL, read_softcard, out);
}

int store_softcard_list(struct store *st, struct store_softcard **out, size_t *count)
{
	if (st == NULL || out == NULL || count == NULL)
		return STORE_ERR_ARG;
	*out = NULL;
	*count = 0;
	if (st->pg != NULL)
		return store_pg_softcard_list(st, out, count);
	struct store_softcard *items = NULL;
	size_t n = 0;
	sqlite3_stmt *stmt = NULL;
	store_lock(st);
	int rc =
	    store_prepare(st, "SELECT " SOFTCARD_COLUMNS " FROM softcards ORDER BY rowid", &stmt);
	if (rc == STORE_OK)
		rc = store_read_rows(st, stmt, sizeof(*items), read_softcard, (void **)&items, &n);
	sqlite3_finalize(stmt);
	store_unlock(st);
	if (rc != STORE_OK) {
		free(items);
		return rc;
	}
	*out = items;
	*count = n;
	return STORE_OK;
}

int store_softcard_login_outcome(struct store *st, const char *id, bool right, int64_t now,
                                 int64_t *failures)
{
	if (st == NULL || id == NULL)
		return STORE_ERR_ARG;
	if (!store_is_softcard_id(id))
		return STORE_NOT_FOUND;
	if (st->pg != NULL)
		return store_pg_softcard_login_outcome(st, id, right, now, failures);
	/* A right passphrase after no failure writes nothing: a login is not
	 * a write to the store. */
	static const char wrong_sql[] = "UPDATE softcards SET login_failures = login_failures + 1,"
	                                " last_failure = ?2 WHERE id = ?1 RETURNING login_failures";
	static const char right_sql[] = "UPDATE softcards SET login_failures = 0, last_failure = 0"
	                                " WHERE id = ?1 AND login_failures > 0";
	sqlite3_stmt *stmt = NULL;
	int64_t n = 0;
	store_lock(st);
	int rc = store_prepare_texts(st, &stmt, right ? right_sql : wrong_sql, id, NULL);
	if (rc == STORE_OK && !right)
		rc = store_bind_int(stmt, 2, now);
	if (rc == STORE_OK && !right) {
		rc = store_step_row(st, stmt);
		if (rc == STORE_OK)
			n = sqlite3_column_int64(stmt, 0);
	} else if (rc == STORE_OK) {
		rc = store_step_done(stmt);
	}
	sqlite3_finalize(stmt);
	store_unlock(st);
	if (rc == STORE_OK && failures != NULL)
		*failures = n;
	return rc;
}

/* Counts rows of one of the fixed queries below that take the softcard id
 * as ?1. */
static int count_rows(struct store *st, const char *sql, const char *id, int64_t *n)
{
	sqlite3_stmt *stmt = NULL;
	int rc = store_prepare_texts(st, &stmt, sql, id, NULL);
	if (rc == STORE_OK) {
		if (sqlite3_step(stmt) == SQLITE_ROW)
			*n = sqlite3_column_int64(stmt, 0);
		else
			rc = store_errcode(st);
	}
	sqlite3_finalize(stmt);
	return rc;
}

static int delete_unit(struct store *st, void *arg)
{
	const char *id = arg;
	int64_t keys = 0, objects = 0;
	int rc = count_rows(st, "SELECT count(*) FROM keys WHERE softcard_id = ?1", id, &keys);
	if (rc == STORE_OK)
		rc = count_rows(st, "SELECT count(*) FROM objects WHERE softcard_id = ?1", id,
		                &objects);
	if (rc == STORE_OK && (keys > 0 || objects > 0))
		rc = STORE_NOT_EMPTY;
	if (rc == STORE_OK)
		rc = store_delete_texts(st, "DELETE FROM softcards WHERE id = ?1", id, NULL);
	return rc;
}

int store_softcard_delete(struct store *st, const char *id)
{
	if (st == NULL || id == NULL)
		return STORE_ERR_ARG;
	if (!store_is_softcard_id(id))
		return STORE_NOT_FOUND;
	if (st->pg != NULL)
		return store_pg_softcard_delete(st, id);
	/* Count and delete in one unit so that a key added in between by
	 * another process cannot be orphaned (the FK would refuse anyway). */
	return store_unit(st, delete_unit, (void *)id);
}

/* ---- groups ------------------------------------------------------------------- */

#define GROUP_COLUMNS "id, name, softcard_id, created"

static int read_group(sqlite3_stmt *stmt, void *row)
{
	struct store_group *g = row;
	int rc = store_col_text(stmt, 0, g->id, sizeof(g->id), NULL);
	if (rc == STORE_OK)
		rc = store_col_text(stmt, 1, g->name, sizeof(g->name), NULL);
	if (rc == STORE_OK)
		rc = store_col_text(stmt, 2, g->softcard_id, sizeof(g->softcard_id), NULL);
	if (rc == STORE_OK)
		g->created = sqlite3_column_int64(stmt, 3);
	return rc;
}

int store_group_create(struct store *st, struct store_group *g)
{
	if (st == NULL || g == NULL || !name_ok(g->name))
		return STORE_ERR_ARG;
	if (!store_is_softcard_id(g->softcard_id))
		return STORE_NOT_FOUND;
	if (g->id[0] == '\0') {
		int r = store_new_uuid(g->id);
		if (r != STORE_OK)
			return r;
	} else if (!store_is_uuid(g->id)) {
		return STORE_ERR_ARG;
	}
	if (st->pg != NULL)
		return store_pg_group_create(st, g);
	sqlite3_stmt *stmt = NULL;
	store_lock(st);
	g->created = store_now(st);
	int rc = store_prepare(st, "INSERT INTO groups (" GROUP_COLUMNS ") VALUES (?1, ?2, ?3, ?4)",
	                       &stmt);
	if (rc == STORE_OK)
		rc = store_bind_text(stmt, 1, g->id);
	if (rc == STORE_OK)
		rc = store_bind_text(stmt, 2, g->name);
	if (rc == STORE_OK)
		rc = store_bind_text(stmt, 3, g->softcard_id);
	if (rc == STORE_OK)
		rc = store_bind_int(stmt, 4, g->created);
	if (rc == STORE_OK)
		rc = store_step_done(stmt);
	sqlite3_finalize(stmt);
	store_unlock(st);
	return rc;
}

int store_group_get(struct store *st, const char *id, struct store_group *out)
{
	if (st == NULL || out == NULL || id == NULL)
		return STORE_ERR_ARG;
	memset(out, 0, sizeof(*out));
	if (!store_is_uuid(id))
		return STORE_NOT_FOUND;
	if (st->pg != NULL)
		return store_pg_group_get(st, id, out);
	return store_get_row(st, "SELECT " GROUP_COLUMNS " FROM groups WHERE id = ?1", id, NULL,
	                     read_group, out);
}

int store_group_page(struct store *st, const char *softcard_id, const char *after, size_t limit,
                     struct store_group **out, size_t *count, bool *more)
{
	if (st == NULL || out == NULL || count == NULL || more == NULL ||
	    !store_page_args_ok(after, limit))
		return STORE_ERR_ARG;
	*out = NULL;
	*count = 0;
	*more = false;
	/* An id of the wrong shape owns no groups. */
	if (softcard_id != NULL && !store_is_softcard_id(softcard_id))
		return STORE_OK;
	if (st->pg != NULL)
		return store_pg_group_page(st, softcard_id, after, limit, out, count, more);
	/* Without a softcard_id the unfiltered query leaves ?1 out. */
	const struct store_page_query q = {
		.sql = softcard_id != NULL ? "SELECT " GROUP_COLUMNS
		                             " FROM groups WHERE softcard_id = ?1"
		                             " AND id > ?2 ORDER BY id LIMIT ?3"
		                           : "SELECT " GROUP_COLUMNS " FROM groups"
		                             " WHERE id > ?2 ORDER BY id LIMIT ?3",
		.key = softcard_id,
		.elem_size = sizeof(**out),
		.read = read_group,
	};
	return store_run_page(st, &q, after, limit, (void **)out, count, more);
}
