/* Shared handler state; see app.h. */
#include "server/app.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* The activation table asks the store whether an activation was ended. */
static int revoked_in_store(void *ctx, const uint8_t id[ACT_TOKEN_ID_LEN])
{
	int r = store_revoked_check(ctx, id);

	if (r == STORE_OK)
		return 1;
	return r == STORE_NOT_FOUND ? 0 : -1;
}

int app_open(struct app *app, const char *store_dir, unsigned activation_ttl,
             unsigned activation_idle, char *err, size_t err_cap)
{
	struct stat st;
	int rc;

	memset(app, 0, sizeof(*app));
	if (stat(store_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, err_cap, "store folder %s does not exist or is not a folder",
		         store_dir);
		return -ENOTDIR;
	}
	rc = keywrap_master_load(store_dir, &app->master);
	if (rc != KEYWRAP_OK) {
		snprintf(err, err_cap, "cannot load %s/%s: %s", store_dir, KEYWRAP_MASTER_FILE,
		         keywrap_result_name(rc));
		return -EIO;
	}
	rc = store_open(store_dir, &app->store);
	if (rc != STORE_OK) {
		snprintf(err, err_cap, "cannot open the store in %s: %s", store_dir,
		         store_result_name(rc));
		keywrap_master_wipe(&app->master);
		return -EIO;
	}
	rc = activation_create(&app->master, activation_ttl, activation_idle, revoked_in_store,
	                       app->store, &app->act);
	if (rc != 0) {
		snprintf(err, err_cap, "cannot set up the activation table: %s", strerror(-rc));
		store_close(app->store);
		keywrap_master_wipe(&app->master);
		return rc;
	}
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
