/*
 * The confined helper, run as the library runs it, against a real wsopd:
 * one test per behaviour of helper/README.md.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/e2e/e2e.h"
#include "tests/e2e/under_asan.h"
#include "tests/helper/proc_status.h"
#include "tests/helper/rogue_tls.h"
#include "tests/helper/spawn.h"
#include "tests/helper/weak_cert.h"

/* Every test that needs a confined helper skips in an ASan build. */
#define SKIP_IF_CONFINEMENT_UNTESTABLE()                                                           \
	do {                                                                                       \
		if (UNDER_ASAN) {                                                                  \
			print_message(                                                             \
			    "skipped: an ASan helper is killed by its own sandbox "                \
			    "(ASan needs madvise); run this test in a non-ASan build\n");          \
			skip();                                                                    \
		}                                                                                  \
	} while (0)

#define WAIT_MS 10000
static const char health_request[] = "GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n";

static struct e2e_server server; /* shared by the tests that need a normal one */
static const char *helper_path;
static const char *openat_path;
static uint8_t frame_buf[CHAN_MAX_FRAME];

/* Writes a configuration for HOST host and PORT port into the test dir;
 * cert/key/auth are PKI basenames (or absolute paths). Returns its path
 * (static). */
static const char *write_config_at(const char *name, const char *host, const char *port,
                                   const char *cert, const char *key, const char *auth)
{
	static char path[E2E_PATH_MAX + 128];
	char dir[E2E_PATH_MAX + 64];
	char full[3][E2E_PATH_MAX + 64];
	const char *names[3] = { cert, key, auth };

	snprintf(dir, sizeof(dir), "%s/%s", e2e_env.dir, name);
	(void)mkdir(dir, 0700);
	for (int i = 0; i < 3; i++) {
		if (names[i][0] == '/')
			snprintf(full[i], sizeof(full[i]), "%s", names[i]);
		else
			snprintf(full[i], sizeof(full[i]), "%s/%s", e2e_env.pki, names[i]);
	}
	snprintf(path, sizeof(path), "%s/pkcs11wsop.cfg", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f,
	        "HOST %s\nPORT %s\nCERT %s\nKEY %s\nAUTH %s\nLOGLEVEL 6\n"
	        "LOGFILEPATH %s/helper.log\n",
	        host, port, full[0], full[1], full[2], dir);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* The same for the shared server, as "localhost". */
static const char *write_config(const char *name, const char *cert, const char *key,
                                const char *auth)
{
	return write_config_at(name, "localhost", server.port, cert, key, auth);
}

static const char *default_config(void)
{
	return write_config("default", "client.crt", "client.key", "ca.crt");
}

static void expect_frame(struct helper_proc *h, struct chan_frame *f, uint16_t type, uint32_t id)
{
	int rc = helper_read(h, frame_buf, f, WAIT_MS);

	assert_int_equal(rc, 0);
	if (f->type == CHAN_T_ERROR && type != CHAN_T_ERROR) {
		struct chan_error_info e;
		assert_int_equal(chan_error_parse(f, &e), 0);
		print_error("unexpected ERROR %s: %s\n", chan_error_name(e.code), e.text);
	}
	assert_int_equal(f->type, type);
	assert_int_equal(f->id, id);
}

static uint32_t expect_error(struct helper_proc *h, uint32_t id, struct chan_error_info *e)
{
	struct chan_frame f;

	expect_frame(h, &f, CHAN_T_ERROR, id);
	assert_int_equal(chan_error_parse(&f, e), 0);
	print_message("ERROR %s: %s\n", chan_error_name(e->code), e->text);
	return e->code;
}

static void start_ready(const char *exe, const char *config, struct helper_proc *h)
{
	struct chan_frame f;
	struct chan_ready r;

	assert_int_equal(helper_spawn(exe, config, h), 0);
	expect_frame(h, &f, CHAN_T_READY, 0);
	assert_int_equal(chan_ready_parse(&f, &r), 0);
	assert_int_equal(r.pid, (uint32_t)h->pid);
}

/* CONNECT over a fresh TCP connection to port; returns the frame type
 * answered (CONNECTED: *conn set; ERROR: *e set). */
static uint16_t try_connect(struct helper_proc *h, const char *port, const char *host, uint32_t id,
                            uint32_t *conn, struct chan_error_info *e)
{
	struct chan_frame f = { .type = CHAN_T_CONNECT, .id = id };
	int fd = helper_tcp_connect(port);

	assert_true(fd >= 0);
	f.payload = (const uint8_t *)host;
	f.len = (uint32_t)strlen(host);
	assert_int_equal(chan_send(h->chan, &f, fd, WAIT_MS), 0);
	close(fd); /* the helper holds its own copy */
	assert_int_equal(helper_read(h, frame_buf, &f, WAIT_MS), 0);
	assert_int_equal(f.id, id);
	if (f.type == CHAN_T_CONNECTED) {
		char proto[CHAN_PROTO_MAX + 1];
		assert_int_equal(chan_payload_text(&f, proto, sizeof(proto)), 0);
		assert_string_equal(proto, "TLSv1.3");
		assert_int_not_equal(f.conn, 0);
		*conn = f.conn;
	} else {
		assert_int_equal(f.type, CHAN_T_ERROR);
		assert_int_equal(f.conn, 0);
		assert_int_equal(chan_error_parse(&f, e), 0);
		print_message("CONNECT: ERROR %s: %s\n", chan_error_name(e->code), e->text);
	}
	return f.type;
}

static uint32_t connect_ok(struct helper_proc *h, uint32_t id)
{
	uint32_t conn = 0;
	struct chan_error_info e;

	assert_int_equal(try_connect(h, server.port, "localhost", id, &conn, &e), CHAN_T_CONNECTED);
	return conn;
}

/* Reads the rest of an answer with RECV until its text contains needle. */
static void read_until(struct helper_proc *h, uint32_t conn, uint32_t id, char *acc, size_t cap,
                       size_t *len, const char *needle)
{
	while (strstr(acc, needle) == NULL) {
		uint8_t args[CHAN_RECV_ARGS_LEN];
		struct chan_recv_args a = { .max_bytes = 4096, .timeout_ms = 5000 };
		struct chan_frame f;

		assert_int_equal(chan_recv_args_encode(&a, args), 0);
		assert_int_equal(helper_write(h, CHAN_T_RECV, 0, id, conn, args, sizeof(args)), 0);
		expect_frame(h, &f, CHAN_T_DATA, id);
		assert_true(*len + f.len < cap);
		memcpy(acc + *len, f.payload, f.len);
		*len += f.len;
		acc[*len] = '\0';
	}
}

/* GET /health with SEND+REPLY_DATA; asserts a whole 200 answer. */
static void health_ok(struct helper_proc *h, uint32_t conn, uint32_t id)
{
	char acc[8192];
	size_t len = 0;
	struct chan_frame f;

	assert_int_equal(helper_write(h, CHAN_T_SEND, CHAN_F_REPLY_DATA, id, conn, health_request,
	                              sizeof(health_request) - 1),
	                 0);
	expect_frame(h, &f, CHAN_T_DATA, id);
	assert_int_equal(f.conn, conn);
	assert_true(f.len < sizeof(acc));
	memcpy(acc, f.payload, f.len);
	len = f.len;
	acc[len] = '\0';
	read_until(h, conn, id + 1, acc, sizeof(acc), &len, "\"status\":\"ok\"");
	assert_memory_equal(acc, "HTTP/1.1 200", 12);
}

static void read_proc_status(pid_t pid, const char *field, char *out, size_t cap)
{
	assert_true(proc_status_field(pid, field, out, cap));
}

static bool log_contains(const char *config, const char *text)
{
	char path[E2E_PATH_MAX + 64], buf[65536];

	snprintf(path, sizeof(path), "%.*s/helper.log", (int)(strrchr(config, '/') - config),
	         config);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return false;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, text) != NULL;
}

