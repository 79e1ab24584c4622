/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The BTF walker fuzz targets' guest: a context with the lab kernel's layout (a small BTF built
 * from fuzz/common/btf61.h, which fuzz/make-btf.py extracts from a 6.1 vmlinux BTF: only the
 * types, members and enumerators the walkers resolve) and a System.map whose symbols sit at fixed
 * guest-physical addresses (FZ_SYMS below), seen through the direct map at FZ_PO; no page tables.
 *
 * The input is a list of chunks, each [u32 pa][u16 len][len bytes], written into FZ_MEM bytes of
 * zeroed guest-physical memory (pa wraps; a short last chunk is cut), so that a seed holds only
 * the bytes of the few objects it sets, at their real offsets, though those objects are large.
 * The u64 at pa 0 (and 8) is the target's root: the task, dentry, ... a target starts from.
 *
 * A fresh context per input (BTF, symbols, context: tens of microseconds): the walkers keep
 * offsets and guest values (per-CPU offsets, the root dentry) in the context's slots, and a kept
 * context would carry one input's values into the next.
 */
#ifndef NFM_FUZZ_COMMON_BTFGUEST_H
#define NFM_FUZZ_COMMON_BTFGUEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/btf.h>

#include "btf/btf.h"
#include "core/context.h"
#include "source/source.h"
#include "sym/kallsyms.h"

#define FZ_MEM (1u << 20)
#define FZ_PO 0xffff888000000000ull
#define FZ_KV(pa) (FZ_PO + (uint64_t)(pa))

struct fz_type { const char *name; uint32_t size; };
struct fz_member { const char *type, *path; uint32_t bit_off, size, bits; };
struct fz_enum { const char *name; int64_t val; };
#include "btf61.h"

#define FZ_N(a) (sizeof(a) / sizeof((a)[0]))

/* Every symbol a walker looks up, at a fixed guest-physical address (objects from 0x10000). */
static const struct { const char *name; uint32_t pa; } FZ_SYMS[] = {
	{ "modules", 0x100 }, { "net_namespace_list", 0x110 }, { "nr_cpu_ids", 0x120 },
	{ "__cpu_online_mask", 0x128 }, { "__cpu_possible_mask", 0x130 },
	{ "__per_cpu_offset", 0x140 },	/* 8 CPUs */
	{ "nr_threads", 0x180 }, { "vmemmap_base", 0x188 }, { "shm_mnt", 0x190 },
	{ "_totalram_pages", 0x198 }, { "vsyscall_mode", 0x1a0 },
	{ "slab_caches", 0x1b0 }, { "vmap_area_root", 0x1c0 },
	{ "unix_socket_table", 0x800 },
	{ "init_task", 0x1000 },	/* task_struct: 9728 bytes in 6.1 */
	{ "arp_tbl", 0x4000 }, { "nd_tbl", 0x4400 }, { "tcp_hashinfo", 0x4800 },
	{ "udp_table", 0x4900 }, { "tk_core", 0x5000 }, { "gate_vma", 0x5400 },
	/* compared with, never read */
	{ "_stext", 0x6000 }, { "socket_file_ops", 0x6010 }, { "shmem_ops", 0x6020 },
	{ "special_mapping_name", 0x6030 }, { "pipefs_dname", 0x6040 },
	{ "sockfs_dname", 0x6050 }, { "anon_inodefs_dname", 0x6060 }, { "simple_dname", 0x6070 },
	{ "ns_dname", 0x6080 },
};
#define FZ_OBJ 0x10000u		/* where seeds put their objects */

static inline uint32_t fz_sym_pa(const char *name)
{
	size_t i;

	for (i = 0; i < FZ_N(FZ_SYMS); i++)
		if (!strcmp(FZ_SYMS[i].name, name))
			return FZ_SYMS[i].pa;
	abort();
}

/* A member's byte offset in the table (abort if the walkers do not resolve it: a seed bug). */
static inline uint32_t fz_off(const char *type, const char *path)
{
	size_t i;

	for (i = 0; i < FZ_N(fz_members); i++)
		if (!strcmp(fz_members[i].type, type) && !strcmp(fz_members[i].path, path))
			return fz_members[i].bit_off / 8;
	fprintf(stderr, "fuzz: no %s.%s in btf61.h\n", type, path);
	abort();
}

static inline uint32_t fz_size(const char *type)
{
	size_t i;

	for (i = 0; i < FZ_N(fz_types); i++)
		if (!strcmp(fz_types[i].name, type))
			return fz_types[i].size;
	abort();
}

/* An int type of this byte size, or a byte array for other sizes. */
static int fz_leaf(struct btf *b, uint32_t size, int *ints)
{
	int i = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : size == 8 ? 3 : -1;

	if (i >= 0)
		return ints[i];
	return btf__add_array(b, ints[2], ints[0], size);
}

