/*
 * The module's road to the server under load and under failure, end to
 * end (libpkcs11wsop.so -> the real confined helper -> a real wsopd):
 *  - a hundred application threads encrypting at once share a bounded pool
 *    of server connections (wsopd's default --max-clients is 64) and every
 *    call succeeds;
 *  - small encrypts and decrypts of many threads share one connection,
 *    sent together, and every thread gets its own answers back;
 *  - the helper killed again and again while keys are generated and
 *    destroyed: every call succeeds (a request the dead helper had is sent
 *    again with the same idempotency key), and the server ends up with
 *    exactly one key per successful C_GenerateKey and none after the
 *    C_DestroyObject calls.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/backend.h"
#include "tests/p11/p11_fixture.h"

#define PIN "transport pass phrase"
/* Retries are counted per request: a call fails under helper kills only
 * when it met more kills than this, which the test keeps out of reach. */
#define MAX_RETRIES 20

static struct {
	struct p11_fx p11;
	char card[41];
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE key;
	bool ready;
} fx;

/* Later directives win: the fixture's file with more retries, and the
 * log at TRACE, where the batches show. */
static int tune_config(void)
{
	FILE *f = fopen(fx.p11.config, "a");
	if (f == NULL)
		return -1;
	fprintf(f, "MAXRETRIES %d\nRETRYDELAY 0\nTIMEOUT 30\nLOGLEVEL 6\n", MAX_RETRIES);
	return fclose(f);
}

static int group_setup(void **state)
{
	(void)state;
	int up = p11_fx_setup(&fx.p11);
	if (up != 0)
		return up == 1 ? 0 : -1;
	if (tune_config() != 0)
		return p11_setup_failed("config", CKR_GENERAL_ERROR);
	e2e_softcard_ok(fx.p11.conn, "transport", PIN, fx.card);
	if (p11_fx_login_session(&fx.p11, "transport", PIN, &fx.slot, &fx.s) != 0)
		return -1;
	CK_RV rv = p11_generate_aes(fx.p11.f, fx.s, "shared", &fx.key);
	if (rv != CKR_OK)
		return p11_setup_failed("C_GenerateKey", rv);
	fx.ready = true;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (fx.ready)
		fx.p11.f->C_Finalize(NULL);
	p11_fx_teardown(&fx.p11);
	return 0;
}

#define NEED_HELPER() P11_SKIP_UNLESS(fx.ready)

/* Lines of the log at path holding text. */
static unsigned log_count(const char *path, const char *text)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[4096];
	unsigned n = 0;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, text) != NULL;
	fclose(f);
	return n;
}

static unsigned server_log_count(const char *text)
{
	return log_count(fx.p11.srv.log_path, text);
}

static bool log_has(const char *path, const char *text)
{
	return log_count(path, text) > 0;
}

enum { ENC_THREADS = 100, ENC_ROUNDS = 10 };

struct enc_worker {
	pthread_t th;
	int failures;
	CK_RV last;
};

/* Counts rv against w unless it is CKR_OK. */
static void note(struct enc_worker *w, CK_RV rv)
{
	if (rv != CKR_OK) {
		w->failures++;
		w->last = rv;
	}
}

/* A session of the worker's own; false (counted as a failure) without. */
static bool worker_session(struct enc_worker *w, CK_SESSION_HANDLE *s)
{
	CK_RV rv = fx.p11.f->C_OpenSession(fx.slot, CKF_SERIAL_SESSION, NULL, NULL, s);
	note(w, rv);
	return rv == CKR_OK;
}

static void *encrypt_worker(void *arg)
{
	struct enc_worker *w = arg;
	CK_SESSION_HANDLE s;
	CK_RV rv;
	if (!worker_session(w, &s))
		return NULL;
	static const CK_BYTE iv[16] = { 0 };
	CK_MECHANISM m = { CKM_AES_CBC_PAD, (void *)iv, sizeof(iv) };
	CK_BYTE in[40] = "one hundred threads, one bounded pool";
	for (int i = 0; i < ENC_ROUNDS; i++) {
		CK_BYTE out[64];
		CK_ULONG out_len = sizeof(out);
		rv = fx.p11.f->C_EncryptInit(s, &m, fx.key);
		if (rv == CKR_OK)
			rv = fx.p11.f->C_Encrypt(s, in, sizeof(in), out, &out_len);
		if (rv == CKR_OK && out_len != 48)
			rv = CKR_GENERAL_ERROR;
		note(w, rv);
	}
	fx.p11.f->C_CloseSession(s);
	return NULL;
}

