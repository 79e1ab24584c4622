/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A context is nfm attached to one guest kernel: symbols, types and page tables found in guest
 * memory. One context per guest; a context is not shared between threads.
 */
#ifndef NFM_CONTEXT_H
#define NFM_CONTEXT_H

#include <nfm/nfm.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nfm_ctx;
struct nfm_log;
struct nfm_source;

/*
 * Optional overrides for kernels built without the options discovery relies on. Declare with
 * NFM_OPTS(nfm_attach_opts, name, ...) (nfm.h): sz is sizeof(struct nfm_attach_opts).
 */
struct nfm_attach_opts {
	size_t sz;
	const char *system_map;	/* System.map path: symbols instead of kallsyms */
	const char *btf_path;	/* raw BTF file (as /sys/kernel/btf/vmlinux) instead of guest BTF */
};

/*
 * Attach to the Linux kernel in src's memory: find VMCOREINFO, KASLR offset, page tables,
 * kallsyms and BTF. src must outlive the context. opts and log may be NULL.
 * Returns 0, -ENOENT ("no Linux kernel found in guest memory"), -EBADMSG, -EIO, -EINVAL (also
 * when opts->sz is too small or opts sets members this library does not know); the reason is
 * logged at NFM_LOG_ERR. The caller owns *ret (nfm_ctx_free()).
 */
NFM_EXPORT int nfm_ctx_new(struct nfm_source *src, const struct nfm_attach_opts *opts,
			   const struct nfm_log *log, struct nfm_ctx **ret);
NFM_EXPORT void nfm_ctx_free(struct nfm_ctx *ctx);

/* The source this context reads. */
NFM_EXPORT struct nfm_source *nfm_ctx_source(struct nfm_ctx *ctx);

/*
 * Start a new crawl of a live guest: drop cached translations and values so that what follows
 * reads the guest as it is now, and give its walks a whole walk budget again (every walk of one
 * crawl shares one bound on the pointers it may follow, derived from the guest's RAM size). Cheap.
 */
NFM_EXPORT void nfm_ctx_refresh(struct nfm_ctx *ctx);

/*
 * The crawl is over for now: give back the memory that serves only a crawl in progress (the
 * copies of guest pages read, up to 32 MiB) to a pool the next crawl of any context takes from.
 * For a program that holds many contexts and crawls a few at a time; reading again is allowed
 * (it takes the memory back). Cheap.
 */
NFM_EXPORT void nfm_ctx_idle(struct nfm_ctx *ctx);

/* What attach found, and how. Strings are NUL-terminated and sanitized of nothing: raw guest bytes. */
struct nfm_kernel_info {
	char sysname[65], nodename[65], release[65], version[65], machine[65], domainname[65];
	char banner[512];		/* linux_banner, without the trailing newline */
	int paging_levels;		/* 4 or 5 */
	uint64_t kaslr_offset;		/* virtual shift of the kernel image */
	int64_t phys_base;		/* physical shift of the kernel image; arm64: PHYS_OFFSET */
	uint64_t page_offset;		/* direct-map base */
	uint64_t kernel_pgd;		/* physical address of the kernel's top-level page table */
	uint64_t vmcoreinfo_pa;		/* where VMCOREINFO was found (0: a dump's note) */
	unsigned int nr_cpus_online, nr_cpus_possible;
	uint64_t mem_total;		/* MemTotal of /proc/meminfo, bytes */
	uint64_t ram_size;		/* guest RAM the source holds, bytes */
	uint64_t nr_symbols;
	uint64_t nr_btf_types;
	char vmcoreinfo_how[64];	/* "scan of guest RAM", "ELF note", ... */
	char symbols_how[64];		/* "kallsyms (base-relative)", "System.map" */
	char btf_how[64];		/* "guest memory (__start_BTF)", "file" */
	double attach_ms;		/* wall time nfm_ctx_new took */
};

/* Fill *ret. 0, or -errno when a value could not be read. */
NFM_EXPORT int nfm_ctx_kernel_info(struct nfm_ctx *ctx, struct nfm_kernel_info *ret);

/* Time since boot as /proc/uptime reports it (CLOCK_BOOTTIME), in nanoseconds. */
NFM_EXPORT int nfm_ctx_uptime_ns(struct nfm_ctx *ctx, uint64_t *ret);

