// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm_ctx_kernel_info and uptime: what `uname`, /proc/cpuinfo, /proc/meminfo and /proc/uptime say. */
#include <errno.h>
#include <string.h>

#include "core/context.h"
#include "source/source.h"

/* Read the six new_utsname fields of init_uts_ns. */
static int read_utsname(struct nfm_ctx *ctx, struct nfm_kernel_info *ki)
{
	struct nfm_field name = { 0 };
	uint64_t uts;
	char buf[6 * 65];
	int ret;

	ret = nfm_ksym(ctx, "init_uts_ns", &uts);
	if (ret < 0)
		return ret;
	if (nfm_btf_field(ctx->btf, "uts_namespace", "name", &name) < 0)
		name.offset = 0;
	ret = nfm_kread(ctx, uts + name.offset, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	for (int i = 0; i < 6; i++)
		buf[i * 65 + 64] = 0;
	memcpy(ki->sysname, buf, 65);
	memcpy(ki->nodename, buf + 65, 65);
	memcpy(ki->release, buf + 130, 65);
	memcpy(ki->version, buf + 195, 65);
	memcpy(ki->machine, buf + 260, 65);
	memcpy(ki->domainname, buf + 325, 65);
	return 0;
}

static int read_int_sym(struct nfm_ctx *ctx, const char *sym, size_t size, uint64_t *ret)
{
	uint64_t addr, v = 0;
	int err = nfm_ksym(ctx, sym, &addr);

	if (err < 0)
		return err;
	err = nfm_kread(ctx, addr, &v, size);
	if (err < 0)
		return err;
	*ret = v;
	return 0;
}

int nfm_ctx_kernel_info(struct nfm_ctx *ctx, struct nfm_kernel_info *ret)
{
	struct nfm_kernel_info ki = { 0 };
	uint64_t addr, v;
	char *nl;
	int err;

	err = read_utsname(ctx, &ki);
	if (err < 0)
		return err;
	if (nfm_ksym(ctx, "linux_banner", &addr) == 0 &&
	    nfm_kread_str(ctx, addr, ki.banner, sizeof(ki.banner)) == 0) {
		nl = strchr(ki.banner, '\n');
		if (nl)
			*nl = 0;
	}
	ki.paging_levels = ctx->mmu->levels;
	ki.kaslr_offset = ctx->kaslr_offset;
	ki.phys_base = ctx->mmu->phys_base;
	ki.page_offset = ctx->mmu->page_offset;
	ki.kernel_pgd = ctx->mmu->kernel_root;
	ki.vmcoreinfo_pa = ctx->vmcoreinfo_pa;
	if (read_int_sym(ctx, "__num_online_cpus", 4, &v) == 0)
		ki.nr_cpus_online = (unsigned int)v;
	if (read_int_sym(ctx, "nr_cpu_ids", 4, &v) == 0)
		ki.nr_cpus_possible = (unsigned int)v;
	/* MemTotal is totalram_pages() pages. */
	if (read_int_sym(ctx, "_totalram_pages", 8, &v) == 0)
		ki.mem_total = v * 4096;
	ki.ram_size = nfm_source_ram_size(ctx->src);
	ki.nr_symbols = nfm_kallsyms_count(ctx->ks);
	ki.nr_btf_types = nfm_btf_type_count(ctx->btf);
	memcpy(ki.vmcoreinfo_how, ctx->vmcoreinfo_how, sizeof(ki.vmcoreinfo_how));
	memcpy(ki.symbols_how, ctx->symbols_how, sizeof(ki.symbols_how));
	memcpy(ki.btf_how, ctx->btf_how, sizeof(ki.btf_how));
	ki.attach_ms = ctx->attach_ms;
	*ret = ki;
	return 0;
}

/*
 * CLOCK_BOOTTIME as of the last timekeeping update (at most a tick or an idle period old):
 * tk_core.timekeeper.tkr_mono.base + offs_boot. tk_core is an anonymous struct
 * { seqcount_raw_spinlock_t seq; struct timekeeper timekeeper; } (kernel/time/timekeeping.c).
 */
int nfm_ctx_uptime_ns(struct nfm_ctx *ctx, uint64_t *ret)
{
	struct nfm_field base, boot;
	uint32_t seqsize;
	uint64_t tk_core, tk;
	int64_t mono, offs;
	int err;

	err = nfm_ksym(ctx, "tk_core", &tk_core);
	if (err < 0)
		return err;
	if (nfm_btf_type_size(ctx->btf, "seqcount_raw_spinlock_t", &seqsize) < 0 ||
	    nfm_btf_field(ctx->btf, "timekeeper", "tkr_mono.base", &base) < 0 ||
	    nfm_btf_field(ctx->btf, "timekeeper", "offs_boot", &boot) < 0)
		return -ENOENT;
	tk = tk_core + ((seqsize + 7) & ~7u);
	err = nfm_kread(ctx, tk + base.offset, &mono, sizeof(mono));
	if (err == 0)
		err = nfm_kread(ctx, tk + boot.offset, &offs, sizeof(offs));
	if (err < 0)
		return err;
	if (mono < 0 || offs < 0)
		return -EBADMSG;
	*ret = (uint64_t)(mono + offs);
	return 0;
}
