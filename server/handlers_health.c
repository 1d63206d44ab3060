/* GET /health. */
#include "server/handlers.h"

#include <stdio.h>
#include <string.h>

#include "build_config.h"
#include "server/reply.h"

void handle_health(struct app *app, const struct wsop_request *req,
                   const char *const params[HANDLER_PARAM_MAX], struct wsop_response *resp)
{
	struct wsop_health h;
	char *text = NULL;
	size_t len = 0;
	int rc;

	memset(&h, 0, sizeof(h));
	strcpy(h.status, "ok");
	snprintf(h.version, sizeof(h.version), "%s", PKCS11WSOP_VERSION);
	rc = wsop_json_encode_health(&h, &text, &len);
	reply_json(resp, 200, rc, text, len);
}
