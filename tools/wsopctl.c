/*
 * wsopctl: a small command-line client of a WSOP server over direct mutual
 * TLS (tools/direct_tls) and the typed REST client (lib/wsop_client.h).
 * For the demo, tests and administrators; it holds the client key itself.
 *
 * Exit status: 0 on success, 1 when the server refused (printed as
 * "wsopctl: <code>: <message>") or the connection failed, 2 on usage errors.
 * Passphrases are read as one line from stdin and wiped after use.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ipc/grow.h"
#include "ipc/wsop_json.h"
#include "ipc/wsop_names.h"
#include "lib/wsop_client.h"
#include "lib/wsop_transport.h"
#include "tools/direct_tls.h"

#define EXIT_REFUSED 1
#define EXIT_USAGE   2
/* Whole-input bound for encrypt/decrypt: the API's data limit, as hex for
 * decrypt (two characters a byte, plus a little whitespace). */
#define HEX_INPUT_MAX (2 * WSOP_CRYPTO_ANSWER_MAX + 64)

static const char usage_text[] =
    "Usage: wsopctl --server HOST:PORT --cert FILE --key FILE --ca FILE COMMAND [ARG]...\n"
    "\n"
    "Talks to a WSOP server over mutual TLS. Commands:\n"
    "  health                             server status and version\n"
    "  softcard-create NAME               passphrase: one line on stdin\n"
    "  softcard-list\n"
    "  softcard-delete ID\n"
    "  activate ID                        passphrase: one line on stdin; prints the\n"
    "                                     softcard, then \"activation TOKEN\"\n"
    "  deactivate ID\n"
    "  group-create NAME SOFTCARD_ID\n"
    "  key-generate GROUP_ID LABEL BITS   BITS: 128, 192 or 256\n"
    "  key-list GROUP_ID\n"
    "  encrypt KEYPATH MECH IVHEX         data on stdin, hex on stdout\n"
    "  decrypt KEYPATH MECH IVHEX         hex on stdin, data on stdout\n"
    "MECH is AES_CBC or AES_CBC_PAD; IVHEX is 32 hex digits.\n"
    "Options:\n"
    "  --server HOST:PORT  the server ([V6]:PORT for IPv6 literals)\n"
    "  --cert FILE         client certificate (PEM)\n"
    "  --key FILE          client private key (PEM)\n"
    "  --ca FILE           CA certificate(s) the server must chain to (PEM)\n"
    "  --timeout MS        per-answer timeout (default 30000)\n"
    "  --activation TOKEN  the activation token to send (default: $WSOPCTL_ACTIVATION;\n"
    "                      prefer the variable: a command line is visible to others)\n"
    "  --help              this text\n";

struct ctl {
	const char *server, *cert, *key, *ca, *activation;
	int timeout_ms;
	char host[256];
	char port[8];
	struct direct_tls *conn;
	struct wsop_client client;
	bool client_ready;
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "wsopctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(try wsopctl --help)\n");
	return EXIT_USAGE;
}

/* Reports a typed-call failure: a server error as "code: message", anything
 * else as the transport's reason. */
static int report(struct ctl *ctl, const char *what, int rc)
{
	const struct wsop_json_error *err = wsop_client_error(&ctl->client);

	if (rc > 0 && err->code[0] != '\0')
		fprintf(stderr, "wsopctl: %s: %s\n", err->code, err->message);
	else if (rc > 0)
		fprintf(stderr, "wsopctl: %s: HTTP status %d: %s\n", what, rc, err->message);
	else if (rc == -EPROTO && err->code[0] != '\0')
		fprintf(stderr, "wsopctl: %s: unexpected answer: %s\n", what, err->message);
	else if (direct_tls_error(ctl->conn)[0] != '\0')
		fprintf(stderr, "wsopctl: %s: %s\n", what, direct_tls_error(ctl->conn));
	else
		fprintf(stderr, "wsopctl: %s: %s\n", what, strerror(-rc));
	return EXIT_REFUSED;
}

static int split_server(struct ctl *ctl)
{
	const char *s = ctl->server;
	const char *colon;
	size_t host_len;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			return -EINVAL;
		host_len = (size_t)(close - s - 1);
		s++;
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return -EINVAL;
		host_len = (size_t)(colon - s);
	}
	if (host_len == 0 || host_len >= sizeof(ctl->host) || strlen(colon + 1) == 0 ||
	    strlen(colon + 1) >= sizeof(ctl->port) ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return -EINVAL;
	memcpy(ctl->host, s, host_len);
	ctl->host[host_len] = '\0';
	snprintf(ctl->port, sizeof(ctl->port), "%s", colon + 1);
	return 0;
}

