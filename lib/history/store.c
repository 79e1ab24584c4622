// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A snapshot store: open and recovery, the snapshot writer, index files, listing and resolving,
 * check, retention. Layout (doc/history.md):
 *
 *   DIR/catalog.db          SQLite (WAL): meta (gen, pack_len), one row per completed snapshot
 *   DIR/pack-GEN.dat        the pack (pack.c); only its first pack_len bytes are committed
 *   DIR/idx/ID-GEN.idx      snapshot ID's page index against pack generation GEN
 *   DIR/lock                held (flock) by the one writer
 *
 * An index is struct idx_hdr then a zstd frame of nr_pages u64: entry 0 is the zero page, else
 * (pack offset - previous nonzero offset + 1) mod 2^64, so that runs of pages stored in order
 * compress to almost nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>
#include <sqlite3.h>

#include "history/store.h"
#include "util/log.h"

struct idx_hdr {
	char magic[8];			/* "NFMIDX1" */
	uint64_t id, gen, nr_pages;
	uint64_t hash;			/* XXH3-64 of the decoded entries */
	uint64_t zlen;			/* bytes of the zstd frame that follows */
};

static char *idx_path(const struct nfm_store *st, int64_t id, uint64_t gen)
{
	char *p;

	if (asprintf(&p, "%s/idx/%lld-%llu.idx", st->dir, (long long)id,
		     (unsigned long long)gen) < 0)
		return NULL;
	return p;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	close(fd);
	return 0;
}

static int write_file(const char *path, const void *a, size_t alen, const void *b, size_t blen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), err = 0;
	const uint8_t *parts[2] = { a, b };
	size_t lens[2] = { alen, blen }, i;

	if (fd < 0)
		return -errno;
	for (i = 0; i < 2 && !err; i++) {
		while (lens[i] && !err) {
			ssize_t n = write(fd, parts[i], lens[i]);

			if (n < 0 && errno != EINTR)
				err = -errno;
			else if (n > 0) {
				parts[i] += n;
				lens[i] -= (size_t)n;
			}
		}
	}
	if (!err && fsync(fd) < 0)
		err = -errno;
	close(fd);
	if (err)
		unlink(path);
	return err;
}

/* Write snapshot id's index (entries idx[0..n)) for generation gen; *bytes its size. */
static int index_write(struct nfm_store *st, int64_t id, uint64_t gen, const uint64_t *idx,
		       uint64_t n, uint64_t *bytes)
{
	struct idx_hdr h = { .magic = "NFMIDX1", .id = (uint64_t)id, .gen = gen, .nr_pages = n };
	uint64_t *enc = malloc((n ? n : 1) * sizeof(*enc)), last = 0, i;
	size_t cap = ZSTD_compressBound(n * sizeof(*enc)), z;
	char *path = idx_path(st, id, gen), *tmp = NULL;
	void *out = malloc(cap);
	int err = -ENOMEM;

	if (!enc || !out || !path || asprintf(&tmp, "%s.tmp", path) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		enc[i] = idx[i] ? idx[i] - last + 1 : 0;
		if (idx[i])
			last = idx[i];
	}
	h.hash = XXH3_64bits(idx, n * sizeof(*idx));
	z = ZSTD_compress(out, cap, enc, n * sizeof(*enc), 3);
	if (ZSTD_isError(z)) {
		err = -EIO;
		goto out;
	}
	h.zlen = z;
	err = write_file(tmp, &h, sizeof(h), out, z);
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err) {
		unlink(tmp);
		goto out;
	}
	*bytes = sizeof(h) + z;
out:
	free(enc);
	free(out);
	free(path);
	free(tmp);
	return err;
}

