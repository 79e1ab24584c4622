// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nfm ps: the guest's processes (or threads) in procps-ng 4's layouts: `ps aux`, `ps -ef`,
 * `ps -eLf`, `ps -o pid,user,%mem,cmd`, `--sort=-%cpu,pid`, `-p`, `-u`, `-C`, `--forest`, BSD
 * words bundled (`axjf`, `auxww`). Columns: ps_fields.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <nfm/stack.h>
#include <nfm/system.h>
#include <nfm/task.h>

#include "cli.h"
#include "guest_users.h"
#include "jout.h"
#include "objects.h"
#include "ps_fields.h"
#include "walk_words.h"

#define CMDLINE_MAX (128u << 10)
#define MAX_COLS 64
#define MAX_SORT 16

struct ps_opts {
	bool threads, forest, all, unix_f, any_select, bsd;
	/* selection: a process is shown when it matches any list given (procps ORs them) */
	int32_t *pids;
	size_t nr_pids;
	uint32_t *uids, *ruids;
	size_t nr_uids, nr_ruids;
	char **comms;
	size_t nr_comms;
	struct ps_col cols[MAX_COLS];
	size_t nr_cols;
	const char *layout;		/* a named layout when no -o: "sysv", "f", "l", "u", "j", ... */
	struct { const struct ps_field *f; int dir; } sort[MAX_SORT];
	size_t nr_sort;
	bool wchan;			/* --wchan: the old WCHAN flag of the default layout */
};

static struct ps_env g_env;
static const struct ps_opts *g_opts;

static int add_list(struct cli *cli, const char *what, const char *s, struct ps_opts *o, int kind)
{
	char *dup = strdup(s), *tok, *save = NULL;
	int ret = 0;

	if (!dup)
		return cli_fail("out of memory");
	for (tok = strtok_r(dup, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		char *end;
		long v = strtol(tok, &end, 10);

		if (kind == 'p') {
			int32_t *n = realloc(o->pids, (o->nr_pids + 1) * sizeof(*n));

			if (*end || v <= 0 || v > 4194304 || !n) {
				free(n ? n : o->pids);
				o->pids = NULL;
				o->nr_pids = 0;
				ret = cli_usage_error(cli, "%s needs PID[,PID...], not '%s'", what,
						      cli_esc(tok));
				break;
			}
			o->pids = n;
			o->pids[o->nr_pids++] = (int32_t)v;
		} else if (kind == 'u' || kind == 'U') {
			uint32_t id;
			uint32_t **list = kind == 'u' ? &o->uids : &o->ruids;
			size_t *nr = kind == 'u' ? &o->nr_uids : &o->nr_ruids;
			uint32_t *n;

			if (*end || v < 0 || (unsigned long)v >= UINT32_MAX) {
				/* a name: resolved after attaching, from the guest's /etc/passwd */
				if (cli_attach(cli)) {
					ret = 1;
					break;
				}
				if (guest_user_id(cli->ctx, tok, &id) < 0) {
					ret = cli_fail("user name does not exist in the guest's cached "
						       "/etc/passwd: %s", cli_esc(tok));
					break;
				}
			} else {
				id = (uint32_t)v;
			}
			n = realloc(*list, (*nr + 1) * sizeof(*n));
			if (!n) {
				ret = cli_fail("out of memory");
				break;
			}
			*list = n;
			(*list)[(*nr)++] = id;
		} else {
			char **n = realloc(o->comms, (o->nr_comms + 1) * sizeof(*n));

			if (!n || !(tok = strdup(tok))) {
				ret = cli_fail("out of memory");
				break;
			}
			o->comms = n;
			o->comms[o->nr_comms++] = tok;
		}
	}
	o->any_select = true;
	free(dup);
	return ret;
}

static bool wanted(const struct ps_opts *o, const struct nfm_task *t)
{
	size_t i;

	if (!o->any_select)
		return true;
	for (i = 0; i < o->nr_pids; i++)
		if (o->pids[i] == t->tgid || (o->threads && o->pids[i] == t->pid))
			return true;
	for (i = 0; i < o->nr_uids; i++)
		if (o->uids[i] == t->euid)
			return true;
	for (i = 0; i < o->nr_ruids; i++)
		if (o->ruids[i] == t->uid)
			return true;
	for (i = 0; i < o->nr_comms; i++)	/* -C matches /proc/PID/comm, as procps */
		if (!strcmp(o->comms[i], t->name))
			return true;
	return false;
}

static int parse_sort(struct cli *cli, const char *s, struct ps_opts *o)
{
	char *dup = strdup(s), *tok, *save = NULL;
	int ret = 0;

	if (!dup)
		return cli_fail("out of memory");
	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int dir = 1;
		const struct ps_field *f;

		if (*tok == '-' || *tok == '+')
			dir = *tok++ == '-' ? -1 : 1;
		f = ps_field_find(tok);
		if (!f || o->nr_sort >= MAX_SORT) {
			ret = cli_usage_error(cli, "unknown sort key '%s' (ps -o's field names: %s)",
					      cli_esc(tok), ps_field_names());
			break;
		}
		o->sort[o->nr_sort].f = f;
		o->sort[o->nr_sort++].dir = dir;
	}
	free(dup);
	return ret;
}

