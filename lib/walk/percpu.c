// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>

#include "core/context.h"
#include "walk/fields.h"
#include "walk/percpu.h"

int nfm_percpu_cpus(struct nfm_ctx *ctx, int online, unsigned int *cpus, uint64_t *offs, int max)
{
	uint64_t mask, pco, a, word = 0;
	uint32_t nr = 0;
	int err, n = 0;
	unsigned int cpu;

	if ((err = nfm_ksym(ctx, online ? "__cpu_online_mask" : "__cpu_possible_mask", &mask)) < 0 ||
	    (err = nfm_ksym(ctx, "__per_cpu_offset", &pco)) < 0 ||
	    (err = nfm_ksym(ctx, "nr_cpu_ids", &a)) < 0 || (err = nfm_kread_u32(ctx, a, &nr)) < 0)
		return err;
	if (nr > NFM_MAX_CPUS)
		nr = NFM_MAX_CPUS;
	for (cpu = 0; cpu < nr && n < max; cpu++) {
		if (cpu % 64 == 0 && (err = nfm_kread_u64(ctx, mask + cpu / 8, &word)) < 0)
			return err;
		if (!(word >> (cpu % 64) & 1))
			continue;
		if ((err = nfm_kread_u64(ctx, pco + cpu * 8ull, &offs[n])) < 0)
			return err;
		if (cpus)
			cpus[n] = cpu;
		n++;
	}
	return n;
}

int nfm_percpu_offsets(struct nfm_ctx *ctx, int online, uint64_t *offs, int max)
{
	return nfm_percpu_cpus(ctx, online, NULL, offs, max);
}

struct pc_off {
	int32_t count, counters;
};

static const struct nfm_field_spec pc_specs[] = {
	NFM_FIELD(struct pc_off, count, "percpu_counter", "count", 0),
	NFM_FIELD(struct pc_off, counters, "percpu_counter", "counters", 0),
};

int nfm_percpu_counter_sum(struct nfm_ctx *ctx, uint64_t pc, const uint64_t *offs, int ncpu,
			   int64_t *ret)
{
	struct pc_off o;
	int64_t count;
	uint64_t counters;
	int err;

	if ((err = nfm_resolve_fields(ctx, pc_specs, 2, &o)) < 0 ||
	    (err = nfm_kread(ctx, pc + (uint64_t)o.count, &count, 8)) < 0 ||
	    (err = nfm_kread(ctx, pc + (uint64_t)o.counters, &counters, 8)) < 0)
		return err;
	for (int c = 0; c < ncpu && counters; c++) {
		int32_t v;

		if ((err = nfm_kread(ctx, counters + offs[c], &v, 4)) < 0)
			return err;
		count += v;
	}
	*ret = count;
	return 0;
}
