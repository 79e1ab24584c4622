// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The mount table (lib/fs/mount.c) as nfm_mount_list reads it: pid 1's (else init_task's) mount
 * namespace, each mount's device, path (d_path across parents), file system type and options.
 */
#include <nfm/system.h>

#include "../common/seedfs.h"

static void seed(struct fz_seed *s)
{
	fz_seed_fs(s);
}

FZ_SEED_INIT(seed)

FZ_LIST_TARGET(nfm_mount_list, struct nfm_mount, "mounts")
