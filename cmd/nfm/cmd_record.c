// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nfm record VM --store DIR: snapshots of a VM's memory into a store (doc/history.md);
 * nfm record --check DIR; nfm snapshots DIR; and the spec `nfm --at WHEN` turns into.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nfm/nfm.h>
#include <nfm/history.h>
#include <nfm/host.h>

#include "cli.h"
#include "frames.h"
#include "jout.h"
#include "table.h"
#include "units.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t cli_parse_duration(const char *s)
{
	char *end;
	double v = strtod(s, &end), mul = 1e9;

	if (end == s || v < 0)
		return -1;
	if (!strcmp(end, "ms"))
		mul = 1e6;
	else if (!strcmp(end, "m") || !strcmp(end, "min"))
		mul = 60e9;
	else if (!strcmp(end, "h"))
		mul = 3600e9;
	else if (!strcmp(end, "d"))
		mul = 86400e9;
	else if (*end && strcmp(end, "s"))
		return -1;
	return (int64_t)(v * mul);
}

const char *cli_at_spec(const char *vm, const char *at)
{
	static char spec[4096];
	const char *store = getenv("NFM_STORE");

	/* --at DIR@WHEN names the store itself; else --vm DIR or $NFM_STORE. */
	if (strchr(at, '@') && at[0] != '@')
		snprintf(spec, sizeof(spec), "snap:%s", at);
	else
		snprintf(spec, sizeof(spec), "snap:%s@%s", vm && strncmp(vm, "snap:", 5) ? vm :
			 vm ? vm + 5 : store ? store : ".", at);
	return spec;
}

static void check_report(void *ud, const char *what)
{
	(*(int *)ud)++;
	printf("%s\n", what);
}

static int record_check(struct cli *cli, const char *dir)
{
	struct nfm_store *st;
	int n, shown = 0, err;

	err = nfm_store_open(dir, 0, &cli->log, &st);
	if (err)
		return cli_fail("%s", cli->last_error[0] ? cli->last_error : strerror(-err));
	n = nfm_store_check(st, check_report, &shown);
	nfm_store_close(st);
	if (n < 0)
		return cli_fail("%s: cannot check: %s", dir, strerror(-n));
	if (n) {
		fprintf(stderr, "nfm: %s: %d problem%s found\n", dir, n, n == 1 ? "" : "s");
		return 1;
	}
	printf("%s: ok\n", dir);
	return 0;
}

/* The state timeline of a recording: the previous frame (deltas are against it). */
struct timeline {
	struct json_object *prev;
	struct nfm_host_vm *host;
	long n;
};

/* Crawl one frame and store it: whole every FRAME_KEY_EVERY frames, else as a delta. */
static int timeline_frame(struct cli *cli, struct nfm_store *st, struct timeline *tl, int64_t keep)
{
	struct json_object *doc = cli_crawl_frame(cli, &tl->host), *d, *t;
	bool key = !tl->prev || tl->n % FRAME_KEY_EVERY == 0;
	int64_t time_ns = json_object_object_get_ex(doc, "time_ns", &t) ? json_object_get_int64(t) :
			  wall_ns();
	const char *text;
	int err;

	d = key ? json_object_get(doc) : frame_delta(tl->prev, doc);
	if (!d) {
		json_object_put(doc);
		return -ENOMEM;
	}
	text = json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN);
	err = nfm_store_frame_add(st, time_ns, key, text, strlen(text), keep);
	json_object_put(d);
	if (err) {
		json_object_put(doc);
		return err;
	}
	json_object_put(tl->prev);
	tl->prev = doc;
	tl->n++;
	return 0;
}

