// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The kallsyms tables found by their structure in the kernel image, for kernels whose VMCOREINFO
 * does not give their addresses (SYMBOL(kallsyms_*) came with 5a4f0ec0e2f8, 6.0).
 *
 * scripts/kallsyms.c write_src() puts every table at an 8-byte aligned label:
 *   up to 6.3:  offsets, relative_base, num_syms, names, markers, [seqs 6.2+], token_table, token_index
 *   6.4+:       num_syms, names, markers, token_table, token_index, offsets, relative_base, seqs
 * The token table is 256 NUL-terminated strings in code order, and every character that occurs in
 * symbol names is its own token, so "0\0" .. "9\0" sit side by side at codes 0x30..0x39
 * (vmlinux-to-elf's KallsymsFinder looks for the same run). From each such run:
 *  1. token_table/token_index: the table ends 208 strings after '0'; token_index (256 u16) follows
 *     at the next 8-byte boundary; token_index[0x30] says where the table starts, and every one of
 *     the 256 offsets must start a string of the table.
 *  2. markers end just before token_table: u32 names offsets, strictly increasing back to 0.
 *  3. num_syms and names: names end at the markers (padding < 8); num_syms (u32, zero-padded to 8)
 *     sits right before names and must need exactly that many markers; walking the first and the
 *     last group of 256 entries must land on the markers and at the names' end.
 *  4. offsets and relative_base: before num_syms (to 6.3) or after token_index (6.4+);
 *     relative_base must be a kernel-image address. Without one, kallsyms_addresses (absolute,
 *     before num_syms) when its first entry is a kernel-image address.
 * The caller validates the result by decoding known symbols (nfm_kallsyms_load() with _stext, then
 * lookups against VMCOREINFO). The kernel image is guest data: every length is bounded, every
 * read checked.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sym/kallsyms.h"
#include "sym/kallsyms_int.h"

#define LOC_CHUNK (1u << 20)
#define LOC_PAGE 4096u
static const char digits[] = "0\0" "1\0" "2\0" "3\0" "4\0" "5\0" "6\0" "7\0" "8\0" "9";
#define DIGITS_LEN 20u	/* with the final NUL */
/* A token is at most this long (scripts/kallsyms.c builds them from pairs; they stay short). */
#define TOK_MAX 256u
/* A names entry: a length of one or two bytes, then up to KSYM_NAME_LEN (512 since 6.1) codes. */
#define ENTRY_MAX (2u + 512u)
#define GROUP_MAX (256u * ENTRY_MAX)
#define MARKERS_MAX (NFM_KALLSYMS_MAX_SYMS / 256u)
#define KIMAGE_LO 0xffffffff80000000ull
/*
 * Bounds against a hostile image: digit runs examined (a real image has a handful: the token
 * table and a few byte tables), and num_syms candidates given the full check per run.
 */
#define LOC_MAX_RUNS 256u
#define LOC_MAX_NUM_CHECKS 16u

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)ks_le32(p) | (uint64_t)ks_le32(p + 4) << 32;
}

static bool kimage_va(uint64_t v)
{
	return v >= KIMAGE_LO && v < 0xffffffffff000000ull;
}

static uint64_t align8(uint64_t v)
{
	return (v + 7) & ~7ull;
}

/* The image being searched: reads stay inside [lo, hi). */
struct loc {
	nfm_read_kva_fn read;
	void *ud;
	uint64_t lo, hi;
};

/* Heap buffer of [va, va + len) read through the callback, or NULL. */
static uint8_t *fetch(nfm_read_kva_fn read, void *ud, uint64_t va, size_t len)
{
	uint8_t *b = malloc(len ? len : 1);

	if (b && read(ud, va, b, len)) {
		free(b);
		return NULL;
	}
	return b;
}

