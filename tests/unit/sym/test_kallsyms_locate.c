// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nfm_kallsyms_locate(): the kallsyms tables found by their structure in a synthetic kernel
 * image (ksgen's tables behind megabytes of other bytes, with decoy digit runs), in the layouts
 * up to 6.3 and from 6.4, then decoded; and hostile images that must give -ENOENT, not a crash.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "ksgen.h"
#include "sym/kallsyms.h"

#define TEXT 0xffffffff81000000ull
#define IMG_VA 0xffffffff81e00000ull
/* Other .rodata before the tables: more than two scan chunks, not a multiple of one. */
#define PREFIX ((2u << 20) + 0x3458u)

static const char decoy[] = "x\0" "0\0" "1\0" "2\0" "3\0" "4\0" "5\0" "6\0" "7\0" "8\0" "9\0" "a";

struct image {
	uint8_t *mem;
	size_t size;
	uint64_t hole_lo, hole_hi;	/* reads touching it fail */
	struct ksgen_image ks;
};

static int img_read(void *ud, uint64_t va, void *buf, size_t len)
{
	struct image *im = ud;

	if (va < IMG_VA || va - IMG_VA > im->size || len > im->size - (va - IMG_VA))
		return -EFAULT;
	if (va < im->hole_hi && va + len > im->hole_lo)
		return -EFAULT;
	memcpy(buf, im->mem + (va - IMG_VA), len);
	return 0;
}

static struct ksgen_sym syms[1200];
static char names[1200][48];
static size_t nsyms;

/* ~1100 symbols (five marker groups), every digit used, per-CPU symbols first as on x86-64. */
static void make_syms(void)
{
	uint64_t a = TEXT;
	size_t n = 0, i;

#define ADD(nm, ty, ad, pc)                                              \
	do {                                                             \
		snprintf(names[n], sizeof(names[n]), "%s", nm);          \
		syms[n] = (struct ksgen_sym){ names[n], ty, ad, pc };    \
		n++;                                                     \
	} while (0)
	ADD("fixed_percpu_data", 'D', 0, true);
	ADD("cpu_number", 'D', 0x2a014, true);
	ADD("_text", 'T', a, false);
	ADD("_stext", 'T', a + 0x1000, false);
	a += 0x2000;
	for (i = 0; i < 1100; i++) {
		char nm[48];

		snprintf(nm, sizeof(nm), i % 4 ? "do_thing_%04zu" : "init_step%zu_x", i * 7);
		ADD(nm, i % 3 ? 't' : 'T', a, false);
		a += 0x20 + (i % 5) * 0x40;
	}
	ADD("init_uts_ns", 'D', a + 0x1000000, false);
	ADD("init_top_pgt", 'D', a + 0x1010000, false);
	ADD("_end", 'B', a + 0x2000000, false);
#undef ADD
	nsyms = n;
}

/* Tables of layout/encoding behind PREFIX bytes of noise holding decoys. */
static void build(struct image *im, enum ksgen_layout layout, enum nfm_kallsyms_encoding enc,
		  bool short_lens, bool no_seqs)
{
	struct ksgen_opts o = { .enc = enc, .layout = layout, .short_lens = short_lens,
				.no_seqs = no_seqs, .base_va = IMG_VA + PREFIX };
	uint32_t x = 12345;
	size_t i;

	/* Only absolute-percpu has zero-based per-CPU symbols: the others start at _text. */
	size_t skip = enc == NFM_KALLSYMS_ABSOLUTE_PERCPU ? 0 : 2;

	memset(im, 0, sizeof(*im));
	assert_int_equal(ksgen_build(syms + skip, nsyms - skip, &o, &im->ks, NULL), 0);
	im->size = PREFIX + im->ks.size;
	im->mem = malloc(im->size);
	for (i = 0; i < PREFIX; i++) {
		x = x * 1103515245u + 12345u;
		im->mem[i] = (uint8_t)(x >> 16);
	}
	/* Decoys: digit runs with no tables around them, one across a chunk boundary. */
	memcpy(im->mem + 0x1000, decoy, sizeof(decoy));
	memcpy(im->mem + (1u << 20) - 7, decoy, sizeof(decoy));
	memcpy(im->mem + PREFIX - 0x400, decoy, sizeof(decoy));
	memcpy(im->mem + PREFIX, im->ks.mem, im->ks.size);
}

static void image_free(struct image *im)
{
	free(im->mem);
	ksgen_free(&im->ks);
}

static void check_tables(const struct nfm_kallsyms_tables *got, const struct nfm_kallsyms_tables *want)
{
	assert_int_equal(got->names, want->names);
	assert_int_equal(got->num_syms, want->num_syms);
	assert_int_equal(got->token_table, want->token_table);
	assert_int_equal(got->token_index, want->token_index);
	assert_int_equal(got->markers, want->markers);
	assert_int_equal(got->offsets, want->offsets);
	assert_int_equal(got->relative_base, want->relative_base);
	assert_int_equal(got->addresses, want->addresses);
	assert_int_equal(got->seqs_of_names, 0);
}

/* Locate, compare with where ksgen put the tables, decode, look known symbols up. */
static void locate_and_decode(enum ksgen_layout layout, enum nfm_kallsyms_encoding enc,
			      bool short_lens, bool no_seqs)
{
	struct nfm_kallsyms_tables t;
	struct nfm_kallsyms *ks;
	struct image im;
	uint64_t a;
	size_t i;

	build(&im, layout, enc, short_lens, no_seqs);
	memset(&t, 0xa5, sizeof(t));
	assert_int_equal(nfm_kallsyms_locate(img_read, &im, IMG_VA, IMG_VA + im.size, &t), 0);
	check_tables(&t, &im.ks.t);
	assert_int_equal(nfm_kallsyms_load(img_read, &im, &t, TEXT + 0x1000, &ks), 0);
	assert_int_equal(nfm_kallsyms_count(ks), nsyms - (enc == NFM_KALLSYMS_ABSOLUTE_PERCPU ? 0 : 2));
	assert_int_equal(nfm_kallsyms_encoding(ks), enc);
	for (i = 0; i < nsyms; i++) {
		if (syms[i].percpu)
			continue;
		assert_int_equal(nfm_kallsyms_lookup(ks, syms[i].name, &a), 0);
		assert_int_equal(a, syms[i].addr);
	}
	nfm_kallsyms_free(ks);
	image_free(&im);
}

/* 5.10: offsets before num_syms, one-byte lengths, no name index, absolute-percpu. */
static void test_layout_5_10(void **state)
{
	locate_and_decode(KSGEN_LAYOUT_6_1, NFM_KALLSYMS_ABSOLUTE_PERCPU, true, true);
}

/* 6.1: the same order with two-byte lengths and the name index between markers and tokens
 * would hide the markers: 6.1 kernels give VMCOREINFO, so only the index-less form is found. */
static void test_layout_6_1_base_relative(void **state)
{
	locate_and_decode(KSGEN_LAYOUT_6_1, NFM_KALLSYMS_BASE_RELATIVE, false, true);
}

/* 6.4+: offsets and relative_base after token_index, the name index after them. */
static void test_layout_6_4(void **state)
{
	locate_and_decode(KSGEN_LAYOUT_6_4, NFM_KALLSYMS_ABSOLUTE_PERCPU, false, false);
	locate_and_decode(KSGEN_LAYOUT_6_4, NFM_KALLSYMS_BASE_RELATIVE, false, false);
}

/* No KALLSYMS_BASE_RELATIVE: kallsyms_addresses before num_syms. */
static void test_absolute(void **state)
{
	locate_and_decode(KSGEN_LAYOUT_6_1, NFM_KALLSYMS_ABSOLUTE, true, true);
}

/* A hole in the image (an unmapped page) far from the tables is skipped. */
static void test_hole(void **state)
{
	struct nfm_kallsyms_tables t;
	struct image im;

	build(&im, KSGEN_LAYOUT_6_1, NFM_KALLSYMS_ABSOLUTE_PERCPU, true, true);
	im.hole_lo = IMG_VA + 0x100000;
	im.hole_hi = IMG_VA + 0x180000;
	assert_int_equal(nfm_kallsyms_locate(img_read, &im, IMG_VA, IMG_VA + im.size, &t), 0);
	check_tables(&t, &im.ks.t);
	image_free(&im);
}

/* Each table broken in turn: nothing is found (no half-right answer). */
static void test_broken(void **state)
{
	struct nfm_kallsyms_tables t;
	struct image im;
	uint8_t *p;

	build(&im, KSGEN_LAYOUT_6_1, NFM_KALLSYMS_ABSOLUTE_PERCPU, true, true);
	/* token_index[0x41] off by one */
	p = im.mem + (im.ks.t.token_index - IMG_VA) + 2 * 0x41;
	p[0]++;
	assert_int_equal(nfm_kallsyms_locate(img_read, &im, IMG_VA, IMG_VA + im.size, &t), -ENOENT);
	p[0]--;
	/* a marker out of order */
	p = im.mem + (im.ks.t.markers - IMG_VA) + 4 * 2;
	p[1] ^= 0x40;
	assert_int_equal(nfm_kallsyms_locate(img_read, &im, IMG_VA, IMG_VA + im.size, &t), -ENOENT);
	p[1] ^= 0x40;
	/* num_syms that needs another number of markers */
	p = im.mem + (im.ks.t.num_syms - IMG_VA);
	p[1] ^= 0x10;
	assert_int_equal(nfm_kallsyms_locate(img_read, &im, IMG_VA, IMG_VA + im.size, &t), -ENOENT);
	p[1] ^= 0x10;
	/* a names entry longer than it was */
	p = im.mem + (im.ks.t.names - IMG_VA);
	p[0] += 3;
	assert_int_equal(nfm_kallsyms_locate(img_read, &im, IMG_VA, IMG_VA + im.size, &t), -ENOENT);
	p[0] -= 3;
	/* relative_base not a kernel-image address */
	p = im.mem + (im.ks.t.relative_base - IMG_VA);
	p[7] = 0x7f;
	assert_int_equal(nfm_kallsyms_locate(img_read, &im, IMG_VA, IMG_VA + im.size, &t), -ENOENT);
	image_free(&im);
}

/* An image full of digit runs is given up on in bounded time: -ENOENT, nothing half-found. */
static void test_decoys(void **state)
{
	struct nfm_kallsyms_tables t;
	struct image im;
	size_t i, at;
	struct timespec a, b;

	build(&im, KSGEN_LAYOUT_6_1, NFM_KALLSYMS_ABSOLUTE_PERCPU, true, true);
	/* 400 runs in the bytes after the tables: the scan meets them first (it goes downwards). */
	at = im.size - (1u << 20);
	for (i = 0; i < 400; i++)
		memcpy(im.mem + at + i * 64, decoy, sizeof(decoy));
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(nfm_kallsyms_locate(img_read, &im, IMG_VA, IMG_VA + im.size, &t), -ENOENT);
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_true(b.tv_sec - a.tv_sec < 5);
	/* Below the bound they are passed over. */
	for (i = 200; i < 400; i++)
		memset(im.mem + at + i * 64, 0, sizeof(decoy));
	assert_int_equal(nfm_kallsyms_locate(img_read, &im, IMG_VA, IMG_VA + im.size, &t), 0);
	check_tables(&t, &im.ks.t);
	image_free(&im);
}

/* Unreadable image, bad ranges. */
static void test_args(void **state)
{
	struct nfm_kallsyms_tables t;
	struct image im = { 0 };

	im.mem = calloc(1, 4096);
	im.size = 4096;
	assert_int_equal(nfm_kallsyms_locate(img_read, &im, IMG_VA, IMG_VA, &t), -EINVAL);
	assert_int_equal(nfm_kallsyms_locate(img_read, &im, 0x1000, 0x2000, &t), -EINVAL);
	assert_int_equal(nfm_kallsyms_locate(img_read, &im, IMG_VA, IMG_VA + (1ull << 30), &t),
			 -EINVAL);
	/* all zeros, then unreadable past 4 KiB */
	assert_int_equal(nfm_kallsyms_locate(img_read, &im, IMG_VA, IMG_VA + (4u << 20), &t), -ENOENT);
	free(im.mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_5_10),
		cmocka_unit_test(test_layout_6_1_base_relative),
		cmocka_unit_test(test_layout_6_4),
		cmocka_unit_test(test_absolute),
		cmocka_unit_test(test_hole),
		cmocka_unit_test(test_broken),
		cmocka_unit_test(test_decoys),
		cmocka_unit_test(test_args),
	};

	make_syms();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
