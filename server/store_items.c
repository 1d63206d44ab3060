/*
 * AES keys and token objects (data, certificates) in the store. See
 * store.h.
 */
#include "store_priv.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Fills id with a new uuid when empty, else checks its shape. */
static int take_uuid(char id[STORE_UUID_LEN + 1])
{
	if (id[0] == '\0')
		return store_new_uuid(id);
	return store_is_uuid(id) ? STORE_OK : STORE_ERR_ARG;
}

/* ---- keys ---------------------------------------------------------------- */

#define KEY_COLUMNS                                                                                \
	"id, group_id, softcard_id, size_bits, created, label, cka_id,"                            \
	" encrypt, decrypt, sign, verify, wrap, unwrap, derive"

static int read_key(sqlite3_stmt *stmt, void *row)
{
	struct store_key *k = row;
	int rc = store_col_text(stmt, 0, k->id, sizeof(k->id), NULL);
	if (rc == STORE_OK)
		rc = store_col_text(stmt, 1, k->group_id, sizeof(k->group_id), NULL);
	if (rc == STORE_OK)
		rc = store_col_text(stmt, 2, k->softcard_id, sizeof(k->softcard_id), NULL);
	if (rc != STORE_OK)
		return rc;
	k->size_bits = (unsigned)sqlite3_column_int(stmt, 3);
	k->created = sqlite3_column_int64(stmt, 4);
	rc = store_col_text(stmt, 5, k->label, sizeof(k->label), &k->label_len);
	if (rc != STORE_OK)
		return rc;
	k->has_cka_id = sqlite3_column_type(stmt, 6) != SQLITE_NULL;
	if (k->has_cka_id)
		rc = store_col_blob(stmt, 6, k->cka_id, sizeof(k->cka_id), &k->cka_id_len);
	bool *flags[] = { &k->encrypt, &k->decrypt, &k->sign,  &k->verify,
		          &k->wrap,    &k->unwrap,  &k->derive };
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		*flags[i] = sqlite3_column_int(stmt, 7 + (int)i) != 0;
	return rc;
}

static bool key_ok(const struct store_key *k)
{
	return (k->size_bits == 128 || k->size_bits == 192 || k->size_bits == 256) &&
	       k->label_len <= STORE_LABEL_MAX && k->cka_id_len <= STORE_ID_ATTR_MAX &&
	       store_is_uuid(k->group_id) && store_is_softcard_id(k->softcard_id);
}

int store_key_insert(struct store *st, struct store_key *k, const uint8_t *wrapped,
                     size_t wrapped_len)
{
	if (st == NULL || k == NULL || wrapped == NULL || wrapped_len == 0 ||
	    wrapped_len > STORE_WRAPPED_MAX || !key_ok(k))
		return STORE_ERR_ARG;
	int rc = take_uuid(k->id);
	if (rc != STORE_OK)
		return rc;
	if (st->pg != NULL)
		return store_pg_key_insert(st, k, wrapped, wrapped_len);
	sqlite3_stmt *stmt = NULL;
	store_lock(st);
	k->created = store_now(st);
	rc = store_prepare(st,
	                   "INSERT INTO keys (" KEY_COLUMNS ", wrapped) VALUES (?1, ?2, ?3, ?4, ?5,"
	                   " ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
	                   &stmt);
	if (rc == STORE_OK)
		rc = store_bind_text(stmt, 1, k->id);
	if (rc == STORE_OK)
		rc = store_bind_text(stmt, 2, k->group_id);
	if (rc == STORE_OK)
		rc = store_bind_text(stmt, 3, k->softcard_id);
	if (rc == STORE_OK)
		rc = store_bind_int(stmt, 4, k->size_bits);
	if (rc == STORE_OK)
		rc = store_bind_int(stmt, 5, k->created);
	if (rc == STORE_OK)
		rc = store_bind_blob(stmt, 6, k->label, k->label_len);
	if (rc == STORE_OK)
		rc = store_bind_opt(stmt, 7, k->has_cka_id, k->cka_id, k->cka_id_len);
	const bool flags[] = { k->encrypt, k->decrypt, k->sign,  k->verify,
		               k->wrap,    k->unwrap,  k->derive };
	for (size_t i = 0; rc == STORE_OK && i < sizeof(flags) / sizeof(flags[0]); i++)
		rc = store_bind_int(stmt, 8 + (int)i, flags[i] ? 1 : 0);
	if (rc == STORE_OK)
		rc = store_bind_blob(stmt, 15, wrapped, wrapped_len);
	if (rc == STORE_OK)
		rc = store_step_done(stmt);
	sqlite3_finalize(stmt);
	store_unlock(st);
	return rc;
}