/* Step 1: token_table and token_index from the '0' token at va s. */
static int tokens_at(const struct loc *l, uint64_t s, struct nfm_kallsyms_tables *t)
{
	/* Tokens 0x30..0xff follow s; 0x00..0x2f precede it: both within 256 * TOK_MAX. */
	size_t before = 0x30 * TOK_MAX, after = 0xd0 * TOK_MAX + 8 + 512;
	uint8_t *b;
	size_t p, k, end, ti;
	uint64_t tt;
	int ret = -ENOENT;

	if (s - l->lo < before)
		before = (size_t)(s - l->lo);
	if (l->hi - s < after)
		after = (size_t)(l->hi - s);
	if (after < 2 * 0xd0)
		return -ENOENT;
	b = fetch(l->read, l->ud, s - before, before + after);
	if (!b)
		return -ENOENT;
	/* End of string 0xff: 0xd0 NULs from s. */
	for (p = before, k = 0; p < before + after && k < 0xd0; p++)
		if (!b[p])
			k++;
	if (k < 0xd0)
		goto out;
	end = p;
	ti = (size_t)(align8(s - before + end) - (s - before));
	if (ti + 512 > before + after)
		goto out;
	if (le16(b + ti) != 0 || le16(b + ti + 2 * 0x30) > before)
		goto out;
	tt = s - le16(b + ti + 2 * 0x30);
	if (tt & 7)
		goto out;
	/* Every offset starts a string: the byte before it ends the previous one, in order. */
	{
		size_t base = (size_t)(tt - (s - before)), prev = 0;

		for (k = 0; k < 256; k++) {
			size_t o = le16(b + ti + 2 * k);

			if (base + o >= end || (k && (o <= prev || b[base + o - 1] != 0)))
				goto out;
			if (k && memchr(b + base + prev, 0, o - prev) != b + base + o - 1)
				goto out;
			prev = o;
		}
		if (memchr(b + base + prev, 0, end - base - prev) != b + end - 1)
			goto out;
	}
	t->token_table = tt;
	t->token_index = s - before + ti;
	ret = 0;
out:
	free(b);
	return ret;
}

/* The names entry at b[p]: its length (with the length bytes) or 0 past lim. */
static size_t entry_len(const uint8_t *b, size_t p, size_t lim)
{
	size_t n;

	if (p >= lim)
		return 0;
	n = b[p];
	if (n & 0x80) {
		if (p + 1 >= lim)
			return 0;
		n = (n & 0x7f) | (size_t)b[p + 1] << 7;
		n += 2;
	} else {
		n += 1;
	}
	return p + n <= lim && n > 1 ? n : 0;
}

/* Walk cnt entries from b[p]: the offset after them, or 0 when they do not fit before lim. */
static size_t walk_entries(const uint8_t *b, size_t p, size_t cnt, size_t lim)
{
	while (cnt--) {
		size_t n = entry_len(b, p, lim);

		if (!n)
			return 0;
		p += n;
	}
	return p;
}

