// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm topo --since --store: the window read from recorded state timelines (topo_store.h). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nfm/history.h>

#include "frames.h"
#include "jout.h"
#include "topo_store.h"

struct walk {
	struct topo_rec_vm *v;
	int64_t from;
	struct json_object *prev;	/* the frame before, rebuilt */
	size_t *sockets;		/* kept so far, every store (TOPO_REC_MAX_SOCKETS) */
	char *err;
	size_t errsize;
};

static struct json_object *get(struct json_object *o, const char *k, json_type t)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, t) ? v : NULL;
}

/* The store's directory name (nfmd --record names it after the VM): "DIR/NAME" -> "NAME". */
static const char *base_name(const char *dir)
{
	const char *s = strrchr(dir, '/');

	return s && s[1] ? s + 1 : dir;
}

/*
 * A crawl document (nfm record --frames) reduced to the VM object of topo_frame_json:
 * addresses from the interfaces, TCP and UDP sockets as they are (the members
 * topo_frame_parse reads are socket.json's).
 */
static struct json_object *reduce_crawl(struct json_object *doc, const char *fallback)
{
	struct json_object *o = json_object_new_object(), *as = json_object_new_array(),
			   *ss = json_object_new_array(), *vm = get(doc, "vm", json_type_string),
			   *ifs = get(doc, "interfaces", json_type_array),
			   *socks = get(doc, "sockets", json_type_array);
	size_t i, k;

	j_add(o, "vm", j_str(vm && json_object_get_string(vm)[0] ? json_object_get_string(vm) :
			      fallback));
	j_add(o, "complete", j_bool(jdoc_complete(doc) && ifs && socks));
	if (!jdoc_complete(doc) || !ifs || !socks)
		j_add(o, "error", j_str(!ifs || !socks ? "the frame has no interface or socket list" :
					"a partial crawl"));
	for (i = 0; ifs && i < json_object_array_length(ifs); i++) {
		struct json_object *ai = get(json_object_array_get_idx(ifs, i), "addr_info",
					     json_type_array);

		for (k = 0; ai && k < json_object_array_length(ai); k++) {
			struct json_object *l = get(json_object_array_get_idx(ai, k), "local",
						    json_type_string);

			if (l)
				json_object_array_add(as, json_object_get(l));
		}
	}
	for (i = 0; socks && i < json_object_array_length(socks); i++) {
		struct json_object *s = json_object_array_get_idx(socks, i),
				   *p = get(s, "protocol", json_type_string);

		if (p && (!strcmp(json_object_get_string(p), "tcp") ||
			  !strcmp(json_object_get_string(p), "udp")) && get(s, "local", json_type_string))
			json_object_array_add(ss, json_object_get(s));
	}
	j_add(o, "addresses", as);
	j_add(o, "sockets", ss);
	return o;
}

/* A recorded frame as the VM object of topo_frame_json. */
static struct json_object *reduce(struct json_object *doc, const char *fallback)
{
	struct json_object *topo = get(doc, "topology", json_type_object);

	if (topo)	/* nfmd --record: the frame carries the object itself */
		return json_object_get(topo);
	return reduce_crawl(doc, fallback);
}

static int add_state(struct walk *w, int64_t time_ns, struct json_object *doc)
{
	struct topo_rec_vm *v = w->v;
	struct json_object *o = reduce(doc, base_name(v->dir));
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	struct topo_rec_state *s;
	int ret;

	if (v->last && !strcmp(v->last, text)) {
		json_object_put(o);
		return 0;
	}
	/* before the window only the last state counts: the one in force at its start */
	if (time_ns <= w->from && v->n == 1) {
		topo_frame_store_free(&v->st[0].fs);
		v->n = 0;
	}
	if (v->n >= TOPO_REC_MAX_STATES) {
		v->cut = true;
		json_object_put(o);
		return 1;	/* stops the walk; the caller says so */
	}
	if (v->n == v->cap) {
		int nc = v->cap ? v->cap * 2 : 16;
		struct topo_rec_state *ns = realloc(v->st, (size_t)nc * sizeof(*ns));

		if (!ns) {
			json_object_put(o);
			return -ENOMEM;
		}
		v->st = ns;
		v->cap = nc;
	}
	free(v->last);
	v->last = strdup(text);
	s = &v->st[v->n];
	s->time_ns = time_ns < w->from ? w->from : time_ns;
	ret = topo_frame_parse(o, &s->fs, w->err, w->errsize);
	json_object_put(o);
	if (ret)
		return ret;
	if (*w->sockets + (size_t)s->fs.frame.nr_socks > TOPO_REC_MAX_SOCKETS) {
		topo_frame_store_free(&s->fs);
		v->cut = true;
		return 1;
	}
	*w->sockets += (size_t)s->fs.frame.nr_socks;
	v->n++;
	return v->last ? 0 : -ENOMEM;
}

