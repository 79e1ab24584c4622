// SPDX-License-Identifier: GPL-2.0-or-later
/* Generic source layer: range lookup, split reads, -EFAULT at edges, batched reads, extras. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "source/source.h"

/* A fake backend over a buffer, counting calls, with one poisoned backing offset. */
static uint8_t backing[0x10000];
static int nr_read, nr_vec, nr_vec_pieces;
static uint64_t poison = UINT64_MAX;

static int fake_read(struct nfm_source *src, uint64_t off, void *buf, size_t len)
{
	nr_read++;
	if (off + len > sizeof(backing) || (poison >= off && poison < off + len))
		return -EIO;
	memcpy(buf, backing + off, len);
	return 0;
}

static int fake_read_vec(struct nfm_source *src, const struct nfm_backing_iov *iov, size_t n)
{
	size_t i;
	int err = 0;

	nr_vec++;
	nr_vec_pieces += n;
	for (i = 0; i < n; i++) {
		if (iov[i].off + iov[i].len > sizeof(backing) ||
		    (poison >= iov[i].off && poison < iov[i].off + iov[i].len)) {
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

/* RAM: [0x0, 0x1000) at 0x0, [0x2000, 0x4000) at 0x1000, [0x100000000, +0x1000) at 0x8000. */
static struct nfm_source *fake_new(void)
{
	static const struct nfm_source_range r[] = {
		{ 0x2000, 0x2000, 0x1000 },	/* given out of order on purpose */
		{ 0x0, 0x1000, 0x0 },
		{ 0x100000000ULL, 0x1000, 0x8000 },
	};
	struct nfm_source *src = calloc(1, sizeof(*src));
	size_t i;

	for (i = 0; i < sizeof(backing); i++)
		backing[i] = (uint8_t)(i * 7 + (i >> 8));
	nr_read = nr_vec = nr_vec_pieces = 0;
	poison = UINT64_MAX;
	assert_int_equal(nfm_source_init(src, &fake_ops, r, 3, "fake source"), 0);
	return src;
}

static void test_ranges(void **state)
{
	struct nfm_source *src = fake_new();
	const struct nfm_phys_range *r;

	assert_int_equal(nfm_source_ranges(src, &r), 3);
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[1].start, 0x2000);
	assert_int_equal(r[1].size, 0x2000);
	assert_int_equal(r[2].start, 0x100000000ULL);
	assert_int_equal(nfm_source_ram_size(src), 0x4000);
	assert_null(nfm_source_find_range(src, 0x1000));
	assert_null(nfm_source_find_range(src, 0x4000));
	assert_ptr_equal(nfm_source_find_range(src, 0x3fff), &src->ranges[1]);
	assert_ptr_equal(nfm_source_find_range(src, 0x100000fffULL), &src->ranges[2]);
	assert_null(nfm_source_find_range(src, 0x100001000ULL));
	assert_string_equal(nfm_source_describe(src), "fake source");
	assert_string_equal(nfm_source_kind(src), "fake");
	assert_false(nfm_source_is_live(src));
	assert_int_equal(nfm_source_pid(src), 0);
	assert_null(nfm_source_vm_name(src));
	nfm_source_free(src);
	nfm_source_free(NULL);
}

static void test_init_rejects_overlap(void **state)
{
	static const struct nfm_source_range r[] = { { 0, 0x2000, 0 }, { 0x1000, 0x1000, 0 } };
	static const struct nfm_source_range empty[] = { { 0, 0, 0 } };
	struct nfm_source src = { 0 };

	assert_int_equal(nfm_source_init(&src, &fake_ops, r, 2, NULL), -EINVAL);
	assert_int_equal(nfm_source_init(&src, &fake_ops, empty, 1, NULL), -EINVAL);
}

static void test_read_split_and_edges(void **state)
{
	struct nfm_source *src = fake_new();
	uint8_t buf[0x2000];

	/* Inside one range. */
	assert_int_equal(nfm_source_read_phys(src, 0x2ff0, buf, 0x20), 0);
	assert_memory_equal(buf, backing + 0x1ff0, 0x20);
	/* The last byte of a range, and one past it. */
	assert_int_equal(nfm_source_read_phys(src, 0xfff, buf, 1), 0);
	assert_int_equal(buf[0], backing[0xfff]);
	assert_int_equal(nfm_source_read_phys(src, 0xfff, buf, 2), -EFAULT);
	assert_int_equal(nfm_source_read_phys(src, 0x1000, buf, 1), -EFAULT);
	assert_int_equal(nfm_source_read_phys(src, 0x1fff, buf, 2), -EFAULT);
	assert_int_equal(nfm_source_read_phys(src, 0x3fff, buf, 2), -EFAULT);
	/* A fault costs no read. */
	nr_read = 0;
	assert_int_equal(nfm_source_read_phys(src, 0x2000, buf, 0x2001), -EFAULT);
	assert_int_equal(nr_read, 0);
	assert_int_equal(nfm_source_read_phys(src, UINT64_MAX, buf, 2), -EFAULT);
	assert_int_equal(nfm_source_read_phys(src, 0x100000ff8ULL, buf, 8), 0);
	assert_memory_equal(buf, backing + 0x8ff8, 8);
	/* An I/O error is -EIO, not -EFAULT. */
	poison = 0x1800;
	assert_int_equal(nfm_source_read_phys(src, 0x2700, buf, 0x200), -EIO);
	nfm_source_free(src);
}

static void test_read_across_adjacent_ranges(void **state)
{
	/* Two touching ranges with unrelated backing: one read is split in two. */
	static const struct nfm_source_range r[] = { { 0x0, 0x100, 0x4000 }, { 0x100, 0x100, 0x200 } };
	struct nfm_source *src = calloc(1, sizeof(*src));
	uint8_t buf[0x80];

	nfm_source_free(fake_new());
	assert_int_equal(nfm_source_init(src, &fake_ops, r, 2, NULL), 0);
	nr_read = 0;
	assert_int_equal(nfm_source_read_phys(src, 0xc0, buf, 0x80), 0);
	assert_int_equal(nr_read, 2);
	assert_memory_equal(buf, backing + 0x40c0, 0x40);
	assert_memory_equal(buf + 0x40, backing + 0x200, 0x40);
	nfm_source_free(src);
}

static void test_read_vec(void **state)
{
	struct nfm_source *src = fake_new();
	struct nfm_phys_iov iov[1100];
	uint8_t bufs[1100][16], big[0x1010];
	size_t i;

	for (i = 0; i < 1100; i++) {
		iov[i].pa = 0x2000 + (i % 512) * 16;
		iov[i].buf = bufs[i];
		iov[i].len = 16;
	}
	assert_int_equal(nfm_source_read_phys_vec(src, iov, 1100), 0);
	/* Batches of IOV_MAX (1024): 1100 pieces in 2 calls, no single reads. */
	assert_int_equal(nr_vec, 2);
	assert_int_equal(nr_vec_pieces, 1100);
	assert_int_equal(nr_read, 0);
	for (i = 0; i < 1100; i++) {
		assert_int_equal(iov[i].err, 0);
		assert_memory_equal(bufs[i], backing + 0x1000 + (i % 512) * 16, 16);
	}
	/* Mixed: one outside RAM, one failing, one fine. */
	iov[0].pa = 0x1000;
	poison = 0x1000 + 0x10 * 1 + 3;
	iov[2].pa = 0x100000000ULL;
	assert_int_equal(nfm_source_read_phys_vec(src, iov, 3), -EFAULT);
	assert_int_equal(iov[0].err, -EFAULT);
	assert_int_equal(iov[1].err, -EIO);
	assert_int_equal(iov[2].err, 0);
	assert_memory_equal(bufs[2], backing + 0x8000, 16);
	/* A piece spanning a hole faults; one ending exactly at a range end does not. */
	poison = UINT64_MAX;
	iov[0].pa = 0xff8;
	iov[0].len = 16;
	iov[1].pa = 0x3ff0;
	iov[1].len = 16;
	iov[2].pa = 0x0;
	iov[2].buf = big;
	iov[2].len = 0x1000;
	assert_int_equal(nfm_source_read_phys_vec(src, iov, 3), -EFAULT);
	assert_int_equal(iov[0].err, -EFAULT);
	assert_int_equal(iov[1].err, 0);
	assert_int_equal(iov[2].err, 0);
	assert_memory_equal(big, backing, 0x1000);
	nfm_source_free(src);
}

static void test_buf_source(void **state)
{
	static uint8_t mem[0x3000];
	struct nfm_source *src;
	uint8_t b[4];

	memset(mem, 0xab, sizeof(mem));
	mem[0x2fff] = 0x11;
	assert_int_equal(nfm_source_new_buf(mem, sizeof(mem), 0x100000, &src), 0);
	assert_string_equal(nfm_source_kind(src), "buf");
	assert_int_equal(nfm_source_read_phys(src, 0x102ffe, b, 2), 0);
	assert_int_equal(b[0], 0xab);
	assert_int_equal(b[1], 0x11);
	assert_int_equal(nfm_source_read_phys(src, 0x102fff, b, 2), -EFAULT);
	assert_int_equal(nfm_source_read_phys(src, 0xfffff, b, 1), -EFAULT);
	assert_int_equal(nfm_source_ram_size(src), sizeof(mem));
	/* Extras the buffer lacks. */
	{
		char *s;
		size_t l;
		struct nfm_cpu_state c;
		uint8_t bm[1];

		assert_int_equal(nfm_source_vmcoreinfo(src, &s, &l), -EOPNOTSUPP);
		assert_int_equal(nfm_source_cpu_state(src, 0, &c), -EOPNOTSUPP);
		assert_int_equal(nfm_source_resident(src, 0x100000, 1, bm), -EOPNOTSUPP);
	}
	nfm_source_free(src);
	assert_int_equal(nfm_source_new_buf(NULL, 1, 0, &src), -EINVAL);
	assert_int_equal(nfm_source_new_buf(mem, 16, UINT64_MAX - 7, &src), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_init_rejects_overlap),
		cmocka_unit_test(test_read_split_and_edges),
		cmocka_unit_test(test_read_across_adjacent_ranges),
		cmocka_unit_test(test_read_vec),
		cmocka_unit_test(test_buf_source),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
