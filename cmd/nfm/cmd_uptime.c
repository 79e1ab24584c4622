// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm uptime: time since boot, load averages (/proc/loadavg) and task counts. */
#include <inttypes.h>
#include <string.h>

#include <nfm/system.h>

#include "cli.h"

int cmd_uptime(struct cli *cli, int argc, char **argv)
{
	struct nfm_loadavg la;
	uint64_t up, s;
	int ret;

	(void)argv;
	if (argc != 1)
		return cli_fail("usage: nfm uptime [-j]");
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
		struct json_object *o = json_object_new_object(), *l = json_object_new_array();
		char buf[32];

		snprintf(buf, sizeof(buf), "%" PRIu64 ".%02" PRIu64, up / 1000000000, up % 1000000000 / 10000000);
		json_object_object_add(o, "uptime_ns", json_object_new_int64((int64_t)up));
		json_object_object_add(o, "uptime", json_object_new_string(buf));
		for (int i = 0; i < 3; i++)
			json_object_array_add(l, json_object_new_double(la.load[i]));
		json_object_object_add(o, "load", l);
		json_object_object_add(o, "running", json_object_new_int((int)la.running));
		json_object_object_add(o, "threads", json_object_new_int((int)la.threads));
		json_object_object_add(o, "last_pid", json_object_new_int(la.last_pid));
		json_object_object_add(o, "loadavg", json_object_new_string(la.text));
		return cli_print_json(cli, o);
	}
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