static int add_format(struct cli *cli, const char *list, struct ps_opts *o)
{
	char bad[128];

	if (ps_format_parse(list, &g_env, o->cols, &o->nr_cols, MAX_COLS, bad, sizeof(bad)) < 0)
		return cli_usage_error(cli, "unknown field '%s' in -o (fields: %s)", cli_esc(bad),
				       ps_field_names());
	return 0;
}

/*
 * BSD words ("aux", "axjf", "o pid,cmd"): letters that select (a x e), format (u j l s v),
 * show threads (H L m), a forest (f), wide output (w); o/O/p/U/k/t take the next word.
 */
static int bsd_word(struct cli *cli, char **argv, int argc, int *i, struct ps_opts *o)
{
	const char *w = argv[*i];

	o->bsd = true;
	for (; *w; w++) {
		const char *next = NULL;

		if (strchr("opUkO", *w)) {
			if (w[1]) {
				next = w + 1;
			} else if (*i + 1 < argc) {
				next = argv[++*i];
			} else {
				return cli_usage_error(cli, "'%c' needs a list", *w);
			}
		}
		switch (*w) {
		case 'a': case 'x': case 'e': case 'g': case 'r': case 'c': case 'n': case 'h':
			o->all = true;	/* every process (nfm has no terminal to limit to) */
			break;
		case 'w':
			break;		/* output is never cut when not a terminal; w asks for that */
		case 'u': case 'j': case 'l': case 's': case 'v':
			o->layout = *w == 'u' ? "u" : *w == 'j' ? "bj" : *w == 'l' ? "bl" :
				    *w == 's' ? "bs" : "bv";
			break;
		case 'f':
			o->forest = true;
			break;
		case 'H': case 'L': case 'm':
			o->threads = true;
			break;
		case 'o': case 'O':
			return add_format(cli, next, o);
		case 'p':
			return add_list(cli, "p", next, o, 'p');
		case 'U':
			return add_list(cli, "U", next, o, 'U');
		case 'k':
			return parse_sort(cli, next, o);
		default:
			return cli_usage_error(cli, "unknown BSD option '%c' in '%s'", *w,
					       cli_esc(argv[*i]));
		}
	}
	return 0;
}

/* The columns of a named layout (procps's macro formats and generated SysV lists). */
static const char *layout_spec(const struct ps_opts *o, bool unix_l, bool unix_F)
{
	const char *l = o->layout;

	if (l && !strcmp(l, "u"))
		return "user,pid,%cpu,%mem,vsz,rss,tname,stat,start_time,bsdtime,args";
	if (l && !strcmp(l, "bj"))
		return "ppid,pid,pgid,sid,tname,tpgid,stat,uid,bsdtime,args";
	if (l && !strcmp(l, "bl"))
		return "flags,uid,pid,ppid,priority,nice,vsz,rss,wchan,stat,tname,bsdtime,args";
	if (l && !strcmp(l, "bs"))
		return "uid,pid,pending,sig_block,sig_ignore,caught,stat,tname,bsdtime,args";
	if (l && !strcmp(l, "bv"))
		return "pid,tname,stat,bsdtime,maj_flt,rss,%mem,args";
	if (o->bsd && !o->unix_f && !unix_l && !unix_F)
		return "pid,tname,stat,bsdtime,args";	/* ps ax: procps's BSD default */
	if (unix_F)
		return o->threads ? "uid_hack,pid,ppid,lwp,c,nlwp,sz,rss,psr,stime,tname,time,cmd" :
				    "uid_hack,pid,ppid,c,sz,rss,psr,stime,tname,time,cmd";
	if (unix_l && o->unix_f)
		return o->threads ? "f,s,uid_hack,pid,ppid,lwp,c,nlwp,pri,ni,addr,sz,wchan,stime,tname,time,cmd" :
				    "f,s,uid_hack,pid,ppid,c,pri,ni,addr,sz,wchan,stime,tname,time,cmd";
	if (unix_l)
		return o->threads ? "f,s,uid,pid,ppid,lwp,c,pri,ni,addr,sz,wchan,tname,time,ucmd" :
				    "f,s,uid,pid,ppid,c,pri,ni,addr,sz,wchan,tname,time,ucmd";
	if (o->unix_f)
		return o->threads ? "uid_hack,pid,ppid,lwp,c,nlwp,stime,tname,time,cmd" :
				    "uid_hack,pid,ppid,c,stime,tname,time,cmd";
	return o->threads ? "pid,lwp,tname,time,ucmd" : "pid,tname,time,ucmd";
}

