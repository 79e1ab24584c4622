// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ksgen.h"
#include "sym/kallsyms.h"
#include "sym/kallsyms_int.h"

#define TEXT 0xffffffff81000000ull
#define IMG_VA 0xffffffff82a00000ull

struct fixture {
	struct ksgen_sym *syms;
	char **names;
	size_t n;
	uint64_t stext;
};

static char long_name[300];

/*
 * ~700 symbols: _text/_stext, functions with shared prefixes, aliases at one address, two
 * static functions of the same name, a 200-character name (more than 127 tokens), and, when
 * percpu is set, zero-based per-CPU symbols placed first as on x86-64.
 */
static void make_syms(struct fixture *f, bool percpu)
{
	size_t cap = 800, n = 0, i;
	uint64_t a = TEXT;

	f->syms = calloc(cap, sizeof(*f->syms));
	f->names = calloc(cap, sizeof(*f->names));
#define ADD(nm, ty, ad, pc)                                                \
	do {                                                               \
		f->names[n] = strdup(nm);                                  \
		f->syms[n] = (struct ksgen_sym){ f->names[n], ty, ad, pc }; \
		n++;                                                       \
	} while (0)
	if (percpu) {
		ADD("fixed_percpu_data", 'D', 0x0, true);
		ADD("irq_stack_backing_store", 'd', 0x4000, true);
		ADD("cpu_number", 'D', 0x2a014, true);
	}
	ADD("_text", 'T', a, false);
	ADD("startup_64", 'T', a, false);
	ADD("_stext", 'T', a + 0x1000, false);
	ADD("__x64_sys_read", 'T', a + 0x1000, false);	/* alias of _stext */
	a += 0x2000;
	for (i = 0; i < 600; i++) {
		char nm[64];

		snprintf(nm, sizeof(nm), i % 3 ? "func_%04zu_do_work" : "do_init_%zu", i);
		ADD(nm, i % 5 ? 't' : 'T', a, false);
		a += 0x10 + (i % 7) * 0x30;
	}
	ADD("init_once", 't', a, false);
	a += 0x40;
	memset(long_name, 'z', 200);
	long_name[200] = '\0';
	ADD(long_name, 't', a, false);
	a += 0x100;
	ADD("init_once", 't', a, false);
	a += 0x80;
	ADD("kallsyms_lookup_name", 'T', a, false);
	ADD("init_task", 'D', a + 0x1000000, false);
	ADD("_end", 'B', a + 0x2000000, false);
#undef ADD
	f->n = n;
	f->stext = TEXT + 0x1000;
}

static void free_syms(struct fixture *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->names[i]);
	free(f->names);
	free(f->syms);
}

static char expected_type(const struct ksgen_sym *s, enum nfm_kallsyms_encoding enc)
{
	return enc == NFM_KALLSYMS_ABSOLUTE_PERCPU && s->percpu ? 'A' : s->type;
}

/* Lookups and symbolization: what works without decoding every name. */
static void check_lookups(struct nfm_kallsyms *ks, struct fixture *f, const size_t *order,
			  enum nfm_kallsyms_encoding enc)
{
	const char *name;
	char type;
	uint64_t addr, start, off;
	size_t i;

	assert_int_equal(nfm_kallsyms_count(ks), f->n);
	assert_int_equal(nfm_kallsyms_encoding(ks), enc);
	assert_int_equal(nfm_kallsyms_lookup(ks, "_stext", &addr), 0);
	assert_int_equal(addr, f->stext);
	assert_int_equal(nfm_kallsyms_find(ks, "init_task", &addr, &type), 0);
	assert_int_equal(type, 'D');
	assert_int_equal(nfm_kallsyms_lookup(ks, long_name, &addr), 0);
	assert_int_equal(nfm_kallsyms_lookup(ks, "no_such_symbol", &addr), -ENOENT);
	assert_int_equal(nfm_kallsyms_lookup(ks, "", &addr), -ENOENT);
	assert_int_equal(nfm_kallsyms_lookup(ks, "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
					     "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
					     "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
					     "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
					     &addr), -ENOENT);
	/* Duplicate names: the first in table order. */
	assert_int_equal(nfm_kallsyms_lookup(ks, "init_once", &addr), 0);
	for (i = 0; i < f->n; i++)
		if (!strcmp(f->syms[order[i]].name, "init_once"))
			break;
	assert_int_equal(addr, f->syms[order[i]].addr);
	/* Every name looks up to itself or an earlier symbol of that name, with its type. */
	for (i = 0; i < f->n; i++) {
		assert_int_equal(nfm_kallsyms_find(ks, f->syms[i].name, &addr, &type), 0);
		if (strcmp(f->syms[i].name, "init_once")) {
			assert_int_equal(addr, f->syms[i].addr);
			assert_int_equal(type, expected_type(&f->syms[i], enc));
		}
	}

