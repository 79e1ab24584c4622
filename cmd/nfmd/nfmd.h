/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nfmd: every QEMU VM on the host, crawled on a schedule, served as Prometheus metrics and JSON.
 *
 * Threads: the main thread owns everything published (the VM table, the latest frames, HTTP);
 * it runs one epoll loop (timerfd, signalfd, an eventfd for finished crawls, libmicrohttpd's epoll
 * fd). Crawls (attach, re-validate, collect) run on a small worker pool because attaching to a
 * large guest or scanning a VM with no Linux kernel can take seconds; while a crawl is in flight
 * its VM's `struct guest` (source, context) belongs to the worker and the main thread does not
 * touch it. Nothing else is shared, so the only lock is the job queue's.
 */
#ifndef NFMD_H
#define NFMD_H

#include <json-c/json.h>
#include <nfm/nfm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- util.c ---- */

/* A growable string; on allocation failure it sticks in an error state (oom) and stays valid. */
struct sbuf {
	char *s;
	size_t len, cap;
	bool oom;
};
void sb_putn(struct sbuf *b, const char *s, size_t n);
void sb_puts(struct sbuf *b, const char *s);
__attribute__((format(printf, 2, 3))) void sb_printf(struct sbuf *b, const char *fmt, ...);
/* A double the way Prometheus writes it: integers without exponent, NaN, +Inf, -Inf. */
void sb_value(struct sbuf *b, double v);
/* A Prometheus label value (quotes not included): guest bytes made printable (\xNN for control
 * bytes and invalid UTF-8, as nfm does for a terminal), then \\ \" \n escaped. */
void sb_label(struct sbuf *b, const char *s);
void sb_free(struct sbuf *b);

/* Guest bytes made printable: as `nfm` prints them (valid UTF-8 kept, others \xNN). */
char *esc_bytes(const void *bytes, size_t len, char *out, size_t outsize);
/* A JSON string from guest bytes (as `nfm -j`: valid UTF-8 as is, else \xNN-escaped). */
struct json_object *json_bytes(const void *bytes, size_t len);
static inline struct json_object *json_str(const char *s)
{
	return json_bytes(s, __builtin_strlen(s));
}

/* "250ms", "1s", "1.5s", "2m", "1h"; a bare number is seconds. Returns seconds or -1. */
double parse_duration(const char *s);
double now_mono(void);		/* CLOCK_MONOTONIC, seconds */
double now_real(void);		/* CLOCK_REALTIME, seconds */

/* ---- log (main.c) ---- */
extern int log_level;		/* NFM_LOG_* */
__attribute__((format(printf, 2, 3))) void logmsg(int level, const char *fmt, ...);

/* ---- collect.c: everything read from a guest ---- */

/* What a crawl can collect; each has its own interval. F_BASE runs on every crawl. */
enum feature {
	F_BASE,		/* kernel identity, uptime, CPUs, memory total (--interval) */
	F_PS,		/* processes: counts by state, top N by CPU, RSS (--ps-interval) */
	F_NET,		/* interfaces and counters, sockets (--net-interval) */
	F_SYS,		/* modules, mounts, meminfo, loadavg, dmesg (--sys-interval) */
	F_NR
};
extern const char *const feature_names[F_NR];

enum metric_type { M_GAUGE, M_COUNTER };

/* A metric family collect.c produces: all its samples are written together on /metrics. */
struct family {
	const char *name, *help;
	enum metric_type type;
};
extern const struct family families[];
extern const size_t nr_families;

/* One sample of a guest metric; vm and pid labels are added when rendering. */
struct sample {
	unsigned int family;	/* index into families[] */
	char *labels;		/* extra labels, rendered and escaped: `a="x",b="y"`, or NULL */
	double value;
};

/* What one feature produced in one crawl. Refcounted (main thread only). */
struct section {
	int refs;
	enum feature feature;
	struct json_object *json;	/* an object: its keys go into GET /api/v1/vms/NAME */
	struct sample *samples;		/* sorted by family */
	size_t n, cap;
	int err;			/* 0 or -errno of the failed collection */
	char errmsg[160];
	double collected_at;		/* CLOCK_REALTIME */
	double duration;		/* seconds */
};
struct section *section_new(enum feature f);
struct section *section_ref(struct section *s);
void section_unref(struct section *s);
/* Add a sample; labels is a printf format for the extra labels (NULL: none). */
__attribute__((format(printf, 4, 5))) void section_add(struct section *s, unsigned int family,
						    double value, const char *labels, ...);

/* Limits every collection obeys (memory per VM is bounded by these). */
struct collect_limits {
	int top;		/* processes with per-process metrics */
	int max_json_tasks;	/* processes listed in the JSON frame */
	int max_items;		/* interfaces, modules, mounts, sockets listed */
	double deadline;	/* CLOCK_MONOTONIC time the crawl must stop by */
};