static int cmp_rows(const void *a, const void *b)
{
	const struct ps_row *x = a, *y = b;
	size_t i;

	for (i = 0; i < g_opts->nr_sort; i++) {
		int c = ps_field_cmp(g_opts->sort[i].f, x, y, &g_env);

		if (c)
			return c * g_opts->sort[i].dir;
	}
	/* the walk's order, as procps keeps /proc's */
	return x->t.tgid != y->t.tgid ? (x->t.tgid < y->t.tgid ? -1 : 1) :
	       (x->t.pid > y->t.pid) - (x->t.pid < y->t.pid);
}

/* procps's show_tree(): a row, then its children (rows sorted), with the prefix codes. */
static void forest_walk(struct ps_row *rows, size_t n, size_t self, int level, bool sibling,
			char *prefix, struct ps_row **out, size_t *nout, bool *done)
{
	size_t i;

	if (done[self] || level >= 63)
		return;
	done[self] = true;
	if (level)
		prefix[level - 1] = sibling ? '+' : 'L';
	prefix[level] = 0;
	memcpy(rows[self].forest, prefix, (size_t)level + 1);
	out[(*nout)++] = &rows[self];
	if (level)
		prefix[level - 1] = sibling ? '|' : ' ';
	for (i = 0; i < n; i++) {
		size_t j;
		bool more = false;

		if (rows[i].t.ppid != rows[self].t.tgid || done[i] || i == self)
			continue;
		for (j = i + 1; j < n; j++)
			if (rows[j].t.ppid == rows[self].t.tgid && !done[j] && j != self) {
				more = true;
				break;
			}
		forest_walk(rows, n, i, level + 1, more, prefix, out, nout, done);
		prefix[level] = 0;
	}
}

static struct ps_row **forest_order(struct ps_row *rows, size_t n)
{
	struct ps_row **out = calloc(n ? n : 1, sizeof(*out));
	bool *done = calloc(n ? n : 1, sizeof(*done));
	char prefix[64];
	size_t nout = 0, i, j;

	if (!out || !done) {
		free(out);
		free(done);
		return NULL;
	}
	/* roots: rows whose parent is not shown, from the last to the first (as procps) */
	for (i = n; i-- > 0;) {
		for (j = 0; j < n; j++)
			if (rows[j].t.tgid == rows[i].t.ppid && j != i)
				break;
		if (j == n)
			forest_walk(rows, n, i, 0, false, prefix, out, &nout, done);
	}
	for (i = 0; i < n; i++)		/* a cycle of parents (a hostile guest): still shown */
		if (!done[i])
			forest_walk(rows, n, i, 0, false, prefix, out, &nout, done);
	free(done);
	return out;
}

/* process.json with the rest of /proc (info), names, the command line and the tids. */
static struct json_object *row_json(struct cli *cli, const struct ps_row *r, bool wchan)
{
	struct json_object *o = obj_process(&r->t, nfm_vmrss_summed(cli->ctx)), *a;
	char name[GUEST_NAME_MAX];
	int k;

