/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The VM table: every QEMU process nfmd watches (found by nfm_vm_list every --rescan), what the
 * latest crawls published about each, and its counters. Main thread only, except `struct guest`
 * of a VM whose crawl is in flight (vm->busy), which belongs to the worker running it.
 */
#ifndef NFMD_VMS_H
#define NFMD_VMS_H

#include <json-c/json.h>
#include <nfm/history.h>
#include <nfm/host.h>
#include <nfm/nfm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "log.h"
#include "section.h"

enum vm_status {
	VS_ATTACHING,	/* looking for the kernel (first time, or after a reboot) */
	VS_UP,		/* last crawl read the kernel */
	VS_PAUSED,	/* readable, but the guest clock has not moved for a while */
	VS_NO_KERNEL,	/* no Linux kernel in memory (firmware, another OS, early boot) */
	VS_ERROR,	/* the last crawl failed */
	VS_GONE,	/* the QEMU process is gone */
};
extern const char *const vm_status_names[];
/* The run states nfm_vm_state and the API name (NULL-terminated): a fixed set. */
extern const char *const vm_run_states[];

#define NR_BUCKETS 13
extern const double crawl_buckets[NR_BUCKETS];

/* Worker-owned while a crawl is in flight. */
/* A state-timeline frame on its way to the store (record.h). */
struct record_frame {
	struct record_frame *next;
	char *text;			/* the frame's compact JSON (a key frame or a delta) */
	bool key;
	int64_t time_ns;		/* CLOCK_REALTIME when the crawl was published */
};

/* The VM's recording (nfmd --record), owned with the guest. */
struct guest_record {
	struct nfm_store *store;	/* DIR/NAME, opened at the first write */
	struct nfm_recorder *rec;	/* bound to the guest's source: freed at detach */
	double next_snap;		/* CLOCK_MONOTONIC of the next memory snapshot */
	uint64_t frames, snapshots, errors;
	char error[256];		/* the last error, "" after a success */
};

struct guest {
	struct nfm_source *src;
	struct nfm_ctx *ctx;
	char release[65];
	double attach_ms;
	uint64_t kaslr_offset, vmcoreinfo_pa;	/* of the last kernel attached; kept over detach */
	bool known;			/* a kernel was attached before: the fields above are its */
	bool clock_went_back;		/* the last kernel's clock went backwards: a reboot */
	uint64_t last_uptime_ns;
	/* a guest clock that stops: paused (QEMU idle) or rebooted under us (QEMU busy) */
	uint64_t stall_uptime_ns;
	double stall_since;
	unsigned long long stall_cpu_ticks;
	double stall_cpu_at;		/* when stall_cpu_ticks was read; 0: not in this stretch */
	char last_error[256];		/* the library's last error line */
	struct nfm_log log;
	struct nfm_host_vm *host;	/* the host's accounting of the VM (nfm/host.h), or NULL */
	double run_state_retry;		/* CLOCK_MONOTONIC: QMP did not answer; ask again then */
	struct guest_record rec;
};

struct vm {
	struct vm *next;
	int pid;
	unsigned long long starttime;	/* /proc/PID/stat field 22: tells a reused pid apart */
	struct nfm_vm_info info;	/* as nfm_vm_list found it (the API's vm object) */
	char name[128];			/* QEMU -name, or "pid:N" when it has none */
	char label_vm[512], label_pid[16];	/* rendered label values */
	bool libvirt;
	uint64_t ram_size;
	enum vm_status status;
	char error[256];		/* why, when status is not up */
	bool busy;			/* a crawl is in flight: guest belongs to a worker */
	bool gone;			/* disappeared while busy: free when the crawl returns */
	double busy_since;
	double last_attach_duration;	/* seconds the last attach attempt took */
	double next_due[F_NR];		/* CLOCK_MONOTONIC */
	double retry_at;		/* next attach attempt */
	double backoff;
	double first_seen, last_up;	/* CLOCK_MONOTONIC; last_up 0 = never */
	double discovered_at;		/* CLOCK_REALTIME */
	struct section *sec[F_NR];	/* latest of each feature */
	char run_state[32];		/* QEMU's (QMP `info status`), "" when unknown */
	struct nfm_vm_nic nics[16];	/* its NICs and their links, as found (nfm_vm_nics) */
	int nr_nics;
	/* counters */
	uint64_t crawls, crawl_errors, attaches, attach_failures, reboots, timeouts;
	uint64_t buckets[NR_BUCKETS];
	double duration_sum;
	double last_crawl_duration, last_crawl_at;
	const struct nfmd_log *log;	/* the daemon's (guest library messages go there) */
	struct guest g;
	/* the state timeline, main thread's side (record.h) */
	struct json_object *rec_prev;	/* the last frame queued: the next delta's base */
	uint64_t rec_n;			/* frames queued since the last key frame */
	struct record_frame *rec_queue;	/* built, not yet handed to a job */
	struct guest_record rec_stats;	/* g.rec as of the last finished job (its pointers NULL) */
};

struct vm_table {
	struct vm *head;		/* in the order found */
	size_t n;
	const struct nfmd_config *cfg;
	const struct nfmd_log *log;
	struct nfm_vm_info *list;	/* nfm_vm_list's buffer */
	int cap;
	bool warned_max;		/* --max-vms reached was said */
};

/* An empty table; 0 or -ENOMEM. */
int vm_table_init(struct vm_table *t, const struct nfmd_config *cfg, const struct nfmd_log *log);
/* Look for new and gone QEMU processes: new ones are appended, gone ones removed (or marked
 * gone while a crawl of theirs is in flight). */
void vm_table_rescan(struct vm_table *t);
/* Find by name, or by pid when s is a number; gone VMs are not found. NULL when none. */
struct vm *vm_table_find(const struct vm_table *t, const char *s);
/* The VM's run state, one of vm_run_states: QEMU's (QMP) folded, else paused when nfmd sees the
 * guest clock stand still, else running. */
const char *vm_run_state(const struct vm *vm);
/* Unlink vm and free it (not busy). */
void vm_table_remove(struct vm_table *t, struct vm *vm);
/* Free every VM no worker holds; the table is then empty (and may be freed). */
void vm_table_free(struct vm_table *t);

/* Forget every published section (the kernel they describe is gone). */
void vm_drop_sections(struct vm *vm);
/* Close the guest's context and source (a worker, or nobody, owns g). */
void guest_detach(struct guest *g);
/* /proc/PID/stat: utime+stime (ticks), starttime and state (each may be NULL); 0 or -errno. */
int qemu_stat(int pid, unsigned long long *cpu, unsigned long long *start, char *state);
/* The QEMU process we found is still there (not exited, not a zombie, pid not reused). */
bool vm_qemu_alive(const struct vm *vm);

#endif
