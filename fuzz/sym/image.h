/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kallsyms fuzz targets' guest: a fake kernel image mapped at FUZZ_VA, read through the
 * nfm_read_kva_fn callback the decoder and the locator take. */
#ifndef NFM_FUZZ_SYM_IMAGE_H
#define NFM_FUZZ_SYM_IMAGE_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FUZZ_VA 0xffffffff82000000ull

struct image {
	const uint8_t *mem;
	size_t size;
};

static inline int fuzz_read(void *ud, uint64_t va, void *buf, size_t len)
{
	const struct image *img = ud;

	if (va < FUZZ_VA || va - FUZZ_VA > img->size || len > img->size - (va - FUZZ_VA))
		return -EFAULT;
	memcpy(buf, img->mem + (va - FUZZ_VA), len);
	return 0;
}

#endif
