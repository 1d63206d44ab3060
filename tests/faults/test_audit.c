/* audit_compare() on a made-up ledger: each fate against presence and
 * absence, duplicates, strangers, and labels that are not ours. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/faults/audit.h"

static struct work w;

static void key(unsigned slot, const char *label, enum key_fate fate)
{
	struct worker *k = &w.workers[slot];
	k->keys = realloc(k->keys, (k->nkeys + 1) * sizeof(*k->keys));
	assert_non_null(k->keys);
	struct key_rec *r = &k->keys[k->nkeys++];
	memset(r, 0, sizeof(*r));
	strcpy(r->label, label);
	r->fate = fate;
}

static struct audit compare(const char *const *found, size_t n)
{
	char **labels = calloc(n + 1, sizeof(*labels));
	assert_non_null(labels);
	for (size_t i = 0; i < n; i++)
		labels[i] = strdup(found[i]);
	struct audit a;
	audit_compare(&w, labels, n, &a);
	audit_labels_free(labels, n);
	return a;
}

static int reset(void **state)
{
	(void)state;
	work_free(&w);
	memset(&w, 0, sizeof(w));
	return 0;
}

static void every_promise_kept_counts_nothing(void **state)
{
	(void)state;
	key(0, "fk-w0-0", KEY_MADE);
	key(0, "fk-w0-1", KEY_NOT_MADE);
	key(1, "fk-w1-0", KEY_DESTROYED);
	key(1, "fk-w1-1", KEY_KEPT);
	const char *found[] = { "fk-w1-1", REF_LABEL, "not ours", "fk-w0-0" };
	struct audit a = compare(found, 4);
	assert_int_equal(a.listed, 3);
	assert_true(a.reference_present);
	assert_int_equal(a.made_missing + a.not_made_present + a.kept_absent + a.destroyed_present +
	                     a.duplicates + a.strangers,
	                 0);
}

static void every_broken_promise_counts_once(void **state)
{
	(void)state;
	key(0, "fk-w0-0", KEY_MADE);      /* missing */
	key(0, "fk-w0-1", KEY_NOT_MADE);  /* present */
	key(3, "fk-w3-0", KEY_DESTROYED); /* present */
	key(3, "fk-w3-1", KEY_KEPT);      /* missing */
	key(7, "fk-w7-9", KEY_MADE);      /* present twice */
	const char *found[] = { "fk-w7-9", "fk-w0-1", "fk-w3-0", "fk-w7-9", "fk-w9-9" };
	struct audit a = compare(found, 5);
	assert_false(a.reference_present);
	assert_int_equal(a.listed, 5);
	assert_int_equal(a.made_missing, 1);
	assert_int_equal(a.not_made_present, 1);
	assert_int_equal(a.destroyed_present, 1);
	assert_int_equal(a.kept_absent, 1);
	assert_int_equal(a.duplicates, 1);
	assert_int_equal(a.strangers, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(every_promise_kept_counts_nothing, reset, reset),
		cmocka_unit_test_setup_teardown(every_broken_promise_counts_once, reset, reset),
	};
	return cmocka_run_group_tests_name("faults_audit", tests, NULL, NULL);
}
