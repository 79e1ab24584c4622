// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm pstree [-p] [PID]: the process tree by real parent, like pstree -p (or -j: nested JSON). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include <nfm/task.h>

#define MAX_DEPTH 256

struct node {
	int32_t pid, ppid;
	char name[64];
	int nr_threads;
	int first_child, next_sibling;	/* indices, -1 for none */
};

static int by_pid(const void *a, const void *b)
{
	const struct node *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

static void print_tree(const struct node *n, int i, bool pids, char *prefix, size_t plen,
		       int depth)
{
	char esc[512];
	int c;

	printf("%s", cli_escape(n[i].name, strlen(n[i].name), esc, sizeof(esc)));
	if (pids)
		printf("(%d)", n[i].pid);
	if (n[i].nr_threads > 1)
		printf(" {%d threads}", n[i].nr_threads);
	putchar('\n');
	if (depth >= MAX_DEPTH || plen + 5 >= 4096)
		return;
	for (c = n[i].first_child; c >= 0; c = n[c].next_sibling) {
		int last = n[c].next_sibling < 0;

		printf("%s%s", prefix, last ? "`-- " : "|-- ");
		strcpy(prefix + plen, last ? "    " : "|   ");
		print_tree(n, c, pids, prefix, plen + 4, depth + 1);
		prefix[plen] = 0;
	}
}

static struct json_object *tree_json(const struct node *n, int i, int depth)
{
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();
	int c;

	json_object_object_add(o, "pid", json_object_new_int(n[i].pid));
	json_object_object_add(o, "ppid", json_object_new_int(n[i].ppid));
	json_object_object_add(o, "comm", cli_json_bytes(n[i].name, strlen(n[i].name)));
	json_object_object_add(o, "num_threads", json_object_new_int(n[i].nr_threads));
	for (c = n[i].first_child; c >= 0 && depth < MAX_DEPTH; c = n[c].next_sibling)
		json_object_array_add(a, tree_json(n, c, depth + 1));
	json_object_object_add(o, "children", a);
	return o;
}

static int find(const struct node *n, size_t cnt, int32_t pid)
{
	struct node key = { .pid = pid };
	const struct node *p = bsearch(&key, n, cnt, sizeof(*n), by_pid);

	return p ? (int)(p - n) : -1;
}

int cmd_pstree(struct cli *cli, int argc, char **argv)
{
	struct nfm_task_iter *it;
	struct nfm_task t;
	struct node *n = NULL;
	size_t cnt = 0, cap = 0, i;
	bool pids = false;
	long root = 0;
	char *end, prefix[4096] = "";
	int r, ret = 0;

	for (i = 1; i < (size_t)argc; i++) {
		if (!strcmp(argv[i], "-p")) {
			pids = true;
			continue;
		}
		root = strtol(argv[i], &end, 10);
		if (*end || root <= 0 || root > 4194304)
			return cli_fail("usage: nfm pstree [-j] [-p] [PID]");
	}
	if (cli_attach(cli))
		return 1;
	r = nfm_task_iter_new(cli->ctx, 0, &it);
	if (r < 0)
		return cli_fail("cannot list processes: %s", strerror(-r));
	while ((r = nfm_task_iter_next(it, &t)) > 0) {
		if (cnt == cap) {
			struct node *p = realloc(n, (cap = cap ? cap * 2 : 256) * sizeof(*p));

			if (!p) {
				r = -ENOMEM;
				break;
			}
			n = p;
		}
		n[cnt] = (struct node){ .pid = t.tgid, .ppid = t.ppid, .nr_threads = t.nr_threads,
					.first_child = -1, .next_sibling = -1 };
		memcpy(n[cnt].name, t.name, sizeof(n[cnt].name));
		cnt++;
	}
	nfm_task_iter_free(it);
	if (r < 0) {
		free(n);
		return cli_fail("the guest's task list is broken: %s", strerror(-r));
	}
	qsort(n, cnt, sizeof(*n), by_pid);
	/* Link children in pid order: walk backwards, pushing onto each parent's list. */
	for (i = cnt; i-- > 0;) {
		int p = n[i].ppid ? find(n, cnt, n[i].ppid) : -1;

		if (p >= 0 && p != (int)i) {
			n[i].next_sibling = n[p].first_child;
			n[p].first_child = (int)i;
		}
	}
	if (cli->json) {
		struct json_object *a = json_object_new_array();

		for (i = 0; i < cnt; i++)
			if (root ? n[i].pid == root : (!n[i].ppid || find(n, cnt, n[i].ppid) < 0))
				json_object_array_add(a, tree_json(n, (int)i, 0));
		ret = cli_print_json(cli, a);
	} else {
		for (i = 0; i < cnt; i++)
			if (root ? n[i].pid == root : (!n[i].ppid || find(n, cnt, n[i].ppid) < 0))
				print_tree(n, (int)i, pids, prefix, 0, 0);
	}
	if (root && find(n, cnt, (int32_t)root) < 0)
		ret = cli_fail("pid %ld: no such process", root);
	free(n);
	return ret;
}

const struct command command_pstree = {
	.name = "pstree",
	.summary = "the process tree",
	.usage = "[-j] [-p] [PID]",
	.run = cmd_pstree,
};
