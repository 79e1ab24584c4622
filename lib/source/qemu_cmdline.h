/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a QEMU command line says about the guest's memory: -name, -m, -machine, QMP socket and
 * memory backend objects; and the pc/q35 split of RAM around the PCI hole. Pure functions over
 * argv, no I/O, so they can be unit-tested and fuzzed.
 */
#ifndef NFM_LIB_SOURCE_QEMU_CMDLINE_H
#define NFM_LIB_SOURCE_QEMU_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nfm/source.h>

#include "source/qemu_nics.h"

#define NFM_QEMU_MAX_MEMDEVS 16

enum nfm_qemu_machine {
	NFM_QEMU_MACHINE_PC,		/* pc, pc-i440fx-*, pc-X.Y, or no -machine at all */
	NFM_QEMU_MACHINE_Q35,		/* q35, pc-q35-* */
	NFM_QEMU_MACHINE_OTHER,		/* microvm, isapc, ...: no known split */
};

struct nfm_qemu_memdev {
	char id[64];
	char type[32];		/* "memory-backend-file", "memory-backend-memfd", ... */
	char mem_path[256];	/* memory-backend-file's mem-path, or "" */
	bool share;
	uint64_t size;		/* bytes, 0 when absent */
};

struct nfm_qemu_cmdline {
	char name[128];		/* -name NAME / guest=NAME */
	uint64_t ram_size;	/* -m in bytes; 128 MiB (QEMU's default) when absent */
	char qmp[256];		/* first unix QMP socket path, or "" */
	char machine_type[64];	/* as given, or "" */
	enum nfm_qemu_machine machine;
	bool gigabyte_align;	/* false for pc/q35 machine types older than 2.0 */
	uint64_t max_ram_below_4g;	/* -machine max-ram-below-4g, 0 when absent */
	char ram_backend[64];	/* -machine memory-backend=ID, or "" */
	struct nfm_qemu_memdev memdevs[NFM_QEMU_MAX_MEMDEVS];
	size_t nr_memdevs;
	/* NICs (qemu_nics.c): links as the command line gives them ("tap:IF", "tapfd:N" before
	 * nfm_vm_nics() resolves them against the host) */
	struct nfm_vm_nic nics[NFM_QEMU_MAX_NICS];
	size_t nr_nics;
};

/*
 * Parse argv (argv[0] is the program). Unknown options are skipped. Returns 0, or -EINVAL when
 * an option we rely on (-m) is malformed.
 */
int nfm_qemu_cmdline_parse(const char *const *argv, size_t argc, struct nfm_qemu_cmdline *ret);

/* The same over /proc/PID/cmdline's bytes: NUL-separated arguments (need not end in NUL). */
int nfm_qemu_cmdline_parse_buf(const char *buf, size_t len, struct nfm_qemu_cmdline *ret);

/* True when the program named by argv[0] (or /proc/PID/exe) is a QEMU system emulator. */
bool nfm_qemu_is_qemu_path(const char *path);

/*
 * Parse a QEMU size: a number with an optional fraction and suffix B/K/M/G/T/P/E (any case);
 * default_unit applies when there is no suffix. 0 or -EINVAL.
 */
int nfm_qemu_parse_size(const char *s, size_t len, uint64_t default_unit, uint64_t *ret);

/*
 * How QEMU 7.2 splits ram_size bytes of RAM into [0, *below) and [4 GiB, 4 GiB + *above), per
 * hw/i386/pc_piix.c (pc) and pc_q35.c (q35). Returns 0, or -EOPNOTSUPP for other machines.
 */
int nfm_qemu_ram_split(const struct nfm_qemu_cmdline *cl, uint64_t *below, uint64_t *above);

#endif
