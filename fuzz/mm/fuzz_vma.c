// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A process's memory map (lib/mm/mm.c): the mm at pa 8 (task at pa 0), its VMA maple tree,
 * each VMA's range, flags, file path or name ([heap], [stack], anon names, special mappings),
 * formatted as /proc/PID/maps, and the check against mm->map_count.
 */
#include <nfm/task.h>

#include "../common/seedfs.h"

#define MM 0x2b000u
#define NODE 0x2c000u	/* a maple_leaf_64: parent, pivot[15], slot[16] */
#define VMA(i) (0x2d000u + (i) * 0x100u)
#define FILE_ 0x2e000u

static void vma(struct fz_seed *s, int i, uint64_t start, uint64_t end, uint64_t flags)
{
	fz_put64(s, VMA(i) + fz_off("vm_area_struct", "vm_start"), start);
	fz_put64(s, VMA(i) + fz_off("vm_area_struct", "vm_end"), end);
	fz_put64(s, VMA(i) + fz_off("vm_area_struct", "vm_flags"), flags);
}

static void seed(struct fz_seed *s)
{
	static const uint64_t piv[] = { 0x3fffff, 0x400fff, 0x601fff, 0x7ffffffdcfff,
					0x7ffffffff000 - 1 };
	static const int slot[] = { -1, 0, 1, -1, 2 };
	unsigned int i;

	fz_seed_fs(s);
	fz_put64(s, 0, FZ_KV(FZ_OBJ));
	fz_put64(s, 8, FZ_KV(MM));
	fz_put64(s, MM + fz_off("mm_struct", "mm_mt.ma_root"), FZ_KV(NODE) | (1u << 3) | 2);
	fz_put32(s, MM + fz_off("mm_struct", "map_count"), 3);
	fz_put64(s, MM + fz_off("mm_struct", "start_brk"), 0x600000);
	fz_put64(s, MM + fz_off("mm_struct", "brk"), 0x602000);
	fz_put64(s, MM + fz_off("mm_struct", "start_stack"), 0x7ffffffde100);
	fz_put(s, NODE + 248, "\5", 1);	/* ma_meta.end: slot 5, empty up to ULONG_MAX */
	for (i = 0; i < sizeof(piv) / sizeof(piv[0]); i++) {
		fz_put64(s, NODE + 8 + 8 * i, piv[i]);
		if (slot[i] >= 0)
			fz_put64(s, NODE + 128 + 8 * i, FZ_KV(VMA(slot[i])));
	}
	vma(s, 0, 0x400000, 0x401000, 0x875);	/* r-xp, a file */
	vma(s, 1, 0x600000, 0x602000, 0x100073);	/* rw-p [heap] */
	vma(s, 2, 0x7ffffffdd000, 0x7ffffffff000, 0x100173);	/* [stack] */
	fz_put64(s, VMA(0) + fz_off("vm_area_struct", "vm_file"), FZ_KV(FILE_));
	fz_put64(s, FILE_ + fz_off("file", "f_path") + fz_off("path", "mnt"), FZ_KV(FZ_VFSMNT(0)));
	fz_put64(s, FILE_ + fz_off("file", "f_path") + fz_off("path", "dentry"),
		 FZ_KV(FZ_DENTRY(FZ_D_PASSWD)));
	fz_put64(s, FILE_ + fz_off("file", "f_inode"), FZ_KV(FZ_INODE(FZ_D_PASSWD)));
}

FZ_SEED_INIT(seed)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_guest *g = fz_guest_new(data, size);
	struct nfm_task t = { .addr = g->root[0], .mm = g->root[1], .pid = 1, .tgid = 1 };
	struct nfm_vma_iter *it;
	struct nfm_vma v;
	char line[4600];
	int n = 0, r;

	if (nfm_vma_iter_new(g->ctx, &t, &it) == 0) {
		while ((r = nfm_vma_iter_next(it, &v)) > 0) {
			nfm_vma_format(&v, line, sizeof(line));
			n++;
		}
		fz_report("vmas", n, nfm_vma_iter_status(it));
		nfm_vma_iter_free(it);
	}
	fz_guest_free(g);
	return 0;
}
