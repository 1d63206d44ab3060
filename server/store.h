/*
 * wsopd's persistent store: softcards, key groups, wrapped AES keys, data
 * and certificate objects, and idempotency records. Two back ends behind
 * this one interface: SQLite in a folder (<store>/wsopd.db,
 * journal_mode=WAL, synchronous=NORMAL plus a group fdatasync of the WAL
 * before every answer (store_sync.h), foreign keys on), the embedded
 * default for one server; or PostgreSQL (store_pg.h), which any number of
 * wsopd processes share. Callers never know which.
 *
 * Source files (all to be listed in server/meson.build):
 *   store.c        open/close, schema, transactions, ids
 *   store_sql.c    SQLite helpers shared by the others
 *   store_cards.c  softcards and groups
 *   store_items.c  keys and objects
 *   idem.c         idempotency records
 *   store_revoked.c revoked activations
 *   store_sync.c   group commit: the shared fdatasync of the WAL
 *   store_priv.h   internal header shared by them (not for callers)
 *   store_pg*.c    the PostgreSQL back end (store_pg.h)
 *
 * Contract:
 *  - Functions return STORE_OK (0), a positive "answer" result
 *    (STORE_NOT_FOUND, STORE_NOT_EMPTY, STORE_EXISTS, STORE_IDEM_CONFLICT)
 *    or a negative error (STORE_ERR_*). Answers map to HTTP answers;
 *    errors are 500 internal (or a caller bug for STORE_ERR_ARG).
 *  - Thread safety: one SQLite connection guarded by one recursive mutex
 *    (PostgreSQL: a pool of connections, one bound to each open
 *    transaction; see store_pg.h).
 *    Every function may be called from any thread. store_begin() takes the
 *    mutex and keeps it until store_commit()/store_rollback() on the same
 *    thread, so a handler's begin..commit block is atomic with respect to
 *    every other worker (and other workers wait). Keep those blocks short:
 *    no network I/O inside them.
 *  - Atomic "mutation + idempotent answer": a mutating handler does
 *        store_begin(st);
 *        r = store_idem_lookup(...);          // replay or conflict? answer, rollback
 *        r = store_softcard_create(...);      // or any mutation(s)
 *        r = store_idem_record(...);          // the answer it is about to send
 *        store_commit(st);                    // returns once on disk (store_sync.h)
 *    so a kill -9 at any point leaves either both or neither. Every mutation
 *    function also works outside begin/commit (then it is its own
 *    transaction).
 *  - Ids: softcards are 40 lower-case hex digits (RAND_bytes(20)); groups,
 *    keys and objects are uuid v4 text (36 characters, lower case). Every
 *    insert/create takes the id from the struct; when that id is the empty
 *    string the store generates one and writes it back. (Keys need their id
 *    before insertion to wrap the key value: use store_new_uuid.)
 *  - `created` is filled by the store from its clock (time(NULL) unless
 *    store_set_clock was called) on every create/insert.
 *  - Lengths are checked against the limits of ipc/README.md
 *    (STORE_ERR_ARG when over); SQL uses bound parameters only.
 *  - An id of the wrong shape passed to get/delete/list (e.g. straight from
 *    a URL) is answered STORE_NOT_FOUND (or an empty list), never an error;
 *    a malformed id given for an insert is STORE_ERR_ARG.
 *  - Pages (store_group_page, store_key_page, store_object_page) are in id order: the rows
 *    whose id is greater than `after` (NULL or "" for the first page; an
 *    id that no longer exists is fine), at most `limit` (>= 1) of them,
 *    and *more says whether rows follow. Keyset paging: a row inserted or
 *    deleted meanwhile never shifts another page.
 *  - The list of softcards is in creation order. Lists and pages
 *    return a malloc'd array (NULL when empty) that the caller frees with
 *    free(), or with store_object_list_free for objects (they own heap
 *    fields).
 *  - The store never logs secrets; it does not see any except the wrapped
 *    (encrypted) key values.
 */
