// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm maps PID: the lines of the guest's /proc/PID/maps, from the process's maple tree. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/task.h>

#include "cli.h"
#include "jout.h"
#include "objects.h"
#include "walk_words.h"

/* A PID argument (1..4194304), or a usage error. */
static int parse_pid(struct cli *cli, int argc, char **argv, long *pid)
{
	char *end;

	if (optind >= argc)
		return cli_usage_error(cli, "a PID is needed");
	if (optind + 1 < argc)
		return cli_usage_error(cli, "one PID only");
	*pid = strtol(argv[optind], &end, 10);
	if (!argv[optind][0] || *end || *pid <= 0 || *pid > 4194304)
		return cli_usage_error(cli, "not a pid: '%s'", cli_esc(argv[optind]));
	return 0;
}

static int cmd_maps(struct cli *cli, int argc, char **argv)
{
	struct json_object *doc = NULL, *arr = NULL;
	struct nfm_vma_iter *it;
	struct nfm_task t;
	struct nfm_vma *v;
	char line[8192], esc[8192 * 4];
	long pid = 0;
	int r, status;

	if (cli_getopt(cli, argc, argv, "", NULL) != -1)
		return cli_opt_status(cli);	/* --help, or an unknown option */
	if ((r = parse_pid(cli, argc, argv, &pid)))
		return r;
	if (cli_attach(cli))
		return 1;
	r = nfm_task_get(cli->ctx, (int32_t)pid, 0, &t);
	if (r == -ENOENT)
		r = nfm_task_get(cli->ctx, (int32_t)pid, NFM_TASK_THREADS, &t);
	if (r < 0)
		return cli_fail("pid %ld: %s", pid, r == -ENOENT ? "no such process" :
				r == -ELOOP || r == -EBADMSG ? task_walk_words(r) : strerror(-r));
	if (cli->json) {
		doc = jdoc_new("maps");
		arr = json_object_new_array();
		j_add(doc, "pid", j_int(pid));
		j_add(doc, "vmas", arr);
	}
	if (!t.mm)	/* kernel threads and zombies: /proc/PID/maps is empty */
		return doc ? cli_print_json(cli, doc) : 0;
	r = nfm_vma_iter_new(cli->ctx, &t, &it);
	if (r < 0) {
		json_object_put(doc);
		return cli_fail("pid %ld: cannot read its memory map: %s", pid,
				cli->last_error[0] ? cli->last_error : strerror(-r));
	}
	v = malloc(sizeof(*v));
	if (!v) {
		nfm_vma_iter_free(it);
		json_object_put(doc);
		return cli_fail("out of memory");
	}
	while ((r = nfm_vma_iter_next(it, v)) > 0) {
		if (arr) {
			json_object_array_add(arr, obj_vma(v));
		} else {
			/* The kernel's own line: not a table, one escaped line a mapping. */
			size_t n = nfm_vma_format(v, line, sizeof(line));

			puts(cli_escape(line, n, esc, sizeof(esc)));
		}
	}
	/* the walk against the mm's own counts of its VMAs and their pages (known at the end) */
	status = nfm_vma_iter_status(it);
	nfm_vma_iter_free(it);
	free(v);
	if (r < 0) {
		/* What was read is shown; the rest of the tree is missing. */
		cli_warn("pid %ld: the memory map is damaged (%s): the mappings after this point are "
			 "missing", pid, strerror(-r));
		if (doc)
			jdoc_error(doc, "vmas", r, "the memory map is damaged");
	} else if (status < 0) {
		cli_warn("pid %ld: the memory map disagrees with the process's own counts of its "
			 "mappings (mm->map_count, mm->total_vm): mappings are missing or forged", pid);
		if (doc)
			jdoc_error(doc, "vmas", status,
				   "the memory map disagrees with mm->map_count or mm->total_vm");
		r = status;
	}
	if (doc)
		return cli_print_json(cli, doc) ?: r < 0 ? EXIT_PARTIAL : 0;
	return r < 0 ? EXIT_PARTIAL : 0;
}

const struct command command_maps = {
	.name = "maps",
	.summary = "a process's memory mappings (/proc/PID/maps)",
	.usage = "PID",
	.help = "  PID                 the process (or thread) whose mappings to show\n",
	.run = cmd_maps,
};
