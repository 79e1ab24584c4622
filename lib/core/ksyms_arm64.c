// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What kallsyms does not give on arm64. Debian's arm64 kernels are built without
 * CONFIG_KALLSYMS_ALL (amd64's have it): kallsyms then names text only (no __start_BTF, no
 * init_task, no data at all). So:
 *  - data symbols VMCOREINFO names (init_uts_ns, prb, swapper_pg_dir, ...) are taken from it;
 *  - the vmlinux BTF is found by its header in the kernel image's read-only data (from _etext:
 *    the .BTF section lies in RO_DATA, before .init and .data);
 *  - exported data symbols (nr_cpu_ids, __per_cpu_offset, _totalram_pages, init_task, ...) come
 *    from the image's own export table: 12-byte PREL32 struct kernel_symbol entries
 *    (value_offset, name_offset, namespace_offset; include/linux/export.h), found by an entry
 *    whose name field points at a known name in __ksymtab_strings, then walked both ways;
 *  - static variables (tk_core, socket_file_ops, modules, sys_call_table, module_kset, shmem_ops,
 *    shm_mnt: neither exported nor in kallsyms) are where a function's code points (ktime_get, sock_from_file,
 *    ...): the ADRP-based addresses in its first instructions, each checked by the variable's
 *    shape;
 *  - per-CPU variables (runqueues, tick_cpu_sched, ...) from the BTF's ".data..percpu" DATASEC
 *    (pahole lists every per-CPU variable with its offset in the section), placed by one
 *    exported per-CPU variable (kernel_cpustat, EXPORT_PER_CPU_SYMBOL);
 *  - init_task is checked by its shape (comm "swapper/0", pid 0, a tasks ring whose next node
 *    points back at it), or found that way when the export table is not found.
 * The kernel image is physically contiguous: pa = va - kimage_voffset.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>

#include "core/context.h"
#include "source/source.h"

#define NFM_BTF_MAGIC 0xeb9f
/* How far past _etext the BTF, the export table and init_task are looked for: rodata, .init
 * and .data of a distribution image (~25 MiB here). Read in growing steps from IMAGE_SCAN_FIRST
 * until all is found: on 6.1 arm64 cloud everything lies in the first 13 MiB. */
#define IMAGE_SCAN_MAX (48ull << 20)
#define IMAGE_SCAN_FIRST (8ull << 20)
/* Most exports accepted (6.1 arm64 cloud: ~11,000). */
#define EXPORTS_MAX 65536
#define NAME_MAX_LEN 128

struct btf_hdr {
	uint16_t magic;
	uint8_t version, flags;
	uint32_t hdr_len, type_off, type_len, str_off, str_len;
};

/* The kernel image from _etext on, read by its linear mapping as far as len. */
struct image {
	uint64_t va;
	uint8_t *buf;
	size_t len;
	bool cut;	/* an export table ran into the end of what is read */
};

struct nfm_arm64_export {
	uint64_t addr;
	char *name;
};

/* Read the image on to want bytes (less past the end of RAM: halves of the rest); 0 when it
 * grew, -EIO when it could not. */
static int image_grow(struct nfm_ctx *ctx, struct image *im, size_t want)
{
	uint8_t *b;

	/* the whole span at once (untouched pages cost nothing): growing never copies */
	if (!im->buf && !(im->buf = malloc(IMAGE_SCAN_MAX)))
		return -ENOMEM;
	b = im->buf;
	if (want > IMAGE_SCAN_MAX)
		want = IMAGE_SCAN_MAX;
	while (want > im->len) {
		if (nfm_source_read_phys(ctx->src, im->va - ctx->mmu->kimage_voffset + im->len,
					 b + im->len, want - im->len) == 0) {
			im->len = want;
			return 0;
		}
		if (want - im->len < (1u << 20))
			break;
		want = im->len + (want - im->len) / 2;
	}
	return -EIO;
}

