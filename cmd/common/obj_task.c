// SPDX-License-Identifier: GPL-2.0-or-later
/* Processes, mappings and open files as JSON (doc/schema/process.json, vma.json, fd.json). */
#include <stdio.h>
#include <string.h>

#include "objects.h"

#define A(k, v) j_add(o, k, v)

static const char *policy_name(uint32_t p)
{
	static const char *const names[] = { "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR",
		"SCHED_BATCH", "SCHED_ISO", "SCHED_IDLE", "SCHED_DEADLINE", "SCHED_EXT" };

	return p < sizeof(names) / sizeof(names[0]) ? names[p] : "unknown";
}

/* Matches doc/schema/process.json. */
struct json_object *obj_process(const struct nfm_task *t, bool vmrss_summed)
{
	struct json_object *o = json_object_new_object();
	const uint64_t page_size = 4096;

	A("task", j_addr(t->addr));
	A("mm", j_addr(t->mm));
	A("pid", j_int(t->pid));
	A("tgid", j_int(t->tgid));
	A("ppid", j_int(t->ppid));
	A("uid", j_int(t->uid));
	A("euid", j_int(t->euid));
	A("suid", j_int(t->suid));
	A("fsuid", j_int(t->fsuid));
	A("gid", j_int(t->gid));
	A("egid", j_int(t->egid));
	A("sgid", j_int(t->sgid));
	A("fsgid", j_int(t->fsgid));
	A("state", json_object_new_string_len(&t->state, 1));
	j_add_bytes(o, "comm", t->name, strnlen(t->name, sizeof(t->name)));
	j_add_bytes(o, "task_comm", t->comm, strnlen(t->comm, sizeof(t->comm)));
	A("kthread", j_bool(t->kthread));
	A("flags", j_int(t->flags));
	A("nice", j_int(t->nice));
	A("priority", j_int(t->priority));
	A("policy", json_object_new_string(policy_name(t->policy)));
	A("policy_code", j_int(t->policy));
	A("rt_priority", j_int(t->rt_priority));
	A("num_threads", j_int(t->nr_threads));
	A("start_time_ns", j_u64(t->start_ns));
	A("start_time_ticks", j_u64(t->start_ticks));
	A("utime_ns", j_u64(t->utime_ns));
	A("stime_ns", j_u64(t->stime_ns));
	A("utime_ticks", j_u64(t->utime_ticks));
	A("stime_ticks", j_u64(t->stime_ticks));
	A("vsize_bytes", j_u64(t->vsize));
	A("rss_pages", j_u64(t->rss_pages));
	A("rss_bytes", j_u64(nfm_task_vmrss_pages(t, vmrss_summed) * page_size));
	A("rss_exact_bytes", j_u64(t->rss_exact_pages * page_size));
	A("rss_anon_bytes", j_u64(t->rss_anon * page_size));
	A("rss_file_bytes", j_u64(t->rss_file * page_size));
	A("rss_shmem_bytes", j_u64(t->rss_shmem * page_size));
	return o;
}

static struct json_object *hex16(uint64_t v)
{
	char b[20];

	snprintf(b, sizeof(b), "%016llx", (unsigned long long)v);
	return j_str(b);
}

/* The kernel's "%*pb": 32-bit groups in hex, most significant first, comma separated, the
 * first one only as wide as its bits need (lib/vsprintf.c bitmap_string()). */
static struct json_object *mask_hex(const uint64_t *m, uint32_t nbits)
{
	char b[1024 / 32 * 9 + 1];
	size_t k = 0;
	int chunk;

	for (chunk = (int)((nbits + 31) / 32) - 1; chunk >= 0; chunk--) {
		uint32_t bits = (uint32_t)(m[chunk / 2] >> (chunk % 2 * 32));
		uint32_t width = nbits - (uint32_t)chunk * 32;

		if (width < 32)
			bits &= (1u << width) - 1;
		k += (size_t)snprintf(b + k, sizeof(b) - k, "%s%0*x", k ? "," : "",
				      width < 32 && k == 0 ? (int)((width + 3) / 4) : 8, bits);
	}
	return j_str(b);
}

/* The kernel's "%*pbl": ranges of set bits, "0-1,3" (bitmap_list_string()). */
static struct json_object *mask_list(const uint64_t *m, uint32_t nbits)
{
	char b[1024 * 6];
	size_t k = 0;
	uint32_t i = 0, j;

