/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The worker pool: threads taking items from two queues and handing them back through a done
 * list and an eventfd the main loop polls. It knows nothing of what an item is: the owner embeds
 * a struct pool_item in its job and gives the pool the function that runs one.
 */
#ifndef NFMD_WORKER_H
#define NFMD_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "log.h"

enum { POOL_CRAWL, POOL_ATTACH, POOL_NR_QUEUES };

struct pool_item {
	struct pool_item *next;
	int queue;		/* POOL_CRAWL or POOL_ATTACH */
	uint64_t prio;		/* within its queue: lower goes first */
};

struct pool_queue {
	struct pool_item *head;
	pthread_cond_t cond;
	int threads, idle;
};

struct pool_worker {
	pthread_t thread;
	struct worker_pool *pool;
	struct pool_queue *q;
	double busy_since;	/* 0 when idle */
};

struct worker_pool {
	pthread_mutex_t lock;		/* everything below but efd, run, arg and log */
	struct pool_queue queues[POOL_NR_QUEUES];
	struct pool_item *done;
	bool stopping;
	struct pool_worker *workers;
	int nr_threads, max_threads;
	int efd;			/* readable when done has items */
	void (*run)(struct pool_item *it, void *arg);	/* on a worker thread */
	void *arg;
	const struct nfmd_log *log;
};

/*
 * Start n crawl and n_attach attach threads that call run(item, arg) on each submitted item.
 * 0 or -errno. pool->efd is then the fd to poll.
 */
int pool_start(struct worker_pool *pool, int n, int n_attach,
	       void (*run)(struct pool_item *it, void *arg), void *arg, const struct nfmd_log *log);
void pool_submit(struct worker_pool *pool, struct pool_item *it);
/* Add a thread to a queue whose threads all hang (main thread, every loop). */
void pool_tick(struct worker_pool *pool, double now);
/* Take finished items (main thread); returns a list linked by ->next. */
struct pool_item *pool_take_done(struct worker_pool *pool);
/*
 * Stop the pool: true when every thread was idle and has been joined (queued items are then on
 * the done list); false when some item is still running, and the caller must not free what it
 * uses.
 */
bool pool_stop(struct worker_pool *pool);

#endif
