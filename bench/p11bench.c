/*
 * p11bench: measures a PKCS #11 module under load. It loads the module,
 * logs in to one token, finds (or generates) an AES-256 key by label, and
 * runs one workload in T threads, each in a session of its own, for a time
 * or a number of operations; it prints ops/s, latency percentiles and the
 * error count. Performance is measured here, never asserted by tests.
 *
 * The data is synthetic and the IV is the same for every operation on
 * purpose: every operation then does exactly the same work.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "bench/bench_report.h"
#include "bench/bench_opts.h"
#include "bench/bench_run.h"
#include "tools/ck_common.h"
#include "tools/ck_pin.h"

#ifndef P11BENCH_DEFAULT_LIBRARY
#define P11BENCH_DEFAULT_LIBRARY "libpkcs11wsop.so"
#endif

#define PROG         "p11bench"
#define SIZE_MAX_ARG (16UL * 1024 * 1024)
#define LABEL_MAX    128
#define FIND_MAX     16
#define EXIT_FAILED  1
#define EXIT_USAGE   2

enum workload {
	WL_ENCRYPT,
	WL_DECRYPT,
	WL_MULTIPART,
	WL_DECRYPT_MULTIPART,
	WL_KEYGEN,
	WL_FIND,
	WL_GETATTR,
};

static const char *const workload_names[] = {
	[WL_ENCRYPT] = "encrypt",
	[WL_DECRYPT] = "decrypt",
	[WL_MULTIPART] = "encrypt-multipart",
	[WL_DECRYPT_MULTIPART] = "decrypt-multipart",
	[WL_KEYGEN] = "keygen",
	[WL_FIND] = "find",
	[WL_GETATTR] = "getattr",
};

struct options {
	const char *library;
	const char *token;
	const char *label;
	char pin[CK_PIN_MAX + 1];
	bool pin_given;
	enum workload workload;
	unsigned long size, part;
	struct bench_plan plan;
	bool json;
};

/* What every thread shares: read-only once the threads start. */
struct shared {
	CK_FUNCTION_LIST *fn;
	CK_SLOT_ID slot;
	CK_OBJECT_HANDLE key;
	const struct options *opt;
};

struct thread_ctx {
	const struct shared *sh;
	CK_SESSION_HANDLE session;
	CK_BYTE *in, *out; /* size (+ a block) bytes each */
	CK_ULONG in_len;   /* plaintext or ciphertext length */
};

static const CK_BYTE bench_iv[16] = { 0x0b, 0xe7, 0xc4 }; /* the rest 0 */

static int usage(FILE *out, int status)
{
	fprintf(out,
	        "usage: " PROG " [options]\n"
	        "  --library PATH    PKCS #11 module (default %s)\n"
	        "  --token LABEL     token to use (default: the first one present)\n"
	        "  --pin PIN         user PIN (default: one line from stdin)\n"
	        "  --label LABEL     label of the AES-256 key, generated if absent"
	        " (default p11bench)\n"
	        "  --workload W      encrypt | decrypt | encrypt-multipart |"
	        " decrypt-multipart | keygen | find | getattr\n"
	        "                    (default encrypt; AES-CBC-PAD; keygen = generate +"
	        " destroy)\n"
	        "  --size BYTES      data per encrypt/decrypt operation (default 64)\n"
	        "  --part BYTES      bytes per update in encrypt-/decrypt-multipart"
	        " (default 4096)\n"
	        "  --threads T       threads, one session each (default 1, at most %d)\n"
	        "  --seconds S       run this long (default 5)\n"
	        "  --ops N           run N operations in all instead of a time\n"
	        "  --warmup N        untimed operations per thread first (default 3)\n"
	        "  --json            one JSON line instead of the table\n"
	        "  --help            this text\n"
	        "Exit status: 0 when every operation succeeded, 1 on errors, 2 on usage.\n",
	        P11BENCH_DEFAULT_LIBRARY, BENCH_THREADS_MAX);
	return status;
}

