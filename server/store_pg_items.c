/*
 * AES keys and token objects in PostgreSQL. The public functions of
 * store_items.c check the arguments and come here. See store_pg.h.
 */
#include "store_pg_priv.h"

#include <stdlib.h>
#include <string.h>

/* ---- keys ---------------------------------------------------------------- */

#define KEY_COLUMNS                                                                                \
	"id, group_id, softcard_id, size_bits, created, label, cka_id,"                            \
	" encrypt, decrypt, sign, verify, wrap, unwrap, derive"
#define KEY_FLAGS 7

static int read_key(const PGresult *r, int row, void *out)
{
	struct store_key *k = out;
	int64_t bits = 0, flag = 0;
	int rc = pg_col_text(r, row, 0, k->id, sizeof(k->id), NULL);
	if (rc == STORE_OK)
		rc = pg_col_text(r, row, 1, k->group_id, sizeof(k->group_id), NULL);
	if (rc == STORE_OK)
		rc = pg_col_text(r, row, 2, k->softcard_id, sizeof(k->softcard_id), NULL);
	if (rc == STORE_OK)
		rc = pg_col_int(r, row, 3, &bits);
	if (rc == STORE_OK && bits != 128 && bits != 192 && bits != 256)
		rc = STORE_ERR_DB;
	k->size_bits = (unsigned)bits;
	if (rc == STORE_OK)
		rc = pg_col_int(r, row, 4, &k->created);
	if (rc == STORE_OK)
		rc = pg_col_text(r, row, 5, k->label, sizeof(k->label), &k->label_len);
	k->has_cka_id = !pg_col_null(r, row, 6);
	if (rc == STORE_OK && k->has_cka_id)
		rc = pg_col_blob(r, row, 6, k->cka_id, sizeof(k->cka_id), &k->cka_id_len);
	bool *flags[KEY_FLAGS] = { &k->encrypt, &k->decrypt, &k->sign,  &k->verify,
		                   &k->wrap,    &k->unwrap,  &k->derive };
	for (int i = 0; rc == STORE_OK && i < KEY_FLAGS; i++) {
		rc = pg_col_int(r, row, 7 + i, &flag);
		*flags[i] = flag != 0;
	}
	return rc;
}

int store_pg_key_insert(struct store *st, struct store_key *k, const uint8_t *wrapped,
                        size_t wrapped_len)
{
	struct pg_params p = { 0 };
	k->created = store_now(st);
	pg_text(&p, k->id);
	pg_text(&p, k->group_id);
	pg_text(&p, k->softcard_id);
	pg_int(&p, k->size_bits);
	pg_int(&p, k->created);
	pg_blob(&p, k->label, k->label_len);
	pg_opt(&p, k->has_cka_id, k->cka_id, k->cka_id_len);
	const bool flags[KEY_FLAGS] = { k->encrypt, k->decrypt, k->sign,  k->verify,
		                        k->wrap,    k->unwrap,  k->derive };
	for (int i = 0; i < KEY_FLAGS; i++)
		pg_int(&p, flags[i] ? 1 : 0);
	pg_blob(&p, wrapped, wrapped_len);
	return pg_mutate(st,
	                 "INSERT INTO keys (" KEY_COLUMNS ", wrapped) VALUES ($1, $2, $3, $4, $5,"
	                 " $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
	                 &p, NULL);
}

int store_pg_key_get(struct store *st, const char *group_id, const char *key_id,
                     struct store_key *out, uint8_t *wrapped, size_t wrapped_cap,
                     size_t *wrapped_len)
{
	struct pg_params p = { 0 };
	PGresult *r = NULL;
	pg_text(&p, group_id);
	pg_text(&p, key_id);
	int rc = pg_query(st,
	                  "SELECT " KEY_COLUMNS ", wrapped FROM keys WHERE group_id = $1"
	                  " AND id = $2",
	                  &p, true, &r);
	if (rc == STORE_OK)
		rc = read_key(r, 0, out);
	if (rc == STORE_OK && wrapped != NULL) {
		if ((size_t)PQgetlength(r, 0, 14) > wrapped_cap)
			rc = STORE_ERR_ARG;
		else
			rc = pg_col_blob(r, 0, 14, wrapped, wrapped_cap, wrapped_len);
	}
	PQclear(r);
	if (rc != STORE_OK)
		memset(out, 0, sizeof(*out));
	return rc;
}

int store_pg_key_delete(struct store *st, const char *group_id, const char *key_id)
{
	struct pg_params p = { 0 };
	long affected = 0;
	pg_text(&p, group_id);
	pg_text(&p, key_id);
	int rc = pg_mutate(st, "DELETE FROM keys WHERE group_id = $1 AND id = $2", &p, &affected);
	return rc == STORE_OK && affected == 0 ? STORE_NOT_FOUND : rc;
}

int store_pg_key_page(struct store *st, const char *group_id, const char *after, size_t limit,
                      struct store_key **out, size_t *count, bool *more)
{
	const struct pg_page_spec spec = { sizeof(**out), read_key, limit, NULL, 0, NULL };
	struct pg_params p = { 0 };
	pg_text(&p, group_id);
	pg_text(&p, after != NULL ? after : "");
	pg_int(&p, (int64_t)limit + 1);
	return pg_page(st,
	               "SELECT " KEY_COLUMNS " FROM keys WHERE group_id = $1"
	               " AND id > $2 ORDER BY id LIMIT $3",
	               &p, &spec, (void **)out, count, more);
}

