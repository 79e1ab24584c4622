/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a dump format's parser (elf.c, lime.c, raw.c) hands to dump.c: where each guest-physical
 * range lies in the parsed bytes, the VMCOREINFO and CPU notes; and the helpers they share
 * (dump_parse.c).
 */
#ifndef NFM_LIB_SOURCE_DUMP_PARSE_H
#define NFM_LIB_SOURCE_DUMP_PARSE_H

#include "source/source.h"

/* What a parser found. ranges' backing values are offsets into the parsed bytes. */
struct nfm_dump_info {
	struct nfm_source_range *ranges;
	size_t nr_ranges;
	char *vmcoreinfo;		/* NUL-terminated, or NULL */
	size_t vmcoreinfo_len;		/* without the NUL */
	struct nfm_cpu_state *cpus;	/* from the per-CPU "QEMU" notes */
	unsigned int nr_cpus;
};

/* Parsers: 0, -EBADMSG (malformed, logged), -EOPNOTSUPP (e.g. not x86-64) or -ENOMEM. */
int nfm_dump_parse_elf(const uint8_t *data, size_t size, const char *name,
		       const struct nfm_log *log, struct nfm_dump_info *ret);
int nfm_dump_parse_lime(const uint8_t *data, size_t size, const char *name,
			const struct nfm_log *log, struct nfm_dump_info *ret);
int nfm_dump_parse_raw(const uint8_t *data, size_t size, const char *name,
		       const struct nfm_log *log, struct nfm_dump_info *ret);
void nfm_dump_info_release(struct nfm_dump_info *info);

/* Sort ranges by start; merge touching/overlapping ones whose backing agrees. -EBADMSG on a
 * conflicting overlap. Updates *n. */
int nfm_dump_sort_ranges(struct nfm_source_range *r, size_t *n);

#endif
