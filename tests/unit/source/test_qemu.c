// SPDX-License-Identifier: GPL-2.0-or-later
/* Live-QEMU helpers on captured text: info mtree -f, gpa2hva, /proc/PID/maps; spec errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "source/qemu.h"
#include "source/qmp.h"

/* Captured from QEMU 7.2, `-m 8G` on the pc machine (trimmed). */
static const char mtree[] =
	"FlatView #0\n"
	" AS \"memory\", root: system\n"
	" AS \"cpu-memory-0\", root: system\n"
	" Root memory region: system\n"
	"  0000000000000000-000000000009ffff (prio 0, ram): pc.ram\n"
	"  00000000000a0000-00000000000bffff (prio 1, i/o): vga-lowmem\n"
	"  00000000000c0000-00000000000cafff (prio 0, rom): pc.ram @00000000000c0000\n"
	"  00000000000cb000-00000000000cdfff (prio 0, ram): pc.ram @00000000000cb000\n"
	"  00000000000e0000-00000000000fffff (prio 1, rom): isa-bios\n"
	"  0000000000100000-00000000bfffffff (prio 0, ram): pc.ram @0000000000100000\n"
	"  00000000fd000000-00000000fdffffff (prio 1, ram): vga.vram\n"
	"  0000000100000000-000000023fffffff (prio 0, ram): pc.ram @00000000c0000000\n"
	"\n"
	"FlatView #1\n"
	" AS \"I/O\", root: io\n"
	" Root memory region: io\n"
	"  0000000000000000-0000000000000007 (prio 0, i/o): dma-chan\n";

static void test_mtree(void **state)
{
	static const char *const names[] = { "pc.ram", NULL };
	struct nfm_qmp_ram *r;

	assert_int_equal(nfm_qmp_parse_mtree(mtree, names, &r), 4);
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[0].size, 0xa0000);
	assert_int_equal(r[1].start, 0xcb000);
	assert_int_equal(r[1].offset, 0xcb000);
	assert_int_equal(r[2].start, 0x100000);
	assert_int_equal(r[2].size, 0xbff00000);
	assert_int_equal(r[3].start, 0x100000000ULL);
	assert_int_equal(r[3].size, 0x140000000ULL);
	assert_int_equal(r[3].offset, 0xc0000000);
	free(r);
	/* Unknown names: the block with the most bytes wins over vga.vram. */
	assert_int_equal(nfm_qmp_parse_mtree(mtree, NULL, &r), 4);
	assert_string_equal(r[0].name, "pc.ram");
	free(r);
	assert_int_equal(nfm_qmp_parse_mtree("garbage\n", NULL, &r), -EBADMSG);
}

static void test_gpa2hva(void **state)
{
	uint64_t hva;

	assert_int_equal(nfm_qmp_parse_gpa2hva("Host virtual address for 0x100000000 (pc.ram) is 0x7f8723e00000\r\n", &hva), 0);
	assert_int_equal(hva, 0x7f8723e00000ULL);
	assert_int_equal(nfm_qmp_parse_gpa2hva("Error: No memory is mapped at address 0xc0000000\r\n", &hva), -EBADMSG);
}

