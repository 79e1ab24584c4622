// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nfm crawl: everything nfm knows about a guest as one JSON document per VM per crawl
 * (doc/schema/docs/crawl.json; doc/crawl.md). --interval SECS repeats, one compact document
 * per line (JSON Lines); --features os,cpu,memory,processes,files,modules,interfaces,sockets,
 * mounts picks parts. Every guest object comes from cmd/common's builders (objects.h): a
 * process here is the same object as in `nfm ps -j` and nfmd's API. A part that cannot be read
 * is left out and named in "errors" ("complete": false; exit status 3).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "jout.h"
#include "objects.h"

#include <nfm/host.h>

enum { F_OS, F_CPU, F_MEMORY, F_PROCESSES, F_FILES, F_MODULES, F_INTERFACES, F_SOCKETS, F_MOUNTS,
       F_NR };
static const char *const feature_names[F_NR] = {
	"os", "cpu", "memory", "processes", "files", "modules", "interfaces", "sockets", "mounts",
};

#define MAX_CPUS 1024
/* The command line, cut where nfm ps -j cuts it (so that the process objects are the same). */
#define CMDLINE_MAX (128u << 10)

/* The part named feature could not be read (or only in part): err is a -errno. */
static void part_error(struct json_object *doc, const char *feature, int err, const char *msg)
{
	jdoc_error(doc, feature, err, msg);
}

static void crawl_os(struct nfm_ctx *ctx, struct json_object *doc)
{
	struct nfm_kernel_info ki;
	struct json_object *o;
	uint64_t up;
	int err = nfm_ctx_kernel_info(ctx, &ki);

	if (err < 0) {
		part_error(doc, "os", err, NULL);
		return;
	}
	o = obj_kernel(&ki);
	if (nfm_ctx_uptime_ns(ctx, &up) == 0)
		j_add(o, "uptime_ns", j_u64(up));
	j_add(doc, "kernel", o);
}

static void crawl_cpu(struct nfm_ctx *ctx, struct json_object *doc)
{
	struct nfm_cpu_times total, *per = malloc(MAX_CPUS * sizeof(*per));
	struct nfm_loadavg la;
	struct json_object *o, *arr;
	int n = per ? nfm_cpu_times(ctx, &total, per, MAX_CPUS) : -ENOMEM, i, err;

	if (n < 0) {
		part_error(doc, "cpu", n, "CPU times unreadable");
	} else {
		o = json_object_new_object();
		arr = json_object_new_array();
		j_add(o, "total", obj_cpu_times(&total));
		for (i = 0; i < n && i < MAX_CPUS; i++)
			json_object_array_add(arr, obj_cpu_times(&per[i]));
		j_add(o, "per_cpu", arr);
		j_add(doc, "cpu", o);
		if (n > MAX_CPUS)
			part_error(doc, "cpu", -E2BIG, "more online CPUs than a crawl lists");
	}
	free(per);
	err = nfm_loadavg(ctx, &la);
	if (err < 0)
		part_error(doc, "cpu", err, "the load average is unreadable");
	else
		j_add(doc, "loadavg", obj_loadavg(&la));
}

static void crawl_memory(struct nfm_ctx *ctx, struct json_object *doc)
{
	struct nfm_meminfo m;
	int err = nfm_meminfo(ctx, &m);

	if (err < 0)
		part_error(doc, "memory", err, NULL);
	else
		j_add(doc, "memory", obj_memory(&m));
}

/* A process's open files (feature files), as fd.json objects. */
static struct json_object *files_of(struct nfm_ctx *ctx, const struct nfm_task *t)
{
	struct json_object *arr = json_object_new_array();
	struct nfm_fd_iter *it;
	struct nfm_fd *fd = malloc(sizeof(*fd));

	if (!fd || nfm_fd_iter_new(ctx, t, &it) < 0) {
		free(fd);
		return arr;
	}
	while (nfm_fd_iter_next(it, fd) > 0)
		json_object_array_add(arr, obj_fd(fd));
	nfm_fd_iter_free(it);
	free(fd);
	return arr;
}

