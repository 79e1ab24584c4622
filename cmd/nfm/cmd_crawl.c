// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nfm crawl: everything nfm knows about a guest as one JSON document per VM per crawl
 * (doc/crawl.md is the schema). --interval SECS repeats, one document per line (JSON Lines);
 * --features os,cpu,memory,processes,files,modules,interfaces,sockets,mounts picks parts.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

/* Sockets land separately (ss); a libnfm without them still crawls the rest. */
#pragma weak nfm_socket_list

enum { F_OS, F_CPU, F_MEMORY, F_PROCESSES, F_FILES, F_MODULES, F_INTERFACES, F_SOCKETS, F_MOUNTS,
       F_NR };
static const char *const feature_names[F_NR] = {
	"os", "cpu", "memory", "processes", "files", "modules", "interfaces", "sockets", "mounts",
};

#define ADD(o, k, v) json_object_object_add(o, k, v)
#define I64(v) json_object_new_int64((int64_t)(v))
#define STR(s) cli_json_bytes(s, strlen(s))

static struct json_object *hex_str(uint64_t v)
{
	char b[24];

	snprintf(b, sizeof(b), "0x%" PRIx64, v);
	return json_object_new_string(b);
}

static void add_error(struct json_object *errs, const char *feature, int err)
{
	ADD(errs, feature, json_object_new_string(strerror(-err)));
}

static void crawl_os(struct nfm_ctx *ctx, struct json_object *doc, struct json_object *errs)
{
	struct nfm_kernel_info ki;
	struct json_object *o = json_object_new_object();
	uint64_t up;
	int err = nfm_ctx_kernel_info(ctx, &ki);

	if (err < 0) {
		add_error(errs, "os", err);
		json_object_put(o);
		return;
	}
	ADD(o, "sysname", STR(ki.sysname));
	ADD(o, "nodename", STR(ki.nodename));
	ADD(o, "release", STR(ki.release));
	ADD(o, "version", STR(ki.version));
	ADD(o, "machine", STR(ki.machine));
	ADD(o, "kaslr_offset", hex_str(ki.kaslr_offset));
	ADD(o, "paging_levels", json_object_new_int(ki.paging_levels));
	ADD(o, "cpus_online", json_object_new_int((int)ki.nr_cpus_online));
	if (nfm_ctx_uptime_ns(ctx, &up) == 0)
		ADD(o, "uptime_ns", I64(up));
	ADD(doc, "os", o);
}

static void crawl_cpu(struct nfm_ctx *ctx, struct json_object *doc, struct json_object *errs)
{
	struct nfm_cpu_times total, per[256];
	struct nfm_loadavg la;
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
	int n = nfm_cpu_times(ctx, &total, per, 256), i;

	if (n < 0) {
		add_error(errs, "cpu", n);
		json_object_put(o);
		json_object_put(arr);
		return;
	}
	for (i = -1; i < n && i < 256; i++) {
		const struct nfm_cpu_times *t = i < 0 ? &total : &per[i];
		struct json_object *c = json_object_new_object();

		ADD(c, "cpu", json_object_new_int(t->cpu));
		ADD(c, "user_ns", I64(t->user));
		ADD(c, "nice_ns", I64(t->nice));
		ADD(c, "system_ns", I64(t->system));
		ADD(c, "idle_ns", I64(t->idle));
		ADD(c, "iowait_ns", I64(t->iowait));
		ADD(c, "irq_ns", I64(t->irq));
		ADD(c, "softirq_ns", I64(t->softirq));
		ADD(c, "steal_ns", I64(t->steal));
		if (i < 0)
			ADD(o, "total", c);
		else
			json_object_array_add(arr, c);
	}
	ADD(o, "per_cpu", arr);
	if (nfm_loadavg(ctx, &la) == 0) {
		struct json_object *l = json_object_new_array();

		for (i = 0; i < 3; i++)
			json_object_array_add(l, json_object_new_double(la.load[i]));
		ADD(o, "loadavg", l);
		ADD(o, "running", json_object_new_int((int)la.running));
		ADD(o, "threads", json_object_new_int((int)la.threads));
	}
	ADD(doc, "cpu", o);
}

