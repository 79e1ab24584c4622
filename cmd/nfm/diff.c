// SPDX-License-Identifier: GPL-2.0-or-later
/* Differences between two schema documents by the objects' identity keys (diff.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"

/*
 * The identity of each object kind (doc/history.md, "nfm diff"). A process is its pid and start
 * time (a pid reused by a new process is a new process); an exec keeps both and changes comm,
 * mm and the command line. Sockets: a TIME-WAIT socket has inode 0, so the struct sock address
 * is part of the key. Ignored members change without anything happening that a user would call
 * a change (CPU time, memory use, queue lengths, counters, a neighbour's reachability).
 */
static const struct diff_rule rules[] = {
	{ "processes", "ps", { "pid", "start_time_ticks" },
	  { "utime_ns", "stime_ns", "utime_ticks", "stime_ticks", "rss_pages", "rss_bytes",
	    "rss_exact_bytes", "rss_anon_bytes", "rss_file_bytes", "rss_shmem_bytes", "vsize_bytes",
	    "state", "num_threads", "tids", "threads", "files", "children", "flags", "cpu_pct",
	    "mem_pct", "cpu_time_ns", "wchan", "cmdline_pages_missing", "cmdline_pages_swapped" },
	  { "comm", "argv" } },
	{ "files", "lsof", { "pid", "fd" }, { "pos_bytes", "comm" }, { "comm", "type", "path" } },
	{ "modules", "lsmod", { "name" }, { "refcount", "line" }, { "name" } },
	{ "interfaces", "ip", { "netns", "ifindex" }, { "stats", "stats_exact" },
	  { "ifname", "address" } },
	{ "sockets", "ss", { "netid", "netns", "inode", "sk" },
	  { "rx_queue", "tx_queue", "owners", "nr_owners" },
	  { "netid", "state", "local_port", "path" } },
	{ "mounts", "mount", { "mnt_id" }, { 0 }, { "device", "path", "fstype" } },
	{ "records", "dmesg", { "seq" }, { 0 }, { "text" } },
	{ "routes", "route", { "netns", "table", "dst", "prefixlen", "dev", "gateway", "metric" },
	  { "line" }, { "dst", "gateway", "dev" } },
	{ "neighbours", "arp", { "netns", "family", "dst", "dev" },
	  { "state", "state_code", "flags_code", "line" }, { "dst", "lladdr", "dev" } },
	{ "vmas", "maps", { "start" }, { 0 }, { "perms", "name" } },
};

const struct diff_rule *diff_rule(const char *member)
{
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (!strcmp(rules[i].member, member))
			return &rules[i];
	return NULL;
}

static bool in_list(const char *const *list, size_t max, const char *name)
{
	for (size_t i = 0; i < max && list[i]; i++)
		if (!strcmp(list[i], name))
			return true;
	return false;
}

struct ent {
	char *key;		/* the identity as compact JSON (+ "#N" for the Nth duplicate) */
	struct json_object *obj;
	size_t pos;		/* position in its array: output keeps the documents' order */
	bool matched;
};

static int ent_cmp(const void *x, const void *y)
{
	return strcmp(((const struct ent *)x)->key, ((const struct ent *)y)->key);
}

static struct json_object *key_object(const struct diff_rule *r, struct json_object *o)
{
	struct json_object *k = json_object_new_object(), *v;

	for (size_t i = 0; i < 8 && r->keys[i]; i++)
		json_object_object_add(k, r->keys[i],
				       json_object_object_get_ex(o, r->keys[i], &v) ?
				       json_object_get(v) : NULL);
	return k;
}

struct json_object *diff_key(const char *member, struct json_object *o)
{
	const struct diff_rule *r = diff_rule(member);

	return r && json_object_is_type(o, json_type_object) ? key_object(r, o) : NULL;
}

/* The key text of o: its identity members (an object without rule or a non-object: its
 * whole value). NULL on OOM. */
static char *key_text(const struct diff_rule *r, struct json_object *o)
{
	struct json_object *k;
	char *s;

	if (!r || !json_object_is_type(o, json_type_object))
		return strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	k = key_object(r, o);
	s = strdup(json_object_to_json_string_ext(k, JSON_C_TO_STRING_PLAIN));
	json_object_put(k);
	return s;
}

static void ents_free(struct ent *e, size_t n)
{
	for (size_t i = 0; e && i < n; i++)
		free(e[i].key);
	free(e);
}

/* The entries of array a, sorted by key; duplicates (a torn or hostile document) are told
 * apart by their rank so that the Nth of one side meets the Nth of the other. */
