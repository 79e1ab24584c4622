/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Kernel stacks of the guest's tasks from guest memory alone: the x86-64 ORC unwind tables the
 * kernel keeps in memory (the core image's and every module's), walked the way the kernel's own
 * unwinder (arch/x86/kernel/unwind_orc.c) walks them for /proc/PID/stack, and symbolized as
 * /proc/PID/stack prints them ("function+0xoff/0xlen [module]").
 *
 * What /proc/PID/stack shows is reproduced: frames in the scheduler and lock text are left out
 * (stack_trace_save_tsk()'s "nosched" filter), at most 64 frames are kept (the kernel's
 * MAX_STACK_TRACE_DEPTH), a task running on a CPU has no stack (the kernel refuses to unwind it),
 * and the walk stops where the kernel's would: at the end of the stack, at a user-mode frame, or
 * at the first frame that does not check out.
 *
 * The guest is hostile: every stack pointer must stay inside the task's stack and grow strictly,
 * every return address must be kernel or module text, and the walk is bounded; bad data gives a
 * truncated stack and a flag, never a hang.
 */
#ifndef NFM_STACK_H
#define NFM_STACK_H

#include <stddef.h>
#include <stdint.h>

#include <nfm/nfm.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nfm_ctx;
struct nfm_task;

/* The kernel's MAX_STACK_TRACE_DEPTH for /proc/PID/stack. */
#define NFM_STACK_MAX_FRAMES 64

/* One return address of a stack, symbolized. */
struct nfm_stack_frame {
	uint64_t ip;		/* the address /proc/PID/stack prints (a return address) */
	uint64_t sp;		/* the stack pointer of the frame it returns into (0 on arm64) */
	/* The function holding ip as %pB finds it (the symbol of ip - 1, so that a call at the
	 * very end of a function names that function): name owned by the context (valid until
	 * nfm_ctx_free(), for module symbols until a module is loaded), NULL when no symbol
	 * holds it. offset = ip - start; size = the symbol's length as kallsyms computes it. */
	const char *symbol;
	uint64_t offset, size;
	const char *module;	/* the module's name (owned by the context); NULL: core kernel */
};

/* Flags of a stack (nfm_task_stack() *flags). */
#define NFM_STACK_TRUNCATED	0x01u	/* more frames than max (or than NFM_STACK_MAX_FRAMES) */
#define NFM_STACK_ERROR		0x02u	/* the walk stopped at a frame that did not check out */
#define NFM_STACK_RUNNING	0x04u	/* on a CPU: no saved frame to start from (no frames) */
#define NFM_STACK_NO_STACK	0x08u	/* the task's stack is gone (an exited task): no frames */
#define NFM_STACK_GUESSED	0x10u	/* an address without ORC data: a frame-pointer guess */
#define NFM_STACK_REGS		0x20u	/* unwound from the vCPU's registers (a running task) */
#define NFM_STACK_USER		0x40u	/* the vCPU runs the task in user mode: no kernel frames */

/*
 * The kernel stack of task t (a thread from <nfm/task.h>'s iterator with NFM_TASK_THREADS, or
 * a process: its leader), as the guest's /proc/PID/stack would list it: up to max frames into
 * frames[] (frames may be NULL when max is 0), innermost first. *flags (may be NULL) gets
 * NFM_STACK_*. Returns the number of frames stored, or -ENOENT (no ORC tables or types: not an
 * x86-64 ORC kernel), -EFAULT/-EIO (the task itself does not read), -EBADMSG (not a task).
 * A walk that goes bad stops with the frames found so far and NFM_STACK_ERROR.
 */
NFM_EXPORT int nfm_task_stack(struct nfm_ctx *ctx, const struct nfm_task *t,
			      struct nfm_stack_frame *frames, size_t max, unsigned int *flags);

/*
 * The stack of a task running on a CPU (nfm_task_stack() said NFM_STACK_RUNNING), unwound from
 * that vCPU's registers: a live QEMU's (through its QMP socket, read now) or an ELF dump's CPU
 * notes. The first frame is the interrupted instruction itself (symbolized at ip, as an oops's
 * RIP), the rest return addresses; scheduler frames are kept. The vCPU must be running this
 * task (the CPU's current task, else -ESRCH) with its stack pointer in the task's stack or the
 * CPU's IRQ stack, else no frames and NFM_STACK_ERROR. *flags gets NFM_STACK_RUNNING | NFM_STACK_REGS and
 * NFM_STACK_USER when the task is in user mode (no frames); *cpu (may be NULL) the CPU.
 * Returns the frame count, -EAGAIN when t is not on a CPU, -ESRCH when the CPU runs another task
 * by the time its registers are read (a live guest moved on), -EOPNOTSUPP when the source has no
 * registers (no QMP socket, a raw image), or the errors of nfm_task_stack().
 */
NFM_EXPORT int nfm_task_stack_running(struct nfm_ctx *ctx, const struct nfm_task *t,
				      struct nfm_stack_frame *frames, size_t max,
				      unsigned int *flags, int *cpu);

/*
 * The CPU a running task is on (task->cpu / thread_info.cpu): 0 and *cpu, -ENOENT when the
 * kernel has no such member.
 */
NFM_EXPORT int nfm_task_cpu(struct nfm_ctx *ctx, const struct nfm_task *t, int *cpu);

/*
 * WCHAN, as /proc/PID/wchan shows it: the name of the function a blocked task waits in (the
 * first frame of its stack outside the scheduler). *name (owned by the context, as a frame's
 * symbol) is NULL when the kernel would print "0": the task is running or runnable, or its
 * stack gives nothing. 0, or the errors of nfm_task_stack().
 */
NFM_EXPORT int nfm_task_wchan(struct nfm_ctx *ctx, const struct nfm_task *t, const char **name);

/*
 * The /proc/PID/stack text of f without its "[<0>] " prefix: "function+0xoff/0xlen" and
 * " [module]" for a module, or "0x<ip>" when no symbol holds it. Writes at most size bytes
 * (NUL-terminated when size > 0); returns the length of the full text.
 */
NFM_EXPORT size_t nfm_stack_frame_format(const struct nfm_stack_frame *f, char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif
