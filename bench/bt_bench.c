// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Warm `nfm bt --all` benchmark: attach once, then N times (nfm_ctx_refresh() and a walk of every
 * thread with its kernel stack unwound and symbolized, as `nfm bt --all` does, and its WCHAN),
 * and print min/median/max per crawl, threads and frames per crawl; --diagnose times a whole
 * nfm_diagnose() report instead (every check).
 *   bt_bench [--vm SPEC] [-n N] [--diagnose]
 */
#include <nfm/nfm.h>
#include <nfm/diag.h>
#include <nfm/stack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"

static void log_err(void *ud, enum nfm_log_level level, const char *msg)
{
	(void)ud;
	(void)level;
	fprintf(stderr, "bt_bench: %s\n", msg);
}

/* One `bt --all`: the frames unwound, or -1. *threads gets the threads walked. */
static long bt_all(struct nfm_ctx *ctx, int *threads)
{
	struct nfm_stack_frame f[NFM_STACK_MAX_FRAMES];
	struct nfm_task_iter *it;
	struct nfm_task t;
	long frames = 0;
	int r, k = 0;

	if (nfm_task_iter_new(ctx, NFM_TASK_THREADS, &it) < 0)
		return -1;
	while ((r = nfm_task_iter_next(it, &t)) > 0) {
		const char *w;
		int n = nfm_task_stack(ctx, &t, f, NFM_STACK_MAX_FRAMES, NULL);

		k++;
		if (n > 0)
			frames += n;
		nfm_task_wchan(ctx, &t, &w);
	}
	nfm_task_iter_free(it);
	*threads = k;
	return r < 0 ? -1 : frames;
}

int main(int argc, char **argv)
{
	struct nfm_log log = { .fn = log_err, .max_level = NFM_LOG_ERR };
	const char *vm = NULL;
	int n = 20, i, diag = 0, threads = 0;
	long frames = 0, findings = 0;
	struct nfm_source *src;
	struct nfm_ctx *ctx;
	double *t, total = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--vm") && i + 1 < argc)
			vm = argv[++i];
		else if (!strcmp(argv[i], "-n") && i + 1 < argc)
			n = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--diagnose"))
			diag = 1;
		else {
			fprintf(stderr, "usage: bt_bench [--vm SPEC] [-n N] [--diagnose]\n");
			return 2;
		}
	}
	if (n < 1)
		n = 1;
	if (nfm_source_open(vm, &log, &src) < 0 || nfm_ctx_new(src, NULL, &log, &ctx) < 0)
		return 1;
	t = calloc((size_t)n, sizeof(*t));
	for (i = 0; i < n; i++) {
		double t0 = bench_now_ms();

		nfm_ctx_refresh(ctx);
		if (diag) {
			struct nfm_diag_report *r;

			if (nfm_diagnose(ctx, &r) < 0)
				return 1;
			findings = r->nr_findings;
			nfm_diag_report_free(r);
		} else if ((frames = bt_all(ctx, &threads)) < 0) {
			fprintf(stderr, "bt_bench: crawl %d failed\n", i);
			return 1;
		}
		t[i] = bench_now_ms() - t0;
		total += t[i];
	}
	qsort(t, (size_t)n, sizeof(*t), bench_cmp_double);
	printf("source: %s\n", nfm_source_describe(src));
	if (diag)
		printf("diagnose: %ld findings, runs: %d\n", findings, n);
	else
		printf("bt --all: %d threads, %ld frames per crawl, crawls: %d\n", threads, frames, n);
	printf("ms/crawl: min %.2f median %.2f max %.2f; mean %.2f\n", t[0], t[n / 2], t[n - 1],
	       total / n);
	free(t);
	nfm_ctx_free(ctx);
	nfm_source_free(src);
	return 0;
}