static bool in_image(const struct image *im, uint64_t va, size_t len)
{
	return va >= im->va && va - im->va <= im->len && len <= im->len - (va - im->va);
}

static int32_t get_s32(const struct image *im, size_t off)
{
	int32_t v;

	memcpy(&v, im->buf + off, 4);
	return v;
}

/* The exported name at va (an identifier, NUL-terminated), or NULL. */
static const char *name_at(const struct image *im, uint64_t va)
{
	const char *p;
	size_t n;

	if (!in_image(im, va, 1))
		return NULL;
	p = (const char *)im->buf + (va - im->va);
	for (n = 0; n < NAME_MAX_LEN && va - im->va + n < im->len; n++) {
		char c = p[n];

		if (!c)
			return n ? p : NULL;
		if (!(c == '_' || c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		      (c >= 'A' && c <= 'Z')))
			return NULL;
	}
	return NULL;
}

/* Entry at image offset off: its name, and its value (a kernel address) in *addr. */
static const char *entry_at(struct nfm_ctx *ctx, const struct image *im, size_t off,
			    uint64_t *addr)
{
	uint64_t va = im->va + off;
	const char *name;

	if (off + 12 > im->len)
		return NULL;
	name = name_at(im, va + 4 + (int64_t)get_s32(im, off + 4));
	*addr = va + (int64_t)get_s32(im, off);
	return name && nfm_mmu_is_kernel_va(ctx->mmu, *addr) ? name : NULL;
}

static int add_export(struct nfm_ctx *ctx, const char *name, uint64_t addr)
{
	struct nfm_arm64_export *e;

	if (ctx->arm64_nr_exports >= EXPORTS_MAX)
		return -E2BIG;
	if (ctx->arm64_nr_exports % 1024 == 0) {
		e = realloc(ctx->arm64_exports, (ctx->arm64_nr_exports + 1024) * sizeof(*e));
		if (!e)
			return -ENOMEM;
		ctx->arm64_exports = e;
	}
	e = &ctx->arm64_exports[ctx->arm64_nr_exports];
	e->name = strdup(name);
	if (!e->name)
		return -ENOMEM;
	e->addr = addr;
	ctx->arm64_nr_exports++;
	return 0;
}

/* The whole export array holding the entry at off: walk back to its first entry, then forward.
 * A walk that stops at the end of what is read (the entry, or its name, past it) marks im cut. */
static void walk_exports(struct nfm_ctx *ctx, struct image *im, size_t off)
{
	uint64_t addr;

	while (off >= 12 && entry_at(ctx, im, off - 12, &addr))
		off -= 12;
	for (const char *name; (name = entry_at(ctx, im, off, &addr)); off += 12)
		if (add_export(ctx, name, addr) < 0)
			return;
	if (off + 12 > im->len) {
		im->cut = true;
	} else {
		/* an entry whose name lies further on than what is read, where names may be */
		uint64_t name = im->va + off + 4 + (int64_t)get_s32(im, off + 4);

		if (name >= im->va + im->len && name < im->va + IMAGE_SCAN_MAX &&
		    nfm_mmu_is_kernel_va(ctx->mmu, im->va + off + (int64_t)get_s32(im, off)))
			im->cut = true;
	}
}

/*
 * Find the entry naming `anchor` (it must be exported, in __ksymtab or __ksymtab_gpl) and take
 * its array. The strings and the tables are neighbours in RO_DATA: look near the string.
 */
static void find_exports(struct nfm_ctx *ctx, struct image *im, const char *anchor)
{
	size_t alen = strlen(anchor) + 2, window = 8u << 20;
	char pat[64];
	const uint8_t *p = im->buf;

	pat[0] = 0;
	memcpy(pat + 1, anchor, alen - 1);	/* "\0name\0" */
	while ((p = memmem(p, im->len - (size_t)(p - im->buf), pat, alen))) {
		size_t s = (size_t)(p - im->buf) + 1;
		uint64_t target = im->va + s;
		size_t lo = s > window ? (s - window) & ~(size_t)3 : 0;
		size_t hi = s + window < im->len - 12 ? s + window : im->len - 12;

		for (size_t off = lo; off + 12 <= hi; off += 4) {
			uint64_t addr;

			if (im->va + off + 4 + (int64_t)get_s32(im, off + 4) == target &&
			    entry_at(ctx, im, off, &addr)) {
				walk_exports(ctx, im, off);
				return;
			}
		}
		p++;
	}
}

