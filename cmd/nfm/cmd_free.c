// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm free: the guest's memory, as free(1) prints it (kB; -h/--human: Ki, Mi, Gi); -j /proc/meminfo. */
#include <inttypes.h>
#include <string.h>

#include <nfm/system.h>

#include "cli.h"
#include "jout.h"
#include "objects.h"
#include "table.h"

/* One cell: kB as free(1) prints them, or with -h as free -h does (1.9Gi, 512Mi, 0B). */
static void cell(struct table *t, uint64_t kb, bool human)
{
	static const char *const units[] = { "Ki", "Mi", "Gi", "Ti", "Pi", "Ei" };
	double v = (double)kb;
	int u = 0;

	if (!human) {
		table_cell(t, "%" PRIu64, kb);
		return;
	}
	if (!kb) {
		table_cell(t, "0B");
		return;
	}
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	if (v < 10)
		table_cell(t, "%.1f%s", v, units[u]);
	else
		table_cell(t, "%.0f%s", v, units[u]);
}

static int cmd_free(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "human", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct nfm_meminfo mi;
	struct table *t;
	uint64_t bc, used;
	bool human = false;
	int ret, c;

	/* -h is free(1)'s --human here; --help stays help */
	while ((c = cli_getopt(cli, argc, argv, "h", longopts)) != -1) {
		switch (c) {
		case 'h':
			human = true;
			break;
		default:
			return cli_opt_status(cli);
		}
	}
	if (optind < argc)
		return cli_usage_error(cli, "no arguments expected");
	if (cli_attach(cli))
		return 1;
	ret = nfm_meminfo(cli->ctx, &mi);
	if (ret < 0)
		return cli_fail("cannot read the guest's memory counters: %s",
				cli->last_error[0] ? cli->last_error : strerror(-ret));
	if (cli->json) {
		struct json_object *doc = jdoc_new("free");

		j_add(doc, "memory", obj_memory(&mi));
		return cli_print_json(cli, doc);
	}
	/* procps-ng: buff/cache = Buffers + Cached + SReclaimable; used = total - free - buff/cache */
	bc = mi.buffers + mi.cached + mi.slab_reclaimable;
	used = mi.mem_total > mi.mem_free + bc ? mi.mem_total - mi.mem_free - bc : 0;
	t = table_new(cli);
	if (!t)
		return cli_fail("out of memory");
	table_column(t, "", 0);
	table_column(t, "total", TBL_RIGHT);
	table_column(t, "used", TBL_RIGHT);
	table_column(t, "free", TBL_RIGHT);
	table_column(t, "shared", TBL_RIGHT);
	table_column(t, "buff/cache", TBL_RIGHT);
	table_column(t, "available", TBL_RIGHT);
	table_row(t);
	table_cell(t, "Mem:");
	cell(t, mi.mem_total, human);
	cell(t, used, human);
	cell(t, mi.mem_free, human);
	cell(t, mi.shmem, human);
	cell(t, bc, human);
	cell(t, mi.mem_available, human);
	table_row(t);
	table_cell(t, "Swap:");
	cell(t, mi.swap_total, human);
	cell(t, mi.swap_total > mi.swap_free ? mi.swap_total - mi.swap_free : 0, human);
	cell(t, mi.swap_free, human);
	return table_print(t);
}

const struct command command_free = {
	.name = "free",
	.summary = "the guest's memory (/proc/meminfo)",
	.usage = "[-j] [-h]",
	.help = "  -h, --human         units of 1024 (Ki, Mi, Gi) instead of kB, as free -h\n",
	.run = cmd_free,
};
