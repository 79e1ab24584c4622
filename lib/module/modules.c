// SPDX-License-Identifier: GPL-2.0-or-later
/* The modules list as /proc/modules prints it (kernel/module/procfs.c m_show). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/system.h>

#include "core/context.h"
#include "walk/fields.h"
#include "walk/list.h"
#include "module/modules.h"
#include "util/pack.h"

#define MAX_MODULES 4096
#define MAX_USERS 256

static const struct nfm_field_spec mod_specs[] = {
	NFM_FIELD(struct mod_off, state, "module", "state", 0),
	NFM_FIELD(struct mod_off, list, "module", "list", 0),
	NFM_FIELD(struct mod_off, name, "module", "name", 0),
	NFM_FIELD(struct mod_off, init, "module", "init", 0),
	NFM_FIELD(struct mod_off, exit, "module", "exit", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct mod_off, taints, "module", "taints", 0),
	NFM_FIELD(struct mod_off, refcnt, "module", "refcnt", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct mod_off, source_list, "module", "source_list", NFM_FIELD_OPTIONAL),
	/* 6.4 (ac3b43283923 "module: replace module_layout with module_memory") */
	NFM_FIELD(struct mod_off, mem, "module", "mem", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct mod_off, mem_size, "module_memory", "", NFM_FIELD_SIZE | NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct mod_off, mm_base, "module_memory", "base", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct mod_off, mm_size, "module_memory", "size", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct mod_off, core_layout, "module", "core_layout", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct mod_off, init_layout, "module", "init_layout", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct mod_off, ly_base, "module_layout", "base", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct mod_off, ly_size, "module_layout", "size", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct mod_off, use_source_list, "module_use", "source_list", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct mod_off, use_source, "module_use", "source", NFM_FIELD_OPTIONAL),
};

static int make_mod_off(struct nfm_ctx *ctx, void *block)
{
	struct mod_off *o = block;
	int64_t v;
	int err = nfm_resolve_fields(ctx, mod_specs, sizeof(mod_specs) / sizeof(mod_specs[0]), o);

	if (err == 0 && o->mem >= 0) {
		err = nfm_btf_enum_value(ctx->btf, "MOD_MEM_NUM_TYPES", &v);
		if (err == 0 && (v < 1 || v > 16 || o->mem_size <= 0 || o->mm_base < 0 || o->mm_size < 0))
			err = -ENOENT;
		o->nr_mem = (int32_t)v;
	} else if (err == 0 && (o->core_layout < 0 || o->init_layout < 0 || o->ly_base < 0 ||
				o->ly_size < 0)) {
		err = -ENOENT;
	}
	if (err == -ENOENT)
		nfm_err(&ctx->log, "this kernel's struct module has neither mem[] nor core_layout");
	return err;
}

int nfm_module_offsets(struct nfm_ctx *ctx, const struct mod_off **ret)
{
	int err;

	*ret = nfm_kernel_layout(ctx, NFM_SLOT_MODULES, sizeof(struct mod_off), make_mod_off, &err);
	return err;
}

/* Taint letters of module-relevant flags, by bit (kernel/panic.c taint_flags[] with module=true). */
static void taint_letters(uint64_t taints, int state, char *out, size_t size)
{
	/* module_flags(): "(...)" only when the module has any taint bit at all. */
	static const struct { int bit; char c; } flags[] = {
		{ 0, 'P' }, { 1, 'F' }, { 10, 'C' }, { 12, 'O' }, { 13, 'E' },
		{ 15, 'K' }, { 16, 'X' }, { 17, 'T' }, { 18, 'N' },
	};
	size_t n = 1, i;

	out[0] = 0;
	if (!taints)
		return;
	out[0] = '(';
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]) && n + 2 < size; i++)
		if (taints & (1ull << flags[i].bit))
			out[n++] = flags[i].c;
	/* MODULE_STATE_GOING 2, MODULE_STATE_COMING 1 */
	if (state == 2 && n + 2 < size)
		out[n++] = '-';
	else if (state == 1 && n + 2 < size)
		out[n++] = '+';
	out[n++] = ')';
	out[n] = 0;
}

