// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * /proc/PID/fd and fdinfo: task->files->fdt->fd[0..max_fds), each open struct file with the
 * path readlink() shows (fs/proc/fd.c proc_fd_link() -> d_path()), and for sockets the family,
 * type and protocol of file->private_data->sk.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/task.h>

#include "core/context.h"
#include "walk/fields.h"
#include "walk/list.h"
#include "fs/files.h"
#include "fs/path.h"
#include "kmem/alloc.h"

#define O_CLOEXEC_ 02000000u

struct files_off {
	int32_t task_files, fdt, max_fds, fd, close_on_exec, open_fds, fd_array, fd_array_size;
	int32_t f_flags, f_pos, f_op, private_data, i_mode;
	int32_t sock_sk, skc_family, sk_type, sk_protocol, sk_prot, proto_name;
	int32_t sk_type_size, sk_protocol_size;
	uint64_t socket_file_ops;
};

#define S struct files_off
static const struct nfm_field_spec files_specs[] = {
	NFM_FIELD(S, task_files, "task_struct", "files", 0),
	NFM_FIELD(S, fdt, "files_struct", "fdt", 0),
	NFM_FIELD(S, max_fds, "fdtable", "max_fds", 0),
	NFM_FIELD(S, fd, "fdtable", "fd", 0),
	NFM_FIELD(S, close_on_exec, "fdtable", "close_on_exec", 0),
	NFM_FIELD(S, open_fds, "fdtable", "open_fds", 0),
	NFM_FIELD(S, fd_array, "files_struct", "fd_array", 0),
	NFM_FIELD(S, f_flags, "file", "f_flags", 0),
	NFM_FIELD(S, f_pos, "file", "f_pos", 0),
	NFM_FIELD(S, f_op, "file", "f_op", 0),
	NFM_FIELD(S, private_data, "file", "private_data", 0),
	NFM_FIELD(S, i_mode, "inode", "i_mode", 0),
	NFM_FIELD(S, sock_sk, "socket", "sk", NFM_FIELD_OPTIONAL),
	NFM_FIELD(S, skc_family, "sock", "__sk_common.skc_family", NFM_FIELD_OPTIONAL),
	NFM_FIELD(S, sk_type, "sock", "sk_type", NFM_FIELD_OPTIONAL),
	NFM_FIELD(S, sk_protocol, "sock", "sk_protocol", NFM_FIELD_OPTIONAL),
	NFM_FIELD(S, sk_prot, "sock", "__sk_common.skc_prot", NFM_FIELD_OPTIONAL),
	NFM_FIELD(S, proto_name, "proto", "name", NFM_FIELD_OPTIONAL),
};
#undef S

struct nfm_fd_iter {
	struct nfm_ctx *ctx;
	const struct files_off *o;
	uint64_t *fds;
	unsigned long *cloexec;
	unsigned int max, i, skipped;
};

static int make_files_off(struct nfm_ctx *ctx, void *block)
{
	struct files_off *o = block;
	struct nfm_field f;
	int err;

	err = nfm_resolve_fields(ctx, files_specs, sizeof(files_specs) / sizeof(files_specs[0]), o);
	if (err == 0) {
		/* sk_type/sk_protocol are u16 since 5.6 (bitfields before: not shown). */
		o->sk_type_size = nfm_btf_field(ctx->btf, "sock", "sk_type", &f) == 0 && !f.bit_size ?
				  (int32_t)f.size : 0;
		o->sk_protocol_size = nfm_btf_field(ctx->btf, "sock", "sk_protocol", &f) == 0 &&
				      !f.bit_size ? (int32_t)f.size : 0;
		/* NR_OPEN_DEFAULT: the slots of the table embedded in files_struct */
		o->fd_array_size = nfm_btf_field(ctx->btf, "files_struct", "fd_array", &f) == 0 ?
				   (int32_t)(f.size / 8) : 0;
		if (nfm_sym_lookup(ctx, "socket_file_ops", &o->socket_file_ops, NULL) < 0)
			o->socket_file_ops = 0;
	}
	return err;
}

static const struct files_off *files_off(struct nfm_ctx *ctx, int *err)
{
	return nfm_kernel_layout(ctx, NFM_SLOT_FILES, sizeof(struct files_off), make_files_off, err);
}

static int read_ptr(struct nfm_ctx *ctx, uint64_t va, uint64_t *ret)
{
	int err = nfm_kread_u64(ctx, va, ret);

	if (err == 0 && !nfm_kptr_ok(ctx, *ret))
		return -EBADMSG;
	return err;
}

