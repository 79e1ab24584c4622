// SPDX-License-Identifier: GPL-2.0-or-later
/* d_path() over guest memory: see path.h for what it reproduces (fs/d_path.c). */
#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/context.h"
#include "walk/fields.h"
#include "walk/list.h"
#include "fs/path.h"

#define NAME_MAX_BYTES 255
#define NAME_BUF (2 * NAME_MAX_BYTES + 1)	/* a name after defuse_name() */
#define DENTRY_BUF 512		/* struct dentry is ~200 bytes; larger BTF sizes are refused */

struct path_off {
	int32_t dentry_size, d_parent, d_name_len, d_name_name, d_hash_pprev, d_op, d_inode;
	int32_t mnt, mnt_parent, mnt_mountpoint, mnt_root, mnt_sb;
	int32_t f_path, f_inode, path_mnt, path_dentry;
	int32_t d_dname, i_ino, i_sb, i_private, s_dev;
	int32_t ns_ops, ns_ops_name;
	int32_t task_tasks, task_pid, task_fs, fs_root;
};

static const struct nfm_field_spec path_specs[] = {
	NFM_FIELD(struct path_off, dentry_size, "dentry", NULL, NFM_FIELD_SIZE),
	NFM_FIELD(struct path_off, d_parent, "dentry", "d_parent", 0),
	NFM_FIELD(struct path_off, d_name_len, "dentry", "d_name.len", 0),
	NFM_FIELD(struct path_off, d_name_name, "dentry", "d_name.name", 0),
	NFM_FIELD(struct path_off, d_hash_pprev, "dentry", "d_hash.pprev", 0),
	NFM_FIELD(struct path_off, d_op, "dentry", "d_op", 0),
	NFM_FIELD(struct path_off, d_inode, "dentry", "d_inode", 0),
	NFM_FIELD(struct path_off, mnt, "mount", "mnt", 0),
	NFM_FIELD(struct path_off, mnt_parent, "mount", "mnt_parent", 0),
	NFM_FIELD(struct path_off, mnt_mountpoint, "mount", "mnt_mountpoint", 0),
	NFM_FIELD(struct path_off, mnt_root, "vfsmount", "mnt_root", 0),
	NFM_FIELD(struct path_off, mnt_sb, "vfsmount", "mnt_sb", 0),
	NFM_FIELD(struct path_off, f_path, "file", "f_path", 0),
	NFM_FIELD(struct path_off, f_inode, "file", "f_inode", 0),
	NFM_FIELD(struct path_off, path_mnt, "path", "mnt", 0),
	NFM_FIELD(struct path_off, path_dentry, "path", "dentry", 0),
	NFM_FIELD(struct path_off, d_dname, "dentry_operations", "d_dname", 0),
	NFM_FIELD(struct path_off, i_ino, "inode", "i_ino", 0),
	NFM_FIELD(struct path_off, i_sb, "inode", "i_sb", 0),
	NFM_FIELD(struct path_off, i_private, "inode", "i_private", 0),
	NFM_FIELD(struct path_off, s_dev, "super_block", "s_dev", 0),
	NFM_FIELD(struct path_off, ns_ops, "ns_common", "ops", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct path_off, ns_ops_name, "proc_ns_operations", "name", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct path_off, task_tasks, "task_struct", "tasks", 0),
	NFM_FIELD(struct path_off, task_pid, "task_struct", "pid", 0),
	NFM_FIELD(struct path_off, task_fs, "task_struct", "fs", 0),
	NFM_FIELD(struct path_off, fs_root, "fs_struct", "root", 0),
};

enum dname_kind { DN_PIPE, DN_SOCK, DN_ANON, DN_SIMPLE, DN_NS, DN_MAX };
static const char *const dname_syms[DN_MAX] = {
	"pipefs_dname", "sockfs_dname", "anon_inodefs_dname", "simple_dname", "ns_dname",
};

