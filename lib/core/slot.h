/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The context's per-area slots: each walker area (tasks, mm, net, ...) keeps its resolved offsets
 * and caches in its own slot, created on first use and freed with the context. The slots are
 * core's (the context owns and frees them); core knows only their ids, never what is in them.
 */
#ifndef NFM_LIB_CORE_SLOT_H
#define NFM_LIB_CORE_SLOT_H

struct nfm_ctx;

enum nfm_kernel_slot {
	NFM_SLOT_TASK, NFM_SLOT_MM, NFM_SLOT_FILES, NFM_SLOT_PATH, NFM_SLOT_MODULES,
	NFM_SLOT_NET, NFM_SLOT_SOCK, NFM_SLOT_LOG, NFM_SLOT_MOUNT, NFM_SLOT_SYS, NFM_SLOT_CPU,
	NFM_SLOT_SHELL, NFM_SLOT_TASK_NAME, NFM_SLOT_MODSYMS,
	NFM_SLOT_ROUTE, NFM_SLOT_NEIGH, NFM_SLOT_CPUINFO,
	NFM_SLOT_STACK,		/* lib/stack: ORC tables and offsets */
	NFM_SLOT_ALLOC,		/* lib/kmem/alloc: kmem caches, allocator offsets */
	NFM_SLOT_TASK_INFO,	/* lib/task/task_info.c: the rest of /proc/PID/stat and status */
	NFM_SLOT_TCPINFO,	/* lib/net/net_tcpinfo.c: struct tcp_sock's layout for ss -i */
	NFM_SLOT_SOCKEXT,	/* lib/net/net_sockext.c: ss -o, -m and -xe's members */
	NFM_SLOT_MAX
};

struct nfm_kernel {
	void *slot[NFM_SLOT_MAX];
	void (*slot_free[NFM_SLOT_MAX])(void *);
};

/* The area's slot (NULL until set). */
void *nfm_kernel_slot(struct nfm_ctx *ctx, enum nfm_kernel_slot s);
/* Set the area's slot; free_fn (may be NULL: plain free()) runs at nfm_ctx_free. 0 or -ENOMEM. */
int nfm_kernel_set_slot(struct nfm_ctx *ctx, enum nfm_kernel_slot s, void *p, void (*free_fn)(void *));
/*
 * The area's per-kernel layout in slot s, made on first use: a zeroed block of size bytes that
 * make() fills (0, or -errno: the block is dropped and made again on the next call). NULL and
 * *err (-errno) when it cannot be made; *err is 0 otherwise.
 */
void *nfm_kernel_layout(struct nfm_ctx *ctx, enum nfm_kernel_slot s, size_t size,
			int (*make)(struct nfm_ctx *ctx, void *block), int *err);
void nfm_kernel_free(struct nfm_kernel *k);

#endif
