// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nfm top: a top for every VM on the host (or --vm one), from outside the guests.
 *   nfm top [-b] [-n N] [-d SECS] [-o FIELD] [-m ROWS] [-p PID,...] [-u USER] [--remote H:P,...]
 * Without -b (and on a terminal) it is an ncurses TUI (top_tui.c); -b prints top -b style frames,
 * -j one "top" document per frame, one compact line each (JSON Lines, doc/schema/docs/top.json).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nfm/stack.h>

#include "cli.h"
#include "jout.h"
#include "objects.h"
#include "table.h"
#include "top.h"

/*
 * What the host gave the VM over the interval (doc/ctop.md): the QEMU process's CPU, its vCPU
 * threads' wait for a host CPU, the cgroup's quota and throttling, and the guest's steal.
 */
static void print_host_summary(const struct top_vm *vm)
{
	const struct top_host_view *hv = &vm->hv;
	const struct nfm_host_cgroup *cg = vm->hs ? &vm->hs->cg : NULL;
	char quota[64] = "no quota";

	if (!hv->ok)
		return;
	if (cg && cg->have_quota && cg->quota_us > 0 && cg->period_us)
		snprintf(quota, sizeof(quota), "quota %.2f CPU", (double)cg->quota_us / (double)cg->period_us);
	printf("%%Host : %5.1f cpu, %5.1f vcpu, %5.1f wait", hv->cpu_pct, hv->vcpu_pct, hv->wait_pct);
	if (cg && cg->version)
		printf(", cgroup %s: %s", cg->path[0] ? cg->path : "/", quota);
	if (hv->have_throttling)
		printf(", throttled %.0f%% of periods (%.0f ms)", hv->throttled_pct, hv->throttled_ms);
	if (vm->have_cpu)
		printf(", steal %.1f", vm->split.st);
	printf("\n");
}

/* The summary lines of one VM, as top -b's (not a table: top's own text). */
static void print_vm_summary(const struct top_vm *vm)
{
	char up[32];

	if (vm->error[0] || (!vm->ctx && !vm->remote)) {
		printf("VM %s: %s\n", cli_esc(vm->name), cli_esc(vm->error[0] ? vm->error : "not attached"));
		return;
	}
	top_format_uptime(vm->uptime_ns, up, sizeof(up));
	printf("VM %s (%s) - up %s, load average: %.2f, %.2f, %.2f\n", cli_esc(vm->name),
	       cli_esc(vm->ki.release), up, vm->load.load[0], vm->load.load[1], vm->load.load[2]);
	printf("Tasks: %u total, %u running, %u sleeping, %u stopped, %u zombie\n", vm->tasks,
	       vm->running, vm->sleeping, vm->stopped, vm->zombie);
	if (vm->have_cpu)
		printf("%%Cpu(s): %4.1f us, %4.1f sy, %4.1f ni, %4.1f id, %4.1f wa, %4.1f hi, %4.1f si, "
		       "%4.1f st\n", vm->split.us, vm->split.sy, vm->split.ni, vm->split.id,
		       vm->split.wa, vm->split.hi, vm->split.si, vm->split.st);
	else
		printf("%%Cpu(s): not known (this nfmd sends no CPU times)\n");
	print_host_summary(vm);
	printf("MiB Mem : %8.1f total, %8.1f free, %8.1f used, %8.1f buff/cache\n",
	       vm->mem.mem_total / 1024.0, vm->mem.mem_free / 1024.0,
	       (vm->mem.mem_total - vm->mem.mem_free - vm->mem.buffers - vm->mem.cached) / 1024.0,
	       (vm->mem.buffers + vm->mem.cached) / 1024.0);
	printf("MiB Swap: %8.1f total, %8.1f free, %8.1f used. %8.1f avail Mem\n",
	       vm->mem.swap_total / 1024.0, vm->mem.swap_free / 1024.0,
	       (vm->mem.swap_total - vm->mem.swap_free) / 1024.0, vm->mem.mem_available / 1024.0);
}

