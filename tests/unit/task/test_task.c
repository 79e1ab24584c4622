// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The process walkers over synthetic guest memory (a buf source, a System.map, BTF built with
 * libbpf): exact results on a good task ring, and bounded walks with documented errors on
 * hostile ones (cycles, pointers into nowhere, huge counts, a looping maple tree).
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
#include <cmocka.h>
#include <bpf/btf.h>

#include "core/context.h"
#include "walk/maple.h"
#include "source/source.h"
#include <nfm/task.h>

#define MEM_SIZE (1u << 20)
#define PO 0xffff888000000000ull	/* direct map base: kva = PO + pa */
#define KV(pa) (PO + (uint64_t)(pa))

#define INIT_TASK 0x10000u
#define TASK(i) (0x11000u + (i) * 0x1000u)
#define SIGNAL(i) (0x20000u + (i) * 0x400u)
#define CRED 0x30000u
#define MM 0x40000u
#define NODE 0x60000u

/* Layout of the synthetic structs (offsets in bytes). */
enum { T_TASKS = 0, T_PID = 16, T_TGID = 20, T_STATE = 24, T_EXIT = 28, T_FLAGS = 32, T_COMM = 40,
       T_PARENT = 56, T_CRED = 64, T_SIGNAL = 72, T_MM = 80, T_SPRIO = 88, T_PRIO = 92,
       T_POLICY = 96, T_RTPRIO = 100, T_UTIME = 104, T_STIME = 112, T_SE = 120, T_START = 128,
       T_PREV = 136, T_THREAD = 152, T_FILES = 168, T_SIZE = 512 };
enum { S_NR = 0, S_HEAD = 8, S_UTIME = 24, S_STIME = 32, S_SUM = 40, S_PREV = 48, S_SIZE = 256 };
enum { M_MT = 0, M_PGD = 24, M_TOTAL = 32, M_RSS = 40, M_ARGS = 72, M_ARGE = 80, M_ENVS = 88,
       M_ENVE = 96, M_SBRK = 104, M_BRK = 112, M_SSTACK = 120, M_MAPC = 128, M_SIZE = 256 };

static uint8_t *mem;
static struct nfm_source *src;
static struct nfm_ctx *ctx;

static void put64(uint32_t pa, uint64_t v) { memcpy(mem + pa, &v, 8); }
static void put32(uint32_t pa, uint32_t v) { memcpy(mem + pa, &v, 4); }

static void field(struct btf *b, const char *name, int type, int off)
{
	assert_int_equal(btf__add_field(b, name, type, off * 8, 0), 0);
}

static struct btf *make_btf(void)
{
	struct btf *b = btf__new_empty();
	int ul, in, u16, ch, comm, lh, se, prev, rss, mt, e;

	ul = btf__add_int(b, "unsigned long", 8, 0);
	in = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
	u16 = btf__add_int(b, "unsigned short", 2, 0);
	ch = btf__add_int(b, "char", 1, BTF_INT_CHAR);
	(void)u16;
	comm = btf__add_array(b, in, ch, 16);
	rss = btf__add_array(b, in, ul, 4);
	lh = btf__add_struct(b, "list_head", 16);
	field(b, "next", ul, 0);
	field(b, "prev", ul, 8);
	se = btf__add_struct(b, "sched_entity", 8);
	field(b, "sum_exec_runtime", ul, 0);
	prev = btf__add_struct(b, "prev_cputime", 16);
	field(b, "utime", ul, 0);
	field(b, "stime", ul, 8);
	mt = btf__add_struct(b, "maple_tree", 24);
	field(b, "ma_flags", in, 0);
	field(b, "ma_root", ul, 8);

