/*
 * The crash loop's work: WORKERS slots, each with a read-write session of
 * its own on the logged-in token, each running "shifts" (a thread that
 * makes 10 to 49 operations and ends, replaced by a fresh one), so that
 * the module sees threads come and go as in a thread pool. An operation
 * is one of:
 *  - encrypt, with the reference key, of the reference plaintext (all of
 *    it, or its second half chained on the first half's last ciphertext
 *    block as IV): the ciphertext must be the reference ciphertext made
 *    before any fault;
 *  - decrypt of the reference ciphertext: must give the plaintext back;
 *  - round trip: CKM_AES_CBC_PAD encrypt then decrypt of 0 to 99 random
 *    bytes with one of the slot's keys (or the reference key);
 *  - generate an AES-256 key labelled "fk-w<slot>-<n>", unique;
 *  - destroy one of the keys the slot generated (instead of generating,
 *    when the slot holds LIVE_MAX keys: the module lists a token's keys
 *    in one answer of at most 1 MiB, about 2000 keys).
 * Every PKCS #11 call's CK_RV is tallied per function. Every key the slot
 * asked for is recorded with what the module answered, as the fate the
 * audit expects (a failed call must have had no effect):
 *    generate OK -> KEY_MADE (present); generate failed -> KEY_NOT_MADE
 *    (absent); destroy OK -> KEY_DESTROYED (absent); destroy failed ->
 *    KEY_KEPT (present, and its handle still works).
 * A result that contradicts the module's own earlier answers is a wrong
 * result: a ciphertext or plaintext that differs, a handle or session
 * the module handed out and never took back that it calls invalid, an
 * operation left active after a call that must have ended it.
 *
 * Contract: work_start() opens the sessions (the token must be logged in
 * already) and starts the slots; work_stop() asks them to stop after
 * their current operation, and work_join() waits for them (w->running
 * says how many are left, for a caller that watches meanwhile). Nothing
 * is freed before work_free().
 */
#ifndef PKCS11WSOP_TESTS_FAULTS_WORKLOAD_H
#define PKCS11WSOP_TESTS_FAULTS_WORKLOAD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <p11-kit/pkcs11.h>

#define WORKERS       8
#define LABEL_PREFIX  "fk-"
#define REF_LABEL     "fk-reference"
#define WORK_TEXT_LEN 64
#define LIVE_MAX      60 /* keys a slot keeps at most */

enum fn {
	FN_ENCRYPT_INIT,
	FN_ENCRYPT,
	FN_DECRYPT_INIT,
	FN_DECRYPT,
	FN_GENERATE_KEY,
	FN_DESTROY_OBJECT,
	FN_OPEN_SESSION,
	FN_COUNT
};
enum op { OP_ENCRYPT, OP_DECRYPT, OP_ROUND_TRIP, OP_GENERATE, OP_DESTROY, OP_COUNT };

/* CK_RV -> count, for one function. */
#define TALLY_MAX 32
struct tally {
	CK_RV rv[TALLY_MAX];
	unsigned long n[TALLY_MAX];
	unsigned used;
	unsigned long other; /* more distinct values than TALLY_MAX */
};

enum key_fate { KEY_MADE, KEY_NOT_MADE, KEY_DESTROYED, KEY_KEPT };

struct key_rec {
	char label[32];
	CK_OBJECT_HANDLE h;
	enum key_fate fate;
	CK_RV gen_rv, destroy_rv; /* the answers (destroy_rv: the last one) */
	unsigned destroys;        /* C_DestroyObject calls made for it */
	bool handle_lost;         /* the module called h invalid: never used again */
	bool has_probe;           /* probe holds its first ciphertext of the text */
	uint8_t probe[16];
};

struct work;

struct worker {
	struct work *w;
	unsigned id;
	CK_SESSION_HANDLE session;
	uint64_t rng;
	unsigned seq;
	struct key_rec *keys;
	size_t nkeys, cap;
	unsigned live; /* keys that should exist and whose handle works */
	struct tally tally[FN_COUNT];
	unsigned long ops[OP_COUNT], ops_ok[OP_COUNT];
	unsigned long wrong, not_logged_in, shifts;
	char why_wrong[160]; /* the first wrong result, in words */
	pthread_t slot_thread;
};

struct work {
	CK_FUNCTION_LIST *f;
	CK_SLOT_ID slot;
	CK_OBJECT_HANDLE ref_key;
	uint8_t iv[16], text[WORK_TEXT_LEN], ref_ct[WORK_TEXT_LEN];
	atomic_bool stop;
	atomic_uint running; /* slot threads not yet ended */
	unsigned started;    /* slot threads started */
	struct worker workers[WORKERS];
};

/* Makes the reference key and ciphertext (before any fault): CKR_OK or
 * the failing call's CK_RV. session must be logged in. */
CK_RV work_prepare(struct work *w, CK_FUNCTION_LIST *f, CK_SLOT_ID slot, CK_SESSION_HANDLE session,
                   uint64_t seed);
/* CKR_OK, or the CK_RV of a C_OpenSession that failed (then nothing runs). */
CK_RV work_start(struct work *w);
void work_stop(struct work *w);
void work_join(struct work *w);
void work_free(struct work *w);

/* C_Initialize with OS locking; a read-write session logged in with pin. */
CK_RV work_initialize(CK_FUNCTION_LIST *f);
CK_RV work_login(CK_FUNCTION_LIST *f, CK_SLOT_ID slot, const char *pin, CK_SESSION_HANDLE *s);

/* Prints the operations by kind and the CK_RV histogram per function. */
void work_report(const struct work *w);

void tally_add(struct tally *t, CK_RV rv);
/* The next pseudo-random number of *state (xorshift64*; never seed 0). */
uint64_t work_rnd(uint64_t *state);
const char *fn_name(enum fn fn);
const char *op_name(enum op op);

#endif
