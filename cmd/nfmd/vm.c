// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The VM table: discovery (nfm_vm_list every --rescan), the crawl schedule, and the crawl itself
 * (attach, re-validate, collect), which runs on a worker.
 *
 * A guest can reboot under an attached context: same QEMU process, new kernel, new KASLR. Every
 * crawl re-validates before it trusts what it reads: the kernel's identity must still be readable
 * and the same, VMCOREINFO must still be where attach found it with the same KERNELOFFSET, and
 * the guest clock must not go backwards. A clock that stands still while QEMU burns CPU means the
 * kernel we read is a stale image left in RAM by a reset; one that stands still while QEMU idles
 * is a paused VM.
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nfmd.h"

struct vm *vms;
size_t nr_vms;

const char *const vm_status_names[] = {
	[VS_ATTACHING] = "attaching",
	[VS_UP] = "up",
	[VS_PAUSED] = "paused",
	[VS_NO_KERNEL] = "no-kernel",
	[VS_ERROR] = "error",
	[VS_GONE] = "gone",
};

const double crawl_buckets[NR_BUCKETS] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

/* How long a guest clock may stand still before we look at why. */
#define STALL_SECONDS 3.0
/* QEMU using more than this share of a CPU while the guest clock stands still: not paused. */
#define STALL_BUSY_SHARE 0.05
/* A guest that was up this recently is retried quickly: it is probably rebooting. */
#define RECENT_UP_SECONDS 120.0

/* /proc/PID/stat: utime+stime (ticks), starttime and state; 0 or -errno. */
static int proc_stat3(int pid, unsigned long long *cpu, unsigned long long *start, char *state)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st, stt;
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = (ssize_t)fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p)
		return -EBADMSG;
	/* state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
	 * cutime cstime priority nice threads itrealvalue starttime */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d %llu",
		   &ut, &st, &stt) != 3)
		return -EBADMSG;
	if (state)
		*state = p[2];
	if (cpu)
		*cpu = ut + st;
	if (start)
		*start = stt;
	return 0;
}

static int proc_stat(int pid, unsigned long long *cpu, unsigned long long *start)
{
	return proc_stat3(pid, cpu, start, NULL);
}

/* The QEMU process we found is still there (not exited, not a zombie, pid not reused). */
static bool qemu_alive(const struct vm *vm)
{
	unsigned long long st;
	char state;

	return proc_stat3(vm->pid, NULL, &st, &state) == 0 && st == vm->starttime &&
	       state != 'Z' && state != 'X';
}

static void guest_log(void *userdata, enum nfm_log_level level, const char *msg)
{
	struct vm *vm = userdata;
	char esc[512];

	if (level == NFM_LOG_ERR)
		snprintf(vm->g.last_error, sizeof(vm->g.last_error), "%s", msg);
	if ((int)level <= log_level && level != NFM_LOG_ERR)
		logmsg(level, "vm %s: %s", vm->label_vm, esc_bytes(msg, strlen(msg), esc, sizeof(esc)));
}

static bool is_libvirt(const char *name, int pid)
{
	char path[300], buf[32];
	FILE *f;
	bool ret = false;

	if (!name[0] || strchr(name, '/'))
		return false;
	snprintf(path, sizeof(path), "/run/libvirt/qemu/%s.pid", name);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (fgets(buf, sizeof(buf), f))
		ret = atoi(buf) == pid;
	fclose(f);
	return ret;
}

static struct vm *vm_new(const struct nfm_vm_info *vi, unsigned long long starttime)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	struct sbuf b = { 0 };

	if (!vm)
		return NULL;
	vm->pid = vi->pid;
	vm->starttime = starttime;
	if (vi->name[0])
		snprintf(vm->name, sizeof(vm->name), "%s", vi->name);
	else
		snprintf(vm->name, sizeof(vm->name), "pid:%d", vi->pid);
	sb_label(&b, vm->name);
	snprintf(vm->label_vm, sizeof(vm->label_vm), "%s", b.s ? b.s : "");
	sb_free(&b);
	snprintf(vm->label_pid, sizeof(vm->label_pid), "%d", vi->pid);
	vm->libvirt = is_libvirt(vi->name, vi->pid);
	vm->ram_size = vi->ram_size;
	vm->status = VS_ATTACHING;
	vm->first_seen = now_mono();
	vm->discovered_at = now_real();
	vm->retry_at = vm->first_seen;
	vm->g.log = (struct nfm_log){ .fn = guest_log, .userdata = vm,
				      .max_level = log_level >= NFM_LOG_DEBUG ? NFM_LOG_DEBUG : NFM_LOG_ERR };
	return vm;
}

