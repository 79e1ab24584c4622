// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Loaded modules' symbols, as /proc/kallsyms lists them after the core kernel's
 * (kernel/module/kallsyms.c module_get_kallsym(), s_show()): per module in list order, its
 * kallsyms symtab (the symbols kept after init) in table order, unnamed ones skipped; the name
 * from its strtab, the type letter from its typetab, upper case when the module exports the
 * symbol (is_exported(): its ksymtab has the name at that value), else lower case.
 * Lookups follow module_kallsyms_lookup_name() (the first defined symbol of the name, modules
 * in list order; "module:name" too) and symbolization find_kallsyms_symbol() (in the module
 * whose memory holds the address, the closest defined, named symbol at or below it).
 * Read on first use and again when the modules list's head has changed (a module loaded or the
 * newest one unloaded); every count and length is bounded.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/context.h"
#include "walk/fields.h"
#include "walk/list.h"
#include "module/modules.h"

#include <nfm/system.h>

#define MAX_SYMTAB (1u << 20)		/* symbols of one module */
#define MAX_KSYMTAB (1u << 16)		/* exports of one module */
#define MAX_STRTAB (16u << 20)
#define NAME_MAX_LEN 512		/* KSYM_NAME_LEN */
#define ELF_SYM_SIZE 24			/* Elf64_Sym */
#define SHN_UNDEF 0
#define MOD_RANGES 8

struct msym_off {
	int32_t kallsyms, syms, num_syms;
	int32_t symtab, num_symtab, strtab, typetab;
	int32_t ks_size, ks_value_off, ks_name_off, ks_value, ks_name;
};

static const struct nfm_field_spec msym_specs[] = {
	NFM_FIELD(struct msym_off, kallsyms, "module", "kallsyms", 0),
	NFM_FIELD(struct msym_off, syms, "module", "syms", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct msym_off, num_syms, "module", "num_syms", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct msym_off, symtab, "mod_kallsyms", "symtab", 0),
	NFM_FIELD(struct msym_off, num_symtab, "mod_kallsyms", "num_symtab", 0),
	NFM_FIELD(struct msym_off, strtab, "mod_kallsyms", "strtab", 0),
	NFM_FIELD(struct msym_off, typetab, "mod_kallsyms", "typetab", 0),
	NFM_FIELD(struct msym_off, ks_size, "kernel_symbol", "", NFM_FIELD_SIZE | NFM_FIELD_OPTIONAL),
	/* CONFIG_HAVE_ARCH_PREL32_RELOCATIONS (x86-64): offsets from the fields themselves */
	NFM_FIELD(struct msym_off, ks_value_off, "kernel_symbol", "value_offset", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct msym_off, ks_name_off, "kernel_symbol", "name_offset", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct msym_off, ks_value, "kernel_symbol", "value", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct msym_off, ks_name, "kernel_symbol", "name", NFM_FIELD_OPTIONAL),
};

struct msym {
	uint64_t addr;
	uint32_t name;		/* offset into strs */
	uint32_t mod;
	char type;
	bool undef;
};

struct mmod {
	uint32_t name;		/* offset into strs */
	size_t first, count;	/* its symbols in syms[] */
	int nr;
	uint64_t lo[MOD_RANGES], hi[MOD_RANGES];	/* its memory: text, data, init... */
};

struct modsyms {
	uint64_t head[2];	/* the modules list head as read: a module loaded since changes it */
	struct msym *syms;
	size_t n, cap;
	struct mmod *mods;
	size_t nmods;
	char *strs;
	size_t slen, scap;
	int err;		/* sticky -ENOMEM */
};

static void modsyms_free(void *p)
{
	struct modsyms *ms = p;

	if (!ms)
		return;
	free(ms->syms);
	free(ms->mods);
	free(ms->strs);
	free(ms);
}

static uint32_t add_str(struct modsyms *ms, const char *s, size_t len)
{
	uint32_t off = (uint32_t)ms->slen;

	if (ms->slen + len + 1 > ms->scap) {
		size_t cap = ms->scap ? ms->scap * 2 : 65536;
		char *p;

		while (cap < ms->slen + len + 1)
			cap *= 2;
		p = realloc(ms->strs, cap);
		if (!p) {
			ms->err = -ENOMEM;
			return 0;
		}
		ms->strs = p;
		ms->scap = cap;
	}
	memcpy(ms->strs + ms->slen, s, len);
	ms->strs[ms->slen + len] = '\0';
	ms->slen += len + 1;
	return off;
}

