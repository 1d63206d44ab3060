/* The helper's answers; the contract is in reply.h. */
#include "helper/reply.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ipc/channel.h"

/* An answer never waits long for room: the library reads its channel all
 * the time, and a library that stopped reading must not freeze the helper's
 * other connections forever. */
#define REPLY_SEND_TIMEOUT_MS 30000

void reply_clean_text(char *dst, size_t cap, const char *src)
{
	size_t i = 0;

	if (cap == 0)
		return;
	for (; src != NULL && src[i] != '\0' && i + 1 < cap; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	dst[i] = '\0';
}

static int send_frame(int chan, uint16_t type, uint32_t id, uint32_t conn, const uint8_t *payload,
                      uint32_t len)
{
	const struct chan_frame f = {
		.type = type, .flags = 0, .id = id, .conn = conn, .payload = payload, .len = len
	};

	return chan_send(chan, &f, -1, REPLY_SEND_TIMEOUT_MS);
}

int reply_empty(int chan, uint16_t type, uint32_t id, uint32_t conn)
{
	return send_frame(chan, type, id, conn, NULL, 0);
}

int reply_data(int chan, uint32_t id, uint32_t conn, const uint8_t *data, size_t len)
{
	if (len == 0 || len > CHAN_MAX_PAYLOAD)
		return -EINVAL;
	return send_frame(chan, CHAN_T_DATA, id, conn, data, (uint32_t)len);
}

int reply_connected(int chan, uint32_t id, uint32_t conn, const char *protocol)
{
	char clean[CHAN_PROTO_MAX + 1];

	reply_clean_text(clean, sizeof(clean), protocol);
	/* A protocol name may not contain blanks; OpenSSL's never do. */
	if (clean[0] == '\0' || strchr(clean, ' ') != NULL)
		snprintf(clean, sizeof(clean), "TLS");
	return send_frame(chan, CHAN_T_CONNECTED, id, conn, (const uint8_t *)clean,
	                  (uint32_t)strlen(clean));
}

int reply_error(int chan, uint32_t id, uint32_t conn, uint32_t code, const char *text)
{
	char clean[CHAN_ERROR_TEXT_MAX + 1];
	uint8_t payload[4 + CHAN_ERROR_TEXT_MAX];
	uint32_t len = 0;

	reply_clean_text(clean, sizeof(clean), text);
	int rc = chan_error_encode(code, clean, payload, sizeof(payload), &len);
	if (rc != 0)
		return rc;
	return send_frame(chan, CHAN_T_ERROR, id, id == 0 ? 0 : conn, payload, len);
}

int reply_ready(int chan, const char *text)
{
	char clean[CHAN_READY_TEXT_MAX + 1];
	uint8_t payload[4 + CHAN_READY_TEXT_MAX];
	uint32_t len = 0;

	reply_clean_text(clean, sizeof(clean), text);
	int rc = chan_ready_encode((uint32_t)getpid(), clean, payload, sizeof(payload), &len);
	if (rc != 0)
		return rc;
	return send_frame(chan, CHAN_T_READY, 0, 0, payload, len);
}
