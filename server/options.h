/*
 * wsopd command line.
 *
 * Contract:
 *  - options_parse() never prints and never exits: it fills *out or writes a
 *    one-line reason into err and returns a value the caller acts on.
 *  - Numbers are strict decimal within documented bounds.
 *  - The listen address is split into host and port here; an IPv6 literal is
 *    written in brackets ("[::1]:18001") and stored without them.
 */
#ifndef WSOPD_OPTIONS_H
#define WSOPD_OPTIONS_H

#include <stddef.h>

#define WSOPD_DEFAULT_LISTEN         "127.0.0.1:18001"
#define WSOPD_DEFAULT_THREADS        4
#define WSOPD_DEFAULT_MAX_CLIENTS    64
#define WSOPD_DEFAULT_MAX_HANDSHAKES 16
#define WSOPD_DEFAULT_HANDSHAKE_S    5
#define WSOPD_DEFAULT_HEAD_S         5
#define WSOPD_DEFAULT_IDLE_S         30
#define WSOPD_MAX_IDLE_S             3600
#define WSOPD_DEFAULT_LOG_LEVEL      4
#define WSOPD_MAX_THREADS            256
#define WSOPD_MAX_CLIENTS_LIMIT      4096
#define WSOPD_MAX_HANDSHAKES_LIMIT   1024
#define WSOPD_MAX_TIMEOUT_S          60
/* Event loops serving connections: 0 is a thread per connection. */
#define WSOPD_EVENT_LOOPS_MAX   64
#define WSOPD_EVENT_LOOPS_AUTO  (-1) /* one per CPU */
#define WSOPD_DEFAULT_LOOP_BUSY 80   /* percent */
/* Activation tokens: lifetime and idle time in memory, seconds. */
#define WSOPD_DEFAULT_ACTIVATION_TTL  28800
#define WSOPD_DEFAULT_ACTIVATION_IDLE 900
#define WSOPD_ACTIVATION_TTL_MIN      1
#define WSOPD_ACTIVATION_TTL_MAX      2592000 /* 30 days */
#define WSOPD_ACTIVATION_IDLE_MAX     86400
/* The login lockout: wrong passphrases in a row (0: never locks) and the
 * seconds a locked softcard refuses every passphrase. */
#define WSOPD_LOGIN_FAILURES_MAX    1000
#define WSOPD_DEFAULT_LOGIN_LOCKOUT 900
#define WSOPD_LOGIN_LOCKOUT_MAX     86400

struct wsopd_options {
	char host[256]; /* without brackets */
	unsigned port;  /* 0 picks a free port */
	const char *cert_path;
	const char *key_path;
	const char *ca_path;
	const char *store_dir;   /* a folder or a PostgreSQL connection string */
	const char *master_path; /* NULL: <store_dir>/master.key */
	unsigned threads;
	unsigned max_clients;
	unsigned max_handshakes;      /* TLS handshakes in progress at once */
	unsigned handshake_timeout_s; /* total, from the accept */
	unsigned head_timeout_s;      /* a request head, from its first byte */
	unsigned idle_timeout_s;      /* a keep-alive connection without a request */
	int log_level;
	unsigned activation_ttl;     /* seconds */
	unsigned activation_idle;    /* seconds */
	unsigned max_login_failures; /* 0: never locked */
	unsigned login_lockout;      /* seconds */
	int event_loops;             /* 0..WSOPD_EVENT_LOOPS_MAX or _AUTO */
	unsigned loop_busy_percent;  /* 0..100: when an event loop counts as busy */
};

enum options_result {
	OPTIONS_RUN = 0,     /* *out is complete */
	OPTIONS_HELP = 1,    /* --help given */
	OPTIONS_VERSION = 2, /* --version given */
	OPTIONS_ERROR = 3,   /* err holds the reason */
};

/* argv strings must outlive *out (paths are not copied). */
enum options_result options_parse(int argc, char **argv, struct wsopd_options *out, char *err,
                                  size_t err_cap);

/* Splits "HOST:PORT" or "[V6]:PORT"; 0 or -EINVAL. host_cap bytes incl. NUL. */
int options_split_listen(const char *text, char *host, size_t host_cap, unsigned *port);

/* The usage text, for --help and after an error. */
const char *options_usage(void);

#endif