	btf__add_struct(b, "task_struct", T_SIZE);
	field(b, "tasks", lh, T_TASKS);
	field(b, "pid", in, T_PID);
	field(b, "tgid", in, T_TGID);
	field(b, "__state", in, T_STATE);
	field(b, "exit_state", in, T_EXIT);
	field(b, "flags", in, T_FLAGS);
	field(b, "comm", comm, T_COMM);
	field(b, "real_parent", ul, T_PARENT);
	field(b, "real_cred", ul, T_CRED);
	field(b, "signal", ul, T_SIGNAL);
	field(b, "mm", ul, T_MM);
	field(b, "static_prio", in, T_SPRIO);
	field(b, "prio", in, T_PRIO);
	field(b, "policy", in, T_POLICY);
	field(b, "rt_priority", in, T_RTPRIO);
	field(b, "utime", ul, T_UTIME);
	field(b, "stime", ul, T_STIME);
	field(b, "se", se, T_SE);
	field(b, "start_boottime", ul, T_START);
	field(b, "prev_cputime", prev, T_PREV);
	field(b, "thread_node", lh, T_THREAD);
	field(b, "files", ul, T_FILES);

	btf__add_struct(b, "signal_struct", S_SIZE);
	field(b, "nr_threads", in, S_NR);
	field(b, "thread_head", lh, S_HEAD);
	field(b, "utime", ul, S_UTIME);
	field(b, "stime", ul, S_STIME);
	field(b, "sum_sched_runtime", ul, S_SUM);
	field(b, "prev_cputime", prev, S_PREV);

	btf__add_struct(b, "cred", 64);
	field(b, "uid", in, 8);
	field(b, "gid", in, 12);
	field(b, "suid", in, 16);
	field(b, "sgid", in, 20);
	field(b, "euid", in, 24);
	field(b, "egid", in, 28);
	field(b, "fsuid", in, 32);
	field(b, "fsgid", in, 36);

	btf__add_struct(b, "mm_struct", M_SIZE);
	field(b, "mm_mt", mt, M_MT);
	field(b, "pgd", ul, M_PGD);
	field(b, "total_vm", ul, M_TOTAL);
	field(b, "rss_stat", rss, M_RSS);
	field(b, "arg_start", ul, M_ARGS);
	field(b, "arg_end", ul, M_ARGE);
	field(b, "env_start", ul, M_ENVS);
	field(b, "env_end", ul, M_ENVE);
	field(b, "start_brk", ul, M_SBRK);
	field(b, "brk", ul, M_BRK);
	field(b, "start_stack", ul, M_SSTACK);
	field(b, "map_count", in, M_MAPC);

	e = btf__add_enum(b, "mm_counters", 4);
	assert_true(e > 0);
	btf__add_enum_value(b, "MM_FILEPAGES", 0);
	btf__add_enum_value(b, "MM_ANONPAGES", 1);
	btf__add_enum_value(b, "MM_SWAPENTS", 2);
	btf__add_enum_value(b, "MM_SHMEMPAGES", 3);
	btf__add_enum_value(b, "NR_MM_COUNTERS", 4);
	return b;
}

/* A process i with pid, parent, comm; its own signal struct with itself as the only thread. */
static void make_task(int i, int pid, uint32_t parent, const char *comm, uint32_t state)
{
	uint32_t t = TASK(i), s = SIGNAL(i);

	put32(t + T_PID, (uint32_t)pid);
	put32(t + T_TGID, (uint32_t)pid);
	put32(t + T_STATE, state);
	memcpy(mem + t + T_COMM, comm, strlen(comm));
	put64(t + T_PARENT, KV(parent));
	put64(t + T_CRED, KV(CRED));
	put64(t + T_SIGNAL, KV(s));
	put32(t + T_SPRIO, 120);
	put32(t + T_PRIO, 120);
	put64(t + T_UTIME, 3000000000ull);
	put64(t + T_STIME, 1000000000ull);
	put64(t + T_SE, 4000000000ull);
	put64(t + T_START, 1234567890ull);
	put32(s + S_NR, 1);
	put64(s + S_HEAD, KV(t + T_THREAD));
	put64(s + S_HEAD + 8, KV(t + T_THREAD));
	put64(t + T_THREAD, KV(s + S_HEAD));
	put64(t + T_THREAD + 8, KV(s + S_HEAD));
}

