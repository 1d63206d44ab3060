/* Test helper; see json_any.h. */
#include "json_any.h"

#include <stdlib.h>
#include <string.h>

const char *const json_any_names[JA_COUNT] = {
	"health",
	"error",
	"softcard",
	"softcard_create_req",
	"activate_req",
	"softcard_list",
	"group",
	"group_create_req",
	"group_list",
	"key_generate_req",
	"key",
	"key_list",
	"object_create_req",
	"object",
	"object_list",
	"crypto_req",
	"crypto_answer",
	"empty",
	"random_req",
};

/* One case per body: decode into a local, encode, free. */
#define RECODE(kind_, type_, name_, free_)                                                         \
	case kind_: {                                                                              \
		type_ v;                                                                           \
		rc = wsop_json_decode_##name_(text, len, &v, err);                                 \
		if (rc)                                                                            \
			return rc;                                                                 \
		erc = wsop_json_encode_##name_(&v, out, out_len);                                  \
		free_;                                                                             \
		break;                                                                             \
	}

int json_any_recode(enum json_any_kind kind, const char *text, size_t len, char **out,
                    size_t *out_len, struct wsop_json_error *err)
{
	int rc, erc = 0;

	*out = NULL;
	*out_len = 0;
	switch (kind) {
		RECODE(JA_HEALTH, struct wsop_health, health, (void)0)
		RECODE(JA_ERROR, struct wsop_json_error, error, (void)0)
		RECODE(JA_SOFTCARD, struct wsop_softcard, softcard, (void)0)
		RECODE(JA_SOFTCARD_CREATE_REQ, struct wsop_softcard_create_req, softcard_create_req,
		       wsop_softcard_create_req_cleanse(&v))
		RECODE(JA_ACTIVATE_REQ, struct wsop_activate_req, activate_req,
		       wsop_activate_req_cleanse(&v))
		RECODE(JA_SOFTCARD_LIST, struct wsop_softcard_list, softcard_list,
		       wsop_softcard_list_free(&v))
		RECODE(JA_GROUP, struct wsop_group, group, (void)0)
		RECODE(JA_GROUP_CREATE_REQ, struct wsop_group_create_req, group_create_req, (void)0)
		RECODE(JA_GROUP_LIST, struct wsop_group_list, group_list, wsop_group_list_free(&v))
		RECODE(JA_KEY_GENERATE_REQ, struct wsop_key_generate_req, key_generate_req,
		       wsop_key_generate_req_free(&v))
		RECODE(JA_KEY, struct wsop_key, key, wsop_key_free(&v))
		RECODE(JA_KEY_LIST, struct wsop_key_list, key_list, wsop_key_list_free(&v))
		RECODE(JA_OBJECT_CREATE_REQ, struct wsop_object_create_req, object_create_req,
		       wsop_object_create_req_free(&v))
		RECODE(JA_OBJECT, struct wsop_object, object, wsop_object_free(&v))
		RECODE(JA_OBJECT_LIST, struct wsop_object_list, object_list,
		       wsop_object_list_free(&v))
		RECODE(JA_CRYPTO_REQ, struct wsop_crypto_req, crypto_req, wsop_crypto_req_free(&v))
		RECODE(JA_CRYPTO_ANSWER, struct wsop_crypto_answer, crypto_answer,
		       wsop_crypto_answer_free(&v))
		RECODE(JA_RANDOM_REQ, struct wsop_random_req, random_req, (void)0)
	case JA_EMPTY:
		rc = wsop_json_decode_empty(text, len, err);
		if (rc)
			return rc;
		*out = strdup("{}");
		if (!*out)
			return -1000 - 12;
		*out_len = 2;
		return 0;
	default:
		return -1000 - 22;
	}
	if (erc)
		return -1000 + erc;
	return 0;
}