static int print_batch(struct cli *cli, struct top_state *st)
{
	static const char *const cols[] = { "VM", "PID", "USER", "PR", "NI", "VIRT", "RES", "S",
		"%CPU", "%HOST", "%MEM", "TIME+", "WCHAN", "COMMAND" };
	enum { COL_WCHAN = 12, COL_CMD = 13 };
	struct top_proc **rows = NULL;
	struct table *t;
	size_t n, i;
	int ret;

	for (i = 0; i < st->nvms; i++)
		print_vm_summary(&st->vms[i]);
	printf("\n");
	t = table_new(cli);
	if (!t)
		return cli_fail("out of memory");
	for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
		if (i == COL_WCHAN && !st->wchan)
			continue;
		table_column(t, cols[i], i == 0 || i == 2 || i == 7 || i == COL_WCHAN ? 0 :
				     i == COL_CMD ? TBL_TRUNC : TBL_RIGHT);
	}
	n = top_rows(st, &rows);
	for (i = 0; i < n && (!st->max_rows || i < st->max_rows); i++) {
		struct top_proc *p = rows[i];
		char tbuf[32], cbuf[80];

		top_format_time(p->cpu_ns, tbuf, sizeof(tbuf));
		table_row(t);
		table_cell_gstr(t, p->vm);
		table_cell(t, "%d", p->pid);
		table_cell_gstr(t, p->user);
		table_cell(t, "%d", p->priority);
		table_cell(t, "%d", p->nice);
		table_cell(t, "%" PRIu64, p->vsize / 1024);
		table_cell(t, "%" PRIu64, p->rss_kb);
		table_cell(t, "%c", p->state);
		table_cell(t, "%.1f", p->cpu_pct);
		if (p->vm_hv && p->vm_hv->ok)
			table_cell(t, "%.1f", p->host_pct);
		else
			table_cell(t, "-");
		table_cell(t, "%.1f", p->mem_pct);
		table_cell(t, "%s", tbuf);
		if (st->wchan)
			table_cell_gstr(t, top_proc_wchan(p));
		table_cell_gstr(t, top_proc_command(st, p, cbuf, sizeof(cbuf)));
	}
	free(rows);
	ret = table_print(t);
	printf("\n");
	return ret;
}

/* doc/schema/vm.json: the QEMU process, and what attaching found. */
static struct json_object *vm_json(const struct top_vm *vm)
{
	struct nfm_vm_info info = vm->info;
	struct json_object *o;

	info.pid = vm->pid > 0 ? vm->pid : 0;
	snprintf(info.name, sizeof(info.name), "%s", vm->name);
	o = obj_vm(&info);
	if (vm->error[0]) {
		j_add(o, "error", j_str(vm->error));
		return o;
	}
	if (vm->ki.release[0])
		j_add(o, "release", j_strn(vm->ki.release, sizeof(vm->ki.release)));
	j_add(o, "uptime_ns", j_u64(vm->uptime_ns));
	if (vm->ki.nr_cpus_online)
		j_add(o, "cpus_online", j_int(vm->ki.nr_cpus_online));
	return o;
}

/* top.json#/$defs/top_vm: one VM's frame, its processes sorted as displayed. */
static struct json_object *vm_frame_json(struct top_state *st, struct top_vm *vm)
{
	struct json_object *o = json_object_new_object(), *a, *x;
	struct top_vm *filter = st->filter;
	struct top_proc **rows = NULL;
	size_t n, i;

