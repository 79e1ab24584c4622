/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One crawl of one VM, on a worker thread: attach when the guest has no context, re-validate it
 * (the guest may have rebooted under it), then collect the features due. It writes only the
 * job and the VM's `struct guest`, which the worker owns while vm->busy.
 */
#ifndef NFMD_CRAWL_H
#define NFMD_CRAWL_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "log.h"
#include "section.h"
#include "vms.h"
#include "worker.h"

struct job {
	struct pool_item item;		/* first: the pool hands it back */
	struct vm *vm;
	unsigned int mask;		/* 1 << feature */
	struct record_frame *frames;	/* state-timeline frames to write (record.h); the job frees */
	/* results */
	int attach;			/* 0 none, 1 attached now, -errno attach failed */
	bool reattached;		/* the context no longer matched the guest: attached again */
	bool rebooted;			/* ... and found a different kernel (a reboot) */
	bool timed_out;
	bool paused;			/* the guest clock stands still and QEMU is idle */
	char run_state[32];		/* QEMU's run state (QMP), "" when it did not answer */
	int err;			/* 0 or -errno of the base crawl */
	char msg[256];
	struct section *sec[F_NR];
	double started, ended;		/* of the crawl (a snapshot after it is not counted) */
	int rec_err;			/* 0 or -errno of the recording (record_run) */
	char rec_msg[256];
};

void crawl_run(struct job *j, const struct nfmd_config *cfg, const struct nfmd_log *log);

#endif