static int parse_workload(const char *s, enum workload *out)
{
	for (size_t i = 0; i < sizeof(workload_names) / sizeof(workload_names[0]); i++) {
		if (strcmp(s, workload_names[i]) == 0) {
			*out = (enum workload)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* 0, a usage exit status, or -1 for --help (printed already). */
static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "library", required_argument, NULL, 'l' },
		{ "token", required_argument, NULL, 't' },
		{ "pin", required_argument, NULL, 'p' },
		{ "label", required_argument, NULL, 'L' },
		{ "workload", required_argument, NULL, 'w' },
		{ "size", required_argument, NULL, 's' },
		{ "part", required_argument, NULL, 'P' },
		{ "threads", required_argument, NULL, 'T' },
		{ "seconds", required_argument, NULL, 'S' },
		{ "ops", required_argument, NULL, 'n' },
		{ "warmup", required_argument, NULL, 'W' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, r;

	*o = (struct options){ .library = P11BENCH_DEFAULT_LIBRARY,
		               .label = "p11bench",
		               .size = 64,
		               .part = 4096,
		               .plan = { .threads = 1, .seconds = 5, .warmup = 3 } };
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			o->library = optarg;
			break;
		case 't':
			o->token = optarg;
			break;
		case 'p':
			if (strlen(optarg) > CK_PIN_MAX)
				return bench_usage_error(PROG, "PIN too long", "...");
			strcpy(o->pin, optarg);
			o->pin_given = true;
			break;
		case 'L':
			if (strlen(optarg) == 0 || strlen(optarg) > LABEL_MAX)
				return bench_usage_error(PROG, "label must have 1-128 bytes",
				                         optarg);
			o->label = optarg;
			break;
		case 'w':
			if (parse_workload(optarg, &o->workload) != 0)
				return bench_usage_error(PROG, "unknown workload", optarg);
			break;
		case 's':
			if (bench_parse_ulong(optarg, 1, SIZE_MAX_ARG, &o->size) != 0)
				return bench_usage_error(PROG, "size must be 1-16777216", optarg);
			break;
		case 'P':
			if (bench_parse_ulong(optarg, 1, SIZE_MAX_ARG, &o->part) != 0)
				return bench_usage_error(PROG, "part must be 1-16777216", optarg);
			break;
		case 'h':
			return usage(stdout, -1);
		default:
			if ((r = bench_plan_option(PROG, c, optarg, &o->plan, &o->json)) == 1)
				break;
			return r != 0 ? r : usage(stderr, EXIT_USAGE);
		}
	}
	if (optind != argc)
		return bench_usage_error(PROG, "unexpected argument", argv[optind]);
	return 0;
}

static int fail(char *err, size_t cap, const char *fn, CK_RV rv)
{
	snprintf(err, cap, "%s: %s (0x%lx)", fn, ck_rv_name(rv), (unsigned long)rv);
	return -1;
}

/* ---- the workloads: one operation each -------------------------------- */

static int op_encrypt(struct thread_ctx *t, char *err, size_t cap)
{
	CK_FUNCTION_LIST *f = t->sh->fn;
	CK_MECHANISM m = { CKM_AES_CBC_PAD, (CK_VOID_PTR)bench_iv, sizeof(bench_iv) };
	CK_ULONG out_len = t->sh->opt->size + 16;
	CK_RV rv = f->C_EncryptInit(t->session, &m, t->sh->key);

	if (rv != CKR_OK)
		return fail(err, cap, "C_EncryptInit", rv);
	rv = f->C_Encrypt(t->session, t->in, t->in_len, t->out, &out_len);
	if (rv != CKR_OK)
		return fail(err, cap, "C_Encrypt", rv);
	return 0;
}

static int op_decrypt(struct thread_ctx *t, char *err, size_t cap)
{
	CK_FUNCTION_LIST *f = t->sh->fn;
	CK_MECHANISM m = { CKM_AES_CBC_PAD, (CK_VOID_PTR)bench_iv, sizeof(bench_iv) };
	CK_ULONG out_len = t->sh->opt->size + 16;
	CK_RV rv = f->C_DecryptInit(t->session, &m, t->sh->key);

	if (rv != CKR_OK)
		return fail(err, cap, "C_DecryptInit", rv);
	rv = f->C_Decrypt(t->session, t->in, t->in_len, t->out, &out_len);
	if (rv != CKR_OK)
		return fail(err, cap, "C_Decrypt", rv);
	if (out_len != t->sh->opt->size) {
		snprintf(err, cap, "C_Decrypt: %lu bytes back, want %lu", (unsigned long)out_len,
		         t->sh->opt->size);
		return -1;
	}
	return 0;
}

