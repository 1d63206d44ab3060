/*
 * The typed WSOP client against an in-memory transport that plays scripted
 * answers: one answer is released per request sent, read back in chunks of
 * a chosen size, with end of stream, errors and garbage on demand.
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

#include "lib/wsop_client.h"

#define SC    "0123456789abcdef0123456789abcdef01234567"
#define G     "0123abcd-4567-89ef-0123-456789abcdef"
#define K     "ffffffff-0000-1111-2222-333333333333"
#define O     "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
#define PATHK "km/v1/groups/" G "/keys/" K

#define SOFTCARD_JSON                                                                              \
	"{\"id\":\"" SC "\",\"type\":\"Softcard\",\"name\":\"alice\",\"created\":1764190000,"      \
	"\"active\":false}"
#define GROUP_JSON                                                                                 \
	"{\"id\":\"" G "\",\"name\":\"pkcs11\",\"protectiondomain\":\"" SC "\",\"created\":1}"
#define KEY_JSON                                                                                   \
	"{\"id\":\"" K "\",\"path\":\"" PATHK "\",\"group\":\"" G "\",\"protectiondomain\":\"" SC  \
	"\",\"algorithm\":\"AES\",\"size\":256,\"created\":5,\"attributes\":{\"label\":\"k1\","    \
	"\"encrypt\":true,\"decrypt\":true,\"sign\":false,\"verify\":false,\"wrap\":false,"        \
	"\"unwrap\":false,\"derive\":false,\"sensitive\":true,\"always_sensitive\":true,"          \
	"\"extractable\":false,\"never_extractable\":true,\"local\":true}}"
#define OBJECT_JSON                                                                                \
	"{\"id\":\"" O "\",\"protectiondomain\":\"" SC "\",\"class\":\"data\",\"created\":7,"      \
	"\"attributes\":{\"label\":\"d\",\"value\":\"aGVsbG8\"}}"

/* ---- the fake transport ------------------------------------------------- */

#define MAX_ANSWERS 4

struct fake {
	struct {
		uint8_t *data;
		size_t len;
	} answers[MAX_ANSWERS];
	size_t n_answers, next_answer;
	const uint8_t *cur; /* the released answer */
	size_t cur_len, pos;
	size_t chunk; /* bytes per recv_some at most; 0: all */
	int at_end;   /* what recv_some returns when the answer is used up */
	int send_rc;  /* what send_all returns */
	char sent[65536];
	size_t sent_len;
	int sends, recvs;
};

static int fake_send(void *ctx, const uint8_t *data, size_t len)
{
	struct fake *f = ctx;
	f->sends++;
	if (f->send_rc)
		return f->send_rc;
	size_t room = sizeof(f->sent) - 1 - f->sent_len;
	size_t n = len < room ? len : room;
	memcpy(f->sent + f->sent_len, data, n);
	f->sent_len += n;
	f->sent[f->sent_len] = '\0';
	/* The server answers only what was asked. */
	if (f->next_answer < f->n_answers) {
		f->cur = f->answers[f->next_answer].data;
		f->cur_len = f->answers[f->next_answer].len;
		f->pos = 0;
		f->next_answer++;
	}
	return 0;
}

static ssize_t fake_recv(void *ctx, uint8_t *buf, size_t cap, int timeout_ms)
{
	struct fake *f = ctx;
	assert_true(timeout_ms > 0);
	assert_true(cap > 0);
	f->recvs++;
	if (f->cur == NULL || f->pos == f->cur_len)
		return f->at_end;
	size_t n = f->cur_len - f->pos;
	if (f->chunk && n > f->chunk)
		n = f->chunk;
	if (n > cap)
		n = cap;
	memcpy(buf, f->cur + f->pos, n);
	f->pos += n;
	return (ssize_t)n;
}

static void fake_add_raw(struct fake *f, const void *data, size_t len)
{
	assert_true(f->n_answers < MAX_ANSWERS);
	f->answers[f->n_answers].data = malloc(len ? len : 1);
	assert_non_null(f->answers[f->n_answers].data);
	memcpy(f->answers[f->n_answers].data, data, len);
	f->answers[f->n_answers].len = len;
	f->n_answers++;
}

