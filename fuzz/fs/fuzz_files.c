// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Open files (lib/fs/files.c): the task at pa 0, its files->fdt table checked against its two
 * real shapes, each struct file's path (d_path), flags, position and socket details.
 */
#include <nfm/task.h>

#include "../common/seedfs.h"

#define FILES 0x28000u
#define FDT 0x28400u
#define FILE_(i) (0x29000u + (i) * 0x100u)
#define SOCKET 0x29800u
#define SOCK 0x2a000u

static void file(struct fz_seed *s, int i, int mnt, int dentry, uint32_t flags)
{
	fz_put64(s, FILE_(i) + fz_off("file", "f_path") + fz_off("path", "mnt"),
		 FZ_KV(FZ_VFSMNT(mnt)));
	fz_put64(s, FILE_(i) + fz_off("file", "f_path") + fz_off("path", "dentry"),
		 FZ_KV(FZ_DENTRY(dentry)));
	fz_put64(s, FILE_(i) + fz_off("file", "f_inode"), FZ_KV(FZ_INODE(dentry)));
	fz_put32(s, FILE_(i) + fz_off("file", "f_flags"), flags);
	fz_put64(s, FILES + fz_off("files_struct", "fd_array") + 8u * (unsigned)i, FZ_KV(FILE_(i)));
}

static void seed(struct fz_seed *s)
{
	uint32_t task = FZ_OBJ;

	fz_seed_fs(s);
	fz_put64(s, 0, FZ_KV(task));
	fz_put32(s, task + fz_off("task_struct", "pid"), 1);
	fz_put64(s, task + fz_off("task_struct", "files"), FZ_KV(FILES));
	fz_put64(s, FILES + fz_off("files_struct", "fdt"), FZ_KV(FDT));
	fz_put32(s, FDT + fz_off("fdtable", "max_fds"), 64);
	fz_put64(s, FDT + fz_off("fdtable", "fd"), FZ_KV(FILES + fz_off("files_struct", "fd_array")));
	fz_put64(s, FDT + fz_off("fdtable", "open_fds"), FZ_KV(FDT + 0x40));
	fz_put64(s, FDT + fz_off("fdtable", "close_on_exec"), FZ_KV(FDT + 0x48));
	fz_put64(s, FDT + 0x40, 0xb);
	fz_put64(s, FDT + 0x48, 0x2);
	file(s, 0, 0, FZ_D_PASSWD, 0);
	file(s, 1, 1, FZ_D_SELF, 02000000);
	file(s, 3, 0, FZ_D_ETC, 0);
	/* fd 3 a socket: f_op socket_file_ops, private_data a socket whose sk is AF_INET */
	fz_put64(s, FILE_(3) + fz_off("file", "f_op"), FZ_KV(fz_sym_pa("socket_file_ops")));
	fz_put64(s, FILE_(3) + fz_off("file", "private_data"), FZ_KV(SOCKET));
	fz_put64(s, SOCKET + fz_off("socket", "sk"), FZ_KV(SOCK));
	fz_put16(s, SOCK + fz_off("sock", "__sk_common.skc_family"), 2);
	fz_put16(s, SOCK + fz_off("sock", "sk_type"), 1);
	fz_put16(s, SOCK + fz_off("sock", "sk_protocol"), 6);
	fz_put16(s, FZ_INODE(FZ_D_ETC) + fz_off("inode", "i_mode"), 0140777);
}

FZ_SEED_INIT(seed)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_guest *g = fz_guest_new(data, size);
	struct nfm_task t = { .addr = g->root[0], .pid = 1, .tgid = 1 };
	struct nfm_fd_iter *it;
	struct nfm_fd f;
	int n = 0, r;

	if (nfm_fd_iter_new(g->ctx, &t, &it) == 0) {
		while ((r = nfm_fd_iter_next(it, &f)) > 0)
			n++;
		fz_report("fds", n, r);
		nfm_fd_iter_free(it);
	}
	fz_guest_free(g);
	return 0;
}
