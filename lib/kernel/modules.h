/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NFM_LIB_KERNEL_MODULES_H
#define NFM_LIB_KERNEL_MODULES_H

#include <stddef.h>
#include <stdint.h>

struct nfm_ctx;

/* The name of the module whose memory holds addr (text first): 0, -ENOENT, -errno. */
int nfm_module_containing(struct nfm_ctx *ctx, uint64_t addr, char *name, size_t size);

#endif