/* An HTTP/1.1 answer with a raw body of the given Content-Type. */
static void fake_add_typed(struct fake *f, int status, const char *type, const void *body,
                           size_t blen)
{
	char head[256];
	int n = snprintf(head, sizeof(head),
	                 "HTTP/1.1 %d X\r\nContent-Type: %s\r\nContent-Length: %zu\r\n\r\n", status,
	                 type, blen);
	uint8_t *all = malloc((size_t)n + blen + 1);
	assert_non_null(all);
	memcpy(all, head, (size_t)n);
	if (blen)
		memcpy(all + n, body, blen);
	fake_add_raw(f, all, (size_t)n + blen);
	free(all);
}

/* An HTTP/1.1 answer with a JSON body. */
static void fake_add(struct fake *f, int status, const char *body)
{
	fake_add_typed(f, status, "application/json", body, body ? strlen(body) : 0);
}

struct fixture {
	struct fake fake;
	struct wsop_client client;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	if (fx == NULL)
		return -1;
	struct wsop_transport t = { &fx->fake, fake_send, fake_recv, NULL };
	fx->fake.at_end = 0;
	if (wsop_client_init(&fx->client, &t, "wsop.example", 2000) != 0)
		return -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	wsop_client_free(&fx->client);
	for (size_t i = 0; i < fx->fake.n_answers; i++)
		free(fx->fake.answers[i].data);
	free(fx);
	return 0;
}

static const char *sent_header(struct fake *f, const char *name, char *buf, size_t cap)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\r\n%s: ", name);
	const char *p = strstr(f->sent, pat);
	if (p == NULL)
		return NULL;
	p += strlen(pat);
	const char *e = strstr(p, "\r\n");
	size_t n = (size_t)(e - p);
	if (n >= cap)
		n = cap - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}

static const char *sent_body(struct fake *f)
{
	const char *p = strstr(f->sent, "\r\n\r\n");
	return p ? p + 4 : NULL;
}

/* ---- tests ---------------------------------------------------------------- */

static void health_sends_get_and_decodes_the_answer(void **state)
{
	struct fixture *fx = *state;
	struct wsop_health h;
	char v[64];

	fake_add(&fx->fake, 200, "{\"status\":\"ok\",\"version\":\"1.0.0\"}");
	assert_int_equal(wsop_health(&fx->client, &h), 0);
	assert_string_equal(h.status, "ok");
	assert_string_equal(h.version, "1.0.0");
	assert_int_equal(strncmp(fx->fake.sent, "GET /health HTTP/1.1\r\n", 22), 0);
	assert_string_equal(sent_header(&fx->fake, "Host", v, sizeof(v)), "wsop.example");
	assert_null(sent_header(&fx->fake, "Idempotency-Key", v, sizeof(v)));
	assert_int_equal(wsop_client_last_status(&fx->client), 200);
	assert_false(wsop_client_broken(&fx->client));
}

static void create_sends_body_and_a_fresh_idempotency_key(void **state)
{
	struct fixture *fx = *state;
	struct wsop_softcard s;
	char key1[64], key2[64], ct[64];

	fake_add(&fx->fake, 201, SOFTCARD_JSON);
	fake_add(&fx->fake, 201, SOFTCARD_JSON);
	assert_int_equal(wsop_softcard_create(&fx->client, "alice", "pw 1", 4, NULL, &s), 0);
	assert_string_equal(s.id, SC);
	assert_string_equal(s.name, "alice");
	assert_int_equal(strncmp(fx->fake.sent, "POST /km/v1/protectiondomains HTTP/1.1\r\n", 40),
	                 0);
	assert_string_equal(sent_header(&fx->fake, "Content-Type", ct, sizeof(ct)),
	                    "application/json");
	assert_string_equal(sent_body(&fx->fake),
	                    "{\"type\":\"Softcard\",\"name\":\"alice\",\"passphrase\":\"pw 1\"}");
	assert_non_null(sent_header(&fx->fake, "Idempotency-Key", key1, sizeof(key1)));
	assert_int_equal(strlen(key1), WSOP_IDEMPOTENCY_KEY_LEN);
	assert_true(wsop_idempotency_key_valid(key1));

	fx->fake.sent_len = 0;
	assert_int_equal(wsop_softcard_create(&fx->client, "alice", "pw 1", 4, NULL, &s), 0);
	assert_non_null(sent_header(&fx->fake, "Idempotency-Key", key2, sizeof(key2)));
	assert_string_not_equal(key1, key2);
}

