// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/pack.h"

void nfm_pack_init(struct nfm_pack *p, size_t recsize)
{
	*p = (struct nfm_pack){ .recsize = recsize };
}

void *nfm_pack_add(struct nfm_pack *p)
{
	if (p->err)
		return NULL;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		char *r = realloc(p->recs, cap * p->recsize);

		if (!r) {
			p->err = -ENOMEM;
			return NULL;
		}
		p->recs = r;
		p->cap = cap;
	}
	memset(p->recs + p->n * p->recsize, 0, p->recsize);
	return p->recs + p->n++ * p->recsize;
}

void nfm_pack_drop(struct nfm_pack *p)
{
	if (p->n)
		p->n--;
}

const char *nfm_pack_str(struct nfm_pack *p, const void *s, size_t len)
{
	size_t off;

	if (p->err)
		return NULL;
	if (p->slen + len + 1 > p->scap) {
		size_t cap = p->scap ? p->scap : 1024;
		char *n;

		while (cap < p->slen + len + 1)
			cap *= 2;
		n = realloc(p->strs, cap);
		if (!n) {
			p->err = -ENOMEM;
			return NULL;
		}
		p->strs = n;
		p->scap = cap;
	}
	off = p->slen;
	memcpy(p->strs + off, s, len);
	p->strs[off + len] = 0;
	p->slen += len + 1;
	/* An offset + 1 until nfm_pack_finish (0 stays NULL). */
	return (const char *)(uintptr_t)(off + 1);
}

int nfm_pack_finish(struct nfm_pack *p, const size_t *fields, size_t nfields, void **ret)
{
	size_t rb = p->n * p->recsize, i, f;
	char *blk;
	int n = (int)p->n;

	if (p->err) {
		nfm_pack_free(p);
		return -ENOMEM;
	}
	blk = malloc(rb + p->slen + 1);
	if (!blk) {
		nfm_pack_free(p);
		return -ENOMEM;
	}
	if (rb)
		memcpy(blk, p->recs, rb);
	if (p->slen)
		memcpy(blk + rb, p->strs, p->slen);
	for (i = 0; i < p->n; i++)
		for (f = 0; f < nfields; f++) {
			const char **s = (const char **)(blk + i * p->recsize + fields[f]);
			uintptr_t v = (uintptr_t)*s;

			*s = v ? blk + rb + (v - 1) : NULL;
		}
	nfm_pack_free(p);
	*ret = blk;
	return n;
}

void nfm_pack_free(struct nfm_pack *p)
{
	free(p->recs);
	free(p->strs);
	p->recs = p->strs = NULL;
	p->n = p->cap = p->slen = p->scap = 0;
}
