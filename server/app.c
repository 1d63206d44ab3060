/* Shared handler state; see app.h. */
#include "server/app.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

/* The activation table asks the store whether an activation was ended. */
static int revoked_in_store(void *ctx, const uint8_t id[ACT_TOKEN_ID_LEN])
{
	int r = store_revoked_check(ctx, id);

	if (r == STORE_OK)
		return 1;
	return r == STORE_NOT_FOUND ? 0 : -1;
}

/* The label of the master key's check value in a shared store. */
#define MASTER_CHECK_LABEL "wsopd master key check v1"

static int load_master(struct app *app, const char *store, const char *master_path, bool shared,
                       char *err, size_t err_cap)
{
	struct stat st;
	int rc;

	if (master_path != NULL) {
		rc = keywrap_master_load_file(master_path, &app->master);
		if (rc != KEYWRAP_OK) {
			snprintf(err, err_cap, "cannot load the master key %s: %s", master_path,
			         keywrap_result_name(rc));
			return -EIO;
		}
		return 0;
	}
	if (shared) {
		snprintf(err, err_cap,
		         "a PostgreSQL store needs --master-key FILE (the same file "
		         "on every node)");
		return -EINVAL;
	}
	if (stat(store, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, err_cap, "store folder %s does not exist or is not a folder", store);
		return -ENOTDIR;
	}
	rc = keywrap_master_load(store, &app->master);
	if (rc != KEYWRAP_OK) {
		snprintf(err, err_cap, "cannot load %s/%s: %s", store, KEYWRAP_MASTER_FILE,
		         keywrap_result_name(rc));
		return -EIO;
	}
	return 0;
}

static int check_master(struct app *app, char *err, size_t err_cap)
{
	uint8_t check[STORE_MASTER_CHECK_LEN];
	int rc = keywrap_derive_subkey(&app->master, MASTER_CHECK_LABEL, check);

	if (rc == KEYWRAP_OK)
		rc = store_master_check(app->store, check);
	else
		rc = STORE_ERR_ARG;
	OPENSSL_cleanse(check, sizeof(check));
	if (rc != STORE_OK) {
		snprintf(err, err_cap, "the store refuses this master key: %s",
		         store_result_name(rc));
		return -EIO;
	}
	return 0;
}

int app_open(struct app *app, const char *store, const char *master_path, unsigned activation_ttl,
             unsigned activation_idle, char *err, size_t err_cap)
{
	bool shared = store_is_shared(store);
	char where[320];
	int rc;

	memset(app, 0, sizeof(*app));
	rc = load_master(app, store, master_path, shared, err, err_cap);
	if (rc != 0)
		return rc;
	rc = store_open(store, &app->store);
	if (rc != STORE_OK) {
		store_describe(store, where, sizeof(where));
		snprintf(err, err_cap, "cannot open the store (%s): %s", where,
		         store_result_name(rc));
		keywrap_master_wipe(&app->master);
		return -EIO;
	}
	rc = check_master(app, err, err_cap);
	if (rc == 0) {
		rc = activation_create(&app->master, activation_ttl, activation_idle,
		                       revoked_in_store, app->store, &app->act);
		if (rc != 0)
			snprintf(err, err_cap, "cannot set up the activation table: %s",
			         strerror(-rc));
	}
	if (rc != 0) {
		store_close(app->store);
		keywrap_master_wipe(&app->master);
		memset(app, 0, sizeof(*app));
		return rc;
	}
	/* Other nodes may end an activation or delete a key at any time. */
	if (shared)
		activation_share(app->act);
	return 0;
}

void app_close(struct app *app)
{
	activation_destroy(app->act);
	if (app->store != NULL)
		store_close(app->store);
	keywrap_master_wipe(&app->master);
	memset(app, 0, sizeof(*app));
}
