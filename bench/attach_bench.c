// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Attach benchmark: open the source and attach (VMCOREINFO scan, kallsyms decode, BTF parse)
 * N times; print min/median/max wall time per attach, the page-table walk statistics, and the
 * process's peak RSS.
 *   attach_bench [--vm SPEC] [-n N]
 */
#include <nfm/nfm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench_util.h"

static void log_err(void *ud, enum nfm_log_level level, const char *msg)
{
	(void)ud;
	(void)level;
	fprintf(stderr, "attach_bench: %s\n", msg);
}

int main(int argc, char **argv)
{
	struct nfm_log log = { .fn = log_err, .max_level = NFM_LOG_ERR };
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
			log.max_level = NFM_LOG_DEBUG;
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
	free(t);
	return 0;
}
