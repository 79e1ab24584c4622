// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Modules, cross-view findings, mounts, the kernel log, memory, load, CPUs, the kernel, VMs,
 * cached files, symbols and YARA matches as JSON (one doc/schema file each, named below).
 */
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include "objects.h"

#define A(k, v) j_add(o, k, v)

/* Matches doc/schema/module.json. */
struct json_object *obj_module(const struct nfm_module *m)
{
	struct json_object *o = json_object_new_object(), *u = json_object_new_array();
	const char *p = m->users ? m->users : "-", *c;

	A("name", j_strn(m->name, sizeof(m->name)));
	A("size_bytes", j_u64(m->size));
	A("refcount", j_int(m->refcount));
	/* "a,b," -> ["a", "b"]; "[permanent]," -> ["[permanent]"]; "-" -> [] */
	while (strcmp(p, "-") && (c = strchr(p, ','))) {
		json_object_array_add(u, j_bytes(p, (size_t)(c - p)));
		p = c + 1;
	}
	A("users", u);
	A("state", j_str(m->state ? m->state : ""));
	A("taints", j_strn(m->taints, sizeof(m->taints)));
	A("address", j_addr(m->address));
	A("module", j_addr(m->module));
	return o;
}

/* Matches doc/schema/check_finding.json#/$defs/syscall. */
struct json_object *obj_syscall_entry(const struct nfm_syscall_entry *e)
{
	struct json_object *o = json_object_new_object();

	A("nr", j_int(e->nr));
	A("table", json_object_new_string(e->ia32 ? "ia32_sys_call_table" : "sys_call_table"));
	A("ok", j_bool(e->ok));
	A("handler", j_addr(e->handler));
	A("symbol", j_str(e->symbol));
	A("offset_bytes", j_u64(e->offset));
	A("module", j_str(e->module));
	return o;
}

/* Matches doc/schema/check_finding.json#/$defs/module_view. */
struct json_object *obj_module_view(const struct nfm_module_view *v)
{
	struct json_object *o = json_object_new_object();

	A("name", j_strn(v->name, sizeof(v->name)));
	A("module", j_addr(v->module));
	A("in_list", j_bool(v->in_list));
	A("in_sysfs", j_bool(v->in_sysfs));
	return o;
}

/* Matches doc/schema/check_finding.json#/$defs/task_view. */
struct json_object *obj_task_view(const struct nfm_task_view *v)
{
	struct json_object *o = json_object_new_object();

	A("pid", j_int(v->pid));
	j_add_bytes(o, "comm", v->comm, strnlen(v->comm, sizeof(v->comm)));
	A("task", j_addr(v->task));
	A("in_list", j_bool(v->in_list));
	A("in_pid_table", j_bool(v->in_pid_table));
	return o;
}

/* Matches doc/schema/mount.json. */
struct json_object *obj_mount(const struct nfm_mount *m)
{
	struct json_object *o = json_object_new_object();

	A("device", j_str(m->device ? m->device : ""));
	A("path", j_str(m->path ? m->path : ""));
	A("fstype", j_str(m->fstype ? m->fstype : ""));
	A("options", j_str(m->options ? m->options : ""));
	A("options_complete", j_bool(m->options_complete));
	A("mnt_id", j_int(m->mnt_id));
	A("mount", j_addr(m->mount));
	return o;
}

/* Matches doc/schema/log_record.json. */
struct json_object *obj_log_record(const struct nfm_log_record *r)
{
	static const char *const levels[] = { "emerg", "alert", "crit", "err", "warn", "notice",
					      "info", "debug" };
	static const char *const facilities[] = { "kern", "user", "mail", "daemon", "auth",
		"syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp", "ntp", "security",
		"console", "solaris-cron", "local0", "local1", "local2", "local3", "local4",
		"local5", "local6", "local7" };
	struct json_object *o = json_object_new_object();
	char c[16];

	A("seq", j_u64(r->seq));
	A("time_ns", j_u64(r->ts_nsec));
	A("level", json_object_new_string(r->level >= 0 && r->level < 8 ? levels[r->level] :
					  "unknown"));
	A("level_code", j_int(r->level));
	A("facility", json_object_new_string(r->facility >= 0 && r->facility < 24 ?
					     facilities[r->facility] : "unknown"));
	A("facility_code", j_int(r->facility));
	A("caller_id", j_int(r->caller_id));
	/* As the kernel prints it with CONFIG_PRINTK_CALLER: "[T123]" a task, "[C2]" a CPU. */
	snprintf(c, sizeof(c), "%c%u", r->caller_id & 0x80000000u ? 'C' : 'T',
		 r->caller_id & 0x7fffffffu);
	A("caller", json_object_new_string(c));
	j_add_bytes(o, "text", r->text ? r->text : "", r->text ? r->text_len : 0);
	return o;
}