/*
 * The struct for type's members under prefix ("" for the type itself), base_bits its place in
 * the outer type: nested members ("ns.inum") get an anonymous struct for "ns".
 */
static int fz_struct(struct btf *b, const char *type, const char *name, const char *prefix,
		     uint32_t base_bits, uint32_t size, int *ints)
{
	size_t plen = strlen(prefix), i, j, n = 0;
	struct { size_t m; int id; } kids[256];
	int id;

	for (i = 0; i < FZ_N(fz_members); i++) {
		const struct fz_member *m = &fz_members[i];
		const char *rest = m->path + plen + (plen ? 1 : 0);
		char sub[256];
		bool nested = false;

		if (strcmp(m->type, type) || (plen && (strncmp(m->path, prefix, plen) ||
							m->path[plen] != '.')))
			continue;
		if (strchr(rest, '.'))
			continue;	/* a grandchild: its parent's struct adds it */
		snprintf(sub, sizeof(sub), "%s.", m->path);
		for (j = 0; j < FZ_N(fz_members); j++)
			if (!strcmp(fz_members[j].type, type) &&
			    !strncmp(fz_members[j].path, sub, strlen(sub)))
				nested = true;
		if (n == FZ_N(kids))
			abort();
		kids[n].m = i;
		kids[n].id = nested ? fz_struct(b, type, NULL, m->path, m->bit_off, m->size, ints) :
			     fz_leaf(b, m->bits ? 4 : m->size, ints);
		if (kids[n].id <= 0)
			abort();
		n++;
	}
	id = btf__add_struct(b, name, size);
	if (id <= 0)
		abort();
	for (i = 0; i < n; i++) {
		const struct fz_member *m = &fz_members[kids[i].m];
		const char *leaf = strrchr(m->path, '.');

		if (btf__add_field(b, leaf ? leaf + 1 : m->path, kids[i].id,
				   m->bit_off - base_bits, m->bits) < 0)
			abort();
	}
	return id;
}

/* The BTF of the table, built once as a raw blob (building it is most of an input's cost). */
static inline struct nfm_btf *fz_btf(void)
{
	static void *blob;
	static uint32_t blob_size;
	struct nfm_btf *nb;

	if (!blob) {
		struct btf *b = btf__new_empty();
		const void *raw;
		int ints[4];
		size_t i;

		if (!b)
			abort();
		ints[0] = btf__add_int(b, "u8", 1, 0);
		ints[1] = btf__add_int(b, "u16", 2, 0);
		ints[2] = btf__add_int(b, "u32", 4, 0);
		ints[3] = btf__add_int(b, "u64", 8, 0);
		for (i = 0; i < FZ_N(fz_types); i++)
			fz_struct(b, fz_types[i].name, fz_types[i].name, "", 0, fz_types[i].size, ints);
		for (i = 0; i < FZ_N(fz_enums); i++) {
			/* one enum per enumerator: enough for lookups by name */
			if (btf__add_enum(b, NULL, 8) <= 0 ||
			    btf__add_enum_value(b, fz_enums[i].name, fz_enums[i].val) < 0)
				abort();
		}
		raw = btf__raw_data(b, &blob_size);
		if (!raw || !(blob = malloc(blob_size)))
			abort();
		memcpy(blob, raw, blob_size);
		btf__free(b);
	}
	if (nfm_btf_new(blob, blob_size, &nb) < 0)
		abort();
	return nb;
}

static char fz_map_path[] = "/tmp/nfm-fuzz-map-XXXXXX";

static void fz_unlink_map(void)
{
	unlink(fz_map_path);
}

/* The System.map of FZ_SYMS, written once, removed at exit. */
static inline const char *fz_system_map(void)
{
	static bool done;
	FILE *f;
	size_t i;
	int fd;

	if (done)
		return fz_map_path;
	fd = mkstemp(fz_map_path);
	if (fd < 0 || !(f = fdopen(fd, "w")))
		abort();
	for (i = 0; i < FZ_N(FZ_SYMS); i++)
		fprintf(f, "%016llx %c %s\n", (unsigned long long)FZ_KV(FZ_SYMS[i].pa),
			FZ_SYMS[i].pa >= 0x6000 ? 'T' : 'D', FZ_SYMS[i].name);
	fclose(f);
	atexit(fz_unlink_map);
	done = true;
	return fz_map_path;
}

struct fz_guest {
	uint8_t *mem;
	struct nfm_source *src;
	struct nfm_ctx *ctx;
	uint64_t root[2];	/* the u64s at pa 0 and 8 */
};