static void guest_detach(struct guest *g)
{
	nfm_ctx_free(g->ctx);
	g->ctx = NULL;
	nfm_source_free(g->src);
	g->src = NULL;
}

static void drop_sections(struct vm *vm)
{
	for (int f = 0; f < F_NR; f++) {
		section_unref(vm->sec[f]);
		vm->sec[f] = NULL;
	}
}

static void vm_free(struct vm *vm)
{
	guest_detach(&vm->g);
	drop_sections(vm);
	free(vm);
}

static void vm_unlink(struct vm *vm)
{
	struct vm **pp;

	for (pp = &vms; *pp; pp = &(*pp)->next)
		if (*pp == vm) {
			*pp = vm->next;
			nr_vms--;
			return;
		}
}

void vm_free_all(void)
{
	while (vms) {
		struct vm *vm = vms;

		vms = vm->next;
		if (!vm->busy)	/* a busy one belongs to a worker that may still run */
			vm_free(vm);
	}
	nr_vms = 0;
}

void vm_rescan(void)
{
	static struct nfm_vm_info *list;
	static int cap;
	struct vm *vm, *next, **pp;
	int n, i;

	if (!list) {
		cap = cfg.max_vms * 2 + 16;
		list = calloc((size_t)cap, sizeof(*list));
		if (!list)
			return;
	}
	n = nfm_vm_list(list, cap);
	if (n < 0) {
		logmsg(NFM_LOG_ERR, "cannot list QEMU processes: %s", strerror(-n));
		return;
	}
	if (n > cap)
		n = cap;
	/* Mark: a VM is kept if its pid is listed with the same start time. */
	bool *seen = calloc(nr_vms + 1, sizeof(bool));

	if (!seen)
		return;
	for (i = 0; i < n; i++) {
		unsigned long long st;
		size_t k = 0;
		bool found = false;

		if (cfg.only && fnmatch(cfg.only, list[i].name, 0) != 0)
			continue;
		if (proc_stat(list[i].pid, NULL, &st) < 0)
			continue;	/* gone already */
		for (vm = vms; vm; vm = vm->next, k++)
			if (vm->pid == list[i].pid && vm->starttime == st && !vm->gone) {
				seen[k] = true;
				found = true;
			}
		if (found)
			continue;
		if (nr_vms >= (size_t)cfg.max_vms) {
			static bool warned;

			if (!warned)
				logmsg(NFM_LOG_WARN, "more than %d VMs: ignoring the rest (--max-vms)",
				       cfg.max_vms);
			warned = true;
			continue;
		}
		vm = vm_new(&list[i], st);
		if (!vm)
			continue;
		/* Append: keeps seen[] indexes of the VMs before it valid. */
		for (pp = &vms; *pp; pp = &(*pp)->next)
			;
		*pp = vm;
		nr_vms++;
		{
			bool *s2 = realloc(seen, (nr_vms + 1) * sizeof(bool));

			if (!s2) {
				free(seen);
				return;
			}
			seen = s2;
			seen[nr_vms - 1] = true;
		}
		logmsg(NFM_LOG_INFO, "vm %s (pid %d): found%s", vm->label_vm, vm->pid,
		       vm->libvirt ? " (libvirt domain)" : "");
	}
	/* Sweep; i is the position each VM had when seen[] was filled. */
	i = 0;
	for (vm = vms; vm; vm = next, i++) {
		next = vm->next;
		if (seen[i] || vm->gone)
			continue;
		logmsg(NFM_LOG_INFO, "vm %s (pid %d): gone", vm->label_vm, vm->pid);
		if (vm->busy) {
			vm->gone = true;	/* freed when its crawl comes back */
			vm->status = VS_GONE;
		} else {
			vm_unlink(vm);
			vm_free(vm);
		}
	}
	free(seen);
}

struct vm *vm_find(const char *s)
{
	struct vm *vm;
	char *end;
	long pid;

	for (vm = vms; vm; vm = vm->next)
		if (!vm->gone && !strcmp(vm->name, s))
			return vm;
	pid = strtol(s, &end, 10);
	if (end != s && !*end && pid > 0)
		for (vm = vms; vm; vm = vm->next)
			if (!vm->gone && vm->pid == pid)
				return vm;
	return NULL;
}

