// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * VMCOREINFO discovery over synthetic guest memory: a kernel image mapped by real page tables, a
 * valid VMCOREINFO, and stale or broken copies placed where the scan probes first (it starts
 * below the top 1/64 of RAM and goes down, in 2 MiB batches).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "core/context.h"

#define MEM_SIZE (8u << 20)
#define PGD 0x100000u
#define PUD 0x101000u
#define PMD 0x102000u
#define IMAGE_PA 0x200000u			/* _text's page */
#define TEXT_VA 0xffffffff81000000ull
#define PHYS_BASE (-0xe00000ll)			/* pa = va - START_KERNEL_MAP + phys_base */
#define UTS_VA (TEXT_VA + 0x10000)
#define PGD_VA (0xffffffff80000000ull + PGD - PHYS_BASE)

static uint8_t *mem;

static void put64(uint64_t pa, uint64_t v)
{
	memcpy(mem + pa, &v, 8);
}

/* A VMCOREINFO note page (as the kernel's vmcoreinfo_note) at pa. */
static void put_vmcoreinfo(uint64_t pa, const char *release, uint64_t pgd_va, int64_t phys_base)
{
	char text[1024];
	uint32_t hdr[3];
	int n = snprintf(text, sizeof(text),
			 "OSRELEASE=%s\nPAGESIZE=4096\nSYMBOL(init_uts_ns)=%llx\n"
			 "SYMBOL(swapper_pg_dir)=%llx\nNUMBER(phys_base)=%lld\n"
			 "NUMBER(pgtable_l5_enabled)=0\nKERNELOFFSET=0\n",
			 release, (unsigned long long)UTS_VA, (unsigned long long)pgd_va,
			 (long long)phys_base);

	hdr[0] = 11;
	hdr[1] = (uint32_t)n;
	hdr[2] = 0;
	memcpy(mem + pa, hdr, sizeof(hdr));
	memcpy(mem + pa + 12, "VMCOREINFO\0", 12);
	memcpy(mem + pa + 24, text, (size_t)n);
}

static int setup(void **state)
{
	uint64_t uts_pa = UTS_VA - 0xffffffff80000000ull + (uint64_t)PHYS_BASE;

	(void)state;
	mem = calloc(1, MEM_SIZE);
	assert_non_null(mem);
	/* PGD[511] -> PUD; PUD[510] -> PMD; PMD[8] maps _text's 2 MiB page. */
	put64(PGD + 511 * 8, PUD | 0x63);
	put64(PUD + 510 * 8, PMD | 0x63);
	put64(PMD + 8 * 8, IMAGE_PA | 0xe3);
	assert_int_equal(uts_pa, IMAGE_PA + 0x10000);
	memcpy(mem + uts_pa, "Linux", 6);
	memcpy(mem + uts_pa + 130, "6.1.0-test", 11);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(mem);
	return 0;
}

static int discover(uint64_t *found_pa, uint64_t *root)
{
	struct nfm_source *src;
	struct nfm_ctx *ctx;
	int ret;

	assert_int_equal(nfm_source_new_buf(mem, MEM_SIZE, 0, &src), 0);
	assert_int_equal(nfm_ctx_new_parts(src, 4, 0, 0, 0, NULL, NULL, NULL, &ctx), 0);
	ret = nfm_discover_kernel(ctx, NULL);
	if (ret == 0) {
		*found_pa = ctx->vmcoreinfo_pa;
		*root = ctx->mmu->kernel_root;
		assert_int_equal(ctx->mmu->phys_base, PHYS_BASE);
	}
	nfm_ctx_free(ctx);
	nfm_source_free(src);
	return ret;
}

static void test_valid_copy_found(void **state)
{
	uint64_t pa = 0, root = 0;

	(void)state;
	memset(mem + 0x400000, 0, 4096);
	put_vmcoreinfo(0x400000, "6.1.0-test", PGD_VA, PHYS_BASE);
	assert_int_equal(discover(&pa, &root), 0);
	assert_int_equal(pa, 0x400000);
	assert_int_equal(root, PGD);
}

static void test_stale_copies_skipped(void **state)
{
	uint64_t pa = 0, root = 0;

	(void)state;
	/* In the batch probed first (6-8 MiB): an older kernel's copy (another release), one whose
	 * phys_base puts the page tables elsewhere, and a bare OSRELEASE page that is garbage. */
	put_vmcoreinfo(0x600000, "5.10.0-old", PGD_VA, PHYS_BASE);
	put_vmcoreinfo(0x601000, "6.1.0-test", PGD_VA, PHYS_BASE + 0x200000);
	memcpy(mem + 0x602000, "OSRELEASE=\xff\xfe\n\x01", 15);
	put_vmcoreinfo(0x400000, "6.1.0-test", PGD_VA, PHYS_BASE);
	assert_int_equal(discover(&pa, &root), 0);
	assert_int_equal(pa, 0x400000);
}

/* Two good copies: the one in the batch below the top 1/64 of RAM is probed first. */
static void test_scan_order(void **state)
{
	uint64_t pa = 0, root = 0;

	(void)state;
	put_vmcoreinfo(0x400000, "6.1.0-test", PGD_VA, PHYS_BASE);
	put_vmcoreinfo(0x610000, "6.1.0-test", PGD_VA, PHYS_BASE);
	assert_int_equal(discover(&pa, &root), 0);
	assert_int_equal(pa, 0x610000);
	memset(mem + 0x610000, 0, 4096);
	assert_int_equal(discover(&pa, &root), 0);
	assert_int_equal(pa, 0x400000);
}

/* Only the stale and broken copies (set here, not left by the tests before): none is taken. */
static void test_only_stale_copies(void **state)
{
	uint64_t pa, root;

	(void)state;
	memset(mem + 0x400000, 0, 4096);
	memset(mem + 0x610000, 0, 4096);
	put_vmcoreinfo(0x600000, "5.10.0-old", PGD_VA, PHYS_BASE);
	put_vmcoreinfo(0x601000, "6.1.0-test", PGD_VA, PHYS_BASE + 0x200000);
	memcpy(mem + 0x602000, "OSRELEASE=\xff\xfe\n\x01", 15);
	assert_int_equal(discover(&pa, &root), -ENOENT);
}

static void test_page_tables_disagree(void **state)
{
	uint64_t pa, root;

	(void)state;
	/* The linear translation finds init_uts_ns, but the page tables map _text elsewhere. */
	put_vmcoreinfo(0x400000, "6.1.0-test", PGD_VA, PHYS_BASE);
	put64(PMD + 8 * 8, (IMAGE_PA + 0x200000) | 0xe3);
	assert_int_equal(discover(&pa, &root), -ENOENT);
	put64(PMD + 8 * 8, IMAGE_PA | 0xe3);
	/* A cycle-free but absurd table pointer (beyond RAM) is rejected too. */
	put64(PUD + 510 * 8, 0x7fff0000ull | 0x63);
	assert_int_equal(discover(&pa, &root), -ENOENT);
	put64(PUD + 510 * 8, PMD | 0x63);
	assert_int_equal(discover(&pa, &root), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_copy_found),
		cmocka_unit_test(test_stale_copies_skipped),
		cmocka_unit_test(test_scan_order),
		cmocka_unit_test(test_only_stale_copies),
		cmocka_unit_test(test_page_tables_disagree),
	};

	return cmocka_run_group_tests_name("core-discover", tests, setup, teardown);
}