static struct msym *add_sym(struct modsyms *ms)
{
	if (ms->n == ms->cap) {
		size_t cap = ms->cap ? ms->cap * 2 : 4096;
		struct msym *p = realloc(ms->syms, cap * sizeof(*p));

		if (!p) {
			ms->err = -ENOMEM;
			return NULL;
		}
		ms->syms = p;
		ms->cap = cap;
	}
	return &ms->syms[ms->n++];
}

/* An export: the symbol's value and the address of its name. */
struct export {
	uint64_t value, name;
};

static int cmp_export(const void *a, const void *b)
{
	const struct export *x = a, *y = b;

	return (x->value > y->value) - (x->value < y->value);
}

/* The module's exports, sorted by value: how many (0 when there are none or they do not read). */
static size_t read_exports(struct nfm_ctx *ctx, const struct msym_off *o, uint64_t syms,
			   uint32_t num, struct export **ret)
{
	size_t es = (size_t)o->ks_size;
	uint8_t *tab;
	struct export *ex;
	bool prel = o->ks_value_off >= 0 && o->ks_name_off >= 0;

	*ret = NULL;
	/* Entries of three s32 are only 4-byte aligned. */
	if (!num || num > MAX_KSYMTAB || (syms & 3) || !nfm_kptr_ok(ctx, syms & ~7ull) ||
	    o->ks_size <= 0 || (!prel && (o->ks_value < 0 || o->ks_name < 0)))
		return 0;
	tab = malloc(num * es);
	ex = malloc(num * sizeof(*ex));
	if (!tab || !ex || nfm_kread(ctx, syms, tab, num * es) < 0) {
		free(tab);
		free(ex);
		return 0;
	}
	for (size_t i = 0; i < num; i++) {
		const uint8_t *e = tab + i * es;
		uint64_t entry = syms + i * es;

		if (prel) {
			int32_t v, nm;

			memcpy(&v, e + o->ks_value_off, 4);
			memcpy(&nm, e + o->ks_name_off, 4);
			ex[i].value = entry + (uint64_t)o->ks_value_off + (uint64_t)(int64_t)v;
			ex[i].name = entry + (uint64_t)o->ks_name_off + (uint64_t)(int64_t)nm;
		} else {
			memcpy(&ex[i].value, e + o->ks_value, 8);
			memcpy(&ex[i].name, e + o->ks_name, 8);
		}
	}
	free(tab);
	/* Looked up once per symbol of the module: by value, not by a scan of every export. */
	qsort(ex, num, sizeof(*ex), cmp_export);
	*ret = ex;
	return num;
}

/* is_exported(): an export of this name at this value. */
static bool exported(struct nfm_ctx *ctx, const char *name, uint64_t value,
		     const struct export *ex, size_t n)
{
	char buf[NAME_MAX_LEN];
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ex[mid].value < value)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < n && ex[lo].value == value; lo++)
		if (nfm_kread_str(ctx, ex[lo].name, buf, sizeof(buf)) == 0 && !strcmp(buf, name))
			return true;
	return false;
}

