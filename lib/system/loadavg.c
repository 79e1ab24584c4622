// SPDX-License-Identifier: GPL-2.0-or-later
/* /proc/loadavg (fs/proc/loadavg.c): avenrun, runnable tasks, threads, last PID. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <nfm/system.h>

#include "core/context.h"

#define MAX_CPUS 8192
#define FSHIFT 11
#define FIXED_1 (1 << FSHIFT)

static int read_sym(struct nfm_ctx *ctx, const char *sym, void *buf, size_t len)
{
	uint64_t a;
	int err = nfm_ksym(ctx, sym, &a);

	return err < 0 ? err : nfm_kread(ctx, a, buf, len);
}

/* Sum of rq->nr_running over online CPUs (nr_running()). */
static int nr_running(struct nfm_ctx *ctx, unsigned int *ret)
{
	struct nfm_field f;
	uint64_t rq, pco, mask_addr, word = 0;
	uint32_t nr_cpus = 0, nr;
	unsigned int sum = 0, cpu;
	int err;

	if ((err = nfm_btf_field(ctx->btf, "rq", "nr_running", &f)) < 0 ||
	    (err = nfm_ksym(ctx, "runqueues", &rq)) < 0 ||
	    (err = nfm_ksym(ctx, "__per_cpu_offset", &pco)) < 0 ||
	    (err = nfm_ksym(ctx, "__cpu_online_mask", &mask_addr)) < 0 ||
	    (err = read_sym(ctx, "nr_cpu_ids", &nr_cpus, 4)) < 0)
		return err;
	if (nr_cpus > MAX_CPUS)
		nr_cpus = MAX_CPUS;
	for (cpu = 0; cpu < nr_cpus; cpu++) {
		uint64_t off;

		if (cpu % 64 == 0 && (err = nfm_kread_u64(ctx, mask_addr + cpu / 8, &word)) < 0)
			return err;
		if (!(word >> (cpu % 64) & 1))
			continue;
		if ((err = nfm_kread_u64(ctx, pco + cpu * 8ull, &off)) < 0 ||
		    (err = nfm_kread_u32(ctx, rq + off + f.offset, &nr)) < 0)
			return err;
		sum += nr;
	}
	*ret = sum;
	return 0;
}

int nfm_loadavg(struct nfm_ctx *ctx, struct nfm_loadavg *ret)
{
	struct nfm_loadavg la = { 0 };
	struct nfm_field idr, next;
	uint64_t ns;
	uint32_t v;
	int err, i, cursor = 0;
	unsigned long li[3], lf[3];

	err = read_sym(ctx, "avenrun", la.avenrun, sizeof(la.avenrun));
	if (err == 0)
		err = read_sym(ctx, "nr_threads", &v, 4);
	if (err < 0)
		return err;
	la.threads = v;
	err = nr_running(ctx, &la.running);
	if (err < 0)
		return err;
	/* idr_get_cursor(&init_pid_ns.idr) - 1: the last PID handed out */
	if (nfm_ksym(ctx, "init_pid_ns", &ns) == 0 && nfm_btf_field(ctx->btf, "pid_namespace", "idr", &idr) == 0 &&
	    nfm_btf_field(ctx->btf, "idr", "idr_next", &next) == 0 &&
	    nfm_kread_u32(ctx, ns + idr.offset + next.offset, &v) == 0)
		cursor = (int)v;
	la.last_pid = cursor - 1;
	for (i = 0; i < 3; i++) {
		/* get_avenrun(loads, FIXED_1/200, 0): rounded to two decimals */
		uint64_t x = la.avenrun[i] + FIXED_1 / 200;

		li[i] = (unsigned long)(x >> FSHIFT);
		lf[i] = (unsigned long)((((x & (FIXED_1 - 1)) * 100)) >> FSHIFT);
		la.load[i] = (double)li[i] + lf[i] / 100.0;
	}
	snprintf(la.text, sizeof(la.text), "%lu.%02lu %lu.%02lu %lu.%02lu %u/%u %d", li[0], lf[0], li[1],
		 lf[1], li[2], lf[2], la.running, la.threads, la.last_pid);
	*ret = la;
	return 0;
}
