/*
 * The PostgreSQL back end of the store (store.h), internal to the store:
 * store.c hands a connection string to store_pg_open, and every public
 * store function, once it has checked its arguments, hands a store whose
 * pg is set to its store_pg_ twin here. Callers of store.h never see the
 * difference.
 *
 * Source files (all to be listed in server/meson.build):
 *   store_pg.c        connections, schema, transactions, error mapping
 *   store_pg_exec.c   parameters, statements, units of work, columns
 *   store_pg_cards.c  softcards and groups
 *   store_pg_items.c  keys and objects
 *   store_pg_idem.c   idempotency records and revoked activations
 *
 * Contract:
 *  - Any number of wsopd processes may share one database. Every
 *    invariant the SQLite store keeps under its one writer is kept here by
 *    a constraint or a row lock, so READ COMMITTED transactions suffice:
 *    a unique name is a UNIQUE constraint, a key's group and softcard are
 *    foreign keys, an idempotency record is a primary key that a second
 *    node racing the same request collides with (and its transaction,
 *    mutation included, is then rolled back).
 *  - Threads: a small pool of connections. store_begin binds one to the
 *    calling thread until store_commit/store_rollback; other calls borrow
 *    one for the call. A connection found broken is reset before use.
 *  - Inside a transaction each mutation runs under a savepoint, so that an
 *    expected failure (a name taken, a parent gone) leaves the handler's
 *    transaction usable, as with SQLite. Outside one, a mutation is its own
 *    transaction, retried when PostgreSQL reports a serialization failure
 *    or a deadlock (nothing was committed then).
 *  - Every column read is length-checked against the store's bounds
 *    (STORE_ERR_DB when over), as the SQLite back end does.
 *  - The connection string may hold a password: it is never logged; only
 *    store_pg_describe's host and database name are.
 */
#ifndef PKCS11WSOP_SERVER_STORE_PG_H
#define PKCS11WSOP_SERVER_STORE_PG_H

#include "store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_PG_SCHEMA_VERSION 2
/* Connections per wsopd process. */
#define STORE_PG_POOL 8

/* True when text is a PostgreSQL connection string rather than a folder:
 * a postgresql:// or postgres:// URI, or a keyword=value string naming
 * host=, hostaddr=, dbname=, user=, port= or service=. */
bool store_pg_is_conninfo(const char *text);

/* "host H, database D" of a connection string, without anything else (no
 * password), for logs. */
void store_pg_describe(const char *conninfo, char *out, size_t cap);

int store_pg_open(const char *conninfo, struct store **out);
void store_pg_close(struct store *st);

int store_pg_begin(struct store *st);
int store_pg_commit(struct store *st);
void store_pg_rollback(struct store *st);

int store_pg_master_check(struct store *st, const uint8_t check[STORE_MASTER_CHECK_LEN]);

int store_pg_softcard_create(struct store *st, struct store_softcard *sc);
int store_pg_softcard_get(struct store *st, const char *id, struct store_softcard *out);
int store_pg_softcard_list(struct store *st, struct store_softcard **out, size_t *count);
int store_pg_softcard_delete(struct store *st, const char *id);
int store_pg_softcard_login_outcome(struct store *st, const char *id, bool right, int64_t now,
                                    int64_t *failures);

int store_pg_group_create(struct store *st, struct store_group *g);
int store_pg_group_get(struct store *st, const char *id, struct store_group *out);
int store_pg_group_page(struct store *st, const char *softcard_id, const char *after, size_t limit,
                        struct store_group **out, size_t *count, bool *more);

int store_pg_key_insert(struct store *st, struct store_key *k, const uint8_t *wrapped,
                        size_t wrapped_len);
int store_pg_key_get(struct store *st, const char *group_id, const char *key_id,
                     struct store_key *out, uint8_t *wrapped, size_t wrapped_cap,
                     size_t *wrapped_len);
int store_pg_key_delete(struct store *st, const char *group_id, const char *key_id);
int store_pg_key_page(struct store *st, const char *group_id, const char *after, size_t limit,
                      struct store_key **out, size_t *count, bool *more);

int store_pg_object_insert(struct store *st, struct store_object *o);
int store_pg_object_get(struct store *st, const char *softcard_id, const char *object_id,
                        struct store_object *out);
int store_pg_object_delete(struct store *st, const char *softcard_id, const char *object_id);
int store_pg_object_page(struct store *st, const char *softcard_id, const char *after, size_t limit,
                         bool with_values, size_t max_value_bytes, struct store_object **out,
                         size_t *count, bool *more);

int store_pg_idem_lookup(struct store *st, const uint8_t client_fp[STORE_CLIENT_FP_LEN],
                         const char *key, const char *method, const char *path,
                         struct store_idem_answer *out);
int store_pg_idem_record(struct store *st, const uint8_t client_fp[STORE_CLIENT_FP_LEN],
                         const char *key, const char *method, const char *path, int status,
                         const uint8_t *body, size_t body_len);
int store_pg_idem_purge(struct store *st);

int store_pg_revoked_add(struct store *st, const uint8_t id[STORE_ACTIVATION_ID_LEN],
                         int64_t expires);
int store_pg_revoked_check(struct store *st, const uint8_t id[STORE_ACTIVATION_ID_LEN]);

#endif
