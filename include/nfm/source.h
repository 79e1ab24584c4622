/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Memory sources: where guest-physical memory comes from. A running QEMU process (by pid, name,
 * libvirt domain or QMP socket), a shared-memory RAM file, or a memory dump (raw, ELF, LiME).
 * Every source is read-only: nfm never writes guest memory.
 */
#ifndef NFM_SOURCE_H
#define NFM_SOURCE_H

#include <stdbool.h>
#include <nfm/nfm.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nfm_log;
struct nfm_source;

/* One range of guest-physical RAM: [start, start + size). */
struct nfm_phys_range {
	uint64_t start;
	uint64_t size;
};

/*
 * Open a memory source from a user-supplied spec:
 *   "1234" or "pid:1234"       a running QEMU process
 *   "name:web1" or "web1"      the QEMU process started with -name web1 (or -name guest=web1)
 *   "libvirt:web1"             a libvirt domain, through libvirt's pid file
 *   "qmp:/path/sock"           the QEMU process behind a QMP socket (the socket is used for mapping)
 *   "file:/x.elf" or a path    a memory dump: raw, ELF (QEMU dump-guest-memory), LiME
 *   NULL or ""                 the only QEMU process on the host (fails if none or several)
 * On failure returns -errno and logs one line saying why at NFM_LOG_ERR.
 * The caller owns *ret and frees it with nfm_source_free().
 */
NFM_EXPORT int nfm_source_open(const char *spec, const struct nfm_log *log,
			       struct nfm_source **ret);

/*
 * A source over a caller-owned buffer holding guest-physical memory from phys_base on (for tests
 * and fuzzing). The buffer must outlive the source; it is never written.
 */
NFM_EXPORT int nfm_source_new_buf(const void *data, size_t size, uint64_t phys_base,
				  struct nfm_source **ret);

/* Free a source; NULL is fine. */
NFM_EXPORT void nfm_source_free(struct nfm_source *src);

/*
 * Read len bytes of guest-physical memory at pa. Returns 0, -EFAULT if any part lies outside guest
 * RAM, -EIO if the underlying read failed.
 */
NFM_EXPORT int nfm_source_read_phys(struct nfm_source *src, uint64_t pa, void *buf, size_t len);

/* The guest-physical RAM ranges, sorted, owned by the source. Returns the count. */
NFM_EXPORT int nfm_source_ranges(struct nfm_source *src, const struct nfm_phys_range **ranges);

/* Total guest RAM in bytes (sum of ranges). */
NFM_EXPORT uint64_t nfm_source_ram_size(struct nfm_source *src);

/* A short description: "qemu pid 1234 (web1)", "ELF dump /x.elf". Owned by the source. */
NFM_EXPORT const char *nfm_source_describe(struct nfm_source *src);

/* The kind of source: "qemu", "elf", "raw", "lime", "buf". Static storage. */
NFM_EXPORT const char *nfm_source_kind(struct nfm_source *src);

/* True when the guest can change under us (a running VM), false for dumps and buffers. */
NFM_EXPORT bool nfm_source_is_live(struct nfm_source *src);

/* The QEMU pid of a live source, 0 for others. */
NFM_EXPORT int nfm_source_pid(struct nfm_source *src);

/* The VM's name (QEMU -name), or NULL when unknown. Owned by the source. */
NFM_EXPORT const char *nfm_source_vm_name(struct nfm_source *src);

/* One QEMU process found on this host. */
struct nfm_vm_info {
	int pid;
	char name[128];		/* -name value, or "" */
	uint64_t ram_size;	/* -m in bytes, 0 when unknown */
	char qmp[256];		/* QMP unix socket path from the command line, or "" */
};

/*
 * List QEMU processes on this host (any process whose executable is qemu-system-*).
 * Fills up to max entries of vms; returns the number found (may exceed max) or -errno.
 */
NFM_EXPORT int nfm_vm_list(struct nfm_vm_info *vms, int max);

/*
 * A guest NIC and the link that joins it to other VMs' NICs on this host: from QEMU's command
 * line (-netdev with the -device that uses it, -nic), a tap's bridge from sysfs, a tap passed as
 * a file descriptor (libvirt) by its fdinfo. NICs whose links are equal and non-empty share a
 * wire (one L2 segment); "" with known true is private to the VM (user-mode networking, a tap on
 * no bridge).
 */
struct nfm_vm_nic {
	char netdev[64];	/* the -netdev id, or "" for -nic */
	char type[16];		/* "user", "tap", "bridge", "socket", "dgram", "stream", "vde", ... */
	char mac[18];		/* "52:54:00:12:34:56", lower case: given, or QEMU's default for the
				 * NIC's place (mac_default true) */
	bool mac_default;
	bool known;		/* false: nfm cannot tell what it is joined to (vhost-user, ...) */
	char link[320];		/* "bridge:br0", "unix:PATH|PATH", "tcp:PORT", "udp:P/Q", "mcast:G:P",
				 * "vde:PATH", "tap:IFNAME"; "" private or unknown */
};

/* The NICs of the QEMU process pid, at most max: the number found (may exceed max) or -errno. */
NFM_EXPORT int nfm_vm_nics(int pid, struct nfm_vm_nic *nics, int max);

#ifdef __cplusplus
}
#endif

#endif
