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

#include "check/hooks.h"
#include "core/context.h"

#define MAX_MODULES 4096
#define MOD_RANGES 8

enum nfm_owner owner_of(const struct owner_map *m, uint64_t addr, const char **module)
{
	if (module)
		*module = NULL;
	if (addr >= m->text_lo && addr < m->text_hi)
		return NFM_OWNER_KERNEL;
	for (size_t i = 0; i < m->n; i++)
		if (addr >= m->r[i].lo && addr < m->r[i].hi) {
			if (module)
				*module = m->r[i].name;
			return NFM_OWNER_MODULE;
		}
	if (addr >= m->image_lo && addr < m->image_hi)
		return NFM_OWNER_KERNEL_DATA;
	return NFM_OWNER_NONE;
}

static int owner_map_build(struct nfm_ctx *ctx, struct owner_map *m)
{
	struct nfm_module *mods;
	int n;

	memset(m, 0, sizeof(*m));
	if (nfm_ksym(ctx, "_stext", &m->text_lo) < 0 || nfm_ksym(ctx, "_etext", &m->text_hi) < 0 ||
	    m->text_hi <= m->text_lo)
		return -ENOENT;
	if (nfm_ksym(ctx, "_text", &m->image_lo) < 0)
		m->image_lo = m->text_lo;
	if (nfm_ksym(ctx, "_end", &m->image_hi) < 0 || m->image_hi < m->text_hi)
		m->image_hi = m->text_hi;
	n = nfm_module_list(ctx, &mods, NULL);
	if (n < 0)
		return n;
	if (n > MAX_MODULES)
		n = MAX_MODULES;
	m->r = calloc((size_t)n * MOD_RANGES + 1, sizeof(*m->r));
	if (!m->r) {
		free(mods);
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		uint64_t rg[MOD_RANGES][2];
		int k = nfm_module_memory(ctx, mods[i].module, rg, MOD_RANGES);

		for (int j = 0; j < k; j++) {
			if (rg[j][1] <= rg[j][0])
				continue;
			m->r[m->n].lo = rg[j][0];
			m->r[m->n].hi = rg[j][1];
			memcpy(m->r[m->n].name, mods[i].name, sizeof(m->r[m->n].name));
			m->r[m->n].name[sizeof(m->r[m->n].name) - 1] = 0;
			m->n++;
		}
	}
	free(mods);
	return 0;
}

struct nfm_hook *hook_add(struct hookset *h, enum nfm_hook_kind kind, const char *what,
			  uint64_t object, uint64_t site, uint64_t target)
{
	struct nfm_hook *e = nfm_pack_add(&h->pk);
	const char *name, *mod = NULL;
	uint64_t off;

	if (!e)
		return NULL;
	e->kind = kind;
	e->what = nfm_pack_str(&h->pk, what, strlen(what));
	e->object = object;
	e->site = site;
	e->target = target;
	if (target) {
		e->owner = owner_of(&h->om, target, &mod);
		e->ok = e->owner == NFM_OWNER_KERNEL;
		if (mod)
			e->module = nfm_pack_str(&h->pk, mod, strlen(mod));
		if (e->owner != NFM_OWNER_NONE &&
		    nfm_sym_symbolize_module(h->ctx, target, &name, NULL, &off, NULL) == 0) {
			e->symbol = nfm_pack_str(&h->pk, name, strlen(name));
			e->offset = off;
		}
	}
	if (site && nfm_sym_symbolize_module(h->ctx, site, &name, NULL, &off, NULL) == 0) {
		e->site_symbol = nfm_pack_str(&h->pk, name, strlen(name));
		e->site_offset = off;
	}
	return e;
}

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
