// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The VM table and VM discovery: nfm_vm_list every --rescan (and on SIGHUP); a VM appears when a
 * new QEMU process does and goes when it exits (or its pid is reused: the start time tells).
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest_text.h"
#include "util.h"
#include "vms.h"

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

int qemu_stat(int pid, unsigned long long *cpu, unsigned long long *start, char *state)
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

bool vm_qemu_alive(const struct vm *vm)
{
	unsigned long long st;
	char state;

	return qemu_stat(vm->pid, NULL, &st, &state) == 0 && st == vm->starttime &&
	       state != 'Z' && state != 'X';
}

/* The library's messages about one guest (on the worker thread that crawls it). */
static void guest_log(void *userdata, enum nfm_log_level level, const char *msg)
{
	struct vm *vm = userdata;
	char esc[512];

	if (level == NFM_LOG_ERR)
		snprintf(vm->g.last_error, sizeof(vm->g.last_error), "%s", msg);
	if ((int)level <= vm->log->level && level != NFM_LOG_ERR)
		logmsg(vm->log, level, "vm %s: %s", vm->label_vm,
		       guest_escape(msg, strlen(msg), esc, sizeof(esc)));
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

static struct vm *vm_new(const struct vm_table *t, const struct nfm_vm_info *vi,
			 unsigned long long starttime)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	struct sbuf b = { 0 };

	if (!vm)
		return NULL;
	vm->info = *vi;
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
	vm->nr_nics = nfm_vm_nics(vi->pid, vm->nics, 16);
	if (vm->nr_nics > 16)
		vm->nr_nics = 16;
	else if (vm->nr_nics < 0)
		vm->nr_nics = 0;	/* gone already, or not ours to read: compared with none */
	vm->ram_size = vi->ram_size;
	vm->status = VS_ATTACHING;
	vm->first_seen = now_mono();
	vm->discovered_at = now_real();
	vm->retry_at = vm->first_seen;
	vm->log = t->log;
	vm->g.log = (struct nfm_log){ .fn = guest_log, .userdata = vm,
				      .max_level = t->log->level >= NFM_LOG_DEBUG ? NFM_LOG_DEBUG : NFM_LOG_ERR };
	return vm;
}

const char *const vm_run_states[] = { "running", "paused", "shutdown", "suspended", "panicked",
				       "other", NULL };

const char *vm_run_state(const struct vm *vm)
{
	static const struct { const char *qemu, *state; } fold[] = {
		{ "running", "running" }, { "paused", "paused" }, { "shutdown", "shutdown" },
		{ "suspended", "suspended" }, { "guest-panicked", "panicked" },
	};

	if (!vm->run_state[0])
		return vm->status == VS_PAUSED ? "paused" : "running";
	for (size_t i = 0; i < sizeof(fold) / sizeof(fold[0]); i++)
		if (!strcmp(vm->run_state, fold[i].qemu))
			return fold[i].state;
	return "other";
}

void guest_detach(struct guest *g)
{
	nfm_ctx_free(g->ctx);
	g->ctx = NULL;
	nfm_source_free(g->src);
	g->src = NULL;
	nfm_host_vm_free(g->host);
	g->host = NULL;
	/* the recorder reads the source: it goes with it (the store stays open) */
	nfm_recorder_free(g->rec.rec);
	g->rec.rec = NULL;
}

void vm_drop_sections(struct vm *vm)
{
	for (int f = 0; f < F_NR; f++) {
		section_unref(vm->sec[f]);
		vm->sec[f] = NULL;
	}
}

static void vm_free(struct vm *vm)
{
	struct record_frame *f, *next;

	guest_detach(&vm->g);
	vm_drop_sections(vm);
	nfm_store_close(vm->g.rec.store);
	json_object_put(vm->rec_prev);
	for (f = vm->rec_queue; f; f = next) {
		next = f->next;
		free(f->text);
		free(f);
	}
	free(vm);
}