/* "a,b," for every module using this one, "[permanent]," or "-" (print_unload_info). */
static void users(struct nfm_ctx *ctx, const struct mod_off *o, uint64_t mod, const uint8_t *m,
		  char *out, size_t size)
{
	struct nfm_list_iter it;
	uint64_t node, src, init, exit_fn = 0;
	size_t n = 0;
	char name[56];

	out[0] = 0;
	if (o->source_list >= 0 && o->use_source_list >= 0 && o->use_source >= 0) {
		nfm_list_iter_init(&it, ctx, mod + (uint64_t)o->source_list, MAX_USERS);
		while (nfm_list_iter_next(&it, &node) > 0) {
			uint64_t use = nfm_container_of(node, o->use_source_list);

			if (nfm_kread_u64(ctx, use + (uint64_t)o->use_source, &src) < 0 ||
			    !nfm_kptr_ok(ctx, src) ||
			    nfm_kread_str(ctx, src + (uint64_t)o->name, name, sizeof(name)) < 0)
				continue;
			n += (size_t)snprintf(out + n, n < size ? size - n : 0, "%s,", name);
			if (n >= size) {
				out[size - 1] = 0;
				return;
			}
		}
	}
	memcpy(&init, m + o->init, 8);
	if (o->exit >= 0)
		memcpy(&exit_fn, m + o->exit, 8);
	if (init && o->exit >= 0 && !exit_fn) {
		n += (size_t)snprintf(out + n, n < size ? size - n : 0, "[permanent],");
	}
	if (!out[0])
		snprintf(out, size, "-");
}

int nfm_module_list(struct nfm_ctx *ctx, struct nfm_module **ret, bool *truncated)
{
	static const size_t fields[] = { offsetof(struct nfm_module, users),
					 offsetof(struct nfm_module, state) };
	const struct mod_off *o;
	struct nfm_list_iter it;
	struct nfm_pack pk;
	uint64_t head, node;
	size_t msize;
	uint8_t *m;
	int err, r;

	err = nfm_module_offsets(ctx, &o);
	if (err < 0)
		return err;
	err = nfm_ksym(ctx, "modules", &head);
	if (err < 0)
		return err;
	/* Enough of struct module for every member read here in one go. */
	msize = (size_t)o->name + 56;
#define NEED(x) do { if ((x) >= 0 && (size_t)(x) + 16 > msize) msize = (size_t)(x) + 16; } while (0)
	NEED(o->state); NEED(o->init); NEED(o->exit); NEED(o->taints); NEED(o->refcnt);
	if (o->mem >= 0)
		NEED(o->mem + o->nr_mem * o->mem_size);
	else {
		NEED(o->core_layout + o->ly_size + 8);
		NEED(o->init_layout + o->ly_size + 8);
	}
#undef NEED
	m = malloc(msize);
	if (!m)
		return -ENOMEM;
	nfm_pack_init(&pk, sizeof(struct nfm_module));
	nfm_list_iter_init(&it, ctx, head, MAX_MODULES);
	while ((r = nfm_list_iter_next(&it, &node)) > 0) {
		uint64_t mod = nfm_container_of(node, o->list), taints, size = 0, base;
		struct nfm_module *e;
		char ubuf[1024];
		uint32_t st, rc = 0, sz;
		int i;

		if (nfm_kread(ctx, mod, m, msize) < 0)
			continue;
		memcpy(&st, m + o->state, 4);
		if (st == 3)
			continue;	/* MODULE_STATE_UNFORMED: m_show() skips it */
		e = nfm_pack_add(&pk);
		if (!e)
			break;
		e->module = mod;
		memcpy(e->name, m + o->name, sizeof(e->name));
		e->name[sizeof(e->name) - 1] = 0;
		e->state = nfm_pack_str(&pk, st == 2 ? "Unloading" : st == 1 ? "Loading" : "Live",
					st == 2 ? 9 : st == 1 ? 7 : 4);
		if (o->mem >= 0) {
			for (i = 0; i < o->nr_mem; i++) {
				memcpy(&sz, m + o->mem + i * o->mem_size + o->mm_size, 4);
				size += sz;
			}
			memcpy(&base, m + o->mem + o->mm_base, 8);	/* mem[MOD_TEXT] */
		} else {
			memcpy(&sz, m + o->core_layout + o->ly_size, 4);
			size = sz;
			memcpy(&sz, m + o->init_layout + o->ly_size, 4);
			size += sz;
			memcpy(&base, m + o->core_layout + o->ly_base, 8);
		}
		e->size = (uint32_t)size;	/* the kernel prints an unsigned int */
		e->address = base;
		if (o->refcnt >= 0) {
			memcpy(&rc, m + o->refcnt, 4);
			e->refcount = (int)rc - 1;	/* MODULE_REF_BASE */
		} else {
			e->refcount = -1;
		}
		memcpy(&taints, m + o->taints, 8);
		taint_letters(taints, (int)st, e->taints, sizeof(e->taints));
		if (o->refcnt >= 0)
			users(ctx, o, mod, m, ubuf, sizeof(ubuf));
		else
			snprintf(ubuf, sizeof(ubuf), "-");
		e->users = nfm_pack_str(&pk, ubuf, strlen(ubuf));
	}
	free(m);
	if (truncated)
		*truncated = r < 0;
	return nfm_pack_finish(&pk, fields, 2, (void **)ret);
}
