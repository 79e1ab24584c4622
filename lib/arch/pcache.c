// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "arch/pcache.h"
#include "source/source.h"

#define PAGE 4096u
#define NO_PAGE UINT64_MAX
#define NO_ENTRY UINT32_MAX

/*
 * A trace entry: the page number (below 2^40: physical addresses have at most 52 bits) and, from
 * bit 48, the span of 64-byte lines the crawl read from the page, first and last, with a flag that
 * says it is known. The radix sort orders bits 0..47, so a span travels with its page.
 *
 * A page of which the last crawl read at most PARTIAL_LINES lines in one span (a page-table entry,
 * an argv string, a struct cred) is fetched as those lines only: a crawl of command lines reads
 * five such pages per process and one whole page (the task's), and copying whole pages was most of
 * its system time. A later read outside the span completes the copy (complete_copy()).
 */
#define T_PAGE(e) ((e) & ((1ull << 48) - 1))
#define T_KNOWN (1ull << 60)
#define T_FIRST(e) ((uint32_t)((e) >> 48) & 63)
#define T_LAST(e) ((uint32_t)((e) >> 54) & 63)
#define PARTIAL_LINES 16u
#define SPAN_FULL ((uint16_t)(63u << 8))
#define SPAN_FIRST(s) ((uint32_t)(s) & 0xff)
#define SPAN_LAST(s) ((uint32_t)(s) >> 8)

/*
 * Generations are unique across every cache of the process: a slot table comes from the pool
 * with another cache's slots in it, and none of them may look valid to its new holder.
 */
static _Atomic uint64_t next_gen = 1;

static uint64_t new_gen(void)
{
	return atomic_fetch_add(&next_gen, 1);
}

struct nfm_pcache *nfm_pcache_new_max(struct nfm_source *src, uint32_t max_pages)
{
	struct nfm_pcache *pc = calloc(1, sizeof(*pc));
	uint32_t max = 16;

	if (!pc)
		return NULL;
	while (max < (1u << 28) && max * 2 <= max_pages)
		max *= 2;
	pc->src = src;
	pc->gen = new_gen();
	pc->max = max;
	return pc;
}

struct nfm_pcache *nfm_pcache_new(struct nfm_source *src)
{
	return nfm_pcache_new_max(src, NFM_PCACHE_MAX_PAGES);
}

/*
 * The page copies' memory: the whole budget as address space (pages cost memory only once
 * written, and copies never move; grown by realloc in the heap, each doubling would leave the
 * old block behind, written and resident, wherever other allocations pinned the heap's top).
 *
 * Copies serve one crawl, so a context that says its crawl is over (nfm_pcache_idle) gives
 * its area to a pool for the next crawl of any context: a daemon crawling fifty guests on two
 * threads keeps about two areas resident, not fifty. The area holds everything that lives for
 * one crawl: the copies, the slot table (written all over: 384 KiB resident per cache if each
 * kept its own) and the per-copy arrays.
 */
#define POOL_MAX 4
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	uint8_t *data;
	uint32_t pages;
} pool[POOL_MAX];	/* a stack: the area given back last is the warmest */
static int pool_n;

static size_t area_bytes(uint32_t pages)
{
	return (size_t)pages * PAGE + 2 * (size_t)pages * sizeof(struct nfm_pcache_slot) +
	       (size_t)pages * (2 * sizeof(uint64_t) + 2 * sizeof(uint32_t) + sizeof(uint16_t));
}

