// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Writes the kallsyms fuzz target's seeds (fuzz/sym/corpus/kallsyms): small tables from the
 * unit tests' generator, for every encoding, both table orders, with and without the name
 * index (kallsyms_seqs_of_names) and with and without the markers' address. Input format: see
 * fuzz/sym/fuzz_kallsyms.c. With LOCATE_DIR, also the locator's seeds (fuzz_kallsyms_locate.c):
 * bare images of the 5.10 and 6.4 layouts whose names use every digit.
 *   kallsyms-seedgen DIR [LOCATE_DIR]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksgen.h"

#define FUZZ_VA 0xffffffff82000000ull

static void put32(FILE *f, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		fputc((int)(v >> (8 * i)) & 0xff, f);
}

static uint32_t off(uint64_t va)
{
	return va ? (uint32_t)(va - FUZZ_VA) : 0xffffffffu;
}

/* 300 symbols (two marker groups) named with every digit, 5.10's layout and 6.4's. */
static int locate_seeds(const char *dir)
{
	static struct ksgen_sym syms[300];
	static char names[300][24];
	size_t i;

	for (i = 0; i < 300; i++) {
		snprintf(names[i], sizeof(names[i]), i == 0 ? "_text" : i == 1 ? "_stext" : "fn_%04zu",
			 i * 37);
		syms[i] = (struct ksgen_sym){ names[i], 'T', 0xffffffff81000000ull + i * 0x40, false };
	}
	for (int layout = 0; layout < 2; layout++) {
		struct ksgen_opts o = { .enc = NFM_KALLSYMS_BASE_RELATIVE,
					.layout = (enum ksgen_layout)layout, .short_lens = !layout,
					.no_seqs = !layout, .base_va = FUZZ_VA + 4096 };
		struct ksgen_image img;
		char path[4096];
		FILE *f;

		if (ksgen_build(syms, 300, &o, &img, NULL) < 0)
			return -1;
		snprintf(path, sizeof(path), "%s/%s", dir, layout ? "6.4" : "5.10");
		f = fopen(path, "wb");
		if (!f) {
			perror(path);
			return -1;
		}
		/* a page of other bytes, the tables, then 4 KiB of what follows them */
		for (i = 0; i < 4096; i++)
			fputc((int)(i * 7 & 0xff), f);
		fwrite(img.mem, 1, img.size - (2u << 20) + 4096, f);
		fclose(f);
		ksgen_free(&img);
	}
	return 0;
}

int main(int argc, char **argv)
{
	/* Per-CPU symbols (zero-based) only exist under absolute-percpu: last in syms[]. */
	static const struct ksgen_sym syms[] = {
		{ "_text", 'T', 0xffffffff81000000ull, false },
		{ "startup_64", 'T', 0xffffffff81000000ull, false },
		{ "_stext", 'T', 0xffffffff81001000ull, false },
		{ "do_init_once", 't', 0xffffffff81001040ull, false },
		{ "init_once", 't', 0xffffffff81001080ull, false },
		{ "init_once", 't', 0xffffffff810010c0ull, false },
		{ "func_do_work", 'T', 0xffffffff81002000ull, false },
		{ "__start_BTF", 'R', 0xffffffff81800000ull, false },
		{ "__stop_BTF", 'R', 0xffffffff81900000ull, false },
		{ "init_task", 'D', 0xffffffff82000000ull, false },
		{ "_end", 'B', 0xffffffff83000000ull, false },
		{ "cpu_number", 'D', 0x2a014, true },
	};
	static const struct { enum nfm_kallsyms_encoding enc; const char *name; } encs[] = {
		{ NFM_KALLSYMS_ABSOLUTE, "absolute" },
		{ NFM_KALLSYMS_BASE_RELATIVE, "base_relative" },
		{ NFM_KALLSYMS_ABSOLUTE_PERCPU, "absolute_percpu" },
		{ NFM_KALLSYMS_PLACE_RELATIVE, "place_relative" },
	};
	size_t n = sizeof(syms) / sizeof(syms[0]);

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: kallsyms-seedgen DIR [LOCATE_DIR]\n");
		return 2;
	}
	if (argc == 3 && locate_seeds(argv[2]) < 0)
		return 1;
	for (size_t e = 0; e < sizeof(encs) / sizeof(encs[0]); e++)
		for (int layout = 0; layout < 2; layout++)
			for (int variant = 0; variant < 3; variant++) {
				/* 0: name index, markers given; 1: markers located; 2: no index */
				struct ksgen_opts o = { .enc = encs[e].enc,
							.layout = (enum ksgen_layout)layout,
							.no_seqs = variant == 2,
							.base_va = FUZZ_VA };
				struct ksgen_image img;
				char path[4096];
				FILE *f;
				uint64_t end, stext = 0xffffffff81001000ull;
				size_t cnt = encs[e].enc == NFM_KALLSYMS_ABSOLUTE_PERCPU ? n : n - 1;

				if (ksgen_build(syms, cnt, &o, &img, NULL) < 0) {
					fprintf(stderr, "cannot build %s\n", encs[e].name);
					return 1;
				}
				/* The tables end 2 MiB before the image does. */
				end = img.size - (2u << 20);
				snprintf(path, sizeof(path), "%s/%s-%s-%s", argv[1], encs[e].name,
					 layout ? "6.4" : "6.1",
					 variant == 0 ? "index" : variant == 1 ? "index-nomarkers" :
					 "noindex");
				f = fopen(path, "wb");
				if (!f) {
					perror(path);
					return 1;
				}
				put32(f, off(img.t.names));
				put32(f, off(img.t.num_syms));
				put32(f, off(img.t.token_table));
				put32(f, off(img.t.token_index));
				put32(f, variant == 1 ? 0xffffffffu : off(img.t.markers));
				put32(f, off(img.t.offsets));
				put32(f, off(img.t.relative_base));
				put32(f, off(img.t.addresses));
				put32(f, (uint32_t)stext);
				put32(f, (uint32_t)(stext >> 32));
				fwrite(img.mem, 1, end, f);
				fclose(f);
				ksgen_free(&img);
			}
	return 0;
}
