/*
 * libFuzzer target: bytes as one HTTP request from a TLS client, through
 * the same parser, router and handlers as wsopd, against a real store in a
 * scratch folder. A softcard, group and key with fixed ids exist and are
 * active for the fuzzing client, so that seeds can reach every handler: a
 * request whose X-WSOP-Activation is "fuzz" carries that activation's
 * token instead (any other value is fuzzed as it is). A success answer
 * must carry the status of its row of ipc/wsop_endpoints.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ipc/http.h"
#include "ipc/wsop_endpoints.h"
#include "server/app.h"
#include "server/reply.h"
#include "server/router.h"

#define FUZZ_SOFTCARD "00000000000000000000000000000000000000aa"
#define FUZZ_GROUP    "00000000-0000-4000-8000-0000000000bb"
#define FUZZ_KEY      "00000000-0000-4000-8000-0000000000cc"
#define FUZZ_PASS     "fuzz pass"

static struct app app;
static char scratch[] = "/tmp/wsopd-fuzz-XXXXXX";
static char token[ACT_TOKEN_TEXT_LEN + 1];
static const char client_id[] = "f00df00df00df00df00df00df00df00df00df00df00df00df00df00df00df00d";

static uint8_t client_fp[ACT_TOKEN_FP_LEN];

static int seed_store(void)
{
	struct store_softcard sc = { .id = FUZZ_SOFTCARD, .name = "fuzz" };
	struct store_group g = { .id = FUZZ_GROUP, .name = "g", .softcard_id = FUZZ_SOFTCARD };
	struct store_key k = { .id = FUZZ_KEY,
		               .group_id = FUZZ_GROUP,
		               .softcard_id = FUZZ_SOFTCARD,
		               .size_bits = 128,
		               .label = "k",
		               .label_len = 1,
		               .encrypt = true,
		               .decrypt = true };
	uint8_t verifier[KEYWRAP_VERIFIER_LEN];
	uint8_t key[16] = { 1, 2, 3 };
	uint8_t wrapped[KEYWRAP_WRAPPED_MAX];
	size_t wrapped_len = 0;
	struct keywrap_kek kek;
	int64_t expires;

	if (keywrap_softcard_setup(&app.master, FUZZ_PASS, strlen(FUZZ_PASS), FUZZ_SOFTCARD,
	                           sc.salt, verifier, &kek) != KEYWRAP_OK)
		return -1;
	memcpy(sc.verifier, verifier, sizeof(verifier));
	sc.verifier_len = sizeof(verifier);
	if (store_softcard_create(app.store, &sc) != STORE_OK ||
	    store_group_create(app.store, &g) != STORE_OK ||
	    keywrap_wrap(&kek, FUZZ_SOFTCARD, FUZZ_KEY, key, sizeof(key), wrapped, sizeof(wrapped),
	                 &wrapped_len) != KEYWRAP_OK ||
	    store_key_insert(app.store, &k, wrapped, wrapped_len) != STORE_OK ||
	    activation_issue(app.act, FUZZ_SOFTCARD, client_fp, &kek, token, &expires) != 0) {
		keywrap_kek_wipe(&kek);
		return -1;
	}
	keywrap_kek_wipe(&kek);
	return 0;
}

/* The scratch store goes away with the process. */
static void cleanup(void)
{
	static const char *const files[] = { "wsopd.db", "wsopd.db-wal", "wsopd.db-shm",
		                             "wsopd.db-journal", "master.key" };
	char path[sizeof(scratch) + 32];

	app_close(&app);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", scratch, files[i]);
		(void)unlink(path);
	}
	(void)rmdir(scratch);
}

static void setup(void)
{
	char err[256];

	memset(client_fp, 0xf0, sizeof(client_fp));
	if (mkdtemp(scratch) == NULL ||
	    app_open(&app, scratch, NULL, 3600, 900, err, sizeof(err)) != 0 || seed_store() != 0) {
		fprintf(stderr, "fuzz_request: setup failed in %s\n", scratch);
		abort();
	}
	atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct http_message msg;
	struct wsop_request req = { 0 };
	struct wsop_response resp;
	size_t used = 0;

	if (!ready) {
		setup();
		ready = 1;
	}
	http_message_init(&msg);
	if (http_parse_request(data, size, &msg, &used) != 1)
		return 0;
	for (size_t i = 0; i < msg.header_count; i++) {
		if (strcasecmp(msg.headers[i].name, "X-WSOP-Activation") == 0 &&
		    strcmp(msg.headers[i].value, "fuzz") == 0)
			msg.headers[i].value = token;
	}
	reply_init(&resp);
	req.http = &msg;
	req.client_id = client_id;
	req.client_cn = "fuzz";
	memcpy(req.client_fp, client_fp, sizeof(req.client_fp));
	router_handle(&app, &req, &resp);
	/* Every answer is a status with an optional JSON body; a success is
	 * the status the endpoint table documents for the request's row,
	 * which is what the client expects. */
	if (resp.status < 200 || resp.status > 599)
		abort();
	if (resp.status < 300) {
		struct wsop_path_params params;
		const struct wsop_endpoint *ep =
		    wsop_endpoint_route(msg.method, req.path, &params, NULL, 0);
		if (ep == NULL || resp.status != ep->status)
			abort();
	}
	reply_free(&resp);
	http_message_clear(&msg);
	return 0;
}
