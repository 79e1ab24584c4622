// SPDX-License-Identifier: GPL-2.0-or-later
/* x86-64 translation over synthetic page tables in a buffer source. */
#include "mmu_fixture.h"

#define P 0x1ull
#define PS 0x80ull
#define NX (1ull << 63)

/* Tables: PML5 0x5000, PML4 0x1000, PDPT 0x2000, PD 0x3000, PT 0x4000. */
static const uint64_t VA4K = 0xffffc90000001000ull;	/* -> 0x100000 via a 4 KiB page */
static const uint64_t VA2M = 0xffffc90000200000ull;	/* -> 0x200000 via a 2 MiB page */
static const uint64_t VA1G = 0xffffc90040000000ull;	/* -> 0 via a 1 GiB page */

static int setup(void **state)
{
	(void)state;
	fixture_open();
	nfm_mmu_init(mmu, src, 4, 0x1000);
	set_entry(0x5000, idx(VA4K, 5), 0x1000 | P);
	set_entry(0x1000, idx(VA4K, 4), 0x2000 | P | NX);
	set_entry(0x2000, idx(VA4K, 3), 0x3000 | P);
	set_entry(0x2000, idx(VA1G, 3), 0x0 | P | PS);
	set_entry(0x3000, idx(VA4K, 2), 0x4000 | P);
	set_entry(0x3000, idx(VA2M, 2), 0x200000 | P | PS | (1ull << 12) /* PAT */);
	set_entry(0x4000, idx(VA4K, 1), 0x100000 | P | NX | (0xfull << 59) /* pkeys */);
	memcpy(mem + 0x100000, "four-k", 6);
	memcpy(mem + 0x200000 + 0x1234, "two-m", 5);
	return 0;
}

static void test_4k_2m_1g(void **state)
{
	(void)state;
	expect_walk(0x1000, VA4K + 0x10, 0x100010);
	expect_walk(0x1000, VA2M + 0x1234, 0x201234);
	expect_walk(0x1000, VA1G + 0x12345, 0x12345);
}

static void test_five_level(void **state)
{
	struct nfm_mmu *m5 = calloc(1, sizeof(*m5));
	uint64_t pa;

	(void)state;
	nfm_mmu_init(m5, src, 5, 0x5000);
	/* In 5-level mode this VA's bits 56..48 select PML5 entry idx(VA4K, 5) = 0x1ff. */
	assert_int_equal(nfm_mmu_walk(m5, 0x5000, VA4K + 8, &pa), 0);
	assert_int_equal(pa, 0x100008);
	/* Not canonical for 5 levels: bits 63..57 must equal bit 56. */
	assert_int_equal(nfm_mmu_walk(m5, 0x5000, 0x0100000000000000ull, &pa), -EFAULT);
	free(m5);
}

static void test_not_present_and_swapped(void **state)
{
	uint64_t pa;

	(void)state;
	assert_int_equal(nfm_mmu_walk(mmu, 0x1000, VA4K + 0x1000, &pa), -EFAULT);
	assert_int_equal(mmu->fault.level, 1);
	assert_false(mmu->fault.swapped);
	set_entry(0x4000, idx(VA4K + 0x2000, 1), 0x3ull << 9 /* a swap entry: not present */);
	assert_int_equal(nfm_mmu_walk(mmu, 0x1000, VA4K + 0x2000, &pa), -EFAULT);
	assert_true(mmu->fault.swapped);
	assert_int_equal(mmu->fault.va, VA4K + 0x2000);
	/* Nothing mapped at this PML4 slot. */
	assert_int_equal(nfm_mmu_walk(mmu, 0x1000, 0xffff800000000000ull, &pa), -EFAULT);
	assert_int_equal(mmu->fault.level, 4);
}

static void test_non_canonical(void **state)
{
	uint64_t pa;

	(void)state;
	assert_int_equal(nfm_mmu_walk(mmu, 0x1000, 0x0000800000000000ull, &pa), -EFAULT);
	assert_int_equal(nfm_mmu_walk(mmu, 0x1000, 0x8000000000000000ull, &pa), -EFAULT);
}

static void test_table_outside_ram(void **state)
{
	uint64_t pa, va = VA4K + 0x3000;

	(void)state;
	set_entry(0x4000, idx(va, 1), 0x10000000ull | P);	/* page beyond the 8 MiB */
	assert_int_equal(nfm_mmu_walk(mmu, 0x1000, va, &pa), 0);
	assert_int_equal(nfm_mmu_read_kva(mmu, va, &pa, 8), -EFAULT);
	set_entry(0x3000, idx(VA4K + 0x400000, 2), 0x7ffff000ull | P);	/* table beyond RAM */
	assert_int_equal(nfm_mmu_walk(mmu, 0x1000, VA4K + 0x400000, &pa), -EFAULT);
}

static void test_cache_and_flush(void **state)
{
	uint64_t va = VA4K + 0x5000;

	(void)state;
	set_entry(0x4000, idx(va, 1), 0x150000 | P);
	expect_walk(0x1000, va, 0x150000);
	set_entry(0x4000, idx(va, 1), 0x160000 | P);
	/* Cached until the next crawl... */
	expect_walk(0x1000, va, 0x150000);
	nfm_mmu_flush(mmu);
	expect_walk(0x1000, va, 0x160000);
}

static void test_read_across_pages(void **state)
{
	uint64_t va = VA4K + 0x6000;
	char buf[16];

	(void)state;
	/* Two virtually adjacent pages backed by physically distant frames. */
	set_entry(0x4000, idx(va, 1), 0x300000 | P);
	set_entry(0x4000, idx(va + 0x1000, 1), 0x180000 | P);
	memcpy(mem + 0x300ff8, "abcdefgh", 8);
	memcpy(mem + 0x180000, "ijklmnop", 8);
	assert_int_equal(nfm_mmu_read_kva(mmu, va + 0xff8, buf, 16), 0);
	assert_memory_equal(buf, "abcdefghijklmnop", 16);
	assert_int_equal(nfm_mmu_read_uva(mmu, 0x1000, va + 0xff8, buf, 16), 0);
	assert_memory_equal(buf, "abcdefghijklmnop", 16);
}

static void test_linear_fast_paths(void **state)
{
	uint64_t pa;
	char buf[8];

	(void)state;
	mmu->have_kimage = true;
	mmu->phys_base = -0x1000000 + 0x200000;	/* negative phys_base, as VMCOREINFO allows */
	assert_int_equal(nfm_mmu_kva_to_pa(mmu, NFM_X86_START_KERNEL_MAP + 0x1000000, &pa), 0);
	assert_int_equal(pa, 0x200000);
	mmu->page_offset = 0xffff888000000000ull;
	assert_int_equal(nfm_mmu_read_kva(mmu, 0xffff888000100000ull, buf, 6), 0);
	assert_memory_equal(buf, "four-k", 6);
	/* A user address is never read through the kernel path. */
	assert_int_equal(nfm_mmu_kva_to_pa(mmu, 0x400000, &pa), -EFAULT);
	mmu->have_kimage = false;
	mmu->page_offset = 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_4k_2m_1g),
		cmocka_unit_test(test_five_level),
		cmocka_unit_test(test_not_present_and_swapped),
		cmocka_unit_test(test_non_canonical),
		cmocka_unit_test(test_table_outside_ram),
		cmocka_unit_test(test_cache_and_flush),
		cmocka_unit_test(test_read_across_pages),
		cmocka_unit_test(test_linear_fast_paths),
	};

	return cmocka_run_group_tests_name("arch-mmu", tests, setup, teardown);
}
