// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ps of a guest, read from outside: open a memory source, attach to the kernel, walk the tasks.
 * Run as root (reading another process's memory needs CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH).
 *
 *     ./ps pid:1234        (or name:web1, file:guest.elf: any `nfm --vm` spec)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <nfm/nfm.h>

/* The library never prints: it tells its reasons here, and we show the errors. */
/*
 * Guest text is attacker-controlled: a process may name itself with a newline or a terminal
 * escape. Print it with everything but printable ASCII as \xNN (nfm itself keeps valid UTF-8,
 * cmd/common/guest_text.c).
 */
static void put_guest(const char *s, size_t max)
{
	for (size_t i = 0; i < max && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f || c == '\\')
			printf("\\x%02x", c);
		else
			putchar(c);
	}
}

static void log_line(void *userdata, enum nfm_log_level level, const char *msg)
{
	(void)userdata;
	if (level <= NFM_LOG_ERR)
		fprintf(stderr, "ps: %s\n", msg);
}

int main(int argc, char **argv)
{
	const struct nfm_log log = { .fn = log_line, .max_level = NFM_LOG_ERR };
	struct nfm_source *src = NULL;
	struct nfm_ctx *ctx = NULL;
	struct nfm_task_iter *it = NULL;
	struct nfm_task t;
	int ret, n = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: ps SPEC   (pid:N, name:NAME, file:PATH)\n");
		return 2;
	}
	ret = nfm_source_open(argv[1], &log, &src);
	if (ret == 0)
		ret = nfm_ctx_new(src, NULL, &log, &ctx);	/* NULL opts: discover everything */
	if (ret == 0)
		ret = nfm_task_iter_new(ctx, 0, &it);
	if (ret < 0)
		goto out;
	printf("%7s %7s %1s %10s %10s  %s\n", "PID", "PPID", "S", "RSS_KB", "TIME_MS", "COMMAND");
	/* next: 1 with a task, 0 at the end, -errno; a task that changed while read is skipped. */
	while ((ret = nfm_task_iter_next(it, &t)) > 0) {
		printf("%7d %7d %c %10" PRIu64 " %10" PRIu64 "  ", t.pid, t.ppid, t.state,
		       t.rss_pages * 4, (t.utime_ns + t.stime_ns) / 1000000);
		put_guest(t.name, sizeof(t.name));
		putchar('\n');
		n++;
	}
	if (ret == 0)
		fprintf(stderr, "ps: %d processes, %u skipped\n", n, nfm_task_iter_skipped(it));
out:
	if (ret < 0)
		fprintf(stderr, "ps: %s: %s\n", argv[1], strerror(-ret));
	nfm_task_iter_free(it);
	nfm_ctx_free(ctx);
	nfm_source_free(src);
	return ret < 0 ? 1 : 0;
}
