// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Warm ss crawl benchmark: attach once, then N times (nfm_ctx_refresh() and the socket list with
 * its owners, as `nfm ss` reads it), and print the time per crawl and sockets per crawl; --full
 * adds what `nfm ss -xap` reads besides: every fd on every socket (a second walk of the fd
 * tables) and every unix socket's peer.
 *   ss_bench [--vm SPEC] [-n N] [--full]
 */
#include <nfm/nfm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bench_util.h"

static void log_err(void *ud, enum nfm_log_level level, const char *msg)
{
	(void)ud;
	(void)level;
	fprintf(stderr, "ss_bench: %s\n", msg);
}

int main(int argc, char **argv)
{
	struct nfm_log log = { .fn = log_err, .max_level = NFM_LOG_ERR };
	const char *vm = NULL;
	int n = 200, i, full = 0, nsocks = 0, nfds = 0;
	struct nfm_source *src;
	struct nfm_ctx *ctx;
	double *t;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--vm") && i + 1 < argc)
			vm = argv[++i];
		else if (!strcmp(argv[i], "-n") && i + 1 < argc)
			n = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--full"))
			full = 1;
		else {
			fprintf(stderr, "usage: ss_bench [--vm SPEC] [-n N] [--full]\n");
			return 2;
		}
	}
	if (n < 1)
		n = 1;
	if (nfm_source_open(vm, &log, &src) < 0 || nfm_ctx_new(src, NULL, &log, &ctx) < 0)
		return 1;
	t = calloc((size_t)n, sizeof(*t));
	if (!t)
		return 1;
	for (i = 0; i < n; i++) {
		struct nfm_socket *socks;
		struct nfm_socket_fd *fds = NULL;
		double t0 = bench_now_ms();
		int k, j;

		nfm_ctx_refresh(ctx);
		k = nfm_socket_list(ctx, &socks, NULL);
		if (k < 0) {
			fprintf(stderr, "ss_bench: crawl %d failed: %d\n", i, k);
			return 1;
		}
		if (full) {
			nfds = nfm_socket_fds(ctx, socks, k, &fds, NULL);
			for (j = 0; j < k; j++) {
				uint64_t peer;

				if (socks[j].family == AF_UNIX)
					nfm_socket_unix_peer(ctx, socks[j].sk, &peer);
			}
		}
		t[i] = (bench_now_ms() - t0) * 1e3;
		nsocks = k;
		free(fds);
		free(socks);
	}
	qsort(t, (size_t)n, sizeof(*t), bench_cmp_double);
	printf("source: %s\n", nfm_source_describe(src));
	printf("sockets per crawl: %d, fds and peers: %s (%d fds), crawls: %d\n", nsocks,
	       full ? "yes" : "no", nfds, n);
	printf("us/crawl: min %.1f median %.1f max %.1f\n", t[0], t[n / 2], t[n - 1]);
	free(t);
	nfm_ctx_free(ctx);
	nfm_source_free(src);
	return 0;
}