static void crawl_memory(struct nfm_ctx *ctx, struct json_object *doc, struct json_object *errs)
{
	struct nfm_meminfo m;
	struct json_object *o;
	int err = nfm_meminfo(ctx, &m);

	if (err < 0) {
		add_error(errs, "memory", err);
		return;
	}
	o = json_object_new_object();
	ADD(o, "MemTotal", I64(m.mem_total));
	ADD(o, "MemFree", I64(m.mem_free));
	ADD(o, "MemAvailable", I64(m.mem_available));
	ADD(o, "Buffers", I64(m.buffers));
	ADD(o, "Cached", I64(m.cached));
	ADD(o, "SwapTotal", I64(m.swap_total));
	ADD(o, "SwapFree", I64(m.swap_free));
	ADD(o, "Shmem", I64(m.shmem));
	ADD(doc, "memory", o);
}

static struct json_object *files_of(struct nfm_ctx *ctx, const struct nfm_task *t)
{
	struct json_object *arr = json_object_new_array();
	struct nfm_fd_iter *it;
	struct nfm_fd *fd = malloc(sizeof(*fd));

	if (!fd || nfm_fd_iter_new(ctx, t, &it) < 0) {
		free(fd);
		return arr;
	}
	while (nfm_fd_iter_next(it, fd) > 0) {
		struct json_object *o = json_object_new_object();

		ADD(o, "fd", json_object_new_int(fd->fd));
		ADD(o, "type", json_object_new_string(fd->type));
		ADD(o, "path", cli_json_bytes(fd->path, fd->path_len));
		ADD(o, "flags", I64(fd->f_flags));
		ADD(o, "pos", I64(fd->pos));
		ADD(o, "ino", I64(fd->ino));
		if (fd->proto[0])
			ADD(o, "proto", json_object_new_string(fd->proto));
		json_object_array_add(arr, o);
	}
	nfm_fd_iter_free(it);
	free(fd);
	return arr;
}

static void crawl_processes(struct nfm_ctx *ctx, struct json_object *doc, struct json_object *errs,
			    bool files)
{
	struct json_object *arr = json_object_new_array();
	struct nfm_task_iter *it;
	struct nfm_task t;
	/* A whole argument area: /proc shows it all, however long (bounded by the kernel's ARG_MAX
	 * limits in practice; a hostile guest gets cut here). */
	size_t bufsize = 1u << 20;
	char *buf = malloc(bufsize);
	int err = buf ? nfm_task_iter_new(ctx, 0, &it) : -ENOMEM;

	if (err < 0) {
		add_error(errs, "processes", err);
		json_object_put(arr);
		free(buf);
		return;
	}
	while ((err = nfm_task_iter_next(it, &t)) > 0) {
		struct json_object *o = json_object_new_object();
		int n;

		ADD(o, "pid", json_object_new_int(t.pid));
		ADD(o, "ppid", json_object_new_int(t.ppid));
		ADD(o, "uid", I64(t.uid));
		ADD(o, "euid", I64(t.euid));
		ADD(o, "gid", I64(t.gid));
		ADD(o, "state", json_object_new_string_len(&t.state, 1));
		ADD(o, "comm", STR(t.name));
		ADD(o, "kthread", json_object_new_boolean(t.kthread));
		ADD(o, "nice", json_object_new_int(t.nice));
		ADD(o, "priority", json_object_new_int(t.priority));
		ADD(o, "num_threads", json_object_new_int(t.nr_threads));
		ADD(o, "start_ns", I64(t.start_ns));
		ADD(o, "utime_ns", I64(t.utime_ns));
		ADD(o, "stime_ns", I64(t.stime_ns));
		ADD(o, "vsize", I64(t.vsize));
		ADD(o, "rss_pages", I64(t.rss_pages));
		n = t.kthread ? 0 : nfm_task_cmdline(ctx, &t, buf, bufsize, NULL);
		if (n > 0)
			ADD(o, "cmdline", cli_json_bytes(buf, (size_t)n));
		if (files && !t.kthread)
			ADD(o, "files", files_of(ctx, &t));
		json_object_array_add(arr, o);
	}
	if (err < 0)
		add_error(errs, "processes", err);
	nfm_task_iter_free(it);
	free(buf);
	ADD(doc, "processes", arr);
}

static void crawl_modules(struct nfm_ctx *ctx, struct json_object *doc, struct json_object *errs)
{
	struct nfm_module *m = NULL;
	struct json_object *arr;
	bool trunc = false;
	int n = nfm_module_list(ctx, &m, &trunc), i;

	if (n < 0) {
		add_error(errs, "modules", n);
		return;
	}
	arr = json_object_new_array();
	for (i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();

		ADD(o, "name", STR(m[i].name));
		ADD(o, "size", I64(m[i].size));
		ADD(o, "refcount", json_object_new_int(m[i].refcount));
		ADD(o, "state", json_object_new_string(m[i].state));
		ADD(o, "address", hex_str(m[i].address));
		json_object_array_add(arr, o);
	}
	free(m);
	ADD(doc, "modules", arr);
}

