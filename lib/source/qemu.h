/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers of the live QEMU backend, exposed for unit tests and vmlist.c. */
#ifndef NFM_LIB_SOURCE_QEMU_H
#define NFM_LIB_SOURCE_QEMU_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "source/qemu_cmdline.h"
#include "source/source.h"

/* One line of /proc/PID/maps. */
struct nfm_qemu_map {
	uint64_t start, end, offset;
	char perms[8];
	char path[512];
};

/* Parse /proc/PID/maps text. Returns the count (caller frees *ret) or -ENOMEM. */
int nfm_qemu_parse_maps(const char *text, struct nfm_qemu_map **ret);

/*
 * Find guest RAM: a rw mapping of exactly ram_size bytes, of the backend md (NULL: anonymous).
 * *idx is the first match; returns the number of matches, or -ENOENT.
 */
int nfm_qemu_find_ram_map(const struct nfm_qemu_map *maps, size_t n, uint64_t ram_size,
			  const struct nfm_qemu_memdev *md, size_t *idx);

/* Read a whole (proc) file, up to max bytes, NUL-terminated. Caller frees *ret. */
int nfm_read_file(const char *path, size_t max, char **ret, size_t *len);

#endif
