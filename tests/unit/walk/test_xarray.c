// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The xarray lookup (page cache) and walk (PID table) on synthetic nodes: good trees,
 * multi-index entries, corruption.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "walk/xarray.h"

#define BASE 0xffff888000100000ull
#define NODE_SIZE 576	/* shift byte at 0, 64 slots from 64 */
static uint8_t mem[8 * NODE_SIZE];
static const struct nfm_xa_layout L = { .shift = 0, .slots = 64 };

static int rd(void *arg, uint64_t va, void *buf, size_t len)
{
	(void)arg;
	if (va < BASE || va - BASE + len > sizeof(mem))
		return -EFAULT;
	memcpy(buf, mem + (va - BASE), len);
	return 0;
}

static uint64_t node(int i, uint8_t shift)
{
	mem[i * NODE_SIZE] = shift;
	return BASE + (uint64_t)i * NODE_SIZE;
}

static void slot(uint64_t n, unsigned int i, uint64_t v)
{
	memcpy(mem + (n - BASE) + 64 + 8 * i, &v, 8);
}

#define PAGE(x) (0xffffea0000000000ull + 64ull * (x))
#define NODE_ENTRY(n) ((n) | 2)

static void setup(void)
{
	memset(mem, 0, sizeof(mem));
}

static void test_single_and_flat(void **state)
{
	uint64_t e = 0, n;

	(void)state;
	setup();
	assert_int_equal(nfm_xa_load(rd, NULL, &L, PAGE(1), 0, &e), 1);
	assert_true(e == PAGE(1));
	assert_int_equal(nfm_xa_load(rd, NULL, &L, PAGE(1), 1, &e), 0);
	assert_int_equal(nfm_xa_load(rd, NULL, &L, 0, 0, &e), 0);
	n = node(0, 0);
	slot(n, 3, PAGE(3));
	slot(n, 5, 0x1235);	/* a value entry (swap/shadow) */
	slot(n, 6, 0x402);	/* XA_RETRY_ENTRY */
	assert_int_equal(nfm_xa_load(rd, NULL, &L, NODE_ENTRY(n), 3, &e), 1);
	assert_true(e == PAGE(3));
	assert_int_equal(nfm_xa_load(rd, NULL, &L, NODE_ENTRY(n), 5, &e), 1);
	assert_true(e & 1);
	assert_int_equal(nfm_xa_load(rd, NULL, &L, NODE_ENTRY(n), 6, &e), 0);
	assert_int_equal(nfm_xa_load(rd, NULL, &L, NODE_ENTRY(n), 4, &e), 0);
	assert_int_equal(nfm_xa_load(rd, NULL, &L, NODE_ENTRY(n), 64, &e), 0);
}

static void test_two_levels_and_siblings(void **state)
{
	uint64_t e = 0, top, leaf;

	(void)state;
	setup();
	top = node(0, 6);
	leaf = node(1, 0);
	slot(top, 2, NODE_ENTRY(leaf));
	slot(leaf, 8, PAGE(136));
	/* a 4-page folio at 8..11: siblings name slot 8 */
	slot(leaf, 9, 8 << 2 | 2);
	slot(leaf, 10, 8 << 2 | 2);
	assert_int_equal(nfm_xa_load(rd, NULL, &L, NODE_ENTRY(top), 2 * 64 + 8, &e), 1);
	assert_true(e == PAGE(136));
	assert_int_equal(nfm_xa_load(rd, NULL, &L, NODE_ENTRY(top), 2 * 64 + 10, &e), 1);
	assert_true(e == PAGE(136));
	assert_int_equal(nfm_xa_load(rd, NULL, &L, NODE_ENTRY(top), 3 * 64, &e), 0);
	assert_int_equal(nfm_xa_load(rd, NULL, &L, NODE_ENTRY(top), 64 * 64, &e), 0);
}

