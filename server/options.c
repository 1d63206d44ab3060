/* wsopd command line parsing; see options.h. */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char usage_text[] =
    "Usage: wsopd --cert FILE --key FILE --ca FILE --store DIR|CONNINFO [OPTION]...\n"
    "Reference WSOP key server (mutual TLS, REST+JSON, SQLite or PostgreSQL store).\n"
    "\n"
    "  --listen HOST:PORT  address to listen on (default " WSOPD_DEFAULT_LISTEN ");\n"
    "                      [V6ADDR]:PORT for IPv6, port 0 picks a free port\n"
    "  --cert FILE         server certificate chain (PEM)\n"
    "  --key FILE          server private key (PEM)\n"
    "  --ca FILE           CA certificates that client certificates must chain to\n"
    "  --store DIR         folder of the database and the master key\n"
    "  --store CONNINFO    or a PostgreSQL database that several wsopd share:\n"
    "                      postgresql://... or postgres://... or\n"
    "                      'host=... dbname=...' (libpq keywords)\n"
    "  --master-key FILE   the master key file (default DIR/master.key; required\n"
    "                      with PostgreSQL: the same file on every node)\n"
    "  --threads N         requests processed at once, 1-256 (default 4)\n"
    "  --event-loops N     threads that serve the connections (the slow requests\n"
    "                      go to the --threads workers), 0-64; 0: a thread per\n"
    "                      connection (default: one per CPU)\n"
    "  --loop-busy PERCENT an event loop working more than this share of its\n"
    "                      time is busy, 0-100 (default 80): new connections go\n"
    "                      to the first loop that is not, a busy loop hands\n"
    "                      active connections to an idle one\n"
    "  --max-clients N     clients with a verified certificate served at once,\n"
    "                      1-4096 (default 64)\n"
    "  --max-handshakes N  TLS handshakes in progress at once, 1-1024 (default 16)\n"
    "  --handshake-timeout S  seconds a TLS handshake may take, 1-60 (default 5)\n"
    "  --head-timeout S    seconds a request head may take from its first byte,\n"
    "                      1-60 (default 5)\n"
    "  --idle-timeout S    seconds a connection may wait for its next request,\n"
    "                      1-3600 (default 30)\n"
    "  --log-level N       0 none .. 6 trace (default 4, info)\n"
    "  --activation-ttl S  seconds an activation (one login) lasts at most,\n"
    "                      1-2592000 (default 28800, 8 hours)\n"
    "  --activation-idle S seconds an unused activation keeps the softcard's\n"
    "                      keys in memory, 1-86400 (default 900)\n"
    "  --max-login-failures N  wrong passphrases in a row that lock a softcard,\n"
    "                      0-1000 (default 0: counted, never locked)\n"
    "  --login-lockout S   seconds a locked softcard refuses every passphrase,\n"
    "                      1-86400 (default 900); then one try at a time\n"
    "  --help              show this help and exit\n"
    "  --version           show the version and exit\n";

const char *options_usage(void)
{
	return usage_text;
}

/* Strict decimal: digits only, no sign, no overflow, within [min, max]. */
static int parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	unsigned long v = 0;

	if (s == NULL || *s == '\0')
		return -EINVAL;
	for (const char *p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > max)
			return -ERANGE;
	}
	if (v < min)
		return -ERANGE;
	*out = (unsigned)v;
	return 0;
}

int options_split_listen(const char *text, char *host, size_t host_cap, unsigned *port)
{
	const char *host_start = text;
	const char *host_end;
	const char *port_text;

	if (text == NULL || *text == '\0')
		return -EINVAL;
	if (*text == '[') {
		host_start = text + 1;
		host_end = strchr(host_start, ']');
		if (host_end == NULL || host_end[1] != ':')
			return -EINVAL;
		port_text = host_end + 2;
	} else {
		/* A bare IPv6 address has several colons and is ambiguous. */
		host_end = strchr(text, ':');
		if (host_end == NULL || strchr(host_end + 1, ':') != NULL)
			return -EINVAL;
		port_text = host_end + 1;
	}
	size_t host_len = (size_t)(host_end - host_start);
	if (host_len == 0 || host_len >= host_cap)
		return -EINVAL;
	if (parse_uint(port_text, 0, 65535, port) != 0)
		return -EINVAL;
	memcpy(host, host_start, host_len);
	host[host_len] = '\0';
	return 0;
}

enum long_only_ids {
	OPT_LISTEN = 256,
	OPT_CERT,
	OPT_KEY,
	OPT_CA,
	OPT_STORE,
	OPT_MASTER_KEY,
	OPT_THREADS,
	OPT_MAX_CLIENTS,
	OPT_MAX_HANDSHAKES,
	OPT_HANDSHAKE_TIMEOUT,
	OPT_HEAD_TIMEOUT,
	OPT_LOG_LEVEL,
	OPT_ACTIVATION_TTL,
	OPT_ACTIVATION_IDLE,
	OPT_MAX_LOGIN_FAILURES,
	OPT_LOGIN_LOCKOUT,
	OPT_EVENT_LOOPS,
	OPT_LOOP_BUSY,
	OPT_IDLE_TIMEOUT,
	OPT_HELP,
	OPT_VERSION,
};

