// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Loops in the networking walks' chains and trees, over synthetic guest memory with the 6.1 lab
 * kernel's layout (fuzz/common/btfguest.h): the neighbour hash (lib/net/net_neigh.c), the unix
 * socket hash (net_unix.c) and the route trie with its alias lists (net_route.c). A chain that
 * loops into itself or into another bucket's chain, a trie node that is its own descendant:
 * every object is listed once, and the view says it was cut.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <cmocka.h>

#include <nfm/system.h>

#include "net/net_common.h"
#include "net/net_unix.h"
#include "net/seednet.h"
#include "common/seedtask.h"
#include "util/pack.h"

#define ND_NHT 0x38000u		/* nd_tbl: one empty bucket */
#define ND_BUCKETS 0x38100u
#define TNODE 0x38800u		/* a trie node splitting on one bit */
#define UNX 0x39000u		/* init_net's unix hash: 512 heads */
#define USK(i) (0x3a000u + (i) * 0x1000u)

static struct fz_guest *guest(struct fz_seed *s)
{
	return fz_guest_new(s->buf, s->len);
}

/* seed_neigh, and an empty nd_tbl: the clean guest's walk is complete. */
static void seed_neigh_both(struct fz_seed *s)
{
	uint32_t nd = fz_sym_pa("nd_tbl");

	s->len = 0;
	seed_neigh(s);
	fz_put64(s, nd + fz_off("neigh_table", "nht"), FZ_KV(ND_NHT));
	fz_put32(s, nd + fz_off("neigh_table", "key_len"), 16);
	fz_put64(s, ND_NHT + fz_off("neigh_hash_table", "hash_buckets"), FZ_KV(ND_BUCKETS));
}

enum walker { NEIGHBOURS, ROUTES };

/* The walker's count over the guest s builds (and *trunc). */
static int walk(struct fz_seed *s, enum walker w, bool *trunc)
{
	struct fz_guest *g = guest(s);
	struct nfm_neigh *e = NULL;
	struct nfm_route *r = NULL;
	int n;

	*trunc = false;
	n = w == NEIGHBOURS ? nfm_neigh_list(g->ctx, &e, trunc) : nfm_route_list(g->ctx, &r, trunc);
	free(e);
	free(r);
	fz_guest_free(g);
	return n;
}

static void test_neigh_loops(void **state)
{
	static struct fz_seed s;
	uint32_t next = fz_off("neighbour", "next");
	bool trunc;

	(void)state;
	seed_neigh_both(&s);
	assert_int_equal(walk(&s, NEIGHBOURS, &trunc), 2);
	assert_false(trunc);
	/* bucket 5's second neighbour points back at the first */
	seed_neigh_both(&s);
	fz_put64(&s, NEIGH(1) + next, FZ_KV(NEIGH(0)));
	assert_int_equal(walk(&s, NEIGHBOURS, &trunc), 2);
	assert_true(trunc);
	/* and at itself */
	seed_neigh_both(&s);
	fz_put64(&s, NEIGH(1) + next, FZ_KV(NEIGH(1)));
	assert_int_equal(walk(&s, NEIGHBOURS, &trunc), 2);
	assert_true(trunc);
	/* bucket 6's neighbour leads into bucket 5's chain: its own row, not theirs again */
	seed_neigh_both(&s);
	fz_put64(&s, BUCKETS + 6 * 8, FZ_KV(NEIGH(2)));
	fz_put64(&s, NEIGH(2) + fz_off("neighbour", "dev"), FZ_KV(DEV(1)));
	fz_put64(&s, NEIGH(2) + next, FZ_KV(NEIGH(1)));
	assert_int_equal(walk(&s, NEIGHBOURS, &trunc), 3);
	assert_true(trunc);
}

/* init_net's unix hash: sockets 0 and 1 chained in bucket 7, socket 2 alone in bucket 9. */
static void seed_unix(struct fz_seed *s)
{
	uint32_t node = fz_off("sock", "__sk_common.skc_node");
	int i;

	s->len = 0;
	seed_net(s);
	fz_put64(s, NET + fz_off("net", "unx.table.buckets"), FZ_KV(UNX));
	fz_put64(s, UNX + 7 * 8, FZ_KV(USK(0) + node));
	fz_put64(s, UNX + 9 * 8, FZ_KV(USK(2) + node));
	for (i = 0; i < 3; i++) {
		fz_put64(s, USK(i) + fz_off("sock", "__sk_common.skc_net"), FZ_KV(NET));
		fz_put16(s, USK(i) + fz_off("sock", "sk_type"), 1);	/* SOCK_STREAM */
		/* an empty receive queue: its head linked to itself */
		fz_put64(s, USK(i) + fz_off("sock", "sk_receive_queue"),
			 FZ_KV(USK(i) + fz_off("sock", "sk_receive_queue")));
	}
	fz_put64(s, USK(0) + node, FZ_KV(USK(1) + node));
}