static int ents_build(const struct diff_rule *r, struct json_object *a, struct ent **ret,
		      size_t *nret)
{
	size_t n = a ? json_object_array_length(a) : 0, i;
	struct ent *e = calloc(n ? n : 1, sizeof(*e));

	if (!e)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		e[i].obj = json_object_array_get_idx(a, i);
		e[i].pos = i;
		e[i].key = key_text(r, e[i].obj);
		if (!e[i].key) {
			ents_free(e, i);
			return -ENOMEM;
		}
	}
	qsort(e, n, sizeof(*e), ent_cmp);
	for (i = 1; i < n; i++) {
		size_t rank = 1;
		char *k;

		while (i < n && !strcmp(e[i].key, e[i - rank].key)) {
			if (asprintf(&k, "%s#%zu", e[i].key, rank) < 0) {
				ents_free(e, n);
				return -ENOMEM;
			}
			free(e[i].key);
			e[i].key = k;
			i++;
			rank++;
		}
	}
	qsort(e, n, sizeof(*e), ent_cmp);
	*ret = e;
	*nret = n;
	return 0;
}

static int pos_cmp(const void *x, const void *y)
{
	const struct ent *a = *(const struct ent *const *)x, *b = *(const struct ent *const *)y;

	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/* The members of o and n that differ ({name: {"from", "to"}}, absent as null), or NULL. */
static struct json_object *changed_fields(const struct diff_rule *r, struct json_object *o,
					  struct json_object *n, bool all_fields)
{
	struct json_object *f = NULL, *side[2] = { o, n };

	for (int s = 0; s < 2; s++) {
		json_object_object_foreach(side[s], name, v) {
			struct json_object *ov, *nv, *c;

			(void)v;
			if (r && !all_fields && in_list(r->ignore, 28, name))
				continue;
			if (s == 1 && json_object_object_get_ex(o, name, NULL))
				continue;	/* seen from o */
			if (!json_object_object_get_ex(o, name, &ov))
				ov = NULL;
			if (!json_object_object_get_ex(n, name, &nv))
				nv = NULL;
			if (ov && nv && json_object_equal(ov, nv))
				continue;
			if (!f)
				f = json_object_new_object();
			c = json_object_new_object();
			json_object_object_add(c, "from", json_object_get(ov));
			json_object_object_add(c, "to", json_object_get(nv));
			json_object_object_add(f, name, c);
		}
	}
	return f;
}

struct json_object *diff_member(const char *view, const char *member, struct json_object *a,
				struct json_object *b, bool all_fields, int *count)
{
	const struct diff_rule *r = diff_rule(member);
	struct json_object *out, *added, *removed, *changed, *keys;
	struct ent *ea = NULL, *eb = NULL, **order = NULL;
	size_t na = 0, nb = 0, i, j, no = 0;

	if (ents_build(r, a, &ea, &na) || ents_build(r, b, &eb, &nb)) {
		ents_free(ea, na);
		return NULL;
	}
	order = calloc(na + nb + 1, sizeof(*order));
	out = json_object_new_object();
	if (!order || !out) {
		free(order);
		json_object_put(out);
		ents_free(ea, na);
		ents_free(eb, nb);
		return NULL;
	}
	added = json_object_new_array();
	removed = json_object_new_array();
	changed = json_object_new_array();
	keys = json_object_new_array();
	for (i = 0; r && i < 8 && r->keys[i]; i++)
		json_object_array_add(keys, json_object_new_string(r->keys[i]));
	/* merge the two sorted lists */
	for (i = j = 0; i < na && j < nb;) {
		int cmp = strcmp(ea[i].key, eb[j].key);

		if (cmp < 0) {
			i++;
		} else if (cmp > 0) {
			j++;
		} else {
			ea[i].matched = eb[j].matched = true;
			{
				struct json_object *f = r && json_object_is_type(ea[i].obj, json_type_object) &&
					json_object_is_type(eb[j].obj, json_type_object) ?
					changed_fields(r, ea[i].obj, eb[j].obj, all_fields) : NULL;

				if (f) {
					struct json_object *c = json_object_new_object();

					json_object_object_add(c, "key", key_object(r, eb[j].obj));
					json_object_object_add(c, "fields", f);
					json_object_object_add(c, "object", json_object_get(eb[j].obj));
					/* parked on the entry until the array is written in order */
					eb[j].obj = c;
				} else {
					eb[j].obj = NULL;
				}
			}
			i++;
			j++;
		}
	}
	/* removed, in a's order */
	no = 0;
	for (i = 0; i < na; i++)
		if (!ea[i].matched)
			order[no++] = &ea[i];
	qsort(order, no, sizeof(*order), pos_cmp);
	for (i = 0; i < no; i++)
		json_object_array_add(removed, json_object_get(order[i]->obj));
	/* added and changed, in b's order */
	no = 0;
	for (j = 0; j < nb; j++)
		order[no++] = &eb[j];
	qsort(order, no, sizeof(*order), pos_cmp);
	for (i = 0; i < no; i++) {
		if (!order[i]->matched)
			json_object_array_add(added, json_object_get(order[i]->obj));
		else if (order[i]->obj)
			json_object_array_add(changed, order[i]->obj);	/* the change object */
	}
	*count += (int)(json_object_array_length(added) + json_object_array_length(removed) +
			json_object_array_length(changed));
	json_object_object_add(out, "view", json_object_new_string(r ? r->view : view));
	json_object_object_add(out, "member", json_object_new_string(member));
	json_object_object_add(out, "keys", keys);
	json_object_object_add(out, "added", added);
	json_object_object_add(out, "removed", removed);
	json_object_object_add(out, "changed", changed);
	free(order);
	ents_free(ea, na);
	ents_free(eb, nb);
	return out;
}

static bool is_array(struct json_object *o)
{
	return json_object_is_type(o, json_type_array);
}

int diff_docs(const char *view_name, struct json_object *a, struct json_object *b,
	      bool all_fields, struct json_object *views)
{
	struct json_object *side[2] = { a, b }, *va, *vb, *v;
	int count = 0;

	for (int s = 0; s < 2; s++) {
		if (!json_object_is_type(side[s], json_type_object))
			continue;
		json_object_object_foreach(side[s], name, val) {
			if (!is_array(val) || !strcmp(name, "errors"))
				continue;
			if (s == 1 && json_object_object_get_ex(a, name, &va) && is_array(va))
				continue;	/* done from a */
			if (!json_object_object_get_ex(a, name, &va) || !is_array(va))
				va = NULL;
			if (!json_object_object_get_ex(b, name, &vb) || !is_array(vb))
				vb = NULL;
			v = diff_member(view_name, name, va, vb, all_fields, &count);
			if (!v)
				return -ENOMEM;
			json_object_array_add(views, v);
		}
	}
	return count;
}

/* Append text to buf (always NUL-terminated, cut at size). */
static void cat(char *buf, size_t size, size_t *len, const char *text)
{
	size_t l = strlen(text);

	if (*len + 1 >= size)
		return;
	if (l > size - *len - 1)
		l = size - *len - 1;
	memcpy(buf + *len, text, l);
	*len += l;
	buf[*len] = 0;
}

/* A value as text: a string as it is, an array of strings space-separated, else its JSON. */
static void value_text(struct json_object *v, char *buf, size_t size, size_t *len)
{
	if (json_object_is_type(v, json_type_string)) {
		cat(buf, size, len, json_object_get_string(v));
	} else if (is_array(v) && json_object_array_length(v) &&
		   json_object_is_type(json_object_array_get_idx(v, 0), json_type_string)) {
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			if (i)
				cat(buf, size, len, " ");
			value_text(json_object_array_get_idx(v, i), buf, size, len);
		}
	} else {
		cat(buf, size, len, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
	}
}

void diff_label(const char *member, struct json_object *o, char *buf, size_t size)
{
	const struct diff_rule *r = diff_rule(member);
	struct json_object *v;
	size_t len = 0;

	buf[0] = 0;
	if (!r || !json_object_is_type(o, json_type_object)) {
		value_text(o, buf, size, &len);
		return;
	}
	for (size_t i = 0; i < 4 && r->label[i]; i++) {
		if (!json_object_object_get_ex(o, r->label[i], &v) || !v)
			continue;
		if (len)
			cat(buf, size, &len, " ");
		value_text(v, buf, size, &len);
	}
}

void diff_key_text(struct json_object *key, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = 0;
	json_object_object_foreach(key, name, v) {
		if (len)
			cat(buf, size, &len, " ");
		cat(buf, size, &len, name);
		cat(buf, size, &len, "=");
		value_text(v, buf, size, &len);
	}
}

void diff_fields_text(struct json_object *fields, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = 0;
	json_object_object_foreach(fields, name, c) {
		struct json_object *from = NULL, *to = NULL;

		json_object_object_get_ex(c, "from", &from);
		json_object_object_get_ex(c, "to", &to);
		if (len)
			cat(buf, size, &len, "; ");
		cat(buf, size, &len, name);
		cat(buf, size, &len, ": ");
		value_text(from, buf, size, &len);
		cat(buf, size, &len, " -> ");
		value_text(to, buf, size, &len);
	}
}
