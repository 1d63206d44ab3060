/*
 * p11bench: measures a PKCS #11 module under load. It loads the module,
 * logs in to one token, finds (or generates) an AES-256 key by label, and
 * runs one workload in T threads, each in a session of its own, for a time
 * or a number of operations; it prints ops/s, latency percentiles and the
 * error count. Performance is measured here, never asserted by tests.
 *
 * The data is synthetic and the IV is the same for every operation on
 * purpose: every operation then does exactly the same work. The workloads
 * themselves are in p11bench_ops.c. Around the timed part it reads the CPU
 * time of itself, its children (the module's helper) and the processes
 * named with --cpu-pid (cpu_usage.h).
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
#include "bench/cpu_usage.h"
#include "bench/p11bench_ops.h"
#include "tools/ck_common.h"
#include "tools/ck_pin.h"

#ifndef P11BENCH_DEFAULT_LIBRARY
#define P11BENCH_DEFAULT_LIBRARY "libpkcs11wsop.so"
#endif

#define PROG         "p11bench"
#define SIZE_MAX_ARG (16UL * 1024 * 1024)
#define EXIT_FAILED  1
#define EXIT_USAGE   2

static const char *const mechanism_names[] = {
	[MECH_CBC_PAD] = "cbc-pad",
	[MECH_ECB] = "ecb",
};

/* What the timed_start/timed_end hooks share with bench(). */
struct p11bench_run {
	struct shared sh;
	struct cpu_usage usage;
	struct cpu_report report;
	int cpu_rc;
};

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
	        " decrypt-multipart |\n"
	        "                    keygen | generate | find | getattr | init-finalize |"
	        " login-cycle\n"
	        "                    (default encrypt; keygen = generate + destroy; generate"
	        " keeps\n"
	        "                    the keys until every thread is done; the last two: one"
	        " thread)\n"
	        "  --mechanism M     cbc-pad (AES-CBC-PAD, default) or ecb (AES-ECB, size a"
	        " multiple of 16)\n"
	        "  --size BYTES      data per encrypt/decrypt operation (default 64)\n"
	        "  --part BYTES      bytes per C_EncryptUpdate/C_DecryptUpdate in the"
	        " multipart\n"
	        "                    workloads (default 4096)\n"
	        "  --cpu-pid PID     count this process and its descendants in the CPU time"
	        " too\n"
	        "                    (up to %d times)\n"
	        "  --threads T       threads, one session each (default 1, at most %d)\n"
	        "  --seconds S       run this long (default 5)\n"
	        "  --ops N           run N operations in all instead of a time\n"
	        "  --warmup N        untimed operations per thread first (default 3)\n"
	        "  --json            one JSON line instead of the table\n"
	        "  --help            this text\n"
	        "Exit status: 0 when every operation succeeded, 1 on errors, 2 on usage.\n",
	        P11BENCH_DEFAULT_LIBRARY, CPU_ROOTS_MAX, BENCH_THREADS_MAX);
	return status;
}

