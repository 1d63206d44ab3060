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

#endif
