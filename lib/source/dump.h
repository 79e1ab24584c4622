/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Memory dumps: the format parsers work on bytes in memory (an mmapped file, or a fuzzer's input)
 * and describe where each guest-physical range lies in those bytes.
 */
#ifndef NFM_LIB_SOURCE_DUMP_H
#define NFM_LIB_SOURCE_DUMP_H

#include "source/dump_parse.h"
#include "source/source.h"

enum nfm_dump_format {
	NFM_DUMP_RAW,
	NFM_DUMP_ELF,
	NFM_DUMP_LIME,
	NFM_DUMP_KDUMP,		/* kdump-compressed ("KDUMP   ", "DISKDUMP"): read by libkdumpfile */
	NFM_DUMP_KDUMP_FLAT,	/* the same, flattened ("makedumpfile": makedumpfile -F, QEMU < 8.2) */
	NFM_DUMP_MIGRATION,	/* a QEMU migration stream ("QEVM"): migration.c */
	NFM_DUMP_LIBVIRT_SAVE,	/* `virsh save`: a header and XML, then a migration stream */
	NFM_DUMP_UNSUPPORTED,	/* recognised but unreadable: kdump-compressed, compressed... */
};

/*
 * Which format the first bytes say. For NFM_DUMP_UNSUPPORTED, *what (if not NULL) is set to a
 * description such as "a kdump-compressed dump" (static storage).
 */
enum nfm_dump_format nfm_dump_detect(const uint8_t *data, size_t size, const char **what);

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

/*
 * Where the migration stream of a `virsh save` image begins (libvirt_save.c): 0 and *off, or
 * -EBADMSG (not one, or damaged), -EOPNOTSUPP (compressed, another version); logged.
 */
int nfm_libvirt_save_stream(const uint8_t *data, size_t size, const char *name,
			    const struct nfm_log *log, size_t *off);

/* A QEMU migration stream over bytes in memory (migration.c): pages read in place, the last copy
 * of each winning. On success the source owns mmap_base (if not NULL: a mapping that ends where
 * data + size does); 0 or -errno, logged. */
int nfm_source_new_migration(const uint8_t *data, size_t size, const char *name,
			     const struct nfm_log *log, void *mmap_base, struct nfm_source **ret);

#endif
