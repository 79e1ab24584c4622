// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "source/host_gone.h"

static int by_tid(const void *a, const void *b)
{
	const struct host_thr *x = a, *y = b;

	return (x->tid > y->tid) - (x->tid < y->tid);
}

int host_gone_update(struct host_gone *g, struct host_thr *cur, int n)
{
	struct host_thr *keep;
	int i = 0, j = 0;

	qsort(cur, (size_t)n, sizeof(*cur), by_tid);
	/* a merge of two tid-sorted lists: the last sample's threads missing now are gone */
	while (i < g->nr_last) {
		const struct host_thr *o = &g->last[i];

		while (j < n && cur[j].tid < o->tid)
			j++;
		if (j >= n || cur[j].tid != o->tid || cur[j].run_ns < o->run_ns) {
			g->run_ns += o->run_ns;
			g->wait_ns += o->wait_ns;
		}
		i++;
	}
	keep = n ? malloc((size_t)n * sizeof(*keep)) : NULL;
	if (n && !keep) {
		/* without a last list a thread's time could count twice: start again from here */
		free(g->last);
		g->last = NULL;
		g->nr_last = 0;
		return -ENOMEM;
	}
	if (n)
		memcpy(keep, cur, (size_t)n * sizeof(*keep));
	free(g->last);
	g->last = keep;
	g->nr_last = n;
	return 0;
}

void host_gone_free(struct host_gone *g)
{
	free(g->last);
	g->last = NULL;
	g->nr_last = 0;
}