	/* Aliases: the first at the address; inside: the greatest start below. */
	assert_int_equal(nfm_kallsyms_symbolize(ks, f->stext + 5, &name, &type, &start, &off), 0);
	assert_string_equal(name, "_stext");
	assert_int_equal(type, 'T');
	assert_int_equal(start, f->stext);
	assert_int_equal(off, 5);
	assert_int_equal(nfm_kallsyms_symbolize(ks, TEXT, &name, NULL, NULL, &off), 0);
	assert_string_equal(name, "_text");
	assert_int_equal(off, 0);
	assert_int_equal(nfm_kallsyms_symbolize(ks, ~0ull, &name, NULL, NULL, NULL), 0);
	assert_string_equal(name, "_end");
	/* Every symbol's own address gives it or the first symbol at that address. */
	for (i = 0; i < f->n; i++) {
		const struct ksgen_sym *s = &f->syms[order[i]];
		size_t first = i;

		while (first > 0 && f->syms[order[first - 1]].addr == s->addr)
			first--;
		assert_int_equal(nfm_kallsyms_symbolize(ks, s->addr, &name, &type, &start, &off), 0);
		assert_string_equal(name, f->syms[order[first]].name);
		assert_int_equal(start, s->addr);
		assert_int_equal(off, 0);
	}
	if (enc != NFM_KALLSYMS_ABSOLUTE_PERCPU) {
		assert_int_equal(nfm_kallsyms_symbolize(ks, TEXT - 1, &name, NULL, NULL, NULL),
				 -ENOENT);
	} else {
		assert_int_equal(nfm_kallsyms_symbolize(ks, 0x2a018, &name, &type, NULL, &off), 0);
		assert_string_equal(name, "cpu_number");
		assert_int_equal(type, 'A');
		assert_int_equal(off, 4);
	}
}

/*
 * Lookups (lazily when the table allows), then every symbol in table order (which decodes
 * them all), then lookups again on the full decode: both must agree.
 */
static void check_everything(struct nfm_kallsyms *ks, struct fixture *f, const size_t *order,
			     enum nfm_kallsyms_encoding enc)
{
	const char *name;
	char type;
	uint64_t addr;
	size_t i;

	check_lookups(ks, f, order, enc);
	for (i = 0; i < f->n; i++) {
		const struct ksgen_sym *s = &f->syms[order[i]];

		assert_int_equal(nfm_kallsyms_get(ks, i, &name, &type, &addr), 0);
		assert_string_equal(name, s->name);
		assert_int_equal(type, expected_type(s, enc));
		assert_int_equal(addr, s->addr);
	}
	assert_false(nfm_kallsyms_lazy(ks));
	assert_int_equal(nfm_kallsyms_get(ks, f->n, &name, &type, &addr), -ENOENT);
	check_lookups(ks, f, order, enc);
}

struct early_seen {
	int calls;
	uint64_t addrs[4];
};

static void early_found(void *ud, const uint64_t *addrs)
{
	struct early_seen *e = ud;

	e->calls++;
	memcpy(e->addrs, addrs, sizeof(e->addrs));
}

/* The early names come with the addresses lookup gives (the first of a name), before pass 2. */
static void check_early(struct ksgen_image *img, uint64_t stext, struct fixture *f,
			const size_t *order, enum nfm_kallsyms_encoding enc)
{
	static const char *const names[] = { "init_once", "no_such_symbol", "_text", "_end", NULL };
	struct early_seen seen = { 0 };
	const struct nfm_kallsyms_early early = { .names = names, .found = early_found,
						  .ud = &seen };
	struct nfm_kallsyms *ks = NULL;
	uint64_t want;

	assert_int_equal(nfm_kallsyms_load_early(ksgen_read, img, &img->t, stext, &early, &ks), 0);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(nfm_kallsyms_lookup(ks, "init_once", &want), 0);
	assert_int_equal(seen.addrs[0], want);
	assert_int_equal(seen.addrs[1], 0);
	assert_int_equal(seen.addrs[2], TEXT);
	assert_int_equal(nfm_kallsyms_lookup(ks, "_end", &want), 0);
	assert_int_equal(seen.addrs[3], want);
	check_everything(ks, f, order, enc);
	nfm_kallsyms_free(ks);
}