static void test_ready_then_confined(void **state)
{
	struct helper_proc h;
	char v[64];

	SKIP_IF_CONFINEMENT_UNTESTABLE();
	const char *config = default_config();
	start_ready(helper_path, config, &h);
	read_proc_status(h.pid, "Seccomp", v, sizeof(v));
	assert_string_equal(v, "2");
	read_proc_status(h.pid, "NoNewPrivs", v, sizeof(v));
	assert_string_equal(v, "1");
	helper_stop(&h);
	assert_true(WIFEXITED(h.status));
	assert_int_equal(WEXITSTATUS(h.status), 0);
	assert_true(log_contains(config, "credentials loaded"));
	assert_true(log_contains(config, "confinement applied"));
}

static void test_ping_pong(void **state)
{
	struct helper_proc h;
	struct chan_frame f;

	SKIP_IF_CONFINEMENT_UNTESTABLE();
	start_ready(helper_path, default_config(), &h);
	assert_int_equal(helper_write(&h, CHAN_T_PING, 0, 7, 0, NULL, 0), 0);
	expect_frame(&h, &f, CHAN_T_PONG, 7);
	helper_stop(&h);
}

static void test_request_with_reply_data(void **state)
{
	struct helper_proc h;

	SKIP_IF_CONFINEMENT_UNTESTABLE();
	const char *config = default_config();
	start_ready(helper_path, config, &h);
	uint32_t conn = connect_ok(&h, 1);
	health_ok(&h, conn, 10);
	/* keep-alive: a second request on the same connection */
	health_ok(&h, conn, 20);
	helper_stop(&h);
	assert_true(log_contains(config, "TLS handshake done (TLSv1.3"));
}

