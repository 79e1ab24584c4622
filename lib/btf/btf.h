/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Kernel types from the guest's own BTF (the .BTF section the kernel keeps in memory between
 * __start_BTF and __stop_BTF), parsed by libbpf. Walkers resolve the member offsets they need once
 * per attach into plain tables; nothing here is on a hot path.
 */
#ifndef NFM_LIB_BTF_BTF_H
#define NFM_LIB_BTF_BTF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct btf;

/* The largest BTF blob accepted (Debian's kernels carry 5-6 MiB). */
#define NFM_BTF_MAX_BYTES (64u << 20)

/* Where a member lives inside its outermost struct. */
struct nfm_field {
	uint32_t offset;	/* byte offset of the member (of its storage unit for bitfields) */
	uint32_t size;		/* byte size of the member's type (0 for bitfields) */
	uint8_t bit_offset;	/* bitfields: bit offset within the byte at offset */
	uint8_t bit_size;	/* bitfields: width in bits, 0 for ordinary members */
};

struct nfm_btf_index;

struct nfm_btf {
	struct btf *btf;
	size_t size;		/* bytes of the raw blob */
	/* names -> ids, types and enumerators, each built on its first lookup (btf_index.c) */
	struct nfm_btf_index *index[2];
	int index_err[2];		/* building it failed: scan as libbpf does */
	/* parsed from a blob: shared by every context whose blob is the same (btf.c) */
	bool shared;
	unsigned int refs;
	struct nfm_btf *next;
};

/* Parse a BTF blob (copied), or take a reference to the same blob parsed before (nfm_btf_free
 * drops it). 0, -EBADMSG for a blob libbpf rejects. */
int nfm_btf_new(const void *data, size_t size, struct nfm_btf **ret);
/* Parse a module's split BTF (types numbered on from base's, which must outlive it); not
 * shared. 0, -EBADMSG. */
int nfm_btf_new_split(const void *data, size_t size, const struct nfm_btf *base,
		      struct nfm_btf **ret);
/* Parse a BTF file (vmlinux BTF as in /sys/kernel/btf/vmlinux). */
int nfm_btf_new_file(const char *path, struct nfm_btf **ret);
/* Take ownership of a libbpf BTF object (tests build synthetic types with btf__add_struct()). */
int nfm_btf_wrap(struct btf *btf, struct nfm_btf **ret);
void nfm_btf_free(struct nfm_btf *b);

/* Number of types. */
unsigned int nfm_btf_type_count(const struct nfm_btf *b);

/* Byte size of a struct, union or typedef by name. 0, -ENOENT. */
int nfm_btf_type_size(const struct nfm_btf *b, const char *name, uint32_t *size);

/*
 * Find member path (dot-separated, e.g. "se.sum_exec_runtime" or "mm_mt.ma_root") in struct or
 * union type_name, looking through anonymous struct/union members the way C does.
 * 0, -ENOENT when the type or any member of the path does not exist.
 */
int nfm_btf_field(const struct nfm_btf *b, const char *type_name, const char *path,
		  struct nfm_field *ret);

/*
 * The value of a member (an ordinary one of up to 8 bytes, or a bit field) in raw, a
 * little-endian copy of size bytes of its struct: zero-extended; bytes past size read as 0.
 */
static inline uint64_t nfm_btf_field_value(const uint8_t *raw, uint32_t size,
					   const struct nfm_field *f)
{
	uint64_t v = 0;
	unsigned int nbytes = f->bit_size ? (f->bit_offset + f->bit_size + 7u) / 8u : f->size;

	for (unsigned int i = 0; i < nbytes && i < 8 && f->offset + i < size; i++)
		v |= (uint64_t)raw[f->offset + i] << (8 * i);
	if (!f->bit_size)
		return v;
	v >>= f->bit_offset;
	return f->bit_size >= 64 ? v : v & ((1ull << f->bit_size) - 1);
}

/* Does the member exist? (for "field present since kernel X" decisions) */
int nfm_btf_has_field(const struct nfm_btf *b, const char *type_name, const char *path);

/* Value of an enumerator (e.g. "TCP_ESTABLISHED"), searching every enum. 0, -ENOENT. */
int nfm_btf_enum_value(const struct nfm_btf *b, const char *name, int64_t *ret);

#endif