/* The thread ids of a process ("tids", as nfm ps -j). */
static void add_tids(struct nfm_ctx *ctx, const struct nfm_task *t, struct json_object *o)
{
	int32_t small[64], *tids = small;
	struct json_object *a;
	int k = nfm_task_tids(ctx, t, small, 64);

	if (k > 64) {
		int max = k;

		tids = malloc((size_t)max * sizeof(*tids));
		k = tids ? nfm_task_tids(ctx, t, tids, (size_t)max) : -ENOMEM;
		if (k > max)
			k = max;	/* threads were added meanwhile */
	}
	if (k >= 0) {
		a = json_object_new_array();
		for (int i = 0; i < k; i++)
			json_object_array_add(a, j_int(tids[i]));
		j_add(o, "tids", a);
	}
	if (tids != small)
		free(tids);
}

/* process.json for one process: what nfm ps -j shows (its command line and thread ids). */
static struct json_object *process_of(struct nfm_ctx *ctx, const struct nfm_task *t, char *buf,
				      bool files)
{
	struct json_object *o = obj_process(t, nfm_vmrss_summed(ctx));

	if (t->mm) {
		struct nfm_umem_stat st = { 0 };
		int n = nfm_task_cmdline(ctx, t, buf, CMDLINE_MAX, &st);

		if (n < 0)
			j_add(o, "cmdline_error", j_str(strerror(-n)));
		else
			obj_process_cmdline(o, buf, (size_t)n, &st);
	}
	add_tids(ctx, t, o);
	if (files && !t->kthread)
		j_add(o, "files", files_of(ctx, t));
	return o;
}

static void crawl_processes(struct nfm_ctx *ctx, struct json_object *doc, bool files)
{
	struct json_object *arr;
	struct nfm_task_iter *it;
	struct nfm_task t;
	char *buf = malloc(CMDLINE_MAX);
	int err = buf ? nfm_task_iter_new(ctx, 0, &it) : -ENOMEM;
	char msg[96];
	size_t n = 0;

	if (err < 0) {
		part_error(doc, "processes", err, "the task list is unreadable");
		free(buf);
		return;
	}
	arr = json_object_new_array();
	while ((err = nfm_task_iter_next(it, &t)) > 0) {
		json_object_array_add(arr, process_of(ctx, &t, buf, files));
		n++;
	}
	if (err < 0) {
		snprintf(msg, sizeof(msg), "the task list broke after %zu processes", n);
		part_error(doc, "processes", err, msg);
	}
	nfm_task_iter_free(it);
	free(buf);
	j_add(doc, "processes", arr);
}

static void crawl_modules(struct nfm_ctx *ctx, struct json_object *doc)
{
	struct nfm_module *m = NULL;
	struct json_object *arr;
	bool trunc = false;
	int n = nfm_module_list(ctx, &m, &trunc), i;

	if (n < 0) {
		part_error(doc, "modules", n, "the module list is unreadable");
		return;
	}
	arr = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(arr, obj_module(&m[i]));
	free(m);
	j_add(doc, "modules", arr);
	if (trunc)
		part_error(doc, "modules", -EBADMSG, "the module list was cut short");
}

static void crawl_interfaces(struct nfm_ctx *ctx, struct json_object *doc)
{
	struct nfm_netdev *d = NULL;
	struct json_object *arr;
	bool trunc = false;
	int n = nfm_netdev_list(ctx, &d, &trunc), i;

	if (n < 0) {
		part_error(doc, "interfaces", n, "the network devices are unreadable");
		return;
	}
	arr = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(arr, obj_interface(&d[i], true));
	free(d);
	j_add(doc, "interfaces", arr);
	if (trunc)
		part_error(doc, "interfaces", -EBADMSG, "the device list was cut short");
}

