// SPDX-License-Identifier: GPL-2.0-or-later
/* The crawl cache: read-ahead, replay of the last crawl's pages, one copy per crawl, edges, and
 * the budget: eviction, streamed replay windows, every byte right at any size; idle areas lent. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "arch/pcache.h"
#include "source/source.h"

/* RAM: [0, BIG) at backing 0 and [0x8000000000, +0x3000) at backing BIG (ends mid-chunk). */
#define BIG ((NFM_PCACHE_MAX_PAGES + 64ull) * 4096)
#define EDGE 0x8000000000ull
static uint8_t *backing;
static int nr_read, nr_vec, nr_vec_pieces;
static uint64_t poison = UINT64_MAX;

static int fake_read(struct nfm_source *src, uint64_t off, void *buf, size_t len)
{
	(void)src;
	nr_read++;
	if (off + len > BIG + 0x3000 || (poison >= off && poison < off + len))
		return -EIO;
	memcpy(buf, backing + off, len);
	return 0;
}

static int fake_read_vec(struct nfm_source *src, const struct nfm_backing_iov *iov, size_t n)
{
	int err = 0;

	(void)src;
	nr_vec++;
	nr_vec_pieces += (int)n;
	for (size_t i = 0; i < n; i++) {
		if (poison >= iov[i].off && poison < iov[i].off + iov[i].len) {
			err = -EIO;
			continue;
		}
		memcpy(iov[i].buf, backing + iov[i].off, iov[i].len);
	}
	return err;
}

static const struct nfm_source_ops fake_ops = {
	.kind = "fake",
	.read_backing = fake_read,
	.read_backing_vec = fake_read_vec,
};

static uint8_t pattern(uint64_t off, int round)
{
	return (uint8_t)(off * 7 + (off >> 12) + (uint64_t)round * 13);
}

static void fill(int round)
{
	for (uint64_t i = 0; i < BIG + 0x3000; i++)
		backing[i] = pattern(i, round);
}

static int setup(void **state)
{
	static const struct nfm_source_range r[] = {
		{ 0, BIG, 0 },
		{ EDGE, 0x3000, BIG },
	};
	struct nfm_source *src = calloc(1, sizeof(*src));
	struct nfm_pcache *pc;

	backing = malloc(BIG + 0x3000);
	assert_non_null(backing);
	fill(0);
	nr_read = nr_vec = nr_vec_pieces = 0;
	poison = UINT64_MAX;
	assert_int_equal(nfm_source_init(src, &fake_ops, r, 2, "fake"), 0);
	pc = nfm_pcache_new(src);
	assert_non_null(pc);
	*state = pc;
	return 0;
}

static int teardown(void **state)
{
	struct nfm_pcache *pc = *state;
	struct nfm_source *src = pc->src;

	nfm_pcache_free(pc);
	nfm_source_free(src);
	free(backing);
	return 0;
}

/* Read len bytes at pa and check them against the pattern of round. */
static void check(struct nfm_pcache *pc, uint64_t pa, size_t len, int round)
{
	uint8_t buf[NFM_PCACHE_READ_MAX];
	uint64_t off = pa >= EDGE ? pa - EDGE + BIG : pa;

	assert_int_equal(nfm_pcache_read(pc, pa, buf, len), 0);
	for (size_t i = 0; i < len; i++)
		assert_int_equal(buf[i], pattern(off + i, round));
}

static void test_miss_reads_its_page(void **state)
{
	struct nfm_pcache *pc = *state;

	check(pc, 0x1008, 8, 0);
	assert_int_equal(nr_read, 1);		/* page 1, nothing around it */
	check(pc, 0x1ff0, 16, 0);
	check(pc, 0x1000, 4096, 0);
	assert_int_equal(nr_read, 1);
	check(pc, 0x1ff8, 16, 0);		/* crosses into page 2 */
	assert_int_equal(nr_read, 2);
	check(pc, 0x0, 8, 0);			/* page 0 was not read ahead */
	assert_int_equal(nr_read, 3);
	check(pc, 0x2000, 4096, 0);
	assert_int_equal(nr_read, 3);
	assert_int_equal(nr_vec, 0);
}

static void test_replay_fetches_used_pages_in_one_batch(void **state)
{
	struct nfm_pcache *pc = *state;

	check(pc, 0x1000, 4096, 0);
	check(pc, 0x5000, 8192, 0);		/* pages 5 and 6: one run */
	check(pc, 0x9000, 8, 0);
	nfm_pcache_flush(pc);
	fill(1);				/* the guest moved on */
	nr_read = 0;
	check(pc, 0x5000, 8, 1);
	assert_int_equal(nr_vec, 1);
	assert_int_equal(nr_vec_pieces, 3);	/* page 1, pages 5-6, page 9's first line */
	check(pc, 0x1000, 4096, 1);
	check(pc, 0x6000, 4096, 1);
	check(pc, 0x9000, 64, 1);
	assert_int_equal(nr_read, 0);
	/* Page 2 came by read-ahead but nobody read it: not replayed. */
	check(pc, 0x2000, 8, 1);
	assert_int_equal(nr_read, 1);
}

