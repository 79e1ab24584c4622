// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The unwinder: a sleeping task's stack from its saved frame (thread.sp -> struct
 * inactive_task_frame; on arm64 thread.cpu_context and frame records, frame_arm64.c), walked
 * with the ORC tables step by step as the kernel's
 * unwind_next_frame() (arch/x86/kernel/unwind_orc.c) walks it for stack_trace_save_tsk(), so that
 * the result is the guest's /proc/PID/stack. The stack is read once, from the saved frame to its
 * top; every dereference must fall inside it, so a hostile stack gives a short walk, not a wild
 * read.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/nfm.h>
#include <nfm/stack.h>

#include "core/context.h"
#include "source/source.h"
#include "stack/stack.h"

/* A walk ends after this many steps whatever the data says (a 16 KiB stack has < 2048 words). */
#define MAX_STEPS 4096

/* struct pt_regs on x86-64. */
#define PT_BP 32
#define PT_R10 56
#define PT_DX 96
#define PT_DI 112
#define PT_R13 16
#define PT_IP 128
#define PT_CS 136
#define PT_SP 152
#define PT_REGS_SIZE 168
#define IRET_FRAME_SIZE 40

struct ustate {
	struct nfm_ctx *ctx;
	struct stk_state *s;
	const struct stk_region *rg;	/* the stacks the walk may read (a task's, an IRQ stack) */
	size_t nrg;
	const uint64_t *vregs;		/* the vCPU's registers as a pt_regs while regs is theirs */
	uint64_t ip, sp, bp;
	uint64_t regs, prev_regs;	/* struct pt_regs on the stack, 0: none */
	bool full_regs, signal, done, error, guessed;
};

/* The region holding [addr, addr + len), or -1. */
static int region_of(const struct ustate *u, uint64_t addr, uint64_t len)
{
	for (size_t i = 0; i < u->nrg; i++)
		if (addr >= u->rg[i].lo && addr + len > addr && addr + len <= u->rg[i].hi)
			return (int)i;
	return -1;
}

static bool on_stack(const struct ustate *u, uint64_t addr, uint64_t len)
{
	return region_of(u, addr, len) >= 0;
}

static bool deref(const struct ustate *u, uint64_t addr, uint64_t *val)
{
	int i = region_of(u, addr, 8);

	if (i < 0)
		return false;
	memcpy(val, u->rg[i].buf + (addr - u->rg[i].lo), 8);
	return true;
}

static bool get_reg(const struct ustate *u, unsigned int off, uint64_t *val)
{
	if (u->vregs) {
		*val = u->vregs[off / 8];
		return true;
	}
	if (!u->regs)
		return false;
	if (u->full_regs)
		return deref(u, u->regs + off, val);
	if (u->prev_regs)
		return deref(u, u->prev_regs + off, val);
	return false;
}

static bool in_sched(const struct stk_state *s, uint64_t a)
{
	return (a >= s->lock_lo && a < s->lock_hi) || (a >= s->sched_lo && a < s->sched_hi);
}

/* The frame's registers were saved on entry from user mode: the stack ends there. */
static bool user_regs(const struct ustate *u)
{
	uint64_t cs;

	return u->vregs ? (u->vregs[PT_CS / 8] & 3) :
	       (u->regs && deref(u, u->regs + PT_CS, &cs) && (cs & 3));
}

/* The kernel's unwind_get_return_address(). */
static uint64_t return_address(struct ustate *u)
{
	if (u->done)
		return 0;
	return stk_text_address(u->ctx, u->s, u->ip) ? u->ip : 0;
}

static void finish(struct ustate *u, bool err)
{
	if (err)
		u->error = true;
	u->done = true;
}