/* Steps 2 and 3: markers, names, num_syms; *nsyms receives num_syms. */
static int names_before(const struct loc *l, struct nfm_kallsyms_tables *t, uint32_t *nsyms)
{
	size_t mwin = 4 * MARKERS_MAX + 8, glen, flen;
	uint64_t m0, mend, last, lo, s, gstart, fstart;
	uint8_t *mb, *gb = NULL, *fb = NULL;
	size_t p, n, i, checks = 0;
	int ret = -ENOENT;

	if (t->token_table - l->lo < mwin)
		mwin = (size_t)(t->token_table - l->lo);
	if (mwin < 16)
		return -ENOENT;
	mb = fetch(l->read, l->ud, t->token_table - mwin, mwin);
	if (!mb)
		return -ENOENT;
	p = mwin - 4;
	/* The last marker is > 0 unless there are at most 256 symbols; skip the padding. */
	if (!ks_le32(mb + p) && ks_le32(mb + p - 4))
		p -= 4;
	for (i = 0; ks_le32(mb + p); i++) {
		if (p < 4 || i >= MARKERS_MAX || ks_le32(mb + p - 4) >= ks_le32(mb + p) ||
		    ks_le32(mb + p) - ks_le32(mb + p - 4) > GROUP_MAX ||
		    ks_le32(mb + p) - ks_le32(mb + p - 4) < 2 * 256)
			goto out;
		p -= 4;
	}
	m0 = t->token_table - mwin + p;
	n = i + 1;
	if (m0 & 7)
		goto out;
	mend = m0 + 4 * n;
	if (align8(mend) != t->token_table)
		goto out;
	last = ks_le32(mb + p + 4 * (n - 1));

	/* The last group: its entries start at names + last and end at m0 (less < 8 of padding). */
	if (m0 - l->lo < last + 16)
		goto out;
	lo = m0 - last;
	gstart = m0 - l->lo > GROUP_MAX ? m0 - GROUP_MAX : l->lo;
	glen = (size_t)(m0 - gstart);
	fstart = lo - l->lo > GROUP_MAX + 16 ? lo - GROUP_MAX - 16 : l->lo;
	flen = (size_t)(lo - fstart);
	gb = fetch(l->read, l->ud, gstart, glen);
	fb = fetch(l->read, l->ud, fstart, flen);
	if (!gb || !fb)
		goto out;
	for (s = lo & ~7ull; s >= fstart + 8 && s + GROUP_MAX + 8 > lo; s -= 8) {
		const uint8_t *ns = fb + (s - 8 - fstart);
		uint32_t num = ks_le32(ns);
		size_t start, e;

		if (ks_le32(ns + 4) || num <= 256 * (n - 1) || num > 256 * n)
			continue;
		if (++checks > LOC_MAX_NUM_CHECKS)
			break;
		/* Last group: names + last .. m0 within gb, which holds [gstart, m0). */
		if (s + last < gstart)
			continue;
		start = (size_t)(s + last - gstart);
		e = walk_entries(gb, start, num - 256 * (n - 1), glen);
		if (!e || align8(gstart + e) != m0)
			continue;
		/* First group: 256 entries from names land on markers[1]. */
		if (n > 1) {
			size_t flen1 = m0 - s < GROUP_MAX ? (size_t)(m0 - s) : GROUP_MAX;
			uint8_t *first = fetch(l->read, l->ud, s, flen1);
			size_t f = first ? walk_entries(first, 0, 256, flen1) : 0;

			free(first);
			if (f != ks_le32(mb + p + 4))
				continue;
		}
		t->markers = m0;
		t->names = s;
		t->num_syms = s - 8;
		*nsyms = num;
		ret = 0;
		break;
	}
out:
	free(mb);
	free(gb);
	free(fb);
	return ret;
}

/*
 * Do the last 16 offsets before rb, with the base at rb, decode to ascending kernel-image
 * addresses (base-relative, or absolute-percpu's negative offsets)? The last symbols of the
 * table are the image's (its .bss and brk), sorted by address.
 */
static bool offsets_plausible(nfm_read_kva_fn read, void *ud, uint64_t offs, uint32_t num,
			      uint64_t base)
{
	uint8_t b[64];
	uint64_t prev = 0;
	unsigned int k, cnt = num < 16 ? num : 16;

	if (!cnt || read(ud, offs + 4ull * (num - cnt), b, 4 * cnt))
		return false;
	for (k = 0; k < cnt; k++) {
		int32_t o = (int32_t)ks_le32(b + 4 * k);
		uint64_t a = o < 0 ? base - 1 + (uint64_t)(-(int64_t)o) : base + (uint32_t)o;

		if (!kimage_va(a) || a < prev)
			return false;
		prev = a;
	}
	return true;
}

