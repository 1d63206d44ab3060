/*
 * cklist: lists every object of each token of a PKCS #11 module with its
 * attributes. Logs in (PIN from the terminal, --pin or --pin-stdin) so that
 * private objects are listed too, unless --no-login. Works with any module.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ck_attrs.h"
#include "ck_common.h"
#include "ck_pin.h"
#include "ipc/grow.h"

static const char prog[] = "cklist";

/* Objects fetched per C_FindObjects call, and the most listed per token
 * (checked before growing the handle array). */
#define FIND_BATCH  64
#define MAX_OBJECTS (1UL << 20)

enum pin_source { PIN_ASK, PIN_GIVEN, PIN_NONE };

struct options {
	const char *library;
	int one_slot;
	CK_SLOT_ID slot;
	enum pin_source pin_source;
	char pin[CK_PIN_MAX + 1]; /* PIN_GIVEN: --pin or --pin-stdin */
	size_t pin_len;
};

static void usage(FILE *out)
{
	fprintf(out,
	        "Usage: %s [--library PATH] [--slot ID] [--pin PIN | --pin-stdin | --no-login]\n"
	        "Lists the objects of each token of a PKCS #11 module with their attributes.\n"
	        "Without --pin, --pin-stdin or --no-login it asks for the PIN of each token\n"
	        "that needs a login, without echo; with no terminal it lists public objects.\n"
	        "  -l, --library PATH  module to load (default %s)\n"
	        "  -s, --slot ID       only this slot\n"
	        "  -p, --pin PIN       user PIN (visible to other users: prefer the prompt)\n"
	        "  -P, --pin-stdin     read the user PIN from the first line of stdin\n"
	        "  -n, --no-login      list public objects only\n"
	        "  -h, --help          this text\n",
	        prog, ck_default_library());
}

/*
 * Logs the user in as the options say. Returns 1 when logged in, 0 when
 * listing public objects only, -1 on failure.
 */
static int login(struct ck_module *mod, CK_SLOT_ID slot, CK_SESSION_HANDLE session,
                 struct options *opt)
{
	CK_TOKEN_INFO info;
	char pin[CK_PIN_MAX + 1], prompt[128];
	CK_UTF8CHAR_PTR pin_ptr = NULL;
	CK_ULONG pin_len = 0;
	CK_RV rv;
	int n;

	if (opt->pin_source == PIN_NONE)
		return 0;
	rv = mod->fn->C_GetTokenInfo(slot, &info);
	if (rv != CKR_OK)
		return ck_fail(prog, "C_GetTokenInfo", rv);
	if (opt->pin_source == PIN_GIVEN) {
		pin_ptr = (CK_UTF8CHAR_PTR)opt->pin;
		pin_len = opt->pin_len;
	} else if (info.flags & CKF_PROTECTED_AUTHENTICATION_PATH) {
		/* The token asks on its own PIN pad: C_Login with no PIN. */
	} else if (!(info.flags & CKF_LOGIN_REQUIRED)) {
		return 0;
	} else {
		size_t label_len = sizeof(info.label);

		while (label_len > 0 && info.label[label_len - 1] == ' ')
			label_len--;
		snprintf(prompt, sizeof(prompt),
		         "PIN for token \"%.*s\" in slot %lu: ", (int)label_len,
		         (const char *)info.label, (unsigned long)slot);
		n = ck_pin_from_tty(prompt, pin, sizeof(pin));
		if (n == -ENXIO) {
			fprintf(stderr, "%s: no terminal to ask for the PIN: public objects only\n",
			        prog);
			return 0;
		}
		if (n < 0) {
			fprintf(stderr, "%s: reading the PIN: %s\n", prog, strerror(-n));
			return -1;
		}
		pin_ptr = (CK_UTF8CHAR_PTR)pin;
		pin_len = (CK_ULONG)n;
	}
	rv = mod->fn->C_Login(session, CKU_USER, pin_ptr, pin_len);
	OPENSSL_cleanse(pin, sizeof(pin));
	if (rv == CKR_USER_ALREADY_LOGGED_IN)
		return 1;
	if (rv != CKR_OK)
		return ck_fail(prog, "C_Login", rv);
	return 1;
}

/* All object handles the session can see, in the module's order. */
static int find_all(struct ck_module *mod, CK_SESSION_HANDLE session, CK_OBJECT_HANDLE **out,
                    CK_ULONG *count)
{
	CK_OBJECT_HANDLE *all = NULL, batch[FIND_BATCH];
	CK_ULONG n = 0, got;
	size_t cap = 0;
	CK_RV rv, final_rv;
	int status = 0;

	*out = NULL;
	*count = 0;
	rv = mod->fn->C_FindObjectsInit(session, NULL, 0);
	if (rv != CKR_OK)
		return ck_fail(prog, "C_FindObjectsInit", rv);
	for (;;) {
		rv = mod->fn->C_FindObjects(session, batch, FIND_BATCH, &got);
		if (rv != CKR_OK) {
			status = ck_fail(prog, "C_FindObjects", rv);
			break;
		}
		if (got == 0)
			break;
		if (got > FIND_BATCH || n + got > MAX_OBJECTS) {
			fprintf(stderr, "%s: C_FindObjects: too many objects\n", prog);
			status = -1;
			break;
		}
		if (grow_to((void **)&all, &cap, n + got, sizeof(*all), MAX_OBJECTS) != 0) {
			fprintf(stderr, "%s: out of memory\n", prog);
			status = -1;
			break;
		}
		memcpy(all + n, batch, got * sizeof(*all));
		n += got;
	}
	final_rv = mod->fn->C_FindObjectsFinal(session);
	if (final_rv != CKR_OK && status == 0)
		status = ck_fail(prog, "C_FindObjectsFinal", final_rv);
	if (status != 0) {
		free(all);
		return -1;
	}
	*out = all;
	*count = n;
	return 0;
}

