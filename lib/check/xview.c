// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Cross-view checks: what one kernel structure says against another that should agree, the
 * traces a rootkit leaves when it patches one and not the other.
 *  - System call tables: every entry of sys_call_table (and ia32_sys_call_table) should be the
 *    start of a core-kernel function; a handler in a module, or in the middle of something,
 *    is a hook. (Since 6.9 x86-64 dispatches through a switch, but the table is still there,
 *    and still what hooking code patches.)
 *  - Modules: the modules list (what lsmod and /proc/modules walk, what list_del() hides a
 *    module from) against module_kset (/sys/module), where every loaded module's kobject stays.
 *  - Processes: the task list (what ps and /proc walk) against the PID table (init_pid_ns's
 *    IDR), which every thread stays in as long as it lives.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nfm/system.h>

#include "core/context.h"
#include "walk/fields.h"
#include "walk/list.h"
#include "util/pack.h"
#include "walk/xarray.h"

#include <nfm/task.h>

#define MAX_SYSCALLS 1024
#define MAX_KOBJECTS 8192
#define MAX_MODULES 4096

/* The entries of one table: its symbol's extent, up to where the next symbol starts. */
static int syscall_table(struct nfm_ctx *ctx, struct nfm_pack *pk, const char *table, bool ia32,
			 uint64_t stext, uint64_t etext)
{
	uint64_t base, handlers[MAX_SYSCALLS];
	unsigned int n;

	if (nfm_sym_lookup(ctx, table, &base, NULL) < 0)
		return ia32 ? 0 : -ENOENT;	/* the compat table is optional */
	for (n = 0; n < MAX_SYSCALLS; n++) {
		const char *name;
		uint64_t off;

		if (nfm_sym_symbolize(ctx, base + 8ull * n, &name, NULL, &off) < 0 ||
		    strcmp(name, table) || off != 8ull * n)
			break;
	}
	if (!n && nfm_kallsyms_lookup(ctx->ks, table, &base) < 0) {
		/* found by its shape (arm64 without KALLSYMS_ALL): where it ends is not known, and
		 * guessing it from the entries would stop at the first hooked one */
		nfm_err(&ctx->log, "%s's length is unknown (kallsyms without data symbols)",
			table);
		return -EOPNOTSUPP;
	}
	if (!n || nfm_kread(ctx, base, handlers, 8ull * n) < 0)
		return -EBADMSG;
	/* Every syscall has a handler (sys_ni_syscall at least): zeros at the end are padding. */
	while (n && !handlers[n - 1])
		n--;
	for (unsigned int i = 0; i < n; i++) {
		struct nfm_syscall_entry *e = nfm_pack_add(pk);
		const char *name = NULL, *mod = NULL;
		uint64_t off = 0;

		if (!e)
			return -ENOMEM;
		e->nr = i;
		e->ia32 = ia32;
		e->handler = handlers[i];
		if (nfm_sym_symbolize_module(ctx, handlers[i], &name, NULL, &off, &mod) == 0) {
			e->symbol = nfm_pack_str(pk, name, strlen(name));
			e->offset = off;
			if (mod)
				e->module = nfm_pack_str(pk, mod, strlen(mod));
		}
		e->ok = name && !mod && !off && handlers[i] >= stext && handlers[i] < etext;
	}
	return 0;
}

int nfm_syscall_table(struct nfm_ctx *ctx, struct nfm_syscall_entry **ret)
{
	static const size_t fields[] = { offsetof(struct nfm_syscall_entry, symbol),
					 offsetof(struct nfm_syscall_entry, module) };
	uint64_t stext, etext;
	struct nfm_pack pk;
	int err;

	if (nfm_ksym(ctx, "_stext", &stext) < 0 || nfm_ksym(ctx, "_etext", &etext) < 0)
		return -ENOENT;
	nfm_pack_init(&pk, sizeof(struct nfm_syscall_entry));
	err = syscall_table(ctx, &pk, "sys_call_table", false, stext, etext);
	if (err == 0)
		err = syscall_table(ctx, &pk, "ia32_sys_call_table", true, stext, etext);
	if (err < 0) {
		nfm_pack_free(&pk);
		return err;
	}
	return nfm_pack_finish(&pk, fields, 2, (void **)ret);
}

