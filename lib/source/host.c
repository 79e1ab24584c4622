// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The host's accounting of a QEMU process: its vCPU threads (QMP `info cpus`, else thread names
 * "CPU n/TCG" / "CPU n/KVM"), every thread's /proc/PID/task/TID/schedstat, and its CPU cgroup
 * (/proc/PID/cgroup: v1 cpu,cpuacct files, else v2 cpu.stat/cpu.max). Plain files of the host;
 * the roots are parameters so that tests run over a fake tree.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nfm/host.h>

#include "util/opts.h"
#include "util/reread.h"

#include "source/host_gone.h"
#include "source/qemu_cmdline.h"
#include "source/qmp.h"

struct nfm_host_vm {
	int pid;
	char proc[256], cgroot[256];
	int nr_vcpus;
	const char *how;
	char qmp[108];			/* the QMP socket, "" when none is known or wanted */
	struct nfm_host_vcpu vcpu[NFM_HOST_MAX_VCPUS];	/* cpu and tid */
	/* The group's task count as last read (group_tasks): of which group, when. */
	char tasks_dir[600];
	double tasks_at;
	unsigned int tasks_nr;
	bool tasks_only_vm;
	/* Its groups as /proc/PID/cgroup last named them (read_cgroup), and when. */
	char cg_cpu[256], cg_acct[256], cg_v2[256];
	bool cg_have_cpu, cg_have_acct, cg_have_v2;
	double cg_at;
	/* Which v1 hierarchy name held the group's files last (0: "cpu,cpuacct", as on most
	 * hosts; 1: "cpu" or "cpuacct", mounted apart): tried first, no failed open per sample. */
	int v1_cpu_dir, v1_acct_dir;
	/* The files read every sample, kept open: schedstats, cgroup counters. */
	struct nfm_reread *files;
	/* Threads seen by the last sample, and the run times of those that exited since. */
	struct host_gone gone;
	double listed_at;		/* when /proc/PID/task was last listed (sample_known) */
};

/* Threads of one QEMU process a sample tracks (TCG and KVM: a few; a thread pool: 64 more). */
#define MAX_THREADS 4096

/* Files a sample reads: a QEMU process's threads (a few, with KVM or TCG) and five counters. */
#define KEPT_FILES 32

int nfm_host_parse_schedstat(const char *text, uint64_t *run_ns, uint64_t *wait_ns,
			     uint64_t *slices)
{
	unsigned long long a, b, c;

	if (sscanf(text, "%llu %llu %llu", &a, &b, &c) != 3)
		return -EBADMSG;
	*run_ns = a;
	*wait_ns = b;
	*slices = c;
	return 0;
}

static void add_vcpu(struct nfm_host_vm *vm, int cpu, int tid)
{
	int i;

	if (cpu < 0 || tid <= 0 || vm->nr_vcpus >= NFM_HOST_MAX_VCPUS)
		return;
	for (i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpu[i].cpu == cpu)
			return;
	/* Keep them sorted by CPU number. */
	for (i = vm->nr_vcpus; i > 0 && vm->vcpu[i - 1].cpu > cpu; i--)
		vm->vcpu[i] = vm->vcpu[i - 1];
	vm->vcpu[i] = (struct nfm_host_vcpu){ .cpu = cpu, .tid = tid };
	vm->nr_vcpus++;
}

/* One HMP command over a connection of its own: the monitor is held only for the question. */
static int hmp_once(const char *sock, const char *cmd, char **out)
{
	int fd = nfm_qmp_connect(sock), err;

	if (fd < 0)
		return fd;
	err = nfm_qmp_hmp(fd, cmd, out);
	close(fd);
	return err;
}

/* HMP `info cpus`: "* CPU #0: thread_id=1234" per vCPU. */
static int vcpus_from_qmp(struct nfm_host_vm *vm, const char *sock)
{
	char *out = NULL, *p;
	int err = hmp_once(sock, "info cpus", &out);

	if (err < 0)
		return err;
	for (p = out; (p = strstr(p, "CPU #")); p++) {
		int cpu, tid;

		if (sscanf(p, "CPU #%d: thread_id=%d", &cpu, &tid) == 2)
			add_vcpu(vm, cpu, tid);
	}
	free(out);
	return vm->nr_vcpus ? 0 : -ENOENT;
}

