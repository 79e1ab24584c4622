// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The ORC unwinder over synthetic guest memory (a buf source, a System.map, BTF built with
 * libbpf, ORC tables in the 6.4+ layout): the exact /proc/PID/stack frames of a sleeping task,
 * scheduler frames left out, WCHAN; and hostile stacks (a frame pointer into nowhere, a loop,
 * huge depth, a saved sp outside the stack, a running task) giving a short stack and a flag.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <cmocka.h>
#include <bpf/btf.h>

#include "core/context.h"
#include "stack/stack.h"
#include "source/source.h"
#include <nfm/stack.h>
#include <nfm/task.h>

#define MEM_SIZE (1u << 20)
#define PO 0xffff888000000000ull
#define KV(pa) (PO + (uint64_t)(pa))

#define TEXT 0x10000u		/* _stext */
#define SCHED (TEXT + 0x000)	/* __sched_text_start: schedule() */
#define FA (TEXT + 0x100)
#define FB (TEXT + 0x200)
#define FC (TEXT + 0x300)
#define FBP (TEXT + 0x400)	/* a function whose frame is found through bp */
#define ETEXT (TEXT + 0x1000)
#define ORC_IP 0x20000u
#define ORC 0x21000u
#define NR_ORC 6
#define TASK 0x30000u
#define STACK 0x40000u		/* 16 KiB, aligned */
#define TSP (STACK + 0x3000u)

static uint8_t *mem;
static struct nfm_source *src;
static struct nfm_ctx *ctx;
static struct nfm_task task;

static void put64(uint32_t pa, uint64_t v) { memcpy(mem + pa, &v, 8); }
static void put32(uint32_t pa, uint32_t v) { memcpy(mem + pa, &v, 4); }

static struct btf *make_btf(void)
{
	struct btf *b = btf__new_empty();
	int ul, in, s16, u8, th;

	ul = btf__add_int(b, "unsigned long", 8, 0);
	in = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
	s16 = btf__add_int(b, "short", 2, BTF_INT_SIGNED);
	u8 = btf__add_int(b, "unsigned int", 4, 0);
	th = btf__add_struct(b, "thread_struct", 16);
	btf__add_field(b, "sp", ul, 0, 0);
	btf__add_struct(b, "task_struct", 64);
	btf__add_field(b, "stack", ul, 0, 0);
	btf__add_field(b, "thread", th, 64, 0);
	btf__add_field(b, "on_cpu", in, 24 * 8, 0);
	btf__add_field(b, "__state", u8, 28 * 8, 0);
	btf__add_field(b, "on_rq", in, 32 * 8, 0);
	btf__add_field(b, "cpu", u8, 36 * 8, 0);
	btf__add_struct(b, "inactive_task_frame", 56);
	btf__add_field(b, "r15", ul, 0, 0);
	btf__add_field(b, "bp", ul, 40 * 8, 0);
	btf__add_field(b, "ret_addr", ul, 48 * 8, 0);
	/* 6.4+: s16 sp_offset, s16 bp_offset, sp_reg:4, bp_reg:4, type:3, signal:1 */
	btf__add_struct(b, "orc_entry", 6);
	btf__add_field(b, "sp_offset", s16, 0, 0);
	btf__add_field(b, "bp_offset", s16, 16, 0);
	btf__add_field(b, "sp_reg", u8, 32, 4);
	btf__add_field(b, "bp_reg", u8, 36, 4);
	btf__add_field(b, "type", u8, 40, 3);
	btf__add_field(b, "signal", u8, 43, 1);
	return b;
}

static void orc_put(int i, uint32_t ip, int16_t spoff, int16_t bpoff, int spreg, int bpreg,
		    int type)
{
	uint8_t *e = mem + ORC + i * 6;

	put32(ORC_IP + i * 4, (uint32_t)(int32_t)((int64_t)ip - (int64_t)(ORC_IP + i * 4)));
	memcpy(e, &spoff, 2);
	memcpy(e + 2, &bpoff, 2);
	e[4] = (uint8_t)(spreg | bpreg << 4);
	e[5] = (uint8_t)type;
}