static void a_given_idempotency_key_is_sent_as_is(void **state)
{
	struct fixture *fx = *state;
	char key[80];

	fake_add(&fx->fake, 204, NULL);
	assert_int_equal(wsop_key_delete(&fx->client, G, K, "retry-key_1"), 0);
	assert_int_equal(strncmp(fx->fake.sent, "DELETE /km/v1/groups/" G "/keys/" K " HTTP/1.1",
	                         21 + 36 + 6 + 36 + 9),
	                 0);
	assert_string_equal(sent_header(&fx->fake, "Idempotency-Key", key, sizeof(key)),
	                    "retry-key_1");
	/* an invalid key never reaches the wire */
	int sends = fx->fake.sends;
	assert_int_equal(wsop_key_delete(&fx->client, G, K, "bad key"), -EINVAL);
	assert_int_equal(wsop_key_delete(&fx->client, G, K, ""), -EINVAL);
	assert_int_equal(fx->fake.sends, sends);
}

static void ids_are_checked_before_anything_is_sent(void **state)
{
	struct fixture *fx = *state;
	struct wsop_key k;
	struct wsop_softcard s;
	struct wsop_object o;

	assert_int_equal(wsop_key_get(&fx->client, G, "../../health", &k), -EINVAL);
	assert_int_equal(wsop_key_get(&fx->client, "x", K, &k), -EINVAL);
	assert_int_equal(wsop_softcard_get(&fx->client, "0123", &s), -EINVAL);
	assert_int_equal(wsop_softcard_delete(&fx->client, SC "?a", NULL), -EINVAL);
	assert_int_equal(wsop_object_get(&fx->client, SC, G "/x", &o), -EINVAL);
	assert_int_equal(wsop_softcard_activate(&fx->client, SC, "a\0b", 3, NULL, &s), -EINVAL);
	char long_pw[300];
	memset(long_pw, 'p', sizeof(long_pw));
	assert_int_equal(wsop_softcard_activate(&fx->client, SC, long_pw, 257, NULL, &s), -EINVAL);
	assert_int_equal(fx->fake.sends, 0);
}

static void error_answers_return_the_status_and_the_error_body(void **state)
{
	struct fixture *fx = *state;
	struct wsop_softcard s;

	fake_add(&fx->fake, 404,
	         "{\"error\":{\"code\":\"not_found\",\"message\":\"no softcard with that id\"}}");
	memset(&s, 0x77, sizeof(s));
	assert_int_equal(wsop_softcard_get(&fx->client, SC, &s), 404);
	assert_string_equal(wsop_client_error(&fx->client)->code, "not_found");
	assert_string_equal(wsop_client_error(&fx->client)->message, "no softcard with that id");
	assert_string_equal(s.id, ""); /* zeroed: nothing to free */
	assert_false(wsop_client_broken(&fx->client));
}

static void error_answers_without_a_wsop_body_keep_the_status(void **state)
{
	struct fixture *fx = *state;
	struct wsop_softcard_list l;

	fake_add(&fx->fake, 503, "busy, try later");
	assert_int_equal(wsop_softcard_list(&fx->client, &l), 503);
	assert_string_equal(wsop_client_error(&fx->client)->code, "");
	assert_non_null(strstr(wsop_client_error(&fx->client)->message, "503"));
}

