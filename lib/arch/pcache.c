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
#define CHUNK_PAGES (NFM_PCACHE_CHUNK / PAGE)
#define NO_PAGE UINT64_MAX

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
	       (size_t)pages * (sizeof(uint64_t) + sizeof(uint32_t) + sizeof(bool));
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
 * the page-aligned copies; then the 8-, 4- and 1-byte arrays). */
static bool bind_area(struct nfm_pcache *pc)
{
	uint8_t *a = area_get(pc->max);

	if (!a)
		return false;
	pc->data = a;
	pc->slots = (struct nfm_pcache_slot *)(void *)(a + (size_t)pc->max * PAGE);
	pc->data_page = (uint64_t *)(void *)(pc->slots + 2 * (size_t)pc->max);
	pc->data_win = (uint32_t *)(void *)(pc->data_page + pc->max);
	pc->used = (bool *)(pc->data_win + pc->max);
	/* whatever the area held belongs to another generation */
	pc->gen = new_gen();
	pc->nr = pc->hand = pc->win = 0;
	return true;
}

void nfm_pcache_idle(struct nfm_pcache *pc)
{
	if (!pc || !pc->data)
		return;
	area_put(pc->data, pc->max);
	pc->data = NULL;
	pc->slots = NULL;
	pc->data_page = NULL;
	pc->data_win = NULL;
	pc->used = NULL;
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

/* A data index for a new copy: a fresh one under the budget, else the oldest copy's; -1. */
static int64_t alloc_copy(struct nfm_pcache *pc)
{
	uint32_t idx;

	if (pc->nr < pc->max && grow(pc, pc->nr + 1)) {
		idx = pc->nr++;
	} else {
		if (!pc->nr)
			return -1;
		idx = pc->hand;
		pc->hand = (pc->hand + 1) % pc->nr;
		if (pc->data_page[idx] != NO_PAGE && slot_of(pc, pc->data_page[idx])->data == idx)
			slot_delete(pc, pc->data_page[idx]);
	}
	pc->data_page[idx] = NO_PAGE;
	pc->data_win[idx] = 0;
	pc->used[idx] = false;
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
		uint64_t page = pc->replay[pc->replay_pos + i];

		if (slot_of(pc, page)->gen != pc->gen)
			pages[k++] = page;
	}
	pc->replay_pos += want;
	if (k > 1)
		sort_pages(pages, pages + want, k);
	*n = 0;
	for (uint32_t i = 0; i < k; i++)
		if (!*n || pages[i] != pages[*n - 1])
			pages[(*n)++] = pages[i];
	return pages;
}

/* Fetch the next window in one batched read: runs of adjacent pages whose copies are adjacent. */
static void fetch_window(struct nfm_pcache *pc)
{
	struct nfm_phys_iov *iov = NULL;
	uint32_t *idx = NULL, n = 0, nr_runs = 0, i, k;
	uint64_t *pages;

	pc->replay_pending = false;
	if (pc->replay_pos >= pc->nr_replay)
		return;
	pages = next_window(pc, &n);
	/* Room for the whole window first, so that its copies never recycle each other. */
	if (!pages || !n || !grow(pc, pc->nr + n < pc->max ? pc->nr + n : pc->max) ||
	    !(iov = malloc(n * sizeof(*iov))) || !(idx = malloc(n * sizeof(*idx))))
		goto out;
	pc->win++;
	for (i = 0; i < n; i++) {
		int64_t c = alloc_copy(pc);
		uint8_t *dst;

		if (c < 0)
			break;
		idx[i] = (uint32_t)c;
		dst = pc->data + (size_t)c * PAGE;
		if (nr_runs && pages[i] == pages[i - 1] + 1 &&
		    (uint8_t *)iov[nr_runs - 1].buf + iov[nr_runs - 1].len == dst) {
			iov[nr_runs - 1].len += PAGE;
			continue;
		}
		iov[nr_runs++] = (struct nfm_phys_iov){ .pa = pages[i] * PAGE, .buf = dst, .len = PAGE };
	}
	nfm_source_read_phys_vec(pc->src, iov, nr_runs);
	pc->nr_batches++;
	/* Copies of failed runs stay unused (NO_PAGE); those pages are read on demand. */
	for (uint32_t r = 0, j = 0; r < nr_runs; r++)
		for (k = 0; k < iov[r].len / PAGE; k++, j++)
			if (!iov[r].err)
				insert(pc, pages[j], idx[j], pc->win);
out:
	free(pages);
	free(iov);
	free(idx);
}

void nfm_pcache_flush(struct nfm_pcache *pc)
{
	uint64_t *t = pc->replay;
	uint32_t cap = pc->cap_replay;

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

/* The crawl read copy idx: trace its first use; reaching the newest window fetches the next. */
static void note_use(struct nfm_pcache *pc, uint32_t idx)
{
	if (pc->used[idx])
		return;
	pc->used[idx] = true;
	if (pc->nr_trace == pc->cap_trace && pc->cap_trace < NFM_PCACHE_TRACE_MAX) {
		uint32_t cap = pc->cap_trace ? pc->cap_trace * 2 : 1024;
		uint64_t *t = realloc(pc->trace, cap * sizeof(*t));

		if (t) {
			pc->trace = t;
			pc->cap_trace = cap;
		}
	}
	if (pc->nr_trace < pc->cap_trace)
		pc->trace[pc->nr_trace++] = pc->data_page[idx];
	if (pc->win && pc->data_win[idx] == pc->win)
		fetch_window(pc);
}

/* Read the aligned chunk holding pa and keep the pages not cached yet. */
static int fill_chunk(struct nfm_pcache *pc, uint64_t pa)
{
	uint64_t first = (pa & ~(uint64_t)(NFM_PCACHE_CHUNK - 1)) / PAGE;
	uint8_t scratch[NFM_PCACHE_CHUNK];
	int err;

	pc->nr_reads++;
	err = nfm_source_read_phys(pc->src, first * PAGE, scratch, sizeof(scratch));
	if (err)
		return err;
	/* Pages already cached keep their copy: one copy of a page per crawl. */
	for (uint32_t i = 0; i < CHUNK_PAGES; i++) {
		int64_t c;

		if (slot_of(pc, first + i)->gen == pc->gen)
			continue;
		if ((c = alloc_copy(pc)) < 0)
			return -ENOMEM;
		memcpy(pc->data + (size_t)c * PAGE, scratch + i * PAGE, PAGE);
		insert(pc, first + i, (uint32_t)c, 0);
	}
	return 0;
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
			/* A chunk that is not all RAM (a range edge) or no memory: read directly. */
			fill_chunk(pc, pa);
			s = slot_of(pc, pa / PAGE);
			if (s->gen != pc->gen) {
				pc->nr_reads++;
				return nfm_source_read_phys(pc->src, pa, out, len);
			}
		}
		idx = s->data;
		memcpy(out, pc->data + (size_t)idx * PAGE + off, n);
		note_use(pc, idx);
		out += n;
		pa += n;
		len -= n;
	}
	return 0;
}
