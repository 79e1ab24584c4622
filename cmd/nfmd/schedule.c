// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Crawl scheduling: every feature of every attached VM on its interval (all due features of a VM
 * in one crawl), attach attempts with backoff, and publishing what a finished crawl found.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect.h"
#include "crawl.h"
#include "record.h"
#include "schedule.h"
#include "util.h"

/* A guest that was up this recently is retried quickly: it is probably rebooting. */
#define RECENT_UP_SECONDS 120.0

void schedule_init(struct scheduler *s, const struct nfmd_config *cfg, const struct nfmd_log *log,
		   struct vm_table *vms, struct worker_pool *pool)
{
	*s = (struct scheduler){ .cfg = cfg, .log = log, .vms = vms, .pool = pool };
}

void schedule_run_job(struct pool_item *it, void *arg)
{
	const struct scheduler *s = arg;

	crawl_run((struct job *)it, s->cfg, s->log);
}

static void dispatch(struct scheduler *s, struct vm *vm, unsigned int mask, double now)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j)
		return;
	j->vm = vm;
	j->mask = mask;
	j->frames = vm->rec_queue;	/* the worker writes the frames queued so far */
	vm->rec_queue = NULL;
	/* Guests attached before (rebooting, most likely) stay in the crawl queue: back soon. */
	j->item.queue = !vm->g.ctx && !vm->attaches ? POOL_ATTACH : POOL_CRAWL;
	/* First attempts and guests up a moment ago (rebooting) before known no-kernel VMs; then
	 * small VMs first: their attach (or failed RAM scan) is quick. */
	j->item.prio = (uint64_t)(vm->attach_failures && !(vm->last_up && now - vm->last_up < RECENT_UP_SECONDS)) << 56 |
		       (vm->ram_size >> 20);
	vm->busy = true;
	vm->busy_since = now;
	pool_submit(s->pool, &j->item);
}

double schedule_due(struct scheduler *s, double now)
{
	const struct nfmd_config *cfg = s->cfg;
	double next;
	struct vm *vm;

	if (now >= s->next_rescan) {
		vm_table_rescan(s->vms);
		s->next_rescan = now + cfg->rescan;
	}
	next = s->next_rescan;
	for (vm = s->vms->head; vm; vm = vm->next) {
		unsigned int mask = 0;

		if (vm->gone)
			continue;
		if (vm->busy) {
			/* A crawl past its budget: say so once; the worker gives up at the next step.
			 * (Attach attempts wait in their own queue and may take long: not counted.) */
			if (vm->g.ctx && now - vm->busy_since > cfg->crawl_timeout * 2 &&
			    vm->status != VS_ERROR) {
				vm->status = VS_ERROR;
				snprintf(vm->error, sizeof(vm->error), "crawl running for more than %.1fs",
					 cfg->crawl_timeout * 2);
				vm->timeouts++;
			}
			continue;
		}
		if (!vm->g.ctx) {
			if (now >= vm->retry_at) {
				for (int f = 0; f < F_NR; f++)
					if (collect_supported(f))
						mask |= 1u << f;
				dispatch(s, vm, mask, now);
			} else if (vm->retry_at < next) {
				next = vm->retry_at;
			}
			continue;
		}
		for (int f = 0; f < F_NR; f++) {
			if (!collect_supported(f) || cfg->interval[f] <= 0)
				continue;
			if (now >= vm->next_due[f] - 0.0005)
				mask |= 1u << f;
		}
		if (mask) {
			mask |= 1u << F_BASE;	/* every crawl re-validates and reads the base */
			for (int f = 0; f < F_NR; f++) {
				if (!(mask & (1u << f)))
					continue;
				vm->next_due[f] += cfg->interval[f];
				if (vm->next_due[f] <= now)	/* fell behind: skip, don't burst */
					vm->next_due[f] = now + cfg->interval[f];
			}
			dispatch(s, vm, mask, now);
			continue;
		}
		for (int f = 0; f < F_NR; f++)
			if (collect_supported(f) && cfg->interval[f] > 0 && vm->next_due[f] < next)
				next = vm->next_due[f];
	}
	return next;
}

static void observe(struct vm *vm, double d)
{
	for (int i = 0; i < NR_BUCKETS; i++)
		if (d <= crawl_buckets[i])
			vm->buckets[i]++;
	vm->duration_sum += d;
	vm->crawls++;
	vm->last_crawl_duration = d;
	vm->last_crawl_at = now_real();
}

