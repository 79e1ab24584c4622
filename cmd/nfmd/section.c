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

struct json_object *section_json(const struct section *cs)
{
	struct section *s = (struct section *)cs;	/* a cache: filled once, same contents */
	struct json_object *arr;

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
	arr = json_object_new_array_ext(s->nr_tasks ? (int)s->nr_tasks : 1);
	for (size_t i = 0; arr && i < s->nr_tasks; i++) {
		/* process.json, as `nfm ps -j`, with nfm top -j's CPU members */
		struct json_object *po = obj_process(&s->tasks[i], s->vmrss_summed);

		j_add(po, "cpu_time_ns", j_u64(s->tasks[i].utime_ns + s->tasks[i].stime_ns));
		if (s->task_cpu[i] >= 0)
			j_add(po, "processor", j_int(s->task_cpu[i]));
		json_object_array_add(arr, po);
	}
	j_add(s->json, "processes", arr);
	free(s->tasks);
	free(s->task_cpu);
	s->tasks = NULL;
	s->task_cpu = NULL;
	s->nr_tasks = 0;
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
