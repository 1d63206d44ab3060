/*
 * ckinfo: prints what a PKCS #11 module says about itself, each of its
 * slots and the token in each slot. Works with any module (--library).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "ck_common.h"

static const char prog[] = "ckinfo";

static void usage(FILE *out)
{
	fprintf(out,
	        "Usage: %s [--library PATH]\n"
	        "Prints the library, slot and token information of a PKCS #11 module.\n"
	        "  -l, --library PATH  module to load (default %s)\n"
	        "  -h, --help          this text\n",
	        prog, ck_default_library());
}

static int print_library(struct ck_module *mod)
{
	CK_INFO info;
	CK_RV rv = mod->fn->C_GetInfo(&info);

	if (rv != CKR_OK)
		return ck_fail(prog, "C_GetInfo", rv);
	printf("Library\n");
	ck_print_version("cryptoki version", info.cryptokiVersion);
	ck_print_padded("manufacturer", info.manufacturerID, sizeof(info.manufacturerID));
	ck_print_padded("description", info.libraryDescription, sizeof(info.libraryDescription));
	ck_print_version("library version", info.libraryVersion);
	/* v2.40 defines no library flags; any bit set is shown as a number. */
	ck_print_flags("flags", info.flags, (const struct ck_name[]){ { 0, NULL } });
	return 0;
}

static void print_time(const CK_UTF8CHAR *utc, size_t len)
{
	/* Only a token with a clock fills this in: "YYYYMMDDhhmmss00". */
	ck_print_padded("utc time", utc, len);
}

static int print_token(struct ck_module *mod, CK_SLOT_ID slot)
{
	CK_TOKEN_INFO info;
	CK_RV rv = mod->fn->C_GetTokenInfo(slot, &info);

	if (rv != CKR_OK)
		return ck_fail(prog, "C_GetTokenInfo", rv);
	printf("Token in slot %lu\n", (unsigned long)slot);
	ck_print_padded("label", info.label, sizeof(info.label));
	ck_print_padded("manufacturer", info.manufacturerID, sizeof(info.manufacturerID));
	ck_print_padded("model", info.model, sizeof(info.model));
	ck_print_padded("serial number", info.serialNumber, sizeof(info.serialNumber));
	ck_print_flags("flags", info.flags, ck_token_flags);
	ck_print_count("max sessions", info.ulMaxSessionCount, 1);
	ck_print_count("sessions", info.ulSessionCount, 0);
	ck_print_count("max rw sessions", info.ulMaxRwSessionCount, 1);
	ck_print_count("rw sessions", info.ulRwSessionCount, 0);
	ck_print_count("max pin length", info.ulMaxPinLen, 0);
	ck_print_count("min pin length", info.ulMinPinLen, 0);
	ck_print_count("total public memory", info.ulTotalPublicMemory, 0);
	ck_print_count("free public memory", info.ulFreePublicMemory, 0);
	ck_print_count("total private memory", info.ulTotalPrivateMemory, 0);
	ck_print_count("free private memory", info.ulFreePrivateMemory, 0);
	ck_print_version("hardware version", info.hardwareVersion);
	ck_print_version("firmware version", info.firmwareVersion);
	if (info.flags & CKF_CLOCK_ON_TOKEN)
		print_time(info.utcTime, sizeof(info.utcTime));
	return 0;
}

static int print_slot(struct ck_module *mod, CK_SLOT_ID slot)
{
	CK_SLOT_INFO info;
	CK_RV rv = mod->fn->C_GetSlotInfo(slot, &info);

	if (rv != CKR_OK)
		return ck_fail(prog, "C_GetSlotInfo", rv);
	printf("Slot %lu\n", (unsigned long)slot);
	ck_print_padded("description", info.slotDescription, sizeof(info.slotDescription));
	ck_print_padded("manufacturer", info.manufacturerID, sizeof(info.manufacturerID));
	ck_print_flags("flags", info.flags, ck_slot_flags);
	ck_print_version("hardware version", info.hardwareVersion);
	ck_print_version("firmware version", info.firmwareVersion);
	if (!(info.flags & CKF_TOKEN_PRESENT))
		return 0;
	return print_token(mod, slot);
}

static int run(struct ck_module *mod, void *arg)
{
	CK_SLOT_ID *slots;
	CK_ULONG count;
	int status = 0;

	(void)arg;
	if (print_library(mod) != 0)
		return -1;
	if (ck_slot_list(mod, CK_FALSE, &slots, &count) != 0)
		return -1;
	printf("Slots: %lu\n", (unsigned long)count);
	for (CK_ULONG i = 0; i < count; i++) {
		/* One bad slot does not hide the others, but fails the run. */
		if (print_slot(mod, slots[i]) != 0)
			status = -1;
	}
	free(slots);
	return status;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "library", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *library = ck_default_library();
	int opt;

	while ((opt = getopt_long(argc, argv, "l:h", options, NULL)) != -1) {
		int status = ck_common_option(opt, optarg, &library, usage);
		if (status >= 0)
			return status;
	}
	return ck_run_module(prog, argc, argv, optind, library, usage, run, NULL);
}
