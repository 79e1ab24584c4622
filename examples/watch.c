// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Watch one guest process: its CPU use and resident memory every second, from outside. A live
 * guest changes under us, so each round starts with nfm_ctx_refresh() (new page tables, new
 * values) and looks the process up again; it may have exited meanwhile.
 *
 *     ./watch pid:1234 GUEST_PID [COUNT]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nfm/nfm.h>

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
		fprintf(stderr, "watch: %s\n", msg);
}

int main(int argc, char **argv)
{
	const struct nfm_log log = { .fn = log_line, .max_level = NFM_LOG_ERR };
	struct nfm_source *src = NULL;
	struct nfm_ctx *ctx = NULL;
	struct nfm_task t;
	uint64_t last_ns = 0, up0 = 0, up;
	int ret, pid, count;

	if (argc < 3) {
		fprintf(stderr, "usage: watch SPEC GUEST_PID [COUNT]\n");
		return 2;
	}
	pid = atoi(argv[2]);
	count = argc > 3 ? atoi(argv[3]) : -1;
	ret = nfm_source_open(argv[1], &log, &src);
	if (ret == 0)
		ret = nfm_ctx_new(src, NULL, &log, &ctx);
	if (ret < 0)
		goto out;
	printf("%10s %8s %12s  %s\n", "UPTIME_S", "CPU%", "RSS_KB", "COMMAND");
	for (int i = 0; count < 0 || i < count; i++) {
		nfm_ctx_refresh(ctx);
		ret = nfm_task_get(ctx, pid, 0, &t);
		if (ret == 0)
			ret = nfm_ctx_uptime_ns(ctx, &up);
		if (ret == -ENOENT) {
			printf("process %d is gone\n", pid);
			ret = 0;
			break;
		}
		if (ret < 0)
			goto out;
		/* CPU% over the guest's own clock since the last round (as top does). */
		if (up0 && up > up0)
			printf("%10.1f %8.1f %12" PRIu64 "  ", up / 1e9,
			       100.0 * (double)(t.utime_ns + t.stime_ns - last_ns) / (double)(up - up0),
			       t.rss_pages * 4);
		else
			printf("%10.1f %8s %12" PRIu64 "  ", up / 1e9, "-", t.rss_pages * 4);
		put_guest(t.name, sizeof(t.name));
		putchar('\n');
		fflush(stdout);
		last_ns = t.utime_ns + t.stime_ns;
		up0 = up;
		if (count < 0 || i + 1 < count)
			nanosleep(&(struct timespec){ .tv_sec = 1 }, NULL);
	}
out:
	if (ret < 0)
		fprintf(stderr, "watch: %s: %s\n", argv[1], strerror(-ret));
	nfm_ctx_free(ctx);
	nfm_source_free(src);
	return ret < 0 ? 1 : 0;
}
