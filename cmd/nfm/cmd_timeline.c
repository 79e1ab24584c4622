// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nfm timeline [DIR]: the state timeline of a store (nfm record --frames; doc/history.md):
 * the events between consecutive crawl frames over a range (processes started and exited,
 * execs, files opened and closed, sockets, modules, interfaces and addresses, mounts), or with
 * --frame WHEN the crawl document of that moment, rebuilt from its key frame and deltas.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nfm/nfm.h>
#include <nfm/history.h>

#include "cli.h"
#include "diff.h"
#include "frames.h"
#include "jout.h"
#include "table.h"

static int64_t wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* WHEN: "-5m" or "5m" (before now), "@SECS" (epoch), "now", "YYYY-mm-dd HH:MM:SS" (local; or a T). */
static int parse_when(const char *s, int64_t *ret)
{
	struct tm tm = { 0 };
	char *end;

	if (!strcmp(s, "now") || !strcmp(s, "latest")) {
		*ret = wall_now();
		return 0;
	}
	if (s[0] == '-') {
		int64_t d = cli_parse_duration(s + 1);

		if (d < 0)
			return -EINVAL;
		*ret = wall_now() - d;
		return 0;
	}
	if (s[0] >= '0' && s[0] <= '9' && cli_parse_duration(s) >= 0) {
		*ret = wall_now() - cli_parse_duration(s);	/* "1h": an hour ago */
		return 0;
	}
	if (s[0] == '@') {
		double v = strtod(s + 1, &end);

		if (end == s + 1 || *end || v < 0 || v > 1e11)
			return -EINVAL;
		*ret = (int64_t)(v * 1e9);
		return 0;
	}
	end = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
	if (!end || *end) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	}
	if (!end || *end)
		return -EINVAL;
	tm.tm_isdst = -1;
	*ret = (int64_t)mktime(&tm) * 1000000000;
	return 0;
}

struct walk {
	struct cli *cli;
	int64_t since, until;
	struct json_object *prev;	/* the frame before */
	int64_t prev_time;
	struct json_object *events;	/* events mode */
	long frames, keys;
	uint64_t bytes, stored;
	bool partial;
	int err;
};

/* The frame's arrays as diff compares them: the processes' open files as one "files" array
 * (each with pid and comm, as nfm lsof -j), the processes without them. */
static struct json_object *events_view(struct json_object *frame)
{
	struct json_object *v = json_object_new_object(), *procs, *files = json_object_new_array();

	json_object_object_foreach(frame, name, val) {
		if (strcmp(name, "processes") && json_object_is_type(val, json_type_array))
			json_object_object_add(v, name, json_object_get(val));
	}
	if (json_object_object_get_ex(frame, "processes", &procs) &&
	    json_object_is_type(procs, json_type_array)) {
		struct json_object *np = json_object_new_array();

		for (size_t i = 0; i < json_object_array_length(procs); i++) {
			struct json_object *p = json_object_array_get_idx(procs, i), *f, *pid, *comm;

			json_object_array_add(np, json_object_get(p));
			if (!json_object_object_get_ex(p, "files", &f) ||
			    !json_object_is_type(f, json_type_array))
				continue;
			json_object_object_get_ex(p, "pid", &pid);
			json_object_object_get_ex(p, "comm", &comm);
			for (size_t k = 0; k < json_object_array_length(f); k++) {
				struct json_object *fd = NULL;

				json_object_deep_copy(json_object_array_get_idx(f, k), &fd, NULL);
				if (!json_object_is_type(fd, json_type_object)) {
					json_object_put(fd);
					continue;
				}
				json_object_object_add(fd, "pid", json_object_get(pid));
				json_object_object_add(fd, "comm", json_object_get(comm));
				json_object_array_add(files, fd);
			}
		}
		json_object_object_add(v, "processes", np);
	}
	json_object_object_add(v, "files", files);
	return v;
}

