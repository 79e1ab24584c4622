// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The crawl workers: a fixed pool of threads taking jobs from one queue and handing them back
 * through a second queue and an eventfd the main loop polls. One slow guest (a large RAM scan, a
 * stuck read) holds one worker, never the loop, and never another VM's crawl for longer than the
 * other workers are busy.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "nfmd.h"

/*
 * Two queues with their own threads: crawls of attached guests (fast, periodic) never wait
 * behind attach attempts, which can take seconds (a full-RAM scan of a VM that runs no Linux).
 * Within the attach queue, first attempts and guests that were up a moment ago (rebooting) go
 * before the retries of VMs known to run no Linux kernel.
 */
struct queue {
	struct job *head;
	pthread_cond_t cond;
	int threads, idle;
};

/*
 * A crawl or an attach that hangs (a QEMU monitor someone else holds, a host thrashing) must not
 * hold its queue: when every thread of a queue has been busy for STUCK_SECONDS and jobs wait,
 * one more thread starts, up to MAX_EXTRA more than configured in all.
 */
#define STUCK_SECONDS 5.0
#define MAX_EXTRA 8

struct worker {
	pthread_t thread;
	struct queue *q;
	double busy_since;	/* 0 when idle */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct queue queues[2] = {
	{ .cond = PTHREAD_COND_INITIALIZER },
	{ .cond = PTHREAD_COND_INITIALIZER },
};
static struct job *done;
static bool stopping;
static struct worker *workers;
static int nr_threads, max_threads;
static int efd = -1;

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct queue *q = w->q;

	for (;;) {
		struct job *j;
		uint64_t one = 1;

		pthread_mutex_lock(&lock);
		q->idle++;
		while (!q->head && !stopping)
			pthread_cond_wait(&q->cond, &lock);
		q->idle--;
		if (stopping) {
			pthread_mutex_unlock(&lock);
			return NULL;
		}
		j = q->head;
		q->head = j->next;
		w->busy_since = now_mono();
		pthread_mutex_unlock(&lock);

		vm_crawl(j);

		pthread_mutex_lock(&lock);
		w->busy_since = 0;
		j->next = done;
		done = j;
		pthread_mutex_unlock(&lock);
		if (write(efd, &one, sizeof(one)) < 0) {
			/* The counter cannot overflow in practice; the main loop drains it. */
		}
	}
}

/* Called with lock held or before any thread runs. */
static int spawn(struct queue *q)
{
	struct worker *w = &workers[nr_threads];
	sigset_t all, old;
	int ret;

	w->q = q;
	w->busy_since = 0;
	/* Signals go to the main thread's signalfd only. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	ret = pthread_create(&w->thread, NULL, worker_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret)
		return -ret;
	nr_threads++;
	q->threads++;
	return 0;
}

int workers_start(int n, int n_attach, int *eventfd_out)
{
	int i, ret;

	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0)
		return -errno;
	max_threads = n + n_attach + MAX_EXTRA;
	workers = calloc((size_t)max_threads, sizeof(*workers));
	if (!workers)
		return -ENOMEM;
	for (i = 0; i < n + n_attach; i++) {
		ret = spawn(&queues[i >= n]);
		if (ret)
			return ret;
	}
	*eventfd_out = efd;
	return 0;
}

void workers_tick(double now)
{
	pthread_mutex_lock(&lock);
	for (int qi = 0; qi < 2; qi++) {
		struct queue *q = &queues[qi];
		bool all_stuck = q->head && !q->idle;

		for (int i = 0; all_stuck && i < nr_threads; i++)
			if (workers[i].q == q && (!workers[i].busy_since ||
						  now - workers[i].busy_since < STUCK_SECONDS))
				all_stuck = false;
		if (all_stuck && nr_threads < max_threads && spawn(q) == 0)
			logmsg(NFM_LOG_WARN, "%s workers all busy for %.0fs: now %d",
			       qi ? "attach" : "crawl", STUCK_SECONDS, q->threads);
	}
	pthread_mutex_unlock(&lock);
}

void workers_submit(struct job *j)
{
	struct queue *q = &queues[j->attaching];
	struct job **pp;

	j->next = NULL;
	pthread_mutex_lock(&lock);
	for (pp = &q->head; *pp && (*pp)->prio <= j->prio; pp = &(*pp)->next)
		;
	j->next = *pp;
	*pp = j;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&lock);
}

struct job *workers_take_done(void)
{
	struct job *j;
	uint64_t v;

	if (read(efd, &v, sizeof(v)) < 0 && errno != EAGAIN) {
		/* nothing to drain */
	}
	pthread_mutex_lock(&lock);
	j = done;
	done = NULL;
	pthread_mutex_unlock(&lock);
	return j;
}

/*
 * Stop the pool: true when every thread was idle and has been joined (queued jobs are then on
 * the done list); false when some crawl is still running, and the caller must not free VMs.
 */
bool workers_stop(void)
{
	bool busy = false;
	int i;

	pthread_mutex_lock(&lock);
	stopping = true;
	pthread_cond_broadcast(&queues[0].cond);
	pthread_cond_broadcast(&queues[1].cond);
	for (i = 0; i < nr_threads; i++)
		busy |= workers[i].busy_since != 0;
	pthread_mutex_unlock(&lock);
	/* Don't wait for a crawl that may hang: the process exit ends it. */
	if (busy)
		return false;
	for (i = 0; i < nr_threads; i++)
		pthread_join(workers[i].thread, NULL);
	free(workers);
	workers = NULL;
	nr_threads = 0;
	for (i = 0; i < 2; i++)
		while (queues[i].head) {
			struct job *j = queues[i].head;

			queues[i].head = j->next;
			j->next = done;
			done = j;
		}
	return true;
}