static int export_lookup(struct nfm_ctx *ctx, const char *name, uint64_t *addr)
{
	for (size_t i = 0; i < ctx->arm64_nr_exports; i++)
		if (!strcmp(ctx->arm64_exports[i].name, name)) {
			*addr = ctx->arm64_exports[i].addr;
			return 0;
		}
	return -ENOENT;
}

/* The offset of per-CPU variable name in the BTF's .data..percpu section, or -ENOENT. */
static int percpu_offset(const struct nfm_btf *b, const char *name, uint64_t *off)
{
	const struct btf_type *t;
	const struct btf_var_secinfo *vs;
	int id;

	if (!b)
		return -ENOENT;
	id = btf__find_by_name_kind(b->btf, ".data..percpu", BTF_KIND_DATASEC);
	if (id < 0 || !(t = btf__type_by_id(b->btf, (__u32)id)))
		return -ENOENT;
	vs = btf_var_secinfos(t);
	for (unsigned int i = 0; i < btf_vlen(t); i++) {
		const struct btf_type *v = btf__type_by_id(b->btf, vs[i].type);
		const char *n = v ? btf__name_by_offset(b->btf, v->name_off) : NULL;

		if (n && !strcmp(n, name)) {
			*off = vs[i].offset;
			return 0;
		}
	}
	return -ENOENT;
}

int nfm_arm64_ksym(struct nfm_ctx *ctx, const char *name, uint64_t *addr)
{
	uint64_t anchor, anchor_off, off;

	/* init_task as checked by its shape (the export, or found without one) */
	if (ctx->arm64_init_task && !strcmp(name, "init_task")) {
		*addr = ctx->arm64_init_task;
		return 0;
	}
	if (export_lookup(ctx, name, addr) == 0)
		return 0;
	if (ctx->vmci && nfm_vmcoreinfo_symbol(ctx->vmci, name, addr) == 0)
		return 0;
	if (export_lookup(ctx, "kernel_cpustat", &anchor) == 0 &&
	    percpu_offset(ctx->btf, "kernel_cpustat", &anchor_off) == 0 &&
	    percpu_offset(ctx->btf, name, &off) == 0) {
		*addr = anchor - anchor_off + off;
		return 0;
	}
	return -ENOENT;
}

void nfm_arm64_free(struct nfm_ctx *ctx)
{
	for (size_t i = 0; i < ctx->arm64_nr_exports; i++)
		free(ctx->arm64_exports[i].name);
	free(ctx->arm64_exports);
	ctx->arm64_exports = NULL;
	ctx->arm64_nr_exports = 0;
}

static bool btf_header_ok(const struct btf_hdr *h, size_t room)
{
	uint64_t end;

	if (h->magic != NFM_BTF_MAGIC || h->version != 1 || h->hdr_len < sizeof(*h) ||
	    h->hdr_len > 256 || h->type_off != 0 || h->str_off < h->type_len || !h->str_len)
		return false;
	end = (uint64_t)h->hdr_len + h->str_off + h->str_len;
	return end <= room && end <= NFM_BTF_MAX_BYTES && h->type_len > 4096;
}

static int find_btf(struct nfm_ctx *ctx, const struct image *im, struct nfm_btf **ret)
{
	int err = -ENOENT;

	for (size_t off = 0; off + sizeof(struct btf_hdr) <= im->len; off += 4) {
		struct btf_hdr h;

		if (im->buf[off] != 0x9f || im->buf[off + 1] != 0xeb)
			continue;
		memcpy(&h, im->buf + off, sizeof(h));
		if (!btf_header_ok(&h, im->len - off))
			continue;
		err = nfm_btf_new(im->buf + off, h.hdr_len + h.str_off + h.str_len, ret);
		if (err == 0) {
			nfm_dbg(&ctx->log, "arm64: vmlinux BTF at %#llx",
				(unsigned long long)(im->va + off));
			return 0;
		}
	}
	return err;
}

