// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kdump-compressed dumps (the "KDUMP   "/"DISKDUMP" formats of makedumpfile and of QEMU's
 * dump-guest-memory -z/-l/-s), read through libkdumpfile: pages compressed one by one with zlib,
 * lzo or snappy, a bitmap of the pages the file holds, and the VMCOREINFO in its header.
 *
 * The flattened form ("makedumpfile" header: what makedumpfile -F and QEMU before 8.2 write, a
 * stream of [offset, size, bytes] records) is reassembled first into an anonymous memory file, as
 * makedumpfile -R would, and that is handed to libkdumpfile.
 *
 * The memory ranges are the runs of the file's page bitmap ("file.pagemap"): a page makedumpfile
 * filtered out (-d) is not in any range, so reading it is an error, never zeros. Every read goes
 * through kdump_read(): libkdumpfile checks each page descriptor's offset and size against the
 * file and the decompressed size against the page size. A libkdumpfile context is not safe for
 * concurrent use: reads are serialised.
 */
#include <errno.h>
#include <fcntl.h>
#include <endian.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libkdumpfile/kdumpfile.h>

#include "source/dump.h"
#include "util/log.h"

#define MAX_RANGES 65536	/* runs of the page bitmap: far more than any machine's RAM map */
#define FLAT_HEADER 4096	/* makedumpfile's MAX_SIZE_MDF_HEADER */
#define FLAT_MAX_RECORDS (1u << 24)

struct kd_priv {
	kdump_ctx_t *kd;
	int fd;
	pthread_mutex_t lock;
};

static int kd_read(struct nfm_source *src, uint64_t off, void *buf, size_t len)
{
	struct kd_priv *p = src->priv;
	size_t n = len;
	kdump_status st;

	pthread_mutex_lock(&p->lock);
	/* machine addresses: the kernel-physical space would need a translation libkdumpfile
	 * builds only from a VMCOREINFO, which QEMU's dumps may lack; on x86-64 they are one */
	st = kdump_read(p->kd, KDUMP_MACHPHYSADDR, off, buf, &n);
	pthread_mutex_unlock(&p->lock);
	return st == KDUMP_OK && n == len ? 0 : -EIO;
}

static int kd_vmcoreinfo(struct nfm_source *src, char **ret, size_t *len)
{
	struct kd_priv *p = src->priv;
	const char *s = NULL;
	kdump_status st;

	pthread_mutex_lock(&p->lock);
	st = kdump_get_string_attr(p->kd, "linux.vmcoreinfo.raw", &s);
	if (st == KDUMP_OK && s)
		*ret = strdup(s);
	pthread_mutex_unlock(&p->lock);
	if (st != KDUMP_OK || !s)
		return -ENOENT;
	if (!*ret)
		return -ENOMEM;
	*len = strlen(*ret);
	return 0;
}

static int kd_resident(struct nfm_source *src, uint64_t off, uint64_t npages, uint8_t *bitmap)
{
	(void)src;
	(void)off;
	/* the ranges are exactly the pages the file holds */
	for (uint64_t i = 0; i < npages; i++)
		bitmap[i / 8] |= 1u << (i & 7);
	return 0;
}

static void kd_destroy(struct nfm_source *src)
{
	struct kd_priv *p = src->priv;

	if (!p)
		return;
	kdump_free(p->kd);
	close(p->fd);
	pthread_mutex_destroy(&p->lock);
	free(p);
	src->priv = NULL;
}

static const struct nfm_source_ops kdump_ops = {
	.kind = "kdump",
	.read_backing = kd_read,
	.vmcoreinfo = kd_vmcoreinfo,
	.resident = kd_resident,
	.destroy = kd_destroy,
};

static int copy_range(int in, uint64_t from, int out, uint64_t to, uint64_t n)
{
	static char buf[1 << 16];

	while (n) {
		size_t k = n < sizeof(buf) ? (size_t)n : sizeof(buf);
		ssize_t r = pread(in, buf, k, (off_t)from);

		if (r <= 0)
			return -EBADMSG;	/* the stream ends inside a record */
		if (pwrite(out, buf, (size_t)r, (off_t)to) != r)
			return -errno ? -errno : -EIO;
		from += (uint64_t)r;
		to += (uint64_t)r;
		n -= (uint64_t)r;
	}
	return 0;
}

/*
 * The flattened stream in fd, written out at its records' offsets into a new memory file; *ret is
 * its fd. The reassembled file is at most as large as the stream (its records' bytes, each stored
 * once): a record reaching past that is malformed, so a hostile stream cannot make it larger.
 */
static int unflatten(int fd, int *ret)
{
	struct stat st;
	uint64_t pos = FLAT_HEADER, limit;
	unsigned int nrec = 0;
	int out, err = 0;

	if (fstat(fd, &st) < 0)
		return -errno;
	limit = (uint64_t)st.st_size;
	out = memfd_create("nfm-kdump", MFD_CLOEXEC);
	if (out < 0)
		return -errno;
	for (;;) {
		int64_t h[2];
		uint64_t off, size;

		if (pread(fd, h, sizeof(h), (off_t)pos) != (ssize_t)sizeof(h)) {
			err = -EBADMSG;	/* no end record */
			break;
		}
		if (h[0] == -1 && h[1] == -1)
			break;	/* END_FLAG_FLAT_HEADER */
		off = be64toh((uint64_t)h[0]);
		size = be64toh((uint64_t)h[1]);
		pos += sizeof(h);
		if (++nrec > FLAT_MAX_RECORDS || off > limit || size > limit - off ||
		    size > limit - pos) {
			err = -EBADMSG;
			break;
		}
		err = copy_range(fd, pos, out, off, size);
		if (err)
			break;
		pos += size;
	}
	if (err) {
		close(out);
		return err;
	}
	*ret = out;
	return 0;
}

