// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * /proc/mounts as PID 1 reads it (fs/proc_namespace.c show_vfsmnt): the mounts of PID 1's mount
 * namespace that its root reaches, in namespace order (a list before 6.8, an rbtree by mount id
 * since 2eea9ce4310d "mounts: keep list of mounts in an rbtree").
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/system.h>

#include "core/context.h"
#include "walk/fields.h"
#include "walk/list.h"
#include "util/pack.h"
#include "fs/path.h"

#define MAX_MOUNTS 100000
#define MAX_TASKS 1000000
#define RB_MAX_DEPTH 128

struct mnt_off {
	int32_t mnt_parent, mnt, mnt_devname, mnt_list, mnt_node, mnt_ns, mnt_id;
	int32_t ns_list, ns_mounts;
	int32_t mnt_root, mnt_sb, mnt_flags;
	int32_t s_type, s_op, s_flags, s_fs_info, s_subtype, fs_name;
	int32_t tasks, pid, fs, fs_root, nsproxy, nsp_mnt_ns;
	int32_t sh_max_blocks, sh_max_inodes, sh_mode, sh_uid, sh_gid, sh_full_inums, sh_huge,
		sh_noswap, sh_mpol, mpol_mode;
};

#define MF(m, t, p, f) NFM_FIELD(struct mnt_off, m, t, p, f)
static const struct nfm_field_spec mnt_specs[] = {
	MF(mnt_parent, "mount", "mnt_parent", 0),
	MF(mnt, "mount", "mnt", 0),
	MF(mnt_devname, "mount", "mnt_devname", 0),
	MF(mnt_list, "mount", "mnt_list", 0),
	MF(mnt_node, "mount", "mnt_node", NFM_FIELD_OPTIONAL),
	MF(mnt_ns, "mount", "mnt_ns", 0),
	MF(mnt_id, "mount", "mnt_id", 0),
	MF(ns_list, "mnt_namespace", "list", NFM_FIELD_OPTIONAL),	/* before 6.8 */
	MF(ns_mounts, "mnt_namespace", "mounts", 0),			/* rb_root since 6.8 */
	MF(mnt_root, "vfsmount", "mnt_root", 0),
	MF(mnt_sb, "vfsmount", "mnt_sb", 0),
	MF(mnt_flags, "vfsmount", "mnt_flags", 0),
	MF(s_type, "super_block", "s_type", 0),
	MF(s_op, "super_block", "s_op", 0),
	MF(s_flags, "super_block", "s_flags", 0),
	MF(s_fs_info, "super_block", "s_fs_info", 0),
	MF(s_subtype, "super_block", "s_subtype", NFM_FIELD_OPTIONAL),
	MF(fs_name, "file_system_type", "name", 0),
	MF(tasks, "task_struct", "tasks", 0),
	MF(pid, "task_struct", "pid", 0),
	MF(fs, "task_struct", "fs", 0),
	MF(nsproxy, "task_struct", "nsproxy", 0),
	MF(nsp_mnt_ns, "nsproxy", "mnt_ns", 0),
	MF(fs_root, "fs_struct", "root", 0),
	MF(sh_max_blocks, "shmem_sb_info", "max_blocks", NFM_FIELD_OPTIONAL),
	MF(sh_max_inodes, "shmem_sb_info", "max_inodes", NFM_FIELD_OPTIONAL),
	MF(sh_mode, "shmem_sb_info", "mode", NFM_FIELD_OPTIONAL),
	MF(sh_uid, "shmem_sb_info", "uid", NFM_FIELD_OPTIONAL),
	MF(sh_gid, "shmem_sb_info", "gid", NFM_FIELD_OPTIONAL),
	MF(sh_full_inums, "shmem_sb_info", "full_inums", NFM_FIELD_OPTIONAL),
	MF(sh_huge, "shmem_sb_info", "huge", NFM_FIELD_OPTIONAL),
	MF(sh_noswap, "shmem_sb_info", "noswap", NFM_FIELD_OPTIONAL),
	MF(sh_mpol, "shmem_sb_info", "mpol", NFM_FIELD_OPTIONAL),
	MF(mpol_mode, "mempolicy", "mode", NFM_FIELD_OPTIONAL),
};
#undef MF

