// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The ORC unwind tables in guest memory: the core image's (__start_orc_unwind_ip ..
 * __stop_orc_unwind_ip, __start_orc_unwind) and each module's (struct module's arch.orc_unwind_ip,
 * arch.orc_unwind, arch.num_orcs), looked up as the kernel's orc_find() does, with the entry
 * layout taken from the guest's BTF (struct orc_entry changed in 6.3 and 6.4).
 *
 * Also the per-context state every walk reads (task offsets, THREAD_SIZE, text bounds; arm64's
 * saved context and final frame record, for frame_arm64.c) and the lengths of symbols (the
 * "/0xlen" of %pB), which kallsyms derives from the next symbol's address: the core kernel's
 * from the kallsyms table, a module's from its symbols.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/nfm.h>

#include "core/context.h"
#include "core/slot.h"
#include "stack/stack.h"
#include "sym/kallsyms_int.h"

/* Bounds on what the guest's tables may make us read. */
#define MAX_CORE_ORCS (8u << 20)	/* Debian's kernels have ~0.4 M */
#define MAX_MOD_ORCS (1u << 20)
#define MAX_MODS 8192


static int32_t off_of(struct nfm_ctx *ctx, const char *type, const char *path)
{
	struct nfm_field f;

	if (nfm_btf_field(ctx->btf, type, path, &f) < 0 || f.bit_size)
		return -1;
	return (int32_t)f.offset;
}

static uint64_t sym_or0(struct nfm_ctx *ctx, const char *name)
{
	uint64_t a = 0;

	if (nfm_kallsyms_lookup(ctx->ks, name, &a) < 0)
		return 0;
	return a;
}

void stk_orc_decode(const struct stk_orc_layout *lay, const uint8_t *raw, struct stk_orc *o)
{
	unsigned int type = (unsigned int)nfm_btf_field_value(raw, lay->size, &lay->type);

	o->sp_offset = (int16_t)nfm_btf_field_value(raw, lay->size, &lay->sp_offset);
	o->bp_offset = (int16_t)nfm_btf_field_value(raw, lay->size, &lay->bp_offset);
	o->sp_reg = (uint8_t)nfm_btf_field_value(raw, lay->size, &lay->sp_reg);
	o->bp_reg = (uint8_t)nfm_btf_field_value(raw, lay->size, &lay->bp_reg);
	o->has_signal = lay->has_signal;
	o->signal = lay->has_signal && nfm_btf_field_value(raw, lay->size, &lay->signal);
	o->end = lay->has_end && nfm_btf_field_value(raw, lay->size, &lay->end);
	if (lay->has_end) {
		/* Before 6.4: CALL 0, REGS 1, REGS_PARTIAL 2 (the end of the stack is a bit). */
		o->type = type == 0 ? ORC_T_CALL : type == 1 ? ORC_T_REGS :
			  type == 2 ? ORC_T_REGS_PARTIAL : 0xff;
	} else {
		o->type = (uint8_t)type;
	}
}

/*
 * struct orc_entry from BTF. Without it, the 6.4-7.0 layout: s16 sp_offset, s16 bp_offset,
 * sp_reg:4, bp_reg:4, type:3, signal:1.
 */
