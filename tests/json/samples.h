/*
 * One valid body per schema, written exactly as the encoders write them
 * (member order, no spaces). The fuzzer's seed corpus (corpus/) holds the
 * same bodies, each behind one byte naming its json_any_kind.
 */
#ifndef PKCS11WSOP_TESTS_JSON_SAMPLES_H
#define PKCS11WSOP_TESTS_JSON_SAMPLES_H

#define S_SC   "0123456789abcdef0123456789abcdef01234567"
#define S_SC2  "fedcba9876543210fedcba9876543210fedcba98"
#define S_G    "0123abcd-4567-89ef-0123-456789abcdef"
#define S_K    "ffffffff-0000-1111-2222-333333333333"
#define S_O    "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
#define S_PATH "km/v1/groups/" S_G "/keys/" S_K
#define S_IV0  "AAAAAAAAAAAAAAAAAAAAAA"

#define S_HEALTH "{\"status\":\"ok\",\"version\":\"1.0.0\"}"
#define S_ERROR  "{\"error\":{\"code\":\"not_found\",\"message\":\"no softcard with that id\"}}"
#define S_SOFTCARD                                                                                 \
	"{\"id\":\"" S_SC "\",\"type\":\"Softcard\",\"name\":\"alice\",\"created\":1764190000,"    \
	"\"active\":false}"
#define S_SOFTCARD2                                                                                \
	"{\"id\":\"" S_SC2 "\",\"type\":\"Softcard\",\"name\":\"Bob-2_x\",\"created\":0,"          \
	"\"active\":true}"
#define S_SOFTCARD_CREATE                                                                          \
	"{\"type\":\"Softcard\",\"name\":\"alice\",\"passphrase\":\"pass phrase!\\\"\\\\~\"}"
#define S_ACTIVATE      "{\"passphrase\":\"secret\"}"
#define S_SOFTCARD_LIST "{\"protectiondomains\":[" S_SOFTCARD "," S_SOFTCARD2 "]}"
#define S_GROUP                                                                                    \
	"{\"id\":\"" S_G "\",\"name\":\"pkcs11\",\"protectiondomain\":\"" S_SC "\","               \
	"\"created\":1764190001}"
#define S_GROUP_CREATE "{\"name\":\"pkcs11\",\"protectiondomain\":\"" S_SC "\"}"
#define S_GROUP_LIST   "{\"groups\":[" S_GROUP "]}"
#define S_KEY_GEN                                                                                  \
	"{\"algorithm\":\"AES\",\"size\":256,\"attributes\":{\"label\":\"k1 \\u00e9\\n\","         \
	"\"id\":\"AQID\",\"encrypt\":true,\"decrypt\":false,\"sign\":false,\"verify\":false,"      \
	"\"wrap\":false,\"unwrap\":false,\"derive\":false}}"
/* What the encoder writes for S_KEY_GEN: UTF-8 as is, control characters
 * as \u00XX. */
#define S_KEY_GEN_CANON                                                                            \
	"{\"algorithm\":\"AES\",\"size\":256,\"attributes\":{\"label\":\"k1 \xc3\xa9\\u000a\","    \
	"\"id\":\"AQID\",\"encrypt\":true,\"decrypt\":false,\"sign\":false,\"verify\":false,"      \
	"\"wrap\":false,\"unwrap\":false,\"derive\":false}}"
#define S_KEY                                                                                      \
	"{\"id\":\"" S_K "\",\"path\":\"" S_PATH "\",\"group\":\"" S_G "\","                       \
	"\"protectiondomain\":\"" S_SC "\",\"algorithm\":\"AES\",\"size\":128,\"created\":5,"      \
	"\"attributes\":{\"label\":\"k1\",\"encrypt\":true,\"decrypt\":true,\"sign\":false,"       \
	"\"verify\":false,\"wrap\":false,\"unwrap\":false,\"derive\":false,\"sensitive\":true,"    \
	"\"always_sensitive\":true,\"extractable\":false,\"never_extractable\":true,"              \
	"\"local\":true}}"
#define S_KEY_LIST "{\"keys\":[" S_KEY "," S_KEY "]}"
#define S_DATA_ATTRS                                                                               \
	"{\"label\":\"l\",\"id\":\"AQ\",\"application\":\"app\",\"object_id\":\"Bg\","             \
	"\"value\":\"aGVsbG8\"}"
#define S_CERT_ATTRS                                                                               \
	"{\"certificate_type\":\"x509\",\"label\":\"c\",\"value\":\"MIIB\",\"subject\":\"MAA\","   \
	"\"issuer\":\"MAA\",\"serial_number\":\"AQ\",\"start_date\":\"20260101\","                 \
	"\"end_date\":\"20270101\"}"
#define S_OBJECT_CREATE_DATA "{\"class\":\"data\",\"attributes\":" S_DATA_ATTRS "}"
#define S_OBJECT_CREATE_CERT "{\"class\":\"certificate\",\"attributes\":" S_CERT_ATTRS "}"
#define S_OBJECT_DATA                                                                              \
	"{\"id\":\"" S_O "\",\"protectiondomain\":\"" S_SC "\",\"class\":\"data\",\"created\":7,"  \
	"\"attributes\":{}}"
#define S_OBJECT_CERT                                                                              \
	"{\"id\":\"" S_O "\",\"protectiondomain\":\"" S_SC "\",\"class\":\"certificate\","         \
	"\"created\":8,\"attributes\":" S_CERT_ATTRS "}"
#define S_OBJECT_LIST "{\"objects\":[" S_OBJECT_DATA "," S_OBJECT_CERT "]}"
#define S_CRYPTO_REQ                                                                               \
	"{\"key\":\"" S_PATH "\",\"mechanism\":\"AES_CBC_PAD\",\"iv\":\"" S_IV0 "\","              \
	"\"data\":\"aGVsbG8\"}"
#define S_CRYPTO_ANSWER "{\"data\":\"AAECAwQFBgcICQoLDA0ODw\"}"

#endif