static int make_mnt_off(struct nfm_ctx *ctx, void *block)
{
	struct mnt_off *o = block;
	int err = nfm_resolve_fields(ctx, mnt_specs, sizeof(mnt_specs) / sizeof(mnt_specs[0]), o);

	if (err == 0 && o->ns_list < 0 && o->mnt_node < 0)
		err = -ENOENT;
	return err;
}

static int mnt_offsets(struct nfm_ctx *ctx, const struct mnt_off **ret)
{
	int err;

	*ret = nfm_kernel_layout(ctx, NFM_SLOT_MOUNT, sizeof(struct mnt_off), make_mnt_off, &err);
	return err;
}

/* PID 1 (else init_task): its root (vfsmount, dentry) and mount namespace. */
static int pid1(struct nfm_ctx *ctx, const struct mnt_off *o, uint64_t *root_mnt,
		uint64_t *root_dentry, uint64_t *ns)
{
	struct nfm_list_iter it;
	uint64_t init, node, task, fs, nsp;
	uint32_t pid;
	int err;

	err = nfm_ksym(ctx, "init_task", &init);
	if (err < 0)
		return err;
	task = init;
	nfm_list_iter_init(&it, ctx, init + (uint64_t)o->tasks, MAX_TASKS);
	while (nfm_list_iter_next(&it, &node) > 0) {
		uint64_t t = nfm_container_of(node, o->tasks);

		if (nfm_kread_u32(ctx, t + (uint64_t)o->pid, &pid) == 0 && pid == 1) {
			task = t;
			break;
		}
	}
	if ((err = nfm_kread_u64(ctx, task + (uint64_t)o->fs, &fs)) < 0 ||
	    (err = nfm_kread_u64(ctx, task + (uint64_t)o->nsproxy, &nsp)) < 0)
		return err;
	if (!nfm_kptr_ok(ctx, fs) || !nfm_kptr_ok(ctx, nsp))
		return -EBADMSG;
	if ((err = nfm_kread_u64(ctx, fs + (uint64_t)o->fs_root, root_mnt)) < 0 ||
	    (err = nfm_kread_u64(ctx, fs + (uint64_t)o->fs_root + 8, root_dentry)) < 0 ||
	    (err = nfm_kread_u64(ctx, nsp + (uint64_t)o->nsp_mnt_ns, ns)) < 0)
		return err;
	return nfm_kptr_ok(ctx, *ns) && nfm_kptr_ok(ctx, *root_mnt) ? 0 : -EBADMSG;
}

/* The mounts of ns in order, into a malloc'ed array of struct mount addresses. */
static int ns_mounts(struct nfm_ctx *ctx, const struct mnt_off *o, uint64_t ns, uint64_t **ret,
		     bool *trunc)
{
	uint64_t *v = NULL, node;
	size_t n = 0, cap = 0;
	int r = 0;

#define PUSH(x) do { \
		if (n == cap) { \
			uint64_t *nv = realloc(v, (cap = cap ? cap * 2 : 64) * sizeof(*v)); \
			if (!nv) { free(v); return -ENOMEM; } \
			v = nv; \
		} \
		v[n++] = (x); \
	} while (0)
	if (o->ns_list >= 0) {
		struct nfm_list_iter it;

		nfm_list_iter_init(&it, ctx, ns + (uint64_t)o->ns_list, MAX_MOUNTS);
		while ((r = nfm_list_iter_next(&it, &node)) > 0)
			PUSH(nfm_container_of(node, o->mnt_list));
	} else {
		/* In-order walk of the rbtree (rb_node: parent_color, rb_right, rb_left). */
		uint64_t stack[RB_MAX_DEPTH], cur;
		int sp = 0;

		r = nfm_kread_u64(ctx, ns + (uint64_t)o->ns_mounts, &cur);
		while (r >= 0 && (cur || sp)) {
			while (cur) {
				if (sp == RB_MAX_DEPTH || !nfm_kptr_ok(ctx, cur) || n >= MAX_MOUNTS) {
					r = -ELOOP;
					break;
				}
				stack[sp++] = cur;
				if ((r = nfm_kread_u64(ctx, cur + 16, &cur)) < 0)
					break;
			}
			if (r < 0 || !sp)
				break;
			cur = stack[--sp];
			PUSH(nfm_container_of(cur, o->mnt_node));
			r = nfm_kread_u64(ctx, cur + 8, &cur);
		}
	}
