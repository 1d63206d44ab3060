/*
 * The exact bytes of every request the typed WSOP client sends: one call
 * of each public endpoint function with fixed ids, bodies and
 * idempotency keys, compared byte for byte with the request recorded
 * here. A change of the client's code that changes the wire fails here;
 * a mismatch prints the bytes sent as a C literal.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/crypto.h>

#include "lib/wsop_client.h"

#define SC  "0123456789abcdef0123456789abcdef01234567"
#define G   "0123abcd-4567-89ef-0123-456789abcdef"
#define K   "ffffffff-0000-1111-2222-333333333333"
#define O   "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
#define TOK "tok_EN-123"

#define SOFTCARD_JSON                                                                              \
	"{\"id\":\"" SC "\",\"type\":\"Softcard\",\"name\":\"alice\",\"created\":1,"               \
	"\"active\":false}"
#define ACTIVE_JSON                                                                                \
	"{\"id\":\"" SC "\",\"type\":\"Softcard\",\"name\":\"alice\",\"created\":1,"               \
	"\"active\":true,\"activation\":\"" TOK "\"}"
#define GROUP_JSON                                                                                 \
	"{\"id\":\"" G "\",\"name\":\"pkcs11\",\"protectiondomain\":\"" SC "\",\"created\":1}"
#define KEY_JSON                                                                                   \
	"{\"id\":\"" K "\",\"path\":\"km/v1/groups/" G "/keys/" K "\",\"group\":\"" G              \
	"\",\"protectiondomain\":\"" SC "\",\"algorithm\":\"AES\",\"size\":128,\"created\":5,"     \
	"\"attributes\":{\"label\":\"k\",\"encrypt\":true,\"decrypt\":true,\"sign\":false,"        \
	"\"verify\":false,\"wrap\":false,\"unwrap\":false,\"derive\":false,\"sensitive\":true,"    \
	"\"always_sensitive\":true,\"extractable\":false,\"never_extractable\":true,"              \
	"\"local\":true}}"
#define OBJECT_JSON                                                                                \
	"{\"id\":\"" O "\",\"protectiondomain\":\"" SC "\",\"class\":\"data\",\"created\":7,"      \
	"\"attributes\":{\"label\":\"d\"}}"

/* What the client sends in every request before its own headers. */
#define HEAD(line) line " HTTP/1.1\r\nHost: wsop.example\r\nAccept: application/json\r\n"
#define JSON       "Content-Type: application/json\r\n"
#define IDEM(k)    "Idempotency-Key: " k "\r\n"
#define ACT        "X-WSOP-Activation: " TOK "\r\n"
#define LEN(n)     "Content-Length: " #n "\r\n\r\n"

struct wire {
	char sent[8192];
	size_t sent_len;
	char answer[2048];
	size_t answer_len, pos;
};

static int wire_send(void *ctx, const uint8_t *data, size_t len)
{
	struct wire *w = ctx;

	if (len >= sizeof(w->sent))
		return -EMSGSIZE;
	memcpy(w->sent, data, len);
	w->sent[len] = '\0';
	w->sent_len = len;
	w->pos = 0;
	return 0;
}

static ssize_t wire_recv(void *ctx, uint8_t *buf, size_t cap, int timeout_ms)
{
	struct wire *w = ctx;
	size_t n = w->answer_len - w->pos;

	(void)timeout_ms;
	if (n > cap)
		n = cap;
	memcpy(buf, w->answer + w->pos, n);
	w->pos += n;
	return (ssize_t)n;
}

/* The next answer: status, Content-Type and body. */
static void answer(struct wire *w, int status, const char *type, const char *body)
{
	size_t blen = body != NULL ? strlen(body) : 0;
	int n = snprintf(w->answer, sizeof(w->answer),
	                 "HTTP/1.1 %d X\r\nContent-Type: %s\r\nContent-Length: %zu\r\n\r\n%s",
	                 status, type, blen, body != NULL ? body : "");
	assert_true(n > 0 && (size_t)n < sizeof(w->answer));
	w->answer_len = (size_t)n;
}

static void json_answer(struct wire *w, int status, const char *body)
{
	answer(w, status, "application/json", body);
}

