/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Seed helpers shared by the fs targets: a root mount (ext4) with /etc/passwd, a procfs mounted
 * on /proc with /proc/self, init_task's fs->root and mount namespace (6.1: ns->list of
 * mount.mnt_list), inodes with modes and sizes.
 */
#ifndef NFM_FUZZ_COMMON_SEEDFS_H
#define NFM_FUZZ_COMMON_SEEDFS_H

#include "btfguest.h"

#define FZ_MNT(i) (0x20000u + (i) * 0x400u)	/* struct mount */
#define FZ_VFSMNT(i) (FZ_MNT(i) + fz_off("mount", "mnt"))
#define FZ_DENTRY(i) (0x21000u + (i) * 0x100u)
#define FZ_NAME(i) (0x22000u + (i) * 0x20u)
#define FZ_SB(i) (0x23000u + (i) * 0x800u)
#define FZ_FSTYPE(i) (0x22800u + (i) * 0x40u)
#define FZ_FS 0x25000u
#define FZ_NSPROXY 0x25400u
#define FZ_MNTNS 0x25800u
#define FZ_INODE(i) (0x26000u + (i) * 0x400u)
#define FZ_MNT_ROOT 0, FZ_MNT_PROC 1
enum { FZ_D_ROOT, FZ_D_ETC, FZ_D_PASSWD, FZ_D_PROC, FZ_D_PROCROOT, FZ_D_SELF, FZ_NDENTRY };

static inline void fz_seed_dentry(struct fz_seed *s, int i, int parent, const char *name,
				  uint16_t mode, uint64_t isize)
{
	uint32_t d = FZ_DENTRY(i), in = FZ_INODE(i);

	fz_put64(s, d + fz_off("dentry", "d_parent"), FZ_KV(FZ_DENTRY(parent)));
	fz_put32(s, d + fz_off("dentry", "d_name.len"), (uint32_t)strlen(name));
	fz_put64(s, d + fz_off("dentry", "d_name.name"), FZ_KV(FZ_NAME(i)));
	fz_putstr(s, FZ_NAME(i), name);
	if (i != parent)	/* hashed: d_hash.pprev set */
		fz_put64(s, d + fz_off("dentry", "d_hash.pprev"), FZ_KV(FZ_DENTRY(parent)));
	fz_put64(s, d + fz_off("dentry", "d_inode"), FZ_KV(in));
	fz_put16(s, in + fz_off("inode", "i_mode"), mode);
	fz_put64(s, in + fz_off("inode", "i_ino"), 100u + (unsigned)i);
	fz_put64(s, in + fz_off("inode", "i_size"), isize);
	fz_put64(s, in + fz_off("inode", "i_sb"), FZ_KV(FZ_SB(i >= FZ_D_PROCROOT)));
}

static inline void fz_seed_mount(struct fz_seed *s, int i, int parent, int mountpoint, int root,
				 const char *dev, const char *fstype)
{
	uint32_t m = FZ_MNT(i);

	fz_put64(s, m + fz_off("mount", "mnt_parent"), FZ_KV(FZ_MNT(parent)));
	fz_put64(s, m + fz_off("mount", "mnt_mountpoint"), FZ_KV(FZ_DENTRY(mountpoint)));
	fz_put64(s, FZ_VFSMNT(i) + fz_off("vfsmount", "mnt_root"), FZ_KV(FZ_DENTRY(root)));
	fz_put64(s, FZ_VFSMNT(i) + fz_off("vfsmount", "mnt_sb"), FZ_KV(FZ_SB(i)));
	fz_put64(s, m + fz_off("mount", "mnt_devname"), FZ_KV(FZ_NAME(8 + i)));
	fz_putstr(s, FZ_NAME(8 + i), dev);
	fz_put32(s, m + fz_off("mount", "mnt_id"), 20u + (unsigned)i);
	fz_put64(s, m + fz_off("mount", "mnt_ns"), FZ_KV(FZ_MNTNS));
	fz_put64(s, FZ_SB(i) + fz_off("super_block", "s_type"), FZ_KV(FZ_FSTYPE(i)));
	fz_put64(s, FZ_FSTYPE(i) + fz_off("file_system_type", "name"), FZ_KV(FZ_FSTYPE(i) + 0x20));
	fz_putstr(s, FZ_FSTYPE(i) + 0x20, fstype);
}

/* The tree, the mounts, and init_task's fs and mount namespace. */
static inline void fz_seed_fs(struct fz_seed *s)
{
	uint32_t init = fz_sym_pa("init_task"), ring[3];

	fz_seed_dentry(s, FZ_D_ROOT, FZ_D_ROOT, "/", 040755, 4096);
	fz_seed_dentry(s, FZ_D_ETC, FZ_D_ROOT, "etc", 040755, 4096);
	fz_seed_dentry(s, FZ_D_PASSWD, FZ_D_ETC, "passwd", 0100644, 5000);
	fz_seed_dentry(s, FZ_D_PROC, FZ_D_ROOT, "proc", 040555, 0);
	fz_seed_dentry(s, FZ_D_PROCROOT, FZ_D_PROCROOT, "/", 040555, 0);
	fz_seed_dentry(s, FZ_D_SELF, FZ_D_PROCROOT, "self", 0120777, 0);
	fz_seed_mount(s, 0, 0, FZ_D_ROOT, FZ_D_ROOT, "/dev/vda1", "ext4");
	fz_seed_mount(s, 1, 0, FZ_D_PROC, FZ_D_PROCROOT, "proc", "proc");
	fz_put64(s, init + fz_off("task_struct", "fs"), FZ_KV(FZ_FS));
	fz_put64(s, init + fz_off("task_struct", "nsproxy"), FZ_KV(FZ_NSPROXY));
	fz_put64(s, FZ_FS + fz_off("fs_struct", "root") + fz_off("path", "mnt"),
		 FZ_KV(FZ_VFSMNT(0)));
	fz_put64(s, FZ_FS + fz_off("fs_struct", "root") + fz_off("path", "dentry"),
		 FZ_KV(FZ_DENTRY(FZ_D_ROOT)));
	fz_put64(s, FZ_NSPROXY + fz_off("nsproxy", "mnt_ns"), FZ_KV(FZ_MNTNS));
	fz_put32(s, FZ_MNTNS + fz_off("mnt_namespace", "mounts"), 2);
	ring[0] = FZ_MNTNS + fz_off("mnt_namespace", "list");
	ring[1] = FZ_MNT(0) + fz_off("mount", "mnt_list");
	ring[2] = FZ_MNT(1) + fz_off("mount", "mnt_list");
	fz_ring(s, ring, 3);
}

#endif
