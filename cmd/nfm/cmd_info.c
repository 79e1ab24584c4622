// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm info: what attach found and how. */
#include <inttypes.h>
#include <string.h>

#include "cli.h"

static struct json_object *info_json(struct cli *cli, const struct nfm_kernel_info *ki,
				     int have_uptime, uint64_t uptime_ns)
{
	struct json_object *o = json_object_new_object();
	char hex[32];

#define ADD(k, v) json_object_object_add(o, k, v)
#define HEX(k, v) (snprintf(hex, sizeof(hex), "0x%" PRIx64, (uint64_t)(v)), ADD(k, json_object_new_string(hex)))
	ADD("sysname", cli_json_bytes(ki->sysname, strlen(ki->sysname)));
	ADD("nodename", cli_json_bytes(ki->nodename, strlen(ki->nodename)));
	ADD("release", cli_json_bytes(ki->release, strlen(ki->release)));
	ADD("version", cli_json_bytes(ki->version, strlen(ki->version)));
	ADD("machine", cli_json_bytes(ki->machine, strlen(ki->machine)));
	ADD("banner", cli_json_bytes(ki->banner, strlen(ki->banner)));
	ADD("paging_levels", json_object_new_int(ki->paging_levels));
	HEX("kaslr_offset", ki->kaslr_offset);
	ADD("phys_base", json_object_new_int64(ki->phys_base));
	HEX("page_offset", ki->page_offset);
	HEX("kernel_pgd", ki->kernel_pgd);
	HEX("vmcoreinfo_pa", ki->vmcoreinfo_pa);
	ADD("cpus_online", json_object_new_int((int)ki->nr_cpus_online));
	ADD("cpus_possible", json_object_new_int((int)ki->nr_cpus_possible));
	ADD("mem_total_kb", json_object_new_int64((int64_t)(ki->mem_total / 1024)));
	ADD("ram_bytes", json_object_new_int64((int64_t)ki->ram_size));
	if (have_uptime)
		ADD("uptime_s", json_object_new_double(uptime_ns / 1e9));
	ADD("symbols", json_object_new_int64((int64_t)ki->nr_symbols));
	ADD("btf_types", json_object_new_int64((int64_t)ki->nr_btf_types));
	ADD("vmcoreinfo_from", json_object_new_string(ki->vmcoreinfo_how));
	ADD("symbols_from", json_object_new_string(ki->symbols_how));
	ADD("btf_from", json_object_new_string(ki->btf_how));
	ADD("source", json_object_new_string(cli_esc(nfm_source_describe(cli->src))));
	ADD("attach_ms", json_object_new_double(ki->attach_ms));
#undef HEX
#undef ADD
	return o;
}

int cmd_info(struct cli *cli, int argc, char **argv)
{
	struct nfm_kernel_info ki;
	uint64_t up = 0;
	int have_up, ret;

	(void)argv;
	if (argc != 1)
		return cli_fail("usage: nfm info [-j]");
	if (cli_attach(cli))
		return 1;
	ret = nfm_ctx_kernel_info(cli->ctx, &ki);
	if (ret < 0)
		return cli_fail("cannot read the kernel's identity: %s", strerror(-ret));
	have_up = nfm_ctx_uptime_ns(cli->ctx, &up) == 0;
	if (cli->json)
		return cli_print_json(cli, info_json(cli, &ki, have_up, up));

	printf("Kernel:        %s %s %s\n", cli_esc(ki.sysname), cli_esc(ki.release), cli_esc(ki.version));
	printf("Banner:        %s\n", cli_esc(ki.banner));
	printf("Architecture:  %s, %d-level paging\n", cli_esc(ki.machine), ki.paging_levels);
	printf("Hostname:      %s\n", cli_esc(ki.nodename));
	printf("KASLR offset:  0x%" PRIx64 "\n", ki.kaslr_offset);
	printf("phys_base:     %s0x%" PRIx64 "\n", ki.phys_base < 0 ? "-" : "",
	       (uint64_t)(ki.phys_base < 0 ? -ki.phys_base : ki.phys_base));
	printf("Direct map:    0x%" PRIx64 "\n", ki.page_offset);
	printf("Kernel PGD:    0x%" PRIx64 " (physical)\n", ki.kernel_pgd);
	printf("CPUs:          %u online, %u possible\n", ki.nr_cpus_online, ki.nr_cpus_possible);
	printf("Memory:        %" PRIu64 " kB MemTotal, %" PRIu64 " MiB guest RAM\n",
	       ki.mem_total / 1024, ki.ram_size >> 20);
	if (have_up)
		printf("Uptime:        %.2f s\n", up / 1e9);
	printf("Symbols:       %" PRIu64 " from %s\n", ki.nr_symbols, ki.symbols_how);
	printf("BTF types:     %" PRIu64 " from %s\n", ki.nr_btf_types, ki.btf_how);
	printf("VMCOREINFO:    %s\n", ki.vmcoreinfo_how);
	printf("Source:        %s\n", cli_esc(nfm_source_describe(cli->src)));
	printf("Attach time:   %.1f ms\n", ki.attach_ms);
	return 0;
}

const struct command command_info = {
	.name = "info",
	.summary = "what attach found: kernel, KASLR, paging, CPUs, memory, uptime",
	.usage = "[-j]",
	.run = cmd_info,
};