	if (r->have_info) {
		uint32_t few[64], *gids = few;
		int ng = nfm_task_groups(cli->ctx, &r->t, few, 64);

		obj_process_info(o, r->full, 0);
		if (ng > 64) {	/* up to NGROUPS_MAX: read again into room for all */
			int cap = ng;

			gids = malloc((size_t)cap * sizeof(*gids));
			ng = !gids ? -ENOMEM : nfm_task_groups(cli->ctx, &r->t, gids, (size_t)cap);
			if (ng > cap)
				ng = -EAGAIN;	/* it changed between the reads */
		}
		if (ng >= 0)
			obj_process_groups(o, gids, ng);
		else
			j_add(o, "groups_error", j_str(strerror(-ng)));
		if (gids != few)
			free(gids);	/* NULL after a failed malloc: free(NULL) */
	}
	if (guest_user_name(cli->ctx, r->t.euid, name))
		j_add_bytes(o, "user", name, strlen(name));
	if (guest_group_name(cli->ctx, r->t.egid, name))
		j_add_bytes(o, "group", name, strlen(name));
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

static void free_opts(struct ps_opts *o)
{
	free(o->pids);
	free(o->uids);
	free(o->ruids);
	for (size_t i = 0; i < o->nr_comms; i++)
		free(o->comms[i]);
	free(o->comms);
}

static void free_rows(struct ps_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(rows[i].cmd);
		free(rows[i].tids);
		free(rows[i].full);
	}
	free(rows);
}

/* The values every row is relative to: boot time, uptime, MemTotal, pid_max's digits. */
static void env_init(struct cli *cli, struct ps_env *e)
{
	struct nfm_meminfo mi;
	uint64_t up = 0, addr;
	int64_t boot = 0;
	int32_t pid_max = 0;
	struct winsize ws;
	const char *cols = getenv("COLUMNS");

	e->ctx = cli->ctx;
	e->vmrss_summed = nfm_vmrss_summed(cli->ctx);
	e->now = time(NULL);
	e->have_boot = nfm_task_boot_time(cli->ctx, &boot) == 0;
	e->boot_s = boot / 1000000000;
	if (nfm_ctx_uptime_ns(cli->ctx, &up) == 0)
		e->uptime_ticks = (double)up / 1e7;
	if (nfm_meminfo(cli->ctx, &mi) == 0)
		e->mem_total_kb = mi.mem_total;
	/* procps sizes PID columns by /proc/sys/kernel/pid_max's digits */
	e->pid_width = 5;
	if (nfm_sym_lookup(cli->ctx, "pid_max", &addr, NULL) == 0 &&
	    nfm_read_kernel(cli->ctx, addr, &pid_max, sizeof(pid_max)) == 0 && pid_max > 0 &&
	    pid_max <= 4194304) {
		int d = 0;

		for (int32_t v = pid_max; v; v /= 10)
			d++;
		e->pid_width = d < 5 ? 5 : d;
	}
	/* a terminal's width cuts the last column (COLUMNS overrides); a pipe is never cut */
	e->cols = INT32_MAX;
	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col)
		e->cols = ws.ws_col;
	if (cols && atoi(cols) > 0)
		e->cols = atoi(cols);
}

