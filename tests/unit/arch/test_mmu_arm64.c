// SPDX-License-Identifier: GPL-2.0-or-later
/* arm64 translation (4 KiB granule, 48- and 52-bit VA) over synthetic page tables in a buffer
 * source. */
#include "mmu_fixture.h"

#define TABLE 0x3ull		/* valid + table (levels 0-2) or page (level 3) */
#define BLOCK 0x1ull		/* valid block (levels 1-2) */
#define AF (1ull << 10)
#define UXN (1ull << 54)
#define PROT_NONE_SW (1ull << 58)

/* Levels as nfm numbers them: 4 = Arm level 0 ... 1 = Arm level 3. */
/* Tables: L0 0x1000, L1 0x2000, L2 0x3000, L3 0x4000. Kernel (TTBR1) addresses. */
static const uint64_t VA4K = 0xffff800008001000ull;	/* -> 0x100000 via a page */
static const uint64_t VA2M = 0xffff800008200000ull;	/* -> 0x200000 via a 2 MiB block */
static const uint64_t VA1G = 0xffff800040000000ull;	/* -> 0 via a 1 GiB block */
static const uint64_t VAPN = 0xffff800008002000ull;	/* PROT_NONE page -> 0x101000 */
static const uint64_t VASW = 0xffff800008003000ull;	/* swap entry */
/* The kernel image mapping: kimage_voffset such that VAIMG - voff = 0x300000. */
static const uint64_t VAIMG = 0xffffa00008300000ull;
static const uint64_t VOFF = 0xffffa00008000000ull;
/* PHYS_OFFSET as KASLR leaves it (memstart_addr below 0): linear va of pa 0 */
static const uint64_t PHYS_OFFSET = 0xffff9a87c0000000ull;

static int setup(void **state)
{
	(void)state;
	fixture_open();
	nfm_mmu_init_arm64(mmu, src, 48, 48, 0x1000, VOFF, PHYS_OFFSET);
	set_entry(0x1000, idx(VA4K, 4), 0x2000 | TABLE);
	set_entry(0x2000, idx(VA4K, 3), 0x3000 | TABLE);
	set_entry(0x2000, idx(VA1G, 3), 0x0 | BLOCK | AF | UXN);
	set_entry(0x3000, idx(VA4K, 2), 0x4000 | TABLE);
	set_entry(0x3000, idx(VA2M, 2), 0x200000 | BLOCK | AF);
	/* upper attributes (UXN, software bits) must not leak into the address */
	set_entry(0x4000, idx(VA4K, 1), 0x100000 | TABLE | AF | UXN | (0xfull << 55));
	set_entry(0x4000, idx(VAPN, 1), 0x101000 | PROT_NONE_SW | AF);
	set_entry(0x4000, idx(VASW, 1), 0x12345600);	/* not valid, not PROT_NONE: swapped */
	/* the image: its own L1..L3 path under L0 entry of VAIMG */
	set_entry(0x1000, idx(VAIMG, 4), 0x5000 | TABLE);
	set_entry(0x5000, idx(VAIMG, 3), 0x6000 | TABLE);
	set_entry(0x6000, idx(VAIMG, 2), 0x300000 | BLOCK | AF);
	memcpy(mem + 0x100000, "four-k", 6);
	memcpy(mem + 0x200000 + 0x1234, "two-m", 5);
	memcpy(mem + 0x300000 + 0x40, "image", 5);
	return 0;
}

static void test_page_and_blocks(void **state)
{
	(void)state;
	expect_walk(0x1000, VA4K + 0x10, 0x100010);
	expect_walk(0x1000, VA2M + 0x1234, 0x201234);
	expect_walk(0x1000, VA1G + 0x12345, 0x12345);
	expect_walk(0x1000, VAPN + 8, 0x101008);
}

static void test_invalid_and_swapped(void **state)
{
	uint64_t pa;

	(void)state;
	assert_int_equal(nfm_mmu_walk(mmu, 0x1000, VASW, &pa), -EFAULT);
	assert_true(mmu->fault.swapped);
	assert_int_equal(mmu->fault.level, 1);
	/* an empty top-level slot */
	assert_int_equal(nfm_mmu_walk(mmu, 0x1000, 0xffff000000000000ull, &pa), -EFAULT);
	assert_int_equal(mmu->fault.level, 4);
	assert_false(mmu->fault.swapped);
	/* a block descriptor at Arm level 0 does not exist */
	set_entry(0x1000, 3, 0x0 | BLOCK);
	assert_int_equal(nfm_mmu_walk(mmu, 0x1000, 0xffff018000000000ull, &pa), -EFAULT);
	assert_int_equal(mmu->fault.level, 4);
	/* 0b01 at Arm level 3 is reserved */
	set_entry(0x4000, 7, 0x105000 | BLOCK);
	assert_int_equal(nfm_mmu_walk(mmu, 0x1000, 0xffff800008007000ull, &pa), -EFAULT);
	assert_int_equal(mmu->fault.level, 1);
}