	j_add(o, "vm", vm_json(vm));
	if (vm->error[0] || (!vm->ctx && !vm->remote))
		return o;
	j_add(o, "loadavg", obj_loadavg(&vm->load));
	x = json_object_new_object();
	j_add(x, "total", j_int(vm->tasks));
	j_add(x, "running", j_int(vm->running));
	j_add(x, "sleeping", j_int(vm->sleeping));
	j_add(x, "stopped", j_int(vm->stopped));
	j_add(x, "zombie", j_int(vm->zombie));
	j_add(x, "idle", j_int(vm->idle));
	j_add(o, "tasks", x);
	if (vm->have_cpu) {
		x = json_object_new_object();
		j_add(x, "user", j_fixed(vm->split.us, 1));
		j_add(x, "system", j_fixed(vm->split.sy, 1));
		j_add(x, "nice", j_fixed(vm->split.ni, 1));
		j_add(x, "idle", j_fixed(vm->split.id, 1));
		j_add(x, "iowait", j_fixed(vm->split.wa, 1));
		j_add(x, "irq", j_fixed(vm->split.hi, 1));
		j_add(x, "softirq", j_fixed(vm->split.si, 1));
		j_add(x, "steal", j_fixed(vm->split.st, 1));
		j_add(o, "cpu_pct", x);
		j_add(o, "cpu_times", obj_cpu_times(&vm->cpu));
	}
	j_add(o, "memory", obj_memory(&vm->mem));
	if (vm->hs && vm->hv.ok) {
		x = obj_host(vm->hs, vm->host ? nfm_host_vm_vcpus_how(vm->host) : NULL);
		j_add(x, "cpu_pct", j_fixed(vm->hv.cpu_pct, 1));
		j_add(x, "vcpu_pct", j_fixed(vm->hv.vcpu_pct, 1));
		j_add(x, "wait_pct", j_fixed(vm->hv.wait_pct, 1));
		if (vm->hv.have_cgroup_usage)
			j_add(x, "cgroup_cpu_pct", j_fixed(vm->hv.cgroup_pct, 1));
		if (vm->hv.have_throttling)
			j_add(x, "throttled_pct", j_fixed(vm->hv.throttled_pct, 1));
		j_add(o, "host", x);
	}
	a = json_object_new_array();
	st->filter = vm;
	n = top_rows(st, &rows);
	st->filter = filter;
	for (i = 0; i < n && (!st->max_rows || i < st->max_rows); i++) {
		x = obj_process(&rows[i]->task, vm->ctx && nfm_vmrss_summed(vm->ctx));
		j_add(x, "rss_bytes", j_u64(rows[i]->rss_kb * 1024));	/* RES (a remote VM's too) */
		if (vm->ctx) {	/* WCHAN as /proc/PID/wchan (a remote VM's frame has none) */
			const char *w = NULL;

			if (nfm_task_wchan(vm->ctx, &rows[i]->task, &w) < 0)
				w = NULL;
			obj_process_wchan(x, w);
		}
		j_add(x, "cpu_pct", j_fixed(rows[i]->cpu_pct, 1));
		if (vm->hv.ok)
			j_add(x, "host_pct", j_fixed(rows[i]->host_pct, 1));
		j_add(x, "mem_pct", j_fixed(rows[i]->mem_pct, 1));
		j_add(x, "cpu_time_ns", j_u64(rows[i]->cpu_ns));
		if (rows[i]->cpu_last >= 0)
			j_add(x, "processor", j_int(rows[i]->cpu_last));
		json_object_array_add(a, x);
	}
	free(rows);
	j_add(o, "processes", a);
	return o;
}

/* One "top" document: every VM's frame; a VM that could not be read makes it partial. */
static struct json_object *frame_json(struct top_state *st)
{
	struct json_object *doc = jdoc_new("top"), *vms = json_object_new_array();
	struct timespec now;
	char view[160];
	size_t v;

