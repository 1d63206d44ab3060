/* Tests of the pkcs11wsop.cfg parser: one test per documented behaviour. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "build_config.h"
#include "conf/config.h"

struct fixture {
	struct wsop_config cfg;
	struct config_report rep;
	char dir[64];
	char warnings[8][CONFIG_MSG_MAX];
	unsigned nwarn;
};

static void collect_warning(void *ctx, const char *msg)
{
	struct fixture *f = ctx;

	if (f->nwarn < 8)
		snprintf(f->warnings[f->nwarn], CONFIG_MSG_MAX, "%s", msg);
	f->nwarn++;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	config_set_defaults(&f->cfg);
	f->rep.on_warning = collect_warning;
	f->rep.ctx = f;
	*state = f;
	return 0;
}

static int setup_dir(void **state)
{
	struct fixture *f;

	if (setup(state) != 0)
		return -1;
	f = *state;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test-conf-XXXXXX");
	return mkdtemp(f->dir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	if (f->dir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
		if (system(cmd) != 0)
			return -1;
	}
	free(f);
	return 0;
}

/* Parses len bytes of text (which may hold NULs) as the file t.cfg. */
static int parse_bytes(struct fixture *f, const char *text, size_t len)
{
	return config_parse("t.cfg", text, len, &f->cfg, &f->rep);
}

static int parse(struct fixture *f, const char *text)
{
	return parse_bytes(f, text, strlen(text));
}

/* Parses "NAME VALUE\n" on line 1 from fresh defaults. */
static int parse_one(struct fixture *f, const char *name, const char *value)
{
	char text[256];

	config_set_defaults(&f->cfg);
	snprintf(text, sizeof(text), "%s %s\n", name, value);
	return parse(f, text);
}

static void write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

/* Every field of a parsed configuration, as a test expects it. */
struct want_config {
	const char *host;
	unsigned port;
	const char *cert, *key, *auth;
	int loglevel;
	const char *logfilepath;
	bool logstdout, logsys;
	unsigned maxretries, retrydelay, timeout;
};

static void expect_config(const struct wsop_config *cfg, const struct want_config *want)
{
	const char *got_text[] = { cfg->host, cfg->cert, cfg->key, cfg->auth, cfg->logfilepath };
	const char *want_text[] = { want->host, want->cert, want->key, want->auth,
		                    want->logfilepath };
	const long got_num[] = { cfg->port,       cfg->loglevel,   cfg->logstdout, cfg->logsys,
		                 cfg->maxretries, cfg->retrydelay, cfg->timeout };
	const long want_num[] = { want->port,       want->loglevel,   want->logstdout, want->logsys,
		                  want->maxretries, want->retrydelay, want->timeout };

	for (size_t i = 0; i < sizeof(got_text) / sizeof(got_text[0]); i++)
		assert_string_equal(got_text[i], want_text[i]);
	for (size_t i = 0; i < sizeof(got_num) / sizeof(got_num[0]); i++)
		assert_int_equal(got_num[i], want_num[i]);
}

static void defaults_are_documented_values(void **state)
{
	struct fixture *f = *state;

	const struct want_config want = { "",    18001, "", "", "", 4, PKCS11WSOP_LOG_PATH,
		                          false, false, 5,  10, 30 };

	expect_config(&f->cfg, &want);
}

static void empty_file_keeps_defaults(void **state)
{
	struct fixture *f = *state;
	struct wsop_config d;

	config_set_defaults(&d);
	assert_int_equal(parse_bytes(f, "", 0), 0);
	assert_memory_equal(&d, &f->cfg, sizeof(d));
	assert_string_equal(f->rep.error, "");
	assert_int_equal(f->rep.warnings, 0);
}

static void every_directive_is_parsed(void **state)
{
	struct fixture *f = *state;
	const struct want_config want = { "wsop.example.com",
		                          443,
		                          "/etc/p/client.crt",
		                          "/etc/p/client.key",
		                          "/etc/p/ca.crt",
		                          6,
		                          "/var/log/p.log",
		                          true,
		                          true,
		                          7,
		                          3,
		                          9 };

	assert_int_equal(parse(f, "HOST wsop.example.com\n"
	                          "PORT 443\n"
	                          "CERT /etc/p/client.crt\n"
	                          "KEY /etc/p/client.key\n"
	                          "AUTH /etc/p/ca.crt\n"
	                          "LOGLEVEL 6\n"
	                          "LOGFILEPATH /var/log/p.log\n"
	                          "LOGSTDOUT 1\n"
	                          "LOGSYS 1\n"
	                          "MAXRETRIES 7\n"
	                          "RETRYDELAY 3\n"
	                          "TIMEOUT 9\n"),
	                 0);
	expect_config(&f->cfg, &want);
	assert_int_equal(f->rep.warnings, 0);
}

struct limit {
	const char *name;
	unsigned min, max;
	const char *what;
	size_t offset;
};

static const struct limit limits[] = {
	{ "PORT", 1, 65535, "a port number", offsetof(struct wsop_config, port) },
	{ "LOGLEVEL", 0, 6, "a log level", offsetof(struct wsop_config, loglevel) },
	{ "MAXRETRIES", 0, 256, "a retry count", offsetof(struct wsop_config, maxretries) },
	{ "RETRYDELAY", 0, 31536000, "a number of seconds",
	  offsetof(struct wsop_config, retrydelay) },
	{ "TIMEOUT", 1, 3600, "a number of seconds", offsetof(struct wsop_config, timeout) },
};

