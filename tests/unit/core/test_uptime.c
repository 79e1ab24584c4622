// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nfm_ctx_uptime_ns() over a synthetic tk_core: the timekeeper's sub-update nanoseconds
 * (tkr_mono.xtime_nsec >> shift) are part of the guest's clock. The old formula (base + offs_boot)
 * moved in whole timekeeping updates and made every %CPU divisor wrong; these tests fail with it.
 * And nfm_ctx_sched_gen(), the scheduler clocks' generation a task walk is bracketed with.
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
#include "source/source.h"

#define MEM_SIZE (1u << 20)
#define PO 0xffff888000000000ull
#define KV(pa) (PO + (uint64_t)(pa))
#define TK_CORE 0x10000u
#define TK (TK_CORE + 8)	/* after the 4-byte seqcount, 8-aligned */
#define TICK_SCHED 0x20000u	/* CPU 0's tick_cpu_sched; CPU 1's is 0x1000 further */
#define PCPU_OFFSETS 0x30000u
#define NR_CPU_IDS 0x31000u
#define TS_IDLE_ENTRY 24	/* tick_sched.idle_entrytime */
#define RUNQUEUES 0x40000u	/* CPU 0's rq; CPU 1's is 0x1000 further (same per-CPU offsets) */
#define RQ_CLOCK 16		/* rq.clock */
#define GTOD_OFFSET 0x32000u	/* __gtod_offset */

/* struct tk_read_base and the members of struct timekeeper that matter, at the 6.1 offsets. */
enum { R_CLOCK = 0, R_MASK = 8, R_CYCLE_LAST = 16, R_MULT = 24, R_SHIFT = 28, R_XTIME_NSEC = 32,
       R_BASE = 40, R_BASE_REAL = 48, R_SIZE = 56 };
enum { K_TKR_MONO = 0, K_TKR_RAW = 56, K_XTIME_SEC = 112, K_OFFS_BOOT = 152, K_SIZE = 288 };

static uint8_t *mem;
static struct nfm_source *src;
static struct nfm_ctx *ctx;

static void put64(uint32_t pa, uint64_t v) { memcpy(mem + pa, &v, 8); }
static void put32(uint32_t pa, uint32_t v) { memcpy(mem + pa, &v, 4); }

static void field(struct btf *b, const char *name, int type, int off)
{
	assert_int_equal(btf__add_field(b, name, type, off * 8, 0), 0);
}

static struct btf *make_btf(void)
{
	struct btf *b = btf__new_empty();
	int u64, s64, u32, seq, rb;

	u64 = btf__add_int(b, "long long unsigned int", 8, 0);
	s64 = btf__add_int(b, "long long int", 8, BTF_INT_SIGNED);
	u32 = btf__add_int(b, "unsigned int", 4, 0);
	seq = btf__add_struct(b, "seqcount_raw_spinlock_t", 4);
	field(b, "sequence", u32, 0);
	(void)seq;
	rb = btf__add_struct(b, "tk_read_base", R_SIZE);
	field(b, "clock", u64, R_CLOCK);
	field(b, "mask", u64, R_MASK);
	field(b, "cycle_last", u64, R_CYCLE_LAST);
	field(b, "mult", u32, R_MULT);
	field(b, "shift", u32, R_SHIFT);
	field(b, "xtime_nsec", u64, R_XTIME_NSEC);
	field(b, "base", s64, R_BASE);
	field(b, "base_real", u64, R_BASE_REAL);
	btf__add_struct(b, "rq", 64);
	field(b, "clock", u64, RQ_CLOCK);
	btf__add_struct(b, "tick_sched", 64);
	field(b, "idle_entrytime", s64, TS_IDLE_ENTRY);
	btf__add_struct(b, "timekeeper", K_SIZE);
	field(b, "tkr_mono", rb, K_TKR_MONO);
	field(b, "tkr_raw", rb, K_TKR_RAW);
	field(b, "xtime_sec", u64, K_XTIME_SEC);
	field(b, "offs_boot", s64, K_OFFS_BOOT);
	return b;
}

