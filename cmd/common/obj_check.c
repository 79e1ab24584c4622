// SPDX-License-Identifier: GPL-2.0-or-later
/* The hooks nfm check finds on current kernels as JSON (doc/schema/hook.json). */
#include <nfm/check.h>

#include "objects.h"

#define A(k, v) j_add(o, k, v)

/* An address, or null for 0 (none). */
static struct json_object *addr_or_null(uint64_t v)
{
	return v ? j_addr(v) : NULL;
}

struct json_object *obj_hook(const struct nfm_hook *h)
{
	struct json_object *o = json_object_new_object();

	A("kind", json_object_new_string(nfm_hook_kind_name(h->kind)));
	A("ok", j_bool(h->ok));
	A("what", j_str(h->what));
	A("object", addr_or_null(h->object));
	A("site", addr_or_null(h->site));
	A("site_symbol", j_str(h->site_symbol));
	A("site_offset_bytes", j_u64(h->site_offset));
	A("nr_sites", j_int(h->nr_sites));
	A("vector", h->kind == NFM_HOOK_IDT ? j_int(h->vector) : NULL);
	A("target", addr_or_null(h->target));
	A("owner", json_object_new_string(nfm_owner_name(h->owner)));
	A("symbol", j_str(h->symbol));
	A("offset_bytes", j_u64(h->offset));
	A("module", j_str(h->module));
	return o;
}
