/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Building the one-block arrays of include/nfm/system.h: records grow in one buffer and strings in
 * another; string fields hold offsets until nfm_pack_finish() lays both out in a single allocation
 * and turns the offsets into pointers, so the caller frees everything with one free().
 */
#ifndef NFM_LIB_UTIL_PACK_H
#define NFM_LIB_UTIL_PACK_H

#include <stddef.h>

struct nfm_pack {
	char *recs;
	size_t n, cap, recsize;
	char *strs;
	size_t slen, scap;
	int err;		/* sticky -ENOMEM */
};

void nfm_pack_init(struct nfm_pack *p, size_t recsize);
/* A new zeroed record, or NULL (out of memory; p->err set). */
void *nfm_pack_add(struct nfm_pack *p);
/* Drop the last record (a torn entry). */
void nfm_pack_drop(struct nfm_pack *p);
/* Store len bytes (NUL added) and return the value for a const char * field, NULL on ENOMEM. */
const char *nfm_pack_str(struct nfm_pack *p, const void *s, size_t len);
/*
 * Lay out records then strings in one block; fields lists the offsetof() of each const char *
 * member to fix up. Returns the record count (and *ret) or -ENOMEM. Frees p's buffers either way.
 */
int nfm_pack_finish(struct nfm_pack *p, const size_t *fields, size_t nfields, void **ret);
void nfm_pack_free(struct nfm_pack *p);

#endif
