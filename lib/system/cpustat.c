// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * /proc/stat cpu lines. Per CPU: kernel_cpustat.cpustat[] (indexes from enum cpu_usage_stat in
 * BTF); for an online CPU with the tickless idle code active, idle and iowait come from
 * tick_cpu_sched.{idle,iowait}_sleeptime plus the current idle period (get_cpu_idle_time_us()).
 * "now" is the timekeeper's CLOCK_MONOTONIC at its last update.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/cpu.h>

#include "core/context.h"
#include "walk/fields.h"

#define MAX_CPUS 8192

enum { ST_USER, ST_NICE, ST_SYSTEM, ST_SOFTIRQ, ST_IRQ, ST_IDLE, ST_IOWAIT, ST_STEAL, ST_GUEST,
       ST_GUEST_NICE, ST_N };

static const char *const stat_enum[ST_N] = {
	"CPUTIME_USER", "CPUTIME_NICE", "CPUTIME_SYSTEM", "CPUTIME_SOFTIRQ", "CPUTIME_IRQ",
	"CPUTIME_IDLE", "CPUTIME_IOWAIT", "CPUTIME_STEAL", "CPUTIME_GUEST", "CPUTIME_GUEST_NICE",
};

struct cpustat_off {
	uint64_t kcpustat, tick_sched, runqueues, tk;	/* symbol addresses (per-CPU: offsets) */
	int32_t idx[ST_N];				/* cpustat[] index of each state */
	int32_t cpustat, idle_sleeptime, iowait_sleeptime, idle_entrytime;
	int32_t nr_iowait, tk_mono_base;
	struct nfm_field idle_active;	/* the bitfield (6.1), or the flags word (6.7+: bit 2) */
	bool idle_flags_word;
	bool have_tick_sched;
};

static int make_cpustat_off(struct nfm_ctx *ctx, void *block)
{
	struct cpustat_off *o = block;
	struct nfm_field f;
	uint64_t tk_core;
	uint32_t seqsize;
	int64_t v;
	int i, err;

	err = nfm_ksym(ctx, "kernel_cpustat", &o->kcpustat);
	if (err == 0)
		err = nfm_btf_field(ctx->btf, "kernel_cpustat", "cpustat", &f);
	if (err < 0) {
		nfm_err(&ctx->log, "this kernel has no kernel_cpustat");
		return -ENOENT;
	}
	o->cpustat = (int32_t)f.offset;
	for (i = 0; i < ST_N; i++) {
		o->idx[i] = nfm_btf_enum_value(ctx->btf, stat_enum[i], &v) == 0 && v >= 0 && v < 16 ?
				    (int32_t)v : -1;
	}
	o->have_tick_sched = nfm_ksym(ctx, "tick_cpu_sched", &o->tick_sched) == 0 &&
			     nfm_ksym(ctx, "tk_core", &tk_core) == 0 &&
			     nfm_btf_type_size(ctx->btf, "seqcount_raw_spinlock_t", &seqsize) == 0;
	if (o->have_tick_sched) {
		struct nfm_field a, b, c, d;

		o->tk = tk_core + ((seqsize + 7) & ~7u);
		if (nfm_btf_field(ctx->btf, "tick_sched", "idle_sleeptime", &a) < 0 ||
		    nfm_btf_field(ctx->btf, "tick_sched", "iowait_sleeptime", &b) < 0 ||
		    nfm_btf_field(ctx->btf, "tick_sched", "idle_entrytime", &c) < 0 ||
		    nfm_btf_field(ctx->btf, "timekeeper", "tkr_mono.base", &d) < 0)
			o->have_tick_sched = false;
		o->idle_sleeptime = (int32_t)a.offset;
		o->iowait_sleeptime = (int32_t)b.offset;
		o->idle_entrytime = (int32_t)c.offset;
		o->tk_mono_base = (int32_t)d.offset;
		/* 6.7 folded the tick_sched bitfields into flags (TS_FLAG_IDLE_ACTIVE = bit 2). */
		if (nfm_btf_field(ctx->btf, "tick_sched", "idle_active", &o->idle_active) < 0) {
			if (nfm_btf_field(ctx->btf, "tick_sched", "flags", &o->idle_active) < 0)
				o->have_tick_sched = false;
			o->idle_flags_word = true;
		}
	}
	o->nr_iowait = -1;
	if (nfm_ksym(ctx, "runqueues", &o->runqueues) == 0 &&
	    nfm_btf_field(ctx->btf, "rq", "nr_iowait", &f) == 0)
		o->nr_iowait = (int32_t)f.offset;
	return 0;
}

static int resolve(struct nfm_ctx *ctx, struct cpustat_off **ret)
{
	int err;

	*ret = nfm_kernel_layout(ctx, NFM_SLOT_CPU, sizeof(struct cpustat_off), make_cpustat_off,
				 &err);
	return err;
}

static uint64_t stat_of(const struct cpustat_off *o, const uint64_t *cs, int st)
{
	return o->idx[st] >= 0 ? cs[o->idx[st]] : 0;
}