struct kset_off {
	int32_t kset_list, kobj_entry, kobj_name, mk_kobj, mk_mod;
};

static const struct nfm_field_spec kset_specs[] = {
	NFM_FIELD(struct kset_off, kset_list, "kset", "list", 0),
	NFM_FIELD(struct kset_off, kobj_entry, "kobject", "entry", 0),
	NFM_FIELD(struct kset_off, kobj_name, "kobject", "name", 0),
	NFM_FIELD(struct kset_off, mk_kobj, "module_kobject", "kobj", 0),
	NFM_FIELD(struct kset_off, mk_mod, "module_kobject", "mod", 0),
};

static struct nfm_module_view *view_of(struct nfm_module_view *v, int n, uint64_t mod)
{
	for (int i = 0; i < n; i++)
		if (v[i].module == mod)
			return &v[i];
	return NULL;
}

int nfm_module_views(struct nfm_ctx *ctx, struct nfm_module_view **ret)
{
	struct nfm_module *mods;
	struct nfm_module_view *v;
	struct kset_off o;
	struct nfm_list_iter it;
	uint64_t kset_ptr, node;
	int n, cap, err;

	n = nfm_module_list(ctx, &mods, NULL);
	if (n < 0)
		return n;
	cap = n + 64;
	v = calloc((size_t)cap, sizeof(*v));
	if (!v) {
		free(mods);
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		memcpy(v[i].name, mods[i].name, sizeof(v[i].name));
		v[i].module = mods[i].module;
		v[i].in_list = true;
	}
	free(mods);
	err = nfm_resolve_fields(ctx, kset_specs, sizeof(kset_specs) / sizeof(kset_specs[0]), &o);
	if (err == 0)
		err = nfm_ksym(ctx, "module_kset", &kset_ptr);
	if (err == 0 && (nfm_kread_u64(ctx, kset_ptr, &kset_ptr) < 0 || !nfm_kptr_ok(ctx, kset_ptr)))
		err = -EBADMSG;
	if (err < 0) {
		free(v);
		return err;
	}
	/* Every kobject of module_kset; those embedded in a struct module point back at it. */
	nfm_list_iter_init(&it, ctx, kset_ptr + (uint64_t)o.kset_list, MAX_KOBJECTS);
	while (nfm_list_iter_next(&it, &node) > 0) {
		uint64_t kobj = nfm_container_of(node, o.kobj_entry);
		uint64_t mk = nfm_container_of(kobj, o.mk_kobj), mod = 0, name;
		struct nfm_module_view *e;

		if (nfm_kread_u64(ctx, mk + (uint64_t)o.mk_mod, &mod) < 0 || !mod)
			continue;	/* built-in: a module_kobject of its own, for parameters */
		if (!nfm_kptr_ok(ctx, mod))
			continue;
		e = view_of(v, n, mod);
		if (!e) {
			if (n == cap || n >= MAX_MODULES)
				break;
			e = &v[n++];
			e->module = mod;
			if (nfm_kread_u64(ctx, kobj + (uint64_t)o.kobj_name, &name) < 0 ||
			    nfm_kread_str(ctx, name, e->name, sizeof(e->name)) < 0)
				snprintf(e->name, sizeof(e->name), "?");
		}
		e->in_sysfs = true;
	}
	*ret = v;
	return n;
}

struct pid_off {
	int32_t ns_idr, idr_rt, xa_head, xn_shift, xn_slots, pid_tasks, task_pid_links;
	int32_t task_group_leader, task_pid, task_comm;
};

static const struct nfm_field_spec pid_specs[] = {
	NFM_FIELD(struct pid_off, ns_idr, "pid_namespace", "idr", 0),
	NFM_FIELD(struct pid_off, idr_rt, "idr", "idr_rt", 0),
	NFM_FIELD(struct pid_off, xa_head, "xarray", "xa_head", 0),
	NFM_FIELD(struct pid_off, xn_shift, "xa_node", "shift", 0),
	NFM_FIELD(struct pid_off, xn_slots, "xa_node", "slots", 0),
	NFM_FIELD(struct pid_off, pid_tasks, "pid", "tasks", 0),	/* tasks[PIDTYPE_PID] */
	NFM_FIELD(struct pid_off, task_pid_links, "task_struct", "pid_links", 0),
	NFM_FIELD(struct pid_off, task_group_leader, "task_struct", "group_leader", 0),
	NFM_FIELD(struct pid_off, task_pid, "task_struct", "pid", 0),
	NFM_FIELD(struct pid_off, task_comm, "task_struct", "comm", 0),
};

