// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Registered handlers: ftrace_ops (ftrace_ops_list, ended by ftrace_list_end), kprobes
 * (kprobe_table's hash chains; an aggregate probe's list; a kretprobe's handlers) and livepatches
 * (klp_patches: each replaced function and its new code). Each handler is resolved to its owner; the core kernel's own (kprobes' ftrace
 * ops, the function tracer) are listed as ok, anything else is a finding. Every walk is bounded,
 * every pointer checked before it is followed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/context.h>

#include "check/hookset.h"
#include "core/context.h"
#include "walk/fields.h"
#include "walk/list.h"

#define MAX_OPS 1024
#define MAX_PROBES 4096
#define KPROBE_TABLE_SIZE 64	/* 1 << KPROBE_HASH_BITS (6, unchanged since 2.6) */
#define MAX_HASH_BITS 16
#define MAX_PATCHES 256
#define MAX_PATCH_FUNCS 4096	/* functions of all patches together */

struct ftrace_off {
	int32_t func, next, trampoline, trampoline_size, func_hash, filter_hash;
	int32_t size_bits, buckets, count, entry_ip;
};

static const struct nfm_field_spec ftrace_specs[] = {
	NFM_FIELD(struct ftrace_off, func, "ftrace_ops", "func", 0),
	NFM_FIELD(struct ftrace_off, next, "ftrace_ops", "next", 0),
	NFM_FIELD(struct ftrace_off, trampoline, "ftrace_ops", "trampoline", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct ftrace_off, trampoline_size, "ftrace_ops", "trampoline_size",
		  NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct ftrace_off, func_hash, "ftrace_ops", "func_hash", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct ftrace_off, filter_hash, "ftrace_ops_hash", "filter_hash",
		  NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct ftrace_off, size_bits, "ftrace_hash", "size_bits", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct ftrace_off, buckets, "ftrace_hash", "buckets", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct ftrace_off, count, "ftrace_hash", "count", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct ftrace_off, entry_ip, "ftrace_func_entry", "ip", NFM_FIELD_OPTIONAL),
};

/* The ops' filter: how many functions, and the first one's address (0: every function). */
static void ftrace_filter(struct hookset *h, const struct ftrace_off *o, uint64_t ops,
			  uint64_t *site, unsigned int *nr)
{
	uint64_t fh, hash, bits, buckets, count;

	*site = 0;
	*nr = 0;
	if (o->func_hash < 0 || o->filter_hash < 0 || o->size_bits < 0 || o->buckets < 0 ||
	    o->count < 0 || o->entry_ip < 0)
		return;
	if (nfm_kread_u64(h->ctx, ops + (uint64_t)o->func_hash, &fh) < 0 || !nfm_kptr_ok(h->ctx, fh) ||
	    nfm_kread_u64(h->ctx, fh + (uint64_t)o->filter_hash, &hash) < 0 ||
	    !nfm_kptr_ok(h->ctx, hash) ||
	    nfm_kread_u64(h->ctx, hash + (uint64_t)o->size_bits, &bits) < 0 ||
	    nfm_kread_u64(h->ctx, hash + (uint64_t)o->count, &count) < 0 ||
	    nfm_kread_u64(h->ctx, hash + (uint64_t)o->buckets, &buckets) < 0)
		return;		/* the empty hash (EMPTY_HASH): every function */
	*nr = count > 1000000 ? 1000000 : (unsigned int)count;
	if (!count || bits > MAX_HASH_BITS || !nfm_kptr_ok(h->ctx, buckets))
		return;
	for (uint64_t b = 0; b < (1ull << bits); b++) {
		uint64_t first;

		/* ftrace_func_entry starts with its hlist_node: the node is the entry. */
		if (nfm_kread_u64(h->ctx, buckets + 8 * b, &first) == 0 && first &&
		    nfm_kptr_ok(h->ctx, first) &&
		    nfm_kread_u64(h->ctx, first + (uint64_t)o->entry_ip, site) == 0)
			return;
	}
}

static void add_tramp(struct hookset *h, uint64_t lo, uint64_t size)
{
	if (!lo || !size || size > 65536)
		return;
	if (h->known.ntramp == h->cap_tramp) {
		size_t cap = h->cap_tramp ? 2 * h->cap_tramp : 16;
		void *p = realloc(h->known.tramp, cap * sizeof(*h->known.tramp));

		if (!p)
			return;
		h->known.tramp = p;
		h->cap_tramp = cap;
	}
	h->known.tramp[h->known.ntramp][0] = lo;
	h->known.tramp[h->known.ntramp++][1] = lo + size;
}