#ifndef PKCS11WSOP_SERVER_STORE_H
#define PKCS11WSOP_SERVER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_DB_FILE           "wsopd.db"
#define STORE_SCHEMA_VERSION    3
#define STORE_SOFTCARD_ID_LEN   40
#define STORE_UUID_LEN          36
#define STORE_NAME_MAX          64
#define STORE_SALT_LEN          16
#define STORE_VERIFIER_MAX      128
#define STORE_WRAPPED_MAX       128
#define STORE_LABEL_MAX         256  /* label, application */
#define STORE_ID_ATTR_MAX       256  /* CKA_ID, object id, serial number */
#define STORE_DN_MAX            4096 /* subject, issuer */
#define STORE_VALUE_MAX         65536
#define STORE_DATE_LEN          8  /* CK_DATE text YYYYMMDD */
#define STORE_CERT_TYPE_MAX     16 /* "x509" */
#define STORE_IDEM_KEY_MAX      64
#define STORE_IDEM_METHOD_MAX   15
#define STORE_IDEM_PATH_MAX     1024
#define STORE_IDEM_BODY_MAX     (1u << 20)
#define STORE_IDEM_TTL          600 /* seconds an idempotent answer is replayed */
#define STORE_CLIENT_FP_LEN     32  /* SHA-256 of the client certificate DER */
#define STORE_ACTIVATION_ID_LEN 16  /* random id of one activation */
#define STORE_MASTER_CHECK_LEN  32  /* check value of the master key */

enum store_result {
	STORE_OK = 0,
	STORE_NOT_FOUND = 1,     /* no such row (or parent row for an insert) */
	STORE_NOT_EMPTY = 2,     /* softcard still has keys or objects -> 409 */
	STORE_EXISTS = 3,        /* id already used / idempotency key already recorded */
	STORE_IDEM_CONFLICT = 4, /* idempotency key used with another method/path -> 422 */
	STORE_NAME_TAKEN = 5,    /* another softcard already has that name -> 409 */
	STORE_ERR_ARG = -1,      /* NULL, bad id shape, over a length limit */
	STORE_ERR_NOMEM = -2,
	STORE_ERR_DB = -3,      /* SQLite failure (I/O, corruption, ...) */
	STORE_ERR_BUSY = -4,    /* locked by another process past busy_timeout */
	STORE_ERR_VERSION = -5, /* database schema newer than this program */
	STORE_ERR_TXN = -6,     /* begin inside a transaction, commit without one */
	STORE_ERR_MASTER = -7,  /* a shared store made with another master key */
};

struct store;

struct store_softcard {
	char id[STORE_SOFTCARD_ID_LEN + 1];
	char name[STORE_NAME_MAX + 1];
	int64_t created;
	uint8_t salt[STORE_SALT_LEN];
	uint8_t verifier[STORE_VERIFIER_MAX];
	size_t verifier_len; /* 1..STORE_VERIFIER_MAX */
	/* Wrong passphrases since the last right one, and the time of the
	 * last wrong one (0: none). Kept by store_softcard_login_outcome. */
	int64_t login_failures;
	int64_t last_failure;
};

struct store_group {
	char id[STORE_UUID_LEN + 1];
	char name[STORE_NAME_MAX + 1];
	char softcard_id[STORE_SOFTCARD_ID_LEN + 1];
	int64_t created;
};

/* An AES key's row without its wrapped value (which is passed separately
 * so that lists never carry it). */
struct store_key {
	char id[STORE_UUID_LEN + 1];
	char group_id[STORE_UUID_LEN + 1];
	char softcard_id[STORE_SOFTCARD_ID_LEN + 1]; /* must be the group's softcard */
	unsigned size_bits;                          /* 128, 192 or 256 */
	int64_t created;
	char label[STORE_LABEL_MAX + 1]; /* NUL-terminated; label_len excludes the NUL */
	size_t label_len;
	bool has_cka_id; /* false: CKA_ID not given */
	uint8_t cka_id[STORE_ID_ATTR_MAX];
	size_t cka_id_len;
	bool encrypt, decrypt, sign, verify, wrap, unwrap, derive;
};

enum store_object_class {
	STORE_OBJECT_DATA = 1,
	STORE_OBJECT_CERTIFICATE = 2,
};

/* One optional attribute. present=false means "not given" (stored as SQL
 * NULL); present=true with len 0 is an empty value. On input the store only
 * reads data (may be NULL when len is 0). On output (get/list) data is
 * malloc'd with a NUL after the last byte (so text attributes are C
 * strings), or NULL when not present; free with store_object_clear. */
struct store_attr {
	bool present;
	uint8_t *data;
	size_t len;
};

