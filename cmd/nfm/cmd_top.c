// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nfm top: a top for every VM on the host (or --vm one), from outside the guests.
 *   nfm top [-b] [-n N] [-d SECS] [-s cpu|mem|pid|time] [-j] [--remote HOST:PORT,...]
 * Without -b (and on a terminal) it is an ncurses TUI (top_tui.c); -b prints top -b style frames,
 * -j one JSON document per frame.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "top.h"

static int cmp_procs(const void *a, const void *b, void *arg)
{
	const struct top_proc *x = *(const struct top_proc *const *)a;
	const struct top_proc *y = *(const struct top_proc *const *)b;
	enum top_sort key = *(const enum top_sort *)arg;
	double dx = 0, dy = 0;

	switch (key) {
	case TOP_SORT_CPU: dx = x->cpu_pct; dy = y->cpu_pct; break;
	case TOP_SORT_MEM: dx = (double)x->rss_kb; dy = (double)y->rss_kb; break;
	case TOP_SORT_TIME: dx = (double)x->cpu_ns; dy = (double)y->cpu_ns; break;
	case TOP_SORT_PID: return (x->pid > y->pid) - (x->pid < y->pid);
	}
	if (dx != dy)
		return dx < dy ? 1 : -1;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

size_t top_rows(struct top_state *st, struct top_proc ***ret)
{
	size_t n = 0, i, j;
	struct top_proc **rows;

	for (i = 0; i < st->nvms; i++)
		if (!st->filter || st->filter == &st->vms[i])
			n += st->vms[i].nprocs;
	rows = malloc((n ? n : 1) * sizeof(*rows));
	if (!rows)
		return 0;
	n = 0;
	for (i = 0; i < st->nvms; i++)
		if (!st->filter || st->filter == &st->vms[i])
			for (j = 0; j < st->vms[i].nprocs; j++)
				rows[n++] = &st->vms[i].procs[j];
	qsort_r(rows, n, sizeof(*rows), cmp_procs, &st->sort);
	*ret = rows;
	return n;
}

int top_parse_sort(const char *s, enum top_sort *ret)
{
	static const char *const names[] = { "cpu", "mem", "pid", "time" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i])) {
			*ret = (enum top_sort)i;
			return 0;
		}
	return -EINVAL;
}

void top_format_time(uint64_t ns, char *buf, size_t size)
{
	uint64_t cs = ns / 10000000;	/* hundredths, as TIME+ */

	snprintf(buf, size, "%" PRIu64 ":%02" PRIu64 ".%02" PRIu64, cs / 6000, cs / 100 % 60, cs % 100);
}

void top_format_uptime(uint64_t ns, char *buf, size_t size)
{
	uint64_t s = ns / 1000000000, days = s / 86400, h = s / 3600 % 24, m = s / 60 % 60;

	if (days)
		snprintf(buf, size, "%" PRIu64 " day%s, %2" PRIu64 ":%02" PRIu64, days,
			 days > 1 ? "s" : "", h, m);
	else if (h)
		snprintf(buf, size, "%2" PRIu64 ":%02" PRIu64, h, m);
	else
		snprintf(buf, size, "%" PRIu64 " min", m);
}