/* init_task.tasks -> task 0 -> task 1 -> task 2 -> init_task. */
static void link_ring(int n)
{
	int i;

	put64(INIT_TASK + T_TASKS, KV(TASK(0) + T_TASKS));
	for (i = 0; i < n; i++)
		put64(TASK(i) + T_TASKS, KV(i + 1 < n ? TASK(i + 1) + T_TASKS : INIT_TASK + T_TASKS));
}

static int setup(void **state)
{
	char map[] = "/tmp/nfm-test-task-XXXXXX";
	struct nfm_kallsyms *ks;
	struct nfm_btf *nb;
	FILE *f;
	int fd;

	(void)state;
	mem = calloc(1, MEM_SIZE);
	assert_non_null(mem);
	assert_int_equal(nfm_source_new_buf(mem, MEM_SIZE, 0, &src), 0);
	fd = mkstemp(map);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fprintf(f, "%016llx T _stext\n%016llx D init_task\n", (unsigned long long)KV(0x1000),
		(unsigned long long)KV(INIT_TASK));
	fclose(f);
	assert_int_equal(nfm_kallsyms_load_system_map(map, 0, &ks), 0);
	unlink(map);
	assert_int_equal(nfm_btf_wrap(make_btf(), &nb), 0);
	assert_int_equal(nfm_ctx_new_parts(src, 4, 0x1000, 0, PO, ks, nb, NULL, &ctx), 0);

	memcpy(mem + INIT_TASK + T_COMM, "swapper/0", 9);
	make_task(0, 1, INIT_TASK, "init", 1);
	make_task(1, 2, INIT_TASK, "kthreadd", 1);
	make_task(2, 42, TASK(0), "\033[31mevil", 0x402);
	put32(TASK(1) + T_FLAGS, 0x00200000);	/* PF_KTHREAD */
	put64(TASK(0) + T_MM, KV(MM));
	put64(TASK(1) + T_MM, KV(MM));		/* kthread_use_mm(): /proc shows no mm */
	put64(MM + M_TOTAL, 100);
	put64(MM + M_RSS + 8, 7);		/* anon */
	put64(MM + M_RSS, (uint64_t)-3);	/* file: a negative racy count reads as 0 */
	put64(MM + M_PGD, KV(0x50000));
	link_ring(3);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	nfm_ctx_free(ctx);
	nfm_source_free(src);
	free(mem);
	return 0;
}

static int collect(unsigned int flags, struct nfm_task *out, int max, int *err, unsigned int *skipped)
{
	struct nfm_task_iter *it;
	int n = 0, r;

	assert_int_equal(nfm_task_iter_new(ctx, flags, &it), 0);
	while ((r = nfm_task_iter_next(it, &out[n < max ? n : max - 1])) > 0)
		n++;
	*err = r;
	*skipped = nfm_task_iter_skipped(it);
	nfm_task_iter_free(it);
	return n;
}

static void test_good_ring(void **state)
{
	struct nfm_task t[8];
	unsigned int sk;
	int err, n;

	(void)state;
	n = collect(0, t, 8, &err, &sk);
	assert_int_equal(err, 0);
	assert_int_equal(n, 3);
	assert_int_equal(sk, 0);
	assert_int_equal(t[0].pid, 1);
	assert_int_equal(t[0].ppid, 0);
	assert_string_equal(t[0].comm, "init");
	assert_int_equal(t[0].state, 'S');
	assert_int_equal(t[0].vsize, 100 * 4096);
	assert_int_equal(t[0].rss_pages, 7);
	assert_int_equal(t[0].utime_ticks, 300);	/* cputime_adjust: 4 s split 3:1 */
	assert_int_equal(t[0].stime_ticks, 100);
	assert_int_equal(t[0].start_ticks, 123);
	assert_true(t[1].kthread);
	assert_int_equal(t[1].mm, 0);
	assert_int_equal(t[1].vsize, 0);
	assert_int_equal(t[1].rss_pages, 0);
	assert_int_equal(t[2].ppid, 1);
	assert_int_equal(t[2].state, 'I');		/* TASK_IDLE */
	assert_memory_equal(t[2].comm, "\033[31mevil", 10);
	n = collect(NFM_TASK_THREADS, t, 8, &err, &sk);
	assert_int_equal(err, 0);
	assert_int_equal(n, 3);
}

