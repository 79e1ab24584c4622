// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * /proc/cpuinfo on x86-64 (arch/x86/kernel/cpu/proc.c show_cpuinfo): each online CPU's per-CPU
 * struct cpuinfo_x86 (cpu_info). Flags are the names in x86_cap_flags[] of the bits set in
 * x86_capability[0..NCAPINTS), bugs the names in x86_bug_flags[] of the bits after them. NCAPINTS
 * and NBUGINTS are not in BTF: the generated capflags.c emits both name tables back to back
 * (x86_bug_flags first in 6.1 and 6.12), so the first table's size in pointers gives its words,
 * and x86_capability's size (NCAPINTS + NBUGINTS words) the other's.
 * Topology moved into c->topo (6.9): member presence decides.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/system.h>

#include "core/context.h"
#include "walk/fields.h"
#include "walk/list.h"
#include "util/pack.h"
#include "walk/percpu.h"

#define MAX_CAPWORDS 64
#define X86_FEATURE_TSC (0 * 32 + 4)

struct cpu_off {
	int32_t family, model, stepping, vendor_id, model_id, cache_size, capability, cap_size,
		microcode, cpuid_level, phys_bits, virt_bits, booted_cores;
	int32_t apicid, initial_apicid, pkg_id, core_id;
	int32_t topo_size[4];	/* u16 in 6.1, u32 in c->topo */
	int32_t size;
};

#define F(m, p, f) NFM_FIELD(struct cpu_off, m, "cpuinfo_x86", p, f)
static const struct nfm_field_spec cpu_specs[] = {
	F(family, "x86", 0),
	F(model, "x86_model", 0),
	F(stepping, "x86_stepping", 0),
	F(vendor_id, "x86_vendor_id", 0),
	F(model_id, "x86_model_id", 0),
	F(cache_size, "x86_cache_size", 0),
	F(capability, "x86_capability", 0),
	F(microcode, "microcode", 0),
	F(cpuid_level, "cpuid_level", 0),
	F(phys_bits, "x86_phys_bits", 0),
	F(virt_bits, "x86_virt_bits", 0),
	F(booted_cores, "booted_cores", 0),
	F(size, "", NFM_FIELD_SIZE),
};
#undef F

/* Topology: one of each pair. */
static const char *const topo[][2] = {
	{ "topo.apicid", "apicid" },
	{ "topo.initial_apicid", "initial_apicid" },
	{ "topo.pkg_id", "phys_proc_id" },
	{ "topo.core_id", "cpu_core_id" },
};

struct cpu_state {
	struct cpu_off o;
	int ncap, nbug;			/* NCAPINTS, NBUGINTS */
	char **cap_names, **bug_names;	/* per bit, NULL for unnamed */
};

static void cpu_state_free(void *p)
{
	struct cpu_state *s = p;
	int i;

	if (!s)
		return;
	for (i = 0; s->cap_names && i < s->ncap * 32; i++)
		free(s->cap_names[i]);
	for (i = 0; s->bug_names && i < s->nbug * 32; i++)
		free(s->bug_names[i]);
	free(s->cap_names);
	free(s->bug_names);
	free(s);
}

static char **read_names(struct nfm_ctx *ctx, uint64_t table, int n)
{
	char **names = calloc((size_t)n + 1, sizeof(*names));
	uint64_t *ptrs = malloc((size_t)n * 8 + 8);
	char b[64];
	int i;

	if (!names || !ptrs || nfm_kread(ctx, table, ptrs, (size_t)n * 8) < 0) {
		free(names);
		free(ptrs);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if (!ptrs[i] || !nfm_mmu_is_kernel_va(ctx->mmu, ptrs[i]) ||
		    nfm_kread_str(ctx, ptrs[i], b, sizeof(b)) < 0 || !b[0])
			continue;
		names[i] = strdup(b);
	}
	free(ptrs);
	return names;
}

static struct cpu_state *cpu_state(struct nfm_ctx *ctx, int *err)
{
	struct cpu_state *s = nfm_kernel_slot(ctx, NFM_SLOT_CPUINFO);
	struct nfm_field f;
	uint64_t caps, bugs;
	size_t i;
	int words;

