// SPDX-License-Identifier: GPL-2.0-or-later
/* The QEMU command-line parser over literal argv arrays, and the pc/q35 RAM split table. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "source/qemu_cmdline.h"

#define MiB (1024ULL * 1024)
#define GiB (1024ULL * MiB)
#define PARSE(cl, ...) ({ const char *a_[] = { "qemu-system-x86_64", __VA_ARGS__ }; \
	nfm_qemu_cmdline_parse(a_, sizeof(a_) / sizeof(a_[0]), (cl)); })

static void test_defaults(void **state)
{
	struct nfm_qemu_cmdline cl;

	assert_int_equal(PARSE(&cl, "-nographic", "-kernel", "/boot/vmlinuz"), 0);
	assert_int_equal(cl.ram_size, 128 * MiB);
	assert_string_equal(cl.name, "");
	assert_string_equal(cl.qmp, "");
	assert_int_equal(cl.machine, NFM_QEMU_MACHINE_PC);
	assert_true(cl.gigabyte_align);
}

static void test_memory_forms(void **state)
{
	struct nfm_qemu_cmdline cl;

	assert_int_equal(PARSE(&cl, "-m", "512"), 0);
	assert_int_equal(cl.ram_size, 512 * MiB);
	assert_int_equal(PARSE(&cl, "-m", "512M"), 0);
	assert_int_equal(cl.ram_size, 512 * MiB);
	assert_int_equal(PARSE(&cl, "-m", "8G"), 0);
	assert_int_equal(cl.ram_size, 8 * GiB);
	assert_int_equal(PARSE(&cl, "--m", "3.5G"), 0);
	assert_int_equal(cl.ram_size, 3584 * MiB);
	assert_int_equal(PARSE(&cl, "-m", "size=8G,slots=4,maxmem=32G"), 0);
	assert_int_equal(cl.ram_size, 8 * GiB);
	assert_int_equal(PARSE(&cl, "-m", "slots=2,size=1g,maxmem=4G"), 0);
	assert_int_equal(cl.ram_size, GiB);
	assert_int_equal(PARSE(&cl, "-m", "size=4194304k"), 0);	/* libvirt */
	assert_int_equal(cl.ram_size, 4 * GiB);
	assert_int_equal(PARSE(&cl, "-m", "1T"), 0);
	assert_int_equal(cl.ram_size, 1024 * GiB);
	assert_int_equal(PARSE(&cl, "-m", "512", "-m", "1024"), 0);	/* the last wins */
	assert_int_equal(cl.ram_size, 1024 * MiB);
	assert_int_equal(PARSE(&cl, "-m", "lots"), -EINVAL);
	assert_int_equal(PARSE(&cl, "-m", "12Q"), -EINVAL);
	assert_int_equal(PARSE(&cl, "-m", "99999999999999999999"), -EINVAL);
	assert_int_equal(PARSE(&cl, "-m", "20000000000T"), -EINVAL);
}

static void test_name_forms(void **state)
{
	struct nfm_qemu_cmdline cl;

	assert_int_equal(PARSE(&cl, "-name", "web1"), 0);
	assert_string_equal(cl.name, "web1");
	assert_int_equal(PARSE(&cl, "-name", "guest=db,debug-threads=on"), 0);
	assert_string_equal(cl.name, "db");
	assert_int_equal(PARSE(&cl, "-name", "web,,1,process=qemu-web"), 0);
	assert_string_equal(cl.name, "web,1");
	assert_int_equal(PARSE(&cl, "-nographic", "-name", "x", "-daemonize"), 0);
	assert_string_equal(cl.name, "x");
	/* An option without its argument at the end is ignored, not a crash. */
	assert_int_equal(PARSE(&cl, "-name"), 0);
	assert_string_equal(cl.name, "");
}