static void crawl_interfaces(struct nfm_ctx *ctx, struct json_object *doc, struct json_object *errs)
{
	struct nfm_netdev *d = NULL;
	struct json_object *arr;
	bool trunc = false;
	int n = nfm_netdev_list(ctx, &d, &trunc), i, j;

	if (n < 0) {
		add_error(errs, "interfaces", n);
		return;
	}
	arr = json_object_new_array();
	for (i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object(), *addrs = json_object_new_array();
		char a[INET6_ADDRSTRLEN + 8];

		ADD(o, "netns", I64(d[i].netns));
		ADD(o, "ifindex", json_object_new_int(d[i].ifindex));
		ADD(o, "name", STR(d[i].name));
		ADD(o, "flags", I64(d[i].flags));
		ADD(o, "mtu", I64(d[i].mtu));
		for (j = 0; j < d[i].nr_addrs && j < NFM_NETDEV_MAX_ADDRS; j++) {
			inet_ntop(d[i].addrs[j].family, d[i].addrs[j].addr, a, sizeof(a));
			snprintf(a + strlen(a), sizeof(a) - strlen(a), "/%d", d[i].addrs[j].prefixlen);
			json_object_array_add(addrs, json_object_new_string(a));
		}
		ADD(o, "addresses", addrs);
		ADD(o, "rx_bytes", I64(d[i].stats.rx_bytes));
		ADD(o, "rx_packets", I64(d[i].stats.rx_packets));
		ADD(o, "tx_bytes", I64(d[i].stats.tx_bytes));
		ADD(o, "tx_packets", I64(d[i].stats.tx_packets));
		json_object_array_add(arr, o);
	}
	free(d);
	ADD(doc, "interfaces", arr);
}

static void crawl_sockets(struct nfm_ctx *ctx, struct json_object *doc, struct json_object *errs)
{
	struct nfm_socket *s = NULL;
	struct json_object *arr;
	bool trunc = false;
	int n, i, j;

	if (!nfm_socket_list) {
		add_error(errs, "sockets", -EOPNOTSUPP);
		return;
	}
	n = nfm_socket_list(ctx, &s, &trunc);
	if (n < 0) {
		add_error(errs, "sockets", n);
		return;
	}
	arr = json_object_new_array();
	for (i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object(), *own = json_object_new_array();
		char a[INET6_ADDRSTRLEN];

		ADD(o, "family", json_object_new_int(s[i].family));
		ADD(o, "protocol", json_object_new_int(s[i].protocol));
		ADD(o, "type", json_object_new_int(s[i].type));
		ADD(o, "state", json_object_new_int(s[i].state));
		if (s[i].family == AF_INET || s[i].family == AF_INET6) {
			ADD(o, "local", json_object_new_string(inet_ntop(s[i].family, s[i].laddr, a, sizeof(a))));
			ADD(o, "local_port", json_object_new_int(s[i].lport));
			ADD(o, "remote", json_object_new_string(inet_ntop(s[i].family, s[i].raddr, a, sizeof(a))));
			ADD(o, "remote_port", json_object_new_int(s[i].rport));
		} else if (s[i].path_len > 0) {
			ADD(o, "path", cli_json_bytes(s[i].path, strnlen(s[i].path, sizeof(s[i].path))));
		}
		ADD(o, "inode", I64(s[i].inode));
		for (j = 0; j < s[i].nr_owners && j < NFM_SOCK_MAX_OWNERS; j++)
			json_object_array_add(own, json_object_new_int(s[i].owner_pid[j]));
		ADD(o, "owners", own);
		json_object_array_add(arr, o);
	}
	free(s);
	ADD(doc, "sockets", arr);
}

static void crawl_mounts(struct nfm_ctx *ctx, struct json_object *doc, struct json_object *errs)
{
	struct nfm_mount *m = NULL;
	struct json_object *arr;
	bool trunc = false;
	int n = nfm_mount_list(ctx, &m, &trunc), i;

	if (n < 0) {
		add_error(errs, "mounts", n);
		return;
	}
	arr = json_object_new_array();
	for (i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();

		ADD(o, "device", STR(m[i].device));
		ADD(o, "path", STR(m[i].path));
		ADD(o, "fstype", STR(m[i].fstype));
		ADD(o, "options", STR(m[i].options));
		json_object_array_add(arr, o);
	}
	free(m);
	ADD(doc, "mounts", arr);
}

