// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Cold attach benchmark: run `nfm [--vm SPEC] info -j` N times, each a new process, and print
 * min/median/max of the wall time from spawn to exit (process start to nfm info printed), of
 * the attach time nfm reports itself (attach_ms: VMCOREINFO, kallsyms, BTF, source open
 * excluded), and the largest peak RSS.
 *   cold_bench [--nfm PATH] [--vm SPEC] [-n N]
 */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

extern char **environ;

/* nfm's own attach time from nfm info -j's output (kernel.attach_ns), in ms; -1 if absent. */
static double attach_ms(const char *out)
{
	const char *p = strstr(out, "\"attach_ns\"");

	return p && (p = strchr(p, ':')) ? atof(p + 1) / 1e6 : -1;
}

static void report(const char *what, double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), bench_cmp_double);
	printf("%s: min %.1f ms, median %.1f ms, max %.1f ms\n", what, v[0], v[n / 2], v[n - 1]);
}

int main(int argc, char **argv)
{
	const char *nfm = "build/cmd/nfm/nfm", *vm = NULL;	/* --nfm: another build's */
	int n = 20, i, k = 0;
	char *args[8];
	double *wall, *att;
	long maxrss = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--nfm") && i + 1 < argc)
			nfm = argv[++i];
		else if (!strcmp(argv[i], "--vm") && i + 1 < argc)
			vm = argv[++i];
		else if (!strcmp(argv[i], "-n") && i + 1 < argc)
			n = atoi(argv[++i]);
	}
	if (n < 1)
		n = 1;
	args[k++] = (char *)nfm;
	if (vm) {
		args[k++] = "--vm";
		args[k++] = (char *)vm;
	}
	args[k++] = "info";
	args[k++] = "-j";
	args[k] = NULL;
	wall = calloc((size_t)n, sizeof(*wall));
	att = calloc((size_t)n, sizeof(*att));
	for (i = 0; i < n; i++) {
		posix_spawn_file_actions_t fa;
		char out[16384];
		size_t got = 0;
		ssize_t r;
		int fd[2], status;
		struct rusage ru;
		pid_t pid;
		double t0;

		if (pipe(fd) < 0)
			return 1;
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, fd[1], 1);
		posix_spawn_file_actions_addclose(&fa, fd[0]);
		t0 = bench_now_ms();
		if (posix_spawn(&pid, nfm, &fa, NULL, args, environ) != 0) {
			perror(nfm);
			return 1;
		}
		close(fd[1]);
		while ((r = read(fd[0], out + got, sizeof(out) - 1 - got)) > 0)
			got += (size_t)r;
		out[got] = '\0';
		close(fd[0]);
		if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "cold_bench: nfm info failed\n");
			return 1;
		}
		wall[i] = bench_now_ms() - t0;
		att[i] = attach_ms(out);
		if (ru.ru_maxrss > maxrss)
			maxrss = ru.ru_maxrss;
		posix_spawn_file_actions_destroy(&fa);
	}
	printf("cold nfm info, %d runs\n", n);
	report("process start to info printed", wall, n);
	report("attach (nfm's own attach_ms)", att, n);
	printf("peak RSS: %ld kB\n", maxrss);
	return 0;
}
