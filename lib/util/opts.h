/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading a caller's option struct (NFM_OPTS in nfm.h; libbpf's libbpf_internal.h OPTS_* is the
 * model): only the members inside the caller's sz are read, and a struct from a newer caller is
 * accepted only when every member this library does not know is zero.
 */
#ifndef NFM_LIB_UTIL_OPTS_H
#define NFM_LIB_UTIL_OPTS_H

#include <stdbool.h>
#include <stddef.h>

/* True when opts is NULL, or its sz covers at least sz itself and its unknown tail is zero.
 * Out of line: inlined into a caller whose struct GCC can see, the tail loop (empty when sz ==
 * known) drew a false -Warray-bounds under ASan. */
bool nfm_opts_valid(const void *opts, size_t known);

#define NFM_OPTS_HAS(opts, field) \
	((opts) && (opts)->sz >= offsetof(typeof(*(opts)), field) + sizeof((opts)->field))
/* opts->field when the caller's struct has it, else fallback. */
#define NFM_OPTS_GET(opts, field, fallback) \
	(NFM_OPTS_HAS(opts, field) ? (opts)->field : (fallback))

#endif