static void dispatch(struct vm *vm, unsigned int mask, double now)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j)
		return;
	j->vm = vm;
	j->mask = mask;
	/* Guests attached before (rebooting, most likely) stay in the crawl queue: back soon. */
	j->attaching = !vm->g.ctx && !vm->attaches;
	/* First attempts and guests up a moment ago (rebooting) before known no-kernel VMs; then
	 * small VMs first: their attach (or failed RAM scan) is quick. */
	j->prio = (uint64_t)(vm->attach_failures && !(vm->last_up && now - vm->last_up < RECENT_UP_SECONDS)) << 56 |
		  (vm->ram_size >> 20);
	vm->busy = true;
	vm->busy_since = now;
	workers_submit(j);
}

double vm_schedule(double now)
{
	static double next_rescan;
	double next;
	struct vm *vm;

	if (now >= next_rescan) {
		vm_rescan();
		next_rescan = now + cfg.rescan;
	}
	next = next_rescan;
	for (vm = vms; vm; vm = vm->next) {
		unsigned int mask = 0;

		if (vm->gone)
			continue;
		if (vm->busy) {
			/* A crawl past its budget: say so once; the worker gives up at the next step.
			 * (Attach attempts wait in their own queue and may take long: not counted.) */
			if (vm->g.ctx && now - vm->busy_since > cfg.crawl_timeout * 2 &&
			    vm->status != VS_ERROR) {
				vm->status = VS_ERROR;
				snprintf(vm->error, sizeof(vm->error), "crawl running for more than %.1fs",
					 cfg.crawl_timeout * 2);
				vm->timeouts++;
			}
			continue;
		}
		if (!vm->g.ctx) {
			if (now >= vm->retry_at) {
				for (int f = 0; f < F_NR; f++)
					if (collect_supported(f))
						mask |= 1u << f;
				dispatch(vm, mask, now);
			} else if (vm->retry_at < next) {
				next = vm->retry_at;
			}
			continue;
		}
		for (int f = 0; f < F_NR; f++) {
			if (!collect_supported(f) || cfg.interval[f] <= 0)
				continue;
			if (now >= vm->next_due[f] - 0.0005)
				mask |= 1u << f;
		}
		if (mask) {
			mask |= 1u << F_BASE;	/* every crawl re-validates and reads the base */
			for (int f = 0; f < F_NR; f++) {
				if (!(mask & (1u << f)))
					continue;
				vm->next_due[f] += cfg.interval[f];
				if (vm->next_due[f] <= now)	/* fell behind: skip, don't burst */
					vm->next_due[f] = now + cfg.interval[f];
			}
			dispatch(vm, mask, now);
			continue;
		}
		for (int f = 0; f < F_NR; f++)
			if (collect_supported(f) && cfg.interval[f] > 0 && vm->next_due[f] < next)
				next = vm->next_due[f];
	}
	return next;
}

/* ---- worker side ---- */

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
	if (b->uptime_ns != g->stall_uptime_ns || !g->stall_since) {
		g->stall_uptime_ns = b->uptime_ns;
		g->stall_since = now;
		proc_stat(vm->pid, &g->stall_cpu_ticks, NULL);
	} else if (now - g->stall_since >= STALL_SECONDS &&
		   proc_stat(vm->pid, &cpu, NULL) == 0) {
		double busy = (double)(cpu - g->stall_cpu_ticks) / (double)sysconf(_SC_CLK_TCK) /
			      (now - g->stall_since);

		if (busy > STALL_BUSY_SHARE)
			return "guest clock stands still while the VM runs (reset?)";
	}
	return NULL;
}

