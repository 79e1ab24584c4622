/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nfmd: every QEMU VM on the host, crawled on a schedule, served as Prometheus metrics and JSON.
 *
 * All of the daemon's state is one struct nfmd, made in main.c and passed down: each file gets
 * the narrowest part it needs (the log, the configuration, the VM table...) and keeps no mutable
 * state of its own. Files by job, and who includes whom (a DAG: nothing includes upward):
 *
 *   main.c      options, the event loop (epoll over timerfd, signalfd, the pool's eventfd and
 *               libmicrohttpd's epoll fd), startup and shutdown        -> everything below
 *   http.c      libmicrohttpd server: routing, TLS, authentication    -> api, metrics
 *   conffile.c  --config FILE and the secret files it names          -> log
 *   api.c       JSON API documents                                    -> vms (cmd/common jout)
 *   metrics.c   Prometheus text of the VM table and of nfmd           -> vms, collect
 *   schedule.c  which VM is crawled when; publishing finished crawls  -> crawl, record, worker
 *   crawl.c     one crawl of one VM on a worker: attach, re-validate  -> collect, record, vms
 *   record.c    --record: a recorded VM's frames and snapshots        -> vms (cmd/common frames)
 *   worker.c    the thread pool (two queues, an eventfd)              -> log, util
 *   vms.c       the VM table: discovery, appear, exit                 -> config, section, log
 *   collect.c   what a crawl reads from a guest; the metric families  -> section
 *   section.c   one feature's samples and JSON from one crawl         -> util
 *   log.c       the logger object
 *   util.c      growable string, Prometheus values, durations, clocks
 *
 * Threads: the main thread owns everything published (the VM table, the latest sections, HTTP).
 * Crawls run on the worker pool because attaching to a large guest or scanning a VM with no
 * Linux kernel can take seconds; while a crawl is in flight its VM's `struct guest` (source,
 * context) belongs to the worker and the main thread does not touch it. The configuration and
 * the log are read-only once the pool starts. Nothing else is shared, so the only lock is the
 * pool's.
 */
#ifndef NFMD_H
#define NFMD_H

#include "config.h"
#include "http.h"
#include "log.h"
#include "schedule.h"
#include "vms.h"
#include "worker.h"

struct nfmd {
	struct nfmd_config cfg;
	struct nfmd_log log;
	struct vm_table vms;
	struct worker_pool pool;
	struct scheduler sched;
	struct http_server http;
	int epfd, tfd, sfd;	/* the event loop: epoll, the crawl timer, signals */
};

#endif