static uint8_t *area_get(uint32_t pages)
{
	uint8_t *data = NULL;
	void *p;

	pthread_mutex_lock(&pool_lock);
	for (int i = pool_n - 1; i >= 0; i--)
		if (pool[i].pages == pages) {
			data = pool[i].data;
			memmove(&pool[i], &pool[i + 1], (size_t)(pool_n - i - 1) * sizeof(pool[0]));
			pool_n--;
			break;
		}
	pthread_mutex_unlock(&pool_lock);
	if (data)
		return data;
	p = mmap(NULL, area_bytes(pages), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static void area_put(uint8_t *data, uint32_t pages)
{
	uint8_t *old = NULL;
	uint32_t old_pages = 0;

	pthread_mutex_lock(&pool_lock);
	if (pool_n == POOL_MAX) {	/* full: the coldest goes */
		old = pool[0].data;
		old_pages = pool[0].pages;
		memmove(&pool[0], &pool[1], (POOL_MAX - 1) * sizeof(pool[0]));
		pool_n--;
	}
	pool[pool_n].data = data;
	pool[pool_n++].pages = pages;
	pthread_mutex_unlock(&pool_lock);
	if (old)
		munmap(old, area_bytes(old_pages));
}

/* Take an area: its copies, slots and per-copy arrays in one mapping (slots, 8-aligned, after
 * the page-aligned copies; then the 8-, 4- and 2-byte arrays). */
static bool bind_area(struct nfm_pcache *pc)
{
	uint8_t *a = area_get(pc->max);

	if (!a)
		return false;
	pc->data = a;
	pc->slots = (struct nfm_pcache_slot *)(void *)(a + (size_t)pc->max * PAGE);
	pc->data_page = (uint64_t *)(void *)(pc->slots + 2 * (size_t)pc->max);
	pc->lines = pc->data_page + pc->max;
	pc->data_win = (uint32_t *)(void *)(pc->lines + pc->max);
	pc->trace_at = pc->data_win + pc->max;
	pc->span = (uint16_t *)(void *)(pc->trace_at + pc->max);
	/* whatever the area held belongs to another generation */
	pc->gen = new_gen();
	pc->nr = pc->hand = pc->win = 0;
	return true;
}

static void fold_spans(struct nfm_pcache *pc);

void nfm_pcache_idle(struct nfm_pcache *pc)
{
	if (!pc || !pc->data)
		return;
	fold_spans(pc);
	area_put(pc->data, pc->max);
	pc->data = NULL;
	pc->slots = NULL;
	pc->data_page = NULL;
	pc->data_win = NULL;
	pc->lines = NULL;
	pc->trace_at = NULL;
	pc->span = NULL;
	/* the copies are gone: none is found again; the trace stays for the next replay */
	pc->nr = pc->hand = pc->win = 0;
	pc->replay_pending = false;
	pc->gen = new_gen();
}

void nfm_pcache_free(struct nfm_pcache *pc)
{
	if (!pc)
		return;
	if (pc->data)
		area_put(pc->data, pc->max);
	free(pc->trace);
	free(pc->replay);
	free(pc);
}

static uint32_t home_of(const struct nfm_pcache *pc, uint64_t page)
{
	return (uint32_t)((page * 0x9e3779b97f4a7c15ull) >> 32) & (2 * pc->max - 1);
}

static struct nfm_pcache_slot *slot_of(struct nfm_pcache *pc, uint64_t page)
{
	uint32_t i = home_of(pc, page), mask = 2 * pc->max - 1;

	/* Slots of older crawls are free; at most max of 2 * max slots are in use. */
	while (pc->slots[i].gen == pc->gen && pc->slots[i].page != page)
		i = (i + 1) & mask;
	return &pc->slots[i];
}

/* Remove page's slot, moving later slots of its probe run back (linear-probing deletion). */
static void slot_delete(struct nfm_pcache *pc, uint64_t page)
{
	uint32_t mask = 2 * pc->max - 1, i, j;
	struct nfm_pcache_slot *s = slot_of(pc, page);

	if (s->gen != pc->gen)
		return;
	i = (uint32_t)(s - pc->slots);
	for (j = (i + 1) & mask; pc->slots[j].gen == pc->gen; j = (j + 1) & mask) {
		uint32_t home = home_of(pc, pc->slots[j].page);

		/* j's entry may fill the hole at i when i lies on its probe path home..j */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			pc->slots[i] = pc->slots[j];
			i = j;
		}
	}
	pc->slots[i].gen = 0;
}

/* Room for at least need copies (need <= max): the high-water mark of the budget in use. */
static bool grow(struct nfm_pcache *pc, uint32_t need)
{
	if (need > pc->cap)
		pc->cap = need <= pc->max ? need : pc->max;
	return need <= pc->cap;
}

/* Write the span of lines the crawl read from copy idx into its trace entry. */
static void fold_span(struct nfm_pcache *pc, uint32_t idx)
{
	uint64_t m = pc->lines[idx], e;
	uint32_t at = pc->trace_at[idx];

	if (!m || at == NO_ENTRY || at >= pc->nr_trace)
		return;
	e = T_PAGE(pc->trace[at]);
	pc->trace[at] = e | T_KNOWN | (uint64_t)__builtin_ctzll(m) << 48 |
			(uint64_t)(63 - __builtin_clzll(m)) << 54;
}

static void fold_spans(struct nfm_pcache *pc)
{
	for (uint32_t i = 0; i < pc->nr; i++)
		fold_span(pc, i);
}

/* A data index for a new copy: a fresh one under the budget, else the oldest copy's; -1. */
static int64_t alloc_copy(struct nfm_pcache *pc)
{
	/* A crawl with no trace to replay (a one-shot command's, or a daemon's first) keeps a ring
	 * of a quarter of the budget: it gains nothing from more than its read-ahead, and `nfm ps`
	 * of 2,000 processes wrote the whole 32 MiB. A replay may fill the budget. */
	uint32_t room = pc->nr_replay ? pc->max : pc->max / 4, idx;

	if (pc->nr < room && grow(pc, pc->nr + 1)) {
		idx = pc->nr++;
	} else {
		if (!pc->nr)
			return -1;
		idx = pc->hand;
		pc->hand = (pc->hand + 1) % pc->nr;
		fold_span(pc, idx);
		if (pc->data_page[idx] != NO_PAGE && slot_of(pc, pc->data_page[idx])->data == idx)
			slot_delete(pc, pc->data_page[idx]);
	}
	pc->data_page[idx] = NO_PAGE;
	pc->data_win[idx] = 0;
	pc->lines[idx] = 0;
	pc->trace_at[idx] = NO_ENTRY;
	pc->span[idx] = SPAN_FULL;
	return idx;
}

static void insert(struct nfm_pcache *pc, uint64_t page, uint32_t idx, uint32_t win)
{
	struct nfm_pcache_slot *s = slot_of(pc, page);

	s->page = page;
	s->gen = pc->gen;
	s->data = idx;
	pc->data_page[idx] = page;
	pc->data_win[idx] = win;
}

/* LSD radix sort of page numbers (below 2^48): qsort would cost a tenth of a crawl. */
static void sort_pages(uint64_t *a, uint64_t *tmp, uint32_t n)
{
	for (int shift = 0; shift < 48; shift += 12) {
		uint32_t count[4097] = { 0 };

		for (uint32_t i = 0; i < n; i++)
			count[((a[i] >> shift) & 4095) + 1]++;
		for (int d = 0; d < 4096; d++)
			count[d + 1] += count[d];
		for (uint32_t i = 0; i < n; i++)
			tmp[count[(a[i] >> shift) & 4095]++] = a[i];
		memcpy(a, tmp, n * sizeof(*a));
	}
}

/* The next window of the last crawl's trace, not cached yet, sorted and deduplicated; n pages. */
static uint64_t *next_window(struct nfm_pcache *pc, uint32_t *n)
{
	uint32_t want = pc->nr_replay - pc->replay_pos, k = 0;
	uint64_t *pages;

	if (want > pc->win_pages)
		want = pc->win_pages;
	pages = malloc(2 * (size_t)want * sizeof(*pages));
	if (!pages)
		return NULL;
	for (uint32_t i = 0; i < want; i++) {
		uint64_t e = pc->replay[pc->replay_pos + i];

		if (slot_of(pc, T_PAGE(e))->gen != pc->gen)
			pages[k++] = e;
	}
	pc->replay_pos += want;
	if (k > 1)
		sort_pages(pages, pages + want, k);
	*n = 0;
	for (uint32_t i = 0; i < k; i++) {
		uint64_t *last = *n ? &pages[*n - 1] : NULL, e = pages[i];

		if (!last || T_PAGE(*last) != T_PAGE(e)) {
			pages[(*n)++] = e;
		} else if (!(*last & e & T_KNOWN)) {	/* a page traced twice: the union */
			*last = T_PAGE(e);
		} else {
			uint32_t f = T_FIRST(*last) < T_FIRST(e) ? T_FIRST(*last) : T_FIRST(e);
			uint32_t l = T_LAST(*last) > T_LAST(e) ? T_LAST(*last) : T_LAST(e);

			*last = T_PAGE(e) | T_KNOWN | (uint64_t)f << 48 | (uint64_t)l << 54;
		}
	}
	return pages;
}

/* Does the last crawl's trace say that only a few lines of this page were read? */
static bool partial(uint64_t e)
{
	return (e & T_KNOWN) && T_LAST(e) >= T_FIRST(e) && T_LAST(e) - T_FIRST(e) < PARTIAL_LINES;
}

/*
 * Fetch the next window in one batched read: runs of adjacent pages whose copies are adjacent,
 * and the few lines of a page the last crawl read only a few lines of.
 */
static void fetch_window(struct nfm_pcache *pc)
{
	struct nfm_phys_iov *iov = NULL;
	uint32_t *idx = NULL, *run = NULL, n = 0, nr_runs = 0, i;
	uint64_t *pages;

	pc->replay_pending = false;
	if (pc->replay_pos >= pc->nr_replay)
		return;
	pages = next_window(pc, &n);
	/* Room for the whole window first, so that its copies never recycle each other. */
	if (!pages || !n || !grow(pc, pc->nr + n < pc->max ? pc->nr + n : pc->max) ||
	    !(iov = malloc(n * sizeof(*iov))) || !(idx = malloc(n * sizeof(*idx))) ||
	    !(run = malloc(n * sizeof(*run))))
		goto out;
	pc->win++;
	for (i = 0; i < n; i++) {
		int64_t c = alloc_copy(pc);
		uint64_t page = T_PAGE(pages[i]);
		uint8_t *dst;

		if (c < 0)
			break;
		idx[i] = (uint32_t)c;
		dst = pc->data + (size_t)c * PAGE;
		if (partial(pages[i])) {
			uint32_t f = T_FIRST(pages[i]), l = T_LAST(pages[i]);

			pc->span[c] = (uint16_t)(f | l << 8);
			run[i] = nr_runs;
			iov[nr_runs++] = (struct nfm_phys_iov){ .pa = page * PAGE + f * 64u,
								.buf = dst + f * 64u,
								.len = (l - f + 1) * 64u };
			continue;
		}
		if (nr_runs && !partial(pages[i - 1]) && page == T_PAGE(pages[i - 1]) + 1 &&
		    (uint8_t *)iov[nr_runs - 1].buf + iov[nr_runs - 1].len == dst) {
			iov[nr_runs - 1].len += PAGE;
			run[i] = nr_runs - 1;
			continue;
		}
		run[i] = nr_runs;
		iov[nr_runs++] = (struct nfm_phys_iov){ .pa = page * PAGE, .buf = dst, .len = PAGE };
	}
	nfm_source_read_phys_vec(pc->src, iov, nr_runs);
	pc->nr_batches++;
	/* Copies of failed runs stay unused (NO_PAGE); those pages are read on demand. */
	for (uint32_t j = 0; j < i; j++)
		if (!iov[run[j]].err)
			insert(pc, T_PAGE(pages[j]), idx[j], pc->win);
out:
	free(pages);
	free(iov);
	free(idx);
	free(run);
}

void nfm_pcache_flush(struct nfm_pcache *pc)
{
	uint64_t *t = pc->replay;
	uint32_t cap = pc->cap_replay;

	if (pc->data)
		fold_spans(pc);
	/* This crawl's trace is the next crawl's replay; the old replay buffer takes the trace. */
	pc->replay = pc->trace;
	pc->cap_replay = pc->cap_trace;
	pc->nr_replay = pc->nr_trace;
	pc->trace = t;
	pc->cap_trace = cap;
	pc->nr_trace = 0;
	pc->replay_pos = 0;
	pc->win_pages = pc->nr_replay <= pc->max / 4 * 3 ? pc->nr_replay : pc->max / 4;
	pc->replay_pending = pc->nr_replay > 0;
	pc->nr = pc->hand = pc->win = 0;
	pc->gen = new_gen();
}

void nfm_pcache_reset(struct nfm_pcache *pc)
{
	pc->nr = pc->hand = pc->win = 0;
	pc->nr_trace = pc->nr_replay = pc->replay_pos = 0;
	pc->replay_pending = false;
	pc->gen = new_gen();
}

/* The crawl read lines of copy idx: trace its first use; reaching the newest window fetches the
 * next. */
static void note_use(struct nfm_pcache *pc, uint32_t idx, uint64_t lines)
{
	bool first = !pc->lines[idx];

	pc->lines[idx] |= lines;
	if (!first)
		return;
	if (pc->nr_trace == pc->cap_trace && pc->cap_trace < NFM_PCACHE_TRACE_MAX) {
		uint32_t cap = pc->cap_trace ? pc->cap_trace * 2 : 1024;
		uint64_t *t = realloc(pc->trace, cap * sizeof(*t));

		if (t) {
			pc->trace = t;
			pc->cap_trace = cap;
		}
	}
	if (pc->nr_trace < pc->cap_trace) {
		pc->trace_at[idx] = pc->nr_trace;
		pc->trace[pc->nr_trace++] = pc->data_page[idx];
	}
	if (pc->win && pc->data_win[idx] == pc->win)
		fetch_window(pc);
}

/*
 * A miss reads its page alone, straight into a new copy. Reading ahead (the aligned 16 KiB
 * around it, as before) cost more than it saved: the pages a crawl misses on are mostly
 * page-table pages and argv pages, whose neighbours belong to other processes, and a cold
 * `nfm ps aux` of 2,000 processes took 54 ms of CPU with it, 38 without. A page that cannot
 * be read (no memory there) stays out; the caller then reads directly.
 */
static int fill_page(struct nfm_pcache *pc, uint64_t pa)
{
	int64_t c = alloc_copy(pc);
	int err;

	if (c < 0)
		return -ENOMEM;
	pc->nr_reads++;
	err = nfm_source_read_phys(pc->src, pa & ~(uint64_t)(PAGE - 1), pc->data + (size_t)c * PAGE,
				   PAGE);
	if (!err)
		insert(pc, pa / PAGE, (uint32_t)c, 0);
	return err;
}

/*
 * Copy idx holds only some lines of its page (a partial fetch): read the page and fill in the
 * rest, keeping the lines held (one copy of a page per crawl: two reads of it agree).
 */
static int complete_copy(struct nfm_pcache *pc, uint32_t idx)
{
	uint8_t page[PAGE], *dst = pc->data + (size_t)idx * PAGE;
	uint32_t f = SPAN_FIRST(pc->span[idx]), l = SPAN_LAST(pc->span[idx]);
	int err;

	pc->nr_reads++;
	err = nfm_source_read_phys(pc->src, pc->data_page[idx] * PAGE, page, PAGE);
	if (err)
		return err;
	memcpy(dst, page, f * 64u);
	memcpy(dst + (l + 1) * 64u, page + (l + 1) * 64u, PAGE - (l + 1) * 64u);
	pc->span[idx] = SPAN_FULL;
	return 0;
}

/*
 * Most reads are one field (8 or 4 bytes): moved as such. GCC inlines a memcpy of unknown size
 * as rep movsq, whose start-up cost was a third of this file's time in a cold ps.
 */
static inline void copy_out(uint8_t *out, const uint8_t *src, size_t n)
{
	if (n == 8) {
		uint64_t v;

		memcpy(&v, src, 8);
		memcpy(out, &v, 8);
	} else if (n == 4) {
		uint32_t v;

		memcpy(&v, src, 4);
		memcpy(out, &v, 4);
	} else {
		memcpy(out, src, n);
	}
}

/* The lines [first, last] of a page as a mask. */
static uint64_t line_mask(size_t off, size_t n)
{
	uint32_t f = (uint32_t)(off / 64), l = (uint32_t)((off + n - 1) / 64);

	return (~0ull >> (63 - l)) & (~0ull << f);
}

int nfm_pcache_read(struct nfm_pcache *pc, uint64_t pa, void *buf, size_t len)
{
	uint8_t *out = buf;

	if (!pc->data && !bind_area(pc)) {
		pc->nr_reads++;
		return nfm_source_read_phys(pc->src, pa, buf, len);
	}
	if (pc->replay_pending)
		fetch_window(pc);
	while (len) {
		size_t off = (size_t)(pa % PAGE), n = PAGE - off;
		struct nfm_pcache_slot *s = slot_of(pc, pa / PAGE);
		uint32_t idx;

		if (n > len)
			n = len;
		if (s->gen != pc->gen) {
			/* No memory there (or no copy to be had): read directly. */
			fill_page(pc, pa);
			s = slot_of(pc, pa / PAGE);
			if (s->gen != pc->gen) {
				pc->nr_reads++;
				return nfm_source_read_phys(pc->src, pa, out, len);
			}
		}
		idx = s->data;
		if (pc->span[idx] != SPAN_FULL &&
		    (off / 64 < SPAN_FIRST(pc->span[idx]) ||
		     (off + n - 1) / 64 > SPAN_LAST(pc->span[idx])) &&
		    complete_copy(pc, idx) < 0) {
			pc->nr_reads++;
			return nfm_source_read_phys(pc->src, pa, out, len);
		}
		copy_out(out, pc->data + (size_t)idx * PAGE + off, n);
		note_use(pc, idx, line_mask(off, n));
		out += n;
		pa += n;
		len -= n;
	}
	return 0;
}
