/*
 * Searches over a token whose listing is larger than one HTTP answer may
 * be (ipc/README.md: 1 MiB), through the real module, the real helper and
 * a real wsopd: 2,500 AES keys and 20 data objects of 64 KiB. Also the
 * server's pages themselves: bounded in count and bytes, keyset-chained,
 * without object values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/p11/p11_fixture.h"

#define PIN      "pass phrase"
#define NKEYS    2500
#define NDATA    20
#define DATA_LEN 65536
/* The server's page bounds (ipc/README.md). */
#define PAGE_MAX_ITEMS 500
#define PAGE_MAX_BYTES (512 * 1024)

static struct {
	struct p11_fx p11;
	char softcard[41];
	char group[37];
	CK_SLOT_ID slot;
} fx;

/* Byte i of data object n. */
static unsigned char data_byte(unsigned n, size_t i)
{
	return (unsigned char)((i * 31u + n * 7u + (i >> 8)) & 0xff);
}

static void seed_keys(void)
{
	char target[128], body[256];
	snprintf(target, sizeof(target), "/km/v1/groups/%s/keys", fx.group);
	for (unsigned i = 0; i < NKEYS; i++) {
		struct e2e_answer ans;
		snprintf(
		    body, sizeof(body),
		    "{\"algorithm\":\"AES\",\"size\":128,\"attributes\":{\"label\":\"key%u\"}}", i);
		e2e_call_ok(fx.p11.conn, "POST", target, body, 201, &ans);
		e2e_answer_free(&ans);
	}
}

static void seed_data(void)
{
	char target[128];
	unsigned char *value = malloc(DATA_LEN);
	size_t cap = DATA_LEN * 2;
	char *body = malloc(cap);
	assert_non_null(value);
	assert_non_null(body);
	snprintf(target, sizeof(target), "/km/v1/protectiondomains/%s/objects", fx.softcard);
	for (unsigned n = 0; n < NDATA; n++) {
		struct e2e_answer ans;
		for (size_t i = 0; i < DATA_LEN; i++)
			value[i] = data_byte(n, i);
		char *b64 = e2e_b64(value, DATA_LEN);
		snprintf(
		    body, cap,
		    "{\"class\":\"data\",\"attributes\":{\"label\":\"data%u\",\"value\":\"%s\"}}",
		    n, b64);
		free(b64);
		e2e_call_ok(fx.p11.conn, "POST", target, body, 201, &ans);
		e2e_answer_free(&ans);
	}
	free(body);
	free(value);
}

static int group_setup(void **state)
{
	(void)state;
	int r = p11_fx_setup(&fx.p11);
	if (r != 0)
		return r < 0 ? -1 : 0;
	e2e_softcard_ok(fx.p11.conn, "bigcard", PIN, fx.softcard);
	e2e_activate_ok(fx.p11.conn, fx.softcard, PIN);
	e2e_group_ok(fx.p11.conn, "pkcs11", fx.softcard, fx.group);
	seed_keys();
	seed_data();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	p11_fx_teardown(&fx.p11);
	return 0;
}

static CK_SESSION_HANDLE login(void)
{
	CK_SESSION_HANDLE s;
	assert_int_equal(fx.p11.f->C_Initialize(NULL), CKR_OK);
	CK_SLOT_ID slot = p11_slot_of(fx.p11.f, "bigcard");
	assert_int_equal(fx.p11.f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_OK);
	assert_int_equal(
	    fx.p11.f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)PIN, (CK_ULONG)strlen(PIN)), CKR_OK);
	return s;
}

/* Every handle of a search, fetched 97 at a time; *out is malloc'd. */
static CK_ULONG find_all(CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl, CK_ULONG n,
                         CK_OBJECT_HANDLE **out)
{
	CK_ULONG total = 0, got = 0, cap = NKEYS + NDATA + 100;
	CK_OBJECT_HANDLE *h = calloc(cap, sizeof(*h));
	assert_non_null(h);
	assert_int_equal(fx.p11.f->C_FindObjectsInit(s, tmpl, n), CKR_OK);
	do {
		CK_ULONG want = cap - total < 97 ? cap - total : 97;
		assert_int_equal(fx.p11.f->C_FindObjects(s, h + total, want, &got), CKR_OK);
		total += got;
	} while (got > 0 && total < cap);
	assert_int_equal(fx.p11.f->C_FindObjectsFinal(s), CKR_OK);
	*out = h;
	return total;
}