static void test_cycle_is_bounded(void **state)
{
	struct nfm_task t[8];
	unsigned int sk;
	int err;

	(void)state;
	/* task 2 points back to task 1: a loop that never returns to init_task. */
	put64(TASK(2) + T_TASKS, KV(TASK(1) + T_TASKS));
	collect(0, t, 8, &err, &sk);
	assert_int_equal(err, -ELOOP);
	/* a thread ring that loops without its head: the rest of the group is lost and counted,
	 * the walk goes on */
	link_ring(3);
	put64(TASK(0) + T_THREAD, KV(TASK(0) + T_THREAD));
	assert_int_equal(collect(NFM_TASK_THREADS, t, 8, &err, &sk), 3);
	assert_int_equal(err, 0);
	assert_int_equal(sk, 1);
	assert_int_equal(collect(0, t, 8, &err, &sk), 2);	/* group cputime walk fails: skipped */
	assert_int_equal(sk, 1);
	put64(TASK(0) + T_THREAD, KV(SIGNAL(0) + S_HEAD));
}

static void test_live_walk_restarts_and_yields_each_task_once(void **state)
{
	struct nfm_task t[16];
	unsigned int sk;
	int err, n, i, j;

	(void)state;
	/*
	 * Live, a loop may be a race with fork/exit: the walk starts over (a bounded number of
	 * times) and never yields a task twice, not even the ones it went round the loop on.
	 */
	src->live = true;
	put64(TASK(2) + T_TASKS, KV(TASK(1) + T_TASKS));
	n = collect(0, t, 16, &err, &sk);
	assert_int_equal(err, -ELOOP);
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			assert_int_not_equal(t[i].pid, t[j].pid);
	n = collect(NFM_TASK_THREADS, t, 16, &err, &sk);
	assert_int_equal(err, -ELOOP);
	assert_int_equal(n, 3);
	link_ring(3);
	n = collect(0, t, 16, &err, &sk);
	assert_int_equal(err, 0);
	assert_int_equal(n, 3);
	src->live = false;
}

static void test_pointer_into_nowhere(void **state)
{
	struct nfm_task t[8];
	unsigned int sk;
	int err, n;

	(void)state;
	/* next points past guest RAM: the walk stops with -EFAULT after the first task */
	put64(TASK(0) + T_TASKS, KV(MEM_SIZE + 0x1000));
	n = collect(0, t, 8, &err, &sk);
	assert_int_equal(n, 1);	/* that entry is skipped, then the ring is unreadable */
	assert_int_equal(sk, 1);
	assert_true(err == -EFAULT || err == -EIO);
	/* a user-space pointer in the ring: -EBADMSG, never followed */
	put64(TASK(0) + T_TASKS, 0x00007fff12345678ull);
	collect(0, t, 8, &err, &sk);
	assert_int_equal(err, -EBADMSG);
	link_ring(3);
	/* a bad cred pointer skips that task only */
	put64(TASK(1) + T_CRED, 0xdead000000000000ull);
	n = collect(0, t, 8, &err, &sk);
	assert_int_equal(err, 0);
	assert_int_equal(n, 2);
	assert_int_equal(sk, 1);
	put64(TASK(1) + T_CRED, KV(CRED));
}

