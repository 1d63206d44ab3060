/*
 * Revoked activations: the ids of activation tokens ended by deactivate,
 * kept until the token's own expiry so that a restart does not bring them
 * back. See store.h.
 */
#include "store_priv.h"

static int revoke_unit(struct store *st, void *arg)
{
	const struct store_revoke_rec *a = arg;
	sqlite3_stmt *stmt = NULL;
	int rc = store_exec_int(st, "DELETE FROM revoked WHERE expires <= ?1", store_now(st));
	if (rc == STORE_OK)
		rc = store_prepare(
		    st, "INSERT OR IGNORE INTO revoked (id, expires) VALUES (?1, ?2)", &stmt);
	if (rc == STORE_OK)
		rc = store_bind_blob(stmt, 1, a->id, STORE_ACTIVATION_ID_LEN);
	if (rc == STORE_OK)
		rc = store_bind_int(stmt, 2, a->expires);
	if (rc == STORE_OK)
		rc = store_step_done(stmt);
	sqlite3_finalize(stmt);
	return rc;
}

int store_revoked_add(struct store *st, const uint8_t id[STORE_ACTIVATION_ID_LEN], int64_t expires)
{
	if (st == NULL || id == NULL)
		return STORE_ERR_ARG;
	if (st->pg != NULL)
		return store_pg_revoked_add(st, id, expires);
	struct store_revoke_rec a = { id, expires };
	return store_unit(st, revoke_unit, &a);
}

int store_revoked_check(struct store *st, const uint8_t id[STORE_ACTIVATION_ID_LEN])
{
	if (st == NULL || id == NULL)
		return STORE_ERR_ARG;
	if (st->pg != NULL)
		return store_pg_revoked_check(st, id);
	sqlite3_stmt *stmt = NULL;
	store_lock(st);
	int rc = store_prepare(st, "SELECT 1 FROM revoked WHERE id = ?1", &stmt);
	if (rc == STORE_OK)
		rc = store_bind_blob(stmt, 1, id, STORE_ACTIVATION_ID_LEN);
	if (rc == STORE_OK)
		rc = store_step_row(st, stmt);
	sqlite3_finalize(stmt);
	store_unlock(st);
	return rc;
}
