/*
 * Helpers of the softcardtool and confinement tests: a pkcs11wsop.cfg for a
 * running e2e server, and child processes run with captured output.
 *
 * Contract:
 *  - sct_config_write() writes DIR/pkcs11wsop.cfg (HOST 127.0.0.1, the
 *    server's port, the e2e PKI's client.crt/client.key/ca.crt unless
 *    key_path overrides KEY, LOGLEVEL 6, LOGFILEPATH DIR/pkcs11wsop.log,
 *    MAXRETRIES 0, TIMEOUT 20) and sets PKCS11WSOP_CONF to it. DIR is made
 *    below the e2e temp dir and returned in cfg->dir.
 *  - sct_run() runs argv with PKCS11WSOP_CONF and PKCS11WSOP_HELPER
 *    inherited, stdin fed from input (NULL: /dev/null), stdout and stderr
 *    captured; it kills the child after 60 s. sct_run_pty() does the same
 *    on a fresh pseudo-terminal, answering each prompt (text ending in
 *    ": ") with the next of answers.
 *  - sct_fixture_setup() is a cmocka setup: the e2e fixture (a fresh wsopd
 *    and a connection) plus sct_config_write() for it, in a struct
 *    sct_fixture put in *state. sct_fixture_teardown() undoes it (printing
 *    the tool's log with E2E_LOGS=1) and returns e2e_teardown()'s verdict;
 *    with log_must_be_clean it also fails, printing the log, when
 *    "pass phrase" reached the tool's log.
 *  - Everything else asserts with cmocka; nothing returns failure.
 */
#ifndef PKCS11WSOP_TESTS_SCT_RUN_H
#define PKCS11WSOP_TESTS_SCT_RUN_H

#include <stdbool.h>
#include <stddef.h>

#include "tests/e2e/e2e.h"

struct sct_config {
	char dir[E2E_PATH_MAX + 32];
	char path[E2E_PATH_MAX + 64];
	char log[E2E_PATH_MAX + 64];
};

struct sct_result {
	int status; /* waitpid status */
	char *out;  /* NUL-terminated */
	char *err;
};

void sct_config_write(struct sct_config *cfg, const struct e2e_server *srv, const char *key_path);

struct sct_fixture {
	struct e2e_fixture *e2e;
	struct sct_config cfg;
};

int sct_fixture_setup(void **state);
int sct_fixture_teardown(void **state, bool log_must_be_clean);

void sct_run(const char *const *argv, const char *input, struct sct_result *res);
void sct_run_pty(const char *const *argv, const char *const *answers, struct sct_result *res);
void sct_result_free(struct sct_result *res);
/* Exit code, or 128 + signal. */
int sct_exit_code(const struct sct_result *res);

/* malloc'd contents of path ("" when missing). */
char *sct_slurp(const char *path);
bool sct_file_contains(const char *path, const char *text);

#endif
