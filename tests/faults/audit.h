/*
 * The crash loop's final audit: the labels of the secret keys the token
 * holds, listed through the module once the faults stopped, against the
 * fate each key's calls promised (workload.h).
 *
 * Contract:
 *  - audit_list() lists every secret key of the session's token (C_FindObjects
 *    over CKO_SECRET_KEY, then CKA_LABEL of each) into a malloc'd array of
 *    malloc'd labels; CKR_OK or the CK_RV of the call that failed (then
 *    nothing is returned). audit_labels_free() frees it.
 *  - audit_compare() counts, over every key of every worker, the keys whose
 *    presence contradicts their fate, plus labels found twice and labels
 *    of ours that no call asked for; it prints the first violations with
 *    the answers that made them.
 */
#ifndef PKCS11WSOP_TESTS_FAULTS_AUDIT_H
#define PKCS11WSOP_TESTS_FAULTS_AUDIT_H

#include "tests/faults/workload.h"

struct audit {
	unsigned long listed;            /* our labels found, reference key included */
	unsigned long made_missing;      /* C_GenerateKey CKR_OK, absent */
	unsigned long not_made_present;  /* C_GenerateKey failed, present */
	unsigned long kept_absent;       /* C_DestroyObject failed, absent */
	unsigned long destroyed_present; /* C_DestroyObject CKR_OK, present */
	unsigned long duplicates;        /* a label found more than once */
	unsigned long strangers;         /* our prefix, asked for by no call */
	bool reference_present;
};

CK_RV audit_list(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, char ***labels, size_t *n);
void audit_labels_free(char **labels, size_t n);
void audit_compare(const struct work *w, char **labels, size_t n, struct audit *out);

/* The audit through a fresh start of the module, whatever state the
 * faults left it in: C_Finalize (its answer in *fin), C_Initialize, a
 * login to the token labelled card, the listing and audit_compare, and
 * C_Finalize again (cmocka assertions on each step). */
typedef CK_SLOT_ID audit_slot_fn(CK_FUNCTION_LIST *f, const char *card);
void audit_after_restart(CK_FUNCTION_LIST *f, audit_slot_fn *slot_of, const char *card,
                         const char *pin, const struct work *w, struct audit *a, CK_RV *fin);

/* What the run saw beside the listing: wrong results and
 * CKR_USER_NOT_LOGGED_IN summed over the workers, calls that failed (any
 * CK_RV but CKR_OK, counted only when count_failed: where faults leave
 * no server to answer, a failure is allowed), helpers dead unkilled, a
 * passphrase in a log. */
struct audit_run {
	unsigned long wrong, not_logged_in, failed, unexplained;
	bool count_failed, pin_logged;
};
void audit_run_of(const struct work *w, struct audit_run *out);
/* Prints the verdict's table; fin is the C_Finalize after the faults. */
void audit_print(const struct audit *a, const struct audit_run *r, CK_RV fin);
/* cmocka assertions that every count of the verdict is 0 (the including
 * test file has cmocka). */
void audit_assert_clean(const struct audit *a, const struct audit_run *r);

#endif