static int index_read(struct nfm_store *st, int64_t id, uint64_t gen, uint64_t **ret,
		      uint64_t *nret)
{
	char *path = idx_path(st, id, gen);
	uint64_t *idx = NULL, last = 0, i;
	uint8_t *z = NULL;
	struct idx_hdr h;
	struct stat sb;
	int fd = -1, err = -EBADMSG;
	size_t d;

	if (!path)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0 || pread(fd, &h, sizeof(h), 0) != sizeof(h) ||
	    memcmp(h.magic, "NFMIDX1", 8) || h.id != (uint64_t)id || h.gen != gen ||
	    h.zlen != (uint64_t)sb.st_size - sizeof(h) || h.nr_pages > (1ull << 40))
		goto out;
	z = malloc(h.zlen ? h.zlen : 1);
	idx = malloc((h.nr_pages ? h.nr_pages : 1) * sizeof(*idx));
	if (!z || !idx) {
		err = -ENOMEM;
		goto out;
	}
	if (pread(fd, z, h.zlen, sizeof(h)) != (ssize_t)h.zlen)
		goto out;
	d = ZSTD_decompress(idx, h.nr_pages * sizeof(*idx), z, h.zlen);
	if (ZSTD_isError(d) || d != h.nr_pages * sizeof(*idx))
		goto out;
	for (i = 0; i < h.nr_pages; i++) {
		if (idx[i]) {
			idx[i] = idx[i] - 1 + last;
			last = idx[i];
		}
	}
	if (XXH3_64bits(idx, h.nr_pages * sizeof(*idx)) != h.hash)
		goto out;
	*ret = idx;
	*nret = h.nr_pages;
	idx = NULL;
	err = 0;
out:
	if (fd >= 0)
		close(fd);
	free(z);
	free(idx);
	return err;
}

int nfm_store_load_index(struct nfm_store *st, int64_t id, uint64_t **idx, uint64_t *n)
{
	return index_read(st, id, st->gen, idx, n);
}

static int open_pack(struct nfm_store *st)
{
	char *path = pack_path(st, st->gen);
	struct stat sb;
	int wr = st->flags & NFM_STORE_WRITE;

	if (!path)
		return -ENOMEM;
	st->pack_fd = open(path, (wr ? O_RDWR | O_CREAT : O_RDONLY) | O_CLOEXEC, 0644);
	free(path);
	if (st->pack_fd < 0)
		return -errno;
	if (fstat(st->pack_fd, &sb) < 0)
		return -errno;
	if (wr && sb.st_size < PACK_HDR) {
		static const char hdr[PACK_HDR] = "NFMPACK1";

		if (pwrite(st->pack_fd, hdr, PACK_HDR, 0) != PACK_HDR || fdatasync(st->pack_fd) < 0)
			return errno ? -errno : -EIO;
		sb.st_size = PACK_HDR;
	}
	if ((uint64_t)sb.st_size < st->pack_len) {
		nfm_err(st->log, "%s: the pack is shorter (%lld bytes) than the catalog says (%llu)",
			st->dir, (long long)sb.st_size, (unsigned long long)st->pack_len);
		return -EBADMSG;
	}
	if (wr && (uint64_t)sb.st_size > st->pack_len) {
		/* The pages of a snapshot a killed recorder never committed. */
		nfm_info(st->log, "%s: discarding %llu bytes of an unfinished snapshot", st->dir,
			 (unsigned long long)(sb.st_size - st->pack_len));
		if (ftruncate(st->pack_fd, (off_t)st->pack_len) < 0)
			return -errno;
	}
	return 0;
}

/* Remove index files and packs no committed row refers to (a killed writer's leftovers). */
static void sweep(struct nfm_store *st)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/idx", st->dir);
	d = opendir(path);
	if (d) {
		while ((de = readdir(d))) {
			long long id;
			unsigned long long gen;
			struct nfm_snapshot_info in;
			char end;

			if (de->d_name[0] == '.')
				continue;
			if (sscanf(de->d_name, "%lld-%llu.id%c", &id, &gen, &end) == 3 && end == 'x' &&
			    !strchr(de->d_name, 't') && gen == st->gen &&
			    catalog_get(st, id, &in, NULL, NULL) == 0)
				continue;
			snprintf(path, sizeof(path), "%s/idx/%s", st->dir, de->d_name);
			unlink(path);
		}
		closedir(d);
	}
	d = opendir(st->dir);
	if (d) {
		while ((de = readdir(d))) {
			unsigned long long gen;

			if (sscanf(de->d_name, "pack-%llu.dat", &gen) == 1 && gen != st->gen) {
				snprintf(path, sizeof(path), "%s/%s", st->dir, de->d_name);
				unlink(path);
			}
		}
		closedir(d);
	}
}

static int load_parent(struct nfm_store *st)
{
	int64_t id = catalog_max_id(st);

	free(st->parent);
	st->parent = NULL;
	st->parent_n = 0;
	st->parent_id = 0;
	if (id <= 0)
		return id < 0 ? (int)id : 0;
	if (index_read(st, id, st->gen, &st->parent, &st->parent_n) < 0)
		return 0;	/* a damaged newest index: the next snapshot is a full one */
	st->parent_id = id;
	return 0;
}

