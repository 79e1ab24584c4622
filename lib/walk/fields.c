// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>

#include "core/context.h"
#include "walk/fields.h"

int nfm_resolve_fields(struct nfm_ctx *ctx, const struct nfm_field_spec *specs, size_t n, void *out)
{
	return nfm_resolve_fields_in(ctx, ctx->btf, specs, n, out);
}

int nfm_resolve_fields_in(struct nfm_ctx *ctx, const struct nfm_btf *btf,
			  const struct nfm_field_spec *specs, size_t n, void *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int32_t *dst = (int32_t *)((char *)out + specs[i].out);
		struct nfm_field f;
		uint32_t size;

		if (specs[i].flags & NFM_FIELD_SIZE) {
			if (nfm_btf_type_size(btf, specs[i].type, &size) == 0) {
				*dst = (int32_t)size;
				continue;
			}
		} else if (nfm_btf_field(btf, specs[i].type, specs[i].path, &f) == 0) {
			*dst = (int32_t)f.offset;
			continue;
		}
		*dst = -1;
		if (!(specs[i].flags & NFM_FIELD_OPTIONAL)) {
			nfm_err(&ctx->log, "this kernel has no %s%s%s in its BTF", specs[i].type,
				specs[i].flags & NFM_FIELD_SIZE ? "" : ".",
				specs[i].flags & NFM_FIELD_SIZE ? "" : specs[i].path);
			return -ENOENT;
		}
	}
	return 0;
}