struct path_state {
	struct path_off o;
	uint64_t dname_fn[DN_MAX];	/* 0 when the symbol is absent */
	uint64_t init_task;
	uint64_t root_dentry, root_mnt;	/* the reader's root */
	uint64_t root_gen;		/* mmu generation root was found in; ~0: user override */
	int have_root;
};

static int make_path_state(struct nfm_ctx *ctx, void *block)
{
	struct path_state *ps = block;
	int i;
	int err;

	err = nfm_resolve_fields(ctx, path_specs, sizeof(path_specs) / sizeof(path_specs[0]), &ps->o);
	if (err == 0 && (ps->o.dentry_size <= 0 || ps->o.dentry_size > DENTRY_BUF))
		err = -EBADMSG;
	if (err == 0)
		err = nfm_ksym(ctx, "init_task", &ps->init_task);
	for (i = 0; i < DN_MAX; i++)
		if (nfm_sym_lookup(ctx, dname_syms[i], &ps->dname_fn[i], NULL) < 0)
			ps->dname_fn[i] = 0;
	return err;
}

static struct path_state *path_state(struct nfm_ctx *ctx, int *err)
{
	return nfm_kernel_layout(ctx, NFM_SLOT_PATH, sizeof(struct path_state), make_path_state, err);
}

static int read_ptr(struct nfm_ctx *ctx, uint64_t va, uint64_t *ret)
{
	int err = nfm_kread_u64(ctx, va, ret);

	if (err == 0 && !nfm_kptr_ok(ctx, *ret))
		return -EBADMSG;
	return err;
}

/* The reader's root: pid 1's fs->root (the first entries of init_task.tasks), else init_task's. */
static int find_root(struct nfm_ctx *ctx, struct path_state *ps)
{
	const struct path_off *o = &ps->o;
	struct nfm_list_iter it;
	uint64_t node, task = ps->init_task, fs, d, m;
	int err;

	if (ps->have_root && (ps->root_gen == ~0ull || ps->root_gen == ctx->mmu->gen))
		return 0;
	nfm_list_iter_init(&it, ctx, ps->init_task + (uint64_t)o->task_tasks, 8);
	while (nfm_list_iter_next(&it, &node) > 0) {
		uint32_t pid;
		uint64_t t = nfm_container_of(node, o->task_tasks);

		if (nfm_kread_u32(ctx, t + (uint64_t)o->task_pid, &pid) == 0 && pid == 1) {
			task = t;
			break;
		}
	}
	err = read_ptr(ctx, task + (uint64_t)o->task_fs, &fs);
	if (err == 0)
		err = read_ptr(ctx, fs + (uint64_t)o->fs_root + (uint64_t)o->path_dentry, &d);
	if (err == 0)
		err = read_ptr(ctx, fs + (uint64_t)o->fs_root + (uint64_t)o->path_mnt, &m);
	if (err < 0)
		return err;
	ps->root_dentry = d;
	ps->root_mnt = m;
	ps->root_gen = ctx->mmu->gen;
	ps->have_root = 1;
	return 0;
}

int nfm_path_set_root(struct nfm_ctx *ctx, uint64_t dentry, uint64_t vfsmount)
{
	int err;
	struct path_state *ps = path_state(ctx, &err);

	if (!ps)
		return err;
	if (!dentry && !vfsmount) {
		ps->have_root = 0;
		return 0;
	}
	if (!nfm_kptr_ok(ctx, dentry) || !nfm_kptr_ok(ctx, vfsmount))
		return -EINVAL;
	ps->root_dentry = dentry;
	ps->root_mnt = vfsmount;
	ps->root_gen = ~0ull;
	ps->have_root = 1;
	return 0;
}

/* A builder that grows leftwards from the end of buf, as the kernel's prepend_buffer. */
struct prep {
	char *buf;
	size_t len;	/* room left at the front */
	int overflow;
};