/* "info registers -a" of a two-vCPU 6.1 guest (QEMU 7.2), trimmed after CR4. */
static const char regs_a[] =
	"\r\nCPU#0\r\n"
	"RAX=ffffce638000b0f0 RBX=000000000000573c RCX=d406714d00000000 RDX=0000000000000001\r\n"
	"RSI=0000000000000246 RDI=ffffffffa1e39660 RBP=ffffce6380623e50 RSP=ffffce6380623e00\r\n"
	"R8 =0000000000000200 R9 =0000000000000000 R10=0000000000000000 R11=0000000000000000\r\n"
	"R12=0000000000000000 R13=000000000000000d R14=0000000000000000 R15=00000000000000ff\r\n"
	"RIP=ffffffffa047140d RFL=00000086 [--S--P-] CPL=0 II=0 A20=1 SMM=0 HLT=0\r\n"
	"ES =0000 0000000000000000 00000000 00000000\r\n"
	"CS =0010 0000000000000000 ffffffff 00a09b00 DPL=0 CS64 [-RA]\r\n"
	"GS =0000 ffff8dc51f400000 00000000 00000000\r\n"
	"CR0=80050033 CR2=00007f0d0c239000 CR3=0000000002762000 CR4=00750eb0\r\n"
	"\r\nCPU#1\r\n"
	"RAX=000000000001ad40 RBX=0000000000000000 RCX=7fffffe3e6ac4cff RDX=4000000000000000\r\n"
	"RSI=0000000000000001 RDI=000000000001b4cc RBP=0000000000000000 RSP=00007ffc1000bed8\r\n"
	"R8 =0000000000000000 R9 =000000003d27ba16 R10=00000000fffffffb R11=0000000000000001\r\n"
	"R12=0000000000000001 R13=0000000000000000 R14=0000000000000000 R15=0000000000000000\r\n"
	"RIP=0000000000401a0b RFL=00000246 [---Z-P-] CPL=3 II=0 A20=1 SMM=0 HLT=0\r\n"
	"CS =0033 0000000000000000 ffffffff 00a0fb00 DPL=3 CS64 [-RA]\r\n"
	"GS =0000 0000000000000000 00000000 00000000\r\n"
	"CR0=80050033 CR2=0000000000584980 CR3=0000000002bc6000 CR4=00750ea0\r\n";

static void test_parse_regs(void **state)
{
	struct nfm_cpu_state *c = NULL;
	size_t n = 0;

	assert_int_equal(nfm_qmp_parse_regs(regs_a, &c, &n), 0);
	assert_int_equal(n, 2);
	assert_true(c[0].has_gprs && c[1].has_gprs);
	assert_int_equal(c[0].gpr[NFM_GPR_AX], 0xffffce638000b0f0ULL);
	assert_int_equal(c[0].gpr[NFM_GPR_BP], 0xffffce6380623e50ULL);
	assert_int_equal(c[0].gpr[NFM_GPR_SP], 0xffffce6380623e00ULL);
	assert_int_equal(c[0].rsp, 0xffffce6380623e00ULL);
	assert_int_equal(c[0].gpr[NFM_GPR_R8], 0x200);
	assert_int_equal(c[0].gpr[NFM_GPR_R13], 0xd);
	assert_int_equal(c[0].gpr[NFM_GPR_R15], 0xff);
	assert_int_equal(c[0].rip, 0xffffffffa047140dULL);
	assert_int_equal(c[0].rflags, 0x86);
	assert_int_equal(c[0].cs, 0x10);
	assert_int_equal(c[0].gs_base, 0xffff8dc51f400000ULL);
	assert_int_equal(c[0].cr3, 0x2762000);
	assert_int_equal(c[1].cs & 3, 3);
	assert_int_equal(c[1].rip, 0x401a0b);
	assert_int_equal(c[1].gs_base, 0);
	free(c);
	/* a CPU without its general registers, or no CPU at all: refused, not zeros */
	assert_int_equal(nfm_qmp_parse_regs("CPU#0\r\nRAX=1 RBX=2\r\nRIP=3 RFL=2\r\n", &c, &n),
			 -EBADMSG);
	assert_int_equal(nfm_qmp_parse_regs("garbage", &c, &n), -EBADMSG);
	assert_int_equal(nfm_qmp_parse_regs(NULL, &c, &n), -EBADMSG);
}

static const char maps[] =
	"55d0c2a00000-55d0c2e3e000 r--p 00000000 08:01 1311 /usr/bin/qemu-system-x86_64\n"
	"7f3e83e00000-7f3ec3e00000 rwxp 00000000 00:00 0 \n"
	"7f3ec3dff000-7f3ec3e00000 ---p 00000000 00:00 0 \n"
	"7f3ec3e00000-7f3fc3e00000 rw-p 00000000 00:00 0 \n"
	"7f4000000000-7f4040000000 rw-s 00000000 00:01 2048 /memfd:memory-backend-memfd (deleted)\n"
	"7f5000000000-7f5040000000 rw-s 00000000 00:1a 77 /dev/shm/vm.ram\n"
	"7ffd1c000000-7ffd1c021000 rw-p 00000000 00:00 0 [stack]\n";