int nfm_store_open(const char *dir, int flags, const struct nfm_log *log, struct nfm_store **ret)
{
	struct nfm_store *st;
	char *p = NULL;
	int err;

	if (!dir || !ret)
		return -EINVAL;
	if ((flags & NFM_STORE_CREATE) && mkdir(dir, 0755) < 0 && errno != EEXIST) {
		err = -errno;
		nfm_err(log, "cannot create %s: %s", dir, strerror(-err));
		return err;
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->lock_fd = st->pack_fd = -1;
	st->flags = flags;
	st->log = log;
	st->dir = strdup(dir);
	if (!st->dir) {
		free(st);
		return -ENOMEM;
	}
	if (flags & NFM_STORE_WRITE) {
		if (asprintf(&p, "%s/idx", dir) < 0) {
			err = -ENOMEM;
			goto fail;
		}
		if (mkdir(p, 0755) < 0 && errno != EEXIST) {
			err = -errno;
			nfm_err(log, "cannot create %s: %s", p, strerror(-err));
			goto fail;
		}
		free(p);
		if (asprintf(&p, "%s/lock", dir) < 0) {
			p = NULL;
			err = -ENOMEM;
			goto fail;
		}
		st->lock_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (st->lock_fd < 0 || flock(st->lock_fd, LOCK_EX | LOCK_NB) < 0) {
			err = errno == EWOULDBLOCK ? -EBUSY : -errno;
			nfm_err(log, "%s: %s", dir, err == -EBUSY ?
				"another recorder is writing this store" : strerror(-err));
			goto fail;
		}
	} else {
		struct stat sb;

		if (asprintf(&p, "%s/catalog.db", dir) < 0) {
			p = NULL;
			err = -ENOMEM;
			goto fail;
		}
		if (stat(p, &sb) < 0) {
			err = -ENOENT;
			nfm_err(log, "%s is not a snapshot store (no catalog.db)", dir);
			goto fail;
		}
	}
	err = catalog_open(st);
	if (err)
		goto fail;
	err = catalog_meta_get(st, "gen", &st->gen);
	if (!err)
		err = catalog_meta_get(st, "pack_len", &st->pack_len);
	if (err) {
		nfm_err(log, "%s: the catalog has no meta rows", dir);
		goto fail;
	}
	err = open_pack(st);
	if (err) {
		if (err != -EBADMSG)
			nfm_err(log, "%s: cannot open the pack: %s", dir, strerror(-err));
		goto fail;
	}
	if (flags & NFM_STORE_WRITE) {
		sweep(st);
		err = load_parent(st);
		if (err)
			goto fail;
	}
	free(p);
	*ret = st;
	return 0;
fail:
	free(p);
	nfm_store_close(st);
	return err;
}

void nfm_store_close(struct nfm_store *st)
{
	if (!st)
		return;
	if (st->writing)
		nfm_store_abort(st);
	if (st->db)
		sqlite3_close(st->db);
	if (st->pack_fd >= 0)
		close(st->pack_fd);
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	dedup_free(&st->dd);
	ZSTD_freeCCtx(st->cctx);
	ZSTD_freeDCtx(st->dctx);
	free(st->cur);
	free(st->parent);
	free(st->wbuf);
	free(st->dir);
	free(st);
}

int nfm_store_list(struct nfm_store *st, struct nfm_snapshot_info **ret)
{
	if (!st || !ret)
		return -EINVAL;
	return catalog_list(st, ret);
}

int nfm_store_get(struct nfm_store *st, int64_t id, struct nfm_snapshot_info *info, char **ranges)
{
	return catalog_get(st, id, info, ranges, NULL);
}

int nfm_store_read_page(struct nfm_store *st, uint64_t off, void *page)
{
	if (!off) {
		memset(page, 0, NFM_PAGE);
		return 0;
	}
	return pack_read(st, off, page, false);
}

/* "-5m" style: seconds, or -EINVAL. */
static int parse_rel(const char *s, int64_t *ns)
{
	char *end;
	double v = strtod(s, &end);
	double mul;

	if (end == s || v < 0)
		return -EINVAL;
	if (!*end || !strcmp(end, "s"))
		mul = 1;
	else if (!strcmp(end, "ms"))
		mul = 1e-3;
	else if (!strcmp(end, "m") || !strcmp(end, "min"))
		mul = 60;
	else if (!strcmp(end, "h"))
		mul = 3600;
	else if (!strcmp(end, "d"))
		mul = 86400;
	else
		return -EINVAL;
	*ns = (int64_t)(v * mul * 1e9);
	return 0;
}

int nfm_store_resolve(struct nfm_store *st, const char *when, int64_t now_ns,
		      struct nfm_snapshot_info *ret)
{
	struct nfm_snapshot_info *a;
	int64_t t, d;
	char *end;
	int n, i, best = -1;
	long long id;

	if (!st || !when || !ret)
		return -EINVAL;
	n = catalog_list(st, &a);
	if (n < 0)
		return n;
	if (!strcmp(when, "latest") || !strcmp(when, "now")) {
		t = INT64_MAX;
	} else if (when[0] == '-') {
		if (parse_rel(when + 1, &d)) {
			free(a);
			return -EINVAL;
		}
		t = now_ns - d;
	} else if (when[0] == '@') {
		double s = strtod(when + 1, &end);

		if (end == when + 1 || *end) {
			free(a);
			return -EINVAL;
		}
		t = (int64_t)(s * 1e9);
	} else if ((when[0] == '#' && when[1]) || strspn(when, "0123456789") == strlen(when)) {
		id = strtoll(when + (when[0] == '#'), &end, 10);
		for (i = 0; i < n; i++)
			if (a[i].id == id)
				best = i;
		if (*end)
			best = -2;
		goto done;
	} else {
		struct tm tm;
		const char *r;

		memset(&tm, 0, sizeof(tm));
		r = strptime(when, "%Y-%m-%d %H:%M:%S", &tm);
		if (!r || *r) {
			memset(&tm, 0, sizeof(tm));
			r = strptime(when, "%Y-%m-%dT%H:%M:%S", &tm);
		}
		if (!r || *r) {
			memset(&tm, 0, sizeof(tm));
			r = strptime(when, "%H:%M:%S", &tm);
			if (r && !*r) {
				time_t now = (time_t)(now_ns / 1000000000);
				struct tm today;

				localtime_r(&now, &today);
				tm.tm_year = today.tm_year;
				tm.tm_mon = today.tm_mon;
				tm.tm_mday = today.tm_mday;
			}
		}
		if (!r || *r) {
			free(a);
			return -EINVAL;
		}
		tm.tm_isdst = -1;
		t = (int64_t)mktime(&tm) * 1000000000;
	}
	for (i = 0; i < n; i++)
		if (a[i].time_ns <= t)
			best = i;
done:
	if (best == -2) {
		free(a);
		return -EINVAL;
	}
	if (best >= 0)
		*ret = a[best];
	free(a);
	return best >= 0 ? 0 : -ENOENT;
}

static uint64_t file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

uint64_t nfm_store_disk_bytes(struct nfm_store *st)
{
	struct nfm_snapshot_info *a;
	char path[PATH_MAX];
	uint64_t sum;
	int n, i;

	if (!st)
		return 0;
	sum = st->pack_len;
	n = catalog_list(st, &a);
	for (i = 0; i < n; i++)
		sum += a[i].index_bytes;
	if (n >= 0)
		free(a);
	snprintf(path, sizeof(path), "%s/catalog.db", st->dir);
	sum += file_size(path);
	snprintf(path, sizeof(path), "%s/catalog.db-wal", st->dir);
	sum += file_size(path);
	return sum;
}

/* The writer. */

int nfm_store_begin(struct nfm_store *st, uint64_t nr_pages)
{
	int err;

	if (!(st->flags & NFM_STORE_WRITE) || st->writing)
		return -EINVAL;
	err = pack_load_dedup(st);
	if (err)
		return err;
	free(st->cur);
	st->cur = calloc(nr_pages ? nr_pages : 1, sizeof(*st->cur));
	if (!st->cur)
		return -ENOMEM;
	st->cur_n = nr_pages;
	st->cur_zero = st->cur_new = st->cur_new_bytes = 0;
	st->wlen = 0;
	st->wend = st->pack_len;
	st->writing = true;
	return 0;
}

static bool is_zero(const void *page)
{
	const uint64_t *p = page;
	size_t i;

	for (i = 0; i < NFM_PAGE / 8; i++)
		if (p[i])
			return false;
	return true;
}

int nfm_store_put(struct nfm_store *st, uint64_t pgno, const void *page)
{
	uint64_t lo, hi, off;
	int err;

	if (pgno >= st->cur_n)
		return -EINVAL;
	if (is_zero(page)) {
		nfm_store_zero(st, pgno);
		return 0;
	}
	pack_hash(page, &lo, &hi);
	off = dedup_get(&st->dd, lo, hi);
	if (off) {
		st->cur[pgno] = off;
		return 1;
	}
	err = pack_append(st, page, lo, hi, &off);
	if (!err)
		err = dedup_put(&st->dd, lo, hi, off);
	if (err)
		return err;
	st->cur[pgno] = off;
	st->cur_new++;
	return 2;
}

void nfm_store_zero(struct nfm_store *st, uint64_t pgno)
{
	if (pgno < st->cur_n) {
		st->cur[pgno] = 0;
		st->cur_zero++;
	}
}

bool nfm_store_has_parent(struct nfm_store *st, uint64_t n)
{
	return st->parent && st->parent_n == n;
}

void nfm_store_keep(struct nfm_store *st, uint64_t pgno)
{
	if (pgno < st->cur_n && st->parent && pgno < st->parent_n) {
		st->cur[pgno] = st->parent[pgno];
		if (!st->cur[pgno])
			st->cur_zero++;
	}
}

uint64_t nfm_store_cur_entry(struct nfm_store *st, uint64_t pgno)
{
	return pgno < st->cur_n ? st->cur[pgno] : 0;
}

bool nfm_store_same(struct nfm_store *st, uint64_t off, const void *page)
{
	uint64_t lo, hi;

	if (is_zero(page))
		return off == 0;
	pack_hash(page, &lo, &hi);
	/* One record per distinct content: the same content has the same offset. */
	return off && dedup_get(&st->dd, lo, hi) == off;
}

void nfm_store_abort(struct nfm_store *st)
{
	if (!st->writing)
		return;
	st->writing = false;
	st->wlen = 0;
	if (ftruncate(st->pack_fd, (off_t)st->pack_len) < 0)
		nfm_warn(st->log, "%s: cannot cut the pack back: %s", st->dir, strerror(errno));
	/* The hash table may name records that are gone now. */
	st->dd_loaded = false;
	free(st->cur);
	st->cur = NULL;
	st->cur_n = 0;
}

int nfm_store_commit(struct nfm_store *st, struct nfm_snapshot_info *info, const char *ranges)
{
	int64_t id;
	char *path = NULL;
	int err;

	if (!st->writing)
		return -EINVAL;
	id = catalog_max_id(st);
	if (id < 0) {
		err = (int)id;
		goto fail;
	}
	id++;
	err = pack_flush(st, true);
	if (err) {
		nfm_err(st->log, "%s: writing the pack: %s", st->dir, strerror(-err));
		goto fail;
	}
	err = index_write(st, id, st->gen, st->cur, st->cur_n, &info->index_bytes);
	if (err) {
		nfm_err(st->log, "%s: writing the index of snapshot %lld: %s", st->dir,
			(long long)id, strerror(-err));
		goto fail;
	}
	path = idx_path(st, id, st->gen);
	fsync_dir(st->dir);
	info->id = id;
	info->nr_pages = st->cur_n;
	info->zero_pages = st->cur_zero;
	info->new_pages = st->cur_new;
	info->new_bytes = st->cur_new_bytes;
	err = catalog_insert(st, info, ranges, st->gen, 0, st->wend);
	if (err) {
		if (path)
			unlink(path);
		goto fail;
	}
	free(path);
	st->pack_len = st->wend;
	st->writing = false;
	free(st->parent);
	st->parent = st->cur;
	st->parent_n = st->cur_n;
	st->parent_id = id;
	st->cur = NULL;
	st->cur_n = 0;
	return 0;
fail:
	free(path);
	nfm_store_abort(st);
	return err;
}

/* Check. */

struct offsets {
	uint64_t *v;
	size_t n, cap;
};

static int offs_add(struct offsets *o, uint64_t v)
{
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 4096;
		uint64_t *t = realloc(o->v, cap * sizeof(*t));

		if (!t)
			return -ENOMEM;
		o->v = t;
		o->cap = cap;
	}
	o->v[o->n++] = v;
	return 0;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void offs_sort(struct offsets *o)
{
	size_t i, j = 0;

	if (!o->n)
		return;	/* o->v may be NULL: qsort() must not see it */
	qsort(o->v, o->n, sizeof(*o->v), u64_cmp);
	for (i = 0; i < o->n; i++)
		if (!j || o->v[i] != o->v[j - 1])
			o->v[j++] = o->v[i];
	o->n = j;
}

static bool offs_has(const struct offsets *o, uint64_t v)
{
	return o->n && bsearch(&v, o->v, o->n, sizeof(v), u64_cmp);
}

struct check_ctx {
	struct nfm_store *st;
	struct offsets recs;
	void (*report)(void *ud, const char *what);
	void *ud;
	int problems;
	uint8_t page[NFM_PAGE];
};

__attribute__((format(printf, 2, 3)))
static void problem(struct check_ctx *c, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	c->problems++;
	if (c->report && c->problems <= 1000)
		c->report(c->ud, buf);
}

static int check_rec(void *ud, uint64_t off, const struct pack_rec *r)
{
	struct check_ctx *c = ud;
	int err = pack_read(c->st, off, c->page, true);

	if (err == -EILSEQ)
		problem(c, "pack record at %llu: its page does not match its hash",
			(unsigned long long)off);
	else if (err)
		problem(c, "pack record at %llu: %s", (unsigned long long)off,
			err == -EBADMSG ? "damaged" : strerror(-err));
	return offs_add(&c->recs, off);
}

int nfm_store_check(struct nfm_store *st, void (*report)(void *ud, const char *what), void *ud)
{
	struct check_ctx *c;
	struct nfm_snapshot_info *a;
	int n, i, err;

	if (!st)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->st = st;
	c->report = report;
	c->ud = ud;
	err = pack_scan(st, check_rec, c);
	if (err == -EBADMSG)
		problem(c, "the pack's record chain is broken after %zu records (of %llu bytes)",
			c->recs.n, (unsigned long long)st->pack_len);
	else if (err < 0)
		goto out;
	offs_sort(&c->recs);
	n = catalog_list(st, &a);
	if (n < 0) {
		err = n;
		goto out;
	}
	for (i = 0; i < n; i++) {
		uint64_t *idx, nr, j, bad = 0;

		err = index_read(st, a[i].id, st->gen, &idx, &nr);
		if (err) {
			problem(c, "snapshot %lld: its index is %s", (long long)a[i].id,
				err == -ENOENT ? "missing" : err == -EBADMSG ? "damaged" :
				strerror(-err));
			continue;
		}
		if (nr != a[i].nr_pages)
			problem(c, "snapshot %lld: its index has %llu pages, the catalog says %llu",
				(long long)a[i].id, (unsigned long long)nr,
				(unsigned long long)a[i].nr_pages);
		for (j = 0; j < nr; j++)
			if (idx[j] && !offs_has(&c->recs, idx[j]))
				bad++;
		if (bad)
			problem(c, "snapshot %lld: %llu pages point to no pack record",
				(long long)a[i].id, (unsigned long long)bad);
		free(idx);
	}
	free(a);
	err = 0;
out:
	n = c->problems;
	free(c->recs.v);
	free(c);
	return err < 0 ? err : n;
}

/* Retention. */

/* Every offset the remaining snapshots use, sorted, and the bytes of those records. */
static int live_set(struct nfm_store *st, struct offsets *o, uint64_t *bytes, uint64_t *idx_bytes)
{
	struct nfm_snapshot_info *a;
	int n, i, err = 0;
	size_t k;

	n = catalog_list(st, &a);
	if (n < 0)
		return n;
	*idx_bytes = 0;
	for (i = 0; i < n && !err; i++) {
		uint64_t *idx, nr, j;

		*idx_bytes += a[i].index_bytes;
		err = index_read(st, a[i].id, st->gen, &idx, &nr);
		for (j = 0; !err && j < nr; j++)
			if (idx[j])
				err = offs_add(o, idx[j]);
		if (!err)
			free(idx);
	}
	free(a);
	if (err)
		return err;
	offs_sort(o);
	*bytes = 0;
	for (k = 0; k < o->n; k++) {
		struct pack_rec r;

		if (pread(st->pack_fd, &r, sizeof(r), (off_t)o->v[k]) != sizeof(r))
			return -EIO;
		*bytes += sizeof(r) + (r.len & ~PACK_RAW);
	}
	return 0;
}

/* Copy the live records into pack GEN+1, rewrite every index for it, switch in one commit. */
static int compact(struct nfm_store *st, const struct offsets *live)
{
	uint64_t gen = st->gen + 1, off = PACK_HDR, *newoff = NULL;
	char *path = pack_path(st, gen), *old = pack_path(st, st->gen);
	struct nfm_snapshot_info *a = NULL;
	uint8_t buf[sizeof(struct pack_rec) + NFM_PAGE];
	static const char hdr[PACK_HDR] = "NFMPACK1";
	int fd = -1, n = 0, i, err = -ENOMEM;
	size_t k;

	if (!path || !old || !(newoff = malloc((live->n ? live->n : 1) * sizeof(*newoff))))
		goto out;
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || pwrite(fd, hdr, PACK_HDR, 0) != PACK_HDR) {
		err = -errno;
		goto out;
	}
	for (k = 0; k < live->n; k++) {
		struct pack_rec r;
		size_t len;

		if (pread(st->pack_fd, &r, sizeof(r), (off_t)live->v[k]) != sizeof(r)) {
			err = -EIO;
			goto out;
		}
		len = sizeof(r) + (r.len & ~PACK_RAW);
		if (pread(st->pack_fd, buf, len, (off_t)live->v[k]) != (ssize_t)len ||
		    pwrite(fd, buf, len, (off_t)off) != (ssize_t)len) {
			err = errno ? -errno : -EIO;
			goto out;
		}
		newoff[k] = off;
		off += len;
	}
	if (fdatasync(fd) < 0) {
		err = -errno;
		goto out;
	}
	n = catalog_list(st, &a);
	if (n < 0) {
		err = n;
		goto out;
	}
	for (i = 0; i < n; i++) {
		uint64_t *idx, nr, j, b;

		err = index_read(st, a[i].id, st->gen, &idx, &nr);
		if (err)
			goto out;
		for (j = 0; j < nr; j++) {
			if (idx[j]) {
				uint64_t *p = bsearch(&idx[j], live->v, live->n, sizeof(uint64_t),
						      u64_cmp);

				idx[j] = newoff[p - live->v];
			}
		}
		err = index_write(st, a[i].id, gen, idx, nr, &b);
		free(idx);
		if (err)
			goto out;
	}
	fsync_dir(st->dir);
	err = catalog_set_gen(st, gen, off);
	if (err)
		goto out;
	close(st->pack_fd);
	st->pack_fd = fd;
	fd = -1;
	st->gen = gen;
	st->pack_len = off;
	st->dd_loaded = false;
	unlink(old);
	sweep(st);
	load_parent(st);
out:
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
	free(a);
	free(newoff);
	free(path);
	free(old);
	return err;
}

