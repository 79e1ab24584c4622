// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Per-CPU offsets (lib/walk/percpu.c): nr_cpu_ids, the online and possible masks and
 * __per_cpu_offset[], read through the symbols of the BTF guest (fuzz/common/btfguest.h).
 */
#include "../common/btfguest.h"
#include "walk/percpu.h"

static void seed(struct fz_seed *s)
{
	int cpu;

	fz_put32(s, fz_sym_pa("nr_cpu_ids"), 4);
	fz_put64(s, fz_sym_pa("__cpu_online_mask"), 0xb);
	fz_put64(s, fz_sym_pa("__cpu_possible_mask"), 0xf);
	for (cpu = 0; cpu < 4; cpu++)
		fz_put64(s, fz_sym_pa("__per_cpu_offset") + 8u * (unsigned)cpu,
			 FZ_KV(0x80000u + 0x8000u * (unsigned)cpu));
}

FZ_SEED_INIT(seed)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint64_t offs[NFM_MAX_CPUS];
	struct fz_guest *g = fz_guest_new(data, size);
	int online;

	for (online = 0; online <= 1; online++)
		fz_report(online ? "online" : "possible",
			  nfm_percpu_offsets(g->ctx, online, offs, NFM_MAX_CPUS), 0);
	fz_guest_free(g);
	return 0;
}
