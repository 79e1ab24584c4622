// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * /proc/cpuinfo on arm64 (arch/arm64/kernel/cpuinfo.c c_show), for a 64-bit reader:
 * - "BogoMIPS": the global loops_per_jiffy (arm64 keeps no per-CPU one) over HZ, as
 *   lpj / (500000 / HZ) "." lpj / (5000 / HZ) % 100;
 * - "Features": hwcap_str[j] for every bit j set in the elf_hwcap bitmap (cpu_have_feature());
 *   only set bits are read, so the name table's length (not in BTF) is never needed;
 * - the MIDR fields from each online CPU's per-CPU struct cpuinfo_arm64 (cpu_data.reg_midr).
 * HZ is not in BTF: nfm_kernel_hz() derives it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/system.h>

#include "core/context.h"
#include "util/pack.h"
#include "walk/percpu.h"

#define HWCAP_BITS 128		/* MAX_CPU_FEATURES in 6.1 and 6.12 (two longs) */
#define HWCAP_NAME_MAX 32

/* BogoMIPS x 100, or -1. */
static int64_t bogomips_centi(struct nfm_ctx *ctx)
{
	uint64_t a, lpj, hz;

	if (nfm_kernel_hz(ctx, &hz) < 0 || nfm_ksym(ctx, "loops_per_jiffy", &a) < 0 ||
	    nfm_kread_u64(ctx, a, &lpj) < 0)
		return -1;
	return (int64_t)(lpj / (500000 / hz) * 100 + lpj / (5000 / hz) % 100);
}

/* A hwcap name: a short lower-case identifier ("fp", "asimdhp", "sve2", "sme_f64f64"). */
static bool hwcap_name_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return i > 0;
}

/*
 * The "Features" line into buf (size >= HWCAP_BITS * (HWCAP_NAME_MAX + 1)): 0, -ENOENT when
 * the tables are not found, -EBADMSG when a set bit's name is not a name.
 */
static int features(struct nfm_ctx *ctx, char *buf)
{
	uint64_t caps, strs, bits[HWCAP_BITS / 64], ptr;
	char name[HWCAP_NAME_MAX + 1];
	size_t n = 0;
	int j;

	buf[0] = 0;
	if (nfm_ksym(ctx, "elf_hwcap", &caps) < 0 || nfm_ksym(ctx, "hwcap_str", &strs) < 0)
		return -ENOENT;
	if (nfm_kread(ctx, caps, bits, sizeof(bits)) < 0)
		return -EFAULT;
	for (j = 0; j < HWCAP_BITS; j++) {
		if (!(bits[j / 64] >> (j % 64) & 1))
			continue;
		if (nfm_kread_u64(ctx, strs + (uint64_t)j * 8, &ptr) < 0 ||
		    !nfm_mmu_is_kernel_va(ctx->mmu, ptr) ||
		    nfm_kread_str(ctx, ptr, name, sizeof(name)) < 0 || !hwcap_name_ok(name))
			return -EBADMSG;
		n += (size_t)snprintf(buf + n, HWCAP_NAME_MAX + 2, "%s%s", n ? " " : "", name);
	}
	return 0;
}

int nfm_cpuinfo_arm64_list(struct nfm_ctx *ctx, struct nfm_cpuinfo_arm64 **ret)
{
	static const size_t strs[] = { offsetof(struct nfm_cpuinfo_arm64, features) };
	unsigned int *cpus = NULL;
	uint64_t *offs = NULL, data;
	struct nfm_field midr;
	struct nfm_pack pk;
	int64_t bogo;
	char *feat = NULL;
	const char *packed = NULL;
	int n, i, err;

	if (ctx->mmu->arch != NFM_MMU_ARM64)
		return -EOPNOTSUPP;
	if ((err = nfm_btf_field(ctx->btf, "cpuinfo_arm64", "reg_midr", &midr)) < 0 ||
	    (err = nfm_ksym(ctx, "cpu_data", &data)) < 0) {
		nfm_err(&ctx->log, "the per-CPU cpuinfo_arm64 (cpu_data.reg_midr) is not found");
		return err;
	}
	cpus = calloc(NFM_MAX_CPUS, sizeof(*cpus));
	offs = calloc(NFM_MAX_CPUS, sizeof(*offs));
	feat = malloc(HWCAP_BITS * (HWCAP_NAME_MAX + 1) + 1);
	if (!cpus || !offs || !feat) {
		err = -ENOMEM;
		goto out;
	}
	n = nfm_percpu_cpus(ctx, 1, cpus, offs, NFM_MAX_CPUS);
	if (n < 0) {
		err = n;
		goto out;
	}
	bogo = bogomips_centi(ctx);
	err = features(ctx, feat);
	if (err == -EBADMSG)
		nfm_dbg(&ctx->log, "arm64 cpuinfo: a set elf_hwcap bit has no name in hwcap_str");
	nfm_pack_init(&pk, sizeof(struct nfm_cpuinfo_arm64));
	for (i = 0; i < n; i++) {
		struct nfm_cpuinfo_arm64 *c;
		uint32_t reg;

		if (nfm_kread_u32(ctx, data + offs[i] + midr.offset, &reg) < 0)
			continue;	/* a CPU whose per-CPU area is unreadable is left out */
		c = nfm_pack_add(&pk);
		if (!c)
			break;
		c->cpu = cpus[i];
		c->midr = reg;
		c->bogomips_centi = bogo;
		/* every CPU shows the same system-wide line: packed once, shared */
		if (err == 0 && !packed)
			packed = nfm_pack_str(&pk, feat, strlen(feat));
		c->features = err == 0 ? packed : NULL;
	}
	err = nfm_pack_finish(&pk, strs, 1, (void **)ret);
out:
	free(cpus);
	free(offs);
	free(feat);
	return err;
}