static const struct option long_options[] = {
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "cert", required_argument, NULL, OPT_CERT },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "ca", required_argument, NULL, OPT_CA },
	{ "store", required_argument, NULL, OPT_STORE },
	{ "master-key", required_argument, NULL, OPT_MASTER_KEY },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "max-clients", required_argument, NULL, OPT_MAX_CLIENTS },
	{ "max-handshakes", required_argument, NULL, OPT_MAX_HANDSHAKES },
	{ "handshake-timeout", required_argument, NULL, OPT_HANDSHAKE_TIMEOUT },
	{ "head-timeout", required_argument, NULL, OPT_HEAD_TIMEOUT },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "activation-ttl", required_argument, NULL, OPT_ACTIVATION_TTL },
	{ "activation-idle", required_argument, NULL, OPT_ACTIVATION_IDLE },
	{ "max-login-failures", required_argument, NULL, OPT_MAX_LOGIN_FAILURES },
	{ "login-lockout", required_argument, NULL, OPT_LOGIN_LOCKOUT },
	{ "event-loops", required_argument, NULL, OPT_EVENT_LOOPS },
	{ "loop-busy", required_argument, NULL, OPT_LOOP_BUSY },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

__attribute__((format(printf, 3, 4))) static enum options_result fail(char *err, size_t err_cap,
                                                                      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, err_cap, fmt, ap);
	va_end(ap);
	return OPTIONS_ERROR;
}

static enum options_result apply(int id, const char *arg, struct wsopd_options *out, char *err,
                                 size_t err_cap)
{
	unsigned v;

	switch (id) {
	case OPT_LISTEN:
		if (options_split_listen(arg, out->host, sizeof(out->host), &out->port) != 0)
			return fail(err, err_cap,
			            "--listen: '%s' is not HOST:PORT or [IPV6]:PORT (port 0-65535)",
			            arg);
		return OPTIONS_RUN;
	case OPT_CERT:
		out->cert_path = arg;
		return OPTIONS_RUN;
	case OPT_KEY:
		out->key_path = arg;
		return OPTIONS_RUN;
	case OPT_CA:
		out->ca_path = arg;
		return OPTIONS_RUN;
	case OPT_STORE:
		out->store_dir = arg;
		return OPTIONS_RUN;
	case OPT_MASTER_KEY:
		out->master_path = arg;
		return OPTIONS_RUN;
	case OPT_THREADS:
		if (parse_uint(arg, 1, WSOPD_MAX_THREADS, &out->threads) != 0)
			return fail(err, err_cap, "--threads: '%s' is not a number from 1 to 256",
			            arg);
		return OPTIONS_RUN;
	case OPT_MAX_CLIENTS:
		if (parse_uint(arg, 1, WSOPD_MAX_CLIENTS_LIMIT, &out->max_clients) != 0)
			return fail(err, err_cap,
			            "--max-clients: '%s' is not a number from 1 to 4096", arg);
		return OPTIONS_RUN;
	case OPT_MAX_HANDSHAKES:
		if (parse_uint(arg, 1, WSOPD_MAX_HANDSHAKES_LIMIT, &out->max_handshakes) != 0)
			return fail(err, err_cap,
			            "--max-handshakes: '%s' is not a number from 1 to 1024", arg);
		return OPTIONS_RUN;
	case OPT_HANDSHAKE_TIMEOUT:
		if (parse_uint(arg, 1, WSOPD_MAX_TIMEOUT_S, &out->handshake_timeout_s) != 0)
			return fail(
			    err, err_cap,
			    "--handshake-timeout: '%s' is not a number of seconds from 1 to 60",
			    arg);
		return OPTIONS_RUN;
	case OPT_HEAD_TIMEOUT:
		if (parse_uint(arg, 1, WSOPD_MAX_TIMEOUT_S, &out->head_timeout_s) != 0)
			return fail(err, err_cap,
			            "--head-timeout: '%s' is not a number of seconds from 1 to 60",
			            arg);
		return OPTIONS_RUN;
	case OPT_LOG_LEVEL:
		if (parse_uint(arg, 0, 6, &v) != 0)
			return fail(err, err_cap, "--log-level: '%s' is not a number from 0 to 6",
			            arg);
		out->log_level = (int)v;
		return OPTIONS_RUN;
	case OPT_ACTIVATION_TTL:
		if (parse_uint(arg, WSOPD_ACTIVATION_TTL_MIN, WSOPD_ACTIVATION_TTL_MAX,
		               &out->activation_ttl) != 0)
			return fail(err, err_cap,
			            "--activation-ttl: '%s' is not a number from 1 to 2592000",
			            arg);
		return OPTIONS_RUN;
	case OPT_ACTIVATION_IDLE:
		if (parse_uint(arg, 1, WSOPD_ACTIVATION_IDLE_MAX, &out->activation_idle) != 0)
			return fail(err, err_cap,
			            "--activation-idle: '%s' is not a number from 1 to 86400", arg);
		return OPTIONS_RUN;
	case OPT_MAX_LOGIN_FAILURES:
		if (parse_uint(arg, 0, WSOPD_LOGIN_FAILURES_MAX, &out->max_login_failures) != 0)
			return fail(err, err_cap,
			            "--max-login-failures: '%s' is not a number from 0 to 1000",
			            arg);
		return OPTIONS_RUN;
	case OPT_LOGIN_LOCKOUT:
		if (parse_uint(arg, 1, WSOPD_LOGIN_LOCKOUT_MAX, &out->login_lockout) != 0)
			return fail(err, err_cap,
			            "--login-lockout: '%s' is not a number from 1 to 86400", arg);
		return OPTIONS_RUN;
	case OPT_EVENT_LOOPS:
		if (parse_uint(arg, 0, WSOPD_EVENT_LOOPS_MAX, &v) != 0)
			return fail(err, err_cap,
			            "--event-loops: '%s' is not a number from 0 to 64", arg);
		out->event_loops = (int)v;
		return OPTIONS_RUN;
	case OPT_LOOP_BUSY:
		if (parse_uint(arg, 0, 100, &out->loop_busy_percent) != 0)
			return fail(err, err_cap,
			            "--loop-busy: '%s' is not a percentage from 0 to 100", arg);
		return OPTIONS_RUN;
	case OPT_IDLE_TIMEOUT:
		if (parse_uint(arg, 1, WSOPD_MAX_IDLE_S, &out->idle_timeout_s) != 0)
			return fail(
			    err, err_cap,
			    "--idle-timeout: '%s' is not a number of seconds from 1 to 3600", arg);
		return OPTIONS_RUN;
	case OPT_HELP:
		return OPTIONS_HELP;
	case OPT_VERSION:
		return OPTIONS_VERSION;
	default:
		return fail(err, err_cap, "%s", "unknown option or missing argument");
	}
}