/*
 * Is max_fds the size of the arrays behind the table? The kernel makes them in two shapes only:
 * the table embedded in files_struct (fd_array[NR_OPEN_DEFAULT], with its one-word bitmaps), or
 * alloc_fdtable()'s: fd = kvmalloc_array(nr, 8) and one block for the bitmaps, open_fds first,
 * close_on_exec nr / 8 bytes after it. A forged max_fds fits neither; nor can the arrays be
 * larger than RAM, or than the slab objects or vmalloc areas that really hold them.
 */
static int check_fdtable(struct nfm_ctx *ctx, const struct files_off *o, uint64_t files,
			 uint64_t fdp, uint64_t ofp, uint64_t cep, uint32_t max)
{
	if (max == 0 || max > NFM_FD_MAX || max % 64 ||
	    (uint64_t)max * 8 > nfm_budget_objects(ctx, 1) / 2)
		return -EBADMSG;
	if (fdp == files + (uint64_t)o->fd_array)
		return o->fd_array_size && max == (uint32_t)o->fd_array_size ? 0 : -EBADMSG;
	if (cep != ofp + max / 8)
		return -EBADMSG;
	return 0;
}

/*
 * How many slots the allocations behind an allocated table really hold (lib/kmem/alloc.h): fd[]
 * max pointers, the bitmap block open_fds and close_on_exec (max / 4 bytes). max itself when
 * the allocator cannot tell; fewer (a multiple of 64, maybe 0) when max is a lie that every
 * layout rule agreed with.
 */
static uint32_t fdtable_room(struct nfm_ctx *ctx, uint64_t fdp, uint64_t ofp, uint32_t max)
{
	struct nfm_alloc a;
	uint64_t room = max;

	if (nfm_alloc_find(ctx, fdp, &a) == 0 && fdp >= a.start && fdp - a.start < a.size)
		room = (a.size - (fdp - a.start)) / 8;
	if (nfm_alloc_find(ctx, ofp, &a) == 0 && ofp >= a.start && ofp - a.start < a.size &&
	    (a.size - (ofp - a.start)) * 4 < room)
		room = (a.size - (ofp - a.start)) * 4;
	return room < max ? (uint32_t)(room & ~63ull) : max;
}

int nfm_fd_iter_new(struct nfm_ctx *ctx, const struct nfm_task *t, struct nfm_fd_iter **ret)
{
	const struct files_off *o;
	struct nfm_fd_iter *it;
	uint64_t files, fdt, fdp, cep, ofp;
	uint32_t max;
	bool lied = false;
	int err;

	o = files_off(ctx, &err);
	if (!o)
		return err;
	err = nfm_kread_u64(ctx, t->addr + (uint64_t)o->task_files, &files);
	if (err < 0)
		return err;
	if (!files)
		return -ENOENT;	/* a zombie or an exiting task */
	if (!nfm_kptr_ok(ctx, files))
		return -EBADMSG;
	err = read_ptr(ctx, files + (uint64_t)o->fdt, &fdt);
	if (err == 0)
		err = nfm_kread_u32(ctx, fdt + (uint64_t)o->max_fds, &max);
	if (err == 0)
		err = read_ptr(ctx, fdt + (uint64_t)o->fd, &fdp);
	if (err == 0)
		err = read_ptr(ctx, fdt + (uint64_t)o->close_on_exec, &cep);
	if (err == 0)
		err = read_ptr(ctx, fdt + (uint64_t)o->open_fds, &ofp);
	if (err < 0)
		return err;
	err = check_fdtable(ctx, o, files, fdp, ofp, cep, max);
	if (err < 0) {
		nfm_dbg(&ctx->log, "pid %d: fdtable max_fds %u does not fit its arrays", t->pid, max);
		return err;
	}
	if (fdp != files + (uint64_t)o->fd_array) {
		uint32_t room = fdtable_room(ctx, fdp, ofp, max);

		if (room < max) {
			/* read only what is really there, where the kernel's layout puts it */
			nfm_dbg(&ctx->log, "pid %d: fdtable max_fds %u, its allocations hold %u",
				t->pid, max, room);
			if (!room)
				return -EBADMSG;
			max = room;
			cep = ofp + max / 8;
			lied = true;
		}
	}
	it = calloc(1, sizeof(*it));
	if (!it)
		return -ENOMEM;
	it->skipped = lied;	/* the table itself: counted as one entry skipped */
	it->fds = malloc(max * sizeof(uint64_t));
	it->cloexec = calloc((max + 63) / 64, sizeof(unsigned long));
	if (!it->fds || !it->cloexec) {
		nfm_fd_iter_free(it);
		return -ENOMEM;
	}
	err = nfm_kread(ctx, fdp, it->fds, max * sizeof(uint64_t));
	if (err == 0)
		err = nfm_kread(ctx, cep, it->cloexec, (max + 7) / 8);
	if (err < 0) {
		nfm_fd_iter_free(it);
		return err;
	}
	it->ctx = ctx;
	it->o = o;
	it->max = max;
	*ret = it;
	return 0;
}

