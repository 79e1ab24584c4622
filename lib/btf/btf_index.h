/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Name indexes over a BTF: libbpf finds a type by name by scanning every type (95,000 in a
 * Debian kernel), which made each field lookup cost a third of a millisecond, and `nfm top`
 * looked some up every frame. Built once, on first use; types and enumerators separately
 * (a command that looks up no enumerator does not pay for hashing 18,000 of them).
 */
#ifndef NFM_LIB_BTF_BTF_INDEX_H
#define NFM_LIB_BTF_BTF_INDEX_H

#include <stdint.h>

struct btf;
struct nfm_btf_index;

/* The kinds find_type() tries, in its order of preference. */
enum { NFM_BTF_RANK_STRUCT, NFM_BTF_RANK_UNION, NFM_BTF_RANK_TYPEDEF, NFM_BTF_RANK_INT,
       NFM_BTF_NR_RANKS };

enum nfm_btf_index_part { NFM_BTF_INDEX_TYPES, NFM_BTF_INDEX_ENUMS, NFM_BTF_INDEX_PARTS };

/* An index of one part: 0 and *ret, or -ENOMEM. */
int nfm_btf_index_build(const struct btf *btf, enum nfm_btf_index_part part,
			struct nfm_btf_index **ret);
void nfm_btf_index_free(struct nfm_btf_index *ix);

/* The first (lowest) type id of that rank's kind named name, or -ENOENT (part TYPES). */
int nfm_btf_index_type(const struct nfm_btf_index *ix, const struct btf *btf, const char *name,
		       int rank);

/* The value of the first enumerator named name (in type id order), 0 or -ENOENT (part ENUMS). */
int nfm_btf_index_enum(const struct nfm_btf_index *ix, const struct btf *btf, const char *name,
		       int64_t *val);

#endif
