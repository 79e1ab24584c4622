// SPDX-License-Identifier: GPL-2.0-or-later
/* Crawl frames as deltas against the frame before (frames.h). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frames.h"

struct ref {
	const char *text;	/* the element's compact JSON (owned by a json-c object) */
	size_t idx;
};

static int ref_cmp(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;
	int c = strcmp(x->text, y->text);

	return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

/* An element by identity: nfmd's crawls hand the same object on for what did not change. */
struct ptr_ref {
	const struct json_object *o;
	size_t idx;
};

static int ptr_cmp(const void *a, const void *b)
{
	const struct ptr_ref *x = a, *y = b;

	if (x->o != y->o)
		return x->o < y->o ? -1 : 1;
	return (x->idx > y->idx) - (x->idx < y->idx);
}

/* The first prev index holding object o, or -1. */
static int64_t ptr_find(const struct ptr_ref *ptrs, size_t n, const struct json_object *o)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (ptrs[mid].o < o)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && ptrs[lo].o == o ? (int64_t)ptrs[lo].idx : -1;
}

static bool add_run(struct json_object *out, int64_t start, int64_t len)
{
	struct json_object *r = json_object_new_array();

	if (!r)
		return false;
	json_object_array_add(r, json_object_new_int64(start));
	json_object_array_add(r, json_object_new_int64(len));
	return json_object_array_add(out, r) == 0;
}

/*
 * The array delta of cur against prev: runs of prev's elements, new elements whole. An element
 * of cur is prev's when it is the same object, else when its text is that of one of prev's
 * elements that no element of cur is by identity (those are the only texts made: serializing
 * every element of both frames was most of a recorded crawl's cost).
 */
static struct json_object *array_delta(struct json_object *prev, struct json_object *cur)
{
	size_t np = json_object_array_length(prev), nc = json_object_array_length(cur), i, nr = 0;
	struct ptr_ref *ptrs = calloc(np + 1, sizeof(*ptrs));
	int64_t *same = calloc(nc + 1, sizeof(*same));
	bool *used = calloc(np + 1, sizeof(*used));
	struct ref *refs = NULL;
	const char **texts = NULL;
	struct json_object *out = json_object_new_array();
	int64_t run_start = -1, run_len = 0;
	bool texts_made = false;

	if (!ptrs || !same || !used || !out)
		goto oom;
	for (i = 0; i < np; i++)
		ptrs[i] = (struct ptr_ref){ json_object_array_get_idx(prev, i), i };
	qsort(ptrs, np, sizeof(*ptrs), ptr_cmp);
	for (i = 0; i < nc; i++) {
		same[i] = ptr_find(ptrs, np, json_object_array_get_idx(cur, i));
		if (same[i] >= 0)
			used[same[i]] = true;
	}
	for (i = 0; i < nc; i++) {
		struct json_object *o = json_object_array_get_idx(cur, i);
		int64_t next = run_start >= 0 && (size_t)(run_start + run_len) < np ?
			       run_start + run_len : -1, at = same[i];
		const char *text = NULL;

		/* the next element of the current run is the usual case */
		if (next >= 0 && json_object_array_get_idx(prev, (size_t)next) == o) {
			run_len++;
			continue;
		}
		if (at < 0) {
			if (!texts_made) {
				texts_made = true;
				refs = calloc(np + 1, sizeof(*refs));
				texts = calloc(np + 1, sizeof(*texts));
				if (!refs || !texts)
					goto oom;
				for (size_t k = 0; k < np; k++) {
					if (used[k])
						continue;
					texts[k] = json_object_to_json_string_ext(
						json_object_array_get_idx(prev, k), JSON_C_TO_STRING_PLAIN);
					refs[nr++] = (struct ref){ texts[k], k };
				}
				qsort(refs, nr, sizeof(*refs), ref_cmp);
			}
			text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
			if (next >= 0 && texts[next] && !strcmp(text, texts[next])) {
				run_len++;
				continue;
			}
			size_t lo = 0, hi = nr;

			while (lo < hi) {	/* the first ref with this text */
				size_t mid = (lo + hi) / 2;

				if (strcmp(refs[mid].text, text) < 0)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (lo < nr && !strcmp(refs[lo].text, text))
				at = (int64_t)refs[lo].idx;
		}
		if (run_start >= 0 && !add_run(out, run_start, run_len))
			goto oom;
		run_start = -1;
		if (at >= 0) {
			run_start = at;
			run_len = 1;
		} else {
			json_object_array_add(out, json_object_get(o));
		}
	}
	if (run_start >= 0 && !add_run(out, run_start, run_len))
		goto oom;
	free(ptrs);
	free(same);
	free(used);
	free(refs);
	free(texts);
	return out;
oom:
	free(ptrs);
	free(same);
	free(used);
	free(refs);
	free(texts);
	json_object_put(out);
	return NULL;
}

struct json_object *frame_delta(struct json_object *prev, struct json_object *cur)
{
	struct json_object *d = json_object_new_object(), *order = json_object_new_array(),
			   *set = json_object_new_object(), *arrays = json_object_new_object(), *pv;

