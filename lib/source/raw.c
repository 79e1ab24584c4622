// SPDX-License-Identifier: GPL-2.0-or-later
/* A raw dump (QEMU pmemsave, dd of /dev/mem): file offset N is guest-physical address N. */
#include <errno.h>
#include <stdlib.h>

#include "source/dump_parse.h"
#include "util/log.h"

int nfm_dump_parse_raw(const uint8_t *data, size_t size, const char *name,
		       const struct nfm_log *log, struct nfm_dump_info *ret)
{
	struct nfm_source_range *r;

	if (!size) {
		nfm_err(log, "%s: empty file", name);
		return -EBADMSG;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->start = 0;
	r->size = size;
	r->backing = 0;
	ret->ranges = r;
	ret->nr_ranges = 1;
	return 0;
}