static int parse_workload(const char *s, enum workload *out)
{
	for (int i = 0; i < WL_COUNT; i++) {
		if (strcmp(s, p11bench_workload_name((enum workload)i)) == 0) {
			*out = (enum workload)i;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_mechanism(const char *s, enum mechanism *out)
{
	for (size_t i = 0; i < sizeof(mechanism_names) / sizeof(mechanism_names[0]); i++) {
		if (strcmp(s, mechanism_names[i]) == 0) {
			*out = (enum mechanism)i;
			return 0;
		}
	}
	return -EINVAL;
}

static int add_cpu_pid(struct options *o, const char *arg)
{
	unsigned long v;

	if (bench_parse_ulong(arg, 1, INT32_MAX, &v) != 0)
		return bench_usage_error(PROG, "not a process id", arg);
	if (o->n_cpu_pids == CPU_ROOTS_MAX)
		return bench_usage_error(PROG, "too many --cpu-pid", arg);
	o->cpu_pids[o->n_cpu_pids++] = (pid_t)v;
	return 0;
}

/* The combinations that parse one by one but cannot run. */
static int check_options(const struct options *o)
{
	if (p11bench_is_cycle(o->workload) && o->plan.threads != 1)
		return bench_usage_error(PROG, "this workload runs in one thread",
		                         p11bench_workload_name(o->workload));
	if (o->mechanism == MECH_ECB && p11bench_is_data(o->workload) && o->size % 16 != 0)
		return bench_usage_error(PROG, "ecb needs a size that is a multiple of 16",
		                         "--size");
	return 0;
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
		{ "mechanism", required_argument, NULL, 'm' },
		{ "cpu-pid", required_argument, NULL, 'c' },
		{ "size", required_argument, NULL, 's' },
		{ "part", required_argument, NULL, 'P' },
		BENCH_PLAN_LONGOPTS,
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
			if ((r = bench_secret_option(PROG, "PIN too long", optarg, o->pin,
			                             CK_PIN_MAX, &o->pin_given)) != 0)
				return r;
			break;
		case 'L':
			if ((r = bench_label_option(PROG, "label must have 1-128 bytes", optarg,
			                            P11BENCH_LABEL_MAX, &o->label)) != 0)
				return r;
			break;
		case 'w':
			if (parse_workload(optarg, &o->workload) != 0)
				return bench_usage_error(PROG, "unknown workload", optarg);
			break;
		case 'm':
			if (parse_mechanism(optarg, &o->mechanism) != 0)
				return bench_usage_error(PROG, "unknown mechanism", optarg);
			break;
		case 'c':
			if ((r = add_cpu_pid(o, optarg)) != 0)
				return r;
			break;
		case 's':
			if (bench_parse_ulong(optarg, 1, SIZE_MAX_ARG, &o->size) != 0)
				return bench_usage_error(PROG, "size must be 1-16777216", optarg);
			break;
		case 'P':
			if (bench_parse_ulong(optarg, 1, SIZE_MAX_ARG, &o->part) != 0)
				return bench_usage_error(PROG, "part must be 1-16777216", optarg);
			break;
		default:
			if ((r = bench_other_option(PROG, c, optarg, &o->plan, &o->json, usage)) !=
			    1)
				return r;
		}
	}
	if (optind != argc)
		return bench_usage_error(PROG, "unexpected argument", argv[optind]);
	return check_options(o);
}

static void timed_start(void *shared)
{
	struct p11bench_run *run = shared;

	run->cpu_rc = cpu_usage_start(&run->usage, run->sh.opt->cpu_pids, run->sh.opt->n_cpu_pids);
}

static void timed_end(void *shared)
{
	struct p11bench_run *run = shared;

	if (run->cpu_rc == 0)
		run->cpu_rc = cpu_usage_end(&run->usage, &run->report);
}

static int thread_init(void *shared, unsigned index, void **ctx, char *err, size_t cap)
{
	return p11bench_thread_init(&((struct p11bench_run *)shared)->sh, index, ctx, err, cap);
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

	if (p11bench_find_keys(f, s, label, key, &found, err, sizeof(err)) != 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return -1;
	}
	if (found > 0)
		return 0;
	CK_RV rv = p11bench_generate_key(f, s, label, key);
	if (rv != CKR_OK)
		return ck_fail(PROG, "C_GenerateKey", rv);
	return 0;
}

static int read_pin(struct options *o)
{
	if (o->pin_given)
		return 0;
	int len = ck_pin_from_stream(stdin, o->pin, sizeof(o->pin));
	if (len < 0) {
		fprintf(stderr, PROG ": cannot read the PIN from stdin: %s\n", strerror(-len));
		return -1;
	}
	return 0;
}

/* The PIN is wiped once used, unless login-cycle needs it again. */
static int login(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, struct options *o)
{
	if (read_pin(o) != 0)
		return -1;
	CK_RV rv = f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)o->pin, (CK_ULONG)strlen(o->pin));
	OPENSSL_cleanse(o->pin, sizeof(o->pin));
	/* Someone else's session may have logged the token in already. */
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN)
		return ck_fail(PROG, "C_Login", rv);
	return 0;
}

