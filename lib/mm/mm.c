// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * /proc/PID/maps: the mm's VMAs from its maple tree (6.1+) or its mmap list (before), each rendered as
 * fs/proc/task_mmu.c show_map_vma()/get_vma_name() does, then the vsyscall page (get_gate_vma()).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/task.h>

#include "core/context.h"
#include "walk/fields.h"
#include "walk/list.h"
#include "walk/maple.h"
#include "fs/path.h"

#define VMA_BUF 512
#define VM_READ 0x1ull
#define VM_WRITE 0x2ull
#define VM_EXEC 0x4ull
#define VM_MAYSHARE 0x80ull

struct mm_off {
	int32_t vma_size, vm_start, vm_end, vm_flags, vm_pgoff, vm_file, vm_ops, vm_private;
	int32_t anon_name, anon_name_name, shared, ops_name, special_name, mm_mt_root, context_flags;
	int32_t map_count, total_vm, mm_mmap, vm_next;
	uint64_t special_mapping_name, gate_vma_name, gate_vma, vsyscall_mode;
	int have_vsyscall;
};

#define S struct mm_off
static const struct nfm_field_spec mm_specs[] = {
	NFM_FIELD(S, vma_size, "vm_area_struct", NULL, NFM_FIELD_SIZE),
	NFM_FIELD(S, vm_start, "vm_area_struct", "vm_start", 0),
	NFM_FIELD(S, vm_end, "vm_area_struct", "vm_end", 0),
	/* vm_flags: a plain member before 6.3, a union member with __vm_flags since. */
	NFM_FIELD(S, vm_flags, "vm_area_struct", "vm_flags", 0),
	NFM_FIELD(S, vm_pgoff, "vm_area_struct", "vm_pgoff", 0),
	NFM_FIELD(S, vm_file, "vm_area_struct", "vm_file", 0),
	NFM_FIELD(S, vm_ops, "vm_area_struct", "vm_ops", 0),
	NFM_FIELD(S, vm_private, "vm_area_struct", "vm_private_data", 0),
	NFM_FIELD(S, anon_name, "vm_area_struct", "anon_name", NFM_FIELD_OPTIONAL),
	NFM_FIELD(S, anon_name_name, "anon_vma_name", "name", NFM_FIELD_OPTIONAL),
	NFM_FIELD(S, shared, "vm_area_struct", "shared", NFM_FIELD_OPTIONAL),
	NFM_FIELD(S, ops_name, "vm_operations_struct", "name", 0),
	NFM_FIELD(S, special_name, "vm_special_mapping", "name", 0),
	/* The VMA tree: mm->mm_mt since 6.1 (d4af56c5c7c6); the rbtree and mmap list before. */
	NFM_FIELD(S, mm_mt_root, "mm_struct", "mm_mt.ma_root", NFM_FIELD_OPTIONAL),
	/* Before 6.1: mm->mmap, the VMAs in address order through vm_next (gone in 763ecb035029). */
	NFM_FIELD(S, mm_mmap, "mm_struct", "mmap", NFM_FIELD_OPTIONAL),
	NFM_FIELD(S, vm_next, "vm_area_struct", "vm_next", NFM_FIELD_OPTIONAL),
	NFM_FIELD(S, context_flags, "mm_struct", "context.flags", NFM_FIELD_OPTIONAL),
	/* the kernel's own count of the VMAs in the tree: the cross-check of the walk */
	NFM_FIELD(S, map_count, "mm_struct", "map_count", NFM_FIELD_OPTIONAL),
	/* and of the pages they span (vm_stat_account() keeps it for every VMA, special ones too) */
	NFM_FIELD(S, total_vm, "mm_struct", "total_vm", NFM_FIELD_OPTIONAL),
};
#undef S

struct nfm_vma_iter {
	struct nfm_ctx *ctx;
	const struct mm_off *o;
	struct nfm_task t;
	struct nfm_maple_entry *e;
	size_t n, i;
	int gate_done;
	int status;		/* nfm_vma_iter_status() */
	uint64_t total_before;	/* mm->total_vm before the walk (live guests) */
	uint64_t pages;		/* the pages of the VMAs listed so far */
	uint8_t vbuf[VMA_BUF];
};

