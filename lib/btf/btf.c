// SPDX-License-Identifier: GPL-2.0-or-later
#include <bpf/btf.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "btf/btf.h"
#include "btf/btf_index.h"

/*
 * Kernel BTF parsed from guest memory is shared: a daemon watching fifty VMs of one kernel build
 * would otherwise hold fifty copies (5 MB of types and 1 MB of index each). A blob joins the
 * table when parsed and leaves it with its last reference; a new blob is shared only with one
 * whose bytes are the same (memcmp, not a hash or a version string: a hostile guest can forge
 * those, and its types would then be trusted by another guest's walks). Nothing changes a
 * parsed BTF but its lazily built indexes, which index_of() builds under a lock.
 */
static pthread_mutex_t share_lock = PTHREAD_MUTEX_INITIALIZER;
static struct nfm_btf *shared;		/* the table: a list through ->next */

static struct nfm_btf *share_find(const void *data, size_t size)
{
	for (struct nfm_btf *b = shared; b; b = b->next) {
		uint32_t n = 0;
		const void *raw = b->size == size ? btf__raw_data(b->btf, &n) : NULL;

		if (raw && n == size && memcmp(raw, data, size) == 0)
			return b;
	}
	return NULL;
}

int nfm_btf_new(const void *data, size_t size, struct nfm_btf **ret)
{
	struct nfm_btf *b;

	if (!data || size < 24 || size > NFM_BTF_MAX_BYTES)
		return -EBADMSG;
	pthread_mutex_lock(&share_lock);
	b = share_find(data, size);
	if (b)
		b->refs++;
	pthread_mutex_unlock(&share_lock);
	if (b) {
		*ret = b;
		return 0;
	}
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
	b->refs = 1;
	b->shared = true;
	pthread_mutex_lock(&share_lock);
	b->next = shared;
	shared = b;
	pthread_mutex_unlock(&share_lock);
	*ret = b;
	return 0;
}

int nfm_btf_new_file(const char *path, struct nfm_btf **ret)
{
	struct nfm_btf *b;

	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->btf = btf__parse(path, NULL);	/* a raw blob, or an ELF with .BTF */
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
	if (b->shared) {
		bool last;

		pthread_mutex_lock(&share_lock);
		last = --b->refs == 0;
		if (last)
			for (struct nfm_btf **p = &shared; *p; p = &(*p)->next)
				if (*p == b) {
					*p = b->next;
					break;
				}
		pthread_mutex_unlock(&share_lock);
		if (!last)
			return;
	}
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
 * The name index, built on first use. Lookups are const to callers; the index is a cache,
 * built once under a lock (a shared BTF is read by several contexts' threads).
 */
static const struct nfm_btf_index *index_of(const struct nfm_btf *b,
					    enum nfm_btf_index_part part)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct nfm_btf *m = (struct nfm_btf *)b;
	struct nfm_btf_index *ix = __atomic_load_n(&m->index[part], __ATOMIC_ACQUIRE);

	if (ix || __atomic_load_n(&m->index_err[part], __ATOMIC_ACQUIRE))
		return ix;
	pthread_mutex_lock(&lock);
	if (!m->index[part] && !m->index_err[part]) {
		int err = nfm_btf_index_build(m->btf, part, &ix);

		if (err)
			__atomic_store_n(&m->index_err[part], err, __ATOMIC_RELEASE);
		else
			__atomic_store_n(&m->index[part], ix, __ATOMIC_RELEASE);
	}
	ix = m->index[part];
	pthread_mutex_unlock(&lock);
	return ix;
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

int nfm_btf_new_split(const void *data, size_t size, const struct nfm_btf *base,
		      struct nfm_btf **ret)
{
	struct nfm_btf *b;
	char path[64];
	int fd;

	if (!data || !base || size < 24 || size > NFM_BTF_MAX_BYTES)
		return -EBADMSG;
	/* libbpf 1.1 (Debian 12) parses split BTF from a file only: an anonymous one */
	fd = memfd_create("nfm-module-btf", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (size_t off = 0; off < size;) {
		ssize_t w = write(fd, (const char *)data + off, size - off);

		if (w <= 0) {
			close(fd);
			return -EIO;
		}
		off += (size_t)w;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	b = calloc(1, sizeof(*b));
	if (!b) {
		close(fd);
		return -ENOMEM;
	}
	/* its type ids continue base's, whose types it can name */
	b->btf = btf__parse_raw_split(path, base->btf);
	close(fd);
	if (!b->btf) {
		free(b);
		return -EBADMSG;
	}
	b->size = size;
	*ret = b;
	return 0;
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