/* The kernel's unwind_next_frame(): false at the end (u->done). */
static bool next_frame(struct ustate *u)
{
	/* Frame-pointer guess for code ORC does not cover (BPF, trampolines). */
	static const struct stk_orc fp = { .sp_offset = 16, .bp_offset = -16, .sp_reg = ORC_REG_BP,
					   .bp_reg = ORC_REG_PREV_SP, .type = ORC_T_CALL };
	uint64_t sp = 0, tmp, prev_sp = u->sp;
	int prev_rg = region_of(u, u->sp, 8);
	struct stk_orc o;
	bool indirect = false;

	if (u->done)
		return false;
	if (user_regs(u))
		goto the_end;
	if (stk_orc_find(u->ctx, u->s, u->signal ? u->ip : u->ip - 1, &o) <= 0) {
		o = fp;
		u->error = true;
		u->guessed = true;
	} else if (u->s->lay.has_end) {
		if (o.sp_reg == ORC_REG_UNDEFINED) {
			if (!o.end)
				goto err;
			goto the_end;
		}
	} else {
		if (o.type == ORC_T_UNDEFINED)
			goto err;
		if (o.type == ORC_T_END_OF_STACK)
			goto the_end;
	}
	/* 6.3+ says which entries are signal frames; before, every regs frame was one. */
	u->signal = o.has_signal ? o.signal : o.type != ORC_T_CALL;

	switch (o.sp_reg) {
	case ORC_REG_SP:
		sp = u->sp + (uint64_t)(int64_t)o.sp_offset;
		break;
	case ORC_REG_BP:
		sp = u->bp + (uint64_t)(int64_t)o.sp_offset;
		break;
	case ORC_REG_SP_INDIRECT:
		sp = u->sp;
		indirect = true;
		break;
	case ORC_REG_BP_INDIRECT:
		sp = u->bp + (uint64_t)(int64_t)o.sp_offset;
		indirect = true;
		break;
	case ORC_REG_R10:
		if (!get_reg(u, PT_R10, &sp))
			goto err;
		break;
	case ORC_REG_R13:
		if (!get_reg(u, PT_R13, &sp))
			goto err;
		break;
	case ORC_REG_DI:
		if (!get_reg(u, PT_DI, &sp))
			goto err;
		break;
	case ORC_REG_DX:
		if (!get_reg(u, PT_DX, &sp))
			goto err;
		break;
	default:
		goto err;
	}
	if (indirect) {
		if (!deref(u, sp, &sp))
			goto err;
		if (o.sp_reg == ORC_REG_SP_INDIRECT)
			sp += (uint64_t)(int64_t)o.sp_offset;
	}
	/* The vCPU's registers were the interrupted frame's; the step below leaves it, as the
	 * kernel's state->regs does. */
	u->vregs = NULL;

	switch (o.type) {
	case ORC_T_CALL:
		if (!deref(u, sp - 8, &u->ip))
			goto err;
		u->sp = sp;
		u->regs = 0;
		u->prev_regs = 0;
		break;
	case ORC_T_REGS:
		if (!on_stack(u, sp, PT_REGS_SIZE) || !deref(u, sp + PT_IP, &u->ip) ||
		    !deref(u, sp + PT_SP, &u->sp))
			goto err;
		u->regs = sp;
		u->prev_regs = 0;
		u->full_regs = true;
		break;
	case ORC_T_REGS_PARTIAL:
		if (!on_stack(u, sp, IRET_FRAME_SIZE) || !deref(u, sp, &u->ip) ||
		    !deref(u, sp + 24, &u->sp))
			goto err;
		if (u->full_regs)
			u->prev_regs = u->regs;
		u->regs = sp - PT_IP;
		u->full_regs = false;
		break;
	default:
		goto err;
	}

	switch (o.bp_reg) {
	case ORC_REG_UNDEFINED:
		if (get_reg(u, PT_BP, &tmp))
			u->bp = tmp;
		break;
	case ORC_REG_PREV_SP:
		if (!deref(u, sp + (uint64_t)(int64_t)o.bp_offset, &u->bp))
			goto err;
		break;
	case ORC_REG_BP:
		if (!deref(u, u->bp + (uint64_t)(int64_t)o.bp_offset, &u->bp))
			goto err;
		break;
	default:
		goto err;
	}

	/* A loop through bad data: on one stack, it must grow. */
	if (prev_rg >= 0 && region_of(u, u->sp, 8) == prev_rg && u->sp <= prev_sp)
		goto err;
	return true;
err:
	finish(u, true);
	return false;
the_end:
	finish(u, false);
	return false;
}