static void prepend(struct prep *p, const char *s, size_t n)
{
	if (n > p->len) {
		p->overflow = 1;
		p->len = 0;
		return;
	}
	p->len -= n;
	memcpy(p->buf + p->len, s, n);
}

static int read_dentry(struct nfm_ctx *ctx, const struct path_off *o, uint64_t d, uint8_t *buf)
{
	if (!nfm_kptr_ok(ctx, d))
		return -EBADMSG;
	return nfm_kread(ctx, d, buf, (size_t)o->dentry_size);
}

/*
 * A name no real path component has ('/' inside it, or "." or "..") would let the guest forge a
 * path that looks real ("a/../../etc/shadow" as one name). Its '/' and '.' bytes become the
 * overlong UTF-8 forms C0 AF and C0 AE, which are invalid UTF-8: every output escapes them
 * (\xc0\xaf), so they are seen, and never read as a separator or a parent. name has room for
 * 2 * NAME_MAX_BYTES + 1 bytes; returns the new length.
 */
static size_t defuse_name(char *name, size_t n)
{
	bool dots = (n == 1 && name[0] == '.') || (n == 2 && name[0] == '.' && name[1] == '.');
	size_t i, k = 0, out;

	for (i = 0; i < n; i++)
		k += name[i] == '/' || dots;
	if (!k)
		return n;
	out = n + k;
	name[out] = 0;
	for (i = n; i-- > 0;) {
		if (name[i] == '/' || dots) {
			name[--out] = (char)(name[i] == '/' ? 0xaf : 0xae);
			name[--out] = (char)0xc0;
		} else {
			name[--out] = name[i];
		}
	}
	return n + k;
}

/* d_name of a dentry already read into db (name: NAME_BUF bytes); stops at a NUL as
 * prepend_name() does; a forged name is defused. */
static int dentry_name(struct nfm_ctx *ctx, const struct path_off *o, const uint8_t *db,
		       char *name, size_t *len)
{
	uint32_t n = nfm_get_u32(db, o->d_name_len);
	uint64_t p = nfm_get_u64(db, o->d_name_name);
	int err;

	if (n > NAME_MAX_BYTES || !p || (p >> 63) == 0)
		return -EBADMSG;
	err = nfm_kread(ctx, p, name, n);
	if (err < 0)
		return err;
	name[n] = 0;
	*len = defuse_name(name, strlen(name));
	return 0;
}

static int inode_ino(struct nfm_ctx *ctx, const struct path_off *o, uint64_t inode, uint64_t *ino)
{
	if (!nfm_kptr_ok(ctx, inode))
		return -EBADMSG;
	return nfm_kread_u64(ctx, inode + (uint64_t)o->i_ino, ino);
}

/* What the dentry's d_op->d_dname prints (see path.h). */
static int d_dname(struct nfm_ctx *ctx, struct path_state *ps, const uint8_t *db, uint64_t fn,
		   struct prep *p)
{
	const struct path_off *o = &ps->o;
	char name[NAME_BUF], tmp[NAME_BUF + 64], nsname[32];
	uint64_t ino = 0, ns, ops, np;
	size_t n;
	int err, k;

