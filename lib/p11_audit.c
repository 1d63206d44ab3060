/* The module's audit lines; the contract is in p11_audit.h. */
#include "lib/p11_audit.h"

#include <stdbool.h>
#include <string.h>

#include "build_config.h"
#include "conf/audit.h"
#include "lib/ckr_names.h"
#include "lib/p11_attrs.h"
#include "lib/p11_objstore.h"
#include "lib/p11_slots.h"

/* The token serial: the first 16 hex digits of the softcard id, as
 * C_GetTokenInfo shows it. */
#define SERIAL_LEN 16

/* What an audit line says of an object, whichever struct it came from. */
struct described {
	const char *cls;   /* CKO_... name, NULL when not known */
	const char *label; /* NULL: no CKA_LABEL */
	const uint8_t *id; /* CKA_ID bytes */
	size_t id_len;
	bool id_present;
	int key_bits; /* 0: not a key, or size not known */
};

static enum audit_outcome outcome_of(CK_RV rv)
{
	return rv == CKR_OK ? AUDIT_SUCCESS : AUDIT_FAILURE;
}

static void add_session(struct audit_line *a, CK_SESSION_HANDLE session)
{
	audit_uint(a, "session", (unsigned long long)session);
}

static void add_token(struct audit_line *a, const struct p11_slot *slot)
{
	char name[WSOP_NAME_MAX + 1];
	char serial[SERIAL_LEN + 1];

	if (slot == NULL)
		return;
	p11_slot_name(slot, name);
	memcpy(serial, p11_slot_softcard_id(slot), SERIAL_LEN);
	name[sizeof(name) - 1] = '\0';
	serial[SERIAL_LEN] = '\0';
	audit_uint(a, "slot", (unsigned long long)p11_slot_id(slot));
	audit_str(a, "token", name);
	audit_str(a, "serial", serial);
}

static void add_object(struct audit_line *a, CK_OBJECT_HANDLE handle, const struct described *d)
{
	if (handle != CK_INVALID_HANDLE)
		audit_uint(a, "handle", (unsigned long long)handle);
	if (d == NULL)
		return;
	audit_str(a, "class", d->cls);
	audit_str(a, "label", d->label);
	if (d->id_present)
		audit_hex(a, "id", d->id, d->id_len);
	if (d->key_bits > 0)
		audit_uint(a, "key_bits", (unsigned long long)d->key_bits);
}

static void finish(struct audit_line *a, CK_RV rv)
{
	audit_str(a, "rv", ckr_name(rv));
	audit_emit(a);
}

static void describe_key_attrs(struct described *d, const struct wsop_key_attributes *k, int bits)
{
	d->cls = "CKO_SECRET_KEY";
	d->label = k->label;
	d->id = k->id.data;
	d->id_len = k->id.len;
	d->id_present = k->id_present;
	d->key_bits = bits;
}

static void describe_object_attrs(struct described *d, enum wsop_object_class cls,
                                  const struct wsop_object_attributes *o)
{
	d->cls = cls == WSOP_OBJECT_CERTIFICATE ? "CKO_CERTIFICATE"
	         : cls == WSOP_OBJECT_DATA      ? "CKO_DATA"
	                                        : NULL;
	d->label = o->label_present ? o->label : NULL;
	d->id = o->id.data;
	d->id_len = o->id.len;
	d->id_present = o->id_present;
}

static void describe(struct described *d, const struct p11_object *o)
{
	memset(d, 0, sizeof(*d));
	if (o->cls == CKO_SECRET_KEY)
		describe_key_attrs(d, &o->key.attributes, o->key.size);
	else
		describe_object_attrs(d, o->object.cls, &o->object.attributes);
}

