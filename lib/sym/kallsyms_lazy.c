// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kallsyms lookups without decoding every name.
 *
 * Since 60443c88f3a8 ("kallsyms: Improve the performance of kallsyms_lookup_name()", 6.2, also
 * in later 6.1 stable releases) scripts/kallsyms.c emits kallsyms_seqs_of_names: every symbol's
 * table index, three bytes big-endian, sorted by name (then address, then index). The kernel
 * binary-searches it expanding ~17 names per lookup, and so do we: a 160,000-symbol table is
 * then usable in well under a millisecond instead of the ~15 ms the full decode takes.
 *
 * VMCOREINFO does not give its address, but output_label() puts every table 8-byte aligned
 * right after the one before it:
 *  - 6.1 stable and 6.2-6.3: after kallsyms_markers, with kallsyms_token_table right after it;
 *  - 6.4+ (404bad70fcf7): after kallsyms_relative_base (or kallsyms_offsets), last.
 * A candidate is taken only if it is a permutation of the table indices and a sample of
 * neighbours is in name order; every lookup then compares the names it expands, so a hostile
 * index can make a lookup miss but never return a symbol of another name.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sym/kallsyms_int.h"

/* Neighbour pairs checked for name order when a candidate index is validated. */
#define SEQS_SAMPLES 64