/*
 * A generation of the guest's scheduler clocks (the sum of every CPU's rq->clock): it changes
 * whenever any task may have been charged CPU time. Read it before and after a task walk (with
 * nfm_ctx_uptime_ns() in between): equal values mean the walk's CPU times and that uptime belong
 * to the same instants (doc/ctop.md); different ones, that the guest's scheduler ran during the
 * walk. 0; -ENOENT when the kernel's run queues cannot be read; -EINVAL on a NULL argument.
 */
NFM_EXPORT int nfm_ctx_sched_gen(struct nfm_ctx *ctx, uint64_t *ret);

/* One CPU's running task and the CPU time it ran since it was last charged (see below). */
struct nfm_sched_pending {
	int32_t cpu;
	int32_t pid, tgid;		/* the task running there (rq->curr) */
	uint64_t ns;			/* rq->clock_task - curr->se.exec_start, 0 if negative */
};

/*
 * What task_sched_runtime() adds to a running task's se.sum_exec_runtime: for every CPU whose
 * rq->curr is not its idle task, the time since the task's last charge as of the CPU's last clock
 * update (rq->clock_task - se.exec_start). A task's CPU time plus this is its CPU time as of the
 * same instant as its CPU's rq->clock, whether or not update_curr() ran after update_rq_clock()
 * (doc/ctop.md). Read it inside the same nfm_ctx_sched_gen() bracket as the walk. Fills up to max
 * entries; returns how many CPUs have a running task (may exceed max), or -errno.
 */
NFM_EXPORT int nfm_ctx_sched_pending(struct nfm_ctx *ctx, struct nfm_sched_pending *out,
				     size_t max);

/*
 * A kernel symbol by name, as kallsyms_lookup_name(): the core kernel's first, else the first
 * defined one of a loaded module ("module:name" for that module's): address and /proc/kallsyms
 * type letter (type may be NULL).
 */
NFM_EXPORT int nfm_sym_lookup(struct nfm_ctx *ctx, const char *name, uint64_t *addr, char *type);

/*
 * The symbol containing addr: its name (owned by ctx, valid until nfm_ctx_free), type letter,
 * and addr's offset into it; in a loaded module's memory, that module's symbol. -ENOENT when
 * addr is below every symbol.
 */
NFM_EXPORT int nfm_sym_symbolize(struct nfm_ctx *ctx, uint64_t addr, const char **name,
				 char *type, uint64_t *offset);

/* The same two, saying which module (*module owned by ctx; NULL: the core kernel). */
NFM_EXPORT int nfm_sym_lookup_module(struct nfm_ctx *ctx, const char *name, uint64_t *addr,
				     char *type, const char **module);
NFM_EXPORT int nfm_sym_symbolize_module(struct nfm_ctx *ctx, uint64_t addr, const char **name,
					char *type, uint64_t *offset, const char **module);

/*
 * Loaded modules' symbols, as /proc/kallsyms lists them after the core kernel's ("addr t name
 * [module]"; the letter upper case when the module exports the symbol): the count (0 when they
 * cannot be read) and the i-th. Read on first use and again when a module was loaded since;
 * module strings (here and from the _module calls above) stay valid until then.
 */
NFM_EXPORT size_t nfm_modsym_count(struct nfm_ctx *ctx);
NFM_EXPORT int nfm_modsym_get(struct nfm_ctx *ctx, size_t i, const char **name, char *type,
			      uint64_t *addr, const char **module);

/* Number of kernel symbols, and the i-th in /proc/kallsyms order (name owned by ctx). */
NFM_EXPORT size_t nfm_sym_count(struct nfm_ctx *ctx);
NFM_EXPORT int nfm_sym_get(struct nfm_ctx *ctx, size_t i, const char **name, char *type,
			   uint64_t *addr);

/*
 * The kernel's BTF as raw bytes (what /sys/kernel/btf/vmlinux holds), owned by ctx: for saving it
 * next to a dump, for --btf, for other BTF tools. 0, or -ENOMEM.
 */
NFM_EXPORT int nfm_btf_raw(struct nfm_ctx *ctx, const void **data, size_t *size);

/* Read kernel virtual memory. 0, -EFAULT, -EIO. */
NFM_EXPORT int nfm_read_kernel(struct nfm_ctx *ctx, uint64_t va, void *buf, size_t len);
/* As much of it as reads, up to the first page that does not: the bytes read. */
NFM_EXPORT size_t nfm_read_kernel_some(struct nfm_ctx *ctx, uint64_t va, void *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