/* The bytes sent, as a C literal, for a request that does not match. */
static void print_literal(const char *s, size_t len)
{
	fputs("sent: \"", stderr);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '\r')
			fputs("\\r", stderr);
		else if (ch == '\n')
			fputs("\\n\"\n      \"", stderr);
		else if (ch == '"' || ch == '\\')
			fprintf(stderr, "\\%c", ch);
		else if (ch < 0x20 || ch > 0x7e)
			fprintf(stderr, "\\x%02x\"\"", ch);
		else
			fputc(ch, stderr);
	}
	fputs("\"\n", stderr);
}

static void expect_sent(const struct wire *w, const char *want, size_t want_len)
{
	if (w->sent_len != want_len || memcmp(w->sent, want, want_len) != 0)
		print_literal(w->sent, w->sent_len);
	assert_int_equal(w->sent_len, want_len);
	assert_memory_equal(w->sent, want, want_len);
}

#define EXPECT(w, lit) expect_sent((w), (lit), sizeof(lit) - 1)
/* One exchange: the server answers status and body, call succeeds and
 * sent exactly want. */
#define CALL(w, status, body, call, want)                                                          \
	do {                                                                                       \
		json_answer((w), (status), (body));                                                \
		assert_int_equal((call), 0);                                                       \
		EXPECT((w), want);                                                                 \
	} while (0)

static int setup(void **state)
{
	struct wire *w = calloc(1, sizeof(*w));
	struct wsop_client *c = calloc(1, sizeof(*c));
	struct wsop_transport t = { w, wire_send, wire_recv, NULL };

	if (w == NULL || c == NULL || wsop_client_init(c, &t, "wsop.example", 2000) != 0) {
		free(w);
		free(c);
		return -1;
	}
	state[0] = c;
	return 0;
}

static int teardown(void **state)
{
	struct wsop_client *c = state[0];
	struct wire *w = c->transport.ctx;

	wsop_client_free(c);
	free(c);
	free(w);
	return 0;
}

static struct wire *wire_of(struct wsop_client *c)
{
	return c->transport.ctx;
}

static void softcard_requests(void **state)
{
	struct wsop_client *c = state[0];
	struct wire *w = wire_of(c);
	struct wsop_softcard s;
	struct wsop_softcard_list l;
	struct wsop_health h;

	CALL(w, 200, "{\"status\":\"ok\",\"version\":\"1.0.0\"}", wsop_health(c, &h),
	     HEAD("GET /health") LEN(0));

	CALL(w, 201, SOFTCARD_JSON, wsop_softcard_create(c, "alice", "pass word", 9, "k1", &s),
	     HEAD("POST /km/v1/protectiondomains") JSON IDEM("k1")
	         LEN(59) "{\"type\":\"Softcard\",\"name\":\"alice\",\"passphrase\":\"pass word\"}");

	CALL(w, 200, "{\"protectiondomains\":[" SOFTCARD_JSON "]}", wsop_softcard_list(c, &l),
	     HEAD("GET /km/v1/protectiondomains") LEN(0));
	wsop_softcard_list_free(&l);

	CALL(w, 200, SOFTCARD_JSON, wsop_softcard_get(c, SC, &s),
	     HEAD("GET /km/v1/protectiondomains/" SC) LEN(0));

	CALL(w, 200, ACTIVE_JSON, wsop_softcard_activate(c, SC, "pw", 2, "k2", &s),
	     HEAD("POST /km/v1/protectiondomains/" SC "/activate") JSON IDEM("k2")
	         LEN(19) "{\"passphrase\":\"pw\"}");
	OPENSSL_cleanse(s.activation, sizeof(s.activation));

	CALL(w, 200, SOFTCARD_JSON, wsop_softcard_get(c, SC, &s),
	     HEAD("GET /km/v1/protectiondomains/" SC) ACT LEN(0));

	CALL(w, 200, SOFTCARD_JSON, wsop_softcard_deactivate(c, SC, "k3", &s),
	     HEAD("POST /km/v1/protectiondomains/" SC "/deactivate") JSON IDEM("k3")
	         ACT LEN(2) "{}");

	CALL(w, 204, NULL, wsop_softcard_delete(c, SC, "k4"),
	     HEAD("DELETE /km/v1/protectiondomains/" SC) IDEM("k4") LEN(0));
}