static int cmp_handle(const void *a, const void *b)
{
	CK_OBJECT_HANDLE x = *(const CK_OBJECT_HANDLE *)a, y = *(const CK_OBJECT_HANDLE *)b;
	return x < y ? -1 : x > y;
}

static void search_finds_every_key_and_data_object(void **state)
{
	(void)state;
	P11_NEED_HELPER();
	CK_SESSION_HANDLE s = login();
	CK_OBJECT_HANDLE *h;
	CK_ULONG n = find_all(s, NULL, 0, &h);
	assert_int_equal(n, NKEYS + NDATA);
	/* Each once. */
	qsort(h, n, sizeof(*h), cmp_handle);
	for (CK_ULONG i = 1; i < n; i++)
		assert_true(h[i] != h[i - 1]);
	free(h);

	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_ATTRIBUTE by_class[] = { { CKA_CLASS, &cls, sizeof(cls) } };
	assert_int_equal(find_all(s, by_class, 1, &h), NDATA);
	free(h);
	cls = CKO_SECRET_KEY;
	assert_int_equal(find_all(s, by_class, 1, &h), NKEYS);
	free(h);
	CK_ATTRIBUTE by_label[] = { { CKA_LABEL, "key1234", 7 } };
	assert_int_equal(find_all(s, by_label, 1, &h), 1);
	free(h);
	assert_int_equal(fx.p11.f->C_Finalize(NULL), CKR_OK);
}

static void data_values_read_back(void **state)
{
	(void)state;
	P11_NEED_HELPER();
	CK_SESSION_HANDLE s = login();
	unsigned char *buf = malloc(DATA_LEN);
	assert_non_null(buf);
	for (unsigned n = 0; n < NDATA; n += 7) {
		char label[16];
		snprintf(label, sizeof(label), "data%u", n);
		CK_ATTRIBUTE by_label[] = { { CKA_LABEL, label, (CK_ULONG)strlen(label) } };
		CK_OBJECT_HANDLE *h;
		assert_int_equal(find_all(s, by_label, 1, &h), 1);
		CK_ATTRIBUTE v = { CKA_VALUE, NULL, 0 };
		assert_int_equal(fx.p11.f->C_GetAttributeValue(s, h[0], &v, 1), CKR_OK);
		assert_int_equal(v.ulValueLen, DATA_LEN);
		v.pValue = buf;
		assert_int_equal(fx.p11.f->C_GetAttributeValue(s, h[0], &v, 1), CKR_OK);
		assert_int_equal(v.ulValueLen, DATA_LEN);
		for (size_t i = 0; i < DATA_LEN; i++)
			if (buf[i] != data_byte(n, i))
				fail_msg("data%u byte %zu differs", n, i);
		free(h);
	}
	/* A search by value reads the objects whose value has its length. */
	for (size_t i = 0; i < DATA_LEN; i++)
		buf[i] = data_byte(5, i);
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_ATTRIBUTE by_value[] = { { CKA_CLASS, &cls, sizeof(cls) },
		                    { CKA_VALUE, buf, DATA_LEN } };
	CK_OBJECT_HANDLE *h;
	assert_int_equal(find_all(s, by_value, 2, &h), 1);
	char label[16];
	CK_ATTRIBUTE l = { CKA_LABEL, label, sizeof(label) };
	assert_int_equal(fx.p11.f->C_GetAttributeValue(s, h[0], &l, 1), CKR_OK);
	assert_int_equal(l.ulValueLen, 5);
	assert_memory_equal(label, "data5", 5);
	free(h);
	free(buf);
	assert_int_equal(fx.p11.f->C_Finalize(NULL), CKR_OK);
}

/* An object destroyed by someone else after the search listed it: reading
 * its value finds it gone. */