static unsigned field_value(const struct fixture *f, const struct limit *l)
{
	/* loglevel is an int, the others unsigned; both hold small values */
	if (strcmp(l->name, "LOGLEVEL") == 0)
		return (unsigned)f->cfg.loglevel;
	return *(const unsigned *)(const void *)((const char *)&f->cfg + l->offset);
}

static void expect_bad(struct fixture *f, const struct limit *l, const char *value)
{
	char want[256];

	assert_int_equal(parse_one(f, l->name, value), -EINVAL);
	snprintf(want, sizeof(want), "t.cfg:1: %s: '%s' is not %s (%u-%u)", l->name, value, l->what,
	         l->min, l->max);
	assert_string_equal(f->rep.error, want);
}

static void integer_limits_are_enforced(void **state)
{
	struct fixture *f = *state;
	char v[32];

	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		const struct limit *l = &limits[i];

		snprintf(v, sizeof(v), "%u", l->min);
		assert_int_equal(parse_one(f, l->name, v), 0);
		assert_int_equal(field_value(f, l), l->min);
		assert_string_equal(f->rep.error, "");

		snprintf(v, sizeof(v), "%u", l->max);
		assert_int_equal(parse_one(f, l->name, v), 0);
		assert_int_equal(field_value(f, l), l->max);

		snprintf(v, sizeof(v), "%u", l->max + 1);
		expect_bad(f, l, v);
		if (l->min > 0) {
			snprintf(v, sizeof(v), "%u", l->min - 1);
			expect_bad(f, l, v);
		}
		expect_bad(f, l, "abc");
		expect_bad(f, l, "-1");
		expect_bad(f, l, "+1");
		expect_bad(f, l, "0x1");
		expect_bad(f, l, "1x");
		expect_bad(f, l, "1.5");
		expect_bad(f, l, "1 2");
		expect_bad(f, l, "4294967297");
		expect_bad(f, l, "99999999999999999999999999");
	}
}

static void leading_zeros_are_decimal(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(parse_one(f, "PORT", "010"), 0);
	assert_int_equal(f->cfg.port, 10);
}

static void missing_value_is_an_error(void **state)
{
	struct fixture *f = *state;
	static const char *const names[] = { "HOST",   "PORT",       "CERT",        "KEY",
		                             "AUTH",   "LOGLEVEL",   "LOGFILEPATH", "LOGSTDOUT",
		                             "LOGSYS", "MAXRETRIES", "RETRYDELAY",  "TIMEOUT" };
	char text[64], want[64];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		config_set_defaults(&f->cfg);
		snprintf(text, sizeof(text), "# c\n%s \t \r\n", names[i]);
		assert_int_equal(parse(f, text), -EINVAL);
		snprintf(want, sizeof(want), "t.cfg:2: %s: missing value", names[i]);
		assert_string_equal(f->rep.error, want);
		/* and with no blank at all */
		snprintf(text, sizeof(text), "%s", names[i]);
		assert_int_equal(parse(f, text), -EINVAL);
		snprintf(want, sizeof(want), "t.cfg:1: %s: missing value", names[i]);
		assert_string_equal(f->rep.error, want);
	}
}

static void switches_take_only_0_or_1(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = { "2", "yes", "-0", "+1", "01x", "true" };

	assert_int_equal(parse_one(f, "LOGSTDOUT", "1"), 0);
	assert_true(f->cfg.logstdout);
	assert_int_equal(parse(f, "LOGSTDOUT 0"), 0);
	assert_false(f->cfg.logstdout);
	assert_int_equal(parse_one(f, "LOGSYS", "1"), 0);
	assert_true(f->cfg.logsys);
	assert_int_equal(parse(f, "LOGSYS 0"), 0);
	assert_false(f->cfg.logsys);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[64];

		assert_int_equal(parse_one(f, "LOGSYS", bad[i]), -EINVAL);
		snprintf(want, sizeof(want), "t.cfg:1: LOGSYS: '%s' is not 0 or 1", bad[i]);
		assert_string_equal(f->rep.error, want);
		assert_int_equal(parse_one(f, "LOGSTDOUT", bad[i]), -EINVAL);
		snprintf(want, sizeof(want), "t.cfg:1: LOGSTDOUT: '%s' is not 0 or 1", bad[i]);
		assert_string_equal(f->rep.error, want);
	}
}

static void long_values_are_quoted_shortened(void **state)
{
	struct fixture *f = *state;
	char text[256], want[256];

	memset(text, 0, sizeof(text));
	memcpy(text, "PORT ", 5);
	memset(text + 5, '9', 100);
	assert_int_equal(parse(f, text), -EINVAL);
	snprintf(want, sizeof(want), "t.cfg:1: PORT: '%.64s...' is not a port number (1-65535)",
	         text + 5);
	assert_string_equal(f->rep.error, want);
}

