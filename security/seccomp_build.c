/* The allowlist compiled with libseccomp; see seccomp_build.h. */
#include "security/seccomp_build.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "security/seccomp_policy.h"

/* A BPF program has at most BPF_MAXINSNS (4096) instructions of 8 bytes. */
#define PROG_MAX (BPF_MAXINSNS * sizeof(struct sock_filter))

static int add_row(scmp_filter_ctx ctx, const struct seccomp_policy_row *row)
{
	switch (row->args) {
	case POLICY_ARGS_ANY:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, row->syscall_nr, 0);
	case POLICY_ARGS_PROT_NO_EXEC:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, row->syscall_nr, 1,
		                        SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	case POLICY_ARGS_AT_EMPTY_PATH:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, row->syscall_nr, 1,
		                        SCMP_A3(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH));
	case POLICY_ARGS_SETFL_NONBLOCK:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, row->syscall_nr, 2,
		                        SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, F_SETFL),
		                        SCMP_A2(SCMP_CMP_MASKED_EQ, 0xffffffffu, O_NONBLOCK));
	}
	return -EINVAL;
}

static int add_rows(scmp_filter_ctx ctx, unsigned int *loaded, unsigned int *skipped)
{
	size_t n = 0;
	const struct seccomp_policy_row *rows = seccomp_policy_rows(&n);

	for (size_t i = 0; i < n; i++) {
		if (rows[i].syscall_nr < 0) {
			(*skipped)++;
			continue;
		}
		int rc = add_row(ctx, &rows[i]);
		if (rc != 0)
			return rc;
		(*loaded)++;
	}
	return 0;
}

/* seccomp_export_bpf writes to a descriptor: a memory file, read back. */
static int export_prog(scmp_filter_ctx ctx, struct seccomp_build_out *out)
{
	FILE *f = tmpfile();
	if (f == NULL)
		return -errno;
	int rc = seccomp_export_bpf(ctx, fileno(f));
	if (rc == 0) {
		off_t size = lseek(fileno(f), 0, SEEK_END);
		if (size <= 0 || (size_t)size > PROG_MAX ||
		    (size_t)size % sizeof(struct sock_filter) != 0)
			rc = -EPROTO;
		else if ((out->prog = malloc((size_t)size)) == NULL)
			rc = -ENOMEM;
		else if (pread(fileno(f), out->prog, (size_t)size, 0) != size)
			rc = -EIO;
		else
			out->prog_len = (size_t)size;
	}
	fclose(f);
	if (rc != 0) {
		free(out->prog);
		out->prog = NULL;
	}
	return rc;
}

int seccomp_build(struct seccomp_build_out *out)
{
	memset(out, 0, sizeof(*out));
	if (seccomp_policy_arch_token() == 0 ||
	    seccomp_arch_native() != seccomp_policy_arch_token())
		return -ENOTSUP;
	/* seccomp_init() puts only the native architecture in the filter; the
	 * bad-architecture action covers every other calling convention. */
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (ctx == NULL)
		return -ENOMEM;
	int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (rc == 0)
		rc = add_rows(ctx, &out->loaded, &out->skipped);
	if (rc == 0)
		rc = export_prog(ctx, out);
	seccomp_release(ctx);
	return rc > 0 ? -rc : rc;
}
