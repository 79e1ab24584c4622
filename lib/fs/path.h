/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * d_path(): the path of a (dentry, vfsmount) pair exactly as the guest's /proc shows it
 * (/proc/PID/fd links, /proc/PID/maps, /proc/mounts mount points), computed from guest memory.
 *
 * Follows fs/d_path.c: walk dentry->d_parent up to the mount's root, then cross to the parent
 * mount through mount->mnt_mountpoint/mnt_parent, until the reader's root (the root of pid 1,
 * where /proc is usually read from) or the top of a detached tree. " (deleted)" is appended for an
 * unlinked dentry (d_unlinked: unhashed and not a root). Pseudo files whose dentry has a
 * d_op->d_dname show what that function prints: "pipe:[INO]", "socket:[INO]",
 * "anon_inode:NAME", "NS:[INO]" (nsfs), "/NAME (deleted)" (simple_dname); an unknown d_dname
 * gives "NAME" (its dentry name) and -ENOTSUP is not returned for it: the path is still useful.
 *
 * Bounds: at most NFM_PATH_MAX_DEPTH components and NFM_PATH_MAX bytes (the kernel's page-sized
 * buffer); names longer than 255 bytes are guest corruption. Names are raw guest bytes; callers
 * escape them for terminals. A name that could forge a path (containing '/', or "." or "..") has
 * those bytes as the overlong UTF-8 forms C0 AF / C0 AE, which every output shows escaped.
 *
 * Used by the process view (maps, lsof) and the system view (mounts).
 */
#ifndef NFM_LIB_FS_PATH_H
#define NFM_LIB_FS_PATH_H

#include <stddef.h>
#include <stdint.h>

struct nfm_ctx;

#define NFM_PATH_MAX 4096
#define NFM_PATH_MAX_DEPTH 1024

/*
 * The path of dentry seen through vfsmount (the struct vfsmount address, as in struct path.mnt)
 * into buf (NUL-terminated; size >= 2). Returns the length (without the NUL), or -EFAULT/-EIO
 * (unreadable), -EBADMSG (bad pointer or name), -ELOOP (depth bound or a cycle),
 * -ENAMETOOLONG (longer than size - 1 or NFM_PATH_MAX), -ENOENT (types missing from BTF).
 * buf is written only on success.
 */
int nfm_path_d_path(struct nfm_ctx *ctx, uint64_t dentry, uint64_t vfsmount, char *buf, size_t size);

/* The path of an open struct file (file->f_path), as readlink(/proc/PID/fd/N) shows it. */
int nfm_path_file(struct nfm_ctx *ctx, uint64_t file, char *buf, size_t size);

/* The dentry's own name (d_name), NUL-terminated. Length or -errno. */
int nfm_path_dentry_name(struct nfm_ctx *ctx, uint64_t dentry, char *buf, size_t size);

/*
 * The inode of a file (file->f_inode) and its number and device (inode->i_sb->s_dev as the kernel's
 * dev_t: major = dev >> 20, minor = dev & 0xfffff). Any out-parameter may be NULL.
 */
int nfm_path_file_inode(struct nfm_ctx *ctx, uint64_t file, uint64_t *inode, uint64_t *ino,
			uint32_t *dev);

/*
 * Override the reader's root (default: pid 1's fs->root, else init_task's). Both 0: back to the
 * default. For tools showing paths as seen from inside a chroot/namespace.
 */
int nfm_path_set_root(struct nfm_ctx *ctx, uint64_t dentry, uint64_t vfsmount);

#endif