static void host_length_and_shape(void **state)
{
	struct fixture *f = *state;
	char text[CONFIG_HOST_MAX + 16];

	memcpy(text, "HOST ", 5);
	memset(text + 5, 'h', CONFIG_HOST_MAX - 1);
	text[5 + CONFIG_HOST_MAX - 1] = '\0';
	assert_int_equal(parse(f, text), 0);
	assert_int_equal(strlen(f->cfg.host), CONFIG_HOST_MAX - 1);

	text[5 + CONFIG_HOST_MAX - 1] = 'h';
	text[5 + CONFIG_HOST_MAX] = '\0';
	assert_int_equal(parse(f, text), -EINVAL);
	char want[CONFIG_MSG_MAX];
	snprintf(want, sizeof(want), "t.cfg:1: HOST: '%.64s...' is longer than 255 bytes",
	         text + 5);
	assert_string_equal(f->rep.error, want);

	assert_int_equal(parse_one(f, "HOST", "two words"), -EINVAL);
	assert_string_equal(f->rep.error, "t.cfg:1: HOST: 'two words' is not a host name");
	assert_int_equal(parse_one(f, "HOST", "::1"), 0);
	assert_string_equal(f->cfg.host, "::1");
}

static void assert_server(const struct wsop_config *cfg, unsigned i, const char *host,
                          unsigned port)
{
	assert_true(i < cfg->n_servers);
	assert_string_equal(cfg->servers[i].host, host);
	assert_int_equal(cfg->servers[i].port, port);
}

/* One name keeps meaning what it always meant: that host on PORT. */
static void host_single_name_is_one_server_on_port(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(parse(f, "HOST wsop.example.com\nPORT 443\n"), 0);
	assert_int_equal(f->cfg.n_servers, 1);
	assert_server(&f->cfg, 0, "wsop.example.com", 443);
	assert_string_equal(f->cfg.host, "wsop.example.com");
	/* An unbracketed IPv6 address is one name, on PORT. */
	assert_int_equal(parse_one(f, "HOST", "fe80::1:2"), 0);
	assert_int_equal(f->cfg.n_servers, 1);
	assert_server(&f->cfg, 0, "fe80::1:2", CONFIG_DEFAULT_PORT);
	/* No HOST: no server. */
	config_set_defaults(&f->cfg);
	assert_int_equal(parse(f, "PORT 1\n"), 0);
	assert_int_equal(f->cfg.n_servers, 0);
}

/* PORT applies to items without a port wherever it appears in the file. */
static void host_list_with_ports_and_blanks(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(parse(f, "HOST a.example:18001 ,\tb.example ,c.example:3, [::1]:18443, "
	                          "[fe80::1%eth0]\nPORT 7\n"),
	                 0);
	assert_int_equal(f->cfg.n_servers, 5);
	assert_server(&f->cfg, 0, "a.example", 18001);
	assert_server(&f->cfg, 1, "b.example", 7);
	assert_server(&f->cfg, 2, "c.example", 3);
	assert_server(&f->cfg, 3, "::1", 18443);
	assert_server(&f->cfg, 4, "fe80::1%eth0", 7);
	assert_string_equal(f->cfg.host, "a.example");
	assert_int_equal(f->cfg.port, 7);
	assert_int_equal(f->rep.warnings, 0);
	/* The same host on several ports: a cluster on one machine. */
	assert_int_equal(parse_one(f, "HOST", "127.0.0.1:1,127.0.0.1:2,localhost"), 0);
	assert_int_equal(f->cfg.n_servers, 3);
	assert_server(&f->cfg, 1, "127.0.0.1", 2);
	assert_server(&f->cfg, 2, "localhost", CONFIG_DEFAULT_PORT);
}

static void assert_host_error(struct fixture *f, const char *value, const char *error)
{
	char want[CONFIG_MSG_MAX];

	assert_int_equal(parse_one(f, "HOST", value), -EINVAL);
	snprintf(want, sizeof(want), "t.cfg:1: HOST: %s", error);
	assert_string_equal(f->rep.error, want);
}

static void host_list_edge_cases_are_errors(void **state)
{
	struct fixture *f = *state;
	const char *empty = "empty server name in the list (a comma too many?)";

	assert_host_error(f, "a,,b", empty);
	assert_host_error(f, "a,", empty);
	assert_host_error(f, ", a", empty);
	assert_host_error(f, "a, \t ,b", empty);
	assert_host_error(f, ",", empty);
	assert_host_error(f, "a:0", "'a:0' has a bad port (1-65535)");
	assert_host_error(f, "a:65536", "'a:65536' has a bad port (1-65535)");
	assert_host_error(f, "a:", "'a:' has a bad port (1-65535)");
	assert_host_error(f, "a:+1", "'a:+1' has a bad port (1-65535)");
	assert_host_error(f, "a:1x", "'a:1x' has a bad port (1-65535)");
	assert_host_error(f, ":18001", "':18001' is not a host name");
	assert_host_error(f, "a b, c", "'a b' is not a host name");
	assert_host_error(f, "[::1", "'[::1' has no closing ']'");
	assert_host_error(f, "[::1]x", "'[::1]x' has text after ']' that is not :port");
	assert_host_error(f, "[::1]:", "'[::1]:' has a bad port (1-65535)");
	assert_host_error(f, "[]:1", "'[]:1' is not a host name");
	assert_host_error(f, "[a/b]", "'[a/b]' is not a host name");
	assert_host_error(f, "a]b", "'a]b' is not a host name");
	assert_host_error(f, "a:1, a:1", "server a port 1 is named twice");
	/* Named twice once PORT is known. */
	config_set_defaults(&f->cfg);
	assert_int_equal(parse(f, "HOST b:9, b\nPORT 9\n"), -EINVAL);
	assert_string_equal(f->rep.error, "t.cfg:1: HOST: server b port 9 is named twice");
	/* A failed HOST leaves the earlier servers as they were. */
	config_set_defaults(&f->cfg);
	assert_int_equal(parse(f, "HOST x:1, y:2\n"), 0);
	assert_int_equal(parse(f, "HOST z:1,,\n"), -EINVAL);
	assert_int_equal(f->cfg.n_servers, 2);
	assert_server(&f->cfg, 1, "y", 2);
}