/* Step 4: the address table. */
static int addresses_of(const struct loc *l, struct nfm_kallsyms_tables *t, uint32_t num)
{
	nfm_read_kva_fn read = l->read;
	void *ud = l->ud;
	uint8_t v[8];
	uint64_t offs[2], rb[2];
	unsigned int k;

	/* Up to 6.3: offsets (4 * num), relative_base right before num_syms. */
	rb[0] = t->num_syms - 8;
	offs[0] = rb[0] - align8(4ull * num);
	/* 6.4+: offsets after token_index, relative_base after them. */
	offs[1] = align8(t->token_index + 512);
	rb[1] = align8(offs[1] + 4ull * num);
	for (k = 0; k < 2; k++) {
		/* the whole table and its base inside the image (a few symbols' table could
		 * otherwise start before it) */
		if (offs[k] < l->lo || rb[k] > l->hi - 8 || offs[k] > rb[k])
			continue;
		if (!read(ud, rb[k], v, 8) && kimage_va(le64(v)) &&
		    offsets_plausible(read, ud, offs[k], num, le64(v))) {
			t->offsets = offs[k];
			t->relative_base = rb[k];
			return 0;
		}
	}
	/* Absolute addresses (no KALLSYMS_BASE_RELATIVE), before num_syms. */
	offs[0] = t->num_syms - 8ull * num;
	if (offs[0] >= l->lo && offs[0] < t->num_syms && !read(ud, offs[0], v, 8) && kimage_va(le64(v)) &&
	    !read(ud, t->num_syms - 8, v, 8) && kimage_va(le64(v))) {
		t->addresses = offs[0];
		return 0;
	}
	return -ENOENT;
}

static int try_at(const struct loc *l, uint64_t s, struct nfm_kallsyms_tables *out)
{
	struct nfm_kallsyms_tables t = { 0 };
	uint32_t num = 0;

	if (tokens_at(l, s, &t) || names_before(l, &t, &num) || addresses_of(l, &t, num))
		return -ENOENT;
	*out = t;
	return 0;
}

/*
 * Look for the digit run in buf[0, len) read at va; 0 once the tables are found there, -ELOOP
 * when *runs reaches LOC_MAX_RUNS.
 */
static int scan(const struct loc *l, uint64_t va, const uint8_t *buf, size_t len,
		unsigned int *runs, struct nfm_kallsyms_tables *ret)
{
	const uint8_t *p = buf, *q;

	while ((q = memmem(p, len - (size_t)(p - buf), digits, DIGITS_LEN))) {
		if (++*runs > LOC_MAX_RUNS)
			return -ELOOP;
		if (!try_at(l, va + (uint64_t)(q - buf), ret))
			return 0;
		p = q + 1;
	}
	return -ENOENT;
}

int nfm_kallsyms_locate(nfm_read_kva_fn read, void *ud, uint64_t lo, uint64_t hi,
			struct nfm_kallsyms_tables *ret)
{
	const size_t over = DIGITS_LEN - 1;
	const struct loc l = { read, ud, lo, hi };
	unsigned int runs = 0;
	uint8_t *buf;
	uint64_t end;
	int err = -ENOENT;

	if (lo >= hi || hi - lo > NFM_KALLSYMS_LOCATE_MAX || lo < KIMAGE_LO)
		return -EINVAL;
	buf = malloc(LOC_CHUNK + DIGITS_LEN);
	if (!buf)
		return -ENOMEM;
	/* From the top down: the tables sit in .rodata, nearer the data than the start of text. */
	for (end = hi; end > lo && err == -ENOENT; end -= end - lo > LOC_CHUNK ? LOC_CHUNK : end - lo) {
		uint64_t start = end - lo > LOC_CHUNK ? end - LOC_CHUNK : lo, pg;
		/* Each piece overlaps the next by a digit run less one byte. */
		size_t len = (size_t)(end - start) + (hi - end < over ? hi - end : over);

		if (!read(ud, start, buf, len)) {
			err = scan(&l, start, buf, len, &runs, ret);
			continue;
		}
		/* A hole in the image (an unmapped page): the readable pages of this piece. */
		for (pg = start; pg < end && err == -ENOENT; pg += LOC_PAGE) {
			size_t n = (size_t)(end - pg < LOC_PAGE ? end - pg : LOC_PAGE);

			if (!read(ud, pg, buf, n + (hi - pg - n < over ? hi - pg - n : over)))
				err = scan(&l, pg, buf, n + (hi - pg - n < over ? hi - pg - n : over),
					   &runs, ret);
			else if (!read(ud, pg, buf, n))
				err = scan(&l, pg, buf, n, &runs, ret);
		}
	}
	free(buf);
	return err == -ELOOP ? -ENOENT : err;
}