/* Init, one Update per part (the last may be shorter), Final. */
static int op_multipart(struct thread_ctx *t, bool enc, char *err, size_t cap)
{
	CK_FUNCTION_LIST *f = t->sh->fn;
	CK_MECHANISM m = { CKM_AES_CBC_PAD, (CK_VOID_PTR)bench_iv, sizeof(bench_iv) };
	unsigned long part = t->sh->opt->part;
	CK_BYTE *o = t->out;
	CK_ULONG room = t->sh->opt->size + 16, n, chunk;
	CK_RV rv = enc ? f->C_EncryptInit(t->session, &m, t->sh->key)
	               : f->C_DecryptInit(t->session, &m, t->sh->key);

	if (rv != CKR_OK)
		return fail(err, cap, enc ? "C_EncryptInit" : "C_DecryptInit", rv);
	for (CK_ULONG done = 0; done < t->in_len; done += chunk) {
		chunk = t->in_len - done < part ? t->in_len - done : part;
		CK_ULONG got = room;
		rv = enc ? f->C_EncryptUpdate(t->session, t->in + done, chunk, o, &got)
		         : f->C_DecryptUpdate(t->session, t->in + done, chunk, o, &got);
		if (rv != CKR_OK) {
			/* The operation is over after an error; nothing to end. */
			return fail(err, cap, enc ? "C_EncryptUpdate" : "C_DecryptUpdate", rv);
		}
		o += got;
		room -= got;
	}
	n = room;
	rv = enc ? f->C_EncryptFinal(t->session, o, &n) : f->C_DecryptFinal(t->session, o, &n);
	if (rv != CKR_OK)
		return fail(err, cap, enc ? "C_EncryptFinal" : "C_DecryptFinal", rv);
	return 0;
}

static int op_keygen(struct thread_ctx *t, char *err, size_t cap)
{
	CK_FUNCTION_LIST *f = t->sh->fn;
	CK_MECHANISM m = { CKM_AES_KEY_GEN, NULL, 0 };
	CK_ULONG len = 32;
	CK_BBOOL yes = CK_TRUE;
	static const char label[] = "p11bench-tmp";
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_VALUE_LEN, &len, sizeof(len) },
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &yes, sizeof(yes) },
		{ CKA_LABEL, (CK_VOID_PTR)label, sizeof(label) - 1 },
		{ CKA_ENCRYPT, &yes, sizeof(yes) },
		{ CKA_DECRYPT, &yes, sizeof(yes) },
	};
	CK_OBJECT_HANDLE k;
	CK_RV rv = f->C_GenerateKey(t->session, &m, tmpl, sizeof(tmpl) / sizeof(tmpl[0]), &k);

	if (rv != CKR_OK)
		return fail(err, cap, "C_GenerateKey", rv);
	rv = f->C_DestroyObject(t->session, k);
	if (rv != CKR_OK)
		return fail(err, cap, "C_DestroyObject", rv);
	return 0;
}

/* The objects of class secret key with the bench's label; *found their
 * count (up to FIND_MAX) and first the first handle. */
static int find_keys(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, const char *label,
                     CK_OBJECT_HANDLE *first, CK_ULONG *found, char *err, size_t cap)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_LABEL, (CK_VOID_PTR)label, strlen(label) },
	};
	CK_OBJECT_HANDLE h[FIND_MAX];
	CK_RV rv = f->C_FindObjectsInit(s, tmpl, 2);

	if (rv != CKR_OK)
		return fail(err, cap, "C_FindObjectsInit", rv);
	*found = 0;
	rv = f->C_FindObjects(s, h, FIND_MAX, found);
	CK_RV rv_final = f->C_FindObjectsFinal(s);
	if (rv != CKR_OK)
		return fail(err, cap, "C_FindObjects", rv);
	if (rv_final != CKR_OK)
		return fail(err, cap, "C_FindObjectsFinal", rv_final);
	if (*found > 0)
		*first = h[0];
	return 0;
}

static int op_find(struct thread_ctx *t, char *err, size_t cap)
{
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	CK_ULONG found;

	if (find_keys(t->sh->fn, t->session, t->sh->opt->label, &h, &found, err, cap) != 0)
		return -1;
	if (found == 0) {
		snprintf(err, cap, "C_FindObjects: the key '%s' was not found", t->sh->opt->label);
		return -1;
	}
	return 0;
}