/* The unix sockets' count; *trunc as nfm_unix_collect says; *rx0: USK(0)'s Recv-Q. */
static int unix_socks_rx(struct fz_seed *s, bool *trunc, uint32_t *rx0)
{
	struct fz_guest *g = guest(s);
	struct nfm_socket *list;
	struct nfm_netns *ns;
	struct nfm_pack pk;
	int n, nns, i;

	*trunc = false;
	nns = nfm_netns_list(g->ctx, &ns, NULL);
	assert_int_equal(nns, 1);
	nfm_pack_init(&pk, sizeof(struct nfm_socket));
	assert_int_equal(nfm_unix_collect(g->ctx, ns, nns, &pk, trunc), 0);
	n = nfm_pack_finish(&pk, NULL, 0, (void **)&list);
	assert_true(n >= 0);
	/* no socket twice */
	for (i = 1; i < n; i++)
		for (int j = 0; j < i; j++)
			assert_true(list[i].sk != list[j].sk);
	for (i = 0; i < n; i++)
		if (list[i].sk == FZ_KV(USK(0)))
			*rx0 = list[i].rx_queue;
	free(list);
	free(ns);
	fz_guest_free(g);
	return n;
}

static int unix_socks(struct fz_seed *s, bool *trunc)
{
	uint32_t rx0;

	return unix_socks_rx(s, trunc, &rx0);
}

/* USK(0)'s receive queue: skbs at SKB(0..n) of lengths len[], each linked to next[] */
#define SKB(i) (USK(2) + 0x800u + (i) * 0x100u)
static void seed_queue(struct fz_seed *s, uint32_t qlen, int n, const uint32_t *len,
		       const uint64_t *next, uint32_t consumed0)
{
	uint32_t q = fz_off("sock", "sk_receive_queue");
	int i;

	fz_put64(s, USK(0) + q, FZ_KV(SKB(0)));
	fz_put32(s, USK(0) + fz_off("sock", "sk_receive_queue.qlen"), qlen);
	for (i = 0; i < n; i++) {
		fz_put32(s, SKB(i) + fz_off("sk_buff", "len"), len[i]);
		fz_put64(s, SKB(i) + fz_off("sk_buff", "next"), next[i]);
	}
	fz_put32(s, SKB(0) + fz_off("sk_buff", "cb") + fz_off("unix_skb_parms", "consumed"),
		 consumed0);
}

/* ss -x's Recv-Q of a stream socket: the queued skbs' bytes less what was read of the first;
 * a queue that loops, or whose links and qlen disagree, is bounded and said. */
static void test_unix_queue(void **state)
{
	static struct fz_seed s;
	const uint32_t len[] = { 5, 7 };
	uint64_t next[2];
	uint32_t rx = 0;
	bool trunc;

	(void)state;
	seed_unix(&s);
	next[0] = FZ_KV(SKB(1));
	next[1] = FZ_KV(USK(0) + fz_off("sock", "sk_receive_queue"));
	seed_queue(&s, 2, 2, len, next, 2);
	assert_int_equal(unix_socks_rx(&s, &trunc, &rx), 3);
	assert_false(trunc);
	assert_int_equal(rx, 10);
	/* a loop of one skb under a qlen of 4 billion: cut at the bound, said */
	seed_unix(&s);
	next[0] = FZ_KV(SKB(0));
	seed_queue(&s, 0xffffffffu, 1, len, next, 0);
	assert_int_equal(unix_socks_rx(&s, &trunc, &rx), 3);
	assert_true(trunc);
	/* the list and qlen disagree: two skbs under a qlen of 3, then of 1 */
	next[0] = FZ_KV(SKB(1));
	seed_unix(&s);
	seed_queue(&s, 3, 2, len, next, 0);
	assert_int_equal(unix_socks_rx(&s, &trunc, &rx), 3);
	assert_true(trunc);
	seed_unix(&s);
	seed_queue(&s, 1, 2, len, next, 0);
	assert_int_equal(unix_socks_rx(&s, &trunc, &rx), 3);
	assert_true(trunc);
	/* a link out of the kernel's memory */
	seed_unix(&s);
	next[0] = 0x1234;
	seed_queue(&s, 2, 1, len, next, 0);
	assert_int_equal(unix_socks_rx(&s, &trunc, &rx), 3);
	assert_true(trunc);
}

