// SPDX-License-Identifier: GPL-2.0-or-later
/* Crawl frames as deltas against the frame before (frames.h). */
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

/* The array delta of cur against prev: runs of prev's elements, new elements whole. */
static struct json_object *array_delta(struct json_object *prev, struct json_object *cur)
{
	size_t np = json_object_array_length(prev), nc = json_object_array_length(cur), i;
	struct ref *refs = calloc(np + 1, sizeof(*refs));
	const char **texts = calloc(np + 1, sizeof(*texts));
	struct json_object *out = json_object_new_array();
	int64_t run_start = -1, run_len = 0;

	if (!refs || !texts || !out) {
		free(refs);
		free(texts);
		json_object_put(out);
		return NULL;
	}
	for (i = 0; i < np; i++) {
		refs[i].text = json_object_to_json_string_ext(json_object_array_get_idx(prev, i),
							      JSON_C_TO_STRING_PLAIN);
		refs[i].idx = i;
		texts[i] = refs[i].text;
	}
	qsort(refs, np, sizeof(*refs), ref_cmp);
	for (i = 0; i < nc; i++) {
		struct json_object *o = json_object_array_get_idx(cur, i);
		struct ref key = { json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), 0 };
		int64_t at = -1;

		/* the next element of the current run is the usual case */
		if (run_start >= 0 && (size_t)(run_start + run_len) < np &&
		    !strcmp(key.text, texts[run_start + run_len])) {
			run_len++;
			continue;
		}
		{
			size_t lo = 0, hi = np;

			while (lo < hi) {	/* the first ref with this text */
				size_t mid = (lo + hi) / 2;

				if (strcmp(refs[mid].text, key.text) < 0)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (lo < np && !strcmp(refs[lo].text, key.text))
				at = (int64_t)refs[lo].idx;
		}
		if (run_start >= 0) {
			struct json_object *r = json_object_new_array();

			json_object_array_add(r, json_object_new_int64(run_start));
			json_object_array_add(r, json_object_new_int64(run_len));
			json_object_array_add(out, r);
			run_start = -1;
		}
		if (at >= 0) {
			run_start = at;
			run_len = 1;
		} else {
			json_object_array_add(out, json_object_get(o));
		}
	}
	if (run_start >= 0) {
		struct json_object *r = json_object_new_array();

		json_object_array_add(r, json_object_new_int64(run_start));
		json_object_array_add(r, json_object_new_int64(run_len));
		json_object_array_add(out, r);
	}
	free(refs);
	free(texts);
	return out;
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