static void test_huge_counts(void **state)
{
	struct nfm_task t[8];
	unsigned int sk;
	char buf[64];
	int err, n;

	(void)state;
	/* nr_threads beyond any kernel limit: the task is skipped */
	put32(SIGNAL(2) + S_NR, 0x7fffffff);
	n = collect(0, t, 8, &err, &sk);
	assert_int_equal(n, 2);
	assert_int_equal(sk, 1);
	put32(SIGNAL(2) + S_NR, 1);
	/* an argument range of terabytes: refused before any read */
	n = collect(0, t, 8, &err, &sk);
	assert_int_equal(n, 3);
	t[0].arg_start = 0x1000;
	t[0].arg_end = 0x7f0000000000ull;
	t[0].env_start = t[0].env_end = t[0].arg_end;
	assert_int_equal(nfm_task_cmdline(ctx, &t[0], buf, sizeof(buf), NULL), -EBADMSG);
	assert_int_equal(nfm_task_environ(ctx, &t[0], buf, sizeof(buf), NULL), 0);
	t[0].env_start = 0x1000;
	t[0].env_end = 0x7f0000000000ull;
	assert_int_equal(nfm_task_environ(ctx, &t[0], buf, sizeof(buf), NULL), -EBADMSG);
	/* a user page that is not mapped: 0 bytes and one missing page, not a guess */
	{
		struct nfm_umem_stat st;

		t[0].env_start = 0x400000;
		t[0].env_end = 0x400010;
		assert_int_equal(nfm_task_environ(ctx, &t[0], buf, sizeof(buf), &st), 0);
		assert_int_equal(st.pages_missing, 1);
		assert_int_equal(st.want, 16);
	}
}

static void node_put(uint32_t node, int slot_off, int i, uint64_t v)
{
	put64(node + (uint32_t)slot_off + (uint32_t)i * 8, v);
}

static void test_maple(void **state)
{
	struct nfm_maple_entry *e;
	size_t n;
	uint32_t root = NODE, leaf = NODE + 0x100, leaf2 = NODE + 0x200;

	(void)state;
	memset(mem + NODE, 0, 0x400);
	/* root arange_64: [0, 0x4fff] -> leaf, [0x5000, max] -> leaf2 */
	node_put(root, 8, 0, 0x4fff);
	node_put(root, 80, 0, KV(leaf) | (1 << 3));
	node_put(root, 80, 1, KV(leaf2) | (1 << 3));
	mem[root + 240] = 1;
	/* leaf: gap [0,0xfff], vma A [0x1000,0x1fff], gap to 0x4fff */
	node_put(leaf, 8, 0, 0xfff);
	node_put(leaf, 8, 1, 0x1fff);
	node_put(leaf, 128, 1, KV(0x70000));
	mem[leaf + 248] = 2;
	node_put(leaf2, 8, 0, 0x5fff);
	node_put(leaf2, 128, 0, KV(0x70100));
	node_put(leaf2, 128, 1, 0x406);	/* XA_ZERO_ENTRY: skipped */
	mem[leaf2 + 248] = 1;
	assert_int_equal(nfm_maple_collect(ctx, KV(root) | (3 << 3) | 2, 100, &e, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(e[0].first, 0x1000);
	assert_int_equal(e[0].last, 0x1fff);
	assert_int_equal(e[0].entry, KV(0x70000));
	assert_int_equal(e[1].first, 0x5000);
	free(e);
	/* a node that is its own child: bounded by the height limit */
	node_put(root, 80, 0, KV(root) | (3 << 3));
	assert_int_equal(nfm_maple_collect(ctx, KV(root) | (3 << 3) | 2, 100, &e, &n), -ELOOP);
	/* pivots that go backwards */
	node_put(root, 80, 0, KV(leaf) | (1 << 3));
	node_put(leaf, 8, 1, 0x10);
	assert_int_equal(nfm_maple_collect(ctx, KV(root) | (3 << 3) | 2, 100, &e, &n), -EBADMSG);
	/* a bad metadata end */
	node_put(leaf, 8, 1, 0x1fff);
	mem[root + 240] = 200;
	assert_int_equal(nfm_maple_collect(ctx, KV(root) | (3 << 3) | 2, 100, &e, &n), -EBADMSG);
	mem[root + 240] = 1;
	/* the entry bound */
	assert_int_equal(nfm_maple_collect(ctx, KV(root) | (3 << 3) | 2, 1, &e, &n), -ELOOP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good_ring, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cycle_is_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_live_walk_restarts_and_yields_each_task_once,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_pointer_into_nowhere, setup, teardown),
		cmocka_unit_test_setup_teardown(test_huge_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_maple, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