struct tviews {
	struct nfm_ctx *ctx;
	const struct pid_off *o;
	struct nfm_task_view *v;
	size_t n, cap;
	uint32_t *slots;	/* index + 1 into v by task address, open addressing; 2 * cap */
	uint8_t *walks;		/* per view: bit 0 the first task list walk saw it, bit 1 the second */
	int walk;
	int err;
};

static size_t slot_of(const struct tviews *t, uint64_t task)
{
	size_t mask = 2 * t->cap - 1, s = (size_t)((task >> 4) * 0x9e3779b97f4a7c15ull) & mask;

	while (t->slots[s] && t->v[t->slots[s] - 1].task != task)
		s = (s + 1) & mask;
	return s;
}

/* The view of this task_struct, added if new: NULL when out of memory or past NFM_TASK_MAX. */
static struct nfm_task_view *tview(struct tviews *t, uint64_t task)
{
	size_t s;

	if (t->cap && t->slots[s = slot_of(t, task)])
		return &t->v[t->slots[s] - 1];
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		struct nfm_task_view *p = cap > NFM_TASK_MAX ? NULL : realloc(t->v, cap * sizeof(*p));
		uint32_t *slots = p ? calloc(2 * cap, sizeof(*slots)) : NULL;
		uint8_t *walks = slots ? realloc(t->walks, cap) : NULL;

		if (p)
			t->v = p;
		if (walks)
			t->walks = walks;
		if (!walks) {
			free(slots);
			t->err = -ENOMEM;
			return NULL;
		}
		t->v = p;
		t->cap = cap;
		free(t->slots);
		t->slots = slots;
		for (size_t i = 0; i < t->n; i++)
			t->slots[slot_of(t, t->v[i].task)] = (uint32_t)i + 1;
	}
	memset(&t->v[t->n], 0, sizeof(t->v[0]));
	t->v[t->n].task = task;
	t->walks[t->n] = 0;
	t->slots[slot_of(t, task)] = (uint32_t)t->n + 1;
	return &t->v[t->n++];
}

static int task_list(struct tviews *t)
{
	struct nfm_task_iter *it;
	struct nfm_task task;
	int r = nfm_task_iter_new(t->ctx, 0, &it);

	if (r < 0)
		return r;
	while ((r = nfm_task_iter_next(it, &task)) > 0) {
		struct nfm_task_view *e = tview(t, task.addr);

		if (!e)
			break;
		e->in_list = true;
		t->walks[e - t->v] |= (uint8_t)(1u << t->walk);
		e->pid = task.pid;
		memcpy(e->comm, task.comm, sizeof(e->comm));
		e->comm[sizeof(e->comm) - 1] = 0;
	}
	nfm_task_iter_free(it);
	return t->err ? t->err : r;
}

static int kread_cb(void *arg, uint64_t va, void *buf, size_t len)
{
	return nfm_kread(arg, va, buf, len);
}

/* One IDR entry: a struct pid; its first task by PIDTYPE_PID, and that task's group leader. */
static int pid_entry(void *arg, uint64_t nr, uint64_t pid)
{
	struct tviews *t = arg;
	const struct pid_off *o = t->o;
	uint64_t first = 0, task, leader = 0;
	struct nfm_task_view *e;

	(void)nr;
	if (!nfm_kptr_ok(t->ctx, pid) ||
	    nfm_kread_u64(t->ctx, pid + (uint64_t)o->pid_tasks, &first) < 0 || !first)
		return 0;	/* a PID being set up or torn down: no task */
	task = nfm_container_of(first, o->task_pid_links);
	if (!nfm_kptr_ok(t->ctx, first) ||
	    nfm_kread_u64(t->ctx, task + (uint64_t)o->task_group_leader, &leader) < 0 ||
	    !nfm_kptr_ok(t->ctx, leader))
		return 0;
	e = tview(t, leader);
	if (!e)
		return 1;
	if (!e->in_list && !e->in_pid_table) {
		uint32_t p = 0;

		nfm_kread_u32(t->ctx, leader + (uint64_t)o->task_pid, &p);
		e->pid = (int32_t)p;
		if (nfm_kread(t->ctx, leader + (uint64_t)o->task_comm, e->comm, sizeof(e->comm)) < 0)
			e->comm[0] = 0;
		e->comm[sizeof(e->comm) - 1] = 0;
	}
	e->in_pid_table = true;
	return 0;
}

