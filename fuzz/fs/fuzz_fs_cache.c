// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Files from the dentry and page caches (lib/fs/fs_cache.c): pid 1's root, a path resolved
 * through d_subdirs/d_child lists and mounts, a directory listed, a file read from its
 * inode->i_mapping->i_pages xarray (struct page -> pfn through vmemmap_base).
 */
#include <nfm/system.h>

#include "../common/seedfs.h"
#include "../common/seedtask.h"

#define VMEMMAP 0x40000u	/* struct page array: page of pfn p at VMEMMAP + 64 p */
#define DATA_PFN 0x50u
#define MAPPING_ 0x2f000u

/* Children of dentry p: its d_subdirs ring of their d_child. */
static void children(struct fz_seed *s, int p, const int *kids, int n)
{
	uint32_t ring[8];
	int i;

	ring[0] = FZ_DENTRY(p) + fz_off("dentry", "d_subdirs");
	for (i = 0; i < n; i++)
		ring[i + 1] = FZ_DENTRY(kids[i]) + fz_off("dentry", "d_child");
	fz_ring(s, ring, n + 1);
}

static void seed(struct fz_seed *s)
{
	static const int root[] = { FZ_D_ETC, FZ_D_PROC }, etc[] = { FZ_D_PASSWD },
			 proc[] = { FZ_D_SELF };
	uint32_t t[1] = { FZ_OBJ }, sig = FZ_OBJ + 0x3000, page = VMEMMAP + 64 * DATA_PFN;
	char text[64] = "root:x:0:0:root:/root:/bin/bash\n";

	fz_seed_fs(s);
	fz_seed_tasks(s, t, 1);
	fz_seed_task(s, t[0], 1, 1, "init", sig, 1);
	fz_seed_threads(s, sig, t, 1);
	fz_put64(s, t[0] + fz_off("task_struct", "fs"), FZ_KV(FZ_FS));
	fz_put64(s, t[0] + fz_off("task_struct", "nsproxy"), FZ_KV(FZ_NSPROXY));
	children(s, FZ_D_ROOT, root, 2);
	children(s, FZ_D_ETC, etc, 1);
	children(s, FZ_D_PROCROOT, proc, 1);
	fz_put64(s, fz_sym_pa("vmemmap_base"), FZ_KV(VMEMMAP));
	fz_put64(s, FZ_INODE(FZ_D_PASSWD) + fz_off("inode", "i_mapping"), FZ_KV(MAPPING_));
	fz_put64(s, MAPPING_ + fz_off("address_space", "nrpages"), 1);
	fz_put64(s, MAPPING_ + fz_off("address_space", "i_pages") + fz_off("xarray", "xa_head"),
		 FZ_KV(page));
	fz_put64(s, page + fz_off("page", "mapping"), FZ_KV(MAPPING_));
	fz_put64(s, page + fz_off("page", "index"), 0);
	fz_put(s, DATA_PFN << 12, text, sizeof(text));
}

FZ_SEED_INIT(seed)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_guest *g = fz_guest_new(data, size);
	struct nfm_fs_read_stat st;
	struct nfm_fs_entry *e = NULL;
	bool trunc = false;
	void *buf = NULL;
	int n;

	n = nfm_fs_list(g->ctx, "/etc", &e, &trunc);
	fz_report("ls /etc", n, trunc);
	if (n >= 0)
		free(e);
	n = nfm_fs_read(g->ctx, "/etc/passwd", &buf, &st);
	fz_report("read /etc/passwd", n, (int)st.size);
	if (n >= 0)
		free(buf);
	fz_guest_free(g);
	return 0;
}