static void add_events(struct walk *w, int64_t time_ns, struct json_object *a, struct json_object *b)
{
	struct json_object *va = events_view(a), *vb = events_view(b), *views = json_object_new_array();
	static const char *const kinds[] = { "removed", "added", "changed" };

	if (diff_docs("crawl", va, vb, false, views) < 0)
		w->err = -ENOMEM;
	for (size_t i = 0; i < json_object_array_length(views); i++) {
		struct json_object *v = json_object_array_get_idx(views, i), *view, *member, *arr;

		json_object_object_get_ex(v, "view", &view);
		json_object_object_get_ex(v, "member", &member);
		for (int k = 0; k < 3; k++) {
			json_object_object_get_ex(v, kinds[k], &arr);
			for (size_t j = 0; j < json_object_array_length(arr); j++) {
				struct json_object *o = json_object_array_get_idx(arr, j),
						   *e = json_object_new_object(), *x;

				j_add(e, "time_ns", j_int(time_ns));
				j_add(e, "view", json_object_get(view));
				j_add(e, "member", json_object_get(member));
				j_add(e, "change", j_str(kinds[k]));
				if (k == 2) {
					json_object_object_get_ex(o, "key", &x);
					j_add(e, "key", json_object_get(x));
					json_object_object_get_ex(o, "fields", &x);
					j_add(e, "fields", json_object_get(x));
					json_object_object_get_ex(o, "object", &x);
					j_add(e, "object", json_object_get(x));
				} else {
					x = diff_key(json_object_get_string(member), o);
					j_add(e, "key", x ? x : json_object_new_object());
					j_add(e, "object", json_object_get(o));
				}
				json_object_array_add(w->events, e);
			}
		}
	}
	json_object_put(views);
	json_object_put(va);
	json_object_put(vb);
}

static int on_frame(void *ud, const struct nfm_frame_info *f, const void *data, size_t len)
{
	struct walk *w = ud;
	const char *why;
	struct json_object *frame = frame_decode(w->prev, f->key, data, len, &why);

	if (!frame) {
		cli_fail("frame %" PRId64 ": %s", f->seq, why);
		return -EBADMSG;
	}
	if (!jdoc_complete(frame) && f->time_ns >= w->since)
		w->partial = true;
	if (w->events && w->prev && f->time_ns >= w->since)
		add_events(w, f->time_ns, w->prev, frame);
	json_object_put(w->prev);
	w->prev = frame;
	w->prev_time = f->time_ns;
	w->frames++;
	w->keys += f->key;
	w->bytes += f->bytes;
	w->stored += f->stored_bytes;
	return w->err;
}