static int make_mm_off(struct nfm_ctx *ctx, void *block)
{
	struct mm_off *o = block;
	int err;

	err = nfm_resolve_fields(ctx, mm_specs, sizeof(mm_specs) / sizeof(mm_specs[0]), o);
	if (err == 0 && (o->vma_size <= 0 || o->vma_size > VMA_BUF || o->vm_private + 8 > o->vma_size ||
			 o->vm_file + 8 > o->vma_size || o->anon_name + 8 > o->vma_size ||
			 o->vm_next + 8 > o->vma_size))
		err = -EBADMSG;
	if (err == 0 && o->mm_mt_root < 0 && (o->mm_mmap < 0 || o->vm_next < 0)) {
		nfm_err(&ctx->log, "no mm_struct.mm_mt nor mm_struct.mmap in this kernel's BTF");
		err = -ENOENT;
	}
	if (err == 0) {
		if (nfm_sym_lookup(ctx, "special_mapping_name", &o->special_mapping_name, NULL) < 0)
			o->special_mapping_name = 0;
		o->have_vsyscall = nfm_sym_lookup(ctx, "gate_vma", &o->gate_vma, NULL) == 0 &&
				   nfm_sym_lookup(ctx, "vsyscall_mode", &o->vsyscall_mode, NULL) == 0;
	}
	return err;
}

static const struct mm_off *mm_off(struct nfm_ctx *ctx, int *err)
{
	return nfm_kernel_layout(ctx, NFM_SLOT_MM, sizeof(struct mm_off), make_mm_off, err);
}

/*
 * The tree's VMAs against mm->map_count: a dump agrees exactly; a live guest's mm may change
 * between the two reads (mmap/munmap churn), by a few VMAs.
 */
static int check_map_count(struct nfm_ctx *ctx, const struct mm_off *o, uint64_t mm, size_t n)
{
	uint32_t count;
	size_t slack;

	if (o->map_count < 0 || nfm_kread_u32(ctx, mm + (uint64_t)o->map_count, &count) < 0)
		return 0;	/* nothing to compare with */
	slack = nfm_source_is_live(ctx->src) ? 4 + n / 16 : 0;
	if ((int32_t)count < 0 || (n > count ? n - count : count - n) > slack)
		return -EBADMSG;
	return 0;
}

/*
 * The pages the VMAs span (their own vm_start/vm_end, as listed) against mm->total_vm: a VMA
 * whose bounds were forged shows here even when the count agrees. A dump agrees exactly. On a
 * live guest the walk and the counter are not read atomically, so they are compared only when
 * total_vm read before the walk (before, UINT64_MAX if unread) and after it agree: the mm did not
 * change meanwhile.
 */
static int check_total_vm(struct nfm_vma_iter *it, uint64_t pages)
{
	uint64_t total;

	if (it->o->total_vm < 0 ||
	    nfm_kread_u64(it->ctx, it->t.mm + (uint64_t)it->o->total_vm, &total) < 0)
		return 0;	/* nothing to compare with */
	if (nfm_source_is_live(it->ctx->src) && total != it->total_before)
		return 0;	/* the mm changed during the walk */
	return pages == total ? 0 : -EBADMSG;
}

/*
 * Before 6.1: the mm->mmap list, in address order, NULL-terminated. A guest list that does not
 * go strictly upwards (a cycle, a torn update) or runs past NFM_VMA_MAX ends the walk: -EBADMSG
 * with what was collected before it, as the maple walk reports malformed entries.
 */
static int mmap_collect(struct nfm_ctx *ctx, const struct mm_off *o, uint64_t mm,
			struct nfm_maple_entry **ret, size_t *n)
{
	struct nfm_maple_entry *e = NULL;
	size_t cnt = 0, cap = 0;
	uint64_t vma, prev_end = 0;
	uint8_t b[VMA_BUF];
	int err;

	err = nfm_kread_u64(ctx, mm + (uint64_t)o->mm_mmap, &vma);
	if (err < 0)
		return err;
	for (; vma; vma = nfm_get_u64(b, o->vm_next)) {
		uint64_t start, end;

		if (cnt >= NFM_VMA_MAX || !nfm_kptr_ok(ctx, vma) ||
		    nfm_kread(ctx, vma, b, (size_t)o->vma_size) < 0) {
			err = 1;
			break;
		}
		start = nfm_get_u64(b, o->vm_start);
		end = nfm_get_u64(b, o->vm_end);
		if (end <= start || start < prev_end) {
			err = 1;	/* not upwards: a cycle or a torn list */
			break;
		}
		if (cnt == cap) {
			struct nfm_maple_entry *ne;

			cap = cap ? cap * 2 : 64;
			ne = realloc(e, cap * sizeof(*e));
			if (!ne) {
				free(e);
				return -ENOMEM;
			}
			e = ne;
		}
		e[cnt++] = (struct nfm_maple_entry){ start, end - 1, vma };
		prev_end = end;
	}
	*ret = e;
	*n = cnt;
	return err;
}

int nfm_vma_iter_status(const struct nfm_vma_iter *it)
{
	return it->status;
}

