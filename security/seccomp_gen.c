/*
 * Build-time generator: compiles the allowlist (seccomp_build.h) and writes
 * it as C source, the program the helper loads (seccomp_filter.h).
 *
 * usage: seccomp_gen OUTPUT.c
 */
#include <errno.h>
#include <linux/filter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "security/seccomp_build.h"

static int write_source(FILE *f, const struct seccomp_build_out *b)
{
	fprintf(f, "/* Generated at build time by seccomp_gen from the table of "
	           "security/seccomp_policy.c. */\n"
	           "#include \"security/seccomp_filter.h\"\n\n"
	           "const struct sock_filter seccomp_filter_prog[] = {\n");
	for (size_t off = 0; off + sizeof(struct sock_filter) <= b->prog_len;
	     off += sizeof(struct sock_filter)) {
		struct sock_filter ins;
		memcpy(&ins, b->prog + off, sizeof(ins));
		fprintf(f, "\t{ 0x%04x, %u, %u, 0x%08lx },\n", (unsigned)ins.code, (unsigned)ins.jt,
		        (unsigned)ins.jf, (unsigned long)ins.k);
	}
	fprintf(f,
	        "};\n\n"
	        "const unsigned short seccomp_filter_len = %zu;\n"
	        "const unsigned int seccomp_filter_rules = %u;\n"
	        "const unsigned int seccomp_filter_skipped = %u;\n",
	        b->prog_len / sizeof(struct sock_filter), b->loaded, b->skipped);
	return ferror(f) ? -EIO : 0;
}

int main(int argc, char **argv)
{
	struct seccomp_build_out b;

	if (argc != 2) {
		fprintf(stderr, "usage: seccomp_gen OUTPUT.c\n");
		return 2;
	}
	int rc = seccomp_build(&b);
	if (rc != 0) {
		fprintf(stderr, "seccomp_gen: cannot compile the allowlist: %s\n", strerror(-rc));
		return 1;
	}
	FILE *f = fopen(argv[1], "w");
	if (f == NULL) {
		fprintf(stderr, "seccomp_gen: %s: %s\n", argv[1], strerror(errno));
		free(b.prog);
		return 1;
	}
	rc = write_source(f, &b);
	free(b.prog);
	if (fclose(f) != 0 || rc != 0) {
		fprintf(stderr, "seccomp_gen: cannot write %s\n", argv[1]);
		return 1;
	}
	return 0;
}
