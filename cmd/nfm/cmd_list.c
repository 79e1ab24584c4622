// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm list: every QEMU VM on this host, and what runs in it. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "jout.h"
#include "objects.h"
#include "table.h"

#define MAX_VMS 512

/* The first error line of a VM's attach (why nothing is known about it). */
static void first_error(void *ud, enum nfm_log_level level, const char *msg)
{
	char *err = ud;

	if (level == NFM_LOG_ERR && !err[0])
		snprintf(err, 256, "%s", msg);
}

static int cmd_list(struct cli *cli, int argc, char **argv)
{
	static struct nfm_vm_info vms[MAX_VMS];
	struct json_object *doc = NULL, *arr = NULL;
	struct table *t = NULL;
	int n, i, c;

	while ((c = cli_getopt(cli, argc, argv, "", NULL)) != -1)
		return cli_opt_status(cli);
	if (optind < argc)
		return cli_usage_error(cli, "no arguments expected");
	n = nfm_vm_list(vms, MAX_VMS);
	if (n < 0)
		return cli_fail("cannot list processes: %s", strerror(-n));
	if (n > MAX_VMS)
		n = MAX_VMS;
	if (cli->json) {
		doc = jdoc_new("list");
		arr = json_object_new_array();
	} else {
		t = table_new(cli);
		if (!t)
			return cli_fail("out of memory");
		table_column(t, "PID", TBL_RIGHT);
		table_column(t, "NAME", 0);
		table_column(t, "RAM", TBL_RIGHT);
		table_column(t, "KERNEL", 0);
		table_column(t, "UPTIME", TBL_RIGHT);
	}
	for (i = 0; i < n; i++) {
		char err[256] = "";
		struct nfm_log log = { .fn = first_error, .userdata = err, .max_level = NFM_LOG_ERR };
		struct nfm_source *src = NULL;
		struct nfm_ctx *ctx = NULL;
		struct nfm_kernel_info ki;
		uint64_t up = 0;
		char spec[32];
		bool ok = false, have_up = false;
		int ret;

		snprintf(spec, sizeof(spec), "pid:%d", vms[i].pid);
		ret = nfm_source_open(spec, &log, &src);
		if (ret == 0)
			ret = nfm_ctx_new(src, NULL, &log, &ctx);
		if (ret == 0)
			ret = nfm_ctx_kernel_info(ctx, &ki);
		if (ret == 0) {
			ok = true;
			have_up = nfm_ctx_uptime_ns(ctx, &up) == 0;
		}
		if (arr) {
			struct json_object *o = obj_vm(&vms[i]);

			if (ok) {
				j_add(o, "release", j_strn(ki.release, sizeof(ki.release)));
				j_add(o, "cpus_online", j_int(ki.nr_cpus_online));
			} else {
				j_add(o, "error", j_str(err[0] ? err : strerror(ret < 0 ? -ret : EINVAL)));
			}
			if (have_up)
				j_add(o, "uptime_ns", j_u64(up));
			json_object_array_add(arr, o);
		} else {
			table_row(t);
			table_cell(t, "%d", vms[i].pid);
			if (vms[i].name[0])
				table_cell_guest(t, vms[i].name, strnlen(vms[i].name, sizeof(vms[i].name)));
			else
				table_cell(t, "-");
			table_cell(t, "%" PRIu64 "M", vms[i].ram_size >> 20);
			if (ok)
				table_cell_guest(t, ki.release, strnlen(ki.release, sizeof(ki.release)));
			else if (ret == -EACCES || ret == -EPERM)
				table_cell(t, "(permission denied%s)", geteuid() ? ": run as root" : "");
			else if (!src)
				table_cell(t, "(cannot read: %s)", strerror(-ret));
			else
				table_cell(t, "(no Linux kernel found)");
			if (have_up)
				table_cell(t, "%" PRIu64 "s", (up + 500000000) / 1000000000);
			else
				table_cell(t, "-");
		}
		nfm_ctx_free(ctx);
		nfm_source_free(src);
	}
	if (!doc)
		return table_print(t);
	j_add(doc, "vms", arr);
	return cli_print_json(cli, doc);
}

const struct command command_list = {
	.name = "list",
	.summary = "every QEMU VM on this host",
	.usage = "[-j]",
	.run = cmd_list,
};