int stk_read_u64(struct nfm_ctx *ctx, uint64_t task, int32_t off, uint64_t *v)
{
	if (off < 0)
		return -ENOENT;
	return nfm_kread_u64(ctx, task + (uint64_t)off, v);
}

int stk_read_u32(struct nfm_ctx *ctx, uint64_t task, int32_t off, uint32_t *v)
{
	if (off < 0)
		return -ENOENT;
	return nfm_kread_u32(ctx, task + (uint64_t)off, v);
}

/*
 * Read a whole stack's bytes past the crawl cache, in one batched read (its pages translated
 * first): a running task's stack and its CPU's IRQ stack are read whole, once, and keeping
 * them would only evict what the walks share.
 */
int stk_read_stack(struct nfm_ctx *ctx, uint64_t va, uint8_t *buf, size_t len)
{
	struct nfm_phys_iov iov[16];
	size_t n = 0, done = 0;
	int err;

	while (done < len) {
		uint64_t pa, at = va + done;
		size_t k = 4096 - (size_t)(at & 4095);

		if (k > len - done)
			k = len - done;
		err = nfm_mmu_kva_to_pa(ctx->mmu, at, &pa);
		if (err < 0)
			return err;
		iov[n++] = (struct nfm_phys_iov){ .pa = pa, .buf = buf + done, .len = k };
		done += k;
		if (n == sizeof(iov) / sizeof(iov[0]) || done == len) {
			err = nfm_source_read_phys_vec(ctx->src, iov, n);
			for (size_t i = 0; !err && i < n; i++)
				err = iov[i].err;
			if (err)
				return err < 0 ? err : -EIO;
			n = 0;
		}
	}
	return 0;
}

/* exact: name ip itself (an interrupted instruction, not a return address). */
static void symbolize(struct nfm_ctx *ctx, struct stk_state *s, struct nfm_stack_frame *f,
		      bool exact)
{
	const char *name = NULL, *mod = NULL;
	uint64_t off = 0, at = exact ? f->ip : f->ip - 1;

	f->symbol = NULL;
	f->module = NULL;
	f->offset = f->size = 0;
	/* %pB looks up ip - 1: a call that ends a function (to a noreturn one) is still in it. */
	if (nfm_sym_symbolize_module(ctx, at, &name, NULL, &off, &mod) < 0 || !name)
		return;
	f->symbol = name;
	f->module = mod;
	f->offset = off + (at != f->ip);
	f->size = stk_symbol_size(ctx, s, at - off, mod);
}

int stk_unwind(struct nfm_ctx *ctx, struct stk_state *s, const struct stk_region *rg, size_t nrg,
	       const struct stk_start *st, struct nfm_stack_frame *frames, size_t max,
	       unsigned int *flags)
{
	struct ustate u = { .ctx = ctx, .s = s, .rg = rg, .nrg = nrg, .vregs = st->regs,
			    .ip = st->ip, .sp = st->sp, .bp = st->bp, .signal = st->signal };
	unsigned int steps = 0;
	size_t n = 0;

	for (; !u.done; next_frame(&u)) {
		uint64_t addr;

		if (++steps > MAX_STEPS) {
			*flags |= NFM_STACK_ERROR | NFM_STACK_TRUNCATED;
			break;
		}
		addr = return_address(&u);
		if (!addr) {
			/* From registers, a stack that runs off into a non-text address before
			 * its end is torn (a live CPU moved on between its registers and its
			 * stack's read) or corrupt: not a whole stack. */
			if (!u.done && st->regs && !user_regs(&u))
				*flags |= NFM_STACK_ERROR;
			break;
		}
		if (st->nosched && in_sched(s, addr))
			continue;
		if (n >= max || n >= NFM_STACK_MAX_FRAMES) {
			*flags |= NFM_STACK_TRUNCATED;
			break;
		}
		frames[n].ip = addr;
		frames[n].sp = u.sp;
		symbolize(ctx, s, &frames[n], steps == 1 && st->regs);
		n++;
	}
	if (u.error)
		*flags |= NFM_STACK_ERROR;
	if (u.guessed)
		*flags |= NFM_STACK_GUESSED;
	return (int)n;
}