#undef PUSH
	*trunc = r < 0;
	*ret = v;
	return (int)n;
}

/* A string pointer: a kernel address, any alignment. */
static bool str_ok(struct nfm_ctx *ctx, uint64_t p)
{
	return p && nfm_mmu_is_kernel_va(ctx->mmu, p);
}

/* seq_escape(m, s, " \t\n\\"): those bytes as \ooo. */
static void mangle(const char *s, char *out, size_t size)
{
	size_t n = 0;

	for (; *s && n + 5 < size; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\\')
			n += (size_t)snprintf(out + n, size - n, "\\%03o", (unsigned char)*s);
		else
			out[n++] = *s;
	}
	out[n] = 0;
}

#define APPEND(...) (n += (size_t)snprintf(opt + n, n < size ? size - n : 0, __VA_ARGS__))

/* CONFIG_TMPFS_INODE64, read off shm_mnt's shmem_sb_info (true when that cannot be read). */
static bool shmem_inode64_default(struct nfm_ctx *ctx, const struct mnt_off *o)
{
	uint64_t a, mnt, sb, sbi;
	uint8_t full;

	if (nfm_ksym(ctx, "shm_mnt", &a) < 0 || nfm_kread_u64(ctx, a, &mnt) < 0 ||
	    !nfm_kptr_ok(ctx, mnt) || nfm_kread_u64(ctx, mnt + (uint64_t)o->mnt_sb, &sb) < 0 ||
	    !nfm_kptr_ok(ctx, sb) || nfm_kread_u64(ctx, sb + (uint64_t)o->s_fs_info, &sbi) < 0 ||
	    !nfm_kptr_ok(ctx, sbi) || nfm_kread(ctx, sbi + (uint64_t)o->sh_full_inums, &full, 1) < 0)
		return true;
	return full != 0;
}

/* shmem_show_options(): tmpfs, devtmpfs and a tmpfs rootfs. */
static bool shmem_options(struct nfm_ctx *ctx, const struct mnt_off *o, uint64_t sbi, char *opt,
			  size_t size, size_t n)
{
	uint8_t b[256];
	uint64_t totalram = 0, a, maxb, maxi, mpol;
	uint32_t uid, gid;
	uint16_t mode;
	bool complete = true;

	if (o->sh_max_blocks < 0 || o->sh_mpol + 8 > (int32_t)sizeof(b) || !nfm_kptr_ok(ctx, sbi) ||
	    nfm_kread(ctx, sbi, b, sizeof(b)) < 0)
		return false;
	if (nfm_ksym(ctx, "_totalram_pages", &a) == 0)
		nfm_kread_u64(ctx, a, &totalram);
	memcpy(&maxb, b + o->sh_max_blocks, 8);
	memcpy(&maxi, b + o->sh_max_inodes, 8);
	memcpy(&mode, b + o->sh_mode, 2);
	memcpy(&uid, b + o->sh_uid, 4);
	memcpy(&gid, b + o->sh_gid, 4);
	/* Defaults are computed now from totalram_pages(), as the kernel does at show time. */
	if (maxb != totalram / 2)
		APPEND(",size=%" PRIu64 "k", maxb * 4);
	if (maxi != totalram / 2)
		APPEND(",nr_inodes=%" PRIu64, maxi);
	if (mode != 01777)
		APPEND(",mode=%03o", mode);
	if (uid)
		APPEND(",uid=%u", uid);
	if (gid)
		APPEND(",gid=%u", gid);
	/*
	 * inode64/inode32 is shown when CONFIG_TMPFS_INODE64=y (Debian 12 and later) or the mount
	 * has 64-bit inums (ea3271f7196c, 5.9). The config is not in BTF, but the kernel's own
	 * internal mount (shm_mnt) takes the default, full_inums = IS_ENABLED(CONFIG_TMPFS_INODE64).
	 */
	if (o->sh_full_inums >= 0 && (b[o->sh_full_inums] || shmem_inode64_default(ctx, o)))
		APPEND(",inode%d", b[o->sh_full_inums] ? 64 : 32);
	if (o->sh_huge >= 0 && b[o->sh_huge]) {
		static const char *const huge[] = { "never", "always", "within_size", "advise" };
		uint8_t h = b[o->sh_huge];

		if (h < 4)
			APPEND(",huge=%s", huge[h]);
		else
			complete = false;
	}
	if (o->sh_mpol >= 0) {
		memcpy(&mpol, b + o->sh_mpol, 8);
		if (mpol)
			complete = false;	/* mpol=... not rendered */
	}
	if (o->sh_noswap >= 0 && b[o->sh_noswap])
		APPEND(",noswap");
	return complete && n < size;
}

