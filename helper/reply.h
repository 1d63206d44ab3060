/*
 * The helper's answers on its channel (fd 3). Every answer goes out as one
 * frame through ipc/channel.h; texts are cleaned first (bytes outside
 * printable ASCII become '?', and they are cut at the frame's limit),
 * because a peer-supplied or path-derived text that breaks the channel's
 * text rule would make the whole frame unsendable.
 *
 * Every function returns 0 or the negative errno of chan_send(); a failure
 * means the library is gone or the channel is broken, and the caller stops.
 */
#ifndef PKCS11WSOP_HELPER_REPLY_H
#define PKCS11WSOP_HELPER_REPLY_H

#include <stddef.h>
#include <stdint.h>

/* An answer without payload: SENT, CLOSED, EOF, PONG. */
int reply_empty(int chan, uint16_t type, uint32_t id, uint32_t conn);
/* DATA with 1..CHAN_MAX_PAYLOAD bytes. */
int reply_data(int chan, uint32_t id, uint32_t conn, const uint8_t *data, size_t len);
/* CONNECTED with the protocol name ("TLSv1.3"). */
int reply_connected(int chan, uint32_t id, uint32_t conn, const char *protocol);
/* ERROR with code (enum chan_error) and a text for the library's log. */
int reply_error(int chan, uint32_t id, uint32_t conn, uint32_t code, const char *text);
/* READY (id 0) with this process's pid and a short text. */
int reply_ready(int chan, const char *text);

/* Copies src into dst[cap] keeping only printable ASCII ('?' for the rest). */
void reply_clean_text(char *dst, size_t cap, const char *src);

#endif
