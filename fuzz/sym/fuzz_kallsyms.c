// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the kallsyms decoder. Input = a 40-byte header, then a fake kernel memory
 * image mapped at FUZZ_VA. Header (little endian): eight u32 offsets into the image of names,
 * num_syms, token_table, token_index, markers, offsets, relative_base, addresses (0xffffffff =
 * absent), then the u64 _stext to match (0 = take the first plausible encoding).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sym/kallsyms.h"
#include "image.h"

#define HDR 40

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The early names must come back with what lookup says of them once loading is done. */
static const char *const early_names[] = { "__start_BTF", "__stop_BTF", "a", "init_task", NULL };
static uint64_t early_addrs[4];
static int early_calls;

static void early_found(void *ud, const uint64_t *addrs)
{
	(void)ud;
	early_calls++;
	for (int i = 0; i < 4; i++)
		early_addrs[i] = addrs[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct nfm_kallsyms_early early = { .names = early_names, .found = early_found };
	struct nfm_kallsyms_tables t;
	struct nfm_kallsyms *ks;
	struct image img;
	uint64_t v[8], stext, addr, start, off;
	const char *name;
	char type;
	size_t i, n;

	if (size < HDR)
		return 0;
	for (i = 0; i < 8; i++) {
		uint32_t o = get32(data + 4 * i);

		v[i] = o == 0xffffffffu ? 0 : FUZZ_VA + o;
	}
	stext = (uint64_t)get32(data + 32) | (uint64_t)get32(data + 36) << 32;
	t = (struct nfm_kallsyms_tables){ .names = v[0], .num_syms = v[1], .token_table = v[2],
					  .token_index = v[3], .markers = v[4], .offsets = v[5],
					  .relative_base = v[6], .addresses = v[7] };
	img.mem = data + HDR;
	img.size = size - HDR;
	early_calls = 0;
	if (nfm_kallsyms_load_early(fuzz_read, &img, &t, stext, &early, &ks))
		return 0;
	if (early_calls != 1)
		__builtin_trap();
	for (i = 0; i < 4; i++) {
		uint64_t want = 0;

		(void)nfm_kallsyms_lookup(ks, early_names[i], &want);
		if (want != early_addrs[i])
			__builtin_trap();
	}
	/* While lookups are lazy (through the kernel's name index, if the table has one). */
	for (i = 0; i < 4; i++)
		if (!nfm_kallsyms_symbolize(ks, early_addrs[i], &name, &type, &start, &off))
			(void)nfm_kallsyms_find(ks, name, &addr, &type);
	(void)nfm_kallsyms_find(ks, "_stext", &addr, &type);
	(void)nfm_kallsyms_find(ks, "", &addr, &type);
	n = nfm_kallsyms_count(ks);
	/* The first get() decodes every name: a lazily loaded table may only then prove corrupt. */
	if (n && nfm_kallsyms_lazy(ks) && nfm_kallsyms_get(ks, 0, &name, &type, &addr) == -EBADMSG) {
		nfm_kallsyms_free(ks);
		return 0;
	}
	for (i = 0; i < n && i < 4096; i++) {
		if (nfm_kallsyms_get(ks, i, &name, &type, &addr))
			__builtin_trap();
		if (nfm_kallsyms_lookup(ks, name, &start))
			__builtin_trap();
		if (nfm_kallsyms_symbolize(ks, addr, &name, &type, &start, &off) || off)
			__builtin_trap();
	}
	(void)nfm_kallsyms_symbolize(ks, 0, &name, &type, &start, &off);
	(void)nfm_kallsyms_symbolize(ks, ~0ull, &name, &type, &start, &off);
	nfm_kallsyms_free(ks);
	return 0;
}