/* One module's symbols into ms. */
static void load_module(struct nfm_ctx *ctx, const struct msym_off *o, struct modsyms *ms,
			uint64_t mod, uint32_t mod_idx)
{
	uint64_t kallsyms = 0, symtab, strtab, typetab, syms = 0;
	struct export *ex = NULL;
	uint32_t num = 0, num_syms = 0, maxname = 0;
	uint8_t mk[64], *tab = NULL, *types = NULL, *str = NULL;
	size_t slen, nexp = 0, i, need;

	need = (size_t)o->typetab + 8;
	if (need > sizeof(mk) || (size_t)o->num_symtab + 4 > sizeof(mk) ||
	    (size_t)o->symtab + 8 > sizeof(mk) || (size_t)o->strtab + 8 > sizeof(mk))
		return;
	if (nfm_kread_u64(ctx, mod + (uint64_t)o->kallsyms, &kallsyms) < 0 ||
	    !nfm_kptr_ok(ctx, kallsyms) || nfm_kread(ctx, kallsyms, mk, need) < 0)
		return;
	memcpy(&symtab, mk + o->symtab, 8);
	memcpy(&num, mk + o->num_symtab, 4);
	memcpy(&strtab, mk + o->strtab, 8);
	memcpy(&typetab, mk + o->typetab, 8);
	if (!num || num > MAX_SYMTAB || !nfm_kptr_ok(ctx, symtab) || !strtab || !typetab)
		return;
	tab = malloc((size_t)num * ELF_SYM_SIZE);
	types = malloc(num);
	if (!tab || !types || nfm_kread(ctx, symtab, tab, (size_t)num * ELF_SYM_SIZE) < 0 ||
	    nfm_kread(ctx, typetab, types, num) < 0)
		goto out;
	for (i = 0; i < num; i++) {
		uint32_t st_name;

		memcpy(&st_name, tab + i * ELF_SYM_SIZE, 4);
		if (st_name > maxname)
			maxname = st_name;
	}
	if (maxname >= MAX_STRTAB)
		goto out;
	str = malloc((size_t)maxname + NAME_MAX_LEN);
	if (!str)
		goto out;
	slen = nfm_read_kernel_some(ctx, strtab, str, (size_t)maxname + NAME_MAX_LEN);
	if (o->syms >= 0 && o->num_syms >= 0 &&
	    nfm_kread_u64(ctx, mod + (uint64_t)o->syms, &syms) == 0 &&
	    nfm_kread_u32(ctx, mod + (uint64_t)o->num_syms, &num_syms) == 0)
		nexp = read_exports(ctx, o, syms, num_syms, &ex);
	ms->mods[mod_idx].first = ms->n;
	for (i = 0; i < num; i++) {
		const uint8_t *e = tab + i * ELF_SYM_SIZE;
		uint32_t st_name;
		uint16_t shndx;
		const char *name, *nul;
		struct msym *s;

		memcpy(&st_name, e, 4);
		memcpy(&shndx, e + 6, 2);
		if (st_name >= slen)
			continue;
		name = (const char *)str + st_name;
		nul = memchr(name, '\0', slen - st_name);
		if (!nul || nul == name || nul - name >= NAME_MAX_LEN)
			continue;	/* unnamed (s_show skips them) or unterminated */
		s = add_sym(ms);
		if (!s)
			break;
		memcpy(&s->addr, e + 8, 8);
		s->name = add_str(ms, name, (size_t)(nul - name));
		s->mod = mod_idx;
		s->undef = shndx == SHN_UNDEF;
		s->type = exported(ctx, name, s->addr, ex, nexp) ?
			  (char)toupper((unsigned char)types[i]) : (char)tolower((unsigned char)types[i]);
	}
	ms->mods[mod_idx].count = ms->n - ms->mods[mod_idx].first;
out:
	free(tab);
	free(types);
	free(str);
	free(ex);
}

/* The module's memory regions (mem[] since 6.4, else the core and init layouts). */
static void module_ranges(struct nfm_ctx *ctx, const struct mod_off *o, uint64_t mod,
			  struct mmod *m)
{
	uint64_t base;
	uint32_t size;

	m->nr = 0;
	if (o->mem >= 0) {
		for (int i = 0; i < o->nr_mem && m->nr < MOD_RANGES; i++) {
			uint64_t mm = mod + (uint64_t)o->mem + (uint64_t)i * (uint64_t)o->mem_size;

			if (nfm_kread_u64(ctx, mm + (uint64_t)o->mm_base, &base) == 0 &&
			    nfm_kread_u32(ctx, mm + (uint64_t)o->mm_size, &size) == 0 && base && size) {
				m->lo[m->nr] = base;
				m->hi[m->nr++] = base + size;
			}
		}
		return;
	}
	for (int i = 0; i < 2; i++) {
		uint64_t ly = mod + (uint64_t)(i ? o->init_layout : o->core_layout);

		if (nfm_kread_u64(ctx, ly + (uint64_t)o->ly_base, &base) == 0 &&
		    nfm_kread_u32(ctx, ly + (uint64_t)o->ly_size, &size) == 0 && base && size) {
			m->lo[m->nr] = base;
			m->hi[m->nr++] = base + size;
		}
	}
}

int nfm_module_memory(struct nfm_ctx *ctx, uint64_t module, uint64_t (*ranges)[2], int max)
{
	const struct mod_off *mo;
	struct mmod m;
	int err = nfm_module_offsets(ctx, &mo), n = 0;

	if (err < 0)
		return err;
	if (!nfm_kptr_ok(ctx, module))
		return -EINVAL;
	module_ranges(ctx, mo, module, &m);
	for (int i = 0; i < m.nr && n < max; i++, n++) {
		ranges[n][0] = m.lo[i];
		ranges[n][1] = m.hi[i];
	}
	return n;
}