/* Matches doc/schema/memory.json. */
struct json_object *obj_memory(const struct nfm_meminfo *m)
{
	struct json_object *o = json_object_new_object();

#define KB(k, v) A(k, j_u64((uint64_t)(v) * 1024))
	KB("mem_total_bytes", m->mem_total);
	KB("mem_free_bytes", m->mem_free);
	KB("mem_available_bytes", m->mem_available);
	KB("buffers_bytes", m->buffers);
	KB("cached_bytes", m->cached);
	KB("swap_cached_bytes", m->swap_cached);
	KB("swap_total_bytes", m->swap_total);
	KB("swap_free_bytes", m->swap_free);
	KB("shmem_bytes", m->shmem);
	KB("slab_reclaimable_bytes", m->slab_reclaimable);
	KB("slab_unreclaimable_bytes", m->slab_unreclaimable);
#undef KB
	return o;
}

/* Matches doc/schema/loadavg.json. */
struct json_object *obj_loadavg(const struct nfm_loadavg *l)
{
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();
	int i;

	A("load1", j_fixed(l->load[0], 2));
	A("load5", j_fixed(l->load[1], 2));
	A("load15", j_fixed(l->load[2], 2));
	for (i = 0; i < 3; i++)
		json_object_array_add(a, j_u64(l->avenrun[i]));
	A("avenrun", a);
	A("running", j_int(l->running));
	A("threads", j_int(l->threads));
	A("last_pid", j_int(l->last_pid));
	A("text", j_strn(l->text, sizeof(l->text)));
	return o;
}

/* Matches doc/schema/cpu_times.json. */
struct json_object *obj_cpu_times(const struct nfm_cpu_times *t)
{
	struct json_object *o = json_object_new_object();

	A("cpu", j_int(t->cpu));
	A("user_ns", j_u64(t->user));
	A("nice_ns", j_u64(t->nice));
	A("system_ns", j_u64(t->system));
	A("idle_ns", j_u64(t->idle));
	A("iowait_ns", j_u64(t->iowait));
	A("irq_ns", j_u64(t->irq));
	A("softirq_ns", j_u64(t->softirq));
	A("steal_ns", j_u64(t->steal));
	A("guest_ns", j_u64(t->guest));
	A("guest_nice_ns", j_u64(t->guest_nice));
	return o;
}

/* "fpu vme de" -> ["fpu", "vme", "de"] */
static struct json_object *words(const char *s)
{
	struct json_object *a = json_object_new_array();
	size_t n;

	while (s && *s) {
		s += strspn(s, " ");
		n = strcspn(s, " ");
		if (n)
			json_object_array_add(a, j_bytes(s, n));
		s += n;
	}
	return a;
}

/* Matches doc/schema/cpuinfo.json. */
struct json_object *obj_cpuinfo(const struct nfm_cpuinfo *c)
{
	struct json_object *o = json_object_new_object();

	A("processor", j_int(c->cpu));
	A("vendor_id", j_strn(c->vendor_id, sizeof(c->vendor_id)));
	A("cpu_family", j_int(c->family));
	A("model", j_int(c->model));
	A("model_name", j_strn(c->model_name, sizeof(c->model_name)));
	A("stepping", j_int(c->stepping));
	A("microcode", j_int(c->microcode));
	A("cpu_mhz", j_fixed(c->mhz, 3));
	if (c->cache_size_kb)
		A("cache_size_bytes", j_u64((uint64_t)c->cache_size_kb * 1024));
	A("physical_id", j_int(c->physical_id));
	A("siblings", j_int(c->siblings));
	A("core_id", j_int(c->core_id));
	A("cpu_cores", j_int(c->cores));
	A("apicid", j_int(c->apicid));
	A("initial_apicid", j_int(c->initial_apicid));
	A("cpuid_level", j_int(c->cpuid_level));
	A("phys_bits", j_int(c->phys_bits));
	A("virt_bits", j_int(c->virt_bits));
	A("flags", words(c->flags));
	A("bugs", words(c->bugs));
	return o;
}

/* Matches doc/schema/cpuinfo.json (arm64's fields). */
struct json_object *obj_cpuinfo_arm64(const struct nfm_cpuinfo_arm64 *c)
{
	struct json_object *o = json_object_new_object();

	A("processor", j_int(c->cpu));
	if (c->bogomips_centi >= 0)
		A("bogomips", j_fixed(c->bogomips_centi / 100.0, 2));
	if (c->features)
		A("features", words(c->features));
	A("cpu_implementer", j_int(c->midr >> 24));
	A("cpu_architecture", j_int(8));
	A("cpu_variant", j_int(c->midr >> 20 & 0xf));
	A("cpu_part", j_int(c->midr >> 4 & 0xfff));
	A("cpu_revision", j_int(c->midr & 0xf));
	return o;
}