static int read_rows(struct cli *cli, struct ps_opts *o, bool need_info, bool need_cmd,
		     bool need_wchan, struct ps_row **ret, size_t *nret, unsigned int *skipped,
		     unsigned int *no_info, int *damaged)
{
	struct nfm_task_iter *it;
	struct ps_row *rows = NULL;
	size_t n = 0, cap = 0;
	char *scratch = need_cmd ? malloc(CMDLINE_MAX) : NULL;
	int r = nfm_task_iter_new(cli->ctx, o->threads ? NFM_TASK_THREADS : 0, &it);

	if (r < 0) {
		free(scratch);
		return cli_fail("cannot list processes: %s", cli->last_error[0] ? cli->last_error :
				strerror(-r));
	}
	for (;;) {
		struct nfm_task t;
		struct ps_row *row;

		r = nfm_task_iter_next(it, &t);
		if (r <= 0)
			break;
		if (!wanted(o, &t))
			continue;
		if (n == cap) {
			struct ps_row *nr = realloc(rows, (cap = cap ? cap * 2 : 256) * sizeof(*nr));

			if (!nr) {
				r = -ENOMEM;
				break;
			}
			rows = nr;
		}
		row = &rows[n++];
		memset(row, 0, sizeof(*row));
		row->t = t;
		if (need_info) {
			/* ps's columns are /proc/PID/stat's; -j's process object has status too */
			struct nfm_task_info info;

			row->have_info = nfm_task_info(cli->ctx, &t,
						       (o->threads ? NFM_TASK_THREADS : 0) |
						       (cli->json ? 0 : NFM_TASK_STAT_ONLY),
						       &info) == 0;
			if (row->have_info) {
				ps_info_from(&row->info, &info);
				if (cli->json && (row->full = malloc(sizeof(info))))
					memcpy(row->full, &info, sizeof(info));
				row->have_info = !cli->json || row->full;
			}
			*no_info += !row->have_info;	/* its cells say "-": a partial view */
		}
		if (need_wchan && nfm_task_wchan(cli->ctx, &t, &row->wchan) < 0)
			row->wchan = NULL;
		if (need_cmd && t.mm) {
			/* Read into one scratch buffer, keep a copy of its length: a 128 KiB block
			 * per row, of which one page is written, cost `nfm ps aux` 8 MB at 2,000
			 * processes (the heap never returns what lies between). */
			int len = scratch ? nfm_task_cmdline(cli->ctx, &t, scratch, CMDLINE_MAX,
							     &row->um) : -ENOMEM;

			if (len < 0) {
				row->cmd_err = len;
			} else if ((row->cmd = malloc(len ? (size_t)len : 1))) {
				memcpy(row->cmd, scratch, (size_t)len);
				row->cmd_len = (size_t)len;
			} else {
				row->cmd_err = -ENOMEM;
			}
		}
		if (cli->json && !o->threads) {
			int k = nfm_task_tids(cli->ctx, &t, NULL, 0);

			if (k > 0 && (row->tids = malloc((size_t)k * sizeof(*row->tids)))) {
				int m = nfm_task_tids(cli->ctx, &t, row->tids, (size_t)k);

				row->nr_tids = m < 0 ? 0 : m > k ? k : m;
			}
		}
	}
	free(scratch);
	*skipped = nfm_task_iter_skipped(it);
	/* a walk cut by its bound or by bad data still shows what it read, as a partial view */
	*damaged = r == -ELOOP || r == -EBADMSG ? r : r == 0 ? nfm_task_iter_status(it) : 0;
	nfm_task_iter_free(it);
	*ret = rows;
	*nret = n;
	if (r < 0 && !*damaged)
		return cli_fail("the guest's task list is broken: %s", strerror(-r));
	return 0;
}

static int print_rows(struct ps_opts *o, struct ps_row **order, size_t n, bool headers)
{
	bool any_head = false;
	size_t i;

	for (i = 0; i < o->nr_cols; i++)
		any_head |= o->cols[i].head[0] != 0;
	for (i = 0; i < n + 1; i++) {
		char *line;

		if (!i && (!headers || !any_head))
			continue;
		line = ps_line(o->cols, o->nr_cols, i ? order[i - 1] : NULL, &g_env);
		if (!line)
			return cli_fail("out of memory");
		/* procps ends a line at its last cell: no trailing spaces of an empty last cell */
		if (puts(line) == EOF) {
			free(line);
			return 1;
		}
		free(line);
	}
	return fflush(stdout) ? 1 : 0;
}

