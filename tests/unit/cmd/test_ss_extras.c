// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ss -o, -m and -xe's words (cmd/nfm/ss_extras_text.c) against iproute2 6.1's misc/ss.c:
 * print_ms_timer()'s odd forms ("9.596ms" is 9 s 596 ms; minutes drop the milliseconds, ten
 * of them the seconds), tcp_timer_print()'s names, print_skmeminfo()'s order, unix_show_sock()'s
 * arrows, its ino:/dev: with glibc's major()/minor() of the kernel's dev_t, and peers:; a
 * buffer too small cut safely.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <nfm/system.h>

#include "ss_extras.h"

static const char *ms(uint32_t v)
{
	static char buf[64];

	ss_ms_timer(v, buf, sizeof(buf));
	return buf;
}

static void test_ms_timer(void **state)
{
	(void)state;
	assert_string_equal(ms(0), "");
	assert_string_equal(ms(5), "005ms");
	assert_string_equal(ms(200), "200ms");
	assert_string_equal(ms(1000), "1sec");
	assert_string_equal(ms(1200), "1.200ms");
	assert_string_equal(ms(9596), "9.596ms");
	assert_string_equal(ms(10000), "10sec");
	assert_string_equal(ms(12345), "12sec");
	assert_string_equal(ms(59999), "59sec");
	assert_string_equal(ms(60000), "1min");
	assert_string_equal(ms(65432), "1min5sec");
	assert_string_equal(ms(599999), "9min59sec");
	assert_string_equal(ms(600000), "10min");
	assert_string_equal(ms(3599000), "59min");
	assert_string_equal(ms(7199999), "119min");
	assert_string_equal(ms(UINT32_MAX), "71582min");
}

static void test_timer_text(void **state)
{
	struct nfm_socket_timer t = { NFM_SOCK_TIMER_ON, 200, 0 };
	char buf[128];

	(void)state;
	ss_timer_text(&t, buf, sizeof(buf));
	assert_string_equal(buf, " timer:(on,200ms,0)");
	t = (struct nfm_socket_timer){ NFM_SOCK_TIMER_KEEPALIVE, 7199999, 0 };
	ss_timer_text(&t, buf, sizeof(buf));
	assert_string_equal(buf, " timer:(keepalive,119min,0)");
	t = (struct nfm_socket_timer){ NFM_SOCK_TIMER_TIMEWAIT, 59396, 0 };
	ss_timer_text(&t, buf, sizeof(buf));
	assert_string_equal(buf, " timer:(timewait,59sec,0)");
	t = (struct nfm_socket_timer){ NFM_SOCK_TIMER_PERSIST, 0, 3 };
	ss_timer_text(&t, buf, sizeof(buf));
	assert_string_equal(buf, " timer:(persist,,3)");	/* due: ss prints no time */
	t = (struct nfm_socket_timer){ 9, 1, 1 };
	ss_timer_text(&t, buf, sizeof(buf));
	assert_string_equal(buf, " timer:(unknown,001ms,1)");
	t = (struct nfm_socket_timer){ NFM_SOCK_TIMER_OFF, 5, 5 };
	ss_timer_text(&t, buf, sizeof(buf));
	assert_string_equal(buf, "");
	t = (struct nfm_socket_timer){ NFM_SOCK_TIMER_ON, 200, 0 };
	ss_timer_text(&t, buf, 8);
	assert_string_equal(buf, " timer:");
}

static void test_skmem_text(void **state)
{
	struct nfm_socket_meminfo m = { 0, 131072, 0, 16384, (uint32_t)-1280, 0, 0, 0, 7 };
	char buf[128];

	(void)state;
	ss_skmem_text(&m, buf, sizeof(buf));
	/* f is an int the kernel keeps; ss prints it %u as the netlink u32 it gets */
	assert_string_equal(buf, " skmem:(r0,rb131072,t0,tb16384,f4294966016,w0,o0,bl0,d7)");
	ss_skmem_text(&m, buf, 10);
	assert_string_equal(buf, " skmem:(r");
}

static void test_unix_text(void **state)
{
	struct nfm_socket_unix_details d = { 0 };
	uint64_t peers[2] = { 10452, 0x100000007ull };
	char buf[128];

	(void)state;
	ss_unix_text(&d, NULL, -1, buf, sizeof(buf));
	assert_string_equal(buf, " <->");
	d.shutdown = 1;
	ss_unix_text(&d, NULL, -1, buf, sizeof(buf));
	assert_string_equal(buf, " -->");
	d.shutdown = 2;
	ss_unix_text(&d, NULL, -1, buf, sizeof(buf));
	assert_string_equal(buf, " <--");
	d.shutdown = 3;
	ss_unix_text(&d, NULL, -1, buf, sizeof(buf));
	assert_string_equal(buf, " ---");
	/* tmpfs 0:23: small numbers come out right */
	d = (struct nfm_socket_unix_details){ 0, true, 337, 0, 23 };
	ss_unix_text(&d, NULL, -1, buf, sizeof(buf));
	assert_string_equal(buf, " <-> ino:337 dev:0/23");
	/* a disk's 8:1 is 0x800001 in the kernel's encoding: glibc's major() reads 0, minor 2049 */
	d = (struct nfm_socket_unix_details){ 0, true, 0x100000011ull, 8, 1 };
	ss_unix_text(&d, NULL, -1, buf, sizeof(buf));
	assert_string_equal(buf, " <-> ino:17 dev:0/2049");	/* udiag_vfs_ino is a u32 */
	d = (struct nfm_socket_unix_details){ 0, true, 5, 259, 0 };
	ss_unix_text(&d, NULL, -1, buf, sizeof(buf));
	assert_string_equal(buf, " <-> ino:5 dev:0/66304");
	/* a listener: peers: even with none pending */
	d = (struct nfm_socket_unix_details){ 0 };
	ss_unix_text(&d, peers, 0, buf, sizeof(buf));
	assert_string_equal(buf, " <-> peers:");
	ss_unix_text(&d, peers, 2, buf, sizeof(buf));
	assert_string_equal(buf, " <-> peers: 10452 7");
	/* details that did not read: the peers alone */
	ss_unix_text(NULL, peers, 1, buf, sizeof(buf));
	assert_string_equal(buf, " peers: 10452");
	ss_unix_text(&d, peers, 2, buf, 12);
	assert_string_equal(buf, " <-> peers:");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ms_timer),
		cmocka_unit_test(test_timer_text),
		cmocka_unit_test(test_skmem_text),
		cmocka_unit_test(test_unix_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
