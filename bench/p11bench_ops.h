/*
 * p11bench's workloads: what one operation is, and each thread's state.
 * p11bench.c parses the options and sets the module up; the functions
 * here run inside bench_run()'s threads.
 *
 * Contract:
 *  - p11bench_thread_init() opens the thread's own session, except for the
 *    cycle workloads (init-finalize, login-cycle), which run with the
 *    module finalized and in one thread only. For decrypt and
 *    decrypt-multipart it makes the ciphertext once, with single-part
 *    C_Encrypt. p11bench_thread_done() closes the session and frees the
 *    state; for generate it first destroys every key the thread made and
 *    counts the failures in shared->cleanup_errors.
 *  - p11bench_op() runs one operation of the workload: 0, or -1 with the
 *    function and CKR name (or what was wrong) in err.
 *  - decrypt-multipart checks that the plaintext comes back byte for byte.
 */
#ifndef PKCS11WSOP_BENCH_P11BENCH_OPS_H
#define PKCS11WSOP_BENCH_P11BENCH_OPS_H

#include <stdatomic.h>
#include <stdbool.h>

#include <p11-kit/pkcs11.h>

#include "bench/bench_run.h"
#include "bench/cpu_usage.h"
#include "tools/ck_pin.h"

enum workload {
	WL_ENCRYPT,
	WL_DECRYPT,
	WL_MULTIPART,
	WL_DECRYPT_MULTIPART,
	WL_KEYGEN,
	WL_GENERATE,
	WL_FIND,
	WL_GETATTR,
	WL_INIT_FINALIZE,
	WL_LOGIN_CYCLE,
	WL_COUNT
};

enum mechanism { MECH_CBC_PAD, MECH_ECB };

#define P11BENCH_LABEL_MAX 128

struct options {
	const char *library;
	const char *token;
	const char *label;
	char pin[CK_PIN_MAX + 1];
	bool pin_given;
	enum workload workload;
	enum mechanism mechanism;
	unsigned long size, part;
	struct bench_plan plan;
	bool json;
	pid_t cpu_pids[CPU_ROOTS_MAX];
	unsigned n_cpu_pids;
};

/* What every thread shares: read-only once the threads start, but for
 * the counter. */
struct shared {
	CK_FUNCTION_LIST *fn;
	CK_SLOT_ID slot;
	CK_OBJECT_HANDLE key;
	const struct options *opt;
	atomic_ulong *cleanup_errors;
};

/* The workload's name on the command line and in the output. */
const char *p11bench_workload_name(enum workload w);
/* True for the workloads that Initialize and Finalize the module. */
bool p11bench_is_cycle(enum workload w);
/* True for the workloads that encrypt or decrypt (size and mechanism). */
bool p11bench_is_data(enum workload w);

int p11bench_thread_init(void *shared, unsigned index, void **ctx, char *err, size_t cap);
int p11bench_op(void *ctx, char *err, size_t cap);
void p11bench_thread_done(void *ctx);

/* C_GenerateKey of a private AES-256 token key (encrypt, decrypt). */
CK_RV p11bench_generate_key(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, const char *label,
                            CK_OBJECT_HANDLE *k);

/* The AES key objects labelled label: *found of them (up to 16), the
 * first in *first. */
int p11bench_find_keys(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, const char *label,
                       CK_OBJECT_HANDLE *first, CK_ULONG *found, char *err, size_t cap);

#endif
