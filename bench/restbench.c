/*
 * restbench: the baseline for p11bench. The same AES-CBC-PAD encrypt or
 * decrypt, sent as raw REST calls over direct mutual TLS (tools/direct_tls)
 * with no PKCS #11 module and no helper in between, one connection per
 * thread. p50(p11bench) - p50(restbench) is the cost of the module and
 * its helper hop.
 *
 * It activates the softcard once and every thread's connection carries
 * that activation's token, as the threads of one process would; it finds
 * the key by label
 * among the softcard's groups (p11bench's key), or makes a group
 * "restbench" and a key in it.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "bench/bench_report.h"
#include "bench/bench_opts.h"
#include "bench/bench_run.h"
#include "lib/wsop_client.h"
#include "tools/direct_tls.h"

#define PROG        "restbench"
#define PASS_MAX    256
#define EXIT_FAILED 1
#define EXIT_USAGE  2
#define TIMEOUT_MS  30000

struct options {
	char host[256], port[8];
	const char *cert, *key, *ca, *softcard, *label;
	char pass[PASS_MAX + 2];
	bool pass_given, decrypt, json;
	unsigned long size;
	struct bench_plan plan;
};

struct shared {
	const struct options *opt;
	char key_path[WSOP_KEY_PATH_LEN + 1];
	char activation[WSOP_ACTIVATION_MAX + 1]; /* the token every thread sends */
};

struct thread_ctx {
	const struct shared *sh;
	struct direct_tls *conn;
	struct wsop_client client;
	bool client_ready;
	struct wsop_crypto_req req;
	uint8_t *data;
};

static const uint8_t bench_iv[WSOP_IV_LEN] = { 0x0b, 0xe7, 0xc4 };

static int usage(FILE *out, int status)
{
	fprintf(out,
	        "usage: " PROG " --server HOST:PORT --cert FILE --key FILE --ca FILE"
	        " --softcard ID [options]\n"
	        "  --pin PASSPHRASE  the softcard's passphrase (default: one line from stdin)\n"
	        "  --label LABEL     key label (default p11bench); made if absent\n"
	        "  --workload W      encrypt | decrypt (default encrypt; AES-CBC-PAD)\n"
	        "  --size BYTES      data per operation (default 64, at most %d)\n"
	        "  --threads T       threads, one TLS connection each (default 1)\n"
	        "  --seconds S       run this long (default 5)\n"
	        "  --ops N           run N operations in all instead of a time\n"
	        "  --warmup N        untimed operations per thread first (default 3)\n"
	        "  --json            one JSON line instead of the table\n",
	        WSOP_CRYPTO_DATA_MAX);
	return status;
}

static int parse_server(const char *s, struct options *o)
{
	const char *colon = strrchr(s, ':');
	unsigned long port;

	if (colon == NULL || colon == s || (size_t)(colon - s) >= sizeof(o->host) ||
	    bench_parse_ulong(colon + 1, 1, 65535, &port) != 0)
		return -EINVAL;
	memcpy(o->host, s, (size_t)(colon - s));
	o->host[colon - s] = '\0';
	snprintf(o->port, sizeof(o->port), "%lu", port);
	return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 'a' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "ca", required_argument, NULL, 'A' },
		{ "softcard", required_argument, NULL, 'd' },
		{ "pin", required_argument, NULL, 'p' },
		{ "label", required_argument, NULL, 'L' },
		{ "workload", required_argument, NULL, 'w' },
		{ "size", required_argument, NULL, 's' },
		BENCH_PLAN_LONGOPTS,
	};
	int c, r;

	*o = (struct options){ .label = "p11bench",
		               .size = 64,
		               .plan = { .threads = 1, .seconds = 5, .warmup = 3 } };
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (parse_server(optarg, o) != 0)
				return bench_usage_error(PROG, "server must be HOST:PORT", optarg);
			break;
		case 'c':
			o->cert = optarg;
			break;
		case 'k':
			o->key = optarg;
			break;
		case 'A':
			o->ca = optarg;
			break;
		case 'd':
			if (!wsop_softcard_id_valid(optarg))
				return bench_usage_error(PROG, "invalid softcard id", optarg);
			o->softcard = optarg;
			break;
		case 'p':
			if ((r = bench_secret_option(PROG, "passphrase too long", optarg, o->pass,
			                             PASS_MAX, &o->pass_given)) != 0)
				return r;
			break;
		case 'L':
			if ((r = bench_label_option(PROG, "invalid label", optarg, WSOP_LABEL_MAX,
			                            &o->label)) != 0)
				return r;
			break;
		case 'w':
			if (strcmp(optarg, "encrypt") != 0 && strcmp(optarg, "decrypt") != 0)
				return bench_usage_error(
				    PROG, "workload must be encrypt or decrypt", optarg);
			o->decrypt = strcmp(optarg, "decrypt") == 0;
			break;
		case 's':
			if (bench_parse_ulong(optarg, 1, WSOP_CRYPTO_DATA_MAX - 16, &o->size) != 0)
				return bench_usage_error(PROG, "size out of range", optarg);
			break;
		default:
			if ((r = bench_other_option(PROG, c, optarg, &o->plan, &o->json, usage)) !=
			    1)
				return r;
		}
	}
	if (optind != argc)
		return bench_usage_error(PROG, "unexpected argument", argv[optind]);
	if (o->host[0] == '\0' || o->cert == NULL || o->key == NULL || o->ca == NULL ||
	    o->softcard == NULL)
		return usage(stderr, EXIT_USAGE);
	return 0;
}

