// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The JSON API's documents (doc/schema/docs/nfmd.*.json): GET / (nfmd.index), GET /api/v1/vms
 * (nfmd.vms), GET /api/v1/vms/NAME (nfmd.vm) and every error (nfmd.error). Each is a
 * cmd/common document (jdoc_new); the guest objects in a frame were built by cmd/common's
 * builders when they were collected (collect.c), so they equal `nfm -j`'s and `nfm crawl`'s.
 */
#include <math.h>
#include <string.h>

#include <errno.h>
#include <stdlib.h>

#include <jout.h>
#include <objects.h>
#include <topo.h>
#include <topo_frames.h>
#include <topo_svg.h>

#include "api.h"
#include "util.h"

/* A member of the latest base section (path: "kernel", "release"), or NULL. */
static struct json_object *base_field(const struct vm *vm, const char *obj, const char *key)
{
	struct json_object *o, *v;

	if (!vm->sec[F_BASE] || !section_json(vm->sec[F_BASE]) ||
	    !json_object_object_get_ex(section_json(vm->sec[F_BASE]), obj, &o))
		return NULL;
	if (!key)
		return o;
	return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static void add_copy(struct json_object *o, const char *key, struct json_object *v)
{
	if (v)
		j_add(o, key, json_object_get(v));
}

/* Seconds (a double) as integer nanoseconds. */
static struct json_object *j_ns(double s)
{
	return j_u64(s > 0 && isfinite(s) ? (uint64_t)llround(s * 1e9) : 0);
}

/* vm.json: the QEMU process (obj_vm) and nfmd's view of it. */
static struct json_object *vm_object(const struct vm *vm)
{
	struct json_object *o = obj_vm(&vm->info);

	add_copy(o, "release", base_field(vm, "kernel", "release"));
	add_copy(o, "uptime_ns", base_field(vm, "uptime_ns", NULL));
	add_copy(o, "cpus_online", base_field(vm, "kernel", "cpus_online"));
	if (vm->error[0])
		j_add(o, "error", j_str(vm->error));
	j_add(o, "status", json_object_new_string(vm_status_names[vm->status]));
	j_add(o, "up", j_bool(vm->status == VS_UP || vm->status == VS_PAUSED));
	j_add(o, "run_state", json_object_new_string(vm_run_state(vm)));
	j_add(o, "libvirt", j_bool(vm->libvirt));
	j_add(o, "discovered_time_ns", j_ns(vm->discovered_at));
	if (vm->last_crawl_at) {
		j_add(o, "last_crawl_time_ns", j_ns(vm->last_crawl_at));
		j_add(o, "last_crawl_duration_ns", j_ns(vm->last_crawl_duration));
	}
	j_add(o, "crawls", j_u64(vm->crawls));
	j_add(o, "crawl_errors", j_u64(vm->crawl_errors));
	j_add(o, "attaches", j_u64(vm->attaches));
	j_add(o, "reboots", j_u64(vm->reboots));
	if (vm->rec_stats.frames || vm->rec_stats.snapshots || vm->rec_stats.errors) {
		struct json_object *r = json_object_new_object();

		j_add(r, "frames", j_u64(vm->rec_stats.frames));
		j_add(r, "snapshots", j_u64(vm->rec_stats.snapshots));
		j_add(r, "errors", j_u64(vm->rec_stats.errors));
		if (vm->rec_stats.error[0])
			j_add(r, "error", j_str(vm->rec_stats.error));
		j_add(o, "recording", r);
	}
	return o;
}

/* The VM, then every member of the latest section of each feature, then when each was read. */
struct json_object *api_vm(const struct vm *vm)
{
	struct json_object *doc = jdoc_new("nfmd.vm"), *col = json_object_new_object();

	j_add(doc, "vm", vm_object(vm));
	for (int f = 0; f < F_NR; f++) {
		const struct section *s = vm->sec[f];
		struct json_object *c;

		if (!s)
			continue;
		if (section_json(s)) {
			json_object_object_foreach(section_json(s), k, v)
				j_add(doc, k, json_object_get(v));
		}
		c = json_object_new_object();
		j_add(c, "time_ns", j_ns(s->collected_at));
		j_add(c, "duration_ns", j_ns(s->duration));
		if (s->err) {
			j_add(c, "error", j_str(s->errmsg));
			jdoc_error(doc, feature_names[f], s->err, s->errmsg);
		}
		j_add(col, feature_names[f], c);
	}
	j_add(doc, "collected", col);
	return doc;
}

struct json_object *api_vms(const struct vm_table *vms)
{
	struct json_object *doc = jdoc_new("nfmd.vms"), *a = json_object_new_array();