static void host_list_is_bounded(void **state)
{
	struct fixture *f = *state;
	char value[512] = "";

	for (int i = 0; i < CONFIG_SERVERS_MAX; i++) {
		char item[32];
		snprintf(item, sizeof(item), "%sh%d:%d", i ? ", " : "", i, i + 1);
		strcat(value, item);
	}
	assert_int_equal(parse_one(f, "HOST", value), 0);
	assert_int_equal(f->cfg.n_servers, CONFIG_SERVERS_MAX);
	assert_server(&f->cfg, CONFIG_SERVERS_MAX - 1, "h7", CONFIG_SERVERS_MAX);
	strcat(value, ", one-more");
	char want[64];
	snprintf(want, sizeof(want), "more than %d servers", CONFIG_SERVERS_MAX);
	assert_host_error(f, value, want);
	/* Each name is bounded by itself, in a list too. */
	char text[CONFIG_HOST_MAX + 32];
	memcpy(text, "HOST a, ", 8);
	memset(text + 8, 'h', CONFIG_HOST_MAX);
	text[8 + CONFIG_HOST_MAX] = '\0';
	assert_int_equal(parse(f, text), -EINVAL);
	assert_non_null(strstr(f->rep.error, "is longer than 255 bytes"));
}

static void paths_keep_inner_spaces(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(parse(f, "CERT \t /my certs/client one.crt \t \r\n"
	                          "\tKEY\t/k k\n"
	                          "AUTH  relative/ca.crt"),
	                 0);
	assert_string_equal(f->cfg.cert, "/my certs/client one.crt");
	assert_string_equal(f->cfg.key, "/k k");
	assert_string_equal(f->cfg.auth, "relative/ca.crt");
}

static void relative_log_path_is_in_log_folder(void **state)
{
	struct fixture *f = *state;
	char want[CONFIG_PATH_MAX];
	const char *slash = strrchr(PKCS11WSOP_LOG_PATH, '/');

	assert_non_null(slash);
	assert_int_equal(parse(f, "LOGFILEPATH other.log\n"), 0);
	snprintf(want, sizeof(want), "%.*sother.log", (int)(slash - PKCS11WSOP_LOG_PATH + 1),
	         PKCS11WSOP_LOG_PATH);
	assert_string_equal(f->cfg.logfilepath, want);
	assert_int_equal(parse(f, "LOGFILEPATH pkcs11wsop.log\n"), 0);
	assert_string_equal(f->cfg.logfilepath, PKCS11WSOP_LOG_PATH);
	assert_int_equal(parse(f, "LOGFILEPATH /abs/x.log\n"), 0);
	assert_string_equal(f->cfg.logfilepath, "/abs/x.log");
}

static void long_path_is_rejected(void **state)
{
	struct fixture *f = *state;
	char *text = malloc(CONFIG_LINE_MAX + 1);

	assert_non_null(text);
	/* the longest line holds a 4091-byte value after "CERT ": it fits */
	memcpy(text, "CERT /", 6);
	memset(text + 6, 'p', CONFIG_LINE_MAX - 6);
	text[CONFIG_LINE_MAX] = '\0';
	assert_int_equal(parse(f, text), 0);
	assert_int_equal(strlen(f->cfg.cert), CONFIG_LINE_MAX - 5);
	/* a relative log path gets the log folder in front and can overflow */
	memcpy(text, "LOGFILEPATH p", 13);
	assert_int_equal(parse(f, text), -EINVAL);
	assert_non_null(strstr(f->rep.error, "t.cfg:1: LOGFILEPATH: value longer than "));
	free(text);
}

static void comments_blank_lines_tabs_and_crlf(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(parse(f, "# a comment\r\n"
	                          "   # indented comment PORT 1\n"
	                          "\t#tabbed\n"
	                          "\n"
	                          "   \t  \r\n"
	                          "\r\n"
	                          "\tPORT\t\t 1234 \t\r\n"
	                          "HOST   h1#notacomment\r\n"
	                          "MAXRETRIES 0"),
	                 0);
	assert_int_equal(f->cfg.port, 1234);
	assert_string_equal(f->cfg.host, "h1#notacomment");
	assert_int_equal(f->cfg.maxretries, 0);
	assert_int_equal(f->rep.warnings, 0);
}

