/* End to end: libpkcs11wsop.so (dlopen) -> the confined helper -> wsopd. */
#include <errno.h>
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/p11/p11_fixture.h"

#define PIN_A "pass phrase A"
#define PIN_B "pass phrase B"

static struct {
	struct p11_fx p11;
	char card_a[41], card_b[41];
} fx;

static int group_setup(void **state)
{
	(void)state;
	int up = p11_fx_setup_card(&fx.p11, "cardA", PIN_A, fx.card_a);
	if (up <= 0)
		return up;
	e2e_softcard_ok(fx.p11.conn, "cardB", PIN_B, fx.card_b);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	p11_fx_teardown(&fx.p11);
	return 0;
}

static void init_ok(void)
{
	assert_int_equal(fx.p11.f->C_Initialize(NULL), CKR_OK);
}

static void fini_ok(void)
{
	assert_int_equal(fx.p11.f->C_Finalize(NULL), CKR_OK);
}

/* The slot of the token whose label starts with name. */
static CK_SLOT_ID slot_of(const char *name)
{
	return p11_slot_of(fx.p11.f, name);
}

/* Whether the module's activation of card is live on the server: each
 * login is an activation of its own, and the server logs both ends of it
 * (the REST connection of these tests never activates the cards). */
static bool server_says_active(const char *card)
{
	char began[96], ended[96];
	snprintf(began, sizeof(began), "softcard %s activated", card);
	snprintf(ended, sizeof(ended), "softcard %s: one activation ended", card);
	return e2e_server_log_count(&fx.p11.srv, began) > e2e_server_log_count(&fx.p11.srv, ended);
}

static CK_STATE session_state(CK_SESSION_HANDLE h)
{
	CK_SESSION_INFO si;
	assert_int_equal(fx.p11.f->C_GetSessionInfo(h, &si), CKR_OK);
	return si.state;
}

/* ---- no helper needed ---------------------------------------------------- */

static void function_list_is_complete_version_2_40(void **state)
{
	const CK_FUNCTION_LIST *f = fx.p11.f;
	assert_int_equal(f->version.major, 2);
	assert_int_equal(f->version.minor, 40);
	/* Every member after the version is a function pointer. */
	const unsigned char *p =
	    (const unsigned char *)f + offsetof(CK_FUNCTION_LIST, C_Initialize);
	const unsigned char *end = (const unsigned char *)f + sizeof(*f);
	size_t count = 0;
	for (; p + sizeof(void (*)(void)) <= end; p += sizeof(void (*)(void)), count++) {
		void (*fn)(void);
		memcpy(&fn, p, sizeof(fn));
		assert_non_null(fn);
	}
	assert_int_equal(count, 68);
	CK_FUNCTION_LIST *again = NULL;
	CK_C_GetFunctionList get = f->C_GetFunctionList;
	assert_int_equal(get(&again), CKR_OK);
	assert_ptr_equal(again, f);
	assert_int_equal(get(NULL), CKR_ARGUMENTS_BAD);
}

static CK_RV fake_create(CK_VOID_PTR_PTR m)
{
	*m = NULL;
	return CKR_OK;
}