int stk_task_stack(struct nfm_ctx *ctx, struct stk_state *s, const struct nfm_task *t,
		   uint64_t *lo, unsigned int *flags)
{
	uint64_t stack, refs;
	uint32_t rc;
	int err = stk_read_u64(ctx, t->addr, s->t_stack, &stack);

	if (err < 0)
		return err;
	/* try_get_task_stack(): an exited task's stack is released. */
	if (s->t_refcount >= 0 && stk_read_u32(ctx, t->addr, s->t_refcount, &rc) == 0)
		refs = rc;
	else
		refs = 1;
	if (!stack || !refs) {
		*flags |= NFM_STACK_NO_STACK;
		return 0;
	}
	if ((stack & 0xfff) || stack + s->thread_size < stack) {
		*flags |= NFM_STACK_ERROR;
		return 0;
	}
	*lo = stack;
	return 1;
}

/*
 * arm64: the saved context's pc and frame records over the whole stack, the scheduler's and
 * locks' frames left out as stack_trace_save_tsk() leaves them out.
 */
static int walk_arm64(struct nfm_ctx *ctx, struct stk_state *s, uint64_t lo,
		      const struct nfm_task *t, struct nfm_stack_frame *frames, size_t max,
		      unsigned int *flags)
{
	uint64_t pcs[NFM_STACK_MAX_FRAMES * 2], fp, pc, final = 0;
	struct stk_region rg = { .lo = lo, .hi = lo + s->thread_size };
	uint8_t *buf;
	size_t n, k = 0;
	int err;

	if ((err = stk_read_u64(ctx, t->addr, s->t_ctx_fp, &fp)) < 0 ||
	    (err = stk_read_u64(ctx, t->addr, s->t_ctx_pc, &pc)) < 0)
		return err;
	buf = malloc(s->thread_size);
	if (!buf)
		return -ENOMEM;
	if (nfm_kread(ctx, lo, buf, s->thread_size) < 0) {
		free(buf);
		*flags |= NFM_STACK_ERROR;
		return 0;
	}
	rg.buf = buf;
	/* task_pt_regs(): the pt_regs at the stack's top, its stackframe the final record */
	if (s->pt_stackframe >= 0)
		final = rg.hi - s->pt_regs_size + (uint64_t)s->pt_stackframe;
	n = stk_fp_walk(&rg, fp, pc, final, s->va_bits, pcs, sizeof(pcs) / sizeof(pcs[0]), flags);
	free(buf);
	for (size_t i = 0; i < n; i++) {
		if (in_sched(s, pcs[i]))
			continue;
		if (k >= max || k >= NFM_STACK_MAX_FRAMES) {
			*flags |= NFM_STACK_TRUNCATED;
			break;
		}
		frames[k].ip = pcs[i];
		frames[k].sp = 0;	/* a frame record holds no stack pointer */
		symbolize(ctx, s, &frames[k], false);
		k++;
	}
	return (int)k;
}

