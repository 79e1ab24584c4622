/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Test-side generator of kallsyms tables in the kernel's format (scripts/kallsyms.c write_src()),
 * placed in a fake kernel memory image served by a read callback.
 */
#ifndef NFM_TESTS_KSGEN_H
#define NFM_TESTS_KSGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sym/kallsyms.h"

struct ksgen_sym {
	const char *name;
	char type;
	uint64_t addr;
	bool percpu;	/* zero-based per-CPU symbol: absolute under ABSOLUTE_PERCPU (type 'A') */
};

enum ksgen_layout {
	/* offsets, relative_base, num_syms, names, markers, seqs, token_table, token_index */
	KSGEN_LAYOUT_6_1,
	/* num_syms, names, markers, token_table, token_index, offsets, relative_base, seqs */
	KSGEN_LAYOUT_6_4,
	KSGEN_LAYOUT_NAMES_LAST,	/* everything else first, then names: for overrun tests */
};

struct ksgen_opts {
	enum nfm_kallsyms_encoding enc;
	enum ksgen_layout layout;
	bool short_lens;	/* pre-6.1 one-byte lengths */
	bool no_seqs;		/* no kallsyms_seqs_of_names (before 6.2 and early 6.1 stable) */
	uint64_t base_va;	/* where the image starts */
};

struct ksgen_image {
	uint8_t *mem;
	size_t size;
	uint64_t base_va;
	struct nfm_kallsyms_tables t;
	size_t names_len;
	uint64_t seqs;		/* kallsyms_seqs_of_names, 0 if none */
	/* Fault injection: reads touching [fail_lo, fail_hi) return fail_err. */
	uint64_t fail_lo, fail_hi;
	int fail_err;
	unsigned long reads;
};

/*
 * Build the image. syms need not be sorted; they are sorted by address the way the kernel sorts
 * them, and *order (if not NULL, caller frees) receives the resulting table order as indices into
 * syms. Returns 0 or -1 (a symbol that the encoding cannot represent).
 */
int ksgen_build(const struct ksgen_sym *syms, size_t n, const struct ksgen_opts *o,
		struct ksgen_image *img, size_t **order);
void ksgen_free(struct ksgen_image *img);
int ksgen_read(void *ud, uint64_t va, void *buf, size_t len);

/* Address of a table's byte in img->mem. */
static inline uint8_t *ksgen_at(struct ksgen_image *img, uint64_t va)
{
	return img->mem + (va - img->base_va);
}

#endif