int store_key_get(struct store *st, const char *group_id, const char *key_id, struct store_key *out,
                  uint8_t *wrapped, size_t wrapped_cap, size_t *wrapped_len)
{
	if (st == NULL || group_id == NULL || key_id == NULL || out == NULL ||
	    (wrapped != NULL && wrapped_len == NULL))
		return STORE_ERR_ARG;
	memset(out, 0, sizeof(*out));
	if (wrapped_len != NULL)
		*wrapped_len = 0;
	if (!store_is_uuid(group_id) || !store_is_uuid(key_id))
		return STORE_NOT_FOUND;
	if (st->pg != NULL)
		return store_pg_key_get(st, group_id, key_id, out, wrapped, wrapped_cap,
		                        wrapped_len);
	sqlite3_stmt *stmt = NULL;
	store_lock(st);
	int rc = store_prepare_texts(st, &stmt,
	                             "SELECT " KEY_COLUMNS ", wrapped FROM keys"
	                             " WHERE group_id = ?1 AND id = ?2",
	                             group_id, key_id, NULL);
	if (rc == STORE_OK)
		rc = store_step_row(st, stmt);
	if (rc == STORE_OK)
		rc = read_key(stmt, out);
	if (rc == STORE_OK && wrapped != NULL) {
		if ((size_t)sqlite3_column_bytes(stmt, 14) > wrapped_cap)
			rc = STORE_ERR_ARG;
		else
			rc = store_col_blob(stmt, 14, wrapped, wrapped_cap, wrapped_len);
	}
	sqlite3_finalize(stmt);
	store_unlock(st);
	if (rc != STORE_OK)
		memset(out, 0, sizeof(*out));
	return rc;
}

int store_key_page(struct store *st, const char *group_id, const char *after, size_t limit,
                   struct store_key **out, size_t *count, bool *more)
{
	if (st == NULL || group_id == NULL || out == NULL || count == NULL || more == NULL ||
	    !store_page_args_ok(after, limit))
		return STORE_ERR_ARG;
	*out = NULL;
	*count = 0;
	*more = false;
	if (!store_is_uuid(group_id))
		return STORE_OK;
	if (st->pg != NULL)
		return store_pg_key_page(st, group_id, after, limit, out, count, more);
	const struct store_page_query q = {
		.sql = "SELECT " KEY_COLUMNS " FROM keys WHERE group_id = ?1"
		       " AND id > ?2 ORDER BY id LIMIT ?3",
		.key = group_id,
		.elem_size = sizeof(**out),
		.read = read_key,
	};
	return store_run_page(st, &q, after, limit, (void **)out, count, more);
}

/* Runs a fixed two-parameter DELETE; STORE_NOT_FOUND when no row went. */
static int delete_pair(struct store *st, const char *sql, const char *a, const char *b)
{
	store_lock(st);
	int rc = store_delete_texts(st, sql, a, b, NULL);
	store_unlock(st);
	return rc;
}

int store_key_delete(struct store *st, const char *group_id, const char *key_id)
{
	if (st == NULL || group_id == NULL || key_id == NULL)
		return STORE_ERR_ARG;
	if (!store_is_uuid(group_id) || !store_is_uuid(key_id))
		return STORE_NOT_FOUND;
	if (st->pg != NULL)
		return store_pg_key_delete(st, group_id, key_id);
	return delete_pair(st, "DELETE FROM keys WHERE group_id = ?1 AND id = ?2", group_id,
	                   key_id);
}

/* ---- objects ------------------------------------------------------------------ */

#define OBJECT_COLUMNS    STORE_OBJECT_COLUMNS("value")
#define OBJECT_FIRST_ATTR 4
#define OBJECT_ATTRS      STORE_OBJECT_ATTRS

void store_object_attrs(const struct store_object *co, struct store_attr *attrs[STORE_OBJECT_ATTRS],
                        size_t max[STORE_OBJECT_ATTRS])
{
	/* Like strchr: the caller knows whether the object is its own. */
	struct store_object *o = (struct store_object *)co;
	struct store_attr *a[OBJECT_ATTRS] = {
		&o->certificate_type, &o->label,      &o->cka_id,   &o->application,
		&o->object_id,        &o->value,      &o->subject,  &o->issuer,
		&o->serial_number,    &o->start_date, &o->end_date,
	};
	const size_t m[OBJECT_ATTRS] = {
		STORE_CERT_TYPE_MAX, STORE_LABEL_MAX, STORE_ID_ATTR_MAX, STORE_LABEL_MAX,
		STORE_ID_ATTR_MAX,   STORE_VALUE_MAX, STORE_DN_MAX,      STORE_DN_MAX,
		STORE_ID_ATTR_MAX,   STORE_DATE_LEN,  STORE_DATE_LEN,
	};
	memcpy(attrs, a, sizeof(a));
	memcpy(max, m, sizeof(m));
}