/* What the crawl's re-validation already read (every crawl reads it, so F_BASE need not). */
struct crawl_base {
	struct nfm_kernel_info ki;
	uint64_t uptime_ns;
	bool have_uptime;
	const char *source;	/* nfm_source_describe */
};

/* Whether this build of nfmd can collect f (the library API it needs exists). */
bool collect_supported(enum feature f);

/*
 * Collect one feature from an attached guest into *ret (a new section; also on failure, with
 * err set, so the API can say what failed). Runs on a worker thread.
 */
void collect(struct nfm_ctx *ctx, enum feature f, const struct crawl_base *base,
	     const struct collect_limits *lim, struct section **ret);

/* ---- vm.c: the VM table, discovery, scheduling ---- */

struct config {
	const char *listen;		/* ADDR:PORT */
	const char *token_file;
	char *token;			/* read from token_file, or NULL */
	double interval[F_NR];		/* seconds; F_BASE is --interval */
	double rescan;			/* VM discovery period */
	double crawl_timeout;		/* per-crawl time budget */
	double attach_backoff_max;
	int workers;			/* crawl threads */
	int attach_workers;		/* attach threads */
	int max_vms;
	struct collect_limits lim;
	const char *only;		/* --vm PATTERN: fnmatch on the name, or NULL for all */
};
extern struct config cfg;

enum vm_status {
	VS_ATTACHING,	/* looking for the kernel (first time, or after a reboot) */
	VS_UP,		/* last crawl read the kernel */
	VS_PAUSED,	/* readable, but the guest clock has not moved for a while */
	VS_NO_KERNEL,	/* no Linux kernel in memory (firmware, another OS, early boot) */
	VS_ERROR,	/* the last crawl failed */
	VS_GONE,	/* the QEMU process is gone */
};
extern const char *const vm_status_names[];

#define NR_BUCKETS 13
extern const double crawl_buckets[NR_BUCKETS];

/* Worker-owned while a crawl is in flight. */
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
	char last_error[256];		/* the library's last error line */
	struct nfm_log log;
};

struct vm {
	struct vm *next;
	int pid;
	unsigned long long starttime;	/* /proc/PID/stat field 22: tells a reused pid apart */
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
	/* counters */
	uint64_t crawls, crawl_errors, attaches, attach_failures, reboots, timeouts;
	uint64_t buckets[NR_BUCKETS];
	double duration_sum;
	double last_crawl_duration, last_crawl_at;
	struct guest g;
};

extern struct vm *vms;
extern size_t nr_vms;

void vm_rescan(void);
/* Dispatch due crawls; returns the CLOCK_MONOTONIC time something is next due. */
double vm_schedule(double now);
/* Find by name, or by pid when s is a number. NULL when none. */
struct vm *vm_find(const char *s);
void vm_free_all(void);

/* A crawl job (worker.c runs vm_crawl on it, the main thread calls vm_crawl_done). */
struct job {
	struct job *next;
	struct vm *vm;
	unsigned int mask;		/* 1 << feature */
	bool attaching;			/* the guest has no context: the attach queue */
	uint64_t prio;			/* in the attach queue: lower goes first */
	/* results */
	int attach;			/* 0 none, 1 attached now, -errno attach failed */
	bool reattached;		/* the context no longer matched the guest: attached again */
	bool rebooted;			/* ... and found a different kernel (a reboot) */
	bool timed_out;
	bool paused;			/* the guest clock stands still and QEMU is idle */
	int err;			/* 0 or -errno of the base crawl */
	char msg[256];
	struct section *sec[F_NR];
	double started, ended;
};
void vm_crawl(struct job *j);		/* worker thread */
void vm_crawl_done(struct job *j);	/* main thread */

/* ---- worker.c ---- */
int workers_start(int n, int n_attach, int *eventfd_out);
void workers_submit(struct job *j);
/* Add a thread to a queue whose threads all hang (main thread, every loop). */
void workers_tick(double now);
/* Take finished jobs (main thread); returns a list linked by ->next. */
struct job *workers_take_done(void);
bool workers_stop(void);

/* ---- metrics.c ---- */
void metrics_render(struct sbuf *b);

/* ---- http.c ---- */
int http_start(const char *listen, int epfd);
void http_run(void);
int http_timeout_ms(void);	/* -1 for none */
void http_stop(void);

/* ---- api.c ---- */
struct json_object *api_vm_summary(struct vm *vm);
struct json_object *api_vm_frame(struct vm *vm);

extern double start_real;	/* nfmd's start time */
extern uint64_t http_requests, http_errors;

#endif
