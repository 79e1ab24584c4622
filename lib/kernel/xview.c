// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Cross-view checks: what one kernel structure says against another that should agree, the
 * traces a rootkit leaves when it patches one and not the other.
 *  - System call tables: every entry of sys_call_table (and ia32_sys_call_table) should be the
 *    start of a core-kernel function; a handler in a module, or in the middle of something,
 *    is a hook. (Since 6.9 x86-64 dispatches through a switch, but the table is still there,
 *    and still what hooking code patches.)
 *  - Modules: the modules list (what lsmod and /proc/modules walk, what list_del() hides a
 *    module from) against module_kset (/sys/module), where every loaded module's kobject stays.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/system.h>

#include "core/context.h"
#include "kernel/kernel.h"
#include "kernel/list.h"
#include "kernel/modules.h"
#include "kernel/pack.h"

#define MAX_SYSCALLS 1024
#define MAX_KOBJECTS 8192
#define MAX_MODULES 4096

/* The entries of one table: its symbol's extent, up to where the next symbol starts. */
static int syscall_table(struct nfm_ctx *ctx, struct nfm_pack *pk, const char *table, bool ia32,
			 uint64_t stext, uint64_t etext)
{
	uint64_t base, handlers[MAX_SYSCALLS];
	unsigned int n;

	if (nfm_sym_lookup(ctx, table, &base, NULL) < 0)
		return ia32 ? 0 : -ENOENT;	/* the compat table is optional */
	for (n = 0; n < MAX_SYSCALLS; n++) {
		const char *name;
		uint64_t off;

		if (nfm_sym_symbolize(ctx, base + 8ull * n, &name, NULL, &off) < 0 ||
		    strcmp(name, table) || off != 8ull * n)
			break;
	}
	if (!n || nfm_kread(ctx, base, handlers, 8ull * n) < 0)
		return -EBADMSG;
	/* Every syscall has a handler (sys_ni_syscall at least): zeros at the end are padding. */
	while (n && !handlers[n - 1])
		n--;
	for (unsigned int i = 0; i < n; i++) {
		struct nfm_syscall_entry *e = nfm_pack_add(pk);
		const char *name = NULL, *mod = NULL;
		uint64_t off = 0;

		if (!e)
			return -ENOMEM;
		e->nr = i;
		e->ia32 = ia32;
		e->handler = handlers[i];
		if (nfm_sym_symbolize_module(ctx, handlers[i], &name, NULL, &off, &mod) == 0) {
			e->symbol = nfm_pack_str(pk, name, strlen(name));
			e->offset = off;
			if (mod)
				e->module = nfm_pack_str(pk, mod, strlen(mod));
		}
		e->ok = name && !mod && !off && handlers[i] >= stext && handlers[i] < etext;
	}
	return 0;
}

int nfm_syscall_table(struct nfm_ctx *ctx, struct nfm_syscall_entry **ret)
{
	static const size_t fields[] = { offsetof(struct nfm_syscall_entry, symbol),
					 offsetof(struct nfm_syscall_entry, module) };
	uint64_t stext, etext;
	struct nfm_pack pk;
	int err;

	if (nfm_ksym(ctx, "_stext", &stext) < 0 || nfm_ksym(ctx, "_etext", &etext) < 0)
		return -ENOENT;
	nfm_pack_init(&pk, sizeof(struct nfm_syscall_entry));
	err = syscall_table(ctx, &pk, "sys_call_table", false, stext, etext);
	if (err == 0)
		err = syscall_table(ctx, &pk, "ia32_sys_call_table", true, stext, etext);
	if (err < 0) {
		nfm_pack_free(&pk);
		return err;
	}
	return nfm_pack_finish(&pk, fields, 2, (void **)ret);
}

struct kset_off {
	int32_t kset_list, kobj_entry, kobj_name, mk_kobj, mk_mod;
};

static const struct nfm_field_spec kset_specs[] = {
	NFM_FIELD(struct kset_off, kset_list, "kset", "list", 0),
	NFM_FIELD(struct kset_off, kobj_entry, "kobject", "entry", 0),
	NFM_FIELD(struct kset_off, kobj_name, "kobject", "name", 0),
	NFM_FIELD(struct kset_off, mk_kobj, "module_kobject", "kobj", 0),
	NFM_FIELD(struct kset_off, mk_mod, "module_kobject", "mod", 0),
};

static struct nfm_module_view *view_of(struct nfm_module_view *v, int n, uint64_t mod)
{
	for (int i = 0; i < n; i++)
		if (v[i].module == mod)
			return &v[i];
	return NULL;
}

int nfm_module_views(struct nfm_ctx *ctx, struct nfm_module_view **ret)
{
	struct nfm_module *mods;
	struct nfm_module_view *v;
	struct kset_off o;
	struct nfm_list_iter it;
	uint64_t kset_ptr, node;
	int n, cap, err;

	n = nfm_module_list(ctx, &mods, NULL);
	if (n < 0)
		return n;
	cap = n + 64;
	v = calloc((size_t)cap, sizeof(*v));
	if (!v) {
		free(mods);
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		memcpy(v[i].name, mods[i].name, sizeof(v[i].name));
		v[i].module = mods[i].module;
		v[i].in_list = true;
	}
	free(mods);
	err = nfm_resolve_fields(ctx, kset_specs, sizeof(kset_specs) / sizeof(kset_specs[0]), &o);
	if (err == 0)
		err = nfm_ksym(ctx, "module_kset", &kset_ptr);
	if (err == 0 && (nfm_kread_u64(ctx, kset_ptr, &kset_ptr) < 0 || !nfm_kptr_ok(ctx, kset_ptr)))
		err = -EBADMSG;
	if (err < 0) {
		free(v);
		return err;
	}
	/* Every kobject of module_kset; those embedded in a struct module point back at it. */
	nfm_list_iter_init(&it, ctx, kset_ptr + (uint64_t)o.kset_list, MAX_KOBJECTS);
	while (nfm_list_iter_next(&it, &node) > 0) {
		uint64_t kobj = nfm_container_of(node, o.kobj_entry);
		uint64_t mk = nfm_container_of(kobj, o.mk_kobj), mod = 0, name;
		struct nfm_module_view *e;

		if (nfm_kread_u64(ctx, mk + (uint64_t)o.mk_mod, &mod) < 0 || !mod)
			continue;	/* built-in: a module_kobject of its own, for parameters */
		if (!nfm_kptr_ok(ctx, mod))
			continue;
		e = view_of(v, n, mod);
		if (!e) {
			if (n == cap || n >= MAX_MODULES)
				break;
			e = &v[n++];
			e->module = mod;
			if (nfm_kread_u64(ctx, kobj + (uint64_t)o.kobj_name, &name) < 0 ||
			    nfm_kread_str(ctx, name, e->name, sizeof(e->name)) < 0)
				snprintf(e->name, sizeof(e->name), "?");
		}
		e->in_sysfs = true;
	}
	*ret = v;
	return n;
}