	clock_gettime(CLOCK_REALTIME, &now);
	j_add(doc, "time_ns", j_u64((uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec));
	for (v = 0; v < st->nvms; v++) {
		struct top_vm *vm = &st->vms[v];

		json_object_array_add(vms, vm_frame_json(st, vm));
		if (vm->error[0]) {
			snprintf(view, sizeof(view), "vm %s", vm->name);
			jdoc_error(doc, view, 0, vm->error);
		}
	}
	j_add(doc, "vms", vms);
	return doc;
}

/* The first VM that shows no data, or NULL. */
static const struct top_vm *failed_vm(const struct top_state *st)
{
	size_t v;

	for (v = 0; v < st->nvms; v++)
		if (st->vms[v].error[0])
			return &st->vms[v];
	return NULL;
}

static void sleep_s(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s, .tv_nsec = (long)((s - floor(s)) * 1e9) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* -p PID[,PID...] */
static int parse_pids(const char *s, struct top_state *st)
{
	const char *p = s;

	while (*p) {
		char *end;
		long v = strtol(p, &end, 10);
		int32_t *n;

		if (end == p || v <= 0 || v > 4194304 || (*end && *end != ','))
			return -1;
		n = realloc(st->pids, (st->npids + 1) * sizeof(*n));
		if (!n)
			return -1;
		st->pids = n;
		st->pids[st->npids++] = (int32_t)v;
		p = *end ? end + 1 : end;
	}
	return st->npids ? 0 : -1;
}

/* The options into st; -1 to go on, otherwise the exit status (0 after --help). */
static int parse_opts(struct cli *cli, int argc, char **argv, struct top_state *st,
		      bool *batch, long *iterations)
{
	static const struct option longopts[] = {
		{ "batch", no_argument, NULL, 'b' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "delay", required_argument, NULL, 'd' },
		{ "sort", required_argument, NULL, 's' },
		{ "max-rows", required_argument, NULL, 'm' },
		{ "pid", required_argument, NULL, 'p' },
		{ "remote", required_argument, NULL, 'R' },
		{ "user", required_argument, NULL, 'u' },
		{ "sort-override", required_argument, NULL, 'o' },
		{ "wchan", no_argument, NULL, 'W' },
		{ "command-line", no_argument, NULL, 'c' },
		{ 0 }
	};
	char *end;
	int c;

	while ((c = cli_getopt(cli, argc, argv, "bcn:d:s:m:p:u:o:", longopts)) != -1) {
		switch (c) {
		case 'b':
			*batch = true;
			break;
		case 'W':
			st->wchan = true;
			break;
		case 'c':	/* as top -c: the command line, not the program name */
			st->cmdline = true;
			break;
		case 'n':
			*iterations = strtol(optarg, &end, 10);
			if (!optarg[0] || *end || *iterations <= 0)
				return cli_usage_error(cli, "-n needs a number of frames, not '%s'",
						       cli_esc(optarg));
			break;
		case 'd':
			st->delay = strtod(optarg, &end);
			if (!optarg[0] || *end || !(st->delay >= 0.01) || st->delay > 86400)
				return cli_usage_error(cli, "the interval must be at least 0.01 s");
			break;
		case 's':
			if (top_parse_sort(optarg, &st->sort) < 0)
				return cli_usage_error(cli, "unknown sort key '%s' (cpu, mem, pid, time, or a "
						       "field as -o takes)",
						       cli_esc(optarg));
			break;
		case 'm':
			st->max_rows = (size_t)strtoul(optarg, &end, 10);
			if (!optarg[0] || *end || optarg[0] == '-')
				return cli_usage_error(cli, "-m needs a number of rows, not '%s'",
						       cli_esc(optarg));
			break;
		case 'p':
			if (parse_pids(optarg, st) < 0)
				return cli_usage_error(cli, "-p needs PID[,PID...], not '%s'", cli_esc(optarg));
			break;
		case 'R':
			st->remote = optarg;
			break;
		case 'u':
			st->user = optarg;
			break;
		case 'o':	/* top -o: a field name; -FIELD lowest first, +FIELD highest first */
			if (top_parse_sort(optarg + (optarg[0] == '-' || optarg[0] == '+'), &st->sort) < 0)
				return cli_usage_error(cli, "unknown sort field '%s' (%%CPU, %%MEM, RES, VIRT, "
						       "PID, TIME+)", cli_esc(optarg));
			/* as top -o: highest first, PID too (the TUI's N and -s pid: lowest first) */
			st->sort_reverse = (optarg[0] == '-') != (st->sort == TOP_SORT_PID);
			break;
		default:
			return cli_opt_status(cli);
		}
	}
	if (optind < argc)
		return cli_usage_error(cli, "unexpected argument '%s'", cli_esc(argv[optind]));
	return -1;
}

static int cmd_top(struct cli *cli, int argc, char **argv)
{
	NFM_OPTS(nfm_attach_opts, attach_opts, .system_map = cli->system_map, .btf_path = cli->btf);
	struct top_state st = { .delay = 1.0, .sort = TOP_SORT_CPU, .attach_opts = &attach_opts };
	bool batch = false;
	long iterations = 0;
	int n, ret;

	ret = parse_opts(cli, argc, argv, &st, &batch, &iterations);
	if (ret >= 0)
		goto out;
	ret = 0;
	batch |= cli->json || !isatty(STDOUT_FILENO);
	if (st.remote)
		st.sample_remote = top_remote_sample;
	st.rescan = !cli->vm;
	n = top_vms_discover(cli->vm, &st.vms);
	if (n < 0) {
		ret = cli_fail("cannot list QEMU processes: %s", strerror(-n));
		goto out;
	}
	st.nvms = (size_t)n;
	if (!n && !st.remote) {
		ret = cli_fail("no QEMU process found on this host");
		goto out;
	}
	if (cli->vm) {
		/* An explicit --vm that does not attach is an error, not an empty screen. */
		if (top_vm_attach(&st.vms[0], st.attach_opts) < 0) {
			ret = cli_fail("%s", st.vms[0].error);
			goto out;
		}
	}
	if (!batch) {
		ret = top_tui(&st);
		goto out;
	}
	/* The first frame only primes the deltas, as top's first iteration does. */
	top_sample_all(&st);
	for (long it = 0; !iterations || it < iterations; it++) {
		sleep_s(st.delay);
		top_sample_all(&st);
		if (cli->json)	/* JSON Lines: one compact document a frame, unless --pretty */
			ret = jdoc_print(stdout, frame_json(&st), cli->pretty == 1);
		else
			ret = print_batch(cli, &st);
		if (ret || fflush(stdout) != 0) {
			ret = 1;
			goto out;
		}
	}
	/* Frames showed each unreadable VM as it was; the exit status says the last one's. */
	if (failed_vm(&st)) {
		cli_warn("VM %s: %s", cli_esc(failed_vm(&st)->name), cli_esc(failed_vm(&st)->error));
		ret = EXIT_PARTIAL;
	}
out:
	for (size_t v = 0; v < st.nvms; v++)
		top_vm_free(&st.vms[v]);
	free(st.vms);
	free(st.pids);
	top_remote_free(&st);
	return ret;
}

const struct command command_top = {
	.name = "top",
	.summary = "processes of every VM on the host (or --vm one), live, as top",
	.usage = "[-bc] [-n N] [-d SECS] [-o FIELD] [-m ROWS] [-p PID[,PID...]] [-u USER] "
		 "[--wchan] [--remote HOST:PORT,...]",
	.help = "  -b, --batch         frames as text (top -b), not the full-screen view; -j: JSON Lines\n"
		"  -n, --iterations N  stop after N frames (default: until interrupted)\n"
		"  -d, --delay SECS    seconds between frames (at least 0.01; default 1)\n"
		"  -o, --sort-override FIELD  sort by %CPU (default), %MEM, RES, VIRT, PID or TIME+;\n"
		"                      -FIELD: lowest first (as top -o)\n"
		"  -s, --sort KEY      the same: cpu, mem, pid or time\n"
		"  -m, --max-rows N    at most N processes a frame (JSON: a VM)\n"
		"  -p, --pid PID[,PID...]  only these processes\n"
		"  -c, --command-line  COMMAND is the command line, \"[comm]\" without one (top -c;\n"
		"                      the TUI's c toggles it)\n"
		"      --wchan             a WCHAN column: the kernel function a sleeping task waits in,\n"
		"                      as /proc/PID/wchan and ps -o wchan (the TUI's w toggles it)\n"
		"  -u, --user USER     only the processes of this effective user (name or number;\n"
		"                      names from the guest's own /etc/passwd)\n"
		"      --remote HOST:PORT,...  also the VMs of these nfmd instances (their JSON API;\n"
		"                      a bearer token from $NFM_REMOTE_TOKEN)\n",
	.run = cmd_top,
};