/* The text of a failed call: errno name or HTTP status and error code. */
static void describe(struct wsop_client *c, const char *what, int rc, char *err, size_t cap)
{
	if (rc < 0)
		snprintf(err, cap, "%s: %s", what, strerror(-rc));
	else
		snprintf(err, cap, "%s: HTTP %d %s", what, rc, wsop_client_error(c)->code);
}

static int connect_client(const struct options *o, struct direct_tls **conn,
                          struct wsop_client *client, char *err, size_t cap)
{
	struct direct_tls_config cfg = {
		.host = o->host,
		.port = o->port,
		.ca_path = o->ca,
		.cert_path = o->cert,
		.key_path = o->key,
		.security_level = -1,
		.timeout_ms = TIMEOUT_MS,
	};
	struct wsop_transport t;
	int rc = direct_tls_connect(&cfg, conn, err, cap);

	if (rc != 0)
		return rc;
	direct_tls_transport(*conn, &t);
	rc = wsop_client_init(client, &t, o->host, TIMEOUT_MS);
	if (rc != 0) {
		snprintf(err, cap, "client set-up: %s", strerror(-rc));
		direct_tls_close(*conn);
		*conn = NULL;
	}
	return rc;
}

/* ---- per thread ----------------------------------------------------------- */

static int run_op(void *ctx, char *err, size_t cap)
{
	struct thread_ctx *t = ctx;
	struct wsop_crypto_answer ans;
	int rc = t->sh->opt->decrypt ? wsop_decrypt(&t->client, &t->req, &ans)
	                             : wsop_encrypt(&t->client, &t->req, &ans);

	if (rc != 0) {
		describe(&t->client, t->sh->opt->decrypt ? "decrypt" : "encrypt", rc, err, cap);
		return -1;
	}
	wsop_crypto_answer_free(&ans);
	return 0;
}

static void thread_done(void *ctx)
{
	struct thread_ctx *t = ctx;

	if (t == NULL)
		return;
	if (t->client_ready)
		wsop_client_free(&t->client);
	direct_tls_close(t->conn);
	free(t->data);
	free(t);
}

static int thread_init(void *shared, unsigned index, void **ctx, char *err, size_t cap)
{
	const struct shared *sh = shared;
	struct thread_ctx *t = calloc(1, sizeof(*t));
	size_t size = sh->opt->size;

	(void)index;
	if (t == NULL || (t->data = malloc(size)) == NULL) {
		free(t);
		snprintf(err, cap, "out of memory");
		return -1;
	}
	t->sh = sh;
	for (size_t i = 0; i < size; i++)
		t->data[i] = (uint8_t)(i * 31 + 7);
	if (connect_client(sh->opt, &t->conn, &t->client, err, cap) != 0) {
		thread_done(t);
		return -1;
	}
	t->client_ready = true;
	(void)wsop_client_set_activation(&t->client, sh->activation);
	snprintf(t->req.key, sizeof(t->req.key), "%s", sh->key_path);
	t->req.mechanism = WSOP_MECH_AES_CBC_PAD;
	memcpy(t->req.iv, bench_iv, sizeof(bench_iv));
	t->req.data.data = t->data;
	t->req.data.len = size;
	if (sh->opt->decrypt) {
		/* Decrypt the ciphertext of our data, made once here. */
		struct wsop_crypto_answer ans;
		int rc = wsop_encrypt(&t->client, &t->req, &ans);
		if (rc != 0) {
			describe(&t->client, "encrypt", rc, err, cap);
			thread_done(t);
			return -1;
		}
		uint8_t *ct = malloc(ans.data.len);
		if (ct == NULL) {
			wsop_crypto_answer_free(&ans);
			thread_done(t);
			snprintf(err, cap, "out of memory");
			return -1;
		}
		memcpy(ct, ans.data.data, ans.data.len);
		t->req.data.len = ans.data.len;
		wsop_crypto_answer_free(&ans);
		free(t->data);
		t->data = ct;
		t->req.data.data = ct;
	}
	*ctx = t;
	return 0;
}

/* ---- set-up: activation and the key --------------------------------------- */

static int read_pass(struct options *o)
{
	if (o->pass_given)
		return (int)strlen(o->pass);
	if (fgets(o->pass, sizeof(o->pass), stdin) == NULL)
		return -ENODATA;
	size_t len = strlen(o->pass);
	if (len > 0 && o->pass[len - 1] == '\n')
		o->pass[--len] = '\0';
	else if (len > PASS_MAX)
		return -EMSGSIZE;
	return (int)len;
}

