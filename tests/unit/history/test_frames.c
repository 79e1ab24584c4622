// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The state timeline: crawl frames as deltas (cmd/common/frames.c) and their records in a store
 * (lib/history/frames.c). A delta applied to the frame before gives the frame back exactly
 * (the same JSON text, member order and array order included) through object reorders,
 * additions, removals, duplicates and changed scalars; hostile deltas (ranges past the
 * previous array, a member named twice, a member the previous frame lacks, wrong types) are
 * refused. The store keeps records in order, returns from the key frame at or before the start,
 * drops old frames only up to a key frame, refuses a record over the bound and reports one that
 * does not decompress to its recorded size.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include <nfm/history.h>
#include "frames.h"

static const char *text(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
}

/* The delta of pb against pa, applied to pa through its text (as it is stored), gives pb. */
static struct json_object *delta_applies(struct json_object *pa, struct json_object *pb)
{
	struct json_object *d = frame_delta(pa, pb), *d2, *r;

	assert_non_null(d);
	d2 = json_tokener_parse(text(d));
	r = frame_apply(pa, d2);
	assert_non_null(r);
	assert_string_equal(text(r), text(pb));
	json_object_put(d2);
	json_object_put(r);
	return d;
}

static void roundtrip(const char *a, const char *b)
{
	struct json_object *pa = json_tokener_parse(a), *pb = json_tokener_parse(b);

	assert_non_null(pa);
	assert_non_null(pb);
	json_object_put(delta_applies(pa, pb));
	json_object_put(pa);
	json_object_put(pb);
}

static void test_delta_roundtrip(void **state)
{
	(void)state;
	roundtrip("{\"kind\":\"crawl\",\"time_ns\":1,\"processes\":[{\"pid\":1},{\"pid\":2},{\"pid\":3}]}",
		  "{\"kind\":\"crawl\",\"time_ns\":2,\"processes\":[{\"pid\":1},{\"pid\":3},{\"pid\":4}]}");
	/* reordered, duplicated, a member gone and one new, member order changed */
	roundtrip("{\"a\":[{\"x\":1},{\"x\":2},{\"x\":3},{\"x\":4}],\"b\":{\"y\":1},\"c\":[1,2]}",
		  "{\"c\":[2,1,2],\"a\":[{\"x\":4},{\"x\":3},{\"x\":3},{\"x\":9},{\"x\":1},{\"x\":2}],\"d\":true}");
	/* an array from nothing and to nothing; the same frame */
	roundtrip("{\"a\":[]}", "{\"a\":[{\"x\":1}]}");
	roundtrip("{\"a\":[{\"x\":1}]}", "{\"a\":[]}");
	roundtrip("{\"a\":[{\"x\":1}],\"n\":null}", "{\"a\":[{\"x\":1}],\"n\":null}");
}

static void test_delta_small(void **state)
{
	/* 1000 processes, one changed: the delta names runs, not objects */
	struct json_object *a = json_object_new_object(), *b = NULL, *pa = json_object_new_array(), *d;

	(void)state;
	for (int i = 0; i < 1000; i++) {
		struct json_object *p = json_object_new_object();

		json_object_object_add(p, "pid", json_object_new_int(i));
		json_object_object_add(p, "comm", json_object_new_string("process-name"));
		json_object_array_add(pa, p);
	}
	json_object_object_add(a, "processes", pa);
	json_object_deep_copy(a, &b, NULL);
	json_object_object_add(json_object_array_get_idx(
		json_object_object_get(b, "processes"), 500), "comm", json_object_new_string("x"));
	d = frame_delta(a, b);
	assert_true(strlen(text(d)) < 200);
	assert_true(strlen(text(a)) > 30000);
	json_object_put(a);
	json_object_put(b);
	json_object_put(d);
}

/*
 * nfmd hands a process's object on to the next crawl when its task read the same: cur shares
 * objects with prev, in another order, beside rebuilt ones equal by text to an unshared element
 * of prev, changed ones and one object twice. The delta applies back to cur exactly, and an
 * unchanged element is a run whether shared or rebuilt.
 */
