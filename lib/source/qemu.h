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

/* CPU 0's CR3 from "info registers" text; 0 when absent. */
uint64_t nfm_qmp_parse_cr3(const char *text);

/*
 * Guest-physical ranges -> host-virtual addresses through the QMP socket at path (ranges'
 * backing: QEMU's addresses), and CPU 0's CR3 (*cr3, 0 if unknown): the count or -errno.
 * log may be NULL.
 */
int nfm_qmp_layout(const char *path, const struct nfm_qemu_cmdline *cl, const struct nfm_log *log,
		   struct nfm_source_range **ret, uint64_t *cr3);

/* The same on a second thread: start (NULL if it cannot), then join for its result (frees j). */
struct nfm_qmp_layout_job;
struct nfm_qmp_layout_job *nfm_qmp_layout_start(const char *path, const struct nfm_qemu_cmdline *cl);
int nfm_qmp_layout_join(struct nfm_qmp_layout_job *j, struct nfm_source_range **ret,
			uint64_t *cr3);

/*
 * Does every range of q (backing: QEMU's addresses) read the same bytes as the guessed layout
 * (its backing plus base: the address of a mapping it is relative to, else 0)? QMP's layout
 * usually refines the guess from /proc/PID/maps by taking the legacy holes out.
 */
bool nfm_qemu_layout_refines(const struct nfm_source_range *guess, size_t ng, uint64_t base,
			     const struct nfm_source_range *q, size_t nq);

#endif
