/* POST /crypto/v1/random: bytes from the server's generator.
 *
 * The reference server's generator is OpenSSL's DRBG (RAND_priv_bytes, the
 * instance kept for secrets); a server in front of an HSM answers from the
 * HSM. No softcard is involved, so any client with a valid certificate may
 * ask, as PKCS #11 allows C_GenerateRandom without a login. */
#include "server/handlers.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "conf/log.h"
#include "server/reply.h"

void handle_random(struct app *app, const struct wsop_request *req,
                   const char *const params[HANDLER_PARAM_MAX], struct wsop_response *resp)
{
	struct wsop_random_req in;
	struct wsop_crypto_answer out = { 0 };
	struct wsop_json_error err;
	size_t len;
	const char *text = body_text(req, &len);
	char *answer = NULL;
	int r;

	(void)app;
	(void)params;
	r = wsop_json_decode_random_req(text, len, &in, &err);
	if (decode_failed(r, &err, resp))
		return;
	/* Bounded by the decoder: 1..WSOP_RANDOM_MAX. */
	out.data.data = malloc(in.length);
	if (out.data.data == NULL) {
		reply_error(resp, WSOP_E_INTERNAL, "out of memory");
		return;
	}
	out.data.len = in.length;
	if (RAND_priv_bytes(out.data.data, (int)in.length) != 1) {
		wlog(WLOG_ERROR, "the random generator failed");
		reply_error(resp, WSOP_E_INTERNAL, "the random generator failed");
	} else {
		r = wsop_json_encode_crypto_answer(&out, &answer, &len);
		reply_json(resp, 200, r, answer, len);
	}
	OPENSSL_clear_free(out.data.data, in.length);
}