	for (k = 0; k < DN_MAX; k++)
		if (ps->dname_fn[k] && ps->dname_fn[k] == fn)
			break;
	err = dentry_name(ctx, o, db, name, &n);
	if (err < 0)
		return err;
	if (k == DN_PIPE || k == DN_SOCK || k == DN_NS) {
		uint64_t inode = nfm_get_u64(db, o->d_inode);

		err = inode_ino(ctx, o, inode, &ino);
		if (err < 0)
			return err;
		if (k == DN_NS) {
			if (o->ns_ops < 0 || o->ns_ops_name < 0)
				return -ENOENT;
			err = read_ptr(ctx, inode + (uint64_t)o->i_private, &ns);
			if (err == 0)
				err = read_ptr(ctx, ns + (uint64_t)o->ns_ops, &ops);
			if (err == 0)
				err = nfm_kread_u64(ctx, ops + (uint64_t)o->ns_ops_name, &np);
			if (err == 0)
				err = nfm_kread_str(ctx, np, nsname, sizeof(nsname));
			if (err < 0)
				return err;
		}
	}
	switch (k) {
	case DN_PIPE:
		n = (size_t)snprintf(tmp, sizeof(tmp), "pipe:[%" PRIu64 "]", ino);
		break;
	case DN_SOCK:
		n = (size_t)snprintf(tmp, sizeof(tmp), "socket:[%" PRIu64 "]", ino);
		break;
	case DN_NS:
		n = (size_t)snprintf(tmp, sizeof(tmp), "%s:[%" PRIu64 "]", nsname, ino);
		break;
	case DN_ANON:
		n = (size_t)snprintf(tmp, sizeof(tmp), "anon_inode:%s", name);
		break;
	case DN_SIMPLE:
		n = (size_t)snprintf(tmp, sizeof(tmp), "/%s (deleted)", name);
		break;
	default:	/* an unknown d_dname: its dentry name is the best we can say */
		n = (size_t)snprintf(tmp, sizeof(tmp), "%s", name);
		break;
	}
	prepend(p, "", 1);
	prepend(p, tmp, n);
	return 0;
}

int nfm_path_d_path(struct nfm_ctx *ctx, uint64_t dentry, uint64_t vfsmount, char *buf, size_t size)
{
	struct path_state *ps;
	const struct path_off *o;
	uint8_t db[DENTRY_BUF];
	char tmp[NFM_PATH_MAX + 16], name[NAME_BUF];
	struct prep p = { tmp, sizeof(tmp), 0 };
	uint64_t mnt, mnt_root, dop, fn = 0;
	size_t n, depth, suffix_len;
	int err;

	if (size < 2)
		return -EINVAL;
	ps = path_state(ctx, &err);
	if (!ps)
		return err;
	o = &ps->o;
	if (!nfm_kptr_ok(ctx, vfsmount))
		return -EBADMSG;
	mnt = vfsmount - (uint64_t)o->mnt;	/* real_mount() */
	err = read_dentry(ctx, o, dentry, db);
	if (err == 0)
		err = read_ptr(ctx, vfsmount + (uint64_t)o->mnt_root, &mnt_root);
	if (err < 0)
		return err;

	dop = nfm_get_u64(db, o->d_op);
	if (dop && nfm_kptr_ok(ctx, dop) &&
	    nfm_kread_u64(ctx, dop + (uint64_t)o->d_dname, &fn) == 0 && fn &&
	    (nfm_get_u64(db, o->d_parent) != dentry || dentry != mnt_root)) {
		err = d_dname(ctx, ps, db, fn, &p);
		goto out;
	}

	err = find_root(ctx, ps);
	if (err < 0)
		return err;
	/* d_unlinked(): unhashed (d_hash.pprev == NULL) and not a root. */
	if (nfm_get_u64(db, o->d_hash_pprev) == 0 && nfm_get_u64(db, o->d_parent) != dentry)
		prepend(&p, " (deleted)", 11);
	else
		prepend(&p, "", 1);
	suffix_len = sizeof(tmp) - p.len;

	for (depth = 0; dentry != ps->root_dentry || vfsmount != ps->root_mnt; depth++) {
		uint64_t parent = nfm_get_u64(db, o->d_parent);

		if (depth >= NFM_PATH_MAX_DEPTH)
			return -ELOOP;
		if (dentry == mnt_root) {
			uint64_t m, mp;

			err = read_ptr(ctx, mnt + (uint64_t)o->mnt_parent, &m);
			if (err < 0)
				return err;
			if (m == mnt)
				break;	/* the top of a mount tree: global root or detached */
			err = read_ptr(ctx, mnt + (uint64_t)o->mnt_mountpoint, &mp);
			if (err == 0)
				err = read_ptr(ctx, m + (uint64_t)o->mnt + (uint64_t)o->mnt_root, &mnt_root);
			if (err == 0)
				err = read_dentry(ctx, o, mp, db);
			if (err < 0)
				return err;
			dentry = mp;
			mnt = m;
			vfsmount = m + (uint64_t)o->mnt;
			continue;
		}
		if (parent == dentry) {
			/* Escaped its mount (__prepend_path() returns 3): the kernel shows "/". */
			p.len = sizeof(tmp) - suffix_len;
			break;
		}
		err = dentry_name(ctx, o, db, name, &n);
		if (err < 0)
			return err;
		prepend(&p, name, n);
		prepend(&p, "/", 1);
		if (p.overflow)
			return -ENAMETOOLONG;
		err = read_dentry(ctx, o, parent, db);
		if (err < 0)
			return err;
		dentry = parent;
	}
	if (sizeof(tmp) - p.len == suffix_len)
		prepend(&p, "/", 1);
out:
	if (err < 0)
		return err;
	n = sizeof(tmp) - p.len;	/* including the NUL */
	if (p.overflow || n > NFM_PATH_MAX || n > size)
		return -ENAMETOOLONG;
	memcpy(buf, tmp + p.len, n);
	return (int)strlen(buf);
}