static int print_events(struct cli *cli, struct json_object *events)
{
	struct table *t = table_new(cli);
	static char text[8192], key[1024];

	if (!t)
		return cli_fail("out of memory");
	table_column(t, "TIME", 0);
	table_column(t, "VIEW", 0);
	table_column(t, "CHANGE", 0);
	table_column(t, "KEY", 0);
	table_column(t, "WHAT", TBL_TRUNC);
	for (size_t i = 0; i < json_object_array_length(events); i++) {
		struct json_object *e = json_object_array_get_idx(events, i), *x, *member, *change;
		int64_t ns;
		time_t s;
		struct tm tm;
		char when[48];

		json_object_object_get_ex(e, "time_ns", &x);
		ns = json_object_get_int64(x);
		s = (time_t)(ns / 1000000000);
		localtime_r(&s, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		json_object_object_get_ex(e, "member", &member);
		json_object_object_get_ex(e, "change", &change);
		table_row(t);
		table_cell(t, "%s.%03d", when, (int)(ns / 1000000 % 1000));
		json_object_object_get_ex(e, "view", &x);
		table_cell(t, "%s", json_object_get_string(x));
		table_cell(t, "%s", json_object_get_string(change));
		json_object_object_get_ex(e, "key", &x);
		diff_key_text(x, key, sizeof(key));
		if (!strcmp(json_object_get_string(change), "changed")) {
			json_object_object_get_ex(e, "fields", &x);
			diff_fields_text(x, text, sizeof(text));
		} else {
			json_object_object_get_ex(e, "object", &x);
			diff_label(json_object_get_string(member), x, text, sizeof(text));
		}
		table_cell_gstr(t, key);
		table_cell_gstr(t, text);
	}
	return table_print(t);
}

static int cmd_timeline(struct cli *cli, int argc, char **argv)
{
	enum { OPT_SINCE = 0x100, OPT_UNTIL, OPT_FRAME };
	static const struct option longopts[] = {
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "until", required_argument, NULL, OPT_UNTIL },
		{ "frame", required_argument, NULL, OPT_FRAME },
		{ 0 }
	};
	struct walk w = { .cli = cli, .since = INT64_MIN, .until = INT64_MAX };
	const char *dir = getenv("NFM_STORE"), *frame_at = NULL;
	struct nfm_store *st;
	int c, err, ret;

	if (cli->vm)
		dir = !strncmp(cli->vm, "snap:", 5) ? cli->vm + 5 : cli->vm;
	while ((c = cli_getopt(cli, argc, argv, "", longopts)) != -1) {
		switch (c) {
		case OPT_SINCE:
		case OPT_UNTIL:
		case OPT_FRAME:
			if (parse_when(optarg, c == OPT_SINCE ? &w.since : &w.until))
				return cli_usage_error(cli, "\"%s\" is not a time (-5m, @SECS, "
						       "\"YYYY-mm-dd HH:MM:SS\", now)", cli_esc(optarg));
			if (c == OPT_FRAME)
				frame_at = optarg;
			break;
		default:
			return cli_opt_status(cli);
		}
	}
	if (optind < argc)
		dir = argv[optind++];
	if (optind < argc)
		return cli_usage_error(cli, "one store directory expected");
	if (!dir)
		return cli_usage_error(cli, "which store? (DIR, --vm DIR or $NFM_STORE)");
	if (frame_at)
		w.since = w.until;	/* only the frame at or before that moment */
	err = nfm_store_open(dir, 0, &cli->log, &st);
	if (err)
		return cli_fail("%s", cli->last_error[0] ? cli->last_error : strerror(-err));
	if (!frame_at)
		w.events = json_object_new_array();
	err = nfm_store_frames(st, w.since, w.until, on_frame, &w);
	nfm_store_close(st);
	if (err) {
		json_object_put(w.events);
		json_object_put(w.prev);
		if (err == -EBADMSG)
			return 1;	/* said where */
		return cli_fail("%s: the state timeline: %s", cli_esc(dir),
				cli->last_error[0] ? cli->last_error : strerror(-err));
	}
	if (frame_at) {
		if (!w.prev)
			return cli_fail("%s: no frame at or before %s (nfm record --frames)",
					cli_esc(dir), cli_esc(frame_at));
		if (!jdoc_complete(w.prev))
			cli_warn("that frame was a partial crawl");
		ret = cli_print_json(cli, w.prev);
		return ret ?: (w.partial ? EXIT_PARTIAL : 0);
	}
	json_object_put(w.prev);
	if (w.partial)
		cli_warn("a frame in the range was a partial crawl: events may be missing or wrong");
	if (cli->json) {
		struct json_object *doc = jdoc_new("timeline");

		if (w.partial)
			jdoc_error(doc, "frames", 0, "a frame in the range was a partial crawl");
		j_add(doc, "frames", j_int(w.frames));
		j_add(doc, "key_frames", j_int(w.keys));
		j_add(doc, "frame_bytes", j_u64(w.bytes));
		j_add(doc, "stored_bytes", j_u64(w.stored));
		j_add(doc, "events", w.events);
		ret = cli_print_json(cli, doc);
	} else {
		ret = print_events(cli, w.events);
		json_object_put(w.events);
	}
	return ret ?: (w.partial ? EXIT_PARTIAL : 0);
}

const struct command command_timeline = {
	.name = "timeline",
	.summary = "the state timeline of a store: events between crawl frames, or one frame",
	.usage = "[--since WHEN] [--until WHEN] [--frame WHEN] [DIR]",
	.help = "  --since WHEN        events from WHEN on (1h or -1h: ago, @SECS, \"YYYY-mm-dd HH:MM:SS\", now)\n"
		"  --until WHEN        events up to WHEN (default: the last frame)\n"
		"  --frame WHEN        print the crawl document of that moment (the last frame at or\n"
		"                      before WHEN), rebuilt from its key frame and deltas\n"
		"  DIR                 the store (or --vm DIR, or $NFM_STORE); frames come from\n"
		"                      nfm record --frames\n",
	.run = cmd_timeline,
};
