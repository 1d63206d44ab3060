/*
 * Parameters, statements, units of work and columns of the PostgreSQL
 * back end (see store_pg_priv.h).
 */
#include "store_pg_priv.h"

#include <stdlib.h>
#include <string.h>

/* Type oids of the parameters we send (pg_type.h is server-side only). */
#define OID_BYTEA 17
#define OID_INT8  20
#define OID_TEXT  25

/* A unit of work is tried this often when PostgreSQL reports a
 * serialization failure or a deadlock. */
#define UNIT_TRIES 5

/* ---- parameters --------------------------------------------------------- */

static int next_param(struct pg_params *p)
{
	if (p->n >= PG_PARAMS_MAX) {
		p->overflow = true;
		return -1;
	}
	return p->n++;
}

static void set_param(struct pg_params *p, unsigned int type, const void *data, size_t len)
{
	int i = next_param(p);
	if (i < 0)
		return;
	if (len > INT32_MAX) {
		p->overflow = true;
		return;
	}
	/* An empty value must not become NULL: any non-NULL pointer will do. */
	p->val[i] = data != NULL ? data : "";
	p->len[i] = (int)len;
	p->fmt[i] = 1;
	p->type[i] = type;
}

void pg_text(struct pg_params *p, const char *s)
{
	set_param(p, OID_TEXT, s, s != NULL ? strlen(s) : 0);
}

void pg_blob(struct pg_params *p, const void *data, size_t len)
{
	set_param(p, OID_BYTEA, data, len);
}

void pg_opt(struct pg_params *p, bool present, const void *data, size_t len)
{
	if (present) {
		pg_blob(p, data, len);
		return;
	}
	int i = next_param(p);
	if (i < 0)
		return;
	p->val[i] = NULL;
	p->len[i] = 0;
	p->fmt[i] = 1;
	p->type[i] = OID_BYTEA;
}

void pg_int(struct pg_params *p, int64_t v)
{
	int i = next_param(p);
	if (i < 0)
		return;
	uint64_t u = (uint64_t)v;
	for (int b = 7; b >= 0; b--) {
		p->ints[i][b] = (uint8_t)(u & 0xff);
		u >>= 8;
	}
	p->val[i] = (const char *)p->ints[i];
	p->len[i] = 8;
	p->fmt[i] = 1;
	p->type[i] = OID_INT8;
}

/* ---- statements ------------------------------------------------------------ */

static bool sqlstate_is(const PGresult *res, const char *code)
{
	const char *s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	return s != NULL && strcmp(s, code) == 0;
}

static bool sqlstate_class(const PGresult *res, const char *cls)
{
	const char *s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	return s != NULL && strncmp(s, cls, 2) == 0;
}

int pg_map_error(const PGresult *res)
{
	if (res == NULL)
		return STORE_ERR_NOMEM;
	if (sqlstate_is(res, "23505")) {
		const char *c = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
		return c != NULL && strcmp(c, "softcards_name_key") == 0 ? STORE_NAME_TAKEN
		                                                         : STORE_EXISTS;
	}
	if (sqlstate_is(res, "23503"))
		return STORE_NOT_FOUND;
	if (sqlstate_class(res, "23") || sqlstate_class(res, "22"))
		return STORE_ERR_ARG; /* CHECK, NOT NULL, bad data */
	if (sqlstate_is(res, "40001") || sqlstate_is(res, "40P01") || sqlstate_is(res, "55P03"))
		return STORE_ERR_BUSY;
	return STORE_ERR_DB;
}

