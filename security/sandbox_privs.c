/* Dropping every capability, and root's uid/gid; see sandbox.h. */
#include "security/sandbox.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* capget/capset without libcap: version 3 uses two 32-bit words per set. */
static int caps_get(struct __user_cap_data_struct data[2])
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };

	memset(data, 0, 2 * sizeof(data[0]));
	return syscall(SYS_capget, &hdr, data) == 0 ? 0 : -errno;
}

static int caps_clear(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	return syscall(SYS_capset, &hdr, data) == 0 ? 0 : -errno;
}

static bool has_cap(const struct __user_cap_data_struct data[2], unsigned cap)
{
	return (data[cap / 32].effective & (1u << (cap % 32))) != 0;
}

/* Empties the bounding set, one capability at a time until the kernel says
 * there are no more (PR_CAPBSET_READ fails with EINVAL past the last). */
static int drop_bounding_set(void)
{
	for (unsigned long cap = 0;; cap++) {
		int r = prctl(PR_CAPBSET_READ, cap, 0L, 0L, 0L);
		if (r < 0)
			return errno == EINVAL ? 0 : -errno;
		if (r == 1 && prctl(PR_CAPBSET_DROP, cap, 0L, 0L, 0L) != 0)
			return -errno;
	}
}

static bool any_root(void)
{
	uid_t r, e, s;

	return getresuid(&r, &e, &s) != 0 || r == 0 || e == 0 || s == 0;
}

int sandbox_drop_privileges(uid_t uid, gid_t gid, struct sandbox_privs *out)
{
	struct __user_cap_data_struct data[2];
	bool root = any_root();
	int rc = caps_get(data);

	out->changed_ids = false;
	out->failed_step = NULL;
	if (rc != 0) {
		out->failed_step = "capget";
		return rc;
	}
	/* Needs CAP_SETPCAP. Without it nothing can be gained back anyway:
	 * no_new_privs follows and exec is not in the allowlist. */
	if (has_cap(data, CAP_SETPCAP) && (rc = drop_bounding_set()) != 0) {
		out->failed_step = "bounding set";
		return rc;
	}
	/* EINVAL: a kernel before 4.3 has no ambient set. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0L, 0L, 0L) != 0 && errno != EINVAL) {
		out->failed_step = "ambient set";
		return -errno;
	}
	if (root) {
		/* Groups first: that needs CAP_SETGID, which setresuid ends. */
		if (setgroups(0, NULL) != 0) {
			out->failed_step = "setgroups";
			return -errno;
		}
		if (setresgid(gid, gid, gid) != 0) {
			out->failed_step = "setresgid";
			return -errno;
		}
		if (setresuid(uid, uid, uid) != 0) {
			out->failed_step = "setresuid";
			return -errno;
		}
		out->changed_ids = true;
	}
	/* Leaving uid 0 clears the sets, unless the application set
	 * SECBIT_NO_SETUID_FIXUP or SECBIT_KEEP_CAPS; a non-root start may hold
	 * capabilities too (file or ambient ones): clear them in every case. */
	rc = caps_clear();
	if (rc == 0)
		rc = caps_get(data);
	if (rc == 0 && (data[0].effective | data[0].permitted | data[0].inheritable |
	                data[1].effective | data[1].permitted | data[1].inheritable) != 0)
		rc = -EPERM;
	if (rc == 0 && any_root())
		rc = -EPERM;
	if (rc != 0)
		out->failed_step = "capset";
	return rc;
}
