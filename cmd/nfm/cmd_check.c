// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nfm check: cross-view checks (lib/check/xview.c): system call tables, modules, processes; and
 * the hooks of kernels that dispatch through x64_sys_call (lib/check/hooks.c): patched text on
 * the system call path, ftrace ops, kprobes, livepatches, the IDT.
 * One line per finding, then a summary per check; exit status 0 when nothing is suspicious,
 * 4 (EXIT_FINDINGS) when something is, 1 on errors.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/check.h>
#include <nfm/system.h>

#include "cli.h"
#include "jout.h"
#include "objects.h"

/* A view that cannot be read: one error line; -1. */
static int unreadable(struct cli *cli, const char *what, int err, struct json_object *arr)
{
	json_object_put(arr);
	cli_fail("cannot read %s: %s", what, cli->last_error[0] ? cli->last_error : strerror(-err));
	return -1;
}

/* A check this guest cannot have yet (its architecture, its kallsyms): the other checks stand,
 * the result is partial, and the reason is said. */
#define NOT_CHECKED (-2)

static int not_checked(struct cli *cli, struct json_object *doc, const char *view, int err,
		       struct json_object *arr)
{
	json_object_put(arr);
	cli_warn("%s not checked: %s", view, cli->last_error);
	jdoc_error(doc, view, err, cli->last_error);
	return NOT_CHECKED;
}

/* Each check: its findings reported (as lines or into doc) and counted; NOT_CHECKED; -1. */