static void run_case(enum nfm_kallsyms_encoding enc, enum ksgen_layout layout, bool short_lens,
		     bool seqs)
{
	struct fixture f;
	struct ksgen_opts o = { .enc = enc, .layout = layout, .short_lens = short_lens,
				.no_seqs = !seqs, .base_va = IMG_VA };
	struct ksgen_image img;
	struct nfm_kallsyms *ks = NULL;
	size_t *order;
	uint64_t markers;

	make_syms(&f, enc == NFM_KALLSYMS_ABSOLUTE_PERCPU);
	assert_int_equal(ksgen_build(f.syms, f.n, &o, &img, &order), 0);
	assert_int_equal(nfm_kallsyms_load(ksgen_read, &img, &img.t, f.stext, &ks), 0);
	/* The name index is found where the layout puts it and used. */
	assert_int_equal(nfm_kallsyms_lazy(ks), seqs && !short_lens);
	if (nfm_kallsyms_lazy(ks)) {
		/* The same tables loaded again (a second guest of the build): one copy, held
		 * twice; the first holder's lookups are whole after the second lets go. */
		struct nfm_kallsyms *ks2 = NULL;
		unsigned long reads = img.reads;

		assert_int_equal(nfm_kallsyms_load(ksgen_read, &img, &img.t, f.stext, &ks2), 0);
		assert_true(ks2->interned && ks->interned);
		assert_ptr_equal(ks2->names, ks->names);
		assert_ptr_equal(ks2->tab, ks->tab);
		assert_ptr_equal(ks2->seqs, ks->seqs);
		assert_ptr_equal(ks2->entry_pos, ks->entry_pos);
		nfm_kallsyms_free(ks2);
		img.reads = reads;
	}
	check_everything(ks, &f, order, enc);
	/* A few large reads, not one per symbol. */
	assert_true(img.reads < 16);
	nfm_kallsyms_free(ks);
	check_early(&img, f.stext, &f, order, enc);

	/* Without the _stext check. */
	ks = NULL;
	assert_int_equal(nfm_kallsyms_load(ksgen_read, &img, &img.t, 0, &ks), 0);
	assert_int_equal(nfm_kallsyms_lazy(ks), seqs && !short_lens);
	check_everything(ks, &f, order, enc);
	nfm_kallsyms_free(ks);

	/* Without the markers' address, as VMCOREINFO gives the tables: found before the tokens. */
	markers = img.t.markers;
	img.t.markers = 0;
	ks = NULL;
	assert_int_equal(nfm_kallsyms_load(ksgen_read, &img, &img.t, f.stext, &ks), 0);
	assert_int_equal(nfm_kallsyms_lazy(ks), seqs && !short_lens);
	check_everything(ks, &f, order, enc);
	nfm_kallsyms_free(ks);

	/* ...and when they cannot be found (or do not hold up), everything is decoded. */
	memset(ksgen_at(&img, markers), 0xff, 4 * ((f.n + 255) / 256));
	ks = NULL;
	assert_int_equal(nfm_kallsyms_load(ksgen_read, &img, &img.t, f.stext, &ks), 0);
	assert_false(nfm_kallsyms_lazy(ks));
	check_everything(ks, &f, order, enc);
	nfm_kallsyms_free(ks);

	ksgen_free(&img);
	free(order);
	free_syms(&f);
}

static void test_base_relative_6_1(void **state)
{
	run_case(NFM_KALLSYMS_BASE_RELATIVE, KSGEN_LAYOUT_6_1, false, true);
}

static void test_base_relative_6_4(void **state)
{
	run_case(NFM_KALLSYMS_BASE_RELATIVE, KSGEN_LAYOUT_6_4, false, true);
}

static void test_absolute_percpu_6_1(void **state)
{
	run_case(NFM_KALLSYMS_ABSOLUTE_PERCPU, KSGEN_LAYOUT_6_1, false, true);
}

static void test_absolute_percpu_6_4(void **state)
{
	run_case(NFM_KALLSYMS_ABSOLUTE_PERCPU, KSGEN_LAYOUT_6_4, false, true);
}

static void test_absolute_6_1(void **state)
{
	run_case(NFM_KALLSYMS_ABSOLUTE, KSGEN_LAYOUT_6_1, false, true);
}

static void test_absolute_6_4(void **state)
{
	run_case(NFM_KALLSYMS_ABSOLUTE, KSGEN_LAYOUT_6_4, false, true);
}

