/*
 * libFuzzer target for chan_decode in one direction (FUZZ_DIR, set by the
 * build). Input: one byte whose low bit says whether a descriptor came with
 * the record, then the record. Whatever decodes must encode back to the very
 * same bytes: the codec has exactly one spelling for each frame.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/channel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t again[CHAN_MAX_FRAME];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chan_frame f;
	size_t len = 0;

	if (size < 1) {
		return 0;
	}
	if (chan_decode(data + 1, size - 1, FUZZ_DIR, (data[0] & 1) != 0, &f) != 0) {
		return 0;
	}
	if (chan_encode(&f, again, sizeof(again), &len) != 0 || len != size - 1 ||
	    memcmp(again, data + 1, len) != 0) {
		abort();
	}
	if (f.type == CHAN_T_RECV) {
		struct chan_recv_args a;
		if (chan_recv_args_parse(&f, &a) != 0) {
			abort();
		}
	} else if (f.type == CHAN_T_READY) {
		struct chan_ready r;
		if (chan_ready_parse(&f, &r) != 0 || strlen(r.text) != f.len - 4) {
			abort();
		}
	} else if (f.type == CHAN_T_ERROR) {
		struct chan_error_info e;
		if (chan_error_parse(&f, &e) != 0 || strlen(e.text) != f.len - 4) {
			abort();
		}
	} else if (f.type == CHAN_T_CONNECT || f.type == CHAN_T_CONNECTED) {
		char text[CHAN_HOST_MAX + 1];
		if (chan_payload_text(&f, text, sizeof(text)) != 0 || strlen(text) != f.len) {
			abort();
		}
	}
	return 0;
}
