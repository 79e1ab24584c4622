/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * VMCOREINFO: the KEY=VALUE text the kernel builds at boot for dump tools (kernel/vmcore_info.c,
 * kernel/crash_core.c before 6.9). SYMBOL() and KERNELOFFSET values are hex, NUMBER()/OFFSET()/
 * SIZE()/LENGTH() are decimal (NUMBER may be negative, e.g. phys_base).
 */
#ifndef NFM_LIB_SYM_VMCOREINFO_H
#define NFM_LIB_SYM_VMCOREINFO_H

#include <stddef.h>
#include <stdint.h>

/* Longest VMCOREINFO accepted: the kernel's VMCOREINFO_BYTES is one page. */
#define NFM_VMCOREINFO_MAX 4096

struct nfm_vmcoreinfo;

/*
 * Parse text (not necessarily NUL-terminated, at most NFM_VMCOREINFO_MAX bytes used; parsing stops
 * at the first NUL). Lines that are not KEY=VALUE are skipped (so are lines over 256 characters,
 * keys with blanks or control characters, and a last line cut by the length bound rather than
 * ended by '\n' or NUL). The first of duplicate keys wins. Returns -EBADMSG when there is no
 * OSRELEASE= line, -ENOMEM. The parser keeps its own copy of the text. Caller frees with
 * nfm_vmcoreinfo_free().
 */
int nfm_vmcoreinfo_parse(const char *text, size_t len, struct nfm_vmcoreinfo **ret);
void nfm_vmcoreinfo_free(struct nfm_vmcoreinfo *vi);

/* The i-th KEY=VALUE (in the text's order): 0, or -ENOENT past the last. Owned by vi. */
int nfm_vmcoreinfo_entry(const struct nfm_vmcoreinfo *vi, size_t i, const char **key,
			 const char **value);

/* The raw value of KEY (e.g. "OSRELEASE", "SYMBOL(init_uts_ns)"), or NULL. Owned by vi. */
const char *nfm_vmcoreinfo_get(const struct nfm_vmcoreinfo *vi, const char *key);

/*
 * SYMBOL(name)=hex ("%lx": 1-16 hex digits; a 0x prefix is tolerated). 0, -ENOENT if absent,
 * -EBADMSG if malformed. The integer getters below answer the same way.
 */
int nfm_vmcoreinfo_symbol(const struct nfm_vmcoreinfo *vi, const char *name, uint64_t *ret);
/*
 * NUMBER(name)=signed decimal ("%ld"); a 0x prefix means hex, as in NUMBER(VMALLOC_START)=0x...
 * (kernel/vmcore_info.c), stored as its 64-bit pattern. Out of int64 range: -EBADMSG.
 */
int nfm_vmcoreinfo_number(const struct nfm_vmcoreinfo *vi, const char *name, int64_t *ret);
/* OFFSET(struct.member), SIZE(name), LENGTH(name): decimal. */
int nfm_vmcoreinfo_offset(const struct nfm_vmcoreinfo *vi, const char *name, int64_t *ret);
int nfm_vmcoreinfo_size(const struct nfm_vmcoreinfo *vi, const char *name, int64_t *ret);
int nfm_vmcoreinfo_length(const struct nfm_vmcoreinfo *vi, const char *name, int64_t *ret);
/* KERNELOFFSET=hex (0 when the line is absent: a kernel without KASLR); -EBADMSG if malformed. */
int nfm_vmcoreinfo_kerneloffset(const struct nfm_vmcoreinfo *vi, uint64_t *ret);

/* The number of KEY=VALUE lines parsed. */
size_t nfm_vmcoreinfo_count(const struct nfm_vmcoreinfo *vi);

/*
 * Does this page-sized buffer start a VMCOREINFO copy? Recognises the ELF note form
 * ("VMCOREINFO\0" name at byte 12 of a note whose descriptor starts at byte 24) and the bare form
 * (page starts with "OSRELEASE="); the note form also needs n_namesz 11, n_type 0 and its text to
 * start with "OSRELEASE=". On a match returns 0 and stores where the text starts and its maximum
 * length (the note's n_descsz, clipped to the buffer and NFM_VMCOREINFO_MAX); -ENOENT otherwise.
 */
int nfm_vmcoreinfo_match(const uint8_t *page, size_t len, size_t *text_off, size_t *text_len);

#endif
