/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internals of a snapshot store (include/nfm/history.h; the format is in doc/history.md):
 * pack.c (page records, the content-hash table), catalog.c (SQLite), store.c (open, recovery,
 * snapshot writer, indexes, check, retention). Knows nothing of guests: it stores pages.
 */
#ifndef NFM_LIB_HISTORY_STORE_H
#define NFM_LIB_HISTORY_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <nfm/history.h>

#define NFM_PAGE 4096u

/* A pack record: this header, then len bytes (zstd frame, or the raw page with PACK_RAW). */
struct pack_rec {
	uint32_t magic;			/* PACK_MAGIC */
	uint32_t len;			/* bytes after the header | PACK_RAW */
	uint64_t lo, hi;		/* XXH3-128 of the 4 KiB page */
};
#define PACK_MAGIC	0x504d464eu	/* "NFMP" */
#define PACK_RAW	0x80000000u
#define PACK_HDR	16		/* the pack file's own header: "NFMPACK1" + 8 reserved */

/* Content hash -> pack offset (open addressing; offset 0 marks an empty slot). */
struct dedup_slot {
	uint64_t lo, hi, off;
};
struct dedup {
	struct dedup_slot *slots;
	size_t cap, n;
};

struct sqlite3;
struct ZSTD_CCtx_s;
struct ZSTD_DCtx_s;

struct nfm_store {
	char *dir;
	int flags;
	const struct nfm_log *log;
	struct sqlite3 *db;
	int lock_fd, pack_fd;
	uint64_t gen, pack_len;		/* committed pack generation and length */
	struct dedup dd;
	bool dd_loaded;
	struct ZSTD_CCtx_s *cctx;
	struct ZSTD_DCtx_s *dctx;
	bool frames_ready;		/* the frames table exists */
	/* the snapshot being written */
	uint64_t *cur, cur_n;
	uint64_t cur_zero, cur_new, cur_new_bytes;
	uint8_t *wbuf;
	size_t wlen;
	uint64_t wend;			/* pack offset after the last buffered record */
	bool writing;
	/* the newest committed snapshot's index (the writer's parent) */
	uint64_t *parent, parent_n;
	int64_t parent_id;
};

/* pack.c */
void pack_hash(const void *page, uint64_t *lo, uint64_t *hi);
int dedup_put(struct dedup *d, uint64_t lo, uint64_t hi, uint64_t off);
uint64_t dedup_get(const struct dedup *d, uint64_t lo, uint64_t hi);
void dedup_free(struct dedup *d);
/* Read and decompress the record at off into page (4 KiB). Checks the hash when check. */
int pack_read(struct nfm_store *st, uint64_t off, void *page, bool check);
/* Walk the committed records: cb(off, rec) for each; stops at the first nonzero return. */
int pack_scan(struct nfm_store *st, int (*cb)(void *ud, uint64_t off, const struct pack_rec *r),
	      void *ud);
int pack_load_dedup(struct nfm_store *st);
/* Append a record for page (buffered); *off its offset. */
int pack_append(struct nfm_store *st, const void *page, uint64_t lo, uint64_t hi, uint64_t *off);
/* Write out the buffer and fsync. */
int pack_flush(struct nfm_store *st, bool sync);
char *pack_path(const struct nfm_store *st, uint64_t gen);

/* catalog.c */
int catalog_open(struct nfm_store *st);
int catalog_meta_get(struct nfm_store *st, const char *key, uint64_t *v);
int catalog_exec(struct nfm_store *st, const char *sql);
int catalog_insert(struct nfm_store *st, const struct nfm_snapshot_info *info, const char *ranges,
		   uint64_t gen, uint64_t index_hash, uint64_t pack_len);
int catalog_list(struct nfm_store *st, struct nfm_snapshot_info **ret);
int catalog_get(struct nfm_store *st, int64_t id, struct nfm_snapshot_info *info, char **ranges,
		uint64_t *index_hash);
int catalog_delete(struct nfm_store *st, int64_t id);
int catalog_set_gen(struct nfm_store *st, uint64_t gen, uint64_t pack_len);
int64_t catalog_max_id(struct nfm_store *st);

/* store.c: the writer (used by the recorder in lib/source/record.c) */
int nfm_store_begin(struct nfm_store *st, uint64_t nr_pages);
/* Store page pgno of the snapshot being written: 0 a zero page, 1 a page already stored, 2 new. */
int nfm_store_put(struct nfm_store *st, uint64_t pgno, const void *page);
/* Page pgno is a zero page (known so without reading it). */
void nfm_store_zero(struct nfm_store *st, uint64_t pgno);
/* Page pgno is unchanged since the parent snapshot. */
void nfm_store_keep(struct nfm_store *st, uint64_t pgno);
/* The parent's entry for pgno (0: zero page or no parent); true when a parent of n pages exists. */
bool nfm_store_has_parent(struct nfm_store *st, uint64_t n);
uint64_t nfm_store_cur_entry(struct nfm_store *st, uint64_t pgno);
/* Same content as the page at pack offset off (0: the zero page)? */
bool nfm_store_same(struct nfm_store *st, uint64_t off, const void *page);
int nfm_store_commit(struct nfm_store *st, struct nfm_snapshot_info *info, const char *ranges);
void nfm_store_abort(struct nfm_store *st);

/* Reading a snapshot (lib/source/snap.c). */
int nfm_store_get(struct nfm_store *st, int64_t id, struct nfm_snapshot_info *info, char **ranges);
int nfm_store_load_index(struct nfm_store *st, int64_t id, uint64_t **idx, uint64_t *n);
int nfm_store_read_page(struct nfm_store *st, uint64_t off, void *page);

#endif
