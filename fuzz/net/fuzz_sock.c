// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Sockets (lib/net/net_sock.c, net_unix.c): tcp_hashinfo's established hash (hlist_nulls chains
 * with their cycle check and ehash_mask bound), the listening hashes, udp_table, the unix
 * socket tables of each namespace.
 */
#include <nfm/system.h>

#include "seednet.h"

#define EHASH 0x36000u
#define SK(i) (0x37000u + (i) * 0x1000u)

static void seed(struct fz_seed *s)
{
	uint32_t hi = fz_sym_pa("tcp_hashinfo"), nn = fz_off("sock", "__sk_common.skc_nulls_node");
	int i;

	seed_net(s);
	fz_put64(s, hi + fz_off("inet_hashinfo", "ehash"), FZ_KV(EHASH));
	fz_put32(s, hi + fz_off("inet_hashinfo", "ehash_mask"), 7);
	for (i = 0; i < 8; i++)		/* empty chains end at their nulls value (i << 1 | 1) */
		fz_put64(s, EHASH + 8u * (unsigned)i, (uint64_t)i << 1 | 1);
	/* bucket 3: two established sockets 10.0.2.15:22 <- 10.0.2.2:5000x */
	fz_put64(s, EHASH + 3 * 8, FZ_KV(SK(0) + nn));
	for (i = 0; i < 2; i++) {
		fz_put16(s, SK(i) + fz_off("sock", "__sk_common.skc_family"), 2);
		fz_put(s, SK(i) + fz_off("sock", "__sk_common.skc_state"), "\1", 1);
		fz_put32(s, SK(i) + fz_off("sock", "__sk_common.skc_daddr"), 0x0202000a);
		fz_put32(s, SK(i) + fz_off("sock", "__sk_common.skc_rcv_saddr"), 0x0f02000a);
		fz_put16(s, SK(i) + fz_off("sock", "__sk_common.skc_dport"), (uint16_t)(0x5000 + i));
		fz_put16(s, SK(i) + fz_off("sock", "__sk_common.skc_num"), 22);
		fz_put64(s, SK(i) + fz_off("sock", "__sk_common.skc_net"), FZ_KV(NET));
	}
	fz_put64(s, SK(0) + nn, FZ_KV(SK(1) + nn));
	fz_put64(s, SK(1) + nn, 3 << 1 | 1);
}

FZ_SEED_INIT(seed)

FZ_LIST_TARGET(nfm_socket_list, struct nfm_socket, "sockets")
