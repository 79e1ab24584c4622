/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Time travel: a store of memory snapshots of a VM (doc/history.md).
 *
 * A store is a directory: an append-only pack of distinct 4 KiB pages (xxh3-128 content hash,
 * zstd-compressed, zero pages not stored), one page index per snapshot, and a SQLite catalog in
 * WAL mode. A snapshot opens as a memory source like any other: nfm_source_open("snap:DIR@WHEN").
 * The recorder brings the newest snapshot up to date with a live source, paying only for the
 * pages that changed (the host's soft-dirty bits of the QEMU process, or a full re-hash).
 *
 * Crash safety: a snapshot is visible once its catalog row is committed, after its pages and its
 * index are on disk; anything a killed recorder left behind is discarded at the next writable
 * open. Only one writer at a time (a lock file); readers need no lock.
 */
#ifndef NFM_HISTORY_H
#define NFM_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nfm/nfm.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nfm_store;
struct nfm_recorder;

/* nfm_store_open() flags. */
#define NFM_STORE_WRITE		1	/* the recorder's open: takes the lock, recovers */
#define NFM_STORE_CREATE	2	/* create the directory and catalog when missing */

/* One snapshot as the catalog describes it. */
struct nfm_snapshot_info {
	int64_t id;			/* 1, 2, ... in recording order */
	int64_t time_ns;		/* wall clock (ns since the Unix epoch) when the copy began */
	char vm[128];			/* the VM's name (or its source description) */
	char method[16];		/* how changed pages were found: "full", "softdirty" */
	uint64_t ram_bytes;		/* guest RAM in the snapshot */
	uint64_t nr_pages;		/* 4 KiB pages indexed */
	uint64_t zero_pages;		/* pages that were all zero (not stored) */
	uint64_t read_pages;		/* pages read from the guest for this snapshot */
	uint64_t new_pages;		/* distinct pages appended to the pack */
	uint64_t new_bytes;		/* bytes appended to the pack */
	uint64_t index_bytes;		/* size of this snapshot's index file */
	uint64_t sync_ns;		/* wall time of the sync */
	uint64_t cpu_ns;		/* recorder CPU time (user + system) of the sync */
	uint64_t pause_ns;		/* how long the VM was paused (0: never) */
	uint64_t vmcoreinfo_pa;		/* where the guest's VMCOREINFO is (0: unknown) */
};

/*
 * Open a store. Flags: NFM_STORE_WRITE, NFM_STORE_CREATE. A writable open takes DIR/lock
 * (-EBUSY when another recorder holds it) and discards what a killed recorder left half done.
 * Errors are logged through log. 0 or -errno.
 */
NFM_EXPORT int nfm_store_open(const char *dir, int flags, const struct nfm_log *log,
			      struct nfm_store **ret);
/* Close a store; NULL is fine. */
NFM_EXPORT void nfm_store_close(struct nfm_store *st);

/* Every completed snapshot, oldest first; *ret is caller-freed. Returns the count or -errno. */
NFM_EXPORT int nfm_store_list(struct nfm_store *st, struct nfm_snapshot_info **ret);

/*
 * Which snapshot WHEN names: a snapshot id ("7", "#7"), "latest", a time relative to now_ns
 * ("-5m", "-90s", "-2h", "-1d"), or an absolute time ("2024-05-01 12:00:00" or "...T...", local
 * time; "@1714564800" seconds since the epoch). A time picks the newest snapshot taken at or
 * before it. 0, -ENOENT (none), -EINVAL (cannot parse).
 */
NFM_EXPORT int nfm_store_resolve(struct nfm_store *st, const char *when, int64_t now_ns,
				 struct nfm_snapshot_info *ret);

/* Bytes the store takes on disk (pack, indexes, catalog). */
NFM_EXPORT uint64_t nfm_store_disk_bytes(struct nfm_store *st);

/*
 * Verify a store: every pack record's hash against its decompressed bytes, every index against
 * its checksum and the pack's record boundaries, every catalog row against its index. report is
 * called once per problem found (may be NULL). Returns the number of problems, or -errno when the
 * store cannot be read at all.
 */
NFM_EXPORT int nfm_store_check(struct nfm_store *st, void (*report)(void *ud, const char *what),
			       void *ud);

/*
 * Retention (writable store): remove snapshots older than now_ns - keep_ns (keep_ns 0: no age
 * limit), then the oldest ones while the store is larger than max_bytes (0: no limit); the newest
 * snapshot is always kept. Pages no snapshot references any more are dropped by rewriting the
 * pack when they are a quarter of it or more. *removed (may be NULL): snapshots removed.
 */
NFM_EXPORT int nfm_store_retain(struct nfm_store *st, int64_t keep_ns, uint64_t max_bytes,
				int64_t now_ns, int *removed);

/*
 * The state timeline (doc/history.md): crawl frames kept beside the snapshots, at a higher rate.
 * A frame record holds opaque bytes (the tools store a key frame, a whole crawl document, or a
 * delta against the frame before it); the store compresses them (zstd) and keeps them in the
 * catalog in time order.
 */
struct nfm_frame_info {
	int64_t seq;			/* 1, 2, ... in recording order */
	int64_t time_ns;		/* wall clock of the crawl */
	bool key;			/* a key frame (no delta: readable on its own) */
	uint64_t bytes;			/* uncompressed size */
	uint64_t stored_bytes;		/* compressed size in the catalog */
};

/* Largest frame record (uncompressed) a store accepts and returns. */
#define NFM_FRAME_MAX (64u << 20)

/*
 * Append a frame record (writable store). keep_ns > 0: frames older than time_ns - keep_ns are
 * removed, from the oldest up to the last key frame that is not newer than that limit (so that
 * every remaining delta still has its key frame). 0 or -errno (-E2BIG past NFM_FRAME_MAX).
 */
NFM_EXPORT int nfm_store_frame_add(struct nfm_store *st, int64_t time_ns, bool key,
				   const void *data, size_t len, int64_t keep_ns);
/*
 * Read frames in time order: the newest key frame at or before from_ns (the oldest frame when
 * none is), then every frame up to to_ns. cb gets each frame's bytes (valid during the call);
 * a nonzero return stops the walk and is returned. Returns 0, or -errno (-EBADMSG: a record
 * that does not decompress to its recorded size).
 */
NFM_EXPORT int nfm_store_frames(struct nfm_store *st, int64_t from_ns, int64_t to_ns,
				int (*cb)(void *ud, const struct nfm_frame_info *f,
					  const void *data, size_t len),
				void *ud);

/* How a recorder finds changed pages. */
enum nfm_sync_method {
	NFM_SYNC_AUTO = 0,	/* soft-dirty when the host offers it, else full */
	NFM_SYNC_FULL,		/* read and hash every page */
	NFM_SYNC_SOFTDIRTY,	/* the host's soft-dirty bits of the QEMU process */
};

/* Recorder options; declare with NFM_OPTS(nfm_record_opts, name, ...). */
struct nfm_record_opts {
	size_t sz;			/* sizeof(struct nfm_record_opts) */
	enum nfm_sync_method method;
	bool consistent;		/* pause the VM (QMP stop/cont) for the copy */
	bool verify;			/* also hash every page and count changes the method missed */
	const char *qmp;		/* QMP socket (NULL: the one on QEMU's command line) */
	uint64_t vmcoreinfo_pa;		/* kept with each snapshot (attach hint), 0: none */
};

/* A recorder of a live source into a writable store. 0 or -errno. */
NFM_EXPORT int nfm_recorder_new(struct nfm_store *st, struct nfm_source *src,
				const struct nfm_record_opts *opts, const struct nfm_log *log,
				struct nfm_recorder **ret);
/*
 * Take one snapshot (sync): *info (may be NULL) describes it. *missed (may be NULL, only with
 * opts.verify): pages whose content differed from what the method recorded. -ENOSPC when the
 * disk is full (no completed snapshot is lost), other -errno.
 */
NFM_EXPORT int nfm_recorder_snap(struct nfm_recorder *r, struct nfm_snapshot_info *info,
				 uint64_t *missed);
NFM_EXPORT void nfm_recorder_free(struct nfm_recorder *r);

#ifdef __cplusplus
}
#endif

#endif
