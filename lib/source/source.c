// SPDX-License-Identifier: GPL-2.0-or-later
/* The generic part of a memory source: range lookup, split and batched reads, accessors. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "source/source.h"

static int range_cmp(const void *a, const void *b)
{
	const struct nfm_source_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int nfm_source_set_ranges(struct nfm_source *src, const struct nfm_source_range *ranges, size_t n)
{
	struct nfm_source_range *r;
	struct nfm_phys_range *pub;
	size_t i;

	if (!src || (n && !ranges) || n > INT_MAX)
		return -EINVAL;
	r = calloc(n ? n : 1, sizeof(*r));
	pub = calloc(n ? n : 1, sizeof(*pub));
	if (!r || !pub) {
		free(r);
		free(pub);
		return -ENOMEM;
	}
	if (n)
		memcpy(r, ranges, n * sizeof(*ranges));
	qsort(r, n, sizeof(*r), range_cmp);
	for (i = 0; i < n; i++) {
		/* Empty, wrapping or overlapping ranges would break the binary search. */
		if (!r[i].size || r[i].start + r[i].size < r[i].start ||
		    (i && r[i].start < r[i - 1].start + r[i - 1].size) ||
		    (src->map && (r[i].backing > src->map_size ||
				  r[i].size > src->map_size - r[i].backing))) {
			free(r);
			free(pub);
			return -EINVAL;
		}
		pub[i].start = r[i].start;
		pub[i].size = r[i].size;
	}
	free(src->ranges);
	free(src->public_ranges);
	src->ranges = r;
	src->public_ranges = pub;
	src->nr_ranges = n;
	return 0;
}

int nfm_source_init(struct nfm_source *src, const struct nfm_source_ops *ops,
		    const struct nfm_source_range *ranges, size_t n, const char *desc)
{
	int err;

	if (!src || !ops)
		return -EINVAL;
	src->ops = ops;
	err = nfm_source_set_ranges(src, ranges, n);
	if (err)
		return err;
	src->desc = strdup(desc ? desc : ops->kind);
	if (!src->desc) {
		free(src->ranges);
		free(src->public_ranges);
		src->ranges = NULL;
		src->public_ranges = NULL;
		src->nr_ranges = 0;
		return -ENOMEM;
	}
	return 0;
}

int nfm_source_settle(struct nfm_source *src)
{
	return src && src->ops && src->ops->settle ? src->ops->settle(src) : 0;
}

