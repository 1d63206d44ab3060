/*
 * wsopd's handshake budget: how many TLS handshakes may be in progress at
 * once (--max-handshakes), shared fairly between source addresses.
 *
 * Why: a handshake is work for somebody who has not proved anything yet.
 * Counting them apart from authenticated clients (--max-clients), each
 * with a total deadline, means a stranger who opens connections and then
 * sends nothing (or one byte now and then) can take at most this budget,
 * never the seats of clients with a certificate; and the fair share below
 * keeps one address from holding the whole budget against everybody else.
 *
 * Contract:
 *  - A connection holds an entry from accept until its handshake ends
 *    (gate_leave). At most `max` entries count at once.
 *  - When the budget is full, a newcomer from source S takes the place of
 *    the oldest handshake of the source V that has the most in progress,
 *    provided V has at least two more than S (so a swap never makes the
 *    shares less even); that entry is marked evicted and handed back so
 *    that the caller wakes its thread (shutdown of its socket). Otherwise
 *    gate_enter() answers -EBUSY and the caller waits or closes.
 *  - An evicted entry no longer counts, but stays used (its thread still
 *    owns the socket) until gate_leave(). At most `max` of them linger; a
 *    newcomer that finds no free entry at all gets -EBUSY.
 *  - A source is an IPv4 address or the /64 prefix of an IPv6 address
 *    (what one host can easily hold); an IPv4-mapped IPv6 address is its
 *    IPv4 address.
 *  - Cost: O(max) per call, plus O(max log max) once after each change
 *    when the budget is full.
 *  - Not thread-safe: the caller holds one lock around every call.
 */
#ifndef WSOPD_GATE_H
#define WSOPD_GATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct gate_source {
	uint8_t len; /* 4 (IPv4), 8 (an IPv6 /64) or 0 (unknown: all alike) */
	uint8_t bytes[8];
};

struct gate_entry {
	bool used;
	bool evicted;
	int64_t since_ms; /* when the connection was accepted */
	struct gate_source src;
	void *owner; /* the caller's, handed back on eviction */
};

struct gate {
	struct gate_entry *entries;
	unsigned cap;    /* 2 * max: room for the evicted that linger */
	unsigned max;    /* handshakes that count at once */
	unsigned active; /* used and not evicted */
	/* The largest share and its oldest entry, worked out (by sorting,
	 * O(n log n)) when the budget is full and kept until the next change,
	 * so that many refused newcomers cost O(n) each. */
	unsigned *order;
	bool share_known;
	unsigned most;
	int oldest_of_most;
};

/* 0, -EINVAL (max 0) or -ENOMEM. */
int gate_init(struct gate *g, unsigned max);
void gate_free(struct gate *g);

void gate_source_of(const struct sockaddr *sa, socklen_t len, struct gate_source *out);

/* Admits a handshake from src: its entry index (>= 0), or -EBUSY. When an
 * older handshake had to make room, *evicted is its owner, else NULL. */
int gate_enter(struct gate *g, const struct gate_source *src, int64_t since_ms, void *owner,
               void **evicted);

/* The handshake of entry index ended (or was evicted and its thread is
 * done with the socket). */
void gate_leave(struct gate *g, int index);

/* How many counting handshakes come from src. */
unsigned gate_count(const struct gate *g, const struct gate_source *src);

#endif
