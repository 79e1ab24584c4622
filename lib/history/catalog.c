// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The catalog: SQLite in WAL mode, synchronous=FULL. A snapshot exists once its row is committed;
 * the row is written last, after the pack records and the index file are on disk. meta holds
 * the committed pack generation and length.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history/store.h"
#include "util/log.h"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"INSERT OR IGNORE INTO meta VALUES('format', 1), ('gen', 1), ('pack_len', 16);"
	"CREATE TABLE IF NOT EXISTS snapshots(id INTEGER PRIMARY KEY, time_ns INTEGER NOT NULL,"
	" vm TEXT, method TEXT, ranges TEXT NOT NULL, ram_bytes INTEGER, nr_pages INTEGER,"
	" zero_pages INTEGER, read_pages INTEGER, new_pages INTEGER, new_bytes INTEGER,"
	" index_bytes INTEGER, sync_ns INTEGER, cpu_ns INTEGER, pause_ns INTEGER,"
	" vmcoreinfo_pa INTEGER, gen INTEGER NOT NULL, index_hash INTEGER NOT NULL);";

static int db_err(struct nfm_store *st, const char *what, int rc)
{
	nfm_err(st->log, "%s: catalog %s: %s", st->dir, what, sqlite3_errmsg(st->db));
	if (rc == SQLITE_FULL)
		return -ENOSPC;
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		return -EBUSY;
	if (rc == SQLITE_CANTOPEN)
		return -ENOENT;
	if (rc == SQLITE_READONLY || rc == SQLITE_PERM)
		return -EACCES;
	return -EIO;
}

int catalog_exec(struct nfm_store *st, const char *sql)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : db_err(st, "update", rc);
}

int catalog_open(struct nfm_store *st)
{
	char *path;
	int rc, fl = (st->flags & NFM_STORE_WRITE) ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
						    : SQLITE_OPEN_READONLY;

	if (asprintf(&path, "%s/catalog.db", st->dir) < 0)
		return -ENOMEM;
	rc = sqlite3_open_v2(path, &st->db, fl | SQLITE_OPEN_NOMUTEX, NULL);
	free(path);
	if (rc != SQLITE_OK)
		return db_err(st, "open", rc);
	sqlite3_busy_timeout(st->db, 5000);
	if (st->flags & NFM_STORE_WRITE) {
		rc = sqlite3_exec(st->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
				  NULL, NULL, NULL);
		if (rc != SQLITE_OK)
			return db_err(st, "open", rc);
		return catalog_exec(st, schema);
	}
	return 0;
}

int catalog_meta_get(struct nfm_store *st, const char *key, uint64_t *v)
{
	sqlite3_stmt *s;
	int rc;

	rc = sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE key = ?", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return db_err(st, "read", rc);
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*v = (uint64_t)sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? -EBADMSG : db_err(st, "read", rc);
}

#define COLS "id, time_ns, vm, method, ram_bytes, nr_pages, zero_pages, read_pages, new_pages," \
	" new_bytes, index_bytes, sync_ns, cpu_ns, pause_ns, vmcoreinfo_pa, ranges, index_hash"

static void row(sqlite3_stmt *s, struct nfm_snapshot_info *in)
{
	const char *t;

	memset(in, 0, sizeof(*in));
	in->id = sqlite3_column_int64(s, 0);
	in->time_ns = sqlite3_column_int64(s, 1);
	t = (const char *)sqlite3_column_text(s, 2);
	snprintf(in->vm, sizeof(in->vm), "%s", t ? t : "");
	t = (const char *)sqlite3_column_text(s, 3);
	snprintf(in->method, sizeof(in->method), "%s", t ? t : "");
	in->ram_bytes = (uint64_t)sqlite3_column_int64(s, 4);
	in->nr_pages = (uint64_t)sqlite3_column_int64(s, 5);
	in->zero_pages = (uint64_t)sqlite3_column_int64(s, 6);
	in->read_pages = (uint64_t)sqlite3_column_int64(s, 7);
	in->new_pages = (uint64_t)sqlite3_column_int64(s, 8);
	in->new_bytes = (uint64_t)sqlite3_column_int64(s, 9);
	in->index_bytes = (uint64_t)sqlite3_column_int64(s, 10);
	in->sync_ns = (uint64_t)sqlite3_column_int64(s, 11);
	in->cpu_ns = (uint64_t)sqlite3_column_int64(s, 12);
	in->pause_ns = (uint64_t)sqlite3_column_int64(s, 13);
	in->vmcoreinfo_pa = (uint64_t)sqlite3_column_int64(s, 14);
}

