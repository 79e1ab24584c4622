// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kallsyms decoded from guest memory.
 *
 * Format (scripts/kallsyms.c write_src(), read back by kernel/kallsyms.c):
 *  - kallsyms_num_syms: unsigned int (".long").
 *  - kallsyms_names: per symbol a length in tokens, then that many token codes (bytes). Since
 *    73bbb94466fd ("kallsyms: support "big" kernel symbols", 6.1) the length is ULEB128 of at most
 *    two bytes: b0 with 0x80 set means len = (b0 & 0x7f) | (b1 << 7). Before, one plain byte.
 *  - kallsyms_markers: unsigned int, the names offset of every 256th symbol.
 *  - kallsyms_token_table: 256 NUL-terminated strings; kallsyms_token_index: 256 u16 offsets into
 *    it. A name is the concatenation of its tokens; the first decoded character is the type.
 *  - Addresses, one of:
 *      kallsyms_addresses[]: unsigned long (!CONFIG_KALLSYMS_BASE_RELATIVE; gone in 6.11);
 *      kallsyms_offsets[] (int) + kallsyms_relative_base (unsigned long):
 *        base + (u32)off, or with CONFIG_KALLSYMS_ABSOLUTE_PERCPU (x86-64 SMP until 6.15)
 *        off >= 0 ? off : base - 1 - off;
 *      kallsyms_offsets[] alone, place-relative: &offsets[i] + off (a081b5789255, 7.0).
 * The order of the tables in .rodata changed (404bad70fcf7, 6.4) but every table's address comes
 * from VMCOREINFO, so it does not matter here.
 *
 * All of it is guest data: every length is checked against what was read, and the tables are
 * fetched with a few large reads.
 *
 * Loading reads the tables and checks every entry's length against the markers (located
 * before the token table when VMCOREINFO does not give them); with the kernel's name-ordered
 * index (kallsyms_lazy.c) that is all, otherwise, or when a caller needs every name, pass 1
 * (sizes, wanted names) and pass 2 (expand and hash) decode the whole table.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sym/kallsyms.h"
#include "sym/kallsyms_int.h"
#include "util/intern.h"
/* Bound of the decoded string arena (names plus type and NUL), against token blow-up. */
#define KS_ARENA_MAX (256u << 20)
#define KS_PAGE 4096u
#define KS_NAMES_CHUNK (1u << 20)
/* How many symbols named _stext are remembered to pick the encoding. */
#define KS_STEXT_MAX 8

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return ks_le32(p);
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* Read [va, va + len) in pieces of at most step bytes aligned to step; stop at the first failure. */
static size_t read_pieces(nfm_read_kva_fn read, void *ud, uint64_t va, uint8_t *buf, size_t len,
			  size_t step, int *err)
{
	size_t got = 0;
	int r;

	while (got < len) {
		size_t n = step - (size_t)((va + got) & (step - 1));

		if (n > len - got)
			n = len - got;
		r = read(ud, va + got, buf + got, n);
		if (r) {
			*err = r > 0 ? -EIO : r;
			break;
		}
		got += n;
	}
	return got;
}

/*
 * Read up to len bytes at va. Tries one read; if that fails, goes page by page, then through the
 * failing page in smaller pieces, so that a table near the end of what is readable still is.
 * Returns the number of bytes read (a prefix of the range) and stores the error that stopped it
 * in *err (0 if none). -EIO (the source itself failing) stops at once.
 */
static size_t read_best(nfm_read_kva_fn read, void *ud, uint64_t va, uint8_t *buf, size_t len,
			int *err)
{
	static const size_t steps[] = { KS_PAGE, 64, 1 };
	size_t got = 0, i;
	int r;

	*err = 0;
	if (len > UINT64_MAX - va)
		len = (size_t)(UINT64_MAX - va);
	if (!len)
		return 0;
	r = read(ud, va, buf, len);
	if (!r)
		return len;
	*err = r > 0 ? -EIO : r;
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]) && *err != -EIO; i++) {
		size_t lim = len - got;

		/* After the first level, only the piece that failed is retried finer. */
		if (i && lim > steps[i - 1])
			lim = steps[i - 1];
		*err = 0;
		got += read_pieces(read, ud, va + got, buf + got, lim, steps[i], err);
		if (!*err)
			break;
	}
	return got;
}

/* An exact read: 0, or the read error (-EFAULT when it claimed success on nothing). */
static int read_exact(nfm_read_kva_fn read, void *ud, uint64_t va, void *buf, size_t len)
{
	int r;

	if (len > UINT64_MAX - va)
		return -EFAULT;
	r = read(ud, va, buf, len);
	return r > 0 ? -EIO : r;
}

/* kallsyms_names as read so far: grows on demand, kept across decode attempts. */
struct names_buf {
	nfm_read_kva_fn read;
	void *ud;
	uint64_t va;
	uint8_t *data;
	size_t len;		/* bytes read */
	size_t hint;		/* first read size */
	int err;		/* what stopped reading, sticky */
};

/*
 * Make names bytes [0, need) available. A table that runs into unmapped memory after it started
 * fine is inconsistent (-EBADMSG); a failing source (-EIO) or an unreadable start is reported as is.
 */