static void value_of_an_object_deleted_meanwhile_is_handle_invalid(void **state)
{
	(void)state;
	P11_NEED_HELPER();
	char target[256];
	struct e2e_answer ans;
	snprintf(target, sizeof(target), "/km/v1/protectiondomains/%s/objects", fx.softcard);
	e2e_activate_ok(fx.p11.conn, fx.softcard, PIN);
	e2e_call_ok(fx.p11.conn, "POST", target,
	            "{\"class\":\"data\",\"attributes\":{\"label\":\"gone\",\"value\":\"AQID\"}}",
	            201, &ans);
	snprintf(target + strlen(target), sizeof(target) - strlen(target), "/%s",
	         e2e_str(ans.json, "id"));
	e2e_answer_free(&ans);

	CK_SESSION_HANDLE s = login();
	CK_ATTRIBUTE by_label[] = { { CKA_LABEL, "gone", 4 } };
	CK_OBJECT_HANDLE *h;
	assert_int_equal(find_all(s, by_label, 1, &h), 1);
	e2e_call_ok(fx.p11.conn, "DELETE", target, NULL, 204, &ans);
	e2e_answer_free(&ans);
	unsigned char v[3];
	CK_ATTRIBUTE len_only = { CKA_VALUE, NULL, 0 };
	/* Its length is known from the listing. */
	assert_int_equal(fx.p11.f->C_GetAttributeValue(s, h[0], &len_only, 1), CKR_OK);
	assert_int_equal(len_only.ulValueLen, 3);
	CK_ATTRIBUTE value = { CKA_VALUE, v, sizeof(v) };
	assert_int_equal(fx.p11.f->C_GetAttributeValue(s, h[0], &value, 1),
	                 CKR_OBJECT_HANDLE_INVALID);
	assert_int_equal(fx.p11.f->C_GetAttributeValue(s, h[0], &len_only, 1),
	                 CKR_OBJECT_HANDLE_INVALID);
	free(h);
	assert_int_equal(fx.p11.f->C_Finalize(NULL), CKR_OK);
}

/* GET target; asserts 200 and a page within the bounds. */
static json_object *get_page(const char *target, struct e2e_answer *ans)
{
	json_object *j = e2e_call_ok(fx.p11.conn, "GET", target, NULL, 200, ans);
	assert_true(ans->body_len <= PAGE_MAX_BYTES);
	return j;
}

/* Walks every page of base with ?limit=limit; returns the items seen and
 * checks that ids only grow, that "next" is the last id of its page and
 * that every page but the last is full (these items are small). */
static size_t walk(const char *base, const char *member, unsigned limit, size_t *pages)
{
	char target[256], after[37] = "", last[37] = "";
	size_t seen = 0;
	*pages = 0;
	for (;;) {
		struct e2e_answer ans;
		if (after[0])
			snprintf(target, sizeof(target), "%s?after=%s&limit=%u", base, after,
			         limit);
		else
			snprintf(target, sizeof(target), "%s?limit=%u", base, limit);
		json_object *j = get_page(target, &ans);
		json_object *arr = e2e_arr(j, member);
		size_t n = json_object_array_length(arr);
		assert_true(n <= limit && n <= PAGE_MAX_ITEMS);
		assert_true(n > 0 || *pages == 0);
		for (size_t i = 0; i < n; i++) {
			const char *id = e2e_str(json_object_array_get_idx(arr, i), "id");
			assert_true(strcmp(id, last) > 0);
			snprintf(last, sizeof(last), "%s", id);
		}
		seen += n;
		++*pages;
		json_object *next;
		if (!json_object_object_get_ex(j, "next", &next)) {
			e2e_answer_free(&ans);
			return seen;
		}
		assert_int_equal(n, limit < PAGE_MAX_ITEMS ? limit : PAGE_MAX_ITEMS);
		assert_string_equal(json_object_get_string(next), last);
		snprintf(after, sizeof(after), "%s", last);
		e2e_answer_free(&ans);
	}
}

