// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Dentry paths (lib/fs/path.c): d_path() of the (dentry, vfsmount) at pa 0 and 8 against the
 * reader's root (init_task's fs->root), across mounts, and the dentry's own name.
 */
#include "../common/seedfs.h"
#include "fs/path.h"

static void seed(struct fz_seed *s)
{
	fz_seed_fs(s);
	fz_put64(s, 0, FZ_KV(FZ_DENTRY(FZ_D_SELF)));
	fz_put64(s, 8, FZ_KV(FZ_VFSMNT(1)));
}

FZ_SEED_INIT(seed)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_guest *g = fz_guest_new(data, size);
	char buf[4096];
	int r;

	r = nfm_path_d_path(g->ctx, g->root[0], g->root[1], buf, sizeof(buf));
	fz_report(r >= 0 ? buf : "d_path", r, 0);
	r = nfm_path_dentry_name(g->ctx, g->root[0], buf, sizeof(buf));
	fz_report(r >= 0 ? buf : "name", r, 0);
	fz_guest_free(g);
	return 0;
}