/* Tables: schedule, A, B, C: call frames with the return address at sp; FBP: sp = bp + 16. */
static void tables(void)
{
	orc_put(0, SCHED, 8, 0, ORC_REG_SP, ORC_REG_UNDEFINED, ORC_T_CALL);
	orc_put(1, FA, 8, 0, ORC_REG_SP, ORC_REG_UNDEFINED, ORC_T_CALL);
	orc_put(2, FB, 8, 0, ORC_REG_SP, ORC_REG_UNDEFINED, ORC_T_CALL);
	orc_put(3, FC, 0, 0, ORC_REG_UNDEFINED, ORC_REG_UNDEFINED, ORC_T_END_OF_STACK);
	orc_put(4, FBP, 16, -16, ORC_REG_BP, ORC_REG_PREV_SP, ORC_T_CALL);
	orc_put(5, ETEXT, 0, 0, ORC_REG_UNDEFINED, ORC_REG_UNDEFINED, ORC_T_UNDEFINED);
}

/* The saved frame returns into schedule(); the stack above holds the return addresses. */
static void sleeping(const uint32_t *rets, int n)
{
	put64(TASK + 0, KV(STACK));
	put64(TASK + 8, KV(TSP));
	put32(TASK + 28, 1);	/* TASK_INTERRUPTIBLE */
	put64(TSP + 48, KV(SCHED + 0x10));
	for (int i = 0; i < n; i++)
		put64(TSP + 56 + 8 * i, KV(rets[i]));
}

static int setup(void **state)
{
	char map[] = "/tmp/nfm-test-stack-XXXXXX";
	struct nfm_kallsyms *ks;
	struct nfm_btf *nb;
	FILE *f;
	int fd;

	(void)state;
	mem = calloc(1, MEM_SIZE);
	assert_non_null(mem);
	assert_int_equal(nfm_source_new_buf(mem, MEM_SIZE, 0, &src), 0);
	fd = mkstemp(map);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
#define SYM(a, t, n) fprintf(f, "%016llx %c %s\n", (unsigned long long)KV(a), t, n)
	SYM(TEXT, 'T', "_stext");
	SYM(SCHED, 'T', "__sched_text_start");
	SYM(SCHED, 'T', "schedule");
	SYM(FA - 0x80, 'T', "__sched_text_end");
	SYM(FA, 'T', "func_a");
	SYM(FB, 'T', "func_b");
	SYM(FC, 'T', "func_c");
	SYM(FBP, 'T', "func_bp");
	SYM(FBP + 0x100, 't', "func_last");
	SYM(ETEXT, 'T', "_etext");
	SYM(ORC_IP, 'D', "__start_orc_unwind_ip");
	SYM(ORC_IP + NR_ORC * 4, 'D', "__stop_orc_unwind_ip");
	SYM(ORC, 'D', "__start_orc_unwind");
	SYM(0x80000, 'B', "_end");
	fclose(f);
	assert_int_equal(nfm_kallsyms_load_system_map(map, 0, &ks), 0);
	unlink(map);
	assert_int_equal(nfm_btf_wrap(make_btf(), &nb), 0);
	assert_int_equal(nfm_ctx_new_parts(src, 4, 0x1000, 0, PO, ks, nb, NULL, &ctx), 0);
	tables();
	memset(&task, 0, sizeof(task));
	task.addr = KV(TASK);
	task.pid = 42;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	nfm_ctx_free(ctx);
	nfm_source_free(src);
	free(mem);
	return 0;
}

static int stack(struct nfm_stack_frame *f, size_t max, unsigned int *flags)
{
	return nfm_task_stack(ctx, &task, f, max, flags);
}