static int cmd_ps(struct cli *cli, int argc, char **argv)
{
	enum { O_SORT = 0x100, O_WCHAN, O_FOREST, O_FORMAT, O_PID, O_USER, O_CMD, O_PPID };
	static const struct option longopts[] = {
		{ "threads", no_argument, NULL, 'L' },
		{ "sort", required_argument, NULL, O_SORT },
		{ "pid", required_argument, NULL, 'p' },
		{ "wchan", no_argument, NULL, O_WCHAN },
		{ "forest", no_argument, NULL, O_FOREST },
		{ "format", required_argument, NULL, 'o' },
		{ "user", required_argument, NULL, 'u' },
		{ "User", required_argument, NULL, 'U' },
		{ "command", required_argument, NULL, 'C' },
		{ "no-headers", no_argument, NULL, 'N' },
		{ "no-heading", no_argument, NULL, 'N' },
		{ "cols", required_argument, NULL, 'W' },
		{ "columns", required_argument, NULL, 'W' },
		{ "width", required_argument, NULL, 'W' },
		{ 0 }
	};
	struct ps_opts o = { 0 };
	struct ps_row *rows = NULL, **order = NULL;
	size_t n = 0, i;
	unsigned int skipped = 0, no_info = 0;
	int c, ret = 0, damaged = 0, width = 0;
	bool unix_l = false, unix_F = false, need_info = false, need_cmd = false, need_wchan;
	bool headers = true;

	g_opts = &o;
	memset(&g_env, 0, sizeof(g_env));
	g_env.pid_width = 5;	/* until attached (widths of -o parsed before) */
	while ((c = cli_getopt(cli, argc, argv, "LeAfFlHTp:o:u:U:C:ywa", longopts)) != -1) {
		switch (c) {
		case 'L': case 'T':
			o.threads = true;
			break;
		case O_SORT:
			if (parse_sort(cli, optarg, &o))
				goto usage;
			break;
		case O_WCHAN:
			o.wchan = true;
			break;
		case O_FOREST: case 'H':
			o.forest = true;
			break;
		case 'o':
			if (add_format(cli, optarg, &o))
				goto usage;
			break;
		case 'p':
			if ((ret = add_list(cli, "-p", optarg, &o, 'p')))
				goto out;
			break;
		case 'u': case 'U': case 'C':
			if ((ret = add_list(cli, c == 'u' ? "-u" : c == 'U' ? "-U" : "-C", optarg, &o,
					    c == 'C' ? 'C' : c)))
				goto out;
			break;
		case 'e': case 'A': case 'a':
			o.all = true;
			break;
		case 'f':
			o.unix_f = true;
			break;
		case 'F':
			unix_F = true;
			o.unix_f = true;
			break;
		case 'l':
			unix_l = true;
			break;
		case 'y': case 'w':
			break;
		case 'N':
			headers = false;
			break;
		case 'W':
			width = atoi(optarg);
			break;
		default:
			ret = cli_opt_status(cli);
			goto out;
		}
	}
	for (; optind < argc; optind++)
		if ((ret = bsd_word(cli, argv, argc, &optind, &o)))
			goto out;
	if (cli_attach(cli)) {
		ret = 1;
		goto out;
	}
	env_init(cli, &g_env);
	if (width > 0)
		g_env.cols = width;
	g_env.unix_f = o.unix_f;
	g_env.wide_signals = true;
	if (!o.nr_cols) {
		char spec[256];
		const char *l = layout_spec(&o, unix_l, unix_F), *last = strrchr(l, ',');

		/* --wchan: WCHAN before the command, where it was before the layouts came */
		if (o.wchan && !strstr(l, "wchan") && last)
			snprintf(spec, sizeof(spec), "%.*s,wchan%s", (int)(last - l), l, last);
		else
			snprintf(spec, sizeof(spec), "%s", l);
		if (add_format(cli, spec, &o))
			goto usage;
	} else {
		/* -o before attaching: widths of PID columns from the guest's pid_max now */
		for (i = 0; i < o.nr_cols; i++)
			if ((o.cols[i].f->flags & PS_F_PIDMAX) && o.cols[i].width < g_env.pid_width &&
			    (int)strlen(o.cols[i].head) <= g_env.pid_width)
				o.cols[i].width = g_env.pid_width;
	}
	for (i = 0; i < o.nr_cols; i++) {
		need_info |= (o.cols[i].f->flags & PS_F_INFO) != 0;
		need_cmd |= (o.cols[i].f->flags & PS_F_CMD) != 0 ||
			    (o.unix_f && !strcmp(o.cols[i].f->spec, "comm"));
	}
	for (i = 0; i < o.nr_sort; i++)
		need_info |= (o.sort[i].f->flags & PS_F_INFO) != 0;
	need_wchan = o.wchan;
	for (i = 0; i < o.nr_cols; i++)
		need_wchan |= (o.cols[i].f->flags & PS_F_WCHAN) != 0;
	if (cli->json)
		need_info = need_cmd = true;
	ret = read_rows(cli, &o, need_info, need_cmd, need_wchan, &rows, &n, &skipped, &no_info,
			&damaged);
	if (ret)
		goto out;
	if (o.forest && !o.nr_sort) {	/* procps: start time, then the tree */
		o.sort[0].f = ps_field_find("start_time");
		o.sort[0].dir = 1;
		o.nr_sort = 1;
	}
	if (n)
		qsort(rows, n, sizeof(*rows), cmp_rows);
	if (damaged)
		cli_warn("%s", task_walk_words(damaged));
	else if (skipped)
		cli_warn("%u task%s skipped (changed while being read)", skipped,
			 skipped == 1 ? "" : "s");
	else if (no_info)	/* one warning line: the walk's own say the view is partial */
		cli_warn("%u task%s without their /proc/PID/stat and status details (changed while "
			 "being read): \"-\" in those cells", no_info, no_info == 1 ? "" : "s");
	if (cli->json) {
		struct json_object *doc = jdoc_new("ps"), *a = json_object_new_array();

		for (i = 0; i < n; i++)
			json_object_array_add(a, row_json(cli, &rows[i], need_wchan));
		j_add(doc, "processes", a);
		if (damaged)
			jdoc_error(doc, "processes", damaged, task_walk_words(damaged));
		if (skipped)
			jdoc_error(doc, "processes", -EAGAIN, "tasks skipped (changed while being read)");
		if (no_info)
			jdoc_error(doc, "processes", -EAGAIN, "tasks without their /proc/PID/stat and "
				   "status details (changed while being read)");
		ret = cli_print_json(cli, doc);
	} else {
		if (o.forest) {
			order = forest_order(rows, n);
		} else {
			order = calloc(n ? n : 1, sizeof(*order));
			for (i = 0; order && i < n; i++)
				order[i] = &rows[i];
		}
		if (!order)
			ret = cli_fail("out of memory");
		else
			ret = print_rows(&o, order, n, headers && !cli->noheadings);
	}
	if (!ret && o.any_select && !n)
		ret = 1;	/* as procps: nothing selected */
	else if (!ret && (skipped || damaged || no_info))
		ret = EXIT_PARTIAL;
	goto out;
usage:
	ret = EXIT_USAGE;
out:
	free(order);
	free_rows(rows, n);
	free_opts(&o);
	return ret;
}

