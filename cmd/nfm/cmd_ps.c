// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm ps: the guest's processes (or threads with -L), like procps `ps aux` / `ps -eLf`. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "guest_text.h"
#include <nfm/task.h>

#define CMDLINE_MAX (128u << 10)

struct row {
	struct nfm_task t;
	char *cmd;			/* cmdline bytes (NULs kept), NULL for none */
	size_t cmd_len;
	struct nfm_umem_stat um;
	int cmd_err;
	int32_t *tids;
	int nr_tids;
};

struct ps_opts {
	bool threads;
	const char *sort;
	int32_t *pids;
	size_t nr_pids;
};

static bool wanted(const struct ps_opts *o, const struct nfm_task *t)
{
	size_t i;

	if (!o->nr_pids)
		return true;
	for (i = 0; i < o->nr_pids; i++)
		if (o->pids[i] == t->tgid || (o->threads && o->pids[i] == t->pid))
			return true;
	return false;
}

static int64_t sort_value(const struct row *r, const char *key)
{
	const struct nfm_task *t = &r->t;

	if (!strcmp(key, "pid"))
		return t->tgid * 4194304ll + t->pid;
	if (!strcmp(key, "tid"))
		return t->pid;
	if (!strcmp(key, "ppid"))
		return t->ppid;
	if (!strcmp(key, "uid") || !strcmp(key, "user"))
		return t->euid;
	if (!strcmp(key, "rss"))
		return (int64_t)t->rss_exact_pages;
	if (!strcmp(key, "vsz"))
		return (int64_t)t->vsize;
	if (!strcmp(key, "time") || !strcmp(key, "cputime"))
		return (int64_t)(t->utime_ns + t->stime_ns);
	if (!strcmp(key, "start") || !strcmp(key, "start_time"))
		return (int64_t)t->start_ns;
	if (!strcmp(key, "nice") || !strcmp(key, "ni"))
		return t->nice;
	if (!strcmp(key, "pri") || !strcmp(key, "priority"))
		return t->priority;
	if (!strcmp(key, "nlwp") || !strcmp(key, "threads"))
		return t->nr_threads;
	return 0;
}

static const char *g_sort_key;
static int g_sort_dir;

static int cmp_rows(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int c;

	if (!strcmp(g_sort_key, "comm") || !strcmp(g_sort_key, "state") || !strcmp(g_sort_key, "stat")) {
		c = !strcmp(g_sort_key, "comm") ? strcmp(x->t.name, y->t.name) : x->t.state - y->t.state;
	} else {
		int64_t vx = sort_value(x, g_sort_key), vy = sort_value(y, g_sort_key);

		c = vx < vy ? -1 : vx > vy;
	}
	if (!c) {
		int64_t px = x->t.tgid * 4194304ll + x->t.pid, py = y->t.tgid * 4194304ll + y->t.pid;

		return px < py ? -1 : px > py;
	}
	return c * g_sort_dir;
}

static const char *sort_keys[] = { "pid", "tid", "ppid", "uid", "user", "rss", "vsz", "time",
	"cputime", "start", "start_time", "nice", "ni", "pri", "priority", "nlwp", "threads",
	"comm", "state", "stat", NULL };

static int check_sort(const char *key)
{
	size_t i;

	if (*key == '-' || *key == '+')
		key++;
	for (i = 0; sort_keys[i]; i++)
		if (!strcmp(key, sort_keys[i]))
			return 0;
	return -1;
}

/* The COMMAND column: arguments joined by spaces, kernel threads and empty ones as [comm]. */
static void command_text(const struct row *r, char *out, size_t size)
{
	char esc[4096];
	size_t i, len = r->cmd_len;
	char *tmp;

	while (len && r->cmd[len - 1] == 0)
		len--;
	if (!r->cmd || !len) {
		snprintf(out, size, "[%s]%s", cli_escape(r->t.name, strlen(r->t.name), esc, sizeof(esc)),
			 r->t.state == 'Z' ? " <defunct>" : "");
		return;
	}
	tmp = malloc(len);
	if (!tmp) {
		snprintf(out, size, "?");
		return;
	}
	memcpy(tmp, r->cmd, len);
	while (len && tmp[len - 1] == 0)
		len--;
	for (i = 0; i < len; i++)
		if (tmp[i] == 0)
			tmp[i] = ' ';
	cli_escape(tmp, len, out, size);
	free(tmp);
	if (r->um.pages_missing) {
		size_t o = strlen(out);

		snprintf(out + o, size - o, " <%u page%s %s>", r->um.pages_missing,
			 r->um.pages_missing == 1 ? "" : "s",
			 r->um.pages_swapped ? "swapped out" : "not resident");
	}
}

