/*
 * Softcards and key groups in PostgreSQL. The public functions of
 * store_cards.c check the arguments and come here. See store_pg.h.
 */
#include "store_pg_priv.h"

#include <stdlib.h>
#include <string.h>

/* ---- softcards ---------------------------------------------------------- */

#define SOFTCARD_COLUMNS "id, name, created, salt, verifier, login_failures, last_failure"

static int read_softcard(const PGresult *r, int row, void *out)
{
	struct store_softcard *sc = out;
	size_t salt_len = 0;
	int rc = pg_col_text(r, row, 0, sc->id, sizeof(sc->id), NULL);
	if (rc == STORE_OK)
		rc = pg_col_text(r, row, 1, sc->name, sizeof(sc->name), NULL);
	if (rc == STORE_OK)
		rc = pg_col_int(r, row, 2, &sc->created);
	if (rc == STORE_OK)
		rc = pg_col_blob(r, row, 3, sc->salt, sizeof(sc->salt), &salt_len);
	if (rc == STORE_OK && salt_len != STORE_SALT_LEN)
		rc = STORE_ERR_DB;
	if (rc == STORE_OK)
		rc = pg_col_blob(r, row, 4, sc->verifier, sizeof(sc->verifier), &sc->verifier_len);
	if (rc == STORE_OK)
		rc = pg_col_int(r, row, 5, &sc->login_failures);
	if (rc == STORE_OK)
		rc = pg_col_int(r, row, 6, &sc->last_failure);
	if (rc == STORE_OK && sc->login_failures < 0)
		rc = STORE_ERR_DB;
	return rc;
}

int store_pg_softcard_create(struct store *st, struct store_softcard *sc)
{
	struct pg_params p = { 0 };
	sc->created = store_now(st);
	pg_text(&p, sc->id);
	pg_text(&p, sc->name);
	pg_int(&p, sc->created);
	pg_blob(&p, sc->salt, sizeof(sc->salt));
	pg_blob(&p, sc->verifier, sc->verifier_len);
	return pg_mutate(
	    st, "INSERT INTO softcards (" SOFTCARD_COLUMNS ") VALUES ($1, $2, $3, $4, $5, 0, 0)",
	    &p, NULL);
}

int store_pg_softcard_get(struct store *st, const char *id, struct store_softcard *out)
{
	return pg_get_row(st, "SELECT " SOFTCARD_COLUMNS " FROM softcards WHERE id = $1", id, NULL,
	                  read_softcard, out);
}

int store_pg_softcard_list(struct store *st, struct store_softcard **out, size_t *count)
{
	const struct pg_page_spec spec = { sizeof(**out), read_softcard, SIZE_MAX, NULL, 0, NULL };
	bool more;
	return pg_page(st, "SELECT " SOFTCARD_COLUMNS " FROM softcards ORDER BY seq", NULL, &spec,
	               (void **)out, count, &more);
}

int store_pg_softcard_login_outcome(struct store *st, const char *id, bool right, int64_t now,
                                    int64_t *failures)
{
	struct pg_params p = { 0 };
	PGresult *r = NULL;
	int64_t n = 0;
	pg_text(&p, id);
	if (right) {
		/* A right passphrase after no failure writes nothing. */
		int rc = pg_mutate(st,
		                   "UPDATE softcards SET login_failures = 0, last_failure = 0"
		                   " WHERE id = $1 AND login_failures > 0",
		                   &p, NULL);
		if (rc == STORE_OK && failures != NULL)
			*failures = 0;
		return rc;
	}
	/* One statement: nodes counting at once each add their one. */
	pg_int(&p, now);
	struct pg_conn *c = pg_get(st);
	if (c == NULL)
		return STORE_ERR_DB;
	int rc = pg_run(c,
	                "UPDATE softcards SET login_failures = login_failures + 1,"
	                " last_failure = $2 WHERE id = $1 RETURNING login_failures",
	                &p, &r, NULL);
	pg_put(st, c);
	if (rc == STORE_OK && PQntuples(r) != 1)
		rc = STORE_NOT_FOUND;
	if (rc == STORE_OK)
		rc = pg_col_int(r, 0, 0, &n);
	PQclear(r);
	if (rc == STORE_OK && failures != NULL)
		*failures = n;
	return rc;
}

