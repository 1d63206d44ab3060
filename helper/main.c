/*
 * pkcs11wsop-helper: the confined holder of the client credentials. The
 * contract with the library is in helper/README.md; this file is the
 * start-up: configuration, log sinks, credentials, confinement, READY.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build_config.h"
#include "conf/config.h"
#include "conf/log.h"
#include "helper/credentials.h"
#include "helper/event_loop.h"
#include "helper/reply.h"
#include "ipc/channel.h"
#include "security/sandbox.h"

#define CHANNEL_FD 3

/* Everything that goes wrong before READY ends here: stderr (useful when
 * run by hand; /dev/null under the library) and an ERROR frame with id 0,
 * from which the library writes the one ERROR line of the event. The log
 * gets it at DEBUG only, so that one failure is not three lines. */
static int startup_failed(uint32_t code, const char *text)
{
	char clean[CHAN_ERROR_TEXT_MAX + 1];

	reply_clean_text(clean, sizeof(clean), text);
	wlog(WLOG_DEBUG, "helper: %s", clean);
	dprintf(STDERR_FILENO, "pkcs11wsop-helper: %s\n", clean);
	(void)reply_error(CHANNEL_FD, 0, 0, code, clean);
	return 1;
}

/* The channel must be a socket: anything else on fd 3 means we were not
 * started by the library, and nothing may be written to it. */