static void orc_layout(struct nfm_ctx *ctx, struct stk_orc_layout *l)
{
	uint32_t size;

	memset(l, 0, sizeof(*l));
	l->size = 6;
	l->sp_offset = (struct nfm_field){ 0, 2, 0, 0 };
	l->bp_offset = (struct nfm_field){ 2, 2, 0, 0 };
	l->sp_reg = (struct nfm_field){ 4, 0, 0, 4 };
	l->bp_reg = (struct nfm_field){ 4, 0, 4, 4 };
	l->type = (struct nfm_field){ 5, 0, 0, 3 };
	l->signal = (struct nfm_field){ 5, 0, 3, 1 };
	l->has_signal = true;
	if (nfm_btf_type_size(ctx->btf, "orc_entry", &size) < 0 || size < 4 || size > 16)
		return;
	struct stk_orc_layout b = { .size = size };

	if (nfm_btf_field(ctx->btf, "orc_entry", "sp_offset", &b.sp_offset) < 0 ||
	    nfm_btf_field(ctx->btf, "orc_entry", "bp_offset", &b.bp_offset) < 0 ||
	    nfm_btf_field(ctx->btf, "orc_entry", "sp_reg", &b.sp_reg) < 0 ||
	    nfm_btf_field(ctx->btf, "orc_entry", "bp_reg", &b.bp_reg) < 0 ||
	    nfm_btf_field(ctx->btf, "orc_entry", "type", &b.type) < 0)
		return;
	b.has_signal = nfm_btf_field(ctx->btf, "orc_entry", "signal", &b.signal) == 0;
	b.has_end = nfm_btf_field(ctx->btf, "orc_entry", "end", &b.end) == 0;
	*l = b;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sort and drop duplicates: the count left. */
static size_t sort_unique(uint64_t *a, size_t n)
{
	size_t k = 0;

	qsort(a, n, sizeof(*a), cmp_u64);
	for (size_t i = 0; i < n; i++)
		if (!k || a[i] != a[k - 1])
			a[k++] = a[i];
	return k;
}

static int core_symbols(struct nfm_ctx *ctx, struct stk_state *s)
{
	const struct nfm_kallsyms *ks = ctx->ks;
	size_t n;

	if (!ks)
		return 0;
	n = ks_full(ks) ? ks->count : ks->tab ? ks->num : 0;
	if (!n)
		return 0;
	s->saddr = malloc(n * sizeof(*s->saddr));
	if (!s->saddr)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		s->saddr[i] = ks_full(ks) ? ks->addrs[i] : ks_sym_address(ks, (uint32_t)i);
	s->nsaddr = sort_unique(s->saddr, n);
	return 0;
}

static int read_table(struct nfm_ctx *ctx, const struct stk_orc_layout *lay, uint64_t ip_va,
		      uint64_t orc_va, size_t n, struct stk_table *t)
{
	t->ip = malloc(n * 4 + 1);
	t->orc = malloc(n * lay->size + 1);
	if (!t->ip || !t->orc)
		goto fail;
	if (nfm_kread(ctx, ip_va, t->ip, n * 4) < 0 ||
	    nfm_kread(ctx, orc_va, t->orc, n * lay->size) < 0)
		goto fail;
	t->ip_va = ip_va;
	t->n = n;
	return 0;
fail:
	free(t->ip);
	free(t->orc);
	t->ip = NULL;
	t->orc = NULL;
	t->n = 0;
	return -EFAULT;
}

/* What both architectures' walks read of a task, and THREAD_SIZE. */
static void task_offsets(struct nfm_ctx *ctx, struct stk_state *s)
{
	struct nfm_field f;

	s->t_stack = off_of(ctx, "task_struct", "stack");
	s->t_on_cpu = off_of(ctx, "task_struct", "on_cpu");
	s->t_on_rq = off_of(ctx, "task_struct", "on_rq");
	s->t_cpu = off_of(ctx, "task_struct", "cpu");	/* 5.16+: thread_info.cpu before */
	if (s->t_cpu < 0)
		s->t_cpu = off_of(ctx, "task_struct", "thread_info.cpu");
	s->t_state = off_of(ctx, "task_struct", "__state");	/* 5.14 renamed state */
	if (s->t_state < 0)
		s->t_state = off_of(ctx, "task_struct", "state");
	s->t_refcount = off_of(ctx, "task_struct", "stack_refcount");
	/* THREAD_SIZE is sizeof(union thread_union) (its stack[] member). */
	s->thread_size = 16384;
	if (nfm_btf_field(ctx->btf, "thread_union", "stack", &f) == 0 && f.size >= 4096 &&
	    f.size <= (1u << 20) && !(f.size & (f.size - 1)))
		s->thread_size = f.size;
}

/* The text bounds, the scheduler's and locks' text (left out of /proc/PID/stack). */
static int text_bounds(struct nfm_ctx *ctx, struct stk_state *s)
{
	s->stext = sym_or0(ctx, "_stext");
	s->etext = sym_or0(ctx, "_etext");
	s->sinittext = sym_or0(ctx, "_sinittext");
	s->einittext = sym_or0(ctx, "_einittext");
	s->end = sym_or0(ctx, "_end");
	s->sched_lo = sym_or0(ctx, "__sched_text_start");
	s->sched_hi = sym_or0(ctx, "__sched_text_end");
	s->lock_lo = sym_or0(ctx, "__lock_text_start");
	s->lock_hi = sym_or0(ctx, "__lock_text_end");
	s->ret_from_fork[0] = sym_or0(ctx, "ret_from_fork");
	s->ret_from_fork[1] = sym_or0(ctx, "ret_from_fork_asm");	/* 6.5+ */
	if (!s->stext || s->etext <= s->stext)
		return -ENOENT;
	return 0;
}

/* arm64: frame records from the saved context (frame_arm64.c); no tables to read. */
static int build_arm64(struct nfm_ctx *ctx, struct stk_state *s)
{
	uint32_t size;

	s->arm64 = true;
	s->va_bits = ctx->mmu->va_bits;
	task_offsets(ctx, s);
	s->t_ctx_fp = off_of(ctx, "task_struct", "thread.cpu_context.fp");
	s->t_ctx_pc = off_of(ctx, "task_struct", "thread.cpu_context.pc");
	s->pt_stackframe = off_of(ctx, "pt_regs", "stackframe");
	s->pt_regs_size = nfm_btf_type_size(ctx->btf, "pt_regs", &size) == 0 ? size : 0;
	if (s->t_stack < 0 || s->t_ctx_fp < 0 || s->t_ctx_pc < 0) {
		nfm_dbg(&ctx->log, "stack: no task_struct.stack/thread.cpu_context in BTF");
		return -ENOENT;
	}
	if (s->pt_regs_size > s->thread_size / 2 || s->pt_stackframe < 0 ||
	    (uint32_t)s->pt_stackframe + 16 > s->pt_regs_size)
		s->pt_stackframe = -1;
	return text_bounds(ctx, s);
}

static int build(struct nfm_ctx *ctx, struct stk_state *s)
{
	uint64_t ip_lo, ip_hi, orc_lo;
	uint32_t ts;

	if (ctx->mmu->arch == NFM_MMU_ARM64)
		return build_arm64(ctx, s);
	task_offsets(ctx, s);
	s->t_thread_sp = off_of(ctx, "task_struct", "thread.sp");
	s->f_bp = off_of(ctx, "inactive_task_frame", "bp");
	s->f_ret = off_of(ctx, "inactive_task_frame", "ret_addr");
	s->f_size = nfm_btf_type_size(ctx->btf, "inactive_task_frame", &ts) == 0 ? (int32_t)ts : -1;
	s->m_orc_ip = off_of(ctx, "module", "arch.orc_unwind_ip");
	s->m_orc = off_of(ctx, "module", "arch.orc_unwind");
	s->m_num_orcs = off_of(ctx, "module", "arch.num_orcs");
	if (s->t_stack < 0 || s->t_thread_sp < 0 || s->f_bp < 0 || s->f_ret < 0 ||
	    s->f_size <= 0 || s->f_size > 256) {
		nfm_dbg(&ctx->log, "stack: no task_struct.stack/thread.sp or inactive_task_frame in BTF");
		return -ENOENT;
	}
	orc_layout(ctx, &s->lay);

	if (nfm_kallsyms_lookup(ctx->ks, "__start_orc_unwind_ip", &ip_lo) < 0 ||
	    nfm_kallsyms_lookup(ctx->ks, "__stop_orc_unwind_ip", &ip_hi) < 0 ||
	    nfm_kallsyms_lookup(ctx->ks, "__start_orc_unwind", &orc_lo) < 0) {
		nfm_dbg(&ctx->log, "stack: no ORC tables in kallsyms");
		return -ENOENT;
	}
	if (ip_hi <= ip_lo || (ip_hi - ip_lo) % 4 || (ip_hi - ip_lo) / 4 > MAX_CORE_ORCS)
		return -EBADMSG;
	s->core_ip_va = ip_lo;
	s->core_orc_va = orc_lo;
	s->core_n = (ip_hi - ip_lo) / 4;
	return text_bounds(ctx, s);
}

int stk_tables_get(struct nfm_ctx *ctx, struct stk_state *s)
{
	if (s->tables_done)
		return s->tables_err;
	s->tables_done = true;
	s->tables_err = core_symbols(ctx, s);
	if (!s->tables_err && !s->arm64)
		s->tables_err = read_table(ctx, &s->lay, s->core_ip_va, s->core_orc_va, s->core_n,
					   &s->core);
	return s->tables_err;
}

static void state_free(void *p);

int stk_state_get(struct nfm_ctx *ctx, struct stk_state **ret)
{
	struct stk_state *s = nfm_kernel_slot(ctx, NFM_SLOT_STACK);
	int err;

	if (s) {
		*ret = s;
		return 0;
	}
	if (!ctx->btf || !ctx->ks)
		return -ENOENT;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	err = build(ctx, s);
	if (!err)
		err = nfm_kernel_set_slot(ctx, NFM_SLOT_STACK, s, state_free);
	if (err < 0) {
		state_free(s);
		return err;
	}
	*ret = s;
	return 0;
}

long stk_table_search(const struct stk_table *t, uint64_t ip)
{
	long first = 0, last = (long)t->n - 1, found = 0;

	if (!t->n)
		return -1;
	/* The rightmost entry at or below ip: of duplicates, the last (a section terminator
	 * that collides with a real entry comes first). */
	while (first <= last) {
		long mid = first + (last - first) / 2;
		uint64_t a = t->ip_va + (uint64_t)mid * 4 + (uint64_t)(int64_t)t->ip[mid];

		if (a <= ip) {
			found = mid;
			first = mid + 1;
		} else {
			last = mid - 1;
		}
	}
	return found;
}

static void modules_drop(struct stk_state *s)
{
	for (size_t i = 0; i < s->nmods; i++) {
		free(s->mods[i].t.ip);
		free(s->mods[i].t.orc);
		free(s->mods[i].saddr);
	}
	free(s->mods);
	s->mods = NULL;
	s->nmods = 0;
	s->mods_read = false;
}

static void state_free(void *p)
{
	struct stk_state *s = p;

	if (!s)
		return;
	free(s->core.ip);
	free(s->core.orc);
	free(s->saddr);
	modules_drop(s);
	free(s);
}

static int modules_read(struct nfm_ctx *ctx, struct stk_state *s)
{
	struct nfm_module *ml = NULL;
	bool trunc = false;
	int n;

	modules_drop(s);
	s->mods_read = true;
	n = nfm_module_list(ctx, &ml, &trunc);
	if (n <= 0) {
		free(ml);
		return n;
	}
	if (n > MAX_MODS)
		n = MAX_MODS;
	s->mods = calloc((size_t)n, sizeof(*s->mods));
	if (!s->mods) {
		free(ml);
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		struct stk_mod *m = &s->mods[s->nmods];
		int r = nfm_module_memory(ctx, ml[i].module, m->ranges, 8);

		if (r <= 0)
			continue;
		m->nr = r > 8 ? 8 : r;
		m->module = ml[i].module;
		memcpy(m->name, ml[i].name, sizeof(m->name));
		m->name[sizeof(m->name) - 1] = 0;
		s->nmods++;
	}
	free(ml);
	return 0;
}

static struct stk_mod *find_mod(struct stk_state *s, uint64_t addr)
{
	for (size_t i = 0; i < s->nmods; i++)
		for (int k = 0; k < s->mods[i].nr; k++)
			if (addr >= s->mods[i].ranges[k][0] && addr < s->mods[i].ranges[k][1])
				return &s->mods[i];
	return NULL;
}

/* x86-64: module memory lies above the kernel image (the modules area, MODULES_VADDR); arm64
 * places it near the image, KASLR within 2 GiB of it: any kernel address outside the image. */
static bool module_area(const struct stk_state *s, uint64_t addr)
{
	if (s->arm64)
		return addr >> 63 && (addr < s->stext || addr >= (s->end ? s->end : s->etext));
	return addr >= 0xffffffffc0000000ull && addr < 0xffffffffff000000ull;
}

struct stk_mod *stk_module_of(struct nfm_ctx *ctx, struct stk_state *s, uint64_t addr)
{
	struct stk_mod *m;

	if (!module_area(s, addr))
		return NULL;
	if (!s->mods_read)
		modules_read(ctx, s);
	m = find_mod(s, addr);
	return m;
}

/* Re-list the modules once per call chain when an address in the module area is in none. */
static struct stk_mod *module_of_fresh(struct nfm_ctx *ctx, struct stk_state *s, uint64_t addr)
{
	struct stk_mod *m = stk_module_of(ctx, s, addr);

	if (!m && module_area(s, addr) && !s->mods_fresh) {
		s->mods_fresh = true;
		modules_read(ctx, s);
		m = find_mod(s, addr);
	}
	return m;
}

static void module_table(struct nfm_ctx *ctx, struct stk_state *s, struct stk_mod *m)
{
	uint64_t ipv = 0, orcv = 0;
	uint32_t num = 0;

	m->loaded = true;
	if (s->m_orc_ip < 0 || s->m_orc < 0 || s->m_num_orcs < 0)
		return;
	if (nfm_kread_u64(ctx, m->module + (uint64_t)s->m_orc_ip, &ipv) < 0 ||
	    nfm_kread_u64(ctx, m->module + (uint64_t)s->m_orc, &orcv) < 0 ||
	    nfm_kread_u32(ctx, m->module + (uint64_t)s->m_num_orcs, &num) < 0)
		return;
	if (!ipv || !orcv || !num || num > MAX_MOD_ORCS)
		return;
	read_table(ctx, &s->lay, ipv, orcv, num, &m->t);
}

int stk_orc_find(struct nfm_ctx *ctx, struct stk_state *s, uint64_t ip, struct stk_orc *o)
{
	const struct stk_table *t = NULL;
	long i;

	if ((ip >= s->stext && ip < s->etext) ||
	    (s->sinittext && ip >= s->sinittext && ip < s->einittext)) {
		if (stk_tables_get(ctx, s) < 0)
			return 0;
		t = &s->core;
	} else {
		struct stk_mod *m = module_of_fresh(ctx, s, ip);

		if (!m)
			return 0;
		if (!m->loaded)
			module_table(ctx, s, m);
		t = &m->t;
	}
	i = stk_table_search(t, ip);
	if (i < 0)
		return 0;
	stk_orc_decode(&s->lay, t->orc + (size_t)i * s->lay.size, o);
	return 1;
}

bool stk_text_address(struct nfm_ctx *ctx, struct stk_state *s, uint64_t ip)
{
	if (ip >= s->stext && ip < s->etext)
		return true;
	return module_of_fresh(ctx, s, ip) != NULL;
}

static int mod_symbols(struct nfm_ctx *ctx, struct stk_state *s)
{
	size_t n = nfm_modsym_count(ctx);
	size_t *cnt;

	cnt = calloc(s->nmods + 1, sizeof(*cnt));
	if (!cnt)
		return -ENOMEM;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n; i++) {
			const char *name, *mod;
			uint64_t addr;

			if (nfm_modsym_get(ctx, i, &name, NULL, &addr, &mod) < 0 || !mod)
				continue;
			for (size_t k = 0; k < s->nmods; k++) {
				if (strcmp(s->mods[k].name, mod))
					continue;
				if (pass)
					s->mods[k].saddr[s->mods[k].nsaddr++] = addr;
				else
					cnt[k]++;
				break;
			}
		}
		if (pass)
			break;
		for (size_t k = 0; k < s->nmods; k++) {
			s->mods[k].saddr = malloc((cnt[k] + 1) * sizeof(uint64_t));
			if (!s->mods[k].saddr) {
				free(cnt);
				return -ENOMEM;
			}
			s->mods[k].nsaddr = 0;
		}
	}
	for (size_t k = 0; k < s->nmods; k++)
		s->mods[k].nsaddr = sort_unique(s->mods[k].saddr, s->mods[k].nsaddr);
	free(cnt);
	return 0;
}

/* The first address > start in a sorted array, 0 when none. */
static uint64_t next_after(const uint64_t *a, size_t n, uint64_t start)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a[mid] <= start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n ? a[lo] : 0;
}

uint64_t stk_symbol_size(struct nfm_ctx *ctx, struct stk_state *s, uint64_t start,
			 const char *module)
{
	uint64_t next;

	if (!module) {
		if (stk_tables_get(ctx, s) < 0)
			return 0;
		next = next_after(s->saddr, s->nsaddr, start);
		if (!next)
			next = s->sinittext && start >= s->sinittext && start < s->einittext ?
			       s->einittext : s->end;
		return next > start ? next - start : 0;
	}
	struct stk_mod *m = stk_module_of(ctx, s, start);

	if (!m)
		return 0;
	if (!m->saddr && mod_symbols(ctx, s) < 0)
		return 0;
	next = next_after(m->saddr, m->nsaddr, start);
	/* At worst the end of the module's memory area holding it (find_kallsyms_symbol()). */
	for (int k = 0; k < m->nr; k++)
		if (start >= m->ranges[k][0] && start < m->ranges[k][1] &&
		    (!next || next > m->ranges[k][1]))
			next = m->ranges[k][1];
	return next > start ? next - start : 0;
}