static void test_corrupt(void **state)
{
	uint64_t e = 0, top, leaf;

	(void)state;
	setup();
	/* a child whose shift does not step down by 6 */
	top = node(0, 12);
	leaf = node(1, 0);
	slot(top, 0, NODE_ENTRY(leaf));
	assert_int_equal(nfm_xa_load(rd, NULL, &L, NODE_ENTRY(top), 1, &e), -EBADMSG);
	/* a node pointing at itself */
	setup();
	top = node(0, 6);
	slot(top, 0, NODE_ENTRY(top));
	assert_int_equal(nfm_xa_load(rd, NULL, &L, NODE_ENTRY(top), 1, &e), -EBADMSG);
	setup();
	top = node(0, 0);
	slot(top, 0, NODE_ENTRY(top));
	assert_int_equal(nfm_xa_load(rd, NULL, &L, NODE_ENTRY(top), 0, &e), -EBADMSG);
	/* shifts that are not multiples of 6, or past 64 bits */
	setup();
	top = node(0, 7);
	assert_int_equal(nfm_xa_load(rd, NULL, &L, NODE_ENTRY(top), 0, &e), -EBADMSG);
	top = node(0, 66);
	assert_int_equal(nfm_xa_load(rd, NULL, &L, NODE_ENTRY(top), 0, &e), -EBADMSG);
	/* a sibling naming a slot after itself */
	setup();
	leaf = node(0, 0);
	slot(leaf, 4, 9 << 2 | 2);
	assert_int_equal(nfm_xa_load(rd, NULL, &L, NODE_ENTRY(leaf), 4, &e), -EBADMSG);
	/* a node outside memory */
	assert_int_equal(nfm_xa_load(rd, NULL, &L, NODE_ENTRY(BASE + sizeof(mem) + 4096), 0, &e),
			 -EFAULT);
	/* a long chain of levels ends at the depth bound, not in a hang */
	setup();
	for (int i = 0; i < 8; i++)
		slot(node(i, 60 - 6 * i), 0, NODE_ENTRY(BASE + (uint64_t)((i + 1) % 8) * NODE_SIZE));
	assert_int_equal(nfm_xa_load(rd, NULL, &L, NODE_ENTRY(BASE), 0, &e), -EBADMSG);
}

/* What the walk saw. */
struct seen {
	uint64_t idx[16], e[16];
	int n, stop_at;
};

static int collect(void *arg, uint64_t index, uint64_t entry)
{
	struct seen *s = arg;

	if (s->n < 16) {
		s->idx[s->n] = index;
		s->e[s->n] = entry;
	}
	s->n++;
	return s->stop_at && s->n == s->stop_at;
}

static void test_for_each(void **state)
{
	struct seen s = { 0 };
	uint64_t top, leaf, leaf2;

	(void)state;
	setup();
	/* empty, and a lone entry in the head (index 0) */
	assert_int_equal(nfm_xa_for_each(rd, NULL, &L, 0, 100, collect, &s), 0);
	assert_int_equal(nfm_xa_for_each(rd, NULL, &L, PAGE(7), 100, collect, &s), 1);
	assert_true(s.n == 1 && s.idx[0] == 0 && s.e[0] == PAGE(7));
	/* two levels, in index order; retry and sibling entries skipped, value entries given */
	top = node(0, 6);
	leaf = node(1, 0);
	leaf2 = node(2, 0);
	slot(top, 0, NODE_ENTRY(leaf));
	slot(top, 3, NODE_ENTRY(leaf2));
	slot(leaf, 1, PAGE(1));
	slot(leaf, 2, 8 << 2 | 2);	/* sibling */
	slot(leaf, 5, 0x402);		/* retry */
	slot(leaf, 63, 0x1235);		/* value */
	slot(leaf2, 0, PAGE(192));
	memset(&s, 0, sizeof(s));
	assert_int_equal(nfm_xa_for_each(rd, NULL, &L, NODE_ENTRY(top), 100, collect, &s), 3);
	assert_int_equal(s.n, 3);
	assert_true(s.idx[0] == 1 && s.e[0] == PAGE(1));
	assert_true(s.idx[1] == 63 && s.e[1] == 0x1235);
	assert_true(s.idx[2] == 3 * 64 && s.e[2] == PAGE(192));
	/* the callback stops it; max bounds it */
	memset(&s, 0, sizeof(s));
	s.stop_at = 1;
	nfm_xa_for_each(rd, NULL, &L, NODE_ENTRY(top), 100, collect, &s);
	assert_int_equal(s.n, 1);
	memset(&s, 0, sizeof(s));
	assert_int_equal(nfm_xa_for_each(rd, NULL, &L, NODE_ENTRY(top), 2, collect, &s), 2);
	assert_true(s.n <= 3);
	/* a child whose shift does not step down, a node pointing at itself, a node out of memory */
	setup();
	top = node(0, 12);
	slot(top, 0, NODE_ENTRY(node(1, 0)));
	assert_int_equal(nfm_xa_for_each(rd, NULL, &L, NODE_ENTRY(top), 100, collect, &s),
			 -EBADMSG);
	setup();
	top = node(0, 6);
	slot(top, 0, NODE_ENTRY(top));
	assert_int_equal(nfm_xa_for_each(rd, NULL, &L, NODE_ENTRY(top), 100, collect, &s),
			 -EBADMSG);
	assert_int_equal(nfm_xa_for_each(rd, NULL, &L, NODE_ENTRY(BASE + sizeof(mem) + 4096), 100,
					 collect, &s), -EFAULT);
	/* more nodes than max entries allowed: bounded, not a hang */
	setup();
	top = node(0, 6);
	for (int i = 0; i < 64; i++)
		slot(top, (unsigned int)i, NODE_ENTRY(node(1, 0)));
	memset(&s, 0, sizeof(s));
	assert_int_equal(nfm_xa_for_each(rd, NULL, &L, NODE_ENTRY(top), 4, collect, &s), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_and_flat),
		cmocka_unit_test(test_two_levels_and_siblings),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_for_each),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