static int cmd_record(struct cli *cli, int argc, char **argv)
{
	enum { OPT_STORE = 0x100, OPT_EVERY, OPT_KEEP, OPT_MAX, OPT_CONSISTENT, OPT_CHECK,
	       OPT_METHOD, OPT_VERIFY, OPT_FRAMES };
	static const struct option longopts[] = {
		{ "store", required_argument, NULL, OPT_STORE },
		{ "every", required_argument, NULL, OPT_EVERY },
		{ "keep", required_argument, NULL, OPT_KEEP },
		{ "max-size", required_argument, NULL, OPT_MAX },
		{ "consistent", no_argument, NULL, OPT_CONSISTENT },
		{ "check", required_argument, NULL, OPT_CHECK },
		{ "method", required_argument, NULL, OPT_METHOD },
		{ "verify", no_argument, NULL, OPT_VERIFY },
		{ "frames", required_argument, NULL, OPT_FRAMES },
		{ "count", required_argument, NULL, 'n' },
		{ 0 }
	};
	NFM_OPTS(nfm_record_opts, ro);
	const char *store = NULL;
	int64_t every = 10000000000, keep = 0, frames = 0, next_frame = 0;
	struct timeline tl = { 0 };
	uint64_t max = 0, missed_total = 0;
	long count = -1, taken = 0;
	struct nfm_store *st = NULL;
	struct nfm_recorder *rec = NULL;
	struct nfm_kernel_info ki;
	int c, err, ret = 0;

	while ((c = cli_getopt(cli, argc, argv, "n:", longopts)) != -1) {
		switch (c) {
		case OPT_STORE: store = optarg; break;
		case OPT_EVERY:
			every = cli_parse_duration(optarg);
			if (every < 0)
				return cli_usage_error(cli, "--every: \"%s\" is not a duration",
						       cli_esc(optarg));
			break;
		case OPT_KEEP:
			keep = cli_parse_duration(optarg);
			if (keep <= 0)
				return cli_usage_error(cli, "--keep: \"%s\" is not a duration",
						       cli_esc(optarg));
			break;
		case OPT_MAX:
			max = units_parse_size(optarg);
			if (!max)
				return cli_usage_error(cli, "--max-size: \"%s\" is not a size",
						       cli_esc(optarg));
			break;
		case OPT_FRAMES:
			frames = cli_parse_duration(optarg);
			if (frames < 10000000)
				return cli_usage_error(cli, "--frames: \"%s\" is not a duration of "
						       "10ms or more", cli_esc(optarg));
			break;
		case OPT_CONSISTENT: ro.consistent = true; break;
		case OPT_VERIFY: ro.verify = true; break;
		case OPT_METHOD:
			if (!strcmp(optarg, "auto"))
				ro.method = NFM_SYNC_AUTO;
			else if (!strcmp(optarg, "full"))
				ro.method = NFM_SYNC_FULL;
			else if (!strcmp(optarg, "softdirty"))
				ro.method = NFM_SYNC_SOFTDIRTY;
			else
				return cli_usage_error(cli, "--method: auto, full or softdirty");
			break;
		case OPT_CHECK:
			return record_check(cli, optarg);
		case 'n':
			count = strtol(optarg, NULL, 10);
			if (count <= 0)
				return cli_usage_error(cli, "-n: a positive count");
			break;
		default:
			return cli_opt_status(cli);
		}
	}
	if (optind < argc)
		cli->vm = argv[optind++];
	if (optind < argc)
		return cli_usage_error(cli, "one VM expected");
	if (!store)
		return cli_usage_error(cli, "--store DIR is required");
	/* Attach once: the VMCOREINFO location is kept with every snapshot as an attach hint. */
	if (cli_attach(cli))
		return 1;
	if (nfm_ctx_kernel_info(cli->ctx, &ki) == 0)
		ro.vmcoreinfo_pa = ki.vmcoreinfo_pa;
	err = nfm_store_open(store, NFM_STORE_WRITE | NFM_STORE_CREATE, &cli->log, &st);
	if (err)
		return cli_fail("%s", cli->last_error[0] ? cli->last_error : strerror(-err));
	err = nfm_recorder_new(st, cli->src, &ro, &cli->log, &rec);
	if (err) {
		nfm_store_close(st);
		return cli_fail("%s", cli->last_error[0] ? cli->last_error : strerror(-err));
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!stop && (count < 0 || taken < count)) {
		struct nfm_snapshot_info in;
		uint64_t missed = 0;
		int64_t t0 = wall_ns(), left;
		int removed = 0;

		err = nfm_recorder_snap(rec, &in, &missed);
		if (err) {
			ret = cli_fail("%s", cli->last_error[0] ? cli->last_error : strerror(-err));
			break;
		}
		taken++;
		missed_total += missed;
		if (keep || max)
			nfm_store_retain(st, keep, max, wall_ns(), &removed);
		if (cli->json) {
			struct json_object *o = jdoc_new("record");

			j_add(o, "id", j_int(in.id));
			j_add(o, "time_ns", j_int(in.time_ns));
			j_add(o, "method", j_str(in.method));
			j_add(o, "ram_bytes", j_u64(in.ram_bytes));
			j_add(o, "read_pages", j_u64(in.read_pages));
			j_add(o, "zero_pages", j_u64(in.zero_pages));
			j_add(o, "new_pages", j_u64(in.new_pages));
			j_add(o, "new_bytes", j_u64(in.new_bytes));
			j_add(o, "index_bytes", j_u64(in.index_bytes));
			j_add(o, "sync_ns", j_u64(in.sync_ns));
			j_add(o, "cpu_ns", j_u64(in.cpu_ns));
			j_add(o, "pause_ns", j_u64(in.pause_ns));
			if (ro.verify)
				j_add(o, "missed_pages", j_u64(missed));
			j_add(o, "removed", j_int(removed));
			j_add(o, "store_bytes", j_u64(nfm_store_disk_bytes(st)));
			cli->pretty = 0;
			cli_print_json(cli, o);
		} else {
			printf("snapshot %" PRId64 ": %s, %" PRIu64 " pages read, %" PRIu64
			       " new (%" PRIu64 " bytes + index %" PRIu64 "), %.1f ms (cpu %.1f ms)",
			       in.id, in.method, in.read_pages, in.new_pages, in.new_bytes,
			       in.index_bytes, in.sync_ns / 1e6, in.cpu_ns / 1e6);
			if (ro.consistent)
				printf(", paused %.1f ms", in.pause_ns / 1e6);
			if (ro.verify)
				printf(", %" PRIu64 " missed", missed);
			printf("\n");
		}
		fflush(stdout);
		if (count >= 0 && taken >= count)
			break;
		left = t0 + every - wall_ns();
		while (!stop && left > 0) {
			struct timespec ts;
			int64_t now = wall_ns();

			/* the state timeline: a crawl frame every --frames between snapshots */
			if (frames && now >= next_frame) {
				err = timeline_frame(cli, st, &tl, keep);
				if (err) {
					ret = cli_fail("the state timeline: %s", strerror(-err));
					stop = 1;
					break;
				}
				next_frame = next_frame + frames > wall_ns() ? next_frame + frames :
					     wall_ns() + frames;
			}
			left = t0 + every - wall_ns();
			if (frames && next_frame - wall_ns() < left)
				left = next_frame - wall_ns();
			if (left <= 0)
				continue;
			ts = (struct timespec){ left / 1000000000, left % 1000000000 };
			nanosleep(&ts, NULL);
			left = t0 + every - wall_ns();
		}
	}
	json_object_put(tl.prev);
	nfm_host_vm_free(tl.host);
	nfm_recorder_free(rec);
	nfm_store_close(st);
	if (!ret && ro.verify && missed_total)
		return cli_fail("the sync method missed %" PRIu64 " changed pages", missed_total);
	return ret;
}

