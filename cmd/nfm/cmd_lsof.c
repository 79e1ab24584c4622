// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm lsof [-p PID]: every open file descriptor, with the target /proc/PID/fd shows. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/task.h>

#include "cli.h"
#include "jout.h"
#include "objects.h"
#include "table.h"
#include "walk_words.h"

/* fd.json with the process's pid and comm (the flat list's members). */
static struct json_object *fd_json(const struct nfm_task *t, const struct nfm_fd *f)
{
	struct json_object *o = obj_fd(f);

	j_add(o, "pid", j_int(t->tgid));
	j_add_bytes(o, "comm", t->comm, strnlen(t->comm, sizeof(t->comm)));
	return o;
}

static void fd_row(struct table *tb, const struct nfm_task *t, const struct nfm_fd *f)
{
	table_row(tb);
	table_cell_guest(tb, t->comm, strnlen(t->comm, sizeof(t->comm)));
	table_cell(tb, "%d", t->tgid);
	table_cell(tb, "%u", t->euid);
	table_cell(tb, "%d", f->fd);
	table_cell_guest(tb, f->type, strnlen(f->type, sizeof(f->type)));
	table_cell(tb, "%u,%u", f->dev_major, f->dev_minor);
	table_cell(tb, "%" PRIu64, f->ino);
	table_cell_guest(tb, f->proto, strnlen(f->proto, sizeof(f->proto)));
	table_cell_guest(tb, f->path, f->path_len < sizeof(f->path) ? f->path_len : sizeof(f->path));
}

static int cmd_lsof(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ 0 }
	};
	static const char *const cols[] = { "COMMAND", "PID", "UID", "FD", "TYPE", "DEVICE", "NODE",
		"PROTO", "NAME" };
	struct json_object *doc = NULL, *arr = NULL;
	struct table *tb = NULL;
	struct nfm_task_iter *it;
	struct nfm_task t;
	struct nfm_fd *f;
	long want = 0;
	unsigned int skipped = 0, broken = 0;
	int r, c, found = 0, ret = 0, damaged;
	char *end;
	size_t i;

	while ((c = cli_getopt(cli, argc, argv, "p:", longopts)) != -1) {
		switch (c) {
		case 'p':
			want = strtol(optarg, &end, 10);
			if (!optarg[0] || *end || want <= 0 || want > 4194304)
				return cli_usage_error(cli, "not a pid: '%s'", cli_esc(optarg));
			break;
		default:
			return cli_opt_status(cli);
		}
	}
	if (optind < argc)
		return cli_usage_error(cli, "unexpected argument '%s'", cli_esc(argv[optind]));
	if (cli_attach(cli))
		return 1;
	r = nfm_task_iter_new(cli->ctx, 0, &it);
	if (r < 0)
		return cli_fail("cannot list processes: %s", cli->last_error[0] ? cli->last_error :
				strerror(-r));
	f = malloc(sizeof(*f));
	if (cli->json) {
		doc = jdoc_new("lsof");
		arr = json_object_new_array();
		j_add(doc, "files", arr);
	} else if ((tb = table_new(cli))) {
		for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
			table_column(tb, cols[i], i == 1 || i == 2 || i == 3 || i == 6 ? TBL_RIGHT :
				     i == 8 ? TBL_TRUNC : 0);
	}
	if (!f || (!doc && !tb)) {
		nfm_task_iter_free(it);
		free(f);
		table_free(tb);
		return cli_fail("out of memory");
	}
	while ((r = nfm_task_iter_next(it, &t)) > 0) {
		struct nfm_fd_iter *fi;

		if (want && t.tgid != want)
			continue;
		found = 1;
		if (nfm_fd_iter_new(cli->ctx, &t, &fi) < 0) {
			/* Kernel threads and zombies have no files; a live process should. */
			broken += !t.kthread && t.state != 'Z' && t.mm;
			continue;
		}
		while (nfm_fd_iter_next(fi, f) > 0) {
			if (arr)
				json_object_array_add(arr, fd_json(&t, f));
			else
				fd_row(tb, &t, f);
		}
		skipped += nfm_fd_iter_skipped(fi);
		nfm_fd_iter_free(fi);
	}
	skipped += nfm_task_iter_skipped(it);
	damaged = r == -ELOOP || r == -EBADMSG ? r : r == 0 ? nfm_task_iter_status(it) : 0;
	if (damaged)
		r = 0;
	nfm_task_iter_free(it);
	free(f);
	if (r < 0 || (want && !found)) {
		json_object_put(doc);
		table_free(tb);
		if (r < 0)
			return cli_fail("the guest's task list is broken: %s", strerror(-r));
		return cli_fail("pid %ld: no such process", want);
	}
	if (damaged) {
		cli_warn("%s", task_walk_words(damaged));
		if (doc)
			jdoc_error(doc, "files", damaged, task_walk_words(damaged));
	} else if (skipped || broken) {
		cli_warn("%u entr%s skipped (changed while being read, unreadable or inconsistent)",
			 skipped + broken, skipped + broken == 1 ? "y" : "ies");
		if (doc)
			jdoc_error(doc, "files", -EAGAIN, "entries skipped (changed while being read, "
				   "unreadable or inconsistent)");
	}
	ret = doc ? cli_print_json(cli, doc) : table_print(tb);
	return ret ?: skipped || broken || damaged ? EXIT_PARTIAL : 0;
}

const struct command command_lsof = {
	.name = "lsof",
	.summary = "open files of every process (/proc/PID/fd)",
	.usage = "[-p PID]",
	.help = "  -p, --pid PID       only this process's files\n",
	.run = cmd_lsof,
};