static int list_slot(struct ck_module *mod, CK_SLOT_ID slot, struct options *opt)
{
	CK_SESSION_HANDLE session;
	CK_OBJECT_HANDLE *objects = NULL;
	CK_ULONG count = 0;
	CK_RV rv;
	CK_TOKEN_INFO info;
	int logged_in, status = 0;

	rv = mod->fn->C_GetTokenInfo(slot, &info);
	if (rv != CKR_OK)
		return ck_fail(prog, "C_GetTokenInfo", rv);
	/* A blank token has no objects and refuses sessions: not an error. */
	if (!(info.flags & CKF_TOKEN_INITIALIZED)) {
		printf("Slot %lu: token not initialized\n", (unsigned long)slot);
		return 0;
	}
	rv = mod->fn->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &session);
	if (rv != CKR_OK)
		return ck_fail(prog, "C_OpenSession", rv);
	logged_in = login(mod, slot, session, opt);
	if (logged_in >= 0 && find_all(mod, session, &objects, &count) == 0) {
		printf("Slot %lu: %lu objects%s\n", (unsigned long)slot, (unsigned long)count,
		       logged_in ? "" : " (public only, not logged in)");
		for (CK_ULONG i = 0; i < count; i++) {
			printf("Object %lu (handle %lu)\n", (unsigned long)i,
			       (unsigned long)objects[i]);
			if (ck_print_object(mod, session, objects[i]) != 0)
				status = -1;
		}
		free(objects);
	} else {
		status = -1;
	}
	if (logged_in > 0) {
		rv = mod->fn->C_Logout(session);
		if (rv != CKR_OK)
			status = ck_fail(prog, "C_Logout", rv);
	}
	rv = mod->fn->C_CloseSession(session);
	if (rv != CKR_OK)
		status = ck_fail(prog, "C_CloseSession", rv);
	return status;
}

static int list_token(struct ck_module *mod, CK_SLOT_ID slot, void *arg)
{
	return list_slot(mod, slot, arg);
}

static int run(struct ck_module *mod, struct options *opt)
{
	return ck_each_token(mod, opt->one_slot, opt->slot, list_token, opt);
}

static int set_pin(struct options *opt, const char *pin)
{
	size_t len = strlen(pin);

	if (len > CK_PIN_MAX) {
		fprintf(stderr, "%s: PIN longer than %d bytes\n", prog, CK_PIN_MAX);
		return -1;
	}
	memcpy(opt->pin, pin, len + 1);
	opt->pin_len = len;
	opt->pin_source = PIN_GIVEN;
	return 0;
}

/* Returns 0 to go on, or the exit status when main must stop. */
static int parse_options(int argc, char **argv, struct options *opt)
{
	static const struct option options[] = {
		{ "library", required_argument, NULL, 'l' },
		{ "slot", required_argument, NULL, 's' },
		{ "pin", required_argument, NULL, 'p' },
		{ "pin-stdin", no_argument, NULL, 'P' },
		{ "no-login", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, pin_options = 0, pin_stdin = 0, n;

	while ((c = getopt_long(argc, argv, "l:s:p:Pnh", options, NULL)) != -1) {
		switch (c) {
		case 'l':
			opt->library = optarg;
			break;
		case 's':
			if (ck_slot_option(prog, optarg, &opt->slot, &opt->one_slot) != 0)
				return 2;
			break;
		case 'p':
			pin_options++;
			if (set_pin(opt, optarg) != 0)
				return 2;
			/* Hide it from ps at least from now on. */
			OPENSSL_cleanse(optarg, strlen(optarg));
			break;
		case 'P':
			pin_options++;
			pin_stdin = 1;
			break;
		case 'n':
			pin_options++;
			opt->pin_source = PIN_NONE;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s: unexpected argument: %s\n", prog, argv[optind]);
		return 2;
	}
	if (pin_options > 1) {
		fprintf(stderr, "%s: --pin, --pin-stdin and --no-login exclude each other\n", prog);
		return 2;
	}
	if (pin_stdin) {
		n = ck_pin_from_stream(stdin, opt->pin, sizeof(opt->pin));
		if (n < 0) {
			fprintf(stderr, "%s: reading the PIN from stdin: %s\n", prog,
			        n == -EMSGSIZE ? "PIN too long" : strerror(-n));
			return 2;
		}
		opt->pin_len = (size_t)n;
		opt->pin_source = PIN_GIVEN;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options opt = { .library = ck_default_library(), .pin_source = PIN_ASK };
	struct ck_module mod;
	int status;

	status = parse_options(argc, argv, &opt);
	if (status == 0 && ck_module_open(&mod, prog, opt.library) == 0) {
		status = run(&mod, &opt) == 0 ? 0 : 1;
		ck_module_close(&mod);
	} else if (status == 0) {
		status = 1;
	} else if (status < 0) {
		status = 0; /* --help */
	}
	OPENSSL_cleanse(opt.pin, sizeof(opt.pin));
	if (fflush(stdout) != 0) {
		perror(prog);
		return 1;
	}
	return status;
}