	b[0] = 0;
	while (i < nbits) {
		if (!(m[i / 64] >> (i % 64) & 1)) {
			i++;
			continue;
		}
		for (j = i; j + 1 < nbits && (m[(j + 1) / 64] >> ((j + 1) % 64) & 1); j++)
			;
		k += (size_t)snprintf(b + k, sizeof(b) - k, j > i ? "%s%u-%u" : "%s%u", k ? "," : "",
				      i, j);
		i = j + 1;
	}
	return j_str(b);
}

static struct json_object *int_array(const int32_t *v, uint32_t n)
{
	struct json_object *a = json_object_new_array();
	uint32_t k;

	for (k = 0; k < n; k++)
		json_object_array_add(a, j_int(v[k]));
	return a;
}

void obj_process_info(struct json_object *o, const struct nfm_task_info *i, uint64_t page_size)
{
	if (!page_size)
		page_size = 4096;
	A("pgrp", j_int(i->pgrp));
	A("session", j_int(i->session));
	A("tty_nr", j_int(i->tty_nr));
	j_add_bytes(o, "tty_name", i->tty_name, strnlen(i->tty_name, sizeof(i->tty_name)));
	A("tpgid", j_int(i->tpgid));
	A("min_flt", j_u64(i->min_flt));
	A("cmin_flt", j_u64(i->cmin_flt));
	A("maj_flt", j_u64(i->maj_flt));
	A("cmaj_flt", j_u64(i->cmaj_flt));
	A("cutime_ns", j_u64(i->cutime_ns));
	A("cstime_ns", j_u64(i->cstime_ns));
	A("cutime_ticks", j_u64(i->cutime_ns / 10000000u));
	A("cstime_ticks", j_u64(i->cstime_ns / 10000000u));
	A("rsslim_bytes", j_u64(i->rsslim));
	A("start_code", j_addr(i->start_code));
	A("end_code", j_addr(i->end_code));
	A("start_stack", j_addr(i->start_stack));
	A("start_data", j_addr(i->start_data));
	A("end_data", j_addr(i->end_data));
	A("start_brk", j_addr(i->start_brk));
	A("arg_start", j_addr(i->arg_start));
	A("arg_end", j_addr(i->arg_end));
	A("env_start", j_addr(i->env_start));
	A("env_end", j_addr(i->env_end));
	A("sig_pending", hex16(i->sig_pending));
	A("sig_shared_pending", hex16(i->sig_shared_pending));
	A("sig_blocked", hex16(i->sig_blocked));
	A("sig_ignored", hex16(i->sig_ignored));
	A("sig_caught", hex16(i->sig_caught));
	A("stat_wchan", j_int(i->wchan_flag));
	A("exit_signal", j_int(i->exit_signal));
	A("processor", j_int(i->processor));
	A("exit_code", j_int(i->exit_code));
	A("tracer_pid", j_int(i->tracer_pid));
	if (i->umask >= 0)
		A("umask", j_int(i->umask));
	A("cap_inheritable", hex16(i->cap_inheritable));
	A("cap_permitted", hex16(i->cap_permitted));
	A("cap_effective", hex16(i->cap_effective));
	A("cap_bounding", hex16(i->cap_bounding));
	A("cap_ambient", hex16(i->cap_ambient));
	A("no_new_privs", j_int(i->no_new_privs));
	if (i->seccomp >= 0)
		A("seccomp", j_int(i->seccomp));
	A("vm_peak_bytes", j_u64(i->vm_peak * page_size));
	A("vm_lck_bytes", j_u64(i->vm_lck * page_size));
	A("vm_pin_bytes", j_u64(i->vm_pin * page_size));
	A("vm_hwm_bytes", j_u64(i->vm_hwm * page_size));
	A("vm_data_bytes", j_u64(i->vm_data * page_size));
	A("vm_stk_bytes", j_u64(i->vm_stk * page_size));
	A("vm_exe_bytes", j_u64(i->vm_exe_bytes));
	A("vm_lib_bytes", j_u64(i->vm_lib_bytes));
	A("vm_pte_bytes", j_u64(i->vm_pte_bytes));
	A("vm_swap_bytes", j_u64(i->vm_swap * page_size));
	A("hugetlb_bytes", j_u64(i->hugetlb * page_size));
	A("voluntary_ctxt_switches", j_u64(i->nvcsw));
	A("nonvoluntary_ctxt_switches", j_u64(i->nivcsw));
	A("fd_size", j_u64(i->fd_size));
	A("guest_time_ns", j_u64(i->guest_time_ns));
	A("guest_time_ticks", j_u64(i->guest_time_ns / 10000000u));
	A("cguest_time_ns", j_u64(i->cguest_time_ns));
	A("cguest_time_ticks", j_u64(i->cguest_time_ns / 10000000u));
	if (i->seccomp_filters >= 0)
		A("seccomp_filters", j_int(i->seccomp_filters));
	if (i->core_dumping >= 0)
		A("core_dumping", j_int(i->core_dumping));
	if (i->thp_enabled >= 0)
		A("thp_enabled", j_int(i->thp_enabled));
	if (i->nr_cpu_bits && i->nr_cpu_bits <= 1024) {
		A("cpus_allowed", mask_hex(i->cpus_allowed, i->nr_cpu_bits));
		A("cpus_allowed_list", mask_list(i->cpus_allowed, i->nr_cpu_bits));
	}
	if (i->nr_mem_bits && i->nr_mem_bits <= 1024) {
		A("mems_allowed", mask_hex(i->mems_allowed, i->nr_mem_bits));
		A("mems_allowed_list", mask_list(i->mems_allowed, i->nr_mem_bits));
	}
	if (!(i->missing & NFM_TASK_INFO_SIGQ)) {
		A("sigq_queued", j_u64(i->sigq_queued));
		A("sigq_limit", j_u64(i->sigq_limit));
	}
	if (i->ns_levels && i->ns_levels <= 33) {
		A("ns_tgid", int_array(i->ns_tgid, i->ns_levels));
		A("ns_pid", int_array(i->ns_pid, i->ns_levels));
		A("ns_pgid", int_array(i->ns_pgid, i->ns_levels));
		A("ns_sid", int_array(i->ns_sid, i->ns_levels));
	}
}