/* Is task (in the image) init_task: comm "swapper/0", pid 0, tasks.next->prev == &tasks? */
static bool is_init_task(struct nfm_ctx *ctx, const struct image *im, uint64_t task,
			 const struct nfm_field *comm, const struct nfm_field *pid,
			 const struct nfm_field *tasks, uint32_t tsize)
{
	size_t at = (size_t)(task - im->va);
	uint64_t next, back;
	int32_t tpid;

	if (!in_image(im, task, tsize) || memcmp(im->buf + at + comm->offset, "swapper/0", 10))
		return false;
	memcpy(&tpid, im->buf + at + pid->offset, 4);
	memcpy(&next, im->buf + at + tasks->offset, 8);
	return tpid == 0 && nfm_mmu_is_kernel_va(ctx->mmu, next) && !(next & 7) &&
	       nfm_kread_u64(ctx, next + 8, &back) == 0 && back == task + tasks->offset;
}

static int find_init_task(struct nfm_ctx *ctx, const struct image *im)
{
	struct nfm_field comm, pid, tasks;
	uint32_t tsize;
	uint64_t exported;
	const uint8_t *p = im->buf;

	if (nfm_btf_type_size(ctx->btf, "task_struct", &tsize) < 0 ||
	    nfm_btf_field(ctx->btf, "task_struct", "comm", &comm) < 0 ||
	    nfm_btf_field(ctx->btf, "task_struct", "pid", &pid) < 0 ||
	    nfm_btf_field(ctx->btf, "task_struct", "tasks", &tasks) < 0)
		return -ENOENT;
	/* the BTF is the guest's too: its members must lie inside the struct */
	if (comm.offset + 16 > tsize || pid.offset + 4 > tsize || tasks.offset + 16 > tsize)
		return -EBADMSG;
	if (nfm_arm64_ksym(ctx, "init_task", &exported) == 0) {
		if (is_init_task(ctx, im, exported, &comm, &pid, &tasks, tsize)) {
			ctx->arm64_init_task = exported;
			return 0;
		}
		nfm_dbg(&ctx->log, "arm64: the exported init_task %#llx does not look like one",
			(unsigned long long)exported);
	}
	/* init_task is aligned to the cache line (64 bytes on arm64). */
	while ((p = memmem(p, im->len - (size_t)(p - im->buf), "swapper/0", 10))) {
		size_t at = (size_t)(p - im->buf);

		if (at >= comm.offset && (at - comm.offset) % 64 == 0 &&
		    is_init_task(ctx, im, im->va + at - comm.offset, &comm, &pid, &tasks, tsize)) {
			ctx->arm64_init_task = im->va + at - comm.offset;
			return 0;
		}
		p++;
	}
	return -ENOENT;
}

/* A timekeeper at va: one clocksource for both clocks, a sane mult/shift. */
static bool is_timekeeper(struct nfm_ctx *ctx, uint64_t va)
{
	struct nfm_field mono, raw, mult, shift;
	uint64_t c1, c2;
	uint32_t m = 0, sh = 0;

	if (nfm_btf_field(ctx->btf, "timekeeper", "tkr_mono.clock", &mono) < 0 ||
	    nfm_btf_field(ctx->btf, "timekeeper", "tkr_raw.clock", &raw) < 0 ||
	    nfm_btf_field(ctx->btf, "timekeeper", "tkr_mono.mult", &mult) < 0 ||
	    nfm_btf_field(ctx->btf, "timekeeper", "tkr_mono.shift", &shift) < 0 ||
	    nfm_kread_u64(ctx, va + mono.offset, &c1) < 0 ||
	    nfm_kread_u64(ctx, va + raw.offset, &c2) < 0 ||
	    nfm_kread_u32(ctx, va + mult.offset, &m) < 0 ||
	    nfm_kread_u32(ctx, va + shift.offset, &sh) < 0)
		return false;
	return c1 && c1 == c2 && !(c1 & 7) && nfm_mmu_is_kernel_va(ctx->mmu, c1) && m &&
	       sh > 0 && sh < 64;
}

