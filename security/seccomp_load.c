/*
 * Loading the filter compiled at build time (seccomp_filter.h); the
 * contract is seccomp_policy_load() in seccomp_policy.h. seccomp(2)
 * directly: the helper does not link libseccomp.
 */
#include <errno.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "security/seccomp_filter.h"
#include "security/seccomp_policy.h"

int seccomp_policy_load(unsigned int *loaded, unsigned int *skipped)
{
	*loaded = 0;
	*skipped = 0;
	/* No table was checked against another architecture's libc and
	 * OpenSSL: the generator refuses to build one, and so do we. */
	if (seccomp_policy_arch() == NULL || seccomp_filter_len == 0)
		return -ENOTSUP;
	struct sock_fprog prog = {
		.len = seccomp_filter_len,
		.filter = (struct sock_filter *)seccomp_filter_prog,
	};
	/* TSYNC: every thread gets the filter, or none does and the call
	 * answers the id of a thread that could not take it. */
	long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog);
	if (rc < 0)
		return -errno;
	if (rc > 0)
		return -ESRCH;
	*loaded = seccomp_filter_rules;
	*skipped = seccomp_filter_skipped;
	return 0;
}
