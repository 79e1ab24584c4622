// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The host's side of a VM over a fake /proc and /sys/fs/cgroup: vCPU threads by name, schedstat
 * sums, cgroup v1 (cpu,cpuacct) and v2 figures; and the attribution of host time to processes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include <nfm/host.h>

static char root[] = "/tmp/nfm-test-host-XXXXXX";
static char proc[300], cg[300];

static void put(const char *rel, const char *text)
{
	char path[600], *p;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = 0;
		mkdir(path, 0755);
		*p = '/';
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void thread(int pid, int tid, const char *comm, const char *schedstat)
{
	char rel[128];

	snprintf(rel, sizeof(rel), "proc/%d/task/%d/comm", pid, tid);
	put(rel, comm);
	snprintf(rel, sizeof(rel), "proc/%d/task/%d/schedstat", pid, tid);
	put(rel, schedstat);
}

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(root));
	snprintf(proc, sizeof(proc), "%s/proc", root);
	snprintf(cg, sizeof(cg), "%s/cg", root);
	/* VM 100: two vCPU threads by name, a main thread and an I/O thread; cgroup v1. */
	put("proc/100/cmdline", "qemu-system-x86_64\0-name\0vm1,debug-threads=on\0");
	put("proc/100/cgroup", "12:pids:/\n4:cpu,cpuacct:/nfm/vm1\n1:name=systemd:/x\n0::/x\n");
	thread(100, 100, "qemu-system-x86\n", "5000 10 3\n");
	thread(100, 101, "CPU 1/TCG\n", "300000000 2000 40\n");
	thread(100, 102, "CPU 0/TCG\n", "700000000 1000 50\n");
	thread(100, 103, "worker\n", "1000 0 1\n");
	put("cg/cpu,cpuacct/nfm/vm1/cpuacct.usage", "1000006000\n");
	put("cg/cpu,cpuacct/nfm/vm1/cpu.stat", "nr_periods 120\nnr_throttled 80\n"
		"throttled_time 9000000000\nnr_bursts 0\nburst_time 0\n");
	put("cg/cpu,cpuacct/nfm/vm1/cpu.cfs_quota_us", "30000\n");
	put("cg/cpu,cpuacct/nfm/vm1/cpu.cfs_period_us", "100000\n");
	put("cg/cpu,cpuacct/nfm/vm1/tasks", "100\n101\n102\n103\n");
	/* VM 200: no thread names; cgroup v2 under the hybrid "unified" mount, no quota, a task
	 * that is not the VM's in the group. */
	put("proc/200/cmdline", "qemu-system-x86_64\0");
	put("proc/200/cgroup", "0::/machine/vm2\n");
	thread(200, 200, "qemu-system-x86\n", "100 0 1\n");
	thread(200, 201, "qemu-system-x86\n", "200 0 1\n");
	put("cg/unified/machine/vm2/cpu.stat", "usage_usec 2500\nuser_usec 2000\nsystem_usec 500\n"
		"nr_periods 0\nnr_throttled 0\nthrottled_usec 0\n");
	put("cg/unified/machine/vm2/cpu.max", "max 100000\n");
	put("cg/unified/machine/vm2/cgroup.threads", "200\n201\n999\n");
	/* VM 400: a KVM guest (the path this host cannot run: no /dev/kvm), four vCPU threads named
	 * "CPU n/KVM" in another order than their tids, and threads that only look like one. */
	put("proc/400/cmdline", "qemu-system-x86_64\0-accel\0kvm\0");
	put("proc/400/cgroup", "0::/\n");
	thread(400, 400, "qemu-system-x86\n", "1000 0 1\n");
	thread(400, 410, "CPU 3/KVM\n", "400000000 40 4\n");
	thread(400, 411, "CPU 0/KVM\n", "100000000 10 1\n");
	thread(400, 412, "CPU 2/KVM\n", "300000000 30 3\n");
	thread(400, 413, "CPU 1/KVM\n", "200000000 20 2\n");
	thread(400, 414, "CPU 4/KVMX\n", "7 0 1\n");
	thread(400, 415, "CPU -1/KVM\n", "7 0 1\n");
	thread(400, 416, "CPU 5/kvm\n", "7 0 1\n");
	thread(400, 417, "vhost-400\n", "50000000 0 9\n");
	return 0;
}