static int names_ensure(struct names_buf *nb, size_t need)
{
	size_t want, got;
	uint8_t *p;
	int err;

	if (need <= nb->len)
		return 0;
	if (need > NFM_KALLSYMS_MAX_NAMES_BYTES)
		return -EBADMSG;
	if (nb->err)
		goto fail;
	want = nb->len ? nb->len * 2 : nb->hint;
	if (want < need)
		want = need;
	if (want < KS_NAMES_CHUNK)
		want = KS_NAMES_CHUNK;
	if (want > NFM_KALLSYMS_MAX_NAMES_BYTES)
		want = NFM_KALLSYMS_MAX_NAMES_BYTES;
	p = realloc(nb->data, want);
	if (!p)
		return -ENOMEM;
	nb->data = p;
	got = read_best(nb->read, nb->ud, nb->va + nb->len, nb->data + nb->len, want - nb->len, &err);
	nb->len += got;
	if (err)
		nb->err = err;
	if (need <= nb->len)
		return 0;
	if (!nb->err)
		nb->err = -EFAULT;
fail:
	if (nb->err == -EFAULT && nb->len)
		return -EBADMSG;
	return nb->err;
}


static void free_const(const void *p)
{
	free((void *)p);
}

static void ks_reset(struct nfm_kallsyms *ks)
{
	ks->count = 0;
	ks->arena_len = 0;
}

int ks_arena_reserve(struct nfm_kallsyms *ks, size_t extra)
{
	size_t cap;
	char *p;

	if (ks->arena_len + extra <= ks->arena_cap)
		return 0;
	if (ks->arena_len + extra > KS_ARENA_MAX)
		return -EBADMSG;
	cap = ks->arena_cap ? ks->arena_cap * 2 : 4096;
	if (cap < ks->arena_len + extra)
		cap = ks->arena_len + extra;
	if (cap > KS_ARENA_MAX)
		cap = KS_ARENA_MAX;
	p = realloc(ks->arena, cap);
	if (!p)
		return -ENOMEM;
	ks->arena = p;
	ks->arena_cap = cap;
	return 0;
}

int ks_syms_reserve(struct nfm_kallsyms *ks, size_t n)
{
	uint32_t *no;
	uint64_t *ad;

	if (n <= ks->cap)
		return 0;
	if (n > NFM_KALLSYMS_MAX_SYMS)
		return -EBADMSG;
	no = realloc(ks->name_off, n * sizeof(*no));
	if (!no)
		return -ENOMEM;
	ks->name_off = no;
	ad = realloc(ks->addrs, n * sizeof(*ad));
	if (!ad)
		return -ENOMEM;
	ks->addrs = ad;
	no = realloc(ks->hashes, n * sizeof(*no));
	if (!no)
		return -ENOMEM;
	ks->hashes = no;
	ks->cap = n;
	return 0;
}