static void test_send_without_reply_then_recv(void **state)
{
	struct helper_proc h;
	struct chan_frame f;
	char acc[8192] = "";
	size_t len = 0;

	SKIP_IF_CONFINEMENT_UNTESTABLE();
	start_ready(helper_path, default_config(), &h);
	uint32_t conn = connect_ok(&h, 1);
	assert_int_equal(
	    helper_write(&h, CHAN_T_SEND, 0, 2, conn, health_request, sizeof(health_request) - 1),
	    0);
	expect_frame(&h, &f, CHAN_T_SENT, 2);
	assert_int_equal(f.conn, conn);
	read_until(&h, conn, 3, acc, sizeof(acc), &len, "\"status\":\"ok\"");
	helper_stop(&h);
}

#define MANY 8

static void test_eight_connections_interleaved(void **state)
{
	struct helper_proc h;
	struct chan_frame f;
	uint32_t conns[MANY];
	size_t got[MANY] = { 0 };

	SKIP_IF_CONFINEMENT_UNTESTABLE();
	start_ready(helper_path, default_config(), &h);
	/* All handshakes in flight at once. */
	for (uint32_t i = 0; i < MANY; i++) {
		struct chan_frame c = { .type = CHAN_T_CONNECT,
			                .id = 100 + i,
			                .payload = (const uint8_t *)"localhost",
			                .len = 9 };
		int fd = helper_tcp_connect(server.port);
		assert_true(fd >= 0);
		assert_int_equal(chan_send(h.chan, &c, fd, WAIT_MS), 0);
		close(fd);
	}
	for (int i = 0; i < MANY; i++) {
		assert_int_equal(helper_read(&h, frame_buf, &f, WAIT_MS), 0);
		assert_int_equal(f.type, CHAN_T_CONNECTED);
		assert_in_range(f.id, 100, 100 + MANY - 1);
		conns[f.id - 100] = f.conn;
	}
	for (int i = 0; i < MANY; i++) {
		for (int j = 0; j < i; j++)
			assert_int_not_equal(conns[i], conns[j]);
	}
	/* All requests in flight at once, sent in reverse order. */
	for (int i = MANY - 1; i >= 0; i--) {
		assert_int_equal(helper_write(&h, CHAN_T_SEND, CHAN_F_REPLY_DATA, 200 + (uint32_t)i,
		                              conns[i], health_request, sizeof(health_request) - 1),
		                 0);
	}
	for (int i = 0; i < MANY; i++) {
		assert_int_equal(helper_read(&h, frame_buf, &f, WAIT_MS), 0);
		assert_int_equal(f.type, CHAN_T_DATA);
		assert_in_range(f.id, 200, 200 + MANY - 1);
		assert_int_equal(f.conn, conns[f.id - 200]);
		assert_memory_equal(f.payload, "HTTP/1.1 200", 12);
		got[f.id - 200]++;
	}
	for (int i = 0; i < MANY; i++)
		assert_int_equal(got[i], 1);
	helper_stop(&h);
}

static void test_recv_timeout(void **state)
{
	struct helper_proc h;
	struct chan_error_info e;
	uint8_t args[CHAN_RECV_ARGS_LEN];
	struct chan_recv_args a = { .max_bytes = 100, .timeout_ms = 300 };

	SKIP_IF_CONFINEMENT_UNTESTABLE();
	start_ready(helper_path, default_config(), &h);
	uint32_t conn = connect_ok(&h, 1);
	assert_int_equal(chan_recv_args_encode(&a, args), 0);
	long long t0 = e2e_now_ms();
	assert_int_equal(helper_write(&h, CHAN_T_RECV, 0, 2, conn, args, sizeof(args)), 0);
	assert_int_equal(expect_error(&h, 2, &e), CHAN_E_TIMEOUT);
	long long took = e2e_now_ms() - t0;
	assert_in_range(took, 280, 5000);
	/* timeout 0: only what is there, at once */
	a.timeout_ms = 0;
	assert_int_equal(chan_recv_args_encode(&a, args), 0);
	assert_int_equal(helper_write(&h, CHAN_T_RECV, 0, 3, conn, args, sizeof(args)), 0);
	assert_int_equal(expect_error(&h, 3, &e), CHAN_E_TIMEOUT);
	/* the connection still works */
	health_ok(&h, conn, 10);
	helper_stop(&h);
}

