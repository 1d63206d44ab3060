/*
 * The module seams of the object store's tests (objstore_fixture.h). This
 * file stands in for lib/p11_module.c: the tests link the object store and
 * the slot table as they are, and these definitions of p11_module.h.
 */
#include "objstore_fixture.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/wsop_json.h"
#include "lib/p11_lock.h"
#include "lib/p11_core.h"
#include "lib/p11_objstore.h"
#include "lib/p11_slots.h"
#include "lib/wsop_client.h"

#define FX_GROUP "0123abcd-4567-89ef-0123-456789abcdef"

static void *table_lock;
static atomic_bool objects_gone;
static atomic_ulong requests;

static void fx_fail(const char *what)
{
	fprintf(stderr, "objstore fixture: %s\n", what);
	abort();
}

/* ---- the in-memory server ------------------------------------------------ */

/* One per client: the answer to the request last sent. */
struct fake_conn {
	char *answer;
	size_t len, pos;
};

static void softcard_id(char out[WSOP_SOFTCARD_ID_LEN + 1], size_t i)
{
	/* Distinct leading digits: distinct slot ids without probing. */
	memset(out, "123456789abcdef"[i % 15], WSOP_SOFTCARD_ID_LEN);
	out[WSOP_SOFTCARD_ID_LEN] = '\0';
}

static char *listing_json(void)
{
	struct wsop_softcard cards[FX_SOFTCARDS];
	memset(cards, 0, sizeof(cards));
	for (size_t i = 0; i < FX_SOFTCARDS; i++) {
		softcard_id(cards[i].id, i);
		snprintf(cards[i].name, sizeof(cards[i].name), "card%zu", i);
		cards[i].created = 1;
	}
	struct wsop_softcard_list list = { .items = cards, .count = FX_SOFTCARDS };
	char *out;
	size_t len;
	if (wsop_json_encode_softcard_list(&list, &out, &len) != 0)
		fx_fail("encoding the softcard listing");
	return out;
}

/* The object behind GET .../objects/{id}: data with its value. */
static char *object_json(const char *softcard, const char *id)
{
	struct wsop_object o;
	memset(&o, 0, sizeof(o));
	snprintf(o.id, sizeof(o.id), "%s", id);
	snprintf(o.protectiondomain, sizeof(o.protectiondomain), "%s", softcard);
	o.cls = WSOP_OBJECT_DATA;
	o.created = 1;
	o.attributes.value_present = true;
	o.attributes.value.data = (uint8_t *)FX_VALUE;
	o.attributes.value.len = strlen(FX_VALUE);
	char *out;
	size_t len;
	if (wsop_json_encode_object(&o, &out, &len) != 0)
		fx_fail("encoding an object");
	return out;
}

static char *error_json(const char *code)
{
	struct wsop_json_error e;
	memset(&e, 0, sizeof(e));
	snprintf(e.code, sizeof(e.code), "%s", code);
	snprintf(e.message, sizeof(e.message), "%s", code);
	char *out;
	size_t len;
	if (wsop_json_encode_error(&e, &out, &len) != 0)
		fx_fail("encoding an error");
	return out;
}

static void answer(struct fake_conn *fc, int status, char *body)
{
	size_t blen = strlen(body);
	size_t cap = blen + 128;
	free(fc->answer);
	fc->answer = malloc(cap);
	if (fc->answer == NULL)
		fx_fail("no memory for an answer");
	int n = snprintf(fc->answer, cap,
	                 "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
	                 "Content-Length: %zu\r\n\r\n%s",
	                 status, blen, body);
	fc->len = (size_t)n;
	fc->pos = 0;
	free(body);
}

static int fake_send(void *ctx, const uint8_t *data, size_t len)
{
	struct fake_conn *fc = ctx;
	char line[512];
	size_t n = 0;
	while (n < len && n < sizeof(line) - 1 && data[n] != '\r') {
		line[n] = (char)data[n];
		n++;
	}
	line[n] = '\0';
	atomic_fetch_add(&requests, 1);

	char softcard[WSOP_SOFTCARD_ID_LEN + 1], id[WSOP_UUID_LEN + 1];
	if (strcmp(line, "GET /km/v1/protectiondomains HTTP/1.1") == 0)
		answer(fc, 200, listing_json());
	else if (sscanf(line, "GET /km/v1/protectiondomains/%40[0-9a-f]/objects/%36[0-9a-f-] HTTP",
	                softcard, id) == 2)
		answer(fc, atomic_load(&objects_gone) ? 404 : 200,
		       atomic_load(&objects_gone) ? error_json("not_found")
		                                  : object_json(softcard, id));
	else
		answer(fc, 500, error_json("internal"));
	return 0;
}