static void text(const struct nfm_stack_frame *f, char *buf)
{
	nfm_stack_frame_format(f, buf, 128);
}

static void test_sleeping_task(void **state)
{
	static const uint32_t rets[] = { FA + 0x20, FB + 0x30, FC + 0x40 };
	struct nfm_stack_frame f[64];
	unsigned int flags = 99;
	const char *wchan;
	char buf[128];

	(void)state;
	sleeping(rets, 3);
	assert_int_equal(stack(f, 64, &flags), 3);
	assert_int_equal(flags, 0);
	text(&f[0], buf);
	assert_string_equal(buf, "func_a+0x20/0x100");
	text(&f[1], buf);
	assert_string_equal(buf, "func_b+0x30/0x100");
	text(&f[2], buf);
	assert_string_equal(buf, "func_c+0x40/0x100");
	assert_int_equal(f[0].ip, KV(FA + 0x20));
	assert_null(f[0].module);
	assert_int_equal(nfm_task_wchan(ctx, &task, &wchan), 0);
	assert_string_equal(wchan, "func_a");
	/* Runnable (on a run queue): /proc/PID/wchan says 0. */
	put32(TASK + 32, 1);
	assert_int_equal(nfm_task_wchan(ctx, &task, &wchan), 0);
	assert_null(wchan);
	/* max limits what is stored and says so. */
	assert_int_equal(stack(f, 2, &flags), 2);
	assert_int_equal(flags, NFM_STACK_TRUNCATED);
}

/* A return address at the very end of a function (a call to a noreturn one) names that function,
 * as %pB does; a frame found through bp. */
static void test_end_of_function_and_bp(void **state)
{
	static const uint32_t rets[] = { FBP + 0x10, 0, FC, FC + 1 };
	struct nfm_stack_frame f[8];
	unsigned int flags;
	char buf[128];

	(void)state;
	sleeping(rets, 4);
	/* func_bp's frame: sp = bp + 16, return address at sp - 8, saved bp at sp - 16. */
	put64(TASK + 0, KV(STACK));
	put64(TSP + 40, KV(TSP + 56 + 8));	/* bp: so that bp + 16 - 8 is rets[2] */
	put64(TSP + 56 + 8, KV(0));
	assert_int_equal(stack(f, 8, &flags), 3);
	text(&f[0], buf);
	assert_string_equal(buf, "func_bp+0x10/0x100");
	text(&f[1], buf);
	assert_string_equal(buf, "func_b+0x100/0x100");	/* FC - 1 is still in func_b */
	text(&f[2], buf);
	assert_string_equal(buf, "func_c+0x1/0x100");
	assert_int_equal(flags, 0);
}

/* bp pointing outside the stack: the walk stops there with ERROR. */
static void test_wild_frame_pointer(void **state)
{
	static const uint32_t rets[] = { FA + 0x20, FBP + 0x10, FC + 0x40 };
	struct nfm_stack_frame f[8];
	unsigned int flags;

	(void)state;
	sleeping(rets, 3);
	put64(TSP + 40, 0xdead000000000000ull);
	assert_int_equal(stack(f, 8, &flags), 2);
	assert_true(flags & NFM_STACK_ERROR);
}

/* ORC that does not move sp: the kernel's "stack going in the wrong direction" check. */
static void test_cycle(void **state)
{
	static const uint32_t rets[] = { FA + 0x20, FA + 0x20, FA + 0x20 };
	struct nfm_stack_frame f[64];
	unsigned int flags;
	int n;

	(void)state;
	orc_put(1, FA, 0, 0, ORC_REG_SP, ORC_REG_UNDEFINED, ORC_T_CALL);
	sleeping(rets, 3);
	n = stack(f, 64, &flags);
	assert_true(n >= 1 && n <= 2);
	assert_true(flags & NFM_STACK_ERROR);
}