	if (s)
		return s;
	s = calloc(1, sizeof(*s));
	if (!s) {
		*err = -ENOMEM;
		return NULL;
	}
	*err = nfm_resolve_fields(ctx, cpu_specs, sizeof(cpu_specs) / sizeof(cpu_specs[0]), &s->o);
	for (i = 0; *err == 0 && i < sizeof(topo) / sizeof(topo[0]); i++) {
		int32_t *dst = &s->o.apicid + i;

		if (nfm_btf_field(ctx->btf, "cpuinfo_x86", topo[i][0], &f) == 0 ||
		    nfm_btf_field(ctx->btf, "cpuinfo_x86", topo[i][1], &f) == 0) {
			*dst = (int32_t)f.offset;
			s->o.topo_size[i] = f.size == 2 ? 2 : 4;
		} else
			*dst = -1;
	}
	if (*err == 0 && nfm_btf_field(ctx->btf, "cpuinfo_x86", "x86_capability", &f) == 0)
		s->o.cap_size = (int32_t)f.size;
	words = s->o.cap_size / 4;
	if (*err == 0 && (*err = nfm_ksym(ctx, "x86_cap_flags", &caps)) == 0)
		*err = nfm_ksym(ctx, "x86_bug_flags", &bugs);
	if (*err == 0) {
		/* whichever table comes first spans exactly its words; the rest are the other's */
		if (bugs > caps && bugs - caps < 256 * MAX_CAPWORDS && (bugs - caps) % 256 == 0) {
			s->ncap = (int)((bugs - caps) / 256);
			s->nbug = words - s->ncap;
		} else if (caps > bugs && caps - bugs <= 256 * 8 && (caps - bugs) % 256 == 0) {
			s->nbug = (int)((caps - bugs) / 256);
			s->ncap = words - s->nbug;
		}
		if (s->ncap <= 0 || s->ncap > MAX_CAPWORDS || s->nbug <= 0 || s->nbug > 8) {
			nfm_err(&ctx->log, "cannot size the CPU feature tables (x86_cap_flags)");
			*err = -ENOENT;
		}
	}
	if (*err == 0) {
		s->cap_names = read_names(ctx, caps, s->ncap * 32);
		s->bug_names = read_names(ctx, bugs, s->nbug * 32);
		if (!s->cap_names || !s->bug_names)
			*err = -EFAULT;
	}
	if (*err == 0)
		*err = nfm_kernel_set_slot(ctx, NFM_SLOT_CPUINFO, s, cpu_state_free);
	if (*err < 0) {
		cpu_state_free(s);
		return NULL;
	}
	return s;
}

/* " name" for every set bit with a name, from bit base of the capability words. */
static const char *names_of(struct nfm_pack *pk, const uint32_t *cap, int base_word, int words,
			    char *const *names)
{
	char *buf = malloc((size_t)words * 32 * 24 + 1);
	const char *r;
	size_t n = 0;
	int i;

	if (!buf)
		return NULL;
	buf[0] = 0;
	for (i = 0; i < words * 32; i++) {
		int bit = base_word * 32 + i;

		if (!(cap[bit / 32] >> (bit % 32) & 1) || !names[i])
			continue;
		n += (size_t)sprintf(buf + n, "%s%s", n ? " " : "", names[i]);
	}
	r = nfm_pack_str(pk, buf, n);
	free(buf);
	return r;
}

static int popcount_mask(struct nfm_ctx *ctx, uint64_t addr, uint32_t nr)
{
	uint64_t w;
	uint32_t i;
	int n = 0;

	for (i = 0; i < nr; i += 64) {
		if (nfm_kread_u64(ctx, addr + i / 8, &w) < 0)
			return -1;
		if (nr - i < 64)
			w &= (1ull << (nr - i)) - 1;
		n += __builtin_popcountll(w);
	}
	return n;
}

