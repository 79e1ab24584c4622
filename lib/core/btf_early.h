/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The guest's BTF loaded on a second thread during the kallsyms decode (btf_early.c). */
#ifndef NFM_LIB_CORE_BTF_EARLY_H
#define NFM_LIB_CORE_BTF_EARLY_H

#include <stdint.h>

struct nfm_ctx;
struct nfm_btf;

/* Start reading and parsing [start, stop) (kernel image addresses); nothing if not possible. */
void nfm_btf_early_start(struct nfm_ctx *ctx, uint64_t start, uint64_t stop);

/* Wait for it: 0 and *ret (NULL ret: discard), -ENOENT if none was started, or its -errno. */
int nfm_btf_early_join(struct nfm_ctx *ctx, struct nfm_btf **ret);

#endif