static void test_machine_forms(void **state)
{
	struct nfm_qemu_cmdline cl;

	assert_int_equal(PARSE(&cl, "-M", "q35"), 0);
	assert_int_equal(cl.machine, NFM_QEMU_MACHINE_Q35);
	assert_int_equal(PARSE(&cl, "-machine", "pc-q35-7.2,accel=kvm"), 0);
	assert_int_equal(cl.machine, NFM_QEMU_MACHINE_Q35);
	assert_string_equal(cl.machine_type, "pc-q35-7.2");
	assert_int_equal(PARSE(&cl, "-machine", "type=pc-i440fx-7.2,usb=off"), 0);
	assert_int_equal(cl.machine, NFM_QEMU_MACHINE_PC);
	assert_true(cl.gigabyte_align);
	assert_int_equal(PARSE(&cl, "-M", "pc-1.7"), 0);
	assert_int_equal(cl.machine, NFM_QEMU_MACHINE_PC);
	assert_false(cl.gigabyte_align);
	assert_int_equal(PARSE(&cl, "-machine", "accel=kvm"), 0);
	assert_int_equal(cl.machine, NFM_QEMU_MACHINE_PC);
	assert_int_equal(PARSE(&cl, "-M", "microvm"), 0);
	assert_int_equal(cl.machine, NFM_QEMU_MACHINE_OTHER);
	assert_int_equal(PARSE(&cl, "-machine", "q35,max-ram-below-4g=1G,memory-backend=pc.ram"), 0);
	assert_int_equal(cl.max_ram_below_4g, GiB);
	assert_string_equal(cl.ram_backend, "pc.ram");
}

static void test_qmp_forms(void **state)
{
	struct nfm_qemu_cmdline cl;

	assert_int_equal(PARSE(&cl, "-qmp", "unix:/run/a.sock,server=on,wait=off"), 0);
	assert_string_equal(cl.qmp, "/run/a.sock");
	assert_int_equal(PARSE(&cl, "-qmp", "unix:/tmp/q,server,nowait"), 0);
	assert_string_equal(cl.qmp, "/tmp/q");
	assert_int_equal(PARSE(&cl, "-qmp", "tcp:localhost:4444,server"), 0);
	assert_string_equal(cl.qmp, "");
	assert_int_equal(PARSE(&cl, "-chardev", "socket,id=mon0,path=/var/m.sock,server=on,wait=off",
			       "-mon", "chardev=mon0,mode=control"), 0);
	assert_string_equal(cl.qmp, "/var/m.sock");
	/* mode=readline is HMP, not QMP. */
	assert_int_equal(PARSE(&cl, "-chardev", "socket,id=h,path=/h.sock,server=on",
			       "-mon", "chardev=h,mode=readline"), 0);
	assert_string_equal(cl.qmp, "");
	/* libvirt passes the socket as an fd: no path to use. */
	assert_int_equal(PARSE(&cl, "-chardev", "socket,id=charmonitor,fd=27,server=on,wait=off",
			       "-mon", "chardev=charmonitor,id=monitor,mode=control"), 0);
	assert_string_equal(cl.qmp, "");
}

static void test_memdev_forms(void **state)
{
	struct nfm_qemu_cmdline cl;

	assert_int_equal(PARSE(&cl, "-object",
			       "memory-backend-file,id=mem,size=2G,mem-path=/dev/shm/vm,share=on",
			       "-machine", "q35,memory-backend=mem"), 0);
	assert_int_equal(cl.nr_memdevs, 1);
	assert_string_equal(cl.memdevs[0].id, "mem");
	assert_string_equal(cl.memdevs[0].type, "memory-backend-file");
	assert_string_equal(cl.memdevs[0].mem_path, "/dev/shm/vm");
	assert_true(cl.memdevs[0].share);
	assert_int_equal(cl.memdevs[0].size, 2 * GiB);
	assert_int_equal(cl.ram_size, 2 * GiB);	/* from the backend when -m is absent */
	assert_int_equal(PARSE(&cl, "-object", "memory-backend-memfd,id=m1,size=1073741824"), 0);
	assert_true(cl.memdevs[0].share);	/* memfd shares by default */
	assert_int_equal(cl.memdevs[0].size, GiB);
	assert_int_equal(PARSE(&cl, "-object",
			       "{\"qom-type\":\"memory-backend-file\",\"id\":\"pc.ram\",\"mem-path\":\"/dev/hugepages/libvirt/qemu\",\"share\":true,\"size\":4294967296}"),
			 0);
	assert_int_equal(cl.nr_memdevs, 1);
	assert_string_equal(cl.memdevs[0].id, "pc.ram");
	assert_string_equal(cl.memdevs[0].mem_path, "/dev/hugepages/libvirt/qemu");
	assert_true(cl.memdevs[0].share);
	assert_int_equal(cl.memdevs[0].size, 4 * GiB);
	assert_int_equal(PARSE(&cl, "-object", "iothread,id=io1", "-object", "rng-random,id=r"), 0);
	assert_int_equal(cl.nr_memdevs, 0);
}