static void initialize_refuses_bad_arguments(void **state)
{
	CK_C_INITIALIZE_ARGS args;

	memset(&args, 0, sizeof(args));
	args.pReserved = &args;
	assert_int_equal(fx.p11.f->C_Initialize(&args), CKR_ARGUMENTS_BAD);
	memset(&args, 0, sizeof(args));
	args.CreateMutex = fake_create;
	assert_int_equal(fx.p11.f->C_Initialize(&args), CKR_ARGUMENTS_BAD);
	args.flags = CKF_OS_LOCKING_OK;
	assert_int_equal(fx.p11.f->C_Initialize(&args), CKR_ARGUMENTS_BAD);
	/* Still not initialized. */
	assert_int_equal(fx.p11.f->C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
}

static void calls_before_initialize_are_refused(void **state)
{
	CK_INFO info;
	CK_ULONG n = 0;
	CK_SESSION_HANDLE h;
	assert_int_equal(fx.p11.f->C_GetInfo(&info), CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_int_equal(fx.p11.f->C_GetSlotList(CK_TRUE, NULL, &n), CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_int_equal(fx.p11.f->C_OpenSession(1, CKF_SERIAL_SESSION, NULL, NULL, &h),
	                 CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_int_equal(fx.p11.f->C_Login(1, CKU_USER, (CK_UTF8CHAR_PTR) "x", 1),
	                 CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_int_equal(fx.p11.f->C_DigestInit(1, NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_int_equal(fx.p11.f->C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
}

static void initialize_without_config_is_general_error(void **state)
{
	char *saved = getenv("PKCS11WSOP_CONF") ? strdup(getenv("PKCS11WSOP_CONF")) : NULL;
	char missing[E2E_PATH_MAX + 32];
	snprintf(missing, sizeof(missing), "%s/no-such.cfg", e2e_env.dir);
	setenv("PKCS11WSOP_CONF", missing, 1);
	assert_int_equal(fx.p11.f->C_Initialize(NULL), CKR_GENERAL_ERROR);
	assert_int_equal(fx.p11.f->C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
	if (saved != NULL)
		setenv("PKCS11WSOP_CONF", saved, 1);
	else
		unsetenv("PKCS11WSOP_CONF");
	free(saved);
}

/* ---- with the helper and the server ------------------------------------ */

static void initialize_twice_then_finalize(void **state)
{
	P11_NEED_HELPER();
	init_ok();
	assert_int_equal(fx.p11.f->C_Initialize(NULL), CKR_CRYPTOKI_ALREADY_INITIALIZED);
	assert_int_equal(fx.p11.f->C_Finalize(&fx), CKR_ARGUMENTS_BAD);
	fini_ok();
	assert_int_equal(fx.p11.f->C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
}

static int app_mutexes_made;
static CK_RV app_create(CK_VOID_PTR_PTR m)
{
	pthread_mutex_t *p = malloc(sizeof(*p));
	if (p == NULL)
		return CKR_HOST_MEMORY;
	pthread_mutex_init(p, NULL);
	__atomic_add_fetch(&app_mutexes_made, 1, __ATOMIC_SEQ_CST);
	*m = p;
	return CKR_OK;
}
static CK_RV app_destroy(CK_VOID_PTR m)
{
	pthread_mutex_destroy(m);
	free(m);
	return CKR_OK;
}
static CK_RV app_lock(CK_VOID_PTR m)
{
	return pthread_mutex_lock(m) == 0 ? CKR_OK : CKR_MUTEX_BAD;
}
static CK_RV app_unlock(CK_VOID_PTR m)
{
	return pthread_mutex_unlock(m) == 0 ? CKR_OK : CKR_MUTEX_NOT_LOCKED;
}

static void initialize_with_app_mutexes_or_os_locking(void **state)
{
	CK_C_INITIALIZE_ARGS args;
	CK_ULONG n = 0;

	P11_NEED_HELPER();
	memset(&args, 0, sizeof(args));
	args.CreateMutex = app_create;
	args.DestroyMutex = app_destroy;
	args.LockMutex = app_lock;
	args.UnlockMutex = app_unlock;
	app_mutexes_made = 0;
	assert_int_equal(fx.p11.f->C_Initialize(&args), CKR_OK);
	assert_int_equal(fx.p11.f->C_GetSlotList(CK_TRUE, NULL, &n), CKR_OK);
	assert_true(app_mutexes_made > 0);
	fini_ok();

	args.flags = CKF_OS_LOCKING_OK;
	app_mutexes_made = 0;
	assert_int_equal(fx.p11.f->C_Initialize(&args), CKR_OK);
	assert_int_equal(fx.p11.f->C_GetSlotList(CK_TRUE, NULL, &n), CKR_OK);
	assert_int_equal(app_mutexes_made, 0);
	fini_ok();

	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	assert_int_equal(fx.p11.f->C_Initialize(&args), CKR_OK);
	fini_ok();
}

static void get_info_names_library_and_version(void **state)
{
	CK_INFO info;
	P11_NEED_HELPER();
	init_ok();
	assert_int_equal(fx.p11.f->C_GetInfo(NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(fx.p11.f->C_GetInfo(&info), CKR_OK);
	assert_int_equal(info.cryptokiVersion.major, 2);
	assert_int_equal(info.cryptokiVersion.minor, 40);
	assert_memory_equal(info.libraryDescription, "pkcs11wsop                      ", 32);
	assert_int_equal(info.libraryVersion.major, 1);
	assert_int_equal(info.libraryVersion.minor, 0);
	assert_int_equal(info.flags, 0);
	fini_ok();
}

static void functions_outside_the_manual_are_not_supported(void **state)
{
	CK_FUNCTION_LIST *f = fx.p11.f;
	P11_NEED_HELPER();
	init_ok();
	assert_int_equal(f->C_InitToken(0, NULL, 0, NULL), CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(f->C_InitPIN(0, NULL, 0), CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(f->C_SetPIN(0, NULL, 0, NULL, 0), CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(f->C_GetOperationState(0, NULL, NULL), CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(f->C_SetOperationState(0, NULL, 0, 0, 0), CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(f->C_CopyObject(0, 0, NULL, 0, NULL), CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(f->C_SetAttributeValue(0, 0, NULL, 0), CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(f->C_DigestInit(0, NULL), CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(f->C_Digest(0, NULL, 0, NULL, NULL), CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(f->C_DigestUpdate(0, NULL, 0), CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(f->C_DigestKey(0, 0), CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(f->C_DigestFinal(0, NULL, NULL), CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(f->C_SignInit(0, NULL, 0), CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(f->C_Sign(0, NULL, 0, NULL, NULL), CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(f->C_SignUpdate(0, NULL, 0), CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(f->C_SignFinal(0, NULL, NULL), CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(f->C_SignRecoverInit(0, NULL, 0), CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(f->C_SignRecover(0, NULL, 0, NULL, NULL), CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(f->C_VerifyInit(0, NULL, 0), CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(f->C_Verify(0, NULL, 0, NULL, 0), CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(f->C_VerifyUpdate(0, NULL, 0), CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(f->C_VerifyFinal(0, NULL, 0), CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(f->C_VerifyRecoverInit(0, NULL, 0), CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(f->C_VerifyRecover(0, NULL, 0, NULL, NULL), CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(f->C_DigestEncryptUpdate(0, NULL, 0, NULL, NULL),
	                 CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(f->C_DecryptDigestUpdate(0, NULL, 0, NULL, NULL),
	                 CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(f->C_SignEncryptUpdate(0, NULL, 0, NULL, NULL),
	                 CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(f->C_DecryptVerifyUpdate(0, NULL, 0, NULL, NULL),
	                 CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(f->C_GenerateKeyPair(0, NULL, NULL, 0, NULL, 0, NULL, NULL),
	                 CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(f->C_WrapKey(0, NULL, 0, 0, NULL, NULL), CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(f->C_UnwrapKey(0, NULL, 0, NULL, 0, NULL, 0, NULL),
	                 CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(f->C_DeriveKey(0, NULL, 0, NULL, 0, NULL), CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(f->C_GetFunctionStatus(0), CKR_FUNCTION_NOT_PARALLEL);
	assert_int_equal(f->C_CancelFunction(0), CKR_FUNCTION_NOT_PARALLEL);
	assert_int_equal(f->C_WaitForSlotEvent(0, NULL, NULL), CKR_FUNCTION_NOT_SUPPORTED);

	/* The object and crypto functions check their session and state. */
	CK_SESSION_HANDLE h;
	CK_MECHANISM mech = { CKM_AES_CBC, NULL, 0 };
	assert_int_equal(f->C_EncryptInit(999999, &mech, 1), CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(f->C_EncryptInit(999999, NULL, 1), CKR_ARGUMENTS_BAD);
	assert_int_equal(f->C_OpenSession(slot_of("cardA"), CKF_SERIAL_SESSION, NULL, NULL, &h),
	                 CKR_OK);
	CK_ULONG len = 0;
	assert_int_equal(f->C_EncryptFinal(h, NULL, &len), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(f->C_FindObjectsFinal(h), CKR_OPERATION_NOT_INITIALIZED);
	fini_ok();
}

static void slots_and_tokens_for_two_softcards(void **state)
{
	CK_SLOT_ID slots[4];
	CK_ULONG n = 0;
	P11_NEED_HELPER();
	init_ok();
	assert_int_equal(fx.p11.f->C_GetSlotList(CK_TRUE, NULL, NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(fx.p11.f->C_GetSlotList(CK_TRUE, NULL, &n), CKR_OK);
	assert_int_equal(n, 2);
	n = 1;
	assert_int_equal(fx.p11.f->C_GetSlotList(CK_TRUE, slots, &n), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(n, 2);
	n = 4;
	assert_int_equal(fx.p11.f->C_GetSlotList(CK_FALSE, slots, &n), CKR_OK);
	assert_int_equal(n, 2);
	/* Opaque: not the indexes 0 and 1. */
	assert_true(slots[0] > 1 && slots[1] > 1 && slots[0] != slots[1]);

	const char *cards[2] = { fx.card_a, fx.card_b };
	const char *labels[2] = { "cardA", "cardB" };
	CK_SLOT_ID ids[2] = { slot_of("cardA"), slot_of("cardB") };
	for (int i = 0; i < 2; i++) {
		CK_TOKEN_INFO ti;
		CK_SLOT_INFO si;
		char label[33];
		memset(label, ' ', 32);
		memcpy(label, labels[i], strlen(labels[i]));
		assert_int_equal(fx.p11.f->C_GetTokenInfo(ids[i], &ti), CKR_OK);
		assert_memory_equal(ti.label, label, 32);
		assert_memory_equal(ti.serialNumber, cards[i], 16);
		assert_memory_equal(ti.model, "WSOP softcard   ", 16);
		assert_int_equal(ti.flags, CKF_RNG | CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED |
		                               CKF_TOKEN_INITIALIZED);
		assert_int_equal(ti.ulMinPinLen, 1);
		assert_int_equal(ti.ulMaxPinLen, 256);
		assert_int_equal(ti.ulSessionCount, 0);
		assert_int_equal(ti.ulTotalPublicMemory, CK_UNAVAILABLE_INFORMATION);
		assert_int_equal(fx.p11.f->C_GetSlotInfo(ids[i], &si), CKR_OK);
		assert_true(si.flags & CKF_TOKEN_PRESENT);
		assert_false(si.flags & CKF_HW_SLOT);
	}
	fini_ok();
}

static void slot_ids_are_stable_and_a_deleted_softcard_leaves(void **state)
{
	char card_c[41];
	CK_SLOT_ID slots[4];
	CK_ULONG n = 0;
	CK_TOKEN_INFO ti;
	P11_NEED_HELPER();
	init_ok();
	CK_SLOT_ID a = slot_of("cardA"), b = slot_of("cardB");
	e2e_softcard_ok(fx.p11.conn, "cardC", "pass phrase C", card_c);
	CK_SLOT_ID c = slot_of("cardC");
	assert_int_equal(slot_of("cardA"), a);
	assert_int_equal(slot_of("cardB"), b);
	assert_true(c != a && c != b);

	struct e2e_answer ans;
	char target[128];
	snprintf(target, sizeof(target), "/km/v1/protectiondomains/%s", card_c);
	e2e_call_ok(fx.p11.conn, "DELETE", target, NULL, 204, &ans);
	e2e_answer_free(&ans);
	assert_int_equal(fx.p11.f->C_GetSlotList(CK_TRUE, NULL, &n), CKR_OK);
	assert_int_equal(n, 2);
	assert_int_equal(fx.p11.f->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
	assert_true((slots[0] == a && slots[1] == b) || (slots[0] == b && slots[1] == a));
	assert_int_equal(fx.p11.f->C_GetTokenInfo(c, &ti), CKR_SLOT_ID_INVALID);
	fini_ok();

	/* Derived from the softcard id: the same after a re-initialisation,
	 * as in another process, and never a small index. */
	init_ok();
	assert_int_equal(slot_of("cardA"), a);
	assert_int_equal(slot_of("cardB"), b);
	assert_true(a >= 0x10000000UL && b >= 0x10000000UL);
	fini_ok();
}

/* The id a softcard's slot gets: its first 7 hex digits above 2^28. */
static CK_SLOT_ID derived_slot_id(const char *card)
{
	char digits[8];
	memcpy(digits, card, 7);
	digits[7] = '\0';
	return (CK_SLOT_ID)strtoul(digits, NULL, 16) | 0x10000000UL;
}

/* A slot id printed by another process (Java's "slot =", pkcs11test -s),
 * or kept across C_Finalize, is used without a C_GetSlotList first. */
static void known_slot_id_works_without_a_slot_list(void **state)
{
	CK_SLOT_INFO si;
	CK_TOKEN_INFO ti;
	CK_MECHANISM_INFO mi;
	CK_SESSION_HANDLE h;
	CK_ULONG n = 0;
	P11_NEED_HELPER();
	init_ok();
	CK_SLOT_ID a = slot_of("cardA");
	fini_ok();
	assert_int_equal(a, derived_slot_id(fx.card_a));

	init_ok();
	assert_int_equal(fx.p11.f->C_GetTokenInfo(a, &ti), CKR_OK);
	assert_memory_equal(ti.label, "cardA ", 6);
	assert_int_equal(fx.p11.f->C_GetSlotInfo(a, &si), CKR_OK);
	fini_ok();
	init_ok();
	assert_int_equal(fx.p11.f->C_GetMechanismList(a, NULL, &n), CKR_OK);
	fini_ok();
	init_ok();
	assert_int_equal(fx.p11.f->C_GetMechanismInfo(a, CKM_AES_CBC, &mi), CKR_OK);
	fini_ok();
	init_ok();
	assert_int_equal(fx.p11.f->C_OpenSession(a, CKF_SERIAL_SESSION, NULL, NULL, &h), CKR_OK);
	assert_int_equal(fx.p11.f->C_CloseAllSessions(a), CKR_OK);
	/* A softcard made after this process listed the slots. */
	char card_d[41];
	e2e_softcard_ok(fx.p11.conn, "cardD", "pass phrase D", card_d);
	CK_SLOT_ID d = derived_slot_id(card_d);
	if (d != a && d != slot_of("cardB")) {
		assert_int_equal(fx.p11.f->C_GetTokenInfo(d, &ti), CKR_OK);
		assert_memory_equal(ti.label, "cardD ", 6);
	}
	/* An id of our shape that names no softcard is still invalid. */
	CK_SLOT_ID none = 0x10000000UL;
	while (none == a || none == d || none == slot_of("cardB"))
		none++;
	assert_int_equal(fx.p11.f->C_GetTokenInfo(none, &ti), CKR_SLOT_ID_INVALID);
	assert_int_equal(fx.p11.f->C_OpenSession(none, CKF_SERIAL_SESSION, NULL, NULL, &h),
	                 CKR_SLOT_ID_INVALID);
	struct e2e_answer ans;
	char target[128];
	snprintf(target, sizeof(target), "/km/v1/protectiondomains/%s", card_d);
	e2e_call_ok(fx.p11.conn, "DELETE", target, NULL, 204, &ans);
	e2e_answer_free(&ans);
	fini_ok();
}

/* From the server's generator; any session, logged in or not. */
static void generate_random_asks_the_server(void **state)
{
	CK_SESSION_HANDLE h;
	CK_TOKEN_INFO ti;
	static CK_BYTE a[200000], b[200000];
	P11_NEED_HELPER();
	init_ok();
	CK_SLOT_ID slot = slot_of("cardA");
	assert_int_equal(fx.p11.f->C_GetTokenInfo(slot, &ti), CKR_OK);
	assert_true(ti.flags & CKF_RNG);
	assert_int_equal(fx.p11.f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &h), CKR_OK);
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	/* More than one answer's worth: served in pieces. */
	assert_int_equal(fx.p11.f->C_GenerateRandom(h, a, sizeof(a)), CKR_OK);
	assert_int_equal(fx.p11.f->C_GenerateRandom(h, b, 16), CKR_OK);
	assert_memory_not_equal(a, b, 16);
	/* The tail of a multi-piece request is filled too. */
	static const CK_BYTE zero[64];
	assert_memory_not_equal(a + sizeof(a) - 64, zero, 64);
	assert_int_equal(fx.p11.f->C_GenerateRandom(h, NULL, 0), CKR_OK);
	assert_int_equal(fx.p11.f->C_GenerateRandom(h, NULL, 16), CKR_ARGUMENTS_BAD);
	assert_int_equal(fx.p11.f->C_GenerateRandom(999999, a, 16), CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(fx.p11.f->C_SeedRandom(h, a, 16), CKR_RANDOM_SEED_NOT_SUPPORTED);
	assert_int_equal(fx.p11.f->C_SeedRandom(999999, a, 16), CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(fx.p11.f->C_CloseSession(h), CKR_OK);
	fini_ok();
}

static void bad_slot_is_slot_id_invalid(void **state)
{
	CK_SLOT_INFO si;
	CK_TOKEN_INFO ti;
	CK_ULONG n = 0;
	CK_MECHANISM_INFO mi;
	CK_SESSION_HANDLE h;
	P11_NEED_HELPER();
	init_ok();
	assert_int_equal(fx.p11.f->C_GetSlotList(CK_TRUE, NULL, &n), CKR_OK);
	CK_SLOT_ID bad = 0xdeadbeefUL;
	assert_int_equal(fx.p11.f->C_GetSlotInfo(bad, &si), CKR_SLOT_ID_INVALID);
	assert_int_equal(fx.p11.f->C_GetTokenInfo(bad, &ti), CKR_SLOT_ID_INVALID);
	assert_int_equal(fx.p11.f->C_GetMechanismList(bad, NULL, &n), CKR_SLOT_ID_INVALID);
	assert_int_equal(fx.p11.f->C_GetMechanismInfo(bad, CKM_AES_CBC, &mi), CKR_SLOT_ID_INVALID);
	assert_int_equal(fx.p11.f->C_OpenSession(bad, CKF_SERIAL_SESSION, NULL, NULL, &h),
	                 CKR_SLOT_ID_INVALID);
	assert_int_equal(fx.p11.f->C_CloseAllSessions(bad), CKR_SLOT_ID_INVALID);
	assert_int_equal(fx.p11.f->C_GetSlotInfo(0, &si), CKR_SLOT_ID_INVALID);
	fini_ok();
}

static void mechanisms_are_the_three_aes_ones(void **state)
{
	CK_MECHANISM_TYPE list[8];
	CK_ULONG n = 0;
	CK_MECHANISM_INFO mi;
	P11_NEED_HELPER();
	init_ok();
	CK_SLOT_ID s = slot_of("cardA");
	assert_int_equal(fx.p11.f->C_GetMechanismList(s, NULL, &n), CKR_OK);
	assert_int_equal(n, 3);
	n = 2;
	assert_int_equal(fx.p11.f->C_GetMechanismList(s, list, &n), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(n, 3);
	n = 8;
	assert_int_equal(fx.p11.f->C_GetMechanismList(s, list, &n), CKR_OK);
	assert_int_equal(list[0], CKM_AES_CBC);
	assert_int_equal(list[1], CKM_AES_CBC_PAD);
	assert_int_equal(list[2], CKM_AES_KEY_GEN);
	assert_int_equal(fx.p11.f->C_GetMechanismInfo(s, CKM_AES_CBC, &mi), CKR_OK);
	assert_int_equal(mi.flags, CKF_ENCRYPT | CKF_DECRYPT);
	assert_int_equal(mi.ulMinKeySize, 16);
	assert_int_equal(mi.ulMaxKeySize, 32);
	assert_int_equal(fx.p11.f->C_GetMechanismInfo(s, CKM_AES_CBC_PAD, &mi), CKR_OK);
	assert_int_equal(mi.flags, CKF_ENCRYPT | CKF_DECRYPT);
	assert_int_equal(fx.p11.f->C_GetMechanismInfo(s, CKM_AES_KEY_GEN, &mi), CKR_OK);
	assert_int_equal(mi.flags, CKF_GENERATE);
	assert_int_equal(fx.p11.f->C_GetMechanismInfo(s, CKM_AES_ECB, &mi), CKR_MECHANISM_INVALID);
	assert_int_equal(fx.p11.f->C_GetMechanismInfo(s, CKM_RSA_PKCS, &mi), CKR_MECHANISM_INVALID);
	assert_int_equal(fx.p11.f->C_GetMechanismInfo(s, CKM_AES_CBC, NULL), CKR_ARGUMENTS_BAD);
	fini_ok();
}

static void sessions_read_only_and_read_write(void **state)
{
	CK_SESSION_HANDLE ro, rw, h;
	CK_SESSION_INFO si;
	CK_TOKEN_INFO ti;
	P11_NEED_HELPER();
	init_ok();
	CK_SLOT_ID s = slot_of("cardA");
	assert_int_equal(fx.p11.f->C_OpenSession(s, 0, NULL, NULL, &h),
	                 CKR_SESSION_PARALLEL_NOT_SUPPORTED);
	assert_int_equal(fx.p11.f->C_OpenSession(s, CKF_SERIAL_SESSION, NULL, NULL, NULL),
	                 CKR_ARGUMENTS_BAD);
	assert_int_equal(fx.p11.f->C_OpenSession(s, CKF_SERIAL_SESSION, NULL, NULL, &ro), CKR_OK);
	assert_int_equal(
	    fx.p11.f->C_OpenSession(s, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &rw),
	    CKR_OK);
	assert_true(ro != 0 && rw != 0 && ro != rw);
	assert_int_equal(fx.p11.f->C_GetSessionInfo(ro, &si), CKR_OK);
	assert_int_equal(si.slotID, s);
	assert_int_equal(si.state, CKS_RO_PUBLIC_SESSION);
	assert_int_equal(si.flags, CKF_SERIAL_SESSION);
	assert_int_equal(fx.p11.f->C_GetSessionInfo(rw, &si), CKR_OK);
	assert_int_equal(si.state, CKS_RW_PUBLIC_SESSION);
	assert_int_equal(si.flags, CKF_SERIAL_SESSION | CKF_RW_SESSION);
	assert_int_equal(fx.p11.f->C_GetSessionInfo(rw, NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(fx.p11.f->C_GetTokenInfo(s, &ti), CKR_OK);
	assert_int_equal(ti.ulSessionCount, 2);
	assert_int_equal(ti.ulRwSessionCount, 1);

	assert_int_equal(fx.p11.f->C_CloseSession(ro), CKR_OK);
	assert_int_equal(fx.p11.f->C_CloseSession(ro), CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(fx.p11.f->C_GetSessionInfo(ro, &si), CKR_SESSION_HANDLE_INVALID);
	/* Handles are never reused. */
	assert_int_equal(fx.p11.f->C_OpenSession(s, CKF_SERIAL_SESSION, NULL, NULL, &h), CKR_OK);
	assert_true(h != ro && h != rw);
	assert_int_equal(fx.p11.f->C_CloseAllSessions(s), CKR_OK);
	assert_int_equal(fx.p11.f->C_GetSessionInfo(h, &si), CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(fx.p11.f->C_GetSessionInfo(rw, &si), CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(fx.p11.f->C_GetTokenInfo(s, &ti), CKR_OK);
	assert_int_equal(ti.ulSessionCount, 0);
	fini_ok();
}

static void login_right_wrong_again_logout(void **state)
{
	CK_SESSION_HANDLE ro, rw, other;
	char long_pin[258];
	P11_NEED_HELPER();
	init_ok();
	CK_SLOT_ID a = slot_of("cardA"), b = slot_of("cardB");
	assert_int_equal(fx.p11.f->C_OpenSession(a, CKF_SERIAL_SESSION, NULL, NULL, &ro), CKR_OK);
	assert_int_equal(
	    fx.p11.f->C_OpenSession(a, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &rw),
	    CKR_OK);
	assert_int_equal(fx.p11.f->C_OpenSession(b, CKF_SERIAL_SESSION, NULL, NULL, &other),
	                 CKR_OK);

	assert_int_equal(fx.p11.f->C_Logout(ro), CKR_USER_NOT_LOGGED_IN);
	assert_int_equal(fx.p11.f->C_Login(ro, CKU_USER, (CK_UTF8CHAR_PTR)PIN_B, strlen(PIN_B)),
	                 CKR_PIN_INCORRECT);
	assert_int_equal(fx.p11.f->C_Login(ro, CKU_SO, (CK_UTF8CHAR_PTR)PIN_A, strlen(PIN_A)),
	                 CKR_USER_TYPE_INVALID);
	assert_int_equal(fx.p11.f->C_Login(ro, 42, (CK_UTF8CHAR_PTR)PIN_A, strlen(PIN_A)),
	                 CKR_USER_TYPE_INVALID);
	assert_int_equal(
	    fx.p11.f->C_Login(ro, CKU_CONTEXT_SPECIFIC, (CK_UTF8CHAR_PTR)PIN_A, strlen(PIN_A)),
	    CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(fx.p11.f->C_Login(ro, CKU_USER, (CK_UTF8CHAR_PTR) "", 0),
	                 CKR_PIN_LEN_RANGE);
	memset(long_pin, 'p', sizeof(long_pin));
	assert_int_equal(fx.p11.f->C_Login(ro, CKU_USER, (CK_UTF8CHAR_PTR)long_pin, 257),
	                 CKR_PIN_LEN_RANGE);
	assert_int_equal(fx.p11.f->C_Login(ro, CKU_USER, (CK_UTF8CHAR_PTR) "a\nb", 3),
	                 CKR_PIN_INCORRECT);
	assert_int_equal(fx.p11.f->C_Login(ro, CKU_USER, NULL, 4), CKR_ARGUMENTS_BAD);
	assert_int_equal(fx.p11.f->C_Login(999999, CKU_USER, (CK_UTF8CHAR_PTR)PIN_A, strlen(PIN_A)),
	                 CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(session_state(ro), CKS_RO_PUBLIC_SESSION);
	assert_false(server_says_active(fx.card_a));

	assert_int_equal(fx.p11.f->C_Login(ro, CKU_USER, (CK_UTF8CHAR_PTR)PIN_A, strlen(PIN_A)),
	                 CKR_OK);
	assert_true(server_says_active(fx.card_a));
	/* Per token, for every session of the application. */
	assert_int_equal(session_state(ro), CKS_RO_USER_FUNCTIONS);
	assert_int_equal(session_state(rw), CKS_RW_USER_FUNCTIONS);
	assert_int_equal(session_state(other), CKS_RO_PUBLIC_SESSION);
	assert_int_equal(fx.p11.f->C_Login(rw, CKU_USER, (CK_UTF8CHAR_PTR)PIN_A, strlen(PIN_A)),
	                 CKR_USER_ALREADY_LOGGED_IN);

	assert_int_equal(fx.p11.f->C_Logout(rw), CKR_OK);
	assert_false(server_says_active(fx.card_a));
	assert_int_equal(session_state(ro), CKS_RO_PUBLIC_SESSION);
	assert_int_equal(session_state(rw), CKS_RW_PUBLIC_SESSION);
	assert_int_equal(fx.p11.f->C_Logout(ro), CKR_USER_NOT_LOGGED_IN);
	fini_ok();
}

static void closing_the_last_session_logs_out(void **state)
{
	CK_SESSION_HANDLE h1, h2;
	P11_NEED_HELPER();
	init_ok();
	CK_SLOT_ID a = slot_of("cardA");
	assert_int_equal(fx.p11.f->C_OpenSession(a, CKF_SERIAL_SESSION, NULL, NULL, &h1), CKR_OK);
	assert_int_equal(fx.p11.f->C_OpenSession(a, CKF_SERIAL_SESSION, NULL, NULL, &h2), CKR_OK);
	assert_int_equal(fx.p11.f->C_Login(h1, CKU_USER, (CK_UTF8CHAR_PTR)PIN_A, strlen(PIN_A)),
	                 CKR_OK);
	assert_int_equal(fx.p11.f->C_CloseSession(h1), CKR_OK);
	assert_int_equal(session_state(h2), CKS_RO_USER_FUNCTIONS);
	assert_true(server_says_active(fx.card_a));
	assert_int_equal(fx.p11.f->C_CloseSession(h2), CKR_OK);
	assert_false(server_says_active(fx.card_a));
	assert_int_equal(fx.p11.f->C_OpenSession(a, CKF_SERIAL_SESSION, NULL, NULL, &h1), CKR_OK);
	assert_int_equal(session_state(h1), CKS_RO_PUBLIC_SESSION);

	assert_int_equal(fx.p11.f->C_Login(h1, CKU_USER, (CK_UTF8CHAR_PTR)PIN_A, strlen(PIN_A)),
	                 CKR_OK);
	assert_int_equal(fx.p11.f->C_CloseAllSessions(a), CKR_OK);
	assert_false(server_says_active(fx.card_a));

	/* C_Finalize logs out too. */
	assert_int_equal(fx.p11.f->C_OpenSession(a, CKF_SERIAL_SESSION, NULL, NULL, &h1), CKR_OK);
	assert_int_equal(fx.p11.f->C_Login(h1, CKU_USER, (CK_UTF8CHAR_PTR)PIN_A, strlen(PIN_A)),
	                 CKR_OK);
	fini_ok();
	assert_false(server_says_active(fx.card_a));
}

static int child_after_fork(void)
{
	CK_ULONG n = 0;
	CK_INFO info;
	if (fx.p11.f->C_GetSlotList(CK_TRUE, NULL, &n) != CKR_CRYPTOKI_NOT_INITIALIZED)
		return 10;
	if (fx.p11.f->C_GetInfo(&info) != CKR_CRYPTOKI_NOT_INITIALIZED)
		return 11;
	if (fx.p11.f->C_Finalize(NULL) != CKR_CRYPTOKI_NOT_INITIALIZED)
		return 12;
	if (fx.p11.f->C_Initialize(NULL) != CKR_OK)
		return 13;
	if (fx.p11.f->C_GetSlotList(CK_TRUE, NULL, &n) != CKR_OK || n != 2)
		return 14;
	if (fx.p11.f->C_Finalize(NULL) != CKR_OK)
		return 15;
	return 0;
}

static void fork_children_are_refused_then_initialize_their_own(void **state)
{
	CK_SESSION_HANDLE h;
	CK_ULONG n = 0;
	P11_NEED_HELPER();
	init_ok();
	CK_SLOT_ID a = slot_of("cardA");
	assert_int_equal(fx.p11.f->C_OpenSession(a, CKF_SERIAL_SESSION, NULL, NULL, &h), CKR_OK);
	assert_int_equal(fx.p11.f->C_Login(h, CKU_USER, (CK_UTF8CHAR_PTR)PIN_A, strlen(PIN_A)),
	                 CKR_OK);
	for (int i = 0; i < 50; i++) {
		fflush(NULL);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0)
			_exit(child_after_fork());
		int status = 0;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fail_msg("child %d: status 0x%x", i, status);
		assert_int_equal(fx.p11.f->C_GetSlotList(CK_TRUE, NULL, &n), CKR_OK);
		assert_int_equal(n, 2);
	}
	/* The parent's session and login survived its children. */
	assert_int_equal(session_state(h), CKS_RO_USER_FUNCTIONS);
	assert_int_equal(fx.p11.f->C_Logout(h), CKR_OK);
	fini_ok();
}

struct worker {
	CK_SLOT_ID slot;
	int failures;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < 20; i++) {
		CK_ULONG n = 0;
		CK_SESSION_HANDLE h;
		CK_SESSION_INFO si;
		if (fx.p11.f->C_GetSlotList(CK_TRUE, NULL, &n) != CKR_OK || n != 2)
			w->failures++;
		if (fx.p11.f->C_OpenSession(w->slot, CKF_SERIAL_SESSION, NULL, NULL, &h) !=
		    CKR_OK) {
			w->failures++;
			continue;
		}
		if (fx.p11.f->C_GetSessionInfo(h, &si) != CKR_OK || si.slotID != w->slot)
			w->failures++;
		if (fx.p11.f->C_CloseSession(h) != CKR_OK)
			w->failures++;
	}
	return NULL;
}

static void many_threads_call_at_once(void **state)
{
	pthread_t threads[8];
	struct worker workers[8];
	P11_NEED_HELPER();
	init_ok();
	CK_SLOT_ID a = slot_of("cardA"), b = slot_of("cardB");
	for (int i = 0; i < 8; i++) {
		workers[i].slot = i % 2 ? a : b;
		workers[i].failures = 0;
		assert_int_equal(pthread_create(&threads[i], NULL, worker_main, &workers[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		assert_int_equal(pthread_join(threads[i], NULL), 0);
		assert_int_equal(workers[i].failures, 0);
	}
	fini_ok();
}

static void hundred_cycles_leave_no_helper_behind(void **state)
{
	CK_ULONG n = 0;
	P11_NEED_HELPER();
	int before = p11_count_children();
	assert_true(before >= 0);
	for (int i = 0; i < 100; i++) {
		init_ok();
		if (i % 10 == 0)
			assert_int_equal(fx.p11.f->C_GetSlotList(CK_TRUE, NULL, &n), CKR_OK);
		assert_int_equal(p11_count_children(), before + 1);
		fini_ok();
		assert_int_equal(p11_count_children(), before);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(function_list_is_complete_version_2_40),
		cmocka_unit_test(initialize_refuses_bad_arguments),
		cmocka_unit_test(calls_before_initialize_are_refused),
		cmocka_unit_test(initialize_without_config_is_general_error),
		cmocka_unit_test(initialize_twice_then_finalize),
		cmocka_unit_test(initialize_with_app_mutexes_or_os_locking),
		cmocka_unit_test(get_info_names_library_and_version),
		cmocka_unit_test(functions_outside_the_manual_are_not_supported),
		cmocka_unit_test(slots_and_tokens_for_two_softcards),
		cmocka_unit_test(slot_ids_are_stable_and_a_deleted_softcard_leaves),
		cmocka_unit_test(known_slot_id_works_without_a_slot_list),
		cmocka_unit_test(generate_random_asks_the_server),
		cmocka_unit_test(bad_slot_is_slot_id_invalid),
		cmocka_unit_test(mechanisms_are_the_three_aes_ones),
		cmocka_unit_test(sessions_read_only_and_read_write),
		cmocka_unit_test(login_right_wrong_again_logout),
		cmocka_unit_test(closing_the_last_session_logs_out),
		cmocka_unit_test(fork_children_are_refused_then_initialize_their_own),
		cmocka_unit_test(many_threads_call_at_once),
		cmocka_unit_test(hundred_cycles_leave_no_helper_behind),
	};
	return p11_main("p11", tests, group_setup, group_teardown);
}
