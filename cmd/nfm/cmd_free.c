// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm free: the guest's memory, as free(1) of procps-ng 4 prints it; -j /proc/meminfo. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nfm/system.h>

#include "cli.h"
#include "jout.h"
#include "objects.h"
#include "table.h"

enum unit { U_KIB, U_BYTES, U_MIB, U_GIB, U_HUMAN };

/* One cell as free(1) prints it: KiB (default), -b bytes, -m MiB, -g GiB (truncated, as procps
 * does), -h the shortest of B, Ki, Mi, Gi... (1.9Gi, 512Mi, 0B); --si: powers of 1000. */
static void cell(struct table *t, uint64_t kb, enum unit unit, bool si)
{
	static const char *const units[] = { "Ki", "Mi", "Gi", "Ti", "Pi", "Ei" };
	static const char *const si_units[] = { "K", "M", "G", "T", "P", "E" };
	uint64_t bytes = kb * 1024, k = si ? 1000 : 1024;
	double v = (double)bytes / (double)k;
	int u = 0;

	switch (unit) {
	case U_KIB:
		table_cell(t, "%" PRIu64, bytes / k);
		return;
	case U_BYTES:
		table_cell(t, "%" PRIu64, bytes);
		return;
	case U_MIB:
		table_cell(t, "%" PRIu64, bytes / (k * k));
		return;
	case U_GIB:
		table_cell(t, "%" PRIu64, bytes / (k * k * k));
		return;
	case U_HUMAN:
		break;
	}
	if (!kb) {
		table_cell(t, "0B");
		return;
	}
	while (v >= (double)k && u < 5) {
		v /= (double)k;
		u++;
	}
	if (v < 10)
		table_cell(t, "%.1f%s", v, si ? si_units[u] : units[u]);
	else
		table_cell(t, "%.0f%s", v, si ? si_units[u] : units[u]);
}

static void row(struct table *t, const char *name, const uint64_t *v, int n, enum unit unit, bool si)
{
	int i;

	table_row(t);
	table_cell(t, "%s", name);
	for (i = 0; i < n; i++)
		cell(t, v[i], unit, si);
}

static int one_frame(struct cli *cli, enum unit unit, bool si, bool wide, bool total)
{
	struct nfm_meminfo mi;
	struct table *t;
	uint64_t bc, used, swap_used;
	int ret;

	ret = nfm_meminfo(cli->ctx, &mi);
	if (ret < 0)
		return cli_fail("cannot read the guest's memory counters: %s",
				cli->last_error[0] ? cli->last_error : strerror(-ret));
	if (cli->json) {
		struct json_object *doc = jdoc_new("free");

		j_add(doc, "memory", obj_memory(&mi));
		return cli_print_json(cli, doc);
	}
	/* procps-ng 4: buff/cache = Buffers + Cached + SReclaimable; used = total - available
	 * (top's "used" too; before 4.0.1 it was total - free - buff/cache) */
	bc = mi.buffers + mi.cached + mi.slab_reclaimable;
	used = mi.mem_total > mi.mem_available ? mi.mem_total - mi.mem_available : 0;
	swap_used = mi.swap_total > mi.swap_free ? mi.swap_total - mi.swap_free : 0;
	t = table_new(cli);
	if (!t)
		return cli_fail("out of memory");
	table_column(t, "", 0);
	table_column(t, "total", TBL_RIGHT);
	table_column(t, "used", TBL_RIGHT);
	table_column(t, "free", TBL_RIGHT);
	table_column(t, "shared", TBL_RIGHT);
	if (wide) {
		table_column(t, "buffers", TBL_RIGHT);
		table_column(t, "cache", TBL_RIGHT);
	} else {
		table_column(t, "buff/cache", TBL_RIGHT);
	}
	table_column(t, "available", TBL_RIGHT);
	if (wide)
		row(t, "Mem:", (uint64_t[]){ mi.mem_total, used, mi.mem_free, mi.shmem, mi.buffers,
					     mi.cached + mi.slab_reclaimable, mi.mem_available }, 7,
		    unit, si);
	else
		row(t, "Mem:", (uint64_t[]){ mi.mem_total, used, mi.mem_free, mi.shmem, bc,
					     mi.mem_available }, 6, unit, si);
	row(t, "Swap:", (uint64_t[]){ mi.swap_total, swap_used, mi.swap_free }, 3, unit, si);
	if (total)
		row(t, "Total:", (uint64_t[]){ mi.mem_total + mi.swap_total, used + swap_used,
					       mi.mem_free + mi.swap_free }, 3, unit, si);
	return table_print(t);
}