static void fmt_time(uint64_t ns, char *buf, size_t size)
{
	uint64_t s = ns / 1000000000u;

	snprintf(buf, size, "%" PRIu64 ":%02" PRIu64, s / 60, s % 60);
}

static void fmt_start(int64_t boot_ns, int have_boot, uint64_t start_ns, char *buf, size_t size)
{
	time_t now = time(NULL), st;
	struct tm tm;

	if (!have_boot) {
		snprintf(buf, size, "+%" PRIu64 "s", (uint64_t)(start_ns / 1000000000u));
		return;
	}
	st = (time_t)((boot_ns + (int64_t)start_ns) / 1000000000ll);
	localtime_r(&st, &tm);
	strftime(buf, size, now - st < 24 * 3600 ? "%H:%M" : "%b%d", &tm);
}

static struct json_object *row_json(const struct row *r, bool threads)
{
	const struct nfm_task *t = &r->t;
	struct json_object *o = json_object_new_object(), *a;
	char hex[32];
	size_t i, s;
	int k;

#define ADD(k, v) json_object_object_add(o, k, v)
#define I64(k, v) ADD(k, json_object_new_int64((int64_t)(v)))
	I64("pid", t->tgid);
	if (threads)
		I64("tid", t->pid);
	I64("ppid", t->ppid);
	I64("uid", t->uid);
	I64("euid", t->euid);
	I64("suid", t->suid);
	I64("fsuid", t->fsuid);
	I64("gid", t->gid);
	I64("egid", t->egid);
	I64("sgid", t->sgid);
	I64("fsgid", t->fsgid);
	ADD("state", json_object_new_string_len(&t->state, 1));
	ADD("comm", cli_json_bytes(t->name, strlen(t->name)));
	ADD("comm_hex", guest_json_hex(t->name, strlen(t->name)));
	ADD("task_comm_hex", guest_json_hex(t->comm, strlen(t->comm)));
	ADD("kthread", json_object_new_boolean(t->kthread));
	I64("flags", t->flags);
	I64("nice", t->nice);
	I64("priority", t->priority);
	I64("policy", t->policy);
	I64("rt_priority", t->rt_priority);
	I64("num_threads", t->nr_threads);
	I64("start_ns", t->start_ns);
	I64("starttime", t->start_ticks);
	I64("utime_ns", t->utime_ns);
	I64("stime_ns", t->stime_ns);
	I64("utime", t->utime_ticks);
	I64("stime", t->stime_ticks);
	I64("vsize", t->vsize);
	I64("rss", t->rss_pages);
	I64("rss_exact", t->rss_exact_pages);
	I64("rss_anon", t->rss_anon);
	I64("rss_file", t->rss_file);
	I64("rss_shmem", t->rss_shmem);
	snprintf(hex, sizeof(hex), "0x%" PRIx64, t->addr);
	ADD("task", json_object_new_string(hex));
	if (r->cmd) {
		ADD("cmdline", cli_json_bytes(r->cmd, r->cmd_len));
		ADD("cmdline_hex", guest_json_hex(r->cmd, r->cmd_len));
		a = json_object_new_array();
		for (i = 0, s = 0; i <= r->cmd_len; i++) {
			if (i == r->cmd_len && s == i)
				break;
			if (i == r->cmd_len || r->cmd[i] == 0) {
				json_object_array_add(a, cli_json_bytes(r->cmd + s, i - s));
				s = i + 1;
			}
		}
		ADD("argv", a);
		if (r->um.pages_missing) {
			I64("cmdline_pages_missing", r->um.pages_missing);
			I64("cmdline_pages_swapped", r->um.pages_swapped);
		}
	} else if (r->cmd_err) {
		ADD("cmdline_error", json_object_new_string(strerror(-r->cmd_err)));
	}
	if (r->tids) {
		a = json_object_new_array();
		for (k = 0; k < r->nr_tids; k++)
			json_object_array_add(a, json_object_new_int64(r->tids[k]));
		ADD("tids", a);
	}
#undef I64
#undef ADD
	return o;
}