static void test_kernel_and_user_halves(void **state)
{
	uint64_t pa;

	(void)state;
	/* bit 47 clear is still the kernel half on arm64 (the linear map starts at 2^64 - 2^48) */
	assert_true(nfm_mmu_is_kernel_va(mmu, 0xffff000000001000ull));
	assert_true(nfm_mmu_is_kernel_va(mmu, VA4K));
	assert_false(nfm_mmu_is_kernel_va(mmu, 0x0000ffffffffe000ull));
	assert_false(nfm_mmu_is_kernel_va(mmu, 0xfffe000000000000ull));
	assert_int_equal(nfm_mmu_user_bits(mmu), 48);
	/* a non-canonical address never reaches the tables */
	assert_int_equal(nfm_mmu_walk(mmu, 0x1000, 0x0001000000000000ull, &pa), -EFAULT);
	/* user addresses walk TTBR0 tables (L0 0x7000, L1 0x8000) of the same format */
	set_entry(0x7000, idx(0x0000ffff00000000ull, 4), 0x8000 | TABLE);
	set_entry(0x8000, idx(0x0000ffff00000000ull, 3), 0x0 | BLOCK);
	expect_walk(0x7000, 0x0000ffff00000123ull, 0x123);
}

static void test_linear_map_and_image(void **state)
{
	/* __va(pa) = (pa - PHYS_OFFSET) | PAGE_OFFSET */
	uint64_t lin = (0x100000 - PHYS_OFFSET) | 0xffff000000000000ull, pa;
	char buf[8] = { 0 };

	(void)state;
	assert_int_equal(mmu->page_offset, 0xffff000000000000ull);
	assert_int_equal(nfm_mmu_kva_to_pa(mmu, lin, &pa), 0);
	assert_int_equal(pa, 0x100000);
	assert_int_equal(nfm_mmu_read_kva(mmu, lin, buf, 6), 0);
	assert_string_equal(buf, "four-k");
	/* a linear address of no RAM is not taken as linear (and is not mapped either) */
	assert_int_equal(nfm_mmu_kva_to_pa(mmu, lin + MEM_SIZE, &pa), -EFAULT);
	/* the image: through the tables until its bounds are known, then by subtraction */
	assert_int_equal(nfm_mmu_kva_to_pa(mmu, VAIMG + 0x40, &pa), 0);
	assert_int_equal(pa, 0x300040);
	mmu->kimage_start = VAIMG;
	mmu->kimage_end = VAIMG + 0x100000;
	memset(buf, 0, sizeof(buf));
	assert_int_equal(nfm_mmu_read_kva(mmu, VAIMG + 0x40, buf, 5), 0);
	assert_string_equal(buf, "image");
}

/* Debian's 6.12: built for 52-bit VA, running with 48 (no LPA2 on the CPU). PAGE_OFFSET stays
 * the 52-bit one; PHYS_OFFSET is lowered by PAGE_OFFSET(48) - PAGE_OFFSET(52) so the linear
 * map lands in the 48-bit range, the one the tables translate. */
static void test_52_bit_kernel_on_48_bits(void **state)
{
	struct nfm_mmu *m = calloc(1, sizeof(*m));
	uint64_t phys = PHYS_OFFSET - 0x000f000000000000ull, lin, pa;

	(void)state;
	assert_non_null(m);
	nfm_mmu_init_arm64(m, src, 48, 52, 0x1000, VOFF, phys);
	assert_int_equal(m->page_offset, 0xfff0000000000000ull);
	/* __va(pa) = pa - PHYS_OFFSET + PAGE_OFFSET: the same address as the 48-bit kernel's */
	lin = 0x100000 - phys + 0xfff0000000000000ull;
	assert_int_equal(lin, (0x100000 - PHYS_OFFSET) | 0xffff000000000000ull);
	assert_int_equal(nfm_mmu_kva_to_pa(m, lin, &pa), 0);
	assert_int_equal(pa, 0x100000);
	/* the run-time 48-bit range decides what is kernel and what the tables translate */
	assert_true(nfm_mmu_is_kernel_va(m, VA4K));
	assert_false(nfm_mmu_is_kernel_va(m, 0xfff0000000001000ull));
	assert_int_equal(nfm_mmu_user_bits(m), 48);
	assert_int_equal(nfm_mmu_walk(m, 0x1000, VA4K + 0x10, &pa), 0);
	assert_int_equal(pa, 0x100010);
	nfm_mmu_release(m);
	free(m);
}

