/*
 * A fault-injecting TCP relay for the tests: it listens on 127.0.0.1 and
 * relays each connection it accepts to 127.0.0.1:target, and the test
 * switches at run time what it does to the traffic.
 *
 * Contract:
 *  - fproxy_start() listens (listen_port 0: any free port, see
 *    fproxy_port()) and returns 0, or -1 with the reason on stderr.
 *    fproxy_stop() resets every connection, joins every thread and frees
 *    the proxy; NULL is fine.
 *  - fproxy_set(mode, arg) applies to the connections already open and
 *    to those accepted later; it returns once the listening socket is in
 *    the state the mode wants, and each relay thread applies the mode to
 *    every chunk it reads after that (an idle connection within 50 ms).
 *    The modes:
 *      FP_FORWARD    relay both ways, unchanged.
 *      FP_RESET      reset (RST: SO_LINGER 0, then close) both sides of
 *                    every connection, and every new one as it arrives.
 *      FP_DELAY      hold each chunk read, either way, arg ms first.
 *      FP_BLACKHOLE  accept, read and discard, never answer: new
 *                    connections are not relayed at all, open ones drop
 *                    what either side sends. A connection that lost a
 *                    byte this way is reset as soon as the mode changes
 *                    (it can never be whole again).
 *      FP_DROP_C2S,  relay arg more bytes client to server (resp. server
 *      FP_DROP_S2C   to client) on each connection, counted from the
 *                    switch (or the accept), then reset both sides: what
 *                    goes beyond arg is never delivered.
 *      FP_REFUSE     close the listening socket, so that connecting is
 *                    refused; open connections are left alone. Any other
 *                    mode listens again on the same port.
 *    It returns 0, or -1 when listening again failed (the mode is set all
 *    the same, and the next fproxy_set() tries again).
 *  - fproxy_stats() copies the counters: connections accepted, reset,
 *    and chunks delayed, bytes swallowed, refusals (listener closures).
 *  - Thread-safe: any thread may call fproxy_set() and fproxy_stats().
 */
#ifndef PKCS11WSOP_TESTS_FAULTS_FAULT_PROXY_H
#define PKCS11WSOP_TESTS_FAULTS_FAULT_PROXY_H

enum fproxy_mode {
	FP_FORWARD,
	FP_RESET,
	FP_DELAY,
	FP_BLACKHOLE,
	FP_DROP_C2S,
	FP_DROP_S2C,
	FP_REFUSE,
};
#define FP_MODES 7

struct fproxy_stats {
	unsigned long accepted;
	unsigned long resets;         /* connections reset (both sides) */
	unsigned long delayed_chunks; /* chunks held under FP_DELAY */
	unsigned long swallowed;      /* bytes discarded under FP_BLACKHOLE */
	unsigned long refusals;       /* times the listener was closed */
};

struct fproxy;

int fproxy_start(struct fproxy **out, unsigned listen_port, unsigned target_port);
unsigned fproxy_port(const struct fproxy *p);
int fproxy_set(struct fproxy *p, enum fproxy_mode mode, unsigned arg);
void fproxy_stats(struct fproxy *p, struct fproxy_stats *out);
void fproxy_stop(struct fproxy *p);

/* "forward", "reset", ...: for reports. */
const char *fproxy_mode_name(enum fproxy_mode mode);

#endif
