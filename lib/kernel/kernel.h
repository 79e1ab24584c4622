/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NFM_LIB_KERNEL_KERNEL_H
#define NFM_LIB_KERNEL_KERNEL_H

struct nfm_kernel;
void nfm_kernel_free(struct nfm_kernel *l);

#endif
