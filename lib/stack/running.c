// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A task running on a CPU has no saved frame: it is unwound from its vCPU's registers (a live
 * QEMU's monitor, `info registers -a`; an ELF dump's per-CPU notes), the way the kernel's oops
 * handler unwinds from a struct pt_regs. The vCPU is the one whose GS base is the CPU's per-CPU
 * offset (the kernel's gs base in kernel mode), so QEMU's CPU numbering need not be Linux's; the
 * registers must show that CPU running this very task (its current_task) with a stack pointer
 * inside the task's stack, the CPU's IRQ stack or one of its exception stacks (an NMI's), else
 * the stack is an error, not a guess.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/nfm.h>
#include <nfm/stack.h>
#include <nfm/task.h>

#include "core/context.h"
#include "source/source.h"
#include "stack/stack.h"
#include "walk/percpu.h"

/* struct pt_regs on x86-64, in words. */
enum { PR_R15, PR_R14, PR_R13, PR_R12, PR_BP, PR_BX, PR_R11, PR_R10, PR_R9, PR_R8, PR_AX, PR_CX,
       PR_DX, PR_SI, PR_DI, PR_ORIG_AX, PR_IP, PR_CS, PR_FLAGS, PR_SP, PR_SS, PR_WORDS };

static void to_pt_regs(const struct nfm_cpu_state *c, uint64_t *r)
{
	static const int8_t map[16] = {
		[NFM_GPR_AX] = PR_AX, [NFM_GPR_BX] = PR_BX, [NFM_GPR_CX] = PR_CX,
		[NFM_GPR_DX] = PR_DX, [NFM_GPR_SI] = PR_SI, [NFM_GPR_DI] = PR_DI,
		[NFM_GPR_SP] = PR_SP, [NFM_GPR_BP] = PR_BP, [NFM_GPR_R8] = PR_R8,
		[NFM_GPR_R9] = PR_R9, [NFM_GPR_R10] = PR_R10, [NFM_GPR_R11] = PR_R11,
		[NFM_GPR_R12] = PR_R12, [NFM_GPR_R13] = PR_R13, [NFM_GPR_R14] = PR_R14,
		[NFM_GPR_R15] = PR_R15,
	};

	memset(r, 0, PR_WORDS * 8);
	for (int i = 0; i < 16; i++)
		r[map[i]] = c->gpr[i];
	r[PR_IP] = c->rip;
	r[PR_CS] = c->cs;
	r[PR_FLAGS] = c->rflags;
}

/* A per-CPU variable of x86's: its own symbol, or a member of pcpu_hot (6.2 to 6.14). */
static int percpu_var(struct nfm_ctx *ctx, const char *name, uint64_t *addr)
{
	struct nfm_field f;
	uint64_t hot;
	char path[64];

	if (nfm_sym_lookup(ctx, name, addr, NULL) == 0)
		return 0;
	snprintf(path, sizeof(path), "%s", name);
	if (nfm_sym_lookup(ctx, "pcpu_hot", &hot, NULL) < 0 ||
	    nfm_btf_field(ctx->btf, "pcpu_hot", path, &f) < 0)
		return -ENOENT;
	*addr = hot + f.offset;
	return 0;
}

/*
 * The CPU's IRQ stack: hardirq_stack_ptr points at its topmost word since 5.12 ("x86/irq/64:
 * Adjust the per CPU irq stack pointer by 8"), at its end before (5.10: page-aligned; the word
 * above is the vmap guard page, which a read of the region would fail on). 1 and *r, 0 if
 * unknown.
 */
static int irq_stack(struct nfm_ctx *ctx, uint64_t pcpu, struct stk_region *r)
{
	uint64_t var, top;
	uint32_t size = 0;

	if (percpu_var(ctx, "hardirq_stack_ptr", &var) < 0 ||
	    nfm_kread_u64(ctx, var + pcpu, &top) < 0 || !top || (top & 7))
		return 0;
	if (nfm_btf_type_size(ctx->btf, "irq_stack", &size) < 0 || size < 4096 || size > (1u << 20))
		size = 16384;
	if (top & 4095)
		top += 8;
	if (top < size)
		return 0;
	r->lo = top - size;
	r->hi = top;
	return 1;
}

/*
 * The CPU's exception stack holding sp (NMI, #DB, #MC, #DF, #VC: struct cea_exception_stacks in
 * the cpu_entry_area, each stack between guard pages; the per-CPU cea_exception_stacks points
 * at it): 1 and *r, 0 when sp is on none of them.
 */
static int exception_stack(struct nfm_ctx *ctx, uint64_t pcpu, uint64_t sp, struct stk_region *r)
{
	static const char *const names[] = { "NMI_stack", "DB_stack", "MCE_stack", "DF_stack",
					      "VC_stack", "VC2_stack" };
	uint64_t var, base;
	struct nfm_field f;

	if (percpu_var(ctx, "cea_exception_stacks", &var) < 0 ||
	    nfm_kread_u64(ctx, var + pcpu, &base) < 0 || !base || (base & 4095))
		return 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (nfm_btf_field(ctx->btf, "cea_exception_stacks", names[i], &f) < 0 ||
		    f.size < 4096 || f.size > (1u << 16) || base + f.offset < base)
			continue;
		if (sp >= base + f.offset && sp < base + f.offset + f.size) {
			r->lo = base + f.offset;
			r->hi = r->lo + f.size;
			return 1;
		}
	}
	return 0;
}

/* Read a region's bytes (buf owned by the caller). */
static int fill(struct nfm_ctx *ctx, struct stk_region *r, uint8_t **buf)
{
	*buf = malloc(r->hi - r->lo);
	if (!*buf)
		return -ENOMEM;
	if (stk_read_stack(ctx, r->lo, *buf, r->hi - r->lo) < 0) {
		free(*buf);
		*buf = NULL;
		return -EFAULT;
	}
	r->buf = *buf;
	return 0;
}

static bool on_regions(const struct stk_region *rg, size_t nrg, uint64_t sp)
{
	for (size_t i = 0; i < nrg; i++)
		if (sp >= rg[i].lo && sp < rg[i].hi)
			return true;
	return false;
}

/* Which vCPU is Linux CPU cpu (its per-CPU offset pcpu): -1 when none says so. */
static int vcpu_of(const struct nfm_cpu_state *v, size_t nv, int cpu, uint64_t pcpu)
{
	for (size_t i = 0; i < nv; i++)
		if (!(v[i].cs & 3) && v[i].gs_base == pcpu)
			return (int)i;
	/* in user mode GS holds the user's base: QEMU's index, when it is in user mode too */
	if (cpu >= 0 && (size_t)cpu < nv && (v[cpu].cs & 3))
		return cpu;
	return -1;
}

/*
 * One look: the vCPUs' registers, then the stacks their sp may be on, then the unwind. n frames,
 * *fl's flags, or -errno (-ESRCH: the CPU runs another task now).
 */
static int look(struct nfm_ctx *ctx, struct stk_state *s, const struct nfm_task *t, int cpu,
		uint64_t pcpu, struct nfm_stack_frame *frames, size_t max, unsigned int *fl)
{
	struct nfm_cpu_state *v = NULL;
	struct stk_region rg[3];
	struct stk_start st = { .signal = true };
	uint64_t cur_var, cur = 0, lo = 0, regs[PR_WORDS];
	uint8_t *bufs[3] = { NULL, NULL, NULL };
	size_t nv = 0, nrg = 0;
	int err, vi, n = 0;

	*fl = NFM_STACK_RUNNING | NFM_STACK_REGS;
	err = nfm_source_cpu_regs(ctx->src, &v, &nv);
	if (err < 0)
		return err;
	vi = vcpu_of(v, nv, cpu, pcpu);
	if (vi < 0 || !v[vi].has_gprs) {
		*fl |= NFM_STACK_ERROR;	/* no vCPU is that CPU in kernel mode, nor in user mode */
		goto done;
	}
	if (v[vi].cs & 3) {
		*fl |= NFM_STACK_USER;
		goto done;
	}
	/* The registers must be this task's: the CPU's current task (a live guest moves on). */
	if (percpu_var(ctx, "current_task", &cur_var) == 0 &&
	    (nfm_kread_u64(ctx, cur_var + pcpu, &cur) < 0 || cur != t->addr)) {
		err = -ESRCH;
		goto out;
	}
	err = stk_task_stack(ctx, s, t, &lo, fl);
	if (err < 0)
		goto out;
	if (!err)
		goto done;
	rg[nrg] = (struct stk_region){ .lo = lo, .hi = lo + s->thread_size };
	if (fill(ctx, &rg[nrg], &bufs[nrg]) == 0)
		nrg++;
	if (irq_stack(ctx, pcpu, &rg[nrg]) && fill(ctx, &rg[nrg], &bufs[nrg]) == 0)
		nrg++;
	to_pt_regs(&v[vi], regs);
	st.ip = regs[PR_IP];
	st.sp = regs[PR_SP];
	st.bp = regs[PR_BP];
	st.regs = regs;
	/* In an NMI or another exception: its stack too, from which the pt_regs it saved lead
	 * back to the IRQ or task stack. */
	if (exception_stack(ctx, pcpu, st.sp, &rg[nrg]) && fill(ctx, &rg[nrg], &bufs[nrg]) == 0)
		nrg++;
	/* A stack not read, or sp on none of them: not followed. */
	if (!on_regions(rg, nrg, st.sp)) {
		*fl |= NFM_STACK_ERROR;
		goto done;
	}
	n = stk_unwind(ctx, s, rg, nrg, &st, frames, max, fl);
done:
	err = n;
out:
	for (size_t i = 0; i < 3; i++)
		free(bufs[i]);
	free(v);
	return err;
}

/* Looks at a live CPU whose unwind broke, at most: its registers are read a moment before its
 * stacks, and a CPU in an interrupt handler may have left the frames they point at by then. */
#define LIVE_LOOKS 4

int nfm_task_stack_running(struct nfm_ctx *ctx, const struct nfm_task *t,
			   struct nfm_stack_frame *frames, size_t max, unsigned int *flags,
			   int *cpu_ret)
{
	struct stk_state *s;
	uint64_t *offs = NULL;
	uint32_t on_cpu = 0, c32;
	unsigned int fl = 0;
	int err, cpu, ncpu;

	if (!ctx || !t || !t->addr || (max && !frames))
		return -EINVAL;
	err = stk_state_get(ctx, &s);
	if (err == 0)
		err = stk_tables_get(ctx, s);
	if (err < 0)
		return err;
	if (s->arm64)
		return -EOPNOTSUPP;	/* the vCPU registers the sources give are x86-64's */
	s->mods_fresh = false;
	if (stk_read_u32(ctx, t->addr, s->t_on_cpu, &on_cpu) < 0 || !on_cpu)
		return -EAGAIN;
	err = stk_read_u32(ctx, t->addr, s->t_cpu, &c32);
	if (err < 0)
		return err;
	cpu = (int)c32;
	if (cpu_ret)
		*cpu_ret = cpu;
	offs = malloc(NFM_MAX_CPUS * sizeof(*offs));
	if (!offs)
		return -ENOMEM;
	ncpu = nfm_percpu_offsets(ctx, 0, offs, NFM_MAX_CPUS);
	if (ncpu < 0 || cpu >= ncpu) {
		free(offs);
		return ncpu < 0 ? ncpu : -ERANGE;
	}
	for (int i = 0; i < LIVE_LOOKS; i++) {
		err = look(ctx, s, t, cpu, offs[cpu], frames, max, &fl);
		if (err < 0 || !(fl & NFM_STACK_ERROR) || !nfm_source_is_live(ctx->src))
			break;
	}
	free(offs);
	if (err >= 0 && flags)
		*flags = fl;
	return err;
}