static void test_maps(void **state)
{
	struct nfm_qemu_memdev memfd = { .type = "memory-backend-memfd" };
	struct nfm_qemu_memdev file = { .type = "memory-backend-file", .mem_path = "/dev/shm/vm.ram" };
	struct nfm_qemu_memdev dir = { .type = "memory-backend-file", .mem_path = "/dev/shm" };
	struct nfm_qemu_map *m;
	size_t idx;
	int n;

	n = nfm_qemu_parse_maps(maps, &m);
	assert_int_equal(n, 7);
	assert_int_equal(m[3].start, 0x7f3ec3e00000ULL);
	assert_string_equal(m[3].perms, "rw-p");
	assert_string_equal(m[3].path, "");
	assert_string_equal(m[4].path, "/memfd:memory-backend-memfd (deleted)");
	/* 4 GiB anonymous: not the 1 GiB rwx TCG buffer. */
	assert_int_equal(nfm_qemu_find_ram_map(m, n, 4ULL << 30, NULL, &idx), 1);
	assert_int_equal(idx, 3);
	/* 1 GiB anonymous: the rwx buffer does not count. */
	assert_int_equal(nfm_qemu_find_ram_map(m, n, 1ULL << 30, NULL, &idx), -ENOENT);
	assert_int_equal(nfm_qemu_find_ram_map(m, n, 1ULL << 30, &memfd, &idx), 1);
	assert_int_equal(idx, 4);
	assert_int_equal(nfm_qemu_find_ram_map(m, n, 1ULL << 30, &file, &idx), 1);
	assert_int_equal(idx, 5);
	assert_int_equal(nfm_qemu_find_ram_map(m, n, 1ULL << 30, &dir, &idx), 1);
	assert_int_equal(idx, 5);
	free(m);
}

static char last_err[512];

static void logfn(void *u, enum nfm_log_level l, const char *msg)
{
	if (l == NFM_LOG_ERR)
		snprintf(last_err, sizeof(last_err), "%s", msg);
}

/* QMP's layout against the guess from the maps (settle keeps the scan's reads when it refines). */
static void test_layout_refines(void **state)
{
	const uint64_t hva = 0x7f0000000000ull;
	const struct nfm_source_range guess[] = {
		{ 0, 3ull << 30, hva },
		{ 4ull << 30, 1ull << 30, hva + (3ull << 30) },
	};
	struct nfm_source_range q[] = {
		{ 0, 0xa0000, hva },
		{ 0xc0000, (3ull << 30) - 0xc0000, hva + 0xc0000 },
		{ 4ull << 30, 1ull << 30, hva + (3ull << 30) },
	};

	(void)state;
	assert_true(nfm_qemu_layout_refines(guess, 2, 0, guess, 2));
	assert_true(nfm_qemu_layout_refines(guess, 2, 0, q, 3));
	/* Relative to a mapping of the RAM at hva (shared RAM mmapped). */
	{
		struct nfm_source_range rel[2] = { guess[0], guess[1] };

		rel[0].backing -= hva;
		rel[1].backing -= hva;
		assert_true(nfm_qemu_layout_refines(rel, 2, hva, q, 3));
		assert_false(nfm_qemu_layout_refines(rel, 2, 0, q, 3));
	}
	/* The low RAM ends elsewhere (another split): the high part's bytes differ. */
	q[2].backing = hva + (2ull << 30);
	assert_false(nfm_qemu_layout_refines(guess, 2, 0, q, 3));
	q[2].backing = hva + (3ull << 30);
	/* RAM the guess does not have, or running past its range. */
	q[2].size = 2ull << 30;
	assert_false(nfm_qemu_layout_refines(guess, 2, 0, q, 3));
	q[2] = (struct nfm_source_range){ 8ull << 30, 4096, hva };
	assert_false(nfm_qemu_layout_refines(guess, 2, 0, q, 3));
}

