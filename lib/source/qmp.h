/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A minimal QMP client: enough to run HMP commands ("info mtree -f", "gpa2hva", "info registers")
 * read-only, and parsers of their answers. */
#ifndef NFM_LIB_SOURCE_QMP_H
#define NFM_LIB_SOURCE_QMP_H

#include <stddef.h>
#include <stdint.h>

#include "source/source.h"

/* One guest-physical RAM range from `info mtree -f`: [start, start + size) at block offset. */
struct nfm_qmp_ram {
	uint64_t start, size;
	uint64_t offset;	/* offset inside the RAM block ("@0x..."; 0 when absent) */
	char name[64];		/* the RAM block: "pc.ram", a memory backend id */
};

/*
 * Connect to the QMP socket, negotiate and return a connected fd (close it), or -errno.
 * Every wait is bounded by a timeout: a monitor held by someone else fails instead of hanging.
 */
int nfm_qmp_connect(const char *path);

/* Run an HMP command; *out is its output text (caller frees). 0 or -errno. */
int nfm_qmp_hmp(int fd, const char *cmd, char **out);

/*
 * Run n HMP commands in one round trip (sent together, answered in order): outs[i] is each
 * one's text (caller frees). 0, or -errno of the first failure with every outs[i] NULL.
 * Commands may not hold quotes, backslashes or newlines (-EINVAL).
 */
int nfm_qmp_hmp_many(int fd, const char *const *cmds, size_t n, char **outs);

/*
 * Parse `info mtree -f` text: the RAM ranges of the system address space's flat view whose
 * region name is one of names (NULL-terminated; NULL or no match: the name holding the most
 * bytes). Returns the count, or -EBADMSG / -ENOENT / -ENOMEM. Caller frees *ret.
 */
int nfm_qmp_parse_mtree(const char *text, const char *const *names, struct nfm_qmp_ram **ret);

/* Every CPU's registers from "info registers -a" text: 0 and *ret (caller frees, indexed in
 * the text's CPU order), or -EBADMSG (a CPU without its general registers) / -ENOMEM. */
int nfm_qmp_parse_regs(const char *text, struct nfm_cpu_state **ret, size_t *n);

/* Parse gpa2hva's answer "Host virtual address for 0x0 (pc.ram) is 0x7f..." */
int nfm_qmp_parse_gpa2hva(const char *text, uint64_t *hva);

#endif
