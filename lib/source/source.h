/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal interface between the generic source code (source.c) and each backend. */
#ifndef NFM_LIB_SOURCE_H
#define NFM_LIB_SOURCE_H

#include <nfm/nfm.h>
#include <sys/types.h>

/*
 * A guest-physical range and where its bytes live in the backend ("backing" offset: a host virtual
 * address in the QEMU process, a file offset in a dump, an offset into an mmap).
 */
struct nfm_source_range {
	uint64_t start, size;
	uint64_t backing;
};

/* One piece of a batched read, in backing offsets. */
struct nfm_backing_iov {
	uint64_t off;
	void *buf;
	size_t len;
};

/* The "QEMU" note a QEMU ELF dump carries per CPU: the registers discovery can fall back on. */
struct nfm_cpu_state {
	uint64_t cr0, cr3, cr4, rip, rsp, gs_base, kernel_gs_base;
	uint64_t idt_base;
	/* The general registers (a task running there is unwound from them): valid when
	 * has_gprs; gpr[] in QEMUCPUState's order (NFM_GPR_*). */
	uint64_t gpr[16], rflags;
	uint32_t cs;		/* the CS selector: its low two bits are the privilege level */
	bool has_gprs;
	bool stopped;		/* live: the VM was not running (paused, shut down): nothing moves */
};

enum { NFM_GPR_AX, NFM_GPR_BX, NFM_GPR_CX, NFM_GPR_DX, NFM_GPR_SI, NFM_GPR_DI, NFM_GPR_SP,
       NFM_GPR_BP, NFM_GPR_R8, NFM_GPR_R9, NFM_GPR_R10, NFM_GPR_R11, NFM_GPR_R12, NFM_GPR_R13,
       NFM_GPR_R14, NFM_GPR_R15 };

struct nfm_source_ops {
	const char *kind;
	/*
	 * Read len bytes at backing offset off. Required unless src->map is set. 0 or -EIO.
	 * Called from several threads at once (attach parses BTF on a second one): a source with
	 * shared state (a decompression context, a page cache) serialises its reads.
	 */
	int (*read_backing)(struct nfm_source *src, uint64_t off, void *buf, size_t len);
	/* Optional: many reads in one call (process_vm_readv). 0, or -EIO if any piece failed. */
	int (*read_backing_vec)(struct nfm_source *src, const struct nfm_backing_iov *iov, size_t n);
	/* Optional: the VMCOREINFO text a dump carries in a note. Caller frees *ret. */
	int (*vmcoreinfo)(struct nfm_source *src, char **ret, size_t *len);
	/* Optional: CPU registers a dump carries (QEMU ELF note). -ENOENT past the last CPU. */
	int (*cpu_state)(struct nfm_source *src, unsigned int cpu, struct nfm_cpu_state *ret);
	/* Optional: every vCPU's registers at once, now (a live QEMU asks its monitor once).
	 * Without it nfm_source_cpu_regs() collects cpu_state. Caller frees *ret. */
	int (*cpu_regs)(struct nfm_source *src, struct nfm_cpu_state **ret, size_t *n);
	/* Optional: which pages of [start, start+size) (backing offsets, page aligned) may hold
	 * anything but zeros (a clear bit: certainly zero); bit i of *bitmap = page i. Lets
	 * discovery and the recorder skip never-touched RAM without reading it. */
	int (*resident)(struct nfm_source *src, uint64_t off, uint64_t npages, uint8_t *bitmap);
	/* Optional: finish learning the layout (a QMP session still running since open); 1 when
	 * the ranges changed in a way that makes earlier reads suspect, else 0. */
	int (*settle)(struct nfm_source *src);
	void (*destroy)(struct nfm_source *src);
};

struct nfm_source {
	const struct nfm_source_ops *ops;
	struct nfm_source_range *ranges;	/* sorted by start, non-overlapping */
	size_t nr_ranges;
	struct nfm_phys_range *public_ranges;	/* same, as the public type */
	const uint8_t *map;	/* when set, backing offset N is map[N] (mmapped file or buffer) */
	uint64_t map_size;
	bool live;
	int pid;
	char *vm_name;
	char *desc;
	void *priv;		/* backend state */
};

/* Helpers for backends. */
int nfm_source_init(struct nfm_source *src, const struct nfm_source_ops *ops,
		    const struct nfm_source_range *ranges, size_t n, const char *desc);
/* Replace the ranges (sorted here; empty, wrapping or overlapping ones: -EINVAL). */
int nfm_source_set_ranges(struct nfm_source *src, const struct nfm_source_range *ranges, size_t n);
/*
 * Wait for a layout the backend is still learning and take it: 1 when the ranges changed so
 * that reads made before may have gone to the wrong place (discovery redoes them), else 0.
 * nfm_source_ranges() settles first; discovery scans the provisional layout meanwhile.
 */
int nfm_source_settle(struct nfm_source *src);
/* Find the range holding pa, or NULL. */
const struct nfm_source_range *nfm_source_find_range(const struct nfm_source *src, uint64_t pa);

/* Batched physical reads: the generic layer splits at range boundaries and batches when it can. */
struct nfm_phys_iov {
	uint64_t pa;
	void *buf;
	size_t len;
	int err;	/* out: 0, -EFAULT or -EIO per piece */
};
int nfm_source_read_phys_vec(struct nfm_source *src, struct nfm_phys_iov *iov, size_t n);

/* Backends' constructors (each in its own file). */
int nfm_source_open_qemu(int pid, const char *qmp_path, const struct nfm_log *log,
			 struct nfm_source **ret);
int nfm_source_open_dump(const char *path, const struct nfm_log *log, struct nfm_source **ret);
/* "DIR[@WHEN]": a recorded snapshot (snap.c, include/nfm/history.h). */
int nfm_source_open_snap(const char *spec, const struct nfm_log *log, struct nfm_source **ret);

/* Optional extras, -EOPNOTSUPP when the backend lacks them. */
int nfm_source_vmcoreinfo(struct nfm_source *src, char **ret, size_t *len);
int nfm_source_cpu_state(struct nfm_source *src, unsigned int cpu, struct nfm_cpu_state *ret);
/* Every vCPU's registers, indexed by QEMU's CPU index: 0 and *ret (caller frees), or -errno
 * (-EOPNOTSUPP: the source cannot tell). */
int nfm_source_cpu_regs(struct nfm_source *src, struct nfm_cpu_state **ret, size_t *n);
int nfm_source_resident(struct nfm_source *src, uint64_t pa, uint64_t npages, uint8_t *bitmap);

#endif
