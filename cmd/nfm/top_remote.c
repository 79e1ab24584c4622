// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nfm top --remote HOST:PORT,...: the VMs of other hosts, read from their nfmd's JSON API
 * (GET /api/v1/vms: an nfmd.vms document, then GET /api/v1/vms/NAME: an nfmd.vm document for
 * each; doc/schema/docs/nfmd.*.json), shown beside the local ones. HTTP through libcurl, with a
 * connect timeout and an overall timeout per request: a host that does not answer shows as one
 * entry with an error, never as a hang. The bearer token, if nfmd wants one, comes from
 * $NFM_REMOTE_TOKEN. %CPU, the CPU split and %HOST come from two successive frames exactly as for
 * local VMs: nfmd's process walk carries the instant its CPU times belong to (cpu_frame: uptime,
 * /proc/stat times, the host's accounting of the VM read right after the walk) and each process's
 * last CPU; a frame of the same walk as the last one changes nothing. Everything from nfmd is
 * bounded as it is parsed (vCPU numbers, counts).
 */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "top.h"

#define MAX_BODY (64u << 20)
#define CONNECT_TIMEOUT_MS 2000L
#define TIMEOUT_MS 5000L

struct remote_state {
	CURL *curl;			/* one handle: connections to each nfmd are kept alive */
	struct curl_slist *headers;	/* Authorization: Bearer $NFM_REMOTE_TOKEN */
	char errbuf[CURL_ERROR_SIZE];
	struct worker *worker;		/* the TUI's (top_remote_start_async), or NULL */
};

struct body {
	char *buf;
	size_t len, cap;
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *ud)
{
	struct body *b = ud;
	size_t n = size * nmemb;

	if (n > MAX_BODY - b->len)
		return 0;	/* too large: curl fails the transfer (CURLE_WRITE_ERROR) */
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		char *nb;

		while (cap < b->len + n + 1)
			cap *= 2;
		nb = realloc(b->buf, cap);
		if (!nb)
			return 0;
		b->buf = nb;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, data, n);
	b->len += n;
	b->buf[b->len] = 0;
	return n;
}

static bool setup_handle(struct remote_state *rs);

static struct remote_state *state(struct top_state *st)
{
	struct remote_state *rs = st->remote_state;