static void activation_wrong_passphrase_is_403(void **state)
{
	struct fixture *fx = *state;
	struct wsop_softcard s;

	fake_add(&fx->fake, 403, "{\"error\":{\"code\":\"wrong_passphrase\",\"message\":\"no\"}}");
	assert_int_equal(wsop_softcard_activate(&fx->client, SC, "nope", 4, NULL, &s), 403);
	assert_string_equal(wsop_client_error(&fx->client)->code, "wrong_passphrase");
	assert_non_null(strstr(fx->fake.sent, "POST /km/v1/protectiondomains/" SC "/activate "));
	assert_string_equal(sent_body(&fx->fake), "{\"passphrase\":\"nope\"}");
}

static void answers_read_one_byte_at_a_time(void **state)
{
	struct fixture *fx = *state;
	struct wsop_key k;

	fx->fake.chunk = 1;
	fake_add(&fx->fake, 200, KEY_JSON);
	assert_int_equal(wsop_key_get(&fx->client, G, K, &k), 0);
	assert_string_equal(k.path, PATHK);
	assert_int_equal(k.size, 256);
	assert_true(k.attributes.never_extractable);
	assert_true(fx->fake.recvs > 500);
	wsop_key_free(&k);
}

static void keep_alive_serves_several_calls(void **state)
{
	struct fixture *fx = *state;
	struct wsop_group g;
	struct wsop_group_list l;

	fake_add(&fx->fake, 201, GROUP_JSON);
	fake_add(&fx->fake, 200, "{\"groups\":[" GROUP_JSON "," GROUP_JSON "]}");
	assert_int_equal(wsop_group_create(&fx->client, "pkcs11", SC, NULL, &g), 0);
	assert_string_equal(g.id, G);
	assert_int_equal(wsop_group_list(&fx->client, SC, &l), 0);
	assert_int_equal(l.count, 2);
	assert_non_null(strstr(fx->fake.sent, "GET /km/v1/groups?protectiondomain=" SC " "));
	wsop_group_list_free(&l);
}

static void end_of_stream_mid_answer_breaks_the_client(void **state)
{
	struct fixture *fx = *state;
	struct wsop_softcard s;
	const char *cut = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"id\":";

	fake_add_raw(&fx->fake, cut, strlen(cut));
	assert_int_equal(wsop_softcard_get(&fx->client, SC, &s), -ECONNRESET);
	assert_true(wsop_client_broken(&fx->client));
	assert_int_equal(wsop_softcard_get(&fx->client, SC, &s), -ENOTCONN);
	assert_int_equal(fx->fake.sends, 1);

	/* a new connection heals it */
	struct wsop_transport t = { &fx->fake, fake_send, fake_recv, NULL };
	wsop_client_set_transport(&fx->client, &t);
	assert_false(wsop_client_broken(&fx->client));
	fake_add(&fx->fake, 200, SOFTCARD_JSON);
	assert_int_equal(wsop_softcard_get(&fx->client, SC, &s), 0);
}

static void oversized_answers_are_refused(void **state)
{
	struct fixture *fx = *state;
	struct wsop_softcard s;
	char head[128];
	int n = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %u\r\n\r\n{",
	                 HTTP_MAX_BODY + 1);

	fake_add_raw(&fx->fake, head, (size_t)n);
	assert_int_equal(wsop_softcard_get(&fx->client, SC, &s), -E2BIG);
	assert_true(wsop_client_broken(&fx->client));
}

static void oversized_heads_are_refused(void **state)
{
	struct fixture *fx = *state;
	struct wsop_softcard s;
	size_t len = HTTP_MAX_HEAD * 2;
	char *big = malloc(len);
	assert_non_null(big);
	memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
	memset(big + 20, 'a', len - 20);

	fake_add_raw(&fx->fake, big, len);
	free(big);
	assert_int_equal(wsop_softcard_get(&fx->client, SC, &s), -EMSGSIZE);
}

