/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Memory dumps: the format parsers work on bytes in memory (an mmapped file, or a fuzzer's input)
 * and describe where each guest-physical range lies in those bytes.
 */
#ifndef NFM_LIB_SOURCE_DUMP_H
#define NFM_LIB_SOURCE_DUMP_H

#include "source/source.h"

enum nfm_dump_format {
	NFM_DUMP_RAW,
	NFM_DUMP_ELF,
	NFM_DUMP_LIME,
	NFM_DUMP_KDUMP,		/* kdump-compressed ("KDUMP   ", "DISKDUMP"): read by libkdumpfile */
	NFM_DUMP_KDUMP_FLAT,	/* the same, flattened ("makedumpfile": makedumpfile -F, QEMU < 8.2) */
	NFM_DUMP_MIGRATION,	/* a QEMU migration stream ("QEVM"): migration.c */
	NFM_DUMP_UNSUPPORTED,	/* recognised but unreadable: kdump-compressed, compressed... */
};

/* What a parser found. ranges' backing values are offsets into the parsed bytes. */
struct nfm_dump_info {
	struct nfm_source_range *ranges;
	size_t nr_ranges;
	char *vmcoreinfo;		/* NUL-terminated, or NULL */
	size_t vmcoreinfo_len;		/* without the NUL */
	struct nfm_cpu_state *cpus;	/* from the per-CPU "QEMU" notes */
	unsigned int nr_cpus;
};

/*
 * Which format the first bytes say. For NFM_DUMP_UNSUPPORTED, *what (if not NULL) is set to a
 * description such as "a kdump-compressed dump" (static storage).
 */
enum nfm_dump_format nfm_dump_detect(const uint8_t *data, size_t size, const char **what);

/* Parsers: 0, -EBADMSG (malformed, logged), -EOPNOTSUPP (e.g. not x86-64) or -ENOMEM. */
int nfm_dump_parse_elf(const uint8_t *data, size_t size, const char *name,
		       const struct nfm_log *log, struct nfm_dump_info *ret);
int nfm_dump_parse_lime(const uint8_t *data, size_t size, const char *name,
			const struct nfm_log *log, struct nfm_dump_info *ret);
int nfm_dump_parse_raw(const uint8_t *data, size_t size, const char *name,
		       const struct nfm_log *log, struct nfm_dump_info *ret);
void nfm_dump_info_release(struct nfm_dump_info *info);

/*
 * A dump source over bytes in memory: detect, parse, build. name is used in messages and the
 * description. The bytes must outlive the source (nfm_source_open_dump mmaps the file and the
 * source unmaps it when freed).
 */
int nfm_source_new_dump_mem(const uint8_t *data, size_t size, const char *name,
			    const struct nfm_log *log, struct nfm_source **ret);

/* A kdump-compressed dump file (flattened: reassembled first), through libkdumpfile (kdump.c):
 * 0 or -errno, logged. */
int nfm_source_open_kdump(const char *path, bool flattened, const struct nfm_log *log,
			  struct nfm_source **ret);

/* A QEMU migration stream over bytes in memory (migration.c): pages read in place, the last copy
 * of each winning. On success the source owns mmap_base (if not NULL); 0 or -errno, logged. */
int nfm_source_new_migration(const uint8_t *data, size_t size, const char *name,
			     const struct nfm_log *log, void *mmap_base, struct nfm_source **ret);

/* Sort ranges by start; merge touching/overlapping ones whose backing agrees. -EBADMSG on a
 * conflicting overlap. Updates *n. */
int nfm_dump_sort_ranges(struct nfm_source_range *r, size_t *n);

#endif