/* ---- objects --------------------------------------------------------------- */

#define OBJECT_COLUMNS STORE_OBJECT_COLUMNS("value")
/* OBJECT_COLUMNS with NULL for the value, then the value's length. */
#define OBJECT_COLUMNS_NO_VALUE STORE_OBJECT_COLUMNS("NULL::bytea") ", length(value)::bigint"
#define OBJECT_FIRST_ATTR       4
#define OBJECT_ATTRS            STORE_OBJECT_ATTRS

static int read_object(const PGresult *r, int row, void *out)
{
	struct store_object *o = out;
	struct store_attr *attrs[OBJECT_ATTRS];
	size_t max[OBJECT_ATTRS];
	int64_t cls = 0;
	memset(o, 0, sizeof(*o));
	int rc = pg_col_text(r, row, 0, o->id, sizeof(o->id), NULL);
	if (rc == STORE_OK)
		rc = pg_col_text(r, row, 1, o->softcard_id, sizeof(o->softcard_id), NULL);
	if (rc == STORE_OK)
		rc = pg_col_int(r, row, 2, &cls);
	if (rc == STORE_OK && cls != STORE_OBJECT_DATA && cls != STORE_OBJECT_CERTIFICATE)
		rc = STORE_ERR_DB;
	o->cls = (enum store_object_class)cls;
	if (rc == STORE_OK)
		rc = pg_col_int(r, row, 3, &o->created);
	store_object_attrs(o, attrs, max);
	for (int i = 0; rc == STORE_OK && i < OBJECT_ATTRS; i++)
		rc = pg_col_attr(r, row, OBJECT_FIRST_ATTR + i, max[i], attrs[i]);
	/* A page without values ends with the value's length instead. */
	const int len_col = OBJECT_FIRST_ATTR + OBJECT_ATTRS;
	if (rc == STORE_OK && PQnfields(r) > len_col && !pg_col_null(r, row, len_col)) {
		int64_t n = 0;
		rc = pg_col_int(r, row, len_col, &n);
		if (rc == STORE_OK && (n < 0 || n > STORE_VALUE_MAX))
			rc = STORE_ERR_DB;
		o->value_omitted = true;
		o->value_len = rc == STORE_OK ? (size_t)n : 0;
	}
	if (rc != STORE_OK)
		store_object_clear(o);
	return rc;
}

int store_pg_object_insert(struct store *st, struct store_object *o)
{
	struct store_attr *attrs[OBJECT_ATTRS];
	size_t max[OBJECT_ATTRS];
	struct pg_params p = { 0 };
	store_object_attrs(o, attrs, max);
	o->created = store_now(st);
	pg_text(&p, o->id);
	pg_text(&p, o->softcard_id);
	pg_int(&p, (int64_t)o->cls);
	pg_int(&p, o->created);
	for (int i = 0; i < OBJECT_ATTRS; i++)
		pg_opt(&p, attrs[i]->present, attrs[i]->data, attrs[i]->len);
	return pg_mutate(st,
	                 "INSERT INTO objects (" OBJECT_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6,"
	                 " $7, $8, $9, $10, $11, $12, $13, $14, $15)",
	                 &p, NULL);
}

int store_pg_object_get(struct store *st, const char *softcard_id, const char *object_id,
                        struct store_object *out)
{
	return pg_get_row(st,
	                  "SELECT " OBJECT_COLUMNS " FROM objects WHERE softcard_id = $1"
	                  " AND id = $2",
	                  softcard_id, object_id, read_object, out);
}

int store_pg_object_delete(struct store *st, const char *softcard_id, const char *object_id)
{
	struct pg_params p = { 0 };
	long affected = 0;
	pg_text(&p, softcard_id);
	pg_text(&p, object_id);
	int rc =
	    pg_mutate(st, "DELETE FROM objects WHERE softcard_id = $1 AND id = $2", &p, &affected);
	return rc == STORE_OK && affected == 0 ? STORE_NOT_FOUND : rc;
}

static size_t object_value_bytes(const void *row)
{
	return ((const struct store_object *)row)->value.len;
}

static void free_objects(void *items, size_t count)
{
	store_object_list_free(items, count);
}

int store_pg_object_page(struct store *st, const char *softcard_id, const char *after, size_t limit,
                         bool with_values, size_t max_value_bytes, struct store_object **out,
                         size_t *count, bool *more)
{
	const struct pg_page_spec spec = { sizeof(**out),   read_object,
		                           limit,           with_values ? object_value_bytes : NULL,
		                           max_value_bytes, free_objects };
	struct pg_params p = { 0 };
	pg_text(&p, softcard_id);
	pg_text(&p, after != NULL ? after : "");
	pg_int(&p, (int64_t)limit + 1);
	return pg_page(st,
	               with_values ? "SELECT " OBJECT_COLUMNS " FROM objects"
	                             " WHERE softcard_id = $1 AND id > $2"
	                             " ORDER BY id LIMIT $3"
	                           : "SELECT " OBJECT_COLUMNS_NO_VALUE " FROM objects"
	                             " WHERE softcard_id = $1 AND id > $2"
	                             " ORDER BY id LIMIT $3",
	               &p, &spec, (void **)out, count, more);
}
