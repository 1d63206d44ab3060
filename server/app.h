/*
 * The state every request handler shares: the store, the master key and
 * the activation table.
 *
 * Contract: app_open() loads the master key (master_path, or else
 * <dir>/master.key, created when absent) and opens the store: <dir>/wsopd.db,
 * or a PostgreSQL database shared with other nodes when store is a
 * connection string (then master_path is required, and the activation
 * table is told that other servers share the store); app_close() wipes the
 * master key and every cached KEK and key, then closes the store. Handlers
 * only read the pointers. Errors never quote a connection string.
 */
#ifndef WSOPD_APP_H
#define WSOPD_APP_H

#include <stddef.h>

#include "server/activation.h"
#include "server/keywrap.h"
#include "server/store.h"

struct app {
	struct store *store;
	struct keywrap_master master;
	struct activation *act;
	/* The login lockout (wsopd --max-login-failures, --login-lockout):
	 * set by the caller after app_open; 0 failures means never locked. */
	unsigned login_limit;
	unsigned login_lockout_s;
};

/* 0, or a negative value with a one-line reason in err. activation_ttl
 * and activation_idle (seconds, >= 1) go to the activation table. */
int app_open(struct app *app, const char *store, const char *master_path, unsigned activation_ttl,
             unsigned activation_idle, char *err, size_t err_cap);
void app_close(struct app *app);

#endif