static void garbage_answers_are_refused(void **state)
{
	struct fixture *fx = *state;
	struct wsop_softcard s;
	const char *junk = "SSH-2.0-OpenSSH_9.2\r\n\r\n";

	fake_add_raw(&fx->fake, junk, strlen(junk));
	assert_int_equal(wsop_softcard_get(&fx->client, SC, &s), -EBADMSG);
	assert_true(wsop_client_broken(&fx->client));
}

static void an_unexpected_success_status_is_a_protocol_error(void **state)
{
	struct fixture *fx = *state;
	struct wsop_softcard s;

	fake_add(&fx->fake, 200, SOFTCARD_JSON); /* create answers 201 */
	assert_int_equal(wsop_softcard_create(&fx->client, "alice", "pw", 2, NULL, &s), -EPROTO);
	assert_int_equal(wsop_client_last_status(&fx->client), 200);
}

static void an_undecodable_answer_body_is_a_protocol_error(void **state)
{
	struct fixture *fx = *state;
	struct wsop_softcard s;

	fake_add(&fx->fake, 200, "{\"id\":\"" SC "\",\"type\":\"Softcard\"}");
	assert_int_equal(wsop_softcard_get(&fx->client, SC, &s), -EPROTO);
	assert_string_equal(wsop_client_error(&fx->client)->code, "bad_request");
	assert_string_equal(s.id, "");
	/* the stream itself is fine */
	assert_false(wsop_client_broken(&fx->client));
}

static void bytes_after_an_answer_break_the_next_call(void **state)
{
	struct fixture *fx = *state;
	struct wsop_health h;
	const char *two = "HTTP/1.1 200 OK\r\nContent-Length: 33\r\n\r\n"
	                  "{\"status\":\"ok\",\"version\":\"1.0.0\"}HTTP/1.1 200 OK\r\n";

	fake_add_raw(&fx->fake, two, strlen(two));
	assert_int_equal(wsop_health(&fx->client, &h), 0);
	assert_int_equal(wsop_health(&fx->client, &h), -EPROTO);
	assert_true(wsop_client_broken(&fx->client));
}

static void connection_close_answers_end_the_connection(void **state)
{
	struct fixture *fx = *state;
	struct wsop_health h;
	const char *a = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 33\r\n\r\n"
	                "{\"status\":\"ok\",\"version\":\"1.0.0\"}";

	fake_add_raw(&fx->fake, a, strlen(a));
	assert_int_equal(wsop_health(&fx->client, &h), 0);
	assert_true(wsop_client_broken(&fx->client));
	assert_int_equal(wsop_health(&fx->client, &h), -ENOTCONN);
}

static void transport_errors_come_back_as_they_are(void **state)
{
	struct fixture *fx = *state;
	struct wsop_health h;

	fx->fake.at_end = -ETIMEDOUT;
	assert_int_equal(wsop_health(&fx->client, &h), -ETIMEDOUT);
	assert_true(wsop_client_broken(&fx->client));

	struct wsop_transport t = { &fx->fake, fake_send, fake_recv, NULL };
	wsop_client_set_transport(&fx->client, &t);
	fx->fake.send_rc = -EPIPE;
	assert_int_equal(wsop_health(&fx->client, &h), -EPIPE);
	assert_true(wsop_client_broken(&fx->client));
}

