/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The crawl cache: guest-physical pages read during one crawl of a source read by system call
 * (/proc/PID/mem, a dump file). Two ways in:
 *
 *  - read-ahead: a miss reads the whole aligned 16 KiB chunk, so the neighbours in a slab page
 *    (creds, signal structs, page-table entries, the rest of a task_struct) come with one read;
 *  - replay: a crawl of a live guest touches nearly the same pages as the one before (the same
 *    task_structs, mm_structs, page tables), so the first read after a flush fetches every page
 *    the last crawl used in one batched read (process_vm_readv over runs of adjacent pages)
 *    instead of hundreds of dependent preads. Pages the crawl no longer needs drop out of the
 *    next replay; pages it newly needs come by read-ahead.
 *
 * Pages stay valid for one crawl (until nfm_pcache_flush), so a crawl sees each page once, as
 * one copy. Memory grows with the working set up to NFM_PCACHE_MAX_PAGES.
 */
#ifndef NFM_LIB_ARCH_PCACHE_H
#define NFM_LIB_ARCH_PCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nfm_source;

#define NFM_PCACHE_CHUNK 16384u
/* 32 MiB: the ps, maps and lsof working set of about 2,000 processes. */
#define NFM_PCACHE_MAX_PAGES 8192u

struct nfm_pcache_slot {
	uint64_t page;		/* pa >> 12 */
	uint64_t gen;		/* valid when equal to the cache's gen */
	uint32_t data;		/* index of the page's copy */
};

struct nfm_pcache {
	struct nfm_source *src;
	uint64_t gen;
	struct nfm_pcache_slot *slots;	/* open addressing, 2 * NFM_PCACHE_MAX_PAGES */
	uint8_t *data;			/* nr pages of copies, cap allocated */
	uint64_t *data_page;		/* data index -> page */
	bool *used;			/* data index -> read by this crawl */
	uint32_t nr, cap;
	uint64_t *replay;		/* pages the last crawl used, sorted */
	uint32_t nr_replay;
	bool replay_pending;		/* fetch the replay set at the next read */
};

/* A cache over src (which must be read by system call); NULL when out of memory. */
struct nfm_pcache *nfm_pcache_new(struct nfm_source *src);
void nfm_pcache_free(struct nfm_pcache *pc);

/* Forget the crawl's pages; remember which were used, to fetch them at the next read. */
void nfm_pcache_flush(struct nfm_pcache *pc);

/* Forget everything, the replay set too (the source now shows a different kernel). */
void nfm_pcache_reset(struct nfm_pcache *pc);

/* Read len <= NFM_PCACHE_CHUNK bytes at pa through the cache. 0, -EFAULT, -EIO. */
int nfm_pcache_read(struct nfm_pcache *pc, uint64_t pa, void *buf, size_t len);

#endif
