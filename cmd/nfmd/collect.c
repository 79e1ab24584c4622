// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Everything nfmd reads from a guest, and how it becomes metrics and JSON. Adding a metric is
 * local to this file: a families[] entry (name, help, type), a section_add() where the value is
 * read, and a json_object_object_add() with the field name `nfm ... -j` uses.
 *
 * Runs on worker threads; touches only the context it is given and the section it builds.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nfmd.h"

const char *const feature_names[F_NR] = { "base", "ps", "net", "sys" };

enum {
	FAM_GUEST_INFO,
	FAM_UPTIME,
	FAM_BOOT_TIME,
	FAM_CPUS,
	FAM_CPUS_POSSIBLE,
	FAM_MEM_TOTAL,
	FAM_RAM,
	FAM_ATTACH_DURATION,
	FAM_SECTION_DURATION,
};

const struct family families[] = {
	[FAM_GUEST_INFO] = { "nfm_guest_info",
		"Guest kernel identity (uname), value 1", M_GAUGE },
	[FAM_UPTIME] = { "nfm_guest_uptime_seconds",
		"Guest time since boot (CLOCK_BOOTTIME as of the guest's last timekeeping update)", M_GAUGE },
	[FAM_BOOT_TIME] = { "nfm_guest_boot_time_seconds",
		"Host wall-clock time the guest booted (now - uptime), Unix seconds", M_GAUGE },
	[FAM_CPUS] = { "nfm_guest_cpus", "Guest CPUs online", M_GAUGE },
	[FAM_CPUS_POSSIBLE] = { "nfm_guest_cpus_possible", "Guest CPUs possible (nr_cpu_ids)", M_GAUGE },
	[FAM_MEM_TOTAL] = { "nfm_guest_memory_total_bytes",
		"Guest MemTotal as /proc/meminfo reports it", M_GAUGE },
	[FAM_RAM] = { "nfm_guest_ram_bytes", "Guest-physical RAM the VM has", M_GAUGE },
	[FAM_ATTACH_DURATION] = { "nfm_attach_duration_seconds",
		"Time the last attach to this guest's kernel took", M_GAUGE },
	[FAM_SECTION_DURATION] = { "nfm_collect_duration_seconds",
		"Time the last collection of each feature took", M_GAUGE },
};
const size_t nr_families = sizeof(families) / sizeof(families[0]);

struct section *section_new(enum feature f)
{
	struct section *s = calloc(1, sizeof(*s));