struct store_object {
	char id[STORE_UUID_LEN + 1];
	char softcard_id[STORE_SOFTCARD_ID_LEN + 1];
	enum store_object_class cls;
	int64_t created;
	/* both classes */
	struct store_attr label;  /* text, <= 256 */
	struct store_attr cka_id; /* binary, <= 256 */
	struct store_attr value;  /* binary, <= 65536 */
	/* data objects */
	struct store_attr application; /* text, <= 256 */
	struct store_attr object_id;   /* binary (DER OID), <= 256 */
	/* certificates */
	struct store_attr certificate_type; /* text, "x509", <= 16 */
	struct store_attr subject;          /* binary, <= 4096 */
	struct store_attr issuer;           /* binary, <= 4096 */
	struct store_attr serial_number;    /* binary, <= 256 */
	struct store_attr start_date;       /* text, 0 or 8 bytes */
	struct store_attr end_date;         /* text, 0 or 8 bytes */
	/* A page without values: value.present is false and these say
	 * whether there is one and its length. */
	bool value_omitted;
	size_t value_len;
};

/* The attributes of o in column order, which is the wire order of an
 * object's "attributes" (ipc/object_attrs.h: certificate_type, label,
 * cka_id, application, object_id, value, subject, issuer, serial_number,
 * start_date, end_date), with their length bounds. The pointers are into
 * o; the caller writes through them only when o is its own. */
#define STORE_OBJECT_ATTRS 11
void store_object_attrs(const struct store_object *o, struct store_attr *attrs[STORE_OBJECT_ATTRS],
                        size_t max[STORE_OBJECT_ATTRS]);

/* An idempotent answer as recorded. body is malloc'd (NULL when empty),
 * freed by store_idem_answer_clear. */
struct store_idem_answer {
	int status;
	uint8_t *body;
	size_t body_len;
	int64_t created;
};

/* ---- lifetime ---------------------------------------------------------- */

/* Opens (creating 0600 when absent) <dir>/wsopd.db, sets WAL, FULL,
 * foreign keys, busy_timeout, and creates or upgrades the schema. dir must
 * exist. When dir is a PostgreSQL connection string instead
 * (store_pg_is_conninfo: a postgresql:// or postgres:// URI, or
 * keyword=value pairs such as "host=... dbname=..."), opens that database
 * and creates or upgrades its schema, one node at a time. */
int store_open(const char *dir, struct store **out);
void store_close(struct store *st);

/* True when location is a PostgreSQL connection string (see store_open). */
bool store_is_shared(const char *location);
/* For logs: "folder DIR", or the PostgreSQL host, port and database
 * (never the connection string, which may hold a password). */
void store_describe(const char *location, char *out, size_t cap);

/* A shared store remembers the check value of the master key of the first
 * node that used it and refuses another (STORE_ERR_MASTER): a node given
 * the wrong master key file would otherwise make softcards the others
 * cannot open. A folder store answers STORE_OK (its master key lives
 * beside it). */
int store_master_check(struct store *st, const uint8_t check[STORE_MASTER_CHECK_LEN]);

/* Replaces the clock (seconds since the epoch) used for `created` and for
 * idempotency expiry; fn NULL restores time(NULL). For tests. */
void store_set_clock(struct store *st, int64_t (*fn)(void *arg), void *arg);
int64_t store_now(struct store *st);

/* ---- transactions -------------------------------------------------------- */

/* BEGIN IMMEDIATE, holding the store mutex until commit/rollback on the
 * same thread. Not nestable: STORE_ERR_TXN inside a transaction. */
int store_begin(struct store *st);
/* COMMIT and release. On failure the transaction is rolled back, the mutex
 * released, and the error returned. */
int store_commit(struct store *st);
/* ROLLBACK (best effort) and release. Call exactly one of store_commit or
 * store_rollback per successful store_begin (a failed commit has already
 * rolled back and released). */
void store_rollback(struct store *st);

/* ---- ids ------------------------------------------------------------------- */

int store_new_softcard_id(char out[STORE_SOFTCARD_ID_LEN + 1]);
int store_new_uuid(char out[STORE_UUID_LEN + 1]);
bool store_is_softcard_id(const char *s);
bool store_is_uuid(const char *s);

/* ---- softcards ------------------------------------------------------------- */

/* Inserts sc (id, name, salt, verifier); fills sc->id if empty and
 * sc->created. STORE_EXISTS when the id is taken, STORE_NAME_TAKEN when
 * another softcard has the name (the name is the token label, which
 * clients select tokens by). */
int store_softcard_create(struct store *st, struct store_softcard *sc);
int store_softcard_get(struct store *st, const char *id, struct store_softcard *out);
int store_softcard_list(struct store *st, struct store_softcard **out, size_t *count);
/* Records the outcome of a passphrase check: a wrong one adds one to the
 * softcard's run of failures and stamps last_failure with `now`; a right
 * one ends the run (no write when there was none). *failures (may be
 * NULL) gets the run's length after the update. STORE_NOT_FOUND when the
 * softcard is gone. */
