// SPDX-License-Identifier: GPL-2.0-or-later
/* A section: the samples and JSON one feature produced in one crawl. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/task.h>
#include <objects.h>

#include "section.h"
#include "util.h"

const char *const feature_names[F_NR] = { "base", "ps", "net", "sys" };

struct section *section_new(enum feature f)
{
	struct section *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->refs = 1;
	s->feature = f;
	s->json = json_object_new_object();
	return s;
}

struct section *section_ref(struct section *s)
{
	if (s)
		s->refs++;
	return s;
}

void section_unref(struct section *s)
{
	size_t i;

	if (!s || --s->refs > 0)
		return;
	for (i = 0; i < s->n; i++)
		free(s->samples[i].labels);
	free(s->samples);
	free(s->socks);
	free(s->devs);
	free(s->tasks);
	free(s->task_cpu);
	section_unref(s->prev);
	for (int d = 0; d < s->nr_deferred; d++)
		free(s->deferred[d].data);
	json_object_put(s->json);
	free(s);
}

void section_defer(struct section *s, section_build_fn fn, void *data)
{
	if (!data)
		return;
	if (s->nr_deferred == SECTION_MAX_DEFERRED || !s->json) {
		if (s->json)	/* no room: built now, in its order */
			fn(s->json, data);
		free(data);
		return;
	}
	s->deferred[s->nr_deferred].fn = fn;
	s->deferred[s->nr_deferred++].data = data;
}

void *section_copy(const void *p, size_t size, size_t extra)
{
	char *c = malloc(size + extra);

	if (c) {
		memcpy(c, p, size);
		memset(c + size, 0, extra);
	}
	return c;
}

void section_hand_over(struct section *next, struct section *old)
{
	struct section *keep;

	if (!next || !old || next->feature != F_PS || old->feature != F_PS)
		return;
	keep = old->tasks_built ? old : old->prev;
	if (keep && next->tasks_pending && !next->prev)
		next->prev = section_ref(keep);
	if (old->prev) {
		section_unref(old->prev);
		old->prev = NULL;
	}
}

/* A task's key for reuse: FNV-1a of its bytes and CPU; equal keys are compared byte for byte. */
struct task_key {
	uint64_t hash;
	size_t idx;
};

static uint64_t task_hash(const struct nfm_task *t, int cpu)
{
	const unsigned char *p = (const unsigned char *)t;
	uint64_t h = 0xcbf29ce484222325ull ^ (uint32_t)cpu;

	for (size_t i = 0; i < sizeof(*t); i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static int key_cmp(const void *a, const void *b)
{
	const struct task_key *x = a, *y = b;

	return (x->hash > y->hash) - (x->hash < y->hash);
}

/* The earlier section's object for task t on cpu (a new reference), or NULL. */
static struct json_object *reuse(const struct section *prev, struct json_object *arr,
				 const struct task_key *keys, const struct nfm_task *t, int cpu)
{
	struct task_key k = { task_hash(t, cpu), 0 };
	const struct task_key *hit;
	size_t n = prev->nr_tasks;

	if (!keys || !(hit = bsearch(&k, keys, n, sizeof(*keys), key_cmp)))
		return NULL;
	while (hit > keys && hit[-1].hash == k.hash)
		hit--;
	for (; hit < keys + n && hit->hash == k.hash; hit++)
		if (prev->task_cpu[hit->idx] == cpu &&
		    !memcmp(&prev->tasks[hit->idx], t, sizeof(*t)))
			return json_object_get(json_object_array_get_idx(arr, hit->idx));
	return NULL;
}

struct json_object *section_json(const struct section *cs)
{
	struct section *s = (struct section *)cs;	/* a cache: filled once, same contents */
	struct json_object *arr, *prev_arr = NULL;
	struct task_key *keys = NULL;

	if (!s->json)
		return NULL;
	for (int d = 0; d < s->nr_deferred; d++) {
		s->deferred[d].fn(s->json, s->deferred[d].data);
		free(s->deferred[d].data);
	}
	s->nr_deferred = 0;
	if (!s->tasks_pending)
		return s->json;
	s->tasks_pending = false;
	if (s->prev && s->prev->vmrss_summed == s->vmrss_summed && s->prev->nr_tasks &&
	    json_object_object_get_ex(s->prev->json, "processes", &prev_arr) &&
	    json_object_array_length(prev_arr) == s->prev->nr_tasks &&
	    (keys = malloc(s->prev->nr_tasks * sizeof(*keys)))) {
		for (size_t i = 0; i < s->prev->nr_tasks; i++)
			keys[i] = (struct task_key){ task_hash(&s->prev->tasks[i],
							       s->prev->task_cpu[i]), i };
		qsort(keys, s->prev->nr_tasks, sizeof(*keys), key_cmp);
	}
	arr = json_object_new_array_ext(s->nr_tasks ? (int)s->nr_tasks : 1);
	for (size_t i = 0; arr && i < s->nr_tasks; i++) {
		struct json_object *po = keys ? reuse(s->prev, prev_arr, keys, &s->tasks[i],
						      s->task_cpu[i]) : NULL;

		if (!po) {
			/* process.json, as `nfm ps -j`, with nfm top -j's CPU members */
			po = obj_process(&s->tasks[i], s->vmrss_summed);
			j_add(po, "cpu_time_ns", j_u64(s->tasks[i].utime_ns + s->tasks[i].stime_ns));
			if (s->task_cpu[i] >= 0)
				j_add(po, "processor", j_int(s->task_cpu[i]));
		}
		json_object_array_add(arr, po);
	}
	free(keys);
	section_unref(s->prev);
	s->prev = NULL;
	j_add(s->json, "processes", arr);
	/* kept: the next crawl's section compares its tasks with these */
	s->tasks_built = arr && json_object_array_length(arr) == s->nr_tasks;
	return s->json;
}

void section_add(struct section *s, unsigned int family, double value, const char *labels, ...)
{
	struct sample *smp;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct sample *n = realloc(s->samples, cap * sizeof(*n));

		if (!n)
			return;
		s->samples = n;
		s->cap = cap;
	}
	smp = &s->samples[s->n];
	smp->family = family;
	smp->value = value;
	smp->labels = NULL;
	if (labels) {
		va_list ap;

		va_start(ap, labels);
		if (vasprintf(&smp->labels, labels, ap) < 0)
			smp->labels = NULL;
		va_end(ap);
		if (!smp->labels)
			return;
	}
	s->n++;
}

void section_seterr(struct section *s, int err, const char *fmt, ...)
{
	va_list ap;

	s->err = err;
	va_start(ap, fmt);
	vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
	va_end(ap);
}

static int cmp_sample(const void *a, const void *b)
{
	const struct sample *x = a, *y = b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return strcmp(x->labels ? x->labels : "", y->labels ? y->labels : "");
}

void section_sort(struct section *s)
{
	qsort(s->samples, s->n, sizeof(*s->samples), cmp_sample);
}

char *section_label(const char *guest_bytes)
{
	struct sbuf b = { 0 };

	sb_label(&b, guest_bytes);
	if (!b.s)
		return strdup("");
	return b.s;
}
