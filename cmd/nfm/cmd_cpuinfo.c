// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm cpuinfo: the guest's online CPUs, in /proc/cpuinfo's words. */
#include <stdlib.h>
#include <string.h>

#include <nfm/system.h>

#include "cli.h"

static struct json_object *cpu_json(const struct nfm_cpuinfo *c)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "processor", json_object_new_int64(c->cpu));
	json_object_object_add(o, "vendor_id", cli_json_bytes(c->vendor_id, strlen(c->vendor_id)));
	json_object_object_add(o, "cpu_family", json_object_new_int64(c->family));
	json_object_object_add(o, "model", json_object_new_int64(c->model));
	json_object_object_add(o, "model_name", cli_json_bytes(c->model_name, strlen(c->model_name)));
	json_object_object_add(o, "stepping", json_object_new_int64(c->stepping));
	json_object_object_add(o, "microcode", json_object_new_int64(c->microcode));
	json_object_object_add(o, "cpu_mhz", json_object_new_double(c->mhz));
	json_object_object_add(o, "cache_size_kb", json_object_new_int64(c->cache_size_kb));
	json_object_object_add(o, "physical_id", json_object_new_int(c->physical_id));
	json_object_object_add(o, "siblings", json_object_new_int(c->siblings));
	json_object_object_add(o, "core_id", json_object_new_int(c->core_id));
	json_object_object_add(o, "cpu_cores", json_object_new_int(c->cores));
	json_object_object_add(o, "apicid", json_object_new_int64(c->apicid));
	json_object_object_add(o, "initial_apicid", json_object_new_int64(c->initial_apicid));
	json_object_object_add(o, "cpuid_level", json_object_new_int(c->cpuid_level));
	json_object_object_add(o, "flags", json_object_new_string(c->flags ? c->flags : ""));
	json_object_object_add(o, "bugs", json_object_new_string(c->bugs ? c->bugs : ""));
	json_object_object_add(o, "phys_bits", json_object_new_int64(c->phys_bits));
	json_object_object_add(o, "virt_bits", json_object_new_int64(c->virt_bits));
	return o;
}

int cmd_cpuinfo(struct cli *cli, int argc, char **argv)
{
	struct nfm_cpuinfo *cs;
	int n, i;

	(void)argv;
	if (argc > 1)
		return cli_fail("usage: nfm cpuinfo [-j]");
	if (cli_attach(cli))
		return 1;
	n = nfm_cpuinfo_list(cli->ctx, &cs);
	if (n < 0)
		return cli_fail("cannot read the guest's CPUs: %s",
				cli->last_error[0] ? cli->last_error : strerror(-n));
	if (cli->json) {
		struct json_object *a = json_object_new_array();

		for (i = 0; i < n; i++)
			json_object_array_add(a, cpu_json(&cs[i]));
		free(cs);
		return cli_print_json(cli, a);
	}
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
		printf("flags\t\t: %s\nbugs\t\t: %s\n", c->flags ? c->flags : "", c->bugs ? c->bugs : "");
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