int check_ftrace(struct hookset *h)
{
	struct ftrace_off o;
	uint64_t head, end, ops;
	uint64_t seen[MAX_OPS];
	int err = nfm_resolve_fields(h->ctx, ftrace_specs,
				     sizeof(ftrace_specs) / sizeof(ftrace_specs[0]), &o);

	if (err == 0 && (nfm_ksym(h->ctx, "ftrace_ops_list", &head) < 0 ||
			 nfm_ksym(h->ctx, "ftrace_list_end", &end) < 0))
		err = -ENOENT;
	if (err == 0 && nfm_kread_u64(h->ctx, head, &ops) < 0)
		err = -EFAULT;
	if (err < 0)
		return err;
	for (unsigned int n = 0; ops != end; n++) {
		uint64_t func, next, tramp = 0, site;
		uint32_t tsize = 0;
		unsigned int nr;
		struct nfm_hook *e;

		if (n == MAX_OPS || !nfm_kptr_ok(h->ctx, ops))
			return -ELOOP;
		for (unsigned int i = 0; i < n; i++)
			if (seen[i] == ops)
				return -ELOOP;
		seen[n] = ops;
		if (nfm_kread_u64(h->ctx, ops + (uint64_t)o.func, &func) < 0 ||
		    nfm_kread_u64(h->ctx, ops + (uint64_t)o.next, &next) < 0)
			return -EFAULT;
		if (o.trampoline >= 0 && o.trampoline_size >= 0) {
			nfm_kread_u64(h->ctx, ops + (uint64_t)o.trampoline, &tramp);
			nfm_kread_u32(h->ctx, ops + (uint64_t)o.trampoline_size, &tsize);
			add_tramp(h, tramp, tsize);
		}
		ftrace_filter(h, &o, ops, &site, &nr);
		h->st.nr_ftrace_ops++;
		e = hook_add(h, NFM_HOOK_FTRACE, "ftrace_ops func", ops, site, func);
		if (e)
			e->nr_sites = nr;
		ops = next;
	}
	return 0;
}

struct kprobe_off {
	int32_t hlist, list, addr, pre, post, flags;
	int32_t rp_kp, rp_handler, rp_entry;
};

static const struct nfm_field_spec kprobe_specs[] = {
	NFM_FIELD(struct kprobe_off, hlist, "kprobe", "hlist", 0),
	NFM_FIELD(struct kprobe_off, list, "kprobe", "list", 0),
	NFM_FIELD(struct kprobe_off, addr, "kprobe", "addr", 0),
	NFM_FIELD(struct kprobe_off, pre, "kprobe", "pre_handler", 0),
	NFM_FIELD(struct kprobe_off, post, "kprobe", "post_handler", 0),
	NFM_FIELD(struct kprobe_off, flags, "kprobe", "flags", 0),
	NFM_FIELD(struct kprobe_off, rp_kp, "kretprobe", "kp", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct kprobe_off, rp_handler, "kretprobe", "handler", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct kprobe_off, rp_entry, "kretprobe", "entry_handler", NFM_FIELD_OPTIONAL),
};

struct kpwalk {
	struct hookset *h;
	struct kprobe_off o;
	uint64_t aggr, kret;	/* aggr_pre_handler, pre_handler_kretprobe */
	unsigned int budget;
};

static void add_probe(struct hookset *h, uint64_t addr)
{
	if (h->known.nprobes == h->cap_probes) {
		size_t cap = h->cap_probes ? 2 * h->cap_probes : 16;
		void *p = realloc(h->known.probes, cap * sizeof(*h->known.probes));

		if (!p)
			return;
		h->known.probes = p;
		h->cap_probes = cap;
	}
	h->known.probes[h->known.nprobes++] = addr;
}

static void handler(struct kpwalk *w, const char *what, uint64_t kp, uint64_t addr, uint64_t fn)
{
	if (fn)
		hook_add(w->h, NFM_HOOK_KPROBE, what, kp, addr, fn);
}

