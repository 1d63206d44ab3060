/*
 * softcardtool: creates, lists and deletes softcards on the WSOP server
 * (the manual's "Softcard generation tool").
 *
 * It reads the library's configuration file (config_default_path(), so
 * $PKCS11WSOP_CONF too) and reaches the server through the same confined
 * helper as the library (lib/backend.h): it never opens the client key.
 *
 * Exit status: 0 on success, 1 when the operation failed (bad input, the
 * server refused, the server or helper could not be reached), 2 on usage
 * errors. Errors go to stderr as "softcardtool: <message>". With -v the
 * steps of the conversation with the server are reported on stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "build_config.h"
#include "conf/audit.h"
#include "conf/config.h"
#include "conf/log.h"
#include "ipc/wsop_json.h"
#include "ipc/wsop_names.h"
#include "lib/backend.h"
#include "lib/wsop_client.h"
#include "tools/softcardtool_pass.h"

#define EXIT_FAILED 1
#define EXIT_USAGE  2

enum sct_command { CMD_NONE, CMD_GENERATE, CMD_DELETE, CMD_LIST };

struct sct {
	enum sct_command command;
	unsigned commands_given;
	const char *name;
	const char *id;
	bool verbose;
	const char *config_path;
	struct wsop_config cfg;
	struct backend *be;
	struct wsop_client *client;
};

static const char usage_text[] =
    "Usage: softcardtool [OPTION]...\n"
    "Creates, lists and deletes softcards on the WSOP server named in the\n"
    "PKCS #11 library's configuration file ($PKCS11WSOP_CONF, else\n"
    "  " PKCS11WSOP_CONF_PATH ").\n"
    "Options:\n"
    "  -g, --generate      create a softcard (needs --name); the passphrase is\n"
    "                      asked twice on a terminal, else read as one line\n"
    "                      from standard input\n"
    "  -d, --delete        delete a softcard (needs --id); its keys and\n"
    "                      objects must have been removed first\n"
    "  -l, --list          list the softcards, one \"ID  NAME\" per line\n"
    "  -v, --verbose       report each step of the connection to the server\n"
    "  -n, --name NAME     name of the softcard to create: 1 to 64 of A-Z a-z\n"
    "                      0-9 _ -\n"
    "  -i, --id ID         ID of the softcard to delete (40 hex digits);\n"
    "                      --ID=ID is accepted too\n"
    "      --help          show this text and exit\n"
    "      --version       show the version and exit\n"
    "Exactly one of -g, -d, -l is required. Exit status: 0 success,\n"
    "1 failure, 2 usage error.\n";

static void say_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("softcardtool: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void verbose(const struct sct *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void verbose(const struct sct *t, const char *fmt, ...)
{
	if (!t->verbose)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("softcardtool: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	fflush(stderr);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("softcardtool: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs("\nTry 'softcardtool --help' for more information.\n", stderr);
	va_end(ap);
	return EXIT_USAGE;
}

static void set_command(struct sct *t, enum sct_command c)
{
	if (t->command != c)
		t->commands_given++;
	t->command = c;
}

enum { OPT_HELP = 256, OPT_VERSION };

/* Returns -1 to go on, else the exit status. */
static int parse_args(struct sct *t, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "generate", no_argument, NULL, 'g' },
		{ "delete", no_argument, NULL, 'd' },
		{ "list", no_argument, NULL, 'l' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "name", required_argument, NULL, 'n' },
		{ "id", required_argument, NULL, 'i' },
		/* The manual's delete example spells it --ID. */
		{ "ID", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	opterr = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, ":gdlvn:i:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'g':
			set_command(t, CMD_GENERATE);
			break;
		case 'd':
			set_command(t, CMD_DELETE);
			break;
		case 'l':
			set_command(t, CMD_LIST);
			break;
		case 'v':
			t->verbose = true;
			break;
		case 'n':
			t->name = optarg;
			break;
		case 'i':
			t->id = optarg;
			break;
		case OPT_HELP:
			fputs(usage_text, stdout);
			return fflush(stdout) == 0 ? 0 : EXIT_FAILED;
		case OPT_VERSION:
			printf("softcardtool (pkcs11wsop) %s\n", PKCS11WSOP_VERSION);
			return fflush(stdout) == 0 ? 0 : EXIT_FAILED;
		case ':':
			return optopt != 0
			           ? usage_error("option -%c needs a value", optopt)
			           : usage_error("option %s needs a value", argv[optind - 1]);
		default:
			return optopt != 0 ? usage_error("unknown option -%c", optopt)
			                   : usage_error("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (t->commands_given != 1)
		return usage_error("give exactly one of -g/--generate, -d/--delete, -l/--list");
	if (t->command == CMD_GENERATE && t->name == NULL)
		return usage_error("-g/--generate needs -n/--name NAME");
	if (t->command == CMD_DELETE && t->id == NULL)
		return usage_error("-d/--delete needs -i/--id ID");
	if (t->command != CMD_GENERATE && t->name != NULL)
		return usage_error("-n/--name goes with -g/--generate only");
	if (t->command != CMD_DELETE && t->id != NULL)
		return usage_error("-i/--id goes with -d/--delete only");
	return -1;
}

/* Same rules as the server (ipc/wsop_names.h), checked before anything is
 * started so that a typo costs no connection. */
static int check_inputs(const struct sct *t)
{
	if (t->command == CMD_GENERATE && !wsop_name_valid(t->name)) {
		say_error("invalid softcard name '%s': use 1 to %d characters of A-Z a-z 0-9 _ -",
		          t->name, WSOP_NAME_MAX);
		return EXIT_FAILED;
	}
	if (t->command == CMD_DELETE && !wsop_softcard_id_valid(t->id)) {
		say_error("invalid softcard ID '%s': an ID is %d lower-case hex digits", t->id,
		          WSOP_SOFTCARD_ID_LEN);
		return EXIT_FAILED;
	}
	return 0;
}

/* Configuration warnings are shown whatever -v says: a misspelt directive
 * silently ignored is the kind of mistake a user must hear about. */
static void print_config_warning(void *ctx, const char *msg)
{
	(void)ctx;
	say_error("warning: %s", msg);
}

static int load_config(struct sct *t)
{
	struct config_report report;
	memset(&report, 0, sizeof(report));
	report.on_warning = print_config_warning;
	t->config_path = config_default_path();
	int rc = config_load_file(t->config_path, &t->cfg, &report);
	if (rc != 0) {
		say_error("%s", report.error[0] != '\0' ? report.error : strerror(-rc));
		return EXIT_FAILED;
	}
	rc = config_check_connection(&t->cfg, &report);
	if (rc != 0) {
		say_error("%s", report.error);
		return EXIT_FAILED;
	}
	verbose(t, "configuration read from %s", t->config_path);
	return 0;
}

/* The tool logs where the library does; with -v the same lines also go to
 * stderr, at DEBUG at least, so the backend's own steps show. */
static void open_log(const struct sct *t)
{
	struct wlog_config lc;
	config_to_wlog(&t->cfg, "pkcs11wsop", &lc);
	if (t->verbose) {
		lc.to_stderr = true;
		if (lc.level < WLOG_DEBUG)
			lc.level = WLOG_DEBUG;
	}
	wlog_open(&lc);
}

/* The backend's cause in words ("server name mismatch (...)"), not the
 * errno it was carried in: strerror(EKEYREJECTED) would say "Key was
 * rejected by service" for every TLS failure. */
static const char *failure_cause(const struct sct *t, int rc)
{
	const char *cause = backend_failure_cause(t->client);
	return cause[0] != '\0' ? cause : strerror(-rc);
}

/* A client call that failed, in words: rc < 0 the connection (as above),
 * rc > 0 a status >= 300 of the server. Returns EXIT_FAILED. */
static int call_failed(const struct sct *t, const char *what, int rc)
{
	const struct wsop_json_error *e = wsop_client_error(t->client);
	if (rc < 0)
		say_error("%s: cannot reach the WSOP server %s:%u: %s (the log file %s has more)",
		          what, t->cfg.host, t->cfg.port, failure_cause(t, rc), t->cfg.logfilepath);
	else if (e->code[0] != '\0')
		say_error("%s: the server refused (%d %s): %s", what, rc, e->code, e->message);
	else
		say_error("%s: the server answered HTTP %d", what, rc);
	return EXIT_FAILED;
}

/* The audit line of a softcard created or deleted (or not): rc is the
 * client call's result, id the softcard's when known. */
static void audit_softcard(const struct sct *t, const char *event, const char *id, int rc)
{
	struct audit_line a;

	audit_begin(&a, event, rc == 0 ? AUDIT_SUCCESS : AUDIT_FAILURE);
	audit_str(&a, "name", t->name);
	audit_str(&a, "softcard", id);
	audit_str(&a, "host", t->cfg.host);
	audit_uint(&a, "port", t->cfg.port);
	if (rc < 0) {
		audit_str(&a, "cause", failure_cause(t, rc));
	} else if (rc > 0) {
		audit_int(&a, "http_status", rc);
		audit_str(&a, "code", wsop_client_error(t->client)->code);
	}
	audit_emit(&a);
}

static int start_backend(struct sct *t)
{
	verbose(t, "starting the helper");
	int rc = backend_open(&t->cfg, t->config_path, &t->be);
	if (rc == 0)
		rc = backend_ready(t->be);
	if (rc != 0) {
		/* The backend says -EKEYREJECTED when the helper refused its
		 * configuration or credentials (CERT, KEY, AUTH); strerror's
		 * "Key was rejected by service" would mislead. */
		say_error("cannot start the helper: %s (the log file %s has the cause)",
		          rc == -EKEYREJECTED ? "it could not load the configuration or the client "
		                                "credentials (CERT, KEY, AUTH)"
		                              : strerror(-rc),
		          t->cfg.logfilepath);
		return EXIT_FAILED;
	}
	verbose(t, "helper started (pid %ld)", (long)backend_helper_pid(t->be));
	t->client = backend_acquire(t->be);
	if (t->client == NULL) {
		say_error("out of memory");
		return EXIT_FAILED;
	}
	/* The pool connects lazily: a health check makes the connection and
	 * the TLS handshake a step of their own in the verbose report. */
	if (t->verbose) {
		verbose(t, "connecting to %s:%u", t->cfg.host, t->cfg.port);
		struct wsop_health h;
		rc = wsop_health(t->client, &h);
		if (rc != 0)
			return call_failed(t, rc < 0 ? "connect" : "health check", rc);
		verbose(t, "TLS connection established; server status %s, version %s", h.status,
		        h.version);
	}
	return 0;
}

static int do_list(struct sct *t)
{
	struct wsop_softcard_list list;
	verbose(t, "request sent: GET /km/v1/protectiondomains");
	int rc = wsop_softcard_list(t->client, &list);
	if (rc != 0)
		return call_failed(t, "list", rc);
	verbose(t, "answer: %zu softcard%s", list.count, list.count == 1 ? "" : "s");
	for (size_t i = 0; i < list.count; i++)
		printf("%s  %s\n", list.items[i].id, list.items[i].name);
	wsop_softcard_list_free(&list);
	return fflush(stdout) == 0 ? 0 : EXIT_FAILED;
}

static int describe_pass_error(int rc)
{
	if (rc == -ENODATA)
		say_error("no passphrase given (expected one line on standard input)");
	else if (rc == -E2BIG)
		say_error("passphrase longer than %d characters", WSOP_PASSPHRASE_MAX);
	else
		say_error("cannot read the passphrase: %s", strerror(-rc));
	return EXIT_FAILED;
}

/* Fills pass; on a terminal asks twice and compares. Returns 0 and the
 * length in *len, or an exit status (pass is then wiped). */
static int get_passphrase(char pass[SCT_PASS_BUF], size_t *len)
{
	int rc = sct_pass_read(STDIN_FILENO, "New softcard passphrase: ", pass);
	if (rc < 0)
		return describe_pass_error(rc);
	*len = (size_t)rc;
	if (!wsop_passphrase_valid(pass, *len)) {
		OPENSSL_cleanse(pass, SCT_PASS_BUF);
		say_error("invalid passphrase: use 1 to %d printable ASCII characters",
		          WSOP_PASSPHRASE_MAX);
		return EXIT_FAILED;
	}
	if (!sct_pass_is_terminal(STDIN_FILENO))
		return 0;
	char again[SCT_PASS_BUF];
	rc = sct_pass_read(STDIN_FILENO, "Repeat the passphrase: ", again);
	bool same = rc >= 0 && (size_t)rc == *len && CRYPTO_memcmp(pass, again, *len) == 0;
	OPENSSL_cleanse(again, sizeof(again));
	if (rc < 0) {
		OPENSSL_cleanse(pass, SCT_PASS_BUF);
		return describe_pass_error(rc);
	}
	if (!same) {
		OPENSSL_cleanse(pass, SCT_PASS_BUF);
		say_error("the passphrases do not match; nothing was created");
		return EXIT_FAILED;
	}
	return 0;
}

static int do_generate(struct sct *t, const char *pass, size_t pass_len)
{
	struct wsop_softcard card;
	verbose(t, "request sent: POST /km/v1/protectiondomains (name %s)", t->name);
	int rc = wsop_softcard_create(t->client, t->name, pass, pass_len, NULL, &card);
	audit_softcard(t, "softcard_create", rc == 0 ? card.id : NULL, rc);
	if (rc == 409 && wsop_client_error_is(t->client, WSOP_E_NAME_TAKEN)) {
		say_error("a softcard named '%s' exists already: the name is the token label, "
		          "so each must be unique; choose another name",
		          t->name);
		return EXIT_FAILED;
	}
	if (rc != 0)
		return call_failed(t, "generate", rc);
	verbose(t, "answer: softcard created");
	printf("%s  %s\n", card.id, card.name);
	return fflush(stdout) == 0 ? 0 : EXIT_FAILED;
}

static int do_delete(struct sct *t)
{
	verbose(t, "request sent: DELETE /km/v1/protectiondomains/%s", t->id);
	int rc = wsop_softcard_delete(t->client, t->id, NULL);
	audit_softcard(t, "softcard_delete", t->id, rc);
	if (rc == 404 && wsop_client_error_is(t->client, WSOP_E_NOT_FOUND)) {
		say_error("no softcard with ID %s", t->id);
		return EXIT_FAILED;
	}
	if (rc == 409 && wsop_client_error_is(t->client, WSOP_E_NOT_EMPTY)) {
		say_error("softcard %s still holds keys or objects: remove its keys and objects "
		          "first",
		          t->id);
		return EXIT_FAILED;
	}
	if (rc != 0)
		return call_failed(t, "delete", rc);
	verbose(t, "answer: softcard deleted");
	printf("deleted softcard %s\n", t->id);
	return fflush(stdout) == 0 ? 0 : EXIT_FAILED;
}

static int run(struct sct *t)
{
	int rc = check_inputs(t);
	if (rc != 0)
		return rc;
	rc = load_config(t);
	if (rc != 0)
		return rc;
	open_log(t);

	/* The passphrase is asked before the helper starts: a typo then
	 * costs nothing, and no secret waits while we connect. */
	char pass[SCT_PASS_BUF];
	size_t pass_len = 0;
	if (t->command == CMD_GENERATE) {
		rc = get_passphrase(pass, &pass_len);
		if (rc != 0)
			return rc;
	}
	rc = start_backend(t);
	if (rc == 0) {
		if (t->command == CMD_LIST)
			rc = do_list(t);
		else if (t->command == CMD_DELETE)
			rc = do_delete(t);
		else
			rc = do_generate(t, pass, pass_len);
	}
	if (t->command == CMD_GENERATE)
		OPENSSL_cleanse(pass, sizeof(pass));
	return rc;
}

int main(int argc, char **argv)
{
	struct sct t;
	memset(&t, 0, sizeof(t));
	/* A server that closes the connection must not kill us mid-report. */
	(void)signal(SIGPIPE, SIG_IGN);

	int rc = parse_args(&t, argc, argv);
	if (rc >= 0)
		return rc;
	rc = run(&t);
	if (t.client != NULL)
		backend_release(t.be, t.client);
	backend_close(t.be);
	wlog_close();
	return rc;
}