	json_object_object_add(d, "delta", json_object_new_int(1));
	json_object_object_foreach(cur, name, v) {
		pv = NULL;
		json_object_array_add(order, json_object_new_string(name));
		if (json_object_object_get_ex(prev, name, &pv) && json_object_equal(pv, v))
			continue;
		if (pv && json_object_is_type(pv, json_type_array) &&
		    json_object_is_type(v, json_type_array)) {
			struct json_object *a = array_delta(pv, v);

			if (!a)
				goto oom;
			json_object_object_add(arrays, name, a);
		} else {
			json_object_object_add(set, name, json_object_get(v));
		}
	}
	json_object_object_add(d, "order", order);
	json_object_object_add(d, "set", set);
	json_object_object_add(d, "arrays", arrays);
	return d;
oom:
	json_object_put(d);
	json_object_put(order);
	json_object_put(set);
	json_object_put(arrays);
	return NULL;
}

static struct json_object *array_apply(struct json_object *prev, struct json_object *items)
{
	size_t np = json_object_array_length(prev);
	struct json_object *out = json_object_new_array();

	for (size_t i = 0; i < json_object_array_length(items); i++) {
		struct json_object *it = json_object_array_get_idx(items, i);

		if (json_object_is_type(it, json_type_array)) {
			int64_t s, n;

			if (json_object_array_length(it) != 2)
				goto bad;
			s = json_object_get_int64(json_object_array_get_idx(it, 0));
			n = json_object_get_int64(json_object_array_get_idx(it, 1));
			if (s < 0 || n < 1 || (uint64_t)s > np || (uint64_t)n > np - (uint64_t)s)
				goto bad;
			for (int64_t k = 0; k < n; k++)
				json_object_array_add(out, json_object_get(
					json_object_array_get_idx(prev, (size_t)(s + k))));
		} else {
			json_object_array_add(out, json_object_get(it));
		}
	}
	return out;
bad:
	json_object_put(out);
	return NULL;
}

struct json_object *frame_apply(struct json_object *prev, struct json_object *delta)
{
	struct json_object *order, *set, *arrays, *out, *v, *pv;

	if (!json_object_is_type(prev, json_type_object) ||
	    !json_object_object_get_ex(delta, "order", &order) ||
	    !json_object_is_type(order, json_type_array) ||
	    !json_object_object_get_ex(delta, "set", &set) ||
	    !json_object_is_type(set, json_type_object) ||
	    !json_object_object_get_ex(delta, "arrays", &arrays) ||
	    !json_object_is_type(arrays, json_type_object))
		return NULL;
	out = json_object_new_object();
	for (size_t i = 0; i < json_object_array_length(order); i++) {
		struct json_object *n = json_object_array_get_idx(order, i);
		const char *name;

		if (!json_object_is_type(n, json_type_string))
			goto bad;
		name = json_object_get_string(n);
		if (json_object_object_get_ex(out, name, NULL))
			goto bad;	/* a name twice */
		if (json_object_object_get_ex(set, name, &v)) {
			json_object_object_add(out, name, json_object_get(v));
		} else if (json_object_object_get_ex(arrays, name, &v)) {
			struct json_object *a;

			if (!json_object_is_type(v, json_type_array) ||
			    !json_object_object_get_ex(prev, name, &pv) ||
			    !json_object_is_type(pv, json_type_array))
				goto bad;
			a = array_apply(pv, v);
			if (!a)
				goto bad;
			json_object_object_add(out, name, a);
		} else if (json_object_object_get_ex(prev, name, &pv)) {
			json_object_object_add(out, name, json_object_get(pv));
		} else {
			goto bad;
		}
	}
	return out;
bad:
	json_object_put(out);
	return NULL;
}

struct json_object *frame_decode(struct json_object *prev, bool key, const void *data, size_t len,
				 const char **why)
{
	struct json_tokener *tok = json_tokener_new_ex(64);
	struct json_object *o, *frame;

	*why = "out of memory";
	if (!tok)
		return NULL;
	o = json_tokener_parse_ex(tok, data, (int)len);
	if (o && (json_tokener_get_error(tok) != json_tokener_success ||
		  (size_t)json_tokener_get_parse_end(tok) != len)) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		*why = "not a JSON object";
		return NULL;
	}
	if (key)
		return o;
	frame = prev ? frame_apply(prev, o) : NULL;
	json_object_put(o);
	if (!frame)
		*why = "a delta that does not fit the frame before it";
	return frame;
}