/* The option string of one mount; false when the filesystem's own options were left out. */
static bool options(struct nfm_ctx *ctx, const struct mnt_off *o, uint64_t sb, uint32_t mnt_flags,
		    char *opt, size_t size)
{
	static const struct { uint64_t bit; const char *s; } sb_opts[] = {
		{ 16, ",sync" }, { 128, ",dirsync" }, { 64, ",mand" }, { 1u << 25, ",lazytime" },
	}, mnt_opts[] = {
		{ 1, ",nosuid" }, { 2, ",nodev" }, { 4, ",noexec" }, { 8, ",noatime" },
		{ 0x10, ",nodiratime" }, { 0x20, ",relatime" }, { 0x80, ",nosymfollow" },
	};
	uint64_t s_flags = 0, s_op = 0, show = 0, sbi = 0, shmem_ops = 0;
	struct nfm_field so;
	size_t n = 0, i;

	nfm_kread_u64(ctx, sb + (uint64_t)o->s_flags, &s_flags);
	/* MNT_READONLY 0x40, SB_RDONLY 1 */
	APPEND("%s", (mnt_flags & 0x40) || (s_flags & 1) ? "ro" : "rw");
	for (i = 0; i < sizeof(sb_opts) / sizeof(sb_opts[0]); i++)
		if (s_flags & sb_opts[i].bit)
			APPEND("%s", sb_opts[i].s);
	for (i = 0; i < sizeof(mnt_opts) / sizeof(mnt_opts[0]); i++)
		if (mnt_flags & mnt_opts[i].bit)
			APPEND("%s", mnt_opts[i].s);
	if (nfm_kread_u64(ctx, sb + (uint64_t)o->s_op, &s_op) < 0 || !nfm_kptr_ok(ctx, s_op))
		return false;
	if (nfm_ksym(ctx, "shmem_ops", &shmem_ops) == 0 && s_op == shmem_ops) {
		nfm_kread_u64(ctx, sb + (uint64_t)o->s_fs_info, &sbi);
		return shmem_options(ctx, o, sbi, opt, size, n);
	}
	/* Any other filesystem: complete only when it has no show_options of its own. */
	if (nfm_btf_field(ctx->btf, "super_operations", "show_options", &so) < 0 ||
	    nfm_kread_u64(ctx, s_op + so.offset, &show) < 0)
		return false;
	return show == 0;
}
#undef APPEND

