/*
 * ckmechinfo: lists, for each slot holding a token, every mechanism of the
 * token with its key size range and flags. Works with any module.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "ck_common.h"

static const char prog[] = "ckmechinfo";

/* A guard against a module answering absurd counts, checked before
 * allocating; v2.40 defines fewer than 400 mechanisms. */
#define MAX_MECHANISMS 65536

static void usage(FILE *out)
{
	fprintf(out,
	        "Usage: %s [--library PATH] [--slot ID]\n"
	        "Lists the mechanisms of each token of a PKCS #11 module.\n"
	        "  -l, --library PATH  module to load (default %s)\n"
	        "  -s, --slot ID       only this slot\n"
	        "  -h, --help          this text\n",
	        prog, ck_default_library());
}

static int mechanism_list(struct ck_module *mod, CK_SLOT_ID slot, CK_MECHANISM_TYPE **out,
                          CK_ULONG *count)
{
	CK_MECHANISM_TYPE *list;
	CK_ULONG n = 0;
	CK_RV rv;

	*out = NULL;
	*count = 0;
	for (;;) {
		rv = mod->fn->C_GetMechanismList(slot, NULL, &n);
		if (rv != CKR_OK)
			return ck_fail(prog, "C_GetMechanismList", rv);
		if (n == 0)
			return 0;
		if (n > MAX_MECHANISMS) {
			fprintf(stderr, "%s: C_GetMechanismList: %lu mechanisms, more than %d\n",
			        prog, (unsigned long)n, MAX_MECHANISMS);
			return -1;
		}
		list = calloc(n, sizeof(*list));
		if (list == NULL) {
			fprintf(stderr, "%s: out of memory\n", prog);
			return -1;
		}
		rv = mod->fn->C_GetMechanismList(slot, list, &n);
		if (rv == CKR_OK)
			break;
		free(list);
		if (rv != CKR_BUFFER_TOO_SMALL)
			return ck_fail(prog, "C_GetMechanismList", rv);
	}
	*out = list;
	*count = n;
	return 0;
}

static int print_mechanism(struct ck_module *mod, CK_SLOT_ID slot, CK_MECHANISM_TYPE mech)
{
	CK_MECHANISM_INFO info;
	const char *name = ck_mech_name(mech);
	CK_RV rv;

	if (name != NULL)
		printf("%s (0x%lx)\n", name, (unsigned long)mech);
	else if (mech >= CKM_VENDOR_DEFINED)
		printf("CKM_VENDOR_DEFINED+0x%lx\n", (unsigned long)(mech - CKM_VENDOR_DEFINED));
	else
		printf("0x%lx\n", (unsigned long)mech);
	rv = mod->fn->C_GetMechanismInfo(slot, mech, &info);
	if (rv != CKR_OK)
		return ck_fail(prog, "C_GetMechanismInfo", rv);
	/* The unit (bits or bytes) depends on the mechanism, as the standard
	 * says; the numbers are printed as the module gives them. */
	printf("  key size: %lu..%lu\n", (unsigned long)info.ulMinKeySize,
	       (unsigned long)info.ulMaxKeySize);
	ck_print_flags("flags", info.flags, ck_mech_flags);
	return 0;
}

static int print_slot(struct ck_module *mod, CK_SLOT_ID slot)
{
	CK_MECHANISM_TYPE *mechs;
	CK_ULONG count;
	int status = 0;

	if (mechanism_list(mod, slot, &mechs, &count) != 0)
		return -1;
	printf("Slot %lu: %lu mechanisms\n", (unsigned long)slot, (unsigned long)count);
	for (CK_ULONG i = 0; i < count; i++) {
		if (print_mechanism(mod, slot, mechs[i]) != 0)
			status = -1;
	}
	free(mechs);
	return status;
}

static int print_token(struct ck_module *mod, CK_SLOT_ID slot, void *arg)
{
	(void)arg;
	return print_slot(mod, slot);
}

struct slot_choice {
	int one_slot;
	CK_SLOT_ID slot;
};

static int run(struct ck_module *mod, void *arg)
{
	const struct slot_choice *c = arg;
	return ck_each_token(mod, c->one_slot, c->slot, print_token, NULL);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "library", required_argument, NULL, 'l' },
		{ "slot", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *library = ck_default_library();
	CK_SLOT_ID slot = 0;
	int opt, one_slot = 0;

	while ((opt = getopt_long(argc, argv, "l:s:h", options, NULL)) != -1) {
		if (opt == 's') {
			if (ck_slot_option(prog, optarg, &slot, &one_slot) != 0)
				return 2;
			continue;
		}
		int status = ck_common_option(opt, optarg, &library, usage);
		if (status >= 0)
			return status;
	}
	struct slot_choice choice = { one_slot, slot };
	return ck_run_module(prog, argc, argv, optind, library, usage, run, &choice);
}
