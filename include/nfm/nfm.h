/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libnfm: Near Field Monitoring. Reads a Linux guest's kernel state from the outside, out of the
 * guest's physical memory, with nothing installed in the guest.
 *
 * Conventions for every function of this API:
 *  - A fallible function returns int: 0 (or a count) on success, -errno on failure:
 *      -EFAULT     address not mapped          -EIO       the memory source failed to read
 *      -ENOENT     symbol/type/object missing  -EBADMSG   guest data inconsistent
 *      -ELOOP      walk bound hit or cycle     -EAGAIN    live data changed under us
 *      -EOPNOTSUPP source lacks a capability   -EINVAL    API misuse
 *  - Out-parameters come last and are written only on success.
 *  - Constructors are nfm_x_new(..., struct nfm_x **ret); destructors nfm_x_free() accept NULL.
 *  - The library never prints: it reports through the nfm_log given to it.
 *  - No global mutable state: one context per guest, one context per thread.
 */
#ifndef NFM_NFM_H
#define NFM_NFM_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NFM_EXPORT __attribute__((visibility("default")))

enum nfm_log_level {
	NFM_LOG_ERR = 3,	/* why an operation failed, in words for the user */
	NFM_LOG_WARN = 4,
	NFM_LOG_INFO = 6,
	NFM_LOG_DEBUG = 7,
};

/*
 * Where the library reports. fn may be NULL (silence). The message has no trailing newline and
 * is only valid during the call.
 */
struct nfm_log {
	void (*fn)(void *userdata, enum nfm_log_level level, const char *msg);
	void *userdata;
	enum nfm_log_level max_level;	/* messages above this level are not formatted at all */
};

/*
 * Option structs that can grow (libbpf's opts pattern): their first member is `size_t sz`, the
 * size of the struct the caller was compiled with. A library built later reads only the members
 * that fit in sz (the rest take their defaults); a library built earlier accepts a larger struct
 * only when the members it does not know are zero, and otherwise returns -EINVAL. Declare one with
 * NFM_OPTS, which sets sz and zeroes every other member (padding included):
 *
 *     NFM_OPTS(nfm_attach_opts, opts, .btf_path = "/tmp/vmlinux.btf");
 *     err = nfm_ctx_new(src, &opts, NULL, &ctx);
 *
 * New members are only ever added at the end.
 */
#define NFM_OPTS(TYPE, NAME, ...)						\
	struct TYPE NAME = ({							\
		memset(&NAME, 0, sizeof(struct TYPE));				\
		(struct TYPE){ .sz = sizeof(struct TYPE), __VA_ARGS__ };	\
	})

/* Library version string, "major.minor.patch" (libnfm(3), VERSIONS). Static storage. */
NFM_EXPORT const char *nfm_version(void);

#ifdef __cplusplus
}
#endif

#include <nfm/source.h>
#include <nfm/context.h>
#include <nfm/task.h>
#include <nfm/system.h>
#include <nfm/cpu.h>

#endif