/* One kprobe; an aggregate's children (its list) once, depth 1. */
static int one_probe(struct kpwalk *w, uint64_t kp, bool child)
{
	const struct kprobe_off *o = &w->o;
	uint64_t addr, pre, post;

	if (!w->budget--)
		return -ELOOP;
	if (nfm_kread_u64(w->h->ctx, kp + (uint64_t)o->addr, &addr) < 0 ||
	    nfm_kread_u64(w->h->ctx, kp + (uint64_t)o->pre, &pre) < 0 ||
	    nfm_kread_u64(w->h->ctx, kp + (uint64_t)o->post, &post) < 0)
		return -EFAULT;
	if (!child)
		add_probe(w->h, addr);
	if (!child && pre && pre == w->aggr) {
		struct nfm_list_iter it;
		uint64_t node;

		nfm_list_iter_init(&it, w->h->ctx, kp + (uint64_t)o->list, MAX_PROBES);
		while (nfm_list_iter_next(&it, &node) > 0)
			if (one_probe(w, nfm_container_of(node, o->list), true) == -ELOOP)
				return -ELOOP;
		return 0;
	}
	w->h->st.nr_kprobes++;
	if (pre && pre == w->kret && o->rp_kp >= 0 && o->rp_handler >= 0 && o->rp_entry >= 0) {
		uint64_t rp = nfm_container_of(kp, o->rp_kp), fn;

		if (nfm_kread_u64(w->h->ctx, rp + (uint64_t)o->rp_handler, &fn) == 0)
			handler(w, "kretprobe handler", kp, addr, fn);
		if (nfm_kread_u64(w->h->ctx, rp + (uint64_t)o->rp_entry, &fn) == 0)
			handler(w, "kretprobe entry_handler", kp, addr, fn);
		return 0;
	}
	handler(w, "kprobe pre_handler", kp, addr, pre);
	handler(w, "kprobe post_handler", kp, addr, post);
	if (!pre && !post) {
		struct nfm_hook *e = hook_add(w->h, NFM_HOOK_KPROBE, "kprobe without handlers", kp,
					      addr, 0);

		if (e)
			e->ok = true;
	}
	return 0;
}

int check_kprobes(struct hookset *h)
{
	struct kpwalk w = { .h = h, .budget = MAX_PROBES };
	uint64_t table, heads[KPROBE_TABLE_SIZE];
	int err = nfm_resolve_fields(h->ctx, kprobe_specs,
				     sizeof(kprobe_specs) / sizeof(kprobe_specs[0]), &w.o);

	if (err == 0 && nfm_ksym(h->ctx, "kprobe_table", &table) < 0)
		err = -ENOENT;
	if (err == 0 && nfm_kread(h->ctx, table, heads, sizeof(heads)) < 0)
		err = -EFAULT;
	if (err < 0)
		return err;
	nfm_ksym(h->ctx, "aggr_pre_handler", &w.aggr);
	nfm_ksym(h->ctx, "pre_handler_kretprobe", &w.kret);
	for (int b = 0; b < KPROBE_TABLE_SIZE; b++) {
		uint64_t node = heads[b], seen0 = 0;

		for (unsigned int n = 0; node; n++) {
			uint64_t next;

			if (!nfm_kptr_ok(h->ctx, node) || n >= MAX_PROBES || node == seen0)
				return -ELOOP;
			if (n == 0)
				seen0 = node;
			err = one_probe(&w, nfm_container_of(node, w.o.hlist), false);
			if (err < 0)
				return err;
			if (nfm_kread_u64(h->ctx, node, &next) < 0)	/* hlist_node.next */
				return -EFAULT;
			node = next;
		}
	}
	return 0;
}

struct klp_off {
	int32_t list, mod, obj_list, obj_node, func_list, func_node, new_func, old_func, nop;
	int32_t mod_name;
};

static const struct nfm_field_spec klp_specs[] = {
	NFM_FIELD(struct klp_off, list, "klp_patch", "list", 0),
	NFM_FIELD(struct klp_off, mod, "klp_patch", "mod", 0),
	NFM_FIELD(struct klp_off, obj_list, "klp_patch", "obj_list", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct klp_off, obj_node, "klp_object", "node", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct klp_off, func_list, "klp_object", "func_list", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct klp_off, func_node, "klp_func", "node", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct klp_off, new_func, "klp_func", "new_func", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct klp_off, old_func, "klp_func", "old_func", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct klp_off, nop, "klp_func", "nop", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct klp_off, mod_name, "module", "name", 0),
};

