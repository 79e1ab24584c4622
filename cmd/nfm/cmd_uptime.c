// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm uptime: time since boot, load averages (/proc/loadavg) and task counts. */
#include <inttypes.h>
#include <string.h>

#include <nfm/system.h>

#include "cli.h"
#include "jout.h"
#include "objects.h"

static int cmd_uptime(struct cli *cli, int argc, char **argv)
{
	struct nfm_loadavg la;
	uint64_t up, s;
	int ret, c;

	while ((c = cli_getopt(cli, argc, argv, "", NULL)) != -1)
		return cli_opt_status(cli);
	if (optind < argc)
		return cli_usage_error(cli, "no arguments expected");
	if (cli_attach(cli))
		return 1;
	ret = nfm_ctx_uptime_ns(cli->ctx, &up);
	if (ret < 0)
		return cli_fail("cannot read the guest's clock: %s", strerror(-ret));
	ret = nfm_loadavg(cli->ctx, &la);
	if (ret < 0)
		return cli_fail("cannot read the guest's load: %s",
				cli->last_error[0] ? cli->last_error : strerror(-ret));
	if (cli->json) {
		struct json_object *doc = jdoc_new("uptime");

		j_add(doc, "uptime_ns", j_u64(up));
		j_add(doc, "loadavg", obj_loadavg(&la));
		return cli_print_json(cli, doc);
	}
	/* uptime(1)'s line, then the two /proc files (not a table) */
	s = up / 1000000000;
	printf(" up ");
	if (s >= 86400)
		printf("%" PRIu64 " day%s, ", s / 86400, s / 86400 == 1 ? "" : "s");
	if (s % 86400 >= 3600)
		printf("%2" PRIu64 ":%02" PRIu64, s % 86400 / 3600, s % 3600 / 60);
	else
		printf("%" PRIu64 " min", s % 3600 / 60);
	printf(",  load average: %.2f, %.2f, %.2f\n", la.load[0], la.load[1], la.load[2]);
	printf("/proc/uptime %" PRIu64 ".%02" PRIu64 "  /proc/loadavg %s\n", s, up % 1000000000 / 10000000,
	       la.text);
	return 0;
}

const struct command command_uptime = {
	.name = "uptime",
	.summary = "time since boot, load averages, tasks (/proc/loadavg)",
	.usage = "[-j]",
	.run = cmd_uptime,
};