static void test_place_relative_7_0(void **state)
{
	run_case(NFM_KALLSYMS_PLACE_RELATIVE, KSGEN_LAYOUT_6_4, false, true);
}

/* Before 6.1 a length of 128..255 was one plain byte: decoded through the fallback. */
static void test_short_lengths_pre_6_1(void **state)
{
	run_case(NFM_KALLSYMS_ABSOLUTE_PERCPU, KSGEN_LAYOUT_6_1, true, false);
	run_case(NFM_KALLSYMS_BASE_RELATIVE, KSGEN_LAYOUT_6_1, true, false);
}

/* 6.1 before its stable releases gained kallsyms_seqs_of_names: every name decoded at load. */
static void test_no_name_index_6_1(void **state)
{
	run_case(NFM_KALLSYMS_ABSOLUTE_PERCPU, KSGEN_LAYOUT_6_1, false, false);
	run_case(NFM_KALLSYMS_BASE_RELATIVE, KSGEN_LAYOUT_6_1, false, false);
}

static void test_two_byte_length_encoding(void **state)
{
	struct fixture f;
	struct ksgen_opts o = { .enc = NFM_KALLSYMS_BASE_RELATIVE, .layout = KSGEN_LAYOUT_6_4,
				.base_va = IMG_VA };
	struct ksgen_image img;
	size_t *order, i, pos = 0;
	bool seen = false;

	make_syms(&f, false);
	assert_int_equal(ksgen_build(f.syms, f.n, &o, &img, &order), 0);
	/* The generator really wrote a two-byte length: 201 tokens = 0xc9 0x01. */
	for (i = 0; i < f.n; i++) {
		uint8_t *p = ksgen_at(&img, img.t.names) + pos;

		if (p[0] & 0x80) {
			assert_int_equal(p[0], 0x80 | (201 & 0x7f));
			assert_int_equal(p[1], 1);
			seen = true;
			pos += 2 + 201;
		} else {
			pos += 1 + p[0];
		}
	}
	assert_true(seen);
	assert_int_equal(pos, img.names_len);
	ksgen_free(&img);
	free(order);
	free_syms(&f);
}

static void test_stext_mismatch(void **state)
{
	struct fixture f;
	struct ksgen_opts o = { .enc = NFM_KALLSYMS_ABSOLUTE_PERCPU, .base_va = IMG_VA };
	struct ksgen_image img;
	struct nfm_kallsyms *ks = NULL;

	make_syms(&f, true);
	assert_int_equal(ksgen_build(f.syms, f.n, &o, &img, NULL), 0);
	assert_int_equal(nfm_kallsyms_load(ksgen_read, &img, &img.t, f.stext + 0x200000, &ks),
			 -ENOENT);
	assert_null(ks);
	ksgen_free(&img);
	free_syms(&f);
}

/* Build the standard image for a corruption test. */
static void corrupt_setup(struct fixture *f, struct ksgen_image *img, enum ksgen_layout layout)
{
	struct ksgen_opts o = { .enc = NFM_KALLSYMS_BASE_RELATIVE, .layout = layout,
				.base_va = IMG_VA };

	make_syms(f, false);
	assert_int_equal(ksgen_build(f->syms, f->n, &o, img, NULL), 0);
}

static int load(struct ksgen_image *img, uint64_t stext)
{
	struct nfm_kallsyms *ks = NULL;
	int r = nfm_kallsyms_load(ksgen_read, img, &img->t, stext, &ks);

	if (r == 0)
		assert_non_null(ks);
	else
		assert_null(ks);
	nfm_kallsyms_free(ks);
	return r;
}

static void test_corrupt_token_index(void **state)
{
	struct fixture f;
	struct ksgen_image img;
	uint8_t *ti;

	corrupt_setup(&f, &img, KSGEN_LAYOUT_6_1);
	ti = ksgen_at(&img, img.t.token_index);
	/* A token offset beyond the readable image. */
	ti[2 * 'a'] = 0xf0;
	ti[2 * 'a' + 1] = 0xff;
	assert_int_equal(load(&img, f.stext), -EBADMSG);
	ksgen_free(&img);
	free_syms(&f);

	/* A token table with no NUL at all after an offset (end of the image). */
	corrupt_setup(&f, &img, KSGEN_LAYOUT_6_1);
	ti = ksgen_at(&img, img.t.token_index);
	memset(ksgen_at(&img, img.t.token_table), 'x', img.t.token_index - img.t.token_table);
	memset(ksgen_at(&img, img.t.token_index), 'x', 512);
	/* token_index is now garbage too: "xx" = 0x7878, past the end. */
	assert_int_equal(load(&img, f.stext), -EBADMSG);
	ksgen_free(&img);
	free_syms(&f);
}