static void test_parse_buf(void **state)
{
	static const char buf[] = "qemu-system-x86_64\0-m\0" "2G\0-name\0vm9\0-M\0q35";
	struct nfm_qemu_cmdline cl;

	/* The last argument has no NUL. */
	assert_int_equal(nfm_qemu_cmdline_parse_buf(buf, sizeof(buf) - 1, &cl), 0);
	assert_int_equal(cl.ram_size, 2 * GiB);
	assert_string_equal(cl.name, "vm9");
	assert_int_equal(cl.machine, NFM_QEMU_MACHINE_Q35);
	assert_true(nfm_qemu_is_qemu_path("/usr/bin/qemu-system-x86_64"));
	assert_true(nfm_qemu_is_qemu_path("/usr/libexec/qemu-kvm"));
	assert_false(nfm_qemu_is_qemu_path("/usr/bin/bash"));
}

static void split(const char *machine, uint64_t ram, uint64_t *below, uint64_t *above)
{
	struct nfm_qemu_cmdline cl;
	const char *a[] = { "qemu-system-x86_64", "-M", machine };

	assert_int_equal(nfm_qemu_cmdline_parse(a, 3, &cl), 0);
	cl.ram_size = ram;
	assert_int_equal(nfm_qemu_ram_split(&cl, below, above), 0);
}

static void test_split_table(void **state)
{
	static const struct {
		const char *machine;
		uint64_t ram, below, above;
	} t[] = {
		/* pc (i440fx): everything low up to 3.5 GiB, else split at 3 GiB */
		{ "pc", 512 * MiB, 512 * MiB, 0 },
		{ "pc", 3 * GiB, 3 * GiB, 0 },
		{ "pc", 3584 * MiB, 3 * GiB, 512 * MiB },
		{ "pc", 4 * GiB, 3 * GiB, GiB },
		{ "pc-i440fx-7.2", 8 * GiB, 3 * GiB, 5 * GiB },
		{ "pc-1.7", 4 * GiB, 3584 * MiB, 512 * MiB },	/* before gigabyte alignment */
		/* q35: everything low below 2.75 GiB, else split at 2 GiB */
		{ "q35", 512 * MiB, 512 * MiB, 0 },
		{ "q35", 2816 * MiB - 1, 2816 * MiB - 1, 0 },
		{ "q35", 2816 * MiB, 2 * GiB, 768 * MiB },
		{ "q35", 3 * GiB, 2 * GiB, GiB },
		{ "q35", 3584 * MiB, 2 * GiB, 1536 * MiB },
		{ "pc-q35-7.2", 4 * GiB, 2 * GiB, 2 * GiB },
		{ "q35", 8 * GiB, 2 * GiB, 6 * GiB },
		{ "pc-q35-1.7", 4 * GiB, 2816 * MiB, 1280 * MiB },
	};
	uint64_t below, above;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		split(t[i].machine, t[i].ram, &below, &above);
		assert_int_equal(below, t[i].below);
		assert_int_equal(above, t[i].above);
	}
	{
		struct nfm_qemu_cmdline cl;
		const char *a[] = { "qemu-system-x86_64", "-M", "pc,max-ram-below-4g=2G", "-m", "4G" };
		const char *b[] = { "qemu-system-x86_64", "-M", "microvm" };

		assert_int_equal(nfm_qemu_cmdline_parse(a, 5, &cl), 0);
		assert_int_equal(nfm_qemu_ram_split(&cl, &below, &above), 0);
		assert_int_equal(below, 2 * GiB);
		assert_int_equal(above, 2 * GiB);
		assert_int_equal(nfm_qemu_cmdline_parse(b, 3, &cl), 0);
		assert_int_equal(nfm_qemu_ram_split(&cl, &below, &above), -EOPNOTSUPP);
	}
}

/* NICs and their links: both ends of a dgram pair, of a socket listen/connect pair and of one
 * bridge get one link; user-mode networking none (private); QEMU's default MACs skip a given one. */
