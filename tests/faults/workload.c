/* The crash loop's work and its bookkeeping; see workload.h. */
#include "tests/faults/workload.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ckr_names.h"

#define SHIFT_MIN_OPS 10
#define SHIFT_SPAN    40
#define ROUND_MAX     100 /* round-trip plaintexts: 0..99 bytes */
#define WRONG_PRINTED 5   /* per worker, on stderr */

/* ---- bookkeeping --------------------------------------------------------- */

const char *fn_name(enum fn fn)
{
	static const char *const names[FN_COUNT] = {
		"C_EncryptInit", "C_Encrypt",       "C_DecryptInit", "C_Decrypt",
		"C_GenerateKey", "C_DestroyObject", "C_OpenSession",
	};
	return (unsigned)fn < FN_COUNT ? names[fn] : "?";
}

const char *op_name(enum op op)
{
	static const char *const names[OP_COUNT] = { "encrypt", "decrypt", "round trip", "generate",
		                                     "destroy" };
	return (unsigned)op < OP_COUNT ? names[op] : "?";
}

void tally_add(struct tally *t, CK_RV rv)
{
	for (unsigned i = 0; i < t->used; i++)
		if (t->rv[i] == rv) {
			t->n[i]++;
			return;
		}
	if (t->used == TALLY_MAX) {
		t->other++;
		return;
	}
	t->rv[t->used] = rv;
	t->n[t->used++] = 1;
}

uint64_t work_rnd(uint64_t *state)
{
	/* xorshift64*: reproducible from the seed. */
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 2685821657736338717ULL;
}

/* One state per slot: a slot's choices depend on the seed alone. */
static uint64_t rnd(struct worker *k)
{
	return work_rnd(&k->rng);
}

