/*
 * The pkcs11wsop.cfg parser.
 *
 * File syntax: one directive per line, "NAME<blanks>VALUE". NAME is one of
 * the upper-case directives below (case-sensitive); VALUE is the rest of the
 * line with surrounding blanks trimmed, so paths may contain spaces. Lines
 * whose first non-blank character is '#' are comments, blank lines are
 * skipped, a CR before the LF is ignored. Integers are plain decimal: no
 * sign, no base prefix, no trailing characters, no overflow.
 *
 *   directive    meaning                               range          default
 *   HOST         key server(s): name[:port][, ...]     see below      (none)
 *   PORT         key server TCP port                   1..65535       18001
 *   CERT         client certificate (PEM path)         path           (none)
 *   KEY          client private key (PEM path)         path           (none)
 *   AUTH         CA certificate(s) of the server       path           (none)
 *   LOGLEVEL     0 none .. 6 trace                     0..6           4
 *   LOGFILEPATH  log file                              path           PKCS11WSOP_LOG_PATH
 *   LOGSTDOUT    also log to stdout                    0|1            0
 *   LOGSYS       also log to syslog                    0|1            0
 *   LOGFACILITY  syslog facility of audit lines        name           authpriv
 *   MAXRETRIES   retries of a failed request           0..256        5
 *   RETRYDELAY   seconds between retries               0..31536000    10
 *   TIMEOUT      seconds one attempt of a request      1..3600        30
 *
 * HOST names one server or several: "name[:port][, name[:port] ...]", items
 * separated by commas with blanks allowed around them, at most
 * CONFIG_SERVERS_MAX. A name is 1..255 bytes with no blank, control
 * character, comma or bracket; an item without a port uses PORT (wherever
 * PORT appears in the file). An IPv6 literal is written in brackets when it
 * has a port ("[::1]:18443"); an item with two or more colons and no
 * brackets is taken whole as an address without a port, so "HOST ::1" means
 * what a single name always meant. Errors: an empty item, a bad name or
 * port, too many items, the same server twice. servers[] lists them in
 * order; host and port keep the first name and PORT.
 * A relative LOGFILEPATH is taken inside the folder of PKCS11WSOP_LOG_PATH
 * (so "LOGFILEPATH pkcs11wsop.log" means the default file); CERT, KEY and AUTH
 * are kept as written.
 * RETRYDELAY has no documented maximum; one year is accepted as the bound.
 * TIMEOUT and LOGFACILITY are extensions of this implementation. LOGFACILITY
 * is one of authpriv, auth, daemon, user, local0..local7 (any case) and
 * is kept as the <syslog.h> LOG_* value.
 *
 * Errors (fatal): a bad or missing value, a line longer than
 * CONFIG_LINE_MAX, a file larger than CONFIG_FILE_MAX, a file that cannot be
 * read. Warnings (not fatal): an unknown directive, a directive given twice
 * (the last one wins), a file that every user may write. Every message names the source, the line
 * and the directive, e.g. "/etc/x.cfg:7: PORT: '70000' is not a port number (1-65535)". The parser
 * never prints; messages go to the caller's struct config_report.
 */
#ifndef PKCS11WSOP_CONF_CONFIG_H
#define PKCS11WSOP_CONF_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "conf/log.h"

#define CONFIG_HOST_MAX 256   /* buffer size, terminator included */
#define CONFIG_PATH_MAX 4096  /* buffer size, terminator included */
#define CONFIG_LINE_MAX 4096  /* longest line, line terminator excluded */
#define CONFIG_FILE_MAX 65536 /* largest file */
#define CONFIG_MSG_MAX  4608  /* room for a full path plus the message */

#define CONFIG_SERVERS_MAX 8 /* servers HOST may name */

#define CONFIG_DEFAULT_PORT       18001
#define CONFIG_DEFAULT_LOGLEVEL   4
#define CONFIG_DEFAULT_MAXRETRIES 5
#define CONFIG_DEFAULT_RETRYDELAY 10
#define CONFIG_DEFAULT_TIMEOUT    30
#define CONFIG_MAX_MAXRETRIES     256
#define CONFIG_MAX_RETRYDELAY     (86400u * 365u)
#define CONFIG_MAX_TIMEOUT        3600

/* One server of HOST. */
struct config_server {
	char host[CONFIG_HOST_MAX]; /* name or address (an IPv6 one without brackets) */
	unsigned port;              /* its own port, else PORT */
	bool own_port;              /* the port was given in HOST */
};

struct wsop_config {
	char host[CONFIG_HOST_MAX]; /* the first server's name; "" when HOST is not set */
	unsigned port;              /* PORT */
	struct config_server servers[CONFIG_SERVERS_MAX];
	unsigned n_servers; /* 0 when HOST is not set */
	char cert[CONFIG_PATH_MAX];
	char key[CONFIG_PATH_MAX];
	char auth[CONFIG_PATH_MAX];
	int loglevel;
	char logfilepath[CONFIG_PATH_MAX];
	bool logstdout;
	bool logsys;
	int logfacility; /* LOG_AUTHPRIV, LOG_LOCAL0, ...: of audit lines only */
	unsigned maxretries;
	unsigned retrydelay; /* seconds */
	unsigned timeout;    /* seconds */
};

/* Called once per warning, in file order; msg is valid during the call. */
typedef void (*config_warning_fn)(void *ctx, const char *msg);

struct config_report {
	/* in: optional; NULL just counts the warnings */
	config_warning_fn on_warning;
	void *ctx;
	/* out: the error (empty string when none), the first warning and the
	 * number of warnings */
	char error[CONFIG_MSG_MAX];
	char first_warning[CONFIG_MSG_MAX];
	unsigned warnings;
};

/* Fills every field with its default (host/cert/key/auth empty). */
void config_set_defaults(struct wsop_config *cfg);

/* Path of the configuration file: $PKCS11WSOP_CONF when set and non-empty
 * (ignored in set-uid programs), else the built-in PKCS11WSOP_CONF_PATH. */
const char *config_default_path(void);

/*
 * Parses text[0..len) (need not be NUL-terminated; a NUL byte is an error)
 * into *out, which must already hold defaults or earlier values.
 * source_name names the text in messages. report may be NULL; it is reset
 * first. Returns 0, or -EINVAL on the first error (report->error says why;
 * *out is then partly updated and must not be used), -EFBIG when len exceeds
 * CONFIG_FILE_MAX.
 */
int config_parse(const char *source_name, const char *text, size_t len, struct wsop_config *out,
                 struct config_report *report);

/*
 * config_set_defaults() then config_parse() of the file at path. Returns 0 or
 * a negative errno: -ENOENT/-EACCES/... when it cannot be opened or read
 * ("cannot open PATH: No such file or directory"), -EFBIG when larger than
 * CONFIG_FILE_MAX, -EINVAL on a syntax error.
 */
int config_load_file(const char *path, struct wsop_config *out, struct config_report *report);

/* HOST, CERT, KEY and AUTH are needed to reach the server. Returns 0, or
 * -EINVAL naming the first missing one in report->error (report may be NULL).
 * The report's warnings (from config_load_file) are kept. */
int config_check_connection(const struct wsop_config *cfg, struct config_report *report);

/* Maps the LOG* directives onto a logger configuration. The strings of *out
 * point into *cfg (and ident), so cfg must outlive the wlog_open() call. */
void config_to_wlog(const struct wsop_config *cfg, const char *ident, struct wlog_config *out);

#endif
