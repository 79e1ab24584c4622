// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/pcache.h"
#include "source/source.h"

#define PAGE 4096u
#define CHUNK_PAGES (NFM_PCACHE_CHUNK / PAGE)
#define NR_SLOTS (2 * NFM_PCACHE_MAX_PAGES)

struct nfm_pcache *nfm_pcache_new(struct nfm_source *src)
{
	struct nfm_pcache *pc = calloc(1, sizeof(*pc));

	if (!pc)
		return NULL;
	pc->src = src;
	pc->gen = 1;
	pc->slots = calloc(NR_SLOTS, sizeof(*pc->slots));
	pc->replay = malloc(NFM_PCACHE_MAX_PAGES * sizeof(*pc->replay));
	if (!pc->slots || !pc->replay) {
		nfm_pcache_free(pc);
		return NULL;
	}
	return pc;
}

void nfm_pcache_free(struct nfm_pcache *pc)
{
	if (!pc)
		return;
	free(pc->slots);
	free(pc->data);
	free(pc->data_page);
	free(pc->used);
	free(pc->replay);
	free(pc);
}

static struct nfm_pcache_slot *slot_of(struct nfm_pcache *pc, uint64_t page)
{
	uint32_t i = (uint32_t)((page * 0x9e3779b97f4a7c15ull) >> 40) & (NR_SLOTS - 1);

	/* Slots of older crawls are free; the table is never more than half full. */
	while (pc->slots[i].gen == pc->gen && pc->slots[i].page != page)
		i = (i + 1) & (NR_SLOTS - 1);
	return &pc->slots[i];
}

/* Room for n more pages of copies; false at the cap or out of memory. */
static bool reserve(struct nfm_pcache *pc, uint32_t n)
{
	uint32_t cap = pc->cap ? pc->cap : 256;
	void *d, *dp, *u;

	if (pc->nr + n <= pc->cap)
		return true;
	if (pc->nr + n > NFM_PCACHE_MAX_PAGES)
		return false;
	while (cap < pc->nr + n)
		cap *= 2;
	if (cap > NFM_PCACHE_MAX_PAGES)
		cap = NFM_PCACHE_MAX_PAGES;
	d = realloc(pc->data, (size_t)cap * PAGE);
	if (d)
		pc->data = d;
	dp = realloc(pc->data_page, cap * sizeof(*pc->data_page));
	if (dp)
		pc->data_page = dp;
	u = realloc(pc->used, cap * sizeof(*pc->used));
	if (u)
		pc->used = u;
	if (!d || !dp || !u)
		return false;
	pc->cap = cap;
	return true;
}

/* Make data index idx (already filled) the copy of page. */
static void insert(struct nfm_pcache *pc, uint64_t page, uint32_t idx)
{
	struct nfm_pcache_slot *s = slot_of(pc, page);

	s->page = page;
	s->gen = pc->gen;
	s->data = idx;
	pc->data_page[idx] = page;
	pc->used[idx] = false;
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

void nfm_pcache_flush(struct nfm_pcache *pc)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < pc->nr; i++)
		if (pc->used[i])
			pc->replay[n++] = pc->data_page[i];
	/* data_page doubles as scratch: its contents die with this crawl. */
	if (n > 1)
		sort_pages(pc->replay, pc->data_page, n);
	pc->nr_replay = n;
	pc->replay_pending = n > 0;
	pc->nr = 0;
	pc->gen++;
}

void nfm_pcache_reset(struct nfm_pcache *pc)
{
	pc->nr = 0;
	pc->nr_replay = 0;
	pc->replay_pending = false;
	pc->gen++;
}

/* Fetch the pages the last crawl used: runs of adjacent pages, one batched read. */
static void replay(struct nfm_pcache *pc)
{
	struct nfm_phys_iov *iov;
	uint32_t nr_runs = 0, i, base;

	pc->replay_pending = false;
	if (!reserve(pc, pc->nr_replay))
		return;
	iov = malloc(pc->nr_replay * sizeof(*iov));
	if (!iov)
		return;
	base = pc->nr;
	for (i = 0; i < pc->nr_replay; i++) {
		uint8_t *dst = pc->data + (size_t)(base + i) * PAGE;

		if (nr_runs && pc->replay[i] == pc->replay[i - 1] + 1) {
			iov[nr_runs - 1].len += PAGE;
			continue;
		}
		iov[nr_runs++] = (struct nfm_phys_iov){ .pa = pc->replay[i] * PAGE, .buf = dst,
							.len = PAGE };
	}
	nfm_source_read_phys_vec(pc->src, iov, nr_runs);
	/* Pages of failed runs keep their (unused) room in data; they are read on demand. */
	for (uint32_t r = 0, k = base; r < nr_runs; r++) {
		uint32_t pages = (uint32_t)(iov[r].len / PAGE);

		for (uint32_t p = 0; p < pages; p++, k++) {
			pc->data_page[k] = iov[r].pa / PAGE + p;
			pc->used[k] = false;
			if (!iov[r].err)
				insert(pc, iov[r].pa / PAGE + p, k);
		}
	}
	pc->nr = base + pc->nr_replay;
	free(iov);
}

/* Read the aligned chunk holding pa and keep the pages not cached yet. */
static int fill_chunk(struct nfm_pcache *pc, uint64_t pa)
{
	uint64_t first = (pa & ~(uint64_t)(NFM_PCACHE_CHUNK - 1)) / PAGE;
	uint8_t scratch[NFM_PCACHE_CHUNK];
	bool cached[CHUNK_PAGES], any = false;
	uint32_t i, idx;
	int err;

	for (i = 0; i < CHUNK_PAGES; i++) {
		cached[i] = slot_of(pc, first + i)->gen == pc->gen;
		any |= cached[i];
	}
	if (!reserve(pc, CHUNK_PAGES))
		return -ENOMEM;
	idx = pc->nr;
	if (!any) {
		/* The usual case: straight into the cache. */
		err = nfm_source_read_phys(pc->src, first * PAGE, pc->data + (size_t)idx * PAGE,
					   NFM_PCACHE_CHUNK);
		if (err)
			return err;
		for (i = 0; i < CHUNK_PAGES; i++)
			insert(pc, first + i, idx + i);
		pc->nr += CHUNK_PAGES;
		return 0;
	}
	/* Some pages came by replay: keep those copies (one copy of a page per crawl). */
	err = nfm_source_read_phys(pc->src, first * PAGE, scratch, sizeof(scratch));
	if (err)
		return err;
	for (i = 0; i < CHUNK_PAGES; i++) {
		if (cached[i])
			continue;
		memcpy(pc->data + (size_t)pc->nr * PAGE, scratch + i * PAGE, PAGE);
		insert(pc, first + i, pc->nr++);
	}
	return 0;
}

int nfm_pcache_read(struct nfm_pcache *pc, uint64_t pa, void *buf, size_t len)
{
	uint8_t *out = buf;

	if (pc->replay_pending)
		replay(pc);
	while (len) {
		size_t off = (size_t)(pa % PAGE), n = PAGE - off;
		struct nfm_pcache_slot *s = slot_of(pc, pa / PAGE);

		if (n > len)
			n = len;
		if (s->gen != pc->gen) {
			/* A chunk that is not all RAM (a range edge) or a full cache: read directly. */
			if (fill_chunk(pc, pa) < 0)
				return nfm_source_read_phys(pc->src, pa, out, len);
			s = slot_of(pc, pa / PAGE);
		}
		pc->used[s->data] = true;
		memcpy(out, pc->data + (size_t)s->data * PAGE + off, n);
		out += n;
		pa += n;
		len -= n;
	}
	return 0;
}