const struct command command_ps = {
	.name = "ps",
	.summary = "processes (-L: threads), with procps's options and layouts",
	.usage = "[aux | -ef | -eLf | -l | -F | -o FIELD,...] [--sort [+|-]FIELD,...] [-p PID,...] "
		 "[-u USER,...] [-C NAME,...] [--forest]",
	.help = "  -e, -A, a, x        every process (the default: nfm has no terminal to limit to)\n"
		"  -f, -F, -l          procps's full, extra full and long layouts: ps -ef prints UID\n"
		"                      PID PPID C STIME TTY TIME CMD, ps -eLf adds LWP and NLWP\n"
		"  u, j, l, s, v, f    BSD words, bundled: ps aux prints USER PID %CPU %MEM VSZ RSS\n"
		"                      TTY STAT START TIME COMMAND; j jobs, l long, s signals, v\n"
		"                      memory, f a forest\n"
		"  -o, --format FIELD[=HEADER],...  these columns (-o may repeat), with procps's\n"
		"                      names: pid ppid pgid sid tty user uid group %cpu %mem vsz\n"
		"                      rss stat start time etime ni pri psr wchan comm args cmd\n"
		"                      nlwp lwp and more (an unknown name lists them all)\n"
		"  -L, -T, --threads   one line per thread (LWP)\n"
		"      --sort [+|-]FIELD,...  sort by these fields (-: descending), e.g. -%cpu,pid\n"
		"  -p, --pid PID,...   only these processes (exit 1 when none is found)\n"
		"  -u, --user USER,... only these effective users (names from the guest's\n"
		"                      /etc/passwd)\n"
		"  -U, --User USER,... only these real users\n"
		"  -C, --command NAME,...  only processes with this comm\n"
		"  -H, --forest        the process tree in the command column\n"
		"      --wchan         add the WCHAN column (the kernel function a task sleeps in)\n"
		"      --no-headers, --no-heading  no header line\n"
		"      --cols, --columns, --width N  cut lines at N columns (a terminal's width by\n"
		"                      default)\n"
		"  -y, -w              accepted and ignored (procps: -y with -l prints RSS for ADDR,\n"
		"                      -w widens; nfm cuts lines only at --cols)\n"
		"  Users and groups are named from the guest's own /etc/passwd and /etc/group in its\n"
		"  page cache (numbers when not cached); -j: process objects with every /proc/PID/stat\n"
		"  and status field (doc/schema/process.json).\n",
	.run = cmd_ps,
};
