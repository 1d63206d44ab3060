/*
 * Idempotency records and revoked activations in PostgreSQL, shared by
 * every node: a request replayed on another node finds the first node's
 * answer, and a C_Logout on one node is seen by all. The public functions
 * of idem.c and store_revoked.c check the arguments and come here. See
 * store_pg.h.
 */
#include "store_pg_priv.h"

#include <stdlib.h>
#include <string.h>

/* ---- idempotency ------------------------------------------------------------ */

static int read_answer(const PGresult *r, struct store_idem_answer *out)
{
	int64_t status = 0;
	int rc = pg_col_int(r, 0, 2, &status);
	if (rc == STORE_OK && (status < 100 || status > 599))
		rc = STORE_ERR_DB;
	if (rc == STORE_OK)
		rc = pg_col_int(r, 0, 4, &out->created);
	if (rc != STORE_OK)
		return rc;
	out->status = (int)status;
	if (pg_col_null(r, 0, 3))
		return STORE_OK;
	int n = PQgetlength(r, 0, 3);
	if (n < 0)
		return STORE_ERR_DB;
	return store_idem_body_set(out, PQgetvalue(r, 0, 3), (size_t)n);
}

int store_pg_idem_lookup(struct store *st, const uint8_t client_fp[STORE_CLIENT_FP_LEN],
                         const char *key, const char *method, const char *path,
                         struct store_idem_answer *out)
{
	struct pg_params p = { 0 };
	PGresult *r = NULL;
	char m[STORE_IDEM_METHOD_MAX + 1], t[STORE_IDEM_PATH_MAX + 1];
	pg_blob(&p, client_fp, STORE_CLIENT_FP_LEN);
	pg_text(&p, key);
	pg_int(&p, store_now(st) - STORE_IDEM_TTL);
	int rc = pg_query(st,
	                  "SELECT method, path, status, body, created FROM idempotency"
	                  " WHERE client = $1 AND key = $2 AND created >= $3",
	                  &p, true, &r);
	if (rc == STORE_OK)
		rc = pg_col_text(r, 0, 0, m, sizeof(m), NULL);
	if (rc == STORE_OK)
		rc = pg_col_text(r, 0, 1, t, sizeof(t), NULL);
	if (rc == STORE_OK)
		rc = strcmp(m, method) != 0 || strcmp(t, path) != 0 ? STORE_IDEM_CONFLICT
		                                                    : read_answer(r, out);
	PQclear(r);
	if (rc != STORE_OK)
		store_idem_answer_clear(out);
	return rc;
}

/* Both tables keep rows that expire: the expired ones go first, in the
 * same unit, so the insert only meets live rows. */
static int purge_then_insert(struct pg_conn *c, const char *purge_sql, int64_t bound,
                             const char *insert_sql, const struct pg_params *p)
{
	struct pg_params purge_p = { 0 };
	pg_int(&purge_p, bound);
	int rc = pg_exec(c, purge_sql, &purge_p);
	return rc == STORE_OK ? pg_exec(c, insert_sql, p) : rc;
}

static int record_unit(struct store *st, struct pg_conn *c, void *arg)
{
	const struct store_idem_rec *a = arg;
	struct pg_params p = { 0 };
	int64_t now = store_now(st);
	pg_blob(&p, a->client_fp, STORE_CLIENT_FP_LEN);
	pg_text(&p, a->key);
	pg_text(&p, a->method);
	pg_text(&p, a->path);
	pg_int(&p, a->status);
	pg_blob(&p, a->body, a->body_len);
	pg_int(&p, now);
	/* Purging first also removes an expired record of this very key, so
	 * the insert only collides with a live one (STORE_EXISTS), whichever
	 * node wrote it. */
	return purge_then_insert(c, "DELETE FROM idempotency WHERE created < $1",
	                         now - STORE_IDEM_TTL,
	                         "INSERT INTO idempotency (client, key, method, path, status, body,"
	                         " created) VALUES ($1, $2, $3, $4, $5, $6, $7)",
	                         &p);
}

int store_pg_idem_record(struct store *st, const uint8_t client_fp[STORE_CLIENT_FP_LEN],
                         const char *key, const char *method, const char *path, int status,
                         const uint8_t *body, size_t body_len)
{
	struct store_idem_rec a = { client_fp, key, method, path, status, body, body_len };
	return pg_unit(st, record_unit, &a);
}

int store_pg_idem_purge(struct store *st)
{
	struct pg_params p = { 0 };
	pg_int(&p, store_now(st) - STORE_IDEM_TTL);
	return pg_mutate(st, "DELETE FROM idempotency WHERE created < $1", &p, NULL);
}

/* ---- revoked activations -------------------------------------------------------- */

static int revoke_unit(struct store *st, struct pg_conn *c, void *arg)
{
	const struct store_revoke_rec *a = arg;
	struct pg_params p = { 0 };
	pg_blob(&p, a->id, STORE_ACTIVATION_ID_LEN);
	pg_int(&p, a->expires);
	return purge_then_insert(c, "DELETE FROM revoked WHERE expires <= $1", store_now(st),
	                         "INSERT INTO revoked (id, expires) VALUES ($1, $2)"
	                         " ON CONFLICT (id) DO NOTHING",
	                         &p);
}

int store_pg_revoked_add(struct store *st, const uint8_t id[STORE_ACTIVATION_ID_LEN],
                         int64_t expires)
{
	struct store_revoke_rec a = { id, expires };
	return pg_unit(st, revoke_unit, &a);
}

int store_pg_revoked_check(struct store *st, const uint8_t id[STORE_ACTIVATION_ID_LEN])
{
	struct pg_params p = { 0 };
	PGresult *r = NULL;
	pg_blob(&p, id, STORE_ACTIVATION_ID_LEN);
	int rc = pg_query(st, "SELECT 1 FROM revoked WHERE id = $1", &p, true, &r);
	PQclear(r);
	return rc;
}