int nfm_cpuinfo_list(struct nfm_ctx *ctx, struct nfm_cpuinfo **ret)
{
	const struct cpu_state *s;
	struct nfm_pack pk;
	uint64_t online, pco, ci, a, core_map = 0, word = 0;
	uint32_t nr = 0, khz = 0;
	uint8_t *b;
	unsigned int cpu;
	int err;

	if (ctx->mmu->arch != NFM_MMU_X86_64) {
		nfm_err(&ctx->log, "cpuinfo_x86 is x86's: an arm64 guest's CPUs are "
			"nfm_cpuinfo_arm64_list()'s");
		return -EOPNOTSUPP;
	}
	s = cpu_state(ctx, &err);
	if (!s)
		return err;
	if ((err = nfm_ksym(ctx, "__cpu_online_mask", &online)) < 0 ||
	    (err = nfm_ksym(ctx, "__per_cpu_offset", &pco)) < 0 ||
	    (err = nfm_ksym(ctx, "cpu_info", &ci)) < 0 ||
	    (err = nfm_ksym(ctx, "nr_cpu_ids", &a)) < 0 || (err = nfm_kread_u32(ctx, a, &nr)) < 0)
		return err;
	if (nr > NFM_MAX_CPUS)
		nr = NFM_MAX_CPUS;
	if (nfm_sym_lookup(ctx, "cpu_khz", &a, NULL) == 0)
		nfm_kread_u32(ctx, a, &khz);
	nfm_sym_lookup(ctx, "cpu_core_map", &core_map, NULL);
	b = malloc((size_t)s->o.size);
	if (!b)
		return -ENOMEM;
	nfm_pack_init(&pk, sizeof(struct nfm_cpuinfo));
	for (cpu = 0; cpu < nr; cpu++) {
		struct nfm_cpuinfo *c;
		uint64_t off, mask;
		uint32_t cap[MAX_CAPWORDS + 8] = { 0 };

		if (cpu % 64 == 0 && nfm_kread_u64(ctx, online + cpu / 8, &word) < 0)
			break;
		if (!(word >> (cpu % 64) & 1))
			continue;
		if (nfm_kread_u64(ctx, pco + cpu * 8ull, &off) < 0 ||
		    nfm_kread(ctx, ci + off, b, (size_t)s->o.size) < 0)
			continue;
		c = nfm_pack_add(&pk);
		if (!c)
			break;
		c->cpu = cpu;
		memcpy(c->vendor_id, b + s->o.vendor_id, 15);
		memcpy(c->model_name, b + s->o.model_id, 63);
		c->family = b[s->o.family];
		c->model = b[s->o.model];
		c->stepping = b[s->o.stepping];
		memcpy(&c->microcode, b + s->o.microcode, 4);
		memcpy(&c->cache_size_kb, b + s->o.cache_size, 4);
		memcpy(&c->cpuid_level, b + s->o.cpuid_level, 4);
		c->phys_bits = b[s->o.phys_bits];
		c->virt_bits = b[s->o.virt_bits];
		memcpy(&c->cores, b + s->o.booted_cores, 2);
		c->cores &= 0xffff;
		c->physical_id = c->core_id = -1;
		if (s->o.apicid >= 0)
			memcpy(&c->apicid, b + s->o.apicid, (size_t)s->o.topo_size[0]);
		if (s->o.initial_apicid >= 0)
			memcpy(&c->initial_apicid, b + s->o.initial_apicid, (size_t)s->o.topo_size[1]);
		if (s->o.pkg_id >= 0) {
			c->physical_id = 0;
			memcpy(&c->physical_id, b + s->o.pkg_id, (size_t)s->o.topo_size[2]);
		}
		if (s->o.core_id >= 0) {
			c->core_id = 0;
			memcpy(&c->core_id, b + s->o.core_id, (size_t)s->o.topo_size[3]);
		}
		memcpy(cap, b + s->o.capability, (size_t)(s->ncap + s->nbug) * 4);
		if (cap[X86_FEATURE_TSC / 32] >> (X86_FEATURE_TSC % 32) & 1)
			c->mhz = khz / 1000.0;
		/* siblings: the weight of cpu_core_map (a pointer with CPUMASK_OFFSTACK) */
		c->siblings = -1;
		if (core_map && nfm_kread_u64(ctx, core_map + off, &mask) == 0)
			c->siblings = popcount_mask(ctx, nfm_kptr_ok(ctx, mask) ? mask : core_map + off, nr);
		c->flags = names_of(&pk, cap, 0, s->ncap, s->cap_names);
		c->bugs = names_of(&pk, cap, s->ncap, s->nbug, s->bug_names);
	}
	free(b);
	return nfm_pack_finish(&pk, (size_t[]){ offsetof(struct nfm_cpuinfo, flags),
						offsetof(struct nfm_cpuinfo, bugs) }, 2, (void **)ret);
}