/* pid 7 with fd 3 on FD_FILE, which both sockets' struct socket claim */
#define FD_TASK 0x50000u
#define FD_SIG 0x53000u
#define FD_FILES 0x54000u
#define FD_FDT 0x54400u
#define FD_FILE 0x55000u
#define FD_SOCKET(i) (0x55800u + (i) * 0x100u)
static void seed_shared_file(struct fz_seed *s)
{
	uint32_t task = FD_TASK;
	int i;

	seed_unix(s);
	fz_seed_task(s, task, 7, 7, "forged", FD_SIG, 1);
	fz_seed_tasks(s, &task, 1);
	fz_seed_threads(s, FD_SIG, &task, 1);
	fz_put64(s, task + fz_task_off("files"), FZ_KV(FD_FILES));
	fz_put64(s, FD_FILES + fz_off("files_struct", "fdt"), FZ_KV(FD_FDT));
	fz_put32(s, FD_FDT + fz_off("fdtable", "max_fds"), 64);
	fz_put64(s, FD_FDT + fz_off("fdtable", "fd"),
		 FZ_KV(FD_FILES + fz_off("files_struct", "fd_array")));
	fz_put64(s, FD_FDT + fz_off("fdtable", "open_fds"), FZ_KV(FD_FDT + 0x40));
	fz_put64(s, FD_FDT + fz_off("fdtable", "close_on_exec"), FZ_KV(FD_FDT + 0x48));
	fz_put64(s, FD_FDT + 0x40, 0x8);
	fz_put64(s, FD_FILES + fz_off("files_struct", "fd_array") + 3 * 8, FZ_KV(FD_FILE));
	for (i = 0; i < 2; i++) {
		fz_put64(s, USK(i) + fz_off("sock", "sk_socket"), FZ_KV(FD_SOCKET(i)));
		fz_put64(s, FD_SOCKET(i) + fz_off("socket", "file"), FZ_KV(FD_FILE));
	}
}

/*
 * ss -p's fds: two sockets whose struct socket name one struct file (forged) give one fd, to
 * the first, and the scan says it is not whole; one socket alone is whole.
 */
static void test_shared_file(void **state)
{
	static struct fz_seed s;
	struct nfm_socket socks[2] = { { .sk = FZ_KV(USK(0)), .inode = 11 },
				       { .sk = FZ_KV(USK(1)), .inode = 12 } };
	struct nfm_socket_fd *fds;
	struct fz_guest *g;
	bool trunc = false;

	(void)state;
	seed_shared_file(&s);
	g = guest(&s);
	assert_int_equal(nfm_socket_fds(g->ctx, socks, 1, &fds, &trunc), 1);
	assert_false(trunc);
	assert_int_equal(fds[0].sock, 0);
	assert_int_equal(fds[0].pid, 7);
	assert_int_equal(fds[0].fd, 3);
	free(fds);
	assert_int_equal(nfm_socket_fds(g->ctx, socks, 2, &fds, &trunc), 1);
	assert_true(trunc);
	assert_int_equal(fds[0].sock, 0);
	assert_int_equal(fds[0].fd, 3);
	free(fds);
	fz_guest_free(g);
}

static void test_unix_loops(void **state)
{
	static struct fz_seed s;
	uint32_t node = fz_off("sock", "__sk_common.skc_node");
	bool trunc;

	(void)state;
	seed_unix(&s);
	assert_int_equal(unix_socks(&s, &trunc), 3);
	assert_false(trunc);
	/* bucket 7: 0 -> 1 -> 0 */
	seed_unix(&s);
	fz_put64(&s, USK(1) + node, FZ_KV(USK(0) + node));
	assert_int_equal(unix_socks(&s, &trunc), 3);
	assert_true(trunc);
	/* bucket 9's socket leads into bucket 7's chain */
	seed_unix(&s);
	fz_put64(&s, USK(2) + node, FZ_KV(USK(1) + node));
	assert_int_equal(unix_socks(&s, &trunc), 3);
	assert_true(trunc);
}

/* seed_route's leaf under a tnode of one bit (the leaf in slot 0, slot 1 as given). */
static void seed_trie(struct fz_seed *s, uint32_t slot1)
{
	uint32_t kids = TNODE + fz_off("key_vector", "leaf");

	s->len = 0;
	seed_route(s);
	fz_put64(s, TRIE + fz_off("trie", "kv") + fz_off("key_vector", "leaf"), FZ_KV(TNODE));
	fz_put32(s, TNODE + fz_off("key_vector", "key"), 0x0a000000);
	fz_put(s, TNODE + fz_off("key_vector", "bits"), "\1", 1);
	fz_put64(s, kids, FZ_KV(LEAF));
	if (slot1)
		fz_put64(s, kids + 8, FZ_KV(slot1));
}

static void test_route_loops(void **state)
{
	static struct fz_seed s;
	bool trunc;

	(void)state;
	seed_trie(&s, 0);
	assert_int_equal(walk(&s, ROUTES, &trunc), 1);
	assert_false(trunc);
	/* the tnode is its own child: its subtree is not walked again */
	seed_trie(&s, TNODE);
	assert_int_equal(walk(&s, ROUTES, &trunc), 1);
	assert_true(trunc);
	/* the leaf twice (a join, not a tree) */
	seed_trie(&s, LEAF);
	assert_int_equal(walk(&s, ROUTES, &trunc), 1);
	assert_true(trunc);
	/* the leaf's alias list loops */
	seed_trie(&s, 0);
	fz_put64(&s, FA + fz_off("fib_alias", "fa_list"), FZ_KV(FA + fz_off("fib_alias", "fa_list")));
	assert_int_equal(walk(&s, ROUTES, &trunc), 1);
	assert_true(trunc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_neigh_loops),
		cmocka_unit_test(test_unix_loops),
		cmocka_unit_test(test_unix_queue),
		cmocka_unit_test(test_shared_file),
		cmocka_unit_test(test_route_loops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