int catalog_list(struct nfm_store *st, struct nfm_snapshot_info **ret)
{
	struct nfm_snapshot_info *a = NULL, *tmp;
	sqlite3_stmt *s;
	int rc, n = 0;

	rc = sqlite3_prepare_v2(st->db, "SELECT " COLS " FROM snapshots ORDER BY id", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return db_err(st, "read", rc);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		tmp = realloc(a, (n + 1) * sizeof(*a));
		if (!tmp) {
			sqlite3_finalize(s);
			free(a);
			return -ENOMEM;
		}
		a = tmp;
		row(s, &a[n++]);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		free(a);
		return db_err(st, "read", rc);
	}
	*ret = a;
	return n;
}

int catalog_get(struct nfm_store *st, int64_t id, struct nfm_snapshot_info *info, char **ranges,
		uint64_t *index_hash)
{
	sqlite3_stmt *s;
	int rc, err = 0;

	rc = sqlite3_prepare_v2(st->db, "SELECT " COLS " FROM snapshots WHERE id = ?", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return db_err(st, "read", rc);
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		row(s, info);
		if (ranges) {
			const char *t = (const char *)sqlite3_column_text(s, 15);

			*ranges = strdup(t ? t : "");
			if (!*ranges)
				err = -ENOMEM;
		}
		if (index_hash)
			*index_hash = (uint64_t)sqlite3_column_int64(s, 16);
	} else {
		err = rc == SQLITE_DONE ? -ENOENT : db_err(st, "read", rc);
	}
	sqlite3_finalize(s);
	return err;
}

int catalog_insert(struct nfm_store *st, const struct nfm_snapshot_info *in, const char *ranges,
		   uint64_t gen, uint64_t index_hash, uint64_t pack_len)
{
	sqlite3_stmt *s;
	int rc, err;

	err = catalog_exec(st, "BEGIN IMMEDIATE");
	if (err)
		return err;
	rc = sqlite3_prepare_v2(st->db, "INSERT INTO snapshots(" COLS ", gen) VALUES "
				"(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", -1, &s, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(s, 1, in->id);
	sqlite3_bind_int64(s, 2, in->time_ns);
	sqlite3_bind_text(s, 3, in->vm, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, in->method, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, (int64_t)in->ram_bytes);
	sqlite3_bind_int64(s, 6, (int64_t)in->nr_pages);
	sqlite3_bind_int64(s, 7, (int64_t)in->zero_pages);
	sqlite3_bind_int64(s, 8, (int64_t)in->read_pages);
	sqlite3_bind_int64(s, 9, (int64_t)in->new_pages);
	sqlite3_bind_int64(s, 10, (int64_t)in->new_bytes);
	sqlite3_bind_int64(s, 11, (int64_t)in->index_bytes);
	sqlite3_bind_int64(s, 12, (int64_t)in->sync_ns);
	sqlite3_bind_int64(s, 13, (int64_t)in->cpu_ns);
	sqlite3_bind_int64(s, 14, (int64_t)in->pause_ns);
	sqlite3_bind_int64(s, 15, (int64_t)in->vmcoreinfo_pa);
	sqlite3_bind_text(s, 16, ranges, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 17, (int64_t)index_hash);
	sqlite3_bind_int64(s, 18, (int64_t)gen);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		goto fail;
	rc = sqlite3_prepare_v2(st->db, "UPDATE meta SET value = ? WHERE key = 'pack_len'", -1, &s,
				NULL);
	if (rc != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(s, 1, (int64_t)pack_len);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		goto fail;
	rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	return 0;
fail:
	err = db_err(st, "commit", rc);
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return err;
}

int catalog_delete(struct nfm_store *st, int64_t id)
{
	char sql[96];

	snprintf(sql, sizeof(sql), "DELETE FROM snapshots WHERE id = %lld", (long long)id);
	return catalog_exec(st, sql);
}

int catalog_set_gen(struct nfm_store *st, uint64_t gen, uint64_t pack_len)
{
	char sql[256];
	int err;

	snprintf(sql, sizeof(sql), "BEGIN IMMEDIATE; UPDATE meta SET value = %llu WHERE key = 'gen';"
		 " UPDATE meta SET value = %llu WHERE key = 'pack_len'; UPDATE snapshots SET gen = %llu;"
		 " COMMIT;", (unsigned long long)gen, (unsigned long long)pack_len,
		 (unsigned long long)gen);
	err = catalog_exec(st, sql);
	if (err)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return err;
}

int64_t catalog_max_id(struct nfm_store *st)
{
	sqlite3_stmt *s;
	int64_t id = 0;

	if (sqlite3_prepare_v2(st->db, "SELECT MAX(id) FROM snapshots", -1, &s, NULL) != SQLITE_OK)
		return -EIO;
	if (sqlite3_step(s) == SQLITE_ROW)
		id = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return id;
}
