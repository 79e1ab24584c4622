// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * arm64 kernel stacks by frame records: every Debian arm64 kernel keeps frame pointers, and
 * stack_trace_save_tsk() walks them (arch/arm64/kernel/stacktrace.c): the saved pc first, then
 * at each record fp the next record's address [fp] and the return address [fp + 8]. A record
 * must be 8-byte aligned, lie whole on the stack and above the one before it; the walk ends at
 * the final record in the pt_regs at the stack's top, or at a record of zeros (older kernels).
 */
#include <string.h>

#include <nfm/stack.h>

#include "stack/stack.h"

/* ptrauth_strip_kernel_insn_pac(): a kernel return address has every bit from va_bits up set. */
static uint64_t strip_pac(uint64_t pc, int va_bits)
{
	return va_bits > 0 && va_bits < 64 ? pc | ~((1ull << va_bits) - 1) : pc;
}

size_t stk_fp_walk(const struct stk_region *rg, uint64_t fp, uint64_t pc, uint64_t final_fp,
		   int va_bits, uint64_t *pcs, size_t max, unsigned int *flags)
{
	uint64_t prev = 0, rec[2];
	size_t n = 0;

	for (;;) {
		if (n >= max) {
			*flags |= NFM_STACK_TRUNCATED;
			return n;
		}
		pcs[n++] = pc;
		if (final_fp && fp == final_fp)
			return n;
		/* One stack only (a sleeping task's): each record strictly above the last, which
		 * also bounds the walk by the stack's size. */
		if ((fp & 7) || fp < rg->lo || fp > rg->hi - 16 || (prev && fp <= prev)) {
			/* without the final record the walk ends where fp leaves the stack: 0 is
			 * that end, anything else a record that does not check out */
			if (fp)
				*flags |= NFM_STACK_ERROR;
			return n;
		}
		memcpy(rec, rg->buf + (fp - rg->lo), sizeof(rec));
		prev = fp;
		fp = rec[0];
		pc = rec[1];
		/* a record of zeros: the entry from user space (every kernel) */
		if (!fp && !pc)
			return n;
		pc = strip_pac(pc, va_bits);
	}
}
