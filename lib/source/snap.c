// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A recorded snapshot as a memory source: "snap:DIR@WHEN" (WHEN as nfm_store_resolve() takes it:
 * an id, "latest", "-5m", a time; "snap:DIR" is the latest). Backing offset N is byte N of the
 * guest RAM ranges laid end to end, page N / 4096 of the snapshot's index.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "history/store.h"
#include "source/source.h"
#include "util/log.h"

#define CACHE 64

struct snap {
	/*
	 * Reads come from more than one thread (attach parses BTF on a second one): the page
	 * cache below and the store's one zstd context are shared, so reads are serialised.
	 */
	pthread_mutex_t lock;
	struct nfm_store *st;
	uint64_t *idx, n;
	uint64_t vmcoreinfo_pa;
	uint64_t tag[CACHE];	/* page number + 1 */
	uint8_t *cache;
};

static int snap_read_locked(struct snap *s, uint64_t off, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		uint64_t pg = off / NFM_PAGE, in = off % NFM_PAGE;
		size_t k = NFM_PAGE - in < len ? NFM_PAGE - in : len;
		unsigned int slot = (unsigned int)(pg % CACHE);
		uint8_t *page = s->cache + (size_t)slot * NFM_PAGE;

		if (pg >= s->n)
			return -EIO;
		if (!s->idx[pg]) {
			memset(p, 0, k);
		} else {
			if (s->tag[slot] != pg + 1) {
				if (nfm_store_read_page(s->st, s->idx[pg], page)) {
					s->tag[slot] = 0;
					return -EIO;
				}
				s->tag[slot] = pg + 1;
			}
			memcpy(p, page + in, k);
		}
		p += k;
		off += k;
		len -= k;
	}
	return 0;
}

static int snap_read(struct nfm_source *src, uint64_t off, void *buf, size_t len)
{
	struct snap *s = src->priv;
	int err;

	pthread_mutex_lock(&s->lock);
	err = snap_read_locked(s, off, buf, len);
	pthread_mutex_unlock(&s->lock);
	return err;
}

/* The VMCOREINFO text in the page the recorder was told about (an attach hint). */
static int snap_vmcoreinfo(struct nfm_source *src, char **ret, size_t *len)
{
	struct snap *s = src->priv;
	char page[NFM_PAGE + 1], *t, *e;

	if (!s->vmcoreinfo_pa)
		return -ENOENT;
	if (nfm_source_read_phys(src, s->vmcoreinfo_pa & ~(uint64_t)(NFM_PAGE - 1), page,
				 NFM_PAGE))
		return -ENOENT;
	page[NFM_PAGE] = '\0';
	t = memmem(page, NFM_PAGE, "OSRELEASE=", 10);
	if (!t)
		return -ENOENT;
	e = t + strlen(t);
	*ret = strndup(t, (size_t)(e - t));
	if (!*ret)
		return -ENOMEM;
	*len = (size_t)(e - t);
	return 0;
}

static void snap_destroy(struct nfm_source *src)
{
	struct snap *s = src->priv;

	if (!s)
		return;
	nfm_store_close(s->st);
	pthread_mutex_destroy(&s->lock);
	free(s->idx);
	free(s->cache);
	free(s);
}

static const struct nfm_source_ops snap_ops = {
	.kind = "snapshot",
	.read_backing = snap_read,
	.vmcoreinfo = snap_vmcoreinfo,
	.destroy = snap_destroy,
};

static int parse_ranges(const char *text, struct nfm_source_range **ret, size_t *nret)
{
	struct nfm_source_range *r = NULL, *tmp;
	uint64_t backing = 0;
	const char *p = text;
	size_t n = 0;

	while (*p) {
		unsigned long long a, b;
		int used;

		if (sscanf(p, "%llx:%llx%n", &a, &b, &used) != 2) {
			free(r);
			return -EBADMSG;
		}
		tmp = realloc(r, (n + 1) * sizeof(*r));
		if (!tmp) {
			free(r);
			return -ENOMEM;
		}
		r = tmp;
		r[n].start = a;
		r[n].size = b / NFM_PAGE * NFM_PAGE;
		r[n].backing = backing;
		backing += r[n].size;
		n++;
		p += used;
		if (*p == ',')
			p++;
	}
	*ret = r;
	*nret = n;
	return 0;
}

int nfm_source_open_snap(const char *spec, const struct nfm_log *log, struct nfm_source **ret)
{
	struct nfm_snapshot_info in;
	struct nfm_source_range *r = NULL;
	struct nfm_source *src = NULL;
	struct snap *s = NULL;
	const char *at = strrchr(spec, '@');
	char *dir = strndup(spec, at ? (size_t)(at - spec) : strlen(spec)), *ranges = NULL;
	char desc[512];
	struct timespec ts;
	size_t nr = 0;
	int err;

	if (!dir)
		return -ENOMEM;
	s = calloc(1, sizeof(*s));
	src = calloc(1, sizeof(*src));
	if (!s || !src || !(s->cache = malloc((size_t)CACHE * NFM_PAGE))) {
		if (s)
			free(s->cache);
		free(s);
		s = NULL;
		err = -ENOMEM;
		goto fail;
	}
	pthread_mutex_init(&s->lock, NULL);
	err = nfm_store_open(dir, 0, log, &s->st);
	if (err)
		goto fail;
	clock_gettime(CLOCK_REALTIME, &ts);
	err = nfm_store_resolve(s->st, at ? at + 1 : "latest",
				(int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec, &in);
	if (err) {
		if (err == -ENOENT)
			nfm_err(log, "%s: no snapshot %s %s", dir, at && at[1] != '-' &&
				strspn(at + 1, "0123456789#") != strlen(at + 1) ? "at or before" :
				"named", at ? at + 1 : "at all");
		else
			nfm_err(log, "\"%s\" is not a snapshot id or time (an id, latest, -5m, "
				"\"YYYY-MM-DD HH:MM:SS\", @EPOCH)", at ? at + 1 : "");
		goto fail;
	}
	err = nfm_store_get(s->st, in.id, &in, &ranges);
	if (!err)
		err = nfm_store_load_index(s->st, in.id, &s->idx, &s->n);
	if (!err)
		err = parse_ranges(ranges, &r, &nr);
	if (err) {
		nfm_err(log, "%s: snapshot %lld cannot be read: %s (nfm record --check)", dir,
			(long long)in.id, strerror(-err));
		goto fail;
	}
	s->vmcoreinfo_pa = in.vmcoreinfo_pa;
	src->priv = s;
	snprintf(desc, sizeof(desc), "snapshot %lld of %s in %s", (long long)in.id, in.vm, dir);
	err = nfm_source_init(src, &snap_ops, r, nr, desc);
	if (err)
		goto fail;
	if (in.vm[0])
		src->vm_name = strdup(in.vm);
	free(r);
	free(ranges);
	free(dir);
	*ret = src;
	return 0;
fail:
	free(r);
	free(ranges);
	free(dir);
	if (src && src->priv) {
		src->priv = NULL;
	}
	free(src);
	if (s) {
		nfm_store_close(s->st);
		pthread_mutex_destroy(&s->lock);
		free(s->idx);
		free(s->cache);
		free(s);
	}
	return err;
}
