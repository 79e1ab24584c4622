// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Warm ps crawl benchmark: attach once, then crawl the task list N times (nfm_ctx_refresh() and
 * a full nfm_task_iter walk, as `nfm ps` does), and print the time per crawl, crawls per second
 * and processes per crawl; with --cmdline each crawl also reads every cmdline from user memory;
 * --full is ps + maps + lsof: every cmdline, every VMA and every open file of every process.
 *   ps_bench [--vm SPEC] [-n N] [--cmdline] [--threads] [--full]
 */
#include <nfm/nfm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench_util.h"

static long count_vmas(struct nfm_ctx *ctx, const struct nfm_task *t)
{
	struct nfm_vma_iter *it;
	struct nfm_vma v;
	long k = 0;

	if (nfm_vma_iter_new(ctx, t, &it) < 0)
		return 0;
	while (nfm_vma_iter_next(it, &v) > 0)
		k++;
	nfm_vma_iter_free(it);
	return k;
}

static long count_fds(struct nfm_ctx *ctx, const struct nfm_task *t)
{
	struct nfm_fd_iter *it;
	struct nfm_fd f;
	long k = 0;

	if (nfm_fd_iter_new(ctx, t, &it) < 0)
		return 0;
	while (nfm_fd_iter_next(it, &f) > 0)
		k++;
	nfm_fd_iter_free(it);
	return k;
}

static double cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 + ru.ru_utime.tv_usec +
	       ru.ru_stime.tv_usec;
}

static void log_err(void *ud, enum nfm_log_level level, const char *msg)
{
	(void)ud;
	(void)level;
	fprintf(stderr, "ps_bench: %s\n", msg);
}

/*
 * RSS now by kind: peak RSS counts the pages of a guest's shared RAM file that nfm mapped and
 * read (file or shmem pages: the guest's memory, not nfm's), anonymous RSS is nfm's own.
 */
static void print_rss_now(void)
{
	long anon = -1, file = -1, shmem = -1;
	char line[256];
	FILE *f = fopen("/proc/self/status", "re");

	while (f && fgets(line, sizeof(line), f)) {
		sscanf(line, "RssAnon: %ld", &anon);
		sscanf(line, "RssFile: %ld", &file);
		sscanf(line, "RssShmem: %ld", &shmem);
	}
	if (f)
		fclose(f);
	printf("RSS now: anon %ld KB, file %ld KB, shmem %ld KB\n", anon, file, shmem);
}

int main(int argc, char **argv)
{
	struct nfm_log log = { .fn = log_err, .max_level = NFM_LOG_ERR };
	const char *vm = NULL;
	int n = 200, i, cmdline = 0, full = 0, nprocs = 0;
	long vmas = 0, fds = 0;
	unsigned int flags = 0;
	struct nfm_source *src;
	struct nfm_ctx *ctx;
	static char buf[128 << 10];
	double *t, *c, total = 0;
	struct rusage ru;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--vm") && i + 1 < argc)
			vm = argv[++i];
		else if (!strcmp(argv[i], "-n") && i + 1 < argc)
			n = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--cmdline"))
			cmdline = 1;
		else if (!strcmp(argv[i], "--full"))
			full = cmdline = 1;
		else if (!strcmp(argv[i], "--threads"))
			flags |= NFM_TASK_THREADS;
		else {
			fprintf(stderr, "usage: ps_bench [--vm SPEC] [-n N] [--cmdline] [--threads] [--full]\n");
			return 2;
		}
	}
	if (n < 1)
		n = 1;
	if (nfm_source_open(vm, &log, &src) < 0 || nfm_ctx_new(src, NULL, &log, &ctx) < 0)
		return 1;
	t = calloc((size_t)n, sizeof(*t));
	c = calloc((size_t)n, sizeof(*c));
	for (i = 0; i < n; i++) {
		struct nfm_task_iter *it;
		struct nfm_task task;
		double t0 = (bench_now_ms() * 1e3), c0 = cpu_us();
		int r, count = 0;

		nfm_ctx_refresh(ctx);
		if (nfm_task_iter_new(ctx, flags, &it) < 0)
			return 1;
		while ((r = nfm_task_iter_next(it, &task)) > 0) {
			count++;
			if (cmdline && task.mm)
				nfm_task_cmdline(ctx, &task, buf, sizeof(buf), NULL);
			if (full) {
				vmas += count_vmas(ctx, &task);
				fds += count_fds(ctx, &task);
			}
		}
		nfm_task_iter_free(it);
		if (r < 0) {
			fprintf(stderr, "ps_bench: crawl %d failed: %d\n", i, r);
			return 1;
		}
		t[i] = (bench_now_ms() * 1e3) - t0;
		c[i] = cpu_us() - c0;
		total += t[i];
		nprocs = count;
	}
	qsort(t, (size_t)n, sizeof(*t), bench_cmp_double);
	printf("source: %s\n", nfm_source_describe(src));
	printf("%s per crawl: %d, cmdline: %s, maps+lsof: %s, crawls: %d\n",
	       flags ? "threads" : "processes", nprocs, cmdline ? "yes" : "no", full ? "yes" : "no", n);
	if (full)
		printf("per crawl: %ld VMAs, %ld open files\n", vmas / n, fds / n);
	printf("us/crawl: min %.1f median %.1f max %.1f; crawls/s %.0f; us/process %.2f\n", t[0],
	       t[n / 2], t[n - 1], 1e6 * n / total, t[n / 2] / (nprocs ? nprocs : 1));
	qsort(c, (size_t)n, sizeof(*c), bench_cmp_double);
	getrusage(RUSAGE_SELF, &ru);
	printf("cpu us/crawl: min %.1f median %.1f max %.1f; peak RSS %ld KB\n", c[0], c[n / 2],
	       c[n - 1], ru.ru_maxrss);
	print_rss_now();
	free(t);
	free(c);
	nfm_ctx_free(ctx);
	nfm_source_free(src);
	return 0;
}