static int op_getattr(struct thread_ctx *t, char *err, size_t cap)
{
	CK_BYTE label[LABEL_MAX + 1];
	CK_ULONG len = 0;
	CK_BBOOL enc = CK_FALSE;
	CK_ATTRIBUTE a[] = {
		{ CKA_LABEL, label, sizeof(label) },
		{ CKA_VALUE_LEN, &len, sizeof(len) },
		{ CKA_ENCRYPT, &enc, sizeof(enc) },
	};
	CK_RV rv = t->sh->fn->C_GetAttributeValue(t->session, t->sh->key, a, 3);

	if (rv != CKR_OK)
		return fail(err, cap, "C_GetAttributeValue", rv);
	return 0;
}

static int run_op(void *ctx, char *err, size_t cap)
{
	struct thread_ctx *t = ctx;

	switch (t->sh->opt->workload) {
	case WL_ENCRYPT:
		return op_encrypt(t, err, cap);
	case WL_DECRYPT:
		return op_decrypt(t, err, cap);
	case WL_MULTIPART:
	case WL_DECRYPT_MULTIPART:
		return op_multipart(t, t->sh->opt->workload == WL_MULTIPART, err, cap);
	case WL_KEYGEN:
		return op_keygen(t, err, cap);
	case WL_FIND:
		return op_find(t, err, cap);
	case WL_GETATTR:
		return op_getattr(t, err, cap);
	}
	snprintf(err, cap, "no such workload");
	return -1;
}

/* ---- per-thread state ---------------------------------------------------- */

static void thread_done(void *ctx)
{
	struct thread_ctx *t = ctx;

	if (t == NULL)
		return;
	if (t->session != CK_INVALID_HANDLE)
		t->sh->fn->C_CloseSession(t->session);
	free(t->in);
	free(t->out);
	free(t);
}

/* Its own session; for decrypt, the ciphertext of size bytes made once. */
static int thread_init(void *shared, unsigned index, void **ctx, char *err, size_t cap)
{
	const struct shared *sh = shared;
	unsigned long size = sh->opt->size;
	struct thread_ctx *t = calloc(1, sizeof(*t));

	(void)index;
	if (t == NULL) {
		snprintf(err, cap, "out of memory");
		return -1;
	}
	t->sh = sh;
	t->session = CK_INVALID_HANDLE;
	t->in = malloc(size + 16);
	t->out = malloc(size + 16);
	if (t->in == NULL || t->out == NULL) {
		snprintf(err, cap, "out of memory");
		thread_done(t);
		return -1;
	}
	for (unsigned long i = 0; i < size + 16; i++)
		t->in[i] = (CK_BYTE)(i * 31 + 7);
	t->in_len = size;
	CK_RV rv = sh->fn->C_OpenSession(sh->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
	                                 &t->session);
	if (rv != CKR_OK) {
		t->session = CK_INVALID_HANDLE;
		thread_done(t);
		return fail(err, cap, "C_OpenSession", rv);
	}
	if (sh->opt->workload == WL_DECRYPT || sh->opt->workload == WL_DECRYPT_MULTIPART) {
		if (op_encrypt(t, err, cap) != 0) {
			thread_done(t);
			return -1;
		}
		/* CBC-PAD always adds 1..16 bytes: the whole blocks above size. */
		t->in_len = (size / 16 + 1) * 16;
		memcpy(t->in, t->out, t->in_len);
	}
	*ctx = t;
	return 0;
}

/* ---- set-up: token, login, key ----------------------------------------- */

static int pick_slot(struct ck_module *mod, const char *token, CK_SLOT_ID *out)
{
	CK_SLOT_ID *slots = NULL;
	CK_ULONG count = 0;
	int rc = -1;

	if (ck_slot_list(mod, CK_TRUE, &slots, &count) != 0)
		return -1;
	for (CK_ULONG i = 0; i < count && rc != 0; i++) {
		CK_TOKEN_INFO info;
		if (mod->fn->C_GetTokenInfo(slots[i], &info) != CKR_OK)
			continue;
		size_t n = sizeof(info.label);
		while (n > 0 && info.label[n - 1] == ' ')
			n--;
		if (token == NULL || (strlen(token) == n && memcmp(token, info.label, n) == 0)) {
			*out = slots[i];
			rc = 0;
		}
	}
	free(slots);
	if (rc != 0)
		fprintf(stderr, PROG ": no token %s%s%s\n", token ? "labelled '" : "present",
		        token ? token : "", token ? "'" : "");
	return rc;
}