static void crawl_sockets(struct nfm_ctx *ctx, struct json_object *doc)
{
	struct nfm_socket *s = NULL;
	struct json_object *arr;
	bool trunc = false;
	int n = nfm_socket_list(ctx, &s, &trunc), i;

	if (n < 0) {
		part_error(doc, "sockets", n, "the sockets are unreadable");
		return;
	}
	arr = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(arr, obj_socket(&s[i]));
	free(s);
	j_add(doc, "sockets", arr);
	if (trunc)
		part_error(doc, "sockets", -EBADMSG, "the socket tables were cut short");
}

static void crawl_mounts(struct nfm_ctx *ctx, struct json_object *doc)
{
	struct nfm_mount *m = NULL;
	struct json_object *arr;
	bool trunc = false;
	int n = nfm_mount_list(ctx, &m, &trunc), i;

	if (n < 0) {
		part_error(doc, "mounts", n, "the mount table is unreadable");
		return;
	}
	arr = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(arr, obj_mount(&m[i]));
	free(m);
	j_add(doc, "mounts", arr);
	if (trunc)
		part_error(doc, "mounts", -EBADMSG, "the mount table was cut short");
}

/*
 * With the cpu feature of a live QEMU guest: the host's accounting of the VM (host.json, as nfm
 * top and nfmd give it). Thread names find the vCPUs, not QMP: a crawl every second would
 * otherwise hold the VM's monitor.
 */
static void crawl_host(struct nfm_source *src, struct nfm_host_vm **host, struct json_object *doc)
{
	NFM_OPTS(nfm_host_opts, opts, .qmp = "");
	struct nfm_host_sample *h;
	int pid = nfm_source_pid(src);

	if (pid <= 0 || (!*host && nfm_host_vm_new(pid, &opts, host) < 0))
		return;
	h = malloc(sizeof(*h));
	if (h && nfm_host_vm_sample(*host, h) == 0)
		j_add(doc, "host", obj_host(h, nfm_host_vm_vcpus_how(*host)));
	free(h);
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct json_object *crawl_one(struct cli *cli, const bool *want, struct nfm_host_vm **host)
{
	struct json_object *doc = jdoc_new("crawl");
	const char *name = nfm_source_vm_name(cli->src);
	uint64_t t0 = clock_ns(CLOCK_MONOTONIC);

	j_add(doc, "vm", j_str(name ? name : nfm_source_describe(cli->src)));
	j_add(doc, "source", j_str(nfm_source_describe(cli->src)));
	j_add(doc, "time_ns", j_u64(clock_ns(CLOCK_REALTIME)));
	nfm_ctx_refresh(cli->ctx);
	if (want[F_OS])
		crawl_os(cli->ctx, doc);
	if (want[F_CPU]) {
		crawl_cpu(cli->ctx, doc);
		crawl_host(cli->src, host, doc);
	}
	if (want[F_MEMORY])
		crawl_memory(cli->ctx, doc);
	if (want[F_PROCESSES] || want[F_FILES])
		crawl_processes(cli->ctx, doc, want[F_FILES]);
	if (want[F_MODULES])
		crawl_modules(cli->ctx, doc);
	if (want[F_INTERFACES])
		crawl_interfaces(cli->ctx, doc);
	if (want[F_SOCKETS])
		crawl_sockets(cli->ctx, doc);
	if (want[F_MOUNTS])
		crawl_mounts(cli->ctx, doc);
	j_add(doc, "duration_ns", j_u64(clock_ns(CLOCK_MONOTONIC) - t0));
	return doc;
}

/* One line on stderr naming what a crawl could not read. */
static void warn_partial(struct json_object *doc, long frame)
{
	struct json_object *errs, *e, *v;
	char line[512] = "";
	size_t i, n, len = 0;

	if (!json_object_object_get_ex(doc, "errors", &errs))
		return;
	n = json_object_array_length(errs);
	for (i = 0; i < n && len < sizeof(line) - 1; i++) {
		e = json_object_array_get_idx(errs, i);
		len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%s (%s)", i ? ", " : "",
					json_object_object_get_ex(e, "view", &v) ?
					json_object_get_string(v) : "?",
					json_object_object_get_ex(e, "error", &v) ?
					json_object_get_string(v) : "?");
	}
	if (frame >= 0)
		cli_warn("crawl %ld incomplete: %s", frame + 1, line);
	else
		cli_warn("the crawl is incomplete: %s", line);
}