/* Threads named "CPU n/TCG" or "CPU n/KVM" (QEMU's -name ...,debug-threads=on). */
static int vcpus_from_names(struct nfm_host_vm *vm)
{
	char path[512], comm[64];
	struct dirent *d;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/task", vm->proc);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((d = readdir(dir))) {
		int cpu, tid = atoi(d->d_name), end = 0;
		char kind[8];

		if (tid <= 0)
			continue;
		snprintf(path, sizeof(path), "%s/task/%d/comm", vm->proc, tid);
		if (nfm_reread(NULL, path, comm, sizeof(comm)) <= 0)
			continue;
		/* The whole name, as QEMU sets it (qemu_thread_create "CPU %d/%s"): "CPU 1/KVMx" or
		 * "CPU 1/KVM 2" is some other thread. */
		if (sscanf(comm, "CPU %d/%3[A-Z]%n", &cpu, kind, &end) == 2 &&
		    (!comm[end] || !strcmp(comm + end, "\n")) &&
		    (!strcmp(kind, "TCG") || !strcmp(kind, "KVM") || !strcmp(kind, "HVF")))
			add_vcpu(vm, cpu, tid);
	}
	closedir(dir);
	return vm->nr_vcpus ? 0 : -ENOENT;
}

/* The QMP socket on QEMU's command line, or "". */
static void qmp_of(const struct nfm_host_vm *vm, char *out, size_t size)
{
	struct nfm_qemu_cmdline *cl = calloc(1, sizeof(*cl));
	char path[512], *buf = malloc(65536);
	int fd, n = -1;

	out[0] = 0;
	snprintf(path, sizeof(path), "%s/cmdline", vm->proc);
	if (cl && buf && (fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = (int)read(fd, buf, 65536);
		close(fd);
	}
	if (n > 0 && nfm_qemu_cmdline_parse_buf(buf, (size_t)n, cl) == 0)
		snprintf(out, size, "%s", cl->qmp);
	free(cl);
	free(buf);
}

int nfm_host_vm_new(int pid, const struct nfm_host_opts *opts, struct nfm_host_vm **ret)
{
	const char *proc = "/proc", *cg = "/sys/fs/cgroup", *qmp = NULL;
	struct nfm_host_vm *vm;
	char sock[256];

	if (pid <= 0 || !ret || !nfm_opts_valid(opts, sizeof(*opts)))
		return -EINVAL;
	proc = NFM_OPTS_GET(opts, proc_root, NULL) ?: proc;
	cg = NFM_OPTS_GET(opts, cgroup_root, NULL) ?: cg;
	qmp = NFM_OPTS_GET(opts, qmp, NULL);
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	vm->pid = pid;
	vm->files = nfm_reread_new(KEPT_FILES);	/* NULL: every read opens its file */
	snprintf(vm->proc, sizeof(vm->proc), "%s/%d", proc, pid);
	snprintf(vm->cgroot, sizeof(vm->cgroot), "%s", cg);
	if (access(vm->proc, F_OK) < 0) {
		nfm_host_vm_free(vm);
		return -ENOENT;
	}
	if (qmp)
		snprintf(sock, sizeof(sock), "%s", qmp);
	else
		qmp_of(vm, sock, sizeof(sock));
	vm->how = "none";
	snprintf(vm->qmp, sizeof(vm->qmp), "%s", sock);
	if (sock[0] && vcpus_from_qmp(vm, sock) == 0)
		vm->how = "qmp";
	else if (vcpus_from_names(vm) == 0)
		vm->how = "thread names";
	*ret = vm;
	return 0;
}

int nfm_host_parse_run_state(const char *text, char *buf, size_t size)
{
	const char *p = strstr(text, "VM status: "), *e;
	size_t n;

	if (!p || !size)
		return -EBADMSG;
	p += strlen("VM status: ");
	/* "running", "paused", or "paused (REASON)" for a stop QEMU made itself: QEMU's RunState
	 * name (shutdown, guest-panicked, internal-error, io-error, suspended, prelaunch...). */
	if (!strncmp(p, "paused (", 8)) {
		p += 8;
		e = strchr(p, ')');
	} else {
		e = p + strcspn(p, " \r\n");
	}
	if (!e || e == p)
		return -EBADMSG;
	n = (size_t)(e - p);
	if (n >= size)
		n = size - 1;
	memcpy(buf, p, n);
	buf[n] = 0;
	return 0;
}

int nfm_host_vm_run_state(struct nfm_host_vm *vm, char *buf, size_t size)
{
	char *out = NULL;
	int err;

	if (!vm || !buf || !size)
		return -EINVAL;
	if (!vm->qmp[0])
		return -EOPNOTSUPP;
	err = hmp_once(vm->qmp, "info status", &out);
	if (err < 0)
		return err;
	err = nfm_host_parse_run_state(out, buf, size);
	free(out);
	return err;
}

void nfm_host_vm_free(struct nfm_host_vm *vm)
{
	if (vm) {
		nfm_reread_free(vm->files);
		host_gone_free(&vm->gone);
	}
	free(vm);
}

int nfm_host_vm_vcpus(const struct nfm_host_vm *vm)
{
	return vm->nr_vcpus;
}

const char *nfm_host_vm_vcpus_how(const struct nfm_host_vm *vm)
{
	return vm->how;
}

/* "name value" lines: the value of name, or -ENOENT. */
static int keyed(const char *text, const char *name, uint64_t *ret)
{
	size_t l = strlen(name);
	const char *p;

	for (p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (!strncmp(p, name, l) && p[l] == ' ') {
			*ret = strtoull(p + l + 1, NULL, 10);
			return 0;
		}
	}
	return -ENOENT;
}

static int read_u64(struct nfm_host_vm *vm, const char *dir, const char *file, uint64_t *ret)
{
	char path[768], buf[64];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (nfm_reread(vm->files, path, buf, sizeof(buf)) <= 0)
		return -ENOENT;
	*ret = strtoull(buf, NULL, 10);
	return 0;
}

#define TASKS_EVERY_S 10.0

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Count the group's tasks, and whether all of them are threads of pid. Read again every
 * TASKS_EVERY_S: the kernel builds the list of a group's threads for each read, and a shared
 * group (QEMU started from a shell) holds hundreds; membership changes when VMs come and go.
 */
static void group_tasks(struct nfm_host_vm *vm, const char *dir, struct nfm_host_cgroup *cg)
{
	char path[768], line[32];
	double now = mono_s();
	FILE *f;

	if (vm->tasks_at && now - vm->tasks_at < TASKS_EVERY_S && !strcmp(vm->tasks_dir, dir)) {
		cg->nr_tasks = vm->tasks_nr;
		cg->only_vm = vm->tasks_only_vm;
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, cg->version == 1 ? "tasks" : "cgroup.threads");
	f = fopen(path, "re");
	if (!f)
		return;
	cg->only_vm = true;
	while (fgets(line, sizeof(line), f)) {
		int tid = atoi(line);

		cg->nr_tasks++;
		if (!cg->only_vm)
			continue;	/* one stranger settles it */
		snprintf(path, sizeof(path), "%s/task/%d", vm->proc, tid);
		if (access(path, F_OK) < 0)
			cg->only_vm = false;
	}
	fclose(f);
	if (!cg->nr_tasks)
		cg->only_vm = false;
	snprintf(vm->tasks_dir, sizeof(vm->tasks_dir), "%s", dir);
	vm->tasks_at = now;
	vm->tasks_nr = cg->nr_tasks;
	vm->tasks_only_vm = cg->only_vm;
}

static void read_v1(struct nfm_host_vm *vm, const char *cpu_path, const char *acct_path,
		    struct nfm_host_cgroup *cg)
{
	static const char *const cpu_dirs[] = { "cpu,cpuacct", "cpu" };
	static const char *const acct_dirs[] = { "cpu,cpuacct", "cpuacct" };
	char dir[600], stat[700];
	uint64_t v;
	int i;

	cg->version = 1;
	snprintf(cg->path, sizeof(cg->path), "%s", cpu_path ? cpu_path : acct_path);
	for (int k = 0; k < 2 && acct_path; k++) {
		i = k ^ vm->v1_acct_dir;	/* the one that held the files last first */
		snprintf(dir, sizeof(dir), "%s/%s%s", vm->cgroot, acct_dirs[i], acct_path);
		if (read_u64(vm, dir, "cpuacct.usage", &cg->usage_ns) == 0) {
			cg->have_usage = true;
			vm->v1_acct_dir = i;
			break;
		}
	}
	for (int k = 0; k < 2 && cpu_path; k++) {
		i = k ^ vm->v1_cpu_dir;
		snprintf(dir, sizeof(dir), "%s/%s%s", vm->cgroot, cpu_dirs[i], cpu_path);
		snprintf(stat, sizeof(stat), "%s/cpu.stat", dir);
		if (nfm_reread(vm->files, stat, stat, sizeof(stat)) <= 0)
			continue;
		vm->v1_cpu_dir = i;
		cg->have_stat = keyed(stat, "nr_periods", &cg->nr_periods) == 0 &&
				keyed(stat, "nr_throttled", &cg->nr_throttled) == 0 &&
				keyed(stat, "throttled_time", &cg->throttled_ns) == 0;
		if (read_u64(vm, dir, "cpu.cfs_period_us", &cg->period_us) == 0 &&
		    read_u64(vm, dir, "cpu.cfs_quota_us", &v) == 0) {
			cg->have_quota = true;
			cg->quota_us = (int64_t)v;	/* "-1" parses to all ones: -1 */
		}
		group_tasks(vm, dir, cg);
		break;
	}
}

static void read_v2(struct nfm_host_vm *vm, const char *path, struct nfm_host_cgroup *cg)
{
	static const char *const roots[] = { "", "/unified" };
	char dir[600], buf[700], *end;
	uint64_t us;
	size_t i;

	for (i = 0; i < 2; i++) {
		snprintf(dir, sizeof(dir), "%s%s%s/cpu.stat", vm->cgroot, roots[i], path);
		if (nfm_reread(vm->files, dir, buf, sizeof(buf)) > 0)
			break;
	}
	if (i == 2)
		return;
	cg->version = 2;
	snprintf(cg->path, sizeof(cg->path), "%s", path);
	if (keyed(buf, "usage_usec", &us) == 0) {
		cg->have_usage = true;
		cg->usage_ns = us * 1000;
	}
	cg->have_stat = keyed(buf, "nr_periods", &cg->nr_periods) == 0 &&
			keyed(buf, "nr_throttled", &cg->nr_throttled) == 0 &&
			keyed(buf, "throttled_usec", &us) == 0;
	if (cg->have_stat)
		cg->throttled_ns = us * 1000;
	snprintf(dir, sizeof(dir), "%s%s%s", vm->cgroot, roots[i], path);
	snprintf(buf, sizeof(buf), "%s/cpu.max", dir);
	if (nfm_reread(vm->files, buf, buf, sizeof(buf)) > 0) {
		cg->have_quota = true;
		cg->quota_us = strncmp(buf, "max", 3) ? strtoll(buf, &end, 10) : -1;
		cg->period_us = strtoull(strchr(buf, ' ') ? strchr(buf, ' ') + 1 : "0", NULL, 10);
	}
	group_tasks(vm, dir, cg);
}

/*
 * /proc/PID/cgroup: "N:controllers:path"; the v1 cpu and cpuacct lines, else v2's "0::path".
 * Read again every TASKS_EVERY_S (a VM moved to another group, as libvirt does at start, is
 * followed within that): the counters are read every sample, the names need not be.
 */
static void read_cgroup(struct nfm_host_vm *vm, struct nfm_host_cgroup *cg)
{
	char path[512], line[1024], *cpu = vm->cg_cpu, *acct = vm->cg_acct, *v2 = vm->cg_v2;
	bool have_v2 = false, have_cpu = false, have_acct = false;
	double now = mono_s();
	FILE *f;

	if (vm->cg_at && now - vm->cg_at < TASKS_EVERY_S)
		goto read;
	snprintf(path, sizeof(path), "%s/cgroup", vm->proc);
	f = fopen(path, "re");
	if (!f)
		return;
	cpu[0] = acct[0] = v2[0] = 0;
	while (fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':'), *p = c ? strchr(c + 1, ':') : NULL, *tok, *save;

		if (!p)
			continue;
		*p++ = 0;
		p[strcspn(p, "\n")] = 0;
		if (!strcmp(p, "/"))
			p = (char *)"";
		if (!c[1]) {
			snprintf(v2, sizeof(vm->cg_v2), "%s", p);
			have_v2 = true;
			continue;
		}
		for (tok = strtok_r(c + 1, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			if (!strcmp(tok, "cpu")) {
				snprintf(cpu, sizeof(vm->cg_cpu), "%s", p);
				have_cpu = true;
			} else if (!strcmp(tok, "cpuacct")) {
				snprintf(acct, sizeof(vm->cg_acct), "%s", p);
				have_acct = true;
			}
		}
	}
	fclose(f);
	vm->cg_have_cpu = have_cpu;
	vm->cg_have_acct = have_acct;
	vm->cg_have_v2 = have_v2;
	vm->cg_at = now;
read:
	have_cpu = vm->cg_have_cpu;
	have_acct = vm->cg_have_acct;
	have_v2 = vm->cg_have_v2;
	if (have_cpu || have_acct)
		read_v1(vm, have_cpu ? cpu : NULL, have_acct ? acct : NULL, cg);
	if (!cg->version && have_v2)
		read_v2(vm, v2, cg);
}

/* One thread's schedstat into the sample; false when the thread does not answer (gone). */
static bool sample_thread(struct nfm_host_vm *vm, int tid, struct nfm_host_sample *s,
			  struct host_thr *thr, int *nthr)
{
	char path[512], buf[128];
	uint64_t run, wait, slices;

	snprintf(path, sizeof(path), "%s/task/%d/schedstat", vm->proc, tid);
	if (nfm_reread(vm->files, path, buf, sizeof(buf)) <= 0 ||
	    nfm_host_parse_schedstat(buf, &run, &wait, &slices) < 0)
		return false;
	s->nr_threads++;
	s->process_run_ns += run;
	s->process_wait_ns += wait;
	if (thr && *nthr < MAX_THREADS)
		thr[(*nthr)++] = (struct host_thr){ tid, run, wait };
	for (int i = 0; i < s->nr_vcpus; i++) {
		if (s->vcpu[i].tid == tid) {
			s->vcpu[i].run_ns = run;
			s->vcpu[i].wait_ns = wait;
			s->vcpu[i].slices = slices;
		}
	}
	return true;
}

/* The process's thread count (/proc/PID/stat's num_threads), or -1. */
static int stat_threads(struct nfm_host_vm *vm)
{
	char path[300], buf[1024], *p;
	int n = -1;

	snprintf(path, sizeof(path), "%s/stat", vm->proc);
	if (nfm_reread(vm->files, path, buf, sizeof(buf)) <= 0 || !(p = strrchr(buf, ')')))
		return -1;
	/* after "pid (comm)": state is field 3, num_threads field 20 */
	for (int field = 3; field <= 20 && p; field++) {
		p = strchr(p + 1, ' ');
		if (p && field == 20)
			n = atoi(p + 1);
	}
	return n > 0 ? n : -1;
}

/*
 * The last sample's threads read again, without listing /proc/PID/task (an open, a directory
 * read and a close: a twentieth of a daemon's CPU at 50 VMs): only while that list still is the
 * process's, i.e. each of its threads answers and the process has as many (a set of n live
 * threads that holds n known live ones is those); listed anew every RELIST_S regardless.
 */
#define RELIST_S 10.0

static bool sample_known(struct nfm_host_vm *vm, struct nfm_host_sample *s,
			 struct host_thr *thr, int *nthr)
{
	struct nfm_host_sample keep = *s;
	int n = vm->gone.nr_last;

	if (!n || !thr || vm->listed_at <= 0 || mono_s() - vm->listed_at >= RELIST_S ||
	    stat_threads(vm) != n)
		return false;
	for (int i = 0; i < n; i++)
		if (!sample_thread(vm, vm->gone.last[i].tid, s, thr, nthr)) {
			*s = keep;	/* one gone: list them */
			*nthr = 0;
			return false;
		}
	return true;
}

int nfm_host_vm_sample(struct nfm_host_vm *vm, struct nfm_host_sample *ret)
{
	struct nfm_host_sample *s = ret;
	char path[512];
	struct host_thr *thr;
	struct timespec ts;
	struct dirent *d;
	int nthr = 0;
	DIR *dir;

	memset(s, 0, sizeof(*s));
	clock_gettime(CLOCK_MONOTONIC, &ts);
	s->mono_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	thr = malloc(MAX_THREADS * sizeof(*thr));
	s->nr_vcpus = vm->nr_vcpus;
	memcpy(s->vcpu, vm->vcpu, sizeof(s->vcpu[0]) * (size_t)vm->nr_vcpus);
	if (!sample_known(vm, s, thr, &nthr)) {
		snprintf(path, sizeof(path), "%s/task", vm->proc);
		dir = opendir(path);
		if (!dir) {
			free(thr);
			return -ENOENT;
		}
		while ((d = readdir(dir))) {
			int tid = atoi(d->d_name);

			if (tid > 0)
				sample_thread(vm, tid, s, thr, &nthr);
		}
		closedir(dir);
		vm->listed_at = mono_s();
	}
	/* the exited threads' time stays in the totals (counters). Past MAX_THREADS a live thread
	 * could look gone and count twice: no update then (an exit in that sample is lost). */
	if (thr && s->nr_threads <= MAX_THREADS)
		host_gone_update(&vm->gone, thr, nthr);
	free(thr);
	s->process_run_ns += vm->gone.run_ns;
	s->process_wait_ns += vm->gone.wait_ns;
	read_cgroup(vm, &s->cg);
	nfm_reread_round_end(vm->files);
	return 0;
}