int store_softcard_login_outcome(struct store *st, const char *id, bool right, int64_t now,
                                 int64_t *failures);
/* STORE_NOT_FOUND, STORE_NOT_EMPTY while any key or object belongs to it;
 * its (empty) groups are deleted with it. */
int store_softcard_delete(struct store *st, const char *id);

/* ---- groups ---------------------------------------------------------------- */

/* STORE_NOT_FOUND when g->softcard_id does not exist. */
int store_group_create(struct store *st, struct store_group *g);
int store_group_get(struct store *st, const char *id, struct store_group *out);
/* A page of the groups of a softcard, or of all groups when softcard_id
 * is NULL (see "Pages" above). */
int store_group_page(struct store *st, const char *softcard_id, const char *after, size_t limit,
                     struct store_group **out, size_t *count, bool *more);

/* ---- keys ------------------------------------------------------------------ */

/* STORE_NOT_FOUND when the group does not exist or belongs to another
 * softcard than k->softcard_id. wrapped_len 1..STORE_WRAPPED_MAX. */
int store_key_insert(struct store *st, struct store_key *k, const uint8_t *wrapped,
                     size_t wrapped_len);
/* The key group_id/key_id. When wrapped is not NULL the wrapped value is
 * copied there (STORE_ERR_ARG if wrapped_cap is too small; STORE_WRAPPED_MAX
 * always suffices). */
int store_key_get(struct store *st, const char *group_id, const char *key_id, struct store_key *out,
                  uint8_t *wrapped, size_t wrapped_cap, size_t *wrapped_len);
int store_key_delete(struct store *st, const char *group_id, const char *key_id);
/* A page of the keys of a group (see "Pages" above). */
int store_key_page(struct store *st, const char *group_id, const char *after, size_t limit,
                   struct store_key **out, size_t *count, bool *more);

/* ---- objects --------------------------------------------------------------- */

/* STORE_NOT_FOUND when the softcard does not exist. The store checks
 * lengths only; which attributes a class allows is the handler's job. */
int store_object_insert(struct store *st, struct store_object *o);
int store_object_get(struct store *st, const char *softcard_id, const char *object_id,
                     struct store_object *out);
int store_object_delete(struct store *st, const char *softcard_id, const char *object_id);
/* A page of the objects of a softcard (see "Pages" above). with_values
 * false: no value is read (value_omitted, value_len say what there is).
 * with_values true: the page also ends after the row that brings the sum
 * of the values read past max_value_bytes. Free with store_object_list_free. */
int store_object_page(struct store *st, const char *softcard_id, const char *after, size_t limit,
                      bool with_values, size_t max_value_bytes, struct store_object **out,
                      size_t *count, bool *more);
/* Frees the attribute data of an object filled by get/list. */
void store_object_clear(struct store_object *o);
void store_object_list_free(struct store_object *list, size_t count);

/* ---- idempotency ------------------------------------------------------------ */

/* Looks up (client, key). STORE_OK with *out filled when a live record
 * (now - created <= STORE_IDEM_TTL seconds, by the store clock) has the
 * same method and path; STORE_IDEM_CONFLICT when it has another method or
 * path; STORE_NOT_FOUND when there is none (or it expired). */
int store_idem_lookup(struct store *st, const uint8_t client_fp[STORE_CLIENT_FP_LEN],
                      const char *key, const char *method, const char *path,
                      struct store_idem_answer *out);
/* Records the answer to (client, key, method, path), replacing an expired
 * record; STORE_EXISTS when an unexpired one is there. Also purges expired
 * records of every client. body may be NULL when body_len is 0. */
int store_idem_record(struct store *st, const uint8_t client_fp[STORE_CLIENT_FP_LEN],
                      const char *key, const char *method, const char *path, int status,
                      const uint8_t *body, size_t body_len);
/* Deletes every expired record. */
int store_idem_purge(struct store *st);
void store_idem_answer_clear(struct store_idem_answer *a);

/* ---- revoked activations ------------------------------------------------------ */

/* Records that activation id was ended (deactivate) and must be refused
 * until `expires` (seconds since the epoch, the token's own expiry), also
 * after a restart. Recording it twice is fine. Also purges the records
 * whose expiry has passed by the store clock. */
int store_revoked_add(struct store *st, const uint8_t id[STORE_ACTIVATION_ID_LEN], int64_t expires);
/* STORE_OK when id is recorded as revoked, STORE_NOT_FOUND when not. */
int store_revoked_check(struct store *st, const uint8_t id[STORE_ACTIVATION_ID_LEN]);

const char *store_result_name(int result);

#endif
