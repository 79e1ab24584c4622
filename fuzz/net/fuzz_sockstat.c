// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The TCP hash census (lib/net/net_sockstat.c, nfm_tcp_hashed_count) behind ss's and check's
 * cross view: the namespace's hashinfo, the listening hash and ehash chains with their loop
 * and bucket-count bounds, each sock's state and family.
 */
#include <nfm/system.h>

#include "seednet.h"

static void seed(struct fz_seed *s)
{
	static const uint8_t state[4] = { 1, 1, 6, 12 };	/* ESTABLISHED x2, TIME_WAIT, NEW_SYN_RECV */
	static const uint16_t family[4] = { 2, 10, 2, 2 };

	seed_net(s);
	seed_ehash(s, 7, 5, 4, state, family);
}

FZ_SEED_INIT(seed)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_guest *g = fz_guest_new(data, size);
	struct nfm_tcp_hashed h;
	int r = nfm_tcp_hashed_count(g->ctx, 0, &h);

	fz_report("tcp hashed", r == 0 ? (int)(h.hashed4 + h.hashed6) : r, r);
	fz_guest_free(g);
	return 0;
}
