// SPDX-License-Identifier: GPL-2.0-or-later
/* A visited set of guest addresses: see seen.h. */
#include <errno.h>
#include <stdlib.h>

#include "walk/seen.h"

static size_t slot_of(const struct nfm_seen *s, uint64_t addr)
{
	size_t mask = s->cap - 1, i = (size_t)((addr * 0x9e3779b97f4a7c15ull) >> 32) & mask;

	while (s->slot[i].gen == s->gen && s->slot[i].addr != addr)
		i = (i + 1) & mask;
	return i;
}

int nfm_seen_add(struct nfm_seen *s, uint64_t addr)
{
	size_t i;

	if (!s->gen)
		s->gen = 1;
	if ((s->n + 1) * 2 > s->cap) {
		typeof(s->slot) old = s->slot;
		size_t old_cap = s->cap, cap = old_cap ? old_cap * 2 : 64;
		uint32_t gen = s->gen;

		s->slot = calloc(cap, sizeof(*s->slot));
		if (!s->slot) {
			s->slot = old;
			return -ENOMEM;
		}
		s->cap = cap;
		s->gen = 1;
		for (i = 0; i < old_cap; i++)
			if (old[i].gen == gen)
				s->slot[slot_of(s, old[i].addr)] = (typeof(*s->slot)){ old[i].addr, 1 };
		free(old);
	}
	i = slot_of(s, addr);
	if (s->slot[i].gen == s->gen)
		return 0;
	s->slot[i].addr = addr;
	s->slot[i].gen = s->gen;
	s->n++;
	return 1;
}

void nfm_seen_clear(struct nfm_seen *s)
{
	s->n = 0;
	if (++s->gen == 0) {	/* wrapped: stale generations could match again */
		for (size_t i = 0; i < s->cap; i++)
			s->slot[i].gen = 0;
		s->gen = 1;
	}
}

void nfm_seen_free(struct nfm_seen *s)
{
	free(s->slot);
	*s = (struct nfm_seen){ 0 };
}