static int setup(void **state)
{
	char map[] = "/tmp/nfm-test-uptime-XXXXXX";
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
	fprintf(f, "%016llx T _stext\n%016llx d tk_core\n%016llx D tick_cpu_sched\n"
		"%016llx D __per_cpu_offset\n%016llx D nr_cpu_ids\n%016llx A runqueues\n"
		"%016llx d __gtod_offset\n", (unsigned long long)KV(0x1000),
		(unsigned long long)KV(TK_CORE), (unsigned long long)KV(TICK_SCHED),
		(unsigned long long)KV(PCPU_OFFSETS), (unsigned long long)KV(NR_CPU_IDS),
		(unsigned long long)KV(RUNQUEUES), (unsigned long long)KV(GTOD_OFFSET));
	fclose(f);
	assert_int_equal(nfm_kallsyms_load_system_map(map, 0, &ks), 0);
	unlink(map);
	assert_int_equal(nfm_btf_wrap(make_btf(), &nb), 0);
	assert_int_equal(nfm_ctx_new_parts(src, 4, 0x1000, 0, PO, ks, nb, NULL, &ctx), 0);
	put32(NR_CPU_IDS, 2);
	put64(PCPU_OFFSETS, 0);
	put64(PCPU_OFFSETS + 8, 0x1000);
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

/* CPU cpu entered idle at mono ns. */
static void set_idle_entry(int cpu, int64_t ns)
{
	put64(TICK_SCHED + (uint32_t)cpu * 0x1000 + TS_IDLE_ENTRY, (uint64_t)ns);
}

/* A timekeeper as a guest leaves it between two updates. */
static void set_tk(uint32_t seq, int64_t base, uint64_t xtime_nsec, uint32_t shift, int64_t boot)
{
	put32(TK_CORE, seq);
	put32(TK + K_TKR_MONO + R_SHIFT, shift);
	put32(TK + K_TKR_MONO + R_MULT, 4194304);
	put64(TK + K_TKR_MONO + R_XTIME_NSEC, xtime_nsec);
	put64(TK + K_TKR_MONO + R_BASE, (uint64_t)base);
	put64(TK + K_OFFS_BOOT, (uint64_t)boot);
	/* tkr_raw's fields must not be taken for tkr_mono's. */
	put64(TK + K_TKR_RAW + R_XTIME_NSEC, 999ull << 40);
	put64(TK + K_TKR_RAW + R_BASE, 77);
}

static void test_sub_update_ns(void **state)
{
	uint64_t up;

	(void)state;
	/* base 12 s, 3.456789 ms since the last second boundary (shifted by 22), 1.5 s suspended. */
	set_tk(42, 12000000000ll, 3456789ull << 22, 22, 1500000000ll);
	assert_int_equal(nfm_ctx_uptime_ns(ctx, &up), 0);
	assert_int_equal(up, 13503456789ull);
}

static void test_moves_within_a_second(void **state)
{
	uint64_t a, b;

	(void)state;
	/* Two updates 4 ms apart in the same second: base (ns at the second) does not move. */
	set_tk(44, 7000000000ll, 100000000ull << 8, 8, 0);
	assert_int_equal(nfm_ctx_uptime_ns(ctx, &a), 0);
	set_tk(46, 7000000000ll, 104000000ull << 8, 8, 0);
	assert_int_equal(nfm_ctx_uptime_ns(ctx, &b), 0);
	assert_int_equal(a, 7100000000ull);
	assert_int_equal(b - a, 4000000ull);
}

static void test_idle_entry_is_fresher(void **state)
{
	uint64_t up;

	(void)state;
	/* The timekeeper last updated at 5.004 s; CPU 1 went idle at 5.0062 s (a task slept
	 * between two ticks): the clock was at least there. CPU 0's older stamp does not matter. */
	set_tk(50, 5000000000ll, 4000000ull << 10, 10, 100);
	set_idle_entry(0, 4990000000ll);
	set_idle_entry(1, 5006200000ll);
	assert_int_equal(nfm_ctx_uptime_ns(ctx, &up), 0);
	assert_int_equal(up, 5006200100ull);
	/* A stamp more than 10 s ahead of the timekeeper is not believed. */
	set_idle_entry(1, 16000000000ll);
	assert_int_equal(nfm_ctx_uptime_ns(ctx, &up), 0);
	assert_int_equal(up, 5004000100ull);
	set_idle_entry(0, 0);
	set_idle_entry(1, 0);
}

static void set_rq_clock(int cpu, uint64_t ns)
{
	put64(RUNQUEUES + (uint32_t)cpu * 0x1000 + RQ_CLOCK, ns);
}

static void test_scheduler_clock(void **state)
{
	uint64_t up;

	(void)state;
	/* sched_clock = monotonic + __gtod_offset. CPU 0's last scheduler event at 5.0031 s
	 * (mono), CPU 1's long ago: the guest was at 5.0031 s when its tasks were last charged,
	 * even though the timekeeper already says 5.004 s (its update came first in the tick). */
	put64(GTOD_OFFSET, 777);
	set_tk(52, 5000000000ll, 4000000ull << 10, 10, 100);
	set_idle_entry(0, 5006000000ll);
	set_rq_clock(0, 5003100000ull + 777);
	set_rq_clock(1, 4900000000ull + 777);
	assert_int_equal(nfm_ctx_uptime_ns(ctx, &up), 0);
	assert_int_equal(up, 5003100100ull);
	/* A scheduler clock more than 1 s off the timekeeper is not believed: the idle stamps. */
	set_rq_clock(0, 7000000000ull + 777);
	set_rq_clock(1, 0);
	assert_int_equal(nfm_ctx_uptime_ns(ctx, &up), 0);
	assert_int_equal(up, 5006000100ull);
	set_rq_clock(0, 0);
	set_idle_entry(0, 0);
}

static void test_sched_gen(void **state)
{
	uint64_t g0, g1, g2;

	(void)state;
	/* The generation moves with any CPU's rq->clock, and only then: a walk between two equal
	 * readings saw no charge of CPU time on any CPU. */
	set_rq_clock(0, 5003100000ull);
	set_rq_clock(1, 4900000000ull);
	assert_int_equal(nfm_ctx_sched_gen(ctx, &g0), 0);
	assert_int_equal(g0, 5003100000ull + 4900000000ull);
	assert_int_equal(nfm_ctx_sched_gen(ctx, &g1), 0);
	assert_int_equal(g1, g0);
	set_rq_clock(1, 4900000001ull);		/* the idle CPU, not the latest one, moved */
	assert_int_equal(nfm_ctx_sched_gen(ctx, &g2), 0);
	assert_int_not_equal(g2, g0);
	assert_int_equal(nfm_ctx_sched_gen(ctx, NULL), -EINVAL);
	assert_int_equal(nfm_ctx_sched_gen(NULL, &g2), -EINVAL);
	set_rq_clock(0, 0);
	set_rq_clock(1, 0);
}

static void test_odd_sequence_still_reads(void **state)
{
	uint64_t up;

	(void)state;
	/* A dump taken while the writer held the sequence odd: the values there are used. */
	set_tk(47, 1000000000ll, 5ull << 1, 1, 0);
	assert_int_equal(nfm_ctx_uptime_ns(ctx, &up), 0);
	assert_int_equal(up, 1000000005ull);
}

static void test_bad_values(void **state)
{
	uint64_t up = 123;

	(void)state;
	set_tk(48, -5, 0, 0, 0);
	assert_int_equal(nfm_ctx_uptime_ns(ctx, &up), -EBADMSG);
	set_tk(48, 5, 0, 64, 0);
	assert_int_equal(nfm_ctx_uptime_ns(ctx, &up), -EBADMSG);
	assert_int_equal(up, 123);	/* out-parameter untouched on failure */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sub_update_ns),
		cmocka_unit_test(test_moves_within_a_second),
		cmocka_unit_test(test_idle_entry_is_fresher),
		cmocka_unit_test(test_scheduler_clock),
		cmocka_unit_test(test_sched_gen),
		cmocka_unit_test(test_odd_sequence_still_reads),
		cmocka_unit_test(test_bad_values),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
