// SPDX-License-Identifier: GPL-2.0-or-later
#include <bpf/btf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "btf/btf_index.h"

struct type_entry {
	uint32_t hash, name_off;	/* name_off 0: empty */
	int32_t ids[NFM_BTF_NR_RANKS];
};

struct enum_entry {
	uint32_t hash, name_off;
	int32_t val;
};

struct nfm_btf_index {
	struct type_entry *types;
	struct enum_entry *enums;
	uint32_t types_mask, enums_mask;
};

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

static int rank_of(const struct btf_type *t)
{
	switch (btf_kind(t)) {
	case BTF_KIND_STRUCT: return NFM_BTF_RANK_STRUCT;
	case BTF_KIND_UNION: return NFM_BTF_RANK_UNION;
	case BTF_KIND_TYPEDEF: return NFM_BTF_RANK_TYPEDEF;
	case BTF_KIND_INT: return NFM_BTF_RANK_INT;
	default: return -1;
	}
}

/* A power of two at least twice n (load factor at most one half). */
static uint32_t table_size(uint32_t n)
{
	uint32_t size = 64;

	while (size < 2 * n)
		size *= 2;
	return size;
}

/* The slot of name in a table of entries whose first two fields are hash and name_off. */
#define FIND_SLOT(table, mask, btf, name, h, i)                                               \
	for (i = (h) & (mask); (table)[i].name_off &&                                        \
	     ((table)[i].hash != (h) ||                                                      \
	      strcmp(btf__name_by_offset(btf, (table)[i].name_off), name));                  \
	     i = (i + 1) & (mask))

int nfm_btf_index_build(const struct btf *btf, struct nfm_btf_index **ret)
{
	uint32_t n = btf__type_cnt(btf), ntypes = 0, nenums = 0, id, i;
	struct nfm_btf_index *ix = calloc(1, sizeof(*ix));

	if (!ix)
		return -ENOMEM;
	for (id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);

		if (rank_of(t) >= 0 && t->name_off)
			ntypes++;
		else if (btf_is_enum(t))
			nenums += btf_vlen(t);
	}
	ix->types_mask = table_size(ntypes) - 1;
	ix->enums_mask = table_size(nenums) - 1;
	ix->types = calloc(ix->types_mask + 1, sizeof(*ix->types));
	ix->enums = calloc(ix->enums_mask + 1, sizeof(*ix->enums));
	if (!ix->types || !ix->enums) {
		nfm_btf_index_free(ix);
		return -ENOMEM;
	}
	for (id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		int rank = rank_of(t);

		if (rank >= 0 && t->name_off) {
			const char *name = btf__name_by_offset(btf, t->name_off);
			uint32_t h;

			if (!name || !*name)
				continue;
			h = hash_str(name);
			FIND_SLOT(ix->types, ix->types_mask, btf, name, h, i);
			if (!ix->types[i].name_off) {
				ix->types[i].hash = h;
				ix->types[i].name_off = t->name_off;
			}
			if (!ix->types[i].ids[rank])	/* the first of a kind, as libbpf finds it */
				ix->types[i].ids[rank] = (int32_t)id;
		} else if (btf_is_enum(t)) {
			const struct btf_enum *e = btf_enum(t);

			for (int k = 0; k < btf_vlen(t); k++, e++) {
				const char *name = btf__name_by_offset(btf, e->name_off);
				uint32_t h;

				if (!name || !*name)
					continue;
				h = hash_str(name);
				FIND_SLOT(ix->enums, ix->enums_mask, btf, name, h, i);
				if (ix->enums[i].name_off)
					continue;	/* the first enumerator of a name wins */
				ix->enums[i].hash = h;
				ix->enums[i].name_off = e->name_off;
				ix->enums[i].val = e->val;
			}
		}
	}
	*ret = ix;
	return 0;
}

void nfm_btf_index_free(struct nfm_btf_index *ix)
{
	if (!ix)
		return;
	free(ix->types);
	free(ix->enums);
	free(ix);
}

int nfm_btf_index_type(const struct nfm_btf_index *ix, const struct btf *btf, const char *name,
		       int rank)
{
	uint32_t h = hash_str(name), i;

	if (rank < 0 || rank >= NFM_BTF_NR_RANKS)
		return -ENOENT;
	FIND_SLOT(ix->types, ix->types_mask, btf, name, h, i);
	return ix->types[i].name_off && ix->types[i].ids[rank] ? ix->types[i].ids[rank] : -ENOENT;
}

int nfm_btf_index_enum(const struct nfm_btf_index *ix, const struct btf *btf, const char *name,
		       int64_t *val)
{
	uint32_t h = hash_str(name), i;

	FIND_SLOT(ix->enums, ix->enums_mask, btf, name, h, i);
	if (!ix->enums[i].name_off)
		return -ENOENT;
	*val = ix->enums[i].val;
	return 0;
}
