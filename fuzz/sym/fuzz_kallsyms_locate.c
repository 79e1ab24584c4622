// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the structural kallsyms locator (kallsyms_locate.c). Input = a fake kernel
 * image mapped at FUZZ_VA. What it finds must lie inside the image and hold together the way
 * the locator promises; then it goes to the decoder as discovery does.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sym/kallsyms.h"
#include "image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(const struct image *img, uint64_t va)
{
	if (va && (va < FUZZ_VA || va - FUZZ_VA >= img->size))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image img = { data, size };
	struct nfm_kallsyms_tables t;
	struct nfm_kallsyms *ks;

	if (!size)
		return 0;
	if (nfm_kallsyms_locate(fuzz_read, &img, FUZZ_VA, FUZZ_VA + size, &t))
		return 0;
	inside(&img, t.names);
	inside(&img, t.num_syms);
	inside(&img, t.token_table);
	inside(&img, t.token_index);
	inside(&img, t.markers);
	inside(&img, t.offsets);
	inside(&img, t.relative_base);
	inside(&img, t.addresses);
	if (t.names != t.num_syms + 8 || t.token_index <= t.token_table || t.token_table & 7 ||
	    t.markers >= t.token_table || t.seqs_of_names)
		abort();
	if (nfm_kallsyms_load(fuzz_read, &img, &t, 0, &ks) == 0)
		nfm_kallsyms_free(ks);
	return 0;
}
