// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The pack: an append-only file of distinct 4 KiB pages, each a record (struct pack_rec) holding
 * its XXH3-128 hash and the page as a zstd frame (or raw when zstd does not make it smaller).
 * Only the first pack_len bytes (the catalog's meta row) are committed; a longer file is the tail
 * of a snapshot a killed recorder never finished.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#include "history/store.h"
#include "util/log.h"

#define WBUF_SIZE (4u << 20)
#define ZSTD_LEVEL 1

void pack_hash(const void *page, uint64_t *lo, uint64_t *hi)
{
	XXH128_hash_t h = XXH3_128bits(page, NFM_PAGE);

	*lo = h.low64;
	*hi = h.high64;
}

static size_t slot_of(const struct dedup *d, uint64_t lo, uint64_t hi)
{
	size_t i = (size_t)(lo ^ (hi >> 7)) & (d->cap - 1);

	while (d->slots[i].off && (d->slots[i].lo != lo || d->slots[i].hi != hi))
		i = (i + 1) & (d->cap - 1);
	return i;
}

int dedup_put(struct dedup *d, uint64_t lo, uint64_t hi, uint64_t off)
{
	size_t i;

	if ((d->n + 1) * 2 > d->cap) {
		struct dedup nd = { .cap = d->cap ? d->cap * 2 : 1u << 16 };

		nd.slots = calloc(nd.cap, sizeof(*nd.slots));
		if (!nd.slots)
			return -ENOMEM;
		for (i = 0; i < d->cap; i++)
			if (d->slots[i].off)
				nd.slots[slot_of(&nd, d->slots[i].lo, d->slots[i].hi)] = d->slots[i];
		nd.n = d->n;
		free(d->slots);
		*d = nd;
	}
	i = slot_of(d, lo, hi);
	if (!d->slots[i].off)
		d->n++;
	d->slots[i] = (struct dedup_slot){ lo, hi, off };
	return 0;
}

uint64_t dedup_get(const struct dedup *d, uint64_t lo, uint64_t hi)
{
	return d->cap ? d->slots[slot_of(d, lo, hi)].off : 0;
}

void dedup_free(struct dedup *d)
{
	free(d->slots);
	memset(d, 0, sizeof(*d));
}

char *pack_path(const struct nfm_store *st, uint64_t gen)
{
	char *p;

	if (asprintf(&p, "%s/pack-%llu.dat", st->dir, (unsigned long long)gen) < 0)
		return NULL;
	return p;
}

static int read_hdr(struct nfm_store *st, uint64_t off, struct pack_rec *r)
{
	ssize_t n = pread(st->pack_fd, r, sizeof(*r), (off_t)off);

	if (n < 0)
		return -errno;
	if (n != sizeof(*r) || r->magic != PACK_MAGIC || (r->len & ~PACK_RAW) > NFM_PAGE ||
	    off + sizeof(*r) + (r->len & ~PACK_RAW) > st->pack_len)
		return -EBADMSG;
	if ((r->len & PACK_RAW) && (r->len & ~PACK_RAW) != NFM_PAGE)
		return -EBADMSG;
	return 0;
}

int pack_read(struct nfm_store *st, uint64_t off, void *page, bool check)
{
	uint8_t buf[sizeof(struct pack_rec) + NFM_PAGE];
	struct pack_rec r;
	uint32_t len;
	ssize_t n;
	size_t z;

	if (off < PACK_HDR || off >= st->pack_len)
		return -EBADMSG;
	/* One read for header and body: the body is at most a page. */
	n = pread(st->pack_fd, buf, sizeof(buf), (off_t)off);
	if (n < 0)
		return -errno;
	if ((size_t)n < sizeof(r))
		return -EBADMSG;
	memcpy(&r, buf, sizeof(r));
	len = r.len & ~PACK_RAW;
	if (r.magic != PACK_MAGIC || len > NFM_PAGE || (size_t)n < sizeof(r) + len ||
	    off + sizeof(r) + len > st->pack_len)
		return -EBADMSG;
	if (r.len & PACK_RAW) {
		if (len != NFM_PAGE)
			return -EBADMSG;
		memcpy(page, buf + sizeof(r), NFM_PAGE);
	} else {
		if (!st->dctx && !(st->dctx = ZSTD_createDCtx()))
			return -ENOMEM;
		z = ZSTD_decompressDCtx(st->dctx, page, NFM_PAGE, buf + sizeof(r), len);
		if (ZSTD_isError(z) || z != NFM_PAGE)
			return -EBADMSG;
	}
	if (check) {
		uint64_t lo, hi;

		pack_hash(page, &lo, &hi);
		if (lo != r.lo || hi != r.hi)
			return -EILSEQ;
	}
	return 0;
}

int pack_scan(struct nfm_store *st, int (*cb)(void *ud, uint64_t off, const struct pack_rec *r),
	      void *ud)
{
	uint64_t off = PACK_HDR;
	struct pack_rec r;
	int err;

	while (off < st->pack_len) {
		err = read_hdr(st, off, &r);
		if (err)
			return err == -EBADMSG ? -EBADMSG : err;
		err = cb(ud, off, &r);
		if (err)
			return err;
		off += sizeof(r) + (r.len & ~PACK_RAW);
	}
	return 0;
}

static int dedup_cb(void *ud, uint64_t off, const struct pack_rec *r)
{
	return dedup_put(ud, r->lo, r->hi, off);
}

int pack_load_dedup(struct nfm_store *st)
{
	int err;

	if (st->dd_loaded)
		return 0;
	dedup_free(&st->dd);
	err = pack_scan(st, dedup_cb, &st->dd);
	if (err) {
		nfm_err(st->log, "%s: the pack is damaged (nfm record --check): %s", st->dir,
			strerror(-err));
		return err;
	}
	st->dd_loaded = true;
	return 0;
}

static int write_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int pack_flush(struct nfm_store *st, bool sync)
{
	int err;

	if (st->wlen) {
		err = write_all(st->pack_fd, st->wbuf, st->wlen, st->wend - st->wlen);
		if (err)
			return err;
		st->wlen = 0;
	}
	if (sync && fdatasync(st->pack_fd) < 0)
		return -errno;
	return 0;
}

int pack_append(struct nfm_store *st, const void *page, uint64_t lo, uint64_t hi, uint64_t *off)
{
	struct pack_rec r = { .magic = PACK_MAGIC, .lo = lo, .hi = hi };
	size_t z;
	int err;

	if (!st->wbuf && !(st->wbuf = malloc(WBUF_SIZE)))
		return -ENOMEM;
	if (!st->cctx && !(st->cctx = ZSTD_createCCtx()))
		return -ENOMEM;
	if (st->wlen + sizeof(r) + NFM_PAGE > WBUF_SIZE) {
		err = pack_flush(st, false);
		if (err)
			return err;
	}
	z = ZSTD_compressCCtx(st->cctx, st->wbuf + st->wlen + sizeof(r), NFM_PAGE, page, NFM_PAGE,
			      ZSTD_LEVEL);
	if (ZSTD_isError(z) || z >= NFM_PAGE) {
		memcpy(st->wbuf + st->wlen + sizeof(r), page, NFM_PAGE);
		r.len = NFM_PAGE | PACK_RAW;
		z = NFM_PAGE;
	} else {
		r.len = (uint32_t)z;
	}
	memcpy(st->wbuf + st->wlen, &r, sizeof(r));
	*off = st->wend;
	st->wlen += sizeof(r) + z;
	st->wend += sizeof(r) + z;
	st->cur_new_bytes += sizeof(r) + z;
	return 0;
}
