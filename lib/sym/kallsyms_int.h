/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kallsyms decoder's own state, shared by its files:
 *   kallsyms.c        reads the tables, picks the address encoding, the full decode and index;
 *   kallsyms_lazy.c   name lookups and symbolization through kallsyms_seqs_of_names, before
 *                     (often instead of) the full decode;
 *   kallsyms_tables.c one address under each encoding;
 *   system_map.c      the same struct filled from a System.map file.
 */
#ifndef NFM_LIB_SYM_KALLSYMS_INT_H
#define NFM_LIB_SYM_KALLSYMS_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "sym/kallsyms_tables.h"

/* The kernel's KSYM_NAME_LEN is 512 since 6.1 (128 before); twice that is surely not a kernel. */
#define KS_NAME_MAX 1024

struct ks_tokens {
	const char *str[256];
	uint16_t len[256];
};

struct nfm_kallsyms {
	size_t num;		/* symbols in the table */
	enum nfm_kallsyms_encoding enc;

	/*
	 * The full decode: every name expanded and indexed by name and address. Built at load
	 * when the table cannot be used lazily, else on the first call that needs it; `full` is
	 * set (release) once all of it is complete.
	 */
	bool full;
	size_t count;		/* names decoded so far */
	/* Symbol i: type at arena[name_off[i] - 1], NUL-terminated name at arena + name_off[i]. */
	char *arena;
	size_t arena_len, arena_cap;
	uint32_t *name_off;
	uint64_t *addrs;
	size_t cap;		/* capacity of name_off and addrs */
	uint32_t *by_addr;	/* table indices sorted by address; NULL if table order is sorted */
	/*
	 * Name hash, open addressing: hash << 32 | (index + 1), 0 = empty. The hash in the slot
	 * spares a cache miss per probe.
	 */
	uint64_t *slots;
	size_t nslots;
	uint32_t *hashes;	/* while loading: each name's hash, taken as it is expanded */

	/* The guest's tables as read, kept while lookups are lazy (NULL for a System.map). */
	uint8_t *names;
	size_t names_len;
	uint8_t *token_table;
	struct ks_tokens tok;
	uint8_t *markers;	/* names offset of every 256th symbol, validated against names */
	uint8_t *tab;		/* offsets or addresses, as in the guest */
	uint64_t tab_va, base;
	uint8_t *seqs;		/* kallsyms_seqs_of_names: 3-byte table indices in name order */
	uint32_t *entry_pos;	/* where each symbol's entry starts in names (lazy mode) */
	bool interned;		/* names, tab, seqs and entry_pos are shared (util/intern.h) */
	/* names expanded by lazy symbolization: open addressing, symbol index + 1 -> its entry
	 * (a few hundred of 100,000 symbols are ever asked for: no array for all of them) */
	uint32_t *lazy_key;
	char **lazy_val;
	size_t lazy_cap, lazy_n;
	pthread_mutex_t lock;	/* guards the full decode and lazy_names */
};

static inline uint32_t ks_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline bool ks_full(const struct nfm_kallsyms *ks)
{
	return __atomic_load_n(&ks->full, __ATOMIC_ACQUIRE);
}

/* Address of symbol i under ks->enc, from the raw table. */
static inline uint64_t ks_sym_address(const struct nfm_kallsyms *ks, uint32_t i)
{
	return ks_address(ks->enc, ks->tab, ks->tab_va, ks->base, i);
}

struct nfm_kallsyms *ks_new(void);
/* Build the full decode from the kept tables (idempotent, thread-safe): 0 or -errno. */
int ks_materialize(struct nfm_kallsyms *ks);
/* Index structures of the full decode, once names and addresses are in. */
int ks_finish(struct nfm_kallsyms *ks);
int ks_syms_reserve(struct nfm_kallsyms *ks, size_t n);
int ks_arena_reserve(struct nfm_kallsyms *ks, size_t extra);
uint32_t ks_name_hash_n(const char *s, size_t n);

/*
 * Lazy lookups (kallsyms_lazy.c), on tables whose entries were all checked against the markers
 * (two-byte lengths) and located (entry_pos). ks_lazy_open() finds and validates the name-ordered index
 * (t->seqs_of_names, or where the layout puts it) and keeps it in ks->seqs: 0, -ENOMEM, or
 * -ENOENT when there is none that holds up (the caller decodes everything instead).
 */
int ks_lazy_open(struct nfm_kallsyms *ks, nfm_read_kva_fn read, void *ud,
		 const struct nfm_kallsyms_tables *t);
/* Table indices of the symbols named name, in table order: how many (at most max) were stored. */
size_t ks_lazy_find(const struct nfm_kallsyms *ks, const char *name, uint32_t *idx, size_t max);
/* Symbol i's expanded entry (type character, then name) into buf: its length, 0 if corrupt. */
size_t ks_lazy_expand(const struct nfm_kallsyms *ks, uint32_t i, char buf[KS_NAME_MAX + 1]);
/* Symbol i's entry as above, kept in ks until it is freed: NULL on failure. */
const char *ks_lazy_entry(struct nfm_kallsyms *ks, uint32_t i);
/* Table index of the symbol containing addr (first alias), by the sorted raw addresses: 0 or -ENOENT. */
int ks_lazy_symbolize(const struct nfm_kallsyms *ks, uint64_t addr, uint32_t *i);

#endif
