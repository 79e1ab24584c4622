// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The unwinder: a sleeping task's stack from its saved frame (thread.sp -> struct
 * inactive_task_frame), walked with the ORC tables step by step as the kernel's
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
	uint64_t lo, hi;		/* the task's stack: [lo, hi) */
	const uint8_t *buf;		/* its bytes from buf_lo to hi */
	uint64_t buf_lo;
	uint64_t ip, sp, bp;
	uint64_t regs, prev_regs;	/* struct pt_regs on the stack, 0: none */
	bool full_regs, signal, done, error, guessed;
};

static bool on_stack(const struct ustate *u, uint64_t addr, uint64_t len)
{
	return addr >= u->buf_lo && addr + len > addr && addr + len <= u->hi;
}

static bool deref(const struct ustate *u, uint64_t addr, uint64_t *val)
{
	if (!on_stack(u, addr, 8))
		return false;
	memcpy(val, u->buf + (addr - u->buf_lo), 8);
	return true;
}

static bool get_reg(const struct ustate *u, unsigned int off, uint64_t *val)
{
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
	uint64_t sp = 0, tmp, prev_sp = u->sp, cs;
	bool prev_on = on_stack(u, u->sp, 8);
	struct stk_orc o;
	bool indirect = false;

	if (u->done)
		return false;
	if (u->regs && deref(u, u->regs + PT_CS, &cs) && (cs & 3))
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

	/* A loop through bad data: the stack must grow. */
	if (prev_on && on_stack(u, u->sp, 8) && u->sp <= prev_sp)
		goto err;
	return true;
err:
	finish(u, true);
	return false;
the_end:
	finish(u, false);
	return false;
}

static int read_task_u64(struct nfm_ctx *ctx, uint64_t task, int32_t off, uint64_t *v)
{
	return nfm_kread_u64(ctx, task + (uint64_t)off, v);
}

static int read_task_u32(struct nfm_ctx *ctx, uint64_t task, int32_t off, uint32_t *v)
{
	if (off < 0)
		return -ENOENT;
	return nfm_kread_u32(ctx, task + (uint64_t)off, v);
}

static void symbolize(struct nfm_ctx *ctx, struct stk_state *s, struct nfm_stack_frame *f)
{
	const char *name = NULL, *mod = NULL;
	uint64_t off = 0;

	f->symbol = NULL;
	f->module = NULL;
	f->offset = f->size = 0;
	/* %pB looks up ip - 1: a call that ends a function (to a noreturn one) is still in it. */
	if (nfm_sym_symbolize_module(ctx, f->ip - 1, &name, NULL, &off, &mod) < 0 || !name)
		return;
	f->symbol = name;
	f->module = mod;
	f->offset = off + 1;
	f->size = stk_symbol_size(ctx, s, f->ip - 1 - off, mod);
}

/*
 * The walk. sched: keep frames in the scheduler (for tests and wchan's own filter); the flags
 * and the frame count as nfm_task_stack() says.
 */
static int walk(struct nfm_ctx *ctx, const struct nfm_task *t, struct nfm_stack_frame *frames,
		size_t max, unsigned int *flags)
{
	struct stk_state *s;
	struct ustate u = { .ctx = ctx };
	uint64_t stack, tsp, refs = 0, fbp, fret;
	uint32_t on_cpu = 0, rc;
	uint8_t *buf = NULL;
	size_t n = 0;
	unsigned int steps = 0;
	int err;

	*flags = 0;
	err = stk_state_get(ctx, &s);
	if (err < 0)
		return err;
	s->mods_fresh = false;
	u.s = s;
	if (!t || !t->addr)
		return -EINVAL;
	if (read_task_u32(ctx, t->addr, s->t_on_cpu, &on_cpu) == 0 && on_cpu) {
		/* The kernel refuses to unwind a task on another CPU (task_on_another_cpu()). */
		*flags |= NFM_STACK_RUNNING;
		return 0;
	}
	err = read_task_u64(ctx, t->addr, s->t_stack, &stack);
	if (err < 0)
		return err;
	/* try_get_task_stack(): an exited task's stack is released. */
	if (s->t_refcount >= 0 && read_task_u32(ctx, t->addr, s->t_refcount, &rc) == 0)
		refs = rc;
	else
		refs = 1;
	if (!stack || !refs) {
		*flags |= NFM_STACK_NO_STACK;
		return 0;
	}
	err = read_task_u64(ctx, t->addr, s->t_thread_sp, &tsp);
	if (err < 0)
		return err;
	u.lo = stack;
	u.hi = stack + s->thread_size;
	if ((stack & 0xfff) || u.hi < u.lo || tsp < u.lo || tsp >= u.hi ||
	    tsp + (uint64_t)s->f_size > u.hi || (tsp & 7)) {
		*flags |= NFM_STACK_ERROR;
		return 0;
	}
	/* Only the part above the saved frame is ever read by the walk. */
	u.buf_lo = tsp;
	buf = malloc(u.hi - tsp);
	if (!buf)
		return -ENOMEM;
	if (nfm_kread(ctx, tsp, buf, u.hi - tsp) < 0) {
		free(buf);
		*flags |= NFM_STACK_ERROR;
		return 0;
	}
	u.buf = buf;
	memcpy(&fbp, buf + s->f_bp, 8);
	memcpy(&fret, buf + s->f_ret, 8);
	u.sp = tsp + (uint64_t)s->f_size;
	u.bp = fbp;
	u.ip = fret;
	u.signal = fret && (fret == s->ret_from_fork[0] || fret == s->ret_from_fork[1]);

	for (; !u.done; next_frame(&u)) {
		uint64_t addr;

		if (++steps > MAX_STEPS) {
			*flags |= NFM_STACK_ERROR | NFM_STACK_TRUNCATED;
			break;
		}
		addr = return_address(&u);
		if (!addr)
			break;
		if (in_sched(s, addr))
			continue;
		if (n >= max || n >= NFM_STACK_MAX_FRAMES) {
			*flags |= NFM_STACK_TRUNCATED;
			break;
		}
		frames[n].ip = addr;
		frames[n].sp = u.sp;
		symbolize(ctx, s, &frames[n]);
		n++;
	}
	if (u.error)
		*flags |= NFM_STACK_ERROR;
	if (u.guessed)
		*flags |= NFM_STACK_GUESSED;
	free(buf);
	return (int)n;
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
	err = read_task_u32(ctx, t->addr, s->t_cpu, &v);
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
	if (read_task_u32(ctx, t->addr, s->t_state, &state) < 0 ||
	    state == 0 || state == 0x200 /* TASK_WAKING */)
		return 0;
	if (read_task_u32(ctx, t->addr, s->t_on_rq, &on_rq) == 0 && on_rq)
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