static int parse_features(struct cli *cli, const char *list, bool *want)
{
	char buf[256], *save = NULL, *f;
	int i;

	if (strlen(list) >= sizeof(buf))
		return cli_usage_error(cli, "--features: list too long");
	snprintf(buf, sizeof(buf), "%s", list);
	for (i = 0; i < F_NR; i++)
		want[i] = false;
	for (f = strtok_r(buf, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < F_NR; i++)
			if (!strcmp(f, feature_names[i]))
				break;
		if (i == F_NR)
			return cli_usage_error(cli, "unknown feature '%s' (os cpu memory processes "
					       "files modules interfaces sockets mounts)", cli_esc(f));
		want[i] = true;
	}
	return 0;
}

static int cmd_crawl(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "features", required_argument, NULL, 'f' },
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ 0 }
	};
	bool want[F_NR], partial = false;
	struct nfm_host_vm *host = NULL;
	double interval = 0;
	int ret = 0;
	long count = 0;
	char *end;
	int i, c, pretty;

	for (i = 0; i < F_NR; i++)
		want[i] = true;
	while ((c = cli_getopt(cli, argc, argv, "f:i:n:", longopts)) != -1) {
		switch (c) {
		case 'f':
			if (parse_features(cli, optarg, want))
				return EXIT_USAGE;
			break;
		case 'i':
			interval = strtod(optarg, &end);
			if (end == optarg || *end || !(interval >= 0.01) || interval > 1e6)
				return cli_usage_error(cli, "--interval takes seconds, at least 0.01: '%s'",
						       cli_esc(optarg));
			break;
		case 'n':
			errno = 0;
			count = strtol(optarg, &end, 10);
			if (end == optarg || *end || errno || count < 1)
				return cli_usage_error(cli, "-n takes a count of crawls (1 or more): '%s'",
						       cli_esc(optarg));
			break;
		default:
			return cli_opt_status(cli);
		}
	}
	if (optind < argc)
		return cli_usage_error(cli, "no arguments expected");
	if (count && !interval)
		return cli_usage_error(cli, "-n goes with --interval");
	if (cli_attach(cli))
		return 1;
	/* JSON Lines: every frame on one line, unless one document was asked for pretty. */
	pretty = interval ? cli->pretty == 1 : cli->pretty;
	for (long it = 0;; it++) {
		struct json_object *doc = crawl_one(cli, want, &host);

		if (!jdoc_complete(doc)) {
			partial = true;
			warn_partial(doc, interval ? it : -1);
		}
		if (jdoc_print(stdout, doc, pretty)) {
			ret = 1;
			break;
		}
		if (!interval || (count && it + 1 >= count))
			break;
		{
			struct timespec ts = { .tv_sec = (time_t)interval,
					       .tv_nsec = (long)((interval - floor(interval)) * 1e9) };

			nanosleep(&ts, NULL);
		}
	}
	nfm_host_vm_free(host);
	return ret ?: (partial ? EXIT_PARTIAL : 0);
}

const struct command command_crawl = {
	.name = "crawl",
	.summary = "everything about the guest as one JSON document per crawl (doc/crawl.md)",
	.usage = "[--features LIST] [--interval SECS [-n N]]",
	.help = "  -f, --features LIST  some of os,cpu,memory,processes,files,modules,interfaces,\n"
		"                      sockets,mounts (default: all; files: processes' open files)\n"
		"  -i, --interval SECS  crawl again every SECS seconds, one document per line\n"
		"  -n, --count N       with --interval: stop after N crawls\n",
	.run = cmd_crawl,
};

struct json_object *cli_crawl_frame(struct cli *cli, struct nfm_host_vm **host)
{
	bool want[F_NR];

	for (int i = 0; i < F_NR; i++)
		want[i] = true;
	return crawl_one(cli, want, host);
}