/* The runs of set bits of the file's page bitmap, as ranges backed at their own address. */
static int page_ranges(kdump_ctx_t *kd, uint64_t page_size, struct nfm_source_range **ret,
		       size_t *n)
{
	struct nfm_source_range *r = NULL;
	size_t cnt = 0, cap = 0;
	kdump_attr_t attr;
	kdump_addr_t idx = 0;
	int err = 0;

	/* no reference is taken: the bitmap lives as long as kd and nothing else touches it */
	attr.type = KDUMP_BITMAP;
	if (kdump_get_typed_attr(kd, KDUMP_ATTR_FILE_PAGEMAP, &attr) != KDUMP_OK)
		return -EBADMSG;
	while (kdump_bmp_find_set(attr.val.bitmap, &idx) == KDUMP_OK) {
		kdump_addr_t start = idx;

		if (kdump_bmp_find_clear(attr.val.bitmap, &idx) != KDUMP_OK || idx <= start) {
			err = -EBADMSG;	/* a bitmap without an end */
			break;
		}
		if (start > UINT64_MAX / page_size || idx > UINT64_MAX / page_size) {
			err = -EBADMSG;
			break;
		}
		if (cnt == MAX_RANGES) {
			err = -E2BIG;
			break;
		}
		if (cnt == cap) {
			struct nfm_source_range *nr;

			cap = cap ? cap * 2 : 16;
			nr = realloc(r, cap * sizeof(*r));
			if (!nr) {
				err = -ENOMEM;
				break;
			}
			r = nr;
		}
		r[cnt].start = r[cnt].backing = start * page_size;
		r[cnt].size = (idx - start) * page_size;
		cnt++;
	}
	if (!err && !cnt)
		err = -EBADMSG;
	if (err) {
		free(r);
		return err;
	}
	*ret = r;
	*n = cnt;
	return 0;
}

int nfm_source_open_kdump(const char *path, bool flattened, const struct nfm_log *log,
			  struct nfm_source **ret)
{
	struct nfm_source_range *ranges = NULL;
	struct nfm_source *src = NULL;
	struct kd_priv *p;
	kdump_num_t page_size;
	size_t n = 0;
	char *desc = NULL;
	int err;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	p->fd = open(path, O_RDONLY | O_CLOEXEC);
	p->kd = kdump_new();
	if (p->fd < 0 || !p->kd) {
		err = p->fd < 0 ? -errno : -ENOMEM;
		nfm_err(log, "%s: cannot open: %s", path, strerror(-err));
		goto fail;
	}
	if (flattened) {
		int fd = -1;

		err = unflatten(p->fd, &fd);
		if (err) {
			nfm_err(log, "%s: corrupt flattened kdump dump: %s", path,
				err == -EBADMSG ? "a record out of bounds or no end record" :
				strerror(-err));
			goto fail;
		}
		close(p->fd);
		p->fd = fd;
	}
	if (kdump_open_fd(p->kd, p->fd) != KDUMP_OK) {
		nfm_err(log, "%s: corrupt kdump-compressed dump: %s", path, kdump_get_err(p->kd));
		/*
		 * libkdumpfile 0.5 frees part of a context whose open failed and frees it again in
		 * kdump_free() (a use after free seen under valgrind on a bare "KDUMP" header):
		 * leaking the context of a failed open, once, is the safe choice.
		 */
		p->kd = NULL;
		err = -EBADMSG;
		goto fail;
	}
	if (kdump_get_number_attr(p->kd, KDUMP_ATTR_PAGE_SIZE, &page_size) != KDUMP_OK ||
	    page_size != 4096) {
		nfm_err(log, "%s: a kdump-compressed dump with pages of other than 4 KiB (not x86-64)",
			path);
		err = -EOPNOTSUPP;
		goto fail;
	}
	err = page_ranges(p->kd, page_size, &ranges, &n);
	if (err) {
		nfm_err(log, "%s: corrupt kdump-compressed dump (its page bitmap%s)", path,
			err == -E2BIG ? " has too many runs" : " is unreadable");
		goto fail;
	}
	src = calloc(1, sizeof(*src));
	if (!src || asprintf(&desc, "kdump-compressed dump %s%s", path,
			     flattened ? " (flattened)" : "") < 0) {
		desc = NULL;
		err = -ENOMEM;
		goto fail;
	}
	src->priv = p;
	err = nfm_source_init(src, &kdump_ops, ranges, n, desc);
	free(desc);
	free(ranges);
	if (err) {
		nfm_err(log, "%s: corrupt dump (bad memory ranges)", path);
		free(src);
		src = NULL;
		ranges = NULL;
		goto fail;
	}
	*ret = src;
	return 0;
fail:
	free(ranges);
	free(src);
	if (p->kd)
		kdump_free(p->kd);
	if (p->fd >= 0)
		close(p->fd);
	pthread_mutex_destroy(&p->lock);
	free(p);
	return err;
}
