// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The TCP hash census behind ss's and check's cross view (lib/net/net_sockstat.c,
 * nfm_tcp_hashed_count) over synthetic guest memory with the 6.1 lab kernel's layout (the fuzz
 * targets' guest, fuzz/common/btfguest.h): full socks counted by family, TIME-WAIT and request
 * socks apart, the same sockets nfm_socket_list() walks; and hostile chains (a loop, a pointer
 * out of the kernel, a bucket count beyond any table) refused with the reason, not counted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <netinet/in.h>
#include <cmocka.h>

#include <nfm/system.h>

#include "net/seednet.h"

#define NSK 5

/* the socks of ehash bucket 3, chained in order */
static const uint8_t sk_state[NSK] = { 1, 1, 1, 6, 12 };	/* ESTABLISHED, TIME_WAIT, NEW_SYN_RECV */
static const uint16_t sk_family[NSK] = { 2, 2, 10, 2, 2 };	/* AF_INET, AF_INET6 */

static uint32_t nn(void)
{
	return fz_off("sock", "__sk_common.skc_nulls_node");
}

static void seed(struct fz_seed *s, uint32_t emask)
{
	seed_net(s);
	seed_ehash(s, emask, 3, NSK, sk_state, sk_family);
}

static struct fz_guest *guest(struct fz_seed *s)
{
	return fz_guest_new(s->buf, s->len);
}

static void test_census_by_kind(void **state)
{
	static struct fz_seed s;
	struct nfm_tcp_hashed h;
	struct nfm_socket *list;
	struct fz_guest *g;
	bool trunc = false;
	int n, tcp = 0;

	(void)state;
	s.len = 0;
	seed(&s, 7);
	g = guest(&s);
	assert_int_equal(nfm_tcp_hashed_count(g->ctx, 0, &h), 0);
	assert_int_equal(h.hashed4, 2);
	assert_int_equal(h.hashed6, 1);
	assert_int_equal(h.timewait, 1);
	assert_int_equal(h.syn_recv, 1);
	assert_int_equal(h.unread, 0);
	/* the census counts what the socket walk lists: every TCP sock of the table */
	n = nfm_socket_list(g->ctx, &list, &trunc);
	assert_true(n >= 0);
	for (int i = 0; i < n; i++)
		tcp += list[i].protocol == IPPROTO_TCP;
	assert_int_equal(tcp, NSK);	/* (partial: this guest has no UDP or unix tables) */
	free(list);
	/* a namespace nobody has */
	assert_int_equal(nfm_tcp_hashed_count(g->ctx, 12345, &h), -ENOENT);
	fz_guest_free(g);
}

static void test_hostile_chains(void **state)
{
	static struct fz_seed s;
	struct nfm_tcp_hashed h = { .hashed4 = 77 };
	struct fz_guest *g;

	(void)state;
	/* the last sock points back at the first: a loop */
	s.len = 0;
	seed(&s, 7);
	fz_put64(&s, SK(NSK - 1) + nn(), FZ_KV(SK(0) + nn()));
	g = guest(&s);
	assert_int_equal(nfm_tcp_hashed_count(g->ctx, 0, &h), -ELOOP);
	assert_int_equal(h.hashed4, 77);	/* not written */
	fz_guest_free(g);
	/* a chain into user space */
	s.len = 0;
	seed(&s, 7);
	fz_put64(&s, SK(1) + nn(), 0x00007fff00001000ull);
	g = guest(&s);
	assert_int_equal(nfm_tcp_hashed_count(g->ctx, 0, &h), -EBADMSG);
	fz_guest_free(g);
	/* a bucket count no table of this guest's size can have */
	s.len = 0;
	seed(&s, 0x7fffffff);
	g = guest(&s);
	assert_int_equal(nfm_tcp_hashed_count(g->ctx, 0, &h), -EBADMSG);
	fz_guest_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_census_by_kind),
		cmocka_unit_test(test_hostile_chains),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