static void test_corrupt_names_overrun(void **state)
{
	struct fixture f;
	struct ksgen_image img;
	uint8_t *names;
	uint32_t n;

	/* The last name claims more tokens than the image holds. */
	corrupt_setup(&f, &img, KSGEN_LAYOUT_NAMES_LAST);
	img.size = (size_t)(img.t.names - img.base_va) + img.names_len;
	names = ksgen_at(&img, img.t.names);
	{
		size_t pos = 0, i;

		for (i = 0; i + 1 < f.n; i++)
			pos += (names[pos] & 0x80) ? 2 + ((names[pos] & 0x7f) | names[pos + 1] << 7) :
						     1 + names[pos];
		names[pos] = 0x7f;
	}
	assert_int_equal(load(&img, f.stext), -EBADMSG);
	ksgen_free(&img);
	free_syms(&f);

	/* num_syms one larger: the walk runs off the end of the table. */
	corrupt_setup(&f, &img, KSGEN_LAYOUT_NAMES_LAST);
	img.size = (size_t)(img.t.names - img.base_va) + img.names_len;
	memcpy(&n, ksgen_at(&img, img.t.num_syms), 4);
	n++;
	memcpy(ksgen_at(&img, img.t.num_syms), &n, 4);
	img.t.markers = 0;
	assert_int_equal(load(&img, f.stext), -EBADMSG);
	ksgen_free(&img);
	free_syms(&f);

	/* A zero length is never written by the kernel. */
	corrupt_setup(&f, &img, KSGEN_LAYOUT_6_1);
	ksgen_at(&img, img.t.names)[0] = 0;
	assert_int_equal(load(&img, f.stext), -EBADMSG);
	ksgen_free(&img);
	free_syms(&f);
}

static void test_corrupt_num_syms(void **state)
{
	struct fixture f;
	struct ksgen_image img;
	uint8_t *p;

	corrupt_setup(&f, &img, KSGEN_LAYOUT_6_4);
	p = ksgen_at(&img, img.t.num_syms);
	memset(p, 0xff, 4);
	assert_int_equal(load(&img, f.stext), -EBADMSG);
	memset(p, 0, 4);
	assert_int_equal(load(&img, f.stext), -EBADMSG);
	/* Just above the bound. */
	p[0] = 1;
	p[1] = 0;
	p[2] = 0x40;
	p[3] = 0;
	assert_int_equal(load(&img, f.stext), -EBADMSG);
	ksgen_free(&img);
	free_syms(&f);
}

static void test_corrupt_markers(void **state)
{
	struct fixture f;
	struct ksgen_image img;
	uint8_t *m;

	corrupt_setup(&f, &img, KSGEN_LAYOUT_6_4);
	m = ksgen_at(&img, img.t.markers);
	m[4] ^= 1;	/* markers[1] */
	assert_int_equal(load(&img, f.stext), -EBADMSG);
	m[4] ^= 1;
	assert_int_equal(load(&img, f.stext), 0);
	m[0] = 1;	/* markers[0] must be 0 */
	assert_int_equal(load(&img, f.stext), -EBADMSG);
	ksgen_free(&img);
	free_syms(&f);
}

/* Load the image, then: lazy or not as expected, and every name that looks up gives its symbol. */
static void check_seqs_case(struct ksgen_image *img, struct fixture *f, const size_t *order,
			    bool lazy, bool all_found)
{
	static const char *const names[] = { "init_task", "_end", NULL };
	struct early_seen seen = { 0 };
	const struct nfm_kallsyms_early early = { .names = names, .found = early_found,
						  .ud = &seen };
	struct nfm_kallsyms *ks = NULL;
	uint64_t addr;

	/* The early names come once, whichever way (a first look may guess from a bad index). */
	assert_int_equal(nfm_kallsyms_load_early(ksgen_read, img, &img->t, f->stext, &early, &ks),
			 0);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(nfm_kallsyms_lazy(ks), lazy);
	for (size_t i = 0; i < f->n; i++) {
		int r = nfm_kallsyms_lookup(ks, f->syms[i].name, &addr);

		if (all_found)
			assert_int_equal(r, 0);
		else
			assert_true(r == 0 || r == -ENOENT);
		if (r == 0 && strcmp(f->syms[i].name, "init_once"))
			assert_int_equal(addr, f->syms[i].addr);
	}
	if (all_found)
		check_everything(ks, f, order, NFM_KALLSYMS_BASE_RELATIVE);
	nfm_kallsyms_free(ks);
}