int nfm_vma_iter_new(struct nfm_ctx *ctx, const struct nfm_task *t, struct nfm_vma_iter **ret)
{
	const struct mm_off *o;
	struct nfm_vma_iter *it;
	uint64_t root = 0;
	int err;

	if (!t->mm)
		return -ENOENT;
	o = mm_off(ctx, &err);
	if (!o)
		return err;
	if (o->mm_mt_root >= 0) {
		err = nfm_kread_u64(ctx, t->mm + (uint64_t)o->mm_mt_root, &root);
		if (err < 0)
			return err;
	}
	it = calloc(1, sizeof(*it));
	if (!it)
		return -ENOMEM;
	it->ctx = ctx;
	it->o = o;
	it->t = *t;
	if (o->total_vm < 0 || !nfm_source_is_live(ctx->src) ||
	    nfm_kread_u64(ctx, t->mm + (uint64_t)o->total_vm, &it->total_before) < 0)
		it->total_before = UINT64_MAX;
	if (o->mm_mt_root >= 0)
		err = nfm_maple_collect(ctx, root, NFM_VMA_MAX, &it->e, &it->n);
	else
		err = mmap_collect(ctx, o, t->mm, &it->e, &it->n);
	if (err < 0) {
		free(it);
		return err;
	}
	if (err > 0)
		it->status = -EBADMSG;	/* malformed leaf entries were left out */
	else
		it->status = check_map_count(ctx, o, t->mm, it->n);
	*ret = it;
	return 0;
}

/* seq_file_path(m, file, "\n"): a newline in a path is shown as \012 (mangle_path()). */
static size_t mangle(const char *in, size_t len, char *out, size_t size)
{
	size_t i, o = 0;

	for (i = 0; i < len && o + 5 < size; i++) {
		if (in[i] == '\n') {
			memcpy(out + o, "\\012", 4);
			o += 4;
		} else {
			out[o++] = in[i];
		}
	}
	out[o] = 0;
	return o;
}

static int anon_name(struct nfm_vma_iter *it, int shmem, struct nfm_vma *v)
{
	const struct mm_off *o = it->o;
	uint64_t an;
	char s[81];	/* ANON_VMA_NAME_MAX_LEN 80 */

	if (o->anon_name < 0 || o->anon_name_name < 0)
		return 0;
	an = nfm_get_u64(it->vbuf, o->anon_name);
	if (!an || !nfm_kptr_ok(it->ctx, an & ~7ull) ||
	    nfm_kread_str(it->ctx, an + (uint64_t)o->anon_name_name, s, sizeof(s)) < 0)
		return 0;
	v->name_len = (size_t)snprintf(v->name, sizeof(v->name), "[anon%s:%s]", shmem ? "_shmem" : "", s);
	return 1;
}

static int fill_vma(struct nfm_vma_iter *it, uint64_t vma, struct nfm_vma *v)
{
	const struct mm_off *o = it->o;
	const uint8_t *b = it->vbuf;
	uint64_t ops, fn, p;
	char path[NFM_PATH_MAX];
	int err;

	if (!nfm_kptr_ok(it->ctx, vma))
		return -EBADMSG;
	err = nfm_kread(it->ctx, vma, it->vbuf, (size_t)o->vma_size);
	if (err < 0)
		return err;
	memset(v, 0, offsetof(struct nfm_vma, name));
	v->name[0] = 0;
	v->name_len = 0;
	v->start = nfm_get_u64(b, o->vm_start);
	v->end = nfm_get_u64(b, o->vm_end);
	v->flags = nfm_get_u64(b, o->vm_flags);
	if (v->end <= v->start)
		return -EBADMSG;
	v->perms[0] = v->flags & VM_READ ? 'r' : '-';
	v->perms[1] = v->flags & VM_WRITE ? 'w' : '-';
	v->perms[2] = v->flags & VM_EXEC ? 'x' : '-';
	v->perms[3] = v->flags & VM_MAYSHARE ? 's' : 'p';
	v->file = nfm_get_u64(b, o->vm_file);
	if (v->file) {
		uint32_t dev;

		err = nfm_path_file_inode(it->ctx, v->file, NULL, &v->ino, &dev);
		if (err < 0)
			return err;
		v->dev_major = dev >> 20;
		v->dev_minor = dev & 0xfffff;
		v->offset = nfm_get_u64(b, o->vm_pgoff) << 12;
		/* Before 6.2 anon_name shares a union with shared.rb: valid for anonymous VMAs only. */
		if (o->anon_name != o->shared && anon_name(it, 1, v))
			return 0;
		err = nfm_path_file(it->ctx, v->file, path, sizeof(path));
		if (err < 0)
			return err;
		v->name_len = mangle(path, (size_t)err, v->name, sizeof(v->name));
		return 0;
	}
	ops = nfm_get_u64(b, o->vm_ops);
	if (ops && nfm_kptr_ok(it->ctx, ops) &&
	    nfm_kread_u64(it->ctx, ops + (uint64_t)o->ops_name, &fn) == 0 && fn) {
		/* special_mapping_name(): ((struct vm_special_mapping *)vm_private_data)->name */
		if (fn == o->special_mapping_name &&
		    nfm_kread_u64(it->ctx, nfm_get_u64(b, o->vm_private) + (uint64_t)o->special_name,
				  &p) == 0 &&
		    nfm_kread_str(it->ctx, p, v->name, 64) == 0) {
			v->name_len = strlen(v->name);
			return 0;
		}
	}
	if (v->start <= it->t.brk && v->end >= it->t.start_brk) {
		v->name_len = (size_t)snprintf(v->name, sizeof(v->name), "[heap]");
		return 0;
	}
	if (v->start <= it->t.start_stack && v->end >= it->t.start_stack) {
		v->name_len = (size_t)snprintf(v->name, sizeof(v->name), "[stack]");
		return 0;
	}
	anon_name(it, 0, v);
	return 0;
}

