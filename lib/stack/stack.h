/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared by lib/stack: orc.c (the per-context state; the ORC tables of the core image and the
 * modules, their entry layout, lookup by address, symbol lengths), frame_arm64.c (arm64's walk of
 * frame records) and unwind.c (a task's stack, unwound by either).
 */
#ifndef NFM_LIB_STACK_STACK_H
#define NFM_LIB_STACK_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "btf/btf.h"

struct nfm_ctx;

/* ORC register numbers (arch/x86/include/asm/orc_types.h, the same from 4.14 to 7.0). */
enum {
	ORC_REG_UNDEFINED = 0, ORC_REG_PREV_SP = 1, ORC_REG_DX = 2, ORC_REG_DI = 3, ORC_REG_BP = 4,
	ORC_REG_SP = 5, ORC_REG_R10 = 6, ORC_REG_R13 = 7, ORC_REG_BP_INDIRECT = 8,
	ORC_REG_SP_INDIRECT = 9,
};

/* Entry types, normalized to the 6.4+ numbering (before 6.4: CALL 0, REGS 1, REGS_PARTIAL 2 and
 * a separate `end` bit; 6.4 "x86/unwind/orc: Add ELF section with ORC version identifier" era
 * added UNDEFINED and END_OF_STACK types). */
enum { ORC_T_UNDEFINED = 0, ORC_T_END_OF_STACK = 1, ORC_T_CALL = 2, ORC_T_REGS = 3,
       ORC_T_REGS_PARTIAL = 4 };

struct stk_orc {
	int16_t sp_offset, bp_offset;
	uint8_t sp_reg, bp_reg, type;
	bool signal, has_signal, end;
};

/* Where struct orc_entry's members are (from BTF; a 6.4+ default without it). */
struct stk_orc_layout {
	uint32_t size;				/* 6 */
	struct nfm_field sp_offset, bp_offset, sp_reg, bp_reg, type, signal, end;
	bool has_signal, has_end;		/* has_end: the pre-6.4 type numbering */
};

/* One ORC table: ip[i] is place-relative (the entry's own address + ip[i]). */
struct stk_table {
	uint64_t ip_va;
	int32_t *ip;
	uint8_t *orc;
	size_t n;
};

struct stk_mod {
	char name[56];
	uint64_t module;
	uint64_t ranges[8][2];
	int nr;
	struct stk_table t;
	bool loaded;		/* t read (or found absent) */
	uint64_t *saddr;	/* its symbols' addresses, sorted */
	size_t nsaddr;
};

struct stk_state {
	/* task_struct and friends (-1: absent) */
	int32_t t_stack, t_thread_sp, t_on_cpu, t_on_rq, t_cpu, t_state, t_refcount;
	int32_t f_bp, f_ret, f_size;
	/* arm64: no ORC; the saved context's frame pointer and pc (thread.cpu_context.fp, .pc),
	 * and the final frame record, pt_regs.stackframe at the stack's top (-1: unknown) */
	bool arm64;
	int32_t t_ctx_fp, t_ctx_pc, pt_stackframe;
	uint32_t pt_regs_size;
	int va_bits;
	int32_t m_orc_ip, m_orc, m_num_orcs;
	uint32_t thread_size;
	struct stk_orc_layout lay;

	struct stk_table core;		/* read by stk_tables_get() */
	uint64_t core_ip_va, core_orc_va;
	size_t core_n;
	bool tables_done;
	int tables_err;
	uint64_t stext, etext, sinittext, einittext, end;
	uint64_t sched_lo, sched_hi, lock_lo, lock_hi;
	uint64_t ret_from_fork[2];

	uint64_t *saddr;	/* the core symbols' addresses, sorted, unique */
	size_t nsaddr;

	struct stk_mod *mods;
	size_t nmods;
	bool mods_read;
	bool mods_fresh;	/* re-listed during this walk already */
};

/* The per-context state, built on first use: 0, -ENOENT (not an x86-64 ORC kernel), -ENOMEM.
 * Offsets and bounds only: what reading a task's CPU or state needs. */
int stk_state_get(struct nfm_ctx *ctx, struct stk_state **ret);

/* What a walk needs besides: the core ORC table (MBs of guest memory) and the core symbols'
 * addresses, read once on first use: 0, -EFAULT, -ENOMEM (kept: asked again, the same). */
int stk_tables_get(struct nfm_ctx *ctx, struct stk_state *s);

/* Decode the entry at raw (lay->size bytes). */
void stk_orc_decode(const struct stk_orc_layout *lay, const uint8_t *raw, struct stk_orc *o);

/*
 * The ORC entry for ip (the kernel's orc_find()): 1 and *o, 0 when no table covers ip.
 * A module table is read on first use; modules are re-listed once when ip is in none.
 */
int stk_orc_find(struct nfm_ctx *ctx, struct stk_state *s, uint64_t ip, struct stk_orc *o);

/* Is ip kernel or module text (the kernel's __kernel_text_address(), as far as it matters)? */
bool stk_text_address(struct nfm_ctx *ctx, struct stk_state *s, uint64_t ip);

/* The module holding addr (NULL: none). */
struct stk_mod *stk_module_of(struct nfm_ctx *ctx, struct stk_state *s, uint64_t addr);

/* Length of the symbol starting at start, as kallsyms computes it (next symbol's start - start). */
uint64_t stk_symbol_size(struct nfm_ctx *ctx, struct stk_state *s, uint64_t start,
			 const char *module);

/* One stack a walk may read: [lo, hi), its bytes in buf. */
struct stk_region {
	uint64_t lo, hi;
	const uint8_t *buf;
};

/* Where a walk starts. */
struct stk_start {
	uint64_t ip, sp, bp;
	const uint64_t *regs;	/* a vCPU's registers as a struct pt_regs (21 words), or NULL */
	bool signal;		/* ip is an interrupted instruction (look up ip, not ip - 1) */
	bool nosched;		/* leave scheduler and lock frames out (/proc/PID/stack) */
};

struct nfm_task;
struct nfm_stack_frame;

/* The unwinder (unwind.c) over the given stacks: the frame count; *flags gets NFM_STACK_*. */
int stk_unwind(struct nfm_ctx *ctx, struct stk_state *s, const struct stk_region *rg, size_t nrg,
	       const struct stk_start *st, struct nfm_stack_frame *frames, size_t max,
	       unsigned int *flags);
/* The task's stack base (*lo; it is s->thread_size long): 1, 0 with NO_STACK/ERROR in *flags,
 * or -errno. */
int stk_task_stack(struct nfm_ctx *ctx, struct stk_state *s, const struct nfm_task *t,
		   uint64_t *lo, unsigned int *flags);
/* A whole stack's bytes [va, va + len), read past the crawl cache (unwind.c). 0 or -errno. */
int stk_read_stack(struct nfm_ctx *ctx, uint64_t va, uint8_t *buf, size_t len);
/* A task_struct member (offset from stk_state; -ENOENT when absent). */
int stk_read_u64(struct nfm_ctx *ctx, uint64_t task, int32_t off, uint64_t *v);
int stk_read_u32(struct nfm_ctx *ctx, uint64_t task, int32_t off, uint32_t *v);

/*
 * arm64's frame-record walk (frame_arm64.c), as the kernel's unwind_next_frame_record(): from pc
 * and the record at fp, each record (next fp, return address) inside the region, above the last,
 * until the final record final_fp (0: unknown) or a record of zeros. The return
 * addresses, pointer authentication stripped to va_bits, go to pcs (pc first): their count;
 * *flags gets NFM_STACK_ERROR / _TRUNCATED for a record that does not check out or too many.
 */
size_t stk_fp_walk(const struct stk_region *rg, uint64_t fp, uint64_t pc, uint64_t final_fp,
		   int va_bits, uint64_t *pcs, size_t max, unsigned int *flags);

/* Binary search of the table: the rightmost entry whose address is <= ip (__orc_find()). */
long stk_table_search(const struct stk_table *t, uint64_t ip);

#endif
