// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What the front ends (batch, JSON, TUI) show of the frames: which processes (-p, -u, the
 * TUI's filters), in which order (-o / -s and the sort keys), flat or as a tree (V).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "top_model.h"

/* A guest's parent links may form cycles or chains of any length: the tree is cut here. */
#define TREE_DEPTH_MAX 64

static int cmp_procs(const void *a, const void *b, void *arg)
{
	const struct top_proc *x = *(const struct top_proc *const *)a;
	const struct top_proc *y = *(const struct top_proc *const *)b;
	const struct top_state *st = arg;
	double dx = 0, dy = 0;
	int r;

	switch (st->sort) {
	case TOP_SORT_CPU: dx = x->cpu_pct; dy = y->cpu_pct; break;
	case TOP_SORT_MEM: dx = (double)x->rss_kb; dy = (double)y->rss_kb; break;
	case TOP_SORT_TIME: dx = (double)x->cpu_ns; dy = (double)y->cpu_ns; break;
	case TOP_SORT_VIRT: dx = (double)x->vsize; dy = (double)y->vsize; break;
	case TOP_SORT_PID: dx = -x->pid; dy = -y->pid; break;	/* ascending, as top's N */
	}
	r = dx != dy ? (dx < dy ? 1 : -1) : (x->pid > y->pid) - (x->pid < y->pid);
	return st->sort_reverse ? -r : r;
}

bool top_pid_wanted(const struct top_state *st, int32_t pid)
{
	size_t i;

	for (i = 0; i < st->npids; i++)
		if (st->pids[i] == pid)
			return true;
	return !st->npids;
}

/* FIELD=TEXT (case-insensitive substring), FIELD>N or FIELD<N; see top_filter_set(). */
static bool filter_match(const struct top_state *st, const struct top_filter *f,
			 const struct top_proc *p)
{
	const char *text = NULL;
	char num[16], cmd[80];
	double v = 0;

	switch (f->field) {
	case TOP_F_COMMAND: text = top_proc_command(st, p, cmd, sizeof(cmd)); break;
	case TOP_F_USER: text = p->user; break;
	case TOP_F_VM: text = p->vm; break;
	case TOP_F_STATE: num[0] = p->state; num[1] = 0; text = num; break;
	case TOP_F_PID: v = p->pid; break;
	case TOP_F_CPU: v = p->cpu_pct; break;
	case TOP_F_MEM: v = p->mem_pct; break;
	case TOP_F_RES: v = (double)p->rss_kb; break;
	}
	if (text)
		return f->op == '=' && strcasestr(text, f->text) != NULL;
	return f->op == '>' ? v > f->num : f->op == '<' ? v < f->num : v == f->num;
}

bool top_proc_wanted(const struct top_state *st, const struct top_proc *p)
{
	size_t i;

	if (!top_pid_wanted(st, p->pid))
		return false;
	if (st->user && strcmp(st->user, p->user) != 0) {
		char *end;
		unsigned long uid = strtoul(st->user, &end, 10);

		if (!st->user[0] || *end || uid != p->uid)	/* -u 0 as well as -u root */
			return false;
	}
	for (i = 0; i < st->nfilters; i++)
		if (filter_match(st, &st->filters[i], p) == st->filters[i].negate)
			return false;
	return true;
}

int top_filter_set(struct top_state *st, const char *expr)
{
	static const char *const names[] = { [TOP_F_COMMAND] = "COMMAND", [TOP_F_USER] = "USER",
		[TOP_F_VM] = "VM", [TOP_F_STATE] = "S", [TOP_F_PID] = "PID", [TOP_F_CPU] = "%CPU",
		[TOP_F_MEM] = "%MEM", [TOP_F_RES] = "RES" };
	struct top_filter f = { 0 };
	const char *op = strpbrk(expr, "=<>");
	size_t len, i;
	char *end;

	if (st->nfilters >= TOP_FILTERS_MAX)
		return -ENOSPC;
	if (*expr == '!') {
		f.negate = true;
		expr++;
	}
	if (!op || op == expr)
		return -EINVAL;
	len = (size_t)(op - expr);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == len && !strncasecmp(expr, names[i], len))
			break;
	if (i == sizeof(names) / sizeof(names[0]) || strlen(op + 1) >= sizeof(f.text))
		return -EINVAL;
	f.field = (enum top_field)i;
	f.op = *op;
	snprintf(f.text, sizeof(f.text), "%s", op + 1);
	if (f.field >= TOP_F_PID) {
		f.num = strtod(op + 1, &end);
		if (!op[1] || *end)
			return -EINVAL;
	} else if (f.op != '=') {
		return -EINVAL;
	}
	st->filters[st->nfilters++] = f;
	return 0;
}