static void print_batch(struct top_state *st)
{
	struct top_proc **rows;
	size_t n, i, v;

	for (v = 0; v < st->nvms; v++) {
		struct top_vm *vm = &st->vms[v];
		char up[32];

		if (vm->error[0] || !vm->ctx) {
			printf("VM %s: %s\n", cli_esc(vm->name), cli_esc(vm->error[0] ? vm->error : "not attached"));
			continue;
		}
		top_format_uptime(vm->uptime_ns, up, sizeof(up));
		printf("VM %s (%s) - up %s, load average: %.2f, %.2f, %.2f\n", cli_esc(vm->name),
		       cli_esc(vm->ki.release), up, vm->load.load[0], vm->load.load[1], vm->load.load[2]);
		printf("Tasks: %u total, %u running, %u sleeping, %u stopped, %u zombie\n", vm->tasks,
		       vm->running, vm->sleeping, vm->stopped, vm->zombie);
		printf("%%Cpu(s): %4.1f us, %4.1f sy, %4.1f ni, %4.1f id, %4.1f wa, %4.1f hi, %4.1f si, "
		       "%4.1f st\n", vm->split.us, vm->split.sy, vm->split.ni, vm->split.id, vm->split.wa,
		       vm->split.hi, vm->split.si, vm->split.st);
		printf("MiB Mem : %8.1f total, %8.1f free, %8.1f used, %8.1f buff/cache\n",
		       vm->mem.mem_total / 1024.0, vm->mem.mem_free / 1024.0,
		       (vm->mem.mem_total - vm->mem.mem_free - vm->mem.buffers - vm->mem.cached) / 1024.0,
		       (vm->mem.buffers + vm->mem.cached) / 1024.0);
		printf("MiB Swap: %8.1f total, %8.1f free, %8.1f used. %8.1f avail Mem\n",
		       vm->mem.swap_total / 1024.0, vm->mem.swap_free / 1024.0,
		       (vm->mem.swap_total - vm->mem.swap_free) / 1024.0, vm->mem.mem_available / 1024.0);
	}
	printf("\n%-12s %7s %-6s %3s %3s %8s %7s %c %5s %5s %9s %s\n", "VM", "PID", "USER", "PR", "NI",
	       "VIRT", "RES", 'S', "%CPU", "%MEM", "TIME+", "COMMAND");
	n = top_rows(st, &rows);
	for (i = 0; i < n && (!st->max_rows || i < st->max_rows); i++) {
		struct top_proc *p = rows[i];
		char tbuf[32];

		top_format_time(p->cpu_ns, tbuf, sizeof(tbuf));
		printf("%-12.12s %7d %-6u %3d %3d %8" PRIu64 " %7" PRIu64 " %c %5.1f %5.1f %9s %s\n",
		       cli_esc(p->vm), p->pid, p->uid, p->priority, p->nice, p->vsize / 1024, p->rss_kb,
		       p->state, p->cpu_pct, p->mem_pct, tbuf, cli_esc(p->name));
	}
	if (n)
		free(rows);
	printf("\n");
}

static struct json_object *frame_json(struct top_state *st)
{
	struct json_object *root = json_object_new_object(), *vms = json_object_new_array();
	struct timespec now;
	size_t v, i;

	clock_gettime(CLOCK_REALTIME, &now);
	json_object_object_add(root, "time", json_object_new_double(now.tv_sec + now.tv_nsec / 1e9));
	for (v = 0; v < st->nvms; v++) {
		struct top_vm *vm = &st->vms[v];
		struct json_object *o = json_object_new_object(), *procs, *cpu, *load, *tasks, *mem;

		json_object_object_add(o, "name", cli_json_bytes(vm->name, strlen(vm->name)));
		json_object_object_add(o, "pid", json_object_new_int(vm->pid));
		if (vm->error[0] || !vm->ctx) {
			json_object_object_add(o, "error", json_object_new_string(vm->error));
			json_object_array_add(vms, o);
			continue;
		}
		json_object_object_add(o, "release", cli_json_bytes(vm->ki.release, strlen(vm->ki.release)));
		json_object_object_add(o, "uptime_s", json_object_new_double(vm->uptime_ns / 1e9));
		load = json_object_new_array();
		for (i = 0; i < 3; i++)
			json_object_array_add(load, json_object_new_double(vm->load.load[i]));
		json_object_object_add(o, "loadavg", load);
		tasks = json_object_new_object();
		json_object_object_add(tasks, "total", json_object_new_int((int)vm->tasks));
		json_object_object_add(tasks, "running", json_object_new_int((int)vm->running));
		json_object_object_add(tasks, "sleeping", json_object_new_int((int)vm->sleeping));
		json_object_object_add(tasks, "stopped", json_object_new_int((int)vm->stopped));
		json_object_object_add(tasks, "zombie", json_object_new_int((int)vm->zombie));
		json_object_object_add(o, "tasks", tasks);
		cpu = json_object_new_object();
#define SPLIT(k) json_object_object_add(cpu, #k, json_object_new_double(vm->split.k))
		SPLIT(us); SPLIT(sy); SPLIT(ni); SPLIT(id); SPLIT(wa); SPLIT(hi); SPLIT(si); SPLIT(st);
#undef SPLIT
		json_object_object_add(o, "cpu_pct", cpu);
		{
			struct json_object *ct = json_object_new_object();
#define CT(k) json_object_object_add(ct, #k, json_object_new_int64((int64_t)vm->cpu.k))
			CT(user); CT(nice); CT(system); CT(idle); CT(iowait); CT(irq); CT(softirq); CT(steal);
#undef CT
			json_object_object_add(o, "cpu_ns", ct);
		}
		mem = json_object_new_object();
		json_object_object_add(mem, "total_kb", json_object_new_int64((int64_t)vm->mem.mem_total));
		json_object_object_add(mem, "free_kb", json_object_new_int64((int64_t)vm->mem.mem_free));
		json_object_object_add(mem, "available_kb", json_object_new_int64((int64_t)vm->mem.mem_available));
		json_object_object_add(mem, "swap_total_kb", json_object_new_int64((int64_t)vm->mem.swap_total));
		json_object_object_add(mem, "swap_free_kb", json_object_new_int64((int64_t)vm->mem.swap_free));
		json_object_object_add(o, "memory", mem);
		procs = json_object_new_array();
		for (i = 0; i < vm->nprocs; i++) {
			struct top_proc *p = &vm->procs[i];
			struct json_object *po = json_object_new_object();

			json_object_object_add(po, "pid", json_object_new_int(p->pid));
			json_object_object_add(po, "ppid", json_object_new_int(p->ppid));
			json_object_object_add(po, "uid", json_object_new_int64(p->uid));
			json_object_object_add(po, "state", json_object_new_string_len(&p->state, 1));
			json_object_object_add(po, "priority", json_object_new_int(p->priority));
			json_object_object_add(po, "nice", json_object_new_int(p->nice));
			json_object_object_add(po, "vsize", json_object_new_int64((int64_t)p->vsize));
			json_object_object_add(po, "rss_kb", json_object_new_int64((int64_t)p->rss_kb));
			json_object_object_add(po, "cpu_ns", json_object_new_int64((int64_t)p->cpu_ns));
			json_object_object_add(po, "cpu_pct", json_object_new_double(p->cpu_pct));
			json_object_object_add(po, "mem_pct", json_object_new_double(p->mem_pct));
			json_object_object_add(po, "comm", cli_json_bytes(p->name, strlen(p->name)));
			json_object_array_add(procs, po);
		}
		json_object_object_add(o, "processes", procs);
		json_object_array_add(vms, o);
	}
	json_object_object_add(root, "vms", vms);
	return root;
}

