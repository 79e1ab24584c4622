// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The lab's fault module: makes a lab guest unwell in ways busybox cannot, for nfm diagnose's
 * lab tests. Never load it anywhere else.
 *
 *   a task reading /proc/nfm_faultmod sleeps uninterruptibly (D state) in nfm_faultmod_read()
 *   until the module is removed: a hung task whose stack holds a [nfm_faultmod] frame
 *   (cat /proc/nfm_faultmod &); one reading /proc/nfm_faultmod_sleep sleeps interruptibly
 *   (S state, a signal ends it) in nfm_faultmod_sleep_read(): a healthy task with that frame
 *   hangers=N   N kernel threads "nfm_hang" sleeping uninterruptibly in nfm_faultmod_hang()
 *   sleepers=N  N kernel threads "nfm_sleep" sleeping interruptibly in nfm_faultmod_sleep()
 *   oops=1      a kernel thread dereferences NULL: an oops, the kernel lives on (taint D)
 *   lockup=S    a kernel thread bound to CPU 0 spins S seconds with preemption off: a soft
 *               lockup once S exceeds twice kernel.watchdog_thresh; with a second CPU the
 *               grace-period kthread runs there, starts the next grace period and waits for
 *               CPU 0 forever: an RCU CPU stall, every time
 *   irqspin=1   an hrtimer whose callback (hard interrupt context, on the CPU's IRQ stack) never
 *               returns, 1 s after loading: a hard lockup above the interrupted task
 *   nmi=1       an NMI handler that never returns: the next NMI (QMP inject-nmi) leaves its
 *               CPU spinning on the NMI stack with every interrupt blocked, a hard lockup
 */
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/hrtimer.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/sched.h>
#include <asm/nmi.h>

static int oops;
module_param(oops, int, 0444);
MODULE_PARM_DESC(oops, "1: oops in a kernel thread");
static int lockup;
module_param(lockup, int, 0444);
MODULE_PARM_DESC(lockup, "seconds to spin with preemption disabled");

static int irqspin;
module_param(irqspin, int, 0444);
MODULE_PARM_DESC(irqspin, "1: a timer interrupt 1 s after loading never returns");
static int nmi;
module_param(nmi, int, 0444);
MODULE_PARM_DESC(nmi, "1: the next NMI never returns");

static int hangers;
module_param(hangers, int, 0444);
MODULE_PARM_DESC(hangers, "kernel threads sleeping in D state");
static int sleepers;
module_param(sleepers, int, 0444);
MODULE_PARM_DESC(sleepers, "kernel threads sleeping in S state");

static DECLARE_COMPLETION(never);
static struct proc_dir_entry *entry, *sleep_entry;

/* Sleeps in D state until the module goes (noinline: its own frame on the stack). */
static noinline ssize_t nfm_faultmod_read(struct file *f, char __user *buf, size_t len,
					  loff_t *pos)
{
	wait_for_completion(&never);
	return 0;
}

static noinline ssize_t nfm_faultmod_sleep_read(struct file *f, char __user *buf, size_t len,
						loff_t *pos)
{
	return wait_for_completion_interruptible(&never) ? -EINTR : 0;
}

static const struct proc_ops faultmod_ops = {
	.proc_read = nfm_faultmod_read,
};

static const struct proc_ops faultmod_sleep_ops = {
	.proc_read = nfm_faultmod_sleep_read,
};

static noinline int nfm_faultmod_oops(void *unused)
{
	volatile int *p = NULL;

	pr_info("nfm_faultmod: oops now\n");
	return *p;
}

static noinline int nfm_faultmod_spin(void *unused)
{
	unsigned long end = jiffies + (unsigned long)lockup * HZ;

	pr_info("nfm_faultmod: spinning %d s with preemption off\n", lockup);
	/* Real-time, so that a woken real-time kthread (an RT kernel's rcu_preempt is SCHED_FIFO)
	 * is placed on the other CPU rather than queued behind this one, which never yields. */
	sched_set_fifo(current);
	preempt_disable();
	while (time_before(jiffies, end))
		cpu_relax();
	preempt_enable();
	pr_info("nfm_faultmod: spin done\n");
	while (!kthread_should_stop())
		msleep_interruptible(1000);
	return 0;
}

static struct task_struct *spinner;

static struct hrtimer irq_timer;

/* Never returns (noinline: its own frame, on the IRQ stack, above the interrupted one). */
static noinline enum hrtimer_restart nfm_faultmod_irq(struct hrtimer *t)
{
	for (;;)
		cpu_relax();
	return HRTIMER_NORESTART;
}

/* Never returns (noinline: its own frame, on the NMI stack, above the interrupted one). */
static noinline int nfm_faultmod_nmi(unsigned int type, struct pt_regs *regs)
{
	for (;;)
		cpu_relax();
	return NMI_HANDLED;
}

/* noinline: a frame of this module on the thread's stack, where the unwinder must find it */
static noinline int nfm_faultmod_hang(void *unused)
{
	wait_for_completion(&never);
	return 0;
}

static noinline int nfm_faultmod_sleep(void *unused)
{
	while (wait_for_completion_interruptible(&never))
		;
	return 0;
}

static int __init nfm_faultmod_init(void)
{
	int i;	/* not in the for: 5.10 builds modules as gnu89 */

	entry = proc_create("nfm_faultmod", 0444, NULL, &faultmod_ops);
	sleep_entry = proc_create("nfm_faultmod_sleep", 0444, NULL, &faultmod_sleep_ops);
	if (!entry || !sleep_entry) {
		proc_remove(entry);
		proc_remove(sleep_entry);
		return -ENOMEM;
	}
	for (i = 0; i < hangers && i < 16; i++)
		kthread_run(nfm_faultmod_hang, NULL, "nfm_hang/%d", i);
	for (i = 0; i < sleepers && i < 16; i++)
		kthread_run(nfm_faultmod_sleep, NULL, "nfm_sleep/%d", i);
	if (oops)
		kthread_run(nfm_faultmod_oops, NULL, "nfm_oops");
	if (nmi)
		register_nmi_handler(NMI_LOCAL, nfm_faultmod_nmi, 0, "nfm_faultmod");
	if (irqspin) {
		hrtimer_init(&irq_timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
		irq_timer.function = nfm_faultmod_irq;
		hrtimer_start(&irq_timer, ms_to_ktime(1000), HRTIMER_MODE_REL_HARD);
	}
	if (lockup > 0) {
		spinner = kthread_create(nfm_faultmod_spin, NULL, "nfm_spin");
		if (!IS_ERR(spinner)) {
			kthread_bind(spinner, 0);
			wake_up_process(spinner);
		}
	}
	return 0;
}

static void __exit nfm_faultmod_exit(void)
{
	complete_all(&never);
	proc_remove(entry);
	proc_remove(sleep_entry);
	if (!IS_ERR_OR_NULL(spinner))
		kthread_stop(spinner);
	if (nmi)
		unregister_nmi_handler(NMI_LOCAL, "nfm_faultmod");
	if (irqspin)
		hrtimer_cancel(&irq_timer);
}

module_init(nfm_faultmod_init);
module_exit(nfm_faultmod_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("nfm lab: hangs, oopses and lockups on demand");