static int softcard_delete_unit(struct store *st, struct pg_conn *c, void *arg)
{
	struct pg_params p = { 0 };
	PGresult *r = NULL;
	long affected = 0;
	(void)st;
	pg_text(&p, arg);
	/* The row lock first: a key or object added by another node after
	 * this point waits for us, and one added before is counted. */
	int rc = pg_run(c, "SELECT 1 FROM softcards WHERE id = $1 FOR UPDATE", &p, &r, NULL);
	if (rc == STORE_OK && PQntuples(r) == 0)
		rc = STORE_NOT_FOUND;
	PQclear(r);
	r = NULL;
	if (rc == STORE_OK)
		rc = pg_run(c,
		            "SELECT 1 WHERE EXISTS (SELECT 1 FROM keys WHERE softcard_id = $1)"
		            " OR EXISTS (SELECT 1 FROM objects WHERE softcard_id = $1)",
		            &p, &r, NULL);
	if (rc == STORE_OK && PQntuples(r) > 0)
		rc = STORE_NOT_EMPTY;
	PQclear(r);
	r = NULL;
	if (rc != STORE_OK)
		return rc;
	rc = pg_run(c, "DELETE FROM softcards WHERE id = $1", &p, &r, &affected);
	PQclear(r);
	/* A key or object that slipped in anyway holds a foreign key. */
	if (rc == STORE_NOT_FOUND)
		return STORE_NOT_EMPTY;
	return rc == STORE_OK && affected == 0 ? STORE_NOT_FOUND : rc;
}

int store_pg_softcard_delete(struct store *st, const char *id)
{
	return pg_unit(st, softcard_delete_unit, (void *)id);
}

/* ---- groups ------------------------------------------------------------------- */

#define GROUP_COLUMNS "id, name, softcard_id, created"

static int read_group(const PGresult *r, int row, void *out)
{
	struct store_group *g = out;
	int rc = pg_col_text(r, row, 0, g->id, sizeof(g->id), NULL);
	if (rc == STORE_OK)
		rc = pg_col_text(r, row, 1, g->name, sizeof(g->name), NULL);
	if (rc == STORE_OK)
		rc = pg_col_text(r, row, 2, g->softcard_id, sizeof(g->softcard_id), NULL);
	if (rc == STORE_OK)
		rc = pg_col_int(r, row, 3, &g->created);
	return rc;
}

int store_pg_group_create(struct store *st, struct store_group *g)
{
	struct pg_params p = { 0 };
	g->created = store_now(st);
	pg_text(&p, g->id);
	pg_text(&p, g->name);
	pg_text(&p, g->softcard_id);
	pg_int(&p, g->created);
	return pg_mutate(st, "INSERT INTO groups (" GROUP_COLUMNS ") VALUES ($1, $2, $3, $4)", &p,
	                 NULL);
}

int store_pg_group_get(struct store *st, const char *id, struct store_group *out)
{
	return pg_get_row(st, "SELECT " GROUP_COLUMNS " FROM groups WHERE id = $1", id, NULL,
	                  read_group, out);
}

int store_pg_group_page(struct store *st, const char *softcard_id, const char *after, size_t limit,
                        struct store_group **out, size_t *count, bool *more)
{
	const struct pg_page_spec spec = { sizeof(**out), read_group, limit, NULL, 0, NULL };
	struct pg_params p = { 0 };
	pg_text(&p, softcard_id != NULL ? softcard_id : "");
	pg_text(&p, after != NULL ? after : "");
	pg_int(&p, (int64_t)limit + 1);
	return pg_page(st,
	               softcard_id != NULL ? "SELECT " GROUP_COLUMNS
	                                     " FROM groups WHERE softcard_id = $1"
	                                     " AND id > $2 ORDER BY id LIMIT $3"
	                                   : "SELECT " GROUP_COLUMNS " FROM groups"
	                                     " WHERE $1 = '' AND id > $2 ORDER BY id LIMIT $3",
	               &p, &spec, (void **)out, count, more);
}