static struct json_object *crawl_one(struct cli *cli, const bool *want)
{
	struct json_object *doc = json_object_new_object(), *errs = json_object_new_object();
	struct timespec ts;
	const char *name = nfm_source_vm_name(cli->src);
	double t0;

	clock_gettime(CLOCK_REALTIME, &ts);
	t0 = ts.tv_sec + ts.tv_nsec / 1e9;
	nfm_ctx_refresh(cli->ctx);
	ADD(doc, "vm", name ? STR(name) : json_object_new_string(nfm_source_describe(cli->src)));
	ADD(doc, "source", STR(nfm_source_describe(cli->src)));
	ADD(doc, "time", json_object_new_double(t0));
	if (want[F_OS])
		crawl_os(cli->ctx, doc, errs);
	if (want[F_CPU])
		crawl_cpu(cli->ctx, doc, errs);
	if (want[F_MEMORY])
		crawl_memory(cli->ctx, doc, errs);
	if (want[F_PROCESSES] || want[F_FILES])
		crawl_processes(cli->ctx, doc, errs, want[F_FILES]);
	if (want[F_MODULES])
		crawl_modules(cli->ctx, doc, errs);
	if (want[F_INTERFACES])
		crawl_interfaces(cli->ctx, doc, errs);
	if (want[F_SOCKETS])
		crawl_sockets(cli->ctx, doc, errs);
	if (want[F_MOUNTS])
		crawl_mounts(cli->ctx, doc, errs);
	clock_gettime(CLOCK_REALTIME, &ts);
	ADD(doc, "crawl_ms", json_object_new_double((ts.tv_sec + ts.tv_nsec / 1e9 - t0) * 1e3));
	ADD(doc, "errors", errs);
	return doc;
}

static int parse_features(const char *list, bool *want)
{
	char buf[256], *save = NULL, *f;
	int i;

	snprintf(buf, sizeof(buf), "%s", list);
	for (i = 0; i < F_NR; i++)
		want[i] = false;
	for (f = strtok_r(buf, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < F_NR; i++)
			if (!strcmp(f, feature_names[i]))
				break;
		if (i == F_NR)
			return cli_fail("unknown feature '%s' (os cpu memory processes files modules "
					"interfaces sockets mounts)", cli_esc(f));
		want[i] = true;
	}
	return 0;
}

int cmd_crawl(struct cli *cli, int argc, char **argv)
{
	bool want[F_NR];
	double interval = 0;
	long count = 0;
	int i;

	for (i = 0; i < F_NR; i++)
		want[i] = true;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--interval") && i + 1 < argc) {
			interval = strtod(argv[++i], NULL);
			if (interval < 0.01)
				return cli_fail("the interval must be at least 0.01 s");
		} else if (!strcmp(argv[i], "-n") && i + 1 < argc) {
			count = strtol(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--features") && i + 1 < argc) {
			if (parse_features(argv[++i], want))
				return 1;
		} else {
			return cli_fail("usage: nfm crawl [--features LIST] [--interval SECS [-n N]]");
		}
	}
	if (cli_attach(cli))
		return 1;
	for (long it = 0;; it++) {
		struct json_object *doc = crawl_one(cli, want);
		int flags = interval ? JSON_C_TO_STRING_PLAIN : JSON_C_TO_STRING_PRETTY;

		if (puts(json_object_to_json_string_ext(doc, flags | JSON_C_TO_STRING_NOSLASHESCAPE)) < 0 ||
		    fflush(stdout) != 0) {
			json_object_put(doc);
			return 1;
		}
		json_object_put(doc);
		if (!interval || (count && it + 1 >= count))
			break;
		{
			struct timespec ts = { .tv_sec = (time_t)interval,
					       .tv_nsec = (long)((interval - floor(interval)) * 1e9) };

			nanosleep(&ts, NULL);
		}
	}
	return 0;
}

const struct command command_crawl = {
	.name = "crawl",
	.summary = "everything about the guest as one JSON document per crawl (doc/crawl.md)",
	.usage = "[--features LIST] [--interval SECS [-n N]]",
	.run = cmd_crawl,
};
