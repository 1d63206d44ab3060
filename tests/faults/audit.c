/* Listing the token's keys and checking them against the ledger; see
 * audit.h. */
#include "tests/faults/audit.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/ckr_names.h"

#define FIND_BATCH       64
#define LABEL_MAX        256
#define PRINTED_PER_KIND 5

static CK_RV label_of(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, char **out)
{
	char buf[LABEL_MAX + 1];
	CK_ATTRIBUTE a = { CKA_LABEL, buf, LABEL_MAX };
	CK_RV rv = f->C_GetAttributeValue(s, h, &a, 1);
	if (rv != CKR_OK)
		return rv;
	if (a.ulValueLen > LABEL_MAX)
		return CKR_GENERAL_ERROR;
	buf[a.ulValueLen] = '\0';
	*out = strdup(buf);
	return *out != NULL ? CKR_OK : CKR_HOST_MEMORY;
}

static CK_RV find_all(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE **hs, size_t *n)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_ATTRIBUTE t = { CKA_CLASS, &cls, sizeof(cls) };
	size_t cap = 0;
	*hs = NULL;
	*n = 0;
	CK_RV rv = f->C_FindObjectsInit(s, &t, 1);
	while (rv == CKR_OK) {
		if (*n + FIND_BATCH > cap) {
			cap = 2 * cap + FIND_BATCH;
			CK_OBJECT_HANDLE *more = realloc(*hs, cap * sizeof(*more));
			if (more == NULL) {
				rv = CKR_HOST_MEMORY;
				break;
			}
			*hs = more;
		}
		CK_ULONG got = 0;
		rv = f->C_FindObjects(s, *hs + *n, FIND_BATCH, &got);
		if (rv != CKR_OK || got == 0)
			break;
		*n += got;
	}
	CK_RV end = f->C_FindObjectsFinal(s);
	if (rv == CKR_OK)
		rv = end;
	if (rv != CKR_OK) {
		free(*hs);
		*hs = NULL;
		*n = 0;
	}
	return rv;
}

void audit_labels_free(char **labels, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(labels[i]);
	free(labels);
}

CK_RV audit_list(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, char ***labels, size_t *n)
{
	CK_OBJECT_HANDLE *hs;
	size_t count;
	*labels = NULL;
	*n = 0;
	CK_RV rv = find_all(f, s, &hs, &count);
	if (rv != CKR_OK) {
		fprintf(stderr, "faults: audit: listing the keys: %s\n", ckr_name(rv));
		return rv;
	}
	char **out = calloc(count + 1, sizeof(*out));
	if (out == NULL) {
		free(hs);
		return CKR_HOST_MEMORY;
	}
	for (size_t i = 0; i < count && rv == CKR_OK; i++)
		rv = label_of(f, s, hs[i], &out[i]);
	free(hs);
	if (rv != CKR_OK) {
		fprintf(stderr, "faults: audit: reading a key's label: %s\n", ckr_name(rv));
		audit_labels_free(out, count);
		return rv;
	}
	*labels = out;
	*n = count;
	return CKR_OK;
}