const struct command command_record = {
	.name = "record",
	.summary = "record snapshots of a VM's memory into a store (time travel)",
	.usage = "[VM] --store DIR [--every 10s] [--keep 24h] [--max-size 5G] [--consistent] [--frames 1s] [-n N] | --check DIR",
	.help = "  --store DIR         the snapshot store (created when missing)\n"
		"  --every DURATION    time between snapshots (default 10s; 500ms, 5m, 1h...)\n"
		"  --keep DURATION     remove snapshots older than this\n"
		"  --max-size SIZE     remove the oldest snapshots while the store is larger (5G, 500M)\n"
		"  --consistent        pause the VM (QMP stop/cont) for the copy; the pause is reported\n"
		"  -n, --count N       take N snapshots, then stop\n"
		"  --method METHOD     how changed pages are found: auto, full (hash every page\n"
		"                      the host holds data for), softdirty\n"
		"  --verify            also hash every page and report changes the method missed\n"
		"  --frames DURATION   the state timeline: a crawl frame (stored as a delta) this\n"
		"                      often between snapshots (1s, 500ms); nfm timeline reads it\n"
		"  --check DIR         verify a store (hashes, indexes) and say what is wrong\n",
	.run = cmd_record,
};

static int cmd_snapshots(struct cli *cli, int argc, char **argv)
{
	struct nfm_snapshot_info *a;
	struct nfm_store *st;
	const char *dir;
	int n, i, c, err;

	while ((c = cli_getopt(cli, argc, argv, "", NULL)) != -1)
		return cli_opt_status(cli);
	if (optind + 1 != argc)
		return cli_usage_error(cli, "one store directory expected");
	dir = argv[optind];
	err = nfm_store_open(dir, 0, &cli->log, &st);
	if (err)
		return cli_fail("%s", cli->last_error[0] ? cli->last_error : strerror(-err));
	n = nfm_store_list(st, &a);
	if (n < 0) {
		nfm_store_close(st);
		return cli_fail("%s: %s", dir, strerror(-n));
	}
	if (cli->json) {
		struct json_object *doc = jdoc_new("snapshots"), *arr = json_object_new_array();

		for (i = 0; i < n; i++) {
			struct json_object *o = json_object_new_object();

			j_add(o, "id", j_int(a[i].id));
			j_add(o, "time_ns", j_int(a[i].time_ns));
			j_add(o, "vm", j_str(a[i].vm));
			j_add(o, "method", j_str(a[i].method));
			j_add(o, "ram_bytes", j_u64(a[i].ram_bytes));
			j_add(o, "new_bytes", j_u64(a[i].new_bytes));
			j_add(o, "index_bytes", j_u64(a[i].index_bytes));
			j_add(o, "sync_ns", j_u64(a[i].sync_ns));
			j_add(o, "pause_ns", j_u64(a[i].pause_ns));
			json_object_array_add(arr, o);
		}
		j_add(doc, "snapshots", arr);
		j_add(doc, "store_bytes", j_u64(nfm_store_disk_bytes(st)));
		err = cli_print_json(cli, doc);
	} else {
		struct table *t = table_new(cli);

		table_column(t, "ID", TBL_RIGHT);
		table_column(t, "TIME", 0);
		table_column(t, "VM", 0);
		table_column(t, "METHOD", 0);
		table_column(t, "NEW", TBL_RIGHT);
		table_column(t, "SYNC", TBL_RIGHT);
		table_column(t, "PAUSE", TBL_RIGHT);
		for (i = 0; i < n; i++) {
			time_t s = (time_t)(a[i].time_ns / 1000000000);
			char when[64];
			struct tm tm;

			localtime_r(&s, &tm);
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
			table_row(t);
			table_cell(t, "%" PRId64, a[i].id);
			table_cell(t, "%s", when);
			table_cell_guest(t, a[i].vm, strlen(a[i].vm));
			table_cell(t, "%s", a[i].method);
			table_cell(t, "%" PRIu64, a[i].new_bytes);
			table_cell(t, "%.0fms", a[i].sync_ns / 1e6);
			table_cell(t, "%.1fms", a[i].pause_ns / 1e6);
		}
		err = table_print(t);
	}
	free(a);
	nfm_store_close(st);
	return err;
}

const struct command command_snapshots = {
	.name = "snapshots",
	.summary = "list the snapshots of a store",
	.usage = "DIR",
	.run = cmd_snapshots,
};
