// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm cpuinfo: the guest's online CPUs, in /proc/cpuinfo's words. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/system.h>

#include "cli.h"
#include "jout.h"
#include "objects.h"

/* A guest string (x86_cap_flags names) escaped for the terminal; "" when absent. */
static void put_guest(const char *label, const char *s)
{
	size_t len = s ? strlen(s) : 0;
	char *buf = malloc(len * 4 + 1);

	printf("%s%s\n", label, buf ? cli_escape(s ? s : "", len, buf, len * 4 + 1) : "");
	free(buf);
}

/*
 * arm64's records (arch/arm64/kernel/cpuinfo.c c_show, a 64-bit reader). A line the guest's
 * tables do not give is left out and said, and the view is partial (exit 3).
 */
static int cpuinfo_arm64(struct cli *cli)
{
	struct nfm_cpuinfo_arm64 *cs;
	bool no_bogo, no_feat;
	int n, i;

	n = nfm_cpuinfo_arm64_list(cli->ctx, &cs);
	if (n < 0)
		return cli_fail("cannot read the guest's CPUs: %s",
				cli->last_error[0] ? cli->last_error : strerror(-n));
	/* BogoMIPS and Features are system-wide: every CPU has both or none */
	no_bogo = n && cs[0].bogomips_centi < 0;
	no_feat = n && !cs[0].features;
	if (no_bogo)
		cli_warn("no BogoMIPS lines: loops_per_jiffy or HZ (tick_nsec, jiffies) not found");
	if (no_feat)
		cli_warn("no Features lines: elf_hwcap or hwcap_str not found or not readable");
	if (cli->json) {
		struct json_object *doc = jdoc_new("cpuinfo"), *a = json_object_new_array();

		for (i = 0; i < n; i++)
			json_object_array_add(a, obj_cpuinfo_arm64(&cs[i]));
		j_add(doc, "cpus", a);
		if (no_bogo)
			jdoc_error(doc, "bogomips", -ENOENT, "loops_per_jiffy or HZ not found");
		if (no_feat)
			jdoc_error(doc, "features", -ENOENT, "elf_hwcap or hwcap_str not found or not readable");
		free(cs);
		return cli_print_json(cli, doc) ?: no_bogo || no_feat ? EXIT_PARTIAL : 0;
	}
	for (i = 0; i < n; i++) {
		const struct nfm_cpuinfo_arm64 *c = &cs[i];
		uint32_t m = c->midr;

		printf("processor\t: %u\n", c->cpu);
		if (c->bogomips_centi >= 0)
			printf("BogoMIPS\t: %" PRId64 ".%02" PRId64 "\n", c->bogomips_centi / 100,
			       c->bogomips_centi % 100);
		if (c->features)
			put_guest("Features\t: ", c->features);
		printf("CPU implementer\t: 0x%02x\nCPU architecture: 8\nCPU variant\t: 0x%x\n"
		       "CPU part\t: 0x%03x\nCPU revision\t: %u\n\n", m >> 24, m >> 20 & 0xf,
		       m >> 4 & 0xfff, m & 0xf);
	}
	free(cs);
	return no_bogo || no_feat ? EXIT_PARTIAL : 0;
}

static int cmd_cpuinfo(struct cli *cli, int argc, char **argv)
{
	struct nfm_cpuinfo *cs;
	struct nfm_kernel_info ki;
	int n, i, opt;

	while ((opt = cli_getopt(cli, argc, argv, "", NULL)) != -1)
		return cli_opt_status(cli);
	if (optind < argc)
		return cli_usage_error(cli, "no arguments expected");
	if (cli_attach(cli))
		return 1;
	if (nfm_ctx_kernel_info(cli->ctx, &ki) == 0 && !strcmp(ki.machine, "aarch64"))
		return cpuinfo_arm64(cli);
	n = nfm_cpuinfo_list(cli->ctx, &cs);
	if (n < 0)
		return cli_fail("cannot read the guest's CPUs: %s",
				cli->last_error[0] ? cli->last_error : strerror(-n));
	if (cli->json) {
		struct json_object *doc = jdoc_new("cpuinfo"), *a = json_object_new_array();

		for (i = 0; i < n; i++)
			json_object_array_add(a, obj_cpuinfo(&cs[i]));
		j_add(doc, "cpus", a);
		free(cs);
		return cli_print_json(cli, doc);
	}
	/* /proc/cpuinfo's "name\t: value" records (not a table) */
	for (i = 0; i < n; i++) {
		const struct nfm_cpuinfo *c = &cs[i];
		unsigned int khz = (unsigned int)(c->mhz * 1000 + 0.5);

		printf("processor\t: %u\nvendor_id\t: %s\ncpu family\t: %u\nmodel\t\t: %u\n"
		       "model name\t: %s\nstepping\t: %u\nmicrocode\t: 0x%x\n", c->cpu,
		       cli_esc(c->vendor_id), c->family, c->model, cli_esc(c->model_name), c->stepping,
		       c->microcode);
		if (c->mhz > 0)
			printf("cpu MHz\t\t: %u.%03u\n", khz / 1000, khz % 1000);
		if (c->cache_size_kb)
			printf("cache size\t: %u KB\n", c->cache_size_kb);
		printf("physical id\t: %d\nsiblings\t: %d\ncore id\t\t: %d\ncpu cores\t: %d\n"
		       "apicid\t\t: %u\ninitial apicid\t: %u\ncpuid level\t: %d\n", c->physical_id,
		       c->siblings, c->core_id, c->cores, c->apicid, c->initial_apicid, c->cpuid_level);
		put_guest("flags\t\t: ", c->flags);
		put_guest("bugs\t\t: ", c->bugs);
		printf("address sizes\t: %u bits physical, %u bits virtual\n\n", c->phys_bits,
		       c->virt_bits);
	}
	free(cs);
	return 0;
}

const struct command command_cpuinfo = {
	.name = "cpuinfo",
	.summary = "the guest's CPUs, as /proc/cpuinfo",
	.usage = "[-j]",
	.run = cmd_cpuinfo,
};
