// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The JSON document envelope and the object builders (cmd/common/jout.h, objects.h): exact text
 * of the values that matter, and with --dump DIR one example of every object and a few documents
 * written as DIR/<schema path> for scripts/validate-json --tree DIR (the cmd-objects-schema test).
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <cmocka.h>

#include <nfm/check.h>

#include "objects.h"

/* The compact JSON text of o[key] (valid until o is freed or changed). */
static const char *mtext(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return "(absent)";
	return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* The compact text of a value, then the value dropped (into a static buffer). */
static const char *vtext(struct json_object *v)
{
	static char buf[512];

	snprintf(buf, sizeof(buf), "%s", v ? json_object_to_json_string_ext(v,
		 JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : "(null)");
	json_object_put(v);
	return buf;
}

/* ---- example structs, shared by the tests and --dump ---- */

static void fill_task(struct nfm_task *t)
{
	memset(t, 0, sizeof(*t));
	t->addr = 0xffff888003a8c000ull;
	t->mm = 0xffff888004b00000ull;
	t->pid = t->tgid = 812;
	t->ppid = 1;
	t->uid = t->euid = t->suid = t->fsuid = 1000;
	t->gid = t->egid = t->sgid = t->fsgid = 100;
	t->state = 'S';
	strcpy(t->comm, "sshd");
	strcpy(t->name, "sshd");
	t->flags = 0x400100;
	t->nice = -5;
	t->priority = 15;
	t->policy = 1;
	t->rt_priority = 10;
	t->nr_threads = 2;
	t->start_ns = 1234567890123ull;
	t->start_ticks = 123;
	t->utime_ns = 50000000;
	t->stime_ns = 20000000;
	t->utime_ticks = 5;
	t->stime_ticks = 2;
	t->vsize = 16u << 20;
	t->rss_pages = 290;	/* the counters: stat field 24 */
	t->rss_exact_pages = 300;
	t->rss_anon = 100;
	t->rss_file = 190;
	t->rss_shmem = 10;
}

static void fill_socket(struct nfm_socket *s)
{
	memset(s, 0, sizeof(*s));
	s->family = AF_INET;
	s->protocol = 6;
	s->type = SOCK_STREAM;
	s->state = 10;
	s->laddr[0] = 127;
	s->laddr[3] = 1;
	s->lport = 22;
	s->uid = 0;
	s->inode = 4242;
	s->netns = 4026531840u;
	s->nr_owners = 1;
	s->owner_pid[0] = 812;
	strcpy(s->owner_comm[0], "sshd");
	s->sk = 0xffff888005000000ull;
}

/* ---- the helpers ---- */

static void test_values(void **state)
{
	(void)state;
	assert_string_equal(vtext(j_addr(0xffffffff81000000ull)), "\"0xffffffff81000000\"");
	assert_string_equal(vtext(j_addr(0)), "\"0x0\"");
	assert_string_equal(vtext(j_u64(UINT64_MAX)), "18446744073709551615");
	assert_string_equal(vtext(j_u64((uint64_t)INT64_MAX)), "9223372036854775807");
	assert_string_equal(vtext(j_int(-1)), "-1");
	/* Rounded to what the value means, printed exactly so. */
	assert_string_equal(vtext(j_fixed(0.98999999999999999, 2)), "0.99");
	assert_string_equal(vtext(j_fixed(12.0, 1)), "12.0");
	assert_string_equal(vtext(j_fixed(2399.9996, 3)), "2400.000");
	assert_string_equal(vtext(j_fixed(-0.001, 2)), "0.00");
	assert_string_equal(vtext(j_fixed(7.25, 0)), "7");
	assert_null(j_fixed(NAN, 1));
	assert_null(j_fixed(INFINITY, 1));
	/* Guest bytes: exact UTF-8 (JSON escapes controls), invalid bytes as \xNN. */
	assert_string_equal(vtext(j_bytes("zo\xc3\xbc", 4)), "\"zo\xc3\xbc\"");
	assert_string_equal(vtext(j_bytes("a\x1b" "b", 3)), "\"a\\u001bb\"");
	assert_string_equal(vtext(j_bytes("a\xff\\b", 4)), "\"a\\\\xff\\\\\\\\b\"");
	assert_null(j_str(NULL));	/* json-c stores NULL as JSON null */
	assert_string_equal(vtext(j_strn("abcdef", 3)), "\"abc\"");
	assert_string_equal(vtext(j_hex("\x00\xff", 2)), "\"00ff\"");
	assert_true(j_bytes_exact("plain", 5));
	assert_false(j_bytes_exact("\xc0\xaf", 2));
}

static void test_add_bytes(void **state)
{
	struct json_object *o = json_object_new_object();

	(void)state;
	j_add_bytes(o, "name", "ok", 2);
	j_add_bytes(o, "path", "/tmp/\xff", 6);
	assert_string_equal(mtext(o, "name"), "\"ok\"");
	assert_string_equal(mtext(o, "name_hex"), "(absent)");
	assert_string_equal(mtext(o, "path"), "\"/tmp/\\\\xff\"");
	assert_string_equal(mtext(o, "path_hex"), "\"2f746d702fff\"");
	json_object_put(o);
}

/* What jdoc_print wrote to a temporary file. */
static const char *printed(struct json_object *doc, int pretty, int *ret)
{
	static char buf[1024];
	FILE *f = tmpfile();
	size_t n;

	assert_non_null(f);
	*ret = jdoc_print(f, doc, pretty);
	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

static void test_document(void **state)
{
	struct json_object *doc;
	FILE *full;
	int ret;

	(void)state;
	doc = jdoc_new("ps");
	assert_true(jdoc_complete(doc));
	/* A file is not a terminal: auto is compact, one line. */
	assert_string_equal(printed(doc, -1, &ret), "{\"schema_version\":1,\"kind\":\"ps\","
			    "\"complete\":true}\n");
	assert_int_equal(ret, 0);

	doc = jdoc_new("crawl");
	jdoc_error(doc, "processes", -EFAULT, NULL);
	jdoc_error(doc, "sockets", -EOPNOTSUPP, "this libnfm cannot list sockets");
	assert_false(jdoc_complete(doc));
	assert_string_equal(printed(doc, 0, &ret), "{\"schema_version\":1,\"kind\":\"crawl\","
			    "\"complete\":false,\"errors\":[{\"view\":\"processes\",\"error\":"
			    "\"Bad address\",\"errno\":14},{\"view\":\"sockets\",\"error\":"
			    "\"this libnfm cannot list sockets\",\"errno\":95}]}\n");
	doc = jdoc_new("free");
	assert_string_equal(printed(doc, 1, &ret), "{\n  \"schema_version\":1,\n  \"kind\":\"free\","
			    "\n  \"complete\":true\n}\n");

	/* A failed write is the tool's exit status 1. */
	full = fopen("/dev/full", "w");
	if (full) {
		assert_int_equal(jdoc_print(full, jdoc_new("ps"), 0), 1);
		fclose(full);
	}
}

/* ---- the builders ---- */

static void test_process(void **state)
{
	struct nfm_task t;
	struct nfm_umem_stat st = { .want = 20, .pages_missing = 1, .pages_swapped = 1 };
	struct json_object *o;

	(void)state;
	fill_task(&t);
	strcpy(t.name, "evil\xff");
	o = obj_process(&t, 4096);
	assert_string_equal(mtext(o, "task"), "\"0xffff888003a8c000\"");
	assert_string_equal(mtext(o, "pid"), "812");
	assert_string_equal(mtext(o, "state"), "\"S\"");
	assert_string_equal(mtext(o, "comm"), "\"evil\\\\xff\"");
	assert_string_equal(mtext(o, "comm_hex"), "\"6576696cff\"");
	assert_string_equal(mtext(o, "task_comm_hex"), "(absent)");
	assert_string_equal(mtext(o, "policy"), "\"SCHED_FIFO\"");
	assert_string_equal(mtext(o, "rss_pages"), "290");
	assert_string_equal(mtext(o, "rss_bytes"), "1228800");
	assert_string_equal(mtext(o, "vsize_bytes"), "16777216");
	assert_string_equal(mtext(o, "start_time_ns"), "1234567890123");
	obj_process_cmdline(o, "sshd: root\0-D\0", 14, &st);
	assert_string_equal(mtext(o, "cmdline"), "\"sshd: root\\u0000-D\\u0000\"");
	assert_string_equal(mtext(o, "argv"), "[\"sshd: root\",\"-D\"]");
	assert_string_equal(mtext(o, "cmdline_pages_missing"), "1");
	json_object_put(o);

	t.utime_ns = UINT64_MAX;
	o = obj_process(&t, 0);
	assert_string_equal(mtext(o, "utime_ns"), "18446744073709551615");
	json_object_put(o);
}

static void test_network(void **state)
{
	struct nfm_socket s;
	struct nfm_netdev *d = calloc(1, sizeof(*d));
	struct json_object *o;

	(void)state;
	fill_socket(&s);
	o = obj_socket(&s);
	assert_string_equal(mtext(o, "netid"), "\"tcp\"");
	assert_string_equal(mtext(o, "family"), "\"inet\"");
	assert_string_equal(mtext(o, "type"), "\"stream\"");
	assert_string_equal(mtext(o, "protocol"), "\"tcp\"");
	assert_string_equal(mtext(o, "state"), "\"LISTEN\"");
	assert_string_equal(mtext(o, "state_code"), "10");
	assert_string_equal(mtext(o, "local"), "\"127.0.0.1\"");
	assert_string_equal(mtext(o, "local_port"), "22");
	assert_string_equal(mtext(o, "sk"), "\"0xffff888005000000\"");
	assert_string_equal(mtext(o, "owners"), "[{\"pid\":812,\"comm\":\"sshd\"}]");
	json_object_put(o);

	assert_non_null(d);
	d->ifindex = 2;
	strcpy(d->name, "eth0");
	d->flags = 0x1 | 0x2 | 0x1000 | 0x10000;
	d->addr_len = 6;
	memcpy(d->addr, "\x52\x54\x00\x12\x34\x56", 6);
	d->nr_addrs = 1;
	d->addrs[0].family = AF_INET;
	memcpy(d->addrs[0].addr, "\x0a\x00\x02\x0f", 4);
	d->addrs[0].prefixlen = 24;
	o = obj_interface(d, true);
	assert_string_equal(mtext(o, "flags"), "[\"BROADCAST\",\"MULTICAST\",\"UP\",\"LOWER_UP\"]");
	assert_string_equal(mtext(o, "address"), "\"52:54:00:12:34:56\"");
	assert_string_equal(mtext(json_object_array_get_idx(
		json_object_object_get(o, "addr_info"), 0), "local"), "\"10.0.2.15\"");
	json_object_put(o);
	free(d);
}

static void test_system(void **state)
{
	struct nfm_loadavg la = { .load = { 0.98999999999999999, 1.5, 0 }, .running = 1 };
	struct nfm_meminfo mi = { .mem_total = 2048 };
	struct nfm_module m = { .name = "dummy", .size = 16384, .users = "a,b,", .state = "Live",
				.address = 0xffffffffc0000000ull };
	struct nfm_log_record r = { .seq = 7, .ts_nsec = 1500000000, .level = 3,
				    .caller_id = 0x80000001u, .text = "bad\x1b[2J", .text_len = 7 };
	struct nfm_cpuinfo_arm64 ca = { .midr = 0x411fd070, .bogomips_centi = 12505,
					.features = "fp asimd" };
	struct json_object *o;

	(void)state;
	o = obj_loadavg(&la);
	assert_string_equal(mtext(o, "load1"), "0.99");
	assert_string_equal(mtext(o, "load5"), "1.50");
	assert_string_equal(mtext(o, "load15"), "0.00");
	json_object_put(o);
	o = obj_memory(&mi);
	assert_string_equal(mtext(o, "mem_total_bytes"), "2097152");
	json_object_put(o);
	o = obj_module(&m);
	assert_string_equal(mtext(o, "users"), "[\"a\",\"b\"]");
	assert_string_equal(mtext(o, "address"), "\"0xffffffffc0000000\"");
	json_object_put(o);
	/* arm64: MIDR 0x411fd070 is Arm (0x41), variant 1, part 0xd07 (Cortex-A57), revision 0 */
	o = obj_cpuinfo_arm64(&ca);
	assert_string_equal(mtext(o, "cpu_implementer"), "65");
	assert_string_equal(mtext(o, "cpu_variant"), "1");
	assert_string_equal(mtext(o, "cpu_part"), "3335");
	assert_string_equal(mtext(o, "cpu_revision"), "0");
	assert_string_equal(mtext(o, "bogomips"), "125.05");
	assert_string_equal(mtext(o, "features"), "[\"fp\",\"asimd\"]");
	json_object_put(o);
	ca.bogomips_centi = -1;
	ca.features = NULL;
	o = obj_cpuinfo_arm64(&ca);
	assert_string_equal(mtext(o, "bogomips"), "(absent)");
	assert_string_equal(mtext(o, "features"), "(absent)");
	json_object_put(o);
	o = obj_log_record(&r);
	assert_string_equal(mtext(o, "level"), "\"err\"");
	assert_string_equal(mtext(o, "caller"), "\"C1\"");
	assert_string_equal(mtext(o, "text"), "\"bad\\u001b[2J\"");
	json_object_put(o);
}

/* ---- --dump DIR: one example of everything, for scripts/validate-json --tree ---- */

static int dump_one(const char *dir, const char *rel, struct json_object *o)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if (json_object_to_file_ext(path, o, JSON_C_TO_STRING_PRETTY) < 0) {
		fprintf(stderr, "cannot write %s\n", path);
		json_object_put(o);
		return 1;
	}
	json_object_put(o);
	return 0;
}

/* Two examples of one schema (its variants) as JSON Lines. */
static int dump_two(const char *dir, const char *rel, struct json_object *a, struct json_object *b)
{
	char path[4096];
	FILE *f;
	int bad;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "w");
	bad = !f || fprintf(f, "%s\n%s\n", json_object_to_json_string(a),
			    json_object_to_json_string(b)) < 0;
	if (f && fclose(f))
		bad = 1;
	if (bad)
		fprintf(stderr, "cannot write %s\n", path);
	json_object_put(a);
	json_object_put(b);
	return bad;
}

static struct json_object *array_of(struct json_object *first, struct json_object *second)
{
	struct json_object *a = json_object_new_array();

	json_object_array_add(a, first);
	if (second)
		json_object_array_add(a, second);
	return a;
}

static int dump(const char *dir)
{
	static struct nfm_task t;
	static struct nfm_netdev d;
	static struct nfm_vma v;
	static struct nfm_fd f;
	struct nfm_socket s, su;
	struct nfm_kernel_info ki = { .sysname = "Linux", .release = "6.1.0-18-amd64",
				      .paging_levels = 4, .kaslr_offset = 0x1e000000,
				      .attach_ms = 12.5, .nr_cpus_online = 2 };
	struct nfm_vm_info vm = { .pid = 4321, .name = "web1", .ram_size = 1u << 30 };
	struct nfm_meminfo mi = { .mem_total = 2048, .mem_free = 1024 };
	struct nfm_loadavg la = { .load = { 0.5, 0.25, 0.125 }, .text = "0.50 0.25 0.12 1/80 99" };
	struct nfm_cpu_times ct = { .cpu = -1, .user = 1000000, .idle = UINT64_MAX };
	struct nfm_cpuinfo ci = { .vendor_id = "GenuineIntel", .model_name = "QEMU", .mhz = 2399.9996,
				  .cache_size_kb = 16384, .flags = "fpu vme de", .bugs = "" };
	struct nfm_cpuinfo_arm64 ca = { .cpu = 1, .midr = 0x411fd070, .bogomips_centi = 12500,
					.features = "fp asimd evtstrm cpuid" };
	struct nfm_module m = { .name = "dummy", .size = 16384, .users = "[permanent],",
				.state = "Live", .address = 0xffffffffc0000000ull };
	struct nfm_mount mo = { .device = "/dev/vda1", .path = "/", .fstype = "ext4",
				.options = "rw,relatime", .options_complete = true, .mnt_id = 21 };
	struct nfm_log_record r = { .seq = 7, .ts_nsec = 1500000000, .level = 6, .caller_id = 1,
				    .text = "eth0: link up\xff", .text_len = 14 };
	struct nfm_route ro = { .ifname = "eth0", .flags = 3, .prefixlen = 0, .type = 1,
				.protocol = 16, .table = 254, .exact = true };
	struct nfm_neigh ne = { .family = AF_INET, .ifname = "eth0", .state = 0x02, .type = 1,
				.lladdr_len = 6 };
	struct nfm_syscall_entry se = { .nr = 59, .handler = 0xffffffffc0001000ull,
					.symbol = "evil_execve", .module = "rootkit" };
	struct nfm_module_view mv = { .name = "rootkit", .module = 0xffffffffc0002000ull,
				      .in_sysfs = true };
	struct nfm_task_view tv = { .pid = 666, .comm = "hidden", .in_pid_table = true };
	struct nfm_fs_entry fe = { .name = "passwd", .mode = S_IFREG | 0644, .ino = 12, .size = 1500,
				   .nrpages = 1 };
	struct nfm_umem_stat st = { 0 };
	struct json_object *o, *doc;
	char sub[4096];
	int bad = 0;

	snprintf(sub, sizeof(sub), "%s/docs", dir);
	mkdir(dir, 0755);
	mkdir(sub, 0755);
	fill_task(&t);
	fill_socket(&s);
	memset(&su, 0, sizeof(su));
	su.family = AF_UNIX;
	su.type = SOCK_STREAM;
	su.state = 1;
	su.unix_flags = 1u << 16;
	su.path_len = 12;
	strcpy(su.path, "@/tmp/\xff.X11");
	v.start = 0x400000;
	v.end = 0x401000;
	strcpy(v.perms, "r-xp");
	strcpy(v.name, "/usr/bin/\xfftrue");
	v.name_len = strlen(v.name);
	f.fd = 3;
	strcpy(f.type, "SOCK");
	strcpy(f.path, "socket:[4242]");
	f.path_len = strlen(f.path);
	f.sock_family = AF_INET;
	f.sock_type = SOCK_STREAM;
	f.sock_protocol = 6;
	strcpy(f.proto, "TCP");
	d.ifindex = 1;
	strcpy(d.name, "lo");
	d.flags = 0x9;
	d.nr_addrs = 2;
	d.addrs[0].family = AF_INET;
	d.addrs[0].addr[0] = 127;
	d.addrs[0].prefixlen = 8;
	d.addrs[0].scope = 254;
	d.addrs[1].family = AF_INET6;
	d.addrs[1].addr[15] = 1;
	d.addrs[1].prefixlen = 128;
	d.addrs[1].flags = 0x81;

	o = obj_process(&t, 4096);
	obj_process_cmdline(o, "/usr/sbin/sshd\0-D\0", 18, &st);
	j_add(o, "tids", array_of(j_int(812), j_int(813)));
	j_add(o, "files", array_of(obj_fd(&f), NULL));
	j_add(o, "threads", array_of(obj_process(&t, 4096), NULL));
	bad |= dump_one(dir, "process.json", o);
	bad |= dump_one(dir, "vma.json", obj_vma(&v));
	o = obj_fd(&f);
	j_add(o, "pid", j_int(812));
	j_add(o, "comm", j_str("sshd"));
	bad |= dump_one(dir, "fd.json", o);
	o = obj_module(&m);
	j_add(o, "line", j_str("dummy 16384 0 [permanent], Live 0xffffffffc0000000"));
	bad |= dump_one(dir, "module.json", o);
	bad |= dump_one(dir, "mount.json", obj_mount(&mo));
	bad |= dump_one(dir, "log_record.json", obj_log_record(&r));
	bad |= dump_one(dir, "memory.json", obj_memory(&mi));
	bad |= dump_one(dir, "loadavg.json", obj_loadavg(&la));
	bad |= dump_one(dir, "cpu_times.json", obj_cpu_times(&ct));
	bad |= dump_two(dir, "cpuinfo.json", obj_cpuinfo(&ci), obj_cpuinfo_arm64(&ca));
	bad |= dump_one(dir, "interface.json", obj_interface(&d, true));
	bad |= dump_one(dir, "socket.json", obj_socket(&s));
	{
		/* an established socket whose congestion name is not UTF-8, and a listener */
		struct nfm_tcp_info te = { .state = 1, .options = NFM_TCPI_OPT_TIMESTAMPS |
					   NFM_TCPI_OPT_SACK | NFM_TCPI_OPT_WSCALE, .snd_wscale = 7,
					   .rcv_wscale = 7, .rto_us = 204000, .rtt_us = 17, .snd_mss = 32768,
					   .snd_cwnd = 10, .snd_ssthresh = 0x7fffffff, .pacing_rate = 1000000,
					   .max_pacing_rate = UINT64_MAX, .reordering = 3, .bytes_acked = 1,
					   .delivery_rate = 5000, .delivery_rate_app_limited = 1 };
		struct nfm_tcp_info tl = { .state = 10, .listener = true, .snd_cwnd = 10,
					   .reordering = 3, .sacked = 128, .pacing_rate = UINT64_MAX,
					   .max_pacing_rate = UINT64_MAX };

		memcpy(te.congestion, "cub\xff" "c", 6);
		strcpy(tl.congestion, "bbr");
		bad |= dump_two(dir, "tcp_info.json", obj_tcp_info(&te), obj_tcp_info(&tl));
	}
	bad |= dump_one(dir, "route.json", obj_route(&ro));
	bad |= dump_one(dir, "neighbour.json", obj_neighbour(&ne));
	o = obj_kernel(&ki);
	j_add(o, "uptime_ns", j_u64(123456789));
	j_add(o, "source", j_str("qemu pid 4321 (web1)"));
	bad |= dump_one(dir, "kernel.json", o);
	bad |= dump_one(dir, "vm.json", obj_vm(&vm));
	bad |= dump_one(dir, "check_finding.json", obj_syscall_entry(&se));
	bad |= dump_one(dir, "fs_entry.json", obj_fs_entry(&fe, 4096));
	o = obj_symbol("do_sys_open", 'T', 0xffffffff81234560ull, NULL);
	j_add(o, "query", j_addr(0xffffffff81234567ull));
	j_add(o, "offset_bytes", j_u64(7));
	bad |= dump_one(dir, "symbol.json", o);
	{
		struct nfm_kmem km = { .kind = NFM_KMEM_SLAB, .start = 0xffff888003a8c000ull,
				       .size = 8328, .slot_size = 8384,
				       .cache = 0xffff888003001200ull, .cache_name = "task_struct",
				       .order = 3 };
		struct nfm_kmem kv = { .kind = NFM_KMEM_VMALLOC, .start = 0xffffffffc0307000ull,
				       .size = 40960 };

		struct json_object *arr = array_of(obj_kmem_allocation(0xffff888003a8c018ull, &km),
						   obj_kmem_allocation(0xffffffffc030b024ull, &kv));

		bad |= dump_one(dir, "kmem_allocation.json",
				obj_kmem_allocation(0xffffffff82a00000ull, NULL));
		doc = jdoc_new("kmem");
		j_add(doc, "allocations", arr);
		bad |= dump_one(dir, "docs/kmem.json", doc);
	}
	o = obj_yara_match("miner", "$a", 0x7f0000001000ull, 12);
	j_add(o, "pid", j_int(812));
	j_add(o, "comm", j_str("sshd"));
	bad |= dump_one(dir, "yara_match.json", o);

	/* Documents: the envelope with errors, objects inside, unix sockets, check findings. */
	doc = jdoc_new("ss");
	j_add(doc, "sockets", array_of(obj_socket(&s), obj_socket(&su)));
	jdoc_error(doc, "sockets", -ELOOP, NULL);
	bad |= dump_one(dir, "docs/ss.json", doc);
	doc = jdoc_new("check");
	j_add(doc, "nr_syscalls", j_int(450));
	j_add(doc, "nr_ia32_syscalls", j_int(0));
	j_add(doc, "hooked_syscalls", array_of(obj_syscall_entry(&se), NULL));
	j_add(doc, "hidden_modules", array_of(obj_module_view(&mv), NULL));
	j_add(doc, "nr_processes", j_int(80));
	j_add(doc, "nr_processes_in_pid_table", j_int(81));
	j_add(doc, "hidden_processes", array_of(obj_task_view(&tv), NULL));
	{
		/* A hook into hidden memory and an IDT gate: every hook.json member, both ways. */
		const struct nfm_hook hk = { .kind = NFM_HOOK_FTRACE, .what = "ftrace_ops func",
			.object = 0xffffffffc0001000ull, .site = 0xffffffff81234560ull,
			.site_symbol = "__x64_sys_getdents64", .nr_sites = 1,
			.target = 0xffffffffc0002000ull, .owner = NFM_OWNER_NONE };
		const struct nfm_hook gate = { .kind = NFM_HOOK_IDT, .what = "gate", .vector = 3,
			.object = 0xfffffe0000000030ull, .target = 0xffffffffc0003000ull,
			.owner = NFM_OWNER_MODULE, .symbol = "evil", .offset = 4, .module = "m" };

		bad |= dump_one(dir, "hook.json", obj_hook(&hk));
		j_add(doc, "nr_text_functions", j_int(365));
		j_add(doc, "nr_text_undecoded", j_int(0));
		j_add(doc, "nr_dispatch_targets", j_int(347));
		j_add(doc, "nr_ftrace_ops", j_int(1));
		j_add(doc, "nr_kprobes", j_int(0));
		j_add(doc, "nr_livepatches", j_int(0));
		j_add(doc, "nr_idt_gates", j_int(256));
		j_add(doc, "hooks", array_of(obj_hook(&hk), obj_hook(&gate)));
	}
	j_add(doc, "nr_findings", j_int(5));
	bad |= dump_one(dir, "docs/check.json", doc);
	doc = jdoc_new("uptime");
	j_add(doc, "uptime_ns", j_u64(123456789));
	j_add(doc, "loadavg", obj_loadavg(&la));
	bad |= dump_one(dir, "docs/uptime.json", doc);
	return bad;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_add_bytes),
		cmocka_unit_test(test_document),
		cmocka_unit_test(test_process),
		cmocka_unit_test(test_network),
		cmocka_unit_test(test_system),
	};

	if (argc == 3 && !strcmp(argv[1], "--dump"))
		return dump(argv[2]);
	return cmocka_run_group_tests_name("cmd-objects", tests, NULL, NULL);
}