static void group_and_key_requests(void **state)
{
	struct wsop_client *c = state[0];
	struct wire *w = wire_of(c);
	struct wsop_group g;
	struct wsop_group_list gl;
	struct wsop_key k;
	struct wsop_key_list kl;
	struct wsop_key_generate_req req = { .size = 128 };
	static const uint8_t id[] = { 1, 2, 3 };

	assert_int_equal(wsop_client_set_activation(c, TOK), 0);
	CALL(w, 201, GROUP_JSON, wsop_group_create(c, "pkcs11", SC, "k5", &g),
	     HEAD("POST /km/v1/groups") JSON IDEM("k5")
	         ACT LEN(79) "{\"name\":\"pkcs11\",\"protectiondomain\":\"" SC "\"}");
	assert_int_equal(wsop_client_set_activation(c, NULL), 0);

	CALL(w, 200, "{\"groups\":[" GROUP_JSON "]}", wsop_group_list(c, NULL, &gl),
	     HEAD("GET /km/v1/groups") LEN(0));
	wsop_group_list_free(&gl);

	CALL(w, 200, "{\"groups\":[]}", wsop_group_list(c, SC, &gl),
	     HEAD("GET /km/v1/groups?protectiondomain=" SC) LEN(0));

	CALL(w, 200, "{\"groups\":[]}", wsop_group_list_page(c, SC, G, 7, &gl),
	     HEAD("GET /km/v1/groups?limit=7&after=" G "&protectiondomain=" SC) LEN(0));

	CALL(w, 200, "{\"groups\":[]}", wsop_group_list_page(c, NULL, NULL, 0, &gl),
	     HEAD("GET /km/v1/groups?limit=500") LEN(0));

	snprintf(req.attributes.label, sizeof(req.attributes.label), "k");
	req.attributes.encrypt = req.attributes.decrypt = true;
	req.attributes.id_present = true;
	req.attributes.id.data = (uint8_t *)id;
	req.attributes.id.len = sizeof(id);
	CALL(w, 201, KEY_JSON, wsop_key_generate(c, G, &req, "k6", &k),
	     HEAD("POST /km/v1/groups/" G "/keys") JSON IDEM("k6")
	         LEN(170) "{\"algorithm\":\"AES\",\"size\":128,\"attributes\":{\"label\":\"k\","
	                  "\"id\":\"AQID\",\"encrypt\":true,\"decrypt\":true,\"sign\":false,"
	                  "\"verify\":false,\"wrap\":false,\"unwrap\":false,\"derive\":false}}");
	wsop_key_free(&k);

	CALL(w, 200, "{\"keys\":[]}", wsop_key_list(c, G, &kl),
	     HEAD("GET /km/v1/groups/" G "/keys") LEN(0));

	CALL(w, 200, "{\"keys\":[]}", wsop_key_list_page(c, G, K, 20, &kl),
	     HEAD("GET /km/v1/groups/" G "/keys?limit=20&after=" K) LEN(0));

	CALL(w, 200, KEY_JSON, wsop_key_get(c, G, K, &k),
	     HEAD("GET /km/v1/groups/" G "/keys/" K) LEN(0));
	wsop_key_free(&k);

	CALL(w, 204, NULL, wsop_key_delete(c, G, K, "k7"),
	     HEAD("DELETE /km/v1/groups/" G "/keys/" K) IDEM("k7") LEN(0));
}

static void object_requests(void **state)
{
	struct wsop_client *c = state[0];
	struct wire *w = wire_of(c);
	struct wsop_object o;
	struct wsop_object_list ol;
	struct wsop_object_create_req req = { .cls = WSOP_OBJECT_DATA };
	static const uint8_t value[] = { 'h', 'i' };

	req.attributes.label_present = true;
	snprintf(req.attributes.label, sizeof(req.attributes.label), "d");
	req.attributes.value_present = true;
	req.attributes.value.data = (uint8_t *)value;
	req.attributes.value.len = sizeof(value);
	CALL(w, 201, OBJECT_JSON, wsop_object_create(c, SC, &req, "k8", &o),
	     HEAD("POST /km/v1/protectiondomains/" SC "/objects") JSON IDEM("k8")
	         LEN(57) "{\"class\":\"data\",\"attributes\":{\"label\":\"d\",\"value\":\"aGk\"}}");
	wsop_object_free(&o);

	CALL(w, 200, "{\"objects\":[]}", wsop_object_list(c, SC, &ol),
	     HEAD("GET /km/v1/protectiondomains/" SC "/objects") LEN(0));

	CALL(w, 200, "{\"objects\":[]}", wsop_object_list_page(c, SC, "", 600, &ol),
	     HEAD("GET /km/v1/protectiondomains/" SC "/objects?limit=500") LEN(0));

	CALL(w, 200, OBJECT_JSON, wsop_object_get(c, SC, O, &o),
	     HEAD("GET /km/v1/protectiondomains/" SC "/objects/" O) LEN(0));
	wsop_object_free(&o);

	CALL(w, 204, NULL, wsop_object_delete(c, SC, O, "k9"),
	     HEAD("DELETE /km/v1/protectiondomains/" SC "/objects/" O) IDEM("k9") LEN(0));
}