	for (const struct vm *vm = vms->head; vm; vm = vm->next)
		if (!vm->gone)
			json_object_array_add(a, vm_object(vm));
	j_add(doc, "vms", a);
	return doc;
}

int api_topology_graph(const struct vm_table *vms, struct topo_graph **g,
		       const struct vm ***ret_vms, int *nr)
{
	const struct vm **vv;
	struct topo_frame *f;
	int n = 0, ret;

	for (const struct vm *vm = vms->head; vm; vm = vm->next)
		n++;
	vv = calloc((size_t)n + 1, sizeof(*vv));
	f = calloc((size_t)n + 1, sizeof(*f));
	if (!vv || !f) {
		free(vv);
		free(f);
		return -ENOMEM;
	}
	n = 0;
	for (const struct vm *vm = vms->head; vm; vm = vm->next) {
		const struct section *s = vm->sec[F_NET];

		if (vm->gone || !s || !s->socks)
			continue;
		vv[n] = vm;
		f[n] = (struct topo_frame){ .vm = vm->name, .socks = s->socks,
					    .nr_socks = s->nr_socks, .devs = s->devs,
					    .nr_devs = s->devs ? s->nr_devs : 0,
					    .complete = !s->net_truncated && !s->err,
					    .error = s->err ? s->errmsg : s->net_truncated ?
						     "the socket or interface list was cut short" : NULL };
		n++;
	}
	ret = topo_build(f, n, TOPO_BY_VM, g);
	free(f);
	if (ret) {
		free(vv);
		return ret;
	}
	*ret_vms = vv;
	*nr = n;
	return 0;
}

struct json_object *api_topology(const struct vm_table *vms)
{
	struct json_object *doc, *names;
	struct topo_graph *g = NULL;
	const struct vm **vv = NULL;
	int n = 0, ret = api_topology_graph(vms, &g, &vv, &n);

	if (ret)
		return NULL;
	doc = jdoc_new("topo");
	names = json_object_new_array();
	j_add(doc, "time_ns", j_ns(now_real()));
	for (int i = 0; i < n; i++)
		json_object_array_add(names, j_str(vv[i]->name));
	j_add(doc, "vms", names);
	topo_json(g, doc);
	topo_graph_free(g);
	free(vv);
	return doc;
}

int api_topology_svg(const struct vm_table *vms, char **svg, size_t *len)
{
	struct topo_graph *g = NULL;
	const struct vm **vv = NULL;
	int n = 0, ret = api_topology_graph(vms, &g, &vv, &n);

	if (ret)
		return ret;
	ret = topo_svg(g, svg, len);
	topo_graph_free(g);
	free(vv);
	return ret;
}

/* A VM's frame (topo_frames.h): its addresses and sockets as the join needs them; NULL when
 * it has no socket list yet. */
struct json_object *api_topology_frame(const struct vm *vm)
{
	const struct section *s = vm->sec[F_NET];
	struct topo_frame f;

	if (vm->gone || !s || !s->socks)
		return NULL;
	f = (struct topo_frame){ .vm = vm->name, .socks = s->socks, .nr_socks = s->nr_socks,
				 .devs = s->devs, .nr_devs = s->devs ? s->nr_devs : 0,
				 .complete = !s->net_truncated && !s->err,
				 .error = s->err ? s->errmsg : s->net_truncated ?
					  "the socket or interface list was cut short" : NULL };
	return topo_frame_json(&f);
}

/* Each watched VM's frame: what nfm topo --remote joins across nfmd instances. */
struct json_object *api_topology_frames(const struct vm_table *vms)
{
	struct json_object *doc = jdoc_new("nfmd.topology_frames"), *a = json_object_new_array();

	j_add(doc, "time_ns", j_ns(now_real()));
	for (const struct vm *vm = vms->head; vm; vm = vm->next) {
		struct json_object *f = api_topology_frame(vm);

		if (f)
			json_object_array_add(a, f);
	}
	j_add(doc, "vms", a);
	return doc;
}

struct json_object *api_index(void)
{
	struct json_object *doc = jdoc_new("nfmd.index"), *a = json_object_new_array();

	j_add(doc, "name", json_object_new_string("nfmd"));
	j_add(doc, "version", json_object_new_string(nfm_version()));
	json_object_array_add(a, json_object_new_string("/metrics"));
	json_object_array_add(a, json_object_new_string("/api/v1/vms"));
	json_object_array_add(a, json_object_new_string("/api/v1/vms/NAME"));
	json_object_array_add(a, json_object_new_string("/api/topology"));
	json_object_array_add(a, json_object_new_string("/api/topology/frames"));
	json_object_array_add(a, json_object_new_string("/api/topology/svg"));
	json_object_array_add(a, json_object_new_string("/topology"));
	json_object_array_add(a, json_object_new_string("/fleet"));
	j_add(doc, "endpoints", a);
	return doc;
}

struct json_object *api_error(unsigned int http_status, const char *msg)
{
	struct json_object *doc = jdoc_new("nfmd.error");

	j_add(doc, "complete", j_bool(false));
	j_add(doc, "error", j_str(msg));
	j_add(doc, "http_status", j_int(http_status));
	return doc;
}