static ssize_t fake_recv(void *ctx, uint8_t *buf, size_t cap, int timeout_ms)
{
	struct fake_conn *fc = ctx;
	(void)timeout_ms;
	if (fc->answer == NULL || fc->pos == fc->len)
		return 0;
	size_t n = fc->len - fc->pos < cap ? fc->len - fc->pos : cap;
	memcpy(buf, fc->answer + fc->pos, n);
	fc->pos += n;
	return (ssize_t)n;
}

/* ---- the clients lib/p11_core.h hands out ---------------------------------- */

struct client_with_conn {
	struct wsop_client client; /* first: the pointer handed out */
	struct fake_conn conn;
};

static struct wsop_client *fx_acquire(void)
{
	struct client_with_conn *cc = calloc(1, sizeof(*cc));
	if (cc == NULL)
		return NULL;
	struct wsop_transport t = { .ctx = &cc->conn,
		                    .send_all = fake_send,
		                    .recv_some = fake_recv };
	if (wsop_client_init(&cc->client, &t, "wsop.test", 1000) != 0)
		fx_fail("client init");
	return &cc->client;
}

static void fx_release(struct wsop_client *c)
{
	struct client_with_conn *cc = (struct client_with_conn *)c;
	wsop_client_free(c);
	free(cc->conn.answer);
	free(cc);
}

/* ---- slots and objects ----------------------------------------------------- */

static CK_SLOT_ID slot_ids[FX_SOFTCARDS];

void fx_start(void)
{
	p11_lock_configure(NULL);
	if (p11_mutex_create(&table_lock) != CKR_OK)
		fx_fail("table lock");
	if (p11_slots_reset() != CKR_OK || p11_objstore_reset() != CKR_OK)
		fx_fail("reset");
	p11_core_set_clients(fx_acquire, fx_release);
	p11_core_attach(NULL, table_lock);
	atomic_store(&objects_gone, false);
	/* The slot table fills itself from the listing, as C_GetSlotList
	 * does for an application. */
	CK_ULONG n = 0;
	if (C_GetSlotList(CK_TRUE, NULL, &n) != CKR_OK || n != FX_SOFTCARDS)
		fx_fail("listing the slots");
	if (C_GetSlotList(CK_TRUE, slot_ids, &n) != CKR_OK)
		fx_fail("listing the slot ids");
}

void fx_stop(void)
{
	struct backend *none;
	void *lock;

	p11_core_detach(&none, &lock);
	p11_core_set_clients(NULL, NULL);
	p11_objstore_free();
	p11_slots_free(false);
	p11_mutex_destroy(lock);
	table_lock = NULL;
}

struct p11_slot *fx_slot(size_t i)
{
	if (i >= FX_SOFTCARDS)
		fx_fail("no such slot");
	p11_table_lock();
	struct p11_slot *s = p11_slot_find_locked(slot_ids[i], false);
	p11_table_unlock();
	if (s == NULL)
		fx_fail("a listed slot is not found");
	return s;
}

void fx_login(struct p11_slot *slot)
{
	if (p11_slot_login(slot, "activation-token") != CKR_OK)
		fx_fail("login");
}

void fx_logout(struct p11_slot *slot)
{
	/* No session is open: the token logs out; the in-memory server
	 * refuses the deactivation, so the slot forgets its login locally. */
	p11_slot_logout_if_idle(slot);
}

void fx_key(struct p11_object *o, size_t i, unsigned n)
{
	struct wsop_key k;
	memset(&k, 0, sizeof(k));
	snprintf(k.id, sizeof(k.id), "%08zx-0000-4000-8000-%012x", i, n);
	snprintf(k.group, sizeof(k.group), "%s", FX_GROUP);
	snprintf(k.path, sizeof(k.path), "km/v1/groups/%s/keys/%s", FX_GROUP, k.id);
	softcard_id(k.protectiondomain, i);
	k.size = 256;
	k.created = 1;
	k.attributes.encrypt = true;
	k.attributes.decrypt = true;
	if (p11_object_from_key(o, &k) != CKR_OK)
		fx_fail("making a key");
}

void fx_data(struct p11_object *o, size_t i, unsigned n, bool with_value)
{
	struct wsop_object w;
	memset(&w, 0, sizeof(w));
	snprintf(w.id, sizeof(w.id), "%08zx-1111-4000-8000-%012x", i, n);
	softcard_id(w.protectiondomain, i);
	w.cls = WSOP_OBJECT_DATA;
	w.created = 1;
	if (with_value) {
		w.attributes.value_present = true;
		w.attributes.value.data = (uint8_t *)FX_VALUE;
		w.attributes.value.len = strlen(FX_VALUE);
	} else {
		w.value_omitted = true;
		w.value_len = strlen(FX_VALUE);
	}
	if (p11_object_from_wsop_object(o, &w) != CKR_OK)
		fx_fail("making a data object");
}

void fx_set_objects_gone(bool gone)
{
	atomic_store(&objects_gone, gone);
}

unsigned long fx_requests(void)
{
	return atomic_load(&requests);
}