const struct nfm_source_range *nfm_source_find_range(const struct nfm_source *src, uint64_t pa)
{
	size_t lo = 0, hi = src->nr_ranges;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct nfm_source_range *r = &src->ranges[mid];

		if (pa < r->start)
			hi = mid;
		else if (pa - r->start >= r->size)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

static int read_backing(struct nfm_source *src, uint64_t off, void *buf, size_t len)
{
	if (src->map) {
		/* nfm_source_init checked every range against map_size. */
		memcpy(buf, src->map + off, len);
		return 0;
	}
	return src->ops->read_backing(src, off, buf, len);
}

/* Is [pa, pa + len) all RAM? */
static bool phys_covered(const struct nfm_source *src, uint64_t pa, size_t len)
{
	while (len) {
		const struct nfm_source_range *r = nfm_source_find_range(src, pa);
		uint64_t n;

		if (!r)
			return false;
		n = r->size - (pa - r->start);
		if (n >= len)
			return true;
		pa += n;
		len -= n;
	}
	return true;
}

int nfm_source_read_phys(struct nfm_source *src, uint64_t pa, void *buf, size_t len)
{
	uint8_t *p = buf;

	if (!src || (!buf && len))
		return -EINVAL;
	if (pa + len < pa && pa + len != 0)
		return -EFAULT;
	/* Check first so that a read partly outside RAM costs no I/O. */
	if (!phys_covered(src, pa, len))
		return -EFAULT;
	while (len) {
		const struct nfm_source_range *r = nfm_source_find_range(src, pa);
		uint64_t n = r->size - (pa - r->start);
		int err;

		if (n > len)
			n = len;
		err = read_backing(src, r->backing + (pa - r->start), p, n);
		if (err)
			return err;
		p += n;
		pa += n;
		len -= n;
	}
	return 0;
}

/* IOV_MAX: one process_vm_readv per batch. */
#define VEC_BATCH 1024

struct vec_batch {
	struct nfm_backing_iov iov[VEC_BATCH];
	struct nfm_phys_iov *owner[VEC_BATCH];
	size_t n;
};

static void batch_flush(struct nfm_source *src, struct vec_batch *b)
{
	size_t i;

	if (!b->n)
		return;
	if (src->ops->read_backing_vec(src, b->iov, b->n)) {
		/* Find which pieces failed. */
		for (i = 0; i < b->n; i++) {
			int err = src->ops->read_backing(src, b->iov[i].off, b->iov[i].buf,
							 b->iov[i].len);

			if (err && !b->owner[i]->err)
				b->owner[i]->err = err;
		}
	}
	b->n = 0;
}

int nfm_source_read_phys_vec(struct nfm_source *src, struct nfm_phys_iov *iov, size_t n)
{
	struct vec_batch *b = NULL;
	size_t i;
	int ret = 0;

	if (!src || (n && !iov))
		return -EINVAL;
	if (!src->map && src->ops->read_backing_vec && n > 1) {
		b = malloc(sizeof(*b));
		if (!b)
			return -ENOMEM;
		b->n = 0;
	}
	for (i = 0; i < n; i++) {
		struct nfm_phys_iov *v = &iov[i];
		uint64_t pa = v->pa;
		uint8_t *p = v->buf;
		size_t len = v->len;

		v->err = 0;
		if ((!p && len) || !phys_covered(src, pa, len) || (pa + len < pa && pa + len)) {
			v->err = p || !len ? -EFAULT : -EINVAL;
			continue;
		}
		while (len) {
			const struct nfm_source_range *r = nfm_source_find_range(src, pa);
			uint64_t k = r->size - (pa - r->start);
			uint64_t off;

			if (k > len)
				k = len;
			off = r->backing + (pa - r->start);
			if (b) {
				if (b->n == VEC_BATCH)
					batch_flush(src, b);
				b->iov[b->n].off = off;
				b->iov[b->n].buf = p;
				b->iov[b->n].len = k;
				b->owner[b->n] = v;
				b->n++;
			} else {
				int err = read_backing(src, off, p, k);

				if (err) {
					v->err = err;
					break;
				}
			}
			p += k;
			pa += k;
			len -= k;
		}
	}
	if (b) {
		batch_flush(src, b);
		free(b);
	}
	for (i = 0; i < n; i++)
		if (iov[i].err && !ret)
			ret = iov[i].err;
	return ret;
}

int nfm_source_vmcoreinfo(struct nfm_source *src, char **ret, size_t *len)
{
	if (!src || !ret || !len)
		return -EINVAL;
	if (!src->ops->vmcoreinfo)
		return -EOPNOTSUPP;
	return src->ops->vmcoreinfo(src, ret, len);
}

int nfm_source_cpu_state(struct nfm_source *src, unsigned int cpu, struct nfm_cpu_state *ret)
{
	if (!src || !ret)
		return -EINVAL;
	if (!src->ops->cpu_state)
		return -EOPNOTSUPP;
	return src->ops->cpu_state(src, cpu, ret);
}

int nfm_source_cpu_regs(struct nfm_source *src, struct nfm_cpu_state **ret, size_t *n)
{
	struct nfm_cpu_state *a = NULL, *tmp;
	size_t k = 0;
	int err;

	if (!src || !ret || !n)
		return -EINVAL;
	if (src->ops->cpu_regs)
		return src->ops->cpu_regs(src, ret, n);
	if (!src->ops->cpu_state)
		return -EOPNOTSUPP;
	for (;; k++) {
		if (k >= 8192) {
			free(a);
			return -E2BIG;
		}
		tmp = realloc(a, (k + 1) * sizeof(*a));
		if (!tmp) {
			free(a);
			return -ENOMEM;
		}
		a = tmp;
		err = src->ops->cpu_state(src, (unsigned int)k, &a[k]);
		if (err == -ENOENT)
			break;
		if (err < 0) {
			free(a);
			return err;
		}
	}
	if (!k) {
		free(a);
		return -ENOENT;
	}
	*ret = a;
	*n = k;
	return 0;
}

int nfm_source_resident(struct nfm_source *src, uint64_t pa, uint64_t npages, uint8_t *bitmap)
{
	uint64_t done = 0;

	if (!src || (npages && !bitmap) || (pa & 4095) || npages > (UINT64_MAX >> 12))
		return -EINVAL;
	if (!src->ops->resident)
		return -EOPNOTSUPP;
	memset(bitmap, 0, (npages + 7) / 8);
	while (done < npages) {
		uint64_t cur = pa + (done << 12);
		const struct nfm_source_range *r = nfm_source_find_range(src, cur);
		uint64_t k, j, pgoff;
		uint8_t *tmp;
		int err;

		if (!r) {
			done++;	/* not RAM: stays 0 */
			continue;
		}
		k = (r->size - (cur - r->start)) >> 12;
		if (!k) {
			done++;
			continue;
		}
		if (k > npages - done)
			k = npages - done;
		pgoff = r->backing + (cur - r->start);
		if (!(done & 7)) {
			err = src->ops->resident(src, pgoff, k, bitmap + done / 8);
			if (err)
				return err;
			/* The backend may have set bits past k in the last byte: clear them. */
			for (j = done + k; j < npages && (j & 7); j++)
				bitmap[j / 8] &= ~(1u << (j & 7));
		} else {
			tmp = calloc((k + 7) / 8, 1);
			if (!tmp)
				return -ENOMEM;
			err = src->ops->resident(src, pgoff, k, tmp);
			if (err) {
				free(tmp);
				return err;
			}
			for (j = 0; j < k; j++)
				if (tmp[j / 8] & (1u << (j & 7)))
					bitmap[(done + j) / 8] |= 1u << ((done + j) & 7);
			free(tmp);
		}
		done += k;
	}
	return 0;
}

int nfm_source_ranges(struct nfm_source *src, const struct nfm_phys_range **ranges)
{
	if (!src || !ranges)
		return -EINVAL;
	nfm_source_settle(src);
	*ranges = src->public_ranges;
	return (int)src->nr_ranges;
}

uint64_t nfm_source_ram_size(struct nfm_source *src)
{
	uint64_t sum = 0;
	size_t i;

	if (!src)
		return 0;
	for (i = 0; i < src->nr_ranges; i++)
		sum += src->ranges[i].size;
	return sum;
}

const char *nfm_source_describe(struct nfm_source *src)
{
	return src ? src->desc : NULL;
}

const char *nfm_source_kind(struct nfm_source *src)
{
	return src ? src->ops->kind : NULL;
}

bool nfm_source_is_live(struct nfm_source *src)
{
	return src && src->live;
}

int nfm_source_pid(struct nfm_source *src)
{
	return src ? src->pid : 0;
}

const char *nfm_source_vm_name(struct nfm_source *src)
{
	return src ? src->vm_name : NULL;
}

void nfm_source_free(struct nfm_source *src)
{
	if (!src)
		return;
	if (src->ops && src->ops->destroy)
		src->ops->destroy(src);
	free(src->ranges);
	free(src->public_ranges);
	free(src->vm_name);
	free(src->desc);
	free(src);
}