static int connect_server(struct ctl *ctl)
{
	struct direct_tls_config cfg = {
		.host = ctl->host,
		.port = ctl->port,
		.ca_path = ctl->ca,
		.cert_path = ctl->cert,
		.key_path = ctl->key,
		.security_level = -1,
		.timeout_ms = ctl->timeout_ms,
	};
	struct wsop_transport t;
	char err[DIRECT_TLS_ERROR_MAX];
	int rc = direct_tls_connect(&cfg, &ctl->conn, err, sizeof(err));

	if (rc != 0) {
		fprintf(stderr, "wsopctl: %s\n", err);
		return EXIT_REFUSED;
	}
	direct_tls_transport(ctl->conn, &t);
	rc = wsop_client_init(&ctl->client, &t, ctl->host, ctl->timeout_ms);
	if (rc != 0) {
		fprintf(stderr, "wsopctl: cannot set up the client: %s\n", strerror(-rc));
		return EXIT_REFUSED;
	}
	ctl->client_ready = true;
	/* Checked when the options were read. */
	(void)wsop_client_set_activation(&ctl->client, ctl->activation);
	return 0;
}

/* One line from stdin without its line end, into buf (cap bytes with NUL).
 * Returns the length, or -EINVAL when empty, too long or not a line. */
static int read_line(char *buf, size_t cap)
{
	size_t len;

	if (fgets(buf, (int)cap, stdin) == NULL)
		return -EINVAL;
	len = strlen(buf);
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	else if (!feof(stdin))
		return -EINVAL; /* longer than the buffer */
	if (len > 0 && buf[len - 1] == '\r')
		buf[--len] = '\0';
	return len == 0 ? -EINVAL : (int)len;
}

static int read_passphrase(char *buf, size_t cap)
{
	int len;

	if (isatty(STDIN_FILENO))
		fprintf(stderr, "passphrase: ");
	len = read_line(buf, cap);
	if (len < 0 || !wsop_passphrase_valid(buf, (size_t)len)) {
		OPENSSL_cleanse(buf, cap);
		fprintf(stderr,
		        "wsopctl: the passphrase must be one line of 1-%d printable "
		        "ASCII characters\n",
		        WSOP_PASSPHRASE_MAX);
		return -EINVAL;
	}
	return len;
}

/* All of stdin, at most max bytes. */
static int read_all(uint8_t **out, size_t *out_len, size_t max)
{
	size_t cap = 4096, len = 0;
	uint8_t *buf = malloc(cap);

	if (buf == NULL)
		return -ENOMEM;
	for (;;) {
		size_t n;

		if (len == cap) {
			/* Room for one byte past max tells a too long input. */
			int r = grow_to((void **)&buf, &cap, len + 1, 1, max + 1);

			if (r != 0) {
				OPENSSL_clear_free(buf, cap);
				return r;
			}
		}
		n = fread(buf + len, 1, cap - len, stdin);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(stdin) || len > max) {
		OPENSSL_clear_free(buf, cap);
		return ferror(stdin) ? -EIO : -E2BIG;
	}
	*out = buf;
	*out_len = len;
	return 0;
}

static int hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes hex text (whitespace ignored) into out; returns the byte count or
 * -EINVAL. out must hold text_len / 2 bytes. */
static long hex_decode(const char *text, size_t text_len, uint8_t *out)
{
	size_t n = 0;
	int high = -1;

	for (size_t i = 0; i < text_len; i++) {
		int v;

		if (text[i] == ' ' || text[i] == '\n' || text[i] == '\r' || text[i] == '\t')
			continue;
		v = hex_value((unsigned char)text[i]);
		if (v < 0)
			return -EINVAL;
		if (high < 0) {
			high = v;
		} else {
			out[n++] = (uint8_t)(high << 4 | v);
			high = -1;
		}
	}
	return high < 0 ? (long)n : -EINVAL;
}

static void print_softcard(const struct wsop_softcard *sc)
{
	printf("%s %s %s %lld\n", sc->id, sc->name, sc->active ? "active" : "inactive",
	       (long long)sc->created);
}

static void print_key(const struct wsop_key *k)
{
	printf("%s %d %s\n", k->path, k->size, k->attributes.label);
}