	if (s) {
		s->refs = 1;
		s->feature = f;
	}
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
	json_object_put(s->json);
	free(s);
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

/* A label value for section_add's format: escaped for Prometheus. Freed by the caller. */
static char *lv(const char *guest_bytes)
{
	struct sbuf b = { 0 };

	sb_label(&b, guest_bytes);
	if (!b.s)
		return strdup("");
	return b.s;
}

static int cmp_sample(const void *a, const void *b)
{
	const struct sample *x = a, *y = b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return strcmp(x->labels ? x->labels : "", y->labels ? y->labels : "");
}

static void seterr(struct section *s, int err, const char *fmt, ...)
{
	va_list ap;

	s->err = err;
	va_start(ap, fmt);
	vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
	va_end(ap);
}

/* ---- F_BASE: what `nfm info -j` shows (same field names) ---- */

static void collect_base(const struct crawl_base *b, struct section *s)
{
	const struct nfm_kernel_info *ki = &b->ki;
	struct json_object *o = json_object_new_object();
	char hex[32], *l[4];

#define ADD(k, v) json_object_object_add(o, k, v)
#define HEX(k, v) (snprintf(hex, sizeof(hex), "0x%" PRIx64, (uint64_t)(v)), ADD(k, json_object_new_string(hex)))
	ADD("sysname", json_str(ki->sysname));
	ADD("nodename", json_str(ki->nodename));
	ADD("release", json_str(ki->release));
	ADD("version", json_str(ki->version));
	ADD("machine", json_str(ki->machine));
	ADD("banner", json_str(ki->banner));
	ADD("paging_levels", json_object_new_int(ki->paging_levels));
	HEX("kaslr_offset", ki->kaslr_offset);
	ADD("phys_base", json_object_new_int64(ki->phys_base));
	HEX("page_offset", ki->page_offset);
	HEX("kernel_pgd", ki->kernel_pgd);
	HEX("vmcoreinfo_pa", ki->vmcoreinfo_pa);
	ADD("cpus_online", json_object_new_int((int)ki->nr_cpus_online));
	ADD("cpus_possible", json_object_new_int((int)ki->nr_cpus_possible));
	ADD("mem_total_kb", json_object_new_int64((int64_t)(ki->mem_total / 1024)));
	ADD("ram_bytes", json_object_new_int64((int64_t)ki->ram_size));
	if (b->have_uptime)
		ADD("uptime_s", json_object_new_double(b->uptime_ns / 1e9));
	ADD("symbols", json_object_new_int64((int64_t)ki->nr_symbols));
	ADD("btf_types", json_object_new_int64((int64_t)ki->nr_btf_types));
	ADD("vmcoreinfo_from", json_object_new_string(ki->vmcoreinfo_how));
	ADD("symbols_from", json_object_new_string(ki->symbols_how));
	ADD("btf_from", json_object_new_string(ki->btf_how));
	if (b->source)
		ADD("source", json_str(b->source));
	ADD("attach_ms", json_object_new_double(ki->attach_ms));
#undef HEX
#undef ADD
	s->json = json_object_new_object();
	json_object_object_add(s->json, "info", o);

	l[0] = lv(ki->release);
	l[1] = lv(ki->version);
	l[2] = lv(ki->machine);
	l[3] = lv(ki->nodename);
	section_add(s, FAM_GUEST_INFO, 1, "release=\"%s\",version=\"%s\",machine=\"%s\",nodename=\"%s\"",
		    l[0], l[1], l[2], l[3]);
	for (int i = 0; i < 4; i++)
		free(l[i]);
	if (b->have_uptime) {
		section_add(s, FAM_UPTIME, b->uptime_ns / 1e9, NULL);
		section_add(s, FAM_BOOT_TIME, (double)(int64_t)(now_real() - b->uptime_ns / 1e9), NULL);
	}
	if (ki->nr_cpus_online)
		section_add(s, FAM_CPUS, ki->nr_cpus_online, NULL);
	if (ki->nr_cpus_possible)
		section_add(s, FAM_CPUS_POSSIBLE, ki->nr_cpus_possible, NULL);
	if (ki->mem_total)
		section_add(s, FAM_MEM_TOTAL, (double)ki->mem_total, NULL);
	section_add(s, FAM_RAM, (double)ki->ram_size, NULL);
	section_add(s, FAM_ATTACH_DURATION, ki->attach_ms / 1000, NULL);
}

bool collect_supported(enum feature f)
{
	return f == F_BASE;
}

void collect(struct nfm_ctx *ctx, enum feature f, const struct crawl_base *base,
	     const struct collect_limits *lim, struct section **ret)
{
	struct section *s = section_new(f);
	double t0 = now_mono();

	(void)ctx;
	(void)lim;
	if (!s) {
		*ret = NULL;
		return;
	}
	switch (f) {
	case F_BASE:
		collect_base(base, s);
		break;
	default:
		seterr(s, -EOPNOTSUPP, "not available in this build of nfmd");
		break;
	}
	s->collected_at = now_real();
	s->duration = now_mono() - t0;
	section_add(s, FAM_SECTION_DURATION, s->duration, "feature=\"%s\"", feature_names[f]);
	qsort(s->samples, s->n, sizeof(*s->samples), cmp_sample);
	*ret = s;
}
