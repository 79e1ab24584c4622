/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Hooks on kernels that dispatch system calls through x64_sys_call (the branch-history-injection
 * fix; 6.1.176+, 6.9+): a rootkit there patches kernel text or registers ftrace, kprobe or
 * livepatch handlers instead of editing sys_call_table. nfm_hooks() finds each kind and resolves
 * every handler or branch target to its owner: the core kernel's text, a module on the modules
 * list, or memory no listed module owns (hidden code).
 */
#ifndef NFM_CHECK_H
#define NFM_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include <nfm/nfm.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nfm_ctx;

enum nfm_hook_kind {
	NFM_HOOK_TEXT,		/* kernel text: a branch out of the kernel's text, int3 at a start */
	NFM_HOOK_FTRACE,	/* a registered struct ftrace_ops */
	NFM_HOOK_KPROBE,	/* a registered kprobe (or kretprobe) */
	NFM_HOOK_LIVEPATCH,	/* a function a livepatch replaces (klp_patches) */
	NFM_HOOK_IDT,		/* an interrupt gate whose handler is not a kernel entry point */
};

enum nfm_owner {
	NFM_OWNER_KERNEL,	/* the core kernel's text (_stext.._etext) */
	NFM_OWNER_MODULE,	/* the memory of a module on the modules list */
	NFM_OWNER_KERNEL_DATA,	/* inside the kernel image, not its text */
	NFM_OWNER_NONE,		/* nobody's: no listed module (hidden) and not the kernel */
};

/* One hook, or one registered handler (ftrace ops, kprobes and livepatches are all listed). */
struct nfm_hook {
	enum nfm_hook_kind kind;
	bool ok;		/* what a clean kernel has (core handlers); false: a finding */
	const char *what;	/* what was found, in words ("call out of kernel text", "pre_handler") */
	uint64_t object;	/* struct ftrace_ops/kprobe/klp_func (klp_patch); the IDT gate; 0: text */
	uint64_t site;		/* the patched, probed or traced address; 0: none or every function */
	const char *site_symbol;	/* NULL when nothing names it */
	uint64_t site_offset;
	unsigned int nr_sites;	/* ftrace: functions in the ops' filter, 0 = every function */
	unsigned int vector;	/* IDT only */
	uint64_t target;	/* the handler or branch target */
	enum nfm_owner owner;	/* of target */
	const char *symbol;	/* target's symbol, NULL when none */
	uint64_t offset;	/* into symbol */
	const char *module;	/* the listed module holding target (or the livepatch's module) */
};

/* What was looked at (the counts behind "no finding"). */
struct nfm_hook_stats {
	unsigned int nr_functions;	/* kernel functions whose text was decoded */
	unsigned int nr_undecoded;	/* of those, stopped early at bytes the decoder refused */
	unsigned int nr_dispatch_targets;	/* system call functions x64_sys_call branches to */
	unsigned int nr_ftrace_ops;
	unsigned int nr_kprobes;
	unsigned int nr_livepatches;
	unsigned int nr_idt_gates;	/* present gates */
	unsigned int missing;		/* NFM_HOOKS_* checks this kernel lacks the structures for */
};

#define NFM_HOOKS_TEXT		0x01u
#define NFM_HOOKS_FTRACE	0x02u
#define NFM_HOOKS_KPROBE	0x04u
#define NFM_HOOKS_LIVEPATCH	0x08u
#define NFM_HOOKS_IDT		0x10u
#define NFM_HOOKS_ALL		0x1fu

/*
 * The hooks of the checks in mask (NFM_HOOKS_*): findings (ok false) and every registered
 * ftrace ops, kprobe and livepatch (ok true when the core kernel owns it). Returns the count
 * and *ret, one block the caller frees with free(); *stats (optional) filled. -errno when the
 * kernel's text or symbols cannot be read at all; a check whose structures this kernel lacks is
 * skipped and named in stats->missing.
 */
NFM_EXPORT int nfm_hooks(struct nfm_ctx *ctx, unsigned int mask, struct nfm_hook **ret,
			 struct nfm_hook_stats *stats);

/* "kernel", "module", "kernel-data", "none". */
NFM_EXPORT const char *nfm_owner_name(enum nfm_owner owner);
/* "text", "ftrace", "kprobe", "livepatch", "idt". */
NFM_EXPORT const char *nfm_hook_kind_name(enum nfm_hook_kind kind);

#ifdef __cplusplus
}
#endif

#endif