static void byte_order_mark_is_skipped(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(parse(f, "\xEF\xBB\xBFPORT 5\n"), 0);
	assert_int_equal(f->cfg.port, 5);
}

static void directives_are_case_sensitive(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(parse(f, "port 5\n"), 0);
	assert_int_equal(f->cfg.port, 18001);
	assert_int_equal(f->rep.warnings, 1);
	assert_string_equal(f->rep.first_warning, "t.cfg:1: unknown directive 'port' ignored");
}

static void unknown_directive_warns_and_continues(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(parse(f, "\n\nFOO bar\nPORT 7\nPORT=8\nBAZ\n"), 0);
	assert_int_equal(f->cfg.port, 7);
	assert_int_equal(f->rep.warnings, 3);
	assert_int_equal(f->nwarn, 3);
	assert_string_equal(f->rep.first_warning, "t.cfg:3: unknown directive 'FOO' ignored");
	assert_string_equal(f->warnings[0], "t.cfg:3: unknown directive 'FOO' ignored");
	assert_string_equal(f->warnings[1], "t.cfg:5: unknown directive 'PORT=8' ignored");
	assert_string_equal(f->warnings[2], "t.cfg:6: unknown directive 'BAZ' ignored");
	assert_string_equal(f->rep.error, "");
}

static void warnings_without_callback_are_counted(void **state)
{
	struct fixture *f = *state;

	f->rep.on_warning = NULL;
	assert_int_equal(parse(f, "A 1\nB 2\n"), 0);
	assert_int_equal(f->rep.warnings, 2);
	assert_int_equal(f->nwarn, 0);
	assert_string_equal(f->rep.first_warning, "t.cfg:1: unknown directive 'A' ignored");
	/* and a NULL report is allowed */
	assert_int_equal(config_parse("t.cfg", "A 1\nPORT 9", 10, &f->cfg, NULL), 0);
	assert_int_equal(f->cfg.port, 9);
	assert_int_equal(config_parse("t.cfg", "PORT 0", 6, &f->cfg, NULL), -EINVAL);
}

static void duplicate_directive_warns_last_wins(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(parse(f, "PORT 1\nHOST a\nPORT 2\n# x\nPORT 3\n"), 0);
	assert_int_equal(f->cfg.port, 3);
	assert_int_equal(f->nwarn, 2);
	assert_string_equal(f->warnings[0],
	                    "t.cfg:3: PORT: also given on line 1; this value replaces it");
	assert_string_equal(f->warnings[1],
	                    "t.cfg:5: PORT: also given on line 3; this value replaces it");
}

static void error_stops_at_first_bad_line(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(parse(f, "PORT 1\n\n\n\n\n\nPORT 70000\nTIMEOUT 0\n"), -EINVAL);
	assert_string_equal(f->rep.error, "t.cfg:7: PORT: '70000' is not a port number (1-65535)");
}

static void report_is_reset_by_each_parse(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(parse(f, "X 1\nPORT 0\n"), -EINVAL);
	assert_int_equal(parse(f, "PORT 1\n"), 0);
	assert_string_equal(f->rep.error, "");
	assert_string_equal(f->rep.first_warning, "");
	assert_int_equal(f->rep.warnings, 0);
}

static void nul_byte_is_an_error(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(parse_bytes(f, "PORT 1\nHOST a\0b\n", 16), -EINVAL);
	assert_string_equal(f->rep.error, "t.cfg:2: NUL byte in line");
}

static void line_length_limit(void **state)
{
	struct fixture *f = *state;
	size_t n = CONFIG_LINE_MAX + 3;
	char *text = malloc(n);

	assert_non_null(text);
	/* exactly CONFIG_LINE_MAX bytes, then CRLF: accepted */
	text[0] = '#';
	memset(text + 1, 'x', CONFIG_LINE_MAX - 1);
	memcpy(text + CONFIG_LINE_MAX, "\r\n", 2);
	assert_int_equal(parse_bytes(f, text, CONFIG_LINE_MAX + 2), 0);
	/* one byte more: refused, even in a comment */
	memset(text + 1, 'x', CONFIG_LINE_MAX);
	text[CONFIG_LINE_MAX + 1] = '\n';
	assert_int_equal(parse_bytes(f, text, CONFIG_LINE_MAX + 2), -EINVAL);
	assert_string_equal(f->rep.error, "t.cfg:1: line longer than 4096 bytes");
	free(text);
}

static void text_size_limit(void **state)
{
	struct fixture *f = *state;
	char *text = malloc(CONFIG_FILE_MAX + 1);

	assert_non_null(text);
	memset(text, '\n', CONFIG_FILE_MAX + 1);
	assert_int_equal(parse_bytes(f, text, CONFIG_FILE_MAX), 0);
	assert_int_equal(parse_bytes(f, text, CONFIG_FILE_MAX + 1), -EFBIG);
	assert_string_equal(f->rep.error, "t.cfg: file is larger than 65536 bytes");
	free(text);
}

