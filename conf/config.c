/* The pkcs11wsop.cfg parser; the contract is in config.h. */
#include "conf/config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "build_config.h"

/* Longest part of an offending value quoted back in a message: enough to
 * recognise it, short enough to keep the message on one screen line. */
#define QUOTE_MAX 64

enum kind { K_HOST, K_PATH, K_LOGPATH, K_UINT, K_BOOL, K_FACILITY };

struct directive {
	const char *name;
	enum kind kind;
	size_t offset; /* of the field in struct wsop_config */
	unsigned min, max;
	const char *what; /* for K_UINT: "is not <what> (min-max)" */
};

#define FIELD(f) offsetof(struct wsop_config, f)

static const struct directive directives[] = {
	{ "HOST", K_HOST, FIELD(host), 0, 0, NULL },
	{ "PORT", K_UINT, FIELD(port), 1, 65535, "a port number" },
	{ "CERT", K_PATH, FIELD(cert), 0, 0, NULL },
	{ "KEY", K_PATH, FIELD(key), 0, 0, NULL },
	{ "AUTH", K_PATH, FIELD(auth), 0, 0, NULL },
	{ "LOGLEVEL", K_UINT, FIELD(loglevel), 0, 6, "a log level" },
	{ "LOGFILEPATH", K_LOGPATH, FIELD(logfilepath), 0, 0, NULL },
	{ "LOGSTDOUT", K_BOOL, FIELD(logstdout), 0, 1, NULL },
	{ "LOGSYS", K_BOOL, FIELD(logsys), 0, 1, NULL },
	{ "LOGFACILITY", K_FACILITY, FIELD(logfacility), 0, 0, NULL },
	{ "MAXRETRIES", K_UINT, FIELD(maxretries), 0, CONFIG_MAX_MAXRETRIES, "a retry count" },
	{ "RETRYDELAY", K_UINT, FIELD(retrydelay), 0, CONFIG_MAX_RETRYDELAY,
	  "a number of seconds" },
	{ "TIMEOUT", K_UINT, FIELD(timeout), 1, CONFIG_MAX_TIMEOUT, "a number of seconds" },
};

#define N_DIRECTIVES (sizeof(directives) / sizeof(directives[0]))

struct parser {
	const char *source;
	unsigned line;
	struct config_report *report;
	unsigned seen_on[N_DIRECTIVES]; /* line of the last occurrence, 0: not seen */
};

static void report_reset(struct config_report *report)
{
	if (report == NULL)
		return;
	report->error[0] = '\0';
	report->first_warning[0] = '\0';
	report->warnings = 0;
}