__attribute__((format(printf, 2, 3))) static void wrong(struct worker *k, const char *fmt, ...)
{
	char why[sizeof(k->why_wrong)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (k->wrong++ < WRONG_PRINTED)
		fprintf(stderr, "faults: worker %u: wrong result: %s\n", k->id, why);
	if (k->why_wrong[0] == '\0')
		memcpy(k->why_wrong, why, sizeof(why));
}

static CK_RV open_session(struct worker *k)
{
	CK_RV rv = k->w->f->C_OpenSession(k->w->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL,
	                                  NULL, &k->session);
	tally_add(&k->tally[FN_OPEN_SESSION], rv);
	if (rv != CKR_OK)
		k->session = CK_INVALID_HANDLE;
	return rv;
}

/* A new session in place of one the module no longer serves as it
 * should (the old one is closed; the main session keeps the login). */
static void replace_session(struct worker *k)
{
	if (k->session != CK_INVALID_HANDLE)
		(void)k->w->f->C_CloseSession(k->session);
	(void)open_session(k);
}

/* Tallies one call's answer and checks it against what the module said
 * before. key: the key the call used (NULL: the reference key). */
static CK_RV answer(struct worker *k, enum fn fn, CK_RV rv, struct key_rec *key)
{
	tally_add(&k->tally[fn], rv);
	if (rv == CKR_USER_NOT_LOGGED_IN)
		k->not_logged_in++;
	if (rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED) {
		wrong(k, "%s: %s for a session it opened and never closed", fn_name(fn),
		      ckr_name(rv));
		replace_session(k);
	} else if (rv == CKR_OPERATION_ACTIVE) {
		wrong(k, "%s: CKR_OPERATION_ACTIVE: the last call should have ended it",
		      fn_name(fn));
		replace_session(k);
	} else if (rv == CKR_KEY_HANDLE_INVALID || rv == CKR_OBJECT_HANDLE_INVALID) {
		wrong(k, "%s: %s for key %s", fn_name(fn), ckr_name(rv),
		      key != NULL ? key->label : REF_LABEL);
		if (key != NULL && !key->handle_lost) {
			key->handle_lost = true;
			if (key->fate == KEY_MADE || key->fate == KEY_KEPT)
				k->live--;
		}
	}
	return rv;
}

/* ---- keys ------------------------------------------------------------------ */

static struct key_rec *add_key(struct worker *k)
{
	if (k->nkeys == k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 256;
		struct key_rec *keys = realloc(k->keys, cap * sizeof(*keys));
		if (keys == NULL)
			return NULL;
		k->keys = keys;
		k->cap = cap;
	}
	struct key_rec *r = &k->keys[k->nkeys++];
	memset(r, 0, sizeof(*r));
	return r;
}

/* One of the slot's keys that should exist, or NULL. */
static struct key_rec *some_key(struct worker *k)
{
	if (k->nkeys == 0)
		return NULL;
	size_t start = (size_t)(rnd(k) % k->nkeys);
	for (size_t i = 0; i < k->nkeys; i++) {
		struct key_rec *r = &k->keys[(start + i) % k->nkeys];
		if ((r->fate == KEY_MADE || r->fate == KEY_KEPT) && !r->handle_lost)
			return r;
	}
	return NULL;
}

/* ---- operations -------------------------------------------------------------- */

/* Encrypt (or decrypt) len bytes in one C_Encrypt (C_Decrypt) call. */
static CK_RV crypt1(struct worker *k, bool enc, CK_MECHANISM_TYPE type, const uint8_t *iv,
                    struct key_rec *key, const uint8_t *in, size_t len, uint8_t *out,
                    CK_ULONG *out_len)
{
	CK_FUNCTION_LIST *f = k->w->f;
	CK_MECHANISM m = { type, (void *)iv, 16 };
	CK_OBJECT_HANDLE h = key != NULL ? key->h : k->w->ref_key;
	CK_RV rv = enc ? f->C_EncryptInit(k->session, &m, h) : f->C_DecryptInit(k->session, &m, h);
	if (answer(k, enc ? FN_ENCRYPT_INIT : FN_DECRYPT_INIT, rv, key) != CKR_OK)
		return rv;
	rv = enc ? f->C_Encrypt(k->session, (CK_BYTE_PTR)in, len, out, out_len)
	         : f->C_Decrypt(k->session, (CK_BYTE_PTR)in, len, out, out_len);
	return answer(k, enc ? FN_ENCRYPT : FN_DECRYPT, rv, key);
}

/* The reference text under the reference key (whole, or its second half
 * chained on the first half's last block), or under one of the slot's
 * keys, whose first answer is remembered and must never change. */
static bool op_encrypt(struct worker *k)
{
	const struct work *w = k->w;
	bool chained = rnd(k) & 1;
	struct key_rec *key = rnd(k) % 10 < 3 ? some_key(k) : NULL;
	const uint8_t *iv = chained ? w->ref_ct + 16 : w->iv;
	size_t from = chained ? 32 : 0, len = WORK_TEXT_LEN - from;
	uint8_t out[WORK_TEXT_LEN];
	CK_ULONG n = sizeof(out);

	if (key != NULL) {
		iv = w->iv;
		from = 0;
		len = sizeof(key->probe);
	}
	if (crypt1(k, true, CKM_AES_CBC, iv, key, w->text + from, len, out, &n) != CKR_OK)
		return false;
	const uint8_t *want = key != NULL ? key->probe : w->ref_ct + from;
	if (key != NULL && !key->has_probe) {
		if (n == len)
			memcpy(key->probe, out, len);
		key->has_probe = n == len;
	} else if (n != len || memcmp(out, want, len) != 0) {
		wrong(k, "C_Encrypt with %s gave another ciphertext than before",
		      key != NULL ? key->label : REF_LABEL);
	}
	return true;
}

static bool op_decrypt(struct worker *k)
{
	const struct work *w = k->w;
	bool chained = rnd(k) & 1;
	size_t from = chained ? 32 : 0, len = WORK_TEXT_LEN - from;
	uint8_t out[WORK_TEXT_LEN];
	CK_ULONG n = sizeof(out);
	if (crypt1(k, false, CKM_AES_CBC, chained ? w->ref_ct + 16 : w->iv, NULL, w->ref_ct + from,
	           len, out, &n) != CKR_OK)
		return false;
	if (n != len || memcmp(out, w->text + from, len) != 0)
		wrong(k, "C_Decrypt of the reference ciphertext did not give the text back");
	return true;
}

static bool op_round_trip(struct worker *k)
{
	struct key_rec *key = rnd(k) & 1 ? some_key(k) : NULL;
	uint8_t iv[16], plain[ROUND_MAX], ct[ROUND_MAX + 16], back[ROUND_MAX + 16];
	size_t len = (size_t)(rnd(k) % ROUND_MAX);
	for (size_t i = 0; i < sizeof(iv); i++)
		iv[i] = (uint8_t)rnd(k);
	for (size_t i = 0; i < len; i++)
		plain[i] = (uint8_t)rnd(k);
	CK_ULONG n = sizeof(ct), m = sizeof(back);
	if (crypt1(k, true, CKM_AES_CBC_PAD, iv, key, plain, len, ct, &n) != CKR_OK)
		return false;
	if (n != (len / 16 + 1) * 16) {
		wrong(k, "CKM_AES_CBC_PAD made %lu bytes of %zu", (unsigned long)n, len);
		return true;
	}
	if (crypt1(k, false, CKM_AES_CBC_PAD, iv, key, ct, n, back, &m) != CKR_OK)
		return false;
	if (m != len || memcmp(back, plain, len) != 0)
		wrong(k, "CKM_AES_CBC_PAD round trip with %s changed the data",
		      key != NULL ? key->label : REF_LABEL);
	return true;
}

static CK_RV generate(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, const char *label,
                      CK_OBJECT_HANDLE *h)
{
	CK_MECHANISM gen = { CKM_AES_KEY_GEN, NULL, 0 };
	CK_ULONG len = 32;
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE t[] = {
		{ CKA_VALUE_LEN, &len, sizeof(len) },        { CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &yes, sizeof(yes) },          { CKA_SENSITIVE, &yes, sizeof(yes) },
		{ CKA_ENCRYPT, &yes, sizeof(yes) },          { CKA_DECRYPT, &yes, sizeof(yes) },
		{ CKA_LABEL, (void *)label, strlen(label) },
	};
	return f->C_GenerateKey(s, &gen, t, sizeof(t) / sizeof(t[0]), h);
}

static bool op_generate(struct worker *k)
{
	struct key_rec *r = add_key(k);
	if (r == NULL)
		return false;
	snprintf(r->label, sizeof(r->label), LABEL_PREFIX "w%u-%u", k->id, k->seq++);
	CK_RV rv = answer(k, FN_GENERATE_KEY, generate(k->w->f, k->session, r->label, &r->h), r);
	r->gen_rv = rv;
	r->fate = rv == CKR_OK ? KEY_MADE : KEY_NOT_MADE;
	k->live += rv == CKR_OK;
	return rv == CKR_OK;
}

static bool op_destroy(struct worker *k)
{
	struct key_rec *r = some_key(k);
	if (r == NULL)
		return op_generate(k);
	CK_RV rv = answer(k, FN_DESTROY_OBJECT, k->w->f->C_DestroyObject(k->session, r->h), r);
	r->destroy_rv = rv;
	r->destroys++;
	if (rv == CKR_OK) {
		r->fate = KEY_DESTROYED;
		k->live -= !r->handle_lost;
	} else if (!r->handle_lost)
		r->fate = KEY_KEPT;
	return rv == CKR_OK;
}

static void one_op(struct worker *k)
{
	static bool (*const run[OP_COUNT])(struct worker *) = {
		op_encrypt, op_decrypt, op_round_trip, op_generate, op_destroy,
	};
	/* Out of 100: encrypt 25, decrypt 15, round trip 15, generate 30,
	 * destroy 15. */
	static const unsigned upto[OP_COUNT] = { 25, 40, 55, 85, 100 };
	unsigned r = (unsigned)(rnd(k) % 100);
	enum op op = OP_ENCRYPT;
	while (r >= upto[op])
		op++;
	if (op == OP_DESTROY && some_key(k) == NULL)
		op = OP_GENERATE;
	else if (op == OP_GENERATE && k->live >= LIVE_MAX)
		op = OP_DESTROY;
	k->ops[op]++;
	if (run[op](k))
		k->ops_ok[op]++;
}

/* ---- threads -------------------------------------------------------------- */

static void *shift_main(void *arg)
{
	struct worker *k = arg;
	unsigned ops = SHIFT_MIN_OPS + (unsigned)(rnd(k) % SHIFT_SPAN);
	for (unsigned i = 0; i < ops && !atomic_load(&k->w->stop); i++) {
		if (k->session == CK_INVALID_HANDLE && open_session(k) != CKR_OK)
			continue;
		one_op(k);
	}
	return NULL;
}

static void *slot_main(void *arg)
{
	struct worker *k = arg;
	while (!atomic_load(&k->w->stop)) {
		pthread_t t;
		if (pthread_create(&t, NULL, shift_main, k) != 0) {
			shift_main(k);
			continue;
		}
		pthread_join(t, NULL);
		k->shifts++;
	}
	atomic_fetch_sub(&k->w->running, 1);
	return NULL;
}

CK_RV work_prepare(struct work *w, CK_FUNCTION_LIST *f, CK_SLOT_ID slot, CK_SESSION_HANDLE session,
                   uint64_t seed)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->slot = slot;
	for (unsigned i = 0; i < WORKERS; i++) {
		struct worker *k = &w->workers[i];
		k->w = w;
		k->id = i;
		k->session = CK_INVALID_HANDLE;
		k->rng = ((seed + 1) * 0x9e3779b97f4a7c15ULL ^ (i + 1) * 0xbf58476d1ce4e5b9ULL) | 1;
	}
	for (size_t i = 0; i < sizeof(w->iv); i++)
		w->iv[i] = (uint8_t)(0xa0 + i);
	for (size_t i = 0; i < sizeof(w->text); i++)
		w->text[i] = (uint8_t)(i * 7 + 1);
	CK_RV rv = generate(f, session, REF_LABEL, &w->ref_key);
	if (rv != CKR_OK)
		return rv;
	CK_MECHANISM m = { CKM_AES_CBC, w->iv, sizeof(w->iv) };
	CK_ULONG n = sizeof(w->ref_ct);
	rv = f->C_EncryptInit(session, &m, w->ref_key);
	if (rv == CKR_OK)
		rv = f->C_Encrypt(session, w->text, sizeof(w->text), w->ref_ct, &n);
	return rv == CKR_OK && n != sizeof(w->ref_ct) ? CKR_GENERAL_ERROR : rv;
}

