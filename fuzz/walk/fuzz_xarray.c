// SPDX-License-Identifier: GPL-2.0-or-later
/* Xarrays (the PID IDR, the page cache): every entry, and xa_load of a few indexes. */
#include "guest.h"
#include "walk/xarray.h"

static int rd(void *arg, uint64_t va, void *buf, size_t len)
{
	return nfm_kread(arg, va, buf, len);
}

static int count(void *arg, uint64_t index, uint64_t entry)
{
	(void)index;
	(void)entry;
	++*(size_t *)arg;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct nfm_xa_layout l = { .shift = 0, .slots = 40 };	/* 6.1's xa_node */
	struct fuzz_guest *g = fuzz_guest_new(data, size);
	uint64_t e, idx[] = { 0, 1, 63, 64, 4095, 1ull << 30, ~0ull };
	size_t n = 0;

	if (!g)
		return 0;
	if (nfm_xa_for_each(rd, g->ctx, &l, g->root, 1u << 16, count, &n) > (1 << 16))
		abort();
	for (size_t i = 0; i < sizeof(idx) / sizeof(idx[0]); i++)
		nfm_xa_load(rd, g->ctx, &l, g->root, idx[i], &e);
	fuzz_guest_free(g);
	return 0;
}