/* The guest for this input (the memory and source kept, the context new). */
static inline struct fz_guest *fz_guest_new(const uint8_t *data, size_t size)
{
	static struct fz_guest g;
	struct nfm_kallsyms *ks;

	if (!g.mem) {
		g.mem = calloc(1, FZ_MEM);
		if (!g.mem || nfm_source_new_buf(g.mem, FZ_MEM, 0, &g.src) < 0)
			abort();
	}
	memset(g.mem, 0, FZ_MEM);
	while (size >= 6) {
		uint32_t pa, len;
		uint16_t l16;

		memcpy(&pa, data, 4);
		memcpy(&l16, data + 4, 2);
		data += 6;
		size -= 6;
		pa %= FZ_MEM;
		len = l16 < size ? l16 : (uint32_t)size;
		if (len > FZ_MEM - pa)
			len = FZ_MEM - pa;
		memcpy(g.mem + pa, data, len);
		data += len;
		size -= len;
	}
	memcpy(g.root, g.mem, 16);
	if (nfm_kallsyms_load_system_map(fz_system_map(), 0, &ks) < 0 ||
	    nfm_ctx_new_parts(g.src, 4, 0, 0, FZ_PO, ks, fz_btf(), NULL, &g.ctx) < 0)
		abort();
	return &g;
}

/* With NFM_FUZZ_VERBOSE set, say what the walk gave (to check a seed: fuzz/README.md). */
static inline void fz_report(const char *what, int n, int err)
{
	static int verbose = -1;

	if (verbose < 0)
		verbose = getenv("NFM_FUZZ_VERBOSE") != NULL;
	if (verbose)
		fprintf(stderr, "fuzz: %s: %d (status %d)\n", what, n, err);
}

static inline void fz_guest_free(struct fz_guest *g)
{
	nfm_ctx_free(g->ctx);
	g->ctx = NULL;
}

/*
 * Seeds: with NFM_FUZZ_SEED=FILE in the environment, a target's LLVMFuzzerInitialize writes the
 * valid guest its seed() builds (fz_put* below, chunks as the input format has them) to FILE and
 * exits; fuzz/make-seeds.sh runs every target so.
 */
struct fz_seed {
	uint8_t buf[60000];
	size_t len;
};

static inline void fz_put(struct fz_seed *s, uint32_t pa, const void *p, uint16_t len)
{
	if (s->len + 6 + len > sizeof(s->buf))
		abort();
	memcpy(s->buf + s->len, &pa, 4);
	memcpy(s->buf + s->len + 4, &len, 2);
	memcpy(s->buf + s->len + 6, p, len);
	s->len += 6 + (size_t)len;
}

static inline void fz_put64(struct fz_seed *s, uint32_t pa, uint64_t v) { fz_put(s, pa, &v, 8); }
static inline void fz_put32(struct fz_seed *s, uint32_t pa, uint32_t v) { fz_put(s, pa, &v, 4); }
static inline void fz_put16(struct fz_seed *s, uint32_t pa, uint16_t v) { fz_put(s, pa, &v, 2); }
static inline void fz_putstr(struct fz_seed *s, uint32_t pa, const char *str)
{
	fz_put(s, pa, str, (uint16_t)(strlen(str) + 1));
}
/* A list_head at pa pointing at next and prev (guest-physical addresses of list_heads). */
static inline void fz_putlist(struct fz_seed *s, uint32_t pa, uint32_t next, uint32_t prev)
{
	uint64_t v[2] = { FZ_KV(next), FZ_KV(prev) };

	fz_put(s, pa, v, 16);
}

/* Link list_heads at pa[0..n) into a ring (pa[0] is the head). */
static inline void fz_ring(struct fz_seed *s, const uint32_t *pa, int n)
{
	int i;

	for (i = 0; i < n; i++)
		fz_putlist(s, pa[i], pa[(i + 1) % n], pa[(i + n - 1) % n]);
}

static inline void fz_seed_maybe_write(void (*seed)(struct fz_seed *))
{
	const char *out = getenv("NFM_FUZZ_SEED");
	static struct fz_seed s;
	FILE *f;

	if (!out)
		return;
	s.len = 0;
	seed(&s);
	f = fopen(out, "wb");
	if (!f || fwrite(s.buf, 1, s.len, f) != s.len || fclose(f))
		abort();
	exit(0);
}

/* The target's LLVMFuzzerInitialize: write seed()'s guest when NFM_FUZZ_SEED asks for it. */
#define FZ_SEED_INIT(seed)						\
	int LLVMFuzzerInitialize(int *argc, char ***argv);		\
	int LLVMFuzzerInitialize(int *argc, char ***argv)		\
	{								\
		(void)argc;						\
		(void)argv;						\
		fz_seed_maybe_write(seed);				\
		return 0;						\
	}

/* A target over one walker of the form int fn(ctx, type **ret, bool *truncated). */
#define FZ_LIST_TARGET(fn, type, what)					\
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)	\
	{								\
		struct fz_guest *g = fz_guest_new(data, size);		\
		type *a = NULL;						\
		bool trunc = false;					\
		int n = fn(g->ctx, &a, &trunc);				\
									\
		fz_report(what, n, trunc);				\
		if (n >= 0)						\
			free(a);					\
		fz_guest_free(g);					\
		return 0;						\
	}

#endif