/*
 * A static variable from the code of a function that uses it. ADRP Xd gives a register a base
 * (the page of pc + imm); an ADD Xt, Xn, #imm or a 64-bit LDR Xt, [Xn, #imm] (unsigned offset,
 * or pre-index) from a register holding one names base + imm: GCC often addresses variables
 * from a section anchor kept in a callee-saved register for the whole function. ADD passes the
 * base on to Xt; a load or a call ends what the registers it writes held. Each address so named
 * is offered to ok() in code order, and the first it accepts wins: the shape checks, not this
 * partial decoding, make the answer.
 */
static int text_ref(struct nfm_ctx *ctx, const char *fn_name,
		    bool (*ok)(struct nfm_ctx *ctx, uint64_t va), uint64_t *ret)
{
	uint32_t insn[256];
	uint64_t fn, base[32];
	bool known[32] = { false };

	if (nfm_kallsyms_lookup(ctx->ks, fn_name, &fn) < 0 ||
	    nfm_kread(ctx, fn, insn, sizeof(insn)) < 0)
		return -ENOENT;
	for (size_t i = 0; i < sizeof(insn) / 4; i++) {
		uint32_t b = insn[i], rt = b & 31, rn = (b >> 5) & 31;
		uint64_t va, imm;

		if ((b & 0x9f000000) == 0x90000000) {	/* ADRP Xt, page */
			imm = ((uint64_t)((b >> 5) & 0x7ffff) << 2 | ((b >> 29) & 3)) << 12;
			if (imm & (1ull << 32))
				imm |= ~0ull << 33;	/* sign-extend the 33-bit offset */
			base[rt] = ((fn + i * 4) & ~0xfffull) + imm;
			known[rt] = true;
			continue;
		}
		if ((b & 0xfc000000) == 0x94000000 || (b & 0xfffffc1f) == 0xd63f0000) {
			/* BL, BLR: the caller-saved registers x0..x18 are gone */
			memset(known, 0, 19 * sizeof(known[0]));
			continue;
		}
		if ((b & 0xff800000) == 0x91000000 && known[rn]) {
			/* ADD (immediate, 64-bit) Xt, Xn, #imm12{, LSL #12} */
			va = base[rn] + (((b >> 10) & 0xfff) << ((b >> 22) & 1 ? 12 : 0));
			base[rt] = va;
			known[rt] = rt != 31;	/* not into sp */
		} else if ((b & 0xffc00000) == 0xf9400000 && known[rn]) {
			/* LDR Xt, [Xn, #imm12 * 8] */
			va = base[rn] + ((b >> 10) & 0xfff) * 8;
			known[rt] = false;
		} else if ((b & 0xffe00c00) == 0xf8400c00 && known[rn]) {
			/* LDR Xt, [Xn, #simm9]! (Xn moves to the address) */
			va = base[rn] + (uint64_t)((int64_t)((b >> 12) & 0x1ff) << 55 >> 55);
			base[rn] = va;
			known[rt] = false;
		} else {
			continue;
		}
		if (ok(ctx, va)) {
			*ret = va;
			return 0;
		}
	}
	return -ENOENT;
}

/* tk_core: { seqcount_raw_spinlock_t seq; struct timekeeper timekeeper; } */
static bool is_tk_core(struct nfm_ctx *ctx, uint64_t va)
{
	uint32_t seqsize;

	return nfm_btf_type_size(ctx->btf, "seqcount_raw_spinlock_t", &seqsize) == 0 &&
	       is_timekeeper(ctx, va + ((seqsize + 7) & ~7u));
}

