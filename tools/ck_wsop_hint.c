/*
 * The pkcs11wsop-specific hints of the generic ck tools (see the header).
 */
#include "ck_wsop_hint.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "conf/config.h"

static struct {
	bool ours;
	bool printed;
	char config_path[CONFIG_PATH_MAX];
	char log_path[CONFIG_PATH_MAX];
} hint;

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

static void print_warning(void *ctx, const char *msg)
{
	fprintf(stderr, "%s: warning: %s\n", (const char *)ctx, msg);
}

void ck_wsop_hint_prepare(const char *prog, const char *module_path)
{
	static struct wsop_config cfg; /* 16 KiB: kept off the stack */
	struct config_report report;
	struct wlog_config wcfg;
	const char *path = config_default_path();

	hint.ours = strcmp(base_name(module_path), "libpkcs11wsop.so") == 0;
	if (!hint.ours)
		return;
	snprintf(hint.config_path, sizeof(hint.config_path), "%s", path);
	memset(&report, 0, sizeof(report));
	report.on_warning = print_warning;
	report.ctx = (void *)prog;
	/* An unreadable file is the module's error to report; here it only
	 * leaves the log path at its default. */
	(void)config_load_file(path, &cfg, &report);
	config_to_wlog(&cfg, "pkcs11wsop", &wcfg);
	if (wcfg.level == 0 || wcfg.file_path == NULL)
		snprintf(hint.log_path, sizeof(hint.log_path), "%s",
		         wcfg.to_stdout ? "(standard output)" : "(none: LOGLEVEL 0)");
	else
		snprintf(hint.log_path, sizeof(hint.log_path), "%s", wcfg.file_path);
}

void ck_wsop_hint_print(const char *prog)
{
	if (!hint.ours || hint.printed)
		return;
	hint.printed = true;
	fprintf(stderr, "%s: the module's log %s says why (configuration %s)\n", prog,
	        hint.log_path, hint.config_path);
}