static void test_delta_shared_objects(void **state)
{
	struct json_object *a = json_object_new_object(), *b = json_object_new_object();
	struct json_object *pa = json_object_new_array(), *pb = json_object_new_array(), *d;
	static const int order[] = { 3, 4, 5, 0, 1, 7, 7, 2 };
	char name[32];

	(void)state;
	for (int i = 0; i < 8; i++) {
		struct json_object *p = json_object_new_object();

		json_object_object_add(p, "pid", json_object_new_int(i));
		snprintf(name, sizeof(name), "p%d", i);
		json_object_object_add(p, "comm", json_object_new_string(name));
		json_object_array_add(pa, p);
	}
	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		int i = order[k];
		struct json_object *p;

		if (i == 1 || i == 2) {		/* rebuilt: 1 the same text, 2 changed */
			p = json_object_new_object();
			json_object_object_add(p, "pid", json_object_new_int(i));
			json_object_object_add(p, "comm", json_object_new_string(i == 1 ? "p1" : "x"));
		} else {
			p = json_object_get(json_object_array_get_idx(pa, (size_t)i));
		}
		json_object_array_add(pb, p);
	}
	json_object_object_add(a, "processes", pa);
	json_object_object_add(b, "processes", pb);
	d = delta_applies(a, b);
	/* runs [3,3] [0,2] [7,1] [7,1] and the changed process whole */
	assert_string_equal(text(json_object_object_get(json_object_object_get(d, "arrays"),
							"processes")),
			    "[[3,3],[0,2],[7,1],[7,1],{\"pid\":2,\"comm\":\"x\"}]");
	json_object_put(a);
	json_object_put(b);
	json_object_put(d);
}

static void refused(const char *prev, const char *delta)
{
	struct json_object *p = json_tokener_parse(prev), *d = json_tokener_parse(delta), *r;

	assert_non_null(p);
	assert_non_null(d);
	r = frame_apply(p, d);
	if (r)
		fail_msg("accepted %s on %s: %s", delta, prev, text(r));
	json_object_put(p);
	json_object_put(d);
}

static void test_delta_hostile(void **state)
{
	const char *prev = "{\"a\":[{\"x\":1},{\"x\":2}],\"k\":1}";

	(void)state;
	refused(prev, "{\"order\":[\"a\"],\"set\":{},\"arrays\":{\"a\":[[0,3]]}}");
	refused(prev, "{\"order\":[\"a\"],\"set\":{},\"arrays\":{\"a\":[[2,1]]}}");
	refused(prev, "{\"order\":[\"a\"],\"set\":{},\"arrays\":{\"a\":[[-1,1]]}}");
	refused(prev, "{\"order\":[\"a\"],\"set\":{},\"arrays\":{\"a\":[[0,0]]}}");
	refused(prev, "{\"order\":[\"a\"],\"set\":{},\"arrays\":{\"a\":[[1,9223372036854775807]]}}");
	refused(prev, "{\"order\":[\"a\"],\"set\":{},\"arrays\":{\"a\":[[0]]}}");
	refused(prev, "{\"order\":[\"k\",\"k\"],\"set\":{},\"arrays\":{}}");
	refused(prev, "{\"order\":[\"zz\"],\"set\":{},\"arrays\":{}}");
	refused(prev, "{\"order\":[\"k\"],\"set\":{},\"arrays\":{\"k\":[[0,1]]}}");
	refused(prev, "{\"order\":[1],\"set\":{},\"arrays\":{}}");
	refused(prev, "{\"order\":\"a\",\"set\":{},\"arrays\":{}}");
	refused(prev, "{\"set\":{},\"arrays\":{}}");
	refused(prev, "[]");
}

static int nlogged;

static void log_fn(void *ud, enum nfm_log_level level, const char *msg)
{
	(void)ud;
	(void)level;
	(void)msg;
	nlogged++;
}

struct seen {
	int64_t seq[16], time[16];
	bool key[16];
	char data[16][32];
	int n;
};

