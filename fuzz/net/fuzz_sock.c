// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Sockets (lib/net/net_sock.c, net_unix.c): tcp_hashinfo's established hash (hlist_nulls chains
 * with their cycle check and ehash_mask bound), the listening hashes, udp_table, the unix
 * socket tables of each namespace.
 */
#include <nfm/system.h>

#include "seednet.h"

static void seed(struct fz_seed *s)
{
	static const uint8_t state[2] = { 1, 1 };	/* ESTABLISHED */
	static const uint16_t family[2] = { 2, 2 };
	int i;

	seed_net(s);
	/* bucket 3: two established sockets 10.0.2.15:22 <- 10.0.2.2:5000x */
	seed_ehash(s, 7, 3, 2, state, family);
	for (i = 0; i < 2; i++) {
		fz_put32(s, SK(i) + fz_off("sock", "__sk_common.skc_daddr"), 0x0202000a);
		fz_put32(s, SK(i) + fz_off("sock", "__sk_common.skc_rcv_saddr"), 0x0f02000a);
		fz_put16(s, SK(i) + fz_off("sock", "__sk_common.skc_dport"), (uint16_t)(0x5000 + i));
		fz_put16(s, SK(i) + fz_off("sock", "__sk_common.skc_num"), 22);
	}
}

FZ_SEED_INIT(seed)

FZ_LIST_TARGET(nfm_socket_list, struct nfm_socket, "sockets")
