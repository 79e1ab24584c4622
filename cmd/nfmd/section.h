/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What one feature produced in one crawl of one VM: its metric samples (sorted by family) and its
 * part of the VM's JSON frame. Built on a worker thread, then published on the main thread, which
 * owns it from then on (refcounted there only).
 */
#ifndef NFMD_SECTION_H
#define NFMD_SECTION_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

/* What a crawl can collect; each has its own interval. F_BASE runs on every crawl. */
enum feature {
	F_BASE,		/* kernel identity, uptime, CPUs, memory total (--interval) */
	F_PS,		/* processes: counts by state, top N by CPU, RSS (--ps-interval) */
	F_NET,		/* interfaces and counters, sockets (--net-interval) */
	F_SYS,		/* modules, mounts, meminfo, loadavg, dmesg (--sys-interval) */
	F_NR
};
extern const char *const feature_names[F_NR];

/* Adds members to a section's JSON object from data (what the crawl read, copied). */
typedef void (*section_build_fn)(struct json_object *json, const void *data);
#define SECTION_MAX_DEFERRED 6

/* One sample of a guest metric; vm and pid labels are added when rendering. */
struct sample {
	unsigned int family;	/* index into families[] (collect.h) */
	char *labels;		/* extra labels, rendered and escaped: `a="x",b="y"`, or NULL */
	double value;
};

struct section {
	int refs;
	enum feature feature;
	struct json_object *json;	/* an object: its keys go into GET /api/v1/vms/NAME */
	struct sample *samples;		/* sorted by family once complete (section_sort) */
	size_t n, cap;
	int err;			/* 0 or -errno of the failed collection */
	char errmsg[160];
	double collected_at;		/* CLOCK_REALTIME */
	double duration;		/* seconds */
	/* F_NET: the socket and interface lists as libnfm returned them, kept for the topology
	 * join (/api/topology, nfm_topology_*); NULL when not collected. */
	struct nfm_socket *socks;
	int nr_socks;
	struct nfm_netdev *devs;
	int nr_devs;
	bool net_truncated;		/* either list was cut short */
	/* F_PS: the processes as read; section_json turns them into the "processes" array when
	 * a reader first asks. Most crawls' lists are replaced unread by the next crawl's, and
	 * fifty guests' JSON objects built and freed every second cost nfmd more than the walks. */
	struct nfm_task *tasks;
	int *task_cpu;			/* the CPU each ran on last, -1 unknown */
	size_t nr_tasks;
	bool vmrss_summed;		/* nfm_vmrss_summed() of the guest */
	bool tasks_pending;		/* "processes" not built yet */
	bool tasks_built;		/* built: tasks[i] is what element i was built from */
	/* An earlier crawl's F_PS section with its "processes" built (section_hand_over): a
	 * task read byte for byte as it was then gets that object again, not a new one. */
	struct section *prev;
	/* Every other member is built the same way, when first asked for, in the order the crawl
	 * deferred them (section_defer): the JSON of fifty guests' crawls built and freed unread
	 * each second was a tenth of nfmd's CPU. */
	struct {
		section_build_fn fn;
		void *data;
	} deferred[SECTION_MAX_DEFERRED];
	int nr_deferred;
};

/*
 * The crawl's section next replaces old as the VM's latest: it keeps the latest one whose
 * processes were built (old, or the one old kept), so that section_json reuses their objects.
 * At most that one is kept: old lets go of its own.
 */
void section_hand_over(struct section *next, struct section *old);
/* A new section (refs 1, json an empty object), or NULL when memory ran out. */
struct section *section_new(enum feature f);
struct section *section_ref(struct section *s);
/* Drop a reference; frees on the last. Accepts NULL. */
void section_unref(struct section *s);
/*
 * The section's JSON object, its deferred members built on the first call. Sections are the
 * main thread's once published, so the cache is filled there without a lock.
 */
struct json_object *section_json(const struct section *s);
/*
 * fn(json, data) when section_json() is first called (data, from malloc, is the section's
 * then: freed after, or unread with the section). A data of NULL (memory ran out) adds nothing.
 */
void section_defer(struct section *s, section_build_fn fn, void *data);
/* A copy of size bytes at p for section_defer, with extra more bytes zeroed after it; NULL. */
void *section_copy(const void *p, size_t size, size_t extra);
/* Add a sample; labels is a printf format for the extra labels (NULL: none). */
__attribute__((format(printf, 4, 5))) void section_add(struct section *s, unsigned int family,
						    double value, const char *labels, ...);
/* Record the collection's first failure: err (-errno) and a message. */
__attribute__((format(printf, 3, 4))) void section_seterr(struct section *s, int err,
						       const char *fmt, ...);
/* Sort the samples by family, then labels: what /metrics' merge needs. */
void section_sort(struct section *s);
/* A label value for section_add's format: guest bytes escaped for Prometheus. Caller frees. */
char *section_label(const char *guest_bytes);

#endif