/* n threads running fn on w[i]: the failures of them all, each thread's
 * told on stderr. */
static int run_workers(struct enc_worker *w, int n, void *(*fn)(void *))
{
	memset(w, 0, (size_t)n * sizeof(*w));
	for (int i = 0; i < n; i++)
		assert_int_equal(pthread_create(&w[i].th, NULL, fn, &w[i]), 0);
	int failures = 0;
	for (int i = 0; i < n; i++) {
		pthread_join(w[i].th, NULL);
		if (w[i].failures)
			fprintf(stderr, "thread %d: %d failures, last 0x%lx\n", i, w[i].failures,
			        (unsigned long)w[i].last);
		failures += w[i].failures;
	}
	return failures;
}

static void hundred_threads_share_a_bounded_pool(void **state)
{
	(void)state;
	NEED_HELPER();
	unsigned before = server_log_count("TLS connection from");
	static struct enc_worker w[ENC_THREADS];
	int failures = run_workers(w, ENC_THREADS, encrypt_worker);
	unsigned opened = server_log_count("TLS connection from") - before;
	fprintf(stderr, "%d calls, %d failures, %u connections opened\n",
	        ENC_THREADS * ENC_ROUNDS * 2, failures, opened);
	assert_int_equal(failures, 0);
	assert_int_equal(server_log_count("503 busy"), 0);
	/* Connections are only closed on failure, so every connection the
	 * module ever opened here was open at the end: at most the cap. */
	assert_true(opened <= BACKEND_MAX_CONNS);
}

enum { OWN_THREADS = 16, OWN_ROUNDS = 50 };

/* Each round encrypts a plaintext of this thread's own (its length
 * varying with the round) and decrypts the result: an answer handed to
 * the wrong thread, or out of order, decrypts to another plaintext. */
static void *round_trip_worker(void *arg)
{
	struct enc_worker *w = arg;
	CK_SESSION_HANDLE s;
	CK_RV rv;
	if (!worker_session(w, &s))
		return NULL;
	static const CK_BYTE iv[16] = { 7 };
	CK_MECHANISM m = { CKM_AES_CBC_PAD, (void *)iv, sizeof(iv) };
	for (int i = 0; i < OWN_ROUNDS; i++) {
		CK_BYTE in[64], out[80], back[80];
		int len = snprintf((char *)in, sizeof(in), "worker %p round %d%.*s", (void *)w, i,
		                   i % 17, ".................");
		CK_ULONG out_len = sizeof(out), back_len = sizeof(back);
		rv = fx.p11.f->C_EncryptInit(s, &m, fx.key);
		if (rv == CKR_OK)
			rv = fx.p11.f->C_Encrypt(s, in, (CK_ULONG)len, out, &out_len);
		if (rv == CKR_OK)
			rv = fx.p11.f->C_DecryptInit(s, &m, fx.key);
		if (rv == CKR_OK)
			rv = fx.p11.f->C_Decrypt(s, out, out_len, back, &back_len);
		if (rv == CKR_OK &&
		    (back_len != (CK_ULONG)len || memcmp(back, in, (size_t)len) != 0))
			rv = CKR_GENERAL_ERROR;
		note(w, rv);
	}
	fx.p11.f->C_CloseSession(s);
	return NULL;
}

/* Small encrypts and decrypts of many threads travel together on one
 * connection (lib/req_batch.h), and each thread gets its own answers. */
static void threads_get_their_own_answers_over_one_connection(void **state)
{
	(void)state;
	NEED_HELPER();
	char log[E2E_PATH_MAX + 16];
	snprintf(log, sizeof(log), "%s/p11.log", e2e_env.dir);
	unsigned before = server_log_count("TLS connection from");
	unsigned batches = log_count(log, "a batch of");
	static struct enc_worker w[OWN_THREADS];
	int failures = run_workers(w, OWN_THREADS, round_trip_worker);
	unsigned opened = server_log_count("TLS connection from") - before;
	fprintf(stderr, "%d round trips, %d failures, %u connections opened\n",
	        OWN_THREADS * OWN_ROUNDS, failures, opened);
	assert_int_equal(failures, 0);
	/* The batch connection, unless an earlier test opened it already. */
	assert_true(opened <= 1);
	assert_true(log_count(log, "a batch of") > batches);
}