/*
 * A page of which the last crawl read a few lines is replayed as those lines; a read beyond them
 * completes the copy with one read of the page and keeps the lines held. A wide span is a page.
 */
static void test_replay_partial_lines(void **state)
{
	struct nfm_pcache *pc = *state;
	uint8_t buf[4096];

	check(pc, 0x1000 + 3 * 64 + 8, 8, 0);	/* lines 3 .. 5 of page 1 */
	check(pc, 0x1000 + 5 * 64, 64, 0);
	check(pc, 0x5000, 8, 0);		/* lines 0 and 40 of page 5: wider than a partial */
	check(pc, 0x5000 + 40 * 64, 8, 0);
	nfm_pcache_flush(pc);
	fill(1);
	nr_read = nr_vec = nr_vec_pieces = 0;
	check(pc, 0x1000 + 4 * 64, 8, 1);
	assert_int_equal(nr_vec, 1);
	assert_int_equal(nr_vec_pieces, 2);	/* lines 3-5 of page 1, the whole of page 5 */
	check(pc, 0x1000 + 3 * 64, 3 * 64, 1);
	check(pc, 0x5000, 4096, 1);
	assert_int_equal(nr_read, 0);
	fill(2);				/* the guest moves on while the crawl runs */
	assert_int_equal(nfm_pcache_read(pc, 0x1000, buf, sizeof(buf)), 0);
	assert_int_equal(nr_read, 1);		/* the rest of page 1 */
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], pattern(0x1000 + i, i >= 3 * 64 && i < 6 * 64 ? 1 : 2));
	check(pc, 0x1000 + 6 * 64, 64, 2);	/* whole now: no more reads */
	assert_int_equal(nr_read, 1);
	/* This crawl read all of page 1: the next one fetches it whole. */
	nfm_pcache_flush(pc);
	nr_vec_pieces = 0;
	check(pc, 0x1000, 4096, 2);
	assert_int_equal(nr_read, 1);
}

static void test_one_copy_per_crawl(void **state)
{
	struct nfm_pcache *pc = *state;

	check(pc, 0x1000, 8, 0);
	nfm_pcache_flush(pc);
	check(pc, 0x1000, 8, 0);		/* replayed */
	fill(1);
	check(pc, 0x2000, 8, 1);		/* a miss in the same chunk reads it again ... */
	check(pc, 0x1000, 8, 0);		/* ... but keeps the copy this crawl already saw */
	nfm_pcache_flush(pc);
	check(pc, 0x1000, 8, 1);
}

static void test_failed_replay_reads_on_demand(void **state)
{
	struct nfm_pcache *pc = *state;

	check(pc, 0x7000, 8, 0);
	check(pc, 0xa000, 8, 0);
	nfm_pcache_flush(pc);
	fill(1);
	poison = 0x7010;
	check(pc, 0xa000, 8, 1);		/* replay: page 7 fails, page 10 arrives */
	poison = UINT64_MAX;
	nr_read = 0;
	check(pc, 0x7000, 4096, 1);		/* not the failed copy: read again */
	assert_int_equal(nr_read, 1);
}

static void test_range_edge_and_outside(void **state)
{
	struct nfm_pcache *pc = *state;
	uint8_t buf[16];

	/* The chunk [EDGE+0x0, EDGE+0x4000) is not all RAM: read exactly what was asked. */
	check(pc, EDGE + 0x2ff0, 16, 0);
	check(pc, EDGE + 0x10, 16, 0);
	assert_int_equal(nfm_pcache_read(pc, EDGE + 0x2ff8, buf, 16), -EFAULT);
	assert_int_equal(nfm_pcache_read(pc, BIG + 0x100000, buf, 8), -EFAULT);
}

static void test_reset_forgets_replay(void **state)
{
	struct nfm_pcache *pc = *state;

	check(pc, 0x1000, 8, 0);
	nfm_pcache_reset(pc);
	check(pc, 0x5000, 8, 0);
	assert_int_equal(nr_vec, 0);
}

