// SPDX-License-Identifier: GPL-2.0-or-later
/* The helpers every dump parser shares: a sorted, merged range table; releasing what it found. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "source/dump_parse.h"

static int range_cmp(const void *a, const void *b)
{
	const struct nfm_source_range *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->size < y->size ? -1 : x->size > y->size;
}

int nfm_dump_sort_ranges(struct nfm_source_range *r, size_t *n)
{
	size_t i, out = 0;

	if (!*n)
		return 0;
	qsort(r, *n, sizeof(*r), range_cmp);
	for (i = 1; i < *n; i++) {
		struct nfm_source_range *last = &r[out];
		uint64_t last_end = last->start + last->size;

		if (r[i].start <= last_end) {
			uint64_t end = r[i].start + r[i].size;
			bool same = r[i].backing - r[i].start == last->backing - last->start;

			/* Touching ranges merge only when the bytes continue in the backing. */
			if (same) {
				if (end > last_end)
					last->size = end - last->start;
				continue;
			}
			if (r[i].start < last_end)
				return -EBADMSG;
		}
		r[++out] = r[i];
	}
	*n = out + 1;
	return 0;
}

void nfm_dump_info_release(struct nfm_dump_info *info)
{
	free(info->ranges);
	free(info->vmcoreinfo);
	free(info->cpus);
	memset(info, 0, sizeof(*info));
}