CK_RV work_start(struct work *w)
{
	atomic_store(&w->stop, false);
	for (unsigned i = 0; i < WORKERS; i++) {
		CK_RV rv = open_session(&w->workers[i]);
		if (rv != CKR_OK)
			return rv;
	}
	for (; w->started < WORKERS; w->started++) {
		atomic_fetch_add(&w->running, 1);
		if (pthread_create(&w->workers[w->started].slot_thread, NULL, slot_main,
		                   &w->workers[w->started]) != 0) {
			atomic_fetch_sub(&w->running, 1);
			return CKR_HOST_MEMORY;
		}
	}
	return CKR_OK;
}

void work_stop(struct work *w)
{
	atomic_store(&w->stop, true);
}

void work_join(struct work *w)
{
	work_stop(w);
	for (; w->started > 0; w->started--)
		pthread_join(w->workers[w->started - 1].slot_thread, NULL);
}

void work_free(struct work *w)
{
	for (unsigned i = 0; i < WORKERS; i++) {
		free(w->workers[i].keys);
		w->workers[i].keys = NULL;
	}
}

void work_report(const struct work *w)
{
	struct tally all[FN_COUNT];
	unsigned long ops[OP_COUNT] = { 0 }, ok[OP_COUNT] = { 0 }, shifts = 0;
	memset(all, 0, sizeof(all));
	for (unsigned i = 0; i < WORKERS; i++) {
		const struct worker *k = &w->workers[i];
		shifts += k->shifts;
		for (int o = 0; o < OP_COUNT; o++) {
			ops[o] += k->ops[o];
			ok[o] += k->ops_ok[o];
		}
		for (int fn = 0; fn < FN_COUNT; fn++) {
			for (unsigned j = 0; j < k->tally[fn].used; j++)
				for (unsigned long c = 0; c < k->tally[fn].n[j]; c++)
					tally_add(&all[fn], k->tally[fn].rv[j]);
			all[fn].other += k->tally[fn].other;
		}
	}
	printf("operations (ok/all), %lu worker threads over %d slots:\n", shifts, WORKERS);
	for (int o = 0; o < OP_COUNT; o++)
		printf("  %-10s %lu/%lu\n", op_name((enum op)o), ok[o], ops[o]);
	printf("CK_RV per function:\n");
	for (int fn = 0; fn < FN_COUNT; fn++) {
		if (all[fn].used == 0)
			continue;
		printf("  %-16s", fn_name((enum fn)fn));
		for (unsigned j = 0; j < all[fn].used; j++)
			printf(" %s=%lu", ckr_name(all[fn].rv[j]), all[fn].n[j]);
		if (all[fn].other)
			printf(" (others)=%lu", all[fn].other);
		printf("\n");
	}
}

CK_RV work_initialize(CK_FUNCTION_LIST *f)
{
	CK_C_INITIALIZE_ARGS args = { .flags = CKF_OS_LOCKING_OK };
	return f->C_Initialize(&args);
}

CK_RV work_login(CK_FUNCTION_LIST *f, CK_SLOT_ID slot, const char *pin, CK_SESSION_HANDLE *s)
{
	CK_RV rv = f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, s);
	if (rv == CKR_OK)
		rv = f->C_Login(*s, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin));
	return rv;
}
