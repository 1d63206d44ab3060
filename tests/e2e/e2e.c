/* End-to-end harness: wsopd processes, PKI, hand-written HTTP; see e2e.h. */
#include "tests/e2e/e2e.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include <openssl/ssl.h>

#define START_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS  10000
#define ANSWER_MAX       (2u << 20)
#define HEAD_MAX         16384

long long e2e_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

/* out = a + b; paths here are short, so truncation is a set-up bug. */
static void path_join(char out[E2E_PATH_MAX], const char *a, const char *b)
{
	int n = snprintf(out, E2E_PATH_MAX, "%s%s", a, b);

	if (n < 0 || n >= E2E_PATH_MAX) {
		fprintf(stderr, "e2e: path too long: %s%s\n", a, b);
		abort();
	}
}

/* Runs argv and waits; 0 when it exited 0. */
static int run_wait(char *const argv[])
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int e2e_env_setup(struct e2e_env *env)
{
	memset(env, 0, sizeof(*env));
	env->wsopd = getenv("WSOPD");
	env->pki_sh = getenv("WSOP_PKI_SH");
	if (env->wsopd == NULL || env->pki_sh == NULL || env->wsopd[0] == '\0')
		return 1;
	if (access(env->wsopd, X_OK) != 0 || access(env->pki_sh, R_OK) != 0) {
		fprintf(stderr, "e2e: %s or %s is missing\n", env->wsopd, env->pki_sh);
		return -1;
	}
	const char *tmp = getenv("TMPDIR");
	snprintf(env->dir, sizeof(env->dir), "%s/wsop-e2e.XXXXXX",
	         tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(env->dir) == NULL) {
		fprintf(stderr, "e2e: mkdtemp: %s\n", strerror(errno));
		return -1;
	}
	path_join(env->pki, env->dir, "/pki");
	char *argv[] = { "/bin/sh", (char *)env->pki_sh, env->pki, NULL };
	if (run_wait(argv) != 0) {
		fprintf(stderr, "e2e: %s %s failed\n", env->pki_sh, env->pki);
		return -1;
	}
	return 0;
}

void e2e_env_teardown(struct e2e_env *env)
{
	if (env->dir[0] != '\0' && getenv("E2E_KEEP") == NULL) {
		char *argv[] = { "/bin/rm", "-rf", env->dir, NULL };
		(void)run_wait(argv);
	}
	memset(env, 0, sizeof(*env));
}

/* Finds "listening on 127.0.0.1:PORT" in the log past offset skip; 1
 * found, 0 not yet. */