int pg_run(struct pg_conn *c, const char *sql, const struct pg_params *p, PGresult **res,
           long *affected)
{
	*res = NULL;
	if (affected != NULL)
		*affected = 0;
	if (p != NULL && p->overflow)
		return STORE_ERR_ARG;
	PGresult *r = PQexecParams(c->c, sql, p != NULL ? p->n : 0, p != NULL ? p->type : NULL,
	                           p != NULL ? p->val : NULL, p != NULL ? p->len : NULL,
	                           p != NULL ? p->fmt : NULL, 1);
	ExecStatusType s = r != NULL ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK) {
		int rc = pg_map_error(r);
		PQclear(r);
		return rc;
	}
	if (affected != NULL) {
		const char *n = PQcmdTuples(r);
		*affected = n != NULL && n[0] != '\0' ? strtol(n, NULL, 10) : 0;
	}
	*res = r;
	return STORE_OK;
}

int pg_exec(struct pg_conn *c, const char *sql, const struct pg_params *p)
{
	PGresult *r = NULL;
	int rc = pg_run(c, sql, p, &r, NULL);
	PQclear(r);
	return rc;
}

int pg_cmd(struct pg_conn *c, const char *sql)
{
	return pg_exec(c, sql, NULL);
}

int pg_query(struct store *st, const char *sql, const struct pg_params *p, bool want_row,
             PGresult **res)
{
	*res = NULL;
	struct pg_conn *c = pg_get(st);
	if (c == NULL)
		return STORE_ERR_DB;
	int rc = pg_run(c, sql, p, res, NULL);
	pg_put(st, c);
	if (rc == STORE_OK && want_row && PQntuples(*res) < 1) {
		PQclear(*res);
		*res = NULL;
		rc = STORE_NOT_FOUND;
	}
	return rc;
}

/* ---- units of work ------------------------------------------------------------ */

static int unit_in_txn(struct store *st, struct pg_conn *c, pg_unit_fn fn, void *arg)
{
	/* Savepoints of one name nest: ROLLBACK TO undoes this unit only. */
	int rc = pg_cmd(c, "SAVEPOINT store_unit");
	if (rc != STORE_OK)
		return rc;
	rc = fn(st, c, arg);
	if (rc != STORE_OK) {
		(void)pg_cmd(c, "ROLLBACK TO SAVEPOINT store_unit");
		return rc;
	}
	return pg_cmd(c, "RELEASE SAVEPOINT store_unit");
}

int pg_commit(struct pg_conn *c)
{
	PGresult *r = NULL;
	int rc = pg_run(c, "COMMIT", NULL, &r, NULL);
	if (rc == STORE_OK && strcmp(PQcmdStatus(r), "COMMIT") != 0)
		rc = STORE_ERR_DB;
	PQclear(r);
	return rc;
}

static int unit_alone(struct store *st, struct pg_conn *c, pg_unit_fn fn, void *arg)
{
	int rc = STORE_ERR_BUSY;
	for (int i = 0; i < UNIT_TRIES && rc == STORE_ERR_BUSY; i++) {
		rc = pg_cmd(c, "BEGIN ISOLATION LEVEL READ COMMITTED");
		if (rc != STORE_OK)
			return rc;
		rc = fn(st, c, arg);
		if (rc == STORE_OK)
			rc = pg_commit(c);
		else
			(void)pg_cmd(c, "ROLLBACK");
	}
	return rc;
}

int pg_unit(struct store *st, pg_unit_fn fn, void *arg)
{
	struct pg_conn *c = pg_get(st);
	if (c == NULL)
		return STORE_ERR_DB;
	int rc = pg_in_txn(st) ? unit_in_txn(st, c, fn, arg) : unit_alone(st, c, fn, arg);
	pg_put(st, c);
	return rc;
}

struct stmt_arg {
	const char *sql;
	const struct pg_params *p;
	long affected;
};

static int stmt_unit(struct store *st, struct pg_conn *c, void *arg)
{
	struct stmt_arg *a = arg;
	PGresult *r = NULL;
	(void)st;
	int rc = pg_run(c, a->sql, a->p, &r, &a->affected);
	PQclear(r);
	return rc;
}

int pg_mutate(struct store *st, const char *sql, const struct pg_params *p, long *affected)
{
	struct stmt_arg a = { sql, p, 0 };
	int rc = pg_unit(st, stmt_unit, &a);
	if (affected != NULL)
		*affected = a.affected;
	return rc;
}