static void test_close(void **state)
{
	struct helper_proc h;
	struct chan_frame f;
	struct chan_error_info e;

	SKIP_IF_CONFINEMENT_UNTESTABLE();
	start_ready(helper_path, default_config(), &h);
	uint32_t conn = connect_ok(&h, 1);
	assert_int_equal(helper_write(&h, CHAN_T_CLOSE, 0, 2, conn, NULL, 0), 0);
	expect_frame(&h, &f, CHAN_T_CLOSED, 2);
	assert_int_equal(f.conn, conn);
	assert_int_equal(helper_write(&h, CHAN_T_SEND, 0, 3, conn, "x", 1), 0);
	assert_int_equal(expect_error(&h, 3, &e), CHAN_E_NO_CONN);
	assert_int_equal(helper_write(&h, CHAN_T_CLOSE, 0, 4, conn, NULL, 0), 0);
	assert_int_equal(expect_error(&h, 4, &e), CHAN_E_NO_CONN);
	/* CLOSE cancels a request in progress without answering it */
	conn = connect_ok(&h, 5);
	uint8_t args[CHAN_RECV_ARGS_LEN];
	struct chan_recv_args a = { .max_bytes = 100, .timeout_ms = 60000 };
	assert_int_equal(chan_recv_args_encode(&a, args), 0);
	assert_int_equal(helper_write(&h, CHAN_T_RECV, 0, 6, conn, args, sizeof(args)), 0);
	assert_int_equal(helper_write(&h, CHAN_T_CLOSE, 0, 7, conn, NULL, 0), 0);
	expect_frame(&h, &f, CHAN_T_CLOSED, 7);
	helper_stop(&h);
}

/* The certificate is checked against the configured HOST: a server of
 * the right CA for another name (on PORT) fails, for a name and for an
 * address literal (checked against the IP SANs). */
static void test_server_name_mismatch(void **state)
{
	struct helper_proc h;
	struct e2e_server wrong;
	struct chan_error_info e;
	uint32_t conn;

	SKIP_IF_CONFINEMENT_UNTESTABLE();
	assert_int_equal(e2e_server_start_as(&wrong, &e2e_env, "wrong-name-server", NULL), 0);
	const char *config = write_config_at("mismatch", "localhost", wrong.port, "client.crt",
	                                     "client.key", "ca.crt");
	start_ready(helper_path, config, &h);
	assert_int_equal(try_connect(&h, wrong.port, "localhost", 1, &conn, &e), CHAN_T_ERROR);
	assert_int_equal(e.code, CHAN_E_TLS_NAME_MISMATCH);
	helper_stop(&h);
	assert_true(log_contains(config, "TLS handshake failed"));

	start_ready(helper_path,
	            write_config_at("ip-right", "127.0.0.1", server.port, "client.crt",
	                            "client.key", "ca.crt"),
	            &h);
	assert_int_equal(try_connect(&h, server.port, "127.0.0.1", 2, &conn, &e), CHAN_T_CONNECTED);
	helper_stop(&h);
	start_ready(helper_path,
	            write_config_at("ip-wrong", "127.0.0.1", wrong.port, "client.crt", "client.key",
	                            "ca.crt"),
	            &h);
	assert_int_equal(try_connect(&h, wrong.port, "127.0.0.1", 3, &conn, &e), CHAN_T_ERROR);
	assert_int_equal(e.code, CHAN_E_TLS_NAME_MISMATCH);
	helper_stop(&h);
	(void)e2e_server_stop(&wrong, SIGTERM);
}

/* The application hands the helper the socket and names the host, and it
 * is not trusted: here it connects to its own server, which holds a
 * certificate of the AUTH CA for another name, and names that name. The
 * helper verifies against its own HOST and PORT only, so it refuses
 * before any TLS byte, never offering the client certificate. */
