/* The module's lifecycle (lib/p11_module.h). */
#include "lib/p11_module.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "build_config.h"
#include "conf/config.h"
#include "lib/backend.h"
#include "lib/ckr_names.h"
#include "lib/p11_audit.h"
#include "lib/p11_core.h"
#include "lib/p11_lock.h"
#include "lib/p11_objstore.h"
#include "lib/p11_sessions.h"
#include "lib/p11_slots.h"

/*
 * Written only by start/stop under init_lock, while no other call may run
 * (PKCS #11 leaves calls that race with C_Initialize/C_Finalize
 * undefined). Whether the module is initialized is lib/p11_core.c's
 * (p11_enter).
 */
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
/* Set in a forked child that inherited an initialized module. */
static volatile bool inherited;
static struct {
	struct wsop_config cfg;
	char config_path[CONFIG_PATH_MAX];
} g;

/*
 * Runs in every child of fork(), including the helper's own child between
 * fork and exec, so it only stores: async-signal-safe. init_lock is made
 * fresh because the thread that may have held it does not exist here.
 */
static void atfork_child(void)
{
	init_lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	if (p11_core_forked())
		inherited = true;
}

static void register_atfork(void)
{
	(void)pthread_atfork(NULL, NULL, atfork_child);
}

/* In a forked child: drop what the parent built, touching neither its
 * helper nor its locks nor its tables: a thread of the parent may have been
 * in the middle of changing them (freeing an ended operation, growing an
 * array) when the process forked, so following their pointers could free
 * twice. The tables' memory is left behind, once per fork. Activation
 * tokens sit on pages the kernel zeroes in the child (MADV_WIPEONFORK). */
static void drop_inherited(void)
{
	struct backend *be;
	void *table_lock;

	p11_core_detach(&be, &table_lock);
	(void)p11_sessions_reset();
	p11_objstore_forget();
	(void)p11_slots_reset();
	backend_forget(be);
	p11_mutex_abandon(table_lock);
	inherited = false;
}

/* The configuration is read before the log it configures can be opened, so
 * its warnings wait here; a few are enough to point at the file. */
#define HELD_WARNINGS_MAX 8
struct held_warnings {
	unsigned count;
	char text[HELD_WARNINGS_MAX][CONFIG_MSG_MAX];
};

static void hold_warning(void *ctx, const char *msg)
{
	struct held_warnings *held = ctx;

	if (held->count < HELD_WARNINGS_MAX)
		snprintf(held->text[held->count], sizeof(held->text[0]), "%s", msg);
	held->count++;
}

static void log_held_warnings(const struct held_warnings *held)
{
	unsigned shown = held->count < HELD_WARNINGS_MAX ? held->count : HELD_WARNINGS_MAX;

	for (unsigned i = 0; i < shown; i++)
		p11_audit_config_warning(held->text[i]);
	if (held->count > shown)
		wlog(WLOG_WARNING, "configuration: %u more warning(s) not shown",
		     held->count - shown);
}

/* Logging is not configured yet: say it through the default sinks (the
 * logger itself reports once on stderr if even those cannot be opened). */
static void log_config_failure(const char *path, const char *why, const struct held_warnings *held)
{
	struct wsop_config defaults;
	struct wlog_config wcfg;

	config_set_defaults(&defaults);
	config_to_wlog(&defaults, "pkcs11wsop", &wcfg);
	wlog_open(&wcfg);
	if (held != NULL)
		log_held_warnings(held);
	wlog(WLOG_ERROR, "C_Initialize: configuration %s: %s", path, why);
	p11_audit_initialize(path, NULL, 0, CKR_GENERAL_ERROR, why);
	wlog_close();
}

static CK_RV load_config(void)
{
	static struct held_warnings held; /* under init_lock */
	struct config_report report;
	const char *path = config_default_path();

	memset(&report, 0, sizeof(report));
	held.count = 0;
	report.on_warning = hold_warning;
	report.ctx = &held;
	if (strlen(path) >= sizeof(g.config_path)) {
		log_config_failure(path, "path too long", NULL);
		return CKR_GENERAL_ERROR;
	}
	strcpy(g.config_path, path);
	int rc = config_load_file(path, &g.cfg, &report);
	if (rc == 0)
		rc = config_check_connection(&g.cfg, &report);
	if (rc != 0) {
		log_config_failure(path, report.error[0] != '\0' ? report.error : strerror(-rc),
		                   &held);
		return CKR_GENERAL_ERROR;
	}

	struct wlog_config wcfg;
	config_to_wlog(&g.cfg, "pkcs11wsop", &wcfg);
	wlog_open(&wcfg);
	log_held_warnings(&held);
	return CKR_OK;
}

/* New calls are refused from the detach on; the tables go before the
 * backend and the lock that guarded them. */
static void stop_locked(void)
{
	struct backend *be;
	void *table_lock;

	p11_core_detach(&be, &table_lock);
	p11_sessions_free();
	p11_objstore_free();
	p11_slots_free(false);
	backend_close(be);
	p11_mutex_destroy(table_lock);
}

CK_RV p11_module_start(const CK_C_INITIALIZE_ARGS *args)
{
	CK_RV rv;
	struct backend *be = NULL;
	void *table_lock = NULL;

	pthread_once(&atfork_once, register_atfork);
	pthread_mutex_lock(&init_lock);
	if (p11_enter() == CKR_OK) {
		rv = CKR_CRYPTOKI_ALREADY_INITIALIZED;
		goto out;
	}
	if (inherited)
		drop_inherited();

	p11_lock_configure(args);
	rv = load_config();
	if (rv != CKR_OK)
		goto out;
	p11_trace("C_Initialize", 0, "(%s)", args == NULL ? "NULL" : "args");
	rv = p11_mutex_create(&table_lock);
	if (rv != CKR_OK)
		goto fail_log;
	rv = p11_slots_reset();
	if (rv != CKR_OK)
		goto fail_lock;
	rv = p11_sessions_reset();
	if (rv != CKR_OK)
		goto fail_slots;

	int rc = backend_open(&g.cfg, g.config_path, &be);
	if (rc != 0) {
		/* C_Initialize may not answer CKR_DEVICE_ERROR; the cause is
		 * already in the log. */
		rv = rc == -ENOMEM ? CKR_HOST_MEMORY : CKR_FUNCTION_FAILED;
		goto fail_sessions;
	}
	p11_audit_initialize(g.config_path, &g.cfg, (long)backend_helper_pid(be), CKR_OK, NULL);
	p11_core_attach(be, table_lock);
	goto out;

fail_sessions:
	p11_sessions_free();
fail_slots:
	p11_slots_free(false);
fail_lock:
	p11_mutex_destroy(table_lock);
fail_log:
	wlog(WLOG_ERROR, "C_Initialize: %s", ckr_name(rv));
	p11_audit_initialize(g.config_path, &g.cfg, 0, rv,
	                     rv == CKR_FUNCTION_FAILED ? "the helper could not start" : NULL);
	wlog_close();
out:
	pthread_mutex_unlock(&init_lock);
	return rv;
}

CK_RV p11_module_stop(void)
{
	pthread_mutex_lock(&init_lock);
	if (p11_enter() != CKR_OK) {
		pthread_mutex_unlock(&init_lock);
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	}
	p11_trace("C_Finalize", 0, "()");
	/* Logging out needs the module alive: do it before new calls are
	 * refused and the tables go. */
	p11_slots_logout_all();
	stop_locked();
	p11_audit_finalize();
	wlog_close();
	pthread_mutex_unlock(&init_lock);
	return CKR_OK;
}
