// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nfm_hooks(): the hooks current rootkits use (include/nfm/check.h), each handler or branch
 * target resolved to its owner through one map of the kernel image and the listed modules'
 * memory. A module unlinked from the modules list is not in the map: what it owns is "none".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/check.h>
#include <nfm/context.h>
#include <nfm/system.h>

#include "check/hookset.h"
#include "core/context.h"

int nfm_hooks(struct nfm_ctx *ctx, unsigned int mask, struct nfm_hook **ret,
	      struct nfm_hook_stats *stats)
{
	static const size_t fields[] = { offsetof(struct nfm_hook, what),
					 offsetof(struct nfm_hook, site_symbol),
					 offsetof(struct nfm_hook, symbol),
					 offsetof(struct nfm_hook, module) };
	struct hookset h = { .ctx = ctx };
	int err;

	if (ctx->mmu->arch != NFM_MMU_X86_64) {
		/* the text checks decode x86-64 code, the IDT is x86's: no guessing elsewhere */
		nfm_err(&ctx->log, "the text, ftrace, kprobe and IDT checks read x86-64 code: "
			"not done on arm64 guests yet");
		return -EOPNOTSUPP;
	}
	err = owner_map_build(ctx, &h.om);
	if (err < 0)
		return err;
	nfm_pack_init(&h.pk, sizeof(struct nfm_hook));
	/* ftrace and kprobes first: their trampolines and probe sites explain patched text. */
	if ((mask & NFM_HOOKS_FTRACE) && check_ftrace(&h) < 0)
		h.st.missing |= NFM_HOOKS_FTRACE;
	if ((mask & NFM_HOOKS_KPROBE) && check_kprobes(&h) < 0)
		h.st.missing |= NFM_HOOKS_KPROBE;
	if ((mask & NFM_HOOKS_LIVEPATCH) && check_livepatch(&h) < 0)
		h.st.missing |= NFM_HOOKS_LIVEPATCH;
	err = 0;
	if (mask & NFM_HOOKS_TEXT)
		err = check_text(&h);
	if (err == 0 && (mask & NFM_HOOKS_IDT) && check_idt(&h) < 0)
		h.st.missing |= NFM_HOOKS_IDT;
	free(h.om.r);
	free(h.known.tramp);
	free(h.known.probes);
	if (err == 0 && h.pk.err)
		err = h.pk.err;
	if (err < 0) {
		nfm_pack_free(&h.pk);
		return err;
	}
	if (stats)
		*stats = h.st;
	return nfm_pack_finish(&h.pk, fields, sizeof(fields) / sizeof(fields[0]), (void **)ret);
}

const char *nfm_owner_name(enum nfm_owner owner)
{
	switch (owner) {
	case NFM_OWNER_KERNEL: return "kernel";
	case NFM_OWNER_MODULE: return "module";
	case NFM_OWNER_KERNEL_DATA: return "kernel-data";
	case NFM_OWNER_NONE: return "none";
	}
	return "?";
}

const char *nfm_hook_kind_name(enum nfm_hook_kind kind)
{
	switch (kind) {
	case NFM_HOOK_TEXT: return "text";
	case NFM_HOOK_FTRACE: return "ftrace";
	case NFM_HOOK_KPROBE: return "kprobe";
	case NFM_HOOK_LIVEPATCH: return "livepatch";
	case NFM_HOOK_IDT: return "idt";
	}
	return "?";
}