/* One look: the task list, the PID table, the task list again. The count or -errno. */
static int views_once(struct nfm_ctx *ctx, const struct pid_off *o, uint64_t ns,
		      struct nfm_task_view **ret)
{
	struct tviews t = { .ctx = ctx, .o = o };
	const struct nfm_xa_layout l = { o->xn_shift, o->xn_slots };
	uint64_t head;
	int err;

	/* Each view reads guest memory afresh (not the pages the one before cached). */
	nfm_ctx_refresh(ctx);
	err = task_list(&t);
	nfm_ctx_refresh(ctx);
	if (err == 0 && nfm_kread_u64(ctx, ns + (uint64_t)o->ns_idr + (uint64_t)o->idr_rt +
				      (uint64_t)o->xa_head, &head) < 0)
		err = -EFAULT;
	if (err == 0) {
		int n = nfm_xa_for_each(kread_cb, ctx, &l, head, NFM_TASK_MAX, pid_entry, &t);

		err = n < 0 ? n : t.err;
	}
	if (err == 0) {
		t.walk = 1;
		nfm_ctx_refresh(ctx);
		err = task_list(&t);	/* again: a process that started meanwhile is not hidden */
	}
	/* One not in the PID table counts only if on the list before and after (not exiting). */
	if (err == 0) {
		size_t k = 0;

		for (size_t i = 0; i < t.n; i++)
			if (!t.v[i].in_list || t.v[i].in_pid_table || t.walks[i] == 3)
				t.v[k++] = t.v[i];
		t.n = k;
	}
	free(t.slots);
	free(t.walks);
	if (err < 0) {
		free(t.v);
		return err;
	}
	*ret = t.v;
	return (int)t.n;
}

static bool odd(const struct nfm_task_view *e)
{
	return !e->in_list || !e->in_pid_table;
}

/* Is task odd in that look too? */
static bool odd_in(const struct nfm_task_view *v, int n, uint64_t task)
{
	for (int i = 0; i < n; i++)
		if (v[i].task == task)
			return odd(&v[i]);
	return false;
}

#define LOOKS 4
#define LOOK_PAUSE_NS 20000000L

int nfm_task_views(struct nfm_ctx *ctx, struct nfm_task_view **ret)
{
	struct nfm_task_view *v = NULL, *prev = NULL;
	struct pid_off o;
	uint64_t ns;
	int err, n = 0, pn = 0, look;

	err = nfm_resolve_fields(ctx, pid_specs, sizeof(pid_specs) / sizeof(pid_specs[0]), &o);
	if (err == 0)
		err = nfm_ksym(ctx, "init_pid_ns", &ns);
	if (err < 0)
		return err;
	/*
	 * A live guest changes both views under tasklist_lock, one store after the other; a vCPU
	 * descheduled in between (TCG on a busy host: milliseconds) shows a process in one view
	 * only for as long. What is real stays so: a finding must persist over every look, a
	 * few tens of milliseconds apart. A dump needs one look.
	 */
	for (look = 0; look < LOOKS; look++) {
		bool any = false;

		n = views_once(ctx, &o, ns, &v);
		if (n < 0) {
			free(prev);
			return n;
		}
		for (int i = 0; i < n; i++) {
			if (odd(&v[i]) && look && !odd_in(prev, pn, v[i].task))
				v[i].in_list = v[i].in_pid_table = true;	/* came and went */
			any = any || odd(&v[i]);
		}
		free(prev);
		prev = NULL;
		if (!any || !nfm_source_is_live(ctx->src) || look == LOOKS - 1)
			break;
		prev = v;
		pn = n;
		nanosleep(&(struct timespec){ 0, LOOK_PAUSE_NS }, NULL);
	}
	*ret = v;
	return n;
}