static bool channel_present(void)
{
	struct stat st;

	return fstat(CHANNEL_FD, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* The one configuration a set-id helper reads. Only the test-only build
 * pkcs11wsop-helper-privsep-test (never installed) defines
 * HELPER_SYSTEM_CONF_PATH, so that tests/privsep can run a real setgid
 * helper without writing under the prefix; the installed helper has no
 * way to read any other file. */
#ifdef HELPER_SYSTEM_CONF_PATH
#define HELPER_SECURE_CONF_PATH HELPER_SYSTEM_CONF_PATH
#else
#define HELPER_SECURE_CONF_PATH PKCS11WSOP_CONF_PATH
#endif

/* Set-id helpers trust nothing the caller chose: only the built-in path. */
static const char *config_path(int argc, char **argv)
{
	if (getauxval(AT_SECURE) != 0)
		return HELPER_SECURE_CONF_PATH;
	if (argc == 3 && strcmp(argv[1], "--config") == 0 && argv[2][0] != '\0')
		return argv[2];
	return NULL;
}

/* Opens the log file ourselves (the logger would not tell us its fd, and
 * the fd must survive the closing of all others). Returns the fd or -1. */
static int open_log(const struct wsop_config *cfg)
{
	struct wlog_config wc;

	config_to_wlog(cfg, "pkcs11wsop", &wc);
	/* syslog needs socket+connect, which the sandbox kills. */
	wc.to_syslog = false;
	const char *file = wc.file_path;
	wc.file_path = NULL;
	wlog_open(&wc);
	if (wc.level == WLOG_NONE || file == NULL)
		return -1;
	int fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0) {
		dprintf(STDERR_FILENO, "pkcs11wsop-helper: cannot open log file %s: %s\n", file,
		        strerror(errno));
		return -1;
	}
	wlog_use_fd(fd);
	return fd;
}

/* Test builds: the marker next to the configuration arms one forbidden
 * call. It is removed before confinement (afterwards unlink is fatal), so
 * the next helper started is a normal one. */
static bool take_openat_marker(const char *cfg_path)
{
#ifdef HELPER_TEST_OPENAT
	char copy[CONFIG_PATH_MAX];
	char marker[CONFIG_PATH_MAX + 32];

	snprintf(copy, sizeof(copy), "%s", cfg_path);
	snprintf(marker, sizeof(marker), "%s/helper-openat-once", dirname(copy));
	return unlink(marker) == 0;
#else
	(void)cfg_path;
	return false;
#endif
}

/* Steps 2-7 of security/POLICY.md. Returns 0 or the helper's exit status. */
static int confine(int log_fd)
{
	struct sandbox_report report;
	struct sandbox_privs privs;
	char why[256];
	int keep[] = { 0, 1, 2, CHANNEL_FD, log_fd };
	int rc = sandbox_clear_environment();

	if (rc == 0)
		rc = sandbox_null_stdio();
	if (rc == 0)
		rc = sandbox_close_fds_except(keep, sizeof(keep) / sizeof(keep[0]));
	if (rc != 0) {
		snprintf(why, sizeof(why), "cannot prepare confinement: %s", strerror(-rc));
		return startup_failed(CHAN_E_INTERNAL, why);
	}
	rc = sandbox_drop_privileges(HELPER_DROP_UID, HELPER_DROP_GID, &privs);
	if (rc != 0) {
		snprintf(why, sizeof(why), "cannot drop privileges at step %s: %s",
		         privs.failed_step, strerror(-rc));
		return startup_failed(CHAN_E_INTERNAL, why);
	}
	if (privs.changed_ids)
		wlog(WLOG_DEBUG, "helper: started as root, now uid %u gid %u", HELPER_DROP_UID,
		     HELPER_DROP_GID);
	rc = sandbox_confine(&report);
	if (rc != 0) {
		snprintf(why, sizeof(why), "confinement failed at step %s: %s",
		         report.failed_step != NULL ? report.failed_step : "?", strerror(-rc));
		return startup_failed(CHAN_E_INTERNAL, why);
	}
	wlog(WLOG_DEBUG, "helper: confinement applied (seccomp allowlist, %u rules, %s)",
	     report.rules, report.arch);
	return 0;
}

int main(int argc, char **argv)
{
	struct wsop_config cfg;
	struct config_report report;
	char why[CHAN_ERROR_TEXT_MAX];
	struct creds *creds = NULL;

	if (!channel_present()) {
		dprintf(STDERR_FILENO, "pkcs11wsop-helper: started by the PKCS #11 library only "
		                       "(fd 3 is not its channel)\n");
		return 1;
	}
	/* No parent-death signal: it would follow the application thread that
	 * started us, not the application. The end of file on the channel,
	 * which only the application process holds (helper_proc.h), is what
	 * ends us when it dies. */
	/* A write to a server that hung up must fail with EPIPE, not kill us;
	 * the handler cannot be changed once confined. */
	signal(SIGPIPE, SIG_IGN);
	const char *path = config_path(argc, argv);
	if (path == NULL)
		return startup_failed(CHAN_E_INTERNAL, "usage: pkcs11wsop-helper --config PATH");
	if (config_load_file(path, &cfg, &report) != 0)
		return startup_failed(CHAN_E_CREDENTIALS, report.error);
	int log_fd = open_log(&cfg);
	if (cfg.logsys)
		wlog(WLOG_DEBUG, "helper: LOGSYS ignored here (no syslog once confined)");
	if (config_check_connection(&cfg, &report) != 0)
		return startup_failed(CHAN_E_CREDENTIALS, report.error);
	int code = creds_load(&cfg, &creds, why, sizeof(why));
	if (code != 0)
		return startup_failed((uint32_t)code, why);
	wlog(WLOG_DEBUG, "helper: credentials loaded (CERT %s, KEY %s, AUTH %s)", cfg.cert, cfg.key,
	     cfg.auth);
	/* The servers CONNECT may name: those of the configured HOST only. */
	struct event_loop_options opt = { .servers = cfg.servers,
		                          .n_servers = cfg.n_servers,
		                          .openat_armed = take_openat_marker(path) };
	int rc = confine(log_fd);
	if (rc != 0)
		return rc;
	rc = reply_ready(CHANNEL_FD, "credentials loaded, confined");
	if (rc != 0) {
		wlog(WLOG_ERROR, "helper: cannot send READY: %s", strerror(-rc));
		_exit(1);
	}
	/* _exit, not exit: atexit handlers (OpenSSL's cleanup) might make
	 * calls the sandbox does not allow. */
	_exit(event_loop_run(creds, CHANNEL_FD, &opt));
}
