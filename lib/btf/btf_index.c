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

#define PREFETCH 8

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

/* Named types of an indexed kind (part TYPES), or enumerators (part ENUMS), of type t. */
static uint32_t count_part(const struct btf_type *t, enum nfm_btf_index_part part)
{
	if (part == NFM_BTF_INDEX_TYPES)
		return rank_of(t) >= 0 && t->name_off;
	return btf_is_enum(t) ? btf_vlen(t) : 0;
}

static void insert_type(struct nfm_btf_index *ix, const struct btf *btf, const char *name,
			uint32_t name_off, int rank, uint32_t id)
{
	uint32_t h = hash_str(name), i;

	FIND_SLOT(ix->types, ix->types_mask, btf, name, h, i);
	if (!ix->types[i].name_off) {
		ix->types[i].hash = h;
		ix->types[i].name_off = name_off;
	}
	if (!ix->types[i].ids[rank])	/* the first of a kind, as libbpf finds it */
		ix->types[i].ids[rank] = (int32_t)id;
}

static void insert_enum(struct nfm_btf_index *ix, const struct btf *btf, const char *name,
			uint32_t name_off, int32_t val)
{
	uint32_t h = hash_str(name), i;

	FIND_SLOT(ix->enums, ix->enums_mask, btf, name, h, i);
	if (ix->enums[i].name_off)
		return;		/* the first enumerator of a name wins */
	ix->enums[i].hash = h;
	ix->enums[i].name_off = name_off;
	ix->enums[i].val = val;
}

int nfm_btf_index_build(const struct btf *btf, enum nfm_btf_index_part part,
			struct nfm_btf_index **ret)
{
	uint32_t n = btf__type_cnt(btf), count = 0, id;
	struct nfm_btf_index *ix = calloc(1, sizeof(*ix));
	const char *strs = btf__str_by_offset(btf, 0);

	if (!ix)
		return -ENOMEM;
	for (id = 1; id < n; id++)
		count += count_part(btf__type_by_id(btf, id), part);
	if (part == NFM_BTF_INDEX_TYPES) {
		ix->types_mask = table_size(count) - 1;
		ix->types = calloc(ix->types_mask + 1, sizeof(*ix->types));
	} else {
		ix->enums_mask = table_size(count) - 1;
		ix->enums = calloc(ix->enums_mask + 1, sizeof(*ix->enums));
	}
	if (!ix->types && !ix->enums) {
		nfm_btf_index_free(ix);
		return -ENOMEM;
	}
	for (id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);

		/* The names are scattered over megabytes of strings: fetch them ahead. */
		if (part == NFM_BTF_INDEX_TYPES && id + PREFETCH < n)
			__builtin_prefetch(strs + btf__type_by_id(btf, id + PREFETCH)->name_off);
		if (!count_part(t, part))
			continue;
		if (part == NFM_BTF_INDEX_TYPES) {
			const char *name = btf__name_by_offset(btf, t->name_off);

			if (name && *name)
				insert_type(ix, btf, name, t->name_off, rank_of(t), id);
			continue;
		}
		for (int k = 0; k < btf_vlen(t); k++) {
			const struct btf_enum *e = btf_enum(t) + k;
			const char *name = btf__name_by_offset(btf, e->name_off);

			if (k + PREFETCH < btf_vlen(t))
				__builtin_prefetch(strs + e[PREFETCH].name_off);
			if (name && *name)
				insert_enum(ix, btf, name, e->name_off, e->val);
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
	if (!ix->types)
		return -ENOENT;
	FIND_SLOT(ix->types, ix->types_mask, btf, name, h, i);
	return ix->types[i].name_off && ix->types[i].ids[rank] ? ix->types[i].ids[rank] : -ENOENT;
}

int nfm_btf_index_enum(const struct nfm_btf_index *ix, const struct btf *btf, const char *name,
		       int64_t *val)
{
	uint32_t h = hash_str(name), i;

	if (!ix->enums)
		return -ENOENT;
	FIND_SLOT(ix->enums, ix->enums_mask, btf, name, h, i);
	if (!ix->enums[i].name_off)
		return -ENOENT;
	*val = ix->enums[i].val;
	return 0;
}