static void load_file_reads_and_names_file(void **state)
{
	struct fixture *f = *state;
	char path[128], want[256];
	const char *text = "PORT 2\nTIMEOUT 3601\n";

	snprintf(path, sizeof(path), "%s/pkcs11wsop.cfg", f->dir);
	write_file(path, "PORT 2\nHOST h\n", 14);
	f->cfg.port = 99;
	assert_int_equal(config_load_file(path, &f->cfg, &f->rep), 0);
	assert_int_equal(f->cfg.port, 2);
	assert_int_equal(f->cfg.timeout, 30); /* defaults were set first */

	write_file(path, text, strlen(text));
	assert_int_equal(config_load_file(path, &f->cfg, &f->rep), -EINVAL);
	snprintf(want, sizeof(want), "%s:2: TIMEOUT: '3601' is not a number of seconds (1-3600)",
	         path);
	assert_string_equal(f->rep.error, want);
}

static void world_writable_file_warns(void **state)
{
	struct fixture *f = *state;
	char path[128], want[256];

	snprintf(path, sizeof(path), "%s/open.cfg", f->dir);
	write_file(path, "PORT 3\n", 7);
	assert_int_equal(chmod(path, 0666), 0);
	assert_int_equal(config_load_file(path, &f->cfg, &f->rep), 0);
	assert_int_equal(f->cfg.port, 3);
	assert_int_equal(f->rep.warnings, 1);
	snprintf(want, sizeof(want),
	         "%s: writable by every user; anyone could point the library at another server",
	         path);
	assert_string_equal(f->rep.first_warning, want);
	assert_string_equal(f->warnings[0], want);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(config_load_file(path, &f->cfg, &f->rep), 0);
	assert_int_equal(f->rep.warnings, 0);
}

static void missing_file_is_a_clear_error(void **state)
{
	struct fixture *f = *state;
	char path[128], want[384];

	snprintf(path, sizeof(path), "%s/pkcs11wsop.cfg", f->dir);
	assert_int_equal(config_load_file(path, &f->cfg, &f->rep), -ENOENT);
	snprintf(want, sizeof(want),
	         "cannot open %s: No such file or directory; start from example_pkcs11wsop.cfg in "
	         "the same folder (or set PKCS11WSOP_CONF to the file to use)",
	         path);
	assert_string_equal(f->rep.error, want);

	assert_int_equal(config_load_file(f->dir, &f->cfg, &f->rep), -EISDIR);
	snprintf(want, sizeof(want), "cannot read %s: Is a directory", f->dir);
	assert_string_equal(f->rep.error, want);

	assert_int_equal(config_load_file("", &f->cfg, &f->rep), -EINVAL);
	assert_int_equal(config_load_file(NULL, &f->cfg, &f->rep), -EINVAL);
}