static int cmd_health(struct ctl *ctl, char **args)
{
	struct wsop_health h;
	int rc = wsop_health(&ctl->client, &h);

	(void)args;
	if (rc != 0)
		return report(ctl, "health", rc);
	printf("%s %s\n", h.status, h.version);
	return 0;
}

static int cmd_softcard_create(struct ctl *ctl, char **args)
{
	char pass[WSOP_PASSPHRASE_MAX + 2];
	struct wsop_softcard sc;
	int len, rc;

	if (!wsop_name_valid(args[0]))
		return usage_error("invalid softcard name '%s' (1-64 of A-Za-z0-9_-)", args[0]);
	len = read_passphrase(pass, sizeof(pass));
	if (len < 0)
		return EXIT_USAGE;
	rc = wsop_softcard_create(&ctl->client, args[0], pass, (size_t)len, NULL, &sc);
	OPENSSL_cleanse(pass, sizeof(pass));
	if (rc != 0)
		return report(ctl, "softcard-create", rc);
	print_softcard(&sc);
	return 0;
}

static int cmd_softcard_list(struct ctl *ctl, char **args)
{
	struct wsop_softcard_list list;
	int rc = wsop_softcard_list(&ctl->client, &list);

	(void)args;
	if (rc != 0)
		return report(ctl, "softcard-list", rc);
	for (size_t i = 0; i < list.count; i++)
		print_softcard(&list.items[i]);
	wsop_softcard_list_free(&list);
	return 0;
}

static int cmd_softcard_delete(struct ctl *ctl, char **args)
{
	int rc;

	if (!wsop_softcard_id_valid(args[0]))
		return usage_error("invalid softcard id '%s' (40 lower-case hex digits)", args[0]);
	rc = wsop_softcard_delete(&ctl->client, args[0], NULL);
	return rc != 0 ? report(ctl, "softcard-delete", rc) : 0;
}

static int cmd_activate(struct ctl *ctl, char **args)
{
	char pass[WSOP_PASSPHRASE_MAX + 2];
	struct wsop_softcard sc;
	int len, rc;

	if (!wsop_softcard_id_valid(args[0]))
		return usage_error("invalid softcard id '%s' (40 lower-case hex digits)", args[0]);
	len = read_passphrase(pass, sizeof(pass));
	if (len < 0)
		return EXIT_USAGE;
	rc = wsop_softcard_activate(&ctl->client, args[0], pass, (size_t)len, NULL, &sc);
	OPENSSL_cleanse(pass, sizeof(pass));
	if (rc != 0)
		return report(ctl, "activate", rc);
	print_softcard(&sc);
	printf("activation %s\n", sc.activation);
	OPENSSL_cleanse(sc.activation, sizeof(sc.activation));
	return 0;
}

static int cmd_deactivate(struct ctl *ctl, char **args)
{
	struct wsop_softcard sc;
	int rc;

	if (!wsop_softcard_id_valid(args[0]))
		return usage_error("invalid softcard id '%s' (40 lower-case hex digits)", args[0]);
	rc = wsop_softcard_deactivate(&ctl->client, args[0], NULL, &sc);
	if (rc != 0)
		return report(ctl, "deactivate", rc);
	print_softcard(&sc);
	return 0;
}

static int cmd_group_create(struct ctl *ctl, char **args)
{
	struct wsop_group g;
	int rc;

	if (!wsop_name_valid(args[0]))
		return usage_error("invalid group name '%s' (1-64 of A-Za-z0-9_-)", args[0]);
	if (!wsop_softcard_id_valid(args[1]))
		return usage_error("invalid softcard id '%s' (40 lower-case hex digits)", args[1]);
	rc = wsop_group_create(&ctl->client, args[0], args[1], NULL, &g);
	if (rc != 0)
		return report(ctl, "group-create", rc);
	printf("%s %s %s\n", g.id, g.name, g.protectiondomain);
	return 0;
}

static int cmd_key_generate(struct ctl *ctl, char **args)
{
	struct wsop_key_generate_req req;
	struct wsop_key key;
	int rc;

	memset(&req, 0, sizeof(req));
	if (!wsop_uuid_valid(args[0]))
		return usage_error("invalid group id '%s'", args[0]);
	if (strlen(args[1]) > WSOP_LABEL_MAX || !wsop_utf8_text_valid(args[1], strlen(args[1])))
		return usage_error("invalid label '%s' (up to 256 bytes of UTF-8)", args[1]);
	if (strcmp(args[2], "128") != 0 && strcmp(args[2], "192") != 0 &&
	    strcmp(args[2], "256") != 0)
		return usage_error("invalid key size '%s' (128, 192 or 256)", args[2]);
	req.size = atoi(args[2]);
	snprintf(req.attributes.label, sizeof(req.attributes.label), "%s", args[1]);
	req.attributes.encrypt = true;
	req.attributes.decrypt = true;
	rc = wsop_key_generate(&ctl->client, args[0], &req, NULL, &key);
	if (rc != 0)
		return report(ctl, "key-generate", rc);
	print_key(&key);
	wsop_key_free(&key);
	return 0;
}