/* Random, then the binary crypto forms, then a refusal of the binary form
 * that turns this process to the JSON form for good: the last test. */
static void crypto_requests(void **state)
{
	struct wsop_client *c = state[0];
	struct wire *w = wire_of(c);
	struct wsop_crypto_answer a;
	struct wsop_crypto_req req = { .key = "km/v1/groups/" G "/keys/" K,
		                       .mechanism = WSOP_MECH_AES_CBC_PAD };
	static uint8_t data[] = { 'a', 'b', 'c' };

	CALL(w, 200, "{\"data\":\"AQID\"}", wsop_random(c, 3, &a),
	     HEAD("POST /crypto/v1/random") JSON LEN(12) "{\"length\":3}");
	wsop_crypto_answer_free(&a);

	for (size_t i = 0; i < sizeof(req.iv); i++)
		req.iv[i] = (uint8_t)i;
	req.data.data = data;
	req.data.len = sizeof(data);
	answer(w, 200, "application/octet-stream", "xyz");
	assert_int_equal(wsop_encrypt(c, &req, &a), 0);
	wsop_crypto_answer_free(&a);
#define BIN_HEAD(line)                                                                             \
	line " HTTP/1.1\r\nHost: wsop.example\r\n"                                                 \
	     "Accept: application/octet-stream, application/json\r\n"                              \
	     "Content-Type: application/octet-stream\r\n"                                          \
	     "X-WSOP-Key: km/v1/groups/" G "/keys/" K "\r\n"                                       \
	     "X-WSOP-Mechanism: AES_CBC_PAD\r\nX-WSOP-IV: AAECAwQFBgcICQoLDA0ODw\r\n"
	EXPECT(w, BIN_HEAD("POST /crypto/v1/encrypt") LEN(3) "abc");

	answer(w, 200, "application/octet-stream", "xyz");
	assert_int_equal(wsop_decrypt(c, &req, &a), 0);
	wsop_crypto_answer_free(&a);
	EXPECT(w, BIN_HEAD("POST /crypto/v1/decrypt") LEN(3) "abc");

	answer(w, 415, "application/json",
	       "{\"error\":{\"code\":\"unsupported_media_type\",\"message\":\"no\"}}");
	assert_int_equal(wsop_decrypt(c, &req, &a), 415);
	CALL(w, 200, "{\"data\":\"AQID\"}", wsop_decrypt(c, &req, &a),
	     HEAD("POST /crypto/v1/decrypt")
	         JSON LEN(171) "{\"key\":\"km/v1/groups/" G "/keys/" K
	                       "\",\"mechanism\":\"AES_CBC_PAD\","
	                       "\"iv\":\"AAECAwQFBgcICQoLDA0ODw\",\"data\":\"YWJj\"}");
	wsop_crypto_answer_free(&a);

	CALL(w, 200, "{\"data\":\"AQID\"}", wsop_encrypt(c, &req, &a),
	     HEAD("POST /crypto/v1/encrypt")
	         JSON LEN(171) "{\"key\":\"km/v1/groups/" G "/keys/" K
	                       "\",\"mechanism\":\"AES_CBC_PAD\","
	                       "\"iv\":\"AAECAwQFBgcICQoLDA0ODw\",\"data\":\"YWJj\"}");
	wsop_crypto_answer_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(softcard_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(group_and_key_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(object_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(crypto_requests, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