/* A sleeping task's stack, from its saved frame, as nfm_task_stack() says. */
static int walk(struct nfm_ctx *ctx, const struct nfm_task *t, struct nfm_stack_frame *frames,
		size_t max, unsigned int *flags)
{
	struct stk_state *s;
	struct stk_region rg;
	struct stk_start st = { .nosched = true };
	uint64_t lo = 0, hi, tsp, fbp, fret;
	uint32_t on_cpu = 0;
	uint8_t *buf = NULL;
	int err, n;

	*flags = 0;
	err = stk_state_get(ctx, &s);
	if (err == 0)
		err = stk_tables_get(ctx, s);
	if (err < 0)
		return err;
	s->mods_fresh = false;
	if (!t || !t->addr)
		return -EINVAL;
	if (stk_read_u32(ctx, t->addr, s->t_on_cpu, &on_cpu) == 0 && on_cpu) {
		/* The kernel refuses to unwind a task on another CPU (task_on_another_cpu()). */
		*flags |= NFM_STACK_RUNNING;
		return 0;
	}
	err = stk_task_stack(ctx, s, t, &lo, flags);
	if (err <= 0)
		return err;
	if (s->arm64)
		return walk_arm64(ctx, s, lo, t, frames, max, flags);
	err = stk_read_u64(ctx, t->addr, s->t_thread_sp, &tsp);
	if (err < 0)
		return err;
	hi = lo + s->thread_size;
	if (tsp < lo || tsp >= hi || tsp + (uint64_t)s->f_size > hi || (tsp & 7)) {
		*flags |= NFM_STACK_ERROR;
		return 0;
	}
	/* Only the part above the saved frame is ever read by the walk. */
	buf = malloc(hi - tsp);
	if (!buf)
		return -ENOMEM;
	if (nfm_kread(ctx, tsp, buf, hi - tsp) < 0) {
		free(buf);
		*flags |= NFM_STACK_ERROR;
		return 0;
	}
	rg = (struct stk_region){ .lo = tsp, .hi = hi, .buf = buf };
	memcpy(&fbp, buf + s->f_bp, 8);
	memcpy(&fret, buf + s->f_ret, 8);
	st.sp = tsp + (uint64_t)s->f_size;
	st.bp = fbp;
	st.ip = fret;
	st.signal = fret && (fret == s->ret_from_fork[0] || fret == s->ret_from_fork[1]);
	n = stk_unwind(ctx, s, &rg, 1, &st, frames, max, flags);
	free(buf);
	return n;
}

int nfm_task_stack(struct nfm_ctx *ctx, const struct nfm_task *t, struct nfm_stack_frame *frames,
		   size_t max, unsigned int *flags)
{
	unsigned int fl = 0;
	int r;

	if (!ctx || (max && !frames))
		return -EINVAL;
	r = walk(ctx, t, frames, max, &fl);
	if (r >= 0 && flags)
		*flags = fl;
	return r;
}

int nfm_task_cpu(struct nfm_ctx *ctx, const struct nfm_task *t, int *cpu)
{
	struct stk_state *s;
	uint32_t v;
	int err = stk_state_get(ctx, &s);

	if (err < 0)
		return err;
	if (s->t_cpu < 0)
		return -ENOENT;
	err = stk_read_u32(ctx, t->addr, s->t_cpu, &v);
	if (err < 0)
		return err;
	*cpu = (int)v;
	return 0;
}

int nfm_task_wchan(struct nfm_ctx *ctx, const struct nfm_task *t, const char **name)
{
	struct nfm_stack_frame f;
	struct stk_state *s;
	uint32_t state = 0, on_rq = 0;
	unsigned int fl;
	uint64_t off;
	int r;

	r = stk_state_get(ctx, &s);
	if (r < 0)
		return r;
	*name = NULL;
	/* get_wchan(): only a blocked task (not running, not waking, not queued). */
	if (stk_read_u32(ctx, t->addr, s->t_state, &state) < 0 ||
	    state == 0 || state == 0x200 /* TASK_WAKING */)
		return 0;
	if (stk_read_u32(ctx, t->addr, s->t_on_rq, &on_rq) == 0 && on_rq)
		return 0;
	r = nfm_task_stack(ctx, t, &f, 1, &fl);
	if (r <= 0)
		return r;
	/* /proc/PID/wchan names the symbol at the address itself (lookup_symbol_name()). */
	if (nfm_sym_symbolize_module(ctx, f.ip, name, NULL, &off, NULL) < 0)
		*name = NULL;
	return 0;
}

size_t nfm_stack_frame_format(const struct nfm_stack_frame *f, char *buf, size_t size)
{
	int n;

	if (!f->symbol)
		n = snprintf(buf, size, "0x%" PRIx64, f->ip);
	else
		n = snprintf(buf, size, "%s+0x%" PRIx64 "/0x%" PRIx64 "%s%s%s", f->symbol, f->offset,
			     f->size, f->module ? " [" : "", f->module ? f->module : "",
			     f->module ? "]" : "");
	return n < 0 ? 0 : (size_t)n;
}