static uint32_t seq_at(const uint8_t *seqs, size_t k)
{
	const uint8_t *p = seqs + 3 * k;

	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

/* Symbol i's token codes, within the names read (entry_pos was checked against them). */
static bool entry_at(const struct nfm_kallsyms *ks, uint32_t i, const uint8_t **codes, size_t *n)
{
	size_t pos, len;

	if (i >= ks->num)
		return false;
	pos = ks->entry_pos[i];
	if (pos >= ks->names_len || ks->names_len - pos < 2)
		return false;
	len = ks->names[pos++];
	if (len & 0x80)
		len = (len & 0x7f) | (size_t)ks->names[pos++] << 7;
	if (len > ks->names_len - pos)
		return false;
	*codes = ks->names + pos;
	*n = len;
	return true;
}

size_t ks_lazy_expand(const struct nfm_kallsyms *ks, uint32_t i, char buf[KS_NAME_MAX + 1])
{
	const uint8_t *d;
	size_t n, out = 0;

	if (!entry_at(ks, i, &d, &n))
		return 0;
	for (size_t k = 0; k < n; k++) {
		size_t tl = ks->tok.len[d[k]];

		if (tl > KS_NAME_MAX - out)
			return 0;
		memcpy(buf + out, ks->tok.str[d[k]], tl);
		out += tl;
	}
	buf[out] = '\0';
	return out < 2 ? 0 : out;
}

/* strcmp() of symbol i's name (without its type) with name; *ok false if it does not decode. */
static int cmp_name(const struct nfm_kallsyms *ks, uint32_t i, const char *name, bool *ok)
{
	char buf[KS_NAME_MAX + 1];

	*ok = ks_lazy_expand(ks, i, buf) != 0;
	return *ok ? strcmp(buf + 1, name) : 0;
}

size_t ks_lazy_find(const struct nfm_kallsyms *ks, const char *name, uint32_t *idx, size_t max)
{
	size_t lo = 0, hi = ks->num, n = 0;
	bool ok;

	if (!ks->seqs)
		return 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_name(ks, seq_at(ks->seqs, mid), name, &ok);

		if (!ok)
			return 0;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Equal names sort by address, then index: table order. Kept sorted anyway. */
	for (; lo < ks->num; lo++) {
		uint32_t s = seq_at(ks->seqs, lo);
		size_t k;

		if (cmp_name(ks, s, name, &ok) || !ok)
			break;
		for (k = n; k > 0 && idx[k - 1] > s; k--)
			if (k < max)
				idx[k] = idx[k - 1];
		if (k < max)
			idx[k] = s;
		if (n < max)
			n++;
	}
	return n;
}

/* Is the candidate a permutation of 0..num-1 whose sampled neighbours are in name order? */
static bool seqs_valid(const struct nfm_kallsyms *ks, const uint8_t *seqs, uint64_t *seen)
{
	char a[KS_NAME_MAX + 1], b[KS_NAME_MAX + 1];
	size_t num = ks->num;

	memset(seen, 0, (num + 63) / 64 * sizeof(*seen));
	for (size_t k = 0; k < num; k++) {
		uint32_t s = seq_at(seqs, k);

		if (s >= num || (seen[s / 64] >> (s % 64) & 1))
			return false;
		seen[s / 64] |= 1ull << (s % 64);
	}
	for (size_t j = 0; num > 1 && j < SEQS_SAMPLES; j++) {
		size_t k = j * (num - 1) / SEQS_SAMPLES;

		if (!ks_lazy_expand(ks, seq_at(seqs, k), a) ||
		    !ks_lazy_expand(ks, seq_at(seqs, k + 1), b) || strcmp(a + 1, b + 1) > 0)
			return false;
	}
	return true;
}

static uint64_t align8(uint64_t v)
{
	return (v + 7) & ~7ull;
}

int ks_lazy_open(struct nfm_kallsyms *ks, nfm_read_kva_fn read, void *ud,
		 const struct nfm_kallsyms_tables *t)
{
	uint64_t cand[3], end;
	size_t nc = 0, bytes = 3 * ks->num, nmarkers = (ks->num + 255) / 256;
	uint64_t *seen;
	uint8_t *buf;

	if (!ks->markers || !ks->names || !ks->entry_pos)
		return -ENOENT;
	if (t->seqs_of_names)
		cand[nc++] = t->seqs_of_names;
	if (t->markers < UINT64_MAX - 4 * nmarkers - bytes - 16) {
		uint64_t c = align8(t->markers + 4 * nmarkers);

		if (align8(c + bytes) == t->token_table)
			cand[nc++] = c;
	}
	end = t->relative_base ? t->relative_base + 8 :
	      t->offsets ? t->offsets + 4 * (uint64_t)ks->num : t->addresses + 8 * (uint64_t)ks->num;
	if (end < UINT64_MAX - bytes - 16)
		cand[nc++] = align8(end);

	buf = malloc(bytes);
	seen = malloc((ks->num + 63) / 64 * sizeof(*seen));
	if (!buf || !seen) {
		free(buf);
		free(seen);
		return -ENOMEM;
	}
	for (size_t c = 0; c < nc; c++) {
		int r = read(ud, cand[c], buf, bytes);

		if (!r && seqs_valid(ks, buf, seen)) {
			ks->seqs = buf;
			free(seen);
			return 0;
		}
	}
	free(buf);
	free(seen);
	return -ENOENT;
}

/* The slot of symbol i in the lazy names (its own, or the empty one it would take). */
static size_t lazy_slot(const struct nfm_kallsyms *ks, uint32_t i)
{
	size_t mask = ks->lazy_cap - 1, k = ((size_t)i * 0x9e3779b1u) & mask;

	while (ks->lazy_key[k] && ks->lazy_key[k] != i + 1)
		k = (k + 1) & mask;
	return k;
}

/* Room for one more entry at most half full: 0 or -ENOMEM. */
static int lazy_grow(struct nfm_kallsyms *ks)
{
	uint32_t *old_key = ks->lazy_key;
	char **old_val = ks->lazy_val;
	size_t old_cap = ks->lazy_cap, cap = old_cap ? old_cap * 2 : 256;

	if (2 * (ks->lazy_n + 1) <= ks->lazy_cap)
		return 0;
	ks->lazy_key = calloc(cap, sizeof(*ks->lazy_key));
	ks->lazy_val = calloc(cap, sizeof(*ks->lazy_val));
	if (!ks->lazy_key || !ks->lazy_val) {
		free(ks->lazy_key);
		free(ks->lazy_val);
		ks->lazy_key = old_key;
		ks->lazy_val = old_val;
		return -ENOMEM;
	}
	ks->lazy_cap = cap;
	for (size_t k = 0; k < old_cap; k++)
		if (old_key[k]) {
			size_t at = lazy_slot(ks, old_key[k] - 1);

			ks->lazy_key[at] = old_key[k];
			ks->lazy_val[at] = old_val[k];
		}
	free(old_key);
	free(old_val);
	return 0;
}

const char *ks_lazy_entry(struct nfm_kallsyms *ks, uint32_t i)
{
	char buf[KS_NAME_MAX + 1];
	const char *e = NULL;
	size_t k;

	if (i >= ks->num)
		return NULL;
	pthread_mutex_lock(&ks->lock);
	if (lazy_grow(ks) == 0) {
		k = lazy_slot(ks, i);
		if (!ks->lazy_key[k] && ks_lazy_expand(ks, i, buf)) {
			ks->lazy_val[k] = strdup(buf);
			if (ks->lazy_val[k]) {
				ks->lazy_key[k] = i + 1;
				ks->lazy_n++;
			}
		}
		e = ks->lazy_val[k];
	}
	pthread_mutex_unlock(&ks->lock);
	return e;
}

int ks_lazy_symbolize(const struct nfm_kallsyms *ks, uint64_t addr, uint32_t *i)
{
	size_t lo = 0, hi = ks->num, mid;
	uint64_t a;

	/* Addresses were checked to be non-decreasing in table order when the encoding was chosen. */
	if (!ks->num || ks_sym_address(ks, 0) > addr)
		return -ENOENT;
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (ks_sym_address(ks, (uint32_t)mid) <= addr)
			lo = mid;
		else
			hi = mid;
	}
	/* The first of its aliases, like the kernel's get_symbol_pos(). */
	a = ks_sym_address(ks, (uint32_t)lo);
	hi = lo;
	lo = 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (ks_sym_address(ks, (uint32_t)mid) < a)
			lo = mid + 1;
		else
			hi = mid;
	}
	*i = (uint32_t)lo;
	return 0;
}