/* socket_file_ops: the file_operations whose read_iter is sock_read_iter */
static bool is_socket_file_ops(struct nfm_ctx *ctx, uint64_t va)
{
	struct nfm_field f;
	uint64_t want, got;

	return nfm_kallsyms_lookup(ctx->ks, "sock_read_iter", &want) == 0 &&
	       nfm_btf_field(ctx->btf, "file_operations", "read_iter", &f) == 0 &&
	       nfm_kread_u64(ctx, va + f.offset, &got) == 0 && got == want;
}

static bool aligned_kva(struct nfm_ctx *ctx, uint64_t p)
{
	return !(p & 7) && nfm_mmu_is_kernel_va(ctx->mmu, p);
}

/* modules: a list of struct module (name a C identifier, state LIVE..UNFORMED) linked back to
 * it; the empty list is not told from any other, so it is not accepted */
static bool is_modules(struct nfm_ctx *ctx, uint64_t va)
{
	struct nfm_field list, name, state;
	uint64_t next, back;
	uint32_t st;
	char nm[64];

	if (nfm_btf_field(ctx->btf, "module", "list", &list) < 0 ||
	    nfm_btf_field(ctx->btf, "module", "name", &name) < 0 ||
	    nfm_btf_field(ctx->btf, "module", "state", &state) < 0 ||
	    nfm_kread_u64(ctx, va, &next) < 0 || next == va || !aligned_kva(ctx, next) ||
	    nfm_kread_u64(ctx, next + 8, &back) < 0 || back != va ||
	    nfm_kread_u32(ctx, next - list.offset + state.offset, &st) < 0 || st > 3 ||
	    nfm_kread_str(ctx, next - list.offset + name.offset, nm, sizeof(nm)) < 0 || !nm[0])
		return false;
	for (const char *c = nm; *c; c++)
		if (!(*c == '_' || (*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') ||
		      (*c >= 'A' && *c <= 'Z')))
			return false;
	return true;
}

/* sys_call_table: its first entries are the starts of __arm64_sys_* functions */
static bool is_sys_call_table(struct nfm_ctx *ctx, uint64_t va)
{
	uint64_t e[4], off;
	const char *name;

	if (nfm_kread(ctx, va, e, sizeof(e)) < 0)
		return false;
	for (size_t i = 0; i < 4; i++)
		if (nfm_kallsyms_symbolize(ctx->ks, e[i], &name, NULL, NULL, &off) < 0 || off ||
		    strncmp(name, "__arm64_sys_", 12))
			return false;
	return true;
}

/* module_kset: a pointer to the kset whose kobject is named "module" (/sys/module) */
static bool is_module_kset(struct nfm_ctx *ctx, uint64_t va)
{
	struct nfm_field kobj, kname;
	uint64_t kset, np;
	char nm[8];

	return nfm_btf_field(ctx->btf, "kset", "kobj", &kobj) == 0 &&
	       nfm_btf_field(ctx->btf, "kobject", "name", &kname) == 0 &&
	       nfm_kread_u64(ctx, va, &kset) == 0 && aligned_kva(ctx, kset) &&
	       nfm_kread_u64(ctx, kset + kobj.offset + kname.offset, &np) == 0 &&
	       nfm_mmu_is_kernel_va(ctx->mmu, np) && nfm_kread_str(ctx, np, nm, sizeof(nm)) == 0 &&
	       !strcmp(nm, "module");
}

/* shmem_ops: the super_operations whose show_options is shmem_show_options */
static bool is_shmem_ops(struct nfm_ctx *ctx, uint64_t va)
{
	struct nfm_field f;
	uint64_t want, got;

	return nfm_kallsyms_lookup(ctx->ks, "shmem_show_options", &want) == 0 &&
	       nfm_btf_field(ctx->btf, "super_operations", "show_options", &f) == 0 &&
	       nfm_kread_u64(ctx, va + f.offset, &got) == 0 && got == want;
}

/* shm_mnt: a pointer to the vfsmount of a super block with shmem_ops (found first) */
static bool is_shm_mnt(struct nfm_ctx *ctx, uint64_t va)
{
	struct nfm_field sb_f, op_f;
	uint64_t mnt, sb, op, shmem_ops;

	return export_lookup(ctx, "shmem_ops", &shmem_ops) == 0 &&
	       nfm_btf_field(ctx->btf, "vfsmount", "mnt_sb", &sb_f) == 0 &&
	       nfm_btf_field(ctx->btf, "super_block", "s_op", &op_f) == 0 &&
	       nfm_kread_u64(ctx, va, &mnt) == 0 && aligned_kva(ctx, mnt) &&
	       nfm_kread_u64(ctx, mnt + sb_f.offset, &sb) == 0 && aligned_kva(ctx, sb) &&
	       nfm_kread_u64(ctx, sb + op_f.offset, &op) == 0 && op == shmem_ops;
}

/* elf_hwcap: the kernel's hwcap bitmap; every arm64 CPU Linux runs on has fp and asimd (bits 0
 * and 1, HWCAP_FP and HWCAP_ASIMD), and bits 62 and 63 are kept clear for user space */
static bool is_elf_hwcap(struct nfm_ctx *ctx, uint64_t va)
{
	uint64_t w;

	return !(va & 7) && nfm_kread_u64(ctx, va, &w) == 0 && (w & 3) == 3 && !(w >> 62);
}

/* hwcap_str: the Features names by hwcap bit, "fp", "asimd", "evtstrm" first */
static bool is_hwcap_str(struct nfm_ctx *ctx, uint64_t va)
{
	static const char *const first[] = { "fp", "asimd", "evtstrm" };
	uint64_t e[3];
	char nm[16];

	if (!aligned_kva(ctx, va) || nfm_kread(ctx, va, e, sizeof(e)) < 0)
		return false;
	for (size_t i = 0; i < 3; i++)
		if (!nfm_mmu_is_kernel_va(ctx->mmu, e[i]) ||
		    nfm_kread_str(ctx, e[i], nm, sizeof(nm)) < 0 || strcmp(nm, first[i]))
			return false;
	return true;
}

/* Static variables walkers need, and functions whose code names each (the first that does;
 * shmem_ops before shm_mnt, whose check needs it). */
static const struct {
	const char *name, *user;
	bool (*ok)(struct nfm_ctx *ctx, uint64_t va);
} text_refs[] = {
	{ "tk_core", "ktime_get", is_tk_core },
	{ "tk_core", "ktime_get_with_offset", is_tk_core },
	{ "socket_file_ops", "sock_from_file", is_socket_file_ops },
	{ "modules", "find_module_all", is_modules },
	{ "modules", "print_modules", is_modules },
	{ "sys_call_table", "do_el0_svc", is_sys_call_table },
	{ "module_kset", "mod_sysfs_setup", is_module_kset },
	{ "shmem_ops", "shmem_fill_super", is_shmem_ops },
	{ "shm_mnt", "shmem_file_setup", is_shm_mnt },
	{ "shm_mnt", "shmem_kernel_file_setup", is_shm_mnt },
	{ "elf_hwcap", "cpu_have_feature", is_elf_hwcap },
	{ "hwcap_str", "c_show", is_hwcap_str },
};

static void find_text_refs(struct nfm_ctx *ctx)
{
	for (size_t i = 0; i < sizeof(text_refs) / sizeof(text_refs[0]); i++) {
		uint64_t va;

		if (export_lookup(ctx, text_refs[i].name, &va) == 0 ||
		    text_ref(ctx, text_refs[i].user, text_refs[i].ok, &va) < 0)
			continue;
		add_export(ctx, text_refs[i].name, va);
		nfm_dbg(&ctx->log, "arm64: %s at %#llx (from %s)", text_refs[i].name,
			(unsigned long long)va, text_refs[i].user);
	}
}

/* linux_banner (read-only data, not exported): "Linux version RELEASE (" in the image. */
static void find_banner(struct nfm_ctx *ctx, const struct image *im)
{
	const char *rel = ctx->vmci ? nfm_vmcoreinfo_get(ctx->vmci, "OSRELEASE") : NULL;
	char pat[128], ver[80] = ") ";
	const uint8_t *p = im->buf;
	int64_t name_off = 0;
	uint64_t uts;
	int n;

	if (!rel || nfm_vmcoreinfo_symbol(ctx->vmci, "init_uts_ns", &uts) < 0)
		return;
	nfm_vmcoreinfo_offset(ctx->vmci, "uts_namespace.name", &name_off);
	/* new_utsname.version (the 4th 65-byte field) */
	if (nfm_kread(ctx, uts + (uint64_t)name_off + 195, ver + 2, 65) < 0)
		return;
	ver[67] = 0;
	strcat(ver, "\n");
	n = snprintf(pat, sizeof(pat), "Linux version %s (", rel);
	if (n <= 0 || (size_t)n >= sizeof(pat))
		return;
	/*
	 * 6.1 links two banners: init/version.c's (UTS_VERSION "#" without the build number) and
	 * version-timestamp.c's, the real one, which ends with init_uts_ns's version.
	 */
	while ((p = memmem(p, im->len - (size_t)(p - im->buf), pat, (size_t)n))) {
		size_t at = (size_t)(p - im->buf), len = strnlen((const char *)p, im->len - at);

		if (len < im->len - at && len > strlen(ver) &&
		    !memcmp(p + len - strlen(ver), ver, strlen(ver))) {
			add_export(ctx, "linux_banner", im->va + at);
			return;
		}
		p++;
	}
}

int nfm_arm64_discover_data(struct nfm_ctx *ctx, struct nfm_btf **btf)
{
	struct image im = { 0 };
	size_t want = IMAGE_SCAN_FIRST;
	bool grown;
	int err = 0;

	if (nfm_kallsyms_lookup(ctx->ks, "_etext", &im.va) < 0)
		return -ENOENT;
	/* Each step reads on and looks again at all it has (an export table or the BTF may have
	 * been cut by the last step's end); done once everything is found, or at the end. */
	for (;;) {
		grown = image_grow(ctx, &im, want) == 0;
		if (!im.len) {
			err = -EIO;
			break;
		}
		nfm_arm64_free(ctx);	/* discovery may run again, and each step does */
		ctx->arm64_init_task = 0;
		im.cut = false;
		if (btf && !*btf)
			err = find_btf(ctx, &im, btf);
		/* init_task is EXPORT_SYMBOL, init_pid_ns EXPORT_SYMBOL_GPL: one anchor per table. */
		find_exports(ctx, &im, "init_task");
		find_exports(ctx, &im, "init_pid_ns");
		find_banner(ctx, &im);
		find_init_task(ctx, &im);
		if ((!btf || *btf) && ctx->arm64_nr_exports && !im.cut && ctx->arm64_init_task &&
		    export_lookup(ctx, "linux_banner", &(uint64_t){ 0 }) == 0)
			break;
		if (!grown || im.len >= IMAGE_SCAN_MAX)
			break;
		want = im.len * 2 > IMAGE_SCAN_MAX ? IMAGE_SCAN_MAX : im.len * 2;
	}
	if (err == 0 || (btf && *btf)) {
		err = 0;
		nfm_dbg(&ctx->log, "arm64: %zu exported symbols (%zu MiB of the image read)",
			ctx->arm64_nr_exports, im.len >> 20);
		find_text_refs(ctx);
		if (!ctx->arm64_init_task)
			nfm_dbg(&ctx->log, "arm64: init_task not found in the kernel image");
		else
			nfm_dbg(&ctx->log, "arm64: init_task at %#llx",
				(unsigned long long)ctx->arm64_init_task);
	}
	free(im.buf);
	return err;
}