static void test_connect_to_another_server_is_refused(void **state)
{
	struct rogue_tls rogue;
	struct helper_proc h;
	struct chan_error_info e;
	uint32_t conn = 0;
	char cert[E2E_PATH_MAX + 32], key[E2E_PATH_MAX + 32], ca[E2E_PATH_MAX + 32];

	SKIP_IF_CONFINEMENT_UNTESTABLE();
	snprintf(cert, sizeof(cert), "%s/wrong-name-server.crt", e2e_env.pki);
	snprintf(key, sizeof(key), "%s/wrong-name-server.key", e2e_env.pki);
	snprintf(ca, sizeof(ca), "%s/ca.crt", e2e_env.pki);
	assert_int_equal(rogue_tls_start(&rogue, cert, key, ca), 0);
	const char *config =
	    write_config_at("rogue", "localhost", rogue.port, "client.crt", "client.key", "ca.crt");
	start_ready(helper_path, config, &h);

	/* the name in the rogue certificate: refused, not a byte sent */
	assert_int_equal(try_connect(&h, rogue.port, "other.invalid", 1, &conn, &e), CHAN_T_ERROR);
	assert_int_equal(e.code, CHAN_E_BAD_REQUEST);
	assert_int_equal(rogue_tls_wait_done(&rogue, 1, WAIT_MS), 1);
	assert_int_equal(atomic_load(&rogue.hellos), 0);

	/* HOST on a socket to that server: the certificate does not name it */
	assert_int_equal(try_connect(&h, rogue.port, "localhost", 2, &conn, &e), CHAN_T_ERROR);
	assert_int_equal(e.code, CHAN_E_TLS_NAME_MISMATCH);
	assert_int_equal(rogue_tls_wait_done(&rogue, 2, WAIT_MS), 2);
	assert_int_equal(atomic_load(&rogue.hellos), 1);
	assert_int_equal(atomic_load(&rogue.handshakes), 0);
	assert_int_equal(atomic_load(&rogue.client_certs), 0);

	/* the genuine server for HOST, but not on PORT */
	assert_int_equal(try_connect(&h, server.port, "localhost", 3, &conn, &e), CHAN_T_ERROR);
	assert_int_equal(e.code, CHAN_E_BAD_REQUEST);
	assert_non_null(strstr(e.text, rogue.port));
	helper_stop(&h);
	rogue_tls_stop(&rogue);
	assert_true(log_contains(config, "'other.invalid' is not a configured server"));
}

/* Answers of several records, one ending exactly on a record boundary:
 * SEND+REPLY_DATA then RECV bring every byte in order, whether the helper
 * gathered the records into one DATA or not. */
static void test_multi_record_answers_arrive_whole(void **state)
{
	static const size_t sizes[] = { 16384, 3 * 16384, 3 * 16384 + 100, 100000 };
	static uint8_t got[100000];
	char cert[E2E_PATH_MAX + 32], key[E2E_PATH_MAX + 32], ca[E2E_PATH_MAX + 32];

	SKIP_IF_CONFINEMENT_UNTESTABLE();
	snprintf(cert, sizeof(cert), "%s/server.crt", e2e_env.pki);
	snprintf(key, sizeof(key), "%s/server.key", e2e_env.pki);
	snprintf(ca, sizeof(ca), "%s/ca.crt", e2e_env.pki);
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct rogue_tls peer;
		struct helper_proc h;
		struct chan_frame f;
		struct chan_error_info e;
		uint32_t conn = 0;
		uint32_t id = 10;
		size_t len = 0;

		assert_int_equal(rogue_tls_start_answering(&peer, cert, key, ca, sizes[k]), 0);
		start_ready(helper_path,
		            write_config_at("records", "localhost", peer.port, "client.crt",
		                            "client.key", "ca.crt"),
		            &h);
		assert_int_equal(try_connect(&h, peer.port, "localhost", 1, &conn, &e),
		                 CHAN_T_CONNECTED);
		assert_int_equal(helper_write(&h, CHAN_T_SEND, CHAN_F_REPLY_DATA, id, conn,
		                              (const uint8_t *)"go", 2),
		                 0);
		for (;;) {
			expect_frame(&h, &f, CHAN_T_DATA, id);
			assert_true(f.len <= sizes[k] - len);
			memcpy(got + len, f.payload, f.len);
			len += f.len;
			if (len == sizes[k])
				break;
			uint8_t args[CHAN_RECV_ARGS_LEN];
			struct chan_recv_args a = { .max_bytes = CHAN_MAX_PAYLOAD,
				                    .timeout_ms = 5000 };
			assert_int_equal(chan_recv_args_encode(&a, args), 0);
			assert_int_equal(
			    helper_write(&h, CHAN_T_RECV, 0, ++id, conn, args, sizeof(args)), 0);
		}
		for (size_t i = 0; i < len; i++)
			assert_int_equal(got[i], rogue_tls_byte(i));
		print_message("%zu bytes in %u DATA\n", len, id - 9);
		helper_stop(&h);
		rogue_tls_stop(&peer);
	}
}

/* A blocking socket (a CONNECT frame may carry any fd) to a server that
 * never answers the handshake: the helper makes it non-blocking itself,
 * so the channel and other connections go on being served. */