static void objects_and_deletes(void **state)
{
	struct fixture *fx = *state;
	struct wsop_object o;
	struct wsop_object_list l;
	struct wsop_object_create_req req;
	uint8_t value[5] = { 'h', 'e', 'l', 'l', 'o' };

	memset(&req, 0, sizeof(req));
	req.cls = WSOP_OBJECT_DATA;
	req.attributes.label_present = true;
	strcpy(req.attributes.label, "d");
	req.attributes.value_present = true;
	req.attributes.value.data = value;
	req.attributes.value.len = sizeof(value);
	fake_add(&fx->fake, 201, OBJECT_JSON);
	fake_add(&fx->fake, 200, "{\"objects\":[" OBJECT_JSON "]}");
	fake_add(&fx->fake, 204, NULL);
	fake_add(&fx->fake, 409, "{\"error\":{\"code\":\"not_empty\",\"message\":\"keys left\"}}");

	assert_int_equal(wsop_object_create(&fx->client, SC, &req, NULL, &o), 0);
	assert_int_equal(o.attributes.value.len, 5);
	assert_memory_equal(o.attributes.value.data, "hello", 5);
	assert_string_equal(sent_body(&fx->fake), "{\"class\":\"data\",\"attributes\":{\"label\":"
	                                          "\"d\",\"value\":\"aGVsbG8\"}}");
	wsop_object_free(&o);
	assert_int_equal(wsop_object_list(&fx->client, SC, &l), 0);
	assert_int_equal(l.count, 1);
	wsop_object_list_free(&l);
	assert_int_equal(wsop_object_delete(&fx->client, SC, O, NULL), 0);
	assert_int_equal(wsop_softcard_delete(&fx->client, SC, NULL), 409);
	assert_string_equal(wsop_client_error(&fx->client)->code, "not_empty");
}

static void keys_generate_and_list(void **state)
{
	struct fixture *fx = *state;
	struct wsop_key k;
	struct wsop_key_list l;
	struct wsop_key_generate_req req;

	memset(&req, 0, sizeof(req));
	req.size = 256;
	strcpy(req.attributes.label, "k1");
	req.attributes.encrypt = req.attributes.decrypt = true;
	fake_add(&fx->fake, 201, KEY_JSON);
	fake_add(&fx->fake, 200, "{\"keys\":[]}");
	assert_int_equal(wsop_key_generate(&fx->client, G, &req, NULL, &k), 0);
	assert_string_equal(k.id, K);
	assert_non_null(strstr(fx->fake.sent, "POST /km/v1/groups/" G "/keys "));
	wsop_key_free(&k);
	assert_int_equal(wsop_key_list(&fx->client, G, &l), 0);
	assert_int_equal(l.count, 0);
	wsop_key_list_free(&l);
}

static void deactivate_sends_an_empty_object(void **state)
{
	struct fixture *fx = *state;
	struct wsop_softcard s;

	fake_add(&fx->fake, 200, SOFTCARD_JSON);
	assert_int_equal(wsop_softcard_deactivate(&fx->client, SC, NULL, &s), 0);
	assert_non_null(strstr(fx->fake.sent, "POST /km/v1/protectiondomains/" SC "/deactivate "));
	assert_string_equal(sent_body(&fx->fake), "{}");
}

static void crypto_req_of(struct wsop_crypto_req *req, uint8_t *data, size_t len)
{
	memset(req, 0, sizeof(*req));
	strcpy(req->key, PATHK);
	req->mechanism = WSOP_MECH_AES_CBC;
	for (int i = 0; i < WSOP_IV_LEN; i++)
		req->iv[i] = (uint8_t)(0xf0 + i);
	req->data.data = data;
	req->data.len = len;
}

/* The binary form: key, mechanism and IV in headers, the data raw, no
 * Idempotency-Key; a raw answer; errors still JSON. */
