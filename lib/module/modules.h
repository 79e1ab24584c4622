/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NFM_LIB_MODULE_MODULES_H
#define NFM_LIB_MODULE_MODULES_H

#include <stddef.h>
#include <stdint.h>

struct nfm_ctx;

/* struct module's members the walkers read (BTF offsets; -1: absent in this kernel). */
struct mod_off {
	int32_t state, list, name, init, exit, taints, refcnt, source_list;
	int32_t mem, mem_size, mm_base, mm_size;		/* 6.4+: mod->mem[] */
	int32_t core_layout, init_layout, ly_base, ly_size;	/* before 6.4 */
	int32_t use_source_list, use_source;
	int32_t nr_mem;
};

/* Resolved once per attach: 0 and *ret, or -errno (said through the log). */
int nfm_module_offsets(struct nfm_ctx *ctx, const struct mod_off **ret);

/*
 * Loaded modules' symbols (modsyms.c; nfm_modsym_count/get are public): the first defined one
 * of that name ("module:name": in that module), and the one holding addr in the module whose
 * memory holds it. 0, -ENOENT, -errno.
 */
int nfm_modsym_lookup(struct nfm_ctx *ctx, const char *name, uint64_t *addr, char *type,
		      const char **module);
int nfm_modsym_symbolize(struct nfm_ctx *ctx, uint64_t addr, const char **name, char *type,
			 uint64_t *offset, const char **module);

/*
 * Module `name`'s split BTF (on the kernel's), read from guest memory: free with nfm_btf_free()
 * before the context. 0, -ENOENT (not loaded, or no module BTF in this kernel), -EBADMSG.
 */
struct nfm_btf;
int nfm_module_btf(struct nfm_ctx *ctx, const char *name, struct nfm_btf **ret);

#endif