static void test_blocking_socket_does_not_stall_the_helper(void **state)
{
	struct helper_proc h;
	struct chan_frame f = {
		.type = CHAN_T_CONNECT, .id = 1, .payload = (const uint8_t *)"localhost", .len = 9
	};
	struct sockaddr_in at = { .sin_family = AF_INET };

	SKIP_IF_CONFINEMENT_UNTESTABLE();
	/* Same port as the server (the helper checks PORT), another loopback
	 * address; never accepted: the kernel completes TCP, nobody speaks. */
	at.sin_port = htons((uint16_t)atoi(server.port));
	at.sin_addr.s_addr = htonl(0x7f000002);
	int silent = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(silent >= 0);
	assert_int_equal(bind(silent, (struct sockaddr *)&at, sizeof(at)), 0);
	assert_int_equal(listen(silent, 4), 0);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&at, sizeof(at)), 0);
	assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);

	start_ready(helper_path, default_config(), &h);
	assert_int_equal(chan_send(h.chan, &f, fd, WAIT_MS), 0);
	close(fd);
	assert_int_equal(helper_write(&h, CHAN_T_PING, 0, 2, 0, NULL, 0), 0);
	assert_int_equal(helper_read(&h, frame_buf, &f, WAIT_MS), 0);
	assert_int_equal(f.type, CHAN_T_PONG);
	assert_int_equal(f.id, 2);
	uint32_t conn = connect_ok(&h, 3);
	health_ok(&h, conn, 10);
	/* The silent server goes away: the pending handshake fails. */
	close(silent);
	expect_frame(&h, &f, CHAN_T_ERROR, 1);
	helper_stop(&h);
	assert_true(WIFEXITED(h.status) && WEXITSTATUS(h.status) == 0);
}

/* Started by root (as the application may be), the helper keeps no
 * capability and no root id once it has loaded its credentials. */
static void test_root_start_leaves_no_privilege(void **state)
{
	static const char *const sets[] = { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb" };
	struct helper_proc h;
	char v[128], ids[64];
	const char *uid = getenv("PKCS11WSOP_HELPER_UID");
	const char *gid = getenv("PKCS11WSOP_HELPER_GID");

	SKIP_IF_CONFINEMENT_UNTESTABLE();
	if (getuid() != 0 || geteuid() != 0) {
		print_message("skipped: the drop from root is tested only when run as root\n");
		skip();
	}
	assert_non_null(uid);
	assert_non_null(gid);
	const char *config = default_config();
	start_ready(helper_path, config, &h);
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		read_proc_status(h.pid, sets[i], v, sizeof(v));
		print_message("%s: %s\n", sets[i], v);
		assert_string_equal(v, "0000000000000000");
	}
	snprintf(ids, sizeof(ids), "%s\t%s\t%s\t%s", uid, uid, uid, uid);
	read_proc_status(h.pid, "Uid", v, sizeof(v));
	assert_string_equal(v, ids);
	snprintf(ids, sizeof(ids), "%s\t%s\t%s\t%s", gid, gid, gid, gid);
	read_proc_status(h.pid, "Gid", v, sizeof(v));
	assert_string_equal(v, ids);
	read_proc_status(h.pid, "Groups", v, sizeof(v));
	assert_string_equal(v, "");
	/* and it still works: the log fd, the key in memory, TLS */
	uint32_t conn = connect_ok(&h, 1);
	health_ok(&h, conn, 2);
	helper_stop(&h);
	assert_true(WIFEXITED(h.status) && WEXITSTATUS(h.status) == 0);
	assert_true(log_contains(config, "started as root, now uid"));
}

static void test_unknown_ca(void **state)
{
	struct helper_proc h;
	struct chan_error_info e;
	uint32_t conn;

	SKIP_IF_CONFINEMENT_UNTESTABLE();
	start_ready(helper_path,
	            write_config("other-ca", "client.crt", "client.key", "other-ca.crt"), &h);
	assert_int_equal(try_connect(&h, server.port, "localhost", 1, &conn, &e), CHAN_T_ERROR);
	assert_int_equal(e.code, CHAN_E_TLS_UNKNOWN_CA);
	helper_stop(&h);
}

/* With TLS 1.3 the client's handshake ends before the server has checked
 * the client certificate; the server's refusal (an alert) arrives on the
 * first read, and the helper reports it there as our certificate refused
 * (CREDENTIALS: no retry can mend it). */
static void test_expired_client_certificate(void **state)
{
	struct helper_proc h;
	struct chan_error_info e;
	uint32_t conn = 0;

	SKIP_IF_CONFINEMENT_UNTESTABLE();
	start_ready(helper_path,
	            write_config("expired", "expired-client.crt", "expired-client.key", "ca.crt"),
	            &h);
	if (try_connect(&h, server.port, "localhost", 1, &conn, &e) == CHAN_T_CONNECTED) {
		assert_int_equal(helper_write(&h, CHAN_T_SEND, CHAN_F_REPLY_DATA, 2, conn,
		                              health_request, sizeof(health_request) - 1),
		                 0);
		(void)expect_error(&h, 2, &e);
	}
	assert_int_equal(e.code, CHAN_E_CREDENTIALS);
	assert_non_null(strstr(e.text, "our certificate refused"));
	assert_non_null(strstr(e.text, "expired"));
	helper_stop(&h);
}

