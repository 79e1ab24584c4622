/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The crawl cache: guest-physical pages read during one crawl of a source read by system call
 * (/proc/PID/mem, a dump file), in a fixed memory budget (doc/reading.md). Two ways in:
 *
 *  - read-ahead: a miss reads the whole aligned 16 KiB chunk, so the neighbours in a slab page
 *    (creds, signal structs, page-table entries, the rest of a task_struct) come with one read;
 *  - replay: a crawl of a live guest touches nearly the same pages, in nearly the same order, as
 *    the one before (the same task_structs, mm_structs, page tables, argv pages). Each crawl
 *    records the pages it uses in first-use order (the trace); the next crawl fetches that trace
 *    ahead of itself in windows, each window one batched read (process_vm_readv over runs of
 *    adjacent pages) instead of hundreds of dependent preads. A trace that fits in three
 *    quarters of the budget comes in one window; a longer one streams in windows of a quarter:
 *    the first use of a page of the newest window fetches the next one.
 *
 * When the budget is full the oldest copy makes room (a ring), so memory stays bounded at any
 * guest size and the number of system calls grows with the pages a crawl needs, not with how
 * far that exceeds the budget. A page stays one copy per crawl while it is cached; a page read
 * again after eviction may differ, as any two reads of a live guest may (the walkers validate).
 */
#ifndef NFM_LIB_ARCH_PCACHE_H
#define NFM_LIB_ARCH_PCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nfm_source;

/* The longest read through the cache (a longer one goes straight to the source). */
#define NFM_PCACHE_READ_MAX 16384u
/* The budget for page copies: 32 MiB. */
#define NFM_PCACHE_MAX_PAGES 8192u
/* The longest trace kept (8 bytes a page): the pages of a --full crawl of 10,000 processes. */
#define NFM_PCACHE_TRACE_MAX (1u << 18)

struct nfm_pcache_slot {
	uint64_t page;		/* pa >> 12 */
	uint64_t gen;		/* valid when equal to the cache's gen */
	uint32_t data;		/* index of the page's copy */
};

struct nfm_pcache {
	struct nfm_source *src;
	uint64_t gen;			/* unique in the process (see pcache.c) */
	uint32_t max;			/* the budget in pages (a power of two) */
	/* The crawl's area (pcache.c: pooled between crawls; all NULL while idle): */
	uint8_t *data;			/* max page copies' address space */
	struct nfm_pcache_slot *slots;	/* open addressing, 2 * max */
	uint64_t *data_page;		/* data index -> page, UINT64_MAX for none */
	uint32_t *data_win;		/* data index -> replay window that brought it, 0: a miss */
	uint64_t *lines;		/* data index -> the 64-byte lines this crawl read (0: unused) */
	uint32_t *trace_at;		/* data index -> its entry in the trace, UINT32_MAX: none */
	uint16_t *span;			/* data index -> lines held: first | last << 8 */
	uint32_t nr, cap, hand;		/* cap: most in use; at nr == max, hand recycles */
	uint64_t *trace;		/* pages this crawl used, in first-use order (pcache.c: a
					 * page number and the span of lines read from it) */
	uint32_t nr_trace, cap_trace;
	uint64_t *replay;		/* the last crawl's trace */
	uint32_t nr_replay, cap_replay, replay_pos;
	uint32_t win, win_pages;	/* windows fetched this crawl, pages per window */
	bool replay_pending;		/* fetch the first window at the next read */
	/* Counters for benchmarks: system-call reads (single and batched), pages by replay. */
	uint64_t nr_reads, nr_batches, nr_replayed;
};

/* A cache over src (which must be read by system call); NULL when out of memory. */
struct nfm_pcache *nfm_pcache_new(struct nfm_source *src);
/* The same with a budget of max_pages (rounded down to a power of two, at least 16). */
struct nfm_pcache *nfm_pcache_new_max(struct nfm_source *src, uint32_t max_pages);
void nfm_pcache_free(struct nfm_pcache *pc);

/* Forget the crawl's pages; keep its trace, to fetch those pages ahead of the next crawl. */
void nfm_pcache_flush(struct nfm_pcache *pc);

/* The crawl is over: the page copies' memory goes to a pool for the next crawl of any cache;
 * the trace stays for this cache's next replay. The next read takes an area again. */
void nfm_pcache_idle(struct nfm_pcache *pc);

/* Forget everything, the trace too (the source now shows a different kernel). */
void nfm_pcache_reset(struct nfm_pcache *pc);

/* Read len <= NFM_PCACHE_READ_MAX bytes at pa through the cache. 0, -EFAULT, -EIO. */
int nfm_pcache_read(struct nfm_pcache *pc, uint64_t pa, void *buf, size_t len);

#endif