/* get_gate_vma(): the vsyscall page unless vsyscall=none or the mm has no vsyscall (x86). */
static int gate_vma(struct nfm_vma_iter *it, struct nfm_vma *v)
{
	const struct mm_off *o = it->o;
	uint64_t cf = 0;
	uint32_t mode;

	if (!o->have_vsyscall || nfm_kread_u32(it->ctx, o->vsyscall_mode, &mode) < 0 || mode == 2)
		return 0;
	/* MM_CONTEXT_HAS_VSYSCALL: bit 1 of mm->context.flags (a mask in 6.1, a bit number later). */
	if (o->context_flags >= 0 &&
	    (nfm_kread(it->ctx, it->t.mm + (uint64_t)o->context_flags, &cf, 2) < 0 || !(cf & 2)))
		return 0;
	if (nfm_kread(it->ctx, o->gate_vma, it->vbuf, (size_t)o->vma_size) < 0)
		return 0;
	memset(v, 0, offsetof(struct nfm_vma, name));
	v->start = nfm_get_u64(it->vbuf, o->vm_start);
	v->end = nfm_get_u64(it->vbuf, o->vm_end);
	v->flags = nfm_get_u64(it->vbuf, o->vm_flags);
	v->perms[0] = v->flags & VM_READ ? 'r' : '-';
	v->perms[1] = v->flags & VM_WRITE ? 'w' : '-';
	v->perms[2] = v->flags & VM_EXEC ? 'x' : '-';
	v->perms[3] = v->flags & VM_MAYSHARE ? 's' : 'p';
	v->name_len = (size_t)snprintf(v->name, sizeof(v->name), "[vsyscall]");
	return 1;
}

int nfm_vma_iter_next(struct nfm_vma_iter *it, struct nfm_vma *ret)
{
	while (it->i < it->n) {
		int err = fill_vma(it, it->e[it->i++].entry, ret);

		if (err < 0)
			return err;
		it->pages += (ret->end - ret->start) >> 12;
		return 1;
	}
	if (!it->gate_done) {
		it->gate_done = 1;
		if (it->status == 0)
			it->status = check_total_vm(it, it->pages);
		return gate_vma(it, ret);
	}
	return 0;
}

void nfm_vma_iter_free(struct nfm_vma_iter *it)
{
	if (!it)
		return;
	free(it->e);
	free(it);
}

size_t nfm_vma_format(const struct nfm_vma *v, char *buf, size_t size)
{
	int n;

	/* show_vma_header_prefix(), then the name padded to column 73 (seq_setwidth/seq_pad). */
	n = snprintf(buf, size, "%08" PRIx64 "-%08" PRIx64 " %s %08" PRIx64 " %02x:%02x %" PRIu64 " ",
		     v->start, v->end, v->perms, v->offset, v->dev_major, v->dev_minor, v->ino);
	if (n < 0 || (size_t)n >= size)
		return size ? strlen(buf) : 0;
	if (!v->name_len)
		return (size_t)n;	/* no name: the line ends with the space after the inode */
	while (n < 72 && (size_t)n + 1 < size)
		buf[n++] = ' ';
	n += snprintf(buf + n, size - (size_t)n, " %.*s", (int)v->name_len, v->name);
	return (size_t)n < size ? (size_t)n : size - 1;
}
