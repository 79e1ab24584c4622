/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The translation tests' fixture: 8 MiB of zeroed "guest RAM" in a buffer source, page-table
 * entries written into it by hand, and the mmu over it (each test file calls nfm_mmu_init*).
 */
#ifndef NFM_TEST_MMU_FIXTURE_H
#define NFM_TEST_MMU_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "arch/mmu.h"
#include <nfm/nfm.h>

#define MEM_SIZE (8u << 20)

static uint8_t *mem;
static struct nfm_source *src;
static struct nfm_mmu *mmu;

static void set_entry(uint64_t table, unsigned int idx, uint64_t val)
{
	memcpy(mem + table + idx * 8, &val, 8);
}

/* The index of va in a table of a walk's level (4 = top ... 1 = last; 9 bits each). */
static unsigned int idx(uint64_t va, int level)
{
	return (va >> (12 + 9 * (level - 1))) & 0x1ff;
}

/* The walk from root translates va to want. */
static void expect_walk(uint64_t root, uint64_t va, uint64_t want)
{
	uint64_t pa = ~0ull;

	assert_int_equal(nfm_mmu_walk(mmu, root, va, &pa), 0);
	assert_int_equal(pa, want);
}

static void fixture_open(void)
{
	mem = calloc(1, MEM_SIZE);
	assert_non_null(mem);
	assert_int_equal(nfm_source_new_buf(mem, MEM_SIZE, 0, &src), 0);
	mmu = calloc(1, sizeof(*mmu));
	assert_non_null(mmu);
}

static int teardown(void **state)
{
	(void)state;
	free(mmu);
	nfm_source_free(src);
	free(mem);
	return 0;
}

#endif