static int cmd_free(struct cli *cli, int argc, char **argv)
{
	enum { OPT_SI = 0x100 };
	static const struct option longopts[] = {
		{ "human", no_argument, NULL, 'h' },
		{ "bytes", no_argument, NULL, 'b' },
		{ "kibi", no_argument, NULL, 'k' },
		{ "mebi", no_argument, NULL, 'm' },
		{ "gibi", no_argument, NULL, 'g' },
		{ "si", no_argument, NULL, OPT_SI },
		{ "wide", no_argument, NULL, 'w' },
		{ "total", no_argument, NULL, 't' },
		{ "seconds", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'c' },
		{ 0 }
	};
	enum unit unit = U_KIB;
	bool si = false, wide = false, total = false;
	double delay = 0;
	long count = -1, i;
	char *end;
	int ret, c;

	/* -h is free(1)'s --human here; --help stays help */
	while ((c = cli_getopt(cli, argc, argv, "hbkmgwts:c:", longopts)) != -1) {
		switch (c) {
		case 'h':
			unit = U_HUMAN;
			break;
		case 'b':
			unit = U_BYTES;
			break;
		case 'k':
			unit = U_KIB;
			break;
		case 'm':
			unit = U_MIB;
			break;
		case 'g':
			unit = U_GIB;
			break;
		case OPT_SI:
			si = true;
			break;
		case 'w':
			wide = true;
			break;
		case 't':
			total = true;
			break;
		case 's':
			delay = strtod(optarg, &end);
			if (*end || end == optarg || !(delay >= 0.01 && delay <= 86400))
				return cli_usage_error(cli, "seconds argument '%s' failed", cli_esc(optarg));
			break;
		case 'c':
			count = strtol(optarg, &end, 10);
			if (*end || end == optarg || count < 1)
				return cli_usage_error(cli, "count argument '%s' failed", cli_esc(optarg));
			break;
		default:
			return cli_opt_status(cli);
		}
	}
	if (optind < argc)
		return cli_usage_error(cli, "no arguments expected");
	if (cli_attach(cli))
		return 1;
	/* free -c N alone repeats every second; -s alone until interrupted */
	if (count > 0 && delay == 0)
		delay = 1;
	if (delay == 0)
		count = 1;
	for (i = 0; count < 0 || i < count; i++) {
		if (i) {
			usleep((useconds_t)(delay * 1e6));
			nfm_ctx_refresh(cli->ctx);
		}
		ret = one_frame(cli, unit, si, wide, total);
		if (ret)
			return ret;
		/* procps prints a blank line after each frame when repeating */
		if (delay > 0 && !cli->json)
			putchar('\n');
		if (fflush(stdout) || ferror(stdout))
			return 1;
	}
	return 0;
}

const struct command command_free = {
	.name = "free",
	.summary = "the guest's memory (/proc/meminfo; used = total - available, as procps 4)",
	.usage = "[-j] [-b|-k|-m|-g|-h] [--si] [-w] [-t] [-s SECS] [-c N]",
	.help = "  -b, --bytes         bytes\n"
		"  -k, --kibi          KiB (the default)\n"
		"  -m, --mebi          MiB (truncated, as free does)\n"
		"  -g, --gibi          GiB (truncated)\n"
		"  -h, --human         the shortest unit of 1024 (B, Ki, Mi, Gi, ...), as free -h\n"
		"      --si            powers of 1000 instead of 1024\n"
		"  -w, --wide          buffers and cache in two columns\n"
		"  -t, --total         a Total line (RAM + swap)\n"
		"  -s, --seconds SECS  repeat every SECS seconds (JSON: one document a line)\n"
		"  -c, --count N       repeat N times (every second unless -s)\n",
	.run = cmd_free,
};
