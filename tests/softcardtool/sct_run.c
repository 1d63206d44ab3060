/*
 * Child processes and configuration for the softcardtool and confinement
 * tests (see sct_run.h).
 */
#include "tests/softcardtool/sct_run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>

#include <cmocka.h>

#define RUN_LIMIT_MS 60000

char *sct_slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	assert_non_null(buf);
	if (f != NULL) {
		size_t n;
		while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
			len += n;
			if (cap - len < 2) {
				cap *= 2;
				buf = realloc(buf, cap);
				assert_non_null(buf);
			}
		}
		fclose(f);
	}
	buf[len] = '\0';
	return buf;
}

bool sct_file_contains(const char *path, const char *text)
{
	char *s = sct_slurp(path);
	bool found = strstr(s, text) != NULL;
	free(s);
	return found;
}

void sct_config_write(struct sct_config *cfg, const struct e2e_server *srv, const char *key_path)
{
	static unsigned counter;
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->dir, sizeof(cfg->dir), "%s/sct-%u", srv->env->dir, counter++);
	assert_int_equal(mkdir(cfg->dir, 0700), 0);
	snprintf(cfg->path, sizeof(cfg->path), "%s/pkcs11wsop.cfg", cfg->dir);
	snprintf(cfg->log, sizeof(cfg->log), "%s/pkcs11wsop.log", cfg->dir);
	FILE *f = fopen(cfg->path, "w");
	assert_non_null(f);
	const char *pki = srv->env->pki;
	fprintf(f,
	        "HOST 127.0.0.1\nPORT %s\nCERT %s/client.crt\nKEY %s%s\nAUTH %s/ca.crt\n"
	        "LOGLEVEL 6\nLOGFILEPATH %s\nMAXRETRIES 0\nRETRYDELAY 0\nTIMEOUT 20\n",
	        srv->port, pki, key_path != NULL ? key_path : pki,
	        key_path != NULL ? "" : "/client.key", pki, cfg->log);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(setenv("PKCS11WSOP_CONF", cfg->path, 1), 0);
}

int sct_fixture_setup(void **state)
{
	struct sct_fixture *fx = calloc(1, sizeof(*fx));
	if (fx == NULL || e2e_setup((void **)&fx->e2e) != 0) {
		free(fx);
		return -1;
	}
	sct_config_write(&fx->cfg, &fx->e2e->srv, NULL);
	*state = fx;
	return 0;
}

int sct_fixture_teardown(void **state, bool log_must_be_clean)
{
	struct sct_fixture *fx = *state;
	if (fx == NULL)
		return 0;
	bool leaked = log_must_be_clean && sct_file_contains(fx->cfg.log, "pass phrase");
	if (leaked || getenv("E2E_LOGS") != NULL) {
		char *log = sct_slurp(fx->cfg.log);
		fprintf(stderr, "---- %s ----\n%s", fx->cfg.log, log);
		free(log);
	}
	int rc = e2e_teardown((void **)&fx->e2e);
	free(fx);
	*state = NULL;
	return leaked ? -1 : rc;
}

static char *tmp_capture(int *fd)
{
	char *path = strdup("/tmp/sct-capture-XXXXXX");
	assert_non_null(path);
	*fd = mkstemp(path);
	assert_true(*fd >= 0);
	return path;
}

static int wait_limited(pid_t pid)
{
	int status = 0;
	long long deadline = e2e_now_ms() + RUN_LIMIT_MS;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		assert_int_equal(r, 0);
		if (e2e_now_ms() > deadline) {
			fprintf(stderr, "sct: child %ld ran too long, killing it\n", (long)pid);
			kill(pid, SIGKILL);
		}
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}

void sct_run(const char *const *argv, const char *input, struct sct_result *res)
{
	int out_fd, err_fd, in_pipe[2];
	char *out_path = tmp_capture(&out_fd), *err_path = tmp_capture(&err_fd);
	assert_int_equal(pipe2(in_pipe, O_CLOEXEC), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (dup2(in_pipe[0], 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
			_exit(126);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(in_pipe[0]);
	if (input != NULL) {
		size_t len = strlen(input);
		/* The tool may exit before reading: a broken pipe is fine. */
		ssize_t n = write(in_pipe[1], input, len);
		(void)n;
	}
	close(in_pipe[1]);
	res->status = wait_limited(pid);
	close(out_fd);
	close(err_fd);
	res->out = sct_slurp(out_path);
	res->err = sct_slurp(err_path);
	unlink(out_path);
	unlink(err_path);
	free(out_path);
	free(err_path);
}

/* Reads from the pty master into the transcript until text ending in ": "
 * appears after *seen, the child closes the terminal, or 30 s pass. */
static bool read_until_prompt(int master, char **buf, size_t *len, size_t *cap, size_t *seen)
{
	long long deadline = e2e_now_ms() + 30000;
	while (e2e_now_ms() < deadline) {
		char *p = memmem(*buf + *seen, *len - *seen, ": ", 2);
		if (p != NULL) {
			*seen = (size_t)(p - *buf) + 2;
			return true;
		}
		struct pollfd pfd = { .fd = master, .events = POLLIN };
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		if (*cap - *len < 256) {
			*cap *= 2;
			*buf = realloc(*buf, *cap);
			assert_non_null(*buf);
		}
		ssize_t n = read(master, *buf + *len, *cap - *len - 1);
		if (n <= 0)
			return false; /* EIO: the child closed its side */
		*len += (size_t)n;
		(*buf)[*len] = '\0';
	}
	return false;
}

void sct_run_pty(const char *const *argv, const char *const *answers, struct sct_result *res)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	assert_true(master >= 0);
	assert_int_equal(grantpt(master), 0);
	assert_int_equal(unlockpt(master), 0);
	char slave_name[128];
	assert_int_equal(ptsname_r(master, slave_name, sizeof(slave_name)), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* A session of its own, so the pty becomes its controlling
		 * terminal as an interactive user's would be. */
		if (setsid() < 0)
			_exit(126);
		int slave = open(slave_name, O_RDWR);
		if (slave < 0 || dup2(slave, 0) < 0 || dup2(slave, 1) < 0 || dup2(slave, 2) < 0)
			_exit(126);
		if (slave > 2)
			close(slave);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	size_t cap = 4096, len = 0, seen = 0;
	char *buf = calloc(1, cap);
	assert_non_null(buf);
	for (size_t i = 0; answers[i] != NULL; i++) {
		if (!read_until_prompt(master, &buf, &len, &cap, &seen))
			break;
		ssize_t n = write(master, answers[i], strlen(answers[i]));
		assert_int_equal(n, (ssize_t)strlen(answers[i]));
	}
	/* Drain the rest until the child hangs up. */
	seen = len;
	while (read_until_prompt(master, &buf, &len, &cap, &seen))
		;
	res->status = wait_limited(pid);
	close(master);
	res->out = buf;
	res->err = strdup("");
	assert_non_null(res->err);
}

void sct_result_free(struct sct_result *res)
{
	free(res->out);
	free(res->err);
	res->out = res->err = NULL;
}

int sct_exit_code(const struct sct_result *res)
{
	if (WIFEXITED(res->status))
		return WEXITSTATUS(res->status);
	if (WIFSIGNALED(res->status))
		return 128 + WTERMSIG(res->status);
	return -1;
}