static int find_port(const char *log_path, long skip, char port[8])
{
	static const char marker[] = "listening on 127.0.0.1:";
	char buf[16384];
	FILE *f = fopen(log_path, "r");
	size_t n;
	char *at;

	if (f == NULL)
		return 0;
	if (fseek(f, skip, SEEK_SET) != 0) {
		fclose(f);
		return 0;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	at = strstr(buf, marker);
	if (at == NULL)
		return 0;
	at += sizeof(marker) - 1;
	n = strspn(at, "0123456789");
	if (n == 0 || n > 5)
		return 0;
	memcpy(port, at, n);
	port[n] = '\0';
	return 1;
}

static int spawn(struct e2e_server *srv, const char *const *extra_args)
{
	const char *argv[40];
	size_t argc = 0;
	char ca[E2E_PATH_MAX];
	int log_fd;

	path_join(ca, srv->env->pki, "/ca.crt");
	argv[argc++] = srv->env->wsopd;
	argv[argc++] = "--listen";
	argv[argc++] = "127.0.0.1:0";
	argv[argc++] = "--cert";
	argv[argc++] = srv->cert;
	argv[argc++] = "--key";
	argv[argc++] = srv->key;
	argv[argc++] = "--ca";
	argv[argc++] = ca;
	argv[argc++] = "--store";
	argv[argc++] = srv->store;
	/* The most verbose level, so that the log check in e2e_teardown()
	 * would see a passphrase logged at any level. */
	argv[argc++] = "--log-level";
	argv[argc++] = "6";
	for (size_t i = 0; extra_args != NULL && extra_args[i] != NULL; i++) {
		if (argc + 2 > sizeof(argv) / sizeof(argv[0]))
			return -1;
		argv[argc++] = extra_args[i];
	}
	argv[argc] = NULL;

	/* Appending keeps the log of an earlier run of the same store, which
	 * helps when a restart test fails. */
	log_fd = open(srv->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (log_fd < 0)
		return -1;
	srv->port[0] = '\0';
	srv->pid = fork();
	if (srv->pid < 0) {
		srv->pid = 0;
		close(log_fd);
		return -1;
	}
	if (srv->pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 1);
		}
		dup2(log_fd, 2);
		signal(SIGPIPE, SIG_DFL);
		execv(argv[0], (char *const *)argv);
		fprintf(stderr, "e2e: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(log_fd);
	return 0;
}

/* Waits for the port in the log (of this run: the log is appended, so the
 * marker is looked for only past what an earlier run wrote). */
static int wait_listening(struct e2e_server *srv, long skip)
{
	long long deadline = e2e_now_ms() + START_TIMEOUT_MS;

	while (e2e_now_ms() < deadline) {
		int status;

		if (find_port(srv->log_path, skip, srv->port))
			return 0;
		if (waitpid(srv->pid, &status, WNOHANG) == srv->pid) {
			fprintf(stderr, "e2e: wsopd exited before listening (status %d)\n", status);
			srv->pid = 0;
			e2e_server_dump_log(srv);
			return -1;
		}
		sleep_ms(20);
	}
	fprintf(stderr, "e2e: wsopd did not report its port within %d ms\n", START_TIMEOUT_MS);
	e2e_server_dump_log(srv);
	(void)e2e_server_stop(srv, SIGKILL);
	return -1;
}

static long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

int e2e_server_start_as(struct e2e_server *srv, const struct e2e_env *env, const char *cert_name,
                        const char *const *extra_args)
{
	struct e2e_env *mutable_env = (struct e2e_env *)env;
	unsigned n = ++mutable_env->servers;

	memset(srv, 0, sizeof(*srv));
	srv->env = env;
	char name[64];

	snprintf(name, sizeof(name), "/%s.crt", cert_name);
	path_join(srv->cert, env->pki, name);
	snprintf(name, sizeof(name), "/%s.key", cert_name);
	path_join(srv->key, env->pki, name);
	snprintf(name, sizeof(name), "/store%u", n);
	path_join(srv->store, env->dir, name);
	snprintf(name, sizeof(name), "/wsopd%u.log", n);
	path_join(srv->log_path, env->dir, name);
	if (mkdir(srv->store, 0700) != 0) {
		fprintf(stderr, "e2e: mkdir %s: %s\n", srv->store, strerror(errno));
		return -1;
	}
	if (spawn(srv, extra_args) != 0)
		return -1;
	return wait_listening(srv, 0);
}

int e2e_server_start(struct e2e_server *srv, const struct e2e_env *env,
                     const char *const *extra_args)
{
	return e2e_server_start_as(srv, env, "server", extra_args);
}

int e2e_server_restart(struct e2e_server *srv, const char *const *extra_args)
{
	long skip = file_size(srv->log_path);

	if (srv->pid != 0)
		return -1;
	if (spawn(srv, extra_args) != 0)
		return -1;
	return wait_listening(srv, skip);
}

int e2e_server_stop(struct e2e_server *srv, int sig)
{
	long long deadline = e2e_now_ms() + STOP_TIMEOUT_MS;
	int status = -1;

	if (srv->pid == 0)
		return -1;
	kill(srv->pid, sig);
	for (;;) {
		pid_t r = waitpid(srv->pid, &status, WNOHANG);

		if (r == srv->pid)
			break;
		if (r < 0 && errno != EINTR) {
			status = -1;
			break;
		}
		if (e2e_now_ms() > deadline) {
			fprintf(stderr, "e2e: wsopd ignored signal %d for %d ms; killing it\n", sig,
			        STOP_TIMEOUT_MS);
			kill(srv->pid, SIGKILL);
			(void)waitpid(srv->pid, NULL, 0);
			status = -1;
			break;
		}
		sleep_ms(10);
	}
	srv->pid = 0;
	return status;
}

void e2e_server_dump_log(const struct e2e_server *srv)
{
	FILE *f = fopen(srv->log_path, "r");
	char line[1024];

	if (f == NULL)
		return;
	fprintf(stderr, "---- %s ----\n", srv->log_path);
	while (fgets(line, sizeof(line), f) != NULL)
		fputs(line, stderr);
	fprintf(stderr, "---- end of log ----\n");
	fclose(f);
}

int e2e_file_count(const char *path, const char *text)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	int count = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		count += strstr(line, text) != NULL;
	fclose(f);
	return count;
}

int e2e_server_log_count(const struct e2e_server *srv, const char *text)
{
	return e2e_file_count(srv->log_path, text);
}

bool e2e_server_log_contains(const struct e2e_server *srv, const char *text)
{
	return e2e_server_log_count(srv, text) > 0;
}

int e2e_connect(const struct e2e_server *srv, enum e2e_identity who, int tls_max,
                struct direct_tls **out, char *err, size_t err_cap)
{
	static const char *const names[] = {
		[E2E_CLIENT] = "client",
		[E2E_CLIENT2] = "client2",
		[E2E_NO_CERT] = NULL,
		[E2E_OTHER_CA] = "other-client",
		[E2E_EXPIRED] = "expired-client",
	};
	char ca[E2E_PATH_MAX], cert[E2E_PATH_MAX], key[E2E_PATH_MAX];
	struct direct_tls_config cfg = {
		.host = "127.0.0.1",
		.port = srv->port,
		.ca_path = ca,
		.verify_name = "localhost",
		.security_level = -1,
		.timeout_ms = 10000,
	};

	path_join(ca, srv->env->pki, "/ca.crt");
	if (names[who] != NULL) {
		char name[64];

		snprintf(name, sizeof(name), "/%s.crt", names[who]);
		path_join(cert, srv->env->pki, name);
		snprintf(name, sizeof(name), "/%s.key", names[who]);
		path_join(key, srv->env->pki, name);
		cfg.cert_path = cert;
		cfg.key_path = key;
	}
	if (tls_max != 0) {
		cfg.max_version = tls_max;
		if (tls_max < TLS1_2_VERSION) {
			/* Really offer the old protocol, so that a refusal can
			 * only come from the server. */
			cfg.min_version = tls_max;
			cfg.security_level = 0;
		}
	}
	int rc = direct_tls_connect(&cfg, out, err, err_cap);

	/* A new connection never carries the token of a closed one that had
	 * the same address. */
	if (rc == 0)
		e2e_set_activation(*out, NULL);
	return rc;
}

struct direct_tls *e2e_connect_ok(const struct e2e_server *srv, enum e2e_identity who)
{
	struct direct_tls *conn = NULL;
	char err[DIRECT_TLS_ERROR_MAX];
	int rc = e2e_connect(srv, who, 0, &conn, err, sizeof(err));

	if (rc != 0)
		fprintf(stderr, "e2e: connect: %s\n", err);
	assert_int_equal(rc, 0);
	return conn;
}

void e2e_answer_free(struct e2e_answer *ans)
{
	free(ans->head);
	free(ans->body);
	if (ans->json != NULL)
		json_object_put(ans->json);
	memset(ans, 0, sizeof(ans[0]));
}

/* Content-Length of a head, -1 when absent or malformed. */
static long content_length(const char *head)
{
	const char *line = strstr(head, "\r\n");

	while (line != NULL && line[2] != '\r' && line[2] != '\0') {
		line += 2;
		if (strncasecmp(line, "Content-Length:", 15) == 0) {
			const char *v = line + 15;
			char *end;
			long n;

			v += strspn(v, " \t");
			errno = 0;
			n = strtol(v, &end, 10);
			if (errno != 0 || end == v || n < 0)
				return -1;
			return n;
		}
		line = strstr(line, "\r\n");
	}
	return -1;
}

int e2e_read_answer(struct direct_tls *conn, struct e2e_answer *ans, int timeout_ms)
{
	uint8_t *buf = malloc(HEAD_MAX + 1);
	size_t used = 0;
	long long deadline = e2e_now_ms() + timeout_ms;
	char *head_end = NULL;
	long clen;
	int rc = 0;

	memset(ans, 0, sizeof(*ans));
	if (buf == NULL)
		return -ENOMEM;
	while (head_end == NULL) {
		ssize_t n;
		long long left = deadline - e2e_now_ms();

		if (used == HEAD_MAX) {
			rc = -EMSGSIZE;
			goto out;
		}
		n = direct_tls_recv_some(conn, buf + used, HEAD_MAX - used,
		                         left > 0 ? (int)left : 0);
		if (n <= 0) {
			rc = n == 0 ? -ECONNRESET : (int)n;
			goto out;
		}
		used += (size_t)n;
		buf[used] = '\0';
		head_end = strstr((char *)buf, "\r\n\r\n");
	}
	size_t head_len = (size_t)(head_end - (char *)buf) + 4;
	if (sscanf((char *)buf, "HTTP/1.%*1[01] %3d ", &ans->status) != 1) {
		rc = -EBADMSG;
		goto out;
	}
	ans->head = strndup((char *)buf, head_len);
	clen = content_length(ans->head);
	if (ans->head == NULL || clen < 0 || (unsigned long)clen > ANSWER_MAX) {
		rc = -EBADMSG;
		goto out;
	}
	ans->body = malloc((size_t)clen + 1);
	if (ans->body == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	ans->body_len = used - head_len < (size_t)clen ? used - head_len : (size_t)clen;
	memcpy(ans->body, buf + head_len, ans->body_len);
	while (ans->body_len < (size_t)clen) {
		long long left = deadline - e2e_now_ms();
		ssize_t n =
		    direct_tls_recv_some(conn, (uint8_t *)ans->body + ans->body_len,
		                         (size_t)clen - ans->body_len, left > 0 ? (int)left : 0);

		if (n <= 0) {
			rc = n == 0 ? -ECONNRESET : (int)n;
			goto out;
		}
		ans->body_len += (size_t)n;
	}
	ans->body[clen] = '\0';
	if (clen == 0) {
		free(ans->body);
		ans->body = NULL;
	} else {
		ans->json = json_tokener_parse(ans->body);
	}
out:
	free(buf);
	if (rc != 0) {
		int status = ans->status;

		e2e_answer_free(ans);
		ans->status = status;
	}
	return rc;
}

int e2e_raw(struct direct_tls *conn, const void *bytes, size_t len, struct e2e_answer *ans)
{
	int rc = direct_tls_send_all(conn, bytes, len);

	memset(ans, 0, sizeof(*ans));
	if (rc != 0)
		return rc;
	return e2e_read_answer(conn, ans, 15000);
}

/* The activation token each connection carries, as a client process
 * would: taken from a successful activate, dropped by a successful
 * deactivate, sent as X-WSOP-Activation on every request. */
#define TOKEN_TABLE 64
static struct {
	const struct direct_tls *conn;
	char token[WSOP_ACTIVATION_MAX + 1];
} tokens[TOKEN_TABLE];
static pthread_mutex_t tokens_lock = PTHREAD_MUTEX_INITIALIZER;

void e2e_set_activation(const struct direct_tls *conn, const char *token)
{
	size_t free_slot = TOKEN_TABLE;

	pthread_mutex_lock(&tokens_lock);
	for (size_t i = 0; i < TOKEN_TABLE; i++) {
		if (tokens[i].conn == conn) {
			tokens[i].conn = NULL;
			tokens[i].token[0] = '\0';
		}
		if (tokens[i].conn == NULL && free_slot == TOKEN_TABLE)
			free_slot = i;
	}
	if (token != NULL && token[0] != '\0' && free_slot < TOKEN_TABLE) {
		tokens[free_slot].conn = conn;
		snprintf(tokens[free_slot].token, sizeof(tokens[free_slot].token), "%s", token);
	}
	pthread_mutex_unlock(&tokens_lock);
}

bool e2e_activation_of(const struct direct_tls *conn, char out[WSOP_ACTIVATION_MAX + 1])
{
	bool found = false;

	out[0] = '\0';
	pthread_mutex_lock(&tokens_lock);
	for (size_t i = 0; i < TOKEN_TABLE && !found; i++) {
		if (tokens[i].conn == conn) {
			memcpy(out, tokens[i].token, WSOP_ACTIVATION_MAX + 1);
			found = true;
		}
	}
	pthread_mutex_unlock(&tokens_lock);
	return found;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);

	return n >= m && strcmp(s + n - m, tail) == 0;
}

int e2e_request(struct direct_tls *conn, const char *method, const char *target,
                const char *idem_key, const char *body, struct e2e_answer *ans)
{
	size_t body_len = body != NULL ? strlen(body) : 0;
	char token[WSOP_ACTIVATION_MAX + 1];
	bool has_token = e2e_activation_of(conn, token);
	char head[2048];
	int n = snprintf(
	    head, sizeof(head),
	    "%s %s HTTP/1.1\r\nHost: localhost\r\nContent-Length: %zu\r\n%s%s%s%s%s%s%s\r\n",
	    method, target, body_len, body != NULL ? "Content-Type: application/json\r\n" : "",
	    idem_key != NULL ? "Idempotency-Key: " : "", idem_key != NULL ? idem_key : "",
	    idem_key != NULL ? "\r\n" : "", has_token ? WSOP_ACTIVATION_HEADER ": " : "",
	    has_token ? token : "", has_token ? "\r\n" : "");
	char *req;
	int rc;

	memset(ans, 0, sizeof(*ans));
	if (n < 0 || (size_t)n >= sizeof(head))
		return -EINVAL;
	req = malloc((size_t)n + body_len);
	if (req == NULL)
		return -ENOMEM;
	memcpy(req, head, (size_t)n);
	if (body_len > 0)
		memcpy(req + n, body, body_len);
	rc = e2e_raw(conn, req, (size_t)n + body_len, ans);
	free(req);
	if (rc == 0 && ans->status == 200 && strcmp(method, "POST") == 0) {
		json_object *t = NULL;
		if (ends_with(target, "/activate") && ans->json != NULL &&
		    json_object_object_get_ex(ans->json, "activation", &t))
			e2e_set_activation(conn, json_object_get_string(t));
		else if (ends_with(target, "/deactivate"))
			e2e_set_activation(conn, NULL);
	}
	return rc;
}

json_object *e2e_call_ok(struct direct_tls *conn, const char *method, const char *target,
                         const char *body, int expected_status, struct e2e_answer *ans)
{
	int rc = e2e_request(conn, method, target, NULL, body, ans);

	if (rc != 0 || ans->status != expected_status)
		fprintf(stderr, "e2e: %s %s -> rc %d (%s), status %d, body %s\n", method, target,
		        rc, direct_tls_error(conn), ans->status,
		        ans->body != NULL ? ans->body : "(none)");
	assert_int_equal(rc, 0);
	assert_int_equal(ans->status, expected_status);
	return ans->json;
}

void e2e_assert_members(json_object *obj, ...)
{
	va_list ap;
	size_t expected = 0;
	const char *name;

	assert_non_null(obj);
	assert_true(json_object_is_type(obj, json_type_object));
	va_start(ap, obj);
	while ((name = va_arg(ap, const char *)) != NULL) {
		if (!json_object_object_get_ex(obj, name, NULL))
			fprintf(stderr, "e2e: member \"%s\" missing in %s\n", name,
			        json_object_to_json_string(obj));
		assert_true(json_object_object_get_ex(obj, name, NULL));
		expected++;
	}
	va_end(ap);
	if ((size_t)json_object_object_length(obj) != expected)
		fprintf(stderr, "e2e: unexpected members in %s\n", json_object_to_json_string(obj));
	assert_int_equal(json_object_object_length(obj), expected);
}

void e2e_assert_error(const struct e2e_answer *ans, int status, const char *code)
{
	json_object *error;

	if (ans->status != status || ans->json == NULL ||
	    strstr(ans->body != NULL ? ans->body : "", code) == NULL)
		fprintf(stderr, "e2e: expected %d %s, got %d %s\n", status, code, ans->status,
		        ans->body != NULL ? ans->body : "(no body)");
	assert_int_equal(ans->status, status);
	e2e_assert_members(ans->json, "error", NULL);
	error = e2e_obj(ans->json, "error");
	e2e_assert_members(error, "code", "message", NULL);
	assert_string_equal(e2e_str(error, "code"), code);
	(void)e2e_str(error, "message");
}

static json_object *member(json_object *obj, const char *name, json_type type)
{
	json_object *v = NULL;

	assert_non_null(obj);
	if (!json_object_object_get_ex(obj, name, &v) || !json_object_is_type(v, type))
		fprintf(stderr, "e2e: member \"%s\" missing or of the wrong type in %s\n", name,
		        json_object_to_json_string(obj));
	assert_non_null(v);
	assert_true(json_object_is_type(v, type));
	return v;
}

const char *e2e_str(json_object *obj, const char *name)
{
	return json_object_get_string(member(obj, name, json_type_string));
}

int64_t e2e_int(json_object *obj, const char *name)
{
	return json_object_get_int64(member(obj, name, json_type_int));
}

bool e2e_bool(json_object *obj, const char *name)
{
	return json_object_get_boolean(member(obj, name, json_type_boolean));
}

json_object *e2e_obj(json_object *obj, const char *name)
{
	return member(obj, name, json_type_object);
}

json_object *e2e_arr(json_object *obj, const char *name)
{
	return member(obj, name, json_type_array);
}

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *e2e_b64(const uint8_t *data, size_t len)
{
	char *out = malloc(len / 3 * 4 + 5);
	size_t o = 0;

	assert_non_null(out);
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)data[i] << 16;
		size_t chars = 2;

		if (i + 1 < len) {
			v |= (uint32_t)data[i + 1] << 8;
			chars = 3;
		}
		if (i + 2 < len) {
			v |= data[i + 2];
			chars = 4;
		}
		for (size_t c = 0; c < chars; c++)
			out[o++] = b64_alphabet[(v >> (18 - 6 * c)) & 63];
	}
	out[o] = '\0';
	return out;
}