static void fifo_is_refused(void **state)
{
	struct fixture *f = *state;
	char path[128], want[256];

	snprintf(path, sizeof(path), "%s/fifo.cfg", f->dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(config_load_file(path, &f->cfg, &f->rep), -EINVAL);
	snprintf(want, sizeof(want), "cannot read %s: not a regular file", path);
	assert_string_equal(f->rep.error, want);
}

static void big_file_is_refused_before_reading(void **state)
{
	struct fixture *f = *state;
	char path[128], want[256];
	char *text = malloc(CONFIG_FILE_MAX + 1);

	assert_non_null(text);
	memset(text, '\n', CONFIG_FILE_MAX + 1);
	snprintf(path, sizeof(path), "%s/big.cfg", f->dir);
	write_file(path, text, CONFIG_FILE_MAX);
	assert_int_equal(config_load_file(path, &f->cfg, &f->rep), 0);
	write_file(path, text, CONFIG_FILE_MAX + 1);
	assert_int_equal(config_load_file(path, &f->cfg, &f->rep), -EFBIG);
	snprintf(want, sizeof(want), "%s: file is larger than 65536 bytes", path);
	assert_string_equal(f->rep.error, want);
	free(text);
}

/* Returns 0 when the load fails with EACCES and the expected message. */
static int expect_unreadable(struct fixture *f, const char *path)
{
	char want[256];
	int rc = config_load_file(path, &f->cfg, &f->rep);

	snprintf(want, sizeof(want), "cannot open %s: Permission denied", path);
	return rc == -EACCES && strcmp(f->rep.error, want) == 0 ? 0 : 1;
}

static void unreadable_file_is_reported(void **state)
{
	struct fixture *f = *state;
	char path[128];
	pid_t pid;
	int st;

	snprintf(path, sizeof(path), "%s/secret.cfg", f->dir);
	write_file(path, "PORT 1\n", 7);
	assert_int_equal(chmod(path, 0), 0);
	if (geteuid() != 0) {
		assert_int_equal(expect_unreadable(f, path), 0);
		return;
	}
	/* root reads anything: check as an unprivileged user instead */
	assert_int_equal(chmod(f->dir, 0755), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(2);
		_exit(expect_unreadable(f, path));
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void default_path_follows_environment(void **state)
{
	const char *meson_env = getenv("PKCS11WSOP_CONF");
	char *saved = meson_env != NULL ? strdup(meson_env) : NULL;

	(void)state;
	assert_int_equal(setenv("PKCS11WSOP_CONF", "/somewhere/else.cfg", 1), 0);
	assert_string_equal(config_default_path(), "/somewhere/else.cfg");
	assert_int_equal(setenv("PKCS11WSOP_CONF", "", 1), 0);
	assert_string_equal(config_default_path(), PKCS11WSOP_CONF_PATH);
	assert_int_equal(unsetenv("PKCS11WSOP_CONF"), 0);
	assert_string_equal(config_default_path(), PKCS11WSOP_CONF_PATH);
	if (saved != NULL) {
		assert_int_equal(setenv("PKCS11WSOP_CONF", saved, 1), 0);
		free(saved);
	}
}

/* meson runs this test with PKCS11WSOP_CONF pointing at data/env.cfg. */
static void file_named_by_environment_is_loaded(void **state)
{
	struct fixture *f = *state;
	const char *path = getenv("PKCS11WSOP_CONF");

	if (path == NULL)
		skip();
	assert_string_equal(config_default_path(), path);
	assert_int_equal(config_load_file(config_default_path(), &f->cfg, &f->rep), 0);
	assert_string_equal(f->cfg.host, "env.example.test");
	assert_int_equal(f->cfg.port, 18443);
}

/* meson sets WSOP_EXAMPLE_CFG to conf/example_pkcs11wsop.cfg. */
static void example_config_is_valid(void **state)
{
	struct fixture *f = *state;
	const char *path = getenv("WSOP_EXAMPLE_CFG");
	struct wsop_config d;

	if (path == NULL)
		skip();
	assert_int_equal(config_load_file(path, &f->cfg, &f->rep), 0);
	assert_int_equal(f->rep.warnings, 0);
	assert_int_equal(config_check_connection(&f->cfg, &f->rep), 0);
	assert_string_equal(f->cfg.host, "localhost");
	assert_string_equal(f->cfg.cert, "/opt/nfast/wsop/pkcs11/conf/client.crt");
	assert_string_equal(f->cfg.key, "/opt/nfast/wsop/pkcs11/conf/client.key");
	assert_string_equal(f->cfg.auth, "/opt/nfast/wsop/pkcs11/conf/ca.crt");
	/* every number in the example is the default */
	config_set_defaults(&d);
	assert_int_equal(f->cfg.port, d.port);
	assert_int_equal(f->cfg.loglevel, d.loglevel);
	assert_int_equal(f->cfg.logstdout, d.logstdout);
	assert_int_equal(f->cfg.logsys, d.logsys);
	assert_int_equal(f->cfg.maxretries, d.maxretries);
	assert_int_equal(f->cfg.retrydelay, d.retrydelay);
	assert_int_equal(f->cfg.timeout, d.timeout);
}

/* The library checks the connection directives after loading the file; the
 * load's warnings must still be there to be logged. */
static void connection_check_keeps_the_warnings(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(parse(f, "HOST h\nCERT c\nKEY k\nAUTH a\nLOGLEVLE 6\nloglevel 6\n"), 0);
	assert_int_equal(f->rep.warnings, 2);
	assert_int_equal(config_check_connection(&f->cfg, &f->rep), 0);
	assert_int_equal(f->rep.warnings, 2);
	assert_string_equal(f->rep.first_warning, "t.cfg:5: unknown directive 'LOGLEVLE' ignored");
	f->cfg.host[0] = '\0';
	assert_int_equal(config_check_connection(&f->cfg, &f->rep), -EINVAL);
	assert_int_equal(f->rep.warnings, 2);
}

static void connection_needs_host_cert_key_auth(void **state)
{
	struct fixture *f = *state;
	static const char *const names[] = { "HOST", "CERT", "KEY", "AUTH" };
	char want[128];

	assert_int_equal(config_check_connection(&f->cfg, &f->rep), -EINVAL);
	assert_string_equal(f->rep.error, "HOST is not set in the configuration; it is needed "
	                                  "to reach the key server");
	assert_int_equal(parse(f, "HOST h\nCERT c\nKEY k\nAUTH a\n"), 0);
	assert_int_equal(config_check_connection(&f->cfg, &f->rep), 0);
	assert_string_equal(f->rep.error, "");
	assert_int_equal(config_check_connection(&f->cfg, NULL), 0);

	char *fields[] = { f->cfg.host, f->cfg.cert, f->cfg.key, f->cfg.auth };
	for (size_t i = 0; i < 4; i++) {
		char saved = fields[i][0];

		fields[i][0] = '\0';
		assert_int_equal(config_check_connection(&f->cfg, &f->rep), -EINVAL);
		snprintf(want, sizeof(want),
		         "%s is not set in the configuration; it is needed to reach the key server",
		         names[i]);
		assert_string_equal(f->rep.error, want);
		fields[i][0] = saved;
	}
}

static void maps_to_logger_configuration(void **state)
{
	struct fixture *f = *state;
	struct wlog_config w;

	assert_int_equal(parse(f, "LOGLEVEL 6\nLOGSTDOUT 1\nLOGSYS 1\nLOGFILEPATH /l/x.log\n"), 0);
	config_to_wlog(&f->cfg, "wsopd", &w);
	assert_int_equal(w.level, 6);
	assert_string_equal(w.ident, "wsopd");
	assert_string_equal(w.file_path, "/l/x.log");
	assert_true(w.to_stdout);
	assert_false(w.to_stderr);
	assert_true(w.to_syslog);

	config_set_defaults(&f->cfg);
	f->cfg.logfilepath[0] = '\0';
	config_to_wlog(&f->cfg, NULL, &w);
	assert_int_equal(w.level, 4);
	assert_null(w.ident);
	assert_null(w.file_path);
	assert_false(w.to_stdout);
	assert_false(w.to_syslog);
}

/* LOGFACILITY: the audit lines' syslog facility, by name, any case. */
static void log_facility_names_and_edges(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *name;
		int facility;
	} good[] = {
		{ "authpriv", LOG_AUTHPRIV }, { "auth", LOG_AUTH },     { "daemon", LOG_DAEMON },
		{ "user", LOG_USER },         { "local0", LOG_LOCAL0 }, { "local7", LOG_LOCAL7 },
		{ "AUTHPRIV", LOG_AUTHPRIV }, { "Local3", LOG_LOCAL3 },
	};
	static const char *const bad[] = {
		"local8",    "local",     "kern", "mail",    "LOG_AUTH",
		"auth priv", "authpriv,", "4",    "local-1", "authprivx"
	};
	struct wlog_config w;

	assert_int_equal(f->cfg.logfacility, LOG_AUTHPRIV);
	config_to_wlog(&f->cfg, NULL, &w);
	assert_int_equal(w.audit_facility, LOG_AUTHPRIV);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(parse_one(f, "LOGFACILITY", good[i].name), 0);
		assert_int_equal(f->cfg.logfacility, good[i].facility);
		config_to_wlog(&f->cfg, NULL, &w);
		assert_int_equal(w.audit_facility, good[i].facility);
	}
	/* surrounding blanks are the line's, not the value's */
	assert_int_equal(parse(f, "LOGFACILITY \t local5 \t\r\n"), 0);
	assert_int_equal(f->cfg.logfacility, LOG_LOCAL5);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[160];

		assert_int_equal(parse_one(f, "LOGFACILITY", bad[i]), -EINVAL);
		snprintf(want, sizeof(want),
		         "t.cfg:1: LOGFACILITY: '%s' is not a syslog facility (authpriv, auth, "
		         "daemon, user, local0-local7)",
		         bad[i]);
		assert_string_equal(f->rep.error, want);
	}
	assert_int_equal(parse(f, "LOGFACILITY\n"), -EINVAL);
	assert_string_equal(f->rep.error, "t.cfg:1: LOGFACILITY: missing value");
	assert_int_equal(parse(f, "LOGFACILITY local1\nLOGFACILITY daemon\n"), 0);
	assert_int_equal(f->cfg.logfacility, LOG_DAEMON);
	assert_int_equal(f->rep.warnings, 1);
	assert_int_equal(parse(f, "logfacility local1\n"), 0);
	assert_int_equal(f->rep.warnings, 1);
}

