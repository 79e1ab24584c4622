/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /metrics: the Prometheus text format of the VM table and of nfmd itself. */
#ifndef NFMD_METRICS_H
#define NFMD_METRICS_H

#include <stdint.h>

#include "util.h"
#include "vms.h"

/* What the HTTP server counts (rendered as nfmd_http_*_total). */
struct http_counters {
	uint64_t requests, errors;
	uint64_t slow_closed;	/* connections shut for an overdue request head */
};

void metrics_render(struct sbuf *b, const struct vm_table *vms, const struct http_counters *hc);

#endif
