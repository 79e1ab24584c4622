// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * LiME dumps: a sequence of (32-byte header, data) pairs. Header: le32 magic 0x4C694D45 ("EMiL"
 * on disk), le32 version 1, le64 s_addr, le64 e_addr (inclusive), 8 reserved bytes.
 */
#include <errno.h>
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "source/dump_parse.h"
#include "util/log.h"

#define LIME_MAGIC 0x4C694D45u
#define LIME_HDR 32
#define LIME_MAX_RANGES 65536

static uint32_t le32_at(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static uint64_t le64_at(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

int nfm_dump_parse_lime(const uint8_t *data, size_t size, const char *name,
			const struct nfm_log *log, struct nfm_dump_info *ret)
{
	struct nfm_source_range *r = NULL, *tmp;
	size_t n = 0, cap = 0, off = 0;
	int err;

	while (off < size) {
		uint64_t s, e, len;

		if (size - off < LIME_HDR) {
			nfm_err(log, "%s: truncated LiME dump (header at offset %zu)", name, off);
			goto bad;
		}
		if (le32_at(data + off) != LIME_MAGIC) {
			nfm_err(log, "%s: corrupt LiME dump (no header magic at offset %zu)", name, off);
			goto bad;
		}
		if (le32_at(data + off + 4) != 1) {
			nfm_err(log, "%s: LiME dump version %u, nfm reads version 1", name,
				le32_at(data + off + 4));
			free(r);
			return -EOPNOTSUPP;
		}
		s = le64_at(data + off + 8);
		e = le64_at(data + off + 16);
		if (e < s || e - s == UINT64_MAX) {
			nfm_err(log, "%s: corrupt LiME dump (range 0x%llx-0x%llx at offset %zu)", name,
				(unsigned long long)s, (unsigned long long)e, off);
			goto bad;
		}
		len = e - s + 1;
		off += LIME_HDR;
		if (len > size - off) {
			nfm_err(log, "%s: truncated LiME dump (range 0x%llx-0x%llx needs %llu bytes at offset %zu, file has %zu)",
				name, (unsigned long long)s, (unsigned long long)e,
				(unsigned long long)len, off, size);
			goto bad;
		}
		if (n == LIME_MAX_RANGES) {
			nfm_err(log, "%s: corrupt LiME dump (more than %d ranges)", name,
				LIME_MAX_RANGES);
			goto bad;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			tmp = realloc(r, cap * sizeof(*r));
			if (!tmp) {
				free(r);
				return -ENOMEM;
			}
			r = tmp;
		}
		r[n].start = s;
		r[n].size = len;
		r[n].backing = off;
		n++;
		off += len;
	}
	if (!n) {
		nfm_err(log, "%s: empty file", name);
		goto bad;
	}
	err = nfm_dump_sort_ranges(r, &n);
	if (err) {
		nfm_err(log, "%s: corrupt LiME dump (overlapping ranges)", name);
		goto bad;
	}
	ret->ranges = r;
	ret->nr_ranges = n;
	return 0;
bad:
	free(r);
	return -EBADMSG;
}
