/*
 * End-to-end test harness: a real wsopd started with fork + exec on a
 * throw-away PKI (tools/pki.sh), driven over real mutual TLS.
 *
 * Environment (set by tests/e2e/meson.build):
 *   WSOPD        path of the wsopd binary
 *   WSOP_PKI_SH  path of tools/pki.sh
 * When either is missing the tests are skipped, not failed.
 *
 * Contract:
 *  - e2e_env_setup() makes a private temp dir with a PKI in it; every
 *    server started from it gets a fresh store folder of its own.
 *  - wsopd runs with --log-level 6; e2e_teardown() fails a test whose
 *    server logged "pass phrase" (every test passphrase contains it).
 *  - e2e_server_start() returns once wsopd logged "listening on
 *    127.0.0.1:PORT" (its stderr goes to a file that e2e_server_dump_log()
 *    prints when a test fails), or fails within 10 s.
 *  - Requests are written by hand (no shared HTTP codec) so that the tests
 *    check the server's bytes against ipc/README.md independently.
 *  - Helpers that end in _ok assert with cmocka and never return failure.
 */
#ifndef PKCS11WSOP_TESTS_E2E_H
#define PKCS11WSOP_TESTS_E2E_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "ipc/wsop_names.h"
#include "tools/direct_tls.h"

#define E2E_PATH_MAX 512

struct e2e_env {
	char dir[E2E_PATH_MAX]; /* private temp dir, removed by teardown */
	char pki[E2E_PATH_MAX]; /* dir/pki */
	const char *wsopd;
	const char *pki_sh;
	unsigned servers; /* how many stores were made */
};

struct e2e_server {
	const struct e2e_env *env;
	pid_t pid; /* 0 when not running */
	char port[8];
	char store[E2E_PATH_MAX];
	char log_path[E2E_PATH_MAX];
	char cert[E2E_PATH_MAX]; /* the server certificate it was started with */
	char key[E2E_PATH_MAX];
};

/* Who the client claims to be during the handshake. */
enum e2e_identity {
	E2E_CLIENT,   /* client.crt: trusted */
	E2E_CLIENT2,  /* client2.crt: trusted, a different client */
	E2E_NO_CERT,  /* no certificate at all */
	E2E_OTHER_CA, /* other-client.crt, signed by an unrelated CA */
	E2E_EXPIRED,  /* expired-client.crt, signed by the right CA */
};

/* An HTTP answer as read off the wire. json is NULL when the body is empty
 * or not JSON. */
struct e2e_answer {
	int status;
	char *head;
	char *body; /* NUL-terminated, NULL when empty */
	size_t body_len;
	json_object *json;
};

/* Returns 0, or -1 (with a message on stderr) when the environment is
 * incomplete; 1 when WSOPD / WSOP_PKI_SH are unset (tests should skip). */
int e2e_env_setup(struct e2e_env *env);
void e2e_env_teardown(struct e2e_env *env);

/* Starts wsopd on a fresh store. extra_args: NULL-terminated list (or NULL).
 * Returns 0 or -1 with the reason on stderr. */
int e2e_server_start(struct e2e_server *srv, const struct e2e_env *env,
                     const char *const *extra_args);
/* Same store, same certificates, new process (after a stop). */
int e2e_server_restart(struct e2e_server *srv, const char *const *extra_args);
/* Starts with another server certificate (basename in the PKI, e.g.
 * "wrong-name-server"). */
int e2e_server_start_as(struct e2e_server *srv, const struct e2e_env *env, const char *cert_name,
                        const char *const *extra_args);
/* Sends sig and waits (up to 10 s, then SIGKILL). Returns the waitpid
 * status, or -1. */
int e2e_server_stop(struct e2e_server *srv, int sig);
void e2e_server_dump_log(const struct e2e_server *srv);
/* True when the log contains text. */
bool e2e_server_log_contains(const struct e2e_server *srv, const char *text);
/* How many lines of the server's log contain text. */
int e2e_server_log_count(const struct e2e_server *srv, const char *text);
/* How many lines of the file at path contain text (0 when it cannot be
 * read). */
int e2e_file_count(const char *path, const char *text);

/* Connects as who; 0 or the negative errno of direct_tls_connect (reason in
 * err). tls_max: 0 for the default, else the highest version offered. */
int e2e_connect(const struct e2e_server *srv, enum e2e_identity who, int tls_max,
                struct direct_tls **out, char *err, size_t err_cap);
struct direct_tls *e2e_connect_ok(const struct e2e_server *srv, enum e2e_identity who);

/* Reads one answer (up to timeout_ms). 0, or a negative errno (the
 * connection closed or failed before a whole answer arrived). */
int e2e_read_answer(struct direct_tls *conn, struct e2e_answer *ans, int timeout_ms);
/* Sends raw bytes, then reads one answer. */
int e2e_raw(struct direct_tls *conn, const void *bytes, size_t len, struct e2e_answer *ans);
/* Sends a well-formed request (Host, Content-Length, Content-Type when a
 * body is given, Idempotency-Key when idem_key is not NULL, and the
 * connection's activation token when it has one) and reads one answer.
 * body may be NULL. A 200 to POST .../activate gives the connection the
 * answer's token; a 200 to POST .../deactivate drops it. */
