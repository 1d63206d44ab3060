/*
 * Idempotency records: the first answer to (client, Idempotency-Key),
 * replayed for STORE_IDEM_TTL seconds. See store.h.
 *
 * A record is live while now - created <= STORE_IDEM_TTL; older ones are
 * treated as absent and purged whenever a new record is written.
 */
#include "store_priv.h"

#include <stdlib.h>
#include <string.h>

static bool text_ok(const char *s, size_t max)
{
	if (s == NULL)
		return false;
	size_t n = strnlen(s, max + 1);
	return n >= 1 && n <= max;
}

static bool args_ok(const uint8_t *client_fp, const char *key, const char *method, const char *path)
{
	return client_fp != NULL && text_ok(key, STORE_IDEM_KEY_MAX) &&
	       text_ok(method, STORE_IDEM_METHOD_MAX) && text_ok(path, STORE_IDEM_PATH_MAX);
}

static int read_answer(sqlite3_stmt *stmt, struct store_idem_answer *out)
{
	out->status = sqlite3_column_int(stmt, 2);
	out->created = sqlite3_column_int64(stmt, 4);
	const void *p = sqlite3_column_blob(stmt, 3);
	int n = sqlite3_column_bytes(stmt, 3);
	if (n < 0)
		return STORE_ERR_DB;
	return store_idem_body_set(out, p, (size_t)n);
}

int store_idem_body_set(struct store_idem_answer *out, const void *p, size_t n)
{
	if (n > STORE_IDEM_BODY_MAX)
		return STORE_ERR_DB;
	if (n == 0)
		return STORE_OK;
	out->body = malloc(n);
	if (out->body == NULL)
		return STORE_ERR_NOMEM;
	memcpy(out->body, p, n);
	out->body_len = n;
	return STORE_OK;
}

int store_idem_lookup(struct store *st, const uint8_t client_fp[STORE_CLIENT_FP_LEN],
                      const char *key, const char *method, const char *path,
                      struct store_idem_answer *out)
{
	if (st == NULL || out == NULL)
		return STORE_ERR_ARG;
	memset(out, 0, sizeof(*out));
	if (!args_ok(client_fp, key, method, path))
		return STORE_ERR_ARG;
	if (st->pg != NULL)
		return store_pg_idem_lookup(st, client_fp, key, method, path, out);
	sqlite3_stmt *stmt = NULL;
	store_lock(st);
	int64_t oldest = store_now(st) - STORE_IDEM_TTL;
	int rc = store_prepare(st,
	                       "SELECT method, path, status, body, created FROM idempotency"
	                       " WHERE client = ?1 AND key = ?2 AND created >= ?3",
	                       &stmt);
	if (rc == STORE_OK)
		rc = store_bind_blob(stmt, 1, client_fp, STORE_CLIENT_FP_LEN);
	if (rc == STORE_OK)
		rc = store_bind_text(stmt, 2, key);
	if (rc == STORE_OK)
		rc = store_bind_int(stmt, 3, oldest);
	if (rc == STORE_OK)
		rc = store_step_row(st, stmt);
	if (rc == STORE_OK) {
		const char *m = (const char *)sqlite3_column_text(stmt, 0);
		const char *p = (const char *)sqlite3_column_text(stmt, 1);
		if (m == NULL || p == NULL)
			rc = STORE_ERR_NOMEM;
		else if (strcmp(m, method) != 0 || strcmp(p, path) != 0)
			rc = STORE_IDEM_CONFLICT;
		else
			rc = read_answer(stmt, out);
	}
	sqlite3_finalize(stmt);
	store_unlock(st);
	if (rc != STORE_OK)
		store_idem_answer_clear(out);
	return rc;
}

static int purge_locked(struct store *st, int64_t oldest)
{
	return store_exec_int(st, "DELETE FROM idempotency WHERE created < ?1", oldest);
}

static int insert_locked(struct store *st, const struct store_idem_rec *a, int64_t now)
{
	sqlite3_stmt *stmt = NULL;
	int rc = store_prepare(st,
	                       "INSERT INTO idempotency (client, key, method, path, status, body,"
	                       " created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	                       &stmt);
	if (rc == STORE_OK)
		rc = store_bind_blob(stmt, 1, a->client_fp, STORE_CLIENT_FP_LEN);
	if (rc == STORE_OK)
		rc = store_bind_text(stmt, 2, a->key);
	if (rc == STORE_OK)
		rc = store_bind_text(stmt, 3, a->method);
	if (rc == STORE_OK)
		rc = store_bind_text(stmt, 4, a->path);
	if (rc == STORE_OK)
		rc = store_bind_int(stmt, 5, a->status);
	if (rc == STORE_OK)
		rc = store_bind_blob(stmt, 6, a->body, a->body_len);
	if (rc == STORE_OK)
		rc = store_bind_int(stmt, 7, now);
	if (rc == STORE_OK)
		rc = store_step_done(stmt);
	sqlite3_finalize(stmt);
	return rc;
}

static int record_unit(struct store *st, void *arg)
{
	int64_t now = store_now(st);
	/* Purging first also removes an expired record of this very key, so
	 * the insert below only collides with a live one (STORE_EXISTS). */
	int rc = purge_locked(st, now - STORE_IDEM_TTL);
	if (rc == STORE_OK)
		rc = insert_locked(st, arg, now);
	return rc;
}

int store_idem_record(struct store *st, const uint8_t client_fp[STORE_CLIENT_FP_LEN],
                      const char *key, const char *method, const char *path, int status,
                      const uint8_t *body, size_t body_len)
{
	if (st == NULL || !args_ok(client_fp, key, method, path) || status < 100 || status > 599 ||
	    body_len > STORE_IDEM_BODY_MAX || (body == NULL && body_len != 0))
		return STORE_ERR_ARG;
	if (st->pg != NULL)
		return store_pg_idem_record(st, client_fp, key, method, path, status, body,
		                            body_len);
	struct store_idem_rec a = { client_fp, key, method, path, status, body, body_len };
	return store_unit(st, record_unit, &a);
}

int store_idem_purge(struct store *st)
{
	if (st == NULL)
		return STORE_ERR_ARG;
	if (st->pg != NULL)
		return store_pg_idem_purge(st);
	store_lock(st);
	int rc = purge_locked(st, store_now(st) - STORE_IDEM_TTL);
	store_unlock(st);
	return rc;
}

void store_idem_answer_clear(struct store_idem_answer *a)
{
	if (a == NULL)
		return;
	free(a->body);
	memset(a, 0, sizeof(*a));
}
