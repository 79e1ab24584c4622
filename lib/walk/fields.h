/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Every walker's common include: table-driven BTF offset resolution and reading fields out of a
 * struct already read whole. (The per-context slot that keeps an area's resolved offsets is the
 * context's: core/slot.h, included here because every walker uses the two together.)
 *
 * Pattern for a walker: a struct of int32_t offsets, a static table of nfm_field_spec naming each
 * (type, member path), resolved once per attach into the area's slot on first use:
 *
 *	struct task_off { int32_t tasks, pid, comm; };
 *	static const struct nfm_field_spec task_specs[] = {
 *		NFM_FIELD(struct task_off, tasks, "task_struct", "tasks", 0),
 *		NFM_FIELD(struct task_off, state, "task_struct", "__state", NFM_FIELD_OPTIONAL),
 *	};
 *	off = nfm_kernel_slot(ctx, NFM_SLOT_TASK); if NULL: allocate, nfm_resolve_fields(), store.
 */
#ifndef NFM_LIB_WALK_FIELDS_H
#define NFM_LIB_WALK_FIELDS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/slot.h"

struct nfm_ctx;

#define NFM_FIELD_OPTIONAL 1u	/* missing member: offset -1, not an error */
#define NFM_FIELD_SIZE 2u	/* resolve sizeof(type) instead of a member (path ignored) */

struct nfm_field_spec {
	const char *type;	/* struct/union/typedef name */
	const char *path;	/* member path, dots for nesting: "se.sum_exec_runtime" */
	size_t out;		/* offsetof the int32_t in the caller's offsets struct */
	unsigned int flags;
};

#define NFM_FIELD(st, member, type, path, flags) { type, path, offsetof(st, member), flags }

/*
 * Resolve every spec into the int32_t at (char *)out + spec.out (-1 for a missing optional one).
 * Returns 0, or -ENOENT naming the first missing required member through the context's log.
 */
int nfm_resolve_fields(struct nfm_ctx *ctx, const struct nfm_field_spec *specs, size_t n, void *out);
/* The same in another BTF than the kernel's (a module's, nfm_module_btf()). */
struct nfm_btf;
int nfm_resolve_fields_in(struct nfm_ctx *ctx, const struct nfm_btf *btf,
			  const struct nfm_field_spec *specs, size_t n, void *out);

/* Fields of a struct already read into a buffer; off comes from BTF and was range-checked. */
static inline uint64_t nfm_get_u64(const void *buf, int32_t off)
{
	uint64_t v;

	memcpy(&v, (const char *)buf + off, sizeof(v));
	return v;
}

static inline uint32_t nfm_get_u32(const void *buf, int32_t off)
{
	uint32_t v;

	memcpy(&v, (const char *)buf + off, sizeof(v));
	return v;
}

static inline uint16_t nfm_get_u16(const void *buf, int32_t off)
{
	uint16_t v;

	memcpy(&v, (const char *)buf + off, sizeof(v));
	return v;
}

#endif