static int teardown(void **state)
{
	char cmd[400];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static struct nfm_host_opts opts(void)
{
	return (struct nfm_host_opts){ .sz = sizeof(struct nfm_host_opts), .proc_root = proc,
				       .cgroup_root = cg, .qmp = "" };
}

static void test_v1_named_vcpus(void **state)
{
	struct nfm_host_opts o = opts();
	struct nfm_host_sample *s = malloc(sizeof(*s));
	struct nfm_host_vm *vm;

	(void)state;
	assert_int_equal(nfm_host_vm_new(100, &o, &vm), 0);
	assert_int_equal(nfm_host_vm_vcpus(vm), 2);
	assert_string_equal(nfm_host_vm_vcpus_how(vm), "thread names");
	assert_int_equal(nfm_host_vm_sample(vm, s), 0);
	assert_int_equal(s->nr_threads, 4);
	assert_int_equal(s->process_run_ns, 1000006000ull);
	assert_int_equal(s->process_wait_ns, 3010);
	assert_int_equal(s->nr_vcpus, 2);
	assert_int_equal(s->vcpu[0].cpu, 0);
	assert_int_equal(s->vcpu[0].tid, 102);
	assert_int_equal(s->vcpu[0].run_ns, 700000000ull);
	assert_int_equal(s->vcpu[0].wait_ns, 1000);
	assert_int_equal(s->vcpu[0].slices, 50);
	assert_int_equal(s->vcpu[1].cpu, 1);
	assert_int_equal(s->vcpu[1].run_ns, 300000000ull);
	assert_int_equal(s->cg.version, 1);
	assert_string_equal(s->cg.path, "/nfm/vm1");
	assert_true(s->cg.have_usage && s->cg.have_stat && s->cg.have_quota);
	assert_int_equal(s->cg.usage_ns, 1000006000ull);
	assert_int_equal(s->cg.nr_periods, 120);
	assert_int_equal(s->cg.nr_throttled, 80);
	assert_int_equal(s->cg.throttled_ns, 9000000000ull);
	assert_int_equal(s->cg.quota_us, 30000);
	assert_int_equal(s->cg.period_us, 100000);
	assert_int_equal(s->cg.nr_tasks, 4);
	assert_true(s->cg.only_vm);
	assert_true(s->mono_ns > 0);
	nfm_host_vm_free(vm);
	free(s);
}

static void test_v2_unnamed(void **state)
{
	struct nfm_host_opts o = opts();
	struct nfm_host_sample *s = malloc(sizeof(*s));
	struct nfm_host_vm *vm;

	(void)state;
	assert_int_equal(nfm_host_vm_new(200, &o, &vm), 0);
	assert_int_equal(nfm_host_vm_vcpus(vm), 0);
	assert_string_equal(nfm_host_vm_vcpus_how(vm), "none");
	assert_int_equal(nfm_host_vm_sample(vm, s), 0);
	assert_int_equal(s->process_run_ns, 300);
	assert_int_equal(s->cg.version, 2);
	assert_string_equal(s->cg.path, "/machine/vm2");
	assert_true(s->cg.have_usage);
	assert_int_equal(s->cg.usage_ns, 2500000ull);
	assert_true(s->cg.have_stat);
	assert_int_equal(s->cg.nr_throttled, 0);
	assert_true(s->cg.have_quota);
	assert_int_equal(s->cg.quota_us, -1);
	assert_int_equal(s->cg.period_us, 100000);
	assert_int_equal(s->cg.nr_tasks, 3);
	assert_false(s->cg.only_vm);	/* task 999 is not the VM's */
	memset(s, 0, sizeof(*s));
	assert_int_equal(nfm_host_vm_sample(vm, s), 0);	/* the count kept a while: the same */
	assert_int_equal(s->cg.nr_tasks, 3);
	assert_false(s->cg.only_vm);
	assert_int_equal(s->cg.usage_ns, 2500000ull);
	nfm_host_vm_free(vm);
	free(s);
}

/*
 * A second and third sample of the same VM read the files as they are then (they stay open
 * between samples): changed counters, a thread gone, a new one; v1 with cpu and cpuacct mounted
 * apart (the first hierarchy tried, "cpu,cpuacct", does not hold them).
 */
static void test_resample(void **state)
{
	struct nfm_host_opts o = opts();
	struct nfm_host_sample *s = malloc(sizeof(*s));
	struct nfm_host_vm *vm;
	char path[700];

	(void)state;
	put("proc/500/cmdline", "qemu-system-x86_64\0");
	put("proc/500/cgroup", "3:cpuacct:/vm5\n2:cpu:/vm5\n0::/\n");
	thread(500, 500, "qemu-system-x86\n", "100 1 1\n");
	thread(500, 501, "CPU 0/TCG\n", "1000 2 1\n");
	thread(500, 502, "worker\n", "10 0 1\n");
	put("cg/cpuacct/vm5/cpuacct.usage", "1110\n");
	put("cg/cpu/vm5/cpu.stat", "nr_periods 1\nnr_throttled 0\nthrottled_time 0\n");
	put("cg/cpu/vm5/cpu.cfs_quota_us", "-1\n");
	put("cg/cpu/vm5/cpu.cfs_period_us", "100000\n");
	put("cg/cpu/vm5/tasks", "500\n501\n502\n");
	assert_int_equal(nfm_host_vm_new(500, &o, &vm), 0);
	assert_int_equal(nfm_host_vm_sample(vm, s), 0);
	assert_int_equal(s->nr_threads, 3);
	assert_int_equal(s->process_run_ns, 1110);
	assert_int_equal(s->cg.usage_ns, 1110);
	assert_int_equal(s->cg.nr_periods, 1);
	assert_int_equal(s->cg.quota_us, -1);

	put("proc/500/task/501/schedstat", "5000 2 9\n");
	put("cg/cpuacct/vm5/cpuacct.usage", "5110\n");
	put("cg/cpu/vm5/cpu.stat", "nr_periods 7\nnr_throttled 2\nthrottled_time 30\n");
	put("cg/cpu/vm5/cpu.cfs_quota_us", "50000\n");
	assert_int_equal(nfm_host_vm_sample(vm, s), 0);
	assert_int_equal(s->process_run_ns, 5110);
	assert_int_equal(s->vcpu[0].run_ns, 5000);
	assert_int_equal(s->vcpu[0].slices, 9);
	assert_int_equal(s->cg.usage_ns, 5110);
	assert_int_equal(s->cg.nr_periods, 7);
	assert_int_equal(s->cg.nr_throttled, 2);
	assert_int_equal(s->cg.throttled_ns, 30);
	assert_int_equal(s->cg.quota_us, 50000);

	snprintf(path, sizeof(path), "rm -r '%s/proc/500/task/502'", root);
	assert_int_equal(system(path), 0);
	thread(500, 503, "worker\n", "7 0 1\n");
	assert_int_equal(nfm_host_vm_sample(vm, s), 0);
	assert_int_equal(s->nr_threads, 3);
	/* the exited worker's last reading stays in the total: it only grows */
	assert_int_equal(s->process_run_ns, 100 + 5000 + 10 + 7);
	/* a new thread under a reused tid (less run time than the old one had): both count */
	thread(500, 503, "worker\n", "3 0 1\n");
	assert_int_equal(nfm_host_vm_sample(vm, s), 0);
	assert_int_equal(s->process_run_ns, 100 + 5000 + 10 + 7 + 3);
	nfm_host_vm_free(vm);
	free(s);
}

/* /proc/PID/stat with num_threads (field 20) = n. */
static void stat_threads(int pid, int n)
{
	char rel[64], text[256];

	snprintf(rel, sizeof(rel), "proc/%d/stat", pid);
	snprintf(text, sizeof(text), "%d (qemu) x) S 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 %d 0 5 9\n",
		 pid, n);
	put(rel, text);
}

/*
 * Between listings of /proc/PID/task a sample reads the last list again while it stands: a
 * thread that stops answering or a thread count that differs lists them anew. (A tmpfs file
 * kept open stays readable after rm; a thread gone is an emptied schedstat here.)
 */
static void test_relist_when_threads_change(void **state)
{
	struct nfm_host_opts o = opts();
	struct nfm_host_sample *s = malloc(sizeof(*s));
	struct nfm_host_vm *vm;
	char cmd[700];

	(void)state;
	put("proc/600/cmdline", "qemu-system-x86_64\0");
	put("proc/600/cgroup", "0::/\n");
	thread(600, 600, "qemu-system-x86\n", "100 1 1\n");
	thread(600, 601, "CPU 0/TCG\n", "1000 2 1\n");
	stat_threads(600, 2);
	assert_int_equal(nfm_host_vm_new(600, &o, &vm), 0);
	assert_int_equal(nfm_host_vm_sample(vm, s), 0);
	assert_int_equal(s->nr_threads, 2);
	assert_int_equal(s->process_run_ns, 1100);
	/* the same two, read again */
	put("proc/600/task/601/schedstat", "3000 2 5\n");
	assert_int_equal(nfm_host_vm_sample(vm, s), 0);
	assert_int_equal(s->nr_threads, 2);
	assert_int_equal(s->process_run_ns, 3100);
	assert_int_equal(s->vcpu[0].run_ns, 3000);
	/* a third thread: the count differs, listed */
	thread(600, 602, "worker\n", "50 0 1\n");
	stat_threads(600, 3);
	assert_int_equal(nfm_host_vm_sample(vm, s), 0);
	assert_int_equal(s->nr_threads, 3);
	assert_int_equal(s->process_run_ns, 3150);
	/* the worker exits and another starts: same count, the gone one does not answer */
	put("proc/600/task/602/schedstat", "");
	snprintf(cmd, sizeof(cmd), "rm -r '%s/proc/600/task/602'", root);
	assert_int_equal(system(cmd), 0);
	thread(600, 603, "worker\n", "7 0 1\n");
	assert_int_equal(nfm_host_vm_sample(vm, s), 0);
	assert_int_equal(s->nr_threads, 3);
	assert_int_equal(s->process_run_ns, 3000 + 100 + 50 + 7);	/* the exited one's time kept */
	nfm_host_vm_free(vm);
	free(s);
}

static void test_missing(void **state)
{
	struct nfm_host_opts o = opts();
	struct nfm_host_vm *vm = NULL;

	(void)state;
	assert_int_equal(nfm_host_vm_new(300, &o, &vm), -ENOENT);
	assert_null(vm);
	assert_int_equal(nfm_host_vm_new(0, &o, &vm), -EINVAL);
}

static void test_schedstat(void **state)
{
	uint64_t r, w, n;

	(void)state;
	assert_int_equal(nfm_host_parse_schedstat("18446744073709551615 2 3\n", &r, &w, &n), 0);
	assert_true(r == UINT64_MAX && w == 2 && n == 3);
	assert_int_equal(nfm_host_parse_schedstat("12 x", &r, &w, &n), -EBADMSG);
}

/* HMP `info status` as QEMU prints it for each kind of stop; the monitor is never asked here
 * (opts.qmp is ""), which nfm_host_vm_run_state reports as -EOPNOTSUPP. */
static void test_run_state(void **state)
{
	struct nfm_host_opts o = opts();
	struct nfm_host_vm *vm = NULL;
	char b[32];

	(void)state;
	assert_int_equal(nfm_host_parse_run_state("VM status: running\r\n", b, sizeof(b)), 0);
	assert_string_equal(b, "running");
	assert_int_equal(nfm_host_parse_run_state("VM status: paused\r\n", b, sizeof(b)), 0);
	assert_string_equal(b, "paused");
	assert_int_equal(nfm_host_parse_run_state("VM status: paused (shutdown)\r\n", b, sizeof(b)), 0);
	assert_string_equal(b, "shutdown");
	assert_int_equal(nfm_host_parse_run_state("VM status: paused (guest-panicked)", b, 8), 0);
	assert_string_equal(b, "guest-p");
	assert_int_equal(nfm_host_parse_run_state("garbage", b, sizeof(b)), -EBADMSG);
	assert_int_equal(nfm_host_parse_run_state("VM status: paused (", b, sizeof(b)), -EBADMSG);
	assert_int_equal(nfm_host_vm_new(100, &o, &vm), 0);
	assert_int_equal(nfm_host_vm_run_state(vm, b, sizeof(b)), -EOPNOTSUPP);
	nfm_host_vm_free(vm);
}

static void test_attribute_per_cpu(void **state)
{
	/* CPU 0: 600 ms host; p0 ran 300 ms there, p1 100 ms. CPU 1: 200 ms host, p2 50 ms.
	 * 100 ms of emulator threads shared by guest time 450 ms. */
	uint64_t vcpu[2] = { 600000000, 200000000 };
	struct nfm_host_share p[3] = { { 0, 300000000, 0 }, { 0, 100000000, 0 }, { 1, 50000000, 0 } };
	double left = nfm_host_attribute(vcpu, 2, 100000000, p, 3);

	(void)state;
	assert_true(left == 0);
	assert_float_equal(p[0].host_ns, 450e6 + 100e6 * 300 / 450, 1);
	assert_float_equal(p[1].host_ns, 150e6 + 100e6 * 100 / 450, 1);
	assert_float_equal(p[2].host_ns, 200e6 + 100e6 * 50 / 450, 1);
	assert_float_equal(p[0].host_ns + p[1].host_ns + p[2].host_ns, 900e6, 1);
}

static void test_kvm_named_vcpus(void **state)
{
	struct nfm_host_opts o = opts();
	struct nfm_host_sample *s = malloc(sizeof(*s)), *s1 = malloc(sizeof(*s1));
	struct nfm_host_vm *vm;
	uint64_t d[4];
	int i;

	(void)state;
	assert_int_equal(nfm_host_vm_new(400, &o, &vm), 0);
	assert_int_equal(nfm_host_vm_vcpus(vm), 4);
	assert_string_equal(nfm_host_vm_vcpus_how(vm), "thread names");
	assert_int_equal(nfm_host_vm_sample(vm, s), 0);
	assert_int_equal(s->nr_vcpus, 4);
	for (i = 0; i < 4; i++) {
		/* Sorted by guest CPU, each with its own thread: CPU i is tid 411, 413, 412, 410. */
		static const int tids[4] = { 411, 413, 412, 410 };

		assert_int_equal(s->vcpu[i].cpu, i);
		assert_int_equal(s->vcpu[i].tid, tids[i]);
		assert_int_equal(s->vcpu[i].run_ns, (uint64_t)(i + 1) * 100000000ull);
		assert_int_equal(s->vcpu[i].wait_ns, (uint64_t)(i + 1) * 10);
	}
	assert_int_equal(s->nr_threads, 9);
	assert_int_equal(s->process_run_ns, 1000000000ull + 1000 + 21 + 50000000);
	/* An interval later: each vCPU ran 10 ms more; the per-vCPU deltas feed the attribution. */
	for (i = 0; i < 4; i++) {
		static const int tids[4] = { 411, 413, 412, 410 };
		char rel[64], text[64];

		snprintf(rel, sizeof(rel), "proc/400/task/%d/schedstat", tids[i]);
		snprintf(text, sizeof(text), "%llu 0 9\n", (i + 1) * 100000000ull + 10000000ull * (i + 1));
		put(rel, text);
	}
	assert_int_equal(nfm_host_vm_sample(vm, s1), 0);
	for (i = 0; i < 4; i++)
		d[i] = s1->vcpu[i].run_ns - s->vcpu[i].run_ns;
	{
		/* A burner pinned to each of CPUs 1 and 3, a light process on CPU 3: the host time of
		 * CPU 1 goes to its burner alone, CPU 3's by guest time; CPUs 0 and 2 ran nothing
		 * listed, so their time is shared by all in proportion to guest time. */
		struct nfm_host_share p[3] = { { 1, 20000000, 0 }, { 3, 30000000, 0 },
					       { 3, 10000000, 0 } };

		assert_true(nfm_host_attribute(d, 4, 0, p, 3) == 0);
		assert_float_equal(p[0].host_ns, 20e6 + 40e6 * 20 / 60, 1);
		assert_float_equal(p[1].host_ns, 40e6 * 30 / 40 + 40e6 * 30 / 60, 1);
		assert_float_equal(p[2].host_ns, 40e6 * 10 / 40 + 40e6 * 10 / 60, 1);
	}
	nfm_host_vm_free(vm);
	free(s);
	free(s1);
}

static void test_attribute_fallbacks(void **state)
{
	uint64_t vcpu[2] = { 600000000, 200000000 };
	struct nfm_host_share p[2] = { { -1, 300000000, 0 }, { 1, 100000000, 0 } };
	struct nfm_host_share idle[1] = { { 0, 0, 0 } };

	(void)state;
	/* One CPU unknown: everything by the VM-wide share. */
	assert_true(nfm_host_attribute(vcpu, 2, 0, p, 2) == 0);
	assert_float_equal(p[0].host_ns, 600e6, 1);
	assert_float_equal(p[1].host_ns, 200e6, 1);
	/* CPU 0's time with nobody on CPU 0 goes to everyone (here: p1 only). */
	p[0] = (struct nfm_host_share){ 1, 0, 0 };
	assert_true(nfm_host_attribute(vcpu, 2, 0, p, 2) == 0);
	assert_float_equal(p[1].host_ns, 800e6, 1);
	/* No guest time at all: nothing attributed, all of it returned. */
	assert_float_equal(nfm_host_attribute(vcpu, 2, 5, idle, 1), 800000005.0, 1);
	assert_float_equal(idle[0].host_ns, 0, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v1_named_vcpus),
		cmocka_unit_test(test_v2_unnamed),
		cmocka_unit_test(test_kvm_named_vcpus),
		cmocka_unit_test(test_resample),
		cmocka_unit_test(test_relist_when_threads_change),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_schedstat),
		cmocka_unit_test(test_run_state),
		cmocka_unit_test(test_attribute_per_cpu),
		cmocka_unit_test(test_attribute_fallbacks),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