static int cmd_key_list(struct ctl *ctl, char **args)
{
	struct wsop_key_list list;
	int rc;

	if (!wsop_uuid_valid(args[0]))
		return usage_error("invalid group id '%s'", args[0]);
	rc = wsop_key_list(&ctl->client, args[0], &list);
	if (rc != 0)
		return report(ctl, "key-list", rc);
	for (size_t i = 0; i < list.count; i++)
		print_key(&list.items[i]);
	wsop_key_list_free(&list);
	return 0;
}

/* Fills key, mechanism and iv of a crypto request from the arguments. */
static int crypto_args(char **args, struct wsop_crypto_req *req)
{
	char group[WSOP_UUID_LEN + 1], key[WSOP_UUID_LEN + 1];

	memset(req, 0, sizeof(*req));
	if (wsop_key_path_parse(args[0], group, key) != 0)
		return usage_error("invalid key path '%s' (km/v1/groups/G/keys/K)", args[0]);
	snprintf(req->key, sizeof(req->key), "%s", args[0]);
	if (strcmp(args[1], "AES_CBC") == 0)
		req->mechanism = WSOP_MECH_AES_CBC;
	else if (strcmp(args[1], "AES_CBC_PAD") == 0)
		req->mechanism = WSOP_MECH_AES_CBC_PAD;
	else
		return usage_error("invalid mechanism '%s' (AES_CBC or AES_CBC_PAD)", args[1]);
	if (strlen(args[2]) != 2 * WSOP_IV_LEN ||
	    hex_decode(args[2], strlen(args[2]), req->iv) != WSOP_IV_LEN)
		return usage_error("invalid IV '%s' (32 hex digits)", args[2]);
	return 0;
}

static int cmd_encrypt(struct ctl *ctl, char **args)
{
	struct wsop_crypto_req req;
	struct wsop_crypto_answer ans;
	uint8_t *data = NULL;
	size_t len = 0;
	int rc = crypto_args(args, &req);

	if (rc != 0)
		return rc;
	rc = read_all(&data, &len, WSOP_CRYPTO_DATA_MAX);
	if (rc != 0) {
		fprintf(stderr, "wsopctl: encrypt: cannot read the data: %s\n", strerror(-rc));
		return EXIT_USAGE;
	}
	req.data.data = len > 0 ? data : NULL;
	req.data.len = len;
	rc = wsop_encrypt(&ctl->client, &req, &ans);
	OPENSSL_clear_free(data, len);
	if (rc != 0)
		return report(ctl, "encrypt", rc);
	for (size_t i = 0; i < ans.data.len; i++)
		printf("%02x", ans.data.data[i]);
	printf("\n");
	wsop_crypto_answer_free(&ans);
	return 0;
}

static int cmd_decrypt(struct ctl *ctl, char **args)
{
	struct wsop_crypto_req req;
	struct wsop_crypto_answer ans;
	uint8_t *text = NULL, *data;
	size_t text_len = 0;
	long len;
	int rc = crypto_args(args, &req);

	if (rc != 0)
		return rc;
	rc = read_all(&text, &text_len, HEX_INPUT_MAX);
	if (rc != 0) {
		fprintf(stderr, "wsopctl: decrypt: cannot read the hex input: %s\n", strerror(-rc));
		return EXIT_USAGE;
	}
	data = malloc(text_len / 2 + 1);
	len = data != NULL ? hex_decode((const char *)text, text_len, data) : -ENOMEM;
	free(text);
	if (len < 0) {
		free(data);
		fprintf(stderr, "wsopctl: decrypt: the input is not hex\n");
		return EXIT_USAGE;
	}
	req.data.data = len > 0 ? data : NULL;
	req.data.len = (size_t)len;
	rc = wsop_decrypt(&ctl->client, &req, &ans);
	free(data);
	if (rc != 0)
		return report(ctl, "decrypt", rc);
	if (ans.data.len > 0 && fwrite(ans.data.data, 1, ans.data.len, stdout) != ans.data.len) {
		wsop_crypto_answer_free(&ans);
		fprintf(stderr, "wsopctl: decrypt: cannot write the output\n");
		return EXIT_REFUSED;
	}
	wsop_crypto_answer_free(&ans);
	return 0;
}

