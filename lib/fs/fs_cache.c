// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Files as the guest's caches hold them: names from the dentry cache, contents from the page
 * cache. A path is walked from PID 1's fs->root: each component is looked up among the cached
 * children of the current dentry (d_children/d_sib hlist since 6.8, d_subdirs/d_child list
 * before), crossing onto a mount whose mountpoint it is (PID 1's namespace). Contents: the
 * inode's i_mapping->i_pages xarray gives the folio at each page index; its data is read through
 * the physical address of its struct page (vmemmap) and accepted only when the page still
 * belongs to this mapping (a torn read of a live guest reads as a missing page).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/system.h>
#include <nfm/task.h>

#include "core/context.h"
#include "walk/xarray.h"
#include "walk/fields.h"
#include "walk/list.h"
#include "util/pack.h"
#include "fs/path.h"

#define MAX_CHILDREN (1u << 20)
#define MAX_COMPONENTS 256
#define PAGE_SIZE_ 4096u
#define S_IFMT_ 0170000u
#define S_IFDIR_ 0040000u
#define S_IFREG_ 0100000u

struct fs_off {
	int32_t task_fs, fs_root, path_mnt, path_dentry;
	int32_t d_parent, d_inode, d_hash, d_children, d_sib, d_subdirs, d_child;
	int32_t i_mode, i_size, i_ino, i_mapping, as_i_pages, as_nrpages, xa_head;
	int32_t xn_shift, xn_slots, page_mapping, page_index, page_size;
	int32_t mnt, mnt_parent, mnt_mountpoint, mnt_root;
	uint64_t vmemmap;
};

#define F(m, t, p, f) NFM_FIELD(struct fs_off, m, t, p, f)
static const struct nfm_field_spec fs_specs[] = {
	F(task_fs, "task_struct", "fs", 0),
	F(fs_root, "fs_struct", "root", 0),
	F(path_mnt, "path", "mnt", 0),
	F(path_dentry, "path", "dentry", 0),
	F(d_parent, "dentry", "d_parent", 0),
	F(d_inode, "dentry", "d_inode", 0),
	F(d_hash, "dentry", "d_hash", 0),
	F(d_children, "dentry", "d_children", NFM_FIELD_OPTIONAL),
	F(d_sib, "dentry", "d_sib", NFM_FIELD_OPTIONAL),
	F(d_subdirs, "dentry", "d_subdirs", NFM_FIELD_OPTIONAL),
	F(d_child, "dentry", "d_child", NFM_FIELD_OPTIONAL),
	F(i_mode, "inode", "i_mode", 0),
	F(i_size, "inode", "i_size", 0),
	F(i_ino, "inode", "i_ino", 0),
	F(i_mapping, "inode", "i_mapping", 0),
	F(as_i_pages, "address_space", "i_pages", 0),
	F(as_nrpages, "address_space", "nrpages", 0),
	F(xa_head, "xarray", "xa_head", 0),
	F(xn_shift, "xa_node", "shift", 0),
	F(xn_slots, "xa_node", "slots", 0),
	F(page_mapping, "page", "mapping", 0),
	F(page_index, "page", "index", 0),
	F(page_size, "page", "", NFM_FIELD_SIZE),
	F(mnt, "mount", "mnt", 0),
	F(mnt_parent, "mount", "mnt_parent", 0),
	F(mnt_mountpoint, "mount", "mnt_mountpoint", 0),
	F(mnt_root, "vfsmount", "mnt_root", 0),
};
#undef F

static int make_fs_off(struct nfm_ctx *ctx, void *block)
{
	struct fs_off *o = block;
	uint64_t a;
	int err;

	err = nfm_resolve_fields(ctx, fs_specs, sizeof(fs_specs) / sizeof(fs_specs[0]), o);
	if (err == 0 && !((o->d_children >= 0 && o->d_sib >= 0) ||
			  (o->d_subdirs >= 0 && o->d_child >= 0))) {
		nfm_err(&ctx->log, "this kernel's dentry has no known list of children");
		err = -ENOENT;
	}
	if (err == 0) {
		/* vmemmap_base is randomized with RANDOMIZE_MEMORY; the fixed base otherwise */
		o->vmemmap = ctx->mmu->levels == 5 ? 0xffd4000000000000ull : 0xffffea0000000000ull;
		if (ctx->mmu->arch == NFM_MMU_ARM64)
			o->vmemmap = ctx->mmu->vmemmap;	/* from VMCOREINFO (discover_arm64.c) */
		else if (nfm_sym_lookup(ctx, "vmemmap_base", &a, NULL) == 0)
			nfm_kread_u64(ctx, a, &o->vmemmap);
		if (o->page_size <= 0 || o->page_size > 256)
			err = -EBADMSG;
	}
	return err;
}

static const struct fs_off *fs_offsets(struct nfm_ctx *ctx, int *err)
{
	return nfm_kernel_layout(ctx, NFM_SLOT_SHELL, sizeof(struct fs_off), make_fs_off, err);
}

struct mnt_info {
	uint64_t mount, parent, mountpoint, root;
};

struct walk {
	struct nfm_ctx *ctx;
	const struct fs_off *o;
	uint64_t root_mount, root_dentry;
	struct mnt_info *mnts;
	int nmnts;
};

static int rd_ptr(struct nfm_ctx *ctx, uint64_t va, uint64_t *ret)
{
	int err = nfm_kread_u64(ctx, va, ret);

	if (err == 0 && *ret && !nfm_kptr_ok(ctx, *ret))
		return -EBADMSG;
	return err;
}

static int walk_init(struct nfm_ctx *ctx, struct walk *w)
{
	struct nfm_mount *ms;
	struct nfm_task t;
	uint64_t fs, vfs;
	int err, n, i;

	memset(w, 0, sizeof(*w));
	w->ctx = ctx;
	if (!(w->o = fs_offsets(ctx, &err)))
		return err;
	if ((err = nfm_task_get(ctx, 1, 0, &t)) < 0)
		return err;
	if ((err = rd_ptr(ctx, t.addr + (uint64_t)w->o->task_fs, &fs)) < 0)
		return err;
	if (!fs)
		return -ENOENT;
	if ((err = rd_ptr(ctx, fs + (uint64_t)w->o->fs_root + (uint64_t)w->o->path_mnt, &vfs)) < 0 ||
	    (err = rd_ptr(ctx, fs + (uint64_t)w->o->fs_root + (uint64_t)w->o->path_dentry,
			  &w->root_dentry)) < 0)
		return err;
	if (!vfs || !w->root_dentry)
		return -EBADMSG;
	w->root_mount = vfs - (uint64_t)w->o->mnt;
	n = nfm_mount_list(ctx, &ms, NULL);
	if (n < 0)
		return n;
	w->mnts = calloc((size_t)n + 1, sizeof(*w->mnts));
	if (!w->mnts) {
		free(ms);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		struct mnt_info *m = &w->mnts[w->nmnts];

		m->mount = ms[i].mount;
		if (rd_ptr(ctx, m->mount + (uint64_t)w->o->mnt_parent, &m->parent) < 0 ||
		    rd_ptr(ctx, m->mount + (uint64_t)w->o->mnt_mountpoint, &m->mountpoint) < 0 ||
		    rd_ptr(ctx, m->mount + (uint64_t)w->o->mnt + (uint64_t)w->o->mnt_root, &m->root) < 0)
			continue;
		w->nmnts++;
	}
	free(ms);
	return 0;
}

/* The mount on top of (mount, dentry), if one is mounted there (the last mounted one wins). */
static const struct mnt_info *mounted_on(const struct walk *w, uint64_t mount, uint64_t dentry)
{
	const struct mnt_info *hit = NULL;
	int i;

	for (i = 0; i < w->nmnts; i++)
		if (w->mnts[i].parent == mount && w->mnts[i].mountpoint == dentry &&
		    w->mnts[i].mount != mount)
			hit = &w->mnts[i];
	return hit;
}

static const struct mnt_info *mount_of(const struct walk *w, uint64_t mount)
{
	int i;

	for (i = 0; i < w->nmnts; i++)
		if (w->mnts[i].mount == mount)
			return &w->mnts[i];
	return NULL;
}

/* Cross onto whatever is mounted at (*mount, *dentry), repeatedly (stacked mounts). */
static bool cross_mounts(const struct walk *w, uint64_t *mount, uint64_t *dentry)
{
	const struct mnt_info *m;
	bool crossed = false;
	int i;

	for (i = 0; i < 64 && (m = mounted_on(w, *mount, *dentry)); i++) {
		*mount = m->mount;
		*dentry = m->root;
		crossed = true;
	}
	return crossed;
}

/*
 * A name ls would show: positive (d_inode set; negative dentries and readdir cursors are not)
 * and hashed (d_hash.pprev set; an unlinked file still open keeps an unhashed dentry).
 */
static bool live_child(const struct walk *w, uint64_t d)
{
	uint64_t inode, pprev;

	return rd_ptr(w->ctx, d + (uint64_t)w->o->d_inode, &inode) == 0 && inode &&
	       nfm_kread_u64(w->ctx, d + (uint64_t)w->o->d_hash + 8, &pprev) == 0 && pprev;
}

typedef int (*child_fn)(void *arg, uint64_t dentry);

/* Every cached child dentry of d, in list order; fn returning > 0 stops the walk. */
static int for_children(const struct walk *w, uint64_t d, child_fn fn, void *arg)
{
	const struct fs_off *o = w->o;
	uint64_t p;
	size_t n = 0;
	int r;

	if (o->d_children >= 0) {
		/* 6.8+: hlist_head d_children, hlist_node d_sib, NULL-terminated */
		if ((r = rd_ptr(w->ctx, d + (uint64_t)o->d_children, &p)) < 0)
			return r;
		while (p) {
			if (!nfm_kptr_ok(w->ctx, p))
				return -EBADMSG;
			if (++n > MAX_CHILDREN)
				return -ELOOP;
			if ((r = fn(arg, p - (uint64_t)o->d_sib)) != 0)
				return r;
			if ((r = nfm_kread_u64(w->ctx, p, &p)) < 0)
				return r;
		}
		return 0;
	}
	{
		struct nfm_list_iter it;

		nfm_list_iter_init(&it, w->ctx, d + (uint64_t)o->d_subdirs, MAX_CHILDREN);
		while ((r = nfm_list_iter_next(&it, &p)) > 0)
			if ((r = fn(arg, p - (uint64_t)o->d_child)) != 0)
				return r;
		return r;
	}
}

struct find_arg {
	const struct walk *w;
	const char *name;
	size_t len;
	uint64_t found;
};

static int find_child(void *arg, uint64_t d)
{
	struct find_arg *a = arg;
	char name[256];
	int n;

	n = nfm_path_dentry_name(a->w->ctx, d, name, sizeof(name));
	if (n < 0 || (size_t)n != a->len || memcmp(name, a->name, a->len))
		return 0;
	if (!live_child(a->w, d))
		return 0;	/* a cached "no such file", or a deleted one */
	a->found = d;
	return 1;
}

static int inode_mode(const struct walk *w, uint64_t d, uint64_t *inode, uint32_t *mode)
{
	uint16_t m = 0;
	int err;

	if ((err = rd_ptr(w->ctx, d + (uint64_t)w->o->d_inode, inode)) < 0)
		return err;
	if (!*inode)
		return -ENOENT;
	if ((err = nfm_kread(w->ctx, *inode + (uint64_t)w->o->i_mode, &m, 2)) < 0)
		return err;
	*mode = m;
	return 0;
}

/* Resolve path to (mount, dentry); *crossed when the last step entered a mount's root. */
static int resolve(struct walk *w, const char *path, uint64_t *mount_out, uint64_t *dentry_out,
		   bool *crossed)
{
	uint64_t mount = w->root_mount, d = w->root_dentry, inode;
	const char *p = path;
	uint32_t mode;
	int steps = 0, err;

	if (!path || path[0] != '/')
		return -EINVAL;
	*crossed = cross_mounts(w, &mount, &d);
	while (*p) {
		const char *s;
		size_t len;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		for (s = p; *s && *s != '/'; s++)
			;
		len = (size_t)(s - p);
		if (++steps > MAX_COMPONENTS || len > 255)
			return -ENAMETOOLONG;
		if ((err = inode_mode(w, d, &inode, &mode)) < 0)
			return err;
		if ((mode & S_IFMT_) != S_IFDIR_)
			return -ENOTDIR;
		if (len == 1 && p[0] == '.') {
			/* stays */
		} else if (len == 2 && p[0] == '.' && p[1] == '.') {
			if (d != w->root_dentry || mount != w->root_mount) {
				const struct mnt_info *m;

				/* at a mount's root, go to its mountpoint in the parent first */
				while (d != w->root_dentry && (m = mount_of(w, mount)) && d == m->root &&
				       m->parent != mount && steps++ < MAX_COMPONENTS) {
					mount = m->parent;
					d = m->mountpoint;
				}
				if ((err = rd_ptr(w->ctx, d + (uint64_t)w->o->d_parent, &d)) < 0)
					return err;
				if (!d)
					return -EBADMSG;
			}
			*crossed = false;
		} else {
			struct find_arg a = { w, p, len, 0 };

			err = for_children(w, d, find_child, &a);
			if (err < 0 && !a.found)
				return err;
			if (!a.found)
				return -ENOENT;
			d = a.found;
			*crossed = cross_mounts(w, &mount, &d);
		}
		p = s;
	}
	*mount_out = mount;
	*dentry_out = d;
	return 0;
}

static int fill_entry(const struct walk *w, uint64_t d, bool crossed, struct nfm_fs_entry *e)
{
	uint64_t inode, mapping;
	int n, err;

	memset(e, 0, sizeof(*e));
	if ((err = inode_mode(w, d, &inode, &e->mode)) < 0)
		return err;
	n = nfm_path_dentry_name(w->ctx, d, e->name, sizeof(e->name));
	if (n < 0)
		return n;
	e->dentry = d;
	e->inode = inode;
	e->mountpoint = crossed;
	nfm_kread_u64(w->ctx, inode + (uint64_t)w->o->i_ino, &e->ino);
	nfm_kread_u64(w->ctx, inode + (uint64_t)w->o->i_size, &e->size);
	if (rd_ptr(w->ctx, inode + (uint64_t)w->o->i_mapping, &mapping) == 0 && mapping)
		nfm_kread_u64(w->ctx, mapping + (uint64_t)w->o->as_nrpages, &e->nrpages);
	return 0;
}

int nfm_fs_stat(struct nfm_ctx *ctx, const char *path, struct nfm_fs_entry *ret)
{
	struct walk w;
	uint64_t mount, d;
	bool crossed;
	int err;

	if ((err = walk_init(ctx, &w)) == 0 && (err = resolve(&w, path, &mount, &d, &crossed)) == 0)
		err = fill_entry(&w, d, crossed, ret);
	if (err == 0 && d == w.root_dentry && mount == w.root_mount)
		strcpy(ret->name, "/");
	free(w.mnts);
	return err;
}

struct list_arg {
	const struct walk *w;
	uint64_t mount;
	struct nfm_pack *pk;
};

static int list_child(void *arg, uint64_t d)
{
	struct list_arg *a = arg;
	struct nfm_fs_entry *e;
	uint64_t mount = a->mount, dd = d;
	bool crossed;

	if (!live_child(a->w, d))
		return 0;
	e = nfm_pack_add(a->pk);
	if (!e)
		return -ENOMEM;
	crossed = cross_mounts(a->w, &mount, &dd);
	if (fill_entry(a->w, dd, crossed, e) < 0 ||
	    nfm_path_dentry_name(a->w->ctx, d, e->name, sizeof(e->name)) < 0)
		nfm_pack_drop(a->pk);
	return 0;
}

int nfm_fs_list(struct nfm_ctx *ctx, const char *path, struct nfm_fs_entry **ret, bool *truncated)
{
	struct nfm_pack pk;
	struct walk w;
	uint64_t mount, d, inode;
	uint32_t mode;
	bool crossed;
	int err;

	if ((err = walk_init(ctx, &w)) < 0 || (err = resolve(&w, path, &mount, &d, &crossed)) < 0 ||
	    (err = inode_mode(&w, d, &inode, &mode)) < 0) {
		free(w.mnts);
		return err;
	}
	if ((mode & S_IFMT_) != S_IFDIR_) {
		free(w.mnts);
		return -ENOTDIR;
	}
	nfm_pack_init(&pk, sizeof(struct nfm_fs_entry));
	{
		struct list_arg a = { &w, mount, &pk };

		err = for_children(&w, d, list_child, &a);
	}
	free(w.mnts);
	if (pk.err) {
		nfm_pack_free(&pk);
		return pk.err;
	}
	if (truncated)
		*truncated = err < 0;
	return nfm_pack_finish(&pk, NULL, 0, (void **)ret);
}

static int kread_cb(void *arg, uint64_t va, void *buf, size_t len)
{
	return nfm_kread(arg, va, buf, len);
}

/* One page of the file into out: 1 read, 0 missing, 2 swapped (a shmem swap entry). */
static int read_page(struct nfm_ctx *ctx, const struct fs_off *o, uint64_t mapping, uint64_t head,
		     uint64_t index, uint8_t *out)
{
	const struct nfm_xa_layout l = { o->xn_shift, o->xn_slots };
	uint64_t e, pmap, pidx, page, pfn;

	if (nfm_xa_load(kread_cb, ctx, &l, head, index, &e) <= 0)
		return 0;
	if (e & 1)
		return 2;	/* value entry: swap or shadow of an evicted page */
	if (!nfm_kptr_ok(ctx, e) || e < o->vmemmap)
		return 0;
	/* the folio's head page: its mapping must be ours, its index at or below ours */
	if (rd_ptr(ctx, e + (uint64_t)o->page_mapping, &pmap) < 0 || pmap != mapping ||
	    nfm_kread_u64(ctx, e + (uint64_t)o->page_index, &pidx) < 0 || pidx > index ||
	    index - pidx >= 512)
		return 0;
	page = e + (index - pidx) * (uint64_t)o->page_size;
	if ((page - o->vmemmap) % (uint64_t)o->page_size)
		return 0;
	pfn = (page - o->vmemmap) / (uint64_t)o->page_size;
	if (pfn >> 40)
		return 0;
	if (nfm_source_read_phys(ctx->src, pfn * PAGE_SIZE_, out, PAGE_SIZE_) < 0)
		return 0;
	return 1;
}

int nfm_fs_read(struct nfm_ctx *ctx, const char *path, void **buf, struct nfm_fs_read_stat *st)
{
	struct walk w;
	uint64_t mount, d, inode, mapping, head, size = 0, i;
	uint8_t *out, page[PAGE_SIZE_];
	uint32_t mode;
	bool crossed;
	int err;

	memset(st, 0, sizeof(*st));
	if ((err = walk_init(ctx, &w)) < 0 || (err = resolve(&w, path, &mount, &d, &crossed)) < 0 ||
	    (err = inode_mode(&w, d, &inode, &mode)) < 0) {
		free(w.mnts);
		return err;
	}
	free(w.mnts);
	if ((mode & S_IFMT_) == S_IFDIR_)
		return -EISDIR;
	if ((mode & S_IFMT_) != S_IFREG_)
		return -EINVAL;
	if ((err = nfm_kread_u64(ctx, inode + (uint64_t)w.o->i_size, &size)) < 0 ||
	    (err = rd_ptr(ctx, inode + (uint64_t)w.o->i_mapping, &mapping)) < 0)
		return err;
	if (size > NFM_FS_READ_MAX)
		return -EFBIG;
	if (!mapping)
		return -EBADMSG;
	if ((err = nfm_kread_u64(ctx, mapping + (uint64_t)w.o->as_i_pages + (uint64_t)w.o->xa_head,
				 &head)) < 0)
		return err;
	out = calloc(1, size + 1);
	if (!out)
		return -ENOMEM;
	st->size = size;
	st->pages = (size + PAGE_SIZE_ - 1) / PAGE_SIZE_;
	for (i = 0; i < st->pages; i++) {
		uint64_t n = size - i * PAGE_SIZE_ < PAGE_SIZE_ ? size - i * PAGE_SIZE_ : PAGE_SIZE_;
		int r = read_page(ctx, w.o, mapping, head, i, page);

		if (r == 1) {
			memcpy(out + i * PAGE_SIZE_, page, n);
			continue;
		}
		if (!st->pages_missing++)
			st->first_missing = i;
		if (r == 2)
			st->pages_swapped++;
	}
	*buf = out;
	return 0;
}