	if (rs)
		return rs->curl ? rs : NULL;
	rs = st->remote_state = calloc(1, sizeof(*rs));
	if (!rs || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return NULL;
	return setup_handle(rs) ? rs : NULL;
}

/* An easy handle with the timeouts, protocols and token; false when curl cannot make one. */
static bool setup_handle(struct remote_state *rs)
{
	const char *token = getenv("NFM_REMOTE_TOKEN");

	rs->curl = curl_easy_init();
	if (!rs->curl)
		return false;
	if (token && *token) {
		char *h;

		if (asprintf(&h, "Authorization: Bearer %s", token) >= 0) {
			rs->headers = curl_slist_append(NULL, h);
			free(h);
		}
	}
	curl_easy_setopt(rs->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(rs->curl, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	curl_easy_setopt(rs->curl, CURLOPT_TIMEOUT_MS, TIMEOUT_MS);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(rs->curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(rs->curl, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(rs->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(rs->curl, CURLOPT_HTTPHEADER, rs->headers);
	curl_easy_setopt(rs->curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(rs->curl, CURLOPT_ERRORBUFFER, rs->errbuf);
	curl_easy_setopt(rs->curl, CURLOPT_USERAGENT, "nfm-top");
	return true;
}

/* Text into a fixed-size field, cut to fit (guest and nfmd strings may be longer). */
__attribute__((format(printf, 3, 4)))
static void set(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, size, fmt, ap);
	va_end(ap);
}

/* The member's string (NULL when absent or not a string). */
static const char *get_str(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string) ?
		       json_object_get_string(v) : NULL;
}

static int64_t get_i64(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v) : 0;
}

static uint64_t get_u64(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_uint64(v) : 0;
}

/* A "0x..." address member. */
static uint64_t get_addr(struct json_object *o, const char *k)
{
	const char *s = get_str(o, k);

	return s ? strtoull(s, NULL, 16) : 0;
}

/*
 * GET base + path and parse the body as a JSON document of the given kind. On failure NULL,
 * with why in err: curl's words (connection refused, timeout), the HTTP status and nfmd's own
 * "error" member, or what was wrong with the body.
 */
static struct json_object *get_doc(struct remote_state *rs, const char *base, const char *path,
				   const char *kind, char *err, size_t errsize)
{
	struct body b = { 0 };
	struct json_object *doc = NULL;
	char url[1200];
	const char *k;
	long status = 0;
	CURLcode rc;

	snprintf(url, sizeof(url), "%s%s", base, path);
	rs->errbuf[0] = 0;
	curl_easy_setopt(rs->curl, CURLOPT_URL, url);
	curl_easy_setopt(rs->curl, CURLOPT_WRITEDATA, &b);
	rc = curl_easy_perform(rs->curl);
	if (rc != CURLE_OK) {
		snprintf(err, errsize, "%s", rs->errbuf[0] ? rs->errbuf : curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(rs->curl, CURLINFO_RESPONSE_CODE, &status);
	doc = b.buf ? json_tokener_parse(b.buf) : NULL;
	if (status != 200) {
		const char *why = doc ? get_str(doc, "error") : NULL;

		snprintf(err, errsize, "HTTP %ld%s%s", status, why ? ": " : "", why ? why : "");
		json_object_put(doc);
		doc = NULL;
		goto out;
	}
	k = doc ? get_str(doc, "kind") : NULL;
	if (!k || strcmp(k, kind)) {
		snprintf(err, errsize, "not an %s document", kind);
		json_object_put(doc);
		doc = NULL;
	}
out:
	free(b.buf);
	return doc;
}

/* A guest string member's exact bytes into buf (NUL-terminated, cut to fit): KEY_hex when the
 * text form was not exact, otherwise KEY. */
static void get_bytes(struct json_object *o, const char *key, char *buf, size_t size)
{
	const char *s, *hex;
	char hkey[64];
	size_t n = 0;

	snprintf(hkey, sizeof(hkey), "%s_hex", key);
	hex = get_str(o, hkey);
	if (!hex) {
		set(buf, size, "%s", (s = get_str(o, key)) ? s : "");
		return;
	}
	for (; hex[0] && hex[1] && n + 1 < size; hex += 2) {
		unsigned int b;

		if (sscanf(hex, "%2x", &b) != 1)
			break;
		buf[n++] = (char)b;
	}
	buf[n] = 0;
}

/* A process of an nfmd frame (doc/schema/process.json) as the walker's struct. */
/* argv joined by spaces as top -c shows it (NULL when nfmd's frame has no argv: then *known
 * is false, or when it is empty); bounded as a local command line is. */
static char *argv_joined(struct json_object *p, bool *known)
{
	struct json_object *argv;
	size_t n, len = 0;
	char *out;

	*known = json_object_object_get_ex(p, "argv", &argv) &&
		 json_object_is_type(argv, json_type_array);
	if (!*known || !(n = json_object_array_length(argv)) || !(out = malloc(MAX_CMDLINE)))
		return NULL;
	out[0] = 0;
	for (size_t i = 0; i < n && len + 1 < MAX_CMDLINE; i++) {
		const char *a = json_object_get_string(json_object_array_get_idx(argv, i));

		len += (size_t)snprintf(out + len, MAX_CMDLINE - len, "%s%s", i ? " " : "", a ? a : "");
	}
	return out;
}

static void task_from_json(struct nfm_task *t, struct json_object *p)
{
	const char *s;
	struct json_object *v;

	memset(t, 0, sizeof(*t));
	t->addr = get_addr(p, "task");
	t->mm = get_addr(p, "mm");
	t->pid = (int32_t)get_i64(p, "pid");
	t->tgid = json_object_object_get_ex(p, "tgid", &v) ? (int32_t)json_object_get_int64(v) : t->pid;
	t->ppid = (int32_t)get_i64(p, "ppid");
	t->uid = (uint32_t)get_i64(p, "uid");
	t->euid = (uint32_t)get_i64(p, "euid");
	t->suid = (uint32_t)get_i64(p, "suid");
	t->fsuid = (uint32_t)get_i64(p, "fsuid");
	t->gid = (uint32_t)get_i64(p, "gid");
	t->egid = (uint32_t)get_i64(p, "egid");
	t->sgid = (uint32_t)get_i64(p, "sgid");
	t->fsgid = (uint32_t)get_i64(p, "fsgid");
	s = get_str(p, "state");
	t->state = s && *s ? *s : '?';
	get_bytes(p, "comm", t->name, sizeof(t->name));
	get_bytes(p, "task_comm", t->comm, sizeof(t->comm));
	t->kthread = json_object_object_get_ex(p, "kthread", &v) && json_object_get_boolean(v);
	t->flags = (uint32_t)get_i64(p, "flags");
	t->nice = (int32_t)get_i64(p, "nice");
	t->priority = (int32_t)get_i64(p, "priority");
	t->policy = (uint32_t)get_i64(p, "policy_code");
	t->rt_priority = (uint32_t)get_i64(p, "rt_priority");
	t->nr_threads = (int32_t)get_i64(p, "num_threads");
	t->start_ns = get_u64(p, "start_time_ns");
	t->start_ticks = get_u64(p, "start_time_ticks");
	t->utime_ns = get_u64(p, "utime_ns");
	t->stime_ns = get_u64(p, "stime_ns");
	t->utime_ticks = get_u64(p, "utime_ticks");
	t->stime_ticks = get_u64(p, "stime_ticks");
	t->vsize = get_u64(p, "vsize_bytes");
	t->rss_pages = get_u64(p, "rss_pages");
	/* obj_process() writes the byte counts with 4 KiB pages. */
	t->rss_exact_pages = get_u64(p, "rss_exact_bytes") / 4096;
	t->rss_anon = get_u64(p, "rss_anon_bytes") / 4096;
	t->rss_file = get_u64(p, "rss_file_bytes") / 4096;
	t->rss_shmem = get_u64(p, "rss_shmem_bytes") / 4096;
}

/* cpu_times.json into the walker's struct. */
static void cpu_times_from_json(struct nfm_cpu_times *c, struct json_object *o)
{
	memset(c, 0, sizeof(*c));
	c->cpu = -1;
	c->user = get_u64(o, "user_ns");
	c->nice = get_u64(o, "nice_ns");
	c->system = get_u64(o, "system_ns");
	c->idle = get_u64(o, "idle_ns");
	c->iowait = get_u64(o, "iowait_ns");
	c->irq = get_u64(o, "irq_ns");
	c->softirq = get_u64(o, "softirq_ns");
	c->steal = get_u64(o, "steal_ns");
	c->guest = get_u64(o, "guest_ns");
	c->guest_nice = get_u64(o, "guest_nice_ns");
}

/* host.json into a host reading; false when it cannot be used (no host clock). */
static bool host_from_json(struct nfm_host_sample *h, struct json_object *o)
{
	struct json_object *a, *cg;
	const char *s;
	size_t i, n;

	memset(h, 0, sizeof(*h));
	h->mono_ns = get_u64(o, "mono_ns");
	h->process_run_ns = get_u64(o, "cpu_ns");
	h->process_wait_ns = get_u64(o, "wait_ns");
	h->nr_threads = (unsigned int)get_u64(o, "nr_threads");
	if (json_object_object_get_ex(o, "vcpus", &a) && json_object_is_type(a, json_type_array)) {
		n = json_object_array_length(a);
		for (i = 0; i < n && h->nr_vcpus < NFM_HOST_MAX_VCPUS; i++) {
			struct json_object *v = json_object_array_get_idx(a, i);
			int64_t cpu = get_i64(v, "cpu"), tid = get_i64(v, "tid");

			/* top_host.c indexes by CPU number: only 0..NFM_HOST_MAX_VCPUS-1, once each. */
			if (cpu < 0 || cpu >= NFM_HOST_MAX_VCPUS || tid <= 0 || tid > INT32_MAX)
				continue;
			h->vcpu[h->nr_vcpus++] = (struct nfm_host_vcpu){
				.cpu = (int)cpu, .tid = (int)tid, .run_ns = get_u64(v, "cpu_ns"),
				.wait_ns = get_u64(v, "wait_ns") };
		}
	}
	if (json_object_object_get_ex(o, "cgroup", &cg) && json_object_is_type(cg, json_type_object)) {
		struct json_object *v;

		h->cg.version = (int)get_i64(cg, "version") == 2 ? 2 : 1;
		set(h->cg.path, sizeof(h->cg.path), "%s", (s = get_str(cg, "path")) ? s : "");
		h->cg.have_usage = json_object_object_get_ex(cg, "usage_ns", &v);
		h->cg.usage_ns = get_u64(cg, "usage_ns");
		h->cg.have_stat = json_object_object_get_ex(cg, "nr_periods", &v);
		h->cg.nr_periods = get_u64(cg, "nr_periods");
		h->cg.nr_throttled = get_u64(cg, "nr_throttled");
		h->cg.throttled_ns = get_u64(cg, "throttled_ns");
		h->cg.have_quota = json_object_object_get_ex(cg, "quota_us", &v);
		h->cg.quota_us = get_i64(cg, "quota_us");
		h->cg.period_us = get_u64(cg, "period_us");
		h->cg.nr_tasks = (unsigned int)get_u64(cg, "nr_tasks");
		h->cg.only_vm = json_object_object_get_ex(cg, "only_vm", &v) && json_object_get_boolean(v);
	}
	return h->mono_ns != 0;
}

/* Count a state letter as top's Tasks: line does (I is idle and sleeping). */
static void count_state(struct top_vm *vm, char state, unsigned int n)
{
	vm->tasks += n;
	switch (state) {
	case 'R': vm->running += n; break;
	case 'T': case 't': vm->stopped += n; break;
	case 'Z': vm->zombie += n; break;
	case 'I': vm->idle += n; vm->sleeping += n; break;
	default: vm->sleeping += n; break;
	}
}

/* The running tasks' uncharged time nfmd read with the walk (cpu_frame.sched_pending), added to
 * their processes as nfm top adds it locally (top_model.c). */
static void add_pending(struct top_vm *vm, struct json_object *cf)
{
	struct json_object *arr;
	size_t n;

	if (!cf || !json_object_object_get_ex(cf, "sched_pending", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return;
	n = json_object_array_length(arr);
	for (size_t i = 0; i < n && i < 1024; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);
		int64_t pid = get_i64(e, "pid");

		for (size_t j = 0; j < vm->nprocs; j++)
			if (vm->procs[j].pid == pid) {
				vm->procs[j].cpu_ns += get_u64(e, "ns");
				break;
			}
	}
}

/* Fill vm's current frame from an nfmd.vm document (doc/schema/docs/nfmd.vm.json). */
static void fill_from_frame(struct top_vm *vm, struct json_object *f)
{
	struct json_object *o, *ps, *by, *cf = NULL, *ho = NULL;
	const char *s;
	size_t i, n;

	/* The same process walk as last time (nfmd's ps interval is longer than ours): keep the
	 * rates of the last two walks rather than show the 0 % of an empty interval. */
	if (json_object_object_get_ex(f, "cpu_frame", &cf) && json_object_is_type(cf, json_type_object)) {
		if (vm->have_prev && vm->nprocs && !vm->error[0] &&
		    get_u64(cf, "uptime_ns") == vm->uptime_ns)
			return;
	} else {
		cf = NULL;
	}
	top_vm_rotate(vm);
	vm->error[0] = 0;
	vm->have_cpu = false;
	memset(&vm->ki, 0, sizeof(vm->ki));
	memset(&vm->load, 0, sizeof(vm->load));
	memset(&vm->mem, 0, sizeof(vm->mem));
	if (json_object_object_get_ex(f, "vm", &o)) {
		vm->pid = (int)get_i64(o, "pid");
		vm->info.ram_size = get_u64(o, "ram_bytes");
		if ((s = get_str(o, "error")))
			set(vm->error, sizeof(vm->error), "%s", s);
		if ((s = get_str(o, "release")))
			set(vm->ki.release, sizeof(vm->ki.release), "%s", s);
		vm->ki.nr_cpus_online = (unsigned int)get_i64(o, "cpus_online");
	}
	if (!vm->ki.release[0] && json_object_object_get_ex(f, "kernel", &o) &&
	    (s = get_str(o, "release")))
		set(vm->ki.release, sizeof(vm->ki.release), "%s", s);
	vm->uptime_ns = get_u64(f, "uptime_ns");
	if (cf) {
		/* The instant the processes' CPU times belong to, and the counters of that instant. */
		vm->uptime_ns = get_u64(cf, "uptime_ns");
		if (json_object_object_get_ex(cf, "cpu_times", &o)) {
			cpu_times_from_json(&vm->cpu, o);
			vm->have_cpu = true;
		}
		if (!json_object_object_get_ex(cf, "host", &ho))
			ho = NULL;
	}
	{
		/* This frame's host reading becomes vm->hs, the last one vm->prev_hs. */
		struct nfm_host_sample *h = top_host_rotate(vm);

		if (h && (!ho || !host_from_json(h, ho)))
			memset(h, 0, sizeof(*h));
	}
	if (json_object_object_get_ex(f, "loadavg", &o)) {
		struct json_object *av;

		vm->load.load[0] = json_object_object_get_ex(o, "load1", &av) ? json_object_get_double(av) : 0;
		vm->load.load[1] = json_object_object_get_ex(o, "load5", &av) ? json_object_get_double(av) : 0;
		vm->load.load[2] = json_object_object_get_ex(o, "load15", &av) ? json_object_get_double(av) : 0;
		if (json_object_object_get_ex(o, "avenrun", &av))
			for (i = 0; i < 3 && i < json_object_array_length(av); i++)
				vm->load.avenrun[i] = json_object_get_uint64(json_object_array_get_idx(av, i));
		vm->load.running = (unsigned int)get_i64(o, "running");
		vm->load.threads = (unsigned int)get_i64(o, "threads");
		vm->load.last_pid = (int)get_i64(o, "last_pid");
		set(vm->load.text, sizeof(vm->load.text), "%s", (s = get_str(o, "text")) ? s : "");
	}
	if (json_object_object_get_ex(f, "memory", &o)) {
		/* nfm_meminfo is in kB, as /proc/meminfo. */
		vm->mem.mem_total = get_u64(o, "mem_total_bytes") / 1024;
		vm->mem.mem_free = get_u64(o, "mem_free_bytes") / 1024;
		vm->mem.mem_available = get_u64(o, "mem_available_bytes") / 1024;
		vm->mem.buffers = get_u64(o, "buffers_bytes") / 1024;
		vm->mem.cached = get_u64(o, "cached_bytes") / 1024;
		vm->mem.swap_cached = get_u64(o, "swap_cached_bytes") / 1024;
		vm->mem.swap_total = get_u64(o, "swap_total_bytes") / 1024;
		vm->mem.swap_free = get_u64(o, "swap_free_bytes") / 1024;
		vm->mem.shmem = get_u64(o, "shmem_bytes") / 1024;
		vm->mem.slab_reclaimable = get_u64(o, "slab_reclaimable_bytes") / 1024;
		vm->mem.slab_unreclaimable = get_u64(o, "slab_unreclaimable_bytes") / 1024;
	}
	vm->tasks = vm->running = vm->sleeping = vm->stopped = vm->zombie = vm->idle = 0;
	/* The counts of every process (nfmd sends only the busiest ones). */
	if (json_object_object_get_ex(f, "tasks", &o) && json_object_object_get_ex(o, "by_state", &by)) {
		json_object_object_foreach(by, k, v)
			count_state(vm, k[0], (unsigned int)json_object_get_int64(v));
	}
	if (json_object_object_get_ex(f, "processes", &ps) && json_object_is_type(ps, json_type_array)) {
		bool counted = vm->tasks != 0;

		n = json_object_array_length(ps);
		vm->procs = calloc(n ? n : 1, sizeof(*vm->procs));
		for (i = 0; vm->procs && i < n; i++) {
			struct top_proc *t = &vm->procs[vm->nprocs++];

			task_from_json(&t->task, json_object_array_get_idx(ps, i));
			t->pid = t->task.pid;
			t->ppid = t->task.ppid;
			t->uid = t->task.euid;
			t->state = t->task.state;
			t->nice = t->task.nice;
			t->priority = t->task.priority;
			t->vsize = t->task.vsize;
			t->rss_kb = get_u64(json_object_array_get_idx(ps, i), "rss_bytes") / 1024;
			t->cpu_ns = t->task.utime_ns + t->task.stime_ns;
			{
				struct json_object *pv = json_object_array_get_idx(ps, i), *c;
				int64_t cpu = json_object_object_get_ex(pv, "processor", &c) ?
						      json_object_get_int64(c) : -1;

				t->cpu_last = cpu >= 0 && cpu < NFM_HOST_MAX_VCPUS ? (int)cpu : -1;
			}
			t->start_ns = t->task.start_ns;
			memcpy(t->name, t->task.name, sizeof(t->name));
			t->cmdline = argv_joined(json_object_array_get_idx(ps, i), &t->cmdline_known);
			if (!counted)
				count_state(vm, t->state, 1);
		}
	}
	add_pending(vm, cf);
	top_vm_compute(vm);
}

static struct top_vm *find_or_add(struct top_state *st, const char *name)
{
	struct top_vm *nv;
	size_t i, j;

	for (i = 0; i < st->nvms; i++)
		if (st->vms[i].remote && !strcmp(st->vms[i].spec, name))
			return &st->vms[i];
	nv = realloc(st->vms, (st->nvms + 1) * sizeof(*nv));
	if (!nv)
		return NULL;
	if (st->filter)
		st->filter = nv + (st->filter - st->vms);
	st->vms = nv;
	/* Process rows point at their VM's name: re-point after the move. */
	for (i = 0; i < st->nvms; i++)
		for (j = 0; j < st->vms[i].nprocs; j++)
			st->vms[i].procs[j].vm = st->vms[i].name;
	nv = &st->vms[st->nvms++];
	memset(nv, 0, sizeof(*nv));
	set(nv->spec, sizeof(nv->spec), "%s", name);
	set(nv->name, sizeof(nv->name), "%s", name);
	nv->remote = true;
	return nv;
}

/* Whether vm is one of host's entries: "HOST" (the host's own, when it did not answer) or
 * "HOST/NAME". */
static bool of_host(const struct top_vm *vm, const char *host)
{
	size_t hl = strlen(host);

	return vm->remote && !strncmp(vm->spec, host, hl) && (!vm->spec[hl] || vm->spec[hl] == '/');
}

/* Remove st->vms[i] (a remote entry: nothing attached). */
static void drop_vm(struct top_state *st, size_t i)
{
	size_t k, j;

	top_vm_free(&st->vms[i]);
	if (st->filter == &st->vms[i])
		st->filter = NULL;
	else if (st->filter > &st->vms[i])
		st->filter--;
	memmove(&st->vms[i], &st->vms[i + 1], (st->nvms - i - 1) * sizeof(st->vms[0]));
	st->nvms--;
	for (k = i; k < st->nvms; k++)
		for (j = 0; j < st->vms[k].nprocs; j++)
			st->vms[k].procs[j].vm = st->vms[k].name;
}

/* What one round of requests to one nfmd got: its VM list and each VM's frame, or why not. */
struct fetched {
	struct json_object *list;	/* the nfmd.vms document, or NULL (err says why) */
	char err[CURL_ERROR_SIZE + 64];
	size_t n;
	struct json_object **frames;	/* per entry of list's "vms": nfmd.vm document or NULL */
	char (*errs)[CURL_ERROR_SIZE + 64];
};

static void fetched_free(struct fetched *f)
{
	size_t i;

	if (!f)
		return;
	for (i = 0; i < f->n; i++)
		json_object_put(f->frames[i]);
	json_object_put(f->list);
	free(f->frames);
	free(f->errs);
	free(f);
}

/* Read one nfmd: its VM list, then each VM's latest frame (no top state touched: a worker
 * thread may run it). NULL only when out of memory. */
static struct fetched *fetch_host(struct remote_state *rs, const char *hp)
{
	struct fetched *f = calloc(1, sizeof(*f));
	struct json_object *vms;
	char base[600], path[600];
	size_t i, n;

	if (!f)
		return NULL;
	snprintf(base, sizeof(base), "%s%s", strstr(hp, "://") ? "" : "http://", hp);
	f->list = get_doc(rs, base, "/api/v1/vms", "nfmd.vms", f->err, sizeof(f->err));
	if (!f->list)
		return f;
	if (!json_object_object_get_ex(f->list, "vms", &vms) ||
	    !json_object_is_type(vms, json_type_array)) {
		set(f->err, sizeof(f->err), "no \"vms\" in its answer");
		json_object_put(f->list);
		f->list = NULL;
		return f;
	}
	n = json_object_array_length(vms);
	f->frames = calloc(n ? n : 1, sizeof(*f->frames));
	f->errs = calloc(n ? n : 1, sizeof(*f->errs));
	if (!f->frames || !f->errs) {
		fetched_free(f);
		return NULL;
	}
	f->n = n;
	for (i = 0; i < n; i++) {
		const char *name = get_str(json_object_array_get_idx(vms, i), "name");
		char *esc;

		if (!name || !*name)
			continue;
		esc = curl_easy_escape(rs->curl, name, 0);
		snprintf(path, sizeof(path), "/api/v1/vms/%s", esc ? esc : "");
		curl_free(esc);
		if (esc)
			f->frames[i] = get_doc(rs, base, path, "nfmd.vm", f->errs[i], sizeof(f->errs[i]));
		else
			set(f->errs[i], sizeof(f->errs[i]), "out of memory");
	}
	return f;
}

/* One nfmd's answers into st: its VMs added, updated or removed; when it did not answer, one
 * entry for the host, marked with why. */
static void apply_host(struct top_state *st, const char *hp, const struct fetched *f)
{
	struct json_object *vms = NULL;
	char id[384];
	size_t i, n;

	if (!f || !f->list || !json_object_object_get_ex(f->list, "vms", &vms)) {
		/* One entry for the host, marked: the frame says it plainly, and goes on. */
		struct top_vm *vm = find_or_add(st, hp);

		if (vm)
			set(vm->error, sizeof(vm->error), "nfmd at %s did not answer: %s", hp,
			    f ? f->err : "out of memory");
		for (i = 0; i < st->nvms; i++) {
			if (of_host(&st->vms[i], hp) && &st->vms[i] != vm) {
				top_vm_rotate(&st->vms[i]);
				set(st->vms[i].error, sizeof(st->vms[i].error), "%s",
				    vm ? vm->error : "nfmd did not answer");
			}
		}
		return;
	}
	/* It answers: its "did not answer" entry goes, and VMs it no longer lists go. */
	for (i = st->nvms; i-- > 0;) {
		struct top_vm *vm = &st->vms[i];
		const char *nm = vm->spec + strlen(hp) + 1;
		bool listed = false;

		if (!of_host(vm, hp))
			continue;
		for (n = 0; vm->spec[strlen(hp)] && n < json_object_array_length(vms); n++) {
			const char *name = get_str(json_object_array_get_idx(vms, n), "name");

			listed |= name && !strcmp(name, nm);
		}
		if (!listed)
			drop_vm(st, i);
	}
	for (i = 0; i < f->n; i++) {
		const char *name = get_str(json_object_array_get_idx(vms, i), "name");
		struct top_vm *vm;

		if (!name || !*name)
			continue;
		snprintf(id, sizeof(id), "%s/%s", hp, name);
		vm = find_or_add(st, id);
		if (!vm)
			continue;
		if (f->frames[i]) {
			fill_from_frame(vm, f->frames[i]);
		} else {
			top_vm_rotate(vm);
			set(vm->error, sizeof(vm->error), "no frame from nfmd at %s: %s", hp, f->errs[i]);
		}
	}
}

/*
 * The TUI must not wait for the network (a host that does not answer would freeze the screen
 * for the timeout): a worker thread with its own HTTP handle reads every nfmd in turn and
 * leaves each one's latest answers in a slot; each frame takes what has come. Batch and JSON
 * frames read synchronously, so that every frame has the remote VMs as of that frame.
 */
struct worker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop, started;
	double delay;			/* seconds between rounds (st->delay, copied under lock) */
	size_t nhosts;
	char (*hosts)[256];
	struct fetched **slots;		/* the newest unconsumed answer of each host, or NULL */
	struct remote_state rs;		/* the worker's own handle */
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		struct timespec until;
		double d;

		for (size_t i = 0; i < w->nhosts && !w->stop; i++) {
			struct fetched *f;

			pthread_mutex_unlock(&w->lock);
			f = fetch_host(&w->rs, w->hosts[i]);
			pthread_mutex_lock(&w->lock);
			fetched_free(w->slots[i]);
			w->slots[i] = f;
		}
		clock_gettime(CLOCK_REALTIME, &until);
		d = w->delay;
		until.tv_sec += (time_t)d;
		until.tv_nsec += (long)((d - (double)(time_t)d) * 1e9);
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		if (!w->stop)
			pthread_cond_timedwait(&w->wake, &w->lock, &until);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static void worker_free(struct worker *w)
{
	if (!w)
		return;
	if (w->started) {
		pthread_mutex_lock(&w->lock);
		w->stop = true;
		pthread_cond_signal(&w->wake);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->thread, NULL);	/* at most one request's timeout */
	}
	for (size_t i = 0; w->slots && i < w->nhosts; i++)
		fetched_free(w->slots[i]);
	if (w->rs.curl)
		curl_easy_cleanup(w->rs.curl);
	curl_slist_free_all(w->rs.headers);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->wake);
	free(w->slots);
	free(w->hosts);
	free(w);
}

void top_remote_start_async(struct top_state *st)
{
	struct remote_state *rs = state(st);
	char list[1024], *save = NULL, *hp;
	struct worker *w;

	if (!st->remote || !rs || rs->worker)
		return;
	w = calloc(1, sizeof(*w));
	if (!w)
		return;
	snprintf(list, sizeof(list), "%s", st->remote);
	for (hp = strtok_r(list, ",", &save); hp; hp = strtok_r(NULL, ",", &save)) {
		char (*nh)[256] = realloc(w->hosts, (w->nhosts + 1) * sizeof(*nh));

		if (!nh)
			break;
		w->hosts = nh;
		set(w->hosts[w->nhosts++], sizeof(w->hosts[0]), "%s", hp);
	}
	w->slots = calloc(w->nhosts ? w->nhosts : 1, sizeof(*w->slots));
	w->delay = st->delay;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	if (!w->slots || !setup_handle(&w->rs) ||
	    pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		worker_free(w);
		return;
	}
	w->started = true;
	rs->worker = w;
	/* Until a host's first answer: one entry that says so. */
	for (size_t i = 0; i < w->nhosts; i++) {
		struct top_vm *vm = find_or_add(st, w->hosts[i]);

		if (vm)
			set(vm->error, sizeof(vm->error), "waiting for nfmd at %s", w->hosts[i]);
	}
}

static void sample_async(struct top_state *st, struct worker *w)
{
	pthread_mutex_lock(&w->lock);
	w->delay = st->delay;
	for (size_t i = 0; i < w->nhosts; i++) {
		struct fetched *f = w->slots[i];

		if (!f)
			continue;	/* no new answer yet: the last one's rows stay */
		w->slots[i] = NULL;
		pthread_mutex_unlock(&w->lock);
		apply_host(st, w->hosts[i], f);
		fetched_free(f);
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
}

void top_remote_sample(struct top_state *st)
{
	char list[1024], *save = NULL, *hp;
	struct remote_state *rs;

	if (!st->remote)
		return;
	rs = state(st);
	if (rs && rs->worker) {
		sample_async(st, rs->worker);
		return;
	}
	snprintf(list, sizeof(list), "%s", st->remote);
	for (hp = strtok_r(list, ",", &save); hp; hp = strtok_r(NULL, ",", &save)) {
		if (rs) {
			struct fetched *f = fetch_host(rs, hp);

			apply_host(st, hp, f);
			fetched_free(f);
		} else {
			struct top_vm *vm = find_or_add(st, hp);

			if (vm)
				set(vm->error, sizeof(vm->error), "cannot start the HTTP client");
		}
	}
}

void top_remote_free(struct top_state *st)
{
	struct remote_state *rs = st->remote_state;

	if (!rs)
		return;
	worker_free(rs->worker);
	if (rs->curl) {
		curl_easy_cleanup(rs->curl);
		curl_global_cleanup();
	}
	curl_slist_free_all(rs->headers);
	free(rs);
	st->remote_state = NULL;
}
