/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Crawl scheduling: which VM is crawled when, with which features (each has its interval),
 * attach retries with backoff, and what a finished crawl means for its VM (status, counters,
 * the sections it publishes).
 */
#ifndef NFMD_SCHEDULE_H
#define NFMD_SCHEDULE_H

#include "config.h"
#include "log.h"
#include "vms.h"
#include "worker.h"

struct scheduler {
	const struct nfmd_config *cfg;
	const struct nfmd_log *log;
	struct vm_table *vms;
	struct worker_pool *pool;
	double next_rescan;		/* CLOCK_MONOTONIC */
	/* Called (main thread) after a VM's crawl is published; the layers above the scheduler
	 * (the recorder, which needs the API's document) hook in here, so this file needs neither. */
	void (*published)(struct vm *vm, void *arg);
	void *published_arg;
};

void schedule_init(struct scheduler *s, const struct nfmd_config *cfg, const struct nfmd_log *log,
		   struct vm_table *vms, struct worker_pool *pool);
/* Rescan when due, dispatch due crawls; returns the CLOCK_MONOTONIC time something is next due. */
double schedule_due(struct scheduler *s, double now);
/* Publish finished crawls (main thread): a list from pool_take_done(). */
void schedule_done(struct scheduler *s, struct pool_item *done);
/* The pool's run function (worker thread); arg is the struct scheduler. */
void schedule_run_job(struct pool_item *it, void *arg);

#endif