static int parse_pids(const char *s, struct ps_opts *o)
{
	char *dup = strdup(s), *tok, *save = NULL;

	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		long v = strtol(tok, &end, 10);
		int32_t *n;

		if (*end || v <= 0 || v > 4194304) {
			free(dup);
			return -1;
		}
		n = realloc(o->pids, (o->nr_pids + 1) * sizeof(*n));
		if (!n) {
			free(dup);
			return -1;
		}
		o->pids = n;
		o->pids[o->nr_pids++] = (int32_t)v;
	}
	free(dup);
	return o->nr_pids ? 0 : -1;
}

static void free_rows(struct row *rows, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(rows[i].cmd);
		free(rows[i].tids);
	}
	free(rows);
}

static void print_table(struct cli *cli, struct row *rows, size_t n, bool threads)
{
	int64_t boot = 0;
	int have_boot = nfm_task_boot_time(cli->ctx, &boot) == 0;
	uint64_t up = 0;
	int have_up = nfm_ctx_uptime_ns(cli->ctx, &up) == 0;
	char cmd[8192], tm[32], st[32], stat[8];
	size_t i;

	if (threads)
		printf("%5s %7s %7s %7s %-4s %3s %3s %4s %8s %7s %5s %7s %s\n", "UID", "PID", "TID",
		       "PPID", "STAT", "NI", "PRI", "NLWP", "VSZ", "RSS", "START", "TIME", "COMMAND");
	else
		printf("%5s %7s %7s %-4s %4s %3s %3s %8s %7s %5s %7s %s\n", "UID", "PID", "PPID",
		       "STAT", "%CPU", "NI", "PRI", "VSZ", "RSS", "START", "TIME", "COMMAND");
	for (i = 0; i < n; i++) {
		const struct nfm_task *t = &rows[i].t;
		uint64_t cpu = t->utime_ns + t->stime_ns;
		double pcpu = 0;
		int k = 0;

		stat[k++] = t->state;
		if (t->nice < 0)
			stat[k++] = '<';
		else if (t->nice > 0)
			stat[k++] = 'N';
		if (t->nr_threads > 1)
			stat[k++] = 'l';
		stat[k] = 0;
		if (have_up && up > t->start_ns)
			pcpu = 100.0 * (double)cpu / (double)(up - t->start_ns);
		command_text(&rows[i], cmd, sizeof(cmd));
		fmt_time(cpu, tm, sizeof(tm));
		fmt_start(boot, have_boot, t->start_ns, st, sizeof(st));
		if (threads)
			printf("%5u %7d %7d %7d %-4s %3d %3d %4d %8" PRIu64 " %7" PRIu64 " %5s %7s %s\n",
			       t->euid, t->tgid, t->pid, t->ppid, stat, t->nice, t->priority, t->nr_threads,
			       t->vsize >> 10, t->rss_exact_pages * 4, st, tm, cmd);
		else
			printf("%5u %7d %7d %-4s %4.1f %3d %3d %8" PRIu64 " %7" PRIu64 " %5s %7s %s\n",
			       t->euid, t->tgid, t->ppid, stat, pcpu, t->nice, t->priority,
			       t->vsize >> 10, t->rss_exact_pages * 4, st, tm, cmd);
	}
}

