// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Memory: OOM kills since boot (the OOM_KILL vm event, mm/vmstat.c, summed over the online CPUs'
 * vm_event_states as all_vm_events() does; the victims from the OOM killer's log lines), how
 * much is available (/proc/meminfo's MemAvailable), and direct reclaim (ALLOCSTALL_*: allocations
 * that had to reclaim memory themselves).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/diag.h>
#include <nfm/system.h>

#include "core/context.h"
#include "diag/diag_int.h"
#include "walk/percpu.h"

#define LOW_MEMORY_PERCENT 5

/* The sums of the named vm events over the online CPUs (-1 for an event the kernel lacks). */
static int vm_events(struct diag *d, const char *const *names, int64_t *out, int nr)
{
	uint64_t base, *offs;
	int64_t idx[8];
	int n, err = 0;

	if (nr > 8)
		return -EINVAL;
	if ((err = nfm_sym_lookup(d->ctx, "vm_event_states", &base, NULL)) < 0)
		return err;
	for (int k = 0; k < nr; k++) {
		out[k] = -1;
		if (nfm_btf_enum_value(d->ctx->btf, names[k], &idx[k]) < 0 || idx[k] < 0 ||
		    idx[k] > 4096)
			idx[k] = -1;
	}
	offs = calloc(DIAG_MAX_CPUS, sizeof(*offs));
	if (!offs)
		return -ENOMEM;
	n = nfm_percpu_offsets(d->ctx, 1, offs, DIAG_MAX_CPUS);
	if (n < 0)
		err = n;
	for (int c = 0; c < n && !err; c++) {
		for (int k = 0; k < nr; k++) {
			uint64_t v;

			if (idx[k] < 0)
				continue;
			/* struct vm_event_state { unsigned long event[NR_VM_EVENT_ITEMS]; } */
			if ((err = nfm_kread(d->ctx, base + offs[c] + 8 * (uint64_t)idx[k], &v, 8)) < 0)
				break;
			out[k] = (out[k] < 0 ? 0 : out[k]) + (int64_t)v;
		}
	}
	free(offs);
	return err;
}

static void oom_victims(struct diag *d, struct nfm_diag_finding *f)
{
	int shown = 0;

	/* "Out of memory: Killed process 123 (hog) total-vm:..." (mm/oom_kill.c __oom_kill_process),
	 * and the "oom-kill:constraint=...,task=hog,pid=123,uid=0" line before it */
	for (int i = diag_log_find(d, 0, "Killed process "); i >= 0 && shown < 16;
	     i = diag_log_find(d, i + 1, "Killed process ")) {
		int c = i > 0 && d->log[i - 1].text && !strncmp(d->log[i - 1].text, "oom-kill:", 9) ?
				i - 1 : i;

		diag_log_evidence(d, f, c, c == i ? 1 : 2);
		shown++;
	}
	if (!shown)
		diag_evidence(d, f, "no victim is named in the log (it may have been overwritten)");
}

void diag_check_memory(struct diag *d)
{
	static const char *const events[] = { "OOM_KILL", "ALLOCSTALL_DMA", "ALLOCSTALL_DMA32",
					      "ALLOCSTALL_NORMAL", "ALLOCSTALL_MOVABLE",
					      "PGSCAN_DIRECT", "PGSCAN_KSWAPD" };
	struct nfm_diag_report *r = d->r;
	struct nfm_meminfo mi;
	struct nfm_diag_finding *f;
	int64_t ev[7], stall = -1;
	int err;

	diag_check(d, "memory", 0, NULL);
	err = vm_events(d, events, ev, 7);
	if (err < 0)
		diag_check(d, "memory", err, "vm_event_states (CONFIG_VM_EVENT_COUNTERS)");
	else {
		for (int k = 1; k <= 4; k++)
			if (ev[k] >= 0)
				stall = (stall < 0 ? 0 : stall) + ev[k];
		r->fig.oom_kills = ev[0];
		r->fig.allocstall = stall;
	}
	if (err == 0 && ev[0] < 0)
		diag_check(d, "memory", -ENOENT, "the OOM_KILL vm event");
	if (err == 0 && ev[0] > 0) {
		f = diag_add(d, NFM_DIAG_OOM_KILL, NFM_DIAG_ERROR,
			     "the OOM killer killed %lld process%s since boot", (long long)ev[0],
			     ev[0] == 1 ? "" : "es");
		diag_evidence(d, f, "vm event OOM_KILL = %lld (summed over the CPUs)",
			      (long long)ev[0]);
		oom_victims(d, f);
	}
	if ((err = nfm_meminfo(d->ctx, &mi)) < 0) {
		diag_check(d, "memory", err, "/proc/meminfo figures");
		return;
	}
	r->fig.mem_total_kb = (int64_t)mi.mem_total;
	r->fig.mem_available_kb = (int64_t)mi.mem_available;
	if (mi.mem_total && mi.mem_available * 100 < mi.mem_total * LOW_MEMORY_PERCENT) {
		f = diag_add(d, NFM_DIAG_LOW_MEMORY, NFM_DIAG_WARNING,
			     "little memory available: %llu kB of %llu kB (%.1f%%)",
			     (unsigned long long)mi.mem_available, (unsigned long long)mi.mem_total,
			     100.0 * (double)mi.mem_available / (double)mi.mem_total);
		diag_evidence(d, f, "MemFree %llu kB, MemAvailable %llu kB, Cached %llu kB, "
			      "SwapFree %llu kB of %llu kB", (unsigned long long)mi.mem_free,
			      (unsigned long long)mi.mem_available, (unsigned long long)mi.cached,
			      (unsigned long long)mi.swap_free, (unsigned long long)mi.swap_total);
		if (stall >= 0)
			diag_evidence(d, f, "direct reclaim stalls since boot (ALLOCSTALL_*): %lld; "
				      "pages scanned by direct reclaim %lld, by kswapd %lld",
				      (long long)stall, (long long)ev[5], (long long)ev[6]);
	}
}
