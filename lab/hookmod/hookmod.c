// SPDX-License-Identifier: GPL-2.0
/*
 * hookmod: the lab's test rootkit. Loaded with mode=..., it hooks a system call the way current
 * rootkits do on kernels that dispatch through x64_sys_call (no sys_call_table to patch), so
 * that `nfm check` has each kind of hook to find:
 *   ftrace  an ftrace_ops on __x64_sys_getdents64 whose handler is in this module
 *   kprobe  a kprobe on __x64_sys_kill with pre/post handlers in this module
 *   inline  the 5-byte fentry nop at the start of __x64_sys_getdents64 becomes a call into this
 *           module (text_poke_bp, found through kallsyms_lookup_name, found through a kprobe)
 *   hidden  mode=ftrace, then the module unlinks itself from the modules list: the handler's
 *           memory then belongs to no listed module (it cannot be unloaded afterwards)
 *   idt     the int $0x80 gate of idt_table (found through kallsyms_lookup_name) points into
 *           this module instead of entry_INT80_compat; the lab runs no 32-bit program, so the
 *           gate is never taken
 * Every hook does nothing but count: the guest keeps working.
 */
#include <linux/ftrace.h>
#include <linux/kprobes.h>
#include <linux/memory.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/string.h>
#include <asm/text-patching.h>

static char *mode = "ftrace";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "ftrace, kprobe, inline, hidden or idt");

static unsigned long hits;

static void notrace hookmod_ftrace_handler(unsigned long ip, unsigned long parent_ip,
					   struct ftrace_ops *op, struct ftrace_regs *fregs)
{
	hits++;
}

static struct ftrace_ops hookmod_ops = {
	.func = hookmod_ftrace_handler,
	.flags = FTRACE_OPS_FL_RECURSION,
};

static int hookmod_pre(struct kprobe *p, struct pt_regs *regs)
{
	hits++;
	return 0;
}

static void hookmod_post(struct kprobe *p, struct pt_regs *regs, unsigned long flags)
{
	hits++;
}

static struct kprobe hookmod_kp = {
	.symbol_name = "__x64_sys_kill",
	.pre_handler = hookmod_pre,
	.post_handler = hookmod_post,
};

/* The target of the inline call: returns at once (a call to it is a no-op). */
noinline void notrace hookmod_inline_stub(void)
{
	asm volatile("");
}

static unsigned char saved[5];
static void *patched;
static void (*poke_bp)(void *addr, const void *opcode, size_t len, const void *emulate);
static struct mutex *tmutex;

static unsigned long lookup(const char *name)
{
	static unsigned long (*kln)(const char *);
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };

	if (!kln) {
		if (register_kprobe(&kp) < 0)
			return 0;
		kln = (void *)kp.addr;
		unregister_kprobe(&kp);
	}
	return kln ? kln(name) : 0;
}

static int inline_hook(void)
{
	unsigned char insn[5];
	unsigned char *addr = (void *)lookup("__x64_sys_getdents64");
	static const unsigned char nop5[5] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 };
	long rel;

	poke_bp = (void *)lookup("text_poke_bp");
	tmutex = (void *)lookup("text_mutex");
	if (!addr || !poke_bp || !tmutex)
		return -ENOENT;
	memcpy(saved, addr, 5);
	if (memcmp(saved, nop5, 5))
		return -EBUSY;	/* not the fentry nop we expect (ftrace active there?) */
	rel = (long)hookmod_inline_stub - (long)(addr + 5);
	if (rel != (int)rel)
		return -ERANGE;
	insn[0] = 0xe8;
	memcpy(insn + 1, &(int){ (int)rel }, 4);
	mutex_lock(tmutex);
	poke_bp(addr, insn, 5, NULL);
	mutex_unlock(tmutex);
	patched = addr;
	return 0;
}

/* The int $0x80 gate's new handler: never reached (no 32-bit code runs in the lab). */
noinline void notrace hookmod_idt_stub(void)
{
	asm volatile("");
}

#define IDT_INT80 0x80
static unsigned char saved_gate[16];
static unsigned char *gate;
/* not exported to modules: found through kallsyms_lookup_name like text_poke_bp */
static void *(*poke)(void *addr, const void *opcode, size_t len);

/* idt_table is read-only after boot: written through text_poke()'s temporary writable map */
static void write_gate(const unsigned char *g)
{
	mutex_lock(tmutex);
	poke(gate, g, 16);
	mutex_unlock(tmutex);
}

static int idt_hook(void)
{
	unsigned char *idt = (void *)lookup("idt_table");
	unsigned char g[16];
	unsigned long h = (unsigned long)hookmod_idt_stub;

	poke = (void *)lookup("text_poke");
	tmutex = (void *)lookup("text_mutex");
	if (!idt || !poke || !tmutex)
		return -ENOENT;
	memcpy(saved_gate, idt + 16 * IDT_INT80, 16);
	if (!(saved_gate[5] & 0x80))
		return -ENODEV;	/* no int $0x80 gate (IA32 emulation off) */
	memcpy(g, saved_gate, 16);
	/* the handler's offset: bits 0-15 at 0, 16-31 at 6, 32-63 at 8 */
	g[0] = h & 0xff;
	g[1] = (h >> 8) & 0xff;
	g[6] = (h >> 16) & 0xff;
	g[7] = (h >> 24) & 0xff;
	memcpy(g + 8, &(unsigned int){ (unsigned int)(h >> 32) }, 4);
	gate = idt + 16 * IDT_INT80;
	write_gate(g);
	return memcmp(gate, g, 16) ? -EIO : 0;
}

static int __init hookmod_init(void)
{
	int err;

	if (!strcmp(mode, "ftrace") || !strcmp(mode, "hidden")) {
		err = ftrace_set_filter(&hookmod_ops, "__x64_sys_getdents64",
					strlen("__x64_sys_getdents64"), 0);
		if (!err)
			err = register_ftrace_function(&hookmod_ops);
		if (!err && !strcmp(mode, "hidden")) {
			/* What list_del() rootkits do: gone from lsmod and /proc/modules. */
			list_del_init(&THIS_MODULE->list);
		}
	} else if (!strcmp(mode, "kprobe")) {
		err = register_kprobe(&hookmod_kp);
	} else if (!strcmp(mode, "inline")) {
		err = inline_hook();
	} else if (!strcmp(mode, "idt")) {
		err = idt_hook();
	} else {
		err = -EINVAL;
	}
	pr_info("hookmod: mode=%s: %d\n", mode, err);
	return err;
}

static void __exit hookmod_exit(void)
{
	if (!strcmp(mode, "ftrace"))
		unregister_ftrace_function(&hookmod_ops);
	else if (!strcmp(mode, "kprobe"))
		unregister_kprobe(&hookmod_kp);
	else if (gate)
		write_gate(saved_gate);
	else if (patched) {
		mutex_lock(tmutex);
		poke_bp(patched, saved, 5, NULL);
		mutex_unlock(tmutex);
	}
}

module_init(hookmod_init);
module_exit(hookmod_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("nfm lab: hooks a system call by ftrace, kprobe, inline patch, hidden, or IDT");