static void crypto_calls_are_binary_and_carry_no_idempotency_key(void **state)
{
	struct fixture *fx = *state;
	struct wsop_crypto_req req;
	struct wsop_crypto_answer a;
	uint8_t data[16], back[16];
	char v[128];

	for (int i = 0; i < 16; i++) {
		data[i] = (uint8_t)(i == 3 ? 0 : 0x80 + i); /* a NUL and high bytes */
		back[i] = (uint8_t)i;
	}
	crypto_req_of(&req, data, sizeof(data));
	fake_add_typed(&fx->fake, 200, "application/octet-stream", back, sizeof(back));
	fake_add(&fx->fake, 400, "{\"error\":{\"code\":\"bad_padding\",\"message\":\"x\"}}");
	assert_int_equal(wsop_encrypt(&fx->client, &req, &a), 0);
	assert_int_equal(a.data.len, 16);
	assert_memory_equal(a.data.data, back, 16);
	assert_null(sent_header(&fx->fake, "Idempotency-Key", v, sizeof(v)));
	assert_non_null(strstr(fx->fake.sent, "POST /crypto/v1/encrypt "));
	assert_string_equal(sent_header(&fx->fake, "Content-Type", v, sizeof(v)),
	                    "application/octet-stream");
	assert_string_equal(sent_header(&fx->fake, "X-WSOP-Key", v, sizeof(v)), PATHK);
	assert_string_equal(sent_header(&fx->fake, "X-WSOP-Mechanism", v, sizeof(v)), "AES_CBC");
	assert_string_equal(sent_header(&fx->fake, "X-WSOP-IV", v, sizeof(v)),
	                    "8PHy8_T19vf4-fr7_P3-_w");
	assert_string_equal(sent_header(&fx->fake, "Content-Length", v, sizeof(v)), "16");
	assert_memory_equal(sent_body(&fx->fake), data, 16);
	wsop_crypto_answer_free(&a);
	req.mechanism = WSOP_MECH_AES_CBC_PAD;
	fx->fake.sent_len = 0;
	assert_int_equal(wsop_decrypt(&fx->client, &req, &a), 400);
	assert_string_equal(sent_header(&fx->fake, "X-WSOP-Mechanism", v, sizeof(v)),
	                    "AES_CBC_PAD");
	assert_string_equal(wsop_client_error(&fx->client)->code, "bad_padding");
	assert_null(a.data.data);
}

/* A success that is not a binary answer, or longer than any answer can be,
 * is a protocol error; an empty one is an empty result. */
static void binary_crypto_answers_are_checked(void **state)
{
	struct fixture *fx = *state;
	struct wsop_crypto_req req;
	struct wsop_crypto_answer a;
	uint8_t data[16] = { 0 };

	crypto_req_of(&req, data, sizeof(data));
	fake_add(&fx->fake, 200, "{\"data\":\"AAECAwQFBgcICQoLDA0ODw\"}");
	assert_int_equal(wsop_encrypt(&fx->client, &req, &a), -EPROTO);
	assert_null(a.data.data);
	fake_add_typed(&fx->fake, 200, "application/octet-stream", "", 0);
	assert_int_equal(wsop_encrypt(&fx->client, &req, &a), 0);
	assert_int_equal(a.data.len, 0);
	size_t big = WSOP_CRYPTO_ANSWER_MAX + 1;
	uint8_t *junk = calloc(1, big);
	assert_non_null(junk);
	fake_add_typed(&fx->fake, 200, "application/octet-stream", junk, big);
	free(junk);
	assert_int_equal(wsop_encrypt(&fx->client, &req, &a), -EPROTO);
	assert_null(a.data.data);
	req.mechanism = (enum wsop_mechanism)9;
	assert_int_equal(wsop_encrypt(&fx->client, &req, &a), -EINVAL);
}

/* A server that refuses the binary form (an older wsopd answers
 * bad_request, another service 415) gets the same request as JSON, and
 * every later one too. Runs last: the choice holds for the process. */
static void a_server_without_the_binary_form_gets_json(void **state)
{
	struct fixture *fx = *state;
	struct wsop_crypto_req req;
	struct wsop_crypto_answer a;
	uint8_t data[16] = { 0 };
	char v[128];

	crypto_req_of(&req, data, sizeof(data));
	fake_add(&fx->fake, 400, "{\"error\":{\"code\":\"bad_request\",\"message\":\"not JSON\"}}");
	fake_add(&fx->fake, 200, "{\"data\":\"AAECAwQFBgcICQoLDA0ODw\"}");
	fake_add(&fx->fake, 200, "{\"data\":\"AAECAwQFBgcICQoLDA0ODw\"}");
	assert_int_equal(wsop_encrypt(&fx->client, &req, &a), 0);
	assert_int_equal(a.data.len, 16);
	assert_int_equal(a.data.data[15], 15);
	assert_int_equal(fx->fake.sends, 2);
	wsop_crypto_answer_free(&a);
	fx->fake.sent_len = 0;
	assert_int_equal(wsop_decrypt(&fx->client, &req, &a), 0);
	assert_int_equal(fx->fake.sends, 3);
	assert_string_equal(sent_header(&fx->fake, "Content-Type", v, sizeof(v)),
	                    "application/json");
	assert_null(sent_header(&fx->fake, "X-WSOP-Key", v, sizeof(v)));
	assert_non_null(strstr(sent_body(&fx->fake), "\"mechanism\":\"AES_CBC\""));
	wsop_crypto_answer_free(&a);
}