static void test_cap(void **state)
{
	struct nfm_pcache *pc = *state;

	/* More pages than the budget, in two crawls: every byte right, memory bounded (a quarter
	 * of the budget for the first crawl, which has no trace to replay). */
	for (int round = 0; round < 2; round++) {
		for (uint64_t p = 0; p < BIG / 4096; p++)
			check(pc, p * 4096 + (p % 4000), 8, round);
		assert_true(pc->nr <= (round ? NFM_PCACHE_MAX_PAGES : NFM_PCACHE_MAX_PAGES / 4));
		assert_true(pc->cap <= (round ? NFM_PCACHE_MAX_PAGES : NFM_PCACHE_MAX_PAGES / 4));
		if (round)
			assert_true(pc->cap > NFM_PCACHE_MAX_PAGES / 4);
		nfm_pcache_flush(pc);
		assert_true(pc->nr_replay <= NFM_PCACHE_TRACE_MAX);
		fill(round + 1);
	}
	check(pc, 0x1000, 8, 2);
}

/* A crawl 8 times the budget: the next crawl streams its trace in windows, few reads. */
static void test_stream_beyond_budget(void **state)
{
	struct nfm_pcache *big = *state, *pc = nfm_pcache_new_max(big->src, 256);
	const uint64_t pages = 2048;

	assert_non_null(pc);
	for (int round = 0; round < 3; round++) {
		uint64_t reads = pc->nr_reads;

		/* every third page, in a scattered but repeatable order */
		for (uint64_t i = 0; i < pages; i++) {
			uint64_t p = (i * 769) % (3 * pages);

			check(pc, p * 4096 + (p % 4000), 8, round);
			assert_true(pc->nr <= 256 && pc->cap <= 256);
		}
		if (round) {
			/* windows of 64 pages: 2048 / 64 batches, misses only where a window failed */
			assert_int_equal(pc->nr_batches, (uint64_t)round * pages / 64);
			assert_int_equal(pc->nr_reads - reads, 0);
		} else {
			assert_int_equal(pc->nr_batches, 0);
		}
		nfm_pcache_flush(pc);
		fill(round + 1);
	}
	nfm_pcache_free(pc);
}

/* Eviction keeps the hash consistent: random reads over 4 times a tiny budget, checked. */
static void test_evict_random(void **state)
{
	struct nfm_pcache *big = *state, *pc = nfm_pcache_new_max(big->src, 16);
	uint64_t x = 88172645463325252ull;

	assert_non_null(pc);
	assert_int_equal(pc->max, 16);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 5000; i++) {
			uint64_t p;

			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			p = x % 64;
			check(pc, p * 4096 + (x >> 40) % 4000, 16, round);
			assert_true(pc->nr <= 16);
		}
		/* every cached page is found through its slot, and each slot names its copy */
		for (uint32_t i = 0; i < pc->nr; i++) {
			uint64_t page = pc->data_page[i];
			uint32_t k, found = 0;

			if (page == UINT64_MAX)
				continue;
			for (k = 0; k < 2 * pc->max; k++)
				if (pc->slots[k].gen == pc->gen && pc->slots[k].page == page) {
					assert_int_equal(pc->slots[k].data, i);
					found++;
				}
			assert_int_equal(found, 1);
		}
		nfm_pcache_flush(pc);
		fill(round + 1);
	}
	nfm_pcache_free(pc);
}

/* A cache that says its crawl is over lends its copies' memory to the next cache that reads:
 * the borrower sees its own guest, never the lender's copies; the lender keeps its replay. */
static void test_idle_lends_the_area(void **state)
{
	struct nfm_pcache *a = *state, *b = nfm_pcache_new(a->src);
	uint8_t *area;

	assert_non_null(b);
	check(a, 0x1000, 8, 0);
	check(a, 0x9000, 8, 0);
	area = a->data;
	nfm_pcache_idle(a);
	assert_null(a->data);
	fill(1);
	nr_read = 0;
	check(b, 0x1000, 8, 1);			/* the same page, read anew into the lent area */
	assert_ptr_equal(b->data, area);
	assert_int_equal(nr_read, 1);
	nfm_pcache_flush(a);			/* a's next crawl */
	nr_vec = nr_vec_pieces = 0;
	check(a, 0x9000, 8, 1);
	assert_ptr_not_equal(a->data, area);
	assert_int_equal(nr_vec, 1);		/* its trace came through the idle time */
	assert_int_equal(nr_vec_pieces, 2);
	check(a, 0x1000, 8, 1);
	nfm_pcache_idle(b);
	nfm_pcache_idle(a);
	check(a, 0x2000, 16, 1);		/* reading again after idle is allowed */
	nfm_pcache_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_miss_reads_its_page, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_fetches_used_pages_in_one_batch, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_replay_partial_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_copy_per_crawl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_replay_reads_on_demand, setup, teardown),
		cmocka_unit_test_setup_teardown(test_range_edge_and_outside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_forgets_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stream_beyond_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evict_random, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_lends_the_area, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