int pg_page(struct store *st, const char *sql, const struct pg_params *p,
            const struct pg_page_spec *spec, void **out, size_t *count, bool *more)
{
	PGresult *r = NULL;
	void *items = NULL;
	size_t n = 0;
	*out = NULL;
	*count = 0;
	*more = false;
	int rc = pg_query(st, sql, p, false, &r);
	if (rc == STORE_OK)
		rc = pg_read_page(r, spec->elem_size, spec->read, spec->limit, spec->row_bytes,
		                  spec->max_bytes, &items, &n, more);
	PQclear(r);
	return store_page_finish(rc, items, n, spec->free_list, out, count, more);
}

/* ---- columns --------------------------------------------------------------- */

bool pg_col_null(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) != 0;
}

int pg_col_text(const PGresult *r, int row, int col, char *dst, size_t cap, size_t *len)
{
	int n = PQgetlength(r, row, col);
	if (pg_col_null(r, row, col) || n < 0 || cap == 0 || (size_t)n > cap - 1)
		return STORE_ERR_DB;
	if (n > 0)
		memcpy(dst, PQgetvalue(r, row, col), (size_t)n);
	dst[n] = '\0';
	if (len != NULL)
		*len = (size_t)n;
	return STORE_OK;
}

int pg_col_blob(const PGresult *r, int row, int col, uint8_t *dst, size_t cap, size_t *len)
{
	int n = PQgetlength(r, row, col);
	if (pg_col_null(r, row, col) || n < 0 || (size_t)n > cap)
		return STORE_ERR_DB;
	if (n > 0)
		memcpy(dst, PQgetvalue(r, row, col), (size_t)n);
	*len = (size_t)n;
	return STORE_OK;
}

int pg_col_int(const PGresult *r, int row, int col, int64_t *v)
{
	if (pg_col_null(r, row, col) || PQgetlength(r, row, col) != 8)
		return STORE_ERR_DB;
	const uint8_t *p = (const uint8_t *)PQgetvalue(r, row, col);
	uint64_t u = 0;
	for (int i = 0; i < 8; i++)
		u = (u << 8) | p[i];
	*v = (int64_t)u;
	return STORE_OK;
}

int pg_col_attr(const PGresult *r, int row, int col, size_t max, struct store_attr *a)
{
	a->present = !pg_col_null(r, row, col);
	a->data = NULL;
	a->len = 0;
	if (!a->present)
		return STORE_OK;
	int n = PQgetlength(r, row, col);
	if (n < 0)
		return STORE_ERR_DB;
	return store_attr_set(a, PQgetvalue(r, row, col), (size_t)n, max);
}

int pg_read_page(const PGresult *r, size_t elem_size, pg_row_reader read, size_t limit,
                 size_t (*row_bytes)(const void *row), size_t max_bytes, void **items,
                 size_t *count, bool *more)
{
	struct store_page pg;
	int rows = PQntuples(r);
	store_page_start(&pg, elem_size, limit, row_bytes, max_bytes, items, count, more);
	for (int i = 0; i < rows; i++) {
		void *row;
		int rc = store_page_next(&pg, &row);
		if (rc != STORE_OK || row == NULL)
			return rc;
		rc = read(r, i, row);
		if (rc != STORE_OK)
			return rc;
		store_page_keep(&pg, row);
	}
	return STORE_OK;
}

int pg_get_row(struct store *st, const char *sql, const char *a, const char *b, pg_row_reader read,
               void *out)
{
	struct pg_params p = { 0 };
	PGresult *r = NULL;
	pg_text(&p, a);
	if (b != NULL)
		pg_text(&p, b);
	int rc = pg_query(st, sql, &p, true, &r);
	if (rc == STORE_OK)
		rc = read(r, 0, out);
	PQclear(r);
	return rc;
}
