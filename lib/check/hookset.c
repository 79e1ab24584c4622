// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What every hook check shares: the map of who owns which address (the kernel image, its text,
 * each listed module's memory) and the findings being gathered, each resolved to its owner and
 * symbol.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/check.h>
#include <nfm/context.h>
#include <nfm/system.h>

#include "check/hookset.h"
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

int owner_map_build(struct nfm_ctx *ctx, struct owner_map *m)
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