/* The data and object workloads: a session logged in for the whole run
 * (the login lasts while a session does) and the key. */
static int set_up_token(struct ck_module *mod, struct options *o, struct shared *sh,
                        CK_SESSION_HANDLE *main_session)
{
	CK_RV rv = mod->fn->C_OpenSession(sh->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
	                                  main_session);
	if (rv != CKR_OK)
		return ck_fail(PROG, "C_OpenSession", rv);
	if (login(mod->fn, *main_session, o) != 0 ||
	    find_or_make_key(mod->fn, *main_session, o->label, &sh->key) != 0) {
		mod->fn->C_CloseSession(*main_session);
		return -1;
	}
	return 0;
}

/* The cycle workloads start with the module finalized; login-cycle keeps
 * the PIN for every cycle. */
static int set_up_cycle(struct ck_module *mod, struct options *o)
{
	if (o->workload == WL_LOGIN_CYCLE && read_pin(o) != 0)
		return -1;
	CK_RV rv = mod->fn->C_Finalize(NULL);
	mod->initialized = 0;
	if (rv != CKR_OK)
		return ck_fail(PROG, "C_Finalize", rv);
	return 0;
}

static void report(const struct options *o, const struct p11bench_run *run,
                   const struct bench_result *res)
{
	const struct bench_labels labels = {
		.tool = PROG,
		.workload = p11bench_workload_name(o->workload),
		.size = p11bench_is_data(o->workload) ? o->size : 0,
		.threads = o->plan.threads,
		.mechanism = p11bench_is_data(o->workload) ? mechanism_names[o->mechanism] : NULL,
		.cpu = run->cpu_rc == 0 ? &run->report : NULL,
	};

	if (run->cpu_rc != 0)
		fprintf(stderr, PROG ": CPU time not measured: %s\n", strerror(-run->cpu_rc));
	if (o->json)
		bench_print_json(stdout, &labels, res);
	else
		bench_print_table(stdout, &labels, res);
}

static int bench(struct ck_module *mod, struct options *o)
{
	atomic_ulong cleanup_errors = 0;
	struct p11bench_run run = {
		.sh = { .fn = mod->fn, .opt = o, .cleanup_errors = &cleanup_errors }
	};
	CK_SESSION_HANDLE main_session = CK_INVALID_HANDLE;
	struct bench_result res;

	if (pick_slot(mod, o->token, &run.sh.slot) != 0)
		return EXIT_FAILED;
	if (p11bench_is_cycle(o->workload) ? set_up_cycle(mod, o) != 0
	                                   : set_up_token(mod, o, &run.sh, &main_session) != 0)
		return EXIT_FAILED;

	const struct bench_workload wl = {
		.shared = &run,
		.thread_init = thread_init,
		.op = p11bench_op,
		.thread_done = p11bench_thread_done,
		.timed_start = timed_start,
		.timed_end = timed_end,
	};
	int rc = bench_run(&wl, &o->plan, &res);
	if (main_session != CK_INVALID_HANDLE)
		mod->fn->C_CloseSession(main_session);
	if (rc != 0) {
		fprintf(stderr, PROG ": %s%s%s\n", strerror(-rc), res.first_error[0] ? ": " : "",
		        res.first_error);
		bench_result_free(&res);
		return EXIT_FAILED;
	}
	report(o, &run, &res);
	rc = res.errors == 0 ? 0 : EXIT_FAILED;
	if (atomic_load(&cleanup_errors) > 0) {
		fprintf(stderr, PROG ": %lu key(s) could not be destroyed after the run\n",
		        (unsigned long)atomic_load(&cleanup_errors));
		rc = EXIT_FAILED;
	}
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
