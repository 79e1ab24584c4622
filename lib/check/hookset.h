/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The pieces of nfm_hooks() (include/nfm/check.h, hooks.c): who owns an address, the findings
 * being gathered (hookset.c), and one function per kind of hook (text.c, ftrace.c, idt.c).
 */
#ifndef NFM_LIB_CHECK_HOOKSET_H
#define NFM_LIB_CHECK_HOOKSET_H

#include <stddef.h>
#include <stdint.h>

#include <nfm/check.h>

#include "util/pack.h"

struct nfm_ctx;

struct owner_range {
	uint64_t lo, hi;	/* [lo, hi) */
	char name[56];		/* the module's name */
};

/* Who owns what: the kernel image, its text, and every listed module's memory. */
struct owner_map {
	uint64_t text_lo, text_hi;	/* _stext, _etext */
	uint64_t image_lo, image_hi;	/* _text, _end */
	struct owner_range *r;
	size_t n;
};

/* Build m from the kernel's symbols and module list (free m->r); 0 or -errno. */
int owner_map_build(struct nfm_ctx *ctx, struct owner_map *m);

/* The owner of addr; *module (optional) the module's name when NFM_OWNER_MODULE. */
enum nfm_owner owner_of(const struct owner_map *m, uint64_t addr, const char **module);

/* An ftrace trampoline ([lo, hi)) or a kprobe's address: what a patched fentry site may call. */
struct hook_known {
	uint64_t (*tramp)[2];
	size_t ntramp;
	uint64_t *probes;
	size_t nprobes;
};

/* A finding in one function's text, from text_scan(). */
struct text_finding {
	uint64_t site;		/* the instruction */
	uint64_t target;	/* its branch target (the site itself for int3) */
	const char *what;
	enum nfm_owner owner;
};

/*
 * Scans one function's bytes (code, len, at start): int3 as its first instruction (after an
 * endbr64) where no kprobe is, and every direct call/jmp/jcc out of the kernel's text except
 * the fentry call into an ftrace trampoline. Calls found(arg, finding) for each, and
 * branch(arg, target, kind) (optional) for every direct branch target outside the function.
 * Returns 0, or -EBADMSG when it stopped at bytes it could not decode (what came before was
 * scanned).
 */
int text_scan(const struct owner_map *m, const struct hook_known *k, const uint8_t *code,
	      size_t len, uint64_t start,
	      void (*found)(void *arg, const struct text_finding *f),
	      void (*branch)(void *arg, uint64_t target, int kind), void *arg);

struct hookset {
	struct nfm_ctx *ctx;
	struct nfm_pack pk;
	struct owner_map om;
	struct hook_known known;
	struct nfm_hook_stats st;
	size_t cap_tramp, cap_probes;
};

/* A new record with target's owner and symbol filled (site's symbol too); NULL on ENOMEM. */
struct nfm_hook *hook_add(struct hookset *h, enum nfm_hook_kind kind, const char *what,
			  uint64_t object, uint64_t site, uint64_t target);

int check_ftrace(struct hookset *h);
int check_kprobes(struct hookset *h);
int check_livepatch(struct hookset *h);
int check_text(struct hookset *h);
int check_idt(struct hookset *h);

#endif