/*
 * The name index is guest data too: one that is not a permutation, or whose sampled
 * neighbours are out of order, is not used (everything is decoded instead); one out of order
 * where no sample looks can make lookups miss, never return another symbol.
 */
static void test_corrupt_name_index(void **state)
{
	struct fixture f;
	struct ksgen_opts o = { .enc = NFM_KALLSYMS_BASE_RELATIVE, .layout = KSGEN_LAYOUT_6_4,
				.base_va = IMG_VA };
	struct ksgen_image img;
	size_t *order, n3;
	uint8_t *seqs, *saved, tmp[3];

	make_syms(&f, false);
	assert_int_equal(ksgen_build(f.syms, f.n, &o, &img, &order), 0);
	seqs = ksgen_at(&img, img.seqs);
	n3 = 3 * f.n;
	saved = malloc(n3);
	memcpy(saved, seqs, n3);
	check_seqs_case(&img, &f, order, true, true);

	/* Given explicitly (but wrong): the layout's place is still tried. */
	img.t.seqs_of_names = img.t.names;
	check_seqs_case(&img, &f, order, true, true);
	img.t.seqs_of_names = 0;

	/* A duplicate index: not a permutation. */
	for (int b = 0; b < 3; b++)
		seqs[3 + b] = seqs[b];
	check_seqs_case(&img, &f, order, false, true);
	memcpy(seqs, saved, n3);

	/* An index past the table. */
	seqs[0] = 0xff;
	check_seqs_case(&img, &f, order, false, true);
	memcpy(seqs, saved, n3);

	/* Reversed: a permutation, but the samples are out of order. */
	for (size_t k = 0; k < f.n; k++)
		memcpy(seqs + 3 * k, saved + 3 * (f.n - 1 - k), 3);
	check_seqs_case(&img, &f, order, false, true);
	memcpy(seqs, saved, n3);

	/* Two neighbours swapped where no sample looks (samples start at k * (n - 1) / 64). */
	memcpy(tmp, seqs + 3 * 5, 3);
	memcpy(seqs + 3 * 5, seqs + 3 * 6, 3);
	memcpy(seqs + 3 * 6, tmp, 3);
	check_seqs_case(&img, &f, order, true, false);

	free(saved);
	ksgen_free(&img);
	free(order);
	free_syms(&f);
}

static void test_unsorted_offsets(void **state)
{
	struct fixture f;
	struct ksgen_image img;
	uint8_t *o;

	corrupt_setup(&f, &img, KSGEN_LAYOUT_6_4);
	o = ksgen_at(&img, img.t.offsets);
	/* Swap two offsets far from _stext: the table is no longer sorted. */
	for (int i = 0; i < 4; i++) {
		uint8_t t = o[4 * 100 + i];

		o[4 * 100 + i] = o[4 * 500 + i];
		o[4 * 500 + i] = t;
	}
	assert_int_equal(load(&img, f.stext), -ENOENT);
	ksgen_free(&img);
	free_syms(&f);
}

static void test_read_failures(void **state)
{
	struct fixture f;
	struct ksgen_image img;
	struct nfm_kallsyms_tables t;

	corrupt_setup(&f, &img, KSGEN_LAYOUT_6_1);
	t = img.t;

	img.fail_err = -EFAULT;
	img.fail_lo = t.offsets;
	img.fail_hi = t.offsets + 1;
	assert_int_equal(load(&img, f.stext), -EFAULT);

	img.fail_err = -EIO;
	img.fail_lo = t.names + 1000;
	img.fail_hi = t.names + 1001;
	assert_int_equal(load(&img, f.stext), -EIO);

	img.fail_err = -EFAULT;
	img.fail_lo = t.names;
	img.fail_hi = t.names + 1;
	assert_int_equal(load(&img, f.stext), -EFAULT);

	img.fail_lo = t.num_syms;
	img.fail_hi = t.num_syms + 1;
	assert_int_equal(load(&img, f.stext), -EFAULT);

	img.fail_lo = t.token_index + 100;
	img.fail_hi = t.token_index + 101;
	assert_int_equal(load(&img, f.stext), -EFAULT);

	img.fail_lo = t.relative_base;
	img.fail_hi = t.relative_base + 1;
	assert_int_equal(load(&img, f.stext), -EFAULT);

	img.fail_err = 0;
	/* Tables entirely outside the image. */
	img.t.names = 0x1000;
	assert_int_equal(load(&img, f.stext), -EFAULT);
	img.t = t;
	img.t.offsets = 0;
	assert_int_equal(load(&img, f.stext), -EINVAL);
	img.t = t;
	img.t.relative_base = 0;	/* only place-relative is left to try */
	assert_int_equal(load(&img, f.stext), -ENOENT);
	img.t = t;
	assert_int_equal(load(&img, f.stext), 0);
	ksgen_free(&img);
	free_syms(&f);
}

