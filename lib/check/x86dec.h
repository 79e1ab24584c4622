/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A length decoder for x86-64 kernel text: enough to walk a function instruction by instruction
 * and see its direct branches (call/jmp/jcc rel8/rel32), returns, int3 and indirect branches.
 * It decodes what compilers and the kernel's entry code emit (legacy prefixes, REX, the one-,
 * two- and three-byte maps, VEX, EVEX); what is invalid in 64-bit mode is refused.
 */
#ifndef NFM_LIB_CHECK_X86DEC_H
#define NFM_LIB_CHECK_X86DEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum x86_kind {
	X86_OTHER,
	X86_CALL,	/* call rel32 */
	X86_JMP,	/* jmp rel8/rel32 */
	X86_JCC,	/* jcc rel8/rel32, loop, jrcxz */
	X86_RET,	/* ret, ret imm16 */
	X86_INT3,	/* 0xcc */
	X86_INDIRECT,	/* call/jmp through a register or memory (ff /2../5) */
	X86_UD,		/* ud2 and friends: the end of a path */
};

struct x86_insn {
	uint8_t len;
	uint8_t kind;		/* enum x86_kind */
	bool has_target;	/* a direct branch: target set */
	uint64_t target;	/* ip + len + rel */
};

/*
 * Decodes the instruction at p (avail bytes readable, at address ip): 0 and *ret, -EBADMSG for
 * bytes that are no instruction this decoder knows, -ENODATA when it runs past avail.
 */
int x86_decode(const uint8_t *p, size_t avail, uint64_t ip, struct x86_insn *ret);

/* The fentry site: "nopl 0x0(%rax,%rax,1)" (0f 1f 44 00 00). */
bool x86_is_nop5(const uint8_t *p, size_t avail);
/* endbr64 (f3 0f 1e fa). */
bool x86_is_endbr64(const uint8_t *p, size_t avail);

#endif
