// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * arm64's frame-record walk (frame_arm64.c) over synthetic stacks: the return addresses in
 * order, ending at the final record or at a record of zeros; pointer authentication stripped;
 * and hostile records (a loop, a record below the last, misaligned, off the stack, endless
 * depth) giving a short walk and a flag, never a read outside the stack.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <nfm/stack.h>

#include "stack/stack.h"

#define LO 0xffff800080000000ull
#define SIZE 16384u
#define HI (LO + SIZE)
#define PC(i) (0xffff800080010000ull + 0x100u * (i))

static uint64_t stack[SIZE / 8];

static struct stk_region region(void)
{
	return (struct stk_region){ .lo = LO, .hi = HI, .buf = (const uint8_t *)stack };
}

/* the record at address fp: next record, return address */
static void record(uint64_t fp, uint64_t next, uint64_t pc)
{
	stack[(fp - LO) / 8] = next;
	stack[(fp - LO) / 8 + 1] = pc;
}

static void test_walk_to_final_record(void **state)
{
	struct stk_region rg = region();
	uint64_t pcs[16], final = HI - 0x150 + 0x130;
	unsigned int flags = 0;
	size_t n;

	(void)state;
	memset(stack, 0, sizeof(stack));
	record(LO + 0x3e00, LO + 0x3e40, PC(1));
	record(LO + 0x3e40, LO + 0x3e80, PC(2));
	record(LO + 0x3e80, final, PC(3));
	record(final, 0, 0);
	n = stk_fp_walk(&rg, LO + 0x3e00, PC(0), final, 48, pcs, 16, &flags);
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(pcs[i], PC(i));
	assert_int_equal(flags, 0);
	/* without knowing the final record, its zeros end the walk the same way */
	n = stk_fp_walk(&rg, LO + 0x3e00, PC(0), 0, 48, pcs, 16, &flags);
	assert_int_equal(n, 4);
	assert_int_equal(flags, 0);
}

static void test_pac_stripped(void **state)
{
	struct stk_region rg = region();
	uint64_t pcs[4], final = LO + 0x3f00;
	unsigned int flags = 0;

	(void)state;
	memset(stack, 0, sizeof(stack));
	/* a signed return address: the PAC in the bits above VA_BITS */
	record(LO + 0x3e00, final, PC(1) & ~(0x7full << 48));
	assert_int_equal(stk_fp_walk(&rg, LO + 0x3e00, PC(0), final, 48, pcs, 4, &flags), 2);
	assert_int_equal(pcs[1], PC(1));
	assert_int_equal(flags, 0);
}

static void test_hostile_records(void **state)
{
	static const struct { uint64_t fp, next; } bad[] = {
		{ LO + 0x3e00, LO + 0x3e00 },	/* a record pointing at itself */
		{ LO + 0x3e00, LO + 0x3d00 },	/* below the one before: a loop in the making */
		{ LO + 0x3e00, LO + 0x3e44 },	/* misaligned */
		{ LO + 0x3e00, HI - 8 },	/* runs off the stack's top */
		{ LO + 0x3e00, 0xffff000000000000ull },	/* off the stack */
	};
	struct stk_region rg = region();
	uint64_t pcs[16];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned int flags = 0;
		size_t n;

		memset(stack, 0, sizeof(stack));
		record(bad[i].fp, bad[i].next, PC(1));
		if (bad[i].next >= LO && bad[i].next + 16 <= HI && bad[i].next != bad[i].fp)
			record(bad[i].next, bad[i].fp, PC(2));
		n = stk_fp_walk(&rg, bad[i].fp, PC(0), HI - 0x20, 48, pcs, 16, &flags);
		assert_true(n >= 2 && n <= 3);
		assert_true(flags & NFM_STACK_ERROR);
	}
	/* the saved fp itself outside the stack: the saved pc alone */
	{
		unsigned int flags = 0;

		assert_int_equal(stk_fp_walk(&rg, LO - 16, PC(0), 0, 48, pcs, 16, &flags), 1);
		assert_true(flags & NFM_STACK_ERROR);
	}
}

static void test_depth_bounded(void **state)
{
	struct stk_region rg = region();
	uint64_t pcs[64];
	unsigned int flags = 0;

	(void)state;
	/* 1,000 valid records in a row: the walk stops at its buffer and says so */
	memset(stack, 0, sizeof(stack));
	for (uint64_t fp = LO; fp + 32 <= HI; fp += 16)
		record(fp, fp + 16, PC(1));
	assert_int_equal(stk_fp_walk(&rg, LO, PC(0), 0, 48, pcs, 64, &flags), 64);
	assert_true(flags & NFM_STACK_TRUNCATED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_walk_to_final_record),
		cmocka_unit_test(test_pac_stripped),
		cmocka_unit_test(test_hostile_records),
		cmocka_unit_test(test_depth_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