static void test_nic_links(void **state)
{
	struct nfm_qemu_cmdline a, b, c;

	assert_int_equal(PARSE(&a, "-netdev", "dgram,id=n0,local.type=unix,local.path=/r/ca-a.sock,"
			       "remote.type=unix,remote.path=/r/ca-b.sock",
			       "-device", "virtio-net-pci,netdev=n0,mac=52:54:00:80:01:01",
			       "-netdev", "user,id=u0", "-device", "e1000,netdev=u0",
			       "-netdev", "socket,id=s0,listen=:5555", "-device", "virtio-net-pci,netdev=s0",
			       "-nic", "bridge,br=virbr0,mac=52:54:00:12:34:56",
			       "-netdev", "vhost-user,id=v0,chardev=c0",
			       "-device", "virtio-net-pci,netdev=v0,mac=52:54:00:AA:BB:CC"), 0);
	assert_int_equal(a.nr_nics, 5);
	assert_string_equal(a.nics[0].netdev, "n0");
	assert_string_equal(a.nics[0].type, "dgram");
	assert_string_equal(a.nics[0].link, "unix:/r/ca-a.sock|/r/ca-b.sock");
	assert_string_equal(a.nics[0].mac, "52:54:00:80:01:01");
	assert_false(a.nics[0].mac_default);
	assert_string_equal(a.nics[1].type, "user");
	assert_string_equal(a.nics[1].link, "");
	assert_true(a.nics[1].known);
	/* 52:54:00:12:34:56 is the -nic's: the defaults start at :57 */
	assert_string_equal(a.nics[1].mac, "52:54:00:12:34:57");
	assert_true(a.nics[1].mac_default);
	assert_string_equal(a.nics[2].link, "tcp:5555");
	assert_string_equal(a.nics[2].mac, "52:54:00:12:34:58");
	assert_string_equal(a.nics[3].netdev, "");
	assert_string_equal(a.nics[3].link, "bridge:virbr0");
	assert_string_equal(a.nics[3].mac, "52:54:00:12:34:56");
	assert_false(a.nics[4].known);
	assert_string_equal(a.nics[4].mac, "52:54:00:aa:bb:cc");
	/* the other ends: the same links */
	assert_int_equal(PARSE(&b, "-netdev", "dgram,id=x,local.type=unix,local.path=/r/ca-b.sock,"
			       "remote.type=unix,remote.path=/r/ca-a.sock", "-device",
			       "virtio-net-pci,netdev=x", "-netdev", "socket,id=y,connect=127.0.0.1:5555",
			       "-device", "e1000,netdev=y", "-netdev", "tap,id=t,br=virbr0",
			       "-device", "e1000,netdev=t"), 0);
	assert_int_equal(b.nr_nics, 3);
	assert_string_equal(b.nics[0].link, a.nics[0].link);
	assert_string_equal(b.nics[0].mac, "52:54:00:12:34:56");
	assert_string_equal(b.nics[1].link, a.nics[2].link);
	assert_string_equal(b.nics[2].link, a.nics[3].link);
	/* taps as the host must resolve them; a -device naming no netdev is no NIC; -nic none */
	assert_int_equal(PARSE(&c, "-netdev", "tap,id=t0,ifname=vnet3", "-device", "e1000,netdev=t0",
			       "-netdev", "{\"type\":\"tap\",\"fd\":\"33\",\"id\":\"h0\"}",
			       "-device", "virtio-net-pci,netdev=h0", "-device", "e1000,netdev=nope",
			       "-nic", "none"), 0);
	assert_int_equal(c.nr_nics, 2);
	assert_string_equal(c.nics[0].link, "tap:vnet3");
	assert_string_equal(c.nics[1].link, "tapfd:33");
	assert_true(c.nics[1].known);
	/* legacy -net nic: on a hub, not followed (said unknown); -net user is its backend */
	assert_int_equal(PARSE(&c, "-net", "nic,model=e1000", "-net", "user"), 0);
	assert_int_equal(c.nr_nics, 1);
	assert_string_equal(c.nics[0].type, "hub");
	assert_false(c.nics[0].known);
	assert_string_equal(c.nics[0].mac, "52:54:00:12:34:56");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_memory_forms),
		cmocka_unit_test(test_name_forms),
		cmocka_unit_test(test_machine_forms),
		cmocka_unit_test(test_qmp_forms),
		cmocka_unit_test(test_memdev_forms),
		cmocka_unit_test(test_parse_buf),
		cmocka_unit_test(test_split_table),
		cmocka_unit_test(test_nic_links),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
