// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The state timeline's frame records (include/nfm/history.h, doc/history.md): a `frames` table
 * in the catalog, one row per crawl frame, its bytes zstd-compressed. The bytes are the tools'
 * (a crawl document or a delta); the store only keeps them in order and bounded.
 */
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "history/store.h"
#include "util/log.h"

static int frames_table(struct nfm_store *st)
{
	int err;

	if (st->frames_ready)
		return 0;
	err = catalog_exec(st, "CREATE TABLE IF NOT EXISTS frames (seq INTEGER PRIMARY KEY, "
			   "time_ns INTEGER NOT NULL, key INTEGER NOT NULL, raw_len INTEGER NOT NULL, "
			   "data BLOB NOT NULL)");
	st->frames_ready = err == 0;
	return err;
}

/*
 * One compression context per thread that writes frames, kept for the next frame: a context
 * made and freed per frame cost nfmd a sixth of a recorded crawl, one kept per store 0.6 MB
 * per recorded VM. NULL when none could be made (the frame is compressed without).
 */
static pthread_key_t cctx_key;
static bool cctx_key_ok;
static pthread_once_t cctx_once = PTHREAD_ONCE_INIT;

static void cctx_free(void *c)
{
	ZSTD_freeCCtx(c);
}

static void cctx_key_make(void)
{
	cctx_key_ok = pthread_key_create(&cctx_key, cctx_free) == 0;
}

static ZSTD_CCtx *thread_cctx(void)
{
	ZSTD_CCtx *c;

	pthread_once(&cctx_once, cctx_key_make);
	if (!cctx_key_ok)
		return NULL;
	c = pthread_getspecific(cctx_key);
	if (!c && (c = ZSTD_createCCtx()) && pthread_setspecific(cctx_key, c)) {
		ZSTD_freeCCtx(c);
		c = NULL;
	}
	return c;
}

static int sql_err(struct nfm_store *st, int rc)
{
	if (rc == SQLITE_FULL)
		return -ENOSPC;
	nfm_logf(st->log, NFM_LOG_ERR, "%s/catalog.db: %s", st->dir, sqlite3_errmsg(st->db));
	return -EIO;
}

NFM_EXPORT int nfm_store_frame_add(struct nfm_store *st, int64_t time_ns, bool key,
				   const void *data, size_t len, int64_t keep_ns)
{
	sqlite3_stmt *q = NULL;
	ZSTD_CCtx *cctx;
	size_t cap, z;
	void *buf;
	int rc, err;

	if (!st || !(st->flags & NFM_STORE_WRITE) || (!data && len))
		return -EINVAL;
	if (len > NFM_FRAME_MAX)
		return -E2BIG;
	err = frames_table(st);
	if (err)
		return err;
	cap = ZSTD_compressBound(len);
	cctx = thread_cctx();
	buf = malloc(cap ? cap : 1);
	if (!buf)
		return -ENOMEM;
	z = cctx ? ZSTD_compressCCtx(cctx, buf, cap, data, len, 3) :
		   ZSTD_compress(buf, cap, data, len, 3);
	if (ZSTD_isError(z)) {
		free(buf);
		return -EIO;
	}
	/*
	 * A frame's commit is not synced to the disk (WAL, synchronous=NORMAL: the database stays
	 * whole; a power cut may lose the last frames, a killed recorder loses none). An fsync per
	 * frame, each second for every VM, cost more than the rest of the frame's writing. The
	 * catalog's snapshots keep synchronous=FULL.
	 */
	if ((err = catalog_exec(st, "PRAGMA synchronous=NORMAL")) < 0) {
		free(buf);
		return err;
	}
	rc = sqlite3_prepare_v2(st->db, "INSERT INTO frames (time_ns, key, raw_len, data) "
				"VALUES (?, ?, ?, ?)", -1, &q, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(q, 1, time_ns);
		sqlite3_bind_int(q, 2, key);
		sqlite3_bind_int64(q, 3, (sqlite3_int64)len);
		sqlite3_bind_blob64(q, 4, buf, z, SQLITE_STATIC);
		rc = sqlite3_step(q);
	}
	err = rc == SQLITE_DONE || rc == SQLITE_OK ? 0 : sql_err(st, rc);
	sqlite3_finalize(q);
	free(buf);
	if (catalog_exec(st, "PRAGMA synchronous=FULL") < 0 && !err)
		err = -EIO;
	if (err || keep_ns <= 0)
		return err;
	/* retention: everything before the newest key frame at or before the limit */
	rc = sqlite3_prepare_v2(st->db, "DELETE FROM frames WHERE seq < (SELECT MAX(seq) FROM "
				"frames WHERE key = 1 AND time_ns <= ?)", -1, &q, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(q, 1, time_ns - keep_ns);
		rc = sqlite3_step(q);
	}
	err = rc == SQLITE_DONE ? 0 : sql_err(st, rc);
	sqlite3_finalize(q);
	return err;
}