static const char *type_of(uint32_t mode, int anon)
{
	switch (mode & 0170000) {
	case 0100000: return "REG";
	case 0040000: return "DIR";
	case 0020000: return "CHR";
	case 0060000: return "BLK";
	case 0010000: return "FIFO";
	case 0140000: return "SOCK";
	case 0120000: return "LNK";
	default: return anon ? "a_inode" : "unknown";
	}
}

static void sock_info(struct nfm_fd_iter *it, uint64_t file, struct nfm_fd *f)
{
	const struct files_off *o = it->o;
	uint64_t sock, sk, prot;
	uint16_t v16;

	if (o->sock_sk < 0 || o->skc_family < 0 ||
	    read_ptr(it->ctx, file + (uint64_t)o->private_data, &sock) < 0 ||
	    read_ptr(it->ctx, sock + (uint64_t)o->sock_sk, &sk) < 0)
		return;
	if (nfm_kread(it->ctx, sk + (uint64_t)o->skc_family, &v16, 2) == 0)
		f->sock_family = v16;
	if (o->sk_type_size == 2 && nfm_kread(it->ctx, sk + (uint64_t)o->sk_type, &v16, 2) == 0)
		f->sock_type = v16;
	if (o->sk_protocol_size == 2 &&
	    nfm_kread(it->ctx, sk + (uint64_t)o->sk_protocol, &v16, 2) == 0)
		f->sock_protocol = v16;
	if (o->sk_prot >= 0 && o->proto_name >= 0 &&
	    read_ptr(it->ctx, sk + (uint64_t)o->sk_prot, &prot) == 0)
		nfm_kread_str(it->ctx, prot + (uint64_t)o->proto_name, f->proto, sizeof(f->proto));
}

static int fill_fd(struct nfm_fd_iter *it, unsigned int fd, uint64_t file, struct nfm_fd *f)
{
	const struct files_off *o = it->o;
	uint64_t inode, fop;
	uint32_t dev, flags;
	uint16_t mode;
	int err;

	memset(f, 0, offsetof(struct nfm_fd, path));
	f->path[0] = 0;
	f->sock_family = f->sock_type = f->sock_protocol = -1;
	f->proto[0] = 0;
	f->fd = (int)fd;
	f->file = file;
	err = nfm_path_file_inode(it->ctx, file, &inode, &f->ino, &dev);
	if (err == 0)
		err = nfm_kread_u32(it->ctx, file + (uint64_t)o->f_flags, &flags);
	if (err == 0)
		err = nfm_kread_u64(it->ctx, file + (uint64_t)o->f_pos, &f->pos);
	if (err == 0)
		err = nfm_kread(it->ctx, inode + (uint64_t)o->i_mode, &mode, 2);
	if (err == 0)
		err = nfm_kread_u64(it->ctx, file + (uint64_t)o->f_op, &fop);
	if (err < 0)
		return err;
	/* fdinfo flags: f_flags plus O_CLOEXEC from the close-on-exec bitmap (fs/proc/fd.c). */
	f->f_flags = flags | ((it->cloexec[fd / 64] >> (fd % 64)) & 1 ? O_CLOEXEC_ : 0);
	f->mode = mode;
	f->dev_major = dev >> 20;
	f->dev_minor = dev & 0xfffff;
	err = nfm_path_file(it->ctx, file, f->path, sizeof(f->path));
	if (err < 0)
		return err;
	f->path_len = (size_t)err;
	snprintf(f->type, sizeof(f->type), "%s",
		 type_of(mode, !strncmp(f->path, "anon_inode:", 11)));
	if (fop && fop == o->socket_file_ops)
		sock_info(it, file, f);
	return 0;
}

int nfm_fd_iter_next(struct nfm_fd_iter *it, struct nfm_fd *ret)
{
	while (it->i < it->max) {
		unsigned int fd = it->i++;
		uint64_t file = it->fds[fd];

		if (!file)
			continue;
		if (!nfm_kptr_ok(it->ctx, file) || fill_fd(it, fd, file, ret) < 0) {
			it->skipped++;
			continue;
		}
		return 1;
	}
	return 0;
}

const uint64_t *nfm_fd_iter_files(const struct nfm_fd_iter *it, unsigned int *n)
{
	*n = it->max;
	return it->fds;
}

unsigned int nfm_fd_iter_skipped(const struct nfm_fd_iter *it)
{
	return it->skipped;
}

void nfm_fd_iter_free(struct nfm_fd_iter *it)
{
	if (!it)
		return;
	free(it->fds);
	free(it->cloexec);
	free(it);
}
