/* Audit lines of the helper's life; the contract is in helper_audit.h. */
#include "lib/helper_audit.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "conf/audit.h"

static const char *start_failure(int rc)
{
	switch (rc) {
	case -ETIMEDOUT:
		return "sent no READY in time";
	case -EKEYREJECTED:
		return "could not load its configuration or credentials";
	case -ECHILD:
		return "ended before READY";
	case -EPROTO:
		return "broke the channel protocol";
	default:
		return strerror(-rc);
	}
}

void helper_audit_started(pid_t pid, const char *path, int rc, const char *error)
{
	struct audit_line a;

	audit_begin(&a, "helper_start", rc == 0 ? AUDIT_SUCCESS : AUDIT_FAILURE);
	if (pid > 0)
		audit_int(&a, "helper_pid", (long long)pid);
	audit_str(&a, "path", path);
	if (rc != 0) {
		audit_str(&a, "reason", start_failure(rc));
		if (error != NULL && error[0] != '\0')
			audit_str(&a, "helper_error", error);
	}
	audit_emit(&a);
}

void helper_audit_unused(pid_t pid, const char *path)
{
	struct audit_line a;

	audit_begin(&a, "helper_unused", AUDIT_SUCCESS);
	audit_int(&a, "helper_pid", (long long)pid);
	audit_str(&a, "path", path);
	audit_emit(&a);
}

static const char *how_died(int sig)
{
	switch (sig) {
	case SIGSYS:
		return "sandbox";
	case SIGKILL:
		return "killed";
	case SIGSEGV:
	case SIGBUS:
	case SIGABRT:
	case SIGFPE:
	case SIGILL:
		return "crashed";
	default:
		return "signal";
	}
}

void helper_audit_ended(pid_t pid, int status, const char *error)
{
	struct audit_line a;
	bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;

	if (WIFSIGNALED(status)) {
		const char *abbrev = sigabbrev_np(WTERMSIG(status));
		char name[16] = "SIG";

		strncat(name, abbrev != NULL ? abbrev : "UNKNOWN", sizeof(name) - 4);
		audit_begin(&a, "helper_died", AUDIT_FAILURE);
		audit_int(&a, "helper_pid", (long long)pid);
		audit_str(&a, "signal", name);
		audit_str(&a, "how", how_died(WTERMSIG(status)));
	} else {
		audit_begin(&a, "helper_exit", clean ? AUDIT_SUCCESS : AUDIT_FAILURE);
		audit_int(&a, "helper_pid", (long long)pid);
		audit_int(&a, "exit_status", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
	if (!clean && error != NULL && error[0] != '\0')
		audit_str(&a, "reason", error);
	audit_emit(&a);
}
