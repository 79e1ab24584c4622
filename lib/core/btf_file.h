/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Types from a file for a kernel without BTF (btf_file.c). */
#ifndef NFM_LIB_CORE_BTF_FILE_H
#define NFM_LIB_CORE_BTF_FILE_H

#include <stddef.h>

struct nfm_btf;
struct nfm_ctx;
struct nfm_vmcoreinfo;

/*
 * Every OFFSET(struct.member) and SIZE(type) of VMCOREINFO that btf also has must agree: the
 * number checked, or -EBADMSG with the first disagreement in why.
 */
int nfm_btf_check_vmcoreinfo(const struct nfm_btf *btf, const struct nfm_vmcoreinfo *vi,
			     char *why, size_t size);

/* Why path gave no types (err from nfm_btf_new_file()), one phrase into why. */
void nfm_btf_file_why(const char *path, int err, char *why, size_t size);

/* ctx->btf from path (--btf), checked; 0 or -errno (said through the log). */
int nfm_btf_from_file(struct nfm_ctx *ctx, const char *path);

/* ctx->btf from a file found by the guest's release ($NFM_BTF_PATH, /usr/lib/debug/boot, /boot,
 * /usr/lib/debug/lib/modules/RELEASE); 0, or -ENOENT with what was tried and why in tried. */
int nfm_btf_find_file(struct nfm_ctx *ctx, char *tried, size_t size);

#endif
