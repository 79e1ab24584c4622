/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A QEMU process's threads from one host sample to the next: the run and wait times of those
 * that exited stay in the process's totals, so that the totals only grow (they are Prometheus
 * counters; a sum over the live threads alone drops when an I/O worker exits).
 */
#ifndef NFM_LIB_SOURCE_HOST_GONE_H
#define NFM_LIB_SOURCE_HOST_GONE_H

#include <stdint.h>

struct host_thr {
	int tid;
	uint64_t run_ns, wait_ns;
};

struct host_gone {
	struct host_thr *last;	/* the previous sample's threads, by tid */
	int nr_last;
	uint64_t run_ns, wait_ns;	/* the exited threads' last readings, summed */
};

/*
 * This sample's threads cur[0..n) (sorted here, then kept as the new last): a thread of the last
 * sample that is not among them, or whose tid now shows less run time (a new thread with a
 * reused tid), adds its last reading to the exited sums. Returns 0, or -ENOMEM (the sums kept).
 */
int host_gone_update(struct host_gone *g, struct host_thr *cur, int n);
void host_gone_free(struct host_gone *g);

#endif