static void test_spec_errors(void **state)
{
	struct nfm_log log = { logfn, NULL, NFM_LOG_ERR };
	struct nfm_source *src;
	char want[64];

	assert_int_equal(nfm_source_open("pid:999999999", &log, &src), -ENOENT);
	assert_string_equal(last_err, "no process 999999999");
	assert_int_equal(nfm_source_open("pid:abc", &log, &src), -EINVAL);
	/* Our own process is not QEMU. */
	snprintf(want, sizeof(want), "%d", getpid());
	assert_int_equal(nfm_source_open(want, &log, &src), -ENOENT);
	snprintf(want, sizeof(want), "pid %d is not a QEMU process", getpid());
	assert_string_equal(last_err, want);
	assert_int_equal(nfm_source_open("name:no-such-vm-xyz", &log, &src), -ENOENT);
	assert_string_equal(last_err, "no VM named no-such-vm-xyz (see nfm list)");
	assert_int_equal(nfm_source_open("no-such-vm-xyz", &log, &src), -ENOENT);
	assert_string_equal(last_err, "no VM named no-such-vm-xyz (see nfm list)");
	assert_int_equal(nfm_source_open("libvirt:no-such-vm-xyz", &log, &src), -ENOENT);
	assert_int_equal(nfm_source_open("qmp:/nonexistent.sock", &log, &src), -ENOENT);
}

/*
 * A fake QMP server in a child process: accepts one client, greets it once it has asked for
 * capabilities, reads until it has seen `lines` more request lines, then answers with `reply` in
 * a single write (several replies in one recv(), an event among them), as QEMU may when commands
 * are pipelined.
 */
static pid_t fake_qmp(const char *path, int lines, const char *reply)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int ls = socket(AF_UNIX, SOCK_STREAM, 0);
	pid_t pid;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(ls, 1), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		static const char hello[] = "{\"QMP\": {\"version\": {}}}\r\n{\"return\": {}}\r\n";
		char buf[4096];
		int c = accept(ls, NULL, NULL), seen = 0;
		ssize_t n;

		while (seen < 1 && (n = read(c, buf, sizeof(buf))) > 0)
			for (ssize_t i = 0; i < n; i++)
				seen += buf[i] == '\n';
		if (write(c, hello, strlen(hello)) < 0)
			_exit(1);
		while (seen < 1 + lines && (n = read(c, buf, sizeof(buf))) > 0)
			for (ssize_t i = 0; i < n; i++)
				seen += buf[i] == '\n';
		if (write(c, reply, strlen(reply)) < 0)
			_exit(1);
		sleep(1);
		_exit(0);
	}
	close(ls);
	return pid;
}

static void test_qmp_pipelined_replies(void **state)
{
	static const char reply[] =
		"{\"return\": \"one\\r\\n\"}\r\n"
		"{\"event\": \"RESUME\", \"data\": {}}\r\n"
		"{\"return\": \"two \\\"quoted\\\"\"}\r\n"
		"{\"return\": \"three\"}\r\n";
	const char *cmds[] = { "info a", "info b", "info c" };
	char path[64], *out[3];
	int fd, status;
	pid_t pid;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/nfm-test-qmp-%d.sock", getpid());
	pid = fake_qmp(path, 3, reply);
	fd = nfm_qmp_connect(path);
	assert_true(fd >= 0);
	assert_int_equal(nfm_qmp_hmp_many(fd, cmds, 3, out), 0);
	assert_string_equal(out[0], "one\r\n");
	assert_string_equal(out[1], "two \"quoted\"");
	assert_string_equal(out[2], "three");
	for (int i = 0; i < 3; i++)
		free(out[i]);
	close(fd);
	waitpid(pid, &status, 0);
	unlink(path);
}

static void test_qmp_error_reply(void **state)
{
	static const char reply[] =
		"{\"return\": \"fine\"}\r\n"
		"{\"error\": {\"class\": \"GenericError\", \"desc\": \"no\"}}\r\n";
	const char *cmds[] = { "info a", "info b" };
	char path[64], *out[2];
	int fd, status;
	pid_t pid;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/nfm-test-qmp-%d.sock", getpid());
	pid = fake_qmp(path, 2, reply);
	fd = nfm_qmp_connect(path);
	assert_true(fd >= 0);
	assert_int_equal(nfm_qmp_hmp_many(fd, cmds, 2, out), -EPROTO);
	assert_null(out[0]);
	assert_null(out[1]);
	close(fd);
	waitpid(pid, &status, 0);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mtree),
		cmocka_unit_test(test_gpa2hva),
		cmocka_unit_test(test_maps),
		cmocka_unit_test(test_layout_refines),
		cmocka_unit_test(test_spec_errors),
		cmocka_unit_test(test_qmp_pipelined_replies),
		cmocka_unit_test(test_qmp_error_reply),
		cmocka_unit_test(test_parse_regs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