static int read_attr(sqlite3_stmt *stmt, int col, size_t max, struct store_attr *a)
{
	a->present = sqlite3_column_type(stmt, col) != SQLITE_NULL;
	a->data = NULL;
	a->len = 0;
	if (!a->present)
		return STORE_OK;
	const void *p = sqlite3_column_blob(stmt, col);
	int n = sqlite3_column_bytes(stmt, col);
	if (n < 0)
		return STORE_ERR_DB;
	return store_attr_set(a, p, (size_t)n, max);
}

int store_attr_set(struct store_attr *a, const void *p, size_t n, size_t max)
{
	if (n > max)
		return STORE_ERR_DB;
	/* One byte more for the NUL that makes text attributes C strings. */
	a->data = malloc(n + 1);
	if (a->data == NULL)
		return STORE_ERR_NOMEM;
	if (n > 0)
		memcpy(a->data, p, n);
	a->data[n] = '\0';
	a->len = n;
	return STORE_OK;
}

static int read_object(sqlite3_stmt *stmt, void *row)
{
	struct store_object *o = row;
	struct store_attr *attrs[OBJECT_ATTRS];
	size_t max[OBJECT_ATTRS];
	memset(o, 0, sizeof(*o));
	int rc = store_col_text(stmt, 0, o->id, sizeof(o->id), NULL);
	if (rc == STORE_OK)
		rc = store_col_text(stmt, 1, o->softcard_id, sizeof(o->softcard_id), NULL);
	if (rc != STORE_OK)
		return rc;
	o->cls = (enum store_object_class)sqlite3_column_int(stmt, 2);
	o->created = sqlite3_column_int64(stmt, 3);
	store_object_attrs(o, attrs, max);
	for (int i = 0; rc == STORE_OK && i < OBJECT_ATTRS; i++)
		rc = read_attr(stmt, OBJECT_FIRST_ATTR + i, max[i], attrs[i]);
	/* A page without values ends with the value's length instead. */
	const int len_col = OBJECT_FIRST_ATTR + OBJECT_ATTRS;
	if (rc == STORE_OK && sqlite3_column_count(stmt) > len_col &&
	    sqlite3_column_type(stmt, len_col) != SQLITE_NULL) {
		int64_t n = sqlite3_column_int64(stmt, len_col);
		if (n < 0 || n > STORE_VALUE_MAX)
			rc = STORE_ERR_DB;
		o->value_omitted = true;
		o->value_len = (size_t)n;
	}
	if (rc != STORE_OK)
		store_object_clear(o);
	return rc;
}

static bool object_ok(struct store_object *o)
{
	struct store_attr *attrs[OBJECT_ATTRS];
	size_t max[OBJECT_ATTRS];
	if (o->cls != STORE_OBJECT_DATA && o->cls != STORE_OBJECT_CERTIFICATE)
		return false;
	store_object_attrs(o, attrs, max);
	for (int i = 0; i < OBJECT_ATTRS; i++) {
		const struct store_attr *a = attrs[i];
		if (a->present && (a->len > max[i] || (a->len > 0 && a->data == NULL)))
			return false;
	}
	return true;
}

int store_object_insert(struct store *st, struct store_object *o)
{
	if (st == NULL || o == NULL || !object_ok(o))
		return STORE_ERR_ARG;
	if (!store_is_softcard_id(o->softcard_id))
		return STORE_NOT_FOUND;
	int rc = take_uuid(o->id);
	if (rc != STORE_OK)
		return rc;
	if (st->pg != NULL)
		return store_pg_object_insert(st, o);
	struct store_attr *attrs[OBJECT_ATTRS];
	size_t max[OBJECT_ATTRS];
	store_object_attrs(o, attrs, max);
	sqlite3_stmt *stmt = NULL;
	store_lock(st);
	o->created = store_now(st);
	rc =
	    store_prepare(st,
	                  "INSERT INTO objects (" OBJECT_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
	                  " ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
	                  &stmt);
	if (rc == STORE_OK)
		rc = store_bind_text(stmt, 1, o->id);
	if (rc == STORE_OK)
		rc = store_bind_text(stmt, 2, o->softcard_id);
	if (rc == STORE_OK)
		rc = store_bind_int(stmt, 3, (int64_t)o->cls);
	if (rc == STORE_OK)
		rc = store_bind_int(stmt, 4, o->created);
	for (int i = 0; rc == STORE_OK && i < OBJECT_ATTRS; i++)
		rc = store_bind_opt(stmt, OBJECT_FIRST_ATTR + 1 + i, attrs[i]->present,
		                    attrs[i]->data, attrs[i]->len);
	if (rc == STORE_OK)
		rc = store_step_done(stmt);
	sqlite3_finalize(stmt);
	store_unlock(st);
	return rc;
}

