// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm_ctx_kernel_info and uptime: what `uname`, /proc/cpuinfo, /proc/meminfo and /proc/uptime say. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "core/context.h"
#include "source/source.h"

/* Read the six new_utsname fields of init_uts_ns. */
static int read_utsname(struct nfm_ctx *ctx, struct nfm_kernel_info *ki)
{
	struct nfm_field name = { 0 };
	uint64_t uts;
	char buf[6 * 65];
	int ret;

	ret = nfm_ksym(ctx, "init_uts_ns", &uts);
	if (ret < 0)
		return ret;
	if (nfm_btf_field(ctx->btf, "uts_namespace", "name", &name) < 0)
		name.offset = 0;
	ret = nfm_kread(ctx, uts + name.offset, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	for (int i = 0; i < 6; i++)
		buf[i * 65 + 64] = 0;
	memcpy(ki->sysname, buf, 65);
	memcpy(ki->nodename, buf + 65, 65);
	memcpy(ki->release, buf + 130, 65);
	memcpy(ki->version, buf + 195, 65);
	memcpy(ki->machine, buf + 260, 65);
	memcpy(ki->domainname, buf + 325, 65);
	return 0;
}

static int read_int_sym(struct nfm_ctx *ctx, const char *sym, size_t size, uint64_t *ret)
{
	uint64_t addr, v = 0;
	int err = nfm_ksym(ctx, sym, &addr);

	if (err < 0)
		return err;
	err = nfm_kread(ctx, addr, &v, size);
	if (err < 0)
		return err;
	*ret = v;
	return 0;
}

int nfm_ctx_kernel_info(struct nfm_ctx *ctx, struct nfm_kernel_info *ret)
{
	struct nfm_kernel_info ki = { 0 };
	uint64_t addr, v;
	char *nl;
	int err;

	err = read_utsname(ctx, &ki);
	if (err < 0)
		return err;
	if (nfm_ksym(ctx, "linux_banner", &addr) == 0 &&
	    nfm_kread_str(ctx, addr, ki.banner, sizeof(ki.banner)) == 0) {
		nl = strchr(ki.banner, '\n');
		if (nl)
			*nl = 0;
	}
	ki.paging_levels = ctx->mmu->levels;
	ki.kaslr_offset = ctx->kaslr_offset;
	/* arm64's physical base is PHYS_OFFSET (memstart_addr), where the direct map begins */
	ki.phys_base = ctx->mmu->arch == NFM_MMU_ARM64 ? (int64_t)ctx->mmu->phys_offset
						       : ctx->mmu->phys_base;
	ki.page_offset = ctx->mmu->page_offset;
	ki.kernel_pgd = ctx->mmu->kernel_root;
	ki.vmcoreinfo_pa = ctx->vmcoreinfo_pa;
	if (read_int_sym(ctx, "__num_online_cpus", 4, &v) == 0)
		ki.nr_cpus_online = (unsigned int)v;
	if (read_int_sym(ctx, "nr_cpu_ids", 4, &v) == 0)
		ki.nr_cpus_possible = (unsigned int)v;
	/* MemTotal is totalram_pages() pages. */
	if (read_int_sym(ctx, "_totalram_pages", 8, &v) == 0)
		ki.mem_total = v * 4096;
	ki.ram_size = nfm_source_ram_size(ctx->src);
	ki.nr_symbols = nfm_kallsyms_count(ctx->ks);
	ki.nr_btf_types = nfm_btf_type_count(ctx->btf);
	memcpy(ki.vmcoreinfo_how, ctx->vmcoreinfo_how, sizeof(ki.vmcoreinfo_how));
	memcpy(ki.symbols_how, ctx->symbols_how, sizeof(ki.symbols_how));
	memcpy(ki.btf_how, ctx->btf_how, sizeof(ki.btf_how));
	ki.attach_ms = ctx->attach_ms;
	*ret = ki;
	return 0;
}

/*
 * CLOCK_BOOTTIME with nanosecond resolution, as the guest's timekeeper held it at its last update:
 * tkr_mono.base + (tkr_mono.xtime_nsec >> tkr_mono.shift) + offs_boot (kernel/time/timekeeping.c:
 * timekeeping_get_ns() adds the clocksource cycles since cycle_last to xtime_nsec before the shift;
 * we cannot read the guest's clocksource, so the value lags the guest's own clock by the time since
 * the last update: at most one tick while the guest's CPUs tick; freshest() uses what the CPUs
 * stamped since instead, see doc/ctop.md). base alone moves
 * in whole seconds (tk_update_ktime_data() keeps only xtime_sec there); xtime_nsec holds the
 * nanoseconds since, shifted. tk_core is an anonymous struct { seqcount_raw_spinlock_t seq; struct
 * timekeeper timekeeper; }: the timekeeper is read whole between two reads of the sequence count,
 * retried while a writer is inside (odd or changed count).
 */
#define TK_MAX_SIZE 1024
#define TK_TRIES 4

struct tk_off {
	struct nfm_field base, xtime_nsec, shift, offs_boot;
	uint32_t seqsize, size;
};

static int tk_resolve(struct nfm_ctx *ctx, struct tk_off *o)
{
	if (nfm_btf_type_size(ctx->btf, "seqcount_raw_spinlock_t", &o->seqsize) < 0 ||
	    nfm_btf_type_size(ctx->btf, "timekeeper", &o->size) < 0 ||
	    nfm_btf_field(ctx->btf, "timekeeper", "tkr_mono.base", &o->base) < 0 ||
	    nfm_btf_field(ctx->btf, "timekeeper", "tkr_mono.xtime_nsec", &o->xtime_nsec) < 0 ||
	    nfm_btf_field(ctx->btf, "timekeeper", "tkr_mono.shift", &o->shift) < 0 ||
	    nfm_btf_field(ctx->btf, "timekeeper", "offs_boot", &o->offs_boot) < 0)
		return -ENOENT;
	if (o->size > TK_MAX_SIZE || o->base.offset + 8 > o->size ||
	    o->xtime_nsec.offset + 8 > o->size || o->shift.offset + 4 > o->size ||
	    o->offs_boot.offset + 8 > o->size)
		return -EBADMSG;
	return 0;
}

/*
 * Fresher than the timekeeper: what the guest's CPUs stamped since its last update.
 *
 * - rq->clock of every CPU: the scheduler's clock as of its last event on that CPU (tick, context
 *   switch, wakeup) — the same instant every task's CPU time (se.sum_exec_runtime) was last
 *   charged, so a %CPU over it stays consistent even when the host stopped the vCPU inside the
 *   guest's tick handler, after the timekeeper's update and before the scheduler's. It is
 *   sched_clock, which kernel/sched/clock.c keeps at CLOCK_MONOTONIC + __gtod_offset; believed
 *   when within SCHED_SKEW_NS of the timekeeper.
 * - else tick_cpu_sched.idle_entrytime of every CPU: a ktime_get() taken when a CPU went idle,
 *   a lower bound of the monotonic time then; believed up to IDLE_AHEAD_NS past the timekeeper.
 * doc/ctop.md has the measurements that chose this (and the variants that lost).
 */
#define PCPU_MAX 1024
#define IDLE_AHEAD_NS 10000000000ll
#define SCHED_SKEW_NS 1000000000ll

/*
 * The largest s64 at sym + member of any possible CPU's per-CPU copy (INT64_MIN if none) and,
 * in *sum when not NULL, the sum of all of them (wrapping) with the number of CPUs read in *nread.
 */
static int64_t pcpu_fold(struct nfm_ctx *ctx, const char *sym, const char *type,
			 const char *member, uint64_t *sum, uint32_t *nread)
{
	uint64_t var, pco, a, off[64], total = 0;
	struct nfm_field f;
	uint32_t nr = 0, got = 0;
	int64_t best = INT64_MIN, v;

	if (nfm_ksym(ctx, sym, &var) < 0 || nfm_ksym(ctx, "__per_cpu_offset", &pco) < 0 ||
	    nfm_ksym(ctx, "nr_cpu_ids", &a) < 0 || nfm_kread_u32(ctx, a, &nr) < 0 ||
	    nfm_btf_field(ctx->btf, type, member, &f) < 0)
		return INT64_MIN;
	if (nr > PCPU_MAX)
		nr = PCPU_MAX;
	for (uint32_t base = 0; base < nr; base += 64) {
		uint32_t n = nr - base < 64 ? nr - base : 64;

		if (nfm_kread(ctx, pco + base * 8ull, off, n * 8ull) < 0)
			break;
		for (uint32_t i = 0; i < n; i++) {
			if (nfm_kread(ctx, var + off[i] + f.offset, &v, 8) < 0)
				continue;
			got++;
			total += (uint64_t)v;
			if (v > best)
				best = v;
		}
	}
	if (sum)
		*sum = total;
	if (nread)
		*nread = got;
	return best;
}

static int64_t pcpu_max(struct nfm_ctx *ctx, const char *sym, const char *type, const char *member)
{
	return pcpu_fold(ctx, sym, type, member, NULL, NULL);
}

static int64_t freshest(struct nfm_ctx *ctx, int64_t mono)
{
	int64_t rq = pcpu_max(ctx, "runqueues", "rq", "clock"), idle, gtod = 0;
	uint64_t a;

	if (rq != INT64_MIN && nfm_ksym(ctx, "__gtod_offset", &a) == 0 &&
	    nfm_kread(ctx, a, &gtod, 8) == 0) {
		rq -= gtod;
		if (rq > mono - SCHED_SKEW_NS && rq < mono + SCHED_SKEW_NS)
			return rq;
	}
	idle = pcpu_max(ctx, "tick_cpu_sched", "tick_sched", "idle_entrytime");
	return idle > mono && idle - mono <= IDLE_AHEAD_NS ? idle : mono;
}

/*
 * Every charge of CPU time to a task (update_curr(): se.sum_exec_runtime += rq_clock_task(rq) -
 * se.exec_start) follows an update_rq_clock() of its CPU, and rq->clock only grows: so the sum of
 * every CPU's rq->clock changes whenever any task may have been charged. Two equal readings
 * around a task walk mean the walk saw every task's CPU time as of the same scheduler instants
 * as nfm_ctx_uptime_ns() (read inside them) does.
 */
int nfm_ctx_sched_gen(struct nfm_ctx *ctx, uint64_t *ret)
{
	uint64_t sum = 0;
	uint32_t n = 0;

	if (!ctx || !ret)
		return -EINVAL;
	if (pcpu_fold(ctx, "runqueues", "rq", "clock", &sum, &n) == INT64_MIN || !n)
		return -ENOENT;
	*ret = sum;
	return 0;
}

int nfm_ctx_uptime_ns(struct nfm_ctx *ctx, uint64_t *ret)
{
	uint8_t buf[TK_MAX_SIZE];
	uint32_t seq1, seq2, shift;
	uint64_t tk_core, tk, xnsec;
	int64_t mono, offs;
	struct tk_off o;
	int err, i;

	err = nfm_ksym(ctx, "tk_core", &tk_core);
	if (err < 0)
		return err;
	err = tk_resolve(ctx, &o);
	if (err < 0)
		return err;
	tk = tk_core + ((o.seqsize + 7) & ~7u);
	for (i = 0; i < TK_TRIES; i++) {
		if ((err = nfm_kread(ctx, tk_core, &seq1, 4)) < 0 ||
		    (err = nfm_kread(ctx, tk, buf, o.size)) < 0 ||
		    (err = nfm_kread(ctx, tk_core, &seq2, 4)) < 0)
			return err;
		if (seq1 == seq2 && !(seq1 & 1))
			break;
	}
	/* A dump taken inside an update keeps an odd count: use what is there (torn by < 1 tick). */
	memcpy(&mono, buf + o.base.offset, 8);
	memcpy(&xnsec, buf + o.xtime_nsec.offset, 8);
	memcpy(&shift, buf + o.shift.offset, 4);
	memcpy(&offs, buf + o.offs_boot.offset, 8);
	if (mono < 0 || offs < 0 || shift >= 64)
		return -EBADMSG;
	mono += (int64_t)(xnsec >> shift);
	if (mono < 0)
		return -EBADMSG;
	*ret = (uint64_t)freshest(ctx, mono) + (uint64_t)offs;
	return 0;
}

/*
 * Each CPU's running task and its uncharged run time as of the CPU's last clock update: what
 * task_sched_runtime() adds (rq_clock_task(rq) - curr->se.exec_start), without its fresh
 * update_rq_clock() (we cannot read the guest's clock source). update_curr() sets exec_start to
 * rq->clock_task whenever it charges, so the sum is the same whether or not the charge that
 * follows update_rq_clock() has run yet: the pair (rq->clock, CPU time) is one instant.
 */
int nfm_ctx_sched_pending(struct nfm_ctx *ctx, struct nfm_sched_pending *out, size_t max)
{
	struct nfm_field f_curr, f_idle, f_clock_task, f_exec, f_pid, f_tgid;
	uint64_t var, pco, a, off[64];
	uint32_t nr = 0;
	int n = 0;

	if (!ctx || (!out && max))
		return -EINVAL;
	if (nfm_ksym(ctx, "runqueues", &var) < 0 || nfm_ksym(ctx, "__per_cpu_offset", &pco) < 0 ||
	    nfm_ksym(ctx, "nr_cpu_ids", &a) < 0 || nfm_kread_u32(ctx, a, &nr) < 0 ||
	    nfm_btf_field(ctx->btf, "rq", "curr", &f_curr) < 0 ||
	    nfm_btf_field(ctx->btf, "rq", "idle", &f_idle) < 0 ||
	    nfm_btf_field(ctx->btf, "rq", "clock_task", &f_clock_task) < 0 ||
	    nfm_btf_field(ctx->btf, "task_struct", "se.exec_start", &f_exec) < 0 ||
	    nfm_btf_field(ctx->btf, "task_struct", "pid", &f_pid) < 0 ||
	    nfm_btf_field(ctx->btf, "task_struct", "tgid", &f_tgid) < 0)
		return -ENOENT;
	if (nr > PCPU_MAX)
		nr = PCPU_MAX;
	for (uint32_t base = 0; base < nr; base += 64) {
		uint32_t cnt = nr - base < 64 ? nr - base : 64;

		if (nfm_kread(ctx, pco + base * 8ull, off, cnt * 8ull) < 0)
			return -EFAULT;
		for (uint32_t i = 0; i < cnt; i++) {
			uint64_t rq = var + off[i], curr, idle, clock_task, exec;
			int32_t pid, tgid;

			if (nfm_kread_u64(ctx, rq + f_curr.offset, &curr) < 0 ||
			    nfm_kread_u64(ctx, rq + f_idle.offset, &idle) < 0 || !curr ||
			    curr == idle ||
			    nfm_kread_u64(ctx, rq + f_clock_task.offset, &clock_task) < 0 ||
			    nfm_kread_u64(ctx, curr + f_exec.offset, &exec) < 0 ||
			    nfm_kread(ctx, curr + f_pid.offset, &pid, 4) < 0 ||
			    nfm_kread(ctx, curr + f_tgid.offset, &tgid, 4) < 0 || pid <= 0)
				continue;
			if ((size_t)n < max)
				out[n] = (struct nfm_sched_pending){
					.cpu = (int32_t)(base + i), .pid = pid, .tgid = tgid,
					.ns = clock_task > exec ? clock_task - exec : 0,
				};
			n++;
		}
	}
	return n;
}

/* HZ from tick_nsec = (NSEC_PER_SEC + HZ / 2) / HZ; 0 when not found or not a tick. */
static uint64_t hz_from_tick(struct nfm_ctx *ctx)
{
	uint64_t a, tick;

	if (nfm_ksym(ctx, "tick_nsec", &a) < 0 || nfm_kread_u64(ctx, a, &tick) < 0 ||
	    tick < 100000 || tick > 100000000)	/* 10 kHz .. 10 Hz */
		return 0;
	return (1000000000 + tick / 2) / tick;
}

/*
 * HZ from jiffies_64 = 2^32 - 300 HZ + uptime HZ (INITIAL_JIFFIES wraps 32-bit jiffies five
 * minutes after boot): the one configurable HZ within a tenth of a second of it. Two HZ differ
 * by at least 50 ticks a second, so the answer is unique unless the guest is within about two
 * seconds of its 300th; then 0 (not known).
 */
static uint64_t hz_from_jiffies(struct nfm_ctx *ctx)
{
	static const uint64_t hzs[] = { 100, 250, 300, 1000 };
	uint64_t a, j, up, found = 0;
	size_t i;

	if (nfm_ksym(ctx, "jiffies_64", &a) < 0 || nfm_kread_u64(ctx, a, &j) < 0 ||
	    nfm_ctx_uptime_ns(ctx, &up) < 0)
		return 0;
	for (i = 0; i < sizeof(hzs) / sizeof(hzs[0]); i++) {
		int64_t want = (int64_t)((1ull << 32) - 300 * hzs[i]) +
			       (int64_t)(up / (1000000000 / hzs[i]));
		int64_t d = (int64_t)j - want;

		if (d < -(int64_t)hzs[i] / 10 || d > (int64_t)hzs[i] / 10)
			continue;
		if (found)
			return 0;
		found = hzs[i];
	}
	return found;
}

int nfm_kernel_hz(struct nfm_ctx *ctx, uint64_t *hz)
{
	*hz = hz_from_tick(ctx);
	if (!*hz)
		*hz = hz_from_jiffies(ctx);
	return *hz ? 0 : -ENOENT;
}
