/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which pages of another process's memory can hold anything but zeros, from the host kernel's
 * own bookkeeping: /proc/PID/pagemap for anonymous memory, SEEK_DATA/SEEK_HOLE for a file. A
 * page that cannot is never read: reading it would cost a copy of zeros (or, for a shared
 * file's hole, make the host allocate a page).
 */
#ifndef NFM_LIB_SOURCE_PAGEMAP_H
#define NFM_LIB_SOURCE_PAGEMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NFM_PM_PFN_MASK ((1ull << 55) - 1)
#define NFM_PM_SOFT_DIRTY (1ull << 55)
#define NFM_PM_SWAP (1ull << 62)
#define NFM_PM_PRESENT (1ull << 63)

/*
 * The host's shared zero pages as page frame numbers: the 4 KiB one and the first of the
 * transparent huge one (it spans huge_pages frames). Learnt once per process from pages of our
 * own, each confirmed by /proc/kpageflags; 0 when unknown (pagemap hides frame numbers from a
 * process without CAP_SYS_ADMIN, or the host has no huge zero page).
 */
struct nfm_zero_pfns {
	uint64_t small, huge, huge_pages;
};
const struct nfm_zero_pfns *nfm_zero_pfns(void);

/*
 * Can a page whose pagemap entry is e hold data? Present on a zero page: no. Present elsewhere
 * or swapped out: yes. Neither: no in private anonymous memory (it has never been written),
 * yes elsewhere (a shared file's page may sit in the page cache, unmapped here).
 */
bool nfm_pagemap_may_hold_data(uint64_t e, bool private_anon, const struct nfm_zero_pfns *z);

/*
 * Bit i of bitmap (set, never cleared) for each page i of [off, off + npages * 4096) of the
 * file fd that SEEK_DATA counts as data (a shmem page in swap counts; a hole does not). Pages
 * past the file's end stay clear. 0, or -errno when the file system cannot tell (then every
 * bit is set).
 */
int nfm_file_data_pages(int fd, uint64_t off, uint64_t npages, uint8_t *bitmap);

#endif
