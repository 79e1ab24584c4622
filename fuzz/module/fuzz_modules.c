// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The module list (lib/module/modules.c) as nfm_module_list reads it: the `modules` ring, each
 * struct module's name, state, layouts, taints, refcount and its users (source_list).
 */
#include <nfm/system.h>

#include "../common/btfguest.h"

static void seed(struct fz_seed *s)
{
	uint32_t head = fz_sym_pa("modules"), lo = fz_off("module", "list");
	uint32_t m[3] = { FZ_OBJ, FZ_OBJ + 0x400, FZ_OBJ + 0x800 }, ring[4] = { head };
	uint32_t use = FZ_OBJ + 0xc00, sl = fz_off("module", "source_list");
	const char *names[3] = { "virtio_net", "ext4", "nfm_faultmod" };
	int i;

	for (i = 0; i < 3; i++) {
		ring[i + 1] = m[i] + lo;
		fz_putstr(s, m[i] + fz_off("module", "name"), names[i]);
		fz_put32(s, m[i] + fz_off("module", "refcnt"), 2);
		fz_put64(s, m[i] + fz_off("module", "core_layout") + fz_off("module_layout", "base"),
			 0xffffffffc0000000ull + 0x10000u * (unsigned)i);
		fz_put32(s, m[i] + fz_off("module", "core_layout") + fz_off("module_layout", "size"),
			 0x3000);
		fz_put64(s, m[i] + fz_off("module", "taints"), i == 2 ? 0x3000 : 0);
		fz_putlist(s, m[i] + sl, m[i] + sl, m[i] + sl);
	}
	fz_ring(s, ring, 4);
	/* ext4 uses virtio_net: a module_use on ext4's source_list naming virtio_net */
	fz_putlist(s, m[1] + sl, use + fz_off("module_use", "source_list"),
		   use + fz_off("module_use", "source_list"));
	fz_putlist(s, use + fz_off("module_use", "source_list"), m[1] + sl, m[1] + sl);
	fz_put64(s, use + fz_off("module_use", "source"), FZ_KV(m[0]));
}

FZ_SEED_INIT(seed)

FZ_LIST_TARGET(nfm_module_list, struct nfm_module, "modules")