static int collect(void *ud, const struct nfm_frame_info *f, const void *data, size_t len)
{
	struct seen *s = ud;

	if (s->n >= 16 || len >= 32)
		return -E2BIG;
	s->seq[s->n] = f->seq;
	s->time[s->n] = f->time_ns;
	s->key[s->n] = f->key;
	memcpy(s->data[s->n], data, len);
	s->data[s->n][len] = 0;
	assert_int_equal(f->bytes, len);
	s->n++;
	return 0;
}

static void test_store_frames(void **state)
{
	struct nfm_log log = { .fn = log_fn, .max_level = NFM_LOG_DEBUG };
	char dir[] = "/tmp/nfm-frames-XXXXXX", path[256], rec[32];
	struct nfm_store *st, *ro;
	struct seen s = { 0 };
	sqlite3 *db;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(nfm_store_open(dir, NFM_STORE_WRITE | NFM_STORE_CREATE, &log, &st), 0);
	/* no frames yet: nothing, no error */
	assert_int_equal(nfm_store_frames(st, 0, INT64_MAX, collect, &s), 0);
	assert_int_equal(s.n, 0);
	/* key frames at 10 and 40; deltas between */
	for (int i = 1; i <= 6; i++) {
		snprintf(rec, sizeof(rec), "frame-%d", i);
		assert_int_equal(nfm_store_frame_add(st, i * 10, i == 1 || i == 4, rec, strlen(rec), 0),
				 0);
	}
	assert_int_equal(nfm_store_frame_add(st, 70, false, NULL, NFM_FRAME_MAX + 1ul, 0), -EINVAL);
	{
		char *big = calloc(1, NFM_FRAME_MAX + 1ul);

		assert_int_equal(nfm_store_frame_add(st, 70, false, big, NFM_FRAME_MAX + 1ul, 0),
				 -E2BIG);
		free(big);
	}
	/* from 35: starts at the key frame at 10 (the newest key at or before 35) */
	assert_int_equal(nfm_store_frames(st, 35, 50, collect, &s), 0);
	assert_int_equal(s.n, 5);
	assert_int_equal(s.time[0], 10);
	assert_true(s.key[0]);
	assert_string_equal(s.data[4], "frame-5");
	/* from 45: the key frame at 40 */
	memset(&s, 0, sizeof(s));
	assert_int_equal(nfm_store_frames(st, 45, INT64_MAX, collect, &s), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.seq[0], 4);
	/* a reader sees the same */
	assert_int_equal(nfm_store_open(dir, 0, &log, &ro), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(nfm_store_frames(ro, 0, INT64_MAX, collect, &s), 0);
	assert_int_equal(s.n, 6);
	assert_int_equal(nfm_store_frame_add(ro, 80, true, "x", 1, 0), -EINVAL);
	nfm_store_close(ro);
	/* retention keeping 25 ns at 70: frames before the key frame at 40 go, 40 stays */
	assert_int_equal(nfm_store_frame_add(st, 70, false, "frame-7", 7, 25), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(nfm_store_frames(st, 0, INT64_MAX, collect, &s), 0);
	assert_int_equal(s.n, 4);
	assert_int_equal(s.time[0], 40);
	assert_true(s.key[0]);
	nfm_store_close(st);
	/* a record whose recorded size lies: -EBADMSG, said once */
	snprintf(path, sizeof(path), "%s/catalog.db", dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE frames SET raw_len = raw_len + 1 WHERE time_ns = 50",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(nfm_store_open(dir, 0, &log, &ro), 0);
	memset(&s, 0, sizeof(s));
	nlogged = 0;
	assert_int_equal(nfm_store_frames(ro, 0, INT64_MAX, collect, &s), -EBADMSG);
	assert_int_equal(s.n, 1);
	assert_int_equal(nlogged, 1);
	nfm_store_close(ro);
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		assert_int_equal(system(cmd), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delta_roundtrip),
		cmocka_unit_test(test_delta_small),
		cmocka_unit_test(test_delta_shared_objects),
		cmocka_unit_test(test_delta_hostile),
		cmocka_unit_test(test_store_frames),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
