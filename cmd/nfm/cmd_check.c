// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nfm check: cross-view checks (lib/kernel/xview.c): system call tables, modules, processes.
 * One line per finding, then a summary per
 * check; exit status 0 when nothing is suspicious, 3 when something is, 1 on errors.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/system.h>

#include "cli.h"

#define EXIT_FINDINGS 3

/* A view that cannot be read: one error line; -1. */
static int unreadable(struct cli *cli, const char *what, int err, struct json_object *arr)
{
	json_object_put(arr);
	cli_fail("cannot read %s: %s", what, cli->last_error[0] ? cli->last_error : strerror(-err));
	return -1;
}

static struct json_object *syscall_json(const struct nfm_syscall_entry *e)
{
	struct json_object *o = json_object_new_object();
	char hex[32];

	json_object_object_add(o, "nr", json_object_new_int((int)e->nr));
	json_object_object_add(o, "table", json_object_new_string(e->ia32 ? "ia32_sys_call_table" :
								  "sys_call_table"));
	snprintf(hex, sizeof(hex), "0x%016" PRIx64, e->handler);
	json_object_object_add(o, "handler", json_object_new_string(hex));
	json_object_object_add(o, "symbol", e->symbol ? cli_json_bytes(e->symbol, strlen(e->symbol)) :
						      NULL);
	json_object_object_add(o, "offset", json_object_new_int64((int64_t)e->offset));
	json_object_object_add(o, "module", e->module ? cli_json_bytes(e->module, strlen(e->module)) :
						      NULL);
	return o;
}

/* Hooked entries reported (as lines or into arr); the count. */
static int check_syscalls(struct cli *cli, struct json_object *out)
{
	struct nfm_syscall_entry *t;
	struct json_object *arr = json_object_new_array();
	int n = nfm_syscall_table(cli->ctx, &t), bad = 0, native = 0;

	if (n < 0)
		return unreadable(cli, "the system call table", n, arr);
	for (int i = 0; i < n; i++) {
		const struct nfm_syscall_entry *e = &t[i];

		native += !e->ia32;
		if (e->ok)
			continue;
		bad++;
		if (out) {
			json_object_array_add(arr, syscall_json(e));
			continue;
		}
		printf("HOOKED  %s[%u] = 0x%016" PRIx64 " %s+0x%" PRIx64 "%s%s%s\n",
		       e->ia32 ? "ia32_sys_call_table" : "sys_call_table", e->nr, e->handler,
		       e->symbol ? cli_esc(e->symbol) : "?", e->offset, e->module ? " [" : "",
		       e->module ? cli_esc(e->module) : "", e->module ? "]" : "");
	}
	if (out) {
		json_object_object_add(out, "syscalls", json_object_new_int(native));
		json_object_object_add(out, "ia32_syscalls", json_object_new_int(n - native));
		json_object_object_add(out, "hooked_syscalls", arr);
	} else {
		json_object_put(arr);
		printf("syscalls: %d in sys_call_table", native);
		if (n > native)	/* the 32-bit compat table, where kallsyms names it */
			printf(", %d in ia32_sys_call_table", n - native);
		printf(": %s\n", bad ? "some not the start of a core-kernel function (above)" :
				       "every one the start of a core-kernel function");
	}
	free(t);
	return bad;
}

