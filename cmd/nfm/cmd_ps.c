// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm ps: the guest's processes (or threads with -L), like procps `ps aux` / `ps -eLf`. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nfm/stack.h>
#include <nfm/task.h>

#include "cli.h"
#include "jout.h"
#include "objects.h"
#include "table.h"
#include "walk_words.h"

#define CMDLINE_MAX (128u << 10)

struct row {
	struct nfm_task t;
	char *cmd;			/* cmdline bytes (NULs kept), NULL for none */
	size_t cmd_len;
	struct nfm_umem_stat um;
	int cmd_err;
	int32_t *tids;
	int nr_tids;
	const char *wchan;		/* --wchan: nfm_task_wchan() (owned by the context), NULL: "0" */
};

struct ps_opts {
	bool threads;
	bool wchan;			/* --wchan: the WCHAN column, "wchan" in JSON */
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

/* process.json (obj_process) with the command line, its error and, for processes, the tids. */
static struct json_object *row_json(const struct row *r, bool wchan)
{
	struct json_object *o = obj_process(&r->t, 0), *a;
	int k;

	if (wchan)
		obj_process_wchan(o, r->wchan);
	if (r->cmd)
		obj_process_cmdline(o, r->cmd, r->cmd_len, &r->um);
	else if (r->cmd_err)
		j_add(o, "cmdline_error", j_str(strerror(-r->cmd_err)));
	if (r->tids) {
		a = json_object_new_array();
		for (k = 0; k < r->nr_tids; k++)
			json_object_array_add(a, j_int(r->tids[k]));
		j_add(o, "tids", a);
	}
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

static int print_table(struct cli *cli, struct row *rows, size_t n, bool threads, bool wchan)
{
	static const char *const cols[] = { "UID", "PID", "TID", "PPID", "STAT", "WCHAN", "%CPU",
		"NI", "PRI", "NLWP", "VSZ", "RSS", "START", "TIME", "COMMAND" };
	int64_t boot = 0;
	int have_boot = nfm_task_boot_time(cli->ctx, &boot) == 0;
	uint64_t up = 0;
	int have_up = nfm_ctx_uptime_ns(cli->ctx, &up) == 0;
	char cmd[8192], tm[32], st[32], stat[8];
	struct table *t = table_new(cli);
	size_t i, c;

	if (!t)
		return cli_fail("out of memory");
	/* ps aux's columns; -L: TID and NLWP instead of %CPU, as ps -eLf. */
	for (c = 0; c < sizeof(cols) / sizeof(cols[0]); c++) {
		const char *name = cols[c];

		if (threads ? !strcmp(name, "%CPU") : !strcmp(name, "TID") || !strcmp(name, "NLWP"))
			continue;
		if (!wchan && !strcmp(name, "WCHAN"))
			continue;
		table_column(t, name, !strcmp(name, "COMMAND") ? TBL_TRUNC :
			     !strcmp(name, "STAT") || !strcmp(name, "START") ||
			     !strcmp(name, "WCHAN") ? 0 : TBL_RIGHT);
	}
	for (i = 0; i < n; i++) {
		const struct nfm_task *k = &rows[i].t;
		uint64_t cpu = k->utime_ns + k->stime_ns;
		double pcpu = 0;
		int s = 0;

		stat[s++] = k->state;
		if (k->nice < 0)
			stat[s++] = '<';
		else if (k->nice > 0)
			stat[s++] = 'N';
		if (k->nr_threads > 1)
			stat[s++] = 'l';
		stat[s] = 0;
		if (have_up && up > k->start_ns)
			pcpu = 100.0 * (double)cpu / (double)(up - k->start_ns);
		command_text(&rows[i], cmd, sizeof(cmd));
		fmt_time(cpu, tm, sizeof(tm));
		fmt_start(boot, have_boot, k->start_ns, st, sizeof(st));
		table_row(t);
		table_cell(t, "%u", k->euid);
		table_cell(t, "%d", k->tgid);
		if (threads)
			table_cell(t, "%d", k->pid);
		table_cell(t, "%d", k->ppid);
		table_cell(t, "%s", stat);
		if (wchan)	/* as ps -o wchan: "-" for a task that waits in nothing */
			table_cell_guest(t, rows[i].wchan ? rows[i].wchan : "-",
					 strlen(rows[i].wchan ? rows[i].wchan : "-"));
		if (!threads)
			table_cell(t, "%.1f", pcpu);
		table_cell(t, "%d", k->nice);
		table_cell(t, "%d", k->priority);
		if (threads)
			table_cell(t, "%d", k->nr_threads);
		table_cell(t, "%" PRIu64, k->vsize >> 10);
		table_cell(t, "%" PRIu64, k->rss_exact_pages * 4);
		table_cell(t, "%s", st);
		table_cell(t, "%s", tm);
		table_cell(t, "%s", cmd);	/* command_text() escaped the guest's bytes */
	}
	return table_print(t);
}

static int cmd_ps(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "threads", no_argument, NULL, 'L' },
		{ "sort", required_argument, NULL, 'S' },
		{ "pid", required_argument, NULL, 'p' },
		{ "wchan", no_argument, NULL, 'W' },
		{ 0 }
	};
	struct ps_opts o = { .sort = "pid" };
	struct nfm_task_iter *it;
	struct row *rows = NULL;
	size_t n = 0, cap = 0, i;
	unsigned int skipped;
	int r, c, ret = 0, damaged;