int nfm_mount_list(struct nfm_ctx *ctx, struct nfm_mount **ret, bool *truncated)
{
	static const size_t fields[] = {
		offsetof(struct nfm_mount, device), offsetof(struct nfm_mount, path),
		offsetof(struct nfm_mount, fstype), offsetof(struct nfm_mount, options),
	};
	const struct mnt_off *o;
	uint64_t root_mnt, root_dentry, ns, *mounts;
	struct nfm_pack pk;
	bool trunc = false;
	int err, n, i;

	err = mnt_offsets(ctx, &o);
	if (err == 0)
		err = pid1(ctx, o, &root_mnt, &root_dentry, &ns);
	if (err < 0)
		return err;
	n = ns_mounts(ctx, o, ns, &mounts, &trunc);
	if (n < 0)
		return n;
	nfm_pack_init(&pk, sizeof(struct nfm_mount));
	for (i = 0; i < n; i++) {
		uint64_t m = mounts[i], vfs = m + (uint64_t)o->mnt, parent, mroot, sb, st, p, up;
		char raw[NFM_PATH_MAX], buf[4 * NFM_PATH_MAX], opt[1024];
		struct nfm_mount *e;
		uint32_t flags = 0, id = 0;
		int depth, len;

		if (nfm_kread_u64(ctx, vfs + (uint64_t)o->mnt_root, &mroot) < 0 ||
		    nfm_kread_u64(ctx, vfs + (uint64_t)o->mnt_sb, &sb) < 0 || !nfm_kptr_ok(ctx, sb))
			continue;
		/* Reachable from PID 1's root? (seq_path_root() skips the others.) */
		for (up = vfs, depth = 0; up != root_mnt && depth < 1024; depth++) {
			if (nfm_kread_u64(ctx, up - (uint64_t)o->mnt + (uint64_t)o->mnt_parent, &parent) < 0 ||
			    parent + (uint64_t)o->mnt == up)
				break;
			up = parent + (uint64_t)o->mnt;
		}
		if (up != root_mnt || (vfs == root_mnt && mroot != root_dentry))
			continue;
		len = nfm_path_d_path(ctx, mroot, vfs, raw, sizeof(raw));
		if (len < 0)
			continue;
		e = nfm_pack_add(&pk);
		if (!e)
			break;
		e->mount = m;
		mangle(raw, buf, sizeof(buf));
		e->path = nfm_pack_str(&pk, buf, strlen(buf));
		raw[0] = 0;
		if (nfm_kread_u64(ctx, m + (uint64_t)o->mnt_devname, &p) == 0 && str_ok(ctx, p))
			nfm_kread_str(ctx, p, raw, 256);
		else
			snprintf(raw, sizeof(raw), "none");
		mangle(raw, buf, sizeof(buf));
		e->device = nfm_pack_str(&pk, buf, strlen(buf));
		raw[0] = 0;
		if (nfm_kread_u64(ctx, sb + (uint64_t)o->s_type, &st) == 0 && nfm_kptr_ok(ctx, st) &&
		    nfm_kread_u64(ctx, st + (uint64_t)o->fs_name, &p) == 0 && str_ok(ctx, p))
			nfm_kread_str(ctx, p, raw, 64);
		if (o->s_subtype >= 0 && nfm_kread_u64(ctx, sb + (uint64_t)o->s_subtype, &p) == 0 &&
		    str_ok(ctx, p)) {
			size_t l = strlen(raw);

			if (l + 2 < 128) {
				raw[l] = '.';
				nfm_kread_str(ctx, p, raw + l + 1, 64);
				if (!raw[l + 1])
					raw[l] = 0;
			}
		}
		mangle(raw, buf, sizeof(buf));
		e->fstype = nfm_pack_str(&pk, buf, strlen(buf));
		nfm_kread_u32(ctx, vfs + (uint64_t)o->mnt_flags, &flags);
		e->options_complete = options(ctx, o, sb, flags, opt, sizeof(opt));
		e->options = nfm_pack_str(&pk, opt, strlen(opt));
		nfm_kread_u32(ctx, m + (uint64_t)o->mnt_id, &id);
		e->mnt_id = (int)id;
	}
	free(mounts);
	if (truncated)
		*truncated = trunc;
	return nfm_pack_finish(&pk, fields, 4, (void **)ret);
}

int nfm_mount_parent_id(struct nfm_ctx *ctx, uint64_t mount, int *parent_id)
{
	const struct mnt_off *o;
	uint64_t parent;
	uint32_t id;
	int err;

	if (!ctx || !parent_id || !nfm_kptr_ok(ctx, mount))
		return -EINVAL;
	if ((err = mnt_offsets(ctx, &o)) < 0)
		return err;
	if ((err = nfm_kread_u64(ctx, mount + (uint64_t)o->mnt_parent, &parent)) < 0)
		return err;
	if (!nfm_kptr_ok(ctx, parent))
		return -EBADMSG;
	if ((err = nfm_kread_u32(ctx, parent + (uint64_t)o->mnt_id, &id)) < 0)
		return err;
	*parent_id = (int)id;
	return 0;
}