int nfm_path_file(struct nfm_ctx *ctx, uint64_t file, char *buf, size_t size)
{
	struct path_state *ps;
	uint64_t d, m;
	int err;

	ps = path_state(ctx, &err);
	if (!ps)
		return err;
	if (!nfm_kptr_ok(ctx, file))
		return -EBADMSG;
	err = read_ptr(ctx, file + (uint64_t)ps->o.f_path + (uint64_t)ps->o.path_dentry, &d);
	if (err == 0)
		err = read_ptr(ctx, file + (uint64_t)ps->o.f_path + (uint64_t)ps->o.path_mnt, &m);
	if (err < 0)
		return err;
	return nfm_path_d_path(ctx, d, m, buf, size);
}

int nfm_path_dentry_name(struct nfm_ctx *ctx, uint64_t dentry, char *buf, size_t size)
{
	struct path_state *ps;
	uint8_t db[DENTRY_BUF];
	char name[NAME_BUF];
	size_t n = 0;
	int err;

	ps = path_state(ctx, &err);
	if (!ps)
		return err;
	err = read_dentry(ctx, &ps->o, dentry, db);
	if (err == 0)
		err = dentry_name(ctx, &ps->o, db, name, &n);
	if (err < 0)
		return err;
	if (n + 1 > size)
		return -ENAMETOOLONG;
	memcpy(buf, name, n + 1);
	return (int)n;
}

int nfm_path_file_inode(struct nfm_ctx *ctx, uint64_t file, uint64_t *inode, uint64_t *ino,
			uint32_t *dev)
{
	struct path_state *ps;
	uint64_t in, i = 0, sb;
	uint32_t d = 0;
	int err;

	ps = path_state(ctx, &err);
	if (!ps)
		return err;
	if (!nfm_kptr_ok(ctx, file))
		return -EBADMSG;
	err = read_ptr(ctx, file + (uint64_t)ps->o.f_inode, &in);
	if (err == 0)
		err = nfm_kread_u64(ctx, in + (uint64_t)ps->o.i_ino, &i);
	if (err == 0 && dev) {
		err = read_ptr(ctx, in + (uint64_t)ps->o.i_sb, &sb);
		if (err == 0)
			err = nfm_kread_u32(ctx, sb + (uint64_t)ps->o.s_dev, &d);
	}
	if (err < 0)
		return err;
	if (inode)
		*inode = in;
	if (ino)
		*ino = i;
	if (dev)
		*dev = d;
	return 0;
}