static int on_frame(void *ud, const struct nfm_frame_info *f, const void *data, size_t len)
{
	struct walk *w = ud;
	const char *why;
	struct json_object *frame = frame_decode(w->prev, f->key, data, len, &why);
	int ret;

	if (!frame) {
		snprintf(w->err, w->errsize, "frame %lld: %s", (long long)f->seq, why);
		return -EBADMSG;
	}
	json_object_put(w->prev);
	w->prev = frame;
	ret = add_state(w, f->time_ns, frame);
	if (ret == -ENOMEM)
		snprintf(w->err, w->errsize, "out of memory");
	return ret;
}

static bool is_store(const char *dir)
{
	char p[600];

	snprintf(p, sizeof(p), "%s/catalog.db", dir);
	return access(p, F_OK) == 0;
}

static int by_dir(const void *a, const void *b)
{
	return strcmp(((const struct topo_rec_vm *)a)->dir, ((const struct topo_rec_vm *)b)->dir);
}

void topo_store_free(struct topo_rec_vm *v, int n)
{
	for (int i = 0; v && i < n; i++) {
		for (int k = 0; k < v[i].n; k++)
			topo_frame_store_free(&v[i].st[k].fs);
		free(v[i].st);
		free(v[i].last);
	}
	free(v);
}

int topo_store_load(const struct nfm_log *log, const char *dir, int64_t from_ns, int64_t to_ns,
		    struct topo_rec_vm **ret, int *nr, char *err, size_t errsize)
{
	struct topo_rec_vm *v = calloc(TOPO_REC_MAX_STORES, sizeof(*v));
	size_t sockets = 0;
	int n = 0, i, r = 0;

	if (!v)
		return -ENOMEM;
	if (strlen(dir) >= sizeof(v->dir) - 130) {	/* room for "/NAME" */
		free(v);
		snprintf(err, errsize, "the path is too long");
		return -ENAMETOOLONG;
	}
	if (is_store(dir)) {
		snprintf(v[n++].dir, sizeof(v->dir), "%s", dir);
	} else {
		DIR *d = opendir(dir);
		struct dirent *e;

		if (!d) {
			r = -errno;
			free(v);
			snprintf(err, errsize, "%s", strerror(-r));
			return r;
		}
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.' || strlen(e->d_name) > 120)
				continue;
			snprintf(v[n].dir, sizeof(v->dir), "%s/%s", dir, e->d_name);
			if (!is_store(v[n].dir))
				continue;
			if (++n == TOPO_REC_MAX_STORES)
				break;
		}
		closedir(d);
		if (!n) {
			free(v);
			snprintf(err, errsize, "neither a store nor a directory of stores (nfm record "
				 "--frames, nfmd --record)");
			return -ENOENT;
		}
		qsort(v, (size_t)n, sizeof(*v), by_dir);
	}
	for (i = 0; i < n && !r; i++) {
		char why[256] = "";
		struct walk w = { .v = &v[i], .from = from_ns, .sockets = &sockets, .err = why,
				  .errsize = sizeof(why) };
		struct nfm_store *st;

		r = nfm_store_open(v[i].dir, 0, log, &st);
		if (!r) {
			r = nfm_store_frames(st, from_ns, to_ns, on_frame, &w);
			nfm_store_close(st);
			json_object_put(w.prev);
			if (r == 1)
				r = 0;	/* cut short: v->cut */
		}
		if (r)
			snprintf(err, errsize, "%s: %s", v[i].dir, why[0] ? why : strerror(-r));
	}
	if (r) {
		topo_store_free(v, n);
		return r;
	}
	*ret = v;
	*nr = n;
	return 0;
}