uint8_t *e2e_unb64(const char *text, size_t *len)
{
	size_t n = strlen(text);
	uint8_t *out = malloc(n * 3 / 4 + 1);
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;

	assert_non_null(out);
	assert_true(n % 4 != 1);
	for (size_t i = 0; i < n; i++) {
		const char *p = strchr(b64_alphabet, text[i]);

		assert_true(p != NULL && text[i] != '\0');
		acc = (acc << 6) | (uint32_t)(p - b64_alphabet);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	*len = o;
	return out;
}

void e2e_softcard_ok(struct direct_tls *conn, const char *name, const char *passphrase,
                     char out[41])
{
	struct e2e_answer ans;
	char body[512];
	json_object *sc;

	snprintf(body, sizeof(body),
	         "{\"type\":\"Softcard\",\"name\":\"%s\",\"passphrase\":\"%s\"}", name, passphrase);
	sc = e2e_call_ok(conn, "POST", "/km/v1/protectiondomains", body, 201, &ans);
	assert_int_equal(strlen(e2e_str(sc, "id")), 40);
	memcpy(out, e2e_str(sc, "id"), 41);
	e2e_answer_free(&ans);
}

void e2e_activate_ok(struct direct_tls *conn, const char *softcard, const char *passphrase)
{
	struct e2e_answer ans;
	char target[128], body[512];

	snprintf(target, sizeof(target), "/km/v1/protectiondomains/%s/activate", softcard);
	snprintf(body, sizeof(body), "{\"passphrase\":\"%s\"}", passphrase);
	assert_true(e2e_bool(e2e_call_ok(conn, "POST", target, body, 200, &ans), "active"));
	e2e_answer_free(&ans);
}

void e2e_group_ok(struct direct_tls *conn, const char *name, const char *softcard, char out[37])
{
	struct e2e_answer ans;
	char body[256];
	json_object *g;

	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"protectiondomain\":\"%s\"}", name,
	         softcard);
	g = e2e_call_ok(conn, "POST", "/km/v1/groups", body, 201, &ans);
	assert_int_equal(strlen(e2e_str(g, "id")), 36);
	memcpy(out, e2e_str(g, "id"), 37);
	e2e_answer_free(&ans);
}