/* snprintf into a message buffer; truncation is acceptable for a message. */
static void format_message(char *buf, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static void format_message(char *buf, const char *fmt, va_list ap)
{
	if (vsnprintf(buf, CONFIG_MSG_MAX, fmt, ap) < 0)
		buf[0] = '\0';
}

static int fail(struct config_report *report, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct config_report *report, int err, const char *fmt, ...)
{
	va_list ap;

	if (report != NULL && report->error[0] == '\0') {
		va_start(ap, fmt);
		format_message(report->error, fmt, ap);
		va_end(ap);
	}
	return err;
}

static void warn(struct config_report *report, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void warn(struct config_report *report, const char *fmt, ...)
{
	char msg[CONFIG_MSG_MAX];
	va_list ap;

	if (report == NULL)
		return;
	va_start(ap, fmt);
	format_message(msg, fmt, ap);
	va_end(ap);
	if (report->warnings == 0)
		memcpy(report->first_warning, msg, sizeof(msg));
	if (report->warnings < UINT32_MAX)
		report->warnings++;
	if (report->on_warning != NULL)
		report->on_warning(report->ctx, msg);
}

void config_set_defaults(struct wsop_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->port = CONFIG_DEFAULT_PORT;
	cfg->loglevel = CONFIG_DEFAULT_LOGLEVEL;
	/* The built-in path is short and fixed at build time; it always fits. */
	snprintf(cfg->logfilepath, sizeof(cfg->logfilepath), "%s", PKCS11WSOP_LOG_PATH);
	cfg->logstdout = false;
	cfg->logsys = false;
	cfg->logfacility = LOG_AUTHPRIV;
	cfg->maxretries = CONFIG_DEFAULT_MAXRETRIES;
	cfg->retrydelay = CONFIG_DEFAULT_RETRYDELAY;
	cfg->timeout = CONFIG_DEFAULT_TIMEOUT;
}

const char *config_default_path(void)
{
	const char *env = secure_getenv("PKCS11WSOP_CONF");

	if (env != NULL && env[0] != '\0')
		return env;
	return PKCS11WSOP_CONF_PATH;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Strict decimal: digits only, at least one, value <= max. */
static bool parse_uint(const char *s, size_t len, unsigned max, unsigned *out)
{
	unsigned long long v = 0;

	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
		/* checked every digit, so v never exceeds 10 * UINT_MAX + 9 */
		if (v > max)
			return false;
	}
	*out = (unsigned)v;
	return true;
}

static int set_string(struct parser *p, const struct directive *d, char *dst, size_t cap,
                      const char *val, size_t len)
{
	if (len >= cap)
		return fail(p->report, -EINVAL, "%s:%u: %s: value longer than %zu bytes", p->source,
		            p->line, d->name, cap - 1);
	memcpy(dst, val, len);
	dst[len] = '\0';
	return 0;
}

static int bad_server(struct parser *p, const char *item, size_t len, const char *why)
{
	return fail(p->report, -EINVAL, "%s:%u: HOST: '%.*s%s' %s", p->source, p->line,
	            (int)(len > QUOTE_MAX ? QUOTE_MAX : len), item, len > QUOTE_MAX ? "..." : "",
	            why);
}

/* A server name: no blank, control character, comma or bracket (a bracket
 * only encloses an IPv6 address, which holds nothing but letters, digits
 * and ".:%"). */
static bool host_name_ok(const char *s, size_t len, bool bracketed)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c == 0x7f || c == ',' || c == '[' || c == ']')
			return false;
		if (bracketed && c != ':' && c != '.' && c != '%' && !isalnum(c))
			return false;
	}
	return true;
}

/* One item of HOST, blanks already trimmed: "name", "name:port", "[v6]",
 * "[v6]:port", or an unbracketed IPv6 address (two colons or more). */
static int parse_server(struct parser *p, const char *item, size_t len, struct config_server *out)
{
	const char *name = item, *port = NULL;
	size_t name_len = len, port_len = 0;
	bool bracketed = item[0] == '[';

	if (bracketed) {
		const char *close = memchr(item, ']', len);
		if (close == NULL)
			return bad_server(p, item, len, "has no closing ']'");
		name = item + 1;
		name_len = (size_t)(close - name);
		size_t rest = len - (size_t)(close + 1 - item);
		if (rest > 0) {
			if (close[1] != ':')
				return bad_server(p, item, len,
				                  "has text after ']' that is not :port");
			port = close + 2;
			port_len = rest - 1;
		}
	} else {
		const char *colon = memchr(item, ':', len);
		size_t after = colon != NULL ? len - (size_t)(colon + 1 - item) : 0;
		if (colon != NULL && memchr(colon + 1, ':', after) == NULL) {
			name_len = (size_t)(colon - item);
			port = colon + 1;
			port_len = after;
		}
	}
	if (name_len >= CONFIG_HOST_MAX)
		return bad_server(p, item, len, "is longer than 255 bytes");
	if (!host_name_ok(name, name_len, bracketed))
		return bad_server(p, item, len, "is not a host name");
	memcpy(out->host, name, name_len);
	out->host[name_len] = '\0';
	out->own_port = port != NULL;
	out->port = 0;
	if (port != NULL && (!parse_uint(port, port_len, 65535, &out->port) || out->port == 0))
		return bad_server(p, item, len, "has a bad port (1-65535)");
	return 0;
}

/* HOST: the list of servers. Nothing changes unless the whole value is
 * good. */