/* Writes from's bytes into to (how: O_TRUNC or O_APPEND), mode set. */
static void copy_into(const char *from, const char *to, mode_t mode, int how)
{
	char buf[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC);
	int out = open(to, O_WRONLY | O_CREAT | how | O_CLOEXEC, 0600);

	assert_true(in >= 0 && out >= 0);
	ssize_t n = read(in, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(write(out, buf, (size_t)n), n);
	assert_int_equal(fchmod(out, mode), 0);
	close(in);
	close(out);
}

static void copy_file(const char *from, const char *to, mode_t mode)
{
	copy_into(from, to, mode, O_TRUNC);
}

/* A CERT file with the chain after the leaf is read to its end, as
 * SSL_CTX_use_certificate_chain_file reads it, and the handshake works. */
static void test_certificate_file_with_chain(void **state)
{
	struct helper_proc h;
	char leaf[E2E_PATH_MAX + 32], ca[E2E_PATH_MAX + 32], chain[E2E_PATH_MAX + 32];

	SKIP_IF_CONFINEMENT_UNTESTABLE();
	snprintf(leaf, sizeof(leaf), "%s/client.crt", e2e_env.pki);
	snprintf(ca, sizeof(ca), "%s/ca.crt", e2e_env.pki);
	snprintf(chain, sizeof(chain), "%s/chain-client.crt", e2e_env.dir);
	copy_into(leaf, chain, 0644, O_TRUNC);
	copy_into(ca, chain, 0644, O_APPEND);
	start_ready(helper_path, write_config("chain", chain, "client.key", "ca.crt"), &h);
	uint32_t conn = connect_ok(&h, 1);
	health_ok(&h, conn, 2);
	helper_stop(&h);
	assert_true(WIFEXITED(h.status) && WEXITSTATUS(h.status) == 0);
}

static void test_key_readable_by_others_refused(void **state)
{
	struct helper_proc h;
	struct chan_error_info e;
	char src[E2E_PATH_MAX + 32], key[E2E_PATH_MAX + 32];

	snprintf(src, sizeof(src), "%s/client.key", e2e_env.pki);
	snprintf(key, sizeof(key), "%s/open-client.key", e2e_env.dir);
	copy_file(src, key, 0644);
	const char *config = write_config("open-key", "client.crt", key, "ca.crt");
	assert_int_equal(helper_spawn(helper_path, config, &h), 0);
	assert_int_equal(expect_error(&h, 0, &e), CHAN_E_CREDENTIALS);
	assert_non_null(strstr(e.text, "0644"));
	assert_non_null(strstr(e.text, key));
	int status = helper_reap(&h, WAIT_MS);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	helper_stop(&h);
	assert_true(log_contains(config, "too open"));
}

/* The helper started on config answers ERROR CREDENTIALS naming needle
 * instead of READY, and exits 1. */
static void expect_start_refused(const char *config, const char *needle)
{
	struct helper_proc h;
	struct chan_error_info e;

	assert_int_equal(helper_spawn(helper_path, config, &h), 0);
	assert_int_equal(expect_error(&h, 0, &e), CHAN_E_CREDENTIALS);
	assert_non_null(strstr(e.text, needle));
	int status = helper_reap(&h, WAIT_MS);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	helper_stop(&h);
}

static void test_missing_certificate_refused(void **state)
{
	expect_start_refused(write_config("no-cert", "nonexistent.crt", "client.key", "ca.crt"),
	                     "nonexistent.crt");
}

/* A key that belongs to another certificate is refused before READY. */
static void test_key_of_another_certificate_refused(void **state)
{
	expect_start_refused(write_config("wrong-key", "client.crt", "client2.key", "ca.crt"),
	                     "does not match");
}

/* A credential that only the TLS layer refuses (a key below its security
 * level) passes the start, since the TLS context is built at the first
 * connection; that CONNECT is refused as CREDENTIALS, and so is the next. */
static void test_key_refused_by_tls_at_first_connect(void **state)
{
	struct helper_proc h;
	struct chan_error_info e;
	uint32_t conn = 0;
	char cert[E2E_PATH_MAX + 32], key[E2E_PATH_MAX + 32];

	SKIP_IF_CONFINEMENT_UNTESTABLE();
	assert_int_equal(weak_cert_write(e2e_env.pki, e2e_env.dir), 0);
	snprintf(cert, sizeof(cert), "%s/weak-client.crt", e2e_env.dir);
	snprintf(key, sizeof(key), "%s/weak-client.key", e2e_env.dir);
	start_ready(helper_path, write_config("weak-key", cert, key, "ca.crt"), &h);
	for (uint32_t id = 1; id <= 2; id++) {
		assert_int_equal(try_connect(&h, server.port, "localhost", id, &conn, &e),
		                 CHAN_T_ERROR);
		assert_int_equal(e.code, CHAN_E_CREDENTIALS);
		assert_non_null(strstr(e.text, "cannot use CERT"));
		assert_non_null(strstr(e.text, cert));
	}
	helper_stop(&h);
}

static void test_malformed_frame_ends_helper(void **state)
{
	struct helper_proc h;
	uint8_t junk[40];

	SKIP_IF_CONFINEMENT_UNTESTABLE();
	start_ready(helper_path, default_config(), &h);
	memset(junk, 0xa5, sizeof(junk));
	assert_int_equal(send(h.chan, junk, sizeof(junk), MSG_NOSIGNAL), (ssize_t)sizeof(junk));
	int status = helper_reap(&h, WAIT_MS);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	/* never answered: the next record is the end of the channel */
	assert_int_equal(recv(h.chan, frame_buf, CHAN_MAX_FRAME, MSG_DONTWAIT), 0);
	helper_stop(&h);
}

static void test_channel_eof_ends_helper(void **state)
{
	struct helper_proc h;

	SKIP_IF_CONFINEMENT_UNTESTABLE();
	start_ready(helper_path, default_config(), &h);
	(void)connect_ok(&h, 1);
	close(h.chan);
	h.chan = -1;
	int status = helper_reap(&h, WAIT_MS);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_forbidden_syscall_kills_helper(void **state)
{
	struct helper_proc h;
	struct chan_frame f;
	char marker[E2E_PATH_MAX + 64];

	SKIP_IF_CONFINEMENT_UNTESTABLE();
	const char *config = write_config("openat", "client.crt", "client.key", "ca.crt");
	snprintf(marker, sizeof(marker), "%.*s/helper-openat-once",
	         (int)(strrchr(config, '/') - config), config);
	int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);

	start_ready(openat_path, config, &h);
	assert_int_equal(access(marker, F_OK), -1); /* taken before confinement */
	uint32_t conn = connect_ok(&h, 1);
	assert_int_equal(helper_write(&h, CHAN_T_SEND, CHAN_F_REPLY_DATA, 2, conn, health_request,
	                              sizeof(health_request) - 1),
	                 0);
	int status = helper_reap(&h, WAIT_MS);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
	assert_int_not_equal(helper_read(&h, frame_buf, &f, 1000), 0);
	helper_stop(&h);

	/* without the marker the same binary is a normal helper */
	start_ready(openat_path, config, &h);
	conn = connect_ok(&h, 1);
	health_ok(&h, conn, 2);
	helper_stop(&h);
	assert_true(WIFEXITED(h.status) && WEXITSTATUS(h.status) == 0);
}

static int suite_setup(void **state)
{
	return e2e_server_start(&server, &e2e_env, NULL) == 0 ? 0 : -1;
}

static int suite_teardown(void **state)
{
	return e2e_server_stop(&server, SIGTERM) == -1 ? -1 : 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ready_then_confined),
		cmocka_unit_test(test_ping_pong),
		cmocka_unit_test(test_request_with_reply_data),
		cmocka_unit_test(test_send_without_reply_then_recv),
		cmocka_unit_test(test_eight_connections_interleaved),
		cmocka_unit_test(test_recv_timeout),
		cmocka_unit_test(test_close),
		cmocka_unit_test(test_server_name_mismatch),
		cmocka_unit_test(test_connect_to_another_server_is_refused),
		cmocka_unit_test(test_multi_record_answers_arrive_whole),
		cmocka_unit_test(test_blocking_socket_does_not_stall_the_helper),
		cmocka_unit_test(test_root_start_leaves_no_privilege),
		cmocka_unit_test(test_unknown_ca),
		cmocka_unit_test(test_expired_client_certificate),
		cmocka_unit_test(test_key_readable_by_others_refused),
		cmocka_unit_test(test_missing_certificate_refused),
		cmocka_unit_test(test_key_of_another_certificate_refused),
		cmocka_unit_test(test_certificate_file_with_chain),
		cmocka_unit_test(test_key_refused_by_tls_at_first_connect),
		cmocka_unit_test(test_malformed_frame_ends_helper),
		cmocka_unit_test(test_channel_eof_ends_helper),
		cmocka_unit_test(test_forbidden_syscall_kills_helper),
	};

	helper_path = getenv("PKCS11WSOP_HELPER");
	openat_path = getenv("PKCS11WSOP_HELPER_OPENAT");
	if (helper_path == NULL || openat_path == NULL) {
		printf("PKCS11WSOP_HELPER / PKCS11WSOP_HELPER_OPENAT not set: skipped\n");
		return 77;
	}
	return e2e_main_group("helper", tests, sizeof(tests) / sizeof(tests[0]), suite_setup,
	                      suite_teardown);
}