void e2e_key_ok(struct direct_tls *conn, const char *group, const char *label, int bits,
                const char *attrs_extra, char path_out[96])
{
	struct e2e_answer ans;
	char target[128], body[512];
	json_object *k;

	snprintf(target, sizeof(target), "/km/v1/groups/%s/keys", group);
	snprintf(body, sizeof(body),
	         "{\"algorithm\":\"AES\",\"size\":%d,\"attributes\":{\"label\":\"%s\"%s}}", bits,
	         label, attrs_extra != NULL ? attrs_extra : "");
	k = e2e_call_ok(conn, "POST", target, body, 201, &ans);
	assert_true(strlen(e2e_str(k, "path")) < 96);
	snprintf(path_out, 96, "%s", e2e_str(k, "path"));
	e2e_answer_free(&ans);
}

void e2e_ready_group_ok(struct direct_tls *conn, char softcard[41], char group[37])
{
	e2e_softcard_ok(conn, "card", E2E_READY_PASS, softcard);
	e2e_activate_ok(conn, softcard, E2E_READY_PASS);
	e2e_group_ok(conn, "keys", softcard, group);
}

struct e2e_env e2e_env;

void *e2e_fixture_new(size_t size)
{
	struct e2e_fixture *fx;

	if (size < sizeof(*fx) || (fx = calloc(1, size)) == NULL)
		return NULL;
	if (e2e_server_start(&fx->srv, &e2e_env, NULL) != 0) {
		free(fx);
		return NULL;
	}
	fx->conn = e2e_connect_ok(&fx->srv, E2E_CLIENT);
	return fx;
}