/* A test on a parse of text in memory, or on files in a temp dir. */
#define IN_MEMORY(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
#define IN_DIR(t)    cmocka_unit_test_setup_teardown(t, setup_dir, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		IN_MEMORY(defaults_are_documented_values),
		IN_MEMORY(empty_file_keeps_defaults),
		IN_MEMORY(every_directive_is_parsed),
		IN_MEMORY(integer_limits_are_enforced),
		IN_MEMORY(leading_zeros_are_decimal),
		IN_MEMORY(missing_value_is_an_error),
		IN_MEMORY(switches_take_only_0_or_1),
		IN_MEMORY(long_values_are_quoted_shortened),
		IN_MEMORY(host_length_and_shape),
		IN_MEMORY(host_single_name_is_one_server_on_port),
		IN_MEMORY(host_list_with_ports_and_blanks),
		IN_MEMORY(host_list_edge_cases_are_errors),
		IN_MEMORY(host_list_is_bounded),
		IN_MEMORY(paths_keep_inner_spaces),
		IN_MEMORY(relative_log_path_is_in_log_folder),
		IN_MEMORY(long_path_is_rejected),
		IN_MEMORY(comments_blank_lines_tabs_and_crlf),
		IN_MEMORY(byte_order_mark_is_skipped),
		IN_MEMORY(directives_are_case_sensitive),
		IN_MEMORY(unknown_directive_warns_and_continues),
		IN_MEMORY(warnings_without_callback_are_counted),
		IN_MEMORY(duplicate_directive_warns_last_wins),
		IN_MEMORY(error_stops_at_first_bad_line),
		IN_MEMORY(report_is_reset_by_each_parse),
		IN_MEMORY(nul_byte_is_an_error),
		IN_MEMORY(line_length_limit),
		IN_MEMORY(text_size_limit),
		IN_DIR(load_file_reads_and_names_file),
		IN_DIR(world_writable_file_warns),
		IN_DIR(missing_file_is_a_clear_error),
		IN_DIR(fifo_is_refused),
		IN_DIR(big_file_is_refused_before_reading),
		IN_DIR(unreadable_file_is_reported),
		IN_MEMORY(file_named_by_environment_is_loaded),
		IN_MEMORY(default_path_follows_environment),
		IN_MEMORY(example_config_is_valid),
		IN_MEMORY(connection_check_keeps_the_warnings),
		IN_MEMORY(connection_needs_host_cert_key_auth),
		IN_MEMORY(maps_to_logger_configuration),
		IN_MEMORY(log_facility_names_and_edges),
	};

	return cmocka_run_group_tests_name("conf/config", tests, NULL, NULL);
}
