/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A QEMU command line's NICs and their links (qemu_nics.c): pure, no I/O. */
#ifndef NFM_LIB_SOURCE_QEMU_NICS_H
#define NFM_LIB_SOURCE_QEMU_NICS_H

#include <stddef.h>

#include <nfm/source.h>

#define NFM_QEMU_MAX_NICS 16

/* One -netdev, -nic, -net or -device option into *st (allocated on first use); 0 or -ENOMEM. */
struct nfm_qemu_nic_state;
int nfm_qemu_nic_opt(struct nfm_qemu_nic_state **st, const char *opt, const char *v);

/* Once every option is read: the NICs into out (NFM_QEMU_MAX_NICS at most), their number;
 * frees st. Links as the command line gives them ("tap:IF", "tapfd:N" before
 * nfm_vm_nics() resolves them against the host). */
size_t nfm_qemu_nics_finish(struct nfm_qemu_nic_state *st, struct nfm_vm_nic *out);

#endif