int e2e_setup(void **state)
{
	struct e2e_fixture *fx = e2e_fixture_new(sizeof(*fx));

	if (fx == NULL)
		return -1;
	*state = fx;
	return 0;
}

struct direct_tls *e2e_conn_of(void **state)
{
	return ((struct e2e_fixture *)*state)->conn;
}

void e2e_expect_error(void **state, const char *method, const char *target, const char *body,
                      int status, const char *code)
{
	struct e2e_answer ans;

	assert_int_equal(e2e_request(e2e_conn_of(state), method, target, NULL, body, &ans), 0);
	e2e_assert_error(&ans, status, code);
	e2e_answer_free(&ans);
}

void e2e_delete_gone_ok(void **state, const char *target)
{
	struct e2e_answer ans;

	e2e_call_ok(e2e_conn_of(state), "DELETE", target, NULL, 204, &ans);
	assert_null(ans.body);
	e2e_answer_free(&ans);
	e2e_expect_error(state, "GET", target, NULL, 404, "not_found");
	e2e_expect_error(state, "DELETE", target, NULL, 404, "not_found");
}

int e2e_run_tasks(void *(*fn)(void *), void *tasks, size_t count, size_t size, const char *what)
{
	pthread_t *threads = calloc(count, sizeof(*threads));
	char *base = tasks;
	long long t0 = e2e_now_ms();
	int failures = 0;

	assert_non_null(threads);
	for (size_t i = 0; i < count; i++)
		assert_int_equal(pthread_create(&threads[i], NULL, fn, base + i * size), 0);
	for (size_t i = 0; i < count; i++) {
		const struct e2e_task *t = (const void *)(base + i * size);

		pthread_join(threads[i], NULL);
		if (t->failures != 0)
			fprintf(stderr, "e2e: task %zu: %d failures, last: %s\n", i, t->failures,
			        t->why);
		failures += t->failures;
	}
	fprintf(stderr, "e2e: %zu threads x %s in %lld ms\n", count, what, e2e_now_ms() - t0);
	free(threads);
	return failures;
}

