/*
 * The logger of every pkcs11wsop process (library, helper, tools, wsopd).
 *
 * Line format, as the manual specifies:
 *   [yyyy-mm-dd hh:mm:ss] LEVEL IDENT PID: message
 *   [yyyy-mm-dd hh:mm:ss] TRACE IDENT PID TID SESSION: message
 * LEVEL is one of PANIC ERROR WARNING INFO DEBUG TRACE; IDENT is
 * "pkcs11wsop" for the library and helper, "wsopd" for the server.
 *
 * Contract:
 *  - A level includes every lower one; level 0 (WLOG_NONE) logs nothing.
 *  - Each line is emitted with one write(2) per sink, so processes that
 *    append to one file never interleave inside a line.
 *  - A sink that cannot be opened is reported once on stderr; logging never
 *    fails a caller and never aborts.
 *  - Thread-safe. Messages are truncated at WLOG_LINE_MAX bytes.
 *  - Callers never pass secrets (PINs, passphrases, key bytes) to it.
 */
#ifndef PKCS11WSOP_CONF_LOG_H
#define PKCS11WSOP_CONF_LOG_H

#include <stdbool.h>
#include <stdarg.h>

enum wlog_level {
	WLOG_NONE = 0,
	WLOG_PANIC = 1,
	WLOG_ERROR = 2,
	WLOG_WARNING = 3,
	WLOG_INFO = 4,
	WLOG_DEBUG = 5,
	WLOG_TRACE = 6,
};

#define WLOG_LINE_MAX 2048

struct wlog_config {
	int level;             /* 0..6 */
	const char *ident;     /* "pkcs11wsop" or "wsopd"; NULL means "pkcs11wsop" */
	const char *file_path; /* append to this file (created 0600); NULL: no file */
	bool to_stdout;        /* LOGSTDOUT */
	bool to_stderr;        /* wsopd and tools */
	bool to_syslog;        /* LOGSYS, ident as syslog ident */
	/* Syslog facility of audit lines (LOG_AUTHPRIV, LOG_LOCAL0...); 0
	 * means LOG_AUTHPRIV. Other lines go to LOG_USER. */
	int audit_facility;
};

/* Opens the sinks (closing any earlier ones). Always succeeds as far as the
 * caller is concerned: failures are reported once on stderr. With level 0
 * no sink is opened (no log file is created). */
void wlog_open(const struct wlog_config *cfg);

/* Uses an already-open fd as the file sink (the confined helper gets its log
 * fd from the library instead of opening the file). The fd is not closed by
 * wlog_close(). A negative fd removes the file sink. Call it after
 * wlog_open(), which drops (without closing) an fd given earlier. */
void wlog_use_fd(int fd);

/* Closes all sinks; later calls log nothing until wlog_open(). */
void wlog_close(void);

bool wlog_enabled(int level);

/* Level name as printed ("ERROR"...), "NONE" for 0, NULL when out of range. */
const char *wlog_level_name(int level);

void wlog(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void wlogv(int level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* An audit line (conf/audit.h builds them): logged at level like any
 * line, but in syslog at the audit facility, so that an administrator can
 * route the audit trail apart from the rest. text is logged as it is. */
void wlog_audit(int level, const char *text);

/* TRACE line with thread id and PKCS #11 session handle (0 when none). */
void wlog_trace(unsigned long session, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