static int check_modules(struct cli *cli, struct json_object *out)
{
	struct nfm_module_view *v;
	struct json_object *arr = json_object_new_array();
	int n = nfm_module_views(cli->ctx, &v), bad = 0, listed = 0, sysfs = 0;

	if (n < 0)
		return unreadable(cli, "the guest's modules", n, arr);
	for (int i = 0; i < n; i++) {
		char hex[32];
		struct json_object *o;

		listed += v[i].in_list;
		sysfs += v[i].in_sysfs;
		bad += !v[i].in_list || !v[i].in_sysfs;
		if (!out) {
			if (!v[i].in_list || !v[i].in_sysfs)
				printf("HIDDEN  module %s (0x%016" PRIx64 "): %s\n", cli_esc(v[i].name),
				       v[i].module, v[i].in_list ? "on the modules list, not in /sys/module" :
				       "in /sys/module, not on the modules list (lsmod)");
			continue;
		}
		o = json_object_new_object();
		json_object_object_add(o, "name", cli_json_bytes(v[i].name, strlen(v[i].name)));
		snprintf(hex, sizeof(hex), "0x%016" PRIx64, v[i].module);
		json_object_object_add(o, "module", json_object_new_string(hex));
		json_object_object_add(o, "in_list", json_object_new_boolean(v[i].in_list));
		json_object_object_add(o, "in_sysfs", json_object_new_boolean(v[i].in_sysfs));
		json_object_array_add(arr, o);
	}
	if (out)
		json_object_object_add(out, "modules", arr);
	else {
		json_object_put(arr);
		printf("modules: %d on the modules list, %d in /sys/module: %s\n", listed, sysfs,
		       bad ? "some hidden from one (above)" : "none hidden");
	}
	free(v);
	return bad;
}

static int check_processes(struct cli *cli, struct json_object *out)
{
	struct nfm_task_view *v;
	struct json_object *arr = json_object_new_array();
	int n = nfm_task_views(cli->ctx, &v), bad = 0, listed = 0, table = 0;

	if (n < 0)
		return unreadable(cli, "the guest's processes", n, arr);
	for (int i = 0; i < n; i++) {
		char hex[32];
		struct json_object *o;

		listed += v[i].in_list;
		table += v[i].in_pid_table;
		if (v[i].in_list && v[i].in_pid_table)
			continue;
		bad++;
		if (!out) {
			printf("HIDDEN  process %d %s (task 0x%016" PRIx64 "): %s\n", v[i].pid,
			       cli_esc(v[i].comm), v[i].task, v[i].in_list ?
			       "on the task list, not in the PID table" :
			       "in the PID table, not on the task list (ps, /proc)");
			continue;
		}
		o = json_object_new_object();
		json_object_object_add(o, "pid", json_object_new_int(v[i].pid));
		json_object_object_add(o, "comm", cli_json_bytes(v[i].comm, strlen(v[i].comm)));
		snprintf(hex, sizeof(hex), "0x%016" PRIx64, v[i].task);
		json_object_object_add(o, "task", json_object_new_string(hex));
		json_object_object_add(o, "in_list", json_object_new_boolean(v[i].in_list));
		json_object_object_add(o, "in_pid_table", json_object_new_boolean(v[i].in_pid_table));
		json_object_array_add(arr, o);
	}
	if (out) {
		json_object_object_add(out, "processes", json_object_new_int(listed));
		json_object_object_add(out, "processes_in_pid_table", json_object_new_int(table));
		json_object_object_add(out, "hidden_processes", arr);
	} else {
		json_object_put(arr);
		printf("processes: %d on the task list, %d in the PID table: %s\n", listed, table,
		       bad ? "some in one only (above)" : "none hidden");
	}
	free(v);
	return bad;
}

int cmd_check(struct cli *cli, int argc, char **argv)
{
	struct json_object *out = NULL;
	int s, m, p;

	(void)argv;
	if (argc != 1)
		return cli_fail("usage: nfm check [-j]");
	if (cli_attach(cli))
		return 1;
	if (cli->json)
		out = json_object_new_object();
	s = check_syscalls(cli, out);
	m = check_modules(cli, out);
	p = check_processes(cli, out);
	if (s < 0 || m < 0 || p < 0) {
		json_object_put(out);
		return 1;
	}
	if (out) {
		json_object_object_add(out, "findings", json_object_new_int(s + m + p));
		if (cli_print_json(cli, out))
			return 1;
	}
	return s + m + p ? EXIT_FINDINGS : 0;
}

const struct command command_check = {
	.name = "check",
	.summary = "cross-view checks: hooked syscalls, hidden modules and processes (exit 3: found)",
	.usage = "[-j]",
	.run = cmd_check,
};
