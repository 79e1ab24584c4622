/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kallsyms decoded from guest memory: the compressed symbol tables the kernel keeps for
 * /proc/kallsyms (layout by scripts/kallsyms.c), read through a callback so that this code knows
 * nothing of address translation.
 */
#ifndef NFM_LIB_SYM_KALLSYMS_H
#define NFM_LIB_SYM_KALLSYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sym/kallsyms_tables.h"

struct nfm_kallsyms;

/* Hard bounds against a hostile guest. */
#define NFM_KALLSYMS_MAX_SYMS (4u << 20)
#define NFM_KALLSYMS_MAX_NAMES_BYTES (64u << 20)

/*
 * Read and decode the tables. names, num_syms, token_table, token_index and offsets or addresses
 * are required (else -EINVAL); relative_base is needed for the base-relative and absolute-percpu
 * encodings; markers is optional and, when given, checked against the names table (and used to
 * read it in one go). With the markers and the kernel's name-ordered index
 * (kallsyms_seqs_of_names), names are not decoded at load: lookups binary-search the index and
 * expand ~17 names each, symbolization expands one, and the first call that needs every name
 * (nfm_kallsyms_get(), or a table without that index) decodes them all, once. The address encoding is chosen as the one under which a symbol named
 * "_stext" resolves to stext (pass 0 to skip that check and take the first plausible one:
 * addresses -> absolute; offsets with relative_base -> absolute-percpu if any offset is
 * negative, else base-relative; offsets alone -> place-relative). Name lengths are read as the
 * 6.1+ one-or-two-byte form first and as the older one-byte form if that fails.
 * Returns 0, -EBADMSG for tables that do not decode (including tables that run into unmapped
 * memory after they started), -ENOENT when _stext is absent or matches no encoding, -EFAULT/-EIO
 * from read for tables that cannot be read at all, -ENOMEM. Caller frees with nfm_kallsyms_free().
 */
int nfm_kallsyms_load(nfm_read_kva_fn read, void *ud, const struct nfm_kallsyms_tables *t,
		      uint64_t stext, struct nfm_kallsyms **ret);

/*
 * nfm_kallsyms_load() that also finds a few names in its first pass over the table, before it
 * expands and indexes every name (the longer part), and calls found(ud, addrs) with their
 * addresses (0: absent; a name's first symbol in table order) as soon as the encoding is known,
 * so that the caller can start work that needs them. names: NULL-terminated, fewer than
 * NFM_KALLSYMS_EARLY_MAX. found runs at most once, on the caller's thread.
 */
#define NFM_KALLSYMS_EARLY_MAX 8
struct nfm_kallsyms_early {
	const char *const *names;
	void (*found)(void *ud, const uint64_t *addrs);
	void *ud;
};
int nfm_kallsyms_load_early(nfm_read_kva_fn read, void *ud, const struct nfm_kallsyms_tables *t,
			    uint64_t stext, const struct nfm_kallsyms_early *early,
			    struct nfm_kallsyms **ret);

/*
 * Parse a System.map (text "addr type name" lines, as nm writes them; lines up to 4096 bytes,
 * names up to 1024). Kernel-half addresses (bit 63 set) of non-absolute symbols are shifted by
 * kaslr_offset; absolute ('A') symbols and zero-based per-CPU offsets are not. The encoding
 * reported is NFM_KALLSYMS_ABSOLUTE. Returns 0, -errno from fopen, -EBADMSG for a malformed or
 * empty file, -EIO, -ENOMEM.
 */
int nfm_kallsyms_load_system_map(const char *path, uint64_t kaslr_offset, struct nfm_kallsyms **ret);

/*
 * Find the tables by their structure (kallsyms_locate.c) in the kernel image [lo, hi), for
 * kernels whose VMCOREINFO does not give them (before 6.0): the token table by its run of digit
 * tokens, then token index, markers, names, num_syms and the address table around it, each
 * checked against the others (layouts up to 6.1 and 6.4+). lo must be a kernel-image address
 * and the range at most NFM_KALLSYMS_LOCATE_MAX. Holes in the range are skipped; at most 256
 * digit runs are examined (an image full of decoys gives -ENOENT, in bounded time). Fills *ret
 * (seqs_of_names left 0) and returns 0, -ENOENT when nothing holds up, -EINVAL, -ENOMEM. The
 * caller still validates by decoding (nfm_kallsyms_load()) and looking known symbols up.
 */
#define NFM_KALLSYMS_LOCATE_MAX (256ull << 20)
int nfm_kallsyms_locate(nfm_read_kva_fn read, void *ud, uint64_t lo, uint64_t hi,
			struct nfm_kallsyms_tables *ret);

void nfm_kallsyms_free(struct nfm_kallsyms *ks);

size_t nfm_kallsyms_count(const struct nfm_kallsyms *ks);
enum nfm_kallsyms_encoding nfm_kallsyms_encoding(const struct nfm_kallsyms *ks);
/* True while lookups go through the kernel's name index and the names are not all decoded. */
bool nfm_kallsyms_lazy(const struct nfm_kallsyms *ks);

/* Address of the first symbol (in table order) named name: 0 or -ENOENT. O(1) or O(log n). */
int nfm_kallsyms_lookup(const struct nfm_kallsyms *ks, const char *name, uint64_t *addr);
/* The same, with its type letter; addr and type may be NULL. */
int nfm_kallsyms_find(const struct nfm_kallsyms *ks, const char *name, uint64_t *addr, char *type);

/*
 * The symbol containing addr (greatest start <= addr, the way /proc/kallsyms-based lookup does):
 * name and type owned by ks; *offset = addr - start. Of several symbols at that start, the first
 * in table order. Any out-parameter may be NULL. -ENOENT below the first symbol. O(log n).
 */
int nfm_kallsyms_symbolize(const struct nfm_kallsyms *ks, uint64_t addr, const char **name,
			   char *type, uint64_t *start, uint64_t *offset);

/*
 * The i-th symbol in table order (as /proc/kallsyms lists them): 0 or -ENOENT past the end.
 * Out-parameters may be NULL; name is owned by ks. The first call decodes every name, and a
 * lazily loaded table that only then proves corrupt gives -EBADMSG (or -ENOMEM).
 */
int nfm_kallsyms_get(const struct nfm_kallsyms *ks, size_t i, const char **name, char *type,
		     uint64_t *addr);

#endif