void vm_table_remove(struct vm_table *t, struct vm *vm)
{
	struct vm **pp;

	for (pp = &t->head; *pp; pp = &(*pp)->next)
		if (*pp == vm) {
			*pp = vm->next;
			t->n--;
			break;
		}
	vm_free(vm);
}

int vm_table_init(struct vm_table *t, const struct nfmd_config *cfg, const struct nfmd_log *log)
{
	*t = (struct vm_table){ .cfg = cfg, .log = log, .cap = cfg->max_vms * 2 + 16 };
	t->list = calloc((size_t)t->cap, sizeof(*t->list));
	return t->list ? 0 : -ENOMEM;
}

void vm_table_free(struct vm_table *t)
{
	while (t->head) {
		struct vm *vm = t->head;

		t->head = vm->next;
		if (!vm->busy)	/* a busy one belongs to a worker that may still run */
			vm_free(vm);
	}
	t->n = 0;
	free(t->list);
	t->list = NULL;
}

void vm_table_rescan(struct vm_table *t)
{
	const struct nfmd_config *cfg = t->cfg;
	struct nfm_vm_info *list = t->list;
	struct vm *vm, *next, **pp;
	int n, i;

	n = nfm_vm_list(list, t->cap);
	if (n < 0) {
		logmsg(t->log, NFM_LOG_ERR, "cannot list QEMU processes: %s", strerror(-n));
		return;
	}
	if (n > t->cap)
		n = t->cap;
	/* Mark: a VM is kept if its pid is listed with the same start time. */
	bool *seen = calloc(t->n + 1, sizeof(bool));

	if (!seen)
		return;
	for (i = 0; i < n; i++) {
		unsigned long long st;
		size_t k = 0;
		bool found = false;

		if (cfg->only && fnmatch(cfg->only, list[i].name, 0) != 0)
			continue;
		if (qemu_stat(list[i].pid, NULL, &st, NULL) < 0)
			continue;	/* gone already */
		for (vm = t->head; vm; vm = vm->next, k++)
			if (vm->pid == list[i].pid && vm->starttime == st && !vm->gone) {
				seen[k] = true;
				found = true;
			}
		if (found)
			continue;
		if (t->n >= (size_t)cfg->max_vms) {
			if (!t->warned_max)
				logmsg(t->log, NFM_LOG_WARN, "more than %d VMs: ignoring the rest (--max-vms)",
				       cfg->max_vms);
			t->warned_max = true;
			continue;
		}
		vm = vm_new(t, &list[i], st);
		if (!vm)
			continue;
		/* Append: keeps seen[] indexes of the VMs before it valid. */
		for (pp = &t->head; *pp; pp = &(*pp)->next)
			;
		*pp = vm;
		t->n++;
		{
			bool *s2 = realloc(seen, (t->n + 1) * sizeof(bool));

			if (!s2) {
				free(seen);
				return;
			}
			seen = s2;
			seen[t->n - 1] = true;
		}
		logmsg(t->log, NFM_LOG_INFO, "vm %s (pid %d): found%s", vm->label_vm, vm->pid,
		       vm->libvirt ? " (libvirt domain)" : "");
	}
	/* Sweep; i is the position each VM had when seen[] was filled. */
	i = 0;
	for (vm = t->head; vm; vm = next, i++) {
		next = vm->next;
		if (seen[i] || vm->gone)
			continue;
		logmsg(t->log, NFM_LOG_INFO, "vm %s (pid %d): gone", vm->label_vm, vm->pid);
		if (vm->busy) {
			vm->gone = true;	/* freed when its crawl comes back */
			vm->status = VS_GONE;
		} else {
			vm_table_remove(t, vm);
		}
	}
	free(seen);
}

struct vm *vm_table_find(const struct vm_table *t, const char *s)
{
	struct vm *vm;
	char *end;
	long pid;

	for (vm = t->head; vm; vm = vm->next)
		if (!vm->gone && !strcmp(vm->name, s))
			return vm;
	pid = strtol(s, &end, 10);
	if (end != s && !*end && pid > 0)
		for (vm = t->head; vm; vm = vm->next)
			if (!vm->gone && vm->pid == pid)
				return vm;
	return NULL;
}