static void server_pages_are_bounded_and_chained(void **state)
{
	(void)state;
	P11_NEED_HELPER();
	char keys[128], objects[128], target[256];
	struct e2e_answer ans;
	size_t pages;
	snprintf(keys, sizeof(keys), "/km/v1/groups/%s/keys", fx.group);
	snprintf(objects, sizeof(objects), "/km/v1/protectiondomains/%s/objects", fx.softcard);
	e2e_activate_ok(fx.p11.conn, fx.softcard, PIN);

	assert_int_equal(walk(keys, "keys", PAGE_MAX_ITEMS, &pages), NKEYS);
	assert_int_equal(pages, (NKEYS + PAGE_MAX_ITEMS - 1) / PAGE_MAX_ITEMS);
	assert_int_equal(walk(keys, "keys", 999, &pages), NKEYS);
	assert_int_equal(pages, (NKEYS + PAGE_MAX_ITEMS - 1) / PAGE_MAX_ITEMS);
	assert_int_equal(walk(keys, "keys", 333, &pages), NKEYS);
	assert_int_equal(pages, (NKEYS + 332) / 333);
	/* Over the maximum is the maximum. */
	snprintf(target, sizeof(target), "%s?limit=5000", keys);
	assert_int_equal(json_object_array_length(e2e_arr(get_page(target, &ans), "keys")),
	                 PAGE_MAX_ITEMS);
	e2e_answer_free(&ans);
	/* No query: the first page, with where to go on. */
	json_object *j = get_page(keys, &ans);
	assert_int_equal(json_object_array_length(e2e_arr(j, "keys")), PAGE_MAX_ITEMS);
	assert_true(json_object_object_get_ex(j, "next", NULL));
	e2e_answer_free(&ans);
	/* After the last id there is nothing, and no "next". */
	snprintf(target, sizeof(target), "%s?after=ffffffff-ffff-4fff-bfff-ffffffffffff", keys);
	j = get_page(target, &ans);
	assert_int_equal(json_object_array_length(e2e_arr(j, "keys")), 0);
	e2e_assert_members(j, "keys", NULL);
	e2e_answer_free(&ans);
	const char *bad[] = { "?limit=0", "?after=xyz", "?limit=1&limit=2", "?page=2", "?" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(target, sizeof(target), "%s%s", keys, bad[i]);
		assert_int_equal(e2e_request(fx.p11.conn, "GET", target, NULL, NULL, &ans), 0);
		e2e_assert_error(&ans, 400, "bad_request");
		e2e_answer_free(&ans);
	}

	/* Paged objects carry no values, only their length. */
	assert_int_equal(walk(objects, "objects", 7, &pages), NDATA);
	assert_int_equal(pages, 3);
	snprintf(target, sizeof(target), "%s?limit=100", objects);
	j = get_page(target, &ans);
	json_object *arr = e2e_arr(j, "objects");
	assert_int_equal(json_object_array_length(arr), NDATA);
	for (size_t i = 0; i < NDATA; i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		assert_int_equal(e2e_int(o, "value_len"), DATA_LEN);
		assert_false(json_object_object_get_ex(e2e_obj(o, "attributes"), "value", NULL));
	}
	e2e_answer_free(&ans);
	/* Without a query, values as before, so the page is cut by bytes. */
	j = get_page(objects, &ans);
	arr = e2e_arr(j, "objects");
	size_t first = json_object_array_length(arr);
	assert_in_range(first, 1, NDATA - 1);
	assert_true(json_object_object_get_ex(
	    e2e_obj(json_object_array_get_idx(arr, 0), "attributes"), "value", NULL));
	assert_false(
	    json_object_object_get_ex(json_object_array_get_idx(arr, 0), "value_len", NULL));
	assert_string_equal(e2e_str(j, "next"),
	                    e2e_str(json_object_array_get_idx(arr, first - 1), "id"));
	e2e_answer_free(&ans);
}

static int cmp_id(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/* More groups than one page holds: a search still reaches the keys of the
 * group whose id comes last (on the second page of groups). */
static void keys_in_every_page_of_groups_are_found(void **state)
{
	(void)state;
	P11_NEED_HELPER();
	enum { NGROUPS = PAGE_MAX_ITEMS + 1 };
	static char ids[NGROUPS][37];
	char sc[41], target[128], body[256];
	struct e2e_answer ans;
	e2e_softcard_ok(fx.p11.conn, "groupcard", PIN, sc);
	e2e_activate_ok(fx.p11.conn, sc, PIN);
	for (int i = 0; i < NGROUPS; i++)
		e2e_group_ok(fx.p11.conn, "g", sc, ids[i]);
	qsort(ids, NGROUPS, sizeof(ids[0]), cmp_id);
	const int ends[] = { 0, NGROUPS - 1 };
	for (size_t e = 0; e < 2; e++) {
		snprintf(target, sizeof(target), "/km/v1/groups/%s/keys", ids[ends[e]]);
		snprintf(
		    body, sizeof(body),
		    "{\"algorithm\":\"AES\",\"size\":128,\"attributes\":{\"label\":\"end%zu\"}}",
		    e);
		e2e_call_ok(fx.p11.conn, "POST", target, body, 201, &ans);
		e2e_answer_free(&ans);
	}
	/* The groups' own pages. */
	snprintf(target, sizeof(target), "/km/v1/groups?protectiondomain=%s", sc);
	json_object *j = get_page(target, &ans);
	assert_int_equal(json_object_array_length(e2e_arr(j, "groups")), PAGE_MAX_ITEMS);
	assert_string_equal(e2e_str(j, "next"), ids[NGROUPS - 2]);
	e2e_answer_free(&ans);
	snprintf(target, sizeof(target), "/km/v1/groups?after=%s&protectiondomain=%s&limit=9",
	         ids[NGROUPS - 2], sc);
	j = get_page(target, &ans);
	assert_int_equal(json_object_array_length(e2e_arr(j, "groups")), 1);
	e2e_assert_members(j, "groups", NULL);
	e2e_answer_free(&ans);

	CK_SESSION_HANDLE s;
	assert_int_equal(fx.p11.f->C_Initialize(NULL), CKR_OK);
	CK_SLOT_ID slot = p11_slot_of(fx.p11.f, "groupcard");
	assert_int_equal(fx.p11.f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_OK);
	assert_int_equal(
	    fx.p11.f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)PIN, (CK_ULONG)strlen(PIN)), CKR_OK);
	CK_OBJECT_HANDLE *h;
	assert_int_equal(find_all(s, NULL, 0, &h), 2);
	free(h);
	CK_ATTRIBUTE last[] = { { CKA_LABEL, "end1", 4 } };
	assert_int_equal(find_all(s, last, 1, &h), 1);
	free(h);
	assert_int_equal(fx.p11.f->C_Finalize(NULL), CKR_OK);
}