struct killer {
	pthread_t th;
	atomic_bool stop;
	atomic_uint kills;
	/* A kill met a request in flight, which was sent again: the log says
	 * so (looked for after each kill until it does). */
	atomic_bool retried;
	char log[E2E_PATH_MAX + 16];
	char retry_text[64];
};

/* SIGKILLs each helper once it has run for 200 ms, whatever it is doing:
 * every attempt of a request gets a fair chance on a loaded machine, and a
 * call would have to meet MAX_RETRIES kills in a row to fail. */
static void *killer_main(void *arg)
{
	struct killer *k = arg;
	pid_t seen = 0;
	long long since = 0, looked = 0;
	while (!atomic_load(&k->stop)) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		pid_t pid = p11_helper_child();
		if (pid != seen) {
			seen = pid;
			since = e2e_now_ms();
		}
		if (pid > 0 && e2e_now_ms() - since >= 200 && kill(pid, SIGKILL) == 0) {
			atomic_fetch_add(&k->kills, 1);
			seen = 0;
		}
		/* The log is long at TRACE: read it every 200 ms at most. */
		if (!atomic_load(&k->retried) && e2e_now_ms() - looked >= 200) {
			looked = e2e_now_ms();
			if (log_has(k->log, k->retry_text))
				atomic_store(&k->retried, true);
		}
	}
	return NULL;
}

/* Keys are generated until the helper was killed KILL_MIN times and one of
 * the kills met a request in flight (at most KILL_KEYS per thread: about 20
 * kills); destroying as many meets about as many kills. */
enum { KILL_THREADS = 4, KILL_KEYS = 400, KILL_MIN = 8 };

struct key_worker {
	pthread_t th;
	int index;
	bool destroy;
	const atomic_uint *kills;
	const atomic_bool *retried;
	int n; /* keys generated */
	CK_OBJECT_HANDLE h[KILL_KEYS];
	CK_RV rv[KILL_KEYS];
};

static void label_of(int worker, int i, char out[32])
{
	snprintf(out, 32, "killed-%d-%d", worker, i);
}

