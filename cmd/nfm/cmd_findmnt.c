// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nfm findmnt: the guest's mounts as util-linux's findmnt shows them, a tree of TARGET SOURCE
 * FSTYPE OPTIONS in which each mount sits under the one it is mounted on (mountinfo's parent
 * id); -l a flat list. A mount whose parent is not in the list (or is itself: the root) is a
 * root of the tree, so a loop in hostile parent pointers cannot hang the drawing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/system.h>

#include "cli.h"
#include "jout.h"
#include "mount_common.h"
#include "objects.h"
#include "table.h"

struct id_index {
	int id, i;
};

static int id_cmp(const void *a, const void *b)
{
	const struct id_index *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

/*
 * Row index of every mount's parent, -1 for a root (its own id, or an id not in the list); an
 * edge that closes a loop is cut. O(n log n): a hostile guest may list 100,000 mounts.
 */
static int parents(const struct nfm_mount *m, const int *pid, int n, int *up)
{
	struct id_index *ix = calloc((size_t)n + 1, sizeof(*ix));
	unsigned char *state = calloc((size_t)n + 1, 1);	/* 0 new, 1 on the walk, 2 done */
	int i, k;

	if (!ix || !state) {
		free(ix);
		free(state);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		ix[i] = (struct id_index){ m[i].mnt_id, i };
	qsort(ix, (size_t)n, sizeof(*ix), id_cmp);
	for (i = 0; i < n; i++) {
		struct id_index key = { pid[i], 0 }, *f;

		f = pid[i] == m[i].mnt_id ? NULL : bsearch(&key, ix, (size_t)n, sizeof(*ix), id_cmp);
		up[i] = f && f->i != i ? f->i : -1;
	}
	for (i = 0; i < n; i++) {
		/* walk up from i; meeting the walk itself again closes a loop: cut there */
		for (k = i; k >= 0 && state[k] == 0; k = up[k]) {
			state[k] = 1;
			if (up[k] >= 0 && state[up[k]] == 1) {
				up[k] = -1;
				break;
			}
		}
		for (k = i; k >= 0 && state[k] == 1; k = up[k])
			state[k] = 2;
	}
	free(ix);
	free(state);
	return 0;
}

/* Add row i after its parent's row (parents first, in list order). */
static int add_row(struct table *t, const struct nfm_mount *m, const int *up, int *row, int i,
		   int depth)
{
	if (row[i] >= 0)
		return 0;
	if (up[i] >= 0 && depth < 4096 && add_row(t, m, up, row, up[i], depth + 1) < 0)
		return -1;
	row[i] = up[i] >= 0 && row[up[i]] >= 0 ? table_row_under(t, row[up[i]]) : table_row(t);
	if (row[i] < 0)
		return -1;
	table_cell(t, "%s", cli_esc(m[i].path));
	table_cell(t, "%s", cli_esc(m[i].device));
	table_cell(t, "%s", cli_esc(m[i].fstype));
	table_cell(t, "%s%s", cli_esc(m[i].options), m[i].options_complete ? "" : ",...");
	return 0;
}

static int cmd_findmnt(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "list", no_argument, NULL, 'l' },
		{ "types", required_argument, NULL, 't' },
		{ "noheadings", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'J' },
		{ 0 }
	};
	struct nfm_mount *m;
	const char *types = "";
	bool list = false, trunc = false, bad = false;
	int n, i, c, ret, *pid = NULL, *up = NULL, *row = NULL;

	while ((c = cli_getopt(cli, argc, argv, "lt:nJ", longopts)) != -1) {
		switch (c) {
		case 'l': list = true; break;
		case 't': types = optarg; break;
		case 'n': cli->noheadings = true; break;
		case 'J': cli->json = true; break;
		default: return cli_opt_status(cli);
		}
	}
	if (optind < argc)
		return cli_usage_error(cli, "no arguments expected (no search by source or target)");
	n = mount_list_or_fail(cli, &m, &trunc);
	if (n < 0)
		return 1;
	pid = calloc((size_t)n + 1, sizeof(*pid));
	up = calloc((size_t)n + 1, sizeof(*up));
	row = calloc((size_t)n + 1, sizeof(*row));
	if (!pid || !up || !row) {
		ret = cli_fail("out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		row[i] = -1;
		if (nfm_mount_parent_id(cli->ctx, m[i].mount, &pid[i]) < 0) {
			pid[i] = m[i].mnt_id;	/* unknown: drawn as a root */
			bad = true;
		}
	}
	if (trunc || bad)
		cli_warn("the mount list %s (guest data changed or inconsistent)",
			 trunc ? "was cut short" : "has mounts whose parent does not read");
	if (cli->json) {
		struct json_object *doc = jdoc_new("mount"), *a = json_object_new_array();

		for (i = 0; i < n; i++) {
			struct json_object *o;

			if (!mount_type_wanted(types, m[i].fstype ? m[i].fstype : ""))
				continue;
			o = obj_mount(&m[i]);
			j_add(o, "parent_id", j_int(pid[i]));
			json_object_array_add(a, o);
		}
		j_add(doc, "mounts", a);
		if (trunc || bad)
			jdoc_error(doc, "mounts", -EBADMSG, "the mount list is incomplete");
		ret = cli_print_json(cli, doc) ?: trunc || bad ? EXIT_PARTIAL : 0;
		goto out;
	}
	{
		struct table *t = table_new(cli);

		if (!t) {
			ret = cli_fail("out of memory");
			goto out;
		}
		table_column(t, "TARGET", list || types[0] ? 0 : TBL_TREE);
		table_column(t, "SOURCE", 0);
		table_column(t, "FSTYPE", 0);
		table_column(t, "OPTIONS", TBL_TRUNC);
		/* a type filter or -l: a flat list (the tree's rows would lose their parents) */
		if (!list && !types[0] && parents(m, pid, n, up) < 0) {
			table_free(t);
			ret = cli_fail("out of memory");
			goto out;
		}
		for (i = 0; i < n; i++) {
			if (list || types[0])
				up[i] = -1;
			if (mount_type_wanted(types, m[i].fstype ? m[i].fstype : ""))
				add_row(t, m, up, row, i, 0);
		}
		ret = table_print(t);
	}
	if (!ret && (trunc || bad))
		ret = EXIT_PARTIAL;
out:
	free(pid);
	free(up);
	free(row);
	free(m);
	return ret;
}

const struct command command_findmnt = {
	.name = "findmnt",
	.summary = "mounted filesystems as a tree, as util-linux's findmnt",
	.usage = "[-j|-J] [-l] [-n] [-t TYPE,...]",
	.help = "  -l, --list          a flat list instead of the tree\n"
		"  -t, --types LIST    only these file system types (a flat list; \"no\" before the\n"
		"                      list: all but these)\n"
		"  -n, --noheadings    no header line\n"
		"  -J, --json          JSON (as -j: nfm's mount objects, each with its parent_id)\n",
	.run = cmd_findmnt,
};