void obj_process_groups(struct json_object *o, const uint32_t *gids, int n)
{
	struct json_object *a = json_object_new_array();
	int k;

	for (k = 0; k < n; k++)
		json_object_array_add(a, j_u64(gids[k]));
	A("groups", a);
}

void obj_process_cmdline(struct json_object *o, const void *cmd, size_t len,
			 const struct nfm_umem_stat *st)
{
	const char *c = cmd;
	struct json_object *argv;
	size_t i, s;

	if (!len)
		return;
	j_add_bytes(o, "cmdline", cmd, len);
	argv = json_object_new_array();
	/* NUL-separated words; a trailing NUL ends the last word, it does not start one. */
	for (i = 0, s = 0; i <= len; i++) {
		if (i == len && s == len)
			break;
		if (i == len || c[i] == 0) {
			json_object_array_add(argv, j_bytes(c + s, i - s));
			s = i + 1;
		}
	}
	A("argv", argv);
	if (st && st->pages_missing) {
		A("cmdline_pages_missing", j_int(st->pages_missing));
		A("cmdline_pages_swapped", j_int(st->pages_swapped));
	}
}

/* Matches doc/schema/vma.json. */
struct json_object *obj_vma(const struct nfm_vma *v)
{
	struct json_object *o = json_object_new_object();

	A("start", j_addr(v->start));
	A("end", j_addr(v->end));
	A("size_bytes", j_u64(v->end - v->start));
	A("perms", json_object_new_string_len(v->perms, (int)strnlen(v->perms, sizeof(v->perms))));
	A("flags", j_u64(v->flags));
	A("offset_bytes", j_u64(v->offset));
	A("dev_major", j_int(v->dev_major));
	A("dev_minor", j_int(v->dev_minor));
	A("inode", j_u64(v->ino));
	A("file", j_addr(v->file));
	j_add_bytes(o, "name", v->name, v->name_len < sizeof(v->name) ? v->name_len : sizeof(v->name));
	return o;
}

/* Matches doc/schema/fd.json. */
struct json_object *obj_fd(const struct nfm_fd *f)
{
	struct json_object *o = json_object_new_object();
	char b[16];

	A("fd", j_int(f->fd));
	A("type", j_strn(f->type, sizeof(f->type)));
	j_add_bytes(o, "path", f->path, f->path_len < sizeof(f->path) ? f->path_len : sizeof(f->path));
	A("flags", j_int(f->f_flags));
	A("pos_bytes", j_u64(f->pos));
	A("mode", j_int(f->mode));
	A("inode", j_u64(f->ino));
	A("dev_major", j_int(f->dev_major));
	A("dev_minor", j_int(f->dev_minor));
	A("file", j_addr(f->file));
	if (f->sock_family >= 0) {
		A("sock_family", json_object_new_string(obj_family_name(f->sock_family, b)));
		A("sock_family_code", j_int(f->sock_family));
		A("sock_type", json_object_new_string(obj_sock_type_name(f->sock_type, b)));
		A("sock_type_code", j_int(f->sock_type));
		A("sock_protocol_code", j_int(f->sock_protocol));
		A("proto", j_strn(f->proto, sizeof(f->proto)));
	}
	return o;
}
