// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * One crawl of one VM (attach, re-validate, collect), on a worker thread.
 *
 * A guest can reboot under an attached context: same QEMU process, new kernel, new KASLR. Every
 * crawl re-validates before it trusts what it reads: the kernel's identity must still be readable
 * and the same, VMCOREINFO must still be where attach found it with the same KERNELOFFSET, and
 * the guest clock must not go backwards. A clock that stands still while QEMU burns CPU means the
 * kernel we read is a stale image left in RAM by a reset; one that stands still while QEMU idles
 * is a paused VM.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collect.h"
#include "crawl.h"
#include "record.h"
#include "util.h"

/* How long a guest clock may stand still before we look at why. */
#define STALL_SECONDS 3.0
/* QEMU using more than this share of a CPU while the guest clock stands still: not paused. */
#define STALL_BUSY_SHARE 0.05

static int attach(struct vm *vm, struct job *j)
{
	struct guest *g = &vm->g;
	struct nfm_kernel_info ki;
	char spec[32];
	int ret;

	g->last_error[0] = 0;
	snprintf(spec, sizeof(spec), "pid:%d", vm->pid);
	if (!g->src) {
		ret = nfm_source_open(spec, &g->log, &g->src);
		if (ret < 0)
			goto fail;
	}
	ret = nfm_ctx_new(g->src, NULL, &g->log, &g->ctx);
	if (ret < 0)
		goto fail;
	ret = nfm_ctx_kernel_info(g->ctx, &ki);
	if (ret < 0) {
		snprintf(g->last_error, sizeof(g->last_error), "cannot read the kernel's identity: %s",
			 strerror(-ret));
		goto fail;
	}
	memcpy(g->release, ki.release, sizeof(g->release));
	g->attach_ms = ki.attach_ms;
	/* A reboot is a different kernel than the last one attached, found by this crawl or by a
	 * later one (the new kernel may still be booting when the old one is noticed gone);
	 * finding the same stale image again is not. */
	j->rebooted = g->known && (g->clock_went_back || ki.kaslr_offset != g->kaslr_offset ||
				   ki.vmcoreinfo_pa != g->vmcoreinfo_pa);
	g->known = true;
	g->clock_went_back = false;
	g->kaslr_offset = ki.kaslr_offset;
	g->vmcoreinfo_pa = ki.vmcoreinfo_pa;
	g->last_uptime_ns = 0;
	g->stall_uptime_ns = 0;
	g->stall_since = 0;
	g->stall_cpu_at = 0;
	j->attach = 1;
	return 0;
fail:
	j->attach = ret;
	snprintf(j->msg, sizeof(j->msg), "%s", g->last_error[0] ? g->last_error : strerror(-ret));
	guest_detach(g);
	return ret;
}

/* VMCOREINFO still where attach found it, for the same kernel (KERNELOFFSET and OSRELEASE). */
static bool vmcoreinfo_same(struct guest *g)
{
	char page[4097], want[128];
	uint64_t pa = g->vmcoreinfo_pa;

	if (!pa)	/* from a dump note: nothing to re-check */
		return true;
	if (nfm_source_read_phys(g->src, pa, page, sizeof(page) - 1) < 0 &&
	    nfm_source_read_phys(g->src, pa, page, 4096 - (pa & 4095)) < 0)
		return false;
	/* memmem, not strstr: the ELF-note form starts with a binary header holding NULs. */
	size_t len = 4096 - (pa & 4095);

	snprintf(want, sizeof(want), "OSRELEASE=%s\n", g->release);
	if (!memmem(page, len, want, strlen(want)))
		return false;
	snprintf(want, sizeof(want), "KERNELOFFSET=%" PRIx64 "\n", g->kaslr_offset);
	return memmem(page, len, want, strlen(want)) != NULL ||
	       !memmem(page, len, "KERNELOFFSET=", 13);
}

#define WHY_BACKWARDS "guest clock went backwards"