/* A stack full of return addresses into func_a: 64 frames and TRUNCATED, not more. */
static void test_huge_depth(void **state)
{
	uint32_t rets[(0x1000 - 56) / 8];
	struct nfm_stack_frame f[100];
	unsigned int flags;

	(void)state;
	for (size_t i = 0; i < sizeof(rets) / sizeof(rets[0]); i++)
		rets[i] = FA + 0x20;
	sleeping(rets, (int)(sizeof(rets) / sizeof(rets[0])));
	assert_int_equal(stack(f, 100, &flags), NFM_STACK_MAX_FRAMES);
	assert_true(flags & NFM_STACK_TRUNCATED);
	assert_false(flags & NFM_STACK_ERROR);
}

/* Return addresses outside kernel text end the stack, as unwind_get_return_address() does. */
static void test_ip_outside_text(void **state)
{
	static const uint32_t rets[] = { FA + 0x20, 0x70000 };
	struct nfm_stack_frame f[8];
	unsigned int flags;

	(void)state;
	sleeping(rets, 2);
	assert_int_equal(stack(f, 8, &flags), 1);
	put64(TSP + 48, 0x00007f0000001000ull);	/* a user address in the saved frame */
	assert_int_equal(stack(f, 8, &flags), 0);
}

static void test_bad_saved_sp_and_running(void **state)
{
	static const uint32_t rets[] = { FA + 0x20 };
	struct nfm_stack_frame f[8];
	unsigned int flags;
	int cpu;

	(void)state;
	sleeping(rets, 1);
	put64(TASK + 8, KV(STACK + 0x4000 - 8));	/* the frame would run past the stack */
	assert_int_equal(stack(f, 8, &flags), 0);
	assert_int_equal(flags, NFM_STACK_ERROR);
	put64(TASK + 8, 0xffffffffffff0000ull);
	assert_int_equal(stack(f, 8, &flags), 0);
	assert_int_equal(flags, NFM_STACK_ERROR);
	put64(TASK + 0, KV(STACK + 8));		/* a misaligned stack */
	assert_int_equal(stack(f, 8, &flags), 0);
	assert_int_equal(flags, NFM_STACK_ERROR);
	put64(TASK + 0, 0);			/* released */
	assert_int_equal(stack(f, 8, &flags), 0);
	assert_int_equal(flags, NFM_STACK_NO_STACK);
	put32(TASK + 24, 1);			/* on_cpu */
	put32(TASK + 36, 1);
	assert_int_equal(stack(f, 8, &flags), 0);
	assert_int_equal(flags, NFM_STACK_RUNNING);
	assert_int_equal(nfm_task_cpu(ctx, &task, &cpu), 0);
	assert_int_equal(cpu, 1);
}

/*
 * A running task from its vCPU's registers (ip interrupted in func_a, its stack above sp): whole
 * when the walk reaches func_c's end of stack; torn, ERROR, when a return address is no text (a
 * live CPU that moved on between its registers and its stack's read); and the same walk from a
 * sleeping task's saved frame ends there without ERROR, as unwind_get_return_address() does.
 */
static void test_registers_torn(void **state)
{
	struct stk_state *s;
	struct nfm_stack_frame f[8];
	struct stk_region rg;
	uint64_t regs[21] = { 0 };
	struct stk_start st = { .signal = true, .regs = regs };
	unsigned int flags = 0;
	char buf[128];

	(void)state;
	assert_int_equal(stk_state_get(ctx, &s), 0);
	assert_int_equal(stk_tables_get(ctx, s), 0);
	rg = (struct stk_region){ .lo = KV(STACK), .hi = KV(STACK + 0x4000), .buf = mem + STACK };
	put64(TSP, KV(FB + 0x30));
	put64(TSP + 8, KV(FC + 0x40));
	st.ip = KV(FA + 0x8);
	st.sp = KV(TSP);
	regs[16] = st.ip;	/* pt_regs ip; cs 0: kernel mode */
	regs[19] = st.sp;
	assert_int_equal(stk_unwind(ctx, s, &rg, 1, &st, f, 8, &flags), 3);
	assert_int_equal(flags, 0);
	text(&f[0], buf);
	assert_string_equal(buf, "func_a+0x8/0x100");	/* the interrupted instruction itself */
	text(&f[2], buf);
	assert_string_equal(buf, "func_c+0x40/0x100");
	put64(TSP + 8, 0x0000000012345678ull);		/* overwritten since */
	flags = 0;
	assert_int_equal(stk_unwind(ctx, s, &rg, 1, &st, f, 8, &flags), 2);
	assert_int_equal(flags, NFM_STACK_ERROR);
	st.regs = NULL;
	st.signal = false;
	st.ip = KV(FA + 0x9);
	flags = 0;
	assert_int_equal(stk_unwind(ctx, s, &rg, 1, &st, f, 8, &flags), 2);
	assert_int_equal(flags, 0);
}