	while ((c = cli_getopt(cli, argc, argv, "LeAfp:", longopts)) != -1) {
		switch (c) {
		case 'L':
			o.threads = true;
			break;
		case 'S':
			o.sort = optarg;
			break;
		case 'W':
			o.wchan = true;
			break;
		case 'p':
			if (parse_pids(optarg, &o) < 0) {
				free(o.pids);
				return cli_usage_error(cli, "-p needs PID[,PID...], not '%s'", cli_esc(optarg));
			}
			break;
		case 'e':
		case 'A':
		case 'f':
			break;	/* every process is the default (the -f layout is not there yet) */
		default:
			free(o.pids);
			return cli_opt_status(cli);
		}
	}
	for (; optind < argc; optind++) {
		/* BSD-style "aux": every process, the default. */
		if (strcmp(argv[optind], "aux") && strcmp(argv[optind], "ax")) {
			free(o.pids);
			return cli_usage_error(cli, "unexpected argument '%s'", cli_esc(argv[optind]));
		}
	}
	if (check_sort(o.sort) < 0) {
		free(o.pids);
		return cli_usage_error(cli, "unknown sort key '%s' (pid tid ppid uid rss vsz time start "
				       "nice pri nlwp comm state)", cli_esc(o.sort));
	}
	if (cli_attach(cli)) {
		free(o.pids);
		return 1;
	}
	r = nfm_task_iter_new(cli->ctx, o.threads ? NFM_TASK_THREADS : 0, &it);
	if (r < 0) {
		free(o.pids);
		return cli_fail("cannot list processes: %s", cli->last_error[0] ? cli->last_error :
				strerror(-r));
	}
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
		if (o.wchan && nfm_task_wchan(cli->ctx, &t, &row->wchan) < 0)
			row->wchan = NULL;
		if (t.mm) {
			row->cmd = malloc(CMDLINE_MAX);
			if (row->cmd) {
				int len = nfm_task_cmdline(cli->ctx, &t, row->cmd, CMDLINE_MAX, &row->um);

				if (len < 0) {
					row->cmd_err = len;
					free(row->cmd);
					row->cmd = NULL;
				} else {
					row->cmd_len = (size_t)len;
				}
			}
		}
		if (cli->json && !o.threads) {
			int32_t tids[64];
			int k = nfm_task_tids(cli->ctx, &t, tids, 64);

			if (k > 64) {
				int max = k;

				row->tids = malloc((size_t)max * sizeof(*row->tids));
				if (row->tids)
					k = nfm_task_tids(cli->ctx, &t, row->tids, (size_t)max);
				if (k > max)
					k = max;	/* threads were added meanwhile */
			} else if (k >= 0) {
				row->tids = malloc((size_t)(k ? k : 1) * sizeof(*row->tids));
				if (row->tids)
					memcpy(row->tids, tids, (size_t)k * sizeof(*tids));
			}
			row->nr_tids = row->tids && k >= 0 ? k : 0;
		}
	}
	skipped = nfm_task_iter_skipped(it);
	/* a walk cut by its bound or by bad data still shows what it read, as a partial view */
	damaged = r == -ELOOP || r == -EBADMSG ? r : r == 0 ? nfm_task_iter_status(it) : 0;
	nfm_task_iter_free(it);
	if (r < 0 && !damaged) {
		free_rows(rows, n);
		free(o.pids);
		return cli_fail("the guest's task list is broken: %s", strerror(-r));
	}
	g_sort_key = o.sort[0] == '-' || o.sort[0] == '+' ? o.sort + 1 : o.sort;
	g_sort_dir = o.sort[0] == '-' ? -1 : 1;
	if (n)
		qsort(rows, n, sizeof(*rows), cmp_rows);
	if (damaged)
		cli_warn("%s", task_walk_words(damaged));
	else if (skipped)
		cli_warn("%u task%s skipped (changed while being read)", skipped,
			 skipped == 1 ? "" : "s");
	if (cli->json) {
		struct json_object *doc = jdoc_new("ps"), *a = json_object_new_array();

		for (i = 0; i < n; i++)
			json_object_array_add(a, row_json(&rows[i], o.wchan));
		j_add(doc, "processes", a);
		if (damaged)
			jdoc_error(doc, "processes", damaged, task_walk_words(damaged));
		if (skipped)
			jdoc_error(doc, "processes", -EAGAIN, "tasks skipped (changed while being read)");
		ret = cli_print_json(cli, doc);
	} else {
		ret = print_table(cli, rows, n, o.threads, o.wchan);
	}
	if (!ret && o.nr_pids && !n)
		ret = 1;	/* as procps: nothing selected */
	else if (!ret && (skipped || damaged))
		ret = EXIT_PARTIAL;
	free_rows(rows, n);
	free(o.pids);
	return ret;
}

const struct command command_ps = {
	.name = "ps",
	.summary = "processes (-L: threads), as ps aux",
	.usage = "[-L] [--sort [-]KEY] [-p PID[,PID...]] [--wchan]",
	.help = "  -L, --threads       one line per thread (TID, NLWP), as ps -eLf\n"
		"      --sort [-]KEY   sort by pid tid ppid uid rss vsz time start nice pri nlwp comm\n"
		"                      state (-KEY: descending); default pid\n"
		"  -p, --pid PID[,PID...]  only these processes (exit 1 when none is found)\n"
		"      --wchan         the WCHAN column (the kernel function a task sleeps in, as\n"
		"                      /proc/PID/wchan; \"-\" for none); -j: the wchan member\n"
		"  -e, -A, -f, aux     accepted for habit: every process is the default\n",
	.run = cmd_ps,
};