static int load(struct nfm_ctx *ctx, struct modsyms **ret)
{
	struct modsyms *ms = nfm_kernel_slot(ctx, NFM_SLOT_MODSYMS);
	const struct mod_off *mo;
	struct nfm_module *mods;
	struct msym_off o;
	uint64_t head, now[2] = { 0, 0 };
	int err, n;

	err = nfm_ksym(ctx, "modules", &head);
	if (err < 0)
		return err;
	nfm_kread(ctx, head, now, sizeof(now));
	if (ms && !memcmp(ms->head, now, sizeof(now))) {
		*ret = ms;
		return 0;
	}
	err = nfm_module_offsets(ctx, &mo);
	if (err < 0)
		return err;
	err = nfm_resolve_fields(ctx, msym_specs, sizeof(msym_specs) / sizeof(msym_specs[0]), &o);
	if (err < 0)
		return err;
	/* The modules as lsmod lists them (bounded walk, unformed ones skipped). */
	n = nfm_module_list(ctx, &mods, NULL);
	if (n < 0)
		return n;
	ms = calloc(1, sizeof(*ms));
	if (!ms || (n && !(ms->mods = calloc((size_t)n, sizeof(*ms->mods))))) {
		free(ms);
		free(mods);
		return -ENOMEM;
	}
	memcpy(ms->head, now, sizeof(now));
	for (int i = 0; i < n && !ms->err; i++) {
		ms->mods[i].name = add_str(ms, mods[i].name, strnlen(mods[i].name,
								     sizeof(mods[i].name)));
		module_ranges(ctx, mo, mods[i].module, &ms->mods[i]);
		load_module(ctx, &o, ms, mods[i].module, (uint32_t)i);
		ms->nmods++;
	}
	free(mods);
	err = ms->err ? ms->err : nfm_kernel_set_slot(ctx, NFM_SLOT_MODSYMS, ms, modsyms_free);
	if (err < 0) {
		modsyms_free(ms);
		return err;
	}
	*ret = ms;
	return 0;
}

size_t nfm_modsym_count(struct nfm_ctx *ctx)
{
	struct modsyms *ms;

	return load(ctx, &ms) < 0 ? 0 : ms->n;
}

static void put(const struct modsyms *ms, const struct msym *s, const char **name, char *type,
		uint64_t *addr, const char **module)
{
	if (name)
		*name = ms->strs + s->name;
	if (type)
		*type = s->type;
	if (addr)
		*addr = s->addr;
	if (module)
		*module = ms->strs + ms->mods[s->mod].name;
}

int nfm_modsym_get(struct nfm_ctx *ctx, size_t i, const char **name, char *type, uint64_t *addr,
		   const char **module)
{
	struct modsyms *ms;
	int err = load(ctx, &ms);

	if (err < 0)
		return err;
	if (i >= ms->n)
		return -ENOENT;
	put(ms, &ms->syms[i], name, type, addr, module);
	return 0;
}

int nfm_modsym_lookup(struct nfm_ctx *ctx, const char *name, uint64_t *addr, char *type,
		      const char **module)
{
	const char *colon = strchr(name, ':');
	struct modsyms *ms;
	int err = load(ctx, &ms);

	if (err < 0)
		return err;
	for (size_t i = 0; i < ms->n; i++) {
		const struct msym *s = &ms->syms[i];
		const char *mname = ms->strs + ms->mods[s->mod].name;

		if (s->undef)
			continue;
		/* "module:name" looks in that module only. */
		if (colon && ((size_t)(colon - name) != strlen(mname) ||
			      strncmp(name, mname, (size_t)(colon - name)) ||
			      strcmp(ms->strs + s->name, colon + 1)))
			continue;
		if (!colon && strcmp(ms->strs + s->name, name))
			continue;
		put(ms, s, NULL, type, addr, module);
		return 0;
	}
	return -ENOENT;
}

/* include/linux/module_symbol.h is_mapping_symbol(): assembler locals and ARM-style markers. */
static bool mapping_symbol(const char *s)
{
	return (s[0] == '.' && s[1] == 'L') || (s[0] == 'L' && s[1] == '0') || s[0] == '$';
}

int nfm_modsym_symbolize(struct nfm_ctx *ctx, uint64_t addr, const char **name, char *type,
			 uint64_t *offset, const char **module)
{
	const struct msym *best = NULL;
	struct modsyms *ms;
	int err = load(ctx, &ms);

	if (err < 0)
		return err;
	for (size_t m = 0; m < ms->nmods && !best; m++) {
		const struct mmod *mm = &ms->mods[m];
		bool inside = false;

		for (int r = 0; r < mm->nr && !inside; r++)
			inside = addr >= mm->lo[r] && addr < mm->hi[r];
		if (!inside)
			continue;
		for (size_t i = mm->first; i < mm->first + mm->count; i++) {
			const struct msym *s = &ms->syms[i];

			/* The first in table order at the closest value (is_mapping_symbol() skipped). */
			if (s->undef || mapping_symbol(ms->strs + s->name) || !s->addr || s->addr > addr)
				continue;
			if (!best || s->addr > best->addr)
				best = s;
		}
		if (!best)
			return -ENOENT;
	}
	if (!best)
		return -ENOENT;
	put(ms, best, name, type, NULL, module);
	if (offset)
		*offset = addr - best->addr;
	return 0;
}