/* A 52-bit kernel on a CPU with FEAT_LPA2 (QEMU's -cpu max): T1SZ 12, five levels, the first
 * (Arm's level -1) indexed by VA bits 51:48, and output addresses whose bits 51:50 are in
 * descriptor bits 9:8. Tables: L-1 0x9000, L0 0xa000, L1 0xb000, L2 0xc000, L3 0xd000. */
static void test_52_bit_lpa2(void **state)
{
	struct nfm_mmu *m = calloc(1, sizeof(*m));
	const uint64_t va = 0xfff8000008001000ull, va512g = 0xfff8008000000000ull;
	uint64_t pa;

	(void)state;
	assert_non_null(m);
	nfm_mmu_init_arm64(m, src, 52, 52, 0x9000, VOFF, PHYS_OFFSET - 0x000f000000000000ull);
	assert_int_equal(m->levels, 5);
	assert_int_equal(m->page_offset, 0xfff0000000000000ull);
	assert_true(nfm_mmu_is_kernel_va(m, 0xfff0000000001000ull));
	assert_false(nfm_mmu_is_kernel_va(m, 0xffe0000000001000ull));
	assert_int_equal(nfm_mmu_user_bits(m), 52);
	set_entry(0x9000, 8, 0xa000 | TABLE);	/* VA bits 51:48 of va = 8, not bits 56:48 */
	set_entry(0xa000, idx(va, 4), 0xb000 | TABLE);
	set_entry(0xb000, idx(va, 3), 0xc000 | TABLE);
	set_entry(0xc000, idx(va, 2), 0xd000 | TABLE);
	/* a page at pa 2^50 + 0x100000: OA[51:50] = 0b01 in bits 9:8 */
	set_entry(0xd000, idx(va, 1), 0x100000 | (1ull << 8) | TABLE | AF | UXN);
	assert_int_equal(nfm_mmu_walk(m, 0x9000, va + 0x10, &pa), 0);
	assert_int_equal(pa, (1ull << 50) | 0x100010);
	/* a 512 GiB block at Arm level 0 exists with LPA2 */
	set_entry(0xa000, idx(va512g, 4), 0x8000000000ull | BLOCK | AF);
	assert_int_equal(nfm_mmu_walk(m, 0x9000, va512g + 0x123456, &pa), 0);
	assert_int_equal(pa, 0x8000123456ull);
	/* a process's top table: 128 bytes from pgd_cache, not page-aligned (user VA bits 51:48
	 * are 0: its first entry) */
	set_entry(0x9080, 0, 0xe000 | TABLE);
	set_entry(0xe000, idx(0x0000ffff00000000ull, 4), 0xf000 | TABLE);
	set_entry(0xf000, idx(0x0000ffff00000000ull, 3), 0x40000000 | BLOCK);
	assert_int_equal(nfm_mmu_walk(m, 0x9080, 0x0000ffff00000123ull, &pa), 0);
	assert_int_equal(pa, 0x40000123);
	/* none at level -1 */
	set_entry(0x9000, 9, 0x0 | BLOCK);
	assert_int_equal(nfm_mmu_walk(m, 0x9000, 0xfff9000000000000ull, &pa), -EFAULT);
	assert_int_equal(m->fault.level, 5);
	nfm_mmu_release(m);
	free(m);
	/* Without LPA2 bits 9:8 are the shareability field, never address bits. */
	set_entry(0x4000, idx(VA4K + 0x8000, 1), 0x108000 | (3ull << 8) | TABLE | AF);
	expect_walk(0x1000, VA4K + 0x8000, 0x108000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_page_and_blocks),
		cmocka_unit_test(test_invalid_and_swapped),
		cmocka_unit_test(test_kernel_and_user_halves),
		cmocka_unit_test(test_linear_map_and_image),
		cmocka_unit_test(test_52_bit_kernel_on_48_bits),
		cmocka_unit_test(test_52_bit_lpa2),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