static int by_text(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* How many times label is in the sorted labels. */
static size_t count_of(char **sorted, size_t n, const char *label)
{
	char **at = bsearch(&label, sorted, n, sizeof(*sorted), by_text);
	if (at == NULL)
		return 0;
	while (at > sorted && strcmp(at[-1], label) == 0)
		at--;
	size_t c = 0;
	while (at + c < sorted + n && strcmp(at[c], label) == 0)
		c++;
	return c;
}

static bool asked_for(const struct work *w, const char *label)
{
	if (strcmp(label, REF_LABEL) == 0)
		return true;
	for (unsigned i = 0; i < WORKERS; i++)
		for (size_t j = 0; j < w->workers[i].nkeys; j++)
			if (strcmp(w->workers[i].keys[j].label, label) == 0)
				return true;
	return false;
}

static void violation(unsigned long *counter, const char *what, const struct key_rec *r)
{
	if ((*counter)++ >= PRINTED_PER_KIND)
		return;
	fprintf(stderr, "faults: audit: %s: %s (C_GenerateKey %s", what, r->label,
	        ckr_name(r->gen_rv));
	if (r->destroys > 0)
		fprintf(stderr, ", %u C_DestroyObject, the last %s", r->destroys,
		        ckr_name(r->destroy_rv));
	fprintf(stderr, ")\n");
}

void audit_compare(const struct work *w, char **labels, size_t n, struct audit *out)
{
	memset(out, 0, sizeof(*out));
	qsort(labels, n, sizeof(*labels), by_text);
	for (size_t i = 0; i < n; i++) {
		if (strncmp(labels[i], LABEL_PREFIX, strlen(LABEL_PREFIX)) != 0)
			continue;
		out->listed++;
		if (i > 0 && strcmp(labels[i - 1], labels[i]) == 0 && out->duplicates++ == 0)
			fprintf(stderr, "faults: audit: label %s is on more than one key\n",
			        labels[i]);
		if (!asked_for(w, labels[i]) && out->strangers++ == 0)
			fprintf(stderr, "faults: audit: key %s: no call asked for it\n", labels[i]);
	}
	out->reference_present = count_of(labels, n, REF_LABEL) > 0;
	for (unsigned i = 0; i < WORKERS; i++) {
		const struct worker *k = &w->workers[i];
		for (size_t j = 0; j < k->nkeys; j++) {
			const struct key_rec *r = &k->keys[j];
			bool present = count_of(labels, n, r->label) > 0;
			if (r->fate == KEY_MADE && !present)
				violation(&out->made_missing, "generated (CKR_OK) but missing", r);
			else if (r->fate == KEY_NOT_MADE && present)
				violation(&out->not_made_present,
				          "present though C_GenerateKey failed", r);
			else if (r->fate == KEY_KEPT && !present)
				violation(&out->kept_absent, "absent though C_DestroyObject failed",
				          r);
			else if (r->fate == KEY_DESTROYED && present)
				violation(&out->destroyed_present,
				          "present though C_DestroyObject returned CKR_OK", r);
		}
	}
}

void audit_run_of(const struct work *w, struct audit_run *out)
{
	out->wrong = out->not_logged_in = out->failed = 0;
	for (unsigned i = 0; i < WORKERS; i++) {
		const struct worker *k = &w->workers[i];
		out->wrong += k->wrong;
		out->not_logged_in += k->not_logged_in;
		for (int fn = 0; fn < FN_COUNT; fn++) {
			for (unsigned j = 0; j < k->tally[fn].used; j++)
				if (k->tally[fn].rv[j] != CKR_OK)
					out->failed += k->tally[fn].n[j];
			out->failed += k->tally[fn].other;
		}
	}
}

void audit_print(const struct audit *a, const struct audit_run *r, CK_RV fin)
{
	printf("audit: %lu keys of ours listed (reference key %s), C_Finalize after the faults "
	       "%s\n",
	       a->listed, a->reference_present ? "present" : "MISSING", ckr_name(fin));
	printf("  wrong results                                %lu\n", r->wrong);
	if (r->count_failed)
		printf("  calls that failed (a server always up)       %lu\n", r->failed);
	printf("  generated (CKR_OK) but missing               %lu\n"
	       "  present though C_GenerateKey failed          %lu\n"
	       "  absent though C_DestroyObject failed         %lu\n"
	       "  present though C_DestroyObject said CKR_OK   %lu\n"
	       "  labels on more than one key                  %lu\n"
	       "  keys of ours no call asked for               %lu\n"
	       "  CKR_USER_NOT_LOGGED_IN while logged in       %lu\n"
	       "  helpers that died without being killed       %lu\n"
	       "  passphrase in a log                          %s\n",
	       a->made_missing, a->not_made_present, a->kept_absent, a->destroyed_present,
	       a->duplicates, a->strangers, r->not_logged_in, r->unexplained,
	       r->pin_logged ? "YES" : "no");
	fflush(stdout);
}

void audit_assert_clean(const struct audit *a, const struct audit_run *r)
{
	assert_true(a->reference_present);
	assert_int_equal(r->wrong, 0);
	if (r->count_failed)
		assert_int_equal(r->failed, 0);
	assert_int_equal(a->made_missing, 0);
	assert_int_equal(a->not_made_present, 0);
	assert_int_equal(a->kept_absent, 0);
	assert_int_equal(a->destroyed_present, 0);
	assert_int_equal(a->duplicates, 0);
	assert_int_equal(a->strangers, 0);
	assert_int_equal(r->not_logged_in, 0);
	assert_int_equal(r->unexplained, 0);
	assert_false(r->pin_logged);
}

void audit_after_restart(CK_FUNCTION_LIST *f, audit_slot_fn *slot_of, const char *card,
                         const char *pin, const struct work *w, struct audit *a, CK_RV *fin)
{
	CK_SESSION_HANDLE s;
	char **labels;
	size_t n;
	*fin = f->C_Finalize(NULL);
	assert_int_equal(work_initialize(f), CKR_OK);
	assert_int_equal(work_login(f, slot_of(f, card), pin, &s), CKR_OK);
	assert_int_equal(audit_list(f, s, &labels, &n), CKR_OK);
	audit_compare(w, labels, n, a);
	audit_labels_free(labels, n);
	assert_int_equal(f->C_Finalize(NULL), CKR_OK);
}