static void sleep_s(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s, .tv_nsec = (long)((s - floor(s)) * 1e9) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void top_sample_all(struct top_state *st)
{
	size_t i;

	for (i = 0; i < st->nvms; i++) {
		struct top_vm *vm = &st->vms[i];

		if (vm->pid < 0)
			continue;	/* a remote VM: top_remote_sample() reads it */
		if (!vm->ctx && top_vm_attach(vm, true) < 0)
			continue;
		top_vm_sample(vm, false);
	}
	top_remote_sample(st);
}

int cmd_top(struct cli *cli, int argc, char **argv)
{
	struct top_state st = { .delay = 1.0, .sort = TOP_SORT_CPU };
	bool batch = cli->json || !isatty(STDOUT_FILENO);
	long iterations = 0;
	int i, n, ret = 0;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "-b")) {
			batch = true;
		} else if (!strcmp(a, "-n") && v) {
			iterations = strtol(v, NULL, 10);
			i++;
		} else if (!strcmp(a, "-d") && v) {
			st.delay = strtod(v, NULL);
			i++;
		} else if (!strcmp(a, "-s") && v) {
			if (top_parse_sort(v, &st.sort) < 0)
				return cli_fail("unknown sort key '%s' (cpu, mem, pid, time)", cli_esc(v));
			i++;
		} else if (!strcmp(a, "-m") && v) {
			st.max_rows = (size_t)strtoul(v, NULL, 10);
			i++;
		} else if (!strcmp(a, "--remote") && v) {
			st.remote = v;
			i++;
		} else {
			return cli_fail("usage: nfm top [-b] [-n N] [-d SECS] [-s cpu|mem|pid|time] "
					"[-m ROWS] [-j] [--remote HOST:PORT,...]");
		}
	}
	if (st.delay < 0.01)
		return cli_fail("the interval must be at least 0.01 s");
	n = top_vms_discover(cli->vm, &st.vms);
	if (n < 0)
		return cli_fail("cannot list QEMU processes: %s", strerror(-n));
	st.nvms = (size_t)n;
	if (!n && !st.remote)
		return cli_fail("no QEMU process found on this host");
	if (cli->vm) {
		/* An explicit --vm that does not attach is an error, not an empty screen. */
		if (top_vm_attach(&st.vms[0], false) < 0) {
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
		if (cli->json) {
			struct json_object *o = frame_json(&st);

			if (puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						JSON_C_TO_STRING_NOSLASHESCAPE)) < 0)
				ret = 1;
			json_object_put(o);
		} else {
			print_batch(&st);
		}
		if (fflush(stdout) != 0) {
			ret = 1;
			break;
		}
	}
out:
	for (size_t v = 0; v < st.nvms; v++)
		top_vm_free(&st.vms[v]);
	free(st.vms);
	top_remote_free(&st);
	return ret;
}

const struct command command_top = {
	.name = "top",
	.summary = "processes of every VM on the host (or --vm one), live, as top",
	.usage = "[-b] [-n N] [-d SECS] [-s cpu|mem|pid|time] [-m ROWS] [-j] [--remote HOST:PORT,...]",
	.run = cmd_top,
};