static int set_servers(struct parser *p, struct wsop_config *cfg, const char *val, size_t len)
{
	struct config_server servers[CONFIG_SERVERS_MAX];
	unsigned n = 0;
	size_t i = 0;

	for (;;) {
		size_t start = i;
		while (i < len && val[i] != ',')
			i++;
		size_t end = i;
		while (start < end && is_blank(val[start]))
			start++;
		while (end > start && is_blank(val[end - 1]))
			end--;
		if (start == end)
			return fail(
			    p->report, -EINVAL,
			    "%s:%u: HOST: empty server name in the list (a comma too many?)",
			    p->source, p->line);
		if (n == CONFIG_SERVERS_MAX)
			return fail(p->report, -EINVAL, "%s:%u: HOST: more than %d servers",
			            p->source, p->line, CONFIG_SERVERS_MAX);
		int rc = parse_server(p, val + start, end - start, &servers[n]);
		if (rc < 0)
			return rc;
		n++;
		if (i == len)
			break;
		i++; /* the comma */
	}
	memcpy(cfg->servers, servers, n * sizeof(servers[0]));
	cfg->n_servers = n;
	memcpy(cfg->host, servers[0].host, sizeof(cfg->host));
	return 0;
}

/* A relative LOGFILEPATH names a file in the default log folder, not one
 * relative to whatever folder the application happens to run in. */
static int set_log_path(struct parser *p, const struct directive *d, struct wsop_config *cfg,
                        const char *val, size_t len)
{
	const char *deflt = PKCS11WSOP_LOG_PATH;
	const char *slash = strrchr(deflt, '/');
	size_t dir_len = slash != NULL ? (size_t)(slash - deflt) + 1 : 0;

	if (val[0] == '/' || dir_len == 0)
		return set_string(p, d, cfg->logfilepath, CONFIG_PATH_MAX, val, len);
	if (dir_len + len >= CONFIG_PATH_MAX)
		return fail(p->report, -EINVAL, "%s:%u: %s: value longer than %zu bytes", p->source,
		            p->line, d->name, CONFIG_PATH_MAX - 1 - dir_len);
	memcpy(cfg->logfilepath, deflt, dir_len);
	memcpy(cfg->logfilepath + dir_len, val, len);
	cfg->logfilepath[dir_len + len] = '\0';
	return 0;
}

/* The facilities an audit line may go to: those an administrator routes
 * with a rule of its own, not the kernel's nor the mail system's. */