/* Destroying most of a token's objects one by one: the handles left keep
 * answering, the destroyed ones do not, and a search finds the rest under
 * the same handles (the table drops entries in place and compacts). */
static void handles_survive_many_destroys(void **state)
{
	(void)state;
	P11_NEED_HELPER();
	enum { N = 40, DESTROY = 30 };
	char sc[41];
	e2e_softcard_ok(fx.p11.conn, "dropcard", PIN, sc);
	CK_SESSION_HANDLE s;
	assert_int_equal(fx.p11.f->C_Initialize(NULL), CKR_OK);
	CK_SLOT_ID slot = p11_slot_of(fx.p11.f, "dropcard");
	assert_int_equal(
	    fx.p11.f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s),
	    CKR_OK);
	assert_int_equal(
	    fx.p11.f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)PIN, (CK_ULONG)strlen(PIN)), CKR_OK);
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_BBOOL yes = CK_TRUE;
	CK_OBJECT_HANDLE made[N];
	for (int i = 0; i < N; i++) {
		char label[8];
		snprintf(label, sizeof(label), "d%02d", i);
		CK_ATTRIBUTE t[] = { { CKA_CLASS, &cls, sizeof(cls) },
			             { CKA_TOKEN, &yes, 1 },
			             { CKA_PRIVATE, &yes, 1 },
			             { CKA_LABEL, label, 3 } };
		assert_int_equal(fx.p11.f->C_CreateObject(s, t, 4, &made[i]), CKR_OK);
	}
	for (int i = 0; i < DESTROY; i++)
		assert_int_equal(fx.p11.f->C_DestroyObject(s, made[i]), CKR_OK);
	for (int i = 0; i < N; i++) {
		char label[8] = { 0 };
		CK_ATTRIBUTE l = { CKA_LABEL, label, sizeof(label) - 1 };
		CK_RV want = i < DESTROY ? CKR_OBJECT_HANDLE_INVALID : CKR_OK;
		assert_int_equal(fx.p11.f->C_GetAttributeValue(s, made[i], &l, 1), want);
		if (want == CKR_OK) {
			assert_int_equal(l.ulValueLen, 3);
			assert_int_equal(atoi(label + 1), i);
		}
	}
	CK_OBJECT_HANDLE *h;
	assert_int_equal(find_all(s, NULL, 0, &h), N - DESTROY);
	qsort(h, N - DESTROY, sizeof(*h), cmp_handle);
	for (int i = 0; i < N - DESTROY; i++)
		assert_int_equal(h[i], made[DESTROY + i]);
	free(h);
	assert_int_equal(fx.p11.f->C_Finalize(NULL), CKR_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(search_finds_every_key_and_data_object),
		cmocka_unit_test(data_values_read_back),
		cmocka_unit_test(server_pages_are_bounded_and_chained),
		cmocka_unit_test(value_of_an_object_deleted_meanwhile_is_handle_invalid),
		cmocka_unit_test(keys_in_every_page_of_groups_are_found),
		cmocka_unit_test(handles_survive_many_destroys),
	};
	return p11_main("p11_paging", tests, group_setup, group_teardown);
}
