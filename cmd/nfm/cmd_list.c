// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm list: every QEMU VM on this host, and what runs in it. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define MAX_VMS 512

static void quiet(void *ud, enum nfm_log_level level, const char *msg)
{
	(void)ud;
	(void)level;
	(void)msg;
}

int cmd_list(struct cli *cli, int argc, char **argv)
{
	static struct nfm_vm_info vms[MAX_VMS];
	struct nfm_log log = { .fn = quiet, .max_level = NFM_LOG_ERR };
	struct json_object *arr = cli->json ? json_object_new_array() : NULL;
	int n, i;

	(void)argv;
	if (argc != 1)
		return cli_fail("usage: nfm list [-j]");
	n = nfm_vm_list(vms, MAX_VMS);
	if (n < 0)
		return cli_fail("cannot list processes: %s", strerror(-n));
	if (n > MAX_VMS)
		n = MAX_VMS;
	if (!arr)
		printf("%-8s %-20s %8s  %-32s %s\n", "PID", "NAME", "RAM", "KERNEL", "UPTIME");
	for (i = 0; i < n; i++) {
		struct nfm_source *src = NULL;
		struct nfm_ctx *ctx = NULL;
		struct nfm_kernel_info ki;
		uint64_t up = 0;
		char spec[32];
		bool ok = false, have_up = false;

		snprintf(spec, sizeof(spec), "pid:%d", vms[i].pid);
		if (nfm_source_open(spec, &log, &src) == 0 && nfm_ctx_new(src, NULL, &log, &ctx) == 0 &&
		    nfm_ctx_kernel_info(ctx, &ki) == 0) {
			ok = true;
			have_up = nfm_ctx_uptime_ns(ctx, &up) == 0;
		}
		if (arr) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "pid", json_object_new_int(vms[i].pid));
			json_object_object_add(o, "name", cli_json_bytes(vms[i].name, strlen(vms[i].name)));
			json_object_object_add(o, "ram_bytes", json_object_new_int64((int64_t)vms[i].ram_size));
			if (ok)
				json_object_object_add(o, "release", cli_json_bytes(ki.release, strlen(ki.release)));
			if (have_up)
				json_object_object_add(o, "uptime_s", json_object_new_double(up / 1e9));
			json_object_array_add(arr, o);
		} else {
			char up_s[32] = "-";

			if (have_up)
				snprintf(up_s, sizeof(up_s), "%.0fs", up / 1e9);
			printf("%-8d %-20s %7" PRIu64 "M  %-32s %s\n", vms[i].pid,
			       vms[i].name[0] ? cli_esc(vms[i].name) : "-", vms[i].ram_size >> 20,
			       ok ? cli_esc(ki.release) : "(no Linux kernel found)", up_s);
		}
		nfm_ctx_free(ctx);
		nfm_source_free(src);
	}
	return arr ? cli_print_json(cli, arr) : 0;
}

const struct command command_list = {
	.name = "list",
	.summary = "every QEMU VM on this host",
	.usage = "[-j]",
	.run = cmd_list,
};