static const struct {
	const char *name;
	int facility;
} facilities[] = {
	{ "authpriv", LOG_AUTHPRIV }, { "auth", LOG_AUTH },     { "daemon", LOG_DAEMON },
	{ "user", LOG_USER },         { "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 },     { "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 },
	{ "local5", LOG_LOCAL5 },     { "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};

/* Case-insensitive: "AUTHPRIV" is what syslog.conf habits make people type. */
static int set_facility(struct parser *p, const struct directive *d, struct wsop_config *cfg,
                        const char *val, size_t len)
{
	for (size_t i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++) {
		if (strlen(facilities[i].name) == len &&
		    strncasecmp(facilities[i].name, val, len) == 0) {
			cfg->logfacility = facilities[i].facility;
			return 0;
		}
	}
	return fail(p->report, -EINVAL,
	            "%s:%u: %s: '%.*s%s' is not a syslog facility (authpriv, auth, daemon, user, "
	            "local0-local7)",
	            p->source, p->line, d->name, (int)(len > QUOTE_MAX ? QUOTE_MAX : len), val,
	            len > QUOTE_MAX ? "..." : "");
}

static int set_value(struct parser *p, const struct directive *d, struct wsop_config *cfg,
                     const char *val, size_t len)
{
	char *field = (char *)cfg + d->offset;
	int quote_len = (int)(len > QUOTE_MAX ? QUOTE_MAX : len);
	const char *ellipsis = len > QUOTE_MAX ? "..." : "";
	unsigned v;

	switch (d->kind) {
	case K_HOST:
		return set_servers(p, cfg, val, len);
	case K_PATH:
		return set_string(p, d, field, CONFIG_PATH_MAX, val, len);
	case K_LOGPATH:
		return set_log_path(p, d, cfg, val, len);
	case K_FACILITY:
		return set_facility(p, d, cfg, val, len);
	case K_BOOL:
		if (!parse_uint(val, len, 1, &v))
			return fail(p->report, -EINVAL, "%s:%u: %s: '%.*s%s' is not 0 or 1",
			            p->source, p->line, d->name, quote_len, val, ellipsis);
		*(bool *)(void *)field = v == 1;
		return 0;
	case K_UINT:
		if (!parse_uint(val, len, d->max, &v) || v < d->min)
			return fail(p->report, -EINVAL, "%s:%u: %s: '%.*s%s' is not %s (%u-%u)",
			            p->source, p->line, d->name, quote_len, val, ellipsis, d->what,
			            d->min, d->max);
		if (d->offset == FIELD(loglevel))
			cfg->loglevel = (int)v;
		else
			*(unsigned *)(void *)field = v;
		return 0;
	}
	return -EINVAL;
}

static const struct directive *lookup(const char *name, size_t len)
{
	for (size_t i = 0; i < N_DIRECTIVES; i++) {
		if (strlen(directives[i].name) == len && memcmp(directives[i].name, name, len) == 0)
			return &directives[i];
	}
	return NULL;
}

/* One line, without its terminator. */
static int parse_line(struct parser *p, const char *s, size_t len, struct wsop_config *cfg)
{
	size_t i = 0;

	if (len > CONFIG_LINE_MAX)
		return fail(p->report, -EINVAL, "%s:%u: line longer than %d bytes", p->source,
		            p->line, CONFIG_LINE_MAX);
	if (memchr(s, '\0', len) != NULL)
		return fail(p->report, -EINVAL, "%s:%u: NUL byte in line", p->source, p->line);

	while (i < len && is_blank(s[i]))
		i++;
	if (i == len || s[i] == '#')
		return 0;

	const char *name = s + i;
	while (i < len && !is_blank(s[i]))
		i++;
	size_t name_len = (size_t)(s + i - name);
	while (i < len && is_blank(s[i]))
		i++;
	while (len > i && is_blank(s[len - 1]))
		len--;
	const char *val = s + i;
	size_t val_len = len - i;

	const struct directive *d = lookup(name, name_len);
	if (d == NULL) {
		warn(p->report, "%s:%u: unknown directive '%.*s%s' ignored", p->source, p->line,
		     (int)(name_len > QUOTE_MAX ? QUOTE_MAX : name_len), name,
		     name_len > QUOTE_MAX ? "..." : "");
		return 0;
	}
	if (val_len == 0)
		return fail(p->report, -EINVAL, "%s:%u: %s: missing value", p->source, p->line,
		            d->name);

	size_t idx = (size_t)(d - directives);
	if (p->seen_on[idx] != 0)
		warn(p->report, "%s:%u: %s: also given on line %u; this value replaces it",
		     p->source, p->line, d->name, p->seen_on[idx]);
	p->seen_on[idx] = p->line;
	return set_value(p, d, cfg, val, val_len);
}

/* Items of HOST without a port take PORT, wherever in the text it was;
 * then no server may appear twice. */
static int resolve_ports(struct parser *p, struct wsop_config *cfg)
{
	for (unsigned i = 0; i < cfg->n_servers; i++) {
		struct config_server *s = &cfg->servers[i];
		if (!s->own_port)
			s->port = cfg->port;
		for (unsigned j = 0; j < i; j++)
			if (cfg->servers[j].port == s->port &&
			    strcmp(cfg->servers[j].host, s->host) == 0)
				return fail(p->report, -EINVAL,
				            "%s:%u: HOST: server %s port %u is named twice",
				            p->source, p->seen_on[0] /* HOST is directives[0] */,
				            s->host, s->port);
	}
	return 0;
}

int config_parse(const char *source_name, const char *text, size_t len, struct wsop_config *out,
                 struct config_report *report)
{
	struct parser p = { .source = source_name != NULL ? source_name : "(config)",
		            .report = report };
	size_t pos = 0;

	report_reset(report);
	if (len > CONFIG_FILE_MAX)
		return fail(report, -EFBIG, "%s: file is larger than %d bytes", p.source,
		            CONFIG_FILE_MAX);
	if (len > 0 && text == NULL)
		return fail(report, -EINVAL, "%s: no text", p.source);

	/* Editors on some systems start UTF-8 files with a byte order mark. */
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		pos = 3;

	while (pos < len) {
		const char *start = text + pos;
		const char *nl = memchr(start, '\n', len - pos);
		size_t line_len = nl != NULL ? (size_t)(nl - start) : len - pos;

		pos += line_len + (nl != NULL ? 1 : 0);
		p.line++;
		if (line_len > 0 && start[line_len - 1] == '\r')
			line_len--;
		int rc = parse_line(&p, start, line_len, out);
		if (rc < 0)
			return rc;
	}
	return resolve_ports(&p, out);
}

static int read_all(int fd, char *buf, size_t cap, size_t *len)
{
	size_t n = 0;

	while (n < cap) {
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*len = n;
	return 0;
}

int config_load_file(const char *path, struct wsop_config *out, struct config_report *report)
{
	struct stat st;
	size_t len = 0;
	char *buf;
	int fd, rc;

	report_reset(report);
	config_set_defaults(out);
	if (path == NULL || path[0] == '\0')
		return fail(report, -EINVAL, "no configuration file given");

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		rc = -errno;
		if (rc == -ENOENT)
			return fail(
			    report, rc,
			    "cannot open %s: %s; start from example_pkcs11wsop.cfg "
			    "in the same folder (or set PKCS11WSOP_CONF to the file to use)",
			    path, strerror(-rc));
		return fail(report, rc, "cannot open %s: %s", path, strerror(-rc));
	}
	if (fstat(fd, &st) != 0) {
		rc = -errno;
		close(fd);
		return fail(report, rc, "cannot read %s: %s", path, strerror(-rc));
	}
	/* Only regular files: a FIFO or device could block or never end. */
	if (!S_ISREG(st.st_mode)) {
		rc = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		close(fd);
		return fail(report, rc, "cannot read %s: %s", path,
		            rc == -EISDIR ? strerror(EISDIR) : "not a regular file");
	}
	if (st.st_size > CONFIG_FILE_MAX) {
		close(fd);
		return fail(report, -EFBIG, "%s: file is larger than %d bytes", path,
		            CONFIG_FILE_MAX);
	}
	/* One byte more than allowed, to notice a file that grew since fstat. */
	buf = malloc(CONFIG_FILE_MAX + 1);
	if (buf == NULL) {
		close(fd);
		return fail(report, -ENOMEM, "cannot read %s: %s", path, strerror(ENOMEM));
	}
	rc = read_all(fd, buf, CONFIG_FILE_MAX + 1, &len);
	close(fd);
	if (rc < 0) {
		free(buf);
		return fail(report, rc, "cannot read %s: %s", path, strerror(-rc));
	}
	rc = config_parse(path, buf, len, out, report);
	free(buf);
	/* After the parse, which resets the report. HOST and AUTH decide which
	 * server the library trusts, so a file anyone may edit is worth a word. */
	if (rc == 0 && (st.st_mode & S_IWOTH) != 0)
		warn(report,
		     "%s: writable by every user; anyone could point the library at "
		     "another server",
		     path);
	return rc;
}

int config_check_connection(const struct wsop_config *cfg, struct config_report *report)
{
	static const struct {
		const char *name;
		size_t offset;
	} needed[] = {
		{ "HOST", FIELD(host) },
		{ "CERT", FIELD(cert) },
		{ "KEY", FIELD(key) },
		{ "AUTH", FIELD(auth) },
	};

	/* The warnings of the load that came before stay: only the error is
	 * this call's. */
	if (report != NULL)
		report->error[0] = '\0';
	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
		if (((const char *)cfg + needed[i].offset)[0] == '\0')
			return fail(report, -EINVAL,
			            "%s is not set in the configuration; it is needed to reach the "
			            "key server",
			            needed[i].name);
	}
	return 0;
}

void config_to_wlog(const struct wsop_config *cfg, const char *ident, struct wlog_config *out)
{
	memset(out, 0, sizeof(*out));
	out->level = cfg->loglevel;
	out->ident = ident;
	out->file_path = cfg->logfilepath[0] != '\0' ? cfg->logfilepath : NULL;
	out->to_stdout = cfg->logstdout;
	out->to_stderr = false;
	out->to_syslog = cfg->logsys;
	out->audit_facility = cfg->logfacility;
}