/*
 * The tree of one VM's rows (rows[0..n), sorted): each process after its parent, children in
 * sort order; *depth gets each row's depth. A process whose parent is not shown is a root.
 */
static void tree_order(struct top_proc **rows, size_t n, struct top_proc **out, int *depth)
{
	bool *done = calloc(n ? n : 1, sizeof(*done));
	size_t *stack = malloc((n ? n : 1) * sizeof(*stack)), m = 0, i, j, k;
	int *sd = malloc((n ? n : 1) * sizeof(*sd));

	if (!done || !stack || !sd) {
		memcpy(out, rows, n * sizeof(*out));
		memset(depth, 0, n * sizeof(*depth));
		goto out;
	}
	for (i = 0; i < n; i++) {
		bool root = true;

		for (j = 0; j < n && root; j++)
			root = j == i || rows[j]->pid != rows[i]->ppid || rows[i]->ppid == rows[i]->pid;
		if (!root || done[i])
			continue;
		size_t sp = 0;

		stack[sp] = i;
		sd[sp++] = 0;
		done[i] = true;
		while (sp) {
			size_t c = stack[--sp];
			int d = sd[sp];

			out[m] = rows[c];
			depth[m++] = d;
			if (d >= TREE_DEPTH_MAX)
				continue;
			/* pushed in reverse so that the first child in sort order comes out first */
			for (k = n; k-- > 0;)
				if (!done[k] && rows[k]->ppid == rows[c]->pid && k != c) {
					done[k] = true;
					stack[sp] = k;
					sd[sp++] = d + 1;
				}
		}
	}
	for (i = 0; i < n; i++)	/* in a parent cycle (forged links): shown flat at the end */
		if (!done[i]) {
			out[m] = rows[i];
			depth[m++] = 0;
		}
out:
	free(done);
	free(stack);
	free(sd);
}

size_t top_rows(struct top_state *st, struct top_proc ***ret)
{
	return top_rows_tree(st, ret, NULL);
}

size_t top_rows_tree(struct top_state *st, struct top_proc ***ret, int **depth)
{
	size_t n = 0, i, j, k, first;
	struct top_proc **rows, **out;

	*ret = NULL;
	if (depth)
		*depth = NULL;
	for (i = 0; i < st->nvms; i++)
		if (!st->filter || st->filter == &st->vms[i])
			n += st->vms[i].nprocs;
	rows = malloc((n ? n : 1) * sizeof(*rows));
	if (!rows)
		return 0;
	n = 0;
	for (i = 0; i < st->nvms; i++)
		if ((!st->filter || st->filter == &st->vms[i]) && !st->vms[i].collapsed)
			for (j = 0; j < st->vms[i].nprocs; j++)
				if (top_proc_wanted(st, &st->vms[i].procs[j]))
					rows[n++] = &st->vms[i].procs[j];
	qsort_r(rows, n, sizeof(*rows), cmp_procs, st);
	*ret = rows;
	if (!depth)
		return n;
	/* The tree: VM by VM, in the VMs' order. */
	out = malloc((n ? n : 1) * sizeof(*out));
	*depth = malloc((n ? n : 1) * sizeof(**depth));
	if (!out || !*depth) {
		free(out);
		free(*depth);
		*depth = NULL;
		return n;
	}
	k = 0;
	for (i = 0; i < st->nvms; i++) {
		struct top_proc **mine = malloc((n ? n : 1) * sizeof(*mine));

		if (!mine)
			break;
		first = k;
		for (j = 0, k = first; j < n; j++)
			if (rows[j]->vm == st->vms[i].name)
				mine[k++ - first] = rows[j];
		tree_order(mine, k - first, out + first, *depth + first);
		free(mine);
	}
	free(rows);
	*ret = out;
	return k;
}

int top_parse_sort(const char *s, enum top_sort *ret)
{
	static const struct { const char *name; enum top_sort key; } names[] = {
		{ "cpu", TOP_SORT_CPU }, { "%CPU", TOP_SORT_CPU }, { "mem", TOP_SORT_MEM },
		{ "%MEM", TOP_SORT_MEM }, { "RES", TOP_SORT_MEM }, { "pid", TOP_SORT_PID },
		{ "time", TOP_SORT_TIME }, { "TIME+", TOP_SORT_TIME }, { "TIME", TOP_SORT_TIME },
		{ "VIRT", TOP_SORT_VIRT },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(s, names[i].name)) {
			*ret = names[i].key;
			return 0;
		}
	return -EINVAL;
}
