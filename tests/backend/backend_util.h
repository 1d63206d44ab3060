/*
 * What the two backend test programs (against the real helper and wsopd,
 * and against the fake helper) check the same way.
 *
 * Contract (all assert with cmocka where they say so):
 *  - backend_util_log_contains() is true when a line of the log at path
 *    holds text; when it does not, it says so on stderr. A missing log
 *    holds nothing.
 *  - backend_util_log_count() counts the lines of the log at path that
 *    hold both level (e.g. " ERROR ") and text.
 *  - backend_util_health() makes one GET /health on a client acquired
 *    from be (asserted), releases it, and returns wsop_health()'s value;
 *    a success must report status "ok".
 *  - backend_util_count_fds() counts the entries of /proc/self/fd.
 *  - backend_util_load_config() loads the file at path into *cfg (asserted
 *    to parse) and opens the library's log as it says.
 */
#ifndef PKCS11WSOP_TESTS_BACKEND_UTIL_H
#define PKCS11WSOP_TESTS_BACKEND_UTIL_H

#include <stdbool.h>

#include "conf/config.h"
#include "lib/backend.h"

bool backend_util_log_contains(const char *path, const char *text);
unsigned backend_util_log_count(const char *path, const char *level, const char *text);
int backend_util_health(struct backend *be);
unsigned backend_util_count_fds(void);
void backend_util_load_config(const char *path, struct wsop_config *cfg);

#endif