/* Matches doc/schema/kernel.json. */
struct json_object *obj_kernel(const struct nfm_kernel_info *ki)
{
	struct json_object *o = json_object_new_object();

#define S(k) A(#k, j_strn(ki->k, sizeof(ki->k)))
	S(sysname);
	S(nodename);
	S(release);
	S(version);
	S(machine);
	S(domainname);
	S(banner);
#undef S
	A("paging_levels", j_int(ki->paging_levels));
	A("kaslr_offset", j_addr(ki->kaslr_offset));
	A("phys_base", j_int(ki->phys_base));
	A("page_offset", j_addr(ki->page_offset));
	A("kernel_pgd", j_addr(ki->kernel_pgd));
	A("vmcoreinfo_pa", j_addr(ki->vmcoreinfo_pa));
	A("cpus_online", j_int(ki->nr_cpus_online));
	A("cpus_possible", j_int(ki->nr_cpus_possible));
	A("mem_total_bytes", j_u64(ki->mem_total));
	A("ram_bytes", j_u64(ki->ram_size));
	A("nr_symbols", j_u64(ki->nr_symbols));
	A("nr_btf_types", j_u64(ki->nr_btf_types));
	A("vmcoreinfo_from", j_strn(ki->vmcoreinfo_how, sizeof(ki->vmcoreinfo_how)));
	A("symbols_from", j_strn(ki->symbols_how, sizeof(ki->symbols_how)));
	A("btf_from", j_strn(ki->btf_how, sizeof(ki->btf_how)));
	A("attach_ns", j_u64(isfinite(ki->attach_ms) && ki->attach_ms > 0 ?
			     (uint64_t)llround(ki->attach_ms * 1e6) : 0));
	return o;
}

/* Matches doc/schema/vm.json. */
struct json_object *obj_vm(const struct nfm_vm_info *v)
{
	struct json_object *o = json_object_new_object();

	A("pid", j_int(v->pid));
	A("name", j_strn(v->name, sizeof(v->name)));
	A("ram_bytes", j_u64(v->ram_size));
	A("qmp", j_strn(v->qmp, sizeof(v->qmp)));
	return o;
}

static const char *file_type(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFDIR: return "dir";
	case S_IFREG: return "reg";
	case S_IFLNK: return "lnk";
	case S_IFCHR: return "chr";
	case S_IFBLK: return "blk";
	case S_IFIFO: return "fifo";
	case S_IFSOCK: return "sock";
	}
	return "unknown";
}

/* Matches doc/schema/fs_entry.json. */
struct json_object *obj_fs_entry(const struct nfm_fs_entry *e, uint64_t page_size)
{
	struct json_object *o = json_object_new_object();

	if (!page_size)
		page_size = 4096;
	j_add_bytes(o, "name", e->name, strnlen(e->name, sizeof(e->name)));
	A("type", json_object_new_string(file_type(e->mode)));
	A("mode", j_int(e->mode));
	A("inode", j_u64(e->ino));
	A("size_bytes", j_u64(e->size));
	A("cached_pages", j_u64(e->nrpages));
	A("cached_bytes", j_u64(e->nrpages * page_size));
	A("mountpoint", j_bool(e->mountpoint));
	A("dentry", j_addr(e->dentry));
	A("inode_struct", j_addr(e->inode));
	return o;
}

/* Matches doc/schema/symbol.json. */
struct json_object *obj_symbol(const char *name, char type, uint64_t address, const char *module)
{
	struct json_object *o = json_object_new_object();

	A("name", j_str(name ? name : ""));
	if (type)
		A("type", json_object_new_string_len(&type, 1));
	A("address", j_addr(address));
	A("module", j_str(module));
	return o;
}

/* Matches doc/schema/kmem_allocation.json. */
struct json_object *obj_kmem_allocation(uint64_t query, const struct nfm_kmem *a)
{
	struct json_object *o = json_object_new_object();

	A("query", j_addr(query));
	A("kind", j_str(a ? nfm_kmem_kind_name(a->kind) : "none"));
	if (!a)
		return o;
	A("start", j_addr(a->start));
	A("size_bytes", j_u64(a->size));
	A("offset_bytes", j_u64(query - a->start));
	if (a->kind == NFM_KMEM_SLAB) {
		A("slot_size_bytes", j_u64(a->slot_size));
		A("cache", j_addr(a->cache));
		A("cache_name", j_str(a->cache_name));
	}
	if (a->kind == NFM_KMEM_SLAB || a->kind == NFM_KMEM_PAGES)
		A("order", j_u64(a->order));
	return o;
}

/* Matches doc/schema/yara_match.json. */
struct json_object *obj_yara_match(const char *rule, const char *string_id, uint64_t address,
				   uint64_t length)
{
	struct json_object *o = json_object_new_object();

	A("rule", j_str(rule ? rule : ""));
	A("string", j_str(string_id ? string_id : ""));
	A("address", j_addr(address));
	A("length_bytes", j_u64(length));
	return o;
}