/* The ORC table search: rightmost entry <= ip, an empty table, the 6.1 layout's types. */
static void test_orc_lookup_and_layouts(void **state)
{
	struct stk_state *s;
	struct stk_orc o;
	struct stk_orc_layout old = { .size = 6, .has_end = true };
	uint8_t raw[6] = { 0x10, 0, 0xf0, 0xff, 0x5 | 0x1 << 4, 0x1 | 0x4 };

	(void)state;
	assert_int_equal(stk_state_get(ctx, &s), 0);
	assert_int_equal(stk_tables_get(ctx, s), 0);	/* the core table, read once */
	assert_int_equal(s->core.n, NR_ORC);
	assert_int_equal(stk_table_search(&s->core, KV(FA)), 1);
	assert_int_equal(stk_table_search(&s->core, KV(FB - 1)), 1);
	assert_int_equal(stk_table_search(&s->core, KV(FC + 5)), 3);
	assert_int_equal(stk_orc_find(ctx, s, KV(FB + 3), &o), 1);
	assert_int_equal(o.type, ORC_T_CALL);
	assert_int_equal(o.sp_offset, 8);
	assert_int_equal(stk_orc_find(ctx, s, KV(0x70000), &o), 0);
	/* 6.1: sp_reg:4 bp_reg:4 type:2 end:1 -- REGS (1) with end set. */
	old.sp_offset = (struct nfm_field){ 0, 2, 0, 0 };
	old.bp_offset = (struct nfm_field){ 2, 2, 0, 0 };
	old.sp_reg = (struct nfm_field){ 4, 0, 0, 4 };
	old.bp_reg = (struct nfm_field){ 4, 0, 4, 4 };
	old.type = (struct nfm_field){ 5, 0, 0, 2 };
	old.end = (struct nfm_field){ 5, 0, 2, 1 };
	stk_orc_decode(&old, raw, &o);
	assert_int_equal(o.sp_offset, 16);
	assert_int_equal(o.bp_offset, -16);
	assert_int_equal(o.sp_reg, ORC_REG_SP);
	assert_int_equal(o.bp_reg, ORC_REG_PREV_SP);
	assert_int_equal(o.type, ORC_T_REGS);
	assert_true(o.end);
	assert_false(o.has_signal);
	/* The 6.4+ layout from BTF: type 1 is END_OF_STACK, bit 3 the signal bit. */
	raw[5] = 0x1;
	stk_orc_decode(&s->lay, raw, &o);
	assert_int_equal(o.type, ORC_T_END_OF_STACK);
	assert_false(o.signal);
	{
		struct stk_table empty = { 0 };

		assert_int_equal(stk_table_search(&empty, 1), -1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sleeping_task, setup, teardown),
		cmocka_unit_test_setup_teardown(test_end_of_function_and_bp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wild_frame_pointer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_huge_depth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ip_outside_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_saved_sp_and_running, setup, teardown),
		cmocka_unit_test_setup_teardown(test_registers_torn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_orc_lookup_and_layouts, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