int cmd_ps(struct cli *cli, int argc, char **argv)
{
	struct ps_opts o = { .sort = "pid" };
	struct nfm_task_iter *it;
	struct row *rows = NULL;
	size_t n = 0, cap = 0, i;
	unsigned int skipped;
	int r, ret = 0;

	for (i = 1; i < (size_t)argc; i++) {
		if (!strcmp(argv[i], "-L")) {
			o.threads = true;
		} else if (!strcmp(argv[i], "--sort") && i + 1 < (size_t)argc) {
			o.sort = argv[++i];
		} else if (!strncmp(argv[i], "--sort=", 7)) {
			o.sort = argv[i] + 7;
		} else if (!strcmp(argv[i], "-p") && i + 1 < (size_t)argc) {
			if (parse_pids(argv[++i], &o) < 0)
				return cli_fail("-p needs PID[,PID...]");
		} else if (!strcmp(argv[i], "aux") || !strcmp(argv[i], "-e") ||
			   !strcmp(argv[i], "-ef") || !strcmp(argv[i], "-A")) {
			/* every process is the default */
		} else {
			return cli_fail("usage: nfm ps [-j] [-L] [--sort [-]KEY] [-p PID[,PID...]]");
		}
	}
	if (check_sort(o.sort) < 0)
		return cli_fail("unknown sort key '%s' (pid tid ppid uid rss vsz time start nice pri "
				"nlwp comm state)", cli_esc(o.sort));
	if (cli_attach(cli))
		return 1;
	r = nfm_task_iter_new(cli->ctx, o.threads ? NFM_TASK_THREADS : 0, &it);
	if (r < 0)
		return cli_fail("cannot list processes: %s", cli->last_error[0] ? cli->last_error :
				strerror(-r));
	for (;;) {
		struct nfm_task t;
		struct row *row;

		r = nfm_task_iter_next(it, &t);
		if (r <= 0)
			break;
		if (!wanted(&o, &t))
			continue;
		if (n == cap) {
			struct row *nr = realloc(rows, (cap = cap ? cap * 2 : 256) * sizeof(*nr));

			if (!nr) {
				r = -ENOMEM;
				break;
			}
			rows = nr;
		}
		row = &rows[n++];
		memset(row, 0, sizeof(*row));
		row->t = t;
		if (t.mm) {
			row->cmd = malloc(CMDLINE_MAX);
			if (row->cmd) {
				int c = nfm_task_cmdline(cli->ctx, &t, row->cmd, CMDLINE_MAX, &row->um);

				if (c < 0) {
					row->cmd_err = c;
					free(row->cmd);
					row->cmd = NULL;
				} else {
					row->cmd_len = (size_t)c;
				}
			}
		}
		if (cli->json && !o.threads) {
			int32_t tids[64];
			int k = nfm_task_tids(cli->ctx, &t, tids, 64);

			if (k > 64) {
				row->tids = malloc((size_t)k * sizeof(*row->tids));
				if (row->tids)
					k = nfm_task_tids(cli->ctx, &t, row->tids, (size_t)k);
			} else if (k >= 0) {
				row->tids = malloc((size_t)(k ? k : 1) * sizeof(*row->tids));
				if (row->tids)
					memcpy(row->tids, tids, (size_t)k * sizeof(*tids));
			}
			row->nr_tids = row->tids && k >= 0 ? k : 0;
		}
	}
	skipped = nfm_task_iter_skipped(it);
	nfm_task_iter_free(it);
	if (r < 0) {
		free_rows(rows, n);
		free(o.pids);
		return cli_fail("the guest's task list is broken: %s", strerror(-r));
	}
	g_sort_key = o.sort[0] == '-' || o.sort[0] == '+' ? o.sort + 1 : o.sort;
	g_sort_dir = o.sort[0] == '-' ? -1 : 1;
	if (n)
		qsort(rows, n, sizeof(*rows), cmp_rows);
	if (cli->json) {
		struct json_object *a = json_object_new_array();

		for (i = 0; i < n; i++)
			json_object_array_add(a, row_json(&rows[i], o.threads));
		ret = cli_print_json(cli, a);
	} else {
		print_table(cli, rows, n, o.threads);
	}
	if (skipped)
		fprintf(stderr, "nfm: %u task%s skipped (changed while being read)\n", skipped,
			skipped == 1 ? "" : "s");
	if (o.nr_pids && !n)
		ret = 1;
	free_rows(rows, n);
	free(o.pids);
	return ret;
}

const struct command command_ps = {
	.name = "ps",
	.summary = "processes (-L: threads), as ps aux",
	.usage = "[-j] [-L] [--sort [-]KEY] [-p PID[,PID]]",
	.run = cmd_ps,
};
