#include "tests/backend/backend_util.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "conf/log.h"
#include "lib/wsop_client.h"

bool backend_util_log_contains(const char *path, const char *text)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return false;
	char line[4096];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, text) != NULL;
	fclose(f);
	if (!found)
		fprintf(stderr, "log %s lacks \"%s\"\n", path, text);
	return found;
}

unsigned backend_util_log_count(const char *path, const char *level, const char *text)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	char line[4096];
	unsigned n = 0;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, level) != NULL && strstr(line, text) != NULL;
	fclose(f);
	return n;
}

int backend_util_health(struct backend *be)
{
	struct wsop_client *c = backend_acquire(be);
	assert_non_null(c);
	struct wsop_health h;
	int rc = wsop_health(c, &h);
	if (rc == 0)
		assert_string_equal(h.status, "ok");
	backend_release(be, c);
	return rc;
}

unsigned backend_util_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	unsigned n = 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

void backend_util_load_config(const char *path, struct wsop_config *cfg)
{
	struct config_report rep;
	int rc = config_load_file(path, cfg, &rep);
	if (rc)
		fprintf(stderr, "config: %s\n", rep.error);
	assert_int_equal(rc, 0);
	struct wlog_config wc;
	config_to_wlog(cfg, "pkcs11wsop", &wc);
	wlog_open(&wc);
}