int e2e_teardown(void **state)
{
	struct e2e_fixture *fx = *state;
	int status;

	if (fx == NULL)
		return 0;
	direct_tls_close(fx->conn);
	status = fx->srv.pid != 0 ? e2e_server_stop(&fx->srv, SIGTERM) : 0;
	if (getenv("E2E_LOGS") != NULL || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		e2e_server_dump_log(&fx->srv);
	/* Every passphrase the tests use contains "pass phrase": none may reach
	 * the server's log, whatever the test did. */
	bool leaked = e2e_server_log_contains(&fx->srv, "pass phrase");

	if (leaked)
		fprintf(stderr, "e2e: a passphrase reached the log %s\n", fx->srv.log_path);
	free(fx);
	*state = NULL;
	/* SIGTERM must end wsopd cleanly (exit 0), whatever the test did. */
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "e2e: wsopd did not exit 0 on SIGTERM (wait status %d)\n", status);
		return -1;
	}
	return leaked ? -1 : 0;
}

int e2e_main(const char *name, const struct CMUnitTest *tests, size_t count)
{
	return e2e_main_group(name, tests, count, NULL, NULL);
}

int e2e_main_group(const char *name, const struct CMUnitTest *tests, size_t count,
                   int (*group_setup)(void **), int (*group_teardown)(void **))
{
	int rc;

	/* A server that drops a connection must fail a test, not kill it. */
	signal(SIGPIPE, SIG_IGN);
	rc = e2e_env_setup(&e2e_env);
	if (rc == 1) {
		printf("%s: WSOPD or WSOP_PKI_SH not set: skipped\n", name);
		return 77;
	}
	if (rc != 0)
		return 1;
	rc = _cmocka_run_group_tests(name, tests, count, group_setup, group_teardown);
	e2e_env_teardown(&e2e_env);
	return rc;
}