static void raw_call_returns_any_status(void **state)
{
	struct fixture *fx = *state;
	struct http_message m;

	http_message_init(&m);
	fake_add(&fx->fake, 418, "{}");
	assert_int_equal(wsop_call(&fx->client, "PATCH", "/x", "{}", 2, NULL, &m), 0);
	assert_int_equal(m.status, 418);
	assert_int_equal(m.body_len, 2);
	http_message_clear(&m);
	assert_int_equal(wsop_call(&fx->client, "GET", "no-slash", NULL, 0, NULL, &m), -EINVAL);
}

static void init_refuses_bad_arguments(void **state)
{
	struct wsop_client c;
	struct wsop_transport t = { NULL, fake_send, fake_recv, NULL };
	struct wsop_transport half = { NULL, fake_send, NULL, NULL };
	(void)state;

	assert_int_equal(wsop_client_init(&c, &half, "h", 0), -EINVAL);
	assert_int_equal(wsop_client_init(&c, &t, "", 0), -EINVAL);
	assert_int_equal(wsop_client_init(&c, &t, "a\r\nX: y", 0), -EINVAL);
	assert_int_equal(wsop_client_init(&c, &t, NULL, 0), -EINVAL);
	assert_int_equal(wsop_client_init(&c, &t, "localhost:8443", 0), 0);
	wsop_client_free(&c);
}

static void idempotency_keys_are_random_and_valid(void **state)
{
	char a[WSOP_IDEMPOTENCY_KEY_LEN + 1], b[WSOP_IDEMPOTENCY_KEY_LEN + 1];
	(void)state;
	assert_int_equal(wsop_idempotency_key_new(a), 0);
	assert_int_equal(wsop_idempotency_key_new(b), 0);
	assert_int_equal(strlen(a), WSOP_IDEMPOTENCY_KEY_LEN);
	assert_true(wsop_idempotency_key_valid(a));
	assert_string_not_equal(a, b);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(health_sends_get_and_decodes_the_answer),
		T(create_sends_body_and_a_fresh_idempotency_key),
		T(a_given_idempotency_key_is_sent_as_is),
		T(ids_are_checked_before_anything_is_sent),
		T(error_answers_return_the_status_and_the_error_body),
		T(error_answers_without_a_wsop_body_keep_the_status),
		T(activation_wrong_passphrase_is_403),
		T(answers_read_one_byte_at_a_time),
		T(keep_alive_serves_several_calls),
		T(end_of_stream_mid_answer_breaks_the_client),
		T(oversized_answers_are_refused),
		T(oversized_heads_are_refused),
		T(garbage_answers_are_refused),
		T(an_unexpected_success_status_is_a_protocol_error),
		T(an_undecodable_answer_body_is_a_protocol_error),
		T(bytes_after_an_answer_break_the_next_call),
		T(connection_close_answers_end_the_connection),
		T(transport_errors_come_back_as_they_are),
		T(objects_and_deletes),
		T(keys_generate_and_list),
		T(deactivate_sends_an_empty_object),
		T(crypto_calls_are_binary_and_carry_no_idempotency_key),
		T(binary_crypto_answers_are_checked),
		T(raw_call_returns_any_status),
		cmocka_unit_test(init_refuses_bad_arguments),
		cmocka_unit_test(idempotency_keys_are_random_and_valid),
		T(a_server_without_the_binary_form_gets_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
