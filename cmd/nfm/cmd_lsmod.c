// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm lsmod: the guest's loaded modules (lsmod table; -p the lines of /proc/modules). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/system.h>

#include "cli.h"
#include "jout.h"
#include "objects.h"
#include "table.h"

/* The /proc/modules line (kernel/module/procfs.c m_show), without the newline. */
static void proc_line(const struct nfm_module *m, char *buf, size_t size)
{
	snprintf(buf, size, "%s %" PRIu64 " %d %s %s 0x%016" PRIx64 "%s%s", m->name, m->size,
		 m->refcount, m->users, m->state, m->address, m->taints[0] ? " " : "", m->taints);
}

static int cmd_lsmod(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "proc", no_argument, NULL, 'p' },
		{ 0 }
	};
	struct nfm_module *mods;
	bool proc = false, trunc = false;
	char line[1200];
	struct table *t;
	int n, i, c;

	while ((c = cli_getopt(cli, argc, argv, "p", longopts)) != -1) {
		switch (c) {
		case 'p':
			proc = true;
			break;
		default:
			return cli_opt_status(cli);
		}
	}
	if (optind < argc)
		return cli_usage_error(cli, "no arguments expected");
	if (cli_attach(cli))
		return 1;
	n = nfm_module_list(cli->ctx, &mods, &trunc);
	if (n < 0)
		return cli_fail("cannot list the guest's modules: %s",
				cli->last_error[0] ? cli->last_error : strerror(-n));
	if (trunc)
		cli_warn("the module list was cut short (guest data changed or inconsistent)");
	if (cli->json) {
		struct json_object *doc = jdoc_new("lsmod"), *a = json_object_new_array();

		for (i = 0; i < n; i++) {
			struct json_object *o = obj_module(&mods[i]);

			/* the /proc/modules line, as the schema's optional "line" */
			proc_line(&mods[i], line, sizeof(line));
			j_add(o, "line", j_bytes(line, strlen(line)));
			json_object_array_add(a, o);
		}
		j_add(doc, "modules", a);
		if (trunc)
			jdoc_error(doc, "modules", -EBADMSG, "the module list was cut short");
		free(mods);
		return cli_print_json(cli, doc) ?: trunc ? EXIT_PARTIAL : 0;
	}
	if (proc) {
		for (i = 0; i < n; i++) {
			proc_line(&mods[i], line, sizeof(line));
			printf("%s\n", cli_esc(line));
		}
		free(mods);
		return trunc ? EXIT_PARTIAL : 0;
	}
	t = table_new(cli);
	if (!t) {
		free(mods);
		return cli_fail("out of memory");
	}
	table_column(t, "Module", 0);
	table_column(t, "Size", TBL_RIGHT);
	table_column(t, "Used by", TBL_TRUNC);
	for (i = 0; i < n; i++) {
		const struct nfm_module *m = &mods[i];

		/* lsmod (kmod): users without the trailing comma, "-" as nothing. */
		snprintf(line, sizeof(line), "%s", strcmp(m->users, "-") ? m->users : "");
		if (line[0] && line[strlen(line) - 1] == ',')
			line[strlen(line) - 1] = 0;
		table_row(t);
		table_cell_gstr(t, m->name);
		table_cell(t, "%" PRIu64, m->size);
		{
			char used[1300];

			snprintf(used, sizeof(used), "%d%s%s", m->refcount, line[0] ? " " : "", line);
			table_cell_gstr(t, used);
		}
	}
	free(mods);
	return table_print(t) ?: trunc ? EXIT_PARTIAL : 0;
}

const struct command command_lsmod = {
	.name = "lsmod",
	.summary = "loaded kernel modules, as lsmod (-p: the lines of /proc/modules)",
	.usage = "[-j] [-p]",
	.help = "  -p, --proc          the lines of /proc/modules instead of the lsmod table\n",
	.run = cmd_lsmod,
};