static void *key_worker_main(void *arg)
{
	struct key_worker *w = arg;
	CK_SESSION_HANDLE s;
	CK_RV rv =
	    fx.p11.f->C_OpenSession(fx.slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s);
	int n = w->destroy ? w->n : KILL_KEYS;
	for (int i = 0; i < n; i++) {
		if (!w->destroy && atomic_load(w->kills) >= KILL_MIN && atomic_load(w->retried)) {
			n = i;
			break;
		}
		if (rv != CKR_OK) {
			w->rv[i] = rv;
			continue;
		}
		if (w->destroy) {
			w->rv[i] = fx.p11.f->C_DestroyObject(s, w->h[i]);
			/* Spread over about as long as the generation took
			 * to meet KILL_MIN kills, so that kills meet these too. */
			long pause_ms = (KILL_MIN + 1) * 250L / n;
			struct timespec ts = { pause_ms / 1000, (pause_ms % 1000) * 1000000L };
			nanosleep(&ts, NULL);
		} else {
			char label[32];
			label_of(w->index, i, label);
			w->rv[i] = p11_generate_aes(fx.p11.f, s, label, &w->h[i]);
			/* Paced, so that KILL_KEYS outlasts KILL_MIN kills (one
			 * every 200 ms of a helper's life) on a fast machine too. */
			struct timespec ts = { 0, 10 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
	}
	w->n = n;
	if (rv == CKR_OK)
		fx.p11.f->C_CloseSession(s);
	return NULL;
}

/* Runs every worker (generating or destroying) while the killer kills. */
static unsigned run_under_kills(struct key_worker *w, bool destroy)
{
	struct killer k;
	atomic_init(&k.stop, false);
	atomic_init(&k.kills, 0);
	atomic_init(&k.retried, false);
	snprintf(k.log, sizeof(k.log), "%s/p11.log", e2e_env.dir);
	snprintf(k.retry_text, sizeof(k.retry_text), "failed: helper died (attempt 1 of %d)",
	         MAX_RETRIES + 1);
	assert_int_equal(pthread_create(&k.th, NULL, killer_main, &k), 0);
	for (int t = 0; t < KILL_THREADS; t++) {
		w[t].index = t;
		w[t].destroy = destroy;
		w[t].kills = &k.kills;
		w[t].retried = &k.retried;
		assert_int_equal(pthread_create(&w[t].th, NULL, key_worker_main, &w[t]), 0);
	}
	for (int t = 0; t < KILL_THREADS; t++)
		pthread_join(w[t].th, NULL);
	atomic_store(&k.stop, true);
	pthread_join(k.th, NULL);
	return atomic_load(&k.kills);
}

/* The labels of every key on the server (through the module, whose search
 * lists the server's keys), as one string of "label\n" lines. */
static char *server_labels(void)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_ATTRIBUTE t[] = { { CKA_CLASS, &cls, sizeof(cls) } };
	size_t cap = 64 * 1024, len = 0;
	char *all = calloc(1, cap);
	assert_non_null(all);
	assert_int_equal(fx.p11.f->C_FindObjectsInit(fx.s, t, 1), CKR_OK);
	for (;;) {
		CK_OBJECT_HANDLE h[64];
		CK_ULONG n = 0;
		assert_int_equal(fx.p11.f->C_FindObjects(fx.s, h, 64, &n), CKR_OK);
		if (n == 0)
			break;
		for (CK_ULONG i = 0; i < n; i++) {
			char label[64];
			CK_ATTRIBUTE a = { CKA_LABEL, label, sizeof(label) - 1 };
			assert_int_equal(fx.p11.f->C_GetAttributeValue(fx.s, h[i], &a, 1), CKR_OK);
			label[a.ulValueLen] = '\0';
			if (len + a.ulValueLen + 2 > cap) {
				cap *= 2;
				all = realloc(all, cap);
				assert_non_null(all);
			}
			len += (size_t)sprintf(all + len, "%s\n", label);
		}
	}
	assert_int_equal(fx.p11.f->C_FindObjectsFinal(fx.s), CKR_OK);
	return all;
}

static unsigned count_label(const char *all, const char *label)
{
	char line[40];
	snprintf(line, sizeof(line), "%s\n", label);
	unsigned n = 0;
	for (const char *p = all; (p = strstr(p, line)) != NULL; p += strlen(line))
		n += p == all || p[-1] == '\n';
	return n;
}

static void killed_helper_never_fails_a_call_that_took_effect(void **state)
{
	(void)state;
	NEED_HELPER();
	static struct key_worker w[KILL_THREADS];
	memset(w, 0, sizeof(w));
	unsigned kills = run_under_kills(w, false);
	char *labels = server_labels();
	int failed = 0;
	for (int t = 0; t < KILL_THREADS; t++)
		for (int i = 0; i < w[t].n; i++) {
			char label[32];
			label_of(t, i, label);
			unsigned n = count_label(labels, label);
			if (w[t].rv[i] != CKR_OK || n != 1) {
				fprintf(stderr, "%s: C_GenerateKey 0x%lx, %u on the server\n",
				        label, (unsigned long)w[t].rv[i], n);
				failed++;
			}
		}
	int made = 0;
	for (int t = 0; t < KILL_THREADS; t++)
		made += w[t].n;
	fprintf(stderr, "generate: %d keys, %u helper kills, %d wrong\n", made, kills, failed);
	assert_true(kills >= KILL_MIN);
	assert_int_equal(failed, 0);
	/* Requests were with a helper when it was killed, and sent again. */
	char log[E2E_PATH_MAX + 16];
	snprintf(log, sizeof(log), "%s/p11.log", e2e_env.dir);
	char text[64];
	snprintf(text, sizeof(text), "failed: helper died (attempt 1 of %d)", MAX_RETRIES + 1);
	assert_true(log_has(log, text));

	free(labels);
	kills = run_under_kills(w, true);
	labels = server_labels();
	for (int t = 0; t < KILL_THREADS; t++)
		for (int i = 0; i < w[t].n; i++) {
			char label[32];
			label_of(t, i, label);
			unsigned n = count_label(labels, label);
			if (w[t].rv[i] != CKR_OK || n != 0) {
				fprintf(stderr, "%s: C_DestroyObject 0x%lx, %u on the server\n",
				        label, (unsigned long)w[t].rv[i], n);
				failed++;
			}
		}
	free(labels);
	fprintf(stderr, "destroy: %u helper kills, %d wrong\n", kills, failed);
	assert_true(kills >= KILL_MIN / 2);
	assert_int_equal(failed, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hundred_threads_share_a_bounded_pool),
		cmocka_unit_test(threads_get_their_own_answers_over_one_connection),
		cmocka_unit_test(killed_helper_never_fails_a_call_that_took_effect),
	};
	return p11_main("p11_transport", tests, group_setup, group_teardown);
}