void vm_crawl(struct job *j)
{
	struct vm *vm = j->vm;
	struct guest *g = &vm->g;
	struct collect_limits lim = cfg.lim;
	struct crawl_base b = { 0 };
	const char *why;
	bool fresh = false;

	j->started = now_mono();
	lim.deadline = j->started + cfg.crawl_timeout;
	if (!g->ctx) {
		if (attach(vm, j) < 0)
			goto out;
		fresh = true;
	} else {
		nfm_ctx_refresh(g->ctx);
	}
	why = changed(vm, &b, now_mono());
	if (why && !qemu_alive(vm)) {
		j->attach = -ESRCH;
		snprintf(j->msg, sizeof(j->msg), "QEMU process exited");
		guest_detach(g);
		goto out;
	}
	if (why && !fresh) {
		logmsg(NFM_LOG_INFO, "vm %s (pid %d): %s: re-attaching", vm->label_vm, vm->pid, why);
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
	for (int f = 0; f < F_NR; f++) {
		if (!(j->mask & (1u << f)))
			continue;
		if (f != F_BASE && now_mono() > lim.deadline) {
			j->timed_out = true;
			break;
		}
		collect(g->ctx, f, &b, &lim, &j->sec[f]);
	}
out:
	j->ended = now_mono();
}

/* ---- main thread: publish what a crawl found ---- */

static void observe(struct vm *vm, double d)
{
	for (int i = 0; i < NR_BUCKETS; i++)
		if (d <= crawl_buckets[i])
			vm->buckets[i]++;
	vm->duration_sum += d;
	vm->crawls++;
	vm->last_crawl_duration = d;
	vm->last_crawl_at = now_real();
}

void vm_crawl_done(struct job *j)
{
	struct vm *vm = j->vm;
	double now = now_mono();
	bool sec_err = false;

	vm->busy = false;
	if (vm->gone) {
		for (int f = 0; f < F_NR; f++)
			section_unref(j->sec[f]);
		vm_unlink(vm);
		vm_free(vm);
		free(j);
		return;
	}
	observe(vm, j->ended - j->started);
	if (j->reattached)
		drop_sections(vm);
	if (j->rebooted)
		vm->reboots++;
	if (j->attach < 0) {
		/* A guest up a moment ago is rebooting, and a VM seen a moment ago may be booting:
		 * look again soon. */
		bool recent = vm->last_up && now - vm->last_up < RECENT_UP_SECONDS;
		bool young = !vm->last_up && now - vm->first_seen < 60;
		double cap = recent ? 2.0 : young ? 4.0 : cfg.attach_backoff_max;
		double took = j->ended - j->started;

		vm->attach_failures++;
		vm->crawl_errors++;
		if (j->attach == -ESRCH)
			vm->status = VS_GONE;
		else if (j->attach == -ENOENT || j->attach == -EBADMSG)
			vm->status = j->reattached || recent ? VS_ATTACHING : VS_NO_KERNEL;
		else
			vm->status = VS_ERROR;
		if (strcmp(vm->error, j->msg))
			logmsg(NFM_LOG_INFO, "vm %s (pid %d): %s", vm->label_vm, vm->pid, j->msg);
		snprintf(vm->error, sizeof(vm->error), "%s", j->msg);
		vm->backoff = vm->backoff ? vm->backoff * 2 : 0.5;
		if (vm->backoff > cap)
			vm->backoff = cap;
		/* A slow attempt (a scan of a large VM's RAM) may use at most ~10% of a worker. */
		if (!recent && vm->backoff < took * 10)
			vm->backoff = took * 10 > 600 ? 600 : took * 10;
		vm->retry_at = now + vm->backoff;
		drop_sections(vm);
		free(j);
		return;
	}
	if (j->attach == 1) {
		vm->attaches++;
		vm->backoff = 0;
		logmsg(NFM_LOG_INFO, "vm %s (pid %d): attached to Linux %s in %.0f ms", vm->label_vm,
		       vm->pid, vm->g.release, vm->g.attach_ms);
		/* Spread the VMs' crawls over the interval instead of crawling all at once; one
		 * phase per VM, so that features with the same interval fall in the same crawl. */
		double phase = (double)(rand() % 1000) / 1000.0;

		for (int f = 0; f < F_NR; f++)
			vm->next_due[f] = now + cfg.interval[F_BASE] * phase;
	}
	if (j->err) {
		vm->crawl_errors++;
		vm->status = VS_ERROR;
		snprintf(vm->error, sizeof(vm->error), "%s", j->msg);
		vm->retry_at = now;	/* the context was dropped: attach again at once */
		drop_sections(vm);
		free(j);
		return;
	}
	for (int f = 0; f < F_NR; f++) {
		if (!j->sec[f])
			continue;
		if (j->sec[f]->err && j->sec[f]->err != -EOPNOTSUPP)
			sec_err = true;
		section_unref(vm->sec[f]);
		vm->sec[f] = j->sec[f];
	}
	if (sec_err)
		vm->crawl_errors++;
	if (j->timed_out) {
		vm->timeouts++;
		vm->crawl_errors++;
	}
	vm->status = j->paused ? VS_PAUSED : VS_UP;
	vm->error[0] = 0;
	if (j->timed_out)
		snprintf(vm->error, sizeof(vm->error), "crawl exceeded its %.1fs budget; some features skipped",
			 cfg.crawl_timeout);
	vm->last_up = now;
	free(j);
}