int e2e_request(struct direct_tls *conn, const char *method, const char *target,
                const char *idem_key, const char *body, struct e2e_answer *ans);
void e2e_answer_free(struct e2e_answer *ans);

/* e2e_request() that asserts the transport worked and the status is
 * expected; returns the answer's JSON (owned by ans). */
/* The activation token conn carries (see e2e_request): set (NULL or ""
 * drops it) and read (false and "" when none). */
void e2e_set_activation(const struct direct_tls *conn, const char *token);
bool e2e_activation_of(const struct direct_tls *conn, char out[WSOP_ACTIVATION_MAX + 1]);

json_object *e2e_call_ok(struct direct_tls *conn, const char *method, const char *target,
                         const char *body, int expected_status, struct e2e_answer *ans);

/* Asserts ans is status + {"error":{"code":code,"message":<string>}} and
 * nothing else. */
void e2e_assert_error(const struct e2e_answer *ans, int status, const char *code);
/* Asserts obj is a JSON object with exactly the listed members
 * (NULL-terminated). */
void e2e_assert_members(json_object *obj, ...) __attribute__((sentinel));

/* Member accessors that assert presence and type. */
const char *e2e_str(json_object *obj, const char *member);
int64_t e2e_int(json_object *obj, const char *member);
bool e2e_bool(json_object *obj, const char *member);
json_object *e2e_obj(json_object *obj, const char *member);
json_object *e2e_arr(json_object *obj, const char *member);

/* base64url without padding, into a malloc'd string / from a string into
 * a malloc'd buffer (*len set); both assert. */
char *e2e_b64(const uint8_t *data, size_t len);
uint8_t *e2e_unb64(const char *text, size_t *len);

/* Shortcuts for common set-ups, asserting every step. */
/* Creates softcard name with passphrase, returns its id (static buffer
 * copied into out, 41 bytes). */
void e2e_softcard_ok(struct direct_tls *conn, const char *name, const char *passphrase,
                     char out[41]);
void e2e_activate_ok(struct direct_tls *conn, const char *softcard, const char *passphrase);
void e2e_group_ok(struct direct_tls *conn, const char *name, const char *softcard, char out[37]);
/* Generates an AES key; attrs_extra is inserted after the label member
 * (e.g. ",\"encrypt\":false") or NULL. Writes its path (out, 96 bytes). */
void e2e_key_ok(struct direct_tls *conn, const char *group, const char *label, int bits,
                const char *attrs_extra, char path_out[96]);
/* One softcard "card" with passphrase E2E_READY_PASS, active, and one group
 * "keys" in it: what most key and crypto tests need. */
#define E2E_READY_PASS "pass phrase 1"
void e2e_ready_group_ok(struct direct_tls *conn, char softcard[41], char group[37]);

/* The usual fixture: a fresh wsopd (default options) and one connection
 * as E2E_CLIENT. e2e_teardown() closes it and checks that SIGTERM makes
 * wsopd exit 0. With E2E_LOGS=1 in the environment every server log is
 * printed. */
struct e2e_fixture {
	struct e2e_server srv;
	struct direct_tls *conn;
};
extern struct e2e_env e2e_env;
int e2e_setup(void **state);
/* For fixtures that extend struct e2e_fixture (as their first member):
 * a zeroed object of size bytes whose base is set up as e2e_setup() does;
 * NULL on failure. e2e_teardown() frees it. */
void *e2e_fixture_new(size_t size);
int e2e_teardown(void **state);

/* The connection of the fixture in *state (a struct e2e_fixture, or a
 * struct that starts with one). */
struct direct_tls *e2e_conn_of(void **state);
/* On that connection: method target (body may be NULL, no idempotency key)
 * must answer status with error code (e2e_assert_error). */
void e2e_expect_error(void **state, const char *method, const char *target, const char *body,
                      int status, const char *code);
/* DELETE target must answer 204 without a body; after it GET and DELETE
 * of target must answer 404 not_found. */
void e2e_delete_gone_ok(void **state, const char *target);

/* What each thread of e2e_run_tasks() reports, as the first member of a
 * task: threads make no cmocka assertions, they count their failures and
 * say why the last one failed. */
struct e2e_task {
	const struct e2e_server *srv;
	int failures;
	char why[DIRECT_TLS_ERROR_MAX + 64];
};
/* Runs fn on each of count tasks (size bytes apart, each starting with a
 * struct e2e_task) in a thread of its own and joins them; prints each
 * task's failures and the time taken for what; returns the sum of the
 * failures. */
int e2e_run_tasks(void *(*fn)(void *), void *tasks, size_t count, size_t size, const char *what);
/* A macro's value as a string literal, e.g. for what above. */
#define E2E_STR(x)  E2E_STR_(x)
#define E2E_STR_(x) #x

struct CMUnitTest;
/* Makes the PKI, runs the tests, removes the temp dir. Returns the process
 * exit status: 0 all passed, 77 skipped (meson's code), else failures. */
int e2e_main(const char *name, const struct CMUnitTest *tests, size_t count);
/* The same with a group setup and teardown (either may be NULL). */
int e2e_main_group(const char *name, const struct CMUnitTest *tests, size_t count,
                   int (*group_setup)(void **), int (*group_teardown)(void **));

/* Monotonic milliseconds. */
long long e2e_now_ms(void);

#endif