void p11_audit_initialize(const char *config_path, const struct wsop_config *cfg, long helper_pid,
                          CK_RV rv, const char *reason)
{
	struct audit_line a;

	audit_begin(&a, "initialize", outcome_of(rv));
	audit_str(&a, "version", PKCS11WSOP_VERSION);
	audit_str(&a, "config", config_path);
	if (cfg != NULL && cfg->host[0] != '\0') {
		audit_str(&a, "host", cfg->host);
		audit_uint(&a, "port", cfg->port);
	}
	if (helper_pid > 0)
		audit_int(&a, "helper_pid", helper_pid);
	audit_str(&a, "reason", reason);
	finish(&a, rv);
}

void p11_audit_finalize(void)
{
	struct audit_line a;

	audit_begin(&a, "finalize", AUDIT_SUCCESS);
	finish(&a, CKR_OK);
}

void p11_audit_config_warning(const char *message)
{
	struct audit_line a;

	audit_begin(&a, "config_warning", AUDIT_WARNING);
	audit_str(&a, "message", message);
	audit_emit(&a);
}

void p11_audit_login(const char *event, CK_SESSION_HANDLE session, const struct p11_slot *slot,
                     CK_RV rv)
{
	struct audit_line a;

	audit_begin(&a, event, outcome_of(rv));
	add_session(&a, session);
	add_token(&a, slot);
	finish(&a, rv);
}

/* The object behind a handle just made, as the table holds it. */
static bool made_object(const struct p11_slot *slot, CK_OBJECT_HANDLE made, struct p11_object *o)
{
	memset(o, 0, sizeof(*o));
	return slot != NULL && made != CK_INVALID_HANDLE &&
	       p11_objstore_get(slot, made, o) == CKR_OK;
}

/* A key or object made (or not): on success as the table holds it, else as
 * asked (NULL when the template was not read). */
static void audit_made(const char *event, CK_SESSION_HANDLE session, const struct p11_slot *slot,
                       CK_OBJECT_HANDLE made, CK_RV rv, const struct described *asked)
{
	struct audit_line a;
	struct described d;
	struct p11_object o;
	bool have = rv == CKR_OK && made_object(slot, made, &o);

	if (have)
		describe(&d, &o);
	audit_begin(&a, event, outcome_of(rv));
	add_session(&a, session);
	add_token(&a, slot);
	add_object(&a, rv == CKR_OK ? made : CK_INVALID_HANDLE, have ? &d : asked);
	finish(&a, rv);
	if (have)
		p11_object_free(&o);
}

void p11_audit_generate_key(CK_SESSION_HANDLE session, const struct p11_slot *slot,
                            const struct wsop_key_generate_req *req, CK_OBJECT_HANDLE made,
                            CK_RV rv)
{
	struct described asked;

	memset(&asked, 0, sizeof(asked));
	if (req != NULL)
		describe_key_attrs(&asked, &req->attributes, req->size);
	audit_made("generate_key", session, slot, made, rv, req != NULL ? &asked : NULL);
}

void p11_audit_create_object(CK_SESSION_HANDLE session, const struct p11_slot *slot,
                             const struct wsop_object_create_req *req, CK_OBJECT_HANDLE made,
                             CK_RV rv)
{
	struct described asked;

	memset(&asked, 0, sizeof(asked));
	if (req != NULL)
		describe_object_attrs(&asked, req->cls, &req->attributes);
	audit_made("create_object", session, slot, made, rv, req != NULL ? &asked : NULL);
}

void p11_audit_destroy_object(CK_SESSION_HANDLE session, const struct p11_slot *slot,
                              CK_OBJECT_HANDLE handle, const struct p11_object *o, CK_RV rv)
{
	struct audit_line a;
	struct described d;

	if (o != NULL)
		describe(&d, o);
	audit_begin(&a, "destroy_object", outcome_of(rv));
	add_session(&a, session);
	add_token(&a, slot);
	audit_uint(&a, "handle", (unsigned long long)handle);
	add_object(&a, CK_INVALID_HANDLE, o != NULL ? &d : NULL);
	finish(&a, rv);
}
