// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A loaded module's own types: with CONFIG_DEBUG_INFO_BTF_MODULES (5.11+) the kernel keeps
 * each module's split BTF (types numbered on from vmlinux's), parsed by the BPF subsystem. A file system or driver built as a module (ext4 on Debian's generic kernels) has its
 * structs there and nowhere else.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/system.h>

#include "btf/btf.h"
#include "core/context.h"
#include "module/modules.h"
#include "walk/fields.h"
#include "walk/list.h"

/* A module's BTF blob is a few hundred KiB (ext4's: ~300 KiB); more is not a module's. */
#define MODULE_BTF_MAX (16u << 20)
#define MAX_BTF_MODULES 4096

struct modbtf_off {
	int32_t data, size;			/* module: .BTF while it initializes */
	int32_t bm_list, bm_module, bm_btf;	/* btf_module on btf_modules */
	int32_t btf_data, btf_size;		/* struct btf: its raw copy */
};

static const struct nfm_field_spec modbtf_specs[] = {
	NFM_FIELD(struct modbtf_off, data, "module", "btf_data", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct modbtf_off, size, "module", "btf_data_size", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct modbtf_off, bm_list, "btf_module", "list", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct modbtf_off, bm_module, "btf_module", "module", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct modbtf_off, bm_btf, "btf_module", "btf", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct modbtf_off, btf_data, "btf", "data", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct modbtf_off, btf_size, "btf", "data_size", NFM_FIELD_OPTIONAL),
};

/*
 * Where module mod's BTF is: mod->btf_data only while it initializes (do_init_module() then
 * clears it: the .BTF section is freed), after that the copy the BPF subsystem parsed, a
 * struct btf on the btf_modules list (kernel/bpf/btf.c) next to its module.
 */
static int find_blob(struct nfm_ctx *ctx, const struct modbtf_off *o, uint64_t mod,
		     uint64_t *data, uint32_t *size)
{
	struct nfm_list_iter it;
	uint64_t head, node, m, btf;
	int r, err;

	if ((err = nfm_kread(ctx, mod + (uint64_t)o->data, data, 8)) < 0 ||
	    (err = nfm_kread(ctx, mod + (uint64_t)o->size, size, 4)) < 0)
		return err;
	if (*data)
		return 0;
	if (o->bm_list < 0 || o->bm_module < 0 || o->bm_btf < 0 || o->btf_data < 0 ||
	    o->btf_size < 0 || nfm_ksym(ctx, "btf_modules", &head) < 0)
		return -ENOENT;
	nfm_list_iter_init(&it, ctx, head, MAX_BTF_MODULES);
	while ((r = nfm_list_iter_next(&it, &node)) > 0) {
		uint64_t bm = nfm_container_of(node, o->bm_list);

		if ((err = nfm_kread(ctx, bm + (uint64_t)o->bm_module, &m, 8)) < 0)
			return err;
		if (m != mod)
			continue;
		if ((err = nfm_kread(ctx, bm + (uint64_t)o->bm_btf, &btf, 8)) < 0)
			return err;
		if (!nfm_kptr_ok(ctx, btf))
			return -EBADMSG;
		if ((err = nfm_kread(ctx, btf + (uint64_t)o->btf_data, data, 8)) < 0 ||
		    (err = nfm_kread(ctx, btf + (uint64_t)o->btf_size, size, 4)) < 0)
			return err;
		return 0;
	}
	return r < 0 ? r : -ENOENT;	/* a module built without BTF, or a cut list */
}

int nfm_module_btf(struct nfm_ctx *ctx, const char *name, struct nfm_btf **ret)
{
	struct modbtf_off o;
	struct nfm_module *mods = NULL;
	uint64_t mod = 0, data;
	uint32_t size;
	bool trunc = false;
	void *blob;
	int n, err;

	if (!ctx || !ctx->btf || !name || !ret)
		return -EINVAL;
	if ((err = nfm_resolve_fields(ctx, modbtf_specs,
				      sizeof(modbtf_specs) / sizeof(modbtf_specs[0]), &o)) < 0)
		return err;
	if (o.data < 0 || o.size < 0)
		return -ENOENT;	/* before 5.11, or without CONFIG_DEBUG_INFO_BTF_MODULES */
	if ((n = nfm_module_list(ctx, &mods, &trunc)) < 0)
		return n;
	for (int i = 0; i < n && !mod; i++)
		if (!strcmp(mods[i].name, name) && !strcmp(mods[i].state, "Live"))
			mod = mods[i].module;
	free(mods);
	if (!mod)
		return -ENOENT;	/* not loaded (or built in) */
	if ((err = find_blob(ctx, &o, mod, &data, &size)) < 0)
		return err;
	if (!nfm_kptr_ok(ctx, data) || size < 24 || size > MODULE_BTF_MAX)
		return -EBADMSG;
	blob = malloc(size);
	if (!blob)
		return -ENOMEM;
	err = nfm_kread(ctx, data, blob, size);
	if (err == 0)
		err = nfm_btf_new_split(blob, size, ctx->btf, ret);
	free(blob);
	return err;
}