static int find_or_make_key(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, const char *label,
                            CK_OBJECT_HANDLE *key)
{
	char err[BENCH_ERROR_MAX];
	CK_ULONG found = 0;

	if (find_keys(f, s, label, key, &found, err, sizeof(err)) != 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return -1;
	}
	if (found > 0)
		return 0;
	CK_MECHANISM m = { CKM_AES_KEY_GEN, NULL, 0 };
	CK_ULONG len = 32;
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_VALUE_LEN, &len, sizeof(len) },
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &yes, sizeof(yes) },
		{ CKA_LABEL, (CK_VOID_PTR)label, strlen(label) },
		{ CKA_ENCRYPT, &yes, sizeof(yes) },
		{ CKA_DECRYPT, &yes, sizeof(yes) },
	};
	CK_RV rv = f->C_GenerateKey(s, &m, tmpl, sizeof(tmpl) / sizeof(tmpl[0]), key);
	if (rv != CKR_OK)
		return ck_fail(PROG, "C_GenerateKey", rv);
	return 0;
}

static int login(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, struct options *o)
{
	int len = (int)strlen(o->pin);

	if (!o->pin_given) {
		len = ck_pin_from_stream(stdin, o->pin, sizeof(o->pin));
		if (len < 0) {
			fprintf(stderr, PROG ": cannot read the PIN from stdin: %s\n",
			        strerror(-len));
			return -1;
		}
	}
	CK_RV rv = f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)o->pin, (CK_ULONG)len);
	OPENSSL_cleanse(o->pin, sizeof(o->pin));
	/* Someone else's session may have logged the token in already. */
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN)
		return ck_fail(PROG, "C_Login", rv);
	return 0;
}

static int bench(struct ck_module *mod, struct options *o)
{
	struct shared sh = { .fn = mod->fn, .opt = o };
	CK_SESSION_HANDLE main_session;
	struct bench_result res;

	if (pick_slot(mod, o->token, &sh.slot) != 0)
		return EXIT_FAILED;
	/* Kept open for the whole run: the login lasts while a session does. */
	CK_RV rv = mod->fn->C_OpenSession(sh.slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
	                                  &main_session);
	if (rv != CKR_OK) {
		ck_fail(PROG, "C_OpenSession", rv);
		return EXIT_FAILED;
	}
	if (login(mod->fn, main_session, o) != 0 ||
	    find_or_make_key(mod->fn, main_session, o->label, &sh.key) != 0) {
		mod->fn->C_CloseSession(main_session);
		return EXIT_FAILED;
	}

	const struct bench_workload wl = {
		.shared = &sh,
		.thread_init = thread_init,
		.op = run_op,
		.thread_done = thread_done,
	};
	int rc = bench_run(&wl, &o->plan, &res);
	mod->fn->C_CloseSession(main_session);
	if (rc != 0) {
		fprintf(stderr, PROG ": %s%s%s\n", strerror(-rc), res.first_error[0] ? ": " : "",
		        res.first_error);
		bench_result_free(&res);
		return EXIT_FAILED;
	}
	const struct bench_labels labels = {
		.tool = PROG,
		.workload = workload_names[o->workload],
		.size = (o->workload == WL_KEYGEN || o->workload == WL_FIND ||
		         o->workload == WL_GETATTR)
		            ? 0
		            : o->size,
		.threads = o->plan.threads,
	};
	if (o->json)
		bench_print_json(stdout, &labels, &res);
	else
		bench_print_table(stdout, &labels, &res);
	rc = res.errors == 0 ? 0 : EXIT_FAILED;
	bench_result_free(&res);
	return rc;
}

int main(int argc, char **argv)
{
	struct options o;
	struct ck_module mod;
	int rc = parse_options(argc, argv, &o);

	if (rc != 0) {
		OPENSSL_cleanse(o.pin, sizeof(o.pin));
		return rc < 0 ? 0 : rc;
	}
	if (ck_module_open(&mod, PROG, o.library) != 0) {
		OPENSSL_cleanse(o.pin, sizeof(o.pin));
		ck_module_close(&mod);
		return EXIT_FAILED;
	}
	rc = bench(&mod, &o);
	OPENSSL_cleanse(o.pin, sizeof(o.pin));
	ck_module_close(&mod);
	return rc;
}
