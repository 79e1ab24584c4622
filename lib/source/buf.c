// SPDX-License-Identifier: GPL-2.0-or-later
/* A source over a caller-owned buffer (tests, fuzzing). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "source/source.h"

static const struct nfm_source_ops buf_ops = {
	.kind = "buf",
};

int nfm_source_new_buf(const void *data, size_t size, uint64_t phys_base, struct nfm_source **ret)
{
	struct nfm_source_range r = { .start = phys_base, .size = size, .backing = 0 };
	struct nfm_source *src;
	char desc[64];
	int err;

	if (!ret || (!data && size) || (size && phys_base + size - 1 < phys_base))
		return -EINVAL;
	src = calloc(1, sizeof(*src));
	if (!src)
		return -ENOMEM;
	src->map = data;
	src->map_size = size;
	snprintf(desc, sizeof(desc), "buffer of %zu bytes at 0x%llx", size,
		 (unsigned long long)phys_base);
	err = nfm_source_init(src, &buf_ops, &r, size ? 1 : 0, desc);
	if (err) {
		free(src);
		return err;
	}
	*ret = src;
	return 0;
}