/* Eight bytes per step (FNV-1a per byte was a fifth of the symbol load). */
uint32_t ks_name_hash_n(const char *s, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n, w;

	for (; n >= 8; s += 8, n -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	w = 0;
	for (size_t i = 0; i < n; i++)
		w |= (uint64_t)(uint8_t)s[i] << (8 * i);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 29;
	return (uint32_t)h;
}

static uint32_t name_hash(const char *s)
{
	return ks_name_hash_n(s, strlen(s));
}

#define TOKEN_PAD 16

/* Names pass 1 looks for: every "_stext" (up to KS_STEXT_MAX), and the first of each early name. */
struct wanted {
	uint32_t stext_idx[KS_STEXT_MAX];
	size_t nstext;
	const char *const *early;	/* NULL-terminated, or NULL */
	uint32_t early_idx[NFM_KALLSYMS_EARLY_MAX];	/* UINT32_MAX: not found */
};

/* Expand one entry's tokens (type character first) into buf; its length. */
static size_t expand(const struct ks_tokens *tok, const uint8_t *d, size_t len, char *buf)
{
	size_t out = 0;

	for (size_t k = 0; k < len; k++) {
		memcpy(buf + out, tok->str[d[k]], tok->len[d[k]]);
		out += tok->len[d[k]];
	}
	buf[out] = '\0';
	return out;
}

/* Is entry d (out characters expanded) one pass 1 looks for? Only names of a wanted length are
 * expanded, so this costs nearly nothing. */
static void check_wanted(const struct ks_tokens *tok, const uint8_t *d, size_t len, size_t out,
			 uint32_t i, struct wanted *w)
{
	char buf[KS_NAME_MAX + 1];
	bool expanded = false;

	if (out == 7 && w->nstext < KS_STEXT_MAX) {
		expand(tok, d, len, buf);
		expanded = true;
		if (!strcmp(buf + 1, "_stext"))
			w->stext_idx[w->nstext++] = i;
	}
	for (size_t e = 0; w->early && w->early[e]; e++) {
		if (w->early_idx[e] != UINT32_MAX || strlen(w->early[e]) + 1 != out)
			continue;
		if (!expanded)
			expand(tok, d, len, buf);
		expanded = true;
		if (!strcmp(buf + 1, w->early[e]))
			w->early_idx[e] = i;
	}
}

/*
 * The length (in tokens) of the entry at pos, and of its header (1 or 2 bytes): 0 or -errno.
 * Every entry has a length and at least one token: two bytes.
 */
static int entry_len(struct names_buf *nb, size_t pos, bool long_lens, size_t *len, size_t *hdr)
{
	int r = pos + 2 > nb->len ? names_ensure(nb, pos + 2) : 0;

	if (r < 0)
		return r;
	*len = nb->data[pos];
	*hdr = 1;
	if (long_lens && (*len & 0x80)) {
		if (nb->data[pos + 1] & 0x80)
			return -EBADMSG;
		*len = (*len & 0x7f) | (size_t)nb->data[pos + 1] << 7;
		*hdr = 2;
	}
	/*
	 * A name has fewer tokens than KSYM_NAME_LEN characters. This also catches most
	 * misreadings of an old one-byte length >= 128 as a two-byte one (6.0 had KSYM_NAME_LEN
	 * 128, so only a 127-character name without any compression could be ambiguous).
	 */
	return *len && *len <= KS_NAME_MAX ? 0 : -EBADMSG;
}

/*
 * Pass 1: walk and check num entries, size the arena exactly (*total), note where each entry
 * starts (name_off, for pass 2) and find the wanted names. When markers is non-NULL, every 256th
 * symbol must start where it says.
 */
static int names_pass1(struct nfm_kallsyms *ks, struct names_buf *nb, const struct ks_tokens *tok,
		       uint32_t num, const uint8_t *markers, bool long_lens, struct wanted *w,
		       size_t *total_out)
{
	bool lens[KS_NAME_MAX + 1] = { false };
	size_t pos = 0, total = 0;
	uint32_t i;
	int r;

	ks_reset(ks);
	w->nstext = 0;
	for (size_t e = 0; e < NFM_KALLSYMS_EARLY_MAX; e++)
		w->early_idx[e] = UINT32_MAX;
	lens[7] = true;
	for (size_t e = 0; w->early && w->early[e]; e++)
		if (strlen(w->early[e]) < KS_NAME_MAX)
			lens[strlen(w->early[e]) + 1] = true;
	for (i = 0; i < num; i++) {
		size_t len, hdr = 1, k, out = 0;
		const uint8_t *d;

		if (markers && !(i & 0xff) && le32(markers + 4 * (i >> 8)) != pos)
			return -EBADMSG;
		r = entry_len(nb, pos, long_lens, &len, &hdr);
		if (r < 0)
			return r;
		r = names_ensure(nb, pos + hdr + len);
		if (r < 0)
			return r;
		d = nb->data + pos + hdr;
		for (k = 0; k < len; k++)
			out += tok->len[d[k]];
		/* The type character plus at least one name character (tokens hold no NUL). */
		if (out < 2 || out > KS_NAME_MAX)
			return -EBADMSG;
		if (lens[out])
			check_wanted(tok, d, len, out, i, w);
		total += out + 1;
		if (total > KS_ARENA_MAX)
			return -EBADMSG;
		ks->name_off[i] = (uint32_t)pos;
		pos += hdr + len;
	}
	*total_out = total;
	return 0;
}

/*
 * Pass 2: expand every name into the arena and hash it. A name is ~13 tokens; a library memcpy
 * call per token was most of the decode time, so tokens up to 16 bytes are copied as one
 * fixed-size (inlined) move from a padded copy of the token table, and the cursor advances by
 * the real length.
 */
static int names_pass2(struct nfm_kallsyms *ks, const struct names_buf *nb,
		       const struct ks_tokens *tok, uint32_t num, bool long_lens, size_t total)
{
	char pad[256][TOKEN_PAD];
	uint32_t i;
	/* 16 bytes of slack for the last fixed-size move. */
	int r = ks_arena_reserve(ks, total + TOKEN_PAD);

	if (r < 0)
		return r;
	for (int t = 0; t < 256; t++) {
		memset(pad[t], 0, TOKEN_PAD);
		if (tok->len[t] <= TOKEN_PAD)
			memcpy(pad[t], tok->str[t], tok->len[t]);
	}
	for (i = 0; i < num; i++) {
		const uint8_t *d = nb->data + ks->name_off[i];
		size_t len = d[0], k, out = 0;
		char *dst = ks->arena + ks->arena_len;

		if (long_lens && (len & 0x80)) {
			len = (len & 0x7f) | (size_t)d[1] << 7;
			d++;
		}
		d++;
		for (k = 0; k < len; k++) {
			size_t tl = tok->len[d[k]];

			if (tl <= TOKEN_PAD)
				memcpy(dst + out, pad[d[k]], TOKEN_PAD);
			else
				memcpy(dst + out, tok->str[d[k]], tl);
			out += tl;
		}
		dst[out] = '\0';
		/* Hash now, while the name is in cache (the type character is not part of it). */
		ks->hashes[i] = ks_name_hash_n(dst + 1, out - 1);
		ks->name_off[i] = (uint32_t)(ks->arena_len + 1);
		ks->arena_len += out + 1;
	}
	ks->count = num;
	return 0;
}

/*
 * scripts/kallsyms.c sorts the table by address (compare_symbols()), under every encoding, so
 * an encoding that does not give non-decreasing addresses is the wrong one, or the table (or
 * num_syms) is corrupt.
 */
static bool addresses_sorted(enum nfm_kallsyms_encoding enc, const uint8_t *tab, uint64_t tab_va,
			     uint64_t base, uint32_t num)
{
	uint64_t prev = 0, a;
	uint32_t i;

	for (i = 0; i < num; i++, prev = a) {
		a = ks_address(enc, tab, tab_va, base, i);
		if (a < prev)
			return false;
	}
	return true;
}

static const char *sym_name(const struct nfm_kallsyms *ks, size_t i)
{
	return ks->arena + ks->name_off[i];
}

static int cmp_addr_idx(const void *a, const void *b, void *arg)
{
	const uint64_t *addrs = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	if (addrs[x] != addrs[y])
		return addrs[x] < addrs[y] ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* Build the address index and the name hash once the symbols are in. */
int ks_finish(struct nfm_kallsyms *ks)
{
	size_t i, n = ks->count, mask;
	uint32_t *hashes;
	bool sorted = true;

	for (i = 1; i < n; i++)
		if (ks->addrs[i - 1] > ks->addrs[i]) {
			sorted = false;
			break;
		}
	if (!sorted) {
		ks->by_addr = malloc(n * sizeof(*ks->by_addr));
		if (!ks->by_addr)
			return -ENOMEM;
		for (i = 0; i < n; i++)
			ks->by_addr[i] = (uint32_t)i;
		qsort_r(ks->by_addr, n, sizeof(*ks->by_addr), cmp_addr_idx, ks->addrs);
	}

	/* Load factor at most 0.8: with the hash in the slot, probes stay within a cache line. */
	ks->nslots = 16;
	while (ks->nslots < n + n / 4)
		ks->nslots *= 2;
	mask = ks->nslots - 1;
	ks->slots = calloc(ks->nslots, sizeof(*ks->slots));
	if (!ks->slots)
		return -ENOMEM;
	/* The hashes were taken as the names came in, so that slot misses can be prefetched. */
	hashes = ks->hashes;
	for (i = 0; i < n; i++) {
		uint32_t h = hashes[i];
		size_t s = h & mask;

		if (i + 16 < n)
			__builtin_prefetch(&ks->slots[hashes[i + 16] & mask], 1);
		/* Keep the first symbol of a name, as kallsyms_lookup_name() finds it. */
		while (ks->slots[s]) {
			uint64_t v = ks->slots[s];

			if ((uint32_t)(v >> 32) == h &&
			    !strcmp(sym_name(ks, (uint32_t)v - 1), sym_name(ks, i)))
				break;
			s = (s + 1) & mask;
		}
		if (!ks->slots[s])
			ks->slots[s] = (uint64_t)h << 32 | ((uint64_t)i + 1);
	}
	free(ks->hashes);	/* lookups hash the name asked for */
	ks->hashes = NULL;
	ks->num = n;
	__atomic_store_n(&ks->full, true, __ATOMIC_RELEASE);
	return 0;
}

struct nfm_kallsyms *ks_new(void)
{
	struct nfm_kallsyms *ks = calloc(1, sizeof(*ks));

	if (ks)
		pthread_mutex_init(&ks->lock, NULL);
	return ks;
}

/* The guest's tables are not needed once every name is decoded. */
static void drop_tables(struct nfm_kallsyms *ks)
{
	void (*put)(const void *) = ks->interned ? nfm_intern_put : free_const;

	put(ks->names);
	free(ks->token_table);
	free(ks->markers);
	put(ks->tab);
	put(ks->seqs);
	put(ks->entry_pos);
	ks->names = ks->token_table = ks->markers = ks->tab = ks->seqs = NULL;
	ks->entry_pos = NULL;
}

/*
 * The lazy tables, kept for as long as the context lives, are the same in every guest of one
 * kernel build: one copy for all of them. The address table too where it holds offsets (KASLR
 * moves only ks->base); an absolute one differs per guest and stays its own. Nothing writes
 * them after load.
 */
static void intern_tables(struct nfm_kallsyms *ks, size_t tab_bytes)
{
	uint8_t *names = ks->names_len ? realloc(ks->names, ks->names_len) : NULL;

	if (names)	/* trimmed to the names walked: the rest was read ahead, never used */
		ks->names = names;
	ks->names = nfm_intern(ks->names, ks->names_len);
	ks->tab = nfm_intern(ks->tab, tab_bytes);
	ks->seqs = nfm_intern(ks->seqs, 3 * ks->num);
	ks->entry_pos = nfm_intern(ks->entry_pos, ks->num * sizeof(*ks->entry_pos));
	ks->interned = true;
}

void nfm_kallsyms_free(struct nfm_kallsyms *ks)
{
	if (!ks)
		return;
	free(ks->arena);
	free(ks->name_off);
	free(ks->addrs);
	free(ks->by_addr);
	free(ks->slots);
	free(ks->hashes);
	drop_tables(ks);
	for (size_t i = 0; i < ks->lazy_cap; i++)
		free(ks->lazy_val[i]);
	free(ks->lazy_key);
	free(ks->lazy_val);
	pthread_mutex_destroy(&ks->lock);
	free(ks);
}

static int read_tokens(nfm_read_kva_fn read, void *ud, const struct nfm_kallsyms_tables *t,
		       uint8_t **table_ret, struct ks_tokens *tok)
{
	uint8_t idx[512], *table;
	size_t max = 0, want, got, i;
	int r, err;

	r = read_exact(read, ud, t->token_index, idx, sizeof(idx));
	if (r < 0)
		return r;
	for (i = 0; i < 256; i++)
		if (le16(idx + 2 * i) > max)
			max = le16(idx + 2 * i);
	/* A token expands to less than KSYM_NAME_LEN characters. */
	want = max + KS_NAME_MAX + 1;
	table = malloc(want);
	if (!table)
		return -ENOMEM;
	got = read_best(read, ud, t->token_table, table, want, &err);
	if (!got) {
		free(table);
		return err ? err : -EFAULT;
	}
	if (err == -EIO) {
		free(table);
		return err;
	}
	for (i = 0; i < 256; i++) {
		size_t o = le16(idx + 2 * i);
		const uint8_t *end;

		if (o >= got || !(end = memchr(table + o, '\0', got - o)) ||
		    (size_t)(end - (table + o)) > KS_NAME_MAX) {
			free(table);
			return -EBADMSG;
		}
		tok->str[i] = (const char *)table + o;
		tok->len[i] = (uint16_t)(end - (table + o));
		/* write_src() lays the tokens end to end, in code order, from offset 0. */
		if (o != (i ? le16(idx + 2 * (i - 1)) + tok->len[i - 1] + 1u : 0u)) {
			free(table);
			return -EBADMSG;
		}
	}
	*table_ret = table;
	return 0;
}

/*
 * Pick the address encoding: the one under which a symbol named _stext (table indices
 * stext_idx) is at stext; without stext, the first plausible one. Its addresses must also be
 * non-decreasing. 0 (ks->enc set) or -ENOENT.
 */
static int choose_encoding(struct nfm_kallsyms *ks, const struct nfm_kallsyms_tables *t,
			   uint64_t stext, const uint32_t *stext_idx, size_t nstext)
{
	static const enum nfm_kallsyms_encoding order[] = {
		NFM_KALLSYMS_BASE_RELATIVE, NFM_KALLSYMS_ABSOLUTE_PERCPU,
		NFM_KALLSYMS_PLACE_RELATIVE, NFM_KALLSYMS_ABSOLUTE,
	};
	uint32_t num = (uint32_t)ks->num;

	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		enum nfm_kallsyms_encoding enc = order[k];
		bool found = false;

		if ((enc == NFM_KALLSYMS_ABSOLUTE) != !t->offsets)
			continue;
		if ((enc == NFM_KALLSYMS_BASE_RELATIVE || enc == NFM_KALLSYMS_ABSOLUTE_PERCPU) &&
		    !t->relative_base)
			continue;
		if (!stext) {
			/*
			 * No reference: absolute-percpu tables hold negative offsets (every
			 * relocatable symbol), base-relative ones none.
			 */
			if (enc == NFM_KALLSYMS_BASE_RELATIVE)
				for (uint32_t i = 0; i < num && !found; i++)
					found = (int32_t)le32(ks->tab + 4 * (size_t)i) < 0;
			if (found)
				continue;
		} else {
			for (size_t i = 0; i < nstext && !found; i++)
				found = ks_address(enc, ks->tab, ks->tab_va, ks->base, stext_idx[i]) ==
					stext;
			if (!found)
				continue;
		}
		if (addresses_sorted(enc, ks->tab, ks->tab_va, ks->base, num)) {
			ks->enc = enc;
			return 0;
		}
	}
	return -ENOENT;
}

static void call_early(struct nfm_kallsyms *ks, const struct nfm_kallsyms_early *early,
		       const uint32_t *idx)
{
	uint64_t addrs[NFM_KALLSYMS_EARLY_MAX];

	if (!early || !early->found)
		return;
	for (size_t k = 0; early->names[k]; k++)
		addrs[k] = idx[k] == UINT32_MAX ? 0 : ks_sym_address(ks, idx[k]);
	early->found(early->ud, addrs);
}

/*
 * Decode every name now (tables without a usable name index). Two-byte lengths since 6.1;
 * older kernels used one byte, which only differs when a name has 128 or more tokens. Nothing
 * in memory says which, so try the new form first and fall back when it does not decode or
 * does not place _stext.
 */
static int load_full(struct nfm_kallsyms *ks, struct names_buf *nb,
		     const struct nfm_kallsyms_tables *t, uint64_t stext,
		     const struct nfm_kallsyms_early *early)
{
	struct wanted w = { .early = early ? early->names : NULL };
	uint32_t num = (uint32_t)ks->num;
	bool long_lens = true;
	size_t total = 0;
	int r = 0;

	for (int attempt = 0; attempt < 2; attempt++) {
		int rr;

		long_lens = attempt == 0;
		rr = names_pass1(ks, nb, &ks->tok, num, ks->markers, long_lens, &w, &total);
		if (!rr && stext && !w.nstext)
			rr = -ENOENT;
		if (!rr)
			rr = choose_encoding(ks, t, stext, w.stext_idx, w.nstext);
		if (!rr) {
			r = 0;
			break;
		}
		if (rr == -ENOMEM || rr == -EIO)
			return rr;
		/* Report the first form's error, unless only the old form decoded at all. */
		if (!attempt || (r == -EBADMSG && rr == -ENOENT))
			r = rr;
	}
	if (r < 0)
		return r;
	call_early(ks, early, w.early_idx);
	r = names_pass2(ks, nb, &ks->tok, num, long_lens, total);
	if (r < 0)
		return r;
	for (uint32_t i = 0; i < num; i++)
		ks->addrs[i] = ks_sym_address(ks, i);
	return ks_finish(ks);
}

/*
 * Check every entry's (two-byte form) length against the markers and note where it starts
 * (pos); *end: the table's size.
 */
static int names_walk(struct names_buf *nb, const uint8_t *markers, uint32_t num, uint32_t *epos,
		      size_t *end)
{
	size_t pos = 0;
	int r;

	for (uint32_t i = 0; i < num; i++) {
		size_t len, hdr = 1;

		if (!(i & 0xff) && le32(markers + 4 * (size_t)(i >> 8)) != pos)
			return -EBADMSG;
		r = entry_len(nb, pos, true, &len, &hdr);
		if (r < 0)
			return r;
		epos[i] = (uint32_t)pos;
		pos += hdr + len;
	}
	r = names_ensure(nb, pos);
	*end = pos;
	return r;
}

/*
 * Use the table without decoding it (kallsyms_lazy.c): needs the markers and the kernel's
 * name-ordered index. -ENOENT and -EBADMSG: decode everything instead.
 */
static int load_lazy(struct nfm_kallsyms *ks, struct names_buf *nb,
		     const struct nfm_kallsyms_tables *t, nfm_read_kva_fn read, void *ud,
		     uint64_t stext, const struct nfm_kallsyms_early *early)
{
	uint32_t stext_idx[KS_STEXT_MAX], early_idx[NFM_KALLSYMS_EARLY_MAX];
	size_t nstext = 0, end;
	int r;

	if (!ks->markers)
		return -ENOENT;
	ks->entry_pos = malloc(ks->num * sizeof(*ks->entry_pos));
	if (!ks->entry_pos)
		return -ENOMEM;
	r = names_walk(nb, ks->markers, (uint32_t)ks->num, ks->entry_pos, &end);
	if (r < 0)
		return r;
	ks->names = nb->data;
	ks->names_len = end;
	r = ks_lazy_open(ks, read, ud, t);
	if (!r && stext) {
		nstext = ks_lazy_find(ks, "_stext", stext_idx, KS_STEXT_MAX);
		if (!nstext)
			r = -ENOENT;
	}
	if (!r)
		r = choose_encoding(ks, t, stext, stext_idx, nstext);
	if (r < 0) {
		free(ks->seqs);
		ks->seqs = NULL;
		ks->names = NULL;	/* still nb's */
		return r;
	}
	nb->data = NULL;
	if (early) {
		for (size_t k = 0; early->names[k]; k++)
			if (!ks_lazy_find(ks, early->names[k], &early_idx[k], 1))
				early_idx[k] = UINT32_MAX;
		call_early(ks, early, early_idx);
	}
	return 0;
}

/*
 * VMCOREINFO has no kallsyms_markers, but write_src() puts it 8-byte aligned right before
 * kallsyms_token_table (6.0, 6.1, 6.4+), or before kallsyms_seqs_of_names which is right before
 * it (later 6.1 stable, 6.2, 6.3). A candidate must look like markers (the first 0, blocks of
 * 256 entries of 2 to 2 + KS_NAME_MAX bytes each, inside the names before it); the names walk
 * then checks every one.
 */
static int locate_markers(nfm_read_kva_fn read, void *ud, const struct nfm_kallsyms_tables *t,
			  uint32_t num, uint8_t **out, uint64_t *va)
{
	size_t nm = (num + 255) / 256, bytes = 4 * nm;
	uint64_t cand[2], tt = t->token_table;
	uint8_t *m = malloc(bytes);

	if (!m)
		return -ENOMEM;
	if (tt < bytes + 3 * (uint64_t)num + 16) {
		free(m);
		return -ENOENT;
	}
	cand[0] = (tt - bytes) & ~7ull;
	cand[1] = (((tt - 3 * (uint64_t)num) & ~7ull) - bytes) & ~7ull;
	for (size_t c = 0; c < 2; c++) {
		bool ok = cand[c] > t->names && !read_exact(read, ud, cand[c], m, bytes) && !le32(m);

		for (size_t k = 1; ok && k < nm; k++) {
			uint32_t d = le32(m + 4 * k) - le32(m + 4 * (k - 1));

			ok = le32(m + 4 * k) > le32(m + 4 * (k - 1)) && d >= 2 * 256 &&
			     d <= 256 * (2 + KS_NAME_MAX);
		}
		if (ok && le32(m + 4 * (nm - 1)) < cand[c] - t->names) {
			*out = m;
			*va = cand[c];
			return 0;
		}
	}
	free(m);
	return -ENOENT;
}

int nfm_kallsyms_load(nfm_read_kva_fn read, void *ud, const struct nfm_kallsyms_tables *t,
		      uint64_t stext, struct nfm_kallsyms **ret)
{
	return nfm_kallsyms_load_early(read, ud, t, stext, NULL, ret);
}

int nfm_kallsyms_load_early(nfm_read_kva_fn read, void *ud, const struct nfm_kallsyms_tables *t,
			    uint64_t stext, const struct nfm_kallsyms_early *early,
			    struct nfm_kallsyms **ret)
{
	struct names_buf nb = { .read = read, .ud = ud, .hint = KS_NAMES_CHUNK };
	struct nfm_kallsyms_tables tl;	/* t, with the markers located if it has none */
	struct nfm_kallsyms *ks = NULL;
	uint8_t raw[4];
	uint32_t num;
	size_t nmarkers, k, tab_bytes;
	int r;

	if (!read || !t || !ret || !t->names || !t->num_syms || !t->token_table ||
	    !t->token_index || (!t->offsets && !t->addresses))
		return -EINVAL;
	if (early) {
		for (k = 0; early->names[k]; k++)
			if (k == NFM_KALLSYMS_EARLY_MAX - 1)
				return -EINVAL;
	}
	nb.va = t->names;

	r = read_exact(read, ud, t->num_syms, raw, sizeof(raw));
	if (r < 0)
		return r;
	num = le32(raw);
	if (!num || num > NFM_KALLSYMS_MAX_SYMS)
		return -EBADMSG;
	ks = ks_new();
	if (!ks)
		return -ENOMEM;
	ks->num = num;

	r = read_tokens(read, ud, t, &ks->token_table, &ks->tok);
	if (r < 0)
		goto out;

	nmarkers = (num + 255) / 256;
	tl = *t;
	if (t->markers) {
		ks->markers = malloc(nmarkers * 4);
		if (!ks->markers) {
			r = -ENOMEM;
			goto out;
		}
		r = read_exact(read, ud, t->markers, ks->markers, nmarkers * 4);
		if (r < 0)
			goto out;
	} else {
		r = locate_markers(read, ud, t, num, &ks->markers, &tl.markers);
		if (r == -ENOMEM)
			goto out;
	}
	if (ks->markers)	/* the last block starts where its marker says: read that much at once */
		nb.hint = (size_t)le32(ks->markers + 4 * (nmarkers - 1)) + 256 * 8;

	ks->tab_va = t->offsets ? t->offsets : t->addresses;
	tab_bytes = (size_t)num * (t->offsets ? 4 : 8);
	ks->tab = malloc(tab_bytes);
	if (!ks->tab) {
		r = -ENOMEM;
		goto out;
	}
	r = read_exact(read, ud, ks->tab_va, ks->tab, tab_bytes);
	if (r < 0)
		goto out;
	if (t->offsets && t->relative_base) {
		uint8_t b[8];

		r = read_exact(read, ud, t->relative_base, b, sizeof(b));
		if (r < 0)
			goto out;
		ks->base = le64(b);
	}

	r = load_lazy(ks, &nb, &tl, read, ud, stext, early);
	if (r == -ENOMEM || r == -EIO)
		goto out;
	if (r == 0)
		intern_tables(ks, tab_bytes);
	if (r < 0) {
		if (!t->markers) {	/* the located ones: only trusted once walked */
			free(ks->markers);
			ks->markers = NULL;
		}
		r = ks_syms_reserve(ks, num);
		if (!r)
			r = load_full(ks, &nb, t, stext, early);
		if (r < 0)
			goto out;
		drop_tables(ks);
	}
	*ret = ks;
	ks = NULL;
	r = 0;
out:
	nfm_kallsyms_free(ks);
	free(nb.data);
	return r;
}

int ks_materialize(struct nfm_kallsyms *ks)
{
	struct names_buf nb = { .data = ks->names, .len = ks->names_len, .err = -EBADMSG };
	struct wanted w = { .early = NULL };
	size_t total = 0;
	int r = 0;

	if (ks_full(ks))
		return 0;
	pthread_mutex_lock(&ks->lock);
	if (!ks->full) {
		r = ks_syms_reserve(ks, ks->num);
		if (!r)
			r = names_pass1(ks, &nb, &ks->tok, (uint32_t)ks->num, ks->markers, true, &w,
					&total);
		if (!r)
			r = names_pass2(ks, &nb, &ks->tok, (uint32_t)ks->num, true, total);
		for (uint32_t i = 0; !r && i < ks->num; i++)
			ks->addrs[i] = ks_sym_address(ks, i);
		if (!r)
			r = ks_finish(ks);
		if (r < 0) {
			free(ks->slots);
			free(ks->by_addr);
			ks->slots = NULL;
			ks->by_addr = NULL;
			ks->nslots = 0;
		}
	}
	pthread_mutex_unlock(&ks->lock);
	return r;
}

size_t nfm_kallsyms_count(const struct nfm_kallsyms *ks)
{
	return ks ? ks->num : 0;
}

enum nfm_kallsyms_encoding nfm_kallsyms_encoding(const struct nfm_kallsyms *ks)
{
	return ks ? ks->enc : NFM_KALLSYMS_ABSOLUTE;
}

bool nfm_kallsyms_lazy(const struct nfm_kallsyms *ks)
{
	return ks && !ks_full(ks);
}

/* The full decode, built now if lookups so far were lazy. */
static int need_full(const struct nfm_kallsyms *ks)
{
	return ks_full(ks) ? 0 : ks_materialize((struct nfm_kallsyms *)ks);
}

int nfm_kallsyms_find(const struct nfm_kallsyms *ks, const char *name, uint64_t *addr, char *type)
{
	uint32_t h;
	size_t s, mask;
	int r;

	if (!ks || !name)
		return -EINVAL;
	if (!ks_full(ks) && ks->seqs) {
		char buf[KS_NAME_MAX + 1];
		uint32_t i;

		if (!ks_lazy_find(ks, name, &i, 1))
			return -ENOENT;
		if (addr)
			*addr = ks_sym_address(ks, i);
		if (type)
			*type = ks_lazy_expand(ks, i, buf) ? buf[0] : '?';
		return 0;
	}
	r = need_full(ks);
	if (r < 0)
		return r;
	if (!ks->nslots)
		return -ENOENT;
	h = name_hash(name);
	mask = ks->nslots - 1;
	for (s = h & mask; ks->slots[s]; s = (s + 1) & mask) {
		uint64_t v = ks->slots[s];
		uint32_t i = (uint32_t)v - 1;

		if ((uint32_t)(v >> 32) == h && !strcmp(sym_name(ks, i), name)) {
			if (addr)
				*addr = ks->addrs[i];
			if (type)
				*type = ks->arena[ks->name_off[i] - 1];
			return 0;
		}
	}
	return -ENOENT;
}

int nfm_kallsyms_lookup(const struct nfm_kallsyms *ks, const char *name, uint64_t *addr)
{
	if (!addr)
		return -EINVAL;
	return nfm_kallsyms_find(ks, name, addr, NULL);
}

/* Fill the out-parameters from an entry (type character, then name) at start. */
static void put_sym(const char *entry, uint64_t start, uint64_t addr, const char **name, char *type,
		    uint64_t *startp, uint64_t *offset)
{
	if (name)
		*name = entry + 1;
	if (type)
		*type = entry[0];
	if (startp)
		*startp = start;
	if (offset)
		*offset = addr - start;
}

static uint32_t by_addr(const struct nfm_kallsyms *ks, size_t k)
{
	return ks->by_addr ? ks->by_addr[k] : (uint32_t)k;
}

int nfm_kallsyms_symbolize(const struct nfm_kallsyms *ks, uint64_t addr, const char **name,
			   char *type, uint64_t *start, uint64_t *offset)
{
	size_t lo = 0, hi, mid;
	uint32_t i;
	int r;

	if (!ks)
		return -EINVAL;
	if (!ks_full(ks) && ks->seqs) {
		const char *e;

		r = ks_lazy_symbolize(ks, addr, &i);
		if (r < 0)
			return r;
		e = ks_lazy_entry((struct nfm_kallsyms *)ks, i);
		if (!e)
			return -EBADMSG;
		put_sym(e, ks_sym_address(ks, i), addr, name, type, start, offset);
		return 0;
	}
	r = need_full(ks);
	if (r < 0)
		return r;
	if (!ks->count || ks->addrs[by_addr(ks, 0)] > addr)
		return -ENOENT;
	/* The last position whose address is <= addr... */
	hi = ks->count;
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (ks->addrs[by_addr(ks, mid)] <= addr)
			lo = mid;
		else
			hi = mid;
	}
	/* ...then the first of its aliases, like the kernel's get_symbol_pos(). */
	{
		uint64_t a = ks->addrs[by_addr(ks, lo)];

		hi = lo;
		lo = 0;
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if (ks->addrs[by_addr(ks, mid)] < a)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	i = by_addr(ks, lo);
	put_sym(sym_name(ks, i) - 1, ks->addrs[i], addr, name, type, start, offset);
	return 0;
}

int nfm_kallsyms_get(const struct nfm_kallsyms *ks, size_t i, const char **name, char *type,
		     uint64_t *addr)
{
	int r;

	if (!ks)
		return -EINVAL;
	if (i >= ks->num)
		return -ENOENT;
	r = need_full(ks);
	if (r < 0)
		return r;
	put_sym(sym_name(ks, i) - 1, ks->addrs[i], 0, name, type, addr, NULL);
	return 0;
}
