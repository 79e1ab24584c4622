// SPDX-License-Identifier: GPL-2.0-or-later
/* host.json: the host's accounting of a VM (nfm/host.h), the same object in nfm top -j and nfmd. */
#include <nfm/host.h>

#include "objects.h"

static struct json_object *obj_cgroup(const struct nfm_host_cgroup *c)
{
	struct json_object *o = json_object_new_object();

	j_add(o, "version", j_int(c->version));
	j_add(o, "path", j_str(c->path));
	if (c->have_usage)
		j_add(o, "usage_ns", j_u64(c->usage_ns));
	if (c->have_stat) {
		j_add(o, "nr_periods", j_u64(c->nr_periods));
		j_add(o, "nr_throttled", j_u64(c->nr_throttled));
		j_add(o, "throttled_ns", j_u64(c->throttled_ns));
	}
	if (c->have_quota) {
		j_add(o, "quota_us", j_int(c->quota_us));
		j_add(o, "period_us", j_u64(c->period_us));
	}
	j_add(o, "nr_tasks", j_int(c->nr_tasks));
	j_add(o, "only_vm", j_bool(c->only_vm));
	return o;
}

struct json_object *obj_host(const struct nfm_host_sample *h, const char *vcpus_how)
{
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();

	j_add(o, "cpu_ns", j_u64(h->process_run_ns));
	j_add(o, "wait_ns", j_u64(h->process_wait_ns));
	j_add(o, "mono_ns", j_u64(h->mono_ns));
	j_add(o, "nr_threads", j_int(h->nr_threads));
	for (int i = 0; i < h->nr_vcpus; i++) {
		struct json_object *v = json_object_new_object();

		j_add(v, "cpu", j_int(h->vcpu[i].cpu));
		j_add(v, "tid", j_int(h->vcpu[i].tid));
		j_add(v, "cpu_ns", j_u64(h->vcpu[i].run_ns));
		j_add(v, "wait_ns", j_u64(h->vcpu[i].wait_ns));
		json_object_array_add(a, v);
	}
	j_add(o, "vcpus", a);
	if (vcpus_how)
		j_add(o, "vcpus_how", j_str(vcpus_how));
	if (h->cg.version)
		j_add(o, "cgroup", obj_cgroup(&h->cg));
	return o;
}
