// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nfm pstree [-p] [-u] [PID]: the process tree by real parent, like psmisc's pstree -p -u (or -j:
 * nested JSON).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/task.h>

#include "cli.h"
#include "guest_users.h"
#include "jout.h"
#include "objects.h"
#include "walk_words.h"

#define MAX_DEPTH 256

struct node {
	struct nfm_task t;
	int first_child, next_sibling;	/* indices, -1 for none */
};

static int by_pid(const void *a, const void *b)
{
	const struct node *x = a, *y = b;

	return (x->t.tgid > y->t.tgid) - (x->t.tgid < y->t.tgid);
}

struct tree_opts {
	struct cli *cli;
	bool pids;
	bool uids;			/* -u: a uid that differs from the parent's, named */
};

/* Lines of guest text nfm draws itself: the names are escaped, the tree is ASCII. */
static void print_tree(const struct node *n, int i, const struct tree_opts *o, int parent,
		       char *prefix, size_t plen, int depth)
{
	char esc[512], name[GUEST_NAME_MAX];
	bool uid = o->uids && parent >= 0 && n[parent].t.euid != n[i].t.euid;
	int c;

	printf("%s", cli_escape(n[i].t.name, strnlen(n[i].t.name, sizeof(n[i].t.name)), esc,
				sizeof(esc)));
	/* psmisc: name(pid), name(user), name(pid,user) */
	if (o->pids || uid)
		printf("(");
	if (o->pids)
		printf("%d%s", n[i].t.tgid, uid ? "," : "");
	if (uid) {
		guest_user_or_id(o->cli->ctx, n[i].t.euid, name);
		printf("%s", cli_escape(name, strlen(name), esc, sizeof(esc)));
	}
	if (o->pids || uid)
		printf(")");
	if (n[i].t.nr_threads > 1)
		printf(" {%d threads}", n[i].t.nr_threads);
	putchar('\n');
	if (depth >= MAX_DEPTH || plen + 5 >= 4096)
		return;
	for (c = n[i].first_child; c >= 0; c = n[c].next_sibling) {
		int last = n[c].next_sibling < 0;

		printf("%s%s", prefix, last ? "`-- " : "|-- ");
		strcpy(prefix + plen, last ? "    " : "|   ");
		print_tree(n, c, o, i, prefix, plen + 4, depth + 1);
		prefix[plen] = 0;
	}
}

/* process.json with "children" (process objects, in pid order). */
static struct json_object *tree_json(const struct node *n, int i, int depth, bool summed)
{
	struct json_object *o = obj_process(&n[i].t, summed), *a = json_object_new_array();
	int c;

	for (c = n[i].first_child; c >= 0 && depth < MAX_DEPTH; c = n[c].next_sibling)
		json_object_array_add(a, tree_json(n, c, depth + 1, summed));
	j_add(o, "children", a);
	return o;
}

static int find(const struct node *n, size_t cnt, int32_t pid)
{
	struct node key = { .t.tgid = pid };
	const struct node *p = bsearch(&key, n, cnt, sizeof(*n), by_pid);

	return p ? (int)(p - n) : -1;
}

static int cmd_pstree(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "show-pids", no_argument, NULL, 'p' },
		{ "uid-changes", no_argument, NULL, 'u' },
		{ 0 }
	};
	struct nfm_task_iter *it;
	struct nfm_task t;
	struct node *n = NULL;
	size_t cnt = 0, cap = 0, i;
	struct tree_opts o = { .cli = cli };
	long root = 0;
	char *end, prefix[4096] = "";
	unsigned int skipped;
	int r, c, ret = 0, damaged;

	while ((c = cli_getopt(cli, argc, argv, "pu", longopts)) != -1) {
		switch (c) {
		case 'p':
			o.pids = true;
			break;
		case 'u':
			o.uids = true;
			break;
		default:
			return cli_opt_status(cli);
		}
	}
	if (optind < argc) {
		root = strtol(argv[optind], &end, 10);
		if (!argv[optind][0] || *end || root <= 0 || root > 4194304)
			return cli_usage_error(cli, "not a pid: '%s'", cli_esc(argv[optind]));
		if (optind + 1 < argc)
			return cli_usage_error(cli, "one PID at most");
	}
	if (cli_attach(cli))
		return 1;
	r = nfm_task_iter_new(cli->ctx, 0, &it);
	if (r < 0)
		return cli_fail("cannot list processes: %s", cli->last_error[0] ? cli->last_error :
				strerror(-r));
	while ((r = nfm_task_iter_next(it, &t)) > 0) {
		if (cnt == cap) {
			struct node *p = realloc(n, (cap = cap ? cap * 2 : 256) * sizeof(*p));

			if (!p) {
				r = -ENOMEM;
				break;
			}
			n = p;
		}
		n[cnt++] = (struct node){ .t = t, .first_child = -1, .next_sibling = -1 };
	}
	skipped = nfm_task_iter_skipped(it);
	damaged = r == -ELOOP || r == -EBADMSG ? r : r == 0 ? nfm_task_iter_status(it) : 0;
	nfm_task_iter_free(it);
	if (r < 0 && !damaged) {
		free(n);
		return cli_fail("the guest's task list is broken: %s", strerror(-r));
	}
	if (cnt)
		qsort(n, cnt, sizeof(*n), by_pid);
	/* Link children in pid order: walk backwards, pushing onto each parent's list. */
	for (i = cnt; i-- > 0;) {
		int p = n[i].t.ppid ? find(n, cnt, n[i].t.ppid) : -1;

		if (p >= 0 && p != (int)i) {
			n[i].next_sibling = n[p].first_child;
			n[p].first_child = (int)i;
		}
	}
	if (root && find(n, cnt, (int32_t)root) < 0) {
		free(n);
		return cli_fail("pid %ld: no such process", root);
	}
	if (damaged)
		cli_warn("%s", task_walk_words(damaged));
	else if (skipped)
		cli_warn("%u task%s skipped (changed while being read)", skipped,
			 skipped == 1 ? "" : "s");
	if (cli->json) {
		struct json_object *doc = jdoc_new("pstree"), *a = json_object_new_array();

		for (i = 0; i < cnt; i++)
			if (root ? n[i].t.tgid == root :
				   (!n[i].t.ppid || find(n, cnt, n[i].t.ppid) < 0))
				json_object_array_add(a, tree_json(n, (int)i, 0, nfm_vmrss_summed(cli->ctx)));
		j_add(doc, "processes", a);
		if (damaged)
			jdoc_error(doc, "processes", damaged, task_walk_words(damaged));
		if (skipped)
			jdoc_error(doc, "processes", -EAGAIN, "tasks skipped (changed while being read)");
		ret = cli_print_json(cli, doc);
	} else {
		for (i = 0; i < cnt; i++)
			if (root ? n[i].t.tgid == root :
				   (!n[i].t.ppid || find(n, cnt, n[i].t.ppid) < 0))
				print_tree(n, (int)i, &o, -1, prefix, 0, 0);
	}
	free(n);
	return ret ?: skipped || damaged ? EXIT_PARTIAL : 0;
}

const struct command command_pstree = {
	.name = "pstree",
	.summary = "the process tree",
	.usage = "[-p] [-u] [PID]",
	.help = "  -p, --show-pids     each process's pid after its name\n"
		"  -u, --uid-changes   the user (from the guest's /etc/passwd) where it differs from\n"
		"                      the parent's, as psmisc's pstree -u\n"
		"  PID                 the tree below this process only\n",
	.run = cmd_pstree,
};