/* Hooked system call table entries. */
static int check_syscalls(struct cli *cli, struct json_object *doc)
{
	struct nfm_syscall_entry *t;
	struct json_object *arr = json_object_new_array();
	int n = nfm_syscall_table(cli->ctx, &t), bad = 0, native = 0;

	if (n == -EOPNOTSUPP)
		return not_checked(cli, doc, "syscalls", n, arr);
	if (n < 0)
		return unreadable(cli, "the system call table", n, arr);
	for (int i = 0; i < n; i++) {
		const struct nfm_syscall_entry *e = &t[i];

		native += !e->ia32;
		if (e->ok)
			continue;
		bad++;
		if (doc) {
			json_object_array_add(arr, obj_syscall_entry(e));
			continue;
		}
		printf("HOOKED  %s[%u] = 0x%016" PRIx64 " %s+0x%" PRIx64 "%s%s%s\n",
		       e->ia32 ? "ia32_sys_call_table" : "sys_call_table", e->nr, e->handler,
		       e->symbol ? cli_esc(e->symbol) : "?", e->offset, e->module ? " [" : "",
		       e->module ? cli_esc(e->module) : "", e->module ? "]" : "");
	}
	if (doc) {
		j_add(doc, "nr_syscalls", j_int(native));
		j_add(doc, "nr_ia32_syscalls", j_int(n - native));
		j_add(doc, "hooked_syscalls", arr);
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

static int check_modules(struct cli *cli, struct json_object *doc)
{
	struct nfm_module_view *v;
	struct json_object *arr = json_object_new_array();
	int n = nfm_module_views(cli->ctx, &v), bad = 0, listed = 0, sysfs = 0;

	if (n < 0)
		return unreadable(cli, "the guest's modules", n, arr);
	for (int i = 0; i < n; i++) {
		listed += v[i].in_list;
		sysfs += v[i].in_sysfs;
		if (v[i].in_list && v[i].in_sysfs)
			continue;
		bad++;
		if (doc)
			json_object_array_add(arr, obj_module_view(&v[i]));
		else
			printf("HIDDEN  module %s (0x%016" PRIx64 "): %s\n", cli_esc(v[i].name),
			       v[i].module, v[i].in_list ? "on the modules list, not in /sys/module" :
			       "in /sys/module, not on the modules list (lsmod)");
	}
	if (doc) {
		j_add(doc, "nr_modules", j_int(listed));
		j_add(doc, "nr_modules_in_sysfs", j_int(sysfs));
		j_add(doc, "hidden_modules", arr);
	} else {
		json_object_put(arr);
		printf("modules: %d on the modules list, %d in /sys/module: %s\n", listed, sysfs,
		       bad ? "some hidden from one (above)" : "none hidden");
	}
	free(v);
	return bad;
}

static int check_processes(struct cli *cli, struct json_object *doc)
{
	struct nfm_task_view *v;
	struct json_object *arr = json_object_new_array();
	int n = nfm_task_views(cli->ctx, &v), bad = 0, listed = 0, table = 0;

	if (n < 0)
		return unreadable(cli, "the guest's processes", n, arr);
	for (int i = 0; i < n; i++) {
		listed += v[i].in_list;
		table += v[i].in_pid_table;
		if (v[i].in_list && v[i].in_pid_table)
			continue;
		bad++;
		if (doc)
			json_object_array_add(arr, obj_task_view(&v[i]));
		else
			printf("HIDDEN  process %d %s (task 0x%016" PRIx64 "): %s\n", v[i].pid,
			       cli_esc(v[i].comm), v[i].task, v[i].in_list ?
			       "on the task list, not in the PID table" :
			       "in the PID table, not on the task list (ps, /proc)");
	}
	if (doc) {
		j_add(doc, "nr_processes", j_int(listed));
		j_add(doc, "nr_processes_in_pid_table", j_int(table));
		j_add(doc, "hidden_processes", arr);
	} else {
		json_object_put(arr);
		printf("processes: %d on the task list, %d in the PID table: %s\n", listed, table,
		       bad ? "some in one only (above)" : "none hidden");
	}
	free(v);
	return bad;
}

/* The hooks of current kernels (text, ftrace, kprobes, livepatch, IDT): findings reported. */
static int check_hooks(struct cli *cli, struct json_object *doc)
{
	struct nfm_hook *h;
	struct nfm_hook_stats st;
	struct json_object *arr = json_object_new_array();
	int n = nfm_hooks(cli->ctx, NFM_HOOKS_ALL, &h, &st), bad = 0;

	if (n == -EOPNOTSUPP)
		return not_checked(cli, doc, "hooks", n, arr);
	if (n < 0)
		return unreadable(cli, "the kernel's text and handlers", n, arr);
	for (int i = 0; i < n; i++) {
		const struct nfm_hook *e = &h[i];

		bad += !e->ok;
		if (doc) {
			json_object_array_add(arr, obj_hook(e));
			continue;
		}
		if (e->ok)
			continue;
		printf("HOOKED  %s: %s", nfm_hook_kind_name(e->kind), e->what);
		if (e->kind == NFM_HOOK_IDT)
			printf(", vector %u", e->vector);
		if (e->site)
			printf(" at %s+0x%" PRIx64 " (0x%016" PRIx64 ")",
			       e->site_symbol ? cli_esc(e->site_symbol) : "?", e->site_offset, e->site);
		if (e->target)
			printf(" -> 0x%016" PRIx64 " %s+0x%" PRIx64, e->target,
			       e->symbol ? cli_esc(e->symbol) : "?", e->offset);
		if (e->module)
			printf(" [%s]", cli_esc(e->module));
		printf(" (%s)\n", e->owner == NFM_OWNER_NONE ? "owner: none, hidden code" :
		       e->owner == NFM_OWNER_MODULE ? "owner: a listed module" :
		       e->owner == NFM_OWNER_KERNEL_DATA ? "owner: kernel data" : "owner: kernel");
	}
	if (doc) {
		j_add(doc, "nr_text_functions", j_int(st.nr_functions));
		j_add(doc, "nr_text_undecoded", j_int(st.nr_undecoded));
		j_add(doc, "nr_dispatch_targets", j_int(st.nr_dispatch_targets));
		j_add(doc, "nr_ftrace_ops", j_int(st.nr_ftrace_ops));
		j_add(doc, "nr_kprobes", j_int(st.nr_kprobes));
		j_add(doc, "nr_livepatches", j_int(st.nr_livepatches));
		j_add(doc, "nr_idt_gates", j_int(st.nr_idt_gates));
		j_add(doc, "hooks", arr);
	} else {
		json_object_put(arr);
		printf("text: %u functions on the system call path decoded (%u system calls from "
		       "the dispatch), %u ftrace ops, %u kprobes, %u livepatches, %u IDT gates: %s\n",
		       st.nr_functions, st.nr_dispatch_targets, st.nr_ftrace_ops, st.nr_kprobes,
		       st.nr_livepatches, st.nr_idt_gates,
		       bad ? "some hooked (above)" : "no hook outside the kernel's own");
	}
	free(h);
	return bad;
}

static int cmd_check(struct cli *cli, int argc, char **argv)
{
	struct json_object *doc = NULL;
	int s, m, p, k, c, partial;

	while ((c = cli_getopt(cli, argc, argv, "", NULL)) != -1)
		return cli_opt_status(cli);
	if (optind < argc)
		return cli_usage_error(cli, "no arguments expected");
	if (cli_attach(cli))
		return 1;
	if (cli->json)
		doc = jdoc_new("check");
	s = check_syscalls(cli, doc);
	m = check_modules(cli, doc);
	p = check_processes(cli, doc);
	k = check_hooks(cli, doc);
	partial = s == NOT_CHECKED || k == NOT_CHECKED;
	s = s == NOT_CHECKED ? 0 : s;
	k = k == NOT_CHECKED ? 0 : k;
	if (s < 0 || m < 0 || p < 0 || k < 0) {
		json_object_put(doc);
		return 1;
	}
	if (doc) {
		j_add(doc, "nr_findings", j_int(s + m + p + k));
		if (cli_print_json(cli, doc))
			return 1;
	} else if (fflush(stdout)) {
		return 1;
	}
	return s + m + p + k ? EXIT_FINDINGS : partial ? EXIT_PARTIAL : 0;
}

const struct command command_check = {
	.name = "check",
	.summary = "cross-view checks: hooked syscalls, hidden modules and processes, text, ftrace, "
		   "kprobe, livepatch and IDT hooks (exit 4: found)",
	.usage = "[-j]",
	.run = cmd_check,
};