/* Why the context no longer describes the guest's kernel, or NULL if it still does. */
static const char *changed(struct vm *vm, struct crawl_base *b, double now)
{
	struct guest *g = &vm->g;
	unsigned long long cpu = 0;
	int ret;

	ret = nfm_ctx_kernel_info(g->ctx, &b->ki);
	if (ret < 0)
		return "kernel identity no longer readable";
	if (strcmp(b->ki.release, g->release))
		return "kernel release changed";
	if (!vmcoreinfo_same(g))
		return "VMCOREINFO moved or changed";
	b->have_uptime = nfm_ctx_uptime_ns(g->ctx, &b->uptime_ns) == 0;
	if (!b->have_uptime)
		return NULL;
	/* Allow a little jitter: the value is as of the guest's last tick. */
	if (g->last_uptime_ns && b->uptime_ns + 1000000000ull < g->last_uptime_ns)
		return WHY_BACKWARDS;
	/* QEMU's CPU time is read only while the clock stands still: a moving clock costs no
	 * /proc read (stall_cpu_at is when the count of the still stretch was taken). */
	if (b->uptime_ns != g->stall_uptime_ns || !g->stall_since) {
		g->stall_uptime_ns = b->uptime_ns;
		g->stall_since = now;
		g->stall_cpu_at = 0;
	} else if (!g->stall_cpu_at) {
		if (qemu_stat(vm->pid, &g->stall_cpu_ticks, NULL, NULL) == 0)
			g->stall_cpu_at = now;
	} else if (now - g->stall_cpu_at >= STALL_SECONDS &&
		   qemu_stat(vm->pid, &cpu, NULL, NULL) == 0) {
		double busy = (double)(cpu - g->stall_cpu_ticks) / (double)sysconf(_SC_CLK_TCK) /
			      (now - g->stall_cpu_at);

		if (busy > STALL_BUSY_SHARE)
			return "guest clock stands still while the VM runs (reset?)";
	}
	return NULL;
}

void crawl_run(struct job *j, const struct nfmd_config *cfg, const struct nfmd_log *log)
{
	struct vm *vm = j->vm;
	struct guest *g = &vm->g;
	struct collect_limits lim = cfg->lim;
	struct crawl_base b = { 0 };
	const char *why;
	bool fresh = false;

	j->started = now_mono();
	lim.deadline = j->started + cfg->crawl_timeout;
	if (!g->ctx) {
		if (attach(vm, j) < 0)
			goto out;
		fresh = true;
	} else {
		nfm_ctx_refresh(g->ctx);
	}
	why = changed(vm, &b, now_mono());
	if (why && !vm_qemu_alive(vm)) {
		j->attach = -ESRCH;
		snprintf(j->msg, sizeof(j->msg), "QEMU process exited");
		guest_detach(g);
		goto out;
	}
	if (why && !fresh) {
		logmsg(log, NFM_LOG_INFO, "vm %s (pid %d): %s: re-attaching", vm->label_vm, vm->pid, why);
		j->reattached = true;
		if (!strcmp(why, WHY_BACKWARDS))
			g->clock_went_back = true;
		guest_detach(g);
		if (attach(vm, j) < 0)
			goto out;
		why = changed(vm, &b, now_mono());
	}
	if (why) {
		j->err = -EAGAIN;
		snprintf(j->msg, sizeof(j->msg), "%s", why);
		guest_detach(g);
		goto out;
	}
	if (b.have_uptime)
		g->last_uptime_ns = b.uptime_ns;
	j->paused = b.have_uptime && g->stall_since && now_mono() - g->stall_since >= STALL_SECONDS;
	b.source = nfm_source_describe(g->src);
	/* The host's side (vCPU threads, cgroup): found once per attach, read every crawl. */
	if (!g->host)
		nfm_host_vm_new(vm->pid, NULL, &g->host);
	b.host_vm = g->host;
	/*
	 * A guest clock that stands still: ask QEMU why (QMP `info status`: paused, shutdown,
	 * guest-panicked...). A guest whose clock moves runs, and its monitor is left alone for
	 * the tools that need it; one that does not answer (libvirt holds its own) is asked again
	 * a minute later.
	 */
	if (b.have_uptime && now_mono() - g->stall_since >= 1.0 && g->host &&
	    j->started >= g->run_state_retry) {
		if (nfm_host_vm_run_state(g->host, j->run_state, sizeof(j->run_state)) < 0) {
			j->run_state[0] = 0;
			g->run_state_retry = j->started + 60;
		} else {
			/* QEMU knows: an idle guest's clock may stand still while it runs. */
			j->paused = strcmp(j->run_state, "running") != 0;
		}
	}
	/* The process walk first: it takes the crawl's host sample right after its CPU times
	 * (crawl_host_sample), and the base section shares that sample. */
	static const enum feature order[] = { F_PS, F_BASE, F_NET, F_SYS };

	_Static_assert(sizeof(order) / sizeof(order[0]) == F_NR, "every feature in order[]");
	for (size_t i = 0; i < F_NR; i++) {
		enum feature f = order[i];

		if (!(j->mask & (1u << f)))
			continue;
		if (f != F_BASE && now_mono() > lim.deadline) {
			j->timed_out = true;
			break;
		}
		collect(g->ctx, f, &b, &lim, &j->sec[f]);
	}
	nfm_ctx_idle(g->ctx);	/* its page copies serve the next VM's crawl */
out:
	j->ended = now_mono();
	j->rec_err = record_run(vm, &j->frames, cfg, log, j->rec_msg, sizeof(j->rec_msg));
}
