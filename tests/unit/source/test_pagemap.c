// SPDX-License-Identifier: GPL-2.0-or-later
/* Which pages can hold data: pagemap entries classified, and a memfd's holes (QEMU's
 * memory-backend-memfd) found with SEEK_DATA/SEEK_HOLE. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "source/pagemap.h"

#define PG 4096ull

static void test_entries(void **state)
{
	const struct nfm_zero_pfns z = { .small = 100, .huge = 4096, .huge_pages = 512 };
	const uint64_t P = NFM_PM_PRESENT;

	(void)state;
	/* present on the zero page or inside the huge zero page: zeros */
	assert_false(nfm_pagemap_may_hold_data(P | 100, true, &z));
	assert_false(nfm_pagemap_may_hold_data(P | 100, false, &z));
	assert_false(nfm_pagemap_may_hold_data(P | 4096, true, &z));
	assert_false(nfm_pagemap_may_hold_data(P | 4607, true, &z));
	/* next to them: data */
	assert_true(nfm_pagemap_may_hold_data(P | 101, true, &z));
	assert_true(nfm_pagemap_may_hold_data(P | 4095, true, &z));
	assert_true(nfm_pagemap_may_hold_data(P | 4608, true, &z));
	/* frame numbers hidden (no CAP_SYS_ADMIN), or no zero page known: data */
	assert_true(nfm_pagemap_may_hold_data(P, true, &z));
	assert_true(nfm_pagemap_may_hold_data(P | 100, true, NULL));
	/* swapped out: data, whatever the mapping */
	assert_true(nfm_pagemap_may_hold_data(NFM_PM_SWAP | 7, true, &z));
	/* absent: zeros in private anonymous memory only */
	assert_false(nfm_pagemap_may_hold_data(0, true, &z));
	assert_true(nfm_pagemap_may_hold_data(0, false, &z));
	/* soft-dirty alone says nothing about data */
	assert_false(nfm_pagemap_may_hold_data(NFM_PM_SOFT_DIRTY, true, &z));
}

static void put(int fd, uint64_t page, size_t len)
{
	char b[PG];

	memset(b, 0x5a, sizeof(b));
	assert_int_equal(pwrite(fd, b, len, (off_t)(page * PG)), (ssize_t)len);
}

static uint64_t bits_of(const uint8_t *bm, uint64_t n)
{
	uint64_t v = 0;

	for (uint64_t i = 0; i < n; i++)
		if (bm[i / 8] & (1u << (i & 7)))
			v |= 1ull << i;
	return v;
}

static void test_memfd_holes(void **state)
{
	int fd = memfd_create("nfm-test", MFD_CLOEXEC);
	uint8_t bm[8];

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)(48 * PG)), 0);
	put(fd, 3, PG);
	put(fd, 10, PG);
	put(fd, 11, PG);
	put(fd, 12, 100);	/* a part of a page is data for the whole page */
	put(fd, 40, PG);

	memset(bm, 0, sizeof(bm));
	assert_int_equal(nfm_file_data_pages(fd, 0, 48, bm), 0);
	assert_true(bits_of(bm, 48) == ((1ull << 3) | (7ull << 10) | (1ull << 40)));

	/* from an offset (a mapping's file offset plus a range's backing) */
	memset(bm, 0, sizeof(bm));
	assert_int_equal(nfm_file_data_pages(fd, 8 * PG, 8, bm), 0);
	assert_true(bits_of(bm, 8) == (7ull << 2));

	/* a window without data, and one past the end of the file */
	memset(bm, 0, sizeof(bm));
	assert_int_equal(nfm_file_data_pages(fd, 13 * PG, 20, bm), 0);
	assert_true(bits_of(bm, 20) == 0);
	assert_int_equal(nfm_file_data_pages(fd, 41 * PG, 32, bm), 0);
	assert_true(bits_of(bm, 32) == 0);

	/* bits are only ever set: the caller's earlier bits stay */
	memset(bm, 0, sizeof(bm));
	bm[0] = 1;
	assert_int_equal(nfm_file_data_pages(fd, 2 * PG, 4, bm), 0);
	assert_true(bits_of(bm, 4) == 3);
	close(fd);
}

static void test_zero_pfns(void **state)
{
	const struct nfm_zero_pfns *z = nfm_zero_pfns();

	(void)state;
	/* Whatever this host offers (none without the rights to see frames), it is consistent:
	 * the huge zero page is a whole aligned huge page, not the small one. */
	assert_non_null(z);
	assert_ptr_equal(z, nfm_zero_pfns());
	if (z->huge) {
		assert_true(z->huge_pages >= 2 && !(z->huge_pages & (z->huge_pages - 1)));
		assert_true(z->huge % z->huge_pages == 0);
		assert_true(z->small != z->huge);
	} else {
		assert_int_equal(z->huge_pages, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entries),
		cmocka_unit_test(test_memfd_holes),
		cmocka_unit_test(test_zero_pfns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
