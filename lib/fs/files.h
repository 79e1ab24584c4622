/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The fd table as the library's other walks need it, beside the public nfm_fd_iter. */
#ifndef NFM_FS_FILES_H
#define NFM_FS_FILES_H

#include <stdint.h>

struct nfm_fd_iter;

/*
 * The struct file pointers of the table, indexed by fd (0: none), as read in one piece by
 * nfm_fd_iter_new: for a walk that only matches files it already knows (the sockets' owners),
 * without reading each file's inode and path as nfm_fd_iter_next does. Not dereferenced here.
 */
const uint64_t *nfm_fd_iter_files(const struct nfm_fd_iter *it, unsigned int *n);

#endif
