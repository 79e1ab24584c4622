// SPDX-License-Identifier: GPL-2.0
/*
 * hookpatch: the lab's livepatch hook. A livepatch replaces __x64_sys_sysfs (the obsolete
 * sysfs(2), which nothing in the lab calls) with a function of this module, the way a rootkit
 * can ride the kernel's own live-patching: the ftrace handler is the core's klp_ftrace_handler,
 * only the patch's klp_func names the new code. `nfm check` must follow it to this module.
 * Unloading: echo 0 > /sys/kernel/livepatch/hookpatch/enabled, then rmmod (the lab's RMMOD
 * does both).
 */
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/ptrace.h>

static unsigned long hits;

static long hookpatch_sysfs(const struct pt_regs *regs)
{
	hits++;
	return -EINVAL;
}

static struct klp_func funcs[] = {
	{ .old_name = "__x64_sys_sysfs", .new_func = hookpatch_sysfs },
	{ }
};

static struct klp_object objs[] = {
	{ .funcs = funcs },	/* name NULL: vmlinux */
	{ }
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static int __init hookpatch_init(void)
{
	return klp_enable_patch(&patch);
}

static void __exit hookpatch_exit(void)
{
}

module_init(hookpatch_init);
module_exit(hookpatch_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("nfm lab: hooks sysfs(2) through a livepatch");
