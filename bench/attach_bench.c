// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Attach benchmark: open the source and attach (VMCOREINFO scan, kallsyms decode, BTF parse)
 * N times; print min/median/max wall time per attach, the page-table walk statistics, and the
 * process's peak RSS; on a kernel whose kallsyms were found by the structural scan (before 6.0),
 * min/median/max of that scan too (from the library's debug log).
 *   attach_bench [--vm SPEC] [-n N]
 */
#include <nfm/nfm.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench_util.h"

struct bench_log {
	bool verbose;
	double scan[256];	/* structural kallsyms scan times, ms */
	int nscan;
};

static void log_err(void *ud, enum nfm_log_level level, const char *msg)
{
	struct bench_log *bl = ud;
	const char *p = strstr(msg, "kallsyms structural scan");
	double ms;

	if (p && (p = strstr(p, ": found in ")) && sscanf(p, ": found in %lf ms", &ms) == 1 &&
	    bl->nscan < (int)(sizeof(bl->scan) / sizeof(bl->scan[0])))
		bl->scan[bl->nscan++] = ms;
	if (level <= NFM_LOG_ERR || bl->verbose)
		fprintf(stderr, "attach_bench: %s\n", msg);
}

int main(int argc, char **argv)
{
	struct bench_log bl = { 0 };
	/* Debug messages always: the scan's time is one of them. */
	struct nfm_log log = { .fn = log_err, .userdata = &bl, .max_level = NFM_LOG_DEBUG };
	const char *vm = NULL;
	int i, n = 20;
	double *t, open_ms = 0;
	struct rusage ru;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--vm") && i + 1 < argc)
			vm = argv[++i];
		else if (!strcmp(argv[i], "-n") && i + 1 < argc)
			n = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-v"))	/* each attach's phases (the library's debug log) */
			bl.verbose = true;
	}
	if (n < 1)
		n = 1;
	t = calloc((size_t)n, sizeof(*t));
	for (i = 0; i < n; i++) {
		struct nfm_source *src;
		struct nfm_ctx *ctx;
		double t0 = bench_now_ms(), t1;

		if (nfm_source_open(vm, &log, &src) < 0)
			return 1;
		t1 = bench_now_ms();
		if (nfm_ctx_new(src, NULL, &log, &ctx) < 0)
			return 1;
		t[i] = bench_now_ms() - t0;
		open_ms += t1 - t0;
		nfm_ctx_free(ctx);
		nfm_source_free(src);
	}
	qsort(t, (size_t)n, sizeof(*t), bench_cmp_double);
	getrusage(RUSAGE_SELF, &ru);
	printf("attach (open + discover + kallsyms + BTF), %d runs: min %.2f ms, median %.2f ms, "
	       "max %.2f ms; source open alone %.2f ms mean; peak RSS %ld kB\n",
	       n, t[0], t[n / 2], t[n - 1], open_ms / n, ru.ru_maxrss);
	if (bl.nscan) {
		qsort(bl.scan, (size_t)bl.nscan, sizeof(bl.scan[0]), bench_cmp_double);
		printf("kallsyms structural scan, %d runs: min %.2f ms, median %.2f ms, max %.2f ms\n",
		       bl.nscan, bl.scan[0], bl.scan[bl.nscan / 2], bl.scan[bl.nscan - 1]);
	}
	free(t);
	return 0;
}