NFM_EXPORT int nfm_store_frames(struct nfm_store *st, int64_t from_ns, int64_t to_ns,
				int (*cb)(void *ud, const struct nfm_frame_info *f,
					  const void *data, size_t len),
				void *ud)
{
	sqlite3_stmt *q = NULL;
	void *out = NULL;
	size_t cap = 0;
	int rc, ret = 0;

	if (!st || !cb)
		return -EINVAL;
	rc = sqlite3_prepare_v2(st->db, "SELECT name FROM sqlite_master WHERE type = 'table' AND "
				"name = 'frames'", -1, &q, NULL);
	if (rc != SQLITE_OK)
		return sql_err(st, rc);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc == SQLITE_DONE)
		return 0;	/* a store recorded without frames */
	if (rc != SQLITE_ROW)
		return sql_err(st, rc);
	rc = sqlite3_prepare_v2(st->db, "SELECT seq, time_ns, key, raw_len, data FROM frames WHERE "
				"seq >= COALESCE((SELECT MAX(seq) FROM frames WHERE key = 1 AND "
				"time_ns <= ?1), (SELECT MIN(seq) FROM frames)) AND time_ns <= ?2 "
				"ORDER BY seq", -1, &q, NULL);
	if (rc != SQLITE_OK)
		return sql_err(st, rc);
	sqlite3_bind_int64(q, 1, from_ns);
	sqlite3_bind_int64(q, 2, to_ns);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct nfm_frame_info f = {
			.seq = sqlite3_column_int64(q, 0),
			.time_ns = sqlite3_column_int64(q, 1),
			.key = sqlite3_column_int(q, 2) != 0,
		};
		sqlite3_int64 raw = sqlite3_column_int64(q, 3);
		const void *z = sqlite3_column_blob(q, 4);
		size_t zlen = (size_t)sqlite3_column_bytes(q, 4), d;

		/* the catalog is a file: its sizes are checked, never trusted */
		if (raw < 0 || (uint64_t)raw > NFM_FRAME_MAX || (!z && zlen)) {
			ret = -EBADMSG;
			break;
		}
		if ((size_t)raw + 1 > cap) {
			void *n = realloc(out, (size_t)raw + 1);

			if (!n) {
				ret = -ENOMEM;
				break;
			}
			out = n;
			cap = (size_t)raw + 1;
		}
		d = raw ? ZSTD_decompress(out, (size_t)raw, z, zlen) : 0;
		if (ZSTD_isError(d) || d != (size_t)raw) {
			nfm_logf(st->log, NFM_LOG_ERR, "%s: frame %lld does not decompress to its size",
				st->dir, (long long)f.seq);
			ret = -EBADMSG;
			break;
		}
		((char *)out)[raw] = 0;
		f.bytes = (uint64_t)raw;
		f.stored_bytes = zlen;
		ret = cb(ud, &f, out, (size_t)raw);
		if (ret)
			break;
	}
	if (!ret && rc != SQLITE_DONE && rc != SQLITE_ROW)
		ret = sql_err(st, rc);
	sqlite3_finalize(q);
	free(out);
	return ret;
}
