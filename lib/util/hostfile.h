/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NFM_LIB_UTIL_HOSTFILE_H
#define NFM_LIB_UTIL_HOSTFILE_H

#include <stddef.h>

/* Read a whole (proc) file, up to max bytes, NUL-terminated. Caller frees *ret. 0 or -errno. */
int nfm_read_file(const char *path, size_t max, char **ret, size_t *len);

/*
 * What to add to "no permission to read X": running as root is the advice only when we are not
 * root; as root the refusal comes from ptrace restrictions (Yama's ptrace_scope, another user
 * namespace, lockdown).
 */
const char *nfm_perm_hint(void);

#endif
