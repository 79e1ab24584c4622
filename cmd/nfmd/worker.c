// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The worker pool: a fixed set of threads taking items from a queue and handing them back
 * through a done list and an eventfd the main loop polls. One slow item (a large RAM scan, a
 * stuck read) holds one worker, never the loop, and never another item for longer than the
 * other workers are busy.
 *
 * Two queues with their own threads: crawls of attached guests (fast, periodic) never wait
 * behind attach attempts, which can take seconds (a full-RAM scan of a VM that runs no Linux).
 * Within a queue, lower prio goes first.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util.h"
#include "worker.h"

/*
 * An item that hangs (a QEMU monitor someone else holds, a host thrashing) must not hold its
 * queue: when every thread of a queue has been busy for STUCK_SECONDS and items wait, one more
 * thread starts, up to MAX_EXTRA more than configured in all.
 */
#define STUCK_SECONDS 5.0
#define MAX_EXTRA 8

static void *worker_main(void *arg)
{
	struct pool_worker *w = arg;
	struct worker_pool *p = w->pool;
	struct pool_queue *q = w->q;

	for (;;) {
		struct pool_item *it;
		uint64_t one = 1;

		pthread_mutex_lock(&p->lock);
		q->idle++;
		while (!q->head && !p->stopping)
			pthread_cond_wait(&q->cond, &p->lock);
		q->idle--;
		if (p->stopping) {
			pthread_mutex_unlock(&p->lock);
			return NULL;
		}
		it = q->head;
		q->head = it->next;
		w->busy_since = now_mono();
		pthread_mutex_unlock(&p->lock);

		p->run(it, p->arg);

		pthread_mutex_lock(&p->lock);
		w->busy_since = 0;
		it->next = p->done;
		p->done = it;
		pthread_mutex_unlock(&p->lock);
		if (write(p->efd, &one, sizeof(one)) < 0) {
			/* The counter cannot overflow in practice; the main loop drains it. */
		}
	}
}

/* Called with the lock held or before any thread runs. */
static int spawn(struct worker_pool *p, struct pool_queue *q)
{
	struct pool_worker *w = &p->workers[p->nr_threads];
	sigset_t all, old;
	int ret;

	w->pool = p;
	w->q = q;
	w->busy_since = 0;
	/* Signals go to the main thread's signalfd only. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	ret = pthread_create(&w->thread, NULL, worker_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret)
		return -ret;
	p->nr_threads++;
	q->threads++;
	return 0;
}

int pool_start(struct worker_pool *p, int n, int n_attach,
	       void (*run)(struct pool_item *it, void *arg), void *arg, const struct nfmd_log *log)
{
	int i, ret;

	*p = (struct worker_pool){ .run = run, .arg = arg, .log = log };
	pthread_mutex_init(&p->lock, NULL);
	for (i = 0; i < POOL_NR_QUEUES; i++)
		pthread_cond_init(&p->queues[i].cond, NULL);
	p->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->efd < 0)
		return -errno;
	p->max_threads = n + n_attach + MAX_EXTRA;
	p->workers = calloc((size_t)p->max_threads, sizeof(*p->workers));
	if (!p->workers)
		return -ENOMEM;
	for (i = 0; i < n + n_attach; i++) {
		ret = spawn(p, &p->queues[i >= n ? POOL_ATTACH : POOL_CRAWL]);
		if (ret)
			return ret;
	}
	return 0;
}

void pool_tick(struct worker_pool *p, double now)
{
	pthread_mutex_lock(&p->lock);
	for (int qi = 0; qi < POOL_NR_QUEUES; qi++) {
		struct pool_queue *q = &p->queues[qi];
		bool all_stuck = q->head && !q->idle;

		for (int i = 0; all_stuck && i < p->nr_threads; i++)
			if (p->workers[i].q == q && (!p->workers[i].busy_since ||
						     now - p->workers[i].busy_since < STUCK_SECONDS))
				all_stuck = false;
		if (all_stuck && p->nr_threads < p->max_threads && spawn(p, q) == 0)
			logmsg(p->log, NFM_LOG_WARN, "%s workers all busy for %.0fs: now %d",
			       qi == POOL_ATTACH ? "attach" : "crawl", STUCK_SECONDS, q->threads);
	}
	pthread_mutex_unlock(&p->lock);
}

void pool_submit(struct worker_pool *p, struct pool_item *it)
{
	struct pool_queue *q = &p->queues[it->queue];
	struct pool_item **pp;

	it->next = NULL;
	pthread_mutex_lock(&p->lock);
	for (pp = &q->head; *pp && (*pp)->prio <= it->prio; pp = &(*pp)->next)
		;
	it->next = *pp;
	*pp = it;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&p->lock);
}

struct pool_item *pool_take_done(struct worker_pool *p)
{
	struct pool_item *it;
	uint64_t v;

	if (p->efd >= 0 && read(p->efd, &v, sizeof(v)) < 0 && errno != EAGAIN) {
		/* nothing to drain */
	}
	pthread_mutex_lock(&p->lock);
	it = p->done;
	p->done = NULL;
	pthread_mutex_unlock(&p->lock);
	return it;
}

bool pool_stop(struct worker_pool *p)
{
	bool busy = false;
	int i;

	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	for (i = 0; i < POOL_NR_QUEUES; i++)
		pthread_cond_broadcast(&p->queues[i].cond);
	for (i = 0; i < p->nr_threads; i++)
		busy |= p->workers[i].busy_since != 0;
	pthread_mutex_unlock(&p->lock);
	/* Don't wait for an item that may hang: the process exit ends it. */
	if (busy)
		return false;
	for (i = 0; i < p->nr_threads; i++)
		pthread_join(p->workers[i].thread, NULL);
	free(p->workers);
	p->workers = NULL;
	p->nr_threads = 0;
	for (i = 0; i < POOL_NR_QUEUES; i++)
		while (p->queues[i].head) {
			struct pool_item *it = p->queues[i].head;

			p->queues[i].head = it->next;
			it->next = p->done;
			p->done = it;
		}
	if (p->efd >= 0)
		close(p->efd);
	p->efd = -1;
	return true;
}
