#include "security/sandbox.h"
#include "security/seccomp_policy.h"

#include <errno.h>
#include <sys/prctl.h>
#include <sys/resource.h>

static int fail(struct sandbox_report *report, const char *step, int rc)
{
	report->failed_step = step;
	return rc;
}

/*
 * The order matters:
 *  - the time zone first: tzset() is the last thing here allowed to open
 *    a file (the zoneinfo); afterwards glibc reuses what it loaded.
 *  - NO_NEW_PRIVS before the filter: the kernel refuses an unprivileged
 *    filter without it, and it must hold before anything could exec.
 *  - not dumpable and no core before the filter, so that even a failed
 *    load leaves the key out of reach of same-uid ptrace and core files.
 *  - the filter last: prctl and setrlimit are not in the allowlist.
 */
int sandbox_confine(struct sandbox_report *report)
{
	struct sandbox_report unused;
	if (report == NULL)
		report = &unused;
	const char *arch = seccomp_policy_arch();
	report->arch = arch != NULL ? arch : "unsupported";
	report->failed_step = NULL;
	report->rules = 0;
	report->skipped = 0;

	int rc = sandbox_pin_timezone();
	if (rc != 0)
		return fail(report, "timezone", rc);

	if (prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) != 0)
		return fail(report, "no_new_privs", -errno);
	if (prctl(PR_SET_DUMPABLE, 0L, 0L, 0L, 0L) != 0)
		return fail(report, "not_dumpable", -errno);
	const struct rlimit no_core = { 0, 0 };
	if (setrlimit(RLIMIT_CORE, &no_core) != 0)
		return fail(report, "rlimit_core", -errno);

	rc = seccomp_policy_load(&report->rules, &report->skipped);
	if (rc != 0)
		return fail(report, "seccomp", rc);
	return 0;
}