int store_object_get(struct store *st, const char *softcard_id, const char *object_id,
                     struct store_object *out)
{
	if (st == NULL || softcard_id == NULL || object_id == NULL || out == NULL)
		return STORE_ERR_ARG;
	memset(out, 0, sizeof(*out));
	if (!store_is_softcard_id(softcard_id) || !store_is_uuid(object_id))
		return STORE_NOT_FOUND;
	if (st->pg != NULL)
		return store_pg_object_get(st, softcard_id, object_id, out);
	return store_get_row(st,
	                     "SELECT " OBJECT_COLUMNS " FROM objects"
	                     " WHERE softcard_id = ?1 AND id = ?2",
	                     softcard_id, object_id, read_object, out);
}

/* OBJECT_COLUMNS with NULL for the value, then the value's length. */
#define OBJECT_COLUMNS_NO_VALUE STORE_OBJECT_COLUMNS("NULL") ", length(value)"

static size_t object_value_bytes(const void *row)
{
	return ((const struct store_object *)row)->value.len;
}

static void free_object_rows(void *items, size_t count)
{
	store_object_list_free(items, count);
}

int store_object_page(struct store *st, const char *softcard_id, const char *after, size_t limit,
                      bool with_values, size_t max_value_bytes, struct store_object **out,
                      size_t *count, bool *more)
{
	if (st == NULL || softcard_id == NULL || out == NULL || count == NULL || more == NULL ||
	    !store_page_args_ok(after, limit))
		return STORE_ERR_ARG;
	*out = NULL;
	*count = 0;
	*more = false;
	if (!store_is_softcard_id(softcard_id))
		return STORE_OK;
	if (st->pg != NULL)
		return store_pg_object_page(st, softcard_id, after, limit, with_values,
		                            max_value_bytes, out, count, more);
	const struct store_page_query q = {
		.sql = with_values ? "SELECT " OBJECT_COLUMNS " FROM objects"
		                     " WHERE softcard_id = ?1 AND id > ?2"
		                     " ORDER BY id LIMIT ?3"
		                   : "SELECT " OBJECT_COLUMNS_NO_VALUE " FROM objects"
		                     " WHERE softcard_id = ?1 AND id > ?2"
		                     " ORDER BY id LIMIT ?3",
		.key = softcard_id,
		.elem_size = sizeof(**out),
		.read = read_object,
		.row_bytes = with_values ? object_value_bytes : NULL,
		.max_bytes = max_value_bytes,
		.free_list = free_object_rows,
	};
	return store_run_page(st, &q, after, limit, (void **)out, count, more);
}

int store_object_delete(struct store *st, const char *softcard_id, const char *object_id)
{
	if (st == NULL || softcard_id == NULL || object_id == NULL)
		return STORE_ERR_ARG;
	if (!store_is_softcard_id(softcard_id) || !store_is_uuid(object_id))
		return STORE_NOT_FOUND;
	if (st->pg != NULL)
		return store_pg_object_delete(st, softcard_id, object_id);
	return delete_pair(st, "DELETE FROM objects WHERE softcard_id = ?1 AND id = ?2",
	                   softcard_id, object_id);
}

void store_object_clear(struct store_object *o)
{
	struct store_attr *attrs[OBJECT_ATTRS];
	size_t max[OBJECT_ATTRS];
	if (o == NULL)
		return;
	store_object_attrs(o, attrs, max);
	for (int i = 0; i < OBJECT_ATTRS; i++) {
		free(attrs[i]->data);
		attrs[i]->data = NULL;
		attrs[i]->len = 0;
		attrs[i]->present = false;
	}
}

void store_object_list_free(struct store_object *list, size_t count)
{
	if (list == NULL)
		return;
	for (size_t i = 0; i < count; i++)
		store_object_clear(&list[i]);
	free(list);
}