/*
 * The table in the last pages of a mapping: the loader's generous first reads fail and it
 * must fall back to reading what is there.
 */
static void test_tables_at_end_of_mapping(void **state)
{
	struct fixture f;
	struct ksgen_image img;

	corrupt_setup(&f, &img, KSGEN_LAYOUT_NAMES_LAST);
	img.size = (size_t)(img.t.names - img.base_va) + img.names_len;
	assert_int_equal(load(&img, f.stext), 0);
	img.t.markers = 0;
	assert_int_equal(load(&img, f.stext), 0);
	ksgen_free(&img);
	free_syms(&f);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* 200k symbols, the size of a distro kernel with KALLSYMS_ALL. */
static void test_speed_200k(void **state)
{
	const size_t n = 200000;
	struct ksgen_sym *syms = calloc(n, sizeof(*syms));
	char *arena = malloc(n * 40);
	struct ksgen_opts o = { .enc = NFM_KALLSYMS_ABSOLUTE_PERCPU, .layout = KSGEN_LAYOUT_6_1,
				.base_va = IMG_VA };
	struct ksgen_image img;
	struct nfm_kallsyms *ks = NULL;
	uint64_t a = TEXT, addr;
	double t0, t1, best = 1e9;
	size_t i, *order;
	char *p = arena;
	const char *name;

	for (i = 0; i < n; i++) {
		int l = sprintf(p, i % 4 ? "func_%zu_do_something_%zx" : "__x64_sys_%zu_init", i,
				i * 2654435761u);

		syms[i] = (struct ksgen_sym){ p, i % 3 ? 't' : 'T', a, false };
		if (i == 0)
			syms[i].name = "_text";
		if (i == 1)
			syms[i].name = "_stext";
		p += l + 1;
		a += 16 + (i % 13) * 8;
	}
	assert_int_equal(ksgen_build(syms, n, &o, &img, &order), 0);
	for (int rep = 0; rep < 5; rep++) {
		t0 = now();
		assert_int_equal(nfm_kallsyms_load(ksgen_read, &img, &img.t, syms[1].addr, &ks), 0);
		t1 = now();
		if (t1 - t0 < best)
			best = t1 - t0;
		if (rep < 4)
			nfm_kallsyms_free(ks);
	}
	assert_int_equal(nfm_kallsyms_count(ks), n);
	assert_true(nfm_kallsyms_lazy(ks));
	print_message("kallsyms: %zu symbols (%zu bytes of names) loaded in %.1f ms\n", n,
		      img.names_len, best * 1e3);
	/* Through the kernel's name index, then again once every name is decoded. */
	for (int full = 0; full < 2; full++) {
		if (full) {
			t0 = now();
			assert_int_equal(nfm_kallsyms_get(ks, 0, &name, NULL, NULL), 0);
			print_message("kallsyms: full decode %.1f ms\n", (now() - t0) * 1e3);
		}
		t0 = now();
		for (i = 0; i < n; i++) {
			assert_int_equal(nfm_kallsyms_lookup(ks, syms[order[i]].name, &addr), 0);
			assert_int_equal(addr, syms[order[i]].addr);
		}
		t1 = now();
		print_message("kallsyms (%s): %zu lookups in %.1f ms\n", full ? "decoded" : "lazy",
			      n, (t1 - t0) * 1e3);
		t0 = now();
		for (i = 0; i < n; i++)
			assert_int_equal(nfm_kallsyms_symbolize(ks, syms[order[i]].addr + 3, &name,
								NULL, NULL, NULL), 0);
		t1 = now();
		print_message("kallsyms (%s): %zu symbolizations in %.1f ms\n",
			      full ? "decoded" : "lazy", n, (t1 - t0) * 1e3);
	}
	nfm_kallsyms_free(ks);
	ksgen_free(&img);
	free(order);
	free(arena);
	free(syms);
}

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void test_system_map(void **state)
{
	char path[] = "/tmp/nfm-test-sysmap-XXXXXX";
	int fd = mkstemp(path);
	struct nfm_kallsyms *ks = NULL;
	const char *name;
	char type;
	uint64_t addr, off;

	assert_true(fd >= 0);
	close(fd);
	write_file(path, "0000000000000000 D fixed_percpu_data\n"
			 "0000000000000000 A __per_cpu_start\n"
			 "ffffffff81000000 T _text\n"
			 "ffffffff81000000 T startup_64\n"
			 "ffffffff81001000 T _stext\r\n"
			 "ffffffff81001040 t do_one_initcall\n"
			 "ffffffff82000000 D init_task\n"
			 "ffffffffff600000 A VDSO_FAKE_ABS\n");
	assert_int_equal(nfm_kallsyms_load_system_map(path, 0x2a200000, &ks), 0);
	assert_int_equal(nfm_kallsyms_count(ks), 8);
	assert_int_equal(nfm_kallsyms_encoding(ks), NFM_KALLSYMS_ABSOLUTE);
	assert_int_equal(nfm_kallsyms_lookup(ks, "_stext", &addr), 0);
	assert_int_equal(addr, 0xffffffff81001000ull + 0x2a200000);
	assert_int_equal(nfm_kallsyms_lookup(ks, "fixed_percpu_data", &addr), 0);
	assert_int_equal(addr, 0);
	assert_int_equal(nfm_kallsyms_lookup(ks, "VDSO_FAKE_ABS", &addr), 0);
	assert_int_equal(addr, 0xffffffffff600000ull);
	assert_int_equal(nfm_kallsyms_get(ks, 2, &name, &type, &addr), 0);
	assert_string_equal(name, "_text");
	assert_int_equal(type, 'T');
	assert_int_equal(nfm_kallsyms_symbolize(ks, 0xffffffff81001050ull + 0x2a200000, &name,
						&type, NULL, &off), 0);
	assert_string_equal(name, "do_one_initcall");
	assert_int_equal(type, 't');
	assert_int_equal(off, 0x10);
	/* Unsorted input (the absolute symbol at the end) still symbolizes by address. */
	assert_int_equal(nfm_kallsyms_symbolize(ks, 0xffffffff82000010ull + 0x2a200000, &name,
						NULL, NULL, NULL), 0);
	assert_string_equal(name, "init_task");
	nfm_kallsyms_free(ks);

	write_file(path, "ffffffff81000000 T _text\nnot a line\n");
	assert_int_equal(nfm_kallsyms_load_system_map(path, 0, &ks), -EBADMSG);
	write_file(path, "");
	assert_int_equal(nfm_kallsyms_load_system_map(path, 0, &ks), -EBADMSG);
	write_file(path, "ffffffff81000000 T\n");
	assert_int_equal(nfm_kallsyms_load_system_map(path, 0, &ks), -EBADMSG);
	write_file(path, "1ffffffff81000000 T _text\n");
	assert_int_equal(nfm_kallsyms_load_system_map(path, 0, &ks), -EBADMSG);
	{
		char *big = malloc(10000);

		strcpy(big, "ffffffff81000000 T ");
		memset(big + 19, 'a', 9000);
		strcpy(big + 9019, "\n");
		write_file(path, big);
		free(big);
	}
	assert_int_equal(nfm_kallsyms_load_system_map(path, 0, &ks), -EBADMSG);
	unlink(path);
	assert_int_equal(nfm_kallsyms_load_system_map(path, 0, &ks), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_relative_6_1),
		cmocka_unit_test(test_base_relative_6_4),
		cmocka_unit_test(test_absolute_percpu_6_1),
		cmocka_unit_test(test_absolute_percpu_6_4),
		cmocka_unit_test(test_absolute_6_1),
		cmocka_unit_test(test_absolute_6_4),
		cmocka_unit_test(test_place_relative_7_0),
		cmocka_unit_test(test_short_lengths_pre_6_1),
		cmocka_unit_test(test_no_name_index_6_1),
		cmocka_unit_test(test_two_byte_length_encoding),
		cmocka_unit_test(test_stext_mismatch),
		cmocka_unit_test(test_corrupt_token_index),
		cmocka_unit_test(test_corrupt_names_overrun),
		cmocka_unit_test(test_corrupt_num_syms),
		cmocka_unit_test(test_corrupt_markers),
		cmocka_unit_test(test_corrupt_name_index),
		cmocka_unit_test(test_unsorted_offsets),
		cmocka_unit_test(test_read_failures),
		cmocka_unit_test(test_tables_at_end_of_mapping),
		cmocka_unit_test(test_speed_200k),
		cmocka_unit_test(test_system_map),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