/* One CPU's line; online decides whether the tickless idle accounting applies. */
static int cpu_times(struct nfm_ctx *ctx, const struct cpustat_off *o, uint64_t pcpu, bool online,
		     int64_t now, struct nfm_cpu_times *t)
{
	uint64_t cs[16];
	int err = nfm_kread(ctx, o->kcpustat + pcpu + o->cpustat, cs, sizeof(cs));

	if (err < 0)
		return err;
	t->user = stat_of(o, cs, ST_USER);
	t->nice = stat_of(o, cs, ST_NICE);
	t->system = stat_of(o, cs, ST_SYSTEM);
	t->idle = stat_of(o, cs, ST_IDLE);
	t->iowait = stat_of(o, cs, ST_IOWAIT);
	t->irq = stat_of(o, cs, ST_IRQ);
	t->softirq = stat_of(o, cs, ST_SOFTIRQ);
	t->steal = stat_of(o, cs, ST_STEAL);
	t->guest = stat_of(o, cs, ST_GUEST);
	t->guest_nice = stat_of(o, cs, ST_GUEST_NICE);
	if (online && o->have_tick_sched) {
		uint64_t ts = o->tick_sched + pcpu;
		int64_t idle, iowait, entry;
		uint64_t word = 0;
		int32_t nr_iowait = 0;
		bool active;

		if (nfm_kread(ctx, ts + o->idle_sleeptime, &idle, 8) < 0 ||
		    nfm_kread(ctx, ts + o->iowait_sleeptime, &iowait, 8) < 0 ||
		    nfm_kread(ctx, ts + o->idle_entrytime, &entry, 8) < 0 ||
		    nfm_kread(ctx, ts + o->idle_active.offset, &word, 4) < 0)
			return 0;	/* keep the cpustat values */
		active = o->idle_flags_word ? (word >> 2) & 1 :
			 (word >> o->idle_active.bit_offset) & 1;
		if (o->nr_iowait >= 0)
			nfm_kread(ctx, o->runqueues + pcpu + o->nr_iowait, &nr_iowait, 4);
		/* The idle period under way counts too, to iowait if tasks wait on I/O. */
		if (active && now > entry) {
			if (nr_iowait > 0)
				iowait += now - entry;
			else
				idle += now - entry;
		}
		if (idle >= 0)
			t->idle = (uint64_t)idle;
		if (iowait >= 0)
			t->iowait = (uint64_t)iowait;
	}
	return 0;
}

static void add(struct nfm_cpu_times *a, const struct nfm_cpu_times *b)
{
	a->user += b->user;
	a->nice += b->nice;
	a->system += b->system;
	a->idle += b->idle;
	a->iowait += b->iowait;
	a->irq += b->irq;
	a->softirq += b->softirq;
	a->steal += b->steal;
	a->guest += b->guest;
	a->guest_nice += b->guest_nice;
}

int nfm_cpu_times(struct nfm_ctx *ctx, struct nfm_cpu_times *total, struct nfm_cpu_times *per_cpu,
		  int max)
{
	uint64_t possible_mask, online_mask, pco, a, pw = 0, ow = 0, pcpu;
	struct nfm_cpu_times sum = { .cpu = -1 };
	struct cpustat_off *o;
	int64_t now = 0;
	uint32_t nr = 0;
	unsigned int cpu;
	int err, n = 0;

	err = resolve(ctx, &o);
	if (err < 0)
		return err;
	if ((err = nfm_ksym(ctx, "__cpu_possible_mask", &possible_mask)) < 0 ||
	    (err = nfm_ksym(ctx, "__cpu_online_mask", &online_mask)) < 0 ||
	    (err = nfm_ksym(ctx, "__per_cpu_offset", &pco)) < 0 ||
	    (err = nfm_ksym(ctx, "nr_cpu_ids", &a)) < 0 || (err = nfm_kread_u32(ctx, a, &nr)) < 0)
		return err;
	if (nr > MAX_CPUS)
		return -EBADMSG;
	if (o->have_tick_sched)
		nfm_kread(ctx, o->tk + o->tk_mono_base, &now, 8);
	for (cpu = 0; cpu < nr; cpu++) {
		struct nfm_cpu_times t = { .cpu = (int)cpu };
		bool online;

		if (cpu % 64 == 0 && ((err = nfm_kread_u64(ctx, possible_mask + cpu / 8, &pw)) < 0 ||
				      (err = nfm_kread_u64(ctx, online_mask + cpu / 8, &ow)) < 0))
			return err;
		if (!(pw >> (cpu % 64) & 1))
			continue;
		online = ow >> (cpu % 64) & 1;
		if ((err = nfm_kread_u64(ctx, pco + cpu * 8ull, &pcpu)) < 0)
			return err;
		err = cpu_times(ctx, o, pcpu, online, now, &t);
		if (err < 0)
			return err;
		add(&sum, &t);
		if (online) {
			if (per_cpu && n < max)
				per_cpu[n] = t;
			n++;
		}
	}
	if (total)
		*total = sum;
	return n;
}
