// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm info: what attach found and how. */
#include <inttypes.h>
#include <string.h>

#include "cli.h"
#include "jout.h"
#include "objects.h"

static int cmd_info(struct cli *cli, int argc, char **argv)
{
	struct nfm_kernel_info ki;
	uint64_t up = 0;
	int have_up, ret, c;

	while ((c = cli_getopt(cli, argc, argv, "", NULL)) != -1)
		return cli_opt_status(cli);
	if (optind < argc)
		return cli_usage_error(cli, "no arguments expected");
	if (cli_attach(cli))
		return 1;
	ret = nfm_ctx_kernel_info(cli->ctx, &ki);
	if (ret < 0)
		return cli_fail("cannot read the kernel's identity: %s", strerror(-ret));
	have_up = nfm_ctx_uptime_ns(cli->ctx, &up) == 0;
	if (cli->json) {
		struct json_object *doc = jdoc_new("info"), *k = obj_kernel(&ki);

		if (have_up)
			j_add(k, "uptime_ns", j_u64(up));
		j_add(k, "source", j_str(nfm_source_describe(cli->src)));
		j_add(doc, "kernel", k);
		return cli_print_json(cli, doc);
	}
	/* a record, one "Name: value" line each (not a table) */

	printf("Kernel:        %s %s %s\n", cli_esc(ki.sysname), cli_esc(ki.release), cli_esc(ki.version));
	printf("Banner:        %s\n", cli_esc(ki.banner));
	printf("Architecture:  %s, %d-level paging\n", cli_esc(ki.machine), ki.paging_levels);
	printf("Hostname:      %s\n", cli_esc(ki.nodename));
	printf("KASLR offset:  0x%" PRIx64 "\n", ki.kaslr_offset);
	printf("%s %s0x%" PRIx64 "\n", strcmp(ki.machine, "aarch64") ? "phys_base:    " : "PHYS_OFFSET:  ",
	       ki.phys_base < 0 ? "-" : "", (uint64_t)(ki.phys_base < 0 ? -ki.phys_base : ki.phys_base));
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