/* The path of the first key labelled label in any group of the softcard. */
static int find_key(struct wsop_client *c, const struct options *o, char *path, size_t cap,
                    char *err, size_t err_cap)
{
	struct wsop_group_list groups;
	int rc = wsop_group_list(c, o->softcard, &groups);

	if (rc != 0) {
		describe(c, "group list", rc, err, err_cap);
		return -1;
	}
	path[0] = '\0';
	for (size_t g = 0; g < groups.count && path[0] == '\0'; g++) {
		struct wsop_key_list keys;
		rc = wsop_key_list(c, groups.items[g].id, &keys);
		if (rc != 0) {
			describe(c, "key list", rc, err, err_cap);
			wsop_group_list_free(&groups);
			return -1;
		}
		for (size_t k = 0; k < keys.count && path[0] == '\0'; k++) {
			if (strcmp(keys.items[k].attributes.label, o->label) == 0)
				snprintf(path, cap, "%s", keys.items[k].path);
		}
		wsop_key_list_free(&keys);
	}
	wsop_group_list_free(&groups);
	return 0;
}

static int make_key(struct wsop_client *c, const struct options *o, char *path, size_t cap,
                    char *err, size_t err_cap)
{
	struct wsop_group group;
	struct wsop_key_generate_req req;
	struct wsop_key key;
	int rc = wsop_group_create(c, "restbench", o->softcard, NULL, &group);

	if (rc != 0) {
		describe(c, "group create", rc, err, err_cap);
		return -1;
	}
	memset(&req, 0, sizeof(req));
	req.size = 256;
	snprintf(req.attributes.label, sizeof(req.attributes.label), "%s", o->label);
	req.attributes.encrypt = true;
	req.attributes.decrypt = true;
	rc = wsop_key_generate(c, group.id, &req, NULL, &key);
	if (rc != 0) {
		describe(c, "key generate", rc, err, err_cap);
		return -1;
	}
	snprintf(path, cap, "%s", key.path);
	wsop_key_free(&key);
	return 0;
}

static int prepare(struct options *o, struct shared *sh)
{
	char err[DIRECT_TLS_ERROR_MAX];
	struct direct_tls *conn = NULL;
	struct wsop_client c;
	struct wsop_softcard sc;
	int rc, len = read_pass(o);

	if (len < 0) {
		fprintf(stderr, PROG ": cannot read the passphrase: %s\n", strerror(-len));
		return -1;
	}
	if (connect_client(o, &conn, &c, err, sizeof(err)) != 0) {
		OPENSSL_cleanse(o->pass, sizeof(o->pass));
		fprintf(stderr, PROG ": %s\n", err);
		return -1;
	}
	rc = wsop_softcard_activate(&c, o->softcard, o->pass, (size_t)len, NULL, &sc);
	OPENSSL_cleanse(o->pass, sizeof(o->pass));
	if (rc != 0)
		describe(&c, "activate", rc, err, sizeof(err));
	else
		rc = find_key(&c, o, sh->key_path, sizeof(sh->key_path), err, sizeof(err));
	if (rc == 0 && sh->key_path[0] == '\0')
		rc = make_key(&c, o, sh->key_path, sizeof(sh->key_path), err, sizeof(err));
	if (rc == 0)
		memcpy(sh->activation, sc.activation, sizeof(sh->activation));
	OPENSSL_cleanse(sc.activation, sizeof(sc.activation));
	if (rc != 0)
		fprintf(stderr, PROG ": %s\n", err);
	wsop_client_free(&c);
	direct_tls_close(conn);
	return rc == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct options o;
	struct shared sh = { .opt = &o };
	struct bench_result res;
	int rc = parse_options(argc, argv, &o);

	if (rc != 0) {
		OPENSSL_cleanse(o.pass, sizeof(o.pass));
		return rc < 0 ? 0 : rc;
	}
	/* A server that closes early must not kill us in a write. */
	signal(SIGPIPE, SIG_IGN);
	if (prepare(&o, &sh) != 0)
		return EXIT_FAILED;
	const struct bench_workload wl = {
		.shared = &sh,
		.thread_init = thread_init,
		.op = run_op,
		.thread_done = thread_done,
	};
	rc = bench_run(&wl, &o.plan, &res);
	OPENSSL_cleanse(sh.activation, sizeof(sh.activation));
	if (rc != 0) {
		fprintf(stderr, PROG ": %s%s%s\n", strerror(-rc), res.first_error[0] ? ": " : "",
		        res.first_error);
		bench_result_free(&res);
		return EXIT_FAILED;
	}
	const struct bench_labels labels = {
		.tool = PROG,
		.workload = o.decrypt ? "decrypt" : "encrypt",
		.size = o.size,
		.threads = o.plan.threads,
	};
	if (o.json)
		bench_print_json(stdout, &labels, &res);
	else
		bench_print_table(stdout, &labels, &res);
	rc = res.errors == 0 ? 0 : EXIT_FAILED;
	bench_result_free(&res);
	return rc;
}