struct command {
	const char *name;
	int argc;
	int (*run)(struct ctl *ctl, char **args);
};

static const struct command commands[] = {
	{ "health", 0, cmd_health },
	{ "softcard-create", 1, cmd_softcard_create },
	{ "softcard-list", 0, cmd_softcard_list },
	{ "softcard-delete", 1, cmd_softcard_delete },
	{ "activate", 1, cmd_activate },
	{ "deactivate", 1, cmd_deactivate },
	{ "group-create", 2, cmd_group_create },
	{ "key-generate", 3, cmd_key_generate },
	{ "key-list", 1, cmd_key_list },
	{ "encrypt", 3, cmd_encrypt },
	{ "decrypt", 3, cmd_decrypt },
};

/* Options come first; returns the index of the command word, or -1 after
 * printing why (or 0 after --help). */
static int parse_options(int argc, char **argv, struct ctl *ctl)
{
	int i = 1;

	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		const char *opt = argv[i];
		const char **slot = NULL;

		if (strcmp(opt, "--help") == 0) {
			fputs(usage_text, stdout);
			return 0;
		}
		if (strcmp(opt, "--server") == 0)
			slot = &ctl->server;
		else if (strcmp(opt, "--cert") == 0)
			slot = &ctl->cert;
		else if (strcmp(opt, "--key") == 0)
			slot = &ctl->key;
		else if (strcmp(opt, "--ca") == 0)
			slot = &ctl->ca;
		else if (strcmp(opt, "--activation") == 0)
			slot = &ctl->activation;
		else if (strcmp(opt, "--timeout") != 0) {
			usage_error("unknown option %s", opt);
			return -1;
		}
		if (i + 1 >= argc) {
			usage_error("%s needs a value", opt);
			return -1;
		}
		i++;
		if (slot != NULL) {
			*slot = argv[i];
		} else {
			char *end;
			long ms = strtol(argv[i], &end, 10);

			if (*end != '\0' || ms < 1 || ms > 3600000) {
				usage_error("invalid --timeout %s (1-3600000 ms)", argv[i]);
				return -1;
			}
			ctl->timeout_ms = (int)ms;
		}
	}
	if (ctl->server == NULL || ctl->cert == NULL || ctl->key == NULL || ctl->ca == NULL) {
		usage_error("%s", "--server, --cert, --key and --ca are required");
		return -1;
	}
	if (split_server(ctl) != 0) {
		usage_error("invalid --server '%s' (HOST:PORT)", ctl->server);
		return -1;
	}
	if (ctl->activation == NULL)
		ctl->activation = getenv("WSOPCTL_ACTIVATION");
	if (ctl->activation != NULL && ctl->activation[0] != '\0' &&
	    !wsop_activation_token_valid(ctl->activation)) {
		usage_error("%s", "invalid activation token (1-512 of A-Za-z0-9_-)");
		return -1;
	}
	if (i >= argc) {
		usage_error("%s", "no command given");
		return -1;
	}
	return i;
}

int main(int argc, char **argv)
{
	struct ctl ctl = { .timeout_ms = WSOP_CLIENT_TIMEOUT_MS };
	const struct command *cmd = NULL;
	int first = parse_options(argc, argv, &ctl);
	int rc;

	if (first <= 0)
		return first == 0 ? 0 : EXIT_USAGE;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[first], commands[i].name) == 0)
			cmd = &commands[i];
	}
	if (cmd == NULL)
		return usage_error("unknown command '%s'", argv[first]);
	if (argc - first - 1 != cmd->argc) {
		fprintf(stderr, "wsopctl: %s takes %d argument(s)\n(try wsopctl --help)\n",
		        cmd->name, cmd->argc);
		return EXIT_USAGE;
	}
	/* A server that hangs up must give an error message, not SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	rc = connect_server(&ctl);
	if (rc == 0)
		rc = cmd->run(&ctl, argv + first + 1);
	if (ctl.client_ready)
		wsop_client_free(&ctl.client);
	direct_tls_close(ctl.conn);
	if (fflush(stdout) != 0 && rc == 0) {
		fprintf(stderr, "wsopctl: cannot write the output\n");
		rc = EXIT_REFUSED;
	}
	return rc;
}
