// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm free: the guest's memory, as free(1) prints it (kB); -j with the /proc/meminfo names. */
#include <inttypes.h>
#include <string.h>

#include <nfm/system.h>

#include "cli.h"

int cmd_free(struct cli *cli, int argc, char **argv)
{
	struct nfm_meminfo mi;
	uint64_t bc, used;
	int ret;

	(void)argv;
	if (argc != 1)
		return cli_fail("usage: nfm free [-j]");
	if (cli_attach(cli))
		return 1;
	ret = nfm_meminfo(cli->ctx, &mi);
	if (ret < 0)
		return cli_fail("cannot read the guest's memory counters: %s",
				cli->last_error[0] ? cli->last_error : strerror(-ret));
	if (cli->json) {
		struct json_object *o = json_object_new_object();
#define ADD(k, v) json_object_object_add(o, k, json_object_new_int64((int64_t)(v)))
		ADD("MemTotal", mi.mem_total);
		ADD("MemFree", mi.mem_free);
		ADD("MemAvailable", mi.mem_available);
		ADD("Buffers", mi.buffers);
		ADD("Cached", mi.cached);
		ADD("SwapCached", mi.swap_cached);
		ADD("SwapTotal", mi.swap_total);
		ADD("SwapFree", mi.swap_free);
		ADD("Shmem", mi.shmem);
		ADD("SReclaimable", mi.slab_reclaimable);
		ADD("SUnreclaim", mi.slab_unreclaimable);
#undef ADD
		return cli_print_json(cli, o);
	}
	/* procps-ng: buff/cache = Buffers + Cached + SReclaimable; used = total - free - buff/cache */
	bc = mi.buffers + mi.cached + mi.slab_reclaimable;
	used = mi.mem_total > mi.mem_free + bc ? mi.mem_total - mi.mem_free - bc : 0;
	printf("%15s %11s %11s %11s %11s %11s\n", "total", "used", "free", "shared", "buff/cache",
	       "available");
	printf("Mem:    %11" PRIu64 " %11" PRIu64 " %11" PRIu64 " %11" PRIu64 " %11" PRIu64 " %11" PRIu64 "\n",
	       mi.mem_total, used, mi.mem_free, mi.shmem, bc, mi.mem_available);
	printf("Swap:   %11" PRIu64 " %11" PRIu64 " %11" PRIu64 "\n", mi.swap_total,
	       mi.swap_total - mi.swap_free, mi.swap_free);
	return 0;
}

const struct command command_free = {
	.name = "free",
	.summary = "the guest's memory (/proc/meminfo)",
	.usage = "[-j]",
	.run = cmd_free,
};