int nfm_store_retain(struct nfm_store *st, int64_t keep_ns, uint64_t max_bytes, int64_t now_ns,
		     int *removed)
{
	struct nfm_snapshot_info *a;
	struct offsets live = { 0 };
	uint64_t bytes = 0, ib = 0;
	int n, i, gone = 0, err = 0;

	if (!st || !(st->flags & NFM_STORE_WRITE) || st->writing)
		return -EINVAL;
	n = catalog_list(st, &a);
	if (n < 0)
		return n;
	for (i = 0; i < n - 1; i++) {
		bool drop = keep_ns > 0 && a[i].time_ns < now_ns - keep_ns;

		if (!drop && max_bytes) {
			live.n = 0;
			err = live_set(st, &live, &bytes, &ib);
			if (err)
				break;
			drop = bytes + ib > max_bytes;
		}
		if (!drop)
			break;
		err = catalog_delete(st, a[i].id);
		if (err)
			break;
		char *p = idx_path(st, a[i].id, st->gen);

		if (p)
			unlink(p);
		free(p);
		gone++;
	}
	free(a);
	if (!err && gone) {
		live.n = 0;
		err = live_set(st, &live, &bytes, &ib);
		if (!err && (st->pack_len - PACK_HDR - bytes) * 4 >= st->pack_len)
			err = compact(st, &live);
	}
	free(live.v);
	if (removed)
		*removed = gone;
	if (err)
		nfm_err(st->log, "%s: retention failed: %s", st->dir, strerror(-err));
	return err;
}
