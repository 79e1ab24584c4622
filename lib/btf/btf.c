// SPDX-License-Identifier: GPL-2.0-or-later
#include <bpf/btf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "btf/btf.h"
#include "btf/btf_index.h"

int nfm_btf_new(const void *data, size_t size, struct nfm_btf **ret)
{
	struct nfm_btf *b;

	if (!data || size < 24 || size > NFM_BTF_MAX_BYTES)
		return -EBADMSG;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	/* libbpf keeps its own copy of the raw data. */
	b->btf = btf__new(data, size);
	if (!b->btf) {
		free(b);
		return -EBADMSG;
	}
	b->size = size;
	*ret = b;
	return 0;
}

int nfm_btf_new_file(const char *path, struct nfm_btf **ret)
{
	struct nfm_btf *b;

	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->btf = btf__parse_raw(path);
	if (!b->btf) {
		int err = errno ? -errno : -EBADMSG;

		free(b);
		return err == -ENOENT || err == -EACCES ? err : -EBADMSG;
	}
	*ret = b;
	return 0;
}

void nfm_btf_free(struct nfm_btf *b)
{
	if (!b)
		return;
	btf__free(b->btf);
	nfm_btf_index_free(b->index[0]);
	nfm_btf_index_free(b->index[1]);
	free(b);
}

unsigned int nfm_btf_type_count(const struct nfm_btf *b)
{
	return btf__type_cnt(b->btf) - 1;
}

/*
 * The name index, built on first use. Lookups are const to callers; the index is a cache (a
 * context, and so its BTF, is used by one thread at a time).
 */
static const struct nfm_btf_index *index_of(const struct nfm_btf *b,
					    enum nfm_btf_index_part part)
{
	struct nfm_btf *m = (struct nfm_btf *)b;

	if (!m->index[part] && !m->index_err[part])
		m->index_err[part] = nfm_btf_index_build(m->btf, part, &m->index[part]);
	return m->index[part];
}

/* A struct/union/typedef/int by name, typedefs and qualifiers resolved. */
static int find_type(const struct nfm_btf *b, const char *name, const struct btf_type **t)
{
	static const int kinds[] = { BTF_KIND_STRUCT, BTF_KIND_UNION, BTF_KIND_TYPEDEF,
				     BTF_KIND_INT };
	const struct nfm_btf_index *ix = index_of(b, NFM_BTF_INDEX_TYPES);
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		int id = ix ? nfm_btf_index_type(ix, b->btf, name, (int)i) :
			      btf__find_by_name_kind(b->btf, name, kinds[i]);

		if (id > 0) {
			id = btf__resolve_type(b->btf, id);
			if (id < 0)
				return -ENOENT;
			*t = btf__type_by_id(b->btf, id);
			return id;
		}
	}
	return -ENOENT;
}

int nfm_btf_type_size(const struct nfm_btf *b, const char *name, uint32_t *size)
{
	const struct btf_type *t;
	int id = find_type(b, name, &t);
	long long sz;

	if (id < 0)
		return id;
	sz = btf__resolve_size(b->btf, id);
	if (sz < 0)
		return -ENOENT;
	*size = (uint32_t)sz;
	return 0;
}

/*
 * Search one level of members of struct/union type id for name, descending into anonymous
 * members. On success *member_type is the member's type id, *bit_off its bit offset and
 * *bitfield_size its width (0 if not a bitfield).
 */
static int find_member(const struct btf *btf, int id, const char *name, int depth,
		       int *member_type, uint64_t *bit_off, uint32_t *bitfield_size)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	const struct btf_member *m;
	int i, n;

	if (!t || depth > 8 || (!btf_is_struct(t) && !btf_is_union(t)))
		return -ENOENT;
	m = btf_members(t);
	n = btf_vlen(t);
	for (i = 0; i < n; i++, m++) {
		const char *mname = btf__name_by_offset(btf, m->name_off);
		uint64_t off = btf_member_bit_offset(t, i);

		if (mname && *mname) {
			if (strcmp(mname, name))
				continue;
			*member_type = m->type;
			*bit_off = off;
			*bitfield_size = btf_member_bitfield_size(t, i);
			return 0;
		}
		/* Anonymous struct or union: its members belong to this level. */
		{
			int sub = btf__resolve_type(btf, m->type);

			if (sub > 0 && find_member(btf, sub, name, depth + 1, member_type, bit_off,
						   bitfield_size) == 0) {
				*bit_off += off;
				return 0;
			}
		}
	}
	return -ENOENT;
}

int nfm_btf_field(const struct nfm_btf *b, const char *type_name, const char *path,
		  struct nfm_field *ret)
{
	const struct btf_type *t;
	char part[128];
	uint64_t total = 0;
	uint32_t bits = 0;
	int id = find_type(b, type_name, &t);
	const char *p = path;

	if (id < 0)
		return id;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		int mtype;
		uint64_t off;

		if (len == 0 || len >= sizeof(part))
			return -EINVAL;
		memcpy(part, p, len);
		part[len] = 0;
		if (find_member(b->btf, id, part, 0, &mtype, &off, &bits) < 0)
			return -ENOENT;
		total += off;
		id = btf__resolve_type(b->btf, mtype);
		if (id < 0)
			return -ENOENT;
		p = dot ? dot + 1 : p + len;
	}
	if (bits) {
		ret->offset = (uint32_t)(total / 8);
		ret->bit_offset = total % 8;
		ret->bit_size = (uint8_t)bits;
		ret->size = 0;
	} else {
		long long sz = btf__resolve_size(b->btf, id);

		ret->offset = (uint32_t)(total / 8);
		ret->bit_offset = 0;
		ret->bit_size = 0;
		ret->size = sz > 0 ? (uint32_t)sz : 0;
	}
	return 0;
}

int nfm_btf_has_field(const struct nfm_btf *b, const char *type_name, const char *path)
{
	struct nfm_field f;

	return nfm_btf_field(b, type_name, path, &f) == 0;
}

int nfm_btf_enum_value(const struct nfm_btf *b, const char *name, int64_t *ret)
{
	const struct nfm_btf_index *ix = index_of(b, NFM_BTF_INDEX_ENUMS);
	unsigned int id, n = btf__type_cnt(b->btf);

	if (ix)
		return nfm_btf_index_enum(ix, b->btf, name, ret);
	for (id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(b->btf, id);
		int i, vlen;

		if (!btf_is_enum(t))
			continue;
		vlen = btf_vlen(t);
		for (i = 0; i < vlen; i++) {
			const struct btf_enum *e = btf_enum(t) + i;

			if (!strcmp(btf__name_by_offset(b->btf, e->name_off), name)) {
				*ret = e->val;
				return 0;
			}
		}
	}
	return -ENOENT;
}

int nfm_btf_wrap(struct btf *btf, struct nfm_btf **ret)
{
	struct nfm_btf *b = calloc(1, sizeof(*b));

	if (!b)
		return -ENOMEM;
	b->btf = btf;
	*ret = b;
	return 0;
}
