/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What one crawl reads from a guest: one section per feature, with its metric samples (of the
 * families below) and its part of the JSON frame. Runs on worker threads and touches only the
 * context it is given and the section it builds.
 */
#ifndef NFMD_COLLECT_H
#define NFMD_COLLECT_H

#include <nfm/host.h>
#include <nfm/nfm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "section.h"

enum metric_type { M_GAUGE, M_COUNTER };

/* A metric family collect.c produces: all its samples are written together on /metrics. */
struct family {
	const char *name, *help;
	enum metric_type type;
};
extern const struct family families[];
extern const size_t nr_families;

/* Limits every collection obeys (memory per VM is bounded by these). */
struct collect_limits {
	int top;		/* processes with per-process metrics */
	int max_json_tasks;	/* processes listed in the JSON frame */
	int max_items;		/* interfaces, modules, mounts, sockets listed */
	double deadline;	/* CLOCK_MONOTONIC time the crawl must stop by */
};

/* What the crawl's re-validation already read (every crawl reads it, so F_BASE need not). */
struct crawl_base {
	struct nfm_kernel_info ki;
	uint64_t uptime_ns;
	bool have_uptime;
	const char *source;	/* nfm_source_describe */
	/* The host's accounting of the VM, read once per crawl by the first section that needs
	 * it (crawl_host_sample): the process walk when it is due, so that the sample and the
	 * walk's CPU times are of one instant; the base section shares it. */
	struct nfm_host_vm *host_vm;		/* NULL: no host side found */
	struct nfm_host_sample host_buf;
	bool host_read, host_ok;
};

/* This crawl's host sample: read at the first call, the same one after; NULL if unreadable. */
const struct nfm_host_sample *crawl_host_sample(struct crawl_base *b);

/* Whether this build of nfmd can collect f (the library API it needs exists). */
bool collect_supported(enum feature f);

/*
 * Collect one feature from an attached guest into *ret (a new section; also on failure, with
 * err set, so the API can say what failed; NULL only when memory ran out).
 */
void collect(struct nfm_ctx *ctx, enum feature f, struct crawl_base *base,
	     const struct collect_limits *lim, struct section **ret);

#endif