enum options_result options_parse(int argc, char **argv, struct wsopd_options *out, char *err,
                                  size_t err_cap)
{
	enum options_result r;
	int id;

	memset(out, 0, sizeof(*out));
	(void)options_split_listen(WSOPD_DEFAULT_LISTEN, out->host, sizeof(out->host), &out->port);
	out->threads = WSOPD_DEFAULT_THREADS;
	out->max_clients = WSOPD_DEFAULT_MAX_CLIENTS;
	out->max_handshakes = WSOPD_DEFAULT_MAX_HANDSHAKES;
	out->handshake_timeout_s = WSOPD_DEFAULT_HANDSHAKE_S;
	out->head_timeout_s = WSOPD_DEFAULT_HEAD_S;
	out->idle_timeout_s = WSOPD_DEFAULT_IDLE_S;
	out->log_level = WSOPD_DEFAULT_LOG_LEVEL;
	out->activation_ttl = WSOPD_DEFAULT_ACTIVATION_TTL;
	out->activation_idle = WSOPD_DEFAULT_ACTIVATION_IDLE;
	out->login_lockout = WSOPD_DEFAULT_LOGIN_LOCKOUT;
	out->event_loops = WSOPD_EVENT_LOOPS_AUTO;
	out->loop_busy_percent = WSOPD_DEFAULT_LOOP_BUSY;
	err[0] = '\0';

	/* getopt prints its own complaints unless told not to; we want one
	 * message in one place. */
	opterr = 0;
	optind = 1;
	while ((id = getopt_long(argc, argv, ":", long_options, NULL)) != -1) {
		if (id == '?' || id == ':') {
			const char *bad = argv[optind - 1] != NULL ? argv[optind - 1] : "?";
			if (id == ':')
				return fail(err, err_cap, "option '%s' needs a value", bad);
			return fail(err, err_cap, "unknown option '%s'", bad);
		}
		r = apply(id, optarg, out, err, err_cap);
		if (r != OPTIONS_RUN)
			return r;
	}
	if (optind < argc)
		return fail(err, err_cap, "unexpected argument '%s'", argv[optind]);
	if (out->cert_path == NULL)
		return fail(err, err_cap, "%s", "--cert is required");
	if (out->key_path == NULL)
		return fail(err, err_cap, "%s", "--key is required");
	if (out->ca_path == NULL)
		return fail(err, err_cap, "%s", "--ca is required");
	if (out->store_dir == NULL)
		return fail(err, err_cap, "%s", "--store is required");
	return OPTIONS_RUN;
}