/*
 * One hook per function a patch replaces (klp_patch.obj_list -> klp_object.func_list): the old
 * function is the site, the new one the target whose owner counts (the core's
 * klp_ftrace_handler only jumps there). Returns how many, or -errno. A nop function (an
 * atomic-replace patch undoing an older one) has no new code: its target stays 0.
 */
static int livepatch_funcs(struct hookset *h, const struct klp_off *o, uint64_t patch,
			   const char *modname, size_t *budget)
{
	struct nfm_list_iter objs, funcs;
	uint64_t on, fn;
	int n = 0, r, rf;

	if (o->obj_list < 0 || o->obj_node < 0 || o->func_list < 0 || o->func_node < 0 ||
	    o->new_func < 0 || o->old_func < 0)
		return 0;
	nfm_list_iter_init(&objs, h->ctx, patch + (uint64_t)o->obj_list, *budget);
	while ((r = nfm_list_iter_next(&objs, &on)) > 0) {
		uint64_t obj = nfm_container_of(on, o->obj_node);

		nfm_list_iter_init(&funcs, h->ctx, obj + (uint64_t)o->func_list, *budget);
		while ((rf = nfm_list_iter_next(&funcs, &fn)) > 0) {
			uint64_t func = nfm_container_of(fn, o->func_node), new_func = 0, old_func = 0;
			uint8_t nop = 0;
			struct nfm_hook *e;

			if (*budget == 0)
				return -E2BIG;
			--*budget;
			if (nfm_kread_u64(h->ctx, func + (uint64_t)o->new_func, &new_func) < 0 ||
			    nfm_kread_u64(h->ctx, func + (uint64_t)o->old_func, &old_func) < 0)
				return -EFAULT;
			if (o->nop >= 0)
				nfm_kread(h->ctx, func + (uint64_t)o->nop, &nop, 1);
			e = hook_add(h, NFM_HOOK_LIVEPATCH, nop ? "livepatch nop" : "livepatch func",
				     func, old_func, nop ? 0 : new_func);
			if (!e)
				return -ENOMEM;
			if (nop)	/* no code: owned by whoever holds the klp_func */
				e->owner = owner_of(&h->om, func, NULL);
			if (!e->module && modname[0])
				e->module = nfm_pack_str(&h->pk, modname, strlen(modname));
			n++;
		}
		if (rf < 0)
			return rf;
	}
	return r < 0 ? r : n;
}

int check_livepatch(struct hookset *h)
{
	struct klp_off o;
	struct nfm_list_iter it;
	uint64_t head, node;
	size_t budget = MAX_PATCH_FUNCS;
	int err = nfm_resolve_fields(h->ctx, klp_specs, sizeof(klp_specs) / sizeof(klp_specs[0]),
				     &o);

	if (err == 0 && nfm_ksym(h->ctx, "klp_patches", &head) < 0)
		err = -ENOENT;
	if (err < 0)
		return err;
	nfm_list_iter_init(&it, h->ctx, head, MAX_PATCHES);
	while ((err = nfm_list_iter_next(&it, &node)) > 0) {
		uint64_t patch = nfm_container_of(node, o.list), mod = 0;
		char name[56] = "";
		struct nfm_hook *e;
		const char *listed = NULL;
		int nf;

		h->st.nr_livepatches++;
		nfm_kread_u64(h->ctx, patch + (uint64_t)o.mod, &mod);
		if (mod && nfm_kptr_ok(h->ctx, mod) &&
		    nfm_kread_str(h->ctx, mod + (uint64_t)o.mod_name, name, sizeof(name)) < 0)
			name[0] = 0;
		nf = livepatch_funcs(h, &o, patch, name, &budget);
		if (nf == -ENOMEM)
			return nf;
		if (nf > 0)
			continue;
		/* no function to follow (unreadable, or a kernel without the lists): the patch
		 * itself, owned by whoever holds its struct */
		e = hook_add(h, NFM_HOOK_LIVEPATCH, "livepatch", patch, 0, 0);
		if (!e)
			return -ENOMEM;
		e->owner = owner_of(&h->om, patch, &listed);
		e->target = mod;
		if (name[0])
			e->module = nfm_pack_str(&h->pk, name, strlen(name));
	}
	return err < 0 ? err : 0;
}