static void crawl_done(struct scheduler *s, struct job *j)
{
	const struct nfmd_config *cfg = s->cfg;
	struct vm *vm = j->vm;
	double now = now_mono();
	bool sec_err = false;

	vm->busy = false;
	/* the guest is the main thread's again: copy what the API shows of the recording */
	vm->rec_stats = vm->g.rec;
	vm->rec_stats.store = NULL;
	vm->rec_stats.rec = NULL;
	if (j->rec_err) {
		/* frames lost: the chain of deltas starts again at a key frame. Said at the 1st,
		 * 2nd, 4th, 8th... failure: a full disk does not flood the log. */
		record_chain_broken(vm);
		if (!(vm->g.rec.errors & (vm->g.rec.errors - 1)))
			logmsg(s->log, NFM_LOG_WARN, "vm %s (pid %d): recording (failure %llu): %s",
			       vm->label_vm, vm->pid, (unsigned long long)vm->g.rec.errors, j->rec_msg);
	}
	if (vm->gone) {
		for (int f = 0; f < F_NR; f++)
			section_unref(j->sec[f]);
		vm_table_remove(s->vms, vm);
		free(j);
		return;
	}
	observe(vm, j->ended - j->started);
	memcpy(vm->run_state, j->run_state, sizeof(vm->run_state));
	if (j->reattached)
		vm_drop_sections(vm);
	if (j->rebooted)
		vm->reboots++;
	if (j->attach < 0) {
		/* A guest up a moment ago is rebooting, and a VM seen a moment ago may be booting:
		 * look again soon. */
		bool recent = vm->last_up && now - vm->last_up < RECENT_UP_SECONDS;
		bool young = !vm->last_up && now - vm->first_seen < 60;
		double cap = recent ? 2.0 : young ? 4.0 : cfg->attach_backoff_max;
		double took = j->ended - j->started;

		vm->attach_failures++;
		vm->crawl_errors++;
		if (j->attach == -ESRCH)
			vm->status = VS_GONE;
		else if (j->attach == -ENOENT || j->attach == -EBADMSG)
			vm->status = j->reattached || recent ? VS_ATTACHING : VS_NO_KERNEL;
		else
			vm->status = VS_ERROR;
		if (strcmp(vm->error, j->msg))
			logmsg(s->log, NFM_LOG_INFO, "vm %s (pid %d): %s", vm->label_vm, vm->pid, j->msg);
		snprintf(vm->error, sizeof(vm->error), "%s", j->msg);
		vm->backoff = vm->backoff ? vm->backoff * 2 : 0.5;
		if (vm->backoff > cap)
			vm->backoff = cap;
		/* A slow attempt (a scan of a large VM's RAM) may use at most ~10% of a worker. */
		if (!recent && vm->backoff < took * 10)
			vm->backoff = took * 10 > 600 ? 600 : took * 10;
		vm->retry_at = now + vm->backoff;
		vm_drop_sections(vm);
		free(j);
		return;
	}
	if (j->attach == 1) {
		vm->attaches++;
		vm->backoff = 0;
		logmsg(s->log, NFM_LOG_INFO, "vm %s (pid %d): attached to Linux %s in %.0f ms",
		       vm->label_vm, vm->pid, vm->g.release, vm->g.attach_ms);
		/* Spread the VMs' crawls over the interval instead of crawling all at once; one
		 * phase per VM, so that features with the same interval fall in the same crawl. */
		double phase = (double)(rand() % 1000) / 1000.0;

		for (int f = 0; f < F_NR; f++)
			vm->next_due[f] = now + cfg->interval[F_BASE] * phase;
	}
	if (j->err) {
		vm->crawl_errors++;
		vm->status = VS_ERROR;
		snprintf(vm->error, sizeof(vm->error), "%s", j->msg);
		vm->retry_at = now;	/* the context was dropped: attach again at once */
		vm_drop_sections(vm);
		free(j);
		return;
	}
	for (int f = 0; f < F_NR; f++) {
		if (!j->sec[f])
			continue;
		if (j->sec[f]->err && j->sec[f]->err != -EOPNOTSUPP)
			sec_err = true;
		section_hand_over(j->sec[f], vm->sec[f]);
		section_unref(vm->sec[f]);
		vm->sec[f] = j->sec[f];
	}
	if (sec_err)
		vm->crawl_errors++;
	if (j->timed_out) {
		vm->timeouts++;
		vm->crawl_errors++;
	}
	vm->status = j->paused ? VS_PAUSED : VS_UP;
	vm->error[0] = 0;
	if (j->timed_out)
		snprintf(vm->error, sizeof(vm->error), "crawl exceeded its %.1fs budget; some features skipped",
			 cfg->crawl_timeout);
	vm->last_up = now;
	if (s->published)
		s->published(vm, s->published_arg);
	free(j);
}

void schedule_done(struct scheduler *s, struct pool_item *done)
{
	struct pool_item *next;

	for (; done; done = next) {
		next = done->next;
		crawl_done(s, (struct job *)done);
	}
}
